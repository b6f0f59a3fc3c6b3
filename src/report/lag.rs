//! Lag as `kafka-consumer-groups.sh` shows it (log end offset - committed offset), totalled per
//! group at each sample, and lag in time (age of the oldest record not yet committed past), the
//! largest over the group's partitions. Partitions with no committed offset have no lag (the
//! tool prints `-`).

use crate::kafka::world::World;
use crate::record::NONE_U64;
use crate::record::burrow::LagStatus;
use crate::sim::SimTime;

/// Per group: (sample time, total lag in records over the partitions with a committed offset).
pub fn group_lag_series(w: &World) -> Vec<Vec<(SimTime, u64)>> {
    per_sample(w, |acc, row_lag, _| *acc += row_lag)
}

/// Per group: (sample time, the largest lag in time over its partitions, in ns).
pub fn group_lag_ns_series(w: &World) -> Vec<Vec<(SimTime, u64)>> {
    per_sample(w, |acc, _, lag_ns| *acc = (*acc).max(lag_ns))
}

/// Per group: (sample time, records not yet read, summed over its partitions). Unlike committed
/// lag it is never blank: before the first commit it counts what waits from where the group starts.
pub fn group_backlog_series(w: &World) -> Vec<Vec<(SimTime, u64)>> {
    let mut out: Vec<Vec<(SimTime, u64)>> = vec![Vec::new(); w.groups.len()];
    for row in &w.rec.metrics {
        let series = &mut out[row.group as usize];
        if series.last().is_none_or(|s| s.0 != row.time) {
            series.push((row.time, 0));
        }
        series.last_mut().expect("pushed above").1 += row.backlog;
    }
    out
}

/// Per group: (sample time, Burrow's group status: its worst partition's, capped at ERR).
pub fn group_lag_status_series(w: &World) -> Vec<Vec<(SimTime, LagStatus)>> {
    let mut out: Vec<Vec<(SimTime, LagStatus)>> = vec![Vec::new(); w.groups.len()];
    for row in &w.rec.metrics {
        let series = &mut out[row.group as usize];
        if series.last().is_none_or(|s| s.0 != row.time) {
            series.push((row.time, LagStatus::Ok));
        }
        let status = &mut series.last_mut().expect("pushed above").1;
        *status = (*status).max(row.lag_status.for_group());
    }
    out
}

fn per_sample(w: &World, fold: impl Fn(&mut u64, u64, u64)) -> Vec<Vec<(SimTime, u64)>> {
    let mut out: Vec<Vec<(SimTime, u64)>> = vec![Vec::new(); w.groups.len()];
    for row in &w.rec.metrics {
        let series = &mut out[row.group as usize];
        if series.last().is_none_or(|s| s.0 != row.time) {
            series.push((row.time, 0));
        }
        if row.committed != NONE_U64 {
            let acc = &mut series.last_mut().expect("pushed above").1;
            fold(acc, row.log_end_offset.saturating_sub(row.committed), row.lag_ns);
        }
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
