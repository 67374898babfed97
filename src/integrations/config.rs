//! Integration settings: the `integrations:` and `live:` sections of the
//! catalog's `idp.yaml`, and the tokens, which come only from the
//! environment.
//!
//! ```yaml
//! integrations:
//!   github: { base_url: https://ghe.acme.com/api/v3, ttl: 10m }
//!   pagerduty: {}                       # defaults: api.pagerduty.com, PAGERDUTY_TOKEN
//!   deploys: { type: http, base_url: https://deploy.acme.internal, url: "/api/{{ metadata.name }}",
//!              extract: { last_deploy: "$.items[0].finished_at" } }
//! live: { concurrency: 16, per_host: 4, timeout: 10s, deadline: 20s }
//! ```
//!
//! The catalog keeps both sections as written; [`Sections::of`] types them
//! here, where they belong, so a bad duration or URL is reported at its
//! file:line:column of `idp.yaml` like every other config error (the
//! commands check them as soon as the catalog is opened).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use url::Url;

use crate::catalog::config::CATALOG_CONFIG_FILE;
use crate::catalog::{Catalog, CatalogError};

/// A duration written as text (`10m`, `90s`), checked when read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationText {
    text: String,
    value: Duration,
}

impl DurationText {
    /// The duration.
    pub fn get(&self) -> Duration {
        self.value
    }
}

impl Serialize for DurationText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let value = humantime::parse_duration(text.trim()).map_err(|e| {
            serde::de::Error::custom(format!(
                "'{text}' is not a duration like 30s, 10m or 1h: {e}"
            ))
        })?;
        Ok(DurationText { text, value })
    }
}

/// The kinds of integration idp knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// GitHub (and GitHub Enterprise).
    Github,
    /// PagerDuty.
    Pagerduty,
    /// Prometheus.
    Prometheus,
    /// SonarQube / SonarCloud.
    Sonarqube,
    /// Argo CD.
    Argocd,
    /// A generic JSON-over-HTTP tool.
    Http,
}

/// How an integration sends its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Authorization: Token token=<token>` (PagerDuty).
    PagerDuty,
    /// `Authorization: Basic base64(<token>:)` (SonarQube).
    BasicUser,
    /// No token (the generic integration sends its own headers).
    None,
}

/// What each kind assumes when `idp.yaml` says nothing.
#[derive(Debug, Clone, Copy)]
pub struct KindDefaults {
    /// Base URL of the public service (`None`: must be configured).
    pub base_url: Option<&'static str>,
    /// Variable the token is read from.
    pub token_env: Option<&'static str>,
    /// Whether a request without a token is pointless.
    pub token_required: bool,
    /// How the token is sent.
    pub auth: AuthScheme,
    /// How long fetched data stays fresh.
    pub ttl: Duration,
}

/// The token variables the kinds read by default (`GITHUB_TOKEN`, …): their
/// values are redacted from output even before `idp.yaml` is read.
pub fn well_known_token_vars() -> impl Iterator<Item = &'static str> {
    [
        Kind::Github,
        Kind::Pagerduty,
        Kind::Prometheus,
        Kind::Sonarqube,
        Kind::Argocd,
        Kind::Http,
    ]
    .into_iter()
    .filter_map(|k| k.defaults().token_env)
}

impl Kind {
    /// The kind an entry named `name` has when it gives no `type`.
    pub fn from_name(name: &str) -> Option<Kind> {
        serde_json::from_value(Value::String(name.to_ascii_lowercase())).ok()
    }

    /// Its name in `idp.yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Github => "github",
            Kind::Pagerduty => "pagerduty",
            Kind::Prometheus => "prometheus",
            Kind::Sonarqube => "sonarqube",
            Kind::Argocd => "argocd",
            Kind::Http => "http",
        }
    }

    /// Defaults of the kind.
    pub fn defaults(self) -> KindDefaults {
        const MIN: u64 = 60;
        let d = |base_url, token_env, token_required, auth, ttl_secs| KindDefaults {
            base_url,
            token_env,
            token_required,
            auth,
            ttl: Duration::from_secs(ttl_secs),
        };
        match self {
            Kind::Github => d(
                Some("https://api.github.com"),
                Some("GITHUB_TOKEN"),
                false,
                AuthScheme::Bearer,
                10 * MIN,
            ),
            Kind::Pagerduty => d(
                Some("https://api.pagerduty.com"),
                Some("PAGERDUTY_TOKEN"),
                true,
                AuthScheme::PagerDuty,
                2 * MIN,
            ),
            Kind::Prometheus => d(
                None,
                Some("PROMETHEUS_TOKEN"),
                false,
                AuthScheme::Bearer,
                MIN,
            ),
            Kind::Sonarqube => d(
                Some("https://sonarcloud.io"),
                Some("SONARQUBE_TOKEN"),
                false,
                AuthScheme::BasicUser,
                60 * MIN,
            ),
            Kind::Argocd => d(
                None,
                Some("ARGOCD_TOKEN"),
                true,
                AuthScheme::Bearer,
                2 * MIN,
            ),
            Kind::Http => d(None, None, false, AuthScheme::None, 5 * MIN),
        }
    }
}

