//! The score cache: each (entity, scorecard) result of earlier runs, kept
//! beside the catalog index as `$XDG_CACHE_HOME/idp/score/<catalog>.cache`,
//! so scoring an unchanged catalog re-uses stored rule states instead of
//! running CEL again. Owns the fingerprints, the file format and what may be
//! kept; the evaluator (`evaluate`) decides hits and misses with it.
//!
//! A stored result answers only under the key it was computed for, and the
//! key covers everything the result depends on:
//! - the entity ([`entity_fingerprint`]): its reference, its descriptor as
//!   the index stores it (JSON text), its relations (computed from the rest
//!   of the catalog), its source file, and its live facts with the reasons
//!   for missing ones (so a changed `github.*` or `pagerduty.*` fact, fresh
//!   from the live cache or the published snapshot, is a miss);
//! - the scorecard ([`card_fingerprint`]): its whole document and file, the
//!   idp version and this cache's format;
//! - the time ([`card_key`]): a scorecard whose expressions or messages
//!   mention `now` is keyed on the run's exact `now` (so it is warm only
//!   under a fixed `IDP_NOW`); otherwise on which side of each `enforceFrom`
//!   and exemption `expires` day the run's day falls.
//!
//! Never cached: scorecards that read files (`file_exists`,
//! `file_contains`: the files are not fingerprinted), and results in which a
//! rule ran into the wall-clock deadline (they depend on the machine's load).
//! The unknown policy is not part of the key: levels are summarised from the
//! stored rule states on every run.
//!
//! Layout: `[u32 CRC-32 of the rest][magic][u32 format][u16 + idp version]
//! [u32 count + strings][u32 count + entries]`, little-endian; an entry is
//! its slot (entity × scorecard), its key, the title's string index and,
//! when the entity was scored, each rule's state and message index. A file
//! that is short, fails its checksum, or was written by another format or
//! idp version reads as an empty cache: it is rebuilt, never misread.
//! Writes go to a temp file renamed into place, as the index's do.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::SecondsFormat;
use xxhash_rust::xxh3::{xxh3_128, Xxh3};

use super::compile::Scorecard;
use super::evaluate::{RunOptions, State};
use super::facts::LiveFacts;
use crate::catalog::{Entity, Origin};

/// Bumped whenever the layout or the meaning of a key changes (2: relations
/// fingerprinted as their postcard encoding).
const FORMAT: u32 = 2;
const MAGIC: &[u8; 8] = b"idpscore";
/// More entries than this (results of entities long gone) and a run keeps
/// only the ones it used.
const MAX_ENTRIES: usize = 2_000_000;

/// The key of one stored result: everything it depends on, hashed.
pub type Key = u128;

/// Which (entity, scorecard) pair an entry belongs to: one stored result
/// per pair, replaced when its key changes.
pub type Slot = u64;

/// One stored result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    /// The entity's display name.
    pub title: Arc<str>,
    /// Each rule's state and message, in scorecard order; `None` when the
    /// scorecard's `appliesTo.where` left the entity out. Shared: one
    /// message often stands for thousands of entities.
    pub rules: Option<Vec<(State, Option<Arc<str>>)>>,
}

/// What one run did with one (entity, scorecard) pair.
#[derive(Debug)]
pub enum Seen {
    /// The stored result under this key answered.
    Hit(Slot, Key),
    /// Evaluated now; store it.
    Fresh(Slot, Key, Cached),
}

/// The stored results of one catalog.
#[derive(Debug, Default)]
pub struct ResultCache {
    entries: HashMap<Slot, (Key, Cached)>,
}

/// Why a cache file was not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Miss {
    /// None was written yet.
    #[error("no score cache yet")]
    Absent,
    /// Written by another idp version or cache format.
    #[error("the score cache is out of date")]
    Stale,
    /// Short or failing its checksum.
    #[error("the score cache {path} is damaged ({reason}); rebuilding it")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
}

impl ResultCache {
    /// The stored result of `slot`, if it was computed under `key`.
    pub fn get(&self, slot: Slot, key: Key) -> Option<&Cached> {
        match self.entries.get(&slot) {
            Some((k, cached)) if *k == key => Some(cached),
            _ => None,
        }
    }

    /// Number of stored results.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Folds one run in: fresh results replace their slot's old one. When
    /// the cache has grown past its bound, only what this run used is kept.
    /// Returns whether anything changed (so an all-hit run writes nothing).
    pub fn update(&mut self, seen: Vec<Seen>) -> bool {
        let mut changed = false;
        let mut used = Vec::with_capacity(seen.len());
        for s in seen {
            match s {
                Seen::Hit(slot, _) => used.push(slot),
                Seen::Fresh(slot, key, cached) => {
                    used.push(slot);
                    self.entries.insert(slot, (key, cached));
                    changed = true;
                }
            }
        }
        if self.entries.len() > MAX_ENTRIES {
            let keep: std::collections::HashSet<Slot> = used.into_iter().collect();
            self.entries.retain(|slot, _| keep.contains(slot));
            changed = true;
        }
        changed
    }
}

