//! Read access to one state of the catalog's files: the working tree (so
//! uncommitted edits count) or the tree of a commit read straight from git
//! objects. Loading goes through the [`Snapshot`] trait and never cares which.
//!
//! The working-tree snapshot also records what it looked at (directories and
//! their mtimes, files read) so the index can tell later whether anything changed.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use super::error::CatalogError;
use crate::confine::{Root, RootKind};

/// A file in a snapshot.
#[derive(Debug, Clone)]
pub struct FileEntry {
    /// Path relative to the catalog root, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
}

/// One readable state of the catalog.
pub trait Snapshot: Send + Sync {
    /// All files (descriptor candidates and everything else), sorted by path.
    fn files(&self) -> &[FileEntry];
    /// Reads one file by catalog-relative path.
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>>;
    /// Size of one file, if it exists (and may be read).
    fn size(&self, path: &str) -> Option<u64>;
    /// Size of one file; `NotFound` when it does not exist, another error
    /// when it exists but may not be read (it resolves outside the catalog).
    fn stat(&self, path: &str) -> std::io::Result<u64> {
        self.size(path)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "not found"))
    }
}

/// The working tree under a directory, honouring `.gitignore`.
///
/// Reads are confined to the catalog root: a file the walk listed is a
/// regular file reached through real directories (the walk follows no
/// symlink), so it is read directly; anything else (a Location target or
/// substitution through a symlink, a hidden or ignored file) goes through
/// [`Root`], which refuses what resolves outside the root.
pub struct WorkTree {
    root: PathBuf,
    confine: Root,
    files: Vec<FileEntry>,
    sizes: HashMap<String, u64>,
    /// Directories walked, relative (`""` is the root).
    pub dirs: Vec<String>,
    read_log: Mutex<Vec<String>>,
}

impl WorkTree {
    /// Lists the files under `root`, skipping hidden and git-ignored paths
    /// (walking on all cores: a catalog can have thousands of directories).
    pub fn open(root: &Path) -> Result<Self, CatalogError> {
        let confine = Root::new(root, RootKind::Catalog)
            .map_err(|e| CatalogError::io(root, std::io::Error::from(e)))?;
        let found: Mutex<(Vec<FileEntry>, Vec<String>)> = Mutex::new((Vec::new(), Vec::new()));
        // Ignore files above the catalog count only up to the root of the
        // git repository that holds it, as git applies them: a `.gitignore`
        // with `*` in a parent directory must not hide the catalog. Inside a
        // repository, `require_git` makes the walker stop at the first
        // directory with a `.git`; outside one, only the catalog's own
        // ignore files count.
        let in_repo = in_git_repository(confine.path());
        ignore::WalkBuilder::new(root)
            .hidden(true)
            .git_ignore(true)
            .git_exclude(true)
            .git_global(false)
            .require_git(in_repo)
            .parents(in_repo)
            .build_parallel()
            .run(|| {
                let found = &found;
                Box::new(move |entry| {
                    // An unreadable subdirectory should not hide the rest of the catalog.
                    let Ok(entry) = entry else {
                        return ignore::WalkState::Continue;
                    };
                    let rel = relative(root, entry.path());
                    let file = match entry.file_type() {
                        Some(t) if t.is_dir() => None,
                        Some(t) if t.is_file() => {
                            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                            Some(FileEntry {
                                path: rel.clone(),
                                size,
                            })
                        }
                        _ => return ignore::WalkState::Continue,
                    };
                    if let Ok(mut f) = found.lock() {
                        match file {
                            Some(file) => f.0.push(file),
                            None => f.1.push(rel),
                        }
                    }
                    ignore::WalkState::Continue
                })
            });
        let (mut files, mut dirs) = found.into_inner().unwrap_or_default();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        dirs.sort();
        if dirs.is_empty() {
            return Err(CatalogError::missing(root));
        }
        let sizes = files.iter().map(|f| (f.path.clone(), f.size)).collect();
        Ok(WorkTree {
            root: root.to_path_buf(),
            confine,
            files,
            sizes,
            dirs,
            read_log: Mutex::new(Vec::new()),
        })
    }

