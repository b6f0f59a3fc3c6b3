//! The shipped replication scenarios against the worked scenarios S1-S5 of
//! ../shared/replication.md §8, with the timing of its §7.3: a 1 ms round trip
//! (`network_delay: 0.5ms`), Kafka 4's defaults (a 9 s broker session, heartbeats every 2 s, a
//! client metadata refresh within about 1 s of the brokers learning a new leader). Each test runs
//! the scenario file as shipped (or a variant of its text), with invariants checked after every
//! event, and checks the figures the fact sheet gives.

use crate::util::*;
use kafkasim::kafka::world::World;
use kafkasim::report::events::LoggedEvent;
use serde_json::Value;

/// A shipped scenario's text.
fn text(name: &str) -> String {
    std::fs::read_to_string(repo(&format!("scenarios/{name}.yaml"))).unwrap()
}

/// A shipped scenario's text with `from` replaced by `to` (which must be there).
fn variant(name: &str, from: &str, to: &str) -> String {
    let t = text(name);
    assert!(t.contains(from), "scenarios/{name}.yaml has no `{from}`");
    t.replace(from, to)
}

fn run_scenario(name: &str) -> World {
    run_file(&repo(&format!("scenarios/{name}.yaml")))
}

fn events(w: &World, kind: &str) -> Vec<LoggedEvent> {
    logged(w).into_iter().filter(|e| e.kind == kind).collect()
}

/// Virtual time in milliseconds.
fn ms(e: &LoggedEvent) -> f64 {
    e.time.as_nanos() as f64 / 1e6
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"))
}

/// The single event of `kind` whose `key` is `value`.
fn one(w: &World, kind: &str, key: &str, value: Value) -> LoggedEvent {
    let mut found: Vec<LoggedEvent> = events(w, kind).into_iter().filter(|e| e.fields[key] == value).collect();
    assert_eq!(found.len(), 1, "one {kind} with {key} = {value}: {found:?}");
    found.pop().unwrap()
}

fn web(s: &Value) -> &Value {
    &s["producers"]["web"]
}

fn within(what: &str, x: f64, low: f64, high: f64) {
    assert!((low..=high).contains(&x), "{what}: {x} is not within [{low}, {high}]");
}

/// S1: broker 1 crashes at 10 s. §3.2: the controller fences it 9 s after its last heartbeat,
/// 7 to 9 s after the crash, and in the same batch elects broker 2, the first in-sync replica in
/// assignment order (§3.3). §3.7: the producer writes again after the metadata reaches the
/// brokers and its next refresh (within about 1 s). Outage 7-10 s; 0 lost, 0 duplicates.
#[test]
fn s1_a_leader_crash_costs_one_session_timeout_and_nothing_else() {
    let w = run_scenario("replication-leader-crash");
    let s = summary(&w);
    let crash = ms(&one(&w, "broker_crashed", "broker", 1.into()));
    assert_eq!(crash, 10_000.0);
    let fenced = one(&w, "broker_fenced", "broker", 1.into());
    assert_eq!(fenced.fields["reason"], "session_timeout");
    within("fenced after the crash (ms)", ms(&fenced) - crash, 7_000.0, 9_000.0);
    let elected = one(&w, "leader_elected", "partition", "orders-0".into());
    assert_eq!((&elected.fields["leader"], &elected.fields["election"]), (&2.into(), &"clean".into()));
    assert_eq!(ms(&elected), ms(&fenced), "fencing and the election are one batch of records");
    let resumed = one(&w, "produce_resumed", "partition", "orders-0".into());
    within("writes resume after the fencing (ms)", ms(&resumed) - ms(&fenced), 0.0, 1_100.0);
    within("outage (ms)", num(&web(&s)["unavailable_ms"]["max"]), 7_000.0, 10_000.0);
    assert_eq!(web(&s)["lost"], 0);
    assert_eq!(web(&s)["duplicates_written"], 0);
    assert_eq!(web(&s)["lost_by_cause"]["delivery_timeout"], 0, "9 s is far below delivery.timeout.ms");
    let p = &s["topics"]["orders"]["partitions"][0];
    assert_eq!((&p["leader"], &p["isr"], &p["leader_changes"]), (&2.into(), &serde_json::json!([2, 3]), &1.into()));
    // The reader: nothing new during the outage, then everything, once.
    let g = &s["groups"]["shipping"];
    assert_eq!((&g["lost"], &g["duplicates"]), (&0.into(), &0.into()));
    assert_eq!(g["records_processed"], s["records_produced"]);
    within("the slowest record (ms)", num(&g["latency_ms"]["max"]), 7_000.0, 11_000.0);
    assert!(events(&w, "coordinator_moved").is_empty(), "shipping's coordinator is not on broker 1");
}

