//! Preferred leader election (`../shared/replication.md` §3.6): while a partition is led by
//! another replica than the first of its assignment, the controller checks every
//! leader.imbalance.check.interval.seconds (300) and gives the leadership back to the preferred
//! replica when it is alive and in the ISR (auto.leader.rebalance.enable, true by default).

use super::produce::Io;
use super::replica_set::Rep;
use super::{Cluster, ClusterEv};
use crate::kafka::broker::Partition;
use crate::kafka::world::Ev;
use crate::record::cluster::{ClusterEvent, Election};
use crate::sim::SimTime;

impl Cluster {
    fn imbalanced(&self) -> bool {
        self.parts.iter().any(|rs| rs.leader.is_some() && rs.leader != rs.replicas.first().copied())
    }

    /// Schedules the next balance check if a partition is led by another than its preferred replica.
    pub(crate) fn arm_balance(&mut self, now: SimTime, io: &mut Io) {
        if !self.preferred_check && self.imbalanced() {
            self.preferred_check = true;
            io.kernel.schedule_at(now + self.imbalance_interval, Ev::Cluster(ClusterEv::PreferredCheck));
        }
    }

    /// The check: each partition whose preferred replica can lead gets it back (a move from a
    /// live leader, as in a controlled shutdown: clients are told where it went).
    pub(crate) fn balance(&mut self, now: SimTime, parts: &mut [Partition], io: &mut Io) {
        self.preferred_check = false;
        for p in 0..self.parts.len() {
            let rs = &self.parts[p];
            let Some(&preferred) = rs.replicas.first() else { continue };
            let ready = rs.leader.is_some_and(|l| l != preferred)
                && self.serving(preferred)
                && rs.in_isr(preferred)
                && rs.reps[0] == Rep::Tracking;
            if !ready {
                continue;
            }
            let old = rs.leader.expect("led");
            let old_leo = parts[p].log.log_end_offset() + rs.pending_records;
            self.install_leader(p as u32, Some(preferred), Election::Preferred, now, &mut parts[p], io);
            let new_leo = parts[p].log.log_end_offset() + self.parts[p].pending_records;
            if old_leo > new_leo {
                let e = ClusterEvent::LogTruncated { partition: p as u32, broker: old, from: old_leo, to: new_leo };
                io.event(now, e);
            }
        }
        self.arm_balance(now, io);
    }
}
