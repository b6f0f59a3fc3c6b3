//! Findings: each kind built by a small scenario and checked against what the run recorded;
//! a calm run has none.

use crate::util::{repo, run_file, run_yaml, summary};
use serde_json::Value;

fn findings(w: &kafkasim::kafka::world::World) -> Vec<Value> {
    summary(w)["findings"].as_array().expect("findings is a list").clone()
}

fn of_kind<'a>(f: &'a [Value], kind: &str, group: &str) -> Vec<&'a Value> {
    f.iter().filter(|x| x["kind"] == kind && x["group"] == group).collect()
}

fn names(v: &Value) -> Vec<&str> {
    v.as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect()
}

/// The issue's case: three consumers on six partitions at 2,500 records/s, each able to process
/// 1,000/s; one crashes at 20 s. Its partitions sit unread until its session ends (45 s), then
/// the two survivors own three partitions each, 1,250 records/s each against 1,000/s.
fn crash_then_overload(protocol: &str) -> String {
    format!(
        r#"
name: crash-overload
seed: 3
duration: 120s
topics: [{{name: t, partitions: 6}}]
producers: [{{name: p, topic: t, rate: 2500/s, arrival: constant, keys: none, partitioner: round_robin}}]
groups:
  - id: g
    topics: [t]
    protocol: {protocol}
    processing: 1ms
    commit: after_processing
    auto_offset_reset: earliest
    consumers: [{{name: a}}, {{name: b}}, {{name: c}}]
timeline:
  - {{at: 20s, crash: b}}
"#
    )
}

#[test]
fn a_crash_leaves_partitions_unowned_and_the_survivors_overloaded() {
    for protocol in ["eager", "cooperative"] {
        let w = run_yaml(&crash_then_overload(protocol));
        let f = findings(&w);
        let unowned = of_kind(&f, "unowned", "g");
        assert_eq!(unowned.len(), 1, "{protocol}: {f:#?}");
        let u = unowned[0];
        assert_eq!(names(&u["consumers"]), ["b"]);
        assert_eq!(u["partitions"].as_array().unwrap().len(), 2);
        assert_eq!(u["from_ms"], 20000);
        // Unread from the crash until its session ends (45 s after its last heartbeat, up to 3 s
        // before the crash) and the rebalance after it.
        let unread = u["value"].as_f64().unwrap();
        assert!((42_000.0..47_000.0).contains(&unread), "{protocol}: unread {unread}");
        assert_eq!(u["to_ms"].as_f64().unwrap(), 20000.0 + unread);
        let text = u["text"].as_str().unwrap();
        assert!(text.starts_with("b crashed at 20.0 s and the coordinator removed it at "), "{text}");
        assert!(text.contains("when its session ran out (session_timeout_ms 45000"), "{text}");
        assert!(text.contains(": 2 partitions (t-"), "{text}");

        let over = of_kind(&f, "overloaded", "g");
        assert_eq!(over.len(), 1, "{protocol}: {f:#?}");
        let o = over[0];
        assert_eq!(names(&o["consumers"]), ["a", "c"]);
        assert_eq!(o["to_ms"], Value::Null);
        // 2,500/s over two consumers that each process at most 1,000/s: 500/s more every second.
        let growth = o["value"].as_f64().unwrap();
        assert!((450.0..550.0).contains(&growth), "{protocol}: growth {growth}");
        let text = o["text"].as_str().unwrap();
        assert!(text.contains("a owns 3 partitions (since "), "{text}");
        assert!(text.contains("receiving 1,250 records/s and reads 1,000/s"), "{text}");
        assert!(text.contains("keeps growing"), "{text}");
    }
}

#[test]
fn a_calm_run_has_no_findings() {
    let w = run_yaml(
        r#"
name: calm
seed: 1
duration: 30s
topics: [{name: t, partitions: 4}]
producers: [{name: p, topic: t, rate: 500/s}]
groups:
  - id: g
    topics: [t]
    processing: 0.5ms
    commit: after_processing
    auto_offset_reset: earliest
    consumers: 2
"#,
    );
    assert_eq!(findings(&w), Vec::<Value>::new());
}

