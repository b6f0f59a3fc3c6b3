//! The client side: a consumer, its membership by kind of group, and its poll loop.
//!
//! A polling consumer: its assignment and positions, its poll loop phase, and the batch it is
//! processing. The world drives it; this file holds its state and the per-record arithmetic.

pub mod commit;
pub mod consumer_member;
pub mod consumer_protocol;
pub mod hang;
pub mod heartbeat;
pub mod membership;
pub mod offsets;
pub mod poll_loop;
pub mod processing;
pub mod push_buffer;
pub mod share;
pub mod share_membership;

use crate::kafka::broker::share_partition::AckType;
use crate::kafka::client::processing::ProcessingTime;
use crate::scenario::plan::{CommitMode, ConsumerConfig};
use crate::sim::SimTime;
use crate::sim::rng::SimRng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Not started yet, or stopped cleanly.
    Stopped,
    Running,
    /// Died without a goodbye: no commit, no LeaveGroup.
    Crashed,
}

/// Where the poll loop is. Every scheduled consumer event carries the incarnation it belongs to,
/// so events of a consumer that crashed and restarted are recognised as stale and dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Between poll loop iterations (sleeping `poll_interval`), or not running.
    Idle,
    /// A fetch is outstanding (sent, parked at the broker as a long poll, or on its way back).
    Fetching,
    /// Processing the records the last poll returned.
    Processing,
    /// Waiting for a synchronous commit to be acknowledged.
    Committing,
    /// Blocked in poll() while the group rebalances (eager members, and members with nothing to
    /// fetch): no fetch until the SyncGroup response brings an assignment.
    Joining,
}

/// A partition the consumer owns and the offset of the next record it will fetch.
#[derive(Clone, Copy, Debug)]
pub struct Owned {
    pub partition: u32,
    pub position: u64,
    /// Whether a fetch has asked for it since the consumer took it (or resumed from a hang):
    /// the first one is recorded, as the end of the time the partition sat unread.
    pub fetched: bool,
}

/// Records the last poll returned: `(partition, from, to)` ranges in processing order, with each
/// record's finish time and end-to-end latency computed when processing began.
#[derive(Default)]
pub struct InFlight {
    pub ranges: Vec<(u32, u64, u64)>,
    /// Where each range's partition was in `owned` when the fetch read it (empty when the
    /// ranges came otherwise: a push buffer, a share fetch); checked before use, as the
    /// assignment may have changed since.
    pub slots: Vec<u32>,
    pub finish_ns: Vec<u64>,
    pub latency_ns: Vec<u64>,
    pub started: SimTime,
    /// When poll() handed them over (a seek after this does not make them part of a replay).
    pub fetched: SimTime,
}

impl InFlight {
    pub fn clear(&mut self) {
        self.ranges.clear();
        self.slots.clear();
        self.finish_ns.clear();
        self.latency_ns.clear();
    }

