//! Placeholder until the real assignors land: the public types and Range only.
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignorKind {
    Range,
    RoundRobin,
    Sticky,
    CooperativeSticky,
}

impl AssignorKind {
    pub fn name(self) -> &'static str {
        match self {
            AssignorKind::Range => "range",
            AssignorKind::RoundRobin => "roundrobin",
            AssignorKind::Sticky => "sticky",
            AssignorKind::CooperativeSticky => "cooperative-sticky",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [AssignorKind::Range, AssignorKind::RoundRobin, AssignorKind::Sticky, AssignorKind::CooperativeSticky]
            .into_iter()
            .find(|k| k.name() == s)
    }
    pub fn supports_cooperative(self) -> bool {
        self == AssignorKind::CooperativeSticky
    }
}

#[derive(Clone, Debug)]
pub struct MemberSubscription {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub topics: Vec<String>,
    pub owned: Vec<TopicPartition>,
    pub generation: Option<i32>,
}

pub type Assignment = BTreeMap<String, Vec<TopicPartition>>;

pub fn assign(_kind: AssignorKind, topics: &BTreeMap<String, u32>, members: &[MemberSubscription]) -> Assignment {
    let mut out: Assignment = members.iter().map(|m| (m.member_id.clone(), vec![])).collect();
    for (t, n) in topics {
        let mut subs: Vec<&MemberSubscription> = members.iter().filter(|m| m.topics.contains(t)).collect();
        subs.sort_by(|a, b| a.member_id.cmp(&b.member_id));
        if subs.is_empty() {
            continue;
        }
        let (q, r) = (*n as usize / subs.len(), *n as usize % subs.len());
        let mut p = 0u32;
        for (i, m) in subs.iter().enumerate() {
            let k = q + usize::from(i < r);
            for _ in 0..k {
                out.get_mut(&m.member_id).unwrap().push(TopicPartition { topic: t.clone(), partition: p });
                p += 1;
            }
        }
    }
    out
}
