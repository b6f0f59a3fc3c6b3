//! The command line: clap arguments -> checked requests -> library calls. Thin on purpose.
//! Exit status: 0 success, 2 bad input (scenario, arguments), 1 anything else.

use crate::kafka::murmur2::partition_for_key;
use crate::kafka::world::World;
use crate::outdir;
use crate::scenario::budget::{self, Ceilings, Usage};
use crate::scenario::{self, ScenarioError};
use clap::{Args, Parser, Subcommand};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kafkasim",
    version,
    about = "A deterministic discrete-event simulator of Apache Kafka's messaging workflow"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Ceilings on what a run may cost, estimated from the scenario before it starts.
#[derive(Args, Clone, Copy)]
struct Limits {
    /// Refuse scenarios estimated to need more memory than this (e.g. 8GB; default 4GiB).
    #[arg(long, value_parser = budget::parse_size, value_name = "SIZE")]
    max_memory: Option<u64>,
    /// Refuse scenarios estimated to need more events of work than this (default 1000000000).
    #[arg(long, value_name = "N")]
    max_events: Option<u64>,
}

impl Limits {
    fn ceilings(self) -> Ceilings {
        let d = Ceilings::default();
        Ceilings {
            max_memory: self.max_memory.unwrap_or(d.max_memory),
            max_events: self.max_events.unwrap_or(d.max_events),
        }
    }
}

/// Options of commands that write an output folder.
#[derive(Args, Clone, Copy)]
struct Writing {
    /// Replace --out even if it exists and was not written by kafkasim.
    #[arg(long)]
    force: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and write summary.json, metrics.csv, events.jsonl, charts and index.html.
    Run {
        /// The scenario YAML file; `-` reads it from standard input.
        scenario: PathBuf,
        /// Output folder (default: output/<scenario name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overrides the scenario's seed (same scenario + same seed = same output bytes).
        #[arg(long)]
        seed: Option<u64>,
        /// Also print the control-plane story in plain words, one line per step, each tagged with
        /// its workflow step ([publish], [rebalance], [commit], ...).
        #[arg(long)]
        narrate: bool,
        /// Run the scenario twice in this process and fail unless every output byte is equal.
        #[arg(long)]
        check_determinism: bool,
        /// Check the model's invariants after every event; a violation stops the run with the
        /// seed, the virtual time and the command that reproduces it.
        #[arg(long)]
        check_invariants: bool,
        #[command(flatten)]
        writing: Writing,
        #[command(flatten)]
        limits: Limits,
    },
    /// Run a scenario twice, every group pulling and then pushing, and compare (compare.json,
    /// compare.md, charts, index.html, and both runs' folders).
    Compare {
        /// The scenario YAML file; `-` reads it from standard input.
        scenario: PathBuf,
        /// Output folder (default: output/<scenario name>-compare/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overrides the scenario's seed (both runs use it).
        #[arg(long)]
        seed: Option<u64>,
        /// `consumer,share`: run every group as a classic consumer group and then as a share
        /// group (KIP-932) instead of pulling and then pushing.
        #[arg(long, value_name = "consumer,share")]
        groups: Option<String>,
        #[command(flatten)]
        writing: Writing,
        #[command(flatten)]
        limits: Limits,
    },
    /// Run scenarios and check their `expect:` entries: one line per expectation, pass or fail,
    /// with the measured value. Exit status 1 if any fails, 2 for bad input.
    Check {
        /// Scenario files with `expect:` entries.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Overrides each scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        #[command(flatten)]
        limits: Limits,
    },
    /// Run a scenario over the cross product of settings, times seeds, in parallel; write
    /// sweep.csv (a row per run), sweep.md (medians) and sweep.json. Results never depend on --jobs.
    Sweep {
        /// The scenario YAML file.
        scenario: PathBuf,
        /// A field by path and the values to try: `groups.billing.consumers=1,2,4,8`,
        /// `groups.billing.protocol=eager,cooperative`, `producers.web.rate=1000/s,2000/s`.
        /// Repeat for a cross product.
        #[arg(long = "set", value_name = "PATH=V1,V2,...")]
        set: Vec<String>,
        /// Seeds per combination: the scenario's seed (or --seed) plus 0, 1, ... N-1.
        #[arg(long, default_value_t = 1)]
        seeds: u32,
        /// Overrides the scenario's seed (the first seed of every combination).
        #[arg(long)]
        seed: Option<u64>,
        /// Runs at once (default: the machine's cores). Each run is single-threaded.
        #[arg(long)]
        jobs: Option<usize>,
        /// Run only slice I of N (runs whose index modulo N is I); join slices with sweep-merge.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// A figure to tabulate and chart against the first setting (repeatable): a summary path
        /// relative to each group (`lag_records.max`) or absolute (`groups.billing.lost`).
        #[arg(long = "plot", value_name = "FIGURE")]
        plots: Vec<String>,
        /// Output folder (default: output/<scenario name>-sweep/).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        writing: Writing,
        #[command(flatten)]
        limits: Limits,
    },
    /// Join the folders of `sweep --shard I/N` runs into the whole sweep's outputs.
    SweepMerge {
        /// The shard folders, every slice exactly once.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder for the merged sweep.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        writing: Writing,
    },
    /// Check scenario files without running them (including their estimated cost).
    Validate {
        /// Scenario YAML files; `-` reads one from standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        limits: Limits,
    },
    /// Print the partition Kafka's default partitioner picks for each key (murmur2 of its UTF-8 bytes).
    Partition {
        /// Number of partitions of the topic.
        #[arg(long)]
        partitions: u32,
        /// Print JSON: [{"key": "...", "partition": N}, ...].
        #[arg(long)]
        json: bool,
        /// Keys; `-` reads keys from standard input, one per line.
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// Print the assignment Kafka's assignor gives, for members and topics in a JSON file.
    Assign {
        /// The assignor (partition.assignment.strategy): range | roundrobin | sticky | cooperative-sticky
        #[arg(long)]
        strategy: String,
        /// JSON: {"topics": {"orders": 6}, "members": [{"id": "c1", "topics": ["orders"], "owned": {"orders": [0]}}]};
        /// `-` reads standard input.
        file: PathBuf,
    },
    /// Run scenarios for speed: wall time, events, simulated records/s and peak memory.
    Bench {
        /// The scenarios to time, one after the other (default: the two benchmark scenarios built
        /// into kafkasim, the same as benches/per-record.yaml and benches/large.yaml); `-` reads
        /// one from standard input.
        scenarios: Vec<PathBuf>,
        /// Run the producers in the world's thread, as a sweep does when its runs fill every
        /// core (by default they get a thread of their own when there is a second core).
        #[arg(long)]
        one_thread: bool,
    },
}

/// Prints a line to stdout; a closed pipe (`kafkasim ... | head`) ends the program quietly
/// instead of panicking as `println!` would, and any other write error (a full disk) exits 1
/// with the reason, so a lost result is never reported as success.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        if let Err(e) = writeln!(out, $($arg)*).and_then(|_| out.flush()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("error: writing to standard output: {e}");
            std::process::exit(1);
        }
    }};
}
pub(crate) use say;

