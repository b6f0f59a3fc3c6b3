//! Retention and offsets by time: log.retention.check.interval.ms deletes whole segments past
//! retention.ms / retention.bytes (share groups archive what it deletes under them), and
//! offsetsForTimes finds the first record created at or after a time.

use crate::kafka::broker::Broker;
use crate::kafka::cx::Cx;
use crate::kafka::world::Ev;
use crate::record::event::What;
use crate::scenario::plan::OffsetTarget;
use crate::sim::SimTime;

impl Broker {
    /// The first offset of `p` whose record was created at or after `t` (offsetsForTimes); the
    /// log end when there is none.
    pub(crate) fn offset_for_time(&self, p: u32, t: SimTime) -> u64 {
        let log = &self.partitions[p as usize].log;
        let (start, end) = (log.log_start_offset(), log.log_end_offset());
        let mut found = end;
        log.for_each_created(start, end, |off, created| {
            if found == end && created >= t.as_nanos() {
                found = off;
            }
        });
        found
    }

    /// Where `to` points in partition `p`, from `current` (position or committed offset).
    /// Out-of-range numbers are kept: the caller decides (a seek lets the next fetch fail, a
    /// reset clamps like kafka-consumer-groups.sh).
    pub(crate) fn target_offset(&self, p: u32, to: &OffsetTarget, current: u64) -> i128 {
        let log = &self.partitions[p as usize].log;
        match to {
            OffsetTarget::Earliest => i128::from(log.log_start_offset()),
            OffsetTarget::Latest => i128::from(log.log_end_offset()),
            OffsetTarget::Offset(o) => i128::from(*o),
            OffsetTarget::Timestamp(t) => i128::from(self.offset_for_time(p, SimTime::ZERO + *t)),
            OffsetTarget::Shift(d) => i128::from(current) + i128::from(*d),
        }
    }

    /// log.retention.check.interval.ms: deletes whole segments past retention.ms / retention.bytes.
    pub(crate) fn retention_check(&mut self, cx: &mut Cx) {
        let now = cx.now();
        for t in 0..self.topics.len() {
            let plan = &cx.plan.topics[t];
            let (ret, ret_bytes) = (plan.retention, plan.retention_bytes);
            let first = self.topics[t].first_partition;
            for p in first..first + self.topics[t].allocated {
                let log = &mut self.partitions[p as usize].log;
                let before = log.log_start_offset();
                let after = log.apply_retention(now, ret, ret_bytes);
                if after > before {
                    let what = What::SegmentsDeleted { partition: p, log_start_offset: after, records: after - before };
                    cx.rec.event(now, what);
                    // Share groups archive what retention deleted under them; SPSO follows.
                    for g in 0..self.shares.len() {
                        let Some(shares) = self.shares[g].as_mut() else { continue };
                        let Some(sp) = shares.parts[p as usize].as_mut() else { continue };
                        let archived = sp.log_start_moved(after);
                        if archived > 0 {
                            cx.rec.groups[g].share.archived_retention += archived;
                            let what =
                                What::RecordsArchivedByRetention { group: g as u32, partition: p, records: archived };
                            cx.rec.event(now, what);
                        }
                    }
                }
            }
        }
        let next = now + cx.plan.retention_check_interval;
        cx.schedule_at(next, Ev::RetentionCheck);
    }
}
