//! Kafka 4's consumer rebalance protocol (KIP-848) between a member and its coordinator: each
//! member heartbeats on its own interval (at once only when joining, acknowledging or leaving),
//! learns its assignment from its own heartbeat's answer, and reconciles on its own: with
//! auto-commit (or a listener that commits) at the application's next poll, committing before it
//! revokes. The coordinator's side is `coordinator/consumer_group.rs`; this file carries
//! requests and answers between them and turns what changed into the run's record.

use crate::kafka::client::consumer_member::MemberState;
use crate::kafka::coordinator::consumer_group::{
    Changes, HeartbeatAnswer, HeartbeatRequest, LEAVE_GROUP_MEMBER_EPOCH, LEAVE_GROUP_STATIC_MEMBER_EPOCH,
};
use crate::kafka::world::{Ev, World};
use crate::record::event::{RebalanceReason, What};
use crate::scenario::plan::CommitMode;
use crate::sim::{SimDuration, SimTime};

impl World {
    /// A new process starts (a new member id for its life, KIP-1082) and its first poll()
    /// subscribes: JOINING, and the join heartbeat goes out at once.
    pub(crate) fn protocol_start(&mut self, c: usize) {
        let id = self.consumers[c].new_member_id();
        let con = &mut self.consumers[c];
        con.member_id = Some(id);
        con.generation = 0;
        let m = con.protocol_mut();
        m.state = MemberState::Joining;
        m.epoch = 0;
        self.protocol_send_heartbeat(c);
    }

    /// The heartbeat request goes out now, unless one is out (then right after its answer).
    /// Every send re-arms the interval timer (AbstractHeartbeatRequestManager: send to send).
    pub(crate) fn protocol_send_heartbeat(&mut self, c: usize) {
        let g = self.consumers[c].group;
        let interval = self.groups[g].protocol().plan.heartbeat_interval;
        let now = self.now();
        let con = &mut self.consumers[c];
        let owned: Vec<u32> = con.owned.iter().map(|o| o.partition).collect();
        let (member_id, instance_id, inc) = (con.member_id.clone(), con.group_instance_id.clone(), con.incarnation);
        let rebalance_timeout = con.config.max_poll_interval;
        let m = con.protocol_mut();
        if m.in_flight {
            m.send_when_answered = true;
            return;
        }
        let Some(member_id) = member_id else { return };
        let full = m.state == MemberState::Joining || m.owned_changed;
        let req = HeartbeatRequest {
            consumer: c,
            member_id,
            instance_id,
            epoch: m.epoch,
            owned: full.then_some(owned),
            rebalance_timeout,
        };
        // AMM#onHeartbeatRequestGenerated: the acknowledgement is made when the request is.
        if m.state == MemberState::Acknowledging {
            m.state = if m.target.is_some() { MemberState::Reconciling } else { MemberState::Stable };
        }
        m.owned_changed = false;
        m.in_flight = true;
        m.send_when_answered = false;
        m.timer_seq = m.timer_seq.wrapping_add(1);
        m.next_heartbeat = now + interval;
        let seq = m.timer_seq;
        self.kernel.schedule_after(interval, Ev::ProtocolHeartbeatTimer { c: c as u32, inc, seq });
        let slot = self.net.heartbeats.insert((inc, req, "heartbeat"));
        self.kernel.schedule_after(self.net.delay, Ev::ProtocolHeartbeatArrive(slot));
    }

    /// The interval timer fires: the poll timer is looked at first (the network thread's loop
    /// wakes at least for the heartbeat), then a regular heartbeat goes out.
    pub(crate) fn protocol_heartbeat_timer(&mut self, c: usize, seq: u32) {
        let con = &self.consumers[c];
        let m = con.protocol();
        if m.timer_seq != seq
            || matches!(
                m.state,
                MemberState::Stale | MemberState::Fenced | MemberState::Fatal | MemberState::Unsubscribed
            )
        {
            return;
        }
        if self.now() >= con.last_poll + con.config.max_poll_interval {
            self.protocol_poll_timeout(c);
            return;
        }
        self.protocol_send_heartbeat(c);
    }

