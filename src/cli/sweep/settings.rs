//! `--set PATH=V1,V2`: a scenario field by its path, and the values a sweep tries. A path walks the
//! scenario's YAML: map keys by name, list entries by their `name` or `id` (`groups.billing`,
//! `producers.web.rate`, `groups.billing.consumers.b1.processing`) or by index; the last key may
//! be a field the file leaves out (it is added). Each combination is validated like the file.

use serde_yaml::{Mapping, Value};

/// One swept field and its values, as given on the command line.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub path: String,
    pub values: Vec<String>,
}

/// Parses `PATH=V1,V2,...`.
pub fn parse_set(arg: &str) -> Result<Setting, String> {
    let (path, values) = arg
        .split_once('=')
        .ok_or_else(|| format!("--set `{arg}`: expected PATH=VALUE[,VALUE...], e.g. groups.billing.consumers=1,2,4"))?;
    let path = path.trim();
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(format!(
            "--set `{arg}`: `{path}` is not a field path (dot-separated names, e.g. groups.billing.protocol)"
        ));
    }
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if values.iter().any(String::is_empty) {
        return Err(format!("--set `{arg}`: an empty value; separate values with commas"));
    }
    Ok(Setting { path: path.to_string(), values })
}

/// Sets `path` to `value` (YAML text: `4`, `eager`, `5s`, `{exponential: 1ms}`) in a scenario.
pub fn apply(doc: &mut Value, path: &str, value: &str) -> Result<(), String> {
    let parsed: Value = serde_yaml::from_str(value).map_err(|e| format!("value `{value}` for {path}: {e}"))?;
    let segs: Vec<&str> = path.split('.').collect();
    let mut at = doc;
    let mut walked = String::new();
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        let here = if walked.is_empty() { "the scenario".to_string() } else { format!("`{walked}`") };
        at = match at {
            Value::Mapping(m) => {
                let key = Value::String(seg.to_string());
                if last {
                    m.insert(key, parsed);
                    return Ok(());
                }
                if !m.contains_key(&key) {
                    return Err(format!("{path}: {here} has no `{seg}`; it has: {}", keys(m)));
                }
                m.get_mut(&key).expect("checked")
            }
            Value::Sequence(items) => {
                let names: Vec<String> = items.iter().filter_map(entry_name).collect();
                let idx = items
                    .iter()
                    .position(|it| entry_name(it).as_deref() == Some(*seg))
                    .or_else(|| seg.parse::<usize>().ok().filter(|&k| k < items.len()));
                let Some(k) = idx else {
                    return Err(format!("{path}: {here} has no entry `{seg}`; entries: {}", names.join(", ")));
                };
                if last {
                    items[k] = parsed;
                    return Ok(());
                }
                &mut items[k]
            }
            Value::Number(n) if walked.ends_with("consumers") => {
                return Err(format!(
                    "{path}: `{walked}` is a count ({n}); name consumers in the scenario to set one of them"
                ));
            }
            _ => return Err(format!("{path}: {here} is a single value, not a map or a list")),
        };
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(seg);
    }
    Ok(())
}

fn entry_name(v: &Value) -> Option<String> {
    let m = v.as_mapping()?;
    ["id", "name"].iter().find_map(|k| m.get(Value::String(k.to_string()))?.as_str().map(String::from))
}

fn keys(m: &Mapping) -> String {
    let k: Vec<&str> = m.keys().filter_map(Value::as_str).collect();
    if k.is_empty() { "nothing".into() } else { k.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "name: s\ngroups:\n  - id: billing\n    consumers: 2\n  - id: audit\n    consumers: [{name: a1}]\nproducers: [{name: web, rate: 10/s}]\n";

    #[test]
    fn sets_by_entry_name_and_adds_missing_fields() {
        let mut d: Value = serde_yaml::from_str(DOC).unwrap();
        apply(&mut d, "groups.billing.consumers", "8").unwrap();
        apply(&mut d, "groups.billing.protocol", "cooperative").unwrap();
        apply(&mut d, "producers.web.rate", "20/s").unwrap();
        apply(&mut d, "groups.audit.consumers.a1.processing", "{exponential: 1ms}").unwrap();
        let text = serde_yaml::to_string(&d).unwrap();
        assert!(
            text.contains("consumers: 8") && text.contains("protocol: cooperative") && text.contains("rate: 20/s"),
            "{text}"
        );
        assert!(text.contains("exponential: 1ms"), "{text}");
    }

    #[test]
    fn mistakes_say_what_exists() {
        let mut d: Value = serde_yaml::from_str(DOC).unwrap();
        let e = apply(&mut d, "groups.biling.consumers", "2").unwrap_err();
        assert!(e.contains("no entry `biling`") && e.contains("billing, audit"), "{e}");
        let e = apply(&mut d, "groups.billing.consumers.b1.processing", "1ms").unwrap_err();
        assert!(e.contains("is a count"), "{e}");
        assert!(parse_set("groups.billing.consumers").is_err());
        assert!(parse_set("a..b=1").is_err());
        assert_eq!(parse_set("seed=1, 2").unwrap().values, vec!["1", "2"]);
    }
}
