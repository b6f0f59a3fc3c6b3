//! The short human summary `kafkasim run` prints: per group, what happened first (its findings'
//! sentences), then its figures with their units, then its consumers.

use super::num::{count_value as n, human_ms_value as dur};
use super::summary::summary;
use crate::record::run::Run;
use serde_json::{Map, Value};
use std::fmt::Write;

/// The run's records in a few words. With brokers, `records_produced` counts what readers can
/// fetch at the end (below the high watermark), which is not what the producers sent: records
/// lost or not yet replicated are not in it, records a retry wrote twice are, so both are given.
pub(crate) fn records_produced(s: &Value) -> String {
    let produced = n(&s["records_produced"]);
    match s["producers"].as_object() {
        Some(producers) if s["brokers"].is_object() => {
            let sent: u64 = producers.values().filter_map(|p| p["records_sent"].as_u64()).sum();
            format!(
                "{produced} records in the logs (below the high watermark; the producers sent {})",
                super::num::count(sent)
            )
        }
        _ => format!("{produced} records produced"),
    }
}

pub fn run_summary(w: &Run) -> String {
    let s = summary(w);
    let found = s["findings"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} virtual, seed {}, {} events, {}",
        w.plan.name,
        w.plan.duration,
        w.plan.seed,
        n(&s["events_processed"]),
        records_produced(&s),
    );
    if let Some(brokers) = s["brokers"].as_object() {
        // Findings about producers have no group: they open the cluster's block.
        let mine: Vec<&str> =
            found.iter().filter(|f| f.get("producer").is_some()).filter_map(|f| f["text"].as_str()).collect();
        cluster_block(&mut out, brokers, &s["producers"], &mine);
    }
    if let Some(groups) = s["groups"].as_object() {
        for (id, g) in groups {
            let mine: Vec<&str> =
                found.iter().filter(|f| f["group"] == id.as_str()).filter_map(|f| f["text"].as_str()).collect();
            group_block(&mut out, id, g, &mine);
            // kafka-consumer-groups.sh --describe --members --verbose, with what each one did.
            if let Some(consumers) = g["consumers"].as_object() {
                consumer_table(&mut out, consumers);
            }
        }
    }
    out.trim_end().to_string()
}

/// The cluster (a scenario with `brokers:`): its findings, each broker's state at the end and
/// time down, then what each producer sent, had acknowledged, lost and wrote twice, and its
/// longest stretch unable to write a partition.
fn cluster_block(out: &mut String, brokers: &Map<String, Value>, producers: &Value, found: &[&str]) {
    let _ = writeln!(out, "\n  cluster ({} brokers)", brokers.len());
    for f in found {
        let _ = writeln!(out, "    * {f}");
    }
    if found.is_empty() {
        let _ =
            writeln!(out, "    * nothing stood out: no record lost or written twice, no long outage for a producer");
    }
    let _ =
        writeln!(out, "    {:<8} {:<14} {:>10} {:>22}", "broker", "state at end", "time down", "partitions led at end");
    for (id, b) in brokers {
        let _ = writeln!(
            out,
            "    {:<8} {:<14} {:>10} {:>22}",
            id,
            b["state"].as_str().unwrap_or(""),
            dur(&b["down_ms"]),
            n(&b["partitions_led"]),
        );
    }
    for (name, p) in producers.as_object().into_iter().flatten() {
        let causes: Vec<String> = p["lost_by_cause"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| v.as_u64().is_some_and(|v| v > 0))
            .map(|(c, v)| format!("{} {}", c.replace('_', " "), n(v)))
            .collect();
        let by = if causes.is_empty() { String::new() } else { format!(" ({})", causes.join(", ")) };
        // Acknowledged records not yet readable: else acknowledged less lost would not match
        // what the log holds.
        let unreadable = match p["acked_above_high_watermark_at_end"].as_u64() {
            Some(k) if k > 0 => {
                format!(" ({} of them not yet readable at the end: above the high watermark)", n(&k.into()))
            }
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "    producer {name}: sent {}, acknowledged {}{unreadable}, lost {}{by}, duplicates written {}, retries {}; could not write a partition for at most {} ({} over all its partitions)",
            n(&p["records_sent"]),
            n(&p["records_acked"]),
            n(&p["lost"]),
            n(&p["duplicates_written"]),
            n(&p["retries"]),
            dur(&p["unavailable_ms"]["max"]),
            dur(&p["unavailable_ms"]["total"]),
        );
    }
}

