//! metrics.csv and events.jsonl writers.

use super::num::{time_ms, time_ms_json};
use crate::record::MetricSink;
use crate::record::run::Run;
use crate::record::{MetricRow, NONE_U32, NONE_U64};
use crate::scenario::plan::{MetricsFile, Plan};
use crate::sim::SimTime;
use anyhow::Context;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub const METRICS_HEADER: [&str; 17] = [
    "time_ms",
    "group",
    "topic",
    "partition",
    "log_end_offset",
    "committed_offset",
    "position",
    "lag",
    "owner",
    "lag_ms",
    "log_start_offset",
    "backlog",
    "lag_status",
    "spso",
    "speo",
    "in_flight",
    "share_lag",
];

/// The columns a scenario that declares `brokers:` appends: the partition's leader (empty while
/// offline), its high watermark, how many replicas its ISR has, and the leader's own log end.
pub const CLUSTER_COLUMNS: [&str; 4] = ["leader", "high_watermark", "isr_size", "leader_log_end_offset"];

/// metrics.csv's header: the cluster's columns only when the plan declares brokers (the file is
/// opened before the run, so the plan says; the model fills the columns for the same plans).
fn header(plan: &Plan) -> Vec<&'static str> {
    let cluster = if plan.cluster.declared { &CLUSTER_COLUMNS[..] } else { &[] };
    METRICS_HEADER.iter().chain(cluster).copied().collect()
}

/// Names a metrics row shows, by index, from the plan.
pub struct RowNames {
    /// Rows carry the cluster's columns.
    cluster: bool,
    groups: Vec<String>,
    consumers: Vec<String>,
    /// Per partition id: its topic's name and its index as text.
    partitions: Vec<(String, String)>,
}

impl RowNames {
    pub fn new(plan: &Plan) -> Self {
        RowNames {
            cluster: plan.cluster.declared,
            groups: plan.groups.iter().map(|g| g.id.clone()).collect(),
            consumers: plan.groups.iter().flat_map(|g| g.consumers.iter().map(|c| c.name.clone())).collect(),
            partitions: plan
                .topics
                .iter()
                .flat_map(|t| (0..t.max_partitions).map(|i| (t.name.clone(), i.to_string())))
                .collect(),
        }
    }
}

/// metrics.csv (or metrics.csv.gz) in `dir` from the rows a run kept.
pub fn write_metrics(w: &Run, dir: &Path) -> anyhow::Result<()> {
    let mut sink = MetricsCsv::create(dir, w.plan)?;
    for row in &w.rec.metrics {
        sink.row(row);
    }
    Box::new(sink).finish()
}

fn write_metric_row<W: Write>(csv: &mut csv::Writer<W>, n: &RowNames, row: &MetricRow) -> csv::Result<()> {
    let (topic, index) = &n.partitions[row.partition as usize];
    let committed = (row.committed != NONE_U64).then_some(row.committed);
    let some = |v: u64| (v != NONE_U64).then_some(v);
    let share_lag = some(row.share_lag);
    // A share group's lag is KIP-1226's share lag (it has no committed offset).
    let lag = committed.map(|c| row.log_end_offset.saturating_sub(c)).or(share_lag);
    let owner = if row.owner == NONE_U32 { "" } else { n.consumers[row.owner as usize].as_str() };
    let cluster = n.cluster.then(|| {
        let leader = (row.leader != NONE_U32).then_some(u64::from(row.leader));
        let isr = (row.isr_size != NONE_U32).then_some(u64::from(row.isr_size));
        // (With brokers the log end a reader sees is the high watermark.)
        [opt(leader), row.log_end_offset.to_string(), opt(isr), opt(some(row.leader_log_end_offset))]
    });
    let cluster = cluster.iter().flatten().map(String::as_str);
    csv.write_record(
        [
            time_ms(row.time).as_str(),
            n.groups[row.group as usize].as_str(),
            topic.as_str(),
            index.as_str(),
            row.log_end_offset.to_string().as_str(),
            opt(committed).as_str(),
            opt((row.position != NONE_U64).then_some(row.position)).as_str(),
            opt(lag).as_str(),
            owner,
            if row.lag_ns == NONE_U64 { String::new() } else { time_ms(SimTime(row.lag_ns)) }.as_str(),
            row.log_start_offset.to_string().as_str(),
            row.backlog.to_string().as_str(),
            row.lag_status.name(),
            opt(some(row.spso)).as_str(),
            opt(some(row.speo)).as_str(),
            opt(some(row.in_flight)).as_str(),
            opt(share_lag).as_str(),
        ]
        .into_iter()
        .chain(cluster),
    )
}

/// metrics.csv written while the run samples, so its rows never pile up in memory.
pub struct MetricsCsv {
    csv: csv::Writer<Out>,
    names: RowNames,
    path: PathBuf,
    /// Rows of every `stride`-th sample are written (see [`MetricsFile`]).
    stride: u64,
    /// The sample the last row belonged to (its time) and its index.
    sample: Option<(SimTime, u64)>,
    /// The first write error; reported when the run is over.
    error: Option<csv::Error>,
}

/// metrics.csv's bytes per row, as measured on 10,000 partitions over 60 s (63), with room for
/// longer offsets and the cluster's columns.
const BYTES_PER_ROW: u64 = 70;
/// `metrics: auto` keeps metrics.csv under about this size.
pub const AUTO_BYTES: u64 = 45_000_000;

