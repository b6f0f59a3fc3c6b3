//! Batches on their way to the broker: the state behind `produce` (which appends them between
//! events), kept apart so the world can hold it without depending on the handlers.

use crate::sim::SimTime;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// A batch on its way to the broker: it joins `partition`'s log at (`at`, `seq`). Its records'
/// create times are the next `len` of its producer's `created_us`.
pub(super) struct Staged {
    pub(super) at: SimTime,
    pub(super) seq: u64,
    pub(super) partition: u32,
    pub(super) len: u32,
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
/// sent them, so each queue is already in (time, sequence) order; `heads` holds each non-empty
/// queue's first place, so the next batch of all is found without scanning the producers.
#[derive(Default)]
pub struct Staging {
    pub(super) queues: Vec<VecDeque<Staged>>,
    pub(super) created_us: Vec<VecDeque<u64>>,
    pub(super) heads: BinaryHeap<Reverse<(SimTime, u64, u32)>>,
}

impl Staging {
    pub fn new(producers: usize) -> Self {
        Staging {
            queues: (0..producers).map(|_| VecDeque::new()).collect(),
            created_us: (0..producers).map(|_| VecDeque::new()).collect(),
            heads: BinaryHeap::new(),
        }
    }
}
