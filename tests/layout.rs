//! The code's shape, checked from its sources: layers point one way (docs/model.md, "Who calls
//! whom"), the model writes no JSON, and no file outgrows reading.

use crate::util::repo;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The top-level modules a file mentions as `crate::<module>`.
fn uses(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .match_indices("crate::")
        .filter(|(i, _)| !text[..*i].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
        .map(|(i, m)| text[i + m.len()..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect())
        .collect();
    found.sort();
    found.dedup();
    found
}

#[test]
fn layers_point_one_way() {
    // Each layer and what it may use besides itself.
    let allowed: [(&str, &[&str]); 6] = [
        ("sim", &[]),
        ("scenario", &["sim"]),
        ("record", &["sim", "scenario"]),
        ("kafka", &["sim", "scenario", "record", "prefetch"]),
        ("report", &["sim", "scenario", "record"]),
        ("cli", &["sim", "scenario", "record", "kafka", "report"]),
    ];
    let mut wrong = Vec::new();
    for (layer, may) in allowed {
        for f in rust_files(&repo(&format!("src/{layer}"))) {
            let text = std::fs::read_to_string(&f).unwrap();
            for m in uses(&text) {
                if m != layer && !may.contains(&m.as_str()) {
                    wrong.push(format!("{} uses crate::{m}", f.strip_prefix(repo("")).unwrap().display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "imports that point up a layer:\n{}", wrong.join("\n"));
}

#[test]
fn the_model_writes_no_json() {
    for f in rust_files(&repo("src/kafka")) {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(!text.contains("serde_json"), "{}: only report/ writes JSON", f.display());
    }
}

#[test]
fn no_source_file_is_over_800_lines() {
    for f in rust_files(&repo("src")) {
        let n = std::fs::read_to_string(&f).unwrap().lines().count();
        assert!(n <= 800, "{} has {n} lines; split it by what its parts do", f.display());
    }
}

#[test]
fn the_uses_scanner_finds_what_it_should() {
    let text = "use crate::kafka::world::World;\n// see crate::report\nlet x = mycrate::sim::X;";
    assert_eq!(uses(text), ["kafka", "report"]);
}
