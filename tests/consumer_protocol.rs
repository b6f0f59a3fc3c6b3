//! Kafka 4's consumer rebalance protocol (KIP-848) against the timelines of
//! ../shared/consumer-protocol.md §5, worked out from its rules: network_delay d = 1 ms, the
//! group's heartbeat interval 5 s and session timeout 45 s (Kafka's defaults), max.poll.interval
//! 300 s. Invariants (no partition in two members' assignments, hand-over only after release)
//! are checked after every event of every run here.

use crate::util::*;
use kafkasim::report::events::LoggedEvent;

fn events(w: &kafkasim::kafka::world::World, kind: &str) -> Vec<LoggedEvent> {
    logged(w).into_iter().filter(|e| e.kind == kind).collect()
}

fn ms(e: &LoggedEvent) -> u64 {
    e.time.as_millis()
}

fn of(list: Vec<LoggedEvent>, consumer: &str) -> Vec<LoggedEvent> {
    list.into_iter().filter(|e| e.fields["consumer"] == consumer).collect()
}

fn parts(e: &LoggedEvent, key: &str) -> Vec<String> {
    e.fields[key].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

/// A consumer-protocol group `g` on topic `t` (4 partitions, 200 records/s).
fn scenario(group: &str, consumers: &str, timeline: &str, duration: &str) -> String {
    format!(
        r#"
name: t
seed: 3
network_delay: 1ms
duration: {duration}
topics: [{{name: t, partitions: 4}}]
producers: [{{name: p, topic: t, rate: 200/s}}]
groups:
  - id: g
    topics: [t]
    protocol: consumer
    poll_interval: 50ms
    processing: 1ms
    auto_offset_reset: earliest
{group}
    consumers:
{consumers}
timeline:
{timeline}
"#
    )
}

/// §5.2: a crashed member is noticed only by its session timer, 45 s after the coordinator
/// processed its last heartbeat. On Kafka 4.2 (no assignment batching, and an assignment that
/// revokes nothing is applied on the network thread), without a commit to wait for
/// (commit: before_processing), the member reconciles as its join answer arrives (2 ms),
/// acknowledges at once, and its heartbeats
/// then go out every 5 s from that acknowledgement: 2 ms, 5.002 s, 10.002 s, 15.002 s. It crashes
/// at 20 s, so the coordinator, which heard it last at 15.003 s, removes it at 60.003 s.
#[test]
fn a_crash_is_noticed_by_the_session_timer_only() {
    let w = run_yaml(&scenario(
        "    commit: before_processing\n    kafka_version: \"4.2\"",
        "      - {name: x}\n      - {name: y, start_at: 30s}",
        "  - {at: 20s, crash: x}",
        "90s",
    ));
    let fenced = events(&w, "member_fenced");
    assert_eq!(fenced.len(), 1);
    assert_eq!(fenced[0].fields["reason"], "session_timeout");
    assert_eq!(ms(&fenced[0]), 60_003);
    // y joined at 30 s and got nothing while x (silent) still held everything. Its heartbeats
    // go out every 5 s from its acknowledgement at 30.002 s; the one sent at 60.002 s reaches
    // the coordinator at 60.003 s, just after the removal (the session timer was armed first),
    // so its answer gives it all four partitions at 60.004 s.
    let y_took = of(events(&w, "reconciliation_completed"), "y")
        .iter()
        .filter(|e| !parts(e, "added").is_empty())
        .map(ms)
        .collect::<Vec<_>>();
    assert_eq!(y_took, vec![60_004]);
}

/// §5.1: a member joins a stable group. The coordinator bumps the group epoch and computes the
/// target in the join heartbeat; the joiner is UNRELEASED with nothing; each member that loses
/// partitions learns it at its own next heartbeat, revokes (after committing) and acknowledges;
/// the joiner picks the freed partitions up at its next heartbeat after that. Nobody stops: the
/// members that keep partitions keep reading them, and stop-the-world stays 0.
#[test]
fn a_join_moves_partitions_only_after_their_owner_released_them() {
    let w = run_yaml(&scenario(
        "",
        "      - {name: a}\n      - {name: b}\n      - {name: c, start_at: 20s}",
        "  []",
        "60s",
    ));
    let joined = events(&w, "member_joined");
    let c_join = joined.iter().find(|e| e.fields["consumer"] == "c").unwrap();
    assert_eq!(ms(c_join), 20_001, "the join heartbeat reaches the coordinator after d");
    let started: Vec<_> = events(&w, "rebalance_started").into_iter().filter(|e| ms(e) == 20_001).collect();
    assert_eq!(started.len(), 1, "c's join bumps the group epoch at once (no initial delay)");
    let revoked = events(&w, "partitions_revoked");
    let recon = events(&w, "reconciliation_completed");
    let c_recon = of(recon, "c");
    assert!(parts(&c_recon[0], "partitions").is_empty(), "c starts UNRELEASED with nothing");
    // Every partition c receives was revoked by its previous owner before.
    for e in c_recon.iter().filter(|e| !parts(e, "added").is_empty()) {
        for p in parts(e, "added") {
            let gave_up =
                revoked.iter().filter(|r| parts(r, "partitions").contains(&p)).map(ms).filter(|&t| t >= 20_000).min();
            let gave_up = gave_up.unwrap_or_else(|| panic!("{p} given to c without being revoked"));
            assert!(gave_up <= ms(e), "{p} revoked at {gave_up} ms, given to c at {} ms", ms(e));
            // c hears of it at its next heartbeat: within one interval plus its reconciliation.
            assert!(ms(e) - gave_up <= 5_000 + 600, "{p}: {} ms from release to c", ms(e) - gave_up);
        }
    }
    let done = events(&w, "rebalance_completed");
    let last = done.last().unwrap();
    assert_eq!(last.fields["protocol"], "consumer");
    assert_eq!(last.fields["stop_the_world_ms"], 0);
    // One heartbeat interval for the revokers to hear, one for c: at most about 2 intervals.
    let took = ms(last) - 20_001;
    assert!(took <= 10_000 + 1_200, "the join settled in {took} ms");
    assert_eq!(summary(&w)["groups"]["g"]["stop_the_world_ms"]["total"], 0.0);
}

/// §5.3: close() commits, then the leave heartbeat (epoch -1) goes out once the commit is
/// answered: the coordinator removes the member 3 d after the stop, and the partitions go to the
/// others at their next heartbeats, without any revocation.
#[test]
fn a_close_leaves_after_its_commit_and_frees_the_partitions_at_once() {
    let w = run_yaml(&scenario("", "      - {name: a}\n      - {name: b}", "  - {at: 30s, stop: b}", "60s"));
    let left = events(&w, "member_left");
    assert_eq!(left.len(), 1);
    assert_eq!((ms(&left[0]), left[0].fields["reason"].as_str()), (30_003, Some("leave_group")));
    let revoked_after: Vec<_> = events(&w, "partitions_revoked").into_iter().filter(|e| ms(e) > 30_000).collect();
    assert!(revoked_after.is_empty(), "the uniform assignor only raises a's quota: {revoked_after:?}");
    let a_took = of(events(&w, "reconciliation_completed"), "a")
        .iter()
        .filter(|e| ms(e) > 30_000 && parts(e, "added").len() == 2)
        .map(ms)
        .collect::<Vec<_>>();
    assert_eq!(a_took.len(), 1);
    assert!(a_took[0] - 30_003 <= 5_000 + 600, "a took b's partitions {} ms after the leave", a_took[0] - 30_003);
    assert!(events(&w, "commit_failed").is_empty());
}

/// §5.4: a static member's close leaves with epoch -2: no rebalance, its partitions stay its own
/// (unread) and its new incarnation within the session timeout takes the same member entry back
/// with the same partitions, and nobody else notices.
#[test]
fn a_static_member_restart_keeps_its_partitions_and_causes_no_rebalance() {
    let consumers = "      - {name: a, group_instance_id: i-a}\n      - {name: b, group_instance_id: i-b}";
    let w = run_yaml(&scenario("", consumers, "  - {at: 30s, stop: b}\n  - {at: 40s, start: b}", "70s"));
    assert!(events(&w, "member_left").is_empty() && events(&w, "member_fenced").is_empty());
    let started: Vec<_> = events(&w, "rebalance_started").into_iter().filter(|e| ms(e) > 29_000).collect();
    assert!(started.is_empty(), "no group epoch bump: {started:?}");
    let assigned = of(events(&w, "assignment"), "b");
    let before = assigned.iter().rfind(|e| ms(e) < 30_000).unwrap();
    let after = assigned.iter().find(|e| ms(e) > 40_000).unwrap();
    assert_eq!(parts(before, "partitions"), parts(after, "partitions"));
    assert!(ms(after) - 40_000 < 1_000, "its first answer carries its old assignment");
    let a_changes = of(events(&w, "assignment"), "a").into_iter().filter(|e| ms(e) > 29_000).count();
    assert_eq!(a_changes, 0, "a never hears of it");
}

/// §5.4: a static member that stays away is removed when its session runs out, counted from its
/// last heartbeat (the -2 leave does not restart the session timer); only then do its partitions move.
#[test]
fn a_static_member_that_stays_away_is_removed_at_its_session_timeout() {
    let consumers = "      - {name: a, group_instance_id: i-a}\n      - {name: b, group_instance_id: i-b}";
    let group = "    commit: before_processing\n    kafka_version: \"4.2\"";
    let w = run_yaml(&scenario(group, consumers, "  - {at: 30s, stop: b}", "90s"));
    let fenced = events(&w, "member_fenced");
    assert_eq!(fenced.len(), 1);
    assert_eq!(fenced[0].fields["reason"], "session_timeout");
    // (Kafka 4.2.) b joined second: its target is computed at once, but a holds everything, so b
    // gets nothing until a, told at its 5.002 s heartbeat, revokes at its next poll. At b's
    // 10.002 s heartbeat it gets the two partitions a released, and its acknowledgement at
    // 10.004 s restarts its timer: 15.004, 20.004, 25.004 s, heard at 25.005 s. The session ends
    // 45 s after that.
    assert_eq!(ms(&fenced[0]), 70_005);
    let a_took = of(events(&w, "reconciliation_completed"), "a").into_iter().filter(|e| ms(e) > 70_003).count();
    assert_eq!(a_took, 1);
}

/// §5.4: a static member that crashed and comes back while its old member (not left: no -2
/// leave) is still alive gets UNRELEASED_INSTANCE_ID, which is fatal on the Java client.
#[test]
fn a_static_member_restarted_after_a_crash_dies_of_unreleased_instance_id() {
    let consumers = "      - {name: a, group_instance_id: i-a}\n      - {name: b, group_instance_id: i-b}";
    let w = run_yaml(&scenario("", consumers, "  - {at: 30s, crash: b}\n  - {at: 35s, start: b}", "90s"));
    let errors = events(&w, "consumer_error");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].fields["error"].as_str().unwrap().contains("UnreleasedInstanceId"), "{:?}", errors[0]);
    // A finding tells it, and until when the old member kept the instance id: its removal when
    // its session ran out.
    let removed = of(events(&w, "member_fenced"), "b");
    assert_eq!(removed.len(), 1, "{removed:?}");
    let until = format!("until {:.1} s", removed[0].time.as_secs_f64());
    let s = summary(&w);
    let f = s["findings"].as_array().unwrap().iter().find(|f| f["kind"] == "consumer_error").expect("a finding");
    assert_eq!(f["consumers"], serde_json::json!(["b"]));
    assert_eq!(f["value"], "UnreleasedInstanceIdException");
    let text = f["text"].as_str().unwrap();
    let failed = format!("b failed at {:.1} s with UnreleasedInstanceIdException", errors[0].time.as_secs_f64());
    assert!(text.starts_with(&failed), "{text}");
    assert!(text.contains(&until) && text.ends_with("it was not started again."), "{text}");
}

