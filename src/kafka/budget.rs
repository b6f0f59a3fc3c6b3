//! What a run will cost, estimated from the plan alone before it starts: memory (records kept,
//! the producers' look-ahead, metric rows, per-partition state) and work (heap events, metric
//! rows, group-protocol work). A plan over a ceiling is refused with the estimate, the biggest
//! part of it, and how to lower it or raise the ceiling. The estimate is deliberately simple:
//! it must be right to a small factor, and never be the slow part itself.

use crate::scenario::plan::AssignorKind;
use crate::scenario::plan::{ConsumerConfig, GroupPlan, Plan, Processing, ProducerPlan};

/// Default ceilings; `--max-memory` and `--max-events` raise them.
pub const DEFAULT_MAX_MEMORY: u64 = 4 << 30;
/// Minutes of simulation on one core (1.4 M events/s in release); estimates err high, about 4x
/// on benches/large.yaml.
pub const DEFAULT_MAX_EVENTS: u64 = 1_000_000_000;

/// Bytes per kept record (its 2-byte creation-time slot) and per batch in a log.
const RECORD_BYTES: f64 = 2.0;
const BATCH_BYTES: f64 = 48.0;
/// A record drawn ahead in a producer's open batch (its creation time).
const LOOKAHEAD_BYTES: f64 = 8.0;
/// A batch of a producer window on its way (`kafka::producer::feed`): closed, waiting for the merge, and in
/// a chunk (three copies of a 40-byte record, rounded up).
const LOOKAHEAD_BATCH_BYTES: f64 = 128.0;
const METRIC_ROW_BYTES: f64 = std::mem::size_of::<crate::record::MetricRow>() as f64;
/// Per group and partition of the world: a group's offsets, ownership and accounting are dense
/// tables over every partition (`kafka::coordinator::Group`; a test there holds this at or above their
/// element sizes).
pub const GROUP_DENSE_BYTES: u64 = 128;
/// A share group's share-partition table, likewise (`kafka::coordinator::share_group::ShareGroup`).
pub const SHARE_DENSE_BYTES: u64 = 256;
/// Per partition a group reads: processed and delivered ranges, Burrow's commit window, the
/// consumers' owned entries. With the dense tables and the event log's mentions, 536 B per
/// group-partition without the report: `kafkasim bench` of benches/groups-30x10k.yaml peaks at
/// 160 MB, of groups-300x10k.yaml at 1480 MB (488 B per group-partition between them).
const READ_PARTITION_BYTES: f64 = 256.0;
/// The same partition in the report (`Usage::report`): summary.json's value (its committed
/// offset and its owner's list of partition names, about 160 B, held while the charts and the
/// page are made) and the story's list of what each consumer holds. The ownership chart keeps
/// only the rows it draws and the events are named one at a time, so `kafkasim run` of
/// groups-30x10k.yaml peaks at 238 MB and of groups-300x10k.yaml at 1.82 GB, 585 B per
/// group-partition between them, of which `kafkasim bench` takes 240 (it was 2.2 kB, 6.5 GB).
const READ_PARTITION_REPORT_BYTES: f64 = 384.0;
/// A control-plane event (its fields) and, in an assignment or rebalance event, each partition
/// it names; with the report, again in the story's lines (the events themselves are named one
/// at a time, and the page shows the first 20,000 with their lists cut).
const EVENT_BYTES: f64 = 512.0;
const EVENT_PARTITION_BYTES: f64 = 8.0;
const EVENT_PARTITION_REPORT_BYTES: f64 = 24.0;
/// A push message waiting in a consumer's buffer: (partition, from, to).
const PUSH_MESSAGE_BYTES: f64 = 24.0;
/// Per consumer: its state, plus per record of a poll: finish time, latency, range.
const CONSUMER_BYTES: f64 = 2048.0;
const INFLIGHT_RECORD_BYTES: f64 = 16.0;
/// Per key of a key space (the partitioner's key table).
const KEY_BYTES: f64 = 16.0;

#[derive(Clone, Copy, Debug)]
pub struct Ceilings {
    pub max_memory: u64,
    pub max_events: u64,
}

impl Default for Ceilings {
    fn default() -> Self {
        Ceilings { max_memory: DEFAULT_MAX_MEMORY, max_events: DEFAULT_MAX_EVENTS }
    }
}

