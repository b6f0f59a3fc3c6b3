//! The classic member's heartbeat thread as a schedule: heartbeats go out every
//! `heartbeat.interval.ms` from the last reset (`hb_origin`: the JoinGroup response, see
//! `Heartbeat.resetTimeouts`), each answered one round trip later. Only the instants that matter
//! are computed (a notice of a rebalance, a session's last heartbeat), never one event per beat.
//! Also the member id a consumer picks when it joins.

use crate::kafka::client::Consumer;
use crate::sim::{SimDuration, SimTime};
use rand::Rng;

impl Consumer {
    /// When this consumer next reads a heartbeat response, seen from `now`.
    pub fn next_heartbeat_response(&self, now: SimTime, delay: SimDuration) -> SimTime {
        let hb = self.config.heartbeat_interval.as_nanos().max(1);
        let now = now.as_nanos();
        let origin = self.classic().hb_origin.as_nanos();
        // Heartbeat.resetTimeouts: the first heartbeat is one interval after the reset, not at it.
        let k = now.saturating_sub(origin).div_ceil(hb).max(1);
        SimTime(origin + k * hb) + delay + delay
    }

    /// Whether `t` is when this consumer reads a heartbeat response on its current schedule (a
    /// notice computed on a schedule that a JoinGroup response has since restarted is stale).
    pub fn on_heartbeat_grid(&self, t: SimTime, delay: SimDuration) -> bool {
        let hb = self.config.heartbeat_interval.as_nanos().max(1);
        let sent = t.as_nanos().checked_sub(delay.as_nanos() * 2);
        let origin = self.classic().hb_origin.as_nanos();
        sent.is_some_and(|s| s >= origin + hb && (s - origin).is_multiple_of(hb))
    }

    /// When the last heartbeat this consumer sent before `t` reached the coordinator.
    pub fn last_heartbeat_before(&self, t: SimTime, delay: SimDuration) -> SimTime {
        let hb = self.config.heartbeat_interval.as_nanos().max(1);
        let origin = self.classic().hb_origin.as_nanos().min(t.as_nanos());
        let k = (t.as_nanos() - origin) / hb;
        SimTime(origin + k * hb) + delay
    }

    /// A new member id: client.id (or group.instance.id) + "-" + a random UUID. The order of
    /// dynamic members after a restart is random in Kafka too; drawn here from the consumer's
    /// own stream.
    pub fn new_member_id(&mut self) -> String {
        let a: u64 = self.member_rng.r#gen();
        let b: u64 = self.member_rng.r#gen();
        let prefix = self.group_instance_id.clone().unwrap_or_else(|| self.name.clone());
        format!(
            "{prefix}-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }
}
