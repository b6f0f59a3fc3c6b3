//! A producer: arrivals at a rate, keys, partitioning, and the record accumulator that groups
//! records into batches by `linger_ms` and `batch_size`, so the engine moves batches, not records.
//!
//! The producer works one window of virtual time per event: it draws the arrivals of the window,
//! files each record into its partition's open batch, and hands back the batches that close inside
//! the window (full, or `linger_ms` after their first record) with their exact send times.

use crate::kafka::producer::partitioner::{KeySource, KeyTables, NullKeyPartitioner};
use crate::scenario::plan::{Arrival, PartitionerKind, ProducerPlan};
use crate::sim::rng::SimRng;
use crate::sim::{RngStreams, SimDuration, SimTime};
use rand_distr::{Distribution, Exp1};

/// A batch leaving the producer: appended to `partition` at `send_time` + network delay. Its
/// records' create times are `Closed::created_us[start..start + len]`.
#[derive(Clone, Copy, Debug)]
pub struct ReadyBatch {
    pub partition: u32,
    pub send_time: SimTime,
    pub start: u32,
    pub len: u32,
}

/// The batches a window closed, with their records' create times (microseconds) in one buffer,
/// so a batch costs no allocation of its own.
#[derive(Default)]
pub struct Closed {
    pub batches: Vec<ReadyBatch>,
    pub created_us: Vec<u64>,
}

impl Closed {
    pub fn clear(&mut self) {
        self.batches.clear();
        self.created_us.clear();
    }

    pub fn created_us(&self, b: &ReadyBatch) -> &[u64] {
        &self.created_us[b.start as usize..(b.start + b.len) as usize]
    }
}

const NO_BATCH: u32 = u32::MAX;

#[derive(Default)]
struct OpenBatch {
    deadline: u64,
    created_us: Vec<u64>,
    bytes: u64,
}

pub struct Producer {
    pub name: String,
    pub topic: usize,
    partitions: u32,
    arrival: Arrival,
    rate: f64,
    /// Rate changes from the timeline, known in advance so arrivals drawn ahead honour them.
    rate_changes: Vec<(u64, f64)>,
    /// When the first of them happens (u64::MAX: none).
    change_at: u64,
    /// add_partitions on the topic: from then on keys hash over the new count (the key source
    /// for that count is made in advance, so its table is shared with the other producers).
    partition_changes: Vec<(u64, u32, KeySource)>,
    keys: KeySource,
    null_key: NullKeyPartitioner,
    round_robin_all: bool,
    linger: u64,
    batch_size: u64,
    pub record_size: u64,
    arrivals_rng: SimRng,
    keys_rng: SimRng,
    partition_rng: SimRng,
    /// Next arrival time (ns); u64::MAX when the rate is 0 with no change ahead.
    next_arrival: u64,
    /// Arrivals since the last rate change (constant arrivals are placed at start + i / rate).
    constant_origin: u64,
    constant_index: u64,
    /// Per partition, the slot in `open_batches` of its open batch (NO_BATCH: none). Four bytes
    /// a partition, as a producer may write to 10,000 of them.
    open: Vec<u32>,
    open_batches: Vec<OpenBatch>,
    free_slots: Vec<u32>,
    open_list: Vec<u32>,
    spare: Vec<Vec<u64>>,
    pub records_produced: u64,
    /// Keys drawn ahead with their partitions; `key_next` is the next one to use.
    key_ahead: Vec<(u64, u32)>,
    key_next: usize,
    /// The block of keys after those: drawn, their table entries on their way into the cache.
    keys_coming: Vec<u64>,
    /// Poisson arrivals: exponential draws made a block ahead, and the gaps (ns) they give at
    /// `gaps_rate`; `gap_next` is the next one to use.
    gaps: Gaps,
}

/// How many exponential draws a Poisson producer makes ahead.
const GAPS_AHEAD: usize = 128;

/// The arrivals stream is the producer's own and every draw is one `Exp1` sample, so drawing a
/// block ahead takes the same values in the same order; the gap of a draw follows the rate in
/// force when it is used, so a rate change converts the block's rest again.
struct Gaps {
    exp: Box<[f64; GAPS_AHEAD]>,
    ns: Box<[u64; GAPS_AHEAD]>,
    next: usize,
    rate: f64,
}

