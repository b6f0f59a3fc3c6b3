//! A consumer's settings: its own, else its group's, else Kafka's defaults; then checked.

use super::Checker;
use super::bounds::{MAX_POLL_RECORDS, MAX_SIGMA};
use crate::scenario::error::ScenarioError;
use crate::scenario::plan::*;
use crate::scenario::raw::{RawConsumer, RawGroup};
use crate::sim::SimDuration;

/// The group's settings as a consumer entry, so group and consumer resolve with one rule.
pub(super) fn settings_of_group(g: &RawGroup) -> RawConsumer {
    RawConsumer {
        name: String::new(),
        start_at: None,
        group_instance_id: None,
        consumer_memory: None,
        poll_interval: g.poll_interval,
        max_poll_records: g.max_poll_records,
        fetch_max_wait_ms: g.fetch_max_wait_ms,
        processing: g.processing.clone(),
        commit: g.commit,
        auto_commit_interval_ms: g.auto_commit_interval_ms,
        auto_offset_reset: g.auto_offset_reset,
        session_timeout_ms: g.session_timeout_ms,
        heartbeat_interval_ms: g.heartbeat_interval_ms,
        max_poll_interval_ms: g.max_poll_interval_ms,
        share_acquire_mode: g.share_acquire_mode,
        share_acknowledgement_mode: g.share_acknowledgement_mode,
        outcome: g.outcome,
        poison: g.poison.clone(),
    }
}

/// The settings consumer `c` runs with (under `path`), its group's settings `g` under them.
pub(super) fn resolve_config(
    ck: &Checker,
    path: &str,
    g: &RawConsumer,
    c: &RawConsumer,
) -> Result<ConsumerConfig, ScenarioError> {
    let cfg = merge(g, c);
    check_records_and_polling(ck, path, &cfg)?;
    check_intervals_and_timeouts(ck, path, &cfg)?;
    Ok(cfg)
}

/// Each setting from the consumer, else from its group, else Kafka's default.
fn merge(g: &RawConsumer, c: &RawConsumer) -> ConsumerConfig {
    let dur = |own: Option<SimDuration>, group: Option<SimDuration>, d: SimDuration| own.or(group).unwrap_or(d);
    ConsumerConfig {
        poll_interval: dur(c.poll_interval.map(|d| d.0), g.poll_interval.map(|d| d.0), defaults::POLL_INTERVAL),
        max_poll_records: c.max_poll_records.or(g.max_poll_records).unwrap_or(defaults::MAX_POLL_RECORDS),
        fetch_max_wait: dur(
            c.fetch_max_wait_ms.map(|d| d.0),
            g.fetch_max_wait_ms.map(|d| d.0),
            defaults::FETCH_MAX_WAIT,
        ),
        processing: c
            .processing
            .clone()
            .or_else(|| g.processing.clone())
            .unwrap_or(Processing::Constant(SimDuration::ZERO)),
        commit: c.commit.or(g.commit).unwrap_or(CommitMode::Auto),
        auto_commit_interval: dur(
            c.auto_commit_interval_ms.map(|d| d.0),
            g.auto_commit_interval_ms.map(|d| d.0),
            defaults::AUTO_COMMIT_INTERVAL,
        ),
        auto_offset_reset: c.auto_offset_reset.or(g.auto_offset_reset).unwrap_or(OffsetReset::Latest),
        session_timeout: dur(
            c.session_timeout_ms.map(|d| d.0),
            g.session_timeout_ms.map(|d| d.0),
            defaults::SESSION_TIMEOUT,
        ),
        heartbeat_interval: dur(
            c.heartbeat_interval_ms.map(|d| d.0),
            g.heartbeat_interval_ms.map(|d| d.0),
            defaults::HEARTBEAT_INTERVAL,
        ),
        max_poll_interval: dur(
            c.max_poll_interval_ms.map(|d| d.0),
            g.max_poll_interval_ms.map(|d| d.0),
            defaults::MAX_POLL_INTERVAL,
        ),
        share_acquire_mode: c.share_acquire_mode.or(g.share_acquire_mode).unwrap_or(ShareAcquireMode::BatchOptimized),
        share_acknowledgement_mode: c
            .share_acknowledgement_mode
            .or(g.share_acknowledgement_mode)
            .unwrap_or(ShareAcknowledgementMode::Implicit),
        outcome: c
            .outcome
            .or(g.outcome)
            .map_or(Outcome::default(), |o| Outcome { release: o.release, reject: o.reject }),
    }
}

/// Outcome probabilities, max_poll_records, the processing time's spread, and that an idle
/// consumer lets time pass.
fn check_records_and_polling(ck: &Checker, path: &str, cfg: &ConsumerConfig) -> Result<(), ScenarioError> {
    let o = cfg.outcome;
    let prob = |p: f64| p.is_finite() && (0.0..=1.0).contains(&p);
    if !prob(o.release) || !prob(o.reject) || o.release + o.reject > 1.0 {
        return Err(ck.err(
            format!("{path}.outcome"),
            format!(
                "release {} and reject {} must be probabilities (0 to 1) that add up to at most 1",
                o.release, o.reject
            ),
        ));
    }
    if cfg.max_poll_records == 0 || cfg.max_poll_records > MAX_POLL_RECORDS {
        return Err(ck.err(
            format!("{path}.max_poll_records"),
            format!("{} is not allowed; 1 to {MAX_POLL_RECORDS} (Kafka's default: 500)", cfg.max_poll_records),
        ));
    }
    if let Processing::LogNormal { sigma, .. } = cfg.processing
        && sigma > MAX_SIGMA
    {
        return Err(ck.err(
            format!("{path}.processing.lognormal.sigma"),
            format!("{sigma} is not allowed; at most {MAX_SIGMA}"),
        ));
    }
    if cfg.poll_interval.is_zero() && cfg.fetch_max_wait.is_zero() {
        return Err(ck.err(
            format!("{path}.poll_interval"),
            concat!(
                "poll_interval and fetch_max_wait_ms are both 0: an idle consumer would poll forever without ",
                "time passing; set poll_interval (e.g. 100ms) or fetch_max_wait_ms (Kafka's default: 500)"
            ),
        ));
    }
    Ok(())
}

/// The commit interval, and the timeouts and intervals of group membership.
fn check_intervals_and_timeouts(ck: &Checker, path: &str, cfg: &ConsumerConfig) -> Result<(), ScenarioError> {
    if cfg.auto_commit_interval.is_zero() {
        return Err(ck.err(format!("{path}.auto_commit_interval_ms"), "must be longer than 0 (Kafka's default: 5000)"));
    }
    if cfg.session_timeout < defaults::MIN_SESSION_TIMEOUT || cfg.session_timeout > defaults::MAX_SESSION_TIMEOUT {
        return Err(ck.err(format!("{path}.session_timeout_ms"), format!(
            "{} is outside the broker's allowed range, 6s (group.min.session.timeout.ms) to 30m (group.max.session.timeout.ms)",
            cfg.session_timeout
        )));
    }
    if cfg.heartbeat_interval.is_zero() || cfg.heartbeat_interval >= cfg.session_timeout {
        return Err(ck.err(
            format!("{path}.heartbeat_interval_ms"),
            format!(
                "{} must be above 0 and below session_timeout_ms ({}); Kafka advises at most a third of it",
                cfg.heartbeat_interval, cfg.session_timeout
            ),
        ));
    }
    if cfg.max_poll_interval.is_zero() {
        return Err(ck.err(format!("{path}.max_poll_interval_ms"), "must be longer than 0 (Kafka's default: 300000)"));
    }
    Ok(())
}
