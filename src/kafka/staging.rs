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

impl Staged {
    pub(super) fn key(&self) -> u128 {
        place_key(self.at, self.seq)
    }
}

/// A place in the event order, (time, sequence), as one number that orders the same way.
pub(super) fn place_key(at: SimTime, seq: u64) -> u128 {
    (u128::from(at.as_nanos()) << 64) | u128::from(seq)
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
/// sent them, so each queue is already in (time, sequence) order; `heads` finds the earliest
/// queue front of all.
#[derive(Default)]
pub struct Staging {
    pub(super) queues: Vec<VecDeque<Staged>>,
    pub(super) created_us: Vec<VecDeque<u64>>,
    pub(super) heads: Heads,
}

impl Staging {
    pub fn new(producers: usize) -> Self {
        Staging {
            queues: (0..producers).map(|_| VecDeque::new()).collect(),
            created_us: (0..producers).map(|_| VecDeque::new()).collect(),
            heads: Heads::new(producers),
        }
    }
}

/// A winner tree over the producers' queue fronts: the earliest front is at the root, and a
/// queue whose front changes replays only its path to the root, comparing single numbers with
/// no data-dependent branching on which side wins (a binary heap's sifting mispredicts about
/// every other step).
#[derive(Default)]
pub(super) struct Heads {
    /// Per queue, the place key of its front (u128::MAX: empty).
    keys: Vec<u128>,
    /// Node i (1-based, children 2i and 2i+1) holds the queue whose front wins below it;
    /// leaves are nodes `width + q`.
    winner: Vec<u32>,
    width: usize,
}

impl Heads {
    fn new(queues: usize) -> Self {
        let width = queues.max(1).next_power_of_two();
        let mut winner = vec![0; 2 * width];
        for q in 0..width {
            winner[width + q] = q as u32;
        }
        // Every node starts with a queue from below it (all empty, so any of them wins).
        for node in (1..width).rev() {
            winner[node] = winner[2 * node];
        }
        Heads { keys: vec![u128::MAX; width], winner, width }
    }

    /// The queue with the earliest front, and that front's key (u128::MAX: all empty).
    #[inline]
    pub(super) fn first(&self) -> (usize, u128) {
        let q = self.winner[1] as usize;
        (q, self.keys[q])
    }

    /// Queue `q`'s front is now `key` (u128::MAX: empty).
    #[inline]
    pub(super) fn set(&mut self, q: usize, key: u128) {
        self.keys[q] = key;
        let mut node = (self.width + q) >> 1;
        while node >= 1 {
            let (l, r) = (self.winner[2 * node], self.winner[2 * node + 1]);
            // Ties go left: only empty queues tie (keys are unique places).
            let left_wins = self.keys[l as usize] <= self.keys[r as usize];
            self.winner[node] = if left_wins { l } else { r };
            node >>= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn the_winner_is_always_the_earliest_front() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for queues in [1, 2, 3, 10, 17, 100] {
            let mut heads = Heads::new(queues);
            let mut keys = vec![u128::MAX; queues];
            assert_eq!(heads.first().1, u128::MAX);
            for _ in 0..2000 {
                let q = rng.gen_range(0..queues);
                let k = if rng.gen_bool(0.2) { u128::MAX } else { rng.gen_range(0..1_000_000u128) * 1000 + q as u128 };
                keys[q] = k;
                heads.set(q, k);
                let min = *keys.iter().min().unwrap();
                let (w, key) = heads.first();
                assert_eq!(key, min);
                assert_eq!(keys[w], min);
            }
        }
    }
}
