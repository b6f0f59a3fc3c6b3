//! Findings: what happened in a run and why, each derived from what the run recorded (events,
//! counters, checkpoints, the state at the end) and never guessed. summary.json lists them in
//! time order, and the console and the page lead with their sentences.

mod cluster;
mod failures;
mod load;
mod records;

use super::num::{ms, time_ms_json};
use crate::record::run::Run;
use crate::sim::SimTime;
use serde_json::{Value, json};

/// One finding: a kind, who and what it concerns, when, its key figure and one sentence.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// `unowned`, `rebalance_in_progress_at_end`, `rebalances`, `overloaded`, `standby`, `poll_timeout`,
    /// `duplicates`, `lost`, `lag_status`, `drops`, `out_of_memory`, `consumer_error`, `lock_window_full`, `lock_expiry`, `archived`;
    /// a producer's `broker_loss`, `unavailable`, `duplicates_written`.
    pub kind: &'static str,
    pub about: About,
    pub consumers: Vec<usize>,
    pub partitions: Vec<u32>,
    pub from: SimTime,
    /// None while it is still true at the end.
    pub to: Option<SimTime>,
    /// The key figure's name (a summary.json-style name with its unit) and value.
    pub figure: &'static str,
    pub value: Value,
    pub text: String,
}

/// Whom a finding concerns: a group, or (the cluster's findings) a producer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum About {
    Group(usize),
    Producer(usize),
}

/// Every finding of the run, in time order (then group, then the order kinds are derived in).
pub fn findings(w: &Run) -> Vec<Finding> {
    let mut out = Vec::new();
    // Burrow's status per group and sample, built once for every group.
    let lag_status = super::lag::group_lag_status_series(w);
    for (gi, lag_status) in lag_status.iter().enumerate() {
        let share = w.end.groups[gi].share.is_some();
        if !share {
            failures::unowned(w, gi, &mut out);
            failures::rebalance_in_progress(w, gi, &mut out);
            load::overloaded(w, gi, &mut out);
            load::standby(w, gi, &mut out);
            records::rebalances(w, gi, &mut out);
        }
        failures::poll_timeouts(w, gi, &mut out);
        failures::out_of_memory(w, gi, &mut out);
        failures::consumer_errors(w, gi, &mut out);
        records::duplicates(w, gi, &mut out);
        records::lost(w, gi, &mut out);
        load::lag_status(w, gi, lag_status, &mut out);
        records::drops(w, gi, &mut out);
        if share {
            records::lock_window_full(w, gi, &mut out);
            records::lock_expiry(w, gi, &mut out);
            records::archived(w, gi, &mut out);
        }
    }
    if w.rec.cluster.declared {
        cluster::producers(w, &mut out);
    }
    out.sort_by_key(|f| f.from);
    out
}

/// summary.json's `findings`.
pub fn findings_json(w: &Run, findings: &[Finding]) -> Value {
    Value::Array(findings.iter().map(|f| finding_json(w, f)).collect())
}

fn finding_json(w: &Run, f: &Finding) -> Value {
    let mut v = json!({
        "kind": f.kind,
        "group": match f.about {
            About::Group(g) => json!(w.plan.groups[g].id),
            About::Producer(_) => Value::Null,
        },
        "consumers": f.consumers.iter().map(|&c| w.plan.consumer_of(c).name.as_str()).collect::<Vec<_>>(),
        "partitions": f.partitions.iter().map(|&p| w.plan.partition_name(p)).collect::<Vec<_>>(),
        "from_ms": time_ms_json(f.from),
        "to_ms": f.to.map(time_ms_json),
        "figure": f.figure,
        "value": f.value,
        "text": f.text,
    });
    // A producer's finding names it right after the (null) group; a group's keeps its keys.
    if let (About::Producer(p), Some(obj)) = (f.about, v.as_object_mut()) {
        let name = [("producer", json!(w.plan.producers[p].name))];
        *obj = super::summary::insert_after(std::mem::take(obj), "group", name);
    }
    v
}

/// The names people read, for the sentences.
pub(super) struct Names<'a>(&'a Run<'a>);

impl Names<'_> {
    fn consumer(&self, c: usize) -> String {
        self.0.plan.consumer_of(c).name.clone()
    }

    fn consumers(&self, cs: &[usize]) -> String {
        super::num::list(&cs.iter().map(|&c| self.consumer(c)).collect::<Vec<_>>(), 6)
    }

    fn partitions(&self, ps: &[u32]) -> String {
        super::num::list(&ps.iter().map(|&p| self.0.plan.partition_name(p)).collect::<Vec<_>>(), 6)
    }
}

/// A duration as a JSON number of milliseconds.
fn ms_value(ns: u64) -> Value {
    json!(ms(ns))
}

/// "1 partition", "3 partitions".
fn plural(n: usize, one: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") }
}
