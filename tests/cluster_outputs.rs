//! The cluster's outputs (issue 24), from a run whose cluster record is filled by hand: the
//! model that fills it is built separately, and the report only reads the record. A broker
//! crashes at 10 s, is fenced at 18 s and elected away from, comes back at 30 s; the producer
//! loses records, writes some twice and cannot write two partitions for 8 s. A run that does not
//! declare `brokers:` writes none of it.

use crate::util::{repo, run_file, run_yaml, summary, temp_dir};
use kafkasim::kafka::world::World;
use kafkasim::record::NONE_U32;
use kafkasim::record::cluster::{
    BrokerState, BrokerStats, ClusterEvent, ClusterRecord, Election, LossCause, PartitionStats, ProducerStats,
    Unavailable,
};
use kafkasim::record::event::{Event, What};
use kafkasim::sim::{SimDuration, SimTime};
use serde_json::Value;

const YAML: &str = "
name: cluster-outputs
seed: 1
duration: 40s
topics: [{name: orders, partitions: 6}]
producers: [{name: web, topic: orders, rate: 200/s}]
groups:
  - id: billing
    topics: [orders]
    consumers: [{name: b1}, {name: b2}]
";

fn at(ms: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_millis(ms)
}

fn ms(ms: u64) -> SimDuration {
    SimDuration::from_millis(ms)
}

/// The cluster's events of the story, in time order.
fn events() -> Vec<(u64, ClusterEvent)> {
    use ClusterEvent::*;
    let mut out = vec![(10_000, BrokerCrashed { broker: 1 })];
    for p in [0, 3] {
        out.push((10_000, ProduceFailed { producer: 0, partition: p, error: "NETWORK_EXCEPTION" }));
    }
    out.push((18_000, BrokerFenced { broker: 1, reason: "session_timeout" }));
    for (p, to) in [(0, 2), (3, 3)] {
        let e = LeaderElected {
            partition: p,
            leader: Some(to),
            previous: Some(1),
            leader_epoch: 1,
            election: Election::Clean,
        };
        out.push((18_000, e));
        out.push((18_000, IsrChanged { partition: p, isr: vec![to, 1 + to % 3], reason: "broker_fenced" }));
    }
    for p in [0, 3] {
        out.push((18_030, ProduceResumed { producer: 0, partition: p, unavailable: ms(8_030) }));
    }
    out.push((18_030, RecordsLost { producer: 0, partition: 0, records: 40, cause: LossCause::LeaderFailover }));
    out.push((18_030, DuplicatesWritten { producer: 0, partition: 3, records: 5 }));
    out.push((18_030, CoordinatorMoved { group: 0, offsets_partition: 12, from: Some(1), to: Some(2) }));
    out.push((18_080, CoordinatorLoaded { group: 0, broker: 2 }));
    out.push((30_000, BrokerStarted { broker: 1 }));
    out.push((31_000, BrokerUnfenced { broker: 1 }));
    out.push((31_000, LogTruncated { partition: 0, broker: 1, from: 2_100, to: 2_060 }));
    out
}

/// The record the model would have written for the story.
fn record() -> ClusterRecord {
    let broker = |down: u64, leads: u32| BrokerStats { down: ms(down), leads_at_end: leads };
    let partition = |p: u32| {
        let moved = p.is_multiple_of(3);
        let leader = if moved { [2, 3][(p / 3) as usize] } else { p % 3 + 1 };
        PartitionStats {
            leader_changes: u32::from(moved),
            offline: SimDuration::ZERO,
            under_replicated: ms(if moved { 13_000 } else { 0 }),
            leader_at_end: Some(leader),
            isr_at_end: vec![1, 2, 3],
        }
    };
    let mut leaders: Vec<(SimTime, u32, Option<u32>)> = (0..6).map(|p| (at(0), p, Some(p % 3 + 1))).collect();
    leaders.extend([(at(18_000), 0, Some(2)), (at(18_000), 3, Some(3))]);
    ClusterRecord {
        declared: true,
        brokers: vec![broker(20_000, 0), broker(0, 3), broker(0, 3)],
        producers: vec![ProducerStats {
            records_sent: 8_000,
            records_acked: 7_960,
            retries: 12,
            duplicates_written: 5,
            lost_by_cause: [0, 40, 0, 0],
            in_flight_at_end: 0,
            acked_above_high_watermark_at_end: 0,
            unavailable_total: ms(16_060),
            unavailable_max: ms(8_030),
        }],
        partitions: (0..6).map(partition).collect(),
        broker_states: vec![
            (at(10_000), 1, BrokerState::Down),
            (at(30_000), 1, BrokerState::Fenced),
            (at(31_000), 1, BrokerState::Up),
        ],
        leaders,
        unavailable: [0, 3]
            .map(|p| Unavailable { producer: 0, partition: p, from: at(10_000), to: Some(at(18_030)) })
            .to_vec(),
    }
}

