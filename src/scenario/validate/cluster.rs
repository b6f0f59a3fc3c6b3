//! The cluster (issue 24): `brokers:` and the broker settings at the top level, then each
//! topic's replication. Bounds are Kafka 4.1's (ConfigDef validators and KafkaConfig's
//! `require`s); a few combinations Kafka accepts but no working cluster has are refused too,
//! and their messages say so.

use super::Checker;
use super::bounds::{MAX_BROKERS, MAX_PARTITIONS};
use crate::scenario::cluster::{ClusterPlan, TopicReplication};
use crate::scenario::error::ScenarioError;
use crate::scenario::raw::{RawScenario, RawTopic};
use crate::scenario::units::MsDuration;
use crate::sim::SimDuration;

/// Kafka's INT configs.
const JAVA_INT: u64 = i32::MAX as u64;
/// replica.socket.timeout.ms, which a scenario cannot set: KafkaConfig requires
/// replica.fetch.wait.max.ms to be at most this.
const REPLICA_SOCKET_TIMEOUT_MS: u64 = 30_000;

/// A Kafka `*_ms` setting in whole milliseconds (Kafka's configs are integers of ms), at
/// least `least` and, where Kafka's type is INT, at most a Java int.
pub(super) fn kafka_ms(
    ck: &Checker,
    path: &str,
    set: MsDuration,
    least: u64,
    java_int: bool,
) -> Result<u64, ScenarioError> {
    let d = set.0;
    if !d.as_nanos().is_multiple_of(1_000_000) {
        return Err(
            ck.err(path, format!("{d} is not a whole number of milliseconds; Kafka's setting is an integer of ms"))
        );
    }
    let ms = d.as_millis();
    if ms < least {
        return Err(ck.err(path, format!("{ms} is not allowed; at least {least}")));
    }
    if java_int && ms > JAVA_INT {
        return Err(ck.err(path, format!("{ms} is not allowed; Kafka's setting is an int, at most {JAVA_INT}")));
    }
    Ok(ms)
}

/// A top-level ms setting: as written (checked), else Kafka's default.
fn ms_or(
    ck: &Checker,
    field: &str,
    set: Option<MsDuration>,
    default: SimDuration,
    least: u64,
) -> Result<u64, ScenarioError> {
    set.map_or(Ok(default.as_millis()), |d| kafka_ms(ck, field, d, least, true))
}

/// `brokers:` and the broker settings, checked, defaults filled in.
pub(super) fn check_cluster(ck: &Checker, raw: &RawScenario) -> Result<ClusterPlan, ScenarioError> {
    let d = ClusterPlan::default();
    let brokers = raw.brokers.unwrap_or(d.brokers);
    if brokers == 0 || brokers > MAX_BROKERS {
        return Err(ck.err(
            "brokers",
            format!("{brokers} is not allowed; a cluster has 1 to {MAX_BROKERS} brokers (default 1)"),
        ));
    }
    let mut plan = ClusterPlan { brokers, declared: raw.brokers.is_some(), ..d };
    check_liveness(ck, raw, &mut plan)?;
    check_replica_fetching(ck, raw, &mut plan)?;
    check_counts(ck, raw, &mut plan)?;
    Ok(plan)
}

/// The brokers' heartbeats and the controller's linger. Kafka defines the heartbeat interval
/// and session timeout with no bounds and never compares them; here each is above 0 and the
/// interval below the timeout, else every broker would be fenced between two heartbeats.
fn check_liveness(ck: &Checker, raw: &RawScenario, plan: &mut ClusterPlan) -> Result<(), ScenarioError> {
    let heartbeat =
        ms_or(ck, "broker_heartbeat_interval_ms", raw.broker_heartbeat_interval_ms, plan.broker_heartbeat_interval, 1)?;
    let session =
        ms_or(ck, "broker_session_timeout_ms", raw.broker_session_timeout_ms, plan.broker_session_timeout, 1)?;
    if heartbeat >= session {
        let field = if raw.broker_heartbeat_interval_ms.is_some() || raw.broker_session_timeout_ms.is_none() {
            "broker_heartbeat_interval_ms"
        } else {
            "broker_session_timeout_ms"
        };
        return Err(ck.err(field, format!(
            "broker_heartbeat_interval_ms {heartbeat} is not below broker_session_timeout_ms {session}: the controller would fence every broker between two of its heartbeats. Kafka does not check this, but no cluster works with it (Kafka's defaults: 2000 and 9000)"
        )));
    }
    // QuorumConfig: controller.quorum.append.linger.ms is an INT, atLeast(0).
    let linger = ms_or(
        ck,
        "controller_quorum_append_linger_ms",
        raw.controller_quorum_append_linger_ms,
        plan.controller_quorum_append_linger,
        0,
    )?;
    plan.broker_heartbeat_interval = SimDuration::from_millis(heartbeat);
    plan.broker_session_timeout = SimDuration::from_millis(session);
    plan.controller_quorum_append_linger = SimDuration::from_millis(linger);
    Ok(())
}

