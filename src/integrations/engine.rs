//! Runs the configured integrations over a set of entities: every entity
//! gets one [`Outcome`] per integration, within the command's deadline,
//! whatever fails. The engine owns its tokio runtime so the rest of idp
//! stays synchronous.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::cache::Cache;
use super::client::{Client, ClientSettings, Trace, TRACE};
use super::config::{ConfigError, IntegrationConfig, Kind, LiveConfig};
use super::error::FetchError;
use super::{EntityView, FetchContext, Integration, Outcome, Status};
use crate::catalog::Entity;
use crate::score::facts::{Facts, LiveFacts};

/// What a health probe found: the HTTP status and how long it took.
pub type ProbeResult = Result<(u16, Duration), FetchError>;

/// Reports progress; the command decides how to show it.
pub trait Progress: Send + Sync {
    /// `total` fetches are about to run.
    fn begin(&self, total: u64);
    /// One finished.
    fn advance(&self);
    /// All done.
    fn end(&self);
}

/// How a command wants live data.
#[derive(Clone, Default)]
pub struct LiveOptions {
    /// Answer from the cache (and the published snapshot) only.
    pub offline: bool,
    /// Ignore TTLs: ask every server again (ETags still save work).
    pub refresh: bool,
    /// Only these integrations (empty: all configured).
    pub only: Vec<String>,
    /// Progress display, if any.
    pub progress: Option<Arc<dyn Progress>>,
}

/// Live facts for many entities: entity key → integration → outcome. This
/// is also what `idp enrich --publish` stores in git.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LiveSnapshot {
    /// When it was taken.
    pub taken_at: Option<chrono::DateTime<Utc>>,
    /// Outcomes by entity key, then integration name.
    pub entities: BTreeMap<String, BTreeMap<String, Outcome>>,
}

impl LiveSnapshot {
    /// The outcomes of one entity.
    pub fn of(&self, key: &str) -> Option<&BTreeMap<String, Outcome>> {
        self.entities.get(key)
    }
}

impl Facts for LiveSnapshot {
    fn facts(&self, entity: &Entity) -> LiveFacts {
        let mut out = LiveFacts::default();
        if let Some(outcomes) = self.entities.get(&entity.entity_ref().key()) {
            for (name, o) in outcomes {
                match o.status {
                    Status::Ok => {
                        // A fact that failed alone is left out, so a rule
                        // reading it is unknown (with the reason) rather
                        // than comparing a null.
                        let mut facts = o.facts.clone();
                        for (fact, why) in &o.unavailable_facts {
                            facts.remove(fact);
                            out.unavailable
                                .insert(format!("{name}.{fact}"), why.clone());
                        }
                        out.facts.insert(name.clone(), Value::Object(facts));
                    }
                    _ => {
                        out.unavailable.insert(
                            name.clone(),
                            o.reason.clone().unwrap_or_else(|| "unavailable".into()),
                        );
                    }
                }
            }
        }
        out
    }
}

/// The engine.
pub struct Engine {
    runtime: tokio::runtime::Runtime,
    client: Arc<Client>,
    integrations: Vec<(Arc<IntegrationConfig>, Arc<dyn Integration>)>,
    published: Option<LiveSnapshot>,
    options: LiveOptions,
    deadline: Duration,
}

/// Builds the integration of a configured entry.
pub fn build(cfg: &IntegrationConfig) -> Result<Arc<dyn Integration>, ConfigError> {
    Ok(match cfg.kind {
        Kind::Github => Arc::new(super::github::GitHub::new(cfg)?),
        Kind::Pagerduty => Arc::new(super::pagerduty::PagerDuty::new(cfg)?),
        Kind::Prometheus => Arc::new(super::prometheus::Prometheus::new(cfg)?),
        Kind::Sonarqube => Arc::new(super::sonarqube::SonarQube::new(cfg)?),
        Kind::Argocd => Arc::new(super::argocd::ArgoCd::new(cfg)?),
        Kind::Http => Arc::new(super::http::HttpTool::new(cfg)?),
    })
}

