//! The cluster (issue 24): brokers that fail, the controller that fences them and elects
//! leaders, each partition's replicas, ISR and high watermark, and what the producers' acks,
//! retries and idempotence make of a failure. `../shared/replication.md` is the fact sheet.
//!
//! A scenario that does not write `brokers:` has no cluster (`World::cluster` is None) and runs
//! exactly as before: one broker that never fails. With a cluster, every batch that reaches a
//! partition goes through [`Cluster::route`]; while nothing fails and followers keep up within
//! no delay, that is one branch and the batch is appended as before (see `produce`).
//!
//! - `replica_set`: one partition's assignment, ISR, leader, replicas' log ends, uncommitted tail;
//! - `produce`: where a producer's batch goes (appended, held), commits, retries, losses;
//! - `controller`: fencing, elections, ISR changes, truncation;
//! - `brokers`: the timeline's broker actions and the cluster's timed events;
//! - `coordinators`: each group's coordinator, the leader of its `__consumer_offsets` partition;
//! - `placement`: Kafka's rack-unaware replica placement.

pub mod balance;
pub mod brokers;
pub mod controller;
pub mod coordinators;
pub mod invariants;
pub mod lagging;
pub mod placement;
pub mod produce;
pub mod replica_set;
pub mod timeouts;

use crate::record::cluster::BrokerState;
use crate::scenario::plan::{Plan, ProducerDelivery};
use crate::sim::rng::SimRng;
use crate::sim::{RngStreams, SimDuration, SimTime};
use rand::Rng;
use replica_set::ReplicaSet;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A broker process as the cluster knows it.
pub struct Node {
    pub id: u32,
    /// The process runs.
    pub running: bool,
    /// Others reach it (not isolated).
    pub reachable: bool,
    /// The controller has fenced it: it leads and follows nothing.
    pub fenced: bool,
    pub shutting_down: bool,
    /// `slow_broker`: as a follower it has each batch this much later.
    pub lag: SimDuration,
    /// Bumped at every `slow_broker`: lag checks of an earlier one are stale.
    pub slow_stamp: u32,
    /// When its heartbeats reach the controller: `phase + k * period`.
    pub phase: SimTime,
    /// Bumped at every crash, stop, start or isolation: events of an older life are stale.
    pub life: u32,
    /// It was started again while its old registration was still live: it registers once fenced.
    pub start_pending: bool,
    /// The controller still counts a registration of it as live (it has not fenced it since it
    /// went silent): a new start waits for that fencing.
    pub session_live: bool,
    pub down_since: Option<SimTime>,
    pub isolated_until: Option<SimTime>,
    /// The state last recorded.
    pub state: BrokerState,
}

/// A producer's settings the cluster acts on.
pub struct ProducerLink {
    pub delivery: ProducerDelivery,
    pub topic: usize,
    /// Backoff jitter, its own stream (`producer/<name>/cluster`).
    pub rng: SimRng,
}

/// A group's coordinator: the leader of its `__consumer_offsets` partition.
pub struct GroupCoordinator {
    pub offsets_partition: u32,
    pub broker: Option<u32>,
    /// Commits and heartbeats reach a loaded coordinator only; None: unavailable.
    pub available: bool,
    pub life: u32,
}

