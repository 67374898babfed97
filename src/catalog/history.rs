//! Time: the commits that changed one entity (`history`, following it across
//! renames and moves between files), the catalog as it was at a moment
//! (`--at`), and the catalog-level difference between two states (`diff`).
//! Everything is read from git objects; nothing is checked out.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;

use super::changes::{field_changes, FieldChange};
use super::error::CatalogError;
use super::parse::parse_file;
use super::refs::{EntityRef, DEFAULT_NAMESPACE};
use super::relations::RelationType;
use super::Catalog;

/// One commit that changed the entity.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// Full commit id.
    pub commit: String,
    /// Author date, RFC 3339 (UTC).
    pub date: String,
    /// Author name.
    pub author: String,
    /// Author email.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub email: String,
    /// First line of the message.
    pub summary: String,
    /// What changed in the entity; a creation is one change of field
    /// `entity` from null to the reference, a move one of `source.file`.
    pub changes: Vec<FieldChange>,
}

/// The history of one entity, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// The entity.
    pub entity: String,
    /// Commits, newest first.
    pub entries: Vec<HistoryEntry>,
    /// Set when the history may be incomplete (a shallow clone).
    pub limited: Option<String>,
}

/// Walks the history of the entity `target`, defined in `file` (relative to
/// the catalog root `subdir`) at commit `start`.
pub fn entity_history(
    repo: &git2::Repository,
    start: git2::Oid,
    subdir: &str,
    target: &EntityRef,
    file: &str,
) -> Result<History, CatalogError> {
    let git = |action, e| CatalogError::git(action, target.to_string(), e);
    super::snapshot::tune_libgit2();
    let mut walk = repo
        .revwalk()
        .map_err(|e| git("cannot walk the history of", e))?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)
        .map_err(|e| git("cannot walk the history of", e))?;
    walk.push(start)
        .map_err(|e| git("cannot walk the history of", e))?;
    let mut path = join(subdir, file);
    let mut entries = Vec::new();
    let mut boundary_hit = false;
    let shallow_boundary = shallow_commits(repo);
    for oid in walk {
        let Ok(oid) = oid else {
            boundary_hit = true;
            break;
        };
        let commit = repo
            .find_commit(oid)
            .map_err(|e| git("cannot read a commit of", e))?;
        let Ok(tree) = commit.tree() else {
            boundary_hit = true;
            break;
        };
        let parents: Vec<git2::Commit> = commit.parents().collect();
        // Cheap first: the same blob in a parent means no change here, and no
        // YAML needs parsing. Only commits that touched the file get parsed.
        let parent_trees: Vec<git2::Tree> = parents.iter().filter_map(|p| p.tree().ok()).collect();
        if parent_trees
            .iter()
            .any(|pt| same_entry(repo, &tree, pt, &path))
        {
            continue;
        }
        let Some(blob) = blob_id(&tree, &path) else {
            continue;
        };
        let Some(current) = entity_in_blob(repo, blob, target) else {
            continue;
        };
        if parents.is_empty() && shallow_boundary.contains(&oid) {
            // The oldest fetched commit of a shallow clone: its parents are
            // missing, so what it changed is unknown (not a creation).
            boundary_hit = true;
            break;
        }
        let mut previous: Option<(Value, String)> = None;
        let mut unchanged = false;
        for ptree in &parent_trees {
            let found = blob_id(ptree, &path)
                .and_then(|b| entity_in_blob(repo, b, target))
                .map(|v| (v, path.clone()))
                .or_else(|| find_moved(repo, ptree, &tree, target));
            if let Some((value, old_path)) = &found {
                if *value == current && *old_path == path {
                    unchanged = true; // the same entity, other content in its file
                    break;
                }
            }
            if previous.is_none() {
                previous = found;
            }
        }
        if unchanged {
            continue;
        }
        let changes = match &previous {
            Some((old, old_path)) => {
                let mut c = field_changes(old, &current);
                if *old_path != path {
                    c.push(FieldChange {
                        field: "source.file".into(),
                        from: Value::String(strip(subdir, old_path)),
                        to: Value::String(strip(subdir, &path)),
                    });
                }
                c
            }
            None => vec![FieldChange {
                field: "entity".into(),
                from: Value::Null,
                to: Value::String(target.to_string()),
            }],
        };
        entries.push(HistoryEntry {
            commit: oid.to_string(),
            date: rfc3339(commit.author().when().seconds()),
            author: commit.author().name().unwrap_or("").to_string(),
            email: commit.author().email().unwrap_or("").to_string(),
            summary: commit.summary().unwrap_or("").to_string(),
            changes,
        });
        match previous {
            Some((_, old_path)) => path = old_path,
            None => break, // created here: nothing older to find
        }
    }
    let limited = (repo.is_shallow() || boundary_hit).then(|| {
        "the repository is a shallow clone; history before its oldest fetched commit is not available".to_string()
    });
    Ok(History {
        entity: target.to_string(),
        entries,
        limited,
    })
}

