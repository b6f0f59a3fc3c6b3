//! Lag as `kafka-consumer-groups.sh` shows it (log end offset - committed offset), totalled per
//! group at each sample. Partitions with no committed offset have no lag (the tool prints `-`).

use crate::kafka::world::World;
use crate::record::NONE_U64;
use crate::sim::SimTime;

/// Per group: (sample time, total lag over the partitions that have a committed offset).
pub fn group_lag_series(w: &World) -> Vec<Vec<(SimTime, u64)>> {
    let mut out: Vec<Vec<(SimTime, u64)>> = vec![Vec::new(); w.groups.len()];
    for row in &w.rec.metrics {
        let series = &mut out[row.group as usize];
        if series.last().is_none_or(|s| s.0 != row.time) {
            series.push((row.time, 0));
        }
        if row.committed != NONE_U64 {
            series.last_mut().expect("pushed above").1 += row.log_end_offset.saturating_sub(row.committed);
        }
    }
    out
}
