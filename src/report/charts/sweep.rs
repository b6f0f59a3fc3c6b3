//! A sweep's chart: a figure against the swept values of one setting. Each line is the median over
//! seeds with a point marker on every swept value; the range (smallest to largest) is a shaded band
//! in the line's colour, not more lines. Ticks sit on the swept values themselves, labelled as
//! given, so an integer setting (consumers, max_poll_records) never gets a tick at 2.5.

use super::axis::{Axis, value_axis_with};
use super::frame::{
    LegendEntry, Plot, Swatch, axis_tick_width, draw_legend, draw_legend_note, draw_title, empty_scene, left_margin,
    legend_entry, legend_width, patterned_line, title_height,
};
use super::render::{Rgb, Scene, TICK_SIZE, WHITE_BG, faded, palette, text_width};
use std::path::Path;

const WIDTH: i32 = 1200;
const HEIGHT: i32 = 600;

/// One swept value's figure: the median over seeds and the range.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SweepPoint {
    pub x: f64,
    pub median: f64,
    pub lo: f64,
    pub hi: f64,
}

/// One line: a combination of the other settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SweepLine {
    pub label: String,
    /// Palette slot.
    pub color: usize,
    /// In the order of the swept values.
    pub points: Vec<SweepPoint>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SweepChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    /// The swept values: where each sits on the x axis and its label.
    pub ticks: &'a [(f64, String)],
    pub lines: &'a [SweepLine],
    /// Whole-number y ticks (the figure counts things).
    pub integer_y: bool,
    /// Drawn instead of axes when every value is 0 (or there is none).
    pub empty_note: &'a str,
    pub legend_note: Option<&'a str>,
}

impl SweepChart<'_> {
    /// Writes the chart as a PNG and an SVG file.
    pub fn write(&self, png: &Path, svg: &Path) -> anyhow::Result<()> {
        super::render::ensure_font()?;
        super::render::write_files(&self.scene(), png, svg)
    }

    fn scene(&self) -> Scene {
        let pts = || self.lines.iter().flat_map(|l| l.points.iter()).filter(|p| p.x.is_finite());
        let (lo, hi) = pts().fold((0.0f64, 0.0f64), |(a, b), p| (a.min(finite(p.lo)), b.max(finite(p.hi))));
        if pts().next().is_none() || (lo == 0.0 && hi == 0.0) {
            return empty_scene(WIDTH as u32, HEIGHT as u32, self.title, self.empty_note);
        }
        let y = value_axis_with(lo, hi, 6, 0.06, self.integer_y);
        let entries = legend(self.lines);
        let legend_w = legend_width(&entries).max(if self.legend_note.is_some() { 200 } else { 0 });
        let left = left_margin(axis_tick_width(&y), !self.y_label.trim().is_empty());
        let right = WIDTH - 24 - legend_w;
        let x = x_axis(self.ticks, right - left);
        let top = title_height(self.title) + 8;
        let bottom = HEIGHT - if self.x_label.trim().is_empty() { 36 } else { 58 };
        let plot = Plot { left, top, right, bottom, x, y };
        let mut scene = Scene::new(WIDTH as u32, HEIGHT as u32);
        for l in self.lines {
            draw_band(&mut scene, &plot, l);
        }
        plot.draw_y_grid(&mut scene);
        plot.draw_x_grid(&mut scene, true);
        for (k, l) in self.lines.iter().enumerate() {
            draw_line(&mut scene, &plot, l, entries[k].pattern);
        }
        for (k, l) in self.lines.iter().enumerate() {
            for p in l.points.iter().filter(|p| p.median.is_finite()) {
                marker(&mut scene, (plot.px(p.x), plot.py(p.median)), k, palette(l.color));
            }
        }
        plot.draw_frame(&mut scene);
        let legend_bottom = if self.legend_note.is_some() { HEIGHT - 110 } else { HEIGHT - 8 };
        let note_top = draw_legend(&mut scene, right + 8, top, legend_bottom, &entries, Swatch::Line);
        let rows = ((legend_bottom - top) / 19).max(1) as usize;
        for (k, e) in entries.iter().enumerate().take(if entries.len() > rows { rows - 1 } else { rows }) {
            marker(&mut scene, (right + 8 + 16 + 11, top + 10 + k as i32 * 19), k, e.color);
        }
        if let Some(note) = self.legend_note {
            draw_legend_note(&mut scene, right + 8, note_top, legend_w - 20, note);
        }
        draw_title(&mut scene, self.title);
        plot.draw_x_label(&mut scene, self.x_label);
        plot.draw_y_label(&mut scene, self.y_label);
        scene
    }
}

fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// One entry per line; a line whose medians equal an earlier line's says so and is dashed.
fn legend(lines: &[SweepLine]) -> Vec<LegendEntry> {
    lines
        .iter()
        .enumerate()
        .map(|(k, l)| {
            let same = lines[..k]
                .iter()
                .find(|o| o.points.iter().map(|p| (p.x, p.median)).eq(l.points.iter().map(|p| (p.x, p.median))));
            let label = match same {
                Some(o) => format!("{} (same as {})", l.label, o.label),
                None => l.label.clone(),
            };
            LegendEntry { pattern: u8::from(same.is_some()), ..legend_entry(&label, palette(l.color)) }
        })
        .collect()
}

