//! Offsets as numbers: every seek target, boundaries, offset resets, retention and out-of-range
//! policies, replays apart from duplicates, and the error cases.

use crate::util::*;
use kafkasim::kafka::world::World;

/// 1000 records/s, one per millisecond (offset o created at o+1 ms), one partition, one
/// consumer polling every 100 ms with free processing.
fn one_partition(extra_group: &str, timeline: &str, duration: &str) -> String {
    format!(
        r#"
name: offsets
seed: 1
duration: {duration}
topics: [{{name: t, partitions: 1}}]
producers: [{{name: p, topic: t, rate: 1000/s, arrival: constant, linger_ms: 0}}]
groups:
  - id: g
    topics: [t]
    consumers: [{{name: c}}]
    group_initial_rebalance_delay_ms: 0
    poll_interval: 100ms
    fetch_max_wait_ms: 0
    processing: 0ms
    commit: after_processing
    auto_offset_reset: earliest
{extra_group}
timeline:
{timeline}
"#
    )
}

fn seek_moves(w: &World) -> Vec<(u64, u64)> {
    logged(w)
        .into_iter()
        .filter(|e| e.kind == "seek")
        .map(|e| {
            let m = &e.fields["moves"][0];
            (m["from"].as_u64().unwrap(), m["to"].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn every_seek_target_kind() {
    // At 1050 ms the consumer's position is 999: its poll at 1000 ms read offsets 0..999 (the
    // record created at 1000 ms is appended after that poll).
    let at =
        |to: &str| one_partition("", &format!("  - {{at: 1050ms, seek: {{consumer: c, topic: t, to: {to}}}}}"), "1.2s");
    assert_eq!(seek_moves(&run_yaml(&at("earliest"))), vec![(999, 0)]);
    assert_eq!(seek_moves(&run_yaml(&at("latest"))), vec![(999, 1049)]);
    assert_eq!(seek_moves(&run_yaml(&at("123"))), vec![(999, 123)]);
    // The first record created at or after 500 ms is offset 499.
    assert_eq!(seek_moves(&run_yaml(&at("{timestamp: 500ms}"))), vec![(999, 499)]);
    assert_eq!(seek_moves(&run_yaml(&at("{shift: -100}"))), vec![(999, 899)]);
    // A shift before the start clamps at 0.
    assert_eq!(seek_moves(&run_yaml(&at("{shift: -5000}"))), vec![(999, 0)]);
}

#[test]
fn a_backward_seek_is_a_replay_not_a_duplicate() {
    let w = run_yaml(&one_partition("", "  - {at: 1050ms, seek: {consumer: c, topic: t, to: {shift: -100}}}", "1.5s"));
    let s = summary(&w);
    let g = &s["groups"]["g"];
    assert_eq!(g["replays"], 100);
    assert_eq!(g["duplicates"], 0);
    assert_eq!(g["lost"], 0);
    // The offsets go back: the commit after the seek commits the rewound position.
    assert!(logged(&w).into_iter().any(|e| e.kind == "seek"));
}

#[test]
fn a_seek_past_the_log_end_is_out_of_range_and_reset() {
    let w = run_yaml(&one_partition("", "  - {at: 1050ms, seek: {consumer: c, topic: t, to: 99999}}", "1.2s"));
    let oor: Vec<_> = logged(&w).into_iter().filter(|e| e.kind == "offset_out_of_range").collect();
    assert_eq!(oor.len(), 1);
    assert_eq!(oor[0].fields["position"], 99999);
    assert_eq!(oor[0].fields["reset_to"], 0, "auto_offset_reset: earliest");
}

#[test]
fn reset_offsets_needs_an_inactive_group() {
    let active =
        run_yaml(&one_partition("", "  - {at: 500ms, reset_offsets: {group: g, topic: t, to: earliest}}", "1s"));
    let rejected: Vec<_> = logged(&active).into_iter().filter(|e| e.kind == "action_rejected").collect();
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0].fields["reason"].as_str().unwrap().contains("inactive group"));
    assert_eq!(active.rec.rejected_actions, 1);

    // Stopped (LeaveGroup) at 1.05 s, reset to 300 at 1.1 s, back at 1.2 s: it reprocesses 300..
    let timeline = "  - {at: 1050ms, stop: c}\n  - {at: 1100ms, reset_offsets: {group: g, topic: t, to: 300}}\n  - {at: 1200ms, start: c}";
    let w = run_yaml(&one_partition("", timeline, "1.5s"));
    let reset = logged(&w).into_iter().find(|e| e.kind == "offsets_reset").unwrap();
    assert_eq!(reset.fields["moves"][0]["from"], 999, "committed on close");
    assert_eq!(reset.fields["moves"][0]["to"], 300);
    let s = summary(&w);
    assert_eq!(s["groups"]["g"]["replays"], 999 - 300);
    assert_eq!(s["groups"]["g"]["duplicates"], 0);
}

#[test]
fn reset_offsets_clamps_to_the_log() {
    let timeline =
        "  - {at: 1050ms, stop: c}\n  - {at: 1100ms, reset_offsets: {group: g, topic: t, to: {shift: 100000}}}";
    let w = run_yaml(&one_partition("", timeline, "1.2s"));
    let reset = logged(&w).into_iter().find(|e| e.kind == "offsets_reset").unwrap();
    assert_eq!(reset.fields["moves"][0]["to"], 1099, "clamped to the log end");
}

/// (time in ms, new log start offset) of every segments_deleted event.
fn segment_deletions(w: &kafkasim::kafka::world::World) -> Vec<(u64, u64)> {
    logged(w)
        .into_iter()
        .filter(|e| e.kind == "segments_deleted")
        .map(|e| (e.time.as_millis(), e.fields["log_start_offset"].as_u64().unwrap()))
        .collect()
}

/// 5 s segments, 10 s retention, checked every second: the log start moves a whole segment at a
/// time, and only segments whose newest record is older than the retention go.
#[test]
fn retention_deletes_whole_segments() {
    let yaml = r#"
name: retention
seed: 1
duration: 30s
log_retention_check_interval_ms: 1000
log_initial_task_delay_ms: 1000
topics: [{name: t, partitions: 1, retention_ms: 10000, segment_ms: 5000}]
producers: [{name: p, topic: t, rate: 100/s, arrival: constant, linger_ms: 0}]
"#;
    let w = run_yaml(yaml);
    let deletes = segment_deletions(&w);
    // A segment rolls when a batch's newest timestamp is more than segment.ms after the segment's
    // first batch's (LogSegment.shouldRoll): segment 1 holds the records created at 10 ms ..
    // 5010 ms (offsets 0..501). Its newest record is past retention once now - 5010 ms > 10 s, at
    // the 16 s check. Then one segment (501 records) every 5 s.
    assert_eq!(deletes, vec![(16_000, 501), (21_000, 1002), (26_000, 1503)]);
    assert_eq!(w.broker.partitions[0].log.log_start_offset(), 1503);
}

/// Rule 5 of issue 8: LogManager runs the first cleanupLogs log.initial.task.delay.ms (30 s) after
/// broker start, then every log.retention.check.interval.ms: nothing is deleted before 30 s even
/// though three segments are past retention by then.
#[test]
fn the_first_retention_check_waits_for_the_initial_task_delay() {
    let yaml = r#"
name: retention
seed: 1
duration: 37s
log_retention_check_interval_ms: 1000
topics: [{name: t, partitions: 1, retention_ms: 10000, segment_ms: 5000}]
producers: [{name: p, topic: t, rate: 100/s, arrival: constant, linger_ms: 0}]
"#;
    let w = run_yaml(yaml);
    let deletes = segment_deletions(&w);
    // Segments of 501 records whose newest records were created at 5.01, 10.01, 15.01, 20.01,
    // 25.01 s pass the 10 s retention at 15.01, 20.01, 25.01, 30.01, 35.01 s. The check at 30 s
    // deletes the first three at once; the checks at 31 s and 36 s one each.
    assert_eq!(deletes, vec![(30_000, 1503), (31_000, 2004), (36_000, 2505)]);
}

#[test]
fn out_of_range_policies_when_retention_outruns_a_consumer() {
    let s = summary(&run_file(&repo("scenarios/retention-outruns-slow-consumer.yaml")));
    let g = |id: &str| s["groups"][id].clone();
    assert!(g("earliest")["lost_by_cause"]["retention"].as_u64().unwrap() > 0);
    assert_eq!(g("earliest")["lost_by_cause"]["offset_reset"], 0, "earliest only loses what was deleted");
    assert!(
        g("latest")["lost_by_cause"]["offset_reset"].as_u64().unwrap() > 0,
        "latest also skips what was still there"
    );

    // With `none` a group needs committed offsets to start (reset them first, as an operator
    // would); when retention overtakes it, the consumer dies of OffsetOutOfRange.
    let none = std::fs::read_to_string(repo("scenarios/retention-outruns-slow-consumer.yaml"))
        .unwrap()
        .replace("auto_offset_reset: latest", "auto_offset_reset: none")
        .replace(
            "  - id: latest\n    topics: [metrics]\n    consumers: 1",
            "  - id: latest\n    topics: [metrics]\n    consumers: [{name: n1, start_at: 1s}]",
        )
        + "timeline:\n  - {at: 500ms, reset_offsets: {group: latest, topic: metrics, to: earliest}}\n";
    let w = run_yaml(&none);
    let err =
        logged(&w).into_iter().find(|e| e.kind == "consumer_error").expect("none: the consumer stops with an error");
    assert!(err.fields["error"].as_str().unwrap().contains("OffsetOutOfRange"));
}

#[test]
fn a_group_added_mid_run_reads_the_retained_log_from_the_start() {
    let w = run_file(&repo("scenarios/replay-from-beginning.yaml"));
    let s = summary(&w);
    let produced = s["records_produced"].as_u64().unwrap();
    assert_eq!(s["groups"]["recompute"]["records_processed"].as_u64().unwrap(), produced);
    // Nothing about the group is sampled before it exists.
    let gi = w.groups.iter().position(|g| g.id == "recompute").unwrap() as u16;
    let first = w.rec.metrics.iter().find(|r| r.group == gi).unwrap();
    assert_eq!(first.time.as_millis(), 30_000);
}

#[test]
fn added_partitions_remap_keys_and_the_group_reads_them() {
    let w = run_file(&repo("scenarios/add-partitions-keyed.yaml"));
    let s = summary(&w);
    let leo = s["topics"]["accounts"]["log_end_offsets"].as_array().unwrap().clone();
    assert_eq!(leo.len(), 6);
    assert!(leo[3..].iter().all(|n| n.as_u64().unwrap() > 0), "keys now hash onto partitions 3..6");
    assert_eq!(s["groups"]["balances"]["rebalances"], 2);
    let owned: usize = w.consumers.iter().map(|c| c.owned.len()).sum();
    assert_eq!(owned, 6);
    assert_eq!(s["groups"]["balances"]["lost"], 0);
}

#[test]
fn pause_fetches_nothing_and_resume_catches_up() {
    let w = run_yaml(&one_partition("", "  - {at: 500ms, pause: c}\n  - {at: 1500ms, resume: c}", "3s"));
    // While paused (0.5 s .. 1.5 s) the committed offset stands still.
    let committed = |ms: u64| w.rec.metrics.iter().find(|r| r.time.as_millis() == ms).map(|r| r.committed).unwrap();
    assert_eq!(committed(1000), committed(1500));
    assert!(committed(2000) > committed(1500));
    let producer_paused =
        run_yaml(&one_partition("", "  - {at: 1s, pause: {producer: p}}\n  - {at: 2s, resume: {producer: p}}", "3s"));
    // 1000/s for 2 of the 3 seconds.
    let produced = summary(&producer_paused)["records_produced"].as_u64().unwrap();
    assert!((1995..=2001).contains(&produced), "{produced}");
}

#[test]
fn offset_errors_are_caught_before_the_run() {
    let bad = |timeline: &str| {
        kafkasim::scenario::parse("x.yaml", &one_partition("", timeline, "2s")).unwrap_err().to_string()
    };
    assert!(bad("  - {at: 1s, seek: {consumer: c, topic: nope, to: earliest}}").contains("unknown topic"));
    assert!(bad("  - {at: 1s, seek: {consumer: c, topic: t, partition: 7, to: earliest}}").contains("no partition 7"));
    assert!(bad("  - {at: 1s, seek: {consumer: c, topic: t, to: {when: 3}}}").contains("expected one of"));
    assert!(bad("  - {at: 1s, seek: {consumer: c, topic: t, to: -5}}").contains("shift"));
    assert!(bad("  - {at: 1s, reset_offsets: {group: nope, topic: t, to: latest}}").contains("unknown group"));
    assert!(bad("  - {at: 1s, add_partitions: {topic: t, count: 1}}").contains("can only be added"));
    assert!(bad("  - {at: 1s, add_consumer: {group: nope, name: z}}").contains("unknown group"));
}

fn fixture(name: &str, yaml: &str) -> kafkasim::kafka::world::World {
    let _ = name;
    run_yaml(yaml)
}

/// A seek on a pushed-to consumer restarts the partition's push stream: messages already on the
/// wire (20 ms of network) are stale and dropped, so the rewind is replays only.
#[test]
fn a_seek_restarts_a_push_stream() {
    let w = fixture(
        "push-seek",
        r#"
name: push-seek
seed: 1
duration: 20s
network_delay: 20ms
topics: [{name: t, partitions: 1}]
producers: [{name: p, topic: t, rate: 1000/s, arrival: constant}]
groups:
  - id: g
    topics: [t]
    delivery: push
    push_overflow: block
    push_buffer: 1000
    push_batch_max: 100
    group_initial_rebalance_delay_ms: 0
    consumers: [{name: c1}]
    processing: 0.5ms
    commit: after_processing
    auto_offset_reset: earliest
timeline:
  - {at: 10s, seek: {consumer: c1, topic: t, to: {shift: -3000}}}
"#,
    );
    let g = &summary(&w)["groups"]["g"];
    assert_eq!(g["replays"], 3000);
    assert_eq!(g["duplicates"], 0);
}

/// Records re-read because of a crash during a replay are duplicates, not replays: each record
/// of the rewound range counts as a replay once.
#[test]
fn a_crash_during_a_replay_makes_duplicates() {
    let yaml = |timeline: &str| {
        format!(
            r#"
name: replay-crash
seed: 1
duration: 30s
topics: [{{name: t, partitions: 1}}]
producers: [{{name: p, topic: t, rate: 1000/s, arrival: constant}}]
groups:
  - id: g
    topics: [t]
    group_initial_rebalance_delay_ms: 0
    consumers: [{{name: c1, group_instance_id: i1}}]
    poll_interval: 10ms
    processing: 0.5ms
    commit: after_processing
    auto_offset_reset: earliest
timeline:
{timeline}
"#
        )
    };
    let clean = summary(&run_yaml(&yaml("  - {at: 10s, seek: {consumer: c1, topic: t, to: 0}}")));
    let crashed = summary(&run_yaml(&yaml(
        "  - {at: 10s, seek: {consumer: c1, topic: t, to: 0}}\n  - {at: 10.9s, crash: c1}\n  - {at: 11s, start: c1}",
    )));
    assert_eq!(clean["groups"]["g"]["duplicates"], 0);
    let replays = clean["groups"]["g"]["replays"].as_u64().unwrap();
    assert!(replays > 9000, "{replays}");
    assert_eq!(crashed["groups"]["g"]["replays"].as_u64().unwrap(), replays);
    assert!(crashed["groups"]["g"]["duplicates_by_cause"]["crash"].as_u64().unwrap() > 0);
}

/// Kafka deletes the active segment too once it breaches retention (rolling an empty one).
#[test]
fn retention_empties_an_idle_log() {
    let w = run_yaml(
        r#"
name: idle
seed: 1
duration: 30s
log_retention_check_interval_ms: 1000
topics: [{name: t, partitions: 1, retention_ms: 5000}]
producers: [{name: p, topic: t, rate: 100/s, arrival: constant}]
timeline:
  - {at: 10s, pause: {producer: p}}
"#,
    );
    let log = &w.broker.partitions[0].log;
    assert_eq!(log.log_end_offset(), 999, "records at 10 ms .. 9990 ms");
    assert_eq!(log.log_start_offset(), log.log_end_offset(), "everything expired");
}
