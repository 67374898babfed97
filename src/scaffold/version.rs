//! Template versions: which commit of a template's git repository a project
//! was made from, which one is the newest, and the template's files at any
//! of them.
//!
//! A template lives in a git repository (the catalog repository for catalog
//! templates, its own repository for a cookiecutter directory). The version
//! a project was made from is the commit recorded in `.idp/answers.yaml`.
//! The newest version is, like copier's, the highest semver tag (`v1.2.0` or
//! `1.2.0`, pre-releases ignored) when the repository has any, else the
//! current `HEAD`. A newer version exists when the newest commit is not the
//! recorded one nor one of its ancestors, and the template's own directory
//! differs between the two (commits that only touch other parts of a
//! catalog repository do not count).
//!
//! [`TemplateRepo::materialize`] writes the template's files at a commit
//! into a directory (regular files with their executable bit, symlinks), so
//! the renderer can render any version. This module never prints.

use std::fmt;
use std::path::{Path, PathBuf};

/// An error finding or reading a template version.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    /// The template is not inside a git repository.
    #[error("{path} is not in a git repository, so template versions cannot be told apart")]
    NotARepo {
        /// The template directory.
        path: PathBuf,
    },
    /// The recorded commit is not in the template's repository.
    #[error(
        "commit {commit} is not in the template repository {repo} (was its history rewritten?)"
    )]
    UnknownCommit {
        /// The commit as recorded.
        commit: String,
        /// The repository.
        repo: PathBuf,
    },
    /// The template directory does not exist at a commit.
    #[error("the template directory {subdir} does not exist at commit {commit} of {repo}")]
    MissingDir {
        /// The template directory, relative to the repository root.
        subdir: PathBuf,
        /// The commit.
        commit: String,
        /// The repository.
        repo: PathBuf,
    },
    /// A git operation failed.
    #[error("{what} in {repo}: {error}")]
    Git {
        /// What was being done.
        what: String,
        /// The repository.
        repo: PathBuf,
        /// The underlying error (in the message, so not chained as a source:
        /// error reports would say it twice).
        error: git2::Error,
    },
    /// Writing a materialized file failed.
    #[error("write {path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error (in the message, so not chained as a source:
        /// error reports would say it twice).
        error: std::io::Error,
    },
}

/// One version of a template: a commit and, when it has one, its tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The commit.
    pub commit: git2::Oid,
    /// The semver tag naming it, if the version was chosen by tag.
    pub tag: Option<String>,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = short_id(&self.commit);
        match &self.tag {
            Some(tag) => write!(f, "{tag} ({short})"),
            None => f.write_str(&short),
        }
    }
}

/// The first 12 hex digits of a commit id.
pub fn short_id(oid: &git2::Oid) -> String {
    oid.to_string()[..12].to_string()
}

/// A template directory inside a git repository.
pub struct TemplateRepo {
    repo: git2::Repository,
    /// Where the repository is (for messages).
    root: PathBuf,
    /// The template directory relative to the repository root ("" = root).
    subdir: PathBuf,
}

impl TemplateRepo {
    /// The repository containing `template_dir` (a directory of a working
    /// tree); the template is that directory.
    pub fn discover(template_dir: &Path) -> Result<Self, VersionError> {
        let not_repo = || VersionError::NotARepo {
            path: template_dir.to_path_buf(),
        };
        let repo = git2::Repository::discover(template_dir).map_err(|_| not_repo())?;
        let workdir = repo.workdir().ok_or_else(not_repo)?;
        let workdir = workdir
            .canonicalize()
            .unwrap_or_else(|_| workdir.to_path_buf());
        let dir = template_dir
            .canonicalize()
            .unwrap_or_else(|_| template_dir.to_path_buf());
        let subdir = dir
            .strip_prefix(&workdir)
            .map_err(|_| not_repo())?
            .to_path_buf();
        Ok(TemplateRepo {
            repo,
            root: workdir,
            subdir,
        })
    }

    /// The template at `subdir` (relative to the root) of an open repository.
    pub fn new(repo: git2::Repository, subdir: impl Into<PathBuf>) -> Self {
        let root = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
        TemplateRepo {
            repo,
            root,
            subdir: subdir.into(),
        }
    }

    /// The same repository with another template directory.
    pub fn with_subdir(self, subdir: impl Into<PathBuf>) -> Self {
        TemplateRepo {
            subdir: subdir.into(),
            ..self
        }
    }

