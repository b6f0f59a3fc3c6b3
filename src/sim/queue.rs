//! The event queue: a binary heap keyed by (time, insertion sequence).
//!
//! The sequence number makes the order total: events at the same instant fire in the order they
//! were scheduled, whatever the heap's internal layout, which is what makes runs reproducible.

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed so that std's max-heap pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue { heap: BinaryHeap::new(), next_seq: 0 }
    }

    pub fn push(&mut self, time: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { time, seq, event });
    }

    /// Takes the next sequence number without queueing anything: the place in the order of
    /// something that happens later without a queued event of its own (the model enters it with
    /// [`Kernel::enter_reserved`](super::Kernel::enter_reserved)) or never.
    pub fn reserve(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Reserves `n` consecutive places at once (see [`reserve`](Self::reserve)); returns the first.
    pub fn reserve_many(&mut self, n: u64) -> u64 {
        let seq = self.next_seq;
        self.next_seq += n;
        seq
    }

    /// Whether `seq` was handed out already.
    pub fn was_reserved(&self, seq: u64) -> bool {
        seq < self.next_seq
    }

    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.pop_with_seq().map(|(t, _, e)| (t, e))
    }

    /// Pops the next event with its sequence number.
    pub fn pop_with_seq(&mut self) -> Option<(SimTime, u64, E)> {
        self.heap.pop().map(|e| (e.time, e.seq, e.event))
    }

    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
    }

    /// The (time, sequence) of the next event.
    pub fn peek_place(&self) -> Option<(SimTime, u64)> {
        self.heap.peek().map(|e| (e.time, e.seq))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut q = EventQueue::new();
        for i in 0..100u32 {
            q.push(SimTime(7), i);
        }
        q.push(SimTime(3), 1000);
        assert_eq!(q.pop(), Some((SimTime(3), 1000)));
        let order: Vec<u32> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, (0..100).collect::<Vec<_>>());
        assert!(q.is_empty());
    }

    #[test]
    fn a_reserved_place_sits_between_the_events_around_it() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), "first");
        let seq = q.reserve();
        q.push(SimTime(5), "third");
        assert!(q.was_reserved(seq) && !q.was_reserved(seq + 2));
        assert_eq!(q.pop_with_seq().map(|(t, s, e)| (t, s < seq, e)), Some((SimTime(5), true, "first")));
        assert!(q.peek_place().is_some_and(|next| (SimTime(5), seq) < next));
    }
}
