//! The cluster's invariants, checked after every event in tests and debug builds
//! (`World::assert_invariants`): a leader is a live ISR member of its partition; the high
//! watermark is never above the log end of any ISR member; the ISR lists replicas only, in
//! assignment order; what producers hold and what leaders hold above the high watermark is
//! counted once.

use super::Cluster;
use super::replica_set::Rep;
use crate::kafka::broker::Partition;
use crate::sim::SimTime;

impl Cluster {
    /// Panics, naming the time, the partition and what broke.
    pub(crate) fn check(&self, now: SimTime, parts: &[Partition]) {
        for (p, rs) in self.parts.iter().enumerate() {
            let name = || format!("partition {p} at {now:?}");
            let hw = parts[p].log.log_end_offset();
            assert!(
                rs.isr.iter().all(|b| rs.replicas.contains(b)),
                "{}: ISR {:?} outside replicas {:?}",
                name(),
                rs.isr,
                rs.replicas
            );
            let ordered: Vec<u32> = rs.replicas.iter().copied().filter(|b| rs.isr.contains(b)).collect();
            assert_eq!(ordered, rs.isr, "{}: ISR not in assignment order", name());
            assert!(!rs.isr.is_empty(), "{}: an empty ISR (the last member stays)", name());
            if let Some(l) = rs.leader {
                assert!(rs.in_isr(l), "{}: leader {l} is not in the ISR {:?}", name(), rs.isr);
                // A restarted broker is fenced until it registers, while the controller still
                // counts its old session: then it is still the leader on record.
                let n = self.node(l);
                assert!(
                    !n.fenced || n.session_live || !n.running,
                    "{}: leader {l} was fenced by the controller",
                    name()
                );
            }
            for (i, &b) in rs.replicas.iter().enumerate() {
                if !rs.in_isr(b) {
                    continue;
                }
                let leo = rs.replica_leo(i, hw, now, self.follower_lag(b));
                assert!(
                    leo >= hw,
                    "{}: high watermark {hw} above ISR member {b}'s log end {leo} ({:?})",
                    name(),
                    rs.reps[i]
                );
            }
            if rs.leader.is_some_and(|l| self.serving(l)) {
                assert!(
                    rs.reps[rs.index_of(rs.leader.unwrap()).unwrap()] == Rep::Tracking,
                    "{}: a serving leader's own log is frozen",
                    name()
                );
            }
            let pending: u64 = rs.pending.iter().map(|b| u64::from(b.len)).sum();
            assert_eq!(pending, rs.pending_records, "{}: tail count", name());
            assert_eq!(pending as usize, rs.pending_created.len(), "{}: tail times", name());
            let held: usize = rs.held.iter().map(|h| h.len as usize).sum();
            assert_eq!(held, rs.held_created.len(), "{}: held times", name());
        }
    }
}
