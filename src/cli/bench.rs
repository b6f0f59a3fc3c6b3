//! `kafkasim bench`: how much virtual world a run moves per second of wall time, and its peak
//! memory. Wall-clock reads live here, outside the simulation.

use super::common::{Failure, load, say};
use crate::kafka::world::World;
use crate::record::DiscardRows;
use crate::scenario::Plan;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The benchmark scenarios, built in so `kafkasim bench` works from any folder.
pub const PER_RECORD: &str = include_str!("../../benches/per-record.yaml");
pub const LARGE: &str = include_str!("../../benches/large.yaml");

/// What `kafkasim bench` times.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Timed {
    /// The whole run, the producers on a thread of their own when there is a second core.
    Run,
    /// The whole run in one thread (as a sweep runs when its runs fill every core).
    OneThread,
    /// The producers alone: what the world's appends read, made and handed to no one.
    ProducersAlone,
}

/// Times each scenario in turn, or without any the two built-in ones (benches/per-record.yaml,
/// then benches/large.yaml). Every file is checked before the first run, so a typo in the second
/// one does not cost the first one's run time.
pub fn run_all(paths: &[PathBuf], what: Timed) -> Result<(), Failure> {
    let mut plans: Vec<(String, Plan)> = Vec::new();
    if paths.is_empty() {
        for (label, text) in [("benches/per-record.yaml", PER_RECORD), ("benches/large.yaml", LARGE)] {
            let label = format!("{label} (built in)");
            plans.push((label.clone(), crate::scenario::parse(&label, text)?));
        }
    }
    for p in paths {
        plans.push((p.display().to_string(), load(p, None)?));
    }
    for (i, (label, plan)) in plans.into_iter().enumerate() {
        if i > 0 {
            say!("");
        }
        if what == Timed::ProducersAlone {
            producers_alone(&label, &plan);
        } else {
            run_plan(&label, plan, what == Timed::OneThread)?;
        }
    }
    Ok(())
}

/// Times `path`, or the built-in scenarios without one.
pub fn run(path: Option<&Path>) -> Result<(), Failure> {
    let paths: Vec<PathBuf> = path.map(Path::to_path_buf).into_iter().collect();
    run_all(&paths, Timed::Run)
}

/// Times the producers of `plan` alone, in this thread: every tick of the run, its batches, and
/// the merge that puts every batch in the order it reaches the broker (what a run's appends
/// read). A run costs this and the world's own work; the difference is the world's.
fn producers_alone(label: &str, plan: &Plan) {
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let mut generator = crate::kafka::build::producers_alone(plan);
    let (batches, records) = generator.run_alone();
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu_before).map(|(after, before)| after - before);
    say!("scenario          {} ({label}), producers alone", plan.name);
    say!("virtual time      {:.0} s", plan.duration.as_nanos() as f64 / 1e9);
    say!("wall time         {wall:.3} s (one thread, no world)");
    if let Some(cpu) = cpu {
        say!("cpu time          {cpu:.2} s (user + system)");
    }
    let per = |n: u64| if n == 0 { 0.0 } else { wall * 1e9 / n as f64 };
    say!("batches           {batches} ({:.1} ns of wall time each)", per(batches));
    say!("records           {records} ({:.1} ns of wall time each)", per(records));
}

fn run_plan(label: &str, plan: Plan, one_thread: bool) -> Result<(), Failure> {
    // The same ceilings as `run`, for a run without its report; the estimate is printed beside
    // the measurement to keep it honest.
    let estimate = crate::kafka::budget::check(&plan, Default::default(), crate::kafka::budget::Usage::bench())
        .map_err(|m| Failure { status: 2, message: format!("{label}: {m}") })?;
    let name = plan.name.clone();
    let virtual_s = plan.duration.as_nanos() as f64 / 1e9;
    // Each scenario's peak is its own: the kernel's high-water mark restarts from what is
    // resident now (the previous run's memory is freed by then).
    let peak_is_own = reset_peak_rss();
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let mut world = World::new(plan);
    world.check_invariants = false;
    world.producer_thread &= !one_thread;
    let threads = if world.producer_thread { "producers on a thread of their own" } else { "one thread" };
    // `kafkasim run` streams metrics rows to metrics.csv as they are sampled; the benchmark
    // times the simulation, so its rows go nowhere (and, as in a run, are not kept).
    world.metric_sink = Some(Box::new(DiscardRows));
    world.run();
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu_before).map(|(after, before)| after - before);
    let records: u64 = world.broker.partitions.iter().map(|p| p.log.log_end_offset()).sum();
    let processed: u64 = world.rec.groups.iter().map(|g| g.records_processed).sum();
    let events = world.kernel.events_processed();
    let peak = peak_rss_bytes();
    say!("scenario          {name} ({label})");
    say!("virtual time      {virtual_s:.0} s");
    say!("wall time         {wall:.3} s ({threads})");
    if let Some(cpu) = cpu {
        say!("cpu time          {cpu:.2} s (user + system, every thread)");
    }
    say!("events            {events} ({:.2} M events/s)", events as f64 / wall / 1e6);
    say!("records produced  {records} ({:.2} M records/s)", records as f64 / wall / 1e6);
    say!("records processed {processed}");
    match peak {
        Some(p) if peak_is_own => say!("peak memory       {:.0} MB (VmHWM)", p as f64 / 1e6),
        Some(p) => say!("peak memory       {:.0} MB (VmHWM, process-wide: could not reset it)", p as f64 / 1e6),
        None => say!("peak memory       unavailable on this platform"),
    }
    say!(
        "estimated before  {:.2e} events, {} (the plan-level estimate that refuses runaway worlds)",
        estimate.events(),
        crate::kafka::budget::bytes_text(estimate.memory_bytes())
    );
    for p in &estimate.memory {
        say!("  memory {:>10}  {}", crate::kafka::budget::bytes_text(p.amount), p.what);
    }
    for p in &estimate.work {
        say!("  work   {:>10.2e}  {}", p.amount, p.what);
    }
    Ok(())
}

/// CPU time of the whole process so far, from /proc (Linux, in clock ticks of 10 ms); None elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces, so split after its closing paren):
    // utime and stime are the 12th and 13th of them.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Peak resident set size from /proc (Linux); None elsewhere.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Writing 5 to /proc/self/clear_refs resets VmHWM to the current RSS (Linux 4.0+).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