/// The run, declared as a 3-broker cluster, with its cluster record, events and metrics columns.
fn declared() -> World {
    let mut w = run_yaml(YAML);
    w.plan.cluster.declared = true;
    w.plan.cluster.brokers = 3;
    w.rec.cluster = record();
    w.rec.events.extend(events().into_iter().map(|(t, e)| Event { time: at(t), what: What::Cluster(e) }));
    w.rec.events.sort_by_key(|e| e.time);
    for row in &mut w.rec.metrics {
        // Partition 0 offline from 10 s to 18 s in the columns, to show an empty leader.
        let offline = row.partition == 0 && row.time >= at(10_000) && row.time < at(18_000);
        row.leader = if offline { NONE_U32 } else { row.partition % 3 + 1 };
        // Partition 1's followers 5 records behind its leader.
        row.leader_log_end_offset = row.log_end_offset + if row.partition == 1 { 5 } else { 0 };
        row.isr_size = 3;
    }
    w
}

fn written(w: &World, name: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    kafkasim::report::write_outputs(&w.run_record(), &dir).unwrap();
    dir
}

#[test]
fn summary_lists_brokers_producers_and_partitions_after_the_rest() {
    let w = declared();
    let s = kafkasim::report::summary::summary(&w.run_record());
    let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys[keys.len() - 2..], ["brokers", "producers"], "{keys:?}");
    let b1 = &s["brokers"]["1"];
    assert_eq!(
        (b1["state"].as_str(), b1["partitions_led"].as_u64(), b1["down_ms"].as_f64()),
        (Some("up"), Some(0), Some(20_000.0))
    );
    assert_eq!(s["brokers"]["3"]["partitions_led"], 3);
    let web = &s["producers"]["web"];
    assert_eq!(web["lost"], 40);
    assert_eq!(web["lost_by_cause"]["leader_failover"], 40);
    assert_eq!(web["lost_by_cause"]["acks_0"], 0);
    assert_eq!(web["duplicates_written"], 5);
    assert_eq!(web["unavailable_ms"]["max"].as_f64(), Some(8_030.0));
    let parts = s["topics"]["orders"]["partitions"].as_array().expect("a list with brokers");
    assert_eq!(parts.len(), 6);
    assert_eq!(parts[0]["partition"], "orders-0");
    assert_eq!(parts[0]["leader"], 2);
    assert_eq!(parts[0]["isr"], serde_json::json!([1, 2, 3]));
    assert_eq!(parts[3]["leader_changes"], 1);
    assert_eq!(parts[3]["under_replicated_ms"].as_f64(), Some(13_000.0));
    let kinds: Vec<&str> = s["findings"].as_array().unwrap().iter().filter_map(|f| f["kind"].as_str()).collect();
    for kind in ["broker_loss", "unavailable", "duplicates_written"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let loss = s["findings"].as_array().unwrap().iter().find(|f| f["kind"] == "broker_loss").unwrap();
    assert_eq!((loss["group"].clone(), loss["producer"].as_str()), (Value::Null, Some("web")));
    let text = loss["text"].as_str().unwrap();
    assert!(text.contains("leader failover 40") && text.contains("min_insync_replicas >= 2 refuses"), "{text}");
}

#[test]
fn a_built_but_unrun_cluster_gives_every_key() {
    // `kafkasim check` resolves expectations against a world that has not run: empty tables.
    let mut w = run_yaml(YAML);
    w.plan.cluster.declared = true;
    w.plan.cluster.brokers = 3;
    w.rec.cluster.declared = true;
    let s = kafkasim::report::summary::summary(&w.run_record());
    assert_eq!(s["brokers"]["3"]["state"], "up");
    assert_eq!(s["producers"]["web"]["lost_by_cause"]["delivery_timeout"], 0);
    assert_eq!(s["topics"]["orders"]["partitions"][5]["leader"], Value::Null);
    let dir = written(&w, "cluster-empty-tables");
    for f in ["brokers.png", "leaders.png", "producer_unavailability.svg", "index.html"] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let story = kafkasim::report::narrate::story(&w.run_record()).join("\n");
    assert!(story.contains("brokers at the end: 1 up"), "{story}");
}

