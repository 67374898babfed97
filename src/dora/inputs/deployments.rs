//! GitHub deployments: the production deployments in the horizon (pages
//! followed by `Link: rel="next"`) and each one's final state from its
//! statuses.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{
    array, futures_join_all, text, time, Deployment, DoraInputs, Source, State, MAX_BASE_TRIES,
    MAX_PAGES,
};
use crate::integrations::{FetchContext, FetchError};

impl DoraInputs {
    /// Production deployments in the horizon with their states, oldest
    /// first, preceded by the newest successful older one (the base).
    pub(super) async fn deployments(
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
}
