//! Same scenario + same seed = the same bytes; another seed = other bytes; adding a consumer
//! leaves what the producers did unchanged (one random stream per entity).

use crate::util::*;

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let scenario = repo("scenarios/reference.yaml");
    let run = |seed: &str, name: &str| {
        let dir = temp_dir(name);
        let out = kafkasim().args(["run", "--seed", seed, "--out"]).arg(&dir).arg(&scenario).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        read_all(&dir)
    };
    let a = run("7", "det-a");
    let b = run("7", "det-b");
    let c = run("8", "det-c");
    for name in ["summary.json", "metrics.csv", "events.jsonl", "lag.png", "lag.svg"] {
        assert!(a.iter().any(|f| f.0 == name), "{name} is written");
    }
    for ((na, ba), (nb, bb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        assert!(ba == bb, "{na} differs between two runs with the same seed");
    }
    let differs = |name: &str| {
        let x = &a.iter().find(|f| f.0 == name).unwrap().1;
        let y = &c.iter().find(|f| f.0 == name).unwrap().1;
        x != y
    };
    assert!(differs("summary.json") && differs("metrics.csv"), "another seed must change the run");
}

#[test]
fn adding_a_consumer_does_not_change_what_producers_do() {
    let base = std::fs::read_to_string(repo("scenarios/queue-group.yaml")).unwrap();
    let more = base.replace("consumers: 3", "consumers: 4");
    assert_ne!(base, more);
    let a = run_yaml(&base);
    let b = run_yaml(&more);
    let leo = |w: &kafkasim::kafka::world::World| -> Vec<u64> {
        w.broker.partitions.iter().map(|p| p.log.log_end_offset()).collect()
    };
    assert_eq!(leo(&a), leo(&b));
    // Per-record timestamps too, not only counts: every record both runs still hold in memory
    // (records every reader is done with are freed).
    let mut compared = 0;
    for (pa, pb) in a.broker.partitions.iter().zip(&b.broker.partitions) {
        let from = pa.log.retained_from().max(pb.log.retained_from());
        let (mut ta, mut tb) = (vec![], vec![]);
        pa.log.for_each_created(from, pa.log.log_end_offset(), |o, t| ta.push((o, t)));
        pb.log.for_each_created(from, pb.log.log_end_offset(), |o, t| tb.push((o, t)));
        assert_eq!(ta, tb);
        compared += ta.len();
    }
    assert!(compared > 0);
}

/// `run --check-determinism` on every shipped scenario: two runs in one process, every output
/// byte compared.
#[test]
fn every_shipped_scenario_passes_check_determinism() {
    let mut files: Vec<_> = std::fs::read_dir(repo("scenarios")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files {
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        let dir = temp_dir(&format!("check-det-{name}"));
        let out =
            kafkasim().args(["run", "--check-determinism", "--out"]).arg(dir.join("out")).arg(&f).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("byte-identical"), "{name}: {stdout}");
    }
}

/// `--check-invariants` runs every check; a violation (the fuzz-found scenario still has one)
/// stops the run with the seed, the virtual time and the command that reproduces it.
#[test]
fn check_invariants_reports_how_to_reproduce() {
    let dir = temp_dir("check-inv");
    let ok = kafkasim()
        .args(["run", "--check-invariants", "--out"])
        .arg(dir.join("a"))
        .arg(repo("scenarios/reference.yaml"))
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let found = repo("tests/fuzz-found/given-while-owned.yaml");
    let out = kafkasim().args(["run", "--check-invariants", "--out"]).arg(dir.join("b")).arg(&found).output().unwrap();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("(seed 203)") && err.contains("virtual time 1900 ms"), "{err}");
        assert!(
            err.contains(&format!("reproduce: kafkasim run {} --seed 203 --check-invariants", found.display())),
            "{err}"
        );
        assert!(!dir.join("b").exists(), "nothing written");
    }
}

/// The producers run on a thread of their own when there is a second core, or in the world's
/// thread: every shipped scenario gives the same summary, metrics rows and events either way.
#[test]
fn producers_on_their_own_thread_change_nothing() {
    for f in crate::scenarios::scenario_files() {
        let plan = kafkasim::scenario::load(&f).unwrap_or_else(|e| panic!("{e}"));
        let run = |thread: bool| {
            let mut w = kafkasim::kafka::world::World::new(plan.clone());
            w.producer_thread = thread;
            w.run();
            let rows = format!("{:?}", w.rec.metrics);
            (summary(&w).to_string(), rows, format!("{:?}", w.rec.events))
        };
        assert!(run(true) == run(false), "{}: the producers' thread changed the run", f.display());
    }
}

/// `kafkasim bench` says how the run was threaded, and `--one-thread` keeps the producers in the
/// world's thread with the same simulated outcome.
#[test]
fn bench_reports_its_threads_and_the_same_run_either_way() {
    let scenario = repo("scenarios/queue-group.yaml");
    let bench = |extra: &[&str]| {
        let out = kafkasim().arg("bench").args(extra).arg(&scenario).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let line = |text: &str, start: &str| text.lines().find(|l| l.starts_with(start)).unwrap_or("").to_string();
    let one = bench(&["--one-thread"]);
    let default = bench(&[]);
    assert!(line(&one, "wall time").ends_with("(one thread)"), "{one}");
    assert!(line(&one, "cpu time").contains(" s "), "{one}");
    for what in ["events ", "records processed"] {
        let (a, b) = (line(&one, what), line(&default, what));
        assert!(!a.is_empty(), "{one}");
        // (events/s differ with the wall time; the count before it does not)
        assert_eq!(a.split(" (").next(), b.split(" (").next(), "{what}");
    }
}

/// `kafkasim bench --producers-only` makes the same records the whole run appends, and says it
/// timed them without the world.
#[test]
fn bench_producers_only_makes_the_records_the_run_appends() {
    for name in ["queue-group.yaml", "add-partitions-keyed.yaml", "push-vs-pull-burst.yaml"] {
        let scenario = repo(&format!("scenarios/{name}"));
        let bench = |extra: &[&str]| {
            let out = kafkasim().arg("bench").args(extra).arg(&scenario).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        };
        let count = |text: &str, start: &str| -> u64 {
            let line = text.lines().find(|l| l.starts_with(start)).unwrap_or_else(|| panic!("{start}: {text}"));
            line[start.len()..].split_whitespace().next().unwrap().parse().unwrap()
        };
        let alone = bench(&["--producers-only"]);
        let run = bench(&[]);
        assert!(alone.contains("(one thread, no world)"), "{alone}");
        let records = count(&alone, "records ");
        assert!(records > 1000, "{alone}");
        assert_eq!(records, count(&run, "records produced"), "{name}:\n{alone}\n{run}");
    }
}
