//! Scorecards: standards kept in the catalog as `idp.dev/v1alpha1`
//! `Scorecard` documents, evaluated locally and deterministically. The model
//! (`model`), compiling CEL and templates once per run (`compile`, with Port
//! query sugar in `query` and idp's CEL functions in `functions`), running
//! them over entities (`evaluate`, with live facts through the `facts`
//! seam, under the per-rule budget of `budget`), the CI gate (`gate`) and
//! the problems `idp validate` reports (`validate`, with undefined names
//! found by `names`). Nothing here prints or reads the clock: `now` is passed in.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod budget;
pub mod cache;
pub mod compile;
pub mod evaluate;
pub mod facts;
pub mod functions;
pub mod gate;
pub mod model;
pub mod names;
pub mod query;
pub mod validate;

use std::collections::HashSet;

pub use compile::{Issue, Scorecard};
pub use evaluate::{evaluate, CardResult, RunOptions, Scorecards, State, UnknownPolicy};
pub use facts::{Facts, LiveFacts, NoIntegrations};

use crate::catalog::{Catalog, Entity};

/// `apiVersion` of scorecard documents.
pub const API_VERSION: &str = crate::catalog::kinds::IDP_API_VERSION;
/// `kind` of scorecard documents.
pub const KIND: &str = crate::catalog::kinds::SCORECARD_KIND;

/// Whether an entity is a scorecard document.
pub fn is_scorecard(entity: &Entity) -> bool {
    crate::catalog::kinds::is_scorecard_kind(&entity.kind, &entity.api_version)
}

/// The catalog's scorecards, compiled, with the issues of each
/// (`(scorecard entity, issues)` for those that have any).
pub fn load(catalog: &Catalog) -> (Scorecards, Vec<(&Entity, Vec<Issue>)>) {
    let mut cards = Vec::new();
    let mut problems = Vec::new();
    for entity in catalog.entities.iter().filter(|e| is_scorecard(e)) {
        let outcome = compile::compile(entity);
        if !outcome.issues.is_empty() {
            problems.push((entity, outcome.issues));
        }
        cards.extend(outcome.scorecard);
    }
    (Scorecards::new(cards), problems)
}

/// Keys of the entities whose descriptor differs between `before` and
/// `after` (new ones included), for `--changed-since`.
pub fn changed_entities(before: &Catalog, after: &Catalog) -> HashSet<String> {
    after
        .entities
        .iter()
        .filter_map(|e| {
            let key = e.entity_ref().key();
            let same = before
                .get_key(&key)
                .is_some_and(|old| same_descriptor(old, e));
            (!same).then_some(key)
        })
        .collect()
}

/// Whether two entities have equal descriptors. Both read from indexes:
/// equal exactly when their JSON texts are, without parsing either
/// (the report's trend compares every entity of several older catalogs).
fn same_descriptor(a: &Entity, b: &Entity) -> bool {
    if let (Some(x), Some(y)) = (a.index_json(), b.index_json()) {
        return x == y;
    }
    a.doc() == b.doc()
}
