//! The producers, run as one generator beside the world: every producer tick's batches, and all
//! batches merged into the order they reach the broker.
//!
//! A producer depends on nothing the world does: its arrivals, keys and partitions come from its
//! own random streams, and its rate changes, pauses and added partitions are known from the
//! timeline. Its ticks (one per `linger_ms`-or-1-ms window) are scheduled only by its own ticks,
//! so the order in which the world will handle every producer's ticks is known in advance too:
//! by time, and at one instant in the order they were scheduled. The generator replays that
//! order, so the world only has to take what it hands over:
//! - per tick, how many batches it closed (the world reserves their places in the event order,
//!   one sequence number each);
//! - the batches of all ticks in the order they reach the broker: by time, then by tick, then
//!   by place in the tick, which is the (time, sequence) order the world reserves for them.
//!   Before each event the world appends the due prefix of this stream, one read and one append
//!   per batch.
//!
//! A producer's closed batches wait in its own queue, in order. Once a few hundred wait, every
//! one below the lowest *sentinel* (see `Generator::sentinel`: no batch still to come can go
//! before it) is handed over, in order.
//!
//! Drawing records is most of a producer's cost, so the generator runs on a thread of its own
//! when the run has a second core, a few thousand batches ahead of the world; what it hands over
//! is the same either way (a test runs every shipped scenario both ways and compares them).
//!
//! `generator` runs the producers' ticks and closes their batches, `merge` puts the batches of
//! all producers into the order they reach the broker, `threads` runs the generator on a thread
//! of its own; this file holds what they hand over (`Chunk`) and the world's end of it (`Feed`).

mod generator;
mod merge;
mod threads;

pub use generator::Generator;
pub use threads::{Source, ThreadEnd, thread_per_run};

use crate::sim::{SimDuration, SimTime};
use std::collections::VecDeque;

/// One append, for tests that check the lazy producers against a reference.
#[derive(Clone, Debug)]
pub struct AppendTrace {
    pub partition: u32,
    pub base_offset: u64,
    pub created_us: Vec<u64>,
    /// When the batch reached the broker (its records became fetchable).
    pub at: SimTime,
}

/// A producer tick as the world handles it.
#[derive(Clone, Copy, Debug)]
pub struct TickOut {
    pub producer: u32,
    pub at: SimTime,
    /// The `order` of its first batch.
    pub first_order: u64,
    /// Batches it closed.
    pub batches: u64,
    /// The end of its window: its batches leave before it.
    pub until: SimTime,
    /// When the producer ticks next.
    pub next: Option<SimTime>,
}

/// A batch in the order batches reach the broker. `order` counts batches in the order their ticks
/// closed them, which is the order the world reserves their places in. `first` is where its
/// create times start in `Chunk::created_us`, or [`SENT_AS_CREATED`].
///
/// 32 bytes: each record of a linger.ms = 0 producer is one of these, written into its
/// producer's queue, sorted, handed over and read by the world, so its size is most of what the
/// per-record path moves (it was 40 bytes with the create time in it).
#[derive(Clone, Copy, Debug, Default)]
pub struct Due {
    pub at: SimTime,
    pub order: u64,
    pub partition: u32,
    pub len: u32,
    pub producer: u32,
    pub first: u32,
}

/// `Due::first` of a batch of one record sent the instant it was created (every record of a
/// linger.ms = 0 producer): its create time is its send time, which is `at` less the network
/// delay, so it travels in no buffer.
pub const SENT_AS_CREATED: u32 = u32::MAX;

impl Due {
    /// Whether its create times are in the chunk's `created_us` (else see [`SENT_AS_CREATED`]).
    #[inline]
    pub fn carries_times(&self) -> bool {
        self.first != SENT_AS_CREATED
    }
}

/// What the generator hands over at once: some ticks, and the batches that are due by then.
#[derive(Default)]
pub struct Chunk {
    pub ticks: Vec<TickOut>,
    pub due: Vec<Due>,
    pub created_us: Vec<u64>,
    /// No tick and no batch follows.
    pub last: bool,
}

impl Chunk {
    fn clear(&mut self) {
        self.ticks.clear();
        self.due.clear();
        self.created_us.clear();
        self.last = false;
    }
}

/// What a chunk holds before it is handed over, in batches and in bytes (batches and create
/// times): across threads, enough to make handing over rare (each time one side may wait for the
/// other; 16,384 one-record batches made per-record.yaml 3 to 10% faster than 2,048), yet a few
/// MB at most in flight when batches are large (large.yaml, about 50 records a batch, ran slower
/// with 8,192); in the world's own thread, little enough to stay in the cache until appended
/// (512 one-record batches, 16 kB: room for a whole merge burst, which 128 were not).
const CHUNK_THREAD: ChunkSize = ChunkSize { batches: 16_384, bytes: 1 << 20 };
const CHUNK_INLINE: ChunkSize = ChunkSize { batches: 512, bytes: 64 << 10 };

