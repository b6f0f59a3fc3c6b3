//! Output files, written from what a run recorded: summary.json, metrics.csv, events.jsonl and
//! the charts. All are pure functions of the finished world, so equal runs give equal bytes.

pub mod charts;
mod cluster_events;
pub mod cluster_summary;
pub mod console;
pub mod events;
pub mod expectations;
pub mod files;
pub mod findings;
pub mod lag;
pub mod narrate;
pub mod num;
pub mod page;
pub mod page_cluster;
pub mod page_cut;
pub mod page_top;
pub mod run_charts;
pub mod summary;

use crate::record::run::Run;
use anyhow::Context;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes every output into `dir` (created if missing) from a finished world that kept its
/// metrics rows. Callers write into a staging folder (see `cli::outdir`), which puts the whole
/// set in place at once.
pub fn write_outputs(w: &Run, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    write_outputs_streamed(w, dir, None)
}

/// A writer for `dir`/metrics.csv that the world streams its rows to while it runs, so they
/// never pile up in memory; pass it back to [`write_outputs_streamed`].
pub fn metrics_sink(
    dir: &Path,
    plan: &crate::scenario::plan::Plan,
) -> anyhow::Result<Box<dyn crate::record::MetricSink + Send>> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(Box::new(files::MetricsCsv::create(dir, plan)?))
}

/// Writes every output into `dir`; metrics.csv from `streamed` (the sink the run wrote its rows
/// to) or, without one, from the rows the world kept.
pub fn write_outputs_streamed(
    w: &Run,
    dir: &Path,
    streamed: Option<Box<dyn crate::record::MetricSink + Send>>,
) -> anyhow::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let create = |name: &str| -> anyhow::Result<BufWriter<fs::File>> {
        let p = dir.join(name);
        Ok(BufWriter::new(fs::File::create(&p).with_context(|| format!("creating {}", p.display()))?))
    };
    let summary_value = summary::summary(w);
    // Written as it is serialized: as one string, a huge world's summary is 120 MB more.
    let write_summary = || -> anyhow::Result<()> {
        let mut out = create("summary.json")?;
        serde_json::to_writer_pretty(&mut out, &summary_value)?;
        out.write_all(b"\n")?;
        Ok(out.flush()?)
    };
    write_summary().with_context(|| format!("writing {}", dir.join("summary.json").display()))?;
    let metrics = dir.join(files::metrics_file_name(w.plan));
    match streamed {
        Some(sink) => sink.finish().with_context(|| format!("writing {}", metrics.display()))?,
        None => files::write_metrics(w, dir).with_context(|| format!("writing {}", metrics.display()))?,
    }
    files::write_events(w, create("events.jsonl")?)
        .with_context(|| format!("writing {}", dir.join("events.jsonl").display()))?;
    run_charts::write_all(w, dir)?;
    page::write_run(w, &summary_value, dir)?;
    let mut written: Vec<PathBuf> = fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    // Hidden files (the output folder's marker) are the folder's, not the run's.
    written.retain(|p| p.file_name().is_some_and(|n| !n.to_string_lossy().starts_with('.')));
    written.sort();
    Ok(written)
}
