//! Producers and partition logs, driven without an event per batch.
//!
//! A producer tick (one per producer per `linger_ms`-or-1-ms window) draws the window's records
//! and closes its batches. Each closed batch gets the place in the event order its append would
//! have had as an event — the time it reaches the broker and a reserved sequence number — and
//! waits in its producer's queue. Before the world handles any event, every batch placed before
//! that event is appended to its log ([`World::advance_logs`]), so whatever the event reads sees
//! exactly the records that have reached the broker by then.
//!
//! An event is still scheduled, at the batch's own place, only when the append has something to
//! do: answer a long poll parked on the partition, or push to a consumer.

use super::staging::{AppendTrace, Staged};
use super::world::{Ev, World};
use crate::sim::SimTime;

impl World {
    /// A producer's window: its closed batches are placed in the event order, not queued as events.
    pub(super) fn producer_tick(&mut self, p: usize) {
        let now = self.now();
        let prod = &mut self.producers[p];
        let window_end = now + prod.window();
        let mut ready = std::mem::take(&mut self.ready_scratch);
        ready.clear();
        prod.produce_window(now, window_end, &mut ready);
        let topic = prod.topic;
        let next = prod.next_activity(window_end);
        for b in &ready.batches {
            let pid = self.topics[topic].first_partition + b.partition;
            let at = b.send_time + self.delay;
            // The place its append event would have had: the order of everything else is unchanged.
            let seq = self.kernel.reserve();
            let times = ready.created_us(b);
            if b.len > 1 {
                self.staging.created_us[p].extend(times);
            }
            self.stage(p, Staged { at, seq, partition: pid, len: b.len, first_us: times[0] });
        }
        self.ready_scratch = ready;
        if let Some(t) = next {
            self.kernel.schedule_at(t, Ev::ProducerTick(p as u32));
        }
    }

    fn stage(&mut self, p: usize, b: Staged) {
        let (at, seq, pid) = (b.at, b.seq, b.partition);
        let queue = &mut self.staging.queues[p];
        debug_assert!(queue.back().is_none_or(|l| (l.at, l.seq) < (at, seq)), "a producer's batches arrive in order");
        queue.push_back(b);
        // A pushing broker sends every batch; a long poll parked here is answered by the first
        // batch to arrive, which this one is when it comes before the wake already scheduled.
        let place = self.kernel.place();
        let part = &mut self.partitions[pid as usize];
        if part.push_fed {
            self.kernel.schedule_reserved(at, seq, Ev::Appended(pid));
        } else if !part.waiters.is_empty() && part.next_wake.is_none_or(|k| k <= place || (at, seq) < k) {
            part.next_wake = Some((at, seq));
            self.kernel.schedule_reserved(at, seq, Ev::Appended(pid));
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
        // The earliest batch on its way to `pid`: each producer's queue is in arrival order, so
        // its first batch for `pid` is its earliest.
        let topic = part.topic;
        let mut earliest: Option<(SimTime, u64)> = None;
        for (p, queue) in self.staging.queues.iter().enumerate() {
            if self.producers[p].topic != topic {
                continue;
            }
            if let Some(b) = queue.iter().find(|b| b.partition == pid) {
                earliest = Some(earliest.map_or((b.at, b.seq), |e| e.min((b.at, b.seq))));
            }
        }
        let part = &mut self.partitions[pid as usize];
        if let Some(k) = earliest
            && part.next_wake != Some(k)
        {
            part.next_wake = Some(k);
            self.kernel.schedule_reserved(k.0, k.1, Ev::Appended(pid));
        }
    }

    /// Appends every batch whose place in the order is at or before (`now`, `seq`).
    pub(super) fn advance_logs(&mut self, now: SimTime, seq: u64) {
        if !self.staging.take_due((now, seq)) {
            return;
        }
        let mut touched = std::mem::take(&mut self.staging.touched);
        for &pid in &touched {
            self.staging.sort_picks(pid);
            let part = &mut self.partitions[pid as usize];
            for b in &self.staging.picks[pid as usize] {
                let size = self.producers[b.producer as usize].record_size;
                let times = if b.len == 1 {
                    std::slice::from_ref(&b.first)
                } else {
                    &self.staging.times[b.first as usize..(b.first + u64::from(b.len)) as usize]
                };
                if let Some(trace) = &mut self.append_trace {
                    trace.push(AppendTrace {
                        partition: pid,
                        base_offset: part.log.log_end_offset(),
                        created_us: times.to_vec(),
                        at: b.at,
                    });
                }
                if part.share_fed {
                    part.batch_starts.push_back(part.log.log_end_offset());
                }
                part.log.append(times, size);
            }
            self.staging.picks[pid as usize].clear();
        }
        touched.clear();
        self.staging.touched = touched;
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
