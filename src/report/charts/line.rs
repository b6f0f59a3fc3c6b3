//! Line chart layout.

use super::axis::{Axis, value_axis_with};
use super::frame::{
    LegendEntry, MarkerLayout, Plot, Swatch, axis_tick_width, draw_legend, draw_legend_note, draw_title, empty_scene,
    fitted_x_axis, left_margin, legend_entry, legend_width, patterned_line, title_height,
};
use super::render::{Rgb, Scene, palette};
use super::{LineChart, Series, log_scale};
use std::borrow::Cow;

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

/// Lines that would hide one another: equal lines, or lines that run together over most of
/// the shorter one's non-zero stretch (both at 0 is not counted: a line along the axis hides
/// nothing worth seeing). Judged on a grid of the data's range, independent of the layout, and
/// only between lines of one thickness and different colours.
struct Overlap {
    /// Per series: the earliest series it runs together with, and whether they are equal.
    note: Vec<Option<(usize, bool)>>,
    /// Per series in a group of lines that run together: (its rank in the group, the group's
    /// size).
    slice: Vec<Option<(usize, usize)>>,
}

impl Overlap {
    /// Past this many series the pairwise check is skipped (cost grows with the square).
    const MAX_SERIES: usize = 40;

    fn find(series: &[Series], (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> Self {
        use std::collections::BTreeSet;
        let n = series.len();
        let mut out = Overlap { note: vec![None; n], slice: vec![None; n] };
        if !(2..=Self::MAX_SERIES).contains(&n) {
            return out;
        }
        let (gx, gy) = ((x1 - x0).max(f64::MIN_POSITIVE), (y1 - y0).max(f64::MIN_POSITIVE));
        let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
        let cell =
            |p: &(f64, f64)| (((p.0 - x0) / gx * 1000.0).round() as i64, ((p.1 - y0) / gy * 400.0).round() as i64);
        let exact: Vec<Vec<(i64, i64)>> = series
            .iter()
            .map(|s| {
                let mut g: Vec<(i64, i64)> = s.points.iter().filter(finite).map(cell).collect();
                g.dedup();
                g
            })
            .collect();
        let cells: Vec<BTreeSet<(i64, i64)>> =
            series.iter().map(|s| s.points.iter().filter(finite).filter(|p| p.1 != 0.0).map(cell).collect()).collect();
        let near = |a: &BTreeSet<(i64, i64)>, b: &BTreeSet<(i64, i64)>| {
            a.iter().filter(|&&(x, y)| (y - 1..=y + 1).any(|yy| b.contains(&(x, yy)))).count()
        };
        let mut group: Vec<usize> = (0..n).collect();
        let root = |g: &Vec<usize>, mut i: usize| {
            while g[i] != i {
                i = g[i];
            }
            i
        };
        for j in 0..n {
            for i in 0..j {
                let (si, sj) = (&series[i], &series[j]);
                let same_style = si.thin == sj.thin && si.color.unwrap_or(i) != sj.color.unwrap_or(j);
                if !same_style || exact[j].len() < 2 {
                    continue;
                }
                let equal = exact[i] == exact[j];
                let shorter = cells[i].len().min(cells[j].len());
                let together = !equal
                    && shorter >= 10
                    && 2 * near(&cells[i], &cells[j]).max(near(&cells[j], &cells[i])) >= shorter;
                if equal || together {
                    if out.note[j].is_none() {
                        out.note[j] = Some((i, equal));
                    }
                    let (ri, rj) = (root(&group, i), root(&group, j));
                    group[rj.max(ri)] = rj.min(ri);
                }
            }
        }
        for j in 0..n {
            let r = root(&group, j);
            let members: Vec<usize> = (0..n).filter(|&k| root(&group, k) == r).collect();
            let rank = members.iter().position(|&k| k == j).unwrap_or(0);
            if members.len() > 1 {
                out.slice[j] = Some((rank, members.len()));
            }
        }
        out
    }
}

/// `other` as a legend note of `label` names it: "eager" for "eager: backlog" beside
/// "static: backlog", the whole label otherwise.
fn short_name<'a>(other: &'a str, label: &str) -> &'a str {
    match (other.split_once(": "), label.split_once(": ")) {
        (Some((who, what)), Some((_, mine))) if what == mine => who,
        _ => other,
    }
}

/// Colour, pattern and width of series `i`: the pattern is the caller's alone, so series are
/// told apart by colour and a dash always means what the caller's legend note says.
fn style(i: usize, s: &Series) -> (Rgb, u8, u32) {
    (palette(s.color.unwrap_or(i)), s.dash, if s.thin { 1 } else { 2 })
}

pub(super) fn scene(chart: &LineChart) -> Scene {
    scene_scaled(chart, false)
}

