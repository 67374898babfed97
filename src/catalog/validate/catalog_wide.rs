//! Checks across entities: the same entity defined twice, and references to
//! entities that do not exist.

use std::collections::HashMap;

use crate::catalog::fields::ref_fields;
use crate::catalog::problem::{Problem, Severity};
use crate::catalog::refs::EntityRef;
use crate::catalog::Catalog;

/// One error per extra definition of an entity, pointing at the first.
pub fn duplicates(catalog: &Catalog) -> Vec<Problem> {
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, e) in catalog.entities.iter().enumerate() {
        let key = e.entity_ref().key();
        match first.get(&key) {
            None => {
                first.insert(key, i);
            }
            Some(&j) => {
                let orig = &catalog.entities[j];
                out.push(
                    Problem::new(
                        Severity::Error,
                        "duplicate-entity",
                        format!(
                            "{} is already defined at {}:{}",
                            e.entity_ref(),
                            orig.source.file,
                            orig.source.line
                        ),
                        &e.source.file,
                        e.source.line,
                        1,
                    )
                    .with_entity(e.entity_ref().to_string())
                    .at_field(e.source.document, "metadata.name"),
                );
            }
        }
    }
    out
}

/// One error per reference whose target is not in the catalog.
pub fn dangling_references(catalog: &Catalog) -> Vec<Problem> {
    let mut out = Vec::new();
    for e in &catalog.entities {
        let Some(spec) = e.doc().get("spec") else {
            continue;
        };
        for field in ref_fields(&e.kind_key()) {
            let Some(value) = spec.get(field.field) else {
                continue;
            };
            let items: Vec<(String, &str)> = match value {
                serde_json::Value::String(s) if !field.many => {
                    vec![(format!("spec.{}", field.field), s.as_str())]
                }
                serde_json::Value::Array(list) if field.many => list
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        v.as_str().map(|s| (format!("spec.{}.{i}", field.field), s))
                    })
                    .collect(),
                _ => continue,
            };
            for (path, text) in items {
                let Ok(target) = EntityRef::parse(text, field.default_kind, &e.namespace) else {
                    continue; // malformed: reported by the spec check
                };
                if catalog.get(&target).is_none() {
                    out.push(
                        Problem::new(
                            Severity::Error,
                            "dangling-reference",
                            format!("\"{path}\" refers to {target}, which is not in the catalog"),
                            &e.source.file,
                            e.source.line,
                            1,
                        )
                        .with_entity(e.entity_ref().to_string())
                        .at_field(e.source.document, path),
                    );
                }
            }
        }
    }
    out
}