impl Gaps {
    fn new() -> Self {
        Gaps { exp: Box::new([0.0; GAPS_AHEAD]), ns: Box::new([0; GAPS_AHEAD]), next: GAPS_AHEAD, rate: f64::NAN }
    }

    /// The next inter-arrival time (ns) at `rate` (> 0): `round(e * 1e9 / rate)` of the next draw.
    #[inline(always)]
    fn next(&mut self, rate: f64, rng: &mut SimRng) -> u64 {
        if self.next == GAPS_AHEAD || rate.to_bits() != self.rate.to_bits() {
            self.refill(rate, rng);
        }
        self.next += 1;
        self.ns[self.next - 1]
    }

    /// Draws the next block (all used) or converts the block's rest at a new rate.
    #[inline(never)]
    fn refill(&mut self, rate: f64, rng: &mut SimRng) {
        if self.next == GAPS_AHEAD {
            // A tight loop of draws, then of conversions: neither waits on the other.
            for e in self.exp.iter_mut() {
                *e = Exp1.sample(rng);
            }
            self.next = 0;
        }
        self.convert(rate);
    }

    fn convert(&mut self, rate: f64) {
        self.rate = rate;
        for (ns, &e) in self.ns[self.next..].iter_mut().zip(&self.exp[self.next..]) {
            *ns = round_to_u64(e * 1e9 / rate);
        }
    }
}

/// How many keys a producer draws ahead.
const KEYS_AHEAD: usize = 64;

impl Producer {
    pub fn new(
        plan: &ProducerPlan,
        partitions: u32,
        rate_changes: Vec<(SimTime, f64)>,
        partition_changes: Vec<(SimTime, u32)>,
        rngs: &RngStreams,
        tables: &mut KeyTables,
    ) -> Self {
        let base = format!("producer/{}", plan.name);
        let mut partition_rng = rngs.stream(&format!("{base}/partitioner"));
        let null_key = NullKeyPartitioner::new(plan.partitioner, partitions, &mut partition_rng);
        let mut p = Producer {
            name: plan.name.clone(),
            topic: plan.topic,
            partitions,
            arrival: plan.arrival,
            rate: plan.rate,
            change_at: rate_changes.first().map_or(u64::MAX, |c| c.0.as_nanos()),
            rate_changes: rate_changes.into_iter().map(|(t, r)| (t.as_nanos(), r)).collect(),
            partition_changes: partition_changes
                .into_iter()
                .map(|(t, n)| (t.as_nanos(), n, KeySource::new(&plan.keys, n, tables)))
                .collect(),
            keys: KeySource::new(&plan.keys, partitions, tables),
            null_key,
            round_robin_all: plan.partitioner == PartitionerKind::RoundRobin,
            linger: plan.linger.as_nanos(),
            batch_size: plan.batch_size,
            record_size: plan.record_size,
            arrivals_rng: rngs.stream(&format!("{base}/arrivals")),
            keys_rng: rngs.stream(&format!("{base}/keys")),
            partition_rng,
            next_arrival: 0,
            constant_origin: 0,
            constant_index: 0,
            open: vec![NO_BATCH; partitions as usize],
            open_batches: Vec::new(),
            free_slots: Vec::new(),
            open_list: Vec::new(),
            spare: Vec::new(),
            records_produced: 0,
            key_ahead: Vec::with_capacity(KEYS_AHEAD),
            key_next: 0,
            keys_coming: Vec::with_capacity(KEYS_AHEAD),
            gaps: Gaps::new(),
        };
        p.next_arrival = p.draw_after(0, true);
        p
    }

    /// How much virtual time one event covers: long enough to batch, short enough to stay exact
    /// without looking far ahead.
    #[cfg(test)]
    fn new_for_test(
        plan: &ProducerPlan,
        partitions: u32,
        rate_changes: Vec<(SimTime, f64)>,
        rngs: &RngStreams,
    ) -> Self {
        Self::new(plan, partitions, rate_changes, Vec::new(), rngs, &mut KeyTables::default())
    }

    pub fn window(&self) -> SimDuration {
        SimDuration(self.linger.max(1_000_000))
    }

    pub fn current_rate(&self) -> f64 {
        self.rate
    }

