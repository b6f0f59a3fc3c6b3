//! Offsets as numbers: seeks, offset resets, out-of-range handling (auto.offset.reset), and the
//! retention that moves each log's start forward. Replays (asked for) are told apart from
//! duplicates (not asked for).

use crate::kafka::client::{GroupKind, Phase};
use crate::kafka::world::{Ev, World};
use crate::record::event::{Move, Rejected, What};
use crate::record::ledger::Replay;
use crate::scenario::plan::{OffsetReset, OffsetTarget};

impl World {
    /// Marks `[to, processed high-water)` of `p` as an intended replay for group `g`.
    fn mark_replay(&mut self, g: usize, p: u32, to: u64) {
        // Records of `p` being processed right now count as processed for this purpose.
        let in_hand = self.groups[g].offsets().owner(p).map_or(0, |c| {
            self.consumers[c].inflight.ranges.iter().filter(|r| r.0 == p).map(|r| r.2).max().unwrap_or(0)
        });
        let ledger = &mut self.rec.ledgers[g];
        let hw = ledger.processed[p as usize].max_end().max(in_hand);
        if hw > to {
            let now = self.kernel.now();
            let r = match ledger.replay(p) {
                Some(old) => Replay { start: old.start.min(to), until: old.until.max(hw), since: now },
                None => Replay { start: to, until: hw, since: now },
            };
            ledger.set_replay(p, Some(r));
        }
    }

    /// `seek`: moves the positions of the consumer's partitions of `topic` (one, or all it owns).
    pub(crate) fn seek(&mut self, c: usize, topic: usize, partition: Option<u32>, to: &OffsetTarget) {
        let g = self.consumers[c].group;
        // A pushed-to consumer's seek also restarts the broker's stream from the new position.
        let push = match self.consumers[c].kind() {
            GroupKind::Push => true,
            GroupKind::Pull | GroupKind::Share | GroupKind::Protocol => false,
        };
        if !self.consumers[c].is_running() {
            self.reject_action(c, "the consumer is not running");
            return;
        }
        if self.consumers[c].is_hung() {
            self.reject_action(c, "the consumer is hung");
            return;
        }
        let first = self.broker.topics[topic].first_partition;
        let targets: Vec<u32> = self.consumers[c]
            .owned
            .iter()
            .map(|o| o.partition)
            .filter(|&p| p >= first && p < first + self.broker.topics[topic].partitions)
            .filter(|&p| partition.is_none_or(|k| p == first + k))
            .collect();
        if targets.is_empty() {
            // KafkaConsumer.seek on a partition it is not assigned: IllegalStateException.
            self.reject_action(c, "the consumer owns no such partition now");
            return;
        }
        let mut moved = Vec::new();
        for p in targets {
            let current = self.consumers[c].position(p).expect("owned");
            let target = self.broker.target_offset(p, to, current);
            let target = u64::try_from(target.max(0)).unwrap_or(0);
            let i = self.consumers[c].owned_slot(p).expect("owned");
            self.consumers[c].owned[i].position = target;
            self.consumers[c].in_range_at = None;
            if target < current {
                self.mark_replay(g, p, target);
            } else {
                self.skip_on_request(g, p, current, target);
            }
            if push {
                self.push_restart(c, p, target);
            }
            moved.push(Move { partition: p, from: current, to: target });
        }
        let now = self.now();
        self.rec.event(now, What::Seek { consumer: c as u32, moves: moved });
        // A fetch in flight was for the old positions: poll again from the new ones.
        // A position outside the log fails the next fetch (OFFSET_OUT_OF_RANGE); resolved now.
        if !self.fix_out_of_range(c) {
            return;
        }
        if self.consumers[c].phase == Phase::Fetching {
            let con = &mut self.consumers[c];
            con.fetch_seq = con.fetch_seq.wrapping_add(1);
            con.phase = Phase::Idle;
            self.schedule_consumer(c, crate::sim::SimDuration::ZERO, |c, inc| Ev::Poll { c, inc });
        }
        if push {
            self.pump_owned(c);
        }
    }

    /// `reset_offsets`: rewrites a group's committed offsets, only while it has no members.
    pub(crate) fn reset_offsets(&mut self, g: usize, topic: usize, to: &OffsetTarget) {
        let now = self.now();
        let members = match &self.groups[g].coordinator {
            crate::kafka::coordinator::Coordinator::Protocol(pg) => pg.members.len(),
            _ => self.groups[g].classic().members.len(),
        };
        if members > 0 {
            self.rec.event(now, What::ActionRejected(Rejected::ResetWithMembers { group: g as u32, members }));
            self.rec.rejected_actions += 1;
            return;
        }
        let first = self.broker.topics[topic].first_partition;
        let parts = first..first + self.broker.topics[topic].partitions;
        if matches!(to, OffsetTarget::Shift(_))
            && let Some(p) = parts.clone().find(|&p| self.groups[g].offsets().committed(p).is_none())
        {
            // As the tool: "Cannot shift offset for partition ... since there is no current committed offset".
            self.rec.event(now, What::ActionRejected(Rejected::ShiftWithoutCommit { group: g as u32, partition: p }));
            self.rec.rejected_actions += 1;
            return;
        }
        let mut moved = Vec::new();
        for p in parts {
            let log = &self.broker.partitions[p as usize].log;
            let (start, end) = (log.log_start_offset(), log.log_end_offset());
            let current = self.groups[g].offsets().committed(p).unwrap_or(end);
            // Where the group would have resumed: with no commit yet, where it started reading
            // (what it read since then and did not process is jumped over too).
            let resume = self.groups[g].offsets().committed(p).or(self.rec.ledgers[g].first_offset(p)).unwrap_or(end);
            let target = self.broker.target_offset(p, to, current).clamp(i128::from(start), i128::from(end)) as u64;
            self.groups[g].offsets_mut().commit(p, target);
            if target < current {
                self.mark_replay(g, p, target);
            } else {
                self.skip_on_request(g, p, resume.min(target), target);
            }
            self.rec.ledgers[g].lower_first_offset(p, target);
            moved.push(Move { partition: p, from: current, to: target });
        }
        self.rec.event(now, What::OffsetsReset { group: g as u32, moves: moved });
    }

