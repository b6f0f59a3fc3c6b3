//! Expectations against a run's summary: where a named figure lives in summary.json, whether it
//! exists at all (checked before a run, so a typo is bad input), and pass or fail.

use super::common::{Failure, Limits, admit, build, load, say};
use crate::kafka::budget::Usage;
use crate::kafka::world::World;
use crate::scenario::expect::{Comparison, Expectation, Target};
use crate::scenario::{self, Plan, ScenarioError};
use serde_json::Value;
use std::path::PathBuf;

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

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "nothing".into(),
        other => other.to_string(),
    }
}

/// The object an expectation's figure is relative to.
fn base<'a>(summary: &'a Value, e: &Expectation) -> &'a Value {
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

/// Every figure path under `v`, for "what exists" messages.
fn leaves(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                if k == "consumers" || k == "groups" || k == "topics" {
                    out.push(p); // named separately (`group:`, `consumer:`), not listed whole
                    continue;
                }
                leaves(child, &p, out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

/// Checks that every expectation names a figure the run will report, using the summary of the
/// world before it runs (same keys, zero values). A miss is bad input listing what exists.
pub fn figures_exist(file: &str, plan: &Plan) -> Result<(), ScenarioError> {
    if plan.expect.is_empty() {
        return Ok(());
    }
    // The world is built, not run, for the summary's keys; the caller checked its cost first.
    let world = World::try_new(plan.clone()).map_err(|e| ScenarioError {
        file: file.to_string(),
        location: crate::scenario::Location::File,
        message: e.to_string(),
    })?;
    let summary = crate::report::summary::summary(&world.run_record());
    for e in &plan.expect {
        if resolve(&summary, e).is_some() {
            continue;
        }
        if let Some(g) = &e.group {
            let groups = summary["groups"].as_object().expect("summary has groups");
            let Some(grp) = groups.get(g) else {
                let ids: Vec<&str> = groups.keys().map(String::as_str).collect();
                return Err(ScenarioError::field(
                    file,
                    format!("{}.group", e.path),
                    format!("unknown group `{g}`; groups: {}", ids.join(", ")),
                ));
            };
            if let Some(c) = &e.consumer
                && grp["consumers"].get(c).is_none()
            {
                let names: Vec<&str> =
                    grp["consumers"].as_object().map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
                return Err(ScenarioError::field(
                    file,
                    format!("{}.consumer", e.path),
                    format!("group `{g}` has no consumer `{c}`; its consumers: {}", names.join(", ")),
                ));
            }
        }
        let mut names = Vec::new();
        leaves(base(&summary, e), "", &mut names);
        names.retain(|n| n != "consumers");
        return Err(ScenarioError::field(
            file,
            format!("{}.{}", e.path, e.figure),
            format!("{} has no figure `{}`; it has: {}", e.place(), e.figure, names.join(", ")),
        ));
    }
    Ok(())
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

pub fn check(files: &[PathBuf], seed: Option<u64>, limits: Limits) -> Result<(), Failure> {
    // Every file is checked for bad input (and its cost) before anything runs.
    let plans: Vec<scenario::Plan> = files
        .iter()
        .map(|f| load(f, seed).and_then(|plan| admit(f, &plan, limits, Usage::run(false)).map(|()| plan)))
        .collect::<Result<_, _>>()?;
    let (mut passed, mut failed) = (0, 0);
    for (f, plan) in files.iter().zip(plans) {
        if plan.expect.is_empty() {
            say!("{}: no expectations", f.display());
            continue;
        }
        let mut world = build(f, plan)?;
        // Only the summary is read: metrics rows are neither written nor kept.
        world.metric_sink = Some(Box::new(crate::record::DiscardRows));
        world.run();
        let outcomes = evaluate(&world.plan, &crate::report::summary::summary(&world.run_record()));
        for o in &outcomes {
            say!("{}  {}", f.display(), o.line());
            if o.pass {
                passed += 1;
            } else {
                failed += 1;
            }
        }
    }
    say!("{passed} passed, {failed} failed");
    if failed > 0 {
        return Err(Failure { status: 1, message: format!("{failed} expectation(s) failed") });
    }
    Ok(())
}

pub fn validate(files: &[PathBuf], limits: Limits) -> Result<(), Failure> {
    let mut bad = 0;
    for f in files {
        match load(f, None).and_then(|plan| admit(f, &plan, limits, Usage::run(false)).map(|()| plan)) {
            Ok(plan) => say!("{}: ok ({})", f.display(), plan.name),
            Err(e) => {
                eprintln!("error: {}", e.message);
                bad += 1;
            }
        }
    }
    if bad == 0 {
        return Ok(());
    }
    Err(Failure { status: 2, message: format!("{bad} of {} scenario files invalid", files.len()) })
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
