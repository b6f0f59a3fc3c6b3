//! The set-up the story opens with: each topic, each producer, and how each group reads
//! (a consumer group's poll loop and commits, or a share group's acquisition and acknowledgements).

use super::{clock, join, line};
use crate::record::run::Run;
use crate::scenario::plan::{ConsumerConfig, Delivery, GroupPlan, GroupType};
use crate::scenario::raw::{CommitMode, OffsetReset};
use crate::sim::SimTime;

/// Each topic: its partitions, and how long its records stay.
pub(super) fn topics_intro(w: &Run, out: &mut Vec<String>) {
    for t in &w.plan.topics {
        let retention = match t.retention {
            Some(r) => format!("records are deleted after {r} (retention.ms)"),
            None => "records are kept for the whole run".to_string(),
        };
        out.push(line(
            SimTime::ZERO,
            "store",
            format!("topic {} has {} partitions; each is an append-only log, {retention}", t.name, t.partitions),
        ));
    }
}

/// Each producer: its rate and its topic.
pub(super) fn producers_intro(w: &Run, out: &mut Vec<String>) {
    for p in &w.plan.producers {
        out.push(line(
            SimTime::ZERO,
            "publish",
            format!(
                "producer {} publishes {} records/s to {}; each record is appended to one partition, which advances that partition's log end offset",
                p.name,
                p.rate,
                w.plan.topics[p.topic].name
            ),
        ));
    }
}

/// A group's subscription, then how it reads: as a share group, or as a consumer group.
pub(super) fn group_intro(w: &Run, g: &GroupPlan, out: &mut Vec<String>) {
    let zero = SimTime::ZERO;
    let topics: Vec<String> = g.topics.iter().map(|&t| w.plan.topics[t].name.clone()).collect();
    let names: Vec<String> = g.consumers.iter().map(|c| c.name.clone()).collect();
    let partitions: u32 = g.topics.iter().map(|&t| w.plan.topics[t].partitions).sum();
    let how = match g.delivery {
        Delivery::Pull => "pulls: each consumer polls the broker for records",
        Delivery::Push => "is pushed to: the broker sends records into each consumer's buffer",
    };
    let when = g.added_at.map_or(String::new(), |t| format!(" (added at {})", clock(SimTime::ZERO + t)));
    out.push(line(
        zero,
        "subscribe",
        format!("group {}{when} subscribes to {} with consumers {}; it {how}", g.id, join(&topics), join(&names)),
    ));
    if g.kind == GroupType::Share {
        share_intro(g, partitions, out);
    } else {
        consumer_group_intro(g, partitions, out);
    }
}

/// How a consumer group reads, told once at the start: one member per partition, where each
/// partition starts, the poll loop and the commits.
fn consumer_group_intro(g: &GroupPlan, partitions: u32, out: &mut Vec<String>) {
    let zero = SimTime::ZERO;
    out.push(line(
        zero,
        "shared mode",
        format!(
            "the {} partitions are shared out among {}'s members, one member per partition; every group gets every record",
            partitions, g.id
        ),
    ));
    if let Some(c) = g.consumers.first().map(|c| &c.config) {
        let start = match c.auto_offset_reset {
            OffsetReset::Earliest => "the log start (auto.offset.reset=earliest)",
            OffsetReset::Latest => "the log end (auto.offset.reset=latest)",
            OffsetReset::None => "nowhere: without one the consumer fails (auto.offset.reset=none)",
        };
        out.push(line(
            zero,
            "offset advances",
            format!("{} starts each partition at its committed offset, or, with none, at {start}", g.id),
        ));
        out.push(line(zero, "poll", poll_loop(g, c)));
        out.push(line(zero, "commit", commit_mode(g, c)));
    }
}

/// How the group's consumers get records: poll() fetching, or taking from the push buffer.
fn poll_loop(g: &GroupPlan, c: &ConsumerConfig) -> String {
    match g.delivery {
        Delivery::Pull => {
            let wait = if c.fetch_max_wait.is_zero() {
                "returning at once when nothing is there (fetch.max.wait.ms=0)".to_string()
            } else {
                format!("waiting up to {} for data (fetch.max.wait.ms)", c.fetch_max_wait)
            };
            format!(
                "{}'s consumers loop on poll(): each call returns up to {} records (max.poll.records) of the partitions they own, {wait}",
                g.id, c.max_poll_records
            )
        }
        Delivery::Push => format!(
            "{}'s consumers take records from their push buffers (up to {} records each) in poll()",
            g.id, g.push.buffer
        ),
    }
}

/// When the group's consumers commit, and what that means for a crash.
fn commit_mode(g: &GroupPlan, c: &ConsumerConfig) -> String {
    match c.commit {
        CommitMode::Auto => format!(
            "{}'s committed offsets advance automatically every {} (enable.auto.commit), so a crash re-reads up to that much",
            g.id, c.auto_commit_interval
        ),
        CommitMode::AfterProcessing => {
            format!("{}'s consumers commit after processing each batch: at-least-once", g.id)
        }
        CommitMode::BeforeProcessing => {
            format!("{}'s consumers commit before processing each batch: at-most-once", g.id)
        }
    }
}

/// How a share group reads, told once at the start.
fn share_intro(g: &crate::scenario::plan::GroupPlan, partitions: u32, out: &mut Vec<String>) {
    let zero = SimTime::ZERO;
    let sp = &g.share;
    out.push(line(
        zero,
        "shared mode",
        format!(
            "{} is a share group (KIP-932): its {} partitions are each read by ceil(members/partitions) members at once, so consumers beyond the partition count work too; records are acquired one fetch at a time under a {} lock",
            g.id,
            partitions,
            sp.lock
        ),
    ));
    let start = match sp.auto_offset_reset {
        crate::scenario::plan::ShareOffsetReset::Earliest => "the log start (share.auto.offset.reset=earliest)",
        crate::scenario::plan::ShareOffsetReset::Latest => "the log end (share.auto.offset.reset=latest)",
    };
    out.push(line(
        zero,
        "offset advances",
        format!(
            "{} starts each partition at {start}; its start offset (SPSO) advances over records acknowledged or archived, and at most {} offsets from it may be in flight",
            g.id, sp.window_limit
        ),
    ));
    if let Some(c) = g.consumers.first().map(|c| &c.config) {
        out.push(line(
            zero,
            "poll",
            format!(
                "{}'s consumers loop on poll(): each ShareFetch acquires up to {} records (max.poll.records), records given back first, waiting up to {} for data",
                g.id, c.max_poll_records, c.fetch_max_wait
            ),
        ));
        let how = match c.share_acknowledgement_mode {
            crate::scenario::plan::ShareAcknowledgementMode::Implicit => {
                "the next poll accepts every record the last one returned (implicit acknowledgement)"
            }
            crate::scenario::plan::ShareAcknowledgementMode::Explicit => {
                "the application accepts, releases or rejects each record, sent with the next poll (explicit acknowledgement)"
            }
        };
        out.push(line(
            zero,
            "commit",
            format!("{}: {how}; a record released or timed out {} times is archived", g.id, sp.delivery_limit),
        ));
    }
}