/// §5.5: a batch longer than max.poll.interval.ms: the network thread notices at its next
/// heartbeat, leaves at once without committing (member_left: poll_timeout), and the member
/// rejoins with the same member id at its next poll, as a new member: another group epoch.
#[test]
fn a_poll_timeout_leaves_and_the_next_poll_rejoins_with_the_same_member_id() {
    let group = "    max_poll_interval_ms: 10000\n    commit: after_processing";
    let consumers = "      - {name: a}\n      - {name: b, processing: 15ms, max_poll_records: 1000}";
    let w = run_yaml(&scenario(group, consumers, "  []", "60s"));
    let timeouts = events(&w, "poll_timeout");
    assert!(!timeouts.is_empty());
    let first = &timeouts[0];
    let last_poll = first.fields["last_poll_ms"].as_f64().unwrap() as u64;
    let noticed = ms(first) - last_poll;
    assert!((10_000..10_000 + 5_000).contains(&noticed), "noticed {noticed} ms after the last poll");
    let left: Vec<_> = events(&w, "member_left").into_iter().filter(|e| e.fields["reason"] == "poll_timeout").collect();
    assert_eq!(ms(&left[0]), ms(first) + 1, "the leave heartbeat reaches the coordinator after d");
    let joins = of(events(&w, "member_joined"), "b");
    assert!(joins.len() >= 2);
    assert_eq!(joins[0].fields["member_id"], joins[1].fields["member_id"], "KIP-1082: one member id per process");
    // Its batch's commit goes out at epoch -1 once it finishes: UNKNOWN_MEMBER_ID.
    let failed = of(events(&w, "commit_failed"), "b");
    assert!(failed.iter().any(|e| e.fields["reason"] == "unknown_member_id"), "{failed:?}");
}