/// One part of an estimate: its size, what it is made of, and how a user lowers it.
#[derive(Clone, Debug)]
pub struct Part {
    pub amount: f64,
    pub what: String,
    pub advice: String,
}

#[derive(Clone, Debug, Default)]
pub struct Estimate {
    pub memory: Vec<Part>,
    pub work: Vec<Part>,
}

impl Estimate {
    pub fn memory_bytes(&self) -> f64 {
        self.memory.iter().map(|p| p.amount).sum()
    }
    pub fn events(&self) -> f64 {
        self.work.iter().map(|p| p.amount).sum()
    }
}

fn part(amount: f64, what: String, advice: &str) -> Part {
    Part { amount, what, advice: advice.to_string() }
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// How a command runs a plan, as far as its cost goes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    /// Invariant checks after every event (`--check-invariants`).
    pub check_invariants: bool,
    /// metrics.csv rows are kept in memory for the end of the run, instead of written as they
    /// are sampled (`run` streams them; `compare` keeps them).
    pub rows_kept: bool,
    /// Worlds held at once (`compare` builds both before running either).
    pub worlds: u32,
    /// The run's report is built (summary, events.jsonl, charts, index.html): its tables and
    /// charts of every partition a group reads, and a second copy of the events.
    pub report: bool,
}

impl Usage {
    /// `kafkasim run`: one world, metrics streamed to metrics.csv, and the report.
    pub fn run(check_invariants: bool) -> Self {
        Usage { check_invariants, rows_kept: false, worlds: 1, report: true }
    }

    /// `kafkasim bench`: one world, no metrics rows kept, no report.
    pub fn bench() -> Self {
        Usage { report: false, ..Usage::run(false) }
    }
}

/// Estimates memory and work of `plan` run as `usage` says.
///
/// The parts go in a fixed order, memory and work each: the sums and the biggest part (the last
/// of equal ones) the refusal names depend on it.
pub fn estimate(plan: &Plan, usage: Usage) -> Estimate {
    let mut est = Estimate::default();
    let produced = producers(plan, &mut est);
    let group_partitions = metric_rows(plan, usage.rows_kept, &mut est);
    group_state(plan, group_partitions, produced.keys, usage.report, &mut est);
    event_log(plan, usage.report, &mut est);
    push_buffers(plan, &produced, &mut est);
    let consumers = poll_loops(plan, &produced, &mut est);
    group_protocol(plan, &mut est);
    burrow_refreshes(plan, &mut est);
    let all_partitions = retention_checks(plan, &mut est);
    if usage.check_invariants {
        let per_event = group_partitions + all_partitions * plan.groups.len() as f64 + consumers;
        invariant_checks(&mut est, per_event);
    }
    est
}

/// What the producers write over the run, at their peak rates.
struct Produced {
    records_per_topic: Vec<f64>,
    batches_per_topic: Vec<f64>,
    /// Keys of every producer's key space.
    keys: f64,
}

impl Produced {
    /// Records and batches of the topics group `g` reads.
    fn of_group(&self, g: &GroupPlan) -> (f64, f64) {
        let records: f64 = g.topics.iter().map(|&t| self.records_per_topic[t]).sum();
        let batches: f64 = g.topics.iter().map(|&t| self.batches_per_topic[t]).sum();
        (records, batches)
    }
}

fn topic_partitions(plan: &Plan, t: usize) -> f64 {
    f64::from(plan.topics[t].max_partitions)
}

