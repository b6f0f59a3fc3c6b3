//! Kafka's sticky-assignor test cases for identical subscriptions (the constrained builder), with their expected outputs.

use super::test_support::*;
use super::{Assignment, AssignorKind, Group, MemberSubscription, assign, sticky};
use std::collections::{BTreeMap, HashMap};

fn sticky(t: &BTreeMap<String, u32>, members: &[MemberSubscription]) -> Assignment {
    assign(AssignorKind::Sticky, t, members)
}

fn transferring(t: &BTreeMap<String, u32>, members: &[MemberSubscription]) -> HashMap<String, String> {
    let result = sticky::assign(&Group::new(t, members));
    let map = result.transferring.expect("constrained builder");
    map.into_iter().map(|(tp, c)| (tp.to_string(), c)).collect()
}

fn moves(spec: &[(&str, &str)]) -> HashMap<String, String> {
    spec.iter().map(|(tp, c)| (tp.to_string(), c.to_string())).collect()
}

#[test]
fn test_one_consumer_one_topic() {
    let out = sticky(&topics(&[("topic", 3)]), &[member("consumer", &["topic"])]);
    let all = [tp("topic", 0), tp("topic", 1), tp("topic", 2)];
    assert_eq!(out, expect(&[("consumer", &all)]));
}

#[test]
fn test_two_consumers_one_topic_two_partitions() {
    let members = [member("consumer1", &["topic"]), member("consumer2", &["topic"])];
    let out = sticky(&topics(&[("topic", 2)]), &members);
    let want = expect(&[("consumer1", &[tp("topic", 0)]), ("consumer2", &[tp("topic", 1)])]);
    assert_eq!(out, want);
}

#[test]
fn test_two_consumers_two_topics_six_partitions() {
    let both = ["topic1", "topic2"];
    let members = [member("consumer1", &both), member("consumer2", &both)];
    let t = topics(&[("topic1", 3), ("topic2", 3)]);
    let c1 = [tp("topic1", 0), tp("topic1", 2), tp("topic2", 1)];
    let c2 = [tp("topic1", 1), tp("topic2", 0), tp("topic2", 2)];
    assert_eq!(sticky(&t, &members), expect(&[("consumer1", &c1), ("consumer2", &c2)]));
    assert_eq!(sticky(&t, &members), assign(AssignorKind::RoundRobin, &t, &members));
}

#[test]
fn test_add_remove_two_consumers_two_topics() {
    let both = ["topic1", "topic2"];
    let t = topics(&[("topic1", 3), ("topic2", 4)]);
    let fresh = [member("consumer1", &both), member("consumer2", &both)];
    let c1 = [tp("topic1", 0), tp("topic1", 2), tp("topic2", 1), tp("topic2", 3)];
    let c2 = [tp("topic1", 1), tp("topic2", 0), tp("topic2", 2)];
    assert_eq!(sticky(&t, &fresh), expect(&[("consumer1", &c1), ("consumer2", &c2)]));

    let grown = [
        member("consumer1", &both).owning(&c1).generation(1),
        member("consumer2", &both).owning(&c2).generation(1),
        member("consumer3", &both).generation(1),
        member("consumer4", &both).generation(1),
    ];
    let n1 = [tp("topic1", 0), tp("topic2", 1)];
    let n2 = [tp("topic2", 0), tp("topic1", 1)];
    let n3 = [tp("topic1", 2), tp("topic2", 3)];
    let n4 = [tp("topic2", 2)];
    let want = expect(&[("consumer1", &n1), ("consumer2", &n2), ("consumer3", &n3), ("consumer4", &n4)]);
    assert_eq!(sticky(&t, &grown), want);
    let want_moves = moves(&[("topic1-2", "consumer3"), ("topic2-3", "consumer3"), ("topic2-2", "consumer4")]);
    assert_eq!(transferring(&t, &grown), want_moves);

    let shrunk =
        [member("consumer3", &both).owning(&n3).generation(1), member("consumer4", &both).owning(&n4).generation(1)];
    let m3 = [tp("topic1", 2), tp("topic2", 3), tp("topic1", 0), tp("topic2", 1)];
    let m4 = [tp("topic2", 2), tp("topic1", 1), tp("topic2", 0)];
    assert_eq!(sticky(&t, &shrunk), expect(&[("consumer3", &m3), ("consumer4", &m4)]));
    assert!(transferring(&t, &shrunk).is_empty());
}

