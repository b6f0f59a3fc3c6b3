//! Load: consumers that cannot keep up, consumers left idle, and Burrow's verdict on the lag.

use super::failures::at;
use super::{Finding, Names, ms_value, plural};
use crate::record::NONE_U32;
use crate::record::burrow::LagStatus;
use crate::record::event::What;
use crate::record::run::{ConsumerState, Run};
use crate::report::lag::group_lag_status_series;
use crate::report::num::{count, human_f};
use crate::sim::SimTime;
use serde_json::json;

/// One consumer's load over the run's last quarter.
struct Load {
    consumer: usize,
    partitions: Vec<u32>,
    arrival_per_s: f64,
    processed_per_s: f64,
    backlog: [u64; 3],
}

/// `overloaded`: over the run's last quarter a consumer kept the same partitions, always had
/// records waiting (so it processed as fast as it can: its capacity), and they received more
/// than it processed, so its backlog grew at each checkpoint and keeps growing.
pub(super) fn overloaded(w: &Run, gi: usize, out: &mut Vec<Finding>) {
    let cps = &w.rec.checkpoints;
    if cps.len() != 3 || !(cps[0].time < cps[1].time && cps[1].time < cps[2].time) {
        return;
    }
    let secs = (cps[2].time.as_nanos() - cps[0].time.as_nanos()) as f64 / 1e9;
    let mut loads = Vec::new();
    for c in w.plan.group_consumer_ids(gi) {
        let end = &w.end.consumers[c];
        if end.state != ConsumerState::Active {
            continue;
        }
        let mut backlog = [0u64; 3];
        let mut leo = [0u64; 3];
        let mut same = true;
        for (i, cp) in cps.iter().enumerate() {
            let mine: Vec<_> =
                cp.partitions.iter().filter(|r| r.0 as usize == gi && r.2 == c as u32 && r.2 != NONE_U32).collect();
            same &= mine.iter().map(|r| r.1).eq(end.partitions.iter().copied());
            backlog[i] = mine.iter().map(|r| r.3).sum();
            leo[i] = mine.iter().map(|r| r.4).sum();
        }
        if !same {
            continue;
        }
        let processed = cps[2].processed[c].saturating_sub(cps[0].processed[c]);
        let arrival_per_s = leo[2].saturating_sub(leo[0]) as f64 / secs;
        let processed_per_s = processed as f64 / secs;
        let grows = backlog[0] > 0 && backlog[0] < backlog[1] && backlog[1] < backlog[2];
        if grows && processed > 0 && arrival_per_s > processed_per_s * 1.02 {
            loads.push(Load {
                consumer: c,
                partitions: end.partitions.clone(),
                arrival_per_s,
                processed_per_s,
                backlog,
            });
        }
    }
    if loads.is_empty() {
        return;
    }
    let names = Names(w);
    let one = loads.len() == 1;
    let each: Vec<String> = loads
        .iter()
        .map(|l| {
            format!(
                "{} owns {} receiving {} records/s and processes {}/s",
                if one { "it".to_string() } else { names.consumer(l.consumer) },
                plural(l.partitions.len(), "partition"),
                human_f(l.arrival_per_s),
                human_f(l.processed_per_s),
            )
        })
        .collect();
    let (first, last): (u64, u64) =
        (loads.iter().map(|l| l.backlog[0]).sum(), loads.iter().map(|l| l.backlog[2]).sum());
    let growth = (last - first) as f64 / secs;
    let consumers: Vec<usize> = loads.iter().map(|l| l.consumer).collect();
    let text = format!(
        "{} cannot keep up: {}; from {} {} backlog grew from {} to {} records ({} records/s) and keeps growing.",
        names.consumers(&consumers),
        each.join("; "),
        at(cps[0].time),
        if one { "its" } else { "their" },
        count(first),
        count(last),
        human_f(growth),
    );
    out.push(Finding {
        kind: "overloaded",
        group: gi,
        consumers,
        partitions: loads.iter().flat_map(|l| l.partitions.iter().copied()).collect(),
        from: cps[0].time,
        to: None,
        figure: "backlog_growth_per_s",
        value: json!(crate::report::num::round3(growth)),
        text,
    });
}

