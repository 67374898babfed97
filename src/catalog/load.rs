//! Turns a snapshot into entities: selects descriptor files by the catalog's
//! globs, parses them in parallel, resolves substitutions, follows Location
//! entities, and records every problem met on the way. It never fails on bad
//! descriptors (they become problems); only an unreadable `idp.yaml` stops it.

use std::collections::{HashMap, HashSet, VecDeque};

use globset::{GlobSet, GlobSetBuilder};
use rayon::prelude::*;
use serde_json::Value;

use super::config::{CatalogConfig, CATALOG_CONFIG_FILE};
use super::error::CatalogError;
use super::locate::Locator;
use super::model::{Entity, Source};
use super::parse::{parse_file_with, MAX_FILE_BYTES};
use super::paths::resolve_relative;
use super::problem::{Problem, Severity};
use super::snapshot::Snapshot;
use super::substitute::substitute;

/// A descriptor document that could not become an entity (no kind or name);
/// kept so validation can explain what is wrong with it.
#[derive(Debug, Clone)]
pub struct RawDocument {
    /// Where it is.
    pub source: Source,
    /// Its content.
    pub value: Value,
}

/// Everything a load produced.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Entities in file order.
    pub entities: Vec<Entity>,
    /// Descriptor documents without a usable identity.
    pub rejected: Vec<RawDocument>,
    /// Problems met while reading (parse errors, missing targets, …).
    pub problems: Vec<Problem>,
    /// How many files were read.
    pub files: usize,
    /// Where the keys and items of each file read are (catalog-relative
    /// path), from the parse that gave the values.
    pub positions: HashMap<String, Locator>,
}

/// Reads `idp.yaml` from the snapshot (defaults when absent).
pub fn read_config(snapshot: &dyn Snapshot, label: &str) -> Result<CatalogConfig, CatalogError> {
    let file = std::path::Path::new(label).join(CATALOG_CONFIG_FILE);
    match snapshot.stat(CATALOG_CONFIG_FILE) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(CatalogConfig::default());
        }
        // A symlink out of the catalog: refused, and its target never echoed.
        Err(e) => return Err(CatalogError::io(&file, e)),
    }
    let bytes = snapshot
        .read(CATALOG_CONFIG_FILE)
        .map_err(|e| CatalogError::io(&file, e))?;
    let text = String::from_utf8(bytes).map_err(|_| CatalogError::Config {
        file: file.clone(),
        line: 1,
        column: 1,
        message: "not valid UTF-8".into(),
    })?;
    CatalogConfig::parse(&text, &file)
}

/// Loads every descriptor the configuration selects, plus `extra` files
/// (named on the command line even if the globs leave them out), plus
/// Location targets.
pub fn load(
    snapshot: &dyn Snapshot,
    config: &CatalogConfig,
    extra: &[String],
) -> Result<Loaded, CatalogError> {
    load_with(snapshot, config, extra, true)
}

/// [`load`]; without `positions` no file's position tree is kept (a
/// command that never locates a problem: `validate` parses a file again
/// for the positions it lacks).
pub fn load_with(
    snapshot: &dyn Snapshot,
    config: &CatalogConfig,
    extra: &[String],
    positions: bool,
) -> Result<Loaded, CatalogError> {
    let selector = Selector::new(config)?;
    let mut selected: Vec<&str> = snapshot
        .files()
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| *p != CATALOG_CONFIG_FILE && selector.matches(p))
        .collect();
    let walked = selected.len();
    for e in extra {
        if !selected.contains(&e.as_str()) {
            selected.push(e);
        }
    }
    let named: HashSet<&str> = selected[walked..].iter().copied().collect();
    Ok(load_files_with(
        snapshot,
        &selected,
        &|p| named.contains(p),
        positions,
    ))
}

