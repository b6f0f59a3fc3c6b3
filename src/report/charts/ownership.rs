//! Partition-ownership (Gantt-like) chart layout.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

use plotters::style::text_anchor::HPos;

use super::axis::Axis;
use super::frame::{
    AWAITING_PATTERN, DOWN_PATTERN, LegendEntry, MarkerLayout, Plot, REVOKING_PATTERN, Swatch, draw_legend, draw_title,
    empty_scene, fitted_x_axis, legend_entry, legend_height, legend_width, patterned_box, title_height,
    vertical_stripes,
};
use super::render::{
    MUTED_TEXT, Rgb, STRIPE, Scene, TEXT, TICK_SIZE, UNOWNED, WHITE_BG, fit_text, palette, text_width, variant,
};
use super::row_facts::{Kept, Look, RowFacts, RowSink};
use super::{Handover, Marker, OwnershipRow, Span};

const WIDTH: u32 = 1200;
const MIN_HEIGHT: i32 = 400;
const MAX_HEIGHT: i32 = 16_000;
const ROW: i32 = 22;
const BOTTOM_MARGIN: i32 = 58;
const UNOWNED_LABEL: &str = "(unowned)";
const REVOKING_LABEL: &str = "waiting to be revoked";
const AWAITING_LABEL: &str = "waiting for its new owner";

pub(super) fn scene(title: &str, rows: &[OwnershipRow], x_end: f64, markers: &[Marker]) -> Scene {
    let facts = RowFacts::of(rows);
    if facts.n == 0 {
        return empty_scene(WIDTH, MIN_HEIGHT as u32, title, "Nothing to show: no partition and no consumer.");
    }
    let fills = Fills::new(&facts);
    let entries = legend_entries(&facts, &fills);
    let lay = Layout::new(title, &facts, &entries, x_extent(&facts, x_end), markers);
    draw_scene(title, &lay, &Kept::all(rows), &fills, &entries)
}

/// As [`scene`], for rows too many to hold: `facts` are what [`RowFacts`] gathered of them, and
/// `each` gives the same rows in the same order again, of which only the rows drawn are kept
/// (and only those need be made: see [`RowSink::wants`]).
pub(super) fn streamed_scene(
    title: &str,
    facts: &RowFacts,
    each: impl FnOnce(&mut dyn RowSink),
    x_end: f64,
    markers: &[Marker],
) -> Scene {
    if facts.n == 0 {
        return empty_scene(WIDTH, MIN_HEIGHT as u32, title, "Nothing to show: no partition and no consumer.");
    }
    let fills = Fills::new(facts);
    let entries = legend_entries(facts, &fills);
    let lay = Layout::new(title, facts, &entries, x_extent(facts, x_end), markers);
    let mut keeper = Keeper { lay: &lay, next: 0, kept: Vec::new() };
    each(&mut keeper);
    let kept = Kept { rows: keeper.kept };
    draw_scene(title, &lay, &kept, &fills, &entries)
}

/// Keeps the rows a layout draws, with their indices.
struct Keeper<'l, 'r> {
    lay: &'l Layout,
    next: usize,
    kept: Vec<(usize, Cow<'r, OwnershipRow>)>,
}

impl RowSink for Keeper<'_, '_> {
    fn wants(&self) -> bool {
        self.lay.drawn(self.next)
    }

    fn skip(&mut self) {
        self.next += 1;
    }

