//! The merge: the closed batches of all producers, handed over in the order they reach the broker.

use super::{Chunk, Due, Generator};
use std::hint::select_unpredictable;

impl Generator {
    /// (arrival, order) as one number that orders the same way.
    #[inline]
    fn merge_key(&self, d: &Due) -> u128 {
        (u128::from(d.at.as_nanos()) << 64) | u128::from(d.order)
    }

    /// Hands over, in order, every batch below the lowest sentinel: no batch still to come can
    /// go before them.
    pub(super) fn emit(&mut self, chunk: &mut Chunk) {
        let before = chunk.due.len();
        let bound = (0..self.pending.len()).map(|q| self.sentinel(q)).min().unwrap_or(u128::MAX);
        if !self.emit_sorted(bound, chunk) {
            self.emit_merged(chunk);
        }
        self.pending_batches -= chunk.due.len() - before;
        self.held = self.pending_batches;
    }

    /// [`emit`](Self::emit) by merging the producers' queues: a loser tree over their fronts,
    /// an empty queue standing for its sentinel, replayed once a batch.
    fn emit_merged(&mut self, chunk: &mut Chunk) {
        let mut keys = std::mem::take(&mut self.front_keys);
        keys.clear();
        keys.extend((0..self.pending.len()).map(|q| match self.pending[q].front() {
            Some(d) => self.merge_key(d),
            None => self.sentinel(q),
        }));
        self.heads.build(&keys);
        self.front_keys = keys;
        loop {
            let (p, key) = self.heads.first();
            if key == u128::MAX {
                break;
            }
            let Some(mut d) = self.pending[p].pop_front() else { break }; // (a sentinel)
            let next = match self.pending[p].front() {
                Some(front) => self.merge_key(front),
                None => self.sentinel(p),
            };
            self.heads.replace_first(next);
            if d.carries_times() {
                d.first = chunk.created_us.len() as u32;
                self.pending_us[p].move_into(d.len as usize, &mut chunk.created_us);
            }
            chunk.due.push(d);
        }
    }

    /// [`emit`](Self::emit) of a burst of one-record batches at once: each batch below `bound`
    /// goes into a bucket by arrival time, then an insertion pass orders each bucket's few.
    /// A loser-tree replay is a chain of dependent loads and compares (about 30 cycles a
    /// batch); these steps do not wait on each other. Both give the batches sorted by
    /// (arrival, order), so the order is the same. False (nothing done): the burst is small, or
    /// has a batch that carries its create times (several records, or one that lingered: the
    /// merge moves its times along with it).
    fn emit_sorted(&mut self, bound: u128, chunk: &mut Chunk) -> bool {
        let Some((n, lo, hi)) = self.burst_below(bound) else { return false };
        if n < SORT_BURST {
            return false;
        }
        // Sorted in a buffer that stays in the cache, then handed over in one sequential copy
        // (sorting in the chunk itself measured no faster, on one thread or two). Every slot of
        // the buffer is written, so what it held before needs no clearing.
        let mut out = std::mem::take(&mut self.sorted);
        if out.len() < n {
            out.resize(n, Due::default());
        }
        self.bucket_burst(lo, hi, &mut out[..n]);
        self.order_buckets(&mut out[..n]);
        chunk.due.extend_from_slice(&out[..n]);
        self.sorted = out;
        #[cfg(test)]
        {
            self.bursts_sorted += 1;
        }
        true
    }

    /// The burst [`emit_sorted`](Self::emit_sorted) would hand over: per producer, how many of
    /// the batches [`SENT_AS_CREATED`](super::SENT_AS_CREATED) at the front of its queue are
    /// below `bound` (into `burst`), and how many in all, with the earliest and the latest
    /// arrival (ns) among them. None: a batch that carries its create times is below `bound`
    /// (the burst is the merge's).
    fn burst_below(&mut self, bound: u128) -> Option<(usize, u64, u64)> {
        let (mut n, mut lo, mut hi) = (0, u64::MAX, 0);
        self.burst.clear();
        for (q, &singles) in self.pending.iter().zip(&self.singles) {
            let items = &q.items[q.head..];
            // A queue is in (arrival, order) order: where it reaches `bound` is a binary search
            // when all its batches hold one record.
            let c = if singles {
                items.partition_point(|d| self.merge_key(d) < bound)
            } else {
                items.iter().position(|d| d.carries_times() || self.merge_key(d) >= bound).unwrap_or(items.len())
            };
            if items.get(c).is_some_and(|d| d.carries_times() && self.merge_key(d) < bound) {
                return None;
            }
            if c > 0 {
                lo = lo.min(items[0].at.as_nanos());
                hi = hi.max(items[c - 1].at.as_nanos());
            }
            self.burst.push(c);
            n += c;
        }
        Some((n, lo, hi))
    }

