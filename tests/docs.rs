//! Docs that stay true: every figure README.md and docs/*.md quote from a run's output is
//! checked against a run of the same scenario, so a doc that is edited or an output that moves
//! fails here until the two agree again.
//!
//! Each quote is the doc's own text with its figures written as `{path|filter...}`: a path into
//! the run's data (its summary.json, its events by type, and a few figures read from its
//! metrics), relative to the quote's `base` unless it starts with `/`. The test fills them in
//! from the run and asserts the doc holds the result (whitespace runs count as one space, so
//! a quote may cross a line break). Figures are read by value from summary.json where they can
//! be, so a change in how the console prints them does not break the check; console copies are
//! checked line by line only where the docs show them as such (the `--narrate` excerpts, the
//! `check` and `sweep` excerpts).

use crate::util::*;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Where a figure is quoted, from which run, and the text with its figures as paths.
struct Quote {
    doc: &'static str,
    run: &'static str,
    base: &'static str,
    text: &'static str,
}

const fn q(doc: &'static str, run: &'static str, base: &'static str, text: &'static str) -> Quote {
    Quote { doc, run, base, text }
}

const README: &str = "README.md";
const GUIDE: &str = "docs/guide.md";
const MODEL: &str = "docs/model.md";
const REFERENCE: &str = "docs/reference.md";

