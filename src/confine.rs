//! Confinement: the one rule for reading untrusted files. Catalog content
//! and templates may be written by anyone (a pull request, a template
//! repository), so a read of `./link/passwd` must not follow a committed
//! `link -> /etc` out of the catalog. A [`Root`] is the real (canonical)
//! path of a catalog root or template directory; every read of catalog or
//! template content goes through it, and is refused when the file's real
//! path — after every symlink, in every component — is not inside the root.
//! A symlink whose target stays inside the root is fine.
//!
//! This module only reads; it never prints. Reads of idp's own files (the
//! cache, the index, the user's config) do not belong here.

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// What a root is, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKind {
    /// The directory a catalog is read from.
    Catalog,
    /// A template's directory.
    Template,
    /// A git working tree (CODEOWNERS of the repository asked about).
    Repository,
    /// The directory loose files were named from.
    Directory,
}

impl fmt::Display for RootKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RootKind::Catalog => "the catalog root",
            RootKind::Template => "the template directory",
            RootKind::Repository => "the repository",
            RootKind::Directory => "the directory",
        })
    }
}

/// A read refused by the confinement rule, or one that failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfineError {
    /// An absolute path where only paths inside the root are allowed.
    #[error("{path} is an absolute path; only files inside {kind} ({}) are read", root.display())]
    Absolute {
        /// The path as given.
        path: String,
        /// The root's real path.
        root: PathBuf,
        /// What the root is.
        kind: RootKind,
    },
    /// `..` leads out of the root (no symlink involved).
    #[error("{path} goes up with '..' out of {kind} ({}); only files inside it are read", root.display())]
    GoesUp {
        /// The path as given.
        path: String,
        /// The root's real path.
        root: PathBuf,
        /// What the root is.
        kind: RootKind,
    },
    /// A symlink on the way leads out of the root.
    #[error("{path} resolves outside {kind} ({}) via symlink {link} -> {}; files outside it are not read", root.display(), target.display())]
    Symlink {
        /// The path as given.
        path: String,
        /// The root's real path.
        root: PathBuf,
        /// What the root is.
        kind: RootKind,
        /// The symlink that leads out, relative to the root.
        link: String,
        /// Where it points (as written in the link).
        target: PathBuf,
    },
    /// The file could not be read (missing, unreadable, dangling link).
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path as given.
        path: String,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl ConfineError {
    /// Whether the file simply does not exist (as opposed to being refused).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ConfineError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }

    /// Whether the confinement rule refused the path.
    pub fn is_refused(&self) -> bool {
        !matches!(self, ConfineError::Io { .. })
    }
}

impl From<ConfineError> for io::Error {
    /// Keeps the message (and the not-found kind) for code that speaks `io`.
    fn from(e: ConfineError) -> Self {
        let kind = match &e {
            ConfineError::Io { source, .. } => source.kind(),
            _ => io::ErrorKind::PermissionDenied,
        };
        io::Error::new(kind, e)
    }
}

/// One entry of a directory listed through a [`Root`].
#[derive(Debug, Clone)]
pub struct Entry {
    /// The file name.
    pub name: OsString,
    /// Its path (under the root's real path).
    pub path: PathBuf,
    /// Its type, not following a symlink.
    pub file_type: fs::FileType,
}

/// A directory whose files may be read, and nothing outside it.
#[derive(Debug, Clone)]
pub struct Root {
    real: PathBuf,
    given: PathBuf,
    kind: RootKind,
}

