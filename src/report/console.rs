//! The short human summary `kafkasim run` prints.

use super::summary::summary;
use crate::record::run::Run;
use serde_json::{Map, Value};
use std::fmt::Write;

pub fn run_summary(w: &Run) -> String {
    let s = summary(w);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} virtual, seed {}, {} events, {} records produced",
        w.plan.name, w.plan.duration, w.plan.seed, s["events_processed"], s["records_produced"]
    );
    if let Some(groups) = s["groups"].as_object() {
        for (id, g) in groups {
            group_lines(&mut out, id, g);
            // kafka-consumer-groups.sh --describe --members --verbose, with what each one did.
            if let Some(consumers) = g["consumers"].as_object() {
                consumer_table(&mut out, consumers);
            }
        }
    }
    out.trim_end().to_string()
}

/// A group's two lines: what it processed, lost and lagged; then its rebalances.
fn group_lines(out: &mut String, id: &str, g: &Value) {
    let _ = writeln!(
        out,
        "  group {id}: processed {}, duplicates {}, replays {}, lost {}, lag final/max {}/{}, backlog final/max {}/{}, latency p50/p99 {}/{} ms",
        g["records_processed"],
        g["duplicates"],
        g["replays"],
        g["lost"],
        g["lag_records"]["final"],
        g["lag_records"]["max"],
        g["backlog_records"]["final"],
        g["backlog_records"]["max"],
        g["latency_ms"]["p50"],
        g["latency_ms"]["p99"],
    );
    let _ = writeln!(
        out,
        "    rebalances {}, partitions revoked {}, rebalance pause total/max {}/{} ms, stop-the-world {} ms, standbys {}, in flight at end {}",
        g["rebalances"],
        g["revoked_partitions"],
        g["rebalance_pause_ms"]["total"],
        g["rebalance_pause_ms"]["max"],
        g["stop_the_world_ms"]["total"],
        g["standby_consumers"].as_array().map_or(0, |a| a.len()),
        g["in_flight_at_end"],
    );
}

/// The group's consumers as a table, a row each: state, figures and partitions.
fn consumer_table(out: &mut String, consumers: &Map<String, Value>) {
    // A hung_ms column only where a consumer of the group was hung (`hang`).
    let hung = consumers.values().any(|c| c.get("hung_ms").is_some());
    let _ = writeln!(
        out,
        "    {:<14} {:<11} {:>10} {:>10} {:>10} {:>10} {:>12} {:>8}{}  partitions",
        "consumer",
        "state",
        "processed",
        "duplicates",
        "busy_ms",
        "idle_ms",
        "rebalancing",
        "polls",
        if hung { format!(" {:>10}", "hung_ms") } else { String::new() }
    );
    for (name, c) in consumers {
        let parts: Vec<&str> = c["partitions"].as_array().into_iter().flatten().filter_map(|p| p.as_str()).collect();
        let _ = writeln!(
            out,
            "    {:<14} {:<11} {:>10} {:>10} {:>10.0} {:>10.0} {:>12.0} {:>8}{}  {}",
            name,
            c["state"].as_str().unwrap_or(""),
            c["records_processed"].to_string(),
            c["duplicates_caused"].to_string(),
            c["busy_ms"].as_f64().unwrap_or(0.0),
            c["idle_ms"].as_f64().unwrap_or(0.0),
            c["rebalancing_ms"].as_f64().unwrap_or(0.0),
            c["polls"].to_string(),
            match (hung, c.get("hung_ms").and_then(|v| v.as_f64())) {
                (false, _) => String::new(),
                (true, Some(ms)) => format!(" {ms:>10.0}"),
                (true, None) => format!(" {:>10}", "-"),
            },
            if parts.is_empty() { "-".to_string() } else { parts.join(",") },
        );
    }
}
