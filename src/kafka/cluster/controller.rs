//! The KRaft controller's decisions (`../shared/replication.md` §3): fencing a broker (it leaves
//! every ISR, its leaderships move), electing leaders (the current one if still valid, else the
//! first live ISR member in assignment order, else with unclean.leader.election.enable the first
//! live replica, else none), unfencing a broker that came back, and what a new leader's log end
//! cuts from the old leader's tail (§4).

use super::produce::Io;
use super::replica_set::{Held, Pending, Rep};
use super::{Cluster, ClusterEv};
use crate::kafka::broker::Partition;
use crate::kafka::world::Ev;
use crate::record::cluster::{ClusterEvent, Election, LossCause};
use crate::scenario::plan::Acks;
use crate::sim::SimTime;

impl Cluster {
    /// Who leads `rs` after a change (PartitionChangeBuilder#electLeader), and how.
    fn choose(&self, rs: &super::replica_set::ReplicaSet) -> (Option<u32>, Election) {
        if let Some(l) = rs.leader
            && self.serving(l)
            && rs.in_isr(l)
        {
            return (Some(l), Election::Clean);
        }
        if let Some(&r) = rs.replicas.iter().find(|&&r| self.serving(r) && rs.in_isr(r)) {
            return (Some(r), Election::Clean);
        }
        if rs.unclean
            && let Some(&r) = rs.replicas.iter().find(|&&r| self.serving(r))
        {
            return (Some(r), Election::Unclean);
        }
        (None, Election::None)
    }

    /// Elects `p`'s leader again if its current one cannot lead; returns the log end the new
    /// leader starts from when it is below the high watermark (an unclean election).
    pub(crate) fn reelect(&mut self, p: u32, now: SimTime, part: &mut Partition, io: &mut Io) -> Option<u64> {
        let (new, election) = self.choose(&self.parts[p as usize]);
        let old = self.parts[p as usize].leader;
        if new == old && new.is_some() {
            return None;
        }
        self.install_leader(p, new, election, now, part, io)
    }

    /// `new` leads `p` from now (None: offline), chosen by `election`.
    pub(crate) fn install_leader(
        &mut self,
        p: u32,
        new: Option<u32>,
        election: Election,
        now: SimTime,
        part: &mut Partition,
        io: &mut Io,
    ) -> Option<u64> {
        let old = self.parts[p as usize].leader;
        let log_leo = part.log.log_end_offset();
        let lost_at = self.parts[p as usize].leader_lost_at.unwrap_or(now);
        let moved_live = old.is_some_and(|o| self.node(o).running && self.node(o).reachable);
        let mut cut_below_hw = None;
        if let Some(nl) = new {
            let i = self.parts[p as usize].index_of(nl).expect("a replica");
            let lag = self.follower_lag(nl);
            let leo = self.parts[p as usize].replica_leo(i, log_leo, now, lag);
            self.cut_tail(p, log_leo, leo.max(log_leo), lost_at, now, io);
            if leo < log_leo {
                cut_below_hw = Some(leo);
            }
            self.settle_followers(p, nl, leo, now, io);
            if election == Election::Unclean {
                self.set_isr(p, vec![nl], "unclean_election", now, io);
            }
            self.parts[p as usize].reps[i] = Rep::Tracking;
        } else if old.is_some() {
            // Nobody can lead: what the old leader had beyond the high watermark stays on it
            // (it may come back and lead again); producers wait.
            self.parts[p as usize].offline_since.get_or_insert(now);
        }
        let rs = &mut self.parts[p as usize];
        rs.leader = new;
        rs.leader_epoch += 1;
        rs.leader_known_at = now + self.meta_delay;
        rs.moved_live = moved_live;
        rs.leader_lost_at = None;
        if new.is_some()
            && let Some(since) = rs.offline_since.take()
        {
            io.rec.cluster.partitions[p as usize].offline += now - since;
        }
        let epoch = rs.leader_epoch;
        io.rec.cluster.partitions[p as usize].leader_changes += 1;
        io.rec.cluster.leaders.push((now, p, new));
        io.event(
            now,
            ClusterEvent::LeaderElected { partition: p, leader: new, previous: old, leader_epoch: epoch, election },
        );
        part.unreadable = true;
        if new.is_some() {
            let known = rs.leader_known_at;
            let readable = if moved_live {
                known + self.delay + self.delay
            } else {
                let since = lost_at.min(now);
                let rng = &mut self.rng;
                Cluster::refresh_after(
                    rng,
                    since,
                    known,
                    crate::sim::SimDuration::from_millis(100),
                    crate::sim::SimDuration::from_millis(1000),
                )
            };
            io.kernel.schedule_at(readable, Ev::Cluster(ClusterEv::Readable { p, epoch }));
        }
        self.plan_resumes(p, now, io);
        self.rearm(p, now, part, io);
        self.arm_balance(now, io);
        cut_below_hw
    }

