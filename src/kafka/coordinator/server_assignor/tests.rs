//! Oracle cases from Kafka's own unit tests (group-coordinator/src/test/.../assignor/, branch
//! 4.4), with their expected outputs: O1..O13 of the consumer-protocol fact sheet (§6), plus some
//! heterogeneous cases that exercise the balancing rounds.
//!
//! The tests' topic ids are `T1-A4s3VTwiI5CTbEp6POw`, `T2-B4s3VTwiI5YHbPp6YUe` and
//! `T3-CU8fVTLCz5YMkLoDQsa` (the `Tn-` prefix is part of the base64 string). Decoded as Kafka's
//! `Uuid.fromString` does, their most significant bits are 0x4f5f80e2cdd54f08, 0x4f6f81e2cdd54f08
//! and 0x4f7f8253c7d54cb0: all positive, so `Uuid.compareTo` (signed msb first) orders them
//! T1 < T2 < T3, which gives the id ranks 0, 1, 2. Their `hashCode`s put them in `HashSet`
//! buckets 1 (T2), 9 (T3) and 10 (T1) of 16, so a set of them iterates T2, T3, T1: `topics`
//! below lists them in that order. Members are A, B, C in `memberIds()` order (the tests use a
//! `TreeMap`). Where a test builds a previous target with `mkOrderedAssignment` (a
//! `LinkedHashMap`), the target lists its topics in that insertion order.

use super::*;

const T1: usize = 1;
const T2: usize = 2;
const T3: usize = 3;

/// Topics with their partition counts, in the order a Java `HashSet` of the test ids iterates.
fn topics(counts: &[(usize, u32)]) -> Vec<ServerTopic> {
    let mut out: Vec<ServerTopic> = counts
        .iter()
        .map(|&(topic, partitions)| ServerTopic { topic, partitions, id_rank: topic as u32 - 1 })
        .collect();
    out.sort_by_key(|t| [T2, T3, T1].iter().position(|&x| x == t.topic));
    out
}

fn member(id: &str, topics: &[usize], target: &[(usize, &[u32])]) -> ServerMember {
    ServerMember {
        member_id: id.to_string(),
        instance_id: None,
        topics: topics.to_vec(),
        target: target.iter().flat_map(|&(t, ps)| ps.iter().map(move |&p| (t, p))).collect(),
    }
}

fn parts(spec: &[(usize, &[u32])]) -> Vec<(usize, u32)> {
    let mut v: Vec<(usize, u32)> = spec.iter().flat_map(|&(t, ps)| ps.iter().map(move |&p| (t, p))).collect();
    v.sort_unstable();
    v
}

fn uniform(topics: &[ServerTopic], members: &[ServerMember]) -> Vec<Vec<(usize, u32)>> {
    server_assign(ServerAssignorKind::Uniform, topics, members)
}

fn range(topics: &[ServerTopic], members: &[ServerMember]) -> Vec<Vec<(usize, u32)>> {
    server_assign(ServerAssignorKind::Range, topics, members)
}

// UniformHomogeneousAssignmentBuilderTest (OptimizedUniformAssignmentBuilderTest before Dec 2025).

#[test]
fn o1_test_first_assignment_two_members_two_topics_no_member_racks() {
    let t = topics(&[(T1, 3), (T3, 2)]);
    let m = [member("A", &[T1, T3], &[]), member("B", &[T1, T3], &[])];
    // 4.0.0, before KAFKA-18688: A T1{0},T3{0,1}; B T1{1,2}.
    assert_eq!(uniform(&t, &m), [parts(&[(T3, &[0, 1])]), parts(&[(T1, &[0, 1, 2])])]);
}

#[test]
fn o2_test_first_assignment_num_members_greater_than_total_num_partitions() {
    let t = topics(&[(T3, 2)]);
    let m = [member("A", &[T3], &[]), member("B", &[T3], &[]), member("C", &[T3], &[])];
    // 4.0.0: A T3{0}, B T3{1}, C {}.
    assert_eq!(uniform(&t, &m), [vec![], parts(&[(T3, &[0])]), parts(&[(T3, &[1])])]);
}

#[test]
fn o3_test_reassignment_for_two_members_two_topics_given_unbalanced_prev_assignment() {
    let t = topics(&[(T1, 3), (T2, 3)]);
    let m =
        [member("A", &[T1, T2], &[(T1, &[0, 1]), (T2, &[0, 1])]), member("B", &[T1, T2], &[(T1, &[2]), (T2, &[2])])];
    assert_eq!(uniform(&t, &m), [parts(&[(T1, &[0, 1]), (T2, &[0])]), parts(&[(T1, &[2]), (T2, &[1, 2])])]);
}

