//! Which partition a record goes to: Kafka's built-in partitioner (murmur2 for keyed records,
//! the KIP-794 sticky partition for null keys) or the opt-in round-robin partitioner.

use super::murmur2::partition_for_key;
use crate::scenario::plan::{Keys, PartitionerKind};
use crate::sim::rng::SimRng;
use rand::Rng;
use rand_distr::{Distribution, Zipf};

/// Draws record keys. Key i is the UTF-8 string `key-<i>`; its partition is precomputed once,
/// because murmur2 of the same bytes never changes while the partition count stays the same.
pub struct KeySource {
    kind: KeyKind,
    /// partition of key i, for the current partition count.
    partition_of: Vec<u32>,
}

enum KeyKind {
    None,
    Uniform(u64),
    Zipf(Zipf<f64>),
}

/// The largest key space precomputed (4 bytes a key).
pub const MAX_KEYS: u64 = 10_000_000;

impl KeySource {
    pub fn new(keys: &Keys, partitions: u32) -> Self {
        let (kind, n) = match keys {
            Keys::None => (KeyKind::None, 0),
            Keys::Uniform(n) => (KeyKind::Uniform(*n), *n),
            Keys::Zipf { n, s } => (KeyKind::Zipf(Zipf::new(*n, *s).expect("validated zipf")), *n),
        };
        let mut src = KeySource { kind, partition_of: Vec::new() };
        src.partition_of = (0..n).map(|i| partition_for_key(key_name(i).as_bytes(), partitions)).collect();
        src
    }

    /// Draws a key; None for null-key records.
    pub fn draw(&self, rng: &mut SimRng) -> Option<u64> {
        match &self.kind {
            KeyKind::None => None,
            KeyKind::Uniform(n) => Some(rng.gen_range(0..*n)),
            // Zipf draws ranks 1..=n; rank 1 (the hottest key) is key-0.
            KeyKind::Zipf(z) => Some((z.sample(rng) as u64).saturating_sub(1)),
        }
    }

    pub fn partition_of(&self, key: u64) -> u32 {
        self.partition_of[key as usize]
    }

    pub fn is_keyed(&self) -> bool {
        !matches!(self.kind, KeyKind::None)
    }
}

pub fn key_name(i: u64) -> String {
    format!("key-{i}")
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
        let src = KeySource::new(&Keys::Uniform(4), 3);
        for i in 0..4 {
            assert_eq!(src.partition_of(i), partition_for_key(format!("key-{i}").as_bytes(), 3));
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