    /// A heartbeat (or a leave) reaches the coordinator: GroupMetadataManager#consumerGroupHeartbeat.
    pub(crate) fn protocol_heartbeat_arrive(&mut self, slot: u32) {
        let (inc, req, why) = self.net.heartbeats.take(slot);
        let c = req.consumer;
        let g = self.consumers[c].group;
        let now = self.now();
        let mut ch = Changes::default();
        let admitted = self.groups[g].protocol_mut().admit(&req, now, &mut ch);
        // Membership first (joins, leaves, the epoch bump), then the target and reconciliation,
        // in the order the coordinator does them.
        self.protocol_apply_changes(g, &req, why, std::mem::take(&mut ch));
        let answer = match admitted {
            Err(answer) => answer,
            Ok(()) => {
                if let Some(reason) = self.groups[g].protocol_mut().metadata_changed.take() {
                    self.groups[g].protocol_mut().group_epoch += 1;
                    self.protocol_bumped(g, reason);
                }
                if self.groups[g].protocol().assignment_due(now) {
                    self.compute_target_assignment(g, &mut ch);
                }
                let st = self.groups[g].protocol().plan.session_timeout;
                let pg = self.groups[g].protocol_mut();
                let sent = pg.reconcile(&req.member_id, req.owned.as_deref(), now, &mut ch);
                let m = pg.members.get_mut(&req.member_id).expect("admitted member");
                m.session_deadline = now + st;
                // The assignment goes with a join or a change (an acknowledgement is not a full request).
                let assignment = if sent.is_some() || req.epoch == 0 { Some(m.assigned.clone()) } else { None };
                HeartbeatAnswer::Ok { epoch: m.epoch, assignment }
            }
        };
        if let Some(at) = ch.revocation_deadline {
            let slot = self.net.timers.insert((g, req.member_id.clone()));
            self.kernel.schedule_at(at, Ev::ProtocolRebalanceTimeout(slot));
        }
        if answer != HeartbeatAnswer::Left && self.live(c as u32, inc) {
            self.consumers[c].protocol_mut().reply = Some(answer);
            self.kernel.schedule_after(self.net.delay, Ev::ProtocolHeartbeatResponse { c: c as u32, inc });
        }
        self.protocol_check_settled(g);
    }

    /// Records and acts on what a heartbeat did to the group: joins and replacements, removals,
    /// the group epoch moving, timers to arm.
    fn protocol_apply_changes(&mut self, g: usize, req: &HeartbeatRequest, why: &'static str, ch: Changes) {
        let now = self.now();
        let c = req.consumer;
        if let Some(old) = &ch.replaced {
            let what = What::StaticMemberReplaced {
                consumer: c as u32,
                member_id: req.member_id.clone(),
                group_instance_id: req.instance_id.clone(),
                replaced_member_id: old.clone(),
            };
            self.rec.event(now, what);
        } else if ch.joined {
            let what = What::MemberJoined {
                group: g as u32,
                consumer: c as u32,
                member_id: req.member_id.clone(),
                group_instance_id: req.instance_id.clone(),
            };
            self.rec.event(now, what);
        }
        if ch.joined {
            let st = self.groups[g].protocol().plan.session_timeout;
            let slot = self.net.timers.insert((g, req.member_id.clone()));
            self.kernel.schedule_after(st, Ev::ProtocolSessionExpire(slot));
        }
        let reason = if ch.joined {
            RebalanceReason::Joined(c as u32)
        } else {
            RebalanceReason::MemberGone { consumer: c as u32, reason: why }
        };
        for (id, consumer) in &ch.removed {
            self.protocol_member_removed(g, id, *consumer, false, why);
        }
        if ch.bumped {
            self.protocol_bumped(g, reason);
        }
    }

