//! The cluster's story (a scenario with `brokers:`): brokers failing and coming back, the
//! controller fencing them and electing new leaders, ISRs and logs catching up, what producers
//! could not write, lost or wrote twice, and group coordinators moving. Many events of one kind
//! at one instant (a broker's 34 leaderships moving at once) are one line.

use super::{Told, line, secs};
use crate::record::cluster::{ClusterEvent, Election, LossCause};
use crate::record::event::What;
use crate::record::run::Run;
use crate::report::cluster_summary::{broker_ids, broker_state_at_end, producer_stats};
use crate::report::events::Names;
use crate::report::num::{count, list};
use crate::scenario::plan::Acks;
use crate::sim::SimTime;
use std::collections::BTreeMap;

/// Each cluster event's line, read ahead once: the first event of each bunch (same instant,
/// same kind and key) tells the whole bunch, the others nothing.
pub(super) struct ClusterStory {
    /// Per event index: its line, or None when another event of its bunch tells it.
    told: BTreeMap<usize, Told>,
}

/// What bunches events of one instant into one line: a leader election's previous leader and
/// kind, an ISR change's reason, a truncating broker, a producer and what befell it.
fn bunch_key(e: &ClusterEvent) -> Option<String> {
    Some(match e {
        ClusterEvent::LeaderElected { previous, election, leader, .. } => {
            format!("elected {previous:?} {} {}", election.name(), leader.is_none())
        }
        ClusterEvent::IsrChanged { reason, .. } => format!("isr {reason}"),
        ClusterEvent::LogTruncated { broker, .. } => format!("truncated {broker}"),
        ClusterEvent::ProduceFailed { producer, error, .. } => format!("failed {producer} {error}"),
        ClusterEvent::ProduceResumed { producer, .. } => format!("resumed {producer}"),
        ClusterEvent::RecordsLost { producer, cause, .. } => format!("lost {producer} {}", cause.name()),
        ClusterEvent::DuplicatesWritten { producer, .. } => format!("duplicates {producer}"),
        _ => return None,
    })
}

impl ClusterStory {
    pub(super) fn new(w: &Run) -> Self {
        let events = &w.rec.events;
        // Per bunch, its events' indices; the first tells them all.
        let mut bunches: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        let mut open: BTreeMap<String, usize> = BTreeMap::new();
        let mut instant = None;
        for (i, e) in events.iter().enumerate() {
            let What::Cluster(c) = &e.what else { continue };
            if instant != Some(e.time) {
                (instant, open) = (Some(e.time), BTreeMap::new());
            }
            match bunch_key(c) {
                Some(key) => {
                    let first = *open.entry(key).or_insert(i);
                    bunches.entry(first).or_default().push(i);
                }
                None => {
                    bunches.insert(i, vec![i]);
                }
            }
        }
        let teller = Teller { w, names: Names::new(w.plan) };
        let mut told = BTreeMap::new();
        let mut history = History::default();
        for (first, members) in bunches {
            let bunch: Vec<&ClusterEvent> = members
                .iter()
                .filter_map(|&i| match &events[i].what {
                    What::Cluster(c) => Some(c),
                    _ => None,
                })
                .collect();
            told.insert(first, teller.tell(events[first].time, &bunch, &mut history));
            for i in members.into_iter().skip(1) {
                told.insert(i, None);
            }
        }
        ClusterStory { told }
    }

    /// Event `i`'s line if it is the cluster's (Some(None): its bunch's first event tells it).
    pub(super) fn tell(&self, i: usize) -> Option<Told> {
        self.told.get(&i).cloned()
    }
}

/// What earlier events tell later ones: when each broker went silent, when each group's
/// coordinator moved.
#[derive(Default)]
struct History {
    /// Per broker: when it crashed or was cut off, and in which words.
    silent: BTreeMap<u32, (SimTime, &'static str)>,
    moved: BTreeMap<u32, SimTime>,
}

struct Teller<'a> {
    w: &'a Run<'a>,
    names: Names<'a>,
}

