//! The serde mirror of a scenario file: every field as written, optional where the file may omit
//! it. Unknown fields are errors (with line and column), so a typo never silently means a default.

use super::units::{Duration, MsDuration, Rate, parse_duration};
use serde::{Deserialize, Deserializer, de};
use serde_yaml::Value;

mod cluster;
mod forms;

pub use cluster::{RawBrokerTarget, RawIsolateBroker, RawSlowBroker};
pub use forms::RawHang;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    #[serde(deserialize_with = "name")]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub seed: Option<u64>,
    pub duration: Duration,
    #[serde(default)]
    pub sample_interval: Option<Duration>,
    /// How much of the sampled series metrics.csv holds: `auto`, `every_sample`, `gzip`.
    #[serde(default)]
    pub metrics: Option<String>,
    #[serde(default)]
    pub network_delay: Option<Duration>,
    #[serde(default)]
    pub log_retention_check_interval_ms: Option<MsDuration>,
    #[serde(default)]
    pub log_initial_task_delay_ms: Option<MsDuration>,
    /// How LinkedIn's Burrow judges lag status (its settings by its names).
    #[serde(default)]
    pub burrow: Option<RawBurrow>,
    /// The brokers (issue 24): how many, and their settings by Kafka's names.
    #[serde(default)]
    pub brokers: Option<u32>,
    #[serde(default)]
    pub broker_heartbeat_interval_ms: Option<MsDuration>,
    #[serde(default)]
    pub broker_session_timeout_ms: Option<MsDuration>,
    #[serde(default)]
    pub replica_lag_time_max_ms: Option<MsDuration>,
    #[serde(default)]
    pub replica_fetch_wait_max_ms: Option<MsDuration>,
    #[serde(default)]
    pub replica_fetch_max_bytes: Option<i64>,
    #[serde(default)]
    pub unclean_leader_election_enable: Option<bool>,
    #[serde(default)]
    pub min_insync_replicas: Option<u32>,
    #[serde(default)]
    pub default_replication_factor: Option<u32>,
    #[serde(default)]
    pub offsets_topic_num_partitions: Option<u32>,
    #[serde(default)]
    pub offsets_topic_replication_factor: Option<u32>,
    #[serde(default)]
    pub controller_quorum_append_linger_ms: Option<MsDuration>,
    pub topics: Vec<RawTopic>,
    #[serde(default)]
    pub producers: Vec<RawProducer>,
    #[serde(default)]
    pub groups: Vec<RawGroup>,
    #[serde(default)]
    pub timeline: Vec<RawAction>,
    /// What the run must show (`kafkasim check`); parsed in `expect.rs`.
    #[serde(default)]
    pub expect: Vec<serde_yaml::Mapping>,
}

