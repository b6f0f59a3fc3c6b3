//! A finished run as the report reads it: the plan, what was recorded along the way, and a
//! snapshot of the state at the end. The report never reads the model itself.

use super::Recorder;
use super::event::{ConsumerIx, RebalanceReason};
use crate::scenario::plan::Plan;
use crate::sim::SimTime;

/// What the report reads.
pub struct Run<'a> {
    pub plan: &'a Plan,
    pub rec: &'a Recorder,
    pub end: Snapshot,
}

/// The world's state when the run ended.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub events_processed: u64,
    /// Per partition id (every partition the plan allocates, in id order).
    pub partitions: Vec<PartitionEnd>,
    /// Per group, in plan order.
    pub groups: Vec<GroupEnd>,
    /// Per consumer, in plan order.
    pub consumers: Vec<ConsumerEnd>,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct PartitionEnd {
    /// Whether the partition exists by the end (an `add_partitions` may not have come yet).
    pub exists: bool,
    pub log_start_offset: u64,
    pub log_end_offset: u64,
}

#[derive(Clone, Debug, Default)]
pub struct GroupEnd {
    /// Committed offsets, per partition id (None where the group has none).
    pub committed: Vec<Option<u64>>,
    pub generation: i32,
    pub share: Option<ShareEnd>,
    /// A consumer group's rebalance still in progress at the end.
    pub rebalance: Option<RebalanceEnd>,
    /// A consumer-protocol group's epochs (KIP-848); None for classic and share groups.
    pub protocol: Option<ProtocolGroupEnd>,
}

/// A consumer-protocol group's coordinator at the end: the group epoch (bumped by every join and
/// removal) and the epoch of the target assignment it last computed. They differ while a new
/// target waits for a member's heartbeat to compute it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProtocolGroupEnd {
    pub group_epoch: i32,
    pub assignment_epoch: i32,
}

/// A consumer-protocol member at the end, seen from both sides: the client's member epoch and
/// state (Kafka's MemberState names), and the coordinator's state of the member it holds for this
/// consumer (None when it holds none: not started, left, removed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtocolMemberEnd {
    pub member_epoch: i32,
    pub member_state: &'static str,
    pub server_member_state: Option<&'static str>,
}

/// A rebalance the run ended in the middle of: when and why it began, and the members the
/// coordinator still waits for (with when each one's session ends, if it stopped heartbeating).
#[derive(Clone, Debug)]
pub struct RebalanceEnd {
    pub started: SimTime,
    pub reason: RebalanceReason,
    /// `PreparingRebalance` (waiting for JoinGroups) or `CompletingRebalance` (for SyncGroups).
    pub state: &'static str,
    pub waiting_for: Vec<(ConsumerIx, Option<SimTime>)>,
}

/// A share group's coordinator and share-partitions at the end.
#[derive(Clone, Debug, Default)]
pub struct ShareEnd {
    pub members: usize,
    pub group_epoch: i32,
    pub assignment_epoch: i32,
    /// Per partition id: the share-partition, once the group initialized it.
    pub partitions: Vec<Option<SharePartitionEnd>>,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SharePartitionEnd {
    pub spso: u64,
    /// The SPSO it was initialized at (share.auto.offset.reset).
    pub start: u64,
    pub in_flight: u64,
    pub share_lag: u64,
    /// Members assigned the partition.
    pub members: usize,
}

#[derive(Clone, Debug)]
pub struct ConsumerEnd {
    pub state: ConsumerState,
    /// Partitions it owns at the end, in id order.
    pub partitions: Vec<u32>,
    /// A consumer-protocol member's epochs and states; None in classic and share groups.
    pub protocol: Option<ProtocolMemberEnd>,
}

/// A consumer's state at the end, in the words `kafka-consumer-groups.sh` users know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsumerState {
    /// Owns partitions.
    Active,
    /// A live member the assignor left idle.
    Standby,
    /// Waiting for its assignment.
    Joining,
    /// Lost its membership and has not rejoined yet.
    Fenced,
    /// Frozen by a `hang` at the end.
    Hung,
    Stopped,
    Crashed,
    NotStarted,
}

impl ConsumerState {
    pub fn name(self) -> &'static str {
        match self {
            ConsumerState::Active => "active",
            ConsumerState::Standby => "standby",
            ConsumerState::Joining => "joining",
            ConsumerState::Fenced => "fenced",
            ConsumerState::Hung => "hung",
            ConsumerState::Stopped => "stopped",
            ConsumerState::Crashed => "crashed",
            ConsumerState::NotStarted => "not_started",
        }
    }
}
