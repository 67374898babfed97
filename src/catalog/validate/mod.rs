//! `idp validate`: every rule Backstage's catalog-model enforces on one
//! descriptor, the reference formats its catalog enforces when building
//! relations, and catalog-wide checks (an entity defined twice, references to
//! entities that do not exist). All problems are collected in one run, each
//! located at file:line:column with the source line for a caret.
//!
//! Documents a floor above owns (scorecards) are checked by that floor
//! through the `more` hook of [`validate`]; `crate::check` wires it, so this
//! module never imports `score`.

mod catalog_wide;
mod entity;
pub mod reuse;
mod rules;
mod spec;

pub use entity::check_document;
pub use reuse::Reuse;
pub use rules::{is_valid_entity_name, is_valid_tag};

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;
use serde::Serialize;

use super::config::CustomKind;
use super::locate::Locator;
use super::model::{Entity, Source};
use super::problem::{Problem, Severity};
use super::Catalog;

/// A rule violation within one document, before it gets a file position.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Stable code.
    pub code: &'static str,
    /// Message.
    pub message: String,
    /// Dotted field path (`spec.owner`; `""` for the document).
    pub field: String,
}

impl Finding {
    /// An error finding.
    pub fn error(code: &'static str, message: impl Into<String>, field: &str) -> Self {
        Finding {
            severity: Severity::Error,
            code,
            message: message.into(),
            field: field.to_string(),
        }
    }

    /// A warning finding.
    pub fn warning(code: &'static str, message: impl Into<String>, field: &str) -> Self {
        Finding {
            severity: Severity::Warning,
            code,
            message: message.into(),
            field: field.to_string(),
        }
    }

    fn into_problem(self, source: &Source, entity: Option<String>) -> Problem {
        let mut p = Problem::new(
            self.severity,
            self.code,
            self.message,
            &source.file,
            source.line,
            1,
        )
        .at_field(source.document, self.field);
        p.entity = entity;
        p
    }
}

/// The outcome of a validation.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Errors (validate exits 1 when there are any).
    pub errors: Vec<Problem>,
    /// Warnings.
    pub warnings: Vec<Problem>,
}

impl Report {
    fn push(&mut self, p: Problem) {
        match p.severity {
            Severity::Error => self.errors.push(p),
            Severity::Warning => self.warnings.push(p),
        }
    }
}

/// What to validate.
pub struct Scope<'a> {
    /// Only problems in these files (catalog-relative); `None` for all.
    pub files: Option<&'a HashSet<String>>,
    /// Check references against the catalog (off when validating loose files
    /// with no catalog around them).
    pub check_references: bool,
    /// The run's date: scorecard exemptions before it have expired.
    pub today: chrono::NaiveDate,
}

/// Validates a freshly loaded catalog. `read` returns a file's text by
/// catalog-relative path, to locate problems and show source lines; `more`
/// adds the findings of the floors above for an entity they own (see
/// `crate::check::catalog`, which every command uses).
pub fn validate(
    catalog: &Catalog,
    scope: &Scope,
    read: &dyn Fn(&str) -> Option<String>,
    more: &More,
) -> Report {
    validate_reusing(catalog, scope, read, more, None)
}

/// The findings the floors above add for an entity (scorecards, cost
/// selectors); called from several threads at once.
pub type More<'a> = dyn Fn(&Entity) -> Vec<Finding> + Sync + 'a;

/// What one entity's own checks found, worked out on every core before the
/// report is put together in catalog order.
struct EntityWork {
    /// The document checks' findings, kept in the index or found now.
    document: Vec<Finding>,
    /// Found now (to record in the index).
    fresh: bool,
    extra: Vec<Finding>,
    /// `None`: kept in the index.
    refs: Option<Vec<reuse::StoredRef>>,
}

