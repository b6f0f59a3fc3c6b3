//! Kafka's rack-unaware replica placement (a stand-in until the reviewed port lands).

/// Broker ids 1..=brokers per partition, as AdminUtils.assignReplicasToBrokersRackUnaware places them.
pub fn place_rack_unaware(
    brokers: u32,
    partitions: u32,
    replication_factor: u32,
    start_index: u32,
    replica_shift: u32,
    first_partition: u32,
) -> Vec<Vec<u32>> {
    let n = brokers.max(1);
    let mut shift = replica_shift;
    let mut out = Vec::new();
    for p in first_partition..first_partition + partitions {
        if p > 0 && p % n == 0 {
            shift += 1;
        }
        let first = (p + start_index) % n;
        let mut list = vec![first + 1];
        for j in 0..replication_factor.saturating_sub(1) {
            let s = 1 + (shift + j) % (n - 1).max(1);
            list.push((first + s) % n + 1);
        }
        out.push(list);
    }
    out
}
