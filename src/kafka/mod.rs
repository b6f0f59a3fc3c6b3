//! The Kafka model, in roles that own their state: the broker side (partition logs, fetch, push,
//! retention, share-partitions), the client side (the poll loop and each kind of member), the
//! group coordinators (classic, share) and the producer side (accumulator, partitioner, feed).
//! `world` holds the roles and routes the kernel's events to them; `net` is the network between
//! them. See docs/model.md for who calls whom.

pub mod broker;
pub mod budget;
pub mod build;
pub mod client;
pub mod cluster;
pub mod coordinator;
pub mod cx;
pub mod ev;
pub mod invariants;
pub mod net;
pub mod producer;
pub mod sampling;
pub mod slab;
pub mod snapshot;
pub mod timeline;
pub mod world;
