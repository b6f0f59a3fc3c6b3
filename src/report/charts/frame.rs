//! Pieces shared by the charts: the plot rectangle and its value mapping,
//! axes with grid and tick labels, the legend and the marker lines.

use plotters::style::text_anchor::HPos;

use super::Marker;
use super::axis::{Axis, exact_axis};
use super::render::{
    AXIS, GRID, LABEL_SIZE, LEGEND_SIZE, MARKER, MARKER_SIZE, MUTED_TEXT, Rgb, Scene, TEXT, TICK_SIZE, TITLE_SIZE,
    UNOWNED, WHITE_BG, dash_pattern, faded, fit_text, text_width,
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
    /// The label's second line, when it is too wide for one (empty: none). "(same as ...)"
    /// names the line it repeats: cut short, it would name nothing.
    pub label_cont: String,
    pub color: Rgb,
    /// Line pattern or box pattern (0 = solid; see `render::dash_pattern`).
    pub pattern: u8,
    /// A thin companion line (drawn 1 px wide).
    pub thin: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Swatch {
    Line,
    Box,
}

const LEGEND_ROW: i32 = 19;
const LEGEND_MAX_LABEL: i32 = 300;

/// A continuation line sits this much below its entry's first line.
const LEGEND_CONT: i32 = 15;

pub(super) fn legend_entry(label: &str, color: Rgb) -> LegendEntry {
    let label = if label.trim().is_empty() { "(unnamed)" } else { label };
    let (label, label_cont) = if text_width(label, LEGEND_SIZE) <= LEGEND_MAX_LABEL {
        (label.to_string(), String::new())
    } else {
        // Two lines at most, the second cut if it still does not fit.
        let mut lines = wrap(label, LEGEND_SIZE, LEGEND_MAX_LABEL).into_iter();
        let first = lines.next().unwrap_or_default();
        let rest: Vec<String> = lines.collect();
        (first, fit_text(&rest.join(" "), LEGEND_SIZE, LEGEND_MAX_LABEL, 60))
    };
    LegendEntry { label, label_cont, color, pattern: 0, thin: false }
}

/// The height of one legend entry.
fn entry_height(e: &LegendEntry) -> i32 {
    if e.label_cont.is_empty() { LEGEND_ROW } else { LEGEND_ROW + LEGEND_CONT }
}

/// Box pattern of a span whose owner is down (crashed or hung): a pale fill crossed by
/// diagonal stripes of the owner's colour, unlike any solid or white-barred box.
pub(super) const DOWN_PATTERN: u8 = 9;

/// Legend swatch of a partition waiting to be revoked: a grey owner crossed by dark vertical
/// stripes (on the chart: the owner's colour, stripes of the member the target names).
pub(super) const REVOKING_PATTERN: u8 = 10;
/// Legend swatch of a partition waiting for its new owner: unowned grey crossed by vertical
/// stripes (on the chart: of the member the target names).
pub(super) const AWAITING_PATTERN: u8 = 11;
/// The stripes of the handover legend swatches, standing for "the member the target names".
const HANDOVER_LEGEND_STRIPES: Rgb = Rgb(70, 70, 70);
const HANDOVER_LEGEND_OWNER: Rgb = Rgb(165, 165, 165);

/// Box swatch / span fill of pattern `p`: thin white lines across a coloured
/// box at a fixed spacing per pattern (hatching, never read as stacked
/// segments), so boxes of one colour with different patterns stay apart;
/// `DOWN_PATTERN`: diagonal stripes on a pale ground.
pub(super) fn patterned_box(scene: &mut Scene, x0: i32, y0: i32, x1: i32, y1: i32, color: Rgb, p: u8) {
    if p == REVOKING_PATTERN || p == AWAITING_PATTERN {
        let ground = if p == REVOKING_PATTERN { HANDOVER_LEGEND_OWNER } else { UNOWNED };
        scene.fill_rect(x0, y0, x1, y1, ground);
        vertical_stripes(scene, (x0, y0, x1, y1), HANDOVER_LEGEND_STRIPES);
        return;
    }
    if p == DOWN_PATTERN {
        scene.fill_rect(x0, y0, x1, y1, faded(color, 0.22));
        diagonal_stripes(scene, (x0, y0, x1, y1), color, 7);
        return;
    }
    scene.fill_rect(x0, y0, x1, y1, color);
    let spacing = match p {
        0 => return,
        1 => 8,
        2 => 5,
        _ => 3,
    };
    let mut y = y0 + spacing - 1;
    while y < y1 {
        scene.line((x0, y), (x1, y), WHITE_BG);
        y += spacing;
    }
}

/// Stripes rising to the right across the box `(x0, y0, x1, y1)`, 2 px wide, one every
/// `spacing` px (on x + y), clipped to the box.
/// Vertical stripes, 2 px wide every 6 px, aligned on the x axis so that adjacent boxes' stripes
/// line up: the mark of a partition between owners.
pub(super) fn vertical_stripes(scene: &mut Scene, (x0, y0, x1, y1): (i32, i32, i32, i32), color: Rgb) {
    let mut x = x0.div_euclid(6) * 6 + 4;
    while x <= x1 {
        if x + 1 >= x0 {
            scene.fill_rect(x.max(x0), y0, (x + 1).min(x1), y1, color);
        }
        x += 6;
    }
}

fn diagonal_stripes(scene: &mut Scene, (x0, y0, x1, y1): (i32, i32, i32, i32), color: Rgb, spacing: i32) {
    let first = (x0 + y0).div_euclid(spacing) * spacing;
    let mut c = first;
    while c <= x1 + y1 {
        for k in [c, c + 1] {
            let (xa, xb) = ((k - y1).max(x0), (k - y0).min(x1));
            if xa <= xb {
                scene.line((xa, k - xa), (xb, k - xb), color);
            }
        }
        c += spacing;
    }
}

/// A line swatch or data line with `pattern` (0 = solid) and phase.
pub(super) fn patterned_line(scene: &mut Scene, pts: Vec<(i32, i32)>, color: Rgb, width: u32, pattern: u8) {
    match dash_pattern(pattern) {
        None => scene.path(pts, color, width),
        Some((on, off)) => scene.dashed_path(&pts, color, width, on, off, 0.0),
    }
}

/// Splits `text` into lines no wider than `width` at `size`, at spaces.
pub(super) fn wrap(text: &str, size: f64, width: i32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let cand = if cur.is_empty() { word.to_string() } else { format!("{cur} {word}") };
        if text_width(&cand, size) <= width || cur.is_empty() {
            cur = cand;
        } else {
            lines.push(std::mem::replace(&mut cur, word.to_string()));
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines.into_iter().map(|l| fit_text(&l, size, width, 200)).collect()
}

/// Width the legend column needs right of the plot (0 without entries).
pub(super) fn legend_width(entries: &[LegendEntry]) -> i32 {
    if entries.is_empty() {
        return 0;
    }
    let widest = max_text_width(entries.iter().flat_map(|e| [e.label.as_str(), e.label_cont.as_str()]), LEGEND_SIZE);
    16 + 22 + 6 + widest.max(text_width("+000 more", LEGEND_SIZE))
}

/// Height a legend of these entries needs.
pub(super) fn legend_height(entries: &[LegendEntry]) -> i32 {
    entries.iter().take(100_000).map(entry_height).sum::<i32>() + 8
}

/// The legend as a column starting at (`x`, `top`), cut with "+N more" where
/// it would pass `bottom`.
pub(super) fn draw_legend(
    scene: &mut Scene,
    x: i32,
    top: i32,
    bottom: i32,
    entries: &[LegendEntry],
    swatch: Swatch,
) -> i32 {
    let x = x + 16;
    // As many entries as fit above `bottom` (at least a row's room), keeping a row for "+N more"
    // if some do not.
    let avail = (bottom - top).max(LEGEND_ROW);
    let (mut shown, mut used) = (0, 0);
    if legend_height(entries) - 8 > avail {
        // Not all fit: as many as leave a row for "+N more" (one pass: legends of huge worlds
        // have thousands of entries).
        while shown < entries.len() && used + entry_height(&entries[shown]) + LEGEND_ROW <= avail {
            used += entry_height(&entries[shown]);
            shown += 1;
        }
    } else {
        shown = entries.len();
    }
    let mut y = top + 10;
    for e in entries.iter().take(shown) {
        match swatch {
            Swatch::Line => {
                let width = if e.thin { 1 } else { 3 };
                patterned_line(scene, vec![(x, y), (x + 22, y)], e.color, width, e.pattern)
            }
            Swatch::Box => patterned_box(scene, x + 4, y - 6, x + 18, y + 6, e.color, e.pattern),
        }
        scene.text(x + 28, y, &e.label, LEGEND_SIZE, TEXT, HPos::Left);
        if !e.label_cont.is_empty() {
            scene.text(x + 28, y + LEGEND_CONT, &e.label_cont, LEGEND_SIZE, TEXT, HPos::Left);
        }
        y += entry_height(e);
    }
    if shown < entries.len() {
        let more = format!("+{} more", entries.len() - shown);
        scene.text(x + 28, y, &more, LEGEND_SIZE, MUTED_TEXT, HPos::Left);
        return y + LEGEND_ROW;
    }
    y - 10 + LEGEND_ROW
}

/// A muted note under the legend, wrapped to the legend's width.
pub(super) fn draw_legend_note(scene: &mut Scene, x: i32, top: i32, width: i32, note: &str) {
    for (i, line) in wrap(note, LEGEND_SIZE - 1.0, width).iter().enumerate() {
        scene.text(x + 16, top + 8 + i as i32 * 16, line, LEGEND_SIZE - 1.0, MUTED_TEXT, HPos::Left);
    }
}

/// A chart with nothing to show: its title and a sentence saying why,
/// instead of empty axes.
pub(super) fn empty_scene(width: u32, height: u32, title: &str, note: &str) -> Scene {
    let mut scene = Scene::new(width, height);
    draw_title(&mut scene, title);
    let lines = wrap(note, LABEL_SIZE, width as i32 - 200);
    let y0 = height as i32 / 2 - (lines.len() as i32 * 22) / 2;
    for (i, l) in lines.iter().enumerate() {
        scene.text(width as i32 / 2, y0 + i as i32 * 22, l, LABEL_SIZE, MUTED_TEXT, HPos::Center);
    }
    scene.outline_rect(60, 70, width as i32 - 60, height as i32 - 40, GRID);
    scene
}

/// Marker lines, numbered at the top of the plot, with the numbers
/// explained in a list under the chart: labels of any length never overlap
/// each other or the data.
#[derive(Debug, Clone, Default)]
pub(super) struct MarkerLayout {
    rows: usize,
    /// (x pixel, number label row or None when unnumbered)
    lines: Vec<(i32, Option<usize>)>,
    /// (line x, number text left x, row, number text)
    numbers: Vec<(i32, i32, usize, String)>,
    /// "3  20.0 s  crash b2; gen 2", one per numbered line.
    entries: Vec<String>,
    /// Lines left unnumbered for lack of room.
    unlisted: usize,
    /// Layout of the list: column width and number of columns.
    col_w: i32,
    cols: usize,
}

const MARKER_ROW: i32 = 16;
const MARKER_MAX_ROWS: usize = 4;
const MARKER_MAX_LISTED: usize = 60;
const LIST_ROW: i32 = 16;
const LIST_ENTRY_WIDTH: i32 = 580;

/// Seconds of virtual time as a short label: "20 s", "36.04 s".
fn secs(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s} s")
}

/// A marker on the axis: its pixel, value, trimmed label and fixed number.
type Placed = (i32, f64, String, Option<usize>);

/// The markers on the axis, sorted by pixel (stable: ties keep the caller's order).
fn place(markers: &[Marker], x: &Axis, left: i32, right: i32) -> Vec<Placed> {
    let span = x.hi - x.lo;
    let eps = span.abs() * 1e-9;
    let mut placed: Vec<Placed> = markers
        .iter()
        .filter(|m| m.x.is_finite() && m.x >= x.lo - eps && m.x <= x.hi + eps)
        .map(|m| {
            let px = map(m.x, x.lo, x.hi, left, right).clamp(left, right);
            (px, m.x, m.label.trim().to_string(), m.number)
        })
        .collect();
    placed.sort_by_key(|p| p.0); // stable: ties keep caller order
    placed
}

/// Distinct non-empty labels in caller order, "×n" after one given n times, joined by "; ".
fn distinct_text<'a>(labels: impl Iterator<Item = &'a str>) -> String {
    let mut distinct: Vec<(&str, usize)> = Vec::new();
    for l in labels.filter(|l| !l.is_empty()) {
        match distinct.iter_mut().find(|(d, _)| *d == l) {
            Some((_, n)) => *n += 1,
            None => distinct.push((l, 1)),
        }
    }
    let parts: Vec<String> =
        distinct.iter().map(|(l, n)| if *n > 1 { format!("{l} ×{n}") } else { l.to_string() }).collect();
    parts.join("; ")
}

