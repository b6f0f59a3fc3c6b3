//! Pieces shared by the charts: the plot rectangle and its value mapping,
//! axes with grid and tick labels, the legend and the marker lines.

use plotters::style::text_anchor::HPos;

use super::Marker;
use super::axis::{Axis, exact_axis};
use super::render::{
    AXIS, GRID, LABEL_SIZE, LEGEND_SIZE, MARKER, MARKER_SIZE, MUTED_TEXT, Rgb, Scene, TEXT, TICK_SIZE, TITLE_SIZE,
    WHITE_BG, fit_text, text_width,
};

/// The plot rectangle (pixels, inclusive) and the value ranges it shows.
#[derive(Debug, Clone)]
pub(super) struct Plot {
    pub left: i32,
    pub top: i32,
    pub right: i32,
    pub bottom: i32,
    pub x: Axis,
    pub y: Axis,
}

fn map(v: f64, lo: f64, hi: f64, p0: i32, p1: i32) -> i32 {
    let p = p0 as f64 + (v - lo) / (hi - lo) * (p1 - p0) as f64;
    if p.is_finite() { p.round().clamp(-1e6, 1e6) as i32 } else { p0 }
}

impl Plot {
    pub fn px(&self, v: f64) -> i32 {
        map(v, self.x.lo, self.x.hi, self.left, self.right)
    }

    pub fn py(&self, v: f64) -> i32 {
        map(v, self.y.lo, self.y.hi, self.bottom, self.top)
    }

    /// Horizontal grid lines with the y tick labels left of the plot.
    pub fn draw_y_grid(&self, scene: &mut Scene) {
        for (v, label) in &self.y.ticks {
            let y = self.py(*v);
            scene.line((self.left, y), (self.right, y), GRID);
            scene.line((self.left - 4, y), (self.left, y), AXIS);
            scene.text(self.left - 7, y, label, TICK_SIZE, TEXT, HPos::Right);
        }
    }

    /// Vertical grid lines (if `grid`) with the x tick labels under the plot.
    pub fn draw_x_grid(&self, scene: &mut Scene, grid: bool) {
        for (v, label) in &self.x.ticks {
            let x = self.px(*v);
            if grid {
                scene.line((x, self.top), (x, self.bottom), GRID);
            }
            scene.line((x, self.bottom), (x, self.bottom + 4), AXIS);
            scene.text(x, self.bottom + 15, label, TICK_SIZE, TEXT, HPos::Center);
        }
    }

    pub fn draw_frame(&self, scene: &mut Scene) {
        scene.outline_rect(self.left, self.top, self.right, self.bottom, AXIS);
    }

    pub fn draw_x_label(&self, scene: &mut Scene, label: &str) {
        let w = self.right - self.left;
        let label = fit_text(label, LABEL_SIZE, w, 120);
        scene.text((self.left + self.right) / 2, self.bottom + 38, &label, LABEL_SIZE, TEXT, HPos::Center);
    }

    pub fn draw_y_label(&self, scene: &mut Scene, label: &str) {
        let h = self.bottom - self.top;
        let label = fit_text(label, LABEL_SIZE, h, 120);
        scene.vertical_text(16, (self.top + self.bottom) / 2, &label, LABEL_SIZE, TEXT);
    }

    /// A grey note in the middle of an empty plot.
    pub fn draw_no_data(&self, scene: &mut Scene) {
        let (x, y) = ((self.left + self.right) / 2, (self.top + self.bottom) / 2);
        let w = text_width("no data", LABEL_SIZE) / 2 + 6;
        scene.fill_rect(x - w, y - 10, x + w, y + 10, WHITE_BG);
        scene.text(x, y, "no data", LABEL_SIZE, MUTED_TEXT, HPos::Center);
    }
}

/// Widest label among `labels` at `size`.
pub(super) fn max_text_width<'a>(labels: impl IntoIterator<Item = &'a str>, size: f64) -> i32 {
    labels.into_iter().map(|l| text_width(l, size)).max().unwrap_or(0)
}

/// A time-like axis over exactly `[lo, hi]` whose tick labels do not overlap
/// when drawn `width` pixels wide.
pub(super) fn fitted_x_axis(lo: f64, hi: f64, width: i32) -> Axis {
    let mut target = (width / 100).clamp(2, 14) as usize;
    loop {
        let axis = exact_axis(lo, hi, target);
        let widest = max_text_width(axis.ticks.iter().map(|(_, s)| s.as_str()), TICK_SIZE);
        let n = axis.ticks.len().max(2) as i32;
        let spacing = width / (n - 1).max(1);
        if target <= 2 || widest + 14 <= spacing {
            return axis;
        }
        target -= 1;
    }
}

