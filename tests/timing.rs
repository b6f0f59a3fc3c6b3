//! The Java client's group timing (issue 8): when heartbeats go out, when auto-commit runs, when a
//! cooperative member revokes, when retention first runs; and the summary numbers that describe a
//! rebalance's cost. Every expected time is worked out by hand in the test's comment.

use crate::util::*;
use kafkasim::kafka::world::World;
use kafkasim::report::events::LoggedEvent;

fn events(w: &World, kind: &str) -> Vec<LoggedEvent> {
    logged(w).into_iter().filter(|e| e.kind == kind).collect()
}

fn times(w: &World, kind: &str) -> Vec<u64> {
    events(w, kind).iter().map(|e| e.time.as_millis()).collect()
}

/// Two members: c1 starts at 0, c2 at 1.2 s. c2 joins during the 3 s initial delay, so the delay
/// is extended once and generation 1 completes at 6.0 s (kafka-facts §3.3). Nothing is produced,
/// so every member sits in a parked long poll (fetch.max.wait.ms 500) and reacts to a group
/// response the instant it arrives. heartbeat.interval.ms 5 s, session.timeout.ms 15 s.
fn group(extra: &str, consumers: &str, timeline: &str, duration: &str) -> String {
    format!(
        r#"
name: timing
seed: 5
duration: {duration}
topics: [{{name: t, partitions: 4}}]
groups:
  - id: g
    topics: [t]
    heartbeat_interval_ms: 5000
    session_timeout_ms: 15000
    auto_offset_reset: earliest
{extra}
    consumers:
      - {{name: c1}}
      - {{name: c2, start_at: 1.2s}}
{consumers}
timeline:
{timeline}
"#
    )
}

/// Rule 1: the heartbeat schedule restarts at every JoinGroup response (AbstractCoordinator's
/// JoinGroupResponseHandler -> heartbeatThread.enable() -> Heartbeat.resetTimeouts()).
/// Generation 1's JoinGroup responses arrive at 6.0 s, so both members heartbeat at 11, 16, 21,
/// 26 s, not on grids from their own first joins (c2's would have been 6.2, 11.2, 16.2 s).
/// c2 crashes at 19.5 s: its last heartbeat reached the coordinator at 16 s, so its session
/// expires at 16 + 15 = 31.0 s (not 16.2 + 15 = 31.2 s).
#[test]
fn a_crashed_members_session_counts_from_its_last_heartbeat_after_the_join() {
    let w = run_yaml(&group("", "", "  - {at: 19.5s, crash: c2}", "40s"));
    assert_eq!(times(&w, "rebalance_completed")[0], 6_000);
    assert_eq!(times(&w, "member_fenced"), vec![31_000]);
}

/// Rule 1, continued: c3 joins at 19.5 s. c1 and c2 read REBALANCE_IN_PROGRESS on their next
/// heartbeat response, 21.0 s (6 + 3 x 5), and rejoin at once (their long polls are interrupted),
/// so generation 2 completes at 21.0 s. Its JoinGroup responses restart the schedule again:
/// heartbeats at 26, 31, 36 s. c1 crashes at 32 s: last heartbeat 31 s, fenced at 46.0 s.
#[test]
fn each_rebalance_restarts_the_heartbeat_schedule() {
    let w = run_yaml(&group("", "      - {name: c3, start_at: 19.5s}", "  - {at: 32s, crash: c1}", "50s"));
    assert_eq!(times(&w, "rebalance_completed"), vec![6_000, 21_000, 46_000]);
    assert_eq!(times(&w, "member_fenced"), vec![46_000]);
}

