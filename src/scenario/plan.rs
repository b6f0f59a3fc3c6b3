//! The checked plan a run executes: every default filled in, every name resolved to an index.
//! Nothing here can be invalid; `validate` is the only way to build one.

pub use super::cluster::{Acks, BrokerRef, ClusterPlan, ProducerDelivery, TopicReplication};
pub use super::raw::{
    Arrival, CommitMode, Delivery, GroupType, Keys, OffsetReset, OffsetTarget, PartitionerKind, Processing,
    PushOverflow, RebalanceProtocol, ServerAssignorKind, ShareAcknowledgementMode, ShareAcquireMode, ShareOffsetReset,
};
use crate::sim::SimDuration;

#[derive(Clone, Debug)]
pub struct Plan {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub duration: SimDuration,
    pub sample_interval: SimDuration,
    /// What metrics.csv holds (`metrics:`).
    pub metrics: MetricsFile,
    pub network_delay: SimDuration,
    /// The broker's log.retention.check.interval.ms.
    pub retention_check_interval: SimDuration,
    /// The broker's log.initial.task.delay.ms: when the first retention check runs.
    pub initial_task_delay: SimDuration,
    /// How Burrow judges lag status.
    pub burrow: BurrowPlan,
    /// The brokers and their settings (`brokers:`; one broker by default).
    pub cluster: ClusterPlan,
    pub topics: Vec<TopicPlan>,
    pub producers: Vec<ProducerPlan>,
    pub groups: Vec<GroupPlan>,
    /// Sorted by time; equal times keep file order.
    pub timeline: Vec<TimedAction>,
    /// The scenario's YAML text, shown on the report page.
    pub source: String,
    /// The seed the file gives (`seed` may be overridden by `--seed`).
    pub file_seed: u64,
    /// What the run must show, in file order.
    pub expect: Vec<super::expect::Expectation>,
}

/// Burrow's settings (`burrow:` in a scenario), its defaults unless set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BurrowPlan {
    /// The cluster's `offset-refresh`: how often Burrow fetches every partition's log end
    /// (whole seconds; first at the start).
    pub offset_refresh: SimDuration,
    /// The storage's `intervals`: broker offsets and commits kept per partition.
    pub intervals: u32,
    /// The storage's `min-distance`: a commit closer than this to the newest stored one replaces it.
    pub min_distance: SimDuration,
    /// The evaluator's `allowed-lag`: lag at or below this counts as none.
    pub allowed_lag: u64,
}

impl Default for BurrowPlan {
    fn default() -> Self {
        BurrowPlan {
            offset_refresh: defaults::BURROW_OFFSET_REFRESH,
            intervals: defaults::BURROW_INTERVALS,
            min_distance: defaults::BURROW_MIN_DISTANCE,
            allowed_lag: 0,
        }
    }
}

/// The four classic-protocol assignors Kafka's consumer ships with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignorKind {
    Range,
    RoundRobin,
    Sticky,
    CooperativeSticky,
}

impl AssignorKind {
    /// Every kind, in the order Kafka's docs list them.
    pub const ALL: [AssignorKind; 4] =
        [AssignorKind::Range, AssignorKind::RoundRobin, AssignorKind::Sticky, AssignorKind::CooperativeSticky];

    /// The name Kafka's assignor reports, which is also what members vote with in JoinGroup.
    pub fn name(self) -> &'static str {
        match self {
            AssignorKind::Range => "range",
            AssignorKind::RoundRobin => "roundrobin",
            AssignorKind::Sticky => "sticky",
            AssignorKind::CooperativeSticky => "cooperative-sticky",
        }
    }

    /// The inverse of [`AssignorKind::name`]; exact, case-sensitive names only.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == s)
    }

    /// Only cooperative-sticky lists COOPERATIVE among its supported protocols; the rest are EAGER only.
    pub fn supports_cooperative(self) -> bool {
        matches!(self, AssignorKind::CooperativeSticky)
    }
}