    /// The target assignment is computed now, inside the heartbeat that found it stale, with the
    /// group's server-side assignor over the subscribed partitions that exist now.
    fn compute_target_assignment(&mut self, g: usize, ch: &mut Changes) {
        use crate::kafka::coordinator::server_assignor::{ServerMember, ServerTopic, server_assign};
        let now = self.now();
        let topics: Vec<ServerTopic> = self.plan.groups[g]
            .topics
            .iter()
            .map(|&t| ServerTopic { topic: t, partitions: self.broker.topics[t].partitions, id_rank: t as u32 })
            .collect();
        let pg = self.groups[g].protocol();
        let topic_of = |p: u32| {
            let part = &self.broker.partitions[p as usize];
            (part.topic, part.index)
        };
        let members: Vec<ServerMember> = pg
            .members
            .iter()
            .map(|(id, m)| ServerMember {
                member_id: id.clone(),
                instance_id: m.instance_id.clone(),
                topics: topics.iter().map(|t| t.topic).collect(),
                target: m.target.iter().map(|&p| topic_of(p)).collect(),
            })
            .collect();
        let result = server_assign(pg.plan.remote_assignor, &topics, &members);
        let target = members
            .iter()
            .zip(result)
            .map(|(m, parts)| {
                let mut ids: Vec<u32> =
                    parts.into_iter().map(|(t, p)| self.broker.topics[t].first_partition + p).collect();
                ids.sort_unstable();
                (m.member_id.clone(), ids)
            })
            .collect();
        let pg = self.groups[g].protocol_mut();
        pg.set_target(target, now);
        ch.target_computed = Some(pg.assignment_epoch);
        let assignment = pg.members.values().map(|m| (m.consumer as u32, m.target.clone())).collect();
        let what = What::TargetAssignment { group: g as u32, group_epoch: pg.assignment_epoch, assignment };
        self.rec.event(now, what);
    }

    /// The group epoch moved: a rebalance starts. If one is under way, the group was never
    /// stable at its epoch and never will be: that rebalance restarts aiming at the new epoch
    /// (as a classic join round starts over), so members joining one after the other, or epochs
    /// batched into one target (KIP-1263), make one rebalance, not one each.
    fn protocol_bumped(&mut self, g: usize, reason: RebalanceReason) {
        let now = self.now();
        let stw = self.rec.ledgers[g].stw_total;
        let pg = self.groups[g].protocol_mut();
        let generation = pg.group_epoch;
        if let Some(rb) = pg.rebalance.as_mut() {
            let (rebalance, cancelled_generation) = (rb.seq, rb.epoch);
            rb.epoch = generation;
            self.rec.event(now, What::RebalanceRestarted { group: g as u32, rebalance, cancelled_generation, reason });
            self.refresh_group(g);
            return;
        }
        pg.rebalance_seq += 1;
        pg.rebalance = Some(crate::kafka::coordinator::consumer_group::OpenRebalance {
            seq: pg.rebalance_seq,
            epoch: generation,
            started: now,
            reason: reason.clone(),
            stw_before: stw,
            revoked: Vec::new(),
        });
        let protocol = crate::scenario::plan::RebalanceProtocol::Consumer;
        let rebalance = pg.rebalance_seq;
        self.rec.event(now, What::RebalanceStarted { group: g as u32, generation, protocol, reason, rebalance });
        self.refresh_group(g);
    }

    /// A member left the coordinator's table. The consumer that held it, if it still does (it
    /// crashed, hung, or is alive and was fenced without knowing), loses its partitions now.
    fn protocol_member_removed(&mut self, _g: usize, id: &str, c: usize, fenced: bool, reason: &'static str) {
        let now = self.now();
        if self.consumers[c].member_id.as_deref() == Some(id) {
            let cause = self.removal_cause(c, reason);
            self.release_all(c, cause);
        }
        self.rec.event(now, What::MemberRemoved { consumer: c as u32, member_id: id.to_string(), fenced, reason });
    }

