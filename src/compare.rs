//! `kafkasim compare`: one scenario run twice with the same seed, every group pulling and then
//! every group pushing (each group's other settings kept), and the two side by side.

use crate::kafka::world::World;
use crate::record::GroupSample;
use crate::report::{self, charts, page, run_charts, summary::summary};
use crate::scenario::plan::{Delivery, Plan};
use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

/// The charts a compare writes beside its two run folders, in the order its page shows them.
pub const CHARTS: [&str; 3] = ["latency", "buffer-vs-lag", "drops"];

pub struct Comparison {
    pub pull: World,
    pub push: World,
}

/// Runs both modes (in parallel: two independent, deterministic runs).
pub fn run(plan: &Plan) -> anyhow::Result<Comparison> {
    let (pull, push) = prepare(plan);
    finish(pull, push)
}

/// The two worlds of a comparison, built but not run: every group pulling, every group pushing.
pub fn prepare(plan: &Plan) -> (World, World) {
    let with = |delivery: Delivery| {
        let mut p = plan.clone();
        for g in &mut p.groups {
            g.delivery = delivery;
        }
        World::new(p)
    };
    (with(Delivery::Pull), with(Delivery::Push))
}

/// Runs both prepared worlds to the end, in parallel, and checks they saw the same records.
pub fn finish(mut pull: World, mut push: World) -> anyhow::Result<Comparison> {
    std::thread::scope(|s| {
        let p = s.spawn(|| pull.run());
        push.run();
        p.join().expect("the pull run does not panic");
    });
    // Producers draw from their own streams, so both modes must have seen the same records.
    for (a, b) in pull.partitions.iter().zip(&push.partitions) {
        if a.log.log_end_offset() != b.log.log_end_offset() {
            bail!("pull and push runs produced different logs: a determinism bug, please report it");
        }
    }
    Ok(Comparison { pull, push })
}

/// Writes `pull/` and `push/` run folders, compare.json, compare.md and the comparison charts.
pub fn write(cmp: &Comparison, dir: &Path) -> anyhow::Result<String> {
    report::write_outputs(&cmp.pull, &dir.join("pull"))?;
    report::write_outputs(&cmp.push, &dir.join("push"))?;
    let (pull, push) = (summary(&cmp.pull), summary(&cmp.push));
    let mut json_text = serde_json::to_string_pretty(&json!({ "pull": pull, "push": push }))?;
    json_text.push('\n');
    std::fs::write(dir.join("compare.json"), json_text).context("writing compare.json")?;
    let table = markdown(&cmp.pull.plan.name, &pull, &push);
    std::fs::write(dir.join("compare.md"), &table).context("writing compare.md")?;
    latency_chart(cmp, &pull, &push, dir)?;
    buffer_vs_lag_chart(cmp, dir)?;
    drops_chart(cmp, dir)?;
    let views = [
        page::run_view(&cmp.pull, &pull, &dir.join("pull"), "pull")?,
        page::run_view(&cmp.push, &push, &dir.join("push"), "push")?,
    ];
    let plan = &cmp.pull.plan;
    let html = page::compare_page(
        &plan.name,
        &plan.description,
        &plan.source,
        page::overridden_seed(&cmp.pull),
        &table,
        &page::read_charts(dir, &CHARTS)?,
        [&views[0], &views[1]],
    );
    std::fs::write(dir.join("index.html"), html).context("writing index.html")?;
    Ok(table)
}