#[test]
fn metrics_csv_appends_leader_high_watermark_and_isr_size() {
    let dir = written(&declared(), "cluster-metrics");
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().ends_with(",share_lag,leader,high_watermark,isr_size,leader_log_end_offset"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == 21), "every row has the four columns");
    // The log end a consumer and kafka-consumer-groups.sh see is the high watermark, so lag is
    // counted from it; the leader's own log end is at or above it.
    let num = |v: &str| v.parse::<u64>().unwrap();
    for r in &rows {
        assert_eq!(r[4], r[18], "log_end_offset is the high watermark: {r:?}");
        let above = if r[3] == "1" { 5 } else { 0 };
        assert_eq!(num(r[20]), num(r[18]) + above, "the leader's log end, above it by what followers lack: {r:?}");
        if !r[5].is_empty() {
            assert_eq!(num(r[7]), num(r[4]) - num(r[5]), "lag = log end - committed: {r:?}");
        }
    }
    let offline = rows.iter().find(|r| r[3] == "0" && r[0].parse::<f64>().unwrap() >= 12_000.0).unwrap();
    assert_eq!(offline[17], "", "an offline partition's leader is empty: {offline:?}");
    assert!(rows.iter().any(|r| r[17] == "2" && r[19] == "3"));
}

#[test]
fn charts_page_console_and_story_tell_the_cluster() {
    let w = declared();
    let dir = written(&w, "cluster-outputs");
    for name in ["brokers", "leaders", "producer_unavailability"] {
        for ext in ["png", "svg"] {
            assert!(dir.join(format!("{name}.{ext}")).exists(), "{name}.{ext}");
        }
    }
    let page = std::fs::read_to_string(dir.join("index.html")).unwrap();
    for needle in ["<section id=\"cluster\">", "id=\"chart-leaders\"", "partitions at the end", "cluster <span"] {
        assert!(page.contains(needle), "{needle}");
    }
    let console = kafkasim::report::console::run_summary(&w.run_record());
    assert!(console.contains("cluster (3 brokers)"), "{console}");
    assert!(
        console.contains("producer web: sent 8,000, acknowledged 7,960, lost 40 (leader failover 40)"),
        "{console}"
    );
    let story = kafkasim::report::narrate::story(&w.run_record()).join("\n");
    for needle in [
        "[broker] broker 1 crashes",
        "the controller fences broker 1: no heartbeat for broker.session.timeout.ms (9 s), 8 s after it crashed",
        "[leader election] broker 1's 2 partitions (orders-0 and orders-3): new leaders elected (clean",
        "broker 2 leads 1, broker 3 leads 1",
        "[publish] producer web's requests to orders-0 and orders-3 fail (NETWORK_EXCEPTION)",
        "producer web writes orders-0 and orders-3 again, after 8.03 s without",
        "producer web loses 40 records of orders-0",
        "broker 2 has loaded group billing: commits and heartbeats work again, 0.05 s after it moved",
    ] {
        assert!(story.contains(needle), "missing {needle:?} in\n{story}");
    }
    assert_eq!(story.matches("[leader election]").count(), 1, "one line for the instant's elections");
    let events = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    assert!(events.contains("\"type\":\"broker_crashed\",\"broker\":1"), "events.jsonl has the broker's events");
}

#[test]
fn an_undeclared_run_writes_none_of_it() {
    let w = run_yaml(YAML);
    let dir = written(&w, "cluster-undeclared");
    let s: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert!(s.get("brokers").is_none() && s.get("producers").is_none());
    assert_eq!(s["topics"]["orders"]["partitions"], 6, "the count, as before");
    let header = std::fs::read_to_string(dir.join("metrics.csv")).unwrap().lines().next().unwrap().to_string();
    assert!(header.ends_with(",share_lag"), "{header}");
    for name in ["brokers", "leaders", "producer_unavailability"] {
        assert!(!dir.join(format!("{name}.png")).exists(), "{name}.png");
    }
    let page = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(!page.contains("id=\"cluster\"") && !page.contains("href=\"#cluster\""));
    let console = kafkasim::report::console::run_summary(&w.run_record());
    assert!(!console.contains("cluster ("), "{console}");
}