    /// A member's session timer: it is removed if no heartbeat came for the session timeout
    /// (counted from its last one); otherwise the timer waits for the new deadline.
    pub(crate) fn protocol_session_expire(&mut self, g: usize, id: String) {
        let now = self.now();
        let Some(m) = self.groups[g].protocol().members.get(&id) else { return };
        if now < m.session_deadline {
            let at = m.session_deadline;
            let slot = self.net.timers.insert((g, id));
            self.kernel.schedule_at(at, Ev::ProtocolSessionExpire(slot));
            return;
        }
        self.protocol_fence(g, &id, "session_timeout");
    }

    /// A member still in UNREVOKED_PARTITIONS when its rebalance timeout runs out is fenced.
    pub(crate) fn protocol_rebalance_timeout(&mut self, g: usize, id: String) {
        let now = self.now();
        let Some(m) = self.groups[g].protocol().members.get(&id) else { return };
        if m.revocation_deadline.is_some_and(|t| now >= t) {
            self.protocol_fence(g, &id, "rebalance_timeout");
        }
    }

    fn protocol_fence(&mut self, g: usize, id: &str, reason: &'static str) {
        let mut ch = Changes::default();
        self.groups[g].protocol_mut().remove(id, &mut ch);
        for (id, consumer) in &ch.removed {
            self.protocol_member_removed(g, id, *consumer, true, reason);
            self.protocol_bumped(g, RebalanceReason::MemberGone { consumer: *consumer as u32, reason });
        }
        self.protocol_check_settled(g);
    }

    /// The member reads its heartbeat's answer.
    pub(crate) fn protocol_heartbeat_response(&mut self, c: usize) {
        let now = self.now();
        let m = self.consumers[c].protocol_mut();
        m.in_flight = false;
        let Some(reply) = m.reply.take() else { return };
        match reply {
            HeartbeatAnswer::Ok { epoch, assignment } => {
                m.epoch = epoch;
                if !m.interval_known {
                    // The answer's HeartbeatIntervalMs differs from the 0 it joined with: the
                    // timer restarts from the answer (updateHeartbeatIntervalMs).
                    m.interval_known = true;
                    self.protocol_rearm_timer(c);
                }
                let m = self.consumers[c].protocol_mut();
                let joining = m.state == MemberState::Joining;
                self.consumers[c].generation = epoch;
                if let Some(parts) = assignment {
                    let owned: Vec<u32> = self.consumers[c].owned.iter().map(|o| o.partition).collect();
                    let m = self.consumers[c].protocol_mut();
                    // LocalAssignment.updateWith: only an assignment other than the one it heads
                    // for starts a reconciliation.
                    let heading_for = m.heading_for().unwrap_or(&owned);
                    if joining || parts != *heading_for {
                        m.target = Some((epoch, parts));
                        if m.state != MemberState::Acknowledging {
                            m.state = MemberState::Reconciling;
                        }
                        m.target_since = now;
                        self.protocol_maybe_reconcile(c, false);
                    }
                }
            }
            HeartbeatAnswer::FencedMemberEpoch | HeartbeatAnswer::UnknownMemberId => self.protocol_fenced(c),
            HeartbeatAnswer::UnreleasedInstanceId => {
                let con = &mut self.consumers[c];
                con.protocol_mut().state = MemberState::Fatal;
                let instance = con.group_instance_id.clone().unwrap_or_default();
                con.fatal.get_or_insert(format!(
                    "UnreleasedInstanceIdException: group.instance.id {instance} is still held by a member that has not left"
                ));
                return;
            }
            HeartbeatAnswer::Left => {}
        }
        let m = self.consumers[c].protocol();
        if m.send_when_answered || m.state.heartbeats_now() {
            self.protocol_send_heartbeat(c);
        }
        let g = self.consumers[c].group;
        self.protocol_check_settled(g);
    }

