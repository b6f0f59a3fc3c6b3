//! summary.json: the run's totals per topic and group, as `output-contract.md` specifies.

use super::lag::{group_backlog_series, group_lag_ns_series, group_lag_series, group_lag_status_series, stats};
use super::num::{ms, round3};
use crate::kafka::consumer::RunState;
use crate::kafka::group::loss_cause;
use crate::kafka::world::World;
use crate::scenario::plan::Delivery;
use serde_json::{Map, Value, json};

/// A consumer's state at the end of the run, in the words `kafka-consumer-groups.sh` users know:
/// `active` (owns partitions), `standby` (a member the assignor left idle), `joining` (waiting for
/// its assignment), `fenced` (lost its membership and has not rejoined yet), `stopped`, `crashed`,
/// `not_started`.
/// Whether a `hang` action names consumer `c`.
fn hangs(w: &World, c: usize) -> bool {
    w.plan.timeline.iter().any(|a| match a.action {
        crate::scenario::plan::Action::Hang { consumer, .. } => w.groups[consumer.0].consumers[consumer.1] == c,
        _ => false,
    })
}

pub fn consumer_state(w: &World, c: usize) -> &'static str {
    let con = &w.consumers[c];
    match con.state {
        RunState::Crashed => "crashed",
        RunState::Stopped if w.rec.consumers[c].started => "stopped",
        RunState::Stopped => "not_started",
        RunState::Running if w.groups[con.group].share.is_some() => {
            let sg = w.groups[con.group].share.as_ref().expect("share group");
            let member = con.member_id.as_ref().is_some_and(|id| sg.members.contains_key(id));
            if !con.owned.is_empty() {
                "active"
            } else if !member && con.generation != 0 {
                "fenced"
            } else {
                "joining"
            }
        }
        RunState::Running if con.is_hung() => "hung",
        RunState::Running => {
            let member = con.member_id.as_ref().is_some_and(|id| w.groups[con.group].members.contains_key(id));
            if !con.owned.is_empty() {
                "active"
            } else if con.joining {
                "joining"
            } else if !member {
                "fenced"
            } else {
                "standby"
            }
        }
    }
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

