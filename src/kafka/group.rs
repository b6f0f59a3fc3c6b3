//! A consumer group's broker-side state: the classic group coordinator's membership and
//! generation, committed offsets, who owns what, and what the group has processed (to tell first
//! deliveries from duplicates).

use crate::record::intervals::IntervalSet;
use crate::scenario::plan::{CommitMode, RebalanceProtocol};
use crate::sim::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// Kafka's ClassicGroupState (Dead is not modelled: groups live for the whole run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
}

/// A member as the coordinator knows it.
#[derive(Clone, Debug)]
pub struct Member {
    pub consumer: usize,
    pub group_instance_id: Option<String>,
    /// Rejoined in the current join phase.
    pub joined: bool,
    /// Heartbeating. A crashed member (or a static one that stopped) stays a member, silent,
    /// until its session times out.
    pub alive: bool,
    /// The assignment of the member's last completed SyncGroup (global partition ids).
    pub assignment: Vec<u32>,
    /// The generation that assignment belongs to (the sticky assignor's user data).
    pub generation: i32,
    /// When its last heartbeat reached the coordinator (for the session timeout).
    pub last_heartbeat: SimTime,
}

/// An ongoing rebalance, from PreparingRebalance until the new assignment is synced.
#[derive(Clone, Debug)]
pub struct Rebalance {
    pub started: SimTime,
    pub reason: crate::record::event::RebalanceReason,
    /// Set while `group.initial.rebalance.delay.ms` holds the first join open.
    pub initial_delay_left: Option<SimDuration>,
    pub joined_during_delay: bool,
    /// stop-the-world time already counted when it started (the event reports this rebalance's share).
    pub stw_before: SimDuration,
}

/// A rewound range still to be replayed: `[start, until)`, created by a seek or reset at
/// `since`. Batches fetched before `since` are not part of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Replay {
    pub start: u64,
    pub until: u64,
    pub since: SimTime,
}

/// Why a partition's next reader starts from the committed offset: the cause any duplicate
/// it reads will be charged to.
pub type Cause = &'static str;

pub struct Group {
    pub id: String,
    pub protocol: RebalanceProtocol,
    /// Global partition ids of every partition of the subscribed topics, in (topic, partition) order.
    pub partitions: Vec<u32>,
    /// Consumers (global indices) in the group, in scenario order.
    pub consumers: Vec<usize>,

    // ---- coordinator ----
    pub state: GroupState,
    pub generation: i32,
    /// member id -> member; a BTreeMap so every walk over members is in member-id order.
    pub members: BTreeMap<String, Member>,
    pub leader: Option<String>,
    pub rebalance: Option<Rebalance>,
    /// Bumped at every phase change, so timers of an earlier phase are recognised as stale.
    pub round: u32,

    // ---- offsets and ownership (dense over all partitions of the world) ----
    pub committed: Vec<Option<u64>>,
    pub owner: Vec<Option<usize>>,
    /// Owner per the last completed assignment (dead members included), to count moved partitions.
    pub assigned_to: Vec<Option<usize>>,
    /// Push delivery: the next offset the broker sends of each partition.
    pub push_offset: Vec<u64>,
    /// Bumped when a partition's push stream restarts (seek, reset, new owner): older messages
    /// still on the wire are recognised as stale.
    pub push_epoch: Vec<u32>,
    pub processed: Vec<IntervalSet>,
    /// Offsets handed to the application by a poll (or taken from a push buffer).
    pub delivered: Vec<IntervalSet>,
    /// The first offset the group started reading each partition from (loss is counted above it).
    pub first_offset: Vec<Option<u64>>,
    pub rewind_cause: Vec<Cause>,

    // ---- accounting ----
    pub rebalances: u64,
    pub partitions_moved: u64,
    pub stw_since: Option<SimTime>,
    pub stw_total: SimDuration,
    pub stw_max: SimDuration,
    pub paused_since: Vec<Option<SimTime>>,
    pub pause_total: SimDuration,
    pub duplicates_by_cause: BTreeMap<Cause, u64>,
    /// `[from, until)` rewound to on purpose (seek, reset): repeats there are replays. The window
    /// shrinks from the front as it is replayed, so a later crash's re-reads are duplicates.
    pub replay_until: Vec<Option<Replay>>,
    /// Records skipped on purpose (a forward seek or reset, an out-of-range reset): the
    /// at-least-once invariant allows exactly these gaps.
    pub skipped: Vec<u64>,
    pub replays: u64,
    /// Records skipped by out-of-range resets: already deleted (retention) or jumped over (latest).
    pub lost_retention: u64,
    pub lost_reset: u64,
    /// Records jumped over by a forward seek or offset reset.
    pub lost_seek: u64,
    /// Removed by a timeline `remove_group`.
    pub removed: bool,
    pub commits_rejected: u64,
    /// When each partition was taken from a live owner by a rebalance and not yet handed on.
    pub revoked_at: Vec<Option<SimTime>>,
    /// The rebalance under way: partitions taken from live owners, and the time they waited
    /// for their next owner (reported by its rebalance_completed, then reset).
    /// Records in hand when the run ended (fetched or pushed, not yet processed), as
    /// `(partition, from, to)`: neither processed nor lost.
    pub in_hand_at_end: Vec<(u32, u64, u64)>,
    /// How many rebalances have started: the `rebalance` number that ties a rebalance's
    /// started / restarted / completed / abandoned events together.
    pub rebalance_seq: u64,
    pub rb_revoked: u64,
    pub rb_pause: SimDuration,
    pub revoked_total: u64,
    pub rebalance_pause_total: SimDuration,
    pub rebalance_pause_max: SimDuration,
    /// Set for a share group (`type: share`): its coordinator and share-partition state.
    pub share: Option<Box<crate::kafka::share::group::ShareGroup>>,
}