    /// FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID: onPartitionsLost (nothing committed), then it
    /// joins again at once with epoch 0 and the same member id.
    fn protocol_fenced(&mut self, c: usize) {
        let now = self.now();
        let again = self.consumers[c].protocol().state == MemberState::Joining;
        // A rebalance listener (what commit: after_processing stands for) runs onPartitionsLost
        // on the application thread: the rejoin waits for its next poll.
        let con = &self.consumers[c];
        let listener_waits = con.config.commit == CommitMode::AfterProcessing && !con.owned.is_empty();
        self.rec.event(now, What::MembershipLost { consumer: c as u32 });
        self.release_all(c, "fenced");
        let con = &mut self.consumers[c];
        con.generation = 0;
        let m = con.protocol_mut();
        m.epoch = 0;
        m.target = None;
        m.applying = None;
        m.awaits_app_thread = false;
        m.state = if listener_waits { MemberState::Fenced } else { MemberState::Joining };
        if listener_waits {
            return;
        }
        if again {
            // Fenced again while joining (Kafka 4.0/4.1 refuse an epoch-0 rejoin of a member
            // they still hold): Kafka retries after a round trip; the model waits
            // retry.backoff.ms (100 ms), so a run without network delay cannot loop in one instant.
            let inc = self.consumers[c].incarnation;
            let m = self.consumers[c].protocol_mut();
            m.timer_seq = m.timer_seq.wrapping_add(1);
            let seq = m.timer_seq;
            self.kernel
                .schedule_after(SimDuration::from_millis(100), Ev::ProtocolHeartbeatTimer { c: c as u32, inc, seq });
        } else {
            m.send_when_answered = true;
        }
    }

    /// The interval timer starts over from now.
    fn protocol_rearm_timer(&mut self, c: usize) {
        let g = self.consumers[c].group;
        let interval = self.groups[g].protocol().plan.heartbeat_interval;
        let now = self.now();
        let con = &mut self.consumers[c];
        let inc = con.incarnation;
        let m = con.protocol_mut();
        m.timer_seq = m.timer_seq.wrapping_add(1);
        m.next_heartbeat = now + interval;
        let seq = m.timer_seq;
        self.kernel.schedule_after(interval, Ev::ProtocolHeartbeatTimer { c: c as u32, inc, seq });
    }

    /// Starts reconciling towards the newest assignment, unless it must wait for the
    /// application's poll (auto-commit, or a rebalance listener that commits: KAFKA-18641) or one
    /// is running. Revoked partitions stop being fetched at once; a commit goes first
    /// (auto-commit: everything consumed, synchronously; a listener: what it gives up).
    pub(crate) fn protocol_maybe_reconcile(&mut self, c: usize, app_poll: bool) {
        let g = self.consumers[c].group;
        let version = self.groups[g].protocol().version();
        let con = &self.consumers[c];
        let m = con.protocol();
        if m.state != MemberState::Reconciling || m.reconciling() || m.target.is_none() {
            return;
        }
        let mode = con.config.commit;
        let (_, target) = m.target.clone().expect("target");
        let revoked: Vec<u32> = con.owned.iter().map(|o| o.partition).filter(|p| !target.contains(p)).collect();
        // AMM#maybeReconcile: auto-commit waits for the poll; from 4.2 a revocation does too.
        let gated = mode != CommitMode::BeforeProcessing || (version.gates_revocation_on_poll() && !revoked.is_empty());
        if gated && !app_poll {
            return;
        }
        let offsets: Vec<(u32, u64)> = match mode {
            CommitMode::Auto => con.positions(),
            CommitMode::AfterProcessing => {
                con.owned.iter().filter(|o| revoked.contains(&o.partition)).map(|o| (o.partition, o.position)).collect()
            }
            CommitMode::BeforeProcessing => Vec::new(),
        };
        let m = self.consumers[c].protocol_mut();
        m.applying = m.target.take();
        if !revoked.is_empty() {
            let now = self.now();
            self.rec.event(now, What::PartitionsRevoked { consumer: c as u32, partitions: revoked.clone() });
            for &p in &revoked {
                self.release(c, p, "rebalance");
            }
            let g = self.consumers[c].group;
            if let Some(rb) = self.groups[g].protocol_mut().rebalance.as_mut() {
                rb.revoked.push((c as u32, revoked));
            }
            self.refresh_group(g);
        }
        if offsets.is_empty() {
            // Nothing to commit: on the application thread it applies now; from the network
            // thread (4.3+) at the application thread's next turn.
            if app_poll || !version.applies_assignment_on_app_thread() {
                self.protocol_reconciled(c);
            } else {
                self.consumers[c].protocol_mut().awaits_app_thread = true;
            }
            return;
        }
        self.send_commit(c, offsets);
        let rtt = self.net.round_trip();
        if rtt.is_zero() {
            self.protocol_commit_answered(c);
        } else {
            self.schedule_consumer(c, rtt, |c, inc| Ev::ProtocolReconciled { c, inc });
        }
    }

