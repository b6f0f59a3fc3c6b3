//! Sampling: every `sample_interval` a metrics row per group and partition (offsets, lag, lag in
//! time, backlog, Burrow's status) and a push-buffer row per group; then memory is trimmed to
//! what readers still need (see `backlog`). Also Burrow's own sampling of the log ends.

use crate::kafka::broker::Broker;
use crate::kafka::client::Consumer;
use crate::kafka::coordinator::Group;
use crate::kafka::world::{Ev, World};
use crate::record::event::What;
use crate::record::{Checkpoint, GroupSample, MetricRow, NONE_U32, NONE_U64, OwnerLoad, Recorder, ShareSample};
use crate::scenario::plan::{OffsetReset, ShareOffsetReset};
use crate::sim::SimTime;

/// One sample's figures gathered group by group: the rows of one group at a time are all
/// that is held (300 groups over 10,000 partitions make 3 million rows a sample).
struct SamplePass {
    /// Log start and end offsets summed over the partitions sampled, each partition once.
    offsets: crate::record::OffsetTotals,
    seen: Vec<bool>,
    any_rows: bool,
    /// The checkpoint's partitions, when this sample is kept as one (see `checkpoint`).
    checkpoint: Option<Vec<OwnerLoad>>,
    /// Per group, the oldest unprocessed record's age (see `oldest_unprocessed`).
    oldest: Vec<u64>,
}

impl World {
    /// A sample: the rows of every group present now, their totals and Burrow's status, the
    /// push buffers' row per group; then memory is trimmed and the next sample scheduled.
    pub(crate) fn sample(&mut self) {
        let now = self.now();
        let mut rows = std::mem::take(&mut self.sample_rows);
        let mut pass = SamplePass {
            offsets: crate::record::OffsetTotals { time: now, log_start: 0, log_end: 0 },
            seen: vec![false; self.broker.partitions.len()],
            any_rows: false,
            checkpoint: self.is_checkpoint(now).then(Vec::new),
            oldest: vec![NONE_U64; self.groups.len()],
        };
        for gi in 0..self.groups.len() {
            // A group appears when it is added and disappears when removed.
            let added = self.plan.groups[gi].added_at.is_none_or(|t| SimTime::ZERO + t <= now);
            if !added || self.groups[gi].removed {
                continue;
            }
            rows.clear();
            let in_flight = self.group_rows(gi, now, &mut rows);
            self.record_rows(gi, &rows, in_flight, &mut pass);
            if !rows.is_empty() {
                pass.oldest[gi] = self.oldest_unprocessed(gi, &rows, now);
            }
        }
        if pass.any_rows {
            self.rec.offset_totals.push(pass.offsets);
        }
        if let Some(owners) = pass.checkpoint {
            self.keep_checkpoint(now, owners);
        }
        rows.clear();
        self.sample_rows = rows;
        self.buffer_samples(now, &pass.oldest);
        // Once a sample, memory is trimmed to what readers still need.
        self.broker.release_read_records(&self.plan, now, &self.groups, &self.consumers);
        self.next_sample = now + self.plan.sample_interval;
        if self.next_sample <= self.end {
            self.kernel.schedule_at(self.next_sample, Ev::Sample);
        }
    }

    /// Group `gi`'s rows of this sample into `rows`; for a share group, also its records in
    /// flight over all its partitions.
    fn group_rows(&self, gi: usize, now: SimTime, rows: &mut Vec<MetricRow>) -> Option<u64> {
        let (g, broker, rec) = (&self.groups[gi], &self.broker, &self.rec);
        let in_flight = if g.share_opt().is_some() {
            Some(share_rows(gi, g, broker, rec, now, rows))
        } else {
            let first = self.plan.groups[gi].consumers.first();
            let reset = first.map_or(OffsetReset::Earliest, |c| c.config.auto_offset_reset);
            classic_rows(ClassicRows { gi, g, consumers: &self.consumers, broker, rec, reset }, now, rows);
            None
        };
        if let Some(cl) = self.cluster.as_deref() {
            // The log is what lies below the high watermark, which is the log end a consumer,
            // kafka-consumer-groups.sh and Burrow see (ListOffsets, read_uncommitted: Kafka's
            // Partition#fetchOffsetForTimestamp); the leader's log goes on above it.
            for r in rows.iter_mut() {
                (r.leader, r.isr_size, r.leader_log_end_offset) = cl.row_columns(r.partition, r.log_end_offset);
            }
        }
        in_flight
    }

