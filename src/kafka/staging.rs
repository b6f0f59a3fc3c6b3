//! Batches on their way to the broker: the state behind `produce` (which appends them between
//! events), kept apart so the world can hold it without depending on the handlers.

use crate::sim::SimTime;
use std::collections::VecDeque;

/// A batch on its way to the broker: it joins `partition`'s log at (`at`, `seq`). A batch of one
/// record (every batch under `linger_ms: 0`) carries its create time in `first_us`; a longer one's
/// create times are the next `len` of its producer's `created_us`.
pub(super) struct Staged {
    pub(super) at: SimTime,
    pub(super) seq: u64,
    pub(super) partition: u32,
    pub(super) len: u32,
    pub(super) first_us: u64,
}

/// One append, for tests that check the lazy producers against a reference.
#[derive(Clone, Debug)]
pub struct AppendTrace {
    pub partition: u32,
    pub base_offset: u64,
    pub created_us: Vec<u64>,
    /// When the batch reached the broker (its records became fetchable).
    pub at: SimTime,
}

/// Batches on their way, per producer. A producer's batches reach the broker in the order it
/// sent them, so each queue is already in (time, sequence) order.
///
/// Only batches of the same partition need ordering among themselves, so [`World::advance_logs`]
/// takes each queue's due prefix, files it by partition (`picks`) and sorts only a partition that
/// got batches out of order (from two producers): per batch a push and a compare, where a merge
/// of all producers' queues costs a tournament among them.
///
/// [`World::advance_logs`]: super::world::World::advance_logs
#[derive(Default)]
pub struct Staging {
    pub(super) queues: Vec<VecDeque<Staged>>,
    pub(super) created_us: Vec<VecDeque<u64>>,
    /// Per partition, the due batches filed to it (scratch of one advance).
    pub(super) picks: Vec<Vec<Pick>>,
    /// Per partition: its picks are not in (time, sequence) order.
    pub(super) unsorted: Vec<bool>,
    /// Partitions with picks, in the order they got their first.
    pub(super) touched: Vec<u32>,
    /// Create times of the due batches longer than one record.
    pub(super) times: Vec<u64>,
}

/// A due batch filed to its partition: `first` is its create time (one record) or where its
/// create times start in [`Staging::times`].
#[derive(Clone, Copy)]
pub(super) struct Pick {
    pub(super) at: SimTime,
    pub(super) seq: u64,
    pub(super) first: u64,
    pub(super) len: u32,
    pub(super) producer: u32,
}

impl Staging {
    pub fn new(producers: usize, partitions: usize) -> Self {
        Staging {
            queues: (0..producers).map(|_| VecDeque::new()).collect(),
            created_us: (0..producers).map(|_| VecDeque::new()).collect(),
            picks: (0..partitions).map(|_| Vec::new()).collect(),
            unsorted: vec![false; partitions],
            touched: Vec::new(),
            times: Vec::new(),
        }
    }

    /// Files every batch placed at or before `bound` by partition; returns whether any was due.
    pub(super) fn take_due(&mut self, bound: (SimTime, u64)) -> bool {
        self.times.clear();
        for (p, queue) in self.queues.iter_mut().enumerate() {
            while let Some(b) = queue.front() {
                if (b.at, b.seq) > bound {
                    break;
                }
                let b = queue.pop_front().expect("a front");
                let first = if b.len == 1 {
                    b.first_us
                } else {
                    let start = self.times.len() as u64;
                    self.times.extend(self.created_us[p].drain(..b.len as usize));
                    start
                };
                let pid = b.partition as usize;
                let picks = &mut self.picks[pid];
                match picks.last() {
                    None => self.touched.push(b.partition),
                    Some(last) if (last.at, last.seq) > (b.at, b.seq) => self.unsorted[pid] = true,
                    Some(_) => {}
                }
                picks.push(Pick { at: b.at, seq: b.seq, first, len: b.len, producer: p as u32 });
            }
        }
        !self.touched.is_empty()
    }

    /// Puts partition `pid`'s due batches in the order they join its log.
    pub(super) fn sort_picks(&mut self, pid: u32) {
        let pid = pid as usize;
        if std::mem::take(&mut self.unsorted[pid]) {
            self.picks[pid].sort_unstable_by_key(|k| (k.at, k.seq));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Whatever the producers' interleaving, each partition gets its due batches in
    /// (time, sequence) order, and nothing placed after the bound.
    #[test]
    fn due_batches_reach_each_partition_in_place_order() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for producers in [1, 2, 10] {
            let mut st = Staging::new(producers, 4);
            let mut seq = 0;
            let mut all = vec![];
            for p in 0..producers {
                let mut at = 0;
                for _ in 0..200 {
                    at += rng.gen_range(0..3);
                    seq += 1;
                    let b = Staged { at: SimTime(at), seq, partition: rng.gen_range(0..4), len: 1, first_us: seq };
                    all.push((b.partition, b.at, b.seq));
                    st.queues[p].push_back(b);
                }
            }
            let bound = (SimTime(150), 500);
            st.take_due(bound);
            for pid in 0..4u32 {
                st.sort_picks(pid);
                let got: Vec<(SimTime, u64)> = st.picks[pid as usize].iter().map(|k| (k.at, k.seq)).collect();
                let mut want: Vec<(SimTime, u64)> =
                    all.iter().filter(|b| b.0 == pid && (b.1, b.2) <= bound).map(|b| (b.1, b.2)).collect();
                want.sort();
                assert_eq!(got, want, "{producers} producers, partition {pid}");
            }
        }
    }
}
