//! A group's pause and stop-the-world clocks: how long each partition has had no live owner,
//! and how long the whole group processed nothing during a rebalance. They are brought up to date
//! after every ownership, liveness or group state change, and kept in the group's ledger.

use crate::kafka::broker::Broker;
use crate::kafka::client::Consumer;
use crate::kafka::coordinator::Group;
use crate::record::ledger::Ledger;
use crate::sim::SimTime;

impl Group {
    /// Brings the clocks up to `now`. Counting starts once the group has had its first
    /// assignment; share groups never rebalance this way, so their clocks never start.
    pub fn refresh_clocks(&self, consumers: &[Consumer], broker: &Broker, ledger: &mut Ledger, now: SimTime) {
        if ledger.rebalances == 0 {
            return;
        }
        let cg = self.offsets();
        let mut any_live = false;
        for &p in &self.partitions {
            // A partition an add_partitions has yet to create cannot pause.
            let part = &broker.partitions[p as usize];
            if part.index >= broker.topics[part.topic].partitions {
                continue;
            }
            let live = cg.owner(p).is_some_and(|c| consumers[c].is_running() && !consumers[c].is_hung());
            any_live |= live;
            match (live, ledger.paused_since(p)) {
                (false, None) => ledger.set_paused_since(p, Some(now)),
                (true, Some(t)) => {
                    ledger.pause_total += now - t;
                    ledger.set_paused_since(p, None);
                }
                _ => {}
            }
        }
        let stw = self.is_rebalancing() && !any_live;
        match (stw, ledger.stw_since) {
            (true, None) => ledger.stw_since = Some(now),
            (false, Some(t)) => {
                let d = now - t;
                ledger.stw_total += d;
                ledger.stw_max = ledger.stw_max.max(d);
                ledger.stw_since = None;
            }
            _ => {}
        }
    }

    /// Closes the open pause and stop-the-world intervals at the end of the run.
    pub fn close_clocks(&self, ledger: &mut Ledger, now: SimTime) {
        for &p in &self.partitions {
            if let Some(t) = ledger.paused_since(p) {
                ledger.set_paused_since(p, None);
                ledger.pause_total += now - t;
            }
        }
        if let Some(t) = ledger.stw_since.take() {
            let d = now - t;
            ledger.stw_total += d;
            ledger.stw_max = ledger.stw_max.max(d);
        }
    }
}
