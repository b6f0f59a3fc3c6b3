//! Each group's coordinator lives on the leader of its `__consumer_offsets` partition,
//! abs(groupId.hashCode()) % offsets.topic.num.partitions (GroupCoordinatorService#partitionFor),
//! and moves with that leadership: from the failure until the new leader has loaded the
//! partition, commits fail (`../shared/replication.md` §5.2).

use super::produce::Io;
use super::{Cluster, ClusterEv};
use crate::kafka::coordinator::assignor::java_hashmap::string_hash;
use crate::kafka::world::{Ev, World};
use crate::record::cluster::ClusterEvent;
use crate::sim::SimTime;

/// The `__consumer_offsets` partition of `group_id` (Utils.abs maps Integer.MIN_VALUE to 0).
pub fn offsets_partition_for(group_id: &str, partitions: u32) -> u32 {
    let h = string_hash(group_id);
    let abs = if h == i32::MIN { 0 } else { h.unsigned_abs() };
    abs % partitions.max(1)
}

impl Cluster {
    /// Elections on `__consumer_offsets` partitions after a broker change: the first live ISR
    /// member in order leads (no records are modelled there, so nothing is cut).
    pub(crate) fn offsets_follow(&mut self, now: SimTime, io: &mut Io) {
        for op in 0..self.offsets.len() {
            let rs = &self.offsets[op];
            let valid = |b: u32| self.serving(b);
            let isr: Vec<u32> = {
                let live: Vec<u32> = rs.isr.iter().copied().filter(|&b| valid(b)).collect();
                if live.is_empty() { rs.isr.clone() } else { live }
            };
            let back: Vec<u32> = rs.replicas.iter().copied().filter(|&b| valid(b) && !isr.contains(&b)).collect();
            let isr: Vec<u32> = rs.replicas.iter().copied().filter(|b| isr.contains(b) || back.contains(b)).collect();
            let leader = rs
                .leader
                .filter(|&l| valid(l))
                .or_else(|| rs.replicas.iter().copied().find(|&b| valid(b) && isr.contains(&b)));
            let rs = &mut self.offsets[op];
            rs.isr = isr;
            if leader != rs.leader {
                rs.leader = leader;
                rs.leader_epoch += 1;
            }
        }
        let _ = now;
        let _ = io;
    }
}

impl World {
    /// Groups whose coordinator's broker failed or whose `__consumer_offsets` partition has a new
    /// leader: the coordinator moves, and loads before it answers.
    pub(crate) fn coordinators_follow(&mut self, now: SimTime) {
        let Some((cl, _, mut io)) = self.cluster_io() else { return };
        for g in 0..cl.coordinators.len() {
            let op = cl.coordinators[g].offsets_partition as usize;
            let leader = cl.offsets[op].leader;
            let c = &cl.coordinators[g];
            let down = c.broker.is_some_and(|b| !cl.serving(b));
            if leader != c.broker {
                let from = c.broker;
                let c = &mut cl.coordinators[g];
                c.broker = leader;
                c.available = false;
                c.life += 1;
                io.event(
                    now,
                    ClusterEvent::CoordinatorMoved { group: g as u32, offsets_partition: op as u32, from, to: leader },
                );
                if leader.is_some() {
                    let at = now + cl.meta_delay + cl.coordinator_load;
                    io.kernel.schedule_at(at, Ev::Cluster(ClusterEv::CoordinatorLoaded { g: g as u32, life: c.life }));
                }
            } else if down {
                cl.coordinators[g].available = false;
            }
        }
    }

    /// Whether group `g`'s coordinator answers now (always, without a cluster).
    pub(crate) fn coordinator_available(&self, g: usize) -> bool {
        self.cluster.as_deref().is_none_or(|cl| cl.coordinators[g].available)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_maps_to_its_offsets_partition_as_kafka_maps_it() {
        // "g".hashCode() = 103; 103 % 50 = 3.
        assert_eq!(offsets_partition_for("g", 50), 3);
        // "billing".hashCode() = -109829509 (Java); abs % 50 = 9.
        assert_eq!(string_hash("billing"), -109_829_509);
        assert_eq!(offsets_partition_for("billing", 50), 9);
    }
}