/// Rule 2: the auto-commit timer restarts when a join completes (ConsumerCoordinator.onJoinComplete:
/// nextAutoCommitTimer.updateAndReset). auto.commit.interval.ms 5 s and generation 1 at 6.0 s: the
/// first auto-commit is at the first poll at or after 11.0 s. Records arrive every 10 ms, so a
/// parked poll returns within 10 ms of 11.0 s and the sample at 11.1 s is the first to show a
/// committed offset (the one at 10.9 s shows none yet).
#[test]
fn the_first_auto_commit_is_one_interval_after_the_join() {
    let yaml = group("    commit: auto\n    auto_commit_interval_ms: 5000", "", "  []", "15s")
        .replace("groups:", "producers: [{name: p, topic: t, rate: 100/s, arrival: constant, linger_ms: 0}]\ngroups:");
    let w = run_yaml(&yaml);
    let first_committed = w
        .rec
        .metrics
        .iter()
        .find(|r| r.committed != kafkasim::record::NONE_U64)
        .map(|r| r.time.as_millis())
        .expect("a commit happened");
    assert_eq!(first_committed, 11_100);
}

/// Rules 3 and 4 under cooperative rebalancing. c3 joins at 19.5 s; c1 and c2 rejoin at 21.0 s
/// (their heartbeat), and the first round completes at 21.0 s. The cooperative-sticky assignor
/// takes one partition from c1 or c2 for c3: its SyncGroup response ends its parked long poll and it
/// revokes at 21.0 s exactly (rule 4; waiting out the 500 ms long poll would make it 21.5 s), then
/// sends the second JoinGroup in the same poll. c2 and c3 hear of the second round at their next
/// heartbeat, 26.0 s (5 s after the 21.0 s JoinGroup responses), so it completes at 26.0 s.
/// Auto-commit is on: it commits before each JoinGroup (onJoinPrepare) and never while a rejoin is
/// pending, so no commit fails (rule 3).
#[test]
fn a_cooperative_member_revokes_when_its_sync_response_arrives() {
    let extra = "    protocol: cooperative\n    assignor: cooperative-sticky\n    commit: auto\n    auto_commit_interval_ms: 1000";
    let yaml = group(extra, "      - {name: c3, start_at: 19.5s}", "  []", "40s")
        .replace("groups:", "producers: [{name: p, topic: t, rate: 20/s, arrival: constant, linger_ms: 0}]\ngroups:");
    let w = run_yaml(&yaml);
    assert_eq!(times(&w, "rebalance_completed"), vec![6_000, 21_000, 26_000]);
    let revoked = events(&w, "partitions_revoked");
    assert_eq!(revoked.len(), 1, "one member gives up one partition, in the first round");
    assert_eq!(revoked[0].time.as_millis(), 21_000);
    assert!(events(&w, "commit_failed").is_empty(), "no auto-commit while a rejoin is pending");
    let s = summary(&w);
    assert_eq!(s["groups"]["g"]["commits_rejected"], 0);
    assert_eq!(s["groups"]["g"]["revoked_partitions"], 1);
}

/// The cost of a rebalance: a scale-out from 2 to 4 consumers (c3 and c4 join at 19.5 s) on 4
/// partitions, with a 1 ms network delay so that every hand-over takes time. Eager: every member
/// revokes everything before its JoinGroup, so all 4 partitions pause, each for at least the
/// JoinGroup, SyncGroup and response trips (3 ms), 12 ms in all. Cooperative-sticky: only the two
/// partitions that move are revoked; the others keep being read throughout.
#[test]
fn rebalance_cost_eager_pauses_every_partition_cooperative_only_the_moved_ones() {
    let run = |extra: &str| {
        let yaml = group(
            extra,
            "      - {name: c3, start_at: 19.5s}\n      - {name: c4, start_at: 19.5s}",
            "  []",
            "30s",
        )
        .replace(
            "groups:",
            "network_delay: 1ms\nproducers: [{name: p, topic: t, rate: 400/s, arrival: constant, linger_ms: 0}]\ngroups:",
        );
        run_yaml(&yaml)
    };
    let eager = run("    commit: after_processing\n    processing: 1ms");
    let done = events(&eager, "rebalance_completed");
    let last = done.last().unwrap();
    assert_eq!(last.fields["members"].as_array().unwrap().len(), 4);
    assert_eq!(last.fields["revoked_partitions"], 4);
    assert!(last.fields["rebalance_pause_ms"].as_f64().unwrap() >= 12.0, "{}", last.fields["rebalance_pause_ms"]);
    let s = summary(&eager);
    assert_eq!(s["groups"]["g"]["revoked_partitions"], 4);
    assert_eq!(
        s["groups"]["g"]["rebalance_pause_ms"]["max"].as_f64(),
        last.fields["rebalance_pause_ms"].as_f64(),
        "the scale-out is the costliest rebalance"
    );

    let coop = run(
        "    commit: after_processing\n    processing: 1ms\n    protocol: cooperative\n    assignor: cooperative-sticky",
    );
    let s = summary(&coop);
    assert_eq!(s["groups"]["g"]["revoked_partitions"], 2, "only the two partitions that move");
    let total: f64 =
        events(&coop, "rebalance_completed").iter().map(|e| e.fields["rebalance_pause_ms"].as_f64().unwrap()).sum();
    assert!((s["groups"]["g"]["rebalance_pause_ms"]["total"].as_f64().unwrap() - total).abs() < 1e-6);
    assert!(total > 0.0);
}

