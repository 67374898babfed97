//! The report's pages as data: one JSON value per page, built from
//! [`Inputs`]. Templates only lay these out; every decision (what counts,
//! what is worst, what links where) is made here, in a fixed order, so the
//! same inputs always give the same pages.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde_json::{json, Value};

use crate::catalog::graph::{neighbourhood, Direction};
use crate::catalog::history::CatalogChange;
use crate::catalog::ownership::{contacts, owner_info};
use crate::catalog::refs::{EntityRef, DEFAULT_NAMESPACE};
use crate::catalog::relations::RelationType;
use crate::catalog::{Catalog, Entity};
use crate::score::State;

use super::charts::{self, StackedRow};
use super::graph::{self, Node};
use super::{Inputs, Score};

/// A JSON object from `(key, value)` pairs, moving each value in: the
/// `json!` macro serializes its values again, a deep copy of every array
/// and object built before it (each entity page nests several).
fn object<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// How many changes the home page lists.
const RECENT: usize = 20;
/// How many entities furthest from their next level the home page lists.
const FURTHEST: usize = 10;

/// A page's id: its path without `.html` (`entity/component-default-x`).
pub fn page_id(entity: &Entity) -> String {
    let section = if entity.kind.eq_ignore_ascii_case("group") {
        "team"
    } else {
        "entity"
    };
    format!(
        "{section}/{}",
        slug(&format!(
            "{}-{}-{}",
            entity.kind, entity.namespace, entity.name
        ))
    )
}

/// The page id of a scorecard.
pub fn scorecard_id(name: &str) -> String {
    format!("scorecard/{}", slug(name))
}

/// A file-name-safe, case-folded form of `text`: `[a-z0-9-]` kept, every
/// other byte written as `_xx`, so distinct names never share a file.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.to_ascii_lowercase().bytes() {
        match b {
            b'a'..=b'z' | b'0'..=b'9' | b'-' => out.push(b as char),
            _ => out.push_str(&format!("_{b:02x}")),
        }
    }
    if out.len() > 150 {
        // Long names: a prefix and a checksum keep file names short.
        let sum = crc32fast::hash(out.as_bytes());
        out.truncate(140);
        out.push_str(&format!("_{sum:08x}"));
    }
    out
}

/// A rule's level id and safe docs link.
type RuleInfo<'a> = (Option<&'a str>, Option<String>);

/// Shared lookups over the inputs.
pub struct Index<'a> {
    inputs: &'a Inputs<'a>,
    results: HashMap<String, Vec<&'a Score>>,
    changes: HashMap<String, Vec<&'a CatalogChange>>,
    /// Per scorecard, per rule: its level's id and its safe docs link,
    /// worked out once rather than on every entity page.
    rules: HashMap<&'a str, Vec<RuleInfo<'a>>>,
}

impl<'a> Index<'a> {
    /// Indexes results and changes by entity.
    pub fn new(inputs: &'a Inputs<'a>) -> Self {
        let mut results: HashMap<String, Vec<&Score>> = HashMap::new();
        for r in inputs.results {
            results
                .entry(r.entity.to_ascii_lowercase())
                .or_default()
                .push(r);
        }
        let mut changes: HashMap<String, Vec<&CatalogChange>> = HashMap::new();
        for c in inputs.changes {
            changes
                .entry(c.entity.to_ascii_lowercase())
                .or_default()
                .push(c);
        }
        let rules = inputs
            .scorecards
            .cards
            .iter()
            .map(|card| {
                let rules = card
                    .rules
                    .iter()
                    .map(|rule| {
                        (
                            card.levels.get(rule.level).map(|l| l.id.as_str()),
                            rule.docs.as_deref().and_then(safe_url),
                        )
                    })
                    .collect();
                (card.name.as_str(), rules)
            })
            .collect();
        Index {
            inputs,
            results,
            changes,
            rules,
        }
    }

