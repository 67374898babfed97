//! Where the report goes: the output directory (or the one file of
//! `--single-file`), and the manifest of what idp wrote there.
//!
//! Rules: a directory that is not empty and holds no manifest is someone
//! else's, so it is refused without `--force`; with it, idp writes its files
//! beside the others and deletes nothing of theirs. A previous report's
//! files that this run no longer writes are deleted, and only those (the
//! manifest names them). Nothing is written through a symbolic link.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The manifest's file name, at the top of the output directory.
pub const MANIFEST: &str = ".idp-report.json";
/// What marks a single-file report as idp's (in its `<head>`).
pub const GENERATOR_META: &str = "<meta name=\"generator\" content=\"idp report\">";

/// Why the report cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// The directory has files and no manifest of a previous report.
    #[error("{} is not empty and does not hold a previous idp report ({count} entr{}); pass --force to write the report beside what is there (nothing of it is deleted)", .dir.display(), if *.count == 1 { "y" } else { "ies" })]
    NotEmpty {
        /// The directory.
        dir: PathBuf,
        /// How many entries it has.
        count: usize,
    },
    /// The single file exists and is not an idp report.
    #[error("{} exists and is not an idp report; pass --force to replace it", .0.display())]
    NotOurs(PathBuf),
    /// Something in the way is not a directory.
    #[error("{} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// A path idp would write is a symbolic link.
    #[error("{} is a symbolic link; idp does not write through links", .0.display())]
    Symlink(PathBuf),
    /// The file system refused.
    #[error("cannot write {}: {source}", .path.display())]
    Unwritable {
        /// The path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

fn unwritable(path: &Path) -> impl FnOnce(io::Error) -> SiteError + '_ {
    move |source| SiteError::Unwritable {
        path: path.to_path_buf(),
        source,
    }
}

/// An output directory ready to be written.
pub struct Site {
    dir: PathBuf,
    previous: BTreeSet<String>,
    written: Mutex<Vec<(String, u64)>>,
}

/// What a finished run wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// Files written (the manifest included).
    pub files: usize,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Files of the previous report deleted because this one no longer has them.
    pub removed: usize,
}

impl Site {
    /// Checks `dir` (creating it when missing) under the rules above.
    pub fn open(dir: &Path, force: bool) -> Result<Site, SiteError> {
        match std::fs::symlink_metadata(dir) {
            Ok(m) if m.file_type().is_symlink() => {
                // A link to a directory is fine at the top (GitHub Pages
                // checkouts often are); what it points at is checked below.
                if !dir.is_dir() {
                    return Err(SiteError::NotADirectory(dir.to_path_buf()));
                }
            }
            Ok(m) if !m.is_dir() => return Err(SiteError::NotADirectory(dir.to_path_buf())),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir).map_err(unwritable(dir))?;
            }
            Err(e) => return Err(unwritable(dir)(e)),
        }
        let manifest = dir.join(MANIFEST);
        let previous: BTreeSet<String> = match std::fs::read(&manifest) {
            Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| {
                    v.get("files")?.as_array().map(|a| {
                        a.iter()
                            .filter_map(|f| f.as_str())
                            .filter(|f| is_own_path(f))
                            .map(str::to_string)
                            .collect()
                    })
                })
                .unwrap_or_default(),
            Err(_) => {
                let count = std::fs::read_dir(dir).map_err(unwritable(dir))?.count();
                if count > 0 && !force {
                    return Err(SiteError::NotEmpty {
                        dir: dir.to_path_buf(),
                        count,
                    });
                }
                BTreeSet::new()
            }
        };
        // Fail early, naming the directory, when it cannot be written.
        let probe = dir.join(".idp-report.probe");
        std::fs::write(&probe, b"").map_err(unwritable(dir))?;
        let _ = std::fs::remove_file(&probe);
        Ok(Site {
            dir: dir.to_path_buf(),
            previous,
            written: Mutex::new(Vec::new()),
        })
    }

    /// Writes one file (`path` relative, `/`-separated, made by idp).
    pub fn write(&self, path: &str, bytes: &[u8]) -> Result<(), SiteError> {
        debug_assert!(is_own_path(path), "{path}");
        let target = self.dir.join(path);
        let mut at = self.dir.clone();
        let parts: Vec<&str> = path.split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            at.push(part);
            match std::fs::symlink_metadata(&at) {
                Ok(m) if m.file_type().is_symlink() => return Err(SiteError::Symlink(at)),
                Ok(m) if i + 1 < parts.len() && !m.is_dir() => {
                    return Err(SiteError::NotADirectory(at))
                }
                Ok(_) => {}
                Err(_) if i + 1 < parts.len() => {
                    // Another thread may create it at the same time.
                    if let Err(e) = std::fs::create_dir(&at) {
                        if e.kind() != io::ErrorKind::AlreadyExists {
                            return Err(unwritable(&at)(e));
                        }
                    }
                }
                Err(_) => {}
            }
        }
        std::fs::write(&target, bytes).map_err(unwritable(&target))?;
        self.written
            .lock()
            .expect("no panics while holding the lock")
            .push((path.to_string(), bytes.len() as u64));
        Ok(())
    }

    /// Deletes the previous report's files this run did not write, and
    /// writes the manifest.
    pub fn finish(self) -> Result<Written, SiteError> {
        let mut written = self.written.into_inner().expect("lock not poisoned");
        written.sort();
        let now: BTreeSet<&str> = written.iter().map(|(p, _)| p.as_str()).collect();
        let mut removed = 0;
        for old in self.previous.iter().filter(|p| !now.contains(p.as_str())) {
            let path = self.dir.join(old);
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                std::fs::remove_file(&path).map_err(unwritable(&path))?;
                removed += 1;
            }
        }
        let manifest = serde_json::json!({
            "generator": "idp report",
            "files": now.iter().collect::<Vec<_>>(),
        });
        let mut text = serde_json::to_string_pretty(&manifest).expect("json");
        text.push('\n');
        let path = self.dir.join(MANIFEST);
        std::fs::write(&path, &text).map_err(unwritable(&path))?;
        Ok(Written {
            files: written.len() + 1,
            bytes: written.iter().map(|(_, n)| n).sum::<u64>() + text.len() as u64,
            removed,
        })
    }
}

/// Writes a single-file report, refusing to replace a file that is not one
/// without `force`.
pub fn write_single(path: &Path, bytes: &[u8], force: bool) -> Result<Written, SiteError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => return Err(SiteError::Symlink(path.to_path_buf())),
        Ok(m) if m.is_dir() => return Err(SiteError::NotOurs(path.to_path_buf())),
        Ok(_) if !force => {
            let head = std::fs::read(path).map_err(unwritable(path))?;
            let head = &head[..head.len().min(4096)];
            if !String::from_utf8_lossy(head).contains(GENERATOR_META) {
                return Err(SiteError::NotOurs(path.to_path_buf()));
            }
        }
        _ => {}
    }
    std::fs::write(path, bytes).map_err(unwritable(path))?;
    Ok(Written {
        files: 1,
        bytes: bytes.len() as u64,
        removed: 0,
    })
}

/// Whether a manifest entry is a path idp could have written: relative,
/// no `..`, no empty part (so a forged manifest cannot delete elsewhere).
fn is_own_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != ".." && !p.contains('\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_stay_inside() {
        assert!(is_own_path("entity/a.html"));
        assert!(!is_own_path("../x"));
        assert!(!is_own_path("/etc/passwd"));
        assert!(!is_own_path("a//b"));
        assert!(!is_own_path("a/../../b"));
    }
}