/// A table with one entry per partition of the world, allocated fallibly: a world too big for
/// the machine is refused with an error, not aborted (Vec::try_reserve_exact).
pub fn dense<T: Clone>(n: usize, value: T) -> Result<Vec<T>, std::collections::TryReserveError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)?;
    v.resize(n, value);
    Ok(v)
}

impl Group {
    /// Bytes per partition of the world that a group's dense tables take (the cost estimate's
    /// `GROUP_DENSE_BYTES` must cover it).
    pub fn dense_bytes_per_partition() -> usize {
        use std::mem::size_of;
        2 * size_of::<Option<u64>>() // committed, first_offset
            + 2 * size_of::<Option<usize>>() // owner, assigned_to
            + size_of::<u64>() + size_of::<u32>() // push_offset, push_epoch
            + 2 * size_of::<IntervalSet>() // processed, delivered
            + size_of::<Cause>() // rewind_cause
            + 2 * size_of::<Option<SimTime>>() // paused_since, revoked_at
            + size_of::<Option<Replay>>() // replay_until
            + size_of::<u64>() // skipped
    }

    pub fn new(
        id: String,
        protocol: RebalanceProtocol,
        partitions: Vec<u32>,
        total_partitions: usize,
        consumers: Vec<usize>,
    ) -> Result<Self, std::collections::TryReserveError> {
        let n = total_partitions;
        Ok(Group {
            id,
            protocol,
            partitions,
            consumers,
            state: GroupState::Empty,
            generation: 0,
            members: BTreeMap::new(),
            leader: None,
            rebalance: None,
            round: 0,
            committed: dense(n, None)?,
            owner: dense(n, None)?,
            assigned_to: dense(n, None)?,
            push_offset: dense(n, 0)?,
            push_epoch: dense(n, 0)?,
            processed: dense(n, IntervalSet::default())?,
            delivered: dense(n, IntervalSet::default())?,
            first_offset: dense(n, None)?,
            rewind_cause: dense(n, "rebalance")?,
            rebalances: 0,
            partitions_moved: 0,
            stw_since: None,
            stw_total: SimDuration::ZERO,
            stw_max: SimDuration::ZERO,
            paused_since: dense(n, None)?,
            pause_total: SimDuration::ZERO,
            duplicates_by_cause: BTreeMap::new(),
            replay_until: dense(n, None)?,
            skipped: dense(n, 0)?,
            replays: 0,
            lost_retention: 0,
            lost_reset: 0,
            lost_seek: 0,
            removed: false,
            commits_rejected: 0,
            revoked_at: dense(n, None)?,
            in_hand_at_end: Vec::new(),
            rebalance_seq: 0,
            rb_revoked: 0,
            rb_pause: SimDuration::ZERO,
            revoked_total: 0,
            rebalance_pause_total: SimDuration::ZERO,
            rebalance_pause_max: SimDuration::ZERO,
            share: None,
        })
    }

    pub fn commit(&mut self, partition: u32, offset: u64) {
        self.committed[partition as usize] = Some(offset);
    }

    /// Records that `[from, to)` was processed; returns how many were unintended repeats
    /// (duplicates). Repeats below a seek or reset target are replays, counted apart.
    /// Records that `[from, to)` (of a batch fetched at `fetched`) was processed; returns how many
    /// were unintended repeats (duplicates). Repeats inside a rewound range, read forward by a batch
    /// fetched after the rewind, are replays: each record of the range counts once.
    pub fn mark_processed(&mut self, partition: u32, from: u64, to: u64, fetched: SimTime) -> u64 {
        let p = partition as usize;
        let replayed = match self.replay_until[p] {
            Some(r) if fetched >= r.since && from <= r.start && to > r.start => {
                let end = to.min(r.until);
                self.replay_until[p] = (end < r.until).then_some(Replay { start: end, ..r });
                self.processed[p].count_in(r.start, end)
            }
            _ => 0,
        };
        let again = self.processed[p].insert(from, to) - replayed;
        self.replays += replayed;
        if again > 0 {
            *self.duplicates_by_cause.entry(self.rewind_cause[p]).or_default() += again;
        }
        again
    }

