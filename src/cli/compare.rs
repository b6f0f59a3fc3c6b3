//! `kafkasim compare`: one scenario run twice with the same seed and the two side by side. Two
//! comparisons: every group pulling and then every group pushing (each group's other settings
//! kept), or (`--groups consumer,share`) every group as a classic consumer group and then as a
//! share group (KIP-932).

mod fates;

use super::common::{Failure, Limits, Writing, admit, in_target, load, say, usage};
use super::outdir;
use crate::kafka::budget::Usage;
use crate::kafka::world::World;
use crate::record::GroupSample;
use crate::record::run::Run;
use crate::report::{self, charts, page, run_charts, summary::summary};
use crate::scenario::plan::{Action, Delivery, GroupType, OffsetReset, Plan, ShareOffsetReset};
use anyhow::{Context, bail};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;
use std::path::PathBuf;

/// The charts a compare writes beside its two run folders, in the order its page shows them
/// (each comparison writes those that apply to it).
pub const CHARTS: [&str; 4] = ["latency", "buffer-vs-lag", "drops", "backlog"];

/// What the two runs differ in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    /// Every group pulling, then every group pushing.
    Delivery,
    /// Every group a consumer group, then every group a share group.
    GroupType,
}

impl Axis {
    /// The two runs' names: their folders, their keys in compare.json.
    pub fn sides(self) -> [&'static str; 2] {
        match self {
            Axis::Delivery => ["pull", "push"],
            Axis::GroupType => ["consumer", "share"],
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Axis::Delivery => "pull vs push",
            Axis::GroupType => "consumer groups vs share groups",
        }
    }
}

pub struct Comparison {
    pub axis: Axis,
    /// The first side's run (pull, or consumer groups).
    pub a: World,
    /// The second side's run (push, or share groups).
    pub b: World,
}

/// Runs both sides of a pull vs push comparison.
pub fn run(plan: &Plan) -> anyhow::Result<Comparison> {
    run_axis(plan, Axis::Delivery)
}

/// Runs both sides (in parallel: two independent, deterministic runs).
pub fn run_axis(plan: &Plan, axis: Axis) -> anyhow::Result<Comparison> {
    let (a, b) = prepare(plan, axis).map_err(anyhow::Error::msg)?;
    finish(axis, a, b)
}

/// The two worlds of a comparison, built but not run. A scenario whose timeline a share group
/// cannot follow (seek, pause, offset reset, group removal) or that pushes cannot be compared
/// across group types: the reason names the timeline entry or group.
pub fn prepare(plan: &Plan, axis: Axis) -> Result<(World, World), String> {
    match axis {
        Axis::Delivery => {
            if let Some(g) =
                plan.groups.iter().find(|g| g.protocol == crate::scenario::plan::RebalanceProtocol::Consumer)
            {
                return Err(format!(
                    "group `{}` runs the consumer rebalance protocol (protocol: consumer); push delivery runs on the classic protocol only, so compare pull and push with protocol: eager or cooperative",
                    g.id
                ));
            }
            let with = |delivery: Delivery| {
                let mut p = plan.clone();
                for g in &mut p.groups {
                    g.delivery = delivery;
                }
                World::try_new(p).map_err(|e| e.to_string())
            };
            Ok((with(Delivery::Pull)?, with(Delivery::Push)?))
        }
        Axis::GroupType => {
            for (i, a) in plan.timeline.iter().enumerate() {
                let what = match a.action {
                    Action::Seek { .. } => "seek",
                    Action::Pause(_) | Action::Resume(_) => "pause/resume of a consumer",
                    Action::ResetOffsets { .. } => "reset_offsets",
                    Action::RemoveGroup(_) => "remove_group",
                    _ => continue,
                };
                return Err(format!(
                    "timeline[{i}] ({what} at {}) has no share-group equivalent, so the scenario cannot run with share groups; remove it to compare group types",
                    a.at
                ));
            }
            if let Some(g) = plan.groups.iter().find(|g| g.delivery == Delivery::Push) {
                return Err(format!(
                    "group `{}` pushes (delivery: push); share groups pull, so compare group types with pulling groups",
                    g.id
                ));
            }
            let build = |kind| World::try_new(as_groups(plan, kind)).map_err(|e| e.to_string());
            Ok((build(GroupType::Consumer)?, build(GroupType::Share)?))
        }
    }
}

