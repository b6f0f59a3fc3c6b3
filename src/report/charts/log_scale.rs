//! A logarithmic y axis for line charts whose values span more than three decades (latency:
//! a healthy few milliseconds beside an outage's minutes). Like `axis`, it uses only IEEE basic
//! arithmetic (the logarithm is computed here from the float's bits, not by the platform's
//! libm), so the pixels are the same on every machine.

use super::Series;
use super::axis::{Axis, fmt_value, pow10};

/// Largest over smallest positive value past which a chart goes to a log scale.
const SPAN: f64 = 1000.0;

/// Whether the series' positive finite values span more than three decades (max / min > 1000).
pub(super) fn wants_log(series: &[Series]) -> bool {
    match positive_range(series) {
        Some((lo, hi)) => hi > lo * SPAN,
        None => false,
    }
}

/// The smallest and largest positive finite y values.
fn positive_range(series: &[Series]) -> Option<(f64, f64)> {
    let ys = series.iter().flat_map(|s| s.points.iter()).map(|p| p.1);
    let pos = ys.filter(|y| y.is_finite() && *y > 0.0);
    pos.fold(None, |r, y| Some(r.map_or((y, y), |(lo, hi): (f64, f64)| (lo.min(y), hi.max(y)))))
}

/// log10 of a positive finite `v`: the exponent from the float's bits, the mantissa's natural
/// logarithm from the atanh series (|s| < 0.18, so 14 terms reach full precision).
pub(super) fn log10(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return f64::NAN;
    }
    // Subnormals: scale into the normal range first.
    let (v, shift) = if v < f64::MIN_POSITIVE { (v * 18_014_398_509_481_984.0, -54) } else { (v, 0) };
    let bits = v.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023 + shift;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | (1023u64 << 52));
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let (mut term, mut sum) = (s, 0.0);
    for k in 0..14 {
        sum += term / (2 * k + 1) as f64;
        term *= s2;
    }
    (e as f64 * std::f64::consts::LN_2 + 2.0 * sum) * std::f64::consts::LOG10_E
}

/// The series with each y as its log10, values at or below 0 on the axis' floor `floor`.
pub(super) fn to_log(series: &[Series], floor: f64) -> Vec<Series> {
    let y = |v: f64| {
        if v.is_finite() && v > 0.0 {
            log10(v).max(floor)
        } else if v.is_nan() {
            v
        } else {
            floor
        }
    };
    series
        .iter()
        .map(|s| Series { points: s.points.iter().map(|&(px, py)| (px, y(py))).collect(), ..s.clone() })
        .collect()
}

/// A log axis over whole decades around the series' positive values, in log10 units, each
/// decade labelled with its value ("0.1", "1", "10", "1k"); None without a positive value.
pub(super) fn axis(series: &[Series]) -> Option<Axis> {
    let (lo, hi) = positive_range(series)?;
    // floor / ceil of the exponents, nudged so an exact power of ten stays on its own decade.
    let lo = (log10(lo) + 1e-9).floor().max(-300.0) as i32;
    let hi = ((log10(hi) - 1e-9).ceil().min(300.0) as i32).max(lo + 1);
    let ticks = (lo..=hi).map(|k| (f64::from(k), fmt_value(pow10(k)))).collect();
    Some(Axis { lo: f64::from(lo), hi: f64::from(hi), ticks })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(ys: &[f64]) -> Series {
        Series { points: ys.iter().enumerate().map(|(i, y)| (i as f64, *y)).collect(), ..Default::default() }
    }

    #[test]
    fn log_scale_only_past_three_decades() {
        assert!(!wants_log(&[s(&[5.0, 4_000.0])]), "800x is three decades or less");
        assert!(!wants_log(&[s(&[1.0, 1_000.0])]), "exactly 1000x stays linear");
        assert!(wants_log(&[s(&[2.0, 30.0]), s(&[0.0, 2_500.0])]), "1250x across series");
        assert!(!wants_log(&[s(&[0.0, 0.0, 9.0])]), "zeros are not a span");
        assert!(!wants_log(&[s(&[f64::NAN, f64::INFINITY, 3.0])]));
        assert!(!wants_log(&[]));
    }

    #[test]
    fn log10_is_exact_enough_and_deterministic() {
        for k in -12..=12 {
            let v = log10(pow10(k));
            assert!((v - f64::from(k)).abs() < 1e-12, "log10(1e{k}) = {v}");
        }
        assert!((log10(2.0) - std::f64::consts::LOG10_2).abs() < 1e-14);
        assert!((log10(5e-310) - (-309.301_029_995_663_98)).abs() < 1e-9, "subnormal");
        assert!(log10(0.0).is_nan() && log10(-1.0).is_nan());
    }

    #[test]
    fn decades_are_labelled_and_zero_sits_on_the_floor() {
        let series = [s(&[0.0, 3.0, 45_000.0])];
        let a = axis(&series).expect("positive values");
        assert_eq!((a.lo, a.hi), (0.0, 5.0));
        let labels: Vec<&str> = a.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["1", "10", "100", "1000", "10k", "100k"]);
        let logged = to_log(&series, a.lo);
        assert_eq!(logged[0].points[0], (0.0, 0.0), "0 is drawn on the floor");
        assert!((logged[0].points[1].1 - 0.477_121_254_719_662_4).abs() < 1e-12);
        let small = axis(&[s(&[0.002, 7.0])]).expect("positive values");
        assert_eq!((small.lo, small.hi), (-3.0, 1.0));
        assert_eq!(small.ticks[0].1, "0.001");
    }
}
