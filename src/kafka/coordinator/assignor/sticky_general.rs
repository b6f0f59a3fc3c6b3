//! The sticky general builder (Kafka's `GeneralAssignmentBuilder`), used when members subscribe to different topics.
//!
//! It keeps every valid claim, hands the rest to the least-loaded eligible member, then moves
//! partitions from members with 2+ more than an eligible peer until balanced, preferring to
//! return a partition to its previous (older-generation) owner, and undoing the moves if they
//! did not improve the balance score. Kafka's sorted consumer set (by load, then id) is always
//! consistent with the loads here, so "first in that set" is computed as a minimum on demand.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::java_hashmap::JavaHashSet;
use super::sticky::{Ownership, Subscriptions};
use super::{Assignment, Group, Member, TopicPartition, java_cmp};

/// Kafka trusts its balancing loop to settle; this only bounds it should it ever fail to.
const MAX_BALANCE_PASSES: usize = 1_000;

pub(crate) fn assign(group: &Group, subscriptions: &Subscriptions, ownership: Ownership) -> Assignment {
    let mut builder = Builder::new(group, &ownership);
    let prev_assignment = previous_owners(group, subscriptions, ownership.max_generation);
    let assigned = builder.keep_owned_partitions();
    let unassigned: Vec<TopicPartition> =
        builder.sorted_partitions.iter().filter(|tp| !assigned.contains(*tp)).cloned().collect();
    builder.balance(&prev_assignment, unassigned);
    builder.current
}

/// `prepopulateCurrentAssignments`: claims of members older than the newest generation, kept as
/// a hint for where to send a partition back. On equal generations the first visited member wins.
fn previous_owners(
    group: &Group,
    subscriptions: &Subscriptions,
    max_generation: i32,
) -> HashMap<TopicPartition, (String, i32)> {
    let mut prev: HashMap<TopicPartition, (String, i32)> = HashMap::new();
    for (id, &index) in subscriptions.iter() {
        let member = &group.members[index];
        if member.generation >= max_generation {
            continue;
        }
        for tp in &member.owned {
            let newer = prev.get(tp).is_none_or(|(_, g)| member.generation > *g);
            if newer {
                prev.insert(tp.clone(), (id.clone(), member.generation));
            }
        }
    }
    prev
}

struct Builder<'a> {
    group: &'a Group,
    members: HashMap<&'a str, &'a Member>,
    topic_consumers: BTreeMap<&'a str, Vec<&'a str>>,
    consumer_topics: BTreeMap<&'a str, Vec<&'a str>>,
    /// Members taking part in balancing (Kafka's `currentAssignment` minus the fixed ones).
    current: Assignment,
    owner: HashMap<TopicPartition, String>,
    /// Topics by (subscriber count, name), each topic's partitions in order.
    sorted_partitions: Vec<TopicPartition>,
    revocation_required: bool,
    movements: PartitionMovements,
}

impl<'a> Builder<'a> {
    fn new(group: &'a Group, ownership: &Ownership) -> Self {
        let mut topic_consumers: BTreeMap<&str, Vec<&str>> =
            group.partitions_per_topic.keys().map(|t| (t.as_str(), Vec::new())).collect();
        let mut consumer_topics = BTreeMap::new();
        for m in &group.members {
            let topics: Vec<&str> =
                m.topics.iter().map(String::as_str).filter(|t| group.partitions_per_topic.contains_key(*t)).collect();
            for t in &topics {
                topic_consumers.entry(t).or_default().push(&m.id);
            }
            consumer_topics.insert(m.id.as_str(), topics);
        }
        let mut current = group.empty_assignment();
        let mut owner = HashMap::new();
        for (id, claims) in ownership.owned.iter() {
            current.insert(id.clone(), claims.clone());
            for tp in claims {
                owner.insert(tp.clone(), id.clone());
            }
        }
        let mut topics: Vec<&str> = topic_consumers.keys().copied().collect();
        topics.sort_by(|a, b| topic_consumers[a].len().cmp(&topic_consumers[b].len()).then_with(|| java_cmp(a, b)));
        let sorted_partitions = topics
            .iter()
            .flat_map(|t| (0..group.partitions_per_topic[*t]).map(|p| TopicPartition::new(*t, p)))
            .collect();
        Builder {
            group,
            members: group.members.iter().map(|m| (m.id.as_str(), m)).collect(),
            topic_consumers,
            consumer_topics,
            current,
            owner,
            sorted_partitions,
            revocation_required: false,
            movements: PartitionMovements::default(),
        }
    }

