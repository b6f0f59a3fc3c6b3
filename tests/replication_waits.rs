//! Requests that wait for acks longer than request.timeout.ms, and followers that fall more
//! than replica.lag.time.max.ms behind (`../shared/replication.md` §1.3, §1.6, §2).

use crate::util::*;
use kafkasim::kafka::world::World;
use serde_json::Value;

/// Two brokers, RF 2, min.insync.replicas 2, acks=all at 1,000 records/s (5 ms linger: 5
/// records a batch): broker 2 (the follower) crashes at 10 s and starts again at `back`.
fn below_min_isr(idempotence: bool, back: &str, duration: &str) -> String {
    format!(
        "name: t\nseed: 1\nduration: {duration}\nbrokers: 2\nnetwork_delay: 0.5ms\n\
         topics:\n  - {{name: orders, partitions: 1, replication_factor: 2, min_insync_replicas: 2, replicas: [[1, 2]]}}\n\
         producers:\n  - {{name: web, topic: orders, rate: 1000/s, enable_idempotence: {idempotence}}}\n\
         groups:\n  - {{id: shipping, topics: [orders], consumers: 1, auto_offset_reset: earliest}}\n\
         timeline:\n  - {{at: 10s, crash_broker: 2}}\n  - {{at: {back}, start_broker: 2}}\n"
    )
}

fn web(w: &World) -> Value {
    summary(w)["producers"]["web"].clone()
}

fn timed_out_at(w: &World) -> Vec<f64> {
    logged(w)
        .into_iter()
        .filter(|e| e.kind == "produce_failed" && e.fields["error"] == "REQUEST_TIMED_OUT")
        .map(|e| e.time.as_nanos() as f64 / 1e9)
        .collect()
}

/// §1.6: the 5 requests in flight when the ISR fell below min wait in purgatory and time out
/// 30 s after they were sent (at about 40 s); the retries are refused (NOT_ENOUGH_REPLICAS)
/// and go out when the ISR is back. Without idempotence each is appended a second time.
#[test]
fn requests_waiting_below_min_isr_time_out_and_their_retries_duplicate_without_idempotence() {
    let w = run_yaml(&below_min_isr(false, "70s", "120s"));
    let times = timed_out_at(&w);
    assert_eq!(times.len(), 5, "max.in.flight.requests.per.connection requests time out: {times:?}");
    assert!(times.iter().all(|t| (40.0..40.1).contains(t)), "30 s after they were sent at ~10 s: {times:?}");
    let p = web(&w);
    assert_eq!(p["retries"], 5);
    assert_eq!(p["duplicates_written"], 25, "5 batches of 5 records, written twice");
    assert_eq!(p["lost"], 0);
    let delivered = summary(&w)["groups"]["shipping"]["records_delivered"].as_u64().unwrap();
    assert_eq!(delivered, p["records_acked"].as_u64().unwrap() + 25, "readers get the second copies too");
}

