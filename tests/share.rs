//! Share groups (KIP-932) run end to end: the fact sheet's worked scenarios A-E at the level of
//! a whole run (the share-partition state machine has them as unit tests too), failure modes,
//! and the settings that do not apply. Invariants (a record held by at most one running member,
//! SPSO never past a non-terminal record, no delivery count above the limit) are checked after
//! every event in these debug-build runs.

use crate::util::*;
use kafkasim::kafka::world::World;

fn times(w: &World, kind: &str) -> Vec<u64> {
    logged(w).into_iter().filter(|e| e.kind == kind).map(|e| e.time.as_millis()).collect()
}

fn share_group(extra: &str, consumers: u32, rate: &str, timeline: &str, duration: &str, partitions: u32) -> String {
    format!(
        r#"
name: share
seed: 3
duration: {duration}
topics: [{{name: t, partitions: {partitions}}}]
producers: [{{name: p, topic: t, rate: {rate}}}]
groups:
  - id: s
    type: share
    topics: [t]
    consumers: {consumers}
    share_auto_offset_reset: earliest
{extra}
timeline:
{timeline}
"#
    )
}

/// A: 3 partitions, 6 members: ceil(6/3) = 2 members per partition, every member assigned one
/// partition and working. A 7th joins at 20 s: 3 members per partition, quotas [2,1,1,2,1,1,1].
#[test]
fn a_members_beyond_the_partition_count_share_partitions() {
    let yaml =
        share_group("    processing: 1ms", 6, "300/s", "  - {at: 20s, add_consumer: {group: s, name: s-7}}", "40s", 3);
    let w = run_yaml(&share_group("    processing: 1ms", 6, "300/s", "", "19s", 3));
    let s = summary(&w);
    for p in 0..3 {
        assert_eq!(s["groups"]["s"]["share"]["partitions"][format!("t-{p}")]["members"], 2, "{p}");
    }
    for k in 1..=6 {
        let c = &s["groups"]["s"]["consumers"][format!("s-{k}")];
        assert_eq!(c["state"], "active");
        assert_eq!(c["partitions"].as_array().unwrap().len(), 1);
        assert!(c["records_processed"].as_u64().unwrap() > 0, "s-{k} works");
    }
    let w = run_yaml(&yaml);
    let s = summary(&w);
    for p in 0..3 {
        assert_eq!(s["groups"]["s"]["share"]["partitions"][format!("t-{p}")]["members"], 3, "{p}");
    }
    let counts: Vec<usize> = (1..=7)
        .map(|k| s["groups"]["s"]["consumers"][format!("s-{k}")]["partitions"].as_array().unwrap().len())
        .collect();
    assert_eq!(counts.iter().sum::<usize>(), 9);
    assert_eq!(counts.iter().filter(|&&n| n == 2).count(), 2, "quotas [2,1,1,2,1,1,1]: {counts:?}");
}

/// The assignment interval (Kafka 4.3, KIP-1263): the first member's join computes at once;
/// the others joined meanwhile get theirs from the first heartbeat after 1 s, i.e. the 5 s
/// heartbeat. No revocation round: every member takes its target in one step.
#[test]
fn assignments_follow_heartbeats_and_the_assignment_interval() {
    let w = run_yaml(&share_group("", 3, "10/s", "", "12s", 3));
    assert_eq!(times(&w, "share_assignment_computed"), vec![0, 5_000]);
}