/// Burrow's settings: the cluster's `offset-refresh`, the storage's `intervals` and
/// `min-distance`, the evaluator's `allowed-lag`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBurrow {
    #[serde(default)]
    pub offset_refresh: Option<Duration>,
    #[serde(default)]
    pub intervals: Option<u32>,
    #[serde(default)]
    pub min_distance: Option<Duration>,
    #[serde(default)]
    pub allowed_lag: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopic {
    #[serde(deserialize_with = "name")]
    pub name: String,
    pub partitions: u32,
    #[serde(default)]
    pub retention_ms: Option<MsDuration>,
    #[serde(default)]
    pub retention_bytes: Option<i64>,
    #[serde(default)]
    pub segment_ms: Option<MsDuration>,
    #[serde(default)]
    pub segment_bytes: Option<u64>,
    #[serde(default)]
    pub replication_factor: Option<u32>,
    #[serde(default)]
    pub min_insync_replicas: Option<u32>,
    #[serde(default)]
    pub unclean_leader_election_enable: Option<bool>,
    /// One broker list per partition the topic starts with (the first broker is the preferred leader).
    #[serde(default)]
    pub replicas: Option<Vec<Vec<u32>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProducer {
    #[serde(deserialize_with = "name")]
    pub name: String,
    #[serde(deserialize_with = "name")]
    pub topic: String,
    pub rate: Rate,
    #[serde(default)]
    pub arrival: Option<Arrival>,
    #[serde(default)]
    pub keys: Option<Keys>,
    #[serde(default)]
    pub partitioner: Option<PartitionerKind>,
    #[serde(default)]
    pub linger_ms: Option<MsDuration>,
    #[serde(default)]
    pub batch_size: Option<u64>,
    #[serde(default)]
    pub record_size: Option<u64>,
    #[serde(default)]
    pub acks: Option<crate::scenario::cluster::Acks>,
    #[serde(default)]
    pub enable_idempotence: Option<bool>,
    #[serde(default)]
    pub retries: Option<i64>,
    #[serde(default)]
    pub delivery_timeout_ms: Option<MsDuration>,
    #[serde(default)]
    pub request_timeout_ms: Option<MsDuration>,
    #[serde(default)]
    pub max_in_flight_requests_per_connection: Option<u32>,
    #[serde(default)]
    pub retry_backoff_ms: Option<MsDuration>,
    #[serde(default)]
    pub retry_backoff_max_ms: Option<MsDuration>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrival {
    Constant,
    Poisson,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionerKind {
    Default,
    RoundRobin,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitMode {
    Auto,
    AfterProcessing,
    BeforeProcessing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OffsetReset {
    Earliest,
    Latest,
    /// No reset: the consumer stops with an error (Kafka's NoOffsetForPartitionException /
    /// OffsetOutOfRangeException).
    None,
}

/// Which records carry a key, and how keys are drawn.
#[derive(Clone, Debug, PartialEq)]
pub enum Keys {
    None,
    Uniform(u64),
    Zipf { n: u64, s: f64 },
}

/// Time to process one record.
#[derive(Clone, Debug, PartialEq)]
pub enum Processing {
    Constant(crate::sim::SimDuration),
    Exponential(crate::sim::SimDuration),
    Uniform(crate::sim::SimDuration, crate::sim::SimDuration),
    LogNormal { median: crate::sim::SimDuration, sigma: f64 },
}

/// Consumer settings that a group sets for all its consumers and a consumer may override.
macro_rules! consumer_settings {
    ($(#[$m:meta])* pub struct $name:ident { $($extra:tt)* }) => {
        $(#[$m])*
        #[derive(Clone, Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($extra)*
            #[serde(default)]
            pub poll_interval: Option<Duration>,
            #[serde(default)]
            pub max_poll_records: Option<u32>,
            #[serde(default)]
            pub fetch_max_wait_ms: Option<MsDuration>,
            #[serde(default)]
            pub processing: Option<Processing>,
            #[serde(default)]
            pub commit: Option<CommitMode>,
            #[serde(default)]
            pub auto_commit_interval_ms: Option<MsDuration>,
            #[serde(default)]
            pub auto_offset_reset: Option<OffsetReset>,
            #[serde(default)]
            pub session_timeout_ms: Option<MsDuration>,
            #[serde(default)]
            pub heartbeat_interval_ms: Option<MsDuration>,
            #[serde(default)]
            pub max_poll_interval_ms: Option<MsDuration>,
            #[serde(default)]
            pub share_acquire_mode: Option<ShareAcquireMode>,
            #[serde(default)]
            pub share_acknowledgement_mode: Option<ShareAcknowledgementMode>,
            #[serde(default)]
            pub outcome: Option<RawOutcome>,
            #[serde(default)]
            pub poison: Option<RawPoison>,
        }
    };
}

consumer_settings! {
    pub struct RawGroup {
        #[serde(deserialize_with = "name")]
        pub id: String,
        pub topics: Vec<String>,
        pub consumers: RawConsumers,
        #[serde(default)]
        pub protocol: Option<RebalanceProtocol>,
        #[serde(default)]
        pub assignor: Option<String>,
        #[serde(default)]
        pub group_initial_rebalance_delay_ms: Option<MsDuration>,
        #[serde(default)]
        pub delivery: Option<Delivery>,
        #[serde(default)]
        pub push_buffer: Option<u64>,
        #[serde(default)]
        pub push_overflow: Option<PushOverflow>,
        #[serde(default)]
        pub push_batch_max: Option<u32>,
        /// `consumer` (a classic consumer group) or `share` (a KIP-932 share group).
        #[serde(default, rename = "type")]
        pub kind: Option<GroupType>,
        #[serde(default)]
        pub share_record_lock_duration_ms: Option<MsDuration>,
        #[serde(default)]
        pub share_delivery_count_limit: Option<u32>,
        #[serde(default)]
        pub share_partition_max_record_locks: Option<u64>,
        #[serde(default)]
        pub share_auto_offset_reset: Option<ShareOffsetReset>,
        #[serde(default)]
        pub share_heartbeat_interval_ms: Option<MsDuration>,
        #[serde(default)]
        pub share_session_timeout_ms: Option<MsDuration>,
        #[serde(default)]
        pub share_assignment_interval_ms: Option<MsDuration>,
        /// `group.remote.assignor` (protocol: consumer only).
        #[serde(default)]
        pub remote_assignor: Option<ServerAssignorKind>,
        #[serde(default)]
        pub group_consumer_heartbeat_interval_ms: Option<MsDuration>,
        #[serde(default)]
        pub group_consumer_session_timeout_ms: Option<MsDuration>,
        #[serde(default)]
        pub group_consumer_min_heartbeat_interval_ms: Option<MsDuration>,
        #[serde(default)]
        pub group_consumer_max_heartbeat_interval_ms: Option<MsDuration>,
        #[serde(default)]
        pub group_consumer_min_session_timeout_ms: Option<MsDuration>,
        #[serde(default)]
        pub group_consumer_max_session_timeout_ms: Option<MsDuration>,
        /// `group.consumer.assignment.interval.ms` (KIP-1263, Kafka 4.3+).
        #[serde(default)]
        pub group_consumer_assignment_interval_ms: Option<MsDuration>,
        /// The Kafka version whose consumer-protocol behaviour the group follows ("4.0" .. "4.4";
        /// `4.4` written as a number is read as the text "4.4").
        #[serde(default, deserialize_with = "version_text")]
        pub kafka_version: Option<String>,
    }
}

/// The consumer protocol's server-side assignors (`group.consumer.assignors`: uniform, range).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerAssignorKind {
    Uniform,
    Range,
}

impl<'de> Deserialize<'de> for ServerAssignorKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_value(d, |v| match v.as_str() {
            Some("uniform") => Ok(ServerAssignorKind::Uniform),
            Some("range") => Ok(ServerAssignorKind::Range),
            _ => Err(format!(
                "unknown remote_assignor `{}`; allowed: uniform, range (Kafka's group.consumer.assignors; default uniform)",
                show(v)
            )),
        })
    }
}

impl ServerAssignorKind {
    pub fn name(self) -> &'static str {
        match self {
            ServerAssignorKind::Uniform => "uniform",
            ServerAssignorKind::Range => "range",
        }
    }
}

/// What kind of group: Kafka's classic consumer group, or a share group (KIP-932).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupType {
    Consumer,
    Share,
}

/// `share.auto.offset.reset`: where a share group starts reading a partition it has no state for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareOffsetReset {
    Earliest,
    Latest,
}

