//! What the outputs say about a consumer-protocol group (KIP-848): summary.json's epochs and
//! member states on both sides, the console's columns, the story's steps, the findings' settings
//! and the ownership chart's handover states; and that a classic group's outputs gain nothing.

use crate::util::*;
use kafkasim::report::charts::Handover;

/// a reads all four partitions, b joins at 10 s and leaves at 25 s: one handover each way.
const SCENARIO: &str = "
name: cp-outputs
seed: 1
network_delay: 1ms
duration: 40s
topics:
  - {name: orders, partitions: 4}
producers:
  - {name: web, topic: orders, rate: 400/s}
groups:
  - id: g
    topics: [orders]
    protocol: consumer
    poll_interval: 20ms
    processing: 0.2ms
    auto_offset_reset: earliest
    consumers: [{name: a}, {name: b, start_at: 10s}]
timeline:
  - {at: 25s, stop: b}
";

fn story(w: &kafkasim::kafka::world::World) -> Vec<String> {
    kafkasim::report::narrate::story(&w.run_record())
}

fn assert_line(story: &[String], line: &str) {
    assert!(story.iter().any(|l| l == line), "no line\n{line}\nin:\n{}", story.join("\n"));
}

/// The group's epochs beside its generation, and per consumer the client's member epoch and
/// state with the coordinator's state of its member (null once it left).
#[test]
fn the_summary_gives_epochs_and_member_states() {
    let s = summary(&run_yaml(SCENARIO));
    let g = &s["groups"]["g"];
    assert_eq!((&g["protocol"], &g["group_epoch"], &g["assignment_epoch"]), (&"consumer".into(), &3.into(), &3.into()));
    let keys: Vec<&String> = g.as_object().unwrap().keys().collect();
    let at = keys.iter().position(|k| *k == "generation").unwrap();
    assert_eq!(keys[at + 1..at + 4], ["protocol", "group_epoch", "assignment_epoch"]);
    let a = &g["consumers"]["a"];
    assert_eq!(
        (&a["member_epoch"], &a["member_state"], &a["server_member_state"]),
        (&3.into(), &"stable".into(), &"stable".into())
    );
    let b = &g["consumers"]["b"];
    assert_eq!(b["state"], "stopped");
    assert_eq!(b["member_state"], "unsubscribed");
    assert!(b["server_member_state"].is_null(), "the coordinator holds no member for b once it left");
    let console = kafkasim::report::console::run_summary(&run_yaml(SCENARIO).run_record());
    assert!(console.contains("  group g (consumer group, pull, consumer protocol (KIP-848))"), "{console}");
    assert!(console.contains("    group epoch 3, assignment epoch 3 (the target assignment's)"), "{console}");
    assert!(console.contains("epoch member state  coordinator's view"), "{console}");
    assert!(
        console.lines().any(|l| l.starts_with("    a ") && l.contains("     3 stable        stable ")),
        "{console}"
    );
}

/// A classic group's summary and console keep their keys and columns.
#[test]
fn a_classic_group_gains_no_protocol_keys() {
    let w = run_yaml(&SCENARIO.replace("protocol: consumer", "protocol: cooperative"));
    let s = summary(&w);
    let g = &s["groups"]["g"];
    for k in ["protocol", "group_epoch", "assignment_epoch"] {
        assert!(g.get(k).is_none(), "{k}");
    }
    for c in g["consumers"].as_object().unwrap().values() {
        assert!(c.get("member_epoch").is_none() && c.get("server_member_state").is_none());
    }
    let console = kafkasim::report::console::run_summary(&w.run_record());
    assert!(console.contains("  group g (consumer group, pull)\n") && !console.contains("member state"), "{console}");
}

