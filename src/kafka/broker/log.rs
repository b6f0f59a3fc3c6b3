//! A partition: an append-only log, as Kafka stores it, reduced to what the simulation reads.
//!
//! Each record keeps its producer timestamp (CreateTime) so end-to-end latency is exact per record.
//! Records live in chunks of 128 offsets, so the chunk holding an offset is found by
//! arithmetic, not by a search; a chunk keeps each timestamp as a 4-byte microsecond delta from a
//! base (8 bytes only in a chunk whose times spread over more than ±35 minutes). Batch boundaries
//! matter only for segments, which keep their own sizes and times.
//!
//! Memory follows what readers still need: [`PartitionLog::release_before`] frees whole chunks
//! below an offset no reader can go back to; offsets and segments stay exact.

use crate::sim::{SimDuration, SimTime};
use std::collections::VecDeque;

const NANOS_PER_MICRO: u64 = 1_000;
/// Records per chunk (a power of two). Every partition has an open chunk, and appends over many
/// partitions write to them in no order: at 128 records (512 bytes) the open chunks of 10,000
/// partitions lie on about 1,250 memory pages, which the CPU's address cache (about 2,000 pages)
/// still covers, where at 512 records they lay on 5,000 and most appends waited for a page-table
/// walk (per-record-10k.yaml, 10,000 partitions, ran 3.5 to 5% faster; 64 was no faster).
const CHUNK: u64 = 128;
/// A narrow chunk's base sits this far below its first timestamp, so later records of the chunk
/// may be older than the first (batches of several producers interleave) by as much.
const BASE_SLACK: u64 = 1 << 31;

/// Timestamps of up to `CHUNK` consecutive offsets.
enum Chunk {
    Narrow { base_us: u64, deltas: Vec<u32> },
    Wide(Vec<u64>),
}

impl Chunk {
    fn new(first_us: u64) -> Self {
        // Room for the whole chunk at once: no regrowing while it fills.
        Chunk::Narrow { base_us: first_us.saturating_sub(BASE_SLACK), deltas: Vec::with_capacity(CHUNK as usize) }
    }

    /// Before a log's first record.
    fn empty() -> Self {
        Chunk::Narrow { base_us: 0, deltas: Vec::new() }
    }

    fn len(&self) -> usize {
        match self {
            Chunk::Narrow { deltas, .. } => deltas.len(),
            Chunk::Wide(v) => v.len(),
        }
    }

    #[inline]
    fn push(&mut self, us: u64) {
        if let Chunk::Narrow { base_us, deltas } = self {
            match us.checked_sub(*base_us).and_then(|d| u32::try_from(d).ok()) {
                Some(d) => {
                    deltas.push(d);
                    return;
                }
                None => {
                    let base = *base_us;
                    let mut wide = Vec::with_capacity(deltas.capacity());
                    wide.extend(deltas.iter().map(|&d| base + u64::from(d)));
                    *self = Chunk::Wide(wide);
                }
            }
        }
        if let Chunk::Wide(v) = self {
            v.push(us);
        }
    }

    /// Pushes several times at once: one range check for all, then a plain copy.
    #[inline]
    fn extend(&mut self, ts: &[u64]) {
        if let Chunk::Narrow { base_us, deltas } = self {
            let (lo, hi) = ts.iter().fold((u64::MAX, 0), |(lo, hi), &t| (lo.min(t), hi.max(t)));
            if lo >= *base_us && hi - *base_us <= u64::from(u32::MAX) {
                let base = *base_us;
                deltas.extend(ts.iter().map(|&t| (t - base) as u32));
                return;
            }
        }
        for &t in ts {
            self.push(t);
        }
    }

    /// Calls `f(i, created_us)` for records `from..to` of the chunk.
    #[inline]
    fn for_each(&self, from: usize, to: usize, mut f: impl FnMut(usize, u64)) {
        match self {
            Chunk::Narrow { base_us, deltas } => {
                for (i, &d) in deltas[from..to].iter().enumerate() {
                    f(from + i, base_us + u64::from(d));
                }
            }
            Chunk::Wide(v) => {
                for (i, &us) in v[from..to].iter().enumerate() {
                    f(from + i, us);
                }
            }
        }
    }

    fn truncate(&mut self, n: usize) {
        match self {
            Chunk::Narrow { deltas, .. } => deltas.truncate(n),
            Chunk::Wide(v) => v.truncate(n),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Chunk::Narrow { deltas, .. } => deltas.capacity() * 4,
            Chunk::Wide(v) => v.capacity() * 8,
        }
    }
}

