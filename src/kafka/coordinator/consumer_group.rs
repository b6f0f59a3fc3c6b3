//! The consumer protocol's group coordinator (KIP-848; Kafka 4's GroupMetadataManager for
//! `group.protocol=consumer` groups): members with epochs, the group epoch and the target
//! assignment computed inside the heartbeat that finds it stale, and each member reconciled on
//! its own heartbeat by Kafka's CurrentAssignmentBuilder. A partition changes hands only after
//! its previous holder reported it released, or was removed.
//!
//! Everything here is the coordinator's own state; the world carries heartbeats to it and
//! answers back (`client/consumer_protocol.rs`).

use crate::kafka::coordinator::GroupOffsets;
use crate::scenario::plan::{ConsumerProtocolPlan, KafkaVersion};
use crate::sim::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// The epoch a static member leaves with (CMM#leaveGroupEpoch): it keeps its partitions.
pub const LEAVE_GROUP_STATIC_MEMBER_EPOCH: i32 = -2;
/// The epoch a dynamic member leaves with.
pub const LEAVE_GROUP_MEMBER_EPOCH: i32 = -1;

/// A member's state as the coordinator sees it (CurrentAssignmentBuilder, Kafka's MemberState).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerMemberState {
    /// Reconciled to the target.
    Stable,
    /// Must give partitions up first; keeps its epoch, gets nothing new until it has.
    UnrevokedPartitions,
    /// At the target epoch, waiting for partitions other members still hold.
    UnreleasedPartitions,
}

impl ServerMemberState {
    pub fn name(self) -> &'static str {
        match self {
            ServerMemberState::Stable => "stable",
            ServerMemberState::UnrevokedPartitions => "unrevoked_partitions",
            ServerMemberState::UnreleasedPartitions => "unreleased_partitions",
        }
    }
}

/// A member of a consumer-protocol group.
#[derive(Clone, Debug)]
pub struct ProtocolMember {
    pub consumer: usize,
    pub instance_id: Option<String>,
    /// The member epoch (-2: a static member that left and keeps its partitions).
    pub epoch: i32,
    pub previous_epoch: i32,
    pub state: ServerMemberState,
    /// What it may own now (sorted global partition ids).
    pub assigned: Vec<u32>,
    /// What it must give up before it gets more.
    pub pending_revocation: Vec<u32>,
    /// Its share of the target assignment.
    pub target: Vec<u32>,
    /// RebalanceTimeoutMs (the client's max.poll.interval.ms).
    pub rebalance_timeout: SimDuration,
    /// Its session ends here unless a heartbeat comes first.
    pub session_deadline: SimTime,
    /// While UNREVOKED_PARTITIONS: it is fenced here unless it has revoked by then.
    pub revocation_deadline: Option<SimTime>,
}

impl ProtocolMember {
    /// Partitions it holds for the coordinator's ownership (assigned or pending revocation).
    fn holds(&self) -> impl Iterator<Item = u32> + '_ {
        self.assigned.iter().chain(&self.pending_revocation).copied()
    }
}

/// What a heartbeat carries (ConsumerGroupHeartbeatRequest, the fields the model needs).
#[derive(Clone, Debug)]
pub struct HeartbeatRequest {
    pub consumer: usize,
    pub member_id: String,
    pub instance_id: Option<String>,
    pub epoch: i32,
    /// TopicPartitions: sent when joining or when the reconciled assignment changed; None otherwise.
    pub owned: Option<Vec<u32>>,
    pub rebalance_timeout: SimDuration,
}

/// The coordinator's answer to a heartbeat.
#[derive(Clone, Debug, PartialEq)]
pub enum HeartbeatAnswer {
    /// The member epoch, and the assignment when it changed (or the request was a full one).
    Ok {
        epoch: i32,
        assignment: Option<Vec<u32>>,
    },
    /// A leave was taken note of (the client ignores the answer).
    Left,
    FencedMemberEpoch,
    UnknownMemberId,
    /// A static member's instance id is held by a member that has not left (fatal).
    UnreleasedInstanceId,
}

