//! JSON input and output for `kafkasim assign [--protocol consumer] --strategy S FILE`.
//!
//! Input: `{"topics": {"orders": 6}, "members": [{"id": "c1", "topics": ["orders"],
//! "owned": {"orders": [0, 1]}, "group_instance_id": "i1", "generation": 3}]}`, where `owned`,
//! `group_instance_id` and `generation` may be left out. Topics missing from `topics` are ignored
//! wherever they appear, as Kafka ignores topics absent from metadata; a partition number beyond
//! a known topic's count is an error. Output: pretty JSON, members in input order, each mapping
//! its topics (sorted) to its partitions (sorted), then a newline.
//!
//! With the consumer protocol (KIP-848's server-side assignors), `owned` is the member's previous
//! target assignment, which no two members may share, and `generation` does not apply. Where
//! Kafka follows a Java hash order, the input's order stands in for it: members as listed are
//! `memberIds()`, topics in the order `topics` lists them are the subscribed-topic set's order
//! (and the order of topic ids), and `owned` is walked as written.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::kafka::coordinator::assignor::{AssignorKind, MemberSubscription, TopicPartition, assign};
use crate::kafka::coordinator::server_assignor::{ServerAssignorKind, ServerMember, ServerTopic, server_assign};

/// Why an `assign` input file was refused; each message names the problem and what is allowed.
#[derive(Debug, thiserror::Error)]
pub enum AssignJsonError {
    /// Syntax, type, missing-field, unknown-field and duplicate-key errors; the message keeps
    /// serde_json's line and column.
    #[error("invalid assignment input: {0}")]
    Parse(#[from] serde_json::Error),
    #[error("member id {id:?} appears more than once in \"members\"; every member needs its own id")]
    DuplicateMember { id: String },
    #[error(
        "members {first:?} and {second:?} share group_instance_id {instance:?}; each static member needs its own instance id"
    )]
    DuplicateInstanceId { instance: String, first: String, second: String },
    #[error("member {member:?} owns {topic}-{partition}, but {}", partition_range(.topic, *.count))]
    PartitionOutOfRange { member: String, topic: String, partition: u32, count: u32 },
    #[error("member {member:?} lists {topic}-{partition} twice in \"owned\"; list each owned partition once")]
    DuplicateOwnedPartition { member: String, topic: String, partition: u32 },
    #[error(
        "members {first:?} and {second:?} both own {topic}-{partition}; with --protocol consumer \"owned\" is the previous target assignment, which gives each partition to one member"
    )]
    SharedTarget { topic: String, partition: u32, first: String, second: String },
    #[error(
        "member {member:?} has a \"generation\"; with --protocol consumer there is none (the coordinator keeps member epochs), so leave it out"
    )]
    GenerationWithConsumerProtocol { member: String },
}

fn partition_range(topic: &str, count: u32) -> String {
    match count {
        0 => format!("topic {topic:?} has no partitions"),
        n => format!("topic {topic:?} has {n} partitions (valid: 0 to {})", n - 1),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    /// In the order written: the consumer protocol reads it as Kafka's topic iteration order.
    #[serde(deserialize_with = "ordered_unique_keys")]
    topics: Vec<(String, u32)>,
    members: Vec<InputMember>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputMember {
    id: String,
    topics: Vec<String>,
    /// In the order written: the consumer protocol walks the previous target in this order.
    #[serde(default, deserialize_with = "ordered_unique_keys")]
    owned: Vec<(String, Vec<u32>)>,
    #[serde(default)]
    group_instance_id: Option<String>,
    #[serde(default)]
    generation: Option<i32>,
}

/// A JSON object's entries in the order written, refusing repeated keys that serde would
/// otherwise silently overwrite.
fn ordered_unique_keys<'de, D, V>(deserializer: D) -> Result<Vec<(String, V)>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct UniqueKeys<V>(PhantomData<V>);

    impl<'de, V: Deserialize<'de>> Visitor<'de> for UniqueKeys<V> {
        type Value = Vec<(String, V)>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object keyed by topic name")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            let mut seen = BTreeSet::new();
            let mut entries = Vec::new();
            while let Some(key) = access.next_key::<String>()? {
                if !seen.insert(key.clone()) {
                    return Err(serde::de::Error::custom(format!(
                        "topic {key:?} appears twice in the same object; name each topic once"
                    )));
                }
                let value = access.next_value()?;
                entries.push((key, value));
            }
            Ok(entries)
        }
    }

    deserializer.deserialize_map(UniqueKeys(PhantomData))
}

