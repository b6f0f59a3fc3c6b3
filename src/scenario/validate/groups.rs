//! The `groups:` section, with the groups and consumers the timeline adds: each group's id,
//! subscriptions, rebalance protocol and assignor, kind, consumers and push delivery.

use super::Checker;
use super::bounds::{MAX_PUSH_BATCH, MAX_PUSH_BUFFER};
use super::config;
use super::consumer_protocol;
use super::consumers::{self, ConsumerNames};
use super::topics::TopicNames;
use crate::scenario::error::ScenarioError;
use crate::scenario::plan::{
    AssignorKind, ConsumerProtocolPlan, ConsumerRef, Delivery, GroupPlan, GroupType, PushConfig, PushOverflow,
    RebalanceProtocol, SharePlan, TopicPlan, defaults,
};
use crate::scenario::raw::{RawAddConsumer, RawConsumer, RawConsumers, RawGroup, RawScenario};
use crate::scenario::share;
use crate::scenario::units::Dur;
use crate::sim::SimDuration;
use std::collections::BTreeMap;

/// A group as written, where it is written, and when the timeline adds it (`None`: there from
/// the start).
pub(super) struct RawGroupAt {
    pub(super) path: String,
    pub(super) group: RawGroup,
    pub(super) added_at: Option<SimDuration>,
}

/// The checked groups, each group's index by id and each consumer's (group, index) by name.
pub(super) struct CheckedGroups {
    pub(super) groups: Vec<GroupPlan>,
    pub(super) group_ids: BTreeMap<String, usize>,
    pub(super) consumer_index: BTreeMap<String, ConsumerRef>,
}

/// One group being checked, and what its consumers are checked against.
pub(super) struct GroupScope<'a> {
    pub(super) path: &'a str,
    pub(super) index: usize,
    pub(super) group: &'a RawGroup,
    pub(super) added_at: Option<SimDuration>,
    /// The group's own settings, under each consumer's.
    pub(super) base: RawConsumer,
    /// The topics the group subscribes to.
    pub(super) subscribed: Vec<usize>,
    pub(super) topics: &'a [TopicPlan],
    pub(super) duration: SimDuration,
}

/// The file's groups, then those the timeline adds, in that order.
pub(super) fn check_groups(
    ck: &Checker,
    raw: &RawScenario,
    duration: SimDuration,
    topics: &TopicNames,
) -> Result<CheckedGroups, ScenarioError> {
    let raw_groups = with_timeline_additions(ck, raw)?;
    let mut groups = Vec::new();
    let mut group_ids = BTreeMap::new();
    let mut names = ConsumerNames::new(&raw_groups);
    for (gi, entry) in raw_groups.iter().enumerate() {
        groups.push(check_group(ck, gi, entry, duration, topics, &mut group_ids, &mut names)?);
    }
    Ok(CheckedGroups { groups, group_ids, consumer_index: names.index })
}

/// Groups and consumers added by the timeline are validated like the file's own, starting
/// when they are added: the file's groups, then each `add_group`, each with the consumers that
/// `add_consumer` entries add to it.
fn with_timeline_additions(ck: &Checker, raw: &RawScenario) -> Result<Vec<RawGroupAt>, ScenarioError> {
    let mut raw_groups: Vec<RawGroupAt> = raw
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| RawGroupAt { path: format!("groups[{i}]"), group: g.clone(), added_at: None })
        .collect();
    for (i, a) in raw.timeline.iter().enumerate() {
        if let Some(g) = &a.add_group {
            raw_groups.push(RawGroupAt {
                path: format!("timeline[{i}].add_group"),
                group: g.clone(),
                added_at: Some(a.at.0),
            });
        }
    }
    for (i, a) in raw.timeline.iter().enumerate() {
        let Some(ac) = &a.add_consumer else { continue };
        add_timeline_consumer(ck, &mut raw_groups, i, a.at.0, ac)?;
    }
    Ok(raw_groups)
}

/// Timeline entry `i` adds consumer `ac` at `at`: its group must exist by then.
fn add_timeline_consumer(
    ck: &Checker,
    raw_groups: &mut [RawGroupAt],
    i: usize,
    at: SimDuration,
    ac: &RawAddConsumer,
) -> Result<(), ScenarioError> {
    let path = format!("timeline[{i}].add_consumer");
    let Some(entry) = raw_groups.iter_mut().find(|e| e.group.id == ac.group) else {
        return Err(ck.err(format!("{path}.group"), format!("unknown group `{}`", ac.group)));
    };
    if let Some(added) = entry.added_at.filter(|&t| t > at) {
        return Err(ck.err(format!("{path}.at"), format!("group `{}` is added only at {}", ac.group, added)));
    }
    let g = &mut entry.group;
    // Taken, not cloned: a long timeline of add_consumer stays linear.
    let mut list = match std::mem::take(&mut g.consumers) {
        RawConsumers::Count(n) => consumers_by_count(&g.id, n),
        RawConsumers::List(l) => l,
    };
    list.push(timeline_consumer(ac, at));
    g.consumers = RawConsumers::List(list);
    Ok(())
}

/// `consumers: N`: N consumers named `<group id>-1` to `<group id>-N`.
fn consumers_by_count(id: &str, n: u32) -> Vec<RawConsumer> {
    (1..=n).map(|k| RawConsumer { name: format!("{id}-{k}"), ..Default::default() }).collect()
}

