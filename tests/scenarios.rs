//! Every scenario shipped in scenarios/ runs with invariants checked after every event, and
//! validates; the reference scenario matches its golden manifest byte for byte.

use crate::util::*;

fn scenario_files() -> Vec<std::path::PathBuf> {
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
        assert_eq!(ours, contract, "scenarios/reference.yaml must stay a copy of shared/scenario-reference.yaml");
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
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &manifest).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&golden)
            .unwrap_or_else(|_| panic!("no golden manifest {}; run with UPDATE_GOLDEN=1", golden.display()));
        assert_eq!(manifest, expected, "{name}: outputs changed; if intended, refresh with UPDATE_GOLDEN=1");
    }
}

/// The README starts with the two set-up commands and names every shipped scenario.
#[test]
fn the_readme_documents_every_scenario() {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let top: Vec<&str> = readme.lines().take(6).collect();
    assert!(top.iter().any(|l| l.starts_with("cargo run --release -- run scenarios/reference.yaml")));
    assert!(top.iter().any(|l| l.starts_with("cargo test")));
    for f in scenario_files() {
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(readme.contains(&format!("`{name}`")), "README does not describe scenario {name}");
    }
}
