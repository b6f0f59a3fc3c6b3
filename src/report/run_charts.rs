//! The charts of one run (lag, ownership, offsets), drawn from what it recorded. Every group and
//! consumer has one palette slot for all of them (and for the charts of a compare, whose two runs
//! share the plan), so a colour means the same thing everywhere.

use super::charts::{self, Band, LineChart, Marker, OwnershipRow, Series, Span};
use super::events::LoggedEvent;
use super::lag;
use crate::record::NONE_U32;
use crate::record::run::{ConsumerState, Run};
use crate::scenario::plan::Action;
use crate::scenario::plan::GroupType;
use std::collections::BTreeMap;
use std::path::Path;

/// The chart files of a run, in the order the report page shows them. latency-over-time is
/// written when the engine recorded latency per second (`GroupStats::record_latency_at`).
pub const CHARTS: [&str; 5] = ["lag", "ownership", "share", "offsets", "latency-over-time"];

/// Palette slot of group `g`: groups come first.
pub fn group_slot(g: usize) -> usize {
    g
}

/// Palette slot of consumer `c`: after every group of the run.
pub fn consumer_slot(w: &Run, c: usize) -> usize {
    w.plan.groups.len() + c
}

/// Writes lag, ownership and offsets charts (PNG and SVG) into `dir`.
pub fn write_all(w: &Run, dir: &Path) -> anyhow::Result<()> {
    lag_chart(w, dir)?;
    ownership_chart(w, dir)?;
    offsets_chart(w, dir)?;
    if w.plan.groups.iter().any(|g| g.kind == GroupType::Share) {
        share_chart(w, dir)?;
    }
    if w.rec.groups.iter().any(|g| !g.latency_per_second.is_empty()) {
        latency_chart(w, dir)?;
    }
    Ok(())
}

/// Share groups, per partition: the in-flight window SPEO - SPSO + 1 (solid; the flat top is
/// share_partition_max_record_locks, where acquisition stalls) and share lag (dashed).
fn share_chart(w: &Run, dir: &Path) -> anyhow::Result<()> {
    let mut series = Vec::new();
    let many_groups = w.plan.groups.iter().filter(|g| g.kind == GroupType::Share).count() > 1;
    let mut slot = 0;
    for (gi, g) in w.plan.groups.iter().enumerate() {
        if g.kind != GroupType::Share {
            continue;
        }
        for p in w.plan.group_partition_ids(gi) {
            let samples: Vec<_> =
                w.rec.share_samples.iter().filter(|s| s.group == gi as u16 && s.partition == p).collect();
            if samples.is_empty() {
                continue;
            }
            let name = w.plan.partition_name(p);
            let label = if many_groups { format!("{}: {name}", g.id) } else { name };
            let color = Some(slot);
            slot += 1;
            series.push(Series {
                label: format!("{label} in flight"),
                points: samples.iter().map(|s| (s.time.as_secs_f64(), s.in_flight as f64)).collect(),
                color,
                ..Default::default()
            });
            series.push(Series {
                label: format!("{label} share lag"),
                points: samples.iter().map(|s| (s.time.as_secs_f64(), s.share_lag as f64)).collect(),
                color,
                dash: 1,
                thin: true,
            });
        }
    }
    let title = format!("{}: share groups - records in flight and share lag per partition", w.plan.name);
    let limits: Vec<String> = w
        .plan
        .groups
        .iter()
        .filter(|g| g.kind == GroupType::Share)
        .map(|g| format!("{} {}", g.id, g.share.window_limit))
        .collect();
    let note = format!(
        "Solid: in flight, SPEO - SPSO + 1 (the window of records taken and not all done; new records \
         are acquired only while it is below share_partition_max_record_locks: {}). Dashed: share lag, \
         log end - SPSO - records done in the window (KIP-1226).",
        limits.join(", ")
    );
    LineChart {
        title: &title,
        x_label: "virtual time (s)",
        y_label: "records",
        series: &series,
        markers: &markers(w),
        integer_y: true,
        empty_note: Some("No share-partition was initialized: no member was assigned one."),
        legend_note: Some(&note),
        bands: &[],
    }
    .write(&dir.join("share.png"), &dir.join("share.svg"))
}

