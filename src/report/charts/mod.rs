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
//! - colours come from a fixed palette of 20: callers give each group and
//!   consumer a fixed palette slot (`Series::color`, `Span::color`) so it has
//!   one colour in every chart of a run and of a compare; without one, series
//!   take slots in the order given and owners in sorted-name order (digit
//!   runs compared as numbers, so "c-2" comes before "c-10"); slots past 20
//!   take darker shades of the palette (and boxes white bars too), so 80 stay
//!   distinct by colour: a line's dash pattern is only ever the caller's
//!   (`Series::dash`), never a way to tell groups apart;
//! - a line that coincides with an earlier one is drawn in alternating slices
//!   of both colours and named "(same as ...)" in the legend; marker lines
//!   (thin, solid, grey) carry small numbers, explained in a list under the
//!   chart, so their labels never overlap; a caller may fix the numbers
//!   (`Marker::number`) so one event has one number on every chart;
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
//! degenerate data gets a default axis span, and a chart with nothing to show
//! says so in a sentence instead of drawing empty axes.

mod axis;
mod bar;
mod frame;
mod line;
mod log_scale;
mod ownership;
mod render;
mod row_facts;
mod sweep;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use row_facts::{RowFacts, RowSink};
pub use sweep::{SweepChart, SweepLine, SweepPoint};

/// One line of a line chart; `x` is seconds of virtual time. Points are
/// joined in the order given (callers pass them in time order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// Palette slot (the group's or consumer's); None = its index in the list.
    pub color: Option<usize>,
    /// Line pattern: 0 = solid (whatever the slot), 1 dashed,
    /// 2 dotted, 3 long dashes.
    pub dash: u8,
    /// A thin companion line (e.g. committed lag beside the backlog).
    pub thin: bool,
}

/// A thin vertical line, numbered at the top and listed with its label
/// under the chart (timeline actions, rebalances, crashes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marker {
    pub x: f64,
    pub label: String,
    /// The number it is shown with. None: numbered by the chart, 1, 2, 3... in x order. When
    /// any marker of a chart has one, every marker is shown with its own (markers with one
    /// number are one entry of the list; those without one are drawn unnumbered), so one
    /// event keeps its number on every chart that draws it.
    pub number: Option<usize>,
}

/// A shaded stretch of a line chart's background, from `x0` to `x1` (e.g. a lag status other
/// than OK). The chart's legend note says what the shades mean.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Band {
    pub x0: f64,
    pub x1: f64,
    pub rgb: (u8, u8, u8),
}

/// A time interval of one partition's ownership; `owner` None = unowned
/// (drawn solid light grey, listed as "(unowned)" in the legend).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Span {
    pub start: f64,
    pub end: f64,
    pub owner: Option<String>,
    /// Palette slot of the owner; None = by sorted owner name.
    pub color: Option<usize>,
    /// Its owner is down (crashed or hung): drawn as stripes of the owner's colour on a pale
    /// ground, unlike the solid grey of an unowned span.
    pub faded: bool,
    /// A consumer-protocol partition between owners: its target is another member's.
    pub handover: Handover,
    /// A fixed colour (a state's, in a state chart) instead of a palette slot; `faded` then
    /// hatches it.
    pub rgb: Option<(u8, u8, u8)>,
    /// Drawn at least this many pixels wide (0: its length, at least 1 px), so a stretch of
    /// milliseconds on an axis of minutes still shows beside the marker line at its start.
    pub min_px: u8,
}

/// Where a consumer-protocol partition stands against its target assignment (KIP-848). Both
/// are drawn with vertical stripes in the colour of the member the target gives it to (its
/// palette slot here).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Handover {
    #[default]
    None,
    /// Its owner still holds it, but the latest target gives it to another member: the owner
    /// gives it up once its heartbeat learns so (and it has committed).
    Revoking(usize),
    /// No live owner, and the target names a member that has not taken it yet (it learns at its
    /// next heartbeat, once the previous owner has released it).
    Awaiting(usize),
}

/// One row of the ownership chart; label like "orders-0". A row without
/// spans but with a `note` shows the note in the row (e.g. a standby
/// consumer: "no partitions").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OwnershipRow {
    pub label: String,
    pub spans: Vec<Span>,
    pub note: Option<String>,
    /// Palette slot for the label's swatch (a standby consumer's colour).
    pub color: Option<usize>,
    /// A legend entry for the row itself, in its `color` (e.g. "ledger-4 (standby)").
    pub legend: Option<String>,
}

