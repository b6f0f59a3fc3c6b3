//! The classic group coordinator (broker side): JoinGroup / SyncGroup rounds and generations,
//! `group.initial.rebalance.delay.ms`, the rebalance timeout, session timeouts and static
//! membership, as Kafka's GroupMetadataManager runs them.

use crate::kafka::broker::Broker;
use crate::kafka::client::{Consumer, RunState};
use crate::kafka::coordinator::assignor::{MemberSubscription, assign};
use crate::kafka::coordinator::{ClassicGroup, GroupState, Member, Rebalance};
use crate::kafka::cx::Cx;
use crate::kafka::world::{Ev, World};
use crate::record::event::{RebalanceCompleted, RebalanceReason, What};
use crate::scenario::plan::RebalanceProtocol;
use crate::sim::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// What a SyncGroup round hands out: each member's assignment and revocations (for the
/// event), and who owns what afterwards.
#[derive(Default)]
pub(crate) struct Handout {
    assigned: Vec<(u32, Vec<u32>)>,
    revoked: Vec<(u32, Vec<u32>)>,
    owners_after: BTreeMap<u32, usize>,
}

impl ClassicGroup {
    /// A new member enters the table (ClassicGroup.add): the first one added leads. One added
    /// while the initial delay holds the join phase open has it wait another delay (Kafka's
    /// newMemberAdded).
    pub(crate) fn add_member(&mut self, id: String, member: Member) {
        if self.state == GroupState::PreparingRebalance
            && let Some(rb) = self.rebalance.as_mut()
            && rb.initial_delay_left.is_some()
        {
            rb.joined_during_delay = true;
        }
        if self.leader.is_none() {
            self.leader = Some(id.clone());
        }
        self.members.insert(id, member);
    }

    /// A known member's JoinGroup (updateMemberAndRebalance): it is heard from, so it is alive
    /// and its session starts over.
    pub(crate) fn update_member(&mut self, id: &str, now: SimTime) {
        let m = self.members.get_mut(id).expect("known member");
        m.alive = true;
        m.last_heartbeat = now;
    }

    /// A static member's new instance (consumer `c`) takes over its entry under a new member id
    /// (KIP-345, replaceStaticMember): joined and heard from now, with the old entry's assignment
    /// and, if the old one led, the lead. Returns the consumer that held the entry.
    pub(crate) fn replace_static_member(&mut self, old_id: &str, new_id: String, c: usize, now: SimTime) -> usize {
        let mut m = self.members.remove(old_id).expect("static member exists");
        let old_consumer = m.consumer;
        m.consumer = c;
        m.alive = true;
        m.joined = true;
        m.last_heartbeat = now;
        if self.leader.as_deref() == Some(old_id) {
            self.leader = Some(new_id.clone());
        }
        self.members.insert(new_id, m);
        old_consumer
    }

    /// A member leaves the table (ClassicGroup.remove); if it led, the group has no leader
    /// until the next join phase elects one.
    pub(crate) fn remove_member(&mut self, id: &str) -> Option<Member> {
        let m = self.members.remove(id)?;
        if self.leader.as_deref() == Some(id) {
            self.leader = None;
        }
        Some(m)
    }

    /// `group.initial.rebalance.delay.ms` (InitialDelayedJoin): the first join into an Empty
    /// group waits a delay for others to arrive, and at most `timeout` in all.
    pub(crate) fn delay_initial_join(&mut self, cx: &mut Cx, g: usize, timeout: SimDuration) {
        let delay = cx.plan.groups[g].initial_rebalance_delay;
        if delay.is_zero() {
            return;
        }
        let rb = self.rebalance.as_mut().expect("rebalance just started");
        rb.initial_delay_left = Some(SimDuration(timeout.as_nanos().saturating_sub(delay.as_nanos())));
        cx.schedule_after(delay, Ev::JoinTimer { g: g as u32, round: self.round });
    }

