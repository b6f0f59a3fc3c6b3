//! `hang`: a consumer whose host freezes (no heartbeats, no processing, connections open), then
//! carries on where it was. Times worked out by hand from Kafka's rules: heartbeats every 3 s
//! from the JoinGroup response (at 0 s here), a member fenced at its last heartbeat + 45 s.

use crate::util::*;
use kafkasim::kafka::world::World;
use kafkasim::report::events::LoggedEvent;

fn events(w: &World, kind: &str) -> Vec<LoggedEvent> {
    logged(w).into_iter().filter(|e| e.kind == kind).collect()
}

fn ms(e: &LoggedEvent) -> u64 {
    e.time.as_millis()
}

fn of(evs: Vec<LoggedEvent>, consumer: &str) -> Vec<LoggedEvent> {
    evs.into_iter().filter(|e| e.fields["consumer"] == consumer).collect()
}

/// Two consumers of four partitions, 200 records/s, pulling.
fn base(group: &str, timeline: &str, duration: &str) -> String {
    format!(
        r#"
name: t
seed: 3
duration: {duration}
topics: [{{name: t, partitions: 4}}]
producers: [{{name: p, topic: t, rate: 200/s}}]
groups:
  - id: g
    topics: [t]
    group_initial_rebalance_delay_ms: 0
    poll_interval: 50ms
    processing: 1ms
    commit: after_processing
    auto_offset_reset: earliest
{group}
    consumers: [{{name: c1}}, {{name: c2}}]
timeline:
{timeline}
"#
    )
}

/// A 15 s hang is well within the 45 s session: nobody is fenced, nothing moves, nothing is lost
/// or read twice; c1's two partitions wait 15 s each and it catches up.
#[test]
fn a_short_hang_within_the_session_loses_nothing() {
    let w = run_yaml(&base("", "  - {at: 20s, hang: {consumer: c1, for: 15s}}", "60s"));
    let hung = events(&w, "consumer_hung");
    assert_eq!(hung.len(), 1);
    assert_eq!((ms(&hung[0]), hung[0].fields["for_ms"].as_f64()), (20_000, Some(15_000.0)));
    let resumed = events(&w, "consumer_resumed");
    assert_eq!(resumed.len(), 1);
    assert_eq!(ms(&resumed[0]), 35_000);
    assert_eq!(resumed[0].fields["fenced"], false);
    assert_eq!(resumed[0].fields["partitions_lost"].as_array().unwrap().len(), 0);
    assert!(events(&w, "member_fenced").is_empty());
    let s = summary(&w);
    let g = &s["groups"]["g"];
    assert_eq!(g["rebalances"], 1, "only the initial join");
    assert_eq!(g["lost"], 0);
    assert_eq!(g["duplicates"], 0);
    // Everything but the last few records of the run (produced within its last poll) was processed.
    let unprocessed = s["records_produced"].as_u64().unwrap() - g["records_processed"].as_u64().unwrap();
    assert!(unprocessed < 20, "{unprocessed}");
    let c1 = &g["consumers"]["c1"];
    assert_eq!(c1["hung_ms"], 15_000.0);
    assert_eq!(c1["state"], "active");
    assert!(g["consumers"]["c2"].get("hung_ms").is_none(), "only consumers a hang names report hung_ms");
    // running 60 s = busy + idle + hung
    let parts = c1["busy_ms"].as_f64().unwrap() + c1["idle_ms"].as_f64().unwrap() + 15_000.0;
    assert!((parts - 60_000.0).abs() < 1.0, "{parts}");
    // Its two partitions were unread while it was frozen: 2 x 15 s of pause.
    let pause = g["partition_pause_ms"].as_f64().unwrap();
    assert!((pause - 30_000.0).abs() < 1.0, "{pause}");
    // Records that arrived during the hang waited for it (the sticky partitioner sent c1's
    // partitions their first records of the hang at about 21.4 s): up to 15 s of latency.
    let max = g["latency_ms"]["max"].as_f64().unwrap();
    assert!((10_000.0..15_200.0).contains(&max), "{max}");
}

