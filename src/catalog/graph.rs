//! The dependency graph: who is affected when an entity changes (`impact`),
//! and an entity's neighbourhood up and down (`graph`). Edges come from the
//! computed relations; cycles are detected, and references to entities that
//! are not in the catalog are kept (shown, never fatal).

use std::collections::{HashMap, HashSet, VecDeque};

use serde::Serialize;

use super::model::Entity;
use super::ownership::{contacts, Contact};
use super::refs::EntityRef;
use super::relations::RelationType;
use super::Catalog;

/// One entity affected by a change to the root.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dependent {
    /// Full reference.
    pub entity: String,
    /// Title or name.
    pub title: String,
    /// Hops from the root (1 = direct).
    pub depth: usize,
    /// The dependent this one was reached through (`[]` when direct): one
    /// entry, not the whole path, so the answer grows linearly with the
    /// number of dependents; follow `via` to rebuild the path.
    pub via: Vec<String>,
    /// How it is tied to the previous entity on the path (`dependencyOf`,
    /// `apiConsumedBy`, …), seen from that entity.
    pub relation: String,
    /// Owner reference, when known.
    pub owner: Option<String>,
    /// How to reach the owner (email, chat), best first.
    pub contacts: Vec<Contact>,
    /// Whether the entity exists in the catalog (a dangling reference is shown).
    pub exists: bool,
}

/// `impact` result.
#[derive(Debug, Clone, Serialize)]
pub struct Impact {
    /// The entity asked about.
    pub entity: String,
    /// Everything that depends on it, by depth then name.
    pub dependents: Vec<Dependent>,
}

/// Relations along which a change propagates, from the changed entity to
/// the entities it affects.
fn impact_edges(entity: &Entity) -> impl Iterator<Item = (RelationType, &EntityRef)> {
    let kind = entity.kind_key();
    entity.relations.iter().filter_map(move |r| {
        let follow = match r.kind {
            // Y dependsOn X; consumers of an API; the APIs X provides.
            RelationType::DependencyOf
            | RelationType::ApiConsumedBy
            | RelationType::ProvidesApi => true,
            // Subcomponents of a component (not every part of a system).
            RelationType::HasPart => kind == "component" && r.target.kind == "component",
            // The system and domain above.
            RelationType::PartOf => matches!(r.target.kind.as_str(), "system" | "domain"),
            _ => false,
        };
        follow.then_some((r.kind, &r.target))
    })
}

/// Everything that depends on `root`, transitively, breadth first, up to
/// `max_depth` hops (`None`: no limit). Each entity appears once, at its
/// shortest distance.
pub fn impact(catalog: &Catalog, root: &Entity, max_depth: Option<usize>) -> Impact {
    let root_ref = root.entity_ref();
    let mut seen: HashSet<String> = HashSet::from([root_ref.key()]);
    // Each queued entity points at the dependent it was reached through (an
    // index into `out`); paths are built once at the end, not copied per hop.
    let mut queue: VecDeque<(EntityRef, usize, Option<usize>)> =
        VecDeque::from([(root_ref.clone(), 0, None)]);
    let mut out: Vec<Dependent> = Vec::new();
    let mut parent_of: Vec<Option<usize>> = Vec::new();
    let mut owner_contacts: HashMap<String, Vec<Contact>> = HashMap::new();
    while let Some((current, depth, via_index)) = queue.pop_front() {
        if max_depth.is_some_and(|m| depth >= m) {
            continue;
        }
        let Some(entity) = catalog.get(&current) else {
            continue;
        };
        for (relation, target) in impact_edges(entity) {
            if !seen.insert(target.key()) {
                continue;
            }
            let found = catalog.get(target);
            let owner = found.and_then(|e| e.related(RelationType::OwnedBy).next().cloned());
            let contacts_of_owner = owner
                .as_ref()
                .map(|o| {
                    owner_contacts
                        .entry(o.key())
                        .or_insert_with(|| catalog.get(o).map(contacts).unwrap_or_default())
                        .clone()
                })
                .unwrap_or_default();
            out.push(Dependent {
                entity: target.to_string(),
                title: found.map_or_else(|| target.name.clone(), |e| e.display_name().to_string()),
                depth: depth + 1,
                via: Vec::new(),
                relation: relation.as_str().to_string(),
                owner: owner.map(|o| o.to_string()),
                contacts: contacts_of_owner,
                exists: found.is_some(),
            });
            parent_of.push(via_index);
            queue.push_back((target.clone(), depth + 1, Some(out.len() - 1)));
        }
    }
    for i in 0..out.len() {
        out[i].via = parent_of[i]
            .map(|p| out[p].entity.clone())
            .into_iter()
            .collect();
    }
    out.sort_by(|a, b| (a.depth, &a.entity).cmp(&(b.depth, &b.entity)));
    Impact {
        entity: root_ref.to_string(),
        dependents: out,
    }
}

