//! `--register`: commit the generated descriptor into the catalog's git
//! repository on a new branch `idp/register-<name>`, built from the tip of
//! the checked-out branch plus the one new file, so the user's branch,
//! index and working tree are never touched. `--push` then pushes that
//! branch to `origin` (through `crate::git_remote`, with the credentials
//! the caller passes).

use std::path::{Path, PathBuf};

use git2::{FileMode, Oid, Repository, Signature, Tree};

use crate::git_remote::{self, Credentials, PushError};
use crate::scaffold::error::ScaffoldError;

/// Annotation on a Template naming where its descriptors go in the
/// catalog repository (`{name}` is replaced by the entity's name).
pub const REGISTER_PATH_ANNOTATION: &str = "idp.dev/register-path";

/// Default place of a registered descriptor, relative to the catalog root.
pub const DEFAULT_REGISTER_PATH: &str = "components/{name}/catalog-info.yaml";

/// What `--register` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The new branch (`idp/register-<name>`).
    pub branch: String,
    /// The descriptor's path in the repository.
    pub path: String,
    /// The new commit.
    pub commit: String,
    /// The branch it was built on.
    pub base: String,
    /// Whether it was pushed to `origin`.
    pub pushed: bool,
}

fn git(what: impl Into<String>) -> impl FnOnce(git2::Error) -> ScaffoldError {
    let what = what.into();
    move |e| ScaffoldError::git(what, e)
}

fn refused(message: String) -> ScaffoldError {
    ScaffoldError::InvalidValue {
        name: "--register".into(),
        message,
    }
}

fn push_refused(message: String) -> ScaffoldError {
    ScaffoldError::InvalidValue {
        name: "--push".into(),
        message,
    }
}

/// Where the descriptor goes, relative to the catalog root: the template's
/// `idp.dev/register-path` annotation, else `components/<name>/catalog-info.yaml`.
pub fn target_path(template: Option<&serde_json::Value>, entity_name: &str) -> String {
    template
        .and_then(|t| t.pointer("/metadata/annotations"))
        .and_then(|a| a.get(REGISTER_PATH_ANNOTATION))
        .and_then(serde_json::Value::as_str)
        .unwrap_or(DEFAULT_REGISTER_PATH)
        .replace("{name}", entity_name)
        .trim_start_matches('/')
        .to_string()
}

/// Adds `content` at `parts` under `base` (a new tree; `base` is not changed).
fn insert(
    repo: &Repository,
    base: Option<&Tree<'_>>,
    parts: &[&str],
    blob: Oid,
    shown: &str,
) -> Result<Oid, ScaffoldError> {
    let mut builder = repo.treebuilder(base).map_err(git("tree builder"))?;
    let (first, rest) = parts.split_first().expect("a path has a name");
    if rest.is_empty() {
        if builder.get(first).map_err(git("tree lookup"))?.is_some() {
            return Err(refused(format!(
                "{shown} already exists in the catalog repository; nothing was committed"
            )));
        }
        builder
            .insert(first, blob, FileMode::Blob.into())
            .map_err(git("tree insert"))?;
    } else {
        let sub = match builder.get(first).map_err(git("tree lookup"))? {
            Some(entry) if entry.kind() == Some(git2::ObjectType::Tree) => {
                Some(repo.find_tree(entry.id()).map_err(git("find tree"))?)
            }
            Some(_) => {
                return Err(refused(format!(
                    "{first} is a file in the catalog repository, so {shown} cannot be created"
                )))
            }
            None => None,
        };
        let oid = insert(repo, sub.as_ref(), rest, blob, shown)?;
        builder
            .insert(first, oid, FileMode::Tree.into())
            .map_err(git("tree insert"))?;
    }
    builder.write().map_err(git("write tree"))
}

/// The catalog's git repository, and where the catalog is inside it.
struct CatalogRepo {
    repo: Repository,
    workdir: PathBuf,
    /// The catalog root relative to the work tree (`""`: the root).
    prefix: PathBuf,
}

