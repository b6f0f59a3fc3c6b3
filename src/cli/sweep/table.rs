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
    header.extend(["seed", "expectations_passed", "expectations_failed", "failed_expectations"].map(String::from));
    header.extend(columns.iter().cloned());
    w.write_record(&header)?;
    for r in rows {
        let (c, _) = m.run_spec(r.run);
        let mut rec = m.values_of(c);
        let failed: Vec<&str> = r.failures.iter().map(|(e, _)| e.as_str()).collect();
        rec.extend([r.seed.to_string(), r.passed.to_string(), r.failed.to_string(), failed.join("; ")]);
        let map: std::collections::HashMap<&str, &Value> = r.figures.iter().map(|(k, v)| (k.as_str(), v)).collect();
        rec.extend(columns.iter().map(|c| cell(map.get(c.as_str()).copied())));
        w.write_record(&rec)?;
    }
    Ok(w.into_inner()?)
}

/// A figure as the table shows it: whole numbers from 100 up, thousands grouped with a narrow
/// no-break space (`32 078`), three significant digits below (`90.6`, `5.2`, `0.0123`).
pub fn readable(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let r = x;
    if r.abs() >= 100.0 || r.fract() == 0.0 {
        let digits = format!("{}", r.abs().round() as u64);
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push('\u{202f}');
            }
            out.push(ch);
        }
        return if r < 0.0 && out != "0" { format!("-{out}") } else { out };
    }
    // Decimals for three significant digits, at most 6.
    let mut decimals = 0usize;
    let mut scale = r.abs();
    while scale < 100.0 && decimals < 6 {
        scale *= 10.0;
        decimals += 1;
    }
    let s = format!("{r:.decimals$}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `32 078 (31 927–32 228)`: the median over seeds, then the range when the seeds differ.
pub fn spread_cell(lo: f64, med: f64, hi: f64) -> String {
    if lo == hi {
        return readable(med);
    }
    let sep = if lo < 0.0 { " to " } else { "–" };
    format!("{} ({}{sep}{})", readable(med), readable(lo), readable(hi))
}

/// The expectations that failed in any run, in the order first seen: `E1`, `E2`, ...
fn failed_expectations(rows: &[RunRow]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (e, _) in rows.iter().flat_map(|r| &r.failures) {
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    out
}

/// A combination's failures: `E2 failed in 3/3: measured 6 (4–6)` per expectation that failed.
fn failures_cell(of: &[&RunRow], names: &[String]) -> String {
    let mut parts = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let measured: Vec<&Value> =
            of.iter().flat_map(|r| &r.failures).filter(|(e, _)| e == name).map(|(_, m)| m).collect();
        if measured.is_empty() {
            continue;
        }
        let nums: Option<Vec<f64>> = measured.iter().map(|m| m.as_f64()).collect();
        let shown = match nums {
            Some(mut xs) => {
                xs.sort_by(f64::total_cmp);
                let n = xs.len();
                let med = if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 };
                spread_cell(xs[0], med, xs[n - 1])
            }
            None => {
                let mut words: Vec<String> = measured.iter().map(|m| cell(Some(m))).collect();
                words.dedup();
                words.join(", ")
            }
        };
        parts.push(format!("E{} failed in {}/{}: measured {shown}", i + 1, measured.len(), of.len()));
    }
    if parts.is_empty() { "-".into() } else { parts.join("; ") }
}

pub fn markdown(m: &Manifest, rows: &[RunRow]) -> String {
    let plots = plot_paths(m, rows);
    let failing = failed_expectations(rows);
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
    let _ = writeln!(out, "Each cell: the median over seeds, then (when the seeds differ) the smallest–largest.\n");
    let mut header: Vec<String> = m.settings.iter().map(|s| s.path.clone()).collect();
    header.push("runs passing every expectation".into());
    if !failing.is_empty() {
        header.push("failed expectations (see below)".into());
    }
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
        if !failing.is_empty() {
            line.push(failures_cell(&of, &failing));
        }
        for p in &plots {
            line.push(spread(&of, p).map_or_else(|| "-".into(), |(lo, med, hi)| spread_cell(lo, med, hi)));
        }
        let _ = writeln!(out, "| {} |", line.join(" | "));
    }
    if !failing.is_empty() {
        out.push_str("\nExpectations that failed (from the scenario's `expect:`):\n\n");
        for (i, e) in failing.iter().enumerate() {
            let _ = writeln!(out, "- E{}: {e}", i + 1);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_show_the_median_then_the_range_readably() {
        assert_eq!(spread_cell(31927.0, 32077.5, 32228.0), "32\u{202f}078 (31\u{202f}927–32\u{202f}228)");
        assert_eq!(spread_cell(53.007, 90.576, 166.207), "90.6 (53–166)");
        assert_eq!(spread_cell(5.0, 5.0, 5.0), "5");
        assert_eq!(readable(0.012345), "0.0123");
        assert_eq!(readable(5.202), "5.2");
        assert_eq!(readable(1_234_567.0), "1\u{202f}234\u{202f}567");
        assert_eq!(spread_cell(-3.0, 1.0, 4.0), "1 (-3 to 4)");
    }

    #[test]
    fn failed_expectations_are_named_with_what_was_measured() {
        let row = |run, failures: Vec<(&str, Value)>| RunRow {
            run,
            seed: 0,
            passed: 2 - failures.len(),
            failed: failures.len(),
            figures: vec![],
            failures: failures.into_iter().map(|(e, v)| (e.to_string(), v)).collect(),
        };
        let rows = [
            row(0, vec![("group billing: revoked_partitions = 12", 6.into())]),
            row(
                1,
                vec![
                    ("group billing: revoked_partitions = 12", 4.into()),
                    ("group billing consumer extra: state_at_end = active", "joining".into()),
                ],
            ),
            row(2, vec![]),
        ];
        let names = failed_expectations(&rows);
        assert_eq!(names.len(), 2);
        let of: Vec<&RunRow> = rows.iter().collect();
        assert_eq!(
            failures_cell(&of, &names),
            "E1 failed in 2/3: measured 5 (4–6); E2 failed in 1/3: measured joining"
        );
        assert_eq!(failures_cell(&of[2..], &names), "-");
    }
}
