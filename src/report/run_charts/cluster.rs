//! The cluster's charts (a scenario with `brokers:`): each broker's state over time, each
//! partition's leader over time, and when each producer could not write. All three are state
//! timelines laid out as the ownership chart.

use super::super::charts::{self, LegendItem, OwnershipRow, Span};
use super::markers::markers;
use crate::record::cluster::BrokerState;
use crate::record::run::Run;
use crate::report::cluster_summary::broker_ids;
use crate::sim::SimTime;
use std::collections::BTreeMap;
use std::path::Path;

/// The cluster's chart files, in the order the report page shows them.
pub const CLUSTER_CHARTS: [&str; 3] = ["brokers", "leaders", "producer_unavailability"];

/// The leaders chart draws at most this many partitions (its title says when it stops short).
pub const MAX_LEADER_ROWS: usize = 40;

/// Producer-partition rows up to this many; past it, one row per producer.
const MAX_PRODUCER_PARTITION_ROWS: usize = 24;

/// A producer's stretch is drawn at least this wide: a rolling restart's gaps of ~30 ms would
/// be a single pixel on a minutes-long axis, hidden under the marker line where each begins.
const MIN_GAP_PX: u8 = 4;

/// Every state in the order a broker goes down and back, with its colour: up is pale, so the
/// stretches that matter stand out.
const STATES: [(BrokerState, (u8, u8, u8)); 5] = [
    (BrokerState::Up, (170, 220, 160)),
    (BrokerState::ShuttingDown, (255, 160, 60)),
    (BrokerState::Fenced, (148, 103, 189)),
    (BrokerState::Isolated, (230, 190, 40)),
    (BrokerState::Down, (214, 39, 40)),
];

/// An offline partition: light grey, hatched.
const OFFLINE: (u8, u8, u8) = (140, 140, 140);

/// Writes brokers, leaders and producer_unavailability (PNG and SVG) into `dir`.
pub(super) fn write_cluster(w: &Run, dir: &Path) -> anyhow::Result<()> {
    let end = (SimTime::ZERO + w.plan.duration).as_secs_f64();
    let marks = markers(w);
    let legend: Vec<LegendItem> =
        STATES.iter().map(|&(s, rgb)| LegendItem { label: s.name().replace('_', " "), rgb, hatched: false }).collect();
    let title = format!("{}: broker states over time", w.plan.name);
    let (png, svg) = (dir.join("brokers.png"), dir.join("brokers.svg"));
    charts::state_chart(&png, &svg, &title, &broker_rows(w), end, &marks, Some(&legend))?;
    let (rows, total) = leader_rows(w);
    let capped =
        if total > rows.len() { format!(", the first {} of {total} partitions", rows.len()) } else { String::new() };
    let title = format!("{}: partition leaders over time (grey hatch: offline{capped})", w.plan.name);
    charts::state_chart(&dir.join("leaders.png"), &dir.join("leaders.svg"), &title, &rows, end, &marks, None)?;
    let title = format!("{}: when producers could not write (coloured by the error their requests got)", w.plan.name);
    let (png, svg) = (dir.join("producer_unavailability.png"), dir.join("producer_unavailability.svg"));
    charts::state_chart(&png, &svg, &title, &unavailability_rows(w), end, &marks, None)
}

/// One row per broker: each span in its state's colour, from its changes (up from 0).
pub fn broker_rows(w: &Run) -> Vec<OwnershipRow> {
    let end = (SimTime::ZERO + w.plan.duration).as_secs_f64();
    broker_ids(w)
        .map(|id| {
            let changes = w.rec.cluster.broker_states.iter().filter(|s| s.1 == id).map(|s| (s.0.as_secs_f64(), s.2));
            let mut spans: Vec<Span> = Vec::new();
            let mut at = (0.0, BrokerState::Up);
            for (t, state) in changes.chain([(end, BrokerState::Up)]) {
                if t > at.0 {
                    let rgb = STATES.iter().find(|s| s.0 == at.1).map(|s| s.1);
                    spans.push(Span {
                        start: at.0,
                        end: t,
                        owner: Some(at.1.name().to_string()),
                        rgb,
                        ..Default::default()
                    });
                }
                at = (t, state);
            }
            OwnershipRow { label: format!("broker {id}"), spans, ..Default::default() }
        })
        .collect()
}

