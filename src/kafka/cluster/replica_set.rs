//! One partition's replicas as the controller and its leader see them: the assignment, the ISR,
//! the leader and its epoch, where each replica's log ends, and the leader's uncommitted tail.
//!
//! The records below the high watermark are the partition's log (`broker::log`), which is all a
//! consumer can read (`../shared/replication.md` §1.7). What the leader has appended above it
//! waits here, batch by batch, until every ISR member has it: a follower that keeps up fetches
//! each batch one `network_delay` (plus its `slow_broker` lag) after the append, and the leader
//! learns it at the follower's next fetch, one `network_delay` later (§1.2, §1.5). So a batch
//! commits at its append time plus the largest of those round trips over the ISR; when an ISR
//! member cannot fetch (it is dead but not fenced yet) nothing commits.

use crate::sim::{SimDuration, SimTime};
use std::collections::VecDeque;

/// Where a replica's log ends, as far as the model needs to know.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rep {
    /// It fetches from the leader and keeps up: it has every batch appended at least its lag ago.
    Tracking,
    /// It cannot fetch (down, isolated, or its leader is gone): its log ends at `leo`. Records
    /// from `diverge` on were replaced under a later leader (it truncates them when it returns).
    Frozen { leo: u64, diverge: u64 },
    /// Back after a failure, copying from the leader at `per_ns` records per nanosecond from `base`
    /// at `from`; it joins the ISR once it reaches the high watermark.
    CatchingUp { from: SimTime, base: u64, per_ns: f64 },
}

/// A batch the leader appended that is not below the high watermark yet.
#[derive(Clone, Copy, Debug)]
pub struct Pending {
    pub at: SimTime,
    pub producer: u32,
    pub len: u32,
    /// The producer was already told it was written (acks 0 or 1).
    pub acked: bool,
    /// A copy nobody waits for: a second copy written by a retry without idempotence, or a
    /// batch the producer already failed (delivery.timeout.ms).
    pub duplicate: bool,
    /// When the producer's request for it times out (request.timeout.ms; MAX: not waited on).
    pub expires: SimTime,
    /// Its request timed out and the producer's retry of it was refused: the retry waits at
    /// the producer with its other held batches.
    pub resend: bool,
}

/// A batch the producer holds: its request failed or it could not be sent yet.
#[derive(Clone, Copy, Debug)]
pub struct Held {
    pub producer: u32,
    pub len: u32,
    /// When its first record was created (delivery.timeout.ms counts from send()).
    pub first_created: SimTime,
    /// It had been sent once: sending it again is a retry.
    pub sent: bool,
    /// Its first copy is in the log already (a retry of it, without idempotence, duplicates it).
    pub written: bool,
}

/// A producer that cannot write this partition now, since `since`, for `error`.
#[derive(Clone, Copy, Debug)]
pub struct Block {
    pub producer: u32,
    /// The leader its failed request went to.
    pub broker: Option<u32>,
    pub since: SimTime,
    pub error: &'static str,
    /// When it writes again, once known.
    pub resume_at: Option<SimTime>,
    /// A new leader took over while the ISR was below min.insync.replicas, so the retries it
    /// answers get NOT_ENOUGH_REPLICAS from then on (recorded once: the error changed).
    pub refused_for_isr: bool,
}

