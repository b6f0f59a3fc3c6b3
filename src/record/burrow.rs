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

/// The log-end offsets Burrow fetched for one partition, oldest first (its broker ring). The
/// newest is also kept in a dense table of its own ([`crate::record::Recorder`]), which is all a
/// commit reads: 8 bytes a partition stay cached where this 40-byte ring does not.
#[derive(Clone, Debug, Default)]
pub struct BrokerOffsets {
    samples: VecDeque<u64>,
    /// Refreshes so far: a commit window's judgement made at an older count is stale.
    refreshes: u32,
}

impl BrokerOffsets {
    /// A refresh fetched `log_end`; the ring keeps the last `intervals`.
    pub fn add(&mut self, log_end: u64, intervals: usize) {
        if self.samples.len() == intervals {
            self.samples.pop_front();
        }
        self.samples.push_back(log_end);
        self.refreshes = self.refreshes.saturating_add(1);
    }

    pub fn newest(&self) -> Option<u64> {
        self.samples.back().copied()
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
/// per partition it commits, so it is kept to 48 bytes: the newest inline, the older ones (a
/// partition whose commits come at least `min-distance` apart) in a ring on the heap.
#[derive(Clone, Debug)]
pub struct CommitWindow {
    /// The stored commits before the newest: a ring of `intervals - 1` slots, allocated at the
    /// first commit that needs one. One allocation holding the commits themselves (a boxed
    /// `VecDeque` was a pointer to a head pointing to the commits: two cache misses in a row
    /// on every commit that adds an entry, over 10,000 partitions).
    older: Option<Box<[StoredCommit]>>,
    /// Where the ring stands: below its length, the count of older commits (slots from 0, oldest
    /// first); from its length up the ring is full and the oldest is in slot `ring - length`.
    ring: u16,
    /// The newest (`NO_COMMIT` when none), kept inline: commits closer than `min-distance`
    /// replace it, so most commits read and write only this.
    newest: StoredCommit,
    /// The window judged against the broker ring as it was after `judged_at` refreshes: only a
    /// commit or a refresh changes the status, and time only ever turns it to STOP, so a sample
    /// reads it without judging the window again. When STOP is possible its time is worked out
    /// again from the window (rare; it keeps the window at 48 bytes).
    verdict: std::cell::Cell<Option<Verdict>>,
    judged_at: std::cell::Cell<u32>,
}

/// A window's status with the clock left out: `rest` until Burrow's clock (whole seconds, in
/// ms) passes `stop_after_ms`, then STOP if `stop_possible`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Judged {
    /// 0 unless `stop_possible`.
    stop_after_ms: i64,
    refreshes: u32,
    stop_possible: bool,
    rest: LagStatus,
}

/// What a window keeps of its [`Judged`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Verdict {
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
            ring: 0,
            newest: StoredCommit { offset: 0, time_ms: NO_COMMIT, lag: 0 },
            verdict: std::cell::Cell::new(None),
            judged_at: std::cell::Cell::new(0),
        }
    }
}

impl CommitWindow {
    fn newest(&self) -> Option<&StoredCommit> {
        (self.newest.time_ms != NO_COMMIT).then_some(&self.newest)
    }

    /// The ring's older commits: (slots, first slot, count).
    fn ring(&self) -> (&[StoredCommit], usize, usize) {
        let slots = self.older.as_deref().unwrap_or(&[]);
        let (cap, r) = (slots.len(), usize::from(self.ring));
        if r < cap { (slots, 0, r) } else { (slots, r - cap, cap) }
    }

    /// `c` joins the older commits; a full ring's oldest gives it its slot.
    fn push_older(&mut self, c: StoredCommit, intervals: usize) {
        let cap = intervals - 1;
        assert!(cap < usize::from(u16::MAX / 2), "Burrow's intervals are bounded far below this");
        let slots = self.older.get_or_insert_with(|| vec![c; cap].into_boxed_slice());
        debug_assert_eq!(slots.len(), cap, "one window, one setting of intervals");
        let r = usize::from(self.ring);
        let (slot, next) = if r < cap { (r, r + 1) } else { (r - cap, cap + (r - cap + 1) % cap) };
        slots[slot] = c;
        self.ring = next as u16;
    }

    /// A commit of `offset` accepted at `time`, `broker_newest` being Burrow's newest broker
    /// offset of the partition then. Dropped when Burrow has no broker offset for it yet.
    pub fn add(&mut self, offset: u64, time: SimTime, broker_newest: Option<u64>, s: &Settings) {
        let Some(newest) = broker_newest else { return };
        self.verdict.set(None);
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
        // The newest becomes an older commit, pushing out the oldest of a full window (with a
        // window of one, the newest itself goes).
        if had_newest && s.intervals > 1 {
            self.push_older(self.newest, s.intervals);
        }
        self.newest = StoredCommit { offset, time_ms, lag };
    }

    /// The stored commits, oldest first.
    fn commits(&self) -> impl Iterator<Item = &StoredCommit> + Clone {
        let (slots, first, n) = self.ring();
        (0..n).map(move |k| &slots[(first + k) % slots.len()]).chain(self.newest())
    }

    /// The partition's status at `now`, given Burrow's broker offsets of it.
    pub fn evaluate(&self, broker: &BrokerOffsets, now: SimTime, s: &Settings) -> LagStatus {
        self.judge(broker, s).at(now)
    }

