//! The simulated Kafka world: its state, and the loop that routes each event to the role that
//! handles it. Every handler is a function of (state, event, now); nothing else.
//!
//! Where each role lives (each an `impl World` of its own; none imports another, and this file
//! imports none of them):
//! - producers and partition logs: `produce` (ticks reserve places, batches join logs between
//!   events; the producers themselves run in `feed`, which this file only holds), what records
//!   readers still need: `backlog`;
//! - the broker's fetch side: `fetch` (a fetch answered, a long poll parked); its push side: `push`;
//! - the consumer poll loop: `poll_loop`; offset commits: `commit`; seeks, resets, retention and
//!   out-of-range handling: `offsets`;
//! - membership (join, sync, heartbeats, sessions, leaving): `membership`; the group coordinator
//!   (rebalances, generations, assignments): `coordinator`;
//! - a consumer whose host freezes (`hang`) and resumes: `hang`;
//! - the timeline's actions: `timeline`; metrics samples: `sampling`; invariants: `invariants`.

use crate::kafka::broker::log::PartitionLog;
use crate::kafka::client::processing::ProcessingTime;
use crate::kafka::client::{
    ClassicMember, Consumer, GroupKind, InFlight, Membership, Phase, PushBuffer, RunState, ShareMember,
};
use crate::kafka::coordinator::Group;
use crate::kafka::producer::accumulator::Producer;
use crate::kafka::producer::feed::{Feed, Generator, Source};

use crate::kafka::broker::Broker;
use crate::kafka::cx::Cx;
use crate::record::Recorder;
use crate::scenario::plan::{Action, Delivery, GroupType, Plan};
use crate::sim::{Kernel, RngStreams, SimDuration, SimTime};

/// (partition, offset) pairs: what a commit carries.
pub(crate) type Offsets = Vec<(u32, u64)>;

pub use crate::kafka::net::PendingCommit;

pub use crate::record::{DiscardRows, MetricSink};

/// A push message on its way: (consumer, incarnation, partition, from, to, partition epoch).
pub type PushMessage = (usize, u32, u32, u64, u64, u32);

/// Above how many partitions appends prefetch the next ones' state: with 100 partitions (their
/// state and log ends, about 40 kB, stay in a core's cache anyway) prefetching made
/// per-record.yaml 6% slower.
const PREFETCH_ABOVE_PARTITIONS: usize = 1024;

/// Every kind of event. Consumer events carry the incarnation they were scheduled for.
#[derive(Clone, Copy, Debug)]
pub enum Ev {
    Action(u32),
    Sample,
    Start(u32),
    Poll {
        c: u32,
        inc: u32,
    },
    FetchAtBroker {
        c: u32,
        inc: u32,
        seq: u32,
    },
    FetchExpire {
        c: u32,
        inc: u32,
        seq: u32,
    },
    FetchResponse {
        c: u32,
        inc: u32,
        seq: u32,
    },
    ProcessingDone {
        c: u32,
        inc: u32,
    },
    CommitAtBroker(u32),
    CommitDone {
        c: u32,
        inc: u32,
    },
    JoinArrive {
        c: u32,
        inc: u32,
    },
    JoinTimer {
        g: u32,
        round: u32,
    },
    SyncDone {
        g: u32,
        round: u32,
    },
    HeartbeatNotice {
        c: u32,
        inc: u32,
    },
    SessionExpire(u32),
    LeaveArrive(u32),
    PushArrive(u32),
    PushCredit {
        c: u32,
        inc: u32,
    },
    RetentionCheck,
    PollTimeout {
        c: u32,
        inc: u32,
        seq: u32,
    },
    /// Share groups: the member's heartbeat timer, its request at the coordinator, the response.
    ShareHeartbeat {
        c: u32,
        inc: u32,
    },
    ShareHeartbeatArrive {
        c: u32,
        inc: u32,
    },
    ShareHeartbeatResponse {
        c: u32,
        inc: u32,
    },
    ShareSessionExpire(u32),
    /// A `hang: {for: ...}` is over: the consumer resumes (`seq` names the hang).
    HangOver {
        c: u32,
        seq: u32,
    },
    /// A share-partition's earliest acquisition lock runs out.
    LockExpiry {
        g: u32,
        p: u32,
    },
    /// Burrow fetches every partition's log end (its offset refresh).
    BurrowRefresh,
}

