//! What the fuzz targets do, shared by cargo-fuzz (nightly, `fuzz/fuzz_targets`) and by the
//! bounded random-input test on stable (`tests/fuzz.rs`), so both exercise the same code.
//! A target "finds" something when it panics: every input must give a plan, an error, or a run
//! that keeps every invariant.

#![allow(dead_code)]

use kafkasim::kafka::budget::{self, Ceilings};

/// Scenario parsing, validation and the cost estimate on arbitrary bytes.
pub fn parse_and_validate(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(plan) = kafkasim::scenario::parse("fuzz.yaml", text) {
        let _ = budget::check(&plan, Ceilings::default(), budget::Usage::run(true));
    }
}

/// Picks values from the fuzzer's bytes; past the end every pick is the first choice.
struct Picker<'a> {
    data: &'a [u8],
    at: usize,
}

impl Picker<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }
    fn pick<'s>(&mut self, options: &[&'s str]) -> &'s str {
        options[self.byte() as usize % options.len()]
    }
    fn upto(&mut self, n: u8) -> u8 {
        self.byte() % (n + 1)
    }
}

/// Builds a tiny scenario (a few virtual seconds, a few partitions, producers, groups and
/// timeline actions) from the fuzzer's bytes.
pub fn tiny_scenario(data: &[u8]) -> String {
    let mut p = Picker { data, at: 0 };
    let mut y = String::new();
    let secs = 1 + p.upto(4);
    y += &format!("name: fuzz\nseed: {}\nduration: {secs}s\n", p.byte());
    y += &format!("sample_interval: {}\n", p.pick(&["100ms", "250ms", "1s"]));
    y += &format!("network_delay: {}\n", p.pick(&["0ms", "1ms", "5ms"]));
    y += &format!("log_retention_check_interval_ms: {}\n", p.pick(&["300000", "100", "1000"]));
    let topics = 1 + p.upto(1);
    y += "topics:\n";
    for t in 0..topics {
        y += &format!(
            "  - {{name: t{t}, partitions: {}, retention_ms: {}, segment_bytes: {}}}\n",
            1 + p.upto(5),
            p.pick(&["168h", "1s", "500ms", "1h"]),
            p.pick(&["1073741824", "1000", "20000"])
        );
    }
    let producers = p.upto(2);
    y += "producers:\n";
    for i in 0..producers {
        y += &format!(
            "  - {{name: p{i}, topic: t{}, rate: {}, arrival: {}, keys: {}, partitioner: {}, linger_ms: {}, batch_size: {}}}\n",
            p.upto(topics - 1),
            p.pick(&["100/s", "1000/s", "0/s", "5000/s", "10/s"]),
            p.pick(&["poisson", "constant"]),
            p.pick(&["none", "{uniform: 10}", "{zipf: {n: 50, s: 1.1}}", "{uniform: 1}"]),
            p.pick(&["default", "round_robin"]),
            p.pick(&["5", "0", "20", "100"]),
            p.pick(&["16384", "100", "1000"])
        );
    }
    let groups = 1 + p.upto(2);
    let mut consumers = Vec::new();
    // Share groups' consumers and ids: seek, pause, reset_offsets and remove_group do not apply.
    let mut share_consumers: Vec<String> = Vec::new();
    let mut share_groups: Vec<u8> = Vec::new();
    y += "groups:\n";
    for g in 0..groups {
        if p.byte().is_multiple_of(4) {
            // A share group (KIP-932): its own settings, none of a consumer group's.
            y += &format!("  - id: g{g}\n    type: share\n    topics: [t0]\n");
            y += &format!("    share_auto_offset_reset: {}\n", p.pick(&["earliest", "latest"]));
            y += &format!("    share_record_lock_duration_ms: {}\n", p.pick(&["15000", "30000"]));
            y += &format!("    share_delivery_count_limit: {}\n", p.pick(&["2", "5", "10"]));
            y += &format!("    share_partition_max_record_locks: {}\n", p.pick(&["100", "2000"]));
            y += &format!("    share_assignment_interval_ms: {}\n", p.pick(&["0", "1000"]));
            y += &format!("    share_acquire_mode: {}\n", p.pick(&["batch_optimized", "record_limit"]));
            y += &format!("    poll_interval: {}\n", p.pick(&["0ms", "10ms", "100ms"]));
            y += &format!("    max_poll_records: {}\n", p.pick(&["500", "1", "10", "100"]));
            y += &format!("    max_poll_interval_ms: {}\n", p.pick(&["300000", "1000"]));
            y += &format!("    processing: {}\n", p.pick(&["0ms", "0.1ms", "{exponential: 1ms}", "50ms"]));
            if p.byte().is_multiple_of(2) {
                y += "    share_acknowledgement_mode: explicit\n";
                y += &format!(
                    "    outcome: {}\n",
                    p.pick(&["{release: 0.1}", "{reject: 0.05}", "{release: 0.3, reject: 0.1}", "{}"])
                );
                if p.byte().is_multiple_of(2) {
                    y += "    poison: {topic: t0, partition: 0, offsets: [0, 3, 7]}\n";
                }
            }
            let n = 1 + p.upto(3);
            y += "    consumers:\n";
            for c in 0..n {
                let name = format!("g{g}c{c}");
                let extra = if p.byte().is_multiple_of(4) {
                    format!(", start_at: {}ms", (p.byte() % 50) as u32 * 20)
                } else {
                    String::new()
                };
                y += &format!("      - {{name: {name}{extra}}}\n");
                share_consumers.push(name.clone());
                consumers.push(name);
            }
            share_groups.push(g);
            continue;
        }
        let protocol = p.pick(&["eager", "cooperative"]);
        let assignor = if protocol == "cooperative" {
            "cooperative-sticky"
        } else {
            // cooperative-sticky alone makes the protocol cooperative (Kafka), so eager groups
            // pick among the eager assignors.
            p.pick(&["range", "roundrobin", "sticky"])
        };
        let topic_list =
            if topics > 1 && p.byte().is_multiple_of(2) { "[t0, t1]".to_string() } else { "[t0]".to_string() };
        y += &format!("  - id: g{g}\n    topics: {topic_list}\n    protocol: {protocol}\n    assignor: {assignor}\n");
        y += &format!("    delivery: {}\n", p.pick(&["pull", "pull", "push"]));
        y += &format!(
            "    push_overflow: {}\n    push_buffer: {}\n",
            p.pick(&["block", "drop", "unbounded"]),
            p.pick(&["1000", "10", "1"])
        );
        y += &format!("    poll_interval: {}\n", p.pick(&["0ms", "10ms", "100ms", "1ms"]));
        y += &format!("    fetch_max_wait_ms: {}\n", p.pick(&["500", "0", "50"]));
        y += &format!("    max_poll_records: {}\n", p.pick(&["500", "1", "10", "100"]));
        y += &format!(
            "    processing: {}\n",
            p.pick(&[
                "0ms",
                "0.1ms",
                "{exponential: 1ms}",
                "{uniform: [0ms, 2ms]}",
                "{lognormal: {median: 1ms, sigma: 1}}",
                "50ms"
            ])
        );
        y += &format!("    commit: {}\n", p.pick(&["auto", "after_processing", "before_processing"]));
        y += &format!("    auto_offset_reset: {}\n", p.pick(&["earliest", "latest", "none"]));
        y += &format!(
            "    session_timeout_ms: {}\n    heartbeat_interval_ms: {}\n",
            p.pick(&["6000", "10000"]),
            p.pick(&["1000", "3000"])
        );
        y += &format!("    max_poll_interval_ms: {}\n", p.pick(&["300000", "1000", "100"]));
        y += &format!("    group_initial_rebalance_delay_ms: {}\n", p.pick(&["0", "3000", "100"]));
        let n = 1 + p.upto(3);
        y += "    consumers:\n";
        for c in 0..n {
            let name = format!("g{g}c{c}");
            let extra = match p.byte() % 4 {
                0 => format!(", start_at: {}ms", p.byte() as u32 * 20),
                1 => format!(", group_instance_id: i{c}"),
                _ => String::new(),
            };
            y += &format!("      - {{name: {name}{extra}}}\n");
            consumers.push(name);
        }
    }
    let actions = p.upto(6);
    y += "timeline:\n";
    for _ in 0..actions {
        let at = format!("{}ms", (p.byte() as u32 * 20).min(u32::from(secs) * 1000));
        let c = consumers[p.byte() as usize % consumers.len()].clone();
        let g = p.upto(groups - 1);
        let mut kind = p.byte() % 16;
        // Share consumers cannot seek or pause; share groups take no offset reset
        // or removal: those become a stop.
        let consumer_only = matches!(kind, 5 | 7 | 8) && share_consumers.contains(&c);
        let group_only = matches!(kind, 6 | 11) && share_groups.contains(&g);
        if consumer_only || group_only {
            kind = 2;
        }
        let action = match kind {
            0 => format!("crash: {c}"),
            1 => format!("start: {c}"),
            2 => format!("stop: {c}"),
            3 => format!("slow: {{consumer: {c}, factor: {}}}", p.pick(&["3", "0.5", "1000"])),
            4 if producers > 0 => format!("rate: {{producer: p0, rate: {}}}", p.pick(&["0/s", "3000/s"])),
            5 => format!(
                "seek: {{consumer: {c}, topic: t0, to: {}}}",
                p.pick(&["earliest", "latest", "5", "{shift: -10}", "{timestamp: 500ms}"])
            ),
            6 => format!(
                "reset_offsets: {{group: g{g}, topic: t0, to: {}}}",
                p.pick(&["earliest", "latest", "{shift: -3}"])
            ),
            7 => format!("pause: {c}"),
            8 => format!("resume: {c}"),
            9 => format!("add_consumer: {{group: g{g}, name: extra{}}}", p.byte()),
            10 => format!("add_partitions: {{topic: t0, count: {}}}", 2 + p.upto(8)),
            11 => format!("remove_group: g{g}"),
            12 => format!("add_group: {{id: late{}, topics: [t0], consumers: 2}}", p.byte()),
            13 => format!("hang: {c}"),
            14 => format!("hang: {{consumer: {c}, for: {}ms}}", 1 + p.byte() as u32 * 40),
            _ if producers > 0 => format!("pause: {{producer: p{}}}", p.upto(producers - 1)),
            _ => format!("stop: {c}"),
        };
        y += &format!("  - {{at: {at}, {action}}}\n");
    }
    y
}

/// Runs a tiny generated scenario with the invariant checks on.
pub fn tiny_run(data: &[u8]) {
    let text = tiny_scenario(data);
    let Ok(plan) = kafkasim::scenario::parse("fuzz.yaml", &text) else { return };
    if budget::check(&plan, Ceilings::default(), budget::Usage::run(true)).is_err() {
        return;
    }
    let mut world = kafkasim::kafka::world::World::new(plan);
    world.check_invariants = true;
    world.run();
    let _ = kafkasim::report::summary::summary(&world.run_record());
}
