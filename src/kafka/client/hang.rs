//! A consumer whose host freezes (`hang`): a long GC pause, a stopped VM, a network partition.
//! Unlike a crash nothing is closed: no LeaveGroup, no connection close, so the broker keeps
//! pushing to it and the coordinator notices only when its session times out. Meanwhile it does
//! nothing: no heartbeats, no polls, no processing, no commits. Its own events wait, in order,
//! and when the hang is over it carries on where it was, every waiting event shifted by the
//! hang's length: the batch in hand finishes that much later, a commit in flight completes, the
//! next poll comes. If it was fenced meanwhile, its first heartbeat (or commit) says so, and it
//! rejoins.
//!
//! `resume_consumer` is the one entry for a hang's end; what differs per group type is behind
//! `resume_group_member` (classic consumer group).

use crate::kafka::client::{Consumer, GroupKind, Phase};
use crate::kafka::world::{Ev, World};
use crate::record::event::What;
use crate::sim::{SimDuration, SimTime};

/// A consumer's hang state: the hang it is in, if any, and the hangs it has come out of.
#[derive(Debug, Default)]
pub struct HangState {
    pub frozen: Option<Box<Hang>>,
    /// Per hang it resumed from: (the first event sequence number scheduled after it began, its
    /// length). An event of the consumer scheduled before a hang and due after it runs that much
    /// later (the consumer's own timeline moved on by the hang's length).
    shifts: Vec<(u64, SimDuration)>,
}

/// A consumer's frozen state.
#[derive(Debug)]
pub struct Hang {
    pub since: SimTime,
    /// When it resumes; None: until a `start` or `crash`.
    pub until: Option<SimTime>,
    /// Names this hang in its `HangOver` event.
    pub seq: u32,
    /// Events scheduled from now on have sequence numbers from this one.
    first_seq: u64,
    /// When its last heartbeat before the freeze reached the coordinator: its session runs out
    /// a session timeout later.
    last_heartbeat: SimTime,
    /// The consumer's events that came due while it was frozen: (time, sequence number, event).
    deferred: Vec<(SimTime, u64, Ev)>,
    /// What it owned when it froze (to tell what it lost meanwhile).
    owned_at_start: Vec<u32>,
    /// Records arrived for the long poll it had parked (this fetch sequence number).
    answered_fetch: Option<u32>,
}

impl World {
    /// The `hang` action: consumer `c` freezes now, for `for_` or for good.
    pub(crate) fn hang_consumer(&mut self, c: usize, for_: Option<SimDuration>) {
        let now = self.now();
        let con = &self.consumers[c];
        if !con.is_running() || con.is_hung() {
            let reason = if con.is_hung() { "already hung" } else { "not running" };
            self.rec.event(now, What::ActionIgnored { consumer: c as u32, reason });
            return;
        }
        let st = &mut self.rec.consumers[c];
        st.hangs += 1;
        let seq = st.hangs;
        // Frozen time is neither busy nor rebalancing: those clocks stop and start again at resume.
        st.end_busy(now);
        st.end_blocked(now);
        st.start_hung(now);
        let until = for_.map(|d| now + d);
        let owned_at_start = con.owned.iter().map(|o| o.partition).collect();
        let first_seq = self.kernel.reserve();
        // A classic member's session runs from its last heartbeat; a share member's heartbeats
        // are its own events, held back below, so its coordinator sees the silence by itself.
        let last_heartbeat = match con.kind() {
            GroupKind::Share | GroupKind::Protocol => now,
            GroupKind::Pull | GroupKind::Push => self.consumers[c].last_heartbeat_before(now, self.net.delay),
        };
        let hang = Hang {
            since: now,
            until,
            seq,
            first_seq,
            last_heartbeat,
            deferred: Vec::new(),
            owned_at_start,
            answered_fetch: None,
        };
        self.consumers[c].hang.frozen = Some(Box::new(hang));
        self.rec.event(now, What::ConsumerHung { consumer: c as u32, for_ });
        if let Some(at) = until {
            self.kernel.schedule_at(at, Ev::HangOver { c: c as u32, seq });
        }
        let g = self.consumers[c].group;
        // Share groups: their heartbeats are the consumer's own events (held back above), so
        // the share coordinator's session timer sees the silence by itself.
        match self.groups[g].kind {
            GroupKind::Share | GroupKind::Protocol => {}
            GroupKind::Pull | GroupKind::Push => self.silence_group_member(c),
        }
        self.refresh_group(g);
    }