/// Per group and second: p99 (solid) and p50 (dashed) end-to-end latency of the records that
/// finished processing in that second, plotted at the second's middle.
fn latency_chart(w: &Run, dir: &Path) -> anyhow::Result<()> {
    let mut series = Vec::new();
    for (gi, g) in w.plan.groups.iter().enumerate() {
        let q = w.rec.groups[gi].latency_quantiles_per_second();
        let half = w.rec.groups[gi].latency_bucket_s as f64 / 2.0;
        let at = |s: u64| s as f64 + half;
        let color = Some(group_slot(gi));
        series.push(Series {
            label: format!("{}: p99", g.id),
            points: q.iter().map(|&(s, _, p99)| (at(s), p99 as f64 / 1e6)).collect(),
            color,
            ..Default::default()
        });
        series.push(Series {
            label: format!("{}: p50", g.id),
            points: q.iter().map(|&(s, p50, _)| (at(s), p50 as f64 / 1e6)).collect(),
            color,
            dash: 1,
            ..Default::default()
        });
    }
    let bucket = w.rec.groups.first().map_or(1, |g| g.latency_bucket_s);
    let per = if bucket == 1 { "second".to_string() } else { format!("{bucket} s") };
    let title = format!("{}: end-to-end latency per {per} (publish to processed)", w.plan.name);
    let note = format!("Solid: p99, dashed: p50, of the records that finished processing in each {per}.");
    LineChart {
        title: &title,
        x_label: "virtual time (s)",
        y_label: "latency (ms)",
        series: &series,
        markers: &markers(w),
        integer_y: false,
        empty_note: Some("No record was processed, so there is no latency to show."),
        legend_note: Some(&note),
        bands: &[],
    }
    .write(&dir.join("latency-over-time.png"), &dir.join("latency-over-time.svg"))
}

/// Timeline actions as short labels ("slow b1 x3"); crashes and offset resets are left to the
/// events they cause (`event_label`), which say what happened rather than what was asked.
fn action_label(w: &Run, a: &Action) -> Option<String> {
    let consumer = |r| &w.plan.consumer(r).name;
    Some(match a {
        Action::Crash(_) | Action::ResetOffsets { .. } => return None,
        Action::Start(r) => format!("start {}", consumer(*r)),
        Action::Stop(r) => format!("stop {}", consumer(*r)),
        Action::Hang { consumer: r, for_: Some(d) } => format!("{} hangs {d}", consumer(*r)),
        Action::Hang { consumer: r, for_: None } => format!("{} hangs", consumer(*r)),
        Action::Slow { consumer: r, factor } => format!("slow {} x{factor}", consumer(*r)),
        Action::Rate { producer, rate } => format!("rate {} {rate}/s", w.plan.producers[*producer].name),
        Action::Seek { consumer: r, .. } => format!("seek {}", consumer(*r)),
        Action::Pause(r) => format!("pause {}", consumer(*r)),
        Action::Resume(r) => format!("resume {}", consumer(*r)),
        Action::PauseProducer(p) => format!("pause {}", w.plan.producers[*p].name),
        Action::ResumeProducer(p) => format!("resume {}", w.plan.producers[*p].name),
        Action::AddGroup(g) => format!("add group {}", w.plan.groups[*g].id),
        Action::RemoveGroup(g) => format!("remove group {}", w.plan.groups[*g].id),
        Action::AddConsumer(r) => format!("add {}", consumer(*r)),
        Action::AddPartitions { topic, count } => format!("{} -> {count} partitions", w.plan.topics[*topic].name),
    })
}

fn field<'a>(e: &'a LoggedEvent, key: &str) -> &'a str {
    e.fields.get(key).and_then(|v| v.as_str()).unwrap_or("")
}

