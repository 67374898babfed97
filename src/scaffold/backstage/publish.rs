//! `--publish`: create the repository a `publish:github` step names, with
//! GitHub's REST API (`POST /orgs/{owner}/repos`, or `POST /user/repos` when
//! the owner is the token's own user), and push the project's first commit
//! to it. Needs `integrations.github` in the catalog's `idp.yaml` (its
//! `base_url` for GitHub Enterprise or a test server) and a token in
//! `GITHUB_TOKEN` or the variable its `token_env` names. Other hosts
//! (`publish:gitlab`, …) are not supported yet and say so.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::catalog::Catalog;
use crate::git_remote::{self, Credentials, PushError};
use crate::integrations::config::{IntegrationConfig, Sections};
use crate::scaffold::error::ScaffoldError;
use crate::vars::Vars;

use super::actions::PublishPlan;
use super::filters::RepoSpec;

/// A repository created and pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The step that asked for it.
    pub step: String,
    /// The repository's web page.
    pub html_url: String,
    /// The URL pushed to.
    pub clone_url: String,
    /// The branch pushed.
    pub branch: String,
}

fn unsupported(action: &str, step: &str, why: &str) -> ScaffoldError {
    ScaffoldError::PublishUnsupported {
        action: action.to_string(),
        step: step.to_string(),
        why: why.to_string(),
    }
}

/// The GitHub integration `--publish` uses for the step `step` running
/// `action`, or why it cannot publish. Called before anything is asked or
/// rendered, so a run that cannot publish stops before it writes. The token
/// comes from `env`, under the name `token_env` gives (`GITHUB_TOKEN`).
pub fn integration(
    action: &str,
    step: &str,
    catalog: Option<&Catalog>,
    env: &Vars,
) -> Result<IntegrationConfig, ScaffoldError> {
    if action != "publish:github" {
        return Err(unsupported(action, step, ""));
    }
    let sections = catalog
        .map(Sections::of)
        .transpose()
        .map_err(|e| ScaffoldError::InvalidValue {
            name: "--publish".into(),
            message: e.to_string(),
        })?
        .unwrap_or_default();
    let entry = sections.integrations.get("github").ok_or_else(|| {
        unsupported(
            action,
            step,
            ": the catalog's idp.yaml configures no integrations.github",
        )
    })?;
    let cfg = IntegrationConfig::resolve("github", entry, &env.lookup()).map_err(|e| {
        ScaffoldError::InvalidValue {
            name: "--publish".into(),
            message: e.to_string(),
        }
    })?;
    if cfg.token.is_none() {
        return Err(ScaffoldError::InvalidValue {
            name: "--publish".into(),
            message: format!(
                "no GitHub token: set {} (integrations.github.token_env names the variable)",
                cfg.token_env.as_deref().unwrap_or("GITHUB_TOKEN")
            ),
        });
    }
    Ok(cfg)
}

fn api_error(what: &str, message: impl std::fmt::Display) -> ScaffoldError {
    ScaffoldError::InvalidValue {
        name: "--publish".into(),
        message: format!("{what}: {message}"),
    }
}

