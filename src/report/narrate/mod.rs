//! `kafkasim run --narrate`: the run's control-plane story in plain words, one line per step,
//! each tagged with the part of Kafka's workflow it belongs to (publish, store, subscribe, group
//! join, rebalance, standby, poll, deliver, process, commit, offset advances, replay, shared mode,
//! lag status).
//! It is told from what the run recorded (the plan, the events, the final world), after the run,
//! so the engine needs no hooks for it.

mod cluster;
mod consumer_protocol;
mod intro;
mod offsets;

use super::events::LoggedEvent;
use super::num::ms;
use crate::record::run::Run;
use crate::scenario::plan::{ConsumerPlan, GroupType};
use crate::sim::{SimDuration, SimTime};
use intro::{group_intro, producers_intro, topics_intro};
use serde_json::Value;
use std::collections::BTreeMap;

/// "01:05.250": minutes and seconds of virtual time.
pub fn clock(t: SimTime) -> String {
    let ms_total = t.as_nanos() / 1_000_000;
    let (m, s, milli) = (ms_total / 60_000, (ms_total / 1000) % 60, ms_total % 1000);
    format!("{m:02}:{s:02}.{milli:03}")
}

fn line(t: SimTime, step: &str, text: impl AsRef<str>) -> String {
    format!("{}  [{step}] {}", clock(t), text.as_ref())
}

fn secs(d: SimDuration) -> String {
    let v = d.as_nanos() as f64 / 1e9;
    let s = format!("{v:.3}");
    format!("{} s", s.trim_end_matches('0').trim_end_matches('.'))
}

fn field<'a>(e: &'a LoggedEvent, key: &str) -> &'a str {
    e.fields.get(key).and_then(|v| v.as_str()).unwrap_or("")
}

fn list(v: Option<&Value>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|a| a.iter().map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string)).collect())
        .unwrap_or_default()
}

fn join(names: &[String]) -> String {
    if names.is_empty() { "none".to_string() } else { names.join(", ") }
}

/// The whole story: the set-up, every control-plane event, then where each group ended.
pub fn story(w: &Run) -> Vec<String> {
    let mut out = Vec::new();
    topics_intro(w, &mut out);
    producers_intro(w, &mut out);
    let declared = w.rec.cluster.declared;
    if declared {
        cluster::cluster_intro(w, &mut out);
    }
    for g in &w.plan.groups {
        group_intro(w, g, &mut out);
    }
    // Partitions each consumer holds, from assignments and revocations, to say what a crash strands.
    let mut held: Held = BTreeMap::new();
    let rejected = offsets::rejections(w);
    // Each event is named as it is told: all at once they name every partition of every
    // assignment (about 170 bytes per group-partition). The consumer-protocol telling reads its
    // groups' events ahead, so those are named first.
    let protocol_events: Vec<LoggedEvent> = super::events::each_logged(w.plan, &w.rec.events)
        .filter(|e| consumer_protocol::is_protocol_group(w, field(e, "group")))
        .collect();
    let mut protocol = consumer_protocol::ProtocolStory::new(w, &protocol_events);
    drop(protocol_events);
    let cluster = cluster::ClusterStory::new(w);
    for (i, e) in super::events::each_logged(w.plan, &w.rec.events).enumerate() {
        let e = &e;
        let told = match e.kind {
            // The cluster's events, bunched by instant (read ahead once).
            _ if cluster.tell(i).is_some() => cluster.tell(i).flatten(),
            // Told with what became of the partitions; a run of rejections once.
            "commit_failed" => rejected.get(&i).cloned().flatten().map(|text| ("commit", text)),
            "seek" | "offsets_reset" => Some(("replay", offsets::moved(w, &w.rec.events[i]))),
            // A consumer-protocol group's own steps first; the rest as any group's.
            _ => match protocol.tell(w, e, &w.rec.events[i], &mut held) {
                Some(told) => told,
                None => tell(w, e, &mut held, &mut out),
            },
        };
        if let Some((step, text)) = told {
            out.push(line(e.time, step, text));
        }
    }
    ending(w, &mut out);
    if declared {
        cluster::cluster_ending(w, &mut out);
    }
    out
}

