//! Axis ranges, "nice" tick steps and number formatting.
//!
//! Everything here uses only IEEE basic arithmetic (+ - * /, floor, ceil,
//! round) and Rust's own float formatting, never `log`/`pow` from the
//! platform's libm nor any locale, so the results are the same on every
//! machine.

/// A value range of one axis with its labelled tick positions.
#[derive(Debug, Clone)]
pub(super) struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<(f64, String)>,
}

/// A tick step `mantissa * 10^exp` (mantissa 1, 2, 2.5 or 5).
#[derive(Debug, Clone, Copy)]
struct Step {
    value: f64,
    exp: i32,
    quarter: bool,
}

/// Exact power of ten for |e| <= 22, deterministic beyond that.
pub(super) fn pow10(e: i32) -> f64 {
    let mut p = 1.0f64;
    for _ in 0..e.unsigned_abs().min(320) {
        p *= 10.0;
    }
    if e < 0 { 1.0 / p } else { p }
}

/// The nice step (1, 2, 2.5 or 5 times a power of ten) nearest to `raw`.
fn nice_step(raw: f64) -> Step {
    let raw = if raw.is_finite() && raw > 0.0 { raw } else { 1.0 };
    let mut exp = 0i32;
    while exp < 300 && pow10(exp + 1) <= raw {
        exp += 1;
    }
    while exp > -300 && pow10(exp) > raw {
        exp -= 1;
    }
    let f = raw / pow10(exp);
    let (m, quarter) = if f < 1.5 {
        (1.0, false)
    } else if f < 2.25 {
        (2.0, false)
    } else if f < 3.5 {
        (2.5, true)
    } else if f < 7.5 {
        (5.0, false)
    } else {
        exp += 1;
        (1.0, false)
    };
    let value = if exp < 0 { m / pow10(-exp) } else { m * pow10(exp) };
    Step { value, exp, quarter }
}

/// Decimal places and unit suffix used to print multiples of `step` up to `max_abs`.
fn label_format(step: Step, max_abs: f64) -> (usize, f64, &'static str) {
    let (scale_exp, suffix) = if max_abs >= 1e9 {
        (9, "G")
    } else if max_abs >= 1e6 {
        (6, "M")
    } else if max_abs >= 1e4 {
        (3, "k")
    } else {
        (0, "")
    };
    // 2.5 * 10^e needs one more decimal than 10^e.
    let decimals = (scale_exp - step.exp + i32::from(step.quarter)).clamp(0, 12);
    (decimals as usize, pow10(scale_exp), suffix)
}

fn tick_values(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let mut out = Vec::new();
    if !step.is_finite() || step <= 0.0 || !lo.is_finite() || !hi.is_finite() {
        return out;
    }
    let k0 = (lo / step - 1e-9).ceil();
    let k1 = (hi / step + 1e-9).floor();
    if !k0.is_finite() || !k1.is_finite() || k1 < k0 || k1 - k0 > 200.0 {
        return out;
    }
    let mut k = k0;
    while k <= k1 {
        let v = k * step;
        // Avoid "-0" and float noise around zero.
        out.push(if v.abs() < step * 1e-6 { 0.0 } else { v });
        k += 1.0;
    }
    out
}

fn labelled(values: Vec<f64>, step: Step) -> Vec<(f64, String)> {
    let max_abs = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let (decimals, scale, suffix) = label_format(step, max_abs);
    values
        .into_iter()
        .map(|v| {
            let s = format!("{:.*}", decimals, v / scale);
            let s =
                if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') { s[1..].to_string() } else { s };
            let label = if v == 0.0 { "0".to_string() } else { format!("{s}{suffix}") };
            (v, label)
        })
        .collect()
}

/// Default range when the data gives none (or a degenerate one).
fn sane_range(lo: f64, hi: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() || lo > hi || !(hi - lo).is_finite() {
        return (0.0, 1.0);
    }
    if hi > lo {
        return (lo, hi);
    }
    // Single value.
    if lo == 0.0 {
        (0.0, 1.0)
    } else if lo > 0.0 {
        let l = (lo - 0.5).max(0.0);
        (l, l + 1.0)
    } else {
        (lo - 0.5, lo + 0.5)
    }
}

/// An axis spanning exactly `[lo, hi]` (e.g. time), with about `target` ticks.
pub(super) fn exact_axis(lo: f64, hi: f64, target: usize) -> Axis {
    let (lo, hi) = sane_range(lo, hi);
    let step = nice_step((hi - lo) / target.max(1) as f64);
    let ticks = labelled(tick_values(lo, hi, step.value), step);
    Axis { lo, hi, ticks }
}

/// A step of at least 1 and a whole number: for axes that count things.
fn integer_step(step: Step) -> Step {
    if step.value < 1.0 {
        Step { value: 1.0, exp: 0, quarter: false }
    } else if step.quarter && step.exp == 0 {
        Step { value: 2.0, exp: 0, quarter: false }
    } else {
        step
    }
}

/// A value axis that includes zero, has some headroom, and ends on ticks.
pub(super) fn value_axis(min: f64, max: f64, target: usize, headroom: f64) -> Axis {
    value_axis_with(min, max, target, headroom, false)
}