/// One row per partition that exists at the end (the first `MAX_LEADER_ROWS`), each span in its
/// leader's colour (a palette slot per broker), hatched grey while offline; and how many
/// partitions there are in all.
pub fn leader_rows(w: &Run) -> (Vec<OwnershipRow>, usize) {
    let end = (SimTime::ZERO + w.plan.duration).as_secs_f64();
    let ids: Vec<u32> = (0..w.end.partitions.len() as u32).filter(|&p| w.end.partitions[p as usize].exists).collect();
    let mut changes: BTreeMap<u32, Vec<(f64, Option<u32>)>> = BTreeMap::new();
    for &(t, p, leader) in &w.rec.cluster.leaders {
        changes.entry(p).or_default().push((t.as_secs_f64(), leader));
    }
    let rows = ids
        .iter()
        .take(MAX_LEADER_ROWS)
        .map(|&p| {
            let changes = changes.get(&p).map_or(&[][..], Vec::as_slice);
            let mut spans = Vec::new();
            for (i, &(t, leader)) in changes.iter().enumerate() {
                let next = changes.get(i + 1).map_or(end, |c| c.0);
                if next <= t {
                    continue;
                }
                spans.push(match leader {
                    Some(b) => Span {
                        start: t,
                        end: next,
                        owner: Some(format!("broker {b}")),
                        color: Some(b.saturating_sub(1) as usize),
                        ..Default::default()
                    },
                    None => Span {
                        start: t,
                        end: next,
                        owner: Some("offline".to_string()),
                        rgb: Some(OFFLINE),
                        faded: true,
                        ..Default::default()
                    },
                });
            }
            let note = spans.is_empty().then(|| "no leader recorded".to_string());
            OwnershipRow { label: w.plan.partition_name(p), spans, note, ..Default::default() }
        })
        .collect();
    (rows, ids.len())
}

/// A stretch no refused request began: acks=all requests waited for a high watermark that stood
/// still, max.in.flight.requests.per.connection of them.
const WAITING: &str = "waiting for acks";

