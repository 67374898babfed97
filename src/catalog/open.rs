//! Opening a catalog: from the location and flags to a loaded [`Catalog`],
//! through the index when it is still valid. This is the one entry point
//! commands use; it decides working tree vs. git objects vs. remote clone.

use std::path::Path;
use std::sync::Arc;

use super::config::Dirs;
use super::discover::CatalogLocation;
use super::error::CatalogError;
use super::index::{self, Fingerprint, IndexFile};
use super::load::{include_globs, load_with, read_config, Loaded};
use super::remote::{open_remote, FetchPolicy};
use super::snapshot::{relative, GitTree, Snapshot, WorkTree};
use super::{Catalog, CatalogConfig, Origin};

/// How to open the catalog.
#[derive(Debug, Clone)]
pub struct OpenOptions<'a> {
    /// Where it is.
    pub location: &'a CatalogLocation,
    /// `--ref`: read this revision from git objects instead of the working tree.
    pub rev: Option<&'a str>,
    /// Network policy for remote catalogs.
    pub fetch: FetchPolicy,
    /// Cache and config directories.
    pub dirs: &'a Dirs,
    /// Use and refresh the on-disk index (off for `validate`, which needs
    /// every document and problem).
    pub use_index: bool,
    /// Catalog-relative files to load even if `idp.yaml`'s globs leave them out.
    pub extra_files: &'a [String],
    /// With `use_index`, leave writing a working tree's index to the caller
    /// ([`Opened::index`]), which adds its own section (`validate`).
    pub defer_index_write: bool,
}

impl OpenOptions<'_> {
    /// Whether the load keeps each file's position tree: for `validate`
    /// and the commands that skip the index; a catalog from the index has
    /// none either, so nothing else relies on them.
    fn wants_positions(&self) -> bool {
        !self.use_index || self.defer_index_write
    }
}

/// A catalog plus what the user should be told about how it was read.
pub struct Opened {
    /// The catalog.
    pub catalog: Catalog,
    /// Non-fatal notes (a failed fetch, a corrupt repository, …).
    pub warnings: Vec<String>,
    /// What only `-v` shows (a damaged index that was rebuilt).
    pub notes: Vec<String>,
    /// The files it was read from (`None` when it came from the index).
    pub snapshot: Option<Arc<dyn Snapshot>>,
    /// The working tree's index, when the caller writes it (see
    /// [`OpenOptions::defer_index_write`]).
    pub index: Option<IndexHandle>,
}

/// A working tree's index left for the caller to write.
pub struct IndexHandle {
    cache: std::path::PathBuf,
    key: String,
    /// The index file as found, current (the catalog came from it) or
    /// stale (its sections may still hold records of unchanged files).
    pub previous: Option<IndexFile>,
    /// Whether the catalog came from `previous`.
    pub current: bool,
    /// What a fresh load read (`None` when the catalog came from the index).
    pub fingerprint: Option<Fingerprint>,
}

impl IndexHandle {
    /// Writes the index of `catalog` with `sections` (replacing only the
    /// sections when the catalog came from the index). Failures are ignored.
    pub fn write(&self, catalog: &Catalog, sections: Vec<(String, Vec<u8>)>) {
        match (&self.previous, self.current) {
            (Some(previous), true) => previous.replace_sections(sections),
            _ => index::write_with(
                &self.cache,
                &self.key,
                catalog,
                self.fingerprint.clone(),
                sections,
                self.previous.as_ref(),
            ),
        }
    }
}

/// Opens the catalog as the options say.
pub fn open(opts: &OpenOptions) -> Result<Opened, CatalogError> {
    match opts.location {
        CatalogLocation::Dir(dir) => open_dir(dir, opts),
        CatalogLocation::Remote(url) => {
            let clone = open_remote(&opts.dirs.cache, url, opts.fetch)?;
            let warnings = clone.warning.into_iter().collect();
            let commit = resolve_commit(&clone.repo, opts.rev, url)?;
            let mut opened = open_commit(clone.repo, commit, "", url, opts)?;
            opened.warnings = warnings;
            Ok(opened)
        }
    }
}