/// Runs `kind` on a JSON group description and renders the result; the module docs give both formats.
pub fn assign_json(kind: AssignorKind, input: &str) -> Result<String, AssignJsonError> {
    let input: Input = serde_json::from_str(input)?;
    let members = to_members(&input)?;
    let topics: BTreeMap<String, u32> = input.topics.iter().cloned().collect();
    let assignment = assign(kind, &topics, &members);
    render(members.iter().map(|m| {
        let parts = assignment.get(&m.member_id).into_iter().flatten();
        (m.member_id.as_str(), parts.map(|tp| (tp.topic.as_str(), tp.partition)).collect())
    }))
}

/// Runs a consumer-protocol (KIP-848) server-side assignor on the same JSON; `owned` is each
/// member's previous target assignment.
pub fn server_assign_json(kind: ServerAssignorKind, input: &str) -> Result<String, AssignJsonError> {
    let input: Input = serde_json::from_str(input)?;
    let classic = to_members(&input)?;
    if let Some(m) = input.members.iter().find(|m| m.generation.is_some()) {
        return Err(AssignJsonError::GenerationWithConsumerProtocol { member: m.id.clone() });
    }
    let (topics, members) = to_server_members(&input)?;
    let names: Vec<&str> = input.topics.iter().map(|(t, _)| t.as_str()).collect();
    let assignment = server_assign(kind, &topics, &members);
    render(
        classic
            .iter()
            .zip(&assignment)
            .map(|(m, parts)| (m.member_id.as_str(), parts.iter().map(|&(topic, p)| (names[topic], p)).collect())),
    )
}

/// Members in input order, each its topics (sorted) mapped to its partitions (sorted).
fn render<'a>(members: impl Iterator<Item = (&'a str, Vec<(&'a str, u32)>)>) -> Result<String, AssignJsonError> {
    let mut out = Map::new();
    for (member, parts) in members {
        let mut by_topic: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for (topic, partition) in parts {
            by_topic.entry(topic).or_default().push(partition);
        }
        let topics: Map<String, Value> = by_topic
            .into_iter()
            .map(|(topic, mut partitions)| {
                partitions.sort_unstable();
                (topic.to_string(), Value::from(partitions))
            })
            .collect();
        out.insert(member.to_string(), Value::Object(topics));
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(out))?;
    text.push('\n');
    Ok(text)
}

/// The classic protocol's view, checked: unique member and instance ids, owned partitions that
/// exist and are listed once. `owned` is kept in topic-name order, as before the consumer
/// protocol needed the written order.
fn to_members(input: &Input) -> Result<Vec<MemberSubscription>, AssignJsonError> {
    let topics: HashMap<&str, u32> = input.topics.iter().map(|(t, n)| (t.as_str(), *n)).collect();
    let mut ids: HashSet<&str> = HashSet::new();
    let mut instances: HashMap<&str, &str> = HashMap::new();
    let mut members = Vec::with_capacity(input.members.len());
    for m in &input.members {
        if !ids.insert(&m.id) {
            return Err(AssignJsonError::DuplicateMember { id: m.id.clone() });
        }
        if let Some(instance) = &m.group_instance_id
            && let Some(first) = instances.insert(instance, &m.id)
        {
            return Err(AssignJsonError::DuplicateInstanceId {
                instance: instance.clone(),
                first: first.to_string(),
                second: m.id.clone(),
            });
        }
        let owned_by_name: BTreeMap<&String, &Vec<u32>> = m.owned.iter().map(|(t, ps)| (t, ps)).collect();
        let mut owned = Vec::new();
        for (topic, partitions) in owned_by_name {
            for (i, &partition) in partitions.iter().enumerate() {
                if partitions[..i].contains(&partition) {
                    return Err(AssignJsonError::DuplicateOwnedPartition {
                        member: m.id.clone(),
                        topic: topic.clone(),
                        partition,
                    });
                }
                match topics.get(topic.as_str()) {
                    Some(&count) if partition >= count => {
                        return Err(AssignJsonError::PartitionOutOfRange {
                            member: m.id.clone(),
                            topic: topic.clone(),
                            partition,
                            count,
                        });
                    }
                    _ => owned.push(TopicPartition::new(topic.clone(), partition)),
                }
            }
        }
        members.push(MemberSubscription {
            member_id: m.id.clone(),
            group_instance_id: m.group_instance_id.clone(),
            topics: m.topics.clone(),
            owned,
            generation: m.generation,
        });
    }
    Ok(members)
}

