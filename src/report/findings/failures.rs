//! Failures and what they left unread: a consumer that crashed, hung, timed out its poll or ran
//! out of memory, and a rebalance the run ended in the middle of.

use super::{About, Finding, Names, ms_value, plural};
use crate::record::event::{RebalanceReason, What};
use crate::record::run::{ConsumerState, Run};
use crate::report::num::{count, human_ns};
use crate::scenario::plan::RebalanceProtocol;
use crate::sim::SimTime;
use serde_json::json;
use std::collections::BTreeMap;

/// The partitions consumer `c` of group `gi` owned just before `t` (what a failure at `t` took
/// from it), from the recorded ownership changes.
pub(super) fn owned_before(w: &Run, gi: usize, c: usize, t: SimTime) -> Vec<u32> {
    let mut owner: BTreeMap<u32, u32> = BTreeMap::new();
    for o in w.rec.ownership.iter().filter(|o| o.group as usize == gi) {
        if o.time < t || (o.time == t && o.owner == c as u32) {
            owner.insert(o.partition, o.owner);
        }
    }
    owner.into_iter().filter(|&(_, who)| who == c as u32).map(|(p, _)| p).collect()
}

/// The first fetch of `p` in group `gi` after `t`: when and by whom.
fn next_fetch(w: &Run, gi: usize, p: u32, t: SimTime) -> Option<(SimTime, usize)> {
    w.rec
        .first_fetches
        .iter()
        .find(|f| f.group as usize == gi && f.partition == p && f.time > t)
        .map(|f| (f.time, f.consumer as usize))
}

/// What failed, when, and in what words.
fn failure(what: &What) -> Option<(usize, &'static str)> {
    match what {
        What::ConsumerCrashed { consumer } => Some((*consumer as usize, "crashed")),
        What::ConsumerHung { consumer, .. } => Some((*consumer as usize, "hung")),
        What::PollTimeout { consumer, .. } => Some((*consumer as usize, "missed max_poll_interval_ms")),
        What::ConsumerOutOfMemory { consumer, .. } => Some((*consumer as usize, "ran out of memory")),
        _ => None,
    }
}

/// `unowned`: a consumer failed, and the partitions it owned sat unread until their next owner
/// (or itself, back from a hang) fetched them, or to the end.
pub(super) fn unowned(w: &Run, gi: usize, out: &mut Vec<Finding>) {
    let names = Names(w);
    let mut last: Option<(usize, SimTime)> = None;
    for ev in &w.rec.events {
        let Some((c, how)) = failure(&ev.what) else { continue };
        // One failure, one finding: running out of memory is logged as a crash right after it.
        if w.plan.group_of(c) != gi || last.replace((c, ev.time)) == Some((c, ev.time)) {
            continue;
        }
        let partitions = owned_before(w, gi, c, ev.time);
        if partitions.is_empty() {
            continue;
        }
        let fetches: Vec<Option<(SimTime, usize)>> =
            partitions.iter().map(|&p| next_fetch(w, gi, p, ev.time)).collect();
        let to = fetches.iter().try_fold(ev.time, |acc, f| f.map(|(t, _)| acc.max(t)));
        let end = SimTime::ZERO + w.plan.duration;
        let unread = to.unwrap_or(end).as_nanos() - ev.time.as_nanos();
        let mut readers: Vec<usize> = fetches.iter().flatten().map(|&(_, r)| r).collect();
        readers.sort_unstable();
        readers.dedup();
        let them = if partitions.len() == 1 { "it" } else { "them" };
        let how_long = match to {
            Some(t) => {
                // Each partition waited for its own next fetch: the first and the last, if apart.
                let first = fetches.iter().flatten().map(|&(f, _)| f).min().unwrap_or(t);
                if first < t {
                    format!(
                        "for up to {}, until {} fetched {them} between {} and {}",
                        human_ns(unread),
                        names.consumers(&readers),
                        at(first),
                        at(t)
                    )
                } else {
                    format!("for {}, until {} fetched {them} at {}", human_ns(unread), names.consumers(&readers), at(t))
                }
            }
            None if readers.is_empty() => {
                format!("for {}, to the end of the run: no one fetched {them} again", human_ns(unread))
            }
            None => format!(
                "for {}, to the end of the run: {} had no reader again",
                human_ns(unread),
                partly(&partitions, &fetches, &names)
            ),
        };
        let text = format!(
            "{} {how} at {}{}: {} ({}) sat unread {how_long}.",
            names.consumer(c),
            at(ev.time),
            noticed(w, c, ev.time),
            plural(partitions.len(), "partition"),
            names.partitions(&partitions),
        );
        out.push(Finding {
            kind: "unowned",
            about: About::Group(gi),
            consumers: vec![c],
            partitions,
            from: ev.time,
            to,
            figure: "unread_ms",
            value: ms_value(unread),
            text,
        });
    }
}

