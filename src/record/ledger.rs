//! A group's ledger: what it was delivered and processed (to tell first deliveries from
//! duplicates and replays), what it skipped on purpose and lost, and what its rebalances and
//! outages cost. The model writes it as things happen; the report reads it after the run.

use super::intervals::IntervalSet;
use crate::scenario::plan::CommitMode;
use crate::sim::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// Why a partition's next reader starts from the committed offset: the cause any duplicate
/// it reads will be charged to.
pub type Cause = &'static str;

/// A rewound range still to be replayed: `[start, until)`, created by a seek or reset at
/// `since`. Batches fetched before `since` are not part of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Replay {
    pub start: u64,
    pub until: u64,
    pub since: SimTime,
}

/// A table with one entry per partition of the world, allocated fallibly: a world too big for
/// the machine is refused with an error, not aborted (Vec::try_reserve_exact).
pub fn dense<T: Clone>(n: usize, value: T) -> Result<Vec<T>, std::collections::TryReserveError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)?;
    v.resize(n, value);
    Ok(v)
}

/// A dense table's "none": no offset, no time.
const NONE: u64 = u64::MAX;

fn some(v: u64) -> Option<u64> {
    (v != NONE).then_some(v)
}

pub struct Ledger {
    // ---- per partition (dense over all partitions of the world) ----
    // Every group keeps these for every partition of the world, so they are kept small: 57
    // bytes a partition, "none" written as u64::MAX, the rare entries (replays, skips) kept
    // only where they exist.
    pub processed: Vec<IntervalSet>,
    /// Offsets handed to the application by a poll (or taken from a push buffer).
    pub delivered: Vec<IntervalSet>,
    /// The first offset the group started reading each partition from (loss is counted above it).
    first_offset: Vec<u64>,
    /// An index into `causes`.
    rewind_cause: Vec<u8>,
    /// The causes named so far, in the order first named ("rebalance" first).
    causes: Vec<Cause>,
    /// `[from, until)` rewound to on purpose (seek, reset): repeats there are replays. The window
    /// shrinks from the front as it is replayed, so a later crash's re-reads are duplicates.
    replay_until: BTreeMap<u32, Replay>,
    /// Records skipped on purpose (a forward seek or reset, an out-of-range reset): the
    /// at-least-once invariant allows exactly these gaps.
    skipped: BTreeMap<u32, u64>,
    /// Since when (ns) each partition has had no live owner.
    paused_since: Vec<u64>,
    /// When (ns) each partition was taken from a live owner by a rebalance and not yet handed on.
    revoked_at: Vec<u64>,

    // ---- counters ----
    pub duplicates_by_cause: BTreeMap<Cause, u64>,
    pub replays: u64,
    /// Records skipped by out-of-range resets: already deleted (retention) or jumped over (latest).
    pub lost_retention: u64,
    pub lost_reset: u64,
    /// Records jumped over by a forward seek or offset reset.
    pub lost_seek: u64,
    pub commits_rejected: u64,
    /// Records in hand when the run ended (fetched or pushed, not yet processed), as
    /// `(partition, from, to)`: neither processed nor lost.
    pub in_hand_at_end: Vec<(u32, u64, u64)>,

    // ---- rebalances and pauses ----
    pub rebalances: u64,
    pub partitions_moved: u64,
    pub stw_since: Option<SimTime>,
    pub stw_total: SimDuration,
    pub stw_max: SimDuration,
    pub pause_total: SimDuration,
    /// The rebalance under way: partitions taken from live owners, and the time they waited
    /// for their next owner (reported by its rebalance_completed, then reset).
    pub rb_revoked: u64,
    pub rb_pause: SimDuration,
    pub revoked_total: u64,
    pub rebalance_pause_total: SimDuration,
    pub rebalance_pause_max: SimDuration,
    /// How long completed rebalances took, from their start until the group was stable again
    /// (Kafka's consumer metric rebalance-latency-total / -max).
    pub rebalance_latency_total: SimDuration,
    pub rebalance_latency_max: SimDuration,
    /// The revocations and pause of a rebalance still in progress when the run ended (counted
    /// in the totals above too), so the numbers agree with the events the run wrote.
    pub unfinished_rebalance: Option<(u64, SimDuration)>,
}

impl Ledger {
    /// Bytes per partition of the world of the dense tables.
    pub fn dense_bytes_per_partition() -> usize {
        use std::mem::size_of;
        2 * size_of::<IntervalSet>() // processed, delivered
            + size_of::<u64>() // first_offset
            + size_of::<u8>() // rewind_cause
            + 2 * size_of::<u64>() // paused_since, revoked_at
    }