    /// Records the group committed past without ever processing. Records still in hand when
    /// the run ended (an at-most-once consumer commits before it processes) are not lost.
    pub fn lost(&self, partition: u32) -> u64 {
        let p = partition as usize;
        match (self.first_offset[p], self.committed[p]) {
            (Some(first), Some(c)) if c > first => {
                let in_hand = self.in_hand_at_end.iter().filter(|r| r.0 == partition);
                if in_hand.clone().next().is_none() {
                    return (c - first) - self.processed[p].count_in(first, c);
                }
                let mut seen = self.processed[p].clone();
                for &(_, a, b) in in_hand {
                    seen.insert(a.max(first).min(c), b.max(first).min(c));
                }
                (c - first) - seen.count_in(first, c)
            }
            _ => 0,
        }
    }

    pub fn in_flight_at_end(&self) -> u64 {
        self.in_hand_at_end.iter().map(|&(_, a, b)| b - a).sum()
    }

    /// Counts `[from, to)` as skipped on purpose (records in it not processed yet).
    pub fn skip(&mut self, partition: u32, from: u64, to: u64) {
        let p = partition as usize;
        if to > from {
            self.skipped[p] += (to - from) - self.processed[p].count_in(from, to);
        }
    }

    /// Records deleted by retention beyond the committed offset that the group never processed
    /// (it had not reached them yet when their segment went).
    pub fn deleted_unread(&self, partition: u32, log_start: u64) -> u64 {
        let p = partition as usize;
        let from = self.committed[p].or(self.first_offset[p]);
        match from {
            Some(from) if log_start > from => (log_start - from) - self.processed[p].count_in(from, log_start),
            _ => 0,
        }
    }

    /// The member id a consumer currently holds in this group, if any.
    pub fn member_of(&self, consumer: usize) -> Option<&str> {
        self.members.iter().find(|(_, m)| m.consumer == consumer && m.alive).map(|(id, _)| id.as_str())
    }

    pub fn member_by_instance(&self, instance: &str) -> Option<String> {
        self.members.iter().find(|(_, m)| m.group_instance_id.as_deref() == Some(instance)).map(|(id, _)| id.clone())
    }

    /// A live owner gave `partition` up to a rebalance at `now`.
    pub fn note_revoked(&mut self, partition: u32, now: SimTime) {
        self.revoked_at[partition as usize] = Some(now);
        self.rb_revoked += 1;
    }

    /// `partition` reached its next owner at `now`: the wait since its revocation is this
    /// rebalance's cost.
    pub fn note_received(&mut self, partition: u32, now: SimTime) {
        if let Some(t) = self.revoked_at[partition as usize].take() {
            self.rb_pause = self.rb_pause + (now - t);
        }
    }

    /// Closes the rebalance being reported: returns (revoked partitions, pause) and resets them.
    pub fn close_rebalance_cost(&mut self) -> (u64, SimDuration) {
        let out = (self.rb_revoked, self.rb_pause);
        self.revoked_total += out.0;
        self.rebalance_pause_total = self.rebalance_pause_total + out.1;
        self.rebalance_pause_max = self.rebalance_pause_max.max(out.1);
        self.rb_revoked = 0;
        self.rb_pause = SimDuration::ZERO;
        out
    }

    pub fn is_rebalancing(&self) -> bool {
        matches!(self.state, GroupState::PreparingRebalance | GroupState::CompletingRebalance)
    }
}

/// Which loss cause a commit mode stands for.
pub fn loss_cause(mode: CommitMode) -> Cause {
    match mode {
        CommitMode::BeforeProcessing => "commit_before_processing",
        CommitMode::Auto => "auto_commit",
        CommitMode::AfterProcessing => "commit_after_processing",
    }
}

#[cfg(test)]
mod dense_tests {
    use super::*;

    /// The cost estimate counts a group's dense tables at `GROUP_DENSE_BYTES` per partition of
    /// the world (and a share group's at `SHARE_DENSE_BYTES` more): it must not undercount them.
    #[test]
    fn the_estimate_covers_the_dense_tables() {
        use crate::scenario::budget::{GROUP_DENSE_BYTES, SHARE_DENSE_BYTES};
        let group = Group::dense_bytes_per_partition() as u64;
        assert!(group <= GROUP_DENSE_BYTES, "{group} bytes per partition");
        assert!(group * 2 > GROUP_DENSE_BYTES, "not a gross overcount either: {group}");
        let share = crate::kafka::share::group::ShareGroup::dense_bytes_per_partition() as u64;
        assert!(share <= SHARE_DENSE_BYTES, "{share} bytes per partition");
    }

    #[test]
    fn a_table_too_big_for_memory_is_an_error_not_an_abort() {
        assert!(dense(usize::MAX / 2, 0u64).is_err());
        assert!(Group::new("g".into(), RebalanceProtocol::Eager, Vec::new(), usize::MAX / 64, Vec::new()).is_err());
    }
}
