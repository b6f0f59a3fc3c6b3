//! The share-group side of validation: a group's `type`, its `share_*` settings within the
//! broker's bounds, and the settings that belong to only one kind of group.

use super::error::ScenarioError;
use super::plan::{SharePlan, defaults};
use super::raw::{GroupType, RawConsumer, RawGroup};
use crate::sim::SimDuration;

const SECOND: SimDuration = SimDuration(1_000_000_000);

/// The share group's settings, each inside the bounds a Kafka 4.3 broker enforces for a group
/// override (GroupConfig.validateValues against GroupCoordinatorConfig / ShareGroupConfig).
pub fn share_plan(file: &str, path: &str, g: &RawGroup) -> Result<SharePlan, ScenarioError> {
    let err = |field: &str, msg: String| ScenarioError::field(file, format!("{path}.{field}"), msg);
    // The durations are checked first, then the counts: only the first error is reported.
    let times = share_times(g, &err)?;
    let (delivery_limit, window_limit) = share_counts(g, &err)?;
    Ok(SharePlan {
        lock: times.lock,
        delivery_limit,
        window_limit,
        auto_offset_reset: g.share_auto_offset_reset.unwrap_or(super::raw::ShareOffsetReset::Latest),
        heartbeat_interval: times.heartbeat_interval,
        session_timeout: times.session_timeout,
        assignment_interval: times.assignment_interval,
    })
}

/// A share group's durations, each checked against the broker's bounds.
struct ShareTimes {
    lock: SimDuration,
    heartbeat_interval: SimDuration,
    session_timeout: SimDuration,
    assignment_interval: SimDuration,
}

/// The record lock duration, heartbeat interval, session timeout and assignment interval, in
/// that order, each within the broker's bounds in seconds (or its default).
fn share_times(g: &RawGroup, err: &impl Fn(&str, String) -> ScenarioError) -> Result<ShareTimes, ScenarioError> {
    let within = |field: &str, v: Option<SimDuration>, d: SimDuration, lo: u64, hi: u64, broker: &str| {
        let v = v.unwrap_or(d);
        if v < SimDuration(SECOND.0 * lo) || v > SimDuration(SECOND.0 * hi) {
            return Err(err(
                field,
                format!("{v} is outside the broker's bounds for a share group, {lo}s to {hi}s ({broker}; default {d})"),
            ));
        }
        Ok(v)
    };
    let lock = within(
        "share_record_lock_duration_ms",
        g.share_record_lock_duration_ms.map(|d| d.0),
        defaults::SHARE_LOCK,
        15,
        60,
        "group.share.min/max.record.lock.duration.ms",
    )?;
    let heartbeat_interval = within(
        "share_heartbeat_interval_ms",
        g.share_heartbeat_interval_ms.map(|d| d.0),
        defaults::SHARE_HEARTBEAT_INTERVAL,
        5,
        15,
        "group.share.min/max.heartbeat.interval.ms",
    )?;
    let session_timeout = within(
        "share_session_timeout_ms",
        g.share_session_timeout_ms.map(|d| d.0),
        defaults::SHARE_SESSION_TIMEOUT,
        45,
        60,
        "group.share.min/max.session.timeout.ms",
    )?;
    let assignment_interval = within(
        "share_assignment_interval_ms",
        g.share_assignment_interval_ms.map(|d| d.0),
        defaults::SHARE_ASSIGNMENT_INTERVAL,
        0,
        15,
        "group.share.min/max.assignment.interval.ms",
    )?;
    Ok(ShareTimes { lock, heartbeat_interval, session_timeout, assignment_interval })
}

/// The delivery count limit and the most record locks a partition may hold, within the
/// broker's bounds (or their defaults).
fn share_counts(g: &RawGroup, err: &impl Fn(&str, String) -> ScenarioError) -> Result<(u8, u64), ScenarioError> {
    let limit = g.share_delivery_count_limit.unwrap_or(u32::from(defaults::SHARE_DELIVERY_LIMIT));
    if !(2..=10).contains(&limit) {
        return Err(err(
            "share_delivery_count_limit",
            format!(
                "{limit} is outside the broker's bounds for a share group, 2 to 10 (group.share.min/max.delivery.count.limit; default 5)"
            ),
        ));
    }
    let window_limit = g.share_partition_max_record_locks.unwrap_or(defaults::SHARE_WINDOW);
    if !(100..=4000).contains(&window_limit) {
        return Err(err(
            "share_partition_max_record_locks",
            format!(
                "{window_limit} is outside the broker's bounds for a share group, 100 to 4000 (group.share.min/max.partition.max.record.locks; default 2000)"
            ),
        ));
    }
    Ok((limit as u8, window_limit))
}

/// Settings of one kind of group set on the other kind: named, with what to use instead.
pub fn check_fields_apply(
    file: &str,
    path: &str,
    kind: GroupType,
    g: &RawGroup,
    base: &RawConsumer,
    consumers: &[(String, &RawConsumer)],
) -> Result<(), ScenarioError> {
    // The group's fields first, then its consumers' (the group's defaults first): only the
    // first error is reported.
    let mut all: Vec<(String, &RawConsumer)> = vec![(path.to_string(), base)];
    all.extend(consumers.iter().map(|(p, c)| (p.clone(), *c)));
    match kind {
        GroupType::Share => {
            share_group_fields(file, path, g)?;
            for (at, c) in all {
                share_consumer_fields(file, &at, c, base)?;
            }
        }
        GroupType::Consumer => {
            consumer_group_fields(file, path, g)?;
            for (at, c) in all {
                consumer_group_consumer_fields(file, &at, c)?;
            }
        }
    }
    Ok(())
}