/// The plan with every group of `kind`. Where the groups start reading carries over between
/// `auto_offset_reset` and `share_auto_offset_reset` (`none` has no share equivalent: latest);
/// settings of the other kind are left as they are and not read.
fn as_groups(plan: &Plan, kind: GroupType) -> Plan {
    let mut p = plan.clone();
    for g in &mut p.groups {
        if g.kind == kind {
            continue;
        }
        match kind {
            GroupType::Share => {
                let earliest = g.consumers.first().is_some_and(|c| c.config.auto_offset_reset == OffsetReset::Earliest);
                g.share.auto_offset_reset =
                    if earliest { ShareOffsetReset::Earliest } else { ShareOffsetReset::Latest };
                // No static membership in share groups (the share consumer refuses it).
                for c in &mut g.consumers {
                    c.group_instance_id = None;
                }
            }
            GroupType::Consumer => {
                let reset = match g.share.auto_offset_reset {
                    ShareOffsetReset::Earliest => OffsetReset::Earliest,
                    ShareOffsetReset::Latest => OffsetReset::Latest,
                };
                for c in &mut g.consumers {
                    c.config.auto_offset_reset = reset;
                }
            }
        }
        g.kind = kind;
    }
    p
}

/// Runs both prepared worlds to the end, in parallel, and checks they saw the same records.
pub fn finish(axis: Axis, mut a: World, mut b: World) -> anyhow::Result<Comparison> {
    // The two runs go side by side; their producers get threads of their own only with a core each.
    let spare = crate::kafka::producer::feed::thread_per_run(2);
    a.producer_thread &= spare;
    b.producer_thread &= spare;
    std::thread::scope(|s| {
        let h = s.spawn(|| a.run());
        b.run();
        h.join().expect("the first run does not panic");
    });
    // Producers draw from their own streams, so both runs must have seen the same records.
    for (x, y) in a.broker.partitions.iter().zip(&b.broker.partitions) {
        if x.log.log_end_offset() != y.log.log_end_offset() {
            let [l, r] = axis.sides();
            bail!("{l} and {r} runs produced different logs: a determinism bug, please report it");
        }
    }
    Ok(Comparison { axis, a, b })
}

/// The two finished runs as the report reads them.
struct Sides<'a> {
    axis: Axis,
    a: Run<'a>,
    b: Run<'a>,
}

/// Writes a run folder per side (`pull/` and `push/`, or `consumer/` and `share/`),
/// compare.json, compare.md, the comparison charts and index.html.
pub fn write(cmp: &Comparison, dir: &Path) -> anyhow::Result<String> {
    let cmp = &Sides { axis: cmp.axis, a: cmp.a.run_record(), b: cmp.b.run_record() };
    let [l, r] = cmp.axis.sides();
    report::write_outputs(&cmp.a, &dir.join(l))?;
    report::write_outputs(&cmp.b, &dir.join(r))?;
    let (sa, sb) = (summary(&cmp.a), summary(&cmp.b));
    let mut both = serde_json::Map::new();
    both.insert(l.to_string(), sa.clone());
    both.insert(r.to_string(), sb.clone());
    let mut json_text = serde_json::to_string_pretty(&Value::Object(both))?;
    json_text.push('\n');
    std::fs::write(dir.join("compare.json"), json_text).context("writing compare.json")?;
    let table = compare_md(cmp, &sa, &sb);
    std::fs::write(dir.join("compare.md"), &table).context("writing compare.md")?;
    latency_chart(cmp, &sa, &sb, dir)?;
    match cmp.axis {
        Axis::Delivery => {
            buffer_vs_lag_chart(cmp, dir)?;
            drops_chart(cmp, dir)?;
        }
        Axis::GroupType => backlog_chart(cmp, dir)?,
    }
    let views = [page::run_view(&cmp.a, &sa, &dir.join(l), l)?, page::run_view(&cmp.b, &sb, &dir.join(r), r)?];
    let plan = &cmp.a.plan;
    let html = page::compare_page(
        (&plan.name, cmp.axis.title()),
        &plan.description,
        &plan.source,
        page::overridden_seed(&cmp.a),
        &table,
        &page::read_charts(dir, &CHARTS)?,
        [&views[0], &views[1]],
    );
    std::fs::write(dir.join("index.html"), html).context("writing index.html")?;
    Ok(table)
}

/// A summary figure as people read it in the table: counts with thousands separators, times in
/// ms rounded as the console rounds them (compare.json keeps the exact figures).
fn num(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::Number(n) => match n.as_u64() {
            Some(count) => crate::report::num::count(count),
            None => n.as_f64().map_or_else(|| n.to_string(), crate::report::num::human_f),
        },
        other => other.to_string(),
    }
}

