//! The releases fallback: published GitHub releases as successful
//! deployments, for repositories without deployments.

use super::{array, text, time, Deployment, DoraInputs, State, MAX_PAGES};
use crate::integrations::{FetchContext, FetchError};

impl DoraInputs {
    /// Published releases in the horizon as successful deployments.
    pub(super) async fn releases(
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
}
