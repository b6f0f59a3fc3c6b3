//! The command line: clap arguments -> checked requests -> library calls. Thin on purpose.
//! Exit status: 0 success, 2 bad input (scenario, arguments), 1 anything else.

use crate::kafka::murmur2::partition_for_key;
use crate::kafka::world::World;
use crate::outdir;
use crate::scenario::budget::{self, Ceilings};
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
    /// Run a scenario and write summary.json, metrics.csv, events.jsonl and charts.
    Run {
        /// The scenario YAML file.
        scenario: PathBuf,
        /// Output folder (default: output/<scenario name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overrides the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
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
    /// compare.md, charts, and both runs' folders).
    Compare {
        scenario: PathBuf,
        /// Output folder (default: output/<scenario name>-compare/).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        seed: Option<u64>,
        #[command(flatten)]
        writing: Writing,
        #[command(flatten)]
        limits: Limits,
    },
    /// Check scenario files without running them (including their estimated cost).
    Validate {
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
        /// range | roundrobin | sticky | cooperative-sticky
        #[arg(long)]
        strategy: String,
        /// JSON: {"topics": {"orders": 6}, "members": [{"id": "c1", "topics": ["orders"], "owned": {"orders": [0]}}]};
        /// `-` reads standard input.
        file: PathBuf,
    },
    /// Run a scenario for speed: events/s, simulated records/s and peak memory.
    Bench {
        /// The scenario to time (default: benches/large.yaml).
        #[arg(default_value = "benches/large.yaml")]
        scenario: PathBuf,
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
        Command::Run { scenario, out, seed, check_determinism, check_invariants, writing, limits } => {
            let checks = RunChecks { determinism: check_determinism, invariants: check_invariants };
            run(&scenario, out, seed, checks, writing, limits)
        }
        Command::Validate { files, limits } => validate(&files, limits),
        Command::Compare { scenario, out, seed, writing, limits } => compare(&scenario, out, seed, writing, limits),
        Command::Partition { partitions, json, keys } => partition(partitions, json, keys),
        Command::Assign { strategy, file } => assign(&strategy, &file),
        Command::Bench { scenario } => crate::bench::run(&scenario),
    }
}

/// Loads a scenario, applying a `--seed` override.
pub fn load(path: &Path, seed: Option<u64>) -> Result<scenario::Plan, Failure> {
    let mut plan = scenario::load(path)?;
    if let Some(s) = seed {
        plan.seed = s;
    }
    Ok(plan)
}

/// Refuses a plan whose estimated cost is over the ceilings (exit 2, with the estimate).
fn check_budget(path: &Path, plan: &scenario::Plan, limits: Limits, invariants: bool) -> Result<(), Failure> {
    budget::check(plan, limits.ceilings(), invariants)
        .map(|_| ())
        .map_err(|m| usage(format!("{}: {m}", path.display())))
}

#[derive(Clone, Copy)]
struct RunChecks {
    determinism: bool,
    invariants: bool,
}

/// Runs a plan; with invariant checks on, a violation becomes an error that says how to
/// reproduce it instead of a panic.
fn simulate(path: &Path, plan: scenario::Plan, invariants: bool) -> Result<World, Failure> {
    let seed = plan.seed;
    let mut world = World::new(plan);
    if !invariants {
        world.run();
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
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| world.run()));
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
    check_budget(path, &plan, limits, checks.invariants)?;
    let dir = out.unwrap_or_else(|| Path::new("output").join(&plan.name));
    // The folder is checked and locked first: a refusal costs no simulation.
    let staging = outdir::begin(&dir, writing.force)?;
    let again = checks.determinism.then(|| plan.clone());
    let world = simulate(path, plan, checks.invariants)?;
    let explain = in_target(&staging, &dir);
    let written = crate::report::write_outputs(&world, staging.path()).map_err(&explain)?;
    if let Some(plan) = again {
        let seed = plan.seed;
        let second = simulate(path, plan, checks.invariants)?;
        let scratch = staging.sibling()?;
        crate::report::write_outputs(&second, scratch.path()).map_err(&explain)?;
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
    say!("{}", crate::report::console::run_summary(&world));
    if checks.determinism {
        say!("determinism check: two runs gave byte-identical outputs ({} files)", written.len());
    }
    say!("wrote {} files to {}", written.len(), dir.display());
    Ok(())
}

fn validate(files: &[PathBuf], limits: Limits) -> Result<(), Failure> {
    let mut bad = 0;
    for f in files {
        match load(f, None).and_then(|plan| check_budget(f, &plan, limits, false).map(|()| plan)) {
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
    writing: Writing,
    limits: Limits,
) -> Result<(), Failure> {
    let plan = load(path, seed)?;
    // The ceilings apply to each of the two runs.
    check_budget(path, &plan, limits, false)?;
    let dir = out.unwrap_or_else(|| Path::new("output").join(format!("{}-compare", plan.name)));
    let staging = outdir::begin(&dir, writing.force)?;
    let cmp = crate::compare::run(&plan)?;
    let table = crate::compare::write(&cmp, staging.path()).map_err(in_target(&staging, &dir))?;
    staging.commit()?;
    say!("{}", table.trim_end());
    say!("wrote {}", dir.display());
    Ok(())
}
