//! The marked moments of a run: timeline actions and control-plane events, numbered once from
//! one list, so an event has the same number on every chart of the run that draws it.

use super::super::events::LoggedEvent;
use crate::record::run::Run;
use crate::report::charts::Marker;
use crate::scenario::plan::Action;

/// A moment worth marking on a chart.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Moment {
    pub nanos: u64,
    pub label: String,
    /// A timeline action or a failure (crash, hang, poll timeout, fencing, offsets reset): what
    /// the offsets chart marks too.
    pub failure: bool,
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
        // What a broker action did is told by the broker events it causes.
        Action::CrashBroker(_)
        | Action::StopBroker(_)
        | Action::StartBroker(_)
        | Action::IsolateBroker { .. }
        | Action::SlowBroker { .. } => return None,
    })
}

pub(super) fn field<'a>(e: &'a LoggedEvent, key: &str) -> &'a str {
    e.fields.get(key).and_then(|v| v.as_str()).unwrap_or("")
}

/// A short label for a control-plane event worth marking on a chart, None for the others.
pub fn event_label(e: &LoggedEvent) -> Option<String> {
    let (group, consumer) = (field(e, "group"), field(e, "consumer"));
    Some(match e.kind {
        "rebalance_completed" => {
            let generation = e.fields.get("generation").cloned().unwrap_or_default();
            // A consumer-protocol group's generation is its group epoch, as the console calls it.
            let word = if field(e, "protocol") == "consumer" { "epoch" } else { "gen" };
            format!("{group} rebalanced ({word} {generation})")
        }
        "member_fenced" => format!("{consumer} fenced ({})", field(e, "reason").replace('_', " ")),
        "consumer_crashed" => format!("{consumer} crashed"),
        "consumer_resumed" => format!("{consumer} resumed"),
        "consumer_out_of_memory" => format!("{consumer} out of memory"),
        "poll_timeout" => format!("{consumer} poll timeout"),
        "offsets_reset" => format!("{group} offsets reset"),
        "offset_out_of_range" => {
            format!("{} out of range, reset to {}", field(e, "partition"), field(e, "auto_offset_reset"))
        }
        // A broker's own changes; its partitions' elections are too many to mark one by one.
        "broker_crashed"
        | "broker_stopped"
        | "broker_started"
        | "broker_fenced"
        | "broker_isolated"
        | "broker_reconnected"
        | "broker_shutting_down" => {
            let broker = e.fields.get("broker").cloned().unwrap_or_default();
            format!("broker {broker} {}", e.kind.trim_start_matches("broker_").replace('_', " "))
        }
        _ => return None,
    })
}

/// Events that are failures or their direct consequences (marked on the offsets chart too).
fn is_failure(kind: &str) -> bool {
    matches!(
        kind,
        "member_fenced"
            | "consumer_crashed"
            | "consumer_resumed"
            | "consumer_out_of_memory"
            | "poll_timeout"
            | "offsets_reset"
            | "offset_out_of_range"
            | "broker_crashed"
            | "broker_isolated"
            | "broker_fenced"
    )
}

/// Every moment of the run, in time order (stable: at equal times, actions before the events
/// they caused).
fn moments(w: &Run) -> Vec<Moment> {
    let mut out: Vec<Moment> = w
        .plan
        .timeline
        .iter()
        .filter_map(|a| Some(Moment { nanos: a.at.as_nanos(), label: action_label(w, &a.action)?, failure: true }))
        .collect();
    let events = super::super::events::logged(w.plan, &w.rec.events);
    out.extend(events.iter().filter_map(|e| {
        Some(Moment { nanos: e.time.as_nanos(), label: event_label(e)?, failure: is_failure(e.kind) })
    }));
    out.sort_by_key(|m| m.nanos);
    out
}

/// The number of each moment (given in time order): 1 for the earliest instant, counting up,
/// one number for moments at the same instant.
pub(super) fn numbers(moments: &[Moment]) -> Vec<usize> {
    let mut out = Vec::with_capacity(moments.len());
    let mut n = 0;
    for (i, m) in moments.iter().enumerate() {
        if i == 0 || moments[i - 1].nanos != m.nanos {
            n += 1;
        }
        out.push(n);
    }
    out
}

/// The moments `keep` picks, as markers with their numbers from the whole list.
pub(super) fn numbered_markers(moments: &[Moment], keep: impl Fn(&Moment) -> bool) -> Vec<Marker> {
    moments
        .iter()
        .zip(numbers(moments))
        .filter(|(m, _)| keep(m))
        .map(|(m, n)| Marker { x: m.nanos as f64 / 1e9, label: m.label.clone(), number: Some(n) })
        .collect()
}

