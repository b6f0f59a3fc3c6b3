//! Output files, written from what a run recorded: summary.json, metrics.csv, events.jsonl and
//! the charts. All are pure functions of the finished world, so equal runs give equal bytes.

pub mod charts;
pub mod console;
pub mod files;
pub mod lag;
pub mod narrate;
pub mod num;
pub mod page;
pub mod run_charts;
pub mod summary;

use crate::kafka::world::World;
use anyhow::Context;
use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Writes every output into `dir` from a finished world that kept its metrics rows.
pub fn write_outputs(w: &World, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    Outputs::begin(dir)?.finish(w, None)
}

/// A set of outputs being written. Files go into a staging folder beside `dir` and are moved in
/// only when all succeeded, so a failure never leaves a half-written set. metrics.csv may be
/// written during the run (see [`Outputs::metrics_csv`]).
pub struct Outputs {
    dir: PathBuf,
    staging: PathBuf,
}

impl Outputs {
    pub fn begin(dir: &Path) -> anyhow::Result<Self> {
        let staging = staging_dir(dir);
        if staging.exists() {
            fs::remove_dir_all(&staging).with_context(|| format!("removing {}", staging.display()))?;
        }
        fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
        Ok(Outputs { dir: dir.to_path_buf(), staging })
    }

    /// A writer for metrics.csv that the world streams its rows to while it runs.
    pub fn metrics_csv(&self) -> anyhow::Result<Box<dyn crate::kafka::world::MetricSink + Send>> {
        Ok(Box::new(files::MetricsCsv::create(&self.staging.join("metrics.csv"))?))
    }

    /// Writes the rest from the finished world (metrics.csv from its rows unless `streamed`
    /// wrote it) and moves everything into place.
    pub fn finish(
        self,
        w: &World,
        streamed: Option<Box<dyn crate::kafka::world::MetricSink + Send>>,
    ) -> anyhow::Result<Vec<PathBuf>> {
        write_into(w, &self.dir, &self.staging, streamed)
    }
}

fn write_into(
    w: &World,
    dir: &Path,
    staging: &Path,
    streamed: Option<Box<dyn crate::kafka::world::MetricSink + Send>>,
) -> anyhow::Result<Vec<PathBuf>> {
    let staging = staging.to_path_buf();
    let create = |name: &str| -> anyhow::Result<BufWriter<fs::File>> {
        let p = staging.join(name);
        Ok(BufWriter::new(fs::File::create(&p).with_context(|| format!("creating {}", p.display()))?))
    };
    let summary_value = summary::summary(w);
    let mut summary = serde_json::to_string_pretty(&summary_value)?;
    summary.push('\n');
    fs::write(staging.join("summary.json"), summary)?;
    match streamed {
        Some(sink) => sink.finish()?,
        None => files::write_metrics(w, create("metrics.csv")?)?,
    }
    files::write_events(w, create("events.jsonl")?)?;
    run_charts::write_all(w, &staging)?;
    page::write_run(w, &summary_value, &staging)?;
    let mut written = Vec::new();
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut names: Vec<_> = fs::read_dir(&staging)?.collect::<Result<Vec<_>, _>>()?;
    names.sort_by_key(|e| e.file_name());
    for e in names {
        let to = dir.join(e.file_name());
        fs::rename(e.path(), &to).with_context(|| format!("moving {} into place", to.display()))?;
        written.push(to);
    }
    fs::remove_dir(&staging).ok();
    Ok(written)
}

fn staging_dir(dir: &Path) -> PathBuf {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    dir.with_file_name(format!(".{name}.partial"))
}
