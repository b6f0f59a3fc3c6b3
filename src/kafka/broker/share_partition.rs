//! One share-partition on the broker (Kafka's `SharePartition` and `InFlightState`): the window of
//! in-flight records from SPSO, each record's state, delivery count, owner and acquisition lock.
//! Rules and their sources are in the project's share-groups fact sheet (§2, §3).
//!
//! Records are kept per offset in a deque from SPSO to the end of the window (SPEO + 1), which the
//! in-flight limit bounds (`group.share.partition.max.record.locks`, at most 10,000 plus one
//! producer batch), so every operation is a walk over at most that many small entries.

use crate::sim::{SimDuration, SimTime};
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordState {
    Available,
    Acquired,
    Acknowledged,
    Archived,
}

impl RecordState {
    pub fn is_terminal(self) -> bool {
        matches!(self, RecordState::Acknowledged | RecordState::Archived)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckType {
    Accept,
    Release,
    Reject,
}

/// How a fetch takes new records (`share.acquire.mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcquireMode {
    /// Whole producer batches: a cut batch is rounded up to its end.
    BatchOptimized,
    /// At most `max_records`, cutting a producer batch if needed.
    RecordLimit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct InFlight {
    state: RecordState,
    count: u8,
    owner: u32,
    deadline: SimTime,
}

/// Why an acknowledgement was refused (Kafka's InvalidRecordStateException): the whole request
/// for this partition is rolled back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidRecordState {
    pub offset: u64,
}

/// Records archived or made available again, for the caller's counters and events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Transitions {
    pub made_available: u64,
    pub archived_delivery_limit: u64,
    pub archived_reject: u64,
}

#[derive(Clone, Copy, Debug)]
pub struct ShareConfig {
    pub lock: SimDuration,
    pub delivery_limit: u8,
    pub window_limit: u64,
    pub mode: AcquireMode,
}

#[derive(Clone, Debug)]
pub struct SharePartition {
    spso: u64,
    /// Offsets [spso, spso + window.len()) are in flight; SPEO = spso + len - 1.
    window: VecDeque<InFlight>,
    pub config: ShareConfig,
    /// Where reading began (SPSO at initialization): the records below it were never the
    /// group's to read.
    start: u64,
}

impl SharePartition {
    /// A share-partition whose reading starts at `start` (share.auto.offset.reset).
    pub fn new(start: u64, config: ShareConfig) -> Self {
        SharePartition { spso: start, window: VecDeque::new(), config, start }
    }

    /// The SPSO the share-partition was initialized at.
    pub fn start(&self) -> u64 {
        self.start
    }

    pub fn spso(&self) -> u64 {
        self.spso
    }

    /// One past the last offset taken into the window (SPEO + 1).
    pub fn window_end(&self) -> u64 {
        self.spso + self.window.len() as u64
    }

    /// The in-flight span that the limit applies to: SPEO - SPSO + 1.
    pub fn in_flight(&self) -> u64 {
        self.window.len() as u64
    }

    pub fn terminal_in_window(&self) -> u64 {
        self.window.iter().filter(|r| r.state.is_terminal()).count() as u64
    }

    /// KIP-1226: log end - SPSO - terminal records in the window
    /// (GroupCoordinatorService.computeShareGroupLagAndBuildResponse).
    pub fn lag(&self, log_end: u64) -> u64 {
        log_end.saturating_sub(self.spso).saturating_sub(self.terminal_in_window())
    }

    /// Records in the window waiting for a (re-)delivery.
    pub fn available(&self) -> u64 {
        self.window.iter().filter(|r| r.state == RecordState::Available).count() as u64
    }

    /// Every acquired record as (offset, owner): for the invariant that a record is held by at
    /// most one member, and only by a member of the group.
    pub fn owners(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.window
            .iter()
            .enumerate()
            .filter(|(_, r)| r.state == RecordState::Acquired)
            .map(|(i, r)| (self.spso + i as u64, r.owner))
    }

    pub fn acquired_by(&self, member: u32) -> u64 {
        self.window.iter().filter(|r| r.state == RecordState::Acquired && r.owner == member).count() as u64
    }

