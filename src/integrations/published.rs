//! The published live snapshot: `idp enrich --publish` stores every
//! outcome as one JSON file in a commit on `refs/idp/live` of the catalog
//! repository and pushes it; `idp sync` fetches that ref, and commands read
//! it as a cache layer. Git distributes the data, so an organisation pays
//! each API once per scheduled CI run instead of once per engineer.

use git2::{Oid, Repository, Signature};

use super::engine::LiveSnapshot;
use crate::git_remote::{self, Credentials, PushError, Remote};

/// The ref the snapshot lives on.
pub const LIVE_REF: &str = "refs/idp/live";
/// The file inside the commit.
const FILE: &str = "live.json";

/// Why the snapshot could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// A git operation failed.
    #[error("{what}: {source}")]
    Git {
        /// What was being done.
        what: String,
        /// The git error.
        source: git2::Error,
    },
    /// The remote refused `refs/idp/live` (a protected ref, a hook).
    #[error("the remote refused {reference}: {status}")]
    Refused {
        /// The reference.
        reference: String,
        /// What the server said.
        status: String,
    },
    /// The stored snapshot does not parse.
    #[error("{LIVE_REF}:{FILE} is not a live snapshot: {0}")]
    Corrupt(String),
}

fn git(what: &str) -> impl FnOnce(git2::Error) -> PublishError + '_ {
    move |source| PublishError::Git {
        what: what.to_string(),
        source,
    }
}

/// Whether the git repository enclosing `dir` may have `refs/idp/live`,
/// from the files alone (a loose ref, or a line of `packed-refs`); `true`
/// when unsure (a worktree or submodule `.git` file), so the caller asks git.
pub fn may_have_ref(dir: &std::path::Path) -> bool {
    let start = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    for d in start.ancestors() {
        let git = d.join(".git");
        if git.is_file() {
            return true;
        }
        if git.is_dir() {
            if git.join(LIVE_REF).exists() {
                return true;
            }
            return std::fs::read_to_string(git.join("packed-refs"))
                .map(|t| t.lines().any(|l| l.ends_with(&format!(" {LIVE_REF}"))))
                .unwrap_or(false);
        }
    }
    false
}

/// Reads the snapshot on `refs/idp/live`, if the repository has one.
pub fn read(repo: &Repository) -> Result<Option<LiveSnapshot>, PublishError> {
    let reference = match repo.find_reference(LIVE_REF) {
        Ok(r) => r,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(git("reading refs/idp/live")(e)),
    };
    let commit = reference
        .peel_to_commit()
        .map_err(git("reading refs/idp/live"))?;
    let tree = commit.tree().map_err(git("reading refs/idp/live"))?;
    let Some(entry) = tree.get_name(FILE) else {
        return Err(PublishError::Corrupt(format!("no {FILE} in the commit")));
    };
    let blob = repo
        .find_blob(entry.id())
        .map_err(git("reading refs/idp/live"))?;
    serde_json::from_slice(blob.content())
        .map(Some)
        .map_err(|e| PublishError::Corrupt(e.to_string()))
}

/// Commits the snapshot on `refs/idp/live` (parent: the previous snapshot,
/// so the ref only ever moves forward). Touches neither HEAD, the index
/// nor the working tree.
pub fn write(repo: &Repository, snapshot: &LiveSnapshot) -> Result<Oid, PublishError> {
    let json = serde_json::to_vec_pretty(snapshot).expect("snapshots serialize");
    let blob = repo.blob(&json).map_err(git("writing the snapshot"))?;
    let mut builder = repo
        .treebuilder(None)
        .map_err(git("writing the snapshot"))?;
    builder
        .insert(FILE, blob, 0o100644)
        .map_err(git("writing the snapshot"))?;
    let tree_id = builder.write().map_err(git("writing the snapshot"))?;
    let tree = repo
        .find_tree(tree_id)
        .map_err(git("writing the snapshot"))?;
    let parent = repo
        .find_reference(LIVE_REF)
        .ok()
        .and_then(|r| r.peel_to_commit().ok());
    let signature = repo
        .signature()
        .or_else(|_| Signature::now("idp", "idp@localhost"))
        .map_err(git("signing the snapshot commit"))?;
    let entities = snapshot.entities.len();
    let message = format!("idp live snapshot: {entities} entities");
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(
        Some(LIVE_REF),
        &signature,
        &signature,
        &message,
        &tree,
        &parents,
    )
    .map_err(git("committing the snapshot"))
}

/// Pushes `refs/idp/live` to `remote`, authenticated as `crate::git_remote`
/// says with `creds`.
pub fn push(repo: &Repository, remote: &str, creds: &Credentials) -> Result<(), PublishError> {
    let refspec = format!("+{LIVE_REF}:{LIVE_REF}");
    git_remote::push(repo, remote, &[refspec.as_str()], creds).map_err(|e| match e {
        PushError::Git(e) => git("pushing refs/idp/live")(e),
        PushError::Rejected { reference, status } => PublishError::Refused { reference, status },
    })
}

/// Fetches `refs/idp/live` from `remote` into the same ref; a remote
/// without one is not an error.
pub fn fetch(repo: &Repository, remote: &str, creds: &Credentials) -> Result<bool, PublishError> {
    let refspec = format!("+{LIVE_REF}:{LIVE_REF}");
    match git_remote::fetch(repo, Remote::Named(remote), &[refspec.as_str()], creds) {
        Ok(_) => Ok(repo.find_reference(LIVE_REF).is_ok()),
        Err(e) if e.message().contains("couldn't find remote ref") => Ok(false),
        Err(e) => Err(git("fetching refs/idp/live")(e)),
    }
}
