//! The on-disk index: a loaded catalog (entities with relations, config)
//! stored under `$XDG_CACHE_HOME/idp/index/`, so warm commands skip parsing.
//!
//! A commit's tree never changes, so an index of `--ref`/remote reads is keyed
//! by the tree id. The working tree does change, so its index also stores a
//! fingerprint of everything the load looked at: each directory's mtime (a new
//! or removed file changes it), and each file read with its size and mtime. A
//! warm run only stats those paths. Files and directories modified within two
//! seconds of the load also get a content hash, because a second edit in the
//! same mtime tick would otherwise go unnoticed (git's "racy clean" problem).
//!
//! Index files are written to a temp file and renamed, so concurrent idp
//! processes never see a half-written index. Any read failure just means a
//! rebuild.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::config::CatalogConfig;
use super::model::Entity;
use super::snapshot::{mtime_ns, WorkTree};
use super::{Catalog, Origin};

/// Bumped whenever the stored layout changes.
const FORMAT: u32 = 1;
/// Entries modified more recently than this before indexing get a content hash.
const RACY_NS: u128 = 2_000_000_000;

#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    version: String,
    key: String,
    fingerprint: Option<Fingerprint>,
}

/// What a working-tree index depends on.
#[derive(Serialize, Deserialize, Debug)]
pub struct Fingerprint {
    root: PathBuf,
    dirs: Vec<Stamp>,
    files: Vec<Stamp>,
}

#[derive(Serialize, Deserialize, Debug)]
struct Stamp {
    path: String,
    size: u64,
    mtime: u128,
    /// Hash of the content (file) or sorted listing (directory), for racy entries.
    content: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct Body {
    entities: Vec<Entity>,
    config_json: String,
    origin: Origin,
}

/// Where the index for `key` lives.
pub fn index_path(cache: &Path, key: &str) -> PathBuf {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    cache.join("index").join(format!("{:016x}.idx", h.finish()))
}

/// Loads the index for `key` if it exists and is still valid.
pub fn read(cache: &Path, key: &str) -> Option<Catalog> {
    let bytes = std::fs::read(index_path(cache, key)).ok()?;
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let header: Header = bincode::deserialize(bytes.get(4..4 + len)?).ok()?;
    if header.format != FORMAT || header.version != env!("CARGO_PKG_VERSION") || header.key != key {
        return None;
    }
    if let Some(fp) = &header.fingerprint {
        if !fp.is_current() {
            return None;
        }
    }
    let body: Body = bincode::deserialize(bytes.get(4 + len..)?).ok()?;
    let config: CatalogConfig = serde_json::from_str(&body.config_json).ok()?;
    Some(Catalog::assemble(body.entities, config, body.origin))
}

/// Stores `catalog` under `key`. Failures are ignored: the index is a cache.
pub fn write(cache: &Path, key: &str, catalog: &Catalog, fingerprint: Option<Fingerprint>) {
    let _ = try_write(cache, key, catalog, fingerprint);
}

fn try_write(
    cache: &Path,
    key: &str,
    catalog: &Catalog,
    fingerprint: Option<Fingerprint>,
) -> Option<()> {
    let header = Header {
        format: FORMAT,
        version: env!("CARGO_PKG_VERSION").to_string(),
        key: key.to_string(),
        fingerprint,
    };
    let body = Body {
        entities: catalog.entities.clone(),
        config_json: serde_json::to_string(&catalog.config).ok()?,
        origin: catalog.origin.clone(),
    };
    let head = bincode::serialize(&header).ok()?;
    let body = bincode::serialize(&body).ok()?;
    let path = index_path(cache, key);
    let dir = path.parent()?;
    std::fs::create_dir_all(dir).ok()?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).ok()?;
    tmp.write_all(&(head.len() as u32).to_le_bytes()).ok()?;
    tmp.write_all(&head).ok()?;
    tmp.write_all(&body).ok()?;
    tmp.persist(&path).ok()?;
    Some(())
}

impl Fingerprint {
    /// Fingerprints what a working-tree load looked at.
    pub fn of_worktree(tree: &WorkTree) -> Fingerprint {
        let root = tree.root().to_path_buf();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let racy = |mtime: u128| now.saturating_sub(mtime) < RACY_NS;
        let mut dirs = Vec::new();
        let mut files = Vec::new();
        for dir in &tree.dirs {
            let path = root.join(dir);
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            let mtime = mtime_ns(&meta);
            dirs.push(Stamp {
                path: dir.clone(),
                size: 0,
                mtime,
                content: racy(mtime).then(|| listing_hash(&path)).flatten(),
            });
            // .gitignore decides what the walk sees; its edits must count.
            let ignore = path.join(".gitignore");
            if let Ok(meta) = std::fs::metadata(&ignore) {
                files.push(file_stamp(&root, &join(dir, ".gitignore"), &meta, &racy));
            }
        }
        for file in tree.files_read() {
            let path = root.join(&file);
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            files.push(file_stamp(&root, &file, &meta, &racy));
        }
        Fingerprint { root, dirs, files }
    }

    /// Whether every stamped path is unchanged.
    fn is_current(&self) -> bool {
        let dirs_ok = self.dirs.iter().all(|s| {
            let path = self.root.join(&s.path);
            match std::fs::metadata(&path) {
                Ok(meta) => {
                    mtime_ns(&meta) == s.mtime
                        && s.content.is_none_or(|h| listing_hash(&path) == Some(h))
                }
                Err(_) => false,
            }
        });
        dirs_ok
            && self.files.iter().all(|s| {
                let path = self.root.join(&s.path);
                match std::fs::metadata(&path) {
                    Ok(meta) => {
                        meta.len() == s.size
                            && mtime_ns(&meta) == s.mtime
                            && s.content.is_none_or(|h| content_hash(&path) == Some(h))
                    }
                    Err(_) => false,
                }
            })
    }
}

fn file_stamp(root: &Path, rel: &str, meta: &std::fs::Metadata, racy: &dyn Fn(u128) -> bool) -> Stamp {
    let mtime = mtime_ns(meta);
    Stamp {
        path: rel.to_string(),
        size: meta.len(),
        mtime,
        content: racy(mtime).then(|| content_hash(&root.join(rel))).flatten(),
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn content_hash(path: &Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    Some(h.finish())
}

fn listing_hash(path: &Path) -> Option<u64> {
    let mut names: Vec<_> = std::fs::read_dir(path)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    names.sort();
    let mut h = DefaultHasher::new();
    names.hash(&mut h);
    Some(h.finish())
}
