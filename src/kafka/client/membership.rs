//! The consumer's side of group membership (Kafka's ConsumerCoordinator): starting, crashing,
//! stopping, rejoining at poll(), revoking on rebalance (eager: everything, cooperative: only
//! what moves), committing on revocation, and the max.poll.interval.ms poll timeout.

use crate::kafka::client::{Consumer, GroupKind, Owned, Phase, RunState};
use crate::kafka::coordinator::GroupState;
use crate::kafka::cx::Cx;
use crate::kafka::world::{Ev, World};
use crate::record::event::{StartCause, What};
use crate::record::ledger::{Cause, Replay};
use crate::record::{NONE_U32, OwnershipChange};
use crate::scenario::plan::{CommitMode, OffsetReset, RebalanceProtocol};
use crate::sim::SimDuration;

impl World {
    pub(crate) fn start_consumer(&mut self, c: usize, why: StartCause) {
        let now = self.now();
        if self.consumers[c].is_hung() {
            // The frozen process is killed first; a new one starts.
            self.crash_consumer(c);
        }
        let con = &mut self.consumers[c];
        if con.state == RunState::Running {
            self.rec.event(now, What::ActionIgnored { consumer: c as u32, reason: "already running" });
            return;
        }
        let g = con.group;
        // A new incarnation: whatever the old one held belongs to a member that is now silent
        // (the coordinator drops it when its session times out) or already gone.
        let share = self.groups[g].kind == GroupKind::Share;
        if !share {
            self.release_all(c, "crash");
        }
        self.rec.consumers[c].start_running(now);
        let con = &mut self.consumers[c];
        con.state = RunState::Running;
        con.incarnation += 1;
        con.phase = Phase::Idle;
        con.stopping = false;
        con.last_poll = now;
        con.inflight.clear();
        con.member_id = None;
        con.generation = -1;
        con.membership.restart(now);
        con.commits.last_auto_commit = now;
        self.rec.event(now, What::ConsumerStarted { consumer: c as u32, cause: why });
        if share {
            self.share_start(c);
        }
        if self.consumers[c].kind() == GroupKind::Protocol {
            self.protocol_start(c);
        }
        self.schedule_consumer(c, SimDuration::ZERO, |c, inc| Ev::Poll { c, inc });
        if !share {
            self.refresh_group(g);
        }
    }

    pub(crate) fn crash_consumer(&mut self, c: usize) {
        let now = self.now();
        if self.consumers[c].state != RunState::Running {
            self.rec.event(now, What::ActionIgnored { consumer: c as u32, reason: "not running" });
            return;
        }
        let share = self.consumers[c].kind() == GroupKind::Share;
        // Records whose processing finished before the crash (or the hang it was in) did their
        // side effects.
        let clock = self.frozen_clock(c);
        let was_hung = self.consumers[c].hang.frozen.take().is_some();
        if self.consumers[c].phase == Phase::Processing {
            let k = self.consumers[c].inflight.finished_by(clock);
            let con = &mut self.consumers[c];
            if share { con.share_account(c, k, &mut self.rec) } else { con.account_processed(c, k, &mut self.rec) }
        }
        self.discard_buffer(c, None);
        self.rec.consumers[c].stop_running(now);
        let con = &mut self.consumers[c];
        con.state = RunState::Crashed;
        con.incarnation += 1;
        con.phase = Phase::Idle;
        con.inflight.clear();
        let g = con.group;
        self.rec.event(now, What::ConsumerCrashed { consumer: c as u32 });
        if share {
            self.share_crashed(c);
            return;
        }
        if self.consumers[c].kind() == GroupKind::Protocol {
            // No leave: the coordinator removes it when its session runs out.
            self.refresh_group(g);
            return;
        }
        // No LeaveGroup: the member stays, silent, until its session times out. Its partitions
        // stay assigned to it and nobody reads them meanwhile. (A hung one is silent already.)
        if !was_hung
            && let Some(id) = self.consumers[c].member_id.clone()
            && let Some(m) = self.groups[g].classic_mut().members.get_mut(&id)
        {
            m.alive = false;
            self.schedule_session_expiry(c, id);
        }
        self.refresh_group(g);
    }