/// `value_axis`, with whole-number ticks only when `integer` (counts: records, drops).
pub(super) fn value_axis_with(min: f64, max: f64, target: usize, headroom: f64, integer: bool) -> Axis {
    let (mut lo, mut hi) =
        if min.is_finite() && max.is_finite() && min <= max { (min.min(0.0), max.max(0.0)) } else { (0.0, 0.0) };
    let span = hi - lo;
    if span.is_finite() && span > 0.0 {
        if hi > 0.0 {
            hi += span * headroom;
        }
        if lo < 0.0 {
            lo -= span * headroom;
        }
    } else {
        (lo, hi) = (0.0, 1.0);
    }
    if !(hi - lo).is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let step = nice_step((hi - lo) / target.max(1) as f64);
    let step = if integer { integer_step(step) } else { step };
    let top = (hi / step.value - 1e-9).ceil() * step.value;
    let bottom = (lo / step.value + 1e-9).floor() * step.value;
    if top.is_finite() && bottom.is_finite() && top > bottom {
        (lo, hi) = (bottom, top);
    }
    let ticks = labelled(tick_values(lo, hi, step.value), step);
    Axis { lo, hi, ticks }
}

/// Short deterministic rendering of a data value (bar labels).
pub(super) fn fmt_value(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let a = v.abs();
    let (x, suffix, decimals) = if a >= 1e9 {
        (v / 1e9, "G", 2)
    } else if a >= 1e6 {
        (v / 1e6, "M", 2)
    } else if a >= 1e4 {
        (v / 1e3, "k", 1)
    } else if a >= 100.0 {
        (v, "", 0)
    } else if a >= 10.0 {
        (v, "", 1)
    } else if a >= 1.0 {
        (v, "", 2)
    } else if a == 0.0 {
        return "0".to_string();
    } else {
        // Two significant digits below 1, at most 9 decimals.
        let mut d = 1usize;
        let mut t = a * 10.0;
        while t < 1.0 && d < 9 {
            t *= 10.0;
            d += 1;
        }
        (v, "", d + 1)
    };
    let mut s = format!("{:.*}", decimals, x);
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" || s.is_empty() {
        s = "0".to_string();
    }
    format!("{s}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(a: &Axis) -> Vec<&str> {
        a.ticks.iter().map(|(_, s)| s.as_str()).collect()
    }

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(0.9).value, 1.0);
        assert_eq!(nice_step(1.4).value, 1.0);
        assert_eq!(nice_step(1.6).value, 2.0);
        assert_eq!(nice_step(3.0).value, 2.5);
        assert_eq!(nice_step(5.5).value, 5.0);
        assert_eq!(nice_step(8.0).value, 10.0);
        assert_eq!(nice_step(1000.0).value, 1000.0);
        assert_eq!(nice_step(0.04).value, 0.05);
        assert_eq!(nice_step(0.03).value, 0.025);
    }

    #[test]
    fn axes_and_labels() {
        let a = exact_axis(0.0, 60.0, 6);
        assert_eq!(labels(&a), ["0", "10", "20", "30", "40", "50", "60"]);
        let a = exact_axis(0.0, 100.0, 4);
        assert_eq!(labels(&a), ["0", "25", "50", "75", "100"]);
        let a = exact_axis(0.0, 1.0, 4);
        assert_eq!(labels(&a), ["0", "0.25", "0.50", "0.75", "1.00"]);
        let a = exact_axis(0.0, 10_000.0, 4);
        assert_eq!(labels(&a), ["0", "2.5k", "5.0k", "7.5k", "10.0k"]);
        let a = value_axis(0.0, 95_000.0, 5, 0.05);
        assert_eq!(a.lo, 0.0);
        assert!(a.hi >= 95_000.0 * 1.05);
        assert_eq!(labels(&a)[1], "20k");
        let a = value_axis(0.0, 0.2, 6, 0.05);
        assert_eq!(labels(&a)[1], "0.05");
        let a = value_axis(0.0, 0.12, 6, 0.05);
        assert_eq!(labels(&a)[1], "0.02");
        let a = value_axis(0.0, 0.15, 6, 0.05);
        assert_eq!(labels(&a)[1], "0.025");
        let a = value_axis(-2.0, 3.0, 6, 0.05);
        assert!(a.lo < -2.0 && a.hi > 3.0);
        assert!(labels(&a).contains(&"0"));
        // Degenerate inputs fall back to a default span.
        for (lo, hi) in [(0.0, 0.0), (f64::NAN, 1.0), (5.0, 5.0), (1.0, f64::INFINITY)] {
            let a = value_axis(lo, hi, 6, 0.05);
            assert!(a.lo.is_finite() && a.hi.is_finite() && a.hi > a.lo);
            let a = exact_axis(lo, hi, 6);
            assert!(a.lo.is_finite() && a.hi.is_finite() && a.hi > a.lo);
        }
        // Counts get whole-number ticks however small the range.
        let a = value_axis_with(0.0, 1.0, 6, 0.05, true);
        assert!(labels(&a).iter().all(|l| !l.contains('.')), "{:?}", labels(&a));
        assert_eq!(labels(&a), ["0", "1", "2"]);
        let a = value_axis_with(0.0, 12.0, 6, 0.05, true);
        assert!(labels(&a).iter().all(|l| !l.contains('.')), "{:?}", labels(&a));
        let a = value_axis(-f64::MAX, f64::MAX, 6, 0.05);
        assert!(a.hi > a.lo && (a.hi - a.lo).is_finite());
    }

    #[test]
    fn values() {
        assert_eq!(fmt_value(0.0), "0");
        assert_eq!(fmt_value(12.34), "12.3");
        assert_eq!(fmt_value(1.5), "1.5");
        assert_eq!(fmt_value(250.0), "250");
        assert_eq!(fmt_value(12_345.0), "12.3k");
        assert_eq!(fmt_value(2_500_000.0), "2.5M");
        assert_eq!(fmt_value(0.00123), "0.0012");
        assert_eq!(fmt_value(-3.0), "-3");
        assert_eq!(fmt_value(f64::NAN), "");
    }
}
