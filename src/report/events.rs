//! The run's typed events as events.jsonl writes them: each turned into a JSON object with names
//! from the plan, keys in the order the output contract documents. The narration, the report
//! page and the charts read this view too, so every output tells an event the same way.

use super::num::time_ms_json;
use crate::record::event::{Event, Move, RebalanceReason, Rejected, StartCause, What};
use crate::scenario::plan::{Action, BrokerRef, OffsetReset, OffsetTarget, Plan};
use crate::sim::{SimDuration, SimTime};
use serde_json::{Map, Value, json};

/// An event as the outputs show it: its time, its `type`, and its fields with names.
#[derive(Clone, Debug)]
pub struct LoggedEvent {
    pub time: SimTime,
    pub kind: &'static str,
    pub fields: Map<String, Value>,
}

/// Names by index, from the plan: consumers across groups, partitions across topics.
pub struct Names<'a> {
    pub(crate) plan: &'a Plan,
    /// Per consumer index: (group, name).
    consumers: Vec<(usize, &'a str)>,
    /// Per partition id: `<topic>-<index>`.
    partitions: Vec<String>,
}

impl<'a> Names<'a> {
    pub fn new(plan: &'a Plan) -> Self {
        let consumers =
            plan.groups.iter().enumerate().flat_map(|(g, gp)| gp.consumers.iter().map(move |c| (g, c.name.as_str())));
        let partitions =
            plan.topics.iter().flat_map(|t| (0..t.max_partitions).map(move |i| format!("{}-{i}", t.name))).collect();
        Names { plan, consumers: consumers.collect(), partitions }
    }

    pub fn consumer(&self, c: u32) -> &'a str {
        self.consumers[c as usize].1
    }

    /// The id of the group consumer `c` belongs to.
    pub fn group_of(&self, c: u32) -> &'a str {
        &self.plan.groups[self.consumers[c as usize].0].id
    }

    pub fn group(&self, g: u32) -> &'a str {
        &self.plan.groups[g as usize].id
    }

    pub fn partition(&self, p: u32) -> &str {
        &self.partitions[p as usize]
    }

    fn partitions(&self, ps: &[u32]) -> Value {
        json!(ps.iter().map(|&p| self.partition(p)).collect::<Vec<_>>())
    }

    fn moves(&self, moves: &[Move]) -> Value {
        json!(
            moves
                .iter()
                .map(|m| json!({"partition": self.partition(m.partition), "from": m.from, "to": m.to}))
                .collect::<Vec<_>>()
        )
    }

    fn reason(&self, r: &RebalanceReason) -> String {
        match r {
            RebalanceReason::JoinedEmpty(c) => format!("{} joined an empty group", self.consumer(*c)),
            RebalanceReason::Joined(c) => format!("{} joined", self.consumer(*c)),
            RebalanceReason::Rejoined(c) => format!("{} rejoined", self.consumer(*c)),
            RebalanceReason::StaticRejoined(c) => format!("static member {} rejoined", self.consumer(*c)),
            RebalanceReason::MemberGone { consumer, reason } => format!("{}: {reason}", self.consumer(*consumer)),
            RebalanceReason::PartitionsGrew { topic, count } => {
                format!("partitions of {} grew to {count}", self.plan.topics[*topic].name)
            }
        }
    }
}

fn ms(d: SimDuration) -> Value {
    time_ms_json(SimTime::ZERO + d)
}

/// Every event of the run, as the outputs show them.
pub fn logged(plan: &Plan, events: &[Event]) -> Vec<LoggedEvent> {
    each_logged(plan, events).collect()
}

/// Every event of the run as the outputs show it, one at a time: an assignment names each of
/// its partitions, so in a world of 300 groups x 10,000 partitions all of them at once take
/// about 170 bytes per group-partition.
pub fn each_logged<'a>(plan: &'a Plan, events: &'a [Event]) -> impl Iterator<Item = LoggedEvent> + 'a {
    let names = Names::new(plan);
    events.iter().map(move |e| logged_event(&names, e))
}

/// The events of the kinds `kinds` only, as the outputs show them (a chart that reads a few
/// kinds of event need not name every partition of every assignment).
pub fn logged_of_kinds(plan: &Plan, events: &[Event], kinds: &[&str]) -> Vec<LoggedEvent> {
    let names = Names::new(plan);
    events.iter().filter(|e| kinds.contains(&e.what.kind())).map(|e| logged_event(&names, e)).collect()
}

