//! Live data: facts about entities fetched from the tools the organisation
//! already runs (GitHub, PagerDuty, Prometheus, …), as an overlay on the
//! catalog that is never required.
//!
//! One [`Integration`] per tool, linked to entities by the annotation its
//! ecosystem already uses. The [`engine`] runs them with bounded concurrency,
//! retries, a deadline and an on-disk cache; every entity gets one
//! [`Outcome`] per configured integration: `ok` with facts, `absent` (the
//! entity has no annotation for it) or `unavailable` with the reason.

pub mod argocd;
pub mod cache;
pub mod client;
pub mod config;
pub mod engine;
pub mod error;
pub mod github;
pub mod http;
pub mod pagerduty;
pub mod prometheus;
pub mod published;
pub mod ratelimit;
pub mod sonarqube;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalog::Entity;

pub use client::{Client, Request, Response};
pub use config::{IntegrationConfig, LiveConfig};
pub use engine::{Engine, LiveOptions, Progress};
pub use error::FetchError;

/// A boxed future, so the trait stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The facts one integration found for one entity (`live.<integration>`).
pub type FactMap = Map<String, Value>;

/// What an integration said about an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Facts were fetched.
    Ok,
    /// The entity is not linked to this integration (no annotation).
    Absent,
    /// The integration could not answer (timeout, 401, rate limit, …).
    Unavailable,
}

/// One integration's answer for one entity: the `live.<integration>` object
/// of `idp show -o json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// ok, absent or unavailable.
    pub status: Status,
    /// Why it is not ok.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the data was fetched from the tool (oldest response used).
    pub fetched_at: DateTime<Utc>,
    /// Where the answer came from: `network`, `cache` or `published`.
    #[serde(default = "default_origin")]
    pub source: String,
    /// The facts (empty unless ok).
    #[serde(default)]
    pub facts: FactMap,
    /// Facts that could not be fetched while the others were (a token
    /// without Actions access, one broken series, …): fact → why. Such a
    /// fact is null in `facts`; a scorecard rule reading it is unknown.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unavailable_facts: BTreeMap<String, String>,
}

fn default_origin() -> String {
    "network".into()
}

impl Outcome {
    /// Facts fetched at `fetched_at`.
    pub fn ok(facts: FactMap, fetched_at: DateTime<Utc>, source: &str) -> Self {
        Outcome {
            status: Status::Ok,
            reason: None,
            fetched_at,
            source: source.into(),
            facts,
            unavailable_facts: BTreeMap::new(),
        }
    }

    /// Facts of which some failed alone (`failed`: fact → why).
    pub fn partial(fetched: Fetched, fetched_at: DateTime<Utc>, source: &str) -> Self {
        Outcome {
            unavailable_facts: fetched.failed,
            ..Outcome::ok(fetched.facts, fetched_at, source)
        }
    }

    /// The entity is not linked to the integration.
    pub fn absent(reason: impl Into<String>) -> Self {
        Outcome {
            status: Status::Absent,
            reason: Some(reason.into()),
            fetched_at: Utc::now(),
            source: "catalog".into(),
            facts: Map::new(),
            unavailable_facts: BTreeMap::new(),
        }
    }

    /// The integration could not answer.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Outcome {
            status: Status::Unavailable,
            reason: Some(reason.into()),
            fetched_at: Utc::now(),
            source: "network".into(),
            facts: Map::new(),
            unavailable_facts: BTreeMap::new(),
        }
    }
}

/// What one fetch found: the facts, and the ones that failed alone. Each
/// fact an integration reads with its own request fails with that request
/// only, so one refused endpoint does not hide the others.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    /// Every fact key (null for a failed one).
    pub facts: FactMap,
    /// Fact → why it could not be fetched.
    pub failed: BTreeMap<String, String>,
}

