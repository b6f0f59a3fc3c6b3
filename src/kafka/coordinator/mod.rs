//! A consumer group's broker-side state: the classic group coordinator's membership and
//! generation, committed offsets and who owns what. What the group processed, skipped and lost,
//! and what its rebalances cost, is the record's (`record::ledger`).

pub mod assignor;
pub mod classic;
pub mod clocks;
pub mod consumer_group;
#[cfg(test)]
mod consumer_group_tests;
pub mod offset_commit;
pub mod server_assignor;
pub mod share;
pub mod share_assignor;
pub mod share_group;

use crate::kafka::client::{Consumer, GroupKind};
use crate::scenario::plan::RebalanceProtocol;
use crate::sim::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// Kafka's ClassicGroupState (Dead is not modelled: groups live for the whole run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
}

/// A member as the coordinator knows it.
#[derive(Clone, Debug)]
pub struct Member {
    pub consumer: usize,
    pub group_instance_id: Option<String>,
    /// Rejoined in the current join phase.
    pub joined: bool,
    /// Heartbeating. A crashed member (or a static one that stopped) stays a member, silent,
    /// until its session times out.
    pub alive: bool,
    /// The assignment of the member's last completed SyncGroup (global partition ids).
    pub assignment: Vec<u32>,
    /// The generation that assignment belongs to (the sticky assignor's user data).
    pub generation: i32,
    /// When its last heartbeat reached the coordinator (for the session timeout).
    pub last_heartbeat: SimTime,
    /// When its session ends, once it stopped heartbeating (crashed, or a static member gone
    /// silent): what a rebalance waiting for it waits until.
    pub session_deadline: Option<SimTime>,
}

/// An ongoing rebalance, from PreparingRebalance until the new assignment is synced.
#[derive(Clone, Debug)]
pub struct Rebalance {
    pub started: SimTime,
    pub reason: crate::record::event::RebalanceReason,
    /// Set while `group.initial.rebalance.delay.ms` holds the first join open.
    pub initial_delay_left: Option<SimDuration>,
    pub joined_during_delay: bool,
    /// stop-the-world time already counted when it started (the event reports this rebalance's share).
    pub stw_before: SimDuration,
}

pub struct Group {
    pub id: String,
    /// Global partition ids of every partition of the subscribed topics, in (topic, partition) order.
    pub partitions: Vec<u32>,
    /// Consumers (global indices) in the group, in scenario order.
    pub consumers: Vec<usize>,
    /// Removed by a timeline `remove_group`.
    pub removed: bool,
    pub kind: GroupKind,
    /// The coordinator's state, by the kind of group.
    pub coordinator: Coordinator,
}

/// The group coordinator of each kind of group: matched once where the kinds differ.
pub enum Coordinator {
    /// Classic consumer groups, pulled or pushed to (Kafka's classic GroupMetadataManager).
    Classic(Box<ClassicGroup>),
    /// Share groups (KIP-932): the share coordinator's members and assignment.
    Share(Box<crate::kafka::coordinator::share_group::ShareGroup>),
    /// Consumer groups on Kafka 4's consumer rebalance protocol (KIP-848).
    Protocol(Box<consumer_group::ProtocolGroup>),
}

/// A classic consumer group as its coordinator knows it: membership and generations, committed
/// offsets and who owns what.
pub struct ClassicGroup {
    pub protocol: RebalanceProtocol,
    pub state: GroupState,
    pub generation: i32,
    /// member id -> member; a BTreeMap so every walk over members is in member-id order.
    pub members: BTreeMap<String, Member>,
    pub leader: Option<String>,
    pub rebalance: Option<Rebalance>,
    /// Bumped at every phase change, so timers of an earlier phase are recognised as stale.
    pub round: u32,
    /// How many rebalances have started: the `rebalance` number that ties a rebalance's
    /// started / restarted / completed / abandoned events together.
    pub rebalance_seq: u64,

    pub offsets: GroupOffsets,
}

/// What every consumer group (classic or consumer protocol) keeps per partition of the world:
/// committed offsets and who owns what. Every group keeps it for every partition, so it is
/// kept small: 16 bytes a partition, "none" written as the type's maximum.
pub struct GroupOffsets {
    committed: Vec<u64>,
    /// The consumer that holds the partition now (took it and has not given it up).
    owner: Vec<u32>,
    /// Owner per the last completed assignment (dead members included), to count moved partitions.
    assigned_to: Vec<u32>,
}

const NO_OFFSET: u64 = u64::MAX;
const NO_CONSUMER: u32 = u32::MAX;

fn consumer_slot(c: Option<usize>) -> u32 {
    c.map_or(NO_CONSUMER, |c| u32::try_from(c).expect("consumer ids fit in 32 bits"))
}

