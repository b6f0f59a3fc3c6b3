//! Where a producer's batch goes when a cluster runs: appended by the leader (below the high
//! watermark at once when every ISR follower keeps up with no delay, else into the uncommitted
//! tail), or held by the producer while it cannot write the partition (its leader is down,
//! unreachable or moving, or acks=all finds the ISR below min.insync.replicas); and what happens
//! to held batches: sent again once the producer finds a leader that takes them, or failed after
//! delivery.timeout.ms (`../shared/replication.md` §1.5, §1.6, §2).

use super::replica_set::{Block, Held, Pending};
use super::{Cluster, ClusterEv};
use crate::kafka::broker::Partition;
use crate::kafka::world::Ev;
use crate::record::Recorder;
use crate::record::cluster::{ClusterEvent, LossCause, Unavailable};
use crate::record::event::What;
use crate::scenario::plan::Acks;
use crate::sim::{Kernel, SimDuration, SimTime};
use std::cmp::Reverse;

/// What the cluster's handlers write to and schedule on.
pub struct Io<'a> {
    pub rec: &'a mut Recorder,
    pub kernel: &'a mut Kernel<Ev>,
    /// Each producer's record size (bytes), by producer index.
    pub record_size: &'a [u64],
}

impl Io<'_> {
    pub fn event(&mut self, at: SimTime, e: ClusterEvent) {
        self.rec.event(at, What::Cluster(e));
    }
}

/// A producer's batch as it reaches a partition's leader.
#[derive(Clone, Copy)]
pub(crate) struct Batch<'a> {
    pub producer: u32,
    /// When it reaches the leader.
    pub at: SimTime,
    /// Its records' create times, µs.
    pub times: &'a [u64],
}

/// Whether a producer can send a batch to the partition's leader now.
pub(crate) enum Gate {
    Open,
    /// It cannot: the batch waits at the producer (`error`: why, "" when it only waits for
    /// requests in flight to be answered).
    Hold(&'static str),
}

impl Cluster {
    /// A producer's batch reaches partition `p`. Returns true when it went into the log (readers
    /// may wake).
    pub(crate) fn arrive(&mut self, p: u32, batch: Batch, part: &mut Partition, io: &mut Io) -> bool {
        let Batch { producer: k, at, times } = batch;
        io.rec.cluster.producers[k as usize].records_sent += times.len() as u64;
        match self.gate(p, k, at) {
            Gate::Open => self.write(p, batch, part, false, io),
            Gate::Hold(error) => {
                let first_created = SimTime(times[0] * 1_000);
                // Only the request that found the failure was sent; later batches wait in the
                // accumulator and are sent once, not retried.
                let sent = !error.is_empty() && self.parts[p as usize].block_of(k).is_none();
                let held = Held { producer: k, len: times.len() as u32, first_created, sent, written: false };
                self.parts[p as usize].push_held(held, times);
                if self.parts[p as usize].block_of(k).is_none() {
                    self.block(p, k, at, error, io);
                }
                self.schedule_delivery_check(p, io);
                false
            }
        }
    }

    pub(crate) fn gate(&self, p: u32, k: u32, at: SimTime) -> Gate {
        let rs = &self.parts[p as usize];
        if let Some(b) = rs.block_of(k) {
            return Gate::Hold(b.error);
        }
        if let Err(error) = self.leader_takes(p, k, at) {
            return Gate::Hold(error);
        }
        // The high watermark stands still (an ISR member cannot fetch): requests wait for
        // acks, and no more than max.in.flight.requests.per.connection go out.
        let link = &self.producers[k as usize].delivery;
        if link.acks == Acks::All && self.commit_lag(p).is_none() && rs.in_flight(k) >= link.max_in_flight {
            return Gate::Hold("");
        }
        Gate::Open
    }

    /// Whether `p`'s leader takes producer `k`'s request at `at`, or the error it answers.
    pub(crate) fn leader_takes(&self, p: u32, k: u32, at: SimTime) -> Result<(), &'static str> {
        let rs = &self.parts[p as usize];
        let Some(leader) = rs.leader else { return Err("NOT_LEADER_OR_FOLLOWER") };
        let n = self.node(leader);
        if !n.running {
            return Err("NETWORK_EXCEPTION");
        }
        if !n.reachable {
            return Err("REQUEST_TIMED_OUT");
        }
        if n.fenced || n.shutting_down || at < rs.leader_known_at {
            return Err("NOT_LEADER_OR_FOLLOWER");
        }
        if self.producers[k as usize].delivery.acks == Acks::All && rs.below_min_isr() {
            return Err("NOT_ENOUGH_REPLICAS");
        }
        Ok(())
    }