/// `share.acquire.mode` (KIP-1206).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareAcquireMode {
    BatchOptimized,
    RecordLimit,
}

/// `share.acknowledgement.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareAcknowledgementMode {
    Implicit,
    Explicit,
}

/// Per-record probabilities that the application releases or rejects a record it was given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutcome {
    #[serde(default)]
    pub release: f64,
    #[serde(default)]
    pub reject: f64,
}

/// Records the application always fails (and releases).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPoison {
    pub topic: String,
    pub partition: u32,
    pub offsets: Vec<u64>,
}

consumer_settings! {
    pub struct RawConsumer {
        #[serde(deserialize_with = "name")]
        pub name: String,
        #[serde(default)]
        pub start_at: Option<Duration>,
        #[serde(default)]
        pub group_instance_id: Option<String>,
        #[serde(default)]
        pub consumer_memory: Option<u64>,
    }
}

/// How records reach consumers: Kafka's pull, or a broker that pushes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Pull,
    Push,
}

/// What a pushing broker does when a consumer's buffer is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushOverflow {
    Drop,
    Block,
    Unbounded,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RebalanceProtocol {
    Eager,
    Cooperative,
    /// Kafka 4's consumer rebalance protocol (KIP-848, `group.protocol=consumer`): the
    /// coordinator computes the assignment and each member reconciles on its own heartbeat.
    Consumer,
}

impl RebalanceProtocol {
    /// The name the scenario file and the outputs use.
    pub fn name(self) -> &'static str {
        match self {
            RebalanceProtocol::Eager => "eager",
            RebalanceProtocol::Cooperative => "cooperative",
            RebalanceProtocol::Consumer => "consumer",
        }
    }
}

/// `consumers: 3` or a list of consumer entries.
#[derive(Clone, Debug)]
pub enum RawConsumers {
    Count(u32),
    List(Vec<RawConsumer>),
}

impl Default for RawConsumers {
    fn default() -> Self {
        RawConsumers::Count(0)
    }
}