/// Title centred at the top of the image.
pub(super) fn draw_title(scene: &mut Scene, title: &str) {
    let title = fit_text(title, TITLE_SIZE, scene.width as i32 - 40, 200);
    scene.text(scene.width as i32 / 2, 22, &title, TITLE_SIZE, TEXT, HPos::Center);
}

/// Height taken by the title band.
pub(super) fn title_height(title: &str) -> i32 {
    if title.trim().is_empty() { 16 } else { 46 }
}

#[derive(Debug, Clone)]
pub(super) struct LegendEntry {
    pub label: String,
    pub color: Rgb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Swatch {
    Line,
    Box,
}

const LEGEND_ROW: i32 = 19;
const LEGEND_MAX_LABEL: i32 = 220;

pub(super) fn legend_entry(label: &str, color: Rgb) -> LegendEntry {
    let label = if label.trim().is_empty() { "(unnamed)" } else { label };
    LegendEntry { label: fit_text(label, LEGEND_SIZE, LEGEND_MAX_LABEL, 40), color }
}

/// Width the legend column needs right of the plot (0 without entries).
pub(super) fn legend_width(entries: &[LegendEntry]) -> i32 {
    if entries.is_empty() {
        return 0;
    }
    let widest = max_text_width(entries.iter().map(|e| e.label.as_str()), LEGEND_SIZE);
    16 + 22 + 6 + widest.max(text_width("+000 more", LEGEND_SIZE))
}

/// Height a legend of `n` entries needs.
pub(super) fn legend_height(n: usize) -> i32 {
    (n.min(100_000) as i32) * LEGEND_ROW + 8
}

/// The legend as a column starting at (`x`, `top`), cut with "+N more" where
/// it would pass `bottom`.
pub(super) fn draw_legend(scene: &mut Scene, x: i32, top: i32, bottom: i32, entries: &[LegendEntry], swatch: Swatch) {
    let x = x + 16;
    let room = ((bottom - top) / LEGEND_ROW).max(1) as usize;
    let shown = if entries.len() > room { room.saturating_sub(1) } else { entries.len() };
    for (i, e) in entries.iter().take(shown).enumerate() {
        let y = top + 10 + i as i32 * LEGEND_ROW;
        match swatch {
            Swatch::Line => scene.path(vec![(x, y), (x + 22, y)], e.color, 3),
            Swatch::Box => scene.fill_rect(x + 4, y - 6, x + 18, y + 6, e.color),
        }
        scene.text(x + 28, y, &e.label, LEGEND_SIZE, TEXT, HPos::Left);
    }
    if shown < entries.len() {
        let y = top + 10 + shown as i32 * LEGEND_ROW;
        let more = format!("+{} more", entries.len() - shown);
        scene.text(x + 28, y, &more, LEGEND_SIZE, MUTED_TEXT, HPos::Left);
    }
}

/// Marker lines and their staggered labels, laid out against an x axis.
#[derive(Debug, Clone, Default)]
pub(super) struct MarkerLayout {
    rows: usize,
    lines: Vec<i32>,
    /// (line x, label left x, label width, row, text)
    labels: Vec<(i32, i32, i32, usize, String)>,
}

const MARKER_ROW: i32 = 16;
const MAX_DASHES: i64 = 30_000;
const MARKER_MAX_ROWS: usize = 5;
const MARKER_LABEL_CHARS: usize = 26;
const MARKER_LABEL_WIDTH: i32 = 190;

impl MarkerLayout {
    /// Lays markers out for an x axis drawn from `left` to `right`; labels may
    /// run on up to `limit` (the right edge of free space).
    pub fn new(markers: &[Marker], x: &Axis, left: i32, right: i32, limit: i32) -> Self {
        let span = x.hi - x.lo;
        let eps = span.abs() * 1e-9;
        let mut placed: Vec<(i32, String)> = markers
            .iter()
            .filter(|m| m.x.is_finite() && m.x >= x.lo - eps && m.x <= x.hi + eps)
            .map(|m| {
                let px = map(m.x, x.lo, x.hi, left, right).clamp(left, right);
                (px, m.label.trim().to_string())
            })
            .collect();
        placed.sort_by_key(|(px, _)| *px); // stable: ties keep caller order

        let mut out = MarkerLayout::default();
        let mut row_ends: Vec<i32> = Vec::new();
        let mut i = 0;
        while i < placed.len() {
            let px = placed[i].0;
            let mut j = i;
            // Distinct labels at this pixel, in caller order, with counts.
            let mut distinct: Vec<(&str, usize)> = Vec::new();
            let mut count = 0;
            while j < placed.len() && placed[j].0 == px {
                count += 1;
                let l = placed[j].1.as_str();
                if !l.is_empty() {
                    match distinct.iter_mut().find(|(d, _)| *d == l) {
                        Some((_, n)) => *n += 1,
                        None => distinct.push((l, 1)),
                    }
                }
                j += 1;
            }
            i = j;
            out.lines.push(px);
            if distinct.is_empty() {
                continue;
            }
            let with_count = |(l, n): &(&str, usize)| {
                if *n > 1 { format!("{l} ×{n}") } else { l.to_string() }
            };
            let joined = distinct.iter().map(with_count).collect::<Vec<_>>().join(", ");
            let mut text = fit_text(&joined, MARKER_SIZE, MARKER_LABEL_WIDTH, MARKER_LABEL_CHARS);
            if text != joined && distinct.len() > 1 {
                // Too long: the first label and how many more share the line.
                let more = format!(" +{}", count - distinct[0].1);
                let room = MARKER_LABEL_WIDTH - text_width(&more, MARKER_SIZE);
                let first = fit_text(&with_count(&distinct[0]), MARKER_SIZE, room, MARKER_LABEL_CHARS);
                text = format!("{first}{more}");
            }
            if text.is_empty() {
                continue;
            }
            let w = text_width(&text, MARKER_SIZE);
            let start = (px + 3).min(limit - w).max(left.min(px));
            let row = row_ends.iter().position(|end| *end + 8 <= start);
            let row = match row {
                Some(r) => r,
                None if row_ends.len() < MARKER_MAX_ROWS => {
                    row_ends.push(i32::MIN);
                    row_ends.len() - 1
                }
                None => continue, // no room: the line stays, unlabelled
            };
            row_ends[row] = start + w;
            out.labels.push((px, start, w, row, text));
        }
        out.rows = row_ends.len();
        out
    }