impl CatalogRepo {
    /// Opens the repository of `catalog_root` and checks what every
    /// registration needs: a work tree, a commit to branch from, and with
    /// `push` a remote `origin`.
    fn open(catalog_root: &Path, push: bool) -> Result<Self, ScaffoldError> {
        let repo = Repository::discover(catalog_root).map_err(|e| {
            refused(format!(
                "the catalog at {} is not in a git repository ({})",
                catalog_root.display(),
                e.message()
            ))
        })?;
        let workdir = repo
            .workdir()
            .map(Path::to_path_buf)
            .ok_or_else(|| refused("the catalog repository is bare".into()))?;
        let root =
            std::fs::canonicalize(catalog_root).unwrap_or_else(|_| catalog_root.to_path_buf());
        let workdir = std::fs::canonicalize(&workdir).unwrap_or(workdir);
        let prefix: PathBuf = root
            .strip_prefix(&workdir)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        repo.head().and_then(|h| h.peel_to_commit()).map_err(|e| {
            refused(format!(
                "the catalog repository {} has no commit to branch from ({})",
                workdir.display(),
                e.message()
            ))
        })?;
        if push && repo.find_remote("origin").is_err() {
            return Err(push_refused(format!(
                "the catalog repository {} has no remote 'origin' to push to",
                workdir.display()
            )));
        }
        Ok(CatalogRepo {
            repo,
            workdir,
            prefix,
        })
    }

    /// `rel_path` (relative to the catalog) as a path in the repository,
    /// split into its components.
    fn path_in_repo(&self, rel_path: &str) -> Result<(String, Vec<String>), ScaffoldError> {
        let in_repo = self.prefix.join(rel_path);
        let in_repo = in_repo.to_string_lossy().replace('\\', "/");
        let parts: Vec<String> = in_repo
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .map(str::to_string)
            .collect();
        if parts.is_empty() || parts.iter().any(|p| p == "..") {
            return Err(refused(format!(
                "{rel_path:?} is not a path inside the catalog repository"
            )));
        }
        Ok((in_repo, parts))
    }

    /// Refuses when the branch exists or the descriptor's path is taken in
    /// the checked-out commit.
    fn check_free(
        &self,
        branch: &str,
        in_repo: &str,
        parts: &[String],
    ) -> Result<(), ScaffoldError> {
        if self
            .repo
            .find_branch(branch, git2::BranchType::Local)
            .is_ok()
        {
            return Err(refused(format!(
                "branch {branch} already exists in the catalog repository {}; delete it or merge it first",
                self.workdir.display()
            )));
        }
        let tree = self
            .repo
            .head()
            .and_then(|h| h.peel_to_tree())
            .map_err(git("read the catalog's HEAD tree"))?;
        for n in 1..=parts.len() {
            let prefix = parts[..n].join("/");
            let Ok(entry) = tree.get_path(Path::new(&prefix)) else {
                break;
            };
            let is_tree = entry.kind() == Some(git2::ObjectType::Tree);
            if n == parts.len() {
                return Err(refused(format!(
                    "{in_repo} already exists in the catalog repository; nothing was committed"
                )));
            }
            if !is_tree {
                return Err(refused(format!(
                    "{prefix} is a file in the catalog repository, so {in_repo} cannot be created"
                )));
            }
        }
        Ok(())
    }
}

/// The branch a registration of `entity_name` goes on.
pub fn branch_name(entity_name: &str) -> String {
    format!("idp/register-{entity_name}")
}

/// Checks what `--register` (and with `push`, `--push`) needs before
/// anything is asked or written: a catalog in a git repository with a work
/// tree and a commit, and a remote `origin` to push to.
pub fn preflight(catalog_root: &Path, push: bool) -> Result<(), ScaffoldError> {
    CatalogRepo::open(catalog_root, push).map(|_| ())
}

