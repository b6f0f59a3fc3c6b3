//! `cargo bench --bench draws`: the random draws of benches/per-record.yaml alone, with the crates
//! and distributions the producers use (a ChaCha8 stream each for arrivals and keys, one `Exp1`
//! gap rounded to the nanosecond and one key uniform over 1,000,000 per record; 10 producers x
//! 600,000 records). No kafkasim code runs: it is the floor under the per-record CPU target of
//! issue 25, which the simulator cannot go below without changing its outputs (docs/speed.md).
//! Run it under `/usr/bin/time -f "%U+%S"` for its CPU time.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1};

fn main() {
    let started = std::time::Instant::now();
    let mut sum = 0u64;
    for producer in 0..10u64 {
        let mut arrivals = ChaCha8Rng::seed_from_u64(producer);
        let mut keys = ChaCha8Rng::seed_from_u64(1_000 + producer);
        let mut t = 0u64;
        for _ in 0..600_000 {
            let e: f64 = Exp1.sample(&mut arrivals);
            t += (e * 1e9 / 10_000.0).round() as u64;
            let key: u64 = keys.gen_range(0..1_000_000);
            sum = sum.wrapping_add(t ^ key);
        }
    }
    let wall = started.elapsed().as_secs_f64();
    // (The sum keeps the draws from being optimised away.)
    println!("6,000,000 records' draws: {wall:.3} s wall, {:.1} ns a record (checksum {sum:x})", wall * 1e9 / 6e6);
}
