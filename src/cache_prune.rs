//! Keeps idp's cache bounded.
//!
//! Every catalog read at a commit (`--ref`, `--at`, `diff`, `report --ref`)
//! leaves an index file of its own (≈ 10 MB at 10,000 entities, ≈ 140 MB at
//! 100,000), and every scored commit a score cache. Nothing else removes
//! them, so without a bound a developer's cache grows with every ref they
//! ever compared. After each command the least recently used files of each
//! cache directory go until the directory fits its budget.
//!
//! "Recently used" is the later of a file's modification and access time:
//! writers rewrite a file when it changes, and Linux's default `relatime`
//! records a read at least once a day. On a `noatime` mount the order is by
//! last write only, which at worst rebuilds an index that was still read.
//!
//! Pruning never fails a command: a file that cannot be inspected or removed
//! is left alone. Only idp's own file names are considered (`*.idx`,
//! `*.cache`, `*.bin`, and `.tmp*` files left by an interrupted write), never
//! a symlink or a directory, and the most recent files of a directory are
//! always kept, so the run that just wrote its index keeps it.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How much one cache directory may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Most files kept.
    pub max_files: usize,
    /// Most bytes kept (the newest files are kept even when they alone exceed it).
    pub max_bytes: u64,
    /// The newest files always kept, whatever their size.
    pub keep_newest: usize,
}

/// The budgets idp applies to its cache directories: (subdirectory, file
/// extension, budget).
pub const DIRECTORIES: [(&str, &str, Budget); 3] = [
    (
        "index",
        "idx",
        Budget {
            max_files: 32,
            max_bytes: 1 << 30,
            keep_newest: 2,
        },
    ),
    (
        "score",
        "cache",
        Budget {
            max_files: 32,
            max_bytes: 512 << 20,
            keep_newest: 2,
        },
    ),
    (
        "cost",
        "bin",
        Budget {
            max_files: 16,
            max_bytes: 256 << 20,
            keep_newest: 2,
        },
    ),
];

/// A temporary file older than this was left by an interrupted write.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// What a pruning pass removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// Files removed.
    pub files: usize,
    /// Their size in bytes.
    pub bytes: u64,
}

/// Prunes every cache directory under `cache_root` (idp's own cache
/// directory, e.g. `~/.cache/idp`) to its budget in [`DIRECTORIES`].
pub fn prune(cache_root: &Path, now: SystemTime) -> Pruned {
    let mut total = Pruned::default();
    for (sub, extension, budget) in DIRECTORIES {
        let pruned = prune_dir(&cache_root.join(sub), extension, budget, now);
        total.files += pruned.files;
        total.bytes += pruned.bytes;
    }
    total
}

/// One cache file: where, how big, when last used.
struct Entry {
    path: PathBuf,
    bytes: u64,
    used: SystemTime,
}

/// Prunes one directory: stale temporary files, then the least recently
/// used `*.{extension}` files beyond `budget`.
pub fn prune_dir(dir: &Path, extension: &str, budget: Budget, now: SystemTime) -> Pruned {
    let mut pruned = Pruned::default();
    let Ok(listing) = fs::read_dir(dir) else {
        return pruned;
    };
    let mut entries = Vec::new();
    for item in listing.flatten() {
        // `DirEntry::metadata` does not follow symlinks.
        let Ok(meta) = item.metadata() else { continue };
        if !meta.file_type().is_file() {
            continue;
        }
        let path = item.path();
        let name = item.file_name();
        let name = name.to_string_lossy();
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if name.starts_with(".tmp") {
            let age = now.duration_since(modified).unwrap_or_default();
            if age > STALE_TEMP {
                remove(&path, meta.len(), &mut pruned);
            }
            continue;
        }
        if path.extension().and_then(|e| e.to_str()) != Some(extension) {
            continue;
        }
        let accessed = meta.accessed().unwrap_or(modified);
        entries.push(Entry {
            path,
            bytes: meta.len(),
            used: modified.max(accessed),
        });
    }
    // Newest first; the name breaks ties so the order is deterministic.
    entries.sort_by(|a, b| b.used.cmp(&a.used).then_with(|| a.path.cmp(&b.path)));
    let mut kept_bytes = 0u64;
    for (rank, entry) in entries.iter().enumerate() {
        let within = rank < budget.max_files && kept_bytes + entry.bytes <= budget.max_bytes;
        if rank < budget.keep_newest || within {
            kept_bytes += entry.bytes;
        } else {
            remove(&entry.path, entry.bytes, &mut pruned);
        }
    }
    pruned
}

fn remove(path: &Path, bytes: u64, pruned: &mut Pruned) {
    if fs::remove_file(path).is_ok() {
        pruned.files += 1;
        pruned.bytes += bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    fn file(dir: &Path, name: &str, bytes: usize, age_secs: u64, now: SystemTime) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, vec![0u8; bytes]).unwrap();
        let when = now - Duration::from_secs(age_secs);
        let f = File::options().write(true).open(&path).unwrap();
        f.set_times(fs::FileTimes::new().set_accessed(when).set_modified(when))
            .unwrap();
        path
    }

    const SMALL: Budget = Budget {
        max_files: 3,
        max_bytes: 1000,
        keep_newest: 1,
    };

    #[test]
    fn the_least_recently_used_files_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let a = file(dir.path(), "a.idx", 10, 10, now);
        let b = file(dir.path(), "b.idx", 10, 40, now);
        let c = file(dir.path(), "c.idx", 10, 20, now);
        let d = file(dir.path(), "d.idx", 10, 30, now);
        let pruned = prune_dir(dir.path(), "idx", SMALL, now);
        assert_eq!(
            pruned,
            Pruned {
                files: 1,
                bytes: 10
            }
        );
        assert!(a.exists() && c.exists() && d.exists());
        assert!(!b.exists());
    }

    #[test]
    fn the_byte_budget_holds_but_the_newest_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let big = file(dir.path(), "big.idx", 1500, 1, now);
        let old = file(dir.path(), "old.idx", 10, 100, now);
        let pruned = prune_dir(dir.path(), "idx", SMALL, now);
        assert!(
            big.exists(),
            "the newest file is kept even above the budget"
        );
        assert!(!old.exists());
        assert_eq!(pruned.files, 1);
    }

    #[test]
    fn foreign_files_symlinks_and_fresh_temp_files_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let outside = tempfile::tempdir().unwrap();
        let target = file(outside.path(), "victim.idx", 10, 500, now);
        std::os::unix::fs::symlink(&target, dir.path().join("link.idx")).unwrap();
        let notes = file(dir.path(), "notes.txt", 10, 500, now);
        let fresh_tmp = file(dir.path(), ".tmpABC", 10, 60, now);
        let stale_tmp = file(dir.path(), ".tmpDEF", 10, 7200, now);
        for i in 0..5 {
            file(dir.path(), &format!("{i}.idx"), 10, i, now);
        }
        prune_dir(dir.path(), "idx", SMALL, now);
        assert!(target.exists() && dir.path().join("link.idx").exists());
        assert!(notes.exists() && fresh_tmp.exists());
        assert!(!stale_tmp.exists());
        let left = fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                let e = e.as_ref().unwrap();
                e.path().extension().is_some_and(|x| x == "idx") && e.file_type().unwrap().is_file()
            })
            .count();
        assert_eq!(left, 3);
    }

    #[test]
    fn a_missing_directory_prunes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let pruned = prune(&dir.path().join("absent"), SystemTime::now());
        assert_eq!(pruned, Pruned::default());
    }
}
