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
//! Layout: `[u32 CRC-32 of the rest][u32 header length][header][u64 body
//! length][body][documents]`. The body holds each entity's identity and
//! relations; the documents section holds each descriptor's JSON, which is
//! parsed only when a command touches that entity.
//!
//! Index files are written to a temp file and renamed (a new inode), so
//! concurrent idp processes never see a half-written index. The cache is
//! still only a file: a disk error, a full disk or another process can
//! corrupt or truncate it. So a reader copies the whole file into memory
//! (a memory map of a file truncated underneath it kills the process with
//! SIGBUS) and checks the checksum before trusting a byte of it. Any read
//! failure means a rebuild, never a wrong answer.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::CatalogConfig;
use super::model::{Entity, IndexedParts, MappedDoc};
use super::snapshot::{mtime_ns, WorkTree};
use super::{Catalog, Origin};

/// Bumped whenever the stored layout changes, or loading the same files
/// gives different results (5: byte-order marks, `$openapi`/`$asyncapi`,
/// unknown placeholders), so an index an older build wrote is rebuilt.
const FORMAT: u32 = 5;
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
    entities: Vec<IndexedParts>,
    load_errors: Vec<String>,
    config_json: String,
    /// `idp.yaml` as written, to locate errors in the sections other
    /// modules type (see `CatalogConfig::section`).
    config_text: Option<String>,
    origin: Origin,
}

/// Where the index for `key` lives.
pub fn index_path(cache: &Path, key: &str) -> PathBuf {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    cache.join("index").join(format!("{:016x}.idx", h.finish()))
}