/// Which way to walk from the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// What the root uses: dependencies, consumed APIs, the system above.
    Up,
    /// What uses the root: dependents, consumers, parts.
    Down,
    /// Both.
    Both,
}

/// Edges "uses": `from` depends on `to` in some way.
fn up_edges(entity: &Entity) -> impl Iterator<Item = (RelationType, &EntityRef)> {
    entity.relations.iter().filter_map(|r| {
        matches!(
            r.kind,
            RelationType::DependsOn
                | RelationType::ConsumesApi
                | RelationType::ProvidesApi
                | RelationType::PartOf
        )
        .then_some((r.kind, &r.target))
    })
}

/// Edges "used by": the inverse of [`up_edges`].
fn down_edges(entity: &Entity) -> impl Iterator<Item = (RelationType, &EntityRef)> {
    entity.relations.iter().filter_map(|r| {
        matches!(
            r.kind,
            RelationType::DependencyOf
                | RelationType::ApiConsumedBy
                | RelationType::ApiProvidedBy
                | RelationType::HasPart
        )
        .then_some((r.kind, &r.target))
    })
}

/// A node of the neighbourhood tree.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TreeNode {
    /// Full reference.
    pub entity: String,
    /// Title or name.
    pub title: String,
    /// Relation from the parent node to this one (`None` for the root).
    pub relation: Option<String>,
    /// Whether it exists in the catalog.
    pub exists: bool,
    /// This node closes a cycle (it is one of its own ancestors).
    pub cycle: bool,
    /// Already expanded elsewhere in the tree; children not repeated.
    pub repeated: bool,
    /// Deeper than the tree nests ([`MAX_TREE_DEPTH`]): its children are in
    /// `nodes` and `edges` only (a long chain would make the nested output
    /// grow with the square of its length).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Children.
    pub children: Vec<TreeNode>,
}

/// Deepest nesting of the `uses` / `usedBy` trees.
pub const MAX_TREE_DEPTH: usize = 50;

/// A graph edge, for dot and mermaid.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Hash)]
pub struct Edge {
    /// Source reference.
    pub from: String,
    /// Target reference.
    pub to: String,
    /// Relation name (`dependsOn`, `consumesApi`, `providesApi`, `partOf`).
    pub relation: String,
}

/// The neighbourhood of an entity.
#[derive(Debug, Clone, Serialize)]
pub struct Neighbourhood {
    /// The root.
    pub entity: String,
    /// What the root uses (direction up), as a tree.
    pub uses: Vec<TreeNode>,
    /// What uses the root (direction down), as a tree.
    #[serde(rename = "usedBy")]
    pub used_by: Vec<TreeNode>,
    /// Every node, with its title and whether it exists.
    pub nodes: Vec<(String, String, bool)>,
    /// Every edge, always pointing from user to used.
    pub edges: Vec<Edge>,
    /// Whether any cycle was found.
    pub has_cycle: bool,
}

