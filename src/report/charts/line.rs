//! Line chart layout.

use super::axis::value_axis_with;
use super::frame::{
    LegendEntry, MarkerLayout, Plot, Swatch, axis_tick_width, draw_legend, draw_legend_note, draw_title, empty_scene,
    fitted_x_axis, left_margin, legend_entry, legend_width, patterned_line, title_height,
};
use super::render::{Rgb, Scene, palette, variant};
use super::{LineChart, Series};

const WIDTH: i32 = 1200;
const HEIGHT: i32 = 600;

/// Reduces a polyline to at most four points per pixel column (first, lowest,
/// highest, last of each run of points in the same column), which looks the
/// same and keeps drawing time and SVG size bounded.
fn decimate(pts: impl Iterator<Item = (i32, i32)>) -> Vec<(i32, i32)> {
    let mut out: Vec<(i32, i32)> = Vec::new();
    // Current run: (first, min, max, last) as (index, point).
    let mut run: Option<[(usize, (i32, i32)); 4]> = None;
    let flush = |run: [(usize, (i32, i32)); 4], out: &mut Vec<(i32, i32)>| {
        let mut r = run;
        r.sort_by_key(|(i, _)| *i);
        for (_, p) in r {
            if out.last() != Some(&p) {
                out.push(p);
            }
        }
    };
    for (i, p) in pts.enumerate() {
        run = Some(match run {
            Some(mut r) if r[0].1.0 == p.0 => {
                if p.1 < r[1].1.1 {
                    r[1] = (i, p);
                }
                if p.1 > r[2].1.1 {
                    r[2] = (i, p);
                }
                r[3] = (i, p);
                r
            }
            Some(r) => {
                flush(r, &mut out);
                [(i, p); 4]
            }
            None => [(i, p); 4],
        });
    }
    if let Some(r) = run {
        flush(r, &mut out);
    }
    out
}

/// Palette slot, pattern and width of series `i`.
fn style(i: usize, s: &Series) -> (Rgb, u8, u32) {
    let slot = s.color.unwrap_or(i);
    let pattern = if s.dash != 0 { s.dash } else { variant(slot) };
    (palette(slot), pattern, if s.thin { 1 } else { 2 })
}

