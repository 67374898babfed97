//! The seam for live facts: whatever supplies `live.<integration>` for an
//! entity (the integrations layer, a published snapshot, a test) implements
//! [`Facts`]. Until integrations exist, [`NoIntegrations`] supplies nothing,
//! and a rule that needs a live fact is `unknown` with the reason.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::catalog::Entity;

/// Why an integration absent from the facts has nothing, when the provider
/// does not say.
pub const NOT_CONFIGURED: &str = "no integration configured";

/// The live facts of one entity: one JSON object per integration, and the
/// integrations that could not answer, with why.
#[derive(Debug, Clone, Default)]
pub struct LiveFacts {
    /// `live.<integration>` → its facts.
    pub facts: Map<String, Value>,
    /// Integration → why it has no facts for this entity (timeout, 401, …);
    /// also `integration.fact` → why that one fact failed while the others
    /// of the integration were fetched.
    pub unavailable: BTreeMap<String, String>,
}

impl LiveFacts {
    /// The facts of `integration` that failed alone and that `text` (a
    /// rule's expression) names: `(integration.fact, why)`.
    pub fn missing_facts<'s>(
        &'s self,
        integration: &'s str,
        text: &'s str,
    ) -> impl Iterator<Item = (&'s str, &'s str)> + 's {
        self.unavailable.iter().filter_map(move |(k, why)| {
            let fact = k.strip_prefix(integration)?.strip_prefix('.')?;
            text.contains(fact).then_some((k.as_str(), why.as_str()))
        })
    }

    /// Why `live.<integration>` is missing, if it is.
    pub fn missing(&self, integration: &str) -> Option<String> {
        if self.facts.contains_key(integration) {
            return None;
        }
        Some(
            self.unavailable
                .get(integration)
                .cloned()
                .unwrap_or_else(|| NOT_CONFIGURED.to_string()),
        )
    }
}

/// Supplies live facts per entity. Implementations must answer from one
/// snapshot for the whole run (determinism), and must not block on the
/// network inside `facts`: fetch first, then evaluate.
pub trait Facts: Sync {
    /// The facts for one entity.
    fn facts(&self, entity: &Entity) -> LiveFacts;
}

/// No integrations: `live` is an empty object.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIntegrations;

impl Facts for NoIntegrations {
    fn facts(&self, _entity: &Entity) -> LiveFacts {
        LiveFacts::default()
    }
}

/// Fixed facts by entity key (`component:default/checkout`), for tests and
/// for a snapshot read from disk.
#[derive(Debug, Clone, Default)]
pub struct FactMap {
    /// Entity key → facts.
    pub by_entity: BTreeMap<String, LiveFacts>,
}

impl Facts for FactMap {
    fn facts(&self, entity: &Entity) -> LiveFacts {
        self.by_entity
            .get(&entity.entity_ref().key())
            .cloned()
            .unwrap_or_default()
    }
}

impl<T: Facts + ?Sized> Facts for &T {
    fn facts(&self, entity: &Entity) -> LiveFacts {
        (**self).facts(entity)
    }
}

impl<T: Facts + ?Sized> Facts for Box<T> {
    fn facts(&self, entity: &Entity) -> LiveFacts {
        (**self).facts(entity)
    }
}

/// Another provider's facts plus `live.cost` (the cost facts of each
/// entity, computed beforehand); an entity without cost data has `cost`
/// unavailable with `missing` as the reason, so rules on it are `unknown`.
pub struct WithCost<F> {
    /// The other facts.
    pub inner: F,
    /// Entity key → its `live.cost` object.
    pub cost: BTreeMap<String, Value>,
    /// Why an entity has none.
    pub missing: String,
}

impl<F: Facts> Facts for WithCost<F> {
    fn facts(&self, entity: &Entity) -> LiveFacts {
        let mut f = self.inner.facts(entity);
        match self.cost.get(&entity.entity_ref().key()) {
            Some(v) => {
                f.facts.insert("cost".into(), v.clone());
            }
            None => {
                f.unavailable.insert("cost".into(), self.missing.clone());
            }
        }
        f
    }
}
