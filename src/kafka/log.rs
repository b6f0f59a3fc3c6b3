//! A partition: an append-only log of record batches, as Kafka stores it.
//!
//! Each record keeps its producer timestamp (CreateTime) so end-to-end latency is exact per record.
//! Timestamps are held as microsecond deltas from the batch's first record in one `u16` per
//! record, the compact form that lets tens of millions of records fit in memory; a batch whose
//! span does not fit 16 bits uses two slots a record.

use crate::sim::{SimDuration, SimTime};

const NANOS_PER_MICRO: u64 = 1_000;

#[derive(Clone, Debug)]
pub struct RecordBatch {
    pub base_offset: u64,
    pub count: u32,
    /// When the broker appended it (the records become fetchable then).
    pub append_time: SimTime,
    /// CreateTime of the first record, in microseconds.
    first_ts_us: u64,
    /// Index of this batch's first delta slot in `PartitionLog::ts_slots`.
    slot_start: u32,
    wide: bool,
}

impl RecordBatch {
    pub fn next_offset(&self) -> u64 {
        self.base_offset + u64::from(self.count)
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

#[derive(Debug, Default)]
pub struct PartitionLog {
    segments: Vec<Segment>,
    segment_ms: u64,
    segment_bytes: u64,
    batches: Vec<RecordBatch>,
    ts_slots: Vec<u16>,
    log_start_offset: u64,
    log_end_offset: u64,
    bytes: u64,
}

impl PartitionLog {
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
        self.bytes
    }

    /// Bytes per record on average (exact when one producer, one record size, writes here).
    pub fn mean_record_size(&self) -> u64 {
        self.bytes.checked_div(self.log_end_offset).unwrap_or(0)
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
        }
        self.log_start_offset
    }

    pub fn batch_count(&self) -> usize {
        self.batches.len()
    }

    /// Appends a batch whose records were created at `created_us` (microseconds, non-decreasing).
    /// Returns the batch's base offset.
    pub fn append(&mut self, append_time: SimTime, created_us: &[u64], record_size: u64) -> u64 {
        assert!(!created_us.is_empty(), "an empty batch is never sent");
        let base_offset = self.log_end_offset;
        let first = created_us[0];
        let span = created_us[created_us.len() - 1] - first;
        let wide = span > u64::from(u16::MAX);
        let slot_start = u32::try_from(self.ts_slots.len()).expect("timestamp slots fit u32");
        for &ts in created_us {
            let d = ts - first;
            if wide {
                let d = u32::try_from(d).expect("a batch spans less than 71 minutes");
                self.ts_slots.push((d >> 16) as u16);
                self.ts_slots.push(d as u16);
            } else {
                self.ts_slots.push(d as u16);
            }
        }
        let count = u32::try_from(created_us.len()).expect("batch record count fits u32");
        let batch_bytes = u64::from(count) * record_size;
        let batch_max_us = created_us[created_us.len() - 1];
        let roll = self.segments.last().is_none_or(|s| {
            (self.segment_bytes > 0 && s.bytes + batch_bytes > self.segment_bytes && s.bytes > 0)
                || (self.segment_ms > 0 && batch_max_us.saturating_sub(s.first_batch_ts_us) * 1_000 > self.segment_ms)
        });
        if roll {
            self.segments.push(Segment { base_offset, first_batch_ts_us: batch_max_us, max_ts_us: 0, bytes: 0 });
        }
        let seg = self.segments.last_mut().expect("a segment");
        seg.bytes += batch_bytes;
        seg.max_ts_us = seg.max_ts_us.max(created_us[created_us.len() - 1]);
        self.batches.push(RecordBatch { base_offset, count, append_time, first_ts_us: first, slot_start, wide });
        self.log_end_offset += u64::from(count);
        self.bytes += u64::from(count) * record_size;
        base_offset
    }

    /// Index of the batch holding `offset` (which must be in the log).
    fn batch_index(&self, offset: u64) -> usize {
        self.batches.partition_point(|b| b.next_offset() <= offset)
    }

    /// Calls `f(offset, created_ns)` for each record in `[from, to)`, in offset order.
    pub fn for_each_created(&self, from: u64, to: u64, mut f: impl FnMut(u64, u64)) {
        debug_assert!(to <= self.log_end_offset);
        if from >= to {
            return;
        }
        let mut bi = self.batch_index(from);
        let mut offset = from;
        while offset < to {
            let b = &self.batches[bi];
            let end = b.next_offset().min(to);
            let first = (offset - b.base_offset) as usize;
            let n = (end - offset) as usize;
            let start = b.slot_start as usize;
            if b.wide {
                let slots = &self.ts_slots[start + 2 * first..start + 2 * (first + n)];
                for (i, pair) in slots.chunks_exact(2).enumerate() {
                    let d = (u64::from(pair[0]) << 16) | u64::from(pair[1]);
                    f(offset + i as u64, (b.first_ts_us + d) * NANOS_PER_MICRO);
                }
            } else {
                for (i, &d) in self.ts_slots[start + first..start + first + n].iter().enumerate() {
                    f(offset + i as u64, (b.first_ts_us + u64::from(d)) * NANOS_PER_MICRO);
                }
            }
            offset = end;
            bi += 1;
        }
    }

    /// CreateTime (ns) of the record at `offset`, if it is in the log.
    pub fn created_at(&self, offset: u64) -> Option<u64> {
        if offset >= self.log_end_offset {
            return None;
        }
        let mut out = None;
        self.for_each_created(offset, offset + 1, |_, ts| out = Some(ts));
        out
    }

    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// Memory held by the log's own structures, for the benchmark's accounting.
    pub fn heap_bytes(&self) -> usize {
        self.batches.capacity() * std::mem::size_of::<RecordBatch>() + self.ts_slots.capacity() * 2
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
        assert_eq!(log.append(SimTime(10), &[1, 5, 9], 100), 0);
        assert_eq!(log.append(SimTime(20), &[100, 100_000, 200_000], 100), 3); // wide: span > 65535us
        assert_eq!(log.log_end_offset(), 6);
        assert_eq!(log.bytes(), 600);
        assert_eq!(collect(&log, 1, 5), vec![(1, 5_000), (2, 9_000), (3, 100_000), (4, 100_000_000)]);
        assert_eq!(log.created_at(5), Some(200_000_000));
        assert_eq!(log.created_at(6), None);
        assert!(collect(&log, 4, 4).is_empty());
    }
}