    pub(crate) fn stop_consumer(&mut self, c: usize) {
        let now = self.now();
        let con = &mut self.consumers[c];
        if con.state != RunState::Running {
            self.rec.event(now, What::ActionIgnored { consumer: c as u32, reason: "not running" });
            return;
        }
        con.stopping = true;
        if con.is_hung() {
            return; // a frozen process stops when it resumes (see `hang`)
        }
        match con.phase {
            // The batch in hand is finished first; the stop completes at the next poll().
            Phase::Processing | Phase::Committing => {}
            Phase::Idle | Phase::Fetching | Phase::Joining => self.finish_stop(c),
        }
    }

    /// close(): commit what was processed (auto-commit commits on close too), then LeaveGroup.
    /// Static members send no LeaveGroup (KIP-345): their partitions wait for the session timeout.
    pub(crate) fn finish_stop(&mut self, c: usize) {
        match self.consumers[c].kind() {
            GroupKind::Share => self.share_finish_stop(c),
            GroupKind::Pull | GroupKind::Push => self.classic_finish_stop(c),
            GroupKind::Protocol => self.protocol_finish_stop(c),
        }
    }

    fn classic_finish_stop(&mut self, c: usize) {
        let now = self.now();
        let g = self.consumers[c].group;
        if self.consumers[c].config.commit != CommitMode::BeforeProcessing {
            let offsets = self.consumers[c].positions();
            self.send_commit(c, offsets);
        }
        let member = self.consumers[c].member_id.clone();
        let is_static = self.consumers[c].group_instance_id.is_some();
        self.discard_buffer(c, None);
        self.mark_stopped(c);
        self.release_all(c, "stop");
        if let Some(id) = member {
            if is_static {
                if let Some(m) = self.groups[g].classic_mut().members.get_mut(&id) {
                    m.alive = false;
                    self.schedule_session_expiry(c, id);
                }
            } else {
                // LeaveGroup goes out once the closing commit is acknowledged (ConsumerCoordinator.close).
                let at = now + self.net.delay + self.net.delay + self.net.delay;
                let slot = self.net.timers.insert((g, id));
                self.kernel.schedule_at(at, Ev::LeaveArrive(slot));
            }
        }
        self.refresh_group(g);
    }

    /// The consumer's process is gone after close(), whatever its group type: its clock stops,
    /// events scheduled for this incarnation go stale, and `consumer_stopped` is logged.
    pub(crate) fn mark_stopped(&mut self, c: usize) {
        let (con, _, mut cx) = self.client_cx(c);
        con.mark_stopped(c, &mut cx);
    }

    /// Called at the top of poll(): does what the group protocol asks before fetching.
    /// Returns false when poll() must block (no fetch) until an assignment arrives.
    pub(crate) fn group_poll(&mut self, c: usize) -> bool {
        let g = self.consumers[c].group;
        if !self.consumers[c].classic().pending_revoke.is_empty() {
            // Cooperative: give up what the last assignment took away, then rejoin.
            let revoke = std::mem::take(&mut self.consumers[c].classic_mut().pending_revoke);
            self.log_revoked(c, &revoke);
            // onJoinComplete calls only the application's listener here (which commits for
            // after_processing consumers); auto-commit already committed in onJoinPrepare, before
            // this rebalance's JoinGroup, and commits nothing more for the revoked partitions.
            if self.consumers[c].config.commit == CommitMode::AfterProcessing {
                self.commit_on_revoke(c, &revoke);
            }
            for p in revoke {
                self.release(c, p, "rebalance");
            }
            self.consumers[c].classic_mut().rejoin_needed = true;
            self.refresh_group(g);
        }
        let con = &self.consumers[c];
        let is_member = con.member_id.as_ref().is_some_and(|id| self.groups[g].classic().members.contains_key(id));
        if con.classic().joining {
            return self.groups[g].classic().protocol == RebalanceProtocol::Cooperative && !con.owned.is_empty();
        }
        if is_member && !con.classic().rejoin_needed {
            return true;
        }
        self.send_join(c);
        let con = &self.consumers[c];
        self.groups[g].classic().protocol == RebalanceProtocol::Cooperative && !con.owned.is_empty()
    }