pub struct Cluster {
    pub nodes: Vec<Node>,
    /// Per partition of the world (global id).
    pub parts: Vec<ReplicaSet>,
    /// `__consumer_offsets` partitions: replicas, ISR, leader (no records).
    pub offsets: Vec<ReplicaSet>,
    pub coordinators: Vec<GroupCoordinator>,
    pub producers: Vec<ProducerLink>,
    /// (commit time, partition) of uncommitted tails, earliest first (entries may be stale).
    pub(crate) commits: BinaryHeap<Reverse<(SimTime, u32)>>,
    /// Per commit lag, (commit time, partition) of each batch in arrival order.
    pub(crate) fifos: Vec<(SimDuration, std::collections::VecDeque<(SimTime, u32)>)>,
    /// One-way network delay between any two machines.
    pub delay: SimDuration,
    /// How long a controller decision takes to reach the brokers (§3.3, δ_meta).
    pub meta_delay: SimDuration,
    /// Heartbeat period as the controller sees it: interval + round trip (§3.2).
    pub heartbeat_period: SimDuration,
    pub session: SimDuration,
    /// Records a catching-up follower copies per fetch (§1.1 replica.fetch.max.bytes).
    pub per_fetch: f64,
    /// replica.lag.time.max.ms: a follower that has not caught up for this long leaves the ISR.
    pub replica_lag_time_max: SimDuration,
    /// Consumers' metadata refresh jitter.
    pub rng: SimRng,
    /// A preferred-leader check is scheduled.
    pub preferred_check: bool,
    pub imbalance_interval: SimDuration,
    pub coordinator_load: SimDuration,
    /// Bumped whenever the cluster changes (an event of its own or a broker action): cached commit
    /// lags older than it are computed again.
    pub generation: u64,
    /// A cluster handler runs: nothing is cached meanwhile.
    pub busy: bool,
    /// Logs cut below their high watermark by unclean elections, for the world to move readers back.
    pub truncated: Vec<(u32, u64)>,
    /// A broker changed: every tail's waiting requests are checked for timeouts (`timeouts`).
    pub scan_timeouts: bool,
}

/// The cluster's timed events (kept small: the queue holds many events).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterEv {
    /// The controller's preferred-leader check.
    PreferredCheck,
    /// Broker `broker`'s session ran out at the controller.
    Fence {
        broker: u32,
        life: u32,
    },
    /// The controller acts on a controlled shutdown request.
    ShutdownDecided {
        broker: u32,
        life: u32,
    },
    /// SHUTDOWN_NOW: the broker exits.
    ShutdownDone {
        broker: u32,
        life: u32,
    },
    /// A started (or reconnected) broker registered and caught up with the metadata.
    Unfence {
        broker: u32,
        life: u32,
    },
    IsolationOver {
        broker: u32,
        life: u32,
    },
    /// A follower reached its leader's log end.
    CaughtUp {
        p: u32,
        broker: u32,
    },
    /// Consumers found partition `p`'s leader of epoch `epoch`.
    Readable {
        p: u32,
        epoch: u32,
    },
    /// Producer `k` writes partition `p` again.
    Resume {
        p: u32,
        k: u32,
    },
    DeliveryCheck(u32),
    /// Requests in `p`'s tail may have timed out (request.timeout.ms, delivery.timeout.ms).
    RequestTimeout(u32),
    /// Leader `leader`'s ISR expiration task looks at the slowed follower `follower`.
    LagCheck {
        leader: u32,
        follower: u32,
        stamp: u32,
    },
    /// The high watermark of `p` passes a batch readers wait for.
    HwWake(u32),
    CoordinatorLoaded {
        g: u32,
        life: u32,
    },
}

/// A catching-up fetch's round trip: two network delays and at least a millisecond for the
/// leader's read and the follower's write of a full fetch.
fn catch_up_round_trip(delay: SimDuration) -> SimDuration {
    SimDuration((2 * delay.as_nanos()).max(1_000_000))
}

