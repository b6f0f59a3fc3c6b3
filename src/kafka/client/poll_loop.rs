//! The consumer's poll loop: poll(), the records it returns, processing them record by record
//! (each record's finish time and end-to-end latency), the commit that follows, and the sleep
//! until the next poll. The broker's side of a fetch is in `fetch`, commits in `commit`.

use crate::kafka::client::{GroupKind, InFlight, Phase};
use crate::kafka::world::{Ev, World};
use crate::scenario::plan::CommitMode;
use crate::sim::{SimDuration, SimTime};

impl World {
    /// poll(): a stopping consumer closes, a failed one dies; otherwise each kind of member
    /// polls its own way.
    pub(crate) fn poll(&mut self, c: usize) {
        if self.consumers[c].stopping {
            self.finish_stop(c);
            return;
        }
        if let Some(why) = self.consumers[c].fatal.take() {
            self.consumer_error(c, &why);
            return;
        }
        match self.consumers[c].kind() {
            GroupKind::Share => self.share_poll(c),
            GroupKind::Pull => {
                if self.classic_poll(c) {
                    let g = self.consumers[c].group;
                    self.rec.groups[g].polls += 1;
                    self.send_fetch(c);
                }
            }
            GroupKind::Push => {
                if self.classic_poll(c) {
                    self.push_take(c);
                }
            }
        }
    }

    /// A classic member's poll(): the group protocol's work first (revocations, a rejoin), then
    /// auto-commit. False when poll() blocks until an assignment arrives.
    fn classic_poll(&mut self, c: usize) -> bool {
        let now = self.now();
        let con = &mut self.consumers[c];
        con.last_poll = now;
        con.poll_seq = con.poll_seq.wrapping_add(1);
        if !self.group_poll(c) {
            self.consumers[c].phase = Phase::Joining;
            self.rec.consumers[c].start_blocked(now);
            return false;
        }
        // Kafka's auto-commit runs inside poll(): it commits what the previous polls returned,
        // but not while a (re)join is pending: ConsumerCoordinator.poll returns before
        // maybeAutoCommitOffsetsAsync until the join completes (cooperative members keep fetching).
        let con = &self.consumers[c];
        let member = con.classic();
        let rejoin_pending = member.joining || member.rejoin_needed;
        if con.config.commit == CommitMode::Auto
            && !rejoin_pending
            && now >= member.last_auto_commit + con.config.auto_commit_interval
        {
            self.consumers[c].classic_mut().last_auto_commit = now;
            let offsets = self.consumers[c].positions();
            self.send_commit(c, offsets);
        }
        self.rec.consumers[c].polls += 1;
        true
    }

    /// The fetch request goes out (a ShareFetch for a share consumer): at the broker after the
    /// network delay.
    pub(crate) fn send_fetch(&mut self, c: usize) {
        let con = &mut self.consumers[c];
        con.phase = Phase::Fetching;
        con.fetch_seq = con.fetch_seq.wrapping_add(1);
        if self.net.delay.is_zero() {
            self.fetch_at_broker(c);
        } else {
            let d = self.net.delay;
            let seq = self.consumers[c].fetch_seq;
            self.schedule_consumer(c, d, |c, inc| Ev::FetchAtBroker { c, inc, seq });
        }
    }

    /// The poll returns: positions advance past the returned records, then processing starts.
    pub(crate) fn deliver(&mut self, c: usize) {
        match self.consumers[c].kind() {
            GroupKind::Share => self.share_deliver(c),
            GroupKind::Pull | GroupKind::Push => self.classic_deliver(c),
        }
    }

