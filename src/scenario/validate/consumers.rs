//! A group's consumers: each one's name (unique across groups), static membership id, settings,
//! start time, memory and poison records.

use super::Checker;
use super::config;
use super::groups::{GroupScope, RawGroupAt};
use crate::scenario::error::ScenarioError;
use crate::scenario::plan::{ConsumerPlan, ConsumerRef};
use crate::scenario::raw::RawConsumer;
use crate::sim::SimDuration;
use std::collections::BTreeMap;

/// Every consumer's (group, index) by name, so far: names are unique across groups.
pub(super) struct ConsumerNames<'a> {
    groups: &'a [RawGroupAt],
    pub(super) index: BTreeMap<String, ConsumerRef>,
}

impl<'a> ConsumerNames<'a> {
    pub(super) fn new(groups: &'a [RawGroupAt]) -> Self {
        ConsumerNames { groups, index: BTreeMap::new() }
    }

    /// Records consumer `at` as `name`; an error at `cpath` if a consumer already has the name.
    fn record(&mut self, ck: &Checker, cpath: &str, name: &str, at: ConsumerRef) -> Result<(), ScenarioError> {
        if let Some((og, _)) = self.index.insert(name.to_string(), at) {
            return Err(ck.err(
                format!("{cpath}.name"),
                format!(
                    "consumer `{}` is named twice (also in group `{}`); names are unique across groups",
                    name, self.groups[og].group.id
                ),
            ));
        }
        Ok(())
    }
}

/// The group's consumers: at least one, and the group's own settings checked first, so a
/// mistake written on the group is named there (not at its first consumer).
pub(super) fn check_consumers(
    ck: &Checker,
    scope: &GroupScope,
    raw: &[RawConsumer],
    names: &mut ConsumerNames,
) -> Result<Vec<ConsumerPlan>, ScenarioError> {
    if raw.is_empty() {
        return Err(ck.err(format!("{}.consumers", scope.path), "a group needs at least one consumer"));
    }
    config::resolve_config(ck, scope.path, &scope.base, &RawConsumer::default())?;
    let mut instance_ids = BTreeMap::new();
    raw.iter().enumerate().map(|(ci, c)| check_consumer(ck, scope, ci, c, names, &mut instance_ids)).collect()
}

/// Consumer `ci` of the group: its name, group_instance_id (unique in the group), settings,
/// start, memory and poison records.
fn check_consumer(
    ck: &Checker,
    scope: &GroupScope,
    ci: usize,
    c: &RawConsumer,
    names: &mut ConsumerNames,
    instance_ids: &mut BTreeMap<String, usize>,
) -> Result<ConsumerPlan, ScenarioError> {
    let cpath = format!("{}.consumers[{ci}]", scope.path);
    if c.name.is_empty() {
        return Err(ck.err(format!("{cpath}.name"), "a consumer name cannot be empty"));
    }
    ck.check_name_length(format!("{cpath}.name"), &c.name)?;
    names.record(ck, &cpath, &c.name, (scope.index, ci))?;
    if let Some(iid) = &c.group_instance_id
        && instance_ids.insert(iid.clone(), ci).is_some()
    {
        return Err(ck.err(
            format!("{cpath}.group_instance_id"),
            format!("group_instance_id `{iid}` is used twice in group `{}`", scope.group.id),
        ));
    }
    let config = config::resolve_config(ck, &cpath, &scope.base, c)?;
    let start = check_start(ck, &cpath, scope, c)?;
    if c.consumer_memory == Some(0) {
        return Err(ck.err(format!("{cpath}.consumer_memory"), "must be at least 1 byte"));
    }
    let poison = check_poison(ck, &cpath, scope, c)?;
    Ok(ConsumerPlan {
        name: c.name.clone(),
        start_at: Some(start),
        group_instance_id: c.group_instance_id.clone(),
        consumer_memory: c.consumer_memory,
        config,
        poison,
    })
}

/// When the consumer starts (its start_at, else when its group is added, else at 0): within the
/// run, and not before its group is added.
fn check_start(ck: &Checker, cpath: &str, scope: &GroupScope, c: &RawConsumer) -> Result<SimDuration, ScenarioError> {
    let (duration, added_at) = (scope.duration, scope.added_at);
    let start = c.start_at.map_or(added_at.unwrap_or(SimDuration::ZERO), |d| d.0);
    if start > duration {
        return Err(
            ck.err(format!("{cpath}.start_at"), format!("{start} is after the end of the run (duration: {duration})"))
        );
    }
    if let Some(t) = added_at.filter(|t| start < *t) {
        return Err(ck.err(format!("{cpath}.start_at"), format!("must not be before the group is added ({t})")));
    }
    Ok(start)
}

/// The consumer's poison records, its own else its group's: on a topic the group subscribes to,
/// a partition the topic has, 1 to 10000 offsets (sorted, without repeats).
fn check_poison(
    ck: &Checker,
    cpath: &str,
    scope: &GroupScope,
    c: &RawConsumer,
) -> Result<Option<(usize, u32, Vec<u64>)>, ScenarioError> {
    let Some(p) = c.poison.as_ref().or(scope.base.poison.as_ref()) else { return Ok(None) };
    let at = if c.poison.is_some() { format!("{cpath}.poison") } else { format!("{}.poison", scope.path) };
    let topics = scope.topics;
    let Some(&topic) = scope.subscribed.iter().find(|&&t| topics[t].name == p.topic) else {
        return Err(ck.err(
            format!("{at}.topic"),
            format!("group `{}` does not subscribe to topic `{}`", scope.group.id, p.topic),
        ));
    };
    if p.partition >= topics[topic].partitions {
        return Err(ck.err(
            format!("{at}.partition"),
            format!(
                "topic `{}` has no partition {} (partitions 0..{})",
                p.topic,
                p.partition,
                topics[topic].partitions - 1
            ),
        ));
    }
    if p.offsets.is_empty() || p.offsets.len() > 10_000 {
        return Err(ck.err(format!("{at}.offsets"), "list 1 to 10000 offsets, e.g. [42]"));
    }
    let mut offsets = p.offsets.clone();
    offsets.sort_unstable();
    offsets.dedup();
    Ok(Some((topic, p.partition, offsets)))
}