/// The x axis over the swept values, a margin each side so the end markers clear the frame.
fn x_axis(ticks: &[(f64, String)], width: i32) -> Axis {
    let xs = || ticks.iter().map(|t| t.0).filter(|x| x.is_finite());
    let (lo, hi) = xs().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let pad = if hi > lo { (hi - lo) * 0.05 } else { 0.5 };
    let (lo, hi) = (lo - pad, hi + pad);
    let at = |x: f64| ((x - lo) / (hi - lo) * f64::from(width)).round() as i32;
    Axis { lo, hi, ticks: fitted_ticks(ticks, at) }
}

/// The swept values' ticks that fit side by side: all of them when their labels do not overlap,
/// else every k-th (the smallest k that fits), always from the first. Positions are the values
/// themselves, so an integer setting only ever gets integer ticks.
pub(super) fn fitted_ticks(ticks: &[(f64, String)], at: impl Fn(f64) -> i32) -> Vec<(f64, String)> {
    let ticks: Vec<&(f64, String)> = ticks.iter().filter(|t| t.0.is_finite()).collect();
    for k in 1..=ticks.len().max(1) {
        let kept: Vec<&(f64, String)> = ticks.iter().step_by(k).copied().collect();
        let fits = kept.windows(2).all(|w| {
            let room = (at(w[1].0) - at(w[0].0)).abs();
            room >= (text_width(&w[0].1, TICK_SIZE) + text_width(&w[1].1, TICK_SIZE)) / 2 + 10
        });
        if fits {
            return kept.into_iter().cloned().collect();
        }
    }
    ticks.first().map(|t| vec![(*t).clone()]).unwrap_or_default()
}

/// The range of `l` as a band in a pale tint of its colour, column by column between its points.
fn draw_band(scene: &mut Scene, plot: &Plot, l: &SweepLine) {
    let color = faded(palette(l.color), 0.22);
    let pts: Vec<(i32, i32, i32)> = l
        .points
        .iter()
        .filter(|p| p.x.is_finite() && p.lo.is_finite() && p.hi.is_finite() && p.hi >= p.lo)
        .map(|p| (plot.px(p.x), plot.py(p.hi), plot.py(p.lo)))
        .collect();
    if let [(x, top, bottom)] = pts.as_slice() {
        scene.fill_rect(x - 6, *top, x + 6, *bottom, color);
    }
    let mut run: Option<(i32, i32, i32, i32)> = None;
    for w in pts.windows(2) {
        let ((x0, t0, b0), (x1, t1, b1)) = (w[0], w[1]);
        for x in x0..=x1 {
            let f = if x1 > x0 { f64::from(x - x0) / f64::from(x1 - x0) } else { 0.0 };
            let lerp = |a: i32, b: i32| (f64::from(a) + f * f64::from(b - a)).round() as i32;
            let (t, b) = (lerp(t0, t1), lerp(b0, b1));
            run = match run {
                Some((s, e, rt, rb)) if rt == t && rb == b && e + 1 >= x => Some((s, x, rt, rb)),
                Some((s, e, rt, rb)) => {
                    scene.fill_rect(s, rt, e + 1, rb, color);
                    Some((x, x, t, b))
                }
                None => Some((x, x, t, b)),
            };
        }
    }
    if let Some((s, e, t, b)) = run {
        scene.fill_rect(s, t, e + 1, b, color);
    }
}

fn draw_line(scene: &mut Scene, plot: &Plot, l: &SweepLine, pattern: u8) {
    let pts: Vec<(i32, i32)> = l
        .points
        .iter()
        .filter(|p| p.x.is_finite() && p.median.is_finite())
        .map(|p| (plot.px(p.x), plot.py(p.median)))
        .collect();
    patterned_line(scene, pts, palette(l.color), 2, pattern);
}

/// The point marker of line `k`: a filled square, an open square, an open diamond, a cross, in
/// turn, so lines that meet still show each marker.
fn marker(scene: &mut Scene, (x, y): (i32, i32), k: usize, color: Rgb) {
    match k % 4 {
        0 => {
            scene.fill_rect(x - 5, y - 5, x + 5, y + 5, WHITE_BG);
            scene.fill_rect(x - 4, y - 4, x + 4, y + 4, color);
        }
        1 => {
            scene.outline_rect(x - 6, y - 6, x + 6, y + 6, color);
            scene.outline_rect(x - 7, y - 7, x + 7, y + 7, color);
        }
        2 => scene.path(vec![(x, y - 9), (x + 9, y), (x, y + 9), (x - 9, y), (x, y - 9)], color, 2),
        _ => {
            scene.path(vec![(x - 6, y - 6), (x + 6, y + 6)], color, 2);
            scene.path(vec![(x - 6, y + 6), (x + 6, y - 6)], color, 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticks(values: &[i64]) -> Vec<(f64, String)> {
        values.iter().map(|&v| (v as f64, v.to_string())).collect()
    }

    #[test]
    fn every_swept_value_is_a_tick_when_they_fit() {
        let t = ticks(&[100, 500, 1000]);
        assert_eq!(fitted_ticks(&t, |x| (x / 1000.0 * 900.0) as i32), t);
    }

    #[test]
    fn crowded_values_keep_every_kth_from_the_first_and_stay_swept_values() {
        let t = ticks(&(1..=200).collect::<Vec<_>>());
        let kept = fitted_ticks(&t, |x| (x * 4.0) as i32);
        assert!(kept.len() < 200 && kept.len() > 5, "{kept:?}");
        assert_eq!(kept[0].1, "1");
        let step = kept[1].0 - kept[0].0;
        assert!(kept.windows(2).all(|w| w[1].0 - w[0].0 == step) && step.fract() == 0.0);
    }
}
