//! Expectations against a run's summary: where a named figure lives in summary.json, whether it
//! exists at all (checked before a run, so a typo is bad input), and pass or fail.

use super::common::{Failure, Limits, admit, build, load, say};
use crate::kafka::budget::Usage;
use crate::kafka::world::World;
use crate::scenario::{self, Plan, ScenarioError};
use serde_json::Value;
use std::path::PathBuf;

use crate::report::expectations::base;
pub use crate::report::expectations::{Outcome, evaluate, resolve};

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