impl Teller<'_> {
    fn tell(&self, t: SimTime, bunch: &[&ClusterEvent], history: &mut History) -> Told {
        let first = *bunch.first()?;
        match first {
            ClusterEvent::LeaderElected { .. } => Some(("leader election", self.elected(bunch))),
            ClusterEvent::IsrChanged { .. } | ClusterEvent::LogTruncated { .. } => {
                Some(("replication", self.replication(bunch)))
            }
            ClusterEvent::ProduceFailed { .. }
            | ClusterEvent::ProduceResumed { .. }
            | ClusterEvent::RecordsLost { .. }
            | ClusterEvent::DuplicatesWritten { .. } => Some(("publish", self.producer(bunch))),
            ClusterEvent::CoordinatorMoved { .. } | ClusterEvent::CoordinatorLoaded { .. } => {
                Some(("coordinator", self.coordinator(t, first, history)))
            }
            _ => Some(("broker", self.broker(t, first, history))),
        }
    }

    /// The partitions of a bunch, named, as people list them ("orders-0, orders-1 and 32 more").
    fn partitions(&self, ps: &[u32]) -> String {
        list(&ps.iter().map(|&p| self.names.partition(p).to_string()).collect::<Vec<_>>(), 6)
    }

    fn producer_name(&self, p: u32) -> &str {
        &self.w.plan.producers[p as usize].name
    }

    /// Partitions broker `b` led just before `t`, from the record of leader changes.
    fn led_before(&self, b: u32, t: SimTime) -> usize {
        let mut leader: BTreeMap<u32, Option<u32>> = BTreeMap::new();
        for &(_, p, l) in self.w.rec.cluster.leaders.iter().take_while(|l| l.0 < t) {
            leader.insert(p, l);
        }
        leader.values().filter(|l| **l == Some(b)).count()
    }

    /// A broker's own event.
    fn broker(&self, t: SimTime, e: &ClusterEvent, history: &mut History) -> String {
        let session = secs(self.w.plan.cluster.broker_session_timeout);
        match e {
            ClusterEvent::BrokerCrashed { broker: b } => {
                history.silent.insert(*b, (t, "crashed"));
                format!(
                    "broker {b} crashes: it stops answering at once, but the controller learns of it only when its \
                     heartbeats have been missing for broker.session.timeout.ms ({session}){}",
                    match self.led_before(*b, t) {
                        0 => String::new(),
                        n => format!("; until then the {} it leads keep a dead leader", plural(n, "partition")),
                    }
                )
            }
            ClusterEvent::BrokerShuttingDown { broker: b } => format!(
                "broker {b} begins a controlled shutdown: the controller first moves its {} leaderships to other \
                 in-sync replicas",
                self.led_before(*b, t)
            ),
            ClusterEvent::BrokerStopped { broker: b } => format!("broker {b} stops"),
            ClusterEvent::BrokerStarted { broker: b } => format!(
                "broker {b} starts: it registers with the controller fenced, catches up, and is unfenced before it \
                 leads or follows again"
            ),
            ClusterEvent::BrokerFenced { broker: b, reason } => fenced(*b, reason, t, &session, history),
            ClusterEvent::BrokerUnfenced { broker: b } => {
                format!("the controller unfences broker {b}: it can lead and follow again")
            }
            ClusterEvent::BrokerIsolated { broker: b, for_ } => {
                history.silent.insert(*b, (t, "was cut off"));
                format!(
                    "broker {b} is cut off from the network for {}: it keeps running, but the controller, its peers \
                     and the clients cannot reach it",
                    secs(*for_)
                )
            }
            ClusterEvent::BrokerReconnected { broker: b } => format!("broker {b} is reachable again"),
            ClusterEvent::BrokerSlowed { broker: b, lag } if lag.as_nanos() == 0 => {
                format!("broker {b} copies its leaders' records at full speed again")
            }
            ClusterEvent::BrokerSlowed { broker: b, lag } => format!(
                "broker {b} now copies its leaders' records {} late as a follower (a slow disk or link)",
                secs(*lag)
            ),
            other => other.kind().replace('_', " "),
        }
    }

    /// A bunch of leader elections at one instant, all alike (same previous leader and kind).
    fn elected(&self, bunch: &[&ClusterEvent]) -> String {
        let mut ps = Vec::new();
        let mut by_leader: BTreeMap<u32, usize> = BTreeMap::new();
        let mut kind = (None, Election::Clean);
        for e in bunch {
            if let ClusterEvent::LeaderElected { partition, leader, previous, election, .. } = e {
                ps.push(*partition);
                kind = (*previous, *election);
                if let Some(l) = leader {
                    *by_leader.entry(*l).or_default() += 1;
                }
            }
        }
        let whose = match kind.0 {
            Some(b) => format!("broker {b}'s {}", plural(ps.len(), "partition")),
            None => plural(ps.len(), "partition"),
        };
        let who = format!("{whose} ({})", self.partitions(&ps));
        let leads: Vec<String> = by_leader
            .iter()
            .map(|(b, n)| if ps.len() == 1 { format!("broker {b} leads it") } else { format!("broker {b} leads {n}") })
            .collect();
        let leads = leads.join(", ");
        match kind.1 {
            Election::Clean => {
                format!("{who}: new leaders elected (clean, from the in-sync replicas), epoch +1: {leads}")
            }
            Election::Unclean => format!(
                "{who}: no in-sync replica is alive, and unclean.leader.election.enable lets an out-of-sync one lead \
                 (unclean), epoch +1: {leads}; the records it never had are gone, and the others will cut their logs to match"
            ),
            Election::Preferred => format!("{who}: back to their preferred leader, epoch +1: {leads}"),
            Election::None => format!("{who}: no leader (offline): {}", self.why_offline(&ps)),
        }
    }

    /// Why partitions `ps` have nobody to lead them, by their topics' unclean.leader.election.enable.
    fn why_offline(&self, ps: &[u32]) -> &'static str {
        let plan = self.w.plan;
        let unclean = |p: &u32| plan.topics[plan.partition_of(*p).0].replication.unclean_leader_election_enable;
        match (ps.iter().all(unclean), ps.iter().any(unclean)) {
            (true, _) => {
                "none of their replicas is up, so not even an unclean election (allowed here) has one to choose; \
                 nobody can write or read them until one returns"
            }
            (false, false) => {
                "no in-sync replica is alive and an unclean election is not allowed, so nobody can write or read \
                 them until one returns"
            }
            (false, true) => {
                "no in-sync replica is alive (and for those whose topic allows an unclean election, no replica at \
                 all), so nobody can write or read them until one returns"
            }
        }
    }

    /// A bunch of ISR changes (one reason) or of one broker's truncations, at one instant.
    fn replication(&self, bunch: &[&ClusterEvent]) -> String {
        let mut ps = Vec::new();
        let mut text = String::new();
        let mut cut = 0;
        for e in bunch {
            match e {
                ClusterEvent::IsrChanged { partition, isr, reason } => {
                    // A partition may change twice at one instant (two replicas catch up): it
                    // is named once, and the first partition's ISR is its last.
                    if !ps.contains(partition) {
                        ps.push(*partition);
                    }
                    if *partition == ps[0] {
                        let isr: Vec<String> = isr.iter().map(u32::to_string).collect();
                        text = format!("[{}] ({})", isr.join(", "), reason.replace('_', " "));
                    }
                }
                ClusterEvent::LogTruncated { partition, from, to, .. } => {
                    ps.push(*partition);
                    cut += from.saturating_sub(*to);
                }
                _ => {}
            }
        }
        if let Some(ClusterEvent::LogTruncated { broker, .. }) = bunch.first() {
            return format!(
                "broker {broker} cuts its log of {} ({}) back to where it agrees with the leader: {} records the \
                 leader does not have are removed",
                plural(ps.len(), "partition"),
                self.partitions(&ps),
                count(cut)
            );
        }
        match ps.as_slice() {
            [p] => format!("the ISR of {} is now {text}", self.names.partition(*p)),
            _ => format!(
                "the ISRs of {} ({}) change; {}'s is now {text}",
                plural(ps.len(), "partition"),
                self.partitions(&ps),
                self.names.partition(ps[0])
            ),
        }
    }

    /// A bunch of one producer's failures, resumptions, losses or duplicates at one instant.
    fn producer(&self, bunch: &[&ClusterEvent]) -> String {
        let mut ps = Vec::new();
        let (mut records, mut longest) = (0u64, crate::sim::SimDuration::ZERO);
        for e in bunch {
            match e {
                ClusterEvent::ProduceFailed { partition, .. } => ps.push(*partition),
                ClusterEvent::ProduceResumed { partition, unavailable, .. } => {
                    ps.push(*partition);
                    longest = longest.max(*unavailable);
                }
                ClusterEvent::RecordsLost { partition, records: n, .. }
                | ClusterEvent::DuplicatesWritten { partition, records: n, .. } => {
                    ps.push(*partition);
                    records += n;
                }
                _ => {}
            }
        }
        let parts = self.partitions(&ps);
        match bunch[0] {
            ClusterEvent::ProduceFailed { producer, error, .. } => self.failed(*producer, error, &parts),
            ClusterEvent::ProduceResumed { producer, .. } => format!(
                "producer {} writes {parts} again, after {} without",
                self.producer_name(*producer),
                secs(longest)
            ),
            ClusterEvent::RecordsLost { producer, cause, .. } => format!(
                "producer {} loses {} records of {parts}: {}",
                self.producer_name(*producer),
                count(records),
                self.loss_words(*producer, *cause)
            ),
            ClusterEvent::DuplicatesWritten { producer, .. } => format!(
                "producer {}'s retries write {} records of {parts} a second time (enable.idempotence=false: the \
                 leader cannot tell a retried batch from a new one)",
                self.producer_name(*producer),
                count(records)
            ),
            other => other.kind().replace('_', " "),
        }
    }

    fn failed(&self, p: u32, error: &str, parts: &str) -> String {
        let d = &self.w.plan.producers[p as usize].delivery;
        let then = if d.acks == Acks::Zero || d.retries == 0 {
            "it does not retry them".to_string()
        } else {
            format!("it keeps the records and retries, for up to delivery.timeout.ms ({})", secs(d.delivery_timeout))
        };
        format!("producer {}'s requests to {parts} fail ({error}); {then}", self.producer_name(p))
    }

    fn loss_words(&self, p: u32, cause: LossCause) -> String {
        match cause {
            LossCause::Acks0 => "sent with acks=0 to a leader that never appended them".to_string(),
            LossCause::LeaderFailover => {
                "the old leader had acknowledged them, but the new leader never had them".into()
            }
            LossCause::UncleanElection => "acknowledged, then cut from the log by an unclean election".to_string(),
            LossCause::DeliveryTimeout => format!(
                "not acknowledged within delivery.timeout.ms ({}), so the producer gave up on them",
                secs(self.w.plan.producers[p as usize].delivery.delivery_timeout)
            ),
        }
    }

    /// A group's coordinator moving with its `__consumer_offsets` partition, or loaded.
    fn coordinator(&self, t: SimTime, e: &ClusterEvent, history: &mut History) -> String {
        match e {
            ClusterEvent::CoordinatorMoved { group, offsets_partition, to: Some(b), .. } => {
                history.moved.insert(*group, t);
                format!(
                    "group {}'s coordinator moves to broker {b}, the new leader of __consumer_offsets-{offsets_partition}; \
                     commits and heartbeats wait while it loads the group",
                    self.names.group(*group)
                )
            }
            ClusterEvent::CoordinatorMoved { group, offsets_partition, to: None, .. } => {
                history.moved.insert(*group, t);
                format!(
                    "group {} has no coordinator: no broker leads __consumer_offsets-{offsets_partition}, so its \
                     commits and heartbeats fail until one does",
                    self.names.group(*group)
                )
            }
            ClusterEvent::CoordinatorLoaded { group, broker } => {
                let after = history.moved.get(group).map(|m| format!(", {} after it moved", secs(t - *m)));
                format!(
                    "broker {broker} has loaded group {}: commits and heartbeats work again{}",
                    self.names.group(*group),
                    after.unwrap_or_default()
                )
            }
            other => other.kind().replace('_', " "),
        }
    }
}