#[derive(Clone, Debug)]
pub struct TopicPlan {
    pub name: String,
    pub partitions: u32,
    /// Partitions the topic reaches through `add_partitions` (>= `partitions`).
    pub max_partitions: u32,
    /// retention.ms (None: unlimited, Kafka's -1).
    pub retention: Option<SimDuration>,
    /// retention.bytes per partition (None: unlimited, Kafka's default -1).
    pub retention_bytes: Option<u64>,
    pub segment_ms: SimDuration,
    pub segment_bytes: u64,
    /// replication_factor, min_insync_replicas, unclean_leader_election_enable, replicas.
    pub replication: TopicReplication,
}

#[derive(Clone, Debug)]
pub struct ProducerPlan {
    pub name: String,
    pub topic: usize,
    /// Records per second.
    pub rate: f64,
    pub arrival: Arrival,
    pub keys: Keys,
    pub partitioner: PartitionerKind,
    pub linger: SimDuration,
    pub batch_size: u64,
    pub record_size: u64,
    /// acks, enable_idempotence, retries and the timeouts.
    pub delivery: ProducerDelivery,
}

#[derive(Clone, Debug)]
pub struct GroupPlan {
    pub id: String,
    pub topics: Vec<usize>,
    pub protocol: RebalanceProtocol,
    pub assignor: AssignorKind,
    pub initial_rebalance_delay: SimDuration,
    pub delivery: Delivery,
    pub push: PushConfig,
    /// Set for a group created by a timeline `add_group`.
    pub added_at: Option<SimDuration>,
    /// Indices into `Plan::consumers()` order: consumers are numbered across all groups.
    pub consumers: Vec<ConsumerPlan>,
    pub kind: GroupType,
    /// A share group's settings (Kafka's defaults for a consumer group, which ignores them).
    pub share: SharePlan,
    /// The consumer protocol's settings (KIP-848; defaults for a classic group, which ignores them).
    pub consumer_protocol: ConsumerProtocolPlan,
}

impl GroupPlan {
    /// The setting whose session ends a silent member: the consumer's `session_timeout_ms` in a
    /// classic group, the group's `group_consumer_session_timeout_ms` on the consumer protocol
    /// (the broker's group.consumer.session.timeout.ms; KIP-848 refuses the consumer's), and
    /// `share_session_timeout_ms` in a share group.
    pub fn session_setting(&self) -> &'static str {
        match (self.kind, self.protocol) {
            (GroupType::Share, _) => "share_session_timeout_ms",
            (_, RebalanceProtocol::Consumer) => "group_consumer_session_timeout_ms",
            _ => "session_timeout_ms",
        }
    }
}

/// The Kafka versions whose consumer-protocol behaviour differs (../shared/consumer-protocol.md §0,
/// branch heads). Later versions compare greater.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum KafkaVersion {
    V4_0,
    V4_1,
    V4_2,
    V4_3,
    V4_4,
}

impl KafkaVersion {
    pub const ALL: [KafkaVersion; 5] =
        [KafkaVersion::V4_0, KafkaVersion::V4_1, KafkaVersion::V4_2, KafkaVersion::V4_3, KafkaVersion::V4_4];
    /// The newest the fact sheet covers: the default.
    pub const NEWEST: KafkaVersion = KafkaVersion::V4_4;