    fn catalog(&self) -> &'a Catalog {
        self.inputs.catalog
    }

    fn results_of(&self, key: &str) -> &[&'a Score] {
        self.results.get(key).map_or(&[], Vec::as_slice)
    }

    /// A link to the entity `r` names: its title and page, or just its
    /// reference when the catalog lacks it.
    fn link(&self, r: &EntityRef) -> Value {
        match self.catalog().get(r) {
            Some(e) => json!({"text": e.display_name(), "ref": r.to_string(), "page": page_id(e)}),
            None => json!({"text": r.to_string(), "ref": r.to_string(), "page": null}),
        }
    }

    fn entity_link(&self, e: &Entity) -> Value {
        json!({"text": e.display_name(), "ref": e.entity_ref().to_string(), "page": page_id(e)})
    }
}

/// The slot of a result in a level count: 0 below the first level, else
/// the level's index + 1.
fn slot(r: &Score) -> usize {
    r.level_index.map_or(0, |i| i + 1)
}

fn levels_legend(inputs: &Inputs, card: &crate::score::Scorecard) -> Value {
    let _ = inputs;
    let mut legend =
        vec![json!({"name": "below the first level", "colour": charts::level_colour(0)})];
    legend.extend(
        card.levels
            .iter()
            .enumerate()
            .map(|(i, l)| json!({"name": l.title, "colour": charts::level_colour(i + 1)})),
    );
    Value::Array(legend)
}

/// The home page.
pub fn home(ix: &Index) -> Value {
    let inputs = ix.inputs;
    let catalog = ix.catalog();
    let count = |f: &dyn Fn(&Entity) -> Option<String>| -> Vec<Value> {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for e in &catalog.entities {
            if let Some(k) = f(e) {
                *m.entry(k).or_default() += 1;
            }
        }
        let mut v: Vec<(String, usize)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.into_iter()
            .map(|(k, n)| json!({"name": k, "count": n}))
            .collect()
    };
    let kinds = count(&|e| Some(e.kind.clone()));
    let lifecycles = count(&|e| e.transient().spec_str("lifecycle").map(str::to_string));
    let mut owners = count(&|e| {
        e.related(RelationType::OwnedBy)
            .next()
            .map(|r| r.to_string())
    });
    owners.truncate(15);
    for o in &mut owners {
        let r = EntityRef::parse(o["name"].as_str().unwrap_or(""), None, DEFAULT_NAMESPACE).ok();
        o["link"] = r.map_or(Value::Null, |r| ix.link(&r));
    }
    let mut cards = Vec::new();
    let mut rows = Vec::new();
    for card in &inputs.scorecards.cards {
        let mut counts = vec![0usize; card.levels.len() + 1];
        for r in inputs.results.iter().filter(|r| r.scorecard == card.name) {
            counts[slot(r)] += 1;
        }
        rows.push(StackedRow {
            label: card.title.clone(),
            counts: counts.clone(),
        });
        let mut furthest: Vec<&Score> = inputs
            .results
            .iter()
            .filter(|r| r.scorecard == card.name && r.next_level.is_some())
            .collect();
        furthest.sort_by(|a, b| {
            (
                a.level_index.map_or(0, |i| i + 1),
                std::cmp::Reverse(a.needs),
                &a.entity,
            )
                .cmp(&(
                    b.level_index.map_or(0, |i| i + 1),
                    std::cmp::Reverse(b.needs),
                    &b.entity,
                ))
        });
        let furthest: Vec<Value> = furthest
            .iter()
            .take(FURTHEST)
            .map(|r| {
                json!({
                    "entity": key_link(ix, &r.entity),
                    "level": r.level.clone().unwrap_or_else(|| "none".into()),
                    "next": r.next_level,
                    "needs": r.needs,
                })
            })
            .collect();
        cards.push(json!({
            "name": card.name,
            "title": card.title,
            "page": scorecard_id(&card.name),
            "scored": counts.iter().sum::<usize>(),
            "furthest": furthest,
            "legend": levels_legend(inputs, card),
        }));
    }
    let chart = (!rows.is_empty())
        .then(|| charts::stacked("Share of entities at each scorecard level", &rows));
    let recent: Vec<Value> = inputs
        .changes
        .iter()
        .take(RECENT)
        .map(|c| change_row(ix, c, true))
        .collect();
    let teams: Vec<Value> = {
        let mut g: Vec<&Entity> = catalog.of_kind("group").collect();
        g.sort_by(|a, b| {
            a.display_name()
                .cmp(b.display_name())
                .then(a.name.cmp(&b.name))
        });
        g.iter().map(|e| ix.entity_link(e)).collect()
    };
    let sections: Vec<Value> = inputs
        .sections
        .iter()
        .filter_map(|s| {
            s.home()
                .map(|html| json!({"title": s.title(), "html": html}))
        })
        .collect();
    json!({
        "title": "Catalog",
        "total": catalog.entities.len(),
        "kinds": kinds,
        "lifecycles": lifecycles,
        "owners": owners,
        "scorecards": cards,
        "levels_chart": chart,
        "recent": recent,
        "problems": catalog.load_errors,
        "teams": teams,
        "sections": sections,
    })
}