    fn put(&mut self, row: OwnershipRow) {
        if self.wants() {
            self.kept.push((self.next, Cow::Owned(row)));
        }
        self.next += 1;
    }
}

/// A state chart (`super::state_chart`): the same layout, with the caller's legend if given.
pub(super) fn state_scene(
    title: &str,
    rows: &[OwnershipRow],
    x_end: f64,
    markers: &[Marker],
    legend: Option<&[super::LegendItem]>,
) -> Scene {
    let facts = RowFacts::of(rows);
    if facts.n == 0 {
        return empty_scene(WIDTH, MIN_HEIGHT as u32, title, "Nothing to show.");
    }
    let fills = Fills::new(&facts);
    let entries = match legend {
        Some(items) => items
            .iter()
            .map(|i| LegendEntry {
                pattern: if i.hatched { DOWN_PATTERN } else { 0 },
                ..legend_entry(&i.label, Rgb(i.rgb.0, i.rgb.1, i.rgb.2))
            })
            .collect(),
        None => legend_entries(&facts, &fills),
    };
    let lay = Layout::new(title, &facts, &entries, x_extent(&facts, x_end), markers);
    draw_scene(title, &lay, &Kept::all(rows), &fills, &entries)
}

fn draw_scene(title: &str, lay: &Layout, kept: &Kept, fills: &Fills, entries: &[LegendEntry]) -> Scene {
    let plot = &lay.plot;
    let n = lay.n;

    // Drawn back to front: stripes and grid, the spans, marker lines, notes over them, the frame,
    // then everything around the plot.
    let mut scene = Scene::new(WIDTH, lay.height as u32);
    let stripe = |i: usize| (lay.row_y(i), lay.row_y(i + 1) - 1);
    for i in (1..n).step_by(2) {
        // Below a pixel a row, neighbouring stripes fall on the same pixels: the same box twice
        // paints nothing new.
        if i + 2 < n && stripe(i + 2) == stripe(i) {
            continue;
        }
        let (y0, y1) = stripe(i);
        scene.fill_rect(plot.left, y0, plot.right, y1, STRIPE);
    }
    plot.draw_x_grid(&mut scene, true);
    draw_spans(&mut scene, lay, kept, fills);
    lay.marks.draw_lines(&mut scene, lay.band_top, plot);
    draw_notes(&mut scene, lay, kept);
    plot.draw_frame(&mut scene);
    draw_row_labels(&mut scene, lay, kept);
    lay.marks.draw_labels(&mut scene, lay.band_top);
    lay.marks.draw_list(&mut scene, 12, lay.height - lay.list - 6);
    draw_legend(&mut scene, plot.right + 8, plot.top, lay.height - 8 - lay.list, entries, Swatch::Box);
    draw_title(&mut scene, title);
    plot.draw_x_label(&mut scene, "virtual time (s)");
    scene
}

/// The x axis' end: `x_end` if usable, else the spans' last finite time, else 1.
fn x_extent(facts: &RowFacts, x_end: f64) -> f64 {
    let x_end = if x_end.is_finite() && x_end > 0.0 { x_end } else { facts.x_max };
    if x_end > 0.0 { x_end } else { 1.0 }
}

/// Each span's colour and pattern, by its owner.
struct Fills<'a> {
    by_name: HashMap<&'a str, usize>,
}

impl<'a> Fills<'a> {
    /// Owners without a slot of their own get the slots in sorted-name order.
    fn new(facts: &'a RowFacts) -> Self {
        let mut names: Vec<&str> = facts.unslotted.iter().map(String::as_str).collect();
        names.sort_by(|a, b| natural_cmp(a, b));
        Fills { by_name: names.iter().enumerate().map(|(i, n)| (*n, i)).collect() }
    }

    /// The span's colour and pattern (hatched on a pale ground if its owner is down); None
    /// when no one owns it.
    fn of(&self, s: &Span) -> Option<(Rgb, u8)> {
        Some(self.fill(s.owner.as_deref()?, Look::of(s)))
    }

    /// The colour and pattern of a span of `owner` that looks like `look`.
    fn fill(&self, owner: &str, look: Look) -> (Rgb, u8) {
        if let Some((r, g, b)) = look.rgb {
            return (Rgb(r, g, b), if look.faded { DOWN_PATTERN } else { 0 });
        }
        let slot = look.color.unwrap_or_else(|| self.by_name.get(owner).copied().unwrap_or(0));
        (palette(slot), if look.faded { DOWN_PATTERN } else { variant(slot) })
    }
}

/// Legend: each owner label once (in the look of its first span), in sorted-name order, then
/// the rows' own legends, then "(unowned)" if a span has no owner.
fn legend_entries(facts: &RowFacts, fills: &Fills) -> Vec<LegendEntry> {
    let mut owners: Vec<(&str, Rgb, u8)> = facts
        .owners
        .iter()
        .map(|(o, look)| {
            let (c, p) = fills.fill(o, *look);
            (o.as_str(), c, p)
        })
        .collect();
    owners.sort_by(|a, b| natural_cmp(a.0, b.0));
    let mut entries: Vec<_> =
        owners.iter().map(|(n, c, p)| LegendEntry { pattern: *p, ..legend_entry(n, *c) }).collect();
    for (l, slot) in &facts.row_legends {
        entries.push(LegendEntry { pattern: variant(*slot), ..legend_entry(l, palette(*slot)) });
    }
    // A consumer-protocol handover's states, each only when some partition was in it.
    if facts.revoking {
        entries.push(LegendEntry { pattern: REVOKING_PATTERN, ..legend_entry(REVOKING_LABEL, UNOWNED) });
    }
    if facts.awaiting {
        entries.push(LegendEntry { pattern: AWAITING_PATTERN, ..legend_entry(AWAITING_LABEL, UNOWNED) });
    }
    if facts.unowned {
        entries.push(legend_entry(UNOWNED_LABEL, UNOWNED));
    }
    entries
}

