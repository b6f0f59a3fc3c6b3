//! GroupMetadataManagerTest#testReconciliationProcess (Kafka 4.0), the fact sheet's O14, step by
//! step: each heartbeat's answer (epoch, assignment, member state) as Kafka's test expects it.

use super::consumer_group::*;
use crate::scenario::plan::ConsumerProtocolPlan;
use crate::sim::{SimDuration, SimTime};
use std::collections::BTreeMap;

// foo-0..5 are partitions 0..5, bar-0..2 are 6..8.
const FOO: u32 = 0;
const BAR: u32 = 6;

fn member(c: usize, epoch: i32, parts: &[u32]) -> ProtocolMember {
    ProtocolMember {
        consumer: c,
        instance_id: None,
        epoch,
        previous_epoch: epoch - 1,
        state: ServerMemberState::Stable,
        assigned: parts.to_vec(),
        pending_revocation: Vec::new(),
        target: parts.to_vec(),
        rebalance_timeout: SimDuration::from_secs(300),
        session_deadline: SimTime::ZERO,
        revocation_deadline: None,
    }
}

fn request(c: usize, id: &str, epoch: i32, owned: Option<Vec<u32>>) -> HeartbeatRequest {
    HeartbeatRequest {
        consumer: c,
        member_id: id.to_string(),
        instance_id: None,
        epoch,
        owned,
        rebalance_timeout: SimDuration::from_secs(300),
    }
}

/// One heartbeat: admitted, then reconciled; (epoch, assignment if sent, state).
fn beat(g: &mut ProtocolGroup, req: HeartbeatRequest) -> (i32, Option<Vec<u32>>, ServerMemberState) {
    let mut ch = Changes::default();
    g.admit(&req, SimTime::ZERO, &mut ch).expect("admitted");
    let sent = g.reconcile(&req.member_id, req.owned.as_deref(), SimTime::ZERO, &mut ch);
    let m = &g.members[&req.member_id];
    (m.epoch, sent, m.state)
}

#[test]
fn reconciliation_process_o14() {
    use ServerMemberState::*;
    let mut g = ProtocolGroup::new(ConsumerProtocolPlan::default(), 9).unwrap();
    let m1 = [FOO, FOO + 1, FOO + 2, BAR, BAR + 1];
    let m2 = [FOO + 3, FOO + 4, FOO + 5, BAR + 2];
    g.members.insert("m1".into(), member(1, 10, &m1));
    g.members.insert("m2".into(), member(2, 10, &m2));
    for (id, parts) in [("m1", &m1[..]), ("m2", &m2[..])] {
        for &p in parts {
            g.holder.insert(p, (id.to_string(), 10));
        }
    }
    (g.group_epoch, g.assignment_epoch) = (10, 10);

    // 1. m3 joins: epoch 11, nothing free yet, UNRELEASED.
    let mut ch = Changes::default();
    g.admit(&request(3, "m3", 0, Some(vec![])), SimTime::ZERO, &mut ch).unwrap();
    assert!(ch.bumped && ch.joined);
    assert_eq!(g.group_epoch, 11);
    let target = BTreeMap::from([
        ("m1".to_string(), vec![FOO, FOO + 1, BAR]),
        ("m2".to_string(), vec![FOO + 2, FOO + 3, BAR + 2]),
        ("m3".to_string(), vec![FOO + 4, FOO + 5, BAR + 1]),
    ]);
    g.set_target(target, SimTime::ZERO);
    let sent = g.reconcile("m3", Some(&[]), SimTime::ZERO, &mut ch);
    // (Its answer carries the empty assignment because it joined at epoch 0.)
    assert_eq!((g.members["m3"].epoch, sent, g.members["m3"].state), (11, None, UnreleasedPartitions));
    // 2. m1: keeps foo{0,1} bar{0}, must revoke foo-2 and bar-1 first, epoch stays 10.
    assert_eq!(beat(&mut g, request(1, "m1", 10, None)), (10, Some(vec![FOO, FOO + 1, BAR]), UnrevokedPartitions));
    assert_eq!(g.members["m1"].pending_revocation, vec![FOO + 2, BAR + 1]);
    // 3. m2: keeps foo{3} bar{2}; foo-2 is still m1's, so nothing is added yet.
    assert_eq!(beat(&mut g, request(2, "m2", 10, None)), (10, Some(vec![FOO + 3, BAR + 2]), UnrevokedPartitions));
    // 4. m3: nothing was released yet.
    assert_eq!(beat(&mut g, request(3, "m3", 11, None)), (11, None, UnreleasedPartitions));
    // 5. m1 acknowledges: stable at 11, its assignment unchanged (so not sent again).
    assert_eq!(beat(&mut g, request(1, "m1", 10, Some(vec![FOO, FOO + 1, BAR]))), (11, None, Stable));
    // 6. m2 without its owned partitions: nothing changes.
    assert_eq!(beat(&mut g, request(2, "m2", 10, None)), (10, None, UnrevokedPartitions));
    // 7. m3 gets bar-1, which m1 released.
    assert_eq!(beat(&mut g, request(3, "m3", 11, None)), (11, Some(vec![BAR + 1]), UnreleasedPartitions));
    // 8. m2 acknowledges and gets foo-2 (freed by m1) in the same response.
    assert_eq!(
        beat(&mut g, request(2, "m2", 10, Some(vec![FOO + 3, BAR + 2]))),
        (11, Some(vec![FOO + 2, FOO + 3, BAR + 2]), Stable)
    );
    // 9. m3 acknowledges bar-1 and gets foo{4,5}.
    assert_eq!(
        beat(&mut g, request(3, "m3", 11, Some(vec![BAR + 1]))),
        (11, Some(vec![FOO + 4, FOO + 5, BAR + 1]), Stable)
    );
    assert_eq!(g.state(), ProtocolGroupState::Stable);
}