/// Every quoted figure. Runs: `first` is the README's first scenario (its YAML block); a
/// scenario name is `scenarios/<name>.yaml` run once; `<name>/compare` is `kafkasim compare`
/// (`pull` and `push`).
#[rustfmt::skip]
const QUOTES: &[Quote] = &[
    // README: the first scenario's console, and the prose about it.
    q(README, "first", "summary", "first: 40s virtual, seed {seed}, {events_processed|,} events, {records_produced|,} records produced"),
    q(README, "first", "summary", "* {findings.0.text}"),
    q(README, "first", "summary", "* {findings.1.text}"),
    q(README, "first", "summary.groups.billing", "records: processed {records_processed|,}, duplicates {duplicates|,}, replays {replays}, lost {lost}, in flight at end {in_flight_at_end}, before its start {records_before_start|,}"),
    q(README, "first", "", "Here the consumers get their partitions after about {events.rebalance_completed.0.time_s|.0} s"),
    q(README, "first", "summary.groups.billing", "the {records_before_start|,} records of those first seconds are skipped"),
    q(README, "first", "summary.groups.billing", "backlog: {backlog_records.final|,} records unread at the end (max {backlog_records.max|,}); committed lag {lag_records.final|,} records (max {lag_records.max|,}), {lag_ms.final|/1000|.1} s behind (max {lag_ms.max|/1000|.1} s); latency p50 {latency_ms.p50|.0} ms, p99 {latency_ms.p99|/1000|.1} s"),
    q(README, "first", "summary.groups.billing", "rebalances {rebalances}, partitions revoked {revoked_partitions}, rebalance pause {rebalance_pause_ms.total|.0} ms, stop-the-world {stop_the_world_ms.total|.0} ms, partitions without a live owner {partition_pause_ms|/1000|.1} s (summed over partitions), standbys {standby_consumers|len}"),
    q(README, "first", "summary.groups.billing.consumers.billing-1", "billing-1 {state} {records_processed|,} {duplicates_caused} {busy_ms|/1000|.1} s {idle_ms|/1000|.1} s {rebalancing_ms|/1000|.1} s {polls|,} -"),
    q(README, "first", "summary.groups.billing.consumers.billing-2", "billing-2 {state} {records_processed|,} {duplicates_caused} {busy_ms|/1000|.1} s {idle_ms|/1000|.1} s {rebalancing_ms|/1000|.1} s {polls|,} {partitions|join}"),
    q(README, "first", "", "counted from its last heartbeat at {events.member_fenced.0.time_s|-10} s"),
    q(README, "first", "summary.groups.billing", "processed again: {duplicates} duplicates, {lost|none} lost"),
    q(README, "first", "summary.groups.billing", "latency to about {latency_ms.p99|/1000|.0} s"),
    q(README, "first", "summary.groups.billing.consumers.billing-1", "the {rebalancing_ms|/1000} s here is the first join's initial rebalance delay"),
    // The guide's table of shipped scenarios.
    q(GUIDE, "reference", "", "billing stops from about {events.partitions_revoked.0.time_s|.0} s (b1 and b3 revoked)"),
    q(GUIDE, "slow-consumer", "events.lag_status.2", "Burrow, fetching log ends every 1 s here, reads {status} from {time_s} s"),
    q(GUIDE, "stuck-consumer", "events.lag_status.0", "then {partition_status} from {time_s} s: the group {status}"),
    q(GUIDE, "rolling-restart", "summary.groups", "every partition at each step ({eager.revoked_partitions} revocations, each short); cooperative revokes only what moves ({cooperative.revoked_partitions})"),
    q(GUIDE, "push-vs-pull-unavailable/compare", "", "nothing is lost and it catches up about {pull.caught_up_s.drop|-35|.0} s after it resumes"),
    q(GUIDE, "push-vs-pull-unavailable/compare", "push.summary.groups", "once its 1000-record buffer is full (about {drop.push.drops|r100} records)"),
    q(GUIDE, "push-vs-pull-unavailable/compare", "push.summary.groups.unbounded.push", "piles all of it (about {buffer_peak_records|r100} records, {buffer_peak_bytes|/1000000|.1} MB)"),
    // The guide's "Brokers that fail": the five replication scenarios.
    q(GUIDE, "replication-leader-crash", "", "it fences broker 1 when its session runs out, at {events.broker_fenced.0.time_s|.1} s (9 s after its last heartbeat), and elects broker {summary.topics.orders.partitions.0.leader}, the first in-sync replica in assignment order"),
    q(GUIDE, "replication-leader-crash", "summary.producers.web", "writes again at {/events.produce_resumed.0.time_s|.1} s: it could not write for {unavailable_ms.max|/1000|.1} s"),
    q(GUIDE, "replication-leader-crash", "summary.producers.web", "And that is all it costs: {lost} records lost, {duplicates_written} written twice"),
    q(GUIDE, "replication-leader-crash", "summary.groups.shipping", "so its slowest record took {latency_ms.max|/1000|.1} s end to end"),
    q(GUIDE, "replication-acks-1-loss", "", "The {summary.producers.web.lost_by_cause.leader_failover|,} records broker 1 had acknowledged in its last 200 ms are gone"),
    q(GUIDE, "replication-acks-1-loss", "events.log_truncated", "Broker {0.broker} cuts the {0.records|,} it had beyond broker 2's log, and broker {1.broker}, back at {1.time_s|.0} s, cuts its {1.records|,}"),
    q(GUIDE, "replication-acks-1-loss", "summary.groups.shipping", "the group read each record about {latency_ms.p50|.0} ms after it was sent (its median latency)"),
    q(GUIDE, "replication-acks-1-loss", "summary.groups.shipping", "and every reader the same {latency_ms.p50|.0} ms"),
    q(GUIDE, "replication-unclean-election", "", "When broker 1 is fenced at {events.broker_fenced.2.time_s|.1} s, the flag lets the controller elect broker {summary.topics.orders.partitions.0.leader}, out of sync, with only {events.log_truncated.0.to_offset|,} records. {summary.producers.web.lost_by_cause.unclean_election|,} acknowledged, committed records are gone"),
    q(GUIDE, "replication-unclean-election", "events.log_truncated.0", "and broker {broker}, back at {time_s|.0} s, cuts its log by {records|,}"),
    q(GUIDE, "replication-coordinator-failover", "events.coordinator_moved.0", "coordinator is the leader of `{offsets_partition}` (abs(hash(\"g\")) % 50), broker {from_broker} here"),
    q(GUIDE, "replication-coordinator-failover", "summary.groups.g", "their auto-commits fail ({commits_rejected} rejected, `coordinator_not_available`) and the committed lag climbs to {lag_records.max|,} records ({lag_ms.max|/1000|.1} s) until broker 1 is fenced at {/events.broker_fenced.0.time_s|.1} s"),
    q(GUIDE, "replication-coordinator-failover", "events", "Broker {coordinator_moved.0.to_broker} then leads `{coordinator_moved.0.offsets_partition}` and has loaded the group at {coordinator_loaded.0.time_s|.2} s"),
    q(GUIDE, "replication-coordinator-failover", "summary.groups.g", "(`rebalances` is {rebalances}: the first join), nothing lost, nothing processed twice"),
    q(GUIDE, "replication-rolling-restart", "summary.producers.web", "The longest any partition could not be written was {unavailable_ms.max|.0} ms"),
    q(GUIDE, "replication-rolling-restart", "summary.producers.web", "`acks: all` goes on: {lost} lost, {duplicates_written} written twice. The group's coordinator moved {/events.coordinator_moved|len} times with no rebalance"),
    q(GUIDE, "replication-rolling-restart", "summary.brokers", "so the run ends with brokers 1, 2 and 3 leading {1.partitions_led}, {2.partitions_led} and {3.partitions_led} partitions"),
    // The model: consumer groups, share groups, push vs pull, offsets, lag status.
    q(MODEL, "rolling-restart", "summary.groups", "cooperative revokes {cooperative.revoked_partitions} partitions to eager's {eager.revoked_partitions}"),
    q(MODEL, "share-vs-consumer-standbys", "summary.groups.shared", "the backlog stays under about {backlog_records.max|r1000|,}"),
    q(MODEL, "share-vs-consumer-standbys", "events.share_assignment", "At {0.time_s} s only the first member has joined and reads all three; the others get their partitions from the coordinator's next computation, at their {6.time_s} s heartbeat"),
    q(MODEL, "share-window-stall", "in_flight_mode", "({polls-500} offsets with 500-record polls, {polls-300} with 300)"),
    q(MODEL, "push-vs-pull-slow-consumer/compare", "pull.summary.groups.drop", "| drop | pull | {records_processed} | {latency_ms.p50|.0} | {latency_ms.p99|.0} | {push.buffer_peak_records} | {push.drops} | {lost} | {requests} | {lag_records.max} |"),
    q(MODEL, "push-vs-pull-slow-consumer/compare", "push.summary.groups.drop", "| drop | push | {records_processed} | {latency_ms.p50|.0} | {latency_ms.p99|.0} | {push.buffer_peak_records} | {push.drops} | {lost} | {requests} | {lag_records.max} |"),
    q(MODEL, "push-vs-pull-slow-consumer/compare", "push.summary.groups.unbounded", "| unbounded | push | {records_processed} | {latency_ms.p50|.0} | {latency_ms.p99|.0} | {push.buffer_peak_records} (out of memory at {/push.events.consumer_out_of_memory.0.time_s|.0} s) | {push.drops} | {lost} | {requests} | {lag_records.max} |"),
    q(MODEL, "push-vs-pull-slow-consumer/compare", "push.summary.groups.block", "| block | push | {records_processed} | {latency_ms.p50|.0} | {latency_ms.p99|.0} | {push.buffer_peak_records} | {push.drops} | {lost} | {requests} | {lag_records.max} |"),
    q(MODEL, "push-vs-pull-unavailable/compare", "pull.summary.groups.drop", "| any | pull | {records_processed} | {latency_ms.p99|.0} | {push.buffer_peak_records} | {push.drops} | {lost} | {lag_records.max} |"),
    q(MODEL, "push-vs-pull-unavailable/compare", "push.summary.groups.drop", "| drop | push | {records_processed} | {latency_ms.p99|.0} | {push.buffer_peak_records} | {push.drops} | {lost} | {lag_records.max} |"),
    q(MODEL, "push-vs-pull-unavailable/compare", "push.summary.groups.block", "| block | push | {records_processed} | {latency_ms.p99|.0} | {push.buffer_peak_records} | {push.drops} | {lost} | {lag_records.max} |"),
    q(MODEL, "push-vs-pull-unavailable/compare", "push.summary.groups.unbounded", "| unbounded | push | {records_processed} | {latency_ms.p99|.0} | {push.buffer_peak_records} ({push.buffer_peak_bytes|/1000000|.1} MB) | {push.drops} | {lost} | {lag_records.max} |"),
    q(MODEL, "push-vs-pull-unavailable/compare", "", "nothing is lost, and it catches up about {pull.caught_up_s.drop|-35|.0} s after it resumes"),
    q(MODEL, "push-vs-pull-unavailable/compare", "", "The records that waited finish up to {pull.summary.groups.drop.latency_ms.max|/1000|.0} s late in every mode"),
    q(MODEL, "push-vs-pull-burst/compare", "", "push delivers in about {push.summary.groups.analytics.latency_ms.p50|.0} ms at p50 where pull, polling every 50 ms, takes about {pull.summary.groups.analytics.latency_ms.p50|.0} ms; pull needs {pull.summary.groups.analytics.requests|,} requests where push sends {push.summary.groups.analytics.requests|,} messages"),
    q(MODEL, "pull-poll-interval", "summary.groups.poll-10ms", "| `poll_interval: 10ms` | {polls} | {empty_polls} | {latency_ms.p50|.1} ms |"),
    q(MODEL, "pull-poll-interval", "summary.groups.poll-100ms", "| `poll_interval: 100ms` | {polls} | {empty_polls} | {latency_ms.p50|.0} ms |"),
    q(MODEL, "pull-poll-interval", "summary.groups.poll-1s", "| `poll_interval: 1s` | {polls} | {empty_polls} | {latency_ms.p50|.0} ms |"),
    q(MODEL, "pull-poll-interval", "summary.groups.long-poll", "| long poll (`fetch_max_wait_ms: 500`) | {polls} | {empty_polls} | {latency_ms.p50|.1} ms |"),
    q(MODEL, "rewind-after-bug", "summary.groups.billing", "it reprocesses: {replays|,} replays, {duplicates} duplicates"),
    q(MODEL, "stuck-consumer", "", "freezes for good at 30.5 s, having committed {summary.groups.ledger.committed_offsets.payments.0|,}"),
    q(MODEL, "stuck-consumer", "events.lag_status.0", "{partition_status} at {time_s} s, the group {status}"),
    q(MODEL, "rewind-after-bug", "events.lag_status", "{0.partition_status} from {0.time_s} s, when the reset offsets are committed, until the replay commits past where the group had been ({1.status} from {1.time_s} s)"),
    q(MODEL, "slow-consumer", "events.lag_status", "Burrow reads {2.status} from {2.time_s} s (and a {0.partition_status} at {0.time_s} s"),
    q(MODEL, "pubsub-broadcast", "summary.groups.archive.lag_status", "slow `archive` group reads {worst} for the same reason"),
];

