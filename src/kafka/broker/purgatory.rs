//! Long polls parked at the broker: Kafka's DelayedFetch waiting in the fetch
//! DelayedOperationPurgatory, watched under every partition of the fetch
//! (`DelayedOperationPurgatory#tryCompleteElseWatch`), completed by the first batch to arrive on
//! any of them (`ReplicaManager#appendRecords` -> `checkAndCompleteDelayedFetch`, fetch.min.bytes = 1).
//!
//! Kafka's purgatory keeps one watcher per partition of the fetch, so a consumer of 10,000
//! partitions costs 10,000 list entries per poll, and 300 such groups cost their product at
//! every arrival. Here a fetch of a classic group (pull, push, consumer protocol) with no cluster
//! parks once, for the consumer: `Purgatory::parked[c]`, with a park order from one counter. An
//! arrival on `p` finds it through each group's owner of `p`, since a consumer's owned partitions
//! are exactly those its group records it as owner of (`invariants::check_members`), and a park
//! is turned into per-partition entries before they change (`World::unpark_fast`).
//!
//! What the simulation shows is the same as with a watcher per partition: the fetches one
//! arrival completes are answered in the order they parked, and a partition counts as watched
//! (the arrival stops the feed to be handled as an event) exactly while a watcher list would be
//! non-empty, stale watchers included: a list is emptied only when an arrival takes it, and a
//! stale watcher is dropped only when another fetch parks on the partition (its purge). A fast
//! park is on `p` while its order is at least `Partition::cleared` (the counter when an arrival
//! last took `p`'s watchers) and no purge dropped it (`excluded`). A fetch's key goes stale for
//! good (a new fetch or incarnation), so a stale watcher never comes back to life.
//!
//! Share fetches (whose records can also come back by acknowledgement or lock expiry, completing
//! only the group's own watchers) and every fetch while a cluster runs (whose high-watermark
//! wake-ups re-arm per partition) keep a watcher per partition, in `Partition::waiters`.

use crate::kafka::client::GroupKind;
use crate::kafka::coordinator::Group;
use crate::kafka::world::World;
use std::collections::BTreeMap;

/// A parked fetch: its park order, and the fetch it is (consumer, incarnation, fetch sequence).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Waiter {
    pub order: u64,
    pub c: u32,
    pub inc: u32,
    pub seq: u32,
}

impl Waiter {
    pub(crate) fn key(&self) -> (u32, u32, u32) {
        (self.c, self.inc, self.seq)
    }
}

/// The fetches parked once per consumer (see the module's comment).
#[derive(Default)]
pub struct Purgatory {
    /// The next park order.
    next: u64,
    /// Per consumer: its last fetch parked for the consumer, over the partitions it owns.
    parked: Vec<Option<Waiter>>,
    /// Per consumer: how many partitions it owned when it parked (a debug check that `unpark_fast`
    /// ran before they changed).
    parked_owned: Vec<usize>,
    /// The order of the latest fast park: a partition taken after it has none on it.
    last: Option<u64>,
    /// The groups whose consumers have parked here, and a flag per group.
    groups: Vec<usize>,
    is_group: Vec<bool>,
    /// Per partition: fast parks (consumer, order) a purge dropped from it since it was last taken.
    excluded: BTreeMap<u32, Vec<(u32, u64)>>,
}

impl Purgatory {
    /// The next park's order.
    pub(crate) fn order(&mut self) -> u64 {
        let o = self.next;
        self.next += 1;
        o
    }

    /// The order the next park will get: a partition taken now has every earlier park cleared.
    pub(crate) fn now(&self) -> u64 {
        self.next
    }

    fn park(&mut self, g: usize, w: Waiter, owned: usize) {
        let c = w.c as usize;
        if self.parked.len() <= c {
            self.parked.resize(c + 1, None);
            self.parked_owned.resize(c + 1, 0);
        }
        self.parked[c] = Some(w);
        self.parked_owned[c] = owned;
        self.last = Some(w.order);
        if self.is_group.len() <= g {
            self.is_group.resize(g + 1, false);
        }
        if !self.is_group[g] {
            self.is_group[g] = true;
            self.groups.push(g);
        }
    }

    /// The fast parks on partition `p` (taken last when the counter stood at `cleared`), in no
    /// particular order.
    pub(crate) fn on<'a>(&'a self, p: u32, cleared: u64, groups: &'a [Group]) -> impl Iterator<Item = Waiter> + 'a {
        let owners = self.groups.iter().filter_map(move |&g| groups[g].offsets().owner(p));
        owners.filter_map(move |c| {
            let w = (*self.parked.get(c)?)?;
            (w.order >= cleared && !self.is_excluded(p, w)).then_some(w)
        })
    }