/// The entity's neighbourhood, `depth` hops up and/or down.
pub fn neighbourhood(
    catalog: &Catalog,
    root: &Entity,
    depth: usize,
    direction: Direction,
) -> Neighbourhood {
    let root_ref = root.entity_ref();
    let mut walk = Walk {
        catalog,
        expanded: HashSet::new(),
        nodes: HashMap::new(),
        edges: Vec::new(),
        has_cycle: false,
    };
    walk.note(&root_ref);
    let mut uses = Vec::new();
    let mut used_by = Vec::new();
    if direction != Direction::Down {
        walk.expanded.clear();
        uses = walk.children(&root_ref, depth, true, &mut vec![root_ref.key()]);
    }
    if direction != Direction::Up {
        walk.expanded.clear();
        used_by = walk.children(&root_ref, depth, false, &mut vec![root_ref.key()]);
    }
    let mut nodes: Vec<(String, String, bool)> = walk.nodes.into_values().collect();
    nodes.sort();
    let mut edges = walk.edges;
    edges.sort_by(|a, b| (&a.from, &a.to, &a.relation).cmp(&(&b.from, &b.to, &b.relation)));
    edges.dedup();
    Neighbourhood {
        entity: root_ref.to_string(),
        uses,
        used_by,
        nodes,
        edges,
        has_cycle: walk.has_cycle,
    }
}

struct Walk<'a> {
    catalog: &'a Catalog,
    expanded: HashSet<String>,
    nodes: HashMap<String, (String, String, bool)>,
    edges: Vec<Edge>,
    has_cycle: bool,
}

impl Walk<'_> {
    fn note(&mut self, r: &EntityRef) {
        let found = self.catalog.get(r);
        self.nodes.entry(r.key()).or_insert_with(|| {
            (
                r.to_string(),
                found.map_or_else(|| r.name.clone(), |e| e.display_name().to_string()),
                found.is_some(),
            )
        });
    }

    fn children(
        &mut self,
        from: &EntityRef,
        depth: usize,
        up: bool,
        ancestors: &mut Vec<String>,
    ) -> Vec<TreeNode> {
        if depth == 0 {
            return Vec::new();
        }
        let Some(entity) = self.catalog.get(from) else {
            return Vec::new();
        };
        self.expanded.insert(from.key());
        let targets: Vec<(RelationType, EntityRef)> = if up {
            up_edges(entity).map(|(k, t)| (k, t.clone())).collect()
        } else {
            down_edges(entity).map(|(k, t)| (k, t.clone())).collect()
        };
        let mut out = Vec::new();
        for (relation, target) in targets {
            self.note(&target);
            // Edges always point from the user to the used.
            let (a, b, name) = if up {
                (from.to_string(), target.to_string(), relation.as_str())
            } else {
                (
                    target.to_string(),
                    from.to_string(),
                    relation.inverse().as_str(),
                )
            };
            self.edges.push(Edge {
                from: a,
                to: b,
                relation: name.to_string(),
            });
            let key = target.key();
            let cycle = ancestors.contains(&key);
            self.has_cycle |= cycle;
            let repeated = !cycle && self.expanded.contains(&key);
            let found = self.catalog.get(&target);
            let mut children = if cycle || repeated {
                Vec::new()
            } else {
                ancestors.push(key);
                let c = self.children(&target, depth - 1, up, ancestors);
                ancestors.pop();
                c
            };
            // Still walked (for nodes and edges), no longer nested.
            let truncated = ancestors.len() >= MAX_TREE_DEPTH && !children.is_empty();
            if truncated {
                children.clear();
            }
            out.push(TreeNode {
                entity: target.to_string(),
                title: found.map_or_else(|| target.name.clone(), |e| e.display_name().to_string()),
                relation: Some(relation.as_str().to_string()),
                exists: found.is_some(),
                cycle,
                repeated,
                truncated,
                children,
            });
        }
        out
    }
}
