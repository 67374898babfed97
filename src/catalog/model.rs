//! The entity as idp holds it: identity, where it came from, its relations,
//! and the descriptor itself as JSON with every field kept (unknown kinds and
//! fields included). Typed views of each kind's spec live in `kinds`.
//!
//! The descriptor body is parsed lazily from JSON text when an entity comes
//! from the on-disk index, so answering `who-owns` touches only the handful of
//! entities it needs.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::refs::{EntityRef, DEFAULT_NAMESPACE};
use super::relations::{Relation, RelationType};

/// Where an entity was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Source {
    /// Path relative to the catalog root, `/`-separated.
    pub file: String,
    /// Index of the YAML document within the file (0-based).
    pub document: usize,
    /// Line where the document's content starts (1-based).
    pub line: usize,
}

/// One catalog entity.
#[derive(Debug, Clone)]
pub struct Entity {
    /// `apiVersion` as written.
    pub api_version: String,
    /// `kind` as written (`Component`).
    pub kind: String,
    /// `metadata.namespace`, `default` when absent.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.title`, if any.
    pub title: Option<String>,
    /// Where the descriptor is.
    pub source: Source,
    /// Relations in both directions, computed over the whole catalog
    /// (from the index: decoded on first use).
    pub relations: Relations,
    doc: LazyDoc,
}

impl Entity {
    /// Builds an entity from a parsed descriptor document. Gives the document
    /// back when it lacks a string `kind` or `metadata.name` (validation
    /// reports why).
    pub fn from_document(doc: Value, source: Source) -> Result<Entity, (Value, Source)> {
        let identity = || -> Option<(String, String, String, String, Option<String>)> {
            let kind = doc.get("kind")?.as_str()?.to_string();
            let api_version = doc
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let metadata = doc.get("metadata")?;
            let name = metadata.get("name")?.as_str()?.to_string();
            let namespace = metadata
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or(DEFAULT_NAMESPACE)
                .to_string();
            let title = metadata
                .get("title")
                .and_then(Value::as_str)
                .map(str::to_string);
            Some((kind, api_version, name, namespace, title))
        };
        match identity() {
            Some((kind, api_version, name, namespace, title)) => Ok(Entity {
                api_version,
                kind,
                namespace,
                name,
                title,
                source,
                relations: Relations::default(),
                doc: LazyDoc::from_value(doc),
            }),
            None => Err((doc, source)),
        }
    }

    /// The full reference `kind:namespace/name`.
    pub fn entity_ref(&self) -> EntityRef {
        EntityRef::new(&self.kind, &self.namespace, &self.name)
    }

    /// The lowercase `kind:namespace/name` key, as `entity_ref().key()`
    /// gives it, in one allocation.
    pub fn key(&self) -> String {
        let mut key =
            String::with_capacity(self.kind.len() + self.namespace.len() + self.name.len() + 2);
        key.push_str(&self.kind);
        key.push(':');
        key.push_str(&self.namespace);
        key.push('/');
        key.push_str(&self.name);
        key.make_ascii_lowercase();
        key
    }

    /// Lowercase kind, the form used in references and comparisons.
    pub fn kind_key(&self) -> String {
        self.kind.to_ascii_lowercase()
    }

    /// The whole descriptor as written (after substitutions).
    pub fn doc(&self) -> &Value {
        self.doc.value()
    }

    /// A value by dotted path (`metadata.annotations.tier`, `spec.owner`).
    /// Keys may contain dots (annotation keys do), so the longest matching key
    /// wins at each level.
    pub fn lookup(&self, path: &str) -> Option<&Value> {
        lookup_path(self.doc(), path)
    }

    /// `spec.<field>` as a string.
    pub fn spec_str(&self, field: &str) -> Option<&str> {
        self.doc().get("spec")?.get(field)?.as_str()
    }

    /// `metadata.<field>` as a string.
    pub fn metadata_str(&self, field: &str) -> Option<&str> {
        self.doc().get("metadata")?.get(field)?.as_str()
    }