    /// The commit before revoking was answered: the assignment is applied now, or (4.3+) at the
    /// application thread's next turn.
    pub(crate) fn protocol_commit_answered(&mut self, c: usize) {
        let g = self.consumers[c].group;
        if self.groups[g].protocol().version().applies_assignment_on_app_thread() {
            self.consumers[c].protocol_mut().awaits_app_thread = true;
        } else {
            self.protocol_reconciled(c);
        }
    }

    /// The application thread runs (a poll starts, or a poll returns records): an assignment
    /// waiting for it is applied and acknowledged.
    pub(crate) fn protocol_app_thread_turn(&mut self, c: usize) {
        if std::mem::take(&mut self.consumers[c].protocol_mut().awaits_app_thread) {
            self.protocol_reconciled(c);
        }
    }

    /// The reconciliation completes: the added partitions are taken (from their committed
    /// offsets), and the acknowledgement goes out at once.
    pub(crate) fn protocol_reconciled(&mut self, c: usize) {
        let now = self.now();
        let m = self.consumers[c].protocol_mut();
        let Some((epoch, target)) = m.applying.take() else { return };
        let took = now - m.target_since;
        m.owned_changed = true;
        m.state = MemberState::Acknowledging;
        let owned: Vec<u32> = self.consumers[c].owned.iter().map(|o| o.partition).collect();
        let added: Vec<u32> = target.iter().copied().filter(|p| !owned.contains(p)).collect();
        self.take_partitions(c, &added);
        let what = What::Reconciled { consumer: c as u32, member_epoch: epoch, partitions: target, added, took };
        self.rec.event(now, what);
        self.protocol_send_heartbeat(c);
        let g = self.consumers[c].group;
        self.protocol_check_settled(g);
    }

    /// The application polls: a member that left on a poll timeout rejoins, and a reconciliation
    /// that waited for the poll starts. Returns whether poll() goes on to fetch.
    pub(crate) fn protocol_poll(&mut self, c: usize) -> bool {
        let now = self.now();
        let con = &mut self.consumers[c];
        con.last_poll = now;
        con.poll_seq = con.poll_seq.wrapping_add(1);
        if matches!(con.protocol().state, MemberState::Stale | MemberState::Fenced) {
            // maybeRejoinStaleMember: after onPartitionsLost, it joins as a new member (epoch 0).
            con.generation = 0;
            let m = con.protocol_mut();
            m.state = MemberState::Joining;
            m.epoch = 0;
            self.protocol_send_heartbeat(c);
        }
        self.protocol_app_thread_turn(c);
        self.protocol_maybe_reconcile(c, true);
        // The auto-commit timer only advances in the application's poll (CommitRequestManager).
        let in_group = self.consumers[c].protocol().epoch > 0;
        self.maybe_auto_commit(c, in_group);
        self.rec.consumers[c].polls += 1;
        true
    }