    /// The new leader's other replicas: live ones cut what they have beyond its log end and
    /// fetch from it; dead ones will cut it when they return.
    fn settle_followers(&mut self, p: u32, leader: u32, leo: u64, now: SimTime, io: &mut Io) {
        for i in 0..self.parts[p as usize].replicas.len() {
            let b = self.parts[p as usize].replicas[i];
            if b == leader {
                continue;
            }
            let live = self.serving(b);
            let rs = &mut self.parts[p as usize];
            match rs.reps[i] {
                Rep::Frozen { leo: own, diverge } if live => {
                    if own > leo {
                        io.event(now, ClusterEvent::LogTruncated { partition: p, broker: b, from: own, to: leo });
                    }
                    let base = own.min(leo).min(diverge);
                    if self.parts[p as usize].in_isr(b) {
                        self.parts[p as usize].reps[i] = Rep::Tracking;
                    } else {
                        self.catch_up(p, i, base, leo, now, io);
                    }
                }
                Rep::Frozen { leo: own, diverge } => rs.reps[i] = Rep::Frozen { leo: own, diverge: diverge.min(leo) },
                // It was copying from the old leader: it goes on from where it got, from the new one.
                Rep::CatchingUp { from, base, per_ns } if live => {
                    let got = (base + ((now - from).as_nanos() as f64 * per_ns) as u64).min(leo);
                    self.catch_up(p, i, got, leo, now, io);
                }
                Rep::Tracking | Rep::CatchingUp { .. } => {}
            }
        }
    }

    /// Replica `i` of `p` copies from the leader from `base`; it rejoins the ISR once it has
    /// the leader's log end `leader_leo` (see `caught_up`).
    pub(crate) fn catch_up(&mut self, p: u32, i: usize, base: u64, leader_leo: u64, now: SimTime, io: &mut Io) {
        let rs = &mut self.parts[p as usize];
        let b = rs.replicas[i];
        let per_ns = self.catch_up_rate(b);
        let rs = &mut self.parts[p as usize];
        rs.reps[i] = Rep::CatchingUp { from: now, base, per_ns };
        let gap = leader_leo.saturating_sub(base);
        let t = now + crate::sim::SimDuration((gap as f64 / per_ns) as u64) + self.delay + self.delay;
        io.kernel.schedule_at(t, Ev::Cluster(ClusterEv::CaughtUp { p, broker: b }));
    }

    /// The new leader has the old leader's tail up to `keep` (an offset): the rest is cut. What
    /// the producer was told was written is lost (acks 0 and 1); what it was not told is sent
    /// again; what the new leader has but the producer was not told of is sent again too, and
    /// written twice unless idempotence recognises it.
    fn cut_tail(&mut self, p: u32, log_leo: u64, keep: u64, lost_at: SimTime, now: SimTime, io: &mut Io) {
        let rs = &mut self.parts[p as usize];
        let mut batches = Vec::new();
        let mut times = Vec::new();
        while let Some(b) = rs.pop_pending(&mut times) {
            batches.push((b, times.clone()));
        }
        let mut at_offset = log_leo;
        let mut lost: Vec<(u32, LossCause, u64)> = Vec::new();
        for (b, times) in batches {
            let end = at_offset + u64::from(b.len);
            at_offset = end;
            let acks = self.producers[b.producer as usize].delivery.acks;
            let told = b.acked && b.at + self.delay <= lost_at;
            let held = |written| Held {
                producer: b.producer,
                len: b.len,
                first_created: SimTime(times[0] * 1_000),
                sent: true,
                written,
            };
            let rs = &mut self.parts[p as usize];
            if end <= keep {
                if !b.duplicate && !told && acks != Acks::Zero {
                    rs.push_held(held(true), &times);
                }
                // The held copy is its retry now (one held after a timeout goes with it).
                rs.push_pending(Pending { resend: false, ..b }, &times);
            } else if b.duplicate {
                // A second copy cut: nothing the producer waits for.
            } else if acks == Acks::Zero {
                lost.push((b.producer, LossCause::Acks0, u64::from(b.len)));
            } else if told {
                lost.push((b.producer, LossCause::LeaderFailover, u64::from(b.len)));
            } else {
                if b.acked {
                    // Counted when the leader appended it, but the answer never reached the
                    // producer: it sends the batch again and counts it then.
                    io.rec.cluster.producers[b.producer as usize].records_acked -= u64::from(b.len);
                }
                rs.push_held(held(false), &times);
            }
        }
        // One record of the loss per producer and cause, not one per batch.
        let mut summed: Vec<(u32, LossCause, u64)> = Vec::new();
        for (k, cause, n) in lost {
            match summed.iter_mut().find(|(sk, sc, _)| *sk == k && *sc == cause) {
                Some((_, _, total)) => *total += n,
                None => summed.push((k, cause, n)),
            }
        }
        for (k, cause, n) in summed {
            self.lose(p, k, n, cause, now, io);
        }
        let waiting: Vec<u32> = self.parts[p as usize].held.iter().map(|h| h.producer).collect();
        for k in waiting {
            if self.parts[p as usize].block_of(k).is_none() {
                let error = if self.parts[p as usize].leader.is_some_and(|l| !self.node(l).running) {
                    "NETWORK_EXCEPTION"
                } else {
                    "NOT_LEADER_OR_FOLLOWER"
                };
                self.block(p, k, lost_at.min(now), error, io);
            }
        }
        self.schedule_delivery_check(p, io);
    }