/// A group's block: its findings first, then what it processed, its lag, and (by kind of group)
/// its rebalances, push buffers or share-partitions.
fn group_block(out: &mut String, id: &str, g: &Value, found: &[&str]) {
    let share = g["type"] == "share";
    let kind = if share {
        "share group".to_string()
    } else if g["protocol"] == "consumer" {
        format!("consumer group, {}, consumer protocol (KIP-848)", g["delivery"].as_str().unwrap_or("pull"))
    } else {
        format!("consumer group, {}", g["delivery"].as_str().unwrap_or("pull"))
    };
    let _ = writeln!(out, "\n  group {id} ({kind})");
    for f in found {
        let _ = writeln!(out, "    * {f}");
    }
    if found.is_empty() {
        let _ = writeln!(out, "    * nothing stood out: no failure, loss, duplicate, overload or lag alarm");
    }
    // Records below where the group started (auto_offset_reset: latest) are in no other figure:
    // named when there are any, so the records line accounts for every record of the log.
    let before = match g["records_before_start"].as_u64() {
        Some(b) if b > 0 => format!(", before its start {}", n(&g["records_before_start"])),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "    records: processed {}, duplicates {}, replays {}, lost {}, in flight at end {}{before}",
        n(&g["records_processed"]),
        n(&g["duplicates"]),
        n(&g["replays"]),
        n(&g["lost"]),
        n(&g["in_flight_at_end"]),
    );
    // Backlog first: what the group has not read yet. Committed lag also counts what was read
    // and not committed yet (auto-commit's interval), so it reads as "behind" only beside it.
    let lag = if share { &g["share_lag"] } else { &g["lag_records"] };
    let _ = writeln!(
        out,
        "    backlog: {} records unread at the end (max {}); {} {} records (max {}), {} behind (max {}); latency p50 {}, p99 {}",
        n(&g["backlog_records"]["final"]),
        n(&g["backlog_records"]["max"]),
        if share { "share lag" } else { "committed lag" },
        n(&lag["final"]),
        n(&lag["max"]),
        dur(&g["lag_ms"]["final"]),
        dur(&g["lag_ms"]["max"]),
        dur(&g["latency_ms"]["p50"]),
        dur(&g["latency_ms"]["p99"]),
    );
    if share {
        share_line(out, g);
        return;
    }
    rebalance_line(out, g);
    if g["protocol"] == "consumer" {
        // The generation's KIP-848 counterparts: they differ while a new target waits for the
        // heartbeat that computes it.
        let _ = writeln!(
            out,
            "    group epoch {}, assignment epoch {} (the target assignment's)",
            n(&g["group_epoch"]),
            n(&g["assignment_epoch"]),
        );
    }
    if g["delivery"] == "push" {
        let p = &g["push"];
        let _ = writeln!(
            out,
            "    push: {} pushes, {} records dropped, buffer peak {} records ({} bytes), out of memory {}",
            n(&p["pushes"]),
            n(&p["drops"]),
            n(&p["buffer_peak_records"]),
            n(&p["buffer_peak_bytes"]),
            n(&p["out_of_memory"]),
        );
    }
}

/// A consumer group's rebalances and what they cost; the unfinished one said as such.
fn rebalance_line(out: &mut String, g: &Value) {
    let pause = &g["rebalance_pause_ms"];
    let in_progress = match pause["in_progress_ms"].as_f64() {
        Some(_) => format!(" ({} of it in the rebalance still in progress)", dur(&pause["in_progress_ms"])),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "    rebalances {}, partitions revoked {}, rebalance pause {}{in_progress}, stop-the-world {}, partitions without a live owner {} (summed over partitions), standbys {}",
        n(&g["rebalances"]),
        n(&g["revoked_partitions"]),
        dur(&pause["total"]),
        dur(&g["stop_the_world_ms"]["total"]),
        dur(&g["partition_pause_ms"]),
        g["standby_consumers"].as_array().map_or(0, |a| a.len()),
    );
}