/// A short label for a control-plane event worth marking on a chart, None for the others.
pub fn event_label(e: &LoggedEvent) -> Option<String> {
    let (group, consumer) = (field(e, "group"), field(e, "consumer"));
    Some(match e.kind {
        "rebalance_completed" => {
            let generation = e.fields.get("generation").cloned().unwrap_or_default();
            format!("{group} rebalanced (gen {generation})")
        }
        "member_fenced" => format!("{consumer} fenced ({})", field(e, "reason").replace('_', " ")),
        "consumer_crashed" => format!("{consumer} crashed"),
        "consumer_resumed" => format!("{consumer} resumed"),
        "consumer_out_of_memory" => format!("{consumer} out of memory"),
        "offsets_reset" => format!("{group} offsets reset"),
        "offset_out_of_range" => {
            format!("{} out of range, reset to {}", field(e, "partition"), field(e, "auto_offset_reset"))
        }
        _ => return None,
    })
}

/// Markers for the lag and ownership charts: timeline actions and control-plane events.
pub fn markers(w: &Run) -> Vec<Marker> {
    let mut out: Vec<Marker> = w
        .plan
        .timeline
        .iter()
        .filter_map(|a| Some(Marker { x: a.at.as_nanos() as f64 / 1e9, label: action_label(w, &a.action)? }))
        .collect();
    let events = super::events::logged(w.plan, &w.rec.events);
    out.extend(events.iter().filter_map(|e| Some(Marker { x: e.time.as_secs_f64(), label: event_label(e)? })));
    // Stable: at equal times, actions before the events they caused.
    out.sort_by(|a, b| a.x.total_cmp(&b.x));
    out
}

/// Timeline actions only (for charts where control-plane events would say nothing).
pub fn action_markers(w: &Run) -> Vec<Marker> {
    w.plan
        .timeline
        .iter()
        .filter_map(|a| Some(Marker { x: a.at.as_nanos() as f64 / 1e9, label: action_label(w, &a.action)? }))
        .collect()
}

/// Per group: backlog (records not yet read) as the main line, committed lag (what
/// `kafka-consumer-groups.sh` prints) as a thin line of the same colour. Backlog is never blank
/// before a first commit and has no auto-commit sawtooth, so it shows where records wait.
fn lag_chart(w: &Run, dir: &Path) -> anyhow::Result<()> {
    let backlog = lag::group_backlog_series(w);
    let lag = lag::group_lag_series(w);
    let pts = |s: &[(crate::sim::SimTime, u64)]| s.iter().map(|(t, v)| (t.as_secs_f64(), *v as f64)).collect();
    let mut series = Vec::new();
    for (gi, g) in w.plan.groups.iter().enumerate() {
        let color = Some(group_slot(gi));
        series.push(Series {
            label: format!("{}: backlog", g.id),
            points: pts(&backlog[gi]),
            color,
            ..Default::default()
        });
        series.push(Series {
            label: if g.kind == GroupType::Share {
                format!("{}: share lag", g.id)
            } else {
                format!("{}: committed lag", g.id)
            },
            points: pts(&lag[gi]),
            color,
            thin: true,
            ..Default::default()
        });
    }
    let title = format!("{}: backlog and committed lag per group", w.plan.name);
    let bands = status_bands(w);
    let share_note = if w.plan.groups.iter().any(|g| g.kind == GroupType::Share) {
        " For a share group, backlog is what no member has been given yet, and share lag is \
         KIP-1226's log end - SPSO - records done inside the window (kafka-share-groups.sh)."
    } else {
        ""
    };
    let note = format!(
        "Thick: backlog, records the group has not read yet (log end - position). \
         Thin: committed lag, log end - committed offset, as kafka-consumer-groups.sh shows it.{share_note}{}",
        if bands.is_empty() {
            " Burrow's lag status stayed OK throughout."
        } else if w.plan.groups.len() > 1 {
            " Background: Burrow's lag status of the worst group, pale yellow WARN, pale red ERR."
        } else {
            " Background: Burrow's lag status, pale yellow WARN, pale red ERR."
        }
    );
    LineChart {
        title: &title,
        x_label: "virtual time (s)",
        y_label: "records",
        series: &series,
        markers: &markers(w),
        integer_y: true,
        empty_note: Some("Nothing waited: no group had an unread record or a committed lag at any sample."),
        legend_note: Some(&note),
        bands: &bands,
    }
    .write(&dir.join("lag.png"), &dir.join("lag.svg"))
}