/// S1 over heartbeat phases: whatever the seed, the outage stays within the fact sheet's
/// 7.0-10.0 s and nothing is lost or written twice.
#[test]
fn s1_holds_for_every_heartbeat_phase() {
    for seed in 1..=6 {
        let w = run_yaml(&variant("replication-leader-crash", "seed: 1\n", &format!("seed: {seed}\n")));
        let s = summary(&w);
        within(&format!("seed {seed}: outage (ms)"), num(&web(&s)["unavailable_ms"]["max"]), 7_000.0, 10_000.0);
        assert_eq!((&web(&s)["lost"], &web(&s)["duplicates_written"]), (&0.into(), &0.into()), "seed {seed}");
    }
}

/// S2: acks=1, broker 2 200 ms behind and broker 3 20 ms behind, both in the ISR. Broker 2 is
/// elected (first in order, not the most caught up) and the acknowledged records it lacked are
/// lost: 5,000/s x 0.2 s = 1,000. Broker 3 cuts its 900 extra records; broker 1 cuts its
/// 1,000-record tail when it returns. Consumers never saw them (the HW is the ISR's minimum).
#[test]
fn s2_acks_1_loses_rate_times_the_elected_followers_lag() {
    let w = run_scenario("replication-acks-1-loss");
    let s = summary(&w);
    let lost = num(&web(&s)["lost"]);
    within("acknowledged records lost", lost, 900.0, 1_100.0);
    assert_eq!(web(&s)["lost_by_cause"]["leader_failover"], web(&s)["lost"]);
    assert_eq!(web(&s)["duplicates_written"], 0, "the in-flight batches never reached broker 2");
    let elected = one(&w, "leader_elected", "partition", "orders-0".into());
    assert_eq!(elected.fields["leader"], 2, "the first in-sync replica in order, though broker 3 has more");
    let cut3 = one(&w, "log_truncated", "broker", 3.into());
    within("broker 3 cuts rate x (0.2 - 0.02) s", num(&cut3.fields["records"]), 800.0, 1_000.0);
    let cut1 = one(&w, "log_truncated", "broker", 1.into());
    assert!(ms(&cut1) >= 20_000.0, "broker 1 cuts its tail when it returns");
    assert_eq!(num(&cut1.fields["records"]), lost, "broker 1's tail is what was lost");
    let g = &s["groups"]["shipping"];
    assert_eq!(g["records_processed"], s["records_produced"], "the reader read exactly what survived");
    assert_eq!((&g["lost"], &g["duplicates"]), (&0.into(), &0.into()));
    assert_eq!(g["backlog_records"]["final"], 0);
}

/// §2's table for the same crash: acks=0 loses the same records (counted written when sent),
/// acks=all loses none.
#[test]
fn s2_acks_0_loses_the_same_records_and_acks_all_none() {
    let zero = summary(&run_yaml(&variant("replication-acks-1-loss", "acks: 1 ", "acks: 0 ")));
    within("acks=0 lost", num(&web(&zero)["lost_by_cause"]["acks_0"]), 900.0, 1_100.0);
    assert_eq!(web(&zero)["lost_by_cause"]["leader_failover"], 0);
    let all = summary(&run_yaml(&variant("replication-acks-1-loss", "acks: 1 ", "acks: all ")));
    assert_eq!(web(&all)["lost"], 0);
    assert_eq!(web(&all)["duplicates_written"], 0, "idempotence is on by default with acks=all");
}