    /// The arrival after `t` (ns). `fresh` restarts the arrival process at `t` (start or rate change).
    #[inline(always)]
    fn draw_after(&mut self, t: u64, fresh: bool) -> u64 {
        let candidate = if self.rate <= 0.0 {
            u64::MAX
        } else {
            match self.arrival {
                Arrival::Poisson => t.saturating_add(self.gaps.next(self.rate, &mut self.arrivals_rng)),
                Arrival::Constant => {
                    if fresh {
                        self.constant_origin = t;
                        self.constant_index = 0;
                    }
                    self.constant_index += 1;
                    let offset = round_to_u64(self.constant_index as f64 * 1e9 / self.rate);
                    self.constant_origin.saturating_add(offset)
                }
            }
        };
        if candidate < self.change_at || self.rate_changes.is_empty() {
            return candidate; // (both u64::MAX: paused for good)
        }
        self.restart_at_change()
    }

    /// The rate changes before the next arrival: the process restarts at the change
    /// (memoryless for Poisson; a constant stream re-phases to the new spacing).
    #[cold]
    #[inline(never)]
    fn restart_at_change(&mut self) -> u64 {
        let (at, rate) = self.rate_changes.remove(0);
        self.change_at = self.rate_changes.first().map_or(u64::MAX, |c| c.0);
        self.rate = rate;
        self.draw_after(at, true)
    }

    /// Draws every arrival in `[from, to)` and returns the batches that close before `to`.
    pub fn produce_window(&mut self, from: SimTime, to: SimTime, out: &mut Closed) {
        let to = to.as_nanos();
        debug_assert!(self.next_arrival >= from.as_nanos());
        while self.next_arrival < to {
            if self.sticky_run(to) > 0 {
                continue;
            }
            let a = self.next_arrival;
            self.add_record(a, out);
            self.next_arrival = self.draw_after(a, false);
        }
        // Batches whose linger expires inside the window leave at their deadline.
        let mut i = 0;
        while i < self.open_list.len() {
            let p = self.open_list[i];
            if self.open_ref(p).is_some_and(|b| b.deadline < to) {
                self.open_list.swap_remove(i);
                self.close(p, None, out);
            } else {
                i += 1;
            }
        }
        // Deterministic order among batches leaving at the same instant.
        out.batches.sort_by_key(|b| (b.send_time, b.partition));
    }

    /// When the producer next has something to do at or after `t`.
    pub fn next_activity(&self, t: SimTime) -> Option<SimTime> {
        let deadline = self.open_list.iter().filter_map(|&p| self.open_ref(p)).map(|b| b.deadline).min();
        let next = deadline.unwrap_or(u64::MAX).min(self.next_arrival);
        (next != u64::MAX).then(|| SimTime(next.max(t.as_nanos())))
    }

    /// Null-key records into the sticky partition's open batch, as many in a row as
    /// [`add_record`](Self::add_record) would file there without anything else happening: before
    /// `to`, the batch's deadline and the next add_partitions, while the batch stays short of full
    /// and the partitioner has no reason to switch. Each record gets exactly what add_record
    /// gives it; the loop only skips the checks that cannot fire. Returns how many it filed.
    fn sticky_run(&mut self, to: u64) -> u64 {
        if self.linger == 0 || self.round_robin_all || self.keys.is_keyed() {
            return 0;
        }
        let NullKeyPartitioner::Sticky { current, produced_bytes } = self.null_key else { return 0 };
        let slot = self.open[current as usize];
        if slot == NO_BATCH {
            return 0;
        }
        let (size, batch_size) = (self.record_size, self.batch_size);
        let next_change = self.partition_changes.first().map_or(u64::MAX, |c| c.0);
        let batch = &mut self.open_batches[slot as usize];
        let limit = to.min(batch.deadline).min(next_change);
        let mut times = std::mem::take(&mut batch.created_us);
        let (mut bytes, mut produced) = (batch.bytes, produced_bytes);
        let mut n = 0;
        // Not full after it (full: the next record would not fit), and under the 2 x batch.size
        // at which the sticky partitioner switches even with its batch open.
        while self.next_arrival < limit
            && bytes.saturating_add(size.saturating_mul(2)) <= batch_size
            && produced.saturating_add(size) < batch_size.saturating_mul(2)
        {
            let a = self.next_arrival;
            times.push(a / 1_000);
            bytes += size;
            produced += size;
            n += 1;
            self.next_arrival = self.draw_after(a, false);
        }
        let batch = &mut self.open_batches[slot as usize];
        batch.created_us = times;
        batch.bytes = bytes;
        if let NullKeyPartitioner::Sticky { produced_bytes, .. } = &mut self.null_key {
            *produced_bytes = produced;
        }
        self.records_produced += n;
        n
    }

