//! Brokers failing and coming back: the timeline's broker actions, and the cluster's timed
//! events (the controller fencing a silent broker at the end of its session, a returning broker
//! unfenced, a follower caught up, clients finding a new leader) (`../shared/replication.md` §3).

use super::produce::Io;
use super::replica_set::Rep;
use super::{Cluster, ClusterEv};
use crate::kafka::broker::Partition;
use crate::kafka::world::{Ev, World};
use crate::record::cluster::{BrokerState, ClusterEvent};
use crate::record::event::What;
use crate::scenario::plan::{Action, BrokerRef};
use crate::sim::{SimDuration, SimTime};

impl World {
    /// The cluster, its partitions, and what its handlers write to, borrowed apart.
    pub(crate) fn cluster_io(&mut self) -> Option<(&mut Cluster, &mut [Partition], Io<'_>)> {
        let World { cluster, broker, rec, kernel, .. } = self;
        let cl = cluster.as_deref_mut()?;
        Some((cl, &mut broker.partitions, Io { rec, kernel, record_size: &broker.record_size }))
    }

    /// A timeline action on a broker.
    pub(crate) fn broker_action(&mut self, a: &Action) {
        let now = self.now();
        let Some(cl) = self.cluster.as_deref() else { return };
        let resolve = |r: BrokerRef| match r {
            BrokerRef::Id(b) => Some(b),
            BrokerRef::LeaderOf(p) => cl.parts[p as usize].leader,
        };
        let target = match *a {
            Action::CrashBroker(r) | Action::StopBroker(r) | Action::StartBroker(r) => resolve(r),
            Action::IsolateBroker { broker, .. } | Action::SlowBroker { broker, .. } => resolve(broker),
            _ => None,
        };
        let Some(b) = target else {
            let e = ClusterEvent::ActionIgnored { broker: None, reason: "the partition has no leader" };
            self.rec.event(now, What::Cluster(e));
            return;
        };
        let running = cl.node(b).running;
        let ignored = match *a {
            Action::StartBroker(_) if running && !cl.node(b).shutting_down => Some("the broker is running"),
            Action::CrashBroker(_) | Action::StopBroker(_) | Action::IsolateBroker { .. } if !running => {
                Some("the broker is not running")
            }
            _ => None,
        };
        if let Some(reason) = ignored {
            self.rec.event(now, What::Cluster(ClusterEvent::ActionIgnored { broker: Some(b), reason }));
            return;
        }
        let (cl, parts, mut io) = self.cluster_io().expect("a cluster");
        cl.generation += 1;
        cl.busy = true;
        match *a {
            Action::CrashBroker(_) => cl.crash(b, now, parts, &mut io),
            Action::StopBroker(_) => cl.stop(b, now, &mut io),
            Action::StartBroker(_) => cl.start(b, now, &mut io),
            Action::IsolateBroker { for_, .. } => cl.isolate(b, now, for_, parts, &mut io),
            Action::SlowBroker { lag, .. } => {
                cl.slow(b, lag, now, parts, &mut io);
                cl.scan_timeouts = true;
                for p in 0..cl.parts.len() as u32 {
                    cl.rearm(p, now, &mut parts[p as usize], &mut io);
                }
            }
            _ => {}
        }
        self.after_truncation();
        self.coordinators_follow(now);
        self.cluster_settled();
    }

    /// Logs cut below their high watermark (an unclean election): each consumer past the cut
    /// finds it when it validates its position against the new leader epoch (KIP-320) and goes
    /// back to it; every group forgets having read the offsets that now hold other records.
    fn after_truncation(&mut self) {
        let Some(cl) = self.cluster.as_deref_mut() else { return };
        for (p, to) in std::mem::take(&mut cl.truncated) {
            for con in &mut self.consumers {
                for o in con.owned.iter_mut().filter(|o| o.partition == p && o.position > to) {
                    o.position = to;
                }
            }
            for ledger in &mut self.rec.ledgers {
                ledger.processed[p as usize].truncate_from(to);
                ledger.delivered[p as usize].truncate_from(to);
            }
        }
    }

