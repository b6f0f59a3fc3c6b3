//! `kafkasim sweep`: one scenario over the cross product of settings, times seeds, run in
//! parallel (each run single-threaded and deterministic, so results never depend on `--jobs`),
//! with expectations counted per run. `--shard I/N` runs a deterministic slice and `sweep-merge`
//! joins slices into exactly what the whole sweep writes, so a large sweep can fan out on a batch
//! engine (Slurm job arrays, Kubernetes Indexed Jobs: see `deploy/`).

pub mod chart;
pub mod command;
pub mod figures;
pub mod settings;
pub mod table;

use crate::scenario::{self, Plan, ScenarioError};
use rayon::prelude::*;
use serde_json::{Map, Value, json};
use settings::Setting;
use std::path::Path;

/// What a sweep is: enough to re-create every run, and to tell whether shards belong together.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub scenario: String,
    /// The scenario file's text, as swept (shown on the sweep's page).
    pub scenario_text: String,
    /// FNV-1a of the scenario text: shards of different files never merge.
    pub scenario_digest: String,
    pub settings: Vec<Setting>,
    pub seeds: u32,
    pub base_seed: u64,
    /// Figures charted against the first setting (paths relative to a group, or absolute).
    pub plots: Vec<String>,
}

impl Manifest {
    pub fn combinations(&self) -> usize {
        self.settings.iter().map(|s| s.values.len()).product()
    }

    pub fn runs(&self) -> usize {
        self.combinations() * self.seeds as usize
    }

    /// The setting values of combination `c`, the last setting varying fastest.
    pub fn values_of(&self, c: usize) -> Vec<String> {
        let mut out = vec![String::new(); self.settings.len()];
        let mut rest = c;
        for (i, s) in self.settings.iter().enumerate().rev() {
            out[i] = s.values[rest % s.values.len()].clone();
            rest /= s.values.len();
        }
        out
    }

    /// Run `r` is combination `r / seeds` with seed `base_seed + r % seeds`.
    pub fn run_spec(&self, r: usize) -> (usize, u64) {
        (r / self.seeds as usize, self.base_seed.wrapping_add((r % self.seeds as usize) as u64))
    }

    pub fn to_json(&self) -> Value {
        json!({
            "scenario": self.scenario,
            "scenario_text": self.scenario_text,
            "scenario_digest": self.scenario_digest,
            "settings": self.settings.iter().map(|s| json!({"path": s.path, "values": s.values})).collect::<Vec<_>>(),
            "seeds": self.seeds,
            "base_seed": self.base_seed,
            "plots": self.plots,
            "runs": self.runs(),
        })
    }

    pub fn from_json(v: &Value) -> Option<Manifest> {
        let settings = v["settings"]
            .as_array()?
            .iter()
            .map(|s| {
                Some(Setting {
                    path: s["path"].as_str()?.to_string(),
                    values: s["values"]
                        .as_array()?
                        .iter()
                        .map(|x| x.as_str().map(String::from))
                        .collect::<Option<_>>()?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Manifest {
            scenario: v["scenario"].as_str()?.to_string(),
            scenario_text: v["scenario_text"].as_str()?.to_string(),
            scenario_digest: v["scenario_digest"].as_str()?.to_string(),
            settings,
            seeds: u32::try_from(v["seeds"].as_u64()?).ok()?,
            base_seed: v["base_seed"].as_u64()?,
            plots: v["plots"].as_array()?.iter().map(|p| p.as_str().map(String::from)).collect::<Option<_>>()?,
        })
    }
}

/// One finished run: its place in the sweep and what it measured.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRow {
    pub run: usize,
    pub seed: u64,
    pub passed: usize,
    pub failed: usize,
    /// summary.json flattened: `groups.billing.lag_records.max` -> value (lists left out).
    pub figures: Vec<(String, Value)>,
    /// The expectations that failed, in the scenario's order: what was expected
    /// (`group billing: revoked_partitions = 12`) and what was measured.
    pub failures: Vec<(String, Value)>,
}

impl RunRow {
    pub fn to_json(&self) -> Value {
        let figures: Map<String, Value> = self.figures.iter().cloned().collect();
        let failures: Vec<Value> =
            self.failures.iter().map(|(e, m)| json!({"expectation": e, "measured": m})).collect();
        json!({"run": self.run, "seed": self.seed, "expectations_passed": self.passed,
               "expectations_failed": self.failed, "failed_expectations": failures, "figures": figures})
    }

    pub fn from_json(v: &Value) -> Option<RunRow> {
        Some(RunRow {
            run: usize::try_from(v["run"].as_u64()?).ok()?,
            seed: v["seed"].as_u64()?,
            passed: usize::try_from(v["expectations_passed"].as_u64()?).ok()?,
            failed: usize::try_from(v["expectations_failed"].as_u64()?).ok()?,
            figures: v["figures"].as_object()?.iter().map(|(k, x)| (k.clone(), x.clone())).collect(),
            failures: v["failed_expectations"]
                .as_array()?
                .iter()
                .map(|f| Some((f["expectation"].as_str()?.to_string(), f["measured"].clone())))
                .collect::<Option<_>>()?,
        })
    }
}

/// Every leaf of a summary by its dotted path, lists left out (they vary in length), except a
/// cluster's per-partition list (`topics.orders.partitions`, entries `{partition, ...}`): its
/// entries go by index, as `expect:` names them (`topics.orders.partitions.0.offline_ms`), so a
/// sweep can tabulate what a setting does to one partition.
pub fn flatten(v: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(child, &p, out);
            }
        }
        Value::Array(items)
            if prefix.ends_with(".partitions") && items.iter().all(|e| e.get("partition").is_some()) =>
        {
            for (i, e) in items.iter().enumerate() {
                flatten(e, &format!("{prefix}.{i}"), out);
            }
        }
        Value::Array(_) => {}
        leaf => out.push((prefix.to_string(), leaf.clone())),
    }
}

