//! The broker's fetch side: where a fetch is answered. It reads from the consumer's positions
//! (up to `max_poll_records`, partitions in a rotating order), parks as a long poll when there is
//! nothing (`fetch.max.wait.ms`; the next batch to arrive wakes it, see `produce`), and sends the
//! response back.

use crate::kafka::broker::Broker;
use crate::kafka::client::{Consumer, GroupKind, InFlight, Phase};
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
                if self.consumers[c].owned.len() >= MIN_MARKED {
                    // (A group whose fetches skip this leaves the appends for a later one.)
                    self.mark_appended(self.consumers[c].group);
                }
                self.broker.read(&mut self.consumers[c])
            }
        }
    }

    /// The partitions appended to since group `g` last fetched are marked for their owners (see
    /// `FetchMarks`): once a group, not once a consumer, as each append is one consumer's. If
    /// the journal dropped some, every member looks at all its partitions again.
    fn mark_appended(&mut self, g: usize) {
        if self.broker.log_ends.is_empty() {
            return; // no journal in a cluster
        }
        let World { broker, groups, consumers, .. } = self;
        let Some(fresh) = broker.journal.unmarked(g) else {
            for &c in &groups[g].consumers {
                consumers[c].quiet_since = None;
            }
            return;
        };
        let offsets = groups[g].offsets();
        for &p in fresh {
            if let Some(c) = offsets.owner(p) {
                consumers[c].fetch_marks.mark(p);
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
    /// Per group: the appends already marked in its consumers' `fetch_marks`.
    marked: Vec<u64>,
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

    /// The appends since group `g` last marked its consumers (None: some were dropped), and
    /// from now on those are marked.
    fn unmarked(&mut self, g: usize) -> Option<&[u32]> {
        if self.marked.len() <= g {
            self.marked.resize(g + 1, 0);
        }
        let end = self.end();
        let since = std::mem::replace(&mut self.marked[g], end);
        self.since(since)
    }

    /// The partitions appended to from the `since`-th batch on, if the journal still has them.
    fn since(&self, since: u64) -> Option<&[u32]> {
        (since >= self.base).then(|| &self.parts[(since - self.base) as usize..])
    }
}

/// Partitions a consumer owns at least for it to keep `FetchMarks`: marking each append costs
/// more than a look at a few partitions per fetch (benches/per-record.yaml, 5 a consumer, got
/// slower). Debug builds mark from 1, so that the tests' small worlds check the marks against a
/// look at every partition; either way a fetch returns the same records.
const MIN_MARKED: usize = if cfg!(debug_assertions) { 1 } else { 64 };

/// Which of a consumer's owned partitions may have records its fetches have not read, apart from
/// those appended to since its journal mark (`quiet_since`): a bit per slot of `owned`. A fetch
/// marks the partitions the journal lists, reads the marked ones in its rotating order, and
/// unmarks those it found read to their ends; the ranges it read stay marked until the poll
/// hands them over (`delivered`), since positions move only then.
#[derive(Default)]
pub struct FetchMarks {
    /// Bit `k`: `owned[k]` may have records past its position (it was appended to, or not
    /// looked at, since a fetch found it read to its end).
    pending: Vec<u64>,
    /// Bit `k`: the last fetch read `owned[k]`, and the poll has not handed the records over
    /// (apart from `pending`, which appends may mark meanwhile).
    unsettled: Vec<u64>,
    /// The partitions owned, the first one, and how many the range from it to the last spans.
    n: usize,
    lo: u32,
    span: u32,
    /// `slot + 1` of partition `lo + i` in `owned` (0: another consumer's); empty when the
    /// consumer owns the whole range (slot = partition - lo).
    table: Vec<u16>,
    /// The last range read stopped short of its log end: it stays marked when handed over.
    cut: bool,
    valid: bool,
}

impl FetchMarks {
    /// Whether the marks were built for this `owned` (every change of it resets `quiet_since`
    /// first; this is the cheap check that they still describe it).
    fn fits(&self, owned: &[crate::kafka::client::Owned]) -> bool {
        self.valid
            && owned.len() == self.n
            && owned.first().is_some_and(|o| o.partition == self.lo)
            && owned.last().is_some_and(|o| o.partition == self.lo + self.span - 1)
    }

    /// Every owned partition marked (a fetch looks at each). False, and no marks, when the
    /// partitions are scattered over more than twice their number (the table would cost more
    /// than a look at each) or too many for a 16-bit slot.
    fn rebuild(&mut self, owned: &[crate::kafka::client::Owned]) -> bool {
        let n = owned.len();
        let (Some(first), Some(last)) = (owned.first(), owned.last()) else {
            *self = FetchMarks::default();
            return false;
        };
        let span = (last.partition - first.partition) as usize + 1;
        self.valid = span <= 2 * n && n < usize::from(u16::MAX);
        if !self.valid {
            *self = FetchMarks::default();
            return false;
        }
        (self.n, self.lo, self.span) = (n, first.partition, span as u32);
        self.table.clear();
        if span != n {
            self.table.resize(span, 0);
            for (k, o) in owned.iter().enumerate() {
                self.table[(o.partition - self.lo) as usize] = k as u16 + 1;
            }
        }
        self.unsettled.clear();
        self.unsettled.resize(n.div_ceil(64), 0);
        self.pending.clear();
        self.pending.resize(n.div_ceil(64), u64::MAX);
        if !n.is_multiple_of(64) {
            *self.pending.last_mut().expect("n > 0") = (1 << (n % 64)) - 1;
        }
        self.cut = false;
        true
    }

    /// Partition `p`, owned, got records (nothing when the marks are not kept).
    fn mark(&mut self, p: u32) {
        let d = p.wrapping_sub(self.lo);
        if d < self.span {
            let k =
                if self.table.is_empty() { d as usize } else { usize::from(self.table[d as usize]).wrapping_sub(1) };
            if let Some(w) = self.pending.get_mut(k / 64) {
                *w |= 1 << (k % 64);
            }
        }
    }

    /// The marked slots from `start` on, wrapping round (read and not handed over included).
    fn marked_from(&mut self, start: usize) -> impl Iterator<Item = usize> + '_ {
        for (p, u) in self.pending.iter_mut().zip(&mut self.unsettled) {
            *p |= std::mem::take(u);
        }
        set_bits(&self.pending, start, self.n).chain(set_bits(&self.pending, 0, start))
    }

    /// A fetch that started at `start` looked at the marked slots up to `last` in its rotating
    /// order and read `read` (slots): the others it looked at are read to their ends; the ones
    /// read stay marked (`unsettled`) until handed over.
    fn looked_at(&mut self, start: usize, last: Option<usize>, read: &[u32], cut: bool) {
        if let Some(last) = last {
            if last >= start {
                clear_bits(&mut self.pending, start, last + 1);
            } else {
                clear_bits(&mut self.pending, start, self.n);
                clear_bits(&mut self.pending, 0, last + 1);
            }
        }
        for &k in read {
            self.unsettled[k as usize / 64] |= 1 << (k % 64);
        }
        self.cut = cut;
    }

    /// The poll handed over the ranges read at `slots`: those positions are at their log ends
    /// as of the journal mark, but for a range the budget cut short.
    pub(crate) fn delivered(&mut self, slots: &[u32]) {
        if !self.valid {
            return;
        }
        let keep = if self.cut { slots.len().saturating_sub(1) } else { slots.len() };
        for &k in &slots[..keep] {
            if let Some(w) = self.unsettled.get_mut(k as usize / 64) {
                *w &= !(1 << (k % 64));
            }
        }
    }
}

/// The bits of word `i` that are in `[from, to)`.
fn word_mask(i: usize, from: usize, to: usize) -> u64 {
    let mut m = u64::MAX;
    if i == from / 64 {
        m &= u64::MAX << (from % 64);
    }
    if to < i * 64 + 64 {
        m &= (1u64 << (to % 64)).wrapping_sub(1);
    }
    m
}

/// The set bits of `words` in `[from, to)`, in order.
fn set_bits(words: &[u64], from: usize, to: usize) -> impl Iterator<Item = usize> + '_ {
    let words_in = if from < to { from / 64..to.div_ceil(64) } else { 0..0 };
    words_in.flat_map(move |i| {
        let mut w = words[i] & word_mask(i, from, to);
        std::iter::from_fn(move || {
            (w != 0).then(|| {
                let b = w.trailing_zeros() as usize;
                w &= w - 1;
                i * 64 + b
            })
        })
    })
}

