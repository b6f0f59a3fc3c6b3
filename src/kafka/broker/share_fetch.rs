//! The broker's side of a share group: a ShareFetch carries the member's acknowledgements
//! (applied all or nothing per partition) and acquires records for it, re-deliveries first;
//! acquisition locks run out into AVAILABLE (or ARCHIVED at the delivery limit); anything that
//! makes records available again wakes the long polls parked on the partition.

use crate::kafka::broker::share_partition::{AckType, AcquireMode, ShareConfig, SharePartition};
use crate::kafka::broker::{Broker, GroupShares};
use crate::kafka::client::Consumer;
use crate::kafka::cx::Cx;
use crate::kafka::world::{Ev, World};
use crate::record::event::What;
use crate::scenario::plan::{ShareAcquireMode, ShareOffsetReset};

impl Broker {
    fn shares(&mut self, g: usize) -> &mut GroupShares {
        self.shares[g].as_mut().expect("a share group")
    }

    /// Consumer `c`'s acknowledgements of records of `p`, applied all or nothing. True when they
    /// were applied (then the partition's parked fetches are to be completed).
    pub(crate) fn share_acknowledge(
        &mut self,
        cx: &mut Cx,
        g: usize,
        c: usize,
        p: u32,
        list: &[(u64, u64, AckType)],
    ) -> bool {
        let Some(sp) = self.shares(g).parts[p as usize].as_mut() else { return false };
        match sp.acknowledge(c as u32, list) {
            Ok(t) => {
                let stats = &mut cx.rec.groups[g].share;
                stats.archived_delivery_limit += t.archived_delivery_limit;
                stats.archived_reject += t.archived_reject;
                if t.archived_delivery_limit + t.archived_reject > 0 {
                    cx.event(What::RecordsArchived {
                        consumer: c as u32,
                        partition: p,
                        delivery_limit: t.archived_delivery_limit,
                        rejected: t.archived_reject,
                    });
                }
                if t.made_available > 0 {
                    cx.rec.ledgers[g].set_rewind_cause(p, "release");
                }
                self.share_spso_moved(cx, g, p);
                true
            }
            Err(e) => {
                // InvalidRecordStateException: the lock ran out (the records went back, maybe
                // to someone else) before the acknowledgement came; nothing is applied.
                let n: u64 = list.iter().map(|&(a, b, _)| b - a).sum();
                cx.rec.groups[g].share.ack_failures += n;
                cx.event(What::ShareAckFailed { consumer: c as u32, partition: p, records: n, offset: e.offset });
                false
            }
        }
    }

    /// Acquires records for consumer `c` from its assigned partitions, starting at a rotating
    /// one, up to `max_poll_records` in all (a producer batch may round it up).
    pub(crate) fn share_acquire(&mut self, cx: &mut Cx, g: usize, c: usize, con: &mut Consumer) -> usize {
        let now = cx.now();
        con.inflight.clear();
        let n = con.owned.len();
        let mut budget = u64::from(con.config.max_poll_records);
        let mode = match con.config.share_acquire_mode {
            ShareAcquireMode::BatchOptimized => AcquireMode::BatchOptimized,
            ShareAcquireMode::RecordLimit => AcquireMode::RecordLimit,
        };
        for k in 0..n {
            if budget == 0 {
                break;
            }
            let p = con.owned[(con.rotate + k) % n].partition;
            let part = &self.partitions[p as usize];
            let log_end = part.log.log_end_offset();
            let starts = &part.batch_starts;
            let batch_end = |off: u64| {
                let i = starts.partition_point(|&s| s <= off);
                starts.get(i).copied().unwrap_or(log_end)
            };
            let Some(sp) = self.shares[g].as_mut().expect("a share group").parts[p as usize].as_mut() else { continue };
            let got = sp.acquire_in(mode, c as u32, budget, now, log_end, batch_end);
            if got.is_empty() {
                continue;
            }
            let mut redelivered = 0;
            for &(from, to, count) in &got {
                let len = to - from;
                budget = budget.saturating_sub(len);
                cx.rec.groups[g].share.records_acquired += len;
                if count > 1 {
                    redelivered += len;
                }
                con.inflight.ranges.push((p, from, to));
            }
            cx.rec.groups[g].redelivered += redelivered;
            self.share_lock_timer(cx, g, p);
        }
        con.inflight.len()
    }

    /// Keeps one lock-expiry check scheduled per partition, at its earliest running lock (locks
    /// are taken with one duration, so later acquisitions never expire sooner).
    fn share_lock_timer(&mut self, cx: &mut Cx, g: usize, p: u32) {
        let shares = self.shares(g);
        if shares.lock_timer[p as usize] {
            return;
        }
        if let Some(at) = shares.parts[p as usize].as_ref().and_then(|sp| sp.next_deadline()) {
            shares.lock_timer[p as usize] = true;
            cx.schedule_at(at, Ev::LockExpiry { g: g as u32, p });
        }
    }

