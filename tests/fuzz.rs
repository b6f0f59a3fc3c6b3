//! The fuzz targets of `fuzz/` on stable: a bounded number of seeded random inputs, so every
//! `cargo test` runs what the nightly fuzzer runs. Inputs that once broke something stay here
//! as regression cases.

#[path = "../fuzz/common.rs"]
mod common;

use crate::util::*;
use rand::{Rng, SeedableRng};

/// Random bytes, and random byte edits of every shipped scenario, through parse + validate.
#[test]
fn parse_target_on_random_inputs() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
    let mut bases: Vec<Vec<u8>> =
        std::fs::read_dir(repo("scenarios")).unwrap().map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect();
    bases.sort();
    for i in 0..3000 {
        let mut data = if i % 3 == 0 {
            (0..rng.gen_range(0..200)).map(|_| rng.r#gen::<u8>()).collect()
        } else {
            bases[i % bases.len()].clone()
        };
        for _ in 0..rng.gen_range(1..6) {
            let at = rng.gen_range(0..=data.len());
            match rng.gen_range(0..3) {
                0 => data.insert(at, b"[]{}:-,&*!|>'\"#\n 0123456789abz."[rng.gen_range(0..31)]),
                1 if at < data.len() => {
                    data.remove(at);
                }
                _ if at < data.len() => data[at] = rng.r#gen(),
                _ => {}
            }
        }
        common::parse_and_validate(&data);
    }
}

/// Tiny generated scenarios run with every invariant on; any panic fails with the input.
/// `FUZZ_RUNS=N` runs more of them.
#[test]
fn run_target_on_random_inputs() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
    let runs: usize = std::env::var("FUZZ_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(150);
    for _ in 0..runs {
        let data: Vec<u8> = (0..rng.gen_range(0..120)).map(|_| rng.r#gen::<u8>()).collect();
        if std::env::var_os("FUZZ_PRINT").is_some() {
            eprintln!("---- input\n{}", common::tiny_scenario(&data));
        }
        if let Err(e) = std::panic::catch_unwind(|| common::tiny_run(&data)) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("the run target failed on\n{}\n{msg}", common::tiny_scenario(&data));
        }
    }
}

/// Found by the run target: g2's static member g2c2 dies at once (auto_offset_reset: none), stays a
/// member until its session times out, and a rebalance without it gave partition 2 to g2c1 while
/// the dead member still held it. A dead member now keeps only what the new assignment leaves it.
#[test]
fn fuzz_found_partition_given_while_owned() {
    run_yaml(include_str!("fuzz-found/given-while-owned.yaml"));
}

/// Found by the run target: a static member that lost its membership to a poll timeout still held
/// a partition the next generation gave away; and the new owner, starting at `latest` before any
/// commit, jumped over records: counted as skipped on purpose (lost to the offset reset), as the
/// at-least-once invariant allows.
/// Found by the run target: consumers added to a group after `remove_group` resume from its
/// committed offsets, so memory must keep the records above them.
#[test]
fn fuzz_found_consumer_added_to_a_removed_group() {
    run_yaml(include_str!("fuzz-found/consumer-added-to-removed-group.yaml"));
}

/// Found by the run target with FUZZ_RUNS=60000: a reset_offsets on a partition with no commit
/// yet jumped over what the group had read since it started and not processed, without counting
/// it as skipped on purpose.
#[test]
fn fuzz_found_reset_before_the_first_commit() {
    run_yaml(include_str!("fuzz-found/reset-before-first-commit.yaml"));
}

#[test]
fn fuzz_found_poll_timeout_static_member_and_latest_reset() {
    let w = run_yaml(include_str!("fuzz-found/poll-timeout-static-latest.yaml"));
    let s = summary(&w);
    assert!(s["groups"]["g0"]["lost_by_cause"]["offset_reset"].as_u64().is_some());
}

/// Most generated scenarios are valid, so the run target really runs.
#[test]
fn the_generator_mostly_makes_valid_scenarios() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let valid = (0..200)
        .filter(|_| {
            let data: Vec<u8> = (0..100).map(|_| rng.r#gen::<u8>()).collect();
            kafkasim::scenario::parse("g.yaml", &common::tiny_scenario(&data)).is_ok()
        })
        .count();
    assert!(valid > 100, "only {valid} of 200 generated scenarios are valid");
}
