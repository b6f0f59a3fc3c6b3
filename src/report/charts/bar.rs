//! Grouped bar chart layout.

use plotters::style::text_anchor::HPos;

use super::BarGroup;
use super::axis::{Axis, fmt_value, value_axis};
use super::frame::{
    LegendEntry, Plot, Swatch, axis_tick_width, draw_legend, draw_title, empty_scene, left_margin, legend_entry,
    legend_width, patterned_box, title_height,
};
use super::render::{AXIS, Rgb, Scene, TEXT, TICK_SIZE, VALUE_SIZE, fit_text, palette, text_width};

const WIDTH: u32 = 1200;
/// Legend swatches of bar groups whose bars take their categories' colours.
const LEGEND_GREY: Rgb = Rgb(120, 120, 120);
const HEIGHT: u32 = 600;

pub(super) fn scene(title: &str, y_label: &str, categories: &[String], groups: &[BarGroup]) -> Scene {
    let n_cat = categories.len();
    let Some((lo, hi)) = value_range(n_cat, groups) else {
        return empty_scene(WIDTH, HEIGHT, title, "Nothing to show: no bar has a value.");
    };
    let y = value_axis(lo, hi, 6, 0.1);

    let by_slot = groups.iter().any(|g| !g.slots.is_empty());
    let entries: Vec<_> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let color = if by_slot { LEGEND_GREY } else { palette(i) };
            LegendEntry { pattern: g.pattern, ..legend_entry(&g.label, color) }
        })
        .collect();
    let legend_w = legend_width(&entries);
    let left = left_margin(axis_tick_width(&y), !y_label.trim().is_empty());
    let right = WIDTH as i32 - 24 - legend_w;
    let top = title_height(title) + 8;
    let bottom = HEIGHT as i32 - 40;
    let plot = Plot { left, top, right, bottom, x: Axis { lo: 0.0, hi: n_cat.max(1) as f64, ticks: Vec::new() }, y };

    let mut scene = Scene::new(WIDTH, HEIGHT);
    plot.draw_y_grid(&mut scene);
    draw_bars(&mut scene, &plot, categories, groups);
    if plot.y.lo < 0.0 {
        let zero = plot.py(0.0);
        scene.line((left, zero), (right, zero), AXIS);
    }
    plot.draw_frame(&mut scene);
    draw_legend(&mut scene, right + 8, top, HEIGHT as i32 - 8, &entries, Swatch::Box);
    draw_title(&mut scene, title);
    plot.draw_y_label(&mut scene, y_label);
    scene
}

/// Bar `c` of group `g`, if it has a finite value.
fn value(g: &BarGroup, c: usize) -> Option<f64> {
    g.values.get(c).copied().filter(|v| v.is_finite())
}

/// The lowest and highest values, the range always taking in 0; None when no bar has a value.
fn value_range(n_cat: usize, groups: &[BarGroup]) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    let mut any = false;
    for g in groups {
        for v in (0..n_cat).filter_map(|c| value(g, c)) {
            any = true;
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    any.then_some((lo, hi))
}

/// Per category, its label and tick under the plot, then each group's bar with its value over
/// it where the value fits.
fn draw_bars(scene: &mut Scene, plot: &Plot, categories: &[String], groups: &[BarGroup]) {
    let (left, right, bottom) = (plot.left, plot.right, plot.bottom);
    let by_slot = groups.iter().any(|g| !g.slots.is_empty());
    let fill = |g: usize, c: usize| match groups[g].slots.get(c) {
        Some(&slot) => palette(slot),
        None if by_slot => LEGEND_GREY,
        None => palette(g),
    };
    let slot = (right - left) as f64 / categories.len().max(1) as f64;
    let n_groups = groups.len().max(1);
    let cluster = slot * 0.8;
    let bar_w = cluster / n_groups as f64;
    let gap = if bar_w >= 8.0 { 2 } else { 0 };
    let zero = plot.py(0.0);
    for (c, cat) in categories.iter().enumerate() {
        let slot_left = left as f64 + slot * c as f64;
        let cx = (slot_left + slot / 2.0).round() as i32;
        if slot >= 12.0 {
            let label = fit_text(cat, TICK_SIZE, slot as i32 - 4, 40);
            scene.text(cx, bottom + 15, &label, TICK_SIZE, TEXT, HPos::Center);
        }
        scene.line((cx, bottom), (cx, bottom + 4), AXIS);
        for (g, group) in groups.iter().enumerate() {
            let Some(v) = value(group, c) else { continue };
            let x0 = (slot_left + slot * 0.1 + bar_w * g as f64).round() as i32;
            let x1 = ((slot_left + slot * 0.1 + bar_w * (g + 1) as f64).round() as i32 - 1 - gap).max(x0);
            let yv = plot.py(v);
            let (y0, y1) = if yv <= zero { (yv, zero) } else { (zero, yv) };
            patterned_box(scene, x0, y0, x1, y1, fill(g, c), group.pattern);
            let text = fmt_value(v);
            if text_width(&text, VALUE_SIZE) <= (x1 - x0) + 6 {
                let ty = if v >= 0.0 { yv - 9 } else { yv + 9 };
                scene.text((x0 + x1) / 2, ty, &text, VALUE_SIZE, TEXT, HPos::Center);
            }
        }
    }
}
