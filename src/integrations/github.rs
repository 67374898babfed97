//! GitHub (and GitHub Enterprise Server): repository facts for entities
//! annotated `github.com/project-slug: owner/repo`, and team members for
//! Groups annotated `github.com/team-slug: org/team`.
//!
//! Facts (`live.github.*`; every key is always present, null when it does
//! not apply or the repository has none):
//! `repository`, `html_url`, `default_branch`, `archived`, `latest_commit`
//! `{sha, author, date, message}`, `open_pull_requests`,
//! `latest_workflow_run` `{name, status, conclusion, html_url, created_at}`,
//! `latest_release` `{tag, name, published_at, html_url}`,
//! `latest_production_deployment` `{sha, ref, environment, created_at, state}`,
//! `team`, `team_members` (logins).
//!
//! Each fact after the repository itself has its own request and fails
//! alone (a token without Actions access still gets the commits): it is
//! then null and `unavailable_facts` says why.
//!
//! This module only knows GitHub's REST API v3 shapes; HTTP, retries,
//! rate limits, ETag revalidation and the cache are the client's.

use serde_json::{json, Value};

use super::config::ConfigError;
use super::{
    BoxFuture, EntityView, FactMap, FetchContext, FetchError, Fetched, Integration, Request,
    Response,
};

/// The annotation linking an entity to a repository.
pub const PROJECT_SLUG: &str = "github.com/project-slug";
/// The annotation linking a Group to a GitHub team.
pub const TEAM_SLUG: &str = "github.com/team-slug";

/// The media type GitHub recommends for REST v3.
const ACCEPT: &str = "application/vnd.github+json";
/// The REST API version these payload shapes were checked against.
const API_VERSION: &str = "2022-11-28";
/// Team pages followed at most (100 members each): a bound, not a limit
/// any real team reaches.
const MAX_TEAM_PAGES: usize = 50;

/// The GitHub integration.
#[derive(Debug, Clone)]
pub struct GitHub {
    name: String,
    /// The environment whose deployments count as production.
    production_environment: String,
}

impl GitHub {
    /// Reads the entry's options: `production_environment` (default
    /// `production`), the deployment environment reported as
    /// `latest_production_deployment`.
    pub fn new(cfg: &super::IntegrationConfig) -> Result<Self, ConfigError> {
        let production_environment = match cfg.options.get("production_environment") {
            None => "production".to_string(),
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(_) => {
                return Err(ConfigError::at(
                    &cfg.name,
                    "production_environment",
                    "must be the name of a deployment environment, e.g. production",
                ))
            }
        };
        Ok(GitHub {
            name: cfg.name.clone(),
            production_environment,
        })
    }
}

impl Integration for GitHub {
    fn name(&self) -> &str {
        &self.name
    }

    fn absent_reason(&self, entity: &EntityView) -> Option<String> {
        if entity.annotation(PROJECT_SLUG).is_some() || team_slug_of(entity).is_some() {
            None
        } else if entity.is_kind("Group") {
            Some(format!("no {PROJECT_SLUG} or {TEAM_SLUG} annotation"))
        } else {
            Some(format!("no {PROJECT_SLUG} annotation"))
        }
    }

    fn fetch<'a>(
        &'a self,
        cx: &'a FetchContext<'a>,
        entity: &'a EntityView,
    ) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(async move {
            let mut fetched = Fetched::from(empty_facts());
            let repository = entity.annotation(PROJECT_SLUG);
            if let Some(slug) = repository {
                let (owner, repo) = parse_slug(PROJECT_SLUG, slug)?;
                self.repository_facts(cx, owner, repo, &mut fetched).await?;
            }
            if let Some(slug) = team_slug_of(entity) {
                let (org, team) = parse_slug(TEAM_SLUG, slug)?;
                fetched
                    .facts
                    .insert("team".into(), json!(format!("{org}/{team}")));
                let members = team_members(cx, org, team).await;
                match members {
                    // Nothing else was learnt: the whole answer failed.
                    Err(e) if repository.is_none() => return Err(e),
                    members => fetched.put("team_members", members.map(|m| json!(m))),
                }
            }
            Ok(fetched)
        })
    }
}