/// The partitions no one fetched again, in words.
fn partly(partitions: &[u32], fetches: &[Option<(SimTime, usize)>], names: &Names) -> String {
    let left: Vec<u32> = partitions.iter().zip(fetches).filter(|(_, f)| f.is_none()).map(|(&p, _)| p).collect();
    names.partitions(&left)
}

/// An instant for people: "at 20.0 s".
pub(super) fn at(t: SimTime) -> String {
    human_ns(t.as_nanos())
}

/// `rebalance_in_progress_at_end`: the run ended while the group rebalanced; the partitions with
/// no owner, and what the coordinator waits for.
pub(super) fn rebalance_in_progress(w: &Run, gi: usize, out: &mut Vec<Finding>) {
    let Some(rb) = &w.end.groups[gi].rebalance else { return };
    let names = Names(w);
    let owned: Vec<u32> = w.plan.group_consumer_ids(gi).flat_map(|c| w.end.consumers[c].partitions.clone()).collect();
    let partitions: Vec<u32> = w
        .plan
        .group_partition_ids(gi)
        .into_iter()
        .filter(|p| w.end.partitions[*p as usize].exists && !owned.contains(p))
        .collect();
    let end = SimTime::ZERO + w.plan.duration;
    let waits = if rb.state == "CompletingRebalance" {
        "the members' SyncGroup requests".to_string()
    } else if w.plan.groups[gi].protocol == RebalanceProtocol::Consumer {
        // KIP-848 has no join phase: the coordinator waits for members to reconcile, each at
        // its own heartbeats (a crashed one until its session ends).
        let who: Vec<usize> = rb.waiting_for.iter().map(|&(c, _)| c as usize).collect();
        match rb.state {
            "Assigning" => "a member's heartbeat to compute the new target".to_string(),
            _ if who.is_empty() => "its members to reconcile".to_string(),
            _ => format!("{} to reconcile to the target at their next heartbeats", names.consumers(&who)),
        }
    } else {
        let who: Vec<String> = rb
            .waiting_for
            .iter()
            .map(|&(c, deadline)| {
                let back =
                    !matches!(w.end.consumers[c as usize].state, ConsumerState::Crashed | ConsumerState::Stopped);
                match deadline {
                    Some(t) if back => format!(
                        "the silent member {} left behind when it failed (its session ends at {})",
                        names.consumer(c as usize),
                        at(t)
                    ),
                    Some(t) => format!("{}, silent (its session ends at {})", names.consumer(c as usize), at(t)),
                    None => format!("{} to rejoin", names.consumer(c as usize)),
                }
            })
            .collect();
        if who.is_empty() { "its join phase to close".to_string() } else { who.join("; ") }
    };
    let unowned = if partitions.is_empty() {
        "every partition still had its owner".to_string()
    } else {
        format!("{} ({}) had no owner", plural(partitions.len(), "partition"), names.partitions(&partitions))
    };
    let text = format!(
        "A rebalance that began at {} ({}) was still in progress when the run ended at {}: {unowned}; the coordinator waits for {waits}.",
        at(rb.started),
        reason(&rb.reason, &names),
        at(end),
    );
    let consumers = rb.waiting_for.iter().map(|&(c, _)| c as usize).collect();
    out.push(Finding {
        kind: "rebalance_in_progress_at_end",
        about: About::Group(gi),
        consumers,
        partitions,
        from: rb.started,
        to: None,
        figure: "in_progress_ms",
        value: ms_value(end.as_nanos() - rb.started.as_nanos()),
        text,
    });
}