/// Per consumer name, the partitions it holds as the events so far tell it.
type Held = BTreeMap<String, Vec<String>>;

/// One event's line: its step of the workflow and its text; `None` when another event tells it.
type Told = Option<(&'static str, String)>;

/// One event, told by its family; rebalance_completed pushes its own lines (the assignment,
/// then a line per standby) and tells nothing more.
fn tell(w: &Run, e: &LoggedEvent, held: &mut Held, out: &mut Vec<String>) -> Told {
    let consumer = field(e, "consumer");
    match e.kind {
        "consumer_started" if is_share_group(w, field(e, "group")) => Some((
            "group join",
            format!(
                "consumer {consumer} starts and joins share group {} with a heartbeat (ShareGroupHeartbeat, member epoch 0)",
                field(e, "group")
            ),
        )),
        "share_assignment_computed"
        | "share_assignment"
        | "share_lock_expired"
        | "share_records_released"
        | "records_archived"
        | "share_ack_failed" => Some(share_event(e)),
        "consumer_started" => Some((
            "group join",
            format!(
                "consumer {consumer} starts and asks to join group {} (JoinGroup to the group coordinator)",
                field(e, "group")
            ),
        )),
        "lag_status" => Some(("lag status", lag_status(w, e))),
        "member_joined" => None, // told by consumer_started and the rebalance
        "rebalance_started" | "assignment" | "partitions_revoked" | "rebalance_completed" => {
            rebalance_event(e, held, out)
        }
        "consumer_crashed" | "consumer_hung" | "consumer_resumed" => Some(host_event(w, e, held)),
        "membership_lost" | "member_fenced" | "member_left" | "consumer_stopped" | "poll_timeout" => {
            Some(membership_event(e))
        }
        "offset_out_of_range" => Some(out_of_range(e)),
        "consumer_out_of_memory" => Some((
            "deliver",
            format!(
                "consumer {consumer} runs out of memory holding {} bytes of pushed records (limit {}); it dies",
                e.fields.get("buffered_bytes").cloned().unwrap_or_default(),
                e.fields.get("consumer_memory").cloned().unwrap_or_default()
            ),
        )),
        "consumer_error" => Some(("process", format!("consumer {consumer} fails: {}", field(e, "error")))),
        "action" => action(e),
        "action_ignored" | "action_rejected" => Some((
            "timeline",
            format!("the timeline action on {} is not applied: {}", consumer_or_group(e), field(e, "reason")),
        )),
        kind if kind.starts_with("share") => Some(("shared mode", format!("{kind}: {}", details(e)))),
        kind => Some(("event", format!("{kind}: {}", details(e)))),
    }
}

fn is_share_group(w: &Run, id: &str) -> bool {
    w.plan.groups.iter().any(|g| g.id == id && g.kind == GroupType::Share)
}

/// The consumer's plan, by name, across groups.
fn consumer_plan<'a>(w: &'a Run, name: &str) -> Option<&'a ConsumerPlan> {
    w.plan.groups.iter().flat_map(|g| g.consumers.iter()).find(|c| c.name == name)
}

/// Whether this crash is the consumer dying of the error it logged at the same instant.
fn died_of_error(w: &Run, e: &LoggedEvent, name: &str) -> bool {
    w.rec.events.iter().any(|x| {
        x.time == e.time
            && matches!(&x.what, crate::record::event::What::ConsumerError { consumer, .. }
                if w.plan.consumer_of(*consumer as usize).name == name)
    })
}

/// Whether the consumer's group is on the consumer rebalance protocol (KIP-848).
fn on_consumer_protocol(w: &Run, name: &str) -> bool {
    group_of(w, name).is_some_and(|g| g.protocol == crate::scenario::plan::RebalanceProtocol::Consumer)
}

/// The group of the consumer named `name`.
fn group_of<'a>(w: &'a Run, name: &str) -> Option<&'a crate::scenario::plan::GroupPlan> {
    w.plan.groups.iter().find(|g| g.consumers.iter().any(|c| c.name == name))
}