/// Every problem of the `integrations:` and `live:` sections that reading
/// `idp.yaml` cannot see (a missing base URL, a bad JSONPath, …), without
/// minding missing tokens: for `idp validate`. `env` is read only so that
/// the tokens and secret headers the entries name are redacted from output.
pub fn check_config(
    entries: &BTreeMap<String, super::config::IntegrationEntry>,
    settings: &super::config::LiveSettings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<ConfigError> {
    let mut problems = Vec::new();
    for (name, entry) in entries {
        match IntegrationConfig::resolve(name, entry, env) {
            Ok(cfg) => {
                if let Err(e) = build(&cfg) {
                    problems.push(e);
                }
            }
            Err(e) => problems.push(e),
        }
    }
    if let Err(e) = LiveConfig::resolve(&BTreeMap::new(), settings, env) {
        problems.push(e);
    }
    problems
}

impl Engine {
    /// An engine for the configured integrations; `cache_dir` is
    /// `$XDG_CACHE_HOME/idp/live`.
    pub fn new(
        config: &LiveConfig,
        cache_dir: &Path,
        options: LiveOptions,
    ) -> Result<Self, ConfigError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| ConfigError {
                integration: String::new(),
                key: None,
                message: format!("cannot start the async runtime: {e}"),
            })?;
        let settings = ClientSettings {
            concurrency: config.concurrency,
            per_host: config.per_host,
            timeout: config.timeout,
            retries: config.retries,
            max_body: config.max_body,
            deadline: config.deadline,
            offline: options.offline,
            refresh: options.refresh,
        };
        let client = {
            let _guard = runtime.enter();
            Client::new(settings, Some(Cache::new(cache_dir))).map_err(|e| ConfigError {
                integration: String::new(),
                key: None,
                message: e.to_string(),
            })?
        };
        let integrations = config
            .integrations
            .iter()
            .filter(|c| options.only.is_empty() || options.only.contains(&c.name))
            .map(|c| Ok((Arc::new(c.clone()), build(c)?)))
            .collect::<Result<Vec<_>, ConfigError>>()?;
        Ok(Engine {
            runtime,
            client: Arc::new(client),
            integrations,
            published: None,
            options,
            deadline: config.deadline,
        })
    }

    /// Adds the snapshot published by `idp enrich --publish`, read as a
    /// cache layer below the local cache.
    pub fn with_published(mut self, snapshot: Option<LiveSnapshot>) -> Self {
        self.published = snapshot;
        self
    }

    /// Adds an integration the configuration does not list (DORA's
    /// inputs, which read several tools): it runs like the others, under
    /// `cfg.name`, with `cfg`'s TTL for published answers.
    pub fn add(&mut self, cfg: IntegrationConfig, integration: Arc<dyn Integration>) {
        self.integrations.push((Arc::new(cfg), integration));
    }

    /// Names of the integrations that will run.
    pub fn names(&self) -> Vec<&str> {
        self.integrations
            .iter()
            .map(|(c, _)| c.name.as_str())
            .collect()
    }

    /// The configuration of each integration that will run.
    pub fn configs(&self) -> impl Iterator<Item = &IntegrationConfig> {
        self.integrations.iter().map(|(c, _)| c.as_ref())
    }

    /// Asks each integration's health endpoint once: the HTTP status and
    /// how long it took, or why nothing answered.
    pub fn probe(&self) -> Vec<(String, ProbeResult)> {
        self.runtime.block_on(async {
            let mut out = Vec::new();
            for (cfg, _) in &self.integrations {
                let path = match cfg.kind {
                    Kind::Github | Kind::Http => "",
                    Kind::Pagerduty => "abilities",
                    Kind::Prometheus => "api/v1/status/buildinfo",
                    Kind::Sonarqube => "api/system/status",
                    Kind::Argocd => "api/version",
                };
                let start = std::time::Instant::now();
                let mut probe_cfg = (**cfg).clone();
                probe_cfg.token_required = false;
                let result = match super::client::Request::for_integration(&probe_cfg, path) {
                    Ok(req) => self.client.probe(req).await.map(|s| (s, start.elapsed())),
                    Err(e) => Err(e),
                };
                out.push((cfg.name.clone(), result));
            }
            out
        })
    }

    /// Fetches every integration for every entity.
    pub fn fetch(&self, entities: &[EntityView]) -> LiveSnapshot {
        let mut snapshot = LiveSnapshot {
            taken_at: Some(Utc::now()),
            entities: BTreeMap::new(),
        };
        let mut jobs = Vec::new();
        for entity in entities {
            let slot = snapshot.entities.entry(entity.key.clone()).or_default();
            for (cfg, integration) in &self.integrations {
                if let Some(reason) = integration.absent_reason(entity) {
                    slot.insert(cfg.name.clone(), Outcome::absent(reason));
                    continue;
                }
                if let Some(o) = self.published_answer(&entity.key, cfg) {
                    slot.insert(cfg.name.clone(), o);
                    continue;
                }
                jobs.push((entity.clone(), cfg.clone(), integration.clone()));
            }
        }
        if jobs.is_empty() {
            return snapshot;
        }
        let progress = self.options.progress.clone();
        if let Some(p) = &progress {
            p.begin(jobs.len() as u64);
        }
        let results = self.runtime.block_on(self.run_jobs(jobs, progress.clone()));
        if let Some(p) = &progress {
            p.end();
        }
        for (key, name, outcome) in results {
            snapshot
                .entities
                .entry(key)
                .or_default()
                .insert(name, outcome);
        }
        snapshot
    }

    async fn run_jobs(
        &self,
        jobs: Vec<(EntityView, Arc<IntegrationConfig>, Arc<dyn Integration>)>,
        progress: Option<Arc<dyn Progress>>,
    ) -> Vec<(String, String, Outcome)> {
        let mut set = tokio::task::JoinSet::new();
        let mut pending: BTreeMap<tokio::task::Id, (String, String)> = BTreeMap::new();
        for (entity, cfg, integration) in jobs {
            let client = self.client.clone();
            let ids = (entity.key.clone(), cfg.name.clone());
            let handle = set.spawn(TRACE.scope(RefCell::new(Trace::default()), async move {
                let cx = FetchContext {
                    client: &client,
                    config: &cfg,
                };
                let result = integration.fetch(&cx, &entity).await;
                let trace = TRACE.with(|t| t.borrow().clone());
                (entity.key.clone(), cfg.name.clone(), result, trace)
            }));
            pending.insert(handle.id(), ids);
        }
        let mut out = Vec::new();
        // Every request is bounded by the deadline; the grace covers the
        // last in flight.
        let hard_stop = tokio::time::Instant::now() + self.deadline + Duration::from_secs(2);
        loop {
            match tokio::time::timeout_at(hard_stop, set.join_next_with_id()).await {
                Ok(Some(Ok((id, (key, name, result, trace))))) => {
                    pending.remove(&id);
                    out.push((key, name, self.outcome(result, trace)));
                }
                Ok(Some(Err(e))) => {
                    if let Some((key, name)) = pending.remove(&e.id()) {
                        out.push((
                            key,
                            name,
                            Outcome::unavailable(format!("internal error: {e}")),
                        ));
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    set.abort_all();
                    let reason = FetchError::Deadline {
                        deadline: self.deadline,
                    }
                    .to_string();
                    for (_, (key, name)) in std::mem::take(&mut pending) {
                        out.push((key, name, Outcome::unavailable(reason.clone())));
                    }
                    break;
                }
            }
            if let Some(p) = &progress {
                p.advance();
            }
        }
        out
    }

    fn outcome(&self, result: Result<super::Fetched, FetchError>, trace: Trace) -> Outcome {
        match result {
            Ok(fetched) => Outcome::partial(
                fetched,
                trace.oldest.unwrap_or_else(Utc::now),
                if trace.cached { "cache" } else { "network" },
            ),
            Err(e) => Outcome::unavailable(e.to_string()),
        }
    }

    /// The published outcome to use instead of fetching: a fresh `ok` one,
    /// or (offline) any one, when nothing local is cached.
    fn published_answer(&self, key: &str, cfg: &IntegrationConfig) -> Option<Outcome> {
        if self.options.refresh {
            return None;
        }
        let o = self.published.as_ref()?.entities.get(key)?.get(&cfg.name)?;
        let age = (Utc::now() - o.fetched_at).to_std().unwrap_or_default();
        let usable = o.status == Status::Ok && (self.options.offline || age < cfg.ttl);
        usable.then(|| {
            let mut o = o.clone();
            o.source = "published".into();
            o
        })
    }
}