    /// How long after its append a batch of `p` commits now; None while it cannot (the leader
    /// is gone, an ISR member cannot fetch, or the ISR is below min.insync.replicas).
    pub fn commit_lag(&self, p: u32) -> Option<SimDuration> {
        // Every batch asks; the answer changes only when the cluster changes (a cluster event or
        // a broker action bumps `generation`), so it is kept per partition until then.
        let rs = &self.parts[p as usize];
        if self.busy {
            return Self::lag_of(self, rs); // a handler is changing the cluster
        }
        let (generation, lag) = rs.lag_cache.get();
        if generation == self.generation {
            return lag;
        }
        let lag = Self::lag_of(self, rs);
        rs.lag_cache.set((self.generation, lag));
        lag
    }

    pub(crate) fn lag_of(&self, rs: &super::replica_set::ReplicaSet) -> Option<SimDuration> {
        let leader = rs.leader?;
        if !self.serving(leader) || rs.below_min_isr() {
            return None;
        }
        let mut lag = SimDuration::ZERO;
        for &f in rs.isr.iter().filter(|&&f| f != leader) {
            let i = rs.index_of(f).expect("an ISR member is a replica");
            if rs.reps[i] != super::replica_set::Rep::Tracking || !self.serving(f) {
                return None;
            }
            lag = lag.max(self.follower_lag(f) + self.delay);
        }
        Some(lag)
    }

    /// The leader appends the batch: into the log when it commits at once, else into the tail.
    pub(crate) fn write(&mut self, p: u32, batch: Batch, part: &mut Partition, duplicate: bool, io: &mut Io) -> bool {
        let Batch { producer: k, at, times } = batch;
        let len = times.len() as u64;
        let acks = self.producers[k as usize].delivery.acks;
        let acked = acks != Acks::All;
        let stats = &mut io.rec.cluster.producers[k as usize];
        if duplicate {
            stats.duplicates_written += len;
        } else if acked {
            stats.records_acked += len;
        }
        let lag = self.commit_lag(p);
        let rs = &mut self.parts[p as usize];
        rs.count_written(k, len);
        if rs.pending.is_empty() && lag == Some(SimDuration::ZERO) {
            if !acked && !duplicate {
                io.rec.cluster.producers[k as usize].records_acked += len;
            }
            part.append_batch(times, io.record_size[k as usize]);
            return true;
        }
        let waited = !acked && !duplicate;
        // The request was sent a network delay before it arrived; the producer gives up on it
        // request.timeout.ms after sending.
        let expires = if waited {
            SimTime(at.as_nanos().saturating_sub(self.delay.as_nanos()))
                + self.producers[k as usize].delivery.request_timeout
        } else {
            SimTime::MAX
        };
        rs.push_pending(Pending { at, producer: k, len: len as u32, acked, duplicate, expires, resend: false }, times);
        if waited && rs.timeout_check.is_none() && self.at_risk(lag) {
            self.arm_timeouts(p, io);
        }
        if let Some(l) = lag {
            // Batches of one lag commit in the order they arrive: a queue per lag keeps them
            // sorted at O(1) a batch (the heap is for re-arming after a change).
            match self.fifos.iter_mut().find(|(fl, _)| *fl == l) {
                Some((_, q)) => q.push_back((at + l, p)),
                None => self.fifos.push((l, std::collections::VecDeque::from([(at + l, p)]))),
            }
        }
        if let Some(l) = lag
            && (part.push_fed || !part.waiters.is_empty())
        {
            self.wake_at(p, at + l, io);
        }
        false
    }

    /// Schedules a high-watermark wake-up of `p` at `t` (readers wait there), unless one comes sooner.
    pub(crate) fn wake_at(&mut self, p: u32, t: SimTime, io: &mut Io) {
        let rs = &mut self.parts[p as usize];
        if rs.hw_event.is_some_and(|w| w <= t) {
            return;
        }
        rs.hw_event = Some(t);
        io.kernel.schedule_at(t, Ev::Cluster(ClusterEv::HwWake(p)));
    }

