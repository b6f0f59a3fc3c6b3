//! The Kafka model: topics and partition logs, producers and partitioners, consumers, groups and
//! assignors. `world` holds the state and routes the kernel's events to the role modules (see
//! its header for which file handles what).

pub mod assignor;
pub mod backlog;
pub mod commit;
pub mod consumer;
pub mod coordinator;
pub mod feed;
pub mod fetch;
pub mod group;
pub mod hang;
pub mod invariants;
pub mod log;
pub mod membership;
pub mod murmur2;
pub mod net;
pub mod offsets;
pub mod partitioner;
pub mod poll_loop;
pub mod processing;
pub mod produce;
pub mod producer;
pub mod push;
pub mod sampling;
pub mod share;
pub mod slab;
pub mod snapshot;
pub mod timeline;
pub mod world;
