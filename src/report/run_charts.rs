//! The charts of one run (lag, ownership, offsets), drawn from what it recorded. Every group and
//! consumer has one palette slot for all of them (and for the charts of a compare, whose two runs
//! share the plan), so a colour means the same thing everywhere.

mod cluster;
mod markers;
mod ownership;

pub use cluster::{CLUSTER_CHARTS, MAX_LEADER_ROWS, broker_rows, leader_rows, unavailability_rows};
pub use markers::{action_markers, event_label, failure_markers, markers};
pub use ownership::{ownership_rows, standbys};

use super::charts::{self, Band, LineChart, Series};
use super::lag;
use crate::record::NONE_U64;
use crate::record::run::Run;
use crate::scenario::plan::GroupType;
use ownership::ownership_chart;
use std::collections::BTreeMap;
use std::path::Path;

/// The chart files of a run, in the order the report page shows them. latency-over-time is
/// written when the engine recorded latency per second (`GroupStats::record_latency_at`) or a
/// record waited at a sample (`GroupSample::oldest_unprocessed_ns`).
pub const CHARTS: [&str; 5] = ["lag", "ownership", "share", "offsets", "latency-over-time"];

/// Palette slot of group `g`: groups come first.
pub fn group_slot(g: usize) -> usize {
    g
}

/// Palette slot of consumer `c`: after every group of the run.
pub fn consumer_slot(w: &Run, c: usize) -> usize {
    w.plan.groups.len() + c
}

/// Writes lag, ownership and offsets charts (PNG and SVG) into `dir`.
pub fn write_all(w: &Run, dir: &Path) -> anyhow::Result<()> {
    lag_chart(w, dir)?;
    ownership_chart(w, dir)?;
    offsets_chart(w, dir)?;
    if w.plan.groups.iter().any(|g| g.kind == GroupType::Share) {
        share_chart(w, dir)?;
    }
    let waited = w.rec.group_samples.iter().any(|s| s.oldest_unprocessed_ns != NONE_U64 && s.oldest_unprocessed_ns > 0);
    if waited || w.rec.groups.iter().any(|g| !g.latency_per_second.is_empty()) {
        latency_chart(w, dir)?;
    }
    if w.rec.cluster.declared {
        cluster::write_cluster(w, dir)?;
    }
    Ok(())
}

/// Share groups, per partition: the in-flight window SPEO - SPSO + 1 (thick; the flat top is
/// share_partition_max_record_locks, where acquisition stalls) and share lag (thin, same colour).
fn share_chart(w: &Run, dir: &Path) -> anyhow::Result<()> {
    let mut series = Vec::new();
    let many_groups = w.plan.groups.iter().filter(|g| g.kind == GroupType::Share).count() > 1;
    let mut slot = 0;
    for (gi, g) in w.plan.groups.iter().enumerate() {
        if g.kind != GroupType::Share {
            continue;
        }
        for p in w.plan.group_partition_ids(gi) {
            let samples: Vec<_> =
                w.rec.share_samples.iter().filter(|s| s.group == gi as u16 && s.partition == p).collect();
            if samples.is_empty() {
                continue;
            }
            let name = w.plan.partition_name(p);
            let label = if many_groups { format!("{}: {name}", g.id) } else { name };
            let color = Some(slot);
            slot += 1;
            series.push(Series {
                label: format!("{label} in flight"),
                points: samples.iter().map(|s| (s.time.as_secs_f64(), s.in_flight as f64)).collect(),
                color,
                ..Default::default()
            });
            series.push(Series {
                label: format!("{label} share lag"),
                points: samples.iter().map(|s| (s.time.as_secs_f64(), s.share_lag as f64)).collect(),
                color,
                thin: true,
                ..Default::default()
            });
        }
    }
    let title = format!("{}: share groups - records in flight and share lag per partition", w.plan.name);
    let limits: Vec<String> = w
        .plan
        .groups
        .iter()
        .filter(|g| g.kind == GroupType::Share)
        .map(|g| format!("{} {}", g.id, g.share.window_limit))
        .collect();
    let note = format!(
        "Thick: in flight, SPEO - SPSO + 1 (the window of records taken and not all done; new records \
         are acquired only while it is below share_partition_max_record_locks: {}). Thin: share lag, \
         log end - SPSO - records done in the window (KIP-1226).",
        limits.join(", ")
    );
    LineChart {
        title: &title,
        x_label: "virtual time (s)",
        y_label: "records",
        series: &series,
        markers: &markers(w),
        integer_y: true,
        empty_note: Some("No share-partition was initialized: no member was assigned one."),
        legend_note: Some(&note),
        bands: &[],
    }
    .write(&dir.join("share.png"), &dir.join("share.svg"))
}

