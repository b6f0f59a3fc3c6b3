//! Producers and partition logs, driven without an event per batch.
//!
//! The producers run in the feed ([`crate::kafka::producer::feed`]), which hands the world each producer tick's
//! batches and every batch in the order it reaches the broker. A tick reserves its batches'
//! places in the event order (the places their appends would have had as events); before the
//! world handles any event, every batch placed before that event is appended to its log
//! ([`World::advance_logs`]), so whatever the event reads sees exactly the records that have
//! reached the broker by then.
//!
//! When an append has something to do (answer a long poll parked on the partition, or push to a
//! consumer), the world stops there and handles the arrival at the batch's own place, as the
//! event it would have been; no event is queued for it.

use crate::kafka::producer::feed::AppendTrace;
use crate::kafka::world::World;
use crate::prefetch::prefetch;
use crate::sim::SimTime;

impl World {
    /// A producer's window: its closed batches get their places in the event order. The world
    /// enters the tick at its own place, with no event queued for it (see
    /// [`Feed::next_tick_place`](crate::kafka::producer::feed::Feed::next_tick_place)).
    pub(crate) fn producer_tick(&mut self) {
        let kernel = &mut self.kernel;
        let tick = self.feed.take_tick(|n| kernel.reserve_many(n));
        debug_assert!(tick.at == self.now(), "the feed replays the world's tick order");
        if tick.next.is_some() {
            // The place its next tick has, as if it were queued now (ticks past the run's end
            // take theirs too, so every later sequence number stays the same).
            let seq = self.kernel.reserve();
            self.feed.tick_placed(tick.producer, seq);
        }
    }

    /// A long poll parks on `pid`: the next batch to arrive there answers it (see
    /// [`advance_logs`](Self::advance_logs)).
    pub(crate) fn park(&mut self, pid: u32, waiter: (u32, u32, u32)) {
        // Fetches answered (or given up) since they parked here are dropped first, so a
        // partition that receives nothing holds one entry per fetch still out, not one per poll.
        let mut waiters = std::mem::take(&mut self.broker.partitions[pid as usize].waiters);
        waiters.retain(|&w| self.waiting(w));
        waiters.push(waiter);
        self.broker.partitions[pid as usize].waiters = waiters;
    }

    /// Appends, in order, every batch placed before `limit`, and stops after one whose arrival
    /// has something to do: a long poll is parked on its partition, or a group pushes it. That
    /// one's place is returned; the world handles its arrival there before anything else.
    pub(crate) fn advance_logs(&mut self, limit: (SimTime, u64)) -> Option<(SimTime, u64, u32)> {
        let mut woken = None;
        while self.feed.has_due() {
            let d = self.feed.due[self.feed.due_pos];
            if d.at > limit.0 || (d.at == limit.0 && self.feed.seq_of(d.order).is_none_or(|s| s > limit.1)) {
                break;
            }
            self.feed.due_pos += 1;
            // Partitions come in no order: in a large world, start loading the ones a few
            // batches ahead (their state first, then, once that is in, the ends of their logs).
            if self.broker.prefetch_appends {
                let ahead = |k: usize| self.feed.due.get(self.feed.due_pos + k).map(|a| a.partition as usize);
                if let Some(a) = ahead(12) {
                    prefetch(&self.broker.partitions[a], std::mem::size_of::<crate::kafka::world::Partition>());
                }
                if let Some(a) = ahead(4) {
                    self.broker.partitions[a].log.prefetch_tail();
                }
            }
            let part = &mut self.broker.partitions[d.partition as usize];
            let times = if d.len == 1 {
                std::slice::from_ref(&d.first)
            } else {
                &self.feed.due_us[d.first as usize..(d.first + u64::from(d.len)) as usize]
            };
            if let Some(trace) = &mut self.broker.append_trace {
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
            part.log.append(times, self.broker.record_size[d.producer as usize]);
            if part.push_fed || !part.waiters.is_empty() {
                let seq = self.feed.seq_of(d.order).expect("a batch placed before the limit had its tick handled");
                woken = Some((d.at, seq, d.partition));
                break;
            }
        }
        self.feed.forget_appended(woken.map_or(limit.0, |w| w.0));
        woken
    }

    /// A batch reached partition `pid` while someone was waiting for it (it is in the log now).
    pub(crate) fn appended(&mut self, pid: u32) {
        for g in 0..self.groups.len() {
            if self.is_push(g) && self.groups[g].classic().owner[pid as usize].is_some() {
                self.pump(g, pid);
            }
        }
        // fetch.min.bytes = 1: a parked long poll answers as soon as any record arrives.
        let waiters = std::mem::take(&mut self.broker.partitions[pid as usize].waiters);
        for waiter in waiters {
            self.answer_waiter(waiter);
        }
    }
}
