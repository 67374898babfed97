//! All writes go to a temporary directory next to the target and are moved
//! into place only when everything rendered: a failure leaves nothing
//! behind, and even a killed process leaves at most a `.idp-scaffold-*`
//! directory, never a half-written new project (it appears with one
//! rename). An existing non-empty target is
//! refused unless `force`, and even then no existing file is replaced unless
//! `overwrite`.

use std::fs;
use std::path::{Path, PathBuf};

use super::error::ScaffoldError;
use super::paths::check_symlinks;

/// What may happen to existing files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Write into an existing non-empty directory.
    pub force: bool,
    /// Replace existing files (only with `force`).
    pub overwrite: bool,
}

/// Where staged files go.
#[derive(Debug, Clone)]
enum Target {
    /// The root's contents become this directory.
    Dir(PathBuf),
    /// Each top-level entry of the root becomes an entry of this directory
    /// (cookiecutter: the project directory's name is known only after
    /// rendering).
    Children(PathBuf),
}

/// A temporary directory next to the target.
#[derive(Debug)]
pub struct Staging {
    temp: Option<tempfile::TempDir>,
    target: Target,
    opts: WriteOptions,
    /// Parent directories created for the temp dir, removed again if unused.
    created: Vec<PathBuf>,
}

impl Staging {
    /// Stages files for `target` (created if missing). Refuses a non-empty
    /// target without `opts.force` before anything is rendered.
    pub fn new(target: &Path, opts: WriteOptions) -> Result<Self, ScaffoldError> {
        check_target(target, opts)?;
        let parent = parent_of(target);
        Self::create(Target::Dir(target.to_path_buf()), &parent, opts)
    }

    /// Whether `target` may be written: refuses a non-directory, and a
    /// non-empty directory without `opts.force`. Creates nothing, so it can
    /// run before any question is asked.
    pub fn check(target: &Path, opts: WriteOptions) -> Result<(), ScaffoldError> {
        check_target(target, opts)
    }

    /// Stages files whose top-level entries go into `parent` (each checked
    /// like a target of [`new`](Self::new) when committing).
    pub fn in_dir(parent: &Path, opts: WriteOptions) -> Result<Self, ScaffoldError> {
        Self::create(Target::Children(parent.to_path_buf()), parent, opts)
    }

    fn create(target: Target, parent: &Path, opts: WriteOptions) -> Result<Self, ScaffoldError> {
        let created = create_dirs(parent)?;
        let temp = tempfile::Builder::new()
            .prefix(".idp-scaffold-")
            .tempdir_in(parent)
            .map_err(|e| ScaffoldError::io(parent, e));
        let temp = match temp {
            Ok(t) => t,
            Err(e) => {
                remove_created(&created);
                return Err(e);
            }
        };
        Ok(Staging {
            temp: Some(temp),
            target,
            opts,
            created,
        })
    }

    /// Write here.
    pub fn root(&self) -> &Path {
        self.temp
            .as_ref()
            .map(|t| t.path())
            .expect("staging directory present until commit")
    }

    /// Where the root's contents go: the target directory, or (for
    /// [`in_dir`](Self::in_dir)) the directory that receives its entries.
    pub fn target(&self) -> &Path {
        match &self.target {
            Target::Dir(t) | Target::Children(t) => t,
        }
    }

    /// Every staged file, relative to the root, sorted.
    pub fn files(&self) -> Result<Vec<PathBuf>, ScaffoldError> {
        let mut out = Vec::new();
        list_files(self.root(), Path::new(""), &mut out)?;
        out.sort();
        Ok(out)
    }

    /// Moves the staged files into place. Checks everything first (non-empty
    /// targets, files that would be overwritten, symlinks leading out) so
    /// that a refusal moves nothing. Returns the final paths of the files.
    pub fn commit(mut self) -> Result<Vec<PathBuf>, ScaffoldError> {
        let root = self.root().to_path_buf();
        let pairs: Vec<(PathBuf, PathBuf)> = match &self.target {
            Target::Dir(t) => vec![(root.clone(), t.clone())],
            Target::Children(parent) => fs::read_dir(&root)
                .map_err(|e| ScaffoldError::io(&root, e))?
                .filter_map(Result::ok)
                .map(|e| (e.path(), parent.join(e.file_name())))
                .collect(),
        };
        // 1. Check.
        let mut conflicts = Vec::new();
        for (src, dest) in &pairs {
            if matches!(self.target, Target::Children(_)) {
                check_target(dest, self.opts)?;
            }
            if dest.exists() {
                collect_conflicts(src, dest, dest, &mut conflicts)?;
            }
        }
        if !conflicts.is_empty() && !self.opts.overwrite {
            return Err(ScaffoldError::WouldOverwrite { paths: conflicts });
        }
        // 2. Move.
        let mut moved = Vec::new();
        for (src, dest) in &pairs {
            if !dest.exists() {
                let is_root = src == &root;
                if is_root {
                    // The whole staging dir becomes the target: keep it.
                    let temp = self.temp.take().expect("staging present");
                    let kept = temp.keep();
                    fs::rename(&kept, dest).map_err(|e| ScaffoldError::io(dest, e))?;
                } else {
                    fs::rename(src, dest).map_err(|e| ScaffoldError::io(dest, e))?;
                }
                let mut files = Vec::new();
                if dest.is_dir() {
                    list_files(dest, Path::new(""), &mut files)?;
                    moved.extend(files.into_iter().map(|f| dest.join(f)));
                } else {
                    moved.push(dest.clone());
                }
            } else {
                merge(src, dest, &mut moved)?;
            }
        }
        self.created.clear();
        moved.sort();
        Ok(moved)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // The TempDir removes itself; then the parents made for it.
        drop(self.temp.take());
        remove_created(&self.created);
    }
}