/// Stretches where Burrow's status of the worst group was not OK: from each such sample to the
/// next, merged while the status stays the same.
fn status_bands(w: &Run) -> Vec<Band> {
    use crate::record::burrow::LagStatus;
    let per_group = lag::group_lag_status_series(w);
    let mut worst: BTreeMap<u64, LagStatus> = BTreeMap::new();
    for series in &per_group {
        for &(t, st) in series {
            let e = worst.entry(t.as_nanos()).or_default();
            *e = (*e).max(st);
        }
    }
    let samples: Vec<(u64, LagStatus)> = worst.into_iter().collect();
    let end = w.plan.duration.as_nanos();
    let mut bands: Vec<(Band, LagStatus)> = Vec::new();
    for (i, &(t, st)) in samples.iter().enumerate() {
        if st == LagStatus::Ok {
            continue;
        }
        let next = samples.get(i + 1).map_or(end, |s| s.0);
        let (x0, x1) = (t as f64 / 1e9, next.max(t) as f64 / 1e9);
        match bands.last_mut() {
            Some((b, last)) if *last == st && b.x1 == x0 => b.x1 = x1,
            _ => {
                let rgb = if st == LagStatus::Warn { (255, 244, 204) } else { (252, 220, 220) };
                bands.push((Band { x0, x1, rgb }, st));
            }
        }
    }
    bands.into_iter().map(|(b, _)| b).collect()
}

/// Consumers whose state at the end is `standby` (summary.json's word): live members the
/// assignor left without a partition.
pub fn standbys(w: &Run, g: usize) -> Vec<usize> {
    w.plan.group_consumer_ids(g).filter(|&c| w.end.consumers[c].state == ConsumerState::Standby).collect()
}

/// One row per partition (per group), each span coloured by the consumer that owned it, grey
/// while nobody did, pale while its owner was down; then one row per standby consumer.
fn ownership_chart(w: &Run, dir: &Path) -> anyhow::Result<()> {
    let end = w.plan.duration.as_nanos() as f64 / 1e9;
    let changes = ownership_changes(w);
    let events = super::events::logged(w.plan, &w.rec.events);
    let painter = Painter { w, down: down_stretches(&events, end) };
    let many_groups = w.plan.groups.len() > 1;
    let mut rows = Vec::new();
    for (gi, g) in w.plan.groups.iter().enumerate() {
        if g.kind == GroupType::Share {
            for (label, c, held) in share_ownership(w, gi, many_groups, end) {
                let mut spans = Vec::new();
                for (a, b) in held {
                    painter.push_spans(&mut spans, a, b, Some(c));
                }
                rows.push(OwnershipRow { label, spans, ..Default::default() });
            }
            continue;
        }
        for p in w.plan.group_partition_ids(gi) {
            let spans = painter.partition_spans(changes.get(&(gi as u16, p)).map_or(&[][..], Vec::as_slice), end);
            let name = w.plan.partition_name(p);
            let label = if many_groups { format!("{}: {name}", g.id) } else { name };
            rows.push(OwnershipRow { label, spans, ..Default::default() });
        }
        for c in standbys(w, gi) {
            rows.push(standby_row(w, gi, c, many_groups));
        }
    }
    let hangs = w.rec.events.iter().any(|e| matches!(e.what, crate::record::event::What::ConsumerHung { .. }));
    let down_word = if hangs { "a crashed or hung consumer" } else { "a crashed consumer" };
    let title = format!("{}: partition ownership (grey: unowned; pale: owned by {down_word})", w.plan.name);
    charts::ownership_chart(&dir.join("ownership.png"), &dir.join("ownership.svg"), &title, &rows, end, &markers(w))
}