/// An error with the exit status it maps to.
pub struct Failure {
    pub status: u8,
    pub message: String,
}

impl From<ScenarioError> for Failure {
    fn from(e: ScenarioError) -> Self {
        Failure { status: 2, message: e.to_string() }
    }
}

impl From<outdir::OutError> for Failure {
    fn from(e: outdir::OutError) -> Self {
        Failure { status: if e.usage { 2 } else { 1 }, message: e.message }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure { status: 1, message: format!("{e:#}") }
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure { status: 2, message: message.into() }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.status)
        }
    }
}

fn dispatch(cmd: Command) -> Result<(), Failure> {
    match cmd {
        Command::Run { scenario, out, seed, narrate, check_determinism, check_invariants, writing, limits } => {
            let checks = RunChecks { determinism: check_determinism, invariants: check_invariants, narrate };
            run(&scenario, out, seed, checks, writing, limits)
        }
        Command::Validate { files, limits } => validate(&files, limits),
        Command::Check { files, seed, limits } => check(&files, seed, limits),
        Command::Sweep { scenario, set, seeds, seed, jobs, shard, plots, out, writing, limits } => {
            let runs = SweepRuns { seeds, seed, jobs, shard };
            sweep(&scenario, &set, runs, plots, out, writing, limits)
        }
        Command::SweepMerge { dirs, out, writing } => sweep_merge(&dirs, &out, writing),
        Command::Compare { scenario, out, seed, groups, writing, limits } => {
            compare(&scenario, out, seed, groups, writing, limits)
        }
        Command::Partition { partitions, json, keys } => partition(partitions, json, keys),
        Command::Assign { strategy, file } => assign(&strategy, &file),
        Command::Bench { scenarios, one_thread } => crate::bench::run_all(&scenarios, one_thread),
    }
}

