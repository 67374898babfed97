//! Entity pickers (`ui:field: OwnerPicker`, `EntityPicker`,
//! `MultiEntityPicker`): which catalog entities a field offers, honouring
//! `ui:options.catalogFilter` (one filter object or a list of them; keys
//! `kind`, `spec.type`, `metadata.*`, …; values a string, a list, or
//! `{exists: true}`), the legacy `allowedKinds`, `defaultKind` and
//! `defaultNamespace`; and checking a typed value against them.
//!
//! A picked entity is stored as Backstage stores it: the full reference
//! `kind:namespace/name` with a lowercase kind.

use serde_json::{Map, Value};

use crate::catalog::{Catalog, Entity};

use super::parameters::Field;

/// Which picker a field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerKind {
    /// `OwnerPicker`: Groups and Users unless filtered, default kind Group.
    Owner,
    /// `EntityPicker`: any entity unless filtered.
    Entity,
    /// `MultiEntityPicker`: a list of entities.
    MultiEntity,
}

/// An entity picker's settings.
#[derive(Debug, Clone)]
pub struct Picker {
    /// The picker.
    pub kind: PickerKind,
    /// Filter objects: an entity matching any of them is offered (`None`: all).
    filters: Option<Vec<Map<String, Value>>>,
    /// `ui:options.defaultKind`.
    pub default_kind: Option<String>,
    /// `ui:options.defaultNamespace`.
    pub default_namespace: Option<String>,
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

impl Picker {
    /// The picker a field uses, if it is one.
    pub fn of(field: &Field) -> Option<Picker> {
        let kind = match field.ui_field()? {
            "OwnerPicker" => PickerKind::Owner,
            "EntityPicker" => PickerKind::Entity,
            "MultiEntityPicker" => PickerKind::MultiEntity,
            _ => return None,
        };
        let opts = field.ui_options();
        let allowed_kinds = opts.get("allowedKinds").map(strings);
        let filters = match opts.get("catalogFilter") {
            Some(Value::Object(f)) => Some(vec![f.clone()]),
            Some(Value::Array(fs)) => {
                Some(fs.iter().filter_map(|f| f.as_object().cloned()).collect())
            }
            _ => allowed_kinds.map(|kinds| {
                let mut m = Map::new();
                m.insert("kind".into(), Value::from(kinds));
                vec![m]
            }),
        };
        let filters = match (kind, filters) {
            (PickerKind::Owner, None) => {
                let mut m = Map::new();
                m.insert("kind".into(), serde_json::json!(["Group", "User"]));
                Some(vec![m])
            }
            (_, f) => f,
        };
        let default_kind = opts
            .get("defaultKind")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| (kind == PickerKind::Owner).then(|| "Group".to_string()));
        let default_namespace = opts
            .get("defaultNamespace")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        Some(Picker {
            kind,
            filters,
            default_kind,
            default_namespace,
        })
    }

    /// Whether the value is a list of references.
    pub fn is_multi(&self) -> bool {
        self.kind == PickerKind::MultiEntity
    }