/// §5.6: a member hung past its session is removed (session_timeout); when it resumes, its
/// heartbeat is answered UNKNOWN_MEMBER_ID: it loses its partitions (membership_lost) and joins
/// again at once with epoch 0 and its member id. §2 rule 1: its interval timer (wall-clock) ran
/// out during the freeze, so that heartbeat goes out as it wakes at 80 s, and the answer is back a
/// round trip later (2 ms), not an interval's remainder later.
#[test]
fn a_member_fenced_while_hung_rejoins_when_it_resumes() {
    let w = run_yaml(&scenario(
        "",
        "      - {name: a}\n      - {name: b}",
        "  - {at: 20s, hang: {consumer: b, for: 60s}}",
        "100s",
    ));
    let fenced = events(&w, "member_fenced");
    assert_eq!(fenced.len(), 1);
    assert_eq!(fenced[0].fields["reason"], "session_timeout");
    assert!((60_000..=65_003).contains(&ms(&fenced[0])));
    let lost = events(&w, "membership_lost");
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].time.as_nanos(), 80_002_000_000, "a round trip after it wakes");
    let joins = of(events(&w, "member_joined"), "b").iter().map(ms).collect::<Vec<_>>();
    assert_eq!(joins.len(), 2);
    assert_eq!(joins[1], ms(&lost[0]) + 1, "the rejoin heartbeat goes out at once");
}

