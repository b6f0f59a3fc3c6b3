//! Raw scenario -> checked [`Plan`]: defaults filled in, names resolved, every rule checked.
//! Each error names the field path and what is allowed.

use super::error::ScenarioError;
use super::plan::AssignorKind;
use super::plan::*;
use super::raw::*;
use crate::sim::SimDuration;
use std::collections::BTreeMap;

mod bounds;
mod burrow;
mod config;
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

    // Groups and consumers added by the timeline are validated like the file's own, starting
    // when they are added.
    let mut raw_groups: Vec<(String, RawGroup, Option<SimDuration>)> =
        raw.groups.iter().enumerate().map(|(i, g)| (format!("groups[{i}]"), g.clone(), None)).collect();
    for (i, a) in raw.timeline.iter().enumerate() {
        if let Some(g) = &a.add_group {
            raw_groups.push((format!("timeline[{i}].add_group"), g.clone(), Some(a.at.0)));
        }
    }
    let mut added_consumers: BTreeMap<String, SimDuration> = BTreeMap::new();
    for (i, a) in raw.timeline.iter().enumerate() {
        let Some(ac) = &a.add_consumer else { continue };
        let path = format!("timeline[{i}].add_consumer");
        let Some((_, g, added)) = raw_groups.iter_mut().find(|(_, g, _)| g.id == ac.group) else {
            return Err(ck.err(format!("{path}.group"), format!("unknown group `{}`", ac.group)));
        };
        if added.is_some_and(|t| t > a.at.0) {
            return Err(
                ck.err(format!("{path}.at"), format!("group `{}` is added only at {}", ac.group, added.unwrap()))
            );
        }
        // Taken, not cloned: a long timeline of add_consumer stays linear.
        let mut list = match std::mem::take(&mut g.consumers) {
            RawConsumers::Count(n) => {
                (1..=n).map(|k| RawConsumer { name: format!("{}-{k}", g.id), ..Default::default() }).collect()
            }
            RawConsumers::List(l) => l,
        };
        list.push(RawConsumer {
            name: ac.name.clone(),
            start_at: Some(super::units::Dur(a.at.0)),
            group_instance_id: ac.group_instance_id.clone(),
            consumer_memory: ac.consumer_memory,
            poll_interval: ac.poll_interval,
            max_poll_records: ac.max_poll_records,
            fetch_max_wait_ms: ac.fetch_max_wait_ms,
            processing: ac.processing.clone(),
            commit: ac.commit,
            auto_commit_interval_ms: ac.auto_commit_interval_ms,
            auto_offset_reset: ac.auto_offset_reset,
            session_timeout_ms: ac.session_timeout_ms,
            heartbeat_interval_ms: ac.heartbeat_interval_ms,
            max_poll_interval_ms: ac.max_poll_interval_ms,
            share_acquire_mode: ac.share_acquire_mode,
            share_acknowledgement_mode: ac.share_acknowledgement_mode,
            outcome: ac.outcome,
            poison: ac.poison.clone(),
        });
        g.consumers = RawConsumers::List(list);
        added_consumers.insert(ac.name.clone(), a.at.0);
    }

    let mut groups = Vec::new();
    let mut group_ids = BTreeMap::new();
    let mut consumer_index: BTreeMap<String, ConsumerRef> = BTreeMap::new();
    for (gi, (path, g, added_at)) in raw_groups.iter().enumerate() {
        let path = path.clone();
        if g.id.is_empty() {
            return Err(ck.err(format!("{path}.id"), "a group id cannot be empty"));
        }
        ck.check_name_length(format!("{path}.id"), &g.id)?;
        if group_ids.insert(g.id.clone(), gi).is_some() {
            return Err(ck.err(format!("{path}.id"), format!("group `{}` is defined twice", g.id)));
        }
        if g.topics.is_empty() {
            return Err(ck.err(format!("{path}.topics"), "a group must subscribe to at least one topic"));
        }
        let mut gtopics = Vec::new();
        for (ti, t) in g.topics.iter().enumerate() {
            let idx = find_topic(format!("{path}.topics[{ti}]"), t)?;
            if gtopics.contains(&idx) {
                return Err(ck.err(format!("{path}.topics[{ti}]"), format!("topic `{t}` is listed twice")));
            }
            gtopics.push(idx);
        }
        // Kafka picks the newest protocol every configured assignor supports: cooperative-sticky
        // alone means cooperative, so that is the default when it is the assignor.
        let cooperative_assignor = g.assignor.as_deref() == Some("cooperative-sticky");
        let protocol = g.protocol.unwrap_or(if cooperative_assignor {
            RebalanceProtocol::Cooperative
        } else {
            RebalanceProtocol::Eager
        });
        if protocol == RebalanceProtocol::Eager && cooperative_assignor {
            return Err(ck.err(
                format!("{path}.protocol"),
                "with assignor: cooperative-sticky alone Kafka's protocol is cooperative; for an eager group use assignor: sticky (or range, roundrobin)",
            ));
        }
        let assignor = match &g.assignor {
            None => match protocol {
                RebalanceProtocol::Eager => AssignorKind::Range,
                RebalanceProtocol::Cooperative => AssignorKind::CooperativeSticky,
            },
            Some(name) => AssignorKind::parse(name).ok_or_else(|| {
                ck.err(
                    format!("{path}.assignor"),
                    format!("unknown assignor `{name}`; allowed: range, roundrobin, sticky, cooperative-sticky"),
                )
            })?,
        };
        if protocol == RebalanceProtocol::Cooperative && !assignor.supports_cooperative() {
            return Err(ck.err(
                format!("{path}.assignor"),
                format!(
                    "`{}` supports only the eager protocol; protocol: cooperative needs assignor: cooperative-sticky",
                    assignor.name()
                ),
            ));
        }
        let base = config::settings_of_group(g);
        let raw_consumers: Vec<RawConsumer> = match &g.consumers {
            RawConsumers::Count(n) => {
                (1..=*n).map(|i| RawConsumer { name: format!("{}-{i}", g.id), ..Default::default() }).collect()
            }
            RawConsumers::List(list) => list.clone(),
        };
        let kind = g.kind.unwrap_or(GroupType::Consumer);
        let with_paths: Vec<(String, &RawConsumer)> =
            raw_consumers.iter().enumerate().map(|(ci, c)| (format!("{path}.consumers[{ci}]"), c)).collect();
        super::share::check_fields_apply(file, &path, kind, g, &base, &with_paths)?;
        let share = match kind {
            GroupType::Share => super::share::share_plan(file, &path, g)?,
            GroupType::Consumer => SharePlan::default(),
        };
        if raw_consumers.is_empty() {
            return Err(ck.err(format!("{path}.consumers"), "a group needs at least one consumer"));
        }
        let mut consumers = Vec::new();
        // The group's own settings first, so a mistake written on the group is named there
        // (not at its first consumer).
        config::resolve_config(&ck, &path, &base, &RawConsumer::default())?;
        let mut instance_ids = BTreeMap::new();
        for (ci, c) in raw_consumers.iter().enumerate() {
            let cpath = format!("{path}.consumers[{ci}]");
            if c.name.is_empty() {
                return Err(ck.err(format!("{cpath}.name"), "a consumer name cannot be empty"));
            }
            ck.check_name_length(format!("{cpath}.name"), &c.name)?;
            if let Some((og, _)) = consumer_index.insert(c.name.clone(), (gi, ci)) {
                return Err(ck.err(
                    format!("{cpath}.name"),
                    format!(
                        "consumer `{}` is named twice (also in group `{}`); names are unique across groups",
                        c.name, raw_groups[og].1.id
                    ),
                ));
            }
            if let Some(iid) = &c.group_instance_id
                && instance_ids.insert(iid.clone(), ci).is_some()
            {
                return Err(ck.err(
                    format!("{cpath}.group_instance_id"),
                    format!("group_instance_id `{iid}` is used twice in group `{}`", g.id),
                ));
            }
            let config = config::resolve_config(&ck, &cpath, &base, c)?;
            let start = c.start_at.map_or(added_at.unwrap_or(SimDuration::ZERO), |d| d.0);
            if start > duration {
                return Err(ck.err(
                    format!("{cpath}.start_at"),
                    format!("{start} is after the end of the run (duration: {duration})"),
                ));
            }
            if let Some(t) = added_at.filter(|t| start < *t) {
                return Err(ck.err(format!("{cpath}.start_at"), format!("must not be before the group is added ({t})")));
            }
            let start_at = Some(start);
            if c.consumer_memory == Some(0) {
                return Err(ck.err(format!("{cpath}.consumer_memory"), "must be at least 1 byte"));
            }
            let poison = match c.poison.as_ref().or(base.poison.as_ref()) {
                None => None,
                Some(p) => {
                    let at = if c.poison.is_some() { format!("{cpath}.poison") } else { format!("{path}.poison") };
                    let Some(&topic) = gtopics.iter().find(|&&t| topics[t].name == p.topic) else {
                        return Err(ck.err(
                            format!("{at}.topic"),
                            format!("group `{}` does not subscribe to topic `{}`", g.id, p.topic),
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
                    Some((topic, p.partition, offsets))
                }
            };
            consumers.push(ConsumerPlan {
                name: c.name.clone(),
                start_at,
                group_instance_id: c.group_instance_id.clone(),
                consumer_memory: c.consumer_memory,
                config,
                poison,
            });
        }
        let push = PushConfig {
            buffer: g.push_buffer.unwrap_or(defaults::PUSH_BUFFER),
            overflow: g.push_overflow.unwrap_or(PushOverflow::Block),
            batch_max: g.push_batch_max.unwrap_or(defaults::PUSH_BATCH_MAX),
        };
        if push.buffer == 0 || push.buffer > MAX_PUSH_BUFFER {
            return Err(ck.err(
                format!("{path}.push_buffer"),
                format!("{} is not allowed; 1 to {MAX_PUSH_BUFFER} records (default: 1000)", push.buffer),
            ));
        }
        if push.batch_max == 0 || push.batch_max > MAX_PUSH_BATCH {
            return Err(ck.err(
                format!("{path}.push_batch_max"),
                format!("{} is not allowed; 1 to {MAX_PUSH_BATCH} records (default: 500)", push.batch_max),
            ));
        }
        groups.push(GroupPlan {
            delivery: g.delivery.unwrap_or(Delivery::Pull),
            push,
            added_at: *added_at,
            id: g.id.clone(),
            topics: gtopics,
            protocol,
            assignor,
            initial_rebalance_delay: g
                .group_initial_rebalance_delay_ms
                .map_or(defaults::INITIAL_REBALANCE_DELAY, |d| d.0),
            consumers,
            kind,
            share,
        });
    }

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