/// The index file under `key`, when the index is in use and holds a sound
/// copy (current or not); a damaged one is noted (for `-v`) and rebuilt.
fn index_file(opts: &OpenOptions, key: &str, notes: &mut Vec<String>) -> Option<IndexFile> {
    if !opts.use_index {
        return None;
    }
    match index::open_file(&opts.dirs.cache, key) {
        Ok(file) => Some(file),
        Err(miss @ index::Miss::Corrupt { .. }) => {
            notes.push(miss.to_string());
            None
        }
        Err(_) => None,
    }
}

/// The catalog from a current index file; a damaged one is noted and rebuilt.
fn catalog_of(file: Option<&IndexFile>, notes: &mut Vec<String>) -> Option<Catalog> {
    let file = file?;
    // The freshness proof is thousands of stats (115,000 at 100k
    // entities): the catalog is read from the index meanwhile, and dropped
    // when a file changed (a full read follows then, which costs far
    // more). The records read on first use are checked after the proof,
    // right before they are used.
    let (current, catalog) = rayon::join(|| file.is_current(), || file.catalog_unchecked());
    if !current {
        return None;
    }
    match catalog.and_then(|c| file.check_records().map(|()| c)) {
        Ok(catalog) => Some(catalog),
        Err(miss) => {
            if let index::Miss::Corrupt { .. } = miss {
                notes.push(miss.to_string());
            }
            None
        }
    }
}

fn open_dir(dir: &Path, opts: &OpenOptions) -> Result<Opened, CatalogError> {
    if !dir.is_dir() {
        return Err(CatalogError::missing(dir));
    }
    let root = dir.canonicalize().map_err(|e| CatalogError::io(dir, e))?;
    let label = dir.display().to_string();
    if let Some(rev) = opts.rev {
        let handle = dir_repository(dir, &format!("reading revision '{rev}'"))?;
        let commit = resolve_commit(&handle.repo, Some(rev), &label)?;
        return open_commit(handle.repo, commit, &handle.subdir, &label, opts);
    }

    let key = index::worktree_key(&root);
    let mut notes = Vec::new();
    let previous = index_file(opts, &key, &mut notes);
    if let Some(mut catalog) = catalog_of(previous.as_ref(), &mut notes) {
        catalog.origin.location = label;
        let index = opts.defer_index_write.then(|| IndexHandle {
            cache: opts.dirs.cache.clone(),
            key,
            previous,
            current: true,
            fingerprint: None,
        });
        return Ok(Opened {
            catalog,
            warnings: Vec::new(),
            notes,
            snapshot: None,
            index,
        });
    }
    let mut warnings = Vec::new();
    // The working tree is readable without git; a broken repository is worth
    // a warning (history-based commands will fail) but not a refusal. Checked
    // on this cold path only, to keep warm runs free of libgit2 start-up,
    // and on its own thread while the files are read (opening a repository
    // is tens of milliseconds of a cold run).
    let (problem, read) = std::thread::scope(|s| {
        let check = s.spawn(|| repository_problem(&root));
        let read = (|| -> Result<_, CatalogError> {
            let tree = WorkTree::open(&root)?;
            let config = read_config(&tree, &label)?;
            let loaded = load_with(&tree, &config, opts.extra_files, opts.wants_positions())?;
            Ok((tree, config, loaded))
        })();
        (check.join().ok().flatten(), read)
    });
    if let Some(problem) = problem {
        warnings.push(format!(
            "the git repository around {label} is damaged ({problem}); reading the files as they are"
        ));
    }
    let (tree, config, loaded) = read?;
    require_descriptors(&loaded, &config, &label, opts)?;
    let origin = Origin {
        location: label,
        commit: None,
    };
    // Stamping the files read (thousands of stats) fills the cores the
    // catalog's serial assembly leaves idle.
    let (catalog, fingerprint) = rayon::join(
        || Catalog::new(loaded, config, origin),
        || opts.use_index.then(|| Fingerprint::of_worktree(&tree)),
    );
    let mut index = None;
    if opts.use_index {
        let handle = IndexHandle {
            cache: opts.dirs.cache.clone(),
            key,
            previous,
            current: false,
            fingerprint,
        };
        if opts.defer_index_write {
            index = Some(handle);
        } else {
            handle.write(&catalog, Vec::new());
        }
    }
    Ok(Opened {
        catalog,
        warnings,
        notes,
        snapshot: Some(Arc::new(tree)),
        index,
    })
}

