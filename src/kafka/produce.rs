//! Producers and partition logs, driven without an event per batch.
//!
//! The producers run in the feed ([`super::feed`]), which hands the world each producer tick's
//! batches and every batch in the order it reaches the broker. A tick reserves its batches'
//! places in the event order (the places their appends would have had as events); before the
//! world handles any other event, every batch placed before that event is appended to its log
//! ([`World::advance_logs`]), so whatever the event reads sees exactly the records that have
//! reached the broker by then.
//!
//! An event is still scheduled, at the batch's own place, only when the append has something to
//! do: answer a long poll parked on the partition, or push to a consumer.

use super::feed::AppendTrace;
use super::world::{Ev, World};
use crate::prefetch::prefetch;
use crate::sim::SimTime;

impl World {
    /// A producer's window: its closed batches get their places in the event order.
    pub(super) fn producer_tick(&mut self, p: usize) {
        let now = self.now();
        let kernel = &mut self.kernel;
        let (tick, range) = self.feed.take_tick(|n| kernel.reserve_many(n));
        assert!(tick.producer as usize == p && tick.at == now, "the feed replays the world's tick order");
        // A pushing broker sends every batch; a long poll parked here is answered by the first
        // batch to arrive, which this one is when it comes before the wake already scheduled.
        let place = self.kernel.place();
        for &(at, seq, pid) in &self.feed.in_flight[range] {
            let part = &mut self.partitions[pid as usize];
            if part.push_fed {
                self.kernel.schedule_reserved(at, seq, Ev::Appended(pid));
            } else if !part.waiters.is_empty() && part.next_wake.is_none_or(|k| k <= place || (at, seq) < k) {
                part.next_wake = Some((at, seq));
                self.kernel.schedule_reserved(at, seq, Ev::Appended(pid));
            }
        }
        if let Some(t) = tick.next {
            self.kernel.schedule_at(t, Ev::ProducerTick(p as u32));
        }
    }

    /// A long poll parks on `pid`: the next batch to arrive there answers it.
    pub(super) fn park(&mut self, pid: u32, waiter: (u32, u32, u32)) {
        let place = self.kernel.place();
        let part = &mut self.partitions[pid as usize];
        let had_waiters = !part.waiters.is_empty();
        part.waiters.push(waiter);
        // Every batch of a pushed partition has its event already; with waiters parked before,
        // the earliest batch on its way has one too.
        if part.push_fed || (had_waiters && part.next_wake.is_some_and(|k| k > place)) {
            return;
        }
        // Everything placed up to now is in the logs (appended before this event).
        if let Some(k) = self.feed.earliest_for(pid, place)
            && part.next_wake != Some(k)
        {
            part.next_wake = Some(k);
            self.kernel.schedule_reserved(k.0, k.1, Ev::Appended(pid));
        }
    }

    /// Appends every batch whose place in the order is at or before (`now`, `seq`).
    pub(super) fn advance_logs(&mut self, now: SimTime, seq: u64) {
        while self.feed.has_due() {
            let d = self.feed.due[self.feed.due_pos];
            if d.at > now || (d.at == now && self.feed.seq_of(d.order).is_none_or(|s| s > seq)) {
                break;
            }
            self.feed.due_pos += 1;
            // Partitions come in no order: start loading the ones a few batches ahead (their
            // state first, then, once that is in, the ends of their logs).
            let ahead = |k: usize| self.feed.due.get(self.feed.due_pos + k).map(|a| a.partition as usize);
            if let Some(a) = ahead(12) {
                prefetch(&self.partitions[a], std::mem::size_of::<super::world::Partition>());
            }
            if let Some(a) = ahead(4) {
                self.partitions[a].log.prefetch_tail();
            }
            let part = &mut self.partitions[d.partition as usize];
            let times = if d.len == 1 {
                std::slice::from_ref(&d.first)
            } else {
                &self.feed.due_us[d.first as usize..(d.first + u64::from(d.len)) as usize]
            };
            if let Some(trace) = &mut self.append_trace {
                trace.push(AppendTrace {
                    partition: d.partition,
                    base_offset: part.log.log_end_offset(),
                    created_us: times.to_vec(),
                    at: d.at,
                });
            }
            if part.share_fed {
                part.batch_starts.push_back(part.log.log_end_offset());
            }
            part.log.append(times, self.record_size[d.producer as usize]);
        }
        self.feed.forget_appended((now, seq));
    }

    /// A batch reached partition `pid` while someone was waiting for it (it is in the log now).
    pub(super) fn appended(&mut self, pid: u32) {
        for g in 0..self.groups.len() {
            if self.is_push(g) && self.groups[g].owner[pid as usize].is_some() {
                self.pump(g, pid);
            }
        }
        // fetch.min.bytes = 1: a parked long poll answers as soon as any record arrives.
        let waiters = std::mem::take(&mut self.partitions[pid as usize].waiters);
        for waiter in waiters {
            self.answer_waiter(waiter);
        }
    }
}