    /// The directory this snapshot reads.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every file read so far (for the index fingerprint).
    pub fn files_read(&self) -> Vec<String> {
        let mut v = self.read_log.lock().map(|l| l.clone()).unwrap_or_default();
        v.sort();
        v.dedup();
        v
    }
}

impl Snapshot for WorkTree {
    fn files(&self) -> &[FileEntry] {
        &self.files
    }

    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        let bytes = if self.sizes.contains_key(path) {
            std::fs::read(self.root.join(path))
        } else {
            // Not listed by the walk: through a symlink, hidden or ignored.
            self.confine.read(path).map_err(std::io::Error::from)
        };
        // A refused read is not logged: the index must not stat (or hash)
        // what lies outside the catalog.
        if bytes.is_ok()
            || bytes
                .as_ref()
                .is_err_and(|e| e.kind() == ErrorKind::NotFound)
        {
            if let Ok(mut log) = self.read_log.lock() {
                log.push(path.to_string());
            }
        }
        bytes
    }

    fn size(&self, path: &str) -> Option<u64> {
        self.stat(path).ok()
    }

    fn stat(&self, path: &str) -> std::io::Result<u64> {
        if let Some(size) = self.sizes.get(path) {
            return Ok(*size);
        }
        // Files outside the walk (ignored, hidden, behind a symlink) can
        // still be named by a Location or substitution.
        let meta = self.confine.metadata(path)?;
        if meta.is_file() {
            Ok(meta.len())
        } else {
            Err(std::io::Error::new(ErrorKind::NotFound, "not a file"))
        }
    }
}

/// Whether `dir` is inside a git working tree (a `.git` directory or file
/// in it or above it).
fn in_git_repository(dir: &Path) -> bool {
    dir.ancestors()
        .any(|d| std::fs::symlink_metadata(d.join(".git")).is_ok())
}

/// The tree of one commit, read from git objects without a checkout.
pub struct GitTree {
    repo: Mutex<git2::Repository>,
    /// The repository's git directory, for per-thread handles.
    git_dir: PathBuf,
    files: Vec<FileEntry>,
    blobs: HashMap<String, git2::Oid>,
    /// Id of the tree read (the catalog root's tree).
    pub tree_id: git2::Oid,
    /// Id of the commit read.
    pub commit_id: git2::Oid,
}

/// The tree of the catalog directory `subdir` (`""`: the root) at `commit_id`.
pub fn catalog_tree<'r>(
    repo: &'r git2::Repository,
    commit_id: git2::Oid,
    subdir: &str,
) -> Result<git2::Tree<'r>, CatalogError> {
    let commit = repo
        .find_commit(commit_id)
        .map_err(|e| CatalogError::git("cannot read commit", commit_id.to_string(), e))?;
    let mut tree = commit
        .tree()
        .map_err(|e| CatalogError::git("cannot read tree of", commit_id.to_string(), e))?;
    if !subdir.is_empty() {
        let entry = tree.get_path(Path::new(subdir)).map_err(|e| {
            CatalogError::git("catalog directory not in commit:", subdir.to_string(), e)
        })?;
        tree = repo
            .find_tree(entry.id())
            .map_err(|e| CatalogError::git("not a directory in commit:", subdir.to_string(), e))?;
    }
    Ok(tree)
}

impl GitTree {
    /// A snapshot of `commit_id` that holds only `files` (catalog-relative
    /// path and blob id, as a tree diff names them): reading a few changed
    /// files needs no walk of the whole tree.
    pub fn with_files(
        repo: git2::Repository,
        commit_id: git2::Oid,
        tree_id: git2::Oid,
        files: &[(String, git2::Oid)],
    ) -> Result<Self, CatalogError> {
        tune_libgit2();
        let odb = repo
            .odb()
            .map_err(|e| CatalogError::git("cannot open object database of", "repo", e))?;
        let mut entries = Vec::with_capacity(files.len());
        let mut blobs = HashMap::with_capacity(files.len());
        for (path, id) in files {
            let (size, _) = odb
                .read_header(*id)
                .map_err(|e| CatalogError::git("missing object for", path.clone(), e))?;
            blobs.insert(path.clone(), *id);
            entries.push(FileEntry {
                path: path.clone(),
                size: size as u64,
            });
        }
        drop(odb);
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(GitTree {
            git_dir: repo.path().to_path_buf(),
            repo: Mutex::new(repo),
            files: entries,
            blobs,
            tree_id,
            commit_id,
        })
    }