    /// An annotation value.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        if !self.may_contain_key(key) {
            return None;
        }
        self.doc()
            .get("metadata")?
            .get("annotations")?
            .get(key)?
            .as_str()
    }

    /// The descriptor's JSON text while it is still unparsed in the index
    /// (`None` once parsed, or for an entity loaded from files). Lets a
    /// caller that needs one field of every entity (shell completion) read
    /// just that field instead of building the whole value.
    pub fn unparsed_json(&self) -> Option<&[u8]> {
        if self.doc.value.get().is_some() {
            return None;
        }
        self.doc.mapped.as_ref()?.get()
    }

    /// This entity for a one-off use of its descriptor: while the
    /// descriptor is still unparsed in the index, a copy that parses it for
    /// itself and frees it when dropped; else the entity itself. A command
    /// that reads every descriptor once (`report` renders and scores each)
    /// then does not keep all of them parsed: about 100 MB at 10k entities.
    pub fn transient(&self) -> std::borrow::Cow<'_, Entity> {
        if self.doc.mapped.is_some() && self.doc.value.get().is_none() {
            std::borrow::Cow::Owned(self.clone())
        } else {
            std::borrow::Cow::Borrowed(self)
        }
    }

    /// A copy that keeps the descriptor as the index's text when there is
    /// one, without the parsed value: copies of many entities stay small.
    pub fn clone_unparsed(&self) -> Entity {
        let mut copy = self.clone();
        if copy.doc.mapped.is_some() {
            copy.doc.value = OnceLock::new();
        }
        copy
    }

    /// The descriptor's JSON text in the index it was read from, parsed or
    /// not (`None` for an entity loaded from files). Two entities from
    /// indexes have equal descriptors exactly when these texts are equal:
    /// the index writes one canonical serialization.
    pub fn index_json(&self) -> Option<&[u8]> {
        self.doc.mapped.as_ref()?.get()
    }

    /// The descriptor as compact JSON text (what the index stores): the
    /// index's own text, or the value serialized once and kept, so the
    /// index writer and `validate`'s document hashes share one
    /// serialization.
    pub fn json_text(&self) -> &[u8] {
        if let Some(bytes) = self.doc.mapped.as_ref().and_then(MappedDoc::get) {
            return bytes;
        }
        self.doc.text.get_or_init(|| {
            serde_json::to_vec(self.doc())
                .unwrap_or_else(|_| b"{}".to_vec())
                .into_boxed_slice()
        })
    }

    /// Frees the parsed descriptor and keeps its compact JSON text (what
    /// [`Self::json_text`] gives), parsed again on first use.
    pub fn release_parsed(&mut self) {
        if self.doc.value.get().is_none() {
            return;
        }
        if self.doc.mapped.is_none() {
            let text = match self.doc.text.take() {
                Some(text) => text.into_vec(),
                None => serde_json::to_vec(self.doc()).unwrap_or_else(|_| b"{}".to_vec()),
            };
            let range = 0..text.len();
            self.doc.mapped = Some(MappedDoc {
                bytes: Arc::new(text),
                range,
            });
        }
        self.doc.value.take();
    }

    /// Appends the descriptor as compact JSON text (what [`Self::json_text`]
    /// gives) to `out`, without keeping a copy when none was made yet: the
    /// index writer's way, so a cold load does not hold every text twice.
    pub fn append_json(&self, out: &mut Vec<u8>) {
        let kept = self
            .doc
            .mapped
            .as_ref()
            .and_then(MappedDoc::get)
            .or_else(|| self.doc.text.get().map(|t| &t[..]));
        match kept {
            Some(bytes) => out.extend_from_slice(bytes),
            None => {
                let start = out.len();
                if serde_json::to_writer(&mut *out, self.doc()).is_err() {
                    out.truncate(start);
                    out.extend_from_slice(b"{}");
                }
            }
        }
    }

    /// `false` when the document is still unparsed JSON text in the index
    /// and `key` appears nowhere in it as a plain JSON string, so no field
    /// of that name can exist: the index writes keys with serde_json, which
    /// escapes only quotes, backslashes and control characters. A question
    /// about an absent annotation then costs a byte search, not a parse.
    pub fn may_contain_key(&self, key: &str) -> bool {
        let Some(text) = self.unparsed_json() else {
            return true;
        };
        if key.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            return true;
        }
        let mut quoted = Vec::with_capacity(key.len() + 2);
        quoted.push(b'"');
        quoted.extend_from_slice(key.as_bytes());
        quoted.push(b'"');
        memchr::memmem::find(text, &quoted).is_some()
    }

    /// `metadata.tags` (strings only).
    pub fn tags(&self) -> Vec<&str> {
        self.doc()
            .get("metadata")
            .and_then(|m| m.get("tags"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// `metadata.links` as typed links (malformed entries skipped).
    pub fn links(&self) -> Vec<Link> {
        self.doc()
            .get("metadata")
            .and_then(|m| m.get("links"))
            .and_then(|l| serde_json::from_value::<Vec<Value>>(l.clone()).ok())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect()
    }

    /// `spec.profile.<field>` (Users and Groups).
    pub fn profile_str(&self, field: &str) -> Option<&str> {
        self.doc().get("spec")?.get("profile")?.get(field)?.as_str()
    }

    /// A human name: profile display name, then title, then name.
    pub fn display_name(&self) -> &str {
        // Only Users and Groups have profiles; not touching other entities'
        // documents keeps warm commands from parsing them.
        let profile = match self.kind.to_ascii_lowercase().as_str() {
            "user" | "group" => self.profile_str("displayName"),
            _ => None,
        };
        profile.or(self.title.as_deref()).unwrap_or(&self.name)
    }

    /// Targets of the relations of one type.
    pub fn related(&self, kind: RelationType) -> impl Iterator<Item = &EntityRef> {
        self.relations
            .iter()
            .filter(move |r| r.kind == kind)
            .map(|r| &r.target)
    }

    /// The descriptor as JSON with `relations` added, as Backstage's API
    /// returns it and as `-o json` prints it.
    pub fn to_json(&self) -> Value {
        let mut doc = self.doc().clone();
        if let Value::Object(map) = &mut doc {
            map.insert(
                "relations".into(),
                serde_json::to_value(&self.relations).unwrap_or(Value::Null),
            );
        }
        doc
    }
}

/// A link in `metadata.links`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Target URL.
    pub url: String,
    /// Human title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Icon hint (`chat`, `dashboard`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Link type (`runbook`, `chat`, …).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// Looks up a dotted path in a JSON value; at each level the longest key that
/// matches a prefix of the remaining path wins, so `metadata.annotations.
/// github.com/project-slug` works although the key contains dots.
pub fn lookup_path<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(value);
    }
    match value {
        Value::Object(map) => {
            if let Some(v) = map.get(path) {
                return Some(v);
            }
            let mut best: Option<(&str, &Value)> = None;
            for (key, v) in map {
                let matches = path.len() > key.len()
                    && path.starts_with(key.as_str())
                    && path.as_bytes()[key.len()] == b'.';
                if matches && best.is_none_or(|(b, _)| key.len() > b.len()) {
                    best = Some((key, v));
                }
            }
            let (key, v) = best?;
            lookup_path(v, &path[key.len() + 1..])
        }
        Value::Array(items) => {
            let (head, rest) = path.split_once('.').unwrap_or((path, ""));
            let v = items.get(head.parse::<usize>().ok()?)?;
            lookup_path(v, rest)
        }
        _ => None,
    }
}

