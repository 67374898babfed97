//! Argo CD: sync and health status, deployed revision and last deploy time
//! of the Applications of an entity, linked as the Backstage Argo CD plugin
//! links them:
//!
//! - `argocd/app-name: NAME` (optionally with `argocd/app-namespace` for
//!   apps outside Argo CD's namespace): one Application. Facts: `name`,
//!   `sync_status` (`status.sync.status`: `Synced`, `OutOfSync`, `Unknown`),
//!   `health_status` (`status.health.status`: `Healthy`, `Progressing`,
//!   `Degraded`, …), `revision` (`status.sync.revision`, or the first of
//!   `revisions` for multi-source apps) and `last_deployed` (the newest
//!   `status.history[].deployedAt`, else `status.operationState.finishedAt`;
//!   RFC 3339).
//! - `argocd/app-selector: LABEL-SELECTOR`: every matching Application.
//!   Facts: `apps` (a list of the objects above), `sync_status` and
//!   `health_status` (the worst over the apps), `last_deployed` (the newest).
//!
//! The API leaves out whatever it has not computed (a new app has no
//! `history`, an app never synced by an operation has no
//! `operationState`), so every field is optional and shows as null.
//! Auth: `Authorization: Bearer` with `ARGOCD_TOKEN` (required). Errors come
//! as `{"error", "code", "message"}` (gRPC gateway); the client turns them
//! into the reason.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::config::{ConfigError, IntegrationConfig};
use super::{BoxFuture, EntityView, FactMap, FetchContext, FetchError, Fetched, Integration};

/// The annotation naming one Application.
pub const APP_NAME: &str = "argocd/app-name";
/// The annotation selecting Applications by label.
pub const APP_SELECTOR: &str = "argocd/app-selector";
/// The namespace of the Application named by `argocd/app-name`.
pub const APP_NAMESPACE: &str = "argocd/app-namespace";

/// Health codes from best to worst, as Argo CD orders them
/// (gitops-engine `health.IsWorse`).
const HEALTH_ORDER: [&str; 6] = [
    "Healthy",
    "Suspended",
    "Progressing",
    "Missing",
    "Degraded",
    "Unknown",
];
/// Sync codes from best to worst.
const SYNC_ORDER: [&str; 3] = ["Synced", "OutOfSync", "Unknown"];

/// The Argo CD integration.
#[derive(Debug, Clone)]
pub struct ArgoCd {
    name: String,
}

impl ArgoCd {
    /// The integration of an `idp.yaml` entry (it has no options of its own).
    pub fn new(cfg: &IntegrationConfig) -> Result<Self, ConfigError> {
        Ok(ArgoCd {
            name: cfg.name.clone(),
        })
    }
}

impl Integration for ArgoCd {
    fn name(&self) -> &str {
        &self.name
    }

    fn absent_reason(&self, entity: &EntityView) -> Option<String> {
        (entity.annotation(APP_NAME).is_none() && entity.annotation(APP_SELECTOR).is_none())
            .then(|| format!("no {APP_NAME} or {APP_SELECTOR} annotation"))
    }

    fn fetch<'a>(
        &'a self,
        cx: &'a FetchContext<'a>,
        entity: &'a EntityView,
    ) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(async move {
            if let Some(name) = entity.annotation(APP_NAME) {
                let mut req = cx.request(&format!("/api/v1/applications/{}", encode(name)))?;
                if let Some(ns) = entity.annotation(APP_NAMESPACE) {
                    req = req.query("appNamespace", ns);
                }
                let resp = cx.get(req).await.map_err(|e| name_the_app(e, name))?;
                let app = decode_app(resp.body)?;
                return Ok(app_facts(&app).into());
            }
            let selector = entity.annotation(APP_SELECTOR).unwrap_or_default();
            let req = cx
                .request("/api/v1/applications")?
                .query("selector", selector);
            let list: AppList = serde_json::from_value(cx.get(req).await?.body)
                .map_err(|e| FetchError::decode("/api/v1/applications", e))?;
            Ok(selector_facts(&list.items.unwrap_or_default()).into())
        })
    }
}

