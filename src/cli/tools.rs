//! `kafkasim partition` and `kafkasim assign`: Kafka's partitioner and assignors on their own.

use super::common::{Failure, say, usage};
use crate::kafka::producer::murmur2::partition_for_key;
use crate::scenario;
use std::io::Read;
use std::path::Path;

pub fn partition(partitions: u32, json: bool, keys: Vec<String>) -> Result<(), Failure> {
    if partitions == 0 {
        return Err(usage("--partitions must be at least 1"));
    }
    let mut all = Vec::new();
    for k in keys {
        if k == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| usage(format!("reading keys from stdin: {e}")))?;
            all.extend(text.lines().map(str::to_string));
        } else {
            all.push(k);
        }
    }
    let rows: Vec<(String, u32)> = all
        .into_iter()
        .map(|k| {
            let p = partition_for_key(k.as_bytes(), partitions);
            (k, p)
        })
        .collect();
    if json {
        let v: Vec<serde_json::Value> =
            rows.iter().map(|(k, p)| serde_json::json!({ "key": k, "partition": p })).collect();
        say!("{}", serde_json::to_string_pretty(&v).map_err(anyhow::Error::from)?);
    } else {
        for (k, p) in rows {
            say!("{k}\t{p}");
        }
    }
    Ok(())
}

/// What `--protocol` and `--strategy` name together.
enum Assignor {
    Classic(crate::kafka::coordinator::assignor::AssignorKind),
    Server(crate::kafka::coordinator::server_assignor::ServerAssignorKind),
}

fn parse_assignor(strategy: &str, protocol: &str) -> Result<Assignor, Failure> {
    use crate::kafka::coordinator::assignor::AssignorKind;
    use crate::kafka::coordinator::server_assignor::ServerAssignorKind;
    match protocol {
        "classic" => match AssignorKind::parse(strategy) {
            Some(kind) => Ok(Assignor::Classic(kind)),
            None if strategy == "uniform" => Err(usage(
                "--strategy uniform is a server-side assignor of the consumer protocol (KIP-848); add --protocol consumer",
            )),
            None => Err(usage(format!(
                "unknown --strategy `{strategy}`; allowed: range, roundrobin, sticky, cooperative-sticky \
                 (with --protocol consumer: uniform, range)"
            ))),
        },
        "consumer" => match strategy {
            "uniform" => Ok(Assignor::Server(ServerAssignorKind::Uniform)),
            "range" => Ok(Assignor::Server(ServerAssignorKind::Range)),
            _ => Err(usage(format!(
                "unknown --strategy `{strategy}` for --protocol consumer; allowed: uniform, range \
                 (the consumer protocol's server-side assignors)"
            ))),
        },
        _ => Err(usage(format!("unknown --protocol `{protocol}`; allowed: classic, consumer"))),
    }
}

pub fn assign(strategy: &str, protocol: &str, file: &Path) -> Result<(), Failure> {
    use crate::cli::assign_json::{assign_json, server_assign_json};
    let assignor = parse_assignor(strategy, protocol)?;
    let text = if file.as_os_str() == "-" {
        let mut t = String::new();
        std::io::stdin().read_to_string(&mut t).map_err(|e| usage(format!("reading standard input: {e}")))?;
        t
    } else {
        std::fs::read_to_string(file).map_err(|e| usage(format!("{}: cannot read: {e}", file.display())))?
    };
    let name = if file.as_os_str() == "-" { "<stdin>".to_string() } else { file.display().to_string() };
    // The same bound as scenarios: enough for any real group, and never a runaway output.
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
        let total: u64 = v["topics"].as_object().map_or(0, |t| t.values().filter_map(|n| n.as_u64()).sum());
        if total > 10_000 {
            return Err(usage(format!("{name}: {total} partitions in all; at most 10000 are supported")));
        }
        let members = v["members"].as_array().map_or(0, Vec::len);
        if members as u64 > scenario::validate::MAX_CONSUMERS {
            return Err(usage(format!(
                "{name}: {members} members; at most {} are supported",
                scenario::validate::MAX_CONSUMERS
            )));
        }
    }
    let out = match assignor {
        Assignor::Classic(kind) => assign_json(kind, &text),
        Assignor::Server(kind) => server_assign_json(kind, &text),
    };
    let out = out.map_err(|e| usage(format!("{name}: {e}")))?;
    say!("{}", out.trim_end());
    Ok(())
}