/// The controller fences a broker: after its session ran out (how long after it went silent),
/// or as it shuts down.
fn fenced(b: u32, reason: &str, t: SimTime, session: &str, history: &mut History) -> String {
    match reason {
        "session_timeout" => {
            let since = history.silent.remove(&b).map(|(at, how)| format!(", {} after it {how}", secs(t - at)));
            format!(
                "the controller fences broker {b}: no heartbeat for broker.session.timeout.ms ({session}){}",
                since.unwrap_or_default()
            )
        }
        "controlled_shutdown" => format!("the controller fences broker {b}, which is shutting down"),
        other => format!("the controller fences broker {b} ({})", other.replace('_', " ")),
    }
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") }
}

/// The set-up, told once at the start: the brokers, each topic's replication and each
/// producer's delivery settings.
pub(super) fn cluster_intro(w: &Run, out: &mut Vec<String>) {
    let c = &w.plan.cluster;
    out.push(line(
        SimTime::ZERO,
        "store",
        format!(
            "the cluster has {} brokers; the controller fences a broker whose heartbeats stop for \
             broker.session.timeout.ms ({}) and elects new leaders for the partitions it led",
            c.brokers,
            secs(c.broker_session_timeout)
        ),
    ));
    for t in &w.plan.topics {
        let r = &t.replication;
        out.push(line(
            SimTime::ZERO,
            "store",
            format!(
                "each partition of {} has {} (its leader takes the writes, followers copy them); \
                 min.insync.replicas={}, unclean.leader.election.enable={}",
                t.name,
                plural(r.factor as usize, "replica"),
                r.min_insync_replicas,
                r.unclean_leader_election_enable
            ),
        ));
    }
    for p in &w.plan.producers {
        let d = &p.delivery;
        out.push(line(
            SimTime::ZERO,
            "publish",
            format!(
                "producer {} sends with acks={}, enable.idempotence={}, delivery.timeout.ms={}",
                p.name,
                d.acks.name(),
                d.enable_idempotence,
                secs(d.delivery_timeout)
            ),
        ));
    }
}

