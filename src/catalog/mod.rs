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
    by_key: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
}

impl Catalog {
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
        let by_key = catalog.by_key.clone();
        relations::compute_relations(&mut catalog.entities, |k| by_key.get(k).copied());
        catalog
    }

    /// Builds lookup tables over entities whose relations are already computed.
    pub fn assemble(entities: Vec<Entity>, config: CatalogConfig, origin: Origin) -> Self {
        let mut by_key = HashMap::with_capacity(entities.len());
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::with_capacity(entities.len());
        for (i, e) in entities.iter().enumerate() {
            // The first definition wins; validation reports the duplicate.
            by_key.entry(e.key()).or_insert(i);
            by_name
                .entry(e.name.to_ascii_lowercase())
                .or_default()
                .push(i);
        }
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
        }
    }

    /// The entity a reference points at.
    pub fn get(&self, r: &EntityRef) -> Option<&Entity> {
        self.get_key(&r.key())
    }

    /// The entity with a lowercase `kind:namespace/name` key.
    pub fn get_key(&self, key: &str) -> Option<&Entity> {
        self.by_key.get(key).map(|&i| &self.entities[i])
    }

    /// Entities with this name (any kind or namespace), case-insensitively.
    pub fn by_name(&self, name: &str) -> impl Iterator<Item = &Entity> {
        self.by_name
            .get(&name.to_ascii_lowercase())
            .into_iter()
            .flatten()
            .map(|&i| &self.entities[i])
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
