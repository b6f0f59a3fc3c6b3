//! The cluster's findings, per producer: records lost to broker failures (and what setting would
//! have kept them), partitions it could not write for long, and records its retries wrote twice.

use super::failures::at;
use super::{About, Finding, Names, ms_value};
use crate::record::cluster::{ClusterEvent, Election, LossCause, Unavailable};
use crate::record::event::What;
use crate::record::run::Run;
use crate::report::num::{count, human_ns};
use crate::scenario::plan::Acks;
use crate::sim::{SimDuration, SimTime};
use serde_json::json;

/// A producer that could not write one partition this long is worth a finding.
const LONG_UNAVAILABLE: SimDuration = SimDuration(1_000_000_000);

/// Every producer's cluster findings, in producer order (sorted by time with the rest).
pub(super) fn producers(w: &Run, out: &mut Vec<Finding>) {
    for p in 0..w.plan.producers.len() {
        broker_loss(w, p, out);
        unavailable(w, p, out);
        duplicates_written(w, p, out);
    }
}

/// Producer `p`'s cluster events that `pick` keeps: (time, partition, records).
fn events_of(w: &Run, p: usize, pick: impl Fn(&ClusterEvent) -> Option<(u32, u64)>) -> Vec<(SimTime, u32, u64)> {
    let mine = |producer: u32| producer as usize == p;
    w.rec
        .events
        .iter()
        .filter_map(|e| match &e.what {
            What::Cluster(c) => pick(c).filter(|_| producer_of(c).is_some_and(mine)).map(|(pt, n)| (e.time, pt, n)),
            _ => None,
        })
        .collect()
}

fn producer_of(e: &ClusterEvent) -> Option<u32> {
    match e {
        ClusterEvent::RecordsLost { producer, .. }
        | ClusterEvent::DuplicatesWritten { producer, .. }
        | ClusterEvent::ProduceFailed { producer, .. }
        | ClusterEvent::ProduceResumed { producer, .. } => Some(*producer),
        _ => None,
    }
}

/// The partitions of `events`, each once, in id order.
fn partitions_of(events: &[(SimTime, u32, u64)]) -> Vec<u32> {
    let mut ps: Vec<u32> = events.iter().map(|e| e.1).collect();
    ps.sort_unstable();
    ps.dedup();
    ps
}

/// Why records were lost to `cause`, and the setting that would have kept them.
fn loss_reason(w: &Run, p: usize, cause: LossCause) -> String {
    let plan = &w.plan.producers[p];
    let topic = &w.plan.topics[plan.topic];
    match cause {
        LossCause::Acks0 => "acks=0 counts a record as sent once it is on the socket, so what a failing leader never \
             appended is gone; acks=all with min_insync_replicas >= 2 would have retried them until two replicas had them"
            .to_string(),
        LossCause::LeaderFailover if plan.delivery.acks == Acks::All => format!(
            "the leader was the only in-sync replica when it acknowledged them (min_insync_replicas={} lets \
             acks=all writes through with one), then failed, and the new leader never had them; \
             min_insync_replicas >= 2 refuses such writes instead of acknowledging what one replica holds",
            topic.replication.min_insync_replicas
        ),
        LossCause::LeaderFailover => format!(
            "with acks={} the leader acknowledged them before a follower had copied them, then failed, and the new \
             leader never had them; acks=all with min_insync_replicas >= 2 (now {}) keeps every acknowledged record \
             on two replicas",
            plan.delivery.acks.name(),
            topic.replication.min_insync_replicas
        ),
        LossCause::UncleanElection => format!(
            "an out-of-sync replica was elected leader (unclean_leader_election_enable=true on {}) and the log was \
             cut back below the high watermark; with unclean_leader_election_enable=false the partition stays \
             offline until an in-sync replica returns, and keeps what it acknowledged",
            topic.name
        ),
        LossCause::DeliveryTimeout => format!(
            "they were not acknowledged within delivery_timeout_ms ({}) while their partition could not be \
             written, so the producer gave up on them; a longer delivery_timeout_ms, or a shorter outage, would \
             have kept them",
            human_ns(plan.delivery.delivery_timeout.as_nanos())
        ),
    }
}