    /// Moves every batch of `p` that has committed by `now` into the log (the high watermark
    /// passes it; acks=all producers are told it is written). True when the log grew.
    pub(crate) fn promote(&mut self, p: u32, now: SimTime, part: &mut Partition, io: &mut Io) -> bool {
        self.promote_chained(p, now, part, io, true)
    }

    /// [`promote`](Self::promote); `chain`: arm the heap for the next head (its queue entry
    /// may be stale after a change), else leave it to its queue entry.
    fn promote_chained(&mut self, p: u32, now: SimTime, part: &mut Partition, io: &mut Io, chain: bool) -> bool {
        let Some(lag) = self.commit_lag(p) else { return false };
        let rs = &mut self.parts[p as usize];
        let mut grew = false;
        while rs.pending.front().is_some_and(|b| b.at + lag <= now) {
            let b = rs.pending.pop_front().expect("a head");
            if !b.acked && !b.duplicate {
                io.rec.cluster.producers[b.producer as usize].records_acked += u64::from(b.len);
            }
            // Straight from the tail's ring of create times into the log, no copy between.
            let n = b.len as usize;
            let (front, back) = rs.pending_created.as_slices();
            let first = &front[..n.min(front.len())];
            let second = &back[..n - first.len()];
            part.append_batch_parts([first, second], io.record_size[b.producer as usize]);
            if b.resend {
                // Its request timed out and the retry waits at the producer: it goes out when the
                // producer writes again, though this copy is in now (`sent` is false: the retry
                // was counted when the request timed out).
                let times: Vec<u64> = first.iter().chain(second).copied().collect();
                let first_created = SimTime(times[0] * 1_000);
                let retry = Held { producer: b.producer, len: b.len, first_created, sent: false, written: true };
                rs.push_held(retry, &times);
            }
            rs.pending_created.drain(..n);
            rs.pending_records -= u64::from(b.len);
            grew = true;
        }
        if chain && let Some(head) = rs.pending.front() {
            self.commits.push(Reverse((head.at + lag, p)));
        }
        grew
    }

    /// Producer `k` cannot write `p` from `at`, for `error`.
    pub(crate) fn block(&mut self, p: u32, k: u32, at: SimTime, error: &'static str, io: &mut Io) {
        let broker = self.parts[p as usize].leader;
        let refused_for_isr = error == "NOT_ENOUGH_REPLICAS";
        self.parts[p as usize].blocked.push(Block {
            producer: k,
            broker,
            since: at,
            error,
            resume_at: None,
            refused_for_isr,
        });
        io.rec.cluster.unavailable.push(Unavailable { producer: k, partition: p, from: at, to: None });
        if !error.is_empty() {
            io.event(at, ClusterEvent::ProduceFailed { producer: k, partition: p, error });
        }
        self.plan_resumes(p, at, io);
    }

    /// For every producer blocked on `p` whose way back is known by now, when it writes again.
    pub(crate) fn plan_resumes(&mut self, p: u32, now: SimTime, io: &mut Io) {
        for i in 0..self.parts[p as usize].blocked.len() {
            let b = self.parts[p as usize].blocked[i];
            if b.resume_at.is_some() {
                continue;
            }
            if let Some(t) = self.resume_time(p, b, now) {
                self.parts[p as usize].blocked[i].resume_at = Some(t);
                io.kernel.schedule_at(t, Ev::Cluster(ClusterEv::Resume { p, k: b.producer }));
            } else if !b.refused_for_isr && retrying(b.error) && self.refuses_for_isr(p, b.producer) {
                // Blocked by a failed leader, and the one elected has too few in-sync replicas:
                // from now on the retries it answers fail for min.insync.replicas. (A producer
                // whose requests still wait, for acks or for request.timeout.ms, sends none yet.)
                self.note_refused_for_isr(p, b.producer, now, io);
            }
        }
    }

    /// Producer `k`, held back on `p`, has its retries refused from `now` on because the ISR is
    /// below min.insync.replicas (Kafka: Partition#appendRecordsToLeader throws
    /// NotEnoughReplicasException for acks=-1 while the ISR is below the effective
    /// min.insync.replicas): logged once per stretch, as the error that stands.
    pub(crate) fn note_refused_for_isr(&mut self, p: u32, k: u32, now: SimTime, io: &mut Io) {
        let Some(b) = self.parts[p as usize].blocked.iter_mut().find(|b| b.producer == k) else { return };
        if !std::mem::replace(&mut b.refused_for_isr, true) {
            io.event(now, ClusterEvent::ProduceFailed { producer: k, partition: p, error: "NOT_ENOUGH_REPLICAS" });
        }
    }