/// Where everything goes: row labels left of the plot, the legend right of it, the marker
/// numbers above and their list below, one row per partition.
struct Layout {
    /// How many rows there are.
    n: usize,
    /// Some row has a colour swatch beside its label.
    swatches: bool,
    plot: Plot,
    marks: MarkerLayout,
    band_top: i32,
    height: i32,
    /// Height of the marker list under the chart.
    list: i32,
    row_h: f64,
    /// Height of a row's box.
    bar: f64,
    /// The x axis' end, in seconds.
    x_end: f64,
}

impl Layout {
    fn new(title: &str, facts: &RowFacts, entries: &[LegendEntry], x_end: f64, markers: &[Marker]) -> Self {
        let swatches = facts.swatches;
        let left = 14 + facts.label_w + 10 + if swatches { 16 } else { 0 };
        let legend_w = legend_width(entries);
        let right = WIDTH as i32 - 24 - legend_w;
        let x = fitted_x_axis(0.0, x_end, right - left);
        let marks = MarkerLayout::new(markers, &x, left, right, WIDTH as i32 - 8);
        let band_top = title_height(title);
        let top = band_top + marks.band_height();

        let n = facts.n;
        let list = marks.list_height();
        let height = (top + (n.min(100_000) as i32) * ROW + BOTTOM_MARGIN + list)
            .max(top + legend_height(entries) + 8)
            .clamp(MIN_HEIGHT, MAX_HEIGHT);
        let bottom = height - BOTTOM_MARGIN - list;
        let row_h = (bottom - top) as f64 / n.max(1) as f64;
        let bar = if row_h >= 8.0 { (row_h - 6.0).min(40.0) } else { row_h };
        let plot = Plot { left, top, right, bottom, x, y: Axis { lo: 0.0, hi: 1.0, ticks: Vec::new() } };
        Layout { n, swatches, plot, marks, band_top, height, list, row_h, bar, x_end }
    }

    /// Top pixel of row `i`.
    fn row_y(&self, i: usize) -> i32 {
        self.plot.top + (i as f64 * self.row_h).round() as i32
    }

    /// Middle pixel of row `i`.
    fn row_mid(&self, i: usize) -> i32 {
        self.plot.top + ((i as f64 + 0.5) * self.row_h).round() as i32
    }

    /// The top and bottom edges of row `i`'s box. A box is drawn down to its bottom edge, not
    /// over it. Rows of 8 pixels or more keep a gap between boxes; thinner ones are boxes edge
    /// to edge, at least a pixel tall (they were a pixel short, so rows of 1 to 2 pixels showed
    /// as stripes and thinner ones, over about 16,000 rows, not at all).
    fn band(&self, i: usize) -> (i32, i32) {
        if self.row_h < 8.0 {
            return (self.row_y(i), self.row_y(i + 1).max(self.row_y(i) + 1));
        }
        let mid = self.plot.top as f64 + (i as f64 + 0.5) * self.row_h;
        let y0 = (mid - self.bar / 2.0).round() as i32;
        (y0, ((mid + self.bar / 2.0).round() as i32 - 1).max(y0))
    }

    /// Row `i`'s boxes are drawn. Rows thinner than a pixel (more than about 16,000 rows) share
    /// pixel rows, and the last row on them paints over the others: only it is drawn, so a
    /// pixel row shows one partition of the several it stands for (before, the others showed
    /// only where it had no span). The SVG of groups-30x10k.yaml's 300,000 rows held 67 MB of
    /// boxes no one saw.
    fn drawn(&self, i: usize) -> bool {
        i + 1 >= self.n || self.band(i + 1) != self.band(i)
    }
}

/// Each drawn row's spans as boxes, clipped to the axis, in the owner's colour and pattern.
fn draw_spans(scene: &mut Scene, lay: &Layout, kept: &Kept, fills: &Fills) {
    let (plot, x_end) = (&lay.plot, lay.x_end);
    for (i, row) in kept.rows.iter().filter(|(i, _)| lay.drawn(*i)) {
        let (y0, y1) = lay.band(*i);
        for s in &row.spans {
            if !(s.start.is_finite() && s.end.is_finite()) {
                continue;
            }
            let (a, b) = (s.start.max(0.0), s.end.min(x_end));
            if b <= a {
                continue;
            }
            let (x0, x1) = widened(plot.px(a), (plot.px(b) - 1).max(plot.px(a)), s.min_px, (plot.left, plot.right - 1));
            let (color, pattern) = fills.of(s).unwrap_or((UNOWNED, 0));
            patterned_box(scene, x0, y0, x1, y1, color, pattern);
            // Stripes of the member the target gives it to, over the owner (or over grey).
            if let Handover::Revoking(next) | Handover::Awaiting(next) = s.handover {
                vertical_stripes(scene, (x0, y0, x1, y1), palette(next));
            }
        }
    }
}