    pub fn new(total_partitions: usize) -> Result<Self, std::collections::TryReserveError> {
        let n = total_partitions;
        Ok(Ledger {
            processed: dense(n, IntervalSet::default())?,
            delivered: dense(n, IntervalSet::default())?,
            first_offset: dense(n, NONE)?,
            rewind_cause: dense(n, 0)?,
            causes: vec!["rebalance"],
            replay_until: BTreeMap::new(),
            skipped: BTreeMap::new(),
            paused_since: dense(n, NONE)?,
            revoked_at: dense(n, NONE)?,
            duplicates_by_cause: BTreeMap::new(),
            replays: 0,
            lost_retention: 0,
            lost_reset: 0,
            lost_seek: 0,
            commits_rejected: 0,
            in_hand_at_end: Vec::new(),
            rebalances: 0,
            partitions_moved: 0,
            stw_since: None,
            stw_total: SimDuration::ZERO,
            stw_max: SimDuration::ZERO,
            pause_total: SimDuration::ZERO,
            rb_revoked: 0,
            rb_pause: SimDuration::ZERO,
            revoked_total: 0,
            rebalance_pause_total: SimDuration::ZERO,
            rebalance_pause_max: SimDuration::ZERO,
            rebalance_latency_total: SimDuration::ZERO,
            rebalance_latency_max: SimDuration::ZERO,
            unfinished_rebalance: None,
        })
    }

    /// The first offset the group started reading `partition` from.
    pub fn first_offset(&self, partition: u32) -> Option<u64> {
        some(self.first_offset[partition as usize])
    }

    /// The group starts reading `partition` at `offset`: the first offset is the lowest so far.
    pub fn lower_first_offset(&mut self, partition: u32, offset: u64) {
        let f = &mut self.first_offset[partition as usize];
        *f = (*f).min(offset);
    }

    /// Why `partition`'s next reader starts from the committed offset.
    pub fn rewind_cause(&self, partition: u32) -> Cause {
        self.causes[usize::from(self.rewind_cause[partition as usize])]
    }

    pub fn set_rewind_cause(&mut self, partition: u32, cause: Cause) {
        let i = match self.causes.iter().position(|&c| c == cause) {
            Some(i) => i,
            None => {
                self.causes.push(cause);
                self.causes.len() - 1
            }
        };
        self.rewind_cause[partition as usize] = u8::try_from(i).expect("a handful of causes");
    }

    /// The rewound range of `partition` still to be replayed.
    pub fn replay(&self, partition: u32) -> Option<Replay> {
        self.replay_until.get(&partition).copied()
    }

    pub fn set_replay(&mut self, partition: u32, replay: Option<Replay>) {
        match replay {
            Some(r) => self.replay_until.insert(partition, r),
            None => self.replay_until.remove(&partition),
        };
    }

    /// Records of `partition` skipped on purpose.
    pub fn skipped(&self, partition: u32) -> u64 {
        self.skipped.get(&partition).copied().unwrap_or(0)
    }

    /// Since when `partition` has had no live owner (see `coordinator::clocks`).
    pub fn paused_since(&self, partition: u32) -> Option<SimTime> {
        some(self.paused_since[partition as usize]).map(SimTime)
    }

    pub fn set_paused_since(&mut self, partition: u32, since: Option<SimTime>) {
        self.paused_since[partition as usize] = since.map_or(NONE, |t| t.as_nanos());
    }

    /// Records that `[from, to)` (of a batch fetched at `fetched`) was processed; returns how many
    /// were unintended repeats (duplicates). Repeats inside a rewound range, read forward by a batch
    /// fetched after the rewind, are replays: each record of the range counts once.
    pub fn mark_processed(&mut self, partition: u32, from: u64, to: u64, fetched: SimTime) -> u64 {
        let p = partition as usize;
        // Replays are rare: most batches find the map empty and look no further.
        let replay = if self.replay_until.is_empty() { None } else { self.replay(partition) };
        let replayed = match replay {
            Some(r) if fetched >= r.since && from <= r.start && to > r.start => {
                let end = to.min(r.until);
                self.set_replay(partition, (end < r.until).then_some(Replay { start: end, ..r }));
                self.processed[p].count_in(r.start, end)
            }
            _ => 0,
        };
        let again = self.processed[p].insert(from, to) - replayed;
        self.replays += replayed;
        if again > 0 {
            let cause = self.rewind_cause(partition);
            *self.duplicates_by_cause.entry(cause).or_default() += again;
        }
        again
    }

