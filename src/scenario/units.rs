//! Durations, rates and sizes as scenario files write them ("250ms", "2000/s"), parsed at the
//! scalar so a mistake is reported at its own line and column.

use crate::sim::SimDuration;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

const UNITS: &str = "ns, us, ms, s, m, h";

/// The longest duration a scenario may write (10 years): sums of a few user durations stay far
/// below u64 nanoseconds (584 years), so time arithmetic cannot overflow.
pub const MAX_DURATION: SimDuration = SimDuration(87_600 * 3_600_000_000_000);

fn bounded(d: SimDuration, text: &str) -> Result<SimDuration, String> {
    if d > MAX_DURATION {
        return Err(format!("`{text}` is too long; a duration is at most 87600h (10 years)"));
    }
    Ok(d)
}

/// Parses "250ms", "1.5s", "2m". Decimals are exact to the nanosecond or rejected.
pub fn parse_duration(s: &str) -> Result<SimDuration, String> {
    let s = s.trim();
    if s.starts_with('-') {
        return Err(format!("`{s}` must not be negative (a duration)"));
    }
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let scale: u64 = match unit.trim() {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "" => {
            return Err(format!("`{s}` has no unit; write a duration with a unit ({UNITS}), e.g. 250ms"));
        }
        other => {
            return Err(format!("`{other}` is not a time unit in `{s}`; allowed: {UNITS}"));
        }
    };
    if num.is_empty() {
        return Err(format!("`{s}` is not a duration; write a number then a unit ({UNITS}), e.g. 1.5s"));
    }
    let nanos = scale_decimal(num, scale).ok_or_else(|| {
        format!("`{s}` is not a valid duration: it must be a non-negative number of whole nanoseconds ({UNITS})")
    })?;
    bounded(SimDuration(nanos), s)
}

/// `num` * `scale` computed exactly in integers; None if it is not a whole number or overflows.
fn scale_decimal(num: &str, scale: u64) -> Option<u64> {
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let int_part: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut total = int_part.checked_mul(scale)?;
    let mut unit = scale;
    for c in frac.chars() {
        let digit = c.to_digit(10)? as u64;
        if !unit.is_multiple_of(10) {
            if digit != 0 {
                return None;
            }
            continue;
        }
        unit /= 10;
        total = total.checked_add(digit * unit)?;
    }
    Some(total)
}

/// Parses "2000/s", "120/m", "0.5/s" into records per second.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let (num, per) = s
        .trim()
        .split_once('/')
        .ok_or_else(|| format!("`{s}` is not a rate; write records per unit of time, e.g. 2000/s or 120/m"))?;
    let per_secs = match per.trim() {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!("`/{other}` is not a rate unit in `{s}`; allowed: /s, /m, /h"));
        }
    };
    let n: f64 = num.trim().parse().map_err(|_| format!("`{num}` in `{s}` is not a number"))?;
    if !n.is_finite() || n < 0.0 {
        return Err(format!("rate `{s}` must be a non-negative number per unit of time"));
    }
    Ok(n / per_secs)
}

/// A duration field. `KAFKA_MS` fields (Kafka settings ending in `_ms`) also take integer milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dur<const KAFKA_MS: bool>(pub SimDuration);

/// A plain duration field: a unit is required.
pub type Duration = Dur<false>;
/// A Kafka `*_ms` setting: "45s" or 45000.
pub type MsDuration = Dur<true>;

impl<'de, const KAFKA_MS: bool> serde::Deserialize<'de> for Dur<KAFKA_MS> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const K: bool>;
        impl<'de, const K: bool> Visitor<'de> for V<K> {
            type Value = Dur<K>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                if K {
                    write!(f, "a duration with a unit ({UNITS}) or whole milliseconds")
                } else {
                    write!(f, "a duration with a unit ({UNITS}), e.g. 250ms")
                }
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Dur<K>, E> {
                parse_duration(s).map(Dur).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Dur<K>, E> {
                if K {
                    n.checked_mul(1_000_000)
                        .ok_or_else(|| format!("`{n}` ms is too long; a duration is at most 87600h (10 years)"))
                        .and_then(|ns| bounded(SimDuration(ns), &format!("{n}")))
                        .map(Dur)
                        .map_err(E::custom)
                } else {
                    Err(E::custom(format!("`{n}` has no unit; write a duration with a unit ({UNITS}), e.g. {n}ms")))
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Dur<K>, E> {
                if n < 0 {
                    return Err(E::custom(format!("`{n}` must not be negative (a duration)")));
                }
                self.visit_u64(n as u64)
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Dur<K>, E> {
                Err(E::custom(format!("`{n}` has no unit; write a duration with a unit ({UNITS}), e.g. {n}ms")))
            }
        }
        d.deserialize_any(V::<KAFKA_MS>)
    }
}

/// A rate field: "2000/s".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate(pub f64);

impl<'de> serde::Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a rate like 2000/s or 120/m")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Rate, E> {
                parse_rate(s).map(Rate).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Rate, E> {
                Err(E::custom(format!("`{n}` has no unit; write a rate like {n}/s")))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Rate, E> {
                Err(E::custom(format!("`{n}` has no unit; write a rate like {n}/s")))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Rate, E> {
                Err(E::custom(format!("`{n}` has no unit; write a rate like {n}/s")))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_units() {
        assert_eq!(parse_duration("250ms"), Ok(SimDuration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(SimDuration::from_millis(1500)));
        assert_eq!(parse_duration("0.4ms"), Ok(SimDuration(400_000)));
        assert_eq!(parse_duration("2m"), Ok(SimDuration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(SimDuration::from_secs(3600)));
        assert_eq!(parse_duration("250us"), Ok(SimDuration(250_000)));
        assert_eq!(parse_duration("0ms"), Ok(SimDuration::ZERO));
    }

    #[test]
    fn bad_durations_say_what_is_allowed() {
        assert!(parse_duration("250").unwrap_err().contains("no unit"));
        assert!(parse_duration("5 days").unwrap_err().contains("allowed"));
        assert!(parse_duration("1.5ns").is_err());
        assert!(parse_duration("-3s").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("99999999999999h").is_err());
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("2000/s"), Ok(2000.0));
        assert_eq!(parse_rate("120/m"), Ok(2.0));
        assert!(parse_rate("-5/s").is_err());
        assert!(parse_rate("5").is_err());
        assert!(parse_rate("5/d").is_err());
    }
}
