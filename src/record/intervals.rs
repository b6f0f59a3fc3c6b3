//! A set of offset ranges, merged as they are added: which offsets of a partition a group has
//! processed, so a repeat is counted as a duplicate exactly once per record.

use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct IntervalSet {
    /// start -> end (exclusive), disjoint and non-adjacent.
    ranges: BTreeMap<u64, u64>,
}

impl IntervalSet {
    /// Adds `[from, to)` and returns how many of its offsets were already present.
    pub fn insert(&mut self, from: u64, to: u64) -> u64 {
        if from >= to {
            return 0;
        }
        let mut overlap = 0;
        let mut start = from;
        let mut end = to;
        // The range starting at or before `from` may overlap or touch it.
        if let Some((&s, &e)) = self.ranges.range(..=from).next_back()
            && e >= from
        {
            overlap += e.min(to).saturating_sub(from);
            start = s;
            end = end.max(e);
            self.ranges.remove(&s);
        }
        let later: Vec<(u64, u64)> = self.ranges.range(from..=to).map(|(&s, &e)| (s, e)).collect();
        for (s, e) in later {
            overlap += e.min(to).saturating_sub(s.max(from));
            end = end.max(e);
            self.ranges.remove(&s);
        }
        self.ranges.insert(start, end);
        overlap
    }

    /// How many offsets of `[from, to)` are in the set.
    pub fn count_in(&self, from: u64, to: u64) -> u64 {
        if from >= to {
            return 0;
        }
        let mut n = 0;
        if let Some((_, &e)) = self.ranges.range(..from).next_back() {
            n += e.min(to).saturating_sub(from);
        }
        for (&s, &e) in self.ranges.range(from..to) {
            n += e.min(to) - s;
        }
        n
    }

    /// One past the highest offset in the set (0 when empty).
    pub fn max_end(&self) -> u64 {
        self.ranges.iter().next_back().map_or(0, |(_, &e)| e)
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
        let above: Vec<u64> = self.ranges.range(from..).map(|(&s, _)| s).collect();
        for s in above {
            self.ranges.remove(&s);
        }
        if let Some((_, e)) = self.ranges.range_mut(..from).next_back()
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
