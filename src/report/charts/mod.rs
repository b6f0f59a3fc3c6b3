//! Chart renderer for kafkasim reports: line charts, partition-ownership
//! timelines and grouped bar charts, each written as a PNG and an SVG file.
//!
//! Output is byte-identical on every machine for the same inputs:
//! - text is drawn with DejaVu Sans embedded in the binary
//!   (`assets/fonts/DejaVuSans.ttf`), registered with plotters' ab_glyph
//!   renderer under the family name "sans-serif" on first use (no system
//!   font is ever looked up);
//! - axis ranges, ticks and number labels are computed here with basic IEEE
//!   arithmetic and Rust's own float formatting (no libm `log`/`pow`, no
//!   locale), never by plotters' mesh code;
//! - colours come from a fixed palette of 12, assigned to series and groups
//!   in the order given and to owners in sorted-name order (digit runs
//!   compared as numbers, so "c-2" comes before "c-10"); past 12 they repeat;
//! - a golden test pins fingerprints of sample outputs, so a machine or a
//!   dependency upgrade that changes a single byte is caught.
//!
//! The font is registered process-wide (plotters keeps a global font table):
//! other plotters code in the same process that draws "sans-serif" text gets
//! DejaVu Sans too, and must not register another font under that name.
//! plotters' "ttf" feature must stay off in the whole build: with it, plotters
//! ignores registered fonts and loads system fonts.
//!
//! No function panics on any input: NaN and infinite values are skipped,
//! empty or degenerate data gets a default axis span and a "no data" note.

mod axis;
mod bar;
mod frame;
mod line;
mod ownership;
mod render;
#[cfg(test)]
mod tests;

use std::path::Path;

/// One line of a line chart; `x` is seconds of virtual time. Points are
/// joined in the order given (callers pass them in time order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A vertical dashed line with a short label at the top (timeline actions,
/// rebalances).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marker {
    pub x: f64,
    pub label: String,
}

/// A time interval of one partition's ownership; `owner` None = unowned
/// (drawn light grey, listed as "(unowned)" in the legend).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Span {
    pub start: f64,
    pub end: f64,
    pub owner: Option<String>,
}

/// One row of the ownership chart; label like "orders-0".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OwnershipRow {
    pub label: String,
    pub spans: Vec<Span>,
}

/// One bar per category, e.g. label "pull"; `values[i]` belongs to
/// `categories[i]` (missing or non-finite values draw no bar).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BarGroup {
    pub label: String,
    pub values: Vec<f64>,
}

/// Line chart: one line per series (legend), markers as dashed verticals.
/// Writes both files (1200x600). The y axis starts at 0 (or below, for
/// negative data); the x axis spans the data. Markers outside it are skipped.
pub fn line_chart(
    png: &Path,
    svg: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    markers: &[Marker],
) -> anyhow::Result<()> {
    render::ensure_font()?;
    let scene = line::scene(title, x_label, y_label, series, markers);
    render::write_files(&scene, png, svg)
}

/// Gantt-like timeline: one row per partition, each span filled with its
/// owner's colour, legend of owners, markers. The x axis runs from 0 to
/// `x_end` (from the spans if `x_end` is not a positive number). 1200 px wide,
/// about 22 px a row, at least 400 px high.
pub fn ownership_chart(
    png: &Path,
    svg: &Path,
    title: &str,
    rows: &[OwnershipRow],
    x_end: f64,
    markers: &[Marker],
) -> anyhow::Result<()> {
    render::ensure_font()?;
    let scene = ownership::scene(title, rows, x_end, markers);
    render::write_files(&scene, png, svg)
}

/// Grouped bars: categories on x (e.g. "p50","p99","max"), one bar per group
/// per category, legend. 1200x600, y axis from 0 with headroom, value printed
/// above each bar where it fits.
pub fn bar_chart(
    png: &Path,
    svg: &Path,
    title: &str,
    y_label: &str,
    categories: &[String],
    groups: &[BarGroup],
) -> anyhow::Result<()> {
    render::ensure_font()?;
    let scene = bar::scene(title, y_label, categories, groups);
    render::write_files(&scene, png, svg)
}
