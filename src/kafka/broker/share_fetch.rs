//! The broker's side of a share group: a ShareFetch carries the member's acknowledgements
//! (applied all or nothing per partition) and acquires records for it, re-deliveries first;
//! acquisition locks run out into AVAILABLE (or ARCHIVED at the delivery limit); anything that
//! makes records available again wakes the long polls parked on the partition.

use crate::kafka::broker::share_partition::AcquireMode;
use crate::kafka::world::{Ev, World};
use crate::record::event::What;
use crate::scenario::plan::ShareAcquireMode;

impl World {
    /// The acknowledgements the member's application made since its last poll, piggy-backed on
    /// this ShareFetch (or sent by close(); ShareConsumerImpl sends pending acks with the next
    /// fetch).
    pub(crate) fn share_send_acks(&mut self, c: usize) {
        let acks = std::mem::take(&mut self.consumers[c].share_mut().acks);
        if acks.is_empty() {
            return;
        }
        let g = self.consumers[c].group;
        let mut i = 0;
        while i < acks.len() {
            let p = acks[i].0;
            let mut j = i;
            let mut list = Vec::new();
            while j < acks.len() && acks[j].0 == p {
                list.push((acks[j].1, acks[j].2, acks[j].3));
                j += 1;
            }
            i = j;
            let sg = self.groups[g].share_mut();
            let Some(sp) = sg.parts[p as usize].as_mut() else { continue };
            match sp.acknowledge(c as u32, &list) {
                Ok(t) => {
                    self.rec.groups[g].share.archived_delivery_limit += t.archived_delivery_limit;
                    self.rec.groups[g].share.archived_reject += t.archived_reject;
                    let archived = t.archived_delivery_limit + t.archived_reject;
                    if archived > 0 {
                        let now = self.now();
                        let what = What::RecordsArchived {
                            consumer: c as u32,
                            partition: p,
                            delivery_limit: t.archived_delivery_limit,
                            rejected: t.archived_reject,
                        };
                        self.rec.event(now, what);
                    }
                    if t.made_available > 0 {
                        self.rec.ledgers[g].rewind_cause[p as usize] = "release";
                    }
                    self.share_spso_moved(g, p);
                    // Every acknowledgement completes the fetches parked on the partition
                    // (SharePartitionManager.acknowledge -> completeDelayedShareFetchRequest): a
                    // slid window or a released record may be theirs now.
                    self.share_wake(g, p);
                }
                Err(e) => {
                    // InvalidRecordStateException: the lock ran out (the records went back, maybe
                    // to someone else) before the acknowledgement came; nothing is applied.
                    let n: u64 = list.iter().map(|&(a, b, _)| b - a).sum();
                    self.rec.groups[g].share.ack_failures += n;
                    let now = self.now();
                    let what = What::ShareAckFailed { consumer: c as u32, partition: p, records: n, offset: e.offset };
                    self.rec.event(now, what);
                }
            }
        }
    }

    /// Acquires records for consumer `c` from its assigned partitions, starting at a rotating
    /// one, up to `max_poll_records` in all (a producer batch may round it up).
    pub(crate) fn share_gather(&mut self, c: usize) -> usize {
        let now = self.now();
        self.consumers[c].inflight.clear();
        let g = self.consumers[c].group;
        let n = self.consumers[c].owned.len();
        let mut budget = u64::from(self.consumers[c].config.max_poll_records);
        let mode = match self.consumers[c].config.share_acquire_mode {
            ShareAcquireMode::BatchOptimized => AcquireMode::BatchOptimized,
            ShareAcquireMode::RecordLimit => AcquireMode::RecordLimit,
        };
        for k in 0..n {
            if budget == 0 {
                break;
            }
            let con = &self.consumers[c];
            let p = con.owned[(con.rotate + k) % n].partition;
            let part = &self.broker.partitions[p as usize];
            let log_end = part.log.log_end_offset();
            let starts = &part.batch_starts;
            let batch_end = |off: u64| {
                let i = starts.partition_point(|&s| s <= off);
                starts.get(i).copied().unwrap_or(log_end)
            };
            let sg = self.groups[g].share_mut();
            let Some(sp) = sg.parts[p as usize].as_mut() else { continue };
            let got = sp.acquire_in(mode, c as u32, budget, now, log_end, batch_end);
            if got.is_empty() {
                continue;
            }
            let mut redelivered = 0;
            for &(from, to, count) in &got {
                let len = to - from;
                budget = budget.saturating_sub(len);
                self.rec.groups[g].share.records_acquired += len;
                if count > 1 {
                    redelivered += len;
                }
                self.consumers[c].inflight.ranges.push((p, from, to));
            }
            self.rec.groups[g].redelivered += redelivered;
            self.share_lock_timer(g, p);
        }
        self.consumers[c].inflight.len()
    }

