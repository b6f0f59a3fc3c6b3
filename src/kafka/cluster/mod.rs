//! The cluster (issue 24): brokers that fail, the controller that fences them and elects
//! leaders, each partition's replicas, ISR and high watermark, and what the producers'
//! acks, retries and idempotence make of a failure. `../shared/replication.md` is the fact sheet.

pub mod placement;

use crate::kafka::world::World;
use crate::scenario::plan::Action;

impl World {
    /// A timeline action on a broker.
    pub(crate) fn broker_action(&mut self, _a: &Action) {}
}
