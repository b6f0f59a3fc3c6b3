//! The cluster's behaviour on small worlds, built from a plan patched in place (the scenario
//! tests in `tests/` cover the same through YAML).

use crate::kafka::world::World;
use crate::record::cluster::ClusterEvent;
use crate::record::event::What;
use crate::scenario::plan::{Action, BrokerRef, Plan, TimedAction};
use crate::sim::SimDuration;

pub(crate) fn plan(yaml: &str, brokers: u32, rf: u32, min_isr: u32) -> Plan {
    let mut plan = crate::scenario::parse("t.yaml", yaml).unwrap();
    plan.cluster.declared = true;
    plan.cluster.brokers = brokers;
    for t in &mut plan.topics {
        t.replication.factor = rf;
        t.replication.min_insync_replicas = min_isr;
    }
    plan
}

pub(crate) fn at(plan: &mut Plan, secs: f64, action: Action) {
    plan.timeline.push(TimedAction { at: SimDuration((secs * 1e9) as u64), action });
    plan.timeline.sort_by_key(|a| a.at);
}

pub(crate) fn cluster_events(w: &World) -> Vec<(f64, ClusterEvent)> {
    w.rec
        .events
        .iter()
        .filter_map(|e| match &e.what {
            What::Cluster(c) => Some((e.time.as_nanos() as f64 / 1e9, c.clone())),
            _ => None,
        })
        .collect()
}

const ONE_TOPIC: &str = "name: c\nseed: 1\nduration: 40s\nnetwork_delay: 0.5ms\ntopics: [{name: orders, partitions: 6}]\nproducers: [{name: web, topic: orders, rate: 1000/s}]\ngroups: [{id: billing, topics: [orders], consumers: 3, commit: auto}]\n";

#[test]
fn a_leader_crash_with_acks_all_loses_nothing_and_fails_over_after_the_session() {
    let mut p = plan(ONE_TOPIC, 3, 3, 2);
    at(&mut p, 10.0, Action::CrashBroker(BrokerRef::Id(1)));
    at(&mut p, 30.0, Action::StartBroker(BrokerRef::Id(1)));
    let mut w = World::new(p);
    w.check_invariants = true;
    w.run();
    for (t, e) in cluster_events(&w) {
        eprintln!("{t:.3} {e:?}");
    }
    let s = &w.rec.cluster.producers[0];
    eprintln!("{s:?}");
    assert_eq!(s.lost(), 0);
    assert_eq!(s.duplicates_written, 0);
    let fenced =
        cluster_events(&w).into_iter().find(|(_, e)| matches!(e, ClusterEvent::BrokerFenced { broker: 1, .. }));
    let t = fenced.expect("broker 1 fenced").0;
    assert!((17.0..=19.0).contains(&t), "fenced 7-9 s after the crash, at {t}");
}