/// `standby`: live members the assignor left without partitions at the end (a consumer group
/// gives each partition to one member), from the assignment that left them idle.
pub(super) fn standby(w: &Run, gi: usize, out: &mut Vec<Finding>) {
    let idle: Vec<usize> =
        w.plan.group_consumer_ids(gi).filter(|&c| w.end.consumers[c].state == ConsumerState::Standby).collect();
    if idle.is_empty() {
        return;
    }
    // Since the last assignment event that gave each of them nothing.
    let since = idle
        .iter()
        .filter_map(|&c| {
            w.rec.events.iter().rev().find_map(|e| match &e.what {
                What::Assignment { consumer, .. } if *consumer as usize == c => Some(e.time),
                _ => None,
            })
        })
        .max()
        .unwrap_or(SimTime::ZERO);
    let partitions = w.plan.group_partition_ids(gi).iter().filter(|p| w.end.partitions[**p as usize].exists).count();
    let active = w.plan.group_consumer_ids(gi).filter(|&c| w.end.consumers[c].state == ConsumerState::Active).count();
    let names = Names(w);
    let text = format!(
        "{} {} on standby from {}: {} {} share the group's {} (each partition goes to one member of a consumer group), so {} idle until another member leaves.",
        names.consumers(&idle),
        if idle.len() == 1 { "is" } else { "are" },
        at(since),
        active,
        if active == 1 { "active consumer owns" } else { "active consumers" },
        plural(partitions, "partition"),
        if idle.len() == 1 { "it waits" } else { "they wait" },
    );
    out.push(Finding {
        kind: "standby",
        group: gi,
        consumers: idle.clone(),
        partitions: Vec::new(),
        from: since,
        to: None,
        figure: "standby_consumers",
        value: json!(idle.len()),
        text,
    });
}

/// `lag_status`: Burrow's status of the group was not OK: from the first sample it was not, to
/// the last return to OK (or the end), with the partitions it named.
pub(super) fn lag_status(w: &Run, gi: usize, out: &mut Vec<Finding>) {
    let series = &group_lag_status_series(w)[gi];
    let Some(first) = series.iter().position(|s| s.1 != LagStatus::Ok) else { return };
    let from = series[first].0;
    let at_end = series.last().map_or(LagStatus::Ok, |s| s.1);
    let to = (at_end == LagStatus::Ok).then(|| series.iter().rev().find(|s| s.1 != LagStatus::Ok)).flatten();
    // The sample after the last not-OK one is when it was OK again.
    let to = to.and_then(|last| series.iter().find(|s| s.0 > last.0).map(|s| s.0));
    let worst = series.iter().map(|s| s.1).max().unwrap_or_default();
    let episodes = series.windows(2).filter(|p| p[0].1 == LagStatus::Ok && p[1].1 != LagStatus::Ok).count()
        + usize::from(series[0].1 != LagStatus::Ok);
    let mut partitions: Vec<u32> = w
        .rec
        .events
        .iter()
        .filter_map(|e| match e.what {
            What::LagStatus { group, partition, partition_status, .. }
                if group as usize == gi && partition_status != LagStatus::Ok =>
            {
                Some(partition)
            }
            _ => None,
        })
        .collect();
    partitions.sort_unstable();
    partitions.dedup();
    let end = to.unwrap_or(SimTime::ZERO + w.plan.duration);
    let names = Names(w);
    let when = match to {
        Some(t) => format!("from {} until {}", at(from), at(t)),
        None => format!("from {} and still {} at the end", at(from), at_end.name()),
    };
    let worst_partition = w
        .rec
        .events
        .iter()
        .filter_map(|e| match e.what {
            What::LagStatus { group, partition_status, .. } if group as usize == gi => Some(partition_status),
            _ => None,
        })
        .max()
        .unwrap_or(worst);
    let text = format!(
        "Burrow's lag status was not OK {when} (worst {}{}{}): {}.",
        worst.name(),
        if episodes > 1 { format!(", {episodes} times") } else { String::new() },
        if partitions.is_empty() { String::new() } else { format!("; {}", names.partitions(&partitions)) },
        burrow_why(worst_partition),
    );
    out.push(Finding {
        kind: "lag_status",
        group: gi,
        consumers: Vec::new(),
        partitions,
        from,
        to,
        figure: "not_ok_ms",
        value: ms_value(end.as_nanos() - from.as_nanos()),
        text,
    });
}

/// What Burrow's status means, in words (Burrow's evaluation rules, `record::burrow`).
fn burrow_why(status: LagStatus) -> &'static str {
    match status {
        LagStatus::Ok => "lag was evaluated as OK",
        LagStatus::Warn => "lag grew across the whole window of recent commits",
        LagStatus::Err => "a partition stopped making progress",
        LagStatus::Stop => "a partition's commits stopped while it still had lag",
        LagStatus::Stall => "a partition was committed at the same offset again and again while it had lag",
        LagStatus::Rewind => "a partition's committed offset went backwards",
    }
}
