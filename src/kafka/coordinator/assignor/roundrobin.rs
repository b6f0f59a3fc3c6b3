//! RoundRobinAssignor (`roundrobin`): one cursor circles the ordered members over all partitions of all topics.
//!
//! The cursor is shared across topics and skips members not subscribed to the current topic,
//! which is why differing subscriptions can leave this assignor badly unbalanced.

use super::{Assignment, Group, Member, TopicPartition, member_order};

pub(crate) fn assign(group: &Group) -> Assignment {
    let mut assignment = group.empty_assignment();
    let mut ring: Vec<&Member> = group.members.iter().collect();
    ring.sort_by(|a, b| member_order(a, b));
    if ring.is_empty() {
        return assignment;
    }

    let mut cursor = 0;
    for topic in group.sorted_topics() {
        // Every topic in partitions_per_topic has a subscriber, so the skip loop ends.
        for partition in 0..group.partitions_per_topic[topic] {
            while !ring[cursor].subscribes(topic) {
                cursor = (cursor + 1) % ring.len();
            }
            let target = assignment.entry(ring[cursor].id.clone()).or_default();
            target.push(TopicPartition::new(topic, partition));
            cursor = (cursor + 1) % ring.len();
        }
    }
    assignment
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{AssignorKind, MemberSubscription, assign};
    use std::collections::BTreeMap;

    fn rr(t: &BTreeMap<String, u32>, members: &[MemberSubscription]) -> super::Assignment {
        assign(AssignorKind::RoundRobin, t, members)
    }

    #[test]
    fn test_one_consumer_one_topic() {
        let out = rr(&topics(&[("topic", 3)]), &[member("consumer", &["topic"])]);
        let all = [tp("topic", 0), tp("topic", 1), tp("topic", 2)];
        assert_eq!(out, expect(&[("consumer", &all)]));
    }

    #[test]
    fn test_one_consumer_multiple_topics() {
        let t = topics(&[("topic1", 1), ("topic2", 2)]);
        let out = rr(&t, &[member("consumer", &["topic1", "topic2"])]);
        let all = [tp("topic1", 0), tp("topic2", 0), tp("topic2", 1)];
        assert_eq!(out, expect(&[("consumer", &all)]));
    }

    #[test]
    fn test_two_consumers_one_topic_one_partition() {
        let members = [member("consumer1", &["topic"]), member("consumer2", &["topic"])];
        let out = rr(&topics(&[("topic", 1)]), &members);
        assert_eq!(out, expect(&[("consumer1", &[tp("topic", 0)]), ("consumer2", &[])]));
    }

    #[test]
    fn test_two_consumers_one_topic_two_partitions() {
        let members = [member("consumer1", &["topic"]), member("consumer2", &["topic"])];
        let out = rr(&topics(&[("topic", 2)]), &members);
        assert_eq!(out, expect(&[("consumer1", &[tp("topic", 0)]), ("consumer2", &[tp("topic", 1)])]));
    }

    #[test]
    fn test_multiple_consumers_mixed_topics() {
        let members = [
            member("consumer1", &["topic1"]),
            member("consumer2", &["topic1", "topic2"]),
            member("consumer3", &["topic1"]),
        ];
        let out = rr(&topics(&[("topic1", 3), ("topic2", 2)]), &members);
        let c2 = [tp("topic1", 1), tp("topic2", 0), tp("topic2", 1)];
        assert_eq!(
            out,
            expect(&[("consumer1", &[tp("topic1", 0)]), ("consumer2", &c2), ("consumer3", &[tp("topic1", 2)]),])
        );
    }

    #[test]
    fn test_two_dynamic_consumers_two_topics_six_partitions() {
        let both = ["topic1", "topic2"];
        let members = [member("consumer1", &both), member("consumer2", &both)];
        let out = rr(&topics(&[("topic1", 3), ("topic2", 3)]), &members);
        let c1 = [tp("topic1", 0), tp("topic1", 2), tp("topic2", 1)];
        let c2 = [tp("topic1", 1), tp("topic2", 0), tp("topic2", 2)];
        assert_eq!(out, expect(&[("consumer1", &c1), ("consumer2", &c2)]));
    }

    #[test]
    fn test_two_static_consumers_two_topics_six_partitions() {
        let both = ["topic1", "topic2"];
        let t = topics(&[("topic1", 3), ("topic2", 3)]);
        let c_b = [tp("topic1", 0), tp("topic1", 2), tp("topic2", 1)];
        let c_a = [tp("topic1", 1), tp("topic2", 0), tp("topic2", 2)];
        let want = expect(&[("consumer-b", &c_b), ("consumer-a", &c_a)]);
        let both_static =
            [member("consumer-a", &both).instance("instance2"), member("consumer-b", &both).instance("instance1")];
        assert_eq!(rr(&t, &both_static), want);
        // testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions
        let one_static = [member("consumer-a", &both), member("consumer-b", &both).instance("instance1")];
        assert_eq!(rr(&t, &one_static), want);
    }

    #[test]
    fn test_static_member_round_robin_assignment_persistent() {
        let both = ["topic1", "topic2"];
        let t = topics(&[("topic1", 3), ("topic2", 3)]);
        let mut members = vec![
            member("consumer1", &both).instance("instance1"),
            member("consumer2", &both).instance("instance2"),
            member("consumer3", &both).instance("instance3"),
            member("consumer4", &both),
        ];
        let c1 = [tp("topic1", 0), tp("topic2", 1)];
        let c2 = [tp("topic1", 1), tp("topic2", 2)];
        let c3 = [tp("topic1", 2)];
        let c4 = [tp("topic2", 0)];
        let base = [("consumer1", &c1[..]), ("consumer2", &c2), ("consumer3", &c3)];
        let mut want = base.to_vec();
        want.push(("consumer4", &c4));
        assert_eq!(rr(&t, &members), expect(&want));

        members[3] = member("consumer5", &both);
        let mut want = base.to_vec();
        want.push(("consumer5", &c4));
        assert_eq!(rr(&t, &members), expect(&want));
    }

    #[test]
    fn test_static_member_round_robin_assignment_persistent_after_member_id_changes() {
        let both = ["topic1", "topic2"];
        let t = topics(&[("topic1", 5), ("topic2", 5)]);
        let i1 = [tp("topic1", 0), tp("topic1", 3), tp("topic2", 1), tp("topic2", 4)];
        let i2 = [tp("topic1", 1), tp("topic1", 4), tp("topic2", 2)];
        let i3 = [tp("topic1", 2), tp("topic2", 0), tp("topic2", 3)];
        for ids in [["consumer1", "consumer2", "consumer3"], ["z", "a", "m"]] {
            let members = [
                member(ids[0], &both).instance("instance1"),
                member(ids[1], &both).instance("instance2"),
                member(ids[2], &both).instance("instance3"),
            ];
            let want = expect(&[(ids[0], &i1), (ids[1], &i2), (ids[2], &i3)]);
            assert_eq!(rr(&t, &members), want);
        }
    }

    /// Class Javadoc example with unequal subscriptions.
    #[test]
    fn javadoc_unequal_subscriptions() {
        let t = topics(&[("t0", 1), ("t1", 2), ("t2", 3)]);
        let members = [member("C0", &["t0"]), member("C1", &["t0", "t1"]), member("C2", &["t0", "t1", "t2"])];
        let c2 = [tp("t1", 1), tp("t2", 0), tp("t2", 1), tp("t2", 2)];
        assert_eq!(rr(&t, &members), expect(&[("C0", &[tp("t0", 0)]), ("C1", &[tp("t1", 0)]), ("C2", &c2)]));
    }
}