/// "It carries on where it was": a consumer that can never catch up (3 records of 1 s per poll,
/// 100 records/s arriving) processes in 60 s with a 10 s hang exactly what it processes in 50 s
/// without one; the batch in hand when it froze finishes 10 s later.
#[test]
fn a_hung_consumer_resumes_its_batch_where_it_was() {
    let yaml = |timeline: &str, duration: &str| {
        format!(
            r#"
name: t
duration: {duration}
topics: [{{name: t, partitions: 1}}]
producers: [{{name: p, topic: t, rate: 100/s}}]
groups:
  - id: g
    topics: [t]
    group_initial_rebalance_delay_ms: 0
    poll_interval: 50ms
    max_poll_records: 3
    processing: 1s
    commit: after_processing
    auto_offset_reset: earliest
    consumers: [{{name: c1}}]
timeline:
{timeline}
"#
        )
    };
    let plain = summary(&run_yaml(&yaml("  []", "50s")));
    // 20.5 s is inside a batch: batches start every 3.05 s.
    let hung = summary(&run_yaml(&yaml("  - {at: 20.5s, hang: {consumer: c1, for: 10s}}", "60s")));
    let (a, b) = (&plain["groups"]["g"], &hung["groups"]["g"]);
    assert_eq!(a["records_processed"], b["records_processed"]);
    assert_eq!(a["consumers"]["c1"]["busy_ms"], b["consumers"]["c1"]["busy_ms"]);
    assert_eq!(a["consumers"]["c1"]["polls"], b["consumers"]["c1"]["polls"]);
    assert_eq!(a["committed_offsets"], b["committed_offsets"]);
    assert_eq!(b["consumers"]["c1"]["hung_ms"], 10_000.0);
}

/// A 60 s hang outlasts the session: heartbeats went out at 0, 3, ..., 18 s, so the coordinator
/// fences c1 at 18 + 45 = 63 s and c2 takes its partitions. At 80 s c1 resumes: its first
/// heartbeat says UNKNOWN_MEMBER_ID, the batch it finishes cannot be committed, and it rejoins
/// as a new member and gets two partitions back.
#[test]
fn a_hang_past_the_session_timeout_is_fenced_and_rejoins() {
    // 50 records of 100 ms per poll: c1 is always mid-batch, so it freezes holding records.
    let group = "    max_poll_records: 50\n    processing: 100ms";
    let yaml =
        base(group, "  - {at: 20s, hang: {consumer: c1, for: 60s}}", "120s").replace("    processing: 1ms\n", "");
    let w = run_yaml(&yaml);
    let fenced = events(&w, "member_fenced");
    assert_eq!(fenced.len(), 1);
    assert_eq!((ms(&fenced[0]), &fenced[0].fields["consumer"]), (63_000, &serde_json::json!("c1")));
    assert_eq!(fenced[0].fields["reason"], "session_timeout");
    let done = events(&w, "rebalance_completed");
    let after_fence = done.iter().find(|e| ms(e) >= 63_000).expect("a rebalance after the fence");
    assert_eq!(after_fence.fields["assigned"]["c2"].as_array().unwrap().len(), 4);
    let resumed = events(&w, "consumer_resumed");
    assert_eq!(ms(&resumed[0]), 80_000);
    assert_eq!(resumed[0].fields["fenced"], true);
    assert_eq!(resumed[0].fields["partitions_lost"].as_array().unwrap().len(), 2);
    let lost = events(&w, "membership_lost");
    assert_eq!(lost.len(), 1);
    assert_eq!(ms(&lost[0]), 80_000, "its first heartbeat goes out as it resumes");
    let failed = of(events(&w, "commit_failed"), "c1");
    assert!(failed.iter().any(|e| ms(e) > 80_000), "the batch it finished after resuming is not committed");
    let rejoined = of(events(&w, "member_joined"), "c1");
    assert!(rejoined.iter().any(|e| ms(e) > 80_000));
    let last = done.last().unwrap();
    assert!(ms(last) > 80_000);
    assert_eq!(last.fields["assigned"]["c1"].as_array().unwrap().len(), 2);
    assert_eq!(last.fields["assigned"]["c2"].as_array().unwrap().len(), 2);
    let s = summary(&w);
    let g = &s["groups"]["g"];
    assert_eq!(g["lost"], 0, "at-least-once: what c1 held is read again by c2");
    assert!(g["duplicates"].as_u64().unwrap() > 0);
    assert!(g["duplicates_by_cause"]["hang"].as_u64().unwrap() > 0, "{}", g["duplicates_by_cause"]);
    assert_eq!(g["consumers"]["c1"]["state"], "active");
}