/// Argo CD answers 403, not 404, for an application that does not exist
/// when no `project` is given (so that names of apps one may not see do not
/// leak): the two cannot be told apart, so say both and name the app.
fn name_the_app(e: FetchError, name: &str) -> FetchError {
    match e {
        FetchError::Status {
            host,
            code: code @ 403,
            message,
        } => FetchError::Status {
            host,
            code,
            message: format!(
                "application '{name}' ({APP_NAME}) not found or not permitted (Argo CD \
                 answers 403 for both): {}",
                message.rsplit(": ").next().unwrap_or(&message)
            ),
        },
        FetchError::Status {
            host,
            code: code @ 404,
            message,
        } => FetchError::Status {
            host,
            code,
            message: format!("application '{name}' ({APP_NAME}) not found: {message}"),
        },
        e => e,
    }
}

/// A path segment, percent-encoded (app names are DNS labels, but the
/// annotation is user input).
fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// `v1alpha1ApplicationList`: `items` is null when nothing matches.
#[derive(Debug, Default, Deserialize)]
pub struct AppList {
    /// The applications.
    #[serde(default)]
    pub items: Option<Vec<App>>,
}

/// The parts of a `v1alpha1Application` idp reads; all optional.
#[derive(Debug, Default, Deserialize)]
pub struct App {
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    status: Option<AppStatus>,
}