    /// One group's rows go into the record: its totals and Burrow's status change, share
    /// samples, records in flight, the sample's offset totals and checkpoint; and to
    /// metrics.csv as they are sampled when a writer waits for them (`kafkasim run`), else kept
    /// for whoever reads the run afterwards (tests, compare).
    fn record_rows(&mut self, gi: usize, rows: &[MetricRow], in_flight: Option<u64>, pass: &mut SamplePass) {
        let totals_before = self.rec.group_totals.len();
        self.rec.total_group_rows(rows);
        for r in rows {
            if !std::mem::replace(&mut pass.seen[r.partition as usize], true) {
                pass.offsets.log_start += r.log_start_offset;
                pass.offsets.log_end += r.log_end_offset;
            }
        }
        pass.any_rows |= !rows.is_empty();
        if let Some(cp) = &mut pass.checkpoint {
            checkpoint_owners(rows, cp, self.rec.checkpoints.last().map_or(&[][..], |b| &b.owners[..]));
        }
        self.lag_status_changes(totals_before);
        for r in rows.iter().filter(|r| r.share_lag != NONE_U64) {
            self.rec.share_samples.push(ShareSample {
                time: r.time,
                group: r.group,
                partition: r.partition,
                in_flight: r.in_flight,
                share_lag: r.share_lag,
            });
        }
        if let Some(total) = in_flight {
            let st = &mut self.rec.groups[gi].share;
            st.in_flight_max = st.in_flight_max.max(total);
            st.in_flight_sum += u128::from(total);
            st.samples += 1;
        }
        match self.metric_sink.take() {
            Some(mut sink) => {
                for row in rows {
                    sink.row(row);
                }
                self.metric_sink = Some(sink);
            }
            None => self.rec.metrics.extend_from_slice(rows),
        }
    }

    /// What each group's push buffers hold now, and its drops so far (one row per group).
    fn buffer_samples(&mut self, now: SimTime, oldest: &[u64]) {
        for gi in 0..self.groups.len() {
            let members = &self.groups[gi].consumers;
            let buffered_records = members.iter().map(|&c| self.consumers[c].buffered()).sum();
            let buffered_bytes = members.iter().map(|&c| self.buffered_bytes(c)).sum();
            self.rec.group_samples.push(GroupSample {
                time: now,
                group: gi as u16,
                buffered_records,
                buffered_bytes,
                drops: self.rec.groups[gi].drops,
                oldest_unprocessed_ns: oldest.get(gi).copied().unwrap_or(NONE_U64),
            });
        }
    }
}

/// One group's classic rows summed per owner into a checkpoint, owners in the order their
/// first row comes (rows of share groups and unowned partitions are left out). `before`: the
/// checkpoint before, whose partition lists are shared where an owner's are the same.
fn checkpoint_owners(rows: &[MetricRow], owners: &mut Vec<OwnerLoad>, before: &[OwnerLoad]) {
    let first = owners.len();
    let mut lists: Vec<Vec<u32>> = Vec::new();
    let mut last = usize::MAX;
    let classic = rows.iter().filter(|r| r.share_lag == NONE_U64 && r.spso == NONE_U64 && r.owner != NONE_U32);
    for r in classic {
        // Neighbouring partitions mostly share an owner (range assignment, sticky runs); else a
        // scan of the group's owners finds the entry.
        let i = if owners.get(last).is_some_and(|o| o.owner == r.owner) {
            last
        } else if let Some(i) = owners[first..].iter().position(|o| o.owner == r.owner) {
            first + i
        } else {
            owners.push(OwnerLoad { group: r.group, owner: r.owner, ..OwnerLoad::default() });
            lists.push(Vec::new());
            owners.len() - 1
        };
        last = i;
        let o = &mut owners[i];
        lists[i - first].push(r.partition);
        o.backlog += r.backlog;
        o.log_end += r.log_end_offset;
    }
    for (o, list) in owners[first..].iter_mut().zip(lists) {
        o.partitions = shared_partitions(before, o, list);
    }
}

