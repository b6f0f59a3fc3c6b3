//! Requests that wait too long for their acks (`../shared/replication.md` §1.6, §2).
//!
//! An acks=all batch the leader appended waits in the leader's purgatory until the high watermark
//! passes it (Kafka's `DelayedProduce`, bounded by the request's `timeoutMs`). While the high
//! watermark stands still (the ISR is below min.insync.replicas, or an ISR member cannot fetch),
//! the producer's request times out after request.timeout.ms (REQUEST_TIMED_OUT) and the
//! producer's `Sender#completeBatch` / `canRetry` sends the batch again:
//! - to a leader that takes it, a retry with idempotence is recognised (the broker keeps the last
//!   5 batches per producer, `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`, and at most 5
//!   requests are in flight) and waits again; without
//!   idempotence it is appended a second time (a duplicate) and waits again too: either way
//!   it times out again after request.timeout.ms while nothing commits;
//! - to a leader that refuses it (NOT_ENOUGH_REPLICAS, or it cannot be reached) the retry waits
//!   at the producer with its other held batches, and goes out when they do (the first
//!   NOT_ENOUGH_REPLICAS is logged, as the refusal its retries get from then on).
//!
//! Once delivery.timeout.ms has passed since the batch was made, the producer fails it (counted
//! lost, cause `delivery_timeout`) even though it is in the leader's log: if the high watermark
//! later passes it, readers get records the producer was told had failed.

use super::produce::{Batch, Io};
use super::{Cluster, ClusterEv};
use crate::kafka::broker::Partition;
use crate::kafka::world::Ev;
use crate::record::cluster::{ClusterEvent, LossCause};
use crate::sim::{SimDuration, SimTime};

impl Cluster {
    /// The tail's requests may wait long enough to time out: nothing commits. (A tail that
    /// commits, however late, is not checked: a follower lagging more than request.timeout.ms
    /// leaves the ISR soon after, see `lagging`; the requests waiting on it meanwhile are not
    /// timed out.)
    pub(crate) fn at_risk(&self, lag: Option<SimDuration>) -> bool {
        lag.is_none()
    }

    /// Schedules the check of `p`'s waiting requests at the earliest of their deadlines, when
    /// its tail is at risk.
    pub(crate) fn arm_timeouts(&mut self, p: u32, io: &mut Io) {
        if !self.at_risk(self.commit_lag(p)) {
            return;
        }
        let rs = &self.parts[p as usize];
        let mut offset = 0;
        let mut first: Option<SimTime> = None;
        for b in &rs.pending {
            if !b.acked && !b.duplicate {
                let created = SimTime(rs.pending_created[offset] * 1_000);
                let d = &self.producers[b.producer as usize].delivery;
                let t = b.expires.min(created + d.delivery_timeout);
                first = Some(first.map_or(t, |f| f.min(t)));
            }
            offset += b.len as usize;
        }
        // A deadline that passed while the tail was not at risk (or its leader did not serve) is
        // checked now.
        let Some(t) = first.map(|t| t.max(io.kernel.now())) else { return };
        let rs = &mut self.parts[p as usize];
        if rs.timeout_check.is_some_and(|c| c <= t) {
            return;
        }
        rs.timeout_check = Some(t);
        io.kernel.schedule_at(t, Ev::Cluster(ClusterEv::RequestTimeout(p)));
    }

    /// Every partition whose tail is at risk now gets its check (after a broker changed).
    pub(crate) fn arm_all_timeouts(&mut self, io: &mut Io) {
        for p in 0..self.parts.len() as u32 {
            if !self.parts[p as usize].pending.is_empty() {
                self.arm_timeouts(p, io);
            }
        }
    }