pub fn summary(w: &World) -> Value {
    let mut topics = Map::new();
    for t in &w.topics {
        let parts = t.first_partition..t.first_partition + t.partitions;
        let leo: Vec<u64> = parts.clone().map(|p| w.partitions[p as usize].log.log_end_offset()).collect();
        let lso: Vec<u64> = parts.map(|p| w.partitions[p as usize].log.log_start_offset()).collect();
        topics.insert(
            t.name.clone(),
            json!({ "partitions": t.partitions, "log_end_offsets": leo, "log_start_offsets": lso }),
        );
    }
    let lag = group_lag_series(w);
    let lag_time = group_lag_ns_series(w);
    let backlog = group_backlog_series(w);
    let lag_status = group_lag_status_series(w);
    let mut groups = Map::new();
    for (gi, g) in w.groups.iter().enumerate() {
        let st = &w.rec.groups[gi];
        let (final_lag, max_lag, mean_lag) = stats(&lag[gi]);
        let (final_ns, max_ns, mean_ns) = stats(&lag_time[gi]);
        let (final_backlog, max_backlog, mean_backlog) = stats(&backlog[gi]);
        let n = st.latency.len();
        let latency = if n == 0 {
            json!({ "mean": null, "p50": null, "p99": null, "max": null })
        } else {
            json!({
                "mean": round3(st.latency_sum_ns as f64 / n as f64 / 1e6),
                "p50": ms(st.latency.value_at_quantile(0.50)),
                "p99": ms(st.latency.value_at_quantile(0.99)),
                "max": ms(st.latency_max_ns),
            })
        };
        let mut committed = Map::new();
        for &ti in &w.plan.groups[gi].topics {
            let t = &w.topics[ti];
            let offs: Vec<Value> = (t.first_partition..t.first_partition + t.partitions)
                .map(|p| g.committed[p as usize].map_or(Value::Null, |o| json!(o)))
                .collect();
            committed.insert(t.name.clone(), Value::Array(offs));
        }
        // A standby is a live member the assignor left idle, not one waiting in a rebalance.
        let standby: Vec<&str> = g
            .consumers
            .iter()
            .filter(|&&c| consumer_state(w, c) == "standby")
            .map(|&c| w.consumers[c].name.as_str())
            .collect();
        let committed_past: u64 = g.partitions.iter().map(|&p| g.lost(p)).sum();
        // Records retention deleted before the group got to them (beyond its committed offset).
        let deleted_unread: u64 =
            g.partitions.iter().map(|&p| g.deleted_unread(p, w.partitions[p as usize].log.log_start_offset())).sum();
        let lost = committed_past + deleted_unread;
        // Every cause is listed, zeros included, so expectations and sweep columns can name any of them.
        let mut lost_by_cause: Map<String, Value> = LOSS_CAUSES.iter().map(|c| (c.to_string(), json!(0))).collect();
        let retention = (g.lost_retention + deleted_unread).min(lost);
        if retention > 0 {
            lost_by_cause.insert("retention".to_string(), json!(retention));
        }
        let reset = g.lost_reset.min(lost - retention);
        if reset > 0 {
            lost_by_cause.insert("offset_reset".to_string(), json!(reset));
        }
        let seek = g.lost_seek.min(lost - retention - reset);
        if seek > 0 {
            lost_by_cause.insert("seek_or_reset".to_string(), json!(seek));
        }
        let lost = lost - retention - reset - seek;
        // Dropped records (push, full buffer) are committed past later: charge them first.
        let dropped_lost = st.drops.min(lost);
        if dropped_lost > 0 {
            lost_by_cause.insert("push_drop".to_string(), json!(dropped_lost));
        }
        let lost_other = lost - dropped_lost;
        if lost_other > 0 {
            // Records are lost only by committing past them unprocessed: the commit mode says how.
            let modes: std::collections::BTreeSet<&str> =
                g.consumers.iter().map(|&c| loss_cause(w.consumers[c].config.commit)).collect();
            let cause = if modes.len() == 1 { modes.into_iter().next().expect("one") } else { "mixed_commit_modes" };
            lost_by_cause.insert(cause.to_string(), json!(lost_other));
        }
        let status = &lag_status[gi];
        let status_json = json!({
            "at_end": status.last().map_or("OK", |s| s.1.name()),
            "worst": status.iter().map(|s| s.1).max().unwrap_or_default().name(),
            "first_not_ok_ms": status.iter().find(|s| s.1 != crate::record::burrow::LagStatus::Ok).map(|s| ms(s.0.as_nanos())),
        });
        let mut consumers = Map::new();
        for &c in &g.consumers {
            let con = &w.consumers[c];
            let st = &w.rec.consumers[c];
            let partitions: Vec<String> = con.owned.iter().map(|o| w.partition_name(o.partition)).collect();
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
            consumers.insert(con.name.clone(), figures);
        }
        let mut duplicates_by_cause: Map<String, Value> =
            DUPLICATE_CAUSES.iter().map(|c| (c.to_string(), json!(0))).collect();
        if g.share.is_some() {
            // A share group's records come back by lock expiry or a release as well.
            for c in SHARE_DUPLICATE_CAUSES {
                duplicates_by_cause.insert(c.to_string(), json!(0));
            }
        }
        for (k, v) in &g.duplicates_by_cause {
            duplicates_by_cause.insert(k.to_string(), json!(v));
        }
        groups.insert(
            g.id.clone(),
            json!({
                "records_delivered": st.records_delivered,
                "redelivered": st.redelivered,
                "records_processed": st.records_processed,
                "duplicates": st.duplicates,
                "duplicates_by_cause": duplicates_by_cause,
                "replays": g.replays,
                "lost": lost + retention + reset + seek,
                "lost_by_cause": lost_by_cause,
                "in_flight_at_end": g.in_flight_at_end(),
                "lag_records": { "final": final_lag, "max": max_lag, "mean": round3(mean_lag) },
                "lag_ms": { "final": ms(final_ns), "max": ms(max_ns), "mean": round3(mean_ns / 1e6) },
                "lag_status": status_json,
                "backlog_records": { "final": final_backlog, "max": max_backlog, "mean": round3(mean_backlog) },
                "latency_ms": latency,
                "committed_offsets": committed,
                "standby_consumers": standby,
                "consumers": consumers,
                "polls": st.polls,
                "empty_polls": st.empty_polls,
                "commits": st.commits,
                "commits_rejected": g.commits_rejected,
                "rebalances": g.rebalances,
                "generation": g.generation,
                "stop_the_world_ms": { "total": ms(g.stw_total.as_nanos()), "max": ms(g.stw_max.as_nanos()) },
                "partition_pause_ms": ms(g.pause_total.as_nanos()),
                "revoked_partitions": g.revoked_total,
                "rebalance_pause_ms": {
                    "total": ms(g.rebalance_pause_total.as_nanos()),
                    "max": ms(g.rebalance_pause_max.as_nanos()),
                },
                "partitions_moved": g.partitions_moved,
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
            }),
        );
        if let Some(sg) = &g.share {
            let entry = groups.get_mut(&g.id).and_then(Value::as_object_mut).expect("just inserted");
            let share_lag = json!({ "final": final_lag, "max": max_lag, "mean": round3(mean_lag) });
            // The output contract's share figures sit beside the group's others; `share` holds
            // the rest (per partition, membership, settings).
            let s = &sg.stats;
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
            entry.insert("share".to_string(), share_json(w, g, sg));
        }
    }
    let produced: u64 = w.partitions.iter().map(|p| p.log.log_end_offset()).sum();
    json!({
        "scenario": w.plan.name,
        "seed": w.plan.seed,
        "duration_ms": w.plan.duration.as_millis(),
        "events_processed": w.kernel.events_processed(),
        "records_produced": produced,
        "topics": topics,
        "groups": groups,
    })
}

