//! The cluster's structured forms (issue 24): a producer's `acks`, and the broker a timeline
//! action names, read at the value so a mistake is reported at its own line and column.

use super::{Value, show, single_key, value_duration, via_value};
use crate::scenario::cluster::Acks;
use crate::sim::SimDuration;
use serde::{Deserialize, Deserializer};

const ACKS_FORMS: &str = "all, -1, 1 or 0 (Kafka's acks; all and -1 are the same; default all)";

impl<'de> Deserialize<'de> for Acks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_value(d, parse_acks)
    }
}

/// Kafka's `in("all", "-1", "0", "1")`, written as text or as a number (YAML reads `acks: 1`
/// as a number, and `-1` is Kafka's own spelling of all).
fn parse_acks(v: &Value) -> Result<Acks, String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => return Err(format!("expected {ACKS_FORMS}, found {}", show(other))),
    };
    match text.as_str() {
        "all" | "-1" => Ok(Acks::All),
        "1" => Ok(Acks::One),
        "0" => Ok(Acks::Zero),
        _ => Err(format!("acks `{text}` is not allowed; allowed: {ACKS_FORMS}")),
    }
}

/// The broker a timeline action names, as written: its id, or the partition it leads
/// (`<topic>-<index>`). Validation checks that either exists.
#[derive(Clone, Debug, PartialEq)]
pub enum RawBrokerTarget {
    Id(i64),
    LeaderOf(String),
}

const BROKER_FORMS: &str = "a broker id (1, 2, ...) or {leader_of: TOPIC-PARTITION}, e.g. {leader_of: orders-0}";

impl<'de> Deserialize<'de> for RawBrokerTarget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_value(d, parse_broker)
    }
}

fn parse_broker(v: &Value) -> Result<RawBrokerTarget, String> {
    match v {
        Value::Number(n) => {
            return n
                .as_i64()
                .map(RawBrokerTarget::Id)
                .ok_or_else(|| format!("`{n}` is not a broker id; expected {BROKER_FORMS}"));
        }
        Value::String(s) => {
            return Err(format!("`{s}` is not a broker; expected {BROKER_FORMS}"));
        }
        _ => {}
    }
    let (k, val) = single_key(v, "broker", BROKER_FORMS)?;
    if k != "leader_of" {
        return Err(format!("broker: `{k}` is not allowed; expected {BROKER_FORMS}"));
    }
    match val {
        Value::String(s) => Ok(RawBrokerTarget::LeaderOf(s)),
        other => Err(format!("leader_of: expected a partition such as orders-0, found {}", show(&other))),
    }
}

/// `isolate_broker: {broker: B, for: 30s}`: a network partition that heals after `for_`.
#[derive(Clone, Debug, PartialEq)]
pub struct RawIsolateBroker {
    pub broker: RawBrokerTarget,
    pub for_: SimDuration,
}

impl<'de> Deserialize<'de> for RawIsolateBroker {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_value(d, |v| {
            let (broker, for_) = broker_and_duration(v, "for")?;
            if for_.is_zero() {
                return Err("`for`: 0s is not allowed; an isolation lasts a positive time, e.g. 30s".into());
            }
            Ok(RawIsolateBroker { broker, for_ })
        })
    }
}

/// `slow_broker: {broker: B, lag: 200ms}`: from then on the broker applies its leaders'
/// records `lag` late (0 restores it).
#[derive(Clone, Debug, PartialEq)]
pub struct RawSlowBroker {
    pub broker: RawBrokerTarget,
    pub lag: SimDuration,
}

impl<'de> Deserialize<'de> for RawSlowBroker {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_value(d, |v| broker_and_duration(v, "lag").map(|(broker, lag)| RawSlowBroker { broker, lag }))
    }
}

/// `{broker: B, <key>: DURATION}`, both required and nothing else.
fn broker_and_duration(v: &Value, key: &str) -> Result<(RawBrokerTarget, SimDuration), String> {
    let forms = format!("{{broker: B, {key}: DURATION}} where B is {BROKER_FORMS}");
    let Value::Mapping(m) = v else { return Err(format!("expected {forms}, found {}", show(v))) };
    let (mut broker, mut duration) = (None, None);
    for (k, val) in m {
        match k.as_str() {
            Some("broker") => broker = Some(parse_broker(val)?),
            Some(x) if x == key => duration = Some(value_duration(val, &format!("`{key}`"))?),
            _ => return Err(format!("`{}` is not allowed; expected {forms}", show(k))),
        }
    }
    let broker = broker.ok_or_else(|| format!("`broker` is missing; expected {forms}"))?;
    let duration = duration.ok_or_else(|| format!("`{key}` is missing; expected {forms}"))?;
    Ok((broker, duration))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn acks_take_kafka_s_four_spellings_as_text_or_number() {
        for (text, acks) in [("all", Acks::All), ("-1", Acks::All), ("'-1'", Acks::All), ("1", Acks::One)] {
            assert_eq!(parse_acks(&yaml(text)), Ok(acks), "{text}");
        }
        assert_eq!(parse_acks(&yaml("0")), Ok(Acks::Zero));
        assert_eq!(parse_acks(&yaml("'0'")), Ok(Acks::Zero));
        for bad in ["2", "ALL", "leader", "1.0", "[all]", "true"] {
            assert!(parse_acks(&yaml(bad)).unwrap_err().contains("all, -1, 1 or 0"), "{bad}");
        }
    }

    #[test]
    fn a_broker_is_an_id_or_the_leader_of_a_partition() {
        assert_eq!(parse_broker(&yaml("2")), Ok(RawBrokerTarget::Id(2)));
        assert_eq!(parse_broker(&yaml("-1")), Ok(RawBrokerTarget::Id(-1)));
        assert_eq!(
            parse_broker(&yaml("{leader_of: order-events-3}")),
            Ok(RawBrokerTarget::LeaderOf("order-events-3".into()))
        );
        assert!(parse_broker(&yaml("orders-0")).unwrap_err().contains("{leader_of: orders-0}"));
        assert!(parse_broker(&yaml("{follower_of: orders-0}")).unwrap_err().contains("`follower_of` is not allowed"));
        assert!(parse_broker(&yaml("{leader_of: [orders]}")).unwrap_err().contains("leader_of"));
        assert!(parse_broker(&yaml("1.5")).unwrap_err().contains("not a broker id"));
    }

    #[test]
    fn isolate_and_slow_need_a_broker_and_their_duration() {
        let iso: RawIsolateBroker = serde_yaml::from_str("{broker: 2, for: 30s}").unwrap();
        assert_eq!(iso, RawIsolateBroker { broker: RawBrokerTarget::Id(2), for_: SimDuration::from_secs(30) });
        let slow: RawSlowBroker = serde_yaml::from_str("{broker: {leader_of: t-0}, lag: 0ms}").unwrap();
        assert_eq!(slow, RawSlowBroker { broker: RawBrokerTarget::LeaderOf("t-0".into()), lag: SimDuration::ZERO });
        let err = |t: &str, key: &str| broker_and_duration(&yaml(t), key).unwrap_err();
        assert!(err("{broker: 2}", "for").contains("`for` is missing"));
        assert!(err("{for: 1s}", "for").contains("`broker` is missing"));
        assert!(err("{broker: 2, for: 30}", "for").contains("unit"));
        assert!(err("{broker: 2, lag: 1s, for: 1s}", "lag").contains("`for` is not allowed"));
        assert!(err("2", "lag").contains("expected {broker: B, lag: DURATION}"));
        assert!(serde_yaml::from_str::<RawIsolateBroker>("{broker: 2, for: 0s}").is_err());
    }
}
