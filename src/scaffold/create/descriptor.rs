//! Checking a new project's catalog-info.yaml the way `idp validate`
//! would, as if it were part of the catalog: the owner exists, the name is
//! not taken.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::catalog::load::{load_selected, Loaded};
use crate::catalog::snapshot::{FileSet, Snapshot};
use crate::catalog::validate::{validate, Report, Scope};
use crate::catalog::{Catalog, CatalogError, Origin};

/// Validates `project/catalog-info.yaml`, against `catalog` when there is
/// one (references and name clashes) and on its own otherwise. Problems
/// name the file by its path under `project`; `today` dates deadlines.
pub fn validate_descriptor(
    catalog: Option<&Catalog>,
    project: &Path,
    today: chrono::NaiveDate,
) -> Result<Report, CatalogError> {
    let set = FileSet::new(project, &[PathBuf::from("catalog-info.yaml")])?;
    let names: Vec<&str> = set.files().iter().map(|f| f.path.as_str()).collect();
    let mut loaded = load_selected(&set, &names);
    let new_file = names.first().map(|s| s.to_string()).unwrap_or_default();
    let (config, origin, check_references) = match catalog {
        Some(c) => {
            // The new entities join the catalog's; duplicates then show as
            // "defined twice", missing owners as dangling references.
            // A project made inside the catalog's working tree is already
            // part of it: its own descriptor is not a second definition.
            let own = project.join("catalog-info.yaml").canonicalize().ok();
            let new_keys: HashSet<String> = loaded
                .entities
                .iter()
                .map(|e| e.entity_ref().key())
                .collect();
            let is_own = |e: &crate::catalog::Entity| {
                c.origin.commit.is_none()
                    && new_keys.contains(&e.entity_ref().key())
                    && Path::new(&c.origin.location)
                        .join(&e.source.file)
                        .canonicalize()
                        .ok()
                        == own
            };
            let mut entities: Vec<_> = c.entities.iter().filter(|e| !is_own(e)).cloned().collect();
            entities.append(&mut loaded.entities);
            loaded = Loaded {
                entities,
                rejected: loaded.rejected,
                problems: loaded.problems,
                files: loaded.files,
            };
            (c.config.clone(), Origin::default(), true)
        }
        None => (Default::default(), Origin::default(), false),
    };
    let combined = Catalog::new(loaded, config, origin);
    let files: HashSet<String> = [new_file].into_iter().collect();
    let scope = Scope {
        files: Some(&files),
        check_references,
        today,
    };
    let read = |path: &str| -> Option<String> {
        set.read(path).ok().and_then(|b| String::from_utf8(b).ok())
    };
    let mut report = validate(&combined, &scope, &read);
    for p in report.errors.iter_mut().chain(report.warnings.iter_mut()) {
        p.file = project.join(&p.file).display().to_string();
    }
    Ok(report)
}
