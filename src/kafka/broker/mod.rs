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