    /// A short description of what the picker offers (`Group or User`,
    /// `System with spec.type=…`), for messages.
    pub fn describe(&self) -> String {
        match &self.filters {
            None => "entity".to_string(),
            Some(fs) => fs
                .iter()
                .map(|f| {
                    f.iter()
                        .map(|(k, v)| {
                            let vals = strings(v);
                            if k == "kind" {
                                vals.join(" or ")
                            } else if vals.is_empty() {
                                format!("with {k}")
                            } else {
                                format!("with {k}={}", vals.join("|"))
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect::<Vec<_>>()
                .join(", or "),
        }
    }

    fn matches(&self, e: &Entity) -> bool {
        let Some(filters) = &self.filters else {
            return true;
        };
        filters.iter().any(|f| {
            f.iter().all(|(key, want)| {
                let have: Option<&Value> = if key == "kind" { None } else { e.lookup(key) };
                if want.get("exists").and_then(Value::as_bool) == Some(true) {
                    return key == "kind" || have.is_some_and(|h| !h.is_null());
                }
                let wanted = strings(want);
                if key == "kind" {
                    return wanted.iter().any(|w| w.eq_ignore_ascii_case(&e.kind));
                }
                let have_strings: Vec<String> = match have {
                    Some(Value::Array(a)) => a.iter().map(scalar).collect(),
                    Some(v) => vec![scalar(v)],
                    None => return false,
                };
                wanted
                    .iter()
                    .any(|w| have_strings.iter().any(|h| h.eq_ignore_ascii_case(w)))
            })
        })
    }

    /// The entities the picker offers, sorted by reference.
    pub fn candidates<'c>(&self, catalog: &'c Catalog) -> Vec<&'c Entity> {
        let mut out: Vec<&Entity> = catalog
            .entities
            .iter()
            .filter(|e| self.matches(e))
            .collect();
        out.sort_by_key(|e| e.entity_ref().key());
        out
    }

    /// What to show for an entity in a list: its reference without the
    /// default kind and namespace, then its title if it has one.
    pub fn label(&self, e: &Entity) -> String {
        let r = e.entity_ref();
        let ns_default = self.default_namespace.as_deref().unwrap_or("default");
        let kind_default = self
            .default_kind
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case(&r.kind));
        let mut text = if kind_default {
            String::new()
        } else {
            format!("{}:", r.kind)
        };
        if !r.namespace.eq_ignore_ascii_case(ns_default) {
            text.push_str(&format!("{}/", r.namespace));
        }
        text.push_str(&r.name);
        let title = e.display_name();
        if title != e.name {
            text.push_str(&format!(" — {title}"));
        }
        text
    }

    /// A typed reference completed with the default kind and namespace,
    /// as Backstage's picker stores free text (`payments` →
    /// `group:default/payments`); unchanged when it has no kind.
    pub fn complete(&self, text: &str) -> String {
        match super::filters::parse_entity_ref(
            text.trim(),
            self.default_kind.as_deref(),
            self.default_namespace.as_deref(),
        ) {
            Ok((kind, ns, name)) => format!("{}:{ns}/{name}", kind.to_ascii_lowercase()),
            Err(_) => text.to_string(),
        }
    }

    /// The value stored for a picked entity.
    pub fn value_of(e: &Entity) -> String {
        e.entity_ref().to_string()
    }

    /// Resolves what the user typed (a full or short reference, or a name)
    /// to one of the offered entities. The error says what was expected and
    /// suggests near names.
    pub fn resolve(&self, text: &str, catalog: &Catalog) -> Result<String, String> {
        let text = text.trim();
        let candidates = self.candidates(catalog);
        let (kind, namespace, name) = crate::catalog::refs::split_ref(text);
        let kind = kind.or(self.default_kind.as_deref());
        let namespace = namespace.or(self.default_namespace.as_deref());
        let found: Vec<&&Entity> = candidates
            .iter()
            .filter(|e| {
                e.name.eq_ignore_ascii_case(name)
                    && kind.is_none_or(|k| k.eq_ignore_ascii_case(&e.kind))
                    && namespace.is_none_or(|ns| ns.eq_ignore_ascii_case(&e.namespace))
            })
            .collect();
        // A kind given by default only is a preference: a name that is
        // unique among the offered entities is accepted whatever its kind.
        let found = if found.is_empty() && !text.contains(':') {
            candidates
                .iter()
                .filter(|e| {
                    e.name.eq_ignore_ascii_case(name)
                        && namespace.is_none_or(|ns| ns.eq_ignore_ascii_case(&e.namespace))
                })
                .collect()
        } else {
            found
        };
        match found.as_slice() {
            [one] => Ok(Picker::value_of(one)),
            [] => {
                let what = self.describe();
                let mut near: Vec<(f64, String)> = candidates
                    .iter()
                    .map(|e| {
                        (
                            strsim::jaro_winkler(
                                &e.name.to_ascii_lowercase(),
                                &name.to_ascii_lowercase(),
                            ),
                            Picker::value_of(e),
                        )
                    })
                    .filter(|(score, _)| *score > 0.75)
                    .collect();
                near.sort_by(|a, b| b.0.total_cmp(&a.0));
                let hint = if near.is_empty() {
                    if candidates.is_empty() {
                        " (the catalog has none)".to_string()
                    } else {
                        const SHOWN: usize = 8;
                        let more = candidates.len().saturating_sub(SHOWN);
                        format!(
                            "; choose one of: {}{}",
                            candidates
                                .iter()
                                .take(SHOWN)
                                .map(|e| Picker::value_of(e))
                                .collect::<Vec<_>>()
                                .join(", "),
                            if more > 0 {
                                format!(", … ({more} more)")
                            } else {
                                String::new()
                            }
                        )
                    }
                } else {
                    format!(
                        "; did you mean {}?",
                        near.into_iter()
                            .take(3)
                            .map(|(_, r)| r)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                Err(format!("{text:?} is not a {what} in the catalog{hint}"))
            }
            many => Err(format!(
                "{text:?} is ambiguous: {}; write the full reference",
                many.iter()
                    .map(|e| Picker::value_of(e))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `ui:field: RepoUrlPicker`: `host?owner=…&repo=…`, with the hosts and
/// owners the template allows.
#[derive(Debug, Clone, Default)]
pub struct RepoPicker {
    /// `ui:options.allowedHosts` (empty: any).
    pub allowed_hosts: Vec<String>,
    /// `ui:options.allowedOwners` (empty: any).
    pub allowed_owners: Vec<String>,
    /// `ui:options.allowedRepos` (empty: any).
    pub allowed_repos: Vec<String>,
}

impl RepoPicker {
    /// The repo picker a field uses, if it is one.
    pub fn of(field: &Field) -> Option<RepoPicker> {
        if field.ui_field() != Some("RepoUrlPicker") {
            return None;
        }
        let opts = field.ui_options();
        let list = |k: &str| opts.get(k).map(strings).unwrap_or_default();
        Some(RepoPicker {
            allowed_hosts: list("allowedHosts"),
            allowed_owners: list("allowedOwners"),
            allowed_repos: list("allowedRepos"),
        })
    }

    /// Checks a repo URL: it parses and its host and owner are allowed.
    pub fn check(&self, url: &str) -> Result<(), String> {
        let spec = super::filters::RepoSpec::parse(url)?;
        if !self.allowed_hosts.is_empty() && !self.allowed_hosts.contains(&spec.host) {
            return Err(format!(
                "host {} is not allowed; allowed hosts: {}",
                spec.host,
                self.allowed_hosts.join(", ")
            ));
        }
        if let Some(owner) = &spec.owner {
            if !self.allowed_owners.is_empty() && !self.allowed_owners.contains(owner) {
                return Err(format!(
                    "owner {owner} is not allowed; allowed owners: {}",
                    self.allowed_owners.join(", ")
                ));
            }
        }
        if !self.allowed_repos.is_empty() && !self.allowed_repos.contains(&spec.repo) {
            return Err(format!(
                "repo {} is not allowed; allowed repos: {}",
                spec.repo,
                self.allowed_repos.join(", ")
            ));
        }
        Ok(())
    }
}
