//! `kafkasim bench`: how much virtual world a run moves per second of wall time, and its peak
//! memory. Wall-clock reads live here, outside the simulation.

use crate::cli::{Failure, load, say};
use crate::kafka::world::World;
use std::path::Path;
use std::time::Instant;

/// The benchmark scenario, built in so `kafkasim bench` works from any folder.
pub const LARGE: &str = include_str!("../benches/large.yaml");

/// Times `path`, or the built-in benchmark scenario without one.
pub fn run(path: Option<&Path>) -> Result<(), Failure> {
    let plan = match path {
        Some(p) => load(p, None)?,
        None => crate::scenario::parse("benches/large.yaml (built in)", LARGE)?,
    };
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
    Ok(())
}

/// Peak resident set size from /proc (Linux); None elsewhere.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