/// Loads the files of `paths` that the catalog reads: those its
/// include/exclude globs select, and those `also` names (files a Location
/// led to). No position trees are kept. For rebuilding a few changed files
/// of a catalog ([`super::overlay`]).
pub fn load_changed(
    snapshot: &dyn Snapshot,
    config: &CatalogConfig,
    paths: &[&str],
    also: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Loaded, CatalogError> {
    let selector = Selector::new(config)?;
    let selected: Vec<&str> = paths
        .iter()
        .copied()
        .filter(|p| *p != CATALOG_CONFIG_FILE && (selector.matches(p) || also(p)))
        .collect();
    Ok(load_files_with(snapshot, &selected, also, false))
}

/// Loads exactly these files, plus Location targets. Every one of them was
/// named, so a file of documents that are not descriptors is reported.
pub fn load_selected(snapshot: &dyn Snapshot, selected: &[&str]) -> Loaded {
    load_files(snapshot, selected, &|_| true)
}

/// Loads `selected`, plus Location targets. A file that is `named` (or a
/// Location's target) and holds documents that are not descriptors is
/// reported, as Backstage rejects it; one found by walking the repository
/// is other YAML (an OpenAPI file, CI configuration) and is skipped.
pub fn load_files(
    snapshot: &dyn Snapshot,
    selected: &[&str],
    named: &(dyn Fn(&str) -> bool + Sync),
) -> Loaded {
    load_files_with(snapshot, selected, named, true)
}

fn load_files_with(
    snapshot: &dyn Snapshot,
    selected: &[&str],
    named: &(dyn Fn(&str) -> bool + Sync),
    positions: bool,
) -> Loaded {
    let mut seen: HashSet<String> = selected.iter().map(|s| s.to_string()).collect();

    let results: Vec<FileResult> = selected
        .par_iter()
        .map(|path| read_file(snapshot, path, positions))
        .collect();
    let mut loaded = Loaded::default();
    let mut locations = VecDeque::new();
    // Walked files with foreign documents, reported if a Location targets them.
    let mut skipped: HashMap<String, Vec<Foreign>> = HashMap::new();
    for (path, mut result) in selected.iter().zip(results) {
        if named(path) {
            result.report_foreign("this file was named as a descriptor file");
        } else if !result.foreign.is_empty() {
            skipped.insert(path.to_string(), std::mem::take(&mut result.foreign));
        }
        absorb(result, &mut loaded, &mut locations);
    }

    // Follow Location entities until no new file turns up.
    while let Some(index) = locations.pop_front() {
        let location = loaded.entities[index].entity_ref().to_string();
        let why = format!("{location} targets this file");
        for target in location_targets(&loaded.entities[index], snapshot, &mut loaded.problems) {
            if seen.insert(target.clone()) {
                let mut result = read_file(snapshot, &target, positions);
                result.report_foreign(&why);
                absorb(result, &mut loaded, &mut locations);
            } else if let Some(foreign) = skipped.remove(&target) {
                let mut result = FileResult {
                    path: target,
                    foreign,
                    ..FileResult::default()
                };
                result.report_foreign(&why);
                loaded.problems.append(&mut result.problems);
            }
        }
    }
    loaded
}

fn absorb(result: FileResult, loaded: &mut Loaded, locations: &mut VecDeque<usize>) {
    loaded.files += 1;
    loaded.problems.extend(result.problems);
    if let Some(locator) = result.locator {
        loaded.positions.insert(result.path, locator);
    }
    for doc in result.documents {
        match Entity::from_document(doc.value, doc.source) {
            Ok(entity) => {
                if entity.kind.eq_ignore_ascii_case("location") {
                    locations.push_back(loaded.entities.len());
                }
                loaded.entities.push(entity);
            }
            Err((value, source)) => loaded.rejected.push(RawDocument { source, value }),
        }
    }
}

/// Include/exclude globs of `idp.yaml`.
struct Selector {
    include: GlobSet,
    exclude: GlobSet,
}

/// The include globs in force: `idp.yaml`'s, or every `*.yaml`/`*.yml`.
pub fn include_globs(config: &CatalogConfig) -> Vec<String> {
    config
        .include
        .clone()
        .unwrap_or_else(|| vec!["**/*.yaml".to_string(), "**/*.yml".to_string()])
}

impl Selector {
    fn new(config: &CatalogConfig) -> Result<Self, CatalogError> {
        Ok(Selector {
            include: glob_set(&include_globs(config))?,
            exclude: glob_set(&config.exclude)?,
        })
    }

    fn matches(&self, path: &str) -> bool {
        self.include.is_match(path) && !self.exclude.is_match(path)
    }
}

/// Builds a glob set where `*` stays within one directory and `**` crosses them.
pub fn glob_set(patterns: &[String]) -> Result<GlobSet, CatalogError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let trimmed = pattern.trim_start_matches("./");
        let glob = globset::GlobBuilder::new(trimmed)
            .literal_separator(true)
            .build()
            .map_err(|e| CatalogError::Config {
                file: CATALOG_CONFIG_FILE.into(),
                line: 0,
                column: 0,
                message: format!("invalid glob '{pattern}': {e}"),
            })?;
        builder.add(glob);
    }
    builder.build().map_err(|e| CatalogError::Config {
        file: CATALOG_CONFIG_FILE.into(),
        line: 0,
        column: 0,
        message: e.to_string(),
    })
}