    /// onJoinPrepare, then JoinGroup.
    fn send_join(&mut self, c: usize) {
        let g = self.consumers[c].group;
        let owned: Vec<u32> = self.consumers[c].owned.iter().map(|o| o.partition).collect();
        if !owned.is_empty() && self.consumers[c].generation < 0 {
            // The membership was lost (poll timeout): onPartitionsLost, nothing can be committed.
            self.log_revoked(c, &owned);
            self.release_all(c, "poll_timeout");
        } else if self.groups[g].classic().protocol == RebalanceProtocol::Eager && !owned.is_empty() {
            // Eager: commit, then revoke everything before joining (stop-the-world).
            self.log_revoked(c, &owned);
            self.commit_on_revoke(c, &owned);
            self.release_all(c, "rebalance");
        } else if !owned.is_empty() && self.consumers[c].config.commit == CommitMode::Auto {
            // Cooperative keeps its partitions, but onJoinPrepare still commits everything
            // consumed before each JoinGroup when auto-commit is on (ConsumerCoordinator).
            let offsets = self.consumers[c].positions();
            self.send_commit(c, offsets);
        }
        let (con, _, mut cx) = self.client_cx(c);
        con.send_join_group(c, &mut cx);
        self.refresh_group(g);
    }

    fn log_revoked(&mut self, c: usize, parts: &[u32]) {
        let now = self.now();
        self.rec.event(now, What::PartitionsRevoked { consumer: c as u32, partitions: parts.to_vec() });
    }

    /// Auto-commit and commit-after-processing consumers commit their positions for partitions
    /// they are about to lose (onPartitionsRevoked).
    fn commit_on_revoke(&mut self, c: usize, parts: &[u32]) {
        if let Some(offsets) = self.consumers[c].offsets_on_revoke(parts) {
            self.send_commit(c, offsets);
        }
    }

    /// A heartbeat response says REBALANCE_IN_PROGRESS.
    pub(crate) fn heartbeat_notice(&mut self, c: usize) {
        if !self.consumers[c].on_heartbeat_grid(self.now(), self.net.delay) {
            return; // computed on a schedule a JoinGroup response has restarted since
        }
        let g = self.consumers[c].group;
        let Some(id) = self.consumers[c].member_id.clone() else { return };
        if !self.groups[g].classic().members.contains_key(&id) {
            // UNKNOWN_MEMBER_ID: it was fenced without knowing (it was hung). Its partitions are
            // gone already (onPartitionsLost); it resets its member id and rejoins.
            self.membership_lost(c);
            return;
        }
        let grp = self.groups[g].classic();
        let must_join = grp.state == GroupState::PreparingRebalance && grp.members.get(&id).is_some_and(|m| !m.joined);
        if !must_join || self.consumers[c].classic().joining {
            return;
        }
        self.consumers[c].classic_mut().rejoin_needed = true;
        // A consumer blocked inside poll() (a parked long poll) rejoins at once; one that is
        // processing or sleeping between polls rejoins at its next poll().
        if self.consumers[c].phase == Phase::Fetching {
            self.interrupt_poll(c);
        }
    }

    /// A group response wakes a consumer blocked in poll(): the outstanding fetch is given up
    /// (its answer, if any, is stale) and the poll loop turns at once.
    pub(crate) fn interrupt_poll(&mut self, c: usize) {
        let (con, _, mut cx) = self.client_cx(c);
        con.interrupt_poll(c, &mut cx);
    }

