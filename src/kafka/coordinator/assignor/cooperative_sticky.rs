//! CooperativeStickyAssignor (`cooperative-sticky`): the sticky target minus every partition that changes owner this round.
//!
//! A withheld partition is still in its old owner's `owned` set but no longer in its assignment,
//! so the old owner revokes it and rejoins; the next round, with the new owned sets, hands it to
//! its target. Calling [`super::assign`] again with the round's result as `owned` is that round.

use std::collections::{HashMap, HashSet};

use super::{Assignment, Group, TopicPartition, sticky};

pub(crate) fn assign(group: &Group) -> Assignment {
    let result = sticky::assign(group);
    let mut assignment = result.assignment;
    let transferring = match result.transferring {
        Some(map) => map,
        None => transferring_after_general_builder(group, &assignment),
    };
    for (tp, new_owner) in transferring {
        if let Some(list) = assignment.get_mut(&new_owner) {
            list.retain(|p| *p != tp);
        }
    }
    assignment
}

/// The general builder keeps no record of moves, so Kafka recomputes them from the raw claims:
/// partitions newly given to someone that some member claimed and did not get back.
fn transferring_after_general_builder(group: &Group, assignment: &Assignment) -> HashMap<TopicPartition, String> {
    let mut added: HashMap<TopicPartition, String> = HashMap::new();
    let mut released: HashSet<TopicPartition> = HashSet::new();
    for member in &group.members {
        let assigned = assignment.get(&member.id).map_or(&[][..], Vec::as_slice);
        let owned: HashSet<&TopicPartition> = member.owned.iter().collect();
        for tp in assigned {
            if !owned.contains(tp) {
                added.insert(tp.clone(), member.id.clone());
            }
        }
        let assigned: HashSet<&TopicPartition> = assigned.iter().collect();
        released.extend(member.owned.iter().filter(|tp| !assigned.contains(tp)).cloned());
    }
    added.retain(|tp, _| released.contains(tp));
    added
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{Assignment, AssignorKind, MemberSubscription, assign};
    use std::collections::BTreeMap;

    fn coop(t: &BTreeMap<String, u32>, members: &[MemberSubscription]) -> Assignment {
        assign(AssignorKind::CooperativeSticky, t, members)
    }

    /// The next round: everyone owns what the previous round gave them, one generation later.
    fn next_round(members: &[MemberSubscription], previous: &Assignment, generation: i32) -> Vec<MemberSubscription> {
        members
            .iter()
            .map(|m| {
                let mut next = m.clone().owning(&previous[&m.member_id]);
                next.generation = Some(generation);
                next
            })
            .collect()
    }

    #[test]
    fn multiple_owners_same_generation_withhold_the_contested_partition() {
        let members = [
            member("consumer1", &["topic"]).owning(&[tp("topic", 0), tp("topic", 1)]).generation(1),
            member("consumer2", &["topic"]).owning(&[tp("topic", 0), tp("topic", 2)]).generation(1),
            member("consumer3", &["topic"]).generation(1),
        ];
        let t3 = topics(&[("topic", 3)]);
        let round1 = coop(&t3, &members);
        let want = expect(&[("consumer1", &[tp("topic", 1)]), ("consumer2", &[tp("topic", 2)]), ("consumer3", &[])]);
        assert_eq!(round1, want);
        let round2 = coop(&t3, &next_round(&members, &round1, 2));
        assert_eq!(round2["consumer3"], vec![tp("topic", 0)]);

        let t4 = topics(&[("topic", 4)]);
        let want = expect(&[
            ("consumer1", &[tp("topic", 1), tp("topic", 3)]),
            ("consumer2", &[tp("topic", 2)]),
            ("consumer3", &[]),
        ]);
        assert_eq!(coop(&t4, &members), want);
    }

    #[test]
    fn test_assignor_with_old_version_subscriptions() {
        let t = topics(&[("topic1", 3)]);
        let members = [
            member("consumer1", &["topic1"]).owning(&[tp("topic1", 0)]),
            member("consumer2", &["topic1"]).owning(&[tp("topic1", 1)]),
            member("consumer3", &["topic1"]),
        ];
        let want = expect(&[
            ("consumer1", &[tp("topic1", 0)]),
            ("consumer2", &[tp("topic1", 1)]),
            ("consumer3", &[tp("topic1", 2)]),
        ]);
        assert_eq!(coop(&t, &members), want);
    }

    #[test]
    fn test_add_remove_consumer_one_topic_two_rounds() {
        let t = topics(&[("topic", 3)]);
        let all = [tp("topic", 0), tp("topic", 1), tp("topic", 2)];
        let first = coop(&t, &[member("consumer1", &["topic"])]);
        assert_eq!(first, expect(&[("consumer1", &all)]));

        let members =
            [member("consumer1", &["topic"]).owning(&all).generation(1), member("consumer2", &["topic"]).generation(1)];
        let round1 = coop(&t, &members);
        let kept = [tp("topic", 0), tp("topic", 1)];
        assert_eq!(round1, expect(&[("consumer1", &kept), ("consumer2", &[])]));
        let round2 = coop(&t, &next_round(&members, &round1, 2));
        assert_eq!(round2, expect(&[("consumer1", &kept), ("consumer2", &[tp("topic", 2)])]));
    }

    #[test]
    fn test_add_remove_two_consumers_two_topics_two_rounds() {
        let both = ["topic1", "topic2"];
        let t = topics(&[("topic1", 3), ("topic2", 4)]);
        let c1 = [tp("topic1", 0), tp("topic1", 2), tp("topic2", 1), tp("topic2", 3)];
        let c2 = [tp("topic1", 1), tp("topic2", 0), tp("topic2", 2)];
        let fresh = [member("consumer1", &both), member("consumer2", &both)];
        assert_eq!(coop(&t, &fresh), expect(&[("consumer1", &c1), ("consumer2", &c2)]));

        let members = [
            member("consumer1", &both).owning(&c1).generation(1),
            member("consumer2", &both).owning(&c2).generation(1),
            member("consumer3", &both).generation(1),
            member("consumer4", &both).generation(1),
        ];
        let round1 = coop(&t, &members);
        let n1 = [tp("topic1", 0), tp("topic2", 1)];
        let n2 = [tp("topic2", 0), tp("topic1", 1)];
        let want = expect(&[("consumer1", &n1), ("consumer2", &n2), ("consumer3", &[]), ("consumer4", &[])]);
        assert_eq!(round1, want);

        let round2 = coop(&t, &next_round(&members, &round1, 2));
        let n3 = [tp("topic1", 2), tp("topic2", 3)];
        let want =
            expect(&[("consumer1", &n1), ("consumer2", &n2), ("consumer3", &n3), ("consumer4", &[tp("topic2", 2)])]);
        assert_eq!(round2, want);
    }
}