/// The repository's text of a doc.
fn doc(name: &str) -> String {
    std::fs::read_to_string(repo(name)).unwrap()
}

fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The value at a dotted path (array indices as numbers).
fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').filter(|k| !k.is_empty()).fold(v, |v, k| match k.parse::<usize>() {
        Ok(i) if v.is_array() => &v[i],
        _ => &v[k],
    })
}

/// A figure as the docs write it: `.N` rounds to N decimals, `/k` divides, `-k` subtracts,
/// `rK` rounds to the nearest K, `,` groups thousands, `len` counts a list, `join` joins it with
/// commas, `none` says 0 as "none".
fn figure(v: &Value, filters: &[&str]) -> String {
    let mut out: Option<String> = None;
    let mut x = v.as_f64();
    for f in filters {
        let arg = || f[1..].parse::<f64>().unwrap_or_else(|_| panic!("bad filter {f}"));
        match *f {
            "len" => x = Some(v.as_array().map_or(0, Vec::len) as f64),
            "join" => {
                out = Some(v.as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect::<Vec<_>>().join(","))
            }
            "none" => out = (x == Some(0.0)).then(|| "none".to_string()),
            "," => out = Some(thousands(x.unwrap())),
            f if f.starts_with('.') => out = Some(format!("{:.*}", arg() as usize, x.unwrap())),
            f if f.starts_with('/') => x = x.map(|x| x / arg()),
            f if f.starts_with('-') => x = x.map(|x| x - arg()),
            f if f.starts_with('r') => x = x.map(|x| (x / arg()).round() * arg()),
            f => panic!("unknown filter {f}"),
        }
    }
    out.unwrap_or_else(|| match (x, v) {
        (Some(x), _) if filters.is_empty() => v.as_u64().map_or_else(|| x.to_string(), |n| n.to_string()),
        (Some(x), _) => x.to_string(),
        (None, Value::String(s)) => s.clone(),
        (None, other) => panic!("{other} is not a figure"),
    })
}