impl Cluster {
    /// The cluster of `plan`, or None when the scenario does not declare `brokers:`.
    pub fn of(plan: &Plan, rngs: &RngStreams, partitions_of_topic: &[(u32, u32)]) -> Option<Self> {
        let c = &plan.cluster;
        if !c.declared {
            return None;
        }
        let mut place = rngs.stream("cluster/placement");
        let n = c.brokers;
        let mut parts = Vec::new();
        for (t, topic) in plan.topics.iter().enumerate() {
            let r = &topic.replication;
            let (_, max) = partitions_of_topic[t];
            let (start, shift) = (place.gen_range(0..n), place.gen_range(0..n));
            let mut lists = placement::place_rack_unaware(n, max, r.factor, start, shift, 0);
            if let Some(given) = &r.replicas {
                lists[..given.len()].clone_from_slice(given);
            }
            parts.extend(
                lists.into_iter().map(|l| ReplicaSet::new(l, r.min_insync_replicas, r.unclean_leader_election_enable)),
            );
        }
        let offsets_rf = c.offsets_topic_replication_factor.min(n);
        let (start, shift) = (place.gen_range(0..n), place.gen_range(0..n));
        let offsets = placement::place_rack_unaware(n, c.offsets_topic_num_partitions, offsets_rf, start, shift, 0)
            .into_iter()
            .map(|l| ReplicaSet::new(l, 1, c.unclean_leader_election_enable))
            .collect::<Vec<_>>();
        let coordinators = plan
            .groups
            .iter()
            .map(|g| {
                let p = coordinators::offsets_partition_for(&g.id, c.offsets_topic_num_partitions);
                GroupCoordinator { offsets_partition: p, broker: offsets[p as usize].leader, available: true, life: 0 }
            })
            .collect();
        let delay = plan.network_delay;
        let period = c.broker_heartbeat_interval + SimDuration(2 * delay.as_nanos());
        let nodes = (1..=n)
            .map(|id| {
                // Brokers started at different moments: each one's heartbeats have their own phase.
                let mut rng = rngs.stream(&format!("broker/{id}"));
                let phase = SimTime(rng.gen_range(0..period.as_nanos().max(1)) / 1_000_000 * 1_000_000);
                Node {
                    id,
                    running: true,
                    reachable: true,
                    fenced: false,
                    shutting_down: false,
                    lag: SimDuration::ZERO,
                    slow_stamp: 0,
                    phase,
                    life: 0,
                    start_pending: false,
                    session_live: false,
                    down_since: None,
                    isolated_until: None,
                    state: BrokerState::Up,
                }
            })
            .collect();
        let producers = plan
            .producers
            .iter()
            .map(|p| ProducerLink {
                delivery: p.delivery.clone(),
                topic: p.topic,
                rng: rngs.stream(&format!("producer/{}/cluster", p.name)),
            })
            .collect();
        let mean_size = plan.producers.first().map_or(100, |p| p.record_size).max(1);
        let per_fetch = (c.replica_fetch_max_bytes / mean_size).max(1) as f64;
        Some(Cluster {
            nodes,
            parts,
            offsets,
            coordinators,
            producers,
            commits: BinaryHeap::new(),
            fifos: Vec::new(),
            delay,
            meta_delay: c.controller_quorum_append_linger
                + SimDuration::from_millis(5)
                + SimDuration(3 * delay.as_nanos()),
            heartbeat_period: period,
            session: c.broker_session_timeout,
            per_fetch,
            replica_lag_time_max: c.replica_lag_time_max,
            rng: rngs.stream("cluster/clients"),
            preferred_check: false,
            imbalance_interval: SimDuration::from_millis(300_000),
            coordinator_load: c.coordinator_load,
            truncated: Vec::new(),
            scan_timeouts: false,
            generation: 0,
            busy: false,
        })
    }

    pub fn node(&self, b: u32) -> &Node {
        &self.nodes[b as usize - 1]
    }

    pub fn node_mut(&mut self, b: u32) -> &mut Node {
        &mut self.nodes[b as usize - 1]
    }

    /// The broker can lead or follow: running, reachable, unfenced, not shutting down.
    pub fn serving(&self, b: u32) -> bool {
        let n = self.node(b);
        n.running && n.reachable && !n.fenced && !n.shutting_down
    }

    /// Records per nanosecond a follower on broker `b` copies while it catches up: a full fetch
    /// per round trip, its `slow_broker` lag included.
    pub fn catch_up_rate(&self, b: u32) -> f64 {
        self.per_fetch / (catch_up_round_trip(self.delay) + self.node(b).lag).as_nanos() as f64
    }

    /// How long after an append a follower on broker `b` has the batch.
    pub fn follower_lag(&self, b: u32) -> SimDuration {
        self.delay + self.node(b).lag
    }

