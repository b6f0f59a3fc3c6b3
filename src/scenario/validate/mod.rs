//! Raw scenario -> checked [`Plan`]: defaults filled in, names resolved, every rule checked.
//! Each error names the field path and what is allowed. The sections are checked in a fixed
//! order and only the first error is reported, so the order of the checks is part of the output.

use super::error::ScenarioError;
use super::plan::{Plan, defaults};
use super::raw::RawScenario;
use crate::sim::SimDuration;

mod bounds;
mod burrow;
mod cluster;
mod config;
mod consumer_protocol;
mod consumers;
mod delivery;
mod groups;
mod producers;
mod timeline;
mod topics;
mod whole;

pub use bounds::{
    MAX_BATCH_BYTES, MAX_BURROW_INTERVALS, MAX_CONSUMERS, MAX_GROUPS, MAX_KEYS, MAX_NAME, MAX_POLL_RECORDS,
    MAX_PRODUCERS, MAX_PUSH_BATCH, MAX_PUSH_BUFFER, MAX_SCENARIO_NAME, MAX_SIGMA, MAX_SLOW_FACTOR, MAX_TIMELINE,
};

/// Makes each error name the scenario file.
struct Checker<'a> {
    file: &'a str,
}

impl Checker<'_> {
    fn err(&self, path: impl Into<String>, msg: impl Into<String>) -> ScenarioError {
        ScenarioError::field(self.file, path, msg)
    }

    /// Names (other than the scenario's) are held to Kafka's limit for topic names.
    fn check_name_length(&self, path: String, name: &str) -> Result<(), ScenarioError> {
        if name.len() > MAX_NAME {
            return Err(self.err(path, format!("a name of {} characters; at most {MAX_NAME} are allowed", name.len())));
        }
        Ok(())
    }
}

/// Checks `raw` (read from `file`) section by section: the scenario as a whole, the brokers,
/// topics, producers, groups with their consumers, timeline, burrow, expectations.
pub fn validate(file: &str, raw: RawScenario) -> Result<Plan, ScenarioError> {
    let ck = Checker { file };
    let (duration, sample_interval) = whole::check_whole(&ck, &raw)?;
    let cluster = cluster::check_cluster(&ck, &raw)?;
    let topics = topics::check_topics(&ck, &raw, &cluster)?;
    let topic_names = topics::TopicNames::new(&topics);
    let (producers, producer_index) = producers::check_producers(&ck, &raw.producers, &topic_names)?;
    let groups::CheckedGroups { groups, group_ids, consumer_index } =
        groups::check_groups(&ck, &raw, duration, &topic_names)?;
    let named = timeline::Named {
        topics: &topic_names,
        producers: &producer_index,
        groups: &groups,
        group_ids: &group_ids,
        consumers: &consumer_index,
        brokers: cluster.brokers,
    };
    let checked = timeline::check_timeline(&ck, &raw.timeline, duration, &named)?;
    let mut topics = topics;
    let timeline = timeline::finish_timeline(&ck, &mut topics, checked)?;

    let burrow = burrow::check_burrow(&ck, raw.burrow.as_ref())?;
    let expect = super::expect::parse(file, &raw.expect)?;
    Ok(Plan {
        name: raw.name,
        description: raw.description.unwrap_or_default(),
        seed: raw.seed.unwrap_or(0),
        duration,
        sample_interval,
        metrics: whole::check_metrics(&ck, raw.metrics.as_deref())?,
        network_delay: raw.network_delay.map_or(SimDuration::ZERO, |d| d.0),
        retention_check_interval: raw
            .log_retention_check_interval_ms
            .map_or(defaults::RETENTION_CHECK_INTERVAL, |d| d.0)
            .max(SimDuration::from_millis(1)),
        initial_task_delay: raw.log_initial_task_delay_ms.map_or(defaults::INITIAL_TASK_DELAY, |d| d.0),
        burrow,
        cluster,
        topics,
        producers,
        groups,
        timeline,
        source: String::new(),
        file_seed: raw.seed.unwrap_or(0),
        expect,
    })
}
