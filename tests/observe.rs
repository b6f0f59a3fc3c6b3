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

/// Every record written to a group's partitions is in one of its figures. A group that starts at
/// `latest` never reads what came before: that is `records_before_start`, here the 10 s before
/// the consumer's start plus the 3 s initial rebalance delay (100 records/s: about 1,300), and
/// what it does read adds up to the rest. reference.yaml's `audit` group starts at `latest`
/// while `billing` starts at `earliest`; retention-outruns-slow-consumer's `latest` group is reset
/// to the log end after retention deleted its position.
#[test]
fn every_record_written_is_in_one_figure() {
    let late = r#"
name: late
seed: 1
duration: 30s
topics: [{name: t, partitions: 4}]
producers: [{name: p, topic: t, rate: 100/s}]
groups:
  - {id: g, topics: [t], auto_offset_reset: latest, consumers: [{name: c1, start_at: 10s}]}
"#;
    let runs = [
        (run_yaml(late), vec![("g", 1_250..1_350)]),
        (run_file(&repo("scenarios/reference.yaml")), vec![("billing", 0..1), ("audit", 5_000..7_000)]),
        (
            run_file(&repo("scenarios/retention-outruns-slow-consumer.yaml")),
            vec![("earliest", 0..1), ("latest", 1..10_000)],
        ),
    ];
    for (w, groups) in runs {
        let s = summary(&w);
        let written: u64 = s["topics"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|t| t["log_end_offsets"].as_array().unwrap())
            .map(|v| v.as_u64().unwrap())
            .sum();
        for (id, before) in groups {
            let g = &s["groups"][id];
            let n = |k: &str| g[k].as_u64().unwrap();
            let b = n("records_before_start");
            assert!(before.contains(&b), "{id}: {b} records before its start");
            let once = n("records_processed") - n("duplicates") - n("replays");
            let accounted =
                b + once + n("lost") + n("in_flight_at_end") + g["backlog_records"]["final"].as_u64().unwrap();
            assert_eq!(accounted, written, "{id}: every record written is in one figure");
        }
    }
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

/// Lag status as Burrow's code evaluates it (issues 11 and 20). slow-consumer's lag only grows:
/// with Burrow fetching log ends every 1 s it ends WARN; at Burrow's default 10 s each commit's
/// lag is measured against a log end up to 10 s old, so it seems to shrink between fetches and
/// the group reads OK (linkedin/Burrow#155). In rewind-after-bug the committed offsets go back to
/// 10 s: REWIND (ERR for the group) until the replay commits past where it was. In reference and
/// session-timeout a consumer crashes after committing caught up: its partitions get a new owner
/// before Burrow's last 10 log ends (100 s) have all moved past its last commit, so no STOP.
#[test]
fn lag_status_follows_burrows_rules() {
    let slow = run_file(&repo("scenarios/slow-consumer.yaml"));
    assert!(statuses(&slow, 0).contains(&"WARN"), "{:?}", statuses(&slow, 0));
    assert_eq!(summary(&slow)["groups"]["dashboard"]["lag_status"]["at_end"], "WARN");
    let text = std::fs::read_to_string(repo("scenarios/slow-consumer.yaml")).unwrap();
    let default_refresh = run_yaml(&text.replace("burrow: {offset_refresh: 1s}", ""));
    assert_eq!(summary(&default_refresh)["groups"]["dashboard"]["lag_status"]["at_end"], "OK");

    let rewind = run_file(&repo("scenarios/rewind-after-bug.yaml"));
    assert!(statuses(&rewind, 0).contains(&"REWIND"));
    let s = summary(&rewind);
    assert_eq!(s["groups"]["billing"]["lag_status"]["worst"], "ERR");
    assert_eq!(s["groups"]["billing"]["lag_status"]["at_end"], "OK", "the replay catches up");

    let reference = summary(&run_file(&repo("scenarios/reference.yaml")));
    assert_eq!(reference["groups"]["billing"]["lag_status"]["worst"], "OK");
    assert_eq!(reference["groups"]["audit"]["lag_status"]["worst"], "OK");
    let session = summary(&run_file(&repo("scenarios/session-timeout.yaml")));
    assert_eq!(session["groups"]["default-timeout"]["lag_status"]["worst"], "OK");
}

/// The fault the wiki's rule order hid: a consumer caught up at every commit freezes for good at
/// 30.5 s (one partition, 100 records/s, a commit after every batch). Its last commit, 3,049 at
/// about 30.49 s, is ahead of the log end Burrow fetched at 30 s (about 3,000), so while that
/// fetch is among its last 10 (one every 10 s: 40 s, ..., 130 s push it out) STOP is held off; from
/// the fetch at 130 s none is at or below 3,049, and the time since the last commit (about 100 s)
/// is far longer than its window spans (9 s): STOP at 130 s, the group ERR. The old order
/// (zero lag at a commit first) read OK for ever.
#[test]
fn a_caught_up_consumer_that_stops_committing_is_stopped_once_burrows_log_ends_move_past_it() {
    let w = run_file(&repo("scenarios/stuck-consumer.yaml"));
    let s = summary(&w);
    let g = &s["groups"]["ledger"];
    assert_eq!(g["committed_offsets"]["payments"][0], 3049);
    assert_eq!(g["lag_status"]["first_not_ok_ms"], 130_000.0);
    assert_eq!(g["lag_status"]["at_end"], "ERR");
    let before: Vec<&str> = w
        .rec
        .metrics
        .iter()
        .filter(|r| r.time < kafkasim::sim::SimTime::from_millis(130_000))
        .map(|r| r.lag_status.name())
        .collect();
    assert!(before.iter().all(|&st| st == "OK"), "OK until 130 s");
    assert!(w.rec.metrics.iter().filter(|r| r.time.as_millis() >= 130_000).all(|r| r.lag_status.name() == "STOP"));
    let changes: Vec<_> = logged(&w).into_iter().filter(|e| e.kind == "lag_status").collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!((changes[0].time.as_millis(), changes[0].fields["status"].as_str()), (130_000, Some("ERR")));
    assert_eq!(changes[0].fields["partition_status"], "STOP");
    let story = kafkasim::report::narrate::story(&w.run_record());
    assert!(
        story
            .iter()
            .any(|l| l.starts_with("02:10.000  [lag status] Burrow now reads group ledger ERR: payments-0 is STOP")),
        "{story:#?}"
    );
    // A shorter offset refresh ages the caught-up fetch out sooner: with 5 s, the last fetch at
    // or below 3,049 (30 s) leaves the ring at 30 + 10 x 5 = 80 s.
    let text = std::fs::read_to_string(repo("scenarios/stuck-consumer.yaml")).unwrap();
    let faster = summary(&run_yaml(&text.replace("seed: 1\n", "seed: 1\nburrow: {offset_refresh: 5s}\n")));
    assert_eq!(faster["groups"]["ledger"]["lag_status"]["first_not_ok_ms"], 80_000.0);
}
