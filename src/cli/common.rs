//! What every command shares: exit statuses (`Failure`), printing to stdout (`say!`), loading a
//! scenario, the cost ceilings and admitting a plan under them, and building its world.

use super::outdir;
use crate::kafka::budget::{self, Ceilings, Usage};
use crate::kafka::world::World;
use crate::scenario::{self, ScenarioError};
use clap::Args;
use std::io::Read;
use std::path::Path;

/// Ceilings on what a run may cost, estimated from the scenario before it starts.
#[derive(Args, Clone, Copy)]
pub struct Limits {
    /// Refuse scenarios estimated to need more memory than this (e.g. 8GB; default 4GiB).
    #[arg(long, value_parser = budget::parse_size, value_name = "SIZE")]
    max_memory: Option<u64>,
    /// Refuse scenarios estimated to need more events of work than this (default 1000000000).
    #[arg(long, value_name = "N")]
    max_events: Option<u64>,
}

impl Limits {
    pub fn ceilings(self) -> Ceilings {
        let d = Ceilings::default();
        Ceilings {
            max_memory: self.max_memory.unwrap_or(d.max_memory),
            max_events: self.max_events.unwrap_or(d.max_events),
        }
    }
}

/// Options of commands that write an output folder.
#[derive(Args, Clone, Copy)]
pub struct Writing {
    /// Replace --out even if it exists and was not written by kafkasim.
    #[arg(long)]
    pub force: bool,
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

pub fn usage(message: impl Into<String>) -> Failure {
    Failure { status: 2, message: message.into() }
}

/// Reads a scenario file, or standard input for `-` (named `<stdin>` in errors).
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
pub fn check_budget(path: &Path, plan: &scenario::Plan, limits: Limits, how: Usage) -> Result<(), Failure> {
    budget::check(plan, limits.ceilings(), how).map(|_| ()).map_err(|m| usage(format!("{}: {m}", path.display())))
}

/// Admits a loaded plan: its cost within the ceilings (checked before anything is allocated),
/// then every expectation naming a figure the run reports.
pub fn admit(path: &Path, plan: &scenario::Plan, limits: Limits, how: Usage) -> Result<(), Failure> {
    check_budget(path, plan, limits, how)?;
    let name = if path.as_os_str() == "-" { "<stdin>".to_string() } else { path.display().to_string() };
    super::check::figures_exist(&name, plan)?;
    Ok(())
}

/// Builds the world of a plan the ceilings admitted; a table the machine still cannot allocate is
/// an error that says so (exit 2), not an abort.
pub fn build(path: &Path, plan: scenario::Plan) -> Result<World, Failure> {
    World::try_new(plan).map_err(|e| usage(format!("{}: {e}", path.display())))
}

/// Errors about files in a staging folder name the user's --out folder instead.
pub fn in_target(staging: &outdir::Staging, shown: &Path) -> impl Fn(anyhow::Error) -> Failure + use<> {
    let from = staging.path().display().to_string();
    let to = shown.display().to_string();
    move |e| Failure { status: 1, message: format!("{e:#}").replace(&from, &to) }
}