fn key_link(ix: &Index, key: &str) -> Value {
    match EntityRef::parse(key, None, DEFAULT_NAMESPACE) {
        Ok(r) => ix.link(&r),
        Err(_) => json!({"text": key, "ref": key, "page": null}),
    }
}

fn change_row(ix: &Index, c: &CatalogChange, with_entity: bool) -> Value {
    let changes: Vec<String> = c
        .entry
        .changes
        .iter()
        .map(crate::catalog::changes::describe)
        .collect();
    json!({
        "entity": with_entity.then(|| key_link(ix, &c.entity)),
        "commit": &c.entry.commit[..c.entry.commit.len().min(10)],
        "date": &c.entry.date[..c.entry.date.len().min(10)],
        "author": c.entry.author,
        "summary": c.entry.summary,
        "changes": changes,
    })
}

/// A link that is safe to put in `href`: `http(s)` and `mailto` only.
pub fn safe_url(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    matches!(parsed.scheme(), "http" | "https" | "mailto").then(|| parsed.to_string())
}

/// An entity's page (not Groups: see [`team`]).
pub fn entity(ix: &Index, e: &Entity) -> Value {
    // Parsed for this page only (see `Entity::transient`).
    let held = e.transient();
    let e: &Entity = &held;
    let inputs = ix.inputs;
    let key = e.entity_ref().key();
    let field = |path: &str| {
        e.lookup(path).and_then(|v| match v {
            Value::String(s) => Some(Value::String(s.clone())),
            Value::Number(_) | Value::Bool(_) => Some(Value::String(v.to_string())),
            _ => None,
        })
    };
    let mut fields = Vec::new();
    for (label, path) in [
        ("Kind", "kind"),
        ("Namespace", "metadata.namespace"),
        ("Type", "spec.type"),
        ("Lifecycle", "spec.lifecycle"),
        ("Profile name", "spec.profile.displayName"),
        ("Email", "spec.profile.email"),
    ] {
        let value = if path == "kind" {
            Some(Value::String(e.kind.clone()))
        } else {
            field(path)
        };
        if let Some(v) = value {
            fields.push(json!({"label": label, "value": v}));
        }
    }
    let links: Vec<Value> = e
        .links()
        .iter()
        .map(|l| json!({"title": l.title.clone().unwrap_or_else(|| l.url.clone()), "url": safe_url(&l.url)}))
        .collect();
    let owner = e.related(RelationType::OwnedBy).next().map(|r| {
        let info = owner_info(ix.catalog(), r);
        let contacts: Vec<Value> = info
            .contacts
            .iter()
            .map(|c| contact(&c.kind, &c.value, c.label.as_deref()))
            .collect();
        object([
            ("link", ix.link(r)),
            ("email", json!(info.email)),
            ("contacts", Value::Array(contacts)),
            ("oncall", json!(inputs.oncall.get(&r.key()))),
        ])
    });
    let relations = relations(ix, e);
    let scores: Vec<Value> = ix
        .results_of(&key)
        .iter()
        .map(|r| {
            let card = inputs.scorecards.get(&r.scorecard);
            let rules: Vec<Value> = r
                .rules
                .iter()
                .filter_map(|o| {
                    let card = card?;
                    let rule = card.rules.get(o.rule)?;
                    let (level, docs) = ix.rules.get(card.name.as_str())?.get(o.rule)?;
                    Some(object([
                        ("title", Value::from(rule.title.as_str())),
                        ("level", Value::from(*level)),
                        ("state", Value::from(o.state.name())),
                        ("passed", Value::from(o.state.holds(false))),
                        ("message", Value::from(o.message.as_deref())),
                        ("docs", Value::from(docs.as_deref())),
                    ]))
                })
                .collect();
            object([
                ("scorecard", Value::from(r.scorecard.as_str())),
                (
                    "title",
                    Value::from(card.map_or(r.scorecard.as_str(), |c| c.title.as_str())),
                ),
                ("page", Value::from(scorecard_id(&r.scorecard))),
                ("level", Value::from(r.level.as_deref())),
                ("next", Value::from(r.next_level.as_deref())),
                ("rules", Value::Array(rules)),
            ])
        })
        .collect();
    let history: Vec<Value> = ix
        .changes
        .get(&key)
        .map(|v| v.iter().map(|c| change_row(ix, c, false)).collect())
        .unwrap_or_default();
    let yaml = crate::yaml::to_string(e.doc()).unwrap_or_default();
    let sections: Vec<Value> = inputs
        .sections
        .iter()
        .filter_map(|s| {
            s.entity(e)
                .map(|html| json!({"title": s.title(), "html": html}))
        })
        .collect();
    let page = object([
        ("title", Value::from(e.display_name())),
        ("ref", Value::from(e.entity_ref().to_string())),
        ("description", json!(e.metadata_str("description"))),
        ("fields", Value::Array(fields)),
        ("tags", json!(e.tags())),
        ("links", Value::Array(links)),
        ("owner", owner.unwrap_or(Value::Null)),
        (
            "system",
            e.related(RelationType::PartOf)
                .next()
                .map_or(Value::Null, |r| ix.link(r)),
        ),
        ("relations", Value::Array(relations)),
        ("scores", Value::Array(scores)),
        ("graph", Value::from(neighbourhood_svg(ix, e))),
        ("history", Value::Array(history)),
        ("yaml", Value::from(yaml)),
        (
            "file",
            Value::from(format!("{}:{}", e.source.file, e.source.line)),
        ),
        ("sections", Value::Array(sections)),
    ]);
    page
}