/// `owner`'s partition list, shared with the checkpoint before when it held the same ones:
/// assignments seldom change in a run's last quarter, and its three checkpoints of 3 million
/// group-partitions (300 groups over 10,000 partitions) then keep one list, not three.
fn shared_partitions(before: &[OwnerLoad], owner: &OwnerLoad, list: Vec<u32>) -> std::sync::Arc<[u32]> {
    // Owners come group by group, so the group's owners are a run of `before`.
    let from = before.partition_point(|b| b.group < owner.group);
    let to = from + before[from..].partition_point(|b| b.group == owner.group);
    match before[from..to].iter().find(|b| b.owner == owner.owner) {
        Some(b) if *b.partitions == *list => b.partitions.clone(),
        _ => list.into(),
    }
}

impl World {
    /// Whether the sample at `now` is kept as a checkpoint: the first of the run's last
    /// quarter, the first of its last eighth, or the last one (see `record::Checkpoint`).
    fn is_checkpoint(&self, now: SimTime) -> bool {
        let (end, quarter) = (self.end, self.plan.duration.as_nanos() / 4);
        let marks =
            [SimTime(end.as_nanos().saturating_sub(quarter)), SimTime(end.as_nanos().saturating_sub(quarter / 2))];
        let last = now + self.plan.sample_interval > end;
        last || marks.get(self.rec.checkpoints.len()).is_some_and(|&m| now >= m)
    }

    /// Keeps this sample's classic rows as a checkpoint (the last one replaces the third).
    fn keep_checkpoint(&mut self, now: SimTime, owners: Vec<OwnerLoad>) {
        let last = now + self.plan.sample_interval > self.end;
        let cp = Checkpoint { time: now, owners };
        if last && self.rec.checkpoints.len() >= 3 {
            self.rec.checkpoints[2] = cp;
        } else {
            self.rec.checkpoints.push(cp);
        }
    }

    /// Logs a `lag_status` event for every group whose Burrow status differs from its last
    /// sample's (`from`: where this sample's group totals start), naming its worst partition.
    fn lag_status_changes(&mut self, from: usize) {
        let now = self.now();
        for i in from..self.rec.group_totals.len() {
            let t = self.rec.group_totals[i];
            let g = t.group as usize;
            let before = self.rec.groups[g].lag_status_logged;
            if t.status == before {
                continue;
            }
            self.rec.groups[g].lag_status_logged = t.status;
            let what = What::LagStatus {
                group: g as u32,
                status: t.status,
                was: before,
                partition: t.worst_partition,
                partition_status: t.worst,
            };
            self.rec.event(now, what);
        }
    }

    /// Burrow's offset refresh (at the start, then every `offset-refresh`): the log end of every
    /// partition that exists now goes into its ring of broker offsets
    /// (KafkaCluster.getOffsets -> InMemoryStorage.addBrokerOffset).
    pub(crate) fn burrow_refresh(&mut self) {
        let now = self.now();
        for p in 0..self.broker.partitions.len() as u32 {
            if self.partition_exists(p) {
                self.rec.burrow_refresh(p, self.broker.partitions[p as usize].log.log_end_offset());
            }
        }
        let next = now + self.plan.burrow.offset_refresh;
        if next <= self.end {
            self.kernel.schedule_at(next, Ev::BurrowRefresh);
        }
    }
}