/// One entry under `integrations:` as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IntegrationEntry {
    /// The kind; default: the entry's name (`github:` is a GitHub entry).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// API base URL (enterprise hosts, local servers in tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<Url>,
    /// The environment variable holding the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// How long fetched data stays fresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<DurationText>,
    /// Per-request timeout for this integration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationText>,
    /// Requests in flight to this integration's host at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    /// Set `false` to turn the entry off without deleting it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Everything else, read by the integration itself.
    #[serde(flatten)]
    pub options: Map<String, Value>,
}

/// The `integrations:` and `live:` sections of a catalog's `idp.yaml`, typed.
#[derive(Debug, Clone, Default)]
pub struct Sections {
    /// Live-data integrations by name (`github:`, `pagerduty:`, …); an
    /// integration without an entry is off.
    pub integrations: BTreeMap<String, IntegrationEntry>,
    /// Engine-wide live-data limits (concurrency, timeouts, deadline).
    pub live: LiveSettings,
}

impl Sections {
    /// Types both sections of `catalog`'s `idp.yaml`; a bad value is a
    /// catalog config error at its file:line:column.
    pub fn of(catalog: &Catalog) -> Result<Self, CatalogError> {
        let file = std::path::Path::new(&catalog.origin.location).join(CATALOG_CONFIG_FILE);
        Ok(Sections {
            integrations: catalog.config.section("integrations", &file)?,
            live: catalog.config.section("live", &file)?,
        })
    }
}

/// Credentials for git over HTTP(S) with GitHub (`scaffold --register
/// --push`, `enrich --publish`): the token of `integrations.github` (the
/// variable its `token_env` names, default `GITHUB_TOKEN`; `env` reads it),
/// for the GitHub host only — `github.com` for the public API, the API's
/// host for GitHub Enterprise. Other hosts get the ssh agent and the git
/// credential helper (see `crate::git_remote`).
pub fn github_git_credentials(
    sections: &Sections,
    env: &dyn Fn(&str) -> Option<String>,
) -> crate::git_remote::Credentials {
    let entry = sections
        .integrations
        .get("github")
        .cloned()
        .unwrap_or_default();
    let Ok(cfg) = IntegrationConfig::resolve("github", &entry, env) else {
        return crate::git_remote::Credentials::none();
    };
    match (cfg.base_url.host_str(), &cfg.token) {
        (Some(host), Some(token)) => {
            let host = if host.eq_ignore_ascii_case("api.github.com") {
                "github.com"
            } else {
                host
            };
            crate::git_remote::Credentials::with_token(host, token.expose())
        }
        _ => crate::git_remote::Credentials::none(),
    }
}

/// The `live:` section: engine-wide limits.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LiveSettings {
    /// Requests in flight at most, over all hosts (default 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    /// Requests in flight per host at most (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_host: Option<usize>,
    /// Per-request timeout (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationText>,
    /// Overall deadline for one command's live data (default 20s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DurationText>,
    /// Retries of a failed request (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// Largest response body read, in bytes (default 8 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_body: Option<usize>,
}

/// A token, which never shows in `Debug` or messages, and which output
/// redacts wherever it appears (see [`crate::secrets`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a token and registers it for redaction.
    pub fn new(s: impl Into<String>) -> Self {
        let s = s.into();
        crate::secrets::register(&s);
        Secret(s)
    }

    /// The token itself, to put in a header. Nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A configuration the engine cannot run with (beyond what reading