    /// Stable (or Empty, or CompletingRebalance) -> PreparingRebalance (GroupMetadataManager's
    /// prepareRebalance), with the join phase's timer at `timeout`. Members that had joined a
    /// round now cancelled (CompletingRebalance) get REBALANCE_IN_PROGRESS for their SyncGroup and
    /// join again at once. None when a join phase is open already; else those members' consumers.
    pub(crate) fn prepare_rebalance(
        &mut self,
        cx: &mut Cx,
        g: usize,
        reason: RebalanceReason,
        timeout: SimDuration,
    ) -> Option<Vec<usize>> {
        if self.state == GroupState::PreparingRebalance {
            return None;
        }
        let now = cx.now();
        let cancelled: Vec<usize> = if self.state == GroupState::CompletingRebalance {
            self.members.values().filter(|m| m.joined).map(|m| m.consumer).collect()
        } else {
            Vec::new()
        };
        self.state = GroupState::PreparingRebalance;
        self.round += 1;
        for m in self.members.values_mut() {
            m.joined = false;
        }
        if self.rebalance.is_some() && !cancelled.is_empty() {
            // A member arrived or left while the join phase's generation was being synced: that
            // generation never becomes Stable and the join phase starts over.
            let (rebalance, cancelled_generation) = (self.rebalance_seq, self.generation);
            let reason = reason.clone();
            cx.event(What::RebalanceRestarted { group: g as u32, rebalance, cancelled_generation, reason });
        }
        if self.rebalance.is_none() {
            self.rebalance_seq += 1;
            self.rebalance = Some(Rebalance {
                started: now,
                reason: reason.clone(),
                initial_delay_left: None,
                joined_during_delay: false,
                stw_before: cx.rec.ledgers[g].stw_total,
            });
            cx.event(What::RebalanceStarted {
                group: g as u32,
                generation: self.generation + 1,
                protocol: self.protocol,
                reason,
                rebalance: self.rebalance_seq,
            });
        }
        cx.schedule_after(timeout, Ev::JoinTimer { g: g as u32, round: self.round });
        Some(cancelled)
    }

    /// The join phase's timer fires (Kafka's DelayedJoin, or InitialDelayedJoin while
    /// `group.initial.rebalance.delay.ms` holds the first join open). True when the join phase is
    /// to end now; false for a stale timer, or when members arrived during the initial delay:
    /// then it waits another delay, within the rebalance timeout.
    pub(crate) fn join_timer_expired(&mut self, cx: &mut Cx, g: usize, round: u32) -> bool {
        if self.round != round || self.state != GroupState::PreparingRebalance {
            return false;
        }
        let delay = cx.plan.groups[g].initial_rebalance_delay;
        let rb = self.rebalance.as_mut().expect("preparing has a rebalance");
        if let Some(left) = rb.initial_delay_left {
            if rb.joined_during_delay && !left.is_zero() {
                let step = SimDuration(delay.as_nanos().min(left.as_nanos()));
                rb.initial_delay_left = Some(SimDuration(left.as_nanos().saturating_sub(delay.as_nanos())));
                rb.joined_during_delay = false;
                cx.schedule_after(step, Ev::JoinTimer { g: g as u32, round });
                return false;
            }
            rb.initial_delay_left = None;
        }
        true
    }

    /// Member `id` has rejoined in this join phase.
    pub(crate) fn mark_joined(&mut self, id: &str) {
        if let Some(m) = self.members.get_mut(id) {
            m.joined = true;
        }
    }

    /// The join phase may end before its timer (DelayedJoin.tryComplete): every member has
    /// rejoined (hasAllMembersJoined) and no initial delay holds it open.
    pub(crate) fn all_members_joined(&self) -> bool {
        let delayed = self.rebalance.as_ref().is_some_and(|r| r.initial_delay_left.is_some());
        self.state == GroupState::PreparingRebalance && !delayed && self.members.values().all(|m| m.joined)
    }

