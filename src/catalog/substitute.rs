//! Backstage placeholder substitutions: an object `{ $text: ./file }`,
//! `{ $json: ./file }` or `{ $yaml: ./file }` anywhere in a descriptor is
//! replaced by that file's text or parsed content; `{ $openapi: ./file }` and
//! `{ $asyncapi: ./file }` by that API description with its `$ref`s to other
//! files bundled in, as YAML text (what Backstage's OpenAPI module does, see
//! [`bundle`](super::bundle)). Only files inside the catalog are read; remote
//! URLs are left alone with a warning (idp never fetches during a load).
//!
//! Any other `$key` alone in an object, and a placeholder whose argument is
//! not a string, is an error: Backstage leaves such an object in place, where
//! the entity schema usually rejects it (`/spec/definition must be string`).
//! JSON Schema's own `$` keywords (`{$ref: …}` in template parameters) are
//! not placeholders, for Backstage either.

use serde_json::Value;

use super::bundle;
use super::parse::{parse_file, MAX_FILE_BYTES};
use super::paths::resolve_relative;
use super::snapshot::Snapshot;

/// Bytes all the substitutions of one document may read together. Each
/// target is at most [`MAX_FILE_BYTES`], but a hostile descriptor can name the
/// same 10 MB file a thousand times: without a total that is 10 GB.
pub const MAX_SUBSTITUTED_BYTES: u64 = MAX_FILE_BYTES;

/// A substitution that could not be resolved.
#[derive(Debug, Clone)]
pub struct SubstitutionIssue {
    /// Stable code: `substitution` (a target that could not be used),
    /// `unknown-placeholder`, `invalid-placeholder` (not a string).
    pub code: &'static str,
    /// Dotted path of the placeholder in the document (of its `$key` for
    /// the placeholder codes).
    pub field: String,
    /// What went wrong.
    pub message: String,
    /// Whether it is only a warning (remote URL).
    pub warning: bool,
}

/// `$` keys of JSON Schema: an object holding one of them alone is a schema
/// (`{$ref: '#/definitions/x'}`), which Backstage leaves alone on purpose.
const JSON_SCHEMA_KEYWORDS: &[&str] = &[
    "$ref",
    "$schema",
    "$id",
    "$comment",
    "$defs",
    "$anchor",
    "$dynamicRef",
    "$dynamicAnchor",
    "$recursiveRef",
    "$recursiveAnchor",
    "$vocabulary",
];

/// Whether `value` is an object the substitution step reports on when it is
/// left in place (a placeholder, known or not): validation then says nothing
/// more about it.
pub fn is_placeholder(value: &Value) -> bool {
    value.as_object().is_some_and(|m| {
        m.len() == 1
            && m.keys()
                .all(|k| k.starts_with('$') && !JSON_SCHEMA_KEYWORDS.contains(&k.as_str()))
    })
}

/// Replaces placeholders in `value` in place. `file` is the descriptor's
/// catalog-relative path; targets are relative to its directory.
pub fn substitute(
    value: &mut Value,
    file: &str,
    snapshot: &dyn Snapshot,
) -> Vec<SubstitutionIssue> {
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut walk = Walk {
        file,
        kind: &kind,
        snapshot,
        path: Vec::new(),
        issues: Vec::new(),
        budget: MAX_SUBSTITUTED_BYTES,
    };
    walk.value(value);
    walk.issues
}

struct Walk<'a> {
    file: &'a str,
    /// The document's kind, lower case: which fields Backstage wants as strings.
    kind: &'a str,
    snapshot: &'a dyn Snapshot,
    /// Keys and indexes down to the current value.
    path: Vec<String>,
    issues: Vec<SubstitutionIssue>,
    /// Bytes the document's substitutions may still read.
    budget: u64,
}