/// One numbered entry of the list: its number, time and text.
#[derive(Debug, Clone, PartialEq)]
struct Item {
    number: usize,
    at: f64,
    text: String,
}

/// The entries of the markers at one pixel. Chart-numbered (`next`: the next free number):
/// one entry with every label. Caller-numbered (`next` None): one entry per number, in number
/// order; markers without a number add no entry.
fn items_at(at_px: &[Placed], next: Option<usize>) -> Vec<Item> {
    if let Some(number) = next {
        let text = distinct_text(at_px.iter().map(|p| p.2.as_str()));
        return if text.is_empty() { Vec::new() } else { vec![Item { number, at: at_px[0].1, text }] };
    }
    let mut numbers: Vec<usize> = at_px.iter().filter_map(|p| p.3).collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
        .into_iter()
        .filter_map(|n| {
            let mine = || at_px.iter().filter(|p| p.3 == Some(n));
            let text = distinct_text(mine().map(|p| p.2.as_str()));
            (!text.is_empty()).then(|| Item { number: n, at: mine().next().map_or(0.0, |p| p.1), text })
        })
        .collect()
}

/// The numbers of one line: "3", "3,4", or "3–6" for a run of three or more.
fn number_text(numbers: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let mut j = i;
        while j + 1 < numbers.len() && numbers[j + 1] == numbers[j] + 1 {
            j += 1;
        }
        if j >= i + 2 {
            parts.push(format!("{}–{}", numbers[i], numbers[j]));
        } else {
            parts.extend(numbers[i..=j].iter().map(|n| n.to_string()));
        }
        i = j + 1;
    }
    parts.join(",")
}

