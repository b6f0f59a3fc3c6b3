//! Kafka's rack-unaware replica placement: `AdminUtils.assignReplicasToBrokersRackUnaware`
//! (server-common/src/main/java/org/apache/kafka/admin/AdminUtils.java, branches 3.x and 4.0;
//! removed in 4.1 by KAFKA-18799, when only the KRaft controller's StripedReplicaPlacer was left
//! placing replicas). It is pure arithmetic, so a run that draws `start_index` and
//! `replica_shift` from its seed gets the same replicas every time.
//!
//! The first replica (the preferred leader) of each partition goes round-robin over the sorted
//! brokers from `start_index`; the others follow it at a shift that grows by one each time the
//! partition id wraps around the brokers, so partitions led by one broker spread their
//! followers over the others.

/// The replicas, as broker ids 1..=`brokers`, of `partitions` partitions numbered from
/// `first_partition`, each `replication_factor` distinct brokers with the preferred leader
/// first. `start_index` and `replica_shift` are what Kafka draws with `rand.nextInt(brokers)`
/// unless a fixed start index is given (then both are it); `first_partition` is Kafka's
/// `startPartitionId`, the topic's partition count before partitions are added.
///
/// Panics unless 1 <= `replication_factor` <= `brokers` (Kafka throws
/// InvalidReplicationFactorException; validation refuses such a scenario first).
pub fn place_rack_unaware(
    brokers: u32,
    partitions: u32,
    replication_factor: u32,
    start_index: u32,
    replica_shift: u32,
    first_partition: u32,
) -> Vec<Vec<u32>> {
    assert!(
        (1..=brokers).contains(&replication_factor),
        "replication factor {replication_factor} must be 1..={brokers} (the broker count)"
    );
    // Kafka's Java ints; u64 here so that no shift or id can overflow.
    let n = u64::from(brokers);
    let start = u64::from(start_index);
    let mut shift = u64::from(replica_shift);
    // Broker list index i is broker id i + 1: Kafka's list, sorted ascending.
    let id = |index: u64| (index + 1) as u32;
    (0..u64::from(partitions))
        .map(|i| {
            let partition = u64::from(first_partition) + i;
            if partition > 0 && partition.is_multiple_of(n) {
                shift += 1;
            }
            let first = (partition + start) % n;
            let mut replicas = Vec::with_capacity(replication_factor as usize);
            replicas.push(id(first));
            replicas.extend((0..u64::from(replication_factor) - 1).map(|j| id(replica_index(first, shift, j, n))));
            replicas
        })
        .collect()
}

/// AdminUtils.replicaIndex: the j-th follower sits 1 + (shift + j) mod (n - 1) places after the
/// leader, so it is never the leader itself and the followers are distinct.
fn replica_index(first: u64, shift: u64, j: u64, n: u64) -> u64 {
    let offset = 1 + (shift + j) % (n - 1);
    (first + offset) % n
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Kafka's ids are 0-based; ours are 1-based.
    fn from_kafka(lists: &[&[u32]]) -> Vec<Vec<u32>> {
        lists.iter().map(|l| l.iter().map(|b| b + 1).collect()).collect()
    }

    /// AdminRackAwareTest#testReplicaAssignment (Kafka 4.0): five brokers, ten partitions,
    /// replication factor 3, fixed start index 0. It is also AdminUtils' Javadoc table.
    #[test]
    fn kafka_s_replica_assignment_example() {
        let expected = from_kafka(&[
            &[0, 1, 2],
            &[1, 2, 3],
            &[2, 3, 4],
            &[3, 4, 0],
            &[4, 0, 1],
            &[0, 2, 3],
            &[1, 3, 4],
            &[2, 4, 0],
            &[3, 0, 1],
            &[4, 1, 2],
        ]);
        assert_eq!(place_rack_unaware(5, 10, 3, 0, 0, 0), expected);
    }

    /// AddPartitionsTest (Kafka 2.8, ZooKeeper's AdminZkClient#addPartitions): four brokers,
    /// start index = the index of partition 0's leader, startPartitionId = the old count. Kafka's
    /// test checks each new partition's leader and replica set.
    #[test]
    fn kafka_s_add_partitions_examples() {
        // new-topic3: partition 0 on [2, 3, 0, 1], grown to 7 partitions.
        let added = place_rack_unaware(4, 6, 4, 2, 2, 1);
        let expected_leaders = [3, 0, 1, 2, 3, 0];
        for (p, replicas) in added.iter().enumerate() {
            assert_eq!(replicas[0], expected_leaders[p] + 1, "partition {}", p + 1);
            let mut sorted = replicas.clone();
            sorted.sort();
            assert_eq!(sorted, vec![1, 2, 3, 4], "partition {}", p + 1);
        }
        // new-topic2: partition 0 on [1, 2], grown to 3 partitions: 1 -> [2, 0], 2 -> [3, 1].
        assert_eq!(place_rack_unaware(4, 2, 2, 1, 1, 1), from_kafka(&[&[2, 0], &[3, 1]]));
    }

    #[test]
    fn one_broker_holds_every_partition() {
        assert_eq!(place_rack_unaware(1, 3, 1, 0, 0, 0), vec![vec![1], vec![1], vec![1]]);
        assert!(place_rack_unaware(3, 0, 2, 1, 1, 0).is_empty());
    }

    proptest! {
        /// Every partition gets RF distinct brokers that exist, and leaders go round-robin: over
        /// any run of partitions, leader counts differ by at most one.
        #[test]
        fn replicas_are_distinct_and_leaders_even(
            brokers in 1u32..=64,
            partitions in 0u32..300,
            rf_pick in 0u32..64,
            start_pick in 0u32..64,
            shift_pick in 0u32..64,
            first_partition in 0u32..1000,
        ) {
            let rf = 1 + rf_pick % brokers;
            let placed = place_rack_unaware(brokers, partitions, rf, start_pick % brokers, shift_pick % brokers, first_partition);
            prop_assert_eq!(placed.len(), partitions as usize);
            let mut leaders = vec![0u32; brokers as usize];
            for replicas in &placed {
                prop_assert_eq!(replicas.len(), rf as usize);
                let mut sorted = replicas.clone();
                sorted.sort();
                sorted.dedup();
                prop_assert_eq!(sorted.len(), rf as usize, "distinct: {:?}", replicas);
                prop_assert!(replicas.iter().all(|b| (1..=brokers).contains(b)), "{:?}", replicas);
                leaders[(replicas[0] - 1) as usize] += 1;
            }
            let (lo, hi) = (leaders.iter().min().unwrap(), leaders.iter().max().unwrap());
            prop_assert!(hi - lo <= 1, "leaders per broker: {:?}", leaders);
        }
    }
}
