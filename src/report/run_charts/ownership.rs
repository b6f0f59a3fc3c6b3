//! The ownership chart of a run: one row per partition (per group), coloured by its owner.

use super::super::charts::{self, Handover, OwnershipRow, RowSink, Span};
use super::super::events::LoggedEvent;
use super::consumer_slot;
use super::markers::{field, markers};
use crate::record::NONE_U32;
use crate::record::event::What;
use crate::record::run::{ConsumerState, Run};
use crate::scenario::plan::{GroupType, RebalanceProtocol};
use std::collections::BTreeMap;
use std::path::Path;

/// Consumers whose state at the end is `standby` (summary.json's word): live members the
/// assignor left without a partition.
pub fn standbys(w: &Run, g: usize) -> Vec<usize> {
    w.plan.group_consumer_ids(g).filter(|&c| w.end.consumers[c].state == ConsumerState::Standby).collect()
}

/// One row per partition (per group), each span coloured by the consumer that owned it, grey
/// while nobody did, striped while its owner was down; then one row per standby consumer. The
/// rows are made twice and never held: once for what the chart says of all of them (legend,
/// title, label width), once to keep the rows it draws (3 million rows in a world of 300 groups
/// x 10,000 partitions took about 700 bytes each).
pub(super) fn ownership_chart(w: &Run, dir: &Path) -> anyhow::Result<()> {
    let end = w.plan.duration.as_nanos() as f64 / 1e9;
    let rows = Rows::new(w);
    let mut facts = charts::RowFacts::default();
    rows.each(&mut facts);
    let hangs = w.rec.events.iter().any(|e| matches!(e.what, What::ConsumerHung { .. }));
    let down_word = if hangs { "crashed or hung" } else { "crashed" };
    let striped = if facts.any_down() { format!("; striped: owner {down_word}") } else { String::new() };
    let moving = if facts.any_handover() { "; bars: its next owner in the target" } else { "" };
    let title = format!("{}: partition ownership (solid grey: unowned{striped}{moving})", w.plan.name);
    let (png, svg) = (dir.join("ownership.png"), dir.join("ownership.svg"));
    charts::ownership_chart_streamed(&png, &svg, &title, &facts, |sink| rows.each(sink), end, &markers(w))
}

/// The ownership chart's rows: per group, a row per partition (a share group's per partition
/// and member), then a row per standby consumer.
pub fn ownership_rows(w: &Run) -> Vec<OwnershipRow> {
    let mut rows = Vec::new();
    Rows::new(w).each(&mut rows);
    rows
}

/// The event kinds that start or end a stretch while a consumer is down.
const DOWN_KINDS: [&str; 4] = ["consumer_crashed", "consumer_hung", "consumer_started", "consumer_resumed"];

/// Makes the ownership chart's rows one at a time, group by group.
struct Rows<'a> {
    w: &'a Run<'a>,
    painter: Painter<'a>,
    many_groups: bool,
    end: f64,
}

impl<'a> Rows<'a> {
    fn new(w: &'a Run<'a>) -> Self {
        let end = w.plan.duration.as_nanos() as f64 / 1e9;
        let events = super::super::events::logged_of_kinds(w.plan, &w.rec.events, &DOWN_KINDS);
        Rows {
            w,
            painter: Painter { w, down: down_stretches(&events, end) },
            many_groups: w.plan.groups.len() > 1,
            end,
        }
    }

