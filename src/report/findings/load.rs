//! Load: consumers that cannot keep up, consumers left idle, and Burrow's verdict on the lag.

use super::failures::at;
use super::{About, Finding, Names, ms_value, plural};
use crate::record::burrow::LagStatus;
use crate::record::event::What;
use crate::record::run::{ConsumerState, Run};
use crate::report::num::{count, human_f};
use crate::sim::SimTime;
use serde_json::json;

/// One consumer's load over the run's last quarter.
struct Load {
    consumer: usize,
    partitions: Vec<u32>,
    arrival_per_s: f64,
    /// What it took off its partitions: arrivals less the backlog's growth.
    read_per_s: f64,
    backlog: [u64; 3],
    /// When it took the partitions it still owns.
    since: SimTime,
}

/// `overloaded`: over the run's last quarter a consumer kept the same partitions, always had
/// records waiting (so it read as fast as it can: its capacity), and they received more than it
/// read, so its backlog grew at each checkpoint, by a real share of what arrives (5%, and at
/// least a batch), and keeps growing.
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
            let mine = cp.owners.iter().find(|o| o.group as usize == gi && o.owner == c as u32);
            same &= mine.map_or(&[][..], |o| &o.partitions[..]) == &end.partitions[..];
            backlog[i] = mine.map_or(0, |o| o.backlog);
            leo[i] = mine.map_or(0, |o| o.log_end);
        }
        if !same {
            continue;
        }
        let arrivals = leo[2].saturating_sub(leo[0]);
        let grew = backlog[2].saturating_sub(backlog[0]);
        let batch = u64::from(w.plan.consumer_of(c).config.max_poll_records).max(100);
        let grows = backlog[0] > 0 && backlog[0] < backlog[1] && backlog[1] < backlog[2];
        if grows && grew >= batch && grew * 20 >= arrivals && arrivals > grew {
            loads.push(Load {
                consumer: c,
                partitions: end.partitions.clone(),
                arrival_per_s: arrivals as f64 / secs,
                read_per_s: (arrivals - grew) as f64 / secs,
                backlog,
                since: took_at(w, c, cps[0].time),
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
                "{} owns {} (since {}) receiving {} records/s and reads {}/s",
                if one { "it".to_string() } else { names.consumer(l.consumer) },
                plural(l.partitions.len(), "partition"),
                at(l.since),
                human_f(l.arrival_per_s),
                human_f(l.read_per_s),
            )
        })
        .collect();
    let (first, last): (u64, u64) =
        (loads.iter().map(|l| l.backlog[0]).sum(), loads.iter().map(|l| l.backlog[2]).sum());
    let growth = (last - first) as f64 / secs;
    let consumers: Vec<usize> = loads.iter().map(|l| l.consumer).collect();
    let text = format!(
        "{} cannot keep up: {}; over the run's last quarter (from {}) {} backlog grew from {} to {} records ({} records/s) and keeps growing.",
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
        about: About::Group(gi),
        consumers,
        partitions: loads.iter().flat_map(|l| l.partitions.iter().copied()).collect(),
        from: loads.iter().map(|l| l.since).max().unwrap_or(cps[0].time),
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
    // Since the last assignment that gave them nothing: their own assignment event, or the last
    // rebalance they were members of (a member given nothing may have no assignment event).
    let since = idle
        .iter()
        .filter_map(|&c| {
            w.rec.events.iter().rev().find_map(|e| match &e.what {
                What::Assignment { consumer, .. } if *consumer as usize == c => Some(e.time),
                What::RebalanceCompleted(rc) if rc.members.contains(&(c as u32)) => Some(e.time),
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
        about: About::Group(gi),
        consumers: idle.clone(),
        partitions: Vec::new(),
        from: since,
        to: None,
        figure: "standby_consumers",
        value: json!(idle.len()),
        text,
    });
}

/// `lag_status`: Burrow's status of the group was not OK: one finding per span, from the first
/// sample it was not to the sample it was OK again (or the end), each with its worst status, the
/// partitions the `lag_status` events named in it, and what that status means.
pub(super) fn lag_status(w: &Run, gi: usize, series: &[(SimTime, LagStatus)], out: &mut Vec<Finding>) {
    let end = SimTime::ZERO + w.plan.duration;
    let names = Names(w);
    let mut i = 0;
    while let Some(k) = series[i..].iter().position(|s| s.1 != LagStatus::Ok) {
        let start = i + k;
        let stop = series[start..].iter().position(|s| s.1 == LagStatus::Ok).map(|k| start + k);
        let (from, to) = (series[start].0, stop.map(|k| series[k].0));
        let span = &series[start..stop.unwrap_or(series.len())];
        let worst = span.iter().map(|s| s.1).max().unwrap_or_default();
        // The partitions the status events of the span named, and the worst partition status.
        let named: Vec<(u32, LagStatus)> = w
            .rec
            .events
            .iter()
            .filter(|e| e.time >= from && to.is_none_or(|t| e.time < t))
            .filter_map(|e| match e.what {
                What::LagStatus { group, partition, partition_status, .. }
                    if group as usize == gi && partition_status != LagStatus::Ok =>
                {
                    Some((partition, partition_status))
                }
                _ => None,
            })
            .collect();
        let why = named.iter().map(|n| n.1).max().unwrap_or(worst);
        let mut partitions: Vec<u32> = named.iter().map(|n| n.0).collect();
        partitions.sort_unstable();
        partitions.dedup();
        let when = match to {
            Some(t) => format!("from {} until {}", at(from), at(t)),
            None => format!("from {} to the end", at(from)),
        };
        let text = format!(
            "Burrow's lag status was {} {when}{}: {}.",
            worst.name(),
            if partitions.is_empty() { String::new() } else { format!(" ({})", names.partitions(&partitions)) },
            burrow_why(why),
        );
        out.push(Finding {
            kind: "lag_status",
            about: About::Group(gi),
            consumers: Vec::new(),
            partitions,
            from,
            to,
            figure: "not_ok_ms",
            value: ms_value(to.unwrap_or(end).as_nanos() - from.as_nanos()),
            text,
        });
        match stop {
            Some(k) => i = k,
            None => break,
        }
    }
}

/// What Burrow's status means, in words (Burrow's evaluation rules, `record::burrow`).
fn burrow_why(status: LagStatus) -> &'static str {
    match status {
        LagStatus::Ok => "lag was evaluated as OK",
        LagStatus::Warn => "lag grew across the whole window of recent commits",
        LagStatus::Err => "a partition stopped making progress",
        LagStatus::Stop => "a partition's commits stopped while it still had lag",
        LagStatus::Stall => {
            "every commit of a partition in Burrow's window was at one offset while it had lag (a window of one \
             commit, such as a group's first, counts)"
        }
        LagStatus::Rewind => "a partition's committed offset went backwards",
    }
}

/// When consumer `c` last got an assignment, at or before `t` (the run's start if never).
fn took_at(w: &Run, c: usize, t: SimTime) -> SimTime {
    w.rec
        .events
        .iter()
        .filter(|e| e.time <= t)
        .filter_map(|e| match &e.what {
            What::Assignment { consumer, .. } if *consumer as usize == c => Some(e.time),
            _ => None,
        })
        .next_back()
        .unwrap_or(SimTime::ZERO)
}