/// The chart's scene; with `auto_log`, on a log y axis if its values span more than three
/// decades (`log_scale::wants_log`).
pub(super) fn scene_scaled(chart: &LineChart, auto_log: bool) -> Scene {
    let LineChart { title, x_label, series, markers, .. } = *chart;
    let range = data_range(series);
    if let Some(note) = chart.empty_note
        && range.is_none_or(|(_, (y0, y1))| y0 == 0.0 && y1 == 0.0)
    {
        return empty_scene(WIDTH as u32, HEIGHT as u32, title, note);
    }
    let Some(((x0, x1), (y0, y1))) = range else {
        return empty_scene(WIDTH as u32, HEIGHT as u32, title, "Nothing to show: no series has a point.");
    };
    let (series, y, y_label, (y0, y1)) = y_scale(chart, auto_log, (y0, y1));
    let (series, y_label) = (&series[..], y_label.as_str());

    let overlap = Overlap::find(series, (x0, x1), (y0, y1));
    let entries = legend_entries(series, &overlap);
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

    let mut scene = Scene::new(WIDTH as u32, height as u32);
    draw_bands(&mut scene, chart, &plot);
    plot.draw_y_grid(&mut scene);
    plot.draw_x_grid(&mut scene, true);
    marks.draw_lines(&mut scene, band_top, &plot);
    draw_series(&mut scene, series, &plot, &overlap);
    plot.draw_frame(&mut scene);
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

/// The series as drawn, the y axis, its label and the y range lines are compared over: on a log
/// axis (log10 values, "log scale" in the label) if `auto_log` and the values span more than
/// three decades, else as given on a linear axis from 0 over the data range `(y0, y1)`.
fn y_scale<'a>(
    chart: &LineChart<'a>,
    auto_log: bool,
    (y0, y1): (f64, f64),
) -> (Cow<'a, [Series]>, Axis, String, (f64, f64)) {
    let series = chart.series;
    match if auto_log && log_scale::wants_log(series) { log_scale::axis(series) } else { None } {
        Some(axis) => {
            let label = format!("{}, log scale", chart.y_label.trim());
            let range = (axis.lo, axis.hi);
            (Cow::Owned(log_scale::to_log(series, axis.lo)), axis, label, range)
        }
        None => {
            let axis = value_axis_with(y0, y1, 6, 0.06, chart.integer_y);
            (Cow::Borrowed(series), axis, chart.y_label.to_string(), (y0, y1))
        }
    }
}

fn finite(p: &&(f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite()
}

/// The finite points' x range and y range, the y range always taking in 0; None without any.
fn data_range(series: &[Series]) -> Option<((f64, f64), (f64, f64))> {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64, 0.0f64);
    let mut any = false;
    for p in series.iter().flat_map(|s| s.points.iter()).filter(finite) {
        any = true;
        x0 = x0.min(p.0);
        x1 = x1.max(p.0);
        y0 = y0.min(p.1);
        y1 = y1.max(p.1);
    }
    any.then_some(((x0, x1), (y0, y1)))
}

/// One legend entry per series, saying which earlier line it is the same as, or partly (its
/// swatch keeps the series' own pattern: the legend text says it is sliced with the other).
fn legend_entries(series: &[Series], overlap: &Overlap) -> Vec<LegendEntry> {
    series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (color, pattern, width) = style(i, s);
            let label = match overlap.note[i] {
                Some((first, true)) => format!("{} (same as {})", s.label, short_name(&series[first].label, &s.label)),
                Some((first, false)) => {
                    format!("{} (partly same as {})", s.label, short_name(&series[first].label, &s.label))
                }
                None => s.label.clone(),
            };
            LegendEntry { pattern, thin: width == 1, ..legend_entry(&label, color) }
        })
        .collect()
}

/// The chart's shaded x ranges, clipped to the plot, under everything else.
fn draw_bands(scene: &mut Scene, chart: &LineChart, plot: &Plot) {
    let (left, right) = (plot.left, plot.right);
    for b in chart.bands.iter().filter(|b| b.x0.is_finite() && b.x1.is_finite() && b.x1 > b.x0) {
        let (bx0, bx1) = (plot.px(b.x0).clamp(left, right), plot.px(b.x1).clamp(left, right));
        if bx1 > bx0 {
            scene.fill_rect(bx0, plot.top, bx1, plot.bottom, Rgb(b.rgb.0, b.rgb.1, b.rgb.2));
        }
    }
}

/// The lines, decimated to the pixel columns: a single point as a dot. Lines that run together
/// are each drawn whole, then sliced over one another, so where they meet their colours
/// alternate and where one runs alone it stays unbroken (only a caller's dash breaks a line).
fn draw_series(scene: &mut Scene, series: &[Series], plot: &Plot, overlap: &Overlap) {
    let lines: Vec<Vec<(i32, i32)>> = series
        .iter()
        .map(|s| decimate(s.points.iter().filter(finite).map(|&(vx, vy)| (plot.px(vx), plot.py(vy)))))
        .collect();
    // Thick lines first, thin companions over them, so no thin line is buried.
    let order: Vec<usize> =
        (0..series.len()).filter(|&i| !series[i].thin).chain((0..series.len()).filter(|&i| series[i].thin)).collect();
    for &i in &order {
        let (color, pattern, width) = style(i, &series[i]);
        match lines[i].as_slice() {
            [] => {}
            [(px, py)] => scene.fill_rect(px - 2, py - 2, px + 2, py + 2, color),
            _ => patterned_line(scene, lines[i].clone(), color, width, pattern),
        }
    }
    for &i in &order {
        let (color, pattern, width) = style(i, &series[i]);
        if let (Some((rank, copies)), 0) = (overlap.slice[i], pattern) {
            // The k-th of lines that run together takes the k-th slice of each period.
            const SLICE: f64 = 9.0;
            let off = SLICE * (copies - 1) as f64;
            let phase = ((copies - rank) % copies) as f64 * SLICE;
            scene.dashed_path(&lines[i], color, width, SLICE, off, phase);
        }
    }
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
