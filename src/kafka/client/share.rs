//! A share consumer's poll loop: poll() sends the acknowledgements of the last batch with the
//! next ShareFetch; the application processes the records it was given and, in explicit mode,
//! releases or rejects some of them (`outcome`, `poison`); in implicit mode the next poll
//! accepts them all.

use crate::kafka::broker::share_partition::AckType;
use crate::kafka::client::{Consumer, Membership, Phase, ShareMember};
use crate::kafka::world::{Ev, World};
use crate::record::Recorder;
use crate::scenario::plan::{Outcome, ShareAcknowledgementMode};
use rand::Rng;

impl World {
    pub(crate) fn share_poll(&mut self, c: usize) {
        let now = self.now();
        let g = self.consumers[c].group;
        let con = &mut self.consumers[c];
        con.last_poll = now;
        con.poll_seq = con.poll_seq.wrapping_add(1);
        self.share_rejoin_if_needed(c);
        self.rec.consumers[c].polls += 1;
        self.rec.groups[g].polls += 1;
        self.send_fetch(c);
    }

    /// The ShareFetch response: the records it acquired go to the application. In implicit mode
    /// the next poll accepts them all (ShareConsumerImpl: currentFetch.acknowledgeAll(ACCEPT)).
    pub(crate) fn share_deliver(&mut self, c: usize) {
        let g = self.consumers[c].group;
        let now = self.now();
        let con = &mut self.consumers[c];
        if !con.owned.is_empty() {
            con.rotate = (con.rotate + 1) % con.owned.len();
        }
        con.inflight.fetched = now;
        let n = con.inflight.len() as u64;
        self.rec.groups[g].records_delivered += n;
        if n == 0 {
            self.rec.groups[g].empty_polls += 1;
            let con = &mut self.consumers[c];
            con.phase = Phase::Idle;
            let after = con.config.poll_interval;
            self.schedule_consumer(c, after, |c, inc| Ev::Poll { c, inc });
            return;
        }
        self.begin_processing(c, now);
        // What the application will make of each record, decided as it starts (draws come from
        // the consumer's own outcome stream, apart from processing times).
        let con = &mut self.consumers[c];
        let explicit = con.config.share_acknowledgement_mode == ShareAcknowledgementMode::Explicit;
        let o = con.config.outcome;
        let Consumer { inflight, membership, .. } = con;
        let Membership::Share(member) = membership else { unreachable!("a share consumer") };
        member.decide_outcomes(&inflight.ranges, explicit, o);
    }

    pub(crate) fn share_processing_done(&mut self, c: usize) {
        let now = self.now();
        self.rec.consumers[c].end_busy(now);
        let k = self.consumers[c].inflight.len();
        self.consumers[c].share_account(c, k, &mut self.rec);
        let con = &mut self.consumers[c];
        con.inflight.clear();
        con.share_mut().outcomes.clear();
        self.after_commit(c);
    }
}

impl Consumer {
    /// The first `k` records of the batch are done: accepted ones count as processed (their
    /// latency, and duplicates if processed before); every one gets its acknowledgement, sent
    /// with the next poll.
    pub fn share_account(&mut self, c: usize, k: usize, rec: &mut Recorder) {
        let g = self.group;
        let Consumer { inflight, membership, .. } = self;
        let Membership::Share(member) = membership else { unreachable!("a share consumer") };
        let mut finish = Vec::new();
        let mut latency = Vec::new();
        let mut accepted: Vec<(u32, u64, u64)> = Vec::new();
        let (mut released, mut rejected) = (0u64, 0u64);
        let mut i = 0;
        'ranges: for &(p, from, to) in &inflight.ranges {
            for off in from..to {
                if i == k {
                    break 'ranges;
                }
                let ack = member.outcomes.get(i).copied().unwrap_or(AckType::Accept);
                match ack {
                    AckType::Accept => {
                        finish.push(inflight.finish_ns[i]);
                        latency.push(inflight.latency_ns[i]);
                        match accepted.last_mut() {
                            Some(last) if last.0 == p && last.2 == off => last.2 = off + 1,
                            _ => accepted.push((p, off, off + 1)),
                        }
                    }
                    AckType::Release => released += 1,
                    AckType::Reject => rejected += 1,
                }
                match member.acks.last_mut() {
                    Some(last) if last.0 == p && last.2 == off && last.3 == ack => last.2 = off + 1,
                    _ => member.acks.push((p, off, off + 1, ack)),
                }
                i += 1;
            }
        }
        let fetched = inflight.fetched;
        let stats = &mut rec.groups[g];
        stats.record_latencies(&finish, &latency);
        let processed = finish.len() as u64;
        stats.records_processed += processed;
        let mut duplicates = 0;
        for (p, from, to) in accepted {
            duplicates += rec.ledgers[g].mark_processed(p, from, to, fetched);
        }
        let (first, last) = (finish.first().copied().unwrap_or(0), finish.last().copied().unwrap_or(0));
        rec.groups[g].note_duplicates(duplicates, first, last);
        let mine = &mut rec.consumers[c];
        mine.records_processed += processed;
        mine.duplicates_caused += duplicates;
        rec.groups[g].share.records_released += released;
        rec.groups[g].share.records_rejected += rejected;
    }
}

impl ShareMember {
    /// What the application will make of each record of the batch, decided as processing starts
    /// (draws come from the member's own outcome stream, apart from processing times): implicit
    /// mode accepts all; explicit mode releases poison records and draws release or reject by
    /// `outcome`.
    pub fn decide_outcomes(&mut self, ranges: &[(u32, u64, u64)], explicit: bool, o: Outcome) {
        self.outcomes.clear();
        for &(p, from, to) in ranges {
            for off in from..to {
                let poisoned =
                    self.poison.as_ref().is_some_and(|(pp, offs)| *pp == p && offs.binary_search(&off).is_ok());
                let ack = if !explicit {
                    AckType::Accept
                } else if poisoned {
                    AckType::Release
                } else if o.release + o.reject > 0.0 {
                    let u: f64 = self.outcome_rng.r#gen();
                    if u < o.release {
                        AckType::Release
                    } else if u < o.release + o.reject {
                        AckType::Reject
                    } else {
                        AckType::Accept
                    }
                } else {
                    AckType::Accept
                };
                self.outcomes.push(ack);
            }
        }
    }
}