fn contact(kind: &str, value: &str, label: Option<&str>) -> Value {
    let url = match kind {
        "email" => safe_url(&format!("mailto:{value}")),
        _ => safe_url(value),
    };
    json!({"kind": kind, "text": label.unwrap_or(value), "url": url})
}

fn relations(ix: &Index, e: &Entity) -> Vec<Value> {
    let mut by_kind: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for r in &e.relations {
        by_kind
            .entry(r.kind.as_str())
            .or_default()
            .push(ix.link(&r.target));
    }
    by_kind
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_by(|a, b| a["ref"].as_str().cmp(&b["ref"].as_str()));
            object([("kind", Value::from(k)), ("targets", Value::Array(v))])
        })
        .collect()
}

fn neighbourhood_svg(ix: &Index, e: &Entity) -> Option<String> {
    let n = neighbourhood(ix.catalog(), e, 1, Direction::Both);
    let root = e.entity_ref().to_string();
    let index: HashMap<&str, usize> = n
        .nodes
        .iter()
        .enumerate()
        .map(|(i, (r, _, _))| (r.as_str(), i))
        .collect();
    let nodes: Vec<Node> = n
        .nodes
        .iter()
        .map(|(r, title, _)| Node {
            label: if title.is_empty() {
                r.clone()
            } else {
                title.clone()
            },
            focus: *r == root,
        })
        .collect();
    let edges: Vec<(usize, usize, String)> = n
        .edges
        .iter()
        .filter_map(|edge| {
            Some((
                *index.get(edge.from.as_str())?,
                *index.get(edge.to.as_str())?,
                edge.relation.clone(),
            ))
        })
        .collect();
    if edges.is_empty() {
        return None;
    }
    graph::svg(
        &format!("Dependencies of {}", e.display_name()),
        &nodes,
        &edges,
        false,
    )
}

