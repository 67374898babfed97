//! A scorecard rule's CEL expression: compiled as `idp validate` and
//! `idp score` compile a Scorecard document whose rule `check` is the input,
//! then evaluated against a small fixed catalog entity (with relations,
//! live facts and catalog files), as `idp score` does.
#![no_main]

use std::sync::Arc;

use idp::catalog::load::{Loaded, RawDocument};
use idp::catalog::{Catalog, CatalogConfig, Entity, Origin, Source};
use idp::score::compile::compile;
use idp::score::facts::FactMap;
use idp::score::functions::Files;
use idp::score::{evaluate, LiveFacts, RunOptions, Scorecards, UnknownPolicy};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// Catalog files the `file_*` functions can see.
struct Memory;

impl Files for Memory {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        match path {
            "services/checkout/README.md" => Some(b"# Checkout\nRunbook: see docs/\n".to_vec()),
            "services/checkout/Dockerfile" => Some(b"FROM debian:13\nUSER app\n".to_vec()),
            _ => None,
        }
    }
}

fn entity(doc: Value, file: &str) -> Entity {
    Entity::from_document(
        doc,
        Source {
            file: file.into(),
            document: 0,
            line: 1,
        },
    )
    .expect("fixed entity")
}

/// The entity rules are evaluated against, with its relations computed.
fn catalog() -> Catalog {
    let component = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {
            "name": "checkout",
            "title": "Checkout",
            "description": "Takes the money.",
            "tags": ["java", "payments"],
            "labels": {"tier": "1"},
            "annotations": {
                "github.com/project-slug": "acme/checkout",
                "pagerduty.com/service-id": "P123",
                "backstage.io/techdocs-ref": "dir:."
            },
            "links": [{"url": "https://runbooks/checkout", "title": "Runbook"}]
        },
        "spec": {
            "type": "service",
            "lifecycle": "production",
            "owner": "group:payments",
            "system": "shop",
            "dependsOn": ["component:ledger", "resource:db"],
            "providesApis": ["checkout-api"],
            "version": "1.4.2",
            "replicas": 3,
            "ratio": 0.75,
            "enabled": true,
            "empty": null,
            "ports": [80, 443]
        }
    });
    let group = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {"name": "payments"},
        "spec": {"type": "team", "children": []}
    });
    let loaded = Loaded {
        entities: vec![
            entity(component, "services/checkout/catalog-info.yaml"),
            entity(group, "org.yaml"),
        ],
        rejected: Vec::<RawDocument>::new(),
        problems: Vec::new(),
        files: 2,
        positions: Default::default(),
    };
    Catalog::new(loaded, CatalogConfig::default(), Origin::default())
}

fn live() -> FactMap {
    let mut facts = LiveFacts::default();
    facts.facts.insert(
        "github".into(),
        json!({"stars": 12, "default_branch": "main", "archived": false,
               "languages": {"Java": 1200, "Shell": 30}, "topics": ["payments"]}),
    );
    facts
        .facts
        .insert("sonarqube".into(), json!({"coverage": 81.5, "bugs": 0}));
    facts
        .unavailable
        .insert("pagerduty".into(), "timeout after 10s".into());
    let mut map = FactMap::default();
    map.by_entity
        .insert("component:default/checkout".into(), facts);
    map
}

fuzz_target!(|data: &[u8]| {
    let Ok(check) = std::str::from_utf8(data) else {
        return;
    };
    let doc = json!({
        "apiVersion": "idp.dev/v1alpha1",
        "kind": "Scorecard",
        "metadata": {"name": "fuzz"},
        "spec": {
            "levels": [{"id": "bronze"}, {"id": "silver"}],
            "rules": [
                {"id": "fuzzed", "level": "bronze", "check": check,
                 "message": "{{ entity.metadata.name }} fails {{ rule.id | default('x') }}"},
                {"id": "fixed", "level": "silver", "check": "has(entity.spec.owner)"}
            ]
        }
    });
    let card = entity(doc, "scorecards/fuzz.yaml");
    let outcome = compile(&card);
    let Some(scorecard) = outcome.scorecard else {
        return;
    };
    let catalog = catalog();
    let set = Scorecards::new(vec![scorecard]);
    let entities: Vec<&Entity> = catalog.entities.iter().collect();
    let opts = RunOptions {
        now: chrono::DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z").expect("now"),
        unknown: UnknownPolicy::Ignore,
    };
    let files: Arc<dyn Files> = Arc::new(Memory);
    let results = evaluate(&set, &entities, &live(), Some(files), &opts);
    let _ = serde_json::to_string(&results);
});