    fn classic_deliver(&mut self, c: usize) {
        let g = self.consumers[c].group;
        let now = self.now();
        let con = &mut self.consumers[c];
        if !con.owned.is_empty() {
            con.rotate = (con.rotate + 1) % con.owned.len();
        }
        con.inflight.fetched = now;
        for &(p, from, to) in &con.inflight.ranges {
            if let Some(o) = con.owned.iter_mut().find(|o| o.partition == p) {
                o.position = to;
            }
            // Delivered to the application: a repeat is a re-delivery (after a crash, a
            // rebalance, a seek or a discarded push buffer), whether or not it gets processed.
            let again = self.rec.ledgers[g].delivered[p as usize].insert(from, to);
            let st = &mut self.rec.groups[g];
            st.records_delivered += to - from;
            st.redelivered += again;
        }
        if con.inflight.is_empty() {
            self.rec.groups[g].empty_polls += 1;
            con.phase = Phase::Idle;
            let after = con.config.poll_interval;
            self.schedule_consumer(c, after, |c, inc| Ev::Poll { c, inc });
            return;
        }
        if con.config.commit == CommitMode::BeforeProcessing {
            // At-most-once: the offsets are committed (commitSync) before any record is processed.
            let offsets: Vec<(u32, u64)> = con.inflight.ranges.iter().map(|&(p, _, to)| (p, to)).collect();
            con.phase = Phase::Committing;
            con.classic_mut().precommit = true;
            self.send_commit(c, offsets);
            if self.net.delay.is_zero() {
                self.after_precommit(c);
            } else {
                let rtt = self.net.delay + self.net.delay;
                self.schedule_consumer(c, rtt, |c, inc| Ev::CommitDone { c, inc });
            }
            return;
        }
        self.begin_processing(c, now);
    }

    /// The pre-processing commit returned. If it failed the batch is dropped unprocessed, as an
    /// at-most-once loop does when commitSync throws: never processed twice, maybe never at all.
    pub(crate) fn after_precommit(&mut self, c: usize) {
        let now = self.now();
        let con = &mut self.consumers[c];
        let member = con.classic_mut();
        member.precommit = false;
        if member.last_commit_ok {
            self.begin_processing(c, now);
            return;
        }
        con.inflight.clear();
        self.after_commit(c);
    }

    pub(crate) fn begin_processing(&mut self, c: usize, start: SimTime) {
        self.rec.consumers[c].start_busy(start);
        let con = &mut self.consumers[c];
        con.phase = Phase::Processing;
        con.inflight.started = start;
        let mut t = start.as_nanos();
        let constant = con.processing.constant_ns();
        let InFlight { ranges, finish_ns, latency_ns, .. } = &mut con.inflight;
        for &(p, from, to) in ranges.iter() {
            self.broker.partitions[p as usize].log.for_each_created(from, to, |_, created| {
                // Saturating: a huge processing time or slow factor ends the batch "never".
                t = t.saturating_add(match constant {
                    Some(d) => d,
                    None => con.processing.sample(&mut con.rng),
                });
                finish_ns.push(t);
                latency_ns.push(t.saturating_sub(created));
            });
        }
        let end = SimTime(t);
        let inc = con.incarnation;
        self.kernel.schedule_at(end, Ev::ProcessingDone { c: c as u32, inc });
        // max.poll.interval.ms: if this batch (and the sleep after it) keeps the consumer out of
        // poll() too long, the heartbeat thread gives up its membership meanwhile.
        let deadline = con.last_poll + con.config.max_poll_interval;
        let next_poll = end + self.net.delay + self.net.delay + con.config.poll_interval;
        if next_poll > deadline && con.member_id.is_some() {
            let seq = con.poll_seq;
            self.kernel.schedule_at(deadline.max(self.kernel.now()), Ev::PollTimeout { c: c as u32, inc, seq });
        }
    }

