//! The consumer's poll loop: poll(), the records it returns, processing them record by record
//! (each record's finish time and end-to-end latency), the commit that follows, and the sleep
//! until the next poll. The broker's side of a fetch is in `fetch`, commits in `commit`.

use crate::kafka::broker::Broker;
use crate::kafka::client::{Consumer, GroupKind, InFlight, Phase};
use crate::kafka::cx::Cx;
use crate::kafka::world::{Ev, World};
use crate::record::{FirstFetch, Recorder};
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
            GroupKind::Protocol => {
                if self.protocol_poll(c) {
                    let g = self.consumers[c].group;
                    self.rec.groups[g].polls += 1;
                    self.send_fetch(c);
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
        let member = self.consumers[c].classic();
        let rejoin_pending = member.joining || member.rejoin_needed;
        self.maybe_auto_commit(c, !rejoin_pending);
        self.rec.consumers[c].polls += 1;
        true
    }

    /// Auto-commit inside poll(): when `allowed` and the interval has passed since the last one,
    /// the positions (what earlier polls returned) are committed.
    pub(crate) fn maybe_auto_commit(&mut self, c: usize, allowed: bool) {
        let now = self.now();
        let con = &self.consumers[c];
        if con.config.commit == CommitMode::Auto
            && allowed
            && now >= con.commits.last_auto_commit + con.config.auto_commit_interval
        {
            self.consumers[c].commits.last_auto_commit = now;
            let offsets = self.consumers[c].positions();
            self.send_commit(c, offsets);
        }
    }

    /// The fetch request goes out (a ShareFetch for a share consumer): at the broker after the
    /// network delay.
    pub(crate) fn send_fetch(&mut self, c: usize) {
        let (con, _, mut cx) = self.client_cx(c);
        if con.send_fetch(c, &mut cx) {
            self.fetch_at_broker(c);
        }
    }

    /// The poll returns: positions advance past the returned records, then processing starts.
    pub(crate) fn deliver(&mut self, c: usize) {
        match self.consumers[c].kind() {
            GroupKind::Share => self.share_deliver(c),
            GroupKind::Pull | GroupKind::Push => self.classic_deliver(c),
            GroupKind::Protocol => {
                // poll() is about to return: the application thread handles its background events.
                self.protocol_app_thread_turn(c);
                self.classic_deliver(c)
            }
        }
    }

    fn classic_deliver(&mut self, c: usize) {
        let now = self.now();
        let (con, _, mut cx) = self.client_cx(c);
        match con.take_delivery(c, &mut cx) {
            Delivery::Empty => {}
            Delivery::CommitFirst(offsets) => {
                self.send_commit(c, offsets);
                if self.net.delay.is_zero() {
                    self.after_precommit(c);
                } else {
                    let rtt = self.net.round_trip();
                    self.schedule_consumer(c, rtt, |c, inc| Ev::CommitDone { c, inc });
                }
            }
            Delivery::Process => self.begin_processing(c, now),
        }
    }

    /// The pre-processing commit returned. If it failed the batch is dropped unprocessed, as an
    /// at-most-once loop does when commitSync throws: never processed twice, maybe never at all.
    pub(crate) fn after_precommit(&mut self, c: usize) {
        let now = self.now();
        let con = &mut self.consumers[c];
        con.commits.precommit = false;
        if con.commits.last_commit_ok {
            self.begin_processing(c, now);
            return;
        }
        con.inflight.clear();
        self.after_commit(c);
    }

    pub(crate) fn begin_processing(&mut self, c: usize, start: SimTime) {
        let (con, broker, mut cx) = self.client_cx(c);
        con.begin_processing(c, start, broker, &mut cx);
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
                    self.consumers[c].share_account(c, k, &mut self.rec);
                    self.consumers[c].inflight.ranges_after(k)
                }
                Phase::Processing => {
                    let k = con.inflight.finished_by(self.frozen_clock(c));
                    self.consumers[c].account_processed(c, k, &mut self.rec);
                    self.consumers[c].inflight.ranges_after(k)
                }
                Phase::Committing if con.commits.precommit => con.inflight.ranges.clone(),
                _ => Vec::new(),
            };
            let con = &self.consumers[c];
            in_hand.extend(con.push_buffer().into_iter().flat_map(|b| b.ranges.iter().copied()));
            self.rec.ledgers[con.group].in_hand_at_end.extend(in_hand);
            self.rec.consumers[c].stop_running(now);
        }
    }

    pub(crate) fn processing_done(&mut self, c: usize) {
        match self.consumers[c].kind() {
            GroupKind::Share => self.share_processing_done(c),
            GroupKind::Pull | GroupKind::Push | GroupKind::Protocol => self.classic_processing_done(c),
        }
    }

    fn classic_processing_done(&mut self, c: usize) {
        let (con, _, mut cx) = self.client_cx(c);
        let processed = con.finish_batch(c, &mut cx);
        if con.config.commit == CommitMode::AfterProcessing {
            con.phase = Phase::Committing;
            self.send_commit(c, processed);
            if !self.net.delay.is_zero() {
                let rtt = self.net.round_trip();
                self.schedule_consumer(c, rtt, |c, inc| Ev::CommitDone { c, inc });
                return;
            }
        }
        self.after_commit(c);
    }

    /// The synchronous commit's response came back.
    pub(crate) fn commit_done(&mut self, c: usize) {
        if self.consumers[c].commits.precommit { self.after_precommit(c) } else { self.after_commit(c) }
    }

    /// The batch is done (committed, or nothing to commit): the consumer closes if asked to,
    /// else sleeps until its next poll.
    pub(crate) fn after_commit(&mut self, c: usize) {
        let (con, _, mut cx) = self.client_cx(c);
        if con.idle_after_batch(c, &mut cx) {
            self.finish_stop(c);
        }
    }
}

