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
//! Layout (format 8): `[8 bytes "idpindex"][u32 format][u32 CRC-32 of
//! the header length and header][u32 header length][header][sections]`,
//! integers little-endian, header and sections encoded with `postcard` (a
//! documented, stable wire format). The header names each section with its
//! byte range and its own CRC-32, so a command reads (and checks) only the
//! sections it uses: `who-owns` never reads `validate`'s. `body` holds
//! each entity's identity, `rels` each entity's relations (postcard) and
//! `docs` each descriptor's JSON; other modules add their own (validation
//! findings, see `validate::reuse`). `rels` and `docs` are also cut into
//! chunks of about 32 KiB at record boundaries, each with its own CRC-32:
//! opening the catalog checks their whole CRC-32 through one small reused
//! buffer, and a record is read (its chunk, checked again) when a command
//! first touches that entity's relations or document. A warm `who-owns`
//! so reads a few chunks, not 10 MB into fresh memory. A writer keeps
//! the sections of the file it replaces that it does not rewrite itself:
//! each such section checks its own records against the files' stamps.
//!
//! Index files are written to a temp file and renamed (a new inode), so
//! concurrent idp processes never see a half-written index. The cache is
//! still only a file: a disk error, a full disk or another process can
//! corrupt or truncate it, and an older idp wrote another layout there. So a
//! reader copies what it reads into memory (a memory map of a file
//! truncated underneath it kills the process with SIGBUS), checks the magic
//! bytes and the format (another layout is rebuilt, never decoded), the
//! header's checksum before trusting a byte of it and each section's
//! before using it, and bounds-checks every range against the file's size.
//! It keeps the file open: a writer replaces the file by renaming a new
//! one over it, so the open file is the one whose header was read. Any read
//! failure means a rebuild, never a wrong answer.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::config::CatalogConfig;
use super::load::RawDocument;
use super::model::{Entity, IndexedParts, MappedDoc, RecordStore, Source};
use super::problem::{Problem, Severity};
use super::snapshot::{mtime_ns, WorkTree};
use super::{Catalog, Origin};

/// The first bytes of every index file.
const MAGIC: &[u8; 8] = b"idpindex";
/// Bumped whenever the stored layout changes, or loading the same files
/// gives different results (5: byte-order marks, `$openapi`/`$asyncapi`,
/// unknown placeholders; 6: postcard, sections, load problems kept; 7: a
/// checksum per section; 8: relations in their own section, chunked
/// sections), so an index an older build wrote is rebuilt.
const FORMAT: u32 = 8;
/// Magic, format and checksum.
const PREAMBLE: usize = 16;
/// Entries modified more recently than this before indexing get a content hash.
const RACY_NS: u128 = 2_000_000_000;
/// Sections this module writes itself.
const BODY: &str = "body";
const DOCS: &str = "docs";
const RELS: &str = "rels";
/// Chunks of `docs` and `rels` end at the first record boundary past this.
const CHUNK: usize = 32 * 1024;

#[derive(Serialize, Deserialize)]
struct Header {
    version: String,
    key: String,
    fingerprint: Option<Fingerprint>,
    /// CRC-32 of the `body`, `docs` and `rels` sections: which catalog this is.
    catalog: u32,
    /// Each section's name, byte range, checksums.
    sections: Vec<SectionEntry>,
}

/// Where a section is and how to check it.
#[derive(Serialize, Deserialize, Clone)]
struct SectionEntry {
    name: String,
    /// Byte range, from the end of the header.
    start: u64,
    len: u64,
    /// The `catalog` it was written with.
    tag: u32,
    /// CRC-32 of its bytes.
    crc: u32,
    /// Length and CRC-32 of each chunk, for a section read piecewise
    /// (empty: read whole).
    chunks: Vec<(u64, u32)>,
}

/// What a working-tree index depends on.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Fingerprint {
    root: PathBuf,
    dirs: Vec<Stamp>,
    files: Vec<Stamp>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct Stamp {
    path: String,
    size: u64,
    mtime: u128,
    /// Hash of the content (file) or sorted listing (directory), for racy entries.
    content: Option<u64>,
}

