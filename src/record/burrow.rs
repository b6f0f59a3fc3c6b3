//! Consumer lag status as operators read it: Burrow's "Consumer Lag Evaluation Rules"
//! (linkedin/Burrow, `core/internal/evaluator/caching.go` and `core/internal/storage/inmemory.go`),
//! evaluated on virtual time over the commits the simulated coordinator accepted.
//!
//! Per partition Burrow keeps a ring of the last `intervals` (10) commits, each with its offset,
//! its timestamp and the lag at that moment (log end - offset). A commit less than `min-distance`
//! (1 s) after the newest stored one replaces it and keeps the stored timestamp, so fast committers
//! still fill the window with commits at least a second apart. Evaluation, worst first:
//! 1. lag reached zero somewhere in the window, or is zero now: OK;
//! 2. an offset went backwards: REWIND;
//! 3. the time since the last commit exceeds the window's span (last - first): STOP;
//! 4. every offset in the window is the same (and lag is not zero): STALL;
//! 5. lag never decreased from one commit to the next: WARN;
//!
//! otherwise OK. One deliberate difference: a window of a single commit is OK (Burrow would call
//! it STOP as soon as time passes). A group's status is its worst partition's, with STOP, STALL
//! and REWIND reported as ERR at the group level, as Burrow does.

use crate::sim::{SimDuration, SimTime};
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

/// Burrow's storage defaults: `intervals` and `min-distance`.
pub const INTERVALS: usize = 10;
pub const MIN_DISTANCE: SimDuration = SimDuration(1_000_000_000);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct StoredCommit {
    offset: u64,
    time: SimTime,
    lag: u64,
}

/// The last `INTERVALS` commits of one partition, as Burrow stores them.
#[derive(Clone, Debug, Default)]
pub struct CommitWindow {
    commits: VecDeque<StoredCommit>,
}

impl CommitWindow {
    /// A commit of `offset` accepted at `time` while the log ended at `log_end`.
    pub fn add(&mut self, offset: u64, time: SimTime, log_end: u64) {
        let lag = log_end.saturating_sub(offset);
        if let Some(last) = self.commits.back_mut()
            && time - last.time < MIN_DISTANCE
        {
            // Within min-distance: overwrite the newest entry, keeping its timestamp.
            *last = StoredCommit { offset, time: last.time, lag };
            return;
        }
        if self.commits.len() == INTERVALS {
            self.commits.pop_front();
        }
        self.commits.push_back(StoredCommit { offset, time, lag });
    }

    /// The status at `now`, when the partition's log ends at `log_end`.
    pub fn evaluate(&self, log_end: u64, now: SimTime) -> LagStatus {
        let (Some(first), Some(last)) = (self.commits.front(), self.commits.back()) else {
            return LagStatus::Ok; // no commits: nothing to judge
        };
        let current_lag = log_end.saturating_sub(last.offset);
        // Burrow judges a one-commit window too, and then reads STOP the moment any time passes
        // (its span is zero) or STALL: every new group would start in error. A window needs two
        // stored commits (at least min-distance apart) before it says anything but OK.
        if current_lag == 0 || self.commits.len() < 2 || self.commits.iter().any(|c| c.lag == 0) {
            return LagStatus::Ok;
        }
        let pairs = || self.commits.iter().zip(self.commits.iter().skip(1));
        if pairs().any(|(a, b)| b.offset < a.offset) {
            return LagStatus::Rewind;
        }
        if now - last.time > last.time - first.time {
            return LagStatus::Stop;
        }
        if pairs().all(|(a, b)| a.offset == b.offset) {
            return LagStatus::Stall;
        }
        if pairs().all(|(a, b)| b.lag >= a.lag) {
            return LagStatus::Warn;
        }
        LagStatus::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> SimTime {
        SimTime(secs * 1_000_000_000)
    }

    /// Commits every 2 s of `(offset, log end)`.
    fn window(commits: &[(u64, u64)]) -> CommitWindow {
        let mut w = CommitWindow::default();
        for (i, &(off, end)) in commits.iter().enumerate() {
            w.add(off, s(2 * i as u64), end);
        }
        w
    }

    #[test]
    fn no_commits_is_ok() {
        assert_eq!(CommitWindow::default().evaluate(100, s(50)), LagStatus::Ok);
    }

    #[test]
    fn zero_lag_anywhere_in_the_window_is_ok() {
        let w = window(&[(10, 20), (20, 20), (25, 40), (30, 60)]);
        assert_eq!(w.evaluate(70, s(6)), LagStatus::Ok);
    }

    #[test]
    fn an_offset_going_backwards_is_a_rewind() {
        let w = window(&[(10, 20), (30, 40), (15, 50)]);
        assert_eq!(w.evaluate(60, s(4)), LagStatus::Rewind);
    }

    #[test]
    fn no_commit_for_longer_than_the_window_spans_is_a_stop() {
        // Window spans 0..6 s; at 12.5 s the last commit is 6.5 s old: more than the span.
        let w = window(&[(10, 20), (20, 40), (30, 50), (40, 60)]);
        // Lag 10, 20, 20, 20 never decreased: WARN until the gap exceeds the span.
        assert_eq!(w.evaluate(60, s(12)), LagStatus::Warn, "6 s since the last commit is not more than 6 s");
        assert_eq!(w.evaluate(60, SimTime(12_500_000_000)), LagStatus::Stop);
    }

    #[test]
    fn a_single_commit_says_nothing_yet() {
        let w = window(&[(10, 20)]);
        assert_eq!(w.evaluate(30, s(5)), LagStatus::Ok);
    }

    #[test]
    fn the_same_offset_committed_over_and_over_with_lag_is_a_stall() {
        let w = window(&[(10, 20), (10, 30), (10, 40)]);
        assert_eq!(w.evaluate(40, s(4)), LagStatus::Stall);
    }

    #[test]
    fn lag_that_never_decreases_is_a_warning_and_one_decrease_clears_it() {
        let growing = window(&[(10, 20), (20, 40), (30, 60)]);
        assert_eq!(growing.evaluate(60, s(4)), LagStatus::Warn);
        let catching_up = window(&[(10, 20), (20, 40), (38, 45)]);
        assert_eq!(catching_up.evaluate(50, s(4)), LagStatus::Ok);
    }

    #[test]
    fn commits_closer_than_min_distance_replace_the_newest_and_keep_its_time() {
        let mut w = CommitWindow::default();
        w.add(10, s(0), 20);
        w.add(12, SimTime(500_000_000), 20);
        w.add(14, SimTime(900_000_000), 20);
        assert_eq!(w.commits.len(), 1);
        assert_eq!(w.commits[0], StoredCommit { offset: 14, time: s(0), lag: 6 });
        w.add(16, SimTime(1_100_000_000), 20);
        assert_eq!(w.commits.len(), 2);
        for i in 0..20 {
            w.add(20 + i, s(2 + i), 100);
        }
        assert_eq!(w.commits.len(), INTERVALS, "only the last ten are kept");
    }

    #[test]
    fn group_status_caps_at_err() {
        assert_eq!(LagStatus::Rewind.for_group(), LagStatus::Err);
        assert_eq!(LagStatus::Warn.for_group(), LagStatus::Warn);
    }
}