    /// linger.ms = 0: every record leaves at once, in a batch of its own (none is ever open).
    pub fn sends_singles(&self) -> bool {
        self.linger == 0
    }

    /// [`produce_window`](Self::produce_window) for a producer that
    /// [`sends_singles`](Self::sends_singles): `sink(send_ns, partition)` gets each record of
    /// `[from, to)` in the order they are drawn, which is arrival order (equal arrivals are left
    /// for the caller to order by partition, as `produce_window` does).
    #[inline]
    pub fn produce_singles(&mut self, to: SimTime, mut sink: impl FnMut(u64, u32)) {
        debug_assert!(self.sends_singles());
        let to = to.as_nanos();
        // The next arrival and the count in locals, written back once: as fields, each record
        // stored and reloaded them around the calls that draw blocks ahead.
        let (mut next, mut n) = (self.next_arrival, 0);
        while next < to {
            let a = next;
            sink(a, self.send_single(a));
            n += 1;
            next = self.draw_after(a, false);
        }
        self.next_arrival = next;
        self.records_produced += n;
    }

    /// The partition of a record sent at `a` in a batch of its own (the caller counts it).
    #[inline(always)]
    fn send_single(&mut self, a: u64) -> u32 {
        let (p, keyed) = self.partition_for(a);
        if !keyed {
            let (size, batch_size, n) = (self.record_size, self.batch_size, self.partitions);
            self.null_key.on_appended(size, batch_size, false, n, &mut self.partition_rng);
        }
        p
    }

    /// The partition of the record produced at `a`, and whether it has a key (the caller counts
    /// the record in `records_produced`).
    #[inline(always)]
    fn partition_for(&mut self, a: u64) -> (u32, bool) {
        if self.partition_changes.first().is_some_and(|c| c.0 <= a) {
            self.change_partitions(a);
        }
        let key = if self.round_robin_all || !self.keys.is_keyed() { None } else { Some(self.next_key()) };
        let p = match key {
            Some((_, p)) => p,
            None => self.null_key.partition(self.partitions),
        };
        (p, key.is_some())
    }

    #[cold]
    fn change_partitions(&mut self, a: u64) {
        while self.partition_changes.first().is_some_and(|c| c.0 <= a) {
            let (_, n, keys) = self.partition_changes.remove(0);
            // The producer's metadata now shows n partitions: keys map anew (murmur2 % n).
            self.partitions = n;
            self.keys = keys;
            self.open.resize(n as usize, NO_BATCH);
            // Keys drawn ahead keep their draw; their partitions follow the new count.
            for e in &mut self.key_ahead[self.key_next..] {
                e.1 = self.keys.partition_of(e.0);
            }
        }
    }

    fn add_record(&mut self, a: u64, out: &mut Closed) {
        self.records_produced += 1;
        if self.sends_singles() {
            let p = self.send_single(a);
            let start = out.created_us.len() as u32;
            out.created_us.push(a / 1_000);
            out.batches.push(ReadyBatch { partition: p, send_time: SimTime(a), start, len: 1 });
            return;
        }
        let (p, keyed) = self.partition_for(a);
        let pi = p as usize;
        if self.open_ref(p).is_some_and(|b| b.deadline <= a) {
            self.remove_open(p);
            self.close(p, None, out);
        }
        if self.open[pi] == NO_BATCH {
            let mut created_us = self.spare.pop().unwrap_or_default();
            created_us.clear();
            let batch = OpenBatch { deadline: a + self.linger, created_us, bytes: 0 };
            let slot = match self.free_slots.pop() {
                Some(slot) => {
                    self.open_batches[slot as usize] = batch;
                    slot
                }
                None => {
                    self.open_batches.push(batch);
                    self.open_batches.len() as u32 - 1
                }
            };
            self.open[pi] = slot;
            self.open_list.push(p);
        }
        let batch = &mut self.open_batches[self.open[pi] as usize];
        batch.created_us.push(a / 1_000);
        batch.bytes += self.record_size;
        // Kafka sends a batch as soon as the next record would not fit in it.
        let full = batch.bytes + self.record_size > self.batch_size;
        if full || self.linger == 0 {
            self.remove_open(p);
            self.close(p, Some(a), out);
        }
        if !keyed {
            let open = self.open[pi] != NO_BATCH;
            self.null_key.on_appended(
                self.record_size,
                self.batch_size,
                open,
                self.partitions,
                &mut self.partition_rng,
            );
        }
    }