/// The state of one file as the index saw it: size, mtime and, when it was
/// modified within the racy window, a hash of its content.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct FileStamp {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime: u128,
    /// Content hash, for a file modified just before it was stamped.
    pub content: Option<u64>,
}

impl FileStamp {
    /// Whether a file stamped `self` earlier is unchanged now that it is
    /// stamped `now`: same size and mtime, and when the earlier stamp was
    /// racy, the same content (a later stamp without a hash cannot prove
    /// that, so it counts as changed).
    pub fn still(&self, now: &FileStamp) -> bool {
        self.size == now.size
            && self.mtime == now.mtime
            && self.content.is_none_or(|h| now.content == Some(h))
    }
}

#[derive(Serialize, Deserialize)]
struct Body<P = IndexedParts> {
    entities: Vec<P>,
    load_errors: Vec<String>,
    config_json: String,
    /// `idp.yaml` as written, to locate errors in the sections other
    /// modules type (see `CatalogConfig::section`).
    config_text: Option<String>,
    origin: Origin,
    files_read: usize,
    /// Load problems, for `validate` (unlocated, as the load made them).
    problems: Vec<StoredProblem>,
    /// Documents that did not become entities, as JSON.
    rejected: Vec<(Source, String)>,
}

/// A [`Problem`] as the index stores it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct StoredProblem {
    /// Error or warning.
    pub error: bool,
    /// Code.
    pub code: String,
    /// Message.
    pub message: String,
    /// File.
    pub file: String,
    /// Line.
    pub line: usize,
    /// Column.
    pub column: usize,
    /// Entity.
    pub entity: Option<String>,
    /// Field path.
    pub field: Option<String>,
    /// Document index.
    pub document: usize,
    /// Source line.
    pub snippet: Option<String>,
}

impl StoredProblem {
    /// The storable form of a problem.
    pub fn of(p: &Problem) -> Self {
        StoredProblem {
            error: p.is_error(),
            code: p.code.to_string(),
            message: p.message.clone(),
            file: p.file.clone(),
            line: p.line,
            column: p.column,
            entity: p.entity.clone(),
            field: p.field.clone(),
            document: p.document,
            snippet: p.snippet.clone(),
        }
    }

    /// The problem back.
    pub fn problem(&self) -> Problem {
        Problem {
            severity: if self.error {
                Severity::Error
            } else {
                Severity::Warning
            },
            code: intern(&self.code),
            message: self.message.clone(),
            file: self.file.clone(),
            line: self.line,
            column: self.column,
            entity: self.entity.clone(),
            field: self.field.clone(),
            document: self.document,
            snippet: self.snippet.clone(),
        }
    }
}

/// A problem code read back from the index as the `&'static str` problems
/// carry. Codes are a small fixed vocabulary, and the index is checksummed
/// and written by idp, so each distinct code is leaked once.
pub fn intern(code: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static CODES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let codes = CODES.get_or_init(Default::default);
    let Ok(mut set) = codes.lock() else {
        return "unknown";
    };
    if let Some(c) = set.get(code) {
        return c;
    }
    let leaked: &'static str = Box::leak(code.to_string().into_boxed_str());
    set.insert(leaked);
    leaked
}

/// Encodes a section value (postcard).
pub fn encode<T: Serialize>(value: &T) -> Option<Vec<u8>> {
    postcard::to_stdvec(value).ok()
}

/// Decodes a section value; `None` when it does not decode.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    postcard::from_bytes(bytes).ok()
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
    /// Written by another idp version or layout, or for another catalog state.
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
    open_file(cache, key).ok()?.header.fingerprint
}

/// An intact index file of this format for one key, current or not.
pub struct IndexFile {
    path: PathBuf,
    /// The file whose header was read (see the module doc), shared with
    /// the sections read piecewise.
    file: Arc<std::fs::File>,
    header: Header,
    /// Where the sections start.
    base: u64,
    /// Each section of `header.sections` once read: `None` when it could
    /// not be read or its checksum does not match.
    loaded: Vec<std::sync::OnceLock<Option<Arc<Vec<u8>>>>>,
}