impl GitHub {
    /// Everything about one repository. The repository is read first (its
    /// default branch scopes the rest; without it nothing is known); the
    /// other requests run together and each fails alone (a token without
    /// Actions access still shows the commits).
    async fn repository_facts(
        &self,
        cx: &FetchContext<'_>,
        owner: &str,
        repo: &str,
        fetched: &mut Fetched,
    ) -> Result<(), FetchError> {
        let base = format!("/repos/{owner}/{repo}");
        let resp = get(cx, request(cx, &base)?.allow_status(404)).await?;
        if resp.status == 404 {
            return Err(FetchError::Status {
                host: cx.config.host(),
                code: 404,
                message: format!(
                    "repository {owner}/{repo} not found (or the token cannot see it)"
                ),
            });
        }
        let info = parse_repository(&resp.body)?;
        let branch = info.default_branch.clone();

        let commit = async {
            // 409: "Git Repository is empty." — no commit yet, not a failure.
            let req = request(cx, &format!("{base}/commits"))?
                .query("sha", &branch)
                .query("per_page", "1")
                .allow_status(409);
            let resp = get(cx, req).await?;
            if resp.status == 409 {
                return Ok(Value::Null);
            }
            parse_latest_commit(&resp.body)
        };
        let pulls = async {
            let req = request(cx, &format!("{base}/pulls"))?
                .query("state", "open")
                .query("per_page", "1");
            let resp = get(cx, req).await?;
            count_from_last_page(&resp).map(|n| json!(n))
        };
        let run = async {
            let req = request(cx, &format!("{base}/actions/runs"))?
                .query("branch", &branch)
                .query("per_page", "1")
                .query("exclude_pull_requests", "true");
            parse_latest_workflow_run(&get(cx, req).await?.body)
        };
        let release = async {
            // 404 is GitHub's way of saying "no published release".
            let req = request(cx, &format!("{base}/releases/latest"))?.allow_status(404);
            let resp = get(cx, req).await?;
            if resp.status == 404 {
                return Ok(Value::Null);
            }
            parse_release(&resp.body)
        };
        let deployment = self.latest_production_deployment(cx, &base);
        let (commit, pulls, run, release, deployment) =
            tokio::join!(commit, pulls, run, release, deployment);

        let facts = &mut fetched.facts;
        facts.insert("repository".into(), json!(format!("{owner}/{repo}")));
        facts.insert("html_url".into(), json!(info.html_url));
        facts.insert("default_branch".into(), json!(branch));
        facts.insert("archived".into(), json!(info.archived));
        fetched.put("latest_commit", commit);
        fetched.put("open_pull_requests", pulls);
        fetched.put("latest_workflow_run", run);
        fetched.put("latest_release", release);
        fetched.put("latest_production_deployment", deployment);
        Ok(())
    }

    /// The newest deployment to the production environment, with the state
    /// of its newest status (null when it has none yet).
    async fn latest_production_deployment(
        &self,
        cx: &FetchContext<'_>,
        base: &str,
    ) -> Result<Value, FetchError> {
        let req = request(cx, &format!("{base}/deployments"))?
            .query("environment", &self.production_environment)
            .query("per_page", "1");
        let Some(deployment) = parse_latest_deployment(&get(cx, req).await?.body)? else {
            return Ok(Value::Null);
        };
        let req = request(
            cx,
            &format!("{base}/deployments/{}/statuses", deployment.id),
        )?
        .query("per_page", "1");
        let state = parse_latest_status_state(&get(cx, req).await?.body)?;
        Ok(json!({
            "sha": deployment.sha,
            "ref": deployment.git_ref,
            "environment": deployment.environment,
            "created_at": deployment.created_at,
            "state": state,
        }))
    }
}

