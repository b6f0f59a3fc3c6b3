//! A pushed-to consumer's side of push delivery: messages arrive into its buffer (dropped,
//! blocking the broker, or unbounded, as `push_overflow` says), poll() takes records from it,
//! and credit goes back to the broker as the buffer drains.

use crate::kafka::broker::Broker;
use crate::kafka::client::{Consumer, Membership, Phase, PushBuffer};
use crate::kafka::world::{Ev, World};
use crate::record::event::What;
use crate::scenario::plan::PushOverflow;

impl World {
    /// A push message reaches the consumer.
    pub(crate) fn push_arrive(&mut self, slot: u32) {
        let (c, inc, p, from, to, epoch) = self.net.pushes.take(slot);
        let con = &mut self.consumers[c];
        if con.incarnation != inc || !con.is_running() {
            return; // the consumer died; the next owner starts from the committed offset
        }
        let n = to - from;
        let g = con.group;
        let owns = con.owns(p);
        let buf = con.push_buffer_mut().expect("a pushed-to consumer");
        buf.in_flight = buf.in_flight.saturating_sub(n);
        if !owns || self.broker.push_epoch(g, p) != epoch {
            // Revoked, or the position moved (seek, reset) since it was sent: stale, dropped.
            // Its credit comes back.
            if self.plan.groups[g].push.overflow == PushOverflow::Block {
                self.pump_owned(c);
            }
            return;
        }
        let cfg = self.plan.groups[g].push;
        let accept = buf.accept(p, from, to, cfg.overflow, cfg.buffer);
        if accept < n {
            // Counted, not logged one by one: a full buffer drops on most arrivals.
            self.rec.groups[g].drops += n - accept;
            let now = self.now();
            self.rec.groups[g].first_drop.get_or_insert(now);
        }
        let bytes = self.buffered_bytes(c);
        let st = &mut self.rec.groups[g];
        st.buffer_peak_records = st.buffer_peak_records.max(self.consumers[c].buffered());
        st.buffer_peak_bytes = st.buffer_peak_bytes.max(bytes);
        if let Some(limit) = self.plan.consumer_of(c).consumer_memory
            && cfg.overflow == PushOverflow::Unbounded
            && bytes > limit
        {
            self.rec.groups[g].out_of_memory += 1;
            let now = self.now();
            let what = What::ConsumerOutOfMemory { consumer: c as u32, buffered_bytes: bytes, consumer_memory: limit };
            self.rec.event(now, what);
            self.crash_consumer(c);
            return;
        }
        if self.consumers[c].phase == Phase::Fetching && !self.consumers[c].is_hung() {
            // Waiting in poll() for records: they are here. (A hung one takes them when it resumes.)
            self.push_take(c);
        }
    }

    /// poll() in push mode: hand the consumer up to `max_poll_records` from its buffer, or wait.
    pub(crate) fn push_take(&mut self, c: usize) {
        if !self.fix_out_of_range(c) {
            return;
        }
        let paused = self.consumers[c].paused;
        if !paused {
            let now = self.now();
            self.consumers[c].note_first_fetches(c, now, &mut self.rec);
        }
        let con = &mut self.consumers[c];
        con.fetch_seq = con.fetch_seq.wrapping_add(1);
        if con.buffered() == 0 || paused {
            con.phase = Phase::Fetching;
            // poll(timeout) returns empty after the timeout, so the loop (and the group protocol)
            // keeps turning while nothing arrives.
            let seq = con.fetch_seq;
            let wait =
                if con.config.fetch_max_wait.is_zero() { con.config.poll_interval } else { con.config.fetch_max_wait };
            self.schedule_consumer(c, wait, |c, inc| Ev::FetchExpire { c, inc, seq });
            return;
        }
        con.phase = Phase::Fetching;
        con.inflight.clear();
        let budget = u64::from(con.config.max_poll_records);
        let Consumer { inflight, membership, .. } = con;
        let Membership::Push(_, buf) = membership else { unreachable!("a pushed-to consumer") };
        buf.take(budget, &mut inflight.ranges);
        let g = con.group;
        if self.plan.groups[g].push.overflow == PushOverflow::Block {
            // The freed room goes back to the broker as credit.
            if self.net.delay.is_zero() {
                self.pump_owned(c);
            } else {
                let d = self.net.delay;
                self.schedule_consumer(c, d, |c, inc| Ev::PushCredit { c, inc });
            }
        }
        self.deliver(c);
    }

    /// The position of `p` moved (seek, offset reset): what was buffered or sent for it is stale,
    /// and the broker pushes again from `to`.
    pub(crate) fn push_restart(&mut self, c: usize, p: u32, to: u64) {
        let g = self.consumers[c].group;
        self.discard_buffer(c, Some(p));
        self.broker.restart_push(g, p, to);
    }

    /// Drops what the buffer holds for `p` (revoked) or everything (`None`: crash, stop).
    pub(crate) fn discard_buffer(&mut self, c: usize, p: Option<u32>) {
        let g = self.consumers[c].group;
        let Some(buf) = self.consumers[c].push_buffer_mut() else { return };
        let discarded = buf.discard(p);
        self.rec.groups[g].buffer_discarded += discarded;
    }

    pub(crate) fn buffered_bytes(&self, c: usize) -> u64 {
        self.consumers[c].push_buffer().map_or(0, |buf| buf.bytes(&self.broker))
    }
}

impl PushBuffer {
    /// A push message of `from..to` of partition `p` arrives: how many records the buffer takes
    /// (`drop` takes what fits in `capacity` records; `block` and `unbounded` take all).
    pub fn accept(&mut self, p: u32, from: u64, to: u64, overflow: PushOverflow, capacity: u64) -> u64 {
        let n = to - from;
        let accept = match overflow {
            PushOverflow::Drop => n.min(capacity.saturating_sub(self.records)),
            PushOverflow::Block | PushOverflow::Unbounded => n,
        };
        if accept > 0 {
            self.ranges.push_back((p, from, from + accept));
            self.records += accept;
        }
        accept
    }

    /// poll() takes up to `budget` records, oldest first, into `out`.
    pub fn take(&mut self, mut budget: u64, out: &mut Vec<(u32, u64, u64)>) {
        let mut taken = 0;
        while budget > 0 {
            let Some((p, from, to)) = self.ranges.pop_front() else { break };
            let take = (to - from).min(budget);
            out.push((p, from, from + take));
            if from + take < to {
                self.ranges.push_front((p, from + take, to));
            }
            budget -= take;
            taken += take;
        }
        self.records -= taken;
    }

    /// Drops what the buffer holds for `p` (revoked), or everything (`None`: crash, stop);
    /// returns how many records went.
    pub fn discard(&mut self, p: Option<u32>) -> u64 {
        let before = self.records;
        self.ranges.retain(|&(q, _, _)| p.is_some_and(|p| p != q));
        self.records = self.ranges.iter().map(|&(_, a, b)| b - a).sum();
        before - self.records
    }

    /// What the buffer holds in bytes, at each partition's mean record size.
    pub fn bytes(&self, broker: &Broker) -> u64 {
        self.ranges.iter().map(|&(p, a, b)| (b - a) * broker.partitions[p as usize].log.mean_record_size()).sum()
    }
}
