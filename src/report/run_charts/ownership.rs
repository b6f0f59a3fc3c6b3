//! The ownership chart of a run: one row per partition (per group), coloured by its owner.

use super::super::charts::{self, OwnershipRow, Span};
use super::super::events::LoggedEvent;
use super::consumer_slot;
use super::markers::{field, markers};
use crate::record::NONE_U32;
use crate::record::run::{ConsumerState, Run};
use crate::scenario::plan::GroupType;
use std::collections::BTreeMap;
use std::path::Path;

/// Consumers whose state at the end is `standby` (summary.json's word): live members the
/// assignor left without a partition.
pub fn standbys(w: &Run, g: usize) -> Vec<usize> {
    w.plan.group_consumer_ids(g).filter(|&c| w.end.consumers[c].state == ConsumerState::Standby).collect()
}

/// One row per partition (per group), each span coloured by the consumer that owned it, grey
/// while nobody did, striped while its owner was down; then one row per standby consumer.
pub(super) fn ownership_chart(w: &Run, dir: &Path) -> anyhow::Result<()> {
    let end = w.plan.duration.as_nanos() as f64 / 1e9;
    let changes = ownership_changes(w);
    let events = super::super::events::logged(w.plan, &w.rec.events);
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
    let down_word = if hangs { "crashed or hung" } else { "crashed" };
    let down = rows.iter().any(|r| r.spans.iter().any(|s| s.faded));
    let striped = if down { format!("; striped: owner {down_word}") } else { String::new() };
    let title = format!("{}: partition ownership (solid grey: unowned{striped})", w.plan.name);
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

/// Turns stretches of ownership into spans: coloured by the owner, striped and listed as
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
    let events = super::super::events::logged(w.plan, &w.rec.events);
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