#[test]
fn a_rebalance_in_progress_at_the_end_says_what_it_waits_for_and_its_numbers_agree() {
    // The reference run: b2 crashes at 20 s and restarts at 35 s as a new member; the rebalance
    // its join starts waits for the old, silent member until its session ends at 63 s.
    let w = run_file(&repo("scenarios/reference.yaml"));
    let s = summary(&w);
    let f = findings(&w);
    let rb = of_kind(&f, "rebalance_in_progress_at_end", "billing");
    assert_eq!(rb.len(), 1, "{f:#?}");
    assert_eq!(rb[0]["from_ms"], 35000);
    assert_eq!(rb[0]["to_ms"], Value::Null);
    assert_eq!(rb[0]["partitions"].as_array().unwrap().len(), 6);
    let text = rb[0]["text"].as_str().unwrap();
    assert!(text.contains("its session ends at 63.0 s"), "{text}");
    // The unfinished rebalance counts: every revocation the events show, and its pause.
    let g = &s["groups"]["billing"];
    let revoked_in_events: usize = crate::util::logged(&w)
        .iter()
        .filter(|e| e.kind == "partitions_revoked" && e.fields["group"] == "billing")
        .map(|e| e.fields["partitions"].as_array().unwrap().len())
        .sum();
    assert!(revoked_in_events > 0);
    assert_eq!(g["revoked_partitions"], revoked_in_events as u64);
    let in_progress = g["rebalance_pause_ms"]["in_progress_ms"].as_f64().unwrap();
    assert!(in_progress > 0.0);
    assert!(g["rebalance_pause_ms"]["total"].as_f64().unwrap() >= in_progress);
}

#[test]
fn standby_consumers_are_found() {
    let w = run_file(&repo("scenarios/standby.yaml"));
    let f = findings(&w);
    let sb = of_kind(&f, "standby", "ledger");
    assert_eq!(sb.len(), 1, "{f:#?}");
    assert_eq!(names(&sb[0]["consumers"]), ["ledger-4", "ledger-5"]);
    assert_eq!(sb[0]["value"], 2);
}

#[test]
fn a_poll_timeout_names_the_batch_that_made_it_late() {
    let w = run_file(&repo("scenarios/poll-timeout.yaml"));
    let f = findings(&w);
    let pt = of_kind(&f, "poll_timeout", "workers");
    assert_eq!(pt.len(), 2, "{f:#?}");
    assert_eq!(names(&pt[0]["consumers"]), ["w1"]);
    assert_eq!(pt[0]["value"], 20000.0);
    let text = pt[0]["text"].as_str().unwrap();
    assert!(text.contains("its batch of 500 records takes 20.0 s"), "{text}");
    assert!(text.contains("max_poll_interval_ms 10000"), "{text}");
    // Its partitions sat unread from the timeout until the other consumer fetched them.
    assert_eq!(of_kind(&f, "unowned", "workers").len(), 2);
}

#[test]
fn duplicates_and_losses_say_how_many_and_why() {
    let w = run_file(&repo("scenarios/crash-at-least-once.yaml"));
    let s = summary(&w);
    let f = findings(&w);
    let d = of_kind(&f, "duplicates", "fulfilment");
    assert_eq!(d.len(), 1, "{f:#?}");
    assert_eq!(d[0]["value"], s["groups"]["fulfilment"]["duplicates"]);
    assert!(d[0]["text"].as_str().unwrap().contains("(by cause: crash "));
    assert!(of_kind(&f, "lost", "fulfilment").is_empty());

    let w = run_file(&repo("scenarios/retention-outruns-slow-consumer.yaml"));
    let s = summary(&w);
    let f = findings(&w);
    let l = of_kind(&f, "lost", "latest");
    assert_eq!(l.len(), 1, "{f:#?}");
    assert_eq!(l[0]["value"], s["groups"]["latest"]["lost"]);
    let text = l[0]["text"].as_str().unwrap();
    assert!(text.contains("offset_reset") && text.contains("retention"), "{text}");
}

#[test]
fn lag_status_and_a_hang_are_found() {
    let w = run_file(&repo("scenarios/stuck-consumer.yaml"));
    let f = findings(&w);
    let u = of_kind(&f, "unowned", "ledger");
    assert_eq!(u.len(), 1, "{f:#?}");
    assert!(u[0]["text"].as_str().unwrap().starts_with("ledger-1 hung at 30.5 s"));
    assert_eq!(u[0]["to_ms"], Value::Null);
    let l = of_kind(&f, "lag_status", "ledger");
    assert_eq!(l.len(), 1);
    let first = summary(&w)["groups"]["ledger"]["lag_status"]["first_not_ok_ms"].as_f64();
    assert_eq!(l[0]["from_ms"].as_f64(), first);
}

#[test]
fn push_drops_and_out_of_memory_are_found() {
    let w = run_file(&repo("scenarios/push-vs-pull-unavailable.yaml"));
    let f = findings(&w);
    let d = of_kind(&f, "drops", "drop");
    assert_eq!(d.len(), 1, "{f:#?}");
    assert_eq!(d[0]["value"], summary(&w)["groups"]["drop"]["push"]["drops"]);
    assert!(of_kind(&f, "drops", "block").is_empty());

    let w = run_file(&repo("scenarios/push-vs-pull-slow-consumer.yaml"));
    let f = findings(&w);
    let oom: Vec<&Value> = f.iter().filter(|x| x["kind"] == "out_of_memory").collect();
    assert_eq!(oom.len(), 1, "{f:#?}");
    assert_eq!(names(&oom[0]["consumers"]), ["unbounded-1"]);
    assert!(oom[0]["text"].as_str().unwrap().contains("died of out of memory at"));
}