pub struct ReplicaSet {
    /// Brokers in assignment order; the first is the preferred leader.
    pub replicas: Vec<u32>,
    /// In assignment order.
    pub isr: Vec<u32>,
    pub leader: Option<u32>,
    pub leader_epoch: u32,
    /// min(min.insync.replicas, replication factor).
    pub min_isr: u32,
    pub unclean: bool,
    /// Parallel to `replicas`.
    pub reps: Vec<Rep>,
    /// The leader's uncommitted tail, oldest first, and its records' create times (µs).
    pub pending: VecDeque<Pending>,
    pub pending_created: VecDeque<u64>,
    pub pending_records: u64,
    /// Batches the producers hold for this partition, in the order they were made, and their
    /// records' create times.
    pub held: VecDeque<Held>,
    pub held_created: VecDeque<u64>,
    pub blocked: Vec<Block>,
    /// Per producer that wrote here: records appended (to share out what an unclean election cuts).
    pub written_by: Vec<(u32, u64)>,
    /// (cluster generation, commit lag) last computed (see `Cluster::commit_lag`).
    pub lag_cache: std::cell::Cell<(u64, Option<SimDuration>)>,
    /// A high-watermark wake-up is scheduled at this time.
    pub hw_event: Option<SimTime>,
    /// A delivery-timeout check of the held batches is scheduled.
    pub delivery_check: bool,
    /// A check of the tail's requests (request.timeout.ms, delivery.timeout.ms) is scheduled then.
    pub timeout_check: Option<SimTime>,
    /// When the brokers learnt of the current leader (its election plus the metadata delay):
    /// clients cannot find it before.
    pub leader_known_at: SimTime,
    /// The last leader change moved a live leader away (controlled shutdown, preferred
    /// election): the old one tells clients where it went (KIP-951).
    pub moved_live: bool,
    /// When the leader stopped serving (crash, isolation): what it appended later than a
    /// follower's lag before this is not on that follower.
    pub leader_lost_at: Option<SimTime>,
    /// An unclean election cut its log below the high watermark.
    pub unclean_cut: bool,
    /// Consumers cannot read it: its leader is gone and they have not found the new one.
    pub unreadable: bool,
    pub offline_since: Option<SimTime>,
    pub under_replicated_since: Option<SimTime>,
}

impl ReplicaSet {
    pub fn new(replicas: Vec<u32>, min_isr: u32, unclean: bool) -> Self {
        let n = replicas.len();
        ReplicaSet {
            isr: replicas.clone(),
            leader: replicas.first().copied(),
            leader_epoch: 0,
            min_isr: min_isr.min(n as u32),
            unclean,
            reps: vec![Rep::Tracking; n],
            replicas,
            pending: VecDeque::new(),
            pending_created: VecDeque::new(),
            pending_records: 0,
            held: VecDeque::new(),
            held_created: VecDeque::new(),
            blocked: Vec::new(),
            written_by: Vec::new(),
            hw_event: None,
            lag_cache: std::cell::Cell::new((u64::MAX, None)),
            delivery_check: false,
            timeout_check: None,
            leader_known_at: SimTime::ZERO,
            moved_live: false,
            leader_lost_at: None,
            unreadable: false,
            unclean_cut: false,
            offline_since: None,
            under_replicated_since: None,
        }
    }

    pub fn index_of(&self, broker: u32) -> Option<usize> {
        self.replicas.iter().position(|&b| b == broker)
    }

    pub fn in_isr(&self, broker: u32) -> bool {
        self.isr.contains(&broker)
    }

    /// Records appended at the leader at or before `t` (its tail counted from `log_leo`).
    pub fn leo_at(&self, log_leo: u64, t: SimTime) -> u64 {
        let mut n = log_leo;
        for b in &self.pending {
            if b.at > t {
                break;
            }
            n += u64::from(b.len);
        }
        n
    }

    /// Where replica `i`'s log ends at `now`; `lag` is how long after an append it has the batch.
    pub fn replica_leo(&self, i: usize, log_leo: u64, now: SimTime, lag: SimDuration) -> u64 {
        let leader_leo = log_leo + self.pending_records;
        if Some(self.replicas[i]) == self.leader {
            return leader_leo;
        }
        match self.reps[i] {
            Rep::Tracking => self.leo_at(log_leo, SimTime(now.as_nanos().saturating_sub(lag.as_nanos()))),
            Rep::Frozen { leo, .. } => leo,
            Rep::CatchingUp { from, base, per_ns } => {
                let copied = ((now.as_nanos() - from.as_nanos().min(now.as_nanos())) as f64 * per_ns) as u64;
                leader_leo.min(base + copied)
            }
        }
    }