/// Reads a scenario file, or standard input for `-` (named "<stdin>" in errors).
pub fn load_scenario(path: &Path) -> Result<scenario::Plan, ScenarioError> {
    if path.as_os_str() != "-" {
        return scenario::load(path);
    }
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| ScenarioError {
        file: "<stdin>".into(),
        location: scenario::Location::File,
        message: format!("cannot read the scenario from standard input: {e}"),
    })?;
    scenario::parse("<stdin>", &text)
}

/// Loads a scenario (`-`: from standard input), applying a `--seed` override.
pub fn load(path: &Path, seed: Option<u64>) -> Result<scenario::Plan, Failure> {
    let mut plan = load_scenario(path)?;
    if let Some(s) = seed {
        plan.seed = s;
    }
    Ok(plan)
}

/// Refuses a plan whose estimated cost is over the ceilings (exit 2, with the estimate).
fn check_budget(path: &Path, plan: &scenario::Plan, limits: Limits, how: Usage) -> Result<(), Failure> {
    budget::check(plan, limits.ceilings(), how).map(|_| ()).map_err(|m| usage(format!("{}: {m}", path.display())))
}

/// Admits a loaded plan: its cost within the ceilings (checked before anything is allocated),
/// then every expectation naming a figure the run reports.
fn admit(path: &Path, plan: &scenario::Plan, limits: Limits, how: Usage) -> Result<(), Failure> {
    check_budget(path, plan, limits, how)?;
    let name = if path.as_os_str() == "-" { "<stdin>".to_string() } else { path.display().to_string() };
    crate::check::figures_exist(&name, plan)?;
    Ok(())
}

/// Builds the world of a plan the ceilings admitted; a table the machine still cannot allocate is
/// an error that says so (exit 2), not an abort.
fn build(path: &Path, plan: scenario::Plan) -> Result<World, Failure> {
    World::try_new(plan).map_err(|e| usage(format!("{}: {e}", path.display())))
}

#[derive(Clone, Copy)]
struct RunChecks {
    determinism: bool,
    invariants: bool,
    narrate: bool,
}