#[test]
fn o4_test_reassignment_when_partitions_are_added_for_two_members_two_topics() {
    let t = topics(&[(T1, 6), (T2, 5)]);
    let m =
        [member("A", &[T1, T2], &[(T1, &[0, 2]), (T2, &[0])]), member("B", &[T1, T2], &[(T1, &[1]), (T2, &[1, 2])])];
    // 4.0.0: A T1{0,2,3},T2{0,3,4}; B T1{1,4,5},T2{1,2}.
    let want = [parts(&[(T1, &[0, 2]), (T2, &[0, 3, 4])]), parts(&[(T1, &[1, 3, 4, 5]), (T2, &[1, 2])])];
    assert_eq!(uniform(&t, &m), want);
}

#[test]
fn o5_test_reassignment_when_one_member_added_after_initial_assignment_with_two_members_two_topics() {
    let t = topics(&[(T1, 3), (T2, 3)]);
    let m = [
        member("A", &[T1, T2], &[(T1, &[0, 2]), (T2, &[0])]),
        member("B", &[T1, T2], &[(T1, &[1]), (T2, &[1, 2])]),
        member("C", &[T1, T2], &[]),
    ];
    let want = [parts(&[(T1, &[0, 2])]), parts(&[(T1, &[1]), (T2, &[1])]), parts(&[(T2, &[0, 2])])];
    assert_eq!(uniform(&t, &m), want);
}

#[test]
fn o6_test_reassignment_when_one_member_removed_after_initial_assignment_with_three_members_two_topics() {
    let t = topics(&[(T1, 3), (T2, 3)]);
    // The test uses a HashMap here (mkAssignment): T2 iterates before T1.
    let m = [member("A", &[T1, T2], &[(T2, &[0]), (T1, &[0])]), member("B", &[T1, T2], &[(T2, &[1]), (T1, &[1])])];
    assert_eq!(uniform(&t, &m), [parts(&[(T1, &[0]), (T2, &[0, 2])]), parts(&[(T1, &[1, 2]), (T2, &[1])])]);
}

#[test]
fn o7_test_reassignment_stickiness_when_already_balanced() {
    // In OptimizedUniformAssignmentBuilderTest up to 4.2 (the 4.0.1+ backport of KAFKA-18688).
    let t = topics(&[(T1, 5)]);
    let m =
        [member("A", &[T1], &[(T1, &[0, 3])]), member("B", &[T1], &[(T1, &[1])]), member("C", &[T1], &[(T1, &[2, 4])])];
    assert_eq!(uniform(&t, &m), [parts(&[(T1, &[0, 3])]), parts(&[(T1, &[1])]), parts(&[(T1, &[2, 4])])]);
}

/// 4.3+ replaced O7 (testReassignmentStickinessWhenAlreadyBalanced) by
/// CommonAssignorTests#testReassignmentStickiness: the first assignment, fed back as the target,
/// comes out unchanged whatever the member order, in both builders.
#[test]
fn test_reassignment_stickiness() {
    let t = topics(&[(T1, 2), (T2, 5), (T3, 7)]);
    let all = [T1, T2, T3];
    let m = [member("A", &all, &[]), member("B", &all, &[]), member("C", &all, &[])];
    let run = |members: &[ServerMember], homogeneous: bool| -> Vec<Vec<(usize, u32)>> {
        let mut group = Group::new(&t, members);
        group.homogeneous = homogeneous;
        let out = if homogeneous { uniform_homogeneous::assign(&group) } else { uniform_heterogeneous::assign(&group) };
        out.into_iter().map(|ps| ps.into_iter().map(|(pos, p)| (t[pos].topic, p)).collect()).collect()
    };
    for homogeneous in [true, false] {
        let first = run(&m, homogeneous);
        let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
        for order in orders {
            let members: Vec<ServerMember> =
                order.iter().map(|&i| ServerMember { target: first[i].clone(), ..m[i].clone() }).collect();
            let second = run(&members, homogeneous);
            for (k, &i) in order.iter().enumerate() {
                let (mut got, mut want) = (second[k].clone(), first[i].clone());
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(got, want, "homogeneous {homogeneous}, order {order:?}");
            }
        }
    }
}

// UniformHeterogeneousAssignmentBuilderTest.