/// Why a rebalance began, in words.
fn reason(r: &RebalanceReason, names: &Names) -> String {
    match r {
        RebalanceReason::JoinedEmpty(c) | RebalanceReason::Joined(c) => {
            format!("{} joined", names.consumer(*c as usize))
        }
        RebalanceReason::Rejoined(c) | RebalanceReason::StaticRejoined(c) => {
            format!("{} rejoined", names.consumer(*c as usize))
        }
        RebalanceReason::MemberGone { consumer, reason } => {
            format!("{} left: {}", names.consumer(*consumer as usize), reason.replace('_', " "))
        }
        RebalanceReason::PartitionsGrew { topic, count } => {
            format!("topic {} grew to {count} partitions", names.0.plan.topics[*topic].name)
        }
    }
}

/// `poll_timeout`: a consumer did not poll within max_poll_interval_ms; its batch's processing
/// time says why.
pub(super) fn poll_timeouts(w: &Run, gi: usize, out: &mut Vec<Finding>) {
    let names = Names(w);
    for ev in &w.rec.events {
        let What::PollTimeout { consumer, last_poll, batch_records, batch_processing } = ev.what else { continue };
        let c = consumer as usize;
        if w.plan.group_of(c) != gi {
            continue;
        }
        let limit = w.plan.consumer_of(c).config.max_poll_interval;
        let why = if batch_records > 0 {
            format!(
                "its batch of {} records takes {} to process (from {}), longer than max_poll_interval_ms {} ({})",
                count(batch_records),
                human_ns(batch_processing.as_nanos()),
                at(last_poll),
                limit.as_millis(),
                human_ns(limit.as_nanos()),
            )
        } else {
            format!(
                "it had not polled since {}, and max_poll_interval_ms is {} ({})",
                at(last_poll),
                limit.as_millis(),
                human_ns(limit.as_nanos())
            )
        };
        let gone = if w.plan.consumer_of(c).group_instance_id.is_some() {
            "it stops heartbeating and keeps its partitions until its session ends or it rejoins"
        } else {
            "it leaves the group, its partitions go to the others, and its commit for the batch will be rejected"
        };
        out.push(Finding {
            kind: "poll_timeout",
            about: About::Group(gi),
            consumers: vec![c],
            partitions: Vec::new(),
            from: last_poll,
            to: Some(ev.time),
            figure: "batch_processing_ms",
            value: ms_value(batch_processing.as_nanos()),
            text: format!("{} missed its poll deadline at {}: {why}; {gone}.", names.consumer(c), at(ev.time)),
        });
    }
}

/// `out_of_memory`: a push consumer's buffer outgrew its memory and the consumer died.
pub(super) fn out_of_memory(w: &Run, gi: usize, out: &mut Vec<Finding>) {
    let names = Names(w);
    for ev in &w.rec.events {
        let What::ConsumerOutOfMemory { consumer, buffered_bytes, consumer_memory } = ev.what else { continue };
        let c = consumer as usize;
        if w.plan.group_of(c) != gi {
            continue;
        }
        let partitions = owned_before(w, gi, c, ev.time);
        out.push(Finding {
            kind: "out_of_memory",
            about: About::Group(gi),
            consumers: vec![c],
            partitions,
            from: ev.time,
            to: None,
            figure: "buffered_bytes",
            value: json!(buffered_bytes),
            text: format!(
                "{} died of out of memory at {}: the broker pushed faster than it processed, and its push buffer reached {} bytes against consumer_memory {}.",
                names.consumer(c),
                at(ev.time),
                count(buffered_bytes),
                count(consumer_memory),
            ),
        });
    }
}