    /// The partition's earliest acquisition lock runs out. True when records came back (then
    /// the partition's parked fetches are to be completed).
    pub(crate) fn share_lock_expiry(&mut self, cx: &mut Cx, g: usize, p: u32) -> bool {
        let now = cx.now();
        let shares = self.shares(g);
        shares.lock_timer[p as usize] = false;
        let Some(sp) = shares.parts[p as usize].as_mut() else { return false };
        let t = sp.expire_locks(now);
        let expired = t.made_available + t.archived_delivery_limit;
        if expired > 0 {
            let stats = &mut cx.rec.groups[g].share;
            stats.lock_expiries += expired;
            stats.archived_delivery_limit += t.archived_delivery_limit;
            cx.rec.ledgers[g].set_rewind_cause(p, "lock_expiry");
            cx.event(What::ShareLockExpired {
                group: g as u32,
                partition: p,
                records: expired,
                archived: t.archived_delivery_limit,
            });
            self.share_spso_moved(cx, g, p);
        }
        expired > 0
    }

    /// After a lock expiry: the next check goes in at the earliest lock still running.
    pub(crate) fn share_lock_rearm(&mut self, cx: &mut Cx, g: usize, p: u32) {
        self.share_lock_timer(cx, g, p);
    }

    /// Share-partitions of group `g` first assigned (among `parts`) get their share state now,
    /// starting where share.auto.offset.reset points (initialization is not modelled as taking
    /// time).
    pub(crate) fn initialize_share_partitions(
        &mut self,
        g: usize,
        parts: impl IntoIterator<Item = u32>,
        reset: ShareOffsetReset,
        config: ShareConfig,
    ) {
        for p in parts {
            if self.share_parts(g)[p as usize].is_some() {
                continue;
            }
            let log = &self.partitions[p as usize].log;
            let start = match reset {
                ShareOffsetReset::Earliest => log.log_start_offset(),
                ShareOffsetReset::Latest => log.log_end_offset(),
            };
            self.share_parts_mut(g)[p as usize] = Some(SharePartition::new(start, config));
        }
    }

    /// SPSO may have moved: Burrow-style lag status reads it as the group's committed offset.
    pub(crate) fn share_spso_moved(&self, cx: &mut Cx, g: usize, p: u32) {
        let now = cx.now();
        let Some(sp) = self.shares[g].as_ref().and_then(|s| s.parts[p as usize].as_ref()) else { return };
        cx.rec.burrow_commit(g, p, sp.spso(), now);
    }
}

impl World {
    /// The acknowledgements the member's application made since its last poll, piggy-backed on
    /// this ShareFetch (or sent by close(); ShareConsumerImpl sends pending acks with the next
    /// fetch). Each partition's are applied, then its parked fetches completed, in turn.
    pub(crate) fn share_send_acks(&mut self, c: usize) {
        let acks = std::mem::take(&mut self.consumers[c].share_mut().acks);
        let g = self.consumers[c].group;
        for run in acks.chunk_by(|a, b| a.0 == b.0) {
            let p = run[0].0;
            let list: Vec<(u64, u64, AckType)> = run.iter().map(|&(_, from, to, ack)| (from, to, ack)).collect();
            let (broker, mut cx) = self.broker_cx();
            if broker.share_acknowledge(&mut cx, g, c, p, &list) {
                // Every acknowledgement completes the fetches parked on the partition
                // (SharePartitionManager.acknowledge -> completeDelayedShareFetchRequest): a
                // slid window or a released record may be theirs now.
                self.share_wake(g, p);
            }
        }
    }

    /// Acquires records for consumer `c` (see [`Broker::share_acquire`]).
    pub(crate) fn share_gather(&mut self, c: usize) -> usize {
        let g = self.consumers[c].group;
        let World { plan, kernel, rec, net, broker, consumers, .. } = self;
        let mut cx = Cx { plan, kernel, rec, net };
        broker.share_acquire(&mut cx, g, c, &mut consumers[c])
    }

    pub(crate) fn share_lock_expiry(&mut self, g: usize, p: u32) {
        let (broker, mut cx) = self.broker_cx();
        if broker.share_lock_expiry(&mut cx, g, p) {
            self.share_wake(g, p);
        }
        let (broker, mut cx) = self.broker_cx();
        broker.share_lock_rearm(&mut cx, g, p);
    }

    /// Records came back on `p`: parked fetches of the group's members there are answered.
    pub(crate) fn share_wake(&mut self, g: usize, p: u32) {
        // Only share fetches of the group are woken, and those park per partition (`purgatory`).
        let waiters = std::mem::take(&mut self.broker.partitions[p as usize].waiters);
        let (wake, keep): (Vec<_>, Vec<_>) = waiters.into_iter().partition(|w| self.consumers[w.c as usize].group == g);
        self.broker.partitions[p as usize].waiters = keep;
        for waiter in wake {
            self.answer_waiter(waiter.key());
        }
    }

    /// A parked share fetch woken with nothing to acquire (new records beyond a full window, or
    /// taken by another member first) stays parked until fetch.max.wait.ms.
    pub(crate) fn share_repark(&mut self, c: usize) {
        let con = &self.consumers[c];
        let key = (c as u32, con.incarnation, con.fetch_seq);
        let parts: Vec<u32> = con.owned.iter().map(|o| o.partition).collect();
        for p in parts {
            if !self.broker.partitions[p as usize].waiters.iter().any(|w| w.key() == key) {
                self.park(p, key);
            }
        }
    }

    /// SPSO may have moved (see [`Broker::share_spso_moved`]).
    pub(crate) fn share_spso_moved(&mut self, g: usize, p: u32) {
        let (broker, mut cx) = self.broker_cx();
        broker.share_spso_moved(&mut cx, g, p);
    }
}