    /// Whether a fetch parked for its consumer watches `p` (asked at every append: where no
    /// consumer parked since `p` was last taken, the owners are not looked up).
    pub(crate) fn watches(&self, p: u32, cleared: u64, groups: &[Group]) -> bool {
        self.last.is_some_and(|last| last >= cleared) && self.on(p, cleared, groups).next().is_some()
    }

    fn is_excluded(&self, p: u32, w: Waiter) -> bool {
        !self.excluded.is_empty() && self.excluded.get(&p).is_some_and(|v| v.contains(&(w.c, w.order)))
    }

    /// Consumer `c`'s fast park, if any, and how many partitions it owned then.
    pub(crate) fn parked(&self, c: usize) -> Option<(Waiter, usize)> {
        Some((self.parked.get(c).copied().flatten()?, self.parked_owned[c]))
    }
}

impl World {
    /// Consumer `c`'s long poll found nothing: it parks on every partition it owns.
    pub(crate) fn park_fetch(&mut self, c: usize) {
        let con = &self.consumers[c];
        let key = (c as u32, con.incarnation, con.fetch_seq);
        if self.cluster.is_none() && con.kind() != GroupKind::Share {
            let order = self.broker.purgatory.order();
            let w = Waiter { order, c: key.0, inc: key.1, seq: key.2 };
            self.broker.purgatory.park(con.group, w, con.owned.len());
            return;
        }
        for i in 0..con.owned.len() {
            let p = self.consumers[c].owned[i].partition;
            self.park(p, key);
        }
    }

    /// A long poll parks on `pid` alone (a watcher of its own): the next batch to arrive there
    /// answers it (see [`Broker::advance_logs`](crate::kafka::broker::Broker::advance_logs)).
    /// Watchers whose fetch was answered (or given up) since they parked here are purged first
    /// (DelayedOperationPurgatory's purge of completed operations), so a partition that receives
    /// nothing holds one entry per fetch still out, not one per poll; with a cluster, it is woken
    /// when the high watermark passes the next batch waiting above it.
    pub(crate) fn park(&mut self, pid: u32, (c, inc, seq): (u32, u32, u32)) {
        let order = self.broker.purgatory.order();
        let consumers = &self.consumers;
        let waiters = &mut self.broker.partitions[pid as usize].waiters;
        waiters.retain(|w| consumers[w.c as usize].waits_for(w.inc, w.seq));
        waiters.push(Waiter { order, c, inc, seq });
        self.purge_fast(pid);
        let now = self.now();
        if let Some((cl, parts, mut io)) = self.cluster_io() {
            cl.rearm(pid, now, &mut parts[pid as usize], &mut io);
        }
    }

    /// The purge of a park on `pid` drops the fast parks there whose fetch is no longer out.
    fn purge_fast(&mut self, pid: u32) {
        let pg = &self.broker.purgatory;
        if pg.groups.is_empty() {
            return;
        }
        let cleared = self.broker.partitions[pid as usize].cleared;
        let stale: Vec<(u32, u64)> = pg
            .on(pid, cleared, &self.groups)
            .filter(|w| !self.consumers[w.c as usize].waits_for(w.inc, w.seq))
            .map(|w| (w.c, w.order))
            .collect();
        if !stale.is_empty() {
            self.broker.purgatory.excluded.entry(pid).or_default().extend(stale);
        }
    }

    /// Takes every fetch watching `pid`, in the order they parked: an arrival completes them.
    pub(crate) fn take_waiters(&mut self, pid: u32) -> Vec<Waiter> {
        let part = &mut self.broker.partitions[pid as usize];
        let mut all = std::mem::take(&mut part.waiters);
        let pg = &mut self.broker.purgatory;
        if !pg.groups.is_empty() {
            all.extend(pg.on(pid, part.cleared, &self.groups));
            all.sort_unstable_by_key(|w| w.order);
            pg.excluded.remove(&pid);
        }
        part.cleared = pg.now();
        all
    }

    /// Consumer `c`'s partitions are about to change: its fast park (if any) becomes a watcher on
    /// each partition it still watches, at its place in the park order.
    pub(crate) fn unpark_fast(&mut self, c: usize) {
        let pg = &mut self.broker.purgatory;
        let Some(w) = pg.parked.get_mut(c).and_then(Option::take) else { return };
        for o in &self.consumers[c].owned {
            let p = o.partition;
            let part = &mut self.broker.partitions[p as usize];
            if w.order >= part.cleared && !pg.is_excluded(p, w) {
                let at = part.waiters.partition_point(|x| x.order < w.order);
                part.waiters.insert(at, w);
            }
        }
    }
}
