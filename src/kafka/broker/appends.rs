//! Producers and partition logs, driven without an event per batch.
//!
//! The producers run in the feed ([`crate::kafka::producer::feed`]), which hands the world each producer tick's
//! batches and every batch in the order it reaches the broker. A tick reserves its batches'
//! places in the event order (the places their appends would have had as events); before the
//! world handles any event, every batch placed before that event is appended to its log
//! (`Broker::advance_logs`), so whatever the event reads sees exactly the records that have
//! reached the broker by then.
//!
//! When an append has something to do (answer a long poll parked on the partition, or push to a
//! consumer), the world stops there and handles the arrival at the batch's own place, as the
//! event it would have been; no event is queued for it.

use crate::kafka::broker::Broker;
use crate::kafka::client::GroupKind;
use crate::kafka::cluster::Cluster;
use crate::kafka::cluster::produce::{Batch, Io};
use crate::kafka::coordinator::Group;
use crate::kafka::producer::feed::AppendTrace;
use crate::kafka::producer::feed::Feed;
use crate::kafka::world::Ev;
use crate::kafka::world::World;
use crate::record::Recorder;
use crate::sim::Kernel;
use crate::sim::SimTime;

impl Broker {
    /// Appends, in order, every batch placed before `limit`, and stops after one whose arrival
    /// has something to do: a long poll is parked on its partition, or a group pushes it. That
    /// one's place is returned; the world handles its arrival there before anything else.
    pub(crate) fn advance_logs(
        &mut self,
        feed: &mut Feed,
        mut limit: (SimTime, u64),
        mut cluster: Option<&mut Cluster>,
        groups: &[Group],
        rec: &mut Recorder,
        kernel: &mut Kernel<Ev>,
    ) -> Option<(SimTime, u64, u32)> {
        let mut woken = None;
        while feed.has_due() {
            let d = feed.due[feed.due_pos];
            if d.at > limit.0 || (d.at == limit.0 && feed.seq_of(d.order).is_none_or(|s| s > limit.1)) {
                break;
            }
            feed.due_pos += 1;
            // Partitions come in no order: in a large world, start loading the ones a few
            // batches ahead (their state first, then, once that is in, the ends of their logs).
            if self.prefetch_appends {
                let ahead = |k: usize| feed.due.get(feed.due_pos + k).map(|a| a.partition as usize);
                if let Some(a) = ahead(12) {
                    self.partitions[a].prefetch_for_append();
                }
                if let Some(a) = ahead(4) {
                    self.partitions[a].log.prefetch_tail();
                }
            }
            let part = &mut self.partitions[d.partition as usize];
            let sent: [u64; 1];
            let times = if d.carries_times() {
                &feed.due_us[d.first as usize..d.first as usize + d.len as usize]
            } else {
                sent = [feed.sent_us(&d)];
                &sent[..]
            };
            if let Some(trace) = &mut self.append_trace {
                trace.push(AppendTrace {
                    partition: d.partition,
                    base_offset: part.log.log_end_offset(),
                    created_us: times.to_vec(),
                    at: d.at,
                });
            }
            if let Some(cl) = cluster.as_deref_mut() {
                // A cluster runs: the partition's leader may be gone, or the batch may wait above
                // the high watermark (see `cluster::produce`).
                let mut io = Io { rec: &mut *rec, kernel: &mut *kernel, record_size: &self.record_size };
                let batch = Batch { producer: d.producer, at: d.at, times };
                let appended = cl.arrive(d.partition, batch, part, &mut io);
                // The arrival may have scheduled something (a retry, a high-watermark wake-up):
                // batches after it wait until it is handled.
                if let Some(place) = kernel.peek_place()
                    && place < limit
                {
                    limit = place;
                }
                if !appended {
                    continue;
                }
            } else {
                if part.share_fed {
                    part.batch_starts.push_back(part.log.log_end_offset());
                }
                let record_size = self.record_size[d.producer as usize];
                if let [one] = times {
                    part.log.append_one(*one, record_size);
                } else {
                    part.log.append(times, record_size);
                }
                self.log_ends[d.partition as usize] = part.log.log_end_offset();
                self.journal.push(d.partition);
            }
            // A fetch parked for its consumer watches the partition (`purgatory`; none while a
            // cluster runs, whose checks read `waiters` alone).
            if part.push_fed || !part.waiters.is_empty() || self.purgatory.watches(d.partition, part.cleared, groups) {
                let seq = feed.seq_of(d.order).expect("a batch placed before the limit had its tick handled");
                woken = Some((d.at, seq, d.partition));
                break;
            }
        }
        feed.forget_appended(woken.map_or(limit.0, |w| w.0));
        woken
    }
}

impl World {
    /// Appends every batch placed before `limit` (see [`Broker::advance_logs`]).
    pub(crate) fn advance_logs(&mut self, limit: (SimTime, u64)) -> Option<(SimTime, u64, u32)> {
        let World { broker, feed, cluster, groups, rec, kernel, .. } = self;
        broker.advance_logs(feed, limit, cluster.as_deref_mut(), groups, rec, kernel)
    }

    /// With a cluster: batches whose commit is due by `now` go below the high watermark first.
    pub(crate) fn commit_due(&mut self, now: SimTime) {
        if let Some((cl, parts, mut io)) = self.cluster_io() {
            cl.promote_due(now, parts, &mut io);
        }
    }

    /// The next queued event, with the commits due by its time done first.
    pub(crate) fn next_event(&mut self) -> Option<Ev> {
        let ev = self.kernel.next_until(self.end)?;
        let now = self.now();
        self.commit_due(now);
        Some(ev)
    }

    /// A batch reached partition `pid` while someone was waiting for it (it is in the log now).
    pub(crate) fn appended(&mut self, pid: u32) {
        for g in 0..self.groups.len() {
            if self.groups[g].kind == GroupKind::Push && self.groups[g].offsets().owner(pid).is_some() {
                self.pump(g, pid);
            }
        }
        // fetch.min.bytes = 1: a parked long poll answers as soon as any record arrives.
        for waiter in self.take_waiters(pid) {
            self.answer_waiter(waiter.key());
        }
    }
}
