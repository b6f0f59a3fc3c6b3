//! Line chart layout.

use super::axis::value_axis;
use super::frame::{
    MarkerLayout, Plot, Swatch, axis_tick_width, draw_legend, draw_title, fitted_x_axis, left_margin, legend_entry,
    legend_width, title_height,
};
use super::render::{Scene, palette};
use super::{Marker, Series};

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 600;

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

pub(super) fn scene(title: &str, x_label: &str, y_label: &str, series: &[Series], markers: &[Marker]) -> Scene {
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
    if !any {
        (x0, x1) = (0.0, 1.0);
    }
    let y = value_axis(y0, y1, 6, 0.06);

    let entries: Vec<_> = series.iter().enumerate().map(|(i, s)| legend_entry(&s.label, palette(i))).collect();
    let legend_w = legend_width(&entries);
    let left = left_margin(axis_tick_width(&y), !y_label.trim().is_empty());
    let right = WIDTH as i32 - 24 - legend_w;
    let x = fitted_x_axis(x0, x1, right - left);
    let marks = MarkerLayout::new(markers, &x, left, right, WIDTH as i32 - 8);
    let band_top = title_height(title);
    let top = band_top + marks.band_height();
    let bottom = HEIGHT as i32 - if x_label.trim().is_empty() { 36 } else { 58 };
    let plot = Plot { left, top, right, bottom, x, y };

    let mut scene = Scene::new(WIDTH, HEIGHT);
    plot.draw_y_grid(&mut scene);
    plot.draw_x_grid(&mut scene, true);
    marks.draw_lines(&mut scene, band_top, &plot);
    for (i, s) in series.iter().enumerate() {
        let pts = decimate(s.points.iter().filter(finite).map(|&(vx, vy)| (plot.px(vx), plot.py(vy))));
        let color = palette(i);
        match pts.as_slice() {
            [] => {}
            [(px, py)] => scene.fill_rect(px - 2, py - 2, px + 2, py + 2, color),
            _ => scene.path(pts, color, 2),
        }
    }
    plot.draw_frame(&mut scene);
    if !any {
        plot.draw_no_data(&mut scene);
    }
    marks.draw_labels(&mut scene, band_top);
    draw_legend(&mut scene, right + 8, top, HEIGHT as i32 - 8, &entries, Swatch::Line);
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
