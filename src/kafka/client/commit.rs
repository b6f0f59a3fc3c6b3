//! Offset commits: the client's OffsetCommit request (refused locally while a join is out) and
//! the coordinator's answer (only a current member of the current generation may commit).

use crate::kafka::world::{Ev, Offsets, PendingCommit, World};
use crate::record::event::What;

impl World {
    pub(crate) fn send_commit(&mut self, c: usize, offsets: Offsets) {
        if offsets.is_empty() {
            return;
        }
        let con = &self.consumers[c];
        if con.classic().joining || con.member_id.is_none() {
            // generationIfStable() is null while a JoinGroup is out (or after the membership was
            // lost): the client fails the commit itself, nothing reaches the broker.
            let reason = if con.classic().joining { "rebalance_in_progress" } else { "not_a_member" };
            self.reject_commit(c, &offsets, reason);
            return;
        }
        let commit = PendingCommit {
            group: con.group,
            consumer: c,
            member_id: con.member_id.clone(),
            generation: con.generation,
            offsets,
        };
        self.rec.groups[con.group].commits += 1;
        if self.net.delay.is_zero() {
            self.apply_commit(commit);
            return;
        }
        let slot = self.net.commits.insert(commit);
        self.kernel.schedule_after(self.net.delay, Ev::CommitAtBroker(slot));
    }

    pub(crate) fn reject_commit(&mut self, c: usize, offsets: &Offsets, reason: &'static str) {
        self.consumers[c].classic_mut().last_commit_ok = false;
        let g = self.consumers[c].group;
        self.rec.ledgers[g].commits_rejected += 1;
        let partitions = offsets.iter().map(|&(p, _)| p).collect();
        let now = self.now();
        self.rec.event(now, What::CommitFailed { consumer: c as u32, reason, partitions });
    }

    pub(crate) fn apply_commit(&mut self, commit: PendingCommit) {
        let grp = self.groups[commit.group].classic_mut();
        let member_ok = commit.member_id.as_ref().is_some_and(|id| grp.members.contains_key(id));
        let accepted = member_ok
            && commit.generation == grp.generation
            && grp.state != crate::kafka::coordinator::GroupState::CompletingRebalance;
        if !accepted {
            // CommitFailedException: the records will be read again by the partitions' next owner.
            let reason = if !member_ok {
                "unknown_member_id"
            } else if grp.state == crate::kafka::coordinator::GroupState::CompletingRebalance {
                "rebalance_in_progress"
            } else {
                "illegal_generation"
            };
            self.reject_commit(commit.consumer, &commit.offsets, reason);
            return;
        }
        let now = self.kernel.now();
        for &(p, off) in &commit.offsets {
            grp.commit(p, off);
            self.rec.burrow_commit(commit.group, p, off, now);
        }
        self.consumers[commit.consumer].classic_mut().last_commit_ok = true;
    }
}