fn open_commit(
    repo: git2::Repository,
    commit: git2::Oid,
    subdir: &str,
    label: &str,
    opts: &OpenOptions,
) -> Result<Opened, CatalogError> {
    let shallow = repo.is_shallow();
    let shallow_hint = |e| match e {
        CatalogError::Git {
            action,
            target,
            source,
        } if shallow => CatalogError::Git {
            action,
            target: format!("{target} (the repository is a shallow clone; history is limited)"),
            source,
        },
        other => other,
    };
    // The index is keyed by the tree's id: found, it answers without
    // walking the tree (10,000 entries and their sizes at 10k entities).
    let tree_id = super::snapshot::catalog_tree(&repo, commit, subdir)
        .map_err(shallow_hint)?
        .id();
    let key = format!("tree:{tree_id}");
    let origin = Origin {
        location: label.to_string(),
        commit: Some(commit.to_string()),
    };
    let mut notes = Vec::new();
    // A command that writes the index itself does so for working trees only.
    let opts = &OpenOptions {
        use_index: opts.use_index && !opts.defer_index_write,
        ..opts.clone()
    };
    let previous = index_file(opts, &key, &mut notes);
    if let Some(mut catalog) = catalog_of(previous.as_ref(), &mut notes) {
        catalog.origin = origin;
        return Ok(Opened {
            catalog,
            warnings: Vec::new(),
            notes,
            snapshot: None,
            index: None,
        });
    }
    let tree = GitTree::open(repo, commit, subdir).map_err(shallow_hint)?;
    let config = read_config(&tree as &dyn Snapshot, label)?;
    let loaded = load_with(&tree, &config, opts.extra_files, opts.wants_positions())?;
    require_descriptors(&loaded, &config, label, opts)?;
    let catalog = Catalog::new(loaded, config, origin);
    if opts.use_index {
        index::write_with(
            &opts.dirs.cache,
            &key,
            &catalog,
            None,
            Vec::new(),
            previous.as_ref(),
        );
    }
    Ok(Opened {
        catalog,
        warnings: Vec::new(),
        notes,
        snapshot: Some(Arc::new(tree)),
        index: None,
    })
}

/// Refuses a catalog with no descriptor file at all: a `--catalog` pointing
/// at the wrong directory must not pass for an empty catalog. Only the
/// current catalog is held to this (an old revision may well predate the
/// first descriptor), and only when nothing was read: a broken file or a
/// rejected document is a catalog with problems, not the wrong directory.
fn require_descriptors(
    loaded: &Loaded,
    config: &CatalogConfig,
    label: &str,
    opts: &OpenOptions,
) -> Result<(), CatalogError> {
    let nothing =
        loaded.entities.is_empty() && loaded.rejected.is_empty() && loaded.problems.is_empty();
    if nothing && opts.rev.is_none() && opts.extra_files.is_empty() {
        return Err(CatalogError::NoDescriptors {
            location: label.to_string(),
            include: include_globs(config),
        });
    }
    Ok(())
}