/// The story tells the target and who gives what up, the revocation with its commit and
/// acknowledgement, the takeover with how long after the partitions were freed, the group
/// reconciled; and no line per heartbeat.
#[test]
fn the_story_tells_each_consumer_protocol_step() {
    let story = story(&run_yaml(SCENARIO));
    for line in [
        "00:10.000  [group join] consumer b starts and joins group g with a heartbeat at member epoch 0 \
         (ConsumerGroupHeartbeat to the group coordinator)",
        "00:10.001  [rebalance] group g, group epoch 2 (b joined): the coordinator computed a new target: a keeps \
         orders-0, orders-1 and must first give up orders-2, orders-3; b gets orders-2, orders-3 — each learns its \
         part at its next heartbeat",
        "00:10.533  [rebalance] consumer a revoked orders-2, orders-3 (after committing its position) and \
         acknowledged; it keeps orders-0, orders-1",
        "00:15.742  [rebalance] consumer b took orders-2, orders-3 at its next heartbeat, 5.0 s after they were \
         freed (applied 218 ms after the answer; member epoch 2)",
        "00:15.742  [rebalance] group g is stable: every member reconciled to group epoch 2 in 5.7 s; nobody \
         stopped processing: members kept reading what did not move; assignment a: orders-0 orders-1; b: orders-2 \
         orders-3",
        "00:25.003  [rebalance] consumer b leaves g with a heartbeat at member epoch -1; orders-2, orders-3 are free \
         for the next target",
        "00:25.003  [rebalance] group g moves to group epoch 3 (b left); the coordinator computes the new target at \
         the next member heartbeat",
    ] {
        assert_line(&story, line);
    }
    let rebalance_lines = story.iter().filter(|l| l.contains("[rebalance]")).count();
    assert!(rebalance_lines <= 14, "compact: {rebalance_lines} rebalance lines\n{}", story.join("\n"));
    assert!(!story.iter().any(|l| l.contains("[event]")), "every consumer-protocol event is told in words");
}

/// A crash is noticed after the group's group.consumer.session.timeout.ms (the consumer's
/// session.timeout.ms does not apply), and the rebalances finding says how long the members
/// took to reconcile and that none stopped.
#[test]
fn findings_name_the_consumer_protocol_settings() {
    let yaml =
        SCENARIO.replace("  - {at: 25s, stop: b}", "  - {at: 20s, crash: b}").replace("duration: 40s", "duration: 80s");
    let s = summary(&run_yaml(&yaml));
    let texts: Vec<&str> = s["findings"].as_array().unwrap().iter().filter_map(|f| f["text"].as_str()).collect();
    let crash = texts.iter().find(|t| t.starts_with("b crashed")).expect("an unowned finding");
    // The plan's default group.consumer.session.timeout.ms, whatever the consumer's own setting.
    assert!(crash.contains("(group_consumer_session_timeout_ms 45000 after its last heartbeat)"), "{crash}");
    let rebalances = texts.iter().find(|t| t.starts_with("Rebalances took")).expect("a rebalances finding");
    assert!(rebalances.contains("the members reconciled to"), "{rebalances}");
    assert!(rebalances.contains("no member stopped processing"), "{rebalances}");
}

/// The ownership chart: while a still holds what the target gives b, it waits to be revoked
/// (striped in b's colour); once freed, it waits for b; a classic group has neither.
#[test]
fn ownership_shows_partitions_between_owners() {
    let w = run_yaml(SCENARIO);
    let rows = kafkasim::report::run_charts::ownership_rows(&w.run_record());
    let row = rows.iter().find(|r| r.label == "orders-2").unwrap();
    let states: Vec<(f64, f64, Option<&str>, Handover)> =
        row.spans.iter().map(|s| (s.start, s.end, s.owner.as_deref(), s.handover)).collect();
    let revoking = states.iter().find(|s| matches!(s.3, Handover::Revoking(_))).expect("revoking");
    let near = |x: f64, y: f64| (x - y).abs() < 1e-6;
    assert!(near(revoking.0, 10.001) && near(revoking.1, 10.531) && revoking.2 == Some("a"), "{states:?}");
    let awaiting = states.iter().find(|s| s.0 >= revoking.1 && matches!(s.3, Handover::Awaiting(_))).expect("awaiting");
    assert!(near(awaiting.0, 10.531) && near(awaiting.1, 15.742) && awaiting.2.is_none(), "{states:?}");
    // The target names b for both stretches: its colour marks them.
    let Handover::Revoking(to) = revoking.3 else { unreachable!() };
    assert_eq!(awaiting.3, Handover::Awaiting(to));
    let classic = run_yaml(&SCENARIO.replace("protocol: consumer", "protocol: cooperative"));
    let rows = kafkasim::report::run_charts::ownership_rows(&classic.run_record());
    assert!(rows.iter().flat_map(|r| &r.spans).all(|s| s.handover == Handover::None));
}
