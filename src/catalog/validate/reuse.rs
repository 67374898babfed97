//! Findings kept in the index between `validate` runs: per descriptor file,
//! the findings of each document's own checks, the references each entity
//! writes, and where each located problem was found in the file (line,
//! column, source line). A file whose stamp (size, mtime, racy content hash)
//! and documents (after substitutions) are unchanged gets them back without
//! a check or a YAML parse; the catalog-wide checks (duplicates, dangling
//! references, scorecards, custom kinds' schemas, Location targets and
//! everything the load reports) run again on every run, and only their
//! positions come from here.
//!
//! The records live in the index section [`SECTION`], keyed by file. The
//! section is tied to the catalog it was written with; carried over into a
//! newer index (by a command that does not validate), each record is
//! checked against the file's stamp and documents before it is trusted.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::Finding;
use crate::catalog::fields::written_refs;
use crate::catalog::index::{self, intern, FileStamp};
use crate::catalog::open::IndexHandle;
use crate::catalog::problem::{Problem, Severity};
use crate::catalog::refs::EntityRef;
use crate::catalog::{Catalog, Entity, Source};

/// The index section's name.
pub const SECTION: &str = "validate";

/// The section: a record per descriptor file.
#[derive(Serialize, Deserialize, Default, PartialEq)]
struct Stored {
    /// Hash of what a document's own checks depend on besides the
    /// document (the custom kinds of `idp.yaml`).
    config: u64,
    files: HashMap<String, FileRecord>,
}

#[derive(Serialize, Deserialize, Default, Clone, PartialEq)]
struct FileRecord {
    stamp: Option<FileStamp>,
    /// Hash of the file's documents as loaded (substitutions resolved).
    docs: u64,
    /// The document checks' findings, by document index.
    findings: Vec<(usize, Vec<StoredFinding>)>,
    /// Each entity's well-formed references, by document index.
    refs: Vec<(usize, Vec<StoredRef>)>,
    anchors: Vec<Anchor>,
}

#[derive(Serialize, Deserialize, Clone, PartialEq)]
struct StoredFinding {
    error: bool,
    code: String,
    message: String,
    field: String,
}

/// A reference an entity writes: field path, target as shown, target key.
#[derive(Serialize, Deserialize, Clone, PartialEq)]
pub struct StoredRef {
    /// Dotted path of the field (`spec.dependsOn.0`).
    pub path: String,
    /// The target as messages show it.
    pub target: String,
    /// The target's lowercase key.
    pub key: String,
}

/// Where a problem anchored at (document, field, line, column) was located.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Hash)]
struct Anchor {
    document: usize,
    field: Option<String>,
    at_key: bool,
    line: usize,
    column: usize,
    to: (usize, usize),
    snippet: Option<String>,
}

impl Anchor {
    fn is_for(&self, p: &Problem, at_key: bool) -> bool {
        self.document == p.document
            && self.at_key == at_key
            && self.line == p.line
            && self.column == p.column
            && self.field == p.field
    }
}

/// What one validation reuses and what it records for the next.
pub struct Reuse {
    old: Stored,
    /// Files whose old record holds.
    valid: HashSet<String>,
    /// The old section was written with this very catalog, so every old
    /// record holds: `new` then holds only the records that changed (a
    /// problem placed anew), the others are `old`'s.
    fresh: bool,
    new: Stored,
    /// Descriptor files whose findings came from the index.
    pub reused: usize,
    /// Descriptor files.
    pub total: usize,
}