/// The plan of every combination, checked before anything runs: a bad value is bad input.
pub fn plans(file: &str, text: &str, m: &Manifest) -> Result<Vec<Plan>, ScenarioError> {
    let doc: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| ScenarioError::from_yaml(file, &e))?;
    (0..m.combinations())
        .map(|c| {
            let values = m.values_of(c);
            let mut d = doc.clone();
            for (s, v) in m.settings.iter().zip(&values) {
                settings::apply(&mut d, &s.path, v).map_err(|e| ScenarioError::field(file, "--set", e))?;
            }
            let text = serde_yaml::to_string(&d).map_err(|e| ScenarioError::field(file, "--set", e.to_string()))?;
            let label: Vec<String> = m.settings.iter().zip(&values).map(|(s, v)| format!("{}={v}", s.path)).collect();
            // A line and column would point into the rewritten text, not the file (which was
            // checked as written before): the error belongs to the setting.
            let plan = scenario::parse(file, &text).map_err(|e| ScenarioError {
                message: format!("{} (with {})", e.message, label.join(" ")),
                location: match e.location {
                    scenario::Location::LineColumn { .. } => scenario::Location::Field("--set".into()),
                    other => other,
                },
                ..e
            })?;
            // Expectations were checked against the file as written; one about a consumer a
            // setting removed simply does not apply to that combination.
            Ok(plan)
        })
        .collect()
}

/// Runs the runs of `shard` (index, count) of the sweep on `jobs` threads, in canonical order.
pub fn run(
    plans: &[Plan],
    m: &Manifest,
    shard: (usize, usize),
    jobs: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> anyhow::Result<Vec<RunRow>> {
    let mine: Vec<usize> = (0..m.runs()).filter(|r| r % shard.1 == shard.0).collect();
    let total = mine.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs.max(1)).build()?;
    // Runs side by side fill the cores already; a producers' thread per run only helps when
    // each run has a second core.
    let spare_core = crate::kafka::producer::feed::thread_per_run(jobs);
    let rows = pool.install(|| {
        mine.par_iter()
            .map(|&r| {
                let (c, seed) = m.run_spec(r);
                let mut plan = plans[c].clone();
                plan.seed = seed;
                let mut world = crate::kafka::world::World::new(plan);
                world.producer_thread = spare_core;
                // A sweep reads each run's summary: its metrics rows are neither written nor kept.
                world.metric_sink = Some(Box::new(crate::record::DiscardRows));
                world.run();
                let summary = crate::report::summary::summary(&world.run_record());
                let outcomes = crate::cli::check::evaluate(&world.plan, &summary);
                let passed = outcomes.iter().filter(|o| o.pass).count();
                let failures =
                    outcomes.iter().filter(|o| !o.pass).map(|o| (wanted(&o.expectation), o.measured.clone())).collect();
                let mut figures = Vec::new();
                flatten(&summary, "", &mut figures);
                figures.retain(|(k, _)| !matches!(k.as_str(), "scenario" | "seed"));
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(n, total);
                RunRow { run: r, seed, passed, failed: outcomes.len() - passed, figures, failures }
            })
            .collect()
    });
    Ok(rows)
}

/// What an expectation asks, where: `group billing: revoked_partitions = 12`.
pub fn wanted(e: &crate::scenario::expect::Expectation) -> String {
    let each: Vec<String> = e.comparisons.iter().map(|c| format!("{} {c}", e.figure)).collect();
    format!("{}: {}", e.place(), each.join(" and "))
}

