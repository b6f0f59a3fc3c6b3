//! The simulated Kafka world: topics, producers, the consumer poll loop and groups, driven by the
//! kernel's event queue. Every handler is a function of (state, event, now); nothing else.

use super::consumer::{Consumer, InFlight, Phase, RunState};
use super::group::Group;
use super::log::PartitionLog;
use super::processing::ProcessingTime;
use super::producer::{Producer, ReadyBatch};
use super::slab::Slab;
use crate::record::{GroupSample, MetricRow, NONE_U32, NONE_U64, Recorder};
use crate::scenario::plan::{Action, CommitMode, Plan};
use crate::sim::{Kernel, RngStreams, SimDuration, SimTime};
use serde_json::{Value, json};

/// (partition, offset) pairs: what a commit carries.
type Offsets = Vec<(u32, u64)>;

/// An OffsetCommit request: the coordinator accepts it only from a current member of the
/// current generation (else Kafka answers ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID).
struct PendingCommit {
    group: usize,
    consumer: usize,
    member_id: Option<String>,
    generation: i32,
    offsets: Offsets,
}

/// Every kind of event. Consumer events carry the incarnation they were scheduled for.
#[derive(Clone, Copy, Debug)]
pub enum Ev {
    ProducerTick(u32),
    Append(u32),
    Action(u32),
    Sample,
    Start(u32),
    Poll { c: u32, inc: u32 },
    FetchAtBroker { c: u32, inc: u32, seq: u32 },
    FetchExpire { c: u32, inc: u32, seq: u32 },
    FetchResponse { c: u32, inc: u32, seq: u32 },
    ProcessingDone { c: u32, inc: u32 },
    CommitAtBroker(u32),
    CommitDone { c: u32, inc: u32 },
    JoinArrive { c: u32, inc: u32 },
    JoinTimer { g: u32, round: u32 },
    SyncDone { g: u32, round: u32 },
    HeartbeatNotice { c: u32, inc: u32 },
    SessionExpire(u32),
    LeaveArrive(u32),
    PushArrive(u32),
    PushCredit { c: u32, inc: u32 },
    RetentionCheck,
    PollTimeout { c: u32, inc: u32, seq: u32 },
}

pub struct TopicMeta {
    pub name: String,
    pub first_partition: u32,
    /// Partitions that exist now.
    pub partitions: u32,
    /// Partitions it will have after every add_partitions (ids reserved).
    pub allocated: u32,
}

pub struct Partition {
    pub topic: usize,
    pub index: u32,
    pub log: PartitionLog,
    /// Long polls parked on this partition: (consumer, incarnation, fetch sequence).
    waiters: Vec<(u32, u32, u32)>,
}

pub struct World {
    pub plan: Plan,
    pub kernel: Kernel<Ev>,
    pub topics: Vec<TopicMeta>,
    pub partitions: Vec<Partition>,
    pub producers: Vec<Producer>,
    pub consumers: Vec<Consumer>,
    pub groups: Vec<Group>,
    pub rec: Recorder,
    /// Batches on their way to the broker: (partition, producer, batch).
    pending: Slab<(u32, usize, ReadyBatch)>,
    /// Commits on their way to the broker.
    pending_commits: Slab<PendingCommit>,
    /// Push messages on their way to consumers.
    pub(super) pushes: Slab<super::push::PushMessage>,
    /// Members whose session may time out: (group, member id).
    pub(super) expiring: Slab<(usize, String)>,
    ready_scratch: Vec<ReadyBatch>,
    pub(super) delay: SimDuration,
    end: SimTime,
    next_sample: SimTime,
    /// Called after every event in debug builds and tests.
    pub check_invariants: bool,
}