/// (group, partition) -> [(seconds, new owner)]
type Changes = BTreeMap<(u16, u32), Vec<(f64, Option<usize>)>>;

/// Every change of a partition's owner, per group and partition, in time order.
fn ownership_changes(w: &Run) -> Changes {
    let mut changes: Changes = BTreeMap::new();
    for ch in &w.rec.ownership {
        let owner = (ch.owner != NONE_U32).then_some(ch.owner as usize);
        changes.entry((ch.group, ch.partition)).or_default().push((ch.time.as_secs_f64(), owner));
    }
    changes
}

/// A crashed (or hung) consumer still owns its partitions until its session times out, but
/// reads nothing: per consumer name, the (start, end) seconds it was down.
fn down_stretches(events: &[LoggedEvent], end: f64) -> BTreeMap<&str, Vec<(f64, f64)>> {
    let mut down: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for e in events {
        let name = field(e, "consumer");
        let t = e.time.as_secs_f64();
        match e.kind {
            "consumer_crashed" | "consumer_hung" => {
                let spans = down.entry(name).or_default();
                // A hung consumer that crashes stays down from its hang on.
                if spans.last().is_none_or(|l| l.1 != end) {
                    spans.push((t, end));
                }
            }
            "consumer_started" | "consumer_resumed" => {
                if let Some(last) = down.get_mut(name).and_then(|v| v.last_mut()).filter(|l| l.1 == end) {
                    last.1 = t;
                }
            }
            _ => {}
        }
    }
    down
}

/// Turns stretches of ownership into spans: coloured by the owner, pale and listed as
/// "<name> (down)" while the owner was down.
struct Painter<'a> {
    w: &'a Run<'a>,
    down: BTreeMap<&'a str, Vec<(f64, f64)>>,
}

impl Painter<'_> {
    fn span(&self, start: f64, end: f64, owner: Option<usize>, is_down: bool) -> Span {
        let name = owner.map(|c| self.w.plan.consumer_of(c).name.clone());
        Span {
            start,
            end,
            owner: name.map(|n| if is_down { format!("{n} (down)") } else { n }),
            color: owner.map(|c| consumer_slot(self.w, c)),
            faded: is_down,
        }
    }

    /// The spans of `owner` holding a partition from `start` to `stop`, split where it was down.
    fn push_spans(&self, spans: &mut Vec<Span>, start: f64, stop: f64, owner: Option<usize>) {
        let mut at = start;
        let name = owner.map(|c| self.w.plan.consumer_of(c).name.as_str());
        for &(a, b) in name.and_then(|o| self.down.get(o)).into_iter().flatten() {
            let (a, b) = (a.max(start), b.min(stop));
            if a >= b {
                continue;
            }
            if a > at {
                spans.push(self.span(at, a, owner, false));
            }
            spans.push(self.span(a, b, owner, true));
            at = b;
        }
        if stop > at {
            spans.push(self.span(at, stop, owner, false));
        }
    }

    /// A consumer group's partition from 0 to `end`: unowned until its first change, then each
    /// owner until the next.
    fn partition_spans(&self, changes: &[(f64, Option<usize>)], end: f64) -> Vec<Span> {
        let mut spans = Vec::new();
        let mut current: (f64, Option<usize>) = (0.0, None);
        for &(t, owner) in changes {
            if t > current.0 {
                self.push_spans(&mut spans, current.0, t, current.1);
            }
            current = (t, owner);
        }
        if end > current.0 {
            self.push_spans(&mut spans, current.0, end, current.1);
        }
        spans
    }
}