#[test]
fn the_leaders_chart_stops_at_40_partitions_and_says_so() {
    let yaml = YAML.replace("partitions: 6", "partitions: 50");
    let mut w = run_yaml(&yaml);
    w.plan.cluster.declared = true;
    w.plan.cluster.brokers = 5;
    let mut c = ClusterRecord { declared: true, ..Default::default() };
    c.leaders = (0..50).map(|p| (at(0), p, Some(p % 5 + 1))).collect();
    // Broker 2 goes down for good at 12 s: its partitions go offline (no in-sync replica left).
    c.broker_states.push((at(12_000), 2, BrokerState::Down));
    c.leaders.extend((0..50).filter(|p| p % 5 == 1).map(|p| (at(20_000), p, None)));
    c.unavailable = (0..50)
        .filter(|p| p % 5 == 1)
        .map(|p| Unavailable { producer: 0, partition: p, from: at(12_000), to: None })
        .collect();
    w.rec.cluster = c;
    let dir = written(&w, "cluster-many-partitions");
    let svg = std::fs::read_to_string(dir.join("leaders.svg")).unwrap();
    assert!(svg.contains("the first 40 of 50 partitions"), "the title says the chart stops short");
    let rows = kafkasim::report::run_charts::leader_rows(&w.run_record()).0;
    assert_eq!(rows.len(), kafkasim::report::run_charts::MAX_LEADER_ROWS);
    assert_eq!(rows[1].spans.last().and_then(|s| s.owner.as_deref()), Some("offline"));
    // Ten producer-partition stretches fit a row each; a producer that could write says so.
    let rows = kafkasim::report::run_charts::unavailability_rows(&w.run_record());
    assert_eq!(rows.len(), 10);
    assert_eq!(rows[0].label, "web: orders-1");
}

#[test]
fn the_reference_doc_s_cluster_story_is_this_run_s() {
    let doc = std::fs::read_to_string(crate::util::repo("docs/reference.md")).unwrap();
    let marker = "00:10.000  [broker] broker 1 crashes";
    let at = doc.find(marker).expect("docs/reference.md quotes the cluster's story");
    let block = &doc[at..at + doc[at..].find("```").unwrap()];
    let story = kafkasim::report::narrate::story(&declared().run_record());
    for l in block.lines().filter(|l| !l.trim().is_empty()) {
        assert!(story.iter().any(|s| s == l), "the story does not tell\n{l}\nit tells:\n{}", story.join("\n"));
    }
}

/// A producer's records add up: what readers can fetch is what it had acknowledged, less those
/// lost after their acknowledgement and those still above the high watermark at the end (acks=1:
/// acknowledged by the leader alone), plus what its retries wrote twice. (The acks=1 scenario
/// ends with about 100 acknowledged records above the high watermark, its slowest in-sync
/// follower's 20 ms of writes; they were missing from every figure.)
#[test]
fn acknowledged_records_add_up_to_what_the_log_holds() {
    for name in [
        "replication-acks-1-loss",
        "replication-unclean-election",
        "replication-min-isr-timeouts",
        "replication-rolling-restart",
    ] {
        let w = run_file(&repo(&format!("scenarios/{name}.yaml")));
        let s = summary(&w);
        let web = &s["producers"]["web"];
        let u = |k: &str| web[k].as_u64().unwrap_or_else(|| panic!("{name}: {k} in {web}"));
        let lost_after_ack = u("lost") - web["lost_by_cause"]["delivery_timeout"].as_u64().unwrap();
        let readable =
            u("records_acked") - lost_after_ack - u("acked_above_high_watermark_at_end") + u("duplicates_written");
        assert_eq!(readable, s["records_produced"].as_u64().unwrap(), "{name}: {web}");
        assert_eq!(u("records_sent"), u("records_acked") + u("in_flight_at_end"), "{name}: {web}");
        if name == "replication-acks-1-loss" {
            assert!((50..200).contains(&u("acked_above_high_watermark_at_end")), "{web}");
        }
    }
}