impl MarkerLayout {
    /// Lays markers out for an x axis drawn from `left` to `right`; the list
    /// under the chart uses the width from `left` to `limit`.
    pub fn new(markers: &[Marker], x: &Axis, left: i32, right: i32, limit: i32) -> Self {
        let placed = place(markers, x, left, right);
        let fixed = markers.iter().any(|m| m.number.is_some());
        let mut out = MarkerLayout::default();
        let mut row_ends: Vec<i32> = Vec::new();
        let mut i = 0;
        while i < placed.len() {
            let px = placed[i].0;
            let next = i + placed[i..].iter().take_while(|p| p.0 == px).count();
            let items = items_at(&placed[i..next], (!fixed).then_some(out.entries.len() + 1));
            i = next;
            if items.is_empty() {
                out.lines.push((px, None));
            } else {
                out.number(px, &items, &mut row_ends, (left, limit));
            }
        }
        out.rows = row_ends.len();
        let widest = max_text_width(out.entries.iter().map(|e| e.as_str()), MARKER_SIZE) + 16;
        out.col_w = widest.clamp(60, LIST_ENTRY_WIDTH);
        out.cols = (((limit - left) / out.col_w).max(1) as usize).min(out.entries.len().max(1));
        out
    }

    /// Numbers the line at `px` in the first band row with room for its number and lists its
    /// entries; past the rows or the list's length the line stays unnumbered. `(left, limit)`:
    /// where numbers may go.
    fn number(&mut self, px: i32, items: &[Item], row_ends: &mut Vec<i32>, (left, limit): (i32, i32)) {
        let number = number_text(&items.iter().map(|it| it.number).collect::<Vec<_>>());
        let w = text_width(&number, MARKER_SIZE);
        let start = (px - w / 2).clamp(left.min(px), (limit - w).max(left));
        let row = row_ends.iter().position(|end| *end + 4 <= start);
        let row = match row {
            _ if self.entries.len() >= MARKER_MAX_LISTED => None,
            Some(r) => Some(r),
            None if row_ends.len() < MARKER_MAX_ROWS => {
                row_ends.push(i32::MIN);
                Some(row_ends.len() - 1)
            }
            None => None,
        };
        let Some(row) = row else {
            self.unlisted += items.len();
            self.lines.push((px, None));
            return;
        };
        row_ends[row] = start + w;
        for it in items {
            let entry = format!("{}  {}  {}", it.number, secs(it.at), it.text);
            self.entries.push(fit_text(&entry, MARKER_SIZE, LIST_ENTRY_WIDTH - 12, 120));
        }
        self.numbers.push((px, start, row, number));
        self.lines.push((px, Some(row)));
    }