impl<'de> Deserialize<'de> for RawConsumers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        match v {
            Value::Number(n) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(RawConsumers::Count)
                .ok_or_else(|| de::Error::custom("`consumers` must be a whole number or a list of consumers")),
            Value::Sequence(_) => serde_yaml::from_value::<Vec<RawConsumer>>(v)
                .map(RawConsumers::List)
                .map_err(|e| de::Error::custom(format!("in `consumers`: {e}"))),
            _ => Err(de::Error::custom("`consumers` must be a count (e.g. 3) or a list of entries like `- name: c1`")),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAction {
    pub at: Duration,
    #[serde(default)]
    pub crash: Option<String>,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub stop: Option<String>,
    #[serde(default)]
    pub hang: Option<RawHang>,
    #[serde(default)]
    pub slow: Option<RawSlow>,
    #[serde(default)]
    pub rate: Option<RawRateChange>,
    #[serde(default)]
    pub seek: Option<RawSeek>,
    #[serde(default)]
    pub reset_offsets: Option<RawResetOffsets>,
    #[serde(default)]
    pub pause: Option<RawPauseTarget>,
    #[serde(default)]
    pub resume: Option<RawPauseTarget>,
    #[serde(default)]
    pub add_group: Option<RawGroup>,
    #[serde(default)]
    pub remove_group: Option<String>,
    #[serde(default)]
    pub add_consumer: Option<RawAddConsumer>,
    #[serde(default)]
    pub add_partitions: Option<RawAddPartitions>,
    #[serde(default)]
    pub crash_broker: Option<RawBrokerTarget>,
    #[serde(default)]
    pub stop_broker: Option<RawBrokerTarget>,
    #[serde(default)]
    pub start_broker: Option<RawBrokerTarget>,
    #[serde(default)]
    pub isolate_broker: Option<RawIsolateBroker>,
    #[serde(default)]
    pub slow_broker: Option<RawSlowBroker>,
}

consumer_settings! {
    pub struct RawAddConsumer {
        #[serde(deserialize_with = "name")]
        pub group: String,
        #[serde(deserialize_with = "name")]
        pub name: String,
        #[serde(default)]
        pub group_instance_id: Option<String>,
        #[serde(default)]
        pub consumer_memory: Option<u64>,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSeek {
    pub consumer: String,
    pub topic: String,
    #[serde(default)]
    pub partition: Option<u32>,
    pub to: OffsetTarget,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResetOffsets {
    pub group: String,
    pub topic: String,
    pub to: OffsetTarget,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAddPartitions {
    pub topic: String,
    /// The new total partition count (as `kafka-topics.sh --alter --partitions`).
    pub count: u32,
}

/// `pause: c1`, `pause: {consumer: c1}` or `pause: {producer: web}`.
#[derive(Clone, Debug, PartialEq)]
pub enum RawPauseTarget {
    Consumer(String),
    Producer(String),
}

impl<'de> Deserialize<'de> for RawPauseTarget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        if let Value::String(s) = &v {
            return Ok(RawPauseTarget::Consumer(s.clone()));
        }
        let (k, val) = single_key(&v, "pause/resume", "CONSUMER | {consumer: NAME} | {producer: NAME}")
            .map_err(de::Error::custom)?;
        let name = val.as_str().ok_or_else(|| de::Error::custom("pause/resume: the name must be a string"))?;
        match k.as_str() {
            "consumer" => Ok(RawPauseTarget::Consumer(name.to_string())),
            "producer" => Ok(RawPauseTarget::Producer(name.to_string())),
            other => {
                Err(de::Error::custom(format!("pause/resume: `{other}` is not allowed; use consumer or producer")))
            }
        }
    }
}

/// Where a seek or an offset reset goes (KafkaConsumer.seek*, kafka-consumer-groups --reset-offsets).
#[derive(Clone, Debug, PartialEq)]
pub enum OffsetTarget {
    Earliest,
    Latest,
    Offset(u64),
    /// The first record created at or after this virtual time (offsetsForTimes).
    Timestamp(crate::sim::SimDuration),
    /// Relative to the current position (seek) or committed offset (reset).
    Shift(i64),
}

const TARGET_FORMS: &str = "earliest | latest | <offset> | {timestamp: 30s} | {shift: -1000}";

impl<'de> Deserialize<'de> for OffsetTarget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_value(d, parse_target)
    }
}

fn parse_target(v: &Value) -> Result<OffsetTarget, String> {
    match v {
        Value::String(s) if s == "earliest" => return Ok(OffsetTarget::Earliest),
        Value::String(s) if s == "latest" => return Ok(OffsetTarget::Latest),
        Value::Number(n) => {
            return n.as_u64().map(OffsetTarget::Offset).ok_or_else(|| {
                format!("`to: {n}`: an offset is a whole number >= 0; for a relative move use {{shift: N}}")
            });
        }
        _ => {}
    }
    let (k, val) = single_key(v, "to", TARGET_FORMS)?;
    match k.as_str() {
        "timestamp" => value_duration(&val, "to.timestamp").map(OffsetTarget::Timestamp),
        "shift" => val
            .as_i64()
            .map(OffsetTarget::Shift)
            .ok_or_else(|| "to.shift must be a whole number, e.g. -1000".to_string()),
        other => Err(format!("to: unknown form `{other}`; expected one of {TARGET_FORMS}")),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlow {
    pub consumer: String,
    pub factor: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateChange {
    pub producer: String,
    pub rate: Rate,
}

/// A name (scenario, topic, producer, group, consumer): text only. Without this, `name: null`
/// would become the text "null" and `name: 7` the text "7".
fn name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct V;
    impl<'de> de::Visitor<'de> for V {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a name (text)")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_unit<E: de::Error>(self) -> Result<String, E> {
            Err(E::custom("a name is required here, found null; write the name (quote it if it is `null`)"))
        }
        fn visit_none<E: de::Error>(self) -> Result<String, E> {
            self.visit_unit()
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
            Err(E::custom(format!("a name must be text, found `{v}`; quote it: \"{v}\"")))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Err(E::custom(format!("a name must be text, found the number {v}; quote it: \"{v}\"")))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Err(E::custom(format!("a name must be text, found the number {v}; quote it: \"{v}\"")))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
            Err(E::custom(format!("a name must be text, found the number {v}; quote it: \"{v}\"")))
        }
    }
    d.deserialize_any(V)
}

/// A version as text: `"4.4"` or the number `4.4` (YAML reads an unquoted 4.0 as the number 4, so a
/// whole number gets its `.0` back). Checked against the known versions by validation.
fn version_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    via_value(d, |v| match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => match n.as_f64() {
            Some(x) if x.fract() == 0.0 => Ok(Some(format!("{x:.1}"))),
            Some(x) => Ok(Some(format!("{x}"))),
            None => Err(format!("expected a Kafka version such as \"4.4\", found {n}")),
        },
        other => Err(format!("expected a Kafka version such as \"4.4\", found {}", show(other))),
    })
}

