//! Lag as `kafka-consumer-groups.sh` shows it (log end offset - committed offset), totalled per
//! group at each sample, and lag in time (age of the oldest record not yet committed past), the
//! largest over the group's partitions. Partitions with no committed offset have no lag (the
//! tool prints `-`).

use crate::record::GroupTotals;
use crate::record::burrow::LagStatus;
use crate::record::run::Run;
use crate::sim::SimTime;

/// Per group: (sample time, total lag in records over the partitions with a committed offset).
pub fn group_lag_series(w: &Run) -> Vec<Vec<(SimTime, u64)>> {
    per_sample(w, |t| t.lag)
}

/// Per group: (sample time, the largest lag in time over its partitions, in ns).
pub fn group_lag_ns_series(w: &Run) -> Vec<Vec<(SimTime, u64)>> {
    per_sample(w, |t| t.lag_ns)
}

/// Per group: (sample time, records not yet read, summed over its partitions). Unlike committed
/// lag it is never blank: before the first commit it counts what waits from where the group starts.
pub fn group_backlog_series(w: &Run) -> Vec<Vec<(SimTime, u64)>> {
    per_sample(w, |t| t.backlog)
}

/// Per group: (sample time, Burrow's group status: its worst partition's, capped at ERR).
pub fn group_lag_status_series(w: &Run) -> Vec<Vec<(SimTime, LagStatus)>> {
    per_sample(w, |t| t.status)
}

/// One point per group per sample in which the group had partitions.
fn per_sample<T>(w: &Run, value: impl Fn(&GroupTotals) -> T) -> Vec<Vec<(SimTime, T)>> {
    let mut out: Vec<Vec<(SimTime, T)>> = (0..w.plan.groups.len()).map(|_| Vec::new()).collect();
    for t in &w.rec.group_totals {
        out[t.group as usize].push((t.time, value(t)));
    }
    out
}

/// (final, max, mean) of a series; zeros when empty.
pub fn stats(series: &[(SimTime, u64)]) -> (u64, u64, f64) {
    if series.is_empty() {
        return (0, 0, 0.0);
    }
    let max = series.iter().map(|s| s.1).max().unwrap_or(0);
    let mean = series.iter().map(|s| s.1 as f64).sum::<f64>() / series.len() as f64;
    (series[series.len() - 1].1, max, mean)
}