/// A log segment: the unit retention deletes.
#[derive(Clone, Copy, Debug)]
struct Segment {
    base_offset: u64,
    /// Largest CreateTime of its first batch, microseconds (segment.ms rolls on this, as Kafka's
    /// LogSegment.shouldRoll measures from the first batch's max timestamp).
    first_batch_ts_us: u64,
    /// Largest CreateTime in it, microseconds (retention.ms deletes on this, as Kafka does).
    max_ts_us: u64,
    bytes: u64,
}

/// Cuts of any log's offset range so far (retention moving its start up, a truncation moving its
/// end down), in every world of the process: a consumer whose positions were all in range when
/// the count was last read need not look at them again before it moves (see
/// `World::fix_out_of_range`). Worlds run side by side share it, which only makes a consumer
/// look again for nothing; no output depends on it.
pub static RANGE_CUTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// `repr(C)`, what an append reads and writes last (from `segment_ms` on) and the offsets at the
/// very end: see `Partition`, whose own per-append fields follow them.
#[repr(C)]
pub struct PartitionLog {
    /// Older segments, oldest first.
    segments: Vec<Segment>,
    /// Bytes of every segment before the active one, deleted ones too.
    bytes_before_active: u64,
    /// Full chunks: chunk k holds offsets `chunk_origin + k * CHUNK ..`; `open` follows them.
    sealed: VecDeque<Chunk>,
    chunk_origin: u64,
    // Every append reads or writes everything from here on.
    segment_ms: u64,
    segment_bytes: u64,
    /// The segment being written, apart from the older ones: every append updates it, so it
    /// sits in the log itself rather than at the end of a list elsewhere in memory.
    active: Option<Segment>,
    /// The chunk being filled (empty before the first record; full until the next record), kept
    /// in the log itself so an append touches one heap block, not two.
    open: Chunk,
    log_start_offset: u64,
    log_end_offset: u64,
}

impl Default for PartitionLog {
    fn default() -> Self {
        PartitionLog {
            open: Chunk::empty(),
            active: None,
            segments: Vec::new(),
            segment_ms: 0,
            segment_bytes: 0,
            sealed: VecDeque::new(),
            chunk_origin: 0,
            log_start_offset: 0,
            log_end_offset: 0,
            bytes_before_active: 0,
        }
    }
}

impl PartitionLog {
    /// The chunk the next record goes to, started (and the full one sealed) when needed.
    #[inline]
    fn chunk_for(&mut self, first_us: u64) -> &mut Chunk {
        let n = self.open.len() as u64;
        if n == 0 || n == CHUNK {
            self.start_chunk(first_us);
        }
        &mut self.open
    }

    #[cold]
    fn start_chunk(&mut self, first_us: u64) {
        let full = std::mem::replace(&mut self.open, Chunk::new(first_us));
        if full.len() == 0 {
            // The log's first record.
            self.chunk_origin = self.log_end_offset;
        } else {
            self.sealed.push_back(full);
        }
    }

    /// A log that rolls segments at `segment_bytes` or `segment_ms` (Kafka's segment.bytes / segment.ms).
    pub fn with_segments(segment_bytes: u64, segment_ms: u64) -> Self {
        PartitionLog { segment_bytes, segment_ms, ..Default::default() }
    }

    pub fn log_end_offset(&self) -> u64 {
        self.log_end_offset
    }

    pub fn log_start_offset(&self) -> u64 {
        self.log_start_offset
    }

    pub fn bytes(&self) -> u64 {
        self.bytes_before_active + self.active.map_or(0, |s| s.bytes)
    }

    /// Bytes per record on average (exact when one producer, one record size, writes here).
    pub fn mean_record_size(&self) -> u64 {
        self.bytes().checked_div(self.log_end_offset).unwrap_or(0)
    }