/// A share group's figures for one partition at one sample.
struct ShareRow {
    spso: u64,
    speo: u64,
    in_flight: u64,
    share_lag: u64,
    backlog: u64,
    lag_ns: u64,
}

/// What a classic group's rows are read from.
struct ClassicRows<'a> {
    gi: usize,
    g: &'a Group,
    consumers: &'a [Consumer],
    broker: &'a Broker,
    rec: &'a Recorder,
    /// auto.offset.reset of the group's consumers: where reading would start without a commit.
    reset: OffsetReset,
}

/// A share group's row per partition (its share-partition's start and end, records in
/// flight, share lag); returns the records in flight over all its partitions.
fn share_rows(gi: usize, g: &Group, broker: &Broker, rec: &Recorder, now: SimTime, rows: &mut Vec<MetricRow>) -> u64 {
    let sg = g.share();
    let mut in_flight_total = 0;
    for &p in &g.partitions {
        if !broker.partition_exists(p) {
            continue;
        }
        let log = &broker.partitions[p as usize].log;
        let (start, end) = (log.log_start_offset(), log.log_end_offset());
        let row = match &broker.share_parts(gi)[p as usize] {
            Some(sp) => {
                let spso = sp.spso();
                in_flight_total += sp.in_flight();
                let lag_ns = if spso < end {
                    log.created_at(spso.max(start)).map_or(0, |t| now.as_nanos().saturating_sub(t))
                } else {
                    0
                };
                ShareRow {
                    spso,
                    speo: if sp.in_flight() == 0 { spso } else { sp.window_end() - 1 },
                    in_flight: sp.in_flight(),
                    share_lag: sp.lag(end),
                    backlog: end.saturating_sub(sp.window_end()) + sp.available(),
                    lag_ns,
                }
            }
            // Not initialized yet: share.auto.offset.reset decides where it will start.
            None => {
                let from = match sg.plan.auto_offset_reset {
                    ShareOffsetReset::Earliest => start,
                    ShareOffsetReset::Latest => end,
                };
                ShareRow {
                    spso: NONE_U64,
                    speo: NONE_U64,
                    in_flight: NONE_U64,
                    share_lag: NONE_U64,
                    backlog: end - from,
                    lag_ns: NONE_U64,
                }
            }
        };
        let lag_status = rec.lag_status(gi, p, now);
        rows.push(MetricRow {
            time: now,
            group: gi as u16,
            partition: p,
            log_end_offset: end,
            log_start_offset: start,
            committed: NONE_U64,
            lag_ns: row.lag_ns,
            position: NONE_U64,
            owner: NONE_U32,
            backlog: row.backlog,
            lag_status,
            spso: row.spso,
            speo: row.speo,
            in_flight: row.in_flight,
            share_lag: row.share_lag,
            leader: NONE_U32,
            isr_size: NONE_U32,
            leader_log_end_offset: NONE_U64,
        });
    }
    in_flight_total
}

