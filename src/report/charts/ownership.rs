//! Partition-ownership (Gantt-like) chart layout.

use std::cmp::Ordering;
use std::collections::HashMap;

use plotters::style::text_anchor::HPos;

use super::axis::Axis;
use super::frame::{
    LegendEntry, MarkerLayout, Plot, Swatch, draw_legend, draw_title, empty_scene, fitted_x_axis, legend_entry,
    legend_height, legend_width, max_text_width, patterned_box, title_height,
};
use super::render::{
    MUTED_TEXT, Rgb, STRIPE, Scene, TEXT, TICK_SIZE, UNOWNED, WHITE_BG, faded, fit_text, palette, text_width, variant,
};
use super::{Marker, OwnershipRow, Span};

const WIDTH: u32 = 1200;
const MIN_HEIGHT: i32 = 400;
const MAX_HEIGHT: i32 = 16_000;
const ROW: i32 = 22;
const BOTTOM_MARGIN: i32 = 58;
const UNOWNED_LABEL: &str = "(unowned)";

pub(super) fn scene(title: &str, rows: &[OwnershipRow], x_end: f64, markers: &[Marker]) -> Scene {
    let spans = || rows.iter().flat_map(|r| r.spans.iter());
    let x_end = if x_end.is_finite() && x_end > 0.0 {
        x_end
    } else {
        spans().flat_map(|s| [s.start, s.end]).filter(|v| v.is_finite()).fold(0.0f64, f64::max)
    };
    let x_end = if x_end > 0.0 { x_end } else { 1.0 };
    if rows.is_empty() {
        return empty_scene(WIDTH, MIN_HEIGHT as u32, title, "Nothing to show: no partition and no consumer.");
    }

    // Owners without a slot of their own get the slots in sorted-name order.
    let mut names: Vec<&str> = spans().filter(|s| s.color.is_none()).filter_map(|s| s.owner.as_deref()).collect();
    names.sort_by(|a, b| natural_cmp(a, b));
    names.dedup();
    let by_name: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let fill = |s: &Span| -> Option<(Rgb, u8)> {
        let o = s.owner.as_deref()?;
        let slot = s.color.unwrap_or_else(|| by_name.get(o).copied().unwrap_or(0));
        let c = palette(slot);
        Some((if s.faded { faded(c, 0.35) } else { c }, variant(slot)))
    };
    // Legend: each owner label once, in sorted-name order.
    let mut owners: Vec<(&str, Rgb, u8)> = Vec::new();
    for s in spans() {
        if let (Some(o), Some((c, p))) = (s.owner.as_deref(), fill(s))
            && !owners.iter().any(|(n, _, _)| *n == o)
        {
            owners.push((o, c, p));
        }
    }
    owners.sort_by(|a, b| natural_cmp(a.0, b.0));
    let unowned = spans().any(|s| s.owner.is_none());
    let mut entries: Vec<_> =
        owners.iter().map(|(n, c, p)| LegendEntry { pattern: *p, ..legend_entry(n, *c) }).collect();
    for r in rows {
        if let (Some(l), Some(slot)) = (&r.legend, r.color) {
            entries.push(LegendEntry { pattern: variant(slot), ..legend_entry(l, palette(slot)) });
        }
    }
    if unowned {
        entries.push(legend_entry(UNOWNED_LABEL, UNOWNED));
    }

    let labels: Vec<String> = rows.iter().map(|r| fit_text(&r.label, TICK_SIZE, 200, 50)).collect();
    let label_w = max_text_width(labels.iter().map(|s| s.as_str()), TICK_SIZE);
    let swatches = rows.iter().any(|r| r.color.is_some());
    let left = 14 + label_w + 10 + if swatches { 16 } else { 0 };
    let legend_w = legend_width(&entries);
    let right = WIDTH as i32 - 24 - legend_w;
    let x = fitted_x_axis(0.0, x_end, right - left);
    let marks = MarkerLayout::new(markers, &x, left, right, WIDTH as i32 - 8);
    let band_top = title_height(title);
    let top = band_top + marks.band_height();

    let n = rows.len();
    let list = marks.list_height();
    let height = (top + (n.min(100_000) as i32) * ROW + BOTTOM_MARGIN + list)
        .max(top + legend_height(entries.len()) + 8)
        .clamp(MIN_HEIGHT, MAX_HEIGHT);
    let bottom = height - BOTTOM_MARGIN - list;
    let row_h = (bottom - top) as f64 / n.max(1) as f64;
    let plot = Plot { left, top, right, bottom, x, y: Axis { lo: 0.0, hi: 1.0, ticks: Vec::new() } };
    let row_y = |i: usize| top + (i as f64 * row_h).round() as i32;

    let mut scene = Scene::new(WIDTH, height as u32);
    for i in (1..n).step_by(2) {
        scene.fill_rect(left, row_y(i), right, row_y(i + 1) - 1, STRIPE);
    }
    plot.draw_x_grid(&mut scene, true);

    let bar = if row_h >= 8.0 { (row_h - 6.0).min(40.0) } else { row_h };
    for (i, row) in rows.iter().enumerate() {
        let mid = top as f64 + (i as f64 + 0.5) * row_h;
        let y0 = (mid - bar / 2.0).round() as i32;
        let y1 = ((mid + bar / 2.0).round() as i32 - 1).max(y0);
        for s in &row.spans {
            if !(s.start.is_finite() && s.end.is_finite()) {
                continue;
            }
            let (a, b) = (s.start.max(0.0), s.end.min(x_end));
            if b <= a {
                continue;
            }
            let x0 = plot.px(a);
            let x1 = (plot.px(b) - 1).max(x0);
            let (color, pattern) = fill(s).unwrap_or((UNOWNED, 0));
            patterned_box(&mut scene, x0, y0, x1, y1, color, pattern);
        }
    }
    marks.draw_lines(&mut scene, band_top, &plot);
    // Row notes over the marker lines, on a white ground so a line never runs through them.
    for (i, row) in rows.iter().enumerate() {
        if let Some(note) = row.note.as_deref().filter(|_| row_h >= 9.0) {
            let size = TICK_SIZE.min(row_h * 0.8);
            let note = fit_text(note, size, right - left - 16, 120);
            let mid = top + ((i as f64 + 0.5) * row_h).round() as i32;
            let (w, h) = (text_width(&note, size), (size * 0.6) as i32);
            scene.fill_rect(left + 5, mid - h, left + 10 + w, mid + h, WHITE_BG);
            scene.text(left + 8, mid, &note, size, MUTED_TEXT, HPos::Left);
        }
    }
    plot.draw_frame(&mut scene);

    if row_h >= 9.0 {
        let size = TICK_SIZE.min(row_h * 0.8);
        for (i, label) in labels.iter().enumerate() {
            let mid = top + ((i as f64 + 0.5) * row_h).round() as i32;
            let lx = if swatches { left - 24 } else { left - 8 };
            scene.text(lx, mid, label, size, TEXT, HPos::Right);
            if let Some(slot) = rows[i].color {
                let h = (size * 0.45) as i32;
                patterned_box(&mut scene, left - 18, mid - h, left - 8, mid + h, palette(slot), variant(slot));
            }
        }
    }
    marks.draw_labels(&mut scene, band_top);
    marks.draw_list(&mut scene, 12, height - list - 6);
    draw_legend(&mut scene, right + 8, top, height - 8 - list, &entries, Swatch::Box);
    draw_title(&mut scene, title);
    plot.draw_x_label(&mut scene, "virtual time (s)");
    scene
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
    use super::natural_cmp;

    #[test]
    fn natural_order() {
        let mut v = vec!["c-10", "c-2", "b", "c-1", "c-02", "c-", "a-1x"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["a-1x", "b", "c-", "c-1", "c-02", "c-2", "c-10"]);
    }
}