    pub fn len(&self) -> usize {
        self.ranges.iter().map(|(_, a, b)| (b - a) as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Records finished by `t` (finish times are non-decreasing).
    pub fn finished_by(&self, t: SimTime) -> usize {
        self.finish_ns.partition_point(|&f| f <= t.as_nanos())
    }

    /// The records after the first `k`, as `(partition, from, to)` ranges.
    pub fn ranges_after(&self, k: usize) -> Vec<(u32, u64, u64)> {
        let mut skip = k as u64;
        let mut out = Vec::new();
        for &(p, a, b) in &self.ranges {
            let n = (b - a).min(skip);
            skip -= n;
            if a + n < b {
                out.push((p, a + n, b));
            }
        }
        out
    }

    /// The first `k` records as `(partition, from, to)` ranges, in order, the last one cut where
    /// the k-th record falls (read in place: accounting a batch copies nothing).
    pub fn first_ranges(&self, k: usize) -> impl Iterator<Item = (u32, u64, u64)> + '_ {
        let mut left = k as u64;
        self.ranges.iter().map_while(move |&(p, a, b)| {
            (left > 0).then(|| {
                let n = (b - a).min(left);
                left -= n;
                (p, a, a + n)
            })
        })
    }
}

pub struct Consumer {
    pub name: String,
    pub group: usize,
    pub config: ConsumerConfig,
    pub group_instance_id: Option<String>,
    pub state: RunState,
    pub incarnation: u32,
    pub phase: Phase,
    pub owned: Vec<Owned>,
    /// `RANGE_CUTS` (see `broker::log`) when every position was last found inside its log's
    /// range; None once a position was set from outside the fetched records (an assignment, a
    /// seek). Until either changes, a fetch need not look at each position again.
    pub in_range_at: Option<u64>,
    /// A fetch found every owned partition read to its end (with `fetch_marks`: but for those
    /// marked) when the broker's append journal stood here: only partitions appended to since
    /// can have other records for it (see `Broker::read`). None once a position may have gone
    /// back or `owned` changed (an assignment, a revocation, a seek, an offset reset).
    pub(crate) quiet_since: Option<u64>,
    /// The owned partitions that may have records past `quiet_since` (see `Broker::read`).
    pub(crate) fetch_marks: crate::kafka::broker::fetch::FetchMarks,
    /// Every owned partition was `fetched` when last looked (a fetch need not look again until
    /// one is taken, or they are all marked unread by a poll timeout or a hang).
    pub(crate) all_fetched: bool,
    /// Which owned partition a fetch starts from; rotates so no partition starves.
    pub rotate: usize,
    pub fetch_seq: u32,
    pub inflight: InFlight,
    pub processing: ProcessingTime,
    pub rng: SimRng,
    /// A clean stop was asked for: finish the batch in hand, commit, then leave.
    pub stopping: bool,
    /// The member id the coordinator gave this incarnation (a share member keeps its own);
    /// None before joining.
    pub member_id: Option<String>,
    /// The generation of the member's assignment (a share member: its member epoch).
    pub generation: i32,
    pub last_poll: SimTime,
    pub poll_seq: u32,
    /// KafkaConsumer.pause(): keeps polling and heartbeating, fetches nothing.
    pub paused: bool,
    /// An error the application dies of at its next poll() (auto.offset.reset = none).
    pub fatal: Option<String>,
    /// Draws member ids (client.id + "-" + UUID in Kafka), apart from processing draws.
    pub member_rng: SimRng,
    /// `hang`: the host is frozen; its events wait here until it resumes (see `hang`).
    pub hang: crate::kafka::client::hang::HangState,
    /// What kind of member it is, with the state only that kind has.
    pub membership: Membership,
    pub commits: CommitState,
}

/// A consumer's membership, by the kind of its group: matched once where the kinds differ.
pub enum Membership {
    /// A classic consumer group member that polls (Kafka's ConsumerCoordinator).
    Pull(ClassicMember),
    /// A classic member whose broker pushes records into a buffer (`delivery: push`).
    Push(ClassicMember, PushBuffer),
    /// A share group member (KafkaShareConsumer, KIP-932).
    Share(Box<ShareMember>),
    /// A member on Kafka 4's consumer rebalance protocol (KIP-848, `group.protocol=consumer`).
    Protocol(Box<consumer_member::ProtocolMember>),
}

/// The client side of the classic group protocol.
#[derive(Default)]
pub struct ClassicMember {
    /// A JoinGroup is out and the SyncGroup answer has not come yet.
    pub joining: bool,
    /// The coordinator asked for a rejoin (heartbeat said REBALANCE_IN_PROGRESS); done at next poll.
    pub rejoin_needed: bool,
    /// Heartbeats go out at hb_origin + k * heartbeat_interval.
    pub hb_origin: SimTime,
    /// Cooperative: partitions the last assignment took away, revoked at the next poll.
    pub pending_revoke: Vec<u32>,
}

impl ClassicMember {
    fn restart(&mut self, now: SimTime) {
        self.joining = false;
        self.rejoin_needed = false;
        self.pending_revoke.clear();
        self.hb_origin = now;
    }
}

/// The poll loop's commits, whatever the group protocol.
#[derive(Default)]
pub struct CommitState {
    /// Waiting for the commit that precedes processing (commit: before_processing).
    pub precommit: bool,
    /// Whether the consumer's last commit was accepted.
    pub last_commit_ok: bool,
    pub last_auto_commit: SimTime,
}

/// Push delivery: records received and not yet handed to processing.
#[derive(Default)]
pub struct PushBuffer {
    /// (partition, from, to) in arrival order.
    pub ranges: std::collections::VecDeque<(u32, u64, u64)>,
    pub records: u64,
    /// Records sent by the broker and not yet arrived (they count against credit).
    pub in_flight: u64,
    /// Where the broker's next credit round starts (its own turn, apart from `rotate`).
    pub rotate: usize,
}

/// The client side of a share group (KafkaShareConsumer).
pub struct ShareMember {
    /// Draws what the application makes of each record (`outcome`), apart from processing draws.
    pub outcome_rng: SimRng,
    /// Acknowledgements made since the last poll, sent with the next ShareFetch, as
    /// (partition, from, to, type) in processing order.
    pub acks: Vec<(u32, u64, u64, AckType)>,
    /// What the application does with each record of the batch in hand, in processing order.
    pub outcomes: Vec<AckType>,
    /// The coordinator's answer to the heartbeat on its way back.
    pub reply: Option<crate::kafka::coordinator::share::ShareReply>,
    /// The member left on a poll timeout and rejoins at its next poll.
    pub rejoin: bool,
    /// Records the application always fails and releases: (global partition, sorted offsets).
    pub poison: Option<(u32, Vec<u64>)>,
}

/// What kind of group a consumer or group is: the one place the kinds are told apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupKind {
    /// A classic consumer group that polls.
    Pull,
    /// A classic consumer group the broker pushes to.
    Push,
    /// A share group (KIP-932).
    Share,
    /// A consumer group on the consumer rebalance protocol (KIP-848) that polls.
    Protocol,
}

