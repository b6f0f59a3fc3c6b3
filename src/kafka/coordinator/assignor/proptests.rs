//! Property tests over random groups: coverage, subscription respect, balance, stickiness, cooperative safety, determinism.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use proptest::prelude::*;

use super::{Assignment, AssignorKind, MemberSubscription, TopicPartition, assign};

const TOPIC_POOL: [&str; 6] = ["orders", "a", "t1", "t10", "t2", "Zeta"];

#[derive(Clone, Debug)]
struct Scenario {
    topics: BTreeMap<String, u32>,
    /// The group now; `owned` filled from `previous`.
    members: Vec<MemberSubscription>,
    /// The group one rebalance earlier (some members may have left or joined since).
    previous: Vec<MemberSubscription>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    scenario_where(any::<bool>())
}

/// Scenarios where every member subscribes to the same topics, now and before.
fn identical_scenario() -> impl Strategy<Value = Scenario> {
    scenario_where(Just(true))
}

fn scenario_where(identical: impl Strategy<Value = bool>) -> impl Strategy<Value = Scenario> {
    let topics = prop::sample::subsequence(TOPIC_POOL.to_vec(), 1..=4)
        .prop_flat_map(|names| {
            let n = names.len();
            (Just(names), prop::collection::vec(1u32..=12, n))
        })
        .prop_map(|(names, counts)| names.into_iter().map(String::from).zip(counts).collect::<BTreeMap<_, _>>());
    let ids = prop::collection::btree_set("[a-z][a-z0-9]{0,5}", 1..=8);
    (topics, ids, identical, any::<u64>())
        .prop_map(|(topics, ids, identical, seed)| build(topics, ids.into_iter().collect(), identical, seed))
}

