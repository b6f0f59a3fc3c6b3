//! A sweep's charts: each plotted figure against the first setting, one line per combination of
//! the other settings, the median over seeds with a marker on each swept value and the range
//! over seeds shaded around it.

use super::Manifest;
use super::RunRow;
use super::figures::{plot_paths, rows_of, spread};
use crate::report::charts::{SweepChart, SweepLine, SweepPoint};
use std::path::Path;

/// The file stem of a figure's chart: `plot-groups.billing.lag_records.max`.
pub fn stem(path: &str) -> String {
    let safe: String =
        path.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    format!("plot-{safe}")
}

/// Where the first setting's values go on the x axis: numbers (also with one shared unit, as
/// `10s, 20s, 45s`) at their values, words (eager, cooperative) at 0, 1, ...; each value a tick
/// labelled as given, so a setting of integers only ever gets integer ticks.
#[derive(Debug, PartialEq)]
pub struct XScale {
    pub ticks: Vec<(f64, String)>,
    /// The values are words, drawn evenly spaced in the order given.
    pub categorical: bool,
}

pub fn x_scale(values: &[String]) -> XScale {
    let unit = |v: &str| v.trim_start_matches(|c: char| c.is_ascii_digit() || "+-.eE".contains(c)).to_string();
    let shared = values.first().map(|v| unit(v)).filter(|u| values.iter().all(|v| unit(v) == *u));
    let number = |v: &str| {
        let u = shared.as_deref().unwrap_or("");
        v.strip_suffix(u).and_then(|n| n.parse::<f64>().ok()).filter(|x| x.is_finite())
    };
    let xs: Option<Vec<f64>> = values.iter().map(|v| number(v)).collect();
    let categorical = xs.is_none();
    let xs = xs.unwrap_or_else(|| (0..values.len()).map(|i| i as f64).collect());
    XScale { ticks: xs.into_iter().zip(values.iter().cloned()).collect(), categorical }
}

/// Whole-number y ticks when every value drawn is a whole number (counts of records, rebalances).
pub fn integer_y(lines: &[SweepLine]) -> bool {
    lines.iter().flat_map(|l| &l.points).all(|p| [p.median, p.lo, p.hi].iter().all(|v| v.fract() == 0.0))
}

/// Writes one chart per plotted figure; returns their stems in order.
pub fn write_all(dir: &Path, m: &Manifest, rows: &[RunRow]) -> anyhow::Result<Vec<String>> {
    let Some(first) = m.settings.first() else { return Ok(Vec::new()) };
    let scale = x_scale(&first.values);
    let xs: Vec<f64> = scale.ticks.iter().map(|t| t.0).collect();
    let note = if m.seeds == 1 {
        "Line: the figure of the one seed; a marker on each swept value.".to_string()
    } else {
        format!(
            "Line: the median over {} seeds, a marker on each swept value. Shaded: from the smallest to the largest of the seeds.",
            m.seeds
        )
    };
    let mut stems = Vec::new();
    for path in plot_paths(m, rows) {
        let lines = figure_lines(m, rows, &xs, &path);
        let title = format!("{}: {path} against {}", m.scenario, first.path);
        let s = stem(&path);
        SweepChart {
            title: &title,
            x_label: &first.path,
            y_label: y_label(&path).as_str(),
            ticks: &scale.ticks,
            lines: &lines,
            integer_y: integer_y(&lines),
            empty_note: "Every run reported 0 for this figure (or nothing at all).",
            legend_note: Some(&note),
        }
        .write(&dir.join(format!("{s}.png")), &dir.join(format!("{s}.svg")))?;
        stems.push(s);
    }
    Ok(stems)
}

/// Figure `path` at each value `xs` of the first setting: a line per combination of the other
/// settings (named by those of them with more than one value), the median over seeds and the range.
fn figure_lines(m: &Manifest, rows: &[RunRow], xs: &[f64], path: &str) -> Vec<SweepLine> {
    let per_first = m.combinations() / m.settings[0].values.len();
    let mut lines = Vec::new();
    for rest in 0..per_first {
        let label = m
            .values_of(rest)
            .iter()
            .zip(&m.settings)
            .skip(1)
            .filter(|(_, s)| s.values.len() > 1)
            .map(|(v, s)| format!("{}={v}", s.path.rsplit('.').next().unwrap_or(&s.path)))
            .collect::<Vec<_>>()
            .join(" ");
        let label = if label.is_empty() { "median".to_string() } else { label };
        let mut points = Vec::new();
        for (k, &x) in xs.iter().enumerate() {
            // Combination index: the first setting varies slowest.
            if let Some((lo, median, hi)) = spread(&rows_of(m, rows, k * per_first + rest), path) {
                points.push(SweepPoint { x, median, lo, hi });
            }
        }
        lines.push(SweepLine { label, color: rest, points });
    }
    lines
}

/// The figure's last two names: `lag_records.max` of `groups.billing.lag_records.max`.
fn y_label(path: &str) -> String {
    path.rsplit('.').take(2).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn integer_settings_get_a_tick_on_each_value_and_no_other() {
        let s = x_scale(&strings(&["100", "500", "1000"]));
        assert!(!s.categorical);
        assert_eq!(s.ticks, vec![(100.0, "100".into()), (500.0, "500".into()), (1000.0, "1000".into())]);
    }

    #[test]
    fn words_are_evenly_spaced_and_named_and_units_are_numbers() {
        let s = x_scale(&strings(&["eager", "cooperative"]));
        assert!(s.categorical);
        assert_eq!(s.ticks, vec![(0.0, "eager".into()), (1.0, "cooperative".into())]);
        let s = x_scale(&strings(&["10s", "20s", "45s"]));
        assert!(!s.categorical, "one shared unit: drawn at 10, 20, 45");
        assert_eq!(s.ticks[2], (45.0, "45s".into()));
        assert!(x_scale(&strings(&["500ms", "1s"])).categorical, "mixed units are not compared as numbers");
    }

    #[test]
    fn y_ticks_are_whole_only_when_every_value_is() {
        let line = |v: f64| SweepLine {
            points: vec![SweepPoint { x: 1.0, median: v, lo: 1.0, hi: 9.0 }],
            ..Default::default()
        };
        assert!(integer_y(&[line(4.0)]));
        assert!(!integer_y(&[line(4.0), line(4.5)]), "a median of two seeds may fall between");
    }
}
