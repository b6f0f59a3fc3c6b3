//! index.html: one self-contained report page per run (and one per compare). Everything is
//! inline (SVG charts, CSS, the event timeline's data and script) and nothing refers to the
//! network, so the page opens the same from a disk, a mail attachment or an air-gapped machine.
//! The summary tables are rendered from summary.json's value generically: keys added to the
//! summary later appear on the page without changes here.

use super::events::LoggedEvent;
use super::num::time_ms_json;
use super::run_charts::{CHARTS, CLUSTER_CHARTS};
use crate::record::run::Run;
use serde_json::{Map, Value};
use std::fmt::Write as _;
use std::path::Path;

/// One chart: its file stem ("lag") and the SVG text the run wrote.
pub struct Chart {
    pub name: String,
    pub svg: String,
}

/// What one run's page shows.
pub struct RunView<'a> {
    /// "reference", or "pull" / "push" inside a compare.
    pub heading: String,
    pub summary: &'a Value,
    /// events.jsonl's first objects (at most [`MAX_EVENTS`]), in order.
    pub events: Vec<Value>,
    /// How many events events.jsonl has.
    pub event_count: usize,
    pub charts: Vec<Chart>,
    /// The control-plane story (`kafkasim run --narrate`), one line each.
    pub story: Vec<String>,
    /// The scenario's expectations, evaluated.
    pub expectations: Vec<super::expectations::Outcome>,
}

/// At most this many events go into a page (the full list is always in events.jsonl).
const MAX_EVENTS: usize = 20_000;

pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Reads the SVG charts named in `names` from `dir` (those that exist), in that order.
pub fn read_charts(dir: &Path, names: &[&str]) -> anyhow::Result<Vec<Chart>> {
    let mut out = Vec::new();
    for name in names {
        let p = dir.join(format!("{name}.svg"));
        if p.exists() {
            let svg = std::fs::read_to_string(&p).map_err(|e| anyhow::anyhow!("reading {}: {e}", p.display()))?;
            out.push(Chart { name: name.to_string(), svg });
        }
    }
    Ok(out)
}

/// An SVG file's text made fit to sit inside HTML: no namespace URL (HTML knows `<svg>`), and
/// scaled by CSS to the width of its column (the viewBox keeps its proportions).
pub(super) fn inline_svg(svg: &str) -> String {
    let svg = svg.trim();
    let svg = svg.strip_prefix("<?xml").map_or(svg, |rest| rest.split_once("?>").map_or(svg, |(_, s)| s.trim()));
    let Some(end) = svg.find('>') else { return String::new() };
    let (head, body) = svg.split_at(end);
    let mut attrs = String::new();
    for a in head.trim_start_matches("<svg").split_whitespace() {
        if a.starts_with("xmlns") || a.starts_with("width=") || a.starts_with("height=") {
            continue;
        }
        attrs.push(' ');
        attrs.push_str(a);
    }
    format!("<svg{attrs} role=\"img\" preserveAspectRatio=\"xMidYMin meet\"{body}")
}

/// A value as one table cell's text; a long one cut (see `page_cut`).
fn scalar(v: &Value) -> String {
    super::page_cut::cut_text(whole_scalar(v), "summary.json")
}

fn whole_scalar(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
            if a.is_empty() {
                "none".into()
            } else {
                a.iter().map(whole_scalar).collect::<Vec<_>>().join(", ")
            }
        }
        Value::Object(o) if o.is_empty() => "none".into(),
        other => other.to_string(),
    }
}

/// A value that fits one table cell: a scalar, a list of scalars, or an empty object.
fn is_cell(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.iter().all(|x| !x.is_object() && !x.is_array()),
        Value::Object(o) => o.is_empty(),
        _ => true,
    }
}

