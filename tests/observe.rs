//! What a run shows beyond committed lag (issue 10): the backlog the group has not read yet, and
//! every consumer described as `kafka-consumer-groups.sh --describe --members --verbose` would.

use crate::util::*;

/// Backlog (issue 10): records the group has not read yet. queue-group's three consumers join at
/// 6.0 s (3 s initial delay, extended once); until then nothing is read and nothing committed, so
/// committed lag is blank while backlog counts every record written (auto_offset_reset: earliest).
#[test]
fn backlog_counts_what_waits_before_the_first_commit() {
    let w = run_file(&repo("scenarios/queue-group.yaml"));
    let at_6s: Vec<_> = w.rec.metrics.iter().filter(|r| r.time.as_millis() == 6_000).collect();
    assert_eq!(at_6s.len(), 6);
    for r in &at_6s {
        assert_eq!(r.committed, kafkasim::record::NONE_U64, "no commit yet");
        assert_eq!(r.backlog, r.log_end_offset - r.log_start_offset);
    }
    assert!(at_6s.iter().map(|r| r.backlog).sum::<u64>() > 15_000);
    for r in w.rec.metrics.iter().filter(|r| r.position != kafkasim::record::NONE_U64) {
        assert_eq!(r.backlog, r.log_end_offset - r.position, "an owner's backlog is what it has not fetched");
    }
    let s = summary(&w);
    let b = &s["groups"]["workers"]["backlog_records"];
    assert!(b["max"].as_u64().unwrap() >= at_6s.iter().map(|r| r.backlog).sum::<u64>());
}

/// Every consumer, as `kafka-consumer-groups.sh --describe --members --verbose` shows it: the
/// standby scenario's two idle consumers are `standby` with no partitions and nothing processed;
/// per-consumer records add up to the group's; busy + idle + rebalancing is the time it ran.
#[test]
fn every_consumer_is_described() {
    let s = summary(&run_file(&repo("scenarios/standby.yaml")));
    let g = &s["groups"]["ledger"];
    let consumers = g["consumers"].as_object().unwrap();
    assert_eq!(consumers.len(), 5);
    let standbys: Vec<&String> = consumers.iter().filter(|(_, c)| c["state"] == "standby").map(|(n, _)| n).collect();
    assert_eq!(standbys.len(), 2);
    for name in standbys {
        assert_eq!(consumers[name]["records_processed"], 0);
        assert!(consumers[name]["partitions"].as_array().unwrap().is_empty());
        assert!(consumers[name]["polls"].as_u64().unwrap() > 0, "a standby keeps polling");
    }
    let total: u64 = consumers.values().map(|c| c["records_processed"].as_u64().unwrap()).sum();
    assert_eq!(total, g["records_processed"].as_u64().unwrap());
    let duration = s["duration_ms"].as_f64().unwrap();
    for (name, c) in consumers {
        let sum =
            c["busy_ms"].as_f64().unwrap() + c["idle_ms"].as_f64().unwrap() + c["rebalancing_ms"].as_f64().unwrap();
        assert!((sum - duration).abs() < 0.01, "{name}: {sum} vs {duration}");
        // The first join: blocked in poll() from 0 to the assignment at 6.0 s.
        assert_eq!(c["rebalancing_ms"].as_f64().unwrap(), 6_000.0, "{name}");
    }

    let reference = summary(&run_file(&repo("scenarios/reference.yaml")));
    let b2 = &reference["groups"]["billing"]["consumers"]["b2"];
    // b2 runs 0-20 s, crashes, and runs again from 35 s to the end at 60 s.
    let ran =
        b2["busy_ms"].as_f64().unwrap() + b2["idle_ms"].as_f64().unwrap() + b2["rebalancing_ms"].as_f64().unwrap();
    assert!((ran - 45_000.0).abs() < 0.01, "{ran}");
}

fn statuses(w: &kafkasim::kafka::world::World, group: usize) -> Vec<&'static str> {
    let mut v: Vec<&'static str> =
        w.rec.metrics.iter().filter(|r| r.group as usize == group).map(|r| r.lag_status.name()).collect();
    v.sort();
    v.dedup();
    v
}

/// Lag status as Burrow evaluates it (issue 11). slow-consumer's lag only grows: WARN. In
/// rewind-after-bug the committed offsets go back to 10 s: REWIND on the partitions (ERR for the
/// group). In reference, b2 crashes at 20 s and its partitions' commits stop while lag grows: STOP.
/// In session-timeout the crashed consumer had committed with zero lag inside its window, and
/// Burrow's first rule (zero lag anywhere in the window) keeps it OK: a caught-up consumer that
/// dies is not flagged.
#[test]
fn lag_status_follows_burrows_rules() {
    let slow = run_file(&repo("scenarios/slow-consumer.yaml"));
    assert_eq!(statuses(&slow, 0), vec!["OK", "WARN"]);
    assert_eq!(summary(&slow)["groups"]["dashboard"]["lag_status"]["at_end"], "WARN");

    let rewind = run_file(&repo("scenarios/rewind-after-bug.yaml"));
    assert!(statuses(&rewind, 0).contains(&"REWIND"));
    let s = summary(&rewind);
    assert_eq!(s["groups"]["billing"]["lag_status"]["worst"], "ERR");
    assert_eq!(s["groups"]["billing"]["lag_status"]["at_end"], "OK", "the replay catches up");

    let reference = run_file(&repo("scenarios/reference.yaml"));
    assert!(statuses(&reference, 0).contains(&"STOP"));
    let s = summary(&reference);
    let first = s["groups"]["billing"]["lag_status"]["first_not_ok_ms"].as_f64().unwrap();
    assert!(first > 0.0);
    assert_eq!(s["groups"]["audit"]["lag_status"]["worst"], "OK");

    let session = summary(&run_file(&repo("scenarios/session-timeout.yaml")));
    assert_eq!(session["groups"]["default-timeout"]["lag_status"]["worst"], "OK");
}
