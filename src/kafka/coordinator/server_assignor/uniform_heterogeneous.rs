//! Kafka's `UniformHeterogeneousAssignmentBuilder` (4.4; the KAFKA-17710 rework): members
//! subscribe to different topics.
//!
//! 1. Each member keeps its previous target of the topics it still subscribes to.
//! 2. Unassigned partitions go, topic by topic (most partitions per subscriber first), each to
//!    the topic's least loaded subscriber (ties: lower member index).
//! 3. Up to 16 rounds over the topics move partitions from a topic's most loaded subscribers to
//!    its least loaded ones until no topic can be improved. Balance is per topic: with
//!    overlapping subscriptions the members' totals may still differ by more than one.

use std::collections::HashMap;

use super::Group;

/// `MAX_ITERATION_COUNT`: each round roughly halves the imbalance; Kafka stops here even if
/// overlapping subscriptions could still be improved.
const MAX_ITERATION_COUNT: usize = 16;

/// No owner, Kafka's `-1` in `targetAssignmentPartitionOwners`.
const NONE: i64 = -1;

/// The builder's state: who owns each partition and how many partitions each member has.
struct Builder<'g, 'a> {
    group: &'g Group<'a>,
    /// Per topic position: subscriber member indices, ascending (empty if nobody subscribes).
    subscribers: Vec<Vec<usize>>,
    /// Per topic position: the owner of each partition, or `NONE`.
    owners: Vec<Vec<i64>>,
    /// `memberTargetAssignmentSizes`.
    sizes: Vec<i64>,
}

/// Per member (in `group` order): its new target as (topic position, partition).
pub(super) fn assign(group: &Group) -> Vec<Vec<(usize, u32)>> {
    let members = group.members();
    let mut subscribers = vec![Vec::new(); group.topics.len()];
    for (m, subs) in group.subscriptions.iter().enumerate() {
        for &pos in subs {
            subscribers[pos].push(m);
        }
    }
    if subscribers.iter().all(Vec::is_empty) {
        return vec![Vec::new(); members];
    }
    let owners = group.topics.iter().map(|t| vec![NONE; t.partitions as usize]).collect();
    let mut b = Builder { group, subscribers, owners, sizes: vec![0; members] };
    b.revoke_unsubscribed();
    b.assign_remaining();
    b.balance();

    let mut out = vec![Vec::new(); members];
    for (pos, owners) in b.owners.iter().enumerate() {
        for (p, &owner) in owners.iter().enumerate() {
            if owner != NONE {
                out[owner as usize].push((pos, p as u32));
            }
        }
    }
    out
}

impl Builder<'_, '_> {
    /// `maybeRevokePartitions`: the previous target stays for subscribed topics only.
    fn revoke_unsubscribed(&mut self) {
        for (m, target) in self.group.targets.iter().enumerate() {
            for (pos, parts) in target {
                if self.group.subscribes(m, *pos) {
                    self.sizes[m] += parts.len() as i64;
                    for &p in parts {
                        self.owners[*pos][p as usize] = m as i64;
                    }
                }
            }
        }
    }

    /// Topic positions sorted by the group's `topicComparator`.
    fn sorted_topics(&self, mut topics: Vec<usize>) -> Vec<usize> {
        topics.sort_by(|&a, &b| self.group.compare_topics(a, b, &self.subscribers));
        topics
    }

    /// `assignRemainingPartitions`: each unassigned partition to the topic's least loaded subscriber.
    fn assign_remaining(&mut self) {
        let with_unassigned: Vec<usize> = (0..self.owners.len())
            .filter(|&pos| !self.subscribers[pos].is_empty() && self.owners[pos].contains(&NONE))
            .collect();
        let mut balancer = Balancer::default();
        for pos in self.sorted_topics(with_unassigned) {
            balancer.initialize(&self.subscribers[pos], &self.sizes);
            for p in 0..self.owners[pos].len() {
                if self.owners[pos][p] == NONE {
                    let least = balancer.next_least_loaded(&self.sizes);
                    self.assign_partition(pos, p, least);
                }
            }
        }
    }

    /// `balance` and `balanceTopics`: rounds over the topics with two or more subscribers until a
    /// whole round moves nothing, at most `MAX_ITERATION_COUNT` rounds.
    fn balance(&mut self) {
        let movable: Vec<usize> = (0..self.owners.len()).filter(|&pos| self.subscribers[pos].len() >= 2).collect();
        if movable.is_empty() {
            return;
        }
        let sorted = self.sorted_topics(movable);
        let mut balancer = Balancer::default();
        // The index in `sorted` of the last topic that moved partitions: coming back to it
        // without another move means a full round changed nothing.
        let mut last_moved: Option<usize> = None;
        for _ in 0..MAX_ITERATION_COUNT {
            for (index, &pos) in sorted.iter().enumerate() {
                if last_moved == Some(index) {
                    return;
                }
                let moved = self.balance_topic(pos, &mut balancer);
                if moved > 0 || last_moved.is_none() {
                    last_moved = Some(index);
                }
            }
        }
    }