/// FNV-1a 64 of the scenario text, as hex.
pub fn digest(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in text.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Parses `I/N`.
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard `{s}`: expected I/N with 0 <= I < N, e.g. 0/4");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Where a shard's rows go: `sweep-part.json` with the manifest, the shard and its rows.
pub fn write_part(dir: &Path, m: &Manifest, shard: (usize, usize), rows: &[RunRow]) -> anyhow::Result<()> {
    let v = json!({"manifest": m.to_json(), "shard": [shard.0, shard.1],
                   "rows": rows.iter().map(RunRow::to_json).collect::<Vec<_>>()});
    let mut text = serde_json::to_string(&v)?;
    text.push('\n');
    std::fs::write(dir.join("sweep-part.json"), text)?;
    Ok(())
}

/// Reads shard folders and checks they are the slices of one sweep, each exactly once.
pub fn read_parts(dirs: &[std::path::PathBuf]) -> Result<(Manifest, Vec<RunRow>), String> {
    let mut manifest: Option<Manifest> = None;
    let mut count = None;
    let mut seen = Vec::new();
    let mut rows = Vec::new();
    for d in dirs {
        let p = d.join("sweep-part.json");
        let text =
            std::fs::read_to_string(&p).map_err(|e| format!("{}: {e} (not a `sweep --shard` output?)", p.display()))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
        let m = Manifest::from_json(&v["manifest"]).ok_or_else(|| format!("{}: not a sweep part", p.display()))?;
        let shard = (v["shard"][0].as_u64().unwrap_or(0) as usize, v["shard"][1].as_u64().unwrap_or(0) as usize);
        match &manifest {
            None => manifest = Some(m),
            Some(first) if *first != m => {
                return Err(format!(
                    "{}: a slice of another sweep (scenario, settings, seeds or plots differ)",
                    d.display()
                ));
            }
            _ => {}
        }
        if *count.get_or_insert(shard.1) != shard.1 {
            return Err(format!(
                "{}: shard {}/{} of a sweep cut into {} shards",
                d.display(),
                shard.0,
                shard.1,
                count.unwrap_or(0)
            ));
        }
        if seen.contains(&shard.0) {
            return Err(format!("{}: shard {}/{} given twice", d.display(), shard.0, shard.1));
        }
        seen.push(shard.0);
        for r in v["rows"].as_array().into_iter().flatten() {
            rows.push(RunRow::from_json(r).ok_or_else(|| format!("{}: a malformed row", p.display()))?);
        }
    }
    let m = manifest.ok_or("no shard folders given")?;
    let n = count.unwrap_or(0);
    let missing: Vec<String> = (0..n).filter(|i| !seen.contains(i)).map(|i| format!("{i}/{n}")).collect();
    if !missing.is_empty() {
        return Err(format!("shards missing: {}", missing.join(", ")));
    }
    rows.sort_by_key(|r| r.run);
    if rows.len() != m.runs() || rows.iter().enumerate().any(|(i, r)| r.run != i) {
        return Err(format!("the shards hold {} runs; the sweep has {}", rows.len(), m.runs()));
    }
    Ok((m, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            scenario: "s".into(),
            scenario_text: "name: s".into(),
            scenario_digest: "0".into(),
            settings: vec![
                Setting { path: "a".into(), values: vec!["1".into(), "2".into()] },
                Setting { path: "b".into(), values: vec!["x".into(), "y".into(), "z".into()] },
            ],
            seeds: 2,
            base_seed: 40,
            plots: vec![],
        }
    }

    #[test]
    fn runs_are_the_cross_product_times_seeds_in_a_fixed_order() {
        let m = manifest();
        assert_eq!(m.runs(), 12);
        assert_eq!(m.values_of(0), vec!["1", "x"]);
        assert_eq!(m.values_of(4), vec!["2", "y"]);
        assert_eq!(m.run_spec(9), (4, 41));
        assert_eq!(Manifest::from_json(&m.to_json()), Some(m));
    }

    #[test]
    fn flatten_keeps_a_clusters_partitions_by_index_and_leaves_other_lists_out() {
        let summary = serde_json::json!({
            "findings": [{"kind": "lost", "text": "..."}],
            "topics": {"orders": {
                "partitions": [{"partition": "orders-0", "leader": 2, "isr": [2, 3], "offline_ms": 0.0}],
                "log_end_offsets": [10],
            }},
            "groups": {"g": {"committed_offsets": {"orders": [7]}, "partitions": 1}},
        });
        let mut out = Vec::new();
        flatten(&summary, "", &mut out);
        let keys: Vec<&str> = out.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "topics.orders.partitions.0.partition",
                "topics.orders.partitions.0.leader",
                "topics.orders.partitions.0.offline_ms",
                "groups.g.partitions"
            ]
        );
    }

    #[test]
    fn shards_parse_and_slice_every_run_once() {
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
        assert!(parse_shard("3/3").is_err() && parse_shard("1").is_err() && parse_shard("0/0").is_err());
    }
}
