//! The generator: the producers' ticks, in the order the world handles them, and their batches.

use super::merge::{Heads, MERGE_BURST, Pending};
use super::{CHUNK_INLINE, Chunk, ChunkSize, Due, SENT_AS_CREATED, TickOut};
use crate::kafka::producer::accumulator::{Closed, Producer};
use crate::sim::{SimDuration, SimTime};

/// The producers and the merge, as the world's own handling order replays them.
pub struct Generator {
    producers: Vec<Producer>,
    /// Per producer, its topic's first partition (batches carry world-wide partition ids).
    first_partition: Vec<u32>,
    delay: u64,
    end: SimTime,
    /// Each producer's next tick, keyed by (time, order scheduled): the same loser tree as the
    /// merge's, as a tick only ever replaces the one it follows.
    ticks: Heads,
    scheduled: u64,
    /// The next batch's `order`. Every tick also takes one number after its batches, for its
    /// producer's sentinel; the first `n` numbers are the first ticks' sentinels.
    order: u64,
    scratch: Closed,
    /// Per producer, batches closed but not yet final in the merged order.
    pub(super) pending: Vec<Pending<Due>>,
    pub(super) pending_us: Vec<Pending<u64>>,
    /// Per producer, when it ticks next (None: never again in the run) and the number its last
    /// tick took after its batches: what its sentinel is made of while its queue is empty.
    next_tick: Vec<Option<SimTime>>,
    after_last_tick: Vec<u64>,
    /// The merge's loser tree, built anew for each burst (`emit_merged`).
    pub(super) heads: Heads,
    pub(super) front_keys: Vec<u128>,
    pub(super) chunk_size: ChunkSize,
    /// Batches in `pending`, all producers together, and how many of them the last merge left
    /// there (above the lowest sentinel then): the next merge waits for a burst more than that.
    pub(super) pending_batches: usize,
    pub(super) held: usize,
    /// Scratch for `emit_sorted`: per producer, its batches in the burst; per bucket, its end.
    pub(super) burst: Vec<usize>,
    pub(super) bucket_ends: Vec<u32>,
    pub(super) sorted: Vec<Due>,
    /// Per producer, whether its every batch holds one record.
    pub(super) singles: Vec<bool>,
    #[cfg(test)]
    pub(super) bursts_sorted: u64,
    #[cfg(test)]
    pub(super) bursts_resorted: u64,
}

impl Generator {
    pub fn new(producers: Vec<Producer>, first_partition: Vec<u32>, delay: u64, end: SimTime) -> Self {
        let n = producers.len();
        let singles = producers.iter().map(Producer::sends_singles).collect();
        let first: Vec<Option<SimTime>> = producers.iter().map(|p| p.next_activity(SimTime::ZERO)).collect();
        // The world schedules every producer's first tick at the start, in producer order.
        let mut scheduled = 0;
        let keys: Vec<u128> = first
            .iter()
            .map(|t| match t {
                Some(t) => {
                    scheduled += 1;
                    tick_key(*t, scheduled - 1)
                }
                None => u128::MAX,
            })
            .collect();
        let mut ticks = Heads::new(n);
        ticks.build(&keys);
        let next_tick = first.iter().map(|t| t.filter(|&t| t <= end)).collect();
        Generator {
            producers,
            first_partition,
            delay,
            end,
            ticks,
            scheduled,
            order: n as u64,
            scratch: Closed::default(),
            pending: (0..n).map(|_| Pending::default()).collect(),
            pending_us: (0..n).map(|_| Pending::default()).collect(),
            next_tick,
            after_last_tick: (0..n as u64).collect(),
            heads: Heads::new(n),
            front_keys: Vec::with_capacity(n),
            chunk_size: CHUNK_INLINE,
            pending_batches: 0,
            held: 0,
            burst: Vec::with_capacity(n),
            bucket_ends: Vec::new(),
            sorted: Vec::new(),
            singles,
            #[cfg(test)]
            bursts_sorted: 0,
            #[cfg(test)]
            bursts_resorted: 0,
        }
    }

