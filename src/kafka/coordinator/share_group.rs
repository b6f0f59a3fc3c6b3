//! A share group's coordinator and broker state: members with epochs, the target assignment, one
//! share-partition per subscribed partition once initialized, and the group's share counters.

use crate::scenario::plan::SharePlan;
use crate::sim::SimTime;
use std::collections::BTreeMap;

/// A member as the share group coordinator knows it (KIP-932 heartbeats, KIP-848 epochs).
#[derive(Clone, Debug)]
pub struct ShareMember {
    pub consumer: usize,
    /// The assignment epoch the member last received.
    pub epoch: i32,
    pub assignment: Vec<u32>,
    pub last_heartbeat: SimTime,
}

pub use crate::record::ShareStats;

pub struct ShareGroup {
    pub plan: SharePlan,
    /// member id -> member, in member-id order (the assignor's member order).
    pub members: BTreeMap<String, ShareMember>,
    pub group_epoch: i32,
    pub assignment_epoch: i32,
    pub target: BTreeMap<String, Vec<u32>>,
    /// When the last target assignment was computed (KIP-1263's assignment interval runs from it).
    pub last_assignment: Option<SimTime>,
}

impl ShareGroup {
    pub fn new(plan: SharePlan) -> Self {
        ShareGroup {
            plan,
            members: BTreeMap::new(),
            group_epoch: 0,
            assignment_epoch: 0,
            target: BTreeMap::new(),
            last_assignment: None,
        }
    }

    /// How many members the target assignment gives partition `p`.
    pub fn sharers(&self, p: u32) -> usize {
        self.members.values().filter(|m| m.assignment.contains(&p)).count()
    }
}