    /// Reads the tree of `commit` under `subdir` (`""` for the repo root).
    pub fn open(
        repo: git2::Repository,
        commit_id: git2::Oid,
        subdir: &str,
    ) -> Result<Self, CatalogError> {
        tune_libgit2();
        let (files, blobs, tree_id) = {
            let tree = catalog_tree(&repo, commit_id, subdir)?;
            let odb = repo
                .odb()
                .map_err(|e| CatalogError::git("cannot open object database of", "repo", e))?;
            let mut files = Vec::new();
            let mut blobs = HashMap::new();
            let mut failed = None;
            tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                // A symlink is a blob too (mode 120000) holding the link's
                // text: never content, and never followed.
                if entry.kind() == Some(git2::ObjectType::Blob) && entry.filemode() != 0o120000 {
                    let name = entry.name().unwrap_or_default();
                    let path = format!("{dir}{name}");
                    let size = match odb.read_header(entry.id()) {
                        Ok((size, _)) => size as u64,
                        Err(e) => {
                            failed = Some(CatalogError::git("missing object for", path, e));
                            return git2::TreeWalkResult::Abort;
                        }
                    };
                    blobs.insert(path.clone(), entry.id());
                    files.push(FileEntry { path, size });
                }
                git2::TreeWalkResult::Ok
            })
            .map_err(|e| CatalogError::git("cannot walk tree of", commit_id.to_string(), e))?;
            if let Some(err) = failed {
                return Err(err);
            }
            files.sort_by(|a, b| a.path.cmp(&b.path));
            (files, blobs, tree.id())
        };
        Ok(GitTree {
            git_dir: repo.path().to_path_buf(),
            repo: Mutex::new(repo),
            files,
            blobs,
            tree_id,
            commit_id,
        })
    }
}

thread_local! {
    /// This thread's handle on the repository a [`GitTree`] reads.
    static THREAD_REPO: std::cell::RefCell<Option<(PathBuf, git2::Repository)>> =
        const { std::cell::RefCell::new(None) };
}

impl Snapshot for GitTree {
    fn files(&self) -> &[FileEntry] {
        &self.files
    }

    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        let not_found = || std::io::Error::new(std::io::ErrorKind::NotFound, "not in commit");
        let oid = *self.blobs.get(path).ok_or_else(not_found)?;
        let to_io = |e: git2::Error| std::io::Error::other(e.message().to_string());
        // Loads read files on all cores; a libgit2 handle is not shareable
        // between threads, so each worker thread opens its own (cheap: the
        // pack index is mapped, not read).
        let mine = THREAD_REPO.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.as_ref().is_none_or(|(dir, _)| *dir != self.git_dir) {
                *slot = git2::Repository::open(&self.git_dir)
                    .ok()
                    .map(|r| (self.git_dir.clone(), r));
            }
            slot.as_ref()
                .map(|(_, repo)| repo.find_blob(oid).map(|b| b.content().to_vec()))
        });
        match mine {
            Some(result) => result.map_err(to_io),
            None => {
                let repo = self
                    .repo
                    .lock()
                    .map_err(|_| std::io::Error::other("repository lock poisoned"))?;
                let blob = repo.find_blob(oid).map_err(to_io)?;
                Ok(blob.content().to_vec())
            }
        }
    }

    fn size(&self, path: &str) -> Option<u64> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .map(|i| self.files[i].size)
    }
}