impl Reuse {
    /// The records of `handle`'s index that still hold for `catalog`.
    pub fn new(catalog: &Catalog, handle: &IndexHandle) -> Reuse {
        let config = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            serde_json::to_string(&catalog.config.custom_kinds)
                .unwrap_or_default()
                .hash(&mut h);
            h.finish()
        };
        let previous = handle.previous.as_ref();
        let old: Stored = previous
            .and_then(|p| p.section(SECTION))
            .and_then(index::decode)
            .filter(|s: &Stored| s.config == config)
            .unwrap_or_default();
        let mut files: Vec<&str> = catalog.descriptor_files().collect();
        files.sort_unstable();
        files.dedup();
        let fresh = handle.current && previous.is_some_and(|p| p.section_is_fresh(SECTION));
        let mut new = Stored {
            config,
            files: HashMap::with_capacity(files.len()),
        };
        let mut valid = HashSet::new();
        let fresh = fresh && files.iter().all(|f| old.files.contains_key(*f));
        if fresh {
            // Written with this very catalog: every record holds as it is
            // (and is copied into `new` only if it changes).
            valid.extend(files.iter().map(|f| f.to_string()));
        } else {
            let stamps = match (&handle.fingerprint, previous) {
                (Some(fp), _) => fp.file_stamps(),
                (None, Some(p)) => p.file_stamps(),
                (None, None) => HashMap::new(),
            };
            let docs = docs_hashes(catalog);
            for f in &files {
                let record = FileRecord {
                    stamp: stamps.get(*f).cloned(),
                    docs: docs.get(*f).copied().unwrap_or(0),
                    ..FileRecord::default()
                };
                let holds = old.files.get(*f).is_some_and(|o| {
                    o.docs == record.docs
                        && matches!((&o.stamp, &record.stamp), (Some(a), Some(b)) if a.still(b))
                });
                if holds {
                    valid.insert(f.to_string());
                    new.files.insert(f.to_string(), old.files[*f].clone());
                } else if record.stamp.is_some() {
                    new.files.insert(f.to_string(), record);
                }
            }
        }
        Reuse {
            reused: valid.len(),
            total: files.len(),
            old,
            valid,
            fresh,
            new,
        }
    }

    /// The record of `file` to add to, when it is recorded at all.
    fn record_mut(&mut self, file: &str) -> Option<&mut FileRecord> {
        if self.fresh && !self.new.files.contains_key(file) {
            let old = self.old.files.get(file)?.clone();
            self.new.files.insert(file.to_string(), old);
        }
        self.new.files.get_mut(file)
    }

    /// The document checks' findings for the document at `source`, when
    /// its file's record holds.
    pub(super) fn findings(&self, source: &Source) -> Option<Vec<Finding>> {
        let (_, list) = self
            .kept(source)?
            .findings
            .iter()
            .find(|(d, _)| *d == source.document)?;
        Some(
            list.iter()
                .map(|f| Finding {
                    severity: if f.error {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    code: intern(&f.code),
                    message: f.message.clone(),
                    field: f.field.clone(),
                })
                .collect(),
        )
    }

    /// Whether [`Reuse::refs`] has the references of the document at `source`.
    pub(super) fn has_refs(&self, source: &Source) -> bool {
        self.kept(source)
            .is_some_and(|r| r.refs.iter().any(|(d, _)| *d == source.document))
    }

    /// The record of `source`'s file, when it holds.
    fn kept(&self, source: &Source) -> Option<&FileRecord> {
        if !self.valid.contains(&source.file) {
            return None;
        }
        self.old.files.get(&source.file)
    }

    /// Records the document checks' findings of a document checked now.
    pub(super) fn record_findings(&mut self, source: &Source, findings: &[Finding]) {
        if self.valid.contains(&source.file) {
            return;
        }
        if let Some(record) = self.record_mut(&source.file) {
            record.findings.push((
                source.document,
                findings
                    .iter()
                    .map(|f| StoredFinding {
                        error: f.severity == Severity::Error,
                        code: f.code.to_string(),
                        message: f.message.clone(),
                        field: f.field.clone(),
                    })
                    .collect(),
            ));
        }
    }

    /// Calls `each` with the references `entity` writes: kept ones when
    /// its file's record holds (borrowed, not copied), else `computed`
    /// ([`entity_refs`] worked out beforehand) or read from its document
    /// now (and recorded).
    pub(super) fn refs(
        &mut self,
        entity: &Entity,
        computed: Option<Vec<StoredRef>>,
        each: &mut dyn FnMut(&StoredRef),
    ) {
        let source = &entity.source;
        if let Some((_, refs)) = self
            .kept(source)
            .and_then(|r| r.refs.iter().find(|(d, _)| *d == source.document))
        {
            refs.iter().for_each(each);
            return;
        }
        let refs = computed.unwrap_or_else(|| entity_refs(entity));
        refs.iter().for_each(&mut *each);
        if !self.valid.contains(&source.file) {
            if let Some(record) = self.record_mut(&source.file) {
                record.refs.push((source.document, refs));
            }
        }
    }

    /// Places `p` where an earlier run located the same anchor in the same
    /// file text; `false` when there is no such record.
    pub(super) fn place(&self, p: &mut Problem, at_key: bool) -> bool {
        if !self.valid.contains(&p.file) {
            return false;
        }
        let Some(record) = self.old.files.get(&p.file) else {
            return false;
        };
        // A file has a handful of anchors: a scan beats building maps.
        match record.anchors.iter().find(|a| a.is_for(p, at_key)) {
            Some(a) => {
                p.line = a.to.0;
                p.column = a.to.1;
                p.snippet = a.snippet.clone();
                true
            }
            None => false,
        }
    }

    /// Records where a problem anchored as `before` was located now.
    pub(super) fn record_place(&mut self, before: &Problem, after: &Problem, at_key: bool) {
        let Some(record) = self.record_mut(&before.file) else {
            return;
        };
        let anchor = Anchor {
            document: before.document,
            field: before.field.clone(),
            at_key,
            line: before.line,
            column: before.column,
            to: (after.line, after.column),
            snippet: after.snippet.clone(),
        };
        if !record.anchors.contains(&anchor) {
            record.anchors.push(anchor);
        }
    }

    /// The section to store, when it differs from the one read.
    pub fn section(&self) -> Option<(String, Vec<u8>)> {
        if self.fresh {
            let changed = self
                .new
                .files
                .iter()
                .any(|(f, r)| self.old.files.get(f) != Some(r));
            if !changed {
                return None;
            }
            let mut all = Stored {
                config: self.new.config,
                files: self
                    .old
                    .files
                    .iter()
                    .filter(|(f, _)| self.valid.contains(*f))
                    .map(|(f, r)| (f.clone(), r.clone()))
                    .collect(),
            };
            all.files
                .extend(self.new.files.iter().map(|(f, r)| (f.clone(), r.clone())));
            return Some((SECTION.to_string(), index::encode(&all)?));
        }
        if self.new == self.old && self.valid.len() == self.total {
            return None;
        }
        Some((SECTION.to_string(), index::encode(&self.new)?))
    }
}

