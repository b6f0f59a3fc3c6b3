//! summary.json: the run's totals per topic and group, as `output-contract.md` specifies.

use super::findings::{findings, findings_json};
use super::lag::{group_backlog_series, group_lag_ns_series, group_lag_series, group_lag_status_series, stats};
use super::num::{ms, round3};
use crate::record::GroupStats;
use crate::record::burrow::LagStatus;
use crate::record::ledger::loss_cause;
use crate::record::run::{ConsumerState, Run};
use crate::scenario::plan::{Delivery, OffsetReset, ShareOffsetReset};
use crate::sim::SimTime;
use serde_json::{Map, Value, json};

/// Whether a `hang` action names consumer `c`.
fn hangs(w: &Run, c: usize) -> bool {
    w.plan.timeline.iter().any(|a| match a.action {
        crate::scenario::plan::Action::Hang { consumer, .. } => w.plan.consumer_id(consumer) == c,
        _ => false,
    })
}

/// A consumer's state at the end of the run (see `record::run::ConsumerState`).
pub fn consumer_state(w: &Run, c: usize) -> &'static str {
    w.end.consumers[c].state.name()
}

/// Why records were lost, in the order summary.json lists them.
pub const LOSS_CAUSES: [&str; 8] = [
    "retention",
    "offset_reset",
    "seek_or_reset",
    "push_drop",
    "commit_before_processing",
    "auto_commit",
    "commit_after_processing",
    "mixed_commit_modes",
];

/// Why a partition's next reader re-read records (a duplicate is charged to the cause).
pub const DUPLICATE_CAUSES: [&str; 6] =
    ["crash", "rebalance", "poll_timeout", "stop", "leave_group", "rebalance_timeout"];

/// Further causes a share group lists (zeros included).
pub const SHARE_DUPLICATE_CAUSES: [&str; 2] = ["lock_expiry", "release"];

pub fn summary(w: &Run) -> Value {
    let end = &w.end;
    let series = Series::of(w);
    let mut groups = Map::new();
    for (gi, gp) in w.plan.groups.iter().enumerate() {
        let mut g = group_json(w, gi, &series);
        if let (Some(pe), Some(obj)) = (end.groups[gi].protocol, g.as_object_mut()) {
            // KIP-848's epochs beside the generation (classic groups' summaries keep their keys).
            let epochs = [
                ("protocol", json!("consumer")),
                ("group_epoch", json!(pe.group_epoch)),
                ("assignment_epoch", json!(pe.assignment_epoch)),
            ];
            *obj = insert_after(std::mem::take(obj), "generation", epochs);
        }
        groups.insert(gp.id.clone(), g);
        if let Some(sg) = &end.groups[gi].share {
            let entry = groups.get_mut(&gp.id).and_then(Value::as_object_mut).expect("just inserted");
            add_share_figures(w, gi, sg, lag_records_json(&series.lag[gi]), entry);
        }
    }
    let produced: u64 = end.partitions.iter().map(|p| p.log_end_offset).sum();
    let mut summary = json!({
        "scenario": w.plan.name,
        "seed": w.plan.seed,
        "duration_ms": w.plan.duration.as_millis(),
        "events_processed": end.events_processed,
        "records_produced": produced,
        "findings": findings_json(w, &findings(w)),
        "topics": topics_json(w),
        "groups": groups,
    });
    // The cluster's keys follow the others, and only a scenario that declares `brokers:` has them.
    if w.rec.cluster.declared
        && let Some(obj) = summary.as_object_mut()
    {
        obj.insert("brokers".to_string(), Value::Object(super::cluster_summary::brokers_json(w)));
        obj.insert("producers".to_string(), Value::Object(super::cluster_summary::producers_json(w)));
    }
    summary
}