pub(super) fn scene(chart: &LineChart) -> Scene {
    let LineChart { title, x_label, y_label, series, markers, .. } = *chart;
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64, 0.0f64);
    let mut any = false;
    for p in series.iter().flat_map(|s| s.points.iter()).filter(finite) {
        any = true;
        x0 = x0.min(p.0);
        x1 = x1.max(p.0);
        y0 = y0.min(p.1);
        y1 = y1.max(p.1);
    }
    if let Some(note) = chart.empty_note
        && (!any || (y0 == 0.0 && y1 == 0.0))
    {
        return empty_scene(WIDTH as u32, HEIGHT as u32, title, note);
    }
    if !any {
        (x0, x1) = (0.0, 1.0);
    }
    let y = value_axis_with(y0, y1, 6, 0.06, chart.integer_y);

    // A series whose line would cover another's exactly is drawn in dashes
    // over it and says so in the legend, so neither hides. "Exactly" is
    // judged on a fine grid of the data's range, independent of the layout.
    let (gx, gy) = ((x1 - x0).max(f64::MIN_POSITIVE), (y1 - y0).max(f64::MIN_POSITIVE));
    let grid: Vec<Vec<(i64, i64)>> = series
        .iter()
        .map(|s| {
            let mut g: Vec<(i64, i64)> = s
                .points
                .iter()
                .filter(finite)
                .map(|p| (((p.0 - x0) / gx * 4000.0).round() as i64, ((p.1 - y0) / gy * 2000.0).round() as i64))
                .collect();
            g.dedup();
            g
        })
        .collect();
    let mut same_as: Vec<Option<usize>> = vec![None; series.len()];
    for j in 0..grid.len() {
        if grid[j].len() >= 2 {
            same_as[j] = (0..j).find(|&i| same_as[i].is_none() && grid[i] == grid[j]);
        }
    }
    let entries: Vec<_> = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (color, pattern, width) = style(i, s);
            match same_as[i] {
                Some(first) => {
                    let label = format!("{} (same as {})", s.label, series[first].label);
                    LegendEntry { pattern: pattern.max(1), thin: width == 1, ..legend_entry(&label, color) }
                }
                None => LegendEntry { pattern, thin: width == 1, ..legend_entry(&s.label, color) },
            }
        })
        .collect();
    let legend_w = legend_width(&entries).max(if chart.legend_note.is_some() { 200 } else { 0 });
    let left = left_margin(axis_tick_width(&y), !y_label.trim().is_empty());
    let right = WIDTH - 24 - legend_w;
    let x = fitted_x_axis(x0, x1, right - left);
    let marks = MarkerLayout::new(markers, &x, left, right, WIDTH - 8);
    let band_top = title_height(title);
    let top = band_top + marks.band_height();
    let bottom = HEIGHT - if x_label.trim().is_empty() { 36 } else { 58 };
    let plot = Plot { left, top, right, bottom, x, y };
    let height = HEIGHT + marks.list_height();
    let lines: Vec<Vec<(i32, i32)>> = series
        .iter()
        .map(|s| decimate(s.points.iter().filter(finite).map(|&(vx, vy)| (plot.px(vx), plot.py(vy)))))
        .collect();

    let mut scene = Scene::new(WIDTH as u32, height as u32);
    plot.draw_y_grid(&mut scene);
    plot.draw_x_grid(&mut scene, true);
    marks.draw_lines(&mut scene, band_top, &plot);
    for (i, s) in series.iter().enumerate() {
        let (color, pattern, width) = style(i, s);
        let pts = lines[i].clone();
        if let Some(first) = same_as[i] {
            // The k-th copy of a line takes the k-th slice of each period, so
            // the colours of all copies alternate along it.
            let copies = same_as.iter().filter(|f| **f == Some(first)).count() + 1;
            let rank = same_as[..i].iter().filter(|f| **f == Some(first)).count() + 1;
            const SLICE: f64 = 9.0;
            let off = SLICE * (copies - 1) as f64;
            let phase = (copies - rank) as f64 * SLICE;
            scene.dashed_path(&pts, color, width.max(2), SLICE, off, phase);
            continue;
        }
        match pts.as_slice() {
            [] => {}
            [(px, py)] => scene.fill_rect(px - 2, py - 2, px + 2, py + 2, color),
            _ => patterned_line(&mut scene, pts, color, width, pattern),
        }
    }
    plot.draw_frame(&mut scene);
    if !any {
        plot.draw_no_data(&mut scene);
    }
    marks.draw_labels(&mut scene, band_top);
    marks.draw_list(&mut scene, 12, HEIGHT - 6);
    let legend_bottom = if chart.legend_note.is_some() { HEIGHT - 90 } else { HEIGHT - 8 };
    let note_top = draw_legend(&mut scene, right + 8, top, legend_bottom, &entries, Swatch::Line);
    if let Some(note) = chart.legend_note {
        draw_legend_note(&mut scene, right + 8, note_top, legend_w - 20, note);
    }
    draw_title(&mut scene, title);
    plot.draw_x_label(&mut scene, x_label);
    plot.draw_y_label(&mut scene, y_label);
    scene
}

#[cfg(test)]
mod tests {
    use super::decimate;

    #[test]
    fn decimation_keeps_extremes_in_order() {
        let pts = vec![(0, 5), (0, 1), (0, 9), (0, 4), (1, 3), (1, 3), (2, 0)];
        assert_eq!(decimate(pts.into_iter()), vec![(0, 5), (0, 1), (0, 9), (0, 4), (1, 3), (2, 0)]);
        assert!(decimate(std::iter::empty()).is_empty());
    }
}