impl GroupOffsets {
    pub fn new(n: usize) -> Result<Self, std::collections::TryReserveError> {
        Ok(GroupOffsets {
            committed: dense(n, NO_OFFSET)?,
            owner: dense(n, NO_CONSUMER)?,
            assigned_to: dense(n, NO_CONSUMER)?,
        })
    }

    /// Bytes per partition of the world these tables take.
    pub fn dense_bytes_per_partition() -> usize {
        use std::mem::size_of;
        size_of::<u64>() // committed
            + 2 * size_of::<u32>() // owner, assigned_to
    }

    /// The group's committed offset of partition `p`.
    pub fn committed(&self, p: u32) -> Option<u64> {
        let c = self.committed[p as usize];
        (c != NO_OFFSET).then_some(c)
    }

    /// Every partition's committed offset, in partition order.
    pub fn committed_all(&self) -> Vec<Option<u64>> {
        (0..self.committed.len() as u32).map(|p| self.committed(p)).collect()
    }

    pub fn commit(&mut self, partition: u32, offset: u64) {
        debug_assert!(offset != NO_OFFSET);
        self.committed[partition as usize] = offset;
    }

    /// The consumer that holds partition `p` now.
    pub fn owner(&self, p: u32) -> Option<usize> {
        let c = self.owner[p as usize];
        (c != NO_CONSUMER).then_some(c as usize)
    }

    pub fn set_owner(&mut self, p: u32, c: Option<usize>) {
        self.owner[p as usize] = consumer_slot(c);
    }

    /// The owner of partition `p` per the last completed assignment.
    pub fn assigned_to(&self, p: u32) -> Option<usize> {
        let c = self.assigned_to[p as usize];
        (c != NO_CONSUMER).then_some(c as usize)
    }

    pub fn set_assigned_to(&mut self, p: u32, c: Option<usize>) {
        self.assigned_to[p as usize] = consumer_slot(c);
    }
}

pub use crate::record::dense;

impl Group {
    /// The classic coordinator's state; only classic paths ask.
    pub fn classic(&self) -> &ClassicGroup {
        match &self.coordinator {
            Coordinator::Classic(c) => c,
            _ => panic!("group {} is not a classic group", self.id),
        }
    }

    pub fn classic_mut(&mut self) -> &mut ClassicGroup {
        match &mut self.coordinator {
            Coordinator::Classic(c) => c,
            _ => panic!("not a classic group"),
        }
    }

    /// The share coordinator's state; only share paths ask.
    pub fn share(&self) -> &crate::kafka::coordinator::share_group::ShareGroup {
        match &self.coordinator {
            Coordinator::Share(s) => s,
            _ => panic!("group {} is not a share group", self.id),
        }
    }

    pub fn share_mut(&mut self) -> &mut crate::kafka::coordinator::share_group::ShareGroup {
        match &mut self.coordinator {
            Coordinator::Share(s) => s,
            _ => panic!("not a share group"),
        }
    }

    /// The share coordinator's state of a share group, None for a classic one.
    pub fn share_opt(&self) -> Option<&crate::kafka::coordinator::share_group::ShareGroup> {
        match &self.coordinator {
            Coordinator::Share(s) => Some(s),
            _ => None,
        }
    }

    pub fn share_opt_mut(&mut self) -> Option<&mut crate::kafka::coordinator::share_group::ShareGroup> {
        match &mut self.coordinator {
            Coordinator::Share(s) => Some(s),
            _ => None,
        }
    }

    /// Committed offsets and owners of a consumer group (classic or consumer protocol).
    pub fn offsets(&self) -> &GroupOffsets {
        match &self.coordinator {
            Coordinator::Classic(c) => &c.offsets,
            Coordinator::Protocol(c) => &c.offsets,
            Coordinator::Share(_) => panic!("group {} is a share group", self.id),
        }
    }

    pub fn offsets_mut(&mut self) -> &mut GroupOffsets {
        match &mut self.coordinator {
            Coordinator::Classic(c) => &mut c.offsets,
            Coordinator::Protocol(c) => &mut c.offsets,
            Coordinator::Share(_) => panic!("a share group keeps no consumer offsets"),
        }
    }

    /// The consumer-protocol coordinator's state; only consumer-protocol paths ask.
    pub fn protocol(&self) -> &consumer_group::ProtocolGroup {
        match &self.coordinator {
            Coordinator::Protocol(c) => c,
            _ => panic!("group {} is not a consumer-protocol group", self.id),
        }
    }

    pub fn protocol_mut(&mut self) -> &mut consumer_group::ProtocolGroup {
        match &mut self.coordinator {
            Coordinator::Protocol(c) => c,
            _ => panic!("not a consumer-protocol group"),
        }
    }