/// A Group's page.
pub fn team(ix: &Index, g: &Entity) -> Value {
    let inputs = ix.inputs;
    let catalog = ix.catalog();
    let mut page = entity(ix, g);
    let links = |kind: RelationType| -> Vec<Value> {
        let mut v: Vec<Value> = g.related(kind).map(|r| ix.link(r)).collect();
        v.sort_by(|a, b| a["ref"].as_str().cmp(&b["ref"].as_str()));
        v
    };
    let owned: Vec<&Entity> = {
        let mut v: Vec<&Entity> = g
            .related(RelationType::OwnerOf)
            .filter_map(|r| catalog.get(r))
            .collect();
        v.sort_by_key(|e| e.entity_ref().to_string());
        v
    };
    let mut levels = Vec::new();
    let mut rows = Vec::new();
    let mut failing: BTreeMap<(String, String), usize> = BTreeMap::new();
    for card in &inputs.scorecards.cards {
        let mut counts = vec![0usize; card.levels.len() + 1];
        for e in &owned {
            for r in ix
                .results_of(&e.entity_ref().key())
                .iter()
                .filter(|r| r.scorecard == card.name)
            {
                counts[slot(r)] += 1;
                for o in r.rules.iter().filter(|o| o.state == State::Fail) {
                    if let Some(rule) = card.rules.get(o.rule) {
                        *failing
                            .entry((card.title.clone(), rule.title.clone()))
                            .or_default() += 1;
                    }
                }
            }
        }
        if counts.iter().sum::<usize>() > 0 {
            rows.push(StackedRow {
                label: card.title.clone(),
                counts: counts.clone(),
            });
            levels.push(json!({"title": card.title, "page": scorecard_id(&card.name), "legend": levels_legend(inputs, card)}));
        }
    }
    let mut worst: Vec<((String, String), usize)> = failing.into_iter().collect();
    worst.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let worst: Vec<Value> = worst
        .into_iter()
        .take(10)
        .map(|((card, rule), n)| json!({"scorecard": card, "rule": rule, "failing": n}))
        .collect();
    let owned_rows: Vec<Value> = owned
        .iter()
        .map(|e| {
            let lv: Vec<Value> = ix
                .results_of(&e.entity_ref().key())
                .iter()
                .map(|r| json!({"scorecard": r.scorecard, "level": r.level}))
                .collect();
            json!({"link": ix.entity_link(e), "kind": e.kind, "levels": lv})
        })
        .collect();
    let sections: Vec<Value> = inputs
        .sections
        .iter()
        .filter_map(|s| {
            s.team(g)
                .map(|html| json!({"title": s.title(), "html": html}))
        })
        .collect();
    let team_contacts: Vec<Value> = contacts(g)
        .iter()
        .map(|c| contact(&c.kind, &c.value, c.label.as_deref()))
        .collect();
    page["members"] = json!(links(RelationType::HasMember));
    page["subteams"] = json!(links(RelationType::ParentOf));
    page["parents"] = json!(links(RelationType::ChildOf));
    page["owned"] = json!(owned_rows);
    page["levels"] = json!(levels);
    page["levels_chart"] = json!((!rows.is_empty())
        .then(|| charts::stacked(&format!("Levels of what {} owns", g.display_name()), &rows)));
    page["worst"] = json!(worst);
    page["contacts"] = json!(team_contacts);
    page["oncall"] = json!(inputs.oncall.get(&g.entity_ref().key()));
    page["sections"] = json!(sections);
    page
}

