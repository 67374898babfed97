//! The catalog: entities read from one state of a git repository, with lookup
//! by reference and by name. Submodules own one step each: finding the
//! catalog (`discover`), reading git or the working tree (`snapshot`,
//! `remote`), parsing (`parse`, `substitute`, `load`), relations, the on-disk
//! index, validation, and the queries commands ask (`resolve`, `query`,
//! `ownership`). Nothing here prints.

pub mod bundle;
pub mod changes;
pub mod config;
pub mod discover;
pub mod error;
pub mod facets;
pub mod fields;
pub mod filter_check;
pub mod git_probe;
pub mod graph;
pub mod history;
pub mod index;
pub mod kinds;
pub mod load;
pub mod locate;
pub mod model;
pub mod open;
pub mod overlay;
pub mod ownership;
pub mod parse;
pub mod paths;
pub mod prescan;
pub mod problem;
pub mod query;
pub mod refs;
pub mod relations;
pub mod remote;
pub mod resolve;
pub mod search;
pub mod snapshot;
pub mod substitute;
pub mod validate;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

pub use config::CatalogConfig;
pub use error::{CatalogError, LookupError};
pub use load::RawDocument;
pub use model::{Entity, Link, Source};
pub use problem::{Problem, Severity};
pub use refs::EntityRef;
pub use relations::{Relation, RelationType};

/// Which state of the catalog was read, for messages and cache keys.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Origin {
    /// The catalog as the user named it (path or URL).
    pub location: String,
    /// Commit read, when reading from git objects (`None`: working tree).
    pub commit: Option<String>,
}

/// A loaded catalog.
#[derive(Debug)]
pub struct Catalog {
    /// All entities, in file order.
    pub entities: Vec<Entity>,
    /// Descriptor documents that could not become entities.
    pub rejected: Vec<RawDocument>,
    /// Problems found while loading.
    pub problems: Vec<Problem>,
    /// The catalog's `idp.yaml`.
    pub config: CatalogConfig,
    /// Descriptor files read.
    pub files_read: usize,
    /// One line per load error (`file:line: message`), kept in the index so
    /// warm runs can mention them too.
    pub load_errors: Vec<String>,
    /// What was read.
    pub origin: Origin,
    /// Read from the on-disk index, not from the files.
    pub indexed: bool,
    /// Where the keys and items of each descriptor file read in this run are
    /// (empty when loaded from the index), to locate problems without
    /// parsing a file again.
    pub positions: HashMap<String, locate::Locator>,
    /// (hash of the lowercase key, entity index), sorted: a lookup table
    /// without a string per entity (a warm command builds it for 100,000
    /// entities to answer about one).
    by_key: Vec<(u64, u32)>,
    /// The same for lowercase names.
    by_name: Vec<(u64, u32)>,
    /// Key look-ups so far; past [`MANY_LOOKUPS`] a string map is built
    /// (`validate` and `impact` look up every reference of every entity,
    /// where a probe that reads one key string beats the table's).
    lookups: std::sync::atomic::AtomicUsize,
    key_map: std::sync::OnceLock<HashMap<String, usize>>,
}

/// See [`Catalog::get_key`].
const MANY_LOOKUPS: usize = 2048;