/// What a heartbeat or timer did to the group that the world must act on or record.
#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    /// The group epoch moved (a member joined or was removed).
    pub bumped: bool,
    /// A new target was computed at this group epoch.
    pub target_computed: Option<i32>,
    /// Members removed: (member id, consumer).
    pub removed: Vec<(String, usize)>,
    /// A static member's new incarnation took over `replaced` (old member id).
    pub replaced: Option<String>,
    /// The member entered UNREVOKED_PARTITIONS: its revocation deadline (for the timer).
    pub revocation_deadline: Option<SimTime>,
    /// A member joined: its session timer must be armed.
    pub joined: bool,
}

/// Kafka's consumer group states (ConsumerGroup.ConsumerGroupState, Dead not modelled).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolGroupState {
    Empty,
    /// The group epoch is ahead of the target assignment.
    Assigning,
    /// Some member is not yet stable at the target epoch.
    Reconciling,
    Stable,
}

/// A rebalance under way: from a group epoch bump until every member is stable at a target of
/// that epoch or a later one.
#[derive(Clone, Debug)]
pub struct OpenRebalance {
    /// Its number (ties its started / completed / abandoned events together).
    pub seq: u64,
    /// The group epoch it aims at: the last one bumped to.
    pub epoch: i32,
    pub started: SimTime,
    pub reason: crate::record::event::RebalanceReason,
    pub stw_before: SimDuration,
    /// Partitions members gave up during it: (consumer, partitions).
    pub revoked: Vec<(u32, Vec<u32>)>,
}

pub struct ProtocolGroup {
    pub plan: ConsumerProtocolPlan,
    pub group_epoch: i32,
    pub assignment_epoch: i32,
    /// When the last target was computed (KIP-1263 batching runs from it).
    pub last_assignment: Option<SimTime>,
    /// member id -> member, in member-id order (the assignor's member order).
    pub members: BTreeMap<String, ProtocolMember>,
    /// partition -> the member holding it (assigned or pending revocation) and the member epoch
    /// at which it got it.
    pub holder: BTreeMap<u32, (String, i32)>,
    /// The rebalance under way, if any: opened by a group epoch bump, and restarted (not
    /// doubled) by each bump before the group is stable, as a classic join round is.
    pub rebalance: Option<OpenRebalance>,
    /// How many rebalances have started (ties started / restarted / completed events together).
    pub rebalance_seq: u64,
    /// A subscribed topic grew: the next heartbeat refreshes the subscription metadata and
    /// moves the group epoch (consumerGroupHeartbeat step 4).
    pub metadata_changed: Option<crate::record::event::RebalanceReason>,
    pub offsets: GroupOffsets,
}

impl ProtocolGroup {
    pub fn new(plan: ConsumerProtocolPlan, total_partitions: usize) -> Result<Self, std::collections::TryReserveError> {
        Ok(ProtocolGroup {
            plan,
            group_epoch: 0,
            assignment_epoch: 0,
            last_assignment: None,
            members: BTreeMap::new(),
            holder: BTreeMap::new(),
            rebalance: None,
            rebalance_seq: 0,
            metadata_changed: None,
            offsets: GroupOffsets::new(total_partitions)?,
        })
    }

    pub fn version(&self) -> KafkaVersion {
        self.plan.version
    }

    /// ConsumerGroup#maybeUpdateGroupState.
    pub fn state(&self) -> ProtocolGroupState {
        if self.members.is_empty() {
            ProtocolGroupState::Empty
        } else if self.group_epoch > self.assignment_epoch {
            ProtocolGroupState::Assigning
        } else if self.members.values().any(|m| {
            m.epoch != LEAVE_GROUP_STATIC_MEMBER_EPOCH
                && (m.state != ServerMemberState::Stable || m.epoch != self.assignment_epoch)
        }) {
            ProtocolGroupState::Reconciling
        } else {
            ProtocolGroupState::Stable
        }
    }

    pub fn member_by_instance(&self, instance: &str) -> Option<&str> {
        self.members.iter().find(|(_, m)| m.instance_id.as_deref() == Some(instance)).map(|(id, _)| id.as_str())
    }