/// A scorecard's page.
pub fn scorecard(ix: &Index, card: &crate::score::Scorecard) -> Value {
    let inputs = ix.inputs;
    let results: Vec<&Score> = inputs
        .results
        .iter()
        .filter(|r| r.scorecard == card.name)
        .collect();
    let rates: Vec<(String, f64)> = card
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let applicable: Vec<&State> = results
                .iter()
                .filter_map(|r| r.rules.iter().find(|o| o.rule == i).map(|o| &o.state))
                .filter(|s| **s != State::Skipped)
                .collect();
            let passed = applicable.iter().filter(|s| s.holds(false)).count();
            let pct = if applicable.is_empty() {
                0.0
            } else {
                100.0 * passed as f64 / applicable.len() as f64
            };
            (rule.title.clone(), pct)
        })
        .collect();
    let rules: Vec<Value> = card
        .rules
        .iter()
        .zip(&rates)
        .map(|(rule, (_, pct))| {
            json!({
                "id": rule.id,
                "title": rule.title,
                "level": card.levels.get(rule.level).map(|l| l.title.clone()),
                "pass_rate": format!("{pct:.0}%"),
                "docs": rule.docs.as_deref().and_then(safe_url),
            })
        })
        .collect();
    let mut counts = vec![0usize; card.levels.len() + 1];
    for r in &results {
        counts[slot(r)] += 1;
    }
    let distribution: Vec<Value> = counts
        .iter()
        .enumerate()
        .map(|(i, n)| json!({
            "name": if i == 0 { "below the first level".to_string() } else { card.levels[i - 1].title.clone() },
            "count": n,
            "colour": charts::level_colour(i),
        }))
        .collect();
    let mut entities: Vec<&&Score> = results.iter().collect();
    entities.sort_by(|a, b| (a.level_index, &a.entity).cmp(&(b.level_index, &b.entity)));
    let entities: Vec<Value> = entities
        .iter()
        .map(|r| {
            json!({
                "link": key_link(ix, &r.entity),
                "level": r.level,
                "next": r.next_level,
                "needs": r.needs,
            })
        })
        .collect();
    // The trend: share of entities at each level at each point, plus now.
    let mut dates: Vec<String> = Vec::new();
    let mut points: Vec<Vec<usize>> = Vec::new();
    for p in inputs.trend.wait() {
        if let Some(c) = p.counts.get(&card.name) {
            dates.push(p.date.clone());
            points.push(c.clone());
        }
    }
    let trend = (!points.is_empty()).then(|| {
        dates.push(inputs.now.format("%Y-%m-%d").to_string());
        points.push(counts.clone());
        let series: Vec<(usize, Vec<f64>)> = (0..counts.len())
            .map(|slot| {
                let values = points
                    .iter()
                    .map(|c| {
                        let total: usize = c.iter().sum();
                        if total == 0 {
                            0.0
                        } else {
                            100.0 * c.get(slot).copied().unwrap_or(0) as f64 / total as f64
                        }
                    })
                    .collect();
                (slot, values)
            })
            .collect();
        charts::trend(
            &format!(
                "Share of entities at each level of {}, week by week",
                card.title
            ),
            &dates,
            &series,
        )
    });
    json!({
        "title": card.title,
        "name": card.name,
        "kinds": card.kinds,
        "rules": rules,
        "rates_chart": (!rates.is_empty()).then(|| charts::percent_bars(&format!("Pass rate of each rule of {}", card.title), &rates)),
        "distribution": distribution,
        "levels_chart": charts::stacked(&format!("Levels of {}", card.title), &[StackedRow { label: card.title.clone(), counts: counts.clone() }]),
        "legend": levels_legend(inputs, card),
        "entities": entities,
        "trend_chart": trend,
        "trend_points": dates.len(),
    })
}

