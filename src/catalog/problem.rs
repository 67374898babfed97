//! A problem found in the catalog: where (file, line, column, entity), a stable
//! code scripts can match on, and a message. Loading and validation both
//! produce them; renderers in `output` show them.

use serde::{Deserialize, Serialize};

/// Error or warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Makes `validate` exit 1.
    Error,
    /// Reported, does not fail.
    Warning,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Error or warning.
    #[serde(skip)]
    pub severity: Severity,
    /// Stable identifier (`invalid-name`, `dangling-reference`, …).
    pub code: &'static str,
    /// Human explanation.
    pub message: String,
    /// File relative to the catalog root (or as given on the command line).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Full reference of the entity concerned, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// Dotted field path within the document, used to find the line and column.
    #[serde(skip)]
    pub field: Option<String>,
    /// Index of the YAML document in the file.
    #[serde(skip)]
    pub document: usize,
    /// The source line, for showing with a caret.
    #[serde(skip)]
    pub snippet: Option<String>,
}

impl Problem {
    /// A problem anchored at a file position.
    pub fn new(
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
        file: &str,
        line: usize,
        column: usize,
    ) -> Self {
        Problem {
            severity,
            code,
            message: message.into(),
            file: file.to_string(),
            line,
            column,
            entity: None,
            field: None,
            document: 0,
            snippet: None,
        }
    }

    /// Attaches the entity reference.
    pub fn with_entity(mut self, entity: impl Into<String>) -> Self {
        self.entity = Some(entity.into());
        self
    }

    /// Attaches the field path the problem is about (located later).
    pub fn at_field(mut self, document: usize, field: impl Into<String>) -> Self {
        self.document = document;
        self.field = Some(field.into());
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