/// The consumer protocol's view of an input `to_members` has checked. Topic numbers are
/// positions in `topics`; subscribed names missing from it get numbers past the end, so that
/// they still count when Kafka decides whether all members subscribe alike.
fn to_server_members(input: &Input) -> Result<(Vec<ServerTopic>, Vec<ServerMember>), AssignJsonError> {
    let topics: Vec<ServerTopic> = (0..input.topics.len())
        .map(|i| ServerTopic { topic: i, partitions: input.topics[i].1, id_rank: i as u32 })
        .collect();
    let mut number: BTreeMap<&str, usize> =
        input.topics.iter().enumerate().map(|(i, (t, _))| (t.as_str(), i)).collect();
    let known = number.len();
    let mut holder: HashMap<(usize, u32), &str> = HashMap::new();
    let mut members = Vec::with_capacity(input.members.len());
    for m in &input.members {
        let subscribed = m
            .topics
            .iter()
            .map(|t| {
                let next = number.len();
                *number.entry(t.as_str()).or_insert(next)
            })
            .collect();
        let mut target = Vec::new();
        for (topic, partitions) in &m.owned {
            let Some(&t) = number.get(topic.as_str()).filter(|&&t| t < known) else { continue };
            for &p in partitions {
                if let Some(first) = holder.insert((t, p), &m.id) {
                    let (topic, partition, second) = (topic.clone(), p, m.id.clone());
                    return Err(AssignJsonError::SharedTarget { topic, partition, first: first.to_string(), second });
                }
                target.push((t, p));
            }
        }
        let instance_id = m.group_instance_id.clone();
        members.push(ServerMember { member_id: m.id.clone(), instance_id, topics: subscribed, target });
    }
    Ok((topics, members))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{
  "topics": {"orders": 6, "audit": 2},
  "members": [
    {"id": "c2", "topics": ["orders", "audit"]},
    {"id": "c1", "topics": ["orders", "ghost"], "owned": {"orders": [0, 1], "ghost": [7]},
     "group_instance_id": "i1", "generation": 3},
    {"id": "idle", "topics": ["ghost"]}
  ]
}"#;

    #[test]
    fn range_example_round_trip() {
        let out = assign_json(AssignorKind::Range, EXAMPLE).unwrap();
        // c1 is static, so it sorts first for orders; only c2 reads audit.
        let want = r#"{
  "c2": {
    "audit": [
      0,
      1
    ],
    "orders": [
      3,
      4,
      5
    ]
  },
  "c1": {
    "orders": [
      0,
      1,
      2
    ]
  },
  "idle": {}
}
"#;
        assert_eq!(out, want);
        let parsed: Value = serde_json::from_str(&out).unwrap();
        let keys: Vec<&String> = parsed.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["c2", "c1", "idle"]);
    }

    #[test]
    fn output_matches_assign_for_every_strategy() {
        let input: Input = serde_json::from_str(EXAMPLE).unwrap();
        let members = to_members(&input).unwrap();
        let topics: BTreeMap<String, u32> = input.topics.iter().cloned().collect();
        for kind in AssignorKind::ALL {
            let out: Value = serde_json::from_str(&assign_json(kind, EXAMPLE).unwrap()).unwrap();
            let expected = assign(kind, &topics, &members);
            for (member, partitions) in &expected {
                let printed: Vec<TopicPartition> = out[member]
                    .as_object()
                    .unwrap()
                    .iter()
                    .flat_map(|(topic, ps)| {
                        let ps = ps.as_array().unwrap();
                        ps.iter().map(|p| TopicPartition::new(topic.clone(), p.as_u64().unwrap() as u32))
                    })
                    .collect();
                assert_eq!(&printed, partitions, "{kind:?} {member}");
            }
            assert_eq!(out.as_object().unwrap().len(), 3, "{kind:?}");
        }
    }

    fn err(input: &str) -> String {
        assign_json(AssignorKind::Sticky, input).unwrap_err().to_string()
    }

    #[test]
    fn syntax_errors_keep_line_and_column() {
        let msg = err("{\n  \"topics\": {\"a\": 1},\n  \"members\": [,]\n}");
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("column"), "{msg}");
    }

    #[test]
    fn unknown_fields_are_rejected_with_the_allowed_ones() {
        let msg = err(r#"{"topics": {}, "members": [], "extra": 1}"#);
        assert!(msg.contains("unknown field `extra`") && msg.contains("`topics`"), "{msg}");
        let msg = err(r#"{"topics": {}, "members": [{"id": "a", "topics": [], "owner": {}}]}"#);
        assert!(msg.contains("unknown field `owner`"), "{msg}");
        assert!(msg.contains("`owned`") && msg.contains("`generation`"), "{msg}");
    }

    #[test]
    fn missing_and_mistyped_fields_are_rejected() {
        let msg = err(r#"{"members": []}"#);
        assert!(msg.contains("missing field `topics`"), "{msg}");
        let msg = err(r#"{"topics": {"a": -1}, "members": []}"#);
        assert!(msg.contains("-1") && msg.contains("line 1"), "{msg}");
        let msg = err(r#"{"topics": {}, "members": [{"id": "a"}]}"#);
        assert!(msg.contains("missing field `topics`"), "{msg}");
    }

    #[test]
    fn duplicate_member_ids_are_rejected() {
        let msg = err(r#"{"topics": {}, "members": [{"id": "a", "topics": []}, {"id": "a", "topics": []}]}"#);
        assert_eq!(msg, "member id \"a\" appears more than once in \"members\"; every member needs its own id");
    }

    #[test]
    fn duplicate_instance_ids_are_rejected() {
        let input = r#"{"topics": {}, "members": [
            {"id": "a", "topics": [], "group_instance_id": "i"},
            {"id": "b", "topics": [], "group_instance_id": "i"}]}"#;
        let msg = err(input);
        assert!(msg.contains("\"a\" and \"b\" share group_instance_id \"i\""), "{msg}");
    }

    #[test]
    fn out_of_range_partitions_are_rejected() {
        let input =
            r#"{"topics": {"orders": 6}, "members": [{"id": "c1", "topics": ["orders"], "owned": {"orders": [6]}}]}"#;
        assert_eq!(err(input), "member \"c1\" owns orders-6, but topic \"orders\" has 6 partitions (valid: 0 to 5)");
        let input = r#"{"topics": {"e": 0}, "members": [{"id": "c1", "topics": ["e"], "owned": {"e": [0]}}]}"#;
        assert_eq!(err(input), "member \"c1\" owns e-0, but topic \"e\" has no partitions");
    }

    #[test]
    fn duplicate_owned_partitions_and_topics_are_rejected() {
        let input = r#"{"topics": {"t": 2}, "members": [{"id": "c", "topics": ["t"], "owned": {"t": [1, 1]}}]}"#;
        assert!(err(input).contains("lists t-1 twice"));
        let msg = err(r#"{"topics": {"t": 2, "t": 3}, "members": []}"#);
        assert!(msg.contains("topic \"t\" appears twice") && msg.contains("line 1"), "{msg}");
    }

    #[test]
    fn unknown_topics_are_ignored() {
        let input = r#"{"topics": {"t": 2}, "members": [
            {"id": "c", "topics": ["t", "nope"], "owned": {"nope": [99]}}]}"#;
        let out = assign_json(AssignorKind::CooperativeSticky, input).unwrap();
        assert_eq!(out, "{\n  \"c\": {\n    \"t\": [\n      0,\n      1\n    ]\n  }\n}\n");
    }

    #[test]
    fn empty_group_prints_empty_object() {
        let out = assign_json(AssignorKind::Range, r#"{"topics": {"t": 1}, "members": []}"#).unwrap();
        assert_eq!(out, "{}\n");
    }

    const O3: &str = r#"{"topics": {"topic2": 3, "topic1": 3}, "members": [
        {"id": "A", "topics": ["topic1", "topic2"], "owned": {"topic1": [0, 1], "topic2": [0, 1]}},
        {"id": "B", "topics": ["topic1", "topic2"], "owned": {"topic1": [2], "topic2": [2]}}]}"#;

    fn uniform(input: &str) -> Value {
        serde_json::from_str(&server_assign_json(ServerAssignorKind::Uniform, input).unwrap()).unwrap()
    }

    /// Kafka's testReassignmentForTwoMembersTwoTopicsGivenUnbalancedPrevAssignment: A is over
    /// quota and, walking its target as written, gives up the last partition it reaches.
    #[test]
    fn consumer_protocol_walks_owned_as_written() {
        let want = serde_json::json!({"A": {"topic1": [0, 1], "topic2": [0]}, "B": {"topic1": [2], "topic2": [1, 2]}});
        assert_eq!(uniform(O3), want);
        let topic2_first = O3.replace(r#""topic1": [0, 1], "topic2": [0, 1]"#, r#""topic2": [0, 1], "topic1": [0, 1]"#);
        let want = serde_json::json!({"A": {"topic1": [0], "topic2": [0, 1]}, "B": {"topic1": [1, 2], "topic2": [2]}});
        assert_eq!(uniform(&topic2_first), want);
    }

    /// Kafka's RangeAssignorTest testFirstAssignmentThreeMembersThreeTopicsDifferentSubscriptions.
    #[test]
    fn consumer_protocol_range() {
        let input = r#"{"topics": {"topic2": 3, "topic3": 2, "topic1": 3}, "members": [
            {"id": "A", "topics": ["topic1", "topic2"]}, {"id": "B", "topics": ["topic3"]},
            {"id": "C", "topics": ["topic2", "topic3"]}]}"#;
        let out: Value = serde_json::from_str(&server_assign_json(ServerAssignorKind::Range, input).unwrap()).unwrap();
        let want = serde_json::json!({"A": {"topic1": [0, 1, 2], "topic2": [0, 1]}, "B": {"topic3": [0]},
            "C": {"topic2": [2], "topic3": [1]}});
        assert_eq!(out, want);
    }

    /// A subscribed topic missing from metadata still makes subscriptions differ, as Kafka counts
    /// subscribed names: the heterogeneous builder runs, and nobody gets the missing topic.
    #[test]
    fn consumer_protocol_counts_missing_topics_in_subscriptions() {
        let input = r#"{"topics": {"t": 3}, "members": [
            {"id": "a", "topics": ["t", "ghost"], "owned": {"ghost": [9]}}, {"id": "b", "topics": ["t"]}]}"#;
        // Heterogeneous: t goes to the least loaded subscriber each time, a first on ties.
        assert_eq!(uniform(input), serde_json::json!({"a": {"t": [0, 2]}, "b": {"t": [1]}}));
    }

    #[test]
    fn consumer_protocol_mistakes_are_named() {
        let err = |input: &str| server_assign_json(ServerAssignorKind::Uniform, input).unwrap_err().to_string();
        let msg = err(r#"{"topics": {"t": 1}, "members": [{"id": "a", "topics": ["t"], "generation": 2}]}"#);
        assert!(msg.contains("member \"a\" has a \"generation\""), "{msg}");
        let msg = err(r#"{"topics": {"t": 1}, "members": [{"id": "a", "topics": ["t"], "owned": {"t": [1]}}]}"#);
        assert!(msg.contains("owns t-1, but topic \"t\" has 1 partitions"), "{msg}");
        let msg = err(r#"{"topics": {"t": 1}, "members": [{"id": "a", "topics": []}, {"id": "a", "topics": []}]}"#);
        assert!(msg.contains("appears more than once"), "{msg}");
        assert_eq!(server_assign_json(ServerAssignorKind::Range, r#"{"topics": {}, "members": []}"#).unwrap(), "{}\n");
    }
}