/// The pixel columns `x0..=x1` grown to at least `min_px` wide: rightwards, or leftwards where
/// the plot's columns `edges` end, never past them.
fn widened(x0: i32, x1: i32, min_px: u8, edges: (i32, i32)) -> (i32, i32) {
    let grow = i32::from(min_px) - (x1 - x0 + 1);
    if grow <= 0 {
        return (x0, x1);
    }
    let x1 = (x1 + grow).min(edges.1.max(x1));
    let x0 = (x1 + 1 - i32::from(min_px)).max(edges.0).min(x0);
    (x0, x1)
}

/// Row notes over the marker lines, on a white ground so a line never runs through them. Rows
/// of 9 pixels or more are all kept, so every note is drawn.
fn draw_notes(scene: &mut Scene, lay: &Layout, kept: &Kept) {
    let (plot, row_h) = (&lay.plot, lay.row_h);
    for (i, row) in &kept.rows {
        if let Some(note) = row.note.as_deref().filter(|_| row_h >= 9.0) {
            let size = TICK_SIZE.min(row_h * 0.8);
            let note = fit_text(note, size, plot.right - plot.left - 16, 120);
            let mid = lay.row_mid(*i);
            let (w, h) = (text_width(&note, size), (size * 0.6) as i32);
            scene.fill_rect(plot.left + 5, mid - h, plot.left + 10 + w, mid + h, WHITE_BG);
            scene.text(plot.left + 8, mid, &note, size, MUTED_TEXT, HPos::Left);
        }
    }
}

/// The row labels left of the plot, each with its colour swatch if it has one; none when the
/// rows are too thin to read (rows of 9 pixels or more are all kept).
fn draw_row_labels(scene: &mut Scene, lay: &Layout, kept: &Kept) {
    if lay.row_h < 9.0 {
        return;
    }
    let left = lay.plot.left;
    let size = TICK_SIZE.min(lay.row_h * 0.8);
    for (i, row) in &kept.rows {
        let label = fit_text(&row.label, TICK_SIZE, 200, 50);
        let mid = lay.row_mid(*i);
        let lx = if lay.swatches { left - 24 } else { left - 8 };
        scene.text(lx, mid, &label, size, TEXT, HPos::Right);
        if let Some(slot) = row.color {
            let h = (size * 0.45) as i32;
            patterned_box(scene, left - 18, mid - h, left - 8, mid + h, palette(slot), variant(slot));
        }
    }
}

/// Name order with digit runs compared as numbers ("c-2" < "c-10"), ties
/// broken by plain byte order, so the order is total and deterministic.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let run = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
                let (nx, ny) = (run(x), run(y));
                let trim = |s: &[u8]| -> usize { s.iter().take_while(|c| **c == b'0').count() };
                let (dx, dy) = (&x[trim(&x[..nx]).min(nx)..nx], &y[trim(&y[..ny]).min(ny)..ny]);
                let ord = dx.len().cmp(&dy.len()).then_with(|| dx.cmp(dy));
                if ord != Ordering::Equal {
                    return ord;
                }
                (x, y) = (&x[nx..], &y[ny..]);
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                (x, y) = (&x[1..], &y[1..]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{natural_cmp, widened};

    #[test]
    fn a_short_span_is_widened_inside_the_plot() {
        let edges = (100, 999);
        assert_eq!(widened(500, 500, 0, edges), (500, 500), "0: as long as it lasts");
        assert_eq!(widened(500, 520, 4, edges), (500, 520), "already wide enough");
        assert_eq!(widened(500, 500, 4, edges), (500, 503), "grows rightwards");
        assert_eq!(widened(998, 999, 4, edges), (996, 999), "at the right edge it grows leftwards");
        assert_eq!(widened(100, 100, 4, (100, 101)), (100, 101), "never past a plot narrower than it");
    }

    #[test]
    fn natural_order() {
        let mut v = vec!["c-10", "c-2", "b", "c-1", "c-02", "c-", "a-1x"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["a-1x", "b", "c-", "c-1", "c-02", "c-2", "c-10"]);
    }
}