/// The session timeout that ends a silent member's membership: the consumer's
/// session.timeout.ms, or on the consumer protocol the group's group.consumer.session.timeout.ms.
fn session_timeout(w: &Run, name: &str) -> Option<SimDuration> {
    let g = group_of(w, name)?;
    let c = g.consumers.iter().find(|c| c.name == name)?;
    Some(match g.protocol {
        crate::scenario::plan::RebalanceProtocol::Consumer => g.consumer_protocol.session_timeout,
        _ => c.config.session_timeout,
    })
}

/// A share group's events (KIP-932): its assignment, acquisition locks running out, records
/// given back, archived, or acknowledged too late.
fn share_event(e: &LoggedEvent) -> (&'static str, String) {
    let (group, consumer) = (field(e, "group"), field(e, "consumer"));
    match e.kind {
        "share_assignment_computed" => (
            "shared mode",
            format!(
                "the share coordinator computes {group}'s assignment (SimpleAssignor, group epoch {}): {} members over {} partitions, each partition to ceil(members/partitions) members",
                e.fields.get("group_epoch").cloned().unwrap_or_default(),
                e.fields.get("members").cloned().unwrap_or_default(),
                e.fields.get("partitions").cloned().unwrap_or_default()
            ),
        ),
        "share_assignment" => {
            let parts = list(e.fields.get("partitions"));
            (
                "shared mode",
                if parts.is_empty() {
                    format!("consumer {consumer} has no partition yet (its heartbeat response carried none)")
                } else {
                    format!(
                        "consumer {consumer} now reads {} alongside {group}'s other members there (no revocation round)",
                        join(&parts)
                    )
                },
            )
        }
        "share_lock_expired" => (
            "deliver",
            format!(
                "the acquisition locks of {} records of {} in {group} ran out before they were acknowledged: back to be delivered again ({} archived at the delivery limit)",
                e.fields.get("records").cloned().unwrap_or_default(),
                field(e, "partition"),
                e.fields.get("archived").cloned().unwrap_or_default()
            ),
        ),
        "share_records_released" => (
            "deliver",
            format!(
                "consumer {consumer}'s share session closed ({}): the broker gives back the {} records it held at once",
                field(e, "reason"),
                e.fields.get("records").cloned().unwrap_or_default()
            ),
        ),
        "records_archived" => (
            "process",
            format!(
                "{group} archives records of {}: {} at the delivery limit, {} rejected; they are never delivered again",
                field(e, "partition"),
                e.fields.get("delivery_limit").cloned().unwrap_or_default(),
                e.fields.get("rejected").cloned().unwrap_or_default()
            ),
        ),
        "share_ack_failed" => (
            "process",
            format!(
                "consumer {consumer}'s acknowledgement of {} records of {} is refused: their lock ran out first (they may be processed twice)",
                e.fields.get("records").cloned().unwrap_or_default(),
                field(e, "partition")
            ),
        ),
        other => unreachable!("{other} is not a share event"),
    }
}

/// A consumer group's rebalance: its start, what each member gives up, and the new assignment.
/// Assignments and revocations keep `held` up to date; the assignment itself is told with
/// rebalance_completed, all members at once.
fn rebalance_event(e: &LoggedEvent, held: &mut Held, out: &mut Vec<String>) -> Told {
    let (group, consumer) = (field(e, "group"), field(e, "consumer"));
    match e.kind {
        "rebalance_started" => {
            let reason = field(e, "reason");
            let protocol = field(e, "protocol");
            let pause = if protocol == "eager" {
                "eager protocol: every member gives up all its partitions until the new assignment"
            } else {
                "cooperative protocol: members keep the partitions that do not move"
            };
            Some((
                "rebalance",
                format!(
                    "group {group} starts rebalancing to generation {} ({reason}); {pause}",
                    e.fields.get("generation").cloned().unwrap_or_default()
                ),
            ))
        }
        "assignment" => {
            let parts = list(e.fields.get("partitions"));
            held.insert(consumer.to_string(), parts.clone());
            None // told with rebalance_completed, all members at once
        }
        "partitions_revoked" => {
            let parts = list(e.fields.get("partitions"));
            if let Some(h) = held.get_mut(consumer) {
                h.retain(|p| !parts.contains(p));
            }
            Some(("rebalance", format!("consumer {consumer} gives up {}", join(&parts))))
        }
        "rebalance_completed" => {
            rebalance_completed(e, held, out);
            None
        }
        other => unreachable!("{other} is not a rebalance event"),
    }
}