/// `broker_loss`: records the producer lost to the cluster, by cause, with what would have
/// prevented each.
fn broker_loss(w: &Run, p: usize, out: &mut Vec<Finding>) {
    let Some(st) = w.rec.cluster.producers.get(p).filter(|s| s.lost() > 0) else { return };
    let mut causes: Vec<(LossCause, u64)> =
        LossCause::ALL.iter().zip(st.lost_by_cause).filter(|c| c.1 > 0).map(|(c, n)| (*c, n)).collect();
    // Largest first, so the sentence leads with what cost the most (ties in `ALL` order).
    causes.sort_by_key(|c| std::cmp::Reverse(c.1));
    let by: Vec<String> = causes.iter().map(|(c, n)| format!("{} {}", c.name().replace('_', " "), count(*n))).collect();
    let why: Vec<String> = causes.iter().map(|(c, _)| loss_reason(w, p, *c)).collect();
    let events = events_of(w, p, |e| match e {
        ClusterEvent::RecordsLost { partition, records, .. } => Some((*partition, *records)),
        _ => None,
    });
    // What the application was told: nothing with acks=0; a failed send (the callback's
    // TimeoutException, "Expiring N record(s)") for records that ran out of delivery.timeout.ms;
    // a success for the rest. Mixed causes leave it to each cause's reason.
    let timed_out = causes.iter().any(|c| c.0 == LossCause::DeliveryTimeout);
    let acked = if w.plan.producers[p].delivery.acks == Acks::Zero {
        " it sent"
    } else if timed_out && causes.len() == 1 {
        ", each send failing in its callback with a TimeoutException"
    } else if !timed_out {
        " it had been told were written"
    } else {
        ""
    };
    out.push(Finding {
        kind: "broker_loss",
        about: About::Producer(p),
        consumers: Vec::new(),
        partitions: partitions_of(&events),
        from: events.first().map_or(SimTime::ZERO, |e| e.0),
        to: events.last().map(|e| e.0),
        figure: "lost",
        value: json!(st.lost()),
        text: format!(
            "Producer {} lost {} records{acked} (by cause: {}): {}.",
            w.plan.producers[p].name,
            count(st.lost()),
            by.join(", "),
            why.join("; ")
        ),
    });
}

/// The end of a stretch (the run's end while it lasted to the end).
fn stretch_end(w: &Run, u: &Unavailable) -> SimTime {
    u.to.unwrap_or(SimTime::ZERO + w.plan.duration)
}

/// `unavailable`: the producer could not write a partition for a second or more; the longest
/// stretch, and why.
fn unavailable(w: &Run, p: usize, out: &mut Vec<Finding>) {
    let Some(st) = w.rec.cluster.producers.get(p).filter(|s| s.unavailable_max >= LONG_UNAVAILABLE) else { return };
    let length = |u: &Unavailable| stretch_end(w, u).as_nanos().saturating_sub(u.from.as_nanos());
    // The longest stretch, the first of equals.
    let longest =
        w.rec.cluster.unavailable.iter().filter(|u| u.producer as usize == p).fold(None::<&Unavailable>, |best, u| {
            match best {
                Some(b) if length(b) >= length(u) => Some(b),
                _ => Some(u),
            }
        });
    let name = &w.plan.producers[p].name;
    let total = human_ns(st.unavailable_total.as_nanos());
    let (partitions, from, to, text) = match longest {
        Some(u) => {
            let when = match u.to {
                Some(t) => format!("from {} to {}", at(u.from), at(t)),
                None => format!("from {} to the end of the run", at(u.from)),
            };
            let text = format!(
                "Producer {name} could not write {} for {} {when} (all its partitions together: {total}){}.",
                Names(w).partitions(&[u.partition]),
                human_ns(st.unavailable_max.as_nanos()),
                why_unavailable(w, u)
            );
            (vec![u.partition], u.from, u.to, text)
        }
        None => (
            Vec::new(),
            SimTime::ZERO,
            None,
            format!(
                "Producer {name} could not write a partition for up to {} (all its partitions together: {total}).",
                human_ns(st.unavailable_max.as_nanos())
            ),
        ),
    };
    out.push(Finding {
        kind: "unavailable",
        about: About::Producer(p),
        consumers: Vec::new(),
        partitions,
        from,
        to,
        figure: "unavailable_ms",
        value: ms_value(st.unavailable_max.as_nanos()),
        text,
    });
}