/// A share group's further figures (KIP-932): what the application released or rejected, what
/// closed sessions gave back, membership, each partition's SPSO, window and share lag, settings.
fn share_json(w: &World, g: &crate::kafka::group::Group, sg: &crate::kafka::share::group::ShareGroup) -> Value {
    let s = &sg.stats;
    let mut partitions = Map::new();
    for &p in &g.partitions {
        if !w.partition_exists(p) {
            continue;
        }
        let end = w.partitions[p as usize].log.log_end_offset();
        let entry = match &sg.parts[p as usize] {
            Some(sp) => {
                json!({
                    "spso": sp.spso(),
                    "in_flight": sp.in_flight(),
                    "share_lag": sp.lag(end),
                    "members": sg.sharers(p),
                })
            }
            None => json!({ "spso": null, "in_flight": 0, "share_lag": null, "members": 0 }),
        };
        partitions.insert(w.partition_name(p), entry);
    }
    json!({
        "released_by_application": s.records_released,
        "rejected_by_application": s.records_rejected,
        "released_on_close": s.released_on_close,
        "members": sg.members.len(),
        "group_epoch": sg.group_epoch,
        "assignment_epoch": sg.assignment_epoch,
        "assignments": s.assignments,
        "fencings": s.fencings,
        "partitions": partitions,
        "settings": {
            "share_record_lock_duration_ms": sg.plan.lock.as_millis(),
            "share_delivery_count_limit": sg.plan.delivery_limit,
            "share_partition_max_record_locks": sg.plan.window_limit,
            "share_auto_offset_reset": match sg.plan.auto_offset_reset {
                crate::scenario::plan::ShareOffsetReset::Earliest => "earliest",
                crate::scenario::plan::ShareOffsetReset::Latest => "latest",
            },
            "share_heartbeat_interval_ms": sg.plan.heartbeat_interval.as_millis(),
            "share_session_timeout_ms": sg.plan.session_timeout.as_millis(),
            "share_assignment_interval_ms": sg.plan.assignment_interval.as_millis(),
        },
    })
}