    /// Height of the number band above the plot.
    pub fn band_height(&self) -> i32 {
        if self.rows == 0 { 0 } else { self.rows as i32 * MARKER_ROW + 4 }
    }

    /// Rows of numbered entries (filled column by column).
    fn entry_rows(&self) -> i32 {
        self.entries.len().div_ceil(self.cols.max(1)) as i32
    }

    fn list_rows(&self) -> i32 {
        self.entry_rows() + i32::from(self.unlisted > 0)
    }

    /// Height of the list under the chart (0 without numbered markers).
    pub fn list_height(&self) -> i32 {
        if self.entries.is_empty() && self.unlisted == 0 { 0 } else { self.list_rows() * LIST_ROW + 12 }
    }

    /// Thin solid lines over the plot, from each number down (call before the data). Solid,
    /// so a dashed line always means the caller's dashed series.
    pub fn draw_lines(&self, scene: &mut Scene, band_top: i32, plot: &Plot) {
        for &(px, row) in &self.lines {
            let top = row.map_or(plot.top, |r| band_top + r as i32 * MARKER_ROW + MARKER_ROW);
            scene.line((px, top), (px, plot.bottom), MARKER);
        }
    }

    /// Numbers in the band (call after everything that may cross them).
    pub fn draw_labels(&self, scene: &mut Scene, band_top: i32) {
        for (_, start, row, text) in &self.numbers {
            let y = band_top + *row as i32 * MARKER_ROW + MARKER_ROW / 2;
            // A neighbour's line may pass behind a number on a lower row: keep the number clear.
            let w = text_width(text, MARKER_SIZE);
            scene.fill_rect(start - 1, y - MARKER_ROW / 2 + 2, start + w, y + MARKER_ROW / 2 - 2, WHITE_BG);
            scene.text(*start, y, text, MARKER_SIZE, MUTED_TEXT, HPos::Left);
        }
    }

    /// The numbered list, in columns filled top to bottom, from (`left`, `top`).
    pub fn draw_list(&self, scene: &mut Scene, left: i32, top: i32) {
        let rows = self.entry_rows().max(1) as usize;
        for (k, e) in self.entries.iter().enumerate() {
            let (col, row) = (k / rows, k % rows);
            let y = top + 6 + row as i32 * LIST_ROW + LIST_ROW / 2;
            scene.text(left + col as i32 * self.col_w, y, e, MARKER_SIZE, MUTED_TEXT, HPos::Left);
        }
        if self.unlisted > 0 {
            let y = top + 6 + self.entry_rows() * LIST_ROW + LIST_ROW / 2;
            let more = format!("+{} more marked times not numbered (all are in events.jsonl)", self.unlisted);
            scene.text(left, y, &more, MARKER_SIZE, MUTED_TEXT, HPos::Left);
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