/// One event as the outputs show it. (Naming its fields is the cost: a filter goes before this.)
fn logged_event(names: &Names, e: &Event) -> LoggedEvent {
    LoggedEvent { time: e.time, kind: e.what.kind(), fields: fields(names, &e.what) }
}

/// One event's fields, in events.jsonl's order.
pub fn fields(n: &Names, what: &What) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    // Most consumer events open with the consumer's group and name.
    let of = |c: u32, put: &mut dyn FnMut(&str, Value)| {
        put("group", json!(n.group_of(c)));
        put("consumer", json!(n.consumer(c)));
    };
    put_fields(n, what, &mut put, of);
    m
}

/// One event's fields by its family, each family in its own function.
fn put_fields(n: &Names, what: &What, put: &mut dyn FnMut(&str, Value), of: impl Fn(u32, &mut dyn FnMut(&str, Value))) {
    match what {
        What::Cluster(e) => super::cluster_events::cluster_fields(n, e, put),
        What::Action { .. } | What::ActionIgnored { .. } | What::ActionRejected(_) => timeline_fields(n, what, put),
        What::ConsumerStarted { .. }
        | What::ConsumerCrashed { .. }
        | What::ConsumerStopped { .. }
        | What::ConsumerError { .. }
        | What::ConsumerHung { .. }
        | What::ConsumerResumed { .. }
        | What::ConsumerOutOfMemory { .. } => consumer_fields(n, what, put, &of),
        What::MemberJoined { .. }
        | What::StaticMemberReplaced { .. }
        | What::ShareMemberJoined { .. }
        | What::MemberRemoved { .. }
        | What::MemberRejoining { .. }
        | What::MembershipLost { .. }
        | What::PollTimeout { .. } => membership_fields(n, what, put, &of),
        What::Assignment { .. }
        | What::PartitionsRevoked { .. }
        | What::RebalanceStarted { .. }
        | What::RebalanceRestarted { .. }
        | What::RebalanceCompleted(_)
        | What::RebalanceAbandoned { .. } => rebalance_fields(n, what, put, &of),
        What::CommitFailed { .. }
        | What::Seek { .. }
        | What::OffsetsReset { .. }
        | What::OffsetOutOfRange { .. }
        | What::SegmentsDeleted { .. }
        | What::LagStatus { .. } => offsets_fields(n, what, put, &of),
        What::ShareAssignmentComputed { .. }
        | What::ShareAssignment { .. }
        | What::ShareLockExpired { .. }
        | What::ShareRecordsReleased { .. }
        | What::ShareAckFailed { .. }
        | What::RecordsArchived { .. }
        | What::RecordsArchivedByRetention { .. } => share_fields(n, what, put, &of),
        What::TargetAssignment { .. } | What::Reconciled { .. } => protocol_fields(n, what, put, &of),
    }
}

/// Consumer protocol (KIP-848): a target assignment, and a member's reconciliation.
fn protocol_fields(
    n: &Names,
    what: &What,
    put: &mut dyn FnMut(&str, Value),
    of: &impl Fn(u32, &mut dyn FnMut(&str, Value)),
) {
    match what {
        What::TargetAssignment { group, group_epoch, assignment } => {
            put("group", json!(n.group(*group)));
            put("group_epoch", json!(group_epoch));
            // A consumer restarted before its crashed member's session ran out has two members
            // for a while: their shares go under its one name, merged, rather than one hiding
            // the other.
            let mut merged: Vec<(u32, Vec<u32>)> = Vec::new();
            for (c, ps) in assignment {
                match merged.iter_mut().find(|(m, _)| m == c) {
                    Some((_, all)) => {
                        all.extend(ps);
                        all.sort_unstable();
                    }
                    None => merged.push((*c, ps.clone())),
                }
            }
            let mut map = Map::new();
            for (c, ps) in &merged {
                map.insert(n.consumer(*c).to_string(), n.partitions(ps));
            }
            put("target", Value::Object(map));
        }
        What::Reconciled { consumer, member_epoch, partitions, added, took } => {
            of(*consumer, put);
            put("member_epoch", json!(member_epoch));
            put("partitions", n.partitions(partitions));
            put("added", n.partitions(added));
            put("took_ms", ms(*took));
        }
        _ => unreachable!("not a consumer-protocol event"),
    }
}