/// Clears the bits of `words` in `[from, to)`.
fn clear_bits(words: &mut [u64], from: usize, to: usize) {
    if from < to {
        let first = from / 64;
        for (i, w) in words[first..to.div_ceil(64)].iter_mut().enumerate() {
            *w &= !word_mask(first + i, from, to);
        }
    }
}

impl Broker {
    /// The broker reads from the consumer's positions, up to `max_poll_records`, starting at a
    /// rotating partition and draining each partition before the next, as Kafka's fetcher does.
    ///
    /// Over 10,000 partitions most owned partitions have nothing new at a fetch, and a look at
    /// each was most of a fetch's cost. A consumer whose partitions sit in a dense range keeps
    /// `fetch_marks`: the owned partitions that may have records past the journal's mark
    /// (`quiet_since`); those alone, and those appended to since, are looked at, in the same
    /// rotating order, so the answer is the same as a look at every partition. Others (owners of
    /// scattered partitions) use the mark only after a fetch that found nothing.
    pub(crate) fn read(&self, con: &mut Consumer) -> usize {
        let n = con.owned.len();
        let budget = u64::from(con.config.max_poll_records);
        // The owned partitions from `rotate` on, wrapping round (no division per partition).
        let start = if n == 0 { 0 } else { con.rotate % n };
        let end = self.journal.end();
        if n >= MIN_MARKED && budget > 0 && !self.log_ends.is_empty() && self.read_marked(con, start, budget) {
            con.quiet_since = Some(end);
            return con.inflight.len();
        }
        con.fetch_marks.valid = false; // the ranges read below are not the marks' to settle
        let fresh = con
            .quiet_since
            .filter(|_| !self.log_ends.is_empty() && budget > 0)
            .and_then(|since| self.journal.since(since))
            .filter(|fresh| fresh.len() < n);
        let InFlight { ranges, slots, .. } = &mut con.inflight;
        if let Some(fresh) = fresh {
            // Classic consumers keep `owned` sorted by partition (`take_partitions`).
            let slot = |p: u32| con.owned.binary_search_by_key(&p, |o| o.partition).ok();
            let mut ks: Vec<usize> = fresh.iter().filter_map(|&p| slot(p)).collect();
            ks.sort_unstable_by_key(|&k| if k >= start { k - start } else { k + n - start });
            ks.dedup();
            self.read_from(&con.owned, ks.into_iter(), budget, ranges, slots);
            self.check_against_full_scan(con, start, budget);
        } else {
            self.read_from(&con.owned, (start..n).chain(0..start), budget, ranges, slots);
        }
        if con.inflight.is_empty() && budget > 0 && !self.log_ends.is_empty() {
            con.quiet_since = Some(end);
        }
        con.inflight.len()
    }