/// Each topic's partitions at the end, with their log start and end offsets. With brokers,
/// `partitions` lists each partition's leader and ISR instead of counting them (the output
/// contract's `topics.<name>.partitions`; its length is the count).
fn topics_json(w: &Run) -> Map<String, Value> {
    let mut topics = Map::new();
    for (ti, t) in w.plan.topics.iter().enumerate() {
        let parts: Vec<u32> = existing(w, ti);
        let leo: Vec<u64> = parts.iter().map(|&p| w.end.partitions[p as usize].log_end_offset).collect();
        let lso: Vec<u64> = parts.iter().map(|&p| w.end.partitions[p as usize].log_start_offset).collect();
        let partitions = if w.rec.cluster.declared {
            super::cluster_summary::partitions_json(w, &parts)
        } else {
            json!(parts.len())
        };
        topics.insert(
            t.name.clone(),
            json!({ "partitions": partitions, "log_end_offsets": leo, "log_start_offsets": lso }),
        );
    }
    topics
}

/// The per-group series the figures are read from, computed once for every group.
struct Series {
    lag: Vec<Vec<(SimTime, u64)>>,
    lag_time: Vec<Vec<(SimTime, u64)>>,
    backlog: Vec<Vec<(SimTime, u64)>>,
    lag_status: Vec<Vec<(SimTime, LagStatus)>>,
}

impl Series {
    fn of(w: &Run) -> Self {
        Series {
            lag: group_lag_series(w),
            lag_time: group_lag_ns_series(w),
            backlog: group_backlog_series(w),
            lag_status: group_lag_status_series(w),
        }
    }
}

/// One group's figures, in the output contract's order.
fn group_json(w: &Run, gi: usize, series: &Series) -> Value {
    let st = &w.rec.groups[gi];
    let ledger = &w.rec.ledgers[gi];
    let g = &w.end.groups[gi];
    let (final_ns, max_ns, mean_ns) = stats(&series.lag_time[gi]);
    let (final_backlog, max_backlog, mean_backlog) = stats(&series.backlog[gi]);
    let (lost, lost_by_cause) = losses(w, gi);
    json!({
        "records_delivered": st.records_delivered,
        "redelivered": st.redelivered,
        "records_processed": st.records_processed,
        "duplicates": st.duplicates,
        "duplicates_by_cause": duplicates_by_cause(w, gi),
        "replays": ledger.replays,
        "lost": lost,
        "lost_by_cause": lost_by_cause,
        "in_flight_at_end": ledger.in_flight_at_end(),
        "records_before_start": records_before_start(w, gi),
        "lag_records": lag_records_json(&series.lag[gi]),
        "lag_ms": { "final": ms(final_ns), "max": ms(max_ns), "mean": round3(mean_ns / 1e6) },
        "lag_status": lag_status_json(&series.lag_status[gi]),
        "backlog_records": { "final": final_backlog, "max": max_backlog, "mean": round3(mean_backlog) },
        "latency_ms": latency_json(st),
        "committed_offsets": committed_json(w, gi),
        "standby_consumers": standby_consumers(w, gi),
        "consumers": consumers_json(w, gi),
        "polls": st.polls,
        "empty_polls": st.empty_polls,
        "commits": st.commits,
        "commits_rejected": ledger.commits_rejected,
        "rebalances": ledger.rebalances,
        "generation": g.generation,
        "stop_the_world_ms": { "total": ms(ledger.stw_total.as_nanos()), "max": ms(ledger.stw_max.as_nanos()) },
        "partition_pause_ms": ms(ledger.pause_total.as_nanos()),
        "revoked_partitions": ledger.revoked_total,
        "rebalance_pause_ms": {
            "total": ms(ledger.rebalance_pause_total.as_nanos()),
            "max": ms(ledger.rebalance_pause_max.as_nanos()),
            "in_progress_ms": ledger.unfinished_rebalance.map(|(_, pause)| ms(pause.as_nanos())),
        },
        "rebalance_latency_ms": {
            "total": ms(ledger.rebalance_latency_total.as_nanos()),
            "max": ms(ledger.rebalance_latency_max.as_nanos()),
        },
        "partitions_moved": ledger.partitions_moved,
        "delivery": match w.plan.groups[gi].delivery {
            Delivery::Pull => "pull",
            Delivery::Push => "push",
        },
        "requests": st.polls + st.pushes,
        "push": {
            "pushes": st.pushes,
            "drops": st.drops,
            "buffer_peak_records": st.buffer_peak_records,
            "buffer_peak_bytes": st.buffer_peak_bytes,
            "buffer_discarded": st.buffer_discarded,
            "out_of_memory": st.out_of_memory,
        },
        "type": if g.share.is_some() { "share" } else { "consumer" },
    })
}