    /// max.poll.interval.ms passed without a poll(): the heartbeat thread leaves the group.
    pub(crate) fn poll_timeout(&mut self, c: usize, seq: u32) {
        match self.consumers[c].kind() {
            GroupKind::Share => self.share_poll_timeout(c, seq),
            GroupKind::Pull | GroupKind::Push => self.classic_poll_timeout(c, seq),
            GroupKind::Protocol => self.protocol_poll_timer_check(c, seq),
        }
    }

    /// The `poll_timeout` event: when the application last polled and the batch it was still
    /// processing (what made the poll late).
    pub(crate) fn record_poll_timeout(&mut self, c: usize) {
        let now = self.now();
        let con = &self.consumers[c];
        let processing = con.phase == Phase::Processing;
        let batch = &con.inflight.finish_ns;
        let (batch_records, batch_processing) = match batch.last() {
            Some(&last) if processing => {
                (batch.len() as u64, SimDuration(last.saturating_sub(con.inflight.started.as_nanos())))
            }
            _ => (0, SimDuration::ZERO),
        };
        let what = What::PollTimeout { consumer: c as u32, last_poll: con.last_poll, batch_records, batch_processing };
        self.rec.event(now, what);
        // Whatever it keeps sits unread until it fetches again (recorded as a first fetch).
        for o in &mut self.consumers[c].owned {
            o.fetched = false;
        }
        self.consumers[c].all_fetched = false;
    }

    fn classic_poll_timeout(&mut self, c: usize, seq: u32) {
        if self.consumers[c].poll_seq != seq {
            return;
        }
        let g = self.consumers[c].group;
        let Some(id) = self.consumers[c].member_id.clone() else { return };
        if !self.groups[g].classic().members.contains_key(&id) {
            return;
        }
        // resetGenerationOnLeaveGroup: from now on its commits fail and its partitions count as lost.
        self.consumers[c].member_id = None;
        self.consumers[c].generation = -1;
        self.consumers[c].classic_mut().rejoin_needed = true;
        if self.consumers[c].group_instance_id.is_some() {
            // Static members send no LeaveGroup; they just stop heartbeating. The member (and its
            // assignment) waits for the session timeout or for the instance to rejoin.
            self.groups[g].classic_mut().members.get_mut(&id).expect("member").alive = false;
            self.schedule_session_expiry(c, id);
            self.record_poll_timeout(c);
            return;
        }
        self.record_poll_timeout(c);
        // The batch in hand keeps being processed, but its partitions now belong to nobody
        // (soon to someone else) and its commit will be rejected.
        self.release_all(c, "poll_timeout");
        self.member_gone(g, &id, true, "poll_timeout");
    }

    /// Consumer `c` receives its SyncGroup response.
    pub(crate) fn deliver_assignment(&mut self, c: usize, generation: i32, parts: &[u32]) {
        let con = &mut self.consumers[c];
        con.generation = generation;
        let owned: Vec<u32> = con.owned.iter().map(|o| o.partition).collect();
        let added: Vec<u32> = parts.iter().copied().filter(|p| !owned.contains(p)).collect();
        let now = self.kernel.now();
        let member = con.classic_mut();
        member.joining = false;
        // Cooperative: what was taken away is revoked at the next poll, then the member rejoins
        // so a second round can hand those partitions to their new owners.
        member.pending_revoke = owned.iter().copied().filter(|p| !parts.contains(p)).collect();
        // onJoinComplete: the auto-commit timer starts over (ConsumerCoordinator:
        // nextAutoCommitTimer.updateAndReset(autoCommitIntervalMs)).
        con.commits.last_auto_commit = now;
        self.take_partitions(c, &added);
        let con = &self.consumers[c];
        if con.phase == Phase::Fetching && !con.classic().pending_revoke.is_empty() {
            // Join and sync run inside poll(): a SyncGroup response ends a parked long poll, and
            // onJoinComplete revokes at once (the poll loop then sends the next JoinGroup).
            self.interrupt_poll(c);
        } else if con.phase == Phase::Joining || !con.classic().pending_revoke.is_empty() {
            self.unblock(c);
        }
    }

