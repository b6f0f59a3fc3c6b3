//! Expectations against a run's summary: where a named figure lives in summary.json, and pass
//! or fail. The report shows the results (console and page); `kafkasim check` exits on them.

use crate::scenario::Plan;
use crate::scenario::expect::{Comparison, Expectation, Target};
use serde_json::Value;

/// One expectation's result.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub expectation: Expectation,
    pub measured: Value,
    pub pass: bool,
}

impl Outcome {
    /// `PASS  group billing  lost = 0  (measured 0)`
    pub fn line(&self) -> String {
        let e = &self.expectation;
        let wanted: Vec<String> = e.comparisons.iter().map(|c| format!("{} {c}", e.figure)).collect();
        format!(
            "{}  {}  {}  (measured {})",
            if self.pass { "PASS" } else { "FAIL" },
            e.place(),
            wanted.join(" and "),
            show(&self.measured)
        )
    }
}

impl Outcome {
    /// What was measured, as the console and the page print it.
    pub fn measured_text(&self) -> String {
        show(&self.measured)
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "nothing".into(),
        other => other.to_string(),
    }
}

/// The object an expectation's figure is relative to.
pub fn base<'a>(summary: &'a Value, e: &Expectation) -> &'a Value {
    match (&e.group, &e.consumer) {
        (Some(g), Some(c)) => &summary["groups"][g]["consumers"][c],
        (Some(g), None) => &summary["groups"][g],
        _ => summary,
    }
}

/// Follows `lag_records.max` through the summary. `x_at_end` also finds `x.at_end` (or `x` itself,
/// for a consumer's `state_at_end`), so expectations read as the sentence they state.
pub fn resolve<'a>(summary: &'a Value, e: &Expectation) -> Option<&'a Value> {
    let mut at = base(summary, e);
    for seg in e.figure.split('.') {
        at = match at {
            Value::Object(m) => match m.get(seg) {
                Some(v) => v,
                None => {
                    let stem = seg.strip_suffix("_at_end")?;
                    let v = m.get(stem)?;
                    if let Some(end) = v.get("at_end") { end } else { v }
                }
            },
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

/// Evaluates every expectation of `plan` against a finished run's summary. An expectation about a
/// group or consumer the run does not have (a sweep setting removed it) does not apply and is left
/// out; `figures_exist` makes that impossible for a scenario run as written.
pub fn evaluate(plan: &Plan, summary: &Value) -> Vec<Outcome> {
    plan.expect
        .iter()
        .filter(|e| !base(summary, e).is_null())
        .map(|e| {
            let measured = resolve(summary, e).cloned().unwrap_or(Value::Null);
            let pass = e.comparisons.iter().all(|c| holds(c, &measured));
            Outcome { expectation: e.clone(), measured, pass }
        })
        .collect()
}

fn holds(c: &Comparison, v: &Value) -> bool {
    let x = v.as_f64();
    match c {
        Comparison::Equals(Target::Number(n)) => x.is_some_and(|x| (x - n).abs() <= 1e-9 * n.abs().max(1.0)),
        Comparison::Equals(Target::Text(s)) => v.as_str() == Some(s.as_str()),
        Comparison::Equals(Target::Bool(b)) => v.as_bool() == Some(*b),
        Comparison::Min(n) => x.is_some_and(|x| x >= *n),
        Comparison::Max(n) => x.is_some_and(|x| x <= *n),
        Comparison::Below(n) => x.is_some_and(|x| x < *n),
        Comparison::Above(n) => x.is_some_and(|x| x > *n),
        Comparison::Between(a, b) => x.is_some_and(|x| *a <= x && x <= *b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn exp(group: Option<&str>, consumer: Option<&str>, figure: &str, c: Comparison) -> Expectation {
        Expectation {
            path: "expect[0]".into(),
            group: group.map(String::from),
            consumer: consumer.map(String::from),
            figure: figure.into(),
            comparisons: vec![c],
        }
    }

    #[test]
    fn paths_and_at_end_aliases_resolve() {
        let s = json!({"groups": {"g": {"lost": 0, "lag_records": {"max": 7},
            "lag_status": {"at_end": "OK"}, "consumers": {"b3": {"state": "standby"}}}}});
        let e = exp(Some("g"), None, "lag_records.max", Comparison::Below(10.0));
        assert_eq!(resolve(&s, &e), Some(&json!(7)));
        let e = exp(Some("g"), None, "lag_status_at_end", Comparison::Equals(Target::Text("OK".into())));
        assert_eq!(resolve(&s, &e), Some(&json!("OK")));
        let e = exp(Some("g"), Some("b3"), "state_at_end", Comparison::Equals(Target::Text("standby".into())));
        assert_eq!(resolve(&s, &e), Some(&json!("standby")));
        let e = exp(Some("g"), None, "lag_recrds.max", Comparison::Max(1.0));
        assert_eq!(resolve(&s, &e), None);
    }

    #[test]
    fn comparisons_can_fail() {
        assert!(holds(&Comparison::Below(5.0), &json!(4)));
        assert!(!holds(&Comparison::Below(5.0), &json!(5)));
        assert!(holds(&Comparison::Max(5.0), &json!(5)));
        assert!(!holds(&Comparison::Above(5.0), &json!(5)));
        assert!(holds(&Comparison::Between(1.0, 3.0), &json!(3)));
        assert!(!holds(&Comparison::Equals(Target::Number(0.0)), &json!(1)));
        assert!(!holds(&Comparison::Min(0.0), &Value::Null), "a missing value never passes");
        assert!(!holds(&Comparison::Equals(Target::Text("OK".into())), &json!("WARN")));
    }
}