    /// The dynamic members that did not rejoin in time (notYetRejoinedMembers): the join phase
    /// drops them as it ends. Static ones stay (KIP-345) and keep their assignment until they
    /// return or their session times out.
    pub(crate) fn not_yet_rejoined_dynamic_members(&self) -> Vec<String> {
        self.members
            .iter()
            .filter(|(_, m)| !m.joined && m.group_instance_id.is_none())
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Members are left but none rejoined (only absent static ones): no leader can be elected
    /// from the joined members (maybeElectNewJoinedLeader), so the join phase is postponed.
    pub(crate) fn no_member_rejoined(&self) -> bool {
        !self.members.is_empty() && self.members.values().all(|m| !m.joined)
    }

    /// The join phase ends (onCompleteJoin): the generation moves on, a leader is elected if the
    /// old one is gone, and the group awaits the leader's assignment (CompletingRebalance). The
    /// JoinGroup response, the leader's SyncGroup and its response are one step of three network
    /// delays. With nobody left the group is Empty instead. Returns the members that joined (id,
    /// consumer): they get a JoinGroup response.
    pub(crate) fn complete_join(&mut self, cx: &mut Cx, g: usize) -> Vec<(String, usize)> {
        if self.members.is_empty() {
            self.leader = None;
            self.transition_to_empty(cx, g);
            return Vec::new();
        }
        self.generation += 1;
        self.round += 1;
        self.state = GroupState::CompletingRebalance;
        if self.leader.as_ref().is_none_or(|l| !self.members.contains_key(l)) {
            self.leader = self.members.keys().next().cloned();
        }
        let rtt = cx.net.delay + cx.net.delay + cx.net.delay;
        cx.schedule_after(rtt, Ev::SyncDone { g: g as u32, round: self.round });
        self.members.iter().filter(|(_, m)| m.joined).map(|(id, m)| (id.clone(), m.consumer)).collect()
    }

    /// What each member tells the leader's assignor (its JoinGroup metadata): its topics, and
    /// what it owns. Cooperative members report what they own; eager members revoked everything,
    /// so the sticky assignor reads their last assignment from the subscription.
    pub(crate) fn subscriptions(
        &self,
        consumers: &[Consumer],
        broker: &Broker,
        topics: &BTreeMap<String, u32>,
    ) -> Vec<MemberSubscription> {
        let cooperative = self.protocol == RebalanceProtocol::Cooperative;
        self.members
            .iter()
            .map(|(id, m)| {
                let con = &consumers[m.consumer];
                let owned: Vec<u32> = if cooperative && con.member_id.as_deref() == Some(id.as_str()) {
                    con.owned.iter().map(|o| o.partition).collect()
                } else {
                    m.assignment.clone()
                };
                MemberSubscription {
                    member_id: id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    topics: topics.keys().cloned().collect(),
                    owned: owned.iter().map(|&p| broker.topic_partition(p)).collect(),
                    generation: (m.generation >= 0).then_some(m.generation),
                }
            })
            .collect()
    }

    /// Who owns which of `partitions` per the last completed assignment (dead members
    /// included): what a new assignment is compared with to count moved partitions.
    pub(crate) fn assigned_owners(&self, partitions: &[u32]) -> BTreeMap<u32, usize> {
        partitions.iter().filter_map(|&p| self.offsets.assigned_to(p).map(|c| (p, c))).collect()
    }

    /// The leader's assignment goes into the member table (setAndPropagateAssignment's first
    /// half): member `ids[i]` gets `parts[i]` at this generation, which the sticky assignor reads
    /// back as its user data. Returns what the event reports and who owns what afterwards.
    pub(crate) fn set_assignment(
        &mut self,
        ids: &[String],
        parts: Vec<Vec<u32>>,
        owners_before: &BTreeMap<u32, usize>,
    ) -> Handout {
        let mut out = Handout::default();
        for (id, parts) in ids.iter().zip(parts) {
            let m = self.members.get_mut(id).expect("member");
            m.assignment = parts.clone();
            m.generation = self.generation;
            let c = m.consumer;
            for &p in &parts {
                out.owners_after.insert(p, c);
            }
            let before: Vec<u32> = owners_before.iter().filter(|(_, o)| **o == c).map(|(p, _)| *p).collect();
            let revoked: Vec<u32> = before.iter().copied().filter(|p| !parts.contains(p)).collect();
            out.assigned.push((c as u32, parts));
            if !revoked.is_empty() {
                out.revoked.push((c as u32, revoked));
            }
        }
        out
    }

    /// The group is Stable: partition owners are recorded and the rebalance counted. Partitions
    /// withheld this round (cooperative) keep their last owner, so the move is counted when the
    /// second round hands them over. Returns how many partitions moved.
    pub(crate) fn stabilize(
        &mut self,
        cx: &mut Cx,
        g: usize,
        owners_after: &BTreeMap<u32, usize>,
        owners_before: &BTreeMap<u32, usize>,
    ) -> usize {
        let moved =
            owners_after.iter().filter(|(p, c)| owners_before.get(p).is_some_and(|before| before != *c)).count();
        for (&p, &c) in owners_after {
            self.offsets.set_assigned_to(p, Some(c));
        }
        self.state = GroupState::Stable;
        self.round += 1;
        cx.rec.ledgers[g].rebalances += 1;
        cx.rec.ledgers[g].partitions_moved += moved as u64;
        moved
    }

    /// The rebalance `rb` is over: its completion is reported with what it cost, the group's
    /// stop-the-world clock (closed by now) read for this rebalance's share.
    pub(crate) fn report_completed(
        &self,
        cx: &mut Cx,
        g: usize,
        rb: Option<Rebalance>,
        handout: Handout,
        moved: usize,
    ) {
        let now = cx.now();
        let duration = rb.as_ref().map_or(SimDuration::ZERO, |r| now - r.started);
        let ledger = &mut cx.rec.ledgers[g];
        let stw = rb.map_or(SimDuration::ZERO, |r| SimDuration(ledger.stw_total.as_nanos() - r.stw_before.as_nanos()));
        let (revoked_partitions, pause) = ledger.close_rebalance_cost();
        ledger.note_rebalance_latency(duration);
        let done = RebalanceCompleted {
            group: g as u32,
            generation: self.generation,
            protocol: self.protocol,
            members: self.members.values().map(|m| m.consumer as u32).collect(),
            leader: self.leader.as_ref().map(|l| self.members[l].consumer as u32),
            assigned: handout.assigned,
            revoked: handout.revoked,
            partitions_moved: moved,
            duration,
            stop_the_world: stw,
            rebalance: self.rebalance_seq,
            revoked_partitions,
            rebalance_pause: pause,
        };
        cx.event(What::RebalanceCompleted(Box::new(done)));
    }

    /// Every member is gone: the group is Empty and its generation moves on (a late SyncGroup or
    /// commit of an old member is fenced); a rebalance under way ends without an assignment.
    pub(crate) fn transition_to_empty(&mut self, cx: &mut Cx, g: usize) {
        self.state = GroupState::Empty;
        self.generation += 1;
        self.round += 1;
        if self.rebalance.take().is_some() {
            let (rebalance, generation) = (self.rebalance_seq, self.generation);
            cx.event(What::RebalanceAbandoned { group: g as u32, rebalance, generation });
        }
    }
}

impl World {
    /// A JoinGroup request from consumer `c` reaches the coordinator.
    pub(crate) fn join_arrive(&mut self, c: usize) {
        let g = self.consumers[c].group;
        let instance = self.consumers[c].group_instance_id.clone();
        let known = self.consumers[c].member_id.clone().filter(|id| self.groups[g].classic().members.contains_key(id));
        if let Some(id) = known {
            self.rejoin(c, &id);
            return;
        }
        if let Some(old_id) = instance.as_deref().and_then(|i| self.groups[g].classic().member_by_instance(i)) {
            self.replace_static_member(c, &old_id);
            return;
        }
        self.join_new_member(c);
    }