impl World {
    pub fn new(plan: Plan) -> Self {
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
                partitions.push(Partition { topic: ti, index: p, log, waiters: Vec::new() });
            }
        }
        let producers = plan
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
                Producer::new(p, plan.topics[p.topic].partitions, changes, parts, &rngs)
            })
            .collect();
        let mut consumers = Vec::new();
        let mut groups = Vec::new();
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
                    last_auto_commit: SimTime::ZERO,
                    stopping: false,
                    member_id: None,
                    generation: -1,
                    joining: false,
                    rejoin_needed: false,
                    hb_origin: SimTime::ZERO,
                    last_poll: SimTime::ZERO,
                    poll_seq: 0,
                    pending_revoke: Vec::new(),
                    precommit: false,
                    buffer: std::collections::VecDeque::new(),
                    buffered: 0,
                    push_in_flight: 0,
                    push_rotate: 0,
                    paused: false,
                    fatal: None,
                    last_commit_ok: false,
                    member_rng: rngs.stream(&format!("consumer/{}/member-id", c.name)),
                });
            }
            groups.push(Group::new(g.id.clone(), g.protocol, gparts, partitions.len(), members));
        }
        let end = SimTime::ZERO + plan.duration;
        let delay = plan.network_delay;
        let ngroups = groups.len();
        let mut w = World {
            plan,
            kernel: Kernel::new(),
            topics,
            partitions,
            producers,
            consumers,
            groups,
            rec: Recorder::new(ngroups),
            pending: Slab::default(),
            pending_commits: Slab::default(),
            expiring: Slab::default(),
            pushes: Slab::default(),
            ready_scratch: Vec::new(),
            delay,
            end,
            next_sample: SimTime::ZERO,
            check_invariants: cfg!(debug_assertions),
        };
        w.schedule_start();
        w
    }

    fn schedule_start(&mut self) {
        for (i, a) in self.plan.timeline.iter().enumerate() {
            self.kernel.schedule_at(SimTime::ZERO + a.at, Ev::Action(i as u32));
        }
        for p in 0..self.producers.len() {
            if let Some(t) = self.producers[p].next_activity(SimTime::ZERO) {
                self.kernel.schedule_at(t, Ev::ProducerTick(p as u32));
            }
        }
        self.kernel.schedule_at(SimTime::ZERO, Ev::Sample);
        self.kernel.schedule_at(SimTime::ZERO + self.plan.retention_check_interval, Ev::RetentionCheck);
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
        while let Some(ev) = self.kernel.next_until(self.end) {
            self.handle(ev);
            if self.check_invariants {
                super::invariants::check(self);
            }
        }
        self.kernel.finish_at(self.end);
        self.close_group_clocks();
        if self.next_sample <= self.end {
            self.sample();
        }
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::ProducerTick(p) => self.producer_tick(p as usize),
            Ev::Append(slot) => self.append(slot),
            Ev::Action(i) => self.action(i as usize),
            Ev::Sample => {
                self.sample();
            }
            Ev::Start(c) => self.start_consumer(c as usize, "start_at"),
            Ev::Poll { c, inc } if self.live(c, inc) => self.poll(c as usize),
            // A fetch the consumer gave up on (it was told to rejoin) is dropped wherever it is.
            Ev::FetchAtBroker { c, inc, seq } if self.live(c, inc) && self.fetching(c, seq) => {
                self.fetch_at_broker(c as usize)
            }
            Ev::FetchExpire { c, inc, seq } if self.live(c, inc) => {
                let con = &self.consumers[c as usize];
                if con.phase == Phase::Fetching && con.fetch_seq == seq {
                    if self.is_push(con.group) {
                        // poll(timeout) returned empty: the loop turns and polls again.
                        self.consumers[c as usize].phase = Phase::Idle;
                        self.poll(c as usize);
                    } else {
                        self.respond(c as usize);
                    }
                }
            }
            Ev::FetchResponse { c, inc, seq } if self.live(c, inc) && self.fetching(c, seq) => self.deliver(c as usize),
            Ev::ProcessingDone { c, inc } if self.live(c, inc) => self.processing_done(c as usize),
            Ev::CommitAtBroker(slot) => {
                let commit = self.pending_commits.take(slot);
                self.apply_commit(commit);
            }
            Ev::CommitDone { c, inc } if self.live(c, inc) => {
                if self.consumers[c as usize].precommit {
                    self.after_precommit(c as usize)
                } else {
                    self.after_commit(c as usize)
                }
            }
            Ev::JoinArrive { c, inc } if self.live(c, inc) => self.join_arrive(c as usize),
            Ev::JoinTimer { g, round } => self.join_timer(g as usize, round),
            Ev::SyncDone { g, round } => self.sync_done(g as usize, round),
            Ev::HeartbeatNotice { c, inc } if self.live(c, inc) => self.heartbeat_notice(c as usize),
            Ev::SessionExpire(slot) => {
                let (g, id) = self.expiring.take(slot);
                self.session_expire(g, &id);
            }
            Ev::PushArrive(slot) => self.push_arrive(slot),
            Ev::RetentionCheck => self.retention_check(),
            Ev::PushCredit { c, inc } if self.live(c, inc) => self.pump_owned(c as usize),
            Ev::LeaveArrive(slot) => {
                let (g, id) = self.expiring.take(slot);
                self.member_gone(g, &id, "member_left", "leave_group");
            }
            Ev::PollTimeout { c, inc, seq } if self.live(c, inc) => self.poll_timeout(c as usize, seq),
            _ => {} // a stale consumer event: the consumer crashed or restarted since
        }
    }

    fn fetching(&self, c: u32, seq: u32) -> bool {
        let con = &self.consumers[c as usize];
        con.phase == Phase::Fetching && con.fetch_seq == seq
    }

    fn live(&self, c: u32, inc: u32) -> bool {
        let con = &self.consumers[c as usize];
        con.incarnation == inc && con.state == RunState::Running
    }

    pub(super) fn now(&self) -> SimTime {
        self.kernel.now()
    }

    // ---- producers and the log -------------------------------------------------------------

    fn producer_tick(&mut self, p: usize) {
        let now = self.now();
        let prod = &mut self.producers[p];
        let window_end = now + prod.window();
        let mut ready = std::mem::take(&mut self.ready_scratch);
        prod.produce_window(now, window_end, &mut ready);
        let topic = prod.topic;
        let next = prod.next_activity(window_end);
        for b in ready.drain(..) {
            let pid = self.topics[topic].first_partition + b.partition;
            let at = b.send_time + self.delay;
            let slot = self.pending.insert((pid, p, b));
            self.kernel.schedule_at(at, Ev::Append(slot));
        }
        self.ready_scratch = ready;
        if let Some(t) = next {
            self.kernel.schedule_at(t, Ev::ProducerTick(p as u32));
        }
    }

    fn append(&mut self, slot: u32) {
        let (pid, producer, batch) = self.pending.take(slot);
        let now = self.now();
        let size = self.producers[producer].record_size;
        self.partitions[pid as usize].log.append(now, &batch.created_us, size);
        self.producers[producer].recycle(batch.created_us);
        for g in 0..self.groups.len() {
            if self.is_push(g) && self.groups[g].owner[pid as usize].is_some() {
                self.pump(g, pid);
            }
        }
        // fetch.min.bytes = 1: a parked long poll answers as soon as any record arrives.
        let waiters = std::mem::take(&mut self.partitions[pid as usize].waiters);
        for (c, inc, seq) in waiters {
            let con = &self.consumers[c as usize];
            if con.incarnation == inc && con.is_running() && con.phase == Phase::Fetching && con.fetch_seq == seq {
                self.respond(c as usize);
            }
        }
    }

    // ---- consumer poll loop ------------------------------------------------------------------

    pub(super) fn schedule_consumer(&mut self, c: usize, after: SimDuration, make: impl FnOnce(u32, u32) -> Ev) {
        let inc = self.consumers[c].incarnation;
        self.kernel.schedule_after(after, make(c as u32, inc));
    }

    fn poll(&mut self, c: usize) {
        let now = self.now();
        let g = self.consumers[c].group;
        if self.consumers[c].stopping {
            self.finish_stop(c);
            return;
        }
        if let Some(why) = self.consumers[c].fatal.take() {
            self.consumer_error(c, &why);
            return;
        }
        let con = &mut self.consumers[c];
        con.last_poll = now;
        con.poll_seq = con.poll_seq.wrapping_add(1);
        if !self.group_poll(c) {
            self.consumers[c].phase = Phase::Joining;
            return;
        }
        // Kafka's auto-commit runs inside poll(): it commits what the previous polls returned.
        let con = &self.consumers[c];
        if con.config.commit == CommitMode::Auto && now - con.last_auto_commit >= con.config.auto_commit_interval {
            self.consumers[c].last_auto_commit = now;
            let offsets = self.positions(c);
            self.send_commit(c, offsets);
        }
        if self.is_push(g) {
            self.push_take(c);
            return;
        }
        self.rec.groups[g].polls += 1;
        let con = &mut self.consumers[c];
        con.phase = Phase::Fetching;
        con.fetch_seq = con.fetch_seq.wrapping_add(1);
        if self.delay.is_zero() {
            self.fetch_at_broker(c);
        } else {
            let d = self.delay;
            let seq = self.consumers[c].fetch_seq;
            self.schedule_consumer(c, d, |c, inc| Ev::FetchAtBroker { c, inc, seq });
        }
    }

    /// The broker reads from the consumer's positions, up to `max_poll_records`, starting at a
    /// rotating partition and draining each partition before the next, as Kafka's fetcher does.
    fn gather(&mut self, c: usize) -> usize {
        self.consumers[c].inflight.clear();
        if self.consumers[c].paused || !self.fix_out_of_range(c) {
            return 0;
        }
        let con = &mut self.consumers[c];
        let n = con.owned.len();
        let mut budget = con.config.max_poll_records as u64;
        for k in 0..n {
            if budget == 0 {
                break;
            }
            let o = con.owned[(con.rotate + k) % n];
            let leo = self.partitions[o.partition as usize].log.log_end_offset();
            let take = leo.saturating_sub(o.position).min(budget);
            if take > 0 {
                // Records are taken in partition order from a rotating start, so no partition starves.
                con.inflight.ranges.push((o.partition, o.position, o.position + take));
                budget -= take;
            }
        }
        con.inflight.len()
    }

    fn fetch_at_broker(&mut self, c: usize) {
        let n = self.gather(c);
        let con = &self.consumers[c];
        if n == 0 && !con.config.fetch_max_wait.is_zero() && !con.owned.is_empty() {
            let key = (c as u32, con.incarnation, con.fetch_seq);
            let wait = con.config.fetch_max_wait;
            for o in &con.owned {
                self.partitions[o.partition as usize].waiters.push(key);
            }
            let seq = con.fetch_seq;
            self.schedule_consumer(c, wait, |c, inc| Ev::FetchExpire { c, inc, seq });
            return;
        }
        if n == 0 && con.owned.is_empty() {
            // poll(timeout) with nothing assigned blocks for the timeout and returns nothing.
            let wait = con.config.fetch_max_wait;
            self.schedule_consumer(c, wait, |c, inc| Ev::FetchExpire { c, inc, seq: u32::MAX });
            self.consumers[c].fetch_seq = u32::MAX;
            return;
        }
        self.send_response(c);
    }

    /// Answers a parked fetch: the log is read again, since records arrived while it waited.
    fn respond(&mut self, c: usize) {
        self.gather(c);
        self.send_response(c);
    }

    fn send_response(&mut self, c: usize) {
        let con = &mut self.consumers[c];
        con.fetch_seq = con.fetch_seq.wrapping_add(1); // later wake-ups of this fetch are stale
        if self.delay.is_zero() {
            self.deliver(c);
        } else {
            let d = self.delay;
            let seq = self.consumers[c].fetch_seq;
            self.schedule_consumer(c, d, |c, inc| Ev::FetchResponse { c, inc, seq });
        }
    }

    /// The poll returns: positions advance past the returned records, then processing starts.
    pub(super) fn deliver(&mut self, c: usize) {
        let g = self.consumers[c].group;
        let now = self.now();
        let con = &mut self.consumers[c];
        if !con.owned.is_empty() {
            con.rotate = (con.rotate + 1) % con.owned.len();
        }
        con.inflight.fetched = now;
        for &(p, from, to) in &con.inflight.ranges {
            if let Some(o) = con.owned.iter_mut().find(|o| o.partition == p) {
                o.position = to;
            }
            // Delivered to the application: a repeat is a re-delivery (after a crash, a
            // rebalance, a seek or a discarded push buffer), whether or not it gets processed.
            let again = self.groups[g].delivered[p as usize].insert(from, to);
            let st = &mut self.rec.groups[g];
            st.records_delivered += to - from;
            st.redelivered += again;
        }
        if con.inflight.is_empty() {
            self.rec.groups[g].empty_polls += 1;
            con.phase = Phase::Idle;
            let after = con.config.poll_interval;
            self.schedule_consumer(c, after, |c, inc| Ev::Poll { c, inc });
            return;
        }
        if con.config.commit == CommitMode::BeforeProcessing {
            // At-most-once: the offsets are committed (commitSync) before any record is processed.
            let offsets: Vec<(u32, u64)> = con.inflight.ranges.iter().map(|&(p, _, to)| (p, to)).collect();
            con.phase = Phase::Committing;
            con.precommit = true;
            self.send_commit(c, offsets);
            if self.delay.is_zero() {
                self.after_precommit(c);
            } else {
                let rtt = self.delay + self.delay;
                self.schedule_consumer(c, rtt, |c, inc| Ev::CommitDone { c, inc });
            }
            return;
        }
        self.begin_processing(c, now);
    }

    /// The pre-processing commit returned. If it failed the batch is dropped unprocessed, as an
    /// at-most-once loop does when commitSync throws: never processed twice, maybe never at all.
    fn after_precommit(&mut self, c: usize) {
        let now = self.now();
        let con = &mut self.consumers[c];
        con.precommit = false;
        if con.last_commit_ok {
            self.begin_processing(c, now);
            return;
        }
        con.inflight.clear();
        self.after_commit(c);
    }

    fn begin_processing(&mut self, c: usize, start: SimTime) {
        let con = &mut self.consumers[c];
        con.phase = Phase::Processing;
        con.inflight.started = start;
        let mut t = start.as_nanos();
        let constant = con.processing.constant_ns();
        let InFlight { ranges, finish_ns, latency_ns, .. } = &mut con.inflight;
        for &(p, from, to) in ranges.iter() {
            self.partitions[p as usize].log.for_each_created(from, to, |_, created| {
                // Saturating: a huge processing time or slow factor ends the batch "never".
                t = t.saturating_add(match constant {
                    Some(d) => d,
                    None => con.processing.sample(&mut con.rng),
                });
                finish_ns.push(t);
                latency_ns.push(t.saturating_sub(created));
            });
        }
        let end = SimTime(t);
        let inc = con.incarnation;
        self.kernel.schedule_at(end, Ev::ProcessingDone { c: c as u32, inc });
        // max.poll.interval.ms: if this batch (and the sleep after it) keeps the consumer out of
        // poll() too long, the heartbeat thread gives up its membership meanwhile.
        let deadline = con.last_poll + con.config.max_poll_interval;
        let next_poll = end + self.delay + self.delay + con.config.poll_interval;
        if next_poll > deadline && con.member_id.is_some() {
            let seq = con.poll_seq;
            self.kernel.schedule_at(deadline.max(self.kernel.now()), Ev::PollTimeout { c: c as u32, inc, seq });
        }
    }

    /// Accounts the first `k` in-flight records as processed.
    pub(super) fn account_processed(&mut self, c: usize, k: usize) {
        let g = self.consumers[c].group;
        let con = &self.consumers[c];
        let stats = &mut self.rec.groups[g];
        for &l in &con.inflight.latency_ns[..k] {
            stats.record_latency(l);
        }
        stats.records_processed += k as u64;
        let ranges = if k == con.inflight.len() { con.inflight.ranges.clone() } else { con.inflight.first_ranges(k) };
        let fetched = con.inflight.fetched;
        for (p, from, to) in ranges {
            stats.duplicates += self.groups[g].mark_processed(p, from, to, fetched);
        }
    }

    fn processing_done(&mut self, c: usize) {
        let k = self.consumers[c].inflight.len();
        self.account_processed(c, k);
        let con = &mut self.consumers[c];
        // commitSync() commits the positions (a seek during the batch moves them); partitions the
        // consumer lost meanwhile are still in the request, which then fails.
        let processed: Vec<(u32, u64)> =
            con.inflight.ranges.iter().map(|&(p, _, to)| (p, con.position(p).unwrap_or(to))).collect();
        con.inflight.clear();
        if con.config.commit == CommitMode::AfterProcessing {
            con.phase = Phase::Committing;
            self.send_commit(c, processed);
            if !self.delay.is_zero() {
                let rtt = self.delay + self.delay;
                self.schedule_consumer(c, rtt, |c, inc| Ev::CommitDone { c, inc });
                return;
            }
        }
        self.after_commit(c);
    }

    fn after_commit(&mut self, c: usize) {
        let push = self.is_push(self.consumers[c].group);
        let con = &mut self.consumers[c];
        con.phase = Phase::Idle;
        if con.stopping {
            self.finish_stop(c);
            return;
        }
        // A pushed-to consumer is driven by arrivals, not by a polling cadence: no sleep.
        let after = if push { SimDuration::ZERO } else { con.config.poll_interval };
        self.schedule_consumer(c, after, |c, inc| Ev::Poll { c, inc });
    }

    pub(super) fn positions(&self, c: usize) -> Vec<(u32, u64)> {
        self.consumers[c].owned.iter().map(|o| (o.partition, o.position)).collect()
    }

    pub(super) fn send_commit(&mut self, c: usize, offsets: Offsets) {
        if offsets.is_empty() {
            return;
        }
        let con = &self.consumers[c];
        if con.joining || con.member_id.is_none() {
            // generationIfStable() is null while a JoinGroup is out (or after the membership was
            // lost): the client fails the commit itself, nothing reaches the broker.
            let reason = if con.joining { "rebalance_in_progress" } else { "not_a_member" };
            self.reject_commit(c, &offsets, reason);
            return;
        }
        let commit = PendingCommit {
            group: con.group,
            consumer: c,
            member_id: con.member_id.clone(),
            generation: con.generation,
            offsets,
        };
        self.rec.groups[con.group].commits += 1;
        if self.delay.is_zero() {
            self.apply_commit(commit);
            return;
        }
        let slot = self.pending_commits.insert(commit);
        self.kernel.schedule_after(self.delay, Ev::CommitAtBroker(slot));
    }

    fn reject_commit(&mut self, c: usize, offsets: &Offsets, reason: &str) {
        self.consumers[c].last_commit_ok = false;
        let g = self.consumers[c].group;
        self.groups[g].commits_rejected += 1;
        let names: Vec<String> = offsets.iter().map(|&(p, _)| self.partition_name(p)).collect();
        self.consumer_event(c, "commit_failed", vec![("reason", json!(reason)), ("partitions", json!(names))]);
    }

    fn apply_commit(&mut self, commit: PendingCommit) {
        let grp = &mut self.groups[commit.group];
        let member_ok = commit.member_id.as_ref().is_some_and(|id| grp.members.contains_key(id));
        let accepted = member_ok
            && commit.generation == grp.generation
            && grp.state != super::group::GroupState::CompletingRebalance;
        if !accepted {
            // CommitFailedException: the records will be read again by the partitions' next owner.
            let reason = if !member_ok {
                "unknown_member_id"
            } else if grp.state == super::group::GroupState::CompletingRebalance {
                "rebalance_in_progress"
            } else {
                "illegal_generation"
            };
            self.reject_commit(commit.consumer, &commit.offsets, reason);
            return;
        }
        for &(p, off) in &commit.offsets {
            grp.commit(p, off);
        }
        self.consumers[commit.consumer].last_commit_ok = true;
    }

    // ---- lifecycle ---------------------------------------------------------------------------

    fn action(&mut self, i: usize) {
        let a = self.plan.timeline[i].clone();
        let mut fields: Vec<(&str, Value)> = Vec::new();
        let name = |w: &World, (g, k): (usize, usize)| w.plan.groups[g].consumers[k].name.clone();
        let ci = |w: &World, (g, k): (usize, usize)| w.groups[g].consumers[k];
        match a.action {
            Action::Crash(r) => {
                fields.push(("action", json!("crash")));
                fields.push(("consumer", json!(name(self, r))));
                self.log_action(fields);
                self.crash_consumer(ci(self, r));
            }
            Action::Start(r) => {
                fields.push(("action", json!("start")));
                fields.push(("consumer", json!(name(self, r))));
                self.log_action(fields);
                self.start_consumer(ci(self, r), "timeline");
            }
            Action::Stop(r) => {
                fields.push(("action", json!("stop")));
                fields.push(("consumer", json!(name(self, r))));
                self.log_action(fields);
                self.stop_consumer(ci(self, r));
            }
            Action::Slow { consumer, factor } => {
                fields.push(("action", json!("slow")));
                fields.push(("consumer", json!(name(self, consumer))));
                fields.push(("factor", json!(factor)));
                self.log_action(fields);
                let c = ci(self, consumer);
                self.consumers[c].processing.set_factor(factor);
            }
            Action::Rate { producer, rate } => {
                // The producer already applies the change at this instant (it knows its schedule).
                fields.push(("action", json!("rate")));
                fields.push(("producer", json!(self.producers[producer].name)));
                fields.push(("rate_per_s", json!(rate)));
                self.log_action(fields);
            }
            Action::Seek { consumer, topic, partition, ref to } => {
                fields.push(("action", json!("seek")));
                fields.push(("consumer", json!(name(self, consumer))));
                fields.push(("topic", json!(self.topics[topic].name)));
                fields.push(("partition", json!(partition)));
                fields.push(("to", target_json(to)));
                self.log_action(fields);
                let c = ci(self, consumer);
                self.seek(c, topic, partition, to);
            }
            Action::ResetOffsets { group, topic, ref to } => {
                fields.push(("action", json!("reset_offsets")));
                fields.push(("group", json!(self.groups[group].id)));
                fields.push(("topic", json!(self.topics[topic].name)));
                fields.push(("to", target_json(to)));
                self.log_action(fields);
                self.reset_offsets(group, topic, to);
            }
            Action::Pause(r) | Action::Resume(r) => {
                let pause = matches!(a.action, Action::Pause(_));
                fields.push(("action", json!(if pause { "pause" } else { "resume" })));
                fields.push(("consumer", json!(name(self, r))));
                self.log_action(fields);
                // KafkaConsumer.pause: it keeps polling and heartbeating, but fetches nothing.
                let c = ci(self, r);
                self.consumers[c].paused = pause;
                if !pause && self.is_push(self.consumers[c].group) {
                    self.pump_owned(c);
                }
            }
            Action::PauseProducer(p) | Action::ResumeProducer(p) => {
                let pause = matches!(a.action, Action::PauseProducer(_));
                fields.push(("action", json!(if pause { "pause" } else { "resume" })));
                fields.push(("producer", json!(self.producers[p].name)));
                self.log_action(fields);
            }
            Action::AddGroup(g) => {
                fields.push(("action", json!("add_group")));
                fields.push(("group", json!(self.groups[g].id)));
                self.log_action(fields);
            }
            Action::AddConsumer(r) => {
                fields.push(("action", json!("add_consumer")));
                fields.push(("group", json!(self.groups[r.0].id)));
                fields.push(("consumer", json!(name(self, r))));
                self.log_action(fields);
            }
            Action::RemoveGroup(g) => {
                fields.push(("action", json!("remove_group")));
                fields.push(("group", json!(self.groups[g].id)));
                self.log_action(fields);
                for c in self.groups[g].consumers.clone() {
                    if self.consumers[c].is_running() {
                        self.stop_consumer(c);
                    }
                }
                self.groups[g].removed = true;
            }
            Action::AddPartitions { topic, count } => {
                fields.push(("action", json!("add_partitions")));
                fields.push(("topic", json!(self.topics[topic].name)));
                fields.push(("count", json!(count)));
                self.log_action(fields);
                self.topics[topic].partitions = count;
                // Members notice the new partitions at their next metadata refresh; the group rebalances.
                for g in 0..self.groups.len() {
                    if self.plan.groups[g].topics.contains(&topic) && !self.groups[g].members.is_empty() {
                        self.prepare_rebalance(g, format!("partitions of {} grew to {count}", self.topics[topic].name));
                    }
                }
            }
        }
    }

    pub(super) fn partition_exists(&self, p: u32) -> bool {
        let part = &self.partitions[p as usize];
        part.index < self.topics[part.topic].partitions
    }

    /// Logs an event about consumer `c`: its group and name first, then `fields`.
    pub(super) fn consumer_event(&mut self, c: usize, kind: &'static str, fields: Vec<(&str, Value)>) {
        let now = self.now();
        let g = self.consumers[c].group;
        let mut all = vec![("group", json!(self.groups[g].id)), ("consumer", json!(self.consumers[c].name))];
        all.extend(fields);
        self.rec.event(now, kind, all);
    }

    fn log_action(&mut self, fields: Vec<(&str, Value)>) {
        let now = self.now();
        self.rec.event(now, "action", fields);
    }

    pub fn partition_name(&self, p: u32) -> String {
        let part = &self.partitions[p as usize];
        format!("{}-{}", self.topics[part.topic].name, part.index)
    }

    // ---- sampling ----------------------------------------------------------------------------

    fn sample(&mut self) {
        let now = self.now();
        for (gi, g) in self.groups.iter().enumerate() {
            // A group appears when it is added and disappears when removed.
            let added = self.plan.groups[gi].added_at.is_none_or(|t| SimTime::ZERO + t <= now);
            if !added || g.removed {
                continue;
            }
            for &p in &g.partitions {
                if !self.partition_exists(p) {
                    continue;
                }
                let owner = g.owner[p as usize];
                let position = owner.and_then(|c| self.consumers[c].position(p));
                let log = &self.partitions[p as usize].log;
                // Lag in time: how long the oldest record the group has not committed past has waited.
                let lag_ns = match g.committed[p as usize] {
                    Some(off) => {
                        log.created_at(off.max(log.log_start_offset())).map_or(0, |t| now.as_nanos().saturating_sub(t))
                    }
                    None => NONE_U64,
                };
                self.rec.metrics.push(MetricRow {
                    time: now,
                    group: gi as u16,
                    partition: p,
                    log_end_offset: self.partitions[p as usize].log.log_end_offset(),
                    log_start_offset: self.partitions[p as usize].log.log_start_offset(),
                    committed: g.committed[p as usize].unwrap_or(NONE_U64),
                    lag_ns,
                    position: position.unwrap_or(NONE_U64),
                    owner: owner.map_or(NONE_U32, |c| c as u32),
                });
            }
        }
        for gi in 0..self.groups.len() {
            let members = &self.groups[gi].consumers;
            let buffered_records = members.iter().map(|&c| self.consumers[c].buffered).sum();
            let buffered_bytes = members.iter().map(|&c| self.buffered_bytes(c)).sum();
            self.rec.group_samples.push(GroupSample {
                time: now,
                group: gi as u16,
                buffered_records,
                buffered_bytes,
                drops: self.rec.groups[gi].drops,
            });
        }
        self.next_sample = now + self.plan.sample_interval;
        if self.next_sample <= self.end {
            self.kernel.schedule_at(self.next_sample, Ev::Sample);
        }
    }
}

fn target_json(to: &crate::scenario::plan::OffsetTarget) -> Value {
    use crate::scenario::plan::OffsetTarget;
    match to {
        OffsetTarget::Earliest => json!("earliest"),
        OffsetTarget::Latest => json!("latest"),
        OffsetTarget::Offset(o) => json!(o),
        OffsetTarget::Timestamp(t) => json!({ "timestamp_ms": crate::report::num::time_ms_json(SimTime::ZERO + *t) }),
        OffsetTarget::Shift(d) => json!({ "shift": d }),
    }
}
