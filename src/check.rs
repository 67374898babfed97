//! Validation across layers: the one place that runs the catalog's rules
//! (`catalog::validate`), the scorecards' (`score::validate`, which needs
//! the catalog) and the integration settings' (`integrations::engine`)
//! together. It sits above all three so the bottom floor, `catalog`, never
//! imports the floors above it.
//!
//! Every entry point that checks descriptors goes through here, so the same
//! bad descriptor gives the same finding (code, line, column) wherever it is
//! checked: `idp validate` (whole catalog or `PATH…` inside it), `idp
//! scaffold` (the generated `catalog-info.yaml`, with or without
//! `--register`) and `idp scaffold test`. [`new_descriptors`] is the path for
//! files that are not (yet) part of the catalog as loaded. Nothing here prints.
#![warn(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::catalog::config::CATALOG_CONFIG_FILE;
use crate::catalog::load::{load_selected, Loaded};
use crate::catalog::locate::locate;
use crate::catalog::snapshot::{FileSet, Snapshot};
use crate::catalog::validate::{self, Report, Scope};
use crate::catalog::{Catalog, CatalogError, Entity, Problem, Severity};
use crate::integrations::config::Sections;
use crate::integrations::engine::check_config;

/// Validates `catalog` within `scope`: every descriptor rule, the
/// catalog-wide checks and the scorecards. `read` returns a file's text by
/// catalog-relative path (to locate problems and read custom kinds' schemas).
pub fn catalog(catalog: &Catalog, scope: &Scope, read: &dyn Fn(&str) -> Option<String>) -> Report {
    catalog_reusing(catalog, scope, read, None)
}

/// [`catalog`], with the findings of unchanged files from the index (see
/// `catalog::validate::reuse`): the same report.
pub fn catalog_reusing(
    catalog: &Catalog,
    scope: &Scope,
    read: &dyn Fn(&str) -> Option<String>,
    reuse: Option<&mut validate::Reuse>,
) -> Report {
    let scorecards = |entity: &Entity| {
        let mut out = if crate::score::is_scorecard(entity) {
            crate::score::validate::findings(entity, catalog, scope.today)
        } else {
            Vec::new()
        };
        if let Err(e) = crate::cost::config::entity_selectors(entity) {
            out.push(validate::Finding::error(
                "invalid-cost-selector",
                format!("{e} (the annotation claims no cost)"),
                &format!(
                    "metadata.annotations.[{}]",
                    crate::cost::config::SELECTOR_ANNOTATION
                ),
            ));
        }
        out
    };
    validate::validate_reusing(catalog, scope, read, &scorecards, reuse)
}