    /// Drops claims on topics the claimant no longer subscribes to; returns the kept partitions.
    fn keep_owned_partitions(&mut self) -> HashSet<TopicPartition> {
        let mut kept = HashSet::new();
        for (id, claims) in self.current.iter_mut() {
            let member = self.members[id.as_str()];
            claims.retain(|tp| {
                let keep = member.subscribes(&tp.topic);
                self.revocation_required |= !keep;
                if keep {
                    kept.insert(tp.clone());
                }
                keep
            });
        }
        kept
    }

    fn load(&self, consumer: &str) -> usize {
        self.current.get(consumer).map_or(0, Vec::len)
    }

    /// First member of Kafka's (load, id)-sorted set that may take a partition of `topic`.
    fn least_loaded(&self, topic: &str) -> Option<String> {
        self.current
            .iter()
            .filter(|(c, _)| self.consumer_topics[c.as_str()].contains(&topic))
            .min_by(|(a, pa), (b, pb)| pa.len().cmp(&pb.len()).then_with(|| java_cmp(a, b)))
            .map(|(c, _)| c.clone())
    }

    fn max_assignment_size(&self, consumer: &str) -> usize {
        self.consumer_topics[consumer].iter().map(|t| self.group.partitions_per_topic[*t] as usize).sum()
    }

    fn topic_can_move(&self, topic: &str) -> bool {
        self.topic_consumers[topic].len() >= 2
    }

    fn consumer_can_move(&self, consumer: &str) -> bool {
        self.load(consumer) < self.max_assignment_size(consumer)
            || self.current[consumer].iter().any(|tp| self.topic_can_move(&tp.topic))
    }

    fn is_balanced(&self) -> bool {
        let loads = self.current.values().map(Vec::len);
        let (min, max) = (loads.clone().min().unwrap_or(0), loads.max().unwrap_or(0));
        if min + 1 >= max {
            return true;
        }
        let holder: HashMap<&TopicPartition, &str> =
            self.current.iter().flat_map(|(c, parts)| parts.iter().map(move |tp| (tp, c.as_str()))).collect();
        for (consumer, parts) in &self.current {
            if parts.len() == self.max_assignment_size(consumer) {
                continue;
            }
            for topic in &self.consumer_topics[consumer.as_str()] {
                for p in 0..self.group.partitions_per_topic[*topic] {
                    let tp = TopicPartition::new(*topic, p);
                    if parts.contains(&tp) {
                        continue;
                    }
                    let other = holder.get(&tp).map_or(0, |o| self.load(o));
                    if parts.len() + 1 < other {
                        return false;
                    }
                }
            }
        }
        true
    }

    fn balance(&mut self, prev: &HashMap<TopicPartition, (String, i32)>, mut unassigned: Vec<TopicPartition>) {
        let initializing = self.current.values().all(Vec::is_empty);
        for tp in &unassigned {
            if let Some(consumer) = self.least_loaded(&tp.topic) {
                self.current.get_mut(&consumer).expect("member").push(tp.clone());
                self.owner.insert(tp.clone(), consumer);
            }
        }

        let fixed_topics: HashSet<&str> =
            self.topic_consumers.keys().copied().filter(|t| !self.topic_can_move(t)).collect();
        let mut sorted_partitions = std::mem::take(&mut self.sorted_partitions);
        sorted_partitions.retain(|tp| !fixed_topics.contains(tp.topic.as_str()));
        unassigned.retain(|tp| !fixed_topics.contains(tp.topic.as_str()));

        let fixed_ids: Vec<String> = self.current.keys().filter(|c| !self.consumer_can_move(c)).cloned().collect();
        let fixed: Vec<(String, Vec<TopicPartition>)> = fixed_ids
            .into_iter()
            .map(|c| {
                let parts = self.current.remove(&c).unwrap_or_default();
                (c, parts)
            })
            .collect();

        let before = (self.current.clone(), self.owner.clone());
        if !self.revocation_required {
            self.perform_reassignments(&unassigned, prev);
        }
        let moved = self.perform_reassignments(&sorted_partitions, prev);
        if !initializing && moved && balance_score(&self.current) >= balance_score(&before.0) {
            (self.current, self.owner) = before;
        }
        self.current.extend(fixed);
    }

