//! Observation: what a run records as it goes (control-plane events, metric samples, per-group
//! counters and latency histograms), held in order so reports are pure functions of it.

pub mod buckets;
pub mod burrow;
pub mod cluster;
pub mod event;
pub mod intervals;
pub mod ledger;
pub mod run;
pub mod runs;

pub use ledger::dense;

use crate::sim::{SimDuration, SimTime};
use hdrhistogram::Histogram;

/// A metrics.csv row before formatting. `u64::MAX` / `u32::MAX` mean "none".
#[derive(Clone, Copy, Debug)]
pub struct MetricRow {
    pub time: SimTime,
    pub group: u16,
    pub partition: u32,
    pub log_end_offset: u64,
    pub log_start_offset: u64,
    pub committed: u64,
    /// Age (ns) of the oldest record past the committed offset; 0 when caught up.
    pub lag_ns: u64,
    pub position: u64,
    pub owner: u32,
    /// Records the group has not read yet: log end - the owner's position, or with no owner
    /// log end - where the group will start (its committed offset or auto_offset_reset).
    pub backlog: u64,
    /// Burrow's status of the partition at this instant.
    pub lag_status: burrow::LagStatus,
    /// Share groups only (NONE for consumer groups): SPSO, SPEO, the in-flight span
    /// SPEO - SPSO + 1, and KIP-1226 share lag.
    pub spso: u64,
    pub speo: u64,
    pub in_flight: u64,
    pub share_lag: u64,
    /// Clusters that declare `brokers:` only (else NONE): the partition's leader (NONE:
    /// offline), how many replicas are in its ISR, and the leader's own log end (above the high
    /// watermark by what its followers have not copied yet). With brokers, `log_end_offset` is
    /// the high watermark: what `kafka-consumer-groups.sh` shows as LOG-END-OFFSET (ListOffsets
    /// for the latest offset, read_uncommitted) and Burrow reads.
    pub leader: u32,
    pub isr_size: u32,
    pub leader_log_end_offset: u64,
}

/// A consumer's first fetch of a partition since it took it (or resumed from a hang): where the
/// time the partition sat unread ends.
#[derive(Clone, Copy, Debug)]
pub struct FirstFetch {
    pub time: SimTime,
    pub group: u16,
    pub partition: u32,
    pub consumer: u32,
}

/// What each consumer of a consumer group held at three samples of the run's last quarter (its
/// first, its middle and the last sample): enough to tell a consumer whose backlog grows for
/// good from one catching up, without keeping every sample. Kept per owner, not per partition:
/// a world of 300 groups over 10,000 partitions would otherwise keep 9 million rows.
#[derive(Clone, Debug, Default)]
pub struct Checkpoint {
    pub time: SimTime,
    pub owners: Vec<OwnerLoad>,
}

/// One consumer's partitions at a checkpoint, with their backlog and log end offsets summed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OwnerLoad {
    pub group: u16,
    pub owner: u32,
    /// In the order of the group's metrics rows; shared with the checkpoint before when the
    /// same (see `sampling::checkpoint_owners`).
    pub partitions: std::sync::Arc<[u32]>,
    pub backlog: u64,
    pub log_end: u64,
}

/// Every ownership change, kept in runs (`runs::Facts`): a head of (time, group, owner) and the
/// partitions it moved.
pub type Ownership = runs::Facts<OwnershipChange>;

impl runs::PartitionFact for OwnershipChange {
    type Head = (SimTime, u16, u32);
    fn split(self) -> (Self::Head, u32) {
        ((self.time, self.group, self.owner), self.partition)
    }
    fn join((time, group, owner): Self::Head, partition: u32) -> Self {
        OwnershipChange { time, group, partition, owner }
    }
}

/// Every first fetch, kept in runs: a head of (time, group, consumer) and its partitions.
pub type FirstFetches = runs::Facts<FirstFetch>;

impl runs::PartitionFact for FirstFetch {
    type Head = (SimTime, u16, u32);
    fn split(self) -> (Self::Head, u32) {
        ((self.time, self.group, self.consumer), self.partition)
    }
    fn join((time, group, consumer): Self::Head, partition: u32) -> Self {
        FirstFetch { time, group, partition, consumer }
    }
}

