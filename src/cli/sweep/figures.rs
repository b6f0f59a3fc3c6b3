//! Which figures a sweep tabulates and charts, and their spread over a combination's seeds:
//! what the table and the charts both read.

use super::{Manifest, RunRow};

/// Default figures to tabulate and chart for each group when `--plot` is not given. The records
/// unread at the end sit beside the latency, which counts processed records only: a setting that
/// leaves partitions unread shows a low p99 for the few it processed.
pub const DEFAULT_PLOTS: [&str; 5] =
    ["lag_records.max", "latency_ms.p99", "backlog_records.final", "duplicates", "rebalance_pause_ms.total"];

/// `lag_records.max` means that figure of every group; a path starting with `groups.` (or any
/// run-level figure) is taken as it is.
pub fn plot_paths(m: &Manifest, rows: &[RunRow]) -> Vec<String> {
    let groups = group_ids(rows);
    let wanted: Vec<String> =
        if m.plots.is_empty() { DEFAULT_PLOTS.iter().map(|s| s.to_string()).collect() } else { m.plots.clone() };
    let exists = |p: &str| rows.first().is_some_and(|r| r.figures.iter().any(|(k, _)| k == p));
    let mut out = Vec::new();
    for w in wanted {
        if exists(&w) {
            out.push(w);
            continue;
        }
        for g in &groups {
            let p = format!("groups.{g}.{w}");
            if exists(&p) {
                out.push(p);
            }
        }
    }
    out
}

fn group_ids(rows: &[RunRow]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for (k, _) in rows.first().map(|r| r.figures.as_slice()).unwrap_or_default() {
        if let Some(rest) = k.strip_prefix("groups.")
            && let Some(id) = rest.strip_suffix(".records_processed")
            && !id.contains(".consumers.")
            && !ids.iter().any(|x| x == id)
        {
            ids.push(id.to_string());
        }
    }
    ids
}

/// (min, median, max) of a figure over a combination's seeds, skipping runs where it is empty.
pub fn spread(rows: &[&RunRow], path: &str) -> Option<(f64, f64, f64)> {
    let mut xs: Vec<f64> =
        rows.iter().filter_map(|r| r.figures.iter().find(|(k, _)| k == path).and_then(|(_, v)| v.as_f64())).collect();
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let median = if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 };
    Some((xs[0], median, xs[n - 1]))
}

pub fn rows_of<'a>(m: &Manifest, rows: &'a [RunRow], c: usize) -> Vec<&'a RunRow> {
    rows.iter().filter(|r| m.run_spec(r.run).0 == c).collect()
}