    /// The next record's key and partition. Keys are drawn two blocks ahead (the key stream is
    /// this producer's own, so its draws are the same): a block's table entries are fetched into
    /// the cache when it is drawn and read a block later, so a large key space's table costs no
    /// cache miss per record.
    #[inline]
    fn next_key(&mut self) -> (u64, u32) {
        if self.key_next == self.key_ahead.len() {
            self.next_key_block();
        }
        self.key_next += 1;
        self.key_ahead[self.key_next - 1]
    }

    fn next_key_block(&mut self) {
        if self.keys_coming.is_empty() {
            self.draw_key_block();
        }
        self.key_ahead.clear();
        self.key_next = 0;
        for &k in &self.keys_coming {
            self.key_ahead.push((k, self.keys.partition_of(k)));
        }
        self.draw_key_block();
    }

    fn draw_key_block(&mut self) {
        self.keys_coming.clear();
        for _ in 0..KEYS_AHEAD {
            let k = self.keys.draw(&mut self.keys_rng).expect("a keyed source draws keys");
            self.keys.prefetch(k);
            self.keys_coming.push(k);
        }
    }

    fn open_ref(&self, p: u32) -> Option<&OpenBatch> {
        let slot = self.open[p as usize];
        (slot != NO_BATCH).then(|| &self.open_batches[slot as usize])
    }

    fn remove_open(&mut self, p: u32) {
        if let Some(i) = self.open_list.iter().position(|&q| q == p) {
            self.open_list.swap_remove(i);
        }
    }

    fn close(&mut self, p: u32, at: Option<u64>, out: &mut Closed) {
        let slot = std::mem::replace(&mut self.open[p as usize], NO_BATCH);
        assert_ne!(slot, NO_BATCH, "closing an open batch");
        let b = std::mem::take(&mut self.open_batches[slot as usize]);
        self.free_slots.push(slot);
        let send = at.unwrap_or(b.deadline);
        let start = out.created_us.len() as u32;
        out.created_us.extend_from_slice(&b.created_us);
        out.batches.push(ReadyBatch { partition: p, send_time: SimTime(send), start, len: b.created_us.len() as u32 });
        // The open batch's buffer serves the next batch.
        if self.spare.len() < 64 {
            self.spare.push(b.created_us);
        }
    }

    pub fn is_keyed(&self) -> bool {
        self.keys.is_keyed()
    }
}