/// Where the index's records are: a buffer in memory, or a section of the
/// index file read in checksummed chunks on first use (see
/// `index::LazySection`), so a command that touches a handful of
/// entities reads a handful of chunks.
pub trait RecordStore: Send + Sync {
    /// The bytes of `range`, `None` when they cannot be read intact.
    fn get(&self, range: Range<usize>) -> Option<&[u8]>;
}

impl RecordStore for Vec<u8> {
    fn get(&self, range: Range<usize>) -> Option<&[u8]> {
        self.as_slice().get(range)
    }
}

/// One record (a descriptor's JSON, an entity's relations) in a shared store.
#[derive(Clone)]
pub struct MappedDoc {
    /// The store.
    pub bytes: Arc<dyn RecordStore>,
    /// Where this record is in it.
    pub range: Range<usize>,
}

impl MappedDoc {
    /// The record's bytes.
    pub fn get(&self) -> Option<&[u8]> {
        self.bytes.get(self.range.clone())
    }
}

impl std::fmt::Debug for MappedDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MappedDoc({:?})", self.range)
    }
}

/// An entity's relations: a list, or (from the index) a postcard record
/// decoded on first use: `who-owns` reads the relations of three entities,
/// not of all of them. Reads as a `Vec<Relation>`.
#[derive(Clone, Default)]
pub struct Relations {
    list: OnceLock<Vec<Relation>>,
    raw: Option<MappedDoc>,
}