/// The group is stable: its assignment, how long it read nothing, and a line per standby.
fn rebalance_completed(e: &LoggedEvent, held: &mut Held, out: &mut Vec<String>) {
    let (t, group) = (e.time, field(e, "group"));
    let assigned = e.fields.get("assigned").and_then(|v| v.as_object());
    let mut parts: Vec<String> = Vec::new();
    let mut idle: Vec<String> = Vec::new();
    for (member, ps) in assigned.into_iter().flatten() {
        let ps = list(Some(ps));
        held.insert(member.clone(), ps.clone());
        if ps.is_empty() {
            idle.push(member.clone());
        } else {
            parts.push(format!("{member}: {}", ps.join(" ")));
        }
    }
    let took = e.fields.get("duration_ms").map(|v| format!(" after {v} ms")).unwrap_or_default();
    let mut text = format!(
        "group {group} generation {} is stable{took}; assignment {}",
        e.fields.get("generation").cloned().unwrap_or_default(),
        if parts.is_empty() { "none".to_string() } else { parts.join("; ") }
    );
    if let Some(stw) = e.fields.get("stop_the_world_ms").and_then(|v| v.as_f64()).filter(|v| *v > 0.0) {
        text.push_str(&format!(" (the group read nothing for {stw} ms)"));
    }
    out.push(line(t, "rebalance", text));
    for m in idle {
        out.push(line(
            t,
            "standby",
            format!(
                "consumer {m} is a standby: a live member of {group} with no partition (more members than partitions); it takes over when an owner leaves"
            ),
        ));
    }
}

/// A consumer's host crashes, hangs or resumes: what it strands, and for how long.
fn host_event(w: &Run, e: &LoggedEvent, held: &Held) -> (&'static str, String) {
    let consumer = field(e, "consumer");
    let session = || session_timeout(w, consumer).map(secs).unwrap_or_default();
    match e.kind {
        "consumer_crashed" => {
            let parts = held.get(consumer).cloned().unwrap_or_default();
            let session = session();
            let text = if died_of_error(w, e, consumer) {
                // (What it held, if anything, was told with the error or an earlier crash.)
                format!("consumer {consumer} stops: the exception is fatal, and its application exits")
            } else if parts.is_empty() {
                format!("consumer {consumer} crashed; it held no partition")
            } else {
                format!(
                    "consumer {consumer} crashed; its partitions {} are unread until its session times out ({session})",
                    join(&parts)
                )
            };
            ("rebalance", text)
        }
        "consumer_hung" => {
            let parts = held.get(consumer).cloned().unwrap_or_default();
            let session = session();
            let how_long = match e.fields.get("for_ms").and_then(|v| v.as_f64()) {
                Some(ms) => format!("for {} s", ms / 1000.0),
                None => "until it is restarted".to_string(),
            };
            let held = if parts.is_empty() {
                "it holds no partition".to_string()
            } else {
                format!("its partitions {} are unread", join(&parts))
            };
            (
                "rebalance",
                format!(
                    "consumer {consumer}'s host freezes {how_long}: no heartbeat, no poll, its connections stay open; {held}, and the coordinator fences it if the hang outlasts its session ({session})"
                ),
            )
        }
        "consumer_resumed" => {
            let lost = list(e.fields.get("partitions_lost"));
            let text = if e.fields.get("fenced").and_then(|v| v.as_bool()) == Some(true) {
                let lost = if lost.is_empty() { String::new() } else { format!(" ({} went to others)", join(&lost)) };
                // On the consumer protocol it learns from its heartbeat, sent as it wakes (its
                // interval timer ran out while it was frozen); a classic member from its commit or
                // its heartbeat thread, whichever answers first.
                let learns = if on_consumer_protocol(w, consumer) {
                    "the heartbeat it sends as it wakes is answered UNKNOWN_MEMBER_ID"
                } else {
                    "its commit fails"
                };
                format!(
                    "consumer {consumer} resumes, but it was fenced meanwhile{lost}: {learns} and it rejoins as a new member"
                )
            } else {
                format!("consumer {consumer} resumes where it was; still a member, it keeps its partitions")
            };
            ("rebalance", text)
        }
        other => unreachable!("{other} is not a crash, hang or resume"),
    }
}

