//! Checking a new project's catalog-info.yaml the way `idp validate`
//! would, as if it were part of the catalog: the owner exists, the name is
//! not taken.

use std::path::{Path, PathBuf};

use crate::catalog::validate::Report;
use crate::catalog::{Catalog, CatalogError};
use crate::check::{new_descriptors, Against, Placement};

/// Validates `project/catalog-info.yaml` through the one path for new
/// descriptors ([`crate::check::new_descriptors`]), against `catalog` when
/// there is one (references and name clashes) and on its own otherwise.
/// Problems name the file by its path under `project`; `today` dates
/// deadlines.
pub fn validate_descriptor(
    catalog: Option<&Catalog>,
    project: &Path,
    today: chrono::NaiveDate,
) -> Result<Report, CatalogError> {
    let descriptor = PathBuf::from("catalog-info.yaml");
    // A project made inside the catalog's working tree is part of it: its
    // descriptor takes the place of whatever the catalog read from that
    // file, rather than being a second definition of the same entities.
    let (dir, name, placement) = match catalog.and_then(|c| inside_working_tree(c, project)) {
        Some((root, rel)) => (root, rel.join(&descriptor), Placement::InCatalog),
        None => (project.to_path_buf(), descriptor.clone(), Placement::Beside),
    };
    let no_files = |_: &str| None;
    let against = catalog.map(|catalog| Against {
        catalog,
        read: &no_files,
    });
    let shown = name.to_string_lossy().into_owned();
    let mut report = new_descriptors(against, &dir, &[name], placement, today)?.report;
    for p in report.errors.iter_mut().chain(report.warnings.iter_mut()) {
        p.file = if p.file == shown {
            project.join(&descriptor)
        } else {
            dir.join(&p.file)
        }
        .display()
        .to_string();
    }
    Ok(report)
}

/// The catalog's root and `project`'s path under it, when the catalog is a
/// working tree that contains `project`.
fn inside_working_tree(catalog: &Catalog, project: &Path) -> Option<(PathBuf, PathBuf)> {
    if catalog.origin.commit.is_some() {
        return None;
    }
    let root = Path::new(&catalog.origin.location).canonicalize().ok()?;
    let rel = project
        .canonicalize()
        .ok()?
        .strip_prefix(&root)
        .ok()?
        .to_path_buf();
    Some((root, rel))
}