    /// KIP-1263: with batching (4.3+), a new target waits until the assignment interval has passed
    /// since the last one (GroupMetadataManager#maybeUpdateTargetAssignment).
    pub fn assignment_due(&self, now: SimTime) -> bool {
        self.group_epoch > self.assignment_epoch
            && (!self.plan.version.batches_assignments()
                || self.last_assignment.is_none_or(|t| now >= t + self.plan.assignment_interval))
    }

    /// Installs a new target (the assignor's answer, per member id) at the group epoch.
    pub fn set_target(&mut self, target: BTreeMap<String, Vec<u32>>, now: SimTime) {
        for (id, m) in self.members.iter_mut() {
            m.target = target.get(id).cloned().unwrap_or_default();
        }
        self.assignment_epoch = self.group_epoch;
        self.last_assignment = Some(now);
    }

    /// A heartbeat's membership steps (GroupMetadataManager#consumerGroupHeartbeat, steps 1-4):
    /// leaves, joins, static replacement and the epoch check. On success the member exists and
    /// the caller goes on with the target and reconciliation.
    pub fn admit(&mut self, req: &HeartbeatRequest, now: SimTime, ch: &mut Changes) -> Result<(), HeartbeatAnswer> {
        if req.epoch == LEAVE_GROUP_MEMBER_EPOCH {
            if self.members.contains_key(&req.member_id) {
                self.remove(&req.member_id, ch);
            }
            return Err(HeartbeatAnswer::Left);
        }
        if req.epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH {
            // consumerGroupStaticMemberGroupLeave: the member stays with its partitions, its
            // pending revocations dropped; no epoch bump, and its session timer runs on.
            if let Some(m) = self.members.get_mut(&req.member_id) {
                m.previous_epoch = m.epoch;
                m.epoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
                let pending = std::mem::take(&mut m.pending_revocation);
                m.revocation_deadline = None;
                for p in pending {
                    self.holder.remove(&p);
                }
            }
            return Err(HeartbeatAnswer::Left);
        }
        if req.epoch == 0 {
            return self.join(req, now, ch);
        }
        let Some(m) = self.members.get(&req.member_id) else { return Err(HeartbeatAnswer::UnknownMemberId) };
        // throwIfConsumerGroupMemberEpochIsInvalid: a heartbeat from the previous epoch is fine
        // when its response was lost and it owns nothing it should not.
        if req.epoch > m.epoch {
            return Err(HeartbeatAnswer::FencedMemberEpoch);
        }
        if req.epoch < m.epoch {
            let owned_ok = req.owned.as_ref().is_some_and(|o| o.iter().all(|p| m.assigned.contains(p)));
            if !(req.epoch == m.previous_epoch && owned_ok) {
                return Err(HeartbeatAnswer::FencedMemberEpoch);
            }
        }
        Ok(())
    }

    /// A heartbeat at epoch 0: a new member (the group epoch moves), a static member's new
    /// incarnation taking over its old entry (no bump), or a known member id rejoining.
    fn join(&mut self, req: &HeartbeatRequest, now: SimTime, ch: &mut Changes) -> Result<(), HeartbeatAnswer> {
        // A static member is looked up by its instance id first, whatever its member id
        // (getOrMaybeSubscribeStaticConsumerGroupMember).
        if let Some(instance) = &req.instance_id
            && let Some(old_id) = self.member_by_instance(instance).map(str::to_string)
        {
            return self.replace_static(old_id, req, now, ch);
        }
        if self.members.contains_key(&req.member_id) {
            // A fenced member rejoining with its id (KAFKA-19233: accepted from 4.2; before, it
            // is fenced again unless its previous epoch was 0).
            let m = &self.members[&req.member_id];
            if self.plan.version.accepts_epoch_zero_rejoin() || m.previous_epoch == 0 {
                return Ok(());
            }
            return Err(HeartbeatAnswer::FencedMemberEpoch);
        }
        let member = ProtocolMember {
            consumer: req.consumer,
            instance_id: req.instance_id.clone(),
            epoch: 0,
            previous_epoch: 0,
            state: ServerMemberState::Stable,
            assigned: Vec::new(),
            pending_revocation: Vec::new(),
            target: Vec::new(),
            rebalance_timeout: req.rebalance_timeout,
            session_deadline: now,
            revocation_deadline: None,
        };
        self.members.insert(req.member_id.clone(), member);
        self.group_epoch += 1;
        ch.bumped = true;
        ch.joined = true;
        Ok(())
    }

