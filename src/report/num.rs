//! Number formatting shared by the writers, so every file prints times the same way.

use crate::sim::SimTime;

/// Nanoseconds as milliseconds rounded to the microsecond.
pub fn ms(ns: u64) -> f64 {
    round3(ns as f64 / 1e6)
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A time in milliseconds: whole numbers print without a fraction (`1500`), others with up to six
/// decimals (`0.25`), so every row of every file prints the same instant the same way.
pub fn time_ms(t: SimTime) -> String {
    let ns = t.as_nanos();
    if ns.is_multiple_of(1_000_000) {
        (ns / 1_000_000).to_string()
    } else {
        let s = format!("{}.{:06}", ns / 1_000_000, ns % 1_000_000);
        s.trim_end_matches('0').to_string()
    }
}

/// The same, as a JSON number.
pub fn time_ms_json(t: SimTime) -> serde_json::Value {
    let ns = t.as_nanos();
    if ns.is_multiple_of(1_000_000) { serde_json::json!(ns / 1_000_000) } else { serde_json::json!(ns as f64 / 1e6) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_exactly() {
        assert_eq!(time_ms(SimTime(1_500_000_000)), "1500");
        assert_eq!(time_ms(SimTime(250_000)), "0.25");
        assert_eq!(time_ms(SimTime(1)), "0.000001");
    }
}
