//! Entity references: `[kind:][namespace/]name`, parsed and printed the way
//! Backstage does, with per-field default kinds and case-insensitive matching.
//!
//! This module owns the string form of references only; looking a reference up
//! in a catalog is `catalog::Catalog`'s job.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The namespace an entity lives in when its descriptor names none.
pub const DEFAULT_NAMESPACE: &str = "default";

/// A fully qualified reference to an entity. Kept as written (case preserved)
/// for display; comparisons go through [`EntityRef::key`], which is lowercase,
/// because Backstage matches references case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub struct EntityRef {
    /// Kind, lowercase (`component`, `group`, …).
    pub kind: String,
    /// Namespace as written (`default` when omitted).
    pub namespace: String,
    /// Name as written.
    pub name: String,
}

/// Why a reference string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    /// The string was empty.
    #[error("the entity reference is empty")]
    Empty,
    /// No kind in the string and the field has no default kind.
    #[error("entity reference \"{0}\" has no kind, and this field has no default kind; write it as kind:[namespace/]name")]
    MissingKind(String),
    /// A part was empty or had too many separators.
    #[error("entity reference \"{0}\" is malformed; expected [kind:][namespace/]name")]
    Malformed(String),
}

impl EntityRef {
    /// Builds a reference from its parts; the kind is stored lowercase.
    pub fn new(kind: &str, namespace: &str, name: &str) -> Self {
        EntityRef {
            kind: kind.to_ascii_lowercase(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// Parses `[kind:][namespace/]name`. `default_kind` applies when the string
    /// has no kind (Backstage's per-field default); `default_namespace` when it has
    /// no namespace (the referring entity's own namespace).
    pub fn parse(
        text: &str,
        default_kind: Option<&str>,
        default_namespace: &str,
    ) -> Result<Self, RefError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(RefError::Empty);
        }
        let (kind, namespace, name) = split_ref(text);
        let malformed = || RefError::Malformed(text.to_string());
        if name.is_empty()
            || name.contains(['/', ':'])
            || kind.is_some_and(str::is_empty)
            || namespace.is_some_and(str::is_empty)
        {
            return Err(malformed());
        }
        let kind = match (kind, default_kind) {
            (Some(k), _) => k,
            (None, Some(d)) => d,
            (None, None) => return Err(RefError::MissingKind(text.to_string())),
        };
        Ok(EntityRef::new(
            kind,
            namespace.unwrap_or(default_namespace),
            name,
        ))
    }

    /// The lowercase `kind:namespace/name` used as a map key.
    pub fn key(&self) -> String {
        format!(
            "{}:{}/{}",
            self.kind,
            self.namespace.to_ascii_lowercase(),
            self.name.to_ascii_lowercase()
        )
    }

    /// The short form users type: `name` for a default-namespace entity of the
    /// field's default kind, otherwise as much of the full form as is needed.
    pub fn short(&self, default_kind: Option<&str>) -> String {
        // Without its kind, a namespace holding `:` (Backstage allows it)
        // would read back as the kind: keep the kind then.
        let kind_matches = default_kind.is_some_and(|k| k.eq_ignore_ascii_case(&self.kind))
            && !self.namespace.contains(':');
        let ns_default = self.namespace.eq_ignore_ascii_case(DEFAULT_NAMESPACE);
        match (kind_matches, ns_default) {
            (true, true) => self.name.clone(),
            (true, false) => format!("{}/{}", self.namespace, self.name),
            (false, true) => format!("{}:{}", self.kind, self.name),
            (false, false) => self.to_string(),
        }
    }
}

impl fmt::Display for EntityRef {
    /// The full form `kind:namespace/name`, kind lowercase as Backstage prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.kind, self.namespace, self.name)
    }
}

/// The parts of `[kind:][namespace/]name` as written, nothing defaulted or
/// checked: the one place the reference syntax is split.
pub fn split_ref(text: &str) -> (Option<&str>, Option<&str>, &str) {
    let (kind, rest) = match text.split_once(':') {
        Some((k, r)) => (Some(k), r),
        None => (None, text),
    };
    match rest.split_once('/') {
        Some((ns, n)) => (kind, Some(ns), n),
        None => (kind, None, rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_forms() {
        let r = EntityRef::parse("Component:ops/Checkout", None, "default").unwrap();
        assert_eq!(r.to_string(), "component:ops/Checkout");
        assert_eq!(r.key(), "component:ops/checkout");
        let r = EntityRef::parse("payments", Some("group"), "default").unwrap();
        assert_eq!(r.to_string(), "group:default/payments");
        let r = EntityRef::parse("team-a/payments", Some("group"), "default").unwrap();
        assert_eq!(r.to_string(), "group:team-a/payments");
        let r = EntityRef::parse("api:pay-api", None, "billing").unwrap();
        assert_eq!(r.to_string(), "api:billing/pay-api");
    }

    #[test]
    fn rejects_bad_forms() {
        assert_eq!(
            EntityRef::parse("ledger", None, "default"),
            Err(RefError::MissingKind("ledger".into()))
        );
        assert!(matches!(
            EntityRef::parse("a:b/c/d", None, "default"),
            Err(RefError::Malformed(_))
        ));
        assert!(matches!(
            EntityRef::parse(":x", Some("group"), "default"),
            Err(RefError::Malformed(_))
        ));
        assert_eq!(
            EntityRef::parse("  ", None, "default"),
            Err(RefError::Empty)
        );
    }

    #[test]
    fn short_form_drops_defaults() {
        let r = EntityRef::new("group", "default", "payments");
        assert_eq!(r.short(Some("group")), "payments");
        assert_eq!(r.short(None), "group:payments");
        let r = EntityRef::new("group", "ops", "sre");
        assert_eq!(r.short(Some("group")), "ops/sre");
    }

    #[test]
    fn short_form_keeps_the_kind_when_the_namespace_has_a_colon() {
        // Found by fuzzing (fuzz/regressions/entity_ref): `d:default/product`
        // would read back as kind `d`.
        let r = EntityRef::parse("group:d:default/product", None, "default").unwrap();
        assert_eq!(r.namespace, "d:default");
        let short = r.short(Some("group"));
        assert_eq!(short, "group:d:default/product");
        let back = EntityRef::parse(&short, Some("group"), "default").unwrap();
        assert_eq!(back.key(), r.key());
    }
}