/// compare.md: the table of the two runs, each group's row saying what happened to its consumers,
/// then the list of those happenings per side.
fn compare_md(cmp: &Sides, sa: &Value, sb: &Value) -> String {
    let fa = fates::fates(&cmp.a);
    let fb = fates::fates(&cmp.b);
    let what: WhatHappened = (cmp.a.plan.groups.iter().enumerate())
        .map(|(g, gp)| (gp.id.clone(), [fates::cell(&cmp.a, &fa, g), fates::cell(&cmp.b, &fb, g)]))
        .collect();
    let name = &cmp.a.plan.name;
    let mut out = match cmp.axis {
        Axis::Delivery => markdown(name, sa, sb, &what),
        Axis::GroupType => markdown_groups(name, sa, sb, &what),
    };
    let [l, r] = cmp.axis.sides();
    out.push_str(
        "\n## What happened to the consumers\n\n| side | consumer | what happened | at the end |\n|---|---|---|---|\n",
    );
    for line in fates::rows(l, &cmp.a, sa, &fa).into_iter().chain(fates::rows(r, &cmp.b, sb, &fb)) {
        out.push_str(&line);
        out.push('\n');
    }
    findings_md(&mut out, [(l, sa), (r, sb)]);
    out
}

/// Each side's findings (summary.json's `findings`), as sentences under the side and group.
fn findings_md(out: &mut String, sides: [(&str, &Value); 2]) {
    out.push_str("\n## Findings\n\n| side | group | finding |\n|---|---|---|\n");
    for (side, summary) in sides {
        let found = summary["findings"].as_array().map(Vec::as_slice).unwrap_or_default();
        if found.is_empty() {
            out.push_str(&format!("| {side} | every group | nothing stood out |\n"));
        }
        for f in found {
            let text = f["text"].as_str().unwrap_or("").replace('|', "/");
            // A producer's finding (the cluster's) has no group: it names the producer instead.
            let who = match (f["group"].as_str(), f["producer"].as_str()) {
                (Some(g), _) => g.to_string(),
                (None, Some(p)) => format!("producer {p}"),
                (None, None) => String::new(),
            };
            out.push_str(&format!("| {side} | {who} | {text} |\n"));
        }
    }
}

/// Per group id: what happened to its consumers on each side.
type WhatHappened = Vec<(String, [String; 2])>;

fn what_cell<'a>(what: &'a WhatHappened, id: &str, side: usize) -> &'a str {
    what.iter().find(|(g, _)| g == id).map_or("-", |(_, c)| c[side].as_str())
}