    pub fn name(self) -> &'static str {
        match self {
            KafkaVersion::V4_0 => "4.0",
            KafkaVersion::V4_1 => "4.1",
            KafkaVersion::V4_2 => "4.2",
            KafkaVersion::V4_3 => "4.3",
            KafkaVersion::V4_4 => "4.4",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == s)
    }

    /// KAFKA-19974 (4.2): leaving UNREVOKED_PARTITIONS no longer bumps the member epoch by one.
    pub fn bumps_epoch_after_unrevoked(self) -> bool {
        self < KafkaVersion::V4_2
    }

    /// KAFKA-19233 (4.2): a heartbeat at epoch 0 from a member id the group still holds is accepted.
    pub fn accepts_epoch_zero_rejoin(self) -> bool {
        self >= KafkaVersion::V4_2
    }

    /// KAFKA-20332 (4.2 branch head): a reconciliation that revokes waits for the application's
    /// poll even without auto-commit.
    pub fn gates_revocation_on_poll(self) -> bool {
        self >= KafkaVersion::V4_2
    }

    /// KAFKA-20106 (4.3): the new assignment is applied on the application thread, so the
    /// acknowledgement waits for its next turn.
    pub fn applies_assignment_on_app_thread(self) -> bool {
        self >= KafkaVersion::V4_3
    }

    /// 4.4: a group emptied by fencing gets its next target at once (assignment timestamp 0).
    pub fn resets_assignment_interval_when_empty(self) -> bool {
        self >= KafkaVersion::V4_4
    }

    /// KIP-1263 (4.3): target assignments are batched (`group.consumer.assignment.interval.ms`).
    pub fn batches_assignments(self) -> bool {
        self >= KafkaVersion::V4_3
    }

    /// KIP-1251 (4.3): an OffsetCommit at an older member epoch is accepted for partitions the
    /// member was assigned at or before that epoch.
    pub fn accepts_older_commit_epochs(self) -> bool {
        self >= KafkaVersion::V4_3
    }
}

/// A consumer-protocol group's settings: the broker's `group.consumer.*` configs that apply to
/// it (as the group-level overrides `consumer.heartbeat.interval.ms` etc. would set them) and the
/// members' `group.remote.assignor`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConsumerProtocolPlan {
    pub remote_assignor: ServerAssignorKind,
    pub heartbeat_interval: SimDuration,
    pub session_timeout: SimDuration,
    /// 4.3+: a target is recomputed at most this often (zero: at every group epoch bump).
    pub assignment_interval: SimDuration,
    pub version: KafkaVersion,
}

impl Default for ConsumerProtocolPlan {
    fn default() -> Self {
        ConsumerProtocolPlan {
            remote_assignor: ServerAssignorKind::Uniform,
            heartbeat_interval: defaults::CONSUMER_HEARTBEAT_INTERVAL,
            session_timeout: defaults::CONSUMER_SESSION_TIMEOUT,
            assignment_interval: defaults::CONSUMER_ASSIGNMENT_INTERVAL,
            version: KafkaVersion::NEWEST,
        }
    }
}

/// A share group's group configs (KIP-932, Kafka 4.3 names without the `group.` prefix).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SharePlan {
    pub lock: SimDuration,
    pub delivery_limit: u8,
    /// share.partition.max.record.locks: the most a window SPSO..SPEO may span.
    pub window_limit: u64,
    pub auto_offset_reset: ShareOffsetReset,
    pub heartbeat_interval: SimDuration,
    pub session_timeout: SimDuration,
    pub assignment_interval: SimDuration,
}

impl Default for SharePlan {
    fn default() -> Self {
        SharePlan {
            lock: defaults::SHARE_LOCK,
            delivery_limit: defaults::SHARE_DELIVERY_LIMIT,
            window_limit: defaults::SHARE_WINDOW,
            auto_offset_reset: ShareOffsetReset::Latest,
            heartbeat_interval: defaults::SHARE_HEARTBEAT_INTERVAL,
            session_timeout: defaults::SHARE_SESSION_TIMEOUT,
            assignment_interval: defaults::SHARE_ASSIGNMENT_INTERVAL,
        }
    }
}

/// What the application does with a record a share consumer was given.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Probability of acknowledging it RELEASE (give it back for another try).
    pub release: f64,
    /// Probability of acknowledging it REJECT (archive it: never delivered again).
    pub reject: f64,
}

