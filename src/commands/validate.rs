//! `idp validate [PATH…]`.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::catalog::config::CatalogConfig;
use crate::catalog::config::CATALOG_CONFIG_FILE;
use crate::catalog::discover::CatalogLocation;
use crate::catalog::load::load_selected;
use crate::catalog::locate::locate;
use crate::catalog::snapshot::{relative, FileSet, Snapshot};
use crate::catalog::validate::{validate, Report, Scope};
use crate::catalog::{Catalog, CatalogError, Origin, Problem, Severity};
use crate::cli::ValidateArgs;
use crate::exit::Exit;
use crate::integrations::engine::check_config;
use crate::output::{problems, write_data};

use super::show::display_path;
use super::{Context, Open};

pub fn run(ctx: &Context, args: ValidateArgs) -> Result<Exit> {
    let located = match ctx.locate() {
        Ok(l) => Some(l.0),
        // Loose files can be checked without a catalog; the whole catalog cannot.
        Err(e) if !args.paths.is_empty() && is_no_catalog(&e) => None,
        Err(e) => return Err(e),
    };
    let (report, checked) = match (&located, args.paths.is_empty()) {
        (Some(location), true) => whole_catalog(ctx, location)?,
        (Some(CatalogLocation::Dir(root)), false) => {
            match paths_in_catalog(root, &args.paths, &ctx.settings.cwd)? {
                Some(rel) => files_in_catalog(ctx, located.as_ref().expect("located"), rel)?,
                None => loose_files(ctx, &args.paths)?,
            }
        }
        _ => loose_files(ctx, &args.paths)?,
    };
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => problems::render(&mut out, ctx.ui, &report, &checked)?,
        Some(data) => write_data(&mut out, data, &report)?,
    }
    if ctx.ui.github_actions {
        for line in problems::github_annotations(&report) {
            out.command(&line)?;
        }
    }
    out.flush()?;
    Ok(if report.errors.is_empty() {
        Exit::Ok
    } else {
        Exit::Failed
    })
}

fn is_no_catalog(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<CatalogError>(),
        Some(CatalogError::NoCatalog)
    )
}

fn whole_catalog(ctx: &Context, location: &CatalogLocation) -> Result<(Report, String)> {
    let opened = ctx.open_at(location, Open::PARSED)?;
    let scope = Scope {
        files: None,
        check_references: true,
        today: ctx.settings.today(),
    };
    let mut report = run_validation(&opened.catalog, opened.snapshot.as_deref(), &scope);
    report.errors.extend(integration_problems(ctx, opened));
    Ok((report, summary(&opened.catalog)))
}

/// Problems of the live-data settings in idp.yaml, located at their key.
fn integration_problems(ctx: &Context, opened: &crate::catalog::open::Opened) -> Vec<Problem> {
    let config = &opened.catalog.config;
    let text = opened
        .snapshot
        .as_deref()
        .and_then(|s| s.read(CATALOG_CONFIG_FILE).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let env = ctx.settings.env.lookup();
    check_config(&config.integrations, &config.live, &env)
        .into_iter()
        .map(|e| {
            let path = match (&e.key, e.integration.is_empty()) {
                (_, true) => "live".to_string(),
                (Some(k), false) => format!("integrations.{}.{k}", e.integration),
                (None, false) => format!("integrations.{}", e.integration),
            };
            let (line, column) = locate(&text, 0, &path)
                .or_else(|| locate(&text, 0, &format!("integrations.{}", e.integration)))
                .unwrap_or((1, 1));
            let message = e.to_string();
            let message = message.strip_prefix("idp.yaml: ").unwrap_or(&message);
            Problem::new(
                Severity::Error,
                "integration-config",
                message,
                &display_path(&opened.catalog.origin.location, CATALOG_CONFIG_FILE),
                line,
                column,
            )
        })
        .collect()
}

fn files_in_catalog(
    ctx: &Context,
    location: &CatalogLocation,
    rel: Vec<String>,
) -> Result<(Report, String)> {
    let opened = ctx.open_at(location, Open::PARSED.with_files(&rel))?;
    let snapshot = opened.snapshot.as_deref();
    // Directories named on the command line stand for the files under them.
    let mut files: HashSet<String> = HashSet::new();
    for r in &rel {
        let prefix = format!("{r}/");
        let inside: Vec<String> = snapshot
            .map(|s| {
                s.files()
                    .iter()
                    .map(|f| f.path.clone())
                    .filter(|p| p.starts_with(&prefix) || r.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if inside.is_empty() {
            files.insert(r.clone());
        } else {
            files.extend(inside);
        }
    }
    let scope = Scope {
        files: Some(&files),
        check_references: true,
        today: ctx.settings.today(),
    };
    let report = run_validation(&opened.catalog, snapshot, &scope);
    let entities = opened
        .catalog
        .entities
        .iter()
        .filter(|e| files.contains(&e.source.file))
        .count();
    let checked = format!(
        "{} (against {})",
        count(files.len(), entities),
        opened.catalog.origin.location
    );
    Ok((report, checked))
}

fn loose_files(ctx: &Context, paths: &[PathBuf]) -> Result<(Report, String)> {
    let set = FileSet::new(&ctx.settings.cwd, paths)?;
    let names: Vec<&str> = set.files().iter().map(|f| f.path.as_str()).collect();
    let loaded = load_selected(&set, &names);
    let catalog = Catalog::new(loaded, CatalogConfig::default(), Origin::default());
    let scope = Scope {
        files: None,
        check_references: false,
        today: ctx.settings.today(),
    };
    let report = run_validation(&catalog, Some(&set), &scope);
    let checked = count(set.files().len(), catalog.entities.len());
    Ok((report, checked))
}

fn run_validation(catalog: &Catalog, snapshot: Option<&dyn Snapshot>, scope: &Scope) -> Report {
    let read = |path: &str| -> Option<String> {
        snapshot
            .and_then(|s| s.read(path).ok())
            .and_then(|b| String::from_utf8(b).ok())
    };
    let mut report = validate(catalog, scope, &read);
    for p in report.errors.iter_mut().chain(report.warnings.iter_mut()) {
        p.file = display_path(&catalog.origin.location, &p.file);
    }
    report
}

/// Catalog-relative forms of `paths`, or `None` if any is outside the catalog.
fn paths_in_catalog(root: &Path, paths: &[PathBuf], cwd: &Path) -> Result<Option<Vec<String>>> {
    let root = root.canonicalize()?;
    let mut out = Vec::new();
    for p in paths {
        let full = cwd.join(p);
        let abs = full
            .canonicalize()
            .map_err(|e| CatalogError::io(&full, e))?;
        if !abs.starts_with(&root) {
            return Ok(None);
        }
        out.push(relative(&root, &abs));
    }
    Ok(Some(out))
}

fn summary(catalog: &Catalog) -> String {
    count(catalog.files_read, catalog.entities.len())
}

fn count(files: usize, entities: usize) -> String {
    let s = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "{files} file{} ({entities} entit{})",
        s(files),
        if entities == 1 { "y" } else { "ies" }
    )
}