    /// The same as [`evaluate`](Self::evaluate), judging the window again only when a commit or
    /// a broker refresh came since it was last judged.
    pub fn status(&self, broker: &BrokerOffsets, now: SimTime, s: &Settings) -> LagStatus {
        let judged = match self.verdict.get() {
            Some(v) if self.judged_at.get() == broker.refreshes => Judged {
                stop_after_ms: if v.stop_possible { self.stop_after_ms() } else { 0 },
                refreshes: broker.refreshes,
                stop_possible: v.stop_possible,
                rest: v.rest,
            },
            _ => {
                let j = self.judge(broker, s);
                self.verdict.set(Some(Verdict { stop_possible: j.stop_possible, rest: j.rest }));
                self.judged_at.set(j.refreshes);
                j
            }
        };
        debug_assert_eq!(judged, self.judge(broker, s), "a stale judgement of a commit window");
        judged.at(now)
    }

    /// checkIfOffsetsStopped, against Burrow's clock in whole seconds: stopped once the time
    /// since the newest commit exceeds the window's span.
    fn stop_after_ms(&self) -> i64 {
        match (self.commits().next(), self.newest()) {
            (Some(first), Some(last)) => last.time_ms + (last.time_ms - first.time_ms),
            _ => 0,
        }
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
        // checkIfRecentLagZero: caught up at one of the broker offsets still in the ring.
        let recent_lag_zero = broker.samples.iter().any(|&b| b <= last.offset);
        let stop_after_ms = if recent_lag_zero { 0 } else { self.stop_after_ms() };
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
            w.add(off, s(2 * i as u64), broker(&[end]).newest(), &DEFAULT);
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
        w.add(10, s(0), Some(8), &DEFAULT);
        assert_eq!(w.commits().collect::<Vec<_>>()[0].lag, 0, "a commit ahead of the last broker offset has no lag");
        w.add(20, s(2), broker(&[8, 50]).newest(), &DEFAULT);
        assert_eq!(w.commits().collect::<Vec<_>>()[1].lag, 30);
        let before_any_refresh = BrokerOffsets::default();
        w.add(30, s(4), before_any_refresh.newest(), &DEFAULT);
        assert_eq!(w.commits().count(), 2, "dropped: no broker offset for the partition yet");
    }

    #[test]
    fn commits_closer_than_min_distance_replace_the_newest_and_keep_its_time() {
        let b = broker(&[20]);
        let mut w = CommitWindow::default();
        w.add(10, s(0), b.newest(), &DEFAULT);
        w.add(12, SimTime(500_000_000), b.newest(), &DEFAULT);
        w.add(14, SimTime(900_000_000), b.newest(), &DEFAULT);
        assert_eq!(w.commits().count(), 1);
        assert_eq!(*w.commits().collect::<Vec<_>>()[0], StoredCommit { offset: 14, time_ms: 0, lag: 6 });
        w.add(16, SimTime(1_100_000_000), b.newest(), &DEFAULT);
        assert_eq!(w.commits().count(), 2);
        for i in 0..20 {
            w.add(20 + i, s(2 + i), b.newest(), &DEFAULT);
        }
        assert_eq!(w.commits().count(), INTERVALS, "only the last ten are kept");
        let mut three = CommitWindow::default();
        for i in 0..5 {
            three.add(i, s(2 * i), b.newest(), &Settings { intervals: 3, min_distance_ms: 0, allowed_lag: 0 });
        }
        assert_eq!(three.commits().count(), 3);
    }

    /// The older commits' ring keeps the last `intervals - 1` in order as it wraps, for any
    /// window size (one: nothing older is kept).
    #[test]
    fn the_window_keeps_the_last_commits_in_order_as_its_ring_wraps() {
        for intervals in [1, 2, 3, 10] {
            let set = Settings { intervals, min_distance_ms: 0, allowed_lag: 0 };
            let mut w = CommitWindow::default();
            for i in 0..25u64 {
                w.add(100 + i, s(i), Some(1_000), &set);
                let kept: Vec<u64> = w.commits().map(|c| c.offset).collect();
                let first = (i + 1).saturating_sub(intervals as u64);
                assert_eq!(kept, (100 + first..=100 + i).collect::<Vec<_>>(), "intervals {intervals}, {i}");
                assert_eq!(w.commits().next().unwrap().time_ms, first as i64 * 1000);
            }
            assert_eq!(w.older.as_ref().map_or(0, |o| o.len()), intervals - 1, "one slot per older commit");
        }
    }

    #[test]
    fn a_cached_judgement_works_out_stop_again_and_is_dropped_by_a_commit_or_a_refresh() {
        let mut w = window(&[(10, 20), (20, 40), (30, 50), (40, 60)]); // last at 6 s, span 6 s
        let mut b = broker(&[60]);
        assert_eq!(w.status(&b, s(12), &DEFAULT), LagStatus::Warn);
        assert_eq!(w.status(&b, s(13), &DEFAULT), LagStatus::Stop, "from the cached verdict");
        b.add(40, INTERVALS); // caught up at the newest sample: no lag now
        assert_eq!(w.status(&b, s(13), &DEFAULT), LagStatus::Ok, "a refresh judges again");
        b.add(70, INTERVALS);
        w.add(70, s(8), b.newest(), &DEFAULT);
        assert_eq!(w.status(&b, s(100), &DEFAULT), LagStatus::Ok, "a commit judges again");
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