fn thousands(x: f64) -> String {
    let digits = format!("{}", x.round() as u64);
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The quote with its figures filled in from `data`.
fn render(q: &Quote, data: &Value) -> String {
    let mut out = String::new();
    let mut rest = q.text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = open + rest[open..].find('}').expect("a closing brace");
        let mut parts = rest[open + 1..close].split('|');
        let path = parts.next().unwrap();
        let filters: Vec<&str> = parts.collect();
        let value = match path.strip_prefix('/') {
            Some(abs) => at(data, abs),
            None => at(at(data, q.base), path),
        };
        assert!(!value.is_null(), "{}: `{path}` (base `{}`) is not in the run of {}", q.doc, q.base, q.run);
        out.push_str(&figure(value, &filters));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Every quote of `run` holds in its doc, filled in from `data`.
fn check_quotes(run: &str, data: &Value) {
    let quotes: Vec<&Quote> = QUOTES.iter().filter(|q| q.run == run).collect();
    assert!(!quotes.is_empty(), "no quote from {run}");
    let mut wrong = Vec::new();
    for q in quotes {
        let want = render(q, data);
        if !squeeze(&doc(q.doc)).contains(&squeeze(&want)) {
            wrong.push(format!("{}: {want}", q.doc));
        }
    }
    assert!(wrong.is_empty(), "docs quoting {run} do not say what it gives:\n{}", wrong.join("\n"));
}

/// A run as the quotes read it: its summary.json, its events by type (each with `time_s`), and
/// per share group the in-flight span most samples after the first 10 s show.
fn data(w: &kafkasim::kafka::world::World) -> Value {
    let run = w.run_record();
    let mut events: Map<String, Value> = Map::new();
    for e in kafkasim::report::events::logged(&w.plan, &w.rec.events) {
        let mut fields = e.fields.clone();
        fields.insert("time_s".into(), json!(e.time.as_nanos() as f64 / 1e9));
        events
            .entry(e.kind.to_string())
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .unwrap()
            .push(Value::Object(fields));
    }
    let mut in_flight_mode = Map::new();
    for (g, plan) in w.plan.groups.iter().enumerate() {
        let mut counts = std::collections::BTreeMap::new();
        for r in w.rec.metrics.iter().filter(|r| r.group as usize == g && r.time.as_millis() >= 10_000) {
            if r.in_flight != u64::MAX {
                *counts.entry(r.in_flight).or_insert(0u64) += 1;
            }
        }
        if let Some((&span, _)) = counts.iter().max_by_key(|(span, n)| (**n, **span)) {
            in_flight_mode.insert(plan.id.clone(), json!(span));
        }
    }
    json!({
        "summary": kafkasim::report::summary::summary(&run),
        "events": events,
        "in_flight_mode": in_flight_mode,
        "caught_up_s": caught_up(w),
        "story": kafkasim::report::narrate::story(&run),
    })
}

/// Per group, when its backlog (summed over partitions) is first 0 again after its peak, in
/// seconds: when it has caught up.
fn caught_up(w: &kafkasim::kafka::world::World) -> Value {
    let mut out = Map::new();
    for (g, plan) in w.plan.groups.iter().enumerate() {
        let mut per_sample: BTreeMap<u64, u64> = BTreeMap::new();
        for r in w.rec.metrics.iter().filter(|r| r.group as usize == g) {
            *per_sample.entry(r.time.as_nanos()).or_default() += r.backlog;
        }
        let peak = per_sample.iter().max_by_key(|(t, b)| (**b, std::cmp::Reverse(**t))).map(|(t, _)| *t);
        let zero = per_sample.iter().find(|(t, b)| Some(**t) > peak && **b == 0);
        if let Some((t, _)) = zero {
            out.insert(plan.id.clone(), json!(*t as f64 / 1e9));
        }
    }
    Value::Object(out)
}

/// A run's data, filled in by the first test that asks for it.
type Shared = Arc<OnceLock<Arc<Value>>>;

/// A shipped scenario's run data, run once per test process (the narration tests read it too).
pub fn scenario(name: &str) -> Arc<Value> {
    static RUNS: OnceLock<Mutex<BTreeMap<String, Shared>>> = OnceLock::new();
    let cell = RUNS.get_or_init(Default::default).lock().unwrap().entry(name.to_string()).or_default().clone();
    cell.get_or_init(|| {
        let plan = kafkasim::scenario::load(&repo(&format!("scenarios/{name}.yaml"))).unwrap();
        let mut w = kafkasim::kafka::world::World::new(plan);
        w.run();
        Arc::new(data(&w))
    })
    .clone()
}

fn compare(name: &str) -> Value {
    let plan = kafkasim::scenario::load(&repo(&format!("scenarios/{name}.yaml"))).unwrap();
    let cmp = kafkasim::cli::compare::run(&plan).unwrap();
    json!({"pull": data(&cmp.a), "push": data(&cmp.b)})
}

/// The YAML block of the README's first scenario.
fn readme_first_yaml() -> String {
    let readme = doc(README);
    let start = readme.find("```yaml\nname: first\n").expect("the README's first scenario") + "```yaml\n".len();
    readme[start..start + readme[start..].find("```").unwrap()].to_string()
}

/// The lines of a doc's `--narrate` excerpt (the code block holding `marker`): each is a line
/// of the run's story, or its start when the doc cuts it with ", ...".
fn check_story_excerpt(doc_name: &str, marker: &str, story: &Value) {
    let text = doc(doc_name);
    let at = text.find(marker).unwrap_or_else(|| panic!("{doc_name} has no {marker:?}"));
    let block_start = text[..at].rfind("```").unwrap();
    let block = &text[block_start..at + text[at..].find("```").unwrap()];
    let story: Vec<&str> = story.as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    let lines: Vec<&str> =
        block.lines().filter(|l| l.len() > 12 && l.as_bytes()[2] == b':' && l[9..].starts_with("  [")).collect();
    assert!(lines.len() >= 5, "{doc_name}: the excerpt at {marker:?} has {} story lines", lines.len());
    for l in lines {
        let told = match l.strip_suffix(", ...") {
            Some(start) => story.iter().any(|s| s.starts_with(start)),
            None => story.contains(&l),
        };
        assert!(told, "{doc_name}: the story does not tell\n{l}\nit tells:\n{}", story.join("\n"));
    }
}

#[test]
fn the_readme_first_scenario_says_what_it_gives() {
    let data = data(&run_yaml(&readme_first_yaml()));
    check_quotes("first", &data);
    check_story_excerpt(README, "00:06.000  [rebalance] group billing generation 1", &data["story"]);
}

#[test]
fn the_reference_story_and_figures_are_the_run_s() {
    let data = scenario("reference");
    check_quotes("reference", &data);
    check_story_excerpt(REFERENCE, "00:00.000  [store] topic orders has 6 partitions", &data["story"]);
    // "a consumer crashes after committing caught up ... so Burrow never reads STOP"
    assert!(data["events"]["lag_status"].is_null(), "reference: Burrow reads OK throughout");
}

#[test]
fn the_docs_figures_of_burrow_and_replay_runs_hold() {
    for name in ["slow-consumer", "stuck-consumer", "pull-poll-interval", "rewind-after-bug", "pubsub-broadcast"] {
        check_quotes(name, &scenario(name));
    }
}

#[test]
fn the_docs_figures_of_rebalance_and_share_runs_hold() {
    for name in ["rolling-restart", "share-vs-consumer-standbys", "share-window-stall"] {
        let data = scenario(name);
        check_quotes(name, &data);
        if name == "rolling-restart" {
            // "... yet its rebalance_pause_ms is larger"
            let pause = |g: &str| data["summary"]["groups"][g]["rebalance_pause_ms"]["total"].as_f64().unwrap();
            assert!(pause("cooperative") > pause("eager"));
        }
        if name == "share-vs-consumer-standbys" {
            // "only 3 consumers work and the backlog grows without end"
            let queue = &data["summary"]["groups"]["queue"]["backlog_records"];
            assert_eq!(queue["final"], queue["max"]);
            assert!(data["summary"]["groups"]["shared"]["backlog_records"]["max"].as_u64() < Some(2000));
        }
    }
}

#[test]
fn the_docs_figures_of_compares_hold() {
    for name in ["push-vs-pull-slow-consumer", "push-vs-pull-unavailable", "push-vs-pull-burst"] {
        let data = compare(name);
        check_quotes(&format!("{name}/compare"), &data);
        if name == "push-vs-pull-unavailable" {
            // "| any | pull |": every group's pull run is the same.
            let pull = &data["pull"]["summary"]["groups"];
            for g in ["block", "unbounded"] {
                for k in ["records_processed", "latency_ms", "lost", "lag_records"] {
                    assert_eq!(pull[g][k], pull["drop"][k], "pull {g} {k}");
                }
            }
        }
    }
}

/// The cost estimate quoted for benches/large.yaml is what the plan gives.
#[test]
fn the_quoted_estimate_is_the_plan_s() {
    let plan = kafkasim::scenario::load(&repo("benches/large.yaml")).unwrap();
    let est = kafkasim::kafka::budget::estimate(&plan, kafkasim::kafka::budget::Usage::run(false));
    let quote = format!(
        "for `benches/large.yaml` it says {} and {:.1e} events",
        kafkasim::kafka::budget::bytes_text(est.memory_bytes()),
        est.events()
    );
    assert!(squeeze(&doc(REFERENCE)).contains(&quote), "docs/reference.md should say: {quote}");
}

/// `kafkasim check scenarios/standby.yaml` as the guide shows it.
#[test]
fn the_guide_check_excerpt_is_the_tool_s() {
    let out = kafkasim().current_dir(repo(".")).args(["check", "scenarios/standby.yaml"]).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let guide = doc(GUIDE);
    let start = guide.find("$ kafkasim check scenarios/standby.yaml\n").unwrap();
    let block = &guide[start..start + guide[start..].find("```").unwrap()];
    for l in block.lines().skip(1).filter(|l| *l != "...") {
        assert!(stdout.lines().any(|s| s == l), "the guide shows\n{l}\nthe tool prints:\n{stdout}");
    }
}

/// `kafkasim compare` refusing a consumer-protocol group, as the guide quotes it.
#[test]
fn the_guide_quotes_compare_s_refusal_of_the_consumer_protocol() {
    let out = temp_dir("docs-compare-consumer-protocol");
    let res = kafkasim()
        .current_dir(repo("."))
        .args(["compare", "scenarios/consumer-protocol-static-restart.yaml", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(2), "bad input");
    assert!(std::fs::read_dir(&out).unwrap().next().is_none(), "it writes nothing");
    let stderr = String::from_utf8(res.stderr).unwrap();
    let line = stderr.lines().find(|l| l.starts_with("error: ")).expect("an error line");
    assert!(doc(GUIDE).contains(&format!("``{line}``")), "the guide does not quote\n{line}");
}

/// Runs `kafkasim` with `args` then `more` (a sweep) into a fresh folder named `name`: its
/// sweep.md, whose narrow no-break spaces grouping thousands read as the guide's plain spaces.
fn sweep_md(name: &str, args: &[&str], more: &[&str]) -> String {
    let out = temp_dir(name);
    let res = kafkasim().current_dir(repo(".")).args(args).args(more).arg("--out").arg(&out).output().unwrap();
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    std::fs::read_to_string(out.join("sweep.md")).unwrap().replace('\u{202f}', " ")
}

/// The guide's sweep table: rows of sweep.md (`| ... |` stands for the columns left out).
fn check_sweep_rows(consumers: &str) {
    let set = format!("groups.billing.consumers={consumers}");
    let md = sweep_md(
        &format!("docs-sweep-{}", consumers.replace(',', "-")),
        &["sweep", "scenarios/scale-out.yaml", "--set", &set, "--set", "groups.billing.protocol=eager,cooperative"],
        &["--seeds", "5", "--plot", "groups.billing.rebalance_pause_ms.total"],
    );
    let guide = doc(GUIDE);
    let wanted: Vec<&str> = consumers.split(',').collect();
    let rows: Vec<&str> = guide
        .lines()
        .filter(|l| l.contains(" | ... | ") && wanted.iter().any(|c| l.starts_with(&format!("| {c} | "))))
        .collect();
    assert_eq!(rows.len(), 2 * wanted.len(), "the guide's sweep rows for {consumers}");
    for row in rows {
        let (head, tail) = row.split_once(" | ... | ").unwrap();
        let found = md.lines().any(|l| l.starts_with(&format!("{head} | ")) && l.ends_with(&format!(" | {tail}")));
        assert!(found, "the guide's sweep row\n{row}\nis not in sweep.md:\n{md}");
    }
    // "eager ... hands them back within about 0.1 s": the two-consumer eager median pause.
    let eager = md.lines().find(|l| l.starts_with("| 2 | eager | ")).unwrap();
    let median: f64 =
        eager.trim_end_matches(" |").rsplit(" | ").next().unwrap().split(' ').next().unwrap().parse().unwrap();
    let quote = format!("hands them back within about {:.1} s", median / 1000.0);
    assert!(squeeze(&guide).contains(&quote), "the guide should say: {quote}");
}

/// Every row of the guide's sweep table (30 runs: about 6 s in a debug build).
#[test]
fn the_guide_sweep_table_is_the_tool_s() {
    check_sweep_rows("2,4,8");
}

/// The README opens with exactly two set-up commands: a real scenario end to end (its charts
/// included), then the tests; the quick start after them installs the binary on the PATH.
#[test]
fn the_readme_opens_with_two_commands_then_installs() {
    let readme = doc(README);
    let first = readme.find("```\n").unwrap() + 4;
    let block = &readme[first..first + readme[first..].find("```").unwrap()];
    let commands: Vec<&str> = block.lines().map(|l| l.split('#').next().unwrap().trim()).collect();
    assert_eq!(commands.len(), 2, "{block}");
    let scenario = commands[0].strip_prefix("cargo run --release -- run ").expect("a run of a scenario first");
    assert!(repo(scenario).is_file(), "{scenario} is a shipped scenario");
    assert_eq!(commands[1], "cargo test");
    let quick_start = readme.find("## A first scenario").unwrap();
    assert!(readme[quick_start..].contains("\ncargo install --path ."), "the quick start installs the binary");
    assert!(readme[quick_start..].contains("\n$ kafkasim run first.yaml\n"), "and runs it from the PATH");
}

/// The guide's protocol comparison: every row of its table is a row of the sweep's sweep.md.
#[test]
fn the_guide_protocol_comparison_is_the_tool_s() {
    let md = sweep_md(
        "docs-protocol-comparison",
        &[
            "sweep",
            "scenarios/protocol-comparison.yaml",
            "--set",
            "groups.orders-app.protocol=eager,cooperative,consumer",
        ],
        &[
            "--seeds",
            "3",
            "--plot",
            "rebalance_pause_ms.total",
            "--plot",
            "rebalance_latency_ms.total",
            "--plot",
            "stop_the_world_ms.total",
            "--plot",
            "partition_pause_ms",
        ],
    );
    let guide = doc(GUIDE);
    let rows: Vec<&str> = guide
        .lines()
        .filter(|l| ["| eager | ", "| cooperative | ", "| consumer | "].iter().any(|p| l.starts_with(p)))
        .collect();
    assert_eq!(rows.len(), 3, "the guide's protocol comparison rows");
    for row in rows {
        assert!(md.lines().any(|l| l == row), "the guide's row\n{row}\nis not in sweep.md:\n{md}");
    }
}

/// The guide's "Brokers that fail": every figure quoted from the five replication runs.
#[test]
fn the_docs_figures_of_replication_runs_hold() {
    for name in [
        "replication-leader-crash",
        "replication-acks-1-loss",
        "replication-unclean-election",
        "replication-coordinator-failover",
        "replication-rolling-restart",
    ] {
        check_quotes(name, &scenario(name));
    }
}

/// The cells of a sweep.md row, after the leading `|`.
fn cells(md: &str, row_start: &str) -> Vec<String> {
    let row = md.lines().find(|l| l.starts_with(row_start)).unwrap_or_else(|| panic!("no row {row_start}:\n{md}"));
    row.trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect()
}

/// The guide's sweeps of the replication scenarios: each table, with the list of expectations
/// under it, is sweep.md's from its first row to its end, byte for byte.
#[test]
fn the_guide_replication_sweeps_are_the_tool_s() {
    let acks = [
        "--plot",
        "producers.web.lost_by_cause.acks_0",
        "--plot",
        "producers.web.lost_by_cause.leader_failover",
        "--plot",
        "producers.web.duplicates_written",
        "--plot",
        "producers.web.unavailable_ms.max",
        "--plot",
        "groups.shipping.latency_ms.p50",
    ];
    let idem = ["--plot", "producers.web.lost", "--plot", "producers.web.duplicates_written"];
    let unclean = [
        "--plot",
        "producers.web.lost",
        "--plot",
        "topics.orders.partitions.0.leader",
        "--plot",
        "topics.orders.partitions.0.offline_ms",
    ];
    let s2 = "scenarios/replication-acks-1-loss.yaml";
    let sweeps: [(&str, Vec<&str>, &[&str]); 3] = [
        ("docs-acks", vec!["sweep", s2, "--set", "producers.web.acks=0,1,all"], &acks),
        (
            "docs-idempotence",
            vec![
                "sweep",
                s2,
                "--set",
                "producers.web.acks=all",
                "--set",
                "producers.web.enable_idempotence=true,false",
            ],
            &idem,
        ),
        (
            "docs-unclean",
            vec![
                "sweep",
                "scenarios/replication-unclean-election.yaml",
                "--set",
                "topics.orders.unclean_leader_election_enable=true,false",
            ],
            &unclean,
        ),
    ];
    let guide = doc(GUIDE);
    let mut mds = Vec::new();
    for (name, args, plots) in sweeps {
        let more: Vec<&str> = ["--seeds", "3"].into_iter().chain(plots.iter().copied()).collect();
        let md = sweep_md(name, &args, &more);
        let table = md[md.find("\n| ").expect("a table") + 1..].trim_end();
        assert!(guide.contains(table), "the guide should show {name}'s table as sweep.md has it:\n{table}");
        mds.push(md);
    }
    // "acks=0 loses the same records": its acks_0 cell is acks=1's leader_failover cell.
    assert_eq!(cells(&mds[0], "| 0 | ")[3], cells(&mds[0], "| 1 | ")[4]);
    // "in one run of three without idempotence a batch ... was written twice".
    assert!(cells(&mds[1], "| all | false | ")[3].contains("E3 failed in 1/3"));
}