#[test]
fn test_consumer_owning_min_quota_expected_max_quota() {
    let both = ["topic1", "topic2"];
    let t = topics(&[("topic1", 2), ("topic2", 3)]);
    let members = [
        member("consumer1", &both).owning(&[tp("topic1", 0), tp("topic2", 1)]).generation(1),
        member("consumer2", &both).owning(&[tp("topic1", 1), tp("topic2", 2)]).generation(1),
    ];
    let c1 = [tp("topic1", 0), tp("topic2", 1), tp("topic2", 0)];
    let c2 = [tp("topic1", 1), tp("topic2", 2)];
    assert_eq!(sticky(&t, &members), expect(&[("consumer1", &c1), ("consumer2", &c2)]));
    assert!(transferring(&t, &members).is_empty());
}

/// The contested case: both consumer1 and consumer2 own maxQuota but only one max slot
/// exists. Java's HashMap visits consumer2 (bucket 11) before consumer1 (bucket 12).
#[test]
fn test_max_quota_consumer_more_than_num_expected_max_capacity_members() {
    let both = ["topic1", "topic2"];
    let t = topics(&[("topic1", 2), ("topic2", 2)]);
    let members = [
        member("consumer1", &both).owning(&[tp("topic1", 0), tp("topic2", 0)]).generation(1),
        member("consumer2", &both).owning(&[tp("topic1", 1), tp("topic2", 1)]).generation(1),
        member("consumer3", &both).generation(1),
    ];
    let want = expect(&[
        ("consumer1", &[tp("topic1", 0)]),
        ("consumer2", &[tp("topic1", 1), tp("topic2", 1)]),
        ("consumer3", &[tp("topic2", 0)]),
    ]);
    assert_eq!(sticky(&t, &members), want);
    assert_eq!(transferring(&t, &members), moves(&[("topic2-0", "consumer3")]));
}

#[test]
fn test_all_consumers_are_under_min_quota() {
    let both = ["topic1", "topic2"];
    let t = topics(&[("topic1", 2), ("topic2", 3)]);
    let members = [
        member("consumer1", &both).owning(&[tp("topic1", 0)]).generation(1),
        member("consumer2", &both).owning(&[tp("topic1", 1)]).generation(1),
        member("consumer3", &both).generation(1),
    ];
    let want = expect(&[
        ("consumer1", &[tp("topic1", 0), tp("topic2", 1)]),
        ("consumer2", &[tp("topic1", 1), tp("topic2", 2)]),
        ("consumer3", &[tp("topic2", 0)]),
    ]);
    assert_eq!(sticky(&t, &members), want);
    assert!(transferring(&t, &members).is_empty());
}

#[test]
fn test_add_remove_consumer_one_topic() {
    let t = topics(&[("topic", 3)]);
    let all = [tp("topic", 0), tp("topic", 1), tp("topic", 2)];
    assert_eq!(sticky(&t, &[member("consumer1", &["topic"])]), expect(&[("consumer1", &all)]));

    let grown =
        [member("consumer1", &["topic"]).owning(&all).generation(1), member("consumer2", &["topic"]).generation(1)];
    let want = expect(&[("consumer1", &[tp("topic", 0), tp("topic", 1)]), ("consumer2", &[tp("topic", 2)])]);
    assert_eq!(sticky(&t, &grown), want);
    assert_eq!(transferring(&t, &grown), moves(&[("topic-2", "consumer2")]));

    let shrunk = [member("consumer2", &["topic"]).owning(&[tp("topic", 2)]).generation(1)];
    assert_eq!(sticky(&t, &shrunk), expect(&[("consumer2", &all)]));
    assert!(transferring(&t, &shrunk).is_empty());
}

#[test]
fn test_all_consumers_reach_expected_quota_and_are_considered_filled() {
    let t = topics(&[("topic", 4)]);
    let members = [
        member("consumer1", &["topic"]).owning(&[tp("topic", 0), tp("topic", 1)]).generation(1),
        member("consumer2", &["topic"]).owning(&[tp("topic", 2)]).generation(1),
        member("consumer3", &["topic"]).generation(1),
    ];
    let want = expect(&[
        ("consumer1", &[tp("topic", 0), tp("topic", 1)]),
        ("consumer2", &[tp("topic", 2)]),
        ("consumer3", &[tp("topic", 3)]),
    ]);
    assert_eq!(sticky(&t, &members), want);
    assert!(transferring(&t, &members).is_empty());
}