    /// The poll timer ran out (`seq` names the poll it counts from): the network thread notices
    /// when it next wakes, at least every 5 s (ConsumerNetworkThread's MAX_POLL_TIMEOUT_MS) from
    /// its last heartbeat and at the next heartbeat at the latest.
    pub(crate) fn protocol_poll_timer_check(&mut self, c: usize, seq: u32) {
        const WAKE: u64 = 5_000_000_000;
        let now = self.now();
        let con = &self.consumers[c];
        let m = con.protocol();
        let silent = matches!(
            m.state,
            MemberState::Stale | MemberState::Fenced | MemberState::Fatal | MemberState::Unsubscribed
        );
        if con.poll_seq != seq || silent || now < con.last_poll + con.config.max_poll_interval {
            return;
        }
        let g = con.group;
        let interval = self.groups[g].protocol().plan.heartbeat_interval;
        let last_send = m.next_heartbeat.as_nanos().saturating_sub(interval.as_nanos());
        let since = now.as_nanos().saturating_sub(last_send);
        let wake = SimTime(last_send + since.div_ceil(WAKE) * WAKE).min(m.next_heartbeat);
        if wake > now {
            let inc = con.incarnation;
            self.kernel.schedule_at(wake, Ev::PollTimeout { c: c as u32, inc, seq });
            return;
        }
        self.protocol_poll_timeout(c);
    }

    /// No poll() for max.poll.interval.ms: the member leaves at once (epoch -1, or -2 for a static
    /// member) with no commit and no callbacks, and goes STALE until its next poll.
    fn protocol_poll_timeout(&mut self, c: usize) {
        self.record_poll_timeout(c);
        self.release_all(c, "poll_timeout");
        self.protocol_send_leave(c);
        let con = &mut self.consumers[c];
        con.generation = -1;
        let m = con.protocol_mut();
        m.state = MemberState::Stale;
        m.epoch = -1;
        m.target = None;
        m.applying = None;
        m.awaits_app_thread = false;
    }

    /// The leave heartbeat (epoch -1, or -2 for a static member) goes out now, even with another
    /// heartbeat out; its answer is not waited for.
    fn protocol_send_leave(&mut self, c: usize) {
        self.protocol_send_leave_after(c, SimDuration::ZERO, "poll_timeout");
    }

    fn protocol_send_leave_after(&mut self, c: usize, after: SimDuration, why: &'static str) {
        let con = &self.consumers[c];
        let Some(member_id) = con.member_id.clone() else { return };
        let epoch =
            if con.group_instance_id.is_some() { LEAVE_GROUP_STATIC_MEMBER_EPOCH } else { LEAVE_GROUP_MEMBER_EPOCH };
        let req = HeartbeatRequest {
            consumer: c,
            member_id,
            instance_id: con.group_instance_id.clone(),
            epoch,
            owned: None,
            rebalance_timeout: con.config.max_poll_interval,
        };
        let slot = self.net.heartbeats.insert((con.incarnation, req, why));
        self.kernel.schedule_after(after + self.net.delay, Ev::ProtocolHeartbeatArrive(slot));
    }

    /// close(): commit what was consumed (auto-commit, or the listener of an after-processing
    /// consumer), give the partitions up, then the leave heartbeat once the commit is answered.
    pub(crate) fn protocol_finish_stop(&mut self, c: usize) {
        let g = self.consumers[c].group;
        let committing =
            self.consumers[c].config.commit != CommitMode::BeforeProcessing && !self.consumers[c].owned.is_empty();
        if committing {
            let offsets = self.consumers[c].positions();
            self.send_commit(c, offsets);
        }
        self.discard_buffer(c, None);
        let d = self.net.delay;
        // The leave goes out once the closing commit is answered.
        let after = if committing { d + d } else { SimDuration::ZERO };
        self.protocol_send_leave_after(c, after, "leave_group");
        self.mark_stopped(c);
        self.release_all(c, "stop");
        let con = &mut self.consumers[c];
        con.member_id = None;
        con.generation = -1;
        let m = con.protocol_mut();
        m.state = MemberState::Unsubscribed;
        m.epoch = LEAVE_GROUP_MEMBER_EPOCH;
        self.refresh_group(g);
    }