/// A member leaves its group: fenced by the coordinator, told it is unknown, leaving or stopping.
fn membership_event(e: &LoggedEvent) -> (&'static str, String) {
    let (group, consumer) = (field(e, "group"), field(e, "consumer"));
    match e.kind {
        "membership_lost" => (
            "rebalance",
            format!("consumer {consumer} learns it is no longer a member (unknown member id) and rejoins"),
        ),
        "member_fenced" => {
            let why = match field(e, "reason") {
                "session_timeout" => "no heartbeat within session.timeout.ms".to_string(),
                "poll_timeout" => "no poll() within max.poll.interval.ms".to_string(),
                other => other.replace('_', " "),
            };
            ("rebalance", format!("the coordinator removes {consumer} from {group} ({why})"))
        }
        "member_left" => ("rebalance", format!("consumer {consumer} leaves {group} (LeaveGroup)")),
        "consumer_stopped" => ("rebalance", format!("consumer {consumer} stops cleanly")),
        "poll_timeout" => (
            "poll",
            format!(
                "consumer {consumer} went longer than max.poll.interval.ms without poll(); it loses its membership"
            ),
        ),
        other => unreachable!("{other} is not a membership event"),
    }
}

/// A position outside the log, and where auto.offset.reset moves it.
fn out_of_range(e: &LoggedEvent) -> (&'static str, String) {
    (
        "replay",
        format!(
            "consumer {}'s position {} on {} is outside the log; auto.offset.reset={} moves it to {}",
            field(e, "consumer"),
            e.fields.get("position").cloned().unwrap_or_default(),
            field(e, "partition"),
            field(e, "auto_offset_reset"),
            e.fields.get("reset_to").cloned().unwrap_or_default()
        ),
    )
}

/// A change of the group's status as Burrow evaluates it, with the rule that decided it.
fn lag_status(w: &Run, e: &LoggedEvent) -> String {
    let (group, status, partition) = (field(e, "group"), field(e, "status"), field(e, "partition"));
    let b = &w.plan.burrow;
    let why = match field(e, "partition_status") {
        "OK" => return format!("Burrow reads group {group} OK again"),
        "STOP" => format!(
            "no commit for longer than its last commits span, and none of the last {} log ends Burrow fetched, one every {}, is at or below its last commit",
            b.intervals, b.offset_refresh
        ),
        "REWIND" => "its committed offset went back and has not come back to where it was".to_string(),
        "STALL" => "the same offset is committed again and again while records wait".to_string(),
        "WARN" => format!(
            "its lag at each of its last {} commits, against the last log end Burrow had fetched, never went down",
            b.intervals
        ),
        other => other.to_string(),
    };
    format!("Burrow now reads group {group} {status}: {partition} is {}; {why}", field(e, "partition_status"))
}

fn consumer_or_group(e: &LoggedEvent) -> &str {
    let c = field(e, "consumer");
    if c.is_empty() { field(e, "group") } else { c }
}

