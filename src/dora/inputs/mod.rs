//! What the four keys are computed from, fetched through the live-data
//! engine: production deployments with their final state, the commits
//! each successful one shipped, merged revert pull requests, and the
//! incidents of the entity's PagerDuty service. The inputs are the
//! `live.dora` outcome `idp enrich --publish` stores, so engineers (and
//! `--offline`) compute the keys for any window inside the fetched horizon
//! without asking the APIs.
//!
//! Requests (GitHub REST v3, PagerDuty REST v2), per entity:
//! `GET /repos/{o}/{r}/deployments?environment=…&per_page=100` (newest
//! first, pages followed by `Link: rel="next"` until one is older than the
//! horizon), `GET …/deployments/{id}/statuses?per_page=100` for each,
//! `GET …/compare/{base}...{head}?per_page=100` between consecutive
//! successful deployments, `GET …/pulls?state=closed&sort=updated&direction=desc&per_page=100`
//! (until older than the horizon) for reverts, and `GET /incidents?service_ids[]=…&since=…&until=…`
//! (`offset`/`more` paging, ranges of at most 181 days). Fallbacks:
//! `GET …/releases?per_page=100`, or Argo CD's `GET /api/v1/applications/{name}`
//! (its `status.history`). HTTP, limits, cache, ETags, single-flight and
//! the deadline are the shared client's.
//!
//! Anything cut short (a page limit reached, a sub-request refused) is
//! recorded with the reason, so the key depending on it is unknown rather
//! than computed from part of the data.
//!
//! The assembled inputs of an entity are cached whole too (one file, keyed
//! by everything they depend on, dated by their oldest answer), so a warm
//! run reads one file per entity instead of one per request; inputs with a
//! failed request are not, so that request is asked again next time.
//!
//! One file per source: [`deployments`] (GitHub deployments and their
//! statuses), [`compare`] (the commits each one shipped, for lead time),
//! [`reverts`] (revert pull requests), [`incidents`] (PagerDuty),
//! [`releases`] and [`argo`] (Argo CD; the fallbacks); this file holds the types,
//! the integration and the assembly of one entity's inputs.

mod argo;
mod compare;
mod deployments;
mod incidents;
mod releases;
mod reverts;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration as Span, DurationRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::config::{DoraConfig, Fallback};
use crate::integrations::config::IntegrationConfig;
use crate::integrations::{
    argocd, github, pagerduty, BoxFuture, EntityView, FetchContext, FetchError, Fetched,
    Integration, Request,
};

/// The name of the inputs under `live.` (and in the published snapshot).
pub const NAME: &str = "dora";

/// GitHub's media type and API version (as the github integration sends).
const GH_ACCEPT: &str = "application/vnd.github+json";
const GH_API_VERSION: &str = "2022-11-28";
const PD_ACCEPT: &str = "application/vnd.pagerduty+json;version=2";
/// Pages of deployments, pull requests or releases followed at most.
pub const MAX_PAGES: usize = 10;
/// Pages of one comparison followed at most (GitHub lists 250 commits at most anyway).
const MAX_COMPARE_PAGES: usize = 3;
/// Pages of incidents per range followed at most.
const MAX_INCIDENT_PAGES: usize = 20;
/// Deployments older than the horizon tried as the base of the first one.
const MAX_BASE_TRIES: usize = 3;
/// PagerDuty refuses `since`/`until` ranges longer than six months; the
/// shortest six months have 181 days (two 90-day windows and the day
/// rounding fit in one request).
const PD_RANGE_DAYS: i64 = 181;

/// Where the deployments came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// GitHub deployments with statuses.
    Deployments,
    /// Published GitHub releases (fallback).
    Releases,
    /// Argo CD sync history (fallback).
    Argocd,
}

/// The final state of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Some status said `success`.
    Success,
    /// No success, and a status said `failure` or `error`.
    Failure,
    /// Still queued, pending or in progress (not counted).
    Pending,
}