fn field_error(file: &str, at: &str, field: &str, msg: &str) -> Result<(), ScenarioError> {
    Err(ScenarioError::field(file, format!("{at}.{field}"), msg))
}

/// A share group's own settings that belong to consumer groups only.
fn share_group_fields(file: &str, path: &str, g: &RawGroup) -> Result<(), ScenarioError> {
    let group_only: [(&str, bool, &str); 6] = [
        (
            "protocol",
            g.protocol.is_some(),
            "share groups have no rebalance protocol: the coordinator assigns partitions by heartbeats, with no revocation round",
        ),
        (
            "assignor",
            g.assignor.is_some(),
            "share groups always use Kafka's SimpleAssignor (group.share.assignors = simple)",
        ),
        (
            "group_initial_rebalance_delay_ms",
            g.group_initial_rebalance_delay_ms.is_some(),
            "share groups have no join phase to delay; see share_assignment_interval_ms",
        ),
        ("push_buffer", g.push_buffer.is_some(), "share groups pull (delivery: pull)"),
        ("push_overflow", g.push_overflow.is_some(), "share groups pull (delivery: pull)"),
        ("push_batch_max", g.push_batch_max.is_some(), "share groups pull (delivery: pull)"),
    ];
    for (field, set, why) in group_only {
        if set {
            return field_error(file, path, field, &format!("does not apply to a share group (type: share): {why}"));
        }
    }
    if g.delivery == Some(super::raw::Delivery::Push) {
        return field_error(
            file,
            path,
            "delivery",
            "a share group pulls: Kafka's share consumers fetch (delivery: pull)",
        );
    }
    Ok(())
}

/// A share consumer's settings that belong to a consumer group's consumers only, and the
/// outcomes only explicit acknowledgement can give.
fn share_consumer_fields(file: &str, at: &str, c: &RawConsumer, base: &RawConsumer) -> Result<(), ScenarioError> {
    let client_only: [(&str, bool, &str); 7] = [
        (
            "commit",
            c.commit.is_some(),
            "share consumers acknowledge records instead of committing offsets (see share_acknowledgement_mode)",
        ),
        (
            "auto_commit_interval_ms",
            c.auto_commit_interval_ms.is_some(),
            "share consumers acknowledge records instead of committing offsets",
        ),
        (
            "auto_offset_reset",
            c.auto_offset_reset.is_some(),
            "the share consumer rejects it; use the group's share_auto_offset_reset",
        ),
        (
            "session_timeout_ms",
            c.session_timeout_ms.is_some(),
            "the share consumer rejects it; use the group's share_session_timeout_ms",
        ),
        (
            "heartbeat_interval_ms",
            c.heartbeat_interval_ms.is_some(),
            "the share consumer rejects it; use the group's share_heartbeat_interval_ms",
        ),
        (
            "group_instance_id",
            c.group_instance_id.is_some(),
            "share groups have no static membership (the share consumer rejects group.instance.id)",
        ),
        ("consumer_memory", c.consumer_memory.is_some(), "it bounds a push buffer, and share groups pull"),
    ];
    for (field, set, why) in client_only {
        if set {
            return field_error(file, at, field, &format!("does not apply to a share group (type: share): {why}"));
        }
    }
    if c.share_acknowledgement_mode != Some(super::raw::ShareAcknowledgementMode::Explicit) {
        for (field, set) in [("outcome", c.outcome.is_some()), ("poison", c.poison.is_some())] {
            if set && !explicit_in_group(base) {
                return field_error(
                    file,
                    at,
                    field,
                    "needs share_acknowledgement_mode: explicit (in implicit mode the next poll accepts every record the last one returned, so the application cannot release or reject one)",
                );
            }
        }
    }
    Ok(())
}

/// A consumer group's own settings that belong to share groups only.
fn consumer_group_fields(file: &str, path: &str, g: &RawGroup) -> Result<(), ScenarioError> {
    let share_only: [(&str, bool); 7] = [
        ("share_record_lock_duration_ms", g.share_record_lock_duration_ms.is_some()),
        ("share_delivery_count_limit", g.share_delivery_count_limit.is_some()),
        ("share_partition_max_record_locks", g.share_partition_max_record_locks.is_some()),
        ("share_auto_offset_reset", g.share_auto_offset_reset.is_some()),
        ("share_heartbeat_interval_ms", g.share_heartbeat_interval_ms.is_some()),
        ("share_session_timeout_ms", g.share_session_timeout_ms.is_some()),
        ("share_assignment_interval_ms", g.share_assignment_interval_ms.is_some()),
    ];
    for (field, set) in share_only {
        if set {
            return field_error(file, path, field, "applies only to a share group; add `type: share` to the group");
        }
    }
    Ok(())
}

/// A consumer group's consumer's settings that belong to share consumers only.
fn consumer_group_consumer_fields(file: &str, at: &str, c: &RawConsumer) -> Result<(), ScenarioError> {
    for (field, set) in [
        ("share_acquire_mode", c.share_acquire_mode.is_some()),
        ("share_acknowledgement_mode", c.share_acknowledgement_mode.is_some()),
        ("outcome", c.outcome.is_some()),
        ("poison", c.poison.is_some()),
    ] {
        if set {
            return field_error(
                file,
                at,
                field,
                "applies only to a share group's consumers (a consumer group's consumers commit offsets and cannot release or reject a record); add `type: share` to the group",
            );
        }
    }
    Ok(())
}

fn explicit_in_group(base: &RawConsumer) -> bool {
    base.share_acknowledgement_mode == Some(super::raw::ShareAcknowledgementMode::Explicit)
}
