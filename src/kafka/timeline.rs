//! The scenario's timeline: each action logged and applied at its instant (crash, start, stop,
//! slow, seek, reset, pause, groups and partitions added or removed).

use crate::kafka::client::GroupKind;
use crate::kafka::coordinator::Coordinator;
use crate::kafka::world::World;
use crate::record::event::{RebalanceReason, StartCause, What};
use crate::scenario::plan::Action;

impl World {
    pub(crate) fn action(&mut self, i: usize) {
        let a = self.plan.timeline[i].clone();
        let now = self.now();
        // The action is logged first (its fields are the plan's), then applied.
        self.rec.event(now, What::Action { index: i as u32 });
        let ci = |w: &World, (g, k): (usize, usize)| w.groups[g].consumers[k];
        match a.action {
            Action::Crash(r) => self.crash_consumer(ci(self, r)),
            Action::Start(r) => self.start_consumer(ci(self, r), StartCause::Timeline),
            Action::Stop(r) => self.stop_consumer(ci(self, r)),
            Action::Hang { consumer, for_ } => self.hang_consumer(ci(self, consumer), for_),
            Action::Slow { consumer, factor } => {
                let c = ci(self, consumer);
                self.consumers[c].processing.set_factor(factor);
            }
            // The producer already applies the change at this instant (it knows its schedule).
            Action::Rate { .. } | Action::PauseProducer(_) | Action::ResumeProducer(_) => {}
            Action::Seek { consumer, topic, partition, ref to } => {
                let c = ci(self, consumer);
                self.consumers[c].quiet_since = None; // a position may go back
                self.seek(c, topic, partition, to);
            }
            Action::ResetOffsets { group, topic, ref to } => self.reset_offsets(group, topic, to),
            Action::Pause(r) | Action::Resume(r) => {
                let pause = matches!(a.action, Action::Pause(_));
                // KafkaConsumer.pause: it keeps polling and heartbeating, but fetches nothing.
                let c = ci(self, r);
                self.consumers[c].paused = pause;
                if !pause && self.consumers[c].kind() == GroupKind::Push {
                    self.pump_owned(c);
                }
            }
            Action::AddGroup(_) | Action::AddConsumer(_) => {}
            Action::RemoveGroup(g) => {
                for c in self.groups[g].consumers.clone() {
                    if self.consumers[c].is_running() {
                        self.stop_consumer(c);
                    }
                }
                self.groups[g].removed = true;
            }
            Action::CrashBroker(_)
            | Action::StopBroker(_)
            | Action::StartBroker(_)
            | Action::IsolateBroker { .. }
            | Action::SlowBroker { .. } => self.broker_action(&a.action),
            Action::AddPartitions { topic, count } => {
                self.broker.topics[topic].partitions = count;
                // Members of a classic group notice the new partitions at their next metadata
                // refresh and the group rebalances; a share group's coordinator assigns them at its
                // next target assignment.
                for g in 0..self.groups.len() {
                    if let Coordinator::Protocol(pg) = &mut self.groups[g].coordinator
                        && self.plan.groups[g].topics.contains(&topic)
                    {
                        // The coordinator sees the new metadata at its next heartbeat.
                        pg.metadata_changed = Some(RebalanceReason::PartitionsGrew { topic, count });
                        continue;
                    }
                    let Coordinator::Classic(cg) = &self.groups[g].coordinator else { continue };
                    if self.plan.groups[g].topics.contains(&topic) && !cg.members.is_empty() {
                        self.prepare_rebalance(g, RebalanceReason::PartitionsGrew { topic, count });
                    }
                }
            }
        }
    }
}