/// A standby consumer's row: no span, a note saying why, its colour in the legend.
fn standby_row(w: &Run, gi: usize, c: usize, many_groups: bool) -> OwnershipRow {
    let g = &w.plan.groups[gi];
    let name = &w.plan.consumer_of(c).name;
    let label = if many_groups { format!("{}: {name}", g.id) } else { name.clone() };
    OwnershipRow {
        label,
        spans: Vec::new(),
        note: Some(format!("{name}: standby - a live member of {} with no partitions assigned", g.id)),
        color: Some(consumer_slot(w, c)),
        legend: Some(format!("{name} (standby)")),
    }
}

/// A row label, its consumer, and the (start, end) seconds it held the row's partition.
type HeldRow = (String, usize, Vec<(f64, f64)>);

/// A share group's partitions have several members each: one row per (partition, member) that
/// was ever assigned it, as (label, consumer, the stretches its assignment held the partition:
/// from the member's `share_assignment` events until its next one, a stop or a fencing).
fn share_ownership(w: &Run, gi: usize, many_groups: bool, end: f64) -> Vec<HeldRow> {
    let g = &w.plan.groups[gi];
    let events = super::events::logged(w.plan, &w.rec.events);
    let held = share_assignments(&events, &g.id);
    let mut rows = Vec::new();
    for p in w.plan.group_partition_ids(gi) {
        let pname = w.plan.partition_name(p);
        for c in w.plan.group_consumer_ids(gi) {
            let cname = w.plan.consumer_of(c).name.as_str();
            let spans = held_stretches(held.get(cname).map_or(&[][..], Vec::as_slice), &pname, end);
            if spans.is_empty() {
                continue;
            }
            let label = if many_groups { format!("{}: {pname} {cname}", g.id) } else { format!("{pname} {cname}") };
            rows.push((label, c, spans));
        }
    }
    rows
}

/// Per consumer of share group `group`, [(seconds, partitions assigned from then on)]: set by
/// its `share_assignment` events, emptied when it starts, stops, leaves or is fenced.
fn share_assignments<'e>(events: &'e [LoggedEvent], group: &str) -> BTreeMap<&'e str, Vec<(f64, Vec<&'e str>)>> {
    let mut held: BTreeMap<&str, Vec<(f64, Vec<&str>)>> = BTreeMap::new();
    // A crashed consumer's member waits for its session timeout. If the consumer is started
    // again before that (a new member), the old member's fencing ends nothing the new one holds.
    // consumer -> (a crashed member is pending, the consumer was started again since)
    let mut crashed: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
    for e in events {
        if field(e, "group") != group {
            continue;
        }
        let t = e.time.as_secs_f64();
        let name = field(e, "consumer");
        let state = crashed.entry(name).or_insert((false, false));
        match e.kind {
            "consumer_crashed" => {
                *state = (true, false);
                continue;
            }
            "consumer_started" if state.0 => state.1 = true,
            "member_fenced" if state.0 => {
                let restarted = state.1;
                *state = (false, false);
                if restarted {
                    continue;
                }
            }
            _ => {}
        }
        let parts = match e.kind {
            "consumer_started" => Vec::new(),
            "share_assignment" => e
                .fields
                .get("partitions")
                .and_then(|v| v.as_array())
                .map_or(Vec::new(), |a| a.iter().filter_map(|v| v.as_str()).collect()),
            // A crashed member keeps its assignment (drawn pale) until its session times out.
            "member_fenced" | "member_left" | "consumer_stopped" | "member_rejoining" => Vec::new(),
            _ => continue,
        };
        held.entry(field(e, "consumer")).or_default().push((t, parts));
    }
    held
}

/// The (start, end) seconds a member's assignments held partition `pname`, the last one open
/// until `end`.
fn held_stretches(assignments: &[(f64, Vec<&str>)], pname: &str, end: f64) -> Vec<(f64, f64)> {
    let mut spans = Vec::new();
    let mut since: Option<f64> = None;
    for (t, parts) in assignments {
        let has = parts.contains(&pname);
        match (has, since) {
            (true, None) => since = Some(*t),
            (false, Some(s)) => {
                spans.push((s, *t));
                since = None;
            }
            _ => {}
        }
    }
    if let Some(s) = since {
        spans.push((s, end));
    }
    spans
}