/// The system/domain map: one graph per domain (its systems and the
/// dependencies between them), and one for systems in no domain.
pub fn graph_page(ix: &Index) -> Value {
    let catalog = ix.catalog();
    let mut systems: Vec<&Entity> = catalog.of_kind("system").collect();
    systems.sort_by_key(|e| e.entity_ref().key());
    // System → systems it uses, through its parts' dependsOn / consumesApi.
    let system_of = |r: &EntityRef| -> Option<String> {
        catalog
            .get(r)
            .and_then(|e| e.related(RelationType::PartOf).find(|p| p.kind == "system"))
            .map(|p| p.key())
    };
    let mut uses: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for e in &catalog.entities {
        let Some(from) = system_of(&e.entity_ref()) else {
            continue;
        };
        for r in e
            .related(RelationType::DependsOn)
            .chain(e.related(RelationType::ConsumesApi))
        {
            if let Some(to) = system_of(r) {
                if to != from {
                    uses.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
    let mut groups: BTreeMap<String, Vec<&Entity>> = BTreeMap::new();
    for s in &systems {
        let domain = s
            .related(RelationType::PartOf)
            .find(|p| p.kind == "domain")
            .map(|d| d.key())
            .unwrap_or_default();
        groups.entry(domain).or_default().push(s);
    }
    let groups: Vec<(&String, &Vec<&Entity>)> = groups.iter().collect();
    let domains: Vec<Value> = groups
        .par_iter()
        .map(|(domain, members)| {
            let (domain, members) = (*domain, *members);
            let title = if domain.is_empty() {
                "Systems in no domain".to_string()
            } else {
                EntityRef::parse(domain, None, DEFAULT_NAMESPACE)
                    .map(|r| catalog.title_of(&r))
                    .unwrap_or_else(|_| domain.clone())
            };
            let mut nodes: Vec<Node> = Vec::new();
            let mut at: HashMap<String, usize> = HashMap::new();
            fn add(
                at: &mut HashMap<String, usize>,
                nodes: &mut Vec<Node>,
                key: &str,
                label: String,
                focus: bool,
            ) -> usize {
                *at.entry(key.to_string()).or_insert_with(|| {
                    nodes.push(Node { label, focus });
                    nodes.len() - 1
                })
            }
            let mut edges = Vec::new();
            let root =
                (!domain.is_empty()).then(|| add(&mut at, &mut nodes, domain, title.clone(), true));
            for s in members {
                let i = add(
                    &mut at,
                    &mut nodes,
                    &s.entity_ref().key(),
                    s.display_name().to_string(),
                    false,
                );
                if let Some(root) = root {
                    edges.push((root, i, "hasPart".to_string()));
                }
            }
            for s in members {
                let from = at[&s.entity_ref().key()];
                for to in uses.get(&s.entity_ref().key()).into_iter().flatten() {
                    let label = EntityRef::parse(to, None, DEFAULT_NAMESPACE)
                        .map(|r| catalog.title_of(&r))
                        .unwrap_or_else(|_| to.clone());
                    let t = add(&mut at, &mut nodes, to, label, false);
                    edges.push((from, t, "uses".to_string()));
                }
            }
            let svg = graph::svg(&format!("Map of {title}"), &nodes, &edges, true);
            let link = EntityRef::parse(domain, None, DEFAULT_NAMESPACE)
                .ok()
                .filter(|_| !domain.is_empty())
                .map(|r| ix.link(&r));
            json!({
                "title": title,
                "link": link,
                "svg": svg,
                "systems": members.iter().map(|s| ix.entity_link(s)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"title": "System map", "domains": domains})
}

/// The search index: one small record per entity.
pub fn search_index(ix: &Index) -> Value {
    let records: Vec<Value> = ix
        .catalog()
        .entities
        .iter()
        .map(|e| {
            // Parsed for this record only (see `Entity::transient`).
            let held = e.transient();
            let e: &Entity = &held;
            let owner = e
                .related(RelationType::OwnedBy)
                .next()
                .map(|r| r.name.clone())
                .unwrap_or_default();
            json!([
                page_id(e),
                e.name,
                e.display_name(),
                e.kind,
                e.metadata_str("description").unwrap_or(""),
                e.tags().join(" "),
                owner,
            ])
        })
        .collect();
    Value::Array(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_and_distinct() {
        assert_eq!(slug("component-default-web"), "component-default-web");
        assert_eq!(slug("a.b"), "a_2eb");
        assert_ne!(slug("a.b"), slug("a_b"));
        assert!(!slug("../../etc").contains('/'));
        assert!(slug(&"x".repeat(400)).len() <= 150);
    }

    #[test]
    fn only_web_and_mail_links_are_kept() {
        assert!(safe_url("https://example.com/x").is_some());
        assert!(safe_url("mailto:a@b.c").is_some());
        assert!(safe_url("javascript:alert(1)").is_none());
        assert!(safe_url(" JavaScript:alert(1)").is_none());
        assert!(safe_url("data:text/html,x").is_none());
        assert!(safe_url("/relative").is_none());
    }
}
