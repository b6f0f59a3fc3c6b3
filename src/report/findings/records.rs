//! What happened to records: processed twice, never processed, dropped by a full push buffer;
//! a share group's expired locks and archived records.

use super::failures::at;
use super::{About, Finding, Names};
use crate::record::event::What;
use crate::record::run::Run;
use crate::report::num::{count, human_ns};
use crate::sim::SimTime;
use serde_json::json;

/// "crash 1,000, rebalance 234": the causes with a count, largest first (then by name).
fn by_cause(causes: &[(&str, u64)]) -> String {
    let mut c: Vec<&(&str, u64)> = causes.iter().filter(|c| c.1 > 0).collect();
    c.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let each: Vec<String> = c.iter().map(|(name, n)| format!("{} {}", name.replace('_', " "), count(*n))).collect();
    format!("by cause: {}", each.join(", "))
}

/// `duplicates`: records processed more than once, by the cause that made them be read again.
pub(super) fn duplicates(w: &Run, gi: usize, out: &mut Vec<Finding>) {
    let st = &w.rec.groups[gi];
    let Some((from, to)) = st.duplicates_span.filter(|_| st.duplicates > 0) else { return };
    let causes: Vec<(&str, u64)> = w.rec.ledgers[gi].duplicates_by_cause.iter().map(|(k, v)| (*k, *v)).collect();
    let top = causes.iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0))).map_or("", |c| c.0);
    let share = w.end.groups[gi].share.is_some();
    let why = match top {
        "crash" if share => {
            "a consumer crashed holding records it had processed but not acknowledged, and they were delivered again"
        }
        "crash" => {
            "a consumer crashed after processing records it had not committed, so the next owner read them again from the last commit"
        }
        "rebalance" => {
            "records processed but not yet committed when their partition moved in a rebalance were read again by its next owner"
        }
        "poll_timeout" => {
            "a consumer that missed its poll deadline had left the group, so its commit was rejected and the next owner read its records again"
        }
        "stop" | "leave_group" => {
            "a consumer left without committing what it had processed, and the next owner read it again"
        }
        "rebalance_timeout" => {
            "a member that did not rejoin within the rebalance timeout lost its partitions with records processed but not committed"
        }
        "lock_expiry" => "acquisition locks expired before the records were acknowledged, so they were delivered again",
        "release" => "records released back to the share-partition were delivered again",
        _ => "records were read again after their partition's offset was rewound",
    };
    out.push(Finding {
        kind: "duplicates",
        about: About::Group(gi),
        consumers: Vec::new(),
        partitions: Vec::new(),
        from,
        to: Some(to),
        figure: "duplicates",
        value: json!(st.duplicates),
        text: format!(
            "{} records were processed twice ({}), from {} to {}: {why}.",
            count(st.duplicates),
            by_cause(&causes),
            at(from),
            at(to)
        ),
    });
}

/// The first event in the group's run that stands for a loss cause (None: none recorded).
fn first_for(w: &Run, gi: usize, cause: &str) -> Option<SimTime> {
    let mine = |c: u32| w.plan.group_of(c as usize) == gi;
    let parts = w.plan.group_partition_ids(gi);
    if cause == "push_drop" {
        return w.rec.groups[gi].first_drop;
    }
    w.rec
        .events
        .iter()
        .find(|e| match &e.what {
            What::SegmentsDeleted { partition, .. } => cause == "retention" && parts.contains(partition),
            What::OffsetOutOfRange { consumer, .. } => cause == "offset_reset" && mine(*consumer),
            What::Seek { consumer, .. } => cause == "seek_or_reset" && mine(*consumer),
            What::OffsetsReset { group, .. } => cause == "seek_or_reset" && *group as usize == gi,
            What::ConsumerCrashed { consumer }
            | What::ConsumerStopped { consumer }
            | What::ConsumerHung { consumer, .. }
            | What::PollTimeout { consumer, .. }
            | What::ConsumerOutOfMemory { consumer, .. } => {
                matches!(
                    cause,
                    "commit_before_processing" | "auto_commit" | "commit_after_processing" | "mixed_commit_modes"
                ) && mine(*consumer)
            }
            _ => false,
        })
        .map(|e| e.time)
}