#[test]
fn a_stale_epoch_is_fenced_unless_it_is_the_lost_response_case() {
    let mut g = ProtocolGroup::new(ConsumerProtocolPlan::default(), 9).unwrap();
    g.members.insert("m1".into(), member(1, 10, &[0, 1]));
    let mut ch = Changes::default();
    assert_eq!(g.admit(&request(1, "m1", 11, None), SimTime::ZERO, &mut ch), Err(HeartbeatAnswer::FencedMemberEpoch));
    assert_eq!(
        g.admit(&request(1, "m1", 8, Some(vec![0])), SimTime::ZERO, &mut ch),
        Err(HeartbeatAnswer::FencedMemberEpoch)
    );
    assert_eq!(g.admit(&request(1, "m1", 9, Some(vec![0])), SimTime::ZERO, &mut ch), Ok(()));
    assert_eq!(
        g.admit(&request(1, "m1", 9, Some(vec![5])), SimTime::ZERO, &mut ch),
        Err(HeartbeatAnswer::FencedMemberEpoch)
    );
    assert_eq!(g.admit(&request(1, "nobody", 3, None), SimTime::ZERO, &mut ch), Err(HeartbeatAnswer::UnknownMemberId));
}

#[test]
fn a_static_leave_keeps_the_partitions_and_a_new_incarnation_takes_them_over() {
    let mut g = ProtocolGroup::new(ConsumerProtocolPlan::default(), 9).unwrap();
    let mut m = member(1, 4, &[0, 1]);
    m.instance_id = Some("i1".into());
    g.members.insert("old".into(), m);
    g.holder.insert(0, ("old".into(), 4));
    g.holder.insert(1, ("old".into(), 4));
    (g.group_epoch, g.assignment_epoch) = (4, 4);
    let mut ch = Changes::default();
    let mut leave = request(1, "old", LEAVE_GROUP_STATIC_MEMBER_EPOCH, None);
    leave.instance_id = Some("i1".into());
    assert_eq!(g.admit(&leave, SimTime::ZERO, &mut ch), Err(HeartbeatAnswer::Left));
    assert!(!ch.bumped, "a static leave does not bump the group epoch");
    assert_eq!(g.holder[&0].0, "old");
    let mut rejoin = request(1, "new", 0, Some(vec![]));
    rejoin.instance_id = Some("i1".into());
    g.admit(&rejoin, SimTime::ZERO, &mut ch).unwrap();
    assert_eq!(ch.replaced.as_deref(), Some("old"));
    assert!(!ch.bumped);
    // It starts at epoch 0 with the old assignment; its reconciliation brings it to the target.
    assert_eq!((g.members["new"].epoch, g.members["new"].assigned.clone()), (0, vec![0, 1]));
    assert_eq!(g.holder[&1].0, "new");
    assert_eq!(g.reconcile("new", Some(&[]), SimTime::ZERO, &mut ch), None);
    assert_eq!((g.members["new"].epoch, g.members["new"].state), (4, ServerMemberState::Stable));
    // A second incarnation while the first has not left: UNRELEASED_INSTANCE_ID.
    let mut other = request(1, "third", 0, Some(vec![]));
    other.instance_id = Some("i1".into());
    assert_eq!(g.admit(&other, SimTime::ZERO, &mut ch), Err(HeartbeatAnswer::UnreleasedInstanceId));
}

#[test]
fn offset_commits_carry_the_member_epoch() {
    use crate::scenario::plan::KafkaVersion;
    let mut g = ProtocolGroup::new(ConsumerProtocolPlan::default(), 9).unwrap();
    g.members.insert("m1".into(), member(1, 5, &[0]));
    g.holder.insert(0, ("m1".into(), 3));
    assert_eq!(g.validate_offset_commit(Some("m1"), 5, &[0]), Ok(()));
    assert_eq!(g.validate_offset_commit(Some("m1"), 6, &[0]), Err("stale_member_epoch"));
    assert_eq!(g.validate_offset_commit(Some("m1"), 4, &[0]), Ok(()), "KIP-1251: held since epoch 3");
    assert_eq!(g.validate_offset_commit(Some("m1"), 2, &[0]), Err("stale_member_epoch"));
    assert_eq!(g.validate_offset_commit(Some("x"), 5, &[0]), Err("unknown_member_id"));
    assert_eq!(g.validate_offset_commit(None, -1, &[0]), Err("unknown_member_id"));
    g.plan.version = KafkaVersion::V4_2;
    assert_eq!(g.validate_offset_commit(Some("m1"), 4, &[0]), Err("stale_member_epoch"));
}
