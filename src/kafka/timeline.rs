//! The scenario's timeline: each action logged and applied at its instant (crash, start, stop,
//! slow, seek, reset, pause, groups and partitions added or removed).

use super::world::World;
use crate::scenario::plan::Action;
use crate::sim::SimTime;
use serde_json::{Value, json};

impl World {
    pub(super) fn action(&mut self, i: usize) {
        let a = self.plan.timeline[i].clone();
        let mut fields: Vec<(&str, Value)> = Vec::new();
        let name = |w: &World, (g, k): (usize, usize)| w.plan.groups[g].consumers[k].name.clone();
        let ci = |w: &World, (g, k): (usize, usize)| w.groups[g].consumers[k];
        match a.action {
            Action::Crash(r) => {
                fields.push(("action", json!("crash")));
                fields.push(("consumer", json!(name(self, r))));
                self.log_action(fields);
                self.crash_consumer(ci(self, r));
            }
            Action::Start(r) => {
                fields.push(("action", json!("start")));
                fields.push(("consumer", json!(name(self, r))));
                self.log_action(fields);
                self.start_consumer(ci(self, r), "timeline");
            }
            Action::Stop(r) => {
                fields.push(("action", json!("stop")));
                fields.push(("consumer", json!(name(self, r))));
                self.log_action(fields);
                self.stop_consumer(ci(self, r));
            }
            Action::Hang { consumer, for_ } => {
                fields.push(("action", json!("hang")));
                fields.push(("consumer", json!(name(self, consumer))));
                fields.push((
                    "for_ms",
                    for_.map_or(Value::Null, |d| crate::report::num::time_ms_json(SimTime::ZERO + d)),
                ));
                self.log_action(fields);
                self.hang_consumer(ci(self, consumer), for_);
            }
            Action::Slow { consumer, factor } => {
                fields.push(("action", json!("slow")));
                fields.push(("consumer", json!(name(self, consumer))));
                fields.push(("factor", json!(factor)));
                self.log_action(fields);
                let c = ci(self, consumer);
                self.consumers[c].processing.set_factor(factor);
            }
            Action::Rate { producer, rate } => {
                // The producer already applies the change at this instant (it knows its schedule).
                fields.push(("action", json!("rate")));
                fields.push(("producer", json!(self.plan.producers[producer].name)));
                fields.push(("rate_per_s", json!(rate)));
                self.log_action(fields);
            }
            Action::Seek { consumer, topic, partition, ref to } => {
                fields.push(("action", json!("seek")));
                fields.push(("consumer", json!(name(self, consumer))));
                fields.push(("topic", json!(self.topics[topic].name)));
                fields.push(("partition", json!(partition)));
                fields.push(("to", target_json(to)));
                self.log_action(fields);
                let c = ci(self, consumer);
                self.seek(c, topic, partition, to);
            }
            Action::ResetOffsets { group, topic, ref to } => {
                fields.push(("action", json!("reset_offsets")));
                fields.push(("group", json!(self.groups[group].id)));
                fields.push(("topic", json!(self.topics[topic].name)));
                fields.push(("to", target_json(to)));
                self.log_action(fields);
                self.reset_offsets(group, topic, to);
            }
            Action::Pause(r) | Action::Resume(r) => {
                let pause = matches!(a.action, Action::Pause(_));
                fields.push(("action", json!(if pause { "pause" } else { "resume" })));
                fields.push(("consumer", json!(name(self, r))));
                self.log_action(fields);
                // KafkaConsumer.pause: it keeps polling and heartbeating, but fetches nothing.
                let c = ci(self, r);
                self.consumers[c].paused = pause;
                if !pause && self.is_push(self.consumers[c].group) {
                    self.pump_owned(c);
                }
            }
            Action::PauseProducer(p) | Action::ResumeProducer(p) => {
                let pause = matches!(a.action, Action::PauseProducer(_));
                fields.push(("action", json!(if pause { "pause" } else { "resume" })));
                fields.push(("producer", json!(self.plan.producers[p].name)));
                self.log_action(fields);
            }
            Action::AddGroup(g) => {
                fields.push(("action", json!("add_group")));
                fields.push(("group", json!(self.groups[g].id)));
                self.log_action(fields);
            }
            Action::AddConsumer(r) => {
                fields.push(("action", json!("add_consumer")));
                fields.push(("group", json!(self.groups[r.0].id)));
                fields.push(("consumer", json!(name(self, r))));
                self.log_action(fields);
            }
            Action::RemoveGroup(g) => {
                fields.push(("action", json!("remove_group")));
                fields.push(("group", json!(self.groups[g].id)));
                self.log_action(fields);
                for c in self.groups[g].consumers.clone() {
                    if self.consumers[c].is_running() {
                        self.stop_consumer(c);
                    }
                }
                self.groups[g].removed = true;
            }
            Action::AddPartitions { topic, count } => {
                fields.push(("action", json!("add_partitions")));
                fields.push(("topic", json!(self.topics[topic].name)));
                fields.push(("count", json!(count)));
                self.log_action(fields);
                self.topics[topic].partitions = count;
                // Members notice the new partitions at their next metadata refresh; the group rebalances.
                for g in 0..self.groups.len() {
                    if self.plan.groups[g].topics.contains(&topic) && !self.groups[g].members.is_empty() {
                        self.prepare_rebalance(g, format!("partitions of {} grew to {count}", self.topics[topic].name));
                    }
                }
            }
        }
    }

    pub(super) fn log_action(&mut self, fields: Vec<(&str, Value)>) {
        let now = self.now();
        self.rec.event(now, "action", fields);
    }
}

fn target_json(to: &crate::scenario::plan::OffsetTarget) -> Value {
    use crate::scenario::plan::OffsetTarget;
    match to {
        OffsetTarget::Earliest => json!("earliest"),
        OffsetTarget::Latest => json!("latest"),
        OffsetTarget::Offset(o) => json!(o),
        OffsetTarget::Timestamp(t) => json!({ "timestamp_ms": crate::report::num::time_ms_json(SimTime::ZERO + *t) }),
        OffsetTarget::Shift(d) => json!({ "shift": d }),
    }
}