/// Problems of the `integrations:` and `live:` sections of `idp.yaml` that
/// reading it cannot see (a missing base URL, a bad JSONPath, …), located
/// at their key. `shown` is the file name to report them under.
pub fn settings(
    catalog: &Catalog,
    shown: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Problem>, CatalogError> {
    let sections = Sections::of(catalog)?;
    let text = catalog.config.text.as_deref().unwrap_or_default();
    let mut problems = dora_problems(catalog, shown, text)?;
    problems.extend(
        check_config(&sections.integrations, &sections.live, env)
            .into_iter()
            .map(|e| {
                let path = match (&e.key, e.integration.is_empty()) {
                    (_, true) => "live".to_string(),
                    (Some(k), false) => format!("integrations.{}.{k}", e.integration),
                    (None, false) => format!("integrations.{}", e.integration),
                };
                let (line, column) = locate(text, 0, &path)
                    .or_else(|| locate(text, 0, &format!("integrations.{}", e.integration)))
                    .unwrap_or((1, 1));
                let message = e.to_string();
                let message = message
                    .strip_prefix(&format!("{CATALOG_CONFIG_FILE}: "))
                    .unwrap_or(&message);
                Problem::new(
                    Severity::Error,
                    "integration-config",
                    message,
                    shown,
                    line,
                    column,
                )
            }),
    );
    Ok(problems)
}

/// Problems of the `dora:` section: a value of the wrong type (located as
/// reading the section reports it) or thresholds out of order.
fn dora_problems(catalog: &Catalog, shown: &str, text: &str) -> Result<Vec<Problem>, CatalogError> {
    let problem = |message: String, line, column| {
        Problem::new(
            Severity::Error,
            "dora-config",
            &message,
            shown,
            line,
            column,
        )
    };
    match crate::dora::config::DoraSection::of(catalog) {
        Err(CatalogError::Config {
            line,
            column,
            message,
            ..
        }) => Ok(vec![problem(message, line.max(1), column.max(1))]),
        Err(e) => Err(e),
        Ok(section) => Ok(match section.resolve() {
            Ok(_) => Vec::new(),
            Err(problems) => problems
                .into_iter()
                .map(|p| {
                    let (line, column) = locate(text, 0, &p.key)
                        .or_else(|| locate(text, 0, "dora"))
                        .unwrap_or((1, 1));
                    problem(format!("{}: {}", p.key, p.message), line, column)
                })
                .collect(),
        }),
    }
}

/// Problems of the `cost:` section of `idp.yaml` (shown as `shown`) and of
/// the billing files it names: the section's own problems; a source
/// without the FOCUS columns idp needs, or with a value that does not
/// parse (at the file's row and column); and, as a warning, `allocate` tag
/// values that name no catalog entity (the most frequent first). The files
/// are read through the aggregate cache (`cache_dir`), so a rerun over
/// unchanged files reads none of them. Nothing when there is no `cost:`.
pub fn cost(
    catalog: &Catalog,
    shown: &str,
    root: Option<&Path>,
    cache_dir: Option<&Path>,
) -> Vec<Problem> {
    if !crate::cost::configured(catalog) {
        return Vec::new();
    }
    let text = catalog.config.text.as_deref().unwrap_or_default();
    let at = |path: &str| {
        locate(text, 0, path)
            .or_else(|| locate(text, 0, "cost"))
            .unwrap_or((1, 1))
    };
    let problem = |severity, code, message: String, path: &str| {
        let (line, column) = at(path);
        Problem::new(severity, code, message, shown, line, column)
    };
    let config = match crate::cost::config_of(catalog) {
        Ok(c) => c,
        Err(e) => {
            let message = e.to_string();
            let message = message
                .strip_prefix(&format!("{CATALOG_CONFIG_FILE}: "))
                .unwrap_or(&message)
                .to_string();
            return vec![problem(Severity::Error, "cost-config", message, "cost")];
        }
    };
    let problems = config.problems();
    if !problems.is_empty() {
        return problems
            .into_iter()
            .map(|m| {
                // `cost.sources[1] …` → the key `cost.sources.1`.
                let path = m
                    .split_whitespace()
                    .next()
                    .unwrap_or("cost")
                    .replace('[', ".")
                    .replace(']', "");
                problem(Severity::Error, "cost-config", m, &path)
            })
            .collect();
    }
    let loaded = crate::cost::load(
        catalog,
        &crate::cost::LoadOptions {
            root,
            operator_sources: &[],
            cache_dir,
            repo: None,
            cached_only: false,
        },
    );
    let relative = |path: &str| -> String {
        let canonical = root.and_then(|r| r.canonicalize().ok());
        root.into_iter()
            .chain(canonical.as_deref())
            .find_map(|r| Path::new(path).strip_prefix(r).ok())
            .map(|p| p.to_string_lossy().to_string())
            .unwrap_or_else(|| path.to_string())
    };
    match loaded {
        Ok(None) => vec![problem(
            Severity::Warning,
            "cost-no-sources",
            "cost.sources matches no billing file".into(),
            "cost.sources",
        )],
        Ok(Some(l)) => {
            let unmatched = &l.aggregate.unmatched;
            if unmatched.is_empty() {
                return Vec::new();
            }
            let top: Vec<String> = unmatched
                .iter()
                .take(10)
                .map(|u| {
                    format!(
                        "{}={} ({} row{})",
                        u.tag,
                        u.value,
                        u.rows,
                        if u.rows == 1 { "" } else { "s" }
                    )
                })
                .collect();
            vec![problem(
                Severity::Warning,
                "cost-unmatched-allocation",
                format!(
                    "cost.allocate: tag values that name no catalog entity (most rows first): {}{}",
                    top.join(", "),
                    if unmatched.len() > top.len() {
                        ", …"
                    } else {
                        ""
                    }
                ),
                "cost.allocate",
            )]
        }
        Err(e) => {
            use crate::cost::CostError;
            let message = e.to_string();
            let in_file = |path: &str, line: u64, column: usize| {
                let file = relative(path);
                let message = message
                    .strip_prefix(&format!("{path}:"))
                    .map(|m| {
                        // Drop the `row:column:` the position now carries.
                        let m = m.trim_start_matches(|c: char| c.is_ascii_digit() || c == ':');
                        m.trim_start().to_string()
                    })
                    .unwrap_or_else(|| message.clone());
                Problem::new(
                    Severity::Error,
                    "cost-source",
                    message,
                    &file,
                    line as usize,
                    column,
                )
            };
            vec![match &e {
                CostError::MissingColumns { path, .. }
                | CostError::Io { path, .. }
                | CostError::Parquet { path, .. }
                | CostError::TooBig { path, .. }
                | CostError::Unsupported { path } => in_file(path, 1, 1),
                CostError::BadValue {
                    path, row, column, ..
                } => in_file(path, *row, *column),
                CostError::Csv { path, row, .. } => in_file(path, *row, 1),
                _ => problem(Severity::Error, "cost-source", message, "cost.sources"),
            }]
        }
    }
}

/// The catalog new descriptors are checked against.
pub struct Against<'a> {
    /// The catalog as loaded.
    pub catalog: &'a Catalog,
    /// Reads one of its files by catalog-relative path (custom kinds'
    /// schemas); `None` when it cannot.
    pub read: &'a dyn Fn(&str) -> Option<String>,
}

