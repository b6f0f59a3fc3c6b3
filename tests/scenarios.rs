//! Every scenario shipped in scenarios/ runs with invariants checked after every event, and
//! validates; the reference scenario matches its golden manifest byte for byte.

use crate::util::*;

pub(crate) fn scenario_files() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(repo("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    assert!(v.len() >= 7, "scenarios/ holds the shipped scenarios");
    v
}

#[test]
fn every_shipped_scenario_runs_with_invariants_checked() {
    for f in scenario_files() {
        let w = run_file(&f);
        let s = summary(&w);
        assert!(s["records_produced"].as_u64().unwrap() > 0, "{}", f.display());
        for (id, g) in s["groups"].as_object().unwrap() {
            assert!(g["records_processed"].as_u64().unwrap() > 0, "{} group {id}", f.display());
        }
    }
}

#[test]
fn the_reference_scenario_in_scenarios_is_the_contract() {
    let shared = repo("../shared/scenario-reference.yaml");
    if let Ok(contract) = std::fs::read_to_string(&shared) {
        let ours = std::fs::read_to_string(repo("scenarios/reference.yaml")).unwrap();
        // The contract, then only the expectations that state its lesson (`kafkasim check`).
        let (body, expect) = ours.split_at(ours.find("\nexpect:").map_or(ours.len(), |i| i + 1));
        assert_eq!(body, contract, "scenarios/reference.yaml must stay a copy of shared/scenario-reference.yaml");
        assert!(expect.is_empty() || expect.starts_with("expect:"), "only an expect: block may follow the contract");
    }
}

/// Golden manifests: each file's size and digest. Refresh with UPDATE_GOLDEN=1 after an
/// intended change, and say why in the commit.
#[test]
fn shipped_scenarios_reproduce_their_golden_outputs() {
    for f in scenario_files() {
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        let dir = temp_dir(&format!("golden-{name}"));
        let status = kafkasim().arg("run").arg(&f).arg("--out").arg(&dir).output().unwrap();
        assert!(status.status.success(), "{name}: {}", String::from_utf8_lossy(&status.stderr));
        let manifest: String =
            read_all(&dir).iter().map(|(n, b)| format!("{n} {} {:016x}\n", b.len(), digest(b))).collect();
        let golden = repo(&format!("tests/golden/{name}.txt"));
        assert_golden_text(&golden, &manifest, &format!("{name}'s outputs (file, size, digest)"));
    }
}

/// The reference scenario's outputs as text, not only digests: summary.json whole, and the
/// first events and metrics rows. A change fails with a diff of the lines that moved.
#[test]
fn the_reference_scenario_reproduces_its_golden_text() {
    let dir = temp_dir("golden-text-reference");
    let out = kafkasim().arg("run").arg(repo("scenarios/reference.yaml")).arg("--out").arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let head = |file: &str, n: usize| -> String {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        text.lines().take(n).map(|l| format!("{l}\n")).collect()
    };
    let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert_golden_text(&repo("tests/golden/reference/summary.json"), &summary, "reference summary.json");
    assert_golden_text(
        &repo("tests/golden/reference/events-first-60.jsonl"),
        &head("events.jsonl", 60),
        "reference events.jsonl (first 60 events)",
    );
    assert_golden_text(
        &repo("tests/golden/reference/metrics-first-25.csv"),
        &head("metrics.csv", 25),
        "reference metrics.csv (first 25 lines)",
    );
    // The golden text is the manifest's too: the same summary.json bytes.
    let manifest = std::fs::read_to_string(repo("tests/golden/reference.txt")).unwrap();
    let line = format!("summary.json {} {:016x}", summary.len(), digest(summary.as_bytes()));
    assert!(manifest.lines().any(|l| l == line), "summary.json's golden text and manifest disagree: {line}");
}

/// Every shipped scenario states its lesson as expectations, and they hold (`kafkasim check`).
#[test]
fn every_shipped_scenario_checks_itself() {
    for f in scenario_files() {
        let file = f.display().to_string();
        let plan = kafkasim::scenario::load(&f).unwrap_or_else(|e| panic!("{e}"));
        assert!(plan.expect.len() >= 3, "{file}: state the scenario's lesson with at least three expectations");
        kafkasim::cli::check::figures_exist(&file, &plan).unwrap_or_else(|e| panic!("{e}"));
        let mut w = kafkasim::kafka::world::World::new(plan);
        w.check_invariants = true;
        w.run();
        for o in kafkasim::cli::check::evaluate(&w.plan, &summary(&w)) {
            assert!(o.pass, "{file}: {}", o.line());
        }
    }
}

/// `kafkasim check`: exit 0 when every expectation holds, 1 when one fails (with the measured
/// value), 2 when one names a figure that does not exist (with the list of what does).
#[test]
fn check_exit_status_and_lines() {
    let dir = temp_dir("check-cli");
    let base = std::fs::read_to_string(repo("scenarios/standby.yaml")).unwrap();
    let body = &base[..base.find("expect:").unwrap()];
    let write = |name: &str, expect: &str| {
        let p = dir.join(name);
        std::fs::write(&p, format!("{body}expect:\n{expect}")).unwrap();
        p
    };
    let good = write("good.yaml", "  - {group: ledger, consumer: ledger-5, state_at_end: standby}\n");
    let out = kafkasim().arg("check").arg(&good).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("PASS  group ledger consumer ledger-5  state_at_end = standby  (measured standby)"),
        "{text}"
    );

    let failing = write("failing.yaml", "  - {group: ledger, lag_records.max: {below: 10}}\n");
    let out = kafkasim().arg("check").arg(&failing).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAIL  group ledger  lag_records.max < 10  (measured 688)"), "{text}");

    let unknown = write("unknown.yaml", "  - {group: ledger, lag_recrds.max: 3}\n");
    let out = kafkasim().arg("check").arg(&unknown).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("expect[0].lag_recrds.max") && err.contains("lag_records.max"), "{err}");
}

/// The README starts with the two set-up commands, and the guide (docs/guide.md) names every
/// shipped scenario.
#[test]
fn the_readme_starts_with_the_setup_and_the_guide_documents_every_scenario() {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let top: Vec<&str> = readme.lines().take(6).collect();
    assert!(top.iter().any(|l| l.starts_with("cargo run --release -- run scenarios/reference.yaml")));
    assert!(top.iter().any(|l| l.starts_with("cargo test")));
    let guide = std::fs::read_to_string(repo("docs/guide.md")).unwrap();
    for f in scenario_files() {
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(guide.contains(&format!("`{name}`")), "docs/guide.md does not describe scenario {name}");
    }
}

/// The README's first scenario prints what the README shows: its YAML block is run as a user
/// would run it (`kafkasim run first.yaml`, from a folder of its own) and the console block must
/// match, line for line.
#[test]
fn the_readmes_first_scenario_prints_what_the_readme_shows() {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let block = |fence: &str| -> String {
        let start = readme.find(fence).unwrap_or_else(|| panic!("no {fence} block")) + fence.len();
        let end = start + readme[start..].find("\n```").unwrap();
        readme[start..end].trim_start_matches('\n').to_string()
    };
    let yaml = block("```yaml\n");
    let shown = block("```\n$ kafkasim run first.yaml\n");
    let dir = temp_dir("readme-first");
    std::fs::write(dir.join("first.yaml"), &yaml).unwrap();
    let out = kafkasim().args(["run", "first.yaml"]).current_dir(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed.trim_end(), shown.trim_end(), "README.md's first scenario prints something else now");
}