impl Root {
    /// The root at `dir` (canonicalized once, here).
    pub fn new(dir: &Path, kind: RootKind) -> Result<Self, ConfineError> {
        let real = fs::canonicalize(dir).map_err(|source| ConfineError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(Root {
            real,
            given: dir.to_path_buf(),
            kind,
        })
    }

    /// The root's real path.
    pub fn path(&self) -> &Path {
        &self.real
    }

    /// What the root is.
    pub fn kind(&self) -> RootKind {
        self.kind
    }

    /// Whether a real (canonical) path is inside the root.
    pub fn contains(&self, real: &Path) -> bool {
        real.starts_with(&self.real)
    }

    /// The real path of `path` (relative to the root, or absolute under
    /// it), checked to be inside the root. The file must exist.
    pub fn resolve(&self, path: impl AsRef<Path>) -> Result<PathBuf, ConfineError> {
        let path = path.as_ref();
        let rel = self.relative(path)?;
        let joined = self.real.join(&rel);
        match fs::canonicalize(&joined) {
            Ok(real) if self.contains(&real) => Ok(real),
            Ok(_) => Err(self.explain_escape(path, &rel)),
            Err(source) => {
                // A dangling link that points out is refused, not "missing".
                match self.find_escape(path, &rel) {
                    Some(refused) => Err(refused),
                    None => Err(ConfineError::Io {
                        path: shown(path),
                        source,
                    }),
                }
            }
        }
    }

    /// A file's bytes.
    pub fn read(&self, path: impl AsRef<Path>) -> Result<Vec<u8>, ConfineError> {
        let path = path.as_ref();
        let real = self.resolve(path)?;
        fs::read(&real).map_err(|source| ConfineError::Io {
            path: shown(path),
            source,
        })
    }

    /// A file's bytes and permission bits (for copying it as it is).
    pub fn read_with_mode(&self, path: impl AsRef<Path>) -> Result<(Vec<u8>, u32), ConfineError> {
        use std::os::unix::fs::PermissionsExt;
        let path = path.as_ref();
        let bytes = self.read(path)?;
        let mode = self.metadata(path)?.permissions().mode();
        Ok((bytes, mode))
    }

    /// A file's text (UTF-8).
    pub fn read_to_string(&self, path: impl AsRef<Path>) -> Result<String, ConfineError> {
        let path = path.as_ref();
        let bytes = self.read(path)?;
        String::from_utf8(bytes).map_err(|e| ConfineError::Io {
            path: shown(path),
            source: io::Error::new(io::ErrorKind::InvalidData, e),
        })
    }

    /// A file's metadata (of the symlink's target, once it is known to be
    /// inside the root).
    pub fn metadata(&self, path: impl AsRef<Path>) -> Result<fs::Metadata, ConfineError> {
        let path = path.as_ref();
        let real = self.resolve(path)?;
        fs::metadata(&real).map_err(|source| ConfineError::Io {
            path: shown(path),
            source,
        })
    }

    /// Whether `path` exists inside the root (refused paths do not).
    pub fn exists(&self, path: impl AsRef<Path>) -> bool {
        self.resolve(path).is_ok()
    }

    /// Whether `path` is a regular file inside the root.
    pub fn is_file(&self, path: impl AsRef<Path>) -> bool {
        self.metadata(path).is_ok_and(|m| m.is_file())
    }

    /// Whether `path` is a directory inside the root.
    pub fn is_dir(&self, path: impl AsRef<Path>) -> bool {
        self.metadata(path).is_ok_and(|m| m.is_dir())
    }

    /// The entries of a directory inside the root, sorted by name. Entries
    /// that are symlinks are listed as such; reading through them goes
    /// through [`Root::read`] again.
    pub fn read_dir(&self, path: impl AsRef<Path>) -> Result<Vec<Entry>, ConfineError> {
        let path = path.as_ref();
        let real = self.resolve(path)?;
        let io_err = |source| ConfineError::Io {
            path: shown(path),
            source,
        };
        let mut out = Vec::new();
        for e in fs::read_dir(&real).map_err(io_err)? {
            let e = e.map_err(io_err)?;
            out.push(Entry {
                name: e.file_name(),
                path: e.path(),
                file_type: e.file_type().map_err(io_err)?,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// `path` relative to the root: relative paths as they are, absolute
    /// ones only when they lie (lexically) under the root.
    fn relative(&self, path: &Path) -> Result<PathBuf, ConfineError> {
        if !path.is_absolute() {
            return Ok(path.to_path_buf());
        }
        for base in [&self.real, &self.given] {
            if let Ok(rel) = path.strip_prefix(base) {
                return Ok(rel.to_path_buf());
            }
        }
        Err(ConfineError::Absolute {
            path: shown(path),
            root: self.real.clone(),
            kind: self.kind,
        })
    }

    /// Why a path whose real path is outside the root got there.
    fn explain_escape(&self, path: &Path, rel: &Path) -> ConfineError {
        self.find_escape(path, rel)
            .unwrap_or_else(|| ConfineError::GoesUp {
                path: shown(path),
                root: self.real.clone(),
                kind: self.kind,
            })
    }

    /// Walks `rel` component by component (the slow path, only for errors)
    /// and names the first symlink or `..` that leads out of the root.
    fn find_escape(&self, path: &Path, rel: &Path) -> Option<ConfineError> {
        let mut cur = self.real.clone();
        let mut shown_rel = PathBuf::new();
        for c in rel.components() {
            match c {
                Component::CurDir => continue,
                Component::ParentDir => {
                    if !cur.pop() || !self.contains(&cur) {
                        return Some(ConfineError::GoesUp {
                            path: shown(path),
                            root: self.real.clone(),
                            kind: self.kind,
                        });
                    }
                    shown_rel.pop();
                    continue;
                }
                Component::Normal(name) => {
                    cur.push(name);
                    shown_rel.push(name);
                }
                Component::RootDir | Component::Prefix(_) => return None,
            }
            let meta = fs::symlink_metadata(&cur).ok()?;
            if !meta.file_type().is_symlink() {
                continue;
            }
            let target = fs::read_link(&cur).unwrap_or_default();
            let real = match fs::canonicalize(&cur) {
                Ok(real) => real,
                // Dangling: judge by where it points, lexically.
                Err(_) => lexical(&cur.parent().unwrap_or(&cur).join(&target)),
            };
            if !self.contains(&real) {
                return Some(ConfineError::Symlink {
                    path: shown(path),
                    root: self.real.clone(),
                    kind: self.kind,
                    link: shown(&shown_rel),
                    target,
                });
            }
            cur = real;
        }
        None
    }
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// `a/b/../c` → `a/c` without touching the filesystem.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn setup() -> (tempfile::TempDir, Root) {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        fs::create_dir_all(root.join("docs")).unwrap();
        fs::write(root.join("docs/a.md"), "inside").unwrap();
        fs::write(t.path().join("secret"), "outside").unwrap();
        let r = Root::new(&root, RootKind::Catalog).unwrap();
        (t, r)
    }

    #[test]
    fn reads_inside_and_through_inside_links() {
        let (t, r) = setup();
        assert_eq!(r.read("docs/a.md").unwrap(), b"inside");
        symlink("docs", t.path().join("root/alias")).unwrap();
        symlink("docs/a.md", t.path().join("root/link.md")).unwrap();
        symlink("../link.md", t.path().join("root/docs/chain.md")).unwrap();
        assert_eq!(r.read("alias/a.md").unwrap(), b"inside");
        assert_eq!(r.read("link.md").unwrap(), b"inside");
        assert_eq!(r.read("docs/chain.md").unwrap(), b"inside");
        assert_eq!(r.read(r.path().join("docs/a.md")).unwrap(), b"inside");
    }

    #[test]
    fn refuses_links_out_naming_the_link() {
        let (t, r) = setup();
        symlink(t.path(), t.path().join("root/up")).unwrap();
        symlink("/etc", t.path().join("root/docs/etc")).unwrap();
        let e = r.read("up/secret").unwrap_err();
        assert!(e.is_refused(), "{e}");
        let msg = e.to_string();
        assert!(msg.contains("via symlink up ->"), "{msg}");
        assert!(msg.contains("the catalog root"), "{msg}");
        let e = r.read("docs/etc/passwd").unwrap_err();
        assert!(
            e.to_string().contains("via symlink docs/etc -> /etc"),
            "{e}"
        );
        assert!(!r.exists("docs/etc"));
    }

    #[test]
    fn refuses_absolute_and_dotdot() {
        let (_t, r) = setup();
        assert!(matches!(
            r.read("/etc/passwd").unwrap_err(),
            ConfineError::Absolute { .. }
        ));
        assert!(matches!(
            r.read("../secret").unwrap_err(),
            ConfineError::GoesUp { .. }
        ));
        assert!(matches!(
            r.read("docs/../../secret").unwrap_err(),
            ConfineError::GoesUp { .. }
        ));
        assert_eq!(r.read("docs/../docs/a.md").unwrap(), b"inside");
    }

    #[test]
    fn missing_is_not_refused() {
        let (t, r) = setup();
        let e = r.read("nope").unwrap_err();
        assert!(e.is_not_found() && !e.is_refused());
        symlink("/nonexistent/x", t.path().join("root/dangling")).unwrap();
        assert!(r.read("dangling").unwrap_err().is_refused());
        symlink("docs/missing", t.path().join("root/dangling-in")).unwrap();
        assert!(r.read("dangling-in").unwrap_err().is_not_found());
    }

    #[test]
    fn io_error_keeps_the_message() {
        let (t, r) = setup();
        symlink("/etc", t.path().join("root/link")).unwrap();
        let e: io::Error = r.read("link/passwd").unwrap_err().into();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert!(e.to_string().contains("resolves outside the catalog root"));
    }
}