#[test]
fn o8_test_first_assignment_two_members_two_topics() {
    let t = topics(&[(T1, 3), (T3, 6)]);
    let m = [member("A", &[T1, T3], &[]), member("B", &[T3], &[])];
    assert_eq!(uniform(&t, &m), [parts(&[(T1, &[0, 1, 2]), (T3, &[4])]), parts(&[(T3, &[0, 1, 2, 3, 5])])]);
}

#[test]
fn o9_test_first_assignment_num_members_greater_than_total_num_partitions_heterogeneous() {
    let t = topics(&[(T1, 2), (T3, 1)]);
    let m = [member("A", &[T3], &[]), member("B", &[T3], &[]), member("C", &[T1], &[])];
    assert_eq!(uniform(&t, &m), [parts(&[(T3, &[0])]), vec![], parts(&[(T1, &[0, 1])])]);
}

#[test]
fn test_reassignment_for_two_members_three_topics_given_unbalanced_prev_assignment() {
    let t = topics(&[(T1, 6), (T2, 4), (T3, 4)]);
    let m = [
        member("A", &[T1], &[(T1, &[0, 1, 2])]),
        member("B", &[T1, T2], &[(T1, &[3]), (T2, &[0])]),
        member("C", &[T1, T2, T3], &[(T1, &[4, 5]), (T2, &[1, 2, 3]), (T3, &[0, 1, 2, 3])]),
    ];
    let want = [
        parts(&[(T1, &[0, 1, 2, 5])]),
        parts(&[(T1, &[3]), (T2, &[0, 1, 2, 3])]),
        parts(&[(T1, &[4]), (T3, &[0, 1, 2, 3])]),
    ];
    assert_eq!(uniform(&t, &m), want);
}

#[test]
fn test_reassignment_when_one_member_added_and_partitions_added_two_members_two_topics() {
    let t = topics(&[(T1, 6), (T2, 7)]);
    let m = [
        member("A", &[T1], &[(T1, &[0, 2]), (T2, &[0])]),
        member("B", &[T1, T2], &[(T1, &[1]), (T2, &[1, 2])]),
        member("C", &[T1, T2], &[]),
    ];
    let want =
        [parts(&[(T1, &[0, 2, 3, 4, 5])]), parts(&[(T1, &[1]), (T2, &[1, 2, 6])]), parts(&[(T2, &[0, 3, 4, 5])])];
    assert_eq!(uniform(&t, &m), want);
}

#[test]
fn test_reassignment_when_one_subscription_removed_after_initial_assignment_with_two_members_two_topics() {
    let t = topics(&[(T1, 3), (T2, 5)]);
    let m =
        [member("A", &[T1], &[(T1, &[0, 2]), (T2, &[1, 3])]), member("B", &[T1, T2], &[(T1, &[1]), (T2, &[0, 2, 4])])];
    assert_eq!(uniform(&t, &m), [parts(&[(T1, &[0, 1, 2])]), parts(&[(T2, &[0, 1, 2, 3, 4])])]);
}

/// The Kafka test hands identical subscriptions to the heterogeneous builder itself, so this one
/// calls the builder directly: the balancing runs out of T1 partitions on the loaded member.
#[test]
fn test_reassignment_when_topic_partitions_run_out_and_members_have_no_partitions() {
    let t = topics(&[(T1, 2), (T2, 2), (T3, 2)]);
    let m =
        [member("A", &[T1, T2, T3], &[(T1, &[0, 1]), (T2, &[0, 1]), (T3, &[0, 1])]), member("B", &[T1, T2, T3], &[])];
    let group = Group::new(&t, &m);
    let out: Vec<Vec<(usize, u32)>> = uniform_heterogeneous::assign(&group)
        .into_iter()
        .map(|ps| {
            let mut v: Vec<(usize, u32)> = ps.into_iter().map(|(pos, p)| (t[pos].topic, p)).collect();
            v.sort_unstable();
            v
        })
        .collect();
    assert_eq!(out, [parts(&[(T2, &[0]), (T3, &[0, 1])]), parts(&[(T1, &[0, 1]), (T2, &[1])])]);
}

// RangeAssignorTest.

#[test]
fn o10_test_first_assignment_two_members_two_topics_same_subscriptions() {
    let t = topics(&[(T1, 3), (T3, 2)]);
    let m = [member("A", &[T1, T3], &[]), member("B", &[T1, T3], &[])];
    assert_eq!(range(&t, &m), [parts(&[(T1, &[0, 1]), (T3, &[0])]), parts(&[(T1, &[2]), (T3, &[1])])]);
}

