//! A set of offset ranges, merged as they are added: which offsets of a partition a group has
//! processed, so a repeat is counted as a duplicate exactly once per record.

use std::num::NonZeroU64;

/// Sorted, disjoint, non-adjacent `[start, end)` ranges. A partition read in order holds one
/// range, kept inline (no heap block to reach: over 10,000 partitions each batch touches sets
/// no cache holds) and extended in place by each batch; a gap (a skip, a release) moves the
/// set into a vector, whose ranges a batch touches are found by binary search. Gaps are added
/// and filled near the end, where moving the vector's tail is cheap. 16 bytes: a group keeps
/// two per partition of the world.
#[derive(Clone, Debug)]
pub struct IntervalSet(Repr);

#[derive(Clone, Debug)]
enum Repr {
    /// At most one range: none when start >= end. `end` is never 0 (a range's end is above its
    /// start; the empty set is `[1, 1)`), so the vector's pointer fits beside it in 16 bytes.
    One { start: u64, end: NonZeroU64 },
    /// Boxed: a pointer fits beside `One`'s niche, a 24-byte vector head does not.
    #[allow(clippy::box_collection)]
    Many(Box<Vec<(u64, u64)>>),
}

const EMPTY: Repr = Repr::One { start: 1, end: NonZeroU64::MIN };

impl Default for IntervalSet {
    fn default() -> Self {
        IntervalSet(EMPTY)
    }
}

impl IntervalSet {
    /// Calls `f` with the ranges as a slice.
    fn with_ranges<R>(&self, f: impl FnOnce(&[(u64, u64)]) -> R) -> R {
        match &self.0 {
            &Repr::One { start, end } if start < end.get() => f(&[(start, end.get())]),
            Repr::One { .. } => f(&[]),
            Repr::Many(v) => f(v),
        }
    }

    /// The ranges as a vector, the inline one moved into it first.
    fn many(&mut self) -> &mut Vec<(u64, u64)> {
        if let Repr::One { start, end } = self.0 {
            let end = end.get();
            self.0 = Repr::Many(Box::new(if start < end { vec![(start, end)] } else { Vec::new() }));
        }
        match &mut self.0 {
            Repr::Many(v) => v,
            Repr::One { .. } => unreachable!("moved into a vector above"),
        }
    }

    /// Adds `[from, to)` and returns how many of its offsets were already present.
    pub fn insert(&mut self, from: u64, to: u64) -> u64 {
        if from >= to {
            return 0;
        }
        if let Repr::One { start, end } = &mut self.0 {
            // `to` > `from` >= 0, so every end written here is above 0.
            let (s, e) = (*start, end.get());
            if s >= e {
                (*start, *end) = (from, NonZeroU64::new(to).expect("to > from"));
                return 0;
            }
            if from <= e && to >= s {
                let overlap = e.min(to).saturating_sub(s.max(from));
                (*start, *end) = (s.min(from), NonZeroU64::new(e.max(to)).expect("to > 0"));
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
        self.with_ranges(|ranges| {
            let i = ranges.partition_point(|&(_, e)| e <= from);
            ranges[i..].iter().take_while(|&&(s, _)| s < to).map(|&(s, e)| e.min(to) - s.max(from)).sum()
        })
    }

    /// One past the highest offset in the set (0 when empty).
    pub fn max_end(&self) -> u64 {
        self.with_ranges(|r| r.last().map_or(0, |&(_, e)| e))
    }

    pub fn len(&self) -> u64 {
        self.with_ranges(|r| r.iter().map(|(s, e)| e - s).sum())
    }

    pub fn is_empty(&self) -> bool {
        self.with_ranges(|r| r.is_empty())
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
    fn a_set_takes_16_bytes() {
        assert_eq!(std::mem::size_of::<IntervalSet>(), 16);
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
