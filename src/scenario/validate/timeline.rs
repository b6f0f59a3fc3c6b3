//! The `timeline:` section: each entry's time and its one action, every name in it resolved;
//! actions a share group does not have are refused, and added partitions must grow their topic.

use super::Checker;
use super::bounds::{MAX_PARTITIONS, MAX_SLOW_FACTOR};
use super::topics::TopicNames;
use crate::scenario::error::ScenarioError;
use crate::scenario::plan::{Action, ConsumerRef, GroupPlan, GroupType, TimedAction, TopicPlan};
use crate::scenario::raw::{RawAction, RawPauseTarget};
use crate::sim::SimDuration;
use std::collections::BTreeMap;

const ACTIONS: &str = "crash, start, stop, hang, slow, rate, seek, reset_offsets, pause, resume, add_group, remove_group, add_consumer, add_partitions";

/// Everything a timeline entry can name, checked.
pub(super) struct Named<'a> {
    pub(super) topics: &'a TopicNames<'a>,
    pub(super) producers: &'a BTreeMap<String, usize>,
    pub(super) groups: &'a [GroupPlan],
    pub(super) group_ids: &'a BTreeMap<String, usize>,
    pub(super) consumers: &'a BTreeMap<String, ConsumerRef>,
}

impl Named<'_> {
    fn topic(&self, ck: &Checker, path: String, name: &str) -> Result<usize, ScenarioError> {
        self.topics.find(ck, path, name)
    }

    fn consumer(&self, ck: &Checker, path: String, name: &str) -> Result<ConsumerRef, ScenarioError> {
        find_listing_all(ck, self.consumers, "consumer", path, name)
    }

    fn producer(&self, ck: &Checker, path: String, name: &str) -> Result<usize, ScenarioError> {
        find_listing_all(ck, self.producers, "producer", path, name)
    }

    fn group(&self, ck: &Checker, path: String, id: &str) -> Result<usize, ScenarioError> {
        self.group_ids.get(id).copied().ok_or_else(|| ck.err(path, format!("unknown group `{id}`")))
    }
}

/// `name` in `index`; else an error at `path` that lists every `what` defined.
fn find_listing_all<T: Copy>(
    ck: &Checker,
    index: &BTreeMap<String, T>,
    what: &str,
    path: String,
    name: &str,
) -> Result<T, ScenarioError> {
    index.get(name).copied().ok_or_else(|| {
        let known: Vec<&str> = index.keys().map(String::as_str).collect();
        ck.err(path, format!("unknown {what} `{name}`; {what}s defined: {}", known.join(", ")))
    })
}

/// A timeline entry's `add_partitions`, checked against the topic's size by then once all are known.
pub(super) struct PartitionChange {
    at: SimDuration,
    entry: usize,
    topic: usize,
    count: u32,
}

/// The timeline's actions in time order, and the partition changes among them.
pub(super) fn check_timeline(
    ck: &Checker,
    raw: &[RawAction],
    duration: SimDuration,
    named: &Named,
) -> Result<(Vec<TimedAction>, Vec<PartitionChange>), ScenarioError> {
    let mut timeline = Vec::new();
    let mut partition_changes = Vec::new();
    for (i, a) in raw.iter().enumerate() {
        let (action, change) = check_entry(ck, i, a, duration, named)?;
        timeline.push(action);
        partition_changes.extend(change);
    }
    timeline.sort_by_key(|a| a.at);
    Ok((timeline, partition_changes))
}

/// Entry `i`: within the run, and exactly one action, which applies to what it names.
fn check_entry(
    ck: &Checker,
    i: usize,
    a: &RawAction,
    duration: SimDuration,
    named: &Named,
) -> Result<(TimedAction, Option<PartitionChange>), ScenarioError> {
    let path = format!("timeline[{i}]");
    if a.at.0 > duration {
        return Err(
            ck.err(format!("{path}.at"), format!("{} is after the end of the run (duration: {duration})", a.at.0))
        );
    }
    let mut actions = Vec::new();
    consumer_actions(ck, &path, a, named, &mut actions)?;
    rate_action(ck, &path, a, named, &mut actions)?;
    seek_action(ck, &path, a, named, &mut actions)?;
    reset_offsets_action(ck, &path, a, named, &mut actions)?;
    pause_actions(ck, &path, a, named, &mut actions)?;
    group_actions(ck, &path, a, named, &mut actions)?;
    let change = match &a.add_partitions {
        Some(ap) => {
            let topic = named.topic(ck, format!("{path}.add_partitions.topic"), &ap.topic)?;
            actions.push(Action::AddPartitions { topic, count: ap.count });
            Some(PartitionChange { at: a.at.0, entry: i, topic, count: ap.count })
        }
        None => None,
    };
    if let Some((what, why)) = refused_for_share(&actions, named.groups) {
        return Err(ck.err(path, format!("`{what}` does not apply to a share group: {why}")));
    }
    if actions.len() != 1 {
        return Err(ck.err(
            path,
            format!("each timeline entry takes `at` and exactly one action ({ACTIONS}); found {}", actions.len()),
        ));
    }
    Ok((TimedAction { at: a.at.0, action: actions.pop().expect("one action") }, change))
}

