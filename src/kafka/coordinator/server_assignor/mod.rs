//! The consumer protocol's server-side assignors (KIP-848, `group.consumer.assignors`), ported
//! from Kafka 4.4's group coordinator (`group-coordinator/.../coordinator/group/assignor/`):
//!
//! - `uniform` (`UniformAssignor`): the homogeneous builder when every member subscribes to the
//!   same topics (`uniform_homogeneous.rs`, with KAFKA-18688's "any member may keep the extra
//!   partition"), else the heterogeneous builder (`uniform_heterogeneous.rs`);
//! - `range` (`RangeAssignor`, `range.rs`): contiguous ranges per topic, not sticky.
//!
//! Unlike the classic protocol's client-side assignors (`coordinator::assignor`), these run in the
//! coordinator at a group epoch bump, and stickiness is measured against each member's previous
//! *target* assignment, not what it owns. Where Kafka's answer depends on the iteration order of a
//! Java `HashMap`/`HashSet`, the caller passes that order in: `topics` in the order of the
//! subscribed-topic `HashSet<Uuid>`, `members` in `groupSpec.memberIds()` order, and each member's
//! `target` in the order of its `Map<Uuid, Set<Integer>>` (topics in order of first appearance,
//! partitions as listed).

mod range;
mod uniform_heterogeneous;
mod uniform_homogeneous;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;
use std::collections::BTreeMap;

pub use crate::scenario::plan::ServerAssignorKind;

/// A subscribed topic, given in the order Kafka would iterate it (a Java `HashSet<Uuid>`);
/// `id_rank` orders topics where Kafka compares topic ids (the heterogeneous builder's tie-break).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTopic {
    pub topic: usize,
    pub partitions: u32,
    pub id_rank: u32,
}

/// A member as the assignor sees it, in the group's `memberIds()` order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerMember {
    pub member_id: String,
    pub instance_id: Option<String>,
    /// Subscribed topic numbers; numbers absent from `topics` are topics missing from metadata.
    pub topics: Vec<usize>,
    /// Its previous target assignment (topic, partition), in the order Kafka walks the member's
    /// target map.
    pub target: Vec<(usize, u32)>,
}

/// The new target assignment: one sorted `Vec<(topic, partition)>` per member, in `members` order.
///
/// A pure function of its input. Topics a member subscribes to that are not in `topics` are
/// ignored, as Kafka resolves subscribed names against metadata. Input Kafka never produces is
/// cleaned first: target partitions beyond a topic's count are dropped, and a partition in
/// several targets stays only with the first member listing it.
pub fn server_assign(
    kind: ServerAssignorKind,
    topics: &[ServerTopic],
    members: &[ServerMember],
) -> Vec<Vec<(usize, u32)>> {
    if members.is_empty() {
        return Vec::new();
    }
    let group = Group::new(topics, members);
    let by_position = match kind {
        ServerAssignorKind::Uniform if group.homogeneous => uniform_homogeneous::assign(&group),
        ServerAssignorKind::Uniform => uniform_heterogeneous::assign(&group),
        ServerAssignorKind::Range => range::assign(&group, members),
    };
    by_position
        .into_iter()
        .map(|parts| {
            let mut out: Vec<(usize, u32)> = parts.into_iter().map(|(pos, p)| (topics[pos].topic, p)).collect();
            out.sort_unstable();
            out
        })
        .collect()
}

/// The group as the builders read it, with topics named by their position in `topics` (the
/// subscribed-topic set's iteration order).
pub(super) struct Group<'a> {
    pub topics: &'a [ServerTopic],
    /// Per member: positions of the existing topics it subscribes to, ascending.
    pub subscriptions: Vec<Vec<usize>>,
    /// Per member: its previous target by topic position, topics in order of first appearance.
    pub targets: Vec<Vec<(usize, Vec<u32>)>>,
    /// Kafka's `SubscriptionType.HOMOGENEOUS`: every member subscribes to the same topic names
    /// (`ModernGroup#subscriptionType` counts names, existing in metadata or not).
    pub homogeneous: bool,
}

impl<'a> Group<'a> {
    fn new(topics: &'a [ServerTopic], members: &[ServerMember]) -> Self {
        let position: BTreeMap<usize, usize> = topics.iter().enumerate().map(|(i, t)| (t.topic, i)).collect();
        let names = |m: &ServerMember| {
            let mut t = m.topics.clone();
            t.sort_unstable();
            t.dedup();
            t
        };
        let first = names(&members[0]);
        let homogeneous = members.iter().all(|m| names(m) == first);
        let subscriptions = members
            .iter()
            .map(|m| {
                let mut s: Vec<usize> = m.topics.iter().filter_map(|t| position.get(t).copied()).collect();
                s.sort_unstable();
                s.dedup();
                s
            })
            .collect();
        let mut taken: Vec<Vec<bool>> = topics.iter().map(|t| vec![false; t.partitions as usize]).collect();
        let targets = members.iter().map(|m| group_target(&m.target, &position, &mut taken)).collect();
        Group { topics, subscriptions, targets, homogeneous }
    }

    pub fn members(&self) -> usize {
        self.subscriptions.len()
    }

    pub fn partitions(&self, pos: usize) -> usize {
        self.topics[pos].partitions as usize
    }

    pub fn subscribes(&self, member: usize, pos: usize) -> bool {
        self.subscriptions[member].binary_search(&pos).is_ok()
    }

    /// The heterogeneous builder's `topicComparator`: partitions per subscriber descending
    /// (compared as Java doubles), then subscriber count ascending, then topic id ascending.
    pub fn compare_topics(&self, a: usize, b: usize, subscribers: &[Vec<usize>]) -> Ordering {
        let (pa, pb) = (self.partitions(a) as f64, self.partitions(b) as f64);
        let (sa, sb) = (subscribers[a].len(), subscribers[b].len());
        (pb / sb as f64)
            .partial_cmp(&(pa / sa as f64))
            .unwrap_or(Ordering::Equal)
            .then(sa.cmp(&sb))
            .then(self.topics[a].id_rank.cmp(&self.topics[b].id_rank))
            // Equal ranks (two topics with one id) cannot happen in Kafka; keep the output defined.
            .then(a.cmp(&b))
    }
}

/// One member's target grouped by topic (first appearance first), keeping only partitions that
/// exist and that no earlier member's target already holds.
fn group_target(
    target: &[(usize, u32)],
    position: &BTreeMap<usize, usize>,
    taken: &mut [Vec<bool>],
) -> Vec<(usize, Vec<u32>)> {
    let mut grouped: Vec<(usize, Vec<u32>)> = Vec::new();
    let mut slot_of: BTreeMap<usize, usize> = BTreeMap::new();
    for &(topic, p) in target {
        let Some(&pos) = position.get(&topic) else { continue };
        let Some(slot) = taken[pos].get_mut(p as usize) else { continue };
        if std::mem::replace(slot, true) {
            continue;
        }
        let i = *slot_of.entry(pos).or_insert_with(|| {
            grouped.push((pos, Vec::new()));
            grouped.len() - 1
        });
        grouped[i].1.push(p);
    }
    grouped
}

/// Java's `String.compareTo`: UTF-16 code units, which orders some characters differently from
/// Rust's byte-wise `str` order (U+E000..U+FFFF against characters beyond U+FFFF).
pub(super) fn java_string_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}