/// Splits the random seed into per-member choices: subscription masks, static or not, present
/// before and/or now. At least one member is present now.
fn build(topics: BTreeMap<String, u32>, ids: Vec<String>, identical: bool, seed: u64) -> Scenario {
    let names: Vec<&String> = topics.keys().collect();
    let full = (1u64 << names.len()) - 1;
    let mut bits = seed;
    let mut take = |n: u32| {
        let v = bits & ((1 << n) - 1);
        bits = bits.rotate_right(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        v
    };
    let shared = take(4) % full + 1;
    let subscription = |mask: u64| -> Vec<String> {
        names.iter().enumerate().filter(|(i, _)| mask >> i & 1 == 1).map(|(_, t)| t.to_string()).collect()
    };
    let (mut members, mut previous) = (Vec::new(), Vec::new());
    for (i, id) in ids.iter().enumerate() {
        let presence = take(2);
        let is_static = take(1) == 1;
        let (now_mask, before_mask) =
            if identical { (shared, shared) } else { (take(4) % full + 1, take(4) % full + 1) };
        let m = MemberSubscription {
            member_id: id.clone(),
            group_instance_id: is_static.then(|| id.chars().rev().collect()),
            topics: subscription(now_mask),
            owned: Vec::new(),
            generation: None,
        };
        if presence != 1 || i == 0 {
            members.push(m.clone());
        }
        if presence != 2 {
            previous.push(MemberSubscription { topics: subscription(before_mask), ..m });
        }
    }
    Scenario { topics, members, previous }
}

/// Members now, owning what `kind` gave them in the previous group, all at generation 1.
fn with_history(s: &Scenario, kind: AssignorKind) -> Vec<MemberSubscription> {
    let before = assign(kind, &s.topics, &s.previous);
    s.members
        .iter()
        .map(|m| MemberSubscription {
            owned: before.get(&m.member_id).cloned().unwrap_or_default(),
            generation: Some(1),
            ..m.clone()
        })
        .collect()
}

fn subscribed_partitions(s: &Scenario) -> BTreeSet<TopicPartition> {
    let subscribed: BTreeSet<&String> = s.members.iter().flat_map(|m| &m.topics).collect();
    s.topics
        .iter()
        .filter(|(t, _)| subscribed.contains(t))
        .flat_map(|(t, &n)| (0..n).map(|p| TopicPartition::new(t.clone(), p)))
        .collect()
}

/// Each partition at most once, only to subscribers, every member present; returns the owners.
fn check_valid(
    s: &Scenario,
    members: &[MemberSubscription],
    out: &Assignment,
) -> Result<HashMap<TopicPartition, String>, TestCaseError> {
    prop_assert_eq!(out.len(), members.len());
    let mut owner = HashMap::new();
    for m in members {
        let parts = &out[&m.member_id];
        prop_assert!(parts.windows(2).all(|w| w[0] < w[1]), "unsorted {:?}", parts);
        for tp in parts {
            prop_assert!(m.topics.contains(&tp.topic), "{} got unsubscribed {}", m.member_id, tp);
            prop_assert!(tp.partition < s.topics[&tp.topic]);
            let previous = owner.insert(tp.clone(), m.member_id.clone());
            prop_assert!(previous.is_none(), "{} assigned twice", tp);
        }
    }
    Ok(owner)
}

fn loads(out: &Assignment) -> (usize, usize) {
    let l = out.values().map(Vec::len);
    (l.clone().min().unwrap_or(0), l.max().unwrap_or(0))
}

proptest! {
    #[test]
    fn eager_assignors_cover_every_partition_once(s in scenario()) {
        let all = subscribed_partitions(&s);
        for kind in [AssignorKind::Range, AssignorKind::RoundRobin, AssignorKind::Sticky] {
            for members in [s.members.clone(), with_history(&s, AssignorKind::Sticky)] {
                let out = assign(kind, &s.topics, &members);
                let owner = check_valid(&s, &members, &out)?;
                prop_assert_eq!(owner.len(), all.len(), "{:?} left partitions out", kind);
            }
        }
    }

    #[test]
    fn identical_subscriptions_are_balanced(s in identical_scenario()) {
        let rr = assign(AssignorKind::RoundRobin, &s.topics, &s.members);
        let (min, max) = loads(&rr);
        prop_assert!(max - min <= 1, "roundrobin {:?}", rr);
        for members in [s.members.clone(), with_history(&s, AssignorKind::Sticky)] {
            let sticky = assign(AssignorKind::Sticky, &s.topics, &members);
            let (min, max) = loads(&sticky);
            prop_assert!(max - min <= 1, "sticky {:?}", sticky);
        }
        // Range balances each topic, not the total: every topic restarts at the first member.
        let range = assign(AssignorKind::Range, &s.topics, &s.members);
        for topic in s.topics.keys() {
            let per_member: Vec<usize> = range.values().map(|p| p.iter().filter(|tp| &tp.topic == topic).count()).collect();
            let (lo, hi) = (per_member.iter().min().unwrap(), per_member.iter().max().unwrap());
            prop_assert!(hi - lo <= 1, "range {} {:?}", topic, range);
        }
    }

    #[test]
    fn sticky_moves_only_what_balance_requires(s in identical_scenario()) {
        let members = with_history(&s, AssignorKind::Sticky);
        let out = assign(AssignorKind::Sticky, &s.topics, &members);
        let total: usize = subscribed_partitions(&s).len();
        let n = members.len();
        let (min_q, max_q, slots) = (total / n, total.div_ceil(n), total % n);
        let mut kept_total = 0;
        for m in &members {
            let new = &out[&m.member_id];
            let kept = m.owned.iter().filter(|tp| new.contains(tp)).count();
            prop_assert_eq!(kept, m.owned.len().min(new.len()), "{} lost partitions needlessly", m.member_id);
            kept_total += kept;
        }
        let big_owners = members.iter().filter(|m| m.owned.len() >= max_q).count();
        let optimum: usize = members.iter().map(|m| m.owned.len().min(min_q)).sum::<usize>() + big_owners.min(slots);
        prop_assert_eq!(kept_total, optimum);
    }

    #[test]
    fn cooperative_never_hands_over_an_owned_partition_and_converges(s in scenario()) {
        let all = subscribed_partitions(&s);
        let mut members = with_history(&s, AssignorKind::CooperativeSticky);
        let mut rounds = 0;
        loop {
            let out = assign(AssignorKind::CooperativeSticky, &s.topics, &members);
            let owner = check_valid(&s, &members, &out)?;
            for m in &members {
                for tp in &m.owned {
                    if let Some(new_owner) = owner.get(tp) {
                        prop_assert_eq!(new_owner, &m.member_id, "{} moved while still owned", tp);
                    }
                }
            }
            rounds += 1;
            if owner.len() == all.len() {
                break;
            }
            prop_assert!(rounds < 6, "still withholding after {} rounds", rounds);
            for m in &mut members {
                m.owned = out[&m.member_id].clone();
                m.generation = Some(rounds + 1);
            }
        }
    }

    /// Conflicting, stale and misplaced claims: every partition still lands exactly once.
    #[test]
    fn sticky_survives_conflicting_claims(
        s in scenario(),
        claims in prop::collection::vec((0usize..8, 0usize..6, 0u32..12, prop::option::of(0i32..4)), 0..30),
    ) {
        let names: Vec<&String> = s.topics.keys().collect();
        let mut members = s.members.clone();
        for (m, t, p, generation) in claims {
            let member = &mut members[m % s.members.len()];
            let topic = names[t % names.len()];
            member.owned.push(TopicPartition::new(topic.clone(), p % s.topics[topic]));
            member.generation = generation;
        }
        let all = subscribed_partitions(&s);
        let sticky = assign(AssignorKind::Sticky, &s.topics, &members);
        prop_assert_eq!(check_valid(&s, &members, &sticky)?.len(), all.len());
        let coop = assign(AssignorKind::CooperativeSticky, &s.topics, &members);
        check_valid(&s, &members, &coop)?;
    }

    #[test]
    fn results_depend_only_on_content(s in scenario(), rotate in 0usize..10) {
        for kind in AssignorKind::ALL {
            let members = with_history(&s, kind);
            let first = assign(kind, &s.topics, &members);
            prop_assert_eq!(&first, &assign(kind, &s.topics, &members));
            let mut shuffled = members.clone();
            shuffled.reverse();
            let len = shuffled.len();
            shuffled.rotate_left(rotate % len);
            prop_assert_eq!(&first, &assign(kind, &s.topics, &shuffled), "{:?}", kind);
        }
    }
}