/// Reads the index file for `key` and checks that it is sound (magic,
/// format, checksum, layout, version, key); whether it still matches the
/// files is [`IndexFile::is_current`].
pub fn open_file(cache: &Path, key: &str) -> Result<IndexFile, Miss> {
    use std::io::Read;
    let path = index_path(cache, key);
    let mut file = std::fs::File::open(&path).map_err(|_| Miss::Absent)?;
    let size = file.metadata().map_err(|_| Miss::Absent)?.len();
    let corrupt = |reason| Miss::Corrupt {
        path: path.clone(),
        reason,
    };
    // A copy, not a mapping: see the module doc.
    let mut preamble = [0u8; PREAMBLE + 4];
    let got = read_up_to(&mut file, &mut preamble).map_err(|_| corrupt("unreadable"))?;
    if got < PREAMBLE {
        return Err(corrupt("too short"));
    }
    // Another layout (an older idp's) or not an index at all: rebuilt
    // without a word, and never decoded.
    if &preamble[..8] != MAGIC || preamble[8..12] != FORMAT.to_le_bytes() {
        return Err(Miss::Stale);
    }
    if got < preamble.len() {
        return Err(corrupt("too short"));
    }
    let sum = u32::from_le_bytes([preamble[12], preamble[13], preamble[14], preamble[15]]);
    let head_len = u32::from_le_bytes([preamble[16], preamble[17], preamble[18], preamble[19]]);
    let base = (preamble.len() as u64) + u64::from(head_len);
    if base > size {
        return Err(corrupt("checksum mismatch"));
    }
    let mut head = vec![0u8; head_len as usize];
    file.read_exact(&mut head)
        .map_err(|_| corrupt("too short"))?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&preamble[PREAMBLE..]);
    crc.update(&head);
    if sum != crc.finalize() {
        return Err(corrupt("checksum mismatch"));
    }
    let header: Header = decode(&head).ok_or_else(|| corrupt("unreadable layout"))?;
    for entry in &header.sections {
        let end = entry
            .start
            .checked_add(entry.len)
            .and_then(|e| e.checked_add(base));
        if end.is_none_or(|e| e > size) {
            return Err(corrupt("section out of bounds"));
        }
        let chunked: Option<u64> = entry
            .chunks
            .iter()
            .try_fold(0u64, |sum, (len, _)| sum.checked_add(*len));
        if !entry.chunks.is_empty() && chunked != Some(entry.len) {
            return Err(corrupt("section out of bounds"));
        }
    }
    if header.version != env!("CARGO_PKG_VERSION") || header.key != key {
        return Err(Miss::Stale);
    }
    let loaded = header.sections.iter().map(|_| Default::default()).collect();
    Ok(IndexFile {
        path,
        file: Arc::new(file),
        header,
        base,
        loaded,
    })
}

/// Fills `buf` from `offset` of `file`.
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = file;
        f.seek(SeekFrom::Start(offset))?;
        f.read_exact(buf)
    }
}