/// Where the cluster ended: each broker's state, and what each producer sent, had
/// acknowledged, lost and wrote twice.
pub(super) fn cluster_ending(w: &Run, out: &mut Vec<String>) {
    let end = SimTime::ZERO + w.plan.duration;
    let brokers: Vec<String> = broker_ids(w)
        .map(|id| {
            let st = w.rec.cluster.brokers.get(id as usize - 1).cloned().unwrap_or_default();
            let down = if st.down.as_nanos() > 0 { format!("down {} in all, ", secs(st.down)) } else { String::new() };
            format!(
                "{id} {} ({down}leading {})",
                broker_state_at_end(w, id).name(),
                plural(st.leads_at_end as usize, "partition")
            )
        })
        .collect();
    out.push(line(end, "broker", format!("brokers at the end: {}", brokers.join("; "))));
    for (p, plan) in w.plan.producers.iter().enumerate() {
        let st = producer_stats(w, p);
        let causes: Vec<String> = LossCause::ALL
            .iter()
            .zip(st.lost_by_cause)
            .filter(|c| c.1 > 0)
            .map(|(c, n)| format!("{} {}", c.name().replace('_', " "), count(n)))
            .collect();
        let by = if causes.is_empty() { String::new() } else { format!(" ({})", causes.join(", ")) };
        out.push(line(
            end,
            "publish",
            format!(
                "producer {} sent {} records, {} acknowledged, {} lost{by}, {} written twice, {} retries; the longest it could not write a partition: {}",
                plan.name,
                count(st.records_sent),
                count(st.records_acked),
                count(st.lost()),
                count(st.duplicates_written),
                count(st.retries),
                secs(st.unavailable_max)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Recorder;
    use crate::record::run::Snapshot;

    fn offline_line(yaml: &str, ps: &[u32]) -> String {
        let plan = crate::scenario::parse("t.yaml", yaml).unwrap();
        let rec = Recorder::new(1, 1, 1);
        let w = Run { plan: &plan, rec: &rec, end: Snapshot::default() };
        let teller = Teller { w: &w, names: Names::new(w.plan) };
        let events: Vec<ClusterEvent> = ps
            .iter()
            .map(|&p| ClusterEvent::LeaderElected {
                partition: p,
                leader: None,
                previous: Some(1),
                leader_epoch: 1,
                election: Election::None,
            })
            .collect();
        teller.elected(&events.iter().collect::<Vec<_>>())
    }

    const TOPICS: &str = "name: t
duration: 10s
brokers: 3
topics:
  - {name: a, partitions: 1, replication_factor: 3, unclean_leader_election_enable: true}
  - {name: b, partitions: 1, replication_factor: 3}
producers: [{name: p, topic: a, rate: 1/s}]
";

    #[test]
    fn an_offline_partition_is_told_by_its_topics_unclean_election_setting() {
        let on = offline_line(TOPICS, &[0]);
        assert!(on.contains("none of their replicas is up, so not even an unclean election (allowed here)"), "{on}");
        let off = offline_line(TOPICS, &[1]);
        assert!(off.contains("no in-sync replica is alive and an unclean election is not allowed"), "{off}");
        let both = offline_line(TOPICS, &[0, 1]);
        assert!(both.contains("for those whose topic allows an unclean election, no replica at all"), "{both}");
    }
}