/// One entity's change in one commit of [`recent_changes`].
#[derive(Debug, Clone, Serialize)]
pub struct CatalogChange {
    /// The entity (`kind:namespace/name`, as written).
    pub entity: String,
    /// The commit, its author and what changed in the entity.
    #[serde(flatten)]
    pub entry: HistoryEntry,
}

/// What the last `max_commits` commits on the first-parent line from `start`
/// changed, entity by entity and field by field, newest first: one pass
/// over the history for the whole catalog (where [`entity_history`] walks
/// all of it for one entity). Only descriptor files (`.yaml`, `.yml`) under
/// `subdir` are read, and only those a commit changed. An entity that moved
/// to another file in a commit shows as removed there and created here.
pub fn recent_changes(
    repo: &git2::Repository,
    start: git2::Oid,
    subdir: &str,
    max_commits: usize,
) -> Result<Vec<CatalogChange>, CatalogError> {
    let label = if subdir.is_empty() { "." } else { subdir };
    let git = |action, e| CatalogError::git(action, label.to_string(), e);
    super::snapshot::tune_libgit2();
    let mut out = Vec::new();
    let mut commit = repo
        .find_commit(start)
        .map_err(|e| git("cannot read a commit of", e))?;
    let prefix = if subdir.is_empty() {
        String::new()
    } else {
        format!("{subdir}/")
    };
    // Trees read for the previous commit: its parent's trees are mostly
    // the same objects (one file changes per commit), and libgit2's cache
    // keeps no large tree, so each would be inflated again.
    let mut trees = TreeMemo::default();
    for _ in 0..max_commits {
        let parent = commit.parent(0).ok();
        let tree = trees
            .get(repo, commit.tree_id())
            .map_err(|e| git("cannot read a commit of", e))?;
        let parent_tree = match &parent {
            Some(p) => trees.get(repo, p.tree_id()).ok(),
            None => None,
        };
        let (tree, parent_tree) =
            subdir_trees(repo, &mut trees, &tree, parent_tree.as_ref(), subdir);
        let mut deltas = Vec::new();
        if let Some(tree) = &tree {
            changed_blobs(
                repo,
                &mut trees,
                parent_tree.as_ref(),
                Some(tree),
                &prefix,
                &mut deltas,
            )
            .map_err(|e| git("cannot compare commits of", e))?;
        } else if let Some(old) = &parent_tree {
            changed_blobs(repo, &mut trees, Some(old), None, &prefix, &mut deltas)
                .map_err(|e| git("cannot compare commits of", e))?;
        }
        trees.next_commit();
        let mut changed: Vec<(Value, Value, String)> = Vec::new();
        for (path, old_id, new_id) in deltas {
            if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
                continue;
            }
            let docs = |id: git2::Oid| -> Vec<Value> {
                if id.is_zero() || !blob_fits(repo, id) {
                    return Vec::new();
                }
                repo.find_blob(id)
                    .ok()
                    .and_then(|b| parse_file(b.content()).ok())
                    .map(|d| d.into_iter().map(|d| d.value).collect())
                    .unwrap_or_default()
            };
            let (old, new) = (docs(old_id), docs(new_id));
            for n in &new {
                let Some(target) = entity_ref_of(n) else {
                    continue;
                };
                let before = old.iter().find(|o| is_entity(o, &target));
                match before {
                    Some(o) if o == n => {}
                    Some(o) => changed.push((o.clone(), n.clone(), target.to_string())),
                    None => changed.push((Value::Null, n.clone(), target.to_string())),
                }
            }
            for o in &old {
                let Some(target) = entity_ref_of(o) else {
                    continue;
                };
                if !new.iter().any(|n| is_entity(n, &target)) {
                    changed.push((o.clone(), Value::Null, target.to_string()));
                }
            }
        }
        changed.sort_by(|a, b| a.2.cmp(&b.2));
        for (old, new, entity) in changed {
            let changes = match (&old, &new) {
                (Value::Null, _) => vec![FieldChange {
                    field: "entity".into(),
                    from: Value::Null,
                    to: Value::String(entity.clone()),
                }],
                (_, Value::Null) => vec![FieldChange {
                    field: "entity".into(),
                    from: Value::String(entity.clone()),
                    to: Value::Null,
                }],
                _ => field_changes(&old, &new),
            };
            out.push(CatalogChange {
                entity,
                entry: HistoryEntry {
                    commit: commit.id().to_string(),
                    date: rfc3339(commit.author().when().seconds()),
                    author: commit.author().name().unwrap_or("").to_string(),
                    email: commit.author().email().unwrap_or("").to_string(),
                    summary: commit.summary().unwrap_or("").to_string(),
                    changes,
                },
            });
        }
        match parent {
            Some(p) => commit = p,
            None => break,
        }
    }
    Ok(out)
}