#[derive(Clone, Debug)]
pub struct ConsumerPlan {
    pub name: String,
    /// When the consumer first starts; None = only a timeline `start` starts it.
    pub start_at: Option<SimDuration>,
    pub group_instance_id: Option<String>,
    /// Push with `unbounded` overflow: the consumer dies (out of memory) past this many buffered bytes.
    pub consumer_memory: Option<u64>,
    pub config: ConsumerConfig,
    /// Share groups: records this consumer's application always fails and releases, as
    /// (topic, partition, sorted offsets).
    pub poison: Option<(usize, u32, Vec<u64>)>,
}

/// Push delivery settings of a group (ignored when it pulls).
#[derive(Clone, Copy, Debug)]
pub struct PushConfig {
    /// Records a consumer's buffer holds.
    pub buffer: u64,
    pub overflow: PushOverflow,
    /// Records per push message at most.
    pub batch_max: u32,
}

/// One consumer's settings, Kafka's names and defaults.
#[derive(Clone, Debug)]
pub struct ConsumerConfig {
    pub poll_interval: SimDuration,
    pub max_poll_records: u32,
    pub fetch_max_wait: SimDuration,
    pub processing: Processing,
    pub commit: CommitMode,
    pub auto_commit_interval: SimDuration,
    pub auto_offset_reset: OffsetReset,
    pub session_timeout: SimDuration,
    pub heartbeat_interval: SimDuration,
    pub max_poll_interval: SimDuration,
    pub share_acquire_mode: ShareAcquireMode,
    pub share_acknowledgement_mode: ShareAcknowledgementMode,
    pub outcome: Outcome,
}

/// Kafka's defaults (ConsumerConfig / GroupCoordinatorConfig, Kafka 4.x).
pub mod defaults {
    use crate::sim::SimDuration;
    pub const SAMPLE_INTERVAL: SimDuration = SimDuration(100_000_000);
    pub const POLL_INTERVAL: SimDuration = SimDuration(0);
    pub const MAX_POLL_RECORDS: u32 = 500;
    pub const FETCH_MAX_WAIT: SimDuration = SimDuration(500_000_000);
    pub const AUTO_COMMIT_INTERVAL: SimDuration = SimDuration(5_000_000_000);
    pub const SESSION_TIMEOUT: SimDuration = SimDuration(45_000_000_000);
    pub const HEARTBEAT_INTERVAL: SimDuration = SimDuration(3_000_000_000);
    pub const MAX_POLL_INTERVAL: SimDuration = SimDuration(300_000_000_000);
    pub const PUSH_BUFFER: u64 = 1000;
    pub const RETENTION: SimDuration = SimDuration(7 * 24 * 3_600_000_000_000);
    pub const SEGMENT_MS: SimDuration = SimDuration(7 * 24 * 3_600_000_000_000);
    pub const SEGMENT_BYTES: u64 = 1 << 30;
    pub const RETENTION_CHECK_INTERVAL: SimDuration = SimDuration(300_000_000_000);
    /// log.initial.task.delay.ms (ServerLogConfigs.LOG_INITIAL_TASK_DELAY_MS_DEFAULT).
    pub const INITIAL_TASK_DELAY: SimDuration = SimDuration(30_000_000_000);
    pub const PUSH_BATCH_MAX: u32 = 500;
    pub const INITIAL_REBALANCE_DELAY: SimDuration = SimDuration(3_000_000_000);
    pub const LINGER: SimDuration = SimDuration(5_000_000);
    pub const BATCH_SIZE: u64 = 16384;
    pub const RECORD_SIZE: u64 = 100;
    /// The broker's group.min.session.timeout.ms / group.max.session.timeout.ms.
    pub const MIN_SESSION_TIMEOUT: SimDuration = SimDuration(6_000_000_000);
    pub const MAX_SESSION_TIMEOUT: SimDuration = SimDuration(1_800_000_000_000);
    /// Share groups (GroupCoordinatorConfig / ShareGroupConfig, Kafka 4.3).
    pub const SHARE_LOCK: SimDuration = SimDuration(30_000_000_000);
    pub const SHARE_DELIVERY_LIMIT: u8 = 5;
    pub const SHARE_WINDOW: u64 = 2000;
    pub const SHARE_HEARTBEAT_INTERVAL: SimDuration = SimDuration(5_000_000_000);
    pub const SHARE_SESSION_TIMEOUT: SimDuration = SimDuration(45_000_000_000);
    pub const SHARE_ASSIGNMENT_INTERVAL: SimDuration = SimDuration(1_000_000_000);
    /// group.consumer.heartbeat.interval.ms and its min/max bounds.
    pub const CONSUMER_HEARTBEAT_INTERVAL: SimDuration = SimDuration(5_000_000_000);
    pub const CONSUMER_MIN_HEARTBEAT_INTERVAL: SimDuration = SimDuration(5_000_000_000);
    pub const CONSUMER_MAX_HEARTBEAT_INTERVAL: SimDuration = SimDuration(15_000_000_000);
    /// group.consumer.session.timeout.ms and its min/max bounds.
    pub const CONSUMER_SESSION_TIMEOUT: SimDuration = SimDuration(45_000_000_000);
    pub const CONSUMER_MIN_SESSION_TIMEOUT: SimDuration = SimDuration(45_000_000_000);
    pub const CONSUMER_MAX_SESSION_TIMEOUT: SimDuration = SimDuration(60_000_000_000);
    /// group.consumer.assignment.interval.ms (4.3+) and its maximum.
    pub const CONSUMER_ASSIGNMENT_INTERVAL: SimDuration = SimDuration(1_000_000_000);
    pub const CONSUMER_MAX_ASSIGNMENT_INTERVAL: SimDuration = SimDuration(15_000_000_000);
    /// Burrow: the cluster's offset-refresh (10 s) and the storage's intervals (10), as in its
    /// code; min-distance 1 s as in its shipped config/burrow.toml (its code's default is 0).
    pub const BURROW_OFFSET_REFRESH: SimDuration = SimDuration(10_000_000_000);
    pub const BURROW_INTERVALS: u32 = 10;
    pub const BURROW_MIN_DISTANCE: SimDuration = SimDuration(1_000_000_000);
}