/// Where the cache of the catalog read from `origin` lives (one file per
/// working tree, one per commit for `--ref` and `--compare` reads).
pub fn path(cache_dir: &Path, origin: &Origin) -> PathBuf {
    let location = std::fs::canonicalize(&origin.location)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| origin.location.clone());
    let identity = format!(
        "{location}\n{}",
        origin.commit.as_deref().unwrap_or("worktree")
    );
    cache_dir
        .join("score")
        .join(format!("{:032x}.cache", xxh3_128(identity.as_bytes())))
}

/// The slot of (entity `key`, scorecard `card`).
pub fn slot(entity_key: &str, card: &str) -> Slot {
    let mut h = Xxh3::new();
    field(&mut h, entity_key.as_bytes());
    field(&mut h, card.as_bytes());
    h.digest()
}

/// The key of one result: the scorecard's run key and the entity's fingerprint.
pub fn key(card_key: Key, entity_fingerprint: u128) -> Key {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(&card_key.to_le_bytes());
    bytes[16..].copy_from_slice(&entity_fingerprint.to_le_bytes());
    xxh3_128(&bytes)
}

/// Everything about one entity a result depends on: reference, descriptor,
/// relations, source file and live facts. The descriptor is hashed as the
/// index stores it (compact JSON), straight from the index bytes when it is
/// still unparsed there, so a warm run does not parse it.
pub fn entity_fingerprint(entity: &Entity, live: &LiveFacts) -> u128 {
    let mut h = Xxh3::new();
    field(&mut h, entity.entity_ref().key().as_bytes());
    match entity.unparsed_json() {
        Some(bytes) => field(&mut h, bytes),
        None => json(&mut h, entity.doc()),
    }
    field(&mut h, &entity.relations.encoded_bytes());
    field(&mut h, entity.source.file.as_bytes());
    json(&mut h, &live.facts);
    json(&mut h, &live.unavailable);
    h.digest128()
}

/// Everything about one scorecard document its results depend on: the
/// document, its file (messages name it), the idp version and this format.
pub fn card_fingerprint(entity: &Entity) -> u128 {
    let mut h = Xxh3::new();
    field(&mut h, env!("CARGO_PKG_VERSION").as_bytes());
    field(&mut h, &FORMAT.to_le_bytes());
    json(&mut h, entity.doc());
    field(&mut h, entity.source.file.as_bytes());
    h.digest128()
}

/// The key of a scorecard for this run (its fingerprint and the time as it
/// can matter), or `None` when its results are not cached.
pub fn card_key(card: &Scorecard, opts: &RunOptions) -> Option<Key> {
    if mentions(card, "file_") {
        return None;
    }
    let mut h = Xxh3::new();
    h.update(&card.fingerprint.to_le_bytes());
    if mentions(card, "now") {
        field(
            &mut h,
            opts.now
                .to_rfc3339_opts(SecondsFormat::Nanos, false)
                .as_bytes(),
        );
    } else {
        let today = opts.today();
        for from in card.rules.iter().filter_map(|r| r.enforce_from) {
            h.update(&[u8::from(today < from)]);
        }
        for expires in card.exemptions.iter().filter_map(|x| x.expires) {
            h.update(&[u8::from(today <= expires)]);
        }
    }
    Some(h.digest128())
}

/// Whether any expression or message template of `card` contains `word`
/// (a textual test: a false positive only costs a cache miss).
fn mentions(card: &Scorecard, word: &str) -> bool {
    let exprs = card.condition.iter().chain(
        card.rules
            .iter()
            .flat_map(|r| std::iter::once(&r.check).chain(r.when.iter())),
    );
    exprs.into_iter().any(|e| e.text.contains(word))
        || card.messages.values().any(|m| m.contains(word))
}

/// A length-delimited field.
fn field(h: &mut Xxh3, bytes: &[u8]) {
    h.update(bytes);
    h.update(&(bytes.len() as u64).to_le_bytes());
}