/// What a classic poll's records lead to.
pub enum Delivery {
    /// Nothing returned: the consumer sleeps until its next poll.
    Empty,
    /// At-most-once: these offsets are committed before any record is processed.
    CommitFirst(Vec<(u32, u64)>),
    /// Processing starts now.
    Process,
}

impl Consumer {
    /// A fetch (or a poll of the push buffer) asks for the owned partitions: the first one since
    /// each was taken, or since a hang, is recorded (`Recorder::first_fetches`).
    pub fn note_first_fetches(&mut self, c: usize, now: SimTime, rec: &mut Recorder) {
        if self.all_fetched {
            return; // over 10,000 partitions, a look at each on every fetch
        }
        self.all_fetched = true;
        for o in self.owned.iter_mut().filter(|o| !o.fetched) {
            o.fetched = true;
            let group = self.group as u16;
            rec.first_fetches.push(FirstFetch { time: now, group, partition: o.partition, consumer: c as u32 });
        }
    }

    /// The fetch goes out; true when it reaches the broker at once (no network delay).
    pub fn send_fetch(&mut self, c: usize, cx: &mut Cx) -> bool {
        self.phase = Phase::Fetching;
        self.fetch_seq = self.fetch_seq.wrapping_add(1);
        if cx.net.delay.is_zero() {
            return true;
        }
        let (inc, seq) = (self.incarnation, self.fetch_seq);
        cx.schedule_after(cx.net.delay, Ev::FetchAtBroker { c: c as u32, inc, seq });
        false
    }

    /// A classic poll returns its records: positions move past them and the group's ledger
    /// counts them delivered (a repeat is a re-delivery: after a crash, a rebalance, a seek or a
    /// discarded push buffer, whether or not it gets processed).
    pub fn take_delivery(&mut self, c: usize, cx: &mut Cx) -> Delivery {
        let g = self.group;
        let now = cx.now();
        if !self.owned.is_empty() {
            self.rotate = (self.rotate + 1) % self.owned.len();
        }
        self.inflight.fetched = now;
        for i in 0..self.inflight.ranges.len() {
            let (p, from, to) = self.inflight.ranges[i];
            if let Some(k) = self.inflight_slot(i) {
                self.owned[k].position = to;
            }
            let again = cx.rec.ledgers[g].delivered[p as usize].insert(from, to);
            let st = &mut cx.rec.groups[g];
            st.records_delivered += to - from;
            st.redelivered += again;
        }
        // The positions are now at the ends the fetch read to: those partitions need no look
        // until the journal lists them again.
        self.fetch_marks.delivered(&self.inflight.slots);
        if self.inflight.is_empty() {
            cx.rec.groups[g].empty_polls += 1;
            self.phase = Phase::Idle;
            let inc = self.incarnation;
            cx.schedule_after(self.config.poll_interval, Ev::Poll { c: c as u32, inc });
            return Delivery::Empty;
        }
        if self.config.commit == CommitMode::BeforeProcessing {
            // At-most-once: the offsets are committed (commitSync) before any record is processed.
            self.phase = Phase::Committing;
            self.commits.precommit = true;
            return Delivery::CommitFirst(self.inflight.ranges.iter().map(|&(p, _, to)| (p, to)).collect());
        }
        Delivery::Process
    }