/// How followers fetch, with KafkaConfig's two `require`s on replica.fetch.wait.max.ms.
fn check_replica_fetching(ck: &Checker, raw: &RawScenario, plan: &mut ClusterPlan) -> Result<(), ScenarioError> {
    // The ISR shrink task runs every replica.lag.time.max.ms / 2 (integer ms, ReplicaManager);
    // below 2 that is 0, and Kafka's scheduler then runs it once only.
    let lag = match raw.replica_lag_time_max_ms {
        Some(d) if d.0 < SimDuration::from_millis(2) => {
            return Err(ck.err("replica_lag_time_max_ms", format!(
                "{} is not allowed; at least 2: the ISR shrink check runs every half of it in whole ms, and at 0 Kafka runs it only once (Kafka's default: 30000)",
                d.0
            )));
        }
        Some(d) => kafka_ms(ck, "replica_lag_time_max_ms", d, 2, false)?,
        None => plan.replica_lag_time_max.as_millis(),
    };
    // Kafka allows 0, but an idle follower would then fetch again at once, forever, without
    // time passing.
    let wait = ms_or(ck, "replica_fetch_wait_max_ms", raw.replica_fetch_wait_max_ms, plan.replica_fetch_wait_max, 1)?;
    let blame = if raw.replica_fetch_wait_max_ms.is_some() || raw.replica_lag_time_max_ms.is_none() {
        "replica_fetch_wait_max_ms"
    } else {
        "replica_lag_time_max_ms"
    };
    if wait > REPLICA_SOCKET_TIMEOUT_MS {
        return Err(ck.err("replica_fetch_wait_max_ms", format!(
            "{wait} is above replica.socket.timeout.ms ({REPLICA_SOCKET_TIMEOUT_MS}, Kafka's default; not settable here): Kafka requires \"replica.socket.timeout.ms should always be at least replica.fetch.wait.max.ms to prevent unnecessary socket timeouts\""
        )));
    }
    if wait > lag {
        return Err(ck.err(blame, format!(
            "replica_fetch_wait_max_ms {wait} is above replica_lag_time_max_ms {lag}: Kafka requires \"replica.fetch.wait.max.ms should always be less than or equal to replica.lag.time.max.ms to prevent frequent changes in ISR\""
        )));
    }
    plan.replica_lag_time_max = SimDuration::from_millis(lag);
    plan.replica_fetch_wait_max = SimDuration::from_millis(wait);
    plan.replica_fetch_max_bytes = match raw.replica_fetch_max_bytes {
        None => plan.replica_fetch_max_bytes,
        Some(b) if (0..=i32::MAX as i64).contains(&b) => b as u64,
        Some(b) => {
            return Err(ck.err("replica_fetch_max_bytes", format!(
                "{b} is not allowed; 0 to {JAVA_INT} bytes (Kafka's default: 1048576; a fetch returns at least one batch even above it)"
            )));
        }
    };
    Ok(())
}