/// A partition changed hands in a group (`owner` NONE_U32 = released).
#[derive(Clone, Copy, Debug)]
pub struct OwnershipChange {
    pub time: SimTime,
    pub group: u16,
    pub partition: u32,
    pub owner: u32,
}

/// Per group at each sample: what its consumers hold in push buffers, and drops so far.
#[derive(Clone, Copy, Debug)]
pub struct GroupSample {
    pub time: SimTime,
    pub group: u16,
    pub buffered_records: u64,
    pub buffered_bytes: u64,
    pub drops: u64,
    /// Age (ns) of the oldest record the group has not processed yet, the largest over its
    /// partitions (0: none waits; NONE_U64: the group had no partition at this sample).
    pub oldest_unprocessed_ns: u64,
}

/// A share group's partition at one sample: the in-flight span and KIP-1226 share lag.
#[derive(Clone, Copy, Debug)]
pub struct ShareSample {
    pub time: SimTime,
    pub group: u16,
    pub partition: u32,
    pub in_flight: u64,
    pub share_lag: u64,
}

/// Where metrics rows go as they are sampled (metrics.csv, written during the run).
pub trait MetricSink {
    fn row(&mut self, row: &MetricRow);
    /// The run is over: flush, and report the first error.
    fn finish(self: Box<Self>) -> anyhow::Result<()>;
}

/// Metrics rows nobody reads (a sweep, `kafkasim check`, the benchmark): not kept either.
pub struct DiscardRows;

impl MetricSink for DiscardRows {
    fn row(&mut self, _: &MetricRow) {}

    fn finish(self: Box<Self>) -> anyhow::Result<()> {
        Ok(())
    }
}

pub const NONE_U64: u64 = u64::MAX;
pub const NONE_U32: u32 = u32::MAX;

/// Counters a share group's summary reports.
#[derive(Clone, Debug, Default)]
pub struct ShareStats {
    pub records_acquired: u64,
    pub archived_delivery_limit: u64,
    pub archived_reject: u64,
    /// Records retention deleted before they were done (never delivered, or still in hand).
    pub archived_retention: u64,
    /// Records whose acquisition lock ran out before they were acknowledged.
    pub lock_expiries: u64,
    /// Records whose acknowledgement the broker refused (lock expired, or now someone else's).
    pub ack_failures: u64,
    /// Records a closed or killed member's session gave back.
    pub released_on_close: u64,
    pub records_released: u64,
    pub records_rejected: u64,
    pub in_flight_max: u64,
    pub in_flight_sum: u128,
    pub samples: u64,
    pub fencings: u64,
    pub assignments: u64,
}

/// A group's end-to-end latency over the run, as summary.json and the console give it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LatencySummary {
    /// Records whose latency was counted.
    pub records: u64,
    pub p50_ns: u64,
    pub p99_ns: u64,
}

impl LatencySummary {
    fn of(h: &Histogram<u64>) -> Self {
        LatencySummary { records: h.len(), p50_ns: h.value_at_quantile(0.50), p99_ns: h.value_at_quantile(0.99) }
    }
}