/// The commit a revision names (`HEAD` when none).
fn resolve_commit(
    repo: &git2::Repository,
    rev: Option<&str>,
    label: &str,
) -> Result<git2::Oid, CatalogError> {
    let spec = rev.unwrap_or("HEAD");
    let object = repo.revparse_single(spec).map_err(|e| {
        if rev.is_none() {
            return CatalogError::git("cannot read HEAD of", label.to_string(), e);
        }
        let hint = if repo.is_shallow() {
            " (the repository is a shallow clone; history is limited)".to_string()
        } else {
            String::new()
        };
        CatalogError::BadRevision {
            rev: spec.to_string(),
            repo: label.to_string(),
            hint,
        }
    })?;
    let commit = object
        .peel_to_commit()
        .map_err(|_| CatalogError::BadRevision {
            rev: spec.to_string(),
            repo: label.to_string(),
            hint: " (it does not name a commit)".into(),
        })?;
    Ok(commit.id())
}

/// Why the repository around `root` cannot be read, if it cannot: not a
/// repository at all is fine (a plain directory); a HEAD that does not
/// resolve to a commit and tree is not (an unborn branch is).
fn repository_problem(root: &Path) -> Option<String> {
    let repo = match git2::Repository::discover(root) {
        Ok(r) => r,
        Err(e)
            if e.code() == git2::ErrorCode::NotFound
                && e.class() == git2::ErrorClass::Repository =>
        {
            // Distinguish "no repository" from a `.git` that is there but broken.
            return has_git_entry(root).then(|| e.message().to_string());
        }
        Err(e) => return Some(e.message().to_string()),
    };
    let head = match repo.head() {
        Ok(h) => h,
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => return None,
        Err(e) => return Some(e.message().to_string()),
    };
    head.peel_to_tree().err().map(|e| e.message().to_string())
}

fn has_git_entry(root: &Path) -> bool {
    root.ancestors().any(|d| d.join(".git").exists())
}

/// The git repository that holds a catalog, for history, diffs and time travel.
pub struct CatalogRepo {
    /// The repository (a checkout, or the bare clone of a remote catalog).
    pub repo: git2::Repository,
    /// The catalog's directory within the repository (`""`: the root).
    pub subdir: String,
    /// The catalog as the user named it.
    pub label: String,
}

impl CatalogRepo {
    /// The commit `rev` names (`HEAD` when `None`).
    pub fn commit(&self, rev: Option<&str>) -> Result<git2::Oid, CatalogError> {
        resolve_commit(&self.repo, rev, &self.label)
    }
}

/// Opens the repository of a catalog. `what` names the feature that needs
/// git, for the error when the catalog is a plain directory.
pub fn repository(
    location: &CatalogLocation,
    fetch: FetchPolicy,
    dirs: &Dirs,
    what: &str,
) -> Result<CatalogRepo, CatalogError> {
    match location {
        CatalogLocation::Dir(dir) => dir_repository(dir, what),
        CatalogLocation::Remote(url) => {
            let clone = open_remote(&dirs.cache, url, fetch)?;
            Ok(CatalogRepo {
                repo: clone.repo,
                subdir: String::new(),
                label: url.clone(),
            })
        }
    }
}

fn dir_repository(dir: &Path, what: &str) -> Result<CatalogRepo, CatalogError> {
    if !dir.is_dir() {
        return Err(CatalogError::missing(dir));
    }
    let root = dir.canonicalize().map_err(|e| CatalogError::io(dir, e))?;
    let label = dir.display().to_string();
    let repo = match git2::Repository::discover(&root) {
        Ok(r) => r,
        Err(e) if e.code() == git2::ErrorCode::NotFound => {
            return Err(CatalogError::NotGit {
                what: what.to_string(),
                path: dir.into(),
            })
        }
        Err(e) => return Err(CatalogError::git("cannot open git repository at", label, e)),
    };
    let top = repo
        .workdir()
        .and_then(|w| w.canonicalize().ok())
        .unwrap_or_else(|| root.clone());
    let subdir = relative(&top, &root);
    Ok(CatalogRepo {
        repo,
        subdir,
        label,
    })
}
