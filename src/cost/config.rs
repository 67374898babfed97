//! The `cost:` section of `idp.yaml` and the `idp.dev/cost-selector`
//! annotation, typed and checked. Nothing here reads billing data.
//!
//! Trust: `idp.yaml` may come from a pull request that CI runs `idp` on, so
//! its `sources` are globs relative to the catalog root and every file they
//! match must really be inside it (symlinks resolved, see
//! [`crate::confine`]). An absolute path or a `..` in `idp.yaml` is refused:
//! only the operator, on the command line (`idp cost --source`), names files
//! outside the catalog.

use serde::{Deserialize, Serialize};

use crate::catalog::Entity;

/// The annotation naming the rows an entity claims when no tag does.
pub const SELECTOR_ANNOTATION: &str = "idp.dev/cost-selector";

/// The amount column summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, Hash)]
pub enum Metric {
    /// `EffectiveCost`: amortized, what the usage really cost (default).
    #[default]
    EffectiveCost,
    /// `BilledCost`: what the invoice says.
    BilledCost,
}

impl Metric {
    /// The FOCUS column.
    pub fn column(self) -> &'static str {
        match self {
            Metric::EffectiveCost => "EffectiveCost",
            Metric::BilledCost => "BilledCost",
        }
    }
}

/// What an `allocate` rule's tag value names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// A Component.
    Component,
    /// A Group.
    Group,
    /// A System.
    System,
    /// A Resource.
    Resource,
    /// A Domain.
    Domain,
    /// A User.
    User,
}

impl Target {
    /// The lowercase kind.
    pub fn kind(self) -> &'static str {
        match self {
            Target::Component => "component",
            Target::Group => "group",
            Target::System => "system",
            Target::Resource => "resource",
            Target::Domain => "domain",
            Target::User => "user",
        }
    }
}

/// One `allocate` rule: the value of tag `tag` is the name of an entity of
/// kind `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(deny_unknown_fields)]
pub struct AllocateRule {
    /// The tag key (case-sensitive, as cloud tags are).
    pub tag: String,
    /// The kind the value names.
    pub to: Target,
}

/// Anomaly detection settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AnomalySettings {
    /// A period is an anomaly when it is more than `k` standard deviations
    /// above the mean of the trailing periods (default 3).
    #[serde(default = "default_k")]
    pub k: f64,
    /// How many trailing periods make the mean (default 6; at least 3 are
    /// needed before anything is called an anomaly).
    #[serde(default = "default_window")]
    pub window: usize,
}

fn default_k() -> f64 {
    3.0
}
fn default_window() -> usize {
    6
}

impl Default for AnomalySettings {
    fn default() -> Self {
        AnomalySettings {
            k: default_k(),
            window: default_window(),
        }
    }
}

/// `cost:` in `idp.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CostConfig {
    /// Globs of FOCUS exports (`.csv`, `.csv.gz`, `.parquet`), relative to
    /// the catalog root.
    #[serde(default)]
    pub sources: Vec<String>,
    /// The amount summed.
    #[serde(default)]
    pub metric: Metric,
    /// Tag rules, first match wins.
    #[serde(default)]
    pub allocate: Vec<AllocateRule>,
    /// Anomaly detection.
    #[serde(default)]
    pub anomaly: AnomalySettings,
    /// Budget for the billing files `sources` match inside the catalog, in
    /// bytes of data (CSV text after decompression, Parquet's uncompressed
    /// column data); default and ceiling [`MAX_BYTES`]. It may only lower
    /// the budget: a pull request can change idp.yaml. The operator's
    /// `idp cost --source` files are not budgeted.
    #[serde(default)]
    pub max_bytes: Option<u64>,
}

/// The default and largest `cost.maxBytes`: 2 GiB of billing data read
/// from inside the catalog (about 6 M FOCUS rows; a few seconds).
pub const MAX_BYTES: u64 = 2 << 30;

impl CostConfig {
    /// Problems with the section that typing does not catch: absolute or
    /// escaping source globs, bad globs, an empty tag, a bad `k`.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, s) in self.sources.iter().enumerate() {
            if let Some(why) = source_problem(s) {
                out.push(format!("cost.sources[{i}] `{s}`: {why}"));
            }
        }
        for (i, r) in self.allocate.iter().enumerate() {
            if r.tag.trim().is_empty() {
                out.push(format!("cost.allocate[{i}].tag is empty"));
            }
        }
        if !(self.anomaly.k.is_finite() && self.anomaly.k > 0.0) {
            out.push(format!(
                "cost.anomaly.k must be a positive number, not {}",
                self.anomaly.k
            ));
        }
        match self.max_bytes {
            Some(0) => out.push("cost.maxBytes must be 1 or more".into()),
            Some(n) if n > MAX_BYTES => out.push(format!(
                "cost.maxBytes {n} is above the ceiling {MAX_BYTES}: idp.yaml may only lower it \
                 (a pull request can change idp.yaml); read bigger exports from outside the \
                 catalog with `idp cost --source`, or publish the aggregate with `idp cost --publish`"
            )),
            _ => {}
        }
        if self.anomaly.window < 3 {
            out.push("cost.anomaly.window must be 3 or more".into());
        }
        out
    }
}