/// The file name metrics are written to under `plan`'s `metrics:`.
pub fn metrics_file_name(plan: &Plan) -> &'static str {
    if plan.metrics == MetricsFile::Gzip { "metrics.csv.gz" } else { "metrics.csv" }
}

/// Every how many samples metrics.csv gets rows: 1, unless `metrics: auto` and every sample
/// would make the file larger than [`AUTO_BYTES`] (estimated from the samples and the
/// partitions each group reads).
pub fn sample_stride(plan: &Plan) -> u64 {
    if plan.metrics != MetricsFile::Auto {
        return 1;
    }
    let bytes = samples(plan).saturating_mul(group_partitions(plan)).saturating_mul(BYTES_PER_ROW);
    bytes.div_ceil(AUTO_BYTES).max(1)
}

/// What the console says when `metrics: auto` left samples out of metrics.csv (None: it has
/// every sample).
pub fn thinning_note(plan: &Plan) -> Option<String> {
    let stride = sample_stride(plan);
    let cap_mb = AUTO_BYTES / 1_000_000;
    let others = "`metrics: gzip` writes every sample to metrics.csv.gz, `metrics: every_sample` to metrics.csv";
    if stride >= samples(plan) {
        // Even one sample does not fit: say so, rather than promise a size the file exceeds.
        Some(format!(
            "metrics.csv has only the run's first sample: one sample is {} rows (one per group and partition), \
             more than {cap_mb} MB holds; {others}",
            crate::report::num::count(group_partitions(plan))
        ))
    } else if stride > 1 {
        Some(format!(
            "metrics.csv has every {} sample ({} apart) to stay under {cap_mb} MB; {others}",
            crate::report::num::ordinal(stride),
            crate::report::num::human_ns(plan.sample_interval.as_nanos() * stride),
        ))
    } else {
        None
    }
}

/// The samples of a run: at 0 and every `sample_interval` to its end.
pub fn samples(plan: &Plan) -> u64 {
    plan.duration.as_nanos() / plan.sample_interval.as_nanos() + 1
}

/// The rows of one sample at most: every partition each group reads.
pub fn group_partitions(plan: &Plan) -> u64 {
    plan.groups.iter().flat_map(|g| g.topics.iter()).map(|&t| u64::from(plan.topics[t].max_partitions)).sum()
}

/// Where metrics rows are written: a plain file, or gzip (`metrics: gzip`).
enum Out {
    Plain(BufWriter<File>),
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Out::Plain(w) => w.write(buf),
            Out::Gzip(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Out::Plain(w) => w.flush(),
            Out::Gzip(w) => w.flush(),
        }
    }
}

impl MetricsCsv {
    /// The metrics file of `plan` in `dir`, its header written.
    pub fn create(dir: &Path, plan: &Plan) -> anyhow::Result<Self> {
        let path = dir.join(metrics_file_name(plan));
        let file = BufWriter::new(File::create(&path).with_context(|| format!("creating {}", path.display()))?);
        let out = match plan.metrics {
            MetricsFile::Gzip => Out::Gzip(flate2::write::GzEncoder::new(file, flate2::Compression::fast())),
            _ => Out::Plain(file),
        };
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(header(plan))?;
        let names = RowNames::new(plan);
        Ok(MetricsCsv { csv, names, path, stride: sample_stride(plan), sample: None, error: None })
    }

    /// The row belongs to a sample whose rows are written.
    fn kept(&mut self, time: SimTime) -> bool {
        let index = match self.sample {
            Some((t, i)) if t == time => i,
            Some((_, i)) => i + 1,
            None => 0,
        };
        self.sample = Some((time, index));
        index % self.stride == 0
    }
}

impl MetricSink for MetricsCsv {
    fn row(&mut self, row: &MetricRow) {
        if self.kept(row.time)
            && self.error.is_none()
            && let Err(e) = write_metric_row(&mut self.csv, &self.names, row)
        {
            self.error = Some(e);
        }
    }

    fn finish(mut self: Box<Self>) -> anyhow::Result<()> {
        let path = self.path.clone();
        if let Some(e) = self.error.take() {
            return Err(e).with_context(|| format!("writing {}", path.display()));
        }
        let out =
            self.csv.into_inner().map_err(|e| e.into_error()).with_context(|| format!("writing {}", path.display()))?;
        match out {
            Out::Plain(mut w) => w.flush(),
            Out::Gzip(w) => w.finish().and_then(|mut w| w.flush()),
        }
        .with_context(|| format!("writing {}", path.display()))
    }
}

fn opt(v: Option<u64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

pub fn write_events(w: &Run, mut out: impl Write) -> anyhow::Result<()> {
    // One event at a time: all of them at once would name every partition of every assignment.
    for e in super::events::each_logged(w.plan, &w.rec.events) {
        let mut obj = serde_json::Map::new();
        obj.insert("time_ms".into(), time_ms_json(e.time));
        obj.insert("type".into(), serde_json::Value::String(e.kind.to_string()));
        for (k, v) in e.fields {
            obj.insert(k, v);
        }
        serde_json::to_writer(&mut out, &obj)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
