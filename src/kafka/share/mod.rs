//! Share groups (KIP-932, "Queues for Kafka"): the broker's per-partition record states and
//! Kafka's `SimpleAssignor`. The state machines (`partition`, `assignor`, `group`) are pure; `coordinator`, `fetch` and
//! `consume` are the world's handlers for share groups' members, broker side and application.

pub mod assignor;
pub mod consume;
pub mod coordinator;
pub mod fetch;
pub mod group;
pub mod partition;