/// Both followers of RF 3 (min ISR 2) crash at 20 s; the 5 requests in flight time out at 25 s
/// (request.timeout.ms 5 s) while the ISR still names them (they are fenced at about 28 s), so
/// the retries are appended again and wait again: they time out at 30 s too, and by then the
/// ISR is the leader alone, so the next retry is refused (NOT_ENOUGH_REPLICAS), which the
/// finding names. Records older than delivery.timeout.ms (15 s) fail from 35 s, and the finding
/// says the application was told so.
#[test]
fn a_retry_appended_times_out_again_then_is_refused_below_min_isr() {
    let yaml = "name: t\nseed: 2\nduration: 50s\nbrokers: 3\nnetwork_delay: 0.5ms\n\
        topics:\n  - {name: orders, partitions: 1, replication_factor: 3, min_insync_replicas: 2, replicas: [[1, 2, 3]]}\n\
        producers:\n  - {name: web, topic: orders, rate: 1000/s, enable_idempotence: false, request_timeout_ms: 5000, delivery_timeout_ms: 15000}\n\
        groups:\n  - {id: shipping, topics: [orders], consumers: 1, auto_offset_reset: earliest}\n\
        timeline:\n  - {at: 20s, crash_broker: 2}\n  - {at: 20s, crash_broker: 3}\n  - {at: 45s, start_broker: 2}\n";
    let w = run_yaml(yaml);
    let times = timed_out_at(&w);
    assert_eq!(times.len(), 10, "{times:?}");
    assert!(
        times[..5].iter().all(|t| (24.9..25.1).contains(t)) && times[5..].iter().all(|t| (29.9..30.1).contains(t)),
        "{times:?}"
    );
    let refused: Vec<f64> = logged(&w)
        .into_iter()
        .filter(|e| e.kind == "produce_failed" && e.fields["error"] == "NOT_ENOUGH_REPLICAS")
        .map(|e| e.time.as_nanos() as f64 / 1e9)
        .collect();
    assert!(refused.len() == 1 && (29.9..30.1).contains(&refused[0]), "{refused:?}");
    let p = web(&w);
    assert_eq!(p["retries"], 10);
    assert!(p["lost_by_cause"]["delivery_timeout"].as_u64().unwrap() > 1000, "{p}");
    let texts: Vec<String> =
        summary(&w)["findings"].as_array().unwrap().iter().map(|f| f["text"].as_str().unwrap().to_string()).collect();
    assert!(
        texts.iter().any(|t| t.contains("and from 30.0 s the leader refused the retries (NOT_ENOUGH_REPLICAS)")),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains(
            "records, each send failing in its callback with a TimeoutException (by cause: delivery timeout"
        )),
        "{texts:?}"
    );
}

#[test]
fn with_idempotence_the_same_retries_write_nothing_twice() {
    let w = run_yaml(&below_min_isr(true, "70s", "120s"));
    let p = web(&w);
    assert_eq!(p["retries"], 5);
    assert_eq!(p["duplicates_written"], 0);
    assert_eq!(p["records_acked"], p["records_sent"]);
}

/// §2: past delivery.timeout.ms (120 s) the producer fails what it still waits for, including
/// the batches in the leader's log whose requests timed out; the accounting still adds up.
#[test]
fn batches_waiting_past_the_delivery_timeout_fail_and_the_accounting_adds_up() {
    let w = run_yaml(&below_min_isr(false, "170s", "200s"));
    let p = web(&w);
    let n = |k: &str| p[k].as_u64().unwrap();
    assert!(n("lost") > 30_000, "about 40 s of records expire: {p}");
    assert_eq!(p["lost_by_cause"]["delivery_timeout"], p["lost"]);
    assert_eq!(n("records_sent"), n("records_acked") + n("lost") + n("in_flight_at_end"));
    assert_eq!(p["duplicates_written"], 0, "a failed batch is not retried");
}

