//! Scenario files: the YAML schema (`raw`), its checks (`validate`) and the typed plan a run uses.

pub mod cluster;
pub mod error;
pub mod expect;
pub mod guard;
pub mod plan;
pub mod raw;
pub mod share;
pub mod units;
pub mod validate;

pub use error::{Location, ScenarioError};
pub use plan::Plan;

/// Parses and checks scenario text; `file` is only used to name the source in errors.
pub fn parse(file: &str, text: &str) -> Result<Plan, ScenarioError> {
    let text = guard::strip_bom(text);
    let scan = guard::check(file, text)?;
    let raw: raw::RawScenario = serde_yaml::from_str(text).map_err(|e| {
        let mut err = ScenarioError::from_yaml(file, &e);
        // Some parser errors carry no position: point at what caused them.
        if err.location == Location::File {
            let msg = err.message.to_lowercase();
            let place = if msg.contains("more than one document") || msg.contains("multiple documents") {
                err.message =
                    "a scenario file holds one YAML document; remove the second `---` and what follows".to_string();
                scan.second_document
            } else if msg.contains("alias") || msg.contains("repetition limit") || msg.contains("recursion") {
                err.message.push_str(" (YAML aliases here expand to too much; write the values out instead)");
                scan.first_alias
            } else {
                None
            };
            if let Some((line, column)) = place {
                err.location = Location::LineColumn { line, column };
            }
        }
        err
    })?;
    let mut plan = validate::validate(file, raw)?;
    plan.source = text.to_string();
    Ok(plan)
}

/// Reads, parses and checks a scenario file.
pub fn load(path: &std::path::Path) -> Result<Plan, ScenarioError> {
    let file = path.display().to_string();
    let unreadable = |message: String| ScenarioError { file: file.clone(), location: Location::File, message };
    // Refuse a huge file before reading it into memory.
    if let Ok(meta) = std::fs::metadata(path)
        && meta.is_file()
        && meta.len() > guard::MAX_BYTES as u64
    {
        return Err(unreadable(format!(
            "the file is {} bytes; a scenario file may be at most {} bytes (1 MiB)",
            meta.len(),
            guard::MAX_BYTES
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(format!("cannot read the scenario: {e}")))?;
    parse(&file, &text)
}