/// The blobs that differ between two trees, as (path below the trees,
/// blob id in `old`, blob id in `new`) with a zero id for a side where the
/// file is absent. Symbolic links are left out.
pub fn tree_changes(
    repo: &git2::Repository,
    old: &git2::Tree,
    new: &git2::Tree,
) -> Result<Vec<(String, git2::Oid, git2::Oid)>, git2::Error> {
    let mut out = Vec::new();
    changed_blobs(
        repo,
        &mut TreeMemo::default(),
        Some(old),
        Some(new),
        "",
        &mut out,
    )?;
    Ok(out)
}

/// Trees by id, kept from one commit to the next of a history walk.
#[derive(Default)]
struct TreeMemo<'r> {
    previous: HashMap<git2::Oid, git2::Tree<'r>>,
    current: HashMap<git2::Oid, git2::Tree<'r>>,
}

impl<'r> TreeMemo<'r> {
    fn get(
        &mut self,
        repo: &'r git2::Repository,
        id: git2::Oid,
    ) -> Result<git2::Tree<'r>, git2::Error> {
        if let Some(t) = self.current.get(&id) {
            return Ok(t.clone());
        }
        let tree = match self.previous.remove(&id) {
            Some(t) => t,
            None => repo.find_tree(id)?,
        };
        self.current.insert(id, tree.clone());
        Ok(tree)
    }

    /// Keeps this commit's trees for the next one, and drops the older.
    fn next_commit(&mut self) {
        self.previous = std::mem::take(&mut self.current);
    }
}

/// The trees of the catalog directory `subdir` in a commit and its parent
/// (`None` where it does not exist); the whole trees when `subdir` is empty.
fn subdir_trees<'r>(
    repo: &'r git2::Repository,
    memo: &mut TreeMemo<'r>,
    tree: &git2::Tree<'r>,
    parent: Option<&git2::Tree<'r>>,
    subdir: &str,
) -> (Option<git2::Tree<'r>>, Option<git2::Tree<'r>>) {
    if subdir.is_empty() {
        return (Some(tree.clone()), parent.cloned());
    }
    let mut at = |t: &git2::Tree<'r>| -> Option<git2::Tree<'r>> {
        let entry = t.get_path(std::path::Path::new(subdir)).ok()?;
        (entry.kind() == Some(git2::ObjectType::Tree))
            .then(|| memo.get(repo, entry.id()).ok())
            .flatten()
    };
    let new = at(tree);
    let old = parent.and_then(&mut at);
    (new, old)
}