/// One bar per category, e.g. label "pull"; `values[i]` belongs to
/// `categories[i]` (missing or non-finite values draw no bar).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BarGroup {
    pub label: String,
    pub values: Vec<f64>,
    /// Palette slot of each category's bar (e.g. the group it measures), so bars keep the
    /// colours lines have; empty = one colour per bar group. With slots, the bar groups are
    /// told apart by `pattern` and the legend shows the patterns in grey.
    pub slots: Vec<usize>,
    /// White bars across this group's boxes (0 = solid).
    pub pattern: u8,
}

/// A line chart: one line per series (legend), markers as thin verticals.
/// 1200 px wide, 600 high plus the list of markers. The y axis starts at 0
/// (or below, for negative data); the x axis spans the data. Markers outside
/// it are skipped.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub series: &'a [Series],
    pub markers: &'a [Marker],
    /// Whole-number y ticks: the y axis counts things (records, drops).
    pub integer_y: bool,
    /// Drawn instead of axes when there is no point, or every value is 0.
    pub empty_note: Option<&'a str>,
    /// A short note under the legend (what thick and thin lines mean).
    pub legend_note: Option<&'a str>,
    /// Background shading, drawn under the grid.
    pub bands: &'a [Band],
}

impl LineChart<'_> {
    /// Writes the chart as a PNG and an SVG file.
    pub fn write(&self, png: &Path, svg: &Path) -> anyhow::Result<()> {
        render::ensure_font()?;
        render::write_files(&line::scene(self), png, svg)
    }

    /// Writes the chart as `write` does, but with a logarithmic y axis (decades labelled,
    /// "log scale" added to the y label) when its positive values span more than three
    /// decades: largest / smallest positive value > 1000. Values at or below 0 are drawn on
    /// the axis' floor.
    pub fn write_log_if_wide(&self, png: &Path, svg: &Path) -> anyhow::Result<()> {
        render::ensure_font()?;
        render::write_files(&line::scene_scaled(self, true), png, svg)
    }
}

/// Whether `LineChart::write_log_if_wide` draws these series on a log scale: their positive
/// values span more than three decades (largest / smallest > 1000).
pub fn log_scale_for(series: &[Series]) -> bool {
    log_scale::wants_log(series)
}

/// A line chart with default options (see `LineChart`).
pub fn line_chart(
    png: &Path,
    svg: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    markers: &[Marker],
) -> anyhow::Result<()> {
    LineChart { title, x_label, y_label, series, markers, ..Default::default() }.write(png, svg)
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

/// As [`ownership_chart`], for rows too many to hold (3 million in a world of 300 groups x
/// 10,000 partitions): `facts` are what [`RowFacts::add`] gathered of every row, and `each`
/// gives the same rows in the same order again; only those the chart draws are kept (one per
/// pixel row when rows are thinner than a pixel). The files are the same as `ownership_chart`'s
/// of the same rows.
pub fn ownership_chart_streamed(
    png: &Path,
    svg: &Path,
    title: &str,
    facts: &RowFacts,
    each: impl FnOnce(&mut dyn RowSink),
    x_end: f64,
    markers: &[Marker],
) -> anyhow::Result<()> {
    render::ensure_font()?;
    let scene = ownership::streamed_scene(title, facts, each, x_end, markers);
    render::write_files(&scene, png, svg)
}

/// One entry of a state chart's legend: a label, its colour, and whether its spans are
/// hatched (`Span::faded`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LegendItem {
    pub label: String,
    pub rgb: (u8, u8, u8),
    pub hatched: bool,
}

/// A timeline of states, laid out as the ownership chart (one row per broker, partition or
/// producer, each span in its state's colour: `Span::rgb` or a palette slot). `legend`: the
/// entries in the caller's order (states have a natural order that sorting by name would
/// lose); None: the owners in sorted-name order, as the ownership chart lists them.
pub fn state_chart(
    png: &Path,
    svg: &Path,
    title: &str,
    rows: &[OwnershipRow],
    x_end: f64,
    markers: &[Marker],
    legend: Option<&[LegendItem]>,
) -> anyhow::Result<()> {
    render::ensure_font()?;
    let scene = ownership::state_scene(title, rows, x_end, markers, legend);
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
