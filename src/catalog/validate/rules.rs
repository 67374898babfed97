//! Backstage's format rules (`@backstage/catalog-model`'s
//! KubernetesValidatorFunctions and CommonValidatorFunctions), as predicates.
//! Each returns whether a value is valid; callers word the message.

use std::sync::LazyLock;

use regex::Regex;

static OBJECT_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$").expect("regex"));
static DNS_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]+(?:-[a-z0-9]+)*$").expect("regex"));
static KIND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z][a-z0-9A-Z]*$").expect("regex"));
static VERSION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[a-z0-9A-Z]+$").expect("regex"));
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9+#]+(-[a-z0-9+#]+)*$").expect("regex"));

/// `metadata.name`, label values: 1-63 chars, `[a-zA-Z0-9]` separated by `-_.`.
pub fn is_valid_object_name(s: &str) -> bool {
    (1..=63).contains(&s.len()) && OBJECT_NAME.is_match(s)
}

/// Backstage's entity-name rule (`isValidEntityName`): the object-name rule.
/// Its regex allows consecutive separators (`a--b`), and so do we, to agree
/// with Backstage exactly.
pub fn is_valid_entity_name(s: &str) -> bool {
    is_valid_object_name(s)
}

/// A DNS label (namespace): 1-63 chars of `[a-z0-9]` separated by single `-`.
pub fn is_valid_dns_label(s: &str) -> bool {
    (1..=63).contains(&s.len()) && DNS_LABEL.is_match(s)
}

/// A DNS subdomain: up to 253 chars of DNS labels separated by `.`.
pub fn is_valid_dns_subdomain(s: &str) -> bool {
    (1..=253).contains(&s.len()) && s.split('.').all(is_valid_dns_label)
}

/// `prefix/suffix` or `suffix`, each part checked.
fn prefix_and_or_suffix(s: &str, prefix: fn(&str) -> bool, suffix: fn(&str) -> bool) -> bool {
    let parts: Vec<&str> = s.split('/').collect();
    match parts.as_slice() {
        [one] => suffix(one),
        [p, n] => prefix(p) && suffix(n),
        _ => false,
    }
}

/// `apiVersion`: `group/version` or `version`.
pub fn is_valid_api_version(s: &str) -> bool {
    prefix_and_or_suffix(s, is_valid_dns_subdomain, |v| {
        (1..=63).contains(&v.len()) && VERSION.is_match(v)
    })
}

/// `kind`: a letter then letters and digits, up to 63.
pub fn is_valid_kind(s: &str) -> bool {
    (1..=63).contains(&s.len()) && KIND.is_match(s)
}

/// Label and annotation keys: `[dns-subdomain/]object-name`.
pub fn is_valid_key(s: &str) -> bool {
    prefix_and_or_suffix(s, is_valid_dns_subdomain, is_valid_object_name)
}

/// Label values: empty or an object name.
pub fn is_valid_label_value(s: &str) -> bool {
    s.is_empty() || is_valid_object_name(s)
}

/// Tags: 1-63 chars of `[a-z0-9+#]` joined by `-` (Backstage's current `isValidTag`).
pub fn is_valid_tag(s: &str) -> bool {
    (1..=63).contains(&s.len()) && TAG.is_match(s)
}

/// A string with at least one character.
pub fn is_non_empty_string(v: &serde_json::Value) -> bool {
    v.as_str().is_some_and(|s| !s.is_empty())
}

/// A URL with a scheme, as WHATWG's `new URL()` accepts it.
pub fn is_valid_url(s: &str) -> bool {
    url::Url::parse(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_valid_entity_name("checkout"));
        assert!(is_valid_entity_name("a.b_c-D9"));
        assert!(!is_valid_entity_name("-a"));
        assert!(!is_valid_entity_name("a b"));
        assert!(!is_valid_entity_name(&"a".repeat(64)));
        assert!(is_valid_entity_name(&"a".repeat(63)));
        assert!(is_valid_entity_name("a--b"));
    }

    #[test]
    fn versions_kinds_keys() {
        assert!(is_valid_api_version("backstage.io/v1alpha1"));
        assert!(is_valid_api_version("v1"));
        assert!(!is_valid_api_version("backstage.io/v1/x"));
        assert!(!is_valid_api_version("Backstage.io/v1"));
        assert!(is_valid_kind("Component"));
        assert!(!is_valid_kind("1Component"));
        assert!(is_valid_key("github.com/project-slug"));
        assert!(is_valid_key("tier"));
        assert!(!is_valid_key("a/b/c"));
        assert!(!is_valid_key("bad key"));
        assert!(is_valid_tag("java"));
        assert!(is_valid_tag("c++"));
        assert!(!is_valid_tag("Java"));
        assert!(!is_valid_tag("a b"));
        assert!(!is_valid_tag("AI/ML"));
        assert!(is_valid_dns_label("default"));
        assert!(!is_valid_dns_label("Default"));
    }
}