    /// An existing member rejoining (eager rejoin, cooperative second round).
    fn rejoin(&mut self, c: usize, id: &str) {
        let now = self.now();
        let g = self.consumers[c].group;
        self.groups[g].classic_mut().update_member(id, now);
        match self.groups[g].classic().state {
            GroupState::PreparingRebalance => {}
            // Already in this round: it waits for the SyncGroup answer like everyone else.
            GroupState::CompletingRebalance => return,
            GroupState::Stable | GroupState::Empty => self.prepare_rebalance(g, RebalanceReason::Rejoined(c as u32)),
        }
        self.groups[g].classic_mut().mark_joined(id);
        self.try_complete_join(g);
    }

    /// A consumer without a membership joins: it gets a member id, and the group starts (or
    /// restarts) a join phase.
    fn join_new_member(&mut self, c: usize) {
        let now = self.now();
        let g = self.consumers[c].group;
        let instance = self.consumers[c].group_instance_id.clone();
        let id = self.consumers[c].new_member_id();
        let member = Member {
            consumer: c,
            group_instance_id: instance.clone(),
            joined: false,
            alive: true,
            assignment: Vec::new(),
            generation: -1,
            last_heartbeat: now,
            session_deadline: None,
        };
        self.groups[g].classic_mut().add_member(id.clone(), member);
        self.consumers[c].member_id = Some(id.clone());
        self.consumers[c].classic_mut().hb_origin = now;
        self.rec.event(
            now,
            What::MemberJoined {
                group: g as u32,
                consumer: c as u32,
                member_id: id.clone(),
                group_instance_id: instance,
            },
        );
        match self.groups[g].classic().state {
            GroupState::Empty => {
                let timeout = self.groups[g].classic().rebalance_timeout(&self.consumers);
                self.prepare_rebalance(g, RebalanceReason::JoinedEmpty(c as u32));
                let (grp, mut cx) = self.group_cx(g);
                grp.classic_mut().delay_initial_join(&mut cx, g, timeout);
            }
            GroupState::PreparingRebalance => {}
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.prepare_rebalance(g, RebalanceReason::Joined(c as u32));
            }
        }
        self.groups[g].classic_mut().mark_joined(&id);
        self.try_complete_join(g);
    }

