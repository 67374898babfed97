//! Checks across entities: the same entity defined twice, and references to
//! entities that do not exist.

use std::collections::HashMap;

use super::reuse::StoredRef;
use crate::catalog::problem::{Problem, Severity};
use crate::catalog::{Catalog, Entity};

/// One error per extra definition of an entity, pointing at the first.
pub fn duplicates(catalog: &Catalog) -> Vec<Problem> {
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, e) in catalog.entities.iter().enumerate() {
        let key = e.key();
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

/// Calls its second argument with each reference an entity writes.
pub type RefsOf<'a> = dyn FnMut(&Entity, &mut dyn FnMut(&StoredRef)) + 'a;

/// One error per reference whose target is not in the catalog. `refs`
/// calls its second argument with each reference an entity writes (see
/// `reuse::entity_refs`).
pub fn dangling_references(catalog: &Catalog, refs: &mut RefsOf) -> Vec<Problem> {
    let mut out = Vec::new();
    for e in &catalog.entities {
        refs(e, &mut |w: &StoredRef| {
            if catalog.get_key(&w.key).is_none() {
                out.push(
                    Problem::new(
                        Severity::Error,
                        "dangling-reference",
                        format!(
                            "\"{}\" refers to {}, which is not in the catalog",
                            w.path, w.target
                        ),
                        &e.source.file,
                        e.source.line,
                        1,
                    )
                    .with_entity(e.entity_ref().to_string())
                    .at_field(e.source.document, w.path.clone()),
                );
            }
        });
    }
    out
}