    /// Whether `p`'s leader is up and answers producer `k`'s writes with NOT_ENOUGH_REPLICAS
    /// (acks=all while its ISR is below min.insync.replicas).
    fn refuses_for_isr(&self, p: u32, k: u32) -> bool {
        let rs = &self.parts[p as usize];
        rs.leader.is_some_and(|l| self.serving(l))
            && self.producers[k as usize].delivery.acks == Acks::All
            && rs.below_min_isr()
    }

    /// When a blocked producer writes again, if its partition has a leader that takes its writes.
    fn resume_time(&mut self, p: u32, b: Block, now: SimTime) -> Option<SimTime> {
        let rs = &self.parts[p as usize];
        let leader = rs.leader?;
        if !self.serving(leader) {
            return None;
        }
        let known = rs.leader_known_at.max(now);
        let d = self.producers[b.producer as usize].delivery.clone();
        if d.acks == Acks::All && rs.below_min_isr() {
            return None;
        }
        let can_commit = self.commit_lag(p).is_some();
        let rng = &mut self.producers[b.producer as usize].rng;
        let (retry, max) = (d.retry_backoff, d.retry_backoff_max);
        Some(match b.error {
            // Waiting for requests in flight: sent once the high watermark can move again.
            "" if !can_commit => return None,
            "" => now,
            // A request to an unreachable leader fails only at request.timeout.ms; then the
            // producer refreshes its metadata until it names a leader that answers.
            "REQUEST_TIMED_OUT" => {
                // Unless the network heals first: the old leader then answers the request
                // (NOT_LEADER_OR_FOLLOWER, naming the new one).
                let healed = b.broker.and_then(|o| self.nodes[o as usize - 1].isolated_until).filter(|&h| h <= now);
                let answered = match healed {
                    Some(h) => (h + self.delay + self.delay).min(b.since + d.request_timeout),
                    None => b.since + d.request_timeout,
                };
                let rng = &mut self.producers[b.producer as usize].rng;
                Cluster::refresh_after(rng, answered, known.max(answered), retry, max)
            }
            // Refused for min.insync.replicas: retried with backoff until the ISR is back.
            "NOT_ENOUGH_REPLICAS" => Cluster::refresh_after(rng, b.since, known, retry, max),
            // KIP-951: an old leader still alive names the new one in its answer, retried at once.
            "NOT_LEADER_OR_FOLLOWER" if rs.moved_live => known + self.delay + self.delay,
            _ => Cluster::refresh_after(rng, b.since, known, retry, max),
        })
    }

    /// The held batches' oldest delivery deadline, checked then.
    pub(crate) fn schedule_delivery_check(&mut self, p: u32, io: &mut Io) {
        let rs = &mut self.parts[p as usize];
        if rs.delivery_check || rs.held.is_empty() {
            return;
        }
        let deadline = rs
            .held
            .iter()
            .map(|h| h.first_created + self.producers[h.producer as usize].delivery.delivery_timeout)
            .min()
            .expect("held batches");
        rs.delivery_check = true;
        io.kernel.schedule_at(deadline, Ev::Cluster(ClusterEv::DeliveryCheck(p)));
    }

    /// delivery.timeout.ms passed for held batches: the producer fails them (lost).
    pub(crate) fn delivery_check(&mut self, p: u32, now: SimTime, io: &mut Io) {
        self.parts[p as usize].delivery_check = false;
        let producers: Vec<u32> = self.parts[p as usize].held.iter().map(|h| h.producer).collect();
        let mut seen = Vec::new();
        for k in producers {
            if seen.contains(&k) {
                continue;
            }
            seen.push(k);
            let timeout = self.producers[k as usize].delivery.delivery_timeout;
            let mut lost = 0;
            for (h, times) in self.parts[p as usize].take_held(k) {
                if h.first_created + timeout <= now {
                    lost += if h.written { 0 } else { u64::from(h.len) };
                } else {
                    self.parts[p as usize].push_held(h, &times);
                }
            }
            if lost > 0 {
                self.lose(p, k, lost, LossCause::DeliveryTimeout, now, io);
            }
        }
        self.schedule_delivery_check(p, io);
    }

