//! Relations between entities, computed from reference fields in both
//! directions (ownedBy/ownerOf, partOf/hasPart, …) as Backstage's catalog does.
//! This module knows the relation vocabulary and how to derive the edges; it
//! does not check that targets exist (validation does).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::fields::written_refs;
use super::model::Entity;
use super::refs::EntityRef;

/// Backstage's relation types. Each has an inverse; the names say what the
/// holder is to the target (`OwnedBy`: the holder is owned by the target).
#[allow(missing_docs)] // the variants are Backstage's vocabulary, named as such
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub enum RelationType {
    OwnedBy,
    OwnerOf,
    PartOf,
    HasPart,
    DependsOn,
    DependencyOf,
    ProvidesApi,
    ApiProvidedBy,
    ConsumesApi,
    ApiConsumedBy,
    MemberOf,
    HasMember,
    ChildOf,
    ParentOf,
}

impl RelationType {
    /// The relation seen from the other end.
    pub fn inverse(self) -> Self {
        use RelationType::*;
        match self {
            OwnedBy => OwnerOf,
            OwnerOf => OwnedBy,
            PartOf => HasPart,
            HasPart => PartOf,
            DependsOn => DependencyOf,
            DependencyOf => DependsOn,
            ProvidesApi => ApiProvidedBy,
            ApiProvidedBy => ProvidesApi,
            ConsumesApi => ApiConsumedBy,
            ApiConsumedBy => ConsumesApi,
            MemberOf => HasMember,
            HasMember => MemberOf,
            ChildOf => ParentOf,
            ParentOf => ChildOf,
        }
    }

    /// Backstage's camelCase name (`ownedBy`).
    pub fn as_str(self) -> &'static str {
        use RelationType::*;
        match self {
            OwnedBy => "ownedBy",
            OwnerOf => "ownerOf",
            PartOf => "partOf",
            HasPart => "hasPart",
            DependsOn => "dependsOn",
            DependencyOf => "dependencyOf",
            ProvidesApi => "providesApi",
            ApiProvidedBy => "apiProvidedBy",
            ConsumesApi => "consumesApi",
            ApiConsumedBy => "apiConsumedBy",
            MemberOf => "memberOf",
            HasMember => "hasMember",
            ChildOf => "childOf",
            ParentOf => "parentOf",
        }
    }
}

/// One directed edge from the entity that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Relation {
    /// The relation type, seen from the holder.
    #[serde(rename = "type")]
    pub kind: RelationType,
    /// The other end.
    #[serde(rename = "targetRef")]
    pub target: EntityRef,
}

/// The outgoing references of one entity as written in its spec, parsed with
/// each field's default kind. Unparseable references are skipped here;
/// validation reports them.
pub fn declared_references(entity: &Entity) -> Vec<(RelationType, EntityRef)> {
    written_refs(&entity.kind_key(), entity.doc().get("spec"))
        .into_iter()
        .filter_map(|w| {
            EntityRef::parse(w.text, w.field.default_kind, &entity.namespace)
                .ok()
                .map(|target| (w.field.relation, target))
        })
        .collect()
}

/// Fills every entity's `relations` from all entities' declared references,
/// adding the inverse edge to the target when the target exists. Edges are
/// deduplicated (a Group's `members` and a User's `memberOf` state the same fact)
/// and sorted for stable output. Parsing references runs on all cores.
pub fn compute_relations(entities: &mut [Entity], index_of: impl Fn(&str) -> Option<usize> + Sync) {
    let outgoing: Vec<Vec<(RelationType, Result<usize, EntityRef>)>> = entities
        .par_iter()
        .map(|e| {
            // Parsed for this pass only where the descriptor is still the
            // index's text (a catalog rebuilt from changed files).
            declared_references(&e.transient())
                .into_iter()
                .map(|(kind, target)| (kind, index_of(&target.key()).ok_or(target)))
                .collect()
        })
        .collect();
    // Targets as spelled in their own descriptors.
    let refs: Vec<EntityRef> = entities.iter().map(Entity::entity_ref).collect();
    let mut edges: Vec<Vec<Relation>> = vec![Vec::new(); entities.len()];
    for (i, out) in outgoing.into_iter().enumerate() {
        for (kind, target) in out {
            match target {
                Ok(j) => {
                    edges[j].push(Relation {
                        kind: kind.inverse(),
                        target: refs[i].clone(),
                    });
                    edges[i].push(Relation {
                        kind,
                        target: refs[j].clone(),
                    });
                }
                Err(dangling) => edges[i].push(Relation {
                    kind,
                    target: dangling,
                }),
            }
        }
    }
    entities
        .par_iter_mut()
        .zip(edges)
        .for_each(|(entity, mut list)| {
            list.sort_by_cached_key(|r| (r.kind, r.target.key()));
            list.dedup_by(|a, b| a.kind == b.kind && a.target.key() == b.target.key());
            entity.relations = list.into();
        });
}
