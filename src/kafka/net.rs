//! The network between clients and brokers: the one-way delay every request and response takes,
//! and the messages on their way that carry more than an event can (commits, pushes, the member
//! a session timer is for).

use crate::kafka::slab::Slab;
use crate::kafka::world::{Ev, Offsets, PushMessage};
use crate::sim::{Kernel, SimDuration};

/// An OffsetCommit request: the coordinator accepts it only from a current member of the
/// current generation (else Kafka answers ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID).
pub struct PendingCommit {
    pub group: usize,
    pub consumer: usize,
    pub member_id: Option<String>,
    pub generation: i32,
    pub offsets: Offsets,
}

pub struct Network {
    /// One-way client <-> broker delay (`network_delay`).
    pub delay: SimDuration,
    /// Commits on their way to the coordinator.
    pub commits: Slab<PendingCommit>,
    /// Push messages on their way to consumers.
    pub pushes: Slab<PushMessage>,
    /// Consumer-protocol heartbeats on their way to the coordinator: the sender's incarnation, the
    /// request, and why it was sent ("heartbeat", or why a leave).
    pub heartbeats: Slab<(u32, crate::kafka::coordinator::consumer_group::HeartbeatRequest, &'static str)>,
    /// Members whose session may time out (or whose LeaveGroup is on its way): (group, member id).
    pub timers: Slab<(usize, String)>,
}

impl Network {
    pub fn new(delay: SimDuration) -> Self {
        Network {
            delay,
            commits: Slab::default(),
            pushes: Slab::default(),
            heartbeats: Slab::default(),
            timers: Slab::default(),
        }
    }

    /// An OffsetCommit request leaves: it is returned when it reaches the coordinator at once
    /// (no delay), else it travels as a `CommitAtBroker` event.
    pub fn send_commit(&mut self, commit: PendingCommit, kernel: &mut Kernel<Ev>) -> Option<PendingCommit> {
        if self.delay.is_zero() {
            return Some(commit);
        }
        let slot = self.commits.insert(commit);
        kernel.schedule_after(self.delay, Ev::CommitAtBroker(slot));
        None
    }

    /// A request and its response.
    pub fn round_trip(&self) -> SimDuration {
        self.delay + self.delay
    }
}