    /// When the controller last heard from broker `b` at or before `t`.
    pub fn last_contact(&self, b: u32, t: SimTime) -> SimTime {
        let n = self.node(b);
        let first = n.phase + self.delay;
        if t < first {
            return first.min(t);
        }
        let period = self.heartbeat_period.as_nanos().max(1);
        SimTime(first.as_nanos() + (t.as_nanos() - first.as_nanos()) / period * period)
    }

    /// A client's metadata refreshes after a failure it saw at `since`: 100, 200, 400, 800,
    /// 1000 ms apart (±20%) (§2 Metadata#timeToAllowUpdate); the first at or after `known`.
    pub fn refresh_after(
        rng: &mut SimRng,
        since: SimTime,
        known: SimTime,
        base: SimDuration,
        max: SimDuration,
    ) -> SimTime {
        let mut t = since;
        let mut backoff = base.as_nanos().max(1);
        while t < known {
            let jitter = rng.gen_range(0.8..1.2);
            t += SimDuration((backoff.min(max.as_nanos()) as f64 * jitter) as u64);
            backoff = backoff.saturating_mul(2);
        }
        t
    }

    /// The record state of broker `b` now.
    pub fn broker_state(&self, b: u32) -> BrokerState {
        let n = self.node(b);
        if !n.running {
            BrokerState::Down
        } else if !n.reachable {
            BrokerState::Isolated
        } else if n.shutting_down {
            BrokerState::ShuttingDown
        } else if n.fenced {
            BrokerState::Fenced
        } else {
            BrokerState::Up
        }
    }
}

impl Cluster {
    /// The record's cluster tables, and every partition's first leader at 0.
    pub fn start_record(&self, rec: &mut crate::record::Recorder) {
        let r = &mut rec.cluster;
        r.declared = true;
        r.brokers = vec![Default::default(); self.nodes.len()];
        r.producers = vec![Default::default(); self.producers.len()];
        r.partitions = vec![Default::default(); self.parts.len()];
        for (p, rs) in self.parts.iter().enumerate() {
            r.leaders.push((SimTime::ZERO, p as u32, rs.leader));
        }
    }

    /// Closes what is still open when the run ends at `end`: time down, offline, under-replicated,
    /// unavailable; each partition's leader and ISR and each broker's leaderships at the end.
    pub fn finish_record(&mut self, end: SimTime, rec: &mut crate::record::Recorder) {
        let r = &mut rec.cluster;
        for n in &mut self.nodes {
            if let Some(since) = n.down_since.take() {
                r.brokers[n.id as usize - 1].down += end - since;
            }
        }
        for (p, rs) in self.parts.iter_mut().enumerate() {
            let s = &mut r.partitions[p];
            if let Some(since) = rs.offline_since.take() {
                s.offline += end - since;
            }
            if let Some(since) = rs.under_replicated_since.take() {
                s.under_replicated += end - since;
            }
            s.leader_at_end = rs.leader;
            s.isr_at_end = rs.isr.clone();
            if let Some(l) = rs.leader {
                r.brokers[l as usize - 1].leads_at_end += 1;
            }
            for h in rs.held.iter().filter(|h| !h.written) {
                r.producers[h.producer as usize].in_flight_at_end += u64::from(h.len);
            }
            for b in rs.pending.iter().filter(|b| !b.duplicate) {
                let st = &mut r.producers[b.producer as usize];
                if b.acked {
                    st.acked_above_high_watermark_at_end += u64::from(b.len);
                } else {
                    st.in_flight_at_end += u64::from(b.len);
                }
            }
            for b in rs.blocked.drain(..) {
                let u = end - b.since;
                let st = &mut r.producers[b.producer as usize];
                st.unavailable_total += u;
                st.unavailable_max = st.unavailable_max.max(u);
            }
        }
    }

    /// The metrics columns of partition `p`: leader (NONE: offline), ISR size, and the leader's
    /// log end given the high watermark `hw` (the records its followers lack are above it).
    pub fn row_columns(&self, p: u32, hw: u64) -> (u32, u32, u64) {
        let rs = &self.parts[p as usize];
        (rs.leader.unwrap_or(crate::record::NONE_U32), rs.isr.len() as u32, hw + rs.pending_records)
    }
}
#[cfg(test)]
mod tests;