    /// Processing starts at `start`: each record's finish time and end-to-end latency (from its
    /// creation in the log), one after the other; the batch's end is an event. If the batch (and
    /// the sleep after it) keeps the consumer out of poll() past `max.poll.interval.ms`, the
    /// heartbeat thread gives up its membership meanwhile.
    pub fn begin_processing(&mut self, c: usize, start: SimTime, broker: &Broker, cx: &mut Cx) {
        cx.rec.consumers[c].start_busy(start);
        self.phase = Phase::Processing;
        self.inflight.started = start;
        let mut t = start.as_nanos();
        let constant = self.processing.constant_ns();
        let Consumer { inflight, processing, rng, .. } = self;
        let InFlight { ranges, finish_ns, latency_ns, .. } = inflight;
        for &(p, from, to) in ranges.iter() {
            broker.partitions[p as usize].log.for_each_created(from, to, |_, created| {
                // Saturating: a huge processing time or slow factor ends the batch "never".
                t = t.saturating_add(match constant {
                    Some(d) => d,
                    None => processing.sample(rng),
                });
                finish_ns.push(t);
                latency_ns.push(t.saturating_sub(created));
            });
        }
        let end = SimTime(t);
        let inc = self.incarnation;
        cx.schedule_at(end, Ev::ProcessingDone { c: c as u32, inc });
        let deadline = self.last_poll + self.config.max_poll_interval;
        let next_poll = end + cx.net.round_trip() + self.config.poll_interval;
        if next_poll > deadline && self.member_id.is_some() {
            let seq = self.poll_seq;
            let at = deadline.max(cx.now());
            cx.schedule_at(at, Ev::PollTimeout { c: c as u32, inc, seq });
        }
    }

    /// Accounts the first `k` in-flight records as processed: latencies, counts, and duplicates
    /// (records the group had processed before).
    pub fn account_processed(&self, c: usize, k: usize, rec: &mut Recorder) {
        let g = self.group;
        let stats = &mut rec.groups[g];
        stats.record_latencies(&self.inflight.finish_ns[..k], &self.inflight.latency_ns[..k]);
        stats.records_processed += k as u64;
        let fetched = self.inflight.fetched;
        let mut duplicates = 0;
        for (p, from, to) in self.inflight.first_ranges(k) {
            duplicates += rec.ledgers[g].mark_processed(p, from, to, fetched);
        }
        let finish = &self.inflight.finish_ns[..k];
        let (first, last) = (finish.first().copied().unwrap_or(0), finish.last().copied().unwrap_or(0));
        rec.groups[g].note_duplicates(duplicates, first, last);
        let mine = &mut rec.consumers[c];
        mine.records_processed += k as u64;
        mine.duplicates_caused += duplicates;
    }

    /// A classic batch is processed: every record counts, and the offsets to commit are the
    /// positions (commitSync() commits the positions, so a seek during the batch moves them;
    /// partitions the consumer lost meanwhile are still in the request, which then fails).
    pub fn finish_batch(&mut self, c: usize, cx: &mut Cx) -> Vec<(u32, u64)> {
        let now = cx.now();
        cx.rec.consumers[c].end_busy(now);
        self.account_processed(c, self.inflight.len(), cx.rec);
        let position = |i: usize| self.inflight_slot(i).map(|k| self.owned[k].position);
        let processed =
            self.inflight.ranges.iter().enumerate().map(|(i, &(p, _, to))| (p, position(i).unwrap_or(to))).collect();
        self.inflight.clear();
        processed
    }

    /// The loop turns: true when the consumer was asked to stop (it closes now); else the next
    /// poll is scheduled — at once for a pushed-to consumer, which arrivals drive, else after
    /// `poll_interval`.
    pub fn idle_after_batch(&mut self, c: usize, cx: &mut Cx) -> bool {
        self.phase = Phase::Idle;
        if self.stopping {
            return true;
        }
        let after = if self.kind() == GroupKind::Push { SimDuration::ZERO } else { self.config.poll_interval };
        let inc = self.incarnation;
        cx.schedule_after(after, Ev::Poll { c: c as u32, inc });
        false
    }
}