impl GroupKind {
    pub fn of(plan: &crate::scenario::plan::GroupPlan) -> Self {
        use crate::scenario::plan::{Delivery, GroupType};
        match (plan.kind, plan.delivery) {
            (GroupType::Share, _) => GroupKind::Share,
            (GroupType::Consumer, _) if plan.protocol == crate::scenario::plan::RebalanceProtocol::Consumer => {
                GroupKind::Protocol
            }
            (GroupType::Consumer, Delivery::Push) => GroupKind::Push,
            (GroupType::Consumer, Delivery::Pull) => GroupKind::Pull,
        }
    }
}

impl Membership {
    /// A new incarnation starts: no join out, nothing to revoke, an empty buffer; the heartbeat
    /// and auto-commit clocks start now.
    pub fn restart(&mut self, now: SimTime) {
        match self {
            Membership::Pull(m) => m.restart(now),
            Membership::Push(m, b) => {
                m.restart(now);
                // Its credit rotation carries on from where the last incarnation left it.
                b.ranges.clear();
                b.records = 0;
                b.in_flight = 0;
            }
            Membership::Share(_) => {}
            Membership::Protocol(m) => m.restart(),
        }
    }

    pub fn kind(&self) -> GroupKind {
        match self {
            Membership::Pull(_) => GroupKind::Pull,
            Membership::Push(..) => GroupKind::Push,
            Membership::Share(_) => GroupKind::Share,
            Membership::Protocol(_) => GroupKind::Protocol,
        }
    }
}

impl Consumer {
    /// The classic member's state; only classic paths ask (a share member has none).
    pub fn classic(&self) -> &ClassicMember {
        match &self.membership {
            Membership::Pull(m) | Membership::Push(m, _) => m,
            _ => panic!("{} is not a classic member", self.name),
        }
    }

