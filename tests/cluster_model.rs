//! The cluster model under random broker failures: invariants hold after every event (the
//! world checks them), one leader per epoch, and with acks=all and min.insync.replicas 2 on three
//! replicas, one broker failure at a time loses no acknowledged record and groups lose nothing.

use crate::util::{logged, run_yaml, summary, sweep_seeds};
use rand::{Rng, SeedableRng};

/// A scenario with three brokers and a random timeline of broker failures, one at a time (each
/// broker that fails comes back before the next fails).
fn random_cluster(seed: u64, acks: &str, network_delay: &str) -> String {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut timeline = String::new();
    let mut t = rng.gen_range(1..5);
    while t < 50 {
        let b = rng.gen_range(1..=3);
        let (act, back) = match rng.gen_range(0..3) {
            0 => (format!("crash_broker: {b}"), Some(b)),
            1 => (format!("stop_broker: {b}"), Some(b)),
            _ => (format!("isolate_broker: {{broker: {b}, for: {}s}}", rng.gen_range(1..20)), None),
        };
        timeline.push_str(&format!("  - {{at: {t}s, {act}}}\n"));
        let gap = rng.gen_range(3..25);
        if let Some(b) = back.filter(|_| t + gap < 60) {
            timeline.push_str(&format!("  - {{at: {}s, start_broker: {b}}}\n", t + gap));
        }
        // The next failure comes once the ISR has had time to fill again.
        t += gap + 22;
    }
    format!(
        "name: sweep\nseed: {seed}\nduration: 60s\nnetwork_delay: {network_delay}\nbrokers: 3\n\
         topics: [{{name: t, partitions: 4, replication_factor: 3, min_insync_replicas: 2}}]\n\
         producers: [{{name: p, topic: t, rate: 500/s, acks: {acks}}}]\n\
         groups: [{{id: g, topics: [t], consumers: 2, commit: after_processing, auto_offset_reset: earliest}}]\n\
         timeline:\n{timeline}"
    )
}

#[test]
fn acks_all_with_min_isr_two_loses_nothing_through_single_broker_failures() {
    for seed in 0..sweep_seeds(12) {
        for delay in ["0ms", "0.5ms"] {
            let yaml = random_cluster(seed, "all", delay);
            eprintln!("seed {seed} delay {delay}");
            let w = run_yaml(&yaml);
            let s = summary(&w);
            let p = &s["producers"]["p"];
            assert_eq!(p["lost"], 0, "seed {seed} delay {delay}: {p}\n{yaml}");
            let n = |k: &str| p[k].as_u64().unwrap();
            assert_eq!(n("records_sent"), n("records_acked") + n("in_flight_at_end"), "seed {seed}: {p}");
            assert_eq!(p["duplicates_written"], 0, "seed {seed}: idempotence writes nothing twice\n{yaml}");
            assert_eq!(s["groups"]["g"]["lost"], 0, "seed {seed}\n{yaml}");
            // One leader per (partition, epoch), and epochs only grow.
            let mut last = std::collections::BTreeMap::new();
            for e in logged(&w).iter().filter(|e| e.kind == "leader_elected") {
                let part = e.fields["partition"].as_str().unwrap().to_string();
                let epoch = e.fields["leader_epoch"].as_u64().unwrap();
                let prev = last.insert(part.clone(), epoch).unwrap_or(0);
                assert!(epoch > prev, "seed {seed}: {part} epoch {epoch} after {prev}");
            }
        }
    }
}

/// Runs `yaml` and checks producer `p`'s accounting: every record sent was acknowledged, given
/// up on (delivery.timeout.ms), or is still on its way. Returns its summary.
fn producer_accounts(yaml: &str) -> serde_json::Value {
    let s = summary(&run_yaml(yaml));
    let p = s["producers"]["p"].clone();
    let n = |k: &str| p[k].as_u64().unwrap();
    let expired = p["lost_by_cause"]["delivery_timeout"].as_u64().unwrap();
    assert_eq!(n("records_sent"), n("records_acked") + expired + n("in_flight_at_end"), "{p}\n{yaml}");
    p
}

#[test]
fn acks_1_and_0_count_what_they_lose_and_everything_else_is_acknowledged_or_in_flight() {
    for seed in 0..sweep_seeds(8) {
        for acks in ["1", "0"] {
            let yaml = random_cluster(seed, acks, "0.5ms");
            producer_accounts(&yaml);
        }
    }
}

/// Overlapping failures and slow followers (lags above replica.lag.time.max.ms included) over
/// two minutes: the ISR drops below min.insync.replicas, requests wait and time out, followers
/// leave the ISR and rejoin.
fn random_overlaps(seed: u64, idempotence: bool) -> String {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut timeline = String::new();
    let mut t = rng.gen_range(1..5);
    while t < 110 {
        let b = rng.gen_range(1..=3);
        let act = match rng.gen_range(0..4) {
            0 => format!("crash_broker: {b}"),
            1 => format!("start_broker: {b}"),
            2 => format!("slow_broker: {{broker: {b}, lag: {}s}}", [0, 5, 40][rng.gen_range(0..3)]),
            _ => format!("isolate_broker: {{broker: {b}, for: {}s}}", rng.gen_range(1..40)),
        };
        timeline.push_str(&format!("  - {{at: {t}s, {act}}}\n"));
        t += rng.gen_range(2..30);
    }
    format!(
        "name: sweep\nseed: {seed}\nduration: 150s\nnetwork_delay: 0.5ms\nbrokers: 3\n\
         topics: [{{name: t, partitions: 3, replication_factor: 3, min_insync_replicas: 2}}]\n\
         producers: [{{name: p, topic: t, rate: 300/s, enable_idempotence: {idempotence}}}]\n\
         groups: [{{id: g, topics: [t], consumers: 2, auto_offset_reset: earliest}}]\n\
         timeline:\n{timeline}"
    )
}

#[test]
fn overlapping_failures_and_slow_followers_keep_the_accounting_and_idempotence_writes_once() {
    for seed in 0..sweep_seeds(6) {
        for idempotence in [true, false] {
            let yaml = random_overlaps(seed, idempotence);
            let p = producer_accounts(&yaml);
            let n = |k: &str| p[k].as_u64().unwrap();
            let expired = p["lost_by_cause"]["delivery_timeout"].as_u64().unwrap();
            assert_eq!(n("lost"), expired, "acks=all with clean elections loses only by timeout: {p}\n{yaml}");
            if idempotence {
                assert_eq!(p["duplicates_written"], 0, "seed {seed}: {p}\n{yaml}");
            }
        }
    }
}

#[test]
#[ignore]
fn print_sweep_scenario() {
    let seed: u64 = std::env::var("SEED").unwrap().parse().unwrap();
    let acks = std::env::var("ACKS").unwrap_or("all".into());
    println!("{}", random_cluster(seed, &acks, "0.5ms"));
}