/// min.insync.replicas, the replication factors and the offsets topic.
fn check_counts(ck: &Checker, raw: &RawScenario, plan: &mut ClusterPlan) -> Result<(), ScenarioError> {
    let brokers = plan.brokers;
    if let Some(m) = raw.min_insync_replicas {
        if m == 0 || u64::from(m) > JAVA_INT {
            return Err(
                ck.err("min_insync_replicas", format!("{m} is not allowed; Kafka requires at least 1 (default 1)"))
            );
        }
        // Kafka quietly uses min(min.insync.replicas, replication factor) per topic, so a broker
        // default above every possible factor would silently mean "every replica": no
        // partition can have more in-sync replicas than there are brokers.
        if m > brokers {
            return Err(ck.err("min_insync_replicas", format!(
                "{m} is above the broker count {brokers} ({}): no partition can have more in-sync replicas than brokers (Kafka would quietly use each topic's replication factor instead); write at most {brokers}",
                brokers_written(raw)
            )));
        }
        plan.min_insync_replicas = m;
    }
    if let Some(rf) = raw.default_replication_factor {
        if rf == 0 {
            return Err(ck.err(
                "default_replication_factor",
                "0 is not allowed; Kafka's replication factor must be larger than 0 (default 1)",
            ));
        }
        plan.default_replication_factor = rf;
    }
    if let Some(n) = raw.offsets_topic_num_partitions {
        if n == 0 || n > MAX_PARTITIONS {
            return Err(ck.err("offsets_topic_num_partitions", format!(
                "{n} is not allowed; Kafka requires at least 1, and a topic has at most {MAX_PARTITIONS} partitions here (Kafka's default: 50)"
            )));
        }
        plan.offsets_topic_num_partitions = n;
    }
    plan.offsets_topic_replication_factor = match raw.offsets_topic_replication_factor {
        Some(0) => {
            return Err(
                ck.err("offsets_topic_replication_factor", "0 is not allowed; Kafka requires at least 1 (default 3)")
            );
        }
        Some(rf) if rf > brokers => {
            return Err(ck.err("offsets_topic_replication_factor", format!(
                "{rf} is above the broker count {brokers} ({}): Kafka cannot create __consumer_offsets until the cluster has that many brokers, so no group would find its coordinator",
                brokers_written(raw)
            )));
        }
        Some(rf) => rf,
        // Kafka's 3 cannot be placed on fewer brokers; a small cluster gets what it can hold,
        // as single-broker setups configure it.
        None => plan.offsets_topic_replication_factor.min(brokers),
    };
    plan.unclean_leader_election_enable =
        raw.unclean_leader_election_enable.unwrap_or(plan.unclean_leader_election_enable);
    Ok(())
}

/// How the broker count came about, for messages: `brokers: 2`, or the default.
fn brokers_written(raw: &RawScenario) -> String {
    match raw.brokers {
        Some(n) => format!("brokers: {n}"),
        None => "brokers: 1, the default; write brokers: N for more".into(),
    }
}

/// Topic `i`'s replication: its factor (written, from `replicas`, else the cluster's
/// default.replication.factor) within the broker count, its replica lists, its
/// min.insync.replicas and unclean election.
pub(super) fn topic_replication(
    ck: &Checker,
    raw: &RawScenario,
    i: usize,
    t: &RawTopic,
    cluster: &ClusterPlan,
) -> Result<TopicReplication, ScenarioError> {
    let path = format!("topics[{i}]");
    let brokers = cluster.brokers;
    let factor = match (t.replication_factor, &t.replicas) {
        (Some(0), _) => {
            return Err(
                ck.err(format!("{path}.replication_factor"), "0 is not allowed; a partition has at least 1 replica")
            );
        }
        (Some(rf), _) if rf > brokers => {
            return Err(ck.err(
                format!("{path}.replication_factor"),
                format!("replication_factor {rf} is above the broker count {brokers} ({})", brokers_written(raw)),
            ));
        }
        (Some(rf), _) => rf,
        (None, Some(lists)) => lists.first().map_or(0, |l| l.len() as u32),
        (None, None) if cluster.default_replication_factor > brokers => {
            return Err(ck.err(path, format!(
                "replication factor {} (default_replication_factor) is above the broker count {brokers} ({}); set replication_factor on the topic or lower default_replication_factor",
                cluster.default_replication_factor, brokers_written(raw)
            )));
        }
        (None, None) => cluster.default_replication_factor,
    };
    if let Some(lists) = &t.replicas {
        check_replicas(ck, &path, t, lists, factor, brokers)?;
    }
    let min_insync_replicas = match t.min_insync_replicas {
        Some(0) => {
            return Err(ck.err(format!("{path}.min_insync_replicas"), "0 is not allowed; Kafka requires at least 1"));
        }
        Some(m) if m > factor => {
            return Err(ck.err(format!("{path}.min_insync_replicas"), format!(
                "min_insync_replicas {m} is above the topic's replication factor {factor}: a partition cannot have more in-sync replicas than replicas (Kafka would quietly use min(min.insync.replicas, replication factor) = {factor}); write at most {factor}"
            )));
        }
        Some(m) => m,
        // Kafka's effective value for an inherited broker default (Partition#effectiveMinIsr).
        None => cluster.min_insync_replicas.min(factor),
    };
    Ok(TopicReplication {
        factor,
        min_insync_replicas,
        unclean_leader_election_enable: t
            .unclean_leader_election_enable
            .unwrap_or(cluster.unclean_leader_election_enable),
        replicas: t.replicas.clone(),
    })
}