/// `lost`: records the group will never process, by cause (summary.json's `lost_by_cause`).
pub(super) fn lost(w: &Run, gi: usize, out: &mut Vec<Finding>) {
    let (lost, by) = crate::report::summary::losses(w, gi);
    if lost == 0 {
        return;
    }
    let causes: Vec<(&str, u64)> = crate::report::summary::LOSS_CAUSES
        .iter()
        .map(|&c| (c, by.get(c).and_then(|v| v.as_u64()).unwrap_or(0)))
        .filter(|c| c.1 > 0)
        .collect();
    let from = causes.iter().filter_map(|c| first_for(w, gi, c.0)).min().unwrap_or(SimTime::ZERO);
    let top = causes.iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0))).map_or("", |c| c.0);
    let why = match top {
        "retention" => "retention deleted them before the group read them",
        "offset_reset" => "the position fell out of range and auto_offset_reset skipped past them",
        "seek_or_reset" => "a seek or an offset reset moved the group past them",
        "push_drop" => "a full push buffer dropped them and the group committed past them",
        "commit_before_processing" => {
            "offsets were committed before processing, and the consumer failed before it processed them"
        }
        "auto_commit" => "auto-commit committed offsets past records still being processed when the consumer failed",
        _ => "offsets were committed past records that were never processed",
    };
    out.push(Finding {
        kind: "lost",
        about: About::Group(gi),
        consumers: Vec::new(),
        partitions: Vec::new(),
        from,
        to: None,
        figure: "lost",
        value: json!(lost),
        text: format!("{} records will never be processed ({}): {why}.", count(lost), by_cause(&causes)),
    });
}

/// `drops`: a push group's full buffers dropped records the broker pushed, from the first drop
/// to the last sample that counted more (null if they were still dropping at the end).
pub(super) fn drops(w: &Run, gi: usize, out: &mut Vec<Finding>) {
    let st = &w.rec.groups[gi];
    let Some(from) = st.first_drop.filter(|_| st.drops > 0) else { return };
    let samples: Vec<_> = w.rec.group_samples.iter().filter(|s| s.group as usize == gi).collect();
    let last_rise = samples.windows(2).filter(|p| p[1].drops > p[0].drops).map(|p| p[1].time).next_back();
    let still = samples.last().is_none_or(|s| s.drops < st.drops) || last_rise == samples.last().map(|s| s.time);
    let to = if still { None } else { last_rise };
    let cap = w.plan.groups[gi].push.buffer;
    out.push(Finding {
        kind: "drops",
        about: About::Group(gi),
        consumers: w.plan.group_consumer_ids(gi).collect(),
        partitions: Vec::new(),
        from,
        to,
        figure: "drops",
        value: json!(st.drops),
        text: format!(
            "The broker pushed faster than the consumers processed: their buffers (push_buffer {}) were full and dropped {} records from {}{}.",
            count(cap),
            count(st.drops),
            at(from),
            match to {
                Some(t) => format!(" to {}", at(t)),
                None => " to the end".to_string(),
            },
        ),
    });
}

/// `lock_expiry`: a share group's acquisition locks ran out before the records were
/// acknowledged; they become available again (or archived at the delivery limit).
pub(super) fn lock_expiry(w: &Run, gi: usize, out: &mut Vec<Finding>) {
    let mut times = Vec::new();
    let mut partitions = Vec::new();
    let (mut records, mut archived) = (0, 0);
    for e in &w.rec.events {
        if let What::ShareLockExpired { group, partition, records: n, archived: a } = e.what
            && group as usize == gi
        {
            times.push(e.time);
            partitions.push(partition);
            records += n;
            archived += a;
        }
    }
    let (Some(&from), Some(&to)) = (times.first(), times.last()) else { return };
    partitions.sort_unstable();
    partitions.dedup();
    let lock = w.plan.groups[gi].share.lock;
    let names = Names(w);
    out.push(Finding {
        kind: "lock_expiry",
        about: About::Group(gi),
        consumers: Vec::new(),
        partitions: partitions.clone(),
        from,
        to: Some(to),
        figure: "records",
        value: json!(records),
        text: format!(
            "Acquisition locks expired on {} records of {} {}: they were not acknowledged within share_record_lock_duration_ms ({}), so they were delivered again{}.",
            count(records),
            names.partitions(&partitions),
            if from == to { format!("at {}", at(from)) } else { format!("from {} to {}", at(from), at(to)) },
            human_ns(lock.as_nanos()),
            if archived > 0 { format!(" ({} archived at the delivery limit)", count(archived)) } else { String::new() },
        ),
    });
}