    /// The check of `p`'s waiting requests: those past delivery.timeout.ms fail, those past
    /// request.timeout.ms are sent again. Returns true when the log grew.
    pub(crate) fn request_timeouts(&mut self, p: u32, now: SimTime, part: &mut Partition, io: &mut Io) -> bool {
        if self.parts[p as usize].timeout_check != Some(now) {
            return false; // a later check replaced this one
        }
        self.parts[p as usize].timeout_check = None;
        // What has committed by now is answered, not timed out.
        let grew = self.rearm(p, now, part, io);
        // Requests to a leader that does not serve end with the election (`cut_tail`).
        if self.parts[p as usize].leader.is_none_or(|l| !self.serving(l)) {
            return grew;
        }
        let mut copies = Vec::new();
        let mut failed: Vec<(u32, u64)> = Vec::new();
        let mut timed_out: Vec<u32> = Vec::new();
        let mut offset = 0;
        for i in 0..self.parts[p as usize].pending.len() {
            let rs = &self.parts[p as usize];
            let b = rs.pending[i];
            let created = SimTime(rs.pending_created[offset] * 1_000);
            let start = offset;
            offset += b.len as usize;
            if b.acked || b.duplicate {
                continue;
            }
            let d = self.producers[b.producer as usize].delivery.clone();
            if created + d.delivery_timeout <= now {
                // The producer fails the batch; the copy in the log is one nobody waits for.
                let b = &mut self.parts[p as usize].pending[i];
                (b.duplicate, b.resend, b.expires) = (true, false, SimTime::MAX);
                match failed.iter_mut().find(|(k, _)| *k == b.producer) {
                    Some((_, n)) => *n += u64::from(b.len),
                    None => failed.push((b.producer, u64::from(b.len))),
                }
                continue;
            }
            if b.expires > now {
                continue;
            }
            io.rec.cluster.producers[b.producer as usize].retries += 1;
            if !timed_out.contains(&b.producer) {
                timed_out.push(b.producer);
                let e = ClusterEvent::ProduceFailed { producer: b.producer, partition: p, error: "REQUEST_TIMED_OUT" };
                io.event(now, e);
            }
            let open = self.leader_takes(p, b.producer, now);
            let rs = &mut self.parts[p as usize];
            match open {
                Ok(()) if d.enable_idempotence => {
                    // Recognised as a duplicate: the retry waits for the high watermark again.
                    rs.pending[i].expires = now + d.request_timeout;
                }
                Ok(()) => {
                    // Appended a second time; the producer now waits for the retry's answer,
                    // which times out alike if the high watermark still stands (the copy is
                    // behind this batch in the log: it commits no sooner).
                    rs.pending[i].expires = now + d.request_timeout;
                    let times: Vec<u64> = rs.pending_created.range(start..offset).copied().collect();
                    copies.push((b.producer, times));
                }
                Err(error) => {
                    rs.pending[i].expires = SimTime::MAX;
                    rs.pending[i].resend = true;
                    if rs.block_of(b.producer).is_none() {
                        self.block(p, b.producer, now, error, io);
                    } else if error == "NOT_ENOUGH_REPLICAS" {
                        // Already held back (its other requests waited): the refusal is what its
                        // retries get from now on.
                        self.note_refused_for_isr(p, b.producer, now, io);
                    }
                }
            }
        }
        for (k, n) in failed {
            self.lose(p, k, n, LossCause::DeliveryTimeout, now, io);
        }
        let mut grew = grew;
        for (k, times) in copies {
            grew |= self.write(p, Batch { producer: k, at: now, times: &times }, part, true, io);
        }
        self.arm_timeouts(p, io);
        grew
    }

    /// Producer `k` writes `p` again: the timed-out batches whose retry it held go out first,
    /// appended a second time without idempotence (with it, the leader recognises them).
    pub(crate) fn resend_timed_out(&mut self, p: u32, k: u32, now: SimTime, part: &mut Partition, io: &mut Io) -> bool {
        let idempotent = self.producers[k as usize].delivery.enable_idempotence;
        let mut copies = Vec::new();
        let mut offset = 0;
        let rs = &mut self.parts[p as usize];
        for b in rs.pending.iter_mut() {
            let start = offset;
            offset += b.len as usize;
            if b.producer != k || !b.resend {
                continue;
            }
            b.resend = false;
            if !idempotent {
                copies.push(rs.pending_created.range(start..offset).copied().collect::<Vec<u64>>());
            }
        }
        let mut grew = false;
        for times in copies {
            grew |= self.write(p, Batch { producer: k, at: now, times: &times }, part, true, io);
        }
        grew
    }
}