    /// Gives every row to `sink`, in the chart's order; a partition's row only if it is wanted.
    fn each(&self, sink: &mut dyn RowSink) {
        let (w, end) = (self.w, self.end);
        for (gi, g) in w.plan.groups.iter().enumerate() {
            if g.kind == GroupType::Share {
                for (label, c, held) in share_ownership(w, gi, self.many_groups, end) {
                    let mut spans = Vec::new();
                    for (a, b) in held {
                        self.painter.push_spans(&mut spans, a, b, Some(c));
                    }
                    sink.put(OwnershipRow { label, spans, ..Default::default() });
                }
                continue;
            }
            let targets = if g.protocol == RebalanceProtocol::Consumer { targets(w, gi) } else { BTreeMap::new() };
            let (parts, changes) = group_changes(w, gi);
            for p in w.plan.group_partition_ids(gi) {
                if !sink.wants() {
                    sink.skip();
                    continue;
                }
                let changes = &changes[parts.partition_point(|&q| q < p)..parts.partition_point(|&q| q <= p)];
                let spans = match targets.get(&p) {
                    Some(targets) => self.painter.protocol_spans(changes, targets, end),
                    None => self.painter.partition_spans(changes, end),
                };
                let name = w.plan.partition_name(p);
                let label = if self.many_groups { format!("{}: {name}", g.id) } else { name };
                sink.put(OwnershipRow { label, spans, ..Default::default() });
            }
            for c in standbys(w, gi) {
                sink.put(standby_row(w, gi, c, self.many_groups));
            }
        }
    }
}

/// Group `gi`'s ownership changes by partition, each partition's in time order: the partitions,
/// and beside each the change's (seconds, new owner). Made for one group at a time, from the
/// recorded runs of changes whose head names the group.
fn group_changes(w: &Run, gi: usize) -> (Vec<u32>, Vec<(f64, Option<usize>)>) {
    let mut all: Vec<(u32, (f64, Option<usize>))> = Vec::new();
    for ((time, group, owner), partitions) in w.rec.ownership.runs() {
        if usize::from(group) == gi {
            let change = (time.as_secs_f64(), (owner != NONE_U32).then_some(owner as usize));
            all.extend(partitions.iter().map(|&p| (p, change)));
        }
    }
    // Stable: each partition's changes keep the order they happened in.
    all.sort_by_key(|c| c.0);
    all.into_iter().unzip()
}

/// (seconds, the member the target assignment gives the partition to), in time order.
type Targets = Vec<(f64, Option<usize>)>;

/// A consumer-protocol group's target per partition over time, from its target_assignment
/// events: each sets every partition's target; a member that leaves or is removed takes its
/// share of the target with it until the next target (the coordinator recomputes it at the
/// next heartbeat).
fn targets(w: &Run, gi: usize) -> BTreeMap<u32, Targets> {
    let partitions = w.plan.group_partition_ids(gi);
    let mut current: BTreeMap<u32, Option<usize>> = BTreeMap::new();
    let mut out: BTreeMap<u32, Targets> = BTreeMap::new();
    for e in &w.rec.events {
        let t = e.time.as_secs_f64();
        match &e.what {
            What::TargetAssignment { group, assignment, .. } if *group as usize == gi => {
                for &p in &partitions {
                    let to = assignment.iter().find(|(_, ps)| ps.contains(&p)).map(|&(c, _)| c as usize);
                    current.insert(p, to);
                    out.entry(p).or_default().push((t, to));
                }
            }
            What::MemberRemoved { consumer, .. } if w.plan.group_of(*consumer as usize) == gi => {
                for (&p, to) in current.iter_mut().filter(|(_, to)| **to == Some(*consumer as usize)) {
                    *to = None;
                    out.entry(p).or_default().push((t, None));
                }
            }
            _ => {}
        }
    }
    out
}

