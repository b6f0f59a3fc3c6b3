//! Memory follows the backlog, not the history: the records of a partition that no reader can
//! read again are freed (offsets, segments and every number stay exact).
//!
//! What a reader can still read is decided from the plan and the state:
//! - a group reads from its committed offset, or — with none — from wherever
//!   `auto.offset.reset` points: the log start for `earliest` (everything stays), the log end for
//!   `latest` (nothing old is needed);
//! - a member reads from its position, and processes the records its last poll returned;
//! - a group added later with `earliest` will read from the log start, so everything stays;
//! - a seek or offset reset to an offset, a shift, a timestamp or `earliest`, and push delivery
//!   (its buffers and messages in flight hold ranges of their own), keep the whole topic in
//!   memory for the run: this is decided once, from the plan.

use super::world::World;
use crate::scenario::plan::{Action, Delivery, OffsetReset, OffsetTarget, Plan};
use crate::sim::SimTime;

/// Per topic: whether the plan may read any record again at any time (then nothing is freed).
pub fn keep_whole_topics(plan: &Plan) -> Vec<bool> {
    let mut keep = vec![false; plan.topics.len()];
    for g in &plan.groups {
        if g.delivery == Delivery::Push {
            for &t in &g.topics {
                keep[t] = true;
            }
        }
    }
    let rereads = |to: &OffsetTarget| !matches!(to, OffsetTarget::Latest);
    for a in &plan.timeline {
        match &a.action {
            Action::Seek { topic, to, .. } | Action::ResetOffsets { topic, to, .. } if rereads(to) => {
                keep[*topic] = true;
            }
            _ => {}
        }
    }
    keep
}

impl World {
    /// The lowest offset of partition `p` any reader may still read.
    fn still_needed_from(&self, p: u32, now: SimTime) -> u64 {
        let part = &self.partitions[p as usize];
        let log = &part.log;
        let mut low = log.log_end_offset();
        for (gi, g) in self.groups.iter().enumerate() {
            let plan = &self.plan.groups[gi];
            if g.removed || !plan.topics.contains(&part.topic) {
                continue;
            }
            let earliest = plan.consumers.iter().any(|c| c.config.auto_offset_reset == OffsetReset::Earliest);
            let added = plan.added_at.is_none_or(|t| SimTime::ZERO + t <= now);
            match g.committed[p as usize] {
                Some(c) if added => low = low.min(c),
                _ if earliest => return log.log_start_offset(),
                _ => {}
            }
            for &c in &g.consumers {
                let con = &self.consumers[c];
                if let Some(pos) = con.position(p) {
                    low = low.min(pos);
                }
                for &(q, from, _) in &con.inflight.ranges {
                    if q == p {
                        low = low.min(from);
                    }
                }
            }
        }
        low
    }

    /// Frees what no reader of any partition can read again.
    pub(super) fn release_read_records(&mut self) {
        let now = self.now();
        for p in 0..self.partitions.len() as u32 {
            let topic = self.partitions[p as usize].topic;
            if self.keep_whole_topic[topic] || self.partitions[p as usize].log.log_end_offset() == 0 {
                continue;
            }
            let from = self.still_needed_from(p, now);
            self.partitions[p as usize].log.release_before(from);
        }
    }
}
