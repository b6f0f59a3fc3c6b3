//! `kafkasim bench`: how much virtual world a run moves per second of wall time, and its peak
//! memory. Wall-clock reads live here, outside the simulation.

use crate::cli::{Failure, load, say};
use crate::kafka::world::World;
use std::path::Path;
use std::time::Instant;

pub fn run(path: &Path) -> Result<(), Failure> {
    let plan = load(path, None)?;
    // The same ceilings as `run`; the estimate is printed beside the measurement to keep it honest.
    let estimate = crate::scenario::budget::check(&plan, Default::default(), false)
        .map_err(|m| Failure { status: 2, message: format!("{}: {m}", path.display()) })?;
    let name = plan.name.clone();
    let virtual_s = plan.duration.as_nanos() as f64 / 1e9;
    let rss_before = peak_rss_bytes();
    let started = Instant::now();
    let mut world = World::new(plan);
    world.check_invariants = false;
    world.run();
    let wall = started.elapsed().as_secs_f64();
    let records: u64 = world.partitions.iter().map(|p| p.log.log_end_offset()).sum();
    let processed: u64 = world.rec.groups.iter().map(|g| g.records_processed).sum();
    let events = world.kernel.events_processed();
    let peak = peak_rss_bytes();
    say!("scenario          {name}");
    say!("virtual time      {virtual_s:.0} s");
    say!("wall time         {wall:.2} s");
    say!("events            {events} ({:.2} M events/s)", events as f64 / wall / 1e6);
    say!("records produced  {records} ({:.2} M records/s)", records as f64 / wall / 1e6);
    say!("records processed {processed}");
    match (peak, rss_before) {
        (Some(p), _) => say!("peak memory       {:.0} MB (VmHWM)", p as f64 / 1e6),
        _ => say!("peak memory       unavailable on this platform"),
    }
    say!(
        "estimated before  {:.2e} events, {} (the plan-level estimate that refuses runaway worlds)",
        estimate.events(),
        crate::scenario::budget::bytes_text(estimate.memory_bytes())
    );
    for p in &estimate.memory {
        say!("  memory {:>10}  {}", crate::scenario::budget::bytes_text(p.amount), p.what);
    }
    for p in &estimate.work {
        say!("  work   {:>10.2e}  {}", p.amount, p.what);
    }
    Ok(())
}

/// Peak resident set size from /proc (Linux); None elsewhere.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
