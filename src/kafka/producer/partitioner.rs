//! Which partition a record goes to: Kafka's built-in partitioner (murmur2 for keyed records,
//! the KIP-794 sticky partition for null keys) or the opt-in round-robin partitioner.

use crate::kafka::producer::murmur2::partition_for_key;
use crate::scenario::plan::{Keys, PartitionerKind};
use crate::sim::rng::SimRng;
use rand::Rng;
use rand_distr::{Distribution, Zipf};
use std::sync::Arc;

/// Which partition each key of a key space goes to under one partition count, in the smallest
/// integer type that holds the count. murmur2 of the same bytes never changes, so the table is
/// computed once per (key space, partition count) and shared by every producer that needs it.
pub enum KeyTable {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

impl KeyTable {
    pub fn new(keys: u64, partitions: u32) -> Self {
        if partitions <= 1 << 8 {
            KeyTable::U8(Self::build(keys, |name| partition_for_key(name, partitions) as u8))
        } else if partitions <= 1 << 16 {
            KeyTable::U16(Self::build(keys, |name| partition_for_key(name, partitions) as u16))
        } else {
            KeyTable::U32(Self::build(keys, |name| partition_for_key(name, partitions)))
        }
    }

    /// Entry i is `part(b"key-<i>")`. A large table is built on every core, in blocks of
    /// consecutive keys whose names are counted up as text: each entry depends on its key alone,
    /// so the table is the same however it is split.
    fn build<T: Send + Copy + Default>(keys: u64, part: impl Fn(&[u8]) -> T + Sync) -> Vec<T> {
        use rayon::prelude::*;
        const BLOCK: usize = 1 << 14;
        let mut table = vec![T::default(); keys as usize];
        let fill = |(b, block): (usize, &mut [T])| {
            let mut name = KeyName::new((b * BLOCK) as u64);
            for entry in block {
                *entry = part(name.bytes());
                name.advance();
            }
        };
        if keys < 1 << 16 {
            table.chunks_mut(BLOCK).enumerate().for_each(fill);
        } else {
            table.par_chunks_mut(BLOCK).enumerate().for_each(fill);
        }
        table
    }

    /// Asks the CPU to bring `key`'s entry into the cache (a hint: nothing else changes).
    #[inline]
    pub fn prefetch(&self, key: u64) {
        let i = key as usize;
        match self {
            KeyTable::U8(t) => crate::prefetch::prefetch(t.as_ptr().wrapping_add(i), 1),
            KeyTable::U16(t) => crate::prefetch::prefetch(t.as_ptr().wrapping_add(i), 1),
            KeyTable::U32(t) => crate::prefetch::prefetch(t.as_ptr().wrapping_add(i), 1),
        }
    }

    #[inline]
    pub fn partition_of(&self, key: u64) -> u32 {
        let i = key as usize;
        match self {
            KeyTable::U8(t) => u32::from(t[i]),
            KeyTable::U16(t) => u32::from(t[i]),
            KeyTable::U32(t) => t[i],
        }
    }
}

/// The key tables of one world, one per (key space, partition count).
#[derive(Default)]
pub struct KeyTables(std::collections::BTreeMap<(u64, u32), Arc<KeyTable>>);

impl KeyTables {
    pub fn get(&mut self, keys: u64, partitions: u32) -> Arc<KeyTable> {
        self.0.entry((keys, partitions)).or_insert_with(|| Arc::new(KeyTable::new(keys, partitions))).clone()
    }
}

/// Draws record keys. Key i is the UTF-8 string `key-<i>`; its partition comes from a shared
/// [`KeyTable`].
pub struct KeySource {
    kind: KeyKind,
    /// partition of key i, for the current partition count.
    table: Option<Arc<KeyTable>>,
}

enum KeyKind {
    None,
    Uniform(u64),
    Zipf(Zipf<f64>),
}

/// The largest key space precomputed (at most 4 bytes a key, one byte for up to 256 partitions);
/// scenarios are held to it when they are validated.
pub use crate::scenario::validate::MAX_KEYS;

impl KeySource {
    pub fn new(keys: &Keys, partitions: u32, tables: &mut KeyTables) -> Self {
        let (kind, n) = match keys {
            Keys::None => (KeyKind::None, 0),
            Keys::Uniform(n) => (KeyKind::Uniform(*n), *n),
            Keys::Zipf { n, s } => (KeyKind::Zipf(Zipf::new(*n, *s).expect("validated zipf")), *n),
        };
        let table = (n > 0).then(|| tables.get(n, partitions));
        KeySource { kind, table }
    }