fn markdown(name: &str, pull: &Value, push: &Value, what: &WhatHappened) -> String {
    let mut out = format!("# {name}: pull vs push\n\n");
    out.push_str("| group | mode | what happened | processed | p50 ms | p99 ms | max ms | max buffer (records) | max buffer (bytes) | drops | duplicates | lost | requests | empty polls | max lag |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    let groups = pull["groups"].as_object().cloned().unwrap_or_default();
    for (id, _) in groups {
        for (side, (mode, s)) in [("pull", pull), ("push", push)].into_iter().enumerate() {
            let g = &s["groups"][&id];
            let _ = writeln!(
                out,
                "| {id} | {mode} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                what_cell(what, &id, side),
                num(&g["records_processed"]),
                num(&g["latency_ms"]["p50"]),
                num(&g["latency_ms"]["p99"]),
                num(&g["latency_ms"]["max"]),
                num(&g["push"]["buffer_peak_records"]),
                num(&g["push"]["buffer_peak_bytes"]),
                num(&g["push"]["drops"]),
                num(&g["duplicates"]),
                num(&g["lost"]),
                num(&g["requests"]),
                num(&g["empty_polls"]),
                num(&g["lag_records"]["max"]),
            );
        }
    }
    out.push_str("\nmax buffer: records held by the group's consumers (pull: none; the backlog stays on the broker as lag).\nrequests: polls (pull) or push messages (push). lost: committed past unprocessed (push drops, at-most-once).\n");
    out
}

/// The consumer-group vs share-group table: throughput, latency, who worked, what repeated.
fn markdown_groups(name: &str, a: &Value, b: &Value, what: &WhatHappened) -> String {
    let mut out = format!("# {name}: consumer groups vs share groups\n\n");
    out.push_str("| group | type | what happened | processed | before its start | p50 ms | p99 ms | max ms | consumers working | duplicates | redeliveries | archived | lock expiries | max lag | max backlog |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    let groups = a["groups"].as_object().cloned().unwrap_or_default();
    for (id, _) in groups {
        for (side, (kind, s)) in [("consumer", a), ("share", b)].into_iter().enumerate() {
            let g = &s["groups"][&id];
            let consumers = g["consumers"].as_object().cloned().unwrap_or_default();
            let working = consumers.values().filter(|c| c["records_processed"].as_u64().unwrap_or(0) > 0).count();
            let share = |k: &str| if kind == "share" { num(&g[k]) } else { "-".into() };
            let _ = writeln!(
                out,
                "| {id} | {kind} | {} | {} | {} | {} | {} | {} | {working} of {} | {} | {} | {} | {} | {} | {} |",
                what_cell(what, &id, side),
                num(&g["records_processed"]),
                num(&g["records_before_start"]),
                num(&g["latency_ms"]["p50"]),
                num(&g["latency_ms"]["p99"]),
                num(&g["latency_ms"]["max"]),
                consumers.len(),
                num(&g["duplicates"]),
                share("redeliveries"),
                if kind == "share" { num(&g["archived"]["total"]) } else { "-".into() },
                share("lock_expiries"),
                num(&g["lag_records"]["max"]),
                num(&g["backlog_records"]["max"]),
            );
        }
    }
    out.push_str("\nbefore its start: records written before the group began reading (auto_offset_reset latest: a consumer group reads nothing until its first rebalance completes, a share group from its first heartbeat).\nconsumers working: consumers that processed at least one record (a consumer group's standbys process none).\nmax lag: committed lag for a consumer group, share lag (KIP-1226) for a share group. redeliveries, archived, lock expiries: share groups only.\nEach group runs with the settings of its kind and Kafka's defaults for the rest: as a share group, a consumer group's commit mode, protocol, assignor, session and heartbeat timeouts and static membership do not apply (share_auto_offset_reset follows auto_offset_reset); as a consumer group, a share group's share settings, outcome and poison do not (auto_offset_reset follows share_auto_offset_reset).\n");
    out
}

fn latency_chart(cmp: &Sides, pull: &Value, push: &Value, dir: &Path) -> anyhow::Result<()> {
    let [l, r] = cmp.axis.sides();
    let mut categories = Vec::new();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut slots = Vec::new();
    for (gi, g) in cmp.a.plan.groups.iter().enumerate() {
        for q in ["p50", "p99", "max"] {
            categories.push(format!("{} {q}", g.id));
            slots.push(run_charts::group_slot(gi));
            a.push(pull["groups"][&g.id]["latency_ms"][q].as_f64().unwrap_or(f64::NAN));
            b.push(push["groups"][&g.id]["latency_ms"][q].as_f64().unwrap_or(f64::NAN));
        }
    }
    // Bars take their group's colour (as in every other chart); the mode is the pattern.
    let groups = [
        charts::BarGroup { label: format!("{l} (solid)"), values: a, slots: slots.clone(), pattern: 0 },
        charts::BarGroup { label: format!("{r} (striped)"), values: b, slots, pattern: 3 },
    ];
    let title = format!("{}: end-to-end latency, {}", cmp.a.plan.name, cmp.axis.title());
    charts::bar_chart(&dir.join("latency.png"), &dir.join("latency.svg"), &title, "latency (ms)", &categories, &groups)
}

fn buffer_vs_lag_chart(cmp: &Sides, dir: &Path) -> anyhow::Result<()> {
    let backlog = report::lag::group_backlog_series(&cmp.a);
    let mut series = Vec::new();
    for (gi, g) in cmp.a.plan.groups.iter().enumerate() {
        let color = Some(run_charts::group_slot(gi));
        series.push(charts::Series {
            label: format!("pull {}: backlog on the broker", g.id),
            points: backlog[gi].iter().map(|(t, v)| (t.as_secs_f64(), *v as f64)).collect(),
            color,
            ..Default::default()
        });
        series.push(charts::Series {
            label: format!("push {}: consumer buffer", g.id),
            points: group_series(&cmp.b, gi, |s| s.buffered_records),
            color,
            thin: true,
            ..Default::default()
        });
    }
    let title =
        format!("{}: where the backlog waits - broker (pull backlog) vs consumer (push buffer)", cmp.a.plan.name);
    charts::LineChart {
        title: &title,
        x_label: "virtual time (s)",
        y_label: "records",
        series: &series,
        markers: &run_charts::action_markers(&cmp.b),
        integer_y: true,
        empty_note: Some("Nothing waited: no unread records on the broker and none held in push buffers."),
        legend_note: Some(
            "One colour per group: thick = pull run, records not yet read (log end - position); \
             thin = push run, records pushed and waiting in consumer buffers.",
        ),
        bands: &[],
    }
    .write(&dir.join("buffer-vs-lag.png"), &dir.join("buffer-vs-lag.svg"))
}

fn drops_chart(cmp: &Sides, dir: &Path) -> anyhow::Result<()> {
    let series: Vec<charts::Series> = cmp
        .b
        .plan
        .groups
        .iter()
        .enumerate()
        .map(|(gi, g)| charts::Series {
            label: format!("push {}", g.id),
            points: group_series(&cmp.b, gi, |s| s.drops),
            color: Some(run_charts::group_slot(gi)),
            ..Default::default()
        })
        .collect();
    let title = format!("{}: records dropped on full push buffers (cumulative)", cmp.a.plan.name);
    charts::LineChart {
        title: &title,
        x_label: "virtual time (s)",
        y_label: "records dropped",
        series: &series,
        markers: &run_charts::action_markers(&cmp.b),
        integer_y: true,
        empty_note: Some(
            "No records were dropped in the push run: no push buffer with the drop policy ever filled up.",
        ),
        legend_note: None,
        bands: &[],
    }
    .write(&dir.join("drops.png"), &dir.join("drops.svg"))
}

/// Each group's backlog in both runs: a consumer group's standbys leave partitions to fewer
/// readers, a share group's extra members read them too.
fn backlog_chart(cmp: &Sides, dir: &Path) -> anyhow::Result<()> {
    let (ba, bb) = (report::lag::group_backlog_series(&cmp.a), report::lag::group_backlog_series(&cmp.b));
    let pts = |s: &[(crate::sim::SimTime, u64)]| s.iter().map(|(t, v)| (t.as_secs_f64(), *v as f64)).collect();
    let mut series = Vec::new();
    for (gi, g) in cmp.a.plan.groups.iter().enumerate() {
        let color = Some(run_charts::group_slot(gi));
        series.push(charts::Series {
            label: format!("{} as a consumer group", g.id),
            points: pts(&ba[gi]),
            color,
            ..Default::default()
        });
        series.push(charts::Series {
            label: format!("{} as a share group", g.id),
            points: pts(&bb[gi]),
            color,
            thin: true,
            ..Default::default()
        });
    }
    let title = format!("{}: backlog, consumer groups vs share groups", cmp.a.plan.name);
    charts::LineChart {
        title: &title,
        x_label: "virtual time (s)",
        y_label: "records",
        series: &series,
        markers: &run_charts::action_markers(&cmp.b),
        integer_y: true,
        empty_note: Some("Nothing waited in either run."),
        legend_note: Some(
            "One colour per group: thick = the consumer-group run, thin = the share-group run. \
             Backlog: records no member has been given yet.",
        ),
        bands: &[],
    }
    .write(&dir.join("backlog.png"), &dir.join("backlog.svg"))
}

/// One group's per-sample value (seconds, value) from a run's group samples.
fn group_series(w: &Run, group: usize, value: impl Fn(&GroupSample) -> u64) -> Vec<(f64, f64)> {
    w.rec
        .group_samples
        .iter()
        .filter(|s| s.group as usize == group)
        .map(|s| (s.time.as_secs_f64(), value(s) as f64))
        .collect()
}

pub fn command(
    path: &Path,
    out: Option<PathBuf>,
    seed: Option<u64>,
    groups: Option<String>,
    writing: Writing,
    limits: Limits,
) -> Result<(), Failure> {
    let axis = match groups.as_deref() {
        None => Axis::Delivery,
        Some("consumer,share") => Axis::GroupType,
        Some(other) => {
            return Err(usage(format!(
                "--groups {other}: the one comparison of group types is `--groups consumer,share`"
            )));
        }
    };
    let plan = load(path, seed)?;
    // Both worlds are built before either runs, and keep their metrics rows.
    admit(path, &plan, limits, Usage { rows_kept: true, worlds: 2, ..Usage::run(false) })?;
    let (mut a, mut b) = prepare(&plan, axis).map_err(|why| usage(format!("{}: {why}", path.display())))?;
    let suffix = if axis == Axis::Delivery { "compare" } else { "compare-groups" };
    let dir = out.unwrap_or_else(|| Path::new("output").join(format!("{}-{suffix}", plan.name)));
    let staging = outdir::begin(&dir, writing.force)?;
    let [l, r] = axis.sides();
    let (label, total) = (format!("{} {l} and {r}", plan.name), plan.duration.as_nanos());
    let clocks = [a.kernel.watch(), b.kernel.watch()];
    let cmp = super::progress::with_progress(&label, &clocks, total, || finish(axis, a, b))?;
    let table = write(&cmp, staging.path()).map_err(in_target(&staging, &dir))?;
    staging.commit()?;
    say!("{}", table.trim_end());
    say!("wrote {}", dir.display());
    Ok(())
}