    /// Lets a consumer blocked in poll() (eager rejoin) go on: it polls now.
    pub(crate) fn unblock(&mut self, c: usize) {
        let (con, _, mut cx) = self.client_cx(c);
        con.unblock(c, &mut cx);
    }

    /// Gives `parts` to consumer `c`, each starting from the committed offset or the reset policy.
    pub(crate) fn take_partitions(&mut self, c: usize, parts: &[u32]) {
        if parts.is_empty() {
            return;
        }
        // A fetch parked for the consumer watches the partitions it owns: it stays on these alone.
        self.unpark_fast(c);
        self.consumers[c].quiet_since = None; // the new partitions may have records

        let now = self.now();
        let g = self.consumers[c].group;
        let reset = self.consumers[c].config.auto_offset_reset;
        // Room for exactly what it will own (a vector grown by doubling keeps unused room).
        self.consumers[c].owned.reserve_exact(parts.len());
        for &p in parts {
            let log = &self.broker.partitions[p as usize].log;
            let ledger = &mut self.rec.ledgers[g];
            let position = match self.groups[g].offsets().committed(p) {
                Some(off) => off,
                None => match reset {
                    OffsetReset::Earliest => log.log_start_offset(),
                    OffsetReset::Latest => {
                        // A partition that changes hands before its first commit: the new owner
                        // starts at the log end, jumping over what the group had not read yet.
                        let end = log.log_end_offset();
                        if let Some(first) = ledger.first_offset(p).filter(|&f| f < end) {
                            let unread = (end - first) - ledger.processed[p as usize].count_in(first, end);
                            ledger.skip(p, first, end);
                            ledger.lost_reset += unread;
                        }
                        end
                    }
                    OffsetReset::None => {
                        let why = format!("NoOffsetForPartition: no committed offset for {}", self.partition_name(p));
                        self.consumers[c].fatal.get_or_insert(why);
                        self.broker.partitions[p as usize].log.log_end_offset()
                    }
                },
            };
            let ledger = &mut self.rec.ledgers[g];
            // A replay in progress carries on from where the new reader starts.
            if let Some(r) = ledger.replay(p)
                && position > r.start
            {
                ledger.set_replay(p, (position < r.until).then_some(Replay { start: position, ..r }));
            }
            ledger.lower_first_offset(p, position);
            if let Some(o) = self.groups[g].offsets().owner(p) {
                for e in self.rec.events.iter().rev().take(25).rev() {
                    eprintln!("{:?} {:?}", e.time, e.what);
                }
                panic!(
                    "{} given to {} at {now:?} while owned by {}",
                    p, self.consumers[c].name, self.consumers[o].name
                );
            }
            self.groups[g].offsets_mut().set_owner(p, Some(c));
            self.rec.ledgers[g].note_received(p, now);
            self.rec.ownership.push(OwnershipChange { time: now, group: g as u16, partition: p, owner: c as u32 });
            self.consumers[c].owned.push(Owned { partition: p, position, fetched: false });
            self.consumers[c].all_fetched = false;
            self.consumers[c].in_range_at = None;
        }
        self.consumers[c].owned.sort_by_key(|o| o.partition);
        if self.groups[g].kind == GroupKind::Push {
            for &p in parts {
                let position = self.consumers[c].position(p).expect("just taken");
                self.push_restart(c, p, position);
                self.pump(g, p);
            }
        }
        let partitions = self.consumers[c].owned.iter().map(|o| o.partition).collect();
        self.rec.event(now, What::Assignment { consumer: c as u32, partitions });
        self.refresh_group(g);
    }

    pub(crate) fn release(&mut self, c: usize, p: u32, cause: Cause) {
        let g = self.consumers[c].group;
        self.unpark_fast(c); // see `take_partitions`
        self.consumers[c].owned.retain(|o| o.partition != p);
        self.consumers[c].quiet_since = None; // the slots of `owned` moved (see `FetchMarks`)
        self.discard_buffer(c, Some(p));
        if self.groups[g].offsets().owner(p) == Some(c) {
            let now = self.now();
            self.rec.ownership.push(OwnershipChange { time: now, group: g as u16, partition: p, owner: NONE_U32 });
            self.groups[g].offsets_mut().set_owner(p, None);
            self.rec.ledgers[g].set_rewind_cause(p, cause);
            if cause == "rebalance" && self.consumers[c].is_running() {
                self.rec.ledgers[g].note_revoked(p, now);
            }
        }
    }