    /// Reads the partitions `fetch_marks` holds (after marking those the journal lists since the
    /// mark), or all of them when the marks were reset; false when the consumer's partitions are
    /// too scattered to keep marks for.
    fn read_marked(&self, con: &mut Consumer, start: usize, budget: u64) -> bool {
        let marks = &mut con.fetch_marks;
        // Marked as appended to since `quiet_since` (`mark_appended`), unless reset since.
        if (con.quiet_since.is_none() || !marks.fits(&con.owned)) && !marks.rebuild(&con.owned) {
            return false;
        }
        let InFlight { ranges, slots, .. } = &mut con.inflight;
        let (last, cut) = self.read_from(&con.owned, marks.marked_from(start), budget, ranges, slots);
        con.fetch_marks.looked_at(start, last, slots, cut);
        self.check_against_full_scan(con, start, budget);
        true
    }

    /// Debug builds: the partitions looked at gave what a look at every one gives.
    fn check_against_full_scan(&self, con: &Consumer, start: usize, budget: u64) {
        if cfg!(debug_assertions) {
            let (mut all, mut slots) = (Vec::new(), Vec::new());
            let n = con.owned.len();
            self.read_from(&con.owned, (start..n).chain(0..start), budget, &mut all, &mut slots);
            debug_assert_eq!(all, con.inflight.ranges, "a partition with records was not marked");
        }
    }

    /// Reads the owned partitions at `order` (indices into `owned`) into `out` (and their slots
    /// into `slots`), up to `budget`. Returns the last of `order` looked at, and whether the last
    /// range read stopped short of its log end (the budget ran out in it).
    fn read_from(
        &self,
        owned: &[crate::kafka::client::Owned],
        order: impl Iterator<Item = usize>,
        mut budget: u64,
        out: &mut Vec<(u32, u64, u64)>,
        slots: &mut Vec<u32>,
    ) -> (Option<usize>, bool) {
        let mut last = None;
        for k in order {
            if budget == 0 {
                break;
            }
            last = Some(k);
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
            let left = leo.saturating_sub(o.position);
            let take = left.min(budget);
            if take > 0 {
                // Records are taken in partition order from a rotating start, so no partition starves.
                out.push((o.partition, o.position, o.position + take));
                slots.push(k as u32);
                budget -= take;
                if take < left {
                    return (last, true);
                }
            }
        }
        (last, false)
    }
}

#[cfg(test)]
mod tests {
    use super::{FetchMarks, clear_bits, set_bits};
    use crate::kafka::client::Owned;

    fn owned(parts: &[u32]) -> Vec<Owned> {
        parts.iter().map(|&partition| Owned { partition, position: 0, fetched: false }).collect()
    }