/// [`validate`], taking each unchanged file's document findings and
/// problem positions from `reuse` and recording the others in it. The
/// report is the same as without it.
pub fn validate_reusing(
    catalog: &Catalog,
    scope: &Scope,
    read: &dyn Fn(&str) -> Option<String>,
    more: &More,
    mut reuse: Option<&mut Reuse>,
) -> Report {
    let in_scope = |file: &str| scope.files.is_none_or(|set| set.contains(file));
    let custom = &catalog.config.custom_kinds;
    let schemas = custom_schemas(custom, read);
    let mut report = Report::default();
    for p in catalog.problems.iter().filter(|p| in_scope(&p.file)) {
        report.push(p.clone());
    }
    // The per-entity checks are independent of each other: on every core.
    let work: Vec<Option<EntityWork>> = {
        let kept = reuse.as_deref();
        catalog
            .entities
            .par_iter()
            .map(|entity| {
                if !in_scope(&entity.source.file) {
                    return None;
                }
                let source = &entity.source;
                let (document, fresh) = match kept.and_then(|r| r.findings(source)) {
                    Some(found) => (found, false),
                    None => (check_document(entity.doc(), custom), true),
                };
                let mut extra = Vec::new();
                if let Some(validator) = schemas.get(&entity.kind.to_ascii_lowercase()) {
                    extra.extend(schema_findings(validator, entity.doc()));
                }
                extra.extend(more(entity));
                let refs = (scope.check_references && kept.is_none_or(|r| !r.has_refs(source)))
                    .then(|| reuse::entity_refs(entity));
                Some(EntityWork {
                    document,
                    fresh,
                    extra,
                    refs,
                })
            })
            .collect()
    };
    let mut written_refs: Vec<Option<Vec<reuse::StoredRef>>> = Vec::with_capacity(work.len());
    for (entity, work) in catalog.entities.iter().zip(work) {
        let Some(work) = work else {
            written_refs.push(None);
            continue;
        };
        if work.fresh {
            if let Some(r) = reuse.as_mut() {
                r.record_findings(&entity.source, &work.document);
            }
        }
        written_refs.push(work.refs);
        if work.document.is_empty() && work.extra.is_empty() {
            continue;
        }
        let r = entity.entity_ref().to_string();
        for f in work.document.into_iter().chain(work.extra) {
            report.push(f.into_problem(&entity.source, Some(r.clone())));
        }
    }
    // Rejected documents (no usable identity): checked here, in order.
    let mut document_findings = |doc: &serde_json::Value, source: &Source| {
        if let Some(found) = reuse.as_ref().and_then(|r| r.findings(source)) {
            return found;
        }
        let found = check_document(doc, custom);
        if let Some(r) = reuse.as_mut() {
            r.record_findings(source, &found);
        }
        found
    };
    for raw in catalog.rejected.iter().filter(|d| in_scope(&d.source.file)) {
        for f in document_findings(&raw.value, &raw.source) {
            report.push(f.into_problem(&raw.source, None));
        }
    }
    for p in catalog_wide::duplicates(catalog) {
        if in_scope(&p.file) {
            report.push(p);
        }
    }
    if scope.check_references {
        // Called once per entity in catalog order; one called out of that
        // order works its references out again.
        let mut next = catalog.entities.iter().zip(written_refs);
        let mut refs = |e: &Entity, each: &mut dyn FnMut(&reuse::StoredRef)| {
            let computed = match next.next() {
                Some((owner, refs)) if std::ptr::eq(owner, e) => refs,
                _ => None,
            };
            match reuse.as_mut() {
                Some(r) => r.refs(e, computed, each),
                None => computed
                    .unwrap_or_else(|| reuse::entity_refs(e))
                    .iter()
                    .for_each(each),
            }
        };
        for p in catalog_wide::dangling_references(catalog, &mut refs) {
            if in_scope(&p.file) {
                report.push(p);
            }
        }
    }
    locate_all(
        &mut report.errors,
        read,
        &catalog.positions,
        reuse.as_deref_mut(),
    );
    locate_all(&mut report.warnings, read, &catalog.positions, reuse);
    report
}

/// Declared custom kinds with a JSON Schema, compiled; an unreadable or
/// invalid schema becomes a problem on the first entity of that kind.
fn custom_schemas(
    custom: &[CustomKind],
    read: &dyn Fn(&str) -> Option<String>,
) -> HashMap<String, Result<jsonschema::Validator, String>> {
    let mut out = HashMap::new();
    for kind in custom {
        let Some(path) = &kind.schema else { continue };
        let compiled = read(path)
            .ok_or_else(|| format!("schema {path} for kind {} not found", kind.kind))
            .and_then(|text| {
                let value: serde_json::Value = if path.ends_with(".json") {
                    serde_json::from_str(&text).map_err(|e| format!("schema {path}: {e}"))?
                } else {
                    super::parse::parse_str(&text)
                        .map_err(|e| format!("schema {path}: {e}"))?
                        .into_iter()
                        .next()
                        .map(|d| d.value)
                        .unwrap_or_default()
                };
                jsonschema::validator_for(&value)
                    .map_err(|e| format!("schema {path} is not a valid JSON Schema: {e}"))
            });
        out.insert(kind.kind.to_ascii_lowercase(), compiled);
    }
    out
}