/// Delivery counters and latency of one group.
pub struct GroupStats {
    pub records_delivered: u64,
    pub redelivered: u64,
    pub records_processed: u64,
    pub duplicates: u64,
    pub polls: u64,
    pub empty_polls: u64,
    pub commits: u64,
    /// Push delivery: messages sent, records dropped on a full buffer, the buffer's peak, records
    /// thrown away from buffers on revocation / crash / stop, out-of-memory deaths.
    pub pushes: u64,
    pub drops: u64,
    pub buffer_peak_records: u64,
    pub buffer_peak_bytes: u64,
    pub buffer_discarded: u64,
    pub out_of_memory: u64,
    /// The whole run's latency, made at [`settle`](Self::settle) from `counted`.
    pub latency: LatencySummary,
    pub latency_sum_ns: u128,
    pub latency_max_ns: u64,
    /// Latency per second of virtual time (by when each record finished processing), for the
    /// latency-over-time chart: (p50, p99) in ns, filled by [`settle`](Self::settle). Only these
    /// are read, so a second's histogram is made, read and dropped there: 300 groups of 10
    /// seconds would otherwise keep 3,000 histograms of 2 figures to the end, 28 kB each.
    pub latency_per_second: std::collections::BTreeMap<u64, (u64, u64)>,
    /// Seconds per entry of `latency_per_second` (keys are each bucket's first second): 1, or more
    /// for long runs, so that a run keeps at most about 600 of them whatever its length.
    pub latency_bucket_s: u64,
    /// Burrow's window of recent commits, per partition of the world (grown as far as the
    /// highest partition committed; empty windows allocate nothing).
    pub commit_windows: Vec<burrow::CommitWindow>,
    /// The group's Burrow status its last `lag_status` event gave (OK before any).
    pub lag_status_logged: burrow::LagStatus,
    /// A share group's counters (zeros for a consumer group).
    pub share: ShareStats,
    /// When the first and the last duplicate finished processing.
    pub duplicates_span: Option<(SimTime, SimTime)>,
    /// When a full push buffer first dropped records.
    pub first_drop: Option<SimTime>,
    /// Every latency counted (the open seconds' once folded), at 3 significant figures: what
    /// `latency` is read from. Kept rather than moved into a histogram, which holds every
    /// bucket from 0 (about 200 kB a group) where these hold only the magnitudes counted into.
    counted: buckets::Counts3,
    unsettled_per_second: std::collections::BTreeMap<u64, buckets::Counts2>,
    /// Per second of finishing still open (at most `OPEN_SECONDS`), the latencies counted at 3
    /// significant figures: one count per record, folded into `counted` and
    /// `unsettled_per_second` once a later second needs the room (or at `settle`).
    open_seconds: Vec<OpenSecond>,
}

/// Seconds counted into at once before the oldest is folded: a batch's records finish within
/// a second or two of it beginning, so two hold the second ending and the one beginning; more
/// only cost memory (a table of some 20,000 buckets each, per group).
const OPEN_SECONDS: usize = 2;

/// One second still counted into. Its counts are `u32`, so it is folded before it would hold
/// more than `u32::MAX` records (`records` counts them).
struct OpenSecond {
    second: u64,
    records: u64,
    counts: buckets::OpenCounts3,
}

impl Default for GroupStats {
    fn default() -> Self {
        GroupStats {
            records_delivered: 0,
            redelivered: 0,
            records_processed: 0,
            duplicates: 0,
            polls: 0,
            empty_polls: 0,
            commits: 0,
            pushes: 0,
            drops: 0,
            buffer_peak_records: 0,
            buffer_peak_bytes: 0,
            buffer_discarded: 0,
            out_of_memory: 0,
            latency: LatencySummary::default(),
            latency_sum_ns: 0,
            latency_max_ns: 0,
            latency_per_second: std::collections::BTreeMap::new(),
            latency_bucket_s: 1,
            commit_windows: Vec::new(),
            lag_status_logged: burrow::LagStatus::Ok,
            share: ShareStats::default(),
            duplicates_span: None,
            first_drop: None,
            counted: Default::default(),
            unsettled_per_second: std::collections::BTreeMap::new(),
            open_seconds: Vec::new(),
        }
    }
}

impl GroupStats {
    /// `n` duplicates among records whose processing finished from `first_ns` to `last_ns`.
    pub fn note_duplicates(&mut self, n: u64, first_ns: u64, last_ns: u64) {
        if n == 0 {
            return;
        }
        self.duplicates += n;
        let (first, last) = (SimTime(first_ns), SimTime(last_ns));
        let span = self.duplicates_span.get_or_insert((first, last));
        span.0 = span.0.min(first);
        span.1 = span.1.max(last);
    }

    /// Records one record's end-to-end latency (in the summary after [`settle`](Self::settle)).
    #[inline]
    pub fn record_latency(&mut self, ns: u64) {
        self.counted.add(ns);
        self.latency_sum_ns += u128::from(ns);
        self.latency_max_ns = self.latency_max_ns.max(ns);
    }

    /// Records one record's end-to-end latency and the instant it finished processing, so the
    /// latency can also be shown second by second (after [`settle`](Self::settle)).
    pub fn record_latency_at(&mut self, finished: SimTime, ns: u64) {
        self.record_latency(ns);
        let second = finished.as_nanos() / 1_000_000_000 / self.latency_bucket_s * self.latency_bucket_s;
        self.unsettled_per_second.entry(second).or_default().add(ns);
    }

