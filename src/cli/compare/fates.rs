//! What happened to each consumer of a compared run, read from the run's typed events: died of out
//! of memory (an unbounded push buffer), crashed, stopped, hung, fenced, left on a poll timeout,
//! restarted. A compare's table says it in each group's row and lists it per side, so a row never
//! reads "processed 19944, lost 0" for a consumer that died halfway.

use crate::record::event::{StartCause, What};
use crate::record::run::{ConsumerState, Run};
use crate::report::num::{count, count_value};
use crate::sim::{SimDuration, SimTime};
use serde_json::Value;

/// One thing that happened to a consumer.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// Its unbounded push buffer grew past its `consumer_memory`.
    OutOfMemory {
        bytes: u64,
        limit: u64,
    },
    Crashed,
    Stopped,
    Hung(Option<SimDuration>),
    Resumed,
    /// Its membership was taken away (`reason`: session_timeout, poll_timeout, ...).
    Fenced(&'static str),
    /// A poll timeout: the member leaves the group itself.
    PollTimeout,
    /// The coordinator dropped it from a rebalance it did not join in time.
    MissedRebalance,
    /// A hung classic member learns at its next request that it was fenced.
    MembershipLost,
    Error(String),
    /// A timeline `start` after it crashed or stopped.
    Restarted,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub time: SimTime,
    pub kind: Kind,
}

/// A consumer's steps, in the order they happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Fate {
    pub consumer: usize,
    pub group: usize,
    pub steps: Vec<Step>,
}

/// Every consumer's steps (consumers in plan order; one with none has an empty list).
pub fn fates(run: &Run) -> Vec<Fate> {
    let plan = run.plan;
    let mut out: Vec<Fate> = (0..plan.groups.len())
        .flat_map(|g| plan.group_consumer_ids(g).map(move |c| Fate { consumer: c, group: g, steps: Vec::new() }))
        .collect();
    for e in &run.rec.events {
        let Some((c, kind)) = step_of(&e.what) else { continue };
        let Some(f) = out.get_mut(c as usize) else { continue };
        let last = f.steps.last();
        // An out-of-memory death is also recorded as a crash; a fence may be recorded twice.
        let repeat = last.is_some_and(|s| {
            s.time == e.time
                && (s.kind == kind || (matches!(s.kind, Kind::OutOfMemory { .. }) && kind == Kind::Crashed))
        });
        // A consumer's first start is no news; a later timeline start after a crash or stop is.
        let down = f.steps.iter().rev().find_map(|s| match s.kind {
            Kind::Crashed | Kind::Stopped | Kind::OutOfMemory { .. } => Some(true),
            Kind::Restarted => Some(false),
            _ => None,
        });
        if !repeat && (kind != Kind::Restarted || down == Some(true)) {
            f.steps.push(Step { time: e.time, kind });
        }
    }
    out
}

fn step_of(what: &What) -> Option<(u32, Kind)> {
    Some(match what {
        What::ConsumerOutOfMemory { consumer, buffered_bytes, consumer_memory } => {
            (*consumer, Kind::OutOfMemory { bytes: *buffered_bytes, limit: *consumer_memory })
        }
        What::ConsumerCrashed { consumer } => (*consumer, Kind::Crashed),
        What::ConsumerStopped { consumer } => (*consumer, Kind::Stopped),
        What::ConsumerHung { consumer, for_ } => (*consumer, Kind::Hung(*for_)),
        What::ConsumerResumed { consumer, .. } => (*consumer, Kind::Resumed),
        // A poll timeout has its own event (every member's), so its removal is not told twice.
        What::MemberRemoved { reason: "poll_timeout", .. } => return None,
        What::MemberRemoved { consumer, fenced: true, reason, .. } => (*consumer, Kind::Fenced(reason)),
        What::MemberRemoved { consumer, reason: "rebalance_timeout", .. } => (*consumer, Kind::MissedRebalance),
        What::PollTimeout { consumer, .. } => (*consumer, Kind::PollTimeout),
        What::MembershipLost { consumer } => (*consumer, Kind::MembershipLost),
        What::ConsumerError { consumer, error } => (*consumer, Kind::Error(error.clone())),
        What::ConsumerStarted { consumer, cause: StartCause::Timeline } => (*consumer, Kind::Restarted),
        _ => return None,
    })
}

/// `39.9 s`: virtual time to a tenth of a second.
fn at(t: SimTime) -> String {
    format!("{:.1} s", t.as_secs_f64())
}

/// `60 s`, `2.5 s`: a duration to a tenth of a second, without a trailing `.0`.
fn span(d: SimDuration) -> String {
    let s = format!("{:.1}", d.as_millis_f64() / 1000.0);
    format!("{} s", s.strip_suffix(".0").unwrap_or(&s))
}

/// The reason in words; `session` names the setting whose session ran out (it differs by group
/// kind and protocol: `GroupPlan::session_setting`).
fn reason_words(reason: &str, session: &str) -> String {
    match reason {
        "session_timeout" => format!("session timeout: no heartbeat within {session}"),
        "poll_timeout" => "poll timeout: no poll within max_poll_interval_ms".into(),
        other => other.replace('_', " "),
    }
}

