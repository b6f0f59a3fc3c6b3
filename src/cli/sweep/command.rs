//! `kafkasim sweep` and `sweep-merge`: the commands; the sweep itself is in this module's siblings.

use super::super::common::{Failure, Limits, Writing, admit, build, check_budget, in_target, load, say, usage};
use super::super::outdir;
use super::{Manifest, settings};
use crate::kafka::budget::Usage;
use crate::scenario::Plan;
use std::path::{Path, PathBuf};

/// How many runs a sweep makes and where: seeds per combination, the first seed, threads, a slice.
pub struct SweepRuns {
    pub seeds: u32,
    pub seed: Option<u64>,
    pub jobs: Option<usize>,
    pub shard: Option<String>,
}

pub fn sweep(
    path: &Path,
    set: &[String],
    runs: SweepRuns,
    plots: Vec<String>,
    out: Option<PathBuf>,
    writing: Writing,
    limits: Limits,
) -> Result<(), Failure> {
    let SweepRuns { seeds, seed, jobs, shard } = runs;
    let base = load(path, seed)?;
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    admit(path, &base, limits, Usage::run(false))?;
    let (m, shard) = manifest(path, set, seeds, shard.as_deref(), &base, plots)?;
    let plans = budgeted_plans(path, &m, base.seed, jobs, limits)?;
    check_plots(path, &m, &plans)?;
    let dir = out.unwrap_or_else(|| Path::new("output").join(format!("{}-sweep", base.name)));
    // The folder is checked and locked first: a refusal costs no simulation.
    let staging = outdir::begin(&dir, writing.force)?;
    let mine = (0..m.runs()).filter(|r| r % shard.1 == shard.0).count();
    let started = std::time::Instant::now();
    let rows = run_with_progress(&plans, &m, shard, jobs, mine)?;
    let secs = started.elapsed().as_secs_f64();
    let written = if shard.1 > 1 {
        super::write_part(staging.path(), &m, shard, &rows)
    } else {
        super::table::write_all(staging.path(), &m, &rows)
    };
    written.map_err(in_target(&staging, &dir))?;
    staging.commit()?;
    let failed = rows.iter().filter(|r| r.failed > 0).count();
    say!(
        "{}: {mine} runs{} on {jobs} threads in {secs:.1} s; {failed} with failed expectations",
        m.scenario,
        if shard.1 > 1 { format!(" (shard {}/{})", shard.0, shard.1) } else { String::new() }
    );
    if shard.1 == 1 {
        say!("{}", super::table::markdown(&m, &rows).trim_end());
    }
    say!("wrote {}", dir.display());
    Ok(())
}

/// What the sweep is, from the file and the options, and the slice of it to run (all of it
/// without --shard); bad settings, seeds or shard refused in that order.
fn manifest(
    path: &Path,
    set: &[String],
    seeds: u32,
    shard: Option<&str>,
    base: &Plan,
    plots: Vec<String>,
) -> Result<(Manifest, (usize, usize)), Failure> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| usage(format!("{file}: cannot read: {e}")))?;
    let settings = set.iter().map(|s| settings::parse_set(s)).collect::<Result<Vec<_>, _>>().map_err(usage)?;
    if seeds == 0 {
        return Err(usage("--seeds must be at least 1"));
    }
    if let Some(s) = settings.iter().find(|s| s.path == "seed") {
        return Err(usage(format!("--set {}: sweep seeds with --seeds N (and --seed for the first)", s.path)));
    }
    let shard = shard.map(super::parse_shard).transpose().map_err(usage)?.unwrap_or((0, 1));
    let m = Manifest {
        scenario: base.name.clone(),
        scenario_text: text.clone(),
        scenario_digest: super::digest(&text),
        settings,
        seeds,
        base_seed: base.seed,
        plots,
    };
    if m.runs() > 1_000_000 {
        return Err(usage(format!("{} runs; a sweep takes at most 1000000 (fewer values or seeds)", m.runs())));
    }
    Ok((m, shard))
}

/// Every combination's plan, at the base seed, each held to the ceilings a run is.
fn budgeted_plans(path: &Path, m: &Manifest, seed: u64, jobs: usize, limits: Limits) -> Result<Vec<Plan>, Failure> {
    // Up to `jobs` runs side by side, each keeping only its summary.
    let how = Usage { worlds: jobs.clamp(1, m.runs().max(1)) as u32, ..Usage::run(false) };
    let mut plans = super::plans(&path.display().to_string(), &m.scenario_text, m)?;
    for p in &mut plans {
        p.seed = seed;
        // Every combination is held to the ceilings a run is (one run at a time per thread).
        check_budget(path, p, limits, how)?;
    }
    Ok(plans)
}

/// A --plot naming no figure is bad input, before anything runs: the first combination's
/// world, built but not run, gives the summary's paths.
fn check_plots(path: &Path, m: &Manifest, plans: &[Plan]) -> Result<(), Failure> {
    let probe = {
        let w = build(path, plans[0].clone())?;
        let mut f = Vec::new();
        super::flatten(&crate::report::summary::summary(&w.run_record()), "", &mut f);
        vec![super::RunRow { run: 0, seed: 0, passed: 0, failed: 0, figures: f, failures: Vec::new() }]
    };
    for p in &m.plots {
        let one = Manifest { plots: vec![p.clone()], ..m.clone() };
        if super::figures::plot_paths(&one, &probe).is_empty() {
            return Err(usage(format!(
                "--plot `{p}`: no such figure; use a summary path relative to a group (lag_records.max) or absolute (groups.<id>.lost)"
            )));
        }
    }
    Ok(())
}

/// Runs this slice's `mine` runs on `jobs` threads, with a progress bar on a terminal.
fn run_with_progress(
    plans: &[Plan],
    m: &Manifest,
    shard: (usize, usize),
    jobs: usize,
    mine: usize,
) -> Result<Vec<super::RunRow>, Failure> {
    let bar = super::super::progress::runs_bar(mine as u64);
    let rows = super::run(plans, m, shard, jobs, &|done, _| {
        if let Some(b) = &bar {
            b.set_position(done as u64);
        }
    })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    Ok(rows)
}

pub fn sweep_merge(dirs: &[PathBuf], out: &Path, writing: Writing) -> Result<(), Failure> {
    let (m, rows) = super::read_parts(dirs).map_err(usage)?;
    let staging = outdir::begin(out, writing.force)?;
    super::table::write_all(staging.path(), &m, &rows).map_err(in_target(&staging, out))?;
    staging.commit()?;
    say!("{}", super::table::markdown(&m, &rows).trim_end());
    say!("wrote {}", out.display());
    Ok(())
}