/// §1.3: a follower that has each batch 40 s late leaves the ISR at the first run of the
/// leader's isr-expiration task (every 15 s) at least 30 s after it slowed, so between 40 and
/// 55 s; the high watermark goes on without it, and it rejoins once its lag is gone and it has
/// copied what it lacks.
#[test]
fn a_follower_lagging_more_than_replica_lag_time_max_leaves_the_isr_and_comes_back() {
    let yaml = "name: t\nseed: 1\nduration: 150s\nbrokers: 3\nnetwork_delay: 0.5ms\n\
        topics:\n  - {name: orders, partitions: 1, replication_factor: 3, min_insync_replicas: 2, replicas: [[1, 2, 3]]}\n\
        producers:\n  - {name: web, topic: orders, rate: 1000/s}\n\
        groups:\n  - {id: shipping, topics: [orders], consumers: 1, auto_offset_reset: earliest}\n\
        timeline:\n  - {at: 10s, slow_broker: {broker: 3, lag: 40s}}\n  - {at: 100s, slow_broker: {broker: 3, lag: 0ms}}\n";
    let w = run_yaml(yaml);
    let changes: Vec<(f64, Value, Value)> = logged(&w)
        .into_iter()
        .filter(|e| e.kind == "isr_changed")
        .map(|e| (e.time.as_nanos() as f64 / 1e9, e.fields["isr"].clone(), e.fields["reason"].clone()))
        .collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    let (left, isr, why) = &changes[0];
    assert!((40.0..=55.0).contains(left), "left the ISR at {left} s");
    assert_eq!((isr, why), (&serde_json::json!([1, 2]), &Value::from("lagging")));
    let (back, isr, why) = &changes[1];
    assert!((100.0..101.0).contains(back), "rejoined at {back} s");
    assert_eq!((isr, why), (&serde_json::json!([1, 2, 3]), &Value::from("caught_up")));
    let s = summary(&w);
    let lag_max = s["groups"]["shipping"]["lag_ms"]["max"].as_f64().unwrap();
    assert!(lag_max > 30_000.0, "readers waited for the slow follower until it left: {lag_max}");
    assert_eq!(s["producers"]["web"]["lost"], 0);
    let under = s["topics"]["orders"]["partitions"][0]["under_replicated_ms"].as_f64().unwrap();
    assert!((45_000.0..=60_000.0).contains(&under), "under-replicated from leaving to rejoining: {under}");
}

/// A follower 20 s behind is still caught up by Kafka's rule (it fetched the leader's log end
/// of its previous fetch within 30 s): it stays in the ISR.
#[test]
fn a_follower_lagging_less_than_replica_lag_time_max_stays() {
    let yaml = "name: t\nseed: 1\nduration: 100s\nbrokers: 3\nnetwork_delay: 0.5ms\n\
        topics:\n  - {name: orders, partitions: 1, replication_factor: 3}\n\
        producers:\n  - {name: web, topic: orders, rate: 1000/s}\n\
        timeline:\n  - {at: 10s, slow_broker: {broker: 3, lag: 20s}}\n";
    let w = run_yaml(yaml);
    assert!(logged(&w).iter().all(|e| e.kind != "isr_changed"));
}

/// The guide's figures for `replication-min-isr-timeouts` (docs/guide.md, "Brokers that fail").
#[test]
fn the_shipped_min_isr_scenario_matches_the_guide() {
    let path = repo("scenarios/replication-min-isr-timeouts.yaml");
    let w = run_file(&path);
    let times = timed_out_at(&w);
    assert_eq!(times.len(), 5);
    assert!(times.iter().all(|t| (40.0..40.1).contains(t)), "{times:?}");
    let p = web(&w);
    assert_eq!((&p["retries"], &p["duplicates_written"], &p["lost"]), (&5.into(), &25.into(), &0.into()));
    let outage = p["unavailable_ms"]["max"].as_f64().unwrap();
    assert_eq!(format!("{:.1}", outage / 1000.0), "60.0");
    // While the high watermark waits, the records above it are in the leader's log alone: the
    // log end readers, kafka-consumer-groups.sh and Burrow see is the high watermark, so a group
    // that has read everything it can shows no lag (at 41 s, 25 records above it).
    let stalled = w.rec.metrics.iter().filter(|r| r.leader_log_end_offset > r.log_end_offset).collect::<Vec<_>>();
    assert!(
        stalled.iter().any(|r| r.leader_log_end_offset - r.log_end_offset >= 20 && r.committed == r.log_end_offset)
    );
    let leaves = logged(&w).into_iter().filter(|e| e.kind == "isr_changed").collect::<Vec<_>>();
    let back = leaves.last().unwrap().time.as_nanos() as f64 / 1e9;
    assert!((70.0..70.1).contains(&back), "broker 2 back in the ISR at {back} s");
    let text = std::fs::read_to_string(path).unwrap().replace("enable_idempotence: false", "enable_idempotence: true");
    let idempotent = run_yaml(&text);
    assert_eq!(web(&idempotent)["duplicates_written"], 0);
    assert_eq!(web(&idempotent)["retries"], 5);
}