/// Process-wide libgit2 settings for reading many objects fast, applied once.
///
/// - Objects are not re-hashed on every read (strict hash verification):
///   idp only reads, and hashing every tree and blob of a thousand commits
///   was 40% of `history`'s time.
/// - Big trees are cached: a directory of thousands of descriptors is a tree
///   of hundreds of kilobytes, and libgit2 caches only small trees by
///   default, so each version would be rebuilt from deltas again and again.
pub fn tune_libgit2() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        git2::opts::strict_hash_verification(false);
        // SAFETY: called once, before any repository is opened by this
        // process's history or tree readers.
        unsafe {
            let _ = git2::opts::set_cache_object_limit(git2::ObjectType::Tree, 4 << 20);
        }
    });
}

/// `path` relative to `root`, `/`-separated (`""` for the root itself).
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut s = String::new();
    for (i, part) in rel.components().enumerate() {
        if i > 0 {
            s.push('/');
        }
        s.push_str(&part.as_os_str().to_string_lossy());
    }
    s
}

/// Modification time in nanoseconds since the epoch (0 when unknown).
pub fn mtime_ns(meta: &std::fs::Metadata) -> u128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Loose files named on the command line, outside any catalog. The named
/// files are read as named; what they refer to (substitutions) is confined
/// to the directory they were named from.
pub struct FileSet {
    root: PathBuf,
    confine: Option<Root>,
    files: Vec<FileEntry>,
    /// Files found under a directory that was named, rather than named.
    walked: std::collections::HashSet<String>,
}

impl FileSet {
    /// `paths` are relative to `root` (or absolute); directories are expanded
    /// to the `*.yaml`/`*.yml` files under them.
    pub fn new(root: &Path, paths: &[PathBuf]) -> Result<Self, CatalogError> {
        let mut files = Vec::new();
        let mut named = std::collections::HashSet::new();
        for p in paths {
            let full = root.join(p);
            let meta = std::fs::metadata(&full).map_err(|e| CatalogError::io(&full, e))?;
            if meta.is_dir() {
                for entry in ignore::WalkBuilder::new(&full)
                    .sort_by_file_name(|a, b| a.cmp(b))
                    .build()
                    .flatten()
                {
                    let path = entry.path();
                    let is_yaml = path.extension().is_some_and(|x| x == "yaml" || x == "yml");
                    if is_yaml && entry.file_type().is_some_and(|t| t.is_file()) {
                        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                        files.push(FileEntry {
                            path: display(root, path),
                            size,
                        });
                    }
                }
            } else {
                named.insert(display(root, &full));
                files.push(FileEntry {
                    path: display(root, &full),
                    size: meta.len(),
                });
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files.dedup_by(|a, b| a.path == b.path);
        let walked = files
            .iter()
            .filter(|f| !named.contains(&f.path))
            .map(|f| f.path.clone())
            .collect();
        Ok(FileSet {
            root: root.to_path_buf(),
            confine: Root::new(root, RootKind::Directory).ok(),
            files,
            walked,
        })
    }

    /// Whether `path` was found under a named directory (not named itself).
    pub fn found_in_directory(&self, path: &str) -> bool {
        self.walked.contains(path)
    }
}

fn display(root: &Path, path: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(_) => relative(root, path),
        Err(_) => path.to_string_lossy().into_owned(),
    }
}

impl Snapshot for FileSet {
    fn files(&self) -> &[FileEntry] {
        &self.files
    }

    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        if self.is_named(path) {
            return std::fs::read(self.root.join(path));
        }
        self.confined()?.read(path).map_err(std::io::Error::from)
    }

    fn size(&self, path: &str) -> Option<u64> {
        self.stat(path).ok()
    }

    fn stat(&self, path: &str) -> std::io::Result<u64> {
        let meta = if self.is_named(path) {
            std::fs::metadata(self.root.join(path))?
        } else {
            self.confined()?.metadata(path)?
        };
        if meta.is_file() {
            Ok(meta.len())
        } else {
            Err(std::io::Error::new(ErrorKind::NotFound, "not a file"))
        }
    }
}

impl FileSet {
    fn is_named(&self, path: &str) -> bool {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .is_ok()
    }

    fn confined(&self) -> std::io::Result<&Root> {
        self.confine
            .as_ref()
            .ok_or_else(|| std::io::Error::new(ErrorKind::NotFound, "directory not readable"))
    }
}