/// The object's cell-sized values with nested objects flattened into "a.b" keys, and the keys
/// of values too deep for that (objects of objects, such as a group's consumers).
fn flatten(obj: &Map<String, Value>) -> (Vec<(String, &Value)>, Vec<&str>) {
    let mut flat = Vec::new();
    let mut deep = Vec::new();
    for (k, v) in obj {
        match v {
            v if is_cell(v) => flat.push((k.clone(), v)),
            // committed_offsets: {topic: [offsets]} flattens; consumers: {name: {..}} is deep.
            Value::Object(inner) if inner.values().all(is_cell) => {
                flat.extend(inner.iter().map(|(ik, iv)| (format!("{k}.{ik}"), iv)));
            }
            _ => deep.push(k.as_str()),
        }
    }
    (flat, deep)
}

/// Rows = entries of `obj` (each an object), columns = the union of their flattened keys.
fn matrix(out: &mut String, caption: &str, obj: &Map<String, Value>, row_head: &str) {
    let mut cols: Vec<String> = Vec::new();
    let rows: Vec<(&String, Vec<(String, &Value)>)> = obj
        .iter()
        .map(|(k, v)| {
            let flat = v.as_object().map(|o| flatten(o).0).unwrap_or_default();
            for (c, _) in &flat {
                if !cols.contains(c) {
                    cols.push(c.clone());
                }
            }
            (k, flat)
        })
        .collect();
    let _ =
        write!(out, "<table class=\"matrix\"><caption>{}</caption><thead><tr><th>{}</th>", esc(caption), esc(row_head));
    for c in &cols {
        let _ = write!(out, "<th>{}</th>", esc(&c.replace('_', " ")));
    }
    out.push_str("</tr></thead><tbody>");
    for (k, flat) in rows {
        let _ = write!(out, "<tr><th>{}</th>", esc(k));
        for c in &cols {
            let v = flat.iter().find(|(fk, _)| fk == c).map_or("".into(), |(_, v)| scalar(v));
            let _ = write!(out, "<td>{}</td>", esc(&v));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

/// Columns = entries of `obj` (groups), rows = their flattened keys: groups side by side.
fn transposed(out: &mut String, caption: &str, obj: &Map<String, Value>) {
    let flats: Vec<(&String, Vec<(String, &Value)>)> =
        obj.iter().map(|(k, v)| (k, v.as_object().map(|o| flatten(o).0).unwrap_or_default())).collect();
    let mut keys: Vec<String> = Vec::new();
    for (_, f) in &flats {
        for (k, _) in f {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    let _ = write!(out, "<table class=\"matrix\"><caption>{}</caption><thead><tr><th></th>", esc(caption));
    for (k, _) in &flats {
        let _ = write!(out, "<th>{}</th>", esc(k));
    }
    out.push_str("</tr></thead><tbody>");
    let mut folded = Vec::new();
    for key in &keys {
        let cells: Vec<String> = flats
            .iter()
            .map(|(_, f)| f.iter().find(|(fk, _)| fk == key).map_or("".into(), |(_, v)| scalar(v)))
            .collect();
        // A row that is zero or empty in every column says nothing: folded away below the table.
        if cells.iter().all(|c| is_blank(c)) {
            folded.push(key.replace('_', " "));
            continue;
        }
        let _ = write!(out, "<tr><th>{}</th>", esc(&key.replace('_', " ")));
        for v in cells {
            let _ = write!(out, "<td>{}</td>", esc(&v));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    if !folded.is_empty() {
        let _ = write!(
            out,
            "<details class=\"zeros\"><summary>{} more figures are zero or empty in every column</summary>{}</details>",
            folded.len(),
            esc(&folded.join(", "))
        );
    }
}

/// A cell with nothing to say: zero, empty, none.
fn is_blank(cell: &str) -> bool {
    matches!(cell, "" | "0" | "0.0" | "-" | "none")
}

/// The summary as tables: the run's own figures, topics, groups side by side, then every deeper
/// part (e.g. each group's consumers, one row per consumer).
fn summary_tables(out: &mut String, summary: &Value) {
    let Some(top) = summary.as_object() else { return };
    let (flat, deep) = flatten(top);
    out.push_str("<table class=\"kv\"><caption>run</caption><tbody>");
    for (k, v) in &flat {
        let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(&k.replace('_', " ")), esc(&scalar(v)));
    }
    out.push_str("</tbody></table>");
    for key in deep {
        let Some(obj) = top[key].as_object() else { continue };
        if obj.values().all(|v| v.as_object().is_some_and(|o| o.values().all(is_cell))) {
            matrix(out, key, obj, key.trim_end_matches('s'));
            continue;
        }
        transposed(out, key, obj);
        for (name, v) in obj {
            let Some(inner) = v.as_object() else { continue };
            for sub in flatten(inner).1 {
                let Some(o) = inner[sub].as_object() else { continue };
                let caption = format!("{} {name}: {}", key.trim_end_matches('s'), sub.replace('_', " "));
                if o.values().all(Value::is_object) {
                    matrix(out, &caption, o, sub.trim_end_matches('s'));
                    continue;
                }
                // A block of figures (a share group's `share`): its own key-value table, then a
                // table per part deeper still (its partitions).
                let (flat, deeper) = flatten(o);
                let _ = write!(out, "<table class=\"kv\"><caption>{}</caption><tbody>", esc(&caption));
                for (k, v) in &flat {
                    let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(&k.replace('_', " ")), esc(&scalar(v)));
                }
                out.push_str("</tbody></table>");
                for d in deeper {
                    if let Some(rows) = o[d].as_object() {
                        matrix(out, &format!("{caption}: {d}"), rows, d.trim_end_matches('s'));
                    }
                }
            }
        }
    }
}

const STYLE: &str = r#"
:root { --fg:#222; --muted:#666; --line:#ddd; --bg:#fff; --band:#f6f6f6; --accent:#1f77b4; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg);
       background: var(--bg); margin: 0; }
header, main { max-width: 1500px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 16px; border-bottom: 1px solid var(--line); }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 18px 0 6px; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
.muted { color: var(--muted); }
table { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: right; vertical-align: top; }
th { background: var(--band); font-weight: 600; }
tbody th { text-align: left; }
.tables { overflow-x: auto; }
figure { margin: 12px 0 24px; }
figure svg { width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { font-weight: 600; margin-bottom: 4px; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
.columns > div { min-width: 0; }
pre { background: var(--band); padding: 10px; overflow-x: auto; border: 1px solid var(--line); }
.filters label { margin-right: 16px; }
.filters select { margin-left: 4px; }
#events table, .events table { width: 100%; }
.events td, .events th { text-align: left; }
.events td.t { text-align: right; white-space: nowrap; }
.events td.k { white-space: nowrap; }
.story { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; white-space: pre-wrap; }
@media (max-width: 900px) { .columns { grid-template-columns: 1fr; } }
"#;

/// Filters each `.events` block by its own selects; runs with no network and no libraries.
const SCRIPT: &str = r#"
window.addEventListener('error', function (e) {
  document.body.setAttribute('data-js-error', String(e.message || e));
});
(function () {
  function fmt(ms) {
    var s = ms / 1000, m = Math.floor(s / 60);
    var r = (s - m * 60).toFixed(3);
    return (m < 10 ? '0' : '') + m + ':' + (r.length < 6 ? '0' : '') + r;
  }
  function detail(e) {
    var parts = [];
    Object.keys(e).forEach(function (k) {
      if (k === 'time_ms' || k === 'type' || k === 'group' || k === 'consumer') return;
      var v = e[k];
      parts.push(k + '=' + (typeof v === 'string' ? v : JSON.stringify(v)));
    });
    return parts.join('  ');
  }
  function fill(select, values) {
    values.forEach(function (v) {
      var o = document.createElement('option');
      o.value = v; o.textContent = v; select.appendChild(o);
    });
  }
  document.querySelectorAll('.events').forEach(function (box) {
    var data = JSON.parse(box.querySelector('script[type="application/json"]').textContent);
    var body = box.querySelector('tbody');
    var count = box.querySelector('.count');
    var sel = {
      group: box.querySelector('select[name=group]'),
      consumer: box.querySelector('select[name=consumer]'),
      type: box.querySelector('select[name=type]')
    };
    Object.keys(sel).forEach(function (k) {
      var seen = {};
      data.forEach(function (e) { if (e[k] !== undefined && e[k] !== null) seen[String(e[k])] = true; });
      fill(sel[k], Object.keys(seen).sort());
    });
    var rows = data.map(function (e) {
      var tr = document.createElement('tr');
      tr.className = 'ev';
      [fmt(e.time_ms), e.type, e.group || '', e.consumer || '', detail(e)].forEach(function (text, i) {
        var td = document.createElement('td');
        td.textContent = text;
        td.className = ['t', 'k', 'g', 'c', 'd'][i];
        tr.appendChild(td);
      });
      body.appendChild(tr);
      return { tr: tr, e: e };
    });
    function apply() {
      var shown = 0;
      rows.forEach(function (r) {
        var ok = Object.keys(sel).every(function (k) {
          return sel[k].value === '' || String(r.e[k]) === sel[k].value;
        });
        r.tr.style.display = ok ? '' : 'none';
        if (ok) shown++;
      });
      count.textContent = shown + ' of ' + rows.length + ' events';
    }
    Object.keys(sel).forEach(function (k) { sel[k].addEventListener('change', apply); });
    apply();
  });
  // Where the answer sits (checked by a test in a 1400x1000 window): the findings and the first chart.
  [['findings', '#findings'], ['first-chart', 'figure.chart']].forEach(function (p) {
    var el = document.querySelector(p[1]);
    if (el) document.body.setAttribute('data-' + p[0] + '-top', String(Math.round(el.getBoundingClientRect().top + window.scrollY)));
  });
  document.body.setAttribute('data-ready', 'yes');
})();
"#;

/// JSON for a `<script type="application/json">` block: "</" can never end the script early.
fn script_json(v: &(impl serde::Serialize + ?Sized)) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into()).replace("</", "<\\/")
}

/// The event table of `shown`, the first of `count` events.
fn events_block(out: &mut String, id: &str, shown: &[Value], count: usize) {
    let _ = write!(out, "<div class=\"events\" id=\"{id}\"><p class=\"filters\">");
    for (name, label) in [("group", "group"), ("consumer", "consumer"), ("type", "event type")] {
        let _ = write!(out, "<label>{label}<select name=\"{name}\"><option value=\"\">all</option></select></label>");
    }
    out.push_str("<span class=\"count muted\"></span></p>");
    if shown.len() < count {
        let _ = write!(
            out,
            "<p class=\"muted\">The first {} of {} events; all are in events.jsonl.</p>",
            shown.len(),
            count
        );
    }
    out.push_str("<table><thead><tr><th>time (mm:ss)</th><th>event</th><th>group</th><th>consumer</th><th>details</th></tr></thead><tbody></tbody></table>");
    let _ = write!(out, "<script type=\"application/json\">{}</script></div>", script_json(shown));
}

fn charts_block<'a>(out: &mut String, charts: impl IntoIterator<Item = &'a Chart>) {
    for c in charts {
        let _ = write!(
            out,
            "<figure class=\"chart\" id=\"chart-{}\"><figcaption>{}.svg</figcaption>{}</figure>",
            esc(&c.name),
            esc(&c.name),
            inline_svg(&c.svg)
        );
    }
}

fn story_block(out: &mut String, story: &[String]) {
    if story.is_empty() {
        return;
    }
    out.push_str("<details><summary>the control-plane story, step by step (as <code>kafkasim run --narrate</code> prints it)</summary><div class=\"story\">");
    for line in story {
        out.push_str(&esc(line));
        out.push('\n');
    }
    out.push_str("</div></details>");
}

fn page(title: &str, body: &str) -> String {
    let mut out = page_start(title);
    out.push_str(body);
    page_end(&mut out);
    out
}

/// A page up to its body; the body is written after it, then [`page_end`] (a huge world's page
/// is never copied into a second string).
fn page_start(title: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}{}</style></head>\n<body>\n",
        esc(title),
        super::page_top::STYLE
    )
}

fn page_end(out: &mut String) {
    let _ = write!(out, "\n<script>{SCRIPT}</script>\n</body></html>\n");
}

fn head(out: &mut String, title: &str, summary: &Value, description: &str, nav: &[(&str, &str)]) {
    let _ = write!(out, "<header><h1>{}</h1>", esc(title));
    if !description.trim().is_empty() {
        let _ = write!(out, "<p>{}</p>", esc(description.trim()));
    }
    let _ = write!(
        out,
        "<p class=\"muted\">seed {} &middot; {} of virtual time &middot; {} events processed &middot; {} &middot; written by kafkasim {}</p><nav>",
        esc(&scalar(&summary["seed"])),
        esc(&summary["duration_ms"]
            .as_u64()
            .map_or_else(|| "-".to_string(), |ms| super::num::human_ns(ms * 1_000_000))),
        esc(&scalar(&summary["events_processed"])),
        esc(&super::console::records_produced(summary)),
        env!("CARGO_PKG_VERSION"),
    );
    for (href, label) in nav {
        let _ = write!(out, "<a href=\"#{href}\">{label}</a>");
    }
    out.push_str("</nav></header><main>");
}

fn scenario_block(out: &mut String, scenario: &str, overridden_seed: Option<u64>) {
    out.push_str("<section id=\"scenario\"><h2>Scenario</h2>");
    if let Some(seed) = overridden_seed {
        let _ = write!(out, "<p class=\"muted\">Run with <code>--seed {seed}</code>, overriding the file's seed.</p>");
    }
    let _ = write!(out, "<pre>{}</pre></section>", esc(scenario));
}

/// The page of one run.
pub fn run_page(view: &RunView, description: &str, scenario: &str, overridden_seed: Option<u64>) -> String {
    let mut out = page_start(&format!("kafkasim: {}", view.heading));
    // The cluster's charts have a section of their own, after the others.
    let (cluster, charts): (Vec<&Chart>, Vec<&Chart>) =
        view.charts.iter().partition(|c| CLUSTER_CHARTS.contains(&c.name.as_str()));
    let declared = view.summary.get("brokers").is_some();
    let mut nav = vec![("findings", "what happened"), ("charts", "charts")];
    if declared {
        nav.push(("cluster", "cluster"));
    }
    nav.extend([("summary", "all figures"), ("events", "event timeline"), ("scenario", "scenario")]);
    head(&mut out, &format!("kafkasim: {}", view.heading), view.summary, description, &nav);
    // The answer first: what happened and why, the expectations, the charts; the tables after.
    super::page_top::findings_block(&mut out, view.summary);
    super::page_top::expectations_block(&mut out, &view.expectations);
    out.push_str("<section id=\"charts\"><h2>Charts</h2>");
    charts_block(&mut out, charts);
    out.push_str("</section>");
    if declared {
        super::page_cluster::cluster_section(&mut out, view.summary, &cluster);
    }
    out.push_str("<section id=\"summary\"><h2>All figures</h2><div class=\"tables\">");
    summary_tables(&mut out, view.summary);
    out.push_str("</div></section><section id=\"events\"><h2>Event timeline</h2>");
    story_block(&mut out, &view.story);
    events_block(&mut out, "events-run", &view.events, view.event_count);
    out.push_str("</section>");
    scenario_block(&mut out, scenario, overridden_seed);
    out.push_str("</main>");
    page_end(&mut out);
    out
}

/// The page of a compare: its own charts and table, then both runs side by side.
/// `(name, title)`: the scenario's name and what the two runs compare ("pull vs push").
pub fn compare_page(
    (name, title): (&str, &str),
    description: &str,
    scenario: &str,
    overridden_seed: Option<u64>,
    table_md: &str,
    charts: &[Chart],
    runs: [&RunView; 2],
) -> String {
    let mut out = String::new();
    let nav = [
        ("comparison", "comparison"),
        ("summary", "summaries"),
        ("charts", "charts"),
        ("events", "event timelines"),
        ("scenario", "scenario"),
    ];
    head(&mut out, &format!("kafkasim compare: {name}, {title}"), runs[0].summary, description, &nav);
    let mut heading = title.to_string();
    if let Some(first) = heading.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let _ = write!(out, "<section id=\"comparison\"><h2>{}</h2><div class=\"tables\">", esc(&heading));
    markdown_tables(&mut out, table_md);
    out.push_str("</div>");
    charts_block(&mut out, charts);
    out.push_str("</section><section id=\"summary\"><h2>Summaries</h2><div class=\"columns\">");
    for r in runs {
        let _ = write!(out, "<div><h3>{}</h3><div class=\"tables\">", esc(&r.heading));
        summary_tables(&mut out, r.summary);
        out.push_str("</div></div>");
    }
    out.push_str("</div></section><section id=\"charts\"><h2>Charts of each run</h2><div class=\"columns\">");
    for r in runs {
        let _ = write!(out, "<div><h3>{}</h3>", esc(&r.heading));
        charts_block(&mut out, &r.charts);
        out.push_str("</div>");
    }
    out.push_str("</div></section><section id=\"events\"><h2>Event timelines</h2><div class=\"columns\">");
    for (i, r) in runs.iter().enumerate() {
        let _ = write!(out, "<div><h3>{}</h3>", esc(&r.heading));
        story_block(&mut out, &r.story);
        events_block(&mut out, &format!("events-{i}"), &r.events, r.event_count);
        out.push_str("</div>");
    }
    out.push_str("</div></section>");
    scenario_block(&mut out, scenario, overridden_seed);
    out.push_str("</main>");
    page(&format!("kafkasim compare: {name}"), &out)
}

/// The page of a sweep: what was swept, the table of medians, a chart per figure, the scenario.
pub fn sweep_page(name: &str, what: &str, scenario: &str, table_md: &str, charts: &[Chart]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<header><h1>kafkasim sweep: {}</h1><p>{}</p><nav><a href=\"#table\">medians</a><a href=\"#charts\">charts</a><a href=\"#scenario\">scenario</a></nav></header><main>",
        esc(name),
        esc(what)
    );
    out.push_str("<section id=\"table\"><h2>Medians over seeds</h2><div class=\"tables\">");
    markdown_tables(&mut out, table_md);
    out.push_str("</div></section><section id=\"charts\"><h2>Charts</h2>");
    charts_block(&mut out, charts);
    out.push_str("</section>");
    scenario_block(&mut out, scenario, None);
    out.push_str("</main>");
    page(&format!("kafkasim sweep: {name}"), &out)
}

/// Markdown pipe tables (compare.md) as HTML tables; other lines as paragraphs.
fn markdown_tables(out: &mut String, md: &str) {
    let mut in_table = false;
    for line in md.lines() {
        let l = line.trim();
        if l.starts_with('|') {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            if cells.iter().all(|c| c.chars().all(|ch| ch == '-' || ch == ':')) {
                continue;
            }
            if !in_table {
                out.push_str("<table class=\"matrix\"><thead><tr>");
                for c in &cells {
                    let _ = write!(out, "<th>{}</th>", esc(c));
                }
                out.push_str("</tr></thead><tbody>");
                in_table = true;
                continue;
            }
            out.push_str("<tr>");
            for c in &cells {
                let _ = write!(out, "<td>{}</td>", esc(c));
            }
            out.push_str("</tr>");
        } else {
            if in_table {
                out.push_str("</tbody></table>");
                in_table = false;
            }
            if !l.is_empty() && !l.starts_with('#') {
                let _ = write!(out, "<p class=\"muted\">{}</p>", esc(l));
            }
        }
    }
    if in_table {
        out.push_str("</tbody></table>");
    }
}

/// An event as events.jsonl writes it.
pub fn event_value(e: &LoggedEvent) -> Value {
    let mut obj = Map::new();
    obj.insert("time_ms".into(), time_ms_json(e.time));
    obj.insert("type".into(), Value::String(e.kind.to_string()));
    for (k, v) in &e.fields {
        obj.insert(k.clone(), v.clone());
    }
    Value::Object(obj)
}

/// What a run's page shows, with its charts read from `dir` (where they were just written).
pub fn run_view<'a>(w: &Run, summary: &'a Value, dir: &Path, heading: &str) -> anyhow::Result<RunView<'a>> {
    Ok(RunView {
        heading: heading.to_string(),
        summary,
        // Only the events the page shows are named: all of them name every partition of every
        // assignment (about 170 bytes per group-partition, twice over as JSON values).
        events: super::events::each_logged(w.plan, &w.rec.events)
            .take(MAX_EVENTS)
            .map(|e| {
                let mut v = event_value(&e);
                super::page_cut::cut_lists(&mut v);
                v
            })
            .collect(),
        event_count: w.rec.events.len(),
        charts: read_charts(dir, &[&CHARTS[..], &CLUSTER_CHARTS[..]].concat())?,
        story: super::narrate::story(w)
            .into_iter()
            .map(|line| super::page_cut::cut_text(line, "`kafkasim run --narrate`"))
            .collect(),
        expectations: super::expectations::evaluate(w.plan, summary),
    })
}