/// Reads into `buf` until it is full or the file ends; the bytes read.
fn read_up_to(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::io::Read;
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

impl IndexFile {
    /// Whether the files it was built from are unchanged (always, for a
    /// commit's tree).
    pub fn is_current(&self) -> bool {
        self.header
            .fingerprint
            .as_ref()
            .is_none_or(|fp| fp.is_current())
    }

    /// The bytes of a section, if the file has it and they are intact
    /// (read and checked on first use).
    pub fn section(&self, name: &str) -> Option<&[u8]> {
        self.section_shared(name).map(|b| b.as_slice())
    }

    fn section_shared(&self, name: &str) -> Option<&Arc<Vec<u8>>> {
        let i = self.header.sections.iter().position(|s| s.name == name)?;
        let entry = &self.header.sections[i];
        self.loaded[i]
            .get_or_init(|| {
                let mut bytes = vec![0u8; usize::try_from(entry.len).ok()?];
                read_at(&self.file, &mut bytes, self.base + entry.start).ok()?;
                (crc32fast::hash(&bytes) == entry.crc).then(|| Arc::new(bytes))
            })
            .as_ref()
    }

    /// A section's records, for entities to read on first use: a chunked
    /// section is read chunk by chunk later (check it whole first with
    /// [`Self::check_whole`]); another is read (and checked) whole now.
    /// `None` when it is missing or damaged. Also gives its length.
    fn records(&self, name: &str) -> Option<(Arc<dyn RecordStore>, usize)> {
        let entry = self.header.sections.iter().find(|s| s.name == name)?;
        let len = usize::try_from(entry.len).ok()?;
        if entry.chunks.is_empty() {
            let whole: Arc<dyn RecordStore> = self.section_shared(name)?.clone();
            return Some((whole, len));
        }
        let mut starts = Vec::with_capacity(entry.chunks.len());
        let mut at = 0u64;
        for (len, _) in &entry.chunks {
            starts.push(at);
            at += len;
        }
        let lazy = LazySection {
            file: self.file.clone(),
            at: self.base + entry.start,
            starts,
            chunks: entry.chunks.clone(),
            loaded: entry.chunks.iter().map(|_| Default::default()).collect(),
        };
        Some((Arc::new(lazy), len))
    }

    /// Whether a chunked section's bytes match its checksum, streamed
    /// through one small buffer (nothing kept): done just before its
    /// records are first read, so a file written over in place since
    /// (idp never does; it renames a new file over the old) is caught
    /// here, not as a chunk that fails when an entity is read.
    fn check_whole(&self, name: &str) -> bool {
        let Some(entry) = self.header.sections.iter().find(|s| s.name == name) else {
            return false;
        };
        if entry.chunks.is_empty() {
            return true; // checked whole when read
        }
        let Ok(len) = usize::try_from(entry.len) else {
            return false;
        };
        let mut buf = vec![0u8; (256 * 1024).min(len)];
        let mut crc = crc32fast::Hasher::new();
        let mut at = 0usize;
        while at < len {
            let n = buf.len().min(len - at);
            if read_at(
                &self.file,
                &mut buf[..n],
                self.base + entry.start + at as u64,
            )
            .is_err()
            {
                return false;
            }
            crc.update(&buf[..n]);
            at += n;
        }
        crc.finalize() == entry.crc
    }

    /// Whether a section was written together with the catalog this file
    /// holds (not carried over from an older file by a writer that did not
    /// know it).
    pub fn section_is_fresh(&self, name: &str) -> bool {
        self.header
            .sections
            .iter()
            .any(|s| s.name == name && s.tag == self.header.catalog)
    }

    /// A section to write again as it is.
    fn carried(&self, entry: &SectionEntry) -> Option<Pending> {
        let bytes = self.section(&entry.name)?.to_vec();
        Some(Pending {
            name: entry.name.clone(),
            bytes,
            tag: entry.tag,
            chunks: entry.chunks.iter().map(|c| c.0).collect(),
        })
    }

    /// The stamps of the files the index was built from (working tree only).
    pub fn file_stamps(&self) -> std::collections::HashMap<String, FileStamp> {
        self.header
            .fingerprint
            .as_ref()
            .map(Fingerprint::file_stamps)
            .unwrap_or_default()
    }

    /// The catalog it holds.
    pub fn catalog(&self) -> Result<Catalog, Miss> {
        let catalog = self.catalog_unchecked()?;
        self.check_records()?;
        Ok(catalog)
    }

    /// Checks the sections whose records [`Self::catalog_unchecked`] left
    /// to be read on first use.
    pub fn check_records(&self) -> Result<(), Miss> {
        if self.check_whole(DOCS) && self.check_whole(RELS) {
            Ok(())
        } else {
            Err(Miss::Corrupt {
                path: self.path.clone(),
                reason: "checksum mismatch",
            })
        }
    }

    /// The catalog it holds, with the records of its chunked sections not
    /// checked yet: [`Self::check_records`] must pass before it is used.
    pub fn catalog_unchecked(&self) -> Result<Catalog, Miss> {
        let corrupt = |reason| Miss::Corrupt {
            path: self.path.clone(),
            reason,
        };
        let body = self
            .section(BODY)
            .ok_or_else(|| corrupt("checksum mismatch"))?;
        let body: Body = decode(body).ok_or_else(|| corrupt("unreadable body"))?;
        let (docs, docs_len) = self
            .records(DOCS)
            .ok_or_else(|| corrupt("checksum mismatch"))?;
        let (rels, rels_len) = self
            .records(RELS)
            .ok_or_else(|| corrupt("checksum mismatch"))?;
        let mut config: CatalogConfig =
            serde_json::from_str(&body.config_json).map_err(|_| corrupt("unreadable config"))?;
        config.text = body.config_text.map(Into::into);
        let mut entities = Vec::with_capacity(body.entities.len());
        let range = |(start, len): (u64, u64), max: usize| {
            let start = usize::try_from(start).ok()?;
            let end = start.checked_add(usize::try_from(len).ok()?)?;
            (end <= max).then_some(start..end)
        };
        for parts in body.entities {
            let (Some(doc), Some(rel)) = (range(parts.doc, docs_len), range(parts.rels, rels_len))
            else {
                return Err(corrupt("document out of bounds"));
            };
            let mapped = MappedDoc {
                bytes: docs.clone(),
                range: doc,
            };
            let rels = MappedDoc {
                bytes: rels.clone(),
                range: rel,
            };
            entities.push(Entity::from_indexed(parts, rels, mapped));
        }
        let mut rejected = Vec::with_capacity(body.rejected.len());
        for (source, json) in body.rejected {
            let value = serde_json::from_str(&json).map_err(|_| corrupt("unreadable document"))?;
            rejected.push(RawDocument { source, value });
        }
        let mut catalog = Catalog::assemble(entities, config, body.origin);
        catalog.load_errors = body.load_errors;
        catalog.files_read = body.files_read;
        catalog.problems = body.problems.iter().map(StoredProblem::problem).collect();
        catalog.rejected = rejected;
        catalog.indexed = true;
        Ok(catalog)
    }

    /// Rewrites this file with `sections` replacing (or added to) its own,
    /// the catalog and everything else kept as they are. Failures are
    /// ignored: the index is a cache.
    pub fn replace_sections(&self, sections: Vec<(String, Vec<u8>)>) {
        let catalog = self.header.catalog;
        let mut all: Vec<Pending> = Vec::new();
        for entry in &self.header.sections {
            if sections.iter().any(|s| s.0 == entry.name) {
                continue;
            }
            all.extend(self.carried(entry));
        }
        all.extend(
            sections
                .into_iter()
                .map(|(n, b)| Pending::whole(n, b, catalog)),
        );
        let Some(dir) = self.path.parent() else {
            return;
        };
        let _ = write_file(
            dir,
            &self.path,
            &self.header.key,
            self.header.fingerprint.clone(),
            catalog,
            all,
        );
    }
}

/// Loads the index for `key` if it exists, is intact and is still valid.
pub fn read(cache: &Path, key: &str) -> Result<Catalog, Miss> {
    let file = open_file(cache, key)?;
    if !file.is_current() {
        return Err(Miss::Stale);
    }
    file.catalog()
}

/// Stores `catalog` under `key`. Failures are ignored: the index is a cache.
pub fn write(cache: &Path, key: &str, catalog: &Catalog, fingerprint: Option<Fingerprint>) {
    write_with(cache, key, catalog, fingerprint, Vec::new(), None);
}

/// Stores `catalog` under `key` with extra `sections`, keeping the other
/// sections of `previous` (the file it replaces). Failures are ignored.
pub fn write_with(
    cache: &Path,
    key: &str,
    catalog: &Catalog,
    fingerprint: Option<Fingerprint>,
    sections: Vec<(String, Vec<u8>)>,
    previous: Option<&IndexFile>,
) {
    let _ = try_write(cache, key, catalog, fingerprint, sections, previous);
}

fn try_write(
    cache: &Path,
    key: &str,
    catalog: &Catalog,
    fingerprint: Option<Fingerprint>,
    sections: Vec<(String, Vec<u8>)>,
    previous: Option<&IndexFile>,
) -> Option<()> {
    // Serialized in parallel, in runs of entities each written straight
    // into its own buffer (a text `validate` already made is copied, none
    // is kept per entity), then appended in order.
    let runs: Vec<Run> = catalog
        .entities
        .par_chunks(256)
        .map(|run| {
            let (mut docs, mut doc_lens) = (Vec::new(), Vec::with_capacity(run.len()));
            let (mut rels, mut rel_lens) = (Vec::new(), Vec::with_capacity(run.len()));
            for e in run {
                let start = docs.len();
                e.append_json(&mut docs);
                doc_lens.push((docs.len() - start) as u64);
                let start = rels.len();
                if let Ok(bytes) = postcard::to_stdvec(e.relations.list()) {
                    rels.extend_from_slice(&bytes);
                }
                rel_lens.push((rels.len() - start) as u64);
            }
            (docs, doc_lens, rels, rel_lens)
        })
        .collect();
    let mut docs = Records::with_capacity(runs.iter().map(|r| r.0.len()).sum());
    let mut rels = Records::with_capacity(runs.iter().map(|r| r.2.len()).sum());
    let mut parts = Vec::with_capacity(catalog.entities.len());
    let mut entities = catalog.entities.iter();
    for (doc_bytes, doc_lens, rel_bytes, rel_lens) in runs {
        let (mut d, mut r) = (0usize, 0usize);
        for (dl, rl) in doc_lens.iter().zip(&rel_lens) {
            let (dl, rl) = (*dl as usize, *rl as usize);
            let doc = docs.push(&doc_bytes[d..d + dl]);
            let rel = rels.push(&rel_bytes[r..r + rl]);
            (d, r) = (d + dl, r + rl);
            parts.extend(entities.next().map(|e| e.indexed_parts(rel, doc)));
        }
    }
    let body = Body {
        entities: parts,
        load_errors: catalog.load_errors.clone(),
        config_json: serde_json::to_string(&catalog.config).ok()?,
        config_text: catalog.config.text.as_deref().map(str::to_string),
        origin: catalog.origin.clone(),
        files_read: catalog.files_read,
        problems: catalog.problems.iter().map(StoredProblem::of).collect(),
        rejected: catalog
            .rejected
            .iter()
            .map(|r| (r.source.clone(), r.value.to_string()))
            .collect(),
    };
    let body = encode(&body)?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&body);
    crc.update(&docs.bytes);
    crc.update(&rels.bytes);
    let catalog = crc.finalize();
    let mut all = vec![
        Pending::whole(BODY.to_string(), body, catalog),
        docs.pending(DOCS, catalog),
        rels.pending(RELS, catalog),
    ];
    if let Some(prev) = previous {
        for entry in &prev.header.sections {
            let name = &entry.name;
            let ours = name == BODY
                || name == DOCS
                || name == RELS
                || sections.iter().any(|s| &s.0 == name);
            if !ours {
                all.extend(prev.carried(entry));
            }
        }
    }
    all.extend(
        sections
            .into_iter()
            .map(|(n, b)| Pending::whole(n, b, catalog)),
    );
    let path = index_path(cache, key);
    let dir = path.parent()?;
    std::fs::create_dir_all(dir).ok()?;
    write_file(dir, &path, key, fingerprint, catalog, all)
}