#[test]
fn test_owned_partitions_are_invalidated_for_consumer_with_stale_generation() {
    let both = ["topic", "topic2"];
    let t = topics(&[("topic", 3), ("topic2", 3)]);
    let claimed = [tp("topic", 0), tp("topic", 2), tp("topic2", 1)];
    let want = expect(&[("consumer1", &claimed), ("consumer2", &[tp("topic", 1), tp("topic2", 0), tp("topic2", 2)])]);
    let stale = [
        member("consumer1", &both).owning(&claimed).generation(10),
        member("consumer2", &both).owning(&claimed).generation(9),
    ];
    assert_eq!(sticky(&t, &stale), want);
    // ...WithNoGeneration
    let mut none = stale.clone();
    none[1].generation = None;
    assert_eq!(sticky(&t, &none), want);
}

/// Also `testPartitionsTransferringOwnershipIncludeThePartitionClaimedByMultipleConsumersInSameGeneration`.
#[test]
fn test_all_consumers_have_owned_partition_invalidated_when_claimed_by_multiple_consumers_in_same_generation() {
    let members = [
        member("consumer1", &["topic"]).owning(&[tp("topic", 0), tp("topic", 1)]).generation(1),
        member("consumer2", &["topic"]).owning(&[tp("topic", 0), tp("topic", 2)]).generation(1),
        member("consumer3", &["topic"]).generation(1),
    ];
    let want =
        expect(&[("consumer1", &[tp("topic", 1)]), ("consumer2", &[tp("topic", 2)]), ("consumer3", &[tp("topic", 0)])]);
    let t3 = topics(&[("topic", 3)]);
    assert_eq!(sticky(&t3, &members), want);
    assert_eq!(transferring(&t3, &members), moves(&[("topic-0", "consumer3")]));
    // ...WithEqualPartitionsPerConsumer → the four-partition variant.
    let want = expect(&[
        ("consumer1", &[tp("topic", 1), tp("topic", 3)]),
        ("consumer2", &[tp("topic", 2)]),
        ("consumer3", &[tp("topic", 0)]),
    ]);
    assert_eq!(sticky(&topics(&[("topic", 4)]), &members), want);
}

#[test]
fn test_ensure_partitions_assigned_to_highest_generation() {
    let all = ["topic", "topic2", "topic3"];
    let t = topics(&[("topic", 3), ("topic2", 3), ("topic3", 3)]);
    let members = [
        member("consumer1", &all).owning(&[tp("topic", 0), tp("topic2", 0), tp("topic3", 0)]).generation(10),
        member("consumer2", &all).owning(&[tp("topic", 1), tp("topic2", 1), tp("topic3", 1)]).generation(9),
        member("consumer3", &all).owning(&[tp("topic2", 1), tp("topic3", 0), tp("topic3", 2)]).generation(8),
    ];
    let want = expect(&[
        ("consumer1", &[tp("topic", 0), tp("topic2", 0), tp("topic3", 0)]),
        ("consumer2", &[tp("topic", 1), tp("topic2", 1), tp("topic3", 1)]),
        ("consumer3", &[tp("topic", 2), tp("topic2", 2), tp("topic3", 2)]),
    ]);
    assert_eq!(sticky(&t, &members), want);
    assert!(transferring(&t, &members).is_empty());
}

#[test]
fn test_no_reassignment_on_current_members() {
    let all = ["topic", "topic2", "topic3", "topic1"];
    let t = topics(&[("topic", 3), ("topic1", 3), ("topic2", 3), ("topic3", 3)]);
    let members = [
        member("consumer1", &all),
        member("consumer2", &all).owning(&[tp("topic", 0), tp("topic2", 0), tp("topic1", 0)]).generation(9),
        member("consumer3", &all).owning(&[tp("topic3", 2), tp("topic2", 2), tp("topic1", 1)]).generation(8),
        member("consumer4", &all).owning(&[tp("topic3", 1), tp("topic", 1), tp("topic", 2)]).generation(7),
    ];
    let out = sticky(&t, &members);
    assert_eq!(out["consumer1"], [tp("topic1", 2), tp("topic2", 1), tp("topic3", 0)]);
    for m in &members[1..] {
        let mut owned = m.owned.clone();
        owned.sort();
        assert_eq!(out[&m.member_id], owned);
    }
    assert!(transferring(&t, &members).is_empty());
}