pub use crate::kafka::broker::{Partition, TopicMeta};

pub struct World {
    pub plan: Plan,
    pub kernel: Kernel<Ev>,
    /// The broker side: topics, partition logs, parked fetches.
    pub broker: crate::kafka::broker::Broker,
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
            crate::scenario::budget::bytes_text(self.bytes as f64)
        )
    }
}

impl std::error::Error for TooBig {}

impl World {
    /// Builds the world of `plan`; panics where [`try_new`](Self::try_new) would fail.
    pub fn new(plan: Plan) -> Self {
        Self::try_new(plan).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Builds the world of `plan`, or says which of its tables the machine could not allocate.
    pub fn try_new(plan: Plan) -> Result<Self, TooBig> {
        let rngs = RngStreams::new(plan.seed);
        let mut topics = Vec::new();
        let mut partitions = Vec::new();
        for (ti, t) in plan.topics.iter().enumerate() {
            topics.push(TopicMeta {
                name: t.name.clone(),
                first_partition: partitions.len() as u32,
                partitions: t.partitions,
                allocated: t.max_partitions,
            });
            // Partitions a later add_partitions creates are allocated now (ids stay contiguous)
            // and stay out of every view until they exist.
            for p in 0..t.max_partitions {
                let log = PartitionLog::with_segments(t.segment_bytes, t.segment_ms.as_nanos());
                let push_fed = plan.groups.iter().any(|g| g.delivery == Delivery::Push && g.topics.contains(&ti));
                let share_fed = plan.groups.iter().any(|g| g.kind == GroupType::Share && g.topics.contains(&ti));
                partitions.push(Partition {
                    topic: ti,
                    index: p,
                    log,
                    waiters: Vec::new(),
                    push_fed,
                    share_fed,
                    batch_starts: Default::default(),
                });
            }
        }
        let mut key_tables = crate::kafka::producer::partitioner::KeyTables::default();
        let producers: Vec<Producer> = plan
            .producers
            .iter()
            .enumerate()
            .map(|(pi, p)| {
                // Rate changes and pauses are known in advance, so arrivals drawn ahead honour them.
                let (mut rate, mut paused, mut changes, mut parts) = (p.rate, false, Vec::new(), Vec::new());
                for a in &plan.timeline {
                    let at = SimTime::ZERO + a.at;
                    match a.action {
                        Action::Rate { producer, rate: r } if producer == pi => {
                            rate = r;
                            if !paused {
                                changes.push((at, r));
                            }
                        }
                        Action::PauseProducer(producer) if producer == pi => {
                            paused = true;
                            changes.push((at, 0.0));
                        }
                        Action::ResumeProducer(producer) if producer == pi && paused => {
                            paused = false;
                            changes.push((at, rate));
                        }
                        Action::AddPartitions { topic, count } if topic == p.topic => parts.push((at, count)),
                        _ => {}
                    }
                }
                Producer::new(p, plan.topics[p.topic].partitions, changes, parts, &rngs, &mut key_tables)
            })
            .collect();
        let mut consumers = Vec::new();
        let mut groups = Vec::new();
        let mut ledgers = Vec::new();
        let mut shares = Vec::new();
        let mut pushes = Vec::new();
        for (gi, g) in plan.groups.iter().enumerate() {
            let gparts: Vec<u32> = g
                .topics
                .iter()
                .flat_map(|&t| {
                    let m = &topics[t];
                    m.first_partition..m.first_partition + m.allocated
                })
                .collect();
            let mut members = Vec::new();
            for c in &g.consumers {
                members.push(consumers.len());
                let membership = match GroupKind::of(g) {
                    GroupKind::Pull => Membership::Pull(ClassicMember::default()),
                    GroupKind::Push => Membership::Push(ClassicMember::default(), PushBuffer::default()),
                    GroupKind::Share => Membership::Share(Box::new(ShareMember {
                        outcome_rng: rngs.stream(&format!("consumer/{}/outcome", c.name)),
                        acks: Vec::new(),
                        outcomes: Vec::new(),
                        reply: None,
                        rejoin: false,
                        poison: c.poison.as_ref().map(|(t, p, offs)| (topics[*t].first_partition + p, offs.clone())),
                    })),
                };
                consumers.push(Consumer {
                    name: c.name.clone(),
                    group: gi,
                    config: c.config.clone(),
                    group_instance_id: c.group_instance_id.clone(),
                    state: RunState::Stopped,
                    incarnation: 0,
                    phase: Phase::Idle,
                    owned: Vec::new(),
                    rotate: 0,
                    fetch_seq: 0,
                    inflight: InFlight::default(),
                    processing: ProcessingTime::new(c.config.processing.clone()),
                    rng: rngs.stream(&format!("consumer/{}", c.name)),
                    stopping: false,
                    member_id: None,
                    generation: -1,
                    last_poll: SimTime::ZERO,
                    poll_seq: 0,
                    paused: false,
                    fatal: None,
                    member_rng: rngs.stream(&format!("consumer/{}/member-id", c.name)),
                    hang: Default::default(),
                    membership,
                });
            }
            let n = partitions.len();
            let too_big = |what: &str, per: usize| TooBig {
                what: format!("group `{}`'s {what} for {n} partitions", g.id),
                bytes: (n * per) as u64,
            };
            use crate::kafka::coordinator::share_group::ShareGroup;
            use crate::kafka::coordinator::{ClassicGroup, Coordinator};
            use crate::record::ledger::Ledger;
            let kind = GroupKind::of(g);
            use crate::kafka::broker::GroupShares;
            pushes.push(match kind {
                GroupKind::Push => Some(crate::kafka::broker::push::PushStreams::new(n).map_err(|_| {
                    too_big("push streams", crate::kafka::broker::push::PushStreams::dense_bytes_per_partition())
                })?),
                GroupKind::Pull | GroupKind::Share => None,
            });
            shares.push(match kind {
                GroupKind::Share => Some(
                    GroupShares::new(n)
                        .map_err(|_| too_big("share-partition table", GroupShares::dense_bytes_per_partition()))?,
                ),
                GroupKind::Pull | GroupKind::Push => None,
            });
            let coordinator = match kind {
                GroupKind::Share => Coordinator::Share(Box::new(ShareGroup::new(g.share))),
                GroupKind::Pull | GroupKind::Push => {
                    Coordinator::Classic(Box::new(ClassicGroup::new(g.protocol, n).map_err(|_| {
                        too_big("offset and ownership tables", ClassicGroup::dense_bytes_per_partition())
                    })?))
                }
            };
            ledgers.push(Ledger::new(n).map_err(|_| too_big("ledger", Ledger::dense_bytes_per_partition()))?);
            let group =
                Group { id: g.id.clone(), partitions: gparts, consumers: members, removed: false, kind, coordinator };
            groups.push(group);
        }
        let end = SimTime::ZERO + plan.duration;
        let delay = plan.network_delay;
        let nproducers = producers.len();
        let ngroups = groups.len();
        let nconsumers = consumers.len();
        // Latency over time keeps at most about 600 points per group, whatever the run's length.
        let latency_bucket_s = plan.duration.as_nanos().div_ceil(600 * 1_000_000_000).max(1);
        let first_partition = plan.producers.iter().map(|p| topics[p.topic].first_partition).collect();
        let record_size = plan.producers.iter().map(|p| p.record_size).collect();
        let generator = Generator::new(producers, first_partition, delay.as_nanos(), end);
        let first_ticks = generator.first_ticks();
        let prefetch_appends = partitions.len() > PREFETCH_ABOVE_PARTITIONS;
        let mut w = World {
            kernel: Kernel::new(),
            broker: crate::kafka::broker::Broker {
                keep_whole_topic: Broker::keep_whole_topics(&plan),
                topics,
                partitions,
                prefetch_appends,
                record_size,
                append_trace: None,
                shares,
                push: pushes,
            },
            plan,
            consumers,
            groups,
            rec: Recorder { ledgers, ..Recorder::new(ngroups, nconsumers, latency_bucket_s) },
            feed: Feed::new(Source::Inline(Box::new(generator)), delay, nproducers),
            producer_thread: crate::kafka::producer::feed::thread_per_run(1),
            net: crate::kafka::net::Network::new(delay),
            end,
            next_sample: SimTime::ZERO,
            check_invariants: cfg!(debug_assertions),
            metric_sink: None,
            sample_rows: Vec::new(),
        };
        let b = w.plan.burrow;
        w.rec.burrow = crate::record::burrow::Settings {
            intervals: b.intervals as usize,
            min_distance_ms: b.min_distance.as_nanos() / 1_000_000,
            allowed_lag: b.allowed_lag,
        };
        w.schedule_start(&first_ticks);
        Ok(w)
    }

    fn schedule_start(&mut self, first_ticks: &[(u32, SimTime)]) {
        for (i, a) in self.plan.timeline.iter().enumerate() {
            self.kernel.schedule_at(SimTime::ZERO + a.at, Ev::Action(i as u32));
        }
        for &(p, _) in first_ticks {
            let seq = self.kernel.reserve();
            self.feed.tick_placed(p, seq);
        }
        // Burrow fetches the broker offsets once as it starts, before its first evaluation.
        self.kernel.schedule_at(SimTime::ZERO, Ev::BurrowRefresh);
        self.kernel.schedule_at(SimTime::ZERO, Ev::Sample);
        // LogManager schedules cleanupLogs after log.initial.task.delay.ms, then every
        // log.retention.check.interval.ms (core/src/main/scala/kafka/log/LogManager.scala).
        self.kernel.schedule_at(SimTime::ZERO + self.plan.initial_task_delay, Ev::RetentionCheck);
        for g in &self.plan.groups {
            for c in &g.consumers {
                if let Some(at) = c.start_at {
                    let ci = self.consumers.iter().position(|x| x.name == c.name).expect("consumer exists");
                    self.kernel.schedule_at(SimTime::ZERO + at, Ev::Start(ci as u32));
                }
            }
        }
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
            if let Some((at, seq, pid)) = self.broker.advance_logs(&mut self.feed, next.unwrap_or((self.end, u64::MAX)))
            {
                self.kernel.enter_reserved(at, seq);
                self.appended(pid);
            } else if tick_first && let Some((at, seq)) = next {
                self.kernel.enter_reserved(at, seq);
                self.feed.enter_tick(&mut self.kernel);
            } else if let Some(ev) = self.kernel.next_until(self.end) {
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
        self.rec.settle();
    }

    fn handle(&mut self, ev: Ev) {
        if self.defer_while_hung(ev) {
            return;
        }
        match ev {
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
            Ev::JoinTimer { g, round } => self.join_timer(g as usize, round),
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
                self.share_session_expire(g, id);
            }
            Ev::LockExpiry { g, p } => self.share_lock_expiry(g as usize, p),
            Ev::HangOver { c, seq } => self.hang_over(c as usize, seq),
            Ev::BurrowRefresh => self.burrow_refresh(),
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

    // ---- producers and the log -------------------------------------------------------------

    // ---- consumer poll loop ------------------------------------------------------------------

    pub(crate) fn schedule_consumer(&mut self, c: usize, after: SimDuration, make: impl FnOnce(u32, u32) -> Ev) {
        let inc = self.consumers[c].incarnation;
        self.kernel.schedule_after(after, make(c as u32, inc));
    }

    // ---- lifecycle ---------------------------------------------------------------------------

    pub fn partition_exists(&self, p: u32) -> bool {
        self.broker.partition_exists(p)
    }

    pub fn partition_name(&self, p: u32) -> String {
        self.broker.partition_name(p)
    }

    // ---- sampling ----------------------------------------------------------------------------
}
