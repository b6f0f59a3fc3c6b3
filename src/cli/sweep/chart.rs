//! A sweep's charts: each plotted figure against the first setting, one line per combination of
//! the other settings, the median over seeds drawn thick with the min and max thin beside it.

use super::Manifest;
use super::RunRow;
use super::figures::{plot_paths, rows_of, spread};
use crate::report::charts::{LineChart, Series};
use std::path::Path;

/// The file stem of a figure's chart: `plot-groups.billing.lag_records.max`.
pub fn stem(path: &str) -> String {
    let safe: String =
        path.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    format!("plot-{safe}")
}

/// Writes one chart per plotted figure; returns their stems in order.
pub fn write_all(dir: &Path, m: &Manifest, rows: &[RunRow]) -> anyhow::Result<Vec<String>> {
    let Some(first) = m.settings.first() else { return Ok(Vec::new()) };
    // A numeric first setting is drawn at its values; words (eager, cooperative) at 0, 1, ...
    let xs: Option<Vec<f64>> = first.values.iter().map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite())).collect();
    let categorical = xs.is_none();
    let xs = xs.unwrap_or_else(|| (0..first.values.len()).map(|i| i as f64).collect());
    let mut stems = Vec::new();
    for path in plot_paths(m, rows) {
        let series = figure_series(m, rows, &xs, &path);
        let title = format!("{}: {path} against {}", m.scenario, first.path);
        let x_label = if categorical {
            let names: Vec<String> = first.values.iter().enumerate().map(|(i, v)| format!("{i} = {v}")).collect();
            format!("{} ({})", first.path, names.join(", "))
        } else {
            first.path.clone()
        };
        let note = format!(
            "Thick: the median over {} seed{}; thin dotted: the smallest and largest.",
            m.seeds,
            if m.seeds == 1 { "" } else { "s" }
        );
        let s = stem(&path);
        LineChart {
            title: &title,
            x_label: &x_label,
            y_label: y_label(&path).as_str(),
            series: &series,
            markers: &[],
            integer_y: false,
            empty_note: Some("Every run reported 0 for this figure (or nothing at all)."),
            legend_note: Some(&note),
            bands: &[],
        }
        .write(&dir.join(format!("{s}.png")), &dir.join(format!("{s}.svg")))?;
        stems.push(s);
    }
    Ok(stems)
}

/// Figure `path` at each value `xs` of the first setting: per combination of the other
/// settings, the median over seeds, then the min and the max (thin, dotted) in its colour.
fn figure_series(m: &Manifest, rows: &[RunRow], xs: &[f64], path: &str) -> Vec<Series> {
    let per_first = m.combinations() / m.settings[0].values.len();
    let mut series = Vec::new();
    for rest in 0..per_first {
        let label = m
            .values_of(rest)
            .iter()
            .zip(&m.settings)
            .skip(1)
            .map(|(v, s)| format!("{}={v}", s.path.rsplit('.').next().unwrap_or(&s.path)))
            .collect::<Vec<_>>()
            .join(" ");
        let label = if label.is_empty() { "median".to_string() } else { label };
        let (mut med, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new());
        for (k, &x) in xs.iter().enumerate() {
            // Combination index: the first setting varies slowest.
            if let Some((a, b, c)) = spread(&rows_of(m, rows, k * per_first + rest), path) {
                lo.push((x, a));
                med.push((x, b));
                hi.push((x, c));
            }
        }
        let color = Some(rest);
        series.push(Series { label: label.clone(), points: med, color, ..Default::default() });
        series.push(Series { label: format!("{label}: min"), points: lo, color, thin: true, dash: 2 });
        series.push(Series { label: format!("{label}: max"), points: hi, color, thin: true, dash: 2 });
    }
    series
}

/// The figure's last two names: `lag_records.max` of `groups.billing.lag_records.max`.
fn y_label(path: &str) -> String {
    path.rsplit('.').take(2).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(".")
}
