//! The consumer protocol's side of validation (KIP-848, `protocol: consumer`): the settings
//! Kafka refuses with it and the settings that belong to it alone, then its plan: the server-side
//! assignor, the Kafka version, and the broker's `group.consumer.*` timings within the bounds
//! Kafka's GroupCoordinatorConfig requires at startup (the same on the 4.0 to 4.4 branches).

use super::Checker;
use crate::scenario::error::ScenarioError;
use crate::scenario::plan::{ConsumerProtocolPlan, Delivery, GroupType, KafkaVersion, RebalanceProtocol, defaults};
use crate::scenario::raw::{RawConsumer, RawGroup, ServerAssignorKind};
use crate::scenario::units::MsDuration;
use crate::sim::SimDuration;

/// Kafka's group configs are Java ints of milliseconds.
const INT_MAX_MS: u64 = i32::MAX as u64;
/// `group.consumer.min.assignment.interval.ms` / `max` (4.3+ defaults).
const MIN_ASSIGNMENT_INTERVAL_MS: u64 = 0;

/// Settings Kafka refuses with the consumer protocol, on the group or any of its consumers (the
/// group's own settings first: only the first error is reported); and on any other group, the
/// settings that belong to the consumer protocol alone.
pub(super) fn check_fields_apply(
    ck: &Checker,
    path: &str,
    g: &RawGroup,
    base: &RawConsumer,
    consumers: &[RawConsumer],
) -> Result<(), ScenarioError> {
    let kind = g.kind.unwrap_or(GroupType::Consumer);
    if kind == GroupType::Consumer && g.protocol == Some(RebalanceProtocol::Consumer) {
        refused_on_the_group(ck, path, g)?;
        let mut all = vec![(path.to_string(), base)];
        all.extend(consumers.iter().enumerate().map(|(ci, c)| (format!("{path}.consumers[{ci}]"), c)));
        for (at, c) in all {
            refused_on_a_consumer(ck, &at, c)?;
        }
        return Ok(());
    }
    let why = match kind {
        GroupType::Share => "a share group has its own share_* settings",
        GroupType::Consumer => "add `protocol: consumer` to the group to use Kafka 4's consumer rebalance protocol",
    };
    for (field, set) in consumer_protocol_fields(g) {
        if set {
            return Err(ck.err(format!("{path}.{field}"), format!("applies only to protocol: consumer; {why}")));
        }
    }
    Ok(())
}