/// Why a stretch lasted: the partition had no leader, or the error its requests got.
fn why_unavailable(w: &Run, u: &Unavailable) -> String {
    let end = stretch_end(w, u);
    let leaders = w.rec.cluster.leaders.iter().filter(|l| l.1 == u.partition);
    // Its leader when the stretch began, and any change during it.
    let at_start = leaders.clone().take_while(|l| l.0 <= u.from).last().map(|l| l.2);
    let offline = at_start == Some(None) || leaders.clone().any(|l| l.0 > u.from && l.0 < end && l.2.is_none());
    let (topic, _) = w.plan.partition_of(u.partition);
    let unclean = w.plan.topics[topic].replication.unclean_leader_election_enable;
    if offline && unclean {
        return ": the partition had no leader (none of its replicas was up, so even unclean_leader_election_enable=true \
                had no replica to elect)"
            .to_string();
    }
    if offline {
        return ": the partition had no leader (no in-sync replica was alive; unclean_leader_election_enable=false \
                keeps it offline rather than elect a replica that misses acknowledged records)"
            .to_string();
    }
    if let Some(words) = unclean_during(w, u, end) {
        return words;
    }
    // The failure that began the stretch is recorded at its start; a later one replaced it.
    let errors = u.errors(&w.rec.events, end);
    let first = errors.first().filter(|e| e.0 == u.from).map(|e| e.1);
    let min_isr = w.plan.topics[topic].replication.min_insync_replicas;
    let refused = format!(
        "its ISR was below min_insync_replicas ({min_isr}), so the leader refused acks=all writes (NOT_ENOUGH_REPLICAS)"
    );
    let then_refused = errors.iter().skip(usize::from(first.is_some())).find(|e| e.1 == "NOT_ENOUGH_REPLICAS");
    match (first, then_refused) {
        (Some("NOT_ENOUGH_REPLICAS"), _) => format!(": {refused}"),
        (Some(e), then) => {
            let fencing = format!(
                "a crashed leader is replaced only once the controller fences it, broker_session_timeout_ms ({}) \
                 after its last heartbeat",
                human_ns(w.plan.cluster.broker_session_timeout.as_nanos())
            );
            match then {
                // A leader took them, but with too few in-sync replicas to write.
                Some(&(t, _)) => {
                    format!(
                        ": its requests failed ({e}) until a leader took them at {} ({fencing}); from then on {refused}",
                        at(t)
                    )
                }
                None => format!(": its requests failed ({e}) until a leader took them; {fencing}"),
            }
        }
        (None, _) => standing_high_watermark(w, u, end),
    }
}

/// A stretch with no refused request: acks=all requests waited for a high watermark that stood
/// still (an in-sync replica could not fetch, or the ISR fell below min_insync_replicas), and
/// perhaps timed out.
fn standing_high_watermark(w: &Run, u: &Unavailable, end: SimTime) -> String {
    if w.plan.producers[u.producer as usize].delivery.acks != Acks::All {
        return String::new();
    }
    let during = w.rec.events.iter().filter(|e| e.time > u.from && e.time <= end);
    let min_isr = w.plan.topics[w.plan.partition_of(u.partition).0].replication.min_insync_replicas;
    let below = during.clone().any(|e| {
        matches!(&e.what, What::Cluster(ClusterEvent::IsrChanged { partition, isr, .. })
            if *partition == u.partition && (isr.len() as u32) < min_isr)
    });
    // The first time this producer's requests to this partition failed with `error`.
    let first_failure = |error: &str| {
        during.clone().find(|e| {
            matches!(&e.what, What::Cluster(ClusterEvent::ProduceFailed { producer, partition, error: got })
                if *producer == u.producer && *partition == u.partition && *got == error)
        })
    };
    let timed_out = first_failure("REQUEST_TIMED_OUT").is_some();
    let why = if below {
        format!(
            "an in-sync replica stopped fetching, and once it was fenced the ISR was below min_insync_replicas ({min_isr})"
        )
    } else {
        "an in-sync replica stopped fetching".to_string()
    };
    let mut timeout = String::new();
    if timed_out {
        timeout = format!(
            "; the requests waiting for it timed out after request_timeout_ms ({}) and were sent again",
            human_ns(w.plan.producers[u.producer as usize].delivery.request_timeout.as_nanos())
        );
        // A retry that reaches the leader once its ISR is below min ISR is refused outright.
        if let Some(r) = first_failure("NOT_ENOUGH_REPLICAS") {
            timeout += &format!(", and from {} the leader refused the retries (NOT_ENOUGH_REPLICAS)", at(r.time));
        }
    }
    format!(
        ": its high watermark stood still ({why}), so its acks=all requests waited for acknowledgements, \
         max_in_flight_requests_per_connection at a time{timeout}"
    )
}