/// A run of entities serialized by one task of the index writer: the
/// descriptors' bytes and lengths, the relations' bytes and lengths.
type Run = (Vec<u8>, Vec<u64>, Vec<u8>, Vec<u64>);

/// A section to write.
struct Pending {
    name: String,
    bytes: Vec<u8>,
    /// The catalog it was written with.
    tag: u32,
    /// Chunk lengths (empty: one piece).
    chunks: Vec<u64>,
}

impl Pending {
    fn whole(name: String, bytes: Vec<u8>, tag: u32) -> Self {
        Pending {
            name,
            bytes,
            tag,
            chunks: Vec::new(),
        }
    }
}

/// Records (descriptors, relations) appended to a section cut into chunks
/// at record boundaries.
struct Records {
    bytes: Vec<u8>,
    chunks: Vec<u64>,
    /// Where the open chunk starts.
    open: usize,
}

impl Records {
    fn with_capacity(size: usize) -> Self {
        Records {
            bytes: Vec::with_capacity(size),
            chunks: Vec::new(),
            open: 0,
        }
    }

    /// Appends a record; its (start, length).
    fn push(&mut self, record: &[u8]) -> (u64, u64) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(record);
        if self.bytes.len() - self.open >= CHUNK {
            self.chunks.push((self.bytes.len() - self.open) as u64);
            self.open = self.bytes.len();
        }
        (start as u64, record.len() as u64)
    }

    fn pending(mut self, name: &str, tag: u32) -> Pending {
        if self.bytes.len() > self.open || self.chunks.is_empty() {
            self.chunks.push((self.bytes.len() - self.open) as u64);
        }
        Pending {
            name: name.to_string(),
            bytes: self.bytes,
            tag,
            chunks: self.chunks,
        }
    }
}

