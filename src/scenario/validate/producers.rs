//! The `producers:` section: each producer's name, topic, batching, record size, rate, keys and
//! delivery settings.

use super::Checker;
use super::bounds::{MAX_BATCH_BYTES, MAX_KEYS};
use super::topics::TopicNames;
use crate::scenario::error::ScenarioError;
use crate::scenario::plan::{Arrival, Keys, PartitionerKind, ProducerPlan, defaults};
use crate::scenario::raw::RawProducer;
use std::collections::BTreeMap;

/// The producers' plans, and each producer's index by name.
pub(super) fn check_producers(
    ck: &Checker,
    raw: &[RawProducer],
    topics: &TopicNames,
) -> Result<(Vec<ProducerPlan>, BTreeMap<String, usize>), ScenarioError> {
    let mut producers = Vec::new();
    let mut producer_index = BTreeMap::new();
    for (i, p) in raw.iter().enumerate() {
        let path = format!("producers[{i}]");
        if p.name.is_empty() {
            return Err(ck.err(format!("{path}.name"), "a producer name cannot be empty"));
        }
        if producer_index.insert(p.name.clone(), i).is_some() {
            return Err(ck.err(format!("{path}.name"), format!("producer `{}` is named twice", p.name)));
        }
        producers.push(producer_plan(ck, &path, p, topics)?);
    }
    Ok((producers, producer_index))
}

/// Producer `p`'s topic, batch and record sizes, rate, key space and delivery; defaults filled in.
fn producer_plan(
    ck: &Checker,
    path: &str,
    p: &RawProducer,
    topics: &TopicNames,
) -> Result<ProducerPlan, ScenarioError> {
    let topic = topics.find(ck, format!("{path}.topic"), &p.topic)?;
    let batch_size = p.batch_size.unwrap_or(defaults::BATCH_SIZE);
    let record_size = p.record_size.unwrap_or(defaults::RECORD_SIZE);
    if batch_size == 0 || batch_size > MAX_BATCH_BYTES {
        return Err(ck.err(
            format!("{path}.batch_size"),
            format!("{batch_size} is not allowed; 1 to {MAX_BATCH_BYTES} bytes (Kafka's default: 16384)"),
        ));
    }
    if record_size == 0 || record_size > 1 << 30 {
        return Err(ck.err(format!("{path}.record_size"), "must be between 1 byte and 1 GiB (default: 100)"));
    }
    if p.rate.0 > 1e9 {
        return Err(ck.err(format!("{path}.rate"), "must be at most 1000000000/s (one record per nanosecond)"));
    }
    let key_space = match &p.keys {
        Some(Keys::Uniform(n)) | Some(Keys::Zipf { n, .. }) => *n,
        _ => 0,
    };
    if key_space > MAX_KEYS {
        return Err(ck.err(format!("{path}.keys"), format!("{key_space} keys; at most {} are supported", MAX_KEYS)));
    }
    let linger = p.linger_ms.map_or(defaults::LINGER, |d| d.0);
    let delivery = super::delivery::producer_delivery(ck, path, p, linger)?;
    Ok(ProducerPlan {
        name: p.name.clone(),
        topic,
        rate: p.rate.0,
        arrival: p.arrival.unwrap_or(Arrival::Poisson),
        keys: p.keys.clone().unwrap_or(Keys::None),
        partitioner: p.partitioner.unwrap_or(PartitionerKind::Default),
        linger,
        batch_size,
        record_size,
        delivery,
    })
}
