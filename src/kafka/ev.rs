//! Every kind of event the kernel's queue holds for the model, and what messages on the network
//! carry. Consumer events carry the incarnation they were scheduled for, so an event of a
//! consumer that crashed and restarted since is recognised as stale.

/// (partition, offset) pairs: what a commit carries.
pub type Offsets = Vec<(u32, u64)>;

/// A push message on its way: (consumer, incarnation, partition, from, to, partition epoch).
pub type PushMessage = (usize, u32, u32, u64, u64, u32);

/// Every kind of event. Consumer events carry the incarnation they were scheduled for.
#[derive(Clone, Copy, Debug)]
pub enum Ev {
    /// The cluster's timed events (brokers, controller, producers' retries).
    Cluster(crate::kafka::cluster::ClusterEv),
    Action(u32),
    Sample,
    Start(u32),
    Poll {
        c: u32,
        inc: u32,
    },
    FetchAtBroker {
        c: u32,
        inc: u32,
        seq: u32,
    },
    FetchExpire {
        c: u32,
        inc: u32,
        seq: u32,
    },
    FetchResponse {
        c: u32,
        inc: u32,
        seq: u32,
    },
    ProcessingDone {
        c: u32,
        inc: u32,
    },
    CommitAtBroker(u32),
    CommitDone {
        c: u32,
        inc: u32,
    },
    JoinArrive {
        c: u32,
        inc: u32,
    },
    JoinTimer {
        g: u32,
        round: u32,
    },
    SyncDone {
        g: u32,
        round: u32,
    },
    HeartbeatNotice {
        c: u32,
        inc: u32,
    },
    SessionExpire(u32),
    LeaveArrive(u32),
    PushArrive(u32),
    PushCredit {
        c: u32,
        inc: u32,
    },
    RetentionCheck,
    PollTimeout {
        c: u32,
        inc: u32,
        seq: u32,
    },
    /// Share groups: the member's heartbeat timer, its request at the coordinator, the response.
    ShareHeartbeat {
        c: u32,
        inc: u32,
    },
    ShareHeartbeatArrive {
        c: u32,
        inc: u32,
    },
    ShareHeartbeatResponse {
        c: u32,
        inc: u32,
    },
    ShareSessionExpire(u32),
    /// A `hang: {for: ...}` is over: the consumer resumes (`seq` names the hang).
    HangOver {
        c: u32,
        seq: u32,
    },
    /// A share-partition's earliest acquisition lock runs out.
    LockExpiry {
        g: u32,
        p: u32,
    },
    /// Burrow fetches every partition's log end (its offset refresh).
    BurrowRefresh,
    /// Consumer protocol (KIP-848): the member's heartbeat interval timer (`seq` names it), a
    /// heartbeat or leave reaching the coordinator (`net.heartbeats`), its answer back, the
    /// end of a reconciliation's commit, and the coordinator's session and rebalance timers.
    ProtocolHeartbeatTimer {
        c: u32,
        inc: u32,
        seq: u32,
    },
    ProtocolHeartbeatArrive(u32),
    ProtocolHeartbeatResponse {
        c: u32,
        inc: u32,
    },
    ProtocolReconciled {
        c: u32,
        inc: u32,
    },
    ProtocolSessionExpire(u32),
    ProtocolRebalanceTimeout(u32),
}