/// The blobs that differ between two trees (either may be absent: all of
/// the other was added or removed), as (path, old id, new id) with a zero
/// id for the absent side. Identical subtrees are skipped by id, so a
/// commit that changes one file reads only the trees on that file's path,
/// where libgit2's tree diff walks every entry of both trees. Symbolic
/// links are not content and are left out, as in [`super::snapshot`].
fn changed_blobs<'r>(
    repo: &'r git2::Repository,
    memo: &mut TreeMemo<'r>,
    old: Option<&git2::Tree<'r>>,
    new: Option<&git2::Tree<'r>>,
    prefix: &str,
    out: &mut Vec<(String, git2::Oid, git2::Oid)>,
) -> Result<(), git2::Error> {
    type Side = (git2::Oid, Option<git2::ObjectType>, i32);
    let entries = |t: Option<&git2::Tree<'r>>| -> Vec<(Vec<u8>, Side)> {
        t.map(|t| {
            t.iter()
                .map(|e| (e.name_bytes().to_vec(), (e.id(), e.kind(), e.filemode())))
                .collect()
        })
        .unwrap_or_default()
    };
    let old_entries: HashMap<Vec<u8>, Side> = entries(old).into_iter().collect();
    let new_entries = entries(new);
    let new_names: HashSet<&[u8]> = new_entries.iter().map(|(n, _)| n.as_slice()).collect();
    let zero = git2::Oid::zero();
    let is_blob = |s: &Side| s.1 == Some(git2::ObjectType::Blob) && s.2 != 0o120000;
    let is_tree = |s: &Side| s.1 == Some(git2::ObjectType::Tree);
    let visit = |name: &[u8],
                 o: Option<&Side>,
                 n: Option<&Side>,
                 memo: &mut TreeMemo<'r>,
                 out: &mut Vec<(String, git2::Oid, git2::Oid)>|
     -> Result<(), git2::Error> {
        if let (Some(o), Some(n)) = (o, n) {
            if o == n {
                return Ok(());
            }
        }
        let path = format!("{prefix}{}", String::from_utf8_lossy(name));
        let old_tree = match o.filter(|s| is_tree(s)) {
            Some(s) => Some(memo.get(repo, s.0)?),
            None => None,
        };
        let new_tree = match n.filter(|s| is_tree(s)) {
            Some(s) => Some(memo.get(repo, s.0)?),
            None => None,
        };
        if old_tree.is_some() || new_tree.is_some() {
            changed_blobs(
                repo,
                memo,
                old_tree.as_ref(),
                new_tree.as_ref(),
                &format!("{path}/"),
                out,
            )?;
        }
        let old_blob = o.filter(|s| is_blob(s)).map(|s| s.0);
        let new_blob = n.filter(|s| is_blob(s)).map(|s| s.0);
        if (old_blob.is_some() || new_blob.is_some()) && old_blob != new_blob {
            out.push((path, old_blob.unwrap_or(zero), new_blob.unwrap_or(zero)));
        }
        Ok(())
    };
    for (name, n) in &new_entries {
        visit(name, old_entries.get(name), Some(n), memo, out)?;
    }
    let mut gone: Vec<(&Vec<u8>, &Side)> = old_entries
        .iter()
        .filter(|(name, _)| !new_names.contains(name.as_slice()))
        .collect();
    gone.sort_by_key(|(name, _)| *name);
    for (name, o) in gone {
        visit(name, Some(o), None, memo, out)?;
    }
    Ok(())
}

/// The reference a descriptor document names, if it names one.
fn entity_ref_of(doc: &Value) -> Option<EntityRef> {
    let kind = doc.get("kind").and_then(Value::as_str)?;
    let meta = doc.get("metadata")?;
    let name = meta.get("name").and_then(Value::as_str)?;
    let namespace = meta
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_NAMESPACE);
    Some(EntityRef {
        kind: kind.to_ascii_lowercase(),
        namespace: namespace.to_string(),
        name: name.to_string(),
    })
}