/// `replicas:`: one list per partition the topic starts with, each `factor` distinct brokers
/// that exist (Kafka's ReplicationControlManager#validateManualPartitionAssignment).
fn check_replicas(
    ck: &Checker,
    path: &str,
    t: &RawTopic,
    lists: &[Vec<u32>],
    factor: u32,
    brokers: u32,
) -> Result<(), ScenarioError> {
    if lists.len() != t.partitions as usize {
        return Err(ck.err(
            format!("{path}.replicas"),
            format!(
                "{} broker lists for {} partitions; give one list per partition the topic starts with",
                lists.len(),
                t.partitions
            ),
        ));
    }
    let whence = if t.replication_factor.is_some() {
        format!("replication_factor is {factor}")
    } else {
        format!("replicas[0] has {factor}")
    };
    for (p, list) in lists.iter().enumerate() {
        let at = format!("{path}.replicas[{p}]");
        if list.is_empty() {
            return Err(ck.err(at, "an empty replica list; a partition has at least 1 replica"));
        }
        if list.len() as u32 != factor {
            return Err(ck.err(
                at,
                format!(
                    "{} brokers, but {whence}: every partition lists the same number of brokers, the replication factor",
                    list.len()
                ),
            ));
        }
        for (k, &b) in list.iter().enumerate() {
            check_broker_id(ck, &at, i64::from(b), brokers)?;
            if list[..k].contains(&b) {
                return Err(
                    ck.err(at, format!("broker {b} appears twice; a partition's replicas are distinct brokers"))
                );
            }
        }
    }
    Ok(())
}

/// Broker `id` is one of 1..=brokers.
pub(super) fn check_broker_id(ck: &Checker, path: &str, id: i64, brokers: u32) -> Result<u32, ScenarioError> {
    if id >= 1 && id <= i64::from(brokers) {
        return Ok(id as u32);
    }
    let which = if brokers == 1 {
        "the cluster has one broker, 1 (write brokers: N for more)".to_string()
    } else {
        format!("brokers are 1..{brokers}")
    };
    Err(ck.err(path, format!("broker {id} does not exist; {which}")))
}

#[cfg(test)]
mod tests {
    use crate::scenario::cluster::{ClusterPlan, TopicReplication};
    use crate::scenario::{Location, Plan, ScenarioError};
    use crate::sim::SimDuration;

    /// A scenario with `top` at the top level and `topic` added to its one topic.
    fn scenario(top: &str, topic: &str) -> String {
        format!("name: c\nduration: 10s\n{top}\ntopics:\n  - name: orders\n    partitions: 3\n{topic}\n")
    }

    fn plan(top: &str, topic: &str) -> Plan {
        crate::scenario::parse("c.yaml", &scenario(top, topic)).unwrap()
    }

    /// The error for this scenario: at `path`, saying each of `says`.
    fn refused(top: &str, topic: &str, path: &str, says: &[&str]) {
        let e: ScenarioError = crate::scenario::parse("c.yaml", &scenario(top, topic)).unwrap_err();
        assert_eq!(e.location, Location::Field(path.into()), "{top} {topic}: {e}");
        for s in says {
            assert!(e.message.contains(s), "expected `{s}` in: {e}");
        }
    }

