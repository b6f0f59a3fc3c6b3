//! Kafka's `SimpleAssignor` for share groups (group-coordinator `SimpleAssignor`,
//! `SimpleHomogeneousAssignmentBuilder`): balance first, then stickiness. With M members and P
//! partitions each partition gets `ceil(M / P)` members, so consumers beyond the partition count
//! still get partitions (they share them); there is no revocation round.

/// The target assignment: for each member (in the order given), its partitions in ascending order.
///
/// `current[i]` is member i's present assignment (kept where the quotas allow). Members are
/// expected in the coordinator's deterministic order (sorted member ids).
pub fn assign(members: usize, partitions: usize, current: &[Vec<u32>]) -> Vec<Vec<u32>> {
    if members == 0 {
        return Vec::new();
    }
    if partitions == 0 {
        return vec![Vec::new(); members];
    }
    let desired = members.div_ceil(partitions);
    // precise = desired * P / M; member i's quota = ceil(precise*(i+1)) - ceil(precise*i), computed
    // in integers: ceil(a*(i)/M) with a = desired * P.
    let total = desired * partitions;
    let quota: Vec<usize> =
        (0..members).map(|i| (total * (i + 1)).div_ceil(members) - (total * i).div_ceil(members)).collect();
    // (1) keep what exists (partitions that no longer exist go), in ascending order.
    let mut assigned: Vec<Vec<u32>> = (0..members)
        .map(|i| {
            let mut v: Vec<u32> = current
                .get(i)
                .map_or(Vec::new(), |c| c.iter().copied().filter(|&p| (p as usize) < partitions).collect());
            v.sort_unstable();
            v.dedup();
            v
        })
        .collect();
    // (2) members above their quota give up their highest partitions.
    for (i, a) in assigned.iter_mut().enumerate() {
        a.truncate(quota[i]);
    }
    // (3) partitions shared by more than `desired` members lose the extra members (latest first).
    let mut sharers: Vec<Vec<usize>> = vec![Vec::new(); partitions];
    for (i, a) in assigned.iter().enumerate() {
        for &p in a {
            sharers[p as usize].push(i);
        }
    }
    for (p, s) in sharers.iter_mut().enumerate() {
        while s.len() > desired {
            let i = s.pop().expect("more than desired");
            assigned[i].retain(|&q| q as usize != p);
        }
    }
    // (4) each under-shared partition goes to the next unfilled member that lacks it, wrapping.
    let mut next = 0;
    for (p, holders) in sharers.iter_mut().enumerate() {
        let mut tries = 0;
        while holders.len() < desired && tries < members {
            let i = next % members;
            next += 1;
            tries += 1;
            if assigned[i].len() < quota[i] && !assigned[i].contains(&(p as u32)) {
                assigned[i].push(p as u32);
                holders.push(i);
                tries = 0;
            }
        }
    }
    for a in &mut assigned {
        a.sort_unstable();
    }
    assigned
}

#[cfg(test)]
mod tests {
    use super::*;

    /// share-groups.md scenario A: 3 partitions, 6 members: each partition shared by 2, nobody idle.
    #[test]
    fn more_members_than_partitions_share_them() {
        let a = assign(6, 3, &[]);
        assert_eq!(a, vec![vec![0], vec![0], vec![1], vec![1], vec![2], vec![2]]);
    }

    /// Scenario A, continued: a 7th member joins. Quotas [2,1,1,2,1,1,1], three members per partition,
    /// nothing taken from anyone: c3 takes p0, c6 p1, and the wrap gives p2 to c0.
    #[test]
    fn a_seventh_member_gets_three_per_partition_without_revocation() {
        let before = assign(6, 3, &[]);
        let mut current = before.clone();
        current.push(Vec::new());
        let a = assign(7, 3, &current);
        assert_eq!(a, vec![vec![0, 2], vec![0], vec![1], vec![0, 1], vec![2], vec![2], vec![1]]);
        for p in 0..3u32 {
            assert_eq!(a.iter().filter(|m| m.contains(&p)).count(), 3);
        }
        for (i, b) in before.iter().enumerate() {
            assert!(b.iter().all(|p| a[i].contains(p)), "member {i} keeps what it had");
        }
    }

    #[test]
    fn fewer_members_than_partitions_get_one_owner_each() {
        let a = assign(2, 5, &[]);
        let sizes: Vec<usize> = a.iter().map(Vec::len).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 5);
        assert!(sizes.iter().all(|&n| n == 2 || n == 3));
        for p in 0..5u32 {
            assert_eq!(a.iter().filter(|m| m.contains(&p)).count(), 1);
        }
    }

    #[test]
    fn degenerate_groups() {
        assert!(assign(0, 3, &[]).is_empty());
        assert_eq!(assign(2, 0, &[]), vec![Vec::<u32>::new(), Vec::new()]);
    }
}
