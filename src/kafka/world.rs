//! The simulated Kafka world: the roles, and the loop that routes each event to the role that
//! handles it. Every handler is a function of (state, event, now); nothing else.
//!
//! What the world holds and where each role's handlers are (docs/model.md draws who calls whom):
//! - `broker` ([`Broker`]): topics, partition logs and their parked fetches, share-partitions,
//!   push streams; appends, fetch reads, retention, the share fetch (`broker/`). Its handlers
//!   take a [`Cx`] (plan, clock and queue, recorder, network), see `World::broker_cx`;
//! - `consumers` ([`Consumer`], each with its kind of membership): the poll loop, processing,
//!   commits, seeks, hangs, heartbeats, the push buffer and the share client (`client/`);
//! - `groups` ([`Group`], each with its coordinator): the classic coordinator's join and sync
//!   rounds, sessions, the share coordinator (`coordinator/`). Their own steps are methods of
//!   `ClassicGroup` and `ShareGroup` on a [`Cx`], see `World::group_cx`;
//! - `feed` ([`Feed`]): the producers' ticks and batches (`producer/`);
//! - `net` (`Network`): the delay, and the commits, pushes and timers on their way;
//! - `kernel` and `rec`: the clock and queue, and the run record.
//!
//! The client's handlers, and the coordinators' flows that also change members, are still
//! `impl World` blocks in their role's files: a join, a sync or a revocation changes a member and
//! its coordinator in one step, and the order of those steps is part of the output. A flow asks
//! the coordinator, which decides and returns what it decided, then applies that to the members.

use crate::kafka::broker::Broker;
use crate::kafka::client::{Consumer, Phase, RunState};
use crate::kafka::coordinator::Group;
use crate::kafka::cx::Cx;
use crate::kafka::producer::feed::Feed;
use crate::record::Recorder;
use crate::scenario::plan::Plan;
use crate::sim::{Kernel, SimDuration, SimTime};

pub use crate::kafka::ev::{Ev, Offsets, PushMessage};
pub use crate::kafka::net::PendingCommit;
pub use crate::record::{DiscardRows, MetricSink};

pub use crate::kafka::broker::{Partition, TopicMeta};

pub struct World {
    pub plan: Plan,
    pub kernel: Kernel<Ev>,
    /// The broker side: topics, partition logs, parked fetches.
    pub broker: Broker,
    pub consumers: Vec<Consumer>,
    pub groups: Vec<Group>,
    pub rec: Recorder,
    /// The producers' ticks and batches (see `feed`).
    pub(crate) feed: Feed,
    /// Run the producers on a thread of their own (same outputs either way); set before the run.
    pub producer_thread: bool,
    /// The network: its delay and the messages on their way.
    pub net: crate::kafka::net::Network,
    pub(crate) end: SimTime,
    pub(crate) next_sample: SimTime,
    /// Streams metrics rows instead of keeping them in `rec.metrics` (set before the run).
    pub metric_sink: Option<Box<dyn MetricSink + Send>>,
    pub(crate) sample_rows: Vec<crate::record::MetricRow>,
    /// Called after every event in debug builds and tests.
    pub check_invariants: bool,
    /// The brokers, when the scenario declares `brokers:` (None: one broker that never fails).
    pub cluster: Option<Box<crate::kafka::cluster::Cluster>>,
}

/// The world could not be built: a table of its size could not be allocated.
#[derive(Debug)]
pub struct TooBig {
    pub what: String,
    pub bytes: u64,
}

impl std::fmt::Display for TooBig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "out of memory: {} ({}) could not be allocated; use fewer groups or partitions, or a machine with more memory",
            self.what,
            crate::kafka::budget::bytes_text(self.bytes as f64)
        )
    }
}

impl std::error::Error for TooBig {}