#[derive(Default)]
struct FileResult {
    path: String,
    documents: Vec<RawDocument>,
    problems: Vec<Problem>,
    /// Documents that are not descriptors.
    foreign: Vec<Foreign>,
    /// Where the file's keys and items are.
    locator: Option<Locator>,
}

/// A document of a YAML file that is not a descriptor.
struct Foreign {
    document: usize,
    line: usize,
    /// Why not, for the message.
    why: String,
}

impl FileResult {
    /// Turns the foreign documents into errors: the file was meant to hold
    /// descriptors (`because` says who meant it).
    fn report_foreign(&mut self, because: &str) {
        for f in self.foreign.drain(..) {
            self.problems.push(
                Problem::new(
                    Severity::Error,
                    "not-a-descriptor",
                    format!(
                        "document {} is not a catalog entity ({}), but {because}; Backstage rejects such a document",
                        f.document + 1,
                        f.why
                    ),
                    &self.path,
                    f.line,
                    1,
                )
                .at_field(f.document, ""),
            );
        }
    }
}

/// Reads and parses one file; every failure becomes a problem.
fn read_file(snapshot: &dyn Snapshot, path: &str, positions: bool) -> FileResult {
    let mut result = FileResult {
        path: path.to_string(),
        ..FileResult::default()
    };
    let error = |code, message: String, line, column| {
        Problem::new(Severity::Error, code, message, path, line, column)
    };
    let size = snapshot.size(path).unwrap_or(0);
    if size > MAX_FILE_BYTES {
        result.problems.push(error(
            "file-too-large",
            format!("file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit for descriptor files; not read"),
            1,
            1,
        ));
        return result;
    }
    let bytes = match snapshot.read(path) {
        Ok(b) => b,
        Err(e) => {
            result.problems.push(error(
                "unreadable-file",
                format!("cannot read file: {e}"),
                1,
                1,
            ));
            return result;
        }
    };
    let mut documents = match parse_file_with(&bytes, positions) {
        Ok(d) => d,
        Err(e) => {
            let (line, column) = e.position();
            use super::parse::ParseError as E;
            let code = match e {
                E::TooLarge { .. } => "file-too-large",
                E::NotUtf8 { .. } => "not-utf8",
                E::Yaml { .. } => "yaml-syntax",
                E::TooDeep { .. } | E::TooManyNodes { .. } | E::TooMuchText { .. } => "yaml-budget",
            };
            result
                .problems
                .push(error(code, e.to_string(), line, column));
            return result;
        }
    };
    if positions {
        result.locator = Some(Locator::take(&mut documents));
    }
    for doc in documents {
        let why = match &doc.value {
            // An empty document (a trailing `---`): Backstage skips it too.
            Value::Null => continue,
            Value::Object(map) if map.contains_key("apiVersion") || map.contains_key("kind") => {
                None
            }
            Value::Object(_) => Some("it has no apiVersion and no kind".to_string()),
            other => Some(format!(
                "expected a mapping at its root, found {}",
                super::substitute::describe(other)
            )),
        };
        if let Some(why) = why {
            // Some other YAML (OpenAPI, CI config): not ours, unless named.
            result.foreign.push(Foreign {
                document: doc.index,
                line: doc.line,
                why,
            });
            continue;
        }
        let source = Source {
            file: path.to_string(),
            document: doc.index,
            line: doc.line,
        };
        let mut value = doc.value;
        for issue in substitute(&mut value, path, snapshot) {
            let severity = if issue.warning {
                Severity::Warning
            } else {
                Severity::Error
            };
            result.problems.push(
                Problem::new(severity, issue.code, issue.message, path, doc.line, 1)
                    .at_field(doc.index, issue.field),
            );
        }
        result.documents.push(RawDocument { source, value });
    }
    result
}