#[derive(Clone, Copy)]
struct ChunkSize {
    batches: usize,
    bytes: usize,
}

impl ChunkSize {
    fn is_full(self, chunk: &Chunk) -> bool {
        let bytes = chunk.due.len() * std::mem::size_of::<Due>() + chunk.created_us.len() * 8;
        chunk.due.len() >= self.batches || chunk.ticks.len() >= self.batches || bytes >= self.bytes
    }
}

/// The world's end of the feed: the next tick, the next due batch, and the places reserved for
/// the ticks handled so far.
pub struct Feed {
    source: Source,
    delay: u64,
    /// Chunks received whose ticks or due batches are not all taken yet (taken separately:
    /// batches fall due later than their ticks).
    tick_chunks: VecDeque<Vec<TickOut>>,
    due_chunks: VecDeque<(Vec<Due>, Vec<u64>)>,
    tick_pos: usize,
    pub(crate) due: Vec<Due>,
    pub(crate) due_us: Vec<u64>,
    pub(crate) due_pos: usize,
    /// Handled ticks that may still have batches on their way, in order: the `order` and the
    /// sequence number of the first batch, the instant by which all of them have arrived, and
    /// how many there are.
    bases: VecDeque<(u64, u64, SimTime, u64)>,
    bases_kept: usize,
    /// The `order` of the first batch of the next tick to handle (batches from there on belong
    /// to ticks not handled yet).
    handled_to: u64,
    /// Buffers of chunks used up, handed back to the generator.
    spare: Chunk,
    /// Per producer, the sequence number reserved for its next tick when the one before it was
    /// handled (as scheduling it would have taken): ticks are not queued, the stream of them
    /// is the queue.
    tick_seq: Vec<u64>,
    /// The generator made its last tick.
    ticks_done: bool,
}

impl Feed {
    pub fn new(source: Source, delay: SimDuration, producers: usize) -> Self {
        Feed {
            source,
            delay: delay.as_nanos(),
            tick_chunks: VecDeque::new(),
            due_chunks: VecDeque::new(),
            tick_pos: 0,
            due: Vec::new(),
            due_us: Vec::new(),
            due_pos: 0,
            bases: VecDeque::new(),
            bases_kept: 0,
            handled_to: 0,
            spare: Chunk::default(),
            tick_seq: vec![u64::MAX; producers],
            ticks_done: false,
        }
    }

    /// Producer `producer`'s next tick has place `seq` in the event order.
    pub(crate) fn tick_placed(&mut self, producer: u32, seq: u64) {
        self.tick_seq[producer as usize] = seq;
    }

    /// The place of the next tick the world handles: the generator replays the ticks in the
    /// world's order, so the next in its stream is the earliest of all.
    #[inline]
    pub(crate) fn next_tick_place(&mut self) -> Option<(SimTime, u64)> {
        if let Some(t) = self.tick_chunks.front().and_then(|ticks| ticks.get(self.tick_pos)) {
            return Some((t.at, self.tick_seq[t.producer as usize]));
        }
        self.next_tick_place_slow()
    }

    #[cold]
    fn next_tick_place_slow(&mut self) -> Option<(SimTime, u64)> {
        loop {
            if let Some(ticks) = self.tick_chunks.front() {
                if let Some(t) = ticks.get(self.tick_pos) {
                    return Some((t.at, self.tick_seq[t.producer as usize]));
                }
                self.spare.ticks = self.tick_chunks.pop_front().expect("a front");
                self.tick_pos = 0;
                continue;
            }
            if self.ticks_done || !self.receive() {
                self.ticks_done = true;
                return None;
            }
        }
    }

    /// Moves the generator to a thread of its own, unless it has handed over a chunk already.
    pub fn run_on_thread(&mut self) {
        if matches!(self.source, Source::Inline(_)) && self.tick_chunks.is_empty() && self.due_chunks.is_empty() {
            let Source::Inline(g) = std::mem::replace(&mut self.source, Source::Exhausted) else { unreachable!() };
            self.source = Source::spawn(g);
        }
    }

    /// Receives one more chunk; false when the generator is done.
    fn receive(&mut self) -> bool {
        let spare = std::mem::take(&mut self.spare);
        match self.source.next(Some(spare)) {
            Some(c) => {
                self.tick_chunks.push_back(c.ticks);
                self.due_chunks.push_back((c.due, c.created_us));
                true
            }
            None => false,
        }
    }

