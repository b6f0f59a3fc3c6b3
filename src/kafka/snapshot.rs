//! The world's state at the end of a run, as the report reads it (`record::run`): log offsets,
//! committed offsets, each consumer's state and partitions, share-partitions.

use crate::kafka::client::{Membership, RunState};
use crate::kafka::coordinator::{ClassicGroup, Coordinator, GroupState};
use crate::kafka::world::World;
use crate::record::run::{
    ConsumerEnd, ConsumerState, GroupEnd, PartitionEnd, ProtocolGroupEnd, ProtocolMemberEnd, RebalanceEnd, Run,
    ShareEnd, SharePartitionEnd, Snapshot,
};

impl World {
    /// The finished run, for the report: the plan, the record and the end state.
    pub fn run_record(&self) -> Run<'_> {
        Run { plan: &self.plan, rec: &self.rec, end: self.snapshot() }
    }

    /// The state now (the end, once the run is over).
    pub fn snapshot(&self) -> Snapshot {
        let partitions = (0..self.broker.partitions.len() as u32)
            .map(|p| {
                let log = &self.broker.partitions[p as usize].log;
                PartitionEnd {
                    exists: self.partition_exists(p),
                    log_start_offset: log.log_start_offset(),
                    log_end_offset: log.log_end_offset(),
                }
            })
            .collect();
        let groups = self
            .groups
            .iter()
            .enumerate()
            .map(|(gi, g)| GroupEnd {
                // A share group commits no offsets (its SPSO is reported instead).
                committed: g
                    .share_opt()
                    .map_or_else(|| g.offsets().committed_all(), |_| vec![None; self.broker.partitions.len()]),
                generation: match &g.coordinator {
                    Coordinator::Share(_) => 0,
                    Coordinator::Protocol(pg) => pg.group_epoch,
                    Coordinator::Classic(cg) => cg.generation,
                },
                share: g.share_opt().map(|sg| ShareEnd {
                    members: sg.members.len(),
                    group_epoch: sg.group_epoch,
                    assignment_epoch: sg.assignment_epoch,
                    partitions: (0..self.broker.partitions.len())
                        .map(|p| {
                            let end = self.broker.partitions[p].log.log_end_offset();
                            self.broker.share_parts(gi)[p].as_ref().map(|sp| SharePartitionEnd {
                                spso: sp.spso(),
                                start: sp.start(),
                                in_flight: sp.in_flight(),
                                share_lag: sp.lag(end),
                                members: sg.sharers(p as u32),
                            })
                        })
                        .collect(),
                }),
                rebalance: match &g.coordinator {
                    Coordinator::Share(_) => None,
                    Coordinator::Protocol(pg) => protocol_rebalance_end(pg),
                    Coordinator::Classic(cg) => rebalance_end(cg),
                },
                protocol: match &g.coordinator {
                    Coordinator::Protocol(pg) => {
                        Some(ProtocolGroupEnd { group_epoch: pg.group_epoch, assignment_epoch: pg.assignment_epoch })
                    }
                    _ => None,
                },
            })
            .collect();
        let consumers = (0..self.consumers.len())
            .map(|c| ConsumerEnd {
                state: self.consumer_state(c),
                partitions: self.consumers[c].owned.iter().map(|o| o.partition).collect(),
                protocol: self.protocol_member_end(c),
            })
            .collect();
        Snapshot { events_processed: self.kernel.events_processed(), partitions, groups, consumers }
    }

    /// A consumer-protocol consumer's member epoch and state, and the coordinator's state of the
    /// member it holds under the consumer's current member id (a crashed consumer's member until
    /// its session ends; a restarted consumer's old member is not its own any more).
    fn protocol_member_end(&self, c: usize) -> Option<ProtocolMemberEnd> {
        let con = &self.consumers[c];
        let Membership::Protocol(m) = &con.membership else { return None };
        let Coordinator::Protocol(pg) = &self.groups[con.group].coordinator else { return None };
        let server = con.member_id.as_ref().and_then(|id| pg.members.get(id)).filter(|sm| sm.consumer == c);
        Some(ProtocolMemberEnd {
            member_epoch: m.epoch,
            member_state: m.state.name(),
            server_member_state: server.map(|sm| sm.state.name()),
        })
    }

    /// Consumer `c`'s state, in the words `kafka-consumer-groups.sh` users know.
    pub fn consumer_state(&self, c: usize) -> ConsumerState {
        let con = &self.consumers[c];
        let group = &self.groups[con.group];
        match con.state {
            RunState::Crashed => ConsumerState::Crashed,
            RunState::Stopped if self.rec.consumers[c].started => ConsumerState::Stopped,
            RunState::Stopped => ConsumerState::NotStarted,
            RunState::Running if group.is_share() => {
                let sg = group.share();
                let member = con.member_id.as_ref().is_some_and(|id| sg.members.contains_key(id));
                if !con.owned.is_empty() {
                    ConsumerState::Active
                } else if !member && con.generation != 0 {
                    ConsumerState::Fenced
                } else {
                    ConsumerState::Joining
                }
            }
            RunState::Running if con.is_hung() => ConsumerState::Hung,
            RunState::Running if group.kind == crate::kafka::client::GroupKind::Protocol => {
                let member = con.member_id.as_ref().is_some_and(|id| group.protocol().members.contains_key(id));
                if !con.owned.is_empty() {
                    ConsumerState::Active
                } else if con.protocol().epoch <= 0 {
                    ConsumerState::Joining
                } else if !member {
                    ConsumerState::Fenced
                } else {
                    ConsumerState::Standby
                }
            }
            RunState::Running => {
                let member = con.member_id.as_ref().is_some_and(|id| group.classic().members.contains_key(id));
                if !con.owned.is_empty() {
                    ConsumerState::Active
                } else if con.classic().joining {
                    ConsumerState::Joining
                } else if !member {
                    ConsumerState::Fenced
                } else {
                    ConsumerState::Standby
                }
            }
        }
    }
}

