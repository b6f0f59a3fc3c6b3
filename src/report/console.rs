//! The short human summary `kafkasim run` prints.

use super::summary::summary;
use crate::kafka::world::World;
use std::fmt::Write;

pub fn run_summary(w: &World) -> String {
    let s = summary(w);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} virtual, seed {}, {} events, {} records produced",
        w.plan.name, w.plan.duration, w.plan.seed, s["events_processed"], s["records_produced"]
    );
    if let Some(groups) = s["groups"].as_object() {
        for (id, g) in groups {
            let _ = writeln!(
                out,
                "  group {id}: processed {}, duplicates {}, lost {}, lag final/max {}/{}, latency p50/p99 {}/{} ms",
                g["records_processed"],
                g["duplicates"],
                g["lost"],
                g["lag_records"]["final"],
                g["lag_records"]["max"],
                g["latency_ms"]["p50"],
                g["latency_ms"]["p99"],
            );
            let _ = writeln!(
                out,
                "    rebalances {}, partitions revoked {}, rebalance pause total/max {}/{} ms, stop-the-world {} ms, in flight at end {}",
                g["rebalances"],
                g["revoked_partitions"],
                g["rebalance_pause_ms"]["total"],
                g["rebalance_pause_ms"]["max"],
                g["stop_the_world_ms"]["total"],
                g["in_flight_at_end"],
            );
        }
    }
    out.trim_end().to_string()
}
