//! Consumer lag status as operators read it: LinkedIn's Burrow, as its code evaluates it
//! (`linkedin/Burrow`: `core/internal/evaluator/caching.go`, `calculatePartitionStatus`;
//! `core/internal/storage/inmemory.go`, `addBrokerOffset` / `addConsumerOffset`;
//! `core/internal/cluster/kafka_cluster.go`, the broker-offset refresh), on virtual time, over the
//! commits the simulated coordinator accepted.
//!
//! Burrow keeps, per partition:
//! - the last `intervals` (10) **broker offsets**: the log end, fetched once at start and then every
//!   `offset-refresh` (10 s) — about 100 s of history ([`BrokerOffsets`]);
//! - the last `intervals` **commits**, each with its offset, its time (ms) and its lag against the
//!   newest broker offset at that moment (0 if the commit is ahead of it). A commit less than
//!   `min-distance` after the newest stored one replaces it and keeps the stored time
//!   ([`CommitWindow`]). A commit for a partition with no broker offset yet is dropped.
//!
//! A partition's status (`calculatePartitionStatus`), current lag being the newest broker offset
//! minus the newest commit:
//! 1. current lag ≤ `allowed-lag` (0): OK, nothing else is checked;
//! 2. STOP if the time since the newest commit exceeds the window's span (newest - oldest) and no
//!    broker offset in the ring is ≤ the newest commit (a consumer caught up at one of the last
//!    ~10 samples is not called stopped yet);
//! 3. REWIND if an offset went down from one commit to the next and no later commit reached the
//!    offset before the drop;
//! 4. if every commit in the window had lag > `allowed-lag`: STALL if every offset is the same,
//!    else WARN if the lag never decreased;
//! 5. otherwise OK.
//!
//! Burrow's clock for the STOP rule is whole seconds (`time.Now().Unix() * 1000` against commit
//! times in ms); so is this one. A group's status is its worst partition's, with STOP, STALL and
//! REWIND reported as ERR at the group level.

use crate::sim::SimTime;
use std::collections::VecDeque;

/// Burrow's status constants, in its order of severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum LagStatus {
    #[default]
    Ok,
    Warn,
    Err,
    Stop,
    Stall,
    Rewind,
}

impl LagStatus {
    pub fn name(self) -> &'static str {
        match self {
            LagStatus::Ok => "OK",
            LagStatus::Warn => "WARN",
            LagStatus::Err => "ERR",
            LagStatus::Stop => "STOP",
            LagStatus::Stall => "STALL",
            LagStatus::Rewind => "REWIND",
        }
    }

    /// The group-level status a partition status contributes (Burrow caps it at ERR).
    pub fn for_group(self) -> LagStatus {
        self.min(LagStatus::Err)
    }

    pub const ALL: [LagStatus; 6] =
        [LagStatus::Ok, LagStatus::Warn, LagStatus::Err, LagStatus::Stop, LagStatus::Stall, LagStatus::Rewind];
}

/// Burrow's settings, by its names: the cluster's `offset-refresh` (in the world, which takes the
/// samples), the storage's `intervals` and `min-distance`, the evaluator's `allowed-lag`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub intervals: usize,
    /// Milliseconds.
    pub min_distance_ms: u64,
    pub allowed_lag: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { intervals: INTERVALS, min_distance_ms: MIN_DISTANCE_MS, allowed_lag: 0 }
    }
}

/// Burrow's defaults: `intervals` 10 (storage), `offset-refresh` 10 s (cluster), `allowed-lag` 0
/// (evaluator); `min-distance` is 1 s in Burrow's shipped config/burrow.toml (0 when unset).
pub const INTERVALS: usize = 10;
pub const OFFSET_REFRESH_S: u64 = 10;
pub const MIN_DISTANCE_MS: u64 = 1_000;

fn ms(t: SimTime) -> i64 {
    (t.as_nanos() / 1_000_000) as i64
}