fn parent_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// An existing target must be a directory, and empty unless `force`.
fn check_target(target: &Path, opts: WriteOptions) -> Result<(), ScaffoldError> {
    let Ok(meta) = fs::metadata(target) else {
        return Ok(());
    };
    if !meta.is_dir() {
        return Err(ScaffoldError::io(
            target,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "exists and is not a directory",
            ),
        ));
    }
    let non_empty = fs::read_dir(target)
        .map_err(|e| ScaffoldError::io(target, e))?
        .next()
        .is_some();
    if non_empty && !opts.force {
        return Err(ScaffoldError::TargetNotEmpty {
            path: target.to_path_buf(),
        });
    }
    Ok(())
}

/// Creates `dir` and its missing parents; returns those created (deepest last).
fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>, ScaffoldError> {
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.as_os_str().is_empty() || d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        cur = d.parent();
    }
    missing.reverse();
    for d in &missing {
        if let Err(e) = fs::create_dir(d) {
            remove_created(&missing);
            return Err(ScaffoldError::io(d, e));
        }
    }
    Ok(missing)
}

fn remove_created(created: &[PathBuf]) {
    for d in created.iter().rev() {
        let _ = fs::remove_dir(d); // only if empty
    }
}

fn list_files(dir: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<(), ScaffoldError> {
    for e in fs::read_dir(dir).map_err(|e| ScaffoldError::io(dir, e))? {
        let e = e.map_err(|e| ScaffoldError::io(dir, e))?;
        let ft = e
            .file_type()
            .map_err(|err| ScaffoldError::io(e.path(), err))?;
        let r = rel.join(e.file_name());
        if ft.is_dir() {
            list_files(&e.path(), &r, out)?;
        } else {
            out.push(r);
        }
    }
    Ok(())
}

/// Existing files under `dest` that staged files under `src` would replace;
/// refuses type clashes and symlinks that lead out of `top`.
fn collect_conflicts(
    src: &Path,
    dest: &Path,
    top: &Path,
    out: &mut Vec<PathBuf>,
) -> Result<(), ScaffoldError> {
    check_symlinks(top, dest).map_err(|reason| ScaffoldError::UnsafePath {
        what: "existing target".into(),
        path: dest.display().to_string(),
        reason,
    })?;
    let src_is_dir = src.is_dir();
    let dest_meta = fs::symlink_metadata(dest).ok();
    match dest_meta {
        None => Ok(()),
        Some(m) if src_is_dir && (m.is_dir() || dest.is_dir()) => {
            for e in fs::read_dir(src).map_err(|e| ScaffoldError::io(src, e))? {
                let e = e.map_err(|e| ScaffoldError::io(src, e))?;
                collect_conflicts(&e.path(), &dest.join(e.file_name()), top, out)?;
            }
            Ok(())
        }
        Some(_) if src_is_dir => Err(ScaffoldError::io(
            dest,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "exists and is not a directory, but the template creates a directory there",
            ),
        )),
        Some(m) if m.is_dir() => Err(ScaffoldError::io(
            dest,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "is a directory, but the template creates a file there",
            ),
        )),
        Some(_) => {
            out.push(dest.to_path_buf());
            Ok(())
        }
    }
}

/// Moves `src` (dir or file) onto `dest`, merging directories.
fn merge(src: &Path, dest: &Path, moved: &mut Vec<PathBuf>) -> Result<(), ScaffoldError> {
    if src.is_dir() {
        if !dest.exists() {
            fs::rename(src, dest).map_err(|e| ScaffoldError::io(dest, e))?;
            let mut files = Vec::new();
            list_files(dest, Path::new(""), &mut files)?;
            moved.extend(files.into_iter().map(|f| dest.join(f)));
            return Ok(());
        }
        for e in fs::read_dir(src).map_err(|e| ScaffoldError::io(src, e))? {
            let e = e.map_err(|e| ScaffoldError::io(src, e))?;
            merge(&e.path(), &dest.join(e.file_name()), moved)?;
        }
        return Ok(());
    }
    fs::rename(src, dest).map_err(|e| ScaffoldError::io(dest, e))?;
    moved.push(dest.to_path_buf());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_staging_leaves_nothing() {
        let t = tempfile::tempdir().unwrap();
        let target = t.path().join("a/b/proj");
        {
            let s = Staging::new(&target, WriteOptions::default()).unwrap();
            fs::write(s.root().join("x"), "1").unwrap();
        }
        assert!(!t.path().join("a").exists());
    }

    #[test]
    fn commit_moves_into_place_and_refuses_overwrite() {
        let t = tempfile::tempdir().unwrap();
        let target = t.path().join("proj");
        let s = Staging::new(&target, WriteOptions::default()).unwrap();
        fs::write(s.root().join("x"), "1").unwrap();
        let files = s.commit().unwrap();
        assert_eq!(files, vec![target.join("x")]);
        assert!(Staging::new(&target, WriteOptions::default()).is_err());
        let opts = WriteOptions {
            force: true,
            overwrite: false,
        };
        let s = Staging::new(&target, opts).unwrap();
        fs::write(s.root().join("x"), "2").unwrap();
        fs::write(s.root().join("y"), "2").unwrap();
        assert!(matches!(
            s.commit(),
            Err(ScaffoldError::WouldOverwrite { .. })
        ));
        assert_eq!(fs::read_to_string(target.join("x")).unwrap(), "1");
        assert!(!target.join("y").exists());
        let entries: Vec<_> = fs::read_dir(t.path()).unwrap().collect();
        assert_eq!(entries.len(), 1, "no staging dir left behind");
    }
}