#[test]
fn o11_test_first_assignment_three_members_three_topics_different_subscriptions() {
    let t = topics(&[(T1, 3), (T2, 3), (T3, 2)]);
    let m = [member("A", &[T1, T2], &[]), member("B", &[T3], &[]), member("C", &[T2, T3], &[])];
    let want = [parts(&[(T1, &[0, 1, 2]), (T2, &[0, 1])]), parts(&[(T3, &[0])]), parts(&[(T2, &[2]), (T3, &[1])])];
    assert_eq!(range(&t, &m), want);
}

#[test]
fn o12_test_first_assignment_num_members_greater_than_num_partitions() {
    let t = topics(&[(T1, 3), (T3, 2)]);
    let m = [member("A", &[T1, T3], &[]), member("B", &[T1, T3], &[]), member("C", &[T1, T3], &[])];
    let want = [parts(&[(T1, &[0]), (T3, &[0])]), parts(&[(T1, &[1]), (T3, &[1])]), parts(&[(T1, &[2])])];
    assert_eq!(range(&t, &m), want);
}

#[test]
fn o13_test_reassignment_num_members_greater_than_num_partitions_when_one_member_added() {
    let t = topics(&[(T1, 2), (T2, 2)]);
    let m = [
        member("A", &[T1, T2], &[(T1, &[0]), (T2, &[0])]),
        member("B", &[T1, T2], &[(T1, &[1]), (T2, &[1])]),
        member("C", &[T1, T2], &[]),
    ];
    assert_eq!(range(&t, &m), [parts(&[(T1, &[0]), (T2, &[0])]), parts(&[(T1, &[1]), (T2, &[1])]), vec![]]);
}

// Kafka's ordering rules where the oracle cases do not reach.

#[test]
fn range_puts_static_members_first_by_instance_id() {
    let t = topics(&[(T1, 3)]);
    let mut m = [member("A", &[T1], &[]), member("B", &[T1], &[]), member("C", &[T1], &[])];
    m[2].instance_id = Some("i1".into());
    m[1].instance_id = Some("i2".into());
    assert_eq!(range(&t, &m), [parts(&[(T1, &[2])]), parts(&[(T1, &[1])]), parts(&[(T1, &[0])])]);
}

#[test]
fn java_string_order_is_utf16() {
    // U+FF21 (one UTF-16 unit 0xFF21) sorts after U+1F600 (surrogates 0xD83D...) in Java.
    assert_eq!(java_string_cmp("\u{1F600}", "\u{FF21}"), Ordering::Less);
    assert_eq!(java_string_cmp("a", "ab"), Ordering::Less);
}

#[test]
fn unknown_topics_and_impossible_targets_are_ignored() {
    let t = topics(&[(T1, 2)]);
    // T3 is not in metadata; A's T1-7 does not exist; B's T1-0 is already A's.
    let m = [member("A", &[T1, T3], &[(T1, &[0, 7]), (T3, &[0])]), member("B", &[T1, T3], &[(T1, &[0])])];
    assert_eq!(uniform(&t, &m), [parts(&[(T1, &[0])]), parts(&[(T1, &[1])])]);
    assert!(server_assign(ServerAssignorKind::Uniform, &t, &[]).is_empty());
}

/// The largest group a scenario allows: 10,000 partitions and 500 members, in both builders
/// and range, starting from nothing and from a target that lost a member. Linear-ish work:
/// this takes milliseconds, where a quadratic port would take seconds.
#[test]
fn large_groups_are_cheap() {
    let t: Vec<ServerTopic> = (0..100).map(|i| ServerTopic { topic: i, partitions: 100, id_rank: i as u32 }).collect();
    let every: Vec<usize> = (0..100).collect();
    let odd: Vec<usize> = (0..100).filter(|i| i % 2 == 1).collect();
    for subscription in [&every, &odd] {
        let mut m: Vec<ServerMember> = (0..500)
            .map(|i| {
                let topics = if i % 3 == 0 { every.clone() } else { subscription.clone() };
                ServerMember { member_id: format!("m{i:03}"), instance_id: None, topics, target: Vec::new() }
            })
            .collect();
        for kind in [ServerAssignorKind::Uniform, ServerAssignorKind::Range] {
            let first = server_assign(kind, &t, &m);
            for (member, target) in m.iter_mut().zip(first) {
                member.target = target;
            }
            let mut after = m[1..].to_vec();
            after.rotate_left(7);
            let out = server_assign(kind, &t, &after);
            assert_eq!(out.iter().map(Vec::len).sum::<usize>(), 100 * 100, "{kind:?}");
        }
    }
}
