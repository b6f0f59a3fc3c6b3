//! Checks on the scenario as a whole, run before any section: its name, the length of topic and
//! producer names, how many of each thing it holds, and how long it runs and is sampled.

use super::Checker;
use super::bounds::{
    MAX_CONSUMERS, MAX_GROUPS, MAX_PRODUCERS, MAX_SAMPLES_PER_PARTITION, MAX_SCENARIO_NAME, MAX_TIMELINE,
};
use crate::scenario::error::ScenarioError;
use crate::scenario::plan::{MetricsFile, defaults};
use crate::scenario::raw::{RawConsumers, RawScenario};
use crate::sim::SimDuration;

/// The run's duration and sample interval, once the whole-scenario checks pass.
pub(super) fn check_whole(ck: &Checker, raw: &RawScenario) -> Result<(SimDuration, SimDuration), ScenarioError> {
    check_scenario_name(ck, &raw.name)?;
    check_name_lengths(ck, raw)?;
    check_counts(ck, raw)?;
    check_run_length(ck, raw)
}

/// The scenario name names the output folder.
fn check_scenario_name(ck: &Checker, name: &str) -> Result<(), ScenarioError> {
    if name.is_empty()
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        || name.starts_with('.')
    {
        return Err(ck.err(
            "name",
            format!("`{name}` cannot name an output folder; use letters, digits, '-', '_' or '.' (not first)"),
        ));
    }
    if name.len() > MAX_SCENARIO_NAME {
        return Err(ck.err(
            "name",
            format!(
                "{} characters; a scenario name (it names the output folder) has at most {MAX_SCENARIO_NAME}",
                name.len()
            ),
        ));
    }
    Ok(())
}

fn check_name_lengths(ck: &Checker, raw: &RawScenario) -> Result<(), ScenarioError> {
    for (i, t) in raw.topics.iter().enumerate() {
        ck.check_name_length(format!("topics[{i}].name"), &t.name)?;
    }
    for (i, p) in raw.producers.iter().enumerate() {
        ck.check_name_length(format!("producers[{i}].name"), &p.name)?;
    }
    Ok(())
}

/// Producers, timeline entries, groups and consumers within their bounds, before any list is
/// built from a count.
fn check_counts(ck: &Checker, raw: &RawScenario) -> Result<(), ScenarioError> {
    if raw.producers.len() > MAX_PRODUCERS {
        return Err(
            ck.err("producers", format!("{} producers; at most {MAX_PRODUCERS} are supported", raw.producers.len()))
        );
    }
    if raw.timeline.len() > MAX_TIMELINE {
        return Err(ck.err("timeline", format!("{} entries; at most {MAX_TIMELINE} are supported", raw.timeline.len())));
    }
    let added_groups = raw.timeline.iter().filter(|a| a.add_group.is_some()).count();
    if raw.groups.len() + added_groups > MAX_GROUPS {
        return Err(ck.err(
            "groups",
            format!(
                "{} groups (with those the timeline adds); at most {MAX_GROUPS} are supported",
                raw.groups.len() + added_groups
            ),
        ));
    }
    let total_consumers = count_consumers(raw);
    if total_consumers > MAX_CONSUMERS {
        return Err(
            ck.err("groups", format!("{total_consumers} consumers in all; at most {MAX_CONSUMERS} are supported"))
        );
    }
    Ok(())
}

/// Every consumer of the file's groups and of those the timeline adds, counted without building
/// a list from a count: `consumers: 2147483648` must not allocate.
fn count_consumers(raw: &RawScenario) -> u64 {
    let count_of = |c: &RawConsumers| match c {
        RawConsumers::Count(n) => u64::from(*n),
        RawConsumers::List(l) => l.len() as u64,
    };
    raw.groups.iter().map(|g| count_of(&g.consumers)).sum::<u64>()
        + raw
            .timeline
            .iter()
            .map(|a| a.add_group.as_ref().map_or(0, |g| count_of(&g.consumers)) + u64::from(a.add_consumer.is_some()))
            .sum::<u64>()
}

/// Duration and sample interval both above 0, and not too many samples.
fn check_run_length(ck: &Checker, raw: &RawScenario) -> Result<(SimDuration, SimDuration), ScenarioError> {
    let duration = raw.duration.0;
    if duration.is_zero() {
        return Err(ck.err("duration", "must be longer than 0, e.g. 60s"));
    }
    let sample_interval = raw.sample_interval.map_or(defaults::SAMPLE_INTERVAL, |d| d.0);
    if sample_interval.is_zero() {
        return Err(ck.err("sample_interval", "must be longer than 0, e.g. 100ms"));
    }
    if duration.as_nanos() / sample_interval.as_nanos() > MAX_SAMPLES_PER_PARTITION {
        return Err(ck.err("sample_interval", format!(
            "{sample_interval} over {duration} gives more than {MAX_SAMPLES_PER_PARTITION} samples; use a longer interval"
        )));
    }
    Ok((duration, sample_interval))
}

/// `metrics:`, one of [`MetricsFile::NAMES`].
pub(super) fn check_metrics(ck: &Checker, raw: Option<&str>) -> Result<MetricsFile, ScenarioError> {
    let Some(name) = raw else { return Ok(MetricsFile::Auto) };
    MetricsFile::of(name).ok_or_else(|| {
        ck.err("metrics", format!("`{name}` is not a choice; allowed: {}", MetricsFile::NAMES.join(", ")))
    })
}