/// One row per producer and partition it could not write (one per producer when they would be
/// many), each stretch coloured by the error its requests got; a producer that could always
/// write has a row saying so.
pub fn unavailability_rows(w: &Run) -> Vec<OwnershipRow> {
    let end = (SimTime::ZERO + w.plan.duration).as_secs_f64();
    let mut pairs: BTreeMap<(u32, u32), Vec<Span>> = BTreeMap::new();
    for u in &w.rec.cluster.unavailable {
        let until = u.to.unwrap_or(SimTime::ZERO + w.plan.duration);
        // A piece per error, from when it came (a stretch that began waiting for acks starts
        // with a piece of that).
        let mut pieces = u.errors(&w.rec.events, until);
        if pieces.first().is_none_or(|&(t, _)| t > u.from) {
            pieces.insert(0, (u.from, WAITING));
        }
        let ends = pieces.iter().skip(1).map(|&(t, _)| t.as_secs_f64()).chain([u.to.map_or(end, |t| t.as_secs_f64())]);
        for (&(from, error), to) in pieces.iter().zip(ends) {
            let span = Span {
                start: from.as_secs_f64(),
                end: to,
                owner: Some(error.to_string()),
                min_px: MIN_GAP_PX,
                ..Default::default()
            };
            pairs.entry((u.producer, u.partition)).or_default().push(span);
        }
    }
    let per_partition = pairs.len() <= MAX_PRODUCER_PARTITION_ROWS;
    let mut rows = Vec::new();
    for (p, plan) in w.plan.producers.iter().enumerate() {
        let mine = pairs.iter().filter(|((producer, _), _)| *producer as usize == p);
        if per_partition {
            for ((_, partition), spans) in mine.clone() {
                let label = format!("{}: {}", plan.name, w.plan.partition_name(*partition));
                rows.push(OwnershipRow { label, spans: spans.clone(), ..Default::default() });
            }
        }
        let spans: Vec<Span> = mine.flat_map(|(_, s)| s.iter().cloned()).collect();
        if spans.is_empty() || !per_partition {
            let note = spans.is_empty().then(|| "could write every partition throughout".to_string());
            rows.push(OwnershipRow { label: plan.name.clone(), spans, note, ..Default::default() });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Recorder;
    use crate::record::cluster::{ClusterEvent, Unavailable};
    use crate::record::event::What;
    use crate::record::run::{PartitionEnd, Snapshot};
    use crate::sim::SimDuration;

    const YAML: &str = "
name: t
duration: 60s
topics: [{name: orders, partitions: 3}]
producers: [{name: web, topic: orders, rate: 10/s}]
groups: [{id: g, topics: [orders], consumers: [{name: c}]}]
";

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(s * 1000)
    }

    /// A run of `plan` with `rec` and every partition existing: what the charts read.
    fn run<'a>(plan: &'a crate::scenario::Plan, rec: &'a Recorder) -> Run<'a> {
        let partitions = vec![PartitionEnd { exists: true, ..Default::default() }; 3];
        Run { plan, rec, end: Snapshot { partitions, ..Default::default() } }
    }

    fn plan() -> crate::scenario::Plan {
        let mut plan = crate::scenario::parse("t.yaml", YAML).unwrap();
        plan.cluster.declared = true;
        plan.cluster.brokers = 2;
        plan
    }

    fn spans(row: &OwnershipRow) -> Vec<(f64, f64, &str)> {
        row.spans.iter().map(|s| (s.start, s.end, s.owner.as_deref().unwrap_or("-"))).collect()
    }

    #[test]
    fn brokers_start_up_and_change_only_where_recorded() {
        let plan = plan();
        let mut rec = Recorder::new(1, 1, 1);
        rec.cluster.broker_states =
            vec![(at(10), 1, BrokerState::Down), (at(40), 1, BrokerState::Fenced), (at(41), 1, BrokerState::Up)];
        let rows = broker_rows(&run(&plan, &rec));
        assert_eq!(rows.len(), 2);
        assert_eq!(
            spans(&rows[0]),
            [(0.0, 10.0, "up"), (10.0, 40.0, "down"), (40.0, 41.0, "fenced"), (41.0, 60.0, "up")]
        );
        assert_eq!(spans(&rows[1]), [(0.0, 60.0, "up")], "a broker with no change is up throughout");
        assert_eq!(rows[0].spans[1].rgb, Some(STATES[4].1), "down in its state's colour");
    }

    #[test]
    fn leaders_follow_the_record_and_offline_is_hatched() {
        let plan = plan();
        let mut rec = Recorder::new(1, 1, 1);
        rec.cluster.leaders = vec![(at(0), 0, Some(1)), (at(0), 1, Some(2)), (at(20), 0, None), (at(30), 0, Some(2))];
        let (rows, total) = leader_rows(&run(&plan, &rec));
        assert_eq!(total, 3);
        assert_eq!(spans(&rows[0]), [(0.0, 20.0, "broker 1"), (20.0, 30.0, "offline"), (30.0, 60.0, "broker 2")]);
        assert!(rows[0].spans[1].faded && rows[0].spans[1].rgb.is_some());
        assert_eq!(rows[0].spans[2].color, Some(1), "broker 2 has palette slot 1 on every row");
        assert!(rows[2].spans.is_empty() && rows[2].note.is_some(), "no leader recorded: said so, not drawn");
    }

    #[test]
    fn producers_get_a_row_per_partition_they_could_not_write_or_say_they_always_could() {
        let plan = plan();
        let mut rec = Recorder::new(1, 1, 1);
        let rows = unavailability_rows(&run(&plan, &rec));
        assert_eq!((rows.len(), rows[0].label.as_str()), (1, "web"));
        assert!(rows[0].spans.is_empty() && rows[0].note.is_some());
        rec.cluster.unavailable = vec![
            Unavailable { producer: 0, partition: 2, from: at(5), to: Some(at(9)) },
            Unavailable { producer: 0, partition: 1, from: at(5), to: None },
        ];
        let fail = ClusterEvent::ProduceFailed { producer: 0, partition: 2, error: "NOT_ENOUGH_REPLICAS" };
        rec.events.push(crate::record::event::Event { time: at(5), what: What::Cluster(fail) });
        let rows = unavailability_rows(&run(&plan, &rec));
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["web: orders-1", "web: orders-2"]);
        assert_eq!(spans(&rows[0]), [(5.0, 60.0, WAITING)], "to the end while it lasted");
        assert_eq!(spans(&rows[1]), [(5.0, 9.0, "NOT_ENOUGH_REPLICAS")]);
        assert!(rows.iter().flat_map(|r| &r.spans).all(|s| s.min_px == MIN_GAP_PX), "a short stretch still shows");
    }

    /// A stretch whose error changes (the crashed leader's NETWORK_EXCEPTION, then its successor
    /// refusing for min.insync.replicas) is drawn in a piece per error, each from when it came;
    /// errors after the stretch ended or of another partition do not count.
    #[test]
    fn a_stretch_is_coloured_by_each_error_from_when_it_came() {
        let plan = plan();
        let mut rec = Recorder::new(1, 1, 1);
        rec.cluster.unavailable = vec![Unavailable { producer: 0, partition: 0, from: at(5), to: Some(at(20)) }];
        let fail = |t: u64, partition: u32, error: &'static str| crate::record::event::Event {
            time: at(t),
            what: What::Cluster(ClusterEvent::ProduceFailed { producer: 0, partition, error }),
        };
        rec.events = vec![
            fail(5, 0, "NETWORK_EXCEPTION"),
            fail(9, 1, "NOT_ENOUGH_REPLICAS"),
            fail(12, 0, "NOT_ENOUGH_REPLICAS"),
            fail(14, 0, "NOT_ENOUGH_REPLICAS"),
            fail(25, 0, "REQUEST_TIMED_OUT"),
        ];
        let rows = unavailability_rows(&run(&plan, &rec));
        assert_eq!(spans(&rows[0]), [(5.0, 12.0, "NETWORK_EXCEPTION"), (12.0, 20.0, "NOT_ENOUGH_REPLICAS")]);
    }
}