/// A timeline action, and one not applied: what it was and why.
fn timeline_fields(n: &Names, what: &What, put: &mut dyn FnMut(&str, Value)) {
    match what {
        What::Action { index } => action(n, *index as usize, put),
        What::ActionIgnored { consumer, reason } => {
            put("consumer", json!(n.consumer(*consumer)));
            put("reason", json!(reason));
        }
        What::ActionRejected(Rejected::ResetWithMembers { group, members }) => {
            put("action", json!("reset_offsets"));
            put("group", json!(n.group(*group)));
            put(
                "reason",
                json!(format!(
                    "group has {members} member(s); kafka-consumer-groups.sh --reset-offsets needs an inactive group (stop its consumers and wait for their sessions to end)"
                )),
            );
        }
        What::ActionRejected(Rejected::ShiftWithoutCommit { group, partition }) => {
            put("action", json!("reset_offsets"));
            put("group", json!(n.group(*group)));
            put("reason", json!(format!("cannot shift {}: it has no committed offset", n.partition(*partition))));
        }
        What::ActionRejected(Rejected::Consumer { consumer, reason }) => {
            put("consumer", json!(n.consumer(*consumer)));
            put("reason", json!(reason));
        }
        _ => unreachable!("not a timeline event"),
    }
}

/// A consumer's lifecycle: it starts, crashes, stops, fails, hangs, resumes or runs out of memory.
fn consumer_fields(
    n: &Names,
    what: &What,
    put: &mut dyn FnMut(&str, Value),
    of: &impl Fn(u32, &mut dyn FnMut(&str, Value)),
) {
    match what {
        What::ConsumerStarted { consumer, cause } => {
            put("consumer", json!(n.consumer(*consumer)));
            put("group", json!(n.group_of(*consumer)));
            put(
                "cause",
                json!(match cause {
                    StartCause::StartAt => "start_at",
                    StartCause::Timeline => "timeline",
                }),
            );
        }
        What::ConsumerCrashed { consumer } | What::ConsumerStopped { consumer } => {
            put("consumer", json!(n.consumer(*consumer)));
            put("group", json!(n.group_of(*consumer)));
        }
        What::ConsumerError { consumer, error } => {
            of(*consumer, put);
            put("error", json!(error));
        }
        What::ConsumerHung { consumer, for_ } => {
            of(*consumer, put);
            put("for_ms", for_.map_or(Value::Null, ms));
        }
        What::ConsumerResumed { consumer, hung, fenced, partitions_lost } => {
            of(*consumer, put);
            put("hung_ms", ms(*hung));
            put("fenced", json!(fenced));
            put("partitions_lost", n.partitions(partitions_lost));
        }
        What::ConsumerOutOfMemory { consumer, buffered_bytes, consumer_memory } => {
            of(*consumer, put);
            put("buffered_bytes", json!(buffered_bytes));
            put("consumer_memory", json!(consumer_memory));
        }
        _ => unreachable!("not a consumer event"),
    }
}

/// Group membership: a member joins, is replaced, removed, rejoins or learns it is gone.
fn membership_fields(
    n: &Names,
    what: &What,
    put: &mut dyn FnMut(&str, Value),
    of: &impl Fn(u32, &mut dyn FnMut(&str, Value)),
) {
    match what {
        What::MemberJoined { group, consumer, member_id, group_instance_id } => {
            put("group", json!(n.group(*group)));
            put("consumer", json!(n.consumer(*consumer)));
            put("member_id", json!(member_id));
            put("group_instance_id", json!(group_instance_id));
        }
        What::StaticMemberReplaced { consumer, member_id, group_instance_id, replaced_member_id } => {
            of(*consumer, put);
            put("member_id", json!(member_id));
            put("group_instance_id", json!(group_instance_id));
            put("replaced_member_id", json!(replaced_member_id));
        }
        What::ShareMemberJoined { consumer, group_epoch } => {
            of(*consumer, put);
            put("member_epoch", json!(0));
            put("group_epoch", json!(group_epoch));
        }
        What::MemberRemoved { consumer, member_id, reason, .. } => {
            of(*consumer, put);
            put("member_id", json!(member_id));
            put("reason", json!(reason));
        }
        What::MemberRejoining { consumer } => {
            of(*consumer, put);
            put("reason", json!("fenced"));
        }
        What::MembershipLost { consumer } => {
            of(*consumer, put);
            put("reason", json!("unknown_member_id"));
        }
        What::PollTimeout { consumer, last_poll, batch_records, batch_processing } => {
            of(*consumer, put);
            put("last_poll_ms", time_ms_json(*last_poll));
            put("batch_records", json!(batch_records));
            put("batch_processing_ms", time_ms_json(SimTime::ZERO + *batch_processing));
        }
        _ => unreachable!("not a membership event"),
    }
}