    #[test]
    fn without_cluster_fields_the_plan_is_one_broker_at_kafka_s_defaults() {
        let p = plan("", "");
        // The offsets topic cannot have 3 replicas on one broker.
        assert_eq!(p.cluster, ClusterPlan { offsets_topic_replication_factor: 1, ..ClusterPlan::default() });
        assert!(!p.cluster.declared);
        assert_eq!(p.topics[0].replication, TopicReplication::default());
    }

    #[test]
    fn every_broker_setting_is_taken() {
        let p = plan(
            concat!(
                "brokers: 5\nbroker_heartbeat_interval_ms: 1s\nbroker_session_timeout_ms: 6000\n",
                "replica_lag_time_max_ms: 10s\nreplica_fetch_wait_max_ms: 10000\nreplica_fetch_max_bytes: 0\n",
                "unclean_leader_election_enable: true\nmin_insync_replicas: 2\ndefault_replication_factor: 3\n",
                "offsets_topic_num_partitions: 7\noffsets_topic_replication_factor: 5\n",
                "controller_quorum_append_linger_ms: 0",
            ),
            "",
        );
        let c = &p.cluster;
        assert_eq!((c.brokers, c.declared), (5, true));
        assert_eq!(c.broker_heartbeat_interval, SimDuration::from_millis(1000));
        assert_eq!(c.broker_session_timeout, SimDuration::from_millis(6000));
        assert_eq!(c.replica_lag_time_max, SimDuration::from_millis(10_000));
        // Kafka requires only <=: equal is allowed.
        assert_eq!(c.replica_fetch_wait_max, SimDuration::from_millis(10_000));
        assert_eq!(c.replica_fetch_max_bytes, 0);
        assert!(c.unclean_leader_election_enable);
        assert_eq!((c.min_insync_replicas, c.default_replication_factor), (2, 3));
        assert_eq!((c.offsets_topic_num_partitions, c.offsets_topic_replication_factor), (7, 5));
        assert_eq!(c.controller_quorum_append_linger, SimDuration::ZERO);
        // The topic takes the broker defaults.
        let r = &p.topics[0].replication;
        assert_eq!((r.factor, r.min_insync_replicas, r.unclean_leader_election_enable), (3, 2, true));
    }

    #[test]
    fn writing_brokers_declares_the_cluster_even_at_one() {
        assert!(plan("brokers: 1", "").cluster.declared);
        assert_eq!(plan("brokers: 2", "").cluster.offsets_topic_replication_factor, 2);
        assert_eq!(plan("brokers: 9", "").cluster.offsets_topic_replication_factor, 3);
    }

    #[test]
    fn broker_settings_outside_kafka_s_bounds_are_refused() {
        refused("brokers: 0", "", "brokers", &["1 to 64"]);
        refused("brokers: 65", "", "brokers", &["1 to 64"]);
        refused("broker_heartbeat_interval_ms: 0", "", "broker_heartbeat_interval_ms", &["at least 1"]);
        refused(
            "broker_heartbeat_interval_ms: 9s",
            "",
            "broker_heartbeat_interval_ms",
            &["not below", "does not check"],
        );
        refused(
            "broker_session_timeout_ms: 1500",
            "",
            "broker_session_timeout_ms",
            &["2000 is not below broker_session_timeout_ms 1500"],
        );
        refused("broker_session_timeout_ms: 2147483648", "", "broker_session_timeout_ms", &["int"]);
        refused("replica_lag_time_max_ms: 1", "", "replica_lag_time_max_ms", &["at least 2", "only once"]);
        refused("replica_fetch_wait_max_ms: 0", "", "replica_fetch_wait_max_ms", &["at least 1"]);
        refused("replica_fetch_wait_max_ms: 30001", "", "replica_fetch_wait_max_ms", &["replica.socket.timeout.ms"]);
        refused("replica_lag_time_max_ms: 400", "", "replica_lag_time_max_ms", &["less than or equal to"]);
        refused(
            "replica_lag_time_max_ms: 400\nreplica_fetch_wait_max_ms: 401",
            "",
            "replica_fetch_wait_max_ms",
            &["401 is above replica_lag_time_max_ms 400"],
        );
        refused("replica_fetch_max_bytes: -1", "", "replica_fetch_max_bytes", &["0 to 2147483647"]);
        refused("min_insync_replicas: 0", "", "min_insync_replicas", &["at least 1"]);
        // Kafka would cap it at each topic's factor; above the broker count it can only be a slip.
        refused(
            "brokers: 3\nmin_insync_replicas: 4",
            "",
            "min_insync_replicas",
            &["above the broker count 3", "at most 3"],
        );
        refused("default_replication_factor: 0", "", "default_replication_factor", &["larger than 0"]);
        refused("offsets_topic_num_partitions: 0", "", "offsets_topic_num_partitions", &["at least 1"]);
        refused(
            "offsets_topic_replication_factor: 3",
            "",
            "offsets_topic_replication_factor",
            &["above the broker count 1"],
        );
        refused(
            "controller_quorum_append_linger_ms: 0.5ms",
            "",
            "controller_quorum_append_linger_ms",
            &["whole number"],
        );
    }