    /// Whether `rel` (relative to the repository root) is a file at `commit`
    /// (a Backstage template recorded by its file, not its directory).
    pub fn is_file_at(&self, commit: git2::Oid, rel: &Path) -> bool {
        let Ok(tree) = self.repo.find_commit(commit).and_then(|c| c.tree()) else {
            return false;
        };
        tree.get_path(rel)
            .is_ok_and(|e| e.kind() == Some(git2::ObjectType::Blob))
    }

    /// The template directory relative to the repository root.
    pub fn subdir(&self) -> &Path {
        &self.subdir
    }

    /// The repository's location (working tree, or the git dir if bare).
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn git(&self, what: impl Into<String>) -> impl FnOnce(git2::Error) -> VersionError + '_ {
        let what = what.into();
        move |error| VersionError::Git {
            what,
            repo: self.root.clone(),
            error,
        }
    }

    /// The commit a recorded id names.
    pub fn commit(&self, recorded: &str) -> Result<git2::Oid, VersionError> {
        let unknown = || VersionError::UnknownCommit {
            commit: recorded.to_string(),
            repo: self.root.clone(),
        };
        let obj = self.repo.revparse_single(recorded).map_err(|_| unknown())?;
        let commit = obj.peel_to_commit().map_err(|_| unknown())?;
        Ok(commit.id())
    }

    /// The newest version: the highest semver tag, else `HEAD`.
    pub fn latest(&self) -> Result<Version, VersionError> {
        if let Some(v) = self.highest_tag()? {
            return Ok(v);
        }
        let head = self
            .repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(self.git("read HEAD"))?;
        Ok(Version {
            commit: head.id(),
            tag: None,
        })
    }

    /// The highest semver tag that is not a pre-release.
    fn highest_tag(&self) -> Result<Option<Version>, VersionError> {
        let names = self.repo.tag_names(None).map_err(self.git("list tags"))?;
        let mut best: Option<(semver::Version, String)> = None;
        for name in names.iter().flatten() {
            let Ok(v) = semver::Version::parse(name.strip_prefix('v').unwrap_or(name)) else {
                continue;
            };
            if !v.pre.is_empty() {
                continue;
            }
            if best.as_ref().is_none_or(|(b, _)| v > *b) {
                best = Some((v, name.to_string()));
            }
        }
        let Some((_, name)) = best else {
            return Ok(None);
        };
        let commit = self
            .repo
            .revparse_single(&format!("refs/tags/{name}"))
            .and_then(|o| o.peel_to_commit())
            .map_err(self.git(format!("resolve tag {name}")))?;
        Ok(Some(Version {
            commit: commit.id(),
            tag: Some(name),
        }))
    }

    /// The tag naming `commit` exactly, if a semver tag does.
    pub fn describe(&self, commit: git2::Oid) -> Version {
        let mut tag = None;
        if let Ok(names) = self.repo.tag_names(None) {
            for name in names.iter().flatten() {
                let points_here = self
                    .repo
                    .revparse_single(&format!("refs/tags/{name}"))
                    .and_then(|o| o.peel_to_commit())
                    .is_ok_and(|c| c.id() == commit);
                if points_here
                    && semver::Version::parse(name.strip_prefix('v').unwrap_or(name)).is_ok()
                {
                    tag = Some(name.to_string());
                    break;
                }
            }
        }
        Version { commit, tag }
    }

    /// The id of the template directory's tree at a commit.
    pub fn tree_id(&self, commit: git2::Oid) -> Result<git2::Oid, VersionError> {
        let tree = self.tree_at(commit)?;
        Ok(tree.id())
    }

    fn tree_at(&self, commit: git2::Oid) -> Result<git2::Tree<'_>, VersionError> {
        let c = self
            .repo
            .find_commit(commit)
            .map_err(self.git(format!("read commit {commit}")))?;
        let root = c
            .tree()
            .map_err(self.git(format!("read the tree of {commit}")))?;
        if self.subdir.as_os_str().is_empty() {
            return Ok(root);
        }
        let missing = || VersionError::MissingDir {
            subdir: self.subdir.clone(),
            commit: commit.to_string(),
            repo: self.root.clone(),
        };
        let entry = root.get_path(&self.subdir).map_err(|_| missing())?;
        let obj = entry
            .to_object(&self.repo)
            .map_err(self.git(format!("read {}", self.subdir.display())))?;
        obj.into_tree().map_err(|_| missing())
    }

    /// Whether `latest` is a newer version of the template than `recorded`:
    /// a different commit that is not an ancestor of the recorded one, with
    /// different template files.
    pub fn is_newer(&self, recorded: git2::Oid, latest: git2::Oid) -> Result<bool, VersionError> {
        if recorded == latest {
            return Ok(false);
        }
        let behind = self
            .repo
            .graph_descendant_of(recorded, latest)
            .map_err(self.git("compare commits"))?;
        if behind {
            return Ok(false); // the recorded commit already contains `latest`
        }
        Ok(self.tree_id(recorded)? != self.tree_id(latest)?)
    }

    /// Writes the template directory as it was at `commit` into `dest`
    /// (created): regular files with their executable bit, and symlinks.
    /// Submodules are skipped.
    pub fn materialize(&self, commit: git2::Oid, dest: &Path) -> Result<(), VersionError> {
        let tree = self.tree_at(commit)?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |error| VersionError::Io { path, error }
        };
        std::fs::create_dir_all(dest).map_err(io(dest))?;
        let mut failure = None;
        tree.walk(git2::TreeWalkMode::PreOrder, |parent, entry| {
            let Some(name) = entry.name() else {
                return git2::TreeWalkResult::Skip;
            };
            let path = dest.join(parent).join(name);
            let result = match entry.filemode() {
                0o040000 => std::fs::create_dir_all(&path).map_err(io(&path)),
                0o100644 | 0o100755 | 0o120000 => self.write_blob(entry, &path),
                _ => Ok(()), // submodules
            };
            match result {
                Ok(()) => git2::TreeWalkResult::Ok,
                Err(e) => {
                    failure = Some(e);
                    git2::TreeWalkResult::Abort
                }
            }
        })
        .or_else(|e| match failure.take() {
            Some(_) => Ok(()),
            None => Err(e),
        })
        .map_err(self.git(format!("walk the tree of {commit}")))?;
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn write_blob(&self, entry: &git2::TreeEntry<'_>, path: &Path) -> Result<(), VersionError> {
        let io = |error| VersionError::Io {
            path: path.to_path_buf(),
            error,
        };
        let blob = self
            .repo
            .find_blob(entry.id())
            .map_err(self.git(format!("read {}", path.display())))?;
        if entry.filemode() == 0o120000 {
            return write_symlink(blob.content(), path).map_err(io);
        }
        std::fs::write(path, blob.content()).map_err(io)?;
        if entry.filemode() == 0o100755 {
            make_executable(path).map_err(io)?;
        }
        Ok(())
    }
}

