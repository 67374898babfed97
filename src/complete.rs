//! Completion candidates drawn from the catalog: entity names for entity
//! arguments, groups for `--owner`, systems for `--system`, the kinds,
//! lifecycles, types and tags the catalog actually uses, and so on.
//!
//! It owns *what* to offer for a word being typed and how to open the
//! catalog for that without a sound: offline, through the warm index, and
//! returning nothing (never an error) when no catalog is configured or it
//! cannot be read, so the shell falls back to its static completion. It does
//! not know about shells or clap; `commands/completions.rs` wires it in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rayon::prelude::*;

use crate::catalog::config::{Dirs, UserConfig};
use crate::catalog::discover::find_catalog;
use crate::catalog::facets::{distinct, Facet};
use crate::catalog::kinds::BUILTIN_KINDS;
use crate::catalog::open::{open, OpenOptions, Opened};
use crate::catalog::query::FIELD_NAMES;
use crate::catalog::remote::FetchPolicy;
use crate::catalog::{Catalog, Entity};

/// What an argument takes, and so which values to offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Any entity: bare names, `kind:name` and `namespace/name` forms.
    Entity,
    /// An owner: Groups and Users.
    Owner,
    /// Entities of one kind (lowercase, e.g. `system`, `domain`, `template`).
    OfKind(&'static str),
    /// Kinds present in the catalog (lowercase), plus the built-in ones.
    Kind,
    /// The built-in kinds only (no catalog needed).
    BuiltinKind,
    /// `spec.lifecycle` values seen in the catalog.
    Lifecycle,
    /// `spec.type` values seen in the catalog.
    Type,
    /// `metadata.tags` values seen in the catalog.
    Tag,
    /// The fields `list --sort` knows by name (no catalog needed).
    SortField,
}

impl ValueKind {
    /// Whether candidates come from the catalog (so it must be opened).
    pub fn needs_catalog(self) -> bool {
        !matches!(self, ValueKind::BuiltinKind | ValueKind::SortField)
    }
}

/// One value to offer, with a short description for shells that show one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The text inserted on the command line.
    pub value: String,
    /// A one-line description (the entity title, a count, …).
    pub help: Option<String>,
}

impl Candidate {
    fn new(value: impl Into<String>, help: Option<String>) -> Self {
        Candidate {
            value: value.into(),
            help,
        }
    }
}

/// Where the catalog is, as far as the partial command line tells.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    /// `--catalog` from the command line or `IDP_CATALOG`.
    pub catalog: Option<String>,
    /// `--ref` from the command line.
    pub rev: Option<String>,
    /// The shell's working directory.
    pub cwd: PathBuf,
}

/// Opens the catalog for completion: offline (a TAB never waits on the
/// network), through the on-disk index. `None` for every failure — no
/// catalog configured, a missing directory, a corrupt `idp.yaml`, a bad ref.
pub fn open_quietly(lookup: &Lookup, dirs: &Dirs) -> Option<Opened> {
    let user = match lookup.catalog {
        Some(_) => UserConfig::default(),
        None => UserConfig::load(dirs).ok()?,
    };
    let (location, _) = find_catalog(lookup.catalog.as_deref(), &user, &lookup.cwd).ok()?;
    open(&OpenOptions {
        location: &location,
        rev: lookup.rev.as_deref(),
        fetch: FetchPolicy {
            offline: true,
            force: false,
            interval: Duration::from_secs(u64::MAX / 4),
        },
        dirs,
        use_index: true,
        extra_files: &[],
        defer_index_write: false,
    })
    .ok()
}

