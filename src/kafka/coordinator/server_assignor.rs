//! TEMPORARY stand-in until the server-side assignors land (range per topic, member order).
use crate::scenario::plan::ServerAssignorKind;

pub struct ServerTopic {
    pub topic: usize,
    pub partitions: u32,
    pub id_rank: u32,
}

pub struct ServerMember {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub topics: Vec<usize>,
    pub target: Vec<(usize, u32)>,
}

pub fn server_assign(
    _kind: ServerAssignorKind,
    topics: &[ServerTopic],
    members: &[ServerMember],
) -> Vec<Vec<(usize, u32)>> {
    let mut out = vec![Vec::new(); members.len()];
    if members.is_empty() {
        return out;
    }
    let mut i = 0;
    for t in topics {
        for p in 0..t.partitions {
            out[i % members.len()].push((t.topic, p));
            i += 1;
        }
    }
    out
}