/// Per group: the age of its oldest unprocessed record at each sample (thick; an outage shows
/// as a climb, not as a gap), and p99 (thin) and p50 (dashed) end-to-end latency of the records
/// that finished processing in each second, plotted at the second's middle. On a log scale when
/// the values span more than three decades.
fn latency_chart(w: &Run, dir: &Path) -> anyhow::Result<()> {
    let mut series = Vec::new();
    for (gi, g) in w.plan.groups.iter().enumerate() {
        let q = w.rec.groups[gi].latency_quantiles_per_second();
        let half = w.rec.groups[gi].latency_bucket_s as f64 / 2.0;
        let at = |s: u64| s as f64 + half;
        let color = Some(group_slot(gi));
        series.push(Series {
            label: format!("{}: oldest unprocessed", g.id),
            points: oldest_unprocessed_ms(w, gi),
            color,
            ..Default::default()
        });
        series.push(Series {
            label: format!("{}: p99", g.id),
            points: q.iter().map(|&(s, _, p99)| (at(s), p99 as f64 / 1e6)).collect(),
            color,
            thin: true,
            ..Default::default()
        });
        series.push(Series {
            label: format!("{}: p50", g.id),
            points: q.iter().map(|&(s, p50, _)| (at(s), p50 as f64 / 1e6)).collect(),
            color,
            dash: 1,
            thin: true,
        });
    }
    let bucket = w.rec.groups.first().map_or(1, |g| g.latency_bucket_s);
    let per = if bucket == 1 { "second".to_string() } else { format!("{bucket} s") };
    let title = format!("{}: age of the oldest unprocessed record, and end-to-end latency per {per}", w.plan.name);
    let note = format!(
        "Thick: age of the oldest record not yet processed, the largest sampled in each {per} (it \
         climbs while records wait). Thin: p99, dashed: p50, of the end-to-end latency (publish to processed) \
         of the records that finished processing in each {per}.{}",
        if charts::log_scale_for(&series) { " Log scale: 0 (nothing waiting) lies on the bottom line." } else { "" }
    );
    LineChart {
        title: &title,
        x_label: "virtual time (s)",
        y_label: "latency (ms)",
        series: &series,
        markers: &markers(w),
        integer_y: false,
        empty_note: Some("No record waited and none was processed, so there is no latency to show."),
        legend_note: Some(&note),
        bands: &[],
    }
    .write_log_if_wide(&dir.join("latency-over-time.png"), &dir.join("latency-over-time.svg"))
}

/// Group `gi`'s age of its oldest unprocessed record, the largest sampled in each latency
/// bucket (so a healthy group's samples that found nothing waiting do not draw a comb down to
/// 0), as (seconds of that sample, milliseconds).
fn oldest_unprocessed_ms(w: &Run, gi: usize) -> Vec<(f64, f64)> {
    let samples = w.rec.group_samples.iter().filter(|s| s.group as usize == gi);
    let samples = samples.filter(|s| s.oldest_unprocessed_ns != NONE_U64);
    let bucket_ns = w.rec.groups[gi].latency_bucket_s.max(1) * 1_000_000_000;
    let peaks = bucket_peaks(samples.map(|s| (s.time.as_nanos(), s.oldest_unprocessed_ns)), bucket_ns);
    peaks.into_iter().map(|(t, v)| (t as f64 / 1e9, v as f64 / 1e6)).collect()
}

