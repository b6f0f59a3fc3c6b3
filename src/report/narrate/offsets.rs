//! Offsets in the story, told with what came of them: a rejected commit with what became of its
//! partitions (kept, given up with a commit, or read again by their next owner), and a seek or an
//! offset reset with whether the group read the rewound records again before the run ended. The
//! story is written after the run, so it can say what happened instead of what might.

use super::{clock, join};
use crate::record::event::{Event, Move, What};
use crate::record::run::Run;
use crate::scenario::plan::RebalanceProtocol;
use crate::scenario::raw::CommitMode;
use crate::sim::SimTime;
use std::collections::BTreeMap;

/// The rejected commits' lines, by event index: `Some(text)` for the first of a run of
/// rejections (one consumer, one reason, until its assignment or membership changes), `None`
/// for the others of the run, which the first tells.
pub type Rejections = BTreeMap<usize, Option<String>>;

/// Who owns each (group, partition) as the consumers' assignments tell it, and since when.
type Owners = BTreeMap<(usize, u32), (u32, SimTime)>;

/// What became of one partition of a rejected commit.
#[derive(Clone, Debug, PartialEq)]
enum Fate {
    /// The consumer still owns it after the rejections: its next commit covers the records.
    Kept,
    /// Another consumer owned it already, reading from the last accepted commit.
    Gone { to: u32, since: SimTime },
    /// It went to another consumer after the rejections, without a commit of its own.
    Moved { to: u32, at: SimTime },
    /// The consumer gave it up and committed its position as it did (onPartitionsRevoked).
    RevokedCommitted { at: SimTime },
    /// The consumer gave it up without a commit that got through.
    RevokedUncommitted { at: SimTime },
    /// The consumer crashed, hung or was fenced before its next commit.
    Down { at: SimTime, how: &'static str },
    /// The consumer stopped cleanly, committing as it closed.
    Stopped { at: SimTime },
    /// Nothing changed for it before the run ended.
    HeldAtEnd,
}

/// Every rejected commit of the run, told once per run of rejections.
pub fn rejections(w: &Run) -> Rejections {
    let ev = &w.rec.events;
    let group_of: Vec<usize> = (0..w.end.consumers.len()).map(|c| w.plan.group_of(c)).collect();
    let mut owners = Owners::new();
    let mut out = Rejections::new();
    for (i, e) in ev.iter().enumerate() {
        track_owner(&group_of, &mut owners, e);
        let What::CommitFailed { consumer, reason, .. } = &e.what else { continue };
        if out.contains_key(&i) {
            continue; // told with the first of its run
        }
        let run = rejection_run(ev, &group_of, i, *consumer, reason);
        for &j in &run[1..] {
            out.insert(j, None);
        }
        out.insert(i, Some(tell_rejections(w, &group_of, &owners, &run)));
    }
    out
}

/// Keeps `owners` up to date with an assignment or a revocation.
fn track_owner(group_of: &[usize], owners: &mut Owners, e: &Event) {
    match &e.what {
        What::Assignment { consumer, partitions } => {
            let g = group_of[*consumer as usize];
            let kept = sorted(partitions);
            drop_owned(owners, g, *consumer, |p| kept.binary_search(&p).is_err());
            for &p in partitions {
                let entry = owners.entry((g, p)).or_insert((*consumer, e.time));
                if entry.0 != *consumer {
                    *entry = (*consumer, e.time);
                }
            }
        }
        What::PartitionsRevoked { consumer, partitions } => {
            let g = group_of[*consumer as usize];
            let revoked = sorted(partitions);
            drop_owned(owners, g, *consumer, |p| revoked.binary_search(&p).is_ok());
        }
        _ => {}
    }
}

fn sorted(partitions: &[u32]) -> Vec<u32> {
    let mut v = partitions.to_vec();
    v.sort_unstable();
    v
}

/// Forgets the partitions of group `g` that `consumer` owns and `gone` picks. Only the group's
/// own entries are looked at, and a partition is found in a sorted list: over all groups, and
/// with a linear search in the event's list, 300 groups x 10,000 partitions took a fifth of
/// `kafkasim run`'s time.
fn drop_owned(owners: &mut Owners, g: usize, consumer: u32, gone: impl Fn(u32) -> bool) {
    let drop: Vec<(usize, u32)> = owners
        .range((g, 0)..=(g, u32::MAX))
        .filter(|&(&(_, p), &(o, _))| o == consumer && gone(p))
        .map(|(&k, _)| k)
        .collect();
    for k in drop {
        owners.remove(&k);
    }
}

/// The consumer an event is about, for the events that change what it owns or whether it runs.
fn consumer_of(what: &What) -> Option<u32> {
    match what {
        What::Assignment { consumer, .. }
        | What::PartitionsRevoked { consumer, .. }
        | What::ConsumerStarted { consumer, .. }
        | What::ConsumerCrashed { consumer }
        | What::ConsumerStopped { consumer }
        | What::ConsumerHung { consumer, .. }
        | What::ConsumerResumed { consumer, .. }
        | What::MemberRemoved { consumer, .. }
        | What::MembershipLost { consumer }
        | What::PollTimeout { consumer, .. }
        | What::CommitFailed { consumer, .. } => Some(*consumer),
        _ => None,
    }
}

/// The indices of the rejections that go with the one at `first`: the same consumer's commits
/// rejected for the same reason, until something changes what it owns or whether it runs, or
/// its group's rebalance ends.
fn rejection_run(ev: &[Event], group_of: &[usize], first: usize, c: u32, reason: &str) -> Vec<usize> {
    let g = group_of[c as usize];
    let mut run = vec![first];
    for (j, e) in ev.iter().enumerate().skip(first + 1) {
        match &e.what {
            What::CommitFailed { consumer, reason: r, .. } if *consumer == c && *r == reason => run.push(j),
            other if consumer_of(other) == Some(c) => break,
            What::RebalanceCompleted(rc) if rc.group as usize == g => break,
            What::RebalanceAbandoned { group, .. } if *group as usize == g => break,
            _ => {}
        }
    }
    run
}

/// The line for a run of rejections: the first, how many more until when, then what became of
/// the partitions.
fn tell_rejections(w: &Run, group_of: &[usize], owners: &Owners, run: &[usize]) -> String {
    let ev = &w.rec.events;
    let What::CommitFailed { consumer: c, reason, .. } = &ev[run[0]].what else { unreachable!("a rejection") };
    let mut parts: Vec<u32> = run
        .iter()
        .flat_map(|&j| match &ev[j].what {
            What::CommitFailed { partitions, .. } => partitions.clone(),
            _ => Vec::new(),
        })
        .collect();
    parts.sort_unstable();
    parts.dedup();
    let names = |ps: &[u32]| join(&ps.iter().map(|&p| w.plan.partition_name(p)).collect::<Vec<_>>());
    let name = &w.plan.consumer_of(*c as usize).name;
    let mut text = format!("consumer {name}'s commit of {} is rejected ({})", names(&parts), reason.replace('_', " "));
    if run.len() > 1 {
        let last = ev[run[run.len() - 1]].time;
        text.push_str(&format!(", and so are its next {} commits, until {}", run.len() - 1, clock(last)));
    }
    let mut fates: Vec<(Fate, Vec<u32>)> = Vec::new();
    for &p in &parts {
        let fate = fate(w, group_of, (*c, p), owners, run[run.len() - 1]);
        match fates.iter_mut().find(|(f, _)| *f == fate) {
            Some((_, ps)) => ps.push(p),
            None => fates.push((fate, vec![p])),
        }
    }
    let at_most_once = w.plan.consumer_of(*c as usize).config.commit == CommitMode::BeforeProcessing;
    if at_most_once {
        text.push_str("; it drops the batch unprocessed (at-most-once)");
    }
    for (fate, ps) in fates {
        text.push_str("; ");
        text.push_str(&tell_fate(w, name, &names(&ps), &fate, at_most_once));
    }
    text
}

/// What became of partition `p` of consumer `c` after its rejections, the last at event `last`.
fn fate(w: &Run, group_of: &[usize], (c, p): (u32, u32), owners: &Owners, last: usize) -> Fate {
    let g = group_of[c as usize];
    if let Some(&(to, since)) = owners.get(&(g, p)).filter(|(o, _)| *o != c) {
        return Fate::Gone { to, since };
    }
    let ev = &w.rec.events;
    for (j, e) in ev.iter().enumerate().skip(last + 1) {
        let at = e.time;
        match &e.what {
            What::Assignment { consumer, partitions } if *consumer == c => {
                return if partitions.contains(&p) { Fate::Kept } else { Fate::RevokedUncommitted { at } };
            }
            What::Assignment { consumer, partitions }
                if partitions.contains(&p) && group_of[*consumer as usize] == g =>
            {
                return Fate::Moved { to: *consumer, at };
            }
            // A rebalance that leaves it with `c` (cooperative members get no new assignment
            // when theirs does not change).
            What::RebalanceCompleted(rc)
                if rc.group as usize == g && rc.assigned.iter().any(|(m, ps)| *m == c && ps.contains(&p)) =>
            {
                return Fate::Kept;
            }
            What::PartitionsRevoked { consumer, partitions } if *consumer == c && partitions.contains(&p) => {
                return revoked(w, (c, p), j, at);
            }
            What::ConsumerCrashed { consumer } if *consumer == c => return Fate::Down { at, how: "crashes" },
            What::ConsumerHung { consumer, .. } if *consumer == c => return Fate::Down { at, how: "hangs" },
            What::MemberRemoved { consumer, fenced: true, .. } if *consumer == c => {
                return Fate::Down { at, how: "is fenced" };
            }
            What::ConsumerStopped { consumer } if *consumer == c => return Fate::Stopped { at },
            _ => {}
        }
    }
    Fate::HeldAtEnd
}

/// A revocation at event `j`: did consumer `c` commit `p` as it gave it up? Eager consumers
/// commit on revocation unless they commit before processing; cooperative ones only when they
/// commit after processing (auto-commit committed before the JoinGroup). A commit of `p`
/// rejected before the consumer's next change did not get through.
fn revoked(w: &Run, (c, p): (u32, u32), j: usize, at: SimTime) -> Fate {
    let commit = w.plan.consumer_of(c as usize).config.commit;
    let commits = match w.plan.groups[w.plan.group_of(c as usize)].protocol {
        RebalanceProtocol::Eager => commit != CommitMode::BeforeProcessing,
        RebalanceProtocol::Cooperative => commit == CommitMode::AfterProcessing,
        // Auto-commit commits synchronously before revoking; the listener of an after-processing
        // consumer commits what it gives up.
        RebalanceProtocol::Consumer => commit != CommitMode::BeforeProcessing,
    };
    let rejected = w.rec.events[j + 1..]
        .iter()
        .take_while(|e| matches!(e.what, What::CommitFailed { .. }) || consumer_of(&e.what) != Some(c))
        .any(|e| matches!(&e.what, What::CommitFailed { consumer, partitions, .. } if *consumer == c && partitions.contains(&p)));
    if commits && !rejected { Fate::RevokedCommitted { at } } else { Fate::RevokedUncommitted { at } }
}

/// One fate in words, for the partitions `ps` of consumer `name`.
fn tell_fate(w: &Run, name: &str, ps: &str, fate: &Fate, at_most_once: bool) -> String {
    let who = |c: u32| w.plan.consumer_of(c as usize).name.clone();
    let again = if at_most_once {
        "so it processes the dropped records".to_string()
    } else {
        format!("so the records {name} processed past it are processed twice")
    };
    match fate {
        Fate::Kept if at_most_once => {
            format!("it keeps {ps}, and its next commit passes over the dropped records unprocessed")
        }
        Fate::Kept => format!("it keeps {ps}; its next commit covers them, so nothing is read again"),
        Fate::Gone { to, since } => format!(
            "{} has owned {ps} since {}, reading from the last accepted commit, {again}",
            who(*to),
            clock(*since)
        ),
        Fate::Moved { to, at } => {
            format!("{ps} goes to {} at {}, which reads from the last accepted commit, {again}", who(*to), clock(*at))
        }
        Fate::RevokedCommitted { at } => format!(
            "it gives up {ps} at {} and commits its position as it does (onPartitionsRevoked): nothing is read again",
            clock(*at)
        ),
        Fate::RevokedUncommitted { at } => format!(
            "it gives up {ps} at {} without a commit that gets through: their next owner starts from the last accepted commit",
            clock(*at)
        ),
        Fate::Down { at, how } => format!(
            "{name} {how} at {} before its next commit: the next owner of {ps} starts from the last accepted commit",
            clock(*at)
        ),
        Fate::Stopped { at } => format!("{name} stops at {} and commits {ps} as it closes", clock(*at)),
        Fate::HeldAtEnd => format!("it still holds {ps} when the run ends"),
    }
}

/// Seek or reset moves, each with whether the group read the rewound records again by the end
/// (its final committed offset is back where the move started) or how far it got.
pub fn moves(w: &Run, g: usize, moves: &[Move]) -> String {
    let group = &w.plan.groups[g].id;
    let m: Vec<String> = moves
        .iter()
        .map(|mv| {
            let (from, to) = (mv.from, mv.to);
            let how = if to < from {
                match w.end.groups[g].committed[mv.partition as usize] {
                    Some(c) if c >= from => {
                        format!(
                            "back {} records, all read again: {group}'s committed offset is at {c} by the end",
                            from - to
                        )
                    }
                    Some(c) if c > to => format!(
                        "back {} records, {} of them read again by the end: {group}'s committed offset ends at {c}",
                        from - to,
                        c - to
                    ),
                    _ => format!("back {} records; {group} commits none of them again before the run ends", from - to),
                }
            } else if to > from {
                format!("forward {} records, which are skipped", to - from)
            } else {
                "unchanged".to_string()
            };
            format!("{} {from} -> {to} ({how})", w.plan.partition_name(mv.partition))
        })
        .collect();
    if m.is_empty() { "no partition moved".to_string() } else { m.join("; ") }
}

/// A seek or an offset reset, with its moves.
pub fn moved(w: &Run, e: &Event) -> String {
    match &e.what {
        What::Seek { consumer, moves: m } => {
            let c = *consumer as usize;
            format!("consumer {} seeks: {}", w.plan.consumer_of(c).name, moves(w, w.plan.group_of(c), m))
        }
        What::OffsetsReset { group, moves: m } => {
            let g = *group as usize;
            format!("group {}'s committed offsets are reset: {}", w.plan.groups[g].id, moves(w, g, m))
        }
        other => unreachable!("{} moves no offset", other.kind()),
    }
}
