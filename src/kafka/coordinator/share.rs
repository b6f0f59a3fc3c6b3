//! Share group membership (KIP-932 `ShareGroupHeartbeat`): a member joins with epoch 0, learns
//! its assignment from heartbeat responses, and is fenced when its session times out or leaves
//! on close. The coordinator recomputes the target with `SimpleAssignor` when the group epoch
//! moved and `share_assignment_interval_ms` passed since the last computation, in the first
//! heartbeat after that (Kafka 4.3, KIP-1263: no timer fires it). There is no revocation round:
//! a member takes its new target at once.

use crate::kafka::broker::share_partition::{AcquireMode, ShareConfig};
use crate::kafka::coordinator::share_assignor;
use crate::kafka::coordinator::share_group::{ShareGroup, ShareMember};
use crate::kafka::cx::Cx;
use crate::kafka::world::{Ev, World};
use crate::record::event::What;
use crate::sim::SimTime;

/// What a heartbeat response tells the member.
#[derive(Clone, Debug, PartialEq)]
pub enum ShareReply {
    /// The member epoch, and the new assignment when it changed.
    Ok(i32, Option<Vec<u32>>),
    /// FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID: rejoin with epoch 0.
    Fenced,
}

impl ShareGroup {
    /// A heartbeat reaches the coordinator, membership first: a known member is heard from; an
    /// unknown one with epoch 0 joins, bumps the group epoch and starts its session timer. False
    /// for an unknown member with a later epoch: it is fenced (UNKNOWN_MEMBER_ID).
    pub(crate) fn member_heartbeat(&mut self, cx: &mut Cx, g: usize, c: usize, id: &str, epoch: i32) -> bool {
        let now = cx.now();
        if let Some(m) = self.members.get_mut(id) {
            m.last_heartbeat = now;
            return true;
        }
        if epoch != 0 {
            return false;
        }
        let member = ShareMember { consumer: c, epoch: 0, assignment: Vec::new(), last_heartbeat: now };
        self.members.insert(id.to_string(), member);
        self.group_epoch += 1;
        cx.event(What::ShareMemberJoined { consumer: c as u32, group_epoch: self.group_epoch });
        let slot = cx.net.timers.insert((g, id.to_string()));
        cx.schedule_after(self.plan.session_timeout, Ev::ShareSessionExpire(slot));
        true
    }

    /// KIP-1263: the target is recomputed when the group epoch moved past the assignment epoch
    /// and the assignment interval has passed since the last computation
    /// (GroupMetadataManager.maybeUpdateTargetAssignment, canComputeNextTargetAssignment, 4.3).
    pub(crate) fn assignment_due(&self, now: SimTime) -> bool {
        self.group_epoch > self.assignment_epoch
            && self.last_assignment.is_none_or(|t| now >= t + self.plan.assignment_interval)
    }

    /// A new target assignment over `parts` (the subscribed partitions that exist now) with
    /// `SimpleAssignor`, sticky to the current target; the assignment epoch catches up with the
    /// group epoch.
    pub(crate) fn compute_target_assignment(&mut self, cx: &mut Cx, g: usize, parts: &[u32]) {
        let ids: Vec<String> = self.members.keys().cloned().collect();
        let index_of = |p: u32| parts.iter().position(|&q| q == p).map(|i| i as u32);
        let current: Vec<Vec<u32>> = ids
            .iter()
            .map(|id| self.target.get(id).map_or(Vec::new(), |a| a.iter().filter_map(|&p| index_of(p)).collect()))
            .collect();
        let result = share_assignor::assign(ids.len(), parts.len(), &current);
        self.target = ids
            .into_iter()
            .zip(result.into_iter().map(|a| a.into_iter().map(|i| parts[i as usize]).collect()))
            .collect();
        self.assignment_epoch = self.group_epoch;
        self.last_assignment = Some(cx.now());
        cx.rec.groups[g].share.assignments += 1;
        let (group_epoch, members) = (self.assignment_epoch, self.members.len());
        cx.event(What::ShareAssignmentComputed { group: g as u32, group_epoch, members, partitions: parts.len() });
    }

    /// What the heartbeat response tells member `id`, whose request carried `epoch`
    /// (ShareGroupAssignmentBuilder: straight to the target, no revocation): a member behind the
    /// assignment epoch, or just joined, takes its target; the assignment is sent when it changed.
    pub(crate) fn reconcile(&mut self, id: &str, epoch: i32) -> ShareReply {
        let target_epoch = self.assignment_epoch;
        let target = self.target.get(id).cloned().unwrap_or_default();
        let m = self.members.get_mut(id).expect("member");
        if m.epoch != target_epoch || epoch == 0 {
            let changed = m.assignment != target || epoch == 0;
            m.epoch = target_epoch;
            m.assignment = target.clone();
            ShareReply::Ok(target_epoch, changed.then_some(target))
        } else {
            ShareReply::Ok(target_epoch, None)
        }
    }

