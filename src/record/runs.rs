//! Per-partition facts that come in runs: an assignment hands a consumer many partitions at
//! the same moment, and its first fetch reads them all at once. One header per run and 4 bytes
//! per partition, instead of a whole record (24 bytes) per partition: 300 groups over 10,000
//! partitions record 3 million of each.

/// A sequence of `(head, partition)` facts, in the order pushed; consecutive facts with an
/// equal head share it.
#[derive(Clone, Debug)]
pub struct PartitionRuns<H> {
    /// Each run's head and the index in `partitions` where it starts.
    heads: Vec<(H, u32)>,
    partitions: Vec<u32>,
}

impl<H> Default for PartitionRuns<H> {
    fn default() -> Self {
        PartitionRuns { heads: Vec::new(), partitions: Vec::new() }
    }
}

impl<H: Copy + PartialEq> PartitionRuns<H> {
    pub fn push(&mut self, head: H, partition: u32) {
        if self.heads.last().is_none_or(|&(h, _)| h != head) {
            let start = u32::try_from(self.partitions.len()).expect("fewer than 4 billion facts");
            self.heads.push((head, start));
        }
        self.partitions.push(partition);
    }

    /// Every fact, in the order pushed.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (H, u32)> + '_ {
        self.heads.iter().enumerate().flat_map(move |(i, &(h, start))| {
            let end = self.heads.get(i + 1).map_or(self.partitions.len(), |&(_, e)| e as usize);
            self.partitions[start as usize..end].iter().map(move |&p| (h, p))
        })
    }

    /// Every run: its head and its partitions, in the order pushed.
    pub fn runs(&self) -> impl DoubleEndedIterator<Item = (H, &[u32])> + '_ {
        self.heads.iter().enumerate().map(move |(i, &(h, start))| {
            let end = self.heads.get(i + 1).map_or(self.partitions.len(), |&(_, e)| e as usize);
            (h, &self.partitions[start as usize..end])
        })
    }

    pub fn len(&self) -> usize {
        self.partitions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.partitions.is_empty()
    }
}

/// A per-partition fact kept in runs: split into its head and partition, and joined back.
pub trait PartitionFact: Copy {
    type Head: Copy + PartialEq;
    fn split(self) -> (Self::Head, u32);
    fn join(head: Self::Head, partition: u32) -> Self;
}

/// Facts of one kind, kept in runs, read back as the facts pushed in the order pushed.
#[derive(Clone, Debug)]
pub struct Facts<F: PartitionFact>(PartitionRuns<F::Head>);

impl<F: PartitionFact> Default for Facts<F> {
    fn default() -> Self {
        Facts(PartitionRuns::default())
    }
}

impl<F: PartitionFact> Facts<F> {
    pub fn push(&mut self, fact: F) {
        let (head, partition) = fact.split();
        self.0.push(head, partition);
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = F> + '_ {
        self.0.iter().map(|(head, partition)| F::join(head, partition))
    }

    /// The facts in runs: each head with the partitions that share it, in the order pushed (a
    /// reader can skip a whole run by its head).
    pub fn runs(&self) -> impl DoubleEndedIterator<Item = (F::Head, &[u32])> + '_ {
        self.0.runs()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::PartitionRuns;
    use proptest::prelude::*;

    proptest! {
        /// Whatever is pushed reads back in order, however heads repeat.
        #[test]
        fn reads_back_what_was_pushed(facts in proptest::collection::vec((0u8..3, 0u32..50), 0..60)) {
            let mut runs = PartitionRuns::default();
            for &(h, p) in &facts {
                runs.push(h, p);
            }
            prop_assert_eq!(runs.iter().collect::<Vec<_>>(), facts.clone());
            prop_assert_eq!(runs.len(), facts.len());
            let joined: Vec<(u8, u32)> = runs.runs().flat_map(|(h, ps)| ps.iter().map(move |&p| (h, p))).collect();
            prop_assert_eq!(joined, facts.clone());
        }
    }
}
