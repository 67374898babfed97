//! Delivery performance: DORA's four keys (deployment frequency, lead time
//! for changes, change failure rate, failed deployment recovery time) per
//! entity and per team, with their performance bands and the trend
//! against the previous window.
//!
//! [`inputs`] fetches what the keys are computed from through the
//! live-data engine (it is the `live.dora` outcome `idp enrich --publish`
//! stores); [`metrics`] computes the keys of a window from them, without
//! I/O; this module assembles a [`Report`] and the `live.dora` facts
//! scorecards read. Missing data makes a key unknown with the reason,
//! never zero. Nothing here prints.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod config;
pub mod inputs;
pub mod metrics;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use crate::integrations::engine::LiveSnapshot;
use crate::integrations::{Outcome, Status};
use config::{Bands, DoraConfig};
use inputs::{Inputs, Source, NAME};
use metrics::{keys, pool, tally, Keys, Tally, Window};

/// What to compute: the window, the environment and the settings.
#[derive(Debug, Clone)]
pub struct Request {
    /// Window length.
    pub window: std::time::Duration,
    /// Production environment.
    pub environment: String,
    /// Now (the window ends here).
    pub now: DateTime<Utc>,
    /// Settings from idp.yaml.
    pub config: DoraConfig,
}

/// One entity of the report.
#[derive(Debug, Clone)]
pub struct Subject {
    /// `kind:namespace/name`.
    pub key: String,
    /// Its owner (`group:default/payments`), for the team rollup.
    pub owner: Option<String>,
}

/// The windows of a report.
#[derive(Debug, Clone, Serialize)]
pub struct Windows {
    /// Length as asked (`90d`).
    pub length: String,
    /// The window.
    pub current: Window,
    /// The window before it (trends).
    pub previous: Window,
}

/// Where an entity's inputs came from and how old they are.
#[derive(Debug, Clone, Serialize)]
pub struct DataAge {
    /// `network`, `cache` or `published`.
    pub origin: String,
    /// When the oldest answer used was fetched.
    pub fetched_at: DateTime<Utc>,
    /// Seconds between that and now (0 when in the future).
    pub age_seconds: i64,
}

/// One entity's keys.
#[derive(Debug, Clone, Serialize)]
pub struct EntityRow {
    /// `kind:namespace/name`.
    pub entity: String,
    /// Its owner.
    pub owner: Option<String>,
    /// Where its deployments came from.
    pub source: Option<Source>,
    /// How old its data is (none when nothing could be fetched).
    pub data: Option<DataAge>,
    /// The four keys.
    #[serde(flatten)]
    pub keys: Keys,
}

/// One team's keys, pooled over the entities it owns.
#[derive(Debug, Clone, Serialize)]
pub struct TeamRow {
    /// `group:namespace/name`.
    pub team: String,
    /// Its entities in the report.
    pub entities: usize,
    /// The four keys.
    #[serde(flatten)]
    pub keys: Keys,
}

/// The report `idp dora` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The windows.
    pub window: Windows,
    /// The production environment.
    pub environment: String,
    /// The band thresholds and where they come from.
    pub bands: Bands,
    /// Per entity.
    pub entities: Vec<EntityRow>,
    /// Per team.
    pub teams: Vec<TeamRow>,
}

/// The inputs of one entity from its `live.dora` outcome, or why there
/// are none.
pub fn inputs_of(outcome: Option<&Outcome>) -> Result<Inputs, String> {
    match outcome {
        None => Err("no DORA inputs were fetched".into()),
        Some(o) if o.status != Status::Ok => {
            Err(o.reason.clone().unwrap_or_else(|| "unavailable".into()))
        }
        Some(o) => Inputs::from_facts(&o.facts),
    }
}

