//! Raw scenario -> checked [`Plan`]: defaults filled in, names resolved, every rule checked.
//! Each error names the field path and what is allowed.

use super::error::ScenarioError;
use super::plan::*;
use super::raw::*;
use crate::sim::SimDuration;

mod bounds;
mod burrow;
mod config;
mod consumers;
mod groups;
mod producers;
mod topics;
mod whole;

use bounds::MAX_PARTITIONS;
pub use bounds::{
    MAX_BATCH_BYTES, MAX_BURROW_INTERVALS, MAX_CONSUMERS, MAX_GROUPS, MAX_KEYS, MAX_NAME, MAX_POLL_RECORDS,
    MAX_PRODUCERS, MAX_PUSH_BATCH, MAX_PUSH_BUFFER, MAX_SCENARIO_NAME, MAX_SIGMA, MAX_SLOW_FACTOR, MAX_TIMELINE,
};

const ACTIONS: &str = "crash, start, stop, hang, slow, rate, seek, reset_offsets, pause, resume, add_group, remove_group, add_consumer, add_partitions";

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

pub fn validate(file: &str, raw: RawScenario) -> Result<Plan, ScenarioError> {
    let ck = Checker { file };
    let (duration, sample_interval) = whole::check_whole(&ck, &raw)?;
    let topics = topics::check_topics(&ck, &raw.topics)?;
    let topic_names = topics::TopicNames::new(&topics);
    let find_topic = |path: String, name: &str| topic_names.find(&ck, path, name);

    let (producers, producer_index) = producers::check_producers(&ck, &raw.producers, &topic_names)?;

    let groups::CheckedGroups { groups, group_ids, consumer_index } =
        groups::check_groups(&ck, &raw, duration, &topic_names)?;

    let find_consumer = |path: String, name: &str| {
        consumer_index.get(name).copied().ok_or_else(|| {
            let known: Vec<&str> = consumer_index.keys().map(String::as_str).collect();
            ck.err(path, format!("unknown consumer `{name}`; consumers defined: {}", known.join(", ")))
        })
    };
    let find_producer = |path: String, name: &str| {
        producer_index.get(name).copied().ok_or_else(|| {
            let known: Vec<&str> = producer_index.keys().map(String::as_str).collect();
            ck.err(path, format!("unknown producer `{name}`; producers defined: {}", known.join(", ")))
        })
    };

    let mut timeline = Vec::new();
    let mut partition_changes = Vec::new();
    for (i, a) in raw.timeline.iter().enumerate() {
        let path = format!("timeline[{i}]");
        if a.at.0 > duration {
            return Err(
                ck.err(format!("{path}.at"), format!("{} is after the end of the run (duration: {duration})", a.at.0))
            );
        }
        let mut actions = Vec::new();
        if let Some(c) = &a.crash {
            actions.push(Action::Crash(find_consumer(format!("{path}.crash"), c)?));
        }
        if let Some(c) = &a.start {
            actions.push(Action::Start(find_consumer(format!("{path}.start"), c)?));
        }
        if let Some(c) = &a.stop {
            actions.push(Action::Stop(find_consumer(format!("{path}.stop"), c)?));
        }
        if let Some(h) = &a.hang {
            let field = if h.for_.is_some() { "hang.consumer" } else { "hang" };
            let consumer = find_consumer(format!("{path}.{field}"), &h.consumer)?;
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
            let consumer = find_consumer(format!("{path}.slow.consumer"), &s.consumer)?;
            actions.push(Action::Slow { consumer, factor: s.factor });
        }
        if let Some(r) = &a.rate {
            let producer = find_producer(format!("{path}.rate.producer"), &r.producer)?;
            if r.rate.0 > 1e9 {
                return Err(
                    ck.err(format!("{path}.rate.rate"), "must be at most 1000000000/s (one record per nanosecond)")
                );
            }
            actions.push(Action::Rate { producer, rate: r.rate.0 });
        }
        if let Some(sk) = &a.seek {
            let consumer = find_consumer(format!("{path}.seek.consumer"), &sk.consumer)?;
            let topic = find_topic(format!("{path}.seek.topic"), &sk.topic)?;
            if !groups[consumer.0].topics.contains(&topic) {
                return Err(ck.err(
                    format!("{path}.seek.topic"),
                    format!("consumer `{}` does not subscribe to topic `{}`", sk.consumer, sk.topic),
                ));
            }
            if let Some(p) = sk.partition.filter(|p| *p >= topics[topic].max_partitions) {
                return Err(ck.err(
                    format!("{path}.seek.partition"),
                    format!(
                        "topic `{}` has no partition {p} (partitions 0..{})",
                        sk.topic,
                        topics[topic].max_partitions - 1
                    ),
                ));
            }
            actions.push(Action::Seek { consumer, topic, partition: sk.partition, to: sk.to.clone() });
        }
        if let Some(r) = &a.reset_offsets {
            let group = group_ids
                .get(&r.group)
                .copied()
                .ok_or_else(|| ck.err(format!("{path}.reset_offsets.group"), format!("unknown group `{}`", r.group)))?;
            let topic = find_topic(format!("{path}.reset_offsets.topic"), &r.topic)?;
            actions.push(Action::ResetOffsets { group, topic, to: r.to.clone() });
        }
        for (field, target, resume) in [("pause", &a.pause, false), ("resume", &a.resume, true)] {
            match target {
                Some(RawPauseTarget::Consumer(c)) => {
                    let c = find_consumer(format!("{path}.{field}"), c)?;
                    actions.push(if resume { Action::Resume(c) } else { Action::Pause(c) });
                }
                Some(RawPauseTarget::Producer(p)) => {
                    let p = find_producer(format!("{path}.{field}.producer"), p)?;
                    actions.push(if resume { Action::ResumeProducer(p) } else { Action::PauseProducer(p) });
                }
                None => {}
            }
        }
        if let Some(g) = &a.add_group {
            actions.push(Action::AddGroup(group_ids[&g.id]));
        }
        if let Some(id) = &a.remove_group {
            let group = group_ids
                .get(id)
                .copied()
                .ok_or_else(|| ck.err(format!("{path}.remove_group"), format!("unknown group `{id}`")))?;
            actions.push(Action::RemoveGroup(group));
        }
        if let Some(ac) = &a.add_consumer {
            actions.push(Action::AddConsumer(consumer_index[&ac.name]));
        }
        if let Some(ap) = &a.add_partitions {
            let topic = find_topic(format!("{path}.add_partitions.topic"), &ap.topic)?;
            partition_changes.push((a.at.0, i, topic, ap.count));
            actions.push(Action::AddPartitions { topic, count: ap.count });
        }
        // Share consumers have no seek, pause or assign, and a share group's offsets are reset
        // only while it is empty (kafka-share-groups.sh), which a timeline cannot promise.
        let share_consumer = |c: &ConsumerRef| groups[c.0].kind == GroupType::Share;
        let refused = actions.iter().find_map(|a| match a {
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
        });
        if let Some((what, why)) = refused {
            return Err(ck.err(path, format!("`{what}` does not apply to a share group: {why}")));
        }
        if actions.len() != 1 {
            return Err(ck.err(
                path,
                format!("each timeline entry takes `at` and exactly one action ({ACTIONS}); found {}", actions.len()),
            ));
        }
        timeline.push(TimedAction { at: a.at.0, action: actions.pop().expect("one action") });
    }
    // Kafka only ever adds partitions: each change must grow the topic.
    partition_changes.sort_by_key(|c| (c.0, c.1));
    let mut topics = topics;
    let mut current: Vec<u32> = topics.iter().map(|t| t.partitions).collect();
    for (_, i, t, count) in partition_changes {
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
    timeline.sort_by_key(|a| a.at);

    let burrow = burrow::check_burrow(&ck, raw.burrow.as_ref())?;
    let expect = super::expect::parse(file, &raw.expect)?;
    Ok(Plan {
        name: raw.name,
        description: raw.description.unwrap_or_default(),
        seed: raw.seed.unwrap_or(0),
        duration,
        sample_interval,
        network_delay: raw.network_delay.map_or(SimDuration::ZERO, |d| d.0),
        retention_check_interval: raw
            .log_retention_check_interval_ms
            .map_or(defaults::RETENTION_CHECK_INTERVAL, |d| d.0)
            .max(SimDuration::from_millis(1)),
        initial_task_delay: raw.log_initial_task_delay_ms.map_or(defaults::INITIAL_TASK_DELAY, |d| d.0),
        burrow,
        topics,
        producers,
        groups,
        timeline,
        source: String::new(),
        file_seed: raw.seed.unwrap_or(0),
        expect,
    })
}