/// A crashed (or hung) consumer still owns its partitions until its session times out, but
/// reads nothing: per consumer name, the (start, end) seconds it was down.
fn down_stretches(events: &[LoggedEvent], end: f64) -> BTreeMap<String, Vec<(f64, f64)>> {
    let mut down: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for e in events {
        let name = field(e, "consumer");
        let t = e.time.as_secs_f64();
        match e.kind {
            "consumer_crashed" | "consumer_hung" => {
                let spans = down.entry(name.to_string()).or_default();
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

/// Turns stretches of ownership into spans: coloured by the owner, striped and listed as
/// "<name> (down)" while the owner was down.
struct Painter<'a> {
    w: &'a Run<'a>,
    down: BTreeMap<String, Vec<(f64, f64)>>,
}

impl Painter<'_> {
    fn span(&self, start: f64, end: f64, owner: Option<usize>, is_down: bool, handover: Handover) -> Span {
        let name = owner.map(|c| self.w.plan.consumer_of(c).name.clone());
        Span {
            start,
            end,
            owner: name.map(|n| if is_down { format!("{n} (down)") } else { n }),
            color: owner.map(|c| consumer_slot(self.w, c)),
            faded: is_down,
            // A down owner revokes nothing: it is drawn down, whatever the target says.
            handover: if is_down { Handover::None } else { handover },
            rgb: None,
            min_px: 0,
        }
    }

    /// The spans of `owner` holding a partition from `start` to `stop`, split where it was down.
    fn push_spans(&self, spans: &mut Vec<Span>, start: f64, stop: f64, owner: Option<usize>) {
        self.push_handover_spans(spans, (start, stop), owner, Handover::None);
    }

    /// As `push_spans`, for a stretch in `handover`.
    fn push_handover_spans(&self, spans: &mut Vec<Span>, (start, stop): (f64, f64), owner: Option<usize>, h: Handover) {
        let mut at = start;
        let name = owner.map(|c| self.w.plan.consumer_of(c).name.as_str());
        for &(a, b) in name.and_then(|o| self.down.get(o)).into_iter().flatten() {
            let (a, b) = (a.max(start), b.min(stop));
            if a >= b {
                continue;
            }
            if a > at {
                spans.push(self.span(at, a, owner, false, h));
            }
            spans.push(self.span(a, b, owner, true, h));
            at = b;
        }
        if stop > at {
            spans.push(self.span(at, stop, owner, false, h));
        }
    }

    /// Where a partition stands against its target: revoking while its owner holds what the
    /// target gives another member, awaiting while nobody holds what the target gives a member.
    fn handover(&self, owner: Option<usize>, target: Option<usize>) -> Handover {
        match (owner, target) {
            (Some(o), Some(t)) if o != t => Handover::Revoking(consumer_slot(self.w, t)),
            (None, Some(t)) => Handover::Awaiting(consumer_slot(self.w, t)),
            _ => Handover::None,
        }
    }

    /// A consumer-protocol group's partition from 0 to `end`: its owner as `partition_spans`
    /// draws it, each stretch also marked with where it stands against the latest target.
    fn protocol_spans(
        &self,
        changes: &[(f64, Option<usize>)],
        targets: &[(f64, Option<usize>)],
        end: f64,
    ) -> Vec<Span> {
        let mut times: Vec<f64> = changes.iter().chain(targets).map(|c| c.0).filter(|&t| t < end).collect();
        times.sort_by(f64::total_cmp);
        times.dedup();
        // Stretches of one (owner, handover), merged so that a target that changes nothing for
        // this partition does not split its bar.
        let mut stretches: Vec<(f64, Option<usize>, Handover)> = Vec::new();
        let (mut owner, mut target, mut ci, mut ti) = (None, None, 0, 0);
        for &t in std::iter::once(&0.0).chain(&times) {
            while ci < changes.len() && changes[ci].0 <= t {
                owner = changes[ci].1;
                ci += 1;
            }
            while ti < targets.len() && targets[ti].0 <= t {
                target = targets[ti].1;
                ti += 1;
            }
            let h = self.handover(owner, target);
            if stretches.last().is_none_or(|&(_, o, lh)| (o, lh) != (owner, h)) {
                stretches.push((t, owner, h));
            }
        }
        let mut spans = Vec::new();
        for (i, &(from, owner, h)) in stretches.iter().enumerate() {
            let to = stretches.get(i + 1).map_or(end, |s| s.0);
            if to > from {
                self.push_handover_spans(&mut spans, (from, to), owner, h);
            }
        }
        spans
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
    let events = super::super::events::logged_of_kinds(w.plan, &w.rec.events, &SHARE_KINDS);
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

/// The event kinds that set or end a share group member's assignment.
const SHARE_KINDS: [&str; 7] = [
    "consumer_crashed",
    "consumer_started",
    "member_fenced",
    "share_assignment",
    "member_left",
    "consumer_stopped",
    "member_rejoining",
];

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
            // A crashed member keeps its assignment (drawn striped) until its session times out.
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
