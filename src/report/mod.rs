//! Output files, written from what a run recorded: summary.json, metrics.csv, events.jsonl and
//! the charts. All are pure functions of the finished world, so equal runs give equal bytes.

pub mod charts;
pub mod console;
pub mod files;
pub mod lag;
pub mod num;
pub mod summary;

use crate::kafka::world::World;
use crate::scenario::plan::Action;
use anyhow::Context;
use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Writes every output into `dir` (created if missing). Callers write into a staging folder
/// from [`crate::outdir`], which puts the whole set in place at once.
pub fn write_outputs(w: &World, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let create = |name: &str| -> anyhow::Result<BufWriter<fs::File>> {
        let p = dir.join(name);
        Ok(BufWriter::new(fs::File::create(&p).with_context(|| format!("creating {}", p.display()))?))
    };
    let mut summary = serde_json::to_string_pretty(&summary::summary(w))?;
    summary.push('\n');
    fs::write(dir.join("summary.json"), summary)
        .with_context(|| format!("writing {}", dir.join("summary.json").display()))?;
    files::write_metrics(w, create("metrics.csv")?)
        .with_context(|| format!("writing {}", dir.join("metrics.csv").display()))?;
    files::write_events(w, create("events.jsonl")?)
        .with_context(|| format!("writing {}", dir.join("events.jsonl").display()))?;
    lag_chart(w, dir)?;
    ownership_chart(w, dir)?;
    offsets_chart(w, dir)?;
    let mut written: Vec<PathBuf> = fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    written.retain(|p| p.file_name().is_some_and(|n| n != crate::outdir::MARKER));
    written.sort();
    Ok(written)
}

/// Timeline actions as chart markers ("crash b2").
pub fn action_markers(w: &World) -> Vec<charts::Marker> {
    w.plan
        .timeline
        .iter()
        .map(|a| {
            let label = match &a.action {
                Action::Crash(r) => format!("crash {}", w.plan.consumer(*r).name),
                Action::Start(r) => format!("start {}", w.plan.consumer(*r).name),
                Action::Stop(r) => format!("stop {}", w.plan.consumer(*r).name),
                Action::Slow { consumer, factor } => {
                    format!("slow {} x{factor}", w.plan.consumer(*consumer).name)
                }
                Action::Rate { producer, rate } => {
                    format!("rate {} {rate}/s", w.plan.producers[*producer].name)
                }
                Action::Seek { consumer, .. } => format!("seek {}", w.plan.consumer(*consumer).name),
                Action::ResetOffsets { group, .. } => format!("reset {}", w.plan.groups[*group].id),
                Action::Pause(r) => format!("pause {}", w.plan.consumer(*r).name),
                Action::Resume(r) => format!("resume {}", w.plan.consumer(*r).name),
                Action::PauseProducer(p) => format!("pause {}", w.plan.producers[*p].name),
                Action::ResumeProducer(p) => format!("resume {}", w.plan.producers[*p].name),
                Action::AddGroup(g) => format!("add group {}", w.plan.groups[*g].id),
                Action::RemoveGroup(g) => format!("remove group {}", w.plan.groups[*g].id),
                Action::AddConsumer(r) => format!("add {}", w.plan.consumer(*r).name),
                Action::AddPartitions { topic, count } => {
                    format!("{} -> {count} partitions", w.plan.topics[*topic].name)
                }
            };
            charts::Marker { x: a.at.as_nanos() as f64 / 1e9, label }
        })
        .collect()
}

fn lag_chart(w: &World, dir: &Path) -> anyhow::Result<()> {
    let series: Vec<charts::Series> = lag::group_lag_series(w)
        .into_iter()
        .zip(&w.groups)
        .map(|(s, g)| charts::Series {
            label: g.id.clone(),
            points: s.into_iter().map(|(t, lag)| (t.as_secs_f64(), lag as f64)).collect(),
        })
        .collect();
    let title = format!("{}: consumer lag per group (log end offset - committed offset)", w.plan.name);
    charts::line_chart(
        &dir.join("lag.png"),
        &dir.join("lag.svg"),
        &title,
        "virtual time (s)",
        "lag (records)",
        &series,
        &action_markers(w),
    )
}