#[test]
fn test_owned_partitions_are_invalidated_for_consumer_with_multiple_generation() {
    let both = ["topic", "topic2"];
    let t = topics(&[("topic", 3), ("topic2", 3)]);
    let members = [
        member("consumer1", &both).owning(&[tp("topic", 0), tp("topic2", 1), tp("topic", 1)]).generation(10),
        member("consumer2", &both).owning(&[tp("topic", 0), tp("topic2", 1), tp("topic2", 2)]).generation(8),
    ];
    let want = expect(&[
        ("consumer1", &[tp("topic", 0), tp("topic2", 1), tp("topic", 1)]),
        ("consumer2", &[tp("topic", 2), tp("topic2", 2), tp("topic2", 0)]),
    ]);
    assert_eq!(sticky(&t, &members), want);
    assert!(transferring(&t, &members).is_empty());
}

/// Non-rack baseline of `testRackAwareAssignmentWithUniformSubscription`, fresh and owned.
#[test]
fn test_rack_aware_assignment_with_uniform_subscription_baseline() {
    let all = ["t1", "t2", "t3"];
    let t = topics(&[("t1", 6), ("t2", 7), ("t3", 2)]);
    let c0 = [tp("t1", 0), tp("t1", 3), tp("t2", 0), tp("t2", 3), tp("t2", 6)];
    let c1 = [tp("t1", 1), tp("t1", 4), tp("t2", 1), tp("t2", 4), tp("t3", 0)];
    let c2 = [tp("t1", 2), tp("t1", 5), tp("t2", 2), tp("t2", 5), tp("t3", 1)];
    let want = expect(&[("consumer0", &c0), ("consumer1", &c1), ("consumer2", &c2)]);
    let fresh = ["consumer0", "consumer1", "consumer2"].map(|id| member(id, &all));
    assert_eq!(sticky(&t, &fresh), want);
    let owned = [
        member("consumer0", &all).owning(&c0),
        member("consumer1", &all).owning(&c1),
        member("consumer2", &all).owning(&c2),
    ];
    assert_eq!(sticky(&t, &owned), want);
    assert_eq!(assign(AssignorKind::CooperativeSticky, &t, &owned), want);
}

#[test]
fn test_stickiness() {
    let t = topics(&[("topic1", 3)]);
    let ids = ["consumer1", "consumer2", "consumer3", "consumer4"];
    let first = sticky(&t, &ids.map(|id| member(id, &["topic1"])));
    assert!(first.values().all(|p| p.len() <= 1));
    let rest: Vec<MemberSubscription> =
        ids[1..].iter().map(|id| member(id, &["topic1"]).owning(&first[*id]).generation(1)).collect();
    let second = sticky(&t, &rest);
    for m in &rest {
        assert_eq!(second[&m.member_id].len(), 1);
        assert!(m.owned.iter().all(|tp| second[&m.member_id].contains(tp)));
    }
}

/// Javadoc Example 1, checked against the current code rather than the stale Javadoc text.
#[test]
fn javadoc_example1_after_c1_leaves() {
    let all = ["t0", "t1", "t2", "t3"];
    let t = topics(&[("t0", 2), ("t1", 2), ("t2", 2), ("t3", 2)]);
    let fresh = [member("C0", &all), member("C1", &all), member("C2", &all)];
    let c0 = [tp("t0", 0), tp("t1", 1), tp("t3", 0)];
    let c1 = [tp("t0", 1), tp("t2", 0), tp("t3", 1)];
    let c2 = [tp("t1", 0), tp("t2", 1)];
    assert_eq!(sticky(&t, &fresh), expect(&[("C0", &c0), ("C1", &c1), ("C2", &c2)]));
    let after = [member("C0", &all).owning(&c0).generation(1), member("C2", &all).owning(&c2).generation(1)];
    let n0 = [tp("t0", 0), tp("t3", 0), tp("t1", 1), tp("t0", 1)];
    let n2 = [tp("t1", 0), tp("t2", 1), tp("t2", 0), tp("t3", 1)];
    assert_eq!(sticky(&t, &after), expect(&[("C0", &n0), ("C2", &n2)]));
}

/// Deliberate deviation: Java visits consumer4 (bucket 9) before consumer1 (bucket 12), so
/// Kafka would treat consumer4's empty subscription as "equal" and give it topic-1 partitions
/// (consumer1 [topic-0], consumer4 [topic-1]). Here an empty subscription forces the general
/// builder and gets nothing.
#[test]
fn empty_subscription_is_never_equal_to_a_real_one() {
    let t = topics(&[("topic", 2)]);
    let members = [member("consumer1", &["topic"]), member("consumer4", &[])];
    let want = expect(&[("consumer1", &[tp("topic", 0), tp("topic", 1)]), ("consumer4", &[])]);
    assert_eq!(sticky(&t, &members), want);
}