#[derive(Debug, Default, Deserialize)]
struct Metadata {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppStatus {
    #[serde(default)]
    sync: Option<SyncStatus>,
    #[serde(default)]
    health: Option<HealthStatus>,
    #[serde(default)]
    history: Option<Vec<RevisionHistory>>,
    #[serde(default)]
    operation_state: Option<OperationState>,
}

#[derive(Debug, Default, Deserialize)]
struct SyncStatus {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    revision: Option<String>,
    #[serde(default)]
    revisions: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
struct HealthStatus {
    #[serde(default)]
    status: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RevisionHistory {
    #[serde(default)]
    deployed_at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OperationState {
    #[serde(default)]
    finished_at: Option<String>,
}

fn decode_app(body: Value) -> Result<App, FetchError> {
    serde_json::from_value(body).map_err(|e| FetchError::decode("/api/v1/applications/{name}", e))
}

impl App {
    fn name(&self) -> Option<&str> {
        self.metadata.as_ref()?.name.as_deref()
    }

    fn sync(&self) -> Option<&SyncStatus> {
        self.status.as_ref()?.sync.as_ref()
    }

    fn sync_status(&self) -> Option<&str> {
        self.sync()?.status.as_deref()
    }

    fn health_status(&self) -> Option<&str> {
        self.status.as_ref()?.health.as_ref()?.status.as_deref()
    }

    fn revision(&self) -> Option<&str> {
        let sync = self.sync()?;
        sync.revision
            .as_deref()
            .filter(|r| !r.is_empty())
            .or_else(|| sync.revisions.as_ref()?.first().map(String::as_str))
    }

    /// The newest history entry's deploy time, else the last operation's end.
    fn last_deployed(&self) -> Option<DateTime<Utc>> {
        let status = self.status.as_ref()?;
        let from_history = status
            .history
            .iter()
            .flatten()
            .filter_map(|h| h.deployed_at.as_deref().and_then(parse_time))
            .max();
        from_history.or_else(|| {
            status
                .operation_state
                .as_ref()?
                .finished_at
                .as_deref()
                .and_then(parse_time)
        })
    }
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn time_fact(t: Option<DateTime<Utc>>) -> Value {
    json!(t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)))
}

/// The facts of one Application.
pub fn app_facts(app: &App) -> FactMap {
    let mut facts = FactMap::new();
    facts.insert("name".into(), json!(app.name()));
    facts.insert("sync_status".into(), json!(app.sync_status()));
    facts.insert("health_status".into(), json!(app.health_status()));
    facts.insert("revision".into(), json!(app.revision()));
    facts.insert("last_deployed".into(), time_fact(app.last_deployed()));
    facts
}

/// The facts of the Applications a selector matched.
pub fn selector_facts(apps: &[App]) -> FactMap {
    let mut facts = FactMap::new();
    facts.insert(
        "apps".into(),
        Value::Array(apps.iter().map(|a| Value::Object(app_facts(a))).collect()),
    );
    facts.insert(
        "sync_status".into(),
        json!(worst(apps.iter().filter_map(App::sync_status), &SYNC_ORDER)),
    );
    facts.insert(
        "health_status".into(),
        json!(worst(
            apps.iter().filter_map(App::health_status),
            &HEALTH_ORDER
        )),
    );
    facts.insert(
        "last_deployed".into(),
        time_fact(apps.iter().filter_map(App::last_deployed).max()),
    );
    facts
}

/// The worst status by `order`; codes idp does not know rank worst of all
/// (a new Argo CD status is more likely bad news than good).
fn worst<'s>(codes: impl Iterator<Item = &'s str>, order: &[&str]) -> Option<&'s str> {
    codes.max_by_key(|c| order.iter().position(|o| o == c).unwrap_or(order.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shaped like GET /api/v1/applications/{name} (v1alpha1Application).
    fn full() -> Value {
        json!({
            "metadata": {"name": "checkout-prod", "namespace": "argocd", "labels": {"team": "payments"}},
            "spec": {"project": "default", "source": {"repoURL": "https://github.com/acme/deploy", "path": "checkout", "targetRevision": "HEAD"},
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": "checkout"}},
            "status": {
                "sync": {"status": "Synced", "revision": "8ecfa5d493189be706f6fd30d69e2bd97d5a35e4",
                         "comparedTo": {"source": {"repoURL": "https://github.com/acme/deploy"}}},
                "health": {"status": "Healthy"},
                "history": [
                    {"id": 11, "revision": "aaaa", "deployedAt": "2024-05-01T10:00:00Z", "deployStartedAt": "2024-05-01T09:59:50Z"},
                    {"id": 12, "revision": "8ecfa5d493189be706f6fd30d69e2bd97d5a35e4", "deployedAt": "2024-05-02T11:30:00Z"}
                ],
                "operationState": {"phase": "Succeeded", "startedAt": "2024-05-02T11:29:40Z", "finishedAt": "2024-05-02T11:30:01Z"},
                "reconciledAt": "2024-05-03T00:00:00Z"
            }
        })
    }

    #[test]
    fn one_app() {
        let f = app_facts(&decode_app(full()).unwrap());
        assert_eq!(
            Value::Object(f),
            json!({"name": "checkout-prod", "sync_status": "Synced", "health_status": "Healthy",
                   "revision": "8ecfa5d493189be706f6fd30d69e2bd97d5a35e4",
                   "last_deployed": "2024-05-02T11:30:00Z"})
        );
    }

    #[test]
    fn every_field_is_optional() {
        let no_history = json!({"metadata": {"name": "new"}, "status": {
            "sync": {"status": "OutOfSync"}, "health": {"status": "Missing"},
            "operationState": {"phase": "Running", "finishedAt": "2024-06-01T08:00:00+02:00"}}});
        let f = app_facts(&decode_app(no_history).unwrap());
        assert_eq!(f["last_deployed"], "2024-06-01T06:00:00Z");
        assert_eq!(f["revision"], Value::Null);

        let bare = app_facts(&decode_app(json!({"metadata": {"name": "bare"}})).unwrap());
        assert_eq!(
            Value::Object(bare),
            json!({"name": "bare", "sync_status": null, "health_status": null, "revision": null, "last_deployed": null})
        );
        assert!(decode_app(json!({"status": "weird"})).is_err());
    }

    #[test]
    fn multi_source_revision() {
        let app = json!({"status": {"sync": {"status": "Synced", "revisions": ["abc", "def"]}}});
        assert_eq!(app_facts(&decode_app(app).unwrap())["revision"], "abc");
    }

    #[test]
    fn selector_aggregates_worst_status_and_newest_deploy() {
        let list: AppList = serde_json::from_value(json!({"metadata": {"resourceVersion": "1"}, "items": [
            full(),
            {"metadata": {"name": "checkout-eu"}, "status": {"sync": {"status": "OutOfSync"}, "health": {"status": "Degraded"},
             "history": [{"id": 3, "deployedAt": "2024-04-01T00:00:00Z"}]}},
            {"metadata": {"name": "checkout-us"}}
        ]})).unwrap();
        let f = selector_facts(&list.items.unwrap());
        assert_eq!(f["sync_status"], "OutOfSync");
        assert_eq!(f["health_status"], "Degraded");
        assert_eq!(f["last_deployed"], "2024-05-02T11:30:00Z");
        assert_eq!(f["apps"].as_array().unwrap().len(), 3);
        assert_eq!(f["apps"][2]["sync_status"], Value::Null);

        let empty: AppList =
            serde_json::from_value(json!({"metadata": {}, "items": null})).unwrap();
        let f = selector_facts(&empty.items.unwrap_or_default());
        assert_eq!(f["apps"], json!([]));
        assert_eq!(f["health_status"], Value::Null);
    }

    #[test]
    fn unknown_codes_rank_worst() {
        assert_eq!(
            worst(
                ["Healthy", "Exploded", "Degraded"].into_iter(),
                &HEALTH_ORDER
            ),
            Some("Exploded")
        );
    }
}
