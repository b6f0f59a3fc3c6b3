//! Share groups (KIP-932, "Queues for Kafka"): the broker's per-partition record states and
//! Kafka's `SimpleAssignor`. Pure state machines, driven by the world's handlers.

pub mod assignor;
pub mod partition;