    /// A rebalance is over when the coordinator has every member stable at the target epoch and
    /// every running member has applied what it was given.
    pub(crate) fn protocol_check_settled(&mut self, g: usize) {
        use crate::kafka::coordinator::consumer_group::ProtocolGroupState;
        let pg = self.groups[g].protocol();
        if pg.rebalance.is_none() {
            return;
        }
        let state = pg.state();
        if state == ProtocolGroupState::Empty {
            let now = self.now();
            let pg = self.groups[g].protocol_mut();
            let generation = pg.group_epoch;
            // Its revocations and pause count with the next rebalance that completes.
            if let Some(rb) = pg.rebalance.take() {
                self.rec.event(now, What::RebalanceAbandoned { group: g as u32, rebalance: rb.seq, generation });
            }
            self.refresh_group(g);
            return;
        }
        if state != ProtocolGroupState::Stable {
            return;
        }
        // The coordinator calls a member stable once it answered it; the member has yet to read
        // that answer and apply it.
        let applied = pg.members.iter().all(|(id, m)| {
            let con = &self.consumers[m.consumer];
            let cm = con.protocol();
            con.member_id.as_deref() != Some(id.as_str())
                || !con.is_running()
                || (cm.epoch == m.epoch
                    && cm.target.is_none()
                    && !cm.reconciling()
                    && !cm.awaits_app_thread
                    && con.owned.len() == m.assigned.len()
                    && con.owned.iter().zip(&m.assigned).all(|(o, &p)| o.partition == p))
        });
        if applied {
            self.protocol_rebalance_completed(g);
        }
    }
}

impl World {
    /// Every member is stable at the target and has applied it: the rebalance under way is
    /// complete, timed from the bump that opened it. What the hand-over cost: revocations, the
    /// pause, and the partitions moved, each one whose owner at the last completed assignment,
    /// or a member that gave it up during this rebalance, is not its owner now (a partition a
    /// member held for a while at start-up, then gave up, moved).
    fn protocol_rebalance_completed(&mut self, g: usize) {
        self.refresh_group(g);
        if let Some(rb) = self.groups[g].protocol_mut().rebalance.take() {
            self.protocol_report_completed(g, rb);
        }
        self.refresh_group(g);
    }

    fn protocol_report_completed(&mut self, g: usize, rb: crate::kafka::coordinator::consumer_group::OpenRebalance) {
        let now = self.now();
        let pg = self.groups[g].protocol_mut();
        let mut assigned = Vec::new();
        let mut owner_now = std::collections::BTreeMap::new();
        for m in pg.members.values() {
            assigned.push((m.consumer as u32, m.assigned.clone()));
            owner_now.extend(m.assigned.iter().map(|&p| (p, m.consumer)));
        }
        let mut moved = std::collections::BTreeSet::new();
        for (&p, &c) in &owner_now {
            let before = pg.offsets.assigned_to(p);
            if before.is_some_and(|b| b != c) {
                moved.insert(p);
            }
            pg.offsets.set_assigned_to(p, Some(c));
        }
        for (c, ps) in &rb.revoked {
            moved.extend(ps.iter().filter(|p| owner_now.get(p).is_some_and(|&o| o != *c as usize)));
        }
        let moved = moved.len();
        let members = pg.members.values().map(|m| m.consumer as u32).collect();
        let (generation, rebalance) = (rb.epoch, rb.seq);
        let ledger = &mut self.rec.ledgers[g];
        ledger.rebalances += 1;
        ledger.partitions_moved += moved as u64;
        let stw = SimDuration(ledger.stw_total.as_nanos() - rb.stw_before.as_nanos());
        let (revoked_partitions, rebalance_pause) = ledger.close_rebalance_cost();
        ledger.note_rebalance_latency(now - rb.started);
        let done = crate::record::event::RebalanceCompleted {
            group: g as u32,
            generation,
            protocol: crate::scenario::plan::RebalanceProtocol::Consumer,
            members,
            leader: None,
            assigned,
            revoked: rb.revoked,
            partitions_moved: moved,
            duration: now - rb.started,
            stop_the_world: stw,
            rebalance,
            revoked_partitions,
            rebalance_pause,
        };
        self.rec.event(now, What::RebalanceCompleted(Box::new(done)));
    }
}