/// B(ii): a member killed while holding records: the broker sees the connection close and gives
/// them back at once (no lock expiry); they are delivered again, counted as redeliveries (Kafka
/// 4.2+ keeps the delivery count). The member is fenced only at its session timeout: its last
/// heartbeat reached the coordinator at 5 s (heartbeats every 5 s from 0), so 5 + 45 = 50 s.
#[test]
fn b_a_killed_member_releases_its_records_at_once() {
    let yaml = share_group("    processing: 20ms", 2, "100/s", "  - {at: 7s, crash: s-1}", "60s", 1);
    let w = run_yaml(&yaml);
    let s = &summary(&w)["groups"]["s"];
    assert!(s["share"]["released_on_close"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(s["lock_expiries"], 0);
    assert!(s["redeliveries"].as_u64().unwrap() > 0);
    assert_eq!(times(&w, "share_records_released"), vec![7_000]);
    assert_eq!(times(&w, "member_fenced"), vec![50_000]);
}

/// C: a poison record released every time is delivered exactly 5 times (count 1..5) and archived;
/// rejected instead, it is archived after one delivery.
#[test]
fn c_a_poison_record_is_archived_after_five_deliveries() {
    let w = run_file(&repo("scenarios/share-poison-record.yaml"));
    let s = &summary(&w)["groups"]["fulfilment"];
    assert_eq!(s["archived"]["delivery_limit"], 1);
    assert_eq!(s["redeliveries"], 4);
    assert_eq!(s["share"]["released_by_application"], 5);
    let yaml = share_group(
        "    processing: 1ms\n    share_acknowledgement_mode: explicit\n    outcome: {reject: 0.01}",
        1,
        "100/s",
        "",
        "20s",
        1,
    );
    let s = &summary(&run_yaml(&yaml))["groups"]["s"];
    assert!(s["archived"]["reject"].as_u64().unwrap() > 0);
    assert_eq!(s["archived"]["reject"], s["share"]["rejected_by_application"]);
    assert_eq!(s["redeliveries"], 0, "a rejected record is never delivered again");
}

/// D: one partition, six members, 100-record producer batches, about 10 ms a record. With
/// 500-record polls four acquisitions fill the 2000-record window: only four members hold records
/// at a time, so the six together work about four members' worth (the idle ones change as
/// acknowledgements slide the window); with 300, all six work (6 x 300 = 1800 <= 2000).
#[test]
fn d_the_in_flight_window_leaves_members_idle() {
    let w = run_file(&repo("scenarios/share-window-stall.yaml"));
    let s = summary(&w);
    // Members' busy time over the 55 s after the assignment at 5 s, in members.
    let working = |g: &str| {
        let busy: f64 =
            (1..=6).map(|k| s["groups"][g]["consumers"][format!("{g}-{k}")]["busy_ms"].as_f64().unwrap()).sum();
        busy / 55_000.0
    };
    let (w500, w300) = (working("polls-500"), working("polls-300"));
    assert!((3.5..=4.3).contains(&w500), "about four members' worth: {w500}");
    assert!(w300 > 5.5, "all six: {w300}");
    assert_eq!(s["groups"]["polls-500"]["in_flight"]["max"], 2000);
    for k in 1..=6 {
        let n = s["groups"]["polls-500"]["consumers"][format!("polls-500-{k}")]["records_processed"].as_u64().unwrap();
        assert!(n > 0, "the idle members change: polls-500-{k} works too");
    }
}

/// E: share lag is log end - SPSO - records done inside the window, in metrics.csv and summary.
#[test]
fn e_share_lag_in_the_outputs_is_kip_1226s() {
    let w = run_file(&repo("scenarios/share-window-stall.yaml"));
    let last = w.rec.share_samples.iter().rev().find(|r| r.group == 0).unwrap();
    let s = summary(&w);
    assert_eq!(s["groups"]["polls-500"]["share_lag"]["final"], last.share_lag);
    let sp = s["groups"]["polls-500"]["share"]["partitions"]["events-0"].clone();
    let leo = s["topics"]["events"]["log_end_offsets"][0].as_u64().unwrap();
    let spso = sp["spso"].as_u64().unwrap();
    // The members hold up to four 500-record acquisitions: nothing in the window is done except
    // what they acknowledged beyond SPSO.
    assert!(sp["share_lag"].as_u64().unwrap() <= leo - spso);
    assert!(sp["share_lag"].as_u64().unwrap() + 2000 >= leo - spso);
}

/// A member slower than the lock: alone for 20 s it falls behind (10 records/s against 50/s), so
/// its polls take up to 500 records - 50 s of work against a 30 s lock. The locks expire, the
/// records go to the other member, the slow member's late acknowledgement is refused, and the
/// records are processed twice.
#[test]
fn locks_expire_under_a_slow_member_and_its_late_acks_fail() {
    let yaml = share_group(
        "    max_poll_records: 500\n    consumers:\n      - {name: slow, processing: 100ms}\n      - {name: fast, processing: 1ms, start_at: 20s}",
        2,
        "50/s",
        "",
        "90s",
        1,
    )
    .replace("    consumers: 2\n", "");
    let w = run_yaml(&yaml);
    let s = summary(&w);
    let sh = &s["groups"]["s"];
    assert!(sh["lock_expiries"].as_u64().unwrap() > 0, "{sh}");
    assert!(sh["ack_failures"].as_u64().unwrap() > 0, "{sh}");
    assert!(s["groups"]["s"]["duplicates"].as_u64().unwrap() > 0);
    assert!(!times(&w, "share_lock_expired").is_empty());
}

/// A clean stop: close() sends the acknowledgements and releases the rest; the member leaves
/// at once (no session timeout), and the other member gets every partition at the next
/// computation.
#[test]
fn a_stopped_member_leaves_at_once() {
    let w = run_yaml(&share_group("    processing: 1ms", 2, "100/s", "  - {at: 10s, stop: s-1}", "30s", 2));
    assert_eq!(times(&w, "member_left"), vec![10_000]);
    let s = summary(&w);
    assert_eq!(s["groups"]["s"]["consumers"]["s-2"]["partitions"].as_array().unwrap().len(), 2);
    assert_eq!(s["groups"]["s"]["consumers"]["s-1"]["state"], "stopped");
}

/// Settings of the other kind of group are refused, naming the field and what to use instead;
/// share settings outside the broker's bounds name the bounds.
#[test]
fn settings_that_do_not_apply_are_refused() {
    let base = share_group("", 2, "10/s", "", "10s", 2);
    let refused = |extra: &str, field: &str, hint: &str| {
        let yaml = base.replace(
            "    share_auto_offset_reset: earliest\n",
            &format!("    share_auto_offset_reset: earliest\n{extra}\n"),
        );
        let err = kafkasim::scenario::parse("s.yaml", &yaml).unwrap_err().to_string();
        assert!(err.contains(field) && err.contains(hint), "{extra}: {err}");
    };
    refused("    commit: after_processing", "groups[0].commit", "acknowledge");
    refused("    protocol: cooperative", "groups[0].protocol", "no rebalance protocol");
    refused("    assignor: range", "groups[0].assignor", "SimpleAssignor");
    refused("    auto_offset_reset: earliest", "auto_offset_reset", "share_auto_offset_reset");
    refused("    session_timeout_ms: 10000", "session_timeout_ms", "share_session_timeout_ms");
    refused("    delivery: push", "delivery", "pull");
    refused("    outcome: {release: 0.1}", "outcome", "share_acknowledgement_mode: explicit");
    refused("    share_record_lock_duration_ms: 5000", "share_record_lock_duration_ms", "15s to 60s");
    refused("    share_delivery_count_limit: 11", "share_delivery_count_limit", "2 to 10");
    refused("    share_partition_max_record_locks: 50", "share_partition_max_record_locks", "100 to 4000");
    refused("    share_heartbeat_interval_ms: 1000", "share_heartbeat_interval_ms", "5s to 15s");
    refused(
        "    share_acknowledgement_mode: explicit\n    outcome: {release: 0.7, reject: 0.5}",
        "outcome",
        "add up to at most 1",
    );
    refused(
        "    share_acknowledgement_mode: explicit\n    poison: {topic: t, partition: 9, offsets: [1]}",
        "poison.partition",
        "no partition 9",
    );
    let seek = base.replace("timeline:\n", "timeline:\n  - {at: 1s, seek: {consumer: s-1, topic: t, to: earliest}}\n");
    let err = kafkasim::scenario::parse("s.yaml", &seek).unwrap_err().to_string();
    assert!(err.contains("timeline[0]") && err.contains("cannot seek"), "{err}");
    let consumer_group = base
        .replace("    type: share\n", "")
        .replace("    share_auto_offset_reset: earliest\n", "    share_delivery_count_limit: 3\n");
    let err = kafkasim::scenario::parse("s.yaml", &consumer_group).unwrap_err().to_string();
    assert!(err.contains("share_delivery_count_limit") && err.contains("type: share"), "{err}");
}

/// `compare --groups consumer,share`: the same records read by every group as a consumer group
/// and as a share group; 6 consumers on 3 partitions: 3 standbys vs 6 working.
#[test]
fn compare_runs_every_group_as_consumer_and_as_share_group() {
    use kafkasim::cli::compare::{Axis, run_axis};
    let plan = kafkasim::scenario::load(&repo("scenarios/share-vs-consumer-standbys.yaml")).unwrap();
    let cmp = run_axis(&plan, Axis::GroupType).unwrap();
    let (a, b) = (summary(&cmp.a), summary(&cmp.b));
    assert_eq!(a["records_produced"], b["records_produced"]);
    for g in ["queue", "shared"] {
        assert_eq!(a["groups"][g]["type"], "consumer");
        assert_eq!(b["groups"][g]["type"], "share");
        assert_eq!(a["groups"][g]["standby_consumers"].as_array().unwrap().len(), 3);
        let working = |s: &serde_json::Value| {
            s["groups"][g]["consumers"]
                .as_object()
                .unwrap()
                .values()
                .filter(|c| c["records_processed"].as_u64().unwrap() > 0)
                .count()
        };
        assert_eq!((working(&a), working(&b)), (3, 6), "{g}");
        assert!(b["groups"][g]["records_processed"].as_u64() > a["groups"][g]["records_processed"].as_u64());
    }
    let dir = temp_dir("compare-groups");
    let out = kafkasim()
        .args(["compare", "--groups", "consumer,share", "--force", "--out"])
        .arg(&dir)
        .arg(repo("scenarios/share-vs-consumer-standbys.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in [
        "compare.json",
        "compare.md",
        "index.html",
        "latency.png",
        "backlog.png",
        "consumer/summary.json",
        "share/summary.json",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    // A timeline a share group cannot follow is refused before anything is written.
    let bad = temp_dir("compare-groups-bad");
    let out = kafkasim()
        .args(["compare", "--groups", "consumer,share", "--out"])
        .arg(bad.join("out"))
        .arg(repo("scenarios/rewind-after-bug.yaml"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no share-group equivalent"), "{err}");
    assert!(!bad.join("out").exists());
    let out = kafkasim()
        .args(["compare", "--groups", "share,consumer"])
        .arg(repo("scenarios/standby.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Random share groups and timelines (crash, start, stop, hang, slow, consumers and partitions added):
/// the share invariants hold after every event, and at the end nothing passed SPSO without
/// being accepted or archived (SPSO summed over partitions <= distinct records accepted + archived).
#[test]
fn share_invariants_hold_across_a_seed_sweep() {
    use rand::{Rng, SeedableRng};
    for seed in 0..sweep_seeds(20) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1000 + seed);
        let n = rng.gen_range(1..=6);
        let partitions = rng.gen_range(1..=4);
        let consumers: String =
            (1..=n).map(|i| format!("      - {{name: c{i}, start_at: {}s}}\n", rng.gen_range(0..5))).collect();
        let mut timeline = String::new();
        let mut count = partitions;
        for k in 0..rng.gen_range(2..8) {
            let c = rng.gen_range(1..=n);
            let at = rng.gen_range(5..100);
            let action = match rng.gen_range(0..8) {
                6 => format!("hang: {{consumer: c{c}, for: {}s}}", rng.gen_range(1..70)),
                7 => format!("hang: c{c}"),
                0 => format!("crash: c{c}"),
                1 => format!("start: c{c}"),
                2 => format!("stop: c{c}"),
                3 => format!("add_consumer: {{group: g, name: x{k}}}"),
                4 if count < 8 => {
                    count += 1;
                    format!("add_partitions: {{topic: t, count: {count}}}")
                }
                _ => format!("slow: {{consumer: c{c}, factor: {}}}", rng.gen_range(1..200)),
            };
            timeline.push_str(&format!("  - {{at: {at}s, {action}}}\n"));
        }
        // add_partitions entries must grow in time order: sort the timeline by time.
        let mut lines: Vec<&str> = timeline.lines().collect();
        lines.sort_by_key(|l| l[l.find("at: ").unwrap() + 4..].split('s').next().unwrap().parse::<u32>().unwrap());
        let mut grown = partitions;
        let timeline: String = lines
            .iter()
            .map(|l| {
                if l.contains("add_partitions") {
                    grown += 1;
                    let head = &l[..l.find("count: ").unwrap() + 7];
                    format!("{head}{grown}}}}}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        let explicit = rng.gen_bool(0.5);
        let acks = if explicit {
            format!(
                "    share_acknowledgement_mode: explicit\n    outcome: {{release: {}, reject: {}}}\n    poison: {{topic: t, partition: 0, offsets: [5, 50]}}\n",
                rng.gen_range(0..20) as f64 / 100.0,
                rng.gen_range(0..5) as f64 / 100.0
            )
        } else {
            String::new()
        };
        let yaml = format!(
            r#"
name: share-sweep
seed: {seed}
duration: 150s
network_delay: {}ms
topics: [{{name: t, partitions: {partitions}}}]
producers: [{{name: p, topic: t, rate: 200/s, keys: {{uniform: 50}}}}]
groups:
  - id: g
    type: share
    topics: [t]
    share_auto_offset_reset: earliest
    share_record_lock_duration_ms: 15000
    share_delivery_count_limit: {}
    share_partition_max_record_locks: {}
    share_acquire_mode: {}
    share_assignment_interval_ms: {}
    max_poll_records: {}
    max_poll_interval_ms: 20000
    poll_interval: 20ms
    processing: {{exponential: {}ms}}
{acks}    consumers:
{consumers}
timeline:
{timeline}
"#,
            rng.gen_range(0..3),
            rng.gen_range(2..=10),
            [100, 500, 2000][rng.gen_range(0..3)],
            ["batch_optimized", "record_limit"][rng.gen_range(0..2)],
            [0, 1000, 5000][rng.gen_range(0..3)],
            [1, 50, 500][rng.gen_range(0..3)],
            rng.gen_range(1..30),
        );
        eprintln!("share sweep seed {seed}:\n{yaml}");
        let w = run_yaml(&yaml);
        let s = summary(&w);
        let g = &s["groups"]["g"];
        let sh = g;
        let num = |v: &serde_json::Value| v.as_u64().unwrap();
        assert!(num(&g["records_processed"]) > 0, "seed {seed}");
        assert!(num(&sh["redeliveries"]) <= num(&sh["records_acquired"]), "seed {seed}");
        // (A fetch answer on its way when its consumer crashes or stops acquired records nobody got.)
        assert!(num(&g["records_delivered"]) <= num(&sh["records_acquired"]), "seed {seed}");
        let spso_total: u64 =
            g["share"]["partitions"].as_object().unwrap().values().filter_map(|p| p["spso"].as_u64()).sum();
        let accepted = num(&g["records_processed"]) - num(&g["duplicates"]);
        assert!(
            spso_total <= accepted + num(&sh["archived"]["total"]),
            "seed {seed}: SPSO passed records neither accepted nor archived ({spso_total} > {accepted} + {})",
            sh["archived"]["total"]
        );
    }
}

/// `kafkasim sweep` over share settings: the window limit and max_poll_records decide how many
/// members work (scenario D across a grid).
#[test]
fn sweeps_cover_share_settings() {
    let dir = temp_dir("share-sweep");
    let out = kafkasim()
        .args(["sweep", "--force", "--seeds", "1", "--out"])
        .arg(&dir)
        .arg(repo("scenarios/share-window-stall.yaml"))
        .args(["--set", "groups.polls-500.max_poll_records=300,500"])
        .args(["--set", "groups.polls-500.share_partition_max_record_locks=1000,2000"])
        .args(["--plot", "groups.polls-500.records_processed"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).unwrap()).unwrap();
    let text = json.to_string();
    assert!(text.contains("share_partition_max_record_locks"), "{text}");
    let md = std::fs::read_to_string(dir.join("sweep.md")).unwrap();
    let processed = |mpr: &str, locks: &str| -> u64 {
        let row = md.lines().find(|l| l.starts_with(&format!("| {mpr} | {locks} |"))).unwrap();
        // The last column (the one plotted figure): its median, thousands grouped with U+202F.
        let cell = row.trim_end_matches('|').rsplit('|').next().unwrap().trim();
        cell.split(" (").next().unwrap().replace('\u{202f}', "").parse().unwrap()
    };
    assert!(processed("300", "2000") > processed("500", "2000"));
    assert!(processed("500", "2000") > processed("500", "1000"), "a smaller window feeds fewer members");
}

/// B(i): a member hangs at 10.2 s holding the 54 records its poll at 10.12 s acquired: they come
/// back when their locks expire, 10.12 + 30 = 40.12 s, and the other member acquires them with
/// delivery count 2 (54 redeliveries). It is fenced at its last heartbeat (10 s) + 45 = 55 s; at
/// 70.2 s it wakes, finishes its batch (54 duplicates), its acknowledgement is refused and it
/// rejoins. The killed member's records come back at once (no lock expiry).
#[test]
fn b_a_hung_member_holds_its_records_until_their_locks_expire() {
    let w = run_file(&repo("scenarios/share-hung-consumer.yaml"));
    let group_times = |kind: &str, g: &str| -> Vec<u64> {
        logged(&w)
            .into_iter()
            .filter(|e| e.kind == kind && e.fields["group"] == g)
            .map(|e| e.time.as_millis())
            .collect()
    };
    assert_eq!(group_times("share_lock_expired", "hung"), vec![40_120]);
    assert_eq!(group_times("member_fenced", "hung"), vec![55_000]);
    assert_eq!(group_times("share_ack_failed", "hung").len(), 1);
    assert_eq!(group_times("member_rejoining", "hung"), vec![70_200]);
    assert!(group_times("share_lock_expired", "killed").is_empty());
    assert_eq!(group_times("share_records_released", "killed"), vec![10_200]);
    let s = summary(&w);
    let hung = &s["groups"]["hung"];
    assert_eq!(hung["lock_expiries"], 54);
    assert_eq!(hung["redeliveries"], 54);
    assert_eq!(hung["ack_failures"], 54);
    assert_eq!(hung["duplicates"], 54);
    assert_eq!(hung["consumers"]["h-1"]["state"], "active");
    assert_eq!(s["groups"]["killed"]["share"]["released_on_close"], 54);
}

/// A member frozen while idle, its ShareFetch parked at the broker: the record that arrives next
/// is acquired for it (the broker cannot know the host is frozen), stays locked for
/// share_record_lock_duration_ms (30 s), expires and goes to the other member. Before, the answer
/// waited for the hang to end and a member frozen while idle cost nobody anything.
#[test]
fn a_member_frozen_while_its_fetch_is_parked_still_acquires_what_arrives() {
    let yaml = r#"
name: share-idle-hang
seed: 1
duration: 60s
topics: [{name: t, partitions: 1}]
producers: [{name: p, topic: t, rate: 1/s, arrival: constant}]
groups:
  - id: g
    type: share
    topics: [t]
    share_auto_offset_reset: earliest
    fetch_max_wait_ms: 5000
    processing: 1ms
    consumers: [{name: a}, {name: b}]
timeline:
  - at: 10.5s
    hang: {consumer: a, for: 40s}
"#;
    let w = run_yaml(yaml);
    let events = |kind: &str| -> Vec<kafkasim::report::events::LoggedEvent> {
        logged(&w).into_iter().filter(|e| e.kind == kind).collect()
    };
    let expired = events("share_lock_expired");
    assert_eq!(expired.len(), 1, "one lock ran out: {:?}", expired);
    // Records reach the broker at k + 0.005 s (linger 5 ms), and the two parked fetches take turns:
    // b's is answered at 11.005 s, a's (frozen) at 12.005 s; its lock runs out 30 s later.
    assert_eq!(expired[0].time.as_millis(), 42_005);
    assert_eq!(expired[0].fields["records"], 1);
    let failed = events("share_ack_failed");
    assert_eq!(failed.len(), 1, "after the hang a's acknowledgement of it is refused: {failed:?}");
    // It resumes at 50.5 s, processes the record (1 ms) and acknowledges it with its next fetch.
    assert_eq!((failed[0].time.as_millis(), failed[0].fields["offset"].as_u64()), (50_501, Some(11)));
    let s = summary(&w);
    let g = &s["groups"]["g"];
    assert_eq!(g["lock_expiries"], 1, "{g}");
    assert_eq!(g["redeliveries"], 1, "the other member took it, delivery count 2: {g}");
    assert!(g["latency_ms"]["max"].as_f64().unwrap() >= 29_000.0, "it waited out the lock: {g}");
}

/// Retention deletes records a slow share group has not finished: they are archived (by cause
/// `retention`), SPSO follows the log start, and nothing passes SPSO uncounted.
#[test]
fn retention_archives_what_a_share_group_did_not_finish() {
    let yaml = r#"
name: share-retention
seed: 2
duration: 90s
log_retention_check_interval_ms: 1000
topics: [{name: t, partitions: 1, retention_ms: 20000, segment_ms: 5000}]
producers: [{name: p, topic: t, rate: 1000/s}]
groups:
  - id: s
    type: share
    topics: [t]
    share_auto_offset_reset: earliest
    processing: 1.6ms
    consumers: 1
"#;
    let w = run_yaml(yaml);
    let s = summary(&w);
    let g = &s["groups"]["s"];
    let archived = g["archived"]["retention"].as_u64().unwrap();
    assert!(archived > 0, "{g}");
    assert!(logged(&w).into_iter().any(|e| e.kind == "records_archived" && e.fields.contains_key("retention")));
    let spso = g["share"]["partitions"]["t-0"]["spso"].as_u64().unwrap();
    let accepted = g["records_processed"].as_u64().unwrap() - g["duplicates"].as_u64().unwrap();
    assert!(spso <= accepted + g["archived"]["total"].as_u64().unwrap());
    assert!(spso >= s["topics"]["t"]["log_start_offsets"][0].as_u64().unwrap());
}