/// A consumer group's rebalance: its start, restart, assignment, revocations, end or abandonment.
fn rebalance_fields(
    n: &Names,
    what: &What,
    put: &mut dyn FnMut(&str, Value),
    of: &impl Fn(u32, &mut dyn FnMut(&str, Value)),
) {
    match what {
        What::Assignment { consumer, partitions } | What::PartitionsRevoked { consumer, partitions } => {
            of(*consumer, put);
            put("partitions", n.partitions(partitions));
        }
        What::RebalanceStarted { group, generation, protocol, reason, rebalance } => {
            put("group", json!(n.group(*group)));
            put("generation", json!(generation));
            put("protocol", json!(protocol.name()));
            put("reason", json!(n.reason(reason)));
            put("rebalance", json!(rebalance));
        }
        What::RebalanceRestarted { group, rebalance, cancelled_generation, reason } => {
            put("group", json!(n.group(*group)));
            put("rebalance", json!(rebalance));
            put("cancelled_generation", json!(cancelled_generation));
            put("reason", json!(n.reason(reason)));
        }
        What::RebalanceCompleted(r) => {
            // A consumer listed twice (a restarted consumer beside its old, silent member) keeps
            // its first place and its last value, as one JSON object holds it.
            let per_member = |list: &[(u32, Vec<u32>)]| {
                let mut map = Map::new();
                for (c, ps) in list {
                    map.insert(n.consumer(*c).to_string(), n.partitions(ps));
                }
                Value::Object(map)
            };
            put("group", json!(n.group(r.group)));
            put("generation", json!(r.generation));
            put("protocol", json!(r.protocol.name()));
            put("members", json!(r.members.iter().map(|&c| n.consumer(c)).collect::<Vec<_>>()));
            put("leader", json!(r.leader.map(|c| n.consumer(c))));
            put("assigned", per_member(&r.assigned));
            put("revoked", per_member(&r.revoked));
            put("partitions_moved", json!(r.partitions_moved));
            put("duration_ms", ms(r.duration));
            put("stop_the_world_ms", ms(r.stop_the_world));
            put("rebalance", json!(r.rebalance));
            put("revoked_partitions", json!(r.revoked_partitions));
            put("rebalance_pause_ms", ms(r.rebalance_pause));
        }
        What::RebalanceAbandoned { group, rebalance, generation } => {
            put("group", json!(n.group(*group)));
            put("rebalance", json!(rebalance));
            put("generation", json!(generation));
            put("reason", json!("group_empty"));
        }
        _ => unreachable!("not a rebalance event"),
    }
}

/// Offsets and the log: a commit refused, a seek, a reset, a position outside the log, segments
/// deleted, and the lag status Burrow reads from them.
fn offsets_fields(
    n: &Names,
    what: &What,
    put: &mut dyn FnMut(&str, Value),
    of: &impl Fn(u32, &mut dyn FnMut(&str, Value)),
) {
    match what {
        What::CommitFailed { consumer, reason, partitions } => {
            of(*consumer, put);
            put("reason", json!(reason));
            put("partitions", n.partitions(partitions));
        }
        What::Seek { consumer, moves } => {
            of(*consumer, put);
            put("moves", n.moves(moves));
        }
        What::OffsetsReset { group, moves } => {
            put("group", json!(n.group(*group)));
            put("moves", n.moves(moves));
        }
        What::OffsetOutOfRange { consumer, partition, position, reset_to, reset } => {
            of(*consumer, put);
            put("partition", json!(n.partition(*partition)));
            put("position", json!(position));
            put("reset_to", json!(reset_to));
            put("auto_offset_reset", json!(if *reset == OffsetReset::Earliest { "earliest" } else { "latest" }));
        }
        What::SegmentsDeleted { partition, log_start_offset, records } => {
            put("partition", json!(n.partition(*partition)));
            put("log_start_offset", json!(log_start_offset));
            put("records", json!(records));
        }
        What::LagStatus { group, status, was, partition, partition_status } => {
            put("group", json!(n.group(*group)));
            put("status", json!(status.name()));
            put("was", json!(was.name()));
            put("partition", json!(n.partition(*partition)));
            put("partition_status", json!(partition_status.name()));
        }
        _ => unreachable!("not a offsets event"),
    }
}

