//! PagerDuty incidents of the entity's service in the horizon
//! (`offset`/`more` paging, ranges of at most [`PD_RANGE_DAYS`] days).

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration as Span, Utc};

use super::{text, time, DoraInputs, Incident, MAX_INCIDENT_PAGES, PD_ACCEPT, PD_RANGE_DAYS};
use crate::integrations::{pagerduty, EntityView, FetchContext, FetchError, Response};

impl DoraInputs {
    /// The incidents of the entity's service in the horizon; `None` when
    /// incidents are not counted (`dora.incidents: false`).
    pub(super) async fn incidents(
        &self,
        cx: &FetchContext<'_>,
        entity: &EntityView,
        failed: &AtomicBool,
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
                Err(e) => {
                    failed.store(true, Ordering::Relaxed);
                    return Some(Err(format!("PagerDuty incidents: {e}")));
                }
            }
            from = to;
        }
        out.sort_by_key(|i| i.created_at);
        out.dedup_by(|a, b| a.id == b.id);
        Some(Ok(out))
    }
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