/// One row per partition (per group), each span coloured by the consumer that owned it, grey
/// while nobody did; rebalance completions and timeline actions marked.
fn ownership_chart(w: &World, dir: &Path) -> anyhow::Result<()> {
    use std::collections::BTreeMap;
    let end = w.plan.duration.as_nanos() as f64 / 1e9;
    // (group, partition) -> [(seconds, new owner)]
    type Changes = BTreeMap<(u16, u32), Vec<(f64, Option<String>)>>;
    let mut changes: Changes = BTreeMap::new();
    for ch in &w.rec.ownership {
        let owner = (ch.owner != crate::record::NONE_U32).then(|| w.consumers[ch.owner as usize].name.clone());
        changes.entry((ch.group, ch.partition)).or_default().push((ch.time.as_secs_f64(), owner));
    }
    // A crashed consumer still owns its partitions until its session times out, but reads
    // nothing: those stretches get their own legend entry, "<name> (down)".
    let mut down: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for e in &w.rec.events {
        let Some(name) = e.fields.get("consumer").and_then(|v| v.as_str()) else { continue };
        let t = e.time.as_secs_f64();
        match e.kind {
            "consumer_crashed" => down.entry(name).or_default().push((t, end)),
            "consumer_started" => {
                if let Some(last) = down.get_mut(name).and_then(|v| v.last_mut()).filter(|l| l.1 == end) {
                    last.1 = t;
                }
            }
            _ => {}
        }
    }
    let push_span = |spans: &mut Vec<charts::Span>, start: f64, stop: f64, owner: &Option<String>| {
        let mut at = start;
        for &(a, b) in owner.as_deref().and_then(|o| down.get(o)).into_iter().flatten() {
            let (a, b) = (a.max(start), b.min(stop));
            if a >= b {
                continue;
            }
            if a > at {
                spans.push(charts::Span { start: at, end: a, owner: owner.clone() });
            }
            let name = owner.as_deref().unwrap_or_default();
            spans.push(charts::Span { start: a, end: b, owner: Some(format!("{name} (down)")) });
            at = b;
        }
        if stop > at {
            spans.push(charts::Span { start: at, end: stop, owner: owner.clone() });
        }
    };
    let many_groups = w.groups.len() > 1;
    let mut rows = Vec::new();
    for (gi, g) in w.groups.iter().enumerate() {
        for &p in &g.partitions {
            let mut spans = Vec::new();
            let mut current: (f64, Option<String>) = (0.0, None);
            for (t, owner) in changes.get(&(gi as u16, p)).into_iter().flatten() {
                if *t > current.0 {
                    push_span(&mut spans, current.0, *t, &current.1);
                }
                current = (*t, owner.clone());
            }
            if end > current.0 {
                push_span(&mut spans, current.0, end, &current.1);
            }
            let name = w.partition_name(p);
            let label = if many_groups { format!("{}: {name}", g.id) } else { name };
            rows.push(charts::OwnershipRow { label, spans });
        }
    }
    let mut markers = action_markers(w);
    for e in &w.rec.events {
        if e.kind == "rebalance_completed" {
            let generation = e.fields.get("generation").cloned().unwrap_or_default();
            let group = e.fields.get("group").and_then(|v| v.as_str()).unwrap_or("");
            let label = if many_groups { format!("{group} gen {generation}") } else { format!("gen {generation}") };
            markers.push(charts::Marker { x: e.time.as_secs_f64(), label });
        }
    }
    markers.sort_by(|a, b| a.x.total_cmp(&b.x));
    let title = format!("{}: partition ownership (grey: unowned; \"down\": owned by a crashed consumer)", w.plan.name);
    charts::ownership_chart(&dir.join("ownership.png"), &dir.join("ownership.svg"), &title, &rows, end, &markers)
}

/// Log start, log end, and each group's committed offset, summed over partitions: a replay shows
/// as a committed line jumping back, retention as the log-start line moving up.
fn offsets_chart(w: &World, dir: &Path) -> anyhow::Result<()> {
    use std::collections::BTreeMap;
    let mut start: BTreeMap<u64, f64> = BTreeMap::new();
    let mut end: BTreeMap<u64, f64> = BTreeMap::new();
    let mut committed: Vec<BTreeMap<u64, f64>> = vec![BTreeMap::new(); w.groups.len()];
    // Per topic totals would double count a partition read by two groups: take each partition once.
    let mut seen: BTreeMap<(u64, u32), ()> = BTreeMap::new();
    for row in &w.rec.metrics {
        let t = row.time.as_nanos();
        if seen.insert((t, row.partition), ()).is_none() {
            *start.entry(t).or_default() += row.log_start_offset as f64;
            *end.entry(t).or_default() += row.log_end_offset as f64;
        }
        if row.committed != crate::record::NONE_U64 {
            *committed[row.group as usize].entry(t).or_default() += row.committed as f64;
        }
    }
    let pts = |m: &BTreeMap<u64, f64>| m.iter().map(|(t, v)| (*t as f64 / 1e9, *v)).collect();
    let mut series = vec![
        charts::Series { label: "log end offset".into(), points: pts(&end) },
        charts::Series { label: "log start offset".into(), points: pts(&start) },
    ];
    for (gi, g) in w.groups.iter().enumerate() {
        series.push(charts::Series { label: format!("committed: {}", g.id), points: pts(&committed[gi]) });
    }
    let title = format!("{}: offsets, summed over partitions", w.plan.name);
    charts::line_chart(
        &dir.join("offsets.png"),
        &dir.join("offsets.svg"),
        &title,
        "virtual time (s)",
        "offset",
        &series,
        &action_markers(w),
    )
}
