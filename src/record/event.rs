//! The control-plane events a run records, typed. The model names consumers, groups and
//! partitions by index (the plan's order: consumers numbered across groups, partitions across
//! topics) and never formats anything; `report::events` turns each into its events.jsonl object,
//! with names, in the key order the output contract documents.

use super::burrow::LagStatus;
use crate::scenario::plan::{OffsetReset, RebalanceProtocol};
use crate::sim::{SimDuration, SimTime};

/// A consumer, by its index in the plan (groups in order, each group's consumers in order).
pub type ConsumerIx = u32;
/// A group, by its index in the plan.
pub type GroupIx = u32;
/// A partition, by its global id (topics in plan order, each with its `max_partitions` ids).
pub type PartitionIx = u32;

/// One control-plane event, in the order it happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub time: SimTime,
    pub what: What,
}

/// A committed offset or position moved by a seek or an offset reset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Move {
    pub partition: PartitionIx,
    pub from: u64,
    pub to: u64,
}

/// Why a consumer started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartCause {
    /// Its `start_at` came.
    StartAt,
    /// A timeline `start`.
    Timeline,
}

/// Why a classic group began (or began again) to rebalance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RebalanceReason {
    /// A new member's JoinGroup reached an empty group.
    JoinedEmpty(ConsumerIx),
    /// A new member joined.
    Joined(ConsumerIx),
    /// An existing member sent a JoinGroup while the group was Stable.
    Rejoined(ConsumerIx),
    /// A static member came back while the group was not Stable.
    StaticRejoined(ConsumerIx),
    /// A member left or was fenced (`reason`: leave_group, session_timeout, poll_timeout).
    MemberGone { consumer: ConsumerIx, reason: &'static str },
    /// A subscribed topic grew (`add_partitions`).
    PartitionsGrew { topic: usize, count: u32 },
}

/// A timeline action that could not be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejected {
    /// `reset_offsets` while the group still has members.
    ResetWithMembers { group: GroupIx, members: usize },
    /// `reset_offsets` with a shift, on a partition with no committed offset.
    ShiftWithoutCommit { group: GroupIx, partition: PartitionIx },
    /// A consumer action (seek) refused for `reason`.
    Consumer { consumer: ConsumerIx, reason: &'static str },
}

/// Every kind of event, with what it carries.
#[derive(Clone, Debug, PartialEq)]
pub enum What {
    /// The timeline's action `index` is applied (its fields come from the plan).
    /// A broker, leader, ISR, produce or coordinator-placement event (issue 24).
    Cluster(super::cluster::ClusterEvent),
    Action {
        index: u32,
    },
    ActionIgnored {
        consumer: ConsumerIx,
        reason: &'static str,
    },
    ActionRejected(Rejected),
    ConsumerStarted {
        consumer: ConsumerIx,
        cause: StartCause,
    },
    ConsumerCrashed {
        consumer: ConsumerIx,
    },
    ConsumerStopped {
        consumer: ConsumerIx,
    },
    ConsumerError {
        consumer: ConsumerIx,
        error: String,
    },
    ConsumerHung {
        consumer: ConsumerIx,
        for_: Option<SimDuration>,
    },
    ConsumerResumed {
        consumer: ConsumerIx,
        hung: SimDuration,
        fenced: bool,
        partitions_lost: Vec<PartitionIx>,
    },
    ConsumerOutOfMemory {
        consumer: ConsumerIx,
        buffered_bytes: u64,
        consumer_memory: u64,
    },
    /// What the consumer owns from now on.
    Assignment {
        consumer: ConsumerIx,
        partitions: Vec<PartitionIx>,
    },
    PartitionsRevoked {
        consumer: ConsumerIx,
        partitions: Vec<PartitionIx>,
    },
    CommitFailed {
        consumer: ConsumerIx,
        reason: &'static str,
        partitions: Vec<PartitionIx>,
    },
    /// A classic member joined (a new member id).
    MemberJoined {
        group: GroupIx,
        consumer: ConsumerIx,
        member_id: String,
        group_instance_id: Option<String>,
    },
    /// A static member's new incarnation took over its old member entry (KIP-345).
    StaticMemberReplaced {
        consumer: ConsumerIx,
        member_id: String,
        group_instance_id: Option<String>,
        replaced_member_id: String,
    },
    /// A share member joined with epoch 0.
    ShareMemberJoined {
        consumer: ConsumerIx,
        group_epoch: i32,
    },
    /// A member left (`fenced` false) or was fenced, for `reason`.
    MemberRemoved {
        consumer: ConsumerIx,
        member_id: String,
        fenced: bool,
        reason: &'static str,
    },
    /// A fenced share member heartbeats again with epoch 0.
    MemberRejoining {
        consumer: ConsumerIx,
    },
    /// A classic member fenced while hung learns it (UNKNOWN_MEMBER_ID).
    MembershipLost {
        consumer: ConsumerIx,
    },
    /// max.poll.interval.ms passed without a poll(): `last_poll` is when the application last
    /// polled, and `batch_records` / `batch_processing` the batch it was still processing then
    /// (its whole processing time, from its start to its last record; 0 with no batch in hand).
    PollTimeout {
        consumer: ConsumerIx,
        last_poll: SimTime,
        batch_records: u64,
        batch_processing: SimDuration,
    },
    RebalanceStarted {
        group: GroupIx,
        generation: i32,
        protocol: RebalanceProtocol,
        reason: RebalanceReason,
        rebalance: u64,
    },
    RebalanceRestarted {
        group: GroupIx,
        rebalance: u64,
        cancelled_generation: i32,
        reason: RebalanceReason,
    },
    RebalanceCompleted(Box<RebalanceCompleted>),
    RebalanceAbandoned {
        group: GroupIx,
        rebalance: u64,
        generation: i32,
    },
    Seek {
        consumer: ConsumerIx,
        moves: Vec<Move>,
    },
    OffsetsReset {
        group: GroupIx,
        moves: Vec<Move>,
    },
    OffsetOutOfRange {
        consumer: ConsumerIx,
        partition: PartitionIx,
        position: u64,
        reset_to: u64,
        reset: OffsetReset,
    },
    SegmentsDeleted {
        partition: PartitionIx,
        log_start_offset: u64,
        records: u64,
    },
    /// Burrow's status of the group changed at a sample.
    LagStatus {
        group: GroupIx,
        status: LagStatus,
        was: LagStatus,
        partition: PartitionIx,
        partition_status: LagStatus,
    },
    ShareAssignmentComputed {
        group: GroupIx,
        group_epoch: i32,
        members: usize,
        partitions: usize,
    },
    ShareAssignment {
        consumer: ConsumerIx,
        member_epoch: i32,
        partitions: Vec<PartitionIx>,
    },
    ShareLockExpired {
        group: GroupIx,
        partition: PartitionIx,
        records: u64,
        archived: u64,
    },
    ShareRecordsReleased {
        consumer: ConsumerIx,
        reason: &'static str,
        records: u64,
        archived: u64,
    },
    ShareAckFailed {
        consumer: ConsumerIx,
        partition: PartitionIx,
        records: u64,
        offset: u64,
    },
    /// An acknowledgement archived records of a share-partition.
    RecordsArchived {
        consumer: ConsumerIx,
        partition: PartitionIx,
        delivery_limit: u64,
        rejected: u64,
    },
    /// A consumer-protocol coordinator computed a new target assignment at `group_epoch`
    /// (members in member-id order).
    TargetAssignment {
        group: GroupIx,
        group_epoch: i32,
        assignment: Vec<(ConsumerIx, Vec<PartitionIx>)>,
    },
    /// A consumer-protocol member applied the assignment of `member_epoch`: it now owns
    /// `partitions`, `added` among them; `took` runs from the answer that brought it.
    Reconciled {
        consumer: ConsumerIx,
        member_epoch: i32,
        partitions: Vec<PartitionIx>,
        added: Vec<PartitionIx>,
        took: SimDuration,
    },
    /// Retention deleted records a share group had not finished: archived.
    RecordsArchivedByRetention {
        group: GroupIx,
        partition: PartitionIx,
        records: u64,
    },
}

