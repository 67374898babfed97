//! The on-disk cache of API responses, under `$XDG_CACHE_HOME/idp/live/`:
//! one JSON file per request, written to a temp file and renamed into
//! place, so concurrent `idp` processes never see half a file. A file that
//! does not parse is ignored (and rewritten by the next fetch).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One cached response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The URL it answers (checked on read: a hash collision is a miss).
    pub url: String,
    /// When it was fetched or last revalidated.
    pub fetched_at: DateTime<Utc>,
    /// HTTP status.
    pub status: u16,
    /// Response headers, lowercase names.
    pub headers: BTreeMap<String, String>,
    /// The JSON body.
    pub body: Value,
}

impl Entry {
    /// The `ETag` to revalidate with.
    pub fn etag(&self) -> Option<&str> {
        self.headers.get("etag").map(String::as_str)
    }
}

/// The cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// A cache rooted at `dir` (`…/idp/live`); created on first write.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Cache { dir: dir.into() }
    }

    /// Where it lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, integration: &str, key: &str) -> PathBuf {
        self.dir
            .join(sanitize(integration))
            .join(format!("{}.json", stable_hash(key)))
    }

    /// The cached answer for `key` (URL plus what varies the answer), if a
    /// readable one exists.
    pub fn load(&self, integration: &str, key: &str) -> Option<Entry> {
        let bytes = std::fs::read(self.path(integration, key)).ok()?;
        let entry: Entry = serde_json::from_slice(&bytes).ok()?;
        (entry.url == key).then_some(entry)
    }

    /// Stores an answer atomically.
    pub fn store(&self, integration: &str, key: &str, entry: &Entry) -> std::io::Result<()> {
        let path = self.path(integration, key);
        let dir = path.parent().expect("cache paths have a parent");
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        // One write: serde_json writes token by token, and a file is not
        // buffered (hundreds of syscalls per answer otherwise).
        std::io::Write::write_all(&mut tmp, &serde_json::to_vec(entry)?)?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// A hash that stays the same across builds and platforms (std's hasher
/// does not promise that): two 64-bit FNV-1a passes with different offsets.
/// Collisions are harmless, since [`Cache::load`] checks the key. (Not git's
/// object hash: starting libgit2 loads the system's TLS certificates,
/// ~25 ms, on every command.)
fn stable_hash(key: &str) -> String {
    let fnv = |offset: u64| {
        key.bytes().fold(offset, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    format!(
        "{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x6c62_272e_07bb_0142)
    )
}

/// A file-name-safe integration name.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let entry = Entry {
            url: "https://x/a".into(),
            fetched_at: Utc::now(),
            status: 200,
            headers: BTreeMap::from([("etag".into(), "\"abc\"".into())]),
            body: serde_json::json!({"a": 1}),
        };
        cache.store("github", "https://x/a", &entry).unwrap();
        let back = cache.load("github", "https://x/a").unwrap();
        assert_eq!(back.body, entry.body);
        assert_eq!(back.etag(), Some("\"abc\""));
        assert!(cache.load("github", "https://x/b").is_none());
        // corrupt: ignored, then rewritten
        let path = cache.path("github", "https://x/a");
        std::fs::write(&path, b"{not json").unwrap();
        assert!(cache.load("github", "https://x/a").is_none());
        cache.store("github", "https://x/a", &entry).unwrap();
        assert!(cache.load("github", "https://x/a").is_some());
    }
}
