//! The distinct values one field takes over the catalog (lifecycles, types,
//! tags), with how many entities use each. Shell completion offers them and
//! the filters of `list` check typed values against them, so both agree on
//! what the catalog holds. Reads the indexed JSON text where it can: on
//! 10,000 entities this is the slow part.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::Catalog;

/// A field with a small set of values worth listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facet {
    /// `spec.lifecycle`.
    Lifecycle,
    /// `spec.type`.
    Type,
    /// `metadata.tags` (one value per tag).
    Tag,
}

/// Each value the field takes, as written, with the number of entities
/// holding it (sorted by value; empty strings left out).
pub fn distinct(catalog: &Catalog, facet: Facet) -> BTreeMap<String, usize> {
    let mut counts = catalog
        .entities
        .par_iter()
        .fold(BTreeMap::new, |mut acc: BTreeMap<String, usize>, e| {
            // Reading one field from the JSON text is several times faster
            // than parsing the whole document; anything unusual (escapes,
            // non-string values) takes the ordinary path.
            let fast = e
                .unparsed_json()
                .and_then(|json| serde_json::from_slice::<Fields>(json).ok());
            let values: Vec<String> = match (facet, fast) {
                (Facet::Lifecycle, Some(f)) => f.spec.lifecycle.into_iter().collect(),
                (Facet::Type, Some(f)) => f.spec.r#type.into_iter().collect(),
                (Facet::Tag, Some(f)) => f.metadata.tags,
                (Facet::Lifecycle, None) => e
                    .spec_str("lifecycle")
                    .into_iter()
                    .map(String::from)
                    .collect(),
                (Facet::Type, None) => e.spec_str("type").into_iter().map(String::from).collect(),
                (Facet::Tag, None) => e.tags().into_iter().map(String::from).collect(),
            };
            for v in values {
                *acc.entry(v).or_default() += 1;
            }
            acc
        })
        .reduce(BTreeMap::new, |mut a, b| {
            for (k, n) in b {
                *a.entry(k).or_default() += n;
            }
            a
        });
    counts.remove("");
    counts
}

/// The fields `distinct` reads, deserialised straight from the JSON text.
#[derive(serde::Deserialize)]
struct Fields {
    #[serde(default)]
    metadata: FieldsMetadata,
    #[serde(default)]
    spec: FieldsSpec,
}

#[derive(Default, serde::Deserialize)]
struct FieldsMetadata {
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Default, serde::Deserialize)]
struct FieldsSpec {
    lifecycle: Option<String>,
    r#type: Option<String>,
}