/// The commits a shallow clone was cut at (`.git/shallow`); empty otherwise.
fn shallow_commits(repo: &git2::Repository) -> HashSet<git2::Oid> {
    if !repo.is_shallow() {
        return HashSet::new();
    }
    std::fs::read_to_string(repo.path().join("shallow"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| git2::Oid::from_str(l.trim()).ok())
        .collect()
}

/// The descriptor of `target` in the file at `path` of `tree`, if there.
fn entity_at(
    repo: &git2::Repository,
    tree: &git2::Tree,
    path: &str,
    target: &EntityRef,
) -> Option<Value> {
    entity_in_blob(repo, blob_id(tree, path)?, target)
}

/// Whether a blob is small enough to be a descriptor file: an oversized one
/// is never read into memory (it is a problem of its file, reported where
/// the catalog itself is read).
fn blob_fits(repo: &git2::Repository, id: git2::Oid) -> bool {
    repo.odb()
        .and_then(|o| o.read_header(id))
        .is_ok_and(|(size, _)| size as u64 <= super::parse::MAX_FILE_BYTES)
}

fn entity_in_blob(repo: &git2::Repository, id: git2::Oid, target: &EntityRef) -> Option<Value> {
    if !blob_fits(repo, id) {
        return None;
    }
    let blob = repo.find_blob(id).ok()?;
    let docs = parse_file(blob.content()).ok()?;
    docs.into_iter()
        .map(|d| d.value)
        .find(|v| is_entity(v, target))
}

/// Whether `path` names the same object in both trees, descending one
/// directory at a time and stopping at the first identical subtree, so large
/// unchanged directories are never loaded.
fn same_entry(repo: &git2::Repository, a: &git2::Tree, b: &git2::Tree, path: &str) -> bool {
    let mut parts = path.split('/').peekable();
    let (mut ta, mut tb) = (a.clone(), b.clone());
    while let Some(name) = parts.next() {
        let (Some(ea), Some(eb)) = (
            ta.get_name(name).map(|e| e.to_owned()),
            tb.get_name(name).map(|e| e.to_owned()),
        ) else {
            return false;
        };
        if ea.id() == eb.id() {
            return true;
        }
        if parts.peek().is_none() {
            return false;
        }
        let (Ok(Some(na)), Ok(Some(nb))) = (
            ea.to_object(repo).map(|o| o.into_tree().ok()),
            eb.to_object(repo).map(|o| o.into_tree().ok()),
        ) else {
            return false;
        };
        ta = na;
        tb = nb;
    }
    false
}

fn is_entity(doc: &Value, target: &EntityRef) -> bool {
    let kind = doc.get("kind").and_then(Value::as_str);
    let meta = doc.get("metadata");
    let name = meta.and_then(|m| m.get("name")).and_then(Value::as_str);
    let namespace = meta
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_NAMESPACE);
    kind.is_some_and(|k| k.eq_ignore_ascii_case(&target.kind))
        && name.is_some_and(|n| n.eq_ignore_ascii_case(&target.name))
        && namespace.eq_ignore_ascii_case(&target.namespace)
}

fn blob_id(tree: &git2::Tree, path: &str) -> Option<git2::Oid> {
    tree.get_path(std::path::Path::new(path))
        .ok()
        .filter(|e| e.kind() == Some(git2::ObjectType::Blob))
        .map(|e| e.id())
}

/// Where the entity was in `old` when it is not at the same path: among the
/// YAML files that changed between `old` and `new`.
fn find_moved(
    repo: &git2::Repository,
    old: &git2::Tree,
    new: &git2::Tree,
    target: &EntityRef,
) -> Option<(Value, String)> {
    let diff = repo.diff_tree_to_tree(Some(old), Some(new), None).ok()?;
    for delta in diff.deltas() {
        let Some(p) = delta.old_file().path().and_then(|p| p.to_str()) else {
            continue;
        };
        if !(p.ends_with(".yaml") || p.ends_with(".yml")) || delta.old_file().id().is_zero() {
            continue;
        }
        if let Some(v) = entity_at(repo, old, p, target) {
            return Some((v, p.to_string()));
        }
    }
    None
}

fn join(subdir: &str, file: &str) -> String {
    if subdir.is_empty() {
        file.to_string()
    } else {
        format!("{subdir}/{file}")
    }
}

fn strip(subdir: &str, path: &str) -> String {
    if subdir.is_empty() {
        return path.to_string();
    }
    path.strip_prefix(&format!("{subdir}/"))
        .unwrap_or(path)
        .to_string()
}

/// Seconds since the epoch as RFC 3339 UTC (`2026-06-01T12:00:00Z`).
pub fn rfc3339(seconds: i64) -> String {
    let t = if seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(seconds as u64)
    } else {
        UNIX_EPOCH
    };
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Parses `--at`: a date (`2026-06-01`, meaning the end of that day, UTC) or
/// a date and time (`2026-06-01T12:00:00Z`, `2026-06-01 12:00`).
pub fn parse_when(text: &str) -> Option<SystemTime> {
    let t = text.trim();
    if t.len() == 10 {
        return humantime::parse_rfc3339_weak(&format!("{t} 23:59:59")).ok();
    }
    humantime::parse_rfc3339(t)
        .or_else(|_| humantime::parse_rfc3339_weak(t))
        .or_else(|_| humantime::parse_rfc3339_weak(&format!("{t}:00")))
        .ok()
}