/// Where descriptors checked by [`new_descriptors`] sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Outside the catalog (a generated project): they come in addition
    /// to every entity of the catalog.
    Beside,
    /// At these same paths in the catalog (`idp validate PATH` inside it):
    /// they replace what the catalog loaded from those files.
    InCatalog,
}

/// Marks new files inside the combined catalog, so a generated
/// `catalog-info.yaml` never mixes with the catalog's file of that name.
const NEW: &str = "\u{0}new/";

/// What [`new_descriptors`] found.
#[derive(Debug, Default)]
pub struct Checked {
    /// Problems of the named files, by file relative to the directory.
    pub report: Report,
    /// The entities they define (`component:default/x`, Location targets
    /// included), in file order.
    pub entities: Vec<String>,
}

/// The one check of "these descriptors, as members of the catalog": the
/// files `names` under `dir` are loaded (following their Location targets),
/// joined to `against`'s entities (see [`Placement`]) and validated like
/// the catalog, so duplicates show as "defined twice" and unknown owners as
/// dangling references. Without a catalog, references are not checked.
/// Problems name files relative to `dir`; only the named files' problems
/// are reported.
pub fn new_descriptors(
    against: Option<Against<'_>>,
    dir: &Path,
    names: &[PathBuf],
    placement: Placement,
    today: chrono::NaiveDate,
) -> Result<Checked, CatalogError> {
    let set = FileSet::new(dir, names)?;
    let selected: Vec<&str> = set.files().iter().map(|f| f.path.as_str()).collect();
    if let (Some(a), Placement::InCatalog) = (&against, placement) {
        if already_loaded(a.catalog, &selected) {
            return Ok(in_place(a, &selected, today));
        }
    }
    let in_scope: HashSet<String> = selected.iter().map(|n| format!("{NEW}{n}")).collect();
    let mut fresh = load_selected(&set, &selected);
    // Every file the fresh load read, Location targets included.
    let mut read_fresh: HashSet<String> = selected.iter().map(|s| s.to_string()).collect();
    read_fresh.extend(fresh.entities.iter().map(|e| e.source.file.clone()));
    let entities = fresh
        .entities
        .iter()
        .map(|e| e.entity_ref().key())
        .collect();
    let tag = |file: &mut String| *file = format!("{NEW}{file}");
    fresh
        .entities
        .iter_mut()
        .for_each(|e| tag(&mut e.source.file));
    fresh
        .rejected
        .iter_mut()
        .for_each(|r| tag(&mut r.source.file));
    fresh.problems.iter_mut().for_each(|p| tag(&mut p.file));
    fresh.positions = std::mem::take(&mut fresh.positions)
        .into_iter()
        .map(|(file, at)| (format!("{NEW}{file}"), at))
        .collect();

    let combined = match &against {
        Some(a) => {
            let mut entities: Vec<Entity> = a
                .catalog
                .entities
                .iter()
                .filter(|e| placement == Placement::Beside || !read_fresh.contains(&e.source.file))
                .cloned()
                .collect();
            entities.append(&mut fresh.entities);
            Catalog::new(
                Loaded {
                    entities,
                    rejected: fresh.rejected,
                    problems: fresh.problems,
                    files: fresh.files,
                    positions: fresh.positions,
                },
                a.catalog.config.clone(),
                a.catalog.origin.clone(),
            )
        }
        None => Catalog::new(fresh, Default::default(), Default::default()),
    };
    let read = |file: &str| -> Option<String> {
        match file.strip_prefix(NEW) {
            Some(rel) => set.read(rel).ok().and_then(|b| String::from_utf8(b).ok()),
            None => against.as_ref().and_then(|a| (a.read)(file)),
        }
    };
    let scope = Scope {
        files: Some(&in_scope),
        check_references: against.is_some(),
        today,
    };
    let mut report = catalog(&combined, &scope, &read);
    for p in report.errors.iter_mut().chain(report.warnings.iter_mut()) {
        if let Some(rel) = p.file.strip_prefix(NEW) {
            p.file = rel.to_string();
        }
    }
    Ok(Checked { report, entities })
}