fn schema_findings(
    validator: &Result<jsonschema::Validator, String>,
    doc: &serde_json::Value,
) -> Vec<Finding> {
    match validator {
        Err(message) => vec![Finding::error("invalid-schema", message.clone(), "kind")],
        Ok(v) => v
            .iter_errors(doc)
            .map(|e| {
                let pointer = e.instance_path.to_string();
                let field = pointer_to_field(&pointer);
                let at = if field.is_empty() {
                    String::new()
                } else {
                    format!("\"{field}\": ")
                };
                Finding::error("schema-violation", format!("{at}{e}"), &field)
            })
            .collect(),
    }
}

/// `/spec/steps/0` → `spec.steps.0` (dotted keys bracketed).
fn pointer_to_field(pointer: &str) -> String {
    pointer
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| entity::escape(&s.replace("~1", "/").replace("~0", "~")))
        .collect::<Vec<_>>()
        .join(".")
}

/// Fills line, column and source line of each problem that has a field path.
/// Positions come from the parse that loaded the file (`positions`), or
/// from what `reuse` kept for an unchanged file; a file whose entities came
/// from the index and whose positions were not kept is parsed once for all
/// of its problems' paths (and the places found are recorded in `reuse`).
/// Each file with problems is read once, for its lines.
fn locate_all(
    problems: &mut [Problem],
    read: &dyn Fn(&str) -> Option<String>,
    positions: &HashMap<String, Locator>,
    mut reuse: Option<&mut Reuse>,
) {
    let mut by_file: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut placed = vec![false; problems.len()];
    if let Some(r) = reuse.as_deref() {
        for (i, p) in problems.iter_mut().enumerate() {
            if p.code != "file-too-large" {
                let at_key = at_key(p);
                placed[i] = r.place(p, at_key);
            }
        }
    }
    for (i, p) in problems.iter().enumerate() {
        if p.code != "file-too-large" && !placed[i] {
            by_file.entry(p.file.as_str()).or_default().push(i);
        }
    }
    let mut files: Vec<(String, Vec<usize>)> = by_file
        .into_iter()
        .map(|(file, list)| (file.to_string(), list))
        .collect();
    files.sort();
    for (file, list) in files {
        let Some(text) = read(&file) else {
            continue;
        };
        // Lines and columns count from after a byte-order mark.
        let text = super::parse::strip_bom(&text);
        let wants_position = list.iter().any(|&i| problems[i].field.is_some());
        let parsed;
        let locator = match positions.get(&file) {
            Some(locator) => locator,
            None if wants_position => {
                parsed = Locator::new(text);
                &parsed
            }
            None => {
                parsed = Locator::default();
                &parsed
            }
        };
        let lines: Vec<&str> = text.lines().collect();
        for i in list {
            let p = &mut problems[i];
            let before = reuse.is_some().then(|| p.clone());
            let at_key = at_key(p);
            if let Some(field) = &p.field {
                // A wrong value is pointed at; a wrong key, or a missing
                // field's parent, at the key.
                let found = if at_key {
                    locator.key(p.document, field)
                } else {
                    locator.value(p.document, field)
                };
                if let Some((line, column)) = found {
                    p.line = line;
                    p.column = column;
                }
            }
            p.snippet = lines
                .get(p.line.saturating_sub(1))
                .map(|line| line.to_string());
            if let (Some(r), Some(before)) = (reuse.as_deref_mut(), before) {
                r.record_place(&before, p, at_key);
            }
        }
    }
    problems.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code))
    });
}

/// Whether a problem points at its field's key rather than its value: a
/// wrong key, or a missing field's parent.
fn at_key(p: &Problem) -> bool {
    p.code.starts_with("missing-")
        || p.code.ends_with("-key")
        || p.code == "unknown-root-field"
        || p.code == "unknown-placeholder"
}
