//! JSON input and output for `kafkasim assign --strategy S FILE`.
//!
//! Input: `{"topics": {"orders": 6}, "members": [{"id": "c1", "topics": ["orders"],
//! "owned": {"orders": [0, 1]}, "group_instance_id": "i1", "generation": 3}]}`, where `owned`,
//! `group_instance_id` and `generation` may be left out. Topics missing from `topics` are ignored
//! wherever they appear, as Kafka ignores topics absent from metadata; a partition number beyond
//! a known topic's count is an error. Output: pretty JSON, members in input order, each mapping
//! its topics (sorted) to its partitions (sorted), then a newline.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::kafka::coordinator::assignor::{AssignorKind, MemberSubscription, TopicPartition, assign};

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
    #[serde(deserialize_with = "unique_keys")]
    topics: BTreeMap<String, u32>,
    members: Vec<InputMember>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputMember {
    id: String,
    topics: Vec<String>,
    #[serde(default, deserialize_with = "unique_keys")]
    owned: BTreeMap<String, Vec<u32>>,
    #[serde(default)]
    group_instance_id: Option<String>,
    #[serde(default)]
    generation: Option<i32>,
}

/// A JSON object as a map, refusing repeated keys that serde would otherwise silently overwrite.
fn unique_keys<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct UniqueKeys<V>(PhantomData<V>);

    impl<'de, V: Deserialize<'de>> Visitor<'de> for UniqueKeys<V> {
        type Value = BTreeMap<String, V>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object keyed by topic name")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            let mut map = BTreeMap::new();
            while let Some(key) = access.next_key::<String>()? {
                if map.contains_key(&key) {
                    return Err(serde::de::Error::custom(format!(
                        "topic {key:?} appears twice in the same object; name each topic once"
                    )));
                }
                let value = access.next_value()?;
                map.insert(key, value);
            }
            Ok(map)
        }
    }

    deserializer.deserialize_map(UniqueKeys(PhantomData))
}

/// Runs `kind` on a JSON group description and renders the result; the module docs give both formats.
pub fn assign_json(kind: AssignorKind, input: &str) -> Result<String, AssignJsonError> {
    let input: Input = serde_json::from_str(input)?;
    let members = to_members(&input)?;
    let assignment = assign(kind, &input.topics, &members);

    let mut out = Map::new();
    for member in &members {
        let mut by_topic: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for tp in assignment.get(&member.member_id).into_iter().flatten() {
            by_topic.entry(&tp.topic).or_default().push(tp.partition);
        }
        let topics: Map<String, Value> = by_topic
            .into_iter()
            .map(|(topic, mut partitions)| {
                partitions.sort_unstable();
                (topic.to_string(), Value::from(partitions))
            })
            .collect();
        out.insert(member.member_id.clone(), Value::Object(topics));
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(out))?;
    text.push('\n');
    Ok(text)
}

fn to_members(input: &Input) -> Result<Vec<MemberSubscription>, AssignJsonError> {
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
        let mut owned = Vec::new();
        for (topic, partitions) in &m.owned {
            for (i, &partition) in partitions.iter().enumerate() {
                if partitions[..i].contains(&partition) {
                    return Err(AssignJsonError::DuplicateOwnedPartition {
                        member: m.id.clone(),
                        topic: topic.clone(),
                        partition,
                    });
                }
                match input.topics.get(topic) {
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
        for kind in AssignorKind::ALL {
            let out: Value = serde_json::from_str(&assign_json(kind, EXAMPLE).unwrap()).unwrap();
            let expected = assign(kind, &input.topics, &members);
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
}
