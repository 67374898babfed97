//! Entity arguments: a full reference (`component:default/checkout`), a
//! partial one (`api:checkout-api`, `default/checkout`) or a bare name. A bare
//! name matching several entities prefers the Component, as the design says;
//! otherwise the candidates are listed. A miss suggests the nearest names.

use super::error::LookupError;
use super::model::Entity;
use super::refs::{EntityRef, DEFAULT_NAMESPACE};
use super::Catalog;

/// The kind preferred when a bare name matches several kinds.
const PREFERRED_KIND: &str = "component";

/// Resolves a user-typed entity argument.
pub fn resolve<'a>(catalog: &'a Catalog, query: &str) -> Result<&'a Entity, LookupError> {
    let q = query.trim();
    let (kind, rest) = match q.split_once(':') {
        Some((k, r)) => (Some(k), r),
        None => (None, q),
    };
    let (namespace, name) = match rest.split_once('/') {
        Some((ns, n)) => (Some(ns), n),
        None => (None, rest),
    };
    if name.is_empty() || name.contains(['/', ':']) || kind == Some("") || namespace == Some("") {
        return Err(LookupError::Invalid {
            query: query.into(),
            reason: "expected [kind:][namespace/]name".into(),
        });
    }
    if let Some(kind) = kind {
        let r = EntityRef::new(kind, namespace.unwrap_or(DEFAULT_NAMESPACE), name);
        return catalog
            .get(&r)
            .ok_or_else(|| not_found(catalog, query, name));
    }
    let mut matches: Vec<&Entity> = catalog
        .by_name(name)
        .filter(|e| namespace.is_none_or(|ns| e.namespace.eq_ignore_ascii_case(ns)))
        .collect();
    match matches.len() {
        0 => return Err(not_found(catalog, query, name)),
        1 => return Ok(matches[0]),
        _ => {}
    }
    // Several: a Component wins, then the default namespace breaks a tie.
    let components: Vec<&Entity> = matches
        .iter()
        .copied()
        .filter(|e| e.kind.eq_ignore_ascii_case(PREFERRED_KIND))
        .collect();
    if !components.is_empty() {
        matches = components;
    }
    if matches.len() > 1 && namespace.is_none() {
        let in_default: Vec<&Entity> = matches
            .iter()
            .copied()
            .filter(|e| e.namespace.eq_ignore_ascii_case(DEFAULT_NAMESPACE))
            .collect();
        if in_default.len() == 1 {
            matches = in_default;
        }
    }
    if matches.len() == 1 {
        return Ok(matches[0]);
    }
    let mut candidates: Vec<String> = matches.iter().map(|e| e.entity_ref().to_string()).collect();
    candidates.sort();
    candidates.dedup();
    Err(LookupError::Ambiguous {
        query: query.into(),
        candidates,
    })
}

fn not_found(catalog: &Catalog, query: &str, name: &str) -> LookupError {
    LookupError::NotFound {
        query: query.into(),
        suggestions: suggest(catalog, name),
    }
}

/// Up to five entity names close to `name` (edit distance or substring).
pub fn suggest(catalog: &Catalog, name: &str) -> Vec<String> {
    let needle = name.to_ascii_lowercase();
    let mut scored: Vec<(f64, String)> = catalog
        .entities
        .iter()
        .filter_map(|e| {
            let candidate = e.name.to_ascii_lowercase();
            let mut score = strsim::jaro_winkler(&needle, &candidate);
            if needle.len() >= 3 && candidate.contains(&needle) {
                score = score.max(0.9);
            }
            (score >= 0.8).then(|| (score, e.entity_ref().short(Some(PREFERRED_KIND))))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut out: Vec<String> = Vec::new();
    for (_, s) in scored {
        if !out.contains(&s) {
            out.push(s);
        }
        if out.len() == 5 {
            break;
        }
    }
    out
}
