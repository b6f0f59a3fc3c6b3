//! The structured forms of `keys`, `processing` and `hang`, read at the value so a mistake is
//! reported at its own line and column.

use super::{Keys, Processing, Value, show, single_key, value_duration, via_value};
use serde::{Deserialize, Deserializer};

const KEYS_FORMS: &str = "none | {uniform: N} | {zipf: {n: N, s: 1.1}}";

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_value(d, parse_keys)
    }
}

fn parse_keys(v: &Value) -> Result<Keys, String> {
    if v.as_str() == Some("none") || v.is_null() {
        return Ok(Keys::None);
    }
    let (k, val) = single_key(v, "keys", KEYS_FORMS)?;
    let count = |x: &Value, what: &str| {
        x.as_u64()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("{what} must be a whole number of keys >= 1, found {}", show(x)))
    };
    match k.as_str() {
        "uniform" => Ok(Keys::Uniform(count(&val, "keys.uniform")?)),
        "zipf" => {
            let n = val.get("n").ok_or("keys.zipf needs `n` (number of keys) and `s` (exponent)")?;
            let s = val.get("s").and_then(Value::as_f64).ok_or("keys.zipf.s must be a number > 0, e.g. 1.1")?;
            if let Some(m) = val.as_mapping()
                && let Some(bad) = m.keys().filter_map(Value::as_str).find(|k| *k != "n" && *k != "s")
            {
                return Err(format!("keys.zipf: unknown field `{bad}`, expected `n` or `s`"));
            }
            if !(s.is_finite() && s > 0.0) {
                return Err(format!("keys.zipf.s must be a number > 0, found {s}"));
            }
            Ok(Keys::Zipf { n: count(n, "keys.zipf.n")?, s })
        }
        other => Err(format!("keys: unknown form `{other}`; expected one of {KEYS_FORMS}")),
    }
}

const PROCESSING_FORMS: &str =
    "0.4ms | {exponential: MEAN} | {uniform: [MIN, MAX]} | {lognormal: {median: D, sigma: S}}";

impl<'de> Deserialize<'de> for Processing {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_value(d, parse_processing)
    }
}

fn parse_processing(v: &Value) -> Result<Processing, String> {
    if let Value::Number(n) = v {
        return Err(format!(
            "`{n}` has no unit; write a duration with a unit, e.g. {n}ms (or one of {PROCESSING_FORMS})"
        ));
    }
    if let Value::String(_) = v {
        return value_duration(v, "").map(Processing::Constant);
    }
    let (k, val) = single_key(v, "processing", PROCESSING_FORMS)?;
    match k.as_str() {
        "constant" => value_duration(&val, "processing.constant").map(Processing::Constant),
        "exponential" => value_duration(&val, "processing.exponential").map(Processing::Exponential),
        "uniform" => {
            let bounds = val
                .as_sequence()
                .filter(|s| s.len() == 2)
                .ok_or_else(|| format!("processing.uniform must be a list [MIN, MAX], found {}", show(&val)))?;
            let lo = value_duration(&bounds[0], "processing.uniform[0]")?;
            let hi = value_duration(&bounds[1], "processing.uniform[1]")?;
            if lo > hi {
                return Err(format!("processing.uniform: MIN {lo} is greater than MAX {hi}"));
            }
            Ok(Processing::Uniform(lo, hi))
        }
        "lognormal" => {
            let median = value_duration(
                val.get("median").ok_or("processing.lognormal needs `median` (a duration) and `sigma`")?,
                "processing.lognormal.median",
            )?;
            let sigma = val
                .get("sigma")
                .and_then(Value::as_f64)
                .filter(|s| s.is_finite() && *s >= 0.0)
                .ok_or("processing.lognormal.sigma must be a number >= 0, e.g. 0.5")?;
            Ok(Processing::LogNormal { median, sigma })
        }
        other => Err(format!("processing: unknown form `{other}`; expected one of {PROCESSING_FORMS}")),
    }
}

/// `hang: c1` (for good, until a `start` or `crash`) or `hang: {consumer: c1, for: 15s}`.
#[derive(Clone, Debug, PartialEq)]
pub struct RawHang {
    pub consumer: String,
    pub for_: Option<crate::sim::SimDuration>,
}