    /// The next tick the world handles; `reserve(n)` reserves its `n` batches' places in the
    /// event order and returns the first.
    pub(crate) fn take_tick(&mut self, reserve: impl FnOnce(u64) -> u64) -> TickOut {
        // (Brings the next tick to the front of the chunks received.)
        self.next_tick_place().expect("the world handles a producer tick the generator did not make");
        let t = self.tick_chunks.front().expect("a tick chunk")[self.tick_pos];
        self.tick_pos += 1;
        let first_seq = reserve(t.batches);
        if t.batches > 0 {
            self.bases.push_back((t.first_order, first_seq, t.until + SimDuration(self.delay), t.batches));
        }
        // (Its sentinel's number comes after its batches.)
        self.handled_to = t.first_order + t.batches + 1;
        t
    }

    /// The sequence number reserved for the batch numbered `order`, if its tick was handled.
    /// (Asked only of a batch not appended yet, whose tick's window has not closed before the
    /// last append, so its tick is still among `bases`.)
    pub(crate) fn seq_of(&self, order: u64) -> Option<u64> {
        if order >= self.handled_to {
            return None;
        }
        let i = self.bases.partition_point(|&(first, ..)| first <= order);
        let &(first, seq, _, batches) = self.bases.get(i.checked_sub(1)?)?;
        debug_assert!(order < first + batches, "the batch's tick is still known");
        Some(seq + (order - first))
    }

    /// The create time (µs) of a batch of one record that was [`SENT_AS_CREATED`].
    #[inline]
    pub(crate) fn sent_us(&self, d: &Due) -> u64 {
        (d.at.as_nanos() - self.delay) / 1_000
    }

    /// Refills `due` when it is used up; false when no batch is left at all.
    #[inline]
    pub(crate) fn has_due(&mut self) -> bool {
        self.due_pos < self.due.len() || self.refill_due()
    }

    #[cold]
    fn refill_due(&mut self) -> bool {
        loop {
            if let Some((due, us)) = self.due_chunks.pop_front() {
                self.spare.due = std::mem::replace(&mut self.due, due);
                self.spare.created_us = std::mem::replace(&mut self.due_us, us);
                self.due_pos = 0;
                if !self.due.is_empty() {
                    return true;
                }
                continue;
            }
            if !self.receive() {
                return false;
            }
        }
    }

    /// Forgets the places of ticks whose batches all arrived once everything placed at or
    /// before `appended` is in the logs. (Now and then, in one pass, so a tick with a long
    /// window does not hold back the ones after it.)
    pub(crate) fn forget_appended(&mut self, appended: SimTime) {
        if self.bases.len() > 2 * self.bases_kept + 1024 {
            self.bases.retain(|&(_, _, until, _)| until > appended);
            self.bases_kept = self.bases.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::producer::accumulator::Producer;
    use crate::scenario::plan::{Arrival, Keys, PartitionerKind, ProducerPlan};

    /// Null-key producers `p0, p1, ...` over `partitions` partitions, one per (rate, arrival,
    /// linger_ms).
    pub(super) fn producers(
        seed: u64,
        partitioner: PartitionerKind,
        batch_size: u64,
        partitions: u32,
        specs: &[(f64, Arrival, u64)],
    ) -> Vec<Producer> {
        let rngs = crate::sim::RngStreams::new(seed);
        let mut tables = crate::kafka::producer::partitioner::KeyTables::default();
        let plan = |(i, &(rate, arrival, linger)): (usize, &(f64, Arrival, u64))| ProducerPlan {
            name: format!("p{i}"),
            topic: 0,
            rate,
            arrival,
            keys: Keys::None,
            partitioner,
            linger: SimDuration::from_millis(linger),
            batch_size,
            record_size: 100,
            delivery: Default::default(),
        };
        specs
            .iter()
            .enumerate()
            .map(|x| Producer::new(&plan(x), partitions, vec![], vec![], &rngs, &mut tables))
            .collect()
    }

    /// A tick with a long window (here a slow producer lingering 2 h) does not keep the places
    /// of every later tick in memory: what the world keeps follows what is on its way.
    #[test]
    fn the_world_forgets_ticks_whose_batches_all_arrived() {
        let specs = [(1000.0, Arrival::Constant, 0), (1.0, Arrival::Constant, 7_200_000)];
        let producers = producers(1, PartitionerKind::RoundRobin, 16_384, 2, &specs);
        let generator = Generator::new(producers, vec![0, 0], 0, SimTime::from_millis(60_000));
        let mut feed = Feed::new(Source::Inline(Box::new(generator)), SimDuration::ZERO, 2);
        let (mut seq, mut most) = (0u64, 0);
        let mut due = 0;
        for _ in 0..60_000 {
            let t = feed.take_tick(|n| {
                seq += n;
                seq - n
            });
            // Everything placed before this tick has been appended by now.
            while feed.has_due() && feed.due[feed.due_pos].at < t.at {
                feed.due_pos += 1;
                due += 1;
            }
            feed.forget_appended(t.at);
            most = most.max(feed.bases.len());
        }
        assert!(due > 50_000, "{due} batches appended");
        assert!(most < 5_000, "kept the places of {most} ticks at once");
    }
}
