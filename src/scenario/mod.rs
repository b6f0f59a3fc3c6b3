//! Scenario files: the YAML schema (`raw`), its checks (`validate`) and the typed plan a run uses.

pub mod error;
pub mod expect;
pub mod plan;
pub mod raw;
pub mod units;
pub mod validate;

pub use error::{Location, ScenarioError};
pub use plan::Plan;

/// Parses and checks scenario text; `file` is only used to name the source in errors.
pub fn parse(file: &str, text: &str) -> Result<Plan, ScenarioError> {
    let raw: raw::RawScenario = serde_yaml::from_str(text).map_err(|e| ScenarioError::from_yaml(file, &e))?;
    let mut plan = validate::validate(file, raw)?;
    plan.source = text.to_string();
    Ok(plan)
}

/// Reads, parses and checks a scenario file.
pub fn load(path: &std::path::Path) -> Result<Plan, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: file.clone(),
        location: Location::File,
        message: format!("cannot read the scenario: {e}"),
    })?;
    parse(&file, &text)
}