    /// `balanceTopic`: moves the topic's partitions from its most loaded subscribers (each giving
    /// its highest partition) to its least loaded ones until they differ by at most one, or no
    /// loaded subscriber has a partition of this topic left to give. Returns how many moved.
    fn balance_topic(&mut self, pos: usize, balancer: &mut Balancer) -> usize {
        let imbalance = balancer.initialize(&self.subscribers[pos], &self.sizes);
        if imbalance <= 1 {
            return 0;
        }
        // The topic's partitions grouped by owner, then ascending, with each owner's range.
        let owners = &self.owners[pos];
        let mut partitions: Vec<usize> = (0..owners.len()).collect();
        partitions.sort_by_key(|&p| (owners[p], p));
        let mut ranges: HashMap<i64, (usize, usize)> = HashMap::new();
        for (i, &p) in partitions.iter().enumerate() {
            ranges.entry(owners[p]).or_insert((i, i)).1 = i + 1;
        }
        let mut moved = 0;
        while !balancer.is_balanced() {
            let Some(most) = self.next_giver(balancer, &ranges) else { break };
            let range = ranges.get_mut(&(most as i64)).expect("a giver has a range");
            range.1 -= 1;
            let partition = partitions[range.1];
            let least = balancer.next_least_loaded(&self.sizes);
            if balancer.is_balanced() {
                break;
            }
            self.assign_partition(pos, partition, least);
            moved += 1;
        }
        moved
    }

    /// The next member of the most loaded range that still has a partition of this topic to give
    /// up; members without one leave the range. `None` when nobody is left.
    fn next_giver(&self, balancer: &mut Balancer, ranges: &HashMap<i64, (usize, usize)>) -> Option<usize> {
        loop {
            let most = balancer.next_most_loaded(&self.sizes)?;
            match ranges.get(&(most as i64)) {
                Some(&(start, end)) if end > start => return Some(most),
                _ => balancer.exclude_most_loaded(),
            }
        }
    }

    /// `assignPartition`: moves (or gives) the partition to `member`, keeping the sizes current.
    fn assign_partition(&mut self, pos: usize, partition: usize, member: usize) {
        let old = self.owners[pos][partition];
        if old != NONE {
            self.sizes[old as usize] -= 1;
        }
        self.owners[pos][partition] = member as i64;
        self.sizes[member] += 1;
    }
}

/// Kafka's `MemberAssignmentBalancer`: a topic's subscribers sorted by load, with a least loaded
/// range growing rightwards (receivers) and a most loaded range growing leftwards (givers). The
/// sizes it reads are the builder's, which change as partitions move; Kafka reads them live too.
/// Indices are signed as in Java, where `nextMostLoadedMember` runs down to -1.
#[derive(Default)]
struct Balancer {
    sorted: Vec<usize>,
    least_end: isize,
    least_count: i64,
    next_least: isize,
    most_start: isize,
    most_end: isize,
    most_count: i64,
    next_most: isize,
}

impl Balancer {
    /// Resets for `members` (non-empty); returns the most minus the least loaded member's count.
    fn initialize(&mut self, members: &[usize], sizes: &[i64]) -> i64 {
        self.sorted.clear();
        self.sorted.extend_from_slice(members);
        self.sorted.sort_by_key(|&m| (sizes[m], m));
        let n = self.sorted.len() as isize;
        let (first, last) = (sizes[self.sorted[0]], sizes[self.sorted[n as usize - 1]]);
        self.least_end = 0;
        self.least_count = first - 1;
        self.next_least = 0;
        self.most_start = n;
        self.most_end = n;
        self.most_count = last + 1;
        self.next_most = n - 1;
        last - first
    }

    fn size_at(&self, i: isize, sizes: &[i64]) -> i64 {
        sizes[self.sorted[i as usize]]
    }

    /// `nextLeastLoadedMember`: the next receiver; when the range is used up its level rises by
    /// one and it takes in the members now at that level.
    fn next_least_loaded(&mut self, sizes: &[i64]) -> usize {
        if self.next_least >= self.least_end {
            self.least_count += 1;
            while self.least_end < self.sorted.len() as isize && self.size_at(self.least_end, sizes) == self.least_count
            {
                self.least_end += 1;
            }
            self.next_least = 0;
        }
        let member = self.sorted[self.next_least as usize];
        self.next_least += 1;
        member
    }

    /// `nextMostLoadedMember`: the next giver, or `None` when none is left.
    fn next_most_loaded(&mut self, sizes: &[i64]) -> Option<usize> {
        if self.next_most < self.most_start {
            if self.most_end <= self.most_start && self.most_start > 0 {
                // The range was emptied by exclusions: restart its level from the next member
                // down so the expansion below always takes someone in.
                self.most_count = self.size_at(self.most_start - 1, sizes);
            } else {
                self.most_count -= 1;
            }
            while self.most_start > 0 && self.size_at(self.most_start - 1, sizes) == self.most_count {
                self.most_start -= 1;
            }
            self.next_most = self.most_end - 1;
        }
        if self.next_most < 0 {
            return None;
        }
        let member = self.sorted[self.next_most as usize];
        self.next_most -= 1;
        Some(member)
    }

    /// `excludeMostLoadedMember`: the member last returned by `next_most_loaded` leaves the most
    /// loaded range (swapped to its end, which then shrinks).
    fn exclude_most_loaded(&mut self) {
        let (at, end) = ((self.next_most + 1) as usize, (self.most_end - 1) as usize);
        self.sorted.swap(at, end);
        self.most_end -= 1;
    }

    fn is_balanced(&self) -> bool {
        self.most_count - self.least_count <= 1
    }
}
