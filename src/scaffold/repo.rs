//! Git for generated projects and template sources: the first commit of a
//! new project, the commit a template was rendered from, and cloning a
//! template given as a git URL.

use std::path::{Path, PathBuf};

use git2::{IndexAddOption, Repository, Signature};

use super::error::ScaffoldError;
use crate::git_remote::{self, Checkout, Credentials};

/// Initialises a repository in `dir` and commits everything in it that git
/// would add: the project's own `.gitignore` (and git's other ignore rules)
/// keep ignored files out of the first commit, as `git add -A` would.
/// Returns the commit id.
pub fn init_and_commit(dir: &Path, message: &str) -> Result<String, ScaffoldError> {
    // No copies of git's template directory (hook samples): a new project
    // needs none, and copying them is most of the cost of `git init`.
    let mut init = git2::RepositoryInitOptions::new();
    init.external_template(false);
    let repo = Repository::init_opts(dir, &init)
        .map_err(|e| ScaffoldError::git(format!("init {}", dir.display()), e))?;
    let mut index = repo.index().map_err(|e| ScaffoldError::git("index", e))?;
    index
        .add_all(["*"].iter(), IndexAddOption::DEFAULT, None)
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
/// Read straight from `.git` (HEAD, loose refs, packed-refs) when it can be:
/// opening libgit2 costs tens of milliseconds (it loads the TLS
/// certificates), more than rendering a whole template.
pub fn enclosing_repo(dir: &Path) -> Option<(PathBuf, Option<String>)> {
    let start = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut cur = Some(start.as_path());
    while let Some(d) = cur {
        let dotgit = d.join(".git");
        if dotgit.exists() {
            return match read_head(&dotgit) {
                Some(head) => Some((d.to_path_buf(), head)),
                None => enclosing_repo_git2(d),
            };
        }
        cur = d.parent();
    }
    None
}

/// HEAD's commit from a `.git` directory or file: `Some(None)` for an
/// unborn branch, `None` when the layout is not understood.
fn read_head(dotgit: &Path) -> Option<Option<String>> {
    let gitdir = if dotgit.is_dir() {
        dotgit.to_path_buf()
    } else {
        let text = std::fs::read_to_string(dotgit).ok()?;
        let rel = text.strip_prefix("gitdir:")?.trim();
        dotgit.parent()?.join(rel)
    };
    let common = match std::fs::read_to_string(gitdir.join("commondir")) {
        Ok(c) => gitdir.join(c.trim()),
        Err(_) => gitdir.clone(),
    };
    let head = std::fs::read_to_string(gitdir.join("HEAD")).ok()?;
    let head = head.trim();
    let is_sha = |s: &str| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let Some(refname) = head.strip_prefix("ref:").map(str::trim) else {
        return is_sha(head).then(|| Some(head.to_string()));
    };
    for base in [&gitdir, &common] {
        if let Ok(sha) = std::fs::read_to_string(base.join(refname)) {
            let sha = sha.trim();
            return is_sha(sha).then(|| Some(sha.to_string()));
        }
    }
    match std::fs::read_to_string(common.join("packed-refs")) {
        Ok(packed) => Some(
            packed
                .lines()
                .filter_map(|l| l.split_once(' '))
                .find(|(sha, name)| *name == refname && is_sha(sha))
                .map(|(sha, _)| sha.to_string()),
        ),
        // No loose ref and no packed-refs: an unborn branch.
        Err(_) => Some(None),
    }
}

fn enclosing_repo_git2(dir: &Path) -> Option<(PathBuf, Option<String>)> {
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

/// Clones `url` (optionally at `rev`) into a new temporary directory.
pub fn clone(
    url: &str,
    rev: Option<&str>,
) -> Result<(tempfile::TempDir, Option<String>), ScaffoldError> {
    let dir = tempfile::Builder::new()
        .prefix("idp-template-")
        .tempdir()
        .map_err(|e| ScaffoldError::io(std::env::temp_dir(), e))?;
    let repo = git_remote::clone(url, dir.path(), Checkout::WorkTree, &Credentials::none())
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
