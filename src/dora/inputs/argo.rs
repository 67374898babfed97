//! The Argo CD fallback: an application's sync history
//! (`GET /api/v1/applications/{name}`, `status.history`) as successful
//! deployments.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use super::{text, time, Deployment, DoraInputs, State};
use crate::integrations::{argocd, EntityView, FetchContext};

impl DoraInputs {
    /// Argo CD's sync history as successful deployments.
    pub(super) async fn argocd(
        &self,
        cx: &FetchContext<'_>,
        entity: &EntityView,
        failed: &AtomicBool,
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
        let resp = match ax.request(&format!("/api/v1/applications/{name}")) {
            Ok(req) => ax.get(req).await,
            Err(e) => Err(e),
        };
        let body = match resp {
            Ok(r) => r.body,
            Err(e) => {
                failed.store(true, Ordering::Relaxed);
                return (Vec::new(), Some(format!("Argo CD: {e}")));
            }
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
}