    /// Classic group: the member stops heartbeating; the coordinator fences it when its session
    /// runs out (counted from its last heartbeat).
    fn silence_group_member(&mut self, c: usize) {
        let g = self.consumers[c].group;
        if let Some(id) = self.consumers[c].member_id.clone()
            && let Some(m) = self.groups[g].classic_mut().members.get_mut(&id)
            && m.alive
        {
            m.alive = false;
            self.schedule_session_expiry(c, id);
        }
    }

    /// Holds back an event of a hung consumer, to be run when it resumes; moves an event
    /// scheduled before a hang it has resumed from by that hang's length. True: not to be run now.
    pub(crate) fn defer_while_hung(&mut self, ev: Ev) -> bool {
        let (c, inc) = match ev {
            Ev::Poll { c, inc }
            | Ev::FetchAtBroker { c, inc, .. }
            | Ev::FetchExpire { c, inc, .. }
            | Ev::FetchResponse { c, inc, .. }
            | Ev::ProcessingDone { c, inc }
            | Ev::CommitDone { c, inc }
            | Ev::JoinArrive { c, inc }
            | Ev::HeartbeatNotice { c, inc }
            | Ev::PushCredit { c, inc }
            | Ev::PollTimeout { c, inc, .. }
            | Ev::ShareHeartbeat { c, inc }
            | Ev::ShareHeartbeatArrive { c, inc }
            | Ev::ShareHeartbeatResponse { c, inc }
            | Ev::ProtocolHeartbeatTimer { c, inc, .. }
            | Ev::ProtocolHeartbeatResponse { c, inc }
            | Ev::ProtocolReconciled { c, inc } => (c, inc),
            _ => return false,
        };
        let state = &self.consumers[c as usize].hang;
        if state.frozen.is_none() && state.shifts.is_empty() || !self.live(c, inc) {
            return false;
        }
        if matches!(ev, Ev::FetchExpire { .. }) && self.consumers[c as usize].kind() == GroupKind::Share {
            // fetch.max.wait.ms of a parked ShareFetch runs out at the broker, which answers with
            // whatever it can acquire then (DelayedShareFetch.onExpiration), frozen client or not.
            return false;
        }
        let (now, seq) = self.kernel.place();
        let state = &mut self.consumers[c as usize].hang;
        if let Some(h) = state.frozen.as_mut() {
            h.deferred.push((now, seq, ev));
            return true;
        }
        if !follows_own_clock(ev) {
            return false;
        }
        let shift: u64 = state.shifts.iter().filter(|&&(first, _)| seq < first).map(|(_, d)| d.as_nanos()).sum();
        if shift == 0 {
            return false;
        }
        self.kernel.schedule_at(now + SimDuration(shift), ev);
        true
    }

    /// Records arrived for the long poll a hung consumer had parked.
    pub(crate) fn answered_while_hung(&mut self, c: usize, fetch_seq: u32) {
        if let Some(h) = self.consumers[c].hang.frozen.as_mut() {
            h.answered_fetch = Some(fetch_seq);
        }
    }

    /// A `hang: {for: ...}` ran out.
    pub(crate) fn hang_over(&mut self, c: usize, seq: u32) {
        if self.consumers[c].hang.frozen.as_ref().is_some_and(|h| h.seq == seq) {
            self.resume_consumer(c);
        }
    }

