//! The command line: clap arguments -> checked requests -> library calls. Thin on purpose.
//! Exit status: 0 success, 2 bad input (scenario, arguments), 1 anything else.

pub mod assign_json;
pub mod bench;
pub mod check;
pub mod common;
pub mod compare;
pub mod outdir;
pub mod progress;
pub mod run;
pub mod sweep;
pub mod tools;

use clap::{Parser, Subcommand};
use common::{Failure, Limits, Writing};
use std::path::PathBuf;
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
    /// Check scenario files without running them, including that their estimated cost is within the
    /// limits (`--max-events`, `--max-memory`)
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
        /// The assignor. classic protocol (partition.assignment.strategy): range | roundrobin |
        /// sticky | cooperative-sticky; consumer protocol (group.remote.assignor): uniform | range
        #[arg(long)]
        strategy: String,
        /// The group protocol: classic (client-side assignors; `owned` is what each member owns)
        /// or consumer (KIP-848 server-side assignors; `owned` is each member's previous target
        /// assignment, and the order of members, of `topics` and of `owned` stands in for Kafka's
        /// hash orders)
        #[arg(long, default_value = "classic", value_name = "PROTOCOL")]
        protocol: String,
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
        /// Time the producers alone (their draws, batches and the merge into the order batches
        /// reach the broker), without the world: how much of a run's CPU they take by themselves
        #[arg(long, conflicts_with = "one_thread")]
        producers_only: bool,
    },
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
            let checks = run::RunChecks { determinism: check_determinism, invariants: check_invariants, narrate };
            run::run(&scenario, out, seed, checks, writing, limits)
        }
        Command::Validate { files, limits } => check::validate(&files, limits),
        Command::Check { files, seed, limits } => check::check(&files, seed, limits),
        Command::Sweep { scenario, set, seeds, seed, jobs, shard, plots, out, writing, limits } => {
            let runs = sweep::command::SweepRuns { seeds, seed, jobs, shard };
            sweep::command::sweep(&scenario, &set, runs, plots, out, writing, limits)
        }
        Command::SweepMerge { dirs, out, writing } => sweep::command::sweep_merge(&dirs, &out, writing),
        Command::Compare { scenario, out, seed, groups, writing, limits } => {
            compare::command(&scenario, out, seed, groups, writing, limits)
        }
        Command::Partition { partitions, json, keys } => tools::partition(partitions, json, keys),
        Command::Assign { strategy, protocol, file } => tools::assign(&strategy, &protocol, &file),
        Command::Bench { scenarios, one_thread, producers_only } => {
            let what = if producers_only {
                bench::Timed::ProducersAlone
            } else if one_thread {
                bench::Timed::OneThread
            } else {
                bench::Timed::Run
            };
            bench::run_all(&scenarios, what)
        }
    }
}
