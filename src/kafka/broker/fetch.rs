//! The broker's fetch side: where a fetch is answered. It reads from the consumer's positions
//! (up to `max_poll_records`, partitions in a rotating order), parks as a long poll when there is
//! nothing (`fetch.max.wait.ms`; the next batch to arrive wakes it, see `produce`), and sends the
//! response back.

use crate::kafka::broker::Broker;
use crate::kafka::client::{Consumer, GroupKind, Phase};
use crate::kafka::world::{Ev, World};

impl World {
    pub(crate) fn fetch_at_broker(&mut self, c: usize) {
        // A ShareFetch carries the acknowledgements of the records the last one returned.
        if self.consumers[c].kind() == GroupKind::Share {
            self.share_send_acks(c);
        }
        let n = self.gather(c);
        let con = &self.consumers[c];
        if n == 0 && !con.config.fetch_max_wait.is_zero() && !con.owned.is_empty() {
            let wait = con.config.fetch_max_wait;
            let seq = con.fetch_seq;
            self.park_fetch(c);
            self.schedule_consumer(c, wait, |c, inc| Ev::FetchExpire { c, inc, seq });
            return;
        }
        if n == 0 && con.owned.is_empty() {
            // poll(timeout) with nothing assigned blocks for the timeout and returns nothing.
            let wait = con.config.fetch_max_wait;
            self.schedule_consumer(c, wait, |c, inc| Ev::FetchExpire { c, inc, seq: u32::MAX });
            self.consumers[c].fetch_seq = u32::MAX;
            return;
        }
        self.send_response(c);
    }

    /// The records a fetch returns, read into the consumer's batch in hand: a share member's
    /// are acquired for it; a classic consumer's are read from its positions (none while it is
    /// paused, or when a position out of range made it fail).
    pub(crate) fn gather(&mut self, c: usize) -> usize {
        match self.consumers[c].kind() {
            GroupKind::Share => self.share_gather(c),
            GroupKind::Pull | GroupKind::Push | GroupKind::Protocol => {
                self.consumers[c].inflight.clear();
                if self.consumers[c].paused || !self.fix_out_of_range(c) {
                    return 0;
                }
                let now = self.now();
                self.consumers[c].note_first_fetches(c, now, &mut self.rec);
                self.broker.read(&mut self.consumers[c])
            }
        }
    }

    /// fetch.max.wait.ms passed with nothing to return (pull: answer empty), or poll(timeout)
    /// returned empty (push: the loop turns and polls again).
    pub(crate) fn fetch_expire(&mut self, c: usize) {
        match self.consumers[c].kind() {
            GroupKind::Push => {
                self.consumers[c].phase = Phase::Idle;
                self.poll(c);
            }
            GroupKind::Pull | GroupKind::Share | GroupKind::Protocol => {
                self.gather(c);
                self.send_response(c);
            }
        }
    }

    /// Something a parked fetch waits for happened on its partition: the fetch is answered if it
    /// is still the one out (its consumer neither restarted nor gave it up).
    pub(crate) fn answer_waiter(&mut self, (c, inc, seq): (u32, u32, u32)) {
        if !self.consumers[c as usize].waits_for(inc, seq) {
            return;
        }
        let con = &self.consumers[c as usize];
        if con.is_hung() && con.kind() != GroupKind::Share {
            // The broker answers; a frozen consumer reads the answer when it resumes. A classic
            // fetch's answer changes nothing at the broker, so it is read then, from the log.
            self.answered_while_hung(c as usize, seq);
        } else {
            // A share fetch is completed by the broker as for a live member: it cannot know the
            // host is frozen, so the records it acquires are locked for it (and the response waits
            // in the frozen consumer's queue, see `send_response`).
            // DelayedShareFetch.tryComplete -> SharePartition.acquire.
            self.respond(c as usize);
        }
    }

    /// Answers a parked fetch: the log is read again, since records arrived while it waited.
    pub(crate) fn respond(&mut self, c: usize) {
        if self.gather(c) == 0 && self.consumers[c].kind() == GroupKind::Share {
            self.share_repark(c);
            return;
        }
        self.send_response(c);
    }

    pub(crate) fn send_response(&mut self, c: usize) {
        let con = &mut self.consumers[c];
        con.fetch_seq = con.fetch_seq.wrapping_add(1); // later wake-ups of this fetch are stale
        // A hung consumer's response is an event of its own, held back until it resumes.
        if self.net.delay.is_zero() && !con.is_hung() {
            self.deliver(c);
        } else {
            let d = self.net.delay;
            let seq = self.consumers[c].fetch_seq;
            self.schedule_consumer(c, d, |c, inc| Ev::FetchResponse { c, inc, seq });
        }
    }
}

