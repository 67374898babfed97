//! Lead time inputs: the commits each successful deployment shipped, from
//! GitHub's compare API between consecutive successful deployments.

use std::sync::atomic::{AtomicBool, Ordering};

use super::{
    futures_join_all, text, time, Change, Deployment, DoraInputs, State, MAX_COMPARE_PAGES,
};
use crate::integrations::{FetchContext, FetchError};

impl DoraInputs {
    /// The commits each successful deployment shipped since the previous
    /// successful one (a rollback ships nothing new).
    pub(super) async fn changes(
        &self,
        gh: &FetchContext<'_>,
        base: &str,
        deployments: &mut [Deployment],
        failed: &AtomicBool,
    ) {
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
                    failed.store(true, Ordering::Relaxed);
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
}