/// One deployment to the production environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// GitHub's deployment id (or release id, or Argo CD history id).
    pub id: String,
    /// The commit (or tag) deployed.
    pub sha: String,
    /// When it was requested.
    pub created_at: DateTime<Utc>,
    /// Its final state.
    pub state: State,
    /// When it succeeded or failed (the status's time).
    pub finished_at: Option<DateTime<Utc>>,
    /// It redeployed an older version (or says it is a rollback).
    #[serde(default)]
    pub rollback: bool,
    /// Older than the horizon: only the base of the first comparison.
    #[serde(default)]
    pub base: bool,
    /// The commits it shipped since the previous successful deployment;
    /// `None` when unknown (the first one, with no earlier base).
    #[serde(default)]
    pub changes: Option<Vec<Change>>,
    /// Why `changes` is partial or missing, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes_unknown: Option<String>,
}

/// One commit shipped by a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The commit.
    pub sha: String,
    /// Its author date (first committed).
    pub authored_at: DateTime<Utc>,
    /// Its committer date (landed on the branch).
    pub committed_at: DateTime<Utc>,
}

/// A merged revert pull request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revert {
    /// Its number.
    pub number: u64,
    /// When it was merged.
    pub merged_at: DateTime<Utc>,
}

/// A PagerDuty incident on the entity's service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Its id.
    pub id: String,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it was resolved (`None`: still open).
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Everything fetched for one entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inputs {
    /// `owner/repo`.
    pub repository: String,
    /// The production environment.
    pub environment: String,
    /// Start of the fetched horizon.
    pub since: DateTime<Utc>,
    /// End of the fetched horizon.
    pub until: DateTime<Utc>,
    /// Where deployments came from.
    pub source: Source,
    /// Deployments, oldest first (a `base` one may come first).
    pub deployments: Vec<Deployment>,
    /// Why the deployment list is incomplete, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployments_unknown: Option<String>,
    /// Merged revert pull requests (`None`: unknown, see `reverts_unknown`).
    pub reverts: Option<Vec<Revert>>,
    /// Why the reverts are unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverts_unknown: Option<String>,
    /// Incidents (`None`: not counted or unknown).
    pub incidents: Option<Vec<Incident>>,
    /// Why the incidents are unknown (`None` with `incidents: None`: not counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incidents_unknown: Option<String>,
}

impl Inputs {
    /// The inputs in a `live.dora` fact map.
    pub fn from_facts(facts: &serde_json::Map<String, Value>) -> Result<Inputs, String> {
        serde_json::from_value(Value::Object(facts.clone()))
            .map_err(|e| format!("the stored DORA inputs do not read: {e}"))
    }
}

/// The horizon to fetch for `window` (and the previous window) ending at
/// `now`: whole UTC days, so the URLs (and the cache) stay the same all day.
pub fn horizon(now: DateTime<Utc>, window: std::time::Duration) -> (DateTime<Utc>, DateTime<Utc>) {
    let day = Span::days(1);
    let until = now.duration_trunc(day).unwrap_or(now) + day;
    let since = until - Span::from_std(window * 2).unwrap_or(Span::days(180)) - day;
    (since, until)
}

/// The engine integration that fetches [`Inputs`]: it holds the GitHub
/// (and PagerDuty, Argo CD) entries and sends its requests as theirs, so
/// their hosts' limits, tokens and cache apply.
pub struct DoraInputs {
    github: IntegrationConfig,
    pagerduty: Option<IntegrationConfig>,
    argocd: Option<IntegrationConfig>,
    config: DoraConfig,
    environment: String,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
}

impl DoraInputs {
    /// Inputs over `[since, until)` for `environment`, with the configured
    /// integrations (`github` required).
    pub fn new(
        github: &IntegrationConfig,
        pagerduty: Option<&IntegrationConfig>,
        argocd: Option<&IntegrationConfig>,
        config: &DoraConfig,
        environment: &str,
        (since, until): (DateTime<Utc>, DateTime<Utc>),
    ) -> Arc<Self> {
        let with_ttl = |c: &IntegrationConfig| {
            let mut c = c.clone();
            c.ttl = config.ttl;
            c
        };
        Arc::new(DoraInputs {
            github: with_ttl(github),
            pagerduty: pagerduty.map(with_ttl),
            argocd: argocd.map(with_ttl),
            config: config.clone(),
            environment: environment.to_string(),
            since,
            until,
        })
    }

