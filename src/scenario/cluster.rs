//! The checked plan of the cluster (issue 24): brokers and their settings, each topic's
//! replication, each producer's acks, retries and idempotence, by Kafka's names and defaults
//! (`../shared/replication.md` §1, §2, §3). `validate` builds these; the model reads them.

use crate::sim::SimDuration;

const MS: u64 = 1_000_000;

/// `brokers:` and the broker settings (Kafka's names, dots as underscores).
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterPlan {
    /// Brokers 1..=N (default 1).
    pub brokers: u32,
    /// The scenario wrote `brokers:`: the run writes the cluster's outputs (summary sections,
    /// metrics columns, charts). A scenario without it writes exactly what it wrote before.
    pub declared: bool,
    /// broker.heartbeat.interval.ms (2000): a broker's next heartbeat, after the last response.
    pub broker_heartbeat_interval: SimDuration,
    /// broker.session.timeout.ms (9000): the controller fences a broker silent this long.
    pub broker_session_timeout: SimDuration,
    /// replica.lag.time.max.ms (30000): a follower not caught up this long leaves the ISR
    /// (checked every half of it).
    pub replica_lag_time_max: SimDuration,
    /// replica.fetch.wait.max.ms (500): how long a follower's fetch waits at the leader.
    pub replica_fetch_wait_max: SimDuration,
    /// replica.fetch.max.bytes (1048576): what a catching-up follower copies per fetch.
    pub replica_fetch_max_bytes: u64,
    /// unclean.leader.election.enable (false), the broker default a topic may override.
    pub unclean_leader_election_enable: bool,
    /// min.insync.replicas (1), the broker default a topic may override.
    pub min_insync_replicas: u32,
    /// default.replication.factor (1), for topics that do not set `replication_factor`.
    pub default_replication_factor: u32,
    /// offsets.topic.num.partitions (50): a group's coordinator is the leader of
    /// `__consumer_offsets` partition abs(hash(group.id)) % this.
    pub offsets_topic_num_partitions: u32,
    /// offsets.topic.replication.factor (3; at most the broker count).
    pub offsets_topic_replication_factor: u32,
    /// controller.quorum.append.linger.ms (25): part of how long a controller decision takes
    /// to reach the brokers.
    pub controller_quorum_append_linger: SimDuration,
    /// How long a new group coordinator takes to load its `__consumer_offsets` partition
    /// (the fact sheet's loadMs; default 50 ms).
    pub coordinator_load: SimDuration,
}

impl Default for ClusterPlan {
    fn default() -> Self {
        ClusterPlan {
            brokers: 1,
            declared: false,
            broker_heartbeat_interval: SimDuration(2_000 * MS),
            broker_session_timeout: SimDuration(9_000 * MS),
            replica_lag_time_max: SimDuration(30_000 * MS),
            replica_fetch_wait_max: SimDuration(500 * MS),
            replica_fetch_max_bytes: 1_048_576,
            unclean_leader_election_enable: false,
            min_insync_replicas: 1,
            default_replication_factor: 1,
            offsets_topic_num_partitions: 50,
            offsets_topic_replication_factor: 3,
            controller_quorum_append_linger: SimDuration(25 * MS),
            coordinator_load: SimDuration(50 * MS),
        }
    }
}

/// A topic's replication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicReplication {
    /// replication.factor (default: the cluster's default.replication.factor); at most `brokers`.
    pub factor: u32,
    /// min.insync.replicas (default: the broker's); at most `factor`.
    pub min_insync_replicas: u32,
    /// unclean.leader.election.enable (default: the broker's).
    pub unclean_leader_election_enable: bool,
    /// `replicas:` as written: one broker list per partition (the first is the preferred
    /// leader), for the partitions the topic starts with. None: Kafka's rack-unaware placement.
    pub replicas: Option<Vec<Vec<u32>>>,
}

impl Default for TopicReplication {
    fn default() -> Self {
        TopicReplication { factor: 1, min_insync_replicas: 1, unclean_leader_election_enable: false, replicas: None }
    }
}

/// The producer's `acks`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acks {
    /// acks=0: acknowledged when written to the socket; never retried.
    Zero,
    /// acks=1: acknowledged once the leader appended.
    One,
    /// acks=all (-1, the default): acknowledged once every ISR member has it (the high
    /// watermark passed it), refused while the ISR is below min.insync.replicas.
    All,
}

impl Acks {
    /// As Kafka's config shows it.
    pub fn name(self) -> &'static str {
        match self {
            Acks::Zero => "0",
            Acks::One => "1",
            Acks::All => "all",
        }
    }
}

/// A producer's delivery settings (Kafka's producer configs).
#[derive(Clone, Debug, PartialEq)]
pub struct ProducerDelivery {
    pub acks: Acks,
    /// enable.idempotence: default true, and off when acks is not all (or retries is 0)
    /// unless set explicitly, as Kafka's ProducerConfig does.
    pub enable_idempotence: bool,
    /// retries (default 2147483647).
    pub retries: u32,
    /// delivery.timeout.ms (120000): a record not acknowledged this long after send() is
    /// failed (lost, cause `delivery_timeout`).
    pub delivery_timeout: SimDuration,
    /// request.timeout.ms (30000): a request with no answer (its broker unreachable) fails after this.
    pub request_timeout: SimDuration,
    /// max.in.flight.requests.per.connection (5).
    pub max_in_flight: u32,
    /// retry.backoff.ms (100) and retry.backoff.max.ms (1000).
    pub retry_backoff: SimDuration,
    pub retry_backoff_max: SimDuration,
}

impl Default for ProducerDelivery {
    fn default() -> Self {
        ProducerDelivery {
            acks: Acks::All,
            enable_idempotence: true,
            retries: i32::MAX as u32,
            delivery_timeout: SimDuration(120_000 * MS),
            request_timeout: SimDuration(30_000 * MS),
            max_in_flight: 5,
            retry_backoff: SimDuration(100 * MS),
            retry_backoff_max: SimDuration(1_000 * MS),
        }
    }
}

/// A broker named by a timeline action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokerRef {
    /// Broker 1..=N.
    Id(u32),
    /// `{leader_of: orders-0}`: the broker leading that partition (its global id) when the
    /// action happens.
    LeaderOf(u32),
}