/// Why there is no usable index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Miss {
    /// None was written yet (or the cache was cleared).
    #[error("no index yet")]
    Absent,
    /// Written by another idp version or for another catalog state.
    #[error("the index is out of date")]
    Stale,
    /// The file is damaged: short, or its checksum does not match.
    #[error("the index {path} is damaged ({reason}); rebuilding it")]
    Corrupt {
        /// The index file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// The key of the index of the working tree at `root` (canonical).
pub fn worktree_key(root: &Path) -> String {
    format!("worktree:{}", root.display())
}

/// The fingerprint stored with the index for `key`, when the index is
/// intact: a long-running reader (`idp mcp`) keeps it and asks
/// [`Fingerprint::is_current`] to notice edits without reloading.
pub fn stored_fingerprint(cache: &Path, key: &str) -> Option<Fingerprint> {
    let bytes = std::fs::read(index_path(cache, key)).ok()?;
    let (sum, rest) = bytes.split_first_chunk::<4>()?;
    if u32::from_le_bytes(*sum) != crc32fast::hash(rest) {
        return None;
    }
    let (header, _, _) = parse(&bytes, key)?.ok()?;
    header.fingerprint
}

/// Loads the index for `key` if it exists, is intact and is still valid.
pub fn read(cache: &Path, key: &str) -> Result<Catalog, Miss> {
    let path = index_path(cache, key);
    // A copy, not a mapping: see the module doc.
    let bytes = std::fs::read(&path).map_err(|_| Miss::Absent)?;
    let corrupt = |reason| Miss::Corrupt {
        path: path.clone(),
        reason,
    };
    let (sum, rest) = bytes
        .split_first_chunk::<4>()
        .ok_or_else(|| corrupt("too short"))?;
    if u32::from_le_bytes(*sum) != crc32fast::hash(rest) {
        return Err(corrupt("checksum mismatch"));
    }
    let parsed = parse(&bytes, key).ok_or_else(|| corrupt("unreadable layout"))?;
    let (header, body, docs_start) = parsed?;
    if let Some(fp) = &header.fingerprint {
        if !fp.is_current() {
            return Err(Miss::Stale);
        }
    }
    let mut config: CatalogConfig =
        serde_json::from_str(&body.config_json).map_err(|_| corrupt("unreadable config"))?;
    config.text = body.config_text.map(Into::into);
    let total = bytes.len();
    let shared: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(bytes);
    let mut entities = Vec::with_capacity(body.entities.len());
    for parts in body.entities {
        let start = docs_start + parts.doc.0 as usize;
        let end = start + parts.doc.1 as usize;
        if end > total {
            return Err(corrupt("document out of bounds"));
        }
        let mapped = MappedDoc {
            bytes: shared.clone(),
            range: start..end,
        };
        entities.push(Entity::from_indexed(parts, mapped));
    }
    let mut catalog = Catalog::assemble(entities, config, body.origin);
    catalog.load_errors = body.load_errors;
    Ok(catalog)
}

/// Header, body and where the documents start, from checksummed bytes;
/// `None` when the layout does not decode, `Some(Err(Stale))` when it is
/// another version's or another key's.
fn parse(bytes: &[u8], key: &str) -> Option<Result<(Header, Body, usize), Miss>> {
    let at = 4;
    let len = u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
    let at = at + 4;
    let header: Header = bincode::deserialize(bytes.get(at..at.checked_add(len)?)?).ok()?;
    if header.format != FORMAT || header.version != env!("CARGO_PKG_VERSION") || header.key != key {
        return Some(Err(Miss::Stale));
    }
    let at = at + len;
    let body_len = u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?) as usize;
    let at = at + 8;
    let body: Body = bincode::deserialize(bytes.get(at..at.checked_add(body_len)?)?).ok()?;
    Some(Ok((header, body, at + body_len)))
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
    let texts: Vec<Vec<u8>> = catalog
        .entities
        .par_iter()
        .map(|e| serde_json::to_vec(e.doc()).unwrap_or_else(|_| b"{}".to_vec()))
        .collect();
    let mut docs: Vec<u8> = Vec::with_capacity(texts.iter().map(Vec::len).sum());
    let mut parts = Vec::with_capacity(catalog.entities.len());
    for (e, text) in catalog.entities.iter().zip(texts) {
        let start = docs.len() as u64;
        docs.extend_from_slice(&text);
        parts.push(e.indexed_parts((start, text.len() as u64)));
    }
    let body = Body {
        entities: parts,
        load_errors: catalog.load_errors.clone(),
        config_json: serde_json::to_string(&catalog.config).ok()?,
        config_text: catalog.config.text.as_deref().map(str::to_string),
        origin: catalog.origin.clone(),
    };
    let head = bincode::serialize(&header).ok()?;
    let body = bincode::serialize(&body).ok()?;
    let path = index_path(cache, key);
    let dir = path.parent()?;
    std::fs::create_dir_all(dir).ok()?;
    let head_len = (head.len() as u32).to_le_bytes();
    let body_len = (body.len() as u64).to_le_bytes();
    let sections: [&[u8]; 5] = [&head_len, &head, &body_len, &body, &docs];
    let mut crc = crc32fast::Hasher::new();
    for section in sections {
        crc.update(section);
    }
    let tmp = tempfile::NamedTempFile::new_in(dir).ok()?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file());
        w.write_all(&crc.finalize().to_le_bytes()).ok()?;
        for section in sections {
            w.write_all(section).ok()?;
        }
        w.flush().ok()?;
    }
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
        // Thousands of stats: spread over the cores.
        let per_dir: Vec<(Option<Stamp>, Option<Stamp>)> = tree
            .dirs
            .par_iter()
            .map(|dir| {
                let path = root.join(dir);
                let Ok(meta) = std::fs::metadata(&path) else {
                    return (None, None);
                };
                let mtime = mtime_ns(&meta);
                let stamp = Stamp {
                    path: dir.clone(),
                    size: 0,
                    mtime,
                    content: racy(mtime).then(|| listing_hash(&path)).flatten(),
                };
                // .gitignore decides what the walk sees; its edits must count.
                let ignore = path.join(".gitignore");
                let ignore_stamp = std::fs::metadata(&ignore)
                    .ok()
                    .map(|meta| file_stamp(&root, &join(dir, ".gitignore"), &meta, &racy));
                (Some(stamp), ignore_stamp)
            })
            .collect();
        let mut dirs = Vec::with_capacity(per_dir.len());
        let mut files = Vec::new();
        for (d, f) in per_dir {
            dirs.extend(d);
            files.extend(f);
        }
        let read: Vec<Stamp> = tree
            .files_read()
            .par_iter()
            .filter_map(|file| {
                let meta = std::fs::metadata(root.join(file)).ok()?;
                Some(file_stamp(&root, file, &meta, &racy))
            })
            .collect();
        files.extend(read);
        Fingerprint { root, dirs, files }
    }

    /// Whether every stamped path is unchanged. Thousands of stats: spread
    /// over the cores.
    pub fn is_current(&self) -> bool {
        let dirs_ok = self.dirs.par_iter().all(|s| {
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
            && self.files.par_iter().all(|s| {
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

fn file_stamp(
    root: &Path,
    rel: &str,
    meta: &std::fs::Metadata,
    racy: &dyn Fn(u128) -> bool,
) -> Stamp {
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
