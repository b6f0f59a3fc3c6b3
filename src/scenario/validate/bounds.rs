//! The limits a scenario is held to: counts, sizes and rates no file may exceed.

/// Keeps the simulated world within what one machine can hold and what charts can show.
pub(super) const MAX_PARTITIONS: u32 = 10_000;
pub(super) const MAX_SAMPLES_PER_PARTITION: u64 = 1_000_000;
/// Bounds on counts, so that no number in a file can make validation itself allocate without end.
pub const MAX_CONSUMERS: u64 = 10_000;
pub const MAX_GROUPS: usize = 1_000;
pub const MAX_PRODUCERS: usize = 1_000;
pub const MAX_TIMELINE: usize = 20_000;
/// The output folder is named after the scenario, and staging folders add a suffix: stay well
/// under the 255-byte file-name limit of common file systems.
pub const MAX_SCENARIO_NAME: usize = 100;
/// Kafka's own limit for topic names; used for every other name too.
pub const MAX_NAME: usize = 249;
pub const MAX_SLOW_FACTOR: f64 = 1e6;
pub const MAX_POLL_RECORDS: u32 = 1_000_000;
pub const MAX_BATCH_BYTES: u64 = i32::MAX as u64;
pub const MAX_PUSH_BUFFER: u64 = 1_000_000_000;
pub const MAX_PUSH_BATCH: u32 = 1_000_000;
pub const MAX_SIGMA: f64 = 10.0;
/// The largest key space a producer may draw from (the partitioner precomputes each key's
/// partition: a 4-byte slot per key).
pub const MAX_KEYS: u64 = 10_000_000;
/// The most commits and broker offsets Burrow may keep per partition here.
pub const MAX_BURROW_INTERVALS: u32 = 1_000;
/// The most brokers a cluster may have: enough for every failure story, few enough that
/// per-broker charts and tables stay readable.
pub(super) const MAX_BROKERS: u32 = 64;