/// Why a glob of `idp.yaml` cannot be used, if it cannot.
pub fn source_problem(glob: &str) -> Option<String> {
    let p = std::path::Path::new(glob);
    if glob.trim().is_empty() {
        return Some("empty".into());
    }
    if p.is_absolute() || glob.starts_with('~') {
        return Some(
            "idp.yaml may name only files inside the catalog (a pull request can change it); \
             pass absolute paths on the command line with `idp cost --source`"
                .into(),
        );
    }
    if p.components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Some("`..` would leave the catalog".into());
    }
    if let Err(e) = globset::Glob::new(glob) {
        return Some(format!("not a glob: {e}"));
    }
    if !(glob.ends_with(".csv")
        || glob.ends_with(".csv.gz")
        || glob.ends_with(".parquet")
        || glob.ends_with('*'))
    {
        return Some("FOCUS exports end in .csv, .csv.gz or .parquet".into());
    }
    None
}

/// One term of a selector line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub enum Term {
    /// `Tags.<key>=<value>`.
    Tag(String, String),
    /// `SubAccountId=<id>`.
    SubAccount(String),
    /// `ResourceId^=<prefix>`.
    ResourcePrefix(String),
    /// `ResourceId=<id>`.
    Resource(String),
    /// `ServiceName=<name>`.
    Service(String),
}

/// One line of `idp.dev/cost-selector`: every term must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct Selector {
    /// The terms.
    pub terms: Vec<Term>,
}

/// A selector line that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{SELECTOR_ANNOTATION} line {line} `{text}`: {why}")]
pub struct SelectorError {
    /// 1-based line of the annotation value.
    pub line: usize,
    /// The line.
    pub text: String,
    /// What is wrong.
    pub why: String,
}

/// Parses the annotation value: one selector per non-empty line, terms
/// separated by commas.
pub fn parse_selectors(value: &str) -> Result<Vec<Selector>, SelectorError> {
    let mut out = Vec::new();
    for (i, line) in value.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| SelectorError {
            line: i + 1,
            text: line.to_string(),
            why: why.to_string(),
        };
        let mut terms = Vec::new();
        for term in line.split(',').map(str::trim) {
            let t = if let Some(prefix) = term.strip_prefix("ResourceId^=") {
                Term::ResourcePrefix(prefix.to_string())
            } else if let Some((lhs, value)) = term.split_once('=') {
                let value = value.trim().to_string();
                match lhs.trim() {
                    "SubAccountId" => Term::SubAccount(value),
                    "ResourceId" => Term::Resource(value),
                    "ServiceName" => Term::Service(value),
                    k => match k.strip_prefix("Tags.") {
                        Some(key) if !key.is_empty() => Term::Tag(key.to_string(), value),
                        _ => return Err(bad(&format!(
                            "unknown column `{k}` (use Tags.<key>=, SubAccountId=, ResourceId=, ResourceId^= or ServiceName=)"
                        ))),
                    },
                }
            } else {
                return Err(bad(&format!("`{term}` is not a `Column=value` term")));
            };
            let empty = match &t {
                Term::Tag(_, v)
                | Term::SubAccount(v)
                | Term::ResourcePrefix(v)
                | Term::Resource(v)
                | Term::Service(v) => v.is_empty(),
            };
            if empty {
                return Err(bad(&format!(
                    "`{term}` has an empty value (it would match nothing)"
                )));
            }
            terms.push(t);
        }
        out.push(Selector { terms });
    }
    Ok(out)
}

/// The selectors of an entity (none when it has no annotation).
pub fn entity_selectors(entity: &Entity) -> Result<Vec<Selector>, SelectorError> {
    match entity.annotation(SELECTOR_ANNOTATION) {
        Some(v) => parse_selectors(v),
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_lines_and_terms() {
        let s = parse_selectors("Tags.app=web, SubAccountId=123\nResourceId^=arn:aws:s3:::logs\n")
            .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0].terms,
            vec![
                Term::Tag("app".into(), "web".into()),
                Term::SubAccount("123".into())
            ]
        );
        assert_eq!(
            s[1].terms,
            vec![Term::ResourcePrefix("arn:aws:s3:::logs".into())]
        );
        assert!(parse_selectors("Foo=1").is_err());
        assert!(parse_selectors("Tags.app=").is_err());
        assert!(parse_selectors("nonsense").is_err());
    }

    #[test]
    fn sources_stay_inside_the_catalog() {
        assert!(source_problem("billing/*.csv.gz").is_none());
        assert!(source_problem("/data/*.parquet").is_some());
        assert!(source_problem("../x/*.csv").is_some());
        assert!(source_problem("billing/*.txt").is_some());
    }
}