/// Hung for good, then `start`: the frozen process is killed and a new one starts at 30 s. The
/// new member's join waits for the old, silent member until its session times out at 63 s.
#[test]
fn start_restarts_a_consumer_hung_for_good() {
    let w = run_yaml(&base("", "  - {at: 20s, hang: c1}\n  - {at: 30s, start: c1}", "90s"));
    assert!(events(&w, "consumer_hung")[0].fields["for_ms"].is_null());
    assert!(events(&w, "consumer_resumed").is_empty());
    assert_eq!(ms(&of(events(&w, "consumer_crashed"), "c1")[0]), 30_000);
    let started = of(events(&w, "consumer_started"), "c1");
    assert_eq!(ms(started.last().unwrap()), 30_000);
    assert_eq!(ms(&events(&w, "member_fenced")[0]), 63_000);
    let s = summary(&w);
    let g = &s["groups"]["g"];
    assert_eq!(g["consumers"]["c1"]["state"], "active");
    assert_eq!(g["consumers"]["c1"]["hung_ms"], 10_000.0);
    assert_eq!(g["lost"], 0);
    let last = events(&w, "rebalance_completed").last().cloned().unwrap();
    assert_eq!(ms(&last), 63_000);
    assert_eq!(last.fields["assigned"]["c1"].as_array().unwrap().len(), 2);
}

/// Hung for good, nothing else: fenced at 63 s, c2 takes everything, c1 ends `hung`.
#[test]
fn a_consumer_hung_for_good_ends_hung() {
    let w = run_yaml(&base("", "  - {at: 20s, hang: c1}", "90s"));
    assert_eq!(ms(&events(&w, "member_fenced")[0]), 63_000);
    let s = summary(&w);
    let g = &s["groups"]["g"];
    assert_eq!(g["consumers"]["c1"]["state"], "hung");
    assert_eq!(g["consumers"]["c1"]["hung_ms"], 70_000.0);
    assert_eq!(g["consumers"]["c2"]["partitions"].as_array().unwrap().len(), 4);
    assert_eq!(g["lost"], 0);
}

/// A crash while hung is a crash, but the member went silent at the hang: its session still runs
/// out at 18 + 45 = 63 s, not 45 s after the crash.
#[test]
fn a_crash_while_hung_keeps_the_session_of_the_hang() {
    let w = run_yaml(&base("", "  - {at: 20s, hang: c1}\n  - {at: 25s, crash: c1}", "90s"));
    assert_eq!(ms(&of(events(&w, "consumer_crashed"), "c1")[0]), 25_000);
    assert_eq!(ms(&events(&w, "member_fenced")[0]), 63_000);
    let s = summary(&w);
    assert_eq!(s["groups"]["g"]["consumers"]["c1"]["state"], "crashed");
    assert_eq!(s["groups"]["g"]["consumers"]["c1"]["hung_ms"], 5_000.0);
}

