//! `kafkasim sweep`: the cross product of settings times seeds; results that never depend on
//! `--jobs`; shards run in separate processes and merged give exactly the whole sweep's files.

use crate::util::*;

fn sweep_args(out: &std::path::Path) -> Vec<String> {
    [
        "sweep",
        "scenarios/scale-out.yaml",
        "--set",
        "groups.billing.consumers=2,4",
        "--set",
        "groups.billing.protocol=eager,cooperative",
        "--set",
        "duration=22s",
        "--seeds",
        "3",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([out.display().to_string()])
    .collect()
}

fn run(args: &[String]) -> std::process::Output {
    let out = kafkasim().current_dir(repo(".")).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn a_sweep_is_the_cross_product_and_does_not_depend_on_jobs() {
    let dir = temp_dir("sweep-jobs");
    let (one, two) = (dir.join("one"), dir.join("two"));
    let mut a = sweep_args(&one);
    a.extend(["--jobs".into(), "1".into()]);
    let mut b = sweep_args(&two);
    b.extend(["--jobs".into(), "2".into()]);
    run(&a);
    run(&b);
    assert_eq!(read_all(&one), read_all(&two), "--jobs changes nothing");
    let csv = std::fs::read_to_string(one.join("sweep.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 1 + 2 * 2 * 3, "a header and one row per run");
    assert!(rows[0].starts_with("groups.billing.consumers,groups.billing.protocol,duration,seed,expectations_passed,"));
    assert!(rows[1].starts_with("2,eager,22s,50,"), "{}", rows[1]);
    assert!(rows[3].starts_with("2,eager,22s,52,"), "seeds are the scenario's seed + k");
    assert!(rows[12].starts_with("4,cooperative,22s,52,"), "{}", rows[12]);
    let md = std::fs::read_to_string(one.join("sweep.md")).unwrap();
    assert!(md.contains("| 2 | eager | 22s | 3/3 |"), "{md}");
    assert!(md.contains("| 2 | cooperative | 22s | 0/3 |"), "the scenario expects eager's 12 revocations: {md}");
    // Which expectation failed, and what was measured instead, beside the pass rate.
    assert!(md.contains("| 2 | eager | 22s | 3/3 | - |"), "{md}");
    assert!(md.contains("| 2 | cooperative | 22s | 0/3 | E1 failed in 3/3: measured 4;"), "{md}");
    assert!(md.contains("- E1: group billing: revoked_partitions = 12\n"), "{md}");
    assert!(rows[0].contains(",expectations_failed,failed_expectations,"), "{}", rows[0]);
    assert!(rows[4].contains(",group billing: revoked_partitions = 12; "), "{}", rows[4]);
    // A cell: the median, then the range over seeds, thousands grouped.
    assert!(md.contains(" (31\u{202f}927–32\u{202f}228) |"), "{md}");
    // By default the records unread at the end sit right after the latency, which counts
    // processed records only.
    assert!(md.contains("| groups.billing.latency_ms.p99 | groups.billing.backlog_records.final |"), "{md}");
}

#[test]
fn three_shards_in_separate_processes_merge_into_the_whole_sweep() {
    let dir = temp_dir("sweep-shards");
    let whole = dir.join("whole");
    run(&sweep_args(&whole));
    let shards: Vec<std::path::PathBuf> = (0..3).map(|i| dir.join(format!("shard-{i}"))).collect();
    let children: Vec<_> = shards
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut a = sweep_args(s);
            a.extend(["--shard".into(), format!("{i}/3"), "--jobs".into(), "1".into()]);
            kafkasim().current_dir(repo(".")).args(&a).spawn().unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let merged = dir.join("merged");
    let mut args = vec!["sweep-merge".to_string()];
    args.extend(shards.iter().map(|s| s.display().to_string()));
    args.extend(["--out".into(), merged.display().to_string()]);
    run(&args);
    assert_eq!(read_all(&whole), read_all(&merged), "merged shards write exactly what the whole sweep writes");

    // A missing shard, or one given twice, is refused.
    let out = kafkasim()
        .args(["sweep-merge"])
        .arg(&shards[0])
        .arg(&shards[1])
        .arg("--out")
        .arg(dir.join("x"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shards missing: 2/3"));
}

#[test]
fn bad_settings_are_bad_input_before_anything_runs() {
    let dir = temp_dir("sweep-bad");
    let bad = |set: &str| {
        let out = kafkasim()
            .current_dir(repo("."))
            .args(["sweep", "scenarios/scale-out.yaml", "--set", set, "--out"])
            .arg(dir.join("x"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{set}");
        assert!(!dir.join("x").exists(), "nothing written");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(bad("groups.biling.consumers=2").contains("entries: billing"));
    assert!(bad("groups.billing.protocol=eager,fast").contains("unknown variant `fast`"));
    assert!(bad("groups.billing.consumers").contains("PATH=VALUE"));
    // A value the scenario's parser refuses is the setting's fault: no line and column of the
    // rewritten text, which the file does not have.
    let e = bad("groups.billing.session_timeout_ms=10s,abc");
    assert!(e.contains("scale-out.yaml: --set: ") && e.contains("`abc` is not a time unit"), "{e}");
    assert!(e.contains("(with groups.billing.session_timeout_ms=abc)"), "{e}");
}

/// The sweep's page holds its table and every chart inline, and refers to nothing outside itself.
#[test]
fn a_sweep_writes_charts_and_a_self_contained_page() {
    let dir = temp_dir("sweep-page");
    let out = dir.join("s");
    let mut a = sweep_args(&out);
    a.extend(["--plot".into(), "rebalance_pause_ms.total".into()]);
    run(&a);
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    let svg = std::fs::read_to_string(out.join("plot-groups.billing.rebalance_pause_ms.total.svg")).unwrap();
    assert!(svg.contains("against groups.billing.consumers"));
    // The range over seeds is a shaded band, not two more legend entries per line.
    assert!(!svg.contains(": min") && !svg.contains(": max"), "no min/max lines in the legend");
    assert!(svg.contains("protocol=eager") && !svg.contains("duration=22s"), "a one-value setting names no line");
    assert!(page.contains("plot-groups.billing.rebalance_pause_ms.total"), "the chart is on the page");
    assert!(page.contains("<table"), "the table of medians is on the page");
    assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("<script src"), "no URL at all");
    // --plot naming no figure is bad input.
    let mut b = sweep_args(&dir.join("t"));
    b.extend(["--plot".into(), "lag_recrds.max".into()]);
    let o = kafkasim().current_dir(repo(".")).args(&b).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// The sweep's combinations of `sets` (PATH=V1,V2) on `text`, each checked like a file.
fn swept(text: &str, sets: &[&str]) -> Result<Vec<kafkasim::scenario::Plan>, kafkasim::scenario::ScenarioError> {
    use kafkasim::cli::sweep::{Manifest, plans, settings::parse_set};
    let m = Manifest {
        scenario: "s.yaml".into(),
        scenario_text: text.into(),
        scenario_digest: String::new(),
        settings: sets.iter().map(|s| parse_set(s).unwrap()).collect(),
        seeds: 1,
        base_seed: 0,
        plots: Vec::new(),
    };
    plans("s.yaml", text, &m)
}

/// `protocol` sweeps over all three protocols when the file leaves the assignor to the protocol,
/// and the consumer protocol's own settings sweep like any other (`kafka_version` as typed: 4.0).
#[test]
fn the_consumer_protocol_and_its_settings_can_be_swept() {
    use kafkasim::scenario::plan::{KafkaVersion, RebalanceProtocol, ServerAssignorKind};
    let text =
        "name: s\nduration: 10s\ntopics: [{name: t, partitions: 4}]\ngroups:\n  - {id: g, topics: [t], consumers: 2}\n";
    let plans = swept(text, &["groups.g.protocol=eager,cooperative,consumer"]).unwrap();
    let protocols: Vec<_> = plans.iter().map(|p| p.groups[0].protocol).collect();
    assert_eq!(protocols, [RebalanceProtocol::Eager, RebalanceProtocol::Cooperative, RebalanceProtocol::Consumer]);

    let consumer = text.replace("consumers: 2}", "consumers: 2, protocol: consumer}");
    let plans = swept(
        &consumer,
        &[
            "groups.g.kafka_version=4.0,4.4",
            "groups.g.remote_assignor=uniform,range",
            "groups.g.group_consumer_heartbeat_interval_ms=5000,10000",
            "groups.g.group_consumer_session_timeout_ms=45000,60000",
        ],
    )
    .unwrap();
    assert_eq!(plans.len(), 16);
    let last = plans[15].groups[0].consumer_protocol;
    assert_eq!(plans[0].groups[0].consumer_protocol.version, KafkaVersion::V4_0);
    assert_eq!((last.version, last.remote_assignor), (KafkaVersion::V4_4, ServerAssignorKind::Range));
    assert_eq!(last.heartbeat_interval.as_millis(), 10000);
    assert_eq!(last.session_timeout.as_millis(), 60000);
    // A combination Kafka refuses is bad input, named with the combination.
    let e = swept(&consumer, &["groups.g.group_consumer_heartbeat_interval_ms=5000,4000"]).unwrap_err();
    assert!(e.message.contains("min_heartbeat") && e.message.contains("=4000"), "{e}");
}
