//! Followers that fall too far behind leave the ISR (`../shared/replication.md` §1.3).
//!
//! A follower is caught up while it has fetched the leader's log end within the last
//! replica.lag.time.max.ms (Kafka's `Replica#isCaughtUp`, `lastCaughtUpTimeMs`). Each leader's
//! `isr-expiration` task (`ReplicaManager#startup`) runs every half of that and removes the
//! followers that are not (`Partition#maybeShrinkIsr`); one rejoins when its log end reaches the
//! high watermark (`Partition#maybeExpandIsr`). A follower that has each batch more than
//! replica.lag.time.max.ms after its append (a `slow_broker` lag that long) is never caught up
//! while records keep coming: it leaves the ISR at the first run of the task at least
//! replica.lag.time.max.ms after it slowed, and the high watermark goes on without it. A follower
//! whose partition got no records it lacks stays. When its lag drops back, it copies what it
//! lacks (a fetch of replica.fetch.max.bytes per round trip) and rejoins the ISR.

use super::produce::Io;
use super::replica_set::Rep;
use super::{Cluster, ClusterEv};
use crate::kafka::broker::Partition;
use crate::kafka::world::Ev;
use crate::record::cluster::ClusterEvent;
use crate::sim::{SimDuration, SimTime};

impl Cluster {
    /// Broker `b` has each batch too late to count as caught up, ever.
    pub(crate) fn lagging(&self, b: u32) -> bool {
        self.follower_lag(b) > self.replica_lag_time_max
    }

    /// `slow_broker`: broker `b` has its leaders' batches `lag` late from now on.
    pub(crate) fn slow(&mut self, b: u32, lag: SimDuration, now: SimTime, parts: &mut [Partition], io: &mut Io) {
        let old = self.follower_lag(b);
        let n = self.node_mut(b);
        n.lag = lag;
        n.slow_stamp += 1;
        let stamp = n.slow_stamp;
        io.event(now, ClusterEvent::BrokerSlowed { broker: b, lag });
        if self.lagging(b) {
            for l in 1..=self.nodes.len() as u32 {
                if l != b {
                    let at = self.next_isr_expiration(l, now + self.replica_lag_time_max);
                    io.kernel.schedule_at(at, Ev::Cluster(ClusterEv::LagCheck { leader: l, follower: b, stamp }));
                }
            }
            return;
        }
        // Out of the ISR, copying what it lacks: from where it got, at its new pace.
        // `parts` and `self.parts` are parallel tables: the index names the partition in both.
        #[allow(clippy::needless_range_loop)]
        for p in 0..self.parts.len() {
            let rs = &self.parts[p];
            let Some(i) = rs.index_of(b) else { continue };
            let Some(leader) = rs.leader else { continue };
            if leader == b || !matches!(rs.reps[i], Rep::CatchingUp { .. }) || !self.serving(b) || !self.serving(leader)
            {
                continue;
            }
            let log_leo = parts[p].log.log_end_offset();
            let had = rs.replica_leo(i, log_leo, now, old);
            let leader_leo = log_leo + rs.pending_records;
            self.catch_up(p as u32, i, had, leader_leo, now, io);
        }
    }

    /// Leader `l`'s first run of its ISR expiration task at or after `t` (every half of
    /// replica.lag.time.max.ms since it started).
    fn next_isr_expiration(&self, l: u32, t: SimTime) -> SimTime {
        let period = (self.replica_lag_time_max.as_nanos() / 2).max(1);
        let phase = self.node(l).phase.as_nanos() % period;
        let k = t.as_nanos().saturating_sub(phase).div_ceil(period);
        SimTime(phase + k * period)
    }

    /// Leader `l`'s ISR expiration task, for the slowed follower `f` (`stamp`: which slowing).
    pub(crate) fn lag_check(
        &mut self,
        l: u32,
        f: u32,
        stamp: u32,
        now: SimTime,
        parts: &mut [Partition],
        io: &mut Io,
    ) -> Vec<u32> {
        let mut grew = Vec::new();
        if self.node(f).slow_stamp != stamp || !self.lagging(f) {
            return grew;
        }
        if self.serving(f) && self.serving(l) {
            for p in 0..self.parts.len() as u32 {
                let rs = &self.parts[p as usize];
                let Some(i) = rs.index_of(f) else { continue };
                if rs.leader != Some(l) || !rs.in_isr(f) || rs.reps[i] != Rep::Tracking {
                    continue;
                }
                let log_leo = parts[p as usize].log.log_end_offset();
                if rs.replica_leo(i, log_leo, now, self.follower_lag(f)) >= log_leo + rs.pending_records {
                    continue; // nothing came that it lacks: caught up
                }
                // Out of the ISR it goes on copying, a full fetch per (slow) round trip, and
                // rejoins only if that outpaces the writes (see `caught_up`).
                let leo = rs.replica_leo(i, log_leo, now, self.follower_lag(f));
                let isr = rs.isr.iter().copied().filter(|&r| r != f).collect();
                self.set_isr(p, isr, "lagging", now, io);
                let leader_leo = log_leo + self.parts[p as usize].pending_records;
                self.catch_up(p, i, leo, leader_leo, now, io);
                self.scan_timeouts = true;
                if self.rearm(p, now, &mut parts[p as usize], io) {
                    grew.push(p);
                }
            }
        }
        let period = SimDuration(self.replica_lag_time_max.as_nanos() / 2);
        io.kernel.schedule_at(now + period, Ev::Cluster(ClusterEv::LagCheck { leader: l, follower: f, stamp }));
        grew
    }
}
