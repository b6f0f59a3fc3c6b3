//! Building the world of a plan: the broker's topics and partitions, the producers (their rate
//! changes and added partitions known in advance), each group's coordinator and ledger, each
//! consumer by the kind of its group. Tables as large as groups x partitions are allocated
//! fallibly, so a world too big for the machine is an error, not an abort.

use crate::kafka::broker::log::PartitionLog;
use crate::kafka::broker::push::PushStreams;
use crate::kafka::broker::{Broker, GroupShares, Partition, TopicMeta};
use crate::kafka::client::processing::ProcessingTime;
use crate::kafka::client::{
    ClassicMember, Consumer, GroupKind, InFlight, Membership, Phase, PushBuffer, RunState, ShareMember,
};
use crate::kafka::coordinator::share_group::ShareGroup;
use crate::kafka::coordinator::{ClassicGroup, Coordinator, Group};
use crate::kafka::net::Network;
use crate::kafka::producer::accumulator::Producer;
use crate::kafka::producer::feed::{Feed, Generator, Source};
use crate::kafka::world::{Ev, TooBig, World};
use crate::record::Recorder;
use crate::record::ledger::Ledger;
use crate::scenario::plan::{Action, ConsumerPlan, Delivery, GroupPlan, GroupType, Plan};
use crate::sim::{Kernel, RngStreams, SimTime};

/// Above how many partitions appends prefetch the next ones' state: with 100 partitions (their
/// state and log ends, about 40 kB, stay in a core's cache anyway) prefetching made
/// per-record.yaml 6% slower.
const PREFETCH_ABOVE_PARTITIONS: usize = 1024;

/// What each group contributes: its coordinator, consumers and the tables beside them.
#[derive(Default)]
struct Groups {
    groups: Vec<Group>,
    consumers: Vec<Consumer>,
    ledgers: Vec<Ledger>,
    shares: Vec<Option<GroupShares>>,
    pushes: Vec<Option<PushStreams>>,
}

impl World {
    /// Builds the world of `plan`, or says which of its tables the machine could not allocate.
    pub fn try_new(plan: Plan) -> Result<Self, TooBig> {
        let rngs = RngStreams::new(plan.seed);
        let (topics, partitions) = topics_and_partitions(&plan);
        let producers = producers(&plan, &rngs);
        let mut built = Groups::default();
        for (gi, g) in plan.groups.iter().enumerate() {
            built.add_group(gi, g, &topics, partitions.len(), &rngs)?;
        }
        let Groups { groups, consumers, ledgers, shares, pushes } = built;
        let end = SimTime::ZERO + plan.duration;
        let delay = plan.network_delay;
        let nproducers = producers.len();
        // Latency over time keeps at most about 600 points per group, whatever the run's length.
        let latency_bucket_s = plan.duration.as_nanos().div_ceil(600 * 1_000_000_000).max(1);
        let generator = generator(&plan, producers, &topics);
        let first_ticks = generator.first_ticks();
        let spans: Vec<(u32, u32)> = topics.iter().map(|t| (t.first_partition, t.allocated)).collect();
        let cluster = crate::kafka::cluster::Cluster::of(&plan, &rngs, &spans).map(Box::new);
        let broker = Broker {
            // Without a cluster every log end moves in `advance_logs`, which keeps them here too.
            log_ends: if cluster.is_none() { vec![0; partitions.len()] } else { Vec::new() },
            journal: Default::default(),
            keep_whole_topic: Broker::keep_whole_topics(&plan),
            prefetch_appends: partitions.len() > PREFETCH_ABOVE_PARTITIONS,
            record_size: plan.producers.iter().map(|p| p.record_size).collect(),
            topics,
            partitions,
            append_trace: None,
            shares,
            push: pushes,
            purgatory: Default::default(),
        };
        let mut rec = Recorder { ledgers, ..Recorder::new(groups.len(), consumers.len(), latency_bucket_s) };
        rec.burrow = crate::record::burrow::Settings {
            intervals: plan.burrow.intervals as usize,
            min_distance_ms: plan.burrow.min_distance.as_nanos() / 1_000_000,
            allowed_lag: plan.burrow.allowed_lag,
        };
        if let Some(cl) = &cluster {
            cl.start_record(&mut rec);
        }
        let mut w = World {
            cluster,
            kernel: Kernel::new(),
            broker,
            plan,
            consumers,
            groups,
            rec,
            feed: Feed::new(Source::Inline(Box::new(generator)), delay, nproducers),
            producer_thread: crate::kafka::producer::feed::thread_per_run(1),
            net: Network::new(delay),
            end,
            next_sample: SimTime::ZERO,
            check_invariants: cfg!(debug_assertions),
            metric_sink: None,
            sample_rows: Vec::new(),
        };
        w.schedule_start(&first_ticks);
        Ok(w)
    }

    /// The first events: every timeline action, the producers' first ticks' places, Burrow's
    /// first fetch and the first sample, the first retention check, consumers' start times.
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
}

/// The producers' side of `plan` alone, as the world runs it: for timing it apart (`kafkasim
/// bench --producers-only`).
pub fn producers_alone(plan: &Plan) -> Generator {
    let (topics, _) = topics_and_partitions(plan);
    generator(plan, producers(plan, &RngStreams::new(plan.seed)), &topics)
}

