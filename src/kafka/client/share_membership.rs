//! A share member's side of its group (KafkaShareConsumer with KIP-932's `ShareGroupHeartbeat`):
//! it joins with epoch 0, heartbeats on its interval, takes the assignment a response carries,
//! rejoins after a poll timeout or a fence, and leaves on close. The coordinator's side is in
//! `coordinator/share.rs`.

use crate::kafka::client::Owned;
use crate::kafka::coordinator::share::ShareReply;
use crate::kafka::world::{Ev, World};
use crate::record::event::What;

impl World {
    /// A share consumer starts: it subscribes, and its first heartbeat (epoch 0) joins the group.
    pub(crate) fn share_start(&mut self, c: usize) {
        let id = self.consumers[c].new_member_id();
        let con = &mut self.consumers[c];
        con.member_id = Some(id);
        con.generation = 0;
        con.owned.clear();
        let member = con.share_mut();
        member.acks.clear();
        member.outcomes.clear();
        self.share_send_heartbeat(c);
    }

    /// The heartbeat timer fires. A member that left on a poll timeout sends nothing until its
    /// next poll rejoins it; the timer keeps its beat.
    pub(crate) fn share_heartbeat_timer(&mut self, c: usize) {
        if !self.consumers[c].share().rejoin {
            self.share_send_heartbeat(c);
            return;
        }
        let g = self.consumers[c].group;
        let every = self.groups[g].share().plan.heartbeat_interval;
        self.schedule_consumer(c, every, |c, inc| Ev::ShareHeartbeat { c, inc });
    }

    /// The heartbeat loop: one request now, the next after the interval.
    pub(crate) fn share_send_heartbeat(&mut self, c: usize) {
        let g = self.consumers[c].group;
        let d = self.net.delay;
        self.schedule_consumer(c, d, |c, inc| Ev::ShareHeartbeatArrive { c, inc });
        let every = self.groups[g].share().plan.heartbeat_interval;
        self.schedule_consumer(c, every, |c, inc| Ev::ShareHeartbeat { c, inc });
    }

    /// The member reads the heartbeat response.
    pub(crate) fn share_heartbeat_response(&mut self, c: usize) {
        let Some(reply) = self.consumers[c].share_mut().reply.take() else { return };
        match reply {
            ShareReply::Fenced => {
                // The member lost its membership (its session timed out while it was silent):
                // it rejoins with epoch 0 at once; its partitions are gone until then.
                self.consumers[c].generation = 0;
                self.consumers[c].owned.clear();
                let now = self.now();
                self.rec.event(now, What::MemberRejoining { consumer: c as u32 });
                let d = self.net.delay;
                self.schedule_consumer(c, d, |c, inc| Ev::ShareHeartbeatArrive { c, inc });
            }
            ShareReply::Ok(epoch, assignment) => {
                self.consumers[c].generation = epoch;
                if let Some(parts) = assignment {
                    let now = self.now();
                    self.rec.event(
                        now,
                        What::ShareAssignment { consumer: c as u32, member_epoch: epoch, partitions: parts.clone() },
                    );
                    let con = &mut self.consumers[c];
                    con.owned =
                        parts.iter().map(|&partition| Owned { partition, position: 0, fetched: true }).collect();
                    con.rotate = 0;
                }
            }
        }
    }

    /// The process was killed (`crash_consumer` did what every group type does): the OS closes
    /// its sockets and the broker's disconnect listener releases its records at once
    /// (ShareSessionCache.ClientConnectionDisconnectListener -> SharePartitionManager.releaseSession);
    /// the membership waits for the session timeout.
    pub(crate) fn share_crashed(&mut self, c: usize) {
        let con = &mut self.consumers[c];
        let member = con.share_mut();
        member.acks.clear();
        member.outcomes.clear();
        con.owned.clear();
        self.share_release_session(c, "connection_closed");
    }

    /// close(): pending acknowledgements go out, the share sessions close (their records come
    /// back), and the member leaves the group (epoch -1).
    pub(crate) fn share_finish_stop(&mut self, c: usize) {
        let g = self.consumers[c].group;
        self.share_send_acks(c);
        self.share_release_session(c, "close");
        self.consumers[c].owned.clear();
        self.mark_stopped(c);
        if let Some(id) = self.consumers[c].member_id.take() {
            let (grp, mut cx) = self.group_cx(g);
            grp.share_mut().remove_member(&mut cx, g, &id, false, "leave_group");
        }
    }

    /// max.poll.interval.ms passed: the client leaves the group and rejoins at its next poll.
    pub(crate) fn share_poll_timeout(&mut self, c: usize, seq: u32) {
        if self.consumers[c].poll_seq != seq {
            return;
        }
        let g = self.consumers[c].group;
        let Some(id) = self.consumers[c].member_id.clone() else { return };
        self.record_poll_timeout(c);
        let (grp, mut cx) = self.group_cx(g);
        grp.share_mut().remove_member(&mut cx, g, &id, false, "poll_timeout");
        self.consumers[c].generation = 0;
        self.consumers[c].owned.clear();
        self.consumers[c].share_mut().rejoin = true;
    }

    /// A member that left on a poll timeout rejoins at its next poll.
    pub(crate) fn share_rejoin_if_needed(&mut self, c: usize) {
        if std::mem::take(&mut self.consumers[c].share_mut().rejoin) {
            // The client keeps its member id for its lifetime (KIP-1082) and joins with epoch 0.
            let d = self.net.delay;
            self.schedule_consumer(c, d, |c, inc| Ev::ShareHeartbeatArrive { c, inc });
        }
    }
}