/// The logins of a team's members, every page.
async fn team_members(
    cx: &FetchContext<'_>,
    org: &str,
    team: &str,
) -> Result<Vec<String>, FetchError> {
    let first = request(cx, &format!("/orgs/{org}/teams/{team}/members"))?
        .query("per_page", "100")
        .allow_status(404);
    let mut resp = get(cx, first).await?;
    if resp.status == 404 {
        return Err(FetchError::Status {
            host: cx.config.host(),
            code: 404,
            message: format!("team {org}/{team} not found (or the token cannot see it)"),
        });
    }
    let mut logins = Vec::new();
    for page in 1.. {
        logins.extend(parse_member_logins(&resp.body)?);
        let Some(next) = resp.link("next") else { break };
        if page >= MAX_TEAM_PAGES {
            return Err(FetchError::decode(
                format!("members of team {org}/{team}"),
                format!("more than {MAX_TEAM_PAGES} pages"),
            ));
        }
        resp = get(cx, request(cx, &next)?).await?;
    }
    Ok(logins)
}

/// A GET with GitHub's recommended headers (the client adds the token).
fn request(cx: &FetchContext<'_>, path_or_url: &str) -> Result<Request, FetchError> {
    Ok(cx
        .request(path_or_url)?
        .accept(ACCEPT)
        .header("X-GitHub-Api-Version", API_VERSION))
}

/// The shared GET (401/403 explained by [`FetchContext::get`]).
async fn get(cx: &FetchContext<'_>, req: Request) -> Result<Response, FetchError> {
    cx.get(req).await
}

/// Every fact key, null: keys are stable whatever the entity links to.
fn empty_facts() -> FactMap {
    [
        "repository",
        "html_url",
        "default_branch",
        "archived",
        "latest_commit",
        "open_pull_requests",
        "latest_workflow_run",
        "latest_release",
        "latest_production_deployment",
        "team",
        "team_members",
    ]
    .into_iter()
    .map(|k| (k.to_string(), Value::Null))
    .collect()
}

/// Team slugs are read on Groups only (Backstage's convention).
fn team_slug_of(entity: &EntityView) -> Option<&str> {
    entity
        .annotation(TEAM_SLUG)
        .filter(|_| entity.is_kind("Group"))
}

/// `owner/name` with GitHub's name characters only, so the parts can go
/// into a URL path as they are.
pub(crate) fn parse_slug<'s>(
    annotation: &str,
    slug: &'s str,
) -> Result<(&'s str, &'s str), FetchError> {
    let valid = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match slug.split_once('/') {
        Some((a, b)) if valid(a) && valid(b) => Ok((a, b.trim_end_matches(".git"))),
        _ => Err(FetchError::Other(format!(
            "{annotation} '{slug}' is not of the form owner/name"
        ))),
    }
}

fn field<'v>(v: &'v Value, pointer: &str) -> Option<&'v str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// What the other requests need from `GET /repos/{owner}/{repo}`.
#[derive(Debug, PartialEq)]
struct RepositoryInfo {
    default_branch: String,
    archived: bool,
    html_url: Option<String>,
}

fn parse_repository(body: &Value) -> Result<RepositoryInfo, FetchError> {
    let default_branch = field(body, "/default_branch")
        .ok_or_else(|| FetchError::decode("GitHub repository", "no default_branch"))?;
    Ok(RepositoryInfo {
        default_branch: default_branch.to_string(),
        archived: body["archived"].as_bool().unwrap_or(false),
        html_url: field(body, "/html_url").map(str::to_string),
    })
}

/// The first commit of `GET /repos/{o}/{r}/commits?sha=<branch>&per_page=1`.
/// The author is the git author's name (always there), the date the
/// committer's (when it landed on the branch).
fn parse_latest_commit(body: &Value) -> Result<Value, FetchError> {
    let list = body
        .as_array()
        .ok_or_else(|| FetchError::decode("GitHub commits", "not an array"))?;
    let Some(c) = list.first() else {
        return Ok(Value::Null);
    };
    let sha = field(c, "/sha")
        .ok_or_else(|| FetchError::decode("GitHub commits", "a commit has no sha"))?;
    let message = field(c, "/commit/message").unwrap_or("");
    Ok(json!({
        "sha": sha,
        "author": field(c, "/commit/author/name").or_else(|| field(c, "/author/login")),
        "date": field(c, "/commit/committer/date").or_else(|| field(c, "/commit/author/date")),
        "message": message.lines().next().unwrap_or(""),
    }))
}