/// Commits carry member epochs: a group that only moves partitions by the protocol's rules
/// never has a commit refused, and never processes a record twice for a rebalance.
#[test]
fn a_scale_out_under_the_consumer_protocol_refuses_no_commit() {
    let w = run_yaml(&scenario(
        "    commit: after_processing",
        "      - {name: a}\n      - {name: b, start_at: 10s}\n      - {name: c, start_at: 20s}",
        "  []",
        "60s",
    ));
    assert!(events(&w, "commit_failed").is_empty());
    let s = summary(&w);
    assert_eq!(s["groups"]["g"]["duplicates"], 0);
    assert_eq!(s["groups"]["g"]["lost"], 0);
}

/// Every timeline action works on a consumer-protocol group: slow, pause/resume, a topic that
/// grows (the coordinator sees the new metadata at its next heartbeat: a new group epoch, the new
/// partitions assigned), a seek, a hang, a consumer added, the group removed (every member
/// leaves: the rebalance under way is abandoned), offsets reset while empty, a restart, a rate change.
#[test]
fn every_timeline_action_works_with_the_consumer_protocol() {
    let yaml = r#"
name: cp-actions
seed: 2
network_delay: 1ms
duration: 120s
topics: [{name: orders, partitions: 4}]
producers: [{name: web, topic: orders, rate: 500/s}]
groups:
  - id: g
    topics: [orders]
    protocol: consumer
    remote_assignor: range
    poll_interval: 20ms
    processing: 1ms
    commit: after_processing
    auto_offset_reset: earliest
    consumers: [{name: a}, {name: b, commit: before_processing}, {name: c, commit: auto}]
timeline:
  - {at: 10s, slow: {consumer: a, factor: 3}}
  - {at: 15s, pause: b}
  - {at: 20s, resume: b}
  - {at: 25s, add_partitions: {topic: orders, count: 8}}
  - {at: 40s, seek: {consumer: a, topic: orders, partition: 0, to: earliest}}
  - {at: 50s, hang: {consumer: c, for: 10s}}
  - {at: 60s, add_consumer: {group: g, name: d}}
  - {at: 70s, remove_group: g}
  - {at: 80s, reset_offsets: {group: g, topic: orders, to: earliest}}
  - {at: 90s, start: a}
  - {at: 95s, rate: {producer: web, rate: 100/s}}
"#;
    let w = run_yaml(yaml);
    let grew =
        events(&w, "rebalance_started").into_iter().find(|e| e.fields["reason"].as_str().unwrap().contains("orders"));
    let grew = grew.expect("the new partitions start a rebalance");
    assert!((25_000..=30_100).contains(&ms(&grew)), "noticed at the next heartbeat after 25 s: {}", ms(&grew));
    let targets = events(&w, "target_assignment");
    let after: Vec<_> = targets.iter().filter(|e| ms(e) >= ms(&grew)).collect();
    let assigned: usize =
        after[0].fields["target"].as_object().unwrap().values().map(|v| v.as_array().unwrap().len()).sum();
    assert_eq!(assigned, 8, "the target covers the grown topic");
    // remove_group stops all four members; each leave moves the group epoch, restarting the
    // one rebalance under way, which is abandoned as the group empties.
    assert_eq!(events(&w, "rebalance_abandoned").len(), 1, "the removed group's last rebalance");
    let at_70s = |e: &&LoggedEvent| (70_000..71_000).contains(&ms(e));
    assert_eq!(events(&w, "rebalance_restarted").iter().filter(at_70s).count(), 3, "three more leaves restart it");
    assert_eq!(events(&w, "offsets_reset").len(), 1, "reset while the group is empty");
    let last = events(&w, "rebalance_completed").pop().unwrap();
    assert_eq!(last.fields["members"], serde_json::json!(["a"]));
    assert_eq!(summary(&w)["groups"]["g"]["lost"], 0);
}

