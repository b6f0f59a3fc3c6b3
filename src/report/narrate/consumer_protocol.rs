//! The story of a consumer-protocol group (KIP-848): the group epoch moving, the target the
//! coordinator computes and who must give what up, each revocation with its commit and
//! acknowledgement, each member taking what was freed, and the group reconciled. One line per
//! step a user would look for in the coordinator's and the consumers' logs, none per heartbeat.

use super::{Held, Told, field, join, list};
use crate::record::event::{Event, What};
use crate::record::run::Run;
use crate::report::events::LoggedEvent;
use crate::report::num::human_ns;
use crate::scenario::plan::RebalanceProtocol;
use crate::scenario::raw::CommitMode;
use crate::sim::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet};

/// What the story keeps between a consumer-protocol group's events.
#[derive(Default)]
pub(super) struct ProtocolStory {
    /// Per group id and group epoch: why the epoch moved ("c joined").
    reasons: BTreeMap<(String, i64), String>,
    /// Group epochs whose target came at the instant they were bumped (told with the target).
    targeted_at_once: BTreeSet<(String, i64)>,
    /// Per group id: the last group epoch a target was told for.
    last_target: BTreeMap<String, i64>,
    /// Per partition name: when its last owner released it (revoked, left, removed).
    freed: BTreeMap<String, SimTime>,
    /// Per consumer: the partitions its last partitions_revoked gave up, told with its ack.
    revoked: BTreeMap<String, Vec<String>>,
    /// Per group id: whether some member was reading when its rebalance began (a group's first
    /// assignment stops nobody, so it is not said to).
    reading_at_start: BTreeMap<String, bool>,
}

/// Whether group `id` runs the consumer protocol.
pub(super) fn is_protocol_group(w: &Run, id: &str) -> bool {
    w.plan.groups.iter().any(|g| g.id == id && g.protocol == RebalanceProtocol::Consumer)
}

/// The new group epoch an epoch bump announces: rebalance_started's generation, or the one after
/// rebalance_restarted's cancelled generation.
fn bumped_epoch(e: &LoggedEvent) -> Option<i64> {
    match e.kind {
        "rebalance_started" => e.fields.get("generation")?.as_i64(),
        "rebalance_restarted" => Some(e.fields.get("cancelled_generation")?.as_i64()? + 1),
        _ => None,
    }
}

/// A rebalance reason as events.jsonl gives it ("b: leave_group"), in words.
fn reason_words(reason: &str) -> String {
    match reason.split_once(": ") {
        Some((who, "leave_group")) => format!("{who} left"),
        Some((who, "session_timeout")) => format!("{who}'s session timed out"),
        Some((who, "poll_timeout")) => format!("{who} missed max.poll.interval.ms"),
        Some((who, "rebalance_timeout")) => format!("{who} did not revoke within its rebalance timeout"),
        Some((who, why)) => format!("{who}: {}", why.replace('_', " ")),
        None => reason.to_string(),
    }
}

impl ProtocolStory {
    /// Reads ahead once: why each group epoch moved, and which targets came at their bump.
    pub(super) fn new(w: &Run, events: &[LoggedEvent]) -> Self {
        let mut story = ProtocolStory::default();
        let mut targets: BTreeSet<(String, i64, SimTime)> = BTreeSet::new();
        for e in events.iter().filter(|e| is_protocol_group(w, field(e, "group"))) {
            let group = field(e, "group").to_string();
            if let Some(epoch) = bumped_epoch(e) {
                story.reasons.insert((group.clone(), epoch), reason_words(field(e, "reason")));
            }
            if e.kind == "target_assignment"
                && let Some(epoch) = e.fields.get("group_epoch").and_then(|v| v.as_i64())
            {
                targets.insert((group, epoch, e.time));
            }
        }
        for e in events.iter().filter(|e| is_protocol_group(w, field(e, "group"))) {
            if let Some(epoch) = bumped_epoch(e) {
                let group = field(e, "group").to_string();
                if targets.contains(&(group.clone(), epoch, e.time)) {
                    story.targeted_at_once.insert((group, epoch));
                }
            }
        }
        story
    }