    pub(crate) fn lose(&mut self, p: u32, k: u32, records: u64, cause: LossCause, now: SimTime, io: &mut Io) {
        let i = LossCause::ALL.iter().position(|&c| c == cause).expect("a cause");
        io.rec.cluster.producers[k as usize].lost_by_cause[i] += records;
        io.event(now, ClusterEvent::RecordsLost { producer: k, partition: p, records, cause });
    }

    /// Producer `k` can write `p` again (if nothing changed since the resume was planned): its
    /// held batches go to the leader in order, as retries where they had been sent.
    pub(crate) fn resume(&mut self, p: u32, k: u32, now: SimTime, part: &mut Partition, io: &mut Io) -> bool {
        let rs = &self.parts[p as usize];
        let Some(i) = rs.blocked.iter().position(|b| b.producer == k && b.resume_at == Some(now)) else {
            return false;
        };
        let b = self.parts[p as usize].blocked.remove(i);
        if let Gate::Hold(error) = self.gate(p, k, now) {
            // Something failed again meanwhile: blocked anew from here.
            self.parts[p as usize].blocked.push(Block { resume_at: None, ..b });
            self.parts[p as usize].blocked.last_mut().expect("pushed").error = error;
            self.plan_resumes(p, now, io);
            return false;
        }
        let unavailable = now - b.since;
        self.end_unavailable(p, k, now, unavailable, io);
        let idempotent = self.producers[k as usize].delivery.enable_idempotence;
        let mut grew = self.resend_timed_out(p, k, now, part, io);
        for (h, times) in self.parts[p as usize].take_held(k) {
            if h.sent {
                io.rec.cluster.producers[k as usize].retries += 1;
            }
            if h.written && idempotent {
                continue; // the leader has it: idempotence answers with the first copy's offsets
            }
            grew |= self.write(p, Batch { producer: k, at: now, times: &times }, part, h.written, io);
        }
        grew
    }

    fn end_unavailable(&mut self, p: u32, k: u32, now: SimTime, unavailable: SimDuration, io: &mut Io) {
        let u =
            io.rec.cluster.unavailable.iter_mut().rev().find(|u| u.producer == k && u.partition == p && u.to.is_none());
        if let Some(u) = u {
            u.to = Some(now);
        }
        let s = &mut io.rec.cluster.producers[k as usize];
        s.unavailable_total += unavailable;
        s.unavailable_max = s.unavailable_max.max(unavailable);
        io.event(now, ClusterEvent::ProduceResumed { producer: k, partition: p, unavailable });
    }

    /// Lazily commits every tail whose head is due by `now`; returns partitions whose log grew.
    pub(crate) fn promote_due(&mut self, now: SimTime, parts: &mut [Partition], io: &mut Io) {
        loop {
            // The earliest due entry: a queue head or the heap's top.
            let mut best: Option<(SimTime, Option<usize>)> =
                self.commits.peek().map(|Reverse((t, _))| (*t, None)).filter(|(t, _)| *t <= now);
            for (i, (_, q)) in self.fifos.iter().enumerate() {
                if let Some(&(t, _)) = q.front()
                    && t <= now
                    && best.is_none_or(|(b, _)| t < b)
                {
                    best = Some((t, Some(i)));
                }
            }
            let Some((t, from)) = best else { break };
            let p = match from {
                Some(i) => self.fifos[i].1.pop_front().expect("a head").1,
                None => self.commits.pop().expect("a top").0.1,
            };
            let part = &mut parts[p as usize];
            if part.push_fed || !part.waiters.is_empty() {
                // Someone waits for it: its own event commits it and wakes them.
                self.wake_at(p, t.max(now), io);
            } else {
                self.promote_chained(p, now, part, io, from.is_none());
            }
        }
    }
}

/// Whether a producer blocked for `error` keeps retrying (refreshing its metadata until a leader
/// answers): a refused or unreachable-leader request, as opposed to requests still waiting in
/// the leader's purgatory ("") or for request.timeout.ms.
fn retrying(error: &str) -> bool {
    matches!(error, "NETWORK_EXCEPTION" | "NOT_LEADER_OR_FOLLOWER")
}
