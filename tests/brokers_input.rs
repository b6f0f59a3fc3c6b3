//! Scenario input for brokers that fail (issue 24): a scenario using every cluster field
//! validates, and each mistake in those fields is exit 2 with the field and what is allowed,
//! and nothing written.

use crate::bad_input::check;
use crate::util::*;

/// Every field issue 24 adds, at values other than the defaults where that is allowed.
const ALL_FIELDS: &str = r#"name: brokers-all-fields
duration: 60s
brokers: 3
broker_heartbeat_interval_ms: 1500
broker_session_timeout_ms: 6s
replica_lag_time_max_ms: 20000
replica_fetch_wait_max_ms: 250ms
replica_fetch_max_bytes: 524288
unclean_leader_election_enable: false
min_insync_replicas: 2
default_replication_factor: 3
offsets_topic_num_partitions: 10
offsets_topic_replication_factor: 3
controller_quorum_append_linger_ms: 10
topics:
  - name: orders
    partitions: 3
    replication_factor: 3
    min_insync_replicas: 2
    unclean_leader_election_enable: true
    replicas: [[1, 2, 3], [2, 3, 1], [3, 1, 2]]
  - name: order-events
    partitions: 2
producers:
  - name: web
    topic: orders
    rate: 100/s
    acks: all
    enable_idempotence: true
    retries: 10
    delivery_timeout_ms: 60s
    request_timeout_ms: 20000
    max_in_flight_requests_per_connection: 5
    retry_backoff_ms: 50
    retry_backoff_max_ms: 2s
  - name: legacy
    topic: order-events
    rate: 10/s
    acks: 1
groups:
  - id: g
    topics: [orders]
    consumers: 2
timeline:
  - {at: 5s, crash_broker: 2}
  - {at: 15s, start_broker: 2}
  - {at: 20s, stop_broker: {leader_of: orders-0}}
  - {at: 25s, add_partitions: {topic: order-events, count: 4}}
  - {at: 30s, isolate_broker: {broker: {leader_of: order-events-3}, for: 10s}}
  - {at: 35s, slow_broker: {broker: 1, lag: 200ms}}
  - {at: 45s, slow_broker: {broker: 1, lag: 0ms}}
"#;

/// Three brokers, a topic on them, a producer, and one broker action.
const BASE: &str = r#"name: bad-brokers
duration: 60s
brokers: 3
topics: [{name: orders, partitions: 3, replication_factor: 3}]
producers: [{name: web, topic: orders, rate: 10/s}]
timeline:
  - {at: 5s, crash_broker: 2}
"#;

#[test]
fn a_scenario_with_every_cluster_field_validates() {
    let dir = temp_dir("brokers-all-fields");
    let file = dir.join("all.yaml");
    std::fs::write(&file, ALL_FIELDS).unwrap();
    let out = kafkasim().arg("validate").arg(&file).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("ok (brokers-all-fields)"), "{stdout}");
    let plan = plan(ALL_FIELDS);
    assert!(plan.cluster.declared);
    assert_eq!(plan.topics[0].replication.replicas.as_ref().map(Vec::len), Some(3));
    assert!(!plan.producers[1].delivery.enable_idempotence, "acks 1 turns unwritten idempotence off");
}

#[test]
fn the_base_is_good() {
    plan(BASE);
}

#[test]
fn broker_count_and_settings_are_bounded() {
    let top = |line: &str| BASE.replace("brokers: 3\n", &format!("brokers: 3\n{line}\n"));
    check(&BASE.replace("brokers: 3", "brokers: 0"), &["brokers", "1 to 64"]);
    check(&BASE.replace("brokers: 3", "brokers: 65"), &["brokers", "1 to 64"]);
    check(&BASE.replace("brokers: 3", "brokers: three"), &["scenario.yaml:3:10:", "u32"]);
    check(&top("broker_session_timeout_ms: 2000"), &["broker_session_timeout_ms", "not below", "does not check this"]);
    check(&top("replica_fetch_wait_max_ms: 31s"), &["replica_fetch_wait_max_ms", "replica.socket.timeout.ms"]);
    check(
        &top("replica_lag_time_max_ms: 300"),
        &["replica_lag_time_max_ms", "less than or equal to replica.lag.time.max.ms"],
    );
    check(&top("replica_lag_time_max_ms: 1"), &["replica_lag_time_max_ms", "at least 2"]);
    check(
        &top("offsets_topic_replication_factor: 4"),
        &["offsets_topic_replication_factor", "above the broker count 3"],
    );
    check(&top("controller_quorum_append_linger_ms: 1.5ms"), &["controller_quorum_append_linger_ms", "whole number"]);
    check(&top("unclean_leader_election_enable: yes please"), &["scenario.yaml:4:", "unclean_leader_election_enable"]);
    check(&top("broker_heartbeat_intervall_ms: 1000"), &["unknown field `broker_heartbeat_intervall_ms`"]);
}