/// crash, start, stop, hang and slow: each names a consumer; slow's factor within bounds.
fn consumer_actions(
    ck: &Checker,
    path: &str,
    a: &RawAction,
    named: &Named,
    actions: &mut Vec<Action>,
) -> Result<(), ScenarioError> {
    if let Some(c) = &a.crash {
        actions.push(Action::Crash(named.consumer(ck, format!("{path}.crash"), c)?));
    }
    if let Some(c) = &a.start {
        actions.push(Action::Start(named.consumer(ck, format!("{path}.start"), c)?));
    }
    if let Some(c) = &a.stop {
        actions.push(Action::Stop(named.consumer(ck, format!("{path}.stop"), c)?));
    }
    if let Some(h) = &a.hang {
        let field = if h.for_.is_some() { "hang.consumer" } else { "hang" };
        let consumer = named.consumer(ck, format!("{path}.{field}"), &h.consumer)?;
        actions.push(Action::Hang { consumer, for_: h.for_ });
    }
    if let Some(s) = &a.slow {
        if !(s.factor.is_finite() && s.factor > 0.0 && s.factor <= MAX_SLOW_FACTOR) {
            return Err(ck.err(
                format!("{path}.slow.factor"),
                format!(
                    "{:?} is not allowed; the factor multiplies processing times and must be > 0 and at most {MAX_SLOW_FACTOR:.0}",
                    s.factor
                ),
            ));
        }
        let consumer = named.consumer(ck, format!("{path}.slow.consumer"), &s.consumer)?;
        actions.push(Action::Slow { consumer, factor: s.factor });
    }
    Ok(())
}

/// rate: a known producer and a rate of at most one record per nanosecond.
fn rate_action(
    ck: &Checker,
    path: &str,
    a: &RawAction,
    named: &Named,
    actions: &mut Vec<Action>,
) -> Result<(), ScenarioError> {
    let Some(r) = &a.rate else { return Ok(()) };
    let producer = named.producer(ck, format!("{path}.rate.producer"), &r.producer)?;
    if r.rate.0 > 1e9 {
        return Err(ck.err(format!("{path}.rate.rate"), "must be at most 1000000000/s (one record per nanosecond)"));
    }
    actions.push(Action::Rate { producer, rate: r.rate.0 });
    Ok(())
}

/// seek: a known consumer, a topic its group subscribes to, and a partition the topic has.
fn seek_action(
    ck: &Checker,
    path: &str,
    a: &RawAction,
    named: &Named,
    actions: &mut Vec<Action>,
) -> Result<(), ScenarioError> {
    let Some(sk) = &a.seek else { return Ok(()) };
    let consumer = named.consumer(ck, format!("{path}.seek.consumer"), &sk.consumer)?;
    let topic = named.topic(ck, format!("{path}.seek.topic"), &sk.topic)?;
    if !named.groups[consumer.0].topics.contains(&topic) {
        return Err(ck.err(
            format!("{path}.seek.topic"),
            format!("consumer `{}` does not subscribe to topic `{}`", sk.consumer, sk.topic),
        ));
    }
    let topics: &[TopicPlan] = named.topics.topics;
    if let Some(p) = sk.partition.filter(|p| *p >= topics[topic].max_partitions) {
        return Err(ck.err(
            format!("{path}.seek.partition"),
            format!("topic `{}` has no partition {p} (partitions 0..{})", sk.topic, topics[topic].max_partitions - 1),
        ));
    }
    actions.push(Action::Seek { consumer, topic, partition: sk.partition, to: sk.to.clone() });
    Ok(())
}

