//! Property tests over random groups: every subscribed partition assigned exactly once and only
//! to subscribers, the uniform homogeneous builder's balance and stickiness, range's purity.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{ServerAssignorKind, ServerMember, ServerTopic, server_assign};

/// A topic number no `topics` list holds: a subscription to a topic missing from metadata.
const MISSING_TOPIC: usize = 99;

#[derive(Clone, Debug)]
struct Scenario {
    topics: Vec<ServerTopic>,
    members: Vec<ServerMember>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    scenario_where(any::<bool>())
}

fn homogeneous_scenario() -> impl Strategy<Value = Scenario> {
    scenario_where(Just(true))
}

fn scenario_where(identical: impl Strategy<Value = bool>) -> impl Strategy<Value = Scenario> {
    let topics = prop::collection::btree_map(0usize..20, 0u32..=12, 1..=5);
    let ids = prop::collection::btree_set("[a-zA-Z0-9]{1,4}", 1..=9);
    (topics, ids, identical, any::<u64>(), any::<u64>()).prop_map(|(topics, ids, identical, seed, order)| {
        build(topics, ids.into_iter().collect(), identical, seed, order)
    })
}

/// Spends the random seed on per-member choices: subscriptions, static or not, and a previous
/// target in which each partition has at most one holder (some held by nobody, some by members
/// that no longer subscribe to its topic). `order` shuffles the topic and member orders.
fn build(counts: BTreeMap<usize, u32>, ids: Vec<String>, identical: bool, seed: u64, order: u64) -> Scenario {
    let mut bits = seed;
    let mut take = |n: u64| {
        let v = bits % n;
        bits = bits.rotate_right(7).wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
        v
    };
    let mut topics: Vec<ServerTopic> =
        counts.iter().map(|(&topic, &partitions)| ServerTopic { topic, partitions, id_rank: 0 }).collect();
    let n = topics.len();
    for (i, t) in topics.iter_mut().enumerate() {
        t.id_rank = ((i as u64 * 7 + order) % n as u64) as u32;
    }
    topics.rotate_left((order % n as u64) as usize);
    let full = (1u64 << (n + 1)) - 1; // one more bit: the missing topic
    let shared = take(full) + 1;
    let subscription = |mask: u64| -> Vec<usize> {
        let mut s: Vec<usize> =
            topics.iter().enumerate().filter(|(i, _)| mask >> i & 1 == 1).map(|(_, t)| t.topic).collect();
        if mask >> n & 1 == 1 {
            s.push(MISSING_TOPIC);
        }
        s
    };
    let mut members: Vec<ServerMember> = ids
        .iter()
        .map(|id| ServerMember {
            member_id: id.clone(),
            instance_id: (take(2) == 1).then(|| id.chars().rev().collect()),
            topics: subscription(if identical { shared } else { take(full) + 1 }),
            target: Vec::new(),
        })
        .collect();
    let m = members.len() as u64;
    for t in &topics {
        for p in 0..t.partitions {
            let holder = take(m + 1);
            if holder < m {
                members[holder as usize].target.push((t.topic, p));
            }
        }
    }
    members.rotate_left((order % m) as usize);
    Scenario { topics, members }
}

fn subscribed_partitions(s: &Scenario) -> usize {
    s.topics
        .iter()
        .filter(|t| s.members.iter().any(|m| m.topics.contains(&t.topic)))
        .map(|t| t.partitions as usize)
        .sum()
}

/// Each partition at most once, only to subscribers, sorted; returns how many were assigned.
fn check_valid(s: &Scenario, out: &[Vec<(usize, u32)>]) -> Result<usize, TestCaseError> {
    prop_assert_eq!(out.len(), s.members.len());
    let mut seen = std::collections::BTreeSet::new();
    for (m, parts) in s.members.iter().zip(out) {
        prop_assert!(parts.windows(2).all(|w| w[0] < w[1]), "unsorted {:?}", parts);
        for &(topic, p) in parts {
            prop_assert!(m.topics.contains(&topic), "{} got unsubscribed {}-{}", m.member_id, topic, p);
            let count = s.topics.iter().find(|t| t.topic == topic).map(|t| t.partitions);
            prop_assert!(count.is_some_and(|c| p < c), "{}-{} does not exist", topic, p);
            prop_assert!(seen.insert((topic, p)), "{}-{} assigned twice", topic, p);
        }
    }
    Ok(seen.len())
}

fn loads(out: &[Vec<(usize, u32)>]) -> (usize, usize) {
    let l = out.iter().map(Vec::len);
    (l.clone().min().unwrap_or(0), l.max().unwrap_or(0))
}

/// The same members with `out` as their previous target.
fn with_target(s: &Scenario, out: &[Vec<(usize, u32)>]) -> Scenario {
    let members = s.members.iter().zip(out).map(|(m, t)| ServerMember { target: t.clone(), ..m.clone() }).collect();
    Scenario { topics: s.topics.clone(), members }
}

proptest! {
    #[test]
    fn every_subscribed_partition_is_assigned_once_to_a_subscriber(s in scenario()) {
        for kind in [ServerAssignorKind::Uniform, ServerAssignorKind::Range] {
            let out = server_assign(kind, &s.topics, &s.members);
            let assigned = check_valid(&s, &out)?;
            prop_assert_eq!(assigned, subscribed_partitions(&s), "{:?} left partitions out: {:?}", kind, out);
        }
    }

    #[test]
    fn uniform_homogeneous_is_balanced(s in homogeneous_scenario()) {
        let out = server_assign(ServerAssignorKind::Uniform, &s.topics, &s.members);
        let (min, max) = loads(&out);
        prop_assert!(max - min <= 1, "{:?}", out);
    }

    /// A balanced previous target for the same members moves nothing, whoever holds the extras
    /// (KAFKA-18688; before it, the first members in iteration order had to hold them).
    #[test]
    fn uniform_homogeneous_keeps_a_balanced_target(s in homogeneous_scenario(), rotate in 0usize..9) {
        let mut balanced = server_assign(ServerAssignorKind::Uniform, &s.topics, &s.members);
        let n = balanced.len();
        balanced.rotate_left(rotate % n); // hand the same loads to other members
        let again = with_target(&s, &balanced);
        prop_assert_eq!(server_assign(ServerAssignorKind::Uniform, &again.topics, &again.members), balanced);
    }

    /// Any uniform answer is stable: feeding it back as the target changes nothing.
    #[test]
    fn uniform_is_stable_on_its_own_answer(s in scenario()) {
        let out = server_assign(ServerAssignorKind::Uniform, &s.topics, &s.members);
        let again = with_target(&s, &out);
        let twice = server_assign(ServerAssignorKind::Uniform, &again.topics, &again.members);
        if again.members.iter().all(|m| m.topics == again.members[0].topics) {
            prop_assert_eq!(twice, out);
        } else {
            check_valid(&again, &twice)?;
        }
    }

    /// Range reads neither the previous target nor the member order it is given.
    #[test]
    fn range_is_a_pure_function_of_members_and_partitions(s in scenario()) {
        let out = server_assign(ServerAssignorKind::Range, &s.topics, &s.members);
        let cleared: Vec<ServerMember> = s.members.iter().map(|m| ServerMember { target: Vec::new(), ..m.clone() }).collect();
        prop_assert_eq!(&server_assign(ServerAssignorKind::Range, &s.topics, &cleared), &out);
        let mut reversed = s.members.clone();
        reversed.reverse();
        let mut back = server_assign(ServerAssignorKind::Range, &s.topics, &reversed);
        back.reverse();
        prop_assert_eq!(back, out);
    }
}