/// The seed given on the command line, if it differs from the file's.
pub fn overridden_seed(w: &Run) -> Option<u64> {
    (w.plan.seed != w.plan.file_seed).then_some(w.plan.seed)
}

/// Writes `dir/index.html` for a run whose other outputs are already in `dir`.
pub fn write_run(w: &Run, summary: &Value, dir: &Path) -> anyhow::Result<()> {
    let view = run_view(w, summary, dir, &w.plan.name)?;
    let html = run_page(&view, &w.plan.description, &w.plan.source, overridden_seed(w));
    let p = dir.join("index.html");
    std::fs::write(&p, html).map_err(|e| anyhow::anyhow!("writing {}: {e}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn svg_is_inlined_without_namespace_url_or_fixed_size() {
        let svg = "<svg width=\"1200\" height=\"600\" viewBox=\"0 0 1200 600\" xmlns=\"http://www.w3.org/2000/svg\">\n<rect/></svg>";
        let s = inline_svg(svg);
        assert!(s.starts_with("<svg viewBox=\"0 0 1200 600\" role=\"img\""), "{s}");
        assert!(!s.contains("http") && !s.contains("width=\"1200\""), "{s}");
        assert!(s.ends_with("<rect/></svg>"));
    }

    #[test]
    fn summary_renders_new_keys_generically() {
        let summary = json!({
            "scenario": "s", "seed": 1,
            "groups": {
                "g1": { "records_processed": 5, "latency_ms": {"p50": 1.5}, "backlog_records": {"final": 7, "max": 9},
                        "consumers": { "c1": {"state": "active", "partitions": ["t-0"], "records_processed": 3},
                                       "c2": {"state": "standby", "partitions": [], "records_processed": 0} } },
                "g2": { "records_processed": 8, "latency_ms": {"p50": 2.5} }
            }
        });
        let mut out = String::new();
        summary_tables(&mut out, &summary);
        for needle in ["backlog records.final", "latency ms.p50", "group g1: consumers", ">standby<", ">t-0<", ">g2<"] {
            assert!(out.contains(needle), "missing {needle} in {out}");
        }
        // The standby consumer's empty partition list reads "none", not "[]".
        assert!(out.contains("<td>none</td>"), "{out}");
    }

    #[test]
    fn event_data_cannot_close_its_script() {
        let v = json!([{"type": "x", "reason": "</script><script>alert(1)"}]);
        assert!(!script_json(&v).contains("</script"));
    }
}