/// `stop` while hung: a frozen process cannot close; it stops when it resumes.
#[test]
fn a_stop_while_hung_happens_at_resume() {
    let w = run_yaml(&base("", "  - {at: 20s, hang: {consumer: c1, for: 10s}}\n  - {at: 25s, stop: c1}", "60s"));
    let stopped = of(events(&w, "consumer_stopped"), "c1");
    assert_eq!(stopped.len(), 1);
    assert!((30_000..30_100).contains(&ms(&stopped[0])), "{}", ms(&stopped[0]));
    assert_eq!(summary(&w)["groups"]["g"]["lost"], 0);
}

/// A second hang after resuming: the session timer set by the first (63 s) is stale by then;
/// the member's silence now counts from its last heartbeat before 55 s (54 s), so a 30 s hang
/// is not fenced.
#[test]
fn the_session_timer_of_an_earlier_hang_does_not_fence() {
    let timeline = "  - {at: 20s, hang: {consumer: c1, for: 30s}}\n  - {at: 55s, hang: {consumer: c1, for: 30s}}";
    let w = run_yaml(&base("", timeline, "120s"));
    assert!(events(&w, "member_fenced").is_empty());
    assert_eq!(events(&w, "consumer_resumed").len(), 2);
    let s = summary(&w);
    assert_eq!(s["groups"]["g"]["rebalances"], 1);
    assert_eq!(s["groups"]["g"]["consumers"]["c1"]["hung_ms"], 60_000.0);
}

/// Push delivery: the broker keeps sending to a frozen consumer (its connection is open). One
/// consumer, one partition, 1000 records/s, a 1000-record buffer, hung 15 s.
#[test]
fn push_to_a_hung_consumer_with_each_overflow_policy() {
    let yaml = |overflow: &str| {
        format!(
            r#"
name: t
duration: 40s
topics: [{{name: t, partitions: 1}}]
producers: [{{name: p, topic: t, rate: 1000/s}}]
groups:
  - id: g
    topics: [t]
    group_initial_rebalance_delay_ms: 0
    delivery: push
    push_overflow: {overflow}
    push_buffer: 1000
    processing: 0.2ms
    commit: after_processing
    auto_offset_reset: earliest
    consumers: [{{name: c1}}]
timeline:
  - {{at: 10s, hang: {{consumer: c1, for: 15s}}}}
"#
        )
    };
    // About 15 000 records arrive while it is frozen.
    let drop = summary(&run_yaml(&yaml("drop")));
    let g = &drop["groups"]["g"];
    let drops = g["push"]["drops"].as_u64().unwrap();
    assert!((13_000..15_000).contains(&drops), "all but the 1000 the buffer holds: {drops}");
    assert_eq!(g["lost"].as_u64().unwrap(), drops);
    assert_eq!(g["push"]["buffer_peak_records"], 1000);

    let block = summary(&run_yaml(&yaml("block")));
    let g = &block["groups"]["g"];
    assert_eq!(g["push"]["drops"], 0);
    assert_eq!(g["lost"], 0);
    assert!(g["push"]["buffer_peak_records"].as_u64().unwrap() <= 1000);
    // No credit comes back: the rest waits on the broker as backlog.
    let backlog = g["backlog_records"]["max"].as_u64().unwrap();
    assert!(backlog > 13_000, "{backlog}");

    let unbounded = summary(&run_yaml(&yaml("unbounded")));
    let g = &unbounded["groups"]["g"];
    assert_eq!(g["lost"], 0);
    let peak = g["push"]["buffer_peak_records"].as_u64().unwrap();
    assert!((14_000..16_000).contains(&peak), "the whole hang's arrivals: {peak}");
    for s in [&drop, &block, &unbounded] {
        assert_eq!(s["groups"]["g"]["consumers"]["c1"]["hung_ms"], 15_000.0);
        assert_eq!(s["groups"]["g"]["rebalances"], 1);
    }
}

