//! A set of offset ranges, merged as they are added: which offsets of a partition a group has
//! processed, so a repeat is counted as a duplicate exactly once per record.

/// Sorted, disjoint, non-adjacent `[start, end)` ranges. A partition read in order holds one
/// range, kept inline (no heap block to reach: over 10,000 partitions each batch touches sets
/// no cache holds) and extended in place by each batch; a gap (a skip, a release) moves the
/// set into a vector, whose ranges a batch touches are found by binary search. Gaps are added
/// and filled near the end, where moving the vector's tail is cheap.
#[derive(Clone, Debug)]
pub struct IntervalSet(Repr);

#[derive(Clone, Debug)]
enum Repr {
    /// At most one range: none when start == end.
    One((u64, u64)),
    Many(Vec<(u64, u64)>),
}

impl Default for IntervalSet {
    fn default() -> Self {
        IntervalSet(Repr::One((0, 0)))
    }
}

impl IntervalSet {
    fn ranges(&self) -> &[(u64, u64)] {
        match &self.0 {
            Repr::One(r) if r.0 < r.1 => std::slice::from_ref(r),
            Repr::One(_) => &[],
            Repr::Many(v) => v,
        }
    }

    /// The ranges as a vector, the inline one moved into it first.
    fn many(&mut self) -> &mut Vec<(u64, u64)> {
        if let Repr::One((s, e)) = self.0 {
            self.0 = Repr::Many(if s < e { vec![(s, e)] } else { Vec::new() });
        }
        match &mut self.0 {
            Repr::Many(v) => v,
            Repr::One(_) => unreachable!("moved into a vector above"),
        }
    }

    /// Adds `[from, to)` and returns how many of its offsets were already present.
    pub fn insert(&mut self, from: u64, to: u64) -> u64 {
        if from >= to {
            return 0;
        }
        if let Repr::One((s, e)) = &mut self.0 {
            if *s >= *e {
                (*s, *e) = (from, to);
                return 0;
            }
            if from <= *e && to >= *s {
                let overlap = (*e).min(to).saturating_sub((*s).max(from));
                (*s, *e) = ((*s).min(from), (*e).max(to));
                return overlap;
            }
        }
        let ranges = self.many();
        // The ranges that overlap or touch `[from, to)`: those ending at or after `from` and
        // starting at or before `to`; they are contiguous.
        let i = ranges.partition_point(|&(_, e)| e < from);
        let j = i + ranges[i..].partition_point(|&(s, _)| s <= to);
        if i == j {
            ranges.insert(i, (from, to));
            return 0;
        }
        let mut overlap = 0;
        for &(s, e) in &ranges[i..j] {
            overlap += e.min(to).saturating_sub(s.max(from));
        }
        let merged = (ranges[i].0.min(from), ranges[j - 1].1.max(to));
        ranges[i] = merged;
        ranges.drain(i + 1..j);
        overlap
    }

    /// How many offsets of `[from, to)` are in the set.
    pub fn count_in(&self, from: u64, to: u64) -> u64 {
        if from >= to {
            return 0;
        }
        let ranges = self.ranges();
        let i = ranges.partition_point(|&(_, e)| e <= from);
        ranges[i..].iter().take_while(|&&(s, _)| s < to).map(|&(s, e)| e.min(to) - s.max(from)).sum()
    }

    /// One past the highest offset in the set (0 when empty).
    pub fn max_end(&self) -> u64 {
        self.ranges().last().map_or(0, |&(_, e)| e)
    }

    pub fn len(&self) -> u64 {
        self.ranges().iter().map(|(s, e)| e - s).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges().is_empty()
    }

    /// Forgets every offset at or above `from` (the log was cut there: those offsets will hold
    /// other records). Returns how many were present.
    pub fn truncate_from(&mut self, from: u64) -> u64 {
        let n = self.count_in(from, u64::MAX);
        let ranges = self.many();
        let i = ranges.partition_point(|&(s, _)| s < from);
        ranges.truncate(i);
        if let Some((_, e)) = ranges.last_mut()
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

    #[test]
    fn a_set_is_no_larger_than_a_vector() {
        assert!(std::mem::size_of::<IntervalSet>() <= 32);
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