/// Checks, before the project is written, that `entity_name`'s descriptor
/// can be registered as `rel_path`: besides [`preflight`], its branch and
/// its path must not exist yet.
pub fn check(
    catalog_root: &Path,
    entity_name: &str,
    rel_path: &str,
    push: bool,
) -> Result<(), ScaffoldError> {
    let cat = CatalogRepo::open(catalog_root, push)?;
    let (in_repo, parts) = cat.path_in_repo(rel_path)?;
    cat.check_free(&branch_name(entity_name), &in_repo, &parts)
}

/// Whether [`register`] pushes its branch to `origin`.
#[derive(Debug, Clone, Copy)]
pub enum Push<'a> {
    /// Keep the branch local.
    No,
    /// Push it, authenticating as `creds` say (see `crate::git_remote`:
    /// the ssh agent, a token for its own host only, the credential helper).
    ToOrigin {
        /// What to authenticate with.
        creds: &'a Credentials,
    },
}

/// Commits `descriptor` as `rel_path` (relative to `catalog_root`) on a new
/// branch `idp/register-<name>`, and pushes it to `origin` as `push` says.
pub fn register(
    catalog_root: &Path,
    descriptor: &[u8],
    entity_name: &str,
    rel_path: &str,
    push: Push<'_>,
) -> Result<Registered, ScaffoldError> {
    let cat = CatalogRepo::open(catalog_root, matches!(push, Push::ToOrigin { .. }))?;
    let (in_repo, parts) = cat.path_in_repo(rel_path)?;
    let branch = branch_name(entity_name);
    cat.check_free(&branch, &in_repo, &parts)?;
    let repo = &cat.repo;
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();

    let head = repo
        .head()
        .map_err(git("read HEAD of the catalog repository"))?;
    let base = head.shorthand().unwrap_or("HEAD").to_string();
    let parent = head
        .peel_to_commit()
        .map_err(git("read the catalog's HEAD commit"))?;
    let blob = repo
        .blob(descriptor)
        .map_err(git("write descriptor blob"))?;
    let base_tree = parent.tree().map_err(git("read tree"))?;
    let tree_id = insert(repo, Some(&base_tree), &parts, blob, &in_repo)?;
    let tree = repo.find_tree(tree_id).map_err(git("find tree"))?;
    let sig = repo
        .signature()
        .or_else(|_| Signature::now("idp", "idp@localhost"))
        .map_err(git("signature"))?;
    let message =
        format!("Register {entity_name}\n\nAdd {in_repo}, generated by `idp scaffold`.\n");
    // No reference is updated by the commit itself: HEAD, the index and the
    // working tree stay as they are.
    let commit = repo
        .commit(None, &sig, &sig, &message, &tree, &[&parent])
        .map_err(git("commit"))?;
    let commit_obj = repo.find_commit(commit).map_err(git("find commit"))?;
    repo.branch(&branch, &commit_obj, false)
        .map_err(git(format!("create branch {branch}")))?;

    let mut pushed = false;
    if let Push::ToOrigin { creds } = push {
        push_branch(repo, &branch, creds)?;
        pushed = true;
    }
    Ok(Registered {
        branch,
        path: in_repo,
        commit: commit.to_string(),
        base,
        pushed,
    })
}

fn push_branch(repo: &Repository, branch: &str, creds: &Credentials) -> Result<(), ScaffoldError> {
    if repo.find_remote("origin").is_err() {
        return Err(push_refused(
            "the catalog repository has no remote 'origin' to push to".into(),
        ));
    }
    let spec = format!("refs/heads/{branch}:refs/heads/{branch}");
    git_remote::push(repo, "origin", &[spec.as_str()], creds).map_err(|e| match e {
        PushError::Git(e) => git(format!("push {branch} to origin"))(e),
        PushError::Rejected { reference, status } => {
            push_refused(format!("origin refused the push of {reference}: {status}"))
        }
    })
}