/// The shipped scenario's lesson, both ways: pulling, nothing is lost in any group; pushing,
/// only `drop` loses.
#[test]
fn push_vs_pull_unavailable_compares_as_the_readme_says() {
    let plan = kafkasim::scenario::load(&repo("scenarios/push-vs-pull-unavailable.yaml")).unwrap();
    let cmp = kafkasim::cli::compare::run(&plan).unwrap();
    let (pull, push) = (summary(&cmp.a), summary(&cmp.b));
    for id in ["drop", "block", "unbounded"] {
        assert_eq!(pull["groups"][id]["lost"], 0, "{id}");
        assert_eq!(pull["groups"][id]["records_processed"], pull["records_produced"], "{id}");
    }
    assert!(push["groups"]["drop"]["lost"].as_u64().unwrap() > 5000);
    assert_eq!(push["groups"]["block"]["lost"], 0);
    assert_eq!(push["groups"]["unbounded"]["lost"], 0);
    // Share groups pull: a scenario with pushing groups cannot be compared across group types.
    let err = kafkasim::cli::compare::prepare(&plan, kafkasim::cli::compare::Axis::GroupType).err().unwrap();
    assert!(err.contains("delivery: push"), "{err}");
}

/// Random timelines of hangs (short, long, for good) mixed with crash, start, stop, pause and
/// slow, pulling and pushing, eager and cooperative, static members or not: the invariants
/// (checked after every event) hold, and an at-least-once pull group never loses a record.
#[test]
fn invariants_hold_across_a_seed_sweep_with_hangs() {
    use rand::{Rng, SeedableRng};
    for seed in 0..sweep_seeds(40) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x4a46);
        let n = rng.gen_range(2..=4);
        let protocol = if rng.gen_bool(0.5) { "eager" } else { "cooperative" };
        let static_members = rng.gen_bool(0.3);
        let consumers = sweep_consumers(&mut rng, n, static_members, 5);
        let timeline = sweep_timeline(&mut rng, n, 5..100, |rng, c| match rng.gen_range(0..9) {
            0 => format!("crash: c{c}"),
            1 => format!("start: c{c}"),
            2 => format!("stop: c{c}"),
            3 => format!("pause: c{c}"),
            4 => format!("resume: c{c}"),
            5 => format!("slow: {{consumer: c{c}, factor: {}}}", rng.gen_range(1..30)),
            6 => format!("hang: c{c}"),
            _ => format!("hang: {{consumer: c{c}, for: {}ms}}", rng.gen_range(1..40_000)),
        });
        let push = rng.gen_bool(0.4);
        let delivery = if push {
            let overflow = ["drop", "block", "unbounded"][rng.gen_range(0..3)];
            format!("    delivery: push\n    push_overflow: {overflow}\n    push_buffer: {}\n", rng.gen_range(50..2000))
        } else {
            String::new()
        };
        let commit = ["auto", "after_processing", "before_processing"][rng.gen_range(0..3)];
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
    protocol: {protocol}
{delivery}    session_timeout_ms: {}
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
            [10_000, 45_000][rng.gen_range(0..2)],
        );
        eprintln!("hang sweep seed {seed}:\n{yaml}");
        let w = run_yaml(&yaml);
        let s = summary(&w);
        let g = &s["groups"]["g"];
        if commit == "after_processing" && !push {
            assert_eq!(g["lost"], 0, "seed {seed}: at-least-once never loses\n{yaml}");
        }
        // Every hang that ran out was followed by a resume (unless a crash, start or the run's
        // end came first), and hung time never exceeds running time.
        for (name, c) in g["consumers"].as_object().unwrap() {
            if let Some(h) = c.get("hung_ms") {
                let busy = c["busy_ms"].as_f64().unwrap();
                assert!(h.as_f64().unwrap() + busy <= 150_000.0 + 1.0, "seed {seed} {name}\n{yaml}");
            }
        }
    }
}