/// S3: broker 3 out since the start, broker 2 crashes at 100 s, broker 3 returns at 150 s with
/// an empty log, broker 1 (the last ISR member) dies at 150.2 s. At its fencing broker 3 is
/// elected uncleanly (ISR := [3]) and every committed record it lacks is lost: about 100,000 at
/// 1,000/s. Writes resume only when the ISR is back at min.insync.replicas (broker 1 returns).
#[test]
fn s3_an_unclean_election_loses_committed_records() {
    let w = run_scenario("replication-unclean-election");
    let s = summary(&w);
    let fenced = one(&w, "broker_fenced", "broker", 1.into());
    let elected = one(&w, "leader_elected", "partition", "orders-0".into());
    assert_eq!((&elected.fields["leader"], &elected.fields["election"]), (&3.into(), &"unclean".into()));
    assert_eq!(ms(&elected), ms(&fenced), "unclean election happens in the fencing batch (§3.4)");
    let lost = num(&web(&s)["lost"]);
    within("committed records lost (about rate x 100 s)", lost, 95_000.0, 101_000.0);
    assert_eq!(web(&s)["lost_by_cause"]["unclean_election"], web(&s)["lost"]);
    assert_eq!(web(&s)["lost_by_cause"]["leader_failover"], 0);
    assert_eq!(web(&s)["duplicates_written"], 0);
    let cut = one(&w, "log_truncated", "broker", 1.into());
    assert!(ms(&cut) >= 180_000.0 && num(&cut.fields["records"]) >= lost, "broker 1 cuts it all on return");
    let p = &s["topics"]["orders"]["partitions"][0];
    assert_eq!((&p["leader"], &p["offline_ms"]), (&3.into(), &0.0.into()));
    let resumed = events(&w, "produce_resumed");
    assert!(resumed.last().is_some_and(|e| ms(e) >= 180_000.0), "writes wait for a second ISR member");
}

/// S3's contrast: with the flag false the partition stays offline (leader -1, ISR [1]) from
/// broker 1's fencing until it returns and is elected again, cleanly: an outage, but 0 loss.
#[test]
fn s3_without_unclean_election_the_partition_waits_offline_and_keeps_everything() {
    let yaml = variant(
        "replication-unclean-election",
        "unclean_leader_election_enable: true",
        "unclean_leader_election_enable: false",
    );
    let w = run_yaml(&yaml);
    let s = summary(&w);
    assert_eq!(web(&s)["lost"], 0);
    let fenced = one(&w, "broker_fenced", "broker", 1.into());
    let elections = events(&w, "leader_elected");
    let kinds: Vec<(&Value, &Value)> = elections.iter().map(|e| (&e.fields["leader"], &e.fields["election"])).collect();
    assert_eq!(kinds, [(&Value::Null, &"offline".into()), (&1.into(), &"clean".into())]);
    assert_eq!(ms(&elections[0]), ms(&fenced));
    assert!(ms(&elections[1]) >= 180_000.0, "broker 1 leads again once it is back");
    let offline = num(&s["topics"]["orders"]["partitions"][0]["offline_ms"]);
    assert!((offline - (ms(&elections[1]) - ms(&elections[0]))).abs() < 1.0, "offline {offline} ms");
}

/// S4: group g's coordinator is the leader of __consumer_offsets-3 (abs("g".hashCode()) % 50),
/// broker 1, which crashes at 20 s. Commits fail until the controller fences broker 1 (7-9 s),
/// the next replica leads the partition and loads the group (10-500 ms); the group loads as it
/// was, so there is no rebalance, and no record is lost or processed twice.
#[test]
fn s4_a_coordinator_failover_needs_no_rebalance() {
    let w = run_scenario("replication-coordinator-failover");
    let s = summary(&w);
    let crash = ms(&one(&w, "broker_crashed", "broker", 1.into()));
    let fenced = one(&w, "broker_fenced", "broker", 1.into());
    within("fenced after the crash (ms)", ms(&fenced) - crash, 7_000.0, 9_000.0);
    let moved = one(&w, "coordinator_moved", "group", "g".into());
    assert_eq!(moved.fields["offsets_partition"], "__consumer_offsets-3");
    assert_eq!(moved.fields["from_broker"], 1);
    assert_eq!(ms(&moved), ms(&fenced), "the coordinator moves with the offsets partition's leadership");
    let loaded = one(&w, "coordinator_loaded", "group", "g".into());
    assert_eq!(loaded.fields["broker"], moved.fields["to_broker"]);
    within("loading (ms)", ms(&loaded) - ms(&moved), 10.0, 500.0);
    let failed = events(&w, "commit_failed");
    assert!(failed.len() >= 3, "every consumer's commit fails at least once: {failed:?}");
    for f in &failed {
        assert!(ms(f) > crash && ms(f) < ms(&loaded), "a commit fails only while the coordinator is away");
        assert_eq!(f.fields["reason"], "coordinator_not_available");
    }
    let g = &s["groups"]["g"];
    assert_eq!(g["rebalances"], 1, "only the first join: the coordinator failover is no rebalance");
    assert!(events(&w, "member_fenced").is_empty() && events(&w, "rebalance_started").len() == 1);
    assert_eq!((&g["lost"], &g["duplicates"]), (&0.into(), &0.into()));
    assert_eq!(g["commits_rejected"], failed.len());
    // Commits stalled for the interval plus the outage; they work again after the load.
    within("committed lag at its peak (records)", num(&g["lag_records"]["max"]), 10_000.0, 20_000.0);
    assert!(num(&g["lag_records"]["final"]) < 6_000.0, "commits caught up after the load");
    assert_eq!(web(&s)["unavailable_ms"]["max"], 0.0, "no data lives on broker 1");
}

