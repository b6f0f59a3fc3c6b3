//! Offset commits, the client's side: the OffsetCommit request (refused locally while a join is
//! out) and what a failed commit leaves behind. The coordinator's answer is
//! `ClassicGroup::offset_commit` (coordinator/offset_commit.rs); the world carries the request
//! between them.

use crate::kafka::client::Consumer;
use crate::kafka::cx::Cx;
use crate::kafka::world::{Offsets, PendingCommit, World};
use crate::record::event::What;

impl World {
    /// The consumer commits `offsets`: the request goes to the coordinator (at once when there
    /// is no network delay), or the client fails it itself.
    pub(crate) fn send_commit(&mut self, c: usize, offsets: Offsets) {
        let (con, _, mut cx) = self.client_cx(c);
        let Some(commit) = con.offset_commit_request(c, offsets, &mut cx) else { return };
        if let Some(arrived) = cx.net.send_commit(commit, cx.kernel) {
            self.apply_commit(arrived);
        }
    }

    /// The coordinator answers an OffsetCommit; the member learns whether it failed.
    pub(crate) fn apply_commit(&mut self, commit: PendingCommit) {
        let now = self.kernel.now();
        if !self.coordinator_available(commit.group) {
            // Its coordinator's broker failed and the new one has not loaded the group yet:
            // COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR; the next commit carries these offsets on.
            let c = commit.consumer;
            let (con, _, mut cx) = self.client_cx(c);
            con.commit_failed(c, &commit.offsets, "coordinator_not_available", &mut cx);
            return;
        }
        let grp = &mut self.groups[commit.group];
        let answer = match &mut grp.coordinator {
            crate::kafka::coordinator::Coordinator::Protocol(pg) => pg.offset_commit(&commit, &mut self.rec, now),
            _ => grp.classic_mut().offset_commit(&commit, &mut self.rec, now),
        };
        let c = commit.consumer;
        let (con, _, mut cx) = self.client_cx(c);
        match answer {
            Ok(()) => con.commits.last_commit_ok = true,
            // CommitFailedException: the records will be read again by the partitions' next owner.
            Err(reason) => con.commit_failed(c, &commit.offsets, reason, &mut cx),
        }
    }
}

impl Consumer {
    /// The OffsetCommit request for `offsets`, or none: nothing to commit, or the client fails
    /// the commit itself — generationIfStable() is null while a JoinGroup is out (or after the
    /// membership was lost), so nothing reaches the broker.
    pub fn offset_commit_request(&mut self, c: usize, offsets: Offsets, cx: &mut Cx) -> Option<PendingCommit> {
        if offsets.is_empty() {
            return None;
        }
        // A consumer-protocol member always sends: its member epoch (-1 once it left) is the
        // coordinator's to judge.
        let joining =
            matches!(&self.membership, super::Membership::Pull(m) | super::Membership::Push(m, _) if m.joining);
        let classic = !matches!(self.membership, super::Membership::Protocol(_));
        if classic && (joining || self.member_id.is_none()) {
            let reason = if joining { "rebalance_in_progress" } else { "not_a_member" };
            self.commit_failed(c, &offsets, reason, cx);
            return None;
        }
        cx.rec.groups[self.group].commits += 1;
        Some(PendingCommit {
            group: self.group,
            consumer: c,
            member_id: self.member_id.clone(),
            generation: self.generation,
            offsets,
        })
    }

    /// A commit failed (`reason` as Kafka's error names it): counted, and logged with its
    /// partitions.
    pub fn commit_failed(&mut self, c: usize, offsets: &Offsets, reason: &'static str, cx: &mut Cx) {
        self.commits.last_commit_ok = false;
        cx.rec.ledgers[self.group].commits_rejected += 1;
        let partitions = offsets.iter().map(|&(p, _)| p).collect();
        cx.event(What::CommitFailed { consumer: c as u32, reason, partitions });
    }
}