    /// Moves the batches of the burst (arriving from `lo` to `hi` ns, as many as `out` holds) out
    /// of the producers' queues into `out`, bucket by bucket of arrival time: a pass that counts
    /// each bucket's batches, then one that puts each batch in its bucket's next slot.
    fn bucket_burst(&mut self, lo: u64, hi: u64, out: &mut [Due]) {
        let n = out.len();
        // Buckets a power of two of nanoseconds wide, two to four per batch, so few batches
        // share one.
        let span = hi - lo;
        let shift = (u64::BITS - span.leading_zeros()).saturating_sub((4 * n).ilog2());
        let bucket = |d: &Due| ((d.at.as_nanos() - lo) >> shift) as usize;
        let ends = &mut self.bucket_ends;
        ends.clear();
        ends.resize((span >> shift) as usize + 2, 0);
        for (q, &c) in self.pending.iter().zip(&self.burst) {
            for d in &q.items[q.head..q.head + c] {
                ends[bucket(d) + 1] += 1;
            }
        }
        let mut start = 0;
        for e in ends.iter_mut() {
            start += *e;
            *e = start;
        }
        for (q, &c) in self.pending.iter_mut().zip(&self.burst) {
            for d in &q.items[q.head..q.head + c] {
                let slot = &mut ends[bucket(d)];
                out[*slot as usize] = *d;
                *slot += 1;
            }
            q.head += c;
            q.reset_if_read();
        }
    }

    /// Puts the burst `out`, in buckets of arrival time, in (arrival, order) order.
    fn order_buckets(&mut self, out: &mut [Due]) {
        // Only batches in one bucket can be out of order, and most buckets hold none or one: an
        // insertion pass. Many arrivals at one instant (from many producers) make one bucket
        // hold many; past a budget of moves, the rest is left to a sort.
        let n = out.len();
        let mut moves = 0;
        for i in 1..out.len() {
            if self.merge_key(&out[i - 1]) > self.merge_key(&out[i]) {
                let d = out[i];
                let key = self.merge_key(&d);
                let mut j = i;
                while j > 0 && self.merge_key(&out[j - 1]) > key {
                    out[j] = out[j - 1];
                    j -= 1;
                }
                out[j] = d;
                moves += i - j;
                if moves > 4 * n {
                    out.sort_unstable_by_key(|d| (d.at, d.order));
                    #[cfg(test)]
                    {
                        self.bursts_resorted += 1;
                    }
                    break;
                }
            }
        }
    }
}

/// Batches pending across the producers, beyond those the last merge held back, before the merge
/// runs again (fewer when chunks are smaller). On per-record.yaml, 512 took 10% less CPU than
/// 256 in one thread and a few % less on two; 1,024 and 2,048 were no better.
pub(super) const MERGE_BURST: usize = 512;

/// Bursts of at least this many one-record batches are sorted rather than merged.
const SORT_BURST: usize = 32;

/// Items read from the front of a pending queue before what is left moves back to its start.
/// A merge leaves about a tick window of batches in every queue (a producer ticks ahead of the
/// sentinels), so a queue is seldom read to its end: from 4,096 on, every producer's queue
/// walked through 128 kB or more of fresh memory between compactions (over a megabyte for
/// per-record.yaml's ten), so each batch written missed the cache. From 256 on, a compaction
/// moves the few dozen batches left and the queues stay in the cache.
const COMPACT_FROM: usize = 256;

/// A queue that is read from the front: a vector emptied whenever it is read to its end, and
/// compacted once [`COMPACT_FROM`] items ahead of its front are read.
pub(super) struct Pending<T> {
    pub(super) items: Vec<T>,
    head: usize,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending { items: Vec::new(), head: 0 }
    }
}

impl<T: Copy> Pending<T> {
    #[inline]
    fn front(&self) -> Option<&T> {
        self.items.get(self.head)
    }

    #[inline]
    fn pop_front(&mut self) -> Option<T> {
        let t = *self.items.get(self.head)?;
        self.head += 1;
        self.reset_if_read();
        Some(t)
    }

