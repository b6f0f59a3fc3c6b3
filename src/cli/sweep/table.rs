//! What a sweep writes, from its manifest and rows alone (so a merged set of shards writes the
//! same bytes as the whole sweep): sweep.json, sweep.csv, sweep.md and the figure charts.

use super::figures::{plot_paths, rows_of, spread};
use super::{Manifest, RunRow};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

pub fn csv(m: &Manifest, rows: &[RunRow]) -> anyhow::Result<Vec<u8>> {
    let mut columns: Vec<String> = Vec::new();
    let mut known = std::collections::BTreeSet::new();
    for r in rows {
        for (k, _) in &r.figures {
            if known.insert(k.clone()) {
                columns.push(k.clone());
            }
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = m.settings.iter().map(|s| s.path.clone()).collect();
    header.extend(["seed", "expectations_passed", "expectations_failed"].map(String::from));
    header.extend(columns.iter().cloned());
    w.write_record(&header)?;
    for r in rows {
        let (c, _) = m.run_spec(r.run);
        let mut rec = m.values_of(c);
        rec.extend([r.seed.to_string(), r.passed.to_string(), r.failed.to_string()]);
        let map: std::collections::HashMap<&str, &Value> = r.figures.iter().map(|(k, v)| (k.as_str(), v)).collect();
        rec.extend(columns.iter().map(|c| cell(map.get(c.as_str()).copied())));
        w.write_record(&rec)?;
    }
    Ok(w.into_inner()?)
}

fn num(x: f64) -> String {
    let r = crate::report::num::round3(x);
    if r.fract() == 0.0 && r.abs() < 1e15 { format!("{}", r as i64) } else { format!("{r}") }
}

pub fn markdown(m: &Manifest, rows: &[RunRow]) -> String {
    let plots = plot_paths(m, rows);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Sweep of `{}`: {} runs ({} setting combinations x {} seeds, seeds {}..{})\n",
        m.scenario,
        m.runs(),
        m.combinations(),
        m.seeds,
        m.base_seed,
        m.base_seed.wrapping_add(u64::from(m.seeds).saturating_sub(1))
    );
    let _ = writeln!(out, "Medians over seeds, with the range (min - max) in brackets.\n");
    let mut header: Vec<String> = m.settings.iter().map(|s| s.path.clone()).collect();
    header.push("runs passing every expectation".into());
    header.extend(plots.iter().cloned());
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for c in 0..m.combinations() {
        let of = rows_of(m, rows, c);
        let mut line = m.values_of(c);
        let expecting = of.iter().any(|r| r.passed + r.failed > 0);
        line.push(if expecting {
            format!("{}/{}", of.iter().filter(|r| r.failed == 0).count(), of.len())
        } else {
            "no expectations".into()
        });
        for p in &plots {
            line.push(match spread(&of, p) {
                Some((lo, med, hi)) if lo == hi => num(med),
                Some((lo, med, hi)) => format!("{} ({} - {})", num(med), num(lo), num(hi)),
                None => "-".into(),
            });
        }
        let _ = writeln!(out, "| {} |", line.join(" | "));
    }
    out
}

/// Writes sweep.json, sweep.csv, sweep.md and a chart per plotted figure into `dir`.
pub fn write_all(dir: &Path, m: &Manifest, rows: &[RunRow]) -> anyhow::Result<()> {
    let mut manifest = serde_json::to_string_pretty(&m.to_json())?;
    manifest.push('\n');
    std::fs::write(dir.join("sweep.json"), manifest)?;
    std::fs::write(dir.join("sweep.csv"), csv(m, rows)?)?;
    let md = markdown(m, rows);
    std::fs::write(dir.join("sweep.md"), &md)?;
    let stems = super::chart::write_all(dir, m, rows)?;
    let names: Vec<&str> = stems.iter().map(String::as_str).collect();
    let charts = crate::report::page::read_charts(dir, &names)?;
    let what = format!(
        "{} runs: {} setting combination{} x {} seed{}, each run single-threaded and deterministic.",
        m.runs(),
        m.combinations(),
        if m.combinations() == 1 { "" } else { "s" },
        m.seeds,
        if m.seeds == 1 { "" } else { "s" }
    );
    let page = crate::report::page::sweep_page(&m.scenario, &what, &m.scenario_text, &md, &charts);
    std::fs::write(dir.join("index.html"), page)?;
    Ok(())
}