    /// The hung consumer `c` carries on where it was.
    pub(crate) fn resume_consumer(&mut self, c: usize) {
        let now = self.now();
        let Some(h) = self.consumers[c].hang.frozen.take() else { return };
        // Its partitions sat unread while it was frozen: its next fetch of each is recorded.
        for o in &mut self.consumers[c].owned {
            o.fetched = false;
        }
        self.consumers[c].all_fetched = false;
        let d = now - h.since;
        self.consumers[c].hang.shifts.push((h.first_seq, d));
        let st = &mut self.rec.consumers[c];
        st.end_hung(now);
        match self.consumers[c].phase {
            Phase::Processing => {
                st.start_busy(now);
                // What was not finished when it froze finishes the hang's length later.
                let inflight = &mut self.consumers[c].inflight;
                let k = inflight.finished_by(h.since);
                for f in &mut inflight.finish_ns[k..] {
                    *f = f.saturating_add(d.as_nanos());
                }
                for l in &mut inflight.latency_ns[k..] {
                    *l = l.saturating_add(d.as_nanos());
                }
            }
            Phase::Joining => st.start_blocked(now),
            _ => {}
        }
        for (t, seq, ev) in h.deferred {
            match ev {
                // Heartbeat responses it never asked for, and heartbeat timers that came due:
                // the heartbeat thread starts over below.
                Ev::HeartbeatNotice { .. } | Ev::ShareHeartbeat { .. } => {}
                // Its own doings carry on the hang's length later; what others sent it while it
                // was frozen (and wall-clock timers such as max.poll.interval.ms) it sees now.
                _ if follows_own_clock(ev) && seq < h.first_seq => self.kernel.schedule_at(t + d, ev),
                _ => self.kernel.schedule_at(now, ev),
            }
        }
        let fenced = self.fenced_while_hung(c);
        // A fenced share member loses its whole assignment (it rejoins as if new); a consumer
        // group member, what the group handed to others meanwhile.
        let kind = self.consumers[c].kind();
        let share_fenced = fenced && kind == GroupKind::Share;
        let partitions_lost: Vec<u32> =
            h.owned_at_start.iter().copied().filter(|&p| share_fenced || !self.consumers[c].owns(p)).collect();
        self.rec.event(now, What::ConsumerResumed { consumer: c as u32, hung: d, fenced, partitions_lost });
        match kind {
            // Its heartbeat goes out at once; the answer says whether it was fenced meanwhile
            // (then it rejoins with epoch 0). Its acknowledgements go with its next poll and fail
            // for records whose locks ran out while it was frozen.
            GroupKind::Share => self.share_send_heartbeat(c),
            // Its heartbeat timer, run out while it was frozen, goes off as it resumes; the
            // answer says whether it was fenced meanwhile (UNKNOWN_MEMBER_ID: it rejoins).
            GroupKind::Protocol => {}
            GroupKind::Pull | GroupKind::Push => self.resume_group_member(c),
        }
        let con = &self.consumers[c];
        if con.stopping && matches!(con.phase, Phase::Idle | Phase::Fetching | Phase::Joining) {
            // A stop asked for while it was frozen: it closes now, as it would have then.
            self.finish_stop(c);
            return;
        }
        let con = &self.consumers[c];
        if con.phase == Phase::Fetching {
            if kind == GroupKind::Push {
                if con.buffered() > 0 {
                    // Blocked in poll() while records were pushed: they are handed over now.
                    self.push_take(c);
                }
            } else if h.answered_fetch == Some(con.fetch_seq) {
                // The long poll it had parked was answered while it was frozen.
                self.respond(c);
            }
        }
        let g = self.consumers[c].group;
        self.refresh_group(g);
    }

    /// The member's session ran out while it was frozen: its member id is no longer known.
    fn fenced_while_hung(&self, c: usize) -> bool {
        let g = self.consumers[c].group;
        if let Some(sg) = self.groups[g].share_opt() {
            return self.consumers[c].member_id.as_ref().is_some_and(|id| !sg.members.contains_key(id));
        }
        if self.groups[g].kind == GroupKind::Protocol {
            let pg = self.groups[g].protocol();
            return self.consumers[c].member_id.as_ref().is_some_and(|id| !pg.members.contains_key(id));
        }
        self.consumers[c].member_id.as_ref().is_some_and(|id| !self.groups[g].classic().members.contains_key(id))
    }

