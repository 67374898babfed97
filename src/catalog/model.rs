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
    /// Relations in both directions, computed over the whole catalog.
    pub relations: Vec<Relation>,
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
                relations: Vec::new(),
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
        let mapped = self.doc.mapped.as_ref()?;
        (*mapped.bytes).as_ref().get(mapped.range.clone())
    }

    /// The descriptor's JSON text in the index it was read from, parsed or
    /// not (`None` for an entity loaded from files). Two entities from
    /// indexes have equal descriptors exactly when these texts are equal:
    /// the index writes one canonical serialization.
    pub fn index_json(&self) -> Option<&[u8]> {
        let mapped = self.doc.mapped.as_ref()?;
        (*mapped.bytes).as_ref().get(mapped.range.clone())
    }

    /// The descriptor as compact JSON text (what the index stores): the
    /// index's own text, or the value serialized once and kept, so the
    /// index writer and `validate`'s document hashes share one
    /// serialization.
    pub fn json_text(&self) -> &[u8] {
        if let Some(bytes) = self
            .doc
            .mapped
            .as_ref()
            .and_then(|m| (*m.bytes).as_ref().get(m.range.clone()))
        {
            return bytes;
        }
        self.doc.text.get_or_init(|| {
            serde_json::to_vec(self.doc())
                .unwrap_or_else(|_| b"{}".to_vec())
                .into_boxed_slice()
        })
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

/// JSON text of a descriptor inside a shared buffer (the index, read into memory).
#[derive(Clone)]
pub struct MappedDoc {
    /// The buffer.
    pub bytes: Arc<dyn AsRef<[u8]> + Send + Sync>,
    /// Where this document's JSON is in it.
    pub range: Range<usize>,
}

impl std::fmt::Debug for MappedDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MappedDoc({:?})", self.range)
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
                .and_then(|m| (*m.bytes).as_ref().get(m.range.clone()))
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Object(Default::default()))
        })
    }
}

/// The parts of an entity the index stores besides its document.
#[derive(Debug, Serialize, Deserialize)]
pub struct IndexedParts {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Title.
    pub title: Option<String>,
    /// Source.
    pub source: Source,
    /// Relations.
    pub relations: Vec<Relation>,
    /// Byte range of the document JSON in the index's document section.
    pub doc: (u64, u64),
}

impl Entity {
    /// The indexable parts, with `doc` the given range.
    pub fn indexed_parts(&self, doc: (u64, u64)) -> IndexedParts {
        IndexedParts {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            title: self.title.clone(),
            source: self.source.clone(),
            relations: self.relations.clone(),
            doc,
        }
    }

    /// Rebuilds an entity from the index, its document left in `mapped`.
    pub fn from_indexed(parts: IndexedParts, mapped: MappedDoc) -> Entity {
        Entity {
            api_version: parts.api_version,
            kind: parts.kind,
            namespace: parts.namespace,
            name: parts.name,
            title: parts.title,
            source: parts.source,
            relations: parts.relations,
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
        let bytes: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(text);
        let back = Entity::from_indexed(
            e.indexed_parts((0, len as u64)),
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
        let bytes: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(text.into_bytes());
        let parts = e.indexed_parts((2, len as u64));
        let back = Entity::from_indexed(
            parts,
            MappedDoc {
                bytes,
                range: 2..len,
            },
        );
        assert_eq!(back.spec_str("owner"), Some("t"));
        assert_eq!(back.entity_ref().to_string(), "component:default/a");
    }
}