/// A classic group's row per partition: owner, position, committed offset, backlog and lag
/// in time.
fn classic_rows(at: ClassicRows, now: SimTime, rows: &mut Vec<MetricRow>) {
    let ClassicRows { gi, g, consumers, broker, rec, reset } = at;
    for &p in &g.partitions {
        if !broker.partition_exists(p) {
            continue;
        }
        let owner = g.offsets().owner(p);
        let position = owner.and_then(|c| consumers[c].position(p));
        let log = &broker.partitions[p as usize].log;
        let (start, end) = (log.log_start_offset(), log.log_end_offset());
        // Where reading resumes: the owner's position, else the committed offset, else
        // what auto_offset_reset picks (latest: nothing now in the log is waiting).
        let resume = position.or(g.offsets().committed(p)).unwrap_or(match reset {
            OffsetReset::Latest => end,
            OffsetReset::Earliest | OffsetReset::None => start,
        });
        let backlog = end.saturating_sub(resume.max(start));
        let lag_status = rec.lag_status(gi, p, now);
        // Lag in time: how long the oldest record the group has not committed past has waited.
        let lag_ns = match g.offsets().committed(p) {
            Some(off) => {
                let oldest = off.max(log.log_start_offset());
                debug_assert!(oldest >= log.retained_from().min(end), "a committed record was freed");
                log.created_at(oldest).map_or(0, |t| now.as_nanos().saturating_sub(t))
            }
            None => NONE_U64,
        };
        rows.push(MetricRow {
            time: now,
            group: gi as u16,
            partition: p,
            log_end_offset: end,
            log_start_offset: start,
            committed: g.offsets().committed(p).unwrap_or(NONE_U64),
            lag_ns,
            position: position.unwrap_or(NONE_U64),
            owner: owner.map_or(NONE_U32, |c| c as u32),
            backlog,
            lag_status,
            spso: NONE_U64,
            speo: NONE_U64,
            in_flight: NONE_U64,
            share_lag: NONE_U64,
            leader: NONE_U32,
            isr_size: NONE_U32,
            leader_log_end_offset: NONE_U64,
        });
    }
}

impl World {
    /// The age (ns) of the oldest record group `gi` has not processed yet, the largest over
    /// the partitions of its rows of this sample: 0 when none waits. Per partition the oldest
    /// is a share group's SPSO (the first record not done), or a classic group's resume point
    /// (log end - backlog) or, if earlier, the first record its consumers hold unfinished (in
    /// the batch in hand or a push buffer).
    fn oldest_unprocessed(&self, gi: usize, rows: &[MetricRow], now: SimTime) -> u64 {
        let held = self.held_unprocessed(gi, now);
        let mut out = 0;
        for row in rows {
            let Some(oldest) = oldest_unprocessed_offset(row, held.get(&row.partition).copied()) else { continue };
            // A record already freed from memory was older still than the oldest one kept.
            let log = &self.broker.partitions[row.partition as usize].log;
            if let Some(t) = log.created_at(oldest).or_else(|| log.created_at(log.retained_from())) {
                out = out.max(now.as_nanos().saturating_sub(t));
            }
        }
        out
    }

    /// The first offset per partition that classic group `gi`'s running consumers hold and have
    /// not finished processing (a hung one finished nothing after its hang began).
    fn held_unprocessed(&self, gi: usize, now: SimTime) -> std::collections::BTreeMap<u32, u64> {
        let mut held = std::collections::BTreeMap::new();
        if self.groups[gi].share_opt().is_some() {
            return held;
        }
        for &c in &self.groups[gi].consumers {
            let con = &self.consumers[c];
            if !con.is_running() {
                continue;
            }
            let done_by = con.hang.frozen.as_ref().map_or(now, |h| h.since.min(now));
            let done = con.inflight.finished_by(done_by);
            let buffered = con.push_buffer().into_iter().flat_map(|b| b.ranges.iter().copied());
            for (p, from, _) in con.inflight.ranges_after(done).into_iter().chain(buffered) {
                let first = held.entry(p).or_insert(from);
                *first = (*first).min(from);
            }
        }
        held
    }
}

/// The oldest offset of `row`'s partition that its group has not processed, given the first
/// one its consumers hold unfinished (`held`); None when none waits. A share group's SPSO is its
/// first record not done; a classic group resumes at log end - backlog (the owner's position,
/// the committed offset or where auto.offset.reset starts), and holds what it fetched before.
fn oldest_unprocessed_offset(row: &MetricRow, held: Option<u64>) -> Option<u64> {
    let end = row.log_end_offset;
    let resume = if row.spso != NONE_U64 { row.spso } else { end.saturating_sub(row.backlog) };
    let oldest = held.map_or(resume, |h| h.min(resume)).max(row.log_start_offset);
    (oldest < end).then_some(oldest)
}

#[cfg(test)]
mod tests {
    use super::{checkpoint_owners, oldest_unprocessed_offset};
    use crate::record::burrow::LagStatus;
    use crate::record::{MetricRow, NONE_U32, NONE_U64};
    use crate::sim::SimTime;