    /// Moves the next `n` to the end of `out`.
    #[inline]
    fn move_into(&mut self, n: usize, out: &mut Vec<T>) {
        out.extend_from_slice(&self.items[self.head..self.head + n]);
        self.head += n;
        self.reset_if_read();
    }

    #[inline]
    fn reset_if_read(&mut self) {
        if self.head == self.items.len() {
            self.items.clear();
            self.head = 0;
        }
    }

    #[inline]
    pub(super) fn push(&mut self, t: T) {
        self.compact();
        self.items.push(t);
    }

    pub(super) fn extend(&mut self, ts: &[T]) {
        self.compact();
        self.items.extend_from_slice(ts);
    }

    #[inline]
    pub(super) fn compact(&mut self) {
        if self.head > COMPACT_FROM && 2 * self.head > self.items.len() {
            self.items.drain(..self.head);
            self.head = 0;
        }
    }
}

/// A loser tree over the producers' queue fronts (or their next ticks). Each inner node keeps
/// the queue that lost the match played there and the root's winner is kept apart, so when the
/// winner's queue moves to its next key, the new key replays only its own path, one comparison
/// per level. Only the winner's key ever changes.
#[derive(Default)]
pub(super) struct Heads {
    /// Inner node i (1-based, children 2i and 2i+1; leaves are `width + q`): the queue that lost
    /// there.
    losers: Vec<u32>,
    /// Each queue's key (padding queues: u128::MAX).
    keys: Vec<u128>,
    /// The overall winner.
    top: u32,
    width: usize,
    /// Scratch for `build`: the winner of each node.
    winners: Vec<u32>,
}

impl Heads {
    pub(super) fn new(queues: usize) -> Self {
        let width = queues.max(1).next_power_of_two();
        Heads { losers: vec![0; width], keys: vec![u128::MAX; width], top: 0, width, winners: vec![0; 2 * width] }
    }

    /// Plays every match anew with queue q's key `keys[q]`.
    pub(super) fn build(&mut self, keys: &[u128]) {
        let w = self.width;
        for q in 0..w {
            self.keys[q] = keys.get(q).copied().unwrap_or(u128::MAX);
        }
        let win = &mut self.winners;
        for q in 0..w {
            win[w + q] = q as u32;
        }
        for n in (1..w).rev() {
            let (a, b) = (win[2 * n], win[2 * n + 1]);
            let (first, second) = if self.keys[a as usize] <= self.keys[b as usize] { (a, b) } else { (b, a) };
            win[n] = first;
            self.losers[n] = second;
        }
        self.top = win[1];
    }

    /// The queue with the lowest key, and that key (u128::MAX: all done).
    #[inline]
    pub(super) fn first(&self) -> (usize, u128) {
        (self.top as usize, self.keys[self.top as usize])
    }

    /// The winner's queue has a new key (u128::MAX: done).
    #[inline]
    pub(super) fn replace_first(&mut self, key: u128) {
        let q = self.top;
        self.keys[q as usize] = key;
        let (mut key, mut queue) = (key, q);
        let mut node = (self.width + q as usize) >> 1;
        while node >= 1 {
            let stored = self.losers[node];
            let stored_key = self.keys[stored as usize];
            // The lower of the two goes on up, the other stays: selected without a branch
            // (which way it goes is a coin toss a predictor would miss half the time). Keys are
            // unique but for done queues', which need no swap.
            let swap = stored_key < key;
            self.losers[node] = select_unpredictable(swap, queue, stored);
            queue = select_unpredictable(swap, stored, queue);
            key = select_unpredictable(swap, stored_key, key);
            node >>= 1;
        }
        self.top = queue;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::producer::feed::tests::producers;
    use crate::kafka::producer::feed::{CHUNK_INLINE, CHUNK_THREAD};
    use crate::scenario::plan::{Arrival, PartitionerKind};
    use crate::sim::SimTime;
    use rand::{Rng, SeedableRng};

    #[test]
    fn the_winner_is_always_the_lowest_key() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for queues in [1, 2, 3, 10, 16, 17, 100] {
            let mut keys: Vec<u128> = (0..queues).map(|q| rng.gen_range(0..1000u128) * 1000 + q as u128).collect();
            let mut heads = Heads::new(queues);
            heads.build(&keys);
            for _ in 0..3000 {
                let (q, key) = heads.first();
                let min = *keys.iter().min().unwrap();
                assert_eq!((key, keys[q]), (min, min));
                // The winner's next key is anything above it (a queue only moves on).
                keys[q] = if rng.gen_bool(0.05) { u128::MAX } else { key + rng.gen_range(1..3000) * 1000 };
                heads.replace_first(keys[q]);
                if keys.iter().all(|&k| k == u128::MAX) {
                    break;
                }
            }
            // Every queue done, one after another: the winner's key says so.
            for _ in 0..queues {
                let (q, key) = heads.first();
                assert_eq!(key, keys[q]);
                keys[q] = u128::MAX;
                heads.replace_first(u128::MAX);
            }
            assert_eq!(heads.first().1, u128::MAX, "{queues} queues all done");
        }
    }

