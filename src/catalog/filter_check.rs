//! Telling a typo from an empty answer: every value a filter names (a kind,
//! owner, system, domain, lifecycle, type, tag or sort field) is checked
//! against what the catalog holds, so `--kind componnet` fails with "did you
//! mean component?" instead of printing nothing. A value the catalog knows
//! is accepted even when the filters combined match nothing — that is a real
//! empty answer.
//!
//! Values compare the way [`super::query::filter`] matches them
//! (case-insensitively), and come from the same place completion offers them
//! from (the index, through [`super::facets`]). This module only decides;
//! the command turns a miss into a usage error naming its flag.

use std::collections::BTreeSet;

use super::facets::{distinct, Facet};
use super::kinds::BUILTIN_KINDS;
use super::query::{Filter, SortKey, FIELD_NAMES, TOP_LEVEL_KEYS};
use super::refs::EntityRef;
use super::relations::RelationType;
use super::Catalog;

/// Which filter a value was given to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterField {
    /// Entity kind.
    Kind,
    /// Owning group or user.
    Owner,
    /// System.
    System,
    /// Domain.
    Domain,
    /// `spec.lifecycle`.
    Lifecycle,
    /// `spec.type`.
    Type,
    /// A tag.
    Tag,
    /// A field to sort by.
    Sort,
}

impl FilterField {
    /// What the catalog lacks, in words ("kind", "owner", "sort field").
    pub fn noun(self) -> &'static str {
        match self {
            FilterField::Kind => "kind",
            FilterField::Owner => "owner",
            FilterField::System => "system",
            FilterField::Domain => "domain",
            FilterField::Lifecycle => "lifecycle",
            FilterField::Type => "type",
            FilterField::Tag => "tag",
            FilterField::Sort => "sort field",
        }
    }
}

/// A filter value nothing in the catalog has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(self))]
pub struct UnknownValue {
    /// The filter.
    pub field: FilterField,
    /// The value as typed.
    pub value: String,
    /// Up to three near values, nearest first.
    pub suggestions: Vec<String>,
    /// What the catalog does have (sorted), for a hint when nothing is near.
    pub known: Vec<String>,
}

fn describe(e: &UnknownValue) -> String {
    match e.field {
        FilterField::Sort => format!("'{}' is not a field to sort by", e.value),
        field => format!("the catalog has no {} '{}'", field.noun(), e.value),
    }
}

/// The first value of `filter` the catalog does not know.
pub fn check_filter(catalog: &Catalog, filter: &Filter) -> Result<(), UnknownValue> {
    if !filter.kinds.is_empty() {
        let known = kinds(catalog);
        for k in &filter.kinds {
            require(FilterField::Kind, k, &known)?;
        }
    }
    if let Some(owner) = &filter.owner {
        require_ref(catalog, FilterField::Owner, owner, RelationType::OwnedBy)?;
    }
    if let Some(system) = &filter.system {
        require_ref(catalog, FilterField::System, system, RelationType::PartOf)?;
    }
    if let Some(domain) = &filter.domain {
        require_ref(catalog, FilterField::Domain, domain, RelationType::PartOf)?;
    }
    for (field, facet, values) in [
        (FilterField::Lifecycle, Facet::Lifecycle, &filter.lifecycles),
        (FilterField::Type, Facet::Type, &filter.types),
        (FilterField::Tag, Facet::Tag, &filter.tags),
    ] {
        if values.is_empty() {
            continue;
        }
        let known: BTreeSet<String> = distinct(catalog, facet).into_keys().collect();
        for v in values {
            require(field, v, &known)?;
        }
    }
    Ok(())
}

/// Sort keys name a field [`super::query::field_values`] knows: a short
/// name, or a dotted path under a descriptor's top-level keys.
pub fn check_sort(keys: &[SortKey]) -> Result<(), UnknownValue> {
    let known: BTreeSet<String> = FIELD_NAMES
        .iter()
        .chain(TOP_LEVEL_KEYS)
        .map(|s| s.to_string())
        .collect();
    for key in keys {
        let head = key.field.split('.').next().unwrap_or_default();
        let dotted = key.field.contains('.') && TOP_LEVEL_KEYS.contains(&head);
        if !dotted && !known.contains(key.field.as_str()) {
            // A path under the wrong root suggests the root.
            let typed = if key.field.contains('.') {
                head
            } else {
                &key.field
            };
            let mut e = unknown(FilterField::Sort, typed, &known);
            e.value = key.field.clone();
            e.known = FIELD_NAMES.iter().map(|s| s.to_string()).collect();
            return Err(e);
        }
    }
    Ok(())
}