/// Producers: records kept in the log, batches, the look-ahead window of open batches.
fn producers(plan: &Plan, est: &mut Estimate) -> Produced {
    let run_s = secs(plan.duration.as_nanos());
    let mut produced = Produced {
        records_per_topic: vec![0.0f64; plan.topics.len()],
        batches_per_topic: vec![0.0f64; plan.topics.len()],
        keys: 0.0,
    };
    let (mut records, mut batches, mut lookahead, mut ticks) = (0.0, 0.0, 0.0, 0.0);
    let mut lookahead_batches = 0.0;
    for (i, p) in plan.producers.iter().enumerate() {
        let peak = peak_rate(plan, i, p);
        let n = peak * run_s;
        let parts = topic_partitions(plan, p.topic);
        // A batch closes when full or linger_ms after its first record, whichever comes first.
        // Records without keys under the default (sticky) partitioner fill one partition's batch
        // at a time; otherwise they spread over every partition.
        let per_batch = (p.batch_size as f64 / p.record_size as f64).max(1.0);
        let sticky = p.keys == crate::scenario::plan::Keys::None
            && p.partitioner == crate::scenario::plan::PartitionerKind::Default;
        let lanes = if sticky { 1.0 } else { parts };
        let rate_lane = peak / lanes;
        let linger_s = secs(p.linger.as_nanos()).max(1e-9);
        let batch_rate_lane = rate_lane.min((rate_lane / per_batch).max(1.0 / linger_s));
        let b = batch_rate_lane * lanes * run_s;
        records += n;
        batches += b;
        produced.records_per_topic[p.topic] += n;
        produced.batches_per_topic[p.topic] += b;
        // The producer draws a whole window (linger_ms, at least 1 ms) of arrivals ahead.
        let window_s = linger_s.max(1e-3);
        lookahead += peak * window_s;
        lookahead_batches += batch_rate_lane * lanes * window_s;
        ticks += run_s / window_s;
        produced.keys += match p.keys {
            crate::scenario::plan::Keys::Uniform(k) | crate::scenario::plan::Keys::Zipf { n: k, .. } => k as f64,
            crate::scenario::plan::Keys::None => 0.0,
        };
    }
    est.memory.push(part(
        records * RECORD_BYTES + batches * BATCH_BYTES,
        format!("records kept: {records:.0} records in {batches:.0} batches"),
        "shorten the run or lower the rates",
    ));
    est.memory.push(part(
        lookahead * LOOKAHEAD_BYTES + lookahead_batches * LOOKAHEAD_BATCH_BYTES,
        format!(
            "producer look-ahead: {lookahead:.0} records in {lookahead_batches:.0} batches drawn one linger_ms window ahead"
        ),
        "lower linger_ms or the rates",
    ));
    est.work.push(part(
        batches + ticks,
        format!("producer batches: {batches:.0}"),
        "shorten the run or lower the rates",
    ));
    produced
}

/// Producer `i`'s highest rate: its own, or a timeline `rate` action's if higher.
fn peak_rate(plan: &Plan, i: usize, p: &ProducerPlan) -> f64 {
    plan.timeline
        .iter()
        .filter_map(|a| match a.action {
            crate::scenario::plan::Action::Rate { producer, rate } if producer == i => Some(rate),
            _ => None,
        })
        .fold(p.rate, f64::max)
}

/// Metric rows: one per group partition per sample. Returns the partitions the groups read,
/// summed over groups.
fn metric_rows(plan: &Plan, rows_kept: bool, est: &mut Estimate) -> f64 {
    let samples = (plan.duration.as_nanos() / plan.sample_interval.as_nanos() + 1) as f64;
    let group_partitions: f64 =
        plan.groups.iter().map(|g| g.topics.iter().map(|&t| topic_partitions(plan, t)).sum::<f64>()).sum();
    let rows = group_partitions * samples;
    if rows_kept {
        est.memory.push(part(
            rows * METRIC_ROW_BYTES,
            format!(
                "metric rows: {group_partitions:.0} partitions (summed over {} groups) x {samples:.0} samples",
                plan.groups.len()
            ),
            "raise sample_interval",
        ));
    }
    est.work.push(part(rows + samples, format!("metric rows: {rows:.0}"), "raise sample_interval"));
    group_partitions
}

/// Every group keeps dense tables over all partitions of the world, and more per partition
/// it reads.
fn group_state(plan: &Plan, group_partitions: f64, keys: f64, report: bool, est: &mut Estimate) {
    let world_partitions: f64 = (0..plan.topics.len()).map(|t| topic_partitions(plan, t)).sum();
    let dense: f64 = plan
        .groups
        .iter()
        .map(|g| {
            let share = if g.kind == crate::scenario::plan::GroupType::Share { SHARE_DENSE_BYTES } else { 0 };
            world_partitions * (GROUP_DENSE_BYTES + share) as f64
        })
        .sum();
    let read = if report { READ_PARTITION_BYTES + READ_PARTITION_REPORT_BYTES } else { READ_PARTITION_BYTES };
    est.memory.push(part(
        dense + group_partitions * read + keys * KEY_BYTES,
        format!(
            "group state: {} groups x {world_partitions:.0} partitions, {group_partitions:.0} of them read; {keys:.0} keys",
            plan.groups.len()
        ),
        "use fewer groups, partitions or keys",
    ));
}