    /// The group's settings a share-partition runs with.
    pub(crate) fn partition_config(&self) -> ShareConfig {
        let plan = &self.plan;
        // Each fetch brings its consumer's share.acquire.mode (`acquire_in`); this is a default.
        let mode = AcquireMode::BatchOptimized;
        ShareConfig { lock: plan.lock, delivery_limit: plan.delivery_limit, window_limit: plan.window_limit, mode }
    }

    /// The session timer fires: a member silent for the whole session timeout is fenced
    /// (GroupMetadataManager.scheduleShareGroupSessionTimeout -> shareGroupFenceMemberOperation);
    /// one heard from since is checked again at its new deadline.
    pub(crate) fn session_expire(&mut self, cx: &mut Cx, g: usize, id: String) {
        let Some(m) = self.members.get(&id) else { return };
        let deadline = m.last_heartbeat + self.plan.session_timeout;
        if deadline > cx.now() {
            let slot = cx.net.timers.insert((g, id));
            cx.schedule_at(deadline, Ev::ShareSessionExpire(slot));
            return;
        }
        self.remove_member(cx, g, &id, true, "session_timeout");
    }

    /// The member leaves (close, or max.poll.interval.ms passed) or is fenced: the group epoch
    /// moves so the next computation gives its partitions to the others. Its acquired records
    /// stay locked: the share session, not the membership, holds them.
    pub(crate) fn remove_member(&mut self, cx: &mut Cx, g: usize, id: &str, fenced: bool, reason: &'static str) {
        let Some(m) = self.members.remove(id) else { return };
        self.group_epoch += 1;
        cx.rec.groups[g].share.fencings += u64::from(fenced);
        cx.event(What::MemberRemoved { consumer: m.consumer as u32, member_id: id.to_string(), fenced, reason });
    }
}

impl World {
    /// The coordinator handles a heartbeat (GroupMetadataManager.shareGroupHeartbeat): the
    /// member is admitted or fenced, the target is recomputed if due (share-partitions first
    /// assigned are initialized on the broker), and the answer goes back one delay later.
    pub(crate) fn share_heartbeat_arrive(&mut self, c: usize) {
        let now = self.now();
        let g = self.consumers[c].group;
        let Some(id) = self.consumers[c].member_id.clone() else { return };
        let epoch = self.consumers[c].generation;
        let (grp, mut cx) = self.group_cx(g);
        let admitted = grp.share_mut().member_heartbeat(&mut cx, g, c, &id, epoch);
        if admitted && self.groups[g].share().assignment_due(now) {
            let parts: Vec<u32> =
                self.groups[g].partitions.iter().copied().filter(|&p| self.partition_exists(p)).collect();
            let (grp, mut cx) = self.group_cx(g);
            let sg = grp.share_mut();
            sg.compute_target_assignment(&mut cx, g, &parts);
            let (reset, config) = (sg.plan.auto_offset_reset, sg.partition_config());
            let assigned = self.groups[g].share().target.values().flatten().copied();
            self.broker.initialize_share_partitions(g, assigned, reset, config);
        }
        let reply = if admitted { self.groups[g].share_mut().reconcile(&id, epoch) } else { ShareReply::Fenced };
        self.consumers[c].share_mut().reply = Some(reply);
        let d = self.net.delay;
        self.schedule_consumer(c, d, |c, inc| Ev::ShareHeartbeatResponse { c, inc });
    }

    /// Every share-partition of the group gives the consumer's acquired records back.
    pub(crate) fn share_release_session(&mut self, c: usize, why: &'static str) {
        let g = self.consumers[c].group;
        let parts = self.groups[g].partitions.clone();
        let (mut back, mut archived) = (0, 0);
        for p in parts {
            let Some(sp) = self.broker.share_parts_mut(g)[p as usize].as_mut() else { continue };
            let t = sp.release_member(c as u32);
            if t.made_available + t.archived_delivery_limit == 0 {
                continue;
            }
            back += t.made_available;
            archived += t.archived_delivery_limit;
            self.rec.groups[g].share.released_on_close += t.made_available + t.archived_delivery_limit;
            self.rec.groups[g].share.archived_delivery_limit += t.archived_delivery_limit;
            self.rec.ledgers[g].set_rewind_cause(p, if why == "close" { "stop" } else { "crash" });
            self.share_spso_moved(g, p);
            self.share_wake(g, p);
        }
        if back + archived > 0 {
            let now = self.now();
            self.rec
                .event(now, What::ShareRecordsReleased { consumer: c as u32, reason: why, records: back, archived });
        }
    }
}