impl Fetched {
    /// Sets `key` from a per-fact result: the value, or null and the reason.
    pub fn put(&mut self, key: &str, result: Result<Value, FetchError>) {
        match result {
            Ok(v) => {
                self.facts.insert(key.into(), v);
            }
            Err(e) => {
                self.facts.insert(key.into(), Value::Null);
                self.failed.insert(key.into(), e.to_string());
            }
        }
    }
}

impl From<FactMap> for Fetched {
    fn from(facts: FactMap) -> Self {
        Fetched {
            facts,
            failed: BTreeMap::new(),
        }
    }
}

/// What integrations see of an entity: owned, so fetches can run on any
/// thread without borrowing the catalog.
#[derive(Debug, Clone)]
pub struct EntityView {
    /// `kind:namespace/name`, lowercase.
    pub key: String,
    /// Kind as written (`Component`).
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// The whole descriptor, for URL templates of the generic HTTP integration.
    pub doc: Value,
}

impl EntityView {
    /// The view of a catalog entity.
    pub fn of(entity: &Entity) -> Self {
        let doc = entity.doc().clone();
        let annotations = doc
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        EntityView {
            key: entity.entity_ref().key(),
            kind: entity.kind.clone(),
            namespace: entity.namespace.clone(),
            name: entity.name.clone(),
            annotations,
            doc,
        }
    }

    /// An annotation's value, trimmed; `None` when missing or empty.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .get(key)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// True for `kind` (case-insensitive).
    pub fn is_kind(&self, kind: &str) -> bool {
        self.kind.eq_ignore_ascii_case(kind)
    }
}

/// Everything an integration needs while fetching: the shared HTTP client
/// (limits, retries, cache, deadline) and its own configuration.
pub struct FetchContext<'a> {
    /// The shared client.
    pub client: &'a Client,
    /// This integration's settings (base URL, token, TTL, extras).
    pub config: &'a IntegrationConfig,
}

impl FetchContext<'_> {
    /// A GET of `path` (joined to the base URL) with this integration's
    /// auth and TTL.
    pub fn request(&self, path_and_query: &str) -> Result<Request, FetchError> {
        Request::for_integration(self.config, path_and_query)
    }

    /// The client's GET, with a 401 or a (non-rate-limit) 403 explained
    /// for the user: which token variable to fix, or which resource the
    /// token may not read (the path only: a query may hold a key).
    pub async fn get(&self, req: Request) -> Result<Response, FetchError> {
        let path = req.url.path().to_string();
        self.client
            .get(req)
            .await
            .map_err(|e| explain_auth(self.config, &path, e))
    }
}

fn explain_auth(cfg: &IntegrationConfig, path: &str, e: FetchError) -> FetchError {
    let var = cfg.token_env.as_deref().unwrap_or("the token variable");
    match e {
        FetchError::Status {
            host,
            code: 401,
            message,
        } => FetchError::Status {
            host,
            code: 401,
            message: match cfg.token {
                Some(_) => format!("{message}: the token in {var} was refused"),
                None => format!("{message}: set {var} to a token"),
            },
        },
        FetchError::Status {
            host,
            code: 403,
            message,
        } if !message.to_ascii_lowercase().contains("rate limit") => FetchError::Status {
            host,
            code: 403,
            message: format!("permission denied reading {path}: {message}"),
        },
        e => e,
    }
}

/// One live-data source.
pub trait Integration: Send + Sync {
    /// Its name, the key under `live.` (`github`).
    fn name(&self) -> &str;

    /// Why the entity is not linked to this integration (`None`: it is).
    /// Typically "no github.com/project-slug annotation".
    fn absent_reason(&self, entity: &EntityView) -> Option<String>;

    /// Fetches the facts of one linked entity. `Err` when nothing could be
    /// learnt (the repository or service itself is unreachable); facts
    /// that fail alone go into [`Fetched::failed`].
    fn fetch<'a>(
        &'a self,
        cx: &'a FetchContext<'a>,
        entity: &'a EntityView,
    ) -> BoxFuture<'a, Result<Fetched, FetchError>>;
}
