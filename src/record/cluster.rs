//! What a run records of the cluster (issue 24): broker states, leaders, ISRs, and per producer
//! what was sent, acknowledged, retried, written twice or lost. The model fills it; `report`
//! reads it. Brokers are numbered 1..=N as Kafka numbers them; tables are indexed by id - 1.

use super::event::{GroupIx, PartitionIx};
use crate::sim::{SimDuration, SimTime};

/// A broker's state, as the controller and its peers see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokerState {
    /// Running and unfenced: it can lead and follow.
    Up,
    /// In controlled shutdown: its leaderships are moving away.
    ShuttingDown,
    /// Running but fenced: starting, or fenced while it could not heartbeat.
    Fenced,
    /// Running, but nobody reaches it (a network partition).
    Isolated,
    /// Crashed or stopped.
    Down,
}

impl BrokerState {
    pub fn name(self) -> &'static str {
        match self {
            BrokerState::Up => "up",
            BrokerState::ShuttingDown => "shutting_down",
            BrokerState::Fenced => "fenced",
            BrokerState::Isolated => "isolated",
            BrokerState::Down => "down",
        }
    }
}

/// How a leader was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Election {
    /// The first ISR member in assignment order that is alive.
    Clean,
    /// No ISR member was alive and unclean.leader.election.enable let an out-of-sync replica lead.
    Unclean,
    /// The preferred replica (the first in `replicas`) took its leadership back.
    Preferred,
    /// Nobody could lead: the partition is offline.
    None,
}

impl Election {
    pub fn name(self) -> &'static str {
        match self {
            Election::Clean => "clean",
            Election::Unclean => "unclean",
            Election::Preferred => "preferred",
            Election::None => "offline",
        }
    }
}

/// Why acknowledged (or sent, for acks=0) records are gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossCause {
    /// acks=0: written to the socket of a leader that died before it had them.
    Acks0,
    /// acks=1: the leader had acknowledged them, then failed before the new leader had them.
    LeaderFailover,
    /// An out-of-sync replica was elected and the log was cut below the high watermark.
    UncleanElection,
    /// Not acknowledged within delivery.timeout.ms: the producer gave up on them.
    DeliveryTimeout,
}

impl LossCause {
    pub const ALL: [LossCause; 4] =
        [LossCause::Acks0, LossCause::LeaderFailover, LossCause::UncleanElection, LossCause::DeliveryTimeout];

    pub fn name(self) -> &'static str {
        match self {
            LossCause::Acks0 => "acks_0",
            LossCause::LeaderFailover => "leader_failover",
            LossCause::UncleanElection => "unclean_election",
            LossCause::DeliveryTimeout => "delivery_timeout",
        }
    }
}

/// Per broker.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BrokerStats {
    /// Time crashed or stopped (not running).
    pub down: SimDuration,
    /// Partitions of the scenario's topics it leads at the end (filled when the run ends).
    pub leads_at_end: u32,
}

/// Per producer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProducerStats {
    /// Records send() was called for.
    pub records_sent: u64,
    /// Records the producer was told were written.
    pub records_acked: u64,
    /// Batches sent again after a failed or unanswered request.
    pub retries: u64,
    /// Records a retry wrote a second time (no idempotence).
    pub duplicates_written: u64,
    /// Records lost, by `LossCause` (in `LossCause::ALL` order).
    pub lost_by_cause: [u64; 4],
    /// Records neither acknowledged nor failed when the run ended: held by the producer, or
    /// above the high watermark with acks=all. So records_sent = records_acked +
    /// lost to delivery_timeout + in_flight_at_end (the other causes lose acknowledged records).
    pub in_flight_at_end: u64,
    /// Records acknowledged (acks=0 or 1: by the leader alone) that were still above the high
    /// watermark when the run ended: in the leader's log, not yet readable. So what a producer
    /// had acknowledged is what readers can fetch, plus those lost after their acknowledgement,
    /// plus these.
    pub acked_above_high_watermark_at_end: u64,
    /// Time some partition of it could not be written, summed over partitions, and the
    /// longest single stretch for one partition.
    pub unavailable_total: SimDuration,
    pub unavailable_max: SimDuration,
}

impl ProducerStats {
    pub fn lost(&self) -> u64 {
        self.lost_by_cause.iter().sum()
    }
}

