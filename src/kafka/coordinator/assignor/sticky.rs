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
    let total: usize = group.partitions_per_topic.values().map(|&n| n as usize).sum();
    let consumers = ownership.owned.len();
    let min_quota = total / consumers;
    let max_quota = total.div_ceil(consumers);
    let expected_over_min = total % consumers;
    let mut current_over_min = 0;

    let mut assignment: Assignment = group.empty_assignment();
    let mut assigned: HashSet<TopicPartition> = HashSet::new();
    let mut revoked: HashSet<TopicPartition> = HashSet::new();
    let mut under_min: Vec<String> = Vec::new();
    let mut exactly_min: VecDeque<String> = VecDeque::new();

    // The visiting order decides who keeps maxQuota when too many members own that much.
    for (consumer, claims) in ownership.owned.iter() {
        let mut claims: Vec<&TopicPartition> =
            claims.iter().filter(|tp| !ownership.multiply_claimed.contains(*tp)).collect();
        // By partition first, so a member keeps partitions spread over topics.
        claims.sort_by(|a, b| a.partition.cmp(&b.partition).then_with(|| java_cmp(&a.topic, &b.topic)));
        let keep = if claims.len() < min_quota {
            under_min.push(consumer.clone());
            claims.len()
        } else if claims.len() >= max_quota && current_over_min < expected_over_min {
            current_over_min += 1;
            if current_over_min == expected_over_min {
                exactly_min.clear();
            }
            max_quota
        } else {
            if current_over_min < expected_over_min {
                exactly_min.push_back(consumer.clone());
            }
            min_quota
        };
        let target = assignment.entry(consumer.clone()).or_default();
        for (i, tp) in claims.into_iter().enumerate() {
            if i < keep {
                target.push(tp.clone());
                assigned.insert(tp.clone());
            } else {
                revoked.insert(tp.clone());
            }
        }
    }

    under_min.sort_by(|a, b| java_cmp(a, b));
    exactly_min.make_contiguous().sort_by(|a, b| java_cmp(a, b));
    let unassigned: Vec<TopicPartition> = group
        .sorted_topics()
        .into_iter()
        .flat_map(|t| (0..group.partitions_per_topic[t]).map(move |p| TopicPartition::new(t, p)))
        .filter(|tp| !assigned.contains(tp))
        .collect();

    let mut transferring = HashMap::new();
    // `next` plays the role of Kafka's iterator over the under-min list: it restarts from the
    // front when it runs off the end, and members leave the list as they reach minQuota.
    let mut next = 0;
    for tp in unassigned {
        let (consumer, from_under_min) = if next < under_min.len() {
            next += 1;
            (under_min[next - 1].clone(), true)
        } else if !under_min.is_empty() {
            next = 1;
            (under_min[0].clone(), true)
        } else if let Some(consumer) = exactly_min.pop_front() {
            (consumer, false)
        } else {
            // Kafka throws here; the quotas make it unreachable.
            debug_assert!(false, "no member left for {tp}");
            break;
        };
        if revoked.contains(&tp) || ownership.multiply_claimed.contains(&tp) {
            transferring.insert(tp.clone(), consumer.clone());
        }
        let target = assignment.entry(consumer.clone()).or_default();
        target.push(tp);
        let count = target.len();
        if count == min_quota && from_under_min {
            next -= 1;
            under_min.remove(next);
            exactly_min.push_back(consumer);
        }
    }
    (assignment, transferring)
}