/// FNV-1a over ASCII-lowercased bytes, continuing from `h`.
fn fold_lower(h: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(h, |h, b| {
        (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

const FNV_SEED: u64 = 0xcbf2_9ce4_8422_2325;

/// The hash of `e.key()`, without building it.
fn key_hash(e: &Entity) -> u64 {
    let h = fold_lower(FNV_SEED, e.kind.as_bytes());
    let h = fold_lower(h, b":");
    let h = fold_lower(h, e.namespace.as_bytes());
    let h = fold_lower(h, b"/");
    fold_lower(h, e.name.as_bytes())
}

/// Whether `e.key() == key`, without building it.
fn key_is(e: &Entity, key: &str) -> bool {
    // `part` lowercased equals `want` byte for byte.
    let same = |want: &[u8], part: &[u8]| {
        want.len() == part.len()
            && want
                .iter()
                .zip(part)
                .all(|(w, p)| *w == p.to_ascii_lowercase())
    };
    let (k, a, b, c) = (
        key.as_bytes(),
        e.kind.as_bytes(),
        e.namespace.as_bytes(),
        e.name.as_bytes(),
    );
    if k.len() != a.len() + b.len() + c.len() + 2 {
        return false;
    }
    let (ka, rest) = k.split_at(a.len());
    let (kb, rest) = rest[1..].split_at(b.len());
    same(ka, a) && k[a.len()] == b':' && same(kb, b) && rest[0] == b'/' && same(&rest[1..], c)
}

/// The entries of a sorted (hash, index) table with this hash, in index order.
fn candidates(table: &[(u64, u32)], hash: u64) -> impl Iterator<Item = usize> + '_ {
    let from = table.partition_point(|(h, _)| *h < hash);
    table[from..]
        .iter()
        .take_while(move |(h, _)| *h == hash)
        .map(|(_, i)| *i as usize)
}

impl Catalog {
    /// Frees every parsed descriptor (kept as JSON text, parsed again on
    /// first use) and every file's positions: for a command done with
    /// them that still writes the index.
    pub fn release_parsed(&mut self) {
        use rayon::prelude::*;
        self.entities
            .par_iter_mut()
            .for_each(model::Entity::release_parsed);
        self.positions = HashMap::new();
    }

    /// The descriptor files this catalog read something from: an entity,
    /// a rejected document or a problem (catalog-relative paths).
    pub fn descriptor_files(&self) -> impl Iterator<Item = &str> {
        self.entities
            .iter()
            .map(|e| e.source.file.as_str())
            .chain(self.rejected.iter().map(|r| r.source.file.as_str()))
            .chain(self.problems.iter().map(|p| p.file.as_str()))
    }

    /// Builds lookup tables and relations over freshly loaded entities.
    pub fn new(loaded: load::Loaded, config: CatalogConfig, origin: Origin) -> Self {
        let mut catalog = Catalog::assemble(loaded.entities, config, origin);
        catalog.rejected = loaded.rejected;
        catalog.load_errors = loaded
            .problems
            .iter()
            .filter(|p| p.is_error())
            .map(|p| format!("{}:{}: {}", p.file, p.line, p.message))
            .collect();
        catalog.problems = loaded.problems;
        catalog.files_read = loaded.files;
        catalog.positions = loaded.positions;
        let mut by_key: HashMap<String, usize> = HashMap::with_capacity(catalog.entities.len());
        for (i, e) in catalog.entities.iter().enumerate() {
            by_key.entry(e.key()).or_insert(i);
        }
        relations::compute_relations(&mut catalog.entities, |k| by_key.get(k).copied());
        let _ = catalog.key_map.set(by_key);
        catalog
    }

    /// Builds lookup tables over entities whose relations are already computed.
    pub fn assemble(entities: Vec<Entity>, config: CatalogConfig, origin: Origin) -> Self {
        // Sorted by hash, then index: among equal keys the first
        // definition wins (validation reports the duplicate).
        let mut by_key: Vec<(u64, u32)> = entities
            .iter()
            .enumerate()
            .map(|(i, e)| (key_hash(e), i as u32))
            .collect();
        by_key.sort_unstable();
        let mut by_name: Vec<(u64, u32)> = entities
            .iter()
            .enumerate()
            .map(|(i, e)| (fold_lower(FNV_SEED, e.name.as_bytes()), i as u32))
            .collect();
        by_name.sort_unstable();
        Catalog {
            entities,
            rejected: Vec::new(),
            problems: Vec::new(),
            config,
            files_read: 0,
            load_errors: Vec::new(),
            origin,
            indexed: false,
            positions: HashMap::new(),
            by_key,
            by_name,
            lookups: Default::default(),
            key_map: Default::default(),
        }
    }

    /// The entity a reference points at.
    pub fn get(&self, r: &EntityRef) -> Option<&Entity> {
        self.get_key(&r.key())
    }

    /// The entity with a lowercase `kind:namespace/name` key.
    pub fn get_key(&self, key: &str) -> Option<&Entity> {
        use std::sync::atomic::Ordering::Relaxed;
        let many =
            self.key_map.get().is_some() || self.lookups.fetch_add(1, Relaxed) > MANY_LOOKUPS;
        if many {
            let map = self.key_map.get_or_init(|| {
                let mut map = HashMap::with_capacity(self.entities.len());
                for (i, e) in self.entities.iter().enumerate() {
                    map.entry(e.key()).or_insert(i);
                }
                map
            });
            return map.get(key).map(|&i| &self.entities[i]);
        }
        candidates(&self.by_key, fold_lower(FNV_SEED, key.as_bytes()))
            .map(|i| &self.entities[i])
            .find(|e| key_is(e, key))
    }

    /// Entities with this name (any kind or namespace), case-insensitively.
    pub fn by_name(&self, name: &str) -> impl Iterator<Item = &Entity> {
        let want = name.to_ascii_lowercase();
        candidates(&self.by_name, fold_lower(FNV_SEED, want.as_bytes()))
            .map(|i| &self.entities[i])
            .filter(move |e| e.name.eq_ignore_ascii_case(&want))
    }

    /// Entities of one kind (case-insensitive).
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Entity> + 'a {
        self.entities
            .iter()
            .filter(move |e| e.kind.eq_ignore_ascii_case(kind))
    }

    /// The title of a referenced entity, or its name when it has none or is missing.
    pub fn title_of(&self, r: &EntityRef) -> String {
        self.get(r)
            .map(|e| e.display_name().to_string())
            .unwrap_or_else(|| r.name.clone())
    }
}

#[cfg(test)]
mod lookup_tests {
    use super::*;
    use serde_json::json;

    fn entity(kind: &str, ns: &str, name: &str) -> Entity {
        let doc = json!({"apiVersion": "backstage.io/v1alpha1", "kind": kind,
                         "metadata": {"name": name, "namespace": ns}});
        Entity::from_document(doc, model::Source::default()).unwrap_or_else(|_| panic!("valid"))
    }

    #[test]
    fn keys_and_names_are_found_as_the_string_maps_found_them() {
        let entities = vec![
            entity("Component", "Team-A", "My-Svc"),
            entity("Group", "default", "my-svc"),
            entity("Component", "team-a", "MY-SVC"),
            entity("API", "default", "a:b/c"),
        ];
        let catalog = Catalog::assemble(
            entities,
            CatalogConfig::default(),
            Origin {
                location: "x".into(),
                commit: None,
            },
        );
        // The first definition of a key wins.
        let first = catalog.get_key("component:team-a/my-svc").map(|e| &e.name);
        assert_eq!(first.map(String::as_str), Some("My-Svc"));
        // Keys are lowercase; another spelling is not a key.
        assert!(catalog.get_key("Component:team-a/my-svc").is_none());
        assert!(catalog.get_key("component:team-a/my-sv").is_none());
        assert!(catalog.get_key("component:team-a:my-svc").is_none());
        assert!(catalog.get_key("api:default/a:b/c").is_some());
        assert!(catalog.get_key("group:default/my-svc").is_some());
        // Names match case-insensitively, in catalog order.
        let kinds: Vec<&str> = catalog.by_name("MY-svc").map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["Component", "Group", "Component"]);
        assert_eq!(catalog.by_name("nope").count(), 0);
        // Past many look-ups, the string map answers the same.
        for _ in 0..MANY_LOOKUPS + 10 {
            let first = catalog.get_key("component:team-a/my-svc").map(|e| &e.name);
            assert_eq!(first.map(String::as_str), Some("My-Svc"));
            assert!(catalog.get_key("Component:team-a/my-svc").is_none());
        }
        assert!(catalog.key_map.get().is_some());
        assert!(catalog.get_key("api:default/a:b/c").is_some());
    }
}