/// The candidates for `current` (the word being completed) of an argument
/// taking `what`. Matching is a case-insensitive prefix match, as entity
/// lookups are case-insensitive. `catalog` is `None` when it could not be
/// opened: only catalog-free candidates are offered then.
pub fn candidates(catalog: Option<&Catalog>, what: ValueKind, current: &str) -> Vec<Candidate> {
    let all = match (what, catalog) {
        (ValueKind::BuiltinKind, _) => builtin_kinds(),
        (ValueKind::SortField, _) => sort_fields(current),
        (ValueKind::Kind, c) => kinds(c),
        (_, None) => Vec::new(),
        (ValueKind::Entity, Some(c)) => return entities(c, current),
        (ValueKind::Owner, Some(c)) => named(
            c.entities
                .iter()
                .filter(|e| matches!(e.kind_key().as_str(), "group" | "user")),
        ),
        (ValueKind::OfKind(kind), Some(c)) => named(c.of_kind(kind)),
        (ValueKind::Lifecycle | ValueKind::Type | ValueKind::Tag, Some(c)) => facet(c, what),
    };
    all.into_iter()
        .filter(|c| starts_with_ignore_case(&c.value, current))
        .collect()
}

/// Entity arguments: `kind:` narrows to one kind (`api:check` →
/// `api:checkout-api`), `namespace/` to one namespace; otherwise bare names,
/// one per name, described by the entity a bare name resolves to (the
/// Component first), plus the `kind:` prefixes that match what is typed.
fn entities(catalog: &Catalog, current: &str) -> Vec<Candidate> {
    if let Some((kind, rest)) = current.split_once(':') {
        let key = kind.to_ascii_lowercase();
        let matching: BTreeMap<String, &Entity> = catalog
            .of_kind(&key)
            .filter_map(|e| {
                let tail = qualified_name(e, rest.contains('/'));
                starts_with_ignore_case(&tail, rest).then(|| (format!("{kind}:{tail}"), e))
            })
            .collect();
        return described(matching.into_iter().collect());
    }
    let qualified = current.contains('/');
    // name → the entity a bare name means (Component first, then by kind).
    let mut by_name: BTreeMap<String, &Entity> = BTreeMap::new();
    for e in &catalog.entities {
        let name = qualified_name(e, qualified);
        if !starts_with_ignore_case(&name, current) {
            continue;
        }
        by_name
            .entry(name)
            .and_modify(|seen| {
                if preference(e) < preference(seen) {
                    *seen = e;
                }
            })
            .or_insert(e);
    }
    let mut out = described(by_name.into_iter().collect());
    if !current.is_empty() && !qualified {
        let mut kinds: Vec<String> = catalog.entities.iter().map(Entity::kind_key).collect();
        kinds.sort();
        kinds.dedup();
        out.extend(
            kinds
                .into_iter()
                .filter(|k| starts_with_ignore_case(k, current))
                .map(|k| Candidate::new(format!("{k}:"), Some(format!("any {k}")))),
        );
    }
    out
}

/// `name`, or `namespace/name` when asked for or outside `default`.
fn qualified_name(e: &Entity, with_namespace: bool) -> String {
    if with_namespace || e.namespace != "default" {
        format!("{}/{}", e.namespace, e.name)
    } else {
        e.name.clone()
    }
}

/// Which entity a bare name resolves to: the Component first.
fn preference(e: &Entity) -> (bool, String) {
    (e.kind_key() != "component", e.kind_key())
}

/// "Checkout Service (Component)". Only Users and Groups keep their
/// display name in the document; for the other kinds the indexed title
/// avoids parsing the document at all.
fn describe(e: &Entity) -> String {
    let shown = match e.kind_key().as_str() {
        "user" | "group" => e.display_name(),
        _ => e.title.as_deref().unwrap_or(&e.name),
    };
    format!("{shown} ({})", e.kind)
}

/// Candidates for `(value, entity)` pairs, described in parallel: on a large
/// catalog, reading display names is most of the work of a TAB.
fn described(pairs: Vec<(String, &Entity)>) -> Vec<Candidate> {
    pairs
        .into_par_iter()
        .map(|(value, e)| Candidate::new(value, Some(describe(e))))
        .collect()
}