/// A value's compact JSON, streamed into the hash as a delimited field
/// (the same bytes as [`field`] of `serde_json::to_vec`).
fn json<T: serde::Serialize + ?Sized>(h: &mut Xxh3, value: &T) {
    struct Counting<'a>(&'a mut Xxh3, u64);
    impl Write for Counting<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            self.1 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut w = Counting(h, 0);
    if serde_json::to_writer(&mut w, value).is_err() {
        // Not serializable (never for JSON values): a key no run repeats.
        w.0.update(b"\xff unserializable");
    }
    let n = w.1;
    h.update(&n.to_le_bytes());
}

// ------------------------------------------------------------ the file

fn state_code(s: State) -> u8 {
    match s {
        State::Pass => 0,
        State::Fail => 1,
        State::Warn => 2,
        State::Exempt => 3,
        State::Skipped => 4,
        State::Unknown => 5,
        State::Error => 6,
    }
}

fn state_of(code: u8) -> Option<State> {
    Some(match code {
        0 => State::Pass,
        1 => State::Fail,
        2 => State::Warn,
        3 => State::Exempt,
        4 => State::Skipped,
        5 => State::Unknown,
        6 => State::Error,
        _ => return None,
    })
}

const NO_STRING: u32 = u32::MAX;

/// Reads the cache at `path`.
pub fn read(path: &Path) -> Result<ResultCache, Miss> {
    let bytes = std::fs::read(path).map_err(|_| Miss::Absent)?;
    let corrupt = |reason| Miss::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let (sum, rest) = bytes
        .split_first_chunk::<4>()
        .ok_or_else(|| corrupt("too short"))?;
    if u32::from_le_bytes(*sum) != crc32fast::hash(rest) {
        return Err(corrupt("checksum mismatch"));
    }
    decode(rest).ok_or_else(|| corrupt("unreadable layout"))?
}

fn decode(bytes: &[u8]) -> Option<Result<ResultCache, Miss>> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(MAGIC.len())? != MAGIC || r.u32()? != FORMAT {
        return Some(Err(Miss::Stale));
    }
    let version_len = usize::from(r.u16()?);
    if r.take(version_len)? != env!("CARGO_PKG_VERSION").as_bytes() {
        return Some(Err(Miss::Stale));
    }
    let n_strings = r.u32()? as usize;
    // Each string takes at least its 4-byte length: a count the bytes
    // cannot hold is damage, not a reason to allocate.
    if n_strings > r.left() / 4 {
        return None;
    }
    let mut strings = Vec::with_capacity(n_strings);
    for _ in 0..n_strings {
        let len = r.u32()? as usize;
        strings.push(std::str::from_utf8(r.take(len)?).ok()?);
    }
    let strings: Vec<Arc<str>> = strings.into_iter().map(Arc::from).collect();
    let string = |i: u32| strings.get(i as usize).cloned();
    let n_entries = r.u32()? as usize;
    if n_entries > r.left() / 29 {
        return None;
    }
    let mut entries = HashMap::with_capacity(n_entries);
    for _ in 0..n_entries {
        let slot = r.u64()?;
        let key = r.u128()?;
        let title = string(r.u32()?)?;
        let rules = match r.u8()? {
            0 => None,
            1 => {
                let n = usize::from(r.u16()?);
                let mut rules = Vec::with_capacity(n.min(r.left() / 5));
                for _ in 0..n {
                    let state = state_of(r.u8()?)?;
                    let message = match r.u32()? {
                        NO_STRING => None,
                        i => Some(string(i)?),
                    };
                    rules.push((state, message));
                }
                Some(rules)
            }
            _ => return None,
        };
        entries.insert(slot, (key, Cached { title, rules }));
    }
    (r.left() == 0).then_some(Ok(ResultCache { entries }))
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let out = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(out)
    }
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn u128(&mut self) -> Option<u128> {
        Some(u128::from_le_bytes(self.take(16)?.try_into().ok()?))
    }
}

/// Strings stored once, referred to by index.
#[derive(Default)]
struct Interner<'c> {
    index: HashMap<&'c str, u32>,
    strings: Vec<&'c str>,
}

impl<'c> Interner<'c> {
    fn id(&mut self, s: &'c str) -> Option<u32> {
        if let Some(i) = self.index.get(s) {
            return Some(*i);
        }
        let i = u32::try_from(self.strings.len())
            .ok()
            .filter(|i| *i != NO_STRING)?;
        self.index.insert(s, i);
        self.strings.push(s);
        Some(i)
    }
}