/// Per partition (global id).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PartitionStats {
    pub leader_changes: u32,
    /// Time with no leader.
    pub offline: SimDuration,
    /// Time with fewer ISR members than replicas.
    pub under_replicated: SimDuration,
    /// At the end of the run: the leader (None: offline) and the ISR, in assignment order.
    pub leader_at_end: Option<u32>,
    pub isr_at_end: Vec<u32>,
}

/// A stretch during which a producer's records for one partition could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unavailable {
    pub producer: u32,
    pub partition: PartitionIx,
    pub from: SimTime,
    /// None: still unavailable when the run ended (the stats count it up to the end).
    pub to: Option<SimTime>,
}

impl Unavailable {
    /// The errors the producer's requests got during the stretch (ending at `end`), each from
    /// when it first came: the one that began it (none: it began waiting for acks), then any
    /// that replaced it (a new leader refusing for min.insync.replicas, say). `events` is the
    /// run's event log, in time order.
    pub fn errors(&self, events: &[super::event::Event], end: SimTime) -> Vec<(SimTime, &'static str)> {
        let from = events.partition_point(|e| e.time < self.from);
        let mut out: Vec<(SimTime, &'static str)> = Vec::new();
        for e in events[from..].iter().take_while(|e| e.time < end) {
            if let super::event::What::Cluster(ClusterEvent::ProduceFailed { producer, partition, error }) = &e.what
                && *producer == self.producer
                && *partition == self.partition
            {
                // Once the leader refuses for min.insync.replicas, requests sent before still
                // time out one by one, but every retry from then on is refused: the refusal stands.
                if *error == "REQUEST_TIMED_OUT" && out.last().is_some_and(|l| l.1 == "NOT_ENOUGH_REPLICAS") {
                    continue;
                }
                // At one instant the last error recorded is the one that stands.
                if out.last().is_some_and(|l| l.0 == e.time) {
                    out.pop();
                }
                if out.last().is_none_or(|l| l.1 != *error) {
                    out.push((e.time, error));
                }
            }
        }
        out
    }
}

/// The cluster's control-plane events (events.jsonl kinds in `ClusterEvent::kind`).
#[derive(Clone, Debug, PartialEq)]
pub enum ClusterEvent {
    /// A broker action that could not apply (`broker` None: `leader_of` a partition with no leader).
    ActionIgnored {
        broker: Option<u32>,
        reason: &'static str,
    },
    BrokerCrashed {
        broker: u32,
    },
    /// Controlled shutdown began: its leaderships move away first.
    BrokerShuttingDown {
        broker: u32,
    },
    BrokerStopped {
        broker: u32,
    },
    BrokerStarted {
        broker: u32,
    },
    /// The controller fenced it (`reason`: session_timeout or controlled_shutdown).
    BrokerFenced {
        broker: u32,
        reason: &'static str,
    },
    BrokerUnfenced {
        broker: u32,
    },
    BrokerIsolated {
        broker: u32,
        for_: SimDuration,
    },
    BrokerReconnected {
        broker: u32,
    },
    /// As a follower it now applies records `lag` late.
    BrokerSlowed {
        broker: u32,
        lag: SimDuration,
    },
    /// A leader election: `leader` None means the partition is offline.
    LeaderElected {
        partition: PartitionIx,
        leader: Option<u32>,
        previous: Option<u32>,
        leader_epoch: u32,
        election: Election,
    },
    IsrChanged {
        partition: PartitionIx,
        isr: Vec<u32>,
        reason: &'static str,
    },
    /// A replica cut its log back to where it agrees with the leader (`from` its old end).
    LogTruncated {
        partition: PartitionIx,
        broker: u32,
        from: u64,
        to: u64,
    },
    /// A producer's requests for a partition started failing (`error`: Kafka's error code name).
    ProduceFailed {
        producer: u32,
        partition: PartitionIx,
        error: &'static str,
    },
    /// The producer can write the partition again (`unavailable`: for how long it could not).
    ProduceResumed {
        producer: u32,
        partition: PartitionIx,
        unavailable: SimDuration,
    },
    RecordsLost {
        producer: u32,
        partition: PartitionIx,
        records: u64,
        cause: LossCause,
    },
    DuplicatesWritten {
        producer: u32,
        partition: PartitionIx,
        records: u64,
    },
    /// The group's coordinator moved with the leadership of its `__consumer_offsets` partition
    /// (`to` None: no broker can coordinate it now).
    CoordinatorMoved {
        group: GroupIx,
        offsets_partition: u32,
        from: Option<u32>,
        to: Option<u32>,
    },
    /// The new coordinator finished loading the group: commits work again.
    CoordinatorLoaded {
        group: GroupIx,
        broker: u32,
    },
}

impl ClusterEvent {
    /// The events.jsonl `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            ClusterEvent::ActionIgnored { .. } => "action_ignored",
            ClusterEvent::BrokerCrashed { .. } => "broker_crashed",
            ClusterEvent::BrokerShuttingDown { .. } => "broker_shutting_down",
            ClusterEvent::BrokerStopped { .. } => "broker_stopped",
            ClusterEvent::BrokerStarted { .. } => "broker_started",
            ClusterEvent::BrokerFenced { .. } => "broker_fenced",
            ClusterEvent::BrokerUnfenced { .. } => "broker_unfenced",
            ClusterEvent::BrokerIsolated { .. } => "broker_isolated",
            ClusterEvent::BrokerReconnected { .. } => "broker_reconnected",
            ClusterEvent::BrokerSlowed { .. } => "broker_slowed",
            ClusterEvent::LeaderElected { .. } => "leader_elected",
            ClusterEvent::IsrChanged { .. } => "isr_changed",
            ClusterEvent::LogTruncated { .. } => "log_truncated",
            ClusterEvent::ProduceFailed { .. } => "produce_failed",
            ClusterEvent::ProduceResumed { .. } => "produce_resumed",
            ClusterEvent::RecordsLost { .. } => "records_lost",
            ClusterEvent::DuplicatesWritten { .. } => "duplicates_written",
            ClusterEvent::CoordinatorMoved { .. } => "coordinator_moved",
            ClusterEvent::CoordinatorLoaded { .. } => "coordinator_loaded",
        }
    }
}