    /// The ISR is below min.insync.replicas: the high watermark does not move (KAFKA-15583)
    /// and acks=all produce requests are refused.
    pub fn below_min_isr(&self) -> bool {
        (self.isr.len() as u32) < self.min_isr
    }

    /// Adds `n` records of `producer` to the count of what it wrote here.
    pub fn count_written(&mut self, producer: u32, n: u64) {
        match self.written_by.iter_mut().find(|(p, _)| *p == producer) {
            Some((_, c)) => *c += n,
            None => self.written_by.push((producer, n)),
        }
    }

    pub fn block_of(&self, producer: u32) -> Option<&Block> {
        self.blocked.iter().find(|b| b.producer == producer)
    }

    /// Unacknowledged batches of `producer` in the tail (its requests in flight).
    pub fn in_flight(&self, producer: u32) -> u32 {
        self.pending.iter().filter(|b| b.producer == producer && !b.acked).count() as u32
    }

    /// Takes the oldest pending batch and its create times.
    pub fn pop_pending(&mut self, times: &mut Vec<u64>) -> Option<Pending> {
        let b = self.pending.pop_front()?;
        times.clear();
        times.extend(self.pending_created.drain(..b.len as usize));
        self.pending_records -= u64::from(b.len);
        Some(b)
    }

    pub fn push_pending(&mut self, b: Pending, created: &[u64]) {
        self.pending_records += u64::from(b.len);
        self.pending_created.extend(created.iter().copied());
        self.pending.push_back(b);
    }

    pub fn push_held(&mut self, h: Held, created: &[u64]) {
        self.held_created.extend(created.iter().copied());
        self.held.push_back(h);
    }

    /// Takes every held batch of `producer` out, in order, with their create times.
    pub fn take_held(&mut self, producer: u32) -> Vec<(Held, Vec<u64>)> {
        let mut out = Vec::new();
        let mut keep = VecDeque::new();
        let mut keep_created = VecDeque::new();
        while let Some(h) = self.held.pop_front() {
            let times: Vec<u64> = self.held_created.drain(..h.len as usize).collect();
            if h.producer == producer {
                out.push((h, times));
            } else {
                keep_created.extend(times);
                keep.push_back(h);
            }
        }
        self.held = keep;
        self.held_created = keep_created;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(at_ms: u64, len: u32) -> Pending {
        let at = SimTime(at_ms * 1_000_000);
        Pending { at, producer: 0, len, acked: false, duplicate: false, expires: SimTime::MAX, resend: false }
    }

    #[test]
    fn a_tracking_follower_has_what_was_appended_its_lag_ago() {
        let mut rs = ReplicaSet::new(vec![1, 2, 3], 2, false);
        rs.push_pending(batch(10, 5), &[1; 5]);
        rs.push_pending(batch(12, 3), &[1; 3]);
        let lag = SimDuration::from_millis(1);
        assert_eq!(rs.replica_leo(0, 100, SimTime(12_000_000), lag), 108, "the leader has everything");
        assert_eq!(rs.replica_leo(1, 100, SimTime(12_000_000), lag), 105, "the follower lacks the last batch");
        assert_eq!(rs.replica_leo(1, 100, SimTime(13_000_000), lag), 108);
        rs.reps[2] = Rep::Frozen { leo: 101, diverge: u64::MAX };
        assert_eq!(rs.replica_leo(2, 100, SimTime(13_000_000), lag), 101);
    }

    #[test]
    fn held_batches_come_back_per_producer_in_order() {
        let mut rs = ReplicaSet::new(vec![1], 1, false);
        let h = |producer, len| Held { producer, len, first_created: SimTime::ZERO, sent: false, written: false };
        rs.push_held(h(0, 2), &[1, 2]);
        rs.push_held(h(1, 1), &[3]);
        rs.push_held(h(0, 1), &[4]);
        let got = rs.take_held(0);
        assert_eq!(got.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>(), vec![vec![1, 2], vec![4]]);
        assert_eq!(rs.held.len(), 1);
        assert_eq!(rs.held_created, [3]);
    }
}
