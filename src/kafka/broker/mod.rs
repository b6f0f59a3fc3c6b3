//! The broker side: partition logs and the appends that reach them, the fetch side (answering
//! fetches, parking long polls), push delivery, retention, what readers still need in memory, and
//! share groups' share-partitions (record states and acquisition locks).

pub mod appends;
pub mod backlog;
pub mod fetch;
pub mod log;
pub mod purgatory;
pub mod push;
pub mod retention;
pub mod share_fetch;
pub mod share_partition;

use crate::kafka::coordinator::assignor::TopicPartition;
use crate::kafka::producer::feed::AppendTrace;
use log::PartitionLog;

/// A topic as the broker knows it.
pub struct TopicMeta {
    pub name: String,
    pub first_partition: u32,
    /// Partitions that exist now.
    pub partitions: u32,
    /// Partitions it will have after every add_partitions (ids reserved).
    pub allocated: u32,
}

/// A partition: its log, and who waits for its next batch. Laid out in order (`repr(C)`) so that
/// what every append reads and writes (the end of the log: its segment settings, active segment,
/// open chunk and offsets; then the flags, `cleared` and `waiters`) is the struct's last 144
/// bytes: three cache lines, or four when it starts in a line's last 8 bytes (partitions start
/// 8-aligned, so one in eight does): over 10,000 partitions appends come in no order
/// and each one misses the cache, so each line matters. What a fetch reads of each owned
/// partition (the log's start and end offsets, then `unreadable`) is 24 bytes side by side.
#[repr(C)]
pub struct Partition {
    pub topic: usize,
    pub index: u32,
    pub(crate) batch_starts: std::collections::VecDeque<u64>,
    pub log: PartitionLog,
    /// A cluster runs and its leader is gone or not found yet: consumers read nothing here.
    pub(crate) unreadable: bool,
    /// A push group reads this partition: every batch that arrives is pushed at once.
    pub(crate) push_fed: bool,
    /// A share group reads this partition: producer batch boundaries matter (batch_optimized
    /// acquisition rounds up to them), so their base offsets are kept (in `batch_starts`) from
    /// the lowest SPSO on.
    pub(crate) share_fed: bool,
    /// The park order when an arrival last took this partition's waiters: parks before it are gone.
    pub(crate) cleared: u64,
    /// Long polls parked on this partition alone (share fetches, and any while a cluster runs),
    /// in park order; the others parked for their consumer (see `purgatory`).
    pub(crate) waiters: Vec<purgatory::Waiter>,
}

impl Partition {
    /// Where what every append reads and writes begins (it runs to the struct's end).
    const APPEND_FIELDS: usize = std::mem::offset_of!(Partition, log) + PartitionLog::APPEND_FIELDS;

    /// Starts loading what an append to this partition reads and writes (see the struct).
    #[inline]
    pub(crate) fn prefetch_for_append(&self) {
        let from = (self as *const Partition).cast::<u8>().wrapping_add(Self::APPEND_FIELDS);
        crate::prefetch::prefetch(from, std::mem::size_of::<Partition>() - Self::APPEND_FIELDS);
    }

    /// A batch goes below the high watermark: readers can have it.
    pub(crate) fn append_batch(&mut self, created_us: &[u64], record_size: u64) {
        self.append_batch_parts([created_us, &[]], record_size);
    }

    /// [`append_batch`](Self::append_batch) of create times held in two parts (a ring buffer's).
    pub(crate) fn append_batch_parts(&mut self, created_us: [&[u64]; 2], record_size: u64) {
        if self.share_fed {
            self.batch_starts.push_back(self.log.log_end_offset());
        }
        self.log.append_parts(created_us, record_size);
    }
}