    /// A restarted static member takes over its old member entry (KIP-345). In a Stable group
    /// nothing is rebalanced: it gets its previous assignment back.
    fn replace_static_member(&mut self, c: usize, old_id: &str) {
        let now = self.now();
        let g = self.consumers[c].group;
        let new_id = self.consumers[c].new_member_id();
        let old_consumer = self.groups[g].classic_mut().replace_static_member(old_id, new_id.clone(), c, now);
        if old_consumer != c {
            self.consumers[old_consumer].member_id = None;
        }
        self.consumers[c].member_id = Some(new_id.clone());
        // Its JoinGroup response (one delay away) restarts its heartbeat schedule.
        self.consumers[c].classic_mut().hb_origin = now + self.net.delay;
        let what = What::StaticMemberReplaced {
            consumer: c as u32,
            member_id: new_id.clone(),
            group_instance_id: self.consumers[c].group_instance_id.clone(),
            replaced_member_id: old_id.to_string(),
        };
        self.rec.event(now, what);
        match self.groups[g].classic().state {
            GroupState::Stable => {
                let grp = self.groups[g].classic();
                let (generation, assignment) = (grp.generation, grp.members[&new_id].assignment.clone());
                let con = &mut self.consumers[c];
                con.generation = generation;
                con.classic_mut().joining = false;
                con.commits.last_auto_commit = now + self.net.delay; // onJoinComplete on its JoinGroup response
                let owned: Vec<u32> = con.owned.iter().map(|o| o.partition).collect();
                let missing: Vec<u32> = assignment.iter().copied().filter(|p| !owned.contains(p)).collect();
                self.take_partitions(c, &missing);
                self.unblock(c);
            }
            GroupState::PreparingRebalance => self.try_complete_join(g),
            _ => self.prepare_rebalance(g, RebalanceReason::StaticRejoined(c as u32)),
        }
    }

    /// A rebalance begins (or a cancelled sync round starts over): every member must rejoin, and
    /// learns so from its next heartbeat response.
    pub(crate) fn prepare_rebalance(&mut self, g: usize, reason: RebalanceReason) {
        let timeout = self.groups[g].classic().rebalance_timeout(&self.consumers);
        let (grp, mut cx) = self.group_cx(g);
        let Some(cancelled) = grp.classic_mut().prepare_rebalance(&mut cx, g, reason, timeout) else { return };
        // Those whose SyncGroup got REBALANCE_IN_PROGRESS join again at once; the others learn of
        // the rebalance from their next heartbeat response.
        let now = self.now();
        let members: Vec<usize> =
            self.groups[g].classic().members.values().filter(|m| m.alive).map(|m| m.consumer).collect();
        for c in members {
            let inc = self.consumers[c].incarnation;
            if cancelled.contains(&c) && self.consumers[c].is_running() {
                let at = now + self.net.delay + self.net.delay;
                self.kernel.schedule_at(at, Ev::JoinArrive { c: c as u32, inc });
                continue;
            }
            let at = self.consumers[c].next_heartbeat_response(now, self.net.delay);
            self.kernel.schedule_at(at, Ev::HeartbeatNotice { c: c as u32, inc });
        }
        self.refresh_group(g);
    }

    /// Ends the join phase early once every member has rejoined.
    pub(crate) fn try_complete_join(&mut self, g: usize) {
        if self.groups[g].classic().all_members_joined() {
            self.complete_join(g);
        }
    }

