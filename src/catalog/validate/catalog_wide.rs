//! Checks across entities: the same entity defined twice, and references to
//! entities that do not exist.

use std::collections::HashMap;

use crate::catalog::fields::written_refs;
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
        for w in written_refs(&e.kind_key(), e.doc().get("spec"))
            .into_iter()
            .filter(|w| w.well_formed)
        {
            let Ok(target) = EntityRef::parse(w.text, w.field.default_kind, &e.namespace) else {
                continue; // malformed: reported by the spec check
            };
            if catalog.get(&target).is_none() {
                out.push(
                    Problem::new(
                        Severity::Error,
                        "dangling-reference",
                        format!(
                            "\"{}\" refers to {target}, which is not in the catalog",
                            w.path
                        ),
                        &e.source.file,
                        e.source.line,
                        1,
                    )
                    .with_entity(e.entity_ref().to_string())
                    .at_field(e.source.document, w.path),
                );
            }
        }
    }
    out
}