fn num(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn markdown(name: &str, pull: &Value, push: &Value) -> String {
    let mut out = format!("# {name}: pull vs push\n\n");
    out.push_str("| group | mode | processed | p50 ms | p99 ms | max ms | max buffer (records) | max buffer (bytes) | drops | duplicates | lost | requests | empty polls | max lag |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    let groups = pull["groups"].as_object().cloned().unwrap_or_default();
    for (id, _) in groups {
        for (mode, s) in [("pull", pull), ("push", push)] {
            let g = &s["groups"][&id];
            let _ = writeln!(
                out,
                "| {id} | {mode} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
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

fn latency_chart(cmp: &Comparison, pull: &Value, push: &Value, dir: &Path) -> anyhow::Result<()> {
    let mut categories = Vec::new();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut slots = Vec::new();
    for (gi, g) in cmp.pull.groups.iter().enumerate() {
        for q in ["p50", "p99", "max"] {
            categories.push(format!("{} {q}", g.id));
            slots.push(run_charts::group_slot(gi));
            a.push(pull["groups"][&g.id]["latency_ms"][q].as_f64().unwrap_or(f64::NAN));
            b.push(push["groups"][&g.id]["latency_ms"][q].as_f64().unwrap_or(f64::NAN));
        }
    }
    // Bars take their group's colour (as in every other chart); the mode is the pattern.
    let groups = [
        charts::BarGroup { label: "pull (solid)".into(), values: a, slots: slots.clone(), pattern: 0 },
        charts::BarGroup { label: "push (striped)".into(), values: b, slots, pattern: 3 },
    ];
    let title = format!("{}: end-to-end latency, pull vs push", cmp.pull.plan.name);
    charts::bar_chart(&dir.join("latency.png"), &dir.join("latency.svg"), &title, "latency (ms)", &categories, &groups)
}

fn buffer_vs_lag_chart(cmp: &Comparison, dir: &Path) -> anyhow::Result<()> {
    let backlog = report::lag::group_backlog_series(&cmp.pull);
    let mut series = Vec::new();
    for (gi, g) in cmp.pull.groups.iter().enumerate() {
        let color = Some(run_charts::group_slot(gi));
        series.push(charts::Series {
            label: format!("pull {}: backlog on the broker", g.id),
            points: backlog[gi].iter().map(|(t, v)| (t.as_secs_f64(), *v as f64)).collect(),
            color,
            ..Default::default()
        });
        series.push(charts::Series {
            label: format!("push {}: consumer buffer", g.id),
            points: group_series(&cmp.push, gi, |s| s.buffered_records),
            color,
            dash: 1,
            ..Default::default()
        });
    }
    let title =
        format!("{}: where the backlog waits - broker (pull backlog) vs consumer (push buffer)", cmp.pull.plan.name);
    charts::LineChart {
        title: &title,
        x_label: "virtual time (s)",
        y_label: "records",
        series: &series,
        markers: &run_charts::action_markers(&cmp.push),
        integer_y: true,
        empty_note: Some("Nothing waited: no unread records on the broker and none held in push buffers."),
        legend_note: Some(
            "One colour per group: solid = pull run, records not yet read (log end - position); \
             dashed = push run, records pushed and waiting in consumer buffers.",
        ),
        bands: &[],
    }
    .write(&dir.join("buffer-vs-lag.png"), &dir.join("buffer-vs-lag.svg"))
}

fn drops_chart(cmp: &Comparison, dir: &Path) -> anyhow::Result<()> {
    let series: Vec<charts::Series> = cmp
        .push
        .groups
        .iter()
        .enumerate()
        .map(|(gi, g)| charts::Series {
            label: format!("push {}", g.id),
            points: group_series(&cmp.push, gi, |s| s.drops),
            color: Some(run_charts::group_slot(gi)),
            ..Default::default()
        })
        .collect();
    let title = format!("{}: records dropped on full push buffers (cumulative)", cmp.pull.plan.name);
    charts::LineChart {
        title: &title,
        x_label: "virtual time (s)",
        y_label: "records dropped",
        series: &series,
        markers: &run_charts::action_markers(&cmp.push),
        integer_y: true,
        empty_note: Some(
            "No records were dropped in the push run: no push buffer with the drop policy ever filled up.",
        ),
        legend_note: None,
        bands: &[],
    }
    .write(&dir.join("drops.png"), &dir.join("drops.svg"))
}

/// One group's per-sample value (seconds, value) from a run's group samples.
fn group_series(w: &World, group: usize, value: impl Fn(&GroupSample) -> u64) -> Vec<(f64, f64)> {
    w.rec
        .group_samples
        .iter()
        .filter(|s| s.group as usize == group)
        .map(|s| (s.time.as_secs_f64(), value(s) as f64))
        .collect()
}
