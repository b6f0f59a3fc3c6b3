//! The report page's Cluster section (a scenario with `brokers:`): the cluster's charts, each
//! with a sentence on what to look for, then every partition's leader and ISR at the end.

use super::num::{count_value as n, human_ms_value as dur};
use super::page::{Chart, esc, inline_svg};
use serde_json::Value;
use std::fmt::Write as _;

/// What each cluster chart shows, and what to look for in it.
const CAPTIONS: [(&str, &str); 3] = [
    (
        "brokers",
        "Each broker's state over time. Look for red (down) and purple (fenced): a crashed broker's \
         partitions get new leaders only once the controller fences it, broker_session_timeout_ms after its \
         last heartbeat.",
    ),
    (
        "leaders",
        "Each partition's leader over time: a change of colour is a leader election; grey hatching is a \
         partition with no leader, which nobody can write or read until a replica comes back.",
    ),
    (
        "producer_unavailability",
        "When each producer could not write, coloured by the error its requests got. The longest bar is the \
         outage its application saw; records still unacknowledged after delivery_timeout_ms are given up.",
    ),
];

/// The Cluster section: `charts` (the cluster's, in page order), then the partitions table.
pub fn cluster_section(out: &mut String, summary: &Value, charts: &[&Chart]) {
    out.push_str("<section id=\"cluster\"><h2>Cluster</h2>");
    for c in charts {
        let say = CAPTIONS.iter().find(|(name, _)| *name == c.name).map_or("", |(_, say)| say);
        let _ = write!(
            out,
            "<figure class=\"chart\" id=\"chart-{}\"><figcaption>{}.svg</figcaption><p class=\"muted\">{}</p>{}</figure>",
            esc(&c.name),
            esc(&c.name),
            esc(say),
            inline_svg(&c.svg)
        );
    }
    partitions_table(out, summary);
    out.push_str("</section>");
}

/// Every partition at the end: its leader (none: offline), ISR, leader changes, and how long it
/// was offline or under-replicated.
fn partitions_table(out: &mut String, summary: &Value) {
    let rows: Vec<&Value> = summary["topics"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(_, t)| t["partitions"].as_array().into_iter().flatten())
        .collect();
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "<table class=\"matrix\"><caption>partitions at the end</caption><thead><tr><th>partition</th><th>leader</th>\
         <th>ISR</th><th>leader changes</th><th>offline</th><th>under-replicated</th></tr></thead><tbody>",
    );
    for p in rows {
        let isr: Vec<String> = p["isr"].as_array().into_iter().flatten().map(Value::to_string).collect();
        let _ = write!(
            out,
            "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(p["partition"].as_str().unwrap_or("")),
            p["leader"].as_u64().map_or_else(|| "none (offline)".to_string(), |b| b.to_string()),
            esc(&isr.join(", ")),
            n(&p["leader_changes"]),
            esc(&dur(&p["offline_ms"])),
            esc(&dur(&p["under_replicated_ms"])),
        );
    }
    out.push_str("</tbody></table>");
}

/// The cluster's card on top of the page: the producers' findings (they have no group) and a
/// few key figures.
pub fn cluster_card(out: &mut String, summary: &Value) {
    let Some(brokers) = summary["brokers"].as_object() else { return };
    let findings = summary["findings"].as_array().map(Vec::as_slice).unwrap_or_default();
    let _ =
        write!(out, "<div class=\"card\"><h3>cluster <span class=\"muted\">({} brokers)</span></h3>", brokers.len());
    let mine: Vec<&Value> = findings.iter().filter(|f| f.get("producer").is_some()).collect();
    super::page_top::findings_list(
        out,
        &mine,
        "Nothing stood out: no record lost or written twice, no long outage for a producer.",
    );
    let producers = summary["producers"].as_object();
    let sum = |key: &str| producers.into_iter().flatten().filter_map(|(_, p)| p[key].as_u64()).sum::<u64>();
    let longest =
        producers.into_iter().flatten().filter_map(|(_, p)| p["unavailable_ms"]["max"].as_f64()).fold(0.0, f64::max);
    let down = brokers.values().filter(|b| b["state"] != "up").count();
    let figs = [
        ("brokers down at the end", down.to_string()),
        ("records lost", n(&Value::from(sum("lost")))),
        ("written twice", n(&Value::from(sum("duplicates_written")))),
        ("longest a producer could not write", dur(&Value::from(longest))),
    ];
    out.push_str("<p class=\"figs\">");
    for (name, v) in figs {
        let _ = write!(out, "<span><b>{}</b> {name}</span> ", esc(&v));
    }
    out.push_str("</p></div>");
}