    /// One of the cluster's timed events.
    pub(crate) fn cluster_event(&mut self, e: ClusterEv) {
        let now = self.now();
        let Some((cl, parts, mut io)) = self.cluster_io() else { return };
        cl.generation += 1;
        cl.busy = true;
        let mut grew = None;
        let mut grew_many = Vec::new();
        match e {
            ClusterEv::Fence { broker, life } => cl.fence_expired(broker, life, now, parts, &mut io),
            ClusterEv::ShutdownDecided { broker, life } => cl.shutdown_decided(broker, life, now, parts, &mut io),
            ClusterEv::ShutdownDone { broker, life } => cl.shutdown_done(broker, life, now, parts, &mut io),
            ClusterEv::Unfence { broker, life } => cl.unfence(broker, life, now, parts, &mut io),
            ClusterEv::IsolationOver { broker, life } => cl.isolation_over(broker, life, now, parts, &mut io),
            ClusterEv::CaughtUp { p, broker } => {
                if cl.caught_up(p, broker, now, &mut parts[p as usize], &mut io) {
                    grew = Some(p);
                }
            }
            ClusterEv::Readable { p, epoch } => {
                let rs = &cl.parts[p as usize];
                if rs.leader_epoch == epoch && rs.leader.is_some_and(|l| cl.serving(l)) {
                    parts[p as usize].unreadable = false;
                    grew = Some(p);
                }
            }
            ClusterEv::Resume { p, k } => {
                if cl.resume(p, k, now, &mut parts[p as usize], &mut io) {
                    grew = Some(p);
                }
            }
            ClusterEv::DeliveryCheck(p) => cl.delivery_check(p, now, &mut io),
            ClusterEv::LagCheck { leader, follower, stamp } => {
                grew_many = cl.lag_check(leader, follower, stamp, now, parts, &mut io);
            }
            ClusterEv::RequestTimeout(p) => {
                if cl.request_timeouts(p, now, &mut parts[p as usize], &mut io) {
                    grew = Some(p);
                }
            }
            ClusterEv::PreferredCheck => cl.balance(now, parts, &mut io),
            ClusterEv::HwWake(p) => {
                cl.parts[p as usize].hw_event = None;
                if cl.rearm(p, now, &mut parts[p as usize], &mut io) {
                    grew = Some(p);
                }
            }
            ClusterEv::CoordinatorLoaded { g, life } => {
                let c = &mut cl.coordinators[g as usize];
                if c.life == life
                    && let Some(b) = c.broker
                {
                    c.available = true;
                    io.event(now, ClusterEvent::CoordinatorLoaded { group: g, broker: b });
                }
            }
        }
        self.after_truncation();
        for p in grew.into_iter().chain(grew_many) {
            self.appended(p);
        }
        self.coordinators_follow(now);
        self.cluster_settled();
    }

    /// A cluster handler is done: commit lags may be cached again (see `Cluster::commit_lag`).
    fn cluster_settled(&mut self) {
        let Some((cl, _, mut io)) = self.cluster_io() else { return };
        cl.busy = false;
        cl.generation += 1;
        if std::mem::take(&mut cl.scan_timeouts) {
            cl.arm_all_timeouts(&mut io);
        }
    }
}

impl Cluster {
    /// Records broker `b`'s state if it changed.
    pub(crate) fn note_state(&mut self, b: u32, now: SimTime, io: &mut Io) {
        self.scan_timeouts = true;
        let state = self.broker_state(b);
        let n = self.node_mut(b);
        if n.state == state {
            return;
        }
        if n.state == BrokerState::Down
            && let Some(since) = n.down_since.take()
        {
            io.rec.cluster.brokers[b as usize - 1].down += now - since;
        }
        if state == BrokerState::Down {
            n.down_since = Some(now);
        }
        n.state = state;
        io.rec.cluster.broker_states.push((now, b, state));
    }

