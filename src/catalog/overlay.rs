//! A catalog as it was at another commit, built from one already read by
//! re-reading only the files that differ between the two commits. The
//! report's weekly trend reads eight older states of the catalog: read
//! whole, each was a parse of every file (10,000 at 10k entities) where a
//! week usually changes a few dozen.
//!
//! The result equals a full read of the older commit for everything built
//! from descriptors: files that did not change give the same entities, the
//! changed ones are parsed from the older blobs, and relations are computed
//! again over the whole set. Validation problems of unchanged files are not
//! carried over (this catalog is for reading, not for `validate`).

use std::collections::HashSet;

use super::config::CATALOG_CONFIG_FILE;
use super::error::CatalogError;
use super::history::tree_changes;
use super::load::{load_changed, Loaded};
use super::snapshot::{catalog_tree, GitTree};
use super::{Catalog, Origin};

/// The largest share of changed files for which the overlay is worth it;
/// beyond it, a full read is as fast.
const MAX_CHANGED_SHARE: f64 = 0.25;
/// So many changed files are always read this way.
const SMALL: usize = 64;

/// The catalog at `commit`, from `base`, which was read at `base_commit`
/// (both under `subdir` of `repo`). `None` when a full read is needed
/// instead: the catalog's `idp.yaml` differs, or too many files do.
pub fn catalog_at(
    repo_dir: &std::path::Path,
    base: &Catalog,
    base_commit: git2::Oid,
    commit: git2::Oid,
    subdir: &str,
    label: &str,
) -> Result<Option<Catalog>, CatalogError> {
    let repo = git2::Repository::open(repo_dir)
        .map_err(|e| CatalogError::git("cannot open the repository of", label.to_string(), e))?;
    let new_tree = catalog_tree(&repo, base_commit, subdir)?;
    let old_tree = catalog_tree(&repo, commit, subdir)?;
    let tree_id = old_tree.id();
    let changes = tree_changes(&repo, &old_tree, &new_tree)
        .map_err(|e| CatalogError::git("cannot compare commits of", label.to_string(), e))?;
    drop((new_tree, old_tree));
    if changes.iter().any(|(p, _, _)| p == CATALOG_CONFIG_FILE) {
        return Ok(None);
    }
    let files = base.files_read.max(1) as f64;
    if changes.len() > SMALL && changes.len() as f64 > files * MAX_CHANGED_SHARE {
        return Ok(None);
    }
    let changed: HashSet<&str> = changes.iter().map(|(p, _, _)| p.as_str()).collect();
    // Files the base read without the globs selecting them (Location
    // targets) are read again too when they changed.
    let read_before: HashSet<&str> = base
        .entities
        .iter()
        .map(|e| e.source.file.as_str())
        .collect();
    let older: Vec<(String, git2::Oid)> = changes
        .iter()
        .filter(|(_, old, _)| !old.is_zero())
        .map(|(p, old, _)| (p.clone(), *old))
        .collect();
    let snapshot = GitTree::with_files(repo, commit, tree_id, &older)?;
    let paths: Vec<&str> = older.iter().map(|(p, _)| p.as_str()).collect();
    let also = |p: &str| read_before.contains(p);
    let reread = load_changed(&snapshot, &base.config, &paths, &also)?;
    let mut entities: Vec<_> = base
        .entities
        .iter()
        .filter(|e| !changed.contains(e.source.file.as_str()))
        .map(|e| {
            let mut e = e.clone_unparsed();
            e.relations = Vec::new().into();
            e
        })
        .chain(reread.entities)
        .collect();
    // File order, as a full read has it: the first definition of a
    // duplicated key is the one that counts.
    entities.sort_by(|a, b| {
        (a.source.file.as_str(), a.source.document)
            .cmp(&(b.source.file.as_str(), b.source.document))
    });
    let files_read = base.files_read + reread.files - changed.intersection(&read_before).count();
    let loaded = Loaded {
        entities,
        rejected: reread.rejected,
        problems: reread.problems,
        files: files_read,
        positions: Default::default(),
    };
    Ok(Some(Catalog::new(
        loaded,
        base.config.clone(),
        Origin {
            location: label.to_string(),
            commit: Some(commit.to_string()),
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::config::Dirs;
    use crate::catalog::discover::CatalogLocation;
    use crate::catalog::open::{open, OpenOptions};
    use crate::catalog::remote::FetchPolicy;
    use std::path::Path;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    fn component(name: &str, owner: &str, deps: &[&str]) -> String {
        let deps: String = deps
            .iter()
            .map(|d| format!("\n    - component:{d}"))
            .collect();
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: {owner}\n  dependsOn:{}\n",
            if deps.is_empty() { " []".to_string() } else { deps }
        )
    }

    fn commit(dir: &Path, files: &[(&str, Option<String>)], message: &str) -> git2::Oid {
        for (path, text) in files {
            let p = dir.join(path);
            match text {
                Some(t) => {
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    std::fs::write(&p, t).unwrap();
                }
                None => std::fs::remove_file(&p).unwrap(),
            }
        }
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "-m", message]);
        git2::Oid::from_str(&git(dir, &["rev-parse", "HEAD"])).unwrap()
    }

    /// Every entity with its descriptor and relations, for comparing two
    /// catalogs.
    fn summary(c: &Catalog) -> Vec<String> {
        let mut v: Vec<String> = c
            .entities
            .iter()
            .map(|e| {
                let mut rels: Vec<String> = e
                    .relations
                    .iter()
                    .map(|r| format!("{}>{}", r.kind.as_str(), r.target))
                    .collect();
                rels.sort();
                format!(
                    "{} {} {} {:?}",
                    e.entity_ref(),
                    e.source.file,
                    e.doc(),
                    rels
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn an_older_state_built_from_changes_equals_a_full_read() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        let org = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-x\nspec:\n  type: team\n  children: []\n---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-y\nspec:\n  type: team\n  children: []\n";
        let first = commit(
            dir,
            &[
                ("org.yaml", Some(org.to_string())),
                (
                    "services/a/catalog-info.yaml",
                    Some(component("a", "team-x", &["b"])),
                ),
                (
                    "services/b/catalog-info.yaml",
                    Some(component("b", "team-x", &[])),
                ),
                (
                    "services/d/catalog-info.yaml",
                    Some(component("d", "team-y", &["a"])),
                ),
                (
                    "docs/openapi.yaml",
                    Some("openapi: 3.0.0\ninfo: {title: x}\n".into()),
                ),
            ],
            "first",
        );
        let second = commit(
            dir,
            &[
                (
                    "services/a/catalog-info.yaml",
                    Some(component("a", "team-y", &["c"])),
                ),
                ("services/b/catalog-info.yaml", None),
                (
                    "services/c/catalog-info.yaml",
                    Some(component("c", "team-x", &[])),
                ),
                ("org.yaml", None),
                ("teams/org.yaml", Some(org.to_string())),
                (
                    "docs/openapi.yaml",
                    Some("openapi: 3.1.0\ninfo: {title: y}\n".into()),
                ),
            ],
            "second",
        );
        let cache = tempfile::tempdir().unwrap();
        let dirs = Dirs {
            cache: cache.path().to_path_buf(),
            config: cache.path().join("config"),
        };
        let location = CatalogLocation::Dir(dir.to_path_buf());
        let read = |rev: git2::Oid| {
            let rev = rev.to_string();
            open(&OpenOptions {
                location: &location,
                rev: Some(&rev),
                fetch: FetchPolicy {
                    offline: true,
                    force: false,
                    interval: std::time::Duration::from_secs(3600),
                },
                dirs: &dirs,
                use_index: false,
                extra_files: &[],
                defer_index_write: false,
            })
            .unwrap()
            .catalog
        };
        let (now, then) = (read(second), read(first));
        let git_dir = dir.join(".git");
        let built = catalog_at(&git_dir, &now, second, first, "", "test")
            .unwrap()
            .expect("few files changed");
        assert_eq!(summary(&built), summary(&then));
        assert_eq!(built.entities.len(), 5);
        // And forwards again, from the older state.
        let again = catalog_at(&git_dir, &built, first, second, "", "test")
            .unwrap()
            .unwrap();
        assert_eq!(summary(&again), summary(&now));

        // A changed idp.yaml needs a full read.
        let third = commit(
            dir,
            &[(
                "idp.yaml",
                Some("catalog:\n  exclude: ['docs/**']\n".into()),
            )],
            "config",
        );
        assert!(catalog_at(&git_dir, &now, second, third, "", "test")
            .unwrap()
            .is_none());
    }
}
