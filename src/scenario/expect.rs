//! `expect:` entries: what a scenario says its run must show, checked by `kafkasim check`.
//!
//! Each entry names where the figure lives (`group`, optionally `consumer`) and exactly one figure
//! by its summary.json path relative to that place, with the expected value: a bare value means
//! equals; a map takes `equals`, `min`, `max`, `below`, `above` and `between: [low, high]` (all
//! given must hold). Durations with units (`5s`) are accepted for figures in milliseconds.
//! Whether the figure exists is checked against a summary (see `cli::check`), not here: the
//! scenario layer knows nothing of what a run reports.

use super::error::ScenarioError;
use super::units::parse_duration;
use serde_yaml::{Mapping, Value};

/// One expected value to compare with.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Number(f64),
    Text(String),
    Bool(bool),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Number(n) => write!(f, "{}", round3(*n)),
            Target::Text(s) => write!(f, "{s}"),
            Target::Bool(b) => write!(f, "{b}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Comparison {
    Equals(Target),
    Min(f64),
    Max(f64),
    Below(f64),
    Above(f64),
    Between(f64, f64),
}

impl std::fmt::Display for Comparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = |x: &f64| round3(*x);
        match self {
            Comparison::Equals(t) => write!(f, "= {t}"),
            Comparison::Min(x) => write!(f, ">= {}", n(x)),
            Comparison::Max(x) => write!(f, "<= {}", n(x)),
            Comparison::Below(x) => write!(f, "< {}", n(x)),
            Comparison::Above(x) => write!(f, "> {}", n(x)),
            Comparison::Between(a, b) => write!(f, "between {} and {}", n(a), n(b)),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// `expect[i]`, for messages.
    pub path: String,
    pub group: Option<String>,
    pub consumer: Option<String>,
    /// The figure as written, e.g. `lag_records.max`.
    pub figure: String,
    /// All must hold.
    pub comparisons: Vec<Comparison>,
}

impl Expectation {
    /// Where the figure lives, for messages: `group billing`, `group billing consumer b3`.
    pub fn place(&self) -> String {
        match (&self.group, &self.consumer) {
            (Some(g), Some(c)) => format!("group {g} consumer {c}"),
            (Some(g), None) => format!("group {g}"),
            _ => "run".to_string(),
        }
    }
}

const FORMS: &str = "a value (equals) or a map of `equals`, `min`, `max`, `below`, `above`, `between: [low, high]`";

/// Parses the `expect:` list (already known to be a sequence of mappings).
pub fn parse(file: &str, entries: &[Mapping]) -> Result<Vec<Expectation>, ScenarioError> {
    entries.iter().enumerate().map(|(i, m)| parse_one(file, &format!("expect[{i}]"), m)).collect()
}

fn parse_one(file: &str, path: &str, m: &Mapping) -> Result<Expectation, ScenarioError> {
    let err = |msg: String| ScenarioError::field(file, path, msg);
    let Entry { group, consumer, mut figures } = entry(file, path, m)?;
    if consumer.is_some() && group.is_none() {
        return Err(err("a `consumer` expectation also names its `group`".into()));
    }
    let (figure, value) = match figures.len() {
        1 => figures.pop().expect("one"),
        0 => return Err(err("names no figure; write e.g. `{group: billing, lost: 0}`".into())),
        _ => {
            let names: Vec<&str> = figures.iter().map(|f| f.0.as_str()).collect();
            return Err(err(format!("names {} figures ({}); write one per entry", names.len(), names.join(", "))));
        }
    };
    let here = format!("{path}.{figure}");
    let in_ms = figure.split('.').any(|seg| seg.ends_with("_ms") || seg.contains("_ms_"));
    let comparisons = match value {
        Value::Mapping(ops) => comparison_map(file, &here, ops, in_ms)?,
        v => vec![Comparison::Equals(target(file, &here, v, in_ms)?)],
    };
    Ok(Expectation { path: path.to_string(), group, consumer, figure, comparisons })
}

/// An entry's keys: the place it names, and every other key as a figure with its value.
struct Entry<'m> {
    group: Option<String>,
    consumer: Option<String>,
    figures: Vec<(String, &'m Value)>,
}

/// Reads an entry's keys in order; a key that is not text, or a place that is not a name, is
/// refused where it is met.
fn entry<'m>(file: &str, path: &str, m: &'m Mapping) -> Result<Entry<'m>, ScenarioError> {
    let err = |p: &str, msg: String| ScenarioError::field(file, p, msg);
    let mut out = Entry { group: None, consumer: None, figures: Vec::new() };
    for (k, v) in m {
        let Some(key) = k.as_str() else {
            return Err(err(path, format!("keys must be text; found {}", describe(k))));
        };
        match key {
            "group" | "consumer" => {
                let Some(name) = v.as_str() else {
                    return Err(err(&format!("{path}.{key}"), format!("expected a name, found {}", describe(v))));
                };
                if key == "group" {
                    out.group = Some(name.to_string());
                } else {
                    out.consumer = Some(name.to_string());
                }
            }
            figure => out.figures.push((figure.to_string(), v)),
        }
    }
    Ok(out)
}

/// A map of comparisons at `here`, all of which must hold, read in order; an empty map
/// compares nothing and is refused.
fn comparison_map(file: &str, here: &str, ops: &Mapping, in_ms: bool) -> Result<Vec<Comparison>, ScenarioError> {
    let mut out = Vec::new();
    for (k, v) in ops {
        out.push(comparison(file, here, k.as_str().unwrap_or(""), v, in_ms)?);
    }
    if out.is_empty() {
        return Err(ScenarioError::field(file, here, format!("an empty map compares nothing; expected {FORMS}")));
    }
    Ok(out)
}

