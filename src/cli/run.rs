//! `kafkasim run`: one scenario end to end, into a staged output folder, with the optional
//! determinism check, invariant checks and narration.

use super::common::{Failure, Limits, Writing, admit, build, in_target, load, say};
use super::outdir;
use crate::kafka::budget::Usage;
use crate::kafka::world::World;
use crate::scenario;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy)]
pub struct RunChecks {
    pub determinism: bool,
    pub invariants: bool,
    pub narrate: bool,
}

/// Runs a plan, streaming its metrics rows to `sink` and showing a progress bar on a terminal when
/// `progress`; with invariant checks on, a violation becomes an error that says how to reproduce
/// it instead of a panic.
pub fn simulate(
    path: &Path,
    plan: scenario::Plan,
    invariants: bool,
    sink: Option<Box<dyn crate::record::MetricSink + Send>>,
    progress: bool,
) -> Result<World, Failure> {
    let seed = plan.seed;
    let mut world = build(path, plan)?;
    world.metric_sink = sink;
    let (label, total) = (world.plan.name.clone(), world.plan.duration.as_nanos());
    let clocks: Vec<_> = if progress { vec![world.kernel.watch()] } else { Vec::new() };
    if !invariants {
        super::progress::with_progress(&label, &clocks, total, || world.run());
        return Ok(world);
    }
    world.check_invariants = true;
    let message = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let previous = std::panic::take_hook();
    let m = message.clone();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        *m.lock().unwrap_or_else(|e| e.into_inner()) = text;
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        super::progress::with_progress(&label, &clocks, total, || world.run())
    }));
    std::panic::set_hook(previous);
    match result {
        Ok(()) => Ok(world),
        Err(_) => {
            let what = message.lock().unwrap_or_else(|e| e.into_inner()).clone();
            Err(Failure {
                status: 1,
                message: format!(
                    "invariant violated at virtual time {} ms (seed {seed}): {what}\nreproduce: kafkasim run {} --seed {seed} --check-invariants",
                    world.kernel.now().as_millis_f64(),
                    path.display()
                ),
            })
        }
    }
}

pub fn run(
    path: &Path,
    out: Option<PathBuf>,
    seed: Option<u64>,
    checks: RunChecks,
    writing: Writing,
    limits: Limits,
) -> Result<(), Failure> {
    let plan = load(path, seed)?;
    admit(path, &plan, limits, Usage::run(checks.invariants))?;
    let dir = out.unwrap_or_else(|| Path::new("output").join(&plan.name));
    // The folder is checked and locked first: a refusal costs no simulation.
    let staging = outdir::begin(&dir, writing.force)?;
    let explain = in_target(&staging, &dir);
    let again = checks.determinism.then(|| plan.clone());
    // metrics.csv is written as the run samples: its rows never pile up in memory.
    let sink = crate::report::metrics_sink(staging.path(), &plan).map_err(&explain)?;
    let mut world = simulate(path, plan, checks.invariants, Some(sink), true)?;
    let streamed = world.metric_sink.take();
    let run = world.run_record();
    let written = crate::report::write_outputs_streamed(&run, staging.path(), streamed).map_err(&explain)?;
    if let Some(plan) = again {
        let seed = plan.seed;
        let scratch = staging.sibling()?;
        let sink = crate::report::metrics_sink(scratch.path(), &plan).map_err(&explain)?;
        let mut second = simulate(path, plan, checks.invariants, Some(sink), true)?;
        let streamed = second.metric_sink.take();
        crate::report::write_outputs_streamed(&second.run_record(), scratch.path(), streamed).map_err(&explain)?;
        if let Some(diff) = outdir::first_difference(staging.path(), scratch.path()).map_err(|e| explain(e.into()))? {
            return Err(Failure {
                status: 1,
                message: format!(
                    "determinism check failed: {diff} between two runs of {} with seed {seed}; nothing was written. This is a simulator bug: please report it with the scenario",
                    path.display()
                ),
            });
        }
    }
    staging.commit()?;
    if checks.narrate {
        for line in crate::report::narrate::story(&run) {
            say!("{line}");
        }
        say!("");
    }
    say!("{}", crate::report::console::run_summary(&run));
    let outcomes = super::check::evaluate(run.plan, &crate::report::summary::summary(&run));
    if !outcomes.is_empty() {
        let failed = outcomes.iter().filter(|o| !o.pass).count();
        say!("expectations: {} passed, {failed} failed", outcomes.len() - failed);
        for o in outcomes.iter().filter(|o| !o.pass) {
            say!("  {}", o.line());
        }
    }
    if checks.determinism {
        say!("determinism check: two runs gave byte-identical outputs ({} files)", written.len());
    }
    if let Some(note) = crate::report::files::thinning_note(run.plan) {
        say!("{note}");
    }
    say!("wrote {} files to {}", written.len(), dir.display());
    Ok(())
}
