//! `metrics:` (issue 25): what metrics.csv holds. `auto` (the default) keeps the file under
//! about 45 MB by writing every k-th sample when every sample would not fit; `every_sample`
//! writes them all; `gzip` writes them all to metrics.csv.gz.

use crate::util::*;
use kafkasim::report::files::{sample_stride, thinning_note};

const SMALL: &str = "name: m\nseed: 3\nduration: 5s\n\
    topics: [{name: t, partitions: 3}]\n\
    producers: [{name: p, topic: t, rate: 200/s}]\n\
    groups: [{id: g, topics: [t], consumers: 2}]\n";

/// Partitions x samples x about 70 bytes a row, against 45 MB.
#[test]
fn auto_writes_every_sample_until_the_file_would_pass_45_mb() {
    assert_eq!(sample_stride(&plan(SMALL)), 1);
    let big = |partitions: u32, extra: &str| {
        plan(&format!(
            "name: m\nduration: 60s\n{extra}topics: [{{name: t, partitions: {partitions}}}]\n\
             groups: [{{id: g, topics: [t], consumers: 1}}]\n"
        ))
    };
    // 601 samples: 1,000 partitions are 42 MB, 10,000 are 421 MB.
    assert_eq!(sample_stride(&big(1_000, "")), 1);
    assert_eq!(sample_stride(&big(10_000, "")), 10);
    assert_eq!(sample_stride(&big(10_000, "metrics: every_sample\n")), 1);
    assert_eq!(sample_stride(&big(10_000, "metrics: gzip\n")), 1);
    assert_eq!(sample_stride(&big(10_000, "sample_interval: 1s\n")), 1, "61 samples: 43 MB");
    // What the console says of each.
    assert_eq!(thinning_note(&big(1_000, "")), None);
    let tenth = thinning_note(&big(10_000, "")).unwrap();
    assert!(tenth.starts_with("metrics.csv has every 10th sample (1.0 s apart) to stay under 45 MB;"), "{tenth}");
    // 70 groups over 10,000 partitions: one sample alone is about 49 MB, so only the first is written.
    let groups: String = (0..70).map(|g| format!("  - {{id: g{g}, topics: [t], consumers: 1}}\n")).collect();
    let many = plan(&format!("name: m\nduration: 60s\ntopics: [{{name: t, partitions: 10000}}]\ngroups:\n{groups}"));
    let one = thinning_note(&many).unwrap();
    assert!(one.starts_with("metrics.csv has only the run's first sample: one sample is 700,000 rows"), "{one}");
    assert!(one.contains("`metrics: gzip` writes every sample"), "{one}");
}

fn run_to(yaml: &str, name: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    let file = dir.join("s.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out = dir.join("out");
    let status = kafkasim().args(["run", "--out"]).arg(&out).arg(&file).output().unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    out
}

#[test]
fn gzip_writes_the_same_rows_compressed_and_no_plain_file() {
    let plain = run_to(SMALL, "metrics-plain");
    let gz = run_to(&format!("{SMALL}metrics: gzip\n"), "metrics-gzip");
    assert!(!gz.join("metrics.csv").exists());
    let mut text = String::new();
    let file = std::fs::File::open(gz.join("metrics.csv.gz")).unwrap();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(file), &mut text).unwrap();
    assert_eq!(text, std::fs::read_to_string(plain.join("metrics.csv")).unwrap());
    assert!(text.lines().count() > 100, "every sample of every partition");
}

#[test]
fn a_metrics_choice_that_does_not_exist_is_refused() {
    crate::bad_input::check(&format!("{SMALL}metrics: full\n"), &["metrics", "`full`", "auto, every_sample, gzip"]);
}
