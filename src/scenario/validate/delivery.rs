//! A producer's delivery settings (issue 24): acks, retries, idempotence and the timeouts,
//! checked as Kafka 4.1's producer checks them: ProducerConfig's validators, then
//! postProcessAndValidateIdempotenceConfigs, then KafkaProducer#configureDeliveryTimeout.

use super::Checker;
use super::cluster::kafka_ms;
use crate::scenario::cluster::{Acks, ProducerDelivery};
use crate::scenario::error::ScenarioError;
use crate::scenario::raw::RawProducer;
use crate::sim::SimDuration;

/// ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION_FOR_IDEMPOTENCE.
const MAX_IN_FLIGHT_FOR_IDEMPOTENCE: u32 = 5;
const JAVA_INT: u64 = i32::MAX as u64;

/// Producer `p`'s delivery settings (under `path`), its `linger` already resolved.
pub(super) fn producer_delivery(
    ck: &Checker,
    path: &str,
    p: &RawProducer,
    linger: SimDuration,
) -> Result<ProducerDelivery, ScenarioError> {
    let d = ProducerDelivery::default();
    let ms = |field: &str, set: Option<crate::scenario::units::MsDuration>, default: SimDuration, java_int| {
        set.map_or(Ok(default), |v| {
            kafka_ms(ck, &format!("{path}.{field}"), v, 0, java_int).map(SimDuration::from_millis)
        })
    };
    let retries = match p.retries {
        None => d.retries,
        Some(r) if (0..=i32::MAX as i64).contains(&r) => r as u32,
        Some(r) => {
            return Err(ck.err(
                format!("{path}.retries"),
                format!("{r} is not allowed; Kafka's retries is 0 to {JAVA_INT} (default {JAVA_INT})"),
            ));
        }
    };
    let max_in_flight = p.max_in_flight_requests_per_connection.unwrap_or(d.max_in_flight);
    if max_in_flight == 0 || u64::from(max_in_flight) > JAVA_INT {
        return Err(ck.err(
            format!("{path}.max_in_flight_requests_per_connection"),
            format!("{max_in_flight} is not allowed; Kafka requires at least 1 (default 5)"),
        ));
    }
    let mut delivery = ProducerDelivery {
        acks: p.acks.unwrap_or(d.acks),
        enable_idempotence: true,
        retries,
        // INT configs: delivery.timeout.ms and request.timeout.ms; the backoffs are LONGs.
        delivery_timeout: ms("delivery_timeout_ms", p.delivery_timeout_ms, d.delivery_timeout, true)?,
        request_timeout: ms("request_timeout_ms", p.request_timeout_ms, d.request_timeout, true)?,
        max_in_flight,
        retry_backoff: ms("retry_backoff_ms", p.retry_backoff_ms, d.retry_backoff, false)?,
        retry_backoff_max: ms("retry_backoff_max_ms", p.retry_backoff_max_ms, d.retry_backoff_max, false)?,
    };
    delivery.enable_idempotence = idempotence(ck, path, p, &delivery)?;
    delivery.delivery_timeout = delivery_timeout(ck, path, p, &delivery, linger)?;
    Ok(delivery)
}

