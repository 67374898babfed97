//! Remote catalogs: a bare clone per URL under `$XDG_CACHE_HOME/idp/catalogs/`,
//! fetched when older than the sync interval (or when forced by `idp sync`).
//! A failed fetch falls back to the last fetched state with a warning;
//! `--offline` never touches the network. The network itself (credentials,
//! TLS) is `crate::git_remote`'s.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::error::CatalogError;
use crate::git_remote::{self, Checkout, Credentials, Remote};

/// How to treat the network for this run.
#[derive(Debug, Clone, Copy)]
pub struct FetchPolicy {
    /// Never fetch.
    pub offline: bool,
    /// Fetch regardless of age (`idp sync`).
    pub force: bool,
    /// Fetch when the last fetch is older than this.
    pub interval: Duration,
}

/// The local clone of a remote catalog.
pub struct RemoteClone {
    /// The bare repository.
    pub repo: git2::Repository,
    /// Where it is.
    pub path: PathBuf,
    /// Something the user should know (fetch failed, using old copy).
    pub warning: Option<String>,
    /// Whether this run fetched.
    pub fetched: bool,
}

/// The cache directory of one URL: a stable hash of the URL, so the same URL
/// always maps to the same clone across idp versions.
pub fn clone_dir(cache: &Path, url: &str) -> PathBuf {
    let hash = git2::Oid::hash_object(git2::ObjectType::Blob, url.as_bytes())
        .map(|o| o.to_string())
        .unwrap_or_else(|_| url.replace(['/', ':'], "_"));
    cache.join("catalogs").join(&hash[..16.min(hash.len())])
}

const STAMP: &str = "idp-last-fetch";

/// Opens (cloning or fetching as the policy says) the clone of `url`.
pub fn open_remote(
    cache: &Path,
    url: &str,
    policy: FetchPolicy,
) -> Result<RemoteClone, CatalogError> {
    let path = clone_dir(cache, url);
    if !path.join("HEAD").exists() {
        if policy.offline {
            return Err(CatalogError::NeverFetched {
                url: url.to_string(),
            });
        }
        let repo = clone(url, &path)?;
        return Ok(RemoteClone {
            repo,
            path,
            warning: None,
            fetched: true,
        });
    }
    let repo = git2::Repository::open_bare(&path).map_err(|e| {
        CatalogError::git("cannot open cached clone", path.display().to_string(), e)
    })?;
    let age = last_fetch_age(&path);
    let stale = age.is_none_or(|a| a >= policy.interval);
    let mut warning = None;
    let mut fetched = false;
    if !policy.offline && (policy.force || stale) {
        match fetch(&repo, url) {
            Ok(()) => {
                stamp(&path);
                fetched = true;
            }
            Err(e) => {
                let when = age
                    .map(|a| {
                        format!(
                            "{} ago",
                            humantime::format_duration(Duration::from_secs(a.as_secs()))
                        )
                    })
                    .unwrap_or_else(|| "at an unknown time".into());
                warning = Some(format!(
                    "could not fetch {url} ({}); using the copy fetched {when}",
                    e.message()
                ));
            }
        }
    }
    Ok(RemoteClone {
        repo,
        path,
        warning,
        fetched,
    })
}

/// Clones into a temporary sibling directory and renames it into place, so an
/// interrupted clone never leaves a half-written cache entry.
fn clone(url: &str, path: &Path) -> Result<git2::Repository, CatalogError> {
    let parent = path.parent().unwrap_or(path);
    std::fs::create_dir_all(parent).map_err(|e| CatalogError::io(parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".clone-")
        .tempdir_in(parent)
        .map_err(|e| CatalogError::io(parent, e))?;
    // A catalog is fetched before its idp.yaml is known: the ssh agent and
    // the git credential helper, no token.
    git_remote::clone(url, tmp.path(), Checkout::Bare, &Credentials::none()).map_err(|e| {
        CatalogError::Remote {
            url: url.to_string(),
            reason: e.message().to_string(),
        }
    })?;
    stamp(tmp.path());
    let tmp_path = tmp.keep();
    if let Err(e) = std::fs::rename(&tmp_path, path) {
        // Another idp process won the race: use its clone.
        let _ = std::fs::remove_dir_all(&tmp_path);
        if !path.join("HEAD").exists() {
            return Err(CatalogError::io(path, e));
        }
    }
    git2::Repository::open_bare(path)
        .map_err(|e| CatalogError::git("cannot open cached clone", path.display().to_string(), e))
}

/// Fetches all branches and tags and points HEAD at the remote's default branch.
fn fetch(repo: &git2::Repository, url: &str) -> Result<(), git2::Error> {
    let fetched = git_remote::fetch(
        repo,
        Remote::Url(url),
        &["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
        &Credentials::none(),
    )?;
    if let Some(name) = fetched.default_branch {
        let _ = repo.set_head(&name);
    }
    Ok(())
}

fn stamp(path: &Path) {
    let _ = std::fs::write(path.join(STAMP), b"");
}

fn last_fetch_age(path: &Path) -> Option<Duration> {
    let modified = std::fs::metadata(path.join(STAMP)).ok()?.modified().ok()?;
    SystemTime::now().duration_since(modified).ok()
}