    /// Broker `b` stops serving at `now` (crash or isolation): the followers of what it led
    /// stop where they are, what it follows stops growing on it, and the controller fences it
    /// when its session runs out (last heartbeat + broker.session.timeout.ms).
    fn went_silent(&mut self, b: u32, now: SimTime, parts: &mut [Partition], io: &mut Io) {
        let log_leo = |parts: &[Partition], p: usize| parts[p].log.log_end_offset();
        for p in 0..self.parts.len() {
            let Some(i) = self.parts[p].index_of(b) else { continue };
            let leo_log = log_leo(parts, p);
            if self.parts[p].leader == Some(b) {
                self.parts[p].leader_lost_at = Some(now);
                parts[p].unreadable = true;
                for j in 0..self.parts[p].replicas.len() {
                    let lag = self.follower_lag(self.parts[p].replicas[j]);
                    let leo = self.parts[p].replica_leo(j, leo_log, now, lag);
                    self.parts[p].reps[j] = Rep::Frozen { leo, diverge: u64::MAX };
                }
            } else {
                let lag = self.follower_lag(b);
                let leo = self.parts[p].replica_leo(i, leo_log, now, lag);
                self.parts[p].reps[i] = Rep::Frozen { leo, diverge: u64::MAX };
            }
        }
        let fence_at = self.last_contact(b, now) + self.session;
        let life = self.node(b).life;
        io.kernel.schedule_at(fence_at.max(now), Ev::Cluster(ClusterEv::Fence { broker: b, life }));
    }

    pub(crate) fn crash(&mut self, b: u32, now: SimTime, parts: &mut [Partition], io: &mut Io) {
        io.event(now, ClusterEvent::BrokerCrashed { broker: b });
        self.went_silent(b, now, parts, io);
        let n = self.node_mut(b);
        n.running = false;
        n.shutting_down = false;
        n.life += 1;
        n.session_live = !n.fenced;
        self.note_state(b, now, io);
    }

    pub(crate) fn isolate(&mut self, b: u32, now: SimTime, for_: SimDuration, parts: &mut [Partition], io: &mut Io) {
        io.event(now, ClusterEvent::BrokerIsolated { broker: b, for_ });
        self.went_silent(b, now, parts, io);
        let n = self.node_mut(b);
        n.reachable = false;
        n.isolated_until = Some(now + for_);
        n.life += 1;
        n.session_live = !n.fenced;
        let life = n.life;
        io.kernel.schedule_at(now + for_, Ev::Cluster(ClusterEv::IsolationOver { broker: b, life }));
        self.note_state(b, now, io);
    }

    /// SIGTERM: the broker asks to shut down at its next heartbeat, which it sends at once.
    pub(crate) fn stop(&mut self, b: u32, now: SimTime, io: &mut Io) {
        io.event(now, ClusterEvent::BrokerShuttingDown { broker: b });
        let n = self.node_mut(b);
        n.shutting_down = true;
        let life = n.life;
        io.kernel.schedule_at(now + self.delay, Ev::Cluster(ClusterEv::ShutdownDecided { broker: b, life }));
        self.note_state(b, now, io);
    }

    pub(crate) fn start(&mut self, b: u32, now: SimTime, io: &mut Io) {
        io.event(now, ClusterEvent::BrokerStarted { broker: b });
        let n = self.node_mut(b);
        n.running = true;
        n.reachable = true;
        n.shutting_down = false;
        n.fenced = true;
        n.life += 1;
        let life = n.life;
        // Its old registration still holds while its session runs (DuplicateBrokerRegistration):
        // it registers once the controller has fenced that one (§3.2).
        if n.session_live {
            n.start_pending = true;
        } else {
            self.register(b, life, now, io);
        }
        self.note_state(b, now, io);
    }

    /// The network partition heals. Fenced meanwhile, the broker registers again like a
    /// restarted one; not fenced (it was shorter than its session), it simply carries on, and
    /// its followers fetch again.
    fn isolation_over(&mut self, b: u32, life: u32, now: SimTime, parts: &mut [Partition], io: &mut Io) {
        if self.node(b).life != life {
            return;
        }
        io.event(now, ClusterEvent::BrokerReconnected { broker: b });
        let n = self.node_mut(b);
        n.reachable = true;
        n.life += 1;
        let life = n.life;
        if n.session_live {
            n.session_live = false;
            self.reconnect_unfenced(b, now, parts, io);
        } else {
            n.fenced = true;
            self.register(b, life, now, io);
        }
        self.note_state(b, now, io);
        // Requests stuck on the way to it are answered now: their producers plan again.
        for p in 0..self.parts.len() as u32 {
            let mut replan = false;
            for blk in self.parts[p as usize].blocked.iter_mut() {
                if blk.error == "REQUEST_TIMED_OUT" && blk.broker == Some(b) {
                    blk.resume_at = None;
                    replan = true;
                }
            }
            if replan {
                self.plan_resumes(p, now, io);
            }
        }
    }