/// When the coordinator next removed consumer `c`'s member, at or after `t`.
fn removed_at(w: &Run, c: usize, t: SimTime) -> Option<SimTime> {
    w.rec.events.iter().filter(|e| e.time >= t).find_map(|e| match &e.what {
        What::MemberRemoved { consumer, .. } if *consumer as usize == c => Some(e.time),
        _ => None,
    })
}

/// How the group learned of a failure: the coordinator removing the member (a crash is seen only
/// when its session times out), or the consumer resuming from its hang.
fn noticed(w: &Run, c: usize, t: SimTime) -> String {
    // A consumer-protocol group's session is the broker's group.consumer.session.timeout.ms,
    // not the consumer's session.timeout.ms (KIP-848 ignores it).
    let group = &w.plan.groups[w.plan.group_of(c)];
    let setting = group.session_setting();
    let timeout = match group.protocol {
        RebalanceProtocol::Consumer => group.consumer_protocol.session_timeout,
        _ => w.plan.consumer_of(c).config.session_timeout,
    };
    w.rec
        .events
        .iter()
        .filter(|e| e.time >= t)
        .find_map(|e| match &e.what {
            What::MemberRemoved { consumer, reason, .. } if *consumer as usize == c => Some(match *reason {
                "session_timeout" => format!(
                    " and the coordinator removed it at {}, when its session ran out ({setting} {} after its last heartbeat)",
                    at(e.time),
                    timeout.as_millis()
                ),
                r => format!(" and the coordinator removed it at {} ({})", at(e.time), r.replace('_', " ")),
            }),
            What::ConsumerResumed { consumer, .. } if *consumer as usize == c => {
                Some(format!(" and resumed at {}", at(e.time)))
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// `consumer_error`: the application died of an exception the client throws from poll() and no
/// retry helps (auto_offset_reset none with no offset; on the consumer protocol, a static member
/// restarted while its old member still holds its group_instance_id: UNRELEASED_INSTANCE_ID,
/// fatal in the Java client). Told even when it owned nothing (the restart case): otherwise the
/// run's only trace of it is a consumer that is down at the end.
pub(super) fn consumer_errors(w: &Run, gi: usize, out: &mut Vec<Finding>) {
    let names = Names(w);
    for ev in &w.rec.events {
        let What::ConsumerError { consumer, error } = &ev.what else { continue };
        let c = *consumer as usize;
        if w.plan.group_of(c) != gi {
            continue;
        }
        let class = error.split(':').next().unwrap_or(error);
        let why = if class == "UnreleasedInstanceIdException" {
            let until = match removed_at(w, c, ev.time) {
                Some(t) => format!("until {}", at(t)),
                None => "to the end of the run".into(),
            };
            format!(
                " (it restarted before its old member left or its session ran out, and the coordinator refuses a \
                 group_instance_id its old member still holds: that member kept it, and its partitions, {until})"
            )
        } else {
            String::new()
        };
        let after = w.rec.events.iter().filter(|e| e.time > ev.time).find_map(|e| match &e.what {
            What::ConsumerStarted { consumer, .. } if *consumer as usize == c => Some(e.time),
            _ => None,
        });
        let then = match after {
            Some(t) => format!("it was started again at {}", at(t)),
            None => "it was not started again".into(),
        };
        out.push(Finding {
            kind: "consumer_error",
            about: About::Group(gi),
            consumers: vec![c],
            partitions: owned_before(w, gi, c, ev.time),
            from: ev.time,
            to: after,
            figure: "error",
            value: json!(class),
            text: format!(
                "{} failed at {} with {error}{why}; the exception is fatal to the consumer, so it stopped, and {then}.",
                names.consumer(c),
                at(ev.time),
            ),
        });
    }
}