    /// Ends the join phase: members that did not rejoin are dropped, the generation moves on and
    /// every member that joined gets its JoinGroup response.
    pub(crate) fn complete_join(&mut self, g: usize) {
        for id in self.groups[g].classic().not_yet_rejoined_dynamic_members() {
            self.remove_member(g, &id, false, "rebalance_timeout");
        }
        let grp = self.groups[g].classic();
        if grp.no_member_rejoined() {
            // Only absent static members are left: Kafka postpones the join phase.
            let timeout = grp.rebalance_timeout(&self.consumers);
            self.kernel.schedule_after(timeout, Ev::JoinTimer { g: g as u32, round: grp.round });
            return;
        }
        let (grp, mut cx) = self.group_cx(g);
        let joined = grp.classic_mut().complete_join(&mut cx, g);
        // Every member that joined gets its JoinGroup response one network delay from now, and
        // its heartbeat thread starts over then: AbstractCoordinator's JoinGroupResponseHandler
        // calls heartbeatThread.enable(), which runs Heartbeat.resetTimeouts(). The next heartbeat
        // is heartbeat.interval.ms after the response, not on a grid from the first join.
        let response_at = self.now() + self.net.delay;
        for (id, c) in joined {
            let con = &mut self.consumers[c];
            if con.is_running() && con.member_id.as_deref() == Some(id.as_str()) {
                con.classic_mut().hb_origin = response_at;
            }
        }
        self.refresh_group(g);
    }

    /// The leader's assignment is in: the group is Stable and every member learns its share.
    pub(crate) fn sync_done(&mut self, g: usize, round: u32) {
        let grp = self.groups[g].classic();
        if grp.round != round || grp.state != GroupState::CompletingRebalance {
            return;
        }
        let topics = self.broker.topic_metadata(&self.plan.groups[g].topics);
        let subs = grp.subscriptions(&self.consumers, &self.broker, &topics);
        let result = assign(self.plan.groups[g].assignor, &topics, &subs);
        let generation = grp.generation;
        let rb = self.groups[g].classic_mut().rebalance.take();
        let grp = &self.groups[g];
        let owners_before = grp.classic().assigned_owners(&grp.partitions);
        let ids: Vec<String> = grp.classic().members.keys().cloned().collect();
        self.release_members_behind(g, &ids);
        let parts: Vec<Vec<u32>> = ids
            .iter()
            .map(|id| result.get(id).map(|v| v.iter().map(|tp| self.broker.global_partition(tp)).collect()))
            .map(Option::unwrap_or_default)
            .collect();
        let handout = self.groups[g].classic_mut().set_assignment(&ids, parts, &owners_before);
        for (c, parts) in self.hand_out(g, &ids, &handout.assigned) {
            self.deliver_assignment(c, generation, &parts);
        }
        let (grp, mut cx) = self.group_cx(g);
        let moved = grp.classic_mut().stabilize(&mut cx, g, &handout.owners_after, &owners_before);
        // Close the stop-the-world clock first, so the event can report this rebalance's share.
        self.refresh_group(g);
        let (grp, mut cx) = self.group_cx(g);
        grp.classic().report_completed(&mut cx, g, rb, handout, moved);
    }

    /// A static member kept without rejoining (busy past the rebalance timeout) is a generation
    /// behind: what it still holds is lost to it before anything is handed out, and it rejoins
    /// at its next poll.
    fn release_members_behind(&mut self, g: usize, ids: &[String]) {
        for id in ids {
            let m = &self.groups[g].classic().members[id];
            let c = m.consumer;
            if !m.joined
                && self.consumers[c].is_running()
                && self.consumers[c].member_id.as_deref() == Some(id.as_str())
            {
                self.release_all(c, "rebalance");
                self.consumers[c].generation = -1;
                self.consumers[c].classic_mut().rejoin_needed = true;
            }
        }
    }

