//! Shared sticky logic (Kafka's `AbstractStickyAssignor`): ownership validation by generation, then the constrained builder for identical subscriptions or the general builder otherwise.
//!
//! Both `sticky` and `cooperative-sticky` run this; they differ only in what they do with the
//! partitions that change owner. Where Kafka iterates a `HashMap` keyed by member id, the same
//! order is produced with [`JavaHashMap`], so contested cases (more members owning `maxQuota`
//! partitions than there are `maxQuota` slots) resolve exactly as in Kafka.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use super::java_hashmap::JavaHashMap;
use super::{Assignment, Group, TopicPartition, java_cmp, sticky_general};

/// Kafka's `AbstractStickyAssignor.DEFAULT_GENERATION`, used for members without a generation.
pub(crate) const DEFAULT_GENERATION: i32 = -1;

pub(crate) struct StickyResult {
    pub assignment: Assignment,
    /// Partition -> new owner, for partitions some other member held before. `None` after the
    /// general builder, which does not track it (cooperative-sticky then derives it itself).
    pub transferring: Option<HashMap<TopicPartition, String>>,
}

/// The leader's subscription map: member id -> index into `group.members`, inserted in member id
/// order, standing in for the JoinGroup response order.
pub(crate) type Subscriptions = JavaHashMap<String, usize>;

/// What `allSubscriptionsEqual` leaves behind besides its boolean.
pub(crate) struct Ownership {
    /// `consumerToOwnedPartitions`: each member's claims that survived validation.
    pub owned: JavaHashMap<String, Vec<TopicPartition>>,
    /// Partitions claimed by two members of the same generation; nobody keeps them.
    pub multiply_claimed: HashSet<TopicPartition>,
    pub max_generation: i32,
}

pub(crate) fn assign(group: &Group) -> StickyResult {
    let mut subscriptions = Subscriptions::new();
    for (i, member) in group.members.iter().enumerate() {
        subscriptions.insert(member.id.clone(), i);
    }
    let (all_equal, ownership) = validate_ownership(group, &subscriptions);
    if all_equal {
        let (assignment, transferring) = constrained_assign(group, &ownership);
        StickyResult { assignment, transferring: Some(transferring) }
    } else {
        StickyResult { assignment: sticky_general::assign(group, &subscriptions, ownership), transferring: None }
    }
}

/// Kafka's `allSubscriptionsEqual`, which also resolves conflicting ownership claims: the higher
/// generation wins, and equal generations void the claim for everyone.
fn validate_ownership(group: &Group, subscriptions: &Subscriptions) -> (bool, Ownership) {
    let mut all_equal = true;
    let mut first_topics: Option<BTreeSet<&str>> = None;
    let mut owned: JavaHashMap<String, Vec<TopicPartition>> = JavaHashMap::new();
    let mut multiply_claimed = HashSet::new();
    let mut claimant: HashMap<TopicPartition, usize> = HashMap::new();
    let mut max_generation = DEFAULT_GENERATION;

    for (id, &index) in subscriptions.iter() {
        let member = &group.members[index];
        // Kafka seeds the reference set from the first member whose set is non-empty, so a
        // member subscribed to nothing (say, a pattern matching no topic) visited first would
        // pass as equal and be handed partitions it never asked for. Here the first member's
        // set is the reference whatever it holds: such a member forces the general builder.
        let topics: BTreeSet<&str> = member.topics.iter().map(String::as_str).collect();
        match &first_topics {
            None => first_topics = Some(topics),
            Some(reference) => all_equal &= *reference == topics,
        }
        max_generation = max_generation.max(member.generation);

        let mut kept = Vec::new();
        for tp in &member.owned {
            let Some(&other) = claimant.get(tp) else {
                kept.push(tp.clone());
                claimant.insert(tp.clone(), index);
                continue;
            };
            let other_member = &group.members[other];
            match member.generation.cmp(&other_member.generation) {
                Ordering::Equal => {
                    multiply_claimed.insert(tp.clone());
                    remove_claim(&mut owned, &other_member.id, tp);
                    claimant.insert(tp.clone(), index);
                }
                Ordering::Greater => {
                    kept.push(tp.clone());
                    remove_claim(&mut owned, &other_member.id, tp);
                    claimant.insert(tp.clone(), index);
                }
                Ordering::Less => {}
            }
        }
        owned.insert(id.clone(), kept);
    }
    let ownership = Ownership { owned, multiply_claimed, max_generation };
    (all_equal, ownership)
}

fn remove_claim(owned: &mut JavaHashMap<String, Vec<TopicPartition>>, id: &str, tp: &TopicPartition) {
    if let Some(list) = owned.get_mut(id)
        && let Some(pos) = list.iter().position(|p| p == tp)
    {
        list.remove(pos);
    }
}

/// Kafka's `ConstrainedAssignmentBuilder` without racks.
fn constrained_assign(group: &Group, ownership: &Ownership) -> (Assignment, HashMap<TopicPartition, String>) {
    let mut builder = ConstrainedAssignmentBuilder::new(group, ownership);
    builder.assign_owned_partitions();
    let unassigned = builder.unassigned_partitions();
    builder.under_min.sort_by(|a, b| java_cmp(a, b));
    builder.exactly_min.make_contiguous().sort_by(|a, b| java_cmp(a, b));
    builder.assign_round_robin(unassigned);
    (builder.assignment, builder.transferring)
}