    /// The earliest acquisition lock still running.
    pub fn next_deadline(&self) -> Option<SimTime> {
        self.window.iter().filter(|r| r.state == RecordState::Acquired).map(|r| r.deadline).min()
    }

    /// SharePartition.acquire (fetch offset from nextFetchOffset, limit from
    /// lastOffsetAndMaxRecordsToAcquire). A fetch by `member` at `now`: re-deliveries (lowest AVAILABLE offsets) first, then new
    /// records from the log up to `log_end`, at most `max_records` and the window limit (batch
    /// mode rounds new records up to the end of their producer batch, `batch_end(offset)`).
    /// Returns the acquired ranges `(from, to, delivery_count)` in offset order.
    pub fn acquire(
        &mut self,
        member: u32,
        max_records: u64,
        now: SimTime,
        log_end: u64,
        batch_end: impl Fn(u64) -> u64,
    ) -> Vec<(u64, u64, u8)> {
        self.acquire_in(self.config.mode, member, max_records, now, log_end, batch_end)
    }

    /// `acquire` in the fetch's own mode (share.acquire.mode is a client setting, sent with
    /// each ShareFetch since KIP-1206).
    pub fn acquire_in(
        &mut self,
        mode: AcquireMode,
        member: u32,
        max_records: u64,
        now: SimTime,
        log_end: u64,
        batch_end: impl Fn(u64) -> u64,
    ) -> Vec<(u64, u64, u8)> {
        let deadline = now + self.config.lock;
        let mut out: Vec<(u64, u64, u8)> = Vec::new();
        let mut budget = max_records;
        let push = |out: &mut Vec<(u64, u64, u8)>, off: u64, count: u8| match out.last_mut() {
            Some(last) if last.1 == off && last.2 == count => last.1 = off + 1,
            _ => out.push((off, off + 1, count)),
        };
        for (i, r) in self.window.iter_mut().enumerate() {
            if budget == 0 {
                break;
            }
            if r.state == RecordState::Available {
                r.state = RecordState::Acquired;
                r.count = r.count.saturating_add(1);
                r.owner = member;
                r.deadline = deadline;
                push(&mut out, self.spso + i as u64, r.count);
                budget -= 1;
            }
        }
        // Then new records from SPEO + 1, within what the budget and the window limit leave.
        let span = self.in_flight();
        if span >= self.config.window_limit || budget == 0 {
            return out;
        }
        let from = self.window_end();
        let mut to = from.saturating_add(budget.min(self.config.window_limit - span)).min(log_end);
        if to <= from {
            return out;
        }
        if mode == AcquireMode::BatchOptimized {
            to = batch_end(to - 1).clamp(to, log_end);
        }
        for _ in from..to {
            self.window.push_back(InFlight { state: RecordState::Acquired, count: 1, owner: member, deadline });
        }
        out.push((from, to, 1));
        out
    }

    /// Applies `member`'s acknowledgements, all or nothing: every offset must be ACQUIRED by it
    /// (SharePartition.acknowledge, rollbackOrProcessStateUpdates).
    pub fn acknowledge(
        &mut self,
        member: u32,
        acks: &[(u64, u64, AckType)],
    ) -> Result<Transitions, InvalidRecordState> {
        for &(from, to, _) in acks {
            for off in from..to {
                let ok = off >= self.spso
                    && self.slot(off).is_some_and(|r| r.state == RecordState::Acquired && r.owner == member);
                if !ok {
                    return Err(InvalidRecordState { offset: off });
                }
            }
        }
        let mut t = Transitions::default();
        let limit = self.config.delivery_limit;
        for &(from, to, ty) in acks {
            for off in from..to {
                let r = self.slot_mut(off).expect("validated");
                match ty {
                    AckType::Accept => r.state = RecordState::Acknowledged,
                    AckType::Reject => {
                        r.state = RecordState::Archived;
                        t.archived_reject += 1;
                    }
                    AckType::Release if r.count >= limit => {
                        r.state = RecordState::Archived;
                        t.archived_delivery_limit += 1;
                    }
                    AckType::Release => {
                        r.state = RecordState::Available;
                        t.made_available += 1;
                    }
                }
            }
        }
        self.advance();
        Ok(t)
    }