    /// Whether a rebalance has started and not ended.
    pub fn rebalance_open(&self) -> bool {
        match &self.coordinator {
            Coordinator::Classic(c) => c.rebalance.is_some(),
            Coordinator::Protocol(c) => c.rebalance.is_some(),
            Coordinator::Share(_) => false,
        }
    }

    /// Whether a rebalance is under way (a classic join/sync round, or a consumer-protocol group
    /// assigning or reconciling).
    pub fn is_rebalancing(&self) -> bool {
        match &self.coordinator {
            Coordinator::Classic(c) => c.is_rebalancing(),
            Coordinator::Protocol(c) => c.rebalance.is_some(),
            Coordinator::Share(_) => false,
        }
    }

    pub fn is_share(&self) -> bool {
        self.kind == GroupKind::Share
    }
}

impl ClassicGroup {
    /// The classic rebalance timeout: the largest max.poll.interval.ms among the members
    /// (rebalance.timeout.ms as the Java consumer sends it).
    pub fn rebalance_timeout(&self, consumers: &[Consumer]) -> SimDuration {
        self.members
            .values()
            .map(|m| consumers[m.consumer].config.max_poll_interval)
            .max()
            .unwrap_or(SimDuration::from_secs(300))
    }

    /// Bytes per partition of the world that a group's dense tables take (the cost estimate's
    /// `GROUP_DENSE_BYTES` must cover them and the ledger's).
    pub fn dense_bytes_per_partition() -> usize {
        GroupOffsets::dense_bytes_per_partition()
    }

    pub fn new(
        protocol: RebalanceProtocol,
        total_partitions: usize,
    ) -> Result<Self, std::collections::TryReserveError> {
        let n = total_partitions;
        Ok(ClassicGroup {
            protocol,
            state: GroupState::Empty,
            generation: 0,
            members: BTreeMap::new(),
            leader: None,
            rebalance: None,
            round: 0,
            rebalance_seq: 0,
            offsets: GroupOffsets::new(n)?,
        })
    }

    pub fn commit(&mut self, partition: u32, offset: u64) {
        self.offsets.commit(partition, offset);
    }

    /// The member id a consumer currently holds in this group, if any.
    pub fn member_of(&self, consumer: usize) -> Option<&str> {
        self.members.iter().find(|(_, m)| m.consumer == consumer && m.alive).map(|(id, _)| id.as_str())
    }

    pub fn member_by_instance(&self, instance: &str) -> Option<String> {
        self.members.iter().find(|(_, m)| m.group_instance_id.as_deref() == Some(instance)).map(|(id, _)| id.clone())
    }

    pub fn is_rebalancing(&self) -> bool {
        matches!(self.state, GroupState::PreparingRebalance | GroupState::CompletingRebalance)
    }
}

#[cfg(test)]
mod dense_tests {
    use super::*;

    /// The cost estimate counts a group's dense tables at `GROUP_DENSE_BYTES` per partition of
    /// the world (and a share group's at `SHARE_DENSE_BYTES` more): it must not undercount them.
    #[test]
    fn the_estimate_covers_the_dense_tables() {
        use crate::kafka::budget::{GROUP_DENSE_BYTES, SHARE_DENSE_BYTES};
        let group = (ClassicGroup::dense_bytes_per_partition()
            + crate::record::ledger::Ledger::dense_bytes_per_partition()
            + crate::kafka::broker::push::PushStreams::dense_bytes_per_partition()) as u64;
        assert!(group <= GROUP_DENSE_BYTES, "{group} bytes per partition");
        assert!(group * 2 > GROUP_DENSE_BYTES, "not a gross overcount either: {group}");
        let share = crate::kafka::broker::GroupShares::dense_bytes_per_partition() as u64;
        assert!(share <= SHARE_DENSE_BYTES, "{share} bytes per partition");
    }

    #[test]
    fn a_table_too_big_for_memory_is_an_error_not_an_abort() {
        assert!(dense(usize::MAX / 2, 0u64).is_err());
        assert!(ClassicGroup::new(RebalanceProtocol::Eager, usize::MAX / 64).is_err());
    }
}

#[cfg(test)]
mod offsets_tests {
    use super::GroupOffsets;

    #[test]
    fn a_partition_costs_16_bytes_and_reads_back() {
        assert_eq!(GroupOffsets::dense_bytes_per_partition(), 16);
        let mut o = GroupOffsets::new(3).unwrap();
        assert_eq!((o.committed(0), o.owner(1), o.assigned_to(2)), (None, None, None));
        o.commit(0, 0);
        o.set_owner(1, Some(0));
        o.set_assigned_to(2, Some(7));
        assert_eq!((o.committed(0), o.owner(1), o.assigned_to(2)), (Some(0), Some(0), Some(7)));
        o.set_owner(1, None);
        assert_eq!(o.owner(1), None);
        assert_eq!(o.committed_all(), vec![Some(0), None, None]);
    }
}