/// The builder's state, with Kafka's names beside ours.
struct ConstrainedAssignmentBuilder<'a> {
    group: &'a Group,
    ownership: &'a Ownership,
    min_quota: usize,
    max_quota: usize,
    /// `expectedNumMembersWithOverMinQuotaPartitions` (zero when minQuota == maxQuota).
    expected_over_min: usize,
    /// `currentNumMembersWithOverMinQuotaPartitions`.
    current_over_min: usize,
    assignment: Assignment,
    /// `assignedPartitions`.
    assigned: HashSet<TopicPartition>,
    /// `allRevokedPartitions`.
    revoked: HashSet<TopicPartition>,
    /// `unfilledMembersWithUnderMinQuotaPartitions`.
    under_min: Vec<String>,
    /// `unfilledMembersWithExactlyMinQuotaPartitions`.
    exactly_min: VecDeque<String>,
    /// `partitionsTransferringOwnership`.
    transferring: HashMap<TopicPartition, String>,
}

impl<'a> ConstrainedAssignmentBuilder<'a> {
    fn new(group: &'a Group, ownership: &'a Ownership) -> Self {
        let total: usize = group.partitions_per_topic.values().map(|&n| n as usize).sum();
        let consumers = ownership.owned.len();
        ConstrainedAssignmentBuilder {
            group,
            ownership,
            min_quota: total / consumers,
            max_quota: total.div_ceil(consumers),
            expected_over_min: total % consumers,
            current_over_min: 0,
            assignment: group.empty_assignment(),
            assigned: HashSet::new(),
            revoked: HashSet::new(),
            under_min: Vec::new(),
            exactly_min: VecDeque::new(),
            transferring: HashMap::new(),
        }
    }

    /// Kafka's `assignOwnedPartitions`: each member keeps its owned partitions up to minQuota,
    /// or maxQuota while fewer than the expected members have more than minQuota; the rest are
    /// revoked.
    fn assign_owned_partitions(&mut self) {
        let (min_quota, max_quota) = (self.min_quota, self.max_quota);
        // The visiting order decides who keeps maxQuota when too many members own that much.
        for (consumer, claims) in self.ownership.owned.iter() {
            let mut claims: Vec<&TopicPartition> =
                claims.iter().filter(|tp| !self.ownership.multiply_claimed.contains(*tp)).collect();
            // By partition first, so a member keeps partitions spread over topics.
            claims.sort_by(|a, b| a.partition.cmp(&b.partition).then_with(|| java_cmp(&a.topic, &b.topic)));
            let keep = if claims.len() < min_quota {
                self.under_min.push(consumer.clone());
                claims.len()
            } else if claims.len() >= max_quota && self.current_over_min < self.expected_over_min {
                self.current_over_min += 1;
                if self.current_over_min == self.expected_over_min {
                    self.exactly_min.clear();
                }
                max_quota
            } else {
                if self.current_over_min < self.expected_over_min {
                    self.exactly_min.push_back(consumer.clone());
                }
                min_quota
            };
            let target = self.assignment.entry(consumer.clone()).or_default();
            for (i, tp) in claims.into_iter().enumerate() {
                if i < keep {
                    target.push(tp.clone());
                    self.assigned.insert(tp.clone());
                } else {
                    self.revoked.insert(tp.clone());
                }
            }
        }
    }

    /// Kafka's `getUnassignedPartitions`: every partition nobody kept, in sorted topic order.
    fn unassigned_partitions(&self) -> Vec<TopicPartition> {
        let group = self.group;
        group
            .sorted_topics()
            .into_iter()
            .flat_map(|t| (0..group.partitions_per_topic[t]).map(move |p| TopicPartition::new(t, p)))
            .filter(|tp| !self.assigned.contains(tp))
            .collect()
    }

    /// Kafka's `assignRoundRobin`: the unassigned partitions to the members under minQuota in
    /// turn, then one each to members at exactly minQuota.
    fn assign_round_robin(&mut self, unassigned: Vec<TopicPartition>) {
        // `next` plays the role of Kafka's iterator over the under-min list: it restarts from the
        // front when it runs off the end, and members leave the list as they reach minQuota.
        let mut next = 0;
        for tp in unassigned {
            let (consumer, from_under_min) = if next < self.under_min.len() {
                next += 1;
                (self.under_min[next - 1].clone(), true)
            } else if !self.under_min.is_empty() {
                next = 1;
                (self.under_min[0].clone(), true)
            } else if let Some(consumer) = self.exactly_min.pop_front() {
                (consumer, false)
            } else {
                // Kafka throws here; the quotas make it unreachable.
                debug_assert!(false, "no member left for {tp}");
                break;
            };
            let count = self.assign_new_partition(tp, &consumer);
            if count == self.min_quota && from_under_min {
                next -= 1;
                self.under_min.remove(next);
                self.exactly_min.push_back(consumer);
            }
        }
    }

    /// Kafka's `assignNewPartition`: gives `tp` to `consumer`, noting the transfer when someone
    /// else held it before; returns how many partitions the consumer now has.
    fn assign_new_partition(&mut self, tp: TopicPartition, consumer: &str) -> usize {
        if self.revoked.contains(&tp) || self.ownership.multiply_claimed.contains(&tp) {
            self.transferring.insert(tp.clone(), consumer.to_string());
        }
        let target = self.assignment.entry(consumer.to_string()).or_default();
        target.push(tp);
        target.len()
    }
}