/// Kinds the catalog uses, declared custom kinds and the built-in kinds.
fn kinds(catalog: &Catalog) -> BTreeSet<String> {
    catalog
        .entities
        .iter()
        .map(|e| e.kind.clone())
        .chain(catalog.config.custom_kinds.iter().map(|k| k.kind.clone()))
        .chain(BUILTIN_KINDS.iter().map(|k| k.to_string()))
        .map(|k| k.to_ascii_lowercase())
        .collect()
}

fn require(field: FilterField, value: &str, known: &BTreeSet<String>) -> Result<(), UnknownValue> {
    if known.iter().any(|k| k.eq_ignore_ascii_case(value)) {
        Ok(())
    } else {
        Err(unknown(field, value, known))
    }
}

/// A reference is known when the entity exists or some entity points at it
/// through `relation` (an owner missing from the catalog still owns things).
fn require_ref(
    catalog: &Catalog,
    field: FilterField,
    wanted: &EntityRef,
    relation: RelationType,
) -> Result<(), UnknownValue> {
    let key = wanted.key();
    if catalog.get(wanted).is_some()
        || catalog
            .entities
            .iter()
            .any(|e| e.related(relation).any(|r| r.key() == key))
    {
        return Ok(());
    }
    // Candidates: entities of the kinds this filter takes, plus dangling
    // targets of the relation of those kinds, written as users type them.
    let kinds: &[&str] = match field {
        FilterField::Owner => &["group", "user"],
        FilterField::System => &["system"],
        _ => &["domain"],
    };
    let default_kind = kinds[0];
    let known: BTreeSet<String> = catalog
        .entities
        .iter()
        .filter(|e| kinds.contains(&e.kind_key().as_str()))
        .map(|e| e.entity_ref())
        .chain(
            catalog
                .entities
                .iter()
                .flat_map(|e| e.related(relation))
                .filter(|r| kinds.contains(&r.kind.as_str()))
                .cloned(),
        )
        .map(|r| r.short(Some(default_kind)))
        .collect();
    Err(unknown(field, &wanted.short(Some(default_kind)), &known))
}

/// The error for `value`, with the known values nearest to it.
fn unknown(field: FilterField, value: &str, known: &BTreeSet<String>) -> UnknownValue {
    let needle = value.to_ascii_lowercase();
    let mut near: Vec<(f64, &String)> = known
        .iter()
        .map(|k| {
            let candidate = k.to_ascii_lowercase();
            let mut score = strsim::jaro_winkler(&needle, &candidate);
            if needle.len() >= 3 && (candidate.contains(&needle) || needle.contains(&candidate)) {
                score = score.max(0.85);
            }
            (score, k)
        })
        .filter(|(score, _)| *score >= 0.8)
        .collect();
    near.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    UnknownValue {
        field,
        value: value.to_string(),
        suggestions: near.into_iter().take(3).map(|(_, k)| k.clone()).collect(),
        known: known.iter().cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(field: &str) -> SortKey {
        SortKey::parse(field)
    }

    #[test]
    fn sort_fields_are_short_names_or_paths_under_a_top_level_key() {
        assert!(check_sort(&[key("-name"), key("spec.lifecycle"), key("metadata.x.y")]).is_ok());
        let e = check_sort(&[key("nosuchfield")]).unwrap_err();
        assert_eq!(e.field, FilterField::Sort);
        let e = check_sort(&[key("-lifecyle")]).unwrap_err();
        assert_eq!(e.value, "lifecyle");
        assert_eq!(e.suggestions[0], "lifecycle");
        let e = check_sort(&[key("metdata.name")]).unwrap_err();
        assert_eq!(e.value, "metdata.name");
        assert_eq!(e.suggestions[0], "metadata");
    }

    #[test]
    fn near_values_are_suggested_case_insensitively() {
        let known: BTreeSet<String> = ["component", "api", "production"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(require(FilterField::Kind, "Component", &known).is_ok());
        let e = require(FilterField::Kind, "componnet", &known).unwrap_err();
        assert_eq!(e.suggestions, ["component"]);
        let e = require(FilterField::Lifecycle, "prod", &known).unwrap_err();
        assert_eq!(e.suggestions, ["production"]);
        let e = require(FilterField::Tag, "zzz", &known).unwrap_err();
        assert!(e.suggestions.is_empty());
        assert_eq!(e.known.len(), 3);
    }
}