/// Deserializes any YAML value and interprets it with `parse` *inside* the visitor, so that a
/// mistake is reported at the value's own line and column with its field path.
fn via_value<'de, D: Deserializer<'de>, T>(d: D, parse: fn(&Value) -> Result<T, String>) -> Result<T, D::Error> {
    struct V<T>(fn(&Value) -> Result<T, String>);
    impl<'de, T> de::Visitor<'de> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a value")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
            (self.0)(&Value::Bool(v)).map_err(E::custom)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            (self.0)(&Value::Number(v.into())).map_err(E::custom)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            (self.0)(&Value::Number(v.into())).map_err(E::custom)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            (self.0)(&Value::Number(v.into())).map_err(E::custom)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            (self.0)(&Value::String(v.to_string())).map_err(E::custom)
        }
        fn visit_unit<E: de::Error>(self) -> Result<T, E> {
            (self.0)(&Value::Null).map_err(E::custom)
        }
        fn visit_none<E: de::Error>(self) -> Result<T, E> {
            (self.0)(&Value::Null).map_err(E::custom)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
            let mut items = Vec::new();
            while let Some(v) = seq.next_element::<Value>()? {
                items.push(v);
            }
            (self.0)(&Value::Sequence(items)).map_err(de::Error::custom)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
            let mut m = serde_yaml::Mapping::new();
            while let Some((k, v)) = map.next_entry::<Value, Value>()? {
                m.insert(k, v);
            }
            (self.0)(&Value::Mapping(m)).map_err(de::Error::custom)
        }
    }
    d.deserialize_any(V(parse))
}

fn single_key(v: &Value, what: &str, forms: &str) -> Result<(String, Value), String> {
    match v {
        Value::Mapping(m) if m.len() == 1 => {
            let (k, val) = m.iter().next().expect("len 1");
            let k = k.as_str().ok_or_else(|| format!("{what}: expected one of {forms}"))?;
            Ok((k.to_string(), val.clone()))
        }
        _ => Err(format!("{what}: expected one of {forms}")),
    }
}

/// A duration; `what` names the part of the field it is (empty: the field itself, which the
/// error's location already names).
fn value_duration(v: &Value, what: &str) -> Result<crate::sim::SimDuration, String> {
    let named = |e: String| if what.is_empty() { e } else { format!("{what}: {e}") };
    match v {
        Value::String(s) => parse_duration(s).map_err(named),
        other => Err(named(format!("expected a duration with a unit such as 0.4ms, found {}", show(other)))),
    }
}

fn show(v: &Value) -> String {
    serde_yaml::to_string(v).map(|s| s.trim().to_string()).unwrap_or_else(|_| "?".into())
}
