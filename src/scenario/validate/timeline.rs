//! The `timeline:` section: each entry's time and its one action, every name in it resolved;
//! actions a share group does not have are refused, added partitions must grow their topic, and
//! a broker is named by its id or as the leader of a partition that exists by then.

use super::Checker;
use super::bounds::{MAX_PARTITIONS, MAX_SLOW_FACTOR};
use super::cluster::check_broker_id;
use super::topics::TopicNames;
use crate::scenario::error::ScenarioError;
use crate::scenario::plan::{Action, BrokerRef, ConsumerRef, GroupPlan, GroupType, TimedAction, TopicPlan};
use crate::scenario::raw::{RawAction, RawBrokerTarget, RawPauseTarget};
use crate::sim::SimDuration;
use std::collections::BTreeMap;

const ACTIONS: &str = "crash, start, stop, hang, slow, rate, seek, reset_offsets, pause, resume, add_group, remove_group, add_consumer, add_partitions, crash_broker, stop_broker, start_broker, isolate_broker, slow_broker";

/// Everything a timeline entry can name, checked.
pub(super) struct Named<'a> {
    pub(super) topics: &'a TopicNames<'a>,
    pub(super) producers: &'a BTreeMap<String, usize>,
    pub(super) groups: &'a [GroupPlan],
    pub(super) group_ids: &'a BTreeMap<String, usize>,
    pub(super) consumers: &'a BTreeMap<String, ConsumerRef>,
    /// Brokers are 1..=brokers.
    pub(super) brokers: u32,
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

/// A `{leader_of: <topic>-<index>}` in entry `entry`. Whether the partition exists at `at`
/// is known only once every add_partitions is, so `finish_timeline` checks it and puts the
/// partition's global id in the action (which holds `index` until then).
pub(super) struct LeaderOf {
    entry: usize,
    at: SimDuration,
    path: String,
    topic: usize,
    index: u32,
}

/// The timeline's actions in file order (one per entry), and what is checked once all are known.
pub(super) struct CheckedTimeline {
    actions: Vec<TimedAction>,
    changes: Vec<PartitionChange>,
    leaders: Vec<LeaderOf>,
}

/// Each entry checked; the partition changes and leader_of references among them kept for
/// `finish_timeline`.
pub(super) fn check_timeline(
    ck: &Checker,
    raw: &[RawAction],
    duration: SimDuration,
    named: &Named,
) -> Result<CheckedTimeline, ScenarioError> {
    let mut checked = CheckedTimeline { actions: Vec::new(), changes: Vec::new(), leaders: Vec::new() };
    for (i, a) in raw.iter().enumerate() {
        let (action, change, leader) = check_entry(ck, i, a, duration, named)?;
        checked.actions.push(action);
        checked.changes.extend(change);
        checked.leaders.extend(leader);
    }
    Ok(checked)
}

/// The topics grow as the add_partitions say, each leader_of names a partition its topic has
/// by then, and the actions go in time order (same instant: file order).
pub(super) fn finish_timeline(
    ck: &Checker,
    topics: &mut [TopicPlan],
    mut t: CheckedTimeline,
) -> Result<Vec<TimedAction>, ScenarioError> {
    grow_partitions(ck, topics, &mut t.changes)?;
    resolve_leaders(ck, topics, &t.changes, &t.leaders, &mut t.actions)?;
    t.actions.sort_by_key(|a| a.at);
    Ok(t.actions)
}

