//! The one YAML parser and emitter of idp.
//!
//! Parsing: [`load`] runs saphyr-parser (a maintained, pure-Rust YAML 1.2
//! event parser with spans) once over a text and builds, in that single pass,
//! each document's JSON value *and* a tree of the positions of its keys and
//! items ([`Tree`]). Everything that needs a line and column (problems of a
//! descriptor, errors of `idp.yaml`) reads it from that tree; nothing parses
//! a file a second time to find a position.
//!
//! Scalars resolve as serde_yaml 0.9 (the parser idp used before) resolved
//! them, since catalogs were written against that: the YAML 1.2 core schema
//! (`yes`/`no`/`on`/`off` stay strings, `0755` and `010` stay strings, `~` is
//! null, timestamps are strings), local tags (`!Ref x`) are dropped and their
//! value kept, merge keys (`<<`) are ordinary keys, duplicate keys are errors.
//!
//! Untrusted text: nesting depth, nodes and text are budgeted ([`Limits`])
//! while the tree is built, aliases counted as everything they name, so an
//! alias bomb stops at the alias that passes the budget. The parser never
//! recurses on our side; a panic inside the parser becomes an error.
//!
//! Emitting: [`to_string`] writes a value the way serde_yaml (libyaml) wrote
//! it, byte for byte, so `-o yaml` output did not change with the parser
//! ([`emit`] says why it is our own code).
//!
//! This module never prints and knows nothing of catalogs.

mod emit;
mod load;
mod resolve;

#[cfg(test)]
pub(crate) use load::measure;
pub use load::{load, At, Document, Entry, Item, Tree};

/// Budgets for one text.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most nodes (scalars, keys, sequences, mappings; an alias counted as
    /// everything it names).
    pub max_nodes: u64,
    /// Most bytes of scalar text, aliases expanded.
    pub max_bytes: u64,
    /// Deepest nesting of collections, aliases expanded.
    pub max_depth: usize,
}

impl Limits {
    /// The budgets of a catalog file, used for every other YAML text too.
    pub const DEFAULT: Limits = Limits {
        max_nodes: 1_000_000,
        max_bytes: 40 * 1024 * 1024,
        max_depth: 128,
    };
}

/// A 1-based line and column (in characters).
pub type Position = (usize, usize);

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text is not YAML, or a value does not fit its tag.
    Syntax(String),
    /// Nesting deeper than [`Limits::max_depth`].
    TooDeep,
    /// More than [`Limits::max_nodes`] nodes.
    TooManyNodes,
    /// More than [`Limits::max_bytes`] of text.
    TooMuchText,
}

/// Why a text could not be loaded, and where (1-based line and column; 0
/// when unknown, for a value that does not fit the type asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())?;
        if self.line > 0 {
            write!(f, " at line {} column {}", self.line, self.column)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl Error {
    fn syntax(message: impl Into<String>, (line, column): Position) -> Error {
        Error {
            kind: ErrorKind::Syntax(message.into()),
            line,
            column,
        }
    }

    /// The message, without position.
    pub fn message(&self) -> String {
        match &self.kind {
            ErrorKind::Syntax(m) => m.clone(),
            ErrorKind::TooDeep => "nesting too deep".into(),
            ErrorKind::TooManyNodes => "too many nodes".into(),
            ErrorKind::TooMuchText => "too much text".into(),
        }
    }
}

/// The first document of `text` as a `T` (an empty text is null), like
/// `serde_yaml::from_str`; more than one document is an error.
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    let value = single(text)?;
    serde_json::from_value(value).map_err(|e| Error::syntax(e.to_string(), (0, 0)))
}

/// The only document of `text` as a JSON value (null when there is none).
pub fn single(text: &str) -> Result<serde_json::Value, Error> {
    let mut docs = load(text, &Limits::DEFAULT, false)?;
    if docs.len() > 1 {
        let (line, column) = docs[1].root.unwrap_or((1, 1));
        return Err(Error::syntax(
            "deserializing from YAML containing more than one document is not supported",
            (line, column),
        ));
    }
    Ok(docs.pop().map(|d| d.value).unwrap_or_default())
}

/// Every document of `text` as JSON values.
pub fn all(text: &str) -> Result<Vec<serde_json::Value>, Error> {
    Ok(load(text, &Limits::DEFAULT, false)?
        .into_iter()
        .map(|d| d.value)
        .collect())
}

/// `value` as YAML text, byte for byte as serde_yaml 0.9 wrote it.
pub fn to_string<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let value = serde_json::to_value(value)?;
    Ok(emit::emit(&value))
}
