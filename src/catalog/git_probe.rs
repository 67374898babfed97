//! Questions about a catalog's git repository answered from its files, so
//! a warm command that only wants to know whether a reference exists does
//! not start libgit2 (whose OpenSSL start-up alone costs more than the
//! rest of a warm `who-owns`). Each answer is either certain or "ask
//! libgit2": anything unusual (a `.git` file, worktrees, reftable, an
//! unreadable file) is left to libgit2.

use std::io::ErrorKind;
use std::path::Path;

/// `true` when the git repository around `dir` certainly has no reference
/// `name` (`refs/…`): `.git` is a plain directory with neither a loose
/// file for it nor a line naming it in `packed-refs`. `false` means it
/// may exist (or there may be no repository): ask libgit2.
pub fn surely_no_ref(dir: &Path, name: &str) -> bool {
    let Ok(dir) = dir.canonicalize() else {
        return false;
    };
    for d in dir.ancestors() {
        let dotgit = d.join(".git");
        match std::fs::symlink_metadata(&dotgit) {
            Ok(meta) if meta.is_dir() => return no_ref_in(&dotgit, name),
            // A gitdir file (worktree, submodule) or a symlink.
            Ok(_) => return false,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(_) => return false,
        }
    }
    false
}

fn no_ref_in(gitdir: &Path, name: &str) -> bool {
    let absent = |p: &Path| matches!(std::fs::symlink_metadata(p), Err(e) if e.kind() == ErrorKind::NotFound);
    if !absent(&gitdir.join("commondir")) || !absent(&gitdir.join("reftable")) {
        return false;
    }
    if !absent(&gitdir.join(name)) {
        return false;
    }
    match std::fs::read(gitdir.join("packed-refs")) {
        Ok(bytes) => memchr::memmem::find(&bytes, name.as_bytes()).is_none(),
        Err(e) => e.kind() == ErrorKind::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_and_packed_refs_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let sub = root.join("catalog/deep");
        std::fs::create_dir_all(&sub).unwrap();
        assert!(
            !surely_no_ref(&sub, "refs/idp/cost"),
            "no repository: ask libgit2"
        );
        std::fs::create_dir_all(root.join(".git/refs/heads")).unwrap();
        assert!(surely_no_ref(&sub, "refs/idp/cost"));
        std::fs::write(
            root.join(".git/packed-refs"),
            "# pack-refs with: peeled\n0123 refs/heads/main\n",
        )
        .unwrap();
        assert!(surely_no_ref(&sub, "refs/idp/cost"));
        std::fs::write(root.join(".git/packed-refs"), "0123 refs/idp/cost\n").unwrap();
        assert!(!surely_no_ref(&sub, "refs/idp/cost"));
        std::fs::remove_file(root.join(".git/packed-refs")).unwrap();
        std::fs::create_dir_all(root.join(".git/refs/idp")).unwrap();
        std::fs::write(root.join(".git/refs/idp/cost"), "0123\n").unwrap();
        assert!(!surely_no_ref(&sub, "refs/idp/cost"));
        std::fs::remove_file(root.join(".git/refs/idp/cost")).unwrap();
        std::fs::create_dir_all(root.join(".git/reftable")).unwrap();
        assert!(
            !surely_no_ref(&sub, "refs/idp/cost"),
            "reftable: ask libgit2"
        );
    }
}
