//! Memory follows the backlog, not the history: the records of a partition that no reader can
//! read again are freed (offsets, segments and every number stay exact).
//!
//! What a reader can still read is decided from the plan and the state:
//! - a group reads from its committed offset, or — with none — from wherever
//!   `auto.offset.reset` points: the log start for `earliest` (everything stays), the log end for
//!   `latest` (nothing old is needed);
//! - a member reads from its position, and processes the records its last poll returned;
//! - a group added later with `earliest` will read from the log start, so everything stays;
//! - a removed group still counts: a consumer added to it later resumes from its commits;
//! - a seek or offset reset to an offset, a shift, a timestamp or `earliest`, and push delivery
//!   (its buffers and messages in flight hold ranges of their own), keep the whole topic in
//!   memory for the run: this is decided once, from the plan.

use crate::kafka::broker::Broker;
use crate::kafka::client::Consumer;
use crate::kafka::coordinator::Group;
use crate::scenario::plan::{Action, Delivery, OffsetReset, OffsetTarget, Plan};
use crate::sim::SimTime;

impl Broker {
    /// Per topic: whether the plan may read any record again at any time (then nothing is freed).
    pub(crate) fn keep_whole_topics(plan: &Plan) -> Vec<bool> {
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

    /// Frees what no reader of any partition can read again.
    pub(crate) fn release_read_records(&mut self, plan: &Plan, now: SimTime, groups: &[Group], consumers: &[Consumer]) {
        // The lowest offset of each partition any reader may still read, from one pass over the
        // groups and their members (not one per partition).
        let mut low: Vec<u64> = self.partitions.iter().map(|p| p.log.log_end_offset()).collect();
        for (gi, g) in groups.iter().enumerate() {
            let gplan = &plan.groups[gi];
            if let Some(sg) = g.share_opt() {
                // A share group may still deliver anything from SPSO on (re-deliveries), and
                // with `earliest` a partition not yet initialized starts at the log start.
                let earliest = sg.plan.auto_offset_reset == crate::scenario::plan::ShareOffsetReset::Earliest;
                for &p in &g.partitions {
                    let (i, log) = (p as usize, &self.partitions[p as usize].log);
                    match &self.share_parts(gi)[i] {
                        Some(sp) => low[i] = low[i].min(sp.spso()),
                        None if earliest => low[i] = low[i].min(log.log_start_offset()),
                        None => {}
                    }
                }
                for &c in &g.consumers {
                    for &(p, from, _) in &consumers[c].inflight.ranges {
                        low[p as usize] = low[p as usize].min(from);
                    }
                }
                continue;
            }
            // A removed group keeps its committed offsets: a consumer added to it later (or one of
            // its consumers started again) reads on from them.
            let earliest = gplan.consumers.iter().any(|c| c.config.auto_offset_reset == OffsetReset::Earliest);
            let added = gplan.added_at.is_none_or(|t| SimTime::ZERO + t <= now);
            let offsets = g.offsets();
            for &p in &g.partitions {
                let (i, log) = (p as usize, &self.partitions[p as usize].log);
                match offsets.committed(p) {
                    Some(c) if added => low[i] = low[i].min(c),
                    _ if earliest => low[i] = low[i].min(log.log_start_offset()),
                    _ => {}
                }
            }
            for &c in &g.consumers {
                let con = &consumers[c];
                for o in &con.owned {
                    let i = o.partition as usize;
                    low[i] = low[i].min(o.position);
                }
                for &(p, from, _) in &con.inflight.ranges {
                    low[p as usize] = low[p as usize].min(from);
                }
            }
        }
        for (part, from) in self.partitions.iter_mut().zip(low) {
            // Batch boundaries below what any share group can still acquire are not needed.
            while part.batch_starts.len() > 1 && part.batch_starts[1] <= from {
                part.batch_starts.pop_front();
            }
            if !self.keep_whole_topic[part.topic] {
                part.log.release_before(from);
            }
        }
    }
}