    /// Draws a key; None for null-key records.
    #[inline]
    pub fn draw(&self, rng: &mut SimRng) -> Option<u64> {
        match &self.kind {
            KeyKind::None => None,
            KeyKind::Uniform(n) => Some(rng.gen_range(0..*n)),
            // Zipf draws ranks 1..=n; rank 1 (the hottest key) is key-0.
            KeyKind::Zipf(z) => Some((z.sample(rng) as u64).saturating_sub(1)),
        }
    }

    #[inline]
    pub fn prefetch(&self, key: u64) {
        if let Some(t) = &self.table {
            t.prefetch(key);
        }
    }

    #[inline]
    pub fn partition_of(&self, key: u64) -> u32 {
        self.table.as_ref().expect("a keyed source has a table").partition_of(key)
    }

    pub fn is_keyed(&self) -> bool {
        !matches!(self.kind, KeyKind::None)
    }
}

pub fn key_name(i: u64) -> String {
    format!("key-{i}")
}

/// `key-<i>` written into `buf` without allocating: the bytes murmur2 hashes.
pub fn key_name_into(i: u64, buf: &mut [u8; 24]) -> &[u8] {
    let mut digits = [0u8; 20];
    let mut n = i;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf[..4].copy_from_slice(b"key-");
    for k in 0..len {
        buf[4 + k] = digits[len - 1 - k];
    }
    &buf[..4 + len]
}

/// `key-<i>` for consecutive i, kept as text: the next key adds one to the last digit (with a
/// carry now and then) instead of writing the whole number out again.
struct KeyName {
    buf: [u8; 24],
    len: usize,
}

impl KeyName {
    fn new(i: u64) -> Self {
        let mut buf = [0u8; 24];
        let len = key_name_into(i, &mut buf).len();
        KeyName { buf, len }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn advance(&mut self) {
        let mut k = self.len - 1;
        while self.buf[k] == b'9' {
            self.buf[k] = b'0';
            if k == 4 {
                // All nines: one digit more ("key-99" -> "key-100").
                self.buf[4] = b'1';
                self.buf[self.len] = b'0';
                self.len += 1;
                return;
            }
            k -= 1;
        }
        self.buf[k] += 1;
    }
}

/// Where null-key records go (keyed records always follow murmur2 under the default partitioner).
pub enum NullKeyPartitioner {
    /// KIP-794: stay on one partition until a batch's worth of bytes went to it.
    Sticky { current: u32, produced_bytes: u64 },
    /// `RoundRobinPartitioner`: every record to the next partition, keys ignored.
    RoundRobin { next: u32 },
}

impl NullKeyPartitioner {
    pub fn new(kind: PartitionerKind, partitions: u32, rng: &mut SimRng) -> Self {
        match kind {
            PartitionerKind::Default => {
                NullKeyPartitioner::Sticky { current: rng.gen_range(0..partitions), produced_bytes: 0 }
            }
            PartitionerKind::RoundRobin => NullKeyPartitioner::RoundRobin { next: 0 },
        }
    }

    /// The partition for the next record.
    pub fn partition(&mut self, partitions: u32) -> u32 {
        match self {
            NullKeyPartitioner::Sticky { current, .. } => *current,
            NullKeyPartitioner::RoundRobin { next } => {
                let p = *next % partitions;
                *next = (p + 1) % partitions;
                p
            }
        }
    }