#[test]
fn topic_replication_must_fit_the_brokers() {
    let topic = |fields: &str| BASE.replace("replication_factor: 3}", &format!("{fields}}}"));
    check(
        &BASE.replace("brokers: 3", "brokers: 2"),
        &["topics[0].replication_factor", "replication_factor 3 is above the broker count 2 (brokers: 2)"],
    );
    check(
        &BASE.replace("brokers: 3\n", "").replace("crash_broker: 2", "crash_broker: 1"),
        &["topics[0].replication_factor", "above the broker count 1", "the default"],
    );
    check(&topic("replication_factor: 2, min_insync_replicas: 3"), &["topics[0].min_insync_replicas", "at most 2"]);
    check(
        &topic("replicas: [[1, 2], [2, 3], [3, 1, 2]]"),
        &["topics[0].replicas[2]", "3 brokers, but replicas[0] has 2"],
    );
    check(&topic("replicas: [[1, 2], [2, 3]]"), &["topics[0].replicas", "2 broker lists for 3 partitions"]);
    check(
        &topic("replication_factor: 2, replicas: [[1, 2], [2, 3], [3, 4]]"),
        &["topics[0].replicas[2]", "broker 4 does not exist; brokers are 1..3"],
    );
    check(&topic("replicas: [[1, 1], [2, 3], [3, 1]]"), &["topics[0].replicas[0]", "broker 1 appears twice"]);
}

#[test]
fn producer_delivery_follows_kafka_s_producer() {
    let producer = |fields: &str| BASE.replace("rate: 10/s}", &format!("rate: 10/s, {fields}}}"));
    check(&producer("acks: 2"), &["scenario.yaml:5:", "producers[0].acks", "all, -1, 1 or 0"]);
    check(&producer("acks: 1, enable_idempotence: true"), &["producers[0].acks", "Must set acks to all"]);
    check(&producer("retries: 0, enable_idempotence: true"), &["producers[0].retries", "non-zero"]);
    check(
        &producer("max_in_flight_requests_per_connection: 6"),
        &["producers[0].max_in_flight_requests_per_connection", "at most 5. Current value is 6."],
    );
    check(
        &producer("delivery_timeout_ms: 10000"),
        &["producers[0].delivery_timeout_ms", "linger.ms + request.timeout.ms"],
    );
    check(&producer("retries: -1"), &["producers[0].retries", "0 to 2147483647"]);
    check(&producer("max_in_flight_requests_per_connection: 0"), &["at least 1"]);
}

#[test]
fn broker_actions_name_brokers_that_exist() {
    let action = |a: &str| BASE.replace("crash_broker: 2", a);
    check(&action("crash_broker: 4"), &["timeline[0].crash_broker", "broker 4 does not exist; brokers are 1..3"]);
    check(&action("stop_broker: {leader_of: orders-3}"), &["timeline[0].stop_broker.leader_of", "no partition 3"]);
    check(&action("stop_broker: {leader_of: payments-0}"), &["unknown topic `payments`", "topics defined: orders"]);
    check(&action("start_broker: {leader_of: orders-0}"), &["timeline[0].start_broker", "leads nothing"]);
    check(&action("isolate_broker: {broker: 1, for: 0s}"), &["scenario.yaml:7:", "positive"]);
    check(&action("isolate_broker: {broker: 1}"), &["`for` is missing"]);
    check(&action("slow_broker: {broker: 1, lag: 200}"), &["scenario.yaml:7:", "`lag`", "unit"]);
    check(&action("slow_broker: {broker: 1, lag: 5ms, for: 1s}"), &["`for` is not allowed"]);
    check(&action("crash_broker: orders-0"), &["scenario.yaml:7:", "{leader_of: orders-0}"]);
    check(&action("crash_broker: 2, stop_broker: 3"), &["timeline[0]", "exactly one action"]);
}