/// Runs a plan, streaming its metrics rows to `sink` and showing a progress bar on a terminal when
/// `progress`; with invariant checks on, a violation becomes an error that says how to reproduce
/// it instead of a panic.
fn simulate(
    path: &Path,
    plan: scenario::Plan,
    invariants: bool,
    sink: Option<Box<dyn crate::kafka::world::MetricSink + Send>>,
    progress: bool,
) -> Result<World, Failure> {
    let seed = plan.seed;
    let mut world = build(path, plan)?;
    world.metric_sink = sink;
    let (label, total) = (world.plan.name.clone(), world.plan.duration.as_nanos());
    let clocks: Vec<_> = if progress { vec![world.kernel.watch()] } else { Vec::new() };
    if !invariants {
        crate::progress::with_progress(&label, &clocks, total, || world.run());
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
        crate::progress::with_progress(&label, &clocks, total, || world.run())
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

/// Errors about files in a staging folder name the user's --out folder instead.
fn in_target(staging: &outdir::Staging, shown: &Path) -> impl Fn(anyhow::Error) -> Failure + use<> {
    let from = staging.path().display().to_string();
    let to = shown.display().to_string();
    move |e| Failure { status: 1, message: format!("{e:#}").replace(&from, &to) }
}

fn run(
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
    let sink = crate::report::metrics_sink(staging.path()).map_err(&explain)?;
    let mut world = simulate(path, plan, checks.invariants, Some(sink), true)?;
    let streamed = world.metric_sink.take();
    let written = crate::report::write_outputs_streamed(&world, staging.path(), streamed).map_err(&explain)?;
    if let Some(plan) = again {
        let seed = plan.seed;
        let scratch = staging.sibling()?;
        let sink = crate::report::metrics_sink(scratch.path()).map_err(&explain)?;
        let mut second = simulate(path, plan, checks.invariants, Some(sink), true)?;
        let streamed = second.metric_sink.take();
        crate::report::write_outputs_streamed(&second, scratch.path(), streamed).map_err(&explain)?;
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
        for line in crate::report::narrate::story(&world) {
            say!("{line}");
        }
        say!("");
    }
    say!("{}", crate::report::console::run_summary(&world));
    let outcomes = crate::check::evaluate(&world.plan, &crate::report::summary::summary(&world));
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
    say!("wrote {} files to {}", written.len(), dir.display());
    Ok(())
}

/// How many runs a sweep makes and where: seeds per combination, the first seed, threads, a slice.
struct SweepRuns {
    seeds: u32,
    seed: Option<u64>,
    jobs: Option<usize>,
    shard: Option<String>,
}

fn sweep(
    path: &Path,
    set: &[String],
    runs: SweepRuns,
    plots: Vec<String>,
    out: Option<PathBuf>,
    writing: Writing,
    limits: Limits,
) -> Result<(), Failure> {
    let SweepRuns { seeds, seed, jobs, shard } = runs;
    let shard = shard.as_deref();
    use crate::sweep::{self, Manifest};
    let base = load(path, seed)?;
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    admit(path, &base, limits, Usage::run(false))?;
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| usage(format!("{file}: cannot read: {e}")))?;
    let settings = set.iter().map(|s| sweep::settings::parse_set(s)).collect::<Result<Vec<_>, _>>().map_err(usage)?;
    if seeds == 0 {
        return Err(usage("--seeds must be at least 1"));
    }
    if let Some(s) = settings.iter().find(|s| s.path == "seed") {
        return Err(usage(format!("--set {}: sweep seeds with --seeds N (and --seed for the first)", s.path)));
    }
    let shard = shard.map(sweep::parse_shard).transpose().map_err(usage)?.unwrap_or((0, 1));
    let m = Manifest {
        scenario: base.name.clone(),
        scenario_text: text.clone(),
        scenario_digest: sweep::digest(&text),
        settings,
        seeds,
        base_seed: base.seed,
        plots,
    };
    if m.runs() > 1_000_000 {
        return Err(usage(format!("{} runs; a sweep takes at most 1000000 (fewer values or seeds)", m.runs())));
    }
    // Up to `jobs` runs side by side, each keeping only its summary.
    let how = Usage { check_invariants: false, rows_kept: false, worlds: jobs.clamp(1, m.runs().max(1)) as u32 };
    let mut plans = sweep::plans(&file, &text, &m)?;
    for p in &mut plans {
        p.seed = base.seed;
        // Every combination is held to the ceilings a run is (one run at a time per thread).
        check_budget(path, p, limits, how)?;
    }
    // A --plot naming no figure is bad input, before anything runs.
    let probe = {
        let w = build(path, plans[0].clone())?;
        let mut f = Vec::new();
        sweep::flatten(&crate::report::summary::summary(&w), "", &mut f);
        vec![sweep::RunRow { run: 0, seed: 0, passed: 0, failed: 0, figures: f }]
    };
    for p in &m.plots {
        let one = Manifest { plots: vec![p.clone()], ..m.clone() };
        if sweep::table::plot_paths(&one, &probe).is_empty() {
            return Err(usage(format!(
                "--plot `{p}`: no such figure; use a summary path relative to a group (lag_records.max) or absolute (groups.<id>.lost)"
            )));
        }
    }
    let dir = out.unwrap_or_else(|| Path::new("output").join(format!("{}-sweep", base.name)));
    // The folder is checked and locked first: a refusal costs no simulation.
    let staging = outdir::begin(&dir, writing.force)?;
    let mine = (0..m.runs()).filter(|r| r % shard.1 == shard.0).count();
    let bar = crate::progress::runs_bar(mine as u64);
    let started = std::time::Instant::now();
    let rows = sweep::run(&plans, &m, shard, jobs, &|done, _| {
        if let Some(b) = &bar {
            b.set_position(done as u64);
        }
    })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let secs = started.elapsed().as_secs_f64();
    let written = if shard.1 > 1 {
        sweep::write_part(staging.path(), &m, shard, &rows)
    } else {
        sweep::table::write_all(staging.path(), &m, &rows)
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
        say!("{}", sweep::table::markdown(&m, &rows).trim_end());
    }
    say!("wrote {}", dir.display());
    Ok(())
}

fn sweep_merge(dirs: &[PathBuf], out: &Path, writing: Writing) -> Result<(), Failure> {
    let (m, rows) = crate::sweep::read_parts(dirs).map_err(usage)?;
    let staging = outdir::begin(out, writing.force)?;
    crate::sweep::table::write_all(staging.path(), &m, &rows).map_err(in_target(&staging, out))?;
    staging.commit()?;
    say!("{}", crate::sweep::table::markdown(&m, &rows).trim_end());
    say!("wrote {}", out.display());
    Ok(())
}

fn check(files: &[PathBuf], seed: Option<u64>, limits: Limits) -> Result<(), Failure> {
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
        world.metric_sink = Some(Box::new(crate::kafka::world::DiscardRows));
        world.run();
        let outcomes = crate::check::evaluate(&world.plan, &crate::report::summary::summary(&world));
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

fn validate(files: &[PathBuf], limits: Limits) -> Result<(), Failure> {
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

fn partition(partitions: u32, json: bool, keys: Vec<String>) -> Result<(), Failure> {
    if partitions == 0 {
        return Err(usage("--partitions must be at least 1"));
    }
    let mut all = Vec::new();
    for k in keys {
        if k == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| usage(format!("reading keys from stdin: {e}")))?;
            all.extend(text.lines().map(str::to_string));
        } else {
            all.push(k);
        }
    }
    let rows: Vec<(String, u32)> = all
        .into_iter()
        .map(|k| {
            let p = partition_for_key(k.as_bytes(), partitions);
            (k, p)
        })
        .collect();
    if json {
        let v: Vec<serde_json::Value> =
            rows.iter().map(|(k, p)| serde_json::json!({ "key": k, "partition": p })).collect();
        say!("{}", serde_json::to_string_pretty(&v).map_err(anyhow::Error::from)?);
    } else {
        for (k, p) in rows {
            say!("{k}\t{p}");
        }
    }
    Ok(())
}

fn assign(strategy: &str, file: &Path) -> Result<(), Failure> {
    use crate::kafka::assignor::{AssignorKind, assign_json};
    let kind = AssignorKind::parse(strategy).ok_or_else(|| {
        usage(format!("unknown --strategy `{strategy}`; allowed: range, roundrobin, sticky, cooperative-sticky"))
    })?;
    let text = if file.as_os_str() == "-" {
        let mut t = String::new();
        std::io::stdin().read_to_string(&mut t).map_err(|e| usage(format!("reading standard input: {e}")))?;
        t
    } else {
        std::fs::read_to_string(file).map_err(|e| usage(format!("{}: cannot read: {e}", file.display())))?
    };
    let name = if file.as_os_str() == "-" { "<stdin>".to_string() } else { file.display().to_string() };
    // The same bound as scenarios: enough for any real group, and never a runaway output.
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
        let total: u64 = v["topics"].as_object().map_or(0, |t| t.values().filter_map(|n| n.as_u64()).sum());
        if total > 10_000 {
            return Err(usage(format!("{name}: {total} partitions in all; at most 10000 are supported")));
        }
        let members = v["members"].as_array().map_or(0, Vec::len);
        if members as u64 > scenario::validate::MAX_CONSUMERS {
            return Err(usage(format!(
                "{name}: {members} members; at most {} are supported",
                scenario::validate::MAX_CONSUMERS
            )));
        }
    }
    let out = assign_json(kind, &text).map_err(|e| usage(format!("{name}: {e}")))?;
    say!("{}", out.trim_end());
    Ok(())
}