/// An unclean election during the stretch (only with unclean_leader_election_enable=true): it
/// gave the partition a leader, but one alone in its ISR, which acks=all with
/// min_insync_replicas >= 2 still cannot write to.
fn unclean_during(w: &Run, u: &Unavailable, end: SimTime) -> Option<String> {
    let (t, leader) = w.rec.events.iter().filter(|e| e.time > u.from && e.time <= end).find_map(|e| match &e.what {
        What::Cluster(ClusterEvent::LeaderElected {
            partition, leader: Some(l), election: Election::Unclean, ..
        }) if *partition == u.partition => Some((e.time, *l)),
        _ => None,
    })?;
    let min_isr = w.plan.topics[w.plan.partition_of(u.partition).0].replication.min_insync_replicas;
    let refused = if w.plan.producers[u.producer as usize].delivery.acks == Acks::All && min_isr >= 2 {
        format!(
            ", below min_insync_replicas ({min_isr}), so acks=all writes were still refused until another replica \
             caught up"
        )
    } else {
        String::new()
    };
    Some(format!(
        ": its in-sync replicas failed, and at {} unclean_leader_election_enable=true let out-of-sync broker {leader} \
         lead, alone in the ISR{refused}",
        at(t)
    ))
}

/// `duplicates_written`: the producer's retries wrote records the broker already had.
fn duplicates_written(w: &Run, p: usize, out: &mut Vec<Finding>) {
    let Some(st) = w.rec.cluster.producers.get(p).filter(|s| s.duplicates_written > 0) else { return };
    let events = events_of(w, p, |e| match e {
        ClusterEvent::DuplicatesWritten { partition, records, .. } => Some((*partition, *records)),
        _ => None,
    });
    out.push(Finding {
        kind: "duplicates_written",
        about: About::Producer(p),
        consumers: Vec::new(),
        partitions: partitions_of(&events),
        from: events.first().map_or(SimTime::ZERO, |e| e.0),
        to: events.last().map(|e| e.0),
        figure: "duplicates_written",
        value: json!(st.duplicates_written),
        text: format!(
            "Producer {}'s retries wrote {} records twice: a batch was written but its answer never came back, so \
             it was sent again, and enable_idempotence is false for it; with enable_idempotence=true the leader \
             recognises a retried batch by its producer id and sequence and writes it once.",
            w.plan.producers[p].name,
            count(st.duplicates_written)
        ),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Recorder;
    use crate::record::cluster::ProducerStats;
    use crate::record::event::Event;
    use crate::record::run::Snapshot;

    const YAML: &str = "
name: t
duration: 60s
topics: [{name: orders, partitions: 2}]
producers: [{name: web, topic: orders, rate: 10/s}]
groups: [{id: g, topics: [orders], consumers: [{name: c}]}]
";

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration(s * 1_000_000_000)
    }

    fn found(plan: &crate::scenario::Plan, rec: &Recorder) -> Vec<Finding> {
        let w = Run { plan, rec, end: Snapshot::default() };
        let mut out = Vec::new();
        producers(&w, &mut out);
        out
    }

    fn setup(stats: ProducerStats) -> (crate::scenario::Plan, Recorder) {
        let plan = crate::scenario::parse("t.yaml", YAML).unwrap();
        let mut rec = Recorder::new(1, 1, 1);
        rec.cluster.declared = true;
        rec.cluster.producers = vec![stats];
        (plan, rec)
    }

    #[test]
    fn a_producer_with_nothing_to_say_has_no_finding() {
        let (plan, rec) = setup(ProducerStats { unavailable_max: SimDuration(999_000_000), ..Default::default() });
        assert!(found(&plan, &rec).is_empty(), "a stretch under a second is not worth one");
    }

    #[test]
    fn losses_name_each_cause_and_what_would_have_kept_the_records() {
        let (mut plan, mut rec) = setup(ProducerStats { lost_by_cause: [30, 0, 500, 2], ..Default::default() });
        plan.producers[0].delivery.acks = Acks::Zero;
        let lost =
            ClusterEvent::RecordsLost { producer: 0, partition: 1, records: 500, cause: LossCause::UncleanElection };
        rec.events.push(Event { time: at(12), what: What::Cluster(lost) });
        let f = found(&plan, &rec);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(
            (f.kind, f.about, f.value.clone(), f.from, f.partitions.clone()),
            ("broker_loss", About::Producer(0), json!(532), at(12), vec![1])
        );
        // Largest cause first, each with its remedy.
        assert!(
            f.text.starts_with(
                "Producer web lost 532 records it sent (by cause: unclean election 500, acks 0 30, delivery timeout 2)"
            ),
            "{}",
            f.text
        );
        for remedy in [
            "unclean_leader_election_enable=false",
            "acks=all with min_insync_replicas >= 2",
            "a longer delivery_timeout_ms",
        ] {
            assert!(f.text.contains(remedy), "{remedy}: {}", f.text);
        }
    }

    #[test]
    fn the_longest_stretch_and_why_it_lasted() {
        let (plan, mut rec) = setup(ProducerStats {
            unavailable_total: SimDuration(14_000_000_000),
            unavailable_max: SimDuration(10_000_000_000),
            duplicates_written: 7,
            ..Default::default()
        });
        rec.cluster.unavailable = vec![
            Unavailable { producer: 0, partition: 0, from: at(5), to: Some(at(9)) },
            Unavailable { producer: 0, partition: 1, from: at(20), to: Some(at(30)) },
        ];
        rec.cluster.leaders = vec![(at(0), 1, Some(1)), (at(21), 1, None), (at(30), 1, Some(2))];
        let f = found(&plan, &rec);
        let kinds: Vec<&str> = f.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, ["unavailable", "duplicates_written"]);
        assert_eq!((f[0].partitions.clone(), f[0].from, f[0].to), (vec![1], at(20), Some(at(30))));
        assert!(f[0].text.contains("could not write orders-1 for 10.0 s from 20.0 s to 30.0 s (all its partitions together: 14.0 s): the partition had no leader"), "{}", f[0].text);
        assert!(f[1].text.contains("enable_idempotence=true"), "{}", f[1].text);
    }

    /// One 10 s stretch on orders-1 whose leader changed at 25 s to `leader` by `election`.
    fn stretch_with_election(unclean: bool, leader: Option<u32>, election: Election) -> Vec<Finding> {
        let (mut plan, mut rec) = setup(ProducerStats {
            unavailable_total: SimDuration(10_000_000_000),
            unavailable_max: SimDuration(10_000_000_000),
            ..Default::default()
        });
        plan.topics[0].replication.unclean_leader_election_enable = unclean;
        plan.topics[0].replication.min_insync_replicas = 2;
        rec.cluster.unavailable = vec![Unavailable { producer: 0, partition: 1, from: at(20), to: Some(at(30)) }];
        rec.cluster.leaders = vec![(at(0), 1, Some(1)), (at(25), 1, leader)];
        let e = ClusterEvent::LeaderElected { partition: 1, leader, previous: Some(1), leader_epoch: 1, election };
        rec.events.push(Event { time: at(25), what: What::Cluster(e) });
        found(&plan, &rec)
    }

    #[test]
    fn an_offline_partition_is_explained_by_its_topics_unclean_election_setting() {
        let off = &stretch_with_election(false, None, Election::None)[0].text;
        assert!(
            off.contains("no in-sync replica was alive; unclean_leader_election_enable=false keeps it offline"),
            "{off}"
        );
        let on = &stretch_with_election(true, None, Election::None)[0].text;
        assert!(on.contains("none of its replicas was up, so even unclean_leader_election_enable=true"), "{on}");
        assert!(!on.contains("=false"), "the flag is on: {on}");
    }

    #[test]
    fn an_unclean_leader_alone_in_its_isr_still_refuses_acks_all() {
        let f = &stretch_with_election(true, Some(3), Election::Unclean)[0].text;
        assert!(
            f.ends_with(
                ": its in-sync replicas failed, and at 25.0 s unclean_leader_election_enable=true let out-of-sync \
                 broker 3 lead, alone in the ISR, below min_insync_replicas (2), so acks=all writes were still \
                 refused until another replica caught up."
            ),
            "{f}"
        );
    }
}