/// The number of items a `per_page=1` list has: the page number of the
/// `Link: <…&page=N>; rel="last"` URL, or, on a single page, the length.
fn count_from_last_page(resp: &Response) -> Result<u64, FetchError> {
    if let Some(last) = resp.link("last") {
        let page = url::Url::parse(&last)
            .ok()
            .and_then(|u| {
                u.query_pairs()
                    .find(|(k, _)| k == "page")
                    .map(|(_, v)| v.into_owned())
            })
            .and_then(|p| p.parse::<u64>().ok());
        return page.ok_or_else(|| {
            FetchError::decode(
                "GitHub pull requests",
                format!("no page number in the rel=\"last\" link {last}"),
            )
        });
    }
    resp.body
        .as_array()
        .map(|a| a.len() as u64)
        .ok_or_else(|| FetchError::decode("GitHub pull requests", "not an array"))
}

/// `GET /repos/{o}/{r}/actions/runs?branch=…&per_page=1`: `{total_count, workflow_runs: […]}`.
fn parse_latest_workflow_run(body: &Value) -> Result<Value, FetchError> {
    let runs = body["workflow_runs"]
        .as_array()
        .ok_or_else(|| FetchError::decode("GitHub workflow runs", "no workflow_runs array"))?;
    Ok(match runs.first() {
        None => Value::Null,
        Some(r) => json!({
            "name": field(r, "/name").or_else(|| field(r, "/display_title")),
            "status": field(r, "/status"),
            "conclusion": field(r, "/conclusion"),
            "html_url": field(r, "/html_url"),
            "created_at": field(r, "/created_at"),
        }),
    })
}

/// `GET /repos/{o}/{r}/releases/latest`.
fn parse_release(body: &Value) -> Result<Value, FetchError> {
    let tag = field(body, "/tag_name")
        .ok_or_else(|| FetchError::decode("GitHub latest release", "no tag_name"))?;
    Ok(json!({
        "tag": tag,
        "name": field(body, "/name"),
        "published_at": field(body, "/published_at"),
        "html_url": field(body, "/html_url"),
    }))
}

/// A deployment, as needed to ask for its statuses.
#[derive(Debug, PartialEq)]
struct Deployment {
    id: u64,
    sha: Option<String>,
    git_ref: Option<String>,
    environment: Option<String>,
    created_at: Option<String>,
}

/// The first (newest) deployment of `GET /repos/{o}/{r}/deployments?environment=…&per_page=1`.
fn parse_latest_deployment(body: &Value) -> Result<Option<Deployment>, FetchError> {
    let list = body
        .as_array()
        .ok_or_else(|| FetchError::decode("GitHub deployments", "not an array"))?;
    let Some(d) = list.first() else {
        return Ok(None);
    };
    let id = d["id"].as_u64().ok_or_else(|| {
        FetchError::decode("GitHub deployments", "a deployment has no numeric id")
    })?;
    let text = |p: &str| field(d, p).map(str::to_string);
    Ok(Some(Deployment {
        id,
        sha: text("/sha"),
        git_ref: text("/ref"),
        environment: text("/environment"),
        created_at: text("/created_at"),
    }))
}

/// The state of the first (newest) status of a deployment, if any.
fn parse_latest_status_state(body: &Value) -> Result<Option<String>, FetchError> {
    let list = body
        .as_array()
        .ok_or_else(|| FetchError::decode("GitHub deployment statuses", "not an array"))?;
    Ok(list
        .first()
        .and_then(|s| field(s, "/state"))
        .map(str::to_string))
}