/// reset_offsets: a known group and topic.
fn reset_offsets_action(
    ck: &Checker,
    path: &str,
    a: &RawAction,
    named: &Named,
    actions: &mut Vec<Action>,
) -> Result<(), ScenarioError> {
    let Some(r) = &a.reset_offsets else { return Ok(()) };
    let group = named.group(ck, format!("{path}.reset_offsets.group"), &r.group)?;
    let topic = named.topic(ck, format!("{path}.reset_offsets.topic"), &r.topic)?;
    actions.push(Action::ResetOffsets { group, topic, to: r.to.clone() });
    Ok(())
}

/// pause and resume: each names a known consumer or producer.
fn pause_actions(
    ck: &Checker,
    path: &str,
    a: &RawAction,
    named: &Named,
    actions: &mut Vec<Action>,
) -> Result<(), ScenarioError> {
    for (field, target, resume) in [("pause", &a.pause, false), ("resume", &a.resume, true)] {
        match target {
            Some(RawPauseTarget::Consumer(c)) => {
                let c = named.consumer(ck, format!("{path}.{field}"), c)?;
                actions.push(if resume { Action::Resume(c) } else { Action::Pause(c) });
            }
            Some(RawPauseTarget::Producer(p)) => {
                let p = named.producer(ck, format!("{path}.{field}.producer"), p)?;
                actions.push(if resume { Action::ResumeProducer(p) } else { Action::PauseProducer(p) });
            }
            None => {}
        }
    }
    Ok(())
}

/// add_group, remove_group and add_consumer. What they add was checked with the groups; the
/// group removed must be known.
fn group_actions(
    ck: &Checker,
    path: &str,
    a: &RawAction,
    named: &Named,
    actions: &mut Vec<Action>,
) -> Result<(), ScenarioError> {
    if let Some(g) = &a.add_group {
        actions.push(Action::AddGroup(named.group_ids[&g.id]));
    }
    if let Some(id) = &a.remove_group {
        actions.push(Action::RemoveGroup(named.group(ck, format!("{path}.remove_group"), id)?));
    }
    if let Some(ac) = &a.add_consumer {
        actions.push(Action::AddConsumer(named.consumers[&ac.name]));
    }
    Ok(())
}

/// Share consumers have no seek, pause or assign, and a share group's offsets are reset only
/// while it is empty (kafka-share-groups.sh), which a timeline cannot promise: the first such
/// action, and why.
fn refused_for_share(actions: &[Action], groups: &[GroupPlan]) -> Option<(&'static str, &'static str)> {
    let share_consumer = |c: &ConsumerRef| groups[c.0].kind == GroupType::Share;
    actions.iter().find_map(|a| match a {
        Action::Seek { consumer, .. } if share_consumer(consumer) => {
            Some(("seek", "a share consumer cannot seek: the broker decides which records it gets"))
        }
        Action::Pause(c) | Action::Resume(c) if share_consumer(c) => {
            Some(("pause", "a share consumer cannot pause partitions (KafkaShareConsumer has no pause)"))
        }
        Action::ResetOffsets { group, .. } if groups[*group].kind == GroupType::Share => Some((
            "reset_offsets",
            "a share group's start offsets are reset only while the group is empty; not simulated",
        )),
        Action::RemoveGroup(group) if groups[*group].kind == GroupType::Share => {
            Some(("remove_group", "removing a share group is not simulated; stop its consumers instead"))
        }
        _ => None,
    })
}

/// Kafka only ever adds partitions: each change, in time order, must grow its topic, to at most
/// MAX_PARTITIONS, and MAX_PARTITIONS in all. Each topic's max_partitions becomes its last count.
pub(super) fn grow_partitions(
    ck: &Checker,
    topics: &mut [TopicPlan],
    mut changes: Vec<PartitionChange>,
) -> Result<(), ScenarioError> {
    changes.sort_by_key(|c| (c.at, c.entry));
    let mut current: Vec<u32> = topics.iter().map(|t| t.partitions).collect();
    for PartitionChange { entry: i, topic: t, count, .. } in changes {
        if count <= current[t] || count > MAX_PARTITIONS {
            return Err(ck.err(format!("timeline[{i}].add_partitions.count"), format!(
                "{count} is not allowed: topic `{}` has {} partitions by then, and partitions can only be added (up to {MAX_PARTITIONS})",
                topics[t].name, current[t]
            )));
        }
        current[t] = count;
        topics[t].max_partitions = count;
        let total: u64 = current.iter().map(|&n| u64::from(n)).sum();
        if total > u64::from(MAX_PARTITIONS) {
            return Err(ck.err(
                format!("timeline[{i}].add_partitions.count"),
                format!("topics would have {total} partitions in all; at most {MAX_PARTITIONS} are supported"),
            ));
        }
    }
    Ok(())
}
