//! RangeAssignor (`range`): each topic is cut into contiguous ranges over its subscribers in member order.
//!
//! Only Kafka's plain path is modelled; the rack-aware variant needs client racks, which the
//! simulator does not have. Because every topic restarts at the first member, the extra
//! partitions of all topics pile up on the same members: range is balanced per topic, not overall.

use super::{Assignment, Group, Member, TopicPartition, member_order};

pub(crate) fn assign(group: &Group) -> Assignment {
    let mut assignment = group.empty_assignment();
    let mut ordered: Vec<&Member> = group.members.iter().collect();
    ordered.sort_by(|a, b| member_order(a, b));

    for (topic, &count) in &group.partitions_per_topic {
        let consumers: Vec<&Member> = ordered.iter().copied().filter(|m| m.subscribes(topic)).collect();
        if consumers.is_empty() {
            continue;
        }
        let n = consumers.len() as u32;
        let (quota, extra) = (count / n, count % n);
        let mut next = 0;
        for (i, consumer) in (0u32..).zip(&consumers) {
            let len = quota + u32::from(i < extra);
            let target = assignment.entry(consumer.id.clone()).or_default();
            target.extend((next..next + len).map(|p| TopicPartition::new(topic.clone(), p)));
            next += len;
        }
    }
    assignment
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{AssignorKind, MemberSubscription, assign};
    use std::collections::BTreeMap;

    fn range(t: &BTreeMap<String, u32>, members: &[MemberSubscription]) -> super::Assignment {
        assign(AssignorKind::Range, t, members)
    }

    #[test]
    fn test_one_consumer_one_topic() {
        let out = range(&topics(&[("topic1", 3)]), &[member("consumer1", &["topic1"])]);
        let all = [tp("topic1", 0), tp("topic1", 1), tp("topic1", 2)];
        assert_eq!(out, expect(&[("consumer1", &all)]));
    }

    #[test]
    fn test_one_consumer_multiple_topics() {
        let t = topics(&[("topic1", 1), ("topic2", 2)]);
        let out = range(&t, &[member("consumer1", &["topic1", "topic2"])]);
        let all = [tp("topic1", 0), tp("topic2", 0), tp("topic2", 1)];
        assert_eq!(out, expect(&[("consumer1", &all)]));
    }

    #[test]
    fn test_two_consumers_one_topic_one_partition() {
        let members = [member("consumer1", &["topic1"]), member("consumer2", &["topic1"])];
        let out = range(&topics(&[("topic1", 1)]), &members);
        assert_eq!(out, expect(&[("consumer1", &[tp("topic1", 0)]), ("consumer2", &[])]));
    }

    #[test]
    fn test_two_consumers_one_topic_two_partitions() {
        let members = [member("consumer1", &["topic1"]), member("consumer2", &["topic1"])];
        let out = range(&topics(&[("topic1", 2)]), &members);
        assert_eq!(out, expect(&[("consumer1", &[tp("topic1", 0)]), ("consumer2", &[tp("topic1", 1)])]));
    }

    #[test]
    fn test_multiple_consumers_mixed_topics() {
        let members = [
            member("consumer1", &["topic1"]),
            member("consumer2", &["topic1", "topic2"]),
            member("consumer3", &["topic1"]),
        ];
        let out = range(&topics(&[("topic1", 3), ("topic2", 2)]), &members);
        let c2 = [tp("topic1", 1), tp("topic2", 0), tp("topic2", 1)];
        assert_eq!(
            out,
            expect(&[("consumer1", &[tp("topic1", 0)]), ("consumer2", &c2), ("consumer3", &[tp("topic1", 2)]),])
        );
    }

    #[test]
    fn test_two_consumers_two_topics_six_partitions() {
        let both = ["topic1", "topic2"];
        let members = [member("consumer1", &both), member("consumer2", &both)];
        let out = range(&topics(&[("topic1", 3), ("topic2", 3)]), &members);
        let c1 = [tp("topic1", 0), tp("topic1", 1), tp("topic2", 0), tp("topic2", 1)];
        let c2 = [tp("topic1", 2), tp("topic2", 2)];
        assert_eq!(out, expect(&[("consumer1", &c1), ("consumer2", &c2)]));
    }

    #[test]
    fn test_two_static_consumers_two_topics_six_partitions() {
        let both = ["topic1", "topic2"];
        let t = topics(&[("topic1", 3), ("topic2", 3)]);
        let c_b = [tp("topic1", 0), tp("topic1", 1), tp("topic2", 0), tp("topic2", 1)];
        let c_a = [tp("topic1", 2), tp("topic2", 2)];
        let want = expect(&[("consumer-b", &c_b), ("consumer-a", &c_a)]);
        let both_static =
            [member("consumer-a", &both).instance("instance2"), member("consumer-b", &both).instance("instance1")];
        assert_eq!(range(&t, &both_static), want);
        // testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions
        let one_static = [member("consumer-a", &both), member("consumer-b", &both).instance("instance1")];
        assert_eq!(range(&t, &one_static), want);
    }

    #[test]
    fn test_static_member_range_assignment_persistent() {
        let both = ["topic1", "topic2"];
        let t = topics(&[("topic1", 5), ("topic2", 4)]);
        let mut members = vec![
            member("consumer1", &both).instance("instance1"),
            member("consumer2", &both).instance("instance2"),
            member("consumer3", &both).instance("instance3"),
            member("consumer4", &both),
        ];
        let c1 = [tp("topic1", 0), tp("topic1", 1), tp("topic2", 0)];
        let c2 = [tp("topic1", 2), tp("topic2", 1)];
        let c3 = [tp("topic1", 3), tp("topic2", 2)];
        let c4 = [tp("topic1", 4), tp("topic2", 3)];
        let base = [("consumer1", &c1[..]), ("consumer2", &c2), ("consumer3", &c3)];
        let mut want = base.to_vec();
        want.push(("consumer4", &c4));
        assert_eq!(range(&t, &members), expect(&want));

        members[3] = member("consumer5", &both);
        let mut want = base.to_vec();
        want.push(("consumer5", &c4));
        assert_eq!(range(&t, &members), expect(&want));
    }

    #[test]
    fn test_static_member_range_assignment_persistent_after_member_id_changes() {
        let both = ["topic1", "topic2"];
        let t = topics(&[("topic1", 5), ("topic2", 5)]);
        let i1 = [tp("topic1", 0), tp("topic1", 1), tp("topic2", 0), tp("topic2", 1)];
        let i2 = [tp("topic1", 2), tp("topic1", 3), tp("topic2", 2), tp("topic2", 3)];
        let i3 = [tp("topic1", 4), tp("topic2", 4)];
        for ids in [["consumer1", "consumer2", "consumer3"], ["z", "a", "m"]] {
            let members = [
                member(ids[0], &both).instance("instance1"),
                member(ids[1], &both).instance("instance2"),
                member(ids[2], &both).instance("instance3"),
            ];
            let want = expect(&[(ids[0], &i1), (ids[1], &i2), (ids[2], &i3)]);
            assert_eq!(range(&t, &members), want);
        }
    }

    /// Runs range over consumer0..consumer2 and compares with Kafka's "t1-0, t1-1" strings.
    fn check_three(t: &BTreeMap<String, u32>, subscribed: [&[&str]; 3], expected: [&str; 3]) {
        let members: Vec<MemberSubscription> = (0..3).map(|i| member(&format!("consumer{i}"), subscribed[i])).collect();
        let want: Vec<(String, Vec<_>)> = (0..3).map(|i| (format!("consumer{i}"), parts(expected[i]))).collect();
        let want: Vec<(&str, &[_])> = want.iter().map(|(c, p)| (c.as_str(), &p[..])).collect();
        assert_eq!(range(t, &members), expect(&want));
    }

    const ALL: &[&str] = &["t1", "t2", "t3"];

    #[test]
    fn test_rack_aware_assignment_with_uniform_subscription() {
        let t = topics(&[("t1", 6), ("t2", 7), ("t3", 2)]);
        let expected = ["t1-0, t1-1, t2-0, t2-1, t2-2, t3-0", "t1-2, t1-3, t2-3, t2-4, t3-1", "t1-4, t1-5, t2-5, t2-6"];
        check_three(&t, [ALL, ALL, ALL], expected);
    }

    #[test]
    fn test_rack_aware_assignment_with_non_equal_subscription() {
        let t = topics(&[("t1", 6), ("t2", 7), ("t3", 2)]);
        let expected = ["t1-0, t1-1, t2-0, t2-1, t2-2, t2-3, t3-0", "t1-2, t1-3, t2-4, t2-5, t2-6, t3-1", "t1-4, t1-5"];
        check_three(&t, [ALL, ALL, &["t1", "t3"]], expected);
    }

    #[test]
    fn test_rack_aware_assignment_with_uniform_partitions_non_equal_subscription() {
        let t = topics(&[("t1", 5), ("t2", 5), ("t3", 5)]);
        let expected = ["t1-0, t1-1, t2-0, t2-1, t2-2, t3-0, t3-1", "t1-2, t1-3, t2-3, t2-4, t3-2, t3-3", "t1-4, t3-4"];
        check_three(&t, [ALL, ALL, &["t1", "t3"]], expected);
    }

    /// t7..t9 are subscribed but missing from metadata, so they are ignored.
    #[test]
    fn test_co_partitioned_assignment_with_same_subscription() {
        let subscribed: &[&str] = &["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"];
        let t = topics(&[("t1", 6), ("t2", 6), ("t3", 2), ("t4", 2), ("t5", 4), ("t6", 4)]);
        let expected = [
            "t1-0, t1-1, t2-0, t2-1, t3-0, t4-0, t5-0, t5-1, t6-0, t6-1",
            "t1-2, t1-3, t2-2, t2-3, t3-1, t4-1, t5-2, t6-2",
            "t1-4, t1-5, t2-4, t2-5, t5-3, t6-3",
        ];
        check_three(&t, [subscribed, subscribed, subscribed], expected);
    }

    /// kafka-facts §2.0 [derived]: Java string order puts consumer10 before consumer2.
    #[test]
    fn member_ids_sort_as_java_strings() {
        let members = ["consumer1", "consumer10", "consumer2"].map(|id| member(id, &["t0"]));
        let out = range(&topics(&[("t0", 4)]), &members);
        let want = expect(&[
            ("consumer1", &[tp("t0", 0), tp("t0", 1)]),
            ("consumer10", &[tp("t0", 2)]),
            ("consumer2", &[tp("t0", 3)]),
        ]);
        assert_eq!(out, want);
    }
}