/// One comparison `op` of a map at `here`, with its value `v`.
fn comparison(file: &str, here: &str, op: &str, v: &Value, in_ms: bool) -> Result<Comparison, ScenarioError> {
    let err = |p: &str, msg: String| ScenarioError::field(file, p, msg);
    let at = format!("{here}.{op}");
    let num = |v: &Value| number(file, &at, v, in_ms);
    Ok(match op {
        "equals" => Comparison::Equals(target(file, &at, v, in_ms)?),
        "min" => Comparison::Min(num(v)?),
        "max" => Comparison::Max(num(v)?),
        "below" => Comparison::Below(num(v)?),
        "above" => Comparison::Above(num(v)?),
        "between" => match v.as_sequence().map(|s| s.as_slice()) {
            Some([a, b]) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(err(&at, format!("between [{a}, {b}]: the low end is above the high end")));
                }
                Comparison::Between(a, b)
            }
            _ => return Err(err(&at, format!("expected `[low, high]`, found {}", describe(v)))),
        },
        other => {
            return Err(err(here, format!("unknown comparison `{other}`; expected {FORMS}")));
        }
    })
}

fn target(file: &str, path: &str, v: &Value, in_ms: bool) -> Result<Target, ScenarioError> {
    match v {
        Value::Bool(b) => Ok(Target::Bool(*b)),
        Value::Number(_) => number(file, path, v, in_ms).map(Target::Number),
        Value::String(s) if in_ms && parse_duration(s).is_ok() => number(file, path, v, in_ms).map(Target::Number),
        Value::String(s) => Ok(Target::Text(s.clone())),
        other => Err(ScenarioError::field(file, path, format!("expected {FORMS}; found {}", describe(other)))),
    }
}

fn number(file: &str, path: &str, v: &Value, in_ms: bool) -> Result<f64, ScenarioError> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| ScenarioError::field(file, path, "not a finite number")),
        Value::String(s) if in_ms => parse_duration(s).map(|d| d.as_nanos() as f64 / 1e6).map_err(|e| {
            ScenarioError::field(file, path, format!("{e} (a number of milliseconds or a duration such as 5s)"))
        }),
        Value::String(s) => Err(ScenarioError::field(
            file,
            path,
            format!("expected a number, found `{s}` (durations with units are only for figures in milliseconds)"),
        )),
        other => Err(ScenarioError::field(file, path, format!("expected a number, found {}", describe(other)))),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("`{n}`"),
        Value::String(s) => format!("`{s}`"),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a map".into(),
        Value::Tagged(_) => "a tagged value".into(),
    }
}

/// A number as expectations show it: at most three decimals.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(yaml: &str) -> Result<Expectation, ScenarioError> {
        let m: Mapping = serde_yaml::from_str(yaml).unwrap();
        parse_one("t.yaml", "expect[0]", &m)
    }

    #[test]
    fn bare_values_and_comparisons() {
        let e = one("{group: billing, lost: 0}").unwrap();
        assert_eq!(e.figure, "lost");
        assert_eq!(e.comparisons, vec![Comparison::Equals(Target::Number(0.0))]);
        let e = one("{group: billing, lag_records.max: {below: 20000}}").unwrap();
        assert_eq!(e.comparisons, vec![Comparison::Below(20000.0)]);
        let e = one("{group: billing, consumer: b3, state_at_end: standby}").unwrap();
        assert_eq!(e.consumer.as_deref(), Some("b3"));
        assert_eq!(e.comparisons, vec![Comparison::Equals(Target::Text("standby".into()))]);
        let e = one("{group: g, duplicates: {between: [1, 500]}}").unwrap();
        assert_eq!(e.comparisons, vec![Comparison::Between(1.0, 500.0)]);
    }

    #[test]
    fn durations_with_units_for_millisecond_figures() {
        let e = one("{group: g, rebalance_pause_ms.total: {below: 5s}}").unwrap();
        assert_eq!(e.comparisons, vec![Comparison::Below(5000.0)]);
        let e = one("{group: g, latency_ms.p99: 250us}").unwrap();
        assert_eq!(e.comparisons, vec![Comparison::Equals(Target::Number(0.25))]);
        let bad = one("{group: g, lost: {max: 5s}}").unwrap_err().to_string();
        assert!(bad.contains("only for figures in milliseconds"), "{bad}");
    }

    #[test]
    fn mistakes_name_the_entry_and_what_is_allowed() {
        let e = one("{group: g}").unwrap_err().to_string();
        assert!(e.contains("expect[0]") && e.contains("names no figure"), "{e}");
        let e = one("{group: g, lost: 0, duplicates: 0}").unwrap_err().to_string();
        assert!(e.contains("one per entry"), "{e}");
        let e = one("{group: g, lost: {atmost: 3}}").unwrap_err().to_string();
        assert!(e.contains("unknown comparison `atmost`") && e.contains("between"), "{e}");
        let e = one("{consumer: c, lost: 0}").unwrap_err().to_string();
        assert!(e.contains("names its `group`"), "{e}");
        let e = one("{group: g, lost: {between: [5, 1]}}").unwrap_err().to_string();
        assert!(e.contains("low end"), "{e}");
    }
}