    /// After a record of `size` bytes went to the sticky partition: Kafka switches once at least
    /// `batch.size` bytes went there and its batch is closed, or unconditionally at twice that.
    pub fn on_appended(&mut self, size: u64, batch_size: u64, batch_open: bool, partitions: u32, rng: &mut SimRng) {
        if let NullKeyPartitioner::Sticky { current, produced_bytes } = self {
            *produced_bytes += size;
            if (*produced_bytes >= batch_size && !batch_open) || *produced_bytes >= 2 * batch_size {
                // Uniform choice; the new partition may equal the old one, as in KIP-794.
                *current = rng.gen_range(0..partitions);
                *produced_bytes = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::RngStreams;

    #[test]
    fn keyed_records_follow_murmur2_of_key_names() {
        let mut tables = KeyTables::default();
        let src = KeySource::new(&Keys::Uniform(4), 3, &mut tables);
        for i in 0..4 {
            assert_eq!(src.partition_of(i), partition_for_key(format!("key-{i}").as_bytes(), 3));
        }
    }

    #[test]
    fn tables_are_shared_and_as_narrow_as_the_partition_count_allows() {
        let mut tables = KeyTables::default();
        let a = tables.get(1000, 7);
        assert!(Arc::ptr_eq(&a, &tables.get(1000, 7)));
        assert!(matches!(*a, KeyTable::U8(_)));
        assert!(matches!(*tables.get(10, 300), KeyTable::U16(_)));
        assert!(matches!(*tables.get(10, 70_000), KeyTable::U32(_)));
        let mut buf = [0u8; 24];
        for i in [0, 9, 10, 99, 12_345, u64::MAX] {
            assert_eq!(key_name_into(i, &mut buf), key_name(i).as_bytes());
        }
        for (n, parts) in [(1000u64, 7u32), (10, 300), (10, 70_000)] {
            let t = tables.get(n, parts);
            for i in 0..n {
                assert_eq!(
                    t.partition_of(i),
                    partition_for_key(key_name(i).as_bytes(), parts),
                    "key {i} of {n} over {parts}"
                );
            }
        }
    }

    /// Names counted up as text match names written out, across every carry and digit count.
    #[test]
    fn key_names_counted_up_match_key_names_written_out() {
        for start in [0u64, 95, 9_990, 999_990, 1 << 14, 99_999_999_990] {
            let mut name = KeyName::new(start);
            for i in start..start + 30 {
                assert_eq!(name.bytes(), key_name(i).as_bytes());
                name.advance();
            }
        }
        let mut name = KeyName::new(0);
        for i in 0..200_000 {
            assert_eq!(name.bytes(), key_name(i).as_bytes());
            name.advance();
        }
    }

    /// A table built on every core, block by block, holds murmur2 of each key's own name.
    #[test]
    fn a_table_built_in_parallel_blocks_is_the_same() {
        let t = KeyTable::new(100_003, 1000);
        assert!(matches!(t, KeyTable::U16(_)));
        let block = 1u64 << 14;
        let edges = (1..7).flat_map(|b| [b * block - 1, b * block]);
        for i in edges.chain([0, 99_999, 100_002]).chain((0..100_003).step_by(97)) {
            assert_eq!(t.partition_of(i), partition_for_key(key_name(i).as_bytes(), 1000), "key {i}");
        }
    }

    #[test]
    fn sticky_switches_after_a_batch_worth_of_bytes() {
        // BuiltInPartitionerTest.testStickyPartitioning: sticky batch size 3, 1-byte appends.
        let mut rng = RngStreams::new(1).stream("t");
        let mut p = NullKeyPartitioner::new(PartitionerKind::Default, 1000, &mut rng);
        let first = p.partition(1000);
        for _ in 0..2 {
            p.on_appended(1, 3, false, 1000, &mut rng);
            assert_eq!(p.partition(1000), first);
        }
        p.on_appended(1, 3, false, 1000, &mut rng);
        assert!(matches!(p, NullKeyPartitioner::Sticky { produced_bytes: 0, .. }));
    }

    #[test]
    fn sticky_waits_for_the_open_batch_until_twice_the_size() {
        let mut rng = RngStreams::new(1).stream("t");
        let mut p = NullKeyPartitioner::new(PartitionerKind::Default, 1000, &mut rng);
        let first = p.partition(1000);
        for _ in 0..5 {
            p.on_appended(1, 3, true, 1000, &mut rng);
            assert_eq!(p.partition(1000), first);
        }
        p.on_appended(1, 3, true, 1000, &mut rng);
        assert!(matches!(p, NullKeyPartitioner::Sticky { produced_bytes: 0, .. }));
    }

    #[test]
    fn round_robin_spreads_evenly() {
        // RoundRobinPartitionerTest: 30 records on 3 partitions -> 10/10/10.
        let mut rng = RngStreams::new(1).stream("t");
        let mut p = NullKeyPartitioner::new(PartitionerKind::RoundRobin, 3, &mut rng);
        let mut counts = [0; 3];
        for _ in 0..30 {
            counts[p.partition(3) as usize] += 1;
        }
        assert_eq!(counts, [10, 10, 10]);
    }
}
