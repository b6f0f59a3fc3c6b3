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

/// A duration for people: a precision that suits its size (`0.25 ms`, `850 ms`, `56.1 s`,
/// `125 s`, `2.5 h`).
pub fn human_ns(ns: u64) -> String {
    let ms = ns as f64 / 1e6;
    let s = ms / 1e3;
    if ms < 10.0 {
        format!("{} ms", trim(format!("{ms:.2}")))
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if s < 100.0 {
        format!("{s:.1} s")
    } else if s < 3600.0 * 10.0 {
        format!("{s:.0} s")
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// Trailing zeros of a fixed-point figure go (`0.50` -> `0.5`, `2.00` -> `2`).
fn trim(s: String) -> String {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// A count with thousands separators (`12,345`).
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// An ordinal for people: `1st`, `2nd`, `3rd`, `4th`, `11th`, `52nd`, `113th`.
pub fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// A rate or mean for people: whole numbers from 100 up, else three significant digits.
pub fn human_f(x: f64) -> String {
    if x.abs() >= 100.0 { count(x.round() as u64) } else { trim(format!("{x:.2}")) }
}

/// A figure in milliseconds (a summary.json number) for people; `-` when there is none.
pub fn human_ms_value(v: &serde_json::Value) -> String {
    v.as_f64().map_or_else(|| "-".to_string(), |ms| human_ns((ms * 1e6).round() as u64))
}

/// A count (a summary.json number) for people; `-` when there is none.
pub fn count_value(v: &serde_json::Value) -> String {
    v.as_u64().map_or_else(|| "-".to_string(), count)
}

/// Names joined as people list them: `a`, `a and b`, `a, b and c`; past `max`, `and N more`.
pub fn list(names: &[String], max: usize) -> String {
    let shown: Vec<&str> = names.iter().take(max).map(String::as_str).collect();
    let more = names.len().saturating_sub(max);
    match (shown.len(), more) {
        (0, _) => String::new(),
        (1, 0) => shown[0].to_string(),
        (n, 0) => format!("{} and {}", shown[..n - 1].join(", "), shown[n - 1]),
        (_, more) => format!("{} and {more} more", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_read_durations_counts_and_lists() {
        assert_eq!(human_ns(56_069_456_000), "56.1 s");
        assert_eq!(human_ns(850_000_000), "850 ms");
        assert_eq!(human_ns(250_000), "0.25 ms");
        assert_eq!(human_ns(0), "0 ms");
        assert_eq!(human_ns(125_000_000_000), "125 s");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(999), "999");
        assert_eq!(human_f(1249.6), "1,250");
        assert_eq!(human_f(2.5), "2.5");
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(list(&names, 5), "a, b and c");
        assert_eq!(list(&names[..2], 5), "a and b");
        assert_eq!(list(&names, 2), "a, b and 1 more");
        let ordinals: Vec<String> = [1, 2, 3, 4, 10, 11, 12, 13, 21, 52, 101, 112, 123].map(ordinal).to_vec();
        assert_eq!(
            ordinals,
            ["1st", "2nd", "3rd", "4th", "10th", "11th", "12th", "13th", "21st", "52nd", "101st", "112th", "123rd"]
        );
    }

    #[test]
    fn times_print_exactly() {
        assert_eq!(time_ms(SimTime(1_500_000_000)), "1500");
        assert_eq!(time_ms(SimTime(250_000)), "0.25");
        assert_eq!(time_ms(SimTime(1)), "0.000001");
    }
}
