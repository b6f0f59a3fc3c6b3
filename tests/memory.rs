//! Memory follows the backlog: records every reader is done with are freed, and records a reader
//! may still go back to stay (a later group reading from `earliest`, a planned rewind).

use crate::util::run_yaml;
use kafkasim::kafka::world::World;

const KEEPING_UP: &str = "
name: keeping-up
seed: 3
duration: 20s
sample_interval: 1s
topics:
  - {name: t, partitions: 4}
producers:
  - {name: p, topic: t, rate: 4000/s}
groups:
  - {id: g, topics: [t], consumers: 2, poll_interval: 5ms, processing: 0.01ms, commit: after_processing, auto_offset_reset: earliest}
";

/// Records still in memory, summed over partitions, and records in the logs.
fn held(w: &World) -> (u64, u64) {
    let logs = w.broker.partitions.iter().map(|p| &p.log);
    logs.fold((0, 0), |(h, n), l| (h + l.log_end_offset() - l.retained_from(), n + l.log_end_offset()))
}

#[test]
fn a_group_that_keeps_up_leaves_little_in_memory() {
    let w = run_yaml(KEEPING_UP);
    let (held, produced) = held(&w);
    assert!(produced > 70_000, "{produced}");
    // At most the chunk being filled and the one before it, per partition.
    assert!(held <= 4 * 2 * 512, "{held} of {produced} records still held");
}

#[test]
fn records_past_the_committed_offset_stay_for_a_crash_to_reread() {
    // Auto-commit every 5 s: up to 5 s of records (20,000) wait past the committed offsets.
    let w = run_yaml(&KEEPING_UP.replace("commit: after_processing", "commit: auto"));
    let (held, _) = held(&w);
    let committed_behind: u64 = (0..4u32)
        .map(|p| w.broker.partitions[p as usize].log.log_end_offset() - w.groups[0].offsets().committed(p).unwrap())
        .sum();
    assert!(committed_behind > 4 * 1024, "{committed_behind}");
    assert!(held >= committed_behind, "{held} held, {committed_behind} past the committed offsets");
}

#[test]
fn a_planned_rewind_keeps_every_record() {
    let y = format!("{KEEPING_UP}timeline:\n  - {{at: 15s, seek: {{consumer: g-1, topic: t, to: earliest}}}}\n");
    let w = run_yaml(&y);
    let (held, produced) = held(&w);
    assert_eq!(held, produced);
}

#[test]
fn a_group_added_later_from_earliest_keeps_every_record_until_it_reads_them() {
    let y = format!(
        "{KEEPING_UP}timeline:\n  - at: 19s\n    add_group: {{id: late, topics: [t], consumers: 1, poll_interval: 1s, max_poll_records: 1, auto_offset_reset: earliest}}\n"
    );
    let w = run_yaml(&y);
    let (held, produced) = held(&w);
    // The late group has read almost nothing by the end: nearly everything is still there.
    assert!(held + 10 >= produced, "{held} of {produced}");
}
