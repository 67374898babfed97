//! Git for generated projects and template sources: the first commit of a
//! new project, the commit a template was rendered from, and cloning a
//! template given as a git URL.

use std::path::{Path, PathBuf};

use git2::{IndexAddOption, Repository, Signature};

use super::error::ScaffoldError;

/// Initialises a repository in `dir` and commits everything in it.
/// Returns the commit id.
pub fn init_and_commit(dir: &Path, message: &str) -> Result<String, ScaffoldError> {
    let repo = Repository::init(dir)
        .map_err(|e| ScaffoldError::git(format!("init {}", dir.display()), e))?;
    let mut index = repo.index().map_err(|e| ScaffoldError::git("index", e))?;
    index
        .add_all(
            ["*"].iter(),
            IndexAddOption::DEFAULT | IndexAddOption::FORCE,
            None,
        )
        .map_err(|e| ScaffoldError::git("add files", e))?;
    index
        .write()
        .map_err(|e| ScaffoldError::git("write index", e))?;
    let tree_id = index
        .write_tree()
        .map_err(|e| ScaffoldError::git("write tree", e))?;
    let tree = repo
        .find_tree(tree_id)
        .map_err(|e| ScaffoldError::git("find tree", e))?;
    let sig = signature(&repo)?;
    let oid = repo
        .commit(Some("HEAD"), &sig, &sig, message, &tree, &[])
        .map_err(|e| ScaffoldError::git("first commit", e))?;
    Ok(oid.to_string())
}

/// The author from git config, else `idp <idp@localhost>`.
fn signature(repo: &Repository) -> Result<Signature<'static>, ScaffoldError> {
    if let Ok(sig) = repo.signature() {
        return Ok(sig.to_owned());
    }
    Signature::now("idp", "idp@localhost").map_err(|e| ScaffoldError::git("signature", e))
}

/// The git repository containing `dir`: its work-tree root and HEAD commit.
pub fn enclosing_repo(dir: &Path) -> Option<(PathBuf, Option<String>)> {
    let repo = Repository::discover(dir).ok()?;
    let root = repo.workdir()?.to_path_buf();
    let root = std::fs::canonicalize(&root).unwrap_or(root);
    let head = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .map(|c| c.id().to_string());
    Some((root, head))
}

/// Whether `s` looks like a git URL rather than a path or a name.
pub fn is_git_url(s: &str) -> bool {
    s.starts_with("https://")
        || s.starts_with("http://")
        || s.starts_with("ssh://")
        || s.starts_with("git://")
        || s.starts_with("file://")
        || s.starts_with("git+")
        || (s.starts_with("git@") && s.contains(':'))
        || s.ends_with(".git")
}

/// Clones `url` (optionally at `rev`) into a new temporary directory.
pub fn clone(
    url: &str,
    rev: Option<&str>,
) -> Result<(tempfile::TempDir, Option<String>), ScaffoldError> {
    let url = url.strip_prefix("git+").unwrap_or(url);
    let dir = tempfile::Builder::new()
        .prefix("idp-template-")
        .tempdir()
        .map_err(|e| ScaffoldError::io(std::env::temp_dir(), e))?;
    let repo = Repository::clone(url, dir.path())
        .map_err(|e| ScaffoldError::git(format!("clone {url}"), e))?;
    if let Some(rev) = rev {
        let obj = repo
            .revparse_single(rev)
            .map_err(|e| ScaffoldError::git(format!("find {rev} in {url}"), e))?;
        repo.checkout_tree(&obj, Some(git2::build::CheckoutBuilder::new().force()))
            .map_err(|e| ScaffoldError::git(format!("check out {rev}"), e))?;
        repo.set_head_detached(
            obj.peel_to_commit()
                .map_err(|e| ScaffoldError::git("peel", e))?
                .id(),
        )
        .map_err(|e| ScaffoldError::git("set HEAD", e))?;
    }
    let head = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .map(|c| c.id().to_string());
    Ok((dir, head))
}