    /// The entry the engine keeps for it: GitHub's host and limits under
    /// the name `dora`, fresh for `dora.ttl`.
    pub fn entry(&self) -> IntegrationConfig {
        let mut c = self.github.clone();
        c.name = NAME.into();
        c
    }
}

impl Integration for DoraInputs {
    fn name(&self) -> &str {
        NAME
    }

    fn absent_reason(&self, entity: &EntityView) -> Option<String> {
        entity
            .annotation(github::PROJECT_SLUG)
            .is_none()
            .then(|| format!("no {} annotation", github::PROJECT_SLUG))
    }

    fn fetch<'a>(
        &'a self,
        cx: &'a FetchContext<'a>,
        entity: &'a EntityView,
    ) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(async move {
            // One cached file instead of hundreds of answers (warm runs).
            let key = self.derived_key(entity);
            if let Some(Value::Object(facts)) = cx.client.derived(NAME, &key, self.config.ttl) {
                return Ok(facts.into());
            }
            let failed = AtomicBool::new(false);
            let inputs = self.inputs(cx, entity, &failed).await?;
            let Value::Object(facts) = serde_json::to_value(&inputs)
                .map_err(|e| FetchError::Other(format!("DORA inputs: {e}")))?
            else {
                return Err(FetchError::Other("DORA inputs: not an object".into()));
            };
            // A request that failed is asked again next time, as the
            // engine does for any answer it did not get.
            if !failed.load(Ordering::Relaxed) {
                cx.client
                    .store_derived(NAME, &key, Value::Object(facts.clone()));
            }
            Ok(facts.into())
        })
    }
}

fn slug(entity: &EntityView) -> Result<(String, String), FetchError> {
    let text = entity.annotation(github::PROJECT_SLUG).unwrap_or_default();
    let (owner, name) = github::parse_slug(github::PROJECT_SLUG, text)?;
    Ok((owner.to_string(), name.to_string()))
}