    /// A batch's latencies with the instants (ns) its records finished, in order: one look-up
    /// per second the batch spans, not per record. The histograms get them at
    /// [`settle`](Self::settle).
    pub fn record_latencies(&mut self, finished_ns: &[u64], latency_ns: &[u64]) {
        let latency_ns = &latency_ns[..finished_ns.len().min(latency_ns.len())];
        // (Sum and maximum in the same pass as the counts: one read of each latency.)
        let (mut sum, mut max): (u128, u64) = (0, self.latency_max_ns);
        let bucket = 1_000_000_000 * self.latency_bucket_s;
        let mut i = 0;
        while i < latency_ns.len() {
            let second = finished_ns[i] / bucket * self.latency_bucket_s;
            let end =
                i + finished_ns[i..latency_ns.len()].partition_point(|&f| f / bucket * self.latency_bucket_s == second);
            let counts = self.open_second(second, (end - i) as u64);
            for &ns in &latency_ns[i..end] {
                counts.add(ns);
                sum += u128::from(ns);
                max = max.max(ns);
            }
            i = end;
        }
        self.latency_sum_ns += sum;
        self.latency_max_ns = max;
    }

    /// The counts of `second`, with room for `n` more records, opened if need be; the oldest
    /// open second is folded to make room. (Folding is adding counts, so when a second is
    /// folded, even twice, changes nothing.)
    fn open_second(&mut self, second: u64, n: u64) -> &mut buckets::OpenCounts3 {
        let k = match self.open_seconds.iter().position(|o| o.second == second) {
            Some(k) => k,
            None if self.open_seconds.len() < OPEN_SECONDS => {
                self.open_seconds.push(OpenSecond { second, records: 0, counts: Default::default() });
                self.open_seconds.len() - 1
            }
            None => {
                let oldest = (0..self.open_seconds.len()).min_by_key(|&k| self.open_seconds[k].second).expect("open");
                self.fold_second(oldest);
                self.open_seconds[oldest].second = second;
                oldest
            }
        };
        if self.open_seconds[k].records + n > u64::from(u32::MAX) {
            self.fold_second(k);
        }
        let open = &mut self.open_seconds[k];
        open.records += n;
        &mut open.counts
    }

    /// Moves open second `k`'s counts into `counted` and `unsettled_per_second`.
    fn fold_second(&mut self, k: usize) {
        let open = &mut self.open_seconds[k];
        open.counts.fold_into(&mut self.counted, self.unsettled_per_second.entry(open.second).or_default());
        open.records = 0;
    }

    /// The run is over: the whole run's latency summary from every latency counted, and each
    /// second's quantiles from its counts (a second settled again is replaced).
    pub fn settle(&mut self) {
        for k in 0..self.open_seconds.len() {
            self.fold_second(k);
        }
        self.open_seconds = Vec::new();
        let mut whole = Histogram::new(3).expect("3 significant figures is valid");
        self.counted.copy_into(&mut whole);
        self.latency = LatencySummary::of(&whole);
        drop(whole); // before the per-second ones: one histogram at a time
        let mut h = Histogram::new(2).expect("2 significant figures is valid");
        for (second, mut counts) in std::mem::take(&mut self.unsettled_per_second) {
            h.reset();
            counts.drain_into(&mut h);
            self.latency_per_second.insert(second, (h.value_at_quantile(0.50), h.value_at_quantile(0.99)));
        }
    }

    /// (second, p50 ns, p99 ns) for every second in which records finished processing.
    pub fn latency_quantiles_per_second(&self) -> Vec<(u64, u64, u64)> {
        self.latency_per_second.iter().map(|(s, &(p50, p99))| (*s, p50, p99)).collect()
    }
}