/// The broker: its topics and partition logs.
pub struct Broker {
    pub topics: Vec<TopicMeta>,
    pub partitions: Vec<Partition>,
    /// Each partition's log end, side by side, when no cluster runs (empty when one does: its
    /// arrivals and truncations move log ends where the broker does not see them). A fetch
    /// looks here for the owned partitions with something new: over 10,000 partitions that is
    /// a few cache lines for a consumer's 500 partitions, not one per partition.
    pub(crate) log_ends: Vec<u64>,
    /// With `log_ends`: the partitions appended to, in order, so a fetch of a consumer that had
    /// read everything looks only at those (`read`).
    pub(crate) journal: fetch::Journal,
    /// Per topic: its records stay in memory for the whole run (see `backlog`).
    pub(crate) keep_whole_topic: Vec<bool>,
    /// Appends prefetch the partitions a few batches ahead (see `appends`).
    pub(crate) prefetch_appends: bool,
    /// Per producer, bytes per record.
    pub(crate) record_size: Vec<u64>,
    /// Every append, when a test asks for it (`Some` before the run).
    pub append_trace: Option<Vec<AppendTrace>>,
    /// Per group: a share group's share-partitions (None for a classic group).
    pub shares: Vec<Option<GroupShares>>,
    /// Per group: a push group's streams (None for groups that fetch).
    pub push: Vec<Option<push::PushStreams>>,
    /// Long polls parked once for their consumer, not per partition.
    pub purgatory: purgatory::Purgatory,
}

/// One share group's share-partitions on the broker (Kafka's SharePartitionManager), dense over
/// the world's partitions: None until the group first assigns the partition (then
/// share.auto.offset.reset picks where it starts).
pub struct GroupShares {
    pub parts: Vec<Option<share_partition::SharePartition>>,
    /// A lock-expiry check is scheduled for the partition.
    pub lock_timer: Vec<bool>,
}

impl GroupShares {
    /// Bytes per partition of the world of the dense tables (the cost estimate's
    /// `SHARE_DENSE_BYTES` must cover it).
    pub fn dense_bytes_per_partition() -> usize {
        std::mem::size_of::<Option<share_partition::SharePartition>>() + std::mem::size_of::<bool>()
    }

    pub fn new(total_partitions: usize) -> Result<Self, std::collections::TryReserveError> {
        Ok(GroupShares {
            parts: crate::record::dense(total_partitions, None)?,
            lock_timer: crate::record::dense(total_partitions, false)?,
        })
    }
}

impl Broker {
    /// Share group `g`'s share-partitions, by partition id.
    pub fn share_parts(&self, g: usize) -> &[Option<share_partition::SharePartition>] {
        &self.shares[g].as_ref().expect("a share group").parts
    }

    pub fn share_parts_mut(&mut self, g: usize) -> &mut [Option<share_partition::SharePartition>] {
        &mut self.shares[g].as_mut().expect("a share group").parts
    }

    /// Whether partition `p` exists now (an `add_partitions` may not have created it yet).
    pub fn partition_exists(&self, p: u32) -> bool {
        let part = &self.partitions[p as usize];
        part.index < self.topics[part.topic].partitions
    }

    /// `<topic>-<index>`.
    pub fn partition_name(&self, p: u32) -> String {
        let part = &self.partitions[p as usize];
        format!("{}-{}", self.topics[part.topic].name, part.index)
    }

    /// The topic metadata a group's leader assigns from: each of `topics` by name, with the
    /// partitions it has now (MetadataResponse).
    pub fn topic_metadata(&self, topics: &[usize]) -> std::collections::BTreeMap<String, u32> {
        topics.iter().map(|&t| (self.topics[t].name.clone(), self.topics[t].partitions)).collect()
    }

    /// Partition `p` by name, as assignors and the wire protocol know it.
    pub fn topic_partition(&self, p: u32) -> TopicPartition {
        let part = &self.partitions[p as usize];
        TopicPartition { topic: self.topics[part.topic].name.clone(), partition: part.index }
    }

    /// The partition id of a named partition (the inverse of [`topic_partition`](Self::topic_partition)).
    pub fn global_partition(&self, tp: &TopicPartition) -> u32 {
        let t = self.topics.iter().find(|t| t.name == tp.topic).expect("assigned topic exists");
        t.first_partition + tp.partition
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An append's fields are the struct's tail, 144 bytes at most: three cache lines for seven
    /// partitions in eight (they start 8-aligned; 144 bytes from a line's last 8 take four). A
    /// field added after `log` lengthens the tail.
    #[test]
    fn an_append_touches_three_cache_lines_of_a_partition() {
        let tail = std::mem::size_of::<Partition>() - Partition::APPEND_FIELDS;
        assert!(tail <= 144, "an append reads {tail} bytes of its partition");
        assert_eq!(
            std::mem::offset_of!(Partition, log) + std::mem::size_of::<PartitionLog>(),
            std::mem::offset_of!(Partition, unreadable)
        );
    }
}