    pub(crate) fn release_all(&mut self, c: usize, cause: Cause) {
        let parts: Vec<u32> = self.consumers[c].owned.iter().map(|o| o.partition).collect();
        for p in parts {
            self.release(c, p, cause);
        }
        let g = self.consumers[c].group;
        self.refresh_group(g);
    }

    /// Brings the group's pause and stop-the-world clocks up to now (see `Group::refresh_clocks`).
    pub(crate) fn refresh_group(&mut self, g: usize) {
        let now = self.now();
        self.groups[g].refresh_clocks(&self.consumers, &self.broker, &mut self.rec.ledgers[g], now);
    }

    /// Closes the open pause and stop-the-world intervals at the end of the run.
    pub(crate) fn close_group_clocks(&mut self) {
        let now = self.now();
        for (grp, ledger) in self.groups.iter().zip(&mut self.rec.ledgers) {
            grp.close_clocks(ledger, now);
            if grp.rebalance_open() {
                ledger.close_unfinished_rebalance(now);
            }
        }
    }
}

impl Consumer {
    /// The consumer is stopped (closed, or its group removed): its incarnation moves on, so
    /// events scheduled for the old one go stale.
    pub fn mark_stopped(&mut self, c: usize, cx: &mut Cx) {
        let now = cx.now();
        cx.rec.consumers[c].stop_running(now);
        self.state = RunState::Stopped;
        self.incarnation += 1;
        self.phase = Phase::Idle;
        self.stopping = false;
        cx.event(What::ConsumerStopped { consumer: c as u32 });
    }

    /// The JoinGroup request goes out. A new dynamic member first gets MEMBER_ID_REQUIRED and
    /// joins again (KIP-394): three trips instead of one.
    pub fn send_join_group(&mut self, c: usize, cx: &mut Cx) {
        let member = self.classic_mut();
        member.rejoin_needed = false;
        member.joining = true;
        let round_trips = if self.member_id.is_none() && self.group_instance_id.is_none() { 3 } else { 1 };
        let d = SimDuration(cx.net.delay.as_nanos() * round_trips);
        let inc = self.incarnation;
        cx.schedule_after(d, Ev::JoinArrive { c: c as u32, inc });
    }

    /// What onPartitionsRevoked commits for `parts`: their positions, unless the consumer
    /// commits before processing (then there is nothing left to commit).
    pub fn offsets_on_revoke(&self, parts: &[u32]) -> Option<Vec<(u32, u64)>> {
        if self.config.commit == CommitMode::BeforeProcessing {
            return None;
        }
        Some(self.owned.iter().filter(|o| parts.contains(&o.partition)).map(|o| (o.partition, o.position)).collect())
    }

    /// A group response wakes a consumer blocked in poll(): the outstanding fetch is given up
    /// (its answer, if any, is stale) and the poll loop turns at once.
    pub fn interrupt_poll(&mut self, c: usize, cx: &mut Cx) {
        self.fetch_seq = self.fetch_seq.wrapping_add(1);
        self.phase = Phase::Idle;
        let inc = self.incarnation;
        cx.schedule_after(SimDuration::ZERO, Ev::Poll { c: c as u32, inc });
    }

    /// A consumer blocked in poll() waiting for an assignment (eager rejoin) goes on: it polls
    /// now.
    pub fn unblock(&mut self, c: usize, cx: &mut Cx) {
        if self.phase == Phase::Joining {
            let now = cx.now();
            cx.rec.consumers[c].end_blocked(now);
            self.phase = Phase::Idle;
            let inc = self.incarnation;
            cx.schedule_after(SimDuration::ZERO, Ev::Poll { c: c as u32, inc });
        }
    }
}