/// Creates the repository of `plan` and pushes `project`'s branch to it.
pub fn publish(
    plan: &PublishPlan,
    cfg: &IntegrationConfig,
    project: &Path,
) -> Result<Published, ScaffoldError> {
    let spec = RepoSpec::parse(&plan.repo_url).map_err(|m| api_error("repoUrl", m))?;
    let owner = spec.owner.clone().unwrap_or_default();
    let token = cfg.token.clone().expect("checked by integration()");
    let base = cfg.base_url.as_str().trim_end_matches('/').to_string();
    let visibility = plan
        .details
        .iter()
        .find(|(k, _)| k == "repoVisibility")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "private".into());
    let description = plan
        .details
        .iter()
        .find(|(k, _)| k == "description")
        .map(|(_, v)| v.clone());

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| api_error("starting the HTTP client", e))?;
    let created: Value = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .user_agent(concat!("idp/", env!("CARGO_PKG_VERSION")))
            .timeout(cfg.timeout.unwrap_or(Duration::from_secs(30)))
            .build()
            .map_err(|e| api_error("HTTP client", e))?;
        let get = |url: String| {
            client
                .get(url)
                .bearer_auth(token.expose())
                .header("accept", "application/vnd.github+json")
        };
        let me = get(format!("{base}/user"))
            .send()
            .await
            .map_err(|e| api_error(&format!("GET {base}/user"), e))?;
        if !me.status().is_success() {
            return Err(api_error(
                &format!("GET {base}/user"),
                format!("HTTP {}", me.status()),
            ));
        }
        let me = me.text().await.map_err(|e| api_error("GET /user", e))?;
        let me: Value = serde_json::from_str(&me).map_err(|e| api_error("GET /user", e))?;
        let login = me.get("login").and_then(Value::as_str).unwrap_or_default();
        let url = if login.eq_ignore_ascii_case(&owner) {
            format!("{base}/user/repos")
        } else {
            format!("{base}/orgs/{owner}/repos")
        };
        let mut body = json!({
            "name": spec.repo,
            "private": visibility != "public",
            "visibility": visibility,
        });
        if let Some(d) = &description {
            body["description"] = Value::from(d.clone());
        }
        let resp = client
            .post(&url)
            .bearer_auth(token.expose())
            .header("accept", "application/vnd.github+json")
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| api_error(&format!("POST {url}"), e))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| {
                    let m = v.get("message")?.as_str()?.to_string();
                    let detail = v
                        .get("errors")
                        .and_then(Value::as_array)
                        .and_then(|e| e.first())
                        .and_then(|e| e.get("message"))
                        .and_then(Value::as_str)
                        .map(|d| format!(" ({d})"))
                        .unwrap_or_default();
                    Some(format!("{m}{detail}"))
                })
                .unwrap_or(text);
            return Err(api_error(
                &format!("creating {owner}/{} with POST {url}", spec.repo),
                format!("HTTP {status}: {message}"),
            ));
        }
        serde_json::from_str(&text).map_err(|e| api_error(&format!("POST {url}"), e))
    })?;
    let clone_url = created
        .get("clone_url")
        .and_then(Value::as_str)
        .ok_or_else(|| api_error("GitHub's answer", "no clone_url"))?
        .to_string();
    let html_url = created
        .get("html_url")
        .and_then(Value::as_str)
        .unwrap_or(&clone_url)
        .to_string();
    let branch = push(project, &clone_url, token.expose())?;
    Ok(Published {
        step: plan.step.clone(),
        html_url,
        clone_url,
        branch,
    })
}

/// Pushes the checked-out branch of `project` to `url` as `origin`; the
/// token goes along to that URL's host only (the host the GitHub API, which
/// already holds the token, named for the new repository).
fn push(project: &Path, url: &str, token: &str) -> Result<String, ScaffoldError> {
    let git = |what: &str| {
        let what = what.to_string();
        move |e: git2::Error| ScaffoldError::git(what, e)
    };
    let repo = git2::Repository::open(project).map_err(git("open the project repository"))?;
    let head = repo.head().map_err(git("read HEAD"))?;
    let branch = head.shorthand().unwrap_or("main").to_string();
    if repo.find_remote("origin").is_err() {
        repo.remote("origin", url)
            .map_err(git("add remote origin"))?;
    }
    let creds = match url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
    {
        Some(host) => Credentials::with_token(&host, token),
        None => Credentials::none(),
    };
    let spec = format!("refs/heads/{branch}:refs/heads/{branch}");
    git_remote::push(&repo, "origin", &[spec.as_str()], &creds).map_err(|e| match e {
        PushError::Git(e) => git(&format!("push {branch} to {url}"))(e),
        PushError::Rejected { reference, status } => api_error(
            "push",
            format!("the new repository refused {reference}: {status}"),
        ),
    })?;
    Ok(branch)
}