/// `GET /orgs/{org}/teams/{team}/members`: an array of users.
fn parse_member_logins(body: &Value) -> Result<Vec<String>, FetchError> {
    let list = body
        .as_array()
        .ok_or_else(|| FetchError::decode("GitHub team members", "not an array"))?;
    Ok(list
        .iter()
        .filter_map(|u| field(u, "/login"))
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Trimmed copies of the examples in GitHub's REST reference.

    #[test]
    fn repository() {
        let body = json!({
            "id": 1296269, "name": "Hello-World", "full_name": "octocat/Hello-World",
            "html_url": "https://github.com/octocat/Hello-World",
            "default_branch": "master", "archived": false, "open_issues_count": 0
        });
        assert_eq!(
            parse_repository(&body).unwrap(),
            RepositoryInfo {
                default_branch: "master".into(),
                archived: false,
                html_url: Some("https://github.com/octocat/Hello-World".into()),
            }
        );
        assert!(parse_repository(&json!({"message": "x"})).is_err());
    }

    #[test]
    fn latest_commit_takes_first_line_and_committer_date() {
        let body = json!([{
            "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
            "commit": {
                "author": {"name": "Monalisa Octocat", "email": "support@github.com", "date": "2011-04-14T16:00:49Z"},
                "committer": {"name": "Monalisa Octocat", "email": "support@github.com", "date": "2011-04-15T10:00:00Z"},
                "message": "Fix all the bugs\n\nLong description"
            },
            "author": {"login": "octocat"}
        }]);
        assert_eq!(
            parse_latest_commit(&body).unwrap(),
            json!({
                "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
                "author": "Monalisa Octocat",
                "date": "2011-04-15T10:00:00Z",
                "message": "Fix all the bugs"
            })
        );
        assert_eq!(parse_latest_commit(&json!([])).unwrap(), Value::Null);
    }

    #[test]
    fn workflow_runs_none_is_null() {
        let body = json!({"total_count": 0, "workflow_runs": []});
        assert_eq!(parse_latest_workflow_run(&body).unwrap(), Value::Null);
        let body = json!({"total_count": 1, "workflow_runs": [{
            "id": 30433642, "name": "Build", "head_branch": "master", "status": "queued",
            "conclusion": null, "html_url": "https://github.com/octo-org/octo-repo/actions/runs/30433642",
            "created_at": "2020-01-22T19:33:08Z"
        }]});
        assert_eq!(
            parse_latest_workflow_run(&body).unwrap(),
            json!({"name": "Build", "status": "queued", "conclusion": null,
                   "html_url": "https://github.com/octo-org/octo-repo/actions/runs/30433642",
                   "created_at": "2020-01-22T19:33:08Z"})
        );
    }

    #[test]
    fn release_and_deployment() {
        let rel = json!({"tag_name": "v1.0.0", "name": null, "published_at": "2013-02-27T19:35:32Z",
                         "html_url": "https://github.com/octocat/Hello-World/releases/v1.0.0"});
        assert_eq!(parse_release(&rel).unwrap()["name"], Value::Null);
        let deps = json!([{"id": 42, "sha": "a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d", "ref": "topic-branch",
                           "task": "deploy", "environment": "production", "created_at": "2012-07-20T01:19:13Z"}]);
        let d = parse_latest_deployment(&deps).unwrap().unwrap();
        assert_eq!(d.id, 42);
        assert_eq!(d.git_ref.as_deref(), Some("topic-branch"));
        assert_eq!(parse_latest_deployment(&json!([])).unwrap(), None);
        assert_eq!(
            parse_latest_status_state(&json!([{"id": 1, "state": "success"}]))
                .unwrap()
                .as_deref(),
            Some("success")
        );
        assert_eq!(parse_latest_status_state(&json!([])).unwrap(), None);
    }

    #[test]
    fn slugs() {
        assert_eq!(
            parse_slug(PROJECT_SLUG, "acme/ledger").unwrap(),
            ("acme", "ledger")
        );
        assert_eq!(
            parse_slug(PROJECT_SLUG, "acme/ledger.git").unwrap(),
            ("acme", "ledger")
        );
        for bad in ["acme", "acme/", "/x", "a/b/c", "a b/c", "../x", "a/?x"] {
            let e = parse_slug(PROJECT_SLUG, bad).unwrap_err().to_string();
            assert!(e.contains("not of the form owner/name"), "{bad}: {e}");
        }
    }
}