    /// The commit lag of `p` may have changed: commit what is due now, and arm the next commit.
    pub(crate) fn rearm(&mut self, p: u32, now: SimTime, part: &mut Partition, io: &mut Io) -> bool {
        let grew = self.promote(p, now, part, io);
        if !self.parts[p as usize].blocked.is_empty() {
            self.plan_resumes(p, now, io);
        }
        if let (Some(lag), Some(head)) = (self.commit_lag(p), self.parts[p as usize].pending.front())
            && (part.push_fed || !part.waiters.is_empty())
        {
            let t = (head.at + lag).max(now);
            self.wake_at(p, t, io);
        }
        grew
    }

    /// Sets `p`'s ISR (kept in assignment order) and records the change.
    pub(crate) fn set_isr(&mut self, p: u32, isr: Vec<u32>, reason: &'static str, now: SimTime, io: &mut Io) {
        let rs = &mut self.parts[p as usize];
        if rs.isr == isr {
            return;
        }
        let mut ordered: Vec<u32> = rs.replicas.iter().copied().filter(|r| isr.contains(r)).collect();
        ordered.dedup();
        rs.isr = ordered.clone();
        let full = rs.isr.len() == rs.replicas.len();
        let stats = &mut io.rec.cluster.partitions[p as usize];
        match (full, rs.under_replicated_since) {
            (false, None) => rs.under_replicated_since = Some(now),
            (true, Some(since)) => {
                stats.under_replicated += now - since;
                rs.under_replicated_since = None;
            }
            _ => {}
        }
        io.event(now, ClusterEvent::IsrChanged { partition: p, isr: ordered, reason });
    }
}

impl Cluster {
    /// An unclean election made a replica whose log ends at `to` the leader, below the high
    /// watermark: committed records from `to` on are gone (lost, cause `unclean_election`,
    /// shared among the partition's producers by what each wrote there), and the offsets will
    /// be used again (§3.4). Readers are moved back by the world (`World::after_truncation`).
    pub(crate) fn cut_committed(&mut self, p: u32, to: u64, now: SimTime, part: &mut Partition, io: &mut Io) {
        let log_leo = part.log.log_end_offset();
        if to >= log_leo {
            return;
        }
        let lost = log_leo - to;
        let written = self.parts[p as usize].written_by.clone();
        let total: u64 = written.iter().map(|(_, n)| n).sum::<u64>().max(1);
        let mut left = lost;
        for (i, &(k, n)) in written.iter().enumerate() {
            let share = if i + 1 == written.len() { left } else { (lost as u128 * n as u128 / total as u128) as u64 };
            left -= share.min(left);
            if share > 0 {
                self.lose(p, k, share, LossCause::UncleanElection, now, io);
            }
        }
        let size = part.log.mean_record_size().max(1);
        part.log.truncate_to(to, size);
        self.parts[p as usize].unclean_cut = true;
        self.truncated.push((p, to));
    }
}