/// The log-end offsets Burrow fetched for one partition, oldest first (its broker ring).
#[derive(Clone, Debug, Default)]
pub struct BrokerOffsets {
    samples: VecDeque<u64>,
    /// Refreshes so far: a commit window's judgement made at an older count is stale.
    refreshes: u32,
    /// The newest sample, beside the ring: every commit reads it (one cache line, not two).
    newest: u64,
}

impl BrokerOffsets {
    /// A refresh fetched `log_end`; the ring keeps the last `intervals`.
    pub fn add(&mut self, log_end: u64, intervals: usize) {
        if self.samples.len() == intervals {
            self.samples.pop_front();
        }
        self.samples.push_back(log_end);
        self.refreshes = self.refreshes.saturating_add(1);
        self.newest = log_end;
    }

    pub fn newest(&self) -> Option<u64> {
        debug_assert_eq!(self.samples.back().copied(), (self.refreshes > 0).then_some(self.newest));
        (self.refreshes > 0).then_some(self.newest)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct StoredCommit {
    offset: u64,
    /// Milliseconds, as Burrow stores commit timestamps.
    time_ms: i64,
    lag: u64,
}

/// `StoredCommit::time_ms` of a window holding no commit.
const NO_COMMIT: i64 = i64::MIN;

/// The last `intervals` commits of one partition, as Burrow stores them. Every group keeps one
/// per partition it commits, so it is kept to 48 bytes: the older commits (a partition whose
/// commits come at least `min-distance` apart) in a ring on the heap, the newest inline.
#[derive(Clone, Debug)]
pub struct CommitWindow {
    /// The stored commits before the newest, oldest first.
    /// Boxed: a pointer (8 bytes, none for most partitions) instead of a 32-byte ring head.
    #[allow(clippy::box_collection)]
    older: Option<Box<VecDeque<StoredCommit>>>,
    /// The newest (`NO_COMMIT` when none), kept inline: commits closer than `min-distance`
    /// replace it, so most commits read and write only this (over 10,000 partitions the ring is
    /// a cache miss away).
    newest: StoredCommit,
    /// The window judged against the broker ring as it was after `Judged::refreshes` refreshes:
    /// only a commit or a refresh changes the status, and time only ever turns it to STOP, so a
    /// sample reads it without judging the window again.
    judged: std::cell::Cell<Option<Judged>>,
}

/// A window's status with the clock left out: `rest` until Burrow's clock (whole seconds, in
/// ms) passes `stop_after_ms`, then STOP if `stop_possible`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Judged {
    stop_after_ms: i64,
    refreshes: u32,
    stop_possible: bool,
    rest: LagStatus,
}

impl Judged {
    fn at(self, now: SimTime) -> LagStatus {
        let now_ms = (now.as_nanos() / 1_000_000_000) as i64 * 1000;
        if self.stop_possible && now_ms > self.stop_after_ms { LagStatus::Stop } else { self.rest }
    }
}

impl Default for CommitWindow {
    fn default() -> Self {
        CommitWindow {
            older: None,
            newest: StoredCommit { offset: 0, time_ms: NO_COMMIT, lag: 0 },
            judged: std::cell::Cell::new(None),
        }
    }
}

impl CommitWindow {
    fn newest(&self) -> Option<&StoredCommit> {
        (self.newest.time_ms != NO_COMMIT).then_some(&self.newest)
    }

    fn older_len(&self) -> usize {
        self.older.as_ref().map_or(0, |o| o.len())
    }

    /// A commit of `offset` accepted at `time`, with Burrow's broker offsets of the partition as
    /// they are then. Dropped when Burrow has no broker offset for the partition yet.
    pub fn add(&mut self, offset: u64, time: SimTime, broker: &BrokerOffsets, s: &Settings) {
        let Some(newest) = broker.newest() else { return };
        self.judged.set(None);
        // Broker offsets are periodic, so a commit can be ahead of the newest: zero lag then.
        let lag = newest.saturating_sub(offset);
        let time_ms = ms(time);
        let had_newest = self.newest().is_some();
        if had_newest && time_ms - self.newest.time_ms < s.min_distance_ms as i64 {
            // mergeFrequentCommitIntoPrevious: the newest entry is replaced, keeping its time
            // (else a committer faster than min-distance would never add an entry).
            self.newest = StoredCommit { offset, time_ms: self.newest.time_ms, lag };
            return;
        }
        // The oldest goes when the window is full (the newest itself when it holds one).
        let mut keep_newest = had_newest;
        if self.older_len() + usize::from(had_newest) >= s.intervals
            && self.older.as_mut().and_then(|o| o.pop_front()).is_none()
        {
            keep_newest = false;
        }
        if keep_newest {
            self.older.get_or_insert_with(Default::default).push_back(self.newest);
        }
        self.newest = StoredCommit { offset, time_ms, lag };
    }