    fn row(start: u64, end: u64, backlog: u64, spso: u64) -> MetricRow {
        MetricRow {
            time: SimTime::ZERO,
            group: 0,
            partition: 0,
            log_end_offset: end,
            log_start_offset: start,
            committed: NONE_U64,
            lag_ns: NONE_U64,
            position: NONE_U64,
            owner: NONE_U32,
            backlog,
            lag_status: LagStatus::Ok,
            spso,
            speo: NONE_U64,
            in_flight: NONE_U64,
            share_lag: NONE_U64,
            leader: NONE_U32,
            isr_size: NONE_U32,
            leader_log_end_offset: NONE_U64,
        }
    }

    #[test]
    fn oldest_unprocessed_is_the_resume_point_or_what_is_held_before_it() {
        // Caught up: nothing waits.
        assert_eq!(oldest_unprocessed_offset(&row(0, 100, 0, NONE_U64), None), None);
        // 30 unread: the oldest is at log end - backlog.
        assert_eq!(oldest_unprocessed_offset(&row(0, 100, 30, NONE_U64), None), Some(70));
        // A batch from 50 is still being processed (position 70): it is older.
        assert_eq!(oldest_unprocessed_offset(&row(0, 100, 30, NONE_U64), Some(50)), Some(50));
        // All read, but the last batch is not finished.
        assert_eq!(oldest_unprocessed_offset(&row(0, 100, 0, NONE_U64), Some(90)), Some(90));
        // Retention deleted past the resume point: the oldest left is the log start.
        assert_eq!(oldest_unprocessed_offset(&row(80, 100, 40, NONE_U64), None), Some(80));
        // A share group: its SPSO, whatever the backlog.
        assert_eq!(oldest_unprocessed_offset(&row(0, 100, 10, 40), None), Some(40));
        assert_eq!(oldest_unprocessed_offset(&row(0, 100, 0, 100), None), None);
    }

    #[test]
    fn checkpoints_share_an_owners_partition_list_while_it_is_the_same() {
        let owned = |group: u16, owner: u32, partitions: &[u32]| -> Vec<MetricRow> {
            partitions
                .iter()
                .map(|&partition| MetricRow { group, partition, owner, ..row(0, 10, 1, NONE_U64) })
                .collect()
        };
        let rows = |second_owner: u32| [owned(0, 0, &[0, 1]), owned(1, 5, &[0, 1]), owned(1, second_owner, &[2, 3])];
        let checkpoint = |rows: &[Vec<MetricRow>; 3], before: &[super::OwnerLoad]| {
            let mut owners = Vec::new();
            for group in [&rows[0][..], &[rows[1].clone(), rows[2].clone()].concat()[..]] {
                checkpoint_owners(group, &mut owners, before);
            }
            owners
        };
        let first = checkpoint(&rows(6), &[]);
        assert_eq!(
            first.iter().map(|o| (o.group, o.owner, o.backlog)).collect::<Vec<_>>(),
            [(0, 0, 2), (1, 5, 2), (1, 6, 2)]
        );
        // The same owners: the same lists, held once. Owner 6's partitions went to 7: its own.
        let second = checkpoint(&rows(7), &first);
        assert!(std::sync::Arc::ptr_eq(&second[0].partitions, &first[0].partitions));
        assert!(std::sync::Arc::ptr_eq(&second[1].partitions, &first[1].partitions));
        assert!(!std::sync::Arc::ptr_eq(&second[2].partitions, &first[2].partitions));
        assert_eq!(&second[2].partitions[..], [2, 3]);
        // Owner 0 of group 1 is not owner 0 of group 0.
        let third = checkpoint(&[owned(0, 5, &[0, 1]), owned(1, 0, &[0, 1]), vec![]], &second);
        assert!(!std::sync::Arc::ptr_eq(&third[1].partitions, &second[0].partitions));
    }
}