/// Log start, log end, and each group's committed offset, summed over partitions: a replay shows
/// as a committed line jumping back, retention as the log-start line moving up.
fn offsets_chart(w: &Run, dir: &Path) -> anyhow::Result<()> {
    let mut start: BTreeMap<u64, f64> = BTreeMap::new();
    let mut end: BTreeMap<u64, f64> = BTreeMap::new();
    let mut committed: Vec<BTreeMap<u64, f64>> = vec![BTreeMap::new(); w.plan.groups.len()];
    // Per topic totals would double count a partition read by two groups: each partition counts
    // once (the totals were taken so). Sums of offsets stay far below 2^53, exact as f64.
    for o in &w.rec.offset_totals {
        let t = o.time.as_nanos();
        start.insert(t, o.log_start as f64);
        end.insert(t, o.log_end as f64);
    }
    for g in w.rec.group_totals.iter().filter(|g| g.committed_any) {
        committed[g.group as usize].insert(g.time.as_nanos(), g.committed as f64);
    }
    let pts = |m: &BTreeMap<u64, f64>| m.iter().map(|(t, v)| (*t as f64 / 1e9, *v)).collect();
    // The log lines take slots after every group and consumer, so they never borrow a colour.
    let log_slot = w.plan.groups.len() + w.end.consumers.len();
    let mut series = vec![
        Series { label: "log end offset".into(), points: pts(&end), color: Some(log_slot), ..Default::default() },
        Series {
            label: "log start offset".into(),
            points: pts(&start),
            color: Some(log_slot + 1),
            ..Default::default()
        },
    ];
    for (gi, g) in w.plan.groups.iter().enumerate() {
        series.push(Series {
            label: format!("committed: {}", g.id),
            points: pts(&committed[gi]),
            color: Some(group_slot(gi)),
            ..Default::default()
        });
    }
    let title = format!("{}: offsets, summed over partitions", w.plan.name);
    LineChart {
        title: &title,
        x_label: "virtual time (s)",
        y_label: "offset",
        series: &series,
        markers: &action_markers(w),
        integer_y: true,
        empty_note: Some("No records were produced: every offset stayed at 0."),
        legend_note: None,
        bands: &[],
    }
    .write(&dir.join("offsets.png"), &dir.join("offsets.svg"))
}

#[cfg(test)]
mod tests {
    use super::event_label;
    use crate::report::events::LoggedEvent;
    use crate::sim::SimTime;
    use serde_json::json;

    fn ev(kind: &'static str, fields: serde_json::Value) -> LoggedEvent {
        LoggedEvent { time: SimTime::ZERO, kind, fields: fields.as_object().cloned().unwrap_or_default() }
    }

    #[test]
    fn control_plane_events_get_short_labels_and_others_none() {
        let cases = [
            (ev("rebalance_completed", json!({"group": "g", "generation": 3})), Some("g rebalanced (gen 3)")),
            (
                ev("member_fenced", json!({"consumer": "c1", "reason": "session_timeout"})),
                Some("c1 fenced (session timeout)"),
            ),
            (ev("consumer_crashed", json!({"consumer": "c1"})), Some("c1 crashed")),
            (ev("consumer_out_of_memory", json!({"consumer": "c2"})), Some("c2 out of memory")),
            (ev("offsets_reset", json!({"group": "g"})), Some("g offsets reset")),
            (
                ev("offset_out_of_range", json!({"partition": "t-1", "auto_offset_reset": "earliest"})),
                Some("t-1 out of range, reset to earliest"),
            ),
            (ev("member_joined", json!({"consumer": "c1"})), None),
            (ev("assignment", json!({"consumer": "c1"})), None),
        ];
        for (e, want) in cases {
            assert_eq!(event_label(&e).as_deref(), want, "{}", e.kind);
        }
    }
}
