//! A producer's tick as the world enters it: the tick's closed batches get their places in the
//! event order, and its next tick its place, with no event queued for either (the feed's
//! stream of ticks is their queue; see `feed`).

use crate::kafka::producer::feed::Feed;
use crate::kafka::world::Ev;
use crate::sim::Kernel;

impl Feed {
    /// The world is at the next producer tick: reserve its batches' places, and its next tick's.
    pub(crate) fn enter_tick(&mut self, kernel: &mut Kernel<Ev>) {
        let tick = self.take_tick(|n| kernel.reserve_many(n));
        debug_assert!(tick.at == kernel.now(), "the feed replays the world's tick order");
        if tick.next.is_some() {
            // The place its next tick has, as if it were queued now (ticks past the run's end
            // take theirs too, so every later sequence number stays the same).
            let seq = kernel.reserve();
            self.tick_placed(tick.producer, seq);
        }
    }
}