/// The catalog files a Location entity points at, with problems for targets
/// that are missing, remote or outside the catalog.
fn location_targets(
    location: &Entity,
    snapshot: &dyn Snapshot,
    problems: &mut Vec<Problem>,
) -> Vec<String> {
    let spec = location.doc().get("spec");
    let mut targets: Vec<(String, String)> = Vec::new();
    if let Some(t) = spec.and_then(|s| s.get("target")).and_then(Value::as_str) {
        targets.push((t.to_string(), "spec.target".into()));
    }
    if let Some(list) = spec
        .and_then(|s| s.get("targets"))
        .and_then(Value::as_array)
    {
        for (i, t) in list.iter().enumerate() {
            if let Some(t) = t.as_str() {
                targets.push((t.to_string(), format!("spec.targets.{i}")));
            }
        }
    }
    let optional = spec.and_then(|s| s.get("presence")).and_then(Value::as_str) == Some("optional");
    let file = &location.source.file;
    let problem = |severity, code, message: String, field: &str| {
        Problem::new(severity, code, message, file, location.source.line, 1)
            .with_entity(location.entity_ref().to_string())
            .at_field(location.source.document, field)
    };
    let mut out = Vec::new();
    for (target, field) in targets {
        if target.contains("://") {
            problems.push(problem(
                Severity::Warning,
                "location-remote",
                format!("Location target {target} is a URL; idp reads only files of the catalog repository"),
                &field,
            ));
            continue;
        }
        let Some(resolved) = resolve_relative(file, &target) else {
            problems.push(problem(
                Severity::Error,
                "location-outside-catalog",
                format!("Location target {target} points outside the catalog"),
                &field,
            ));
            continue;
        };
        let matches: Vec<String> = if resolved.contains(['*', '?', '[', '{']) {
            match glob_set(std::slice::from_ref(&resolved)) {
                Ok(set) => snapshot
                    .files()
                    .iter()
                    .filter(|f| set.is_match(&f.path))
                    .map(|f| f.path.clone())
                    .collect(),
                Err(_) => Vec::new(),
            }
        } else {
            match snapshot.stat(&resolved) {
                Ok(_) => vec![resolved.clone()],
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => {
                    // Refused (outside the catalog via a symlink): an error
                    // even when optional, and the file is not read.
                    problems.push(problem(
                        Severity::Error,
                        "location-outside-catalog",
                        format!("Location target {target} is not read: {e}"),
                        &field,
                    ));
                    continue;
                }
            }
        };
        if matches.is_empty() && !optional {
            problems.push(problem(
                Severity::Error,
                "location-target-missing",
                format!("Location target {target} not found (looked for {resolved})"),
                &field,
            ));
        }
        out.extend(matches);
    }
    out
}
