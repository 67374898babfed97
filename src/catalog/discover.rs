//! Where the catalog is: `--catalog`, `IDP_CATALOG`, `catalog:` in the user
//! config, else the nearest directory with an `idp.yaml` inside the enclosing
//! git repository. First match wins; the answer says which rule matched.

use std::path::{Path, PathBuf};

use super::config::{UserConfig, CATALOG_CONFIG_FILE};
use super::error::CatalogError;

/// What kind of catalog was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogLocation {
    /// A directory (working tree of a checkout, or a plain directory).
    Dir(PathBuf),
    /// A git URL or bare repository, read from a clone in the cache.
    Remote(String),
}

/// Which rule found the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundBy {
    /// `--catalog` or `IDP_CATALOG`.
    Argument,
    /// `catalog:` in the user config.
    UserConfig,
    /// The enclosing repository's `idp.yaml`.
    Enclosing,
}

/// Finds the catalog. `named` is `--catalog`/`IDP_CATALOG` (clap merges them).
pub fn find_catalog(
    named: Option<&str>,
    user: &UserConfig,
    cwd: &Path,
) -> Result<(CatalogLocation, FoundBy), CatalogError> {
    if let Some(n) = named.filter(|n| !n.is_empty()) {
        return Ok((classify(n, cwd), FoundBy::Argument));
    }
    if let Some(n) = user.catalog.as_deref().filter(|n| !n.is_empty()) {
        return Ok((classify(n, cwd), FoundBy::UserConfig));
    }
    if let Some(dir) = enclosing_catalog(cwd) {
        let shown = match cwd
            .canonicalize()
            .ok()
            .and_then(|c| dir.strip_prefix(&c).ok().map(Path::to_path_buf))
        {
            Some(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
            Some(rel) => rel,
            None => dir,
        };
        return Ok((CatalogLocation::Dir(shown), FoundBy::Enclosing));
    }
    Err(CatalogError::NoCatalog {
        user_config: user.file.clone(),
    })
}

/// A git URL ([`crate::git_remote::is_git_url`]) or a bare repository is
/// remote; anything else a directory.
pub fn classify(name: &str, cwd: &Path) -> CatalogLocation {
    if crate::git_remote::is_git_url(name) {
        return CatalogLocation::Remote(name.to_string());
    }
    let path = cwd.join(name);
    if is_bare_repo(&path) {
        let abs = path.canonicalize().unwrap_or(path);
        return CatalogLocation::Remote(abs.to_string_lossy().into_owned());
    }
    // Kept as the user wrote it, so messages show paths they recognise.
    CatalogLocation::Dir(PathBuf::from(name))
}

fn is_bare_repo(path: &Path) -> bool {
    path.join("HEAD").is_file() && path.join("objects").is_dir() && path.join("refs").is_dir()
}

/// The nearest directory from `cwd` up to the repository root holding `idp.yaml`.
fn enclosing_catalog(cwd: &Path) -> Option<PathBuf> {
    let repo = git2::Repository::discover(cwd).ok()?;
    let top = repo.workdir()?.canonicalize().ok()?;
    let mut dir = cwd.canonicalize().ok()?;
    loop {
        if dir.join(CATALOG_CONFIG_FILE).is_file() {
            return Some(dir);
        }
        if dir == top || !dir.pop() {
            return None;
        }
    }
}