/// `map` with `entries` inserted right after `key` (at the end if it has no such key), so
/// related figures sit together in summary.json's key order.
pub(crate) fn insert_after<const N: usize>(
    map: Map<String, Value>,
    key: &str,
    entries: [(&str, Value); N],
) -> Map<String, Value> {
    let mut out = Map::new();
    let mut entries = Some(entries);
    for (k, v) in map {
        let here = k == key;
        out.insert(k, v);
        if here && let Some(es) = entries.take() {
            out.extend(es.into_iter().map(|(k, v)| (k.to_string(), v)));
        }
    }
    if let Some(es) = entries {
        out.extend(es.into_iter().map(|(k, v)| (k.to_string(), v)));
    }
    out
}

/// Lag in records: final, max and mean (a share group lists it again as its share lag).
fn lag_records_json(lag: &[(SimTime, u64)]) -> Value {
    let (final_lag, max_lag, mean_lag) = stats(lag);
    json!({ "final": final_lag, "max": max_lag, "mean": round3(mean_lag) })
}

/// Burrow's status of the group: at the end, the worst it reached, and when it first was not OK.
fn lag_status_json(status: &[(SimTime, LagStatus)]) -> Value {
    json!({
        "at_end": status.last().map_or("OK", |s| s.1.name()),
        "worst": status.iter().map(|s| s.1).max().unwrap_or_default().name(),
        "first_not_ok_ms": status.iter().find(|s| s.1 != LagStatus::Ok).map(|s| ms(s.0.as_nanos())),
    })
}

/// Time from publish to processed: mean, p50, p99 and max, or nulls when nothing was processed.
fn latency_json(st: &GroupStats) -> Value {
    let n = st.latency.records;
    if n == 0 {
        json!({ "mean": null, "p50": null, "p99": null, "max": null })
    } else {
        json!({
            "mean": round3(st.latency_sum_ns as f64 / n as f64 / 1e6),
            "p50": ms(st.latency.p50_ns),
            "p99": ms(st.latency.p99_ns),
            "max": ms(st.latency_max_ns),
        })
    }
}

/// The group's committed offset per existing partition of each topic it reads (null: none).
fn committed_json(w: &Run, gi: usize) -> Map<String, Value> {
    let g = &w.end.groups[gi];
    let mut committed = Map::new();
    for &ti in &w.plan.groups[gi].topics {
        let offs: Vec<Value> =
            existing(w, ti).iter().map(|&p| g.committed[p as usize].map_or(Value::Null, |o| json!(o))).collect();
        committed.insert(w.plan.topics[ti].name.clone(), Value::Array(offs));
    }
    committed
}

/// A standby is a live member the assignor left idle, not one waiting in a rebalance.
fn standby_consumers<'a>(w: &Run<'a>, gi: usize) -> Vec<&'a str> {
    w.plan
        .group_consumer_ids(gi)
        .filter(|&c| w.end.consumers[c].state == ConsumerState::Standby)
        .map(|c| w.plan.consumer_of(c).name.as_str())
        .collect()
}

/// Records below where the group began reading each partition, summed: never the group's to
/// read (`auto_offset_reset: latest` started it at the log end, or a committed offset it did not
/// make, or retention had deleted them). A partition it never read counts from where it would
/// start: its committed offset, else the log end (latest) or the log start (earliest).
fn records_before_start(w: &Run, gi: usize) -> u64 {
    let (ledger, g) = (&w.rec.ledgers[gi], &w.end.groups[gi]);
    let plan = &w.plan.groups[gi];
    let latest = match &g.share {
        Some(_) => plan.share.auto_offset_reset == ShareOffsetReset::Latest,
        None => plan.consumers.first().is_some_and(|c| c.config.auto_offset_reset == OffsetReset::Latest),
    };
    let started = |p: u32| match &g.share {
        Some(share) => share.partitions[p as usize].map(|sp| sp.start),
        None => ledger.first_offset(p).or(g.committed[p as usize]),
    };
    let mut before = 0;
    for p in w.plan.group_partition_ids(gi) {
        let end = &w.end.partitions[p as usize];
        let fallback = if latest { end.log_end_offset } else { end.log_start_offset };
        before += started(p).unwrap_or(fallback).min(end.log_end_offset);
    }
    before
}

