//! The Kafka model: topics and partition logs, producers and partitioners, consumers, groups and
//! assignors, wired to the kernel by `world`.

pub mod assignor;
pub mod backlog;
pub mod consumer;
pub mod coordinator;
pub mod group;
pub mod invariants;
pub mod log;
pub mod membership;
pub mod murmur2;
pub mod offsets;
pub mod partitioner;
pub mod processing;
pub mod produce;
pub mod producer;
pub mod push;
pub mod share;
pub mod slab;
pub mod world;
