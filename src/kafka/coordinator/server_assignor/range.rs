//! Kafka's server-side `RangeAssignor` (4.4; rewritten by KAFKA-16944, unchanged since): per
//! topic, each subscriber in order gets a contiguous range, the first `partitions % subscribers`
//! one partition more. Not sticky: the previous target is not read, so the answer is a pure
//! function of the sorted members and the partition counts. With identical subscriptions and
//! equal partition counts the topics are co-partitioned.

use std::cmp::Ordering;

use super::{Group, ServerMember, java_string_cmp};

/// Per member (in `group` order): its new target as (topic position, partition).
pub(super) fn assign(group: &Group, members: &[ServerMember]) -> Vec<Vec<(usize, u32)>> {
    let order = sorted_members(members);
    // Per topic position: its subscriber count, where the next range starts, and how many of the
    // `partitions % subscribers` extra partitions are left to hand out (Kafka's `TopicMetadata`).
    let mut subscribers = vec![0u32; group.topics.len()];
    for subs in &group.subscriptions {
        for &pos in subs {
            subscribers[pos] += 1;
        }
    }
    let mut next_start = vec![0u32; group.topics.len()];
    let mut extras: Vec<u32> =
        group.topics.iter().zip(&subscribers).map(|(t, &n)| if n == 0 { 0 } else { t.partitions % n }).collect();
    let mut out = vec![Vec::new(); members.len()];
    for m in order {
        for &pos in &group.subscriptions[m] {
            let count = group.topics[pos].partitions;
            // `addPartitionsToAssignment`: minQuota, plus one while extras last.
            let mut quota = count / subscribers[pos];
            if extras[pos] > 0 {
                quota += 1;
                extras[pos] -= 1;
            }
            let start = next_start[pos];
            let end = (start + quota).min(count);
            next_start[pos] = end;
            out[m].extend((start..end).map(|p| (pos, p)));
        }
    }
    out
}

/// `sortMemberIds`: static members first, by instance id, then dynamic members by member id,
/// both in Java string order. Java's list sort is stable, as is this one.
fn sorted_members(members: &[ServerMember]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&members[a], &members[b]);
        match (&a.instance_id, &b.instance_id) {
            (Some(x), Some(y)) => java_string_cmp(x, y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => java_string_cmp(&a.member_id, &b.member_id),
        }
    });
    order
}
