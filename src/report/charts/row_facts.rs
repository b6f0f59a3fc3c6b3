//! What the ownership chart says of all its rows, gathered as the rows stream by: a world of
//! 300 groups x 10,000 partitions has 3 million rows, about 700 bytes each when held, and the
//! chart (at most 16,000 pixels tall) shows one row per pixel row. The legend, the label column's
//! width and the title's words need every row; the boxes need only the rows drawn, which
//! [`Kept`] holds.

use std::collections::{BTreeMap, BTreeSet};

use super::render::{TICK_SIZE, fit_text, text_width};
use super::{Handover, OwnershipRow, Span};

/// How a span of an owner is filled: the first span of each owner name sets its legend entry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Look {
    pub color: Option<usize>,
    pub rgb: Option<(u8, u8, u8)>,
    pub faded: bool,
}

impl Look {
    pub(super) fn of(s: &Span) -> Self {
        Look { color: s.color, rgb: s.rgb, faded: s.faded }
    }
}

/// Every fact the ownership chart draws from all of its rows, whether or not it draws the row.
#[derive(Clone, Debug, Default)]
pub struct RowFacts {
    /// How many rows there are.
    pub(super) n: usize,
    /// Each owner's name with the look of its first span (the legend's entry).
    pub(super) owners: BTreeMap<String, Look>,
    /// Owners without a palette slot or a colour of their own: they get slots by sorted name.
    pub(super) unslotted: BTreeSet<String>,
    /// The rows' own legend entries (a standby consumer's), in row order, with their slot.
    pub(super) row_legends: Vec<(String, usize)>,
    /// Some span has no owner and is in no handover (the legend's "(unowned)").
    pub(super) unowned: bool,
    pub(super) revoking: bool,
    pub(super) awaiting: bool,
    /// Some row has a colour swatch beside its label.
    pub(super) swatches: bool,
    /// The widest row label, as drawn (fitted), in pixels.
    pub(super) label_w: i32,
    /// The spans' last finite time (the x axis' end when the caller gives none).
    pub(super) x_max: f64,
    down: bool,
    handover: bool,
}

impl RowFacts {
    /// The facts of `rows`, all of them at once.
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a OwnershipRow>) -> Self {
        let mut facts = RowFacts::default();
        for r in rows {
            facts.add(r);
        }
        facts
    }

    /// Takes one more row into account.
    pub fn add(&mut self, row: &OwnershipRow) {
        self.n += 1;
        for s in &row.spans {
            self.add_span(s);
        }
        if let (Some(l), Some(slot)) = (&row.legend, row.color) {
            self.row_legends.push((l.clone(), slot));
        }
        self.swatches |= row.color.is_some();
        self.label_w = self.label_w.max(fitted_width(&row.label));
    }

    fn add_span(&mut self, s: &Span) {
        if let Some(o) = s.owner.as_deref() {
            if !self.owners.contains_key(o) {
                self.owners.insert(o.to_string(), Look::of(s));
            }
            if s.color.is_none() && s.rgb.is_none() && !self.unslotted.contains(o) {
                self.unslotted.insert(o.to_string());
            }
        }
        self.unowned |= s.owner.is_none() && s.handover == Handover::None;
        self.revoking |= matches!(s.handover, Handover::Revoking(_));
        self.awaiting |= matches!(s.handover, Handover::Awaiting(_));
        self.down |= s.faded;
        self.handover |= s.handover != Handover::None;
        for v in [s.start, s.end].into_iter().filter(|v| v.is_finite()) {
            self.x_max = self.x_max.max(v);
        }
    }

    /// How many rows there are.
    pub fn rows(&self) -> usize {
        self.n
    }

    /// Some span's owner was down (drawn striped).
    pub fn any_down(&self) -> bool {
        self.down
    }

    /// Some span is between owners (a consumer-protocol handover).
    pub fn any_handover(&self) -> bool {
        self.handover
    }
}

/// The width of `label` as the chart fits it (`fit_text`: at most 50 characters and 200
/// pixels). A label that fits is measured once, without a copy: three million labels were a
/// sixth of `kafkasim run`'s time.
fn fitted_width(label: &str) -> i32 {
    if label.len() <= 50 && !label.chars().any(char::is_control) {
        let w = text_width(label, TICK_SIZE);
        if w <= 200 {
            return w;
        }
    }
    text_width(&fit_text(label, TICK_SIZE, 200, 50), TICK_SIZE)
}

/// Where the ownership chart's rows go as they are made, one at a time and in order.
pub trait RowSink {
    /// The next row is wanted. When not, its maker may call [`RowSink::skip`] instead of making
    /// it (a chart of 3 million rows draws about 16,000).
    fn wants(&self) -> bool {
        true
    }

    /// The next row, not made.
    fn skip(&mut self) {}

    /// The next row.
    fn put(&mut self, row: OwnershipRow);
}

impl RowSink for RowFacts {
    fn put(&mut self, row: OwnershipRow) {
        self.add(&row);
    }
}

impl RowSink for Vec<OwnershipRow> {
    fn put(&mut self, row: OwnershipRow) {
        self.push(row);
    }
}

/// The rows a chart draws, each with its index among all rows.
pub(super) struct Kept<'a> {
    pub rows: Vec<(usize, std::borrow::Cow<'a, OwnershipRow>)>,
}

impl<'a> Kept<'a> {
    /// Every row of a list.
    pub fn all(rows: &'a [OwnershipRow]) -> Self {
        Kept { rows: rows.iter().enumerate().map(|(i, r)| (i, std::borrow::Cow::Borrowed(r))).collect() }
    }
}