/// What one consumer did, as `kafka-consumer-groups.sh --describe --members --verbose` and the
/// consumer's own metrics would show it. Times are split three ways while it runs: busy
/// (processing), rebalancing (blocked in poll() waiting for an assignment) and idle (the rest:
/// fetch waits, commits, poll-interval sleeps, standby).
#[derive(Clone, Debug, Default)]
pub struct ConsumerStats {
    pub records_processed: u64,
    pub duplicates_caused: u64,
    pub polls: u64,
    pub started: bool,
    pub running: SimDuration,
    pub busy: SimDuration,
    pub rebalancing: SimDuration,
    /// Time its host was frozen (`hang`): neither busy nor idle.
    pub hung: SimDuration,
    /// Hangs it went through.
    pub hangs: u32,
    running_since: Option<SimTime>,
    hung_since: Option<SimTime>,
    busy_since: Option<SimTime>,
    blocked_since: Option<SimTime>,
}

impl ConsumerStats {
    pub fn start_running(&mut self, now: SimTime) {
        self.started = true;
        self.running_since.get_or_insert(now);
    }

    pub fn start_busy(&mut self, now: SimTime) {
        self.busy_since.get_or_insert(now);
    }

    pub fn end_busy(&mut self, now: SimTime) {
        if let Some(t) = self.busy_since.take() {
            self.busy += now - t;
        }
    }

    pub fn start_blocked(&mut self, now: SimTime) {
        self.blocked_since.get_or_insert(now);
    }

    pub fn end_blocked(&mut self, now: SimTime) {
        if let Some(t) = self.blocked_since.take() {
            self.rebalancing += now - t;
        }
    }

    pub fn start_hung(&mut self, now: SimTime) {
        self.hung_since.get_or_insert(now);
    }

    pub fn end_hung(&mut self, now: SimTime) {
        if let Some(t) = self.hung_since.take() {
            self.hung += now - t;
        }
    }

    /// The consumer stopped running (crash, stop, or the end of the run): close every clock.
    pub fn stop_running(&mut self, now: SimTime) {
        self.end_busy(now);
        self.end_blocked(now);
        self.end_hung(now);
        if let Some(t) = self.running_since.take() {
            self.running += now - t;
        }
    }

    pub fn idle(&self) -> SimDuration {
        let other = self.busy.as_nanos() + self.rebalancing.as_nanos() + self.hung.as_nanos();
        SimDuration(self.running.as_nanos().saturating_sub(other))
    }
}

/// One group's metrics rows of one sample, totalled: what the lag series, the summary and the
/// charts read, so the rows themselves can be streamed to metrics.csv instead of kept.
#[derive(Clone, Copy, Debug)]
pub struct GroupTotals {
    pub time: SimTime,
    pub group: u16,
    /// Over the partitions with a committed offset: lag summed, lag in time (ns) the largest,
    /// committed offsets summed (`committed_any`: there was at least one).
    pub lag: u64,
    pub lag_ns: u64,
    pub committed: u64,
    pub committed_any: bool,
    /// Over all its partitions: backlog summed, Burrow's group status (the worst, capped at ERR).
    pub backlog: u64,
    pub status: burrow::LagStatus,
    /// The worst partition status (uncapped) and the first partition that has it.
    pub worst: burrow::LagStatus,
    pub worst_partition: u32,
}

/// Log start and end offsets of one sample, summed over the partitions any group reads (each once).
#[derive(Clone, Copy, Debug)]
pub struct OffsetTotals {
    pub time: SimTime,
    pub log_start: u64,
    pub log_end: u64,
}

#[derive(Default)]
pub struct Recorder {
    pub events: Vec<event::Event>,
    /// metrics.csv rows, unless they are streamed to a writer as they are sampled (then empty).
    pub metrics: Vec<MetricRow>,
    pub group_totals: Vec<GroupTotals>,
    pub offset_totals: Vec<OffsetTotals>,
    /// Ownership changes (`OwnershipChange`), in the order they happened.
    pub ownership: Ownership,
    /// First fetches (`FirstFetch`), in the order they happened.
    pub first_fetches: FirstFetches,
    /// The last quarter's checkpoints (see `Checkpoint`).
    pub checkpoints: Vec<Checkpoint>,
    pub group_samples: Vec<GroupSample>,
    /// Per share group and partition (kept for the share chart; share groups only).
    pub share_samples: Vec<ShareSample>,
    pub groups: Vec<GroupStats>,
    pub consumers: Vec<ConsumerStats>,
    /// Timeline actions refused at run time (seek on an unowned partition, reset of an active group).
    pub rejected_actions: u64,
    /// Burrow's settings, and the log-end offsets it fetched of each partition of the world.
    pub burrow: burrow::Settings,
    pub broker_offsets: Vec<burrow::BrokerOffsets>,
    /// The newest of each partition's `broker_offsets` (`NO_BROKER_OFFSET` before any): all a
    /// commit reads of them, 8 bytes a partition, which stay cached over 10,000 partitions.
    pub broker_newest: Vec<u64>,
    /// Per group: what it processed, skipped and lost, and what its rebalances cost (pushed by
    /// the world as it builds each group, since the tables are as large as the world).
    pub ledgers: Vec<ledger::Ledger>,
    /// The cluster: brokers, leaders, ISRs, and what producers sent, lost or wrote twice.
    pub cluster: cluster::ClusterRecord,
}