    pub fn classic_mut(&mut self) -> &mut ClassicMember {
        match &mut self.membership {
            Membership::Pull(m) | Membership::Push(m, _) => m,
            _ => panic!("not a classic member"),
        }
    }

    /// The share member's state; only share paths ask.
    pub fn share(&self) -> &ShareMember {
        match &self.membership {
            Membership::Share(m) => m,
            _ => panic!("{} is not a share member", self.name),
        }
    }

    pub fn share_mut(&mut self) -> &mut ShareMember {
        match &mut self.membership {
            Membership::Share(m) => m,
            _ => panic!("not a share member"),
        }
    }

    /// The consumer-protocol member's state; only consumer-protocol paths ask.
    pub fn protocol(&self) -> &consumer_member::ProtocolMember {
        match &self.membership {
            Membership::Protocol(m) => m,
            _ => panic!("{} is not a consumer-protocol member", self.name),
        }
    }

    pub fn protocol_mut(&mut self) -> &mut consumer_member::ProtocolMember {
        match &mut self.membership {
            Membership::Protocol(m) => m,
            _ => panic!("not a consumer-protocol member"),
        }
    }

    /// The push buffer of a pushed-to consumer; None for one that pulls.
    pub fn push_buffer(&self) -> Option<&PushBuffer> {
        match &self.membership {
            Membership::Push(_, b) => Some(b),
            _ => None,
        }
    }

    pub fn push_buffer_mut(&mut self) -> Option<&mut PushBuffer> {
        match &mut self.membership {
            Membership::Push(_, b) => Some(b),
            _ => None,
        }
    }

    /// Records waiting in its push buffer (0 for a consumer that pulls).
    pub fn buffered(&self) -> u64 {
        self.push_buffer().map_or(0, |b| b.records)
    }

    pub fn kind(&self) -> GroupKind {
        self.membership.kind()
    }

    pub fn commit_mode(&self) -> CommitMode {
        self.config.commit
    }

    pub fn owns(&self, partition: u32) -> bool {
        self.owned_slot(partition).is_some()
    }

    pub fn position(&self, partition: u32) -> Option<u64> {
        self.owned_slot(partition).map(|i| self.owned[i].position)
    }

    /// Where `partition` is in `owned`. A classic member keeps `owned` sorted by partition, so a
    /// binary search finds it (a consumer owns hundreds of a 10,000-partition topic, and this is
    /// asked per partition of every batch); a miss, or an order of the assignor's (share groups),
    /// falls back to a scan.
    pub fn owned_slot(&self, partition: u32) -> Option<usize> {
        match self.owned.binary_search_by_key(&partition, |o| o.partition) {
            Ok(i) => Some(i),
            Err(_) => self.owned.iter().position(|o| o.partition == partition),
        }
    }

    /// Where the `i`-th in-flight range's partition is in `owned`: the slot the fetch read it
    /// at if it still holds it (no search), else as `owned_slot` finds it.
    pub fn inflight_slot(&self, i: usize) -> Option<usize> {
        let p = self.inflight.ranges[i].0;
        match self.inflight.slots.get(i) {
            Some(&k) if self.owned.get(k as usize).is_some_and(|o| o.partition == p) => Some(k as usize),
            _ => self.owned_slot(p),
        }
    }

    /// What a commit of "everything returned so far" sends: each owned partition's position.
    pub fn positions(&self) -> Vec<(u32, u64)> {
        self.owned.iter().map(|o| (o.partition, o.position)).collect()
    }

    pub fn is_running(&self) -> bool {
        self.state == RunState::Running
    }

    /// Whether its fetch `seq` of incarnation `inc` is still the one out: it neither restarted
    /// nor gave the fetch up, and the fetch was not answered.
    pub fn waits_for(&self, inc: u32, seq: u32) -> bool {
        self.incarnation == inc && self.is_running() && self.phase == Phase::Fetching && self.fetch_seq == seq
    }

    pub fn is_hung(&self) -> bool {
        self.hang.frozen.is_some()
    }
}
