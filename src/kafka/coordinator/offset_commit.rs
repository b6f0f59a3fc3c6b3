//! The classic coordinator's answer to an OffsetCommit: only a current member of the current
//! generation may commit, and not while the group is completing a rebalance
//! (GroupMetadataManager.validateOffsetCommit).

use crate::kafka::coordinator::{ClassicGroup, GroupState};
use crate::kafka::net::PendingCommit;
use crate::record::Recorder;
use crate::sim::SimTime;

impl ClassicGroup {
    /// Applies `commit` or refuses it with Kafka's error: UNKNOWN_MEMBER_ID,
    /// REBALANCE_IN_PROGRESS or ILLEGAL_GENERATION. Accepted offsets also reach Burrow.
    pub fn offset_commit(
        &mut self,
        commit: &PendingCommit,
        rec: &mut Recorder,
        now: SimTime,
    ) -> Result<(), &'static str> {
        let member_ok = commit.member_id.as_ref().is_some_and(|id| self.members.contains_key(id));
        if !member_ok {
            return Err("unknown_member_id");
        }
        if commit.generation != self.generation || self.state == GroupState::CompletingRebalance {
            return Err(if self.state == GroupState::CompletingRebalance {
                "rebalance_in_progress"
            } else {
                "illegal_generation"
            });
        }
        self.offsets.accept(commit, rec, now);
        Ok(())
    }
}

impl crate::kafka::coordinator::GroupOffsets {
    /// An accepted commit: its offsets are the group's, and Burrow sees them.
    fn accept(&mut self, commit: &PendingCommit, rec: &mut Recorder, now: SimTime) {
        for &(p, off) in &commit.offsets {
            self.commit(p, off);
            rec.burrow_commit(commit.group, p, off, now);
        }
    }
}

impl crate::kafka::coordinator::consumer_group::ProtocolGroup {
    /// Applies `commit` or refuses it (ConsumerGroup#validateOffsetCommit): the member epoch must
    /// be the member's (or, from 4.3, an older one under which it held every partition).
    pub fn offset_commit(
        &mut self,
        commit: &PendingCommit,
        rec: &mut Recorder,
        now: SimTime,
    ) -> Result<(), &'static str> {
        let partitions: Vec<u32> = commit.offsets.iter().map(|&(p, _)| p).collect();
        self.validate_offset_commit(commit.member_id.as_deref(), commit.generation, &partitions)?;
        self.offsets.accept(commit, rec, now);
        Ok(())
    }
}
