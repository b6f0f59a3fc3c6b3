//! Invariants checked after every event in tests and debug builds. A failure is a simulator bug,
//! so it panics with the time and what broke.

use crate::kafka::client::RunState;
use crate::kafka::coordinator::Group;
use crate::kafka::world::World;
use crate::scenario::plan::{CommitMode, Delivery, PushOverflow};

impl World {
    /// Panics, naming the time and what broke, when the state breaks an invariant.
    pub(crate) fn assert_invariants(&self) {
        check(self)
    }
}

fn check(w: &World) {
    if let Some(cl) = w.cluster.as_deref() {
        cl.check(w.kernel.now(), &w.broker.partitions);
    }
    for (gi, g) in w.groups.iter().enumerate() {
        if g.is_share() {
            check_share(w, gi, g);
        } else {
            check_members(w, gi, g);
            check_partitions(w, gi, g);
        }
        if let crate::kafka::coordinator::Coordinator::Protocol(pg) = &g.coordinator {
            check_protocol(w, g, pg);
        }
    }
}

/// Each partition is owned by at most one member of the group, and the coordinator's record of
/// the owner agrees with the member's own view; no position is past its log end; a stopped
/// consumer owns nothing.
fn check_members(w: &World, gi: usize, g: &Group) {
    let now = w.kernel.now();
    let mut seen: Vec<Option<usize>> = vec![None; w.broker.partitions.len()];
    for &c in &g.consumers {
        let con = &w.consumers[c];
        for o in &con.owned {
            let p = o.partition as usize;
            if let Some(other) = seen[p] {
                panic!(
                    "invariant at {now:?}: {} owned by both {} and {} in group {}",
                    w.partition_name(o.partition),
                    w.consumers[other].name,
                    con.name,
                    g.id
                );
            }
            seen[p] = Some(c);
            assert_eq!(
                g.offsets().owner(p as u32),
                Some(c),
                "invariant at {now:?}: owner record of partition {p} in group {gi}"
            );
            let leo = w.broker.partitions[p].log.log_end_offset();
            assert!(o.position <= leo, "invariant at {now:?}: {} position {} past log end {leo}", con.name, o.position);
        }
        if con.state == RunState::Stopped {
            assert!(con.owned.is_empty(), "invariant at {now:?}: stopped consumer {} owns partitions", con.name);
        }
        // A fetch parked for the consumer watches what it owns: those did not change since.
        if let Some((_, owned)) = w.broker.purgatory.parked(c) {
            assert_eq!(
                owned,
                con.owned.len(),
                "invariant at {now:?}: {} parked, then its partitions changed",
                con.name
            );
        }
    }
}

/// At-least-once: a group whose consumers all commit after processing never commits past a
/// record it did not process; no committed offset is past the log end; the coordinator's owner
/// record is never stale.
fn check_partitions(w: &World, gi: usize, g: &Group) {
    let now = w.kernel.now();
    // (A pushing broker that drops on a full buffer loses records by design.)
    let gp = &w.plan.groups[gi];
    let drops = gp.delivery == Delivery::Push && gp.push.overflow == PushOverflow::Drop;
    let at_least_once =
        !drops && g.consumers.iter().all(|&c| w.consumers[c].config.commit == CommitMode::AfterProcessing);
    for &p in &g.partitions {
        // An unclean election cut committed records: Kafka leaves committed offsets past the new
        // log end (a restarted consumer gets OFFSET_OUT_OF_RANGE), and what was read is gone.
        let cut = w.cluster.as_deref().is_some_and(|cl| cl.parts[p as usize].unclean_cut);
        if at_least_once && !cut {
            let ledger = &w.rec.ledgers[gi];
            let lost = ledger.lost(p, g.offsets().committed(p));
            assert!(
                lost <= ledger.skipped(p),
                "invariant at {now:?}: group {} committed past {lost} unprocessed records of {} (skipped on purpose: {})",
                g.id,
                w.partition_name(p),
                ledger.skipped(p)
            );
        }
        let leo = w.broker.partitions[p as usize].log.log_end_offset();
        if let Some(c) = g.offsets().committed(p).filter(|_| !cut) {
            assert!(
                c <= leo,
                "invariant at {now:?}: group {} committed {c} past log end {leo} of {}",
                g.id,
                w.partition_name(p)
            );
        }
        if let Some(owner) = g.offsets().owner(p) {
            assert!(w.consumers[owner].owns(p), "invariant at {now:?}: stale owner record for {}", w.partition_name(p));
        }
    }
}

/// Share groups: every share-partition's own invariants (SPSO never passes a non-terminal record;
/// no delivery count above the limit); each acquired record is held by exactly one member, a
/// running consumer of the group (a closed or killed member's session released its records); the
/// window never reaches past the log end.
fn check_share(w: &World, gi: usize, g: &Group) {
    let now = w.kernel.now();
    for &p in &g.partitions {
        let Some(sp) = &w.broker.share_parts(gi)[p as usize] else { continue };
        if let Err(e) = sp.check() {
            panic!("invariant at {now:?}: share group {} partition {}: {e}", g.id, w.partition_name(p));
        }
        let leo = w.broker.partitions[p as usize].log.log_end_offset();
        assert!(
            sp.window_end() <= leo.max(sp.spso()),
            "invariant at {now:?}: share group {} window of {} ends at {} past log end {leo}",
            g.id,
            w.partition_name(p),
            sp.window_end()
        );
        for (off, owner) in sp.owners() {
            let c = owner as usize;
            assert!(
                g.consumers.contains(&c) && w.consumers[c].state == RunState::Running,
                "invariant at {now:?}: share group {} record {off} of {} held by {} which is not a running member",
                g.id,
                w.partition_name(p),
                w.consumers.get(c).map_or("?", |x| x.name.as_str())
            );
        }
    }
}

/// Consumer protocol (KIP-848): no partition is in two members' assignments (assigned or pending
/// revocation) at once, and the coordinator's holder table says the same; a consumer holds a
/// partition only while the coordinator holds it for that consumer's member (a partition changes
/// hands only after its previous holder released it or was removed).
fn check_protocol(w: &World, g: &Group, pg: &crate::kafka::coordinator::consumer_group::ProtocolGroup) {
    let now = w.kernel.now();
    let mut seen = std::collections::BTreeMap::new();
    for (id, m) in &pg.members {
        for &p in m.assigned.iter().chain(&m.pending_revocation) {
            if let Some(other) = seen.insert(p, id) {
                panic!(
                    "invariant at {now:?}: {} in the assignments of both {other} and {id} in group {}",
                    w.partition_name(p),
                    g.id
                );
            }
            assert_eq!(
                pg.holder.get(&p).map(|h| &h.0),
                Some(id),
                "invariant at {now:?}: holder record of {} in group {}",
                w.partition_name(p),
                g.id
            );
        }
    }
    assert_eq!(seen.len(), pg.holder.len(), "invariant at {now:?}: holder table of group {} has stale entries", g.id);
    for &c in &g.consumers {
        let con = &w.consumers[c];
        for o in &con.owned {
            let held = con.member_id.as_ref().is_some_and(|id| pg.holder.get(&o.partition).is_some_and(|h| &h.0 == id));
            assert!(
                held,
                "invariant at {now:?}: {} reads {} which the coordinator does not hold for it in group {}",
                con.name,
                w.partition_name(o.partition),
                g.id
            );
        }
    }
}