    /// A static member's new incarnation (epoch 0, its instance id held by `old_id`): it takes
    /// the old entry's target and assignment, without a group epoch bump, only if the old one left
    /// with epoch -2 (throwIfInstanceIdIsUnreleased: UNRELEASED_INSTANCE_ID otherwise).
    fn replace_static(
        &mut self,
        old_id: String,
        req: &HeartbeatRequest,
        now: SimTime,
        ch: &mut Changes,
    ) -> Result<(), HeartbeatAnswer> {
        if self.members[&old_id].epoch != LEAVE_GROUP_STATIC_MEMBER_EPOCH {
            return Err(HeartbeatAnswer::UnreleasedInstanceId);
        }
        // The new member starts at epoch 0 (previous 0) with the old one's assignment and target,
        // so its first heartbeat reconciles it afresh.
        let mut m = self.members.remove(&old_id).expect("static member");
        m.consumer = req.consumer;
        m.epoch = 0;
        m.previous_epoch = 0;
        m.state = ServerMemberState::Stable;
        m.session_deadline = now;
        for p in m.holds().collect::<Vec<_>>() {
            if let Some(h) = self.holder.get_mut(&p) {
                h.0 = req.member_id.clone();
            }
        }
        self.members.insert(req.member_id.clone(), m);
        ch.replaced = Some(old_id);
        ch.joined = true;
        Ok(())
    }

    /// Removes a member (leave, session timeout, rebalance timeout): its partitions are free at
    /// once and the group epoch moves; the target waits for the next heartbeat
    /// (GroupMetadataManager#consumerGroupFenceMembers).
    pub fn remove(&mut self, id: &str, ch: &mut Changes) {
        let Some(m) = self.members.remove(id) else { return };
        for p in m.holds() {
            if self.holder.get(&p).is_some_and(|h| h.0 == id) {
                self.holder.remove(&p);
            }
        }
        self.group_epoch += 1;
        ch.bumped = true;
        ch.removed.push((id.to_string(), m.consumer));
        if self.members.is_empty() && self.plan.version.resets_assignment_interval_when_empty() {
            // consumerGroupFenceMembers (4.4): the next member's target is computed at once.
            self.assignment_epoch = self.group_epoch;
            self.last_assignment = None;
        }
    }

    /// CurrentAssignmentBuilder for member `id`, given what its heartbeat says it owns.
    /// Returns the assignment to send if it changed.
    pub fn reconcile(&mut self, id: &str, owned: Option<&[u32]>, now: SimTime, ch: &mut Changes) -> Option<Vec<u32>> {
        let m = &self.members[id];
        let before = (m.epoch, m.assigned.clone(), m.state);
        match m.state {
            ServerMemberState::Stable if m.epoch == self.assignment_epoch => return None,
            ServerMemberState::Stable | ServerMemberState::UnreleasedPartitions => {
                self.compute_next(id, m.epoch, owned, now, ch);
            }
            ServerMemberState::UnrevokedPartitions => {
                // Leaves the state on the first heartbeat whose owned list has none of the pending
                // partitions (a null list still owns them).
                let released = owned.is_some_and(|o| !m.pending_revocation.iter().any(|p| o.contains(p)));
                if !released {
                    return None;
                }
                let epoch = m.epoch;
                for p in self.members[id].pending_revocation.clone() {
                    if self.holder.get(&p).is_some_and(|h| h.0 == id) {
                        self.holder.remove(&p);
                    }
                }
                let m = self.members.get_mut(id).expect("member");
                m.pending_revocation.clear();
                m.revocation_deadline = None;
                m.state = ServerMemberState::Stable;
                self.compute_next(id, epoch, owned, now, ch);
                // KAFKA-19974 (4.2): before it, a member that must revoke again moves to epoch + 1.
                let m = self.members.get_mut(id).expect("member");
                if m.state == ServerMemberState::UnrevokedPartitions && self.plan.version.bumps_epoch_after_unrevoked()
                {
                    m.previous_epoch = m.epoch;
                    m.epoch += 1;
                }
            }
        }
        // hasAssignedPartitionsChanged: an epoch or state change alone sends no assignment.
        let m = &self.members[id];
        (m.assigned != before.1).then(|| m.assigned.clone())
    }