/// Consumers: the poll loop. Idle, a poll waits fetch_max_wait_ms (or returns at once and
/// sleeps poll_interval); busy, each batch appended to a partition it reads can wake it.
/// Pushes the loops' and the heartbeats' work and the consumers' memory; returns how many
/// consumers there are.
fn poll_loops(plan: &Plan, produced: &Produced, est: &mut Estimate) -> f64 {
    let run_s = secs(plan.duration.as_nanos());
    let delay = plan.network_delay.as_nanos();
    let (mut loop_events, mut heartbeats, mut consumers, mut inflight) = (0.0, 0.0, 0.0, 0.0);
    let mut fastest: Option<(f64, String)> = None;
    for g in &plan.groups {
        let (g_records, g_batches) = produced.of_group(g);
        let members = g.consumers.len() as f64;
        for c in &g.consumers {
            let cfg = &c.config;
            let cycle_ns =
                cfg.poll_interval.as_nanos().saturating_add(cfg.fetch_max_wait.as_nanos()).saturating_add(2 * delay);
            let cycles = run_s * 1e9 / cycle_ns.max(1) as f64;
            if fastest.as_ref().is_none_or(|(f, _)| cycles > *f) {
                fastest = Some((cycles, c.name.clone()));
            }
            // Busy, a poll finds records at once: at most one per poll_interval (+ the round trip).
            let busy_cycle_ns = cfg.poll_interval.as_nanos().saturating_add(2 * delay);
            let busy = (g_batches / members).min(g_records).min(run_s * 1e9 / busy_cycle_ns.max(1) as f64);
            // Processing draws one sample per record unless it is constant.
            let per_record = if matches!(cfg.processing, Processing::Constant(_)) || mean_processing(cfg) == 0.0 {
                0.0
            } else {
                g_records / members
            };
            loop_events += 4.0 * (cycles + busy) + per_record;
            heartbeats += run_s / secs(cfg.heartbeat_interval.as_nanos()).max(1e-9)
                + 2.0 * run_s / secs(cfg.auto_commit_interval.as_nanos()).max(1e-9);
            consumers += 1.0;
            inflight += f64::from(cfg.max_poll_records);
        }
    }
    let loop_what = match &fastest {
        Some((cycles, name)) => {
            format!("consumer poll loops: {consumers:.0} consumers; `{name}` alone polls {cycles:.0} times")
        }
        None => "consumer poll loops".to_string(),
    };
    est.work.push(part(loop_events, loop_what, "raise poll_interval or fetch_max_wait_ms, or use fewer consumers"));
    est.work.push(part(
        heartbeats,
        format!("heartbeats and auto-commits of {consumers:.0} consumers"),
        "raise heartbeat_interval_ms or auto_commit_interval_ms",
    ));
    est.memory.push(part(
        consumers * CONSUMER_BYTES + inflight * INFLIGHT_RECORD_BYTES,
        format!("consumers: {consumers:.0}, up to {inflight:.0} records in their polls"),
        "use fewer consumers or a lower max_poll_records",
    ));
    consumers
}

/// The mean time to process one record, in nanoseconds.
fn mean_processing(cfg: &ConsumerConfig) -> f64 {
    match cfg.processing {
        Processing::Constant(d) | Processing::Exponential(d) => d.as_nanos() as f64,
        Processing::Uniform(lo, hi) => (lo.as_nanos() + hi.as_nanos()) as f64 / 2.0,
        Processing::LogNormal { median, .. } => median.as_nanos() as f64,
    }
}

/// Each membership change rebalances the group: its first join, each consumer starting late,
/// and each timeline action that changes its members or its partitions.
fn membership_changes(plan: &Plan, gi: usize, g: &GroupPlan) -> f64 {
    1.0 + g.consumers.iter().filter(|c| c.start_at.is_some_and(|t| !t.is_zero())).count() as f64
        + plan
            .timeline
            .iter()
            .filter(|a| match &a.action {
                crate::scenario::plan::Action::Crash((x, _))
                | crate::scenario::plan::Action::Start((x, _))
                | crate::scenario::plan::Action::Stop((x, _))
                | crate::scenario::plan::Action::Hang { consumer: (x, _), .. }
                | crate::scenario::plan::Action::AddConsumer((x, _)) => *x == gi,
                crate::scenario::plan::Action::AddPartitions { topic, .. } => g.topics.contains(topic),
                _ => false,
            })
            .count() as f64
}

