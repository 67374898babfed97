//! Keeping every output path inside the target directory: templated names
//! may render to `../x`, `/etc/x` or walk through a symlink that points
//! elsewhere; all are refused before anything is written.

use std::path::{Component, Path, PathBuf};

/// Joins the rendered relative path `rel` (`/`-separated) onto `dest`,
/// refusing absolute paths, `..`, NUL bytes and existing symlinks (in
/// `dest`) that lead outside `dest`. Returns the joined path, or why it is
/// refused.
pub fn contained(dest: &Path, rel: &str) -> Result<PathBuf, String> {
    if rel.contains('\0') {
        return Err("contains a NUL byte".into());
    }
    if rel.starts_with('/') || rel.starts_with('\\') || Path::new(rel).is_absolute() {
        return Err("is an absolute path".into());
    }
    let mut out = dest.to_path_buf();
    for part in rel.split(['/', '\\']) {
        match part {
            "" | "." => continue,
            ".." => return Err("goes up with '..' out of the target directory".into()),
            _ => {}
        }
        // A drive prefix or root hidden in a component (Windows) is absolute too.
        if Path::new(part)
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err("is an absolute path".into());
        }
        out.push(part);
    }
    check_symlinks(dest, &out)?;
    Ok(out)
}

/// Every existing component of `path` below `dest` that is a symlink must
/// resolve inside `dest`.
pub fn check_symlinks(dest: &Path, path: &Path) -> Result<(), String> {
    let Ok(rel) = path.strip_prefix(dest) else {
        return Err("is outside the target directory".into());
    };
    let mut cur = dest.to_path_buf();
    let mut root: Option<PathBuf> = None;
    for c in rel.components() {
        cur.push(c);
        let Ok(meta) = std::fs::symlink_metadata(&cur) else {
            // Nothing exists from here down: nothing can redirect.
            return Ok(());
        };
        if meta.file_type().is_symlink() {
            let root = match &root {
                Some(r) => r.clone(),
                None => {
                    let r = std::fs::canonicalize(dest).unwrap_or_else(|_| dest.to_path_buf());
                    root = Some(r.clone());
                    r
                }
            };
            let target = std::fs::canonicalize(&cur)
                .map_err(|_| format!("passes through the dangling symlink {}", cur.display()))?;
            if !target.starts_with(&root) {
                return Err(format!(
                    "passes through the symlink {} which points outside the target directory (to {})",
                    cur.display(),
                    target.display()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes() {
        let d = Path::new("/tmp/x");
        assert!(contained(d, "../etc/passwd").is_err());
        assert!(contained(d, "a/../../b").is_err());
        assert!(contained(d, "/etc/passwd").is_err());
        assert_eq!(contained(d, "a/./b").unwrap(), Path::new("/tmp/x/a/b"));
    }

    #[test]
    fn refuses_symlinks_leading_out() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("dest");
        std::fs::create_dir(&dest).unwrap();
        std::os::unix::fs::symlink(t.path(), dest.join("out")).unwrap();
        std::fs::create_dir(dest.join("in")).unwrap();
        std::os::unix::fs::symlink(dest.join("in"), dest.join("inside")).unwrap();
        assert!(contained(&dest, "out/x").is_err());
        assert!(contained(&dest, "inside/x").is_ok());
    }
}