/// The group settings only a `protocol: consumer` group takes, and whether each is set.
fn consumer_protocol_fields(g: &RawGroup) -> [(&'static str, bool); 9] {
    [
        ("remote_assignor", g.remote_assignor.is_some()),
        ("group_consumer_heartbeat_interval_ms", g.group_consumer_heartbeat_interval_ms.is_some()),
        ("group_consumer_session_timeout_ms", g.group_consumer_session_timeout_ms.is_some()),
        ("group_consumer_min_heartbeat_interval_ms", g.group_consumer_min_heartbeat_interval_ms.is_some()),
        ("group_consumer_max_heartbeat_interval_ms", g.group_consumer_max_heartbeat_interval_ms.is_some()),
        ("group_consumer_min_session_timeout_ms", g.group_consumer_min_session_timeout_ms.is_some()),
        ("group_consumer_max_session_timeout_ms", g.group_consumer_max_session_timeout_ms.is_some()),
        ("group_consumer_assignment_interval_ms", g.group_consumer_assignment_interval_ms.is_some()),
        ("kafka_version", g.kafka_version.is_some()),
    ]
}

/// A `protocol: consumer` group's own settings that belong to the classic protocol.
fn refused_on_the_group(ck: &Checker, path: &str, g: &RawGroup) -> Result<(), ScenarioError> {
    let classic_only: [(&str, bool, &str); 2] = [
        (
            "assignor",
            g.assignor.is_some(),
            "the coordinator computes the assignment, and Kafka's consumer refuses partition.assignment.strategy with group.protocol=consumer; use remote_assignor (uniform or range; default uniform)",
        ),
        (
            "group_initial_rebalance_delay_ms",
            g.group_initial_rebalance_delay_ms.is_some(),
            "consumer groups have no initial rebalance delay (group.initial.rebalance.delay.ms is for classic groups); from Kafka 4.3 see group_consumer_assignment_interval_ms",
        ),
    ];
    for (field, set, why) in classic_only {
        if set {
            return Err(ck.err(format!("{path}.{field}"), format!("does not apply to protocol: consumer: {why}")));
        }
    }
    if g.delivery == Some(Delivery::Push) {
        return Err(ck.err(
            format!("{path}.delivery"),
            "push delivery is simulated on the classic protocol only (eager or cooperative); use delivery: pull with protocol: consumer",
        ));
    }
    Ok(())
}

/// A `protocol: consumer` group's consumer settings (its own or its consumers') that Kafka's
/// consumer refuses with group.protocol=consumer (ConsumerConfig's unsupported configs).
fn refused_on_a_consumer(ck: &Checker, at: &str, c: &RawConsumer) -> Result<(), ScenarioError> {
    let refused = [
        (
            "session_timeout_ms",
            c.session_timeout_ms.is_some(),
            "session.timeout.ms",
            "group_consumer_session_timeout_ms (default 45000, 45000..60000)",
        ),
        (
            "heartbeat_interval_ms",
            c.heartbeat_interval_ms.is_some(),
            "heartbeat.interval.ms",
            "group_consumer_heartbeat_interval_ms (default 5000, 5000..15000)",
        ),
    ];
    for (field, set, kafka, instead) in refused {
        if set {
            return Err(ck.err(
                format!("{at}.{field}"),
                format!(
                    "does not apply to protocol: consumer: Kafka's consumer refuses {kafka} with group.protocol=consumer, because the consumer protocol sets it on the broker; use the group's {instead}"
                ),
            ));
        }
    }
    Ok(())
}

/// A `protocol: consumer` group's plan: its settings, else Kafka's defaults, checked.
pub(super) fn consumer_protocol_plan(
    ck: &Checker,
    path: &str,
    g: &RawGroup,
) -> Result<ConsumerProtocolPlan, ScenarioError> {
    let version = match &g.kafka_version {
        None => KafkaVersion::NEWEST,
        Some(v) => KafkaVersion::parse(v).ok_or_else(|| {
            let names: Vec<&str> = KafkaVersion::ALL.iter().map(|v| v.name()).collect();
            ck.err(
                format!("{path}.kafka_version"),
                format!(
                    "unknown Kafka version `{v}`; allowed: {} (default {})",
                    names.join(", "),
                    KafkaVersion::NEWEST.name()
                ),
            )
        })?,
    };
    let t = Timings::read(ck, path, g)?;
    t.check(ck, path)?;
    let assignment_interval = assignment_interval(ck, path, g, version)?;
    Ok(ConsumerProtocolPlan {
        remote_assignor: g.remote_assignor.unwrap_or(ServerAssignorKind::Uniform),
        heartbeat_interval: SimDuration::from_millis(t.heartbeat.ms),
        session_timeout: SimDuration::from_millis(t.session.ms),
        assignment_interval,
        version,
    })
}

/// KIP-1263 (Kafka 4.3): a target assignment is recomputed at most this often; before 4.3 at
/// every group epoch bump (zero).
fn assignment_interval(
    ck: &Checker,
    path: &str,
    g: &RawGroup,
    version: KafkaVersion,
) -> Result<SimDuration, ScenarioError> {
    let field = "group_consumer_assignment_interval_ms";
    let Some(set) = g.group_consumer_assignment_interval_ms else {
        return Ok(if version.batches_assignments() {
            defaults::CONSUMER_ASSIGNMENT_INTERVAL
        } else {
            SimDuration::ZERO
        });
    };
    if !version.batches_assignments() {
        return Err(ck.err(
            format!("{path}.{field}"),
            format!(
                "needs kafka_version 4.3 or later (assignment batching, KIP-1263, arrived in Kafka 4.3); this group follows {}, which recomputes the assignment at every group epoch bump",
                version.name()
            ),
        ));
    }
    let max = defaults::CONSUMER_MAX_ASSIGNMENT_INTERVAL.as_millis();
    let ms = whole_ms(ck, path, field, set, MIN_ASSIGNMENT_INTERVAL_MS)?;
    if ms > max {
        return Err(ck.err(
            format!("{path}.{field}"),
            format!(
                "{ms} is outside the broker's bounds, {MIN_ASSIGNMENT_INTERVAL_MS} to {max} (group.consumer.min/max.assignment.interval.ms; default 1000, 0 recomputes at every group epoch bump)"
            ),
        ));
    }
    Ok(SimDuration::from_millis(ms))
}

/// `set` in Kafka's whole milliseconds, at least `least` and at most a Java int.
fn whole_ms(ck: &Checker, path: &str, field: &str, set: MsDuration, least: u64) -> Result<u64, ScenarioError> {
    let d = set.0;
    let err = |msg: String| ck.err(format!("{path}.{field}"), msg);
    if !d.as_nanos().is_multiple_of(1_000_000) {
        return Err(err(format!("{d} is not a whole number of milliseconds; Kafka's setting is an int of ms")));
    }
    let ms = d.as_millis();
    if ms < least {
        return Err(err(format!("{ms} is not allowed; Kafka requires at least {least}")));
    }
    if ms > INT_MAX_MS {
        return Err(err(format!("{ms} is not allowed; Kafka's setting is an int, at most {INT_MAX_MS}")));
    }
    Ok(ms)
}

/// One of the broker's consumer-group timings: the scenario's field, Kafka's name, its value in
/// ms, and whether the file set it (else it is Kafka's default).
struct Ms {
    field: &'static str,
    kafka: &'static str,
    ms: u64,
    set: bool,
}

impl Ms {
    fn read(
        ck: &Checker,
        path: &str,
        (field, kafka): (&'static str, &'static str),
        set: Option<MsDuration>,
        default: SimDuration,
    ) -> Result<Ms, ScenarioError> {
        let ms = match set {
            // ConfigDef: atLeast(1) for each of the six.
            Some(d) => whole_ms(ck, path, field, d, 1)?,
            None => default.as_millis(),
        };
        Ok(Ms { field, kafka, ms, set: set.is_some() })
    }

    fn shown(&self) -> String {
        if self.set { format!("{}", self.ms) } else { format!("{}, Kafka's default", self.ms) }
    }
}

/// The heartbeat interval and session timeout with their bounds.
struct Timings {
    min_heartbeat: Ms,
    max_heartbeat: Ms,
    heartbeat: Ms,
    min_session: Ms,
    max_session: Ms,
    session: Ms,
}

impl Timings {
    fn read(ck: &Checker, path: &str, g: &RawGroup) -> Result<Timings, ScenarioError> {
        use defaults::*;
        let ms = |names, set, default| Ms::read(ck, path, names, set, default);
        Ok(Timings {
            heartbeat: ms(
                ("group_consumer_heartbeat_interval_ms", "group.consumer.heartbeat.interval.ms"),
                g.group_consumer_heartbeat_interval_ms,
                CONSUMER_HEARTBEAT_INTERVAL,
            )?,
            session: ms(
                ("group_consumer_session_timeout_ms", "group.consumer.session.timeout.ms"),
                g.group_consumer_session_timeout_ms,
                CONSUMER_SESSION_TIMEOUT,
            )?,
            min_heartbeat: ms(
                ("group_consumer_min_heartbeat_interval_ms", "group.consumer.min.heartbeat.interval.ms"),
                g.group_consumer_min_heartbeat_interval_ms,
                CONSUMER_MIN_HEARTBEAT_INTERVAL,
            )?,
            max_heartbeat: ms(
                ("group_consumer_max_heartbeat_interval_ms", "group.consumer.max.heartbeat.interval.ms"),
                g.group_consumer_max_heartbeat_interval_ms,
                CONSUMER_MAX_HEARTBEAT_INTERVAL,
            )?,
            min_session: ms(
                ("group_consumer_min_session_timeout_ms", "group.consumer.min.session.timeout.ms"),
                g.group_consumer_min_session_timeout_ms,
                CONSUMER_MIN_SESSION_TIMEOUT,
            )?,
            max_session: ms(
                ("group_consumer_max_session_timeout_ms", "group.consumer.max.session.timeout.ms"),
                g.group_consumer_max_session_timeout_ms,
                CONSUMER_MAX_SESSION_TIMEOUT,
            )?,
        })
    }

    /// GroupCoordinatorConfig's constructor, in its order: each `require(...)` on the consumer
    /// group's heartbeat interval and session timeout.
    fn check(&self, ck: &Checker, path: &str) -> Result<(), ScenarioError> {
        use Blame::{High, Low};
        let t = self;
        let order: [(&Ms, &Ms, bool, Blame); 7] = [
            (&t.min_heartbeat, &t.max_heartbeat, false, High),
            (&t.min_heartbeat, &t.heartbeat, false, High),
            (&t.heartbeat, &t.max_heartbeat, false, Low),
            (&t.min_session, &t.max_session, false, High),
            (&t.min_session, &t.session, false, High),
            (&t.session, &t.max_session, false, Low),
            (&t.heartbeat, &t.session, true, Low),
        ];
        for (lo, hi, strict, prefer) in order {
            in_order(ck, path, lo, hi, strict, prefer)?;
        }
        Ok(())
    }
}

/// Which side of a broken `lo <= hi` to name when the file set both.
#[derive(Clone, Copy)]
enum Blame {
    Low,
    High,
}

/// Kafka's `require(lo <= hi)` (`lo < hi` if `strict`): the error names a field the file set
/// (`prefer` when it set both), and says which other setting has to move with it.
fn in_order(ck: &Checker, path: &str, lo: &Ms, hi: &Ms, strict: bool, prefer: Blame) -> Result<(), ScenarioError> {
    if if strict { lo.ms < hi.ms } else { lo.ms <= hi.ms } {
        return Ok(());
    }
    let rule = if strict { "<" } else { "<=" };
    let requires = format!("Kafka requires {} {rule} {}", lo.kafka, hi.kafka);
    let blame_low = match prefer {
        Blame::Low => lo.set || !hi.set,
        Blame::High => !hi.set,
    };
    let (at, msg) = if blame_low {
        let is = if strict { "is not below" } else { "is above" };
        (
            lo.field,
            format!("{} {is} {} ({}); {requires}: raise {} too, or lower this", lo.ms, hi.field, hi.shown(), hi.field),
        )
    } else {
        let is = if strict { "is not above" } else { "is below" };
        (
            hi.field,
            format!("{} {is} {} ({}); {requires}: lower {} too, or raise this", hi.ms, lo.field, lo.shown(), lo.field),
        )
    };
    Err(ck.err(format!("{path}.{at}"), msg))
}

#[cfg(test)]
mod tests {
    use crate::scenario::plan::{ConsumerProtocolPlan, KafkaVersion, RebalanceProtocol, ServerAssignorKind};
    use crate::sim::SimDuration;

    fn plan_of(group_settings: &str) -> ConsumerProtocolPlan {
        let text = format!(
            "name: cp\nduration: 10s\ntopics: [{{name: t, partitions: 2}}]\ngroups:\n  - id: g\n    topics: [t]\n    consumers: 2\n    protocol: consumer\n{group_settings}"
        );
        let plan = crate::scenario::parse("cp.yaml", &text).unwrap();
        assert_eq!(plan.groups[0].protocol, RebalanceProtocol::Consumer);
        plan.groups[0].consumer_protocol
    }

    #[test]
    fn a_consumer_protocol_group_gets_kafka_s_defaults() {
        let p = plan_of("");
        assert_eq!(p, ConsumerProtocolPlan::default());
        assert_eq!(p.remote_assignor, ServerAssignorKind::Uniform);
        assert_eq!(p.heartbeat_interval, SimDuration::from_millis(5000));
        assert_eq!(p.session_timeout, SimDuration::from_millis(45000));
        assert_eq!(p.assignment_interval, SimDuration::from_millis(1000));
        assert_eq!(p.version, KafkaVersion::V4_4);
    }

    #[test]
    fn before_4_3_there_is_no_assignment_batching() {
        for v in ["4.0", "\"4.1\"", "4.2"] {
            let p = plan_of(&format!("    kafka_version: {v}\n"));
            assert_eq!(p.assignment_interval, SimDuration::ZERO, "{v}");
        }
        assert_eq!(plan_of("    kafka_version: 4.0\n").version, KafkaVersion::V4_0);
        assert_eq!(plan_of("    kafka_version: \"4.3\"\n").assignment_interval, SimDuration::from_millis(1000));
    }

    #[test]
    fn settings_within_the_bounds_are_taken() {
        let p = plan_of(concat!(
            "    remote_assignor: range\n",
            "    group_consumer_min_heartbeat_interval_ms: 1000\n",
            "    group_consumer_heartbeat_interval_ms: 2s\n",
            "    group_consumer_min_session_timeout_ms: 6000\n",
            "    group_consumer_session_timeout_ms: 10000\n",
            "    group_consumer_assignment_interval_ms: 0\n",
            "    kafka_version: 4.3\n",
        ));
        assert_eq!(p.remote_assignor, ServerAssignorKind::Range);
        assert_eq!(p.heartbeat_interval, SimDuration::from_millis(2000));
        assert_eq!(p.session_timeout, SimDuration::from_millis(10000));
        assert_eq!(p.assignment_interval, SimDuration::ZERO);
        assert_eq!(p.version, KafkaVersion::V4_3);
    }

    #[test]
    fn a_classic_group_keeps_the_default_plan() {
        let text = "name: c\nduration: 10s\ntopics: [{name: t, partitions: 2}]\ngroups:\n  - {id: g, topics: [t], consumers: 2, protocol: cooperative}\n";
        let plan = crate::scenario::parse("c.yaml", text).unwrap();
        assert_eq!(plan.groups[0].consumer_protocol, ConsumerProtocolPlan::default());
    }
}