    /// One event of a consumer-protocol group; `ev` is its typed record. None when it is not
    /// one this telling covers (the classic telling then takes it).
    pub(super) fn tell(&mut self, w: &Run, e: &LoggedEvent, ev: &Event, held: &mut Held) -> Option<Told> {
        let (group, consumer) = (field(e, "group"), field(e, "consumer"));
        if !is_protocol_group(w, group) {
            return None;
        }
        let told = match e.kind {
            "consumer_started" => Some((
                "group join",
                format!(
                    "consumer {consumer} starts and joins group {group} with a heartbeat at member epoch 0 (ConsumerGroupHeartbeat to the group coordinator)"
                ),
            )),
            "rebalance_started" | "rebalance_restarted" => {
                if e.kind == "rebalance_started" {
                    let members = &w.plan.groups.iter().find(|g| g.id == group)?.consumers;
                    let reading = members.iter().any(|c| held.get(&c.name).is_some_and(|h| !h.is_empty()));
                    self.reading_at_start.insert(group.to_string(), reading);
                }
                self.epoch_bumped(e)
            }
            "target_assignment" => Some(("rebalance", self.target(w, e, ev, held))),
            "partitions_revoked" => {
                let parts = list(e.fields.get("partitions"));
                if let Some(h) = held.get_mut(consumer) {
                    h.retain(|p| !parts.contains(p));
                }
                for p in &parts {
                    self.freed.insert(p.clone(), e.time);
                }
                self.revoked.insert(consumer.to_string(), parts);
                None
            }
            "assignment" => {
                held.insert(consumer.to_string(), list(e.fields.get("partitions")));
                None
            }
            "reconciliation_completed" => self.reconciled(w, e),
            "member_left" | "member_fenced" => {
                // What it held is free from now on (a crashed member's partitions included).
                let had = held.remove(consumer).unwrap_or_default();
                for p in &had {
                    self.freed.insert(p.clone(), e.time);
                }
                self.revoked.remove(consumer);
                Some(("rebalance", gone(w, e, &had)))
            }
            "rebalance_completed" => {
                let reading = self.reading_at_start.get(group).copied().unwrap_or(true);
                Some(("rebalance", completed(e, reading)))
            }
            _ => return None,
        };
        Some(told)
    }

    /// The group epoch moved: told here only when the target waits for a later heartbeat.
    fn epoch_bumped(&self, e: &LoggedEvent) -> Told {
        let group = field(e, "group");
        let epoch = bumped_epoch(e)?;
        if self.targeted_at_once.contains(&(group.to_string(), epoch)) {
            return None;
        }
        let why = self.reasons.get(&(group.to_string(), epoch)).cloned().unwrap_or_default();
        Some((
            "rebalance",
            format!(
                "group {group} moves to group epoch {epoch} ({why}); the coordinator computes the new target at the next member heartbeat"
            ),
        ))
    }

    /// A new target: why the epoch moved, then per member what it gets, keeps and must give up.
    fn target(&mut self, w: &Run, e: &LoggedEvent, ev: &Event, held: &Held) -> String {
        let group = field(e, "group");
        let epoch = e.fields.get("group_epoch").and_then(|v| v.as_i64()).unwrap_or_default();
        let since = self.last_target.insert(group.to_string(), epoch).unwrap_or(0);
        let why: Vec<String> =
            (since + 1..=epoch).filter_map(|ep| self.reasons.get(&(group.to_string(), ep)).cloned()).collect();
        let why = if why.is_empty() { String::new() } else { format!(" ({})", why.join(", ")) };
        let mut moves = Vec::new();
        let mut unmoved = Vec::new();
        let mut revoking = 0;
        for (name, target) in target_by_name(w, ev) {
            let mine = held.get(&name).cloned().unwrap_or_default();
            let new: Vec<String> = target.iter().filter(|p| !mine.contains(p)).cloned().collect();
            let keep: Vec<String> = mine.iter().filter(|p| target.contains(p)).cloned().collect();
            let lose: Vec<String> = mine.iter().filter(|p| !target.contains(p)).cloned().collect();
            let keeps = if keep.is_empty() { "keeps nothing".to_string() } else { format!("keeps {}", join(&keep)) };
            revoking += usize::from(!lose.is_empty());
            moves.push(match (new.is_empty(), lose.is_empty()) {
                (true, true) => {
                    unmoved.push(name);
                    continue;
                }
                (false, true) => format!("{name} gets {}", join(&new)),
                (true, false) => format!("{name} {keeps} and must first give up {}", join(&lose)),
                (false, false) => {
                    format!("{name} {keeps}, must first give up {}, then gets {}", join(&lose), join(&new))
                }
            });
        }
        if !unmoved.is_empty() && !moves.is_empty() {
            moves.push(format!("{} unaffected", join(&unmoved)));
        }
        let learn = match moves.len() - usize::from(!unmoved.is_empty() && !moves.is_empty()) {
            0 => "nothing moves".to_string(),
            1 if revoking > 0 => format!("{} — it learns this at its next heartbeat", moves.join("; ")),
            1 => format!("{} — at its next heartbeat", moves.join("; ")),
            _ => format!("{} — each learns its part at its next heartbeat", moves.join("; ")),
        };
        format!("group {group}, group epoch {epoch}{why}: the coordinator computed a new target: {learn}")
    }