/// The cluster's part of the run record. Empty (and not written) unless the scenario declares
/// `brokers:`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterRecord {
    /// The scenario wrote `brokers:`: the outputs carry the cluster.
    pub declared: bool,
    /// Per broker (id - 1).
    pub brokers: Vec<BrokerStats>,
    /// Per producer.
    pub producers: Vec<ProducerStats>,
    /// Per partition of the world (global id).
    pub partitions: Vec<PartitionStats>,
    /// Every broker state change, in time order (each broker starts `Up` at 0).
    pub broker_states: Vec<(SimTime, u32, BrokerState)>,
    /// Every leader change, in time order: (time, partition, new leader or None: offline).
    pub leaders: Vec<(SimTime, PartitionIx, Option<u32>)>,
    /// Every stretch of producer unavailability, in the order they began.
    pub unavailable: Vec<Unavailable>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::event::{Event, What};

    /// A stretch's errors: each from when it came, the last recorded at one instant standing,
    /// no piece repeating the one before, nothing from before or after the stretch or of another
    /// producer or partition.
    #[test]
    fn a_stretch_lists_each_error_once_from_when_it_came() {
        let at = |s: u64| SimTime::from_millis(s * 1000);
        let fail = |t: u64, producer: u32, partition: u32, error: &'static str| Event {
            time: at(t),
            what: What::Cluster(ClusterEvent::ProduceFailed { producer, partition, error }),
        };
        let events = vec![
            fail(1, 0, 0, "REQUEST_TIMED_OUT"),
            fail(5, 0, 0, "NETWORK_EXCEPTION"),
            fail(5, 1, 0, "NOT_LEADER_OR_FOLLOWER"),
            fail(9, 0, 0, "NOT_ENOUGH_REPLICAS"),
            fail(9, 0, 0, "NETWORK_EXCEPTION"),
            fail(12, 0, 1, "NOT_ENOUGH_REPLICAS"),
            fail(14, 0, 0, "NOT_ENOUGH_REPLICAS"),
            fail(20, 0, 0, "REQUEST_TIMED_OUT"),
        ];
        let u = Unavailable { producer: 0, partition: 0, from: at(5), to: Some(at(20)) };
        let errors = u.errors(&events, at(20));
        assert_eq!(errors, [(at(5), "NETWORK_EXCEPTION"), (at(14), "NOT_ENOUGH_REPLICAS")]);
        // Requests sent before the refusal time out after it: the refusal stands.
        let mut later = events.clone();
        later.insert(7, fail(16, 0, 0, "REQUEST_TIMED_OUT"));
        assert_eq!(u.errors(&later, at(20)), errors);
    }
}