/// Records the group lost, and by cause: retention, offset resets and seeks first, then push
/// drops, then the rest by the commit mode that committed past them.
pub(crate) fn losses(w: &Run, gi: usize) -> (u64, Map<String, Value>) {
    let (st, ledger, g) = (&w.rec.groups[gi], &w.rec.ledgers[gi], &w.end.groups[gi]);
    let group_partitions = w.plan.group_partition_ids(gi);
    let committed_past: u64 = group_partitions.iter().map(|&p| ledger.lost(p, g.committed[p as usize])).sum();
    // Records retention deleted before the group got to them (beyond its committed offset).
    let deleted_unread: u64 = group_partitions
        .iter()
        .map(|&p| ledger.deleted_unread(p, g.committed[p as usize], w.end.partitions[p as usize].log_start_offset))
        .sum();
    let lost = committed_past + deleted_unread;
    // Every cause is listed, zeros included, so expectations and sweep columns can name any of them.
    let mut lost_by_cause: Map<String, Value> = LOSS_CAUSES.iter().map(|c| (c.to_string(), json!(0))).collect();
    let retention = (ledger.lost_retention + deleted_unread).min(lost);
    if retention > 0 {
        lost_by_cause.insert("retention".to_string(), json!(retention));
    }
    let reset = ledger.lost_reset.min(lost - retention);
    if reset > 0 {
        lost_by_cause.insert("offset_reset".to_string(), json!(reset));
    }
    let seek = ledger.lost_seek.min(lost - retention - reset);
    if seek > 0 {
        lost_by_cause.insert("seek_or_reset".to_string(), json!(seek));
    }
    let rest = lost - retention - reset - seek;
    // Dropped records (push, full buffer) are committed past later: charge them first.
    let dropped_lost = st.drops.min(rest);
    if dropped_lost > 0 {
        lost_by_cause.insert("push_drop".to_string(), json!(dropped_lost));
    }
    let lost_other = rest - dropped_lost;
    if lost_other > 0 {
        // Records are lost only by committing past them unprocessed: the commit mode says how.
        let modes: std::collections::BTreeSet<&str> =
            w.plan.groups[gi].consumers.iter().map(|c| loss_cause(c.config.commit)).collect();
        let cause = if modes.len() == 1 { modes.into_iter().next().expect("one") } else { "mixed_commit_modes" };
        lost_by_cause.insert(cause.to_string(), json!(lost_other));
    }
    (lost, lost_by_cause)
}

/// Each consumer of the group: its state, partitions and figures.
fn consumers_json(w: &Run, gi: usize) -> Map<String, Value> {
    let mut consumers = Map::new();
    for c in w.plan.group_consumer_ids(gi) {
        let st = &w.rec.consumers[c];
        let partitions: Vec<String> = w.end.consumers[c].partitions.iter().map(|&p| w.plan.partition_name(p)).collect();
        let mut figures = json!({
            "state": consumer_state(w, c),
            "partitions": partitions,
            "records_processed": st.records_processed,
            "duplicates_caused": st.duplicates_caused,
            "busy_ms": ms(st.busy.as_nanos()),
            "idle_ms": ms(st.idle().as_nanos()),
            "rebalancing_ms": ms(st.rebalancing.as_nanos()),
            "polls": st.polls,
        });
        // Only for consumers the timeline hangs, so other runs' summaries stay as they were.
        if hangs(w, c) {
            figures["hung_ms"] = json!(ms(st.hung.as_nanos()));
        }
        // A consumer-protocol member's epoch and states, both sides' (classic ones unchanged).
        if let (Some(pm), Some(obj)) = (w.end.consumers[c].protocol, figures.as_object_mut()) {
            let states = [
                ("member_epoch", json!(pm.member_epoch)),
                ("member_state", json!(pm.member_state)),
                ("server_member_state", json!(pm.server_member_state)),
            ];
            *obj = insert_after(std::mem::take(obj), "state", states);
        }
        consumers.insert(w.plan.consumer_of(c).name.clone(), figures);
    }
    consumers
}