    /// A member applied an assignment: a revocation it acknowledged, or partitions it took.
    fn reconciled(&mut self, w: &Run, e: &LoggedEvent) -> Told {
        let consumer = field(e, "consumer");
        let added = list(e.fields.get("added"));
        let revoked = self.revoked.remove(consumer).unwrap_or_default();
        let took = e.fields.get("took_ms").and_then(|v| v.as_f64()).unwrap_or_default();
        let took = SimDuration((took * 1e6).round() as u64);
        if !revoked.is_empty() && added.is_empty() {
            let keeps = list(e.fields.get("partitions"));
            let keeps = if keeps.is_empty() {
                "it has no partition left".to_string()
            } else {
                format!("it keeps {}", join(&keeps))
            };
            return Some((
                "rebalance",
                format!(
                    "consumer {consumer} revoked {} ({}) and acknowledged; {keeps}",
                    join(&revoked),
                    commit_words(w, consumer)
                ),
            ));
        }
        if added.is_empty() {
            return None; // nothing changed hands: an epoch moving on, told with the target
        }
        let answer = e.time.as_nanos().saturating_sub(took.as_nanos());
        let freed: Vec<SimTime> = added.iter().filter_map(|p| self.freed.remove(p)).collect();
        let when = match (freed.iter().min(), freed.iter().max()) {
            (Some(first), Some(last)) if freed.len() == added.len() => {
                let after = human_ns(answer.saturating_sub(last.as_nanos()));
                if added.len() == 1 {
                    format!(", {after} after it was freed")
                } else if first == last {
                    format!(", {after} after they were freed")
                } else {
                    format!(", {after} after the last of them was freed")
                }
            }
            _ => String::new(),
        };
        let gave_up = if revoked.is_empty() { String::new() } else { format!(" and gave up {}", join(&revoked)) };
        Some((
            "rebalance",
            format!(
                "consumer {consumer} took {} at its next heartbeat{when}{gave_up} (applied {} after the answer; member epoch {})",
                join(&added),
                human_ns(took.as_nanos()),
                e.fields.get("member_epoch").cloned().unwrap_or_default()
            ),
        ))
    }
}

/// The target per consumer name, in member-id order; a consumer with two members (restarted
/// before its old member's session ran out) gets both shares.
fn target_by_name(w: &Run, ev: &Event) -> Vec<(String, Vec<String>)> {
    let What::TargetAssignment { assignment, .. } = &ev.what else { return Vec::new() };
    let mut out: Vec<(String, Vec<u32>)> = Vec::new();
    for (c, ps) in assignment {
        let name = w.plan.consumer_of(*c as usize).name.clone();
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, all)) => {
                all.extend(ps);
                all.sort_unstable();
            }
            None => out.push((name, ps.clone())),
        }
    }
    out.into_iter().map(|(n, ps)| (n, ps.iter().map(|&p| w.plan.partition_name(p)).collect())).collect()
}

/// A member left or was removed, in the consumer protocol's words, with what it freed.
fn gone(w: &Run, e: &LoggedEvent, had: &[String]) -> String {
    let (group, consumer) = (field(e, "group"), field(e, "consumer"));
    let freed = if had.is_empty() { String::new() } else { format!("; {} are free for the next target", join(had)) };
    let session = w.plan.groups.iter().find(|g| g.id == group).map(|g| g.consumer_protocol.session_timeout);
    let why = match field(e, "reason") {
        "session_timeout" => format!(
            "no heartbeat within group.consumer.session.timeout.ms, {}",
            session.map(|s| human_ns(s.as_nanos())).unwrap_or_default()
        ),
        "rebalance_timeout" => {
            "it did not revoke within its rebalance timeout, the max.poll.interval.ms it sent".to_string()
        }
        "poll_timeout" => "it left after missing max.poll.interval.ms".to_string(),
        "leave_group" => "it left with a heartbeat at member epoch -1".to_string(),
        other => other.replace('_', " "),
    };
    if e.kind == "member_left" && field(e, "reason") == "leave_group" {
        format!("consumer {consumer} leaves {group} with a heartbeat at member epoch -1{freed}")
    } else {
        format!("the coordinator removes {consumer} from {group} ({why}){freed}")
    }
}

/// What the member commits before giving partitions up, by its commit mode.
fn commit_words(w: &Run, consumer: &str) -> &'static str {
    match super::consumer_plan(w, consumer).map(|c| c.config.commit) {
        Some(CommitMode::Auto) => "after committing its position",
        Some(CommitMode::AfterProcessing) => "after committing them",
        Some(CommitMode::BeforeProcessing) => "nothing to commit: it commits before processing",
        None => "",
    }
}

/// The group is reconciled: how long it took, whether it ever stopped, and the assignment.
fn completed(e: &LoggedEvent, reading: bool) -> String {
    let group = field(e, "group");
    let took = e.fields.get("duration_ms").and_then(|v| v.as_f64()).unwrap_or_default();
    let took = human_ns((took * 1e6).round() as u64);
    let stw = e.fields.get("stop_the_world_ms").and_then(|v| v.as_f64()).unwrap_or_default();
    let stopped = if stw > 0.0 {
        format!("; the whole group read nothing for {stw} ms")
    } else if reading {
        "; nobody stopped processing: members kept reading what did not move".to_string()
    } else {
        String::new()
    };
    let assigned = e.fields.get("assigned").and_then(|v| v.as_object());
    let parts: Vec<String> = assigned
        .into_iter()
        .flatten()
        .map(|(m, ps)| {
            let ps = list(Some(ps));
            format!("{m}: {}", if ps.is_empty() { "none".to_string() } else { ps.join(" ") })
        })
        .collect();
    format!(
        "group {group} is stable: every member reconciled to group epoch {} in {took}{stopped}; assignment {}",
        e.fields.get("generation").cloned().unwrap_or_default(),
        parts.join("; ")
    )
}
