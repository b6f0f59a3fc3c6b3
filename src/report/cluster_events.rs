//! The fields of the cluster's events in events.jsonl (brokers by id, partitions and producers
//! and groups by name), in the key order the output contract documents.

use super::events::Names;
use super::num::time_ms_json;
use crate::record::cluster::ClusterEvent;
use crate::sim::SimDuration;
use serde_json::{Value, json};

fn ms(d: SimDuration) -> Value {
    time_ms_json(crate::sim::SimTime(d.as_nanos()))
}

fn broker(b: Option<u32>) -> Value {
    b.map_or(Value::Null, |b| json!(b))
}

/// One cluster event's fields.
pub(super) fn cluster_fields(n: &Names, e: &ClusterEvent, put: &mut dyn FnMut(&str, Value)) {
    match e {
        ClusterEvent::ActionIgnored { broker: b, reason } => {
            put("broker", broker(*b));
            put("reason", json!(reason));
        }
        ClusterEvent::BrokerCrashed { broker: b }
        | ClusterEvent::BrokerShuttingDown { broker: b }
        | ClusterEvent::BrokerStopped { broker: b }
        | ClusterEvent::BrokerStarted { broker: b }
        | ClusterEvent::BrokerUnfenced { broker: b }
        | ClusterEvent::BrokerReconnected { broker: b } => put("broker", json!(b)),
        ClusterEvent::BrokerFenced { broker: b, reason } => {
            put("broker", json!(b));
            put("reason", json!(reason));
        }
        ClusterEvent::BrokerIsolated { broker: b, for_ } => {
            put("broker", json!(b));
            put("for_ms", ms(*for_));
        }
        ClusterEvent::BrokerSlowed { broker: b, lag } => {
            put("broker", json!(b));
            put("lag_ms", ms(*lag));
        }
        ClusterEvent::LeaderElected { partition, leader, previous, leader_epoch, election } => {
            put("partition", json!(n.partition(*partition)));
            put("leader", broker(*leader));
            put("previous_leader", broker(*previous));
            put("leader_epoch", json!(leader_epoch));
            put("election", json!(election.name()));
        }
        ClusterEvent::IsrChanged { partition, isr, reason } => {
            put("partition", json!(n.partition(*partition)));
            put("isr", json!(isr));
            put("reason", json!(reason));
        }
        ClusterEvent::LogTruncated { partition, broker: b, from, to } => {
            put("partition", json!(n.partition(*partition)));
            put("broker", json!(b));
            put("from_offset", json!(from));
            put("to_offset", json!(to));
            put("records", json!(from - to));
        }
        ClusterEvent::ProduceFailed { .. }
        | ClusterEvent::ProduceResumed { .. }
        | ClusterEvent::RecordsLost { .. }
        | ClusterEvent::DuplicatesWritten { .. } => producer_fields(n, e, put),
        ClusterEvent::CoordinatorMoved { group, offsets_partition, from, to } => {
            put("group", json!(n.group(*group)));
            put("offsets_partition", json!(format!("__consumer_offsets-{offsets_partition}")));
            put("from_broker", broker(*from));
            put("to_broker", broker(*to));
        }
        ClusterEvent::CoordinatorLoaded { group, broker: b } => {
            put("group", json!(n.group(*group)));
            put("broker", json!(b));
        }
    }
}

/// A producer's event's fields: the producer and partition first, then what befell them.
fn producer_fields(n: &Names, e: &ClusterEvent, put: &mut dyn FnMut(&str, Value)) {
    let producer = |p: u32| json!(n.plan.producers[p as usize].name);
    match e {
        ClusterEvent::ProduceFailed { producer: p, partition, error } => {
            put("producer", producer(*p));
            put("partition", json!(n.partition(*partition)));
            put("error", json!(error));
        }
        ClusterEvent::ProduceResumed { producer: p, partition, unavailable } => {
            put("producer", producer(*p));
            put("partition", json!(n.partition(*partition)));
            put("unavailable_ms", ms(*unavailable));
        }
        ClusterEvent::RecordsLost { producer: p, partition, records, cause } => {
            put("producer", producer(*p));
            put("partition", json!(n.partition(*partition)));
            put("records", json!(records));
            put("cause", json!(cause.name()));
        }
        ClusterEvent::DuplicatesWritten { producer: p, partition, records } => {
            put("producer", producer(*p));
            put("partition", json!(n.partition(*partition)));
            put("records", json!(records));
        }
        other => unreachable!("{} is not a producer's event", other.kind()),
    }
}