/// `x.round() as u64` (halves away from zero), without the libm call `round` compiles to on
/// x86-64's baseline: below 2^52 the fraction `x - trunc(x)` is exact, so the result is the same.
#[inline]
fn round_to_u64(x: f64) -> u64 {
    if (0.0..4_503_599_627_370_496.0).contains(&x) {
        // Through i64: one instruction each way on x86-64 (u64 conversions take several).
        let i = x as i64;
        (if x - i as f64 >= 0.5 { i + 1 } else { i }) as u64
    } else {
        x.round() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::plan::Keys;

    fn plan(rate: f64, arrival: Arrival, linger_ms: u64, batch_size: u64) -> ProducerPlan {
        ProducerPlan {
            name: "p".into(),
            topic: 0,
            rate,
            arrival,
            keys: Keys::None,
            partitioner: PartitionerKind::RoundRobin,
            linger: SimDuration::from_millis(linger_ms),
            batch_size,
            record_size: 100,
            delivery: Default::default(),
        }
    }

    struct Out {
        send_time: SimTime,
        created_us: Vec<u64>,
    }

    fn run(p: &mut Producer, until_ms: u64) -> Vec<Out> {
        let mut out = Closed::default();
        let mut t = SimTime::ZERO;
        while t < SimTime::from_millis(until_ms) {
            let next = t + p.window();
            p.produce_window(t, next, &mut out);
            t = next;
        }
        out.batches.iter().map(|b| Out { send_time: b.send_time, created_us: out.created_us(b).to_vec() }).collect()
    }

    #[test]
    fn rounding_matches_f64_round() {
        let mut rng = RngStreams::new(3).stream("r");
        let specials = [0.0, 0.5, 1.5, 2.5, 0.49999999999999994, 4_503_599_627_370_495.5, 1e17, -0.0, f64::NAN];
        for &x in specials.iter() {
            assert_eq!(round_to_u64(x), x.round() as u64, "{x}");
        }
        for _ in 0..100_000 {
            let e: f64 = Exp1.sample(&mut rng);
            let x = e * 1e9 / 12_345.0;
            assert_eq!(round_to_u64(x), x.round() as u64, "{x}");
        }
    }

    #[test]
    fn constant_arrivals_batch_by_linger() {
        // 1000/s = one record a ms, linger 5 ms, one partition: batches of 5 records each.
        let mut p = Producer::new_for_test(&plan(1000.0, Arrival::Constant, 5, 16384), 1, vec![], &RngStreams::new(1));
        let out = run(&mut p, 100);
        assert_eq!(out[0].created_us, vec![1000, 2000, 3000, 4000, 5000]);
        assert_eq!(out[0].send_time, SimTime::from_millis(6));
        assert!(out.iter().all(|b| b.created_us.len() == 5));
    }

    #[test]
    fn full_batches_leave_early() {
        // batch_size 300 bytes = 3 records of 100 bytes; linger 1 s never expires first.
        let mut p = Producer::new_for_test(&plan(1000.0, Arrival::Constant, 1000, 300), 1, vec![], &RngStreams::new(1));
        let out = run(&mut p, 20);
        assert_eq!(out[0].created_us.len(), 3);
        assert_eq!(out[0].send_time, SimTime::from_millis(3));
    }

    #[test]
    fn rate_changes_apply_at_their_instant() {
        let changes = vec![(SimTime::from_millis(10), 2000.0)];
        let mut p = Producer::new_for_test(&plan(1000.0, Arrival::Constant, 0, 16384), 1, changes, &RngStreams::new(1));
        let out = run(&mut p, 13);
        let times: Vec<u64> = out.iter().map(|b| b.created_us[0]).collect();
        assert_eq!(&times[8..], &[9000, 10500, 11000, 11500, 12000, 12500]);
    }

    #[test]
    fn a_pause_that_never_ends_stops_the_producer() {
        let changes = vec![(SimTime::from_millis(5), 0.0)];
        let mut p = Producer::new_for_test(&plan(1000.0, Arrival::Constant, 0, 16384), 1, changes, &RngStreams::new(1));
        let out = run(&mut p, 20);
        assert_eq!(out.len(), 4, "records at 1..4 ms, none after the pause at 5 ms");
        assert_eq!(p.next_activity(SimTime::from_millis(20)), None);
    }

    #[test]
    fn poisson_rate_is_close_to_nominal() {
        let mut p = Producer::new_for_test(&plan(10_000.0, Arrival::Poisson, 5, 16384), 4, vec![], &RngStreams::new(7));
        run(&mut p, 10_000);
        let n = p.records_produced as f64;
        assert!((n - 100_000.0).abs() < 1500.0, "{n}");
    }
}

#[cfg(test)]
mod gap_tests {
    use super::*;

    #[test]
    fn gaps_drawn_ahead_are_the_draws_made_one_by_one() {
        let streams = RngStreams::new(5);
        let (mut ahead_rng, mut direct_rng) = (streams.stream("a"), streams.stream("a"));
        let mut gaps = Gaps::new();
        // Rate changes inside a block and across blocks.
        for i in 0..1000u32 {
            let rate = [10_000.0, 3.7, 123_456.789][(i / 97 % 3) as usize];
            let e: f64 = Exp1.sample(&mut direct_rng);
            assert_eq!(gaps.next(rate, &mut ahead_rng), round_to_u64(e * 1e9 / rate), "draw {i}");
        }
    }
}