    /// Records the group committed past (`committed`) without ever processing. Records still in
    /// hand when the run ended (an at-most-once consumer commits before it processes) are not lost.
    pub fn lost(&self, partition: u32, committed: Option<u64>) -> u64 {
        let p = partition as usize;
        match (self.first_offset(partition), committed) {
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
            let n = (to - from) - self.processed[p].count_in(from, to);
            *self.skipped.entry(partition).or_default() += n;
        }
    }

    /// Records deleted by retention beyond the committed offset that the group never processed
    /// (it had not reached them yet when their segment went).
    pub fn deleted_unread(&self, partition: u32, committed: Option<u64>, log_start: u64) -> u64 {
        let p = partition as usize;
        let from = committed.or(self.first_offset(partition));
        match from {
            Some(from) if log_start > from => (log_start - from) - self.processed[p].count_in(from, log_start),
            _ => 0,
        }
    }

    /// A live owner gave `partition` up to a rebalance at `now`.
    pub fn note_revoked(&mut self, partition: u32, now: SimTime) {
        self.revoked_at[partition as usize] = now.as_nanos();
        self.rb_revoked += 1;
    }

    /// `partition` reached its next owner at `now`: the wait since its revocation is this
    /// rebalance's cost.
    pub fn note_received(&mut self, partition: u32, now: SimTime) {
        let t = std::mem::replace(&mut self.revoked_at[partition as usize], NONE);
        if let Some(t) = some(t) {
            self.rb_pause += now - SimTime(t);
        }
    }

    /// The run ends during a rebalance: its revocations count, and so does the pause of every
    /// partition revoked and not yet received, up to `end`.
    pub fn close_unfinished_rebalance(&mut self, end: SimTime) {
        for t in &mut self.revoked_at {
            if let Some(t) = some(std::mem::replace(t, NONE)) {
                self.rb_pause += end - SimTime(t);
            }
        }
        let cost = self.close_rebalance_cost();
        self.unfinished_rebalance = Some(cost);
    }

    /// A rebalance completed after `took`.
    pub fn note_rebalance_latency(&mut self, took: SimDuration) {
        self.rebalance_latency_total += took;
        self.rebalance_latency_max = self.rebalance_latency_max.max(took);
    }

    /// Closes the rebalance being reported: returns (revoked partitions, pause) and resets them.
    pub fn close_rebalance_cost(&mut self) -> (u64, SimDuration) {
        let out = (self.rb_revoked, self.rb_pause);
        self.revoked_total += out.0;
        self.rebalance_pause_total += out.1;
        self.rebalance_pause_max = self.rebalance_pause_max.max(out.1);
        self.rb_revoked = 0;
        self.rb_pause = SimDuration::ZERO;
        out
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
mod tests {
    use super::*;

    #[test]
    fn a_partition_costs_57_bytes_of_dense_tables() {
        // Every group keeps them for every partition of the world (issue 25: at most 200 bytes
        // per idle group-partition in all).
        assert_eq!(Ledger::dense_bytes_per_partition(), 57);
    }

    #[test]
    fn compact_entries_read_back_what_was_written() {
        let mut l = Ledger::new(4).unwrap();
        assert_eq!(l.first_offset(1), None);
        l.lower_first_offset(1, 30);
        l.lower_first_offset(1, 40);
        assert_eq!(l.first_offset(1), Some(30));
        assert_eq!(l.rewind_cause(2), "rebalance");
        l.set_rewind_cause(2, "crash");
        l.set_rewind_cause(3, "crash");
        assert_eq!((l.rewind_cause(2), l.rewind_cause(3), l.rewind_cause(0)), ("crash", "crash", "rebalance"));
        l.skip(0, 5, 10);
        l.skip(0, 20, 21);
        assert_eq!((l.skipped(0), l.skipped(1)), (6, 0));
        l.set_paused_since(3, Some(SimTime(7)));
        assert_eq!(l.paused_since(3), Some(SimTime(7)));
        l.set_paused_since(3, None);
        assert_eq!(l.paused_since(3), None);
        l.note_revoked(0, SimTime(100));
        l.note_received(0, SimTime(150));
        l.note_received(0, SimTime(900));
        assert_eq!(l.rb_pause.as_nanos(), 50);
    }
}
