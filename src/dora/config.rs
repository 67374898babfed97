//! The `dora:` section of the catalog's `idp.yaml`: the window, the
//! production environment, where deployments come from when a repository
//! has none, what counts as a failure, and the performance bands.
//!
//! ```yaml
//! dora:
//!   window: 90d               # --window overrides
//!   environment: production   # --environment overrides
//!   fallback: releases        # none (default) | releases | argocd
//!   lead_time_from: commit    # commit (author date) | merge (committer date)
//!   failure_window: 24h       # an incident, rollback, failed deploy or revert this soon after a deployment fails it
//!   incidents: true           # read PagerDuty incidents (false: rollbacks, failures and reverts only)
//!   ttl: 1h                   # how long fetched inputs stay fresh
//!   bands:                    # defaults: the DORA report, see DEFAULT_BANDS_SOURCE
//!     deployment_frequency: { elite: 1/day, high: 1/week, medium: 1/month }
//!     lead_time: { elite: 1d, high: 7d, medium: 30d }
//!     change_failure_rate: { elite: 5, high: 10, medium: 15 }   # percent
//!     recovery_time: { elite: 1h, high: 1d, medium: 7d }
//! ```
//!
//! Reading types the section (a bad duration is located at its line like
//! every `idp.yaml` error); [`DoraSection::resolve`] checks what types
//! cannot (bands out of order) and gives every problem at its key, for
//! `idp validate` and for the commands.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::catalog::config::CATALOG_CONFIG_FILE;
use crate::catalog::{Catalog, CatalogError};
use crate::integrations::config::DurationText;

/// Where the default band thresholds come from, cited in every output.
pub const DEFAULT_BANDS_SOURCE: &str =
    "DORA, Accelerate State of DevOps Report 2023, performance clusters";

/// The `dora:` section as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoraSection {
    /// `false` turns DORA off (no inputs are fetched or published).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The default window (`90d`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<DurationText>,
    /// The production deployment environment (`production`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Where deployments come from for a repository without any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
    /// Where a change's lead time starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_time_from: Option<LeadTimeFrom>,
    /// How soon after a deployment a failure signal is blamed on it (`24h`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_window: Option<DurationText>,
    /// Whether PagerDuty incidents count as failures (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incidents: Option<bool>,
    /// How long fetched inputs stay fresh (`1h`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<DurationText>,
    /// Band thresholds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bands: Option<BandsSection>,
}

/// Deployment sources for repositories without GitHub deployments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fallback {
    /// None: no deployments means unknown.
    #[default]
    None,
    /// Published (non-draft, non-prerelease) GitHub releases.
    Releases,
    /// The Argo CD application's sync history (`argocd/app-name`).
    Argocd,
}

/// Where a change's lead time starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeadTimeFrom {
    /// The commit's author date: when the work was first committed.
    #[default]
    Commit,
    /// The commit's committer date: when it landed on the branch (the
    /// merge of its pull request).
    Merge,
}

/// `bands:` as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandsSection {
    /// Deployments per period (`1/day`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_frequency: Option<Tiers<String>>,
    /// Median lead time at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_time: Option<Tiers<DurationText>>,
    /// Change failure rate at most, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_failure_rate: Option<Tiers<f64>>,
    /// Median recovery time at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_time: Option<Tiers<DurationText>>,
}

/// The thresholds of elite, high and medium (below medium is low).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tiers<T> {
    /// Elite from this threshold.
    pub elite: T,
    /// High from this threshold.
    pub high: T,
    /// Medium from this threshold.
    pub medium: T,
}

/// Thresholds ready to classify: frequencies in deployments per day,
/// times in seconds, rates in percent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bands {
    /// Deployments per day at least, for elite, high, medium.
    pub deployments_per_day: [f64; 3],
    /// Median lead time at most (seconds).
    pub lead_time_secs: [f64; 3],
    /// Change failure rate at most (percent).
    pub change_failure_percent: [f64; 3],
    /// Median recovery time at most (seconds).
    pub recovery_secs: [f64; 3],
    /// Where they come from: the DORA report, or idp.yaml.
    pub source: String,
}

const HOUR: f64 = 3600.0;
const DAY: f64 = 24.0 * HOUR;

