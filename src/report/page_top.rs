//! The top of a run's page, which answers first: a card per group with its findings and a few
//! key figures, then the expectations with what was measured.

use super::expectations::Outcome;
use super::num::{count_value as n, human_ms_value as dur};
use super::page::esc;
use serde_json::Value;
use std::fmt::Write as _;

/// A card per group: the group's findings (or that nothing stood out) and its key figures.
pub fn findings_block(out: &mut String, summary: &Value) {
    out.push_str("<section id=\"findings\"><h2>What happened</h2><div class=\"cards\">");
    let findings = summary["findings"].as_array().map(Vec::as_slice).unwrap_or_default();
    for (id, g) in summary["groups"].as_object().into_iter().flatten() {
        let kind = if g["type"] == "share" {
            "share group".to_string()
        } else {
            format!("consumer group, {}", g["delivery"].as_str().unwrap_or("pull"))
        };
        let _ = write!(out, "<div class=\"card\"><h3>{} <span class=\"muted\">({kind})</span></h3>", esc(id));
        let mine: Vec<&Value> = findings.iter().filter(|f| f["group"] == id.as_str()).collect();
        findings_list(out, &mine, "Nothing stood out: no failure, loss, duplicate, overload or lag alarm.");
        key_figures(out, g);
        out.push_str("</div>");
    }
    super::page_cluster::cluster_card(out, summary);
    out.push_str("</div></section>");
}

/// A card's list of findings, each classed by its kind; with none, one muted line saying
/// `calm_text` (what nothing standing out means for this card).
pub fn findings_list(out: &mut String, findings: &[&Value], calm_text: &str) {
    out.push_str("<ul>");
    for f in findings {
        let _ = write!(
            out,
            "<li class=\"finding {}\">{}</li>",
            esc(f["kind"].as_str().unwrap_or("")),
            esc(f["text"].as_str().unwrap_or(""))
        );
    }
    if findings.is_empty() {
        let _ = write!(out, "<li class=\"calm\">{}</li>", esc(calm_text));
    }
    out.push_str("</ul>");
}

/// The figures people look at first, with their units.
fn key_figures(out: &mut String, g: &Value) {
    let mut figs = vec![
        ("processed", n(&g["records_processed"])),
        ("duplicates", n(&g["duplicates"])),
        ("lost", n(&g["lost"])),
        ("unread at end", format!("{} records", n(&g["backlog_records"]["final"]))),
        ("latency p99", dur(&g["latency_ms"]["p99"])),
    ];
    if g["type"] != "share" {
        figs.push((if g["rebalances"] == 1 { "rebalance" } else { "rebalances" }, n(&g["rebalances"])));
        figs.push(("partition time without a live owner", dur(&g["partition_pause_ms"])));
    }
    out.push_str("<p class=\"figs\">");
    for (name, v) in figs {
        let _ = write!(out, "<span><b>{}</b> {name}</span> ", esc(&v));
    }
    out.push_str("</p>");
}

/// The scenario's expectations: pass or fail, and what was measured.
pub fn expectations_block(out: &mut String, outcomes: &[Outcome]) {
    if outcomes.is_empty() {
        return;
    }
    let failed = outcomes.iter().filter(|o| !o.pass).count();
    let _ = write!(
        out,
        "<section id=\"expectations\"><h2>Expectations: {} passed, {failed} failed</h2><table class=\"expect\"><tbody>",
        outcomes.len() - failed
    );
    for o in outcomes {
        let e = &o.expectation;
        let wanted: Vec<String> = e.comparisons.iter().map(|c| format!("{} {c}", e.figure)).collect();
        let _ = write!(
            out,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>measured {}</td></tr>",
            if o.pass { "pass" } else { "fail" },
            if o.pass { "PASS" } else { "FAIL" },
            esc(&e.place()),
            esc(&wanted.join(" and ")),
            esc(&o.measured_text()),
        );
    }
    out.push_str("</tbody></table></section>");
}

pub const STYLE: &str = r#"
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; background: #fcfcfc; }
.card h3 { margin: 4px 0; }
.card ul { margin: 4px 0; padding-left: 18px; }
.card li { margin: 2px 0; }
.card li.calm { color: var(--muted); list-style: none; margin-left: -18px; }
.figs { margin: 6px 0 2px; color: var(--muted); }
.figs span { margin-right: 14px; white-space: nowrap; }
.figs b { color: var(--fg); }
table.expect td { text-align: left; }
tr.fail td { background: #fde8e8; }
tr.pass td:first-child { color: #2a7a2a; font-weight: 600; }
tr.fail td:first-child { color: #b00020; font-weight: 600; }
details.zeros { margin: -8px 0 16px; color: var(--muted); }
"#;

#[cfg(test)]
mod tests {
    use super::findings_list;
    use serde_json::json;

    #[test]
    fn findings_list_classes_each_finding_and_escapes_its_text() {
        let f = json!({"kind": "loss", "text": "3 records <lost>"});
        let mut out = String::new();
        findings_list(&mut out, &[&f], "calm");
        assert_eq!(out, "<ul><li class=\"finding loss\">3 records &lt;lost&gt;</li></ul>");
    }

    #[test]
    fn findings_list_without_findings_says_the_calm_text() {
        let mut out = String::new();
        findings_list(&mut out, &[], "Nothing stood out.");
        assert_eq!(out, "<ul><li class=\"calm\">Nothing stood out.</li></ul>");
    }
}