/// A share group's (KIP-932) assignment, acquisition locks, releases, acknowledgements and
/// archived records.
fn share_fields(
    n: &Names,
    what: &What,
    put: &mut dyn FnMut(&str, Value),
    of: &impl Fn(u32, &mut dyn FnMut(&str, Value)),
) {
    match what {
        What::ShareAssignmentComputed { group, group_epoch, members, partitions } => {
            put("group", json!(n.group(*group)));
            put("group_epoch", json!(group_epoch));
            put("members", json!(members));
            put("partitions", json!(partitions));
        }
        What::ShareAssignment { consumer, member_epoch, partitions } => {
            of(*consumer, put);
            put("member_epoch", json!(member_epoch));
            put("partitions", n.partitions(partitions));
        }
        What::ShareLockExpired { group, partition, records, archived } => {
            put("group", json!(n.group(*group)));
            put("partition", json!(n.partition(*partition)));
            put("records", json!(records));
            put("archived", json!(archived));
        }
        What::ShareRecordsReleased { consumer, reason, records, archived } => {
            of(*consumer, put);
            put("reason", json!(reason));
            put("records", json!(records));
            put("archived", json!(archived));
        }
        What::ShareAckFailed { consumer, partition, records, offset } => {
            of(*consumer, put);
            put("partition", json!(n.partition(*partition)));
            put("records", json!(records));
            put("offset", json!(offset));
        }
        What::RecordsArchived { consumer, partition, delivery_limit, rejected } => {
            of(*consumer, put);
            put("partition", json!(n.partition(*partition)));
            put("delivery_limit", json!(delivery_limit));
            put("rejected", json!(rejected));
        }
        What::RecordsArchivedByRetention { group, partition, records } => {
            put("group", json!(n.group(*group)));
            put("partition", json!(n.partition(*partition)));
            put("retention", json!(records));
        }
        _ => unreachable!("not a share event"),
    }
}

/// A timeline action's fields: what it is and what it names, from the plan.
fn action(n: &Names, i: usize, put: &mut dyn FnMut(&str, Value)) {
    let action = &n.plan.timeline[i].action;
    match action {
        Action::Rate { .. } | Action::PauseProducer(_) | Action::ResumeProducer(_) => {
            producer_action(n.plan, action, put)
        }
        Action::ResetOffsets { .. } | Action::AddGroup(_) | Action::RemoveGroup(_) | Action::AddPartitions { .. } => {
            group_or_topic_action(n.plan, action, put)
        }
        Action::CrashBroker(_)
        | Action::StopBroker(_)
        | Action::StartBroker(_)
        | Action::IsolateBroker { .. }
        | Action::SlowBroker { .. } => broker_action(n.plan, action, put),
        _ => consumer_action(n.plan, action, put),
    }
}

/// An action on a broker: crash, stop, start, isolate, slow. `broker` is its id, or
/// `{"leader_of": "orders-0"}` as written (the broker it hit is in the broker events that follow).
fn broker_action(plan: &Plan, action: &Action, put: &mut dyn FnMut(&str, Value)) {
    let broker = |b: &BrokerRef| match *b {
        BrokerRef::Id(id) => json!(id),
        BrokerRef::LeaderOf(p) => json!({ "leader_of": plan_partition_name(plan, p) }),
    };
    match action {
        Action::CrashBroker(b) | Action::StopBroker(b) | Action::StartBroker(b) => {
            let verb = match action {
                Action::CrashBroker(_) => "crash_broker",
                Action::StopBroker(_) => "stop_broker",
                _ => "start_broker",
            };
            put("action", json!(verb));
            put("broker", broker(b));
        }
        Action::IsolateBroker { broker: b, for_ } => {
            put("action", json!("isolate_broker"));
            put("broker", broker(b));
            put("for_ms", ms(*for_));
        }
        Action::SlowBroker { broker: b, lag } => {
            put("action", json!("slow_broker"));
            put("broker", broker(b));
            put("lag_ms", ms(*lag));
        }
        other => unreachable!("{other:?} is not a broker's action"),
    }
}

