//! The producer side: each producer's record accumulator (batches, linger, arrivals), Kafka's
//! partitioner (murmur2 for keys, sticky for null keys), and the feed that runs the producers,
//! on a thread of their own when a core is free, and hands the world their batches in order.

pub mod accumulator;
pub mod feed;
pub mod murmur2;
pub mod partitioner;
pub mod tick;