/// Kafka's postProcessAndValidateIdempotenceConfigs, in its order. Idempotence is on by
/// default; left unwritten it is turned off by retries 0 or acks other than all, but written
/// true those are errors. max.in.flight above 5 is an error whenever idempotence is on before
/// that turn-off (written or not), as Kafka 4.x checks it inside the same block.
fn idempotence(ck: &Checker, path: &str, p: &RawProducer, d: &ProducerDelivery) -> Result<bool, ScenarioError> {
    let written = p.enable_idempotence;
    if written == Some(false) {
        return Ok(false);
    }
    let mut enabled = true;
    if d.retries == 0 {
        if written == Some(true) {
            return Err(ck.err(format!("{path}.retries"), concat!(
                "0 is refused with enable_idempotence: true; Kafka's producer says \"Must set retries to non-zero when ",
                "using the idempotent producer.\" Raise retries, or write enable_idempotence: false"
            )));
        }
        enabled = false;
    }
    if d.acks != Acks::All {
        if written == Some(true) {
            return Err(ck.err(format!("{path}.acks"), format!(
                "acks {} is refused with enable_idempotence: true; Kafka's producer says \"Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.\" Write acks: all, or enable_idempotence: false",
                d.acks.name()
            )));
        }
        enabled = false;
    }
    if d.max_in_flight > MAX_IN_FLIGHT_FOR_IDEMPOTENCE {
        let why = if written == Some(true) {
            "with enable_idempotence: true"
        } else {
            "while enable_idempotence is left at its default, true (Kafka 4.x checks this before acks or retries turn idempotence off)"
        };
        return Err(ck.err(format!("{path}.max_in_flight_requests_per_connection"), format!(
            "{} is refused {why}; Kafka's producer says \"To use the idempotent producer, max.in.flight.requests.per.connection must be set to at most {MAX_IN_FLIGHT_FOR_IDEMPOTENCE}. Current value is {}.\" Write enable_idempotence: false to allow more",
            d.max_in_flight, d.max_in_flight
        )));
    }
    Ok(enabled)
}

/// KafkaProducer#configureDeliveryTimeout: delivery.timeout.ms must cover linger.ms +
/// request.timeout.ms. Written, a shorter one is an error; left at its default (120000), it
/// is raised to that sum.
fn delivery_timeout(
    ck: &Checker,
    path: &str,
    p: &RawProducer,
    d: &ProducerDelivery,
    linger: SimDuration,
) -> Result<SimDuration, ScenarioError> {
    // Kafka's sum is capped at a Java int of ms; linger_ms may be finer than a ms here.
    let floor = (linger + d.request_timeout).min(SimDuration::from_millis(JAVA_INT));
    if d.delivery_timeout >= floor {
        return Ok(d.delivery_timeout);
    }
    if p.delivery_timeout_ms.is_none() {
        return Ok(floor);
    }
    Err(ck.err(format!("{path}.delivery_timeout_ms"), format!(
        "{} is below linger_ms + request_timeout_ms ({linger} + {} = {floor}); Kafka's producer says \"delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms\"",
        d.delivery_timeout, d.request_timeout
    )))
}

#[cfg(test)]
mod tests {
    use crate::scenario::cluster::{Acks, ProducerDelivery};
    use crate::scenario::{Location, ScenarioError};
    use crate::sim::SimDuration;

    fn text(settings: &str) -> String {
        format!(
            "name: d\nduration: 10s\ntopics: [{{name: t, partitions: 1}}]\nproducers:\n  - name: p\n    topic: t\n    rate: 10/s\n{settings}\n"
        )
    }

    fn delivery(settings: &str) -> ProducerDelivery {
        crate::scenario::parse("d.yaml", &text(settings)).unwrap().producers[0].delivery.clone()
    }

    fn refused(settings: &str, field: &str, says: &[&str]) {
        let e: ScenarioError = crate::scenario::parse("d.yaml", &text(settings)).unwrap_err();
        assert_eq!(e.location, Location::Field(format!("producers[0].{field}")), "{settings}: {e}");
        for s in says {
            assert!(e.message.contains(s), "expected `{s}` in: {e}");
        }
    }

    #[test]
    fn defaults_are_kafka_4_s() {
        assert_eq!(delivery(""), ProducerDelivery::default());
        assert_eq!(delivery("    acks: -1").acks, Acks::All);
        assert_eq!(delivery("    acks: \"all\"").acks, Acks::All);
    }