/// The largest value of each `bucket_ns` stretch of time-ordered `(ns, value)` samples, with the
/// time of the last sample that has it (a bucket of zeros ends where the next one may climb).
fn bucket_peaks(samples: impl Iterator<Item = (u64, u64)>, bucket_ns: u64) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    let mut current = None;
    for (t, v) in samples {
        let bucket = t / bucket_ns.max(1);
        match out.last_mut() {
            Some(last) if current == Some(bucket) => {
                if v >= last.1 {
                    *last = (t, v);
                }
            }
            _ => {
                out.push((t, v));
                current = Some(bucket);
            }
        }
    }
    out
}

/// Per group: backlog (records not yet read) as the main line, committed lag (what
/// `kafka-consumer-groups.sh` prints) as a thin line of the same colour. Backlog is never blank
/// before a first commit and has no auto-commit sawtooth, so it shows where records wait.
fn lag_chart(w: &Run, dir: &Path) -> anyhow::Result<()> {
    let backlog = lag::group_backlog_series(w);
    let lag = lag::group_lag_series(w);
    let pts = |s: &[(crate::sim::SimTime, u64)]| s.iter().map(|(t, v)| (t.as_secs_f64(), *v as f64)).collect();
    let mut series = Vec::new();
    for (gi, g) in w.plan.groups.iter().enumerate() {
        let color = Some(group_slot(gi));
        series.push(Series {
            label: format!("{}: backlog", g.id),
            points: pts(&backlog[gi]),
            color,
            ..Default::default()
        });
        series.push(Series {
            label: if g.kind == GroupType::Share {
                format!("{}: share lag", g.id)
            } else {
                format!("{}: committed lag", g.id)
            },
            points: pts(&lag[gi]),
            color,
            thin: true,
            ..Default::default()
        });
    }
    let title = format!("{}: backlog and committed lag per group", w.plan.name);
    let bands = status_bands(w);
    let share_note = if w.plan.groups.iter().any(|g| g.kind == GroupType::Share) {
        " For a share group, backlog is what no member has been given yet, and share lag is \
         KIP-1226's log end - SPSO - records done inside the window (kafka-share-groups.sh)."
    } else {
        ""
    };
    let note = format!(
        "Thick: backlog, records the group has not read yet (log end - position). \
         Thin: committed lag, log end - committed offset, as kafka-consumer-groups.sh shows it.{share_note}{}",
        if bands.is_empty() {
            " Burrow's lag status stayed OK throughout."
        } else if w.plan.groups.len() > 1 {
            " Background: Burrow's lag status of the worst group, pale yellow WARN, pale red ERR."
        } else {
            " Background: Burrow's lag status, pale yellow WARN, pale red ERR."
        }
    );
    LineChart {
        title: &title,
        x_label: "virtual time (s)",
        y_label: "records",
        series: &series,
        markers: &markers(w),
        integer_y: true,
        empty_note: Some("Nothing waited: no group had an unread record or a committed lag at any sample."),
        legend_note: Some(&note),
        bands: &bands,
    }
    .write(&dir.join("lag.png"), &dir.join("lag.svg"))
}

/// Stretches where Burrow's status of the worst group was not OK: from each such sample to the
/// next, merged while the status stays the same.
fn status_bands(w: &Run) -> Vec<Band> {
    use crate::record::burrow::LagStatus;
    let per_group = lag::group_lag_status_series(w);
    let mut worst: BTreeMap<u64, LagStatus> = BTreeMap::new();
    for series in &per_group {
        for &(t, st) in series {
            let e = worst.entry(t.as_nanos()).or_default();
            *e = (*e).max(st);
        }
    }
    let samples: Vec<(u64, LagStatus)> = worst.into_iter().collect();
    let end = w.plan.duration.as_nanos();
    let mut bands: Vec<(Band, LagStatus)> = Vec::new();
    for (i, &(t, st)) in samples.iter().enumerate() {
        if st == LagStatus::Ok {
            continue;
        }
        let next = samples.get(i + 1).map_or(end, |s| s.0);
        let (x0, x1) = (t as f64 / 1e9, next.max(t) as f64 / 1e9);
        match bands.last_mut() {
            Some((b, last)) if *last == st && b.x1 == x0 => b.x1 = x1,
            _ => {
                let rgb = if st == LagStatus::Warn { (255, 244, 204) } else { (252, 220, 220) };
                bands.push((Band { x0, x1, rgb }, st));
            }
        }
    }
    bands.into_iter().map(|(b, _)| b).collect()
}