/// `idp.yaml` checks): a missing base URL, a bad option of one integration.
#[derive(Debug, Clone, thiserror::Error)]
#[error("idp.yaml: {}{message}", where_(integration, key.as_deref()))]
pub struct ConfigError {
    /// The entry.
    pub integration: String,
    /// The key within it, if one is at fault.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

fn where_(integration: &str, key: Option<&str>) -> String {
    match (integration, key) {
        ("", _) => String::new(),
        (i, Some(k)) => format!("integrations.{i}.{k}: "),
        (i, None) => format!("integrations.{i}: "),
    }
}

impl ConfigError {
    /// An error at `integrations.<integration>.<key>`.
    pub fn at(integration: &str, key: &str, message: impl Into<String>) -> Self {
        ConfigError {
            integration: integration.into(),
            key: Some(key.into()),
            message: message.into(),
        }
    }
}

/// One integration, ready to run.
#[derive(Debug, Clone)]
pub struct IntegrationConfig {
    /// Its name in `idp.yaml`, the key under `live.`.
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// API base URL.
    pub base_url: Url,
    /// The token variable, if the kind uses one.
    pub token_env: Option<String>,
    /// The token, when the variable is set.
    pub token: Option<Secret>,
    /// Whether fetching without a token is pointless.
    pub token_required: bool,
    /// How the token is sent.
    pub auth: AuthScheme,
    /// Freshness of fetched data.
    pub ttl: Duration,
    /// Per-request timeout override.
    pub timeout: Option<Duration>,
    /// Per-host concurrency override.
    pub concurrency: Option<usize>,
    /// Every other key of the entry.
    pub options: Map<String, Value>,
    /// The set, non-blank values of the variables `options` name with
    /// `{ env: VAR }` (the http integration's secret headers), read with the
    /// token, by variable name.
    pub env: BTreeMap<String, Secret>,
}

impl IntegrationConfig {
    /// Resolves an entry: defaults of its kind, token from the environment.
    pub fn resolve(
        name: &str,
        entry: &IntegrationEntry,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let kind = entry.kind.or_else(|| Kind::from_name(name)).ok_or_else(|| {
            ConfigError::at(
                name,
                "type",
                "unknown integration; set type: to one of github, pagerduty, prometheus, sonarqube, argocd, http",
            )
        })?;
        let defaults = kind.defaults();
        let base_url = match (&entry.base_url, defaults.base_url) {
            (Some(u), _) => u.clone(),
            (None, Some(d)) => Url::parse(d).expect("default base URLs parse"),
            (None, None) => {
                return Err(ConfigError::at(
                    name,
                    "base_url",
                    format!(
                        "{} needs a base_url (there is no public default)",
                        kind.as_str()
                    ),
                ))
            }
        };
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(ConfigError::at(
                name,
                "base_url",
                format!("'{base_url}' is not an http(s) URL"),
            ));
        }
        let token_env = entry
            .token_env
            .clone()
            .or_else(|| defaults.token_env.map(str::to_string));
        let token = token_env
            .as_deref()
            .and_then(env)
            .filter(|t| !t.trim().is_empty())
            .map(|t| Secret::new(t.trim()));
        if let Some(0) = entry.concurrency {
            return Err(ConfigError::at(name, "concurrency", "must be at least 1"));
        }
        let mut named = Vec::new();
        for v in entry.options.values() {
            env_references(v, &mut named);
        }
        let env_values = named
            .into_iter()
            .filter_map(|var| {
                let value = env(var).filter(|v| !v.trim().is_empty())?;
                Some((var.to_string(), Secret::new(value.trim())))
            })
            .collect();
        Ok(IntegrationConfig {
            name: name.to_string(),
            kind,
            base_url,
            token_env,
            token,
            token_required: defaults.token_required,
            auth: defaults.auth,
            ttl: entry.ttl.as_ref().map_or(defaults.ttl, DurationText::get),
            timeout: entry.timeout.as_ref().map(DurationText::get),
            concurrency: entry.concurrency,
            options: entry.options.clone(),
            env: env_values,
        })
    }

    /// The host (and port) requests go to: tokens are sent nowhere else.
    pub fn host(&self) -> String {
        host_of(&self.base_url)
    }
}

/// The variables named by `{ env: VAR }` objects anywhere in `v`.
fn env_references<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(o) => match (o.len(), o.get("env")) {
            (1, Some(Value::String(var))) => out.push(var),
            _ => o.values().for_each(|v| env_references(v, out)),
        },
        Value::Array(a) => a.iter().for_each(|v| env_references(v, out)),
        _ => {}
    }
}

/// `host[:port]` of a URL, as used for per-host limits and token scoping.
pub fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
}

/// Engine-wide settings with defaults applied.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Global concurrency.
    pub concurrency: usize,
    /// Per-host concurrency.
    pub per_host: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Overall deadline.
    pub deadline: Duration,
    /// Retries per request.
    pub retries: u32,
    /// Body size limit.
    pub max_body: usize,
    /// The enabled integrations, by name.
    pub integrations: Vec<IntegrationConfig>,
}

impl LiveConfig {
    /// Resolves both sections; `env` reads environment variables.
    pub fn resolve(
        entries: &BTreeMap<String, IntegrationEntry>,
        settings: &LiveSettings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let integrations = entries
            .iter()
            .filter(|(_, e)| e.enabled != Some(false))
            .map(|(name, e)| IntegrationConfig::resolve(name, e, env))
            .collect::<Result<Vec<_>, _>>()?;
        let positive = |v: Option<usize>, key: &str, default: usize| match v {
            Some(0) => Err(ConfigError {
                integration: String::new(),
                key: None,
                message: format!("live.{key} must be at least 1"),
            }),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        Ok(LiveConfig {
            concurrency: positive(settings.concurrency, "concurrency", 16)?,
            per_host: positive(settings.per_host, "per_host", 4)?,
            timeout: settings
                .timeout
                .as_ref()
                .map_or(Duration::from_secs(10), DurationText::get),
            deadline: settings
                .deadline
                .as_ref()
                .map_or(Duration::from_secs(20), DurationText::get),
            retries: settings.retries.unwrap_or(3),
            max_body: positive(settings.max_body, "max_body", 8 << 20)?,
            integrations,
        })
    }

    /// True when no integration is configured.
    pub fn is_empty(&self) -> bool {
        self.integrations.is_empty()
    }
}