fn encode(cache: &ResultCache) -> Option<Vec<u8>> {
    let mut interner = Interner::default();
    // Slots in a fixed order, so equal caches are equal files.
    let mut slots: Vec<(&Slot, &(Key, Cached))> = cache.entries.iter().collect();
    slots.sort_unstable_by_key(|(slot, _)| **slot);
    let mut body = Vec::with_capacity(slots.len() * 80);
    body.extend_from_slice(&u32::try_from(slots.len()).ok()?.to_le_bytes());
    for (slot, (key, cached)) in slots {
        body.extend_from_slice(&slot.to_le_bytes());
        body.extend_from_slice(&key.to_le_bytes());
        body.extend_from_slice(&interner.id(cached.title.as_ref())?.to_le_bytes());
        match &cached.rules {
            None => body.push(0),
            Some(rules) => {
                body.push(1);
                body.extend_from_slice(&u16::try_from(rules.len()).ok()?.to_le_bytes());
                for (state, message) in rules {
                    body.push(state_code(*state));
                    let id = match message {
                        Some(m) => interner.id(m.as_ref())?,
                        None => NO_STRING,
                    };
                    body.extend_from_slice(&id.to_le_bytes());
                }
            }
        }
    }
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    let strings_len: usize = interner.strings.iter().map(|s| s.len() + 4).sum();
    let mut out = Vec::with_capacity(body.len() + strings_len + 64);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&u16::try_from(version.len()).ok()?.to_le_bytes());
    out.extend_from_slice(version);
    out.extend_from_slice(&u32::try_from(interner.strings.len()).ok()?.to_le_bytes());
    for s in &interner.strings {
        out.extend_from_slice(&u32::try_from(s.len()).ok()?.to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    out.extend_from_slice(&body);
    let sum = crc32fast::hash(&out[4..]);
    out[..4].copy_from_slice(&sum.to_le_bytes());
    Some(out)
}

/// Stores `cache` at `path`. Failures are ignored: it is a cache.
pub fn write(path: &Path, cache: &ResultCache) {
    let _ = try_write(path, cache);
}

fn try_write(path: &Path, cache: &ResultCache) -> Option<()> {
    let bytes = encode(cache)?;
    let dir = path.parent()?;
    std::fs::create_dir_all(dir).ok()?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).ok()?;
    tmp.write_all(&bytes).ok()?;
    tmp.flush().ok()?;
    tmp.persist(path).ok()?;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ResultCache {
        let msg: Arc<str> = Arc::from("fix it");
        let mut c = ResultCache::default();
        c.update(vec![
            Seen::Fresh(
                1,
                11,
                Cached {
                    title: "A".into(),
                    rules: Some(vec![
                        (State::Pass, None),
                        (State::Fail, Some(msg.clone())),
                        (State::Unknown, Some(msg)),
                    ]),
                },
            ),
            Seen::Fresh(
                2,
                22,
                Cached {
                    title: "B".into(),
                    rules: None,
                },
            ),
        ]);
        c
    }

    #[test]
    fn round_trips() {
        let c = sample();
        let bytes = encode(&c).expect("encodes");
        let back = decode(&bytes[4..]).expect("decodes").expect("same version");
        assert_eq!(back.entries, c.entries);
        assert_eq!(back.get(1, 11), c.get(1, 11));
        assert!(back.get(1, 12).is_none());
    }

    #[test]
    fn every_truncation_or_flipped_byte_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("x.cache");
        let bytes = encode(&sample()).expect("encodes");
        for cut in 0..bytes.len() {
            std::fs::write(&path, &bytes[..cut]).expect("write");
            assert!(read(&path).is_err(), "cut at {cut}");
        }
        for at in 0..bytes.len() {
            let mut b = bytes.clone();
            b[at] ^= 0x40;
            std::fs::write(&path, &b).expect("write");
            assert!(read(&path).is_err(), "flipped byte {at}");
        }
        std::fs::write(&path, &bytes).expect("write");
        assert_eq!(read(&path).expect("reads").len(), 2);
    }

    #[test]
    fn decoding_garbage_with_a_valid_layout_prefix_is_refused_not_trusted() {
        // A count larger than the bytes can hold is damage.
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&FORMAT.to_le_bytes());
        let v = env!("CARGO_PKG_VERSION").as_bytes();
        b.extend_from_slice(&(v.len() as u16).to_le_bytes());
        b.extend_from_slice(v);
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&b).is_none());
        // Another format is stale.
        let mut other = b.clone();
        other[8] = 99;
        assert!(matches!(decode(&other), Some(Err(Miss::Stale))));
    }

    #[test]
    fn a_fresh_result_replaces_its_slot() {
        let mut c = sample();
        let changed = c.update(vec![Seen::Hit(2, 22)]);
        assert!(!changed);
        c.update(vec![Seen::Fresh(
            1,
            12,
            Cached {
                title: "A".into(),
                rules: None,
            },
        )]);
        assert!(c.get(1, 11).is_none());
        assert!(c.get(1, 12).is_some());
        assert_eq!(c.len(), 2);
    }
}
