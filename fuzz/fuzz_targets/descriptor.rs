//! Descriptor bytes through the loader and `idp validate`: parse (size,
//! UTF-8, YAML documents), substitutions (`$text`/`$json`/`$yaml` of files
//! in a small in-memory catalog), Location targets, entities and relations,
//! then every validation rule and the locating of each problem in the text,
//! as `idp validate` does for a catalog holding this one file.
#![no_main]

use idp::catalog::load::load_selected;
use idp::catalog::relations::declared_references;
use idp::catalog::snapshot::{FileEntry, Snapshot};
use idp::catalog::validate::Scope;
use idp::catalog::{Catalog, CatalogConfig, Origin};
use libfuzzer_sys::fuzz_target;

/// The file under test.
const UNDER_TEST: &str = "catalog-info.yaml";

/// Other files of the catalog, for substitutions, Locations and a custom
/// kind's schema to find.
const OTHERS: &[(&str, &str)] = &[
    ("README.md", "# Checkout\nThe checkout service.\n"),
    ("api/openapi.yaml", "openapi: 3.0.0\ninfo:\n  title: Checkout\n  version: 1.0.0\npaths: {}\n"),
    ("api/schema.json", "{\"type\": \"object\", \"properties\": {\"a\": [1, 2, {\"b\": null}]}}"),
    (
        "org/team.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: payments\nspec:\n  type: team\n  children: []\n",
    ),
    (
        "schemas/pipeline.json",
        "{\"type\": \"object\", \"required\": [\"spec\"], \"properties\": {\"spec\": {\"type\": \"object\", \"required\": [\"stages\"], \"properties\": {\"stages\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}}}}}",
    ),
];

const CONFIG: &str = "customKinds:\n  - kind: Pipeline\n    schema: schemas/pipeline.json\n  - kind: Widget\n    apiVersion: acme.io/v1\n";

struct Memory {
    files: Vec<FileEntry>,
    under_test: Vec<u8>,
}

impl Memory {
    fn content(&self, path: &str) -> Option<&[u8]> {
        if path == UNDER_TEST {
            return Some(&self.under_test);
        }
        OTHERS
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, text)| text.as_bytes())
    }
}

impl Snapshot for Memory {
    fn files(&self) -> &[FileEntry] {
        &self.files
    }

    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        self.content(path)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| std::io::ErrorKind::NotFound.into())
    }

    fn size(&self, path: &str) -> Option<u64> {
        self.content(path).map(|b| b.len() as u64)
    }
}

fuzz_target!(|data: &[u8]| {
    let mut files: Vec<FileEntry> = OTHERS
        .iter()
        .map(|(path, text)| FileEntry {
            path: path.to_string(),
            size: text.len() as u64,
        })
        .collect();
    files.push(FileEntry {
        path: UNDER_TEST.into(),
        size: data.len() as u64,
    });
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let snapshot = Memory {
        files,
        under_test: data.to_vec(),
    };
    let config = CatalogConfig::parse(CONFIG, std::path::Path::new("idp.yaml")).expect("config");

    let loaded = load_selected(&snapshot, &[UNDER_TEST]);
    let catalog = Catalog::new(loaded, config, Origin::default());
    let read = |path: &str| {
        snapshot
            .content(path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    let scope = Scope {
        files: None,
        check_references: true,
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 29).expect("a date"),
    };
    // The one orchestrated check every command runs (catalog rules and
    // scorecards).
    let report = idp::check::catalog(&catalog, &scope, &read);
    let _ = serde_json::to_string(&report);

    // What the renderers read from every entity.
    for entity in &catalog.entities {
        let _ = entity.to_json();
        let _ = entity.links();
        let _ = entity.tags();
        let _ = entity.display_name();
        let _ = entity.entity_ref().key();
        let _ = declared_references(entity);
    }
});