impl Relations {
    /// Relations stored in the index, decoded when first read. A record
    /// that does not decode (the chunk failed its checksum after the
    /// index was opened) reads as no relations.
    pub fn encoded(raw: MappedDoc) -> Self {
        Relations {
            list: OnceLock::new(),
            raw: Some(raw),
        }
    }

    /// The relations as a list.
    pub fn list(&self) -> &Vec<Relation> {
        self.list.get_or_init(|| {
            self.raw
                .as_ref()
                .filter(|m| !m.range.is_empty())
                .and_then(MappedDoc::get)
                .and_then(|b| postcard::from_bytes(b).ok())
                .unwrap_or_default()
        })
    }
}

impl Relations {
    /// The postcard encoding of the list, as the index stores it: the
    /// stored bytes while they are not decoded (a warm `score` whose
    /// results are cached fingerprints relations without decoding them).
    pub fn encoded_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        if self.list.get().is_none() {
            if let Some(bytes) = self
                .raw
                .as_ref()
                .filter(|m| !m.range.is_empty())
                .and_then(MappedDoc::get)
            {
                return std::borrow::Cow::Borrowed(bytes);
            }
        }
        std::borrow::Cow::Owned(postcard::to_stdvec(self.list()).unwrap_or_default())
    }
}

impl From<Vec<Relation>> for Relations {
    fn from(list: Vec<Relation>) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(list);
        Relations {
            list: cell,
            raw: None,
        }
    }
}

impl std::ops::Deref for Relations {
    type Target = Vec<Relation>;
    fn deref(&self) -> &Vec<Relation> {
        self.list()
    }
}

impl<'a> IntoIterator for &'a Relations {
    type Item = &'a Relation;
    type IntoIter = std::slice::Iter<'a, Relation>;
    fn into_iter(self) -> Self::IntoIter {
        self.list().iter()
    }
}

impl std::fmt::Debug for Relations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.list().fmt(f)
    }
}

impl PartialEq for Relations {
    fn eq(&self, other: &Self) -> bool {
        self.list() == other.list()
    }
}

impl Serialize for Relations {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.list().serialize(s)
    }
}

/// The descriptor body: a parsed value, or JSON text parsed on first use.
#[derive(Debug, Clone)]
struct LazyDoc {
    mapped: Option<MappedDoc>,
    value: OnceLock<Value>,
    /// The value's JSON text, once asked for (documents read from files).
    text: OnceLock<Box<[u8]>>,
}