/// A section read chunk by chunk on first use, each chunk checked against
/// its CRC-32 when read. A record is never split across chunks (the
/// writer cuts at record boundaries), so each is one slice of one chunk.
struct LazySection {
    file: Arc<std::fs::File>,
    /// Where the section starts in the file.
    at: u64,
    /// Where each chunk starts in the section.
    starts: Vec<u64>,
    /// Length and CRC-32 of each chunk.
    chunks: Vec<(u64, u32)>,
    loaded: Vec<std::sync::OnceLock<Option<Box<[u8]>>>>,
}

impl RecordStore for LazySection {
    fn get(&self, range: std::ops::Range<usize>) -> Option<&[u8]> {
        let i = self
            .starts
            .partition_point(|&s| s <= range.start as u64)
            .checked_sub(1)?;
        let (len, sum) = self.chunks[i];
        let start = self.starts[i];
        let chunk = self.loaded[i]
            .get_or_init(|| {
                let mut bytes = vec![0u8; usize::try_from(len).ok()?];
                read_at(&self.file, &mut bytes, self.at + start).ok()?;
                (crc32fast::hash(&bytes) == sum).then(|| bytes.into_boxed_slice())
            })
            .as_deref()?;
        let from = range.start - start as usize;
        chunk.get(from..from + range.len())
    }
}