/// `archived`: a share group gave up on records: the delivery limit, the application's
/// rejection, or retention.
pub(super) fn archived(w: &Run, gi: usize, out: &mut Vec<Finding>) {
    let s = &w.rec.groups[gi].share;
    let total = s.archived_delivery_limit + s.archived_reject + s.archived_retention;
    if total == 0 {
        return;
    }
    let mut times = Vec::new();
    let mut partitions = Vec::new();
    for e in &w.rec.events {
        let hit = match e.what {
            What::RecordsArchived { consumer, partition, .. } if w.plan.group_of(consumer as usize) == gi => {
                Some(partition)
            }
            What::RecordsArchivedByRetention { group, partition, .. } if group as usize == gi => Some(partition),
            What::ShareLockExpired { group, partition, archived, .. } if group as usize == gi && archived > 0 => {
                Some(partition)
            }
            _ => None,
        };
        if let Some(p) = hit {
            times.push(e.time);
            partitions.push(p);
        }
    }
    partitions.sort_unstable();
    partitions.dedup();
    let from = times.first().copied().unwrap_or(SimTime::ZERO);
    let causes = [
        ("delivery limit reached", s.archived_delivery_limit),
        ("rejected", s.archived_reject),
        ("retention", s.archived_retention),
    ];
    out.push(Finding {
        kind: "archived",
        about: About::Group(gi),
        consumers: Vec::new(),
        partitions,
        from,
        to: times.last().copied(),
        figure: "archived",
        value: json!(total),
        text: format!(
            "{} {} archived and will not be delivered again ({}; share_delivery_count_limit is {}).",
            count(total),
            if total == 1 { "record was" } else { "records were" },
            by_cause(&causes),
            w.plan.groups[gi].share.delivery_limit,
        ),
    });
}

/// `rebalances`: rebalances after the first join took partitions from live owners: how many
/// revocations, the partition time they cost and how long the whole group stopped.
pub(super) fn rebalances(w: &Run, gi: usize, out: &mut Vec<Finding>) {
    let l = &w.rec.ledgers[gi];
    if l.revoked_total == 0 {
        return;
    }
    let mine = |c: u32| w.plan.group_of(c as usize) == gi;
    let from = w.rec.events.iter().find_map(|e| match &e.what {
        What::PartitionsRevoked { consumer, .. } if mine(*consumer) => Some(e.time),
        _ => None,
    });
    let Some(from) = from else { return };
    let to = match &w.end.groups[gi].rebalance {
        Some(_) => None,
        None => w.rec.events.iter().rev().find_map(|e| match &e.what {
            What::RebalanceCompleted(rc) if rc.group as usize == gi => Some(e.time),
            _ => None,
        }),
    };
    let pause = l.rebalance_pause_total.as_nanos();
    let classic = w.plan.groups[gi].protocol != crate::scenario::plan::RebalanceProtocol::Consumer;
    if classic && pause == 0 && l.stw_total.is_zero() {
        // Revoked and handed straight back (or on at once): it cost nothing, so it is no finding
        // ("waited 0 ms ... stopped for 0 ms" said nothing); the group's line still counts it.
        return;
    }
    out.push(Finding {
        kind: "rebalances",
        about: About::Group(gi),
        consumers: Vec::new(),
        partitions: Vec::new(),
        from,
        to,
        figure: "rebalance_pause_ms",
        value: super::ms_value(pause),
        text: if !classic {
            reconciliation_text(w, gi)
        } else {
            format!(
                "Rebalances took {} from live owners: they waited {} in all for their next owner (the costliest rebalance {}), and the whole group stopped processing for {}.",
                super::plural(l.revoked_total as usize, "partition"),
                human_ns(pause),
                human_ns(l.rebalance_pause_max.as_nanos()),
                human_ns(l.stw_total.as_nanos()),
            )
        },
    });
}

