//! `--register` for a new project: checked before anything is asked
//! ([`register_preflight`]), planned once the project is rendered and before
//! it is moved into place ([`plan_registration`]: branch and path free, the
//! descriptor parses), committed last ([`PlannedRegistration::register`]).
//! The git work is `backstage::register`'s; this module sequences it.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::catalog::discover::CatalogLocation;
use crate::scaffold::backstage::register::{self, Push, Registered};
use crate::scaffold::{LoadedTemplate, ScaffoldError};

use super::CreateError;

/// Where `--register` needs the catalog: a checkout on disk, in a git
/// repository (with `push`, one with an `origin`). Checked before anything
/// is asked.
pub(super) fn register_preflight(
    location: Option<&CatalogLocation>,
    push: bool,
) -> Result<PathBuf, ScaffoldError> {
    let Some(CatalogLocation::Dir(root)) = location else {
        return Err(ScaffoldError::InvalidValue {
            name: "--register".into(),
            message: "needs a catalog checkout on disk (--catalog <dir>)".into(),
        });
    };
    register::preflight(root, push)?;
    Ok(root.clone())
}

/// A registration checked against the catalog repository, to commit once
/// the project is in place.
pub(super) struct PlannedRegistration {
    root: PathBuf,
    descriptor: Vec<u8>,
    name: String,
    rel: String,
}

/// Reads the descriptor to register (`rel` in the rendered `project`) and
/// checks that its branch and path are free in the catalog repository.
pub(super) fn plan_registration(
    t: &LoadedTemplate,
    root: &Path,
    project: &Path,
    rel: PathBuf,
    push: bool,
) -> Result<PlannedRegistration, CreateError> {
    let path = project.join(&rel);
    let descriptor = std::fs::read(&path).map_err(|_| ScaffoldError::InvalidValue {
        name: "--register".into(),
        message: format!(
            "the template made no {}, so there is nothing to register; nothing was written",
            rel.display()
        ),
    })?;
    // The template wrote this file: parse it under the descriptor budgets
    // (nesting, nodes, alias expansion), like any file of the catalog.
    let docs = crate::catalog::parse::parse_file(&descriptor).map_err(|e| {
        let (line, column) = e.position();
        CreateError::Descriptor {
            path: rel.clone(),
            line,
            column,
            source: e,
        }
    })?;
    let doc = docs.into_iter().next().map_or(Value::Null, |d| d.value);
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let target = register::target_path(t.entity.as_ref(), &name);
    register::check(root, &name, &target, push)?;
    Ok(PlannedRegistration {
        root: root.to_path_buf(),
        descriptor,
        name,
        rel: target,
    })
}

impl PlannedRegistration {
    /// Commits the descriptor on its branch (and pushes it as `push` says).
    pub(super) fn register(self, push: Push) -> Result<Registered, ScaffoldError> {
        register::register(&self.root, &self.descriptor, &self.name, &self.rel, push)
    }
}