/// Entry `i`: within the run, and exactly one action, which applies to what it names.
fn check_entry(
    ck: &Checker,
    i: usize,
    a: &RawAction,
    duration: SimDuration,
    named: &Named,
) -> Result<(TimedAction, Option<PartitionChange>, Option<LeaderOf>), ScenarioError> {
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
    let leader = broker_actions(ck, &path, a, named, &mut actions)?.map(|(path, topic, index)| LeaderOf {
        entry: i,
        at: a.at.0,
        path,
        topic,
        index,
    });
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
    Ok((TimedAction { at: a.at.0, action: actions.pop().expect("one action") }, change, leader))
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
fn grow_partitions(
    ck: &Checker,
    topics: &mut [TopicPlan],
    changes: &mut [PartitionChange],
) -> Result<(), ScenarioError> {
    changes.sort_by_key(|c| (c.at, c.entry));
    let mut current: Vec<u32> = topics.iter().map(|t| t.partitions).collect();
    for &mut PartitionChange { entry: i, topic: t, count, .. } in changes {
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

/// A broker's partition target while unresolved: the field path, the topic and the index.
type PendingLeader = (String, usize, u32);

/// crash_broker, stop_broker, start_broker, isolate_broker and slow_broker: each names a broker
/// that exists, or (all but start_broker) the leader of a partition, whose reference it returns.
fn broker_actions(
    ck: &Checker,
    path: &str,
    a: &RawAction,
    named: &Named,
    actions: &mut Vec<Action>,
) -> Result<Option<PendingLeader>, ScenarioError> {
    let mut leader = None;
    let mut target = |field: &str, b: &RawBrokerTarget, leader_ok: bool| {
        let (r, pending) = broker_target(ck, format!("{path}.{field}"), b, named, leader_ok)?;
        leader = pending.or(leader.take());
        Ok::<BrokerRef, ScenarioError>(r)
    };
    if let Some(b) = &a.crash_broker {
        actions.push(Action::CrashBroker(target("crash_broker", b, true)?));
    }
    if let Some(b) = &a.stop_broker {
        actions.push(Action::StopBroker(target("stop_broker", b, true)?));
    }
    if let Some(b) = &a.start_broker {
        actions.push(Action::StartBroker(target("start_broker", b, false)?));
    }
    if let Some(iso) = &a.isolate_broker {
        actions.push(Action::IsolateBroker {
            broker: target("isolate_broker.broker", &iso.broker, true)?,
            for_: iso.for_,
        });
    }
    if let Some(slow) = &a.slow_broker {
        actions.push(Action::SlowBroker { broker: target("slow_broker.broker", &slow.broker, true)?, lag: slow.lag });
    }
    Ok(leader)
}

/// The broker `b` names: an id within the cluster, or the leader of `<topic>-<index>` (split
/// at the last dash: topic names may hold dashes), pending until `finish_timeline`.
fn broker_target(
    ck: &Checker,
    path: String,
    b: &RawBrokerTarget,
    named: &Named,
    leader_ok: bool,
) -> Result<(BrokerRef, Option<PendingLeader>), ScenarioError> {
    let name = match b {
        RawBrokerTarget::Id(id) => return Ok((BrokerRef::Id(check_broker_id(ck, &path, *id, named.brokers)?), None)),
        RawBrokerTarget::LeaderOf(_) if !leader_ok => {
            return Err(ck.err(
                path,
                "takes a broker id only: a stopped broker leads nothing, so {leader_of: ...} cannot name it",
            ));
        }
        RawBrokerTarget::LeaderOf(name) => name,
    };
    let path = format!("{path}.leader_of");
    let split = name
        .rsplit_once('-')
        .filter(|(t, i)| !t.is_empty() && !i.is_empty() && i.bytes().all(|c| c.is_ascii_digit()))
        .and_then(|(t, i)| i.parse::<u32>().ok().map(|i| (t, i)));
    let Some((topic, index)) = split else {
        return Err(
            ck.err(path, format!("`{name}` does not name a partition; write <topic>-<partition>, e.g. orders-0"))
        );
    };
    let topic = named.topic(ck, path.clone(), topic)?;
    Ok((BrokerRef::LeaderOf(index), Some((path, topic, index))))
}

/// Each leader_of names a partition its topic has at that instant (after the add_partitions
/// before it: earlier, or at the same instant earlier in the file), and then holds that
/// partition's global id (its topic's first id + index, as `Plan::first_partition`).
fn resolve_leaders(
    ck: &Checker,
    topics: &[TopicPlan],
    changes: &[PartitionChange],
    leaders: &[LeaderOf],
    actions: &mut [TimedAction],
) -> Result<(), ScenarioError> {
    for l in leaders {
        let topic = &topics[l.topic];
        let count = changes
            .iter()
            .rfind(|c| c.topic == l.topic && (c.at, c.entry) < (l.at, l.entry))
            .map(|c| c.count)
            .unwrap_or(topic.partitions);
        if l.index >= count {
            let later = if l.index < topic.max_partitions { "; add_partitions adds it later" } else { "" };
            return Err(ck.err(
                &l.path,
                format!(
                    "topic `{}` has no partition {} at {} (partitions 0..{} by then){later}",
                    topic.name,
                    l.index,
                    l.at,
                    count - 1
                ),
            ));
        }
        let id = topics[..l.topic].iter().map(|t| t.max_partitions).sum::<u32>() + l.index;
        match &mut actions[l.entry].action {
            Action::CrashBroker(b)
            | Action::StopBroker(b)
            | Action::StartBroker(b)
            | Action::IsolateBroker { broker: b, .. }
            | Action::SlowBroker { broker: b, .. } => *b = BrokerRef::LeaderOf(id),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::scenario::plan::{Action, BrokerRef, Plan};
    use crate::scenario::{Location, ScenarioError};
    use crate::sim::SimDuration;

    /// Topics `a` (2 partitions) and `order-events` (3), three brokers, and `timeline`.
    fn text(timeline: &str) -> String {
        format!(
            "name: b\nduration: 60s\nbrokers: 3\ntopics:\n  - {{name: a, partitions: 2}}\n  - {{name: order-events, partitions: 3}}\ntimeline:\n{timeline}\n"
        )
    }

    fn plan(timeline: &str) -> Plan {
        crate::scenario::parse("b.yaml", &text(timeline)).unwrap()
    }

    fn refused(timeline: &str, path: &str, says: &str) {
        let e: ScenarioError = crate::scenario::parse("b.yaml", &text(timeline)).unwrap_err();
        assert_eq!(e.location, Location::Field(path.into()), "{timeline}: {e}");
        assert!(e.message.contains(says), "expected `{says}` in: {e}");
    }

    #[test]
    fn the_five_broker_actions_name_a_broker() {
        let p = plan(concat!(
            "  - {at: 1s, crash_broker: 1}\n  - {at: 2s, start_broker: 1}\n  - {at: 3s, stop_broker: 3}\n",
            "  - {at: 4s, isolate_broker: {broker: 2, for: 30s}}\n  - {at: 5s, slow_broker: {broker: 3, lag: 200ms}}",
        ));
        let a: Vec<&Action> = p.timeline.iter().map(|a| &a.action).collect();
        assert!(matches!(a[0], Action::CrashBroker(BrokerRef::Id(1))), "{a:?}");
        assert!(matches!(a[1], Action::StartBroker(BrokerRef::Id(1))), "{a:?}");
        assert!(matches!(a[2], Action::StopBroker(BrokerRef::Id(3))), "{a:?}");
        assert!(
            matches!(a[3], Action::IsolateBroker { broker: BrokerRef::Id(2), for_ } if *for_ == SimDuration::from_secs(30)),
            "{a:?}"
        );
        assert!(
            matches!(a[4], Action::SlowBroker { broker: BrokerRef::Id(3), lag } if *lag == SimDuration::from_millis(200)),
            "{a:?}"
        );
    }

    #[test]
    fn leader_of_is_the_partition_s_global_id_after_every_topic_has_grown() {
        // `a` grows to 4 partitions, so order-events' ids start at 4 (Plan::first_partition).
        let p = plan(concat!(
            "  - {at: 9s, crash_broker: {leader_of: order-events-2}}\n",
            "  - {at: 5s, add_partitions: {topic: a, count: 4}}\n",
            "  - {at: 5s, isolate_broker: {broker: {leader_of: a-3}, for: 1s}}",
        ));
        assert_eq!(p.first_partition(1), 4);
        // In time order: the add, the isolation (same instant, after it in the file), the crash.
        assert!(matches!(p.timeline[1].action, Action::IsolateBroker { broker: BrokerRef::LeaderOf(3), .. }));
        assert!(matches!(p.timeline[2].action, Action::CrashBroker(BrokerRef::LeaderOf(6))));
    }

    #[test]
    fn leader_of_needs_the_partition_to_exist_by_then() {
        refused(
            "  - {at: 5s, stop_broker: {leader_of: a-3}}\n  - {at: 5s, add_partitions: {topic: a, count: 4}}",
            "timeline[0].stop_broker.leader_of",
            "topic `a` has no partition 3 at 5s (partitions 0..1 by then); add_partitions adds it later",
        );
        refused("  - {at: 5s, crash_broker: {leader_of: a-2}}", "timeline[0].crash_broker.leader_of", "no partition 2");
        refused(
            "  - {at: 5s, slow_broker: {broker: {leader_of: events-0}, lag: 1ms}}",
            "timeline[0].slow_broker.broker.leader_of",
            "unknown topic `events`",
        );
        for bad in ["a", "a-", "-1", "a-x", "a-+1"] {
            refused(
                &format!("  - {{at: 5s, crash_broker: {{leader_of: \"{bad}\"}}}}"),
                "timeline[0].crash_broker.leader_of",
                "does not name a partition",
            );
        }
    }

    #[test]
    fn a_broker_id_must_exist_and_start_takes_only_an_id() {
        refused(
            "  - {at: 1s, crash_broker: 4}",
            "timeline[0].crash_broker",
            "broker 4 does not exist; brokers are 1..3",
        );
        refused("  - {at: 1s, stop_broker: 0}", "timeline[0].stop_broker", "broker 0 does not exist");
        refused(
            "  - {at: 1s, isolate_broker: {broker: -2, for: 1s}}",
            "timeline[0].isolate_broker.broker",
            "broker -2 does not exist",
        );
        refused(
            "  - {at: 1s, start_broker: {leader_of: a-0}}",
            "timeline[0].start_broker",
            "a stopped broker leads nothing",
        );
        refused("  - {at: 1s, crash_broker: 1, stop_broker: 2}", "timeline[0]", "exactly one action");
    }
}