fn details(e: &LoggedEvent) -> String {
    e.fields
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().map_or_else(|| v.to_string(), str::to_string)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn action(e: &LoggedEvent) -> Option<(&'static str, String)> {
    let (consumer, group) = (field(e, "consumer"), field(e, "group"));
    let v = |k: &str| e.fields.get(k).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
    Some(match field(e, "action") {
        "crash" => return None, // told by consumer_crashed, with what it strands
        "start" | "stop" => return None,
        // Told by the broker events they cause (which broker `leader_of` hit, and what came of it).
        "crash_broker" | "stop_broker" | "start_broker" | "isolate_broker" | "slow_broker" => return None,
        "slow" => {
            ("process", format!("consumer {consumer} now takes {}x as long to process each record", v("factor")?))
        }
        "rate" => ("publish", format!("producer {} now publishes {} records/s", v("producer")?, v("rate_per_s")?)),
        "seek" | "reset_offsets" => return None, // told by seek / offsets_reset with the moves
        "pause" if !consumer.is_empty() => (
            "poll",
            format!("consumer {consumer} pauses fetching; poll() keeps it in the group but returns no records"),
        ),
        "resume" if !consumer.is_empty() => ("poll", format!("consumer {consumer} resumes fetching")),
        "pause" => ("publish", format!("producer {} stops publishing", v("producer")?)),
        "resume" => ("publish", format!("producer {} publishes again", v("producer")?)),
        "add_group" => ("subscribe", format!("group {group} is added and subscribes")),
        "add_consumer" => ("group join", format!("consumer {consumer} is added to group {group}")),
        "remove_group" => ("subscribe", format!("group {group} is removed; its consumers stop")),
        "add_partitions" => ("store", format!("topic {} grows to {} partitions", v("topic")?, v("count")?)),
        other => ("timeline", format!("timeline action {other}")),
    })
}

/// Where each group ended: what it polled, was delivered, processed and committed.
fn ending(w: &Run, out: &mut Vec<String>) {
    let end = SimTime::ZERO + w.plan.duration;
    for (gi, g) in w.plan.groups.iter().enumerate() {
        let st = &w.rec.groups[gi];
        let at_end = &w.end.groups[gi];
        let partitions = w.plan.group_partition_ids(gi);
        out.push(line(
            end,
            "poll",
            format!("group {}'s consumers polled {} times ({} returned nothing)", g.id, st.polls, st.empty_polls),
        ));
        out.push(line(
            end,
            "deliver",
            format!(
                "{} records were delivered to {} ({} of them again, after {})",
                st.records_delivered,
                g.id,
                st.redelivered,
                if at_end.share.is_some() {
                    "a release, a lock expiry or a crash"
                } else {
                    "a rebalance, crash or replay"
                }
            ),
        ));
        out.push(line(end, "process", processed(w, gi)));
        if let Some(sg) = &at_end.share {
            let spso: Vec<String> = partitions
                .iter()
                .map(|&p| {
                    let at = sg.partitions[p as usize].as_ref().map_or("-".to_string(), |sp| sp.spso.to_string());
                    format!("{} {at}/{}", w.plan.partition_name(p), w.end.partitions[p as usize].log_end_offset)
                })
                .collect();
            out.push(line(
                end,
                "offset advances",
                format!(
                    "{}'s share-partition start offset (SPSO: every record below it is done) / log end offset per partition: {}",
                    g.id,
                    spso.join(", ")
                ),
            ));
            continue;
        }
        out.push(line(end, "commit", format!("{} committed offsets {} times", g.id, st.commits)));
        let committed: Vec<String> = partitions
            .iter()
            .map(|&p| {
                let c = at_end.committed[p as usize].map_or("-".to_string(), |o| o.to_string());
                format!("{} {c}/{}", w.plan.partition_name(p), w.end.partitions[p as usize].log_end_offset)
            })
            .collect();
        out.push(line(
            end,
            "offset advances",
            format!("{}'s committed offset / log end offset per partition: {}", g.id, committed.join(", ")),
        ));
    }
}

/// What the group processed: records, repeats (duplicates with their causes, as summary.json's
/// `duplicates_by_cause` names them, and replays when there are any) and the median latency.
fn processed(w: &Run, gi: usize) -> String {
    let (st, ledger) = (&w.rec.groups[gi], &w.rec.ledgers[gi]);
    let p50 = if st.latency.records == 0 { "-".to_string() } else { ms(st.latency.p50_ns).to_string() };
    let mut text =
        format!("{} processed {} records ({} duplicates", w.plan.groups[gi].id, st.records_processed, st.duplicates);
    let causes: Vec<String> =
        ledger.duplicates_by_cause.iter().filter(|(_, n)| **n > 0).map(|(c, n)| format!("{c} {n}")).collect();
    if !causes.is_empty() {
        text.push_str(&format!(": {}", causes.join(", ")));
    }
    if ledger.replays > 0 {
        text.push_str(&format!("; {} replays", ledger.replays));
    }
    text.push_str(&format!("); median time from publish to processed {p50} ms"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_minutes_seconds_millis() {
        assert_eq!(clock(SimTime::ZERO), "00:00.000");
        assert_eq!(clock(SimTime::ZERO + SimDuration::from_millis(20_000)), "00:20.000");
        assert_eq!(clock(SimTime::ZERO + SimDuration::from_millis(65_250)), "01:05.250");
    }
}