/// Names of the given entities, described by their titles.
fn named<'a>(entities: impl Iterator<Item = &'a Entity>) -> Vec<Candidate> {
    let mut by_name: BTreeMap<String, &Entity> = BTreeMap::new();
    for e in entities {
        by_name.entry(qualified_name(e, false)).or_insert(e);
    }
    described(by_name.into_iter().collect())
}

/// Distinct values of one field over the catalog, with counts.
fn facet(catalog: &Catalog, what: ValueKind) -> Vec<Candidate> {
    let facet = match what {
        ValueKind::Lifecycle => Facet::Lifecycle,
        ValueKind::Type => Facet::Type,
        _ => Facet::Tag,
    };
    let counts = distinct(catalog, facet);
    counted(counts.iter().map(|(k, n)| (k.as_str(), *n)).collect())
}

/// Values with their counts, sorted, each described by how many entities use it.
fn counted(counts: BTreeMap<&str, usize>) -> Vec<Candidate> {
    counts
        .into_iter()
        .filter(|(v, _)| !v.is_empty())
        .map(|(v, n)| {
            let help = format!("{n} entit{}", if n == 1 { "y" } else { "ies" });
            Candidate::new(v, Some(help))
        })
        .collect()
}

/// Kinds the catalog uses, then the built-in ones it does not.
fn kinds(catalog: Option<&Catalog>) -> Vec<Candidate> {
    let mut out = catalog
        .map(|c| {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for e in &c.entities {
                *counts.entry(e.kind.as_str()).or_default() += 1;
            }
            counted(counts)
        })
        .unwrap_or_default();
    for c in &mut out {
        c.value = c.value.to_ascii_lowercase();
    }
    for k in builtin_kinds() {
        if !out.iter().any(|c| c.value == k.value) {
            out.push(k);
        }
    }
    out
}

fn builtin_kinds() -> Vec<Candidate> {
    BUILTIN_KINDS
        .iter()
        .map(|k| Candidate::new(k.to_ascii_lowercase(), Some(format!("{k} entities"))))
        .collect()
}

/// `--sort` fields, also with the `-` (descending) prefix when typed.
fn sort_fields(current: &str) -> Vec<Candidate> {
    let sign = if current.starts_with('-') { "-" } else { "" };
    FIELD_NAMES
        .iter()
        .map(|f| Candidate::new(format!("{sign}{f}"), None))
        .collect()
}

