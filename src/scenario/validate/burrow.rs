//! The `burrow:` section: the lag evaluator's settings, in the units Burrow's own config takes.

use super::Checker;
use super::bounds::MAX_BURROW_INTERVALS;
use crate::scenario::error::ScenarioError;
use crate::scenario::plan::BurrowPlan;
use crate::scenario::raw::RawBurrow;
use crate::sim::SimDuration;

/// Burrow's settings: its config takes whole seconds for offset-refresh and min-distance.
pub(super) fn check_burrow(ck: &Checker, raw: Option<&RawBurrow>) -> Result<BurrowPlan, ScenarioError> {
    let mut b = BurrowPlan::default();
    let Some(raw) = raw else { return Ok(b) };
    let whole_seconds = |d: SimDuration| d.as_nanos().is_multiple_of(1_000_000_000);
    if let Some(d) = raw.offset_refresh {
        if d.0.is_zero() || !whole_seconds(d.0) {
            return Err(ck.err(
                "burrow.offset_refresh",
                format!(
                    "{}: Burrow fetches broker offsets every whole number of seconds, at least 1s (default 10s)",
                    d.0
                ),
            ));
        }
        b.offset_refresh = d.0;
    }
    if let Some(n) = raw.intervals {
        if !(1..=MAX_BURROW_INTERVALS).contains(&n) {
            return Err(ck.err(
                "burrow.intervals",
                format!("{n}: Burrow keeps 1 to {MAX_BURROW_INTERVALS} commits and broker offsets per partition (default 10)"),
            ));
        }
        b.intervals = n;
    }
    if let Some(d) = raw.min_distance {
        if !whole_seconds(d.0) {
            return Err(ck.err(
                "burrow.min_distance",
                format!("{}: Burrow's min-distance is a whole number of seconds, 0s or more (default 1s)", d.0),
            ));
        }
        b.min_distance = d.0;
    }
    if let Some(l) = raw.allowed_lag {
        b.allowed_lag = l;
    }
    Ok(b)
}
