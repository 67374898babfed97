//! Fuzzy search over entities: `list --query` and the MCP
//! `search_entities` tool. Ranks entities by how well a typed text matches
//! their name, title and description (skim's algorithm, through the
//! `fuzzy-matcher` crate that dialoguer's fuzzy prompt already builds).
//!
//! A name match counts most, then a title match, then a description
//! match: someone typing `paymnt` means the `payments` service more than a
//! component whose description mentions payments. Matching is
//! case-insensitive unless the query has capitals (skim's smart case).
//! The order is deterministic: score, then the shorter name, then the
//! catalog's order.

use fuzzy_matcher::skim::SkimMatcherV2;
use fuzzy_matcher::FuzzyMatcher;
use rayon::prelude::*;

use super::model::Entity;

/// Weights of a match in each field (a name match beats a title match of
/// the same quality, which beats a description match).
const NAME: i64 = 4;
const TITLE: i64 = 3;
const DESCRIPTION: i64 = 1;

/// Longest query matched (a pasted paragraph is cut here, not refused);
/// with fields capped below, this bounds the work per entity.
const MAX_QUERY_CHARS: usize = 200;
/// Longest part of a description matched against.
const MAX_FIELD_CHARS: usize = 2000;

/// The entities matching `query`, best first, with their scores. An empty
/// (or all-blank) query matches everything with score 0, in order.
pub fn rank<'a>(entities: &[&'a Entity], query: &str) -> Vec<(&'a Entity, i64)> {
    let query: String = query.trim().chars().take(MAX_QUERY_CHARS).collect();
    if query.is_empty() {
        return entities.iter().map(|e| (*e, 0)).collect();
    }
    let matcher = SkimMatcherV2::default().smart_case();
    let filter = Prefilter::new(&query);
    let mut scored: Vec<(usize, &'a Entity, i64)> = entities
        .par_iter()
        .enumerate()
        .filter_map(|(i, e)| score(&matcher, &filter, e, &query).map(|s| (i, *e, s)))
        .collect();
    // Equal scores: the shorter name is the closer match (`ledger` before
    // `ledger-grpc`), then the catalog's order.
    scored.sort_by(|a, b| {
        b.2.cmp(&a.2)
            .then(a.1.name.len().cmp(&b.1.name.len()))
            .then(a.0.cmp(&b.0))
    });
    scored.into_iter().map(|(_, e, s)| (e, s)).collect()
}

/// What any skim match needs: every character of the query in the text,
/// in order (skim's own first pass, `cheap_matches`). Checked on the bytes,
/// without copying the text into a `Vec<char>` as skim does, so the fields
/// that cannot match (nearly all, at 10,000 entities) cost a byte scan.
/// Exact for an ASCII query (an ASCII byte never occurs inside a multi-byte
/// UTF-8 character, and skim ignores ASCII case only); any other query
/// goes straight to skim.
struct Prefilter {
    /// The query's bytes, lowercased unless case matters; `None`: not ASCII.
    bytes: Option<Vec<u8>>,
    /// Smart case: a query with a capital matches case-sensitively.
    case_sensitive: bool,
}

impl Prefilter {
    fn new(query: &str) -> Self {
        let case_sensitive = query.bytes().any(|b| b.is_ascii_uppercase());
        let bytes = query.is_ascii().then(|| {
            if case_sensitive {
                query.as_bytes().to_vec()
            } else {
                query.to_ascii_lowercase().into_bytes()
            }
        });
        Prefilter {
            bytes,
            case_sensitive,
        }
    }

    /// Whether skim may match `text` (false: it surely does not).
    fn may_match(&self, text: &str) -> bool {
        let Some(query) = &self.bytes else {
            return true;
        };
        let mut want = query.iter().peekable();
        for &b in text.as_bytes() {
            let Some(&&q) = want.peek() else { break };
            let b = if self.case_sensitive {
                b
            } else {
                b.to_ascii_lowercase()
            };
            if b == q {
                want.next();
            }
        }
        want.peek().is_none()
    }
}

/// How well `query` matches `entity` (`None`: not at all).
fn score(matcher: &SkimMatcherV2, filter: &Prefilter, entity: &Entity, query: &str) -> Option<i64> {
    let field = |text: &str, weight: i64| {
        let text = cap(text);
        if !filter.may_match(text) {
            return None;
        }
        matcher.fuzzy_match(text, query).map(|s| s * weight)
    };
    let name = field(&entity.name, NAME);
    let title = entity.title.as_deref().and_then(|t| field(t, TITLE));
    let description = entity
        .metadata_str("description")
        .and_then(|d| field(d, DESCRIPTION));
    [name, title, description].into_iter().flatten().max()
}

/// `text` cut to at most [`MAX_FIELD_CHARS`] characters.
fn cap(text: &str) -> &str {
    match text.char_indices().nth(MAX_FIELD_CHARS) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::model::Source;

    fn entity(name: &str, title: Option<&str>, description: Option<&str>) -> Entity {
        let mut metadata = serde_json::json!({ "name": name });
        if let Some(t) = title {
            metadata["title"] = t.into();
        }
        if let Some(d) = description {
            metadata["description"] = d.into();
        }
        let doc = serde_json::json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": metadata,
            "spec": {},
        });
        Entity::from_document(doc, Source::default()).expect("entity")
    }

    fn names(ranked: &[(&Entity, i64)]) -> Vec<String> {
        ranked.iter().map(|(e, _)| e.name.clone()).collect()
    }

    #[test]
    fn a_name_match_ranks_above_a_description_match() {
        let a = entity("ledger", None, Some("Keeps the payments ledger"));
        let b = entity("payments", None, None);
        let c = entity("search", Some("Search"), None);
        let all = [&a, &b, &c];
        assert_eq!(names(&rank(&all, "payments")), ["payments", "ledger"]);
    }

    #[test]
    fn typos_still_match_and_unrelated_entities_are_left_out() {
        let a = entity("checkout", Some("Checkout service"), None);
        let b = entity("inventory", None, None);
        let all = [&a, &b];
        assert_eq!(names(&rank(&all, "chkout")), ["checkout"]);
    }

    #[test]
    fn a_title_match_counts() {
        let a = entity("svc-17", Some("Fraud detection"), None);
        let b = entity("svc-18", Some("Billing"), None);
        let all = [&a, &b];
        assert_eq!(names(&rank(&all, "fraud")), ["svc-17"]);
    }

    #[test]
    fn the_prefilter_keeps_whatever_skim_matches() {
        let matcher = SkimMatcherV2::default().smart_case();
        let texts = [
            "Keeps the payments ledger",
            "Zahlungsbuch für Überweisungen",
            "PaymentsLedger",
            "pay-ments_led ger",
            "",
            "ÄÖÜ payments",
        ];
        let queries = [
            "payments ledger",
            "PL",
            "pmtl",
            "über",
            "ü",
            "ledger payments",
            "Payments",
            "zz",
            " ",
        ];
        for q in queries {
            let filter = Prefilter::new(q);
            for t in texts {
                if matcher.fuzzy_match(t, q).is_some() {
                    assert!(filter.may_match(t), "{q:?} in {t:?}");
                }
                if filter.bytes.is_some() && !filter.may_match(t) {
                    assert_eq!(matcher.fuzzy_match(t, q), None, "{q:?} in {t:?}");
                }
            }
        }
        let filter = Prefilter::new("chkout");
        assert!(filter.may_match("Checkout service"));
        assert!(!filter.may_match("inventory"));
    }

    #[test]
    fn an_empty_query_keeps_everything_in_order() {
        let a = entity("b", None, None);
        let b = entity("a", None, None);
        assert_eq!(names(&rank(&[&a, &b], "  ")), ["b", "a"]);
    }
}