    /// The key of an empty queue: no batch producer `p` closes from now on comes before it, so
    /// the merge stops there until the producer's next tick. Its order number is the one its
    /// last tick took after its batches: above every batch closed so far, below every batch of
    /// its next tick, and between sentinels the order their ticks come in. u128::MAX: the
    /// producer is done.
    pub(super) fn sentinel(&self, p: usize) -> u128 {
        let Some(t) = self.next_tick[p] else { return u128::MAX };
        (u128::from(t.as_nanos() + self.delay) << 64) | u128::from(self.after_last_tick[p])
    }

    /// The first tick of each producer, as the world schedules them at the start.
    pub fn first_ticks(&self) -> Vec<(u32, SimTime)> {
        let first = self.producers.iter().map(|prod| prod.next_activity(SimTime::ZERO));
        (0..).zip(first).filter_map(|(p, t)| Some((p, t?))).collect()
    }

    /// Generates ticks until a chunk's worth of batches is due, or the run's ticks are over, into
    /// the buffers of `chunk` (one handed back: no page faults from fresh allocations, chunk
    /// after chunk).
    pub fn fill_chunk(&mut self, mut chunk: Chunk) -> Chunk {
        chunk.clear();
        // The merge runs once a burst of batches waits (not after every tick): batches below
        // the lowest sentinel stay below it, so merging later hands over the same order. A
        // burst counts from what the last merge held back (about a tick window of every
        // producer's batches): counted from zero, a merge would find only a few dozen batches
        // below the sentinels, too few to sort.
        let burst = MERGE_BURST.min(self.chunk_size.batches);
        let mut ticks_left = true;
        while !self.chunk_size.is_full(&chunk) {
            let (p, key) = self.ticks.first();
            let at = SimTime((key >> 64) as u64);
            if key == u128::MAX || at > self.end {
                ticks_left = false; // (the world stops before it)
                break;
            }
            self.tick(p, at, &mut chunk);
            if self.pending_batches >= self.held + burst {
                self.emit(&mut chunk);
            }
        }
        if !ticks_left {
            // No tick is left in the run: every batch closed is final.
            self.next_tick.iter_mut().for_each(|t| *t = None);
            chunk.last = true;
        }
        self.emit(&mut chunk);
        chunk
    }

    /// Runs every tick of the run and hands over every batch, in order, to no one: the
    /// producers' whole share of a run, for timing it apart. Returns the batches and records
    /// that reach the broker by the run's end.
    pub fn run_alone(&mut self) -> (u64, u64) {
        let (mut batches, mut records, mut chunk) = (0, 0, Chunk::default());
        loop {
            chunk = self.fill_chunk(chunk);
            // (Batches of the last ticks that reach the broker after the run's end count in
            // no run: the world stops before them.)
            let arrived = chunk.due.iter().filter(|d| d.at <= self.end);
            batches += arrived.clone().count() as u64;
            records += arrived.map(|d| u64::from(d.len)).sum::<u64>();
            if chunk.last {
                return (batches, records);
            }
        }
    }

    fn tick(&mut self, p: usize, at: SimTime, chunk: &mut Chunk) {
        let window_end = at + self.producers[p].window();
        let first_order = self.order;
        let batches = if self.producers[p].sends_singles() {
            self.close_singles(p, window_end)
        } else {
            self.close_window(p, at, window_end)
        };
        let next = self.producers[p].next_activity(window_end);
        // This tick was the winner: its producer's next one takes its place.
        self.ticks.replace_first(next.map_or(u128::MAX, |t| tick_key(t, self.scheduled)));
        self.scheduled += u64::from(next.is_some());
        self.next_tick[p] = next.filter(|&t| t <= self.end);
        self.order += batches;
        self.after_last_tick[p] = self.order;
        self.order += 1;
        chunk.ticks.push(TickOut { producer: p as u32, at, first_order, batches, until: window_end, next });
        self.pending_batches += batches as usize;
    }