fn tallies(inputs: &Result<Inputs, String>, req: &Request) -> (Tally, Tally) {
    let (cur, prev) = Window::current_and_previous(req.now, req.window);
    match inputs {
        Ok(i) if i.environment != req.environment => {
            let why = format!(
                "the stored inputs are for environment {} (fetch again without --offline)",
                i.environment
            );
            (
                unknown_tally(&why, cur.days()),
                unknown_tally(&why, prev.days()),
            )
        }
        Ok(i) => (tally(i, &cur, &req.config), tally(i, &prev, &req.config)),
        Err(why) => (
            unknown_tally(why, cur.days()),
            unknown_tally(why, prev.days()),
        ),
    }
}

fn unknown_tally(why: &str, days: f64) -> Tally {
    Tally {
        deployments: Err(why.into()),
        days,
        lead_times: Err(why.into()),
        failures: Err(why.into()),
        recoveries: Err(why.into()),
    }
}

/// The report over `subjects`, from the `live.dora` outcomes of
/// `snapshot`; `teams` lists each team and the subject keys it rolls up.
pub fn report(
    subjects: &[Subject],
    teams: &[(String, Vec<String>)],
    snapshot: &LiveSnapshot,
    req: &Request,
    window_text: &str,
) -> Report {
    let (current, previous) = Window::current_and_previous(req.now, req.window);
    let mut by_key: BTreeMap<&str, (Tally, Tally)> = BTreeMap::new();
    let mut entities = Vec::new();
    for s in subjects {
        let outcome = snapshot.of(&s.key).and_then(|o| o.get(NAME));
        let inputs = inputs_of(outcome);
        let (cur, prev) = tallies(&inputs, req);
        let data = outcome.filter(|o| o.status == Status::Ok).map(|o| DataAge {
            origin: o.source.clone(),
            fetched_at: o.fetched_at,
            age_seconds: (req.now - o.fetched_at).num_seconds().max(0),
        });
        entities.push(EntityRow {
            entity: s.key.clone(),
            owner: s.owner.clone(),
            source: inputs.as_ref().ok().map(|i| i.source),
            data,
            keys: keys(&cur, &prev, &req.config.bands),
        });
        by_key.insert(&s.key, (cur, prev));
    }
    let teams = teams
        .iter()
        .map(|(team, members)| {
            let (cur, prev): (Vec<Tally>, Vec<Tally>) = members
                .iter()
                .filter_map(|m| by_key.get(m.as_str()).cloned())
                .unzip();
            let (cur, known) = pool(&cur);
            let (prev, _) = pool(&prev);
            let mut k = keys(&cur, &prev, &req.config.bands);
            let n = members.len();
            for (key, known) in [
                &mut k.deployment_frequency,
                &mut k.lead_time,
                &mut k.change_failure_rate,
                &mut k.recovery_time,
            ]
            .into_iter()
            .zip(known)
            {
                if known > 0 && known < n {
                    key.coverage = Some(format!("{known}/{n}"));
                }
            }
            TeamRow {
                team: team.clone(),
                entities: n,
                keys: k,
            }
        })
        .collect();
    Report {
        window: Windows {
            length: window_text.to_string(),
            current,
            previous,
        },
        environment: req.environment.clone(),
        bands: req.config.bands.clone(),
        entities,
        teams,
    }
}