/// Invariants over a seed sweep of random crash / join / stop / hang / seek timelines, every
/// commit mode, static and dynamic members, both server-side assignors and every modelled Kafka
/// version (shorter heartbeat and session settings than Kafka's defaults, so more happens).
#[test]
fn invariants_hold_across_a_seed_sweep() {
    use rand::{Rng, SeedableRng};
    for seed in 0..sweep_seeds(40) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n = rng.gen_range(2..=5);
        let static_members = rng.gen_bool(0.3);
        let consumers = sweep_consumers(&mut rng, n, static_members, 10);
        let timeline = sweep_timeline(&mut rng, n, 10..100, |rng, c| match rng.gen_range(0..6) {
            0 => format!("crash: c{c}"),
            1 => format!("start: c{c}"),
            2 => format!("stop: c{c}"),
            3 => format!("hang: {{consumer: c{c}, for: {}s}}", rng.gen_range(1..30)),
            4 => format!("seek: {{consumer: c{c}, topic: t, to: earliest}}"),
            _ => format!("slow: {{consumer: c{c}, factor: {}}}", rng.gen_range(1..50)),
        });
        let commit = ["auto", "after_processing", "before_processing"][rng.gen_range(0..3)];
        let version = ["4.0", "4.1", "4.2", "4.3", "4.4"][rng.gen_range(0..5)];
        let assignor = ["uniform", "range"][rng.gen_range(0..2)];
        let yaml = format!(
            r#"
name: sweep
seed: {seed}
duration: 150s
network_delay: {}ms
topics: [{{name: t, partitions: {}}}]
producers: [{{name: p, topic: t, rate: 300/s, keys: {{uniform: 50}}}}]
groups:
  - id: g
    topics: [t]
    protocol: consumer
    remote_assignor: {assignor}
    kafka_version: "{version}"
    group_consumer_min_heartbeat_interval_ms: 1000
    group_consumer_heartbeat_interval_ms: 2000
    group_consumer_min_session_timeout_ms: 6000
    group_consumer_session_timeout_ms: 10000
    max_poll_interval_ms: 20000
    poll_interval: 50ms
    processing: {{exponential: 2ms}}
    commit: {commit}
    auto_offset_reset: earliest
    consumers:
{consumers}
timeline:
{timeline}
"#,
            rng.gen_range(0..3),
            rng.gen_range(1..8),
        );
        eprintln!("sweep seed {seed}:\n{yaml}");
        let w = run_yaml(&yaml);
        let g = &summary(&w)["groups"]["g"];
        assert!(g["records_processed"].as_u64().unwrap() > 0, "seed {seed}: {yaml}");
        if commit == "after_processing" && !yaml.contains("seek:") {
            assert_eq!(g["lost"], 0, "seed {seed}: at-least-once never loses\n{yaml}");
        }
    }
}