fn write_file(
    dir: &Path,
    path: &Path,
    key: &str,
    fingerprint: Option<Fingerprint>,
    catalog: u32,
    sections: Vec<Pending>,
) -> Option<()> {
    let mut table = Vec::with_capacity(sections.len());
    let mut at = 0u64;
    for s in &sections {
        let mut chunks = Vec::with_capacity(s.chunks.len());
        let mut from = 0usize;
        for len in &s.chunks {
            let end = from + usize::try_from(*len).ok()?;
            chunks.push((*len, crc32fast::hash(s.bytes.get(from..end)?)));
            from = end;
        }
        table.push(SectionEntry {
            name: s.name.clone(),
            start: at,
            len: s.bytes.len() as u64,
            tag: s.tag,
            crc: crc32fast::hash(&s.bytes),
            chunks,
        });
        at += s.bytes.len() as u64;
    }
    let header = Header {
        version: env!("CARGO_PKG_VERSION").to_string(),
        key: key.to_string(),
        fingerprint,
        catalog,
        sections: table,
    };
    let head = encode(&header)?;
    let head_len = u32::try_from(head.len()).ok()?.to_le_bytes();
    let mut crc = crc32fast::Hasher::new();
    crc.update(&head_len);
    crc.update(&head);
    let tmp = tempfile::NamedTempFile::new_in(dir).ok()?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file());
        w.write_all(MAGIC).ok()?;
        w.write_all(&FORMAT.to_le_bytes()).ok()?;
        w.write_all(&crc.finalize().to_le_bytes()).ok()?;
        w.write_all(&head_len).ok()?;
        w.write_all(&head).ok()?;
        for s in &sections {
            w.write_all(&s.bytes).ok()?;
        }
        w.flush().ok()?;
    }
    tmp.persist(path).ok()?;
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
        let at = StatRoot::open(&root);
        // Thousands of stats: spread over the cores.
        let per_dir: Vec<(Option<Stamp>, Option<Stamp>)> = tree
            .dirs
            .par_iter()
            .map(|dir| {
                let path = root.join(dir);
                let Some((_, mtime)) = at.stat(dir) else {
                    return (None, None);
                };
                let stamp = Stamp {
                    path: dir.clone(),
                    size: 0,
                    mtime,
                    content: racy(mtime).then(|| listing_hash(&path)).flatten(),
                };
                // .gitignore decides what the walk sees; its edits must count.
                let ignore = join(dir, ".gitignore");
                let ignore_stamp = at
                    .stat(&ignore)
                    .map(|meta| file_stamp(&root, &ignore, meta, &racy));
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
            .filter_map(|file| Some(file_stamp(&root, file, at.stat(file)?, &racy)))
            .collect();
        files.extend(read);
        Fingerprint { root, dirs, files }
    }

    /// The stamp of every file the load read, by catalog-relative path.
    pub fn file_stamps(&self) -> std::collections::HashMap<String, FileStamp> {
        self.files
            .iter()
            .map(|s| {
                let stamp = FileStamp {
                    size: s.size,
                    mtime: s.mtime,
                    content: s.content,
                };
                (s.path.clone(), stamp)
            })
            .collect()
    }

    /// Whether every stamped path is unchanged. Thousands of stats: spread
    /// over the cores.
    pub fn is_current(&self) -> bool {
        let at = StatRoot::open(&self.root);
        let dirs_ok = self.dirs.par_iter().all(|s| match at.stat(&s.path) {
            Some((_, mtime)) => {
                mtime == s.mtime
                    && s.content
                        .is_none_or(|h| listing_hash(&self.root.join(&s.path)) == Some(h))
            }
            None => false,
        });
        dirs_ok
            && self.files.par_iter().all(|s| match at.stat(&s.path) {
                Some((size, mtime)) => {
                    size == s.size
                        && mtime == s.mtime
                        && s.content
                            .is_none_or(|h| content_hash(&self.root.join(&s.path)) == Some(h))
                }
                None => false,
            })
    }
}