    /// Deletes whole segments whose newest record is older than `retention` or that keep the log
    /// over `retention_bytes`, oldest first. The active segment goes too when it breaches
    /// retention (Kafka rolls an empty one in its place). Returns the new log start.
    /// (The records' data is kept for reports; below the log start they are gone for consumers.)
    pub fn apply_retention(
        &mut self,
        now: SimTime,
        retention: Option<SimDuration>,
        retention_bytes: Option<u64>,
    ) -> u64 {
        // (Rare: the active segment joins the list while retention looks at them all.)
        if let Some(a) = self.active.take() {
            self.segments.push(a);
            self.bytes_before_active += a.bytes;
        }
        let mut size: u64 = self.segments.iter().map(|s| s.bytes).sum();
        let mut drop = 0;
        while drop < self.segments.len() {
            let s = self.segments[drop];
            let expired = retention.is_some_and(|r| now.as_nanos().saturating_sub(s.max_ts_us * 1_000) > r.as_nanos());
            let oversize = retention_bytes.is_some_and(|limit| size.saturating_sub(s.bytes) >= limit);
            if !(expired || oversize) {
                break;
            }
            size -= s.bytes;
            drop += 1;
        }
        if drop > 0 {
            self.segments.drain(..drop);
            self.log_start_offset = self.segments.first().map_or(self.log_end_offset, |s| s.base_offset);
            RANGE_CUTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        // Deleted from the oldest on: if the active one went, every one did.
        self.active = self.segments.pop();
        self.bytes_before_active -= self.active.map_or(0, |a| a.bytes);
        self.log_start_offset
    }

    /// Appends a batch whose records were created at `created_us` (microseconds, non-decreasing).
    /// Returns the batch's base offset.
    pub fn append(&mut self, created_us: &[u64], record_size: u64) -> u64 {
        self.append_parts([created_us, &[]], record_size)
    }

    /// [`append`](Self::append) of one batch whose create times come in two parts (as a ring
    /// buffer holds them).
    pub fn append_parts(&mut self, parts: [&[u64]; 2], record_size: u64) -> u64 {
        let base_offset = self.log_end_offset;
        let mut batch_max_us = 0;
        let single = matches!((parts[0], parts[1]), ([_], []));
        if let ([one], []) = (parts[0], parts[1]) {
            // A batch of one record (linger.ms = 0): no slicing.
            batch_max_us = *one;
            self.chunk_for(*one).push(*one);
            self.log_end_offset += 1;
        }
        for mut ts in parts.into_iter().filter(|_| !single) {
            if let Some(&last) = ts.last() {
                batch_max_us = last;
            }
            while !ts.is_empty() {
                let chunk = self.chunk_for(ts[0]);
                let n = ts.len().min(CHUNK as usize - chunk.len());
                chunk.extend(&ts[..n]);
                self.log_end_offset += n as u64;
                ts = &ts[n..];
            }
        }
        let count = self.log_end_offset - base_offset;
        assert!(count > 0, "an empty batch is never sent");
        self.account_batch(base_offset, count * record_size, batch_max_us);
        base_offset
    }

    /// [`append`](Self::append) of a batch of one record, created at `created_us`: what
    /// linger.ms = 0 sends for every record, so the open chunk's next slot is written in place,
    /// without the slicing and calls a batch of several needs (a sixth of the world's thread on
    /// per-record.yaml went to them).
    #[inline]
    pub fn append_one(&mut self, created_us: u64, record_size: u64) -> u64 {
        let base_offset = self.log_end_offset;
        let pushed = match &mut self.open {
            // (An empty chunk is the log's first: `chunk_for` starts it.)
            Chunk::Narrow { base_us, deltas } if !deltas.is_empty() && deltas.len() < CHUNK as usize => {
                match created_us.checked_sub(*base_us).and_then(|d| u32::try_from(d).ok()) {
                    Some(d) => {
                        deltas.push(d);
                        true
                    }
                    None => false,
                }
            }
            _ => false,
        };
        if !pushed {
            self.chunk_for(created_us).push(created_us);
        }
        self.log_end_offset += 1;
        self.account_batch(base_offset, record_size, created_us);
        base_offset
    }

    /// The active segment takes a batch of `batch_bytes` starting at `base_offset`, whose
    /// largest create time is `batch_max_us`, rolling first when the batch would overfill it or
    /// it is older than segment.ms.
    #[inline]
    fn account_batch(&mut self, base_offset: u64, batch_bytes: u64, batch_max_us: u64) {
        let roll = self.active.as_ref().is_none_or(|s| {
            (self.segment_bytes > 0 && s.bytes + batch_bytes > self.segment_bytes && s.bytes > 0)
                || (self.segment_ms > 0 && batch_max_us.saturating_sub(s.first_batch_ts_us) * 1_000 > self.segment_ms)
        });
        if roll {
            let fresh = Segment { base_offset, first_batch_ts_us: batch_max_us, max_ts_us: 0, bytes: 0 };
            if let Some(old) = self.active.replace(fresh) {
                self.segments.push(old);
                self.bytes_before_active += old.bytes;
            }
        }
        let seg = self.active.as_mut().expect("a segment");
        seg.bytes += batch_bytes;
        seg.max_ts_us = seg.max_ts_us.max(batch_max_us);
    }

    /// Cuts the log back to `offset` (an unclean election made a replica with less the leader):
    /// records from there on are gone, and the next append reuses their offsets. Segment sizes
    /// lose `record_size` bytes per record cut.
    pub fn truncate_to(&mut self, offset: u64, record_size: u64) {
        if offset >= self.log_end_offset {
            return;
        }
        RANGE_CUTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cut = self.log_end_offset - offset;
        if offset <= self.chunk_origin || self.open.len() == 0 {
            self.open = Chunk::empty();
            self.sealed.clear();
        } else {
            let rel = offset - self.chunk_origin;
            let (ci, within) = ((rel / CHUNK) as usize, (rel % CHUNK) as usize);
            if ci < self.sealed.len() {
                self.sealed.truncate(ci + 1);
                self.open = self.sealed.pop_back().expect("the chunk holding the cut");
            }
            if within == 0 && ci > 0 {
                // A chunk cut to nothing: the one before it is the (full) open chunk.
                self.open = self.sealed.pop_back().expect("a full chunk before the cut");
            } else {
                self.open.truncate(if within == 0 { CHUNK as usize } else { within });
            }
        }
        self.log_end_offset = offset;
        self.log_start_offset = self.log_start_offset.min(offset);
        let total = self.bytes().saturating_sub(cut * record_size);
        let mut all: Vec<Segment> = self.segments.drain(..).chain(self.active.take()).collect();
        let mut dropped = 0;
        while all.len() > 1 && all.last().is_some_and(|s| s.base_offset >= offset) {
            dropped += all.pop().map_or(0, |s| s.bytes);
        }
        self.active = all.pop();
        if let Some(a) = &mut self.active {
            a.bytes = a.bytes.saturating_sub((cut * record_size).saturating_sub(dropped));
        }
        self.segments = all;
        self.bytes_before_active = total.saturating_sub(self.active.map_or(0, |a| a.bytes));
    }

    /// Where, in the log, what every append reads and writes begins (it runs to the log's end).
    pub(crate) const APPEND_FIELDS: usize = std::mem::offset_of!(PartitionLog, segment_ms);

    /// Starts loading the slot the next append writes: the open chunk's end. (The active segment
    /// sits in the log itself, loaded with it: reading whether there is one would only wait.)
    #[inline]
    pub fn prefetch_tail(&self) {
        if let Chunk::Narrow { deltas, .. } = &self.open {
            crate::prefetch::prefetch(deltas.as_ptr().wrapping_add(deltas.len()), 4);
        }
    }

    /// The first offset whose record is still in memory.
    pub fn retained_from(&self) -> u64 {
        if self.open.len() == 0 { self.log_end_offset } else { self.chunk_origin }
    }

    /// Frees the records below `offset` (whole chunks): no reader will read them again.
    pub fn release_before(&mut self, offset: u64) {
        while !self.sealed.is_empty() && self.chunk_origin + CHUNK <= offset {
            self.sealed.pop_front();
            self.chunk_origin += CHUNK;
        }
    }

    /// Calls `f(offset, created_ns)` for each record in `[from, to)`, in offset order.
    pub fn for_each_created(&self, from: u64, to: u64, mut f: impl FnMut(u64, u64)) {
        debug_assert!(to <= self.log_end_offset);
        if from >= to {
            return;
        }
        assert!(from >= self.chunk_origin, "offset {from} was released (records kept from {})", self.chunk_origin);
        let mut offset = from;
        while offset < to {
            let rel = offset - self.chunk_origin;
            let chunk = self.sealed.get((rel / CHUNK) as usize).unwrap_or(&self.open);
            let first = (rel % CHUNK) as usize;
            let n = (to - offset).min(CHUNK - first as u64) as usize;
            let base = offset - first as u64;
            chunk.for_each(first, first + n, |i, us| f(base + i as u64, us * NANOS_PER_MICRO));
            offset += n as u64;
        }
    }

    /// CreateTime (ns) of the record at `offset`, if it is in the log and still in memory.
    pub fn created_at(&self, offset: u64) -> Option<u64> {
        if offset >= self.log_end_offset || offset < self.retained_from() {
            return None;
        }
        let mut out = None;
        self.for_each_created(offset, offset + 1, |_, ts| out = Some(ts));
        out
    }

    /// Memory held by the log's records, for the benchmark's accounting.
    pub fn heap_bytes(&self) -> usize {
        self.sealed.iter().map(Chunk::heap_bytes).sum::<usize>() + self.open.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(log: &PartitionLog, from: u64, to: u64) -> Vec<(u64, u64)> {
        let mut v = vec![];
        log.for_each_created(from, to, |o, t| v.push((o, t)));
        v
    }

    #[test]
    fn offsets_and_timestamps_round_trip_across_batches() {
        let mut log = PartitionLog::default();
        assert_eq!(log.append(&[1, 5, 9], 100), 0);
        assert_eq!(log.append(&[100, 100_000, 200_000], 100), 3);
        assert_eq!(log.log_end_offset(), 6);
        assert_eq!(log.bytes(), 600);
        assert_eq!(collect(&log, 1, 5), vec![(1, 5_000), (2, 9_000), (3, 100_000), (4, 100_000_000)]);
        assert_eq!(log.created_at(5), Some(200_000_000));
        assert_eq!(log.created_at(6), None);
        assert!(collect(&log, 4, 4).is_empty());
    }

    #[test]
    fn chunks_hold_any_spread_of_times_and_release_from_the_front() {
        let mut log = PartitionLog::default();
        // Interleaved producers make times go back; an hour-long gap forces a wide chunk.
        let mut times = vec![];
        for i in 0..3 * CHUNK + 17 {
            let t = 10_000_000 + i * 1_000 - (i % 3) * 5_000 + if i == CHUNK + 5 { 3_600_000_000 } else { 0 };
            times.push(t);
            log.append(&[t], 10);
        }
        let all = collect(&log, 0, log.log_end_offset());
        assert_eq!(all.len() as u64, 3 * CHUNK + 17);
        for (o, t) in all {
            assert_eq!(t, times[o as usize] * 1_000);
        }
        log.release_before(2 * CHUNK + 1);
        assert_eq!(log.retained_from(), 2 * CHUNK);
        assert_eq!(log.created_at(2 * CHUNK), Some(times[2 * CHUNK as usize] * 1_000));
        assert_eq!(log.log_end_offset(), 3 * CHUNK + 17);
        log.release_before(u64::MAX);
        assert_eq!(log.retained_from(), 3 * CHUNK, "the chunk being filled stays");
    }

    /// Retention deletes segments oldest first, the active one too once it breaches; the log's
    /// byte count keeps what was ever appended, and the next append starts a new segment.
    #[test]
    fn retention_deletes_oldest_segments_first_and_the_active_one_last() {
        let mut log = PartitionLog::with_segments(1_000, 0);
        for b in 0..7u64 {
            let times: Vec<u64> = (0..5).map(|i| 1_000_000 + b * 10 + i).collect();
            log.append(&times, 100);
        }
        assert_eq!((log.segments.len(), log.bytes(), log.mean_record_size()), (3, 3_500, 100));
        let now = SimTime::from_millis(2_000);
        assert_eq!(log.apply_retention(now, None, Some(1_500)), 20, "two of four segments go");
        assert_eq!((log.segments.len(), log.bytes()), (1, 3_500));
        assert_eq!(log.active.map(|s| s.base_offset), Some(30));
        let all = log.apply_retention(now, Some(SimDuration::from_millis(1)), None);
        assert_eq!((all, log.log_end_offset(), log.segments.len()), (35, 35, 0));
        assert!(log.active.is_none() && log.bytes() == 3_500);
        assert_eq!(log.append(&[2_000_000], 100), 35);
        assert_eq!((log.active.map(|s| (s.base_offset, s.bytes)), log.bytes()), (Some((35, 100)), 3_600));
    }

    /// A partition's open chunk takes 512 bytes: eight to a memory page (see `CHUNK`).
    #[test]
    fn an_open_chunk_is_an_eighth_of_a_page() {
        let mut log = PartitionLog::default();
        log.append(&[1_000], 100);
        assert_eq!(log.heap_bytes(), 512);
    }

    #[test]
    fn a_batch_in_two_parts_across_chunks_is_one_batch() {
        let mut one = PartitionLog::with_segments(1000, 0);
        let mut two = PartitionLog::with_segments(1000, 0);
        let times: Vec<u64> = (0..CHUNK + 100).map(|i| 5_000_000_000 + i * 7).collect();
        one.append(&times[..10], 1);
        two.append(&times[..10], 1);
        one.append(&times[10..], 1);
        let (a, b) = times[10..].split_at(CHUNK as usize - 3);
        two.append_parts([a, b], 1);
        assert_eq!(collect(&one, 0, CHUNK + 100), collect(&two, 0, CHUNK + 100));
        assert_eq!(one.segments.len(), two.segments.len());
        assert_eq!(one.active.map(|s| s.bytes), two.active.map(|s| s.bytes));
        assert_eq!(two.log_end_offset(), CHUNK + 100);
    }
}
