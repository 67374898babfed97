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

use std::sync::Arc;

use chrono::{DateTime, Duration as Span, DurationRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::config::{DoraConfig, Fallback};
use crate::integrations::config::IntegrationConfig;
use crate::integrations::{
    argocd, github, pagerduty, BoxFuture, EntityView, FetchContext, FetchError, Fetched,
    Integration, Request, Response,
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
            let inputs = self.inputs(cx, entity).await?;
            let Value::Object(facts) = serde_json::to_value(&inputs)
                .map_err(|e| FetchError::Other(format!("DORA inputs: {e}")))?
            else {
                return Err(FetchError::Other("DORA inputs: not an object".into()));
            };
            Ok(facts.into())
        })
    }
}

fn slug(entity: &EntityView) -> Result<(String, String), FetchError> {
    let text = entity.annotation(github::PROJECT_SLUG).unwrap_or_default();
    let valid = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match text.split_once('/') {
        Some((a, b)) if valid(a) && valid(b) => {
            Ok((a.to_string(), b.trim_end_matches(".git").to_string()))
        }
        _ => Err(FetchError::Other(format!(
            "{} '{text}' is not of the form owner/name",
            github::PROJECT_SLUG
        ))),
    }
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

    async fn inputs(
        &self,
        cx: &FetchContext<'_>,
        entity: &EntityView,
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
                    (deployments, deployments_unknown) = self.argocd(cx, entity).await;
                    source = Source::Argocd;
                }
            }
        }
        mark_rollbacks(&mut deployments);
        let changes = self.changes(&gh, &base, &mut deployments);
        let reverts = self.reverts(&gh, &base);
        let incidents = self.incidents(cx, entity);
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

    /// Production deployments in the horizon with their states, oldest
    /// first, preceded by the newest successful older one (the base).
    async fn deployments(
        &self,
        gh: &FetchContext<'_>,
        base: &str,
    ) -> Result<(Vec<Deployment>, Source, Option<String>), FetchError> {
        let req = self
            .gh_request(&format!("{base}/deployments"))?
            .query("environment", &self.environment)
            .query("per_page", "100")
            .allow_status(404);
        let mut resp = gh.get(req).await?;
        if resp.status == 404 {
            return Err(FetchError::Status {
                host: gh.config.host(),
                code: 404,
                message: format!(
                    "repository {} not found (or the token cannot see it)",
                    &base[7..]
                ),
            });
        }
        let mut listed: Vec<(String, String, DateTime<Utc>, String)> = Vec::new();
        let mut older: Vec<(String, String, DateTime<Utc>, String)> = Vec::new();
        let mut unknown = None;
        for page in 1.. {
            for d in array(&resp.body, "GitHub deployments")? {
                let id = d["id"].as_u64().ok_or_else(|| {
                    FetchError::decode("GitHub deployments", "a deployment has no numeric id")
                })?;
                let (Some(sha), Some(at)) = (text(d, "/sha"), time(d, "/created_at")) else {
                    return Err(FetchError::decode(
                        "GitHub deployments",
                        "a deployment has no sha or created_at",
                    ));
                };
                let note = format!(
                    "{} {}",
                    text(d, "/task").unwrap_or(""),
                    text(d, "/description").unwrap_or("")
                );
                let row = (id.to_string(), sha.to_string(), at, note);
                if at >= self.since {
                    listed.push(row);
                } else {
                    older.push(row);
                }
            }
            if older.len() >= MAX_BASE_TRIES {
                break;
            }
            let Some(next) = resp.link("next") else { break };
            if !older.is_empty() {
                break;
            }
            if page >= MAX_PAGES {
                unknown = Some(format!(
                    "more than {MAX_PAGES} pages of deployments (100 each) in the window; the list was cut short"
                ));
                break;
            }
            resp = gh.get(self.gh_request(&next)?).await?;
        }
        // States of the deployments in the horizon, together.
        let states = futures_join_all(
            listed
                .iter()
                .map(|(id, ..)| self.deployment_state(gh, base, id))
                .collect(),
        )
        .await;
        let mut out = Vec::new();
        for ((id, sha, created_at, note), state) in listed.into_iter().zip(states) {
            let (state, finished_at) = state?;
            out.push(Deployment {
                id,
                sha,
                created_at,
                state,
                finished_at,
                rollback: note.to_ascii_lowercase().contains("rollback"),
                base: false,
                changes: None,
                changes_unknown: None,
            });
        }
        // The newest successful one before the horizon, if any.
        for (id, sha, created_at, _) in older.into_iter().take(MAX_BASE_TRIES) {
            let (state, finished_at) = self.deployment_state(gh, base, &id).await?;
            if state == State::Success {
                out.push(Deployment {
                    id,
                    sha,
                    created_at,
                    state,
                    finished_at,
                    rollback: false,
                    base: true,
                    changes: None,
                    changes_unknown: None,
                });
                break;
            }
        }
        out.sort_by_key(|d| d.created_at);
        Ok((out, Source::Deployments, unknown))
    }

    /// The state of one deployment from its statuses (newest first): a
    /// success anywhere makes it successful, at that status's time (a later
    /// `inactive` only says a newer one replaced it).
    async fn deployment_state(
        &self,
        gh: &FetchContext<'_>,
        base: &str,
        id: &str,
    ) -> Result<(State, Option<DateTime<Utc>>), FetchError> {
        let req = self
            .gh_request(&format!("{base}/deployments/{id}/statuses"))?
            .query("per_page", "100");
        let resp = gh.get(req).await?;
        let statuses = array(&resp.body, "GitHub deployment statuses")?;
        let at = |s: &Value| time(s, "/created_at");
        if let Some(s) = statuses
            .iter()
            .rev()
            .find(|s| text(s, "/state") == Some("success"))
        {
            return Ok((State::Success, at(s)));
        }
        if let Some(s) = statuses
            .iter()
            .rev()
            .find(|s| matches!(text(s, "/state"), Some("failure" | "error")))
        {
            return Ok((State::Failure, at(s)));
        }
        Ok((State::Pending, None))
    }

    /// Published releases in the horizon as successful deployments.
    async fn releases(
        &self,
        gh: &FetchContext<'_>,
        base: &str,
    ) -> Result<(Vec<Deployment>, Option<String>), FetchError> {
        let req = self
            .gh_request(&format!("{base}/releases"))?
            .query("per_page", "100");
        let mut resp = gh.get(req).await?;
        let mut out = Vec::new();
        let mut base_found = false;
        for page in 1.. {
            for r in array(&resp.body, "GitHub releases")? {
                if r["draft"].as_bool() == Some(true) || r["prerelease"].as_bool() == Some(true) {
                    continue;
                }
                let (Some(tag), Some(at)) = (text(r, "/tag_name"), time(r, "/published_at")) else {
                    continue;
                };
                let older = at < self.since;
                if older && base_found {
                    continue;
                }
                base_found |= older;
                out.push(Deployment {
                    id: r["id"]
                        .as_u64()
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| tag.to_string()),
                    sha: tag.to_string(),
                    created_at: at,
                    state: State::Success,
                    finished_at: Some(at),
                    rollback: false,
                    base: older,
                    changes: None,
                    changes_unknown: None,
                });
            }
            if base_found {
                break;
            }
            let Some(next) = resp.link("next") else { break };
            if page >= MAX_PAGES {
                out.sort_by_key(|d| d.created_at);
                return Ok((
                    out,
                    Some(format!("more than {MAX_PAGES} pages of releases in the window; the list was cut short")),
                ));
            }
            resp = gh.get(self.gh_request(&next)?).await?;
        }
        out.sort_by_key(|d| d.created_at);
        Ok((out, None))
    }

    /// Argo CD's sync history as successful deployments.
    async fn argocd(
        &self,
        cx: &FetchContext<'_>,
        entity: &EntityView,
    ) -> (Vec<Deployment>, Option<String>) {
        let Some(cfg) = &self.argocd else {
            return (
                Vec::new(),
                Some("dora.fallback is argocd but no argocd integration is configured".into()),
            );
        };
        let Some(name) = entity.annotation(argocd::APP_NAME) else {
            return (
                Vec::new(),
                Some(format!(
                    "no {} annotation for the Argo CD fallback",
                    argocd::APP_NAME
                )),
            );
        };
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return (
                Vec::new(),
                Some(format!(
                    "{} '{name}' is not an application name",
                    argocd::APP_NAME
                )),
            );
        }
        let ax = FetchContext {
            client: cx.client,
            config: cfg,
        };
        let resp = match cx_request(&ax, &format!("/api/v1/applications/{name}")) {
            Ok(req) => ax.get(req).await,
            Err(e) => Err(e),
        };
        let body = match resp {
            Ok(r) => r.body,
            Err(e) => return (Vec::new(), Some(format!("Argo CD: {e}"))),
        };
        let mut out: Vec<Deployment> = body
            .pointer("/status/history")
            .and_then(Value::as_array)
            .map(|h| {
                h.iter()
                    .filter_map(|e| {
                        let at = time(e, "/deployedAt")?;
                        Some(Deployment {
                            id: e["id"].as_u64().map(|i| i.to_string()).unwrap_or_default(),
                            sha: text(e, "/revision")?.to_string(),
                            created_at: time(e, "/deployStartedAt").unwrap_or(at),
                            state: State::Success,
                            finished_at: Some(at),
                            rollback: false,
                            base: at < self.since,
                            changes: None,
                            changes_unknown: None,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort_by_key(|d| d.created_at);
        // Keep the newest older one as the base only.
        let olds = out.iter().filter(|d| d.base).count();
        if olds > 1 {
            out.drain(..olds - 1);
        }
        (out, None)
    }

    /// The commits each successful deployment shipped since the previous
    /// successful one (a rollback ships nothing new).
    async fn changes(&self, gh: &FetchContext<'_>, base: &str, deployments: &mut [Deployment]) {
        let ok: Vec<usize> = (0..deployments.len())
            .filter(|&i| deployments[i].state == State::Success)
            .collect();
        let mut jobs = Vec::new();
        for pair in ok.windows(2) {
            let (prev, cur) = (&deployments[pair[0]], &deployments[pair[1]]);
            if cur.rollback || prev.sha == cur.sha {
                continue;
            }
            jobs.push((pair[1], prev.sha.clone(), cur.sha.clone()));
        }
        let results = futures_join_all(
            jobs.iter()
                .map(|(_, a, b)| self.compare(gh, base, a, b))
                .collect(),
        )
        .await;
        for (i, d) in deployments.iter_mut().enumerate() {
            if d.state == State::Success && !d.base {
                d.changes = Some(Vec::new());
            }
            if ok.first() == Some(&i) && !d.base {
                d.changes = None;
                d.changes_unknown = Some("no earlier successful deployment to compare with".into());
            }
        }
        for ((i, ..), result) in jobs.into_iter().zip(results) {
            match result {
                Ok((commits, None)) => deployments[i].changes = Some(commits),
                Ok((commits, Some(why))) => {
                    deployments[i].changes = Some(commits);
                    deployments[i].changes_unknown = Some(why);
                }
                Err(e) => {
                    deployments[i].changes = None;
                    deployments[i].changes_unknown = Some(e.to_string());
                }
            }
        }
    }

    /// `GET /repos/{o}/{r}/compare/{a}...{b}`: the commits in `b` not in `a`.
    async fn compare(
        &self,
        gh: &FetchContext<'_>,
        base: &str,
        a: &str,
        b: &str,
    ) -> Result<(Vec<Change>, Option<String>), FetchError> {
        let ok = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        };
        if !ok(a) || !ok(b) {
            return Err(FetchError::Other(format!(
                "cannot compare '{a}' with '{b}'"
            )));
        }
        let req = self
            .gh_request(&format!("{base}/compare/{a}...{b}"))?
            .query("per_page", "100");
        let mut resp = gh.get(req).await?;
        let total = resp.body["total_commits"].as_u64();
        let mut out = Vec::new();
        for page in 1.. {
            let commits = resp.body["commits"]
                .as_array()
                .ok_or_else(|| FetchError::decode("GitHub compare", "no commits array"))?;
            for c in commits {
                let (Some(sha), Some(authored), Some(committed)) = (
                    text(c, "/sha"),
                    time(c, "/commit/author/date"),
                    time(c, "/commit/committer/date"),
                ) else {
                    return Err(FetchError::decode(
                        "GitHub compare",
                        "a commit has no sha or dates",
                    ));
                };
                out.push(Change {
                    sha: sha.to_string(),
                    authored_at: authored,
                    committed_at: committed,
                });
            }
            let Some(next) = resp.link("next") else { break };
            if page >= MAX_COMPARE_PAGES {
                break;
            }
            resp = gh.get(self.gh_request(&next)?).await?;
        }
        let cut = match total {
            Some(t) if (out.len() as u64) < t => Some(format!(
                "the comparison {a}...{b} lists {} of its {t} commits",
                out.len()
            )),
            _ => None,
        };
        Ok((out, cut))
    }

    /// Merged pull requests titled `Revert …` (GitHub's revert button),
    /// updated in the horizon.
    async fn reverts(&self, gh: &FetchContext<'_>, base: &str) -> Result<Vec<Revert>, String> {
        let go = async {
            let req = self
                .gh_request(&format!("{base}/pulls"))?
                .query("state", "closed")
                .query("sort", "updated")
                .query("direction", "desc")
                .query("per_page", "100");
            let mut resp = gh.get(req).await?;
            let mut out = Vec::new();
            for page in 1.. {
                let mut done = false;
                for p in array(&resp.body, "GitHub pull requests")? {
                    if time(p, "/updated_at").is_some_and(|t| t < self.since) {
                        done = true;
                        continue;
                    }
                    let title = text(p, "/title").unwrap_or("").trim_start();
                    let is_revert = title.len() >= 7 && title[..7].eq_ignore_ascii_case("revert ");
                    if let (true, Some(at)) = (is_revert, time(p, "/merged_at")) {
                        out.push(Revert {
                            number: p["number"].as_u64().unwrap_or(0),
                            merged_at: at,
                        });
                    }
                }
                if done {
                    break;
                }
                let Some(next) = resp.link("next") else { break };
                if page >= MAX_PAGES {
                    return Ok(Err(format!(
                        "more than {MAX_PAGES} pages of closed pull requests in the window; reverts were cut short"
                    )));
                }
                resp = gh.get(self.gh_request(&next)?).await?;
            }
            out.sort_by_key(|r| r.merged_at);
            Ok::<_, FetchError>(Ok(out))
        };
        match go.await {
            Ok(r) => r,
            Err(e) => Err(format!("revert pull requests: {e}")),
        }
    }

    /// The incidents of the entity's service in the horizon; `None` when
    /// incidents are not counted (`dora.incidents: false`).
    async fn incidents(
        &self,
        cx: &FetchContext<'_>,
        entity: &EntityView,
    ) -> Option<Result<Vec<Incident>, String>> {
        if !self.config.incidents {
            return None;
        }
        let Some(cfg) = &self.pagerduty else {
            return Some(Err(
                "no pagerduty integration configured (set dora.incidents: false to count failures without incidents)".into(),
            ));
        };
        let Some(service) = entity.annotation(pagerduty::SERVICE_ID) else {
            return Some(Err(format!("no {} annotation", pagerduty::SERVICE_ID)));
        };
        if !service.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Some(Err(format!(
                "{} '{service}' is not a PagerDuty id",
                pagerduty::SERVICE_ID
            )));
        }
        let px = FetchContext {
            client: cx.client,
            config: cfg,
        };
        let mut out = Vec::new();
        let mut from = self.since;
        while from < self.until {
            let to = (from + Span::days(PD_RANGE_DAYS)).min(self.until);
            match incidents_in(&px, service, from, to).await {
                Ok(mut v) => out.append(&mut v),
                Err(e) => return Some(Err(format!("PagerDuty incidents: {e}"))),
            }
            from = to;
        }
        out.sort_by_key(|i| i.created_at);
        out.dedup_by(|a, b| a.id == b.id);
        Some(Ok(out))
    }
}

fn cx_request(cx: &FetchContext<'_>, path: &str) -> Result<Request, FetchError> {
    cx.request(path)
}

/// One range of `/incidents`, every page (`more`, `offset`).
async fn incidents_in(
    px: &FetchContext<'_>,
    service: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<Incident>, FetchError> {
    let mut out = Vec::new();
    let limit = 100;
    for page in 0..MAX_INCIDENT_PAGES {
        let req = px
            .request("/incidents")?
            .accept(PD_ACCEPT)
            .query("service_ids[]", service)
            .query(
                "since",
                &since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            )
            .query(
                "until",
                &until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            )
            .query("time_zone", "UTC")
            .query("limit", &limit.to_string())
            .query("offset", &(page * limit).to_string());
        let resp: Response = px.get(req).await?;
        let list = resp.body["incidents"]
            .as_array()
            .ok_or_else(|| FetchError::decode("PagerDuty incidents", "no incidents array"))?;
        for i in list {
            let (Some(id), Some(created)) = (text(i, "/id"), time(i, "/created_at")) else {
                return Err(FetchError::decode(
                    "PagerDuty incidents",
                    "an incident has no id or created_at",
                ));
            };
            let resolved = time(i, "/resolved_at").or_else(|| {
                (text(i, "/status") == Some("resolved"))
                    .then(|| time(i, "/last_status_change_at"))
                    .flatten()
            });
            out.push(Incident {
                id: id.to_string(),
                created_at: created,
                resolved_at: resolved,
            });
        }
        if resp.body["more"].as_bool() != Some(true) {
            return Ok(out);
        }
    }
    Err(FetchError::decode(
        "PagerDuty incidents",
        format!("more than {MAX_INCIDENT_PAGES} pages; the list was cut short"),
    ))
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