/// Stats paths relative to the catalog root through one open descriptor of
/// it (`fstatat`), so each of the thousands of stats of a fingerprint walks
/// only the catalog-relative part of its path. Follows symlinks, as
/// `std::fs::metadata` does (and, without the descriptor, is that).
struct StatRoot {
    root: PathBuf,
    #[cfg(unix)]
    dir: Option<std::fs::File>,
}

impl StatRoot {
    fn open(root: &Path) -> Self {
        StatRoot {
            root: root.to_path_buf(),
            #[cfg(unix)]
            dir: std::fs::File::open(root).ok(),
        }
    }

    /// Size and mtime (ns since the epoch, 0 before it) of `rel`.
    fn stat(&self, rel: &str) -> Option<(u64, u128)> {
        #[cfg(unix)]
        if let Some(dir) = &self.dir {
            use std::os::unix::io::AsRawFd;
            let name = std::ffi::CString::new(if rel.is_empty() { "." } else { rel }).ok()?;
            let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
            // SAFETY: `name` is a NUL-terminated string and `st` a buffer
            // of the right type, which fstatat fills when it returns 0.
            let st = unsafe {
                if libc::fstatat(dir.as_raw_fd(), name.as_ptr(), st.as_mut_ptr(), 0) != 0 {
                    return None;
                }
                st.assume_init()
            };
            let mtime = match (
                u128::try_from(st.st_mtime),
                u128::try_from(st.st_mtime_nsec),
            ) {
                (Ok(s), Ok(ns)) => s * 1_000_000_000 + ns,
                _ => 0,
            };
            return Some((u64::try_from(st.st_size).unwrap_or(0), mtime));
        }
        let meta = std::fs::metadata(self.root.join(rel)).ok()?;
        Some((meta.len(), mtime_ns(&meta)))
    }
}

fn file_stamp(
    root: &Path,
    rel: &str,
    (size, mtime): (u64, u128),
    racy: &dyn Fn(u128) -> bool,
) -> Stamp {
    Stamp {
        path: rel.to_string(),
        size,
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