/// A rebalance's end: the generation, who got what, and what it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct RebalanceCompleted {
    pub group: GroupIx,
    pub generation: i32,
    pub protocol: RebalanceProtocol,
    /// Members in member-id order.
    pub members: Vec<ConsumerIx>,
    pub leader: Option<ConsumerIx>,
    /// Per member, in member-id order: what the new assignment gives it.
    pub assigned: Vec<(ConsumerIx, Vec<PartitionIx>)>,
    /// Per member that loses partitions: which.
    pub revoked: Vec<(ConsumerIx, Vec<PartitionIx>)>,
    pub partitions_moved: usize,
    pub duration: SimDuration,
    pub stop_the_world: SimDuration,
    pub rebalance: u64,
    pub revoked_partitions: u64,
    pub rebalance_pause: SimDuration,
}

impl What {
    /// The event's `type` in events.jsonl.
    pub fn kind(&self) -> &'static str {
        match self {
            What::Cluster(e) => e.kind(),
            What::Action { .. } => "action",
            What::ActionIgnored { .. } => "action_ignored",
            What::ActionRejected(_) => "action_rejected",
            What::ConsumerStarted { .. } => "consumer_started",
            What::ConsumerCrashed { .. } => "consumer_crashed",
            What::ConsumerStopped { .. } => "consumer_stopped",
            What::ConsumerError { .. } => "consumer_error",
            What::ConsumerHung { .. } => "consumer_hung",
            What::ConsumerResumed { .. } => "consumer_resumed",
            What::ConsumerOutOfMemory { .. } => "consumer_out_of_memory",
            What::Assignment { .. } => "assignment",
            What::PartitionsRevoked { .. } => "partitions_revoked",
            What::CommitFailed { .. } => "commit_failed",
            What::MemberJoined { .. } | What::StaticMemberReplaced { .. } | What::ShareMemberJoined { .. } => {
                "member_joined"
            }
            What::MemberRemoved { fenced: true, .. } => "member_fenced",
            What::MemberRemoved { fenced: false, .. } => "member_left",
            What::MemberRejoining { .. } => "member_rejoining",
            What::MembershipLost { .. } => "membership_lost",
            What::PollTimeout { .. } => "poll_timeout",
            What::RebalanceStarted { .. } => "rebalance_started",
            What::RebalanceRestarted { .. } => "rebalance_restarted",
            What::RebalanceCompleted(_) => "rebalance_completed",
            What::RebalanceAbandoned { .. } => "rebalance_abandoned",
            What::Seek { .. } => "seek",
            What::OffsetsReset { .. } => "offsets_reset",
            What::OffsetOutOfRange { .. } => "offset_out_of_range",
            What::SegmentsDeleted { .. } => "segments_deleted",
            What::LagStatus { .. } => "lag_status",
            What::ShareAssignmentComputed { .. } => "share_assignment_computed",
            What::ShareAssignment { .. } => "share_assignment",
            What::ShareLockExpired { .. } => "share_lock_expired",
            What::ShareRecordsReleased { .. } => "share_records_released",
            What::ShareAckFailed { .. } => "share_ack_failed",
            What::RecordsArchived { .. } | What::RecordsArchivedByRetention { .. } => "records_archived",
            What::TargetAssignment { .. } => "target_assignment",
            What::Reconciled { .. } => "reconciliation_completed",
        }
    }
}
