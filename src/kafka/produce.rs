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

use super::staging::{AppendTrace, PendingAppend, Staged};
use super::world::{Ev, World};
use crate::sim::SimTime;
use std::cmp::Reverse;

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
            self.staging.created_us[p].extend(ready.created_us(b));
            self.stage(p, Staged { at, seq, partition: pid, len: b.len });
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
        if queue.is_empty() {
            self.staging.heads.push(Reverse((at, seq, p as u32)));
        }
        queue.push_back(b);
        let part = &mut self.partitions[pid as usize];
        // Batches of several producers may reach a partition in another order than they were sent.
        let pos = if part.pending.back().is_none_or(|k| (k.at, k.seq) < (at, seq)) {
            part.pending.push_back(PendingAppend { at, seq, woken: false });
            part.pending.len() - 1
        } else {
            let pos = part.pending.iter().rposition(|k| (k.at, k.seq) < (at, seq)).map_or(0, |i| i + 1);
            part.pending.insert(pos, PendingAppend { at, seq, woken: false });
            pos
        };
        // A long poll parked now is answered by the first batch to arrive; a pushing broker sends
        // every batch.
        if part.push_fed || (pos == 0 && !part.waiters.is_empty()) {
            self.wake_at(pid, pos);
        }
    }

    /// Schedules the event of the `i`-th pending append of `pid` (once).
    fn wake_at(&mut self, pid: u32, i: usize) {
        let k = &mut self.partitions[pid as usize].pending[i];
        if !k.woken {
            k.woken = true;
            let (at, seq) = (k.at, k.seq);
            self.kernel.schedule_reserved(at, seq, Ev::Appended(pid));
        }
    }

    /// A long poll parks on `pid`: the next batch to arrive there answers it.
    pub(super) fn park(&mut self, pid: u32, waiter: (u32, u32, u32)) {
        self.partitions[pid as usize].waiters.push(waiter);
        if !self.partitions[pid as usize].pending.is_empty() {
            self.wake_at(pid, 0);
        }
    }

    /// Appends every batch whose place in the order is at or before (`now`, `seq`).
    pub(super) fn advance_logs(&mut self, now: SimTime, seq: u64) {
        while let Some(mut head) = self.staging.heads.peek_mut() {
            let Reverse((at, s, p)) = *head;
            if (at, s) > (now, seq) {
                break;
            }
            let queue = &mut self.staging.queues[p as usize];
            let b = queue.pop_front().expect("a head has a batch");
            // The producer's next batch takes its place among the heads (one sift, not two).
            match queue.front() {
                Some(next) => *head = Reverse((next.at, next.seq, p)),
                None => {
                    std::collections::binary_heap::PeekMut::pop(head);
                }
            }
            let part = &mut self.partitions[b.partition as usize];
            let first = part.pending.pop_front();
            debug_assert!(first.is_some_and(|k| (k.at, k.seq) == (at, s)), "appends in place order");
            let size = self.producers[p as usize].record_size;
            let times = &mut self.staging.created_us[p as usize];
            if let Some(trace) = &mut self.append_trace {
                let created_us = times.iter().take(b.len as usize).copied().collect();
                trace.push(AppendTrace {
                    partition: b.partition,
                    base_offset: part.log.log_end_offset(),
                    created_us,
                    at,
                });
            }
            let n = b.len as usize;
            let (front, back) = times.as_slices();
            let first = &front[..n.min(front.len())];
            part.log.append_parts([first, &back[..n - first.len()]], size);
            times.drain(..n);
        }
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
        for (c, inc, seq) in waiters {
            let con = &self.consumers[c as usize];
            if con.incarnation == inc
                && con.is_running()
                && con.phase == super::consumer::Phase::Fetching
                && con.fetch_seq == seq
            {
                self.respond(c as usize);
            }
        }
    }
}