impl LazyDoc {
    fn from_value(value: Value) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(value);
        LazyDoc {
            mapped: None,
            value: cell,
            text: OnceLock::new(),
        }
    }

    fn value(&self) -> &Value {
        self.value.get_or_init(|| {
            // The text was written by the index from a valid value, so a parse
            // failure means a corrupt index; an empty object keeps the entity
            // usable and the index is rebuilt on the next change.
            self.mapped
                .as_ref()
                .and_then(MappedDoc::get)
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Object(Default::default()))
        })
    }
}

/// The parts of an entity the index stores besides its document and
/// relations (records of their own sections, read on first use).
#[derive(Debug, Serialize, Deserialize)]
pub struct IndexedParts<S = String, R = Source> {
    /// `apiVersion`.
    pub api_version: S,
    /// `kind`.
    pub kind: S,
    /// Namespace.
    pub namespace: S,
    /// Name.
    pub name: S,
    /// Title.
    pub title: Option<S>,
    /// Source.
    pub source: R,
    /// Byte range of the relations (postcard) in the index's relations section.
    pub rels: (u64, u64),
    /// Byte range of the document JSON in the index's document section.
    pub doc: (u64, u64),
}

/// What the index writer serializes: the same wire format, borrowed.
pub type IndexedPartsRef<'a> = IndexedParts<&'a str, &'a Source>;

