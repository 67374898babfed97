//! The aggregate cache: `$XDG_CACHE_HOME/idp/cost/<key>.bin`, so a second
//! `idp cost` over unchanged billing files answers without reading them.
//!
//! The file is `[u32 CRC-32 of the rest][postcard body]`; the body names the
//! format version, the idp version, a hash of everything allocation depends
//! on (metric, rules, selectors, the entities they can name), and each
//! source's fingerprint: path, size, mtime (ns) and inode. A source
//! modified within two seconds of the build is never trusted (a second
//! write in the same mtime tick would go unnoticed: git's racy-clean
//! problem), so that cache is rebuilt next time. Any mismatch, a bad
//! checksum or an unreadable file means a rebuild, never a wrong answer.
//! Written to a temp file and renamed, so readers never see half a file.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::aggregate::{Aggregate, Allocator, Builder};
use super::read::{plan, read_unit, Budget};
use super::CostError;

const FORMAT: u32 = 2;
const RACY_NS: i128 = 2_000_000_000;

/// A source file as the cache saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The path.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i128,
    /// Inode (a replaced file is a new one).
    pub inode: u64,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    format: u32,
    version: String,
    key: u64,
    sources: Vec<Fingerprint>,
    aggregate: Aggregate,
}

fn fingerprint(path: &Path) -> Result<Fingerprint, CostError> {
    let m = std::fs::metadata(path).map_err(|source| CostError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(Fingerprint {
        path: path.to_path_buf(),
        size: m.len(),
        mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
        inode: m.ino(),
    })
}

/// How the aggregate was had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// From the cache.
    Cached,
    /// Read from the sources now.
    Read,
}

/// The cache key, the cache file and the sources' fingerprints.
fn keyed(
    files: &[PathBuf],
    metric: &str,
    alloc_key: &str,
    dir: Option<&Path>,
) -> Result<(u64, Option<PathBuf>, Vec<Fingerprint>), CostError> {
    let sources: Vec<Fingerprint> = files
        .iter()
        .map(|f| fingerprint(f))
        .collect::<Result<_, _>>()?;
    let mut h = DefaultHasher::new();
    (metric, alloc_key).hash(&mut h);
    let key = h.finish();
    let mut name_hash = DefaultHasher::new();
    files.hash(&mut name_hash);
    let file = dir.map(|d| {
        d.join("cost")
            .join(format!("{:016x}.bin", name_hash.finish()))
    });
    Ok((key, file, sources))
}

/// The cached aggregate of `files` when the cache matches them; never
/// reads a billing file (for commands that show cost only in passing).
pub fn lookup(
    files: &[PathBuf],
    metric: &str,
    alloc_key: &str,
    dir: Option<&Path>,
) -> Option<Aggregate> {
    let (key, file, sources) = keyed(files, metric, alloc_key, dir).ok()?;
    let stored = read_cache(file.as_deref()?)?;
    (stored.format == FORMAT
        && stored.version == env!("CARGO_PKG_VERSION")
        && stored.key == key
        && stored.sources == sources)
        .then_some(stored.aggregate)
}

/// The aggregate of `files`, from the cache in `dir` when it matches.
pub fn load(
    files: &[PathBuf],
    metric: &str,
    alloc: &Allocator,
    alloc_key: &str,
    dir: Option<&Path>,
    budget: Option<u64>,
) -> Result<(Aggregate, Origin), CostError> {
    if let Some(aggregate) = lookup(files, metric, alloc_key, dir) {
        return Ok((aggregate, Origin::Cached));
    }
    let (key, file, sources) = keyed(files, metric, alloc_key, dir)?;
    let aggregate = read_all(files, metric, alloc, budget)?;
    if let Some(file) = &file {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i128)
            .unwrap_or(0);
        let racy = sources.iter().any(|s| now - s.mtime_ns < RACY_NS);
        // A cache that cannot be written only costs the next run time.
        let _ = write_cache(
            file,
            &Stored {
                format: FORMAT,
                version: env!("CARGO_PKG_VERSION").to_string(),
                key: if racy { !key } else { key },
                sources,
                aggregate: aggregate.clone(),
            },
        );
    }
    Ok((aggregate, Origin::Read))
}

/// Reads every source on all threads: the files are cut into units
/// ([`plan`]: byte ranges of a plain CSV, row groups of a Parquet file, a
/// whole gzipped CSV), each thread sums its units into its own builder,
/// and the builders are merged. The answer does not depend on the cut.
/// With a `budget` (bytes), reading stops with [`CostError::TooBig`] once
/// the files hold more data than that.
pub fn read_all(
    files: &[PathBuf],
    metric: &str,
    alloc: &Allocator,
    budget: Option<u64>,
) -> Result<Aggregate, CostError> {
    use rayon::prelude::*;
    let threads = rayon::current_num_threads();
    let budget = budget.map(Budget::new);
    let mut units = Vec::new();
    for f in files {
        units.extend(plan(f, threads, budget.as_ref())?);
    }
    let builder = units
        .par_iter()
        .try_fold(
            || Builder::new(alloc),
            |mut b, unit| read_unit(unit, metric, budget.as_ref(), &mut b).map(|_| b),
        )
        .try_reduce(
            || Builder::new(alloc),
            |mut a, b| {
                a.merge(b);
                Ok(a)
            },
        )?;
    Ok(builder.finish())
}

fn read_cache(file: &Path) -> Option<Stored> {
    let bytes = std::fs::read(file).ok()?;
    let (sum, rest) = bytes.split_first_chunk::<4>()?;
    if u32::from_le_bytes(*sum) != crc32fast::hash(rest) {
        return None;
    }
    crate::catalog::index::decode(rest)
}

fn write_cache(file: &Path, stored: &Stored) -> std::io::Result<()> {
    let dir = file.parent().expect("cache file has a directory");
    std::fs::create_dir_all(dir)?;
    let body = crate::catalog::index::encode(stored)
        .ok_or_else(|| std::io::Error::other("cost cache: cannot encode"))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(&crc32fast::hash(&body).to_le_bytes())?;
    tmp.write_all(&body)?;
    tmp.persist(file).map_err(|e| e.error)?;
    Ok(())
}