/// An `add_consumer` entry as a consumer of its group, starting when it is added.
fn timeline_consumer(ac: &RawAddConsumer, at: SimDuration) -> RawConsumer {
    RawConsumer {
        name: ac.name.clone(),
        start_at: Some(Dur(at)),
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
    }
}

/// Group `gi`, its consumers recorded in `names`.
fn check_group(
    ck: &Checker,
    gi: usize,
    entry: &RawGroupAt,
    duration: SimDuration,
    topics: &TopicNames,
    group_ids: &mut BTreeMap<String, usize>,
    names: &mut ConsumerNames,
) -> Result<GroupPlan, ScenarioError> {
    let RawGroupAt { path, group: g, added_at } = entry;
    check_group_id(ck, path, g, gi, group_ids)?;
    let subscribed = check_subscriptions(ck, path, g, topics)?;
    let base = config::settings_of_group(g);
    let raw_consumers = match &g.consumers {
        RawConsumers::Count(n) => consumers_by_count(&g.id, *n),
        RawConsumers::List(list) => list.clone(),
    };
    // Before the assignor is read: a consumer-protocol group's `assignor` is refused as such.
    consumer_protocol::check_fields_apply(ck, path, g, &base, &raw_consumers)?;
    let (protocol, assignor) = check_protocol_and_assignor(ck, path, g)?;
    let scope = GroupScope {
        path,
        index: gi,
        group: g,
        added_at: *added_at,
        base,
        subscribed,
        topics: topics.topics,
        duration,
    };
    let (kind, share) = check_kind(ck, &scope, &raw_consumers)?;
    let consumer_protocol = match protocol {
        RebalanceProtocol::Consumer => consumer_protocol::consumer_protocol_plan(ck, path, g)?,
        RebalanceProtocol::Eager | RebalanceProtocol::Cooperative => ConsumerProtocolPlan::default(),
    };
    let consumers = consumers::check_consumers(ck, &scope, &raw_consumers, names)?;
    let push = check_push(ck, path, g)?;
    Ok(GroupPlan {
        delivery: g.delivery.unwrap_or(Delivery::Pull),
        push,
        added_at: *added_at,
        id: g.id.clone(),
        topics: scope.subscribed,
        protocol,
        assignor,
        initial_rebalance_delay: g.group_initial_rebalance_delay_ms.map_or(defaults::INITIAL_REBALANCE_DELAY, |d| d.0),
        consumers,
        kind,
        share,
        consumer_protocol,
    })
}

/// The id: not empty, not too long, not taken by an earlier group.
fn check_group_id(
    ck: &Checker,
    path: &str,
    g: &RawGroup,
    gi: usize,
    group_ids: &mut BTreeMap<String, usize>,
) -> Result<(), ScenarioError> {
    if g.id.is_empty() {
        return Err(ck.err(format!("{path}.id"), "a group id cannot be empty"));
    }
    ck.check_name_length(format!("{path}.id"), &g.id)?;
    if group_ids.insert(g.id.clone(), gi).is_some() {
        return Err(ck.err(format!("{path}.id"), format!("group `{}` is defined twice", g.id)));
    }
    Ok(())
}

/// At least one topic, each defined and listed once: their indexes, in the order listed.
fn check_subscriptions(
    ck: &Checker,
    path: &str,
    g: &RawGroup,
    topics: &TopicNames,
) -> Result<Vec<usize>, ScenarioError> {
    if g.topics.is_empty() {
        return Err(ck.err(format!("{path}.topics"), "a group must subscribe to at least one topic"));
    }
    let mut gtopics = Vec::new();
    for (ti, t) in g.topics.iter().enumerate() {
        let idx = topics.find(ck, format!("{path}.topics[{ti}]"), t)?;
        if gtopics.contains(&idx) {
            return Err(ck.err(format!("{path}.topics[{ti}]"), format!("topic `{t}` is listed twice")));
        }
        gtopics.push(idx);
    }
    Ok(gtopics)
}

/// The rebalance protocol and an assignor that supports it.
fn check_protocol_and_assignor(
    ck: &Checker,
    path: &str,
    g: &RawGroup,
) -> Result<(RebalanceProtocol, AssignorKind), ScenarioError> {
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
            // Unused: a consumer-protocol group's assignor runs on the broker (`remote_assignor`).
            RebalanceProtocol::Consumer => AssignorKind::Range,
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
    Ok((protocol, assignor))
}

/// The group's kind and a share group's settings; settings that belong to the other kind are
/// refused, on the group or on any of its consumers.
fn check_kind(
    ck: &Checker,
    scope: &GroupScope,
    raw_consumers: &[RawConsumer],
) -> Result<(GroupType, SharePlan), ScenarioError> {
    let g = scope.group;
    let kind = g.kind.unwrap_or(GroupType::Consumer);
    let with_paths: Vec<(String, &RawConsumer)> =
        raw_consumers.iter().enumerate().map(|(ci, c)| (format!("{}.consumers[{ci}]", scope.path), c)).collect();
    share::check_fields_apply(ck.file, scope.path, kind, g, &scope.base, &with_paths)?;
    let share = match kind {
        GroupType::Share => share::share_plan(ck.file, scope.path, g)?,
        GroupType::Consumer => SharePlan::default(),
    };
    Ok((kind, share))
}

/// Push delivery: the consumer's buffer and the records per push message within bounds.
fn check_push(ck: &Checker, path: &str, g: &RawGroup) -> Result<PushConfig, ScenarioError> {
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
    Ok(push)
}