    #[test]
    fn a_topic_s_replication_follows_the_cluster_unless_it_says_otherwise() {
        let p = plan("brokers: 3\nmin_insync_replicas: 3", "    replication_factor: 2");
        // An inherited min.insync.replicas above the factor is Kafka's effective min(minIsr, RF).
        assert_eq!(p.topics[0].replication.min_insync_replicas, 2);
        let p = plan(
            "brokers: 3\nunclean_leader_election_enable: true",
            "    min_insync_replicas: 1\n    unclean_leader_election_enable: false\n    replicas: [[3, 1], [1, 2], [2, 3]]",
        );
        let r = &p.topics[0].replication;
        assert_eq!((r.factor, r.min_insync_replicas, r.unclean_leader_election_enable), (2, 1, false));
        assert_eq!(r.replicas, Some(vec![vec![3, 1], vec![1, 2], vec![2, 3]]));
    }

    #[test]
    fn topic_replication_that_cannot_be_placed_is_refused() {
        let at = |f: &str| format!("topics[0].{f}");
        refused(
            "brokers: 2",
            "    replication_factor: 3",
            &at("replication_factor"),
            &["replication_factor 3 is above the broker count 2 (brokers: 2)"],
        );
        refused("", "    replication_factor: 2", &at("replication_factor"), &["broker count 1", "the default"]);
        refused("", "    replication_factor: 0", &at("replication_factor"), &["at least 1"]);
        refused("brokers: 2\ndefault_replication_factor: 3", "", "topics[0]", &["default_replication_factor"]);
        refused(
            "brokers: 3",
            "    replication_factor: 2\n    min_insync_replicas: 3",
            &at("min_insync_replicas"),
            &["above the topic's replication factor 2"],
        );
        refused("brokers: 3", "    min_insync_replicas: 0", &at("min_insync_replicas"), &["at least 1"]);
        refused("brokers: 3", "    replicas: [[1, 2], [2, 3]]", &at("replicas"), &["2 broker lists for 3 partitions"]);
        refused(
            "brokers: 3",
            "    replicas: [[1, 2], [2, 3], [3]]",
            &at("replicas[2]"),
            &["1 brokers, but replicas[0] has 2"],
        );
        refused(
            "brokers: 3",
            "    replication_factor: 3\n    replicas: [[1, 2], [2, 3], [3, 1]]",
            &at("replicas[0]"),
            &["but replication_factor is 3"],
        );
        refused(
            "brokers: 3",
            "    replicas: [[1, 2], [2, 2], [3, 1]]",
            &at("replicas[1]"),
            &["broker 2 appears twice"],
        );
        refused(
            "brokers: 3",
            "    replicas: [[1, 2], [2, 4], [3, 1]]",
            &at("replicas[1]"),
            &["broker 4 does not exist; brokers are 1..3"],
        );
        refused("brokers: 3", "    replicas: [[1, 2], [], [3, 1]]", &at("replicas[1]"), &["empty"]);
        refused(
            "",
            "    replicas: [[0], [1], [1]]",
            &at("replicas[0]"),
            &["broker 0 does not exist; the cluster has one broker"],
        );
    }
}