#[test]
fn share_lock_expiry_and_archiving_are_found() {
    let w = run_file(&repo("scenarios/share-hung-consumer.yaml"));
    let f = findings(&w);
    let le = of_kind(&f, "lock_expiry", "hung");
    assert_eq!(le.len(), 1, "{f:#?}");
    assert_eq!(le[0]["value"], summary(&w)["groups"]["hung"]["lock_expiries"]);

    let w = run_file(&repo("scenarios/share-poison-record.yaml"));
    let f = findings(&w);
    let a: Vec<&Value> = f.iter().filter(|x| x["kind"] == "archived").collect();
    assert_eq!(a.len(), 1, "{f:#?}");
    assert!(a[0]["text"].as_str().unwrap().starts_with("1 record was archived"));
}

#[test]
fn findings_are_in_time_order() {
    let w = run_file(&repo("scenarios/poll-timeout.yaml"));
    let from: Vec<f64> = findings(&w).iter().map(|x| x["from_ms"].as_f64().unwrap()).collect();
    assert!(from.windows(2).all(|p| p[0] <= p[1]), "{from:?}");
}

#[test]
fn a_full_share_window_is_found_where_it_throttles() {
    let w = run_file(&repo("scenarios/share-window-stall.yaml"));
    let f = findings(&w);
    let full = of_kind(&f, "lock_window_full", "polls-500");
    assert_eq!(full.len(), 1, "{f:#?}");
    assert!(full[0]["value"].as_f64().unwrap() > 50.0);
    assert!(full[0]["text"].as_str().unwrap().contains("share_partition_max_record_locks 2,000"));
    // Six polls of 300 fit in the window: it fills only now and then, which is not a finding.
    assert!(of_kind(&f, "lock_window_full", "polls-300").is_empty(), "{f:#?}");
}

/// A crashed leader's successor with too few in-sync replicas: the producer's requests fail
/// first for the crash (NETWORK_EXCEPTION), then, once a leader is elected, for
/// min.insync.replicas (NOT_ENOUGH_REPLICAS, logged when it changed). The finding names both, in
/// order, rather than blaming the whole stretch on the crash.
#[test]
fn an_outage_names_each_error_its_requests_got() {
    let w = run_yaml(
        "name: t\nduration: 60s\nbrokers: 3\nmin_insync_replicas: 3\n\
         topics: [{name: pay, partitions: 2, replicas: [[1, 2, 3], [2, 3, 1]]}]\n\
         producers: [{name: api, topic: pay, rate: 1000/s}]\n\
         groups: [{id: g, topics: [pay], consumers: 1}]\n\
         timeline:\n  - {at: 15s, crash_broker: 1}\n  - {at: 40s, start_broker: 1}\n",
    );
    let s = summary(&w);
    let f =
        s["findings"].as_array().unwrap().iter().find(|f| f["kind"] == "unavailable").expect("an unavailable finding");
    let text = f["text"].as_str().unwrap();
    let took = text.find("until a leader took them at").unwrap_or_else(|| panic!("{text}"));
    let refused = text.find("NOT_ENOUGH_REPLICAS").unwrap_or_else(|| panic!("{text}"));
    assert!(text.contains("(NETWORK_EXCEPTION)") && took < refused, "{text}");
    let logged = crate::util::logged(&w);
    let errors: Vec<&str> = logged
        .iter()
        .filter(|e| e.kind == "produce_failed")
        .filter_map(|e| e.fields.get("error").and_then(Value::as_str))
        .collect();
    assert!(errors.contains(&"NETWORK_EXCEPTION") && errors.contains(&"NOT_ENOUGH_REPLICAS"), "{errors:?}");
    // The refusal starts when the controller elects broker 1's successor: broker 1's session
    // (broker_session_timeout_ms 9 s) runs out 9 s after its last heartbeat (every 2 s) before
    // the crash at 15 s, so between 22 s and 24 s; the event is logged at that election.
    let time_of = |kind: &str, error: Option<&str>| {
        logged
            .iter()
            .find(|e| {
                e.kind == kind
                    && e.fields.get("partition").and_then(Value::as_str) == Some("pay-0")
                    && error.is_none_or(|x| e.fields.get("error").and_then(Value::as_str) == Some(x))
            })
            .map(|e| e.time.as_nanos())
            .unwrap_or_else(|| panic!("{kind}"))
    };
    let refused = time_of("produce_failed", Some("NOT_ENOUGH_REPLICAS"));
    assert_eq!(refused, time_of("leader_elected", None));
    assert!((22_000_000_000..=24_000_000_000).contains(&refused), "{refused}");
}