    /// Classic group: the heartbeat thread wakes with its interval long passed and sends a
    /// heartbeat at once; the answer tells it of a rebalance in progress or that it was fenced
    /// (UNKNOWN_MEMBER_ID). Its batch's poll timeout is looked at again, now that it ends later.
    fn resume_group_member(&mut self, c: usize) {
        let now = self.now();
        let g = self.consumers[c].group;
        let hb = self.consumers[c].config.heartbeat_interval;
        // Heartbeats go out at hb_origin + k * interval: put one at now.
        let (origin, first) = if now.as_nanos() >= hb.as_nanos() {
            (SimTime(now.as_nanos() - hb.as_nanos()), now)
        } else {
            (now, now + hb)
        };
        self.consumers[c].classic_mut().hb_origin = origin;
        let Some(id) = self.consumers[c].member_id.clone() else { return };
        let notice_at = first + self.net.delay + self.net.delay;
        let inc = self.consumers[c].incarnation;
        let preparing = self.groups[g].classic().state == crate::kafka::coordinator::GroupState::PreparingRebalance;
        match self.groups[g].classic_mut().members.get_mut(&id) {
            Some(m) => {
                m.alive = true;
                m.last_heartbeat = first + self.net.delay;
                let must_join = preparing && !m.joined;
                if must_join && !self.consumers[c].classic().joining {
                    self.kernel.schedule_at(notice_at, Ev::HeartbeatNotice { c: c as u32, inc });
                }
            }
            None => self.kernel.schedule_at(notice_at, Ev::HeartbeatNotice { c: c as u32, inc }),
        }
        let con = &self.consumers[c];
        if con.phase == Phase::Processing && self.groups[g].classic().members.contains_key(&id) {
            let end = SimTime(con.inflight.finish_ns.last().copied().unwrap_or(now.as_nanos()));
            let deadline = con.last_poll + con.config.max_poll_interval;
            let next_poll = end + self.net.delay + self.net.delay + con.config.poll_interval;
            if next_poll > deadline {
                let seq = con.poll_seq;
                self.kernel.schedule_at(deadline.max(now), Ev::PollTimeout { c: c as u32, inc, seq });
            }
        }
    }

    /// A heartbeat or commit answered UNKNOWN_MEMBER_ID: the member was fenced while its host
    /// was frozen. Its partitions went to others already (onPartitionsLost); it forgets its
    /// member id and generation and rejoins as a new member.
    pub(crate) fn membership_lost(&mut self, c: usize) {
        let con = &mut self.consumers[c];
        con.member_id = None;
        con.generation = -1;
        let member = con.classic_mut();
        member.joining = false;
        member.rejoin_needed = true;
        let now = self.now();
        self.rec.event(now, What::MembershipLost { consumer: c as u32 });
        match self.consumers[c].phase {
            Phase::Fetching => self.interrupt_poll(c),
            Phase::Joining => self.unblock(c),
            _ => {}
        }
    }

    /// When a consumer's clock stopped: its hang's start while it is hung, else now. Records
    /// whose processing would finish after the freeze did not finish.
    pub(crate) fn frozen_clock(&self, c: usize) -> SimTime {
        self.consumers[c].frozen_clock(self.now())
    }

    /// A hung member's session timer fires: only if it has been silent for a whole session since
    /// this hang began (a timer of an earlier hang, resumed since, is stale).
    pub(crate) fn session_still_running(&self, g: usize, id: &str) -> bool {
        let Some(m) = self.groups[g].classic().members.get(id) else { return false };
        let c = m.consumer;
        let Some(h) = self.consumers[c].hang.frozen.as_ref() else { return false };
        self.now() < h.last_heartbeat + self.consumers[c].config.session_timeout
    }
}

/// Events on the consumer's own timeline (its processing, its requests and their answers, its
/// sleeps), which a hang moves on by its length; not max.poll.interval.ms (wall-clock time, kept
/// by the heartbeat thread) nor heartbeat responses (the heartbeat schedule restarts at resume),
/// nor the consumer protocol's heartbeat interval timer: a wall-clock `Timer` too, so one that
/// ran out during the hang sends its heartbeat as the network thread wakes (AHRM#poll), not an
/// interval's remainder later.
fn follows_own_clock(ev: Ev) -> bool {
    !matches!(ev, Ev::PollTimeout { .. } | Ev::HeartbeatNotice { .. } | Ev::ProtocolHeartbeatTimer { .. })
}

impl Consumer {
    /// The consumer's own clock: `now`, or when it froze if it is hung (its processing stopped
    /// there).
    pub fn frozen_clock(&self, now: SimTime) -> SimTime {
        self.hang.frozen.as_ref().map_or(now, |h| h.since)
    }
}
