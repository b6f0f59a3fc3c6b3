//! summary.json: the run's totals per topic and group, as `output-contract.md` specifies.

use super::lag::group_lag_series;
use super::num::{ms, round3};
use crate::kafka::consumer::RunState;
use crate::kafka::world::World;
use serde_json::{Map, Value, json};

pub fn summary(w: &World) -> Value {
    let mut topics = Map::new();
    for t in &w.topics {
        let parts = t.first_partition..t.first_partition + t.partitions;
        let leo: Vec<u64> = parts.map(|p| w.partitions[p as usize].log.log_end_offset()).collect();
        topics.insert(t.name.clone(), json!({ "partitions": t.partitions, "log_end_offsets": leo }));
    }
    let lag = group_lag_series(w);
    let mut groups = Map::new();
    for (gi, g) in w.groups.iter().enumerate() {
        let st = &w.rec.groups[gi];
        let series = &lag[gi];
        let (final_lag, max_lag, mean_lag) = if series.is_empty() {
            (0, 0, 0.0)
        } else {
            let max = series.iter().map(|s| s.1).max().unwrap_or(0);
            let mean = series.iter().map(|s| s.1 as f64).sum::<f64>() / series.len() as f64;
            (series[series.len() - 1].1, max, mean)
        };
        let n = st.latency.len();
        let latency = if n == 0 {
            json!({ "mean": null, "p50": null, "p99": null, "max": null })
        } else {
            json!({
                "mean": round3(st.latency_sum_ns as f64 / n as f64 / 1e6),
                "p50": ms(st.latency.value_at_quantile(0.50)),
                "p99": ms(st.latency.value_at_quantile(0.99)),
                "max": ms(st.latency_max_ns),
            })
        };
        let mut committed = Map::new();
        for &ti in &w.plan.groups[gi].topics {
            let t = &w.topics[ti];
            let offs: Vec<Value> = (t.first_partition..t.first_partition + t.partitions)
                .map(|p| g.committed[p as usize].map_or(Value::Null, |o| json!(o)))
                .collect();
            committed.insert(t.name.clone(), Value::Array(offs));
        }
        let standby: Vec<&str> = g
            .consumers
            .iter()
            .map(|&c| &w.consumers[c])
            .filter(|c| c.state == RunState::Running && c.owned.is_empty())
            .map(|c| c.name.as_str())
            .collect();
        let lost: u64 = g.partitions.iter().map(|&p| g.lost(p)).sum();
        groups.insert(
            g.id.clone(),
            json!({
                "records_processed": st.records_processed,
                "duplicates": st.duplicates,
                "lost": lost,
                "lag_records": { "final": final_lag, "max": max_lag, "mean": round3(mean_lag) },
                "latency_ms": latency,
                "committed_offsets": committed,
                "standby_consumers": standby,
                "polls": st.polls,
                "empty_polls": st.empty_polls,
                "commits": st.commits,
            }),
        );
    }
    let produced: u64 = w.partitions.iter().map(|p| p.log.log_end_offset()).sum();
    json!({
        "scenario": w.plan.name,
        "seed": w.plan.seed,
        "duration_ms": w.plan.duration.as_millis(),
        "events_processed": w.kernel.events_processed(),
        "records_produced": produced,
        "topics": topics,
        "groups": groups,
    })
}
