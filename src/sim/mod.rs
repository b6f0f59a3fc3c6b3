//! The simulation kernel: integer virtual time, the (time, seq) event queue and seeded RNG streams.
//! It knows nothing of Kafka; models drive it through [`Kernel`].

pub mod queue;
pub mod rng;
pub mod time;

pub use queue::EventQueue;
pub use rng::RngStreams;
pub use time::{SimDuration, SimTime};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Events between two publications of the clock to a watcher.
const PUBLISH_EVERY: u64 = 4096;

/// The clock and the queue: pops events in (time, insertion) order for the model, and moves the
/// clock to places the model reserved and found due by itself (no event queued for them).
///
/// The model owns its state; the kernel owns the clock and the queue, so a model can never read a
/// time that is not the current place's.
pub struct Kernel<E> {
    queue: EventQueue<E>,
    now: SimTime,
    /// Sequence number of the event being handled: (now, seq) is the current place in the order.
    seq: u64,
    events_processed: u64,
    /// Virtual time in ns, published now and then for an observer on another thread (a
    /// progress bar). Written only, never read by the simulation: output stays deterministic.
    clock: Option<Arc<AtomicU64>>,
}

impl<E> Default for Kernel<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Kernel<E> {
    pub fn new() -> Self {
        Kernel { queue: EventQueue::new(), now: SimTime::ZERO, seq: 0, events_processed: 0, clock: None }
    }

    /// A clock another thread can read while the run goes on (virtual ns, updated every few
    /// thousand events and at the end).
    pub fn watch(&mut self) -> Arc<AtomicU64> {
        let clock = self.clock.get_or_insert_with(|| Arc::new(AtomicU64::new(0)));
        clock.store(self.now.as_nanos(), Ordering::Relaxed);
        Arc::clone(clock)
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn events_processed(&self) -> u64 {
        self.events_processed
    }

    /// Schedules `event` at `time`. Scheduling into the past is a model bug, so it panics.
    pub fn schedule_at(&mut self, time: SimTime, event: E) {
        assert!(time >= self.now, "event scheduled in the past: {time:?} < {:?}", self.now);
        self.queue.push(time, event);
    }

    /// The current place in the order: the time and sequence number of the event being handled
    /// (or of the reserved place entered). Anything placed before it has happened by now;
    /// anything after, not yet.
    pub fn place(&self) -> (SimTime, u64) {
        (self.now, self.seq)
    }

    /// Reserves a place in the order for something that happens at a known time without an
    /// event of its own (see [`EventQueue::reserve`]).
    pub fn reserve(&mut self) -> u64 {
        self.queue.reserve()
    }

    /// Reserves `n` consecutive places; returns the first.
    pub fn reserve_many(&mut self, n: u64) -> u64 {
        self.queue.reserve_many(n)
    }

    /// The place of the next queued event.
    pub fn peek_place(&self) -> Option<(SimTime, u64)> {
        self.queue.peek_place()
    }

    /// Moves the clock to a place reserved earlier, where the model found by itself that
    /// something happens (no queued event comes before it). It counts as an event handled.
    pub fn enter_reserved(&mut self, time: SimTime, seq: u64) {
        assert!((time, seq) > (self.now, self.seq), "a place in the past: ({time:?}, {seq}) <= {:?}", self.place());
        debug_assert!(self.queue.peek_place().is_none_or(|next| (time, seq) < next), "an event comes first");
        debug_assert!(self.queue.was_reserved(seq), "sequence {seq} was never reserved");
        self.now = time;
        self.seq = seq;
        self.count_event();
    }

    pub fn schedule_after(&mut self, delay: SimDuration, event: E) {
        self.queue.push(self.now + delay, event);
    }

    /// Pops the next event at or before `end`, advancing the clock to it.
    pub fn next_until(&mut self, end: SimTime) -> Option<E> {
        if self.queue.peek_time()? > end {
            return None;
        }
        let (time, seq, event) = self.queue.pop_with_seq()?;
        self.now = time;
        self.seq = seq;
        self.count_event();
        Some(event)
    }

    fn count_event(&mut self) {
        self.events_processed += 1;
        if self.events_processed.is_multiple_of(PUBLISH_EVERY)
            && let Some(c) = &self.clock
        {
            c.store(self.now.as_nanos(), Ordering::Relaxed);
        }
    }

    /// Moves the clock to `end` once no event before it is left (the run's last instant).
    pub fn finish_at(&mut self, end: SimTime) {
        debug_assert!(self.queue.peek_time().is_none_or(|t| t > end));
        self.now = self.now.max(end);
        self.seq = u64::MAX;
        if let Some(c) = &self.clock {
            c.store(self.now.as_nanos(), Ordering::Relaxed);
        }
    }

    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_events_in_time_then_insertion_order() {
        let mut k = Kernel::new();
        k.schedule_at(SimTime::from_millis(5), "b1");
        k.schedule_at(SimTime::from_millis(1), "a");
        k.schedule_at(SimTime::from_millis(5), "b2");
        k.schedule_at(SimTime::from_millis(9), "late");
        let mut seen = vec![];
        while let Some(e) = k.next_until(SimTime::from_millis(6)) {
            seen.push((k.now().as_millis(), e));
        }
        assert_eq!(seen, vec![(1, "a"), (5, "b1"), (5, "b2")]);
        assert_eq!(k.events_processed(), 3);
        assert_eq!(k.pending(), 1);
    }

    #[test]
    fn a_reserved_place_is_entered_between_events() {
        let mut k = Kernel::new();
        k.schedule_at(SimTime::from_millis(1), "a");
        let seq = k.reserve();
        k.schedule_at(SimTime::from_millis(2), "c");
        assert_eq!(k.next_until(SimTime::from_millis(9)), Some("a"));
        assert!(k.peek_place().is_some_and(|next| (SimTime::from_millis(2), seq) < next));
        k.enter_reserved(SimTime::from_millis(2), seq);
        assert_eq!(k.place(), (SimTime::from_millis(2), seq));
        assert_eq!(k.next_until(SimTime::from_millis(9)), Some("c"));
        assert_eq!(k.events_processed(), 3);
    }

    #[test]
    #[should_panic(expected = "in the past")]
    fn entering_a_place_already_passed_is_a_bug() {
        let mut k = Kernel::new();
        let seq = k.reserve();
        k.schedule_at(SimTime::from_millis(5), ());
        k.next_until(SimTime::from_millis(10));
        k.enter_reserved(SimTime::from_millis(5), seq);
    }

    #[test]
    #[should_panic(expected = "in the past")]
    fn scheduling_into_the_past_is_a_bug() {
        let mut k = Kernel::new();
        k.schedule_at(SimTime::from_millis(5), ());
        k.next_until(SimTime::from_millis(10));
        k.schedule_at(SimTime::from_millis(1), ());
    }
}