/// Members joining one after the other make one rebalance, not one per group epoch: a bump
/// while the group reconciles restarts the rebalance under way (the group is never stable at the
/// epochs in between), as a classic join round starts over. At start-up the first member takes
/// every partition at epoch 1, and gives back those the epoch-3 target gives the others: they
/// moved, though no rebalance had completed before.
#[test]
fn members_joining_together_make_one_rebalance() {
    let consumers = "      - {name: a}\n      - {name: b}\n      - {name: c}";
    let w = run_yaml(&scenario("", consumers, "", "30s"));
    let started = events(&w, "rebalance_started");
    assert_eq!(started.len(), 1, "one rebalance opens: {started:?}");
    let restarted: Vec<_> =
        events(&w, "rebalance_restarted").iter().map(|e| e.fields["cancelled_generation"].clone()).collect();
    assert_eq!(restarted, [serde_json::json!(1), serde_json::json!(2)], "b's and c's joins restart it");
    let done = events(&w, "rebalance_completed");
    assert_eq!(done.len(), 1, "it completes once: {done:?}");
    let d = &done[0];
    assert_eq!(d.fields["generation"], 3);
    assert_eq!(d.fields["rebalance"], started[0].fields["rebalance"]);
    let took = (d.time.as_nanos() - started[0].time.as_nanos()) as f64 / 1e6;
    assert_eq!(d.fields["duration_ms"].as_f64().unwrap(), took, "timed from the first join's bump");
    let given_back = parts(&of(events(&w, "partitions_revoked"), "a")[0], "partitions");
    assert_eq!(given_back.len(), 2, "a held all 4 and keeps 2 of the 3-way split");
    assert_eq!(d.fields["partitions_moved"], 2, "what a gave back moved to b and c");
    assert_eq!(d.fields["revoked_partitions"], 2);
    let g = &summary(&w)["groups"]["g"];
    assert_eq!(g["rebalances"], 1);
    assert_eq!(g["partitions_moved"], 2);
    assert_eq!(g["rebalance_latency_ms"]["total"].as_f64().unwrap(), took);
}

/// protocol-comparison: c4 crashes at 60 s; its three partitions go to c1, c2 and c3, each
/// taking its own at its own next heartbeat (c3 and c2 at about 101.0 s, c1 at 105.7 s), so the
/// finding gives the first and the last fetch, not the last one's time for all.
#[test]
fn partitions_taken_at_different_times_say_between() {
    let w = run_file(&repo("scenarios/protocol-comparison.yaml"));
    let s = summary(&w);
    let f = s["findings"].as_array().unwrap().iter().find(|f| f["kind"] == "unowned").expect("c4's crash");
    let text = f["text"].as_str().unwrap();
    assert!(
        text.ends_with("sat unread for up to 45.8 s, until c1, c2 and c3 fetched them between 101 s and 106 s."),
        "{text}"
    );
    let took: Vec<f64> = events(&w, "reconciliation_completed")
        .iter()
        .filter(|e| (100_000..110_000).contains(&ms(e)))
        .map(|e| e.time.as_secs_f64())
        .collect();
    assert!(took.iter().any(|&t| t < 101.5) && took.iter().any(|&t| t > 105.5), "{took:?}");
}