fn starts_with_ignore_case(value: &str, prefix: &str) -> bool {
    value.len() >= prefix.len()
        && value
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// `~/x` as the shell would expand it (completion sees the raw word).
pub fn expand_tilde(path: &str, home: Option<&Path>) -> String {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest).to_string_lossy().into_owned(),
        _ => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{CatalogConfig, Source};

    fn entity(kind: &str, ns: &str, name: &str, title: Option<&str>, spec: &str) -> Entity {
        let title = title.map(|t| format!("  title: {t}\n")).unwrap_or_default();
        let yaml = format!(
            "apiVersion: backstage.io/v1alpha1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {ns}\n{title}  tags: [go, web]\nspec: {spec}\n"
        );
        let doc: serde_json::Value = crate::yaml::from_str(&yaml).unwrap();
        let source = Source {
            file: "x.yaml".into(),
            document: 0,
            line: 1,
        };
        Entity::from_document(doc, source).unwrap()
    }

    fn catalog() -> Catalog {
        Catalog::assemble(
            vec![
                entity(
                    "Component",
                    "default",
                    "checkout",
                    Some("Checkout Service"),
                    "{type: service, lifecycle: production}",
                ),
                entity("Group", "default", "checkout", None, "{type: team}"),
                entity(
                    "API",
                    "default",
                    "checkout-api",
                    None,
                    "{type: openapi, lifecycle: production}",
                ),
                entity(
                    "Component",
                    "default",
                    "My_Service.v2",
                    None,
                    "{type: service, lifecycle: experimental}",
                ),
                entity(
                    "Component",
                    "ops",
                    "pager",
                    None,
                    "{type: service, lifecycle: production}",
                ),
                entity("System", "default", "payments", Some("Payments"), "{}"),
            ],
            CatalogConfig::default(),
            Default::default(),
        )
    }

    fn values(c: &[Candidate]) -> Vec<&str> {
        c.iter().map(|c| c.value.as_str()).collect()
    }

    #[test]
    fn bare_names_prefer_the_component_and_add_matching_kinds() {
        let c = catalog();
        let got = candidates(Some(&c), ValueKind::Entity, "ch");
        assert_eq!(values(&got), ["checkout", "checkout-api"]);
        assert_eq!(got[0].help.as_deref(), Some("Checkout Service (Component)"));
        let got = candidates(Some(&c), ValueKind::Entity, "a");
        assert_eq!(values(&got), ["api:"]);
    }

    #[test]
    fn kind_prefix_narrows_and_keeps_what_was_typed() {
        let c = catalog();
        let got = candidates(Some(&c), ValueKind::Entity, "API:che");
        assert_eq!(values(&got), ["API:checkout-api"]);
        let got = candidates(Some(&c), ValueKind::Entity, "group:");
        assert_eq!(values(&got), ["group:checkout"]);
        assert!(candidates(Some(&c), ValueKind::Entity, "nokind:x").is_empty());
    }

    #[test]
    fn names_with_dots_underscores_and_uppercase_match_case_insensitively() {
        let c = catalog();
        let got = candidates(Some(&c), ValueKind::Entity, "my_s");
        assert_eq!(values(&got), ["My_Service.v2"]);
        let got = candidates(Some(&c), ValueKind::Entity, "My_Service.");
        assert_eq!(values(&got), ["My_Service.v2"]);
    }

    #[test]
    fn other_namespaces_are_qualified() {
        let c = catalog();
        assert_eq!(
            values(&candidates(Some(&c), ValueKind::Entity, "op")),
            ["ops/pager"]
        );
        assert_eq!(
            values(&candidates(Some(&c), ValueKind::Entity, "default/che")),
            ["default/checkout", "default/checkout-api"]
        );
    }

    #[test]
    fn facets_come_from_the_catalog() {
        let c = catalog();
        let got = candidates(Some(&c), ValueKind::Lifecycle, "");
        assert_eq!(values(&got), ["experimental", "production"]);
        assert_eq!(got[1].help.as_deref(), Some("3 entities"));
        assert_eq!(
            values(&candidates(Some(&c), ValueKind::OfKind("system"), "")),
            ["payments"]
        );
        assert_eq!(
            values(&candidates(Some(&c), ValueKind::Owner, "")),
            ["checkout"]
        );
        assert_eq!(values(&candidates(Some(&c), ValueKind::Tag, "w")), ["web"]);
        assert_eq!(
            values(&candidates(Some(&c), ValueKind::Type, "open")),
            ["openapi"]
        );
        let kinds = candidates(Some(&c), ValueKind::Kind, "");
        assert_eq!(kinds[0].value, "api");
        assert!(values(&kinds).contains(&"domain"));
    }

    #[test]
    fn no_catalog_offers_only_catalog_free_values() {
        assert!(candidates(None, ValueKind::Entity, "").is_empty());
        assert!(candidates(None, ValueKind::Tag, "").is_empty());
        assert!(values(&candidates(None, ValueKind::Kind, "comp")).contains(&"component"));
        assert_eq!(
            values(&candidates(None, ValueKind::SortField, "-ow")),
            ["-owner"]
        );
    }

    #[test]
    fn a_prefix_matching_nothing_gives_nothing() {
        let c = catalog();
        assert!(candidates(Some(&c), ValueKind::Entity, "zzz").is_empty());
        assert!(candidates(Some(&c), ValueKind::Entity, "ü").is_empty());
    }

    #[test]
    fn tilde_expands_like_the_shell() {
        assert_eq!(expand_tilde("~/cat", Some(Path::new("/h"))), "/h/cat");
        assert_eq!(expand_tilde("cat", Some(Path::new("/h"))), "cat");
    }
}