/// `<topic>-<index>` of a global partition id, from the plan.
fn plan_partition_name(plan: &Plan, p: u32) -> String {
    let t = (0..plan.topics.len()).find(|&t| plan.topic_partition_ids(t).contains(&p)).expect("a partition of a topic");
    format!("{}-{}", plan.topics[t].name, p - plan.first_partition(t))
}

/// An action on one consumer: crash, start, stop, hang, slow, seek, pause, resume, or its adding.
fn consumer_action(plan: &Plan, action: &Action, put: &mut dyn FnMut(&str, Value)) {
    let consumer = |(g, k): (usize, usize)| json!(plan.groups[g].consumers[k].name);
    match action {
        Action::Crash(r) | Action::Start(r) | Action::Stop(r) => {
            let verb = match action {
                Action::Crash(_) => "crash",
                Action::Start(_) => "start",
                _ => "stop",
            };
            put("action", json!(verb));
            put("consumer", consumer(*r));
        }
        Action::Hang { consumer: r, for_ } => {
            put("action", json!("hang"));
            put("consumer", consumer(*r));
            put("for_ms", for_.map_or(Value::Null, ms));
        }
        Action::Slow { consumer: r, factor } => {
            put("action", json!("slow"));
            put("consumer", consumer(*r));
            put("factor", json!(factor));
        }
        Action::Seek { consumer: r, topic: t, partition, to } => {
            put("action", json!("seek"));
            put("consumer", consumer(*r));
            put("topic", json!(plan.topics[*t].name));
            put("partition", json!(partition));
            put("to", target(to));
        }
        Action::Pause(r) | Action::Resume(r) => {
            put("action", json!(if matches!(action, Action::Pause(_)) { "pause" } else { "resume" }));
            put("consumer", consumer(*r));
        }
        Action::AddConsumer(r) => {
            put("action", json!("add_consumer"));
            put("group", json!(plan.groups[r.0].id));
            put("consumer", consumer(*r));
        }
        other => unreachable!("{other:?} is not a consumer's action"),
    }
}

/// An action on a producer: a new rate, a pause or a resume.
fn producer_action(plan: &Plan, action: &Action, put: &mut dyn FnMut(&str, Value)) {
    match action {
        Action::Rate { producer, rate } => {
            put("action", json!("rate"));
            put("producer", json!(plan.producers[*producer].name));
            put("rate_per_s", json!(rate));
        }
        Action::PauseProducer(p) | Action::ResumeProducer(p) => {
            let verb = if matches!(action, Action::PauseProducer(_)) { "pause" } else { "resume" };
            put("action", json!(verb));
            put("producer", json!(plan.producers[*p].name));
        }
        other => unreachable!("{other:?} is not a producer's action"),
    }
}

/// An action on a group or a topic: a reset of the group's offsets, a group added or removed,
/// partitions added.
fn group_or_topic_action(plan: &Plan, action: &Action, put: &mut dyn FnMut(&str, Value)) {
    let topic = |t: usize| json!(plan.topics[t].name);
    match action {
        Action::ResetOffsets { group, topic: t, to } => {
            put("action", json!("reset_offsets"));
            put("group", json!(plan.groups[*group].id));
            put("topic", topic(*t));
            put("to", target(to));
        }
        Action::AddGroup(g) => {
            put("action", json!("add_group"));
            put("group", json!(plan.groups[*g].id));
        }
        Action::RemoveGroup(g) => {
            put("action", json!("remove_group"));
            put("group", json!(plan.groups[*g].id));
        }
        Action::AddPartitions { topic: t, count } => {
            put("action", json!("add_partitions"));
            put("topic", topic(*t));
            put("count", json!(count));
        }
        other => unreachable!("{other:?} is not a group's or a topic's action"),
    }
}

fn target(to: &OffsetTarget) -> Value {
    match to {
        OffsetTarget::Earliest => json!("earliest"),
        OffsetTarget::Latest => json!("latest"),
        OffsetTarget::Offset(o) => json!(o),
        OffsetTarget::Timestamp(t) => json!({ "timestamp_ms": ms(*t) }),
        OffsetTarget::Shift(d) => json!({ "shift": d }),
    }
}