    /// Height of the label band above the plot.
    pub fn band_height(&self) -> i32 {
        if self.rows == 0 { 0 } else { self.rows as i32 * MARKER_ROW + 6 }
    }

    /// Dashed lines over the plot (call before the data).
    pub fn draw_lines(&self, scene: &mut Scene, band_top: i32, plot: &Plot) {
        let tops: Vec<(i32, i32)> = self
            .lines
            .iter()
            .map(|&px| {
                let top = self
                    .labels
                    .iter()
                    .filter(|l| l.0 == px)
                    .map(|l| band_top + l.3 as i32 * MARKER_ROW + 1)
                    .min()
                    .unwrap_or(plot.top);
                (px, top)
            })
            .collect();
        // Longer dashes when there is a lot of dashed length, so hundreds of
        // markers on a tall chart stay cheap to draw and the SVG stays small.
        let total: i64 = tops.iter().map(|&(_, t)| i64::from(plot.bottom - t)).sum();
        let period = (total / MAX_DASHES + 1).clamp(8, i64::from(i32::MAX)) as i32;
        for (px, top) in tops {
            scene.vdash(px, top, plot.bottom, MARKER, period);
        }
    }

    /// Labels in the band (call after everything that may cross them).
    pub fn draw_labels(&self, scene: &mut Scene, band_top: i32) {
        for (_, start, w, row, text) in &self.labels {
            let y = band_top + *row as i32 * MARKER_ROW + MARKER_ROW / 2 + 1;
            scene.fill_rect(start - 2, y - MARKER_ROW / 2 + 1, start + w + 2, y + MARKER_ROW / 2 - 1, WHITE_BG);
            scene.text(*start, y, text, MARKER_SIZE, MUTED_TEXT, HPos::Left);
        }
    }
}

/// Left margin for a plot whose y tick labels are `tick_width` wide.
pub(super) fn left_margin(tick_width: i32, has_y_label: bool) -> i32 {
    let label = if has_y_label { 30 } else { 8 };
    label + tick_width + 10
}

pub(super) fn axis_tick_width(axis: &Axis) -> i32 {
    max_text_width(axis.ticks.iter().map(|(_, s)| s.as_str()), TICK_SIZE)
}