/// Turns every `live.dora` outcome of `snapshot` (the inputs) into the
/// facts scorecards read: `live.dora.<key>` = `{value, band, p90, count,
/// previous, trend}` for `deployment_frequency` (per day), `lead_time`
/// (median seconds), `change_failure_rate` (percent) and `recovery_time`
/// (median seconds), plus `source`. An unknown key is left out and listed
/// in `unavailable_facts` with the reason, so a rule reading it is unknown.
pub fn into_facts(snapshot: &mut LiveSnapshot, req: &Request) {
    for outcomes in snapshot.entities.values_mut() {
        let Some(o) = outcomes.get_mut(NAME) else {
            continue;
        };
        if o.status != Status::Ok {
            continue;
        }
        let inputs = inputs_of(Some(o));
        let (cur, prev) = tallies(&inputs, req);
        let k = keys(&cur, &prev, &req.config.bands);
        let mut facts = serde_json::Map::new();
        let mut failed = BTreeMap::new();
        facts.insert(
            "source".into(),
            inputs.as_ref().map_or(Value::Null, |i| json!(i.source)),
        );
        for (name, key) in [
            ("deployment_frequency", &k.deployment_frequency),
            ("lead_time", &k.lead_time),
            ("change_failure_rate", &k.change_failure_rate),
            ("recovery_time", &k.recovery_time),
        ] {
            match &key.unknown {
                Some(why) => {
                    facts.insert(name.into(), Value::Null);
                    failed.insert(name.to_string(), why.clone());
                }
                None => {
                    let mut v = serde_json::to_value(key).unwrap_or(Value::Null);
                    if let Some(m) = v.as_object_mut() {
                        m.retain(|_, x| !x.is_null());
                    }
                    facts.insert(name.into(), v);
                }
            }
        }
        o.facts = facts;
        o.unavailable_facts = failed;
    }
}

/// Why `idp dora` cannot run.
#[derive(Debug, thiserror::Error)]
pub enum DoraError {
    /// The `dora:` section has problems.
    #[error("{CATALOG}: {}", .0.iter().map(|p| format!("{}: {}", p.key, p.message)).collect::<Vec<_>>().join("; "))]
    Config(Vec<config::Problem>),
    /// No GitHub integration is configured (deployments come from it).
    #[error("{CATALOG}: DORA needs the github integration (integrations: github:), where deployments, commits and pull requests come from")]
    NoGithub,
}

const CATALOG: &str = crate::catalog::config::CATALOG_CONFIG_FILE;

/// The entities of a report and the teams to roll up: every entity linked
/// to a repository (`github.com/project-slug`), or those a group (and its
/// subgroups) owns, or one entity. Teams are the owning groups (for a
/// group: the group itself, over everything below it).
pub fn subjects(
    catalog: &crate::catalog::Catalog,
    target: Option<&crate::catalog::Entity>,
) -> (Vec<Subject>, Vec<(String, Vec<String>)>) {
    use crate::catalog::relations::RelationType;
    use crate::integrations::github::PROJECT_SLUG;
    let linked = |e: &crate::catalog::Entity| {
        !e.kind.eq_ignore_ascii_case("group")
            && !e.kind.eq_ignore_ascii_case("user")
            && e.doc()
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(PROJECT_SLUG))
                .and_then(Value::as_str)
                .is_some_and(|s| !s.trim().is_empty())
    };
    let owner =
        |e: &crate::catalog::Entity| e.related(RelationType::OwnedBy).next().map(|o| o.key());
    let subject = |e: &crate::catalog::Entity| Subject {
        key: e.entity_ref().key(),
        owner: owner(e),
    };
    match target {
        Some(t) if t.kind.eq_ignore_ascii_case("group") => {
            let groups = crate::catalog::query::descendants(catalog, &t.entity_ref());
            let subjects: Vec<Subject> = catalog
                .entities
                .iter()
                .filter(|e| linked(e))
                .filter(|e| {
                    e.related(RelationType::OwnedBy)
                        .any(|o| groups.contains(&o.key()))
                })
                .map(subject)
                .collect();
            let members = subjects.iter().map(|s| s.key.clone()).collect();
            (subjects, vec![(t.entity_ref().key(), members)])
        }
        Some(t) => (vec![subject(t)], Vec::new()),
        None => {
            let subjects: Vec<Subject> = catalog
                .entities
                .iter()
                .filter(|e| linked(e))
                .map(subject)
                .collect();
            let mut teams: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for s in &subjects {
                if let Some(o) = s.owner.as_ref().filter(|o| o.starts_with("group:")) {
                    teams.entry(o.clone()).or_default().push(s.key.clone());
                }
            }
            (subjects, teams.into_iter().collect())
        }
    }
}