/// Appends the journal keeps at least: a consumer quiet for longer looks at all its partitions
/// again.
const JOURNAL_KEEP: usize = 1 << 16;

/// The partitions appended to, in order: `parts[i]` got the `base + i`-th batch.
#[derive(Default)]
pub struct Journal {
    parts: Vec<u32>,
    base: u64,
}

impl Journal {
    /// Partition `p` got a batch (no cluster: see `Broker::log_ends`).
    pub(crate) fn push(&mut self, p: u32) {
        if self.parts.len() >= 2 * JOURNAL_KEEP {
            self.parts.drain(..JOURNAL_KEEP);
            self.base += JOURNAL_KEEP as u64;
        }
        self.parts.push(p);
    }

    fn end(&self) -> u64 {
        self.base + self.parts.len() as u64
    }

    /// The partitions appended to from the `since`-th batch on, if the journal still has them.
    fn since(&self, since: u64) -> Option<&[u32]> {
        (since >= self.base).then(|| &self.parts[(since - self.base) as usize..])
    }
}

impl Broker {
    /// The broker reads from the consumer's positions, up to `max_poll_records`, starting at a
    /// rotating partition and draining each partition before the next, as Kafka's fetcher does.
    ///
    /// A consumer that had read all its partitions to their ends (`quiet_since`) can only have
    /// records in those appended to since, which the journal lists: those alone are looked at,
    /// in the same rotating order, so the answer is the same as a look at every partition (over
    /// 10,000 partitions, most fetches find nothing new, and each was a pass over all of them).
    pub(crate) fn read(&self, con: &mut Consumer) -> usize {
        let n = con.owned.len();
        let budget = u64::from(con.config.max_poll_records);
        // The owned partitions from `rotate` on, wrapping round (no division per partition).
        let start = if n == 0 { 0 } else { con.rotate % n };
        let end = self.journal.end();
        let fresh = con
            .quiet_since
            .filter(|_| !self.log_ends.is_empty() && budget > 0)
            .and_then(|since| self.journal.since(since))
            .filter(|fresh| fresh.len() < n);
        if let Some(fresh) = fresh {
            // Classic consumers keep `owned` sorted by partition (`take_partitions`).
            let slot = |p: u32| con.owned.binary_search_by_key(&p, |o| o.partition).ok();
            let mut ks: Vec<usize> = fresh.iter().filter_map(|&p| slot(p)).collect();
            ks.sort_unstable_by_key(|&k| if k >= start { k - start } else { k + n - start });
            ks.dedup();
            self.read_from(&con.owned, ks.into_iter(), budget, &mut con.inflight.ranges);
            if cfg!(debug_assertions) {
                let mut all = Vec::new();
                self.read_from(&con.owned, (start..n).chain(0..start), budget, &mut all);
                debug_assert_eq!(all, con.inflight.ranges, "a partition with records was not journaled");
            }
        } else {
            self.read_from(&con.owned, (start..n).chain(0..start), budget, &mut con.inflight.ranges);
        }
        if con.inflight.is_empty() && budget > 0 && !self.log_ends.is_empty() {
            con.quiet_since = Some(end);
        }
        con.inflight.len()
    }

    /// Reads the owned partitions at `order` (indices into `owned`) into `out`, up to `budget`.
    fn read_from(
        &self,
        owned: &[crate::kafka::client::Owned],
        order: impl Iterator<Item = usize>,
        mut budget: u64,
        out: &mut Vec<(u32, u64, u64)>,
    ) {
        for k in order {
            if budget == 0 {
                break;
            }
            let o = owned[k];
            let leo = if let Some(&end) = self.log_ends.get(o.partition as usize) {
                debug_assert_eq!(end, self.partitions[o.partition as usize].log.log_end_offset());
                end
            } else {
                let part = &self.partitions[o.partition as usize];
                if part.unreadable {
                    continue; // its leader is gone: the fetch gets NOT_LEADER_OR_FOLLOWER for it
                }
                part.log.log_end_offset()
            };
            let take = leo.saturating_sub(o.position).min(budget);
            if take > 0 {
                // Records are taken in partition order from a rotating start, so no partition starves.
                out.push((o.partition, o.position, o.position + take));
                budget -= take;
            }
        }
    }
}