/// An at-most-once consumer commits before it processes. When the run ends in the middle of a
/// 500-record batch that takes 5 s, those records are in hand, not lost: `lost` stays 0 whatever
/// the duration, and every delivered record is either processed or in flight at the end.
#[test]
fn records_in_hand_at_the_end_are_in_flight_not_lost() {
    for duration in ["9s", "9.5s", "12s"] {
        let yaml = format!(
            r#"
name: amo
seed: 2
duration: {duration}
topics: [{{name: t, partitions: 1}}]
producers: [{{name: p, topic: t, rate: 1000/s}}]
groups:
  - id: g
    topics: [t]
    group_initial_rebalance_delay_ms: 0
    processing: 10ms
    commit: before_processing
    auto_offset_reset: earliest
    consumers: 1
"#
        );
        let s = summary(&run_yaml(&yaml));
        let g = &s["groups"]["g"];
        assert_eq!(g["lost"], 0, "{duration}: {g}");
        let in_flight = g["in_flight_at_end"].as_u64().unwrap();
        assert!(in_flight > 0, "{duration}: a batch is in hand");
        assert_eq!(
            g["records_delivered"].as_u64().unwrap(),
            g["records_processed"].as_u64().unwrap() + in_flight,
            "{duration}"
        );
    }
}

/// Partitions an add_partitions creates pause only from when they exist: add-partitions-keyed adds
/// 3 partitions at 20 s and the group hands them out about 1 s later (members hear of it at their
/// next heartbeat), so the pause is about 3 x 1 s, not 3 x 21 s.
#[test]
fn new_partitions_pause_only_from_when_they_exist() {
    let s = summary(&run_file(&repo("scenarios/add-partitions-keyed.yaml")));
    let pause = s["groups"]["balances"]["partition_pause_ms"].as_f64().unwrap();
    assert!((3_000.0..3_300.0).contains(&pause), "{pause}");
}

/// Every rebalance_started is matched, by its `rebalance` number, by a rebalance_completed or a
/// rebalance_abandoned; only the last one of a group may still be running when the run ends. A
/// generation cancelled mid-sync is announced by rebalance_restarted.
#[test]
fn every_started_rebalance_completes_or_says_why_not() {
    let mut files: Vec<_> = std::fs::read_dir(repo("scenarios")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files {
        let w = run_file(&f);
        for g in &w.groups {
            let numbers = |kind: &str| -> Vec<u64> {
                events(&w, kind)
                    .iter()
                    .filter(|e| e.fields["group"] == g.id.as_str())
                    .map(|e| e.fields["rebalance"].as_u64().unwrap())
                    .collect()
            };
            let started = numbers("rebalance_started");
            let mut ended = numbers("rebalance_completed");
            ended.extend(numbers("rebalance_abandoned"));
            ended.sort();
            ended.dedup();
            let open: Vec<u64> = started.iter().copied().filter(|n| !ended.contains(n)).collect();
            let last = started.last().copied();
            assert!(
                open.is_empty() || (open.len() == 1 && Some(open[0]) == last && g.classic().rebalance.is_some()),
                "{}: group {}: rebalances {open:?} never ended",
                f.display(),
                g.id
            );
        }
    }
}
