//! Scenario errors: where the mistake is (file, then line:column or the field path) and what is
//! allowed. They are values, never panics, and map to exit status 2.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    /// A YAML syntax or type error, where the parser found it.
    LineColumn { line: usize, column: usize },
    /// A semantic error, at a field path such as `groups[0].consumers[2].name`.
    Field(String),
    /// The file as a whole (could not be read).
    File,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ScenarioError {
    pub file: String,
    pub location: Location,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::LineColumn { line, column } => {
                write!(f, "{}:{line}:{column}: {}", self.file, self.message)
            }
            Location::Field(path) => write!(f, "{}: {path}: {}", self.file, self.message),
            Location::File => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl ScenarioError {
    pub fn from_yaml(file: &str, e: &serde_yaml::Error) -> Self {
        // serde_yaml appends " at line L column C"; the location is reported separately.
        let text = e.to_string();
        let message = match text.rfind(" at line ") {
            Some(i) => text[..i].to_string(),
            None => text,
        };
        let location = match e.location() {
            Some(l) => Location::LineColumn { line: l.line(), column: l.column() },
            None => Location::File,
        };
        ScenarioError { file: file.to_string(), location, message }
    }

    pub fn field(file: &str, path: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError { file: file.to_string(), location: Location::Field(path.into()), message: message.into() }
    }
}