#[derive(Clone, Debug)]
pub struct TimedAction {
    pub at: SimDuration,
    pub action: Action,
}

/// A consumer is named by (group index, consumer index within the group).
pub type ConsumerRef = (usize, usize);

#[derive(Clone, Debug)]
pub enum Action {
    Crash(ConsumerRef),
    Start(ConsumerRef),
    Stop(ConsumerRef),
    /// The consumer's host freezes (a long GC pause, a network partition): no heartbeats, no
    /// processing, its connections stay open. `None`: until a `start` or `crash`.
    Hang {
        consumer: ConsumerRef,
        for_: Option<SimDuration>,
    },
    Slow {
        consumer: ConsumerRef,
        factor: f64,
    },
    Rate {
        producer: usize,
        rate: f64,
    },
    Seek {
        consumer: ConsumerRef,
        topic: usize,
        partition: Option<u32>,
        to: OffsetTarget,
    },
    ResetOffsets {
        group: usize,
        topic: usize,
        to: OffsetTarget,
    },
    Pause(ConsumerRef),
    Resume(ConsumerRef),
    PauseProducer(usize),
    ResumeProducer(usize),
    /// Logged when the group appears; its consumers start through their `start_at`.
    AddGroup(usize),
    RemoveGroup(usize),
    /// Logged when the consumer is added; it starts through its `start_at`.
    AddConsumer(ConsumerRef),
    AddPartitions {
        topic: usize,
        count: u32,
    },
    /// The broker's process dies: no goodbye, its peers see the connection reset.
    CrashBroker(BrokerRef),
    /// Controlled shutdown (SIGTERM): its leaderships move first, then it exits.
    StopBroker(BrokerRef),
    /// A stopped or crashed broker starts again.
    StartBroker(BrokerRef),
    /// A network partition: the broker runs but nobody reaches it, and it reaches nobody, for `for_`.
    IsolateBroker {
        broker: BrokerRef,
        for_: SimDuration,
    },
    /// As a follower, the broker applies its leaders' records `lag` late (a slow disk or a
    /// saturated link); 0 restores it.
    SlowBroker {
        broker: BrokerRef,
        lag: SimDuration,
    },
}