/// The step in a few words: `died: out of memory at 39.9 s`.
pub fn phrase(s: &Step) -> String {
    let t = at(s.time);
    match &s.kind {
        Kind::OutOfMemory { .. } => format!("died: out of memory at {t}"),
        Kind::Crashed => format!("crashed at {t}"),
        Kind::Stopped => format!("stopped at {t}"),
        Kind::Hung(Some(d)) => format!("hung at {t} for {}", span(*d)),
        Kind::Hung(None) => format!("hung at {t}"),
        Kind::Resumed => format!("resumed at {t}"),
        Kind::Fenced("session_timeout") => format!("fenced at {t} (session timeout)"),
        Kind::Fenced("poll_timeout") | Kind::PollTimeout => format!("left the group at {t} (poll timeout)"),
        Kind::Fenced(r) => format!("fenced at {t} ({})", r.replace('_', " ")),
        Kind::MissedRebalance => format!("removed at {t} (missed the rebalance)"),
        Kind::MembershipLost => format!("learned at {t} it had been fenced"),
        Kind::Error(e) => format!("error at {t}: {e}"),
        Kind::Restarted => format!("restarted at {t}"),
    }
}

/// The step with its reason spelled out, for the per-side list (`session`: the group's
/// `GroupPlan::session_setting`).
fn sentence(s: &Step, session: &str) -> String {
    match &s.kind {
        Kind::OutOfMemory { bytes, limit } => format!(
            "{}: its unbounded push buffer held {} bytes, more than its consumer_memory of {}",
            phrase(s),
            count(*bytes),
            count(*limit)
        ),
        Kind::Fenced(r) => {
            format!("{} ({})", phrase(s).split(" (").next().unwrap_or_default(), reason_words(r, session))
        }
        _ => phrase(s),
    }
}

/// Most steps shown per consumer in a table cell, and most consumers.
const CELL_STEPS: usize = 3;
const CELL_CONSUMERS: usize = 2;

/// A group's cell: `unbounded-1 died: out of memory at 39.9 s`, or `ran to the end`.
pub fn cell(run: &Run, fates: &[Fate], group: usize) -> String {
    let hit: Vec<&Fate> = fates.iter().filter(|f| f.group == group && !f.steps.is_empty()).collect();
    if hit.is_empty() {
        return "ran to the end".into();
    }
    let mut parts: Vec<String> = hit
        .iter()
        .take(CELL_CONSUMERS)
        .map(|f| {
            let mut words: Vec<String> = f.steps.iter().take(CELL_STEPS).map(phrase).collect();
            if f.steps.len() > CELL_STEPS {
                words.push("...".into());
            }
            format!("{} {}", run.plan.consumer_of(f.consumer).name, words.join(", "))
        })
        .collect();
    if hit.len() > CELL_CONSUMERS {
        parts.push(format!("{} more (see what happened)", hit.len() - CELL_CONSUMERS));
    }
    parts.join("; ")
}

/// Rows of the per-side "what happened" table: `| side | consumer | what happened | at the end |`.
pub fn rows(side: &str, run: &Run, summary: &Value, fates: &[Fate]) -> Vec<String> {
    let plan = run.plan;
    let mut out = Vec::new();
    for f in fates.iter().filter(|f| !f.steps.is_empty()) {
        let (group, name) = (&plan.groups[f.group].id, &plan.consumer_of(f.consumer).name);
        let session = plan.groups[f.group].session_setting();
        let what: Vec<String> = f.steps.iter().map(|s| sentence(s, session)).collect();
        let state = run.end.consumers.get(f.consumer).map_or("-", |c| c.state.name());
        let processed = &summary["groups"][group]["consumers"][name]["records_processed"];
        let mut end = format!("{state}; processed {}", count(processed.as_u64().unwrap_or(0)));
        if !anyone_running(run, f.group) && last_in_group(fates, f) {
            let lag = count_value(&summary["groups"][group]["lag_records"]["final"]);
            end.push_str(&format!("; no consumer of {group} was running at the end (lag {lag})"));
        }
        out.push(format!("| {side} | {name} ({group}) | {} | {end} |", what.join("; ")));
    }
    if out.is_empty() {
        out.push(format!("| {side} | every consumer | no crash, out of memory, hang, fence or stop | - |"));
    }
    out
}

fn anyone_running(run: &Run, group: usize) -> bool {
    run.plan.group_consumer_ids(group).any(|c| {
        run.end
            .consumers
            .get(c)
            .is_some_and(|e| matches!(e.state, ConsumerState::Active | ConsumerState::Standby | ConsumerState::Joining))
    })
}

/// Whether `f` is the last consumer of its group with steps (the group's note goes on its row).
fn last_in_group(fates: &[Fate], f: &Fate) -> bool {
    fates.iter().rfind(|x| x.group == f.group && !x.steps.is_empty()).is_some_and(|x| x.consumer == f.consumer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(ms: u64, kind: Kind) -> Step {
        Step { time: SimTime::from_millis(ms), kind }
    }

    #[test]
    fn phrases_say_what_and_when() {
        let oom = step(39_896, Kind::OutOfMemory { bytes: 4_000_200, limit: 4_000_000 });
        assert_eq!(phrase(&oom), "died: out of memory at 39.9 s");
        assert!(
            sentence(&oom, "session_timeout_ms")
                .contains("held 4,000,200 bytes, more than its consumer_memory of 4,000,000")
        );
        let fenced = step(54_000, Kind::Fenced("session_timeout"));
        assert_eq!(phrase(&fenced), "fenced at 54.0 s (session timeout)");
        assert_eq!(
            sentence(&fenced, "session_timeout_ms"),
            "fenced at 54.0 s (session timeout: no heartbeat within session_timeout_ms)"
        );
        assert_eq!(phrase(&step(10_200, Kind::Hung(Some(SimDuration::from_secs(60))))), "hung at 10.2 s for 60 s");
        assert_eq!(phrase(&step(1_000, Kind::PollTimeout)), "left the group at 1.0 s (poll timeout)");
    }
}