/// A share group's own figures (KIP-932) instead of a consumer group's rebalance figures.
fn share_line(out: &mut String, g: &Value) {
    let _ = writeln!(
        out,
        "    share: acquired {}, redelivered {}, archived {}, lock expiries {}, in flight max {}, members {}",
        n(&g["records_acquired"]),
        n(&g["redeliveries"]),
        n(&g["archived"]["total"]),
        n(&g["lock_expiries"]),
        n(&g["in_flight"]["max"]),
        n(&g["share"]["members"]),
    );
}

/// The group's consumers as a table, a row each: state, figures and partitions; a
/// consumer-protocol group's rows also give each member's epoch, its state as the client sees it
/// and as the coordinator does.
fn consumer_table(out: &mut String, consumers: &Map<String, Value>) {
    // A hung column only where a consumer of the group was hung (`hang`).
    let hung = consumers.values().any(|c| c.get("hung_ms").is_some());
    let epochs = consumers.values().any(|c| c.get("member_epoch").is_some());
    let _ = writeln!(
        out,
        "    {:<14} {:<11}{} {:>10} {:>10} {:>9} {:>9} {:>11} {:>8}{}  partitions",
        "consumer",
        "state",
        if epochs {
            format!(" {:>5} {:<13} {:<21}", "epoch", "member state", "coordinator's view")
        } else {
            String::new()
        },
        "processed",
        "duplicates",
        "busy",
        "idle",
        "rebalancing",
        "polls",
        if hung { format!(" {:>9}", "hung") } else { String::new() }
    );
    for (name, c) in consumers {
        let parts: Vec<&str> = c["partitions"].as_array().into_iter().flatten().filter_map(|p| p.as_str()).collect();
        let _ = writeln!(
            out,
            "    {:<14} {:<11}{} {:>10} {:>10} {:>9} {:>9} {:>11} {:>8}{}  {}",
            name,
            c["state"].as_str().unwrap_or(""),
            if epochs { epoch_columns(c) } else { String::new() },
            n(&c["records_processed"]),
            n(&c["duplicates_caused"]),
            dur(&c["busy_ms"]),
            dur(&c["idle_ms"]),
            dur(&c["rebalancing_ms"]),
            n(&c["polls"]),
            match (hung, c.get("hung_ms")) {
                (false, _) => String::new(),
                (true, Some(ms)) => format!(" {:>9}", dur(ms)),
                (true, None) => format!(" {:>9}", "-"),
            },
            if parts.is_empty() { "-".to_string() } else { partition_list(&parts) },
        );
    }
}

/// A consumer-protocol member's epoch, client state and the coordinator's state of it ("-" when
/// the coordinator holds no member for it).
fn epoch_columns(c: &Value) -> String {
    format!(
        " {:>5} {:<13} {:<21}",
        c["member_epoch"].as_i64().map_or("-".to_string(), |e| e.to_string()),
        c["member_state"].as_str().unwrap_or("-"),
        c["server_member_state"].as_str().unwrap_or("-"),
    )
}

/// Partition names joined by commas, a run of 4 or more consecutive partitions of one topic
/// written as a range (`events-6000..6499`), so a consumer of 500 partitions takes one short line.
fn partition_list(parts: &[&str]) -> String {
    let split = |p: &str| p.rsplit_once('-').and_then(|(t, i)| Some((t.to_string(), i.parse::<u64>().ok()?)));
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        let mut j = i + 1;
        if let Some((topic, first)) = split(parts[i]) {
            while j < parts.len() && split(parts[j]) == Some((topic.clone(), first + (j - i) as u64)) {
                j += 1;
            }
            if j - i >= 4 {
                out.push(format!("{topic}-{first}..{}", first + (j - i - 1) as u64));
                i = j;
                continue;
            }
        }
        out.push(parts[i].to_string());
        i += 1;
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::partition_list;

    #[test]
    fn runs_of_four_or_more_partitions_read_as_ranges() {
        assert_eq!(partition_list(&["orders-0", "orders-1", "orders-2"]), "orders-0,orders-1,orders-2");
        let many: Vec<String> = (6000..6500).map(|i| format!("events-{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(partition_list(&many), "events-6000..6499");
        assert_eq!(
            partition_list(&["a-b-0", "a-b-1", "a-b-2", "a-b-3", "a-b-5", "c-0", "c-1", "c-2", "c-3", "c-4"]),
            "a-b-0..3,a-b-5,c-0..4"
        );
    }
}