impl Default for Bands {
    /// The 2023 report's clusters: elite deploys on demand (at least daily
    /// here), high between daily and weekly, medium between weekly and
    /// monthly; lead time under a day, a week, a month; change failure
    /// rates 5 %, 10 %, 15 %; recovery under an hour, a day, a week.
    fn default() -> Self {
        Bands {
            deployments_per_day: [1.0, 1.0 / 7.0, 1.0 / 30.0],
            lead_time_secs: [DAY, 7.0 * DAY, 30.0 * DAY],
            change_failure_percent: [5.0, 10.0, 15.0],
            recovery_secs: [HOUR, DAY, 7.0 * DAY],
            source: DEFAULT_BANDS_SOURCE.into(),
        }
    }
}

/// The section with defaults applied.
#[derive(Debug, Clone)]
pub struct DoraConfig {
    /// Off when `enabled: false`.
    pub enabled: bool,
    /// Default window.
    pub window: Duration,
    /// Production environment.
    pub environment: String,
    /// Fallback deployment source.
    pub fallback: Fallback,
    /// Lead time start.
    pub lead_time_from: LeadTimeFrom,
    /// Failure attribution window.
    pub failure_window: Duration,
    /// Whether incidents count (and are required).
    pub incidents: bool,
    /// Freshness of fetched inputs.
    pub ttl: Duration,
    /// Band thresholds.
    pub bands: Bands,
}

impl Default for DoraConfig {
    fn default() -> Self {
        DoraConfig {
            enabled: true,
            window: Duration::from_secs(90 * 86_400),
            environment: "production".into(),
            fallback: Fallback::None,
            lead_time_from: LeadTimeFrom::Commit,
            failure_window: Duration::from_secs(86_400),
            incidents: true,
            ttl: Duration::from_secs(3600),
            bands: Bands::default(),
        }
    }
}

/// One problem of the section: the dotted key (`dora.bands.lead_time`) and
/// what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Dotted key in idp.yaml.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// The longest window: PagerDuty and GitHub histories beyond a year are
/// rarely kept, and the previous window doubles what is read.
pub const MAX_WINDOW: Duration = Duration::from_secs(366 * 86_400);

impl DoraSection {
    /// Types the section of `catalog`'s `idp.yaml` (absent: defaults).
    pub fn of(catalog: &Catalog) -> Result<Self, CatalogError> {
        let file = Path::new(&catalog.origin.location).join(CATALOG_CONFIG_FILE);
        catalog.config.section("dora", &file)
    }

    /// Whether `catalog`'s `idp.yaml` has a `dora:` section: `idp enrich`
    /// fetches (and publishes) DORA's inputs only then (or when asked with
    /// `--integration dora`), since they cost several requests per entity.
    pub fn present(catalog: &Catalog) -> bool {
        catalog
            .config
            .extra
            .get("dora")
            .is_some_and(|v| !v.is_null())
    }

