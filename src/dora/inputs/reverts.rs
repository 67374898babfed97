//! Merged revert pull requests (GitHub's "Revert …" titles) in the horizon.

use std::sync::atomic::{AtomicBool, Ordering};

use super::{array, text, time, DoraInputs, Revert, MAX_PAGES};
use crate::integrations::{FetchContext, FetchError};

impl DoraInputs {
    /// Merged pull requests titled `Revert …` (GitHub's revert button),
    /// updated in the horizon.
    pub(super) async fn reverts(
        &self,
        gh: &FetchContext<'_>,
        base: &str,
        failed: &AtomicBool,
    ) -> Result<Vec<Revert>, String> {
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
            Err(e) => {
                failed.store(true, Ordering::Relaxed);
                Err(format!("revert pull requests: {e}"))
            }
        }
    }
}