/// Markers for the run's charts: timeline actions and control-plane events, numbered from the
/// run's one list.
pub fn markers(w: &Run) -> Vec<Marker> {
    numbered_markers(&moments(w), |_| true)
}

/// Timeline actions and failures only (the offsets chart), with the numbers `markers` gives.
pub fn failure_markers(w: &Run) -> Vec<Marker> {
    numbered_markers(&moments(w), |m| m.failure)
}

/// Timeline actions only, numbered by the chart (for a compare's charts, whose two runs'
/// events differ).
pub fn action_markers(w: &Run) -> Vec<Marker> {
    w.plan
        .timeline
        .iter()
        .filter_map(|a| {
            Some(Marker { x: a.at.as_nanos() as f64 / 1e9, label: action_label(w, &a.action)?, number: None })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
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
                ev("rebalance_completed", json!({"group": "g", "generation": 3, "protocol": "consumer"})),
                Some("g rebalanced (epoch 3)"),
            ),
            (
                ev("member_fenced", json!({"consumer": "c1", "reason": "session_timeout"})),
                Some("c1 fenced (session timeout)"),
            ),
            (ev("consumer_crashed", json!({"consumer": "c1"})), Some("c1 crashed")),
            (ev("consumer_out_of_memory", json!({"consumer": "c2"})), Some("c2 out of memory")),
            (ev("poll_timeout", json!({"consumer": "c2"})), Some("c2 poll timeout")),
            (ev("offsets_reset", json!({"group": "g"})), Some("g offsets reset")),
            (
                ev("offset_out_of_range", json!({"partition": "t-1", "auto_offset_reset": "earliest"})),
                Some("t-1 out of range, reset to earliest"),
            ),
            (ev("broker_crashed", json!({"broker": 2})), Some("broker 2 crashed")),
            (ev("broker_shutting_down", json!({"broker": 1})), Some("broker 1 shutting down")),
            (ev("leader_elected", json!({"partition": "t-0", "leader": 2})), None),
            (ev("member_joined", json!({"consumer": "c1"})), None),
            (ev("assignment", json!({"consumer": "c1"})), None),
        ];
        for (e, want) in cases {
            assert_eq!(event_label(&e).as_deref(), want, "{}", e.kind);
        }
        assert!(is_failure("consumer_crashed") && is_failure("poll_timeout"));
        assert!(!is_failure("rebalance_completed"));
    }

    fn mo(secs: u64, label: &str, failure: bool) -> Moment {
        Moment { nanos: secs * 1_000_000_000, label: label.into(), failure }
    }

    #[test]
    fn one_instant_one_number_counting_up() {
        let ms = [mo(0, "start c1", true), mo(6, "g rebalanced", false), mo(10, "c2 crashed", true)];
        assert_eq!(numbers(&ms), [1, 2, 3]);
        let ms = [mo(5, "a", true), mo(5, "b", false), mo(7, "c", false), mo(7, "d", true), mo(9, "e", true)];
        assert_eq!(numbers(&ms), [1, 1, 2, 2, 3]);
        assert!(numbers(&[]).is_empty());
    }

    #[test]
    fn an_event_keeps_its_number_on_every_chart() {
        let ms = [
            mo(0, "start c1", true),
            mo(6, "g rebalanced (gen 1)", false),
            mo(10, "c2 crashed", true),
            mo(19, "c2 fenced (session timeout)", true),
            mo(19, "g rebalanced (gen 2)", false),
            mo(25, "g rebalanced (gen 3)", false),
            mo(30, "c1 poll timeout", true),
        ];
        let all = numbered_markers(&ms, |_| true);
        let failures = numbered_markers(&ms, |m| m.failure);
        let number_of = |ms: &[Marker], label: &str| ms.iter().find(|m| m.label == label).and_then(|m| m.number);
        for label in ["c2 crashed", "c2 fenced (session timeout)", "c1 poll timeout"] {
            assert!(number_of(&failures, label).is_some(), "{label} is on the offsets chart");
            assert_eq!(number_of(&all, label), number_of(&failures, label), "{label}");
        }
        assert_eq!(number_of(&all, "c2 crashed"), Some(3));
        assert_eq!(number_of(&all, "c1 poll timeout"), Some(6), "numbers skip nothing on the full list");
        assert!(failures.iter().all(|m| !m.label.contains("rebalanced")), "{failures:?}");
        assert_eq!(number_of(&all, "g rebalanced (gen 2)"), Some(4), "same instant, same number");
        assert_eq!(all[2].x, 10.0);
    }
}