/// A classic group's rebalance in progress, if any: what it waits for. While members join, the
/// coordinator waits for every member that has not rejoined (a silent one until its session
/// ends); while they sync, for the SyncGroups.
/// A consumer-protocol rebalance still open: the coordinator waits for the members not yet
/// stable at the target (with when each one's session ends).
fn protocol_rebalance_end(g: &crate::kafka::coordinator::consumer_group::ProtocolGroup) -> Option<RebalanceEnd> {
    use crate::kafka::coordinator::consumer_group::{ProtocolGroupState, ServerMemberState};
    let rb = g.rebalance.as_ref()?;
    let waiting_for = g
        .members
        .values()
        .filter(|m| m.epoch != -2 && (m.state != ServerMemberState::Stable || m.epoch != g.assignment_epoch))
        .map(|m| (m.consumer as u32, Some(m.session_deadline)))
        .collect();
    Some(RebalanceEnd {
        started: rb.started,
        reason: rb.reason.clone(),
        state: if g.state() == ProtocolGroupState::Assigning { "Assigning" } else { "Reconciling" },
        waiting_for,
    })
}

fn rebalance_end(g: &ClassicGroup) -> Option<RebalanceEnd> {
    let rb = g.rebalance.as_ref()?;
    let joining = g.state == GroupState::PreparingRebalance;
    let waiting_for = if joining {
        g.members
            .values()
            .filter(|m| !m.joined)
            .map(|m| (m.consumer as u32, if m.alive { None } else { m.session_deadline }))
            .collect()
    } else {
        Vec::new()
    };
    Some(RebalanceEnd {
        started: rb.started,
        reason: rb.reason.clone(),
        state: if joining { "PreparingRebalance" } else { "CompletingRebalance" },
        waiting_for,
    })
}