    /// Keeps one lock-expiry check scheduled per partition, at its earliest running lock (locks
    /// are taken with one duration, so later acquisitions never expire sooner).
    fn share_lock_timer(&mut self, g: usize, p: u32) {
        let sg = self.groups[g].share_mut();
        if sg.lock_timer[p as usize] {
            return;
        }
        if let Some(at) = sg.parts[p as usize].as_ref().and_then(|sp| sp.next_deadline()) {
            sg.lock_timer[p as usize] = true;
            self.kernel.schedule_at(at, Ev::LockExpiry { g: g as u32, p });
        }
    }

    pub(crate) fn share_lock_expiry(&mut self, g: usize, p: u32) {
        let now = self.now();
        let sg = self.groups[g].share_mut();
        sg.lock_timer[p as usize] = false;
        let Some(sp) = sg.parts[p as usize].as_mut() else { return };
        let t = sp.expire_locks(now);
        let expired = t.made_available + t.archived_delivery_limit;
        if expired > 0 {
            self.rec.groups[g].share.lock_expiries += expired;
            self.rec.groups[g].share.archived_delivery_limit += t.archived_delivery_limit;
            self.rec.ledgers[g].rewind_cause[p as usize] = "lock_expiry";
            let what = What::ShareLockExpired {
                group: g as u32,
                partition: p,
                records: expired,
                archived: t.archived_delivery_limit,
            };
            self.rec.event(now, what);
            self.share_spso_moved(g, p);
            self.share_wake(g, p);
        }
        self.share_lock_timer(g, p);
    }

    /// Records came back on `p`: parked fetches of the group's members there are answered.
    pub(crate) fn share_wake(&mut self, g: usize, p: u32) {
        let waiters = std::mem::take(&mut self.broker.partitions[p as usize].waiters);
        let mut keep = Vec::new();
        let mut wake = Vec::new();
        for w in waiters {
            if self.consumers[w.0 as usize].group == g { wake.push(w) } else { keep.push(w) }
        }
        self.broker.partitions[p as usize].waiters = keep;
        for waiter in wake {
            self.answer_waiter(waiter);
        }
    }

    /// A parked share fetch woken with nothing to acquire (new records beyond a full window, or
    /// taken by another member first) stays parked until fetch.max.wait.ms.
    pub(crate) fn share_repark(&mut self, c: usize) {
        let con = &self.consumers[c];
        let key = (c as u32, con.incarnation, con.fetch_seq);
        let parts: Vec<u32> = con.owned.iter().map(|o| o.partition).collect();
        for p in parts {
            if !self.broker.partitions[p as usize].waiters.contains(&key) {
                self.park(p, key);
            }
        }
    }

    /// SPSO may have moved: Burrow-style lag status reads it as the group's committed offset.
    pub(crate) fn share_spso_moved(&mut self, g: usize, p: u32) {
        let now = self.now();
        let Some(sp) = self.groups[g].share_opt().and_then(|sg| sg.parts[p as usize].as_ref()) else { return };
        let spso = sp.spso();
        self.rec.burrow_commit(g, p, spso, now);
    }
}
