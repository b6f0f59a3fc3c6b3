//! Helpers: run a scenario from text or file, a temporary folder, the binary.

use kafkasim::kafka::world::World;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn plan(yaml: &str) -> kafkasim::scenario::Plan {
    kafkasim::scenario::parse("test.yaml", yaml).unwrap_or_else(|e| panic!("{e}"))
}

pub fn run_yaml(yaml: &str) -> World {
    let mut w = World::new(plan(yaml));
    w.check_invariants = true;
    w.run();
    w
}

pub fn run_file(path: &Path) -> World {
    let plan = kafkasim::scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
    let mut w = World::new(plan);
    w.check_invariants = true;
    w.run();
    w
}

/// The run's events as the outputs show them (names, JSON fields).
pub fn logged(w: &World) -> Vec<kafkasim::report::events::LoggedEvent> {
    kafkasim::report::events::logged(&w.plan, &w.rec.events)
}

pub fn summary(w: &World) -> serde_json::Value {
    kafkasim::report::summary::summary(&w.run_record())
}

/// A fresh empty folder under the target directory (no temp-dir crate needed).
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

pub fn kafkasim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kafkasim"))
}

/// Every file in `dir` with its bytes, sorted by name.
pub fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        // The marker says who wrote the folder, not what the run computed.
        .filter(|e| e.as_ref().is_ok_and(|e| e.file_name() != kafkasim::cli::outdir::MARKER))
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// FNV-1a 64, a stable digest for golden manifests.
pub fn digest(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Seeds a seed-sweep test runs: `default`, or `KAFKASIM_SWEEP_SEEDS=N` to explore further
/// (`KAFKASIM_SWEEP_SEEDS=500 cargo test --release sweep`).
pub fn sweep_seeds(default: u64) -> u64 {
    std::env::var("KAFKASIM_SWEEP_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// A sweep group's `consumers:` entries c1..cn, each starting at a random second below
/// `start_below_s`, static members (i1..in) when `static_members`.
pub fn sweep_consumers(rng: &mut impl rand::Rng, n: u32, static_members: bool, start_below_s: u32) -> String {
    (1..=n)
        .map(|i| {
            let iid = if static_members { format!(", group_instance_id: i{i}") } else { String::new() };
            format!("      - {{name: c{i}, start_at: {}s{iid}}}\n", rng.gen_range(0..start_below_s))
        })
        .collect()
}

/// Compares an output's text with its golden copy; on a difference, panics with a unified diff
/// (golden first) so the failure shows what changed. With UPDATE_GOLDEN=1 it writes the copy.
pub fn assert_golden_text(golden: &Path, actual: &str, what: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(golden, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(golden)
        .unwrap_or_else(|_| panic!("no golden copy {}; run with UPDATE_GOLDEN=1", golden.display()));
    if expected != actual {
        let diff = similar::TextDiff::from_lines(&expected, actual)
            .unified_diff()
            .context_radius(2)
            .header(&golden.display().to_string(), "this run")
            .to_string();
        panic!("{what} changed; if intended, refresh with UPDATE_GOLDEN=1 and say why in the commit:\n{diff}");
    }
}

/// A sweep's random `timeline:` entries: 2 to 7 of them, each at a random second in `at` for a
/// random consumer c1..cn, with the action `action` draws for it (draws in that order, so a
/// seed always gives the same timeline).
pub fn sweep_timeline<R: rand::Rng>(
    rng: &mut R,
    n: u32,
    at: std::ops::Range<u32>,
    mut action: impl FnMut(&mut R, u32) -> String,
) -> String {
    let mut timeline = String::new();
    for _ in 0..rng.gen_range(2..8) {
        let c = rng.gen_range(1..=n);
        let t = rng.gen_range(at.clone());
        let what = action(rng, c);
        timeline.push_str(&format!("  - {{at: {t}s, {what}}}\n"));
    }
    timeline
}
