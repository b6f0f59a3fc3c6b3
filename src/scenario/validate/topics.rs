//! The `topics:` section: each topic's name, partition count, log settings and replication;
//! and finding a checked topic by the name another section gives.

use super::Checker;
use super::bounds::{MAX_BATCH_BYTES, MAX_PARTITIONS};
use crate::scenario::cluster::ClusterPlan;
use crate::scenario::error::ScenarioError;
use crate::scenario::plan::{TopicPlan, defaults};
use crate::scenario::raw::{RawScenario, RawTopic};
use std::collections::BTreeMap;

pub(super) fn check_topics(
    ck: &Checker,
    raw: &RawScenario,
    cluster: &ClusterPlan,
) -> Result<Vec<TopicPlan>, ScenarioError> {
    check_names_and_partitions(ck, &raw.topics)?;
    raw.topics.iter().enumerate().map(|(i, t)| topic_plan(ck, raw, i, t, cluster)).collect()
}

/// At least one topic; each named, once, with 1 to MAX_PARTITIONS partitions, and no more than
/// that in all.
fn check_names_and_partitions(ck: &Checker, raw: &[RawTopic]) -> Result<(), ScenarioError> {
    if raw.is_empty() {
        return Err(ck.err("topics", "a scenario needs at least one topic"));
    }
    let mut seen = BTreeMap::new();
    let mut total = 0u64;
    for (i, t) in raw.iter().enumerate() {
        if t.name.is_empty() {
            return Err(ck.err(format!("topics[{i}].name"), "a topic name cannot be empty"));
        }
        if seen.insert(t.name.as_str(), i).is_some() {
            return Err(ck.err(format!("topics[{i}].name"), format!("topic `{}` is defined twice", t.name)));
        }
        if t.partitions == 0 || t.partitions > MAX_PARTITIONS {
            return Err(ck.err(
                format!("topics[{i}].partitions"),
                format!("{} is not allowed; a topic has 1 to {MAX_PARTITIONS} partitions", t.partitions),
            ));
        }
        total += u64::from(t.partitions);
    }
    if total > u64::from(MAX_PARTITIONS) {
        return Err(ck.err("topics", format!("{total} partitions in all; at most {MAX_PARTITIONS} are supported")));
    }
    Ok(())
}

/// Topic `i`'s retention, segment and replication settings, defaults filled in.
fn topic_plan(
    ck: &Checker,
    raw: &RawScenario,
    i: usize,
    t: &RawTopic,
    cluster: &ClusterPlan,
) -> Result<TopicPlan, ScenarioError> {
    let retention_bytes = match t.retention_bytes {
        None | Some(-1) => None,
        Some(b) if b > 0 => Some(b as u64),
        Some(b) => {
            return Err(ck.err(
                format!("topics[{i}].retention_bytes"),
                format!("{b} is not allowed; bytes per partition > 0, or -1 for unlimited (Kafka's default)"),
            ));
        }
    };
    let segment_bytes = t.segment_bytes.unwrap_or(defaults::SEGMENT_BYTES);
    if segment_bytes == 0 || segment_bytes > MAX_BATCH_BYTES {
        return Err(ck.err(
            format!("topics[{i}].segment_bytes"),
            format!("{segment_bytes} is not allowed; 1 to {MAX_BATCH_BYTES} bytes (Kafka's default: 1073741824)"),
        ));
    }
    let segment_ms = t.segment_ms.map_or(defaults::SEGMENT_MS, |d| d.0);
    if segment_ms.is_zero() {
        return Err(ck.err(format!("topics[{i}].segment_ms"), "must be longer than 0 (Kafka's default: 7 days)"));
    }
    let replication = super::cluster::topic_replication(ck, raw, i, t, cluster)?;
    Ok(TopicPlan {
        name: t.name.clone(),
        partitions: t.partitions,
        max_partitions: t.partitions,
        retention: Some(t.retention_ms.map_or(defaults::RETENTION, |d| d.0)),
        retention_bytes,
        segment_ms,
        segment_bytes,
        replication,
    })
}

/// The checked topics by name, for the sections that name a topic.
pub(super) struct TopicNames<'a> {
    pub(super) topics: &'a [TopicPlan],
    index: BTreeMap<&'a str, usize>,
}

impl<'a> TopicNames<'a> {
    pub(super) fn new(topics: &'a [TopicPlan]) -> Self {
        let index = topics.iter().enumerate().map(|(i, t)| (t.name.as_str(), i)).collect();
        TopicNames { topics, index }
    }

    /// The index of topic `name`; else an error at `path` that lists the topics defined.
    pub(super) fn find(&self, ck: &Checker, path: String, name: &str) -> Result<usize, ScenarioError> {
        self.index.get(name).copied().ok_or_else(|| {
            let names = self.topics.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ");
            ck.err(path, format!("unknown topic `{name}`; topics defined: {names}"))
        })
    }
}