impl Walk<'_> {
    fn value(&mut self, value: &mut Value) {
        if is_placeholder(value) {
            self.placeholder(value);
            return;
        }
        match value {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    self.path.push(key.clone());
                    self.value(child);
                    self.path.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    self.path.push(i.to_string());
                    self.value(child);
                    self.path.pop();
                }
            }
            _ => {}
        }
    }

    fn placeholder(&mut self, value: &mut Value) {
        let (key, argument) = value
            .as_object()
            .and_then(|m| m.iter().next())
            .expect("a placeholder has one entry");
        let key = key.clone();
        let Some(kind) = Kind::of(&key) else {
            let message = format!(
                "unknown placeholder {key}: idp and Backstage resolve $text, $json, $yaml, $openapi and $asyncapi; {}",
                self.verdict()
            );
            self.report("unknown-placeholder", Some(&key), message, false);
            return;
        };
        let Some(target) = argument.as_str() else {
            let message = format!(
                "placeholder {key} needs a string (a path relative to this file, or a URL), found {}; {}",
                describe(argument),
                self.verdict()
            );
            self.report("invalid-placeholder", Some(&key), message, false);
            return;
        };
        let target = target.to_string();
        match self.resolve(kind, &target) {
            Ok((new, warnings)) => {
                *value = new;
                for message in warnings {
                    self.report("substitution", None, message, true);
                }
            }
            Err((message, warning)) => self.report("substitution", None, message, warning),
        }
    }

    /// What Backstage makes of a placeholder it leaves in place.
    fn verdict(&self) -> String {
        let pointer: String = self
            .path
            .iter()
            .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
            .collect();
        if wants_string(self.kind, &self.path) {
            format!("Backstage rejects the entity: {pointer} must be string")
        } else {
            "Backstage leaves it unresolved".to_string()
        }
    }

    fn report(&mut self, code: &'static str, key: Option<&str>, message: String, warning: bool) {
        let mut field = dotted(&self.path);
        if let Some(key) = key {
            push_segment(&mut field, key);
        }
        self.issues.push(SubstitutionIssue {
            code,
            field,
            message,
            warning,
        });
    }

    fn resolve(
        &mut self,
        kind: Kind,
        target: &str,
    ) -> Result<(Value, Vec<String>), (String, bool)> {
        if target.contains("://") {
            return Err((
                format!("substitution of remote URL {target} is not resolved (idp reads only the catalog repository; it never fetches {target})"),
                true,
            ));
        }
        let path = resolve_relative(self.file, target).ok_or_else(|| {
            (
                format!("substitution target {target} is outside the catalog"),
                false,
            )
        })?;
        let bytes = read_target(self.snapshot, &path, &mut self.budget).map_err(|e| {
            let message = match e {
                ReadError::NotFound => {
                    format!("substitution target {target} not found (looked for {path})")
                }
                // Refused (outside the catalog via a symlink): say why, never what.
                ReadError::Refused(e) => format!("substitution target {target} is not read: {e}"),
                ReadError::TooLarge => format!(
                    "substitution target {path} is larger than {MAX_FILE_BYTES} bytes"
                ),
                ReadError::OverBudget => format!(
                    "substitution target {path} is not read: the substitutions of this document would read more than {MAX_SUBSTITUTED_BYTES} bytes in total; refused"
                ),
                ReadError::Io(e) => format!("cannot read substitution target {path}: {e}"),
            };
            (message, false)
        })?;
        let invalid = |what: &str, e: &dyn std::fmt::Display| {
            (
                format!("substitution target {path} is not valid {what}: {e}"),
                false,
            )
        };
        let value = match kind {
            Kind::Text => String::from_utf8(bytes).map(Value::String).map_err(|_| {
                (
                    format!("substitution target {path} is not UTF-8 text"),
                    false,
                )
            })?,
            Kind::Json => {
                let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
                serde_json::from_slice(bytes).map_err(|e| invalid("JSON", &e))?
            }
            Kind::Yaml => parse_file(&bytes)
                .map_err(|e| invalid("YAML", &e))?
                .into_iter()
                .next()
                .map(|d| d.value)
                .unwrap_or(Value::Null),
            Kind::ApiDescription(name) => {
                let bundled = bundle::bundle(self.snapshot, &path, &bytes, &mut self.budget)
                    .map_err(|e| {
                        (
                            format!("placeholder ${name} cannot bundle the file at {target}: {e}"),
                            false,
                        )
                    })?;
                let warnings = bundled
                    .warnings
                    .into_iter()
                    .map(|w| format!("placeholder ${name} at {target}: {w}"))
                    .collect();
                return Ok((Value::String(bundled.text), warnings));
            }
        };
        Ok((value, Vec::new()))
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Json,
    Yaml,
    /// `$openapi` or `$asyncapi` (named without the `$`): bundled, as text.
    ApiDescription(&'static str),
}

impl Kind {
    fn of(key: &str) -> Option<Kind> {
        match key {
            "$text" => Some(Kind::Text),
            "$json" => Some(Kind::Json),
            "$yaml" => Some(Kind::Yaml),
            "$openapi" => Some(Kind::ApiDescription("openapi")),
            "$asyncapi" => Some(Kind::ApiDescription("asyncapi")),
            _ => None,
        }
    }
}

/// Why a placeholder's (or a `$ref`'s) file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// No such file in the catalog.
    NotFound,
    /// Refused by the confinement rule (a symlink out of the catalog).
    Refused(std::io::Error),
    /// Over [`MAX_FILE_BYTES`].
    TooLarge,
    /// Over what the document's substitutions may still read.
    OverBudget,
    /// Found but unreadable.
    Io(std::io::Error),
}

/// Reads a catalog file for a substitution, charging `budget`.
pub fn read_target(
    snapshot: &dyn Snapshot,
    path: &str,
    budget: &mut u64,
) -> Result<Vec<u8>, ReadError> {
    let size = snapshot.stat(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ReadError::NotFound
        } else {
            ReadError::Refused(e)
        }
    })?;
    if size > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge);
    }
    if size > *budget {
        return Err(ReadError::OverBudget);
    }
    *budget -= size;
    snapshot.read(path).map_err(ReadError::Io)
}

/// Whether Backstage's entity schemas want a string at `path` of a `kind`
/// entity, so an unresolved placeholder there rejects the entity.
fn wants_string(kind: &str, path: &[String]) -> bool {
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    match path.as_slice() {
        ["apiVersion" | "kind"] => true,
        ["metadata", "name" | "namespace" | "title" | "description"] => true,
        ["metadata", "annotations" | "labels", _] | ["metadata", "tags", _] => true,
        ["spec", "definition"] => kind == "api",
        ["spec", "type" | "lifecycle" | "owner" | "system"] => {
            matches!(kind, "component" | "api" | "resource" | "system")
                && !(kind == "system" && matches!(path[1], "type" | "lifecycle" | "system"))
        }
        _ => false,
    }
}

/// What a JSON value is, in words ("a mapping"), for messages.
pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// `["metadata", "annotations", "a.b/c"]` → `metadata.annotations[a.b/c]`.
fn dotted(path: &[String]) -> String {
    let mut out = String::new();
    for segment in path {
        push_segment(&mut out, segment);
    }
    out
}

fn push_segment(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    if key.contains('.') {
        path.push('[');
        path.push_str(key);
        path.push(']');
    } else {
        path.push_str(key);
    }
}
