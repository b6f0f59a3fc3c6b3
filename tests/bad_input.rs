//! Bad scenarios: exit status 2, a message naming the file and the line:column or field, and no
//! output written. No input makes the program panic.

use crate::util::*;

const GOOD: &str = r#"name: bad
duration: 10s
topics: [{name: t, partitions: 2}]
producers: [{name: p, topic: t, rate: 10/s}]
groups:
  - id: g
    topics: [t]
    consumers: [{name: c1}, {name: c2}]
timeline:
  - {at: 5s, crash: c1}
"#;

fn check(yaml: &str, expect: &[&str]) {
    let dir = temp_dir(&format!("bad-{:016x}", digest(yaml.as_bytes())));
    let file = dir.join("scenario.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out_dir = dir.join("out");
    for cmd in [&["validate"][..], &["run", "--out", out_dir.to_str().unwrap()][..]] {
        let out = kafkasim().args(cmd).arg(&file).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd:?} on {yaml}\nstderr: {err}");
        assert!(err.contains("scenario.yaml"), "names the file: {err}");
        for e in expect {
            assert!(err.contains(e), "expected `{e}` in: {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!out_dir.exists(), "nothing written for a bad scenario");
    assert!(std::fs::read_dir(&dir).unwrap().count() == 1, "no staging folder left behind");
}

#[test]
fn the_good_base_is_good() {
    kafkasim::scenario::parse("x", GOOD).unwrap();
}

#[test]
fn yaml_syntax_errors_give_line_and_column() {
    check("name: [unclosed\n", &["scenario.yaml:1:"]);
    check(&GOOD.replace("duration: 10s", "duration: 10s\n  nested: wrong"), &["scenario.yaml:"]);
}

#[test]
fn unknown_fields_are_named_with_what_is_allowed() {
    check(
        &GOOD.replace("id: g", "id: g\n    pol_interval: 5ms"),
        &["unknown field `pol_interval`", "poll_interval", ":7:5:"],
    );
}

#[test]
fn unit_mistakes_are_caught_at_the_value() {
    check(&GOOD.replace("duration: 10s", "duration: 10"), &[":2:11:", "no unit"]);
    check(&GOOD.replace("rate: 10/s", "rate: -10/s"), &["non-negative"]);
    check(&GOOD.replace("rate: 10/s", "rate: 10/week"), &["rate unit"]);
    // Structured values are checked at the value too: line 7, column 17 is the `1`.
    check(&GOOD.replace("id: g", "id: g\n    processing: 1"), &[":7:17:", "groups[0].processing", "no unit"]);
    check(&GOOD.replace("duration: 10s", "duration: -10s"), &["must not be negative"]);
}

#[test]
fn semantic_errors_name_the_field_path() {
    check(
        &GOOD.replace("topic: t, rate", "topic: nope, rate"),
        &["producers[0].topic", "unknown topic `nope`", "topics defined: t"],
    );
    check(&GOOD.replace("{name: c2}", "{name: c1}"), &["groups[0].consumers[1].name", "named twice"]);
    check(&GOOD.replace("at: 5s", "at: 50s"), &["timeline[0].at", "after the end"]);
    check(&GOOD.replace("crash: c1", "crash: c9"), &["timeline[0].crash", "unknown consumer `c9`"]);
    check(&GOOD.replace("partitions: 2", "partitions: 0"), &["topics[0].partitions"]);
    check(&GOOD.replace("  - {at: 5s, crash: c1}", "  - {at: 5s, crash: c1, stop: c2}"), &["exactly one action"]);
    check(&GOOD.replace("id: g", "id: g\n    session_timeout_ms: 1000"), &["session_timeout_ms", "6s"]);
    check(&GOOD.replace("id: g", "id: g\n    poll_interval: 0ms\n    fetch_max_wait_ms: 0"), &["poll_interval"]);
    check(&GOOD.replace("name: bad", "name: ../escape"), &["name"]);
    // Worlds too big for memory are refused up front, with the reason.
    check(
        &GOOD
            .replace("rate: 10/s", "rate: 1000000/s")
            .replace("duration: 10s", "duration: 1h")
            .replace("at: 5s", "at: 1s"),
        &["records kept", "the limit is", "--max-memory"],
    );
    check(&GOOD.replace("rate: 10/s", "rate: 10/s, keys: {uniform: 99999999999}"), &["producers[0].keys", "at most"]);
}

#[test]
fn a_missing_file_is_exit_2() {
    let out = kafkasim().args(["run", "/nonexistent/x.yaml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

/// Random mutations of a valid scenario never panic the parser.
#[test]
fn mutated_scenarios_never_panic() {
    use proptest::prelude::*;
    let base = std::fs::read_to_string(repo("scenarios/reference.yaml")).unwrap();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    runner
        .run(&(0..base.len(), 0..base.len(), "[ -~\n]{0,8}"), |(a, b, insert)| {
            let (lo, hi) = (a.min(b), a.max(b).min(a.min(b) + 12));
            if !base.is_char_boundary(lo) || !base.is_char_boundary(hi) {
                return Ok(());
            }
            let text = format!("{}{}{}", &base[..lo], insert, &base[hi..]);
            let _ = kafkasim::scenario::parse("m.yaml", &text);
            prop_assert!(true);
            Ok(())
        })
        .unwrap();
}
