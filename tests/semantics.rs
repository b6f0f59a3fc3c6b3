//! The model against numbers worked out by hand or by theory.

use crate::util::*;

/// With no network delay, no batching (linger 0), a long poll and one record per poll, one
/// consumer on one partition is an M/M/1 queue: mean time in system = 1 / (mu - lambda).
#[test]
fn single_consumer_is_an_mm1_queue() {
    let yaml = r#"
name: mm1
seed: 11
duration: 400s
topics: [{name: q, partitions: 1}]
producers: [{name: arrivals, topic: q, rate: 500/s, arrival: poisson, linger_ms: 0}]
groups:
  - id: server
    topics: [q]
    consumers: 1
    group_initial_rebalance_delay_ms: 0
    poll_interval: 0ms
    fetch_max_wait_ms: 10s
    max_poll_records: 1
    processing: {exponential: 1ms}
    commit: after_processing
    auto_offset_reset: earliest
"#;
    let w = run_yaml(yaml);
    let st = &w.rec.groups[0];
    let n = st.latency.records as f64;
    assert!(n > 190_000.0, "{n}");
    let mean_ms = st.latency_sum_ns as f64 / n / 1e6;
    // lambda = 0.5/ms, mu = 1/ms: W = 1 / (1 - 0.5) = 2 ms. Timestamps have 1 us resolution.
    assert!((mean_ms - 2.0).abs() < 0.08, "mean sojourn {mean_ms} ms, theory 2 ms");
    // The sojourn time of M/M/1 is exponential with rate mu - lambda: median = ln 2 * 2 ms.
    let p50 = st.latency.p50_ns as f64 / 1e6;
    assert!((p50 - 2.0 * std::f64::consts::LN_2).abs() < 0.06, "median {p50}");
}

/// 10 records/s at 100 ms spacing; the consumer polls at 50 ms, 1050 ms, 2050 ms, ... and commits
/// at once (processing 0). Lag = log end - committed at each 500 ms sample.
#[test]
fn lag_is_log_end_minus_committed_at_each_sample() {
    let yaml = r#"
name: lag
seed: 1
duration: 3s
sample_interval: 500ms
topics: [{name: t, partitions: 1}]
producers: [{name: p, topic: t, rate: 10/s, arrival: constant, linger_ms: 0}]
groups:
  - id: g
    topics: [t]
    consumers: [{name: c, start_at: 50ms}]
    group_initial_rebalance_delay_ms: 0
    poll_interval: 1s
    fetch_max_wait_ms: 0
    processing: 0ms
    commit: after_processing
    auto_offset_reset: earliest
"#;
    let w = run_yaml(yaml);
    let rows: Vec<(u64, u64, Option<u64>)> = w
        .rec
        .metrics
        .iter()
        .map(|r| (r.time.as_millis(), r.log_end_offset, (r.committed != u64::MAX).then_some(r.committed)))
        .collect();
    // A record at exactly a sample instant is appended after the sample (it was queued later).
    assert_eq!(
        rows,
        vec![
            (0, 0, None),
            (500, 4, None),
            (1000, 9, None),
            (1500, 14, Some(10)),
            (2000, 19, Some(10)),
            (2500, 24, Some(20)),
            (3000, 29, Some(20)),
        ]
    );
    let s = summary(&w);
    let lag = &s["groups"]["g"]["lag_records"];
    // Samples with a commit: 4, 9, 4, 9.
    assert_eq!(lag["final"], 9);
    assert_eq!(lag["max"], 9);
    assert_eq!(s["groups"]["g"]["records_processed"], 20); // polls at 1.05 s and 2.05 s
}

fn crash_scenario(commit: &str) -> String {
    format!(
        r#"
name: crash-{commit}
seed: 1
duration: 300ms
topics: [{{name: t, partitions: 1}}]
producers: [{{name: p, topic: t, rate: 1000/s, arrival: constant, linger_ms: 0}}]
groups:
  - id: g
    topics: [t]
    consumers: [{{name: c, start_at: 100.5ms, group_instance_id: c-static}}]
    group_initial_rebalance_delay_ms: 0
    poll_interval: 1s
    fetch_max_wait_ms: 0
    max_poll_records: 50
    processing: 1ms
    commit: {commit}
    auto_offset_reset: earliest
timeline:
  - {{at: 120ms, crash: c}}
  - {{at: 200.5ms, start: c}}
"#
    )
}

/// The first poll (100.5 ms) returns offsets 0..50; 19 are processed when the consumer crashes
/// at 120 ms. It is a static member, back well within the session timeout, so it gets its
/// partition back at once (no rebalance) and restarts at 200.5 ms from the committed offset.
#[test]
fn at_least_once_duplicates_what_it_had_not_committed() {
    let s = summary(&run_yaml(&crash_scenario("after_processing")));
    let g = &s["groups"]["g"];
    assert_eq!(g["records_processed"], 19 + 50);
    assert_eq!(g["duplicates"], 19);
    // The whole first batch (50) is handed over again; 31 of it had never been processed.
    assert_eq!(g["records_delivered"], 100);
    assert_eq!(g["redelivered"], 50);
    assert_eq!(g["lost"], 0);
    assert_eq!(g["committed_offsets"]["t"][0], 50);
}

#[test]
fn at_most_once_loses_what_it_committed_but_never_processed() {
    let s = summary(&run_yaml(&crash_scenario("before_processing")));
    let g = &s["groups"]["g"];
    assert_eq!(g["records_processed"], 19 + 50);
    assert_eq!(g["duplicates"], 0);
    assert_eq!(g["lost"], 31);
    assert_eq!(g["committed_offsets"]["t"][0], 100);
}

#[test]
fn two_groups_each_get_every_record_one_group_splits_them() {
    let w = run_file(&repo("scenarios/pubsub-broadcast.yaml"));
    let s = summary(&w);
    let produced = s["records_produced"].as_u64().unwrap();
    let analytics = s["groups"]["analytics"]["records_processed"].as_u64().unwrap();
    assert!(analytics > produced * 99 / 100, "{analytics} of {produced}");
    let w = run_file(&repo("scenarios/queue-group.yaml"));
    let s = summary(&w);
    assert_eq!(s["groups"]["workers"]["duplicates"], 0);
    let owned: Vec<usize> = w.consumers.iter().map(|c| c.owned.len()).collect();
    assert_eq!(owned, vec![2, 2, 2]);
}

#[test]
fn consumers_beyond_the_partition_count_are_standbys() {
    let s = summary(&run_file(&repo("scenarios/standby.yaml")));
    let standby = s["groups"]["ledger"]["standby_consumers"].as_array().unwrap();
    assert_eq!(standby.len(), 2);
}

#[test]
fn a_slow_consumer_falls_behind() {
    let w = run_file(&repo("scenarios/slow-consumer.yaml"));
    let lag = kafkasim::report::lag::group_lag_series(&w.run_record());
    let at = |secs: u64| lag[0].iter().find(|(t, _)| t.as_millis() == secs * 1000).unwrap().1;
    assert!(at(20) < at(40) && at(40) < at(60), "lag grows: {} {} {}", at(20), at(40), at(60));
}