/// The well-formed references an entity writes, with their targets.
pub(super) fn entity_refs(e: &Entity) -> Vec<StoredRef> {
    written_refs(&e.kind_key(), e.doc().get("spec"))
        .into_iter()
        .filter(|w| w.well_formed)
        .filter_map(|w| {
            // A malformed one is reported by the spec check.
            let target = EntityRef::parse(w.text, w.field.default_kind, &e.namespace).ok()?;
            Some(StoredRef {
                path: w.path,
                key: target.key(),
                target: target.to_string(),
            })
        })
        .collect()
}

/// A hash of each descriptor file's documents as loaded.
fn docs_hashes(catalog: &Catalog) -> HashMap<String, u64> {
    let hash = |document: usize, bytes: &[u8]| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (document, bytes).hash(&mut h);
        h.finish()
    };
    let mut per_doc: Vec<(&str, u64)> = catalog
        .entities
        .par_iter()
        .map(|e| {
            (
                e.source.file.as_str(),
                hash(e.source.document, e.json_text()),
            )
        })
        .collect();
    per_doc.extend(catalog.rejected.iter().map(|r| {
        (
            r.source.file.as_str(),
            hash(
                r.source.document,
                &serde_json::to_vec(&r.value).unwrap_or_default(),
            ),
        )
    }));
    let mut out: HashMap<String, u64> = HashMap::new();
    for (file, h) in per_doc {
        let entry = out.entry(file.to_string()).or_insert(0);
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (*entry, h).hash(&mut hasher);
        *entry = hasher.finish();
    }
    out
}