impl Plan {
    /// The first partition id of topic `t`: ids run across topics in plan order, each topic
    /// taking as many as it will ever have (`max_partitions`).
    pub fn first_partition(&self, t: usize) -> u32 {
        self.topics[..t].iter().map(|x| x.max_partitions).sum()
    }

    /// Every partition id topic `t` will ever have.
    pub fn topic_partition_ids(&self, t: usize) -> std::ops::Range<u32> {
        let first = self.first_partition(t);
        first..first + self.topics[t].max_partitions
    }

    /// Every partition id of the topics group `g` reads, in (topic, partition) order.
    pub fn group_partition_ids(&self, g: usize) -> Vec<u32> {
        self.groups[g].topics.iter().flat_map(|&t| self.topic_partition_ids(t)).collect()
    }

    /// (topic, index within it) of partition id `p`.
    pub fn partition_of(&self, p: u32) -> (usize, u32) {
        let mut first = 0;
        for (t, topic) in self.topics.iter().enumerate() {
            if p < first + topic.max_partitions {
                return (t, p - first);
            }
            first += topic.max_partitions;
        }
        panic!("partition id {p} out of range")
    }

    /// `<topic>-<index>`, as Kafka's tools name a partition.
    pub fn partition_name(&self, p: u32) -> String {
        let (t, i) = self.partition_of(p);
        format!("{}-{i}", self.topics[t].name)
    }

    /// Global consumer indices of group `g`'s consumers.
    pub fn group_consumer_ids(&self, g: usize) -> std::ops::Range<usize> {
        let first: usize = self.groups[..g].iter().map(|x| x.consumers.len()).sum();
        first..first + self.groups[g].consumers.len()
    }

    /// The global index of a consumer named by (group, consumer within it).
    pub fn consumer_id(&self, (g, k): ConsumerRef) -> usize {
        self.group_consumer_ids(g).start + k
    }

    /// The group index of the consumer with global index `c`.
    pub fn group_of(&self, c: usize) -> usize {
        let mut first = 0;
        for (g, group) in self.groups.iter().enumerate() {
            if c < first + group.consumers.len() {
                return g;
            }
            first += group.consumers.len();
        }
        panic!("consumer index {c} out of range")
    }

    /// The plan of the consumer with global index `c` (groups in order, consumers in order).
    pub fn consumer_of(&self, mut c: usize) -> &ConsumerPlan {
        for g in &self.groups {
            if c < g.consumers.len() {
                return &g.consumers[c];
            }
            c -= g.consumers.len();
        }
        panic!("consumer index out of range")
    }

    pub fn consumer(&self, (g, c): ConsumerRef) -> &ConsumerPlan {
        &self.groups[g].consumers[c]
    }
}

/// What metrics.csv holds (`metrics:`): a row per sample per group per partition, either of
/// every sample (`every_sample`; `gzip` writes them compressed, as metrics.csv.gz) or, by default
/// (`auto`), of every sample while the file stays under about 50 MB and of every k-th sample
/// (the smallest k that keeps it there) beyond. Summaries, charts and the page always use every
/// sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MetricsFile {
    #[default]
    Auto,
    EverySample,
    Gzip,
}

impl MetricsFile {
    pub const NAMES: [&str; 3] = ["auto", "every_sample", "gzip"];

    pub fn of(name: &str) -> Option<Self> {
        match name {
            "auto" => Some(MetricsFile::Auto),
            "every_sample" => Some(MetricsFile::EverySample),
            "gzip" => Some(MetricsFile::Gzip),
            _ => None,
        }
    }
}