/// Whether `catalog` was loaded fresh from the working tree and already
/// read every one of `files`: then it is the combination [`new_descriptors`]
/// would build, and is checked as it is (no copy of every entity).
fn already_loaded(catalog: &Catalog, files: &[&str]) -> bool {
    if catalog.origin.commit.is_some() || catalog.indexed {
        return false; // git objects or the index: not the files on disk
    }
    let read: HashSet<&str> = catalog.descriptor_files().collect();
    files.iter().all(|f| read.contains(f))
}

/// [`new_descriptors`] for files the catalog holds as they are on disk.
fn in_place(against: &Against<'_>, files: &[&str], today: chrono::NaiveDate) -> Checked {
    let in_scope: HashSet<String> = files.iter().map(|f| f.to_string()).collect();
    let scope = Scope {
        files: Some(&in_scope),
        check_references: true,
        today,
    };
    Checked {
        report: catalog(against.catalog, &scope, against.read),
        entities: against
            .catalog
            .entities
            .iter()
            .filter(|e| in_scope.contains(&e.source.file))
            .map(|e| e.entity_ref().key())
            .collect(),
    }
}

/// A reader of the catalog's files through the snapshot it was opened
/// from (none when it came from the index).
pub fn snapshot_reader(snapshot: Option<&dyn Snapshot>) -> impl Fn(&str) -> Option<String> + '_ {
    move |path: &str| {
        snapshot
            .and_then(|s| s.read(path).ok())
            .and_then(|b| String::from_utf8(b).ok())
    }
}
