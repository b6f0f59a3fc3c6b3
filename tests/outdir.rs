//! Output folders under concurrency and kills: the target is always one complete output (or
//! the previous one), never a mix; staging folders never outlive a run; foreign folders are
//! refused; every command that writes a folder goes through the same rules.

use crate::util::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};

fn scenario() -> std::path::PathBuf {
    repo("scenarios/queue-group.yaml")
}

fn run_into(out: &Path, seed: &str) -> std::process::Output {
    kafkasim().args(["run", "--seed", seed, "--out"]).arg(out).arg(scenario()).output().unwrap()
}

fn spawn_into(out: &Path, seed: &str, pause: Option<&str>) -> Child {
    let mut cmd = kafkasim();
    cmd.args(["run", "--seed", seed, "--out"]).arg(out).arg(scenario());
    if let Some(p) = pause {
        cmd.env("KAFKASIM_TEST_PAUSE", p);
    }
    cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
}

/// Names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

/// Reference outputs of seeds 7, 8 and 9, each written alone.
fn references(base: &Path) -> Vec<Vec<(String, Vec<u8>)>> {
    ["7", "8", "9"]
        .iter()
        .map(|s| {
            let d = base.join(format!("ref-{s}"));
            assert!(run_into(&d, s).status.success());
            read_all(&d)
        })
        .collect()
}

#[test]
fn two_writers_of_one_folder_leave_one_complete_output() {
    let base = temp_dir("outdir-two-writers");
    let refs = references(&base);
    let out = base.join("shared");
    for _ in 0..3 {
        let a = spawn_into(&out, "7", None);
        let b = spawn_into(&out, "8", None);
        for child in [a, b] {
            let o = child.wait_with_output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        let got = read_all(&out);
        assert!(got == refs[0] || got == refs[1], "the folder is exactly one run's output, not a mix");
        assert!(out.join(kafkasim::cli::outdir::MARKER).exists());
    }
    assert!(
        names(&base).iter().all(|n| !n.contains("staging") && !n.contains("-old-")),
        "no staging folder left: {:?}",
        names(&base)
    );
}

/// kill -9 right before and right after the final rename: the folder is the previous output or
/// the new one, complete; the next run sweeps what the killed one left and replaces it whole.
#[test]
fn a_kill_around_the_final_rename_never_leaves_a_mixed_folder() {
    let base = temp_dir("outdir-kill");
    let refs = references(&base);
    for point in ["before-rename", "after-rename"] {
        let out = base.join(format!("out-{point}"));
        assert!(run_into(&out, "7").status.success());
        let mut child = spawn_into(&out, "8", Some(point));
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        while !line.contains("paused at") {
            line.clear();
            assert!(err.read_line(&mut line).unwrap() > 0, "the writer reaches {point}");
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let got = read_all(&out);
        match point {
            "before-rename" => assert!(got == refs[0], "killed before the rename: the previous output, whole"),
            _ => assert!(got == refs[1], "killed after the rename: the new output, whole"),
        }
        assert!(
            names(&base).iter().any(|n| n.contains(&format!("out-{point}.kafkasim-staging"))),
            "the kill left its staging folder"
        );
        assert!(run_into(&out, "9").status.success());
        assert!(read_all(&out) == refs[2]);
        assert!(
            !names(&base).iter().any(|n| n.contains(&format!("out-{point}.kafkasim-staging"))),
            "the next writer swept it: {:?}",
            names(&base)
        );
    }
}

#[test]
fn folders_kafkasim_did_not_write_are_refused_without_force() {
    let base = temp_dir("outdir-foreign");
    let mine = base.join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("metrics.csv"), "my own data").unwrap();
    for cmd in ["run", "compare"] {
        let o = kafkasim().args([cmd, "--out"]).arg(&mine).arg(scenario()).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {err}");
        assert!(err.contains(&mine.display().to_string()) && err.contains("--force"), "{err}");
        assert!(!err.contains("staging"), "the error names the user's folder: {err}");
    }
    assert_eq!(std::fs::read_to_string(mine.join("metrics.csv")).unwrap(), "my own data");
    let file = base.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let o = kafkasim().args(["run", "--out"]).arg(&file).arg(scenario()).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    let o = kafkasim().args(["run", "--out", "."]).current_dir(&base).arg(scenario()).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "--out . is the current folder");
    assert_eq!(names(&base), ["a-file", "mine"], "a refused --out creates nothing beside it (no lock file)");
    let o = kafkasim().args(["run", "--force", "--out"]).arg(&mine).arg(scenario()).output().unwrap();
    assert!(o.status.success());
    assert!(
        !mine.join("metrics.csv").exists()
            || std::fs::read_to_string(mine.join("metrics.csv")).unwrap() != "my own data"
    );
    assert_eq!(names(&base), [".mine.kafkasim-lock", "a-file", "mine"], "nothing else left");
}

#[test]
fn rerunning_replaces_a_previous_output_whole() {
    let base = temp_dir("outdir-rerun");
    let out = base.join("out");
    assert!(run_into(&out, "7").status.success());
    std::fs::write(out.join("stale.txt"), "from an older version").unwrap();
    assert!(run_into(&out, "8").status.success());
    assert!(!out.join("stale.txt").exists(), "the previous output is replaced, not merged into");
}

#[test]
fn compare_writes_through_a_staging_folder_too() {
    let base = temp_dir("outdir-compare");
    let out = base.join("cmp");
    let o = kafkasim().args(["compare", "--out"]).arg(&out).arg(scenario()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("compare.json").exists() && out.join("pull/summary.json").exists());
    assert_eq!(names(&base), [".cmp.kafkasim-lock", "cmp"]);
}