impl World {
    /// Builds the world of `plan`; panics where [`try_new`](Self::try_new) would fail.
    pub fn new(plan: Plan) -> Self {
        Self::try_new(plan).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs the whole scenario.
    pub fn run(&mut self) {
        if self.producer_thread {
            self.feed.run_on_thread();
        }
        loop {
            // Batches reach the broker between events, without events of their own; an arrival
            // that wakes a long poll or is pushed is handled at its own place, before the next event.
            // Producer ticks are not queued either: the feed's stream of them is their queue.
            let event = self.kernel.peek_place();
            let tick = self.feed.next_tick_place();
            let tick_first = tick.is_some_and(|t| event.is_none_or(|e| t < e));
            let next = if tick_first { tick } else { event }.filter(|&(t, _)| t <= self.end);
            let limit = next.unwrap_or((self.end, u64::MAX));
            let queued = self.kernel.peek_place();
            if let Some((at, seq, pid)) = self.advance_logs(limit) {
                self.kernel.enter_reserved(at, seq);
                self.commit_due(at);
                self.appended(pid);
            } else if self.kernel.peek_place() != queued {
                // A cluster's arrival scheduled an event (a retry, a wake-up): choose again.
                continue;
            } else if tick_first && let Some((at, seq)) = next {
                self.kernel.enter_reserved(at, seq);
                self.commit_due(at);
                self.feed.enter_tick(&mut self.kernel);
            } else if let Some(ev) = self.next_event() {
                self.handle(ev);
            } else {
                break;
            }
            if self.check_invariants {
                self.assert_invariants();
            }
        }
        self.kernel.finish_at(self.end);
        self.finish_in_hand();
        self.close_group_clocks();
        if self.next_sample <= self.end {
            self.sample();
        }
        if let Some(cl) = self.cluster.as_deref_mut() {
            cl.finish_record(self.end, &mut self.rec);
        }
        self.rec.settle();
    }

    fn handle(&mut self, ev: Ev) {
        if self.defer_while_hung(ev) {
            return;
        }
        match ev {
            Ev::Cluster(e) => self.cluster_event(e),
            Ev::Action(i) => self.action(i as usize),
            Ev::Sample => {
                self.sample();
            }
            Ev::Start(c) => self.start_consumer(c as usize, crate::record::event::StartCause::StartAt),
            Ev::Poll { c, inc } if self.live(c, inc) => self.poll(c as usize),
            // A fetch the consumer gave up on (it was told to rejoin) is dropped wherever it is.
            Ev::FetchAtBroker { c, inc, seq } if self.live(c, inc) && self.fetching(c, seq) => {
                self.fetch_at_broker(c as usize)
            }
            Ev::FetchExpire { c, inc, seq } if self.live(c, inc) && self.fetching(c, seq) => {
                self.fetch_expire(c as usize)
            }
            Ev::FetchResponse { c, inc, seq } if self.live(c, inc) && self.fetching(c, seq) => self.deliver(c as usize),
            Ev::ProcessingDone { c, inc } if self.live(c, inc) => self.processing_done(c as usize),
            Ev::CommitAtBroker(slot) => {
                let commit = self.net.commits.take(slot);
                self.apply_commit(commit);
            }
            Ev::CommitDone { c, inc } if self.live(c, inc) => self.commit_done(c as usize),
            Ev::JoinArrive { c, inc } if self.live(c, inc) => self.join_arrive(c as usize),
            Ev::JoinTimer { g, round } => {
                let (grp, mut cx) = self.group_cx(g as usize);
                if grp.classic_mut().join_timer_expired(&mut cx, g as usize, round) {
                    self.complete_join(g as usize);
                }
            }
            Ev::SyncDone { g, round } => self.sync_done(g as usize, round),
            Ev::HeartbeatNotice { c, inc } if self.live(c, inc) => self.heartbeat_notice(c as usize),
            Ev::SessionExpire(slot) => {
                let (g, id) = self.net.timers.take(slot);
                self.session_expire(g, &id);
            }
            Ev::PushArrive(slot) => self.push_arrive(slot),
            Ev::RetentionCheck => {
                let (broker, mut cx) = self.broker_cx();
                broker.retention_check(&mut cx);
            }
            Ev::PushCredit { c, inc } if self.live(c, inc) => self.pump_owned(c as usize),
            Ev::LeaveArrive(slot) => {
                let (g, id) = self.net.timers.take(slot);
                self.member_gone(g, &id, false, "leave_group");
            }
            Ev::PollTimeout { c, inc, seq } if self.live(c, inc) => self.poll_timeout(c as usize, seq),
            Ev::ShareHeartbeat { c, inc } if self.live(c, inc) => self.share_heartbeat_timer(c as usize),
            Ev::ShareHeartbeatArrive { c, inc } if self.live(c, inc) => self.share_heartbeat_arrive(c as usize),
            Ev::ShareHeartbeatResponse { c, inc } if self.live(c, inc) => self.share_heartbeat_response(c as usize),
            Ev::ShareSessionExpire(slot) => {
                let (g, id) = self.net.timers.take(slot);
                let (grp, mut cx) = self.group_cx(g);
                grp.share_mut().session_expire(&mut cx, g, id);
            }
            Ev::LockExpiry { g, p } => self.share_lock_expiry(g as usize, p),
            Ev::HangOver { c, seq } => self.hang_over(c as usize, seq),
            Ev::BurrowRefresh => self.burrow_refresh(),
            Ev::ProtocolHeartbeatTimer { c, inc, seq } if self.live(c, inc) => {
                self.protocol_heartbeat_timer(c as usize, seq)
            }
            Ev::ProtocolHeartbeatArrive(slot) => self.protocol_heartbeat_arrive(slot),
            Ev::ProtocolHeartbeatResponse { c, inc } if self.live(c, inc) => {
                self.protocol_heartbeat_response(c as usize)
            }
            Ev::ProtocolReconciled { c, inc } if self.live(c, inc) => self.protocol_commit_answered(c as usize),
            Ev::ProtocolSessionExpire(slot) => {
                let (g, id) = self.net.timers.take(slot);
                self.protocol_session_expire(g, id);
            }
            Ev::ProtocolRebalanceTimeout(slot) => {
                let (g, id) = self.net.timers.take(slot);
                self.protocol_rebalance_timeout(g, id);
            }
            _ => {} // a stale consumer event: the consumer crashed or restarted since
        }
    }

    fn fetching(&self, c: u32, seq: u32) -> bool {
        let con = &self.consumers[c as usize];
        con.phase == Phase::Fetching && con.fetch_seq == seq
    }

    pub(crate) fn live(&self, c: u32, inc: u32) -> bool {
        let con = &self.consumers[c as usize];
        con.incarnation == inc && con.state == RunState::Running
    }

    pub(crate) fn now(&self) -> SimTime {
        self.kernel.now()
    }

    /// The context role handlers take (plan, clock and queue, recorder, network), with the
    /// broker borrowed apart from it.
    pub(crate) fn broker_cx(&mut self) -> (&mut Broker, Cx<'_>) {
        let World { plan, kernel, rec, net, broker, .. } = self;
        (broker, Cx { plan, kernel, rec, net })
    }

    /// The context a consumer's handlers take: the consumer, the broker it talks to, and the
    /// plan, clock and queue, recorder and network.
    pub(crate) fn client_cx(&mut self, c: usize) -> (&mut Consumer, &mut Broker, Cx<'_>) {
        let World { plan, kernel, rec, net, broker, consumers, .. } = self;
        (&mut consumers[c], broker, Cx { plan, kernel, rec, net })
    }

    /// The same context for a group coordinator's handlers, with group `g` borrowed apart from it.
    pub(crate) fn group_cx(&mut self, g: usize) -> (&mut Group, Cx<'_>) {
        let World { plan, kernel, rec, net, groups, .. } = self;
        (&mut groups[g], Cx { plan, kernel, rec, net })
    }

    pub(crate) fn schedule_consumer(&mut self, c: usize, after: SimDuration, make: impl FnOnce(u32, u32) -> Ev) {
        let inc = self.consumers[c].incarnation;
        self.kernel.schedule_after(after, make(c as u32, inc));
    }

    pub fn partition_exists(&self, p: u32) -> bool {
        self.broker.partition_exists(p)
    }

    pub fn partition_name(&self, p: u32) -> String {
        self.broker.partition_name(p)
    }
}