    #[test]
    fn every_setting_is_taken() {
        let d = delivery(concat!(
            "    acks: all\n    enable_idempotence: false\n    retries: 3\n    delivery_timeout_ms: 60s\n",
            "    request_timeout_ms: 20000\n    max_in_flight_requests_per_connection: 9\n",
            "    retry_backoff_ms: 0\n    retry_backoff_max_ms: 50ms",
        ));
        let want = ProducerDelivery {
            acks: Acks::All,
            enable_idempotence: false,
            retries: 3,
            delivery_timeout: SimDuration::from_secs(60),
            request_timeout: SimDuration::from_secs(20),
            max_in_flight: 9,
            retry_backoff: SimDuration::ZERO,
            retry_backoff_max: SimDuration::from_millis(50),
        };
        assert_eq!(d, want);
    }

    #[test]
    fn unwritten_idempotence_turns_off_for_acks_below_all_or_no_retries() {
        let d = delivery("    acks: 1");
        assert_eq!((d.acks, d.enable_idempotence), (Acks::One, false));
        assert!(!delivery("    acks: 0").enable_idempotence);
        assert!(!delivery("    retries: 0").enable_idempotence);
        assert!(delivery("    retries: 1").enable_idempotence);
        // Written false, more than 5 in flight is fine.
        assert_eq!(
            delivery("    enable_idempotence: false\n    max_in_flight_requests_per_connection: 6").max_in_flight,
            6
        );
    }

    #[test]
    fn idempotence_conflicts_are_refused_with_kafka_s_reason() {
        refused("    enable_idempotence: true\n    acks: 1", "acks", &["Must set acks to all"]);
        refused("    enable_idempotence: true\n    retries: 0", "retries", &["Must set retries to non-zero"]);
        refused(
            "    enable_idempotence: true\n    max_in_flight_requests_per_connection: 6",
            "max_in_flight_requests_per_connection",
            &["must be set to at most 5. Current value is 6."],
        );
        // Kafka 4.x checks max.in.flight while idempotence is still on by default, even when acks
        // then turns it off (KafkaProducerTest#testInflightRequestsAndIdempotenceForIdempotentProducers).
        refused(
            "    acks: 1\n    max_in_flight_requests_per_connection: 6",
            "max_in_flight_requests_per_connection",
            &["left at its default", "enable_idempotence: false"],
        );
    }

    #[test]
    fn the_delivery_timeout_covers_linger_and_request_timeout() {
        // Not written: raised to linger + request timeout, as KafkaProducer#configureDeliveryTimeout.
        assert_eq!(delivery("    request_timeout_ms: 200000").delivery_timeout, SimDuration::from_millis(200_005));
        assert_eq!(
            delivery("    delivery_timeout_ms: 30005\n    request_timeout_ms: 30000").delivery_timeout,
            SimDuration::from_millis(30_005)
        );
        refused(
            "    delivery_timeout_ms: 30004",
            "delivery_timeout_ms",
            &["should be equal to or larger than", "5ms + 30s"],
        );
        refused("    linger_ms: 0.5ms\n    delivery_timeout_ms: 30000", "delivery_timeout_ms", &["500us + 30s"]);
    }

    #[test]
    fn settings_outside_kafka_s_bounds_are_refused() {
        refused("    retries: -1", "retries", &["0 to 2147483647"]);
        refused("    retries: 2147483648", "retries", &["0 to 2147483647"]);
        refused(
            "    max_in_flight_requests_per_connection: 0",
            "max_in_flight_requests_per_connection",
            &["at least 1"],
        );
        refused("    request_timeout_ms: 2147483648", "request_timeout_ms", &["int"]);
        refused("    delivery_timeout_ms: 1.5ms", "delivery_timeout_ms", &["whole number of milliseconds"]);
        let e = crate::scenario::parse("d.yaml", &text("    acks: leader")).unwrap_err();
        assert!(matches!(e.location, Location::LineColumn { line: 8, .. }), "{e}");
        assert!(e.message.contains("all, -1, 1 or 0"), "{e}");
    }
}
