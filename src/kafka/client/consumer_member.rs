//! The client side of Kafka 4's consumer rebalance protocol (KIP-848): the member's state
//! machine (Kafka's MemberState), its epoch and the assignment it is reconciling towards, and its
//! heartbeat timer (AbstractHeartbeatRequestManager: send to send, no jitter).

use crate::kafka::coordinator::consumer_group::{HeartbeatAnswer, HeartbeatRequest};
use crate::sim::SimTime;

/// Kafka's MemberState (consumer/internals/MemberState.java).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberState {
    /// Not in the group (before the first poll, after close).
    Unsubscribed,
    /// Epoch 0 heartbeat out; heartbeats go at once.
    Joining,
    /// A new assignment to apply.
    Reconciling,
    /// Reconciled; the next heartbeat (at once) acknowledges it.
    Acknowledging,
    Stable,
    /// Left on a poll timeout; rejoins at the application's next poll.
    Stale,
    /// Fenced with partitions and a rebalance listener: onPartitionsLost runs on the application
    /// thread at its next poll, then it joins again.
    Fenced,
    /// A fatal error (UNRELEASED_INSTANCE_ID): no more heartbeats.
    Fatal,
}

impl MemberState {
    pub fn name(self) -> &'static str {
        match self {
            MemberState::Unsubscribed => "unsubscribed",
            MemberState::Joining => "joining",
            MemberState::Reconciling => "reconciling",
            MemberState::Acknowledging => "acknowledging",
            MemberState::Stable => "stable",
            MemberState::Stale => "stale",
            MemberState::Fenced => "fenced",
            MemberState::Fatal => "fatal",
        }
    }

    /// JOINING and ACKNOWLEDGING heartbeat at once (AMM#shouldHeartbeatNow).
    pub fn heartbeats_now(self) -> bool {
        matches!(self, MemberState::Joining | MemberState::Acknowledging)
    }
}

/// A consumer-protocol member, client side.
pub struct ProtocolMember {
    pub state: MemberState,
    /// The member epoch the client holds (0 joining, -1 after leaving).
    pub epoch: i32,
    /// The newest assignment an answer carried and its epoch, until a reconciliation takes it up.
    pub target: Option<(i32, Vec<u32>)>,
    /// The assignment the running reconciliation applies (a newer `target` waits for the next one).
    pub applying: Option<(i32, Vec<u32>)>,
    /// Kafka 4.3+ (KAFKA-20106): the reconciliation's commit was answered; the assignment is
    /// applied, and acknowledged, at the application thread's next turn.
    pub awaits_app_thread: bool,
    /// When the target being reconciled arrived (for the reconciliation's duration).
    pub target_since: SimTime,
    /// The reconciled assignment changed since the last heartbeat carried it.
    pub owned_changed: bool,
    /// A heartbeat is out.
    pub in_flight: bool,
    /// The interval timer expired while one was out: send when its answer comes.
    pub send_when_answered: bool,
    /// Names the armed interval timer, so an older one is recognised as stale.
    pub timer_seq: u32,
    /// When the next regular heartbeat is due.
    pub next_heartbeat: SimTime,
    /// The first answer since joining told it the group's interval (the timer restarts then).
    pub interval_known: bool,
    /// The request out, read by the coordinator when it arrives.
    pub request: Option<HeartbeatRequest>,
    /// The coordinator's answer on its way back.
    pub reply: Option<HeartbeatAnswer>,
}

impl ProtocolMember {
    pub fn new() -> Self {
        ProtocolMember {
            state: MemberState::Unsubscribed,
            epoch: 0,
            target: None,
            applying: None,
            awaits_app_thread: false,
            target_since: SimTime::ZERO,
            owned_changed: false,
            in_flight: false,
            send_when_answered: false,
            timer_seq: 0,
            next_heartbeat: SimTime::ZERO,
            interval_known: false,
            request: None,
            reply: None,
        }
    }

    /// A reconciliation is running.
    pub fn reconciling(&self) -> bool {
        self.applying.is_some()
    }

    /// The assignment it is heading for: the newest received, else the one being applied.
    pub fn heading_for(&self) -> Option<&Vec<u32>> {
        self.target.as_ref().or(self.applying.as_ref()).map(|(_, t)| t)
    }

    /// A new process: nothing in flight, nothing to reconcile.
    pub fn restart(&mut self) {
        *self = ProtocolMember { timer_seq: self.timer_seq.wrapping_add(1), ..ProtocolMember::new() };
    }
}

impl Default for ProtocolMember {
    fn default() -> Self {
        Self::new()
    }
}