const HANG_FORMS: &str = "CONSUMER or {consumer: NAME, for: 15s}";

impl<'de> Deserialize<'de> for RawHang {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_value(d, parse_hang)
    }
}

fn parse_hang(v: &Value) -> Result<RawHang, String> {
    if let Value::String(s) = v {
        return Ok(RawHang { consumer: s.clone(), for_: None });
    }
    let Value::Mapping(m) = v else { return Err(format!("expected {HANG_FORMS}, found {}", show(v))) };
    let mut hang = RawHang { consumer: String::new(), for_: None };
    let mut named = false;
    for (k, val) in m {
        match k.as_str() {
            Some("consumer") => {
                hang.consumer = val.as_str().ok_or("`consumer`: the name must be a string")?.to_string();
                named = true;
            }
            Some("for") => {
                let d = value_duration(val, "`for`")?;
                if d.is_zero() {
                    return Err(
                        "`for`: 0s is not allowed; a hang lasts a positive time (omit `for` to hang until a `start` or `crash`)"
                            .into(),
                    );
                }
                hang.for_ = Some(d);
            }
            _ => return Err(format!("`{}` is not allowed; expected {HANG_FORMS}", show(k))),
        }
    }
    if !named {
        return Err(format!("`consumer` is missing; expected {HANG_FORMS}"));
    }
    Ok(hang)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimDuration;

    fn yaml(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn key_forms() {
        assert_eq!(parse_keys(&yaml("none")), Ok(Keys::None));
        assert_eq!(parse_keys(&yaml("{uniform: 1000}")), Ok(Keys::Uniform(1000)));
        assert_eq!(parse_keys(&yaml("{zipf: {n: 50, s: 1.1}}")), Ok(Keys::Zipf { n: 50, s: 1.1 }));
        assert!(parse_keys(&yaml("{uniform: 0}")).is_err());
        assert!(parse_keys(&yaml("{zipf: {n: 5, s: 1.1, q: 2}}")).unwrap_err().contains("unknown field"));
        assert!(parse_keys(&yaml("{hashed: 3}")).unwrap_err().contains("expected one of"));
    }

    #[test]
    fn processing_forms() {
        assert_eq!(parse_processing(&yaml("0.4ms")), Ok(Processing::Constant(SimDuration(400_000))));
        assert_eq!(
            parse_processing(&yaml("{exponential: 2ms}")),
            Ok(Processing::Exponential(SimDuration::from_millis(2)))
        );
        assert_eq!(
            parse_processing(&yaml("{uniform: [1ms, 3ms]}")),
            Ok(Processing::Uniform(SimDuration::from_millis(1), SimDuration::from_millis(3)))
        );
        assert!(parse_processing(&yaml("{uniform: [3ms, 1ms]}")).is_err());
        assert!(parse_processing(&yaml("{lognormal: {median: 1ms, sigma: 0.5}}")).is_ok());
        assert!(parse_processing(&yaml("{poisson: 1ms}")).unwrap_err().contains("expected one of"));
        assert!(parse_processing(&yaml("3")).is_err());
    }
    #[test]
    fn hang_forms() {
        assert_eq!(parse_hang(&yaml("c1")), Ok(RawHang { consumer: "c1".into(), for_: None }));
        assert_eq!(
            parse_hang(&yaml("{consumer: c1, for: 15s}")),
            Ok(RawHang { consumer: "c1".into(), for_: Some(SimDuration::from_secs(15)) })
        );
        assert_eq!(parse_hang(&yaml("{consumer: c1}")), Ok(RawHang { consumer: "c1".into(), for_: None }));
        assert!(parse_hang(&yaml("{consumer: c1, for: 0s}")).unwrap_err().contains("positive"));
        assert!(parse_hang(&yaml("{for: 1s}")).unwrap_err().contains("`consumer` is missing"));
        assert!(parse_hang(&yaml("{consumer: c1, until: 1s}")).unwrap_err().contains("`until` is not allowed"));
        assert!(parse_hang(&yaml("{consumer: [c1]}")).unwrap_err().contains("must be a string"));
        assert!(parse_hang(&yaml("3")).unwrap_err().contains("expected CONSUMER"));
    }
}