/// `Recorder::broker_newest` of a partition Burrow has not fetched yet.
const NO_BROKER_OFFSET: u64 = u64::MAX;

impl Recorder {
    /// `latency_bucket_s`: seconds per point of the latency-over-time series.
    pub fn new(groups: usize, consumers: usize, latency_bucket_s: u64) -> Self {
        Recorder {
            ledgers: Vec::new(),
            cluster: Default::default(),
            burrow: burrow::Settings::default(),
            broker_offsets: Vec::new(),
            broker_newest: Vec::new(),
            events: Vec::new(),
            metrics: Vec::new(),
            group_totals: Vec::new(),
            offset_totals: Vec::new(),
            ownership: Ownership::default(),
            first_fetches: FirstFetches::default(),
            checkpoints: Vec::new(),
            group_samples: Vec::new(),
            share_samples: Vec::new(),
            rejected_actions: 0,
            groups: (0..groups)
                .map(|_| GroupStats { latency_bucket_s: latency_bucket_s.max(1), ..GroupStats::default() })
                .collect(),
            consumers: vec![ConsumerStats::default(); consumers],
        }
    }

    /// Totals one group's rows of a sample (in sampling order: by partition).
    pub fn total_group_rows(&mut self, rows: &[MetricRow]) {
        for row in rows {
            if self.group_totals.last().is_none_or(|t| t.time != row.time || t.group != row.group) {
                self.group_totals.push(GroupTotals {
                    time: row.time,
                    group: row.group,
                    lag: 0,
                    lag_ns: 0,
                    committed: 0,
                    committed_any: false,
                    backlog: 0,
                    status: burrow::LagStatus::Ok,
                    worst: burrow::LagStatus::Ok,
                    worst_partition: row.partition,
                });
            }
            let t = self.group_totals.last_mut().expect("pushed above");
            if row.share_lag != NONE_U64 {
                t.lag += row.share_lag;
                t.lag_ns = t.lag_ns.max(row.lag_ns);
                t.committed += row.spso;
                t.committed_any = true;
            } else if row.committed != NONE_U64 {
                t.lag += row.log_end_offset.saturating_sub(row.committed);
                t.lag_ns = t.lag_ns.max(row.lag_ns);
                t.committed += row.committed;
                t.committed_any = true;
            }
            t.backlog += row.backlog;
            t.status = t.status.max(row.lag_status.for_group());
            if row.lag_status > t.worst {
                (t.worst, t.worst_partition) = (row.lag_status, row.partition);
            }
        }
    }

    /// Burrow's offset refresh fetched partition `p`'s log end.
    pub fn burrow_refresh(&mut self, p: u32, log_end: u64) {
        let p = p as usize;
        if self.broker_offsets.len() <= p {
            self.broker_offsets.resize_with(p + 1, Default::default);
            self.broker_newest.resize(p + 1, NO_BROKER_OFFSET);
        }
        self.broker_offsets[p].add(log_end, self.burrow.intervals);
        debug_assert!(log_end != NO_BROKER_OFFSET);
        self.broker_newest[p] = log_end;
    }

