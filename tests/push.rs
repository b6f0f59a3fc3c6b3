//! Push delivery against hand-computed counts, and `compare` against its contract.

use crate::util::*;

/// 100 records/s, one per batch (linger 0), into one partition, pushed to a consumer whose first
/// record takes an hour: it holds record 1 and buffers the rest (one every 10 ms).
fn stuck_consumer(overflow: &str, extra: &str) -> String {
    format!(
        r#"
name: push-{overflow}
seed: 1
duration: 995ms
topics: [{{name: t, partitions: 1}}]
producers: [{{name: p, topic: t, rate: 100/s, arrival: constant, linger_ms: 0, record_size: 100}}]
groups:
  - id: g
    topics: [t]
    delivery: push
    push_overflow: {overflow}
    push_buffer: 10
    group_initial_rebalance_delay_ms: 0
    max_poll_records: 1
    processing: 1h
    commit: after_processing
    auto_offset_reset: earliest
    consumers: [{{name: c{extra}}}]
"#
    )
}

fn push_stats(w: &kafkasim::kafka::world::World) -> serde_json::Value {
    summary(w)["groups"]["g"]["push"].clone()
}

#[test]
fn drop_keeps_a_full_buffer_and_counts_the_rest() {
    // Records at 10, 20, ..., 990 ms: 99. One in processing, ten buffered, 88 dropped.
    let w = run_yaml(&stuck_consumer("drop", ""));
    assert_eq!(summary(&w)["records_produced"], 99);
    let p = push_stats(&w);
    assert_eq!(p["drops"], 88);
    assert_eq!(p["buffer_peak_records"], 10);
    assert_eq!(p["pushes"], 99, "one push message per appended batch");
    assert_eq!(w.consumers[0].buffered(), 10);
}

#[test]
fn block_stops_the_broker_at_the_buffer_size() {
    let w = run_yaml(&stuck_consumer("block", ""));
    let p = push_stats(&w);
    assert_eq!(p["drops"], 0);
    assert_eq!(p["buffer_peak_records"], 10);
    // Credit: 11 records ever sent (1 taken + 10 buffered); the rest waits on the broker.
    assert_eq!(p["pushes"], 11);
    assert_eq!(w.broker.push[0].as_ref().unwrap().offset[0], 11);
}

#[test]
fn unbounded_grows_until_the_consumer_runs_out_of_memory() {
    // 100-byte records, 5000 bytes of memory: the 51st buffered record (the 52nd arrival, at
    // 520 ms) is one too many.
    let w = run_yaml(&stuck_consumer("unbounded", ", consumer_memory: 5000"));
    let p = push_stats(&w);
    assert_eq!(p["out_of_memory"], 1);
    assert_eq!(p["buffer_peak_records"], 51);
    assert_eq!(p["buffer_peak_bytes"], 5100);
    let oom = logged(&w).into_iter().find(|e| e.kind == "consumer_out_of_memory").unwrap();
    assert_eq!(oom.time.as_millis(), 520);
    assert!(logged(&w).into_iter().any(|e| e.kind == "consumer_crashed"));
}

#[test]
fn compare_runs_both_modes_on_the_same_records() {
    let plan = kafkasim::scenario::load(&repo("scenarios/push-vs-pull-slow-consumer.yaml")).unwrap();
    let cmp = kafkasim::cli::compare::run(&plan).unwrap();
    for (a, b) in cmp.a.broker.partitions.iter().zip(&cmp.b.broker.partitions) {
        let n = a.log.log_end_offset();
        assert_eq!(n, b.log.log_end_offset());
        // Records the pulling run freed (every reader was done with them) are not compared.
        let from = a.log.retained_from().max(b.log.retained_from());
        assert!(from < n);
        for off in [from, (from + n) / 2, n - 1] {
            assert_eq!(a.log.created_at(off), b.log.created_at(off));
        }
    }
    let (pull, push) = (summary(&cmp.a), summary(&cmp.b));
    for g in ["drop", "unbounded", "block"] {
        assert_eq!(pull["groups"][g]["lost"], 0, "pull loses nothing ({g})");
        assert_eq!(pull["groups"][g]["delivery"], "pull");
        assert_eq!(push["groups"][g]["delivery"], "push");
    }
    assert!(push["groups"]["drop"]["lost"].as_u64().unwrap() > 0, "push + drop loses");
    assert_eq!(push["groups"]["unbounded"]["push"]["out_of_memory"], 1, "push + unbounded runs out of memory");
    let block = push["groups"]["block"]["records_processed"].as_u64().unwrap();
    let pulled = pull["groups"]["block"]["records_processed"].as_u64().unwrap();
    assert_eq!(block, pulled, "push + block keeps pull's pace");

    let dir = temp_dir("compare-out");
    let out = kafkasim()
        .args(["compare", "--out"])
        .arg(&dir)
        .arg(repo("scenarios/push-vs-pull-slow-consumer.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("| drop | push |"), "{stdout}");
    for f in [
        "compare.json",
        "compare.md",
        "latency.png",
        "buffer-vs-lag.png",
        "drops.png",
        "pull/summary.json",
        "push/summary.json",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("compare.json")).unwrap()).unwrap();
    assert_eq!(json["pull"], pull);
    assert_eq!(json["push"], push);
}

/// A long poll removes empty polls and most of pull's added latency.
#[test]
fn long_polling_removes_empty_polls() {
    let s = summary(&run_file(&repo("scenarios/pull-poll-interval.yaml")));
    let g = |id: &str, k: &str| s["groups"][id][k].clone();
    assert!(g("poll-10ms", "empty_polls").as_u64().unwrap() > 1000);
    assert_eq!(g("long-poll", "empty_polls"), 0);
    let p50 = |id: &str| s["groups"][id]["latency_ms"]["p50"].as_f64().unwrap();
    assert!(
        p50("long-poll") < p50("poll-10ms")
            && p50("poll-10ms") < p50("poll-100ms")
            && p50("poll-100ms") < p50("poll-1s")
    );
}