    /// Back within its session: each replica it cut off catches up again (ISR members stay in).
    fn reconnect_unfenced(&mut self, b: u32, now: SimTime, parts: &mut [Partition], io: &mut Io) {
        // `parts` and `self.parts` are parallel tables: the index names the partition in both.
        #[allow(clippy::needless_range_loop)]
        for p in 0..self.parts.len() {
            if self.parts[p].index_of(b).is_none() {
                continue;
            }
            let leads = self.parts[p].leader == Some(b);
            let log_leo = parts[p].log.log_end_offset();
            for j in 0..self.parts[p].replicas.len() {
                let r = self.parts[p].replicas[j];
                if Some(r) == self.parts[p].leader {
                    self.parts[p].reps[j] = Rep::Tracking;
                    continue;
                }
                if !(leads || r == b) || !self.serving(r) {
                    continue;
                }
                let Rep::Frozen { leo, .. } = self.parts[p].reps[j] else { continue };
                let leader_leo = log_leo + self.parts[p].pending_records;
                self.catch_up(p as u32, j, leo, leader_leo, now, io);
            }
            if leads {
                self.parts[p].leader_lost_at = None;
                let epoch = self.parts[p].leader_epoch;
                io.kernel.schedule_at(
                    now + self.delay + self.delay,
                    Ev::Cluster(ClusterEv::Readable { p: p as u32, epoch }),
                );
            }
        }
    }

    /// Broker.session.timeout.ms passed since the controller last heard from `b`.
    fn fence_expired(&mut self, b: u32, _life: u32, now: SimTime, parts: &mut [Partition], io: &mut Io) {
        if !self.node(b).session_live {
            return;
        }
        self.node_mut(b).session_live = false;
        self.fence(b, "session_timeout", now, parts, io);
        let n = self.node_mut(b);
        if n.start_pending {
            n.start_pending = false;
            let life = n.life;
            self.register(b, life, now, io);
        }
    }

    /// Broker `b` (in its life `life`) registers: it is unfenced once it has replayed the
    /// metadata (δ_meta) and its next STARTING heartbeat, 10 ms apart, reaches the controller.
    fn register(&self, b: u32, life: u32, now: SimTime, io: &mut Io) {
        let at = now + self.meta_delay + SimDuration::from_millis(10);
        io.kernel.schedule_at(at, Ev::Cluster(ClusterEv::Unfence { broker: b, life }));
    }

    fn shutdown_decided(&mut self, b: u32, life: u32, now: SimTime, parts: &mut [Partition], io: &mut Io) {
        if self.node(b).life != life || !self.node(b).shutting_down {
            return;
        }
        self.node_mut(b).session_live = true;
        self.fence(b, "controlled_shutdown", now, parts, io);
        // SHUTDOWN_NOW at its next heartbeat, once every broker applied the change.
        let done = now + self.meta_delay + SimDuration::from_millis(50);
        io.kernel.schedule_at(done, Ev::Cluster(ClusterEv::ShutdownDone { broker: b, life }));
    }

    fn shutdown_done(&mut self, b: u32, life: u32, now: SimTime, parts: &mut [Partition], io: &mut Io) {
        if self.node(b).life != life || !self.node(b).shutting_down {
            return;
        }
        #[allow(clippy::needless_range_loop)] // parallel tables, indexed by partition
        for p in 0..self.parts.len() {
            if let Some(i) = self.parts[p].index_of(b) {
                let leo_log = parts[p].log.log_end_offset();
                let leo = self.parts[p].replica_leo(i, leo_log, now, self.follower_lag(b));
                self.parts[p].reps[i] = Rep::Frozen { leo, diverge: u64::MAX };
            }
        }
        io.event(now, ClusterEvent::BrokerStopped { broker: b });
        let n = self.node_mut(b);
        n.running = false;
        n.shutting_down = false;
        n.session_live = false;
        n.life += 1;
        self.note_state(b, now, io);
    }

