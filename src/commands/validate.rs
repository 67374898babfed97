//! `idp validate [PATH…]`.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::command_error::Result;

use crate::catalog::config::CatalogConfig;
use crate::catalog::config::CATALOG_CONFIG_FILE;
use crate::catalog::discover::CatalogLocation;
use crate::catalog::load::load_files;
use crate::catalog::open::Opened;
use crate::catalog::snapshot::{relative, FileSet, Snapshot};
use crate::catalog::validate::{Report, Scope};
use crate::catalog::{Catalog, CatalogError, Origin};
use crate::cli::ValidateArgs;
use crate::command_error::CommandError;
use crate::exit::Exit;
use crate::output::{problems, write_data};

use super::show::display_path;
use super::{Context, Index, Open};
use crate::catalog::validate::Reuse;
use idp::confine::{Root, RootKind};

pub fn run(ctx: &Context, args: ValidateArgs) -> Result<Exit> {
    check_paths(&ctx.settings.cwd, &args.paths)?;
    let located = match ctx.locate() {
        Ok(l) => Some(l.0),
        // Loose files can be checked without a catalog; the whole catalog cannot.
        Err(e) if !args.paths.is_empty() && e.is_no_catalog() => None,
        Err(e) => return Err(e),
    };
    let (report, checked) = match (&located, args.paths.is_empty()) {
        (Some(location), true) => whole_catalog(ctx, location)?,
        (Some(CatalogLocation::Dir(root)), false) => {
            match paths_in_catalog(root, &args.paths, &ctx.settings.cwd)? {
                Some(rel) => files_in_catalog(ctx, located.as_ref().expect("located"), root, rel)?,
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

/// Where [`text_in_catalog`] puts a descriptor given without a path.
const NEW_DESCRIPTOR: &str = "new/catalog-info.yaml";

/// A descriptor's text checked as if it were written at `path` in the
/// catalog (replacing that file when it exists), against the catalog, as
/// `idp validate PATH -o json` checks a file there; nothing is written to
/// the catalog (the MCP `validate_descriptor` tool).
pub fn text_in_catalog(
    ctx: &Context,
    opened: &Opened,
    yaml: &str,
    path: Option<&str>,
) -> Result<Report> {
    let rel = path.unwrap_or(NEW_DESCRIPTOR);
    let plain = !rel.is_empty()
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !plain {
        return Err(CommandError::user(format!(
            "path: '{rel}' is not a relative path inside the catalog (no '..', no leading '/')"
        )));
    }
    let dir = tempfile::tempdir()?;
    let file = dir.path().join(rel);
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&file, yaml)?;
    let catalog = &opened.catalog;
    let read = idp::check::snapshot_reader(opened.snapshot.as_deref());
    let checked = idp::check::new_descriptors(
        Some(idp::check::Against {
            catalog,
            read: &read,
        }),
        dir.path(),
        &[PathBuf::from(rel)],
        idp::check::Placement::InCatalog,
        ctx.settings.today(),
    )?;
    let mut report = checked.report;
    for p in report.errors.iter_mut().chain(report.warnings.iter_mut()) {
        p.file = display_path(&catalog.origin.location, &p.file);
    }
    Ok(report)
}

/// Paths named on the command line are arguments: one that cannot be read
/// is a usage error (exit 2), not an unreadable catalog.
fn check_paths(cwd: &Path, paths: &[PathBuf]) -> Result<()> {
    for p in paths {
        if let Err(e) = std::fs::metadata(cwd.join(p)) {
            let why = if e.kind() == std::io::ErrorKind::NotFound {
                "No such file or directory".to_string()
            } else {
                e.to_string()
            };
            return Err(CommandError::user(format!(
                "cannot validate {}: {why}",
                p.display()
            )));
        }
    }
    Ok(())
}

fn whole_catalog(ctx: &Context, location: &CatalogLocation) -> Result<(Report, String)> {
    // Owned (not leaked, as `open_at` does): its parsed descriptors are
    // freed before the index is written.
    let mut opened = ctx.open_owned(location, Open::with_index(Index::Validate))?;
    let scope = Scope {
        files: None,
        check_references: true,
        today: ctx.settings.today(),
    };
    let catalog = &opened.catalog;
    let mut reuse = opened.index.as_ref().map(|h| Reuse::new(catalog, h));
    // From the index there is no snapshot: files (to locate what the index
    // does not place) are read through the confined root.
    let root = match (&opened.snapshot, location) {
        (None, CatalogLocation::Dir(dir)) => Root::new(dir, RootKind::Catalog).ok(),
        _ => None,
    };
    let snapshot_read = idp::check::snapshot_reader(opened.snapshot.as_deref());
    let read = |path: &str| match &root {
        Some(root) => root.read_to_string(path).ok(),
        None => snapshot_read(path),
    };
    let mut report = idp::check::catalog_reusing(catalog, &scope, &read, reuse.as_mut());
    for p in report.errors.iter_mut().chain(report.warnings.iter_mut()) {
        p.file = display_path(&catalog.origin.location, &p.file);
    }
    let shown = display_path(&catalog.origin.location, CATALOG_CONFIG_FILE);
    let settings = idp::check::settings(catalog, &shown, &ctx.settings.env.lookup());
    let root = match location {
        CatalogLocation::Dir(d) => Some(d.as_path()),
        CatalogLocation::Remote(_) => None,
    };
    for mut p in idp::check::cost(catalog, &shown, root, Some(&ctx.settings.dirs.cache)) {
        if p.file != shown {
            p.file = display_path(&catalog.origin.location, &p.file);
        }
        match p.severity {
            idp::catalog::Severity::Error => report.errors.push(p),
            idp::catalog::Severity::Warning => report.warnings.push(p),
        }
    }
    let checked = summary(catalog);
    // The index is written last, once nothing needs a descriptor's parsed
    // value or a file's positions: freed first, their memory holds the
    // index being written instead of adding to the peak (a cold run).
    if let (Some(handle), Some(reuse)) = (&opened.index, reuse) {
        ctx.ui.note(&format!(
            "{} of {} descriptor files' findings from the index",
            reuse.reused, reuse.total
        ));
        let section = reuse.section();
        if section.is_some() || !handle.current {
            opened.catalog.release_parsed();
            handle.write(&opened.catalog, section.into_iter().collect());
        }
    }
    drop(snapshot_read);
    // Never dropped, as `Context::open_rev` explains.
    std::mem::forget(opened);
    report.errors.extend(settings?);
    Ok((report, checked))
}

/// `idp validate PATH…` inside a catalog: the named descriptors checked as
/// members of the catalog, through the same path as a scaffolded one.
fn files_in_catalog(
    ctx: &Context,
    location: &CatalogLocation,
    root: &Path,
    rel: Vec<String>,
) -> Result<(Report, String)> {
    let opened = ctx.open_at(location, Open::PARSED)?;
    let catalog = &opened.catalog;
    // A directory named on the command line stands for the descriptor files
    // under it that the catalog read; a file for itself, even one idp.yaml's
    // globs leave out.
    let read_by_catalog: BTreeSet<&str> = catalog.descriptor_files().collect();
    let mut names: BTreeSet<String> = BTreeSet::new();
    for r in &rel {
        if r.is_empty() || root.join(r).is_dir() {
            let prefix = format!("{r}/");
            names.extend(
                read_by_catalog
                    .iter()
                    .filter(|f| r.is_empty() || f.starts_with(&prefix))
                    .map(|f| f.to_string()),
            );
        } else {
            names.insert(r.clone());
        }
    }
    let names: Vec<PathBuf> = names.into_iter().map(PathBuf::from).collect();
    let read = idp::check::snapshot_reader(opened.snapshot.as_deref());
    let checked = idp::check::new_descriptors(
        Some(idp::check::Against {
            catalog,
            read: &read,
        }),
        root,
        &names,
        idp::check::Placement::InCatalog,
        ctx.settings.today(),
    )?;
    let mut report = checked.report;
    for p in report.errors.iter_mut().chain(report.warnings.iter_mut()) {
        p.file = display_path(&catalog.origin.location, &p.file);
    }
    let checked = format!(
        "{} (against {})",
        count(names.len(), checked.entities.len()),
        catalog.origin.location
    );
    Ok((report, checked))
}

fn loose_files(ctx: &Context, paths: &[PathBuf]) -> Result<(Report, String)> {
    let set = FileSet::new(&ctx.settings.cwd, paths)?;
    let names: Vec<&str> = set.files().iter().map(|f| f.path.as_str()).collect();
    // A file named is meant to hold descriptors; one found in a named
    // directory may be any YAML.
    let loaded = load_files(&set, &names, &|p| !set.found_in_directory(p));
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
    let read = idp::check::snapshot_reader(snapshot);
    let mut report = idp::check::catalog(catalog, scope, &read);
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