fn compare(
    path: &Path,
    out: Option<PathBuf>,
    seed: Option<u64>,
    groups: Option<String>,
    writing: Writing,
    limits: Limits,
) -> Result<(), Failure> {
    use crate::compare::Axis;
    let axis = match groups.as_deref() {
        None => Axis::Delivery,
        Some("consumer,share") => Axis::GroupType,
        Some(other) => {
            return Err(usage(format!(
                "--groups {other}: the one comparison of group types is `--groups consumer,share`"
            )));
        }
    };
    let plan = load(path, seed)?;
    // Both worlds are built before either runs, and keep their metrics rows.
    admit(path, &plan, limits, Usage { check_invariants: false, rows_kept: true, worlds: 2 })?;
    let (mut a, mut b) =
        crate::compare::prepare(&plan, axis).map_err(|why| usage(format!("{}: {why}", path.display())))?;
    let suffix = if axis == Axis::Delivery { "compare" } else { "compare-groups" };
    let dir = out.unwrap_or_else(|| Path::new("output").join(format!("{}-{suffix}", plan.name)));
    let staging = outdir::begin(&dir, writing.force)?;
    let [l, r] = axis.sides();
    let (label, total) = (format!("{} {l} and {r}", plan.name), plan.duration.as_nanos());
    let clocks = [a.kernel.watch(), b.kernel.watch()];
    let cmp = crate::progress::with_progress(&label, &clocks, total, || crate::compare::finish(axis, a, b))?;
    let table = crate::compare::write(&cmp, staging.path()).map_err(in_target(&staging, &dir))?;
    staging.commit()?;
    say!("{}", table.trim_end());
    say!("wrote {}", dir.display());
    Ok(())
}
