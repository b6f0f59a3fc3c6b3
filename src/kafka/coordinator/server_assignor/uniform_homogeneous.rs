//! Kafka's `UniformHomogeneousAssignmentBuilder` (4.4, unchanged since KAFKA-18688 in 4.0.1/4.1.0):
//! every member subscribes to the same topics. Balance first (member counts differ by at most
//! one), then stickiness to the previous target.
//!
//! Each member, in `memberIds()` order, keeps its previous target up to its quota and frees the
//! rest; the freed partitions and those nobody held are then dealt to the members still under
//! quota, in the same order. Since KAFKA-18688 the `total % members` extra partitions go to
//! members that already hold them where possible: a member below its quota gives its tentative
//! extra back unless only the last members remain to take the extras (before, the first members
//! in iteration order always took them, moving partitions for nothing).

use super::Group;

/// The members still under quota, in order, each with how many partitions it lacks.
type Unfilled = Vec<(usize, usize)>;

/// Per member (in `group` order): its new target as (topic position, partition).
pub(super) fn assign(group: &Group) -> Vec<Vec<(usize, u32)>> {
    let members = group.members();
    // `new HashSet<>(first member's subscribedTopicIds())`, walked in the caller's given order.
    let subscribed = &group.subscriptions[0];
    if subscribed.is_empty() {
        return vec![Vec::new(); members];
    }
    // Partitions in no member's previous target (the group's inverted target assignment), topic
    // by topic in set order, partitions ascending.
    let mut held: Vec<Vec<bool>> = group.topics.iter().map(|t| vec![false; t.partitions as usize]).collect();
    for target in &group.targets {
        for (pos, parts) in target {
            for &p in parts {
                held[*pos][p as usize] = true;
            }
        }
    }
    let mut unassigned: Vec<(usize, u32)> = Vec::new();
    let mut total = 0;
    for &pos in subscribed {
        unassigned.extend((0..group.topics[pos].partitions).filter(|&p| !held[pos][p as usize]).map(|p| (pos, p)));
        total += group.partitions(pos);
    }
    let min_quota = total / members;
    let extras = total % members;
    let (mut targets, unfilled) = revoke(group, subscribed, min_quota, extras, &mut unassigned);
    fill(&mut targets, &unfilled, &unassigned);
    targets
}

/// `maybeRevokePartitions`: each member keeps its previous target of subscribed topics up to its
/// quota, walking the target in map order; the surplus joins `unassigned`. Returns the targets
/// kept and the members still under quota with what they lack.
fn revoke(
    group: &Group,
    subscribed: &[usize],
    min_quota: usize,
    mut extras: usize,
    unassigned: &mut Vec<(usize, u32)>,
) -> (Vec<Vec<(usize, u32)>>, Unfilled) {
    let members = group.members();
    let mut targets = Vec::with_capacity(members);
    let mut unfilled = Vec::new();
    for (index, previous) in group.targets.iter().enumerate() {
        let mut quota = min_quota;
        let mut has_extra = false;
        if extras > 0 {
            quota += 1;
            has_extra = true;
        }
        let mut kept = Vec::new();
        for (pos, parts) in previous {
            if subscribed.binary_search(pos).is_err() {
                continue; // the whole topic goes
            }
            if parts.len() <= quota {
                quota -= parts.len();
                kept.extend(parts.iter().map(|&p| (*pos, p)));
                continue;
            }
            for &p in parts {
                if quota > 0 {
                    quota -= 1;
                    kept.push((*pos, p));
                } else {
                    unassigned.push((*pos, p));
                }
            }
        }
        // KAFKA-18688: give the extra back for another member to claim, unless this member is
        // one of the last `extras` members and must take it.
        if quota > 0 && has_extra && members - index > extras {
            quota -= 1;
            has_extra = false;
        }
        if quota > 0 {
            unfilled.push((index, quota));
        }
        if has_extra {
            extras -= 1;
        }
        targets.push(kept);
    }
    (targets, unfilled)
}

/// `assignRemainingPartitions`: the under-quota members, in order, take the next unassigned
/// partitions up to what they lack.
fn fill(targets: &mut [Vec<(usize, u32)>], unfilled: &[(usize, usize)], unassigned: &[(usize, u32)]) {
    let mut next = unassigned.iter();
    for &(member, lacking) in unfilled {
        targets[member].extend(next.by_ref().take(lacking));
    }
    // Kafka throws "Partitions were left unassigned" here; the quotas add up to the total, so it
    // cannot happen.
    debug_assert!(next.next().is_none(), "partitions left unassigned");
}