fn generator(plan: &Plan, producers: Vec<Producer>, topics: &[TopicMeta]) -> Generator {
    let first_partition = plan.producers.iter().map(|p| topics[p.topic].first_partition).collect();
    Generator::new(producers, first_partition, plan.network_delay.as_nanos(), SimTime::ZERO + plan.duration)
}

/// Every topic and every partition it will ever have: partitions a later add_partitions creates
/// are allocated now (ids stay contiguous) and stay out of every view until they exist.
fn topics_and_partitions(plan: &Plan) -> (Vec<TopicMeta>, Vec<Partition>) {
    let mut topics = Vec::new();
    let mut partitions = Vec::new();
    for (ti, t) in plan.topics.iter().enumerate() {
        topics.push(TopicMeta {
            name: t.name.clone(),
            first_partition: partitions.len() as u32,
            partitions: t.partitions,
            allocated: t.max_partitions,
        });
        let push_fed = plan.groups.iter().any(|g| g.delivery == Delivery::Push && g.topics.contains(&ti));
        let share_fed = plan.groups.iter().any(|g| g.kind == GroupType::Share && g.topics.contains(&ti));
        for p in 0..t.max_partitions {
            partitions.push(Partition {
                topic: ti,
                index: p,
                log: PartitionLog::with_segments(t.segment_bytes, t.segment_ms.as_nanos()),
                waiters: Vec::new(),
                cleared: 0,
                push_fed,
                share_fed,
                batch_starts: Default::default(),
                unreadable: false,
            });
        }
    }
    (topics, partitions)
}

/// The producers, each knowing in advance its rate changes, pauses and added partitions, so the
/// arrivals it draws ahead honour them.
fn producers(plan: &Plan, rngs: &RngStreams) -> Vec<Producer> {
    let mut key_tables = crate::kafka::producer::partitioner::KeyTables::default();
    let mut out = Vec::new();
    for (pi, p) in plan.producers.iter().enumerate() {
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
        out.push(Producer::new(p, plan.topics[p.topic].partitions, changes, parts, rngs, &mut key_tables));
    }
    out
}

impl Groups {
    /// Group `gi`: its consumers, its coordinator by kind, its ledger and the broker's tables
    /// for it (share-partitions, push streams), each over the `n` partitions of the world.
    fn add_group(
        &mut self,
        gi: usize,
        g: &GroupPlan,
        topics: &[TopicMeta],
        n: usize,
        rngs: &RngStreams,
    ) -> Result<(), TooBig> {
        let partitions: Vec<u32> = g
            .topics
            .iter()
            .flat_map(|&t| topics[t].first_partition..topics[t].first_partition + topics[t].allocated)
            .collect();
        let kind = GroupKind::of(g);
        let mut members = Vec::new();
        for c in &g.consumers {
            members.push(self.consumers.len());
            self.consumers.push(consumer(gi, kind, c, topics, rngs));
        }
        let too_big = |what: &str, per: usize| TooBig {
            what: format!("group `{}`'s {what} for {n} partitions", g.id),
            bytes: (n * per) as u64,
        };
        self.pushes.push(match kind {
            GroupKind::Push => Some(
                PushStreams::new(n).map_err(|_| too_big("push streams", PushStreams::dense_bytes_per_partition()))?,
            ),
            GroupKind::Pull | GroupKind::Share | GroupKind::Protocol => None,
        });
        self.shares.push(match kind {
            GroupKind::Share => Some(
                GroupShares::new(n)
                    .map_err(|_| too_big("share-partition table", GroupShares::dense_bytes_per_partition()))?,
            ),
            GroupKind::Pull | GroupKind::Push | GroupKind::Protocol => None,
        });
        let coordinator = match kind {
            GroupKind::Share => Coordinator::Share(Box::new(ShareGroup::new(g.share))),
            GroupKind::Protocol => Coordinator::Protocol(Box::new(
                crate::kafka::coordinator::consumer_group::ProtocolGroup::new(g.consumer_protocol, n)
                    .map_err(|_| too_big("offset and ownership tables", ClassicGroup::dense_bytes_per_partition()))?,
            )),
            GroupKind::Pull | GroupKind::Push => Coordinator::Classic(Box::new(
                ClassicGroup::new(g.protocol, n)
                    .map_err(|_| too_big("offset and ownership tables", ClassicGroup::dense_bytes_per_partition()))?,
            )),
        };
        self.ledgers.push(Ledger::new(n).map_err(|_| too_big("ledger", Ledger::dense_bytes_per_partition()))?);
        self.groups.push(Group { id: g.id.clone(), partitions, consumers: members, removed: false, kind, coordinator });
        Ok(())
    }
}

/// A consumer of group `gi`, not started yet, with the membership its group's kind gives it.
/// Its random streams are keyed by its name (processing, member ids, share outcomes apart).
fn consumer(gi: usize, kind: GroupKind, c: &ConsumerPlan, topics: &[TopicMeta], rngs: &RngStreams) -> Consumer {
    let membership = match kind {
        GroupKind::Pull => Membership::Pull(ClassicMember::default()),
        GroupKind::Protocol => Membership::Protocol(Box::default()),
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
    Consumer {
        name: c.name.clone(),
        group: gi,
        config: c.config.clone(),
        group_instance_id: c.group_instance_id.clone(),
        state: RunState::Stopped,
        incarnation: 0,
        phase: Phase::Idle,
        owned: Vec::new(),
        in_range_at: None,
        quiet_since: None,
        fetch_marks: Default::default(),
        all_fetched: false,
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
        commits: Default::default(),
    }
}