    /// Members that cannot take their new assignment now (dead, or lost their membership to a
    /// poll timeout) drop what it no longer gives them. Returns the SyncGroup responses to send:
    /// (consumer, assignment) of each member that joined.
    fn hand_out(&mut self, g: usize, ids: &[String], assigned: &[(u32, Vec<u32>)]) -> Vec<(usize, Vec<u32>)> {
        let mut deliveries = Vec::new();
        for (id, (c, parts)) in ids.iter().zip(assigned) {
            let c = *c as usize;
            let con = &self.consumers[c];
            let running = con.state == RunState::Running;
            if !running || con.member_id.is_none() {
                // A member whose consumer is dead (a crashed static member is kept until its
                // session times out) or lost its membership to a poll timeout and has not polled
                // since keeps only what the new assignment leaves it; the rest goes to its new
                // owners now (the consumer calls onPartitionsLost when it next polls).
                let lost: Vec<u32> = con.owned.iter().map(|o| o.partition).filter(|p| !parts.contains(p)).collect();
                for p in lost {
                    self.release(c, p, if running { "poll_timeout" } else { "crash" });
                }
                continue;
            }
            if con.member_id.as_deref() != Some(id.as_str()) {
                continue; // a silent member: its partitions wait for its session to time out
            }
            if self.groups[g].classic().members[id].joined {
                deliveries.push((c, parts.clone()));
            }
        }
        deliveries
    }

    /// Removes a member (LeaveGroup, session timeout, poll timeout, or a missed join phase).
    pub(crate) fn remove_member(&mut self, g: usize, id: &str, fenced: bool, reason: &'static str) {
        let Some(m) = self.groups[g].classic_mut().remove_member(id) else { return };
        let c = m.consumer;
        let holder = self.consumers[c].member_id.as_deref();
        if holder == Some(id) || holder.is_none() {
            // The consumer still holds this membership's partitions (it crashed, or it lost the
            // membership to a poll timeout and has not polled since): they go.
            let hung = self.consumers[c].is_hung();
            let cause = self.removal_cause(c, reason);
            self.release_all(c, cause);
            // A hung consumer is not told: it learns at its next heartbeat or commit.
            if !hung {
                self.consumers[c].member_id = None;
                self.consumers[c].generation = -1;
            }
        }
        let now = self.now();
        self.rec.event(now, What::MemberRemoved { consumer: c as u32, member_id: id.to_string(), fenced, reason });
    }

    /// Why consumer `c` lost what it read when the coordinator removed its member for `reason`:
    /// a session that ran out was a crash, or a hang if the consumer is frozen.
    pub(crate) fn removal_cause(&self, c: usize, reason: &'static str) -> crate::record::ledger::Cause {
        match reason {
            "session_timeout" if self.consumers[c].is_hung() => "hang",
            "session_timeout" => "crash",
            other => other,
        }
    }

    /// A member leaves or is fenced outside a join phase: the group rebalances.
    pub(crate) fn member_gone(&mut self, g: usize, id: &str, fenced: bool, reason: &'static str) {
        if !self.groups[g].classic().members.contains_key(id) {
            return;
        }
        let consumer = self.groups[g].classic().members[id].consumer as u32;
        self.remove_member(g, id, fenced, reason);
        match self.groups[g].classic().state {
            GroupState::PreparingRebalance => self.try_complete_join(g),
            _ if self.groups[g].classic().members.is_empty() => {
                let (grp, mut cx) = self.group_cx(g);
                grp.classic_mut().transition_to_empty(&mut cx, g);
                self.refresh_group(g);
            }
            _ => self.prepare_rebalance(g, RebalanceReason::MemberGone { consumer, reason }),
        }
    }

    pub(crate) fn session_expire(&mut self, g: usize, id: &str) {
        let silent = self.groups[g].classic().members.get(id).is_some_and(|m| !m.alive);
        if silent && !self.session_still_running(g, id) {
            self.member_gone(g, id, true, "session_timeout");
        }
    }

    /// Schedules the session timeout of a member that went silent at `now`.
    pub(crate) fn schedule_session_expiry(&mut self, c: usize, id: String) {
        let g = self.consumers[c].group;
        let last = self.consumers[c].last_heartbeat_before(self.now(), self.net.delay);
        let at = (last + self.consumers[c].config.session_timeout).max(self.now());
        if let Some(m) = self.groups[g].classic_mut().members.get_mut(&id) {
            m.session_deadline = Some(at);
        }
        let slot = self.net.timers.insert((g, id));
        self.kernel.schedule_at(at, Ev::SessionExpire(slot));
    }
}