    /// The run ends: records whose processing finished count as processed; the rest of each
    /// batch in hand, and what push buffers hold, are set apart as in flight (neither lost nor
    /// processed).
    pub(crate) fn finish_in_hand(&mut self) {
        let now = self.now();
        for c in 0..self.consumers.len() {
            if !self.consumers[c].is_running() {
                continue;
            }
            let con = &self.consumers[c];
            let mut in_hand = match con.phase {
                Phase::Processing if con.kind() == GroupKind::Share => {
                    let k = con.inflight.finished_by(self.frozen_clock(c));
                    self.share_account(c, k);
                    self.consumers[c].inflight.ranges_after(k)
                }
                Phase::Processing => {
                    let k = con.inflight.finished_by(self.frozen_clock(c));
                    self.account_processed(c, k);
                    self.consumers[c].inflight.ranges_after(k)
                }
                Phase::Committing if con.classic().precommit => con.inflight.ranges.clone(),
                _ => Vec::new(),
            };
            let con = &self.consumers[c];
            in_hand.extend(con.push_buffer().into_iter().flat_map(|b| b.ranges.iter().copied()));
            self.rec.ledgers[con.group].in_hand_at_end.extend(in_hand);
            self.rec.consumers[c].stop_running(now);
        }
    }

    /// Accounts the first `k` in-flight records as processed.
    pub(crate) fn account_processed(&mut self, c: usize, k: usize) {
        let g = self.consumers[c].group;
        let con = &self.consumers[c];
        let stats = &mut self.rec.groups[g];
        stats.record_latencies(&con.inflight.finish_ns[..k], &con.inflight.latency_ns[..k]);
        stats.records_processed += k as u64;
        let ranges = if k == con.inflight.len() { con.inflight.ranges.clone() } else { con.inflight.first_ranges(k) };
        let fetched = con.inflight.fetched;
        let mut duplicates = 0;
        for (p, from, to) in ranges {
            duplicates += self.rec.ledgers[g].mark_processed(p, from, to, fetched);
        }
        stats.duplicates += duplicates;
        let mine = &mut self.rec.consumers[c];
        mine.records_processed += k as u64;
        mine.duplicates_caused += duplicates;
    }

    pub(crate) fn processing_done(&mut self, c: usize) {
        match self.consumers[c].kind() {
            GroupKind::Share => self.share_processing_done(c),
            GroupKind::Pull | GroupKind::Push => self.classic_processing_done(c),
        }
    }

    fn classic_processing_done(&mut self, c: usize) {
        let now = self.now();
        self.rec.consumers[c].end_busy(now);
        let k = self.consumers[c].inflight.len();
        self.account_processed(c, k);
        let con = &mut self.consumers[c];
        // commitSync() commits the positions (a seek during the batch moves them); partitions the
        // consumer lost meanwhile are still in the request, which then fails.
        let processed: Vec<(u32, u64)> =
            con.inflight.ranges.iter().map(|&(p, _, to)| (p, con.position(p).unwrap_or(to))).collect();
        con.inflight.clear();
        if con.config.commit == CommitMode::AfterProcessing {
            con.phase = Phase::Committing;
            self.send_commit(c, processed);
            if !self.net.delay.is_zero() {
                let rtt = self.net.delay + self.net.delay;
                self.schedule_consumer(c, rtt, |c, inc| Ev::CommitDone { c, inc });
                return;
            }
        }
        self.after_commit(c);
    }

    /// The synchronous commit's response came back.
    pub(crate) fn commit_done(&mut self, c: usize) {
        if self.consumers[c].classic().precommit { self.after_precommit(c) } else { self.after_commit(c) }
    }

    pub(crate) fn after_commit(&mut self, c: usize) {
        let push = self.consumers[c].kind() == GroupKind::Push;
        let con = &mut self.consumers[c];
        con.phase = Phase::Idle;
        if con.stopping {
            self.finish_stop(c);
            return;
        }
        // A pushed-to consumer is driven by arrivals, not by a polling cadence: no sleep.
        let after = if push { SimDuration::ZERO } else { con.config.poll_interval };
        self.schedule_consumer(c, after, |c, inc| Ev::Poll { c, inc });
    }
}