    fn perform_reassignments(
        &mut self,
        partitions: &[TopicPartition],
        prev: &HashMap<TopicPartition, (String, i32)>,
    ) -> bool {
        let mut performed = false;
        for _ in 0..MAX_BALANCE_PASSES {
            let mut modified = false;
            for tp in partitions {
                if self.is_balanced() {
                    break;
                }
                let Some(consumer) = self.owner.get(tp) else {
                    continue;
                };
                let load = self.load(consumer);
                // Kafka would crash on a previous owner that is fixed, and would hand the
                // partition to one no longer subscribed to its topic; such hints are skipped.
                let back_to_previous = prev.get(tp).map(|(c, _)| c).filter(|c| {
                    self.current.contains_key(*c)
                        && self.consumer_topics[c.as_str()].contains(&tp.topic.as_str())
                        && load > self.load(c) + 1
                });
                let target = match back_to_previous {
                    Some(previous) => Some(previous.clone()),
                    None => {
                        let overloaded = self.topic_consumers[tp.topic.as_str()]
                            .iter()
                            .any(|other| self.current.get(*other).is_some_and(|p| load > p.len() + 1));
                        if overloaded { self.least_loaded(&tp.topic) } else { None }
                    }
                };
                if let Some(target) = target {
                    self.reassign(tp, target);
                    performed = true;
                    modified = true;
                }
            }
            if !modified {
                break;
            }
        }
        performed
    }

    /// Kafka may move a different partition than asked: one that earlier moved the opposite
    /// way, so that the pair of moves cancels out instead of shuffling two partitions.
    fn reassign(&mut self, tp: &TopicPartition, new_owner: String) {
        let old_owner = self.owner[tp].clone();
        let to_move = self.movements.partition_to_move(tp, &old_owner, &new_owner);
        let from = self.owner[&to_move].clone();
        // Both ends take part in balancing by construction (only fixed members are absent).
        if !self.current.contains_key(&from) || !self.current.contains_key(&new_owner) {
            return;
        }
        self.movements.record(&to_move, &from, &new_owner);
        if let Some(list) = self.current.get_mut(&from) {
            list.retain(|p| *p != to_move);
        }
        if let Some(list) = self.current.get_mut(&new_owner) {
            list.push(to_move.clone());
        }
        self.owner.insert(to_move, new_owner);
    }
}

/// Sum over member pairs of the difference in partition counts; 0 is perfectly even.
fn balance_score(assignment: &Assignment) -> usize {
    let loads: Vec<usize> = assignment.values().map(Vec::len).collect();
    let mut score = 0;
    for (i, a) in loads.iter().enumerate() {
        for b in &loads[i + 1..] {
            score += a.abs_diff(*b);
        }
    }
    score
}

/// Kafka's `PartitionMovements`: which partitions of a topic moved from which member to which,
/// so that a move can be answered by undoing an opposite one instead of adding a second.
#[derive(Default)]
struct PartitionMovements {
    /// topic -> (from, to) -> partitions; the set's Java iteration order picks which one to undo.
    by_topic: HashMap<String, HashMap<(String, String), JavaHashSet<TopicPartition>>>,
    moves: HashMap<TopicPartition, (String, String)>,
}

impl PartitionMovements {
    /// `getTheActualPartitionToBeMoved`.
    fn partition_to_move(&self, tp: &TopicPartition, old_owner: &str, new_owner: &str) -> TopicPartition {
        let Some(pairs) = self.by_topic.get(&tp.topic) else {
            return tp.clone();
        };
        let origin = self.moves.get(tp).map_or(old_owner, |(from, _)| from.as_str());
        let reverse = (new_owner.to_string(), origin.to_string());
        match pairs.get(&reverse).and_then(|set| set.first_key()) {
            Some(first) => first.clone(),
            None => tp.clone(),
        }
    }

    /// `movePartition`: a partition that returns to where it started leaves no record.
    fn record(&mut self, tp: &TopicPartition, old_owner: &str, new_owner: &str) {
        match self.remove(tp) {
            Some((origin, _)) if origin == new_owner => {}
            Some((origin, _)) => self.add(tp, origin, new_owner.to_string()),
            None => self.add(tp, old_owner.to_string(), new_owner.to_string()),
        }
    }

    fn remove(&mut self, tp: &TopicPartition) -> Option<(String, String)> {
        let pair = self.moves.remove(tp)?;
        if let Some(pairs) = self.by_topic.get_mut(&tp.topic) {
            if let Some(set) = pairs.get_mut(&pair) {
                set.remove(tp);
                if set.is_empty() {
                    pairs.remove(&pair);
                }
            }
            if pairs.is_empty() {
                self.by_topic.remove(&tp.topic);
            }
        }
        Some(pair)
    }

    fn add(&mut self, tp: &TopicPartition, from: String, to: String) {
        let pair = (from, to);
        self.moves.insert(tp.clone(), pair.clone());
        let set = self.by_topic.entry(tp.topic.clone()).or_default().entry(pair).or_insert_with(JavaHashSet::new);
        set.insert(tp.clone(), ());
    }
}