/// S5: each broker in turn gets a controlled shutdown, 20 s away, then starts again. The
/// controller moves its leaderships at once (§3.8), so each partition's write gap is about
/// δ_meta + an RTT (30-35 ms), never a session timeout; ISR stays 2 >= min.insync.replicas, so
/// nothing is lost or duplicated; the group's coordinator moves without a rebalance; leaderships
/// stay where the restarts left them (the preferred-leader check runs every 300 s).
#[test]
fn s5_a_rolling_restart_pauses_each_partition_for_tens_of_ms() {
    let w = run_scenario("replication-rolling-restart");
    let s = summary(&w);
    let resumed = events(&w, "produce_resumed");
    assert!(resumed.len() >= 20, "leaderships moved at each stop: {}", resumed.len());
    for r in &resumed {
        within("a partition's write gap (ms)", num(&r.fields["unavailable_ms"]), 0.0, 100.0);
    }
    within("the longest write gap (ms)", num(&web(&s)["unavailable_ms"]["max"]), 20.0, 100.0);
    assert_eq!((&web(&s)["lost"], &web(&s)["duplicates_written"]), (&0.into(), &0.into()));
    assert!(events(&w, "produce_failed").iter().all(|e| e.fields["error"] == "NOT_LEADER_OR_FOLLOWER"));
    for b in 1..=3 {
        let stop = ms(&one(&w, "broker_shutting_down", "broker", b.into()));
        let fenced = one(&w, "broker_fenced", "broker", b.into());
        assert_eq!(fenced.fields["reason"], "controlled_shutdown");
        within("fenced after the stop (ms)", ms(&fenced) - stop, 0.0, 100.0);
        let start = ms(&one(&w, "broker_started", "broker", b.into()));
        let rejoined: Vec<f64> = events(&w, "isr_changed")
            .iter()
            .filter(|e| e.fields["reason"] == "caught_up" && ms(e) > start && ms(e) < start + 10_000.0)
            .map(ms)
            .collect();
        assert_eq!(rejoined.len(), 30, "broker {b} rejoins all 30 ISRs before the next stop");
    }
    let g = &s["groups"]["g"];
    assert_eq!((&g["rebalances"], &g["duplicates"], &g["lost"]), (&1.into(), &0.into(), &0.into()));
    assert!(!events(&w, "coordinator_moved").is_empty(), "the group's coordinator moved");
    assert_eq!(s["brokers"]["3"]["partitions_led"], 0, "leaderships do not come back by themselves");
}

/// S5's hazard: stopping broker 2 while broker 1 is still away drops partitions whose ISR was
/// {2, 3} to {3} < min.insync.replicas: acks=all is refused (NOT_ENOUGH_REPLICAS) until broker 1
/// is back in the ISR; nothing is lost.
#[test]
fn s5_stopping_the_next_broker_too_early_refuses_acks_all() {
    let early = variant("replication-rolling-restart", "  - {at: 35s, stop_broker: 2}\n", "")
        .replace("  - {at: 25s, start_broker: 1}\n", "  - {at: 15s, stop_broker: 2}\n  - {at: 25s, start_broker: 1}\n");
    let w = run_yaml(&early);
    let s = summary(&w);
    let refused = events(&w, "produce_failed");
    let refused: Vec<&LoggedEvent> = refused.iter().filter(|e| e.fields["error"] == "NOT_ENOUGH_REPLICAS").collect();
    assert!(!refused.is_empty(), "acks=all is refused below min.insync.replicas");
    assert!(refused.iter().all(|e| ms(e) >= 15_000.0 && ms(e) < 25_000.0));
    within("the longest write gap (ms)", num(&web(&s)["unavailable_ms"]["max"]), 10_000.0, 12_000.0);
    assert_eq!(web(&s)["lost"], 0);
}