    /// Group `g` committed `offset` for partition `p` (a share group: its SPSO moved), as Burrow
    /// reads it from `__consumer_offsets`.
    pub fn burrow_commit(&mut self, g: usize, p: u32, offset: u64, now: SimTime) {
        let newest = self.broker_newest.get(p as usize).copied().filter(|&b| b != NO_BROKER_OFFSET);
        debug_assert_eq!(newest, self.broker_offsets.get(p as usize).and_then(|b| b.newest()));
        let windows = &mut self.groups[g].commit_windows;
        let i = p as usize;
        if windows.len() <= i {
            // Sized once to every partition Burrow samples, not doubled as commits reach higher
            // partitions: a doubled table leaves up to half its room unused, per group.
            let n = (i + 1).max(self.broker_offsets.len());
            windows.reserve_exact(n - windows.len());
            windows.resize_with(n, Default::default);
        }
        windows[i].add(offset, now, newest, &self.burrow);
    }

    /// Burrow's status of group `g`'s partition `p` at `now`.
    pub fn lag_status(&self, g: usize, p: u32, now: SimTime) -> burrow::LagStatus {
        let Some(w) = self.groups[g].commit_windows.get(p as usize) else { return burrow::LagStatus::Ok };
        let none = burrow::BrokerOffsets::default();
        w.status(self.broker_offsets.get(p as usize).unwrap_or(&none), now, &self.burrow)
    }

    /// The run is over: every latency counted goes into its histograms.
    pub fn settle(&mut self) {
        for g in &mut self.groups {
            g.settle();
        }
    }

    pub fn event(&mut self, time: SimTime, what: event::What) {
        self.events.push(event::Event { time, what });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hung_time_is_neither_busy_nor_idle() {
        let mut c = ConsumerStats::default();
        let at = SimTime::from_millis;
        c.start_running(at(0));
        c.start_busy(at(1_000));
        c.end_busy(at(2_000));
        c.start_hung(at(5_000));
        c.start_hung(at(6_000)); // already hung: the first start holds
        c.end_hung(at(20_000));
        c.start_hung(at(30_000));
        c.stop_running(at(40_000)); // closes the open hang too
        assert_eq!(c.hung, SimDuration::from_millis(25_000));
        assert_eq!(c.idle(), SimDuration::from_millis(40_000 - 1_000 - 25_000));
    }

    #[test]
    fn an_open_second_is_folded_before_its_u32_counts_could_overflow() {
        let mut g = GroupStats::default();
        g.record_latencies(&[1_500_000_000; 3], &[7, 7, 7]);
        g.open_seconds[0].records = u64::from(u32::MAX) - 1; // as if 4 billion had been counted
        g.record_latencies(&[1_600_000_000; 2], &[7, 9]);
        assert_eq!(g.open_seconds[0].records, 2, "folded, then counted");
        g.settle();
        assert_eq!(g.latency, LatencySummary { records: 5, p50_ns: 7, p99_ns: 9 });
        assert_eq!(g.latency_per_second[&1], (7, 9));
        assert_eq!((g.latency_max_ns, g.latency_sum_ns), (9, 37));
    }

    #[test]
    fn latency_is_kept_per_second_of_finishing() {
        let mut g = GroupStats::default();
        for (finished_ms, latency_ms) in [(100, 5), (900, 7), (1_500, 100), (1_600, 200), (400, 9)] {
            g.record_latency_at(SimTime::from_millis(finished_ms), latency_ms * 1_000_000);
        }
        g.settle();
        let q = g.latency_quantiles_per_second();
        assert_eq!(q.iter().map(|r| r.0).collect::<Vec<_>>(), [0, 1]);
        // Second 0 held 5, 7 and 9 ms; second 1 held 100 and 200 ms (2 significant figures).
        assert!((6_900_000..=7_100_000).contains(&q[0].1), "{q:?}");
        assert!((99_000_000..=101_000_000).contains(&q[1].1), "{q:?}");
        assert!((199_000_000..=202_000_000).contains(&q[1].2), "{q:?}");
        assert_eq!(g.latency.records, 5, "the whole-run summary counts every record too");
        let mut direct = Histogram::<u64>::new(3).unwrap();
        for ms in [5, 7, 100, 200, 9] {
            direct.record(ms * 1_000_000).unwrap();
        }
        assert_eq!(g.latency, LatencySummary::of(&direct));
        assert_eq!(g.latency.p50_ns / 1_000_000, 9, "the median, 9 ms");
    }
}