    /// The controller fences `b`: it leaves every ISR (the last member stays, §3.3) and the
    /// partitions it led elect again.
    pub(crate) fn fence(&mut self, b: u32, reason: &'static str, now: SimTime, parts: &mut [Partition], io: &mut Io) {
        self.node_mut(b).fenced = true;
        io.event(now, ClusterEvent::BrokerFenced { broker: b, reason });
        self.note_state(b, now, io);
        for p in 0..self.parts.len() as u32 {
            let rs = &self.parts[p as usize];
            if rs.index_of(b).is_none() {
                continue;
            }
            if rs.in_isr(b) && rs.isr.len() > 1 {
                let isr = rs.isr.iter().copied().filter(|&r| r != b).collect();
                self.set_isr(p, isr, "fenced", now, io);
            }
            let cut = self.reelect(p, now, &mut parts[p as usize], io);
            if let Some(to) = cut {
                self.cut_committed(p, to, now, &mut parts[p as usize], io);
            }
            self.rearm(p, now, &mut parts[p as usize], io);
        }
        self.offsets_follow(now, io);
    }

    /// A returning broker is unfenced: it leads partitions nobody leads where it may, and
    /// follows the rest, cutting what it had beyond where the leader's log diverged (§3.2, §4).
    fn unfence(&mut self, b: u32, life: u32, now: SimTime, parts: &mut [Partition], io: &mut Io) {
        let n = self.node(b);
        if n.life != life || !n.running || !n.reachable {
            return;
        }
        self.node_mut(b).fenced = false;
        io.event(now, ClusterEvent::BrokerUnfenced { broker: b });
        self.note_state(b, now, io);
        for p in 0..self.parts.len() as u32 {
            let Some(i) = self.parts[p as usize].index_of(b) else { continue };
            if self.parts[p as usize].leader.is_none() {
                if let Some(to) = self.reelect(p, now, &mut parts[p as usize], io) {
                    self.cut_committed(p, to, now, &mut parts[p as usize], io);
                }
                continue;
            }
            if self.parts[p as usize].leader == Some(b) {
                continue;
            }
            let log_leo = parts[p as usize].log.log_end_offset();
            let leader_leo = log_leo + self.parts[p as usize].pending_records;
            let (own, diverge) = match self.parts[p as usize].reps[i] {
                Rep::Frozen { leo, diverge } => (leo, diverge),
                _ => (leader_leo, u64::MAX),
            };
            let base = own.min(diverge).min(leader_leo);
            if own > base {
                io.event(now, ClusterEvent::LogTruncated { partition: p, broker: b, from: own, to: base });
            }
            if self.parts[p as usize].leader.is_some_and(|l| self.serving(l)) {
                self.catch_up(p, i, base, leader_leo, now, io);
            } else {
                // Its leader is gone too: nothing to copy from until a new one is elected.
                self.parts[p as usize].reps[i] = Rep::Frozen { leo: base, diverge: u64::MAX };
            }
        }
        self.offsets_follow(now, io);
    }

    /// A catching-up follower reached the leader's log end: it rejoins the ISR (§1.4).
    fn caught_up(&mut self, p: u32, b: u32, now: SimTime, part: &mut Partition, io: &mut Io) -> bool {
        let rs = &self.parts[p as usize];
        let Some(i) = rs.index_of(b) else { return false };
        if !matches!(rs.reps[i], Rep::CatchingUp { .. })
            || !self.serving(b)
            || rs.leader.is_none_or(|l| !self.serving(l))
        {
            return false;
        }
        // §1.4: it joins when its log end reaches the high watermark. A catch-up begun at
        // another pace (its lag changed) or outrun by the writes looks again later.
        let log_leo = part.log.log_end_offset();
        let leo = rs.replica_leo(i, log_leo, now, self.follower_lag(b));
        if leo < log_leo {
            let Rep::CatchingUp { per_ns, .. } = rs.reps[i] else { unreachable!("checked above") };
            let gap = log_leo + rs.pending_records - leo;
            let t = now + SimDuration((gap as f64 / per_ns) as u64).max(SimDuration::from_millis(1));
            io.kernel.schedule_at(t, Ev::Cluster(ClusterEv::CaughtUp { p, broker: b }));
            return false;
        }
        self.parts[p as usize].reps[i] = Rep::Tracking;
        if !self.parts[p as usize].in_isr(b) {
            let mut isr = self.parts[p as usize].isr.clone();
            isr.push(b);
            self.set_isr(p, isr, "caught_up", now, io);
        }
        self.plan_resumes(p, now, io);
        self.rearm(p, now, part, io)
    }
}