fn time(v: &Value, pointer: &str) -> Option<DateTime<Utc>> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn text<'v>(v: &'v Value, pointer: &str) -> Option<&'v str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn array<'v>(body: &'v Value, what: &str) -> Result<&'v Vec<Value>, FetchError> {
    body.as_array()
        .ok_or_else(|| FetchError::decode(what.to_string(), "not an array"))
}

impl DoraInputs {
    fn gh<'c>(&'c self, cx: &FetchContext<'c>) -> FetchContext<'c> {
        FetchContext {
            client: cx.client,
            config: &self.github,
        }
    }

    fn gh_request(&self, path: &str) -> Result<Request, FetchError> {
        Ok(Request::for_integration(&self.github, path)?
            .accept(GH_ACCEPT)
            .header("X-GitHub-Api-Version", GH_API_VERSION))
    }

    /// What the inputs of `entity` depend on, as the key of their cached
    /// copy: the hosts, the annotations read, the environment, the horizon
    /// and the settings that change what is fetched.
    fn derived_key(&self, entity: &EntityView) -> String {
        let base = |c: &Option<IntegrationConfig>| {
            c.as_ref().map_or(String::new(), |c| c.base_url.to_string())
        };
        format!(
            "dora-inputs/1 github={} slug={} environment={} since={} until={} fallback={:?} incidents={} pagerduty={} service={} argocd={} app={}",
            self.github.base_url,
            entity.annotation(github::PROJECT_SLUG).unwrap_or_default(),
            self.environment,
            self.since.to_rfc3339(),
            self.until.to_rfc3339(),
            self.config.fallback,
            self.config.incidents,
            base(&self.pagerduty),
            entity.annotation(pagerduty::SERVICE_ID).unwrap_or_default(),
            base(&self.argocd),
            entity.annotation(argocd::APP_NAME).unwrap_or_default(),
        )
    }

    /// `failed` is set when a request failed (its key then says why): such
    /// inputs are not cached as a whole.
    async fn inputs(
        &self,
        cx: &FetchContext<'_>,
        entity: &EntityView,
        failed: &AtomicBool,
    ) -> Result<Inputs, FetchError> {
        let (owner, repo) = slug(entity)?;
        let base = format!("/repos/{owner}/{repo}");
        let gh = self.gh(cx);
        let (mut deployments, mut source, mut deployments_unknown) =
            self.deployments(&gh, &base).await?;
        if deployments.is_empty() && deployments_unknown.is_none() {
            match self.config.fallback {
                Fallback::None => {}
                Fallback::Releases => {
                    (deployments, deployments_unknown) = self.releases(&gh, &base).await?;
                    source = Source::Releases;
                }
                Fallback::Argocd => {
                    (deployments, deployments_unknown) = self.argocd(cx, entity, failed).await;
                    source = Source::Argocd;
                }
            }
        }
        mark_rollbacks(&mut deployments);
        let changes = self.changes(&gh, &base, &mut deployments, failed);
        let reverts = self.reverts(&gh, &base, failed);
        let incidents = self.incidents(cx, entity, failed);
        let ((), reverts, incidents) = tokio::join!(changes, reverts, incidents);
        let (reverts, reverts_unknown) = split(reverts);
        let (incidents, incidents_unknown) = match incidents {
            None => (None, None),
            Some(r) => split(r),
        };
        Ok(Inputs {
            repository: format!("{owner}/{repo}"),
            environment: self.environment.clone(),
            since: self.since,
            until: self.until,
            source,
            deployments,
            deployments_unknown,
            reverts,
            reverts_unknown,
            incidents,
            incidents_unknown,
        })
    }
}

fn split<T>(r: Result<T, String>) -> (Option<T>, Option<String>) {
    match r {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e)),
    }
}

/// A successful deployment of a commit an earlier successful deployment
/// (not the one just before) shipped goes back: a rollback.
fn mark_rollbacks(deployments: &mut [Deployment]) {
    let mut seen: Vec<String> = Vec::new();
    for d in deployments.iter_mut() {
        if d.state != State::Success {
            continue;
        }
        if seen.len() >= 2 && seen[..seen.len() - 1].contains(&d.sha) && seen.last() != Some(&d.sha)
        {
            d.rollback = true;
        }
        seen.push(d.sha.clone());
    }
}

/// Runs futures together on the current task (tokio's `join!` for a list).
async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(sha: &str, day: u32) -> Deployment {
        let at = format!("2026-11-{day:02}T12:00:00Z").parse().unwrap();
        Deployment {
            id: sha.into(),
            sha: sha.into(),
            created_at: at,
            state: State::Success,
            finished_at: Some(at),
            rollback: false,
            base: false,
            changes: None,
            changes_unknown: None,
        }
    }

    #[test]
    fn redeploying_an_older_commit_is_a_rollback() {
        let mut d = vec![
            dep("a", 1),
            dep("b", 2),
            dep("a", 3),
            dep("a", 4),
            dep("c", 5),
        ];
        mark_rollbacks(&mut d);
        let r: Vec<bool> = d.iter().map(|d| d.rollback).collect();
        assert_eq!(r, [false, false, true, false, false]);
    }

    #[test]
    fn the_horizon_is_whole_days_covering_two_windows() {
        let now = "2026-12-01T10:30:00Z".parse().unwrap();
        let (since, until) = horizon(now, std::time::Duration::from_secs(90 * 86_400));
        assert_eq!(until.to_rfc3339(), "2026-12-02T00:00:00+00:00");
        assert_eq!(since.to_rfc3339(), "2026-06-04T00:00:00+00:00");
    }
}