fn group_partitions_of(plan: &Plan, g: &GroupPlan) -> f64 {
    g.topics.iter().map(|&t| topic_partitions(plan, t)).sum()
}

/// Each membership change rebalances the group; an assignment costs members x partitions
/// (sticky assignors several passes).
fn group_protocol(plan: &Plan, est: &mut Estimate) {
    let mut protocol = 0.0;
    for (gi, g) in plan.groups.iter().enumerate() {
        let members = g.consumers.len() as f64;
        let passes = match g.assignor {
            AssignorKind::Sticky | AssignorKind::CooperativeSticky => 8.0,
            _ => 1.0,
        };
        protocol +=
            membership_changes(plan, gi, g) * (members * group_partitions_of(plan, g) * passes + members * members);
    }
    est.work.push(part(
        protocol,
        "group-protocol work: assignments x members x partitions".into(),
        "use fewer consumers or partitions",
    ));
}

/// Each change logs a few events per member, and the partitions of the new assignment
/// (assignment, revocation and rebalance events name them).
fn event_log(plan: &Plan, report: bool, est: &mut Estimate) {
    let (mut events, mut event_partitions) = (0.0, 0.0);
    for (gi, g) in plan.groups.iter().enumerate() {
        let changes = membership_changes(plan, gi, g);
        events += changes * (4.0 + 4.0 * g.consumers.len() as f64);
        event_partitions += changes * 3.0 * group_partitions_of(plan, g);
    }
    let mention = if report { EVENT_PARTITION_BYTES + EVENT_PARTITION_REPORT_BYTES } else { EVENT_PARTITION_BYTES };
    est.memory.push(part(
        events * EVENT_BYTES + event_partitions * mention,
        format!("event log: about {events:.0} events naming {event_partitions:.0} partitions"),
        "use fewer consumers, partitions or timeline actions",
    ));
}

/// Push buffers: up to `push_buffer` records a consumer, each message at least one record;
/// `unbounded` holds what a frozen consumer is sent, up to its consumer_memory.
fn push_buffers(plan: &Plan, produced: &Produced, est: &mut Estimate) {
    let mut push_messages = 0.0;
    for g in plan.groups.iter().filter(|g| g.delivery == crate::scenario::plan::Delivery::Push) {
        let (g_records, _) = produced.of_group(g);
        let members = g.consumers.len() as f64;
        for c in &g.consumers {
            let per_consumer = g_records / members;
            push_messages += match g.push.overflow {
                crate::scenario::plan::PushOverflow::Unbounded => {
                    let record_bytes = plan.producers.iter().map(|p| p.record_size).min().unwrap_or(100).max(1);
                    c.consumer_memory.map_or(per_consumer, |m| (m / record_bytes) as f64).min(per_consumer)
                }
                _ => (g.push.buffer as f64).min(per_consumer),
            };
        }
    }
    if push_messages > 0.0 {
        est.memory.push(part(
            push_messages * PUSH_MESSAGE_BYTES,
            format!("push buffers: up to {push_messages:.0} messages"),
            "lower push_buffer, or bound an unbounded buffer with consumer_memory",
        ));
    }
}

/// Burrow's offset refresh reads every partition's log end.
fn burrow_refreshes(plan: &Plan, est: &mut Estimate) {
    let run_s = secs(plan.duration.as_nanos());
    let refreshes = run_s / secs(plan.burrow.offset_refresh.as_nanos()).max(1e-9) + 1.0;
    est.work.push(part(
        refreshes * (1.0 + all_partitions_of(plan)),
        format!("Burrow's offset refreshes: {refreshes:.0}"),
        "raise burrow.offset_refresh",
    ));
}