    /// Acquisition locks that ran out by `now`: back to AVAILABLE, or ARCHIVED at the delivery limit
    /// (SharePartition.releaseAcquisitionLockOnTimeout).
    pub fn expire_locks(&mut self, now: SimTime) -> Transitions {
        self.give_back(|r| r.deadline <= now)
    }

    /// Acquired records that `which` picks go back AVAILABLE, or are ARCHIVED at the delivery
    /// limit (the count is kept: InFlightState's NO_OP), and SPSO moves over what is done.
    fn give_back(&mut self, which: impl Fn(&InFlight) -> bool) -> Transitions {
        let mut t = Transitions::default();
        let limit = self.config.delivery_limit;
        for r in self.window.iter_mut() {
            if r.state == RecordState::Acquired && which(r) {
                if r.count >= limit {
                    r.state = RecordState::Archived;
                    t.archived_delivery_limit += 1;
                } else {
                    r.state = RecordState::Available;
                    t.made_available += 1;
                }
            }
        }
        self.advance();
        t
    }

    /// The member's share session closed (clean close, or a killed process whose socket the OS
    /// closed): its records go back at once. Kafka 4.2 and later count the attempt
    /// (KAFKA-19972, so a consumer that crashes on a record cannot loop on it forever): the
    /// delivery count stays and a record at the limit is archived. (4.1 took one off the count.)
    pub fn release_member(&mut self, member: u32) -> Transitions {
        self.give_back(|r| r.owner == member)
    }

    /// Retention moved the log start past SPSO: records below it are archived and SPSO follows
    /// (SharePartition.updateCacheAndOffsets).
    /// Returns how many records not yet done it archived (never delivered, or still in hand).
    pub fn log_start_moved(&mut self, log_start: u64) -> u64 {
        let mut archived = 0;
        while self.spso < log_start {
            match self.window.pop_front() {
                Some(r) => archived += u64::from(!r.state.is_terminal()),
                None => {
                    // Beyond the window: records never taken, archived unread.
                    archived += log_start - self.spso;
                    self.spso = log_start;
                    return archived;
                }
            }
            self.spso += 1;
        }
        self.advance();
        archived
    }

    /// SPSO moves over the contiguous terminal prefix.
    fn advance(&mut self) {
        while self.window.front().is_some_and(|r| r.state.is_terminal()) {
            self.window.pop_front();
            self.spso += 1;
        }
    }

    fn slot(&self, off: u64) -> Option<&InFlight> {
        self.window.get(usize::try_from(off.checked_sub(self.spso)?).ok()?)
    }

    fn slot_mut(&mut self, off: u64) -> Option<&mut InFlight> {
        let i = usize::try_from(off.checked_sub(self.spso)?).ok()?;
        self.window.get_mut(i)
    }