impl Entity {
    /// The indexable parts, borrowed, with the given record ranges.
    pub fn indexed_parts(&self, rels: (u64, u64), doc: (u64, u64)) -> IndexedPartsRef<'_> {
        IndexedParts {
            api_version: &self.api_version,
            kind: &self.kind,
            namespace: &self.namespace,
            name: &self.name,
            title: self.title.as_deref(),
            source: &self.source,
            rels,
            doc,
        }
    }

    /// Rebuilds an entity from the index, its relations and document left
    /// in their stores.
    pub fn from_indexed(parts: IndexedParts, rels: MappedDoc, mapped: MappedDoc) -> Entity {
        Entity {
            api_version: parts.api_version,
            kind: parts.kind,
            namespace: parts.namespace,
            name: parts.name,
            title: parts.title,
            source: parts.source,
            relations: Relations::encoded(rels),
            doc: LazyDoc {
                mapped: Some(mapped),
                value: OnceLock::new(),
                text: OnceLock::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn owned(p: IndexedPartsRef) -> IndexedParts {
        postcard::from_bytes(&postcard::to_stdvec(&p).unwrap()).unwrap()
    }

    fn no_relations() -> MappedDoc {
        MappedDoc {
            bytes: Arc::new(Vec::new()),
            range: 0..0,
        }
    }

    /// One `ownedBy` relation: the list, its postcard bytes, and the
    /// relations as read from an index holding those bytes.
    fn stored_relations() -> (Vec<Relation>, Vec<u8>, Relations) {
        let list = vec![Relation {
            kind: RelationType::OwnedBy,
            target: EntityRef::new("group", "default", "team-a"),
        }];
        let bytes = postcard::to_stdvec(&list).unwrap();
        let len = bytes.len();
        let rels = Relations::encoded(MappedDoc {
            bytes: Arc::new(bytes.clone()),
            range: 0..len,
        });
        (list, bytes, rels)
    }

    #[test]
    fn relations_decode_on_first_use() {
        let (list, _, rels) = stored_relations();
        assert!(rels.list.get().is_none());
        assert_eq!(*rels, list);
        assert_eq!((&rels).into_iter().count(), 1);
        assert!(Relations::encoded(no_relations()).is_empty());
    }

    #[test]
    fn a_released_descriptor_reads_the_same_and_relations_fingerprint_as_stored() {
        let doc = json!({"apiVersion": "v", "kind": "Component",
                         "metadata": {"name": "svc", "annotations": {"b": "1", "a": "2"}},
                         "spec": {"owner": "team-a"}});
        let mut e = Entity::from_document(doc.clone(), Source::default())
            .unwrap_or_else(|_| panic!("valid"));
        let text = e.json_text().to_vec();
        e.release_parsed();
        assert!(e.doc.value.get().is_none(), "the value is freed");
        assert_eq!(e.json_text(), &text[..], "the same text, key order kept");
        assert_eq!(e.unparsed_json(), Some(&text[..]));
        assert_eq!(e.doc(), &doc, "parsed again on first use");
        // Released before any text was made: serialized then.
        let mut fresh = Entity::from_document(doc.clone(), Source::default())
            .unwrap_or_else(|_| panic!("valid"));
        fresh.release_parsed();
        assert_eq!(fresh.json_text(), &text[..]);

        // What the score cache hashes: the stored bytes, or the same
        // encoding of a computed list.
        let (list, bytes, stored) = stored_relations();
        assert_eq!(&*stored.encoded_bytes(), &bytes[..]);
        assert!(stored.list.get().is_none(), "not decoded for it");
        assert_eq!(&*Relations::from(list).encoded_bytes(), &bytes[..]);
    }

    #[test]
    fn lookup_handles_dotted_keys_and_indexes() {
        let v = json!({"metadata": {"annotations": {"github.com/project-slug": "acme/x", "tier": "1"},
                        "tags": ["a", "b"]}});
        assert_eq!(
            lookup_path(&v, "metadata.annotations.github.com/project-slug"),
            Some(&json!("acme/x"))
        );
        assert_eq!(
            lookup_path(&v, "metadata.annotations.tier"),
            Some(&json!("1"))
        );
        assert_eq!(lookup_path(&v, "metadata.tags.1"), Some(&json!("b")));
        assert_eq!(lookup_path(&v, "metadata.nope"), None);
    }

    #[test]
    fn key_is_the_references_key() {
        let e = Entity::from_document(
            json!({"apiVersion": "v", "kind": "ComPonent",
                   "metadata": {"name": "My-Svc", "namespace": "Team-A"}}),
            Source::default(),
        )
        .unwrap_or_else(|_| panic!("valid"));
        assert_eq!(e.key(), e.entity_ref().key());
        assert_eq!(e.key(), "component:team-a/my-svc");
    }

    #[test]
    fn absent_keys_are_found_absent_without_a_parse() {
        let e = Entity::from_document(
            json!({"apiVersion": "v", "kind": "Component",
                   "metadata": {"name": "a", "annotations": {"x/y": "1"}}}),
            Source::default(),
        )
        .unwrap_or_else(|_| panic!("valid"));
        let text = e.json_text().to_vec();
        let len = text.len();
        let bytes: Arc<dyn RecordStore> = Arc::new(text);
        let back = Entity::from_indexed(
            owned(e.indexed_parts((0, 0), (0, len as u64))),
            no_relations(),
            MappedDoc {
                bytes,
                range: 0..len,
            },
        );
        assert!(!back.may_contain_key("idp.dev/cost-selector"));
        assert_eq!(back.annotation("idp.dev/cost-selector"), None);
        assert!(back.unparsed_json().is_some(), "parsed for an absent key");
        assert_eq!(back.annotation("x/y"), Some("1"));
        assert!(back.unparsed_json().is_none());
    }

    #[test]
    fn mapped_doc_parses_on_first_use() {
        let e = Entity::from_document(
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                   "metadata": {"name": "a"}, "spec": {"owner": "t"}}),
            Source::default(),
        )
        .unwrap_or_else(|_| panic!("valid"));
        let text = format!("xx{}", e.doc());
        let len = text.len();
        let bytes: Arc<dyn RecordStore> = Arc::new(text.into_bytes());
        let parts = owned(e.indexed_parts((0, 0), (2, len as u64)));
        let back = Entity::from_indexed(
            parts,
            no_relations(),
            MappedDoc {
                bytes,
                range: 2..len,
            },
        );
        assert_eq!(back.spec_str("owner"), Some("t"));
        assert_eq!(back.entity_ref().to_string(), "component:default/a");
    }
}
