//! Kafka's four client-side partition assignors (range, roundrobin, sticky, cooperative-sticky),
//! computed as Kafka does.
//!
//! The group coordinator calls [`assign`]; so does the CLI's `assign` command
//! (`cli::assign_json`). Everything here is a pure function of its input: member order inside
//! the input slice never matters, because every place where Kafka depends on the order of a
//! `java.util.HashMap` is emulated from the member ids alone (see `java_hashmap.rs`), as if the
//! JoinGroup response listed members sorted by id.

mod cooperative_sticky;
pub(crate) mod java_hashmap;
mod range;
mod roundrobin;
mod sticky;
mod sticky_general;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod sticky_general_tests;
#[cfg(test)]
mod sticky_tests;

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// One partition of one topic. Ordered by (topic, partition); displayed as Kafka does, `orders-3`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: u32,
}

impl TopicPartition {
    pub fn new(topic: impl Into<String>, partition: u32) -> Self {
        TopicPartition { topic: topic.into(), partition }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

pub use crate::scenario::plan::AssignorKind;

/// What one member tells the group leader in its JoinGroup subscription.
#[derive(Clone, Debug)]
pub struct MemberSubscription {
    /// The coordinator-issued member id; also the key of this member's entry in the result.
    pub member_id: String,
    /// `group.instance.id` of a static member; static members sort first in range and roundrobin.
    pub group_instance_id: Option<String>,
    /// Subscribed topic names.
    pub topics: Vec<String>,
    /// Previously owned partitions (sticky: user data; cooperative: ownedPartitions).
    pub owned: Vec<TopicPartition>,
    /// Generation of `owned`; `None` = unknown (-1).
    pub generation: Option<i32>,
}

/// Member id -> assigned partitions sorted by (topic, partition). Every member appears, maybe empty.
pub type Assignment = BTreeMap<String, Vec<TopicPartition>>;

/// `topics`: topic name -> partition count (topics in metadata). Deterministic: same input, same output.
///
/// For cooperative-sticky this is one round: partitions moving to a new owner are withheld until
/// their old owner has given them up, i.e. until a call whose `owned` sets no longer list them.
pub fn assign(kind: AssignorKind, topics: &BTreeMap<String, u32>, members: &[MemberSubscription]) -> Assignment {
    let group = Group::new(topics, members);
    if group.members.is_empty() {
        return Assignment::new();
    }
    let mut assignment = match kind {
        AssignorKind::Range => range::assign(&group),
        AssignorKind::RoundRobin => roundrobin::assign(&group),
        AssignorKind::Sticky => sticky::assign(&group).assignment,
        AssignorKind::CooperativeSticky => cooperative_sticky::assign(&group),
    };
    for member in &group.members {
        assignment.entry(member.id.clone()).or_default();
    }
    for partitions in assignment.values_mut() {
        partitions.sort();
    }
    assignment
}

/// Java's `String.compareTo`: lexicographic by UTF-16 code unit. It differs from Rust's byte
/// order only between supplementary characters and U+E000..U+FFFF, but member ids are free text.
pub(crate) fn java_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// One member after the clean-up Kafka's inputs would already have had.
#[derive(Clone, Debug)]
pub(crate) struct Member {
    pub id: String,
    pub instance_id: Option<String>,
    /// Deduplicated, in input order: Kafka compares subscriptions by list size, so duplicates
    /// (which a real consumer never sends, its subscription being a set) would skew that test.
    pub topics: Vec<String>,
    topic_set: HashSet<String>,
    /// Deduplicated, and restricted to partitions that exist in `partitions_per_topic`.
    pub owned: Vec<TopicPartition>,
    /// `generation.unwrap_or(-1)`: Kafka treats a missing generation exactly like -1.
    pub generation: i32,
}

impl Member {
    pub fn subscribes(&self, topic: &str) -> bool {
        self.topic_set.contains(topic)
    }
}

/// The assignor input as Kafka's `AbstractPartitionAssignor` hands it to the algorithms.
pub(crate) struct Group {
    /// Only topics that some member subscribes to and that exist with at least one partition.
    pub partitions_per_topic: BTreeMap<String, u32>,
    /// Sorted by member id (Java order). This is the order members are inserted into the emulated
    /// subscription `HashMap`, standing in for the JoinGroup response order.
    pub members: Vec<Member>,
}

impl Group {
    fn new(topics: &BTreeMap<String, u32>, input: &[MemberSubscription]) -> Group {
        // A repeated member id replaces the earlier entry, as `HashMap.put` does in the leader.
        let mut by_id: HashMap<&str, &MemberSubscription> = HashMap::new();
        for m in input {
            by_id.insert(&m.member_id, m);
        }
        let mut chosen: Vec<&MemberSubscription> = by_id.into_values().collect();
        chosen.sort_by(|a, b| java_cmp(&a.member_id, &b.member_id));

        let mut partitions_per_topic = BTreeMap::new();
        for m in &chosen {
            for t in &m.topics {
                if let Some(&count) = topics.get(t)
                    && count > 0
                {
                    partitions_per_topic.insert(t.clone(), count);
                }
            }
        }

        let members = chosen
            .into_iter()
            .map(|m| {
                let mut topic_set = HashSet::new();
                let topics_dedup: Vec<String> =
                    m.topics.iter().filter(|t| topic_set.insert((*t).clone())).cloned().collect();
                let mut seen = HashSet::new();
                let owned = m
                    .owned
                    .iter()
                    .filter(|tp| partitions_per_topic.get(&tp.topic).is_some_and(|&count| tp.partition < count))
                    .filter(|tp| seen.insert((*tp).clone()))
                    .cloned()
                    .collect();
                Member {
                    id: m.member_id.clone(),
                    instance_id: m.group_instance_id.clone(),
                    topics: topics_dedup,
                    topic_set,
                    owned,
                    generation: m.generation.unwrap_or(sticky::DEFAULT_GENERATION),
                }
            })
            .collect();
        Group { partitions_per_topic, members }
    }

    /// Subscribed existing topics in Java `String` order (Kafka's `TreeSet<String>`).
    pub fn sorted_topics(&self) -> Vec<&str> {
        let mut topics: Vec<&str> = self.partitions_per_topic.keys().map(String::as_str).collect();
        topics.sort_by(|a, b| java_cmp(a, b));
        topics
    }

    pub fn empty_assignment(&self) -> Assignment {
        self.members.iter().map(|m| (m.id.clone(), Vec::new())).collect()
    }
}

/// `MemberInfo.compareTo`: static members first by instance id, then dynamic members by member id.
/// Kafka fences duplicate instance ids, so the member-id tie-break only keeps this total.
pub(crate) fn member_order(a: &Member, b: &Member) -> Ordering {
    match (&a.instance_id, &b.instance_id) {
        (Some(x), Some(y)) => java_cmp(x, y).then_with(|| java_cmp(&a.id, &b.id)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => java_cmp(&a.id, &b.id),
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    pub fn tp(topic: &str, partition: u32) -> TopicPartition {
        TopicPartition::new(topic, partition)
    }

    /// Parses Kafka's test notation "t1-0, t1-3".
    pub fn parts(list: &str) -> Vec<TopicPartition> {
        list.split(", ")
            .filter(|s| !s.is_empty())
            .map(|s| {
                let (topic, p) = s.rsplit_once('-').expect("topic-partition");
                tp(topic, p.parse().expect("partition number"))
            })
            .collect()
    }

    pub fn topics(spec: &[(&str, u32)]) -> BTreeMap<String, u32> {
        spec.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    pub fn member(id: &str, subscribed: &[&str]) -> MemberSubscription {
        MemberSubscription {
            member_id: id.to_string(),
            group_instance_id: None,
            topics: subscribed.iter().map(|t| t.to_string()).collect(),
            owned: Vec::new(),
            generation: None,
        }
    }

    pub trait MemberExt {
        fn owning(self, owned: &[TopicPartition]) -> Self;
        fn generation(self, generation: i32) -> Self;
        fn instance(self, instance: &str) -> Self;
    }

    impl MemberExt for MemberSubscription {
        fn owning(mut self, owned: &[TopicPartition]) -> Self {
            self.owned = owned.to_vec();
            self
        }
        fn generation(mut self, generation: i32) -> Self {
            self.generation = Some(generation);
            self
        }
        fn instance(mut self, instance: &str) -> Self {
            self.group_instance_id = Some(instance.to_string());
            self
        }
    }

    /// Builds the expected assignment; lists are sorted because `assign` sorts them.
    pub fn expect(spec: &[(&str, &[TopicPartition])]) -> Assignment {
        spec.iter()
            .map(|(m, parts)| {
                let mut parts = parts.to_vec();
                parts.sort();
                (m.to_string(), parts)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in AssignorKind::ALL {
            assert_eq!(AssignorKind::parse(kind.name()), Some(kind));
        }
        assert_eq!(AssignorKind::parse("Range"), None);
        assert!(AssignorKind::CooperativeSticky.supports_cooperative());
        assert!(!AssignorKind::Sticky.supports_cooperative());
    }

    #[test]
    fn topic_partition_display_and_order() {
        assert_eq!(tp("orders", 3).to_string(), "orders-3");
        assert!(tp("a", 10) < tp("b", 0));
        assert!(tp("a", 2) < tp("a", 10));
    }

    #[test]
    fn java_order_is_utf16_order() {
        assert_eq!(java_cmp("consumer10", "consumer2"), Ordering::Less);
        // U+FF21 is one UTF-16 unit 0xFF21; U+1F600 starts with the surrogate 0xD83D.
        assert_eq!(java_cmp("\u{1F600}", "\u{FF21}"), Ordering::Less);
        assert_eq!("\u{1F600}".cmp("\u{FF21}"), Ordering::Greater);
    }

    #[test]
    fn every_member_appears_even_without_topics() {
        let t = topics(&[("t", 2)]);
        let members = [member("a", &["t"]), member("b", &["missing"]), member("c", &[])];
        for kind in AssignorKind::ALL {
            let out = assign(kind, &t, &members);
            assert_eq!(out.len(), 3, "{kind:?}");
            assert!(out["b"].is_empty() && out["c"].is_empty(), "{kind:?}");
            assert_eq!(out["a"], vec![tp("t", 0), tp("t", 1)], "{kind:?}");
        }
    }

    #[test]
    fn no_members_gives_empty_assignment() {
        for kind in AssignorKind::ALL {
            assert!(assign(kind, &topics(&[("t", 3)]), &[]).is_empty());
        }
    }

    #[test]
    fn static_members_sort_first() {
        let a = Group::new(
            &topics(&[("t", 1)]),
            &[member("a", &["t"]), member("z", &["t"]).instance("i2"), member("y", &["t"]).instance("i1")],
        );
        let mut order: Vec<&Member> = a.members.iter().collect();
        order.sort_by(|x, y| member_order(x, y));
        let ids: Vec<&str> = order.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["y", "z", "a"]);
    }
}