/// The `rebalances` sentence of a consumer-protocol group (KIP-848): no JoinGroup barrier, so
/// what a rebalance costs is how long its members took to reconcile to the new target (from the
/// group epoch bump to every member stable at it, the rebalance_completed events' durations)
/// and the time revoked partitions waited for the member the target gives them to.
fn reconciliation_text(w: &Run, gi: usize) -> String {
    let l = &w.rec.ledgers[gi];
    let took: Vec<u64> = w
        .rec
        .events
        .iter()
        .filter_map(|e| match &e.what {
            What::RebalanceCompleted(rc) if rc.group as usize == gi && !rc.revoked.is_empty() => {
                Some(rc.duration.as_nanos())
            }
            _ => None,
        })
        .collect();
    let reconciled = match (took.len(), took.iter().max()) {
        (0, _) | (_, None) => "no rebalance that revoked partitions completed".to_string(),
        (1, Some(max)) => format!("the members reconciled to the new target in {}", human_ns(*max)),
        (n, Some(max)) => format!(
            "the members reconciled to each new target in {} at most ({n} rebalances that revoked partitions, {} in all)",
            human_ns(*max),
            human_ns(took.iter().sum())
        ),
    };
    let stopped = if l.stw_total.as_nanos() == 0 {
        "no member stopped processing for it: each kept reading the partitions that did not move".to_string()
    } else {
        format!("the whole group stopped processing for {}", human_ns(l.stw_total.as_nanos()))
    };
    format!(
        "Rebalances took {} from live owners; {reconciled}; the partitions waited {} in all for their next owner (the costliest rebalance {}); {stopped}.",
        super::plural(l.revoked_total as usize, "partition"),
        human_ns(l.rebalance_pause_total.as_nanos()),
        human_ns(l.rebalance_pause_max.as_nanos()),
    )
}

/// `lock_window_full`: a share-partition's in-flight span reached
/// `share_partition_max_record_locks`, so no member could acquire more from it (they got empty
/// fetches) until an acknowledgement moved its start, while records waited behind it; told when
/// it was so in at least a fifth of the run's samples.
pub(super) fn lock_window_full(w: &Run, gi: usize, out: &mut Vec<Finding>) {
    let limit = w.plan.groups[gi].share.window_limit;
    let full: Vec<_> = w
        .rec
        .share_samples
        .iter()
        .filter(|s| s.group as usize == gi && s.in_flight >= limit && s.share_lag > 0)
        .collect();
    let (Some(first), Some(last)) = (full.first(), full.last()) else { return };
    let samples = w.rec.share_samples.iter().filter(|s| s.group as usize == gi).count();
    // A window full now and then is how it works; full for a fifth of the run or more, it throttles.
    if full.len() * 5 < samples {
        return;
    }
    let mut partitions: Vec<u32> = full.iter().map(|s| s.partition).collect();
    partitions.sort_unstable();
    partitions.dedup();
    let names = Names(w);
    out.push(Finding {
        kind: "lock_window_full",
        about: About::Group(gi),
        consumers: Vec::new(),
        partitions: partitions.clone(),
        from: first.time,
        to: Some(last.time),
        figure: "full_samples_percent",
        value: json!(crate::report::num::round3(100.0 * full.len() as f64 / samples.max(1) as f64)),
        text: format!(
            "The in-flight window of {} was full (share_partition_max_record_locks {}) in {}% of the run's samples, from {} to {}, while records waited behind it: members got empty fetches until an acknowledgement moved the window's start.",
            names.partitions(&partitions),
            count(limit),
            (100.0 * full.len() as f64 / samples.max(1) as f64).round(),
            at(first.time),
            at(last.time),
        ),
    });
}