    /// Producer `p`'s window up to `window_end`: its closed batches join its pending queue,
    /// numbered from `self.order` on. Returns how many.
    fn close_window(&mut self, p: usize, at: SimTime, window_end: SimTime) -> u64 {
        let ready = &mut self.scratch;
        ready.clear();
        self.producers[p].produce_window(at, window_end, ready);
        let queue = &mut self.pending[p];
        let first_partition = self.first_partition[p];
        for (b, order) in ready.batches.iter().zip(self.order..) {
            let arrives = b.send_time + SimDuration(self.delay);
            let partition = first_partition + b.partition;
            let times = ready.created_us(b);
            // (Where its times start in the chunk is known once the merge hands it over.)
            let first = if times == [b.send_time.as_nanos() / 1_000] {
                SENT_AS_CREATED
            } else {
                self.pending_us[p].extend(times);
                0
            };
            queue.push(Due { at: arrives, order, partition, len: b.len, producer: p as u32, first });
        }
        ready.batches.len() as u64
    }

    /// [`close_window`](Self::close_window) of a producer whose every record is a batch of its
    /// own: records go straight into its pending queue, without a list of closed batches in
    /// between (a tenth of the generator's time on per-record.yaml).
    fn close_singles(&mut self, p: usize, window_end: SimTime) -> u64 {
        let queue = &mut self.pending[p];
        queue.compact();
        let start = queue.items.len();
        let (delay, partition_base, producer) = (self.delay, self.first_partition[p], p as u32);
        let (mut tie, mut last, mut order) = (false, u64::MAX, self.order);
        self.producers[p].produce_singles(window_end, |send, partition| {
            tie |= send == last;
            last = send;
            let (at, partition) = (SimTime(send + delay), partition_base + partition);
            queue.items.push(Due { at, order, partition, len: 1, producer, first: SENT_AS_CREATED });
            order += 1;
        });
        let fresh = &mut queue.items[start..];
        if tie {
            // Records sent at one instant go in partition order, as `produce_window` sorts them.
            fresh.sort_by_key(|d| (d.at, d.partition));
            for (d, order) in fresh.iter_mut().zip(self.order..) {
                d.order = order;
            }
        }
        fresh.len() as u64
    }
}

/// A tick's key: by time, then by the order ticks were scheduled in.
fn tick_key(at: SimTime, scheduled: u64) -> u128 {
    (u128::from(at.as_nanos()) << 64) | u128::from(scheduled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::producer::feed::tests::producers;
    use crate::scenario::plan::{Arrival, PartitionerKind};

    /// Sentinels let batches out only once no later tick can go before them, and the stream
    /// comes out in (arrival, tick, index) order, the order the world reserves.
    #[test]
    fn the_stream_is_in_arrival_tick_index_order() {
        let specs = [(5_000.0, Arrival::Poisson, 0), (3_000.0, Arrival::Constant, 3), (800.0, Arrival::Poisson, 7)];
        let make = || producers(4, PartitionerKind::Default, 2_000, 4, &specs);
        for delay in [0, 2_000_000] {
            let mut g = Generator::new(make(), vec![0; 3], delay, SimTime::from_millis(300));
            let (mut ticks, mut due, mut closed) = (vec![], vec![], 0);
            loop {
                let c = g.fill_chunk(Chunk::default());
                ticks.extend(c.ticks.iter().map(|t| (t.at, t.producer)));
                closed += c.ticks.iter().map(|t| t.batches as usize).sum::<usize>();
                due.extend(c.due.iter().map(|d| (d.at, d.order)));
                if c.last {
                    break;
                }
            }
            assert!(ticks.windows(2).all(|w| w[0].0 <= w[1].0), "ticks in time order");
            assert!(due.windows(2).all(|w| w[0] < w[1]), "the stream is in (arrival, order) order");
            assert_eq!(due.len(), closed, "every batch closed is handed over once");
            assert!(closed > 1000);
        }
    }
}
