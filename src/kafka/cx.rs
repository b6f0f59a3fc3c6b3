//! What a role's handler may touch besides its own state: the plan, the clock and event queue,
//! the recorder, and the network. Roles take this instead of the whole world.

use crate::kafka::net::Network;
use crate::kafka::world::Ev;
use crate::record::Recorder;
use crate::record::event::What;
use crate::scenario::plan::Plan;
use crate::sim::{Kernel, SimDuration, SimTime};

pub struct Cx<'a> {
    pub plan: &'a Plan,
    pub kernel: &'a mut Kernel<Ev>,
    pub rec: &'a mut Recorder,
    pub net: &'a mut Network,
}

impl Cx<'_> {
    pub fn now(&self) -> SimTime {
        self.kernel.now()
    }

    /// Records an event at the current instant.
    pub fn event(&mut self, what: What) {
        let now = self.kernel.now();
        self.rec.event(now, what);
    }

    pub fn schedule_at(&mut self, at: SimTime, ev: Ev) {
        self.kernel.schedule_at(at, ev);
    }

    pub fn schedule_after(&mut self, after: SimDuration, ev: Ev) {
        self.kernel.schedule_after(after, ev);
    }
}