/// The broker's retention check visits every partition. Returns the world's partitions.
fn retention_checks(plan: &Plan, est: &mut Estimate) -> f64 {
    let run_s = secs(plan.duration.as_nanos());
    let all_partitions: f64 = (0..plan.topics.len()).map(|t| topic_partitions(plan, t)).sum();
    let checks = run_s / secs(plan.retention_check_interval.as_nanos()).max(1e-9);
    est.work.push(part(
        checks * (1.0 + all_partitions),
        format!("retention checks: {checks:.0} x {all_partitions:.0} partitions"),
        "raise log_retention_check_interval_ms",
    ));
    all_partitions
}

/// `--check-invariants`: after every event of the work so far, a pass over `per_event`
/// partitions and consumers.
fn invariant_checks(est: &mut Estimate, per_event: f64) {
    let events = est.events();
    est.work.push(part(
        events * per_event,
        format!("invariant checks: {events:.0} events x {per_event:.0} partitions and consumers"),
        "run without --check-invariants, or make the scenario smaller",
    ));
}

fn all_partitions_of(plan: &Plan) -> f64 {
    plan.topics.iter().map(|t| f64::from(t.max_partitions)).sum()
}

/// Human size: "12.0 GB", "512 MB".
pub fn bytes_text(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.0} MB", b / 1e6)
    } else {
        format!("{:.0} kB", (b / 1e3).max(1.0))
    }
}

/// Parses "4GB", "512MB", "2GiB" or a byte count, for `--max-memory`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("`{s}` is not a size; write e.g. 8GB, 512MB or 2GiB"))?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "`{other}` is not a size unit in `{s}`; allowed: B, kB, MB, GB, TB, KiB, MiB, GiB, TiB"
            ));
        }
    };
    let v = n * scale;
    if !(v.is_finite() && (1.0..1.8e19).contains(&v)) {
        return Err(format!("`{s}` is not a usable size"));
    }
    Ok(v as u64)
}