    /// What `marked_from` gives, without folding the unsettled ones in.
    fn marked(m: &FetchMarks, start: usize) -> Vec<usize> {
        let words: Vec<u64> = m.pending.iter().zip(&m.unsettled).map(|(p, u)| p | u).collect();
        set_bits(&words, start, m.n).chain(set_bits(&words, 0, start)).collect()
    }

    #[test]
    fn bit_ranges_cross_words() {
        let mut w = vec![u64::MAX; 3];
        assert_eq!(set_bits(&w, 62, 66).collect::<Vec<_>>(), [62, 63, 64, 65]);
        assert_eq!(set_bits(&w, 64, 64).count(), 0);
        assert_eq!(set_bits(&w, 70, 3).count(), 0);
        clear_bits(&mut w, 3, 130);
        assert_eq!(set_bits(&w, 0, 192).collect::<Vec<_>>(), [0, 1, 2].into_iter().chain(130..192).collect::<Vec<_>>());
        clear_bits(&mut w, 0, 192);
        assert_eq!(w, [0, 0, 0]);
    }

    #[test]
    fn a_rebuild_marks_every_slot_in_rotating_order() {
        let o = owned(&(100..170).collect::<Vec<_>>());
        let mut m = FetchMarks::default();
        assert!(m.rebuild(&o));
        assert!(m.fits(&o));
        assert_eq!(marked(&m, 65), (65..70).chain(0..65).collect::<Vec<_>>());
    }

    #[test]
    fn looked_at_partitions_are_unmarked_but_those_read_wait_for_delivery() {
        let o = owned(&(0..100).collect::<Vec<_>>());
        let mut m = FetchMarks::default();
        assert!(m.rebuild(&o));
        // From slot 90 the fetch looked at 90..100 and 0..6, and read 2 and 5 (5 cut short by
        // the budget); 6..90 were not reached.
        m.looked_at(90, Some(5), &[2, 5], true);
        assert_eq!(marked(&m, 0), [2, 5].into_iter().chain(6..90).collect::<Vec<_>>());
        m.delivered(&[2, 5]);
        assert_eq!(marked(&m, 0), (5..90).collect::<Vec<_>>(), "the range cut short stays marked");
        assert_eq!(m.marked_from(5).count(), 85);
        m.looked_at(5, Some(89), &[], false);
        assert_eq!(marked(&m, 3), [] as [usize; 0]);
        // A fetch that looked at nothing leaves the marks as they were, but for what it read.
        m.looked_at(0, None, &[7], false);
        assert_eq!(marked(&m, 50), [7]);
    }

    #[test]
    fn an_append_while_the_records_are_on_their_way_keeps_its_mark() {
        let o = owned(&(0..10).collect::<Vec<_>>());
        let mut m = FetchMarks::default();
        assert!(m.rebuild(&o));
        assert_eq!(m.marked_from(4).count(), 10);
        m.looked_at(4, Some(3), &[3], false);
        m.mark(3); // appended to after the fetch read it, before the poll handed the records over
        m.delivered(&[3]);
        assert_eq!(marked(&m, 0), [3]);
        // A response that never arrives leaves what it read marked.
        assert_eq!(m.marked_from(0).collect::<Vec<_>>(), [3]);
        m.looked_at(0, Some(9), &[3], false);
        assert_eq!(marked(&m, 0), [3]);
        m.delivered(&[3]);
        assert_eq!(marked(&m, 0), [] as [usize; 0]);
    }

    #[test]
    fn the_journal_marks_only_owned_partitions() {
        // Dense but not whole: slots found through the table.
        let o = owned(&[10, 12, 13, 15]);
        let mut m = FetchMarks::default();
        assert!(m.rebuild(&o));
        m.looked_at(0, Some(3), &[], false);
        [11, 15, 3, 99, 12, 15, u32::MAX].into_iter().for_each(|p| m.mark(p));
        assert_eq!(marked(&m, 2), [3, 1]);
        // A whole range: slot = partition - first.
        let o = owned(&[20, 21, 22]);
        assert!(!m.fits(&o));
        assert!(m.rebuild(&o));
        m.looked_at(0, Some(2), &[], false);
        [19, 22, 23, 20].into_iter().for_each(|p| m.mark(p));
        assert_eq!(marked(&m, 1), [2, 0]);
    }

    #[test]
    fn scattered_partitions_get_no_marks() {
        let mut m = FetchMarks::default();
        assert!(!m.rebuild(&owned(&[0, 5000])));
        assert!(!m.fits(&owned(&[0, 5000])));
        assert!(!m.rebuild(&owned(&[])));
        m.delivered(&[0, 1]); // nothing to settle
        m.mark(0);
        assert_eq!(marked(&m, 0), [] as [usize; 0]);
    }
}
