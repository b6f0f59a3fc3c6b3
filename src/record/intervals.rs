//! A set of offset ranges, merged as they are added: which offsets of a partition a group has
//! processed, so a repeat is counted as a duplicate exactly once per record.

/// Sorted, disjoint, non-adjacent `[start, end)` ranges in a vector: a partition read in order
/// holds one range (a tree would allocate a node of eleven), extended in place by each batch;
/// the ranges a batch touches are found by binary search. Gaps (skips, releases) are added and
/// filled near the end, where moving the vector's tail is cheap.
#[derive(Clone, Debug, Default)]
pub struct IntervalSet {
    ranges: Vec<(u64, u64)>,
}

impl IntervalSet {
    /// Adds `[from, to)` and returns how many of its offsets were already present.
    pub fn insert(&mut self, from: u64, to: u64) -> u64 {
        if from >= to {
            return 0;
        }
        // The ranges that overlap or touch `[from, to)`: those ending at or after `from` and
        // starting at or before `to`; they are contiguous.
        let i = self.ranges.partition_point(|&(_, e)| e < from);
        let j = i + self.ranges[i..].partition_point(|&(s, _)| s <= to);
        if i == j {
            self.ranges.insert(i, (from, to));
            return 0;
        }
        let mut overlap = 0;
        for &(s, e) in &self.ranges[i..j] {
            overlap += e.min(to).saturating_sub(s.max(from));
        }
        let merged = (self.ranges[i].0.min(from), self.ranges[j - 1].1.max(to));
        self.ranges[i] = merged;
        self.ranges.drain(i + 1..j);
        overlap
    }

    /// How many offsets of `[from, to)` are in the set.
    pub fn count_in(&self, from: u64, to: u64) -> u64 {
        if from >= to {
            return 0;
        }
        let i = self.ranges.partition_point(|&(_, e)| e <= from);
        self.ranges[i..].iter().take_while(|&&(s, _)| s < to).map(|&(s, e)| e.min(to) - s.max(from)).sum()
    }

    /// One past the highest offset in the set (0 when empty).
    pub fn max_end(&self) -> u64 {
        self.ranges.last().map_or(0, |&(_, e)| e)
    }

    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|(s, e)| e - s).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Forgets every offset at or above `from` (the log was cut there: those offsets will hold
    /// other records). Returns how many were present.
    pub fn truncate_from(&mut self, from: u64) -> u64 {
        let n = self.count_in(from, u64::MAX);
        let i = self.ranges.partition_point(|&(s, _)| s < from);
        self.ranges.truncate(i);
        if let Some((_, e)) = self.ranges.last_mut()
            && *e > from
        {
            *e = from;
        }
        n
    }
}
#[cfg(test)]
mod tests {
    #[test]
    fn truncation_forgets_what_is_above_the_cut() {
        let mut s = super::IntervalSet::default();
        s.insert(0, 10);
        s.insert(20, 30);
        assert_eq!(s.truncate_from(5), 15);
        assert_eq!(s.len(), 5);
        assert_eq!(s.max_end(), 5);
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn overlaps_are_counted_once() {
        let mut s = IntervalSet::default();
        assert_eq!(s.insert(0, 10), 0);
        assert_eq!(s.insert(5, 15), 5);
        assert_eq!(s.insert(20, 30), 0);
        assert_eq!(s.insert(0, 40), 25);
        assert_eq!(s.len(), 40);
        assert_eq!(s.count_in(35, 50), 5);
    }

    proptest! {
        #[test]
        fn matches_a_bitmap(ops in proptest::collection::vec((0u64..60, 0u64..20), 1..40)) {
            let mut s = IntervalSet::default();
            let mut bits = [false; 80];
            for (from, len) in ops {
                let to = from + len;
                let expect = (from..to).filter(|&o| bits[o as usize]).count() as u64;
                prop_assert_eq!(s.insert(from, to), expect);
                for o in from..to { bits[o as usize] = true; }
                prop_assert_eq!(s.len(), bits.iter().filter(|b| **b).count() as u64);
                prop_assert_eq!(s.count_in(10, 50), bits[10..50].iter().filter(|b| **b).count() as u64);
            }
        }
    }
}
