//! Backstage placeholder substitutions: an object `{ $text: ./file }`,
//! `{ $json: ./file }` or `{ $yaml: ./file }` anywhere in a descriptor is
//! replaced by that file's text or parsed content. Only files inside the
//! catalog are read; remote URLs are left alone with a warning (idp never
//! fetches during a load).

use serde_json::Value;

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
    /// Dotted path of the placeholder in the document.
    pub field: String,
    /// What went wrong.
    pub message: String,
    /// Whether it is only a warning (remote URL).
    pub warning: bool,
}

/// Replaces placeholders in `value` in place. `file` is the descriptor's
/// catalog-relative path; targets are relative to its directory.
pub fn substitute(
    value: &mut Value,
    file: &str,
    snapshot: &dyn Snapshot,
) -> Vec<SubstitutionIssue> {
    let mut issues = Vec::new();
    let mut budget = MAX_SUBSTITUTED_BYTES;
    walk(
        value,
        file,
        snapshot,
        &mut String::new(),
        &mut issues,
        &mut budget,
    );
    issues
}

fn walk(
    value: &mut Value,
    file: &str,
    snapshot: &dyn Snapshot,
    path: &mut String,
    issues: &mut Vec<SubstitutionIssue>,
    budget: &mut u64,
) {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                let (key, target) = map.iter().next().expect("one entry");
                if let (Some(kind), Some(target)) = (placeholder(key), target.as_str()) {
                    match resolve(kind, target, file, snapshot, budget) {
                        Ok(new) => *value = new,
                        Err((message, warning)) => issues.push(SubstitutionIssue {
                            field: path.clone(),
                            message,
                            warning,
                        }),
                    }
                    return;
                }
            }
            for (key, child) in map.iter_mut() {
                let len = path.len();
                push_segment(path, key);
                walk(child, file, snapshot, path, issues, budget);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                let len = path.len();
                push_segment(path, &i.to_string());
                walk(child, file, snapshot, path, issues, budget);
                path.truncate(len);
            }
        }
        _ => {}
    }
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

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Json,
    Yaml,
}

fn placeholder(key: &str) -> Option<Kind> {
    match key {
        "$text" => Some(Kind::Text),
        "$json" => Some(Kind::Json),
        "$yaml" => Some(Kind::Yaml),
        _ => None,
    }
}

fn resolve(
    kind: Kind,
    target: &str,
    file: &str,
    snapshot: &dyn Snapshot,
    budget: &mut u64,
) -> Result<Value, (String, bool)> {
    if target.contains("://") {
        return Err((
            format!("substitution of remote URL {target} is not resolved (idp reads only the catalog repository)"),
            true,
        ));
    }
    let path = resolve_relative(file, target).ok_or_else(|| {
        (
            format!("substitution target {target} is outside the catalog"),
            false,
        )
    })?;
    let size = snapshot.stat(&path).map_err(|e| {
        let message = if e.kind() == std::io::ErrorKind::NotFound {
            format!("substitution target {target} not found (looked for {path})")
        } else {
            // Refused (outside the catalog via a symlink): say why, never what.
            format!("substitution target {target} is not read: {e}")
        };
        (message, false)
    })?;
    if size > MAX_FILE_BYTES {
        return Err((
            format!("substitution target {path} is larger than {MAX_FILE_BYTES} bytes"),
            false,
        ));
    }
    if size > *budget {
        return Err((
            format!(
                "substitution target {path} is not read: the substitutions of this document would read more than {MAX_SUBSTITUTED_BYTES} bytes in total; refused"
            ),
            false,
        ));
    }
    *budget -= size;
    let bytes = snapshot.read(&path).map_err(|e| {
        (
            format!("cannot read substitution target {path}: {e}"),
            false,
        )
    })?;
    match kind {
        Kind::Text => String::from_utf8(bytes).map(Value::String).map_err(|_| {
            (
                format!("substitution target {path} is not UTF-8 text"),
                false,
            )
        }),
        Kind::Json => serde_json::from_slice(&bytes).map_err(|e| {
            (
                format!("substitution target {path} is not valid JSON: {e}"),
                false,
            )
        }),
        Kind::Yaml => {
            let docs = parse_file(&bytes).map_err(|e| {
                (
                    format!("substitution target {path} is not valid YAML: {e}"),
                    false,
                )
            })?;
            Ok(docs
                .into_iter()
                .next()
                .map(|d| d.value)
                .unwrap_or(Value::Null))
        }
    }
}
