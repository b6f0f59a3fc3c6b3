//! Push delivery (`delivery: push`): what Kafka does not do, modelled to compare with pull. The
//! broker sends each appended batch to the partition's owner at once (in messages of at most
//! `push_batch_max` records); the consumer buffers up to `push_buffer` records and processes at its
//! own pace; `push_overflow` decides what a full buffer means: `drop` the records, `block` the
//! broker (credit-based flow control) or `unbounded` growth (until `consumer_memory`, if set).
//! Offsets and commits stay Kafka's.

use crate::kafka::broker::Broker;
use crate::kafka::client::Consumer;
use crate::kafka::cx::Cx;
use crate::kafka::world::{Ev, World};
use crate::scenario::plan::PushOverflow;

/// A push group's streams on the broker: per partition, the next offset it sends and the epoch
/// of the stream (bumped when the stream restarts: a seek, a reset, a new owner), so older
/// messages still on the wire are recognised as stale. Dense over the world's partitions.
pub struct PushStreams {
    pub offset: Vec<u64>,
    pub epoch: Vec<u32>,
}

impl PushStreams {
    /// Bytes per partition of the world of the dense tables.
    pub fn dense_bytes_per_partition() -> usize {
        std::mem::size_of::<u64>() + std::mem::size_of::<u32>()
    }

    pub fn new(total_partitions: usize) -> Result<Self, std::collections::TryReserveError> {
        Ok(PushStreams {
            offset: crate::record::dense(total_partitions, 0)?,
            epoch: crate::record::dense(total_partitions, 0)?,
        })
    }
}

impl Broker {
    fn streams(&mut self, g: usize) -> &mut PushStreams {
        self.push[g].as_mut().expect("a push group")
    }

    /// The epoch of group `g`'s stream of `p`.
    pub(crate) fn push_epoch(&self, g: usize, p: u32) -> u32 {
        self.push[g].as_ref().expect("a push group").epoch[p as usize]
    }

    /// Sends consumer `c` (`con`, the owner of `p` in group `g`) what `p` has beyond the group's
    /// push offset, within credit and at most `limit` records; returns how many were sent.
    pub(crate) fn send_push(&mut self, cx: &mut Cx, g: usize, p: u32, c: usize, con: &mut Consumer, limit: u64) -> u64 {
        if !con.is_running() || con.paused {
            return 0; // a paused consumer gets nothing; resume pumps again
        }
        let cfg = cx.plan.groups[g].push;
        let log = &self.partitions[p as usize].log;
        let (leo, start) = (log.log_end_offset(), log.log_start_offset());
        // Never push what retention deleted: the consumer's position check resets past it.
        let from = self.streams(g).offset[p as usize].max(start);
        let mut left = leo.saturating_sub(from).min(limit);
        let buf = con.push_buffer().expect("a pushed-to consumer");
        if cfg.overflow == PushOverflow::Block {
            // Credit: the broker never has more outstanding than the buffer can take.
            left = left.min(cfg.buffer.saturating_sub(buf.records + buf.in_flight));
        }
        let inc = con.incarnation;
        let epoch = self.push_epoch(g, p);
        let mut at = from;
        while left > 0 {
            let m = left.min(u64::from(cfg.batch_max));
            let slot = cx.net.pushes.insert((c, inc, p, at, at + m, epoch));
            let delay = cx.net.delay;
            cx.schedule_after(delay, Ev::PushArrive(slot));
            cx.rec.groups[g].pushes += 1;
            at += m;
            left -= m;
        }
        con.push_buffer_mut().expect("pushed-to").in_flight += at - from;
        self.streams(g).offset[p as usize] = at;
        at - from
    }

    /// The stream of `p` restarts at `to` (the position moved, or the partition has a new owner).
    pub(crate) fn restart_push(&mut self, g: usize, p: u32, to: u64) {
        let streams = self.streams(g);
        streams.epoch[p as usize] = streams.epoch[p as usize].wrapping_add(1);
        streams.offset[p as usize] = to;
    }
}

impl World {
    /// Sends what partition `p` has beyond the group's push offset to its owner, within credit
    /// and at most `limit` records.
    fn pump_limited(&mut self, g: usize, p: u32, limit: u64) -> u64 {
        let Some(c) = self.groups[g].offsets().owner(p) else { return 0 };
        let World { plan, kernel, rec, net, broker, consumers, .. } = self;
        let mut cx = Cx { plan, kernel, rec, net };
        broker.send_push(&mut cx, g, p, c, &mut consumers[c], limit)
    }
    /// A new batch on `p`: push it to the owner at once (within credit).
    pub(crate) fn pump(&mut self, g: usize, p: u32) {
        self.pump_limited(g, p, u64::MAX);
    }

    /// Credit came back: share it over the owned partitions round-robin, one message each per
    /// turn from a rotating start, so no partition starves (as a fetch rotates partitions).
    pub(crate) fn pump_owned(&mut self, c: usize) {
        let g = self.consumers[c].group;
        let n = self.consumers[c].owned.len();
        if n == 0 {
            return;
        }
        let buf = self.consumers[c].push_buffer_mut().expect("a pushed-to consumer");
        let start = buf.rotate % n;
        buf.rotate = (start + 1) % n;
        let parts: Vec<u32> = (0..n).map(|k| self.consumers[c].owned[(start + k) % n].partition).collect();
        let step = u64::from(self.plan.groups[g].push.batch_max);
        loop {
            let mut sent = 0;
            for &p in &parts {
                sent += self.pump_limited(g, p, step);
            }
            if sent == 0 {
                break;
            }
        }
    }
}