    /// keep = current ∩ target; revoke = current − target; add = target − keep − held by others.
    fn compute_next(&mut self, id: &str, epoch: i32, owned: Option<&[u32]>, now: SimTime, ch: &mut Changes) {
        let target_epoch = self.assignment_epoch;
        let m = &self.members[id];
        let keep: Vec<u32> = m.assigned.iter().copied().filter(|p| m.target.contains(p)).collect();
        let revoke: Vec<u32> = m.assigned.iter().copied().filter(|p| !m.target.contains(p)).collect();
        let wanted: Vec<u32> = m.target.iter().copied().filter(|p| !keep.contains(p)).collect();
        // KAFKA-19449: its own pending revocations do not count as held by another member.
        let free: Vec<u32> = wanted.iter().copied().filter(|p| self.holder.get(p).is_none_or(|h| h.0 == id)).collect();
        let still_owns = owned.is_none_or(|o| revoke.iter().any(|p| o.contains(p)));
        let m = self.members.get_mut(id).expect("member");
        if !revoke.is_empty() && still_owns {
            m.state = ServerMemberState::UnrevokedPartitions;
            m.previous_epoch = m.epoch;
            m.epoch = epoch;
            m.assigned = keep;
            m.pending_revocation = revoke;
            let deadline = now + m.rebalance_timeout;
            m.revocation_deadline = Some(deadline);
            ch.revocation_deadline = Some(deadline);
            return;
        }
        if !revoke.is_empty() {
            for p in &revoke {
                if self.holder.get(p).is_some_and(|h| h.0 == id) {
                    self.holder.remove(p);
                }
            }
        }
        let m = self.members.get_mut(id).expect("member");
        let mut assigned = keep;
        assigned.extend(&free);
        assigned.sort_unstable();
        m.state =
            if free.len() < wanted.len() { ServerMemberState::UnreleasedPartitions } else { ServerMemberState::Stable };
        if m.epoch != target_epoch {
            m.previous_epoch = m.epoch;
        }
        m.epoch = target_epoch;
        m.assigned = assigned;
        for p in free {
            self.holder.insert(p, (id.to_string(), target_epoch));
        }
    }

    /// Whether an OffsetCommit from `member_id` at `epoch` for `partitions` is accepted
    /// (ConsumerGroup#validateOffsetCommit): Kafka's error name if not.
    pub fn validate_offset_commit(
        &self,
        member_id: Option<&str>,
        epoch: i32,
        partitions: &[u32],
    ) -> Result<(), &'static str> {
        if epoch < 0 {
            // Admin and simple commits: only into a group with no members.
            return if self.members.is_empty() { Ok(()) } else { Err("unknown_member_id") };
        }
        let Some(m) = member_id.and_then(|id| self.members.get(id).map(|m| (id, m))) else {
            return Err("unknown_member_id");
        };
        let (id, m) = m;
        if epoch == m.epoch {
            return Ok(());
        }
        if epoch > m.epoch || !self.plan.version.accepts_older_commit_epochs() {
            return Err("stale_member_epoch");
        }
        // KIP-1251 (4.3): an older epoch is fine for partitions the member held since then.
        let held = |p: &u32| self.holder.get(p).is_some_and(|(h, since)| h == id && *since <= epoch);
        if partitions.iter().all(held) { Ok(()) } else { Err("stale_member_epoch") }
    }
}