/// The last commit on the first-parent line from `start` made at or before
/// `when` (committer time, as `git log --first-parent --before` sees it).
pub fn commit_at(
    repo: &git2::Repository,
    start: git2::Oid,
    when: SystemTime,
    label: &str,
) -> Result<git2::Oid, CatalogError> {
    let limit = when
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let mut commit = repo
        .find_commit(start)
        .map_err(|e| CatalogError::git("cannot read HEAD of", label.to_string(), e))?;
    loop {
        if commit.time().seconds() <= limit {
            return Ok(commit.id());
        }
        match commit.parent(0) {
            Ok(parent) => commit = parent,
            Err(_) => {
                return Err(CatalogError::BeforeHistory {
                    when: humantime::format_rfc3339_seconds(when).to_string(),
                    first: rfc3339(commit.time().seconds()),
                    shallow: repo.is_shallow(),
                })
            }
        }
    }
}

/// A relation added or removed between two catalog states.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelationChange {
    /// The entity holding the relation.
    pub from: String,
    /// The relation (`dependsOn`, `ownedBy`, …).
    pub relation: String,
    /// The other end.
    pub to: String,
}

/// An entity whose descriptor changed.
#[derive(Debug, Clone, Serialize)]
pub struct EntityChange {
    /// Full reference.
    pub entity: String,
    /// Its field changes.
    pub changes: Vec<FieldChange>,
}

/// The catalog-level difference between two states.
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CatalogDiff {
    /// Entities only in the new state.
    pub added: Vec<String>,
    /// Entities only in the old state.
    pub removed: Vec<String>,
    /// Entities in both whose descriptors differ.
    pub changed: Vec<EntityChange>,
    /// Relations only in the new state.
    pub relations_added: Vec<RelationChange>,
    /// Relations only in the old state.
    pub relations_removed: Vec<RelationChange>,
}

impl CatalogDiff {
    /// Whether the two states are the same.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.relations_added.is_empty()
            && self.relations_removed.is_empty()
    }
}

/// Relations stated in one direction only, so each fact counts once.
const FORWARD: &[RelationType] = &[
    RelationType::OwnedBy,
    RelationType::PartOf,
    RelationType::DependsOn,
    RelationType::ProvidesApi,
    RelationType::ConsumesApi,
    RelationType::MemberOf,
    RelationType::ChildOf,
];

/// Compares two catalogs entity by entity.
pub fn diff_catalogs(old: &Catalog, new: &Catalog) -> CatalogDiff {
    let mut out = CatalogDiff::default();
    for e in &new.entities {
        match old.get(&e.entity_ref()) {
            None => out.added.push(e.entity_ref().to_string()),
            Some(o) => {
                let changes = field_changes(o.doc(), e.doc());
                if !changes.is_empty() {
                    out.changed.push(EntityChange {
                        entity: e.entity_ref().to_string(),
                        changes,
                    });
                }
            }
        }
    }
    for e in &old.entities {
        if new.get(&e.entity_ref()).is_none() {
            out.removed.push(e.entity_ref().to_string());
        }
    }
    let relations = |c: &Catalog| -> HashSet<RelationChange> {
        c.entities
            .iter()
            .flat_map(|e| {
                e.relations
                    .iter()
                    .filter(|r| FORWARD.contains(&r.kind))
                    .map(move |r| RelationChange {
                        from: e.entity_ref().to_string(),
                        relation: r.kind.as_str().to_string(),
                        to: r.target.to_string(),
                    })
            })
            .collect()
    };
    let (ro, rn) = (relations(old), relations(new));
    out.relations_added = rn.difference(&ro).cloned().collect();
    out.relations_removed = ro.difference(&rn).cloned().collect();
    out.added.sort();
    out.removed.sort();
    out.changed.sort_by(|a, b| a.entity.cmp(&b.entity));
    out.relations_added.sort();
    out.relations_removed.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates() {
        let d = parse_when("2026-06-01").unwrap();
        assert_eq!(
            humantime::format_rfc3339_seconds(d).to_string(),
            "2026-06-01T23:59:59Z"
        );
        let d = parse_when("2026-06-01T12:30:00Z").unwrap();
        assert_eq!(
            humantime::format_rfc3339_seconds(d).to_string(),
            "2026-06-01T12:30:00Z"
        );
        assert!(parse_when("2026-06-01 12:30").is_some());
        assert!(parse_when("yesterday").is_none());
    }
}