/// Refuses a plan over a ceiling: Err(message) with the estimate, its biggest part, the ceiling
/// and how to get under it or raise it.
pub fn check(plan: &Plan, ceilings: Ceilings, usage: Usage) -> Result<Estimate, String> {
    let est = estimate(plan, usage);
    let biggest = |parts: &[Part]| parts.iter().max_by(|a, b| a.amount.total_cmp(&b.amount)).cloned();
    let memory = est.memory_bytes() * f64::from(usage.worlds.max(1));
    if memory > ceilings.max_memory as f64 {
        let top = biggest(&est.memory).expect("parts");
        let worlds = if usage.worlds > 1 { format!(", {} runs held at once", usage.worlds) } else { String::new() };
        return Err(format!(
            "this scenario needs about {} ({}{worlds}); the limit is {}: {}, or pass --max-memory {}",
            bytes_text(memory),
            top.what,
            bytes_text(ceilings.max_memory as f64),
            top.advice,
            bytes_text(memory * 1.25).replace(' ', "").replace(".0", "")
        ));
    }
    let events = est.events();
    if events > ceilings.max_events as f64 {
        let top = biggest(&est.work).expect("parts");
        return Err(format!(
            "this scenario needs about {events:.2e} events of work ({}); the limit is {:.0e}: {}, or pass --max-events {:.0}",
            top.what,
            ceilings.max_events as f64,
            top.advice,
            (events * 1.25).ceil()
        ));
    }
    Ok(est)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(yaml: &str) -> Plan {
        crate::scenario::parse("t.yaml", yaml).unwrap()
    }

    const BASE: &str = "name: b\nduration: 10s\ntopics: [{name: t, partitions: 4}]\nproducers: [{name: p, topic: t, rate: 1000/s}]\ngroups: [{id: g, topics: [t], consumers: 2}]\n";

    #[test]
    fn a_small_scenario_fits() {
        let est = check(&plan(BASE), Ceilings::default(), Usage::run(true)).unwrap();
        assert!(est.memory_bytes() < 1e7, "{est:?}");
        assert!(est.events() < 1e6, "{est:?}");
    }

    #[test]
    fn runaway_worlds_are_refused_with_the_reason() {
        let linger = plan(&BASE.replace("rate: 1000/s", "rate: 1000000/s, linger_ms: 1h"));
        let e = check(&linger, Ceilings::default(), Usage::run(false)).unwrap_err();
        assert!(
            e.contains("producer look-ahead") && e.contains("--max-memory") && e.contains("limit is 4.3 GB"),
            "{e}"
        );
        let spin = plan(&BASE.replace("consumers: 2", "consumers: 2, poll_interval: 1ns, fetch_max_wait_ms: 0"));
        let e = check(&spin, Ceilings::default(), Usage::run(false)).unwrap_err();
        assert!(e.contains("poll loops") && e.contains("poll_interval") && e.contains("--max-events"), "{e}");
        let retention = plan(
            &BASE
                .replace("duration: 10s", "duration: 80000h\nsample_interval: 1h\nlog_retention_check_interval_ms: 1")
                .replace("rate: 1000/s", "rate: 0/s"),
        );
        let e = check(&retention, Ceilings::default(), Usage::run(false)).unwrap_err();
        assert!(e.contains("log_retention_check_interval_ms"), "{e}");
    }

    /// 300 groups, each reading one 10,000-partition topic: 3 million group-partitions, which took
    /// over 16 GB and died in an allocation under a 4 GB limit, are counted: run within the
    /// default ceiling since the report holds little per group-partition; 1,000 are refused.
    #[test]
    fn groups_times_partitions_are_counted() {
        let mut yaml = "name: wide\nduration: 10s\ntopics: [{name: t, partitions: 10000}]\nproducers: [{name: p, topic: t, rate: 100/s}]\ngroups:\n".to_string();
        for i in 0..300 {
            yaml.push_str(&format!("  - {{id: g{i}, topics: [t], consumers: 1}}\n"));
        }
        let wide = plan(&yaml);
        // 3 M group-partitions at 128 B dense, 640 B read and 3 x 32 B of events each, with the
        // report: 2.6 GB (`kafkasim run` of it peaks at 1.82 GB), under the default ceiling.
        let est = check(&wide, Ceilings::default(), Usage::run(false)).unwrap();
        assert!((2.5e9..2.7e9).contains(&est.memory_bytes()), "{est:?}");
        // Without the report (`kafkasim bench`), 256 B read and 3 x 8 B of events each: 1.2 GB.
        let bench = check(&wide, Ceilings::default(), Usage::bench()).unwrap();
        assert!((1.1e9..1.3e9).contains(&bench.memory_bytes()), "{bench:?}");
        // 1,000 such groups are refused before anything is built: 8.6 GB.
        let mut wider = yaml.clone();
        for i in 300..1000 {
            wider.push_str(&format!("  - {{id: g{i}, topics: [t], consumers: 1}}\n"));
        }
        let e = check(&plan(&wider), Ceilings::default(), Usage::run(false)).unwrap_err();
        assert!(e.contains("group state: 1000 groups x 10000 partitions") && e.contains("--max-memory"), "{e}");
    }

    #[test]
    fn metric_rows_count_only_where_they_are_kept() {
        let base = plan(BASE);
        let streamed = estimate(&base, Usage::run(false)).memory_bytes();
        let kept = estimate(&base, Usage { rows_kept: true, ..Usage::run(false) }).memory_bytes();
        // 4 partitions x 101 samples.
        let rows = 4.0 * 101.0 * std::mem::size_of::<crate::record::MetricRow>() as f64;
        assert!((kept - streamed - rows).abs() < 1.0, "{kept} - {streamed} != {rows}");
    }

    #[test]
    fn a_comparison_holds_two_worlds() {
        let big = plan(
            &BASE
                .replace("partitions: 4", "partitions: 10000")
                .replace("consumers: 2", "consumers: 2}, {id: h, topics: [t], consumers: 1"),
        );
        let one = estimate(&big, Usage::run(false)).memory_bytes();
        let ceilings = Ceilings { max_memory: (one * 1.5) as u64, max_events: u64::MAX };
        assert!(check(&big, ceilings, Usage::run(false)).is_ok());
        let e = check(&big, ceilings, Usage { worlds: 2, ..Usage::run(false) }).unwrap_err();
        assert!(e.contains("2 runs held at once"), "{e}");
    }

    #[test]
    fn ceilings_can_be_raised() {
        let spin = plan(&BASE.replace("consumers: 2", "consumers: 2, poll_interval: 1ns, fetch_max_wait_ms: 0"));
        assert!(check(&spin, Ceilings { max_memory: u64::MAX, max_events: u64::MAX }, Usage::run(false)).is_ok());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4GB"), Ok(4_000_000_000));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5XB").is_err());
    }
}
