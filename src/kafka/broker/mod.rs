//! The broker side: partition logs and the appends that reach them, the fetch side (answering
//! fetches, parking long polls), push delivery, retention, what readers still need in memory, and
//! share groups' share-partitions (record states and acquisition locks).

pub mod appends;
pub mod backlog;
pub mod fetch;
pub mod log;
pub mod push;
pub mod share_fetch;
pub mod share_partition;

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

/// A partition: its log, and who waits for its next batch.
pub struct Partition {
    pub topic: usize,
    pub index: u32,
    pub log: PartitionLog,
    /// Long polls parked on this partition: (consumer, incarnation, fetch sequence).
    pub(crate) waiters: Vec<(u32, u32, u32)>,
    /// A push group reads this partition: every batch that arrives is pushed at once.
    pub(crate) push_fed: bool,
    /// A share group reads this partition: producer batch boundaries matter (batch_optimized
    /// acquisition rounds up to them), so their base offsets are kept from the lowest SPSO on.
    pub(crate) share_fed: bool,
    pub(crate) batch_starts: std::collections::VecDeque<u64>,
}

/// The broker: its topics and partition logs.
pub struct Broker {
    pub topics: Vec<TopicMeta>,
    pub partitions: Vec<Partition>,
    /// Per topic: its records stay in memory for the whole run (see `backlog`).
    pub(crate) keep_whole_topic: Vec<bool>,
    /// Appends prefetch the partitions a few batches ahead (see `appends`).
    pub(crate) prefetch_appends: bool,
    /// Per producer, bytes per record.
    pub(crate) record_size: Vec<u64>,
    /// Every append, when a test asks for it (`Some` before the run).
    pub append_trace: Option<Vec<AppendTrace>>,
}

impl Broker {
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
}