#[cfg(unix)]
fn write_symlink(target: &[u8], path: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), path)
}

#[cfg(not(unix))]
fn write_symlink(target: &[u8], path: &Path) -> std::io::Result<()> {
    // No symlinks without privileges: keep the link's target as the content.
    std::fs::write(path, target)
}

#[cfg(unix)]
fn make_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = std::fs::metadata(path)?.permissions();
    perms.set_mode(perms.mode() | 0o111);
    std::fs::set_permissions(path, perms)
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        _tmp: tempfile::TempDir,
        dir: PathBuf,
        repo: git2::Repository,
    }

    impl Fixture {
        fn new() -> Self {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().canonicalize().unwrap();
            let repo = git2::Repository::init(&dir).unwrap();
            Fixture {
                _tmp: tmp,
                dir,
                repo,
            }
        }

        fn write(&self, path: &str, content: &str) {
            let full = self.dir.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, content).unwrap();
        }

        fn commit(&self, msg: &str) -> git2::Oid {
            let mut index = self.repo.index().unwrap();
            index
                .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
                .unwrap();
            index.update_all(["*"], None).unwrap();
            index.write().unwrap();
            let tree = self.repo.find_tree(index.write_tree().unwrap()).unwrap();
            let sig = git2::Signature::new("T", "t@example.com", &git2::Time::new(1, 0)).unwrap();
            let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
            let parents: Vec<&git2::Commit> = parent.iter().collect();
            self.repo
                .commit(Some("HEAD"), &sig, &sig, msg, &tree, &parents)
                .unwrap()
        }

        fn tag(&self, name: &str, commit: git2::Oid) {
            let obj = self.repo.find_object(commit, None).unwrap();
            self.repo.tag_lightweight(name, &obj, false).unwrap();
        }

        fn template(&self, sub: &str) -> TemplateRepo {
            TemplateRepo::discover(&self.dir.join(sub)).unwrap()
        }
    }

    #[test]
    fn latest_is_head_without_tags() {
        let f = Fixture::new();
        f.write("t/a.txt", "1");
        let c1 = f.commit("one");
        f.write("t/a.txt", "2");
        let c2 = f.commit("two");
        let t = f.template("t");
        assert_eq!(t.subdir(), Path::new("t"));
        let latest = t.latest().unwrap();
        assert_eq!(latest.commit, c2);
        assert_eq!(latest.tag, None);
        assert!(t.is_newer(c1, c2).unwrap());
        assert!(!t.is_newer(c2, c2).unwrap());
        assert!(!t.is_newer(c2, c1).unwrap(), "an older commit is not newer");
    }

    #[test]
    fn commits_outside_the_template_do_not_count() {
        let f = Fixture::new();
        f.write("t/a.txt", "1");
        let c1 = f.commit("one");
        f.write("other/b.txt", "x");
        let c2 = f.commit("unrelated");
        let t = f.template("t");
        assert!(!t.is_newer(c1, c2).unwrap());
    }

    #[test]
    fn highest_semver_tag_wins_over_head() {
        let f = Fixture::new();
        f.write("a.txt", "1");
        let c1 = f.commit("one");
        f.tag("v1.0.0", c1);
        f.write("a.txt", "2");
        let c2 = f.commit("two");
        f.tag("v1.10.0", c2);
        f.tag("v1.9.0", c1);
        f.tag("v2.0.0-rc.1", c2);
        f.tag("not-a-version", c1);
        f.write("a.txt", "3");
        let _unreleased = f.commit("three");
        let t = f.template("");
        let latest = t.latest().unwrap();
        assert_eq!(latest.tag.as_deref(), Some("v1.10.0"));
        assert_eq!(latest.commit, c2);
        assert_eq!(latest.to_string(), format!("v1.10.0 ({})", short_id(&c2)));
        assert!(t.is_newer(c1, c2).unwrap());
        assert_eq!(
            t.describe(c1).tag.as_deref().map(|s| s.starts_with('v')),
            Some(true)
        );
    }

    #[test]
    fn unknown_commit_is_an_error() {
        let f = Fixture::new();
        f.write("a.txt", "1");
        f.commit("one");
        let t = f.template("");
        let err = t
            .commit("0123456789abcdef0123456789abcdef01234567")
            .unwrap_err();
        assert!(matches!(err, VersionError::UnknownCommit { .. }), "{err}");
    }

    #[test]
    fn materializes_files_modes_and_nested_dirs() {
        let f = Fixture::new();
        f.write("t/{{cookiecutter.name}}/run.sh", "#!/bin/sh\necho hi\n");
        f.write("t/cookiecutter.json", "{}\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let p = f.dir.join("t/{{cookiecutter.name}}/run.sh");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let c1 = f.commit("one");
        f.write("t/cookiecutter.json", "{\"changed\": 1}\n");
        f.commit("two");
        let t = f.template("t");
        let out = tempfile::tempdir().unwrap();
        t.materialize(c1, out.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.path().join("cookiecutter.json")).unwrap(),
            "{}\n"
        );
        let script = out.path().join("{{cookiecutter.name}}/run.sh");
        assert_eq!(
            std::fs::read_to_string(&script).unwrap(),
            "#!/bin/sh\necho hi\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&script).unwrap().permissions().mode();
            assert_ne!(mode & 0o111, 0, "executable bit kept");
        }
    }

    #[test]
    fn missing_template_dir_at_commit() {
        let f = Fixture::new();
        f.write("a.txt", "1");
        let c1 = f.commit("one");
        f.write("t/a.txt", "1");
        f.commit("two");
        let t = f.template("t");
        let err = t.tree_id(c1).unwrap_err();
        assert!(matches!(err, VersionError::MissingDir { .. }), "{err}");
    }

    #[test]
    fn outside_git_is_not_a_repo() {
        let tmp = tempfile::tempdir().unwrap();
        let err = TemplateRepo::discover(tmp.path()).err().unwrap();
        assert!(matches!(err, VersionError::NotARepo { .. }));
    }
}