/// Duplicates by the cause that made the partition's next reader re-read them, zeros included.
fn duplicates_by_cause(w: &Run, gi: usize) -> Map<String, Value> {
    let mut duplicates_by_cause: Map<String, Value> =
        DUPLICATE_CAUSES.iter().map(|c| (c.to_string(), json!(0))).collect();
    if w.end.groups[gi].share.is_some() {
        // A share group's records come back by lock expiry or a release as well.
        for c in SHARE_DUPLICATE_CAUSES {
            duplicates_by_cause.insert(c.to_string(), json!(0));
        }
    }
    for (k, v) in &w.rec.ledgers[gi].duplicates_by_cause {
        duplicates_by_cause.insert(k.to_string(), json!(v));
    }
    duplicates_by_cause
}

/// A share group's figures beside its others, then `share` with the rest.
fn add_share_figures(
    w: &Run,
    gi: usize,
    sg: &crate::record::run::ShareEnd,
    share_lag: Value,
    entry: &mut Map<String, Value>,
) {
    let st = &w.rec.groups[gi];
    // The output contract's share figures sit beside the group's others; `share` holds
    // the rest (per partition, membership, settings).
    let s = &st.share;
    let mean = if s.samples == 0 { 0.0 } else { s.in_flight_sum as f64 / s.samples as f64 };
    for (k, v) in [
        ("records_acquired", json!(s.records_acquired)),
        // A share group's redelivered records are its re-acquisitions (GroupStats).
        ("redeliveries", json!(st.redelivered)),
        (
            "archived",
            json!({
                "delivery_limit": s.archived_delivery_limit,
                "reject": s.archived_reject,
                "retention": s.archived_retention,
                "total": s.archived_delivery_limit + s.archived_reject + s.archived_retention,
            }),
        ),
        ("lock_expiries", json!(s.lock_expiries)),
        ("ack_failures", json!(s.ack_failures)),
        ("in_flight", json!({ "max": s.in_flight_max, "mean": round3(mean) })),
        ("share_lag", share_lag),
    ] {
        entry.insert(k.to_string(), v);
    }
    entry.insert("share".to_string(), share_json(w, gi, sg));
}

/// The partitions of topic `t` that exist at the end, by id.
fn existing(w: &Run, t: usize) -> Vec<u32> {
    w.plan.topic_partition_ids(t).filter(|&p| w.end.partitions[p as usize].exists).collect()
}

/// A share group's further figures (KIP-932): what the application released or rejected, what
/// closed sessions gave back, membership, each partition's SPSO, window and share lag, settings.
fn share_json(w: &Run, gi: usize, sg: &crate::record::run::ShareEnd) -> Value {
    let s = &w.rec.groups[gi].share;
    let plan = &w.plan.groups[gi].share;
    let mut partitions = Map::new();
    for p in w.plan.group_partition_ids(gi) {
        if !w.end.partitions[p as usize].exists {
            continue;
        }
        let entry = match &sg.partitions[p as usize] {
            Some(sp) => json!({
                "spso": sp.spso,
                "in_flight": sp.in_flight,
                "share_lag": sp.share_lag,
                "members": sp.members,
            }),
            None => json!({ "spso": null, "in_flight": 0, "share_lag": null, "members": 0 }),
        };
        partitions.insert(w.plan.partition_name(p), entry);
    }
    json!({
        "released_by_application": s.records_released,
        "rejected_by_application": s.records_rejected,
        "released_on_close": s.released_on_close,
        "members": sg.members,
        "group_epoch": sg.group_epoch,
        "assignment_epoch": sg.assignment_epoch,
        "assignments": s.assignments,
        "fencings": s.fencings,
        "partitions": partitions,
        "settings": {
            "share_record_lock_duration_ms": plan.lock.as_millis(),
            "share_delivery_count_limit": plan.delivery_limit,
            "share_partition_max_record_locks": plan.window_limit,
            "share_auto_offset_reset": match plan.auto_offset_reset {
                crate::scenario::plan::ShareOffsetReset::Earliest => "earliest",
                crate::scenario::plan::ShareOffsetReset::Latest => "latest",
            },
            "share_heartbeat_interval_ms": plan.heartbeat_interval.as_millis(),
            "share_session_timeout_ms": plan.session_timeout.as_millis(),
            "share_assignment_interval_ms": plan.assignment_interval.as_millis(),
        },
    })
}