    /// Defaults applied and checked; every problem at its key.
    pub fn resolve(&self) -> Result<DoraConfig, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut bad = |key: &str, message: String| {
            problems.push(Problem {
                key: format!("dora.{key}"),
                message,
            })
        };
        let d = DoraConfig::default();
        let window = self.window.as_ref().map_or(d.window, DurationText::get);
        if let Err(why) = check_window(window) {
            bad("window", why);
        }
        let environment = match &self.environment {
            Some(e) if e.trim().is_empty() => {
                bad("environment", "must name a deployment environment".into());
                d.environment.clone()
            }
            Some(e) => e.trim().to_string(),
            None => d.environment.clone(),
        };
        let failure_window = self
            .failure_window
            .as_ref()
            .map_or(d.failure_window, DurationText::get);
        if failure_window.is_zero() {
            bad("failure_window", "must be longer than 0s".into());
        }
        let mut bands = Bands::default();
        if let Some(b) = &self.bands {
            let mut custom = false;
            if let Some(t) = &b.deployment_frequency {
                custom = true;
                let mut v = [0.0; 3];
                for (i, (name, text)) in [
                    ("elite", &t.elite),
                    ("high", &t.high),
                    ("medium", &t.medium),
                ]
                .into_iter()
                .enumerate()
                {
                    match parse_frequency(text) {
                        Ok(f) => v[i] = f,
                        Err(why) => bad(&format!("bands.deployment_frequency.{name}"), why),
                    }
                }
                if !(v[0] >= v[1] && v[1] >= v[2]) {
                    bad(
                        "bands.deployment_frequency",
                        "elite must be at least high, and high at least medium".into(),
                    );
                }
                bands.deployments_per_day = v;
            }
            let secs = |t: &Tiers<DurationText>| {
                [t.elite.get(), t.high.get(), t.medium.get()].map(|d| d.as_secs_f64())
            };
            if let Some(t) = &b.lead_time {
                custom = true;
                bands.lead_time_secs = secs(t);
            }
            if let Some(t) = &b.recovery_time {
                custom = true;
                bands.recovery_secs = secs(t);
            }
            if let Some(t) = &b.change_failure_rate {
                custom = true;
                let v = [t.elite, t.high, t.medium];
                if v.iter().any(|p| !(0.0..=100.0).contains(p)) {
                    bad(
                        "bands.change_failure_rate",
                        "thresholds are percentages between 0 and 100".into(),
                    );
                }
                bands.change_failure_percent = v;
            }
            for (key, v) in [
                ("lead_time", bands.lead_time_secs),
                ("recovery_time", bands.recovery_secs),
                ("change_failure_rate", bands.change_failure_percent),
            ] {
                if !(v[0] <= v[1] && v[1] <= v[2]) {
                    bad(
                        &format!("bands.{key}"),
                        "elite must be at most high, and high at most medium".into(),
                    );
                }
            }
            if custom {
                bands.source =
                    format!("{CATALOG_CONFIG_FILE} dora.bands (defaults: {DEFAULT_BANDS_SOURCE})");
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(DoraConfig {
            enabled: self.enabled.unwrap_or(true),
            window,
            environment,
            fallback: self.fallback.unwrap_or_default(),
            lead_time_from: self.lead_time_from.unwrap_or_default(),
            failure_window,
            incidents: self.incidents.unwrap_or(true),
            ttl: self.ttl.as_ref().map_or(d.ttl, DurationText::get),
            bands,
        })
    }
}

/// A window must be at least a day and at most [`MAX_WINDOW`].
pub fn check_window(window: Duration) -> Result<(), String> {
    if window < Duration::from_secs(86_400) {
        Err("must be at least 1d".into())
    } else if window > MAX_WINDOW {
        Err("must be at most 366d".into())
    } else {
        Ok(())
    }
}

/// `N/day`, `N/week` or `N/month` (30 days), in deployments per day.
pub fn parse_frequency(text: &str) -> Result<f64, String> {
    let bad = || format!("'{text}' is not a frequency like 1/day, 2/week or 1/month");
    let (n, per) = text.trim().split_once('/').ok_or_else(bad)?;
    let n: f64 = n.trim().parse().map_err(|_| bad())?;
    let days = match per.trim() {
        "day" => 1.0,
        "week" => 7.0,
        "month" => 30.0,
        _ => return Err(bad()),
    };
    if !(n.is_finite() && n > 0.0) {
        return Err(bad());
    }
    Ok(n / days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(yaml: &str) -> DoraSection {
        crate::yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn defaults_cite_the_report() {
        let c = DoraSection::default().resolve().unwrap();
        assert_eq!(c.window, Duration::from_secs(90 * 86_400));
        assert_eq!(c.bands.source, DEFAULT_BANDS_SOURCE);
        assert_eq!(c.bands.change_failure_percent, [5.0, 10.0, 15.0]);
    }

    #[test]
    fn bands_are_checked_at_their_key() {
        let s = section(
            "bands:\n  deployment_frequency: {elite: 1/week, high: 1/day, medium: 1/month}\n  lead_time: {elite: 7d, high: 1d, medium: 30d}\n",
        );
        let problems = s.resolve().unwrap_err();
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            ["dora.bands.deployment_frequency", "dora.bands.lead_time"]
        );
        let s = section(
            "bands:\n  deployment_frequency: {elite: often, high: 1/day, medium: 1/month}\n",
        );
        let problems = s.resolve().unwrap_err();
        assert_eq!(problems[0].key, "dora.bands.deployment_frequency.elite");
        let ok = section("bands:\n  change_failure_rate: {elite: 10, high: 20, medium: 30}\n")
            .resolve()
            .unwrap();
        assert!(ok.bands.source.starts_with("idp.yaml dora.bands"));
    }

    #[test]
    fn frequencies() {
        assert_eq!(parse_frequency("2/week").unwrap(), 2.0 / 7.0);
        assert_eq!(parse_frequency("1/day").unwrap(), 1.0);
        for bad in ["", "1", "x/day", "1/year", "0/day", "-1/day"] {
            assert!(parse_frequency(bad).is_err(), "{bad}");
        }
    }
}