    /// The stored commits, oldest first.
    fn commits(&self) -> impl Iterator<Item = &StoredCommit> + Clone {
        self.older.iter().flat_map(|o| o.iter()).chain(self.newest())
    }

    /// The partition's status at `now`, given Burrow's broker offsets of it.
    pub fn evaluate(&self, broker: &BrokerOffsets, now: SimTime, s: &Settings) -> LagStatus {
        self.judge(broker, s).at(now)
    }

    /// The same as [`evaluate`](Self::evaluate), judging the window again only when a commit or
    /// a broker refresh came since it was last judged.
    pub fn status(&self, broker: &BrokerOffsets, now: SimTime, s: &Settings) -> LagStatus {
        let judged = match self.judged.get() {
            Some(j) if j.refreshes == broker.refreshes => j,
            _ => {
                let j = self.judge(broker, s);
                self.judged.set(Some(j));
                j
            }
        };
        debug_assert_eq!(judged, self.judge(broker, s), "a stale judgement of a commit window");
        judged.at(now)
    }

    /// calculatePartitionStatus with its clock left out (see [`Judged`]).
    fn judge(&self, broker: &BrokerOffsets, s: &Settings) -> Judged {
        let refreshes = broker.refreshes;
        let ok = Judged { stop_after_ms: 0, refreshes, stop_possible: false, rest: LagStatus::Ok };
        let (Some(first), Some(last)) = (self.commits().next(), self.newest()) else {
            return ok; // no commits: nothing to evaluate
        };
        let current_lag = broker.newest().map_or(0, |b| b.saturating_sub(last.offset));
        if current_lag <= s.allowed_lag {
            return ok;
        }
        // checkIfOffsetsStopped, against Burrow's clock in whole seconds: stopped once the time
        // since the newest commit exceeds the window's span.
        let stop_after_ms = last.time_ms + (last.time_ms - first.time_ms);
        // checkIfRecentLagZero: caught up at one of the broker offsets still in the ring.
        let recent_lag_zero = broker.samples.iter().any(|&b| b <= last.offset);
        let judged = |rest| Judged { stop_after_ms, refreshes, stop_possible: !recent_lag_zero, rest };
        let c = self.commits();
        // checkIfOffsetsRewind finds the first drop; checkIfRewindRecovered looks for a later
        // commit at or past the offset before it.
        let pairs = c.clone().zip(c.clone().skip(1));
        if let Some((i, before)) =
            pairs.enumerate().find(|(_, (a, b))| b.offset < a.offset).map(|(i, (a, _))| (i + 1, a))
            && !c.clone().skip(i).any(|x| x.offset >= before.offset)
        {
            return judged(LagStatus::Rewind);
        }
        if c.clone().all(|x| x.lag > s.allowed_lag) {
            if c.clone().all(|x| x.offset == first.offset) {
                return judged(LagStatus::Stall);
            }
            if c.clone().zip(c.clone().skip(1)).all(|(a, b)| b.lag >= a.lag) {
                return judged(LagStatus::Warn);
            }
        }
        judged(LagStatus::Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> SimTime {
        SimTime(secs * 1_000_000_000)
    }

    const DEFAULT: Settings = Settings { intervals: INTERVALS, min_distance_ms: MIN_DISTANCE_MS, allowed_lag: 0 };

    fn broker(samples: &[u64]) -> BrokerOffsets {
        let mut b = BrokerOffsets::default();
        for &x in samples {
            b.add(x, INTERVALS);
        }
        b
    }

    /// Commits every 2 s of `(offset, newest broker offset then)`.
    fn window(commits: &[(u64, u64)]) -> CommitWindow {
        let mut w = CommitWindow::default();
        for (i, &(off, end)) in commits.iter().enumerate() {
            w.add(off, s(2 * i as u64), &broker(&[end]), &DEFAULT);
        }
        w
    }

    #[test]
    fn no_commits_is_ok() {
        assert_eq!(CommitWindow::default().evaluate(&broker(&[100]), s(50), &DEFAULT), LagStatus::Ok);
    }

    #[test]
    fn no_current_lag_is_ok_whatever_the_window_says() {
        let w = window(&[(10, 20), (20, 40), (30, 60)]);
        assert_eq!(w.evaluate(&broker(&[30]), s(500), &DEFAULT), LagStatus::Ok);
        assert_eq!(w.evaluate(&broker(&[35]), s(500), &Settings { allowed_lag: 5, ..DEFAULT }), LagStatus::Ok);
    }

    /// The fault the old rule order hid: a consumer caught up at its last commits that then stops
    /// committing read OK for ever (zero lag in the window came first). STOP is held off only
    /// while a broker offset in the ring is at or below its last commit.
    #[test]
    fn a_consumer_that_stops_after_catching_up_is_stopped_once_the_broker_offsets_move_past_it() {
        // Caught up at every commit: offsets 10..50, lag 0 each.
        let w = window(&[(10, 10), (20, 20), (30, 30), (40, 40), (50, 50)]);
        // The ring still holds a sample at 50 (the log end then): not stopped yet.
        let mut b = broker(&[50]);
        for end in [60, 70, 80] {
            b.add(end, INTERVALS);
        }
        assert_eq!(w.evaluate(&b, s(100), &DEFAULT), LagStatus::Ok, "recent lag zero holds STOP off");
        // Ten more refreshes push the 50 out of the ring: STOP.
        for end in 9..19 {
            b.add(end * 10, INTERVALS);
        }
        assert_eq!(w.evaluate(&b, s(200), &DEFAULT), LagStatus::Stop);
        // Not while the time since the last commit (8 s) is within the window's span (8 s).
        assert_eq!(w.evaluate(&b, s(16), &DEFAULT), LagStatus::Ok);
        assert_eq!(w.evaluate(&b, s(17), &DEFAULT), LagStatus::Stop);
    }

    #[test]
    fn stop_is_judged_on_whole_seconds_as_burrow_does() {
        let w = window(&[(10, 20), (20, 40), (30, 50), (40, 60)]); // span 0..6 s, last at 6 s
        let b = broker(&[60]);
        // At 12.9 s Burrow's clock reads 12 s: 6 s since the last commit is not more than 6 s.
        assert_eq!(w.evaluate(&b, SimTime(12_900_000_000), &DEFAULT), LagStatus::Warn);
        assert_eq!(w.evaluate(&b, s(13), &DEFAULT), LagStatus::Stop);
    }

    #[test]
    fn an_offset_going_backwards_is_a_rewind_until_a_later_commit_reaches_it_again() {
        let w = window(&[(10, 20), (30, 40), (15, 50)]);
        assert_eq!(w.evaluate(&broker(&[60]), s(4), &DEFAULT), LagStatus::Rewind);
        let recovered = window(&[(10, 20), (30, 40), (15, 50), (30, 55)]);
        assert_eq!(recovered.evaluate(&broker(&[60]), s(6), &DEFAULT), LagStatus::Ok);
    }

    #[test]
    fn zero_lag_at_a_commit_clears_stall_and_warn_but_not_stop_or_rewind() {
        let w = window(&[(10, 20), (20, 20), (25, 40), (30, 60)]);
        assert_eq!(w.evaluate(&broker(&[70]), s(6), &DEFAULT), LagStatus::Ok);
        let rewound = window(&[(10, 10), (30, 40), (15, 50)]);
        assert_eq!(rewound.evaluate(&broker(&[60]), s(4), &DEFAULT), LagStatus::Rewind);
    }

    #[test]
    fn the_same_offset_committed_over_and_over_with_lag_is_a_stall() {
        let w = window(&[(10, 20), (10, 30), (10, 40)]);
        assert_eq!(w.evaluate(&broker(&[40]), s(4), &DEFAULT), LagStatus::Stall);
    }

    /// Burrow judges a one-commit window too: with lag and nothing committed since, it is stopped
    /// (unless caught up at a recent broker offset) or stalled.
    #[test]
    fn a_single_commit_with_lag_is_stopped_or_stalled() {
        let w = window(&[(10, 20)]);
        assert_eq!(w.evaluate(&broker(&[30]), s(0), &DEFAULT), LagStatus::Stall);
        assert_eq!(w.evaluate(&broker(&[30]), s(1), &DEFAULT), LagStatus::Stop);
        assert_eq!(w.evaluate(&broker(&[5, 30]), s(1), &DEFAULT), LagStatus::Stall, "caught up at a sample");
    }

    #[test]
    fn lag_that_never_decreases_is_a_warning_and_one_decrease_clears_it() {
        let growing = window(&[(10, 20), (20, 40), (30, 60)]);
        assert_eq!(growing.evaluate(&broker(&[60]), s(4), &DEFAULT), LagStatus::Warn);
        let catching_up = window(&[(10, 20), (20, 40), (38, 45)]);
        assert_eq!(catching_up.evaluate(&broker(&[50]), s(4), &DEFAULT), LagStatus::Ok);
    }

    #[test]
    fn a_window_takes_48_bytes() {
        // One per group-partition committed: 300 groups over 10,000 partitions keep 3 million.
        assert_eq!(std::mem::size_of::<CommitWindow>(), 48);
    }

    #[test]
    fn lag_at_a_commit_is_against_the_newest_broker_offset_and_never_negative() {
        let mut w = CommitWindow::default();
        w.add(10, s(0), &broker(&[8]), &DEFAULT);
        assert_eq!(w.commits().collect::<Vec<_>>()[0].lag, 0, "a commit ahead of the last broker offset has no lag");
        w.add(20, s(2), &broker(&[8, 50]), &DEFAULT);
        assert_eq!(w.commits().collect::<Vec<_>>()[1].lag, 30);
        let before_any_refresh = BrokerOffsets::default();
        w.add(30, s(4), &before_any_refresh, &DEFAULT);
        assert_eq!(w.commits().count(), 2, "dropped: no broker offset for the partition yet");
    }

    #[test]
    fn commits_closer_than_min_distance_replace_the_newest_and_keep_its_time() {
        let b = broker(&[20]);
        let mut w = CommitWindow::default();
        w.add(10, s(0), &b, &DEFAULT);
        w.add(12, SimTime(500_000_000), &b, &DEFAULT);
        w.add(14, SimTime(900_000_000), &b, &DEFAULT);
        assert_eq!(w.commits().count(), 1);
        assert_eq!(*w.commits().collect::<Vec<_>>()[0], StoredCommit { offset: 14, time_ms: 0, lag: 6 });
        w.add(16, SimTime(1_100_000_000), &b, &DEFAULT);
        assert_eq!(w.commits().count(), 2);
        for i in 0..20 {
            w.add(20 + i, s(2 + i), &b, &DEFAULT);
        }
        assert_eq!(w.commits().count(), INTERVALS, "only the last ten are kept");
        let mut three = CommitWindow::default();
        for i in 0..5 {
            three.add(i, s(2 * i), &b, &Settings { intervals: 3, min_distance_ms: 0, allowed_lag: 0 });
        }
        assert_eq!(three.commits().count(), 3);
    }

    #[test]
    fn the_broker_ring_keeps_the_last_intervals_samples() {
        let mut b = BrokerOffsets::default();
        for x in 0..15 {
            b.add(x, INTERVALS);
        }
        assert_eq!(b.samples.len(), INTERVALS);
        assert_eq!((b.samples[0], b.newest()), (5, Some(14)));
    }

    #[test]
    fn group_status_caps_at_err() {
        assert_eq!(LagStatus::Rewind.for_group(), LagStatus::Err);
        assert_eq!(LagStatus::Warn.for_group(), LagStatus::Warn);
    }
}
