//! summary.json's cluster keys (only for a scenario that declares `brokers:`): each broker's
//! state at the end, each producer's delivery (sent, acknowledged, lost by cause, written twice,
//! unavailable) and each partition's leader, ISR and time offline or under-replicated.
//!
//! Every table is read with a default where the record has no row yet: a world that was built
//! but not run (`kafkasim check` resolving expectations) gives every key, with zeros.

use super::num::ms;
use crate::record::cluster::{BrokerState, LossCause, PartitionStats, ProducerStats};
use crate::record::run::Run;
use serde_json::{Map, Value, json};

/// The brokers the outputs list: the plan's 1..=N, or more if the record has more.
pub fn broker_ids(w: &Run) -> std::ops::RangeInclusive<u32> {
    1..=w.plan.cluster.brokers.max(w.rec.cluster.brokers.len() as u32)
}

/// Broker `id`'s state at the end: its last recorded change, or up (every broker starts up).
pub fn broker_state_at_end(w: &Run, id: u32) -> BrokerState {
    w.rec.cluster.broker_states.iter().rev().find(|s| s.1 == id).map_or(BrokerState::Up, |s| s.2)
}

/// `brokers`: per broker id ("1", "2", ...), its state at the end, the partitions it led at
/// the end and its time down.
pub fn brokers_json(w: &Run) -> Map<String, Value> {
    broker_ids(w)
        .map(|id| {
            let st = w.rec.cluster.brokers.get(id as usize - 1).cloned().unwrap_or_default();
            let figures = json!({
                "state": broker_state_at_end(w, id).name(),
                "partitions_led": st.leads_at_end,
                "down_ms": ms(st.down.as_nanos()),
            });
            (id.to_string(), figures)
        })
        .collect()
}

/// Producer `p`'s figures as recorded (zeros if none were).
pub fn producer_stats(w: &Run, p: usize) -> ProducerStats {
    w.rec.cluster.producers.get(p).cloned().unwrap_or_default()
}

/// `producers`: per producer name, what it sent, had acknowledged, retried, wrote twice and
/// lost (by cause, every cause listed), and how long it could not write.
pub fn producers_json(w: &Run) -> Map<String, Value> {
    w.plan
        .producers
        .iter()
        .enumerate()
        .map(|(p, plan)| {
            let st = producer_stats(w, p);
            let by_cause: Map<String, Value> =
                LossCause::ALL.iter().zip(st.lost_by_cause).map(|(c, n)| (c.name().to_string(), json!(n))).collect();
            let figures = json!({
                "records_sent": st.records_sent,
                "records_acked": st.records_acked,
                "retries": st.retries,
                "duplicates_written": st.duplicates_written,
                "lost": st.lost(),
                "lost_by_cause": by_cause,
                "in_flight_at_end": st.in_flight_at_end,
                "acked_above_high_watermark_at_end": st.acked_above_high_watermark_at_end,
                "unavailable_ms": {
                    "total": ms(st.unavailable_total.as_nanos()),
                    "max": ms(st.unavailable_max.as_nanos()),
                },
            });
            (plan.name.clone(), figures)
        })
        .collect()
}

/// `topics.<t>.partitions` with brokers: one object per partition (`ids`, those that exist at
/// the end): its leader at the end (null: offline), ISR, leader changes, and time offline or
/// under-replicated.
pub fn partitions_json(w: &Run, ids: &[u32]) -> Value {
    let none = PartitionStats::default();
    let rows: Vec<Value> = ids
        .iter()
        .map(|&p| {
            let st = w.rec.cluster.partitions.get(p as usize).unwrap_or(&none);
            json!({
                "partition": w.plan.partition_name(p),
                "leader": st.leader_at_end,
                "isr": st.isr_at_end,
                "leader_changes": st.leader_changes,
                "offline_ms": ms(st.offline.as_nanos()),
                "under_replicated_ms": ms(st.under_replicated.as_nanos()),
            })
        })
        .collect();
    Value::Array(rows)
}