    fn skip_on_request(&mut self, g: usize, p: u32, from: u64, to: u64) {
        let ledger = &mut self.rec.ledgers[g];
        let unprocessed = (to - from) - ledger.processed[p as usize].count_in(from, to);
        ledger.lost_seek += unprocessed;
        ledger.skip(p, from, to);
    }

    fn reject_action(&mut self, c: usize, reason: &'static str) {
        let now = self.now();
        self.rec.rejected_actions += 1;
        self.rec.event(now, What::ActionRejected(Rejected::Consumer { consumer: c as u32, reason }));
    }

    /// Before fetching: a position outside [log start, log end] is OFFSET_OUT_OF_RANGE and
    /// auto.offset.reset decides. Returns false when the consumer failed (`none`).
    pub(crate) fn fix_out_of_range(&mut self, c: usize) -> bool {
        // Fetches move positions only within the log: unless a log's range was cut or a position
        // set otherwise since every position was last found in range, none is out of it now
        // (over 10,000 partitions this saves a look at 500 partitions per fetch).
        let cuts = crate::kafka::broker::log::RANGE_CUTS.load(std::sync::atomic::Ordering::Relaxed);
        if self.consumers[c].in_range_at == Some(cuts) {
            debug_assert!(self.positions_in_range(c), "a position left its log's range unnoticed");
            return true;
        }
        // A position this may move (back, too) ends the consumer's quiet mark (see `Broker::read`).
        self.consumers[c].quiet_since = None;
        if !self.fix_positions(c) {
            return false;
        }
        self.consumers[c].in_range_at = Some(cuts);
        true
    }

    /// Whether every position of consumer `c` is inside its log's range.
    fn positions_in_range(&self, c: usize) -> bool {
        self.consumers[c].owned.iter().all(|o| {
            let log = &self.broker.partitions[o.partition as usize].log;
            (log.log_start_offset()..=log.log_end_offset()).contains(&o.position)
        })
    }

    /// Every position outside [log start, log end] is reset as auto.offset.reset says (see
    /// `fix_out_of_range`).
    fn fix_positions(&mut self, c: usize) -> bool {
        let g = self.consumers[c].group;
        let reset = self.consumers[c].config.auto_offset_reset;
        let mut restarted = false;
        let mut i = 0;
        while i < self.consumers[c].owned.len() {
            let o = self.consumers[c].owned[i];
            i += 1;
            let log = &self.broker.partitions[o.partition as usize].log;
            let (start, end) = (log.log_start_offset(), log.log_end_offset());
            if o.position >= start && o.position <= end {
                continue;
            }
            let to = match reset {
                OffsetReset::Earliest => start,
                OffsetReset::Latest => end,
                OffsetReset::None => {
                    let why = format!(
                        "OffsetOutOfRange: position {} of {} is outside [{start}, {end}]",
                        o.position,
                        self.partition_name(o.partition)
                    );
                    self.consumer_error(c, &why);
                    return false;
                }
            };
            if to < o.position {
                // Reset backwards (past the end, then to `earliest`): reading again is the policy's doing.
                self.mark_replay(g, o.partition, to);
            }
            if to > o.position {
                // Skipped records: those already deleted are lost to retention, the rest to the reset.
                let deleted = start.saturating_sub(o.position).min(to - o.position);
                let ledger = &mut self.rec.ledgers[g];
                let unprocessed = |from: u64, until: u64| {
                    (until - from) - ledger.processed[o.partition as usize].count_in(from, until)
                };
                let lost_deleted = unprocessed(o.position, o.position + deleted);
                let lost_reset = unprocessed(o.position + deleted, to);
                ledger.lost_retention += lost_deleted;
                ledger.lost_reset += lost_reset;
                ledger.skip(o.partition, o.position, to);
            }
            let now = self.now();
            let what = What::OffsetOutOfRange {
                consumer: c as u32,
                partition: o.partition,
                position: o.position,
                reset_to: to,
                reset,
            };
            self.rec.event(now, what);
            self.consumers[c].owned[i - 1].position = to;
            if self.groups[g].kind == GroupKind::Push {
                self.push_restart(c, o.partition, to);
                restarted = true;
            }
        }
        if restarted {
            self.pump_owned(c);
        }
        true
    }

    /// The application dies of an exception (auto.offset.reset = none): no commit, no goodbye.
    pub(crate) fn consumer_error(&mut self, c: usize, why: &str) {
        let now = self.now();
        self.rec.event(now, What::ConsumerError { consumer: c as u32, error: why.to_string() });
        self.crash_consumer(c);
    }
}