    /// A queue that is never read to its end (a long linger keeps batches waiting) is compacted
    /// without losing or reordering anything.
    #[test]
    fn a_pending_queue_keeps_its_order_through_compaction() {
        let mut q = Pending::<u64>::default();
        let (mut next_in, mut next_out) = (0u64, 0u64);
        for round in 0..50 {
            for _ in 0..1000 {
                q.push(next_in);
                next_in += 1;
            }
            let mut out = Vec::new();
            q.move_into(300, &mut out);
            for _ in 0..(if round % 7 == 6 { 0 } else { 600 }) {
                out.push(q.pop_front().expect("queued"));
            }
            for v in out {
                assert_eq!(v, next_out);
                next_out += 1;
            }
            assert_eq!(q.front(), Some(&next_out));
        }
        assert!(q.items.len() < 30_000, "compacted: {} kept for {} queued", q.items.len(), next_in - next_out);
        while let Some(v) = q.pop_front() {
            assert_eq!(v, next_out);
            next_out += 1;
        }
        assert!(q.front().is_none() && q.items.is_empty() && next_out == next_in);
    }

    /// Bursts of one-record batches are sorted rather than merged; the stream is still every
    /// batch closed, once, in (arrival, order) order, which only one sequence is. Constant
    /// producers at equal rates send at equal instants, so arrivals tie across producers and,
    /// with two partitions, within one (`close_singles` orders those by partition). Forty of
    /// them tie forty at a time in one bucket, the twenty that tick later first among the
    /// producers, so the insertion pass runs out of moves and a sort finishes the burst. A slow
    /// lingering producer's batches of several records send some bursts to the merge instead.
    #[test]
    fn sorted_bursts_hand_over_the_merge_order() {
        let mixed = vec![
            (20_000.0, Arrival::Constant, 0),
            (20_000.0, Arrival::Constant, 0),
            (50_000.0, Arrival::Poisson, 0),
            (7_000.0, Arrival::Poisson, 0),
            (200.0, Arrival::Poisson, 2),
        ];
        let mut forty = vec![(5_000.0, Arrival::Constant, 0); 20];
        forty.extend([(10_000.0, Arrival::Constant, 0); 20]);
        for specs in [mixed, forty] {
            for chunk_size in [CHUNK_INLINE, CHUNK_THREAD] {
                let made = producers(9, PartitionerKind::RoundRobin, 16_384, 2, &specs);
                let mut g = Generator::new(made, vec![0; specs.len()], 1_000_000, SimTime::from_millis(200));
                g.chunk_size = chunk_size;
                let (mut due, mut orders) = (vec![], vec![]);
                loop {
                    let c = g.fill_chunk(Chunk::default());
                    orders.extend(c.ticks.iter().flat_map(|t| t.first_order..t.first_order + t.batches));
                    due.extend(c.due.iter().map(|d| (d.at, d.order)));
                    if c.last {
                        break;
                    }
                }
                assert!(due.windows(2).all(|w| w[0] < w[1]), "the stream is in (arrival, order) order");
                let mut handed: Vec<u64> = due.iter().map(|d| d.1).collect();
                handed.sort_unstable();
                orders.sort_unstable();
                assert_eq!(handed, orders, "every batch closed is handed over once");
                let ties = due.windows(2).filter(|w| w[0].0 == w[1].0).count();
                assert!(ties > 1000, "{ties} arrivals tie");
                assert!(g.bursts_sorted > 10, "{} bursts sorted", g.bursts_sorted);
                assert!(specs.len() < 40 || g.bursts_resorted > 10, "{} bursts resorted", g.bursts_resorted);
            }
        }
    }
}
