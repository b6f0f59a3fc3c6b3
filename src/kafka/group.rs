//! A consumer group's broker-side state: committed offsets, which member owns which partition,
//! and what the group has processed (to tell first deliveries from duplicates).

use crate::record::intervals::IntervalSet;

pub struct Group {
    pub id: String,
    /// Global partition ids of every partition of the subscribed topics, in (topic, partition) order.
    pub partitions: Vec<u32>,
    /// Per global partition id (dense over all partitions; unused entries stay None).
    pub committed: Vec<Option<u64>>,
    pub owner: Vec<Option<usize>>,
    pub processed: Vec<IntervalSet>,
    /// The first offset the group started reading each partition from (loss is counted above it).
    pub first_offset: Vec<Option<u64>>,
    /// Consumers (global indices) in the group, in scenario order.
    pub consumers: Vec<usize>,
}

impl Group {
    pub fn new(id: String, partitions: Vec<u32>, total_partitions: usize, consumers: Vec<usize>) -> Self {
        Group {
            id,
            partitions,
            committed: vec![None; total_partitions],
            owner: vec![None; total_partitions],
            processed: vec![IntervalSet::default(); total_partitions],
            first_offset: vec![None; total_partitions],
            consumers,
        }
    }

    /// Applies a commit; Kafka accepts any offset, but our consumers only commit forward or equal
    /// positions except after a rewind, so a regression is kept as the new value too.
    pub fn commit(&mut self, partition: u32, offset: u64) {
        self.committed[partition as usize] = Some(offset);
    }

    /// Records that `[from, to)` was processed; returns how many were processed before.
    pub fn mark_processed(&mut self, partition: u32, from: u64, to: u64) -> u64 {
        self.processed[partition as usize].insert(from, to)
    }

    /// Records the group committed past without ever processing.
    pub fn lost(&self, partition: u32) -> u64 {
        let p = partition as usize;
        match (self.first_offset[p], self.committed[p]) {
            (Some(first), Some(c)) if c > first => (c - first) - self.processed[p].count_in(first, c),
            _ => 0,
        }
    }
}
