//! Sampling: every `sample_interval` a metrics row per group and partition (offsets, lag, lag in
//! time, backlog, Burrow's status) and a push-buffer row per group; then memory is trimmed to
//! what readers still need (see `backlog`).

use super::world::{Ev, World};
use crate::record::burrow::LagStatus;
use crate::record::{GroupSample, MetricRow, NONE_U32, NONE_U64};
use crate::scenario::plan::OffsetReset;
use crate::sim::SimTime;

impl World {
    pub(super) fn sample(&mut self) {
        let now = self.now();
        let reset_of = |g: usize| {
            self.plan.groups[g].consumers.first().map_or(OffsetReset::Earliest, |c| c.config.auto_offset_reset)
        };
        let mut rows = std::mem::take(&mut self.sample_rows);
        rows.clear();
        for (gi, g) in self.groups.iter().enumerate() {
            // A group appears when it is added and disappears when removed.
            let added = self.plan.groups[gi].added_at.is_none_or(|t| SimTime::ZERO + t <= now);
            if !added || g.removed {
                continue;
            }
            for &p in &g.partitions {
                if !self.partition_exists(p) {
                    continue;
                }
                let owner = g.owner[p as usize];
                let position = owner.and_then(|c| self.consumers[c].position(p));
                let log = &self.partitions[p as usize].log;
                let (start, end) = (log.log_start_offset(), log.log_end_offset());
                // Where reading resumes: the owner's position, else the committed offset, else
                // what auto_offset_reset picks (latest: nothing now in the log is waiting).
                let resume = position.or(g.committed[p as usize]).unwrap_or(match reset_of(gi) {
                    OffsetReset::Latest => end,
                    OffsetReset::Earliest | OffsetReset::None => start,
                });
                let backlog = end.saturating_sub(resume.max(start));
                let lag_status =
                    self.rec.groups[gi].commit_windows.get(&p).map_or(LagStatus::Ok, |w| w.evaluate(end, now));
                // Lag in time: how long the oldest record the group has not committed past has waited.
                let lag_ns = match g.committed[p as usize] {
                    Some(off) => {
                        let oldest = off.max(log.log_start_offset());
                        debug_assert!(oldest >= log.retained_from().min(end), "a committed record was freed");
                        log.created_at(oldest).map_or(0, |t| now.as_nanos().saturating_sub(t))
                    }
                    None => NONE_U64,
                };
                rows.push(MetricRow {
                    time: now,
                    group: gi as u16,
                    partition: p,
                    log_end_offset: self.partitions[p as usize].log.log_end_offset(),
                    log_start_offset: self.partitions[p as usize].log.log_start_offset(),
                    committed: g.committed[p as usize].unwrap_or(NONE_U64),
                    lag_ns,
                    position: position.unwrap_or(NONE_U64),
                    owner: owner.map_or(NONE_U32, |c| c as u32),
                    backlog,
                    lag_status,
                });
            }
        }
        self.rec.total_sample(&rows, self.partitions.len());
        // Rows go to metrics.csv as they are sampled when a writer waits for them (`kafkasim
        // run`), else they are kept for whoever reads the world afterwards (tests, compare).
        match self.metric_sink.take() {
            Some(mut sink) => {
                for row in &rows {
                    sink.row(self, row);
                }
                self.metric_sink = Some(sink);
            }
            None => self.rec.metrics.extend_from_slice(&rows),
        }
        self.sample_rows = rows;
        for gi in 0..self.groups.len() {
            let members = &self.groups[gi].consumers;
            let buffered_records = members.iter().map(|&c| self.consumers[c].buffered).sum();
            let buffered_bytes = members.iter().map(|&c| self.buffered_bytes(c)).sum();
            self.rec.group_samples.push(GroupSample {
                time: now,
                group: gi as u16,
                buffered_records,
                buffered_bytes,
                drops: self.rec.groups[gi].drops,
            });
        }
        // Once a sample, memory is trimmed to what readers still need.
        self.release_read_records();
        self.next_sample = now + self.plan.sample_interval;
        if self.next_sample <= self.end {
            self.kernel.schedule_at(self.next_sample, Ev::Sample);
        }
    }
}