    /// Invariants: SPSO never passes a non-terminal record (the front is not terminal), and no
    /// delivery count exceeds the limit.
    pub fn check(&self) -> Result<(), String> {
        if self.window.front().is_some_and(|r| r.state.is_terminal()) {
            return Err(format!("SPSO {} sits on a terminal record", self.spso));
        }
        if let Some((i, r)) = self.window.iter().enumerate().find(|(_, r)| r.count > self.config.delivery_limit) {
            return Err(format!(
                "offset {} delivered {} times (limit {})",
                self.spso + i as u64,
                r.count,
                self.config.delivery_limit
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> SimTime {
        SimTime(secs * 1_000_000_000)
    }

    fn config() -> ShareConfig {
        ShareConfig {
            lock: SimDuration::from_secs(30),
            delivery_limit: 5,
            window_limit: 2000,
            mode: AcquireMode::BatchOptimized,
        }
    }

    /// Producer batches of 100 records.
    fn batches(off: u64) -> u64 {
        (off / 100 + 1) * 100
    }

    const A: u32 = 0;
    const B: u32 = 1;

    /// Scenario B: A holds 0-499 and B fills the window to 2000; SPSO stays at 0, so B's further
    /// fetches are empty until A's records come back.
    fn scenario_b() -> SharePartition {
        let mut p = SharePartition::new(0, config());
        assert_eq!(p.acquire(A, 500, s(0), 10_000, batches), vec![(0, 500, 1)]);
        for k in 0..3 {
            let from = 500 + 500 * k;
            assert_eq!(p.acquire(B, 500, s(0), 10_000, batches), vec![(from, from + 500, 1)]);
            p.acknowledge(B, &[(from, from + 500, AckType::Accept)]).unwrap();
        }
        assert_eq!(p.spso(), 0);
        assert_eq!(p.in_flight(), 2000);
        assert!(p.acquire(B, 500, s(1), 10_000, batches).is_empty(), "the window is full: head-of-line stall");
        p
    }

    /// B(i): A hangs. At 30 s its locks expire: 0-499 AVAILABLE with count 1; B re-acquires them
    /// with count 2 and, once acked, SPSO jumps to 2000.
    #[test]
    fn a_hung_member_holds_its_records_until_the_lock_expires() {
        let mut p = scenario_b();
        assert_eq!(p.next_deadline(), Some(s(30)));
        assert_eq!(p.expire_locks(s(29)).made_available, 0);
        assert_eq!(p.expire_locks(s(30)).made_available, 500);
        assert_eq!(p.acquire(B, 500, s(30), 10_000, batches), vec![(0, 500, 2)]);
        p.acknowledge(B, &[(0, 500, AckType::Accept)]).unwrap();
        assert_eq!(p.spso(), 2000);
        assert_eq!(p.in_flight(), 0);
        assert_eq!(p.acquire(B, 500, s(30), 10_000, batches), vec![(2000, 2500, 1)]);
    }

    /// B(ii): A is killed; its socket closes and its records come back at once. Kafka 4.2+
    /// (KAFKA-19972) counts the attempt: B re-acquires them with count 2 (the fact sheet's count 1
    /// is Kafka 4.1). A record released at its last attempt is archived.
    #[test]
    fn a_killed_member_releases_its_records_at_once() {
        let mut p = scenario_b();
        assert_eq!(p.release_member(A).made_available, 500);
        assert_eq!(p.acquire(B, 500, s(1), 10_000, batches), vec![(0, 500, 2)]);

        let mut q = SharePartition::new(0, ShareConfig { mode: AcquireMode::RecordLimit, ..config() });
        for attempt in 1..5u64 {
            q.acquire(A, 1, s(attempt), 10, batches);
            q.release_member(A);
        }
        q.acquire(A, 1, s(5), 10, batches);
        assert_eq!(q.release_member(A).archived_delivery_limit, 1);
        assert_eq!(q.spso(), 1);
    }

    /// Scenario C: a poison record released every time is delivered exactly 5 times, then archived,
    /// and SPSO passes it. Rejected, it is archived after one delivery.
    #[test]
    fn a_poison_record_is_archived_at_the_delivery_limit() {
        let cfg = ShareConfig { mode: AcquireMode::RecordLimit, ..config() };
        let mut p = SharePartition::new(42, cfg);
        let mut deliveries = 0;
        for attempt in 1..=5u8 {
            let got = p.acquire(A, 1, s(u64::from(attempt)), 100, batches);
            assert_eq!(got, vec![(42, 43, attempt)], "re-deliveries come first");
            deliveries += 1;
            let t = p.acknowledge(A, &[(42, 43, AckType::Release)]).unwrap();
            assert_eq!(t.archived_delivery_limit, u64::from(attempt == 5));
            p.check().unwrap();
        }
        assert_eq!(deliveries, 5);
        assert_eq!(p.spso(), 43, "archived: SPSO passes it");
        assert_eq!(p.acquire(A, 1, s(9), 100, batches), vec![(43, 44, 1)]);

        let mut q = SharePartition::new(42, cfg);
        q.acquire(A, 1, s(0), 100, batches);
        assert_eq!(q.acknowledge(A, &[(42, 43, AckType::Reject)]).unwrap().archived_reject, 1);
        assert_eq!(q.spso(), 43);
    }

    /// Hung attempts end by lock expiry: archived after the 5th, about 5 x 30 s after the first.
    #[test]
    fn lock_expiry_counts_towards_the_limit() {
        let mut p = SharePartition::new(0, ShareConfig { mode: AcquireMode::RecordLimit, ..config() });
        let mut now = s(0);
        for attempt in 1..=5u8 {
            assert_eq!(p.acquire(A, 1, now, 1, batches), vec![(0, 1, attempt)]);
            now = p.next_deadline().unwrap();
            p.expire_locks(now);
        }
        assert_eq!(now, s(150));
        assert_eq!(p.spso(), 1);
    }

    /// Acknowledgements are all or nothing per partition: one offset not held makes the whole
    /// request fail and change nothing.
    #[test]
    fn acknowledgements_are_atomic_per_partition() {
        let mut p = SharePartition::new(0, config());
        p.acquire(A, 100, s(0), 1000, batches);
        p.acquire(B, 100, s(0), 1000, batches);
        let err = p.acknowledge(A, &[(0, 100, AckType::Accept), (100, 101, AckType::Accept)]).unwrap_err();
        assert_eq!(err, InvalidRecordState { offset: 100 });
        assert_eq!(p.spso(), 0, "nothing applied");
        assert_eq!(p.acquired_by(A), 100);
        // After its lock expired and another member took the records, the late ack fails too.
        p.expire_locks(s(30));
        p.acquire(B, 100, s(30), 1000, batches);
        assert!(p.acknowledge(A, &[(0, 100, AckType::Accept)]).is_err());
    }

    /// batch_optimized rounds new records up to the producer batch; record_limit cuts it.
    #[test]
    fn acquire_modes() {
        let mut p = SharePartition::new(0, config());
        assert_eq!(p.acquire(A, 150, s(0), 1000, batches), vec![(0, 200, 1)]);
        let mut q = SharePartition::new(0, ShareConfig { mode: AcquireMode::RecordLimit, ..config() });
        assert_eq!(q.acquire(A, 150, s(0), 1000, batches), vec![(0, 150, 1)]);
    }

    /// Scenario D: 500-record polls fill the 2000-record window with four holders; a fifth and
    /// sixth get nothing until the window slides.
    #[test]
    fn the_window_feeds_at_most_limit_over_max_poll_records_members() {
        let mut p = SharePartition::new(0, config());
        let holders = (0..6).filter(|&m| !p.acquire(m, 500, s(0), 100_000, batches).is_empty()).count();
        assert_eq!(holders, 4);
        let mut q = SharePartition::new(0, config());
        let holders = (0..6).filter(|&m| !q.acquire(m, 300, s(0), 100_000, batches).is_empty()).count();
        assert_eq!(holders, 6, "300-record polls (rounded to 300 by 100-record batches) let all six work");
    }

    /// Scenario E: LEO 10,000, SPSO 4,000, 1,200 terminal in the window: lag 4,800; once the other
    /// 800 are accepted, SPSO moves to 6,000 and lag is 4,000.
    #[test]
    fn lag_is_log_end_minus_spso_minus_terminal_records_in_the_window() {
        let mut p = SharePartition::new(4000, ShareConfig { mode: AcquireMode::RecordLimit, ..config() });
        p.acquire(A, 2000, s(0), 10_000, batches);
        // Offsets 4000-4799 stay in hand; 4800-5999 are acknowledged.
        p.acknowledge(A, &[(4800, 6000, AckType::Accept)]).unwrap();
        assert_eq!((p.spso(), p.terminal_in_window()), (4000, 1200));
        assert_eq!(p.lag(10_000), 4800);
        p.acknowledge(A, &[(4000, 4800, AckType::Accept)]).unwrap();
        assert_eq!(p.spso(), 6000);
        assert_eq!(p.lag(10_000), 4000);
    }
}