/// Log start, log end, and each group's committed offset, summed over partitions: a replay shows
/// as a committed line jumping back, retention as the log-start line moving up.
fn offsets_chart(w: &Run, dir: &Path) -> anyhow::Result<()> {
    let mut start: BTreeMap<u64, f64> = BTreeMap::new();
    let mut end: BTreeMap<u64, f64> = BTreeMap::new();
    let mut committed: Vec<BTreeMap<u64, f64>> = vec![BTreeMap::new(); w.plan.groups.len()];
    // Per topic totals would double count a partition read by two groups: each partition counts
    // once (the totals were taken so). Sums of offsets stay far below 2^53, exact as f64.
    for o in &w.rec.offset_totals {
        let t = o.time.as_nanos();
        start.insert(t, o.log_start as f64);
        end.insert(t, o.log_end as f64);
    }
    for g in w.rec.group_totals.iter().filter(|g| g.committed_any) {
        committed[g.group as usize].insert(g.time.as_nanos(), g.committed as f64);
    }
    let pts = |m: &BTreeMap<u64, f64>| m.iter().map(|(t, v)| (*t as f64 / 1e9, *v)).collect();
    // The log lines take slots after every group and consumer, so they never borrow a colour.
    let log_slot = w.plan.groups.len() + w.end.consumers.len();
    let mut series = vec![
        Series { label: "log end offset".into(), points: pts(&end), color: Some(log_slot), ..Default::default() },
        Series {
            label: "log start offset".into(),
            points: pts(&start),
            color: Some(log_slot + 1),
            ..Default::default()
        },
    ];
    for (gi, g) in w.plan.groups.iter().enumerate() {
        series.push(Series {
            label: format!("committed: {}", g.id),
            points: pts(&committed[gi]),
            color: Some(group_slot(gi)),
            ..Default::default()
        });
    }
    let title = format!("{}: offsets, summed over partitions", w.plan.name);
    LineChart {
        title: &title,
        x_label: "virtual time (s)",
        y_label: "offset",
        series: &series,
        markers: &failure_markers(w),
        integer_y: true,
        empty_note: Some("No records were produced: every offset stayed at 0."),
        legend_note: None,
        bands: &[],
    }
    .write(&dir.join("offsets.png"), &dir.join("offsets.svg"))
}

#[cfg(test)]
mod tests {
    use super::bucket_peaks;

    #[test]
    fn oldest_age_keeps_each_buckets_peak_where_it_was_sampled() {
        let s = 1_000_000_000u64;
        // Healthy second 0 (mostly nothing waiting), an outage climbing through seconds 1 and 2,
        // then second 4 (none sampled in 3).
        let samples = [(0, 0), (s / 2, 4), (s * 9 / 10, 0), (s, 100), (s * 3 / 2, 600), (2 * s, 1100), (4 * s, 0)];
        assert_eq!(bucket_peaks(samples.into_iter(), s), [(s / 2, 4), (s * 3 / 2, 600), (2 * s, 1100), (4 * s, 0)]);
        // Ties keep the last; a 5 s bucket takes the peak of all of them.
        assert_eq!(bucket_peaks([(0, 7), (s, 7), (2 * s, 3)].into_iter(), s * 5), [(s, 7)]);
        assert_eq!(bucket_peaks(samples.into_iter(), s * 5), [(2 * s, 1100)]);
        assert!(bucket_peaks(std::iter::empty(), s).is_empty());
    }
}
