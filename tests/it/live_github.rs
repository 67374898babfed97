//! Live data from GitHub, against a fake API on 127.0.0.1 that answers
//! with payloads shaped like GitHub's REST v3 documentation
//! (tests/fixtures/live/github/): every fact, pagination of team members,
//! absent optional data, the headers sent, rate-limit 403 versus
//! permission 403, and a missing repository.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::common::{integration, CatalogBuilder, Repo, TestEnv, COMPONENTS, ORG};
use crate::fake_api::{FakeApi, Reply};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/live/github/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("fixture JSON")
}

/// The standard catalog with GitHub pointed at `base_url` and a short
/// deadline, so a test that waits too long fails instead of hanging.
fn catalog(env: &TestEnv, base_url: &str) -> Repo {
    CatalogBuilder::new(env.dir("catalog"))
        .live_config(&integration("github", base_url), "5s")
        .file("org.yaml", ORG)
        .file("components.yaml", COMPONENTS)
        .build()
}

/// A fake GitHub serving every fact of acme/ledger under `prefix`
/// (`""` for api.github.com, `/api/v3` for GitHub Enterprise Server).
fn github(prefix: &str) -> FakeApi {
    let api = FakeApi::start();
    let repo = format!("{prefix}/repos/acme/ledger");
    let last = format!(
        "<{0}{prefix}/repositories/1296269/pulls?state=open&per_page=1&page=2>; rel=\"next\", \
         <{0}{prefix}/repositories/1296269/pulls?state=open&per_page=1&page=57>; rel=\"last\"",
        api.base
    );
    api.route(&repo, Reply::json(fixture("repo.json")))
        .route(
            &format!("{repo}/commits"),
            Reply::json(fixture("commits.json")),
        )
        .route(
            &format!("{repo}/pulls"),
            Reply::json(fixture("pulls.json")).header("link", &last),
        )
        .route(
            &format!("{repo}/actions/runs"),
            Reply::json(fixture("workflow_runs.json")),
        )
        .route(
            &format!("{repo}/releases/latest"),
            Reply::json(fixture("release.json")),
        )
        .route(
            &format!("{repo}/deployments"),
            Reply::json(fixture("deployments.json")),
        )
        .route(
            &format!("{repo}/deployments/42/statuses"),
            Reply::json(fixture("deployment_statuses.json")),
        );
    api
}

fn show_json(env: &TestEnv, repo: &Repo, entity: &str) -> Value {
    let run = env.run(["--catalog", repo.path(), "show", entity, "-o", "json"]);
    run.ok();
    run.json()
}

fn not_found() -> Reply {
    Reply::status(404)
        .body(r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}"#)
        .header("content-type", "application/json")
}

#[test]
fn every_repository_fact() {
    let api = github("");
    let mut env = TestEnv::new();
    env.env("GITHUB_TOKEN", "ghp_test0123456789");
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "ledger")["live"]["github"];
    assert_eq!(live["status"], "ok", "{live:#}");
    assert!(live["fetched_at"].as_str().unwrap().contains('T'));
    assert_eq!(
        live["facts"],
        json!({
            "repository": "acme/ledger",
            "html_url": "https://github.com/acme/ledger",
            "default_branch": "trunk",
            "archived": false,
            "latest_commit": {
                "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
                "author": "Alice Liddell",
                "date": "2026-11-20T15:02:10Z",
                "message": "Reconcile settlements nightly (#412)"
            },
            "open_pull_requests": 57,
            "latest_workflow_run": {
                "name": "CI",
                "status": "completed",
                "conclusion": "failure",
                "html_url": "https://github.com/acme/ledger/actions/runs/30433642",
                "created_at": "2026-11-20T15:02:15Z"
            },
            "latest_release": {
                "tag": "v2.4.0",
                "name": "Ledger 2.4.0",
                "published_at": "2026-11-19T09:12:30Z",
                "html_url": "https://github.com/acme/ledger/releases/v2.4.0"
            },
            "latest_production_deployment": {
                "sha": "a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d",
                "ref": "v2.4.0",
                "environment": "production",
                "created_at": "2026-11-19T10:00:00Z",
                "state": "success"
            },
            "team": null,
            "team_members": null
        })
    );
}

#[test]
fn requests_carry_the_token_and_scope_to_the_default_branch() {
    let api = github("");
    let mut env = TestEnv::new();
    env.env("GITHUB_TOKEN", "ghp_test0123456789");
    let repo = catalog(&env, &api.base);
    show_json(&env, &repo, "ledger");
    let seen = api.seen();
    assert_eq!(seen.len(), 7, "{seen:#?}");
    for s in &seen {
        assert_eq!(
            s.header("authorization"),
            Some("Bearer ghp_test0123456789"),
            "{}",
            s.url
        );
        assert_eq!(
            s.header("accept"),
            Some("application/vnd.github+json"),
            "{}",
            s.url
        );
        assert_eq!(
            s.header("x-github-api-version"),
            Some("2022-11-28"),
            "{}",
            s.url
        );
    }
    let url = |prefix: &str| {
        api.seen_at(prefix)
            .first()
            .unwrap_or_else(|| panic!("no request to {prefix}"))
            .url
            .clone()
    };
    assert_eq!(
        url("/repos/acme/ledger/commits"),
        "/repos/acme/ledger/commits?sha=trunk&per_page=1"
    );
    assert_eq!(
        url("/repos/acme/ledger/pulls"),
        "/repos/acme/ledger/pulls?state=open&per_page=1"
    );
    assert!(url("/repos/acme/ledger/actions/runs").contains("branch=trunk"));
    assert!(url("/repos/acme/ledger/deployments?").contains("environment=production"));
}

#[test]
fn github_enterprise_base_path_is_kept() {
    let api = github("/api/v3");
    let mut env = TestEnv::new();
    env.env("GITHUB_TOKEN", "ghp_test0123456789");
    let repo = catalog(&env, &format!("{}/api/v3", api.base));
    let live = &show_json(&env, &repo, "ledger")["live"]["github"];
    assert_eq!(live["status"], "ok", "{live:#}");
    assert_eq!(live["facts"]["open_pull_requests"], 57);
    assert!(api
        .seen()
        .iter()
        .all(|s| s.url.starts_with("/api/v3/repos/acme/ledger")));
}

#[test]
fn without_a_token_public_data_is_still_fetched_without_authorization() {
    let api = github("");
    let env = TestEnv::new();
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "ledger")["live"]["github"];
    assert_eq!(live["status"], "ok", "{live:#}");
    assert!(api
        .seen()
        .iter()
        .all(|s| s.header("authorization").is_none()));
}

#[test]
fn absent_optional_data_is_null_or_zero() {
    let api = FakeApi::start();
    let repo_path = "/repos/acme/ledger";
    api.route(repo_path, Reply::json(fixture("repo.json")))
        // An empty repository: GitHub answers 409 "Git Repository is empty."
        .route(
            &format!("{repo_path}/commits"),
            Reply::status(409)
                .body(r#"{"message":"Git Repository is empty.","documentation_url":"https://docs.github.com/rest/commits/commits#list-commits"}"#),
        )
        .route(&format!("{repo_path}/pulls"), Reply::json(json!([])))
        .route(
            &format!("{repo_path}/actions/runs"),
            Reply::json(json!({"total_count": 0, "workflow_runs": []})),
        )
        .route(&format!("{repo_path}/releases/latest"), not_found())
        .route(&format!("{repo_path}/deployments"), Reply::json(json!([])));
    let env = TestEnv::new();
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "ledger")["live"]["github"];
    assert_eq!(live["status"], "ok", "{live:#}");
    let facts = &live["facts"];
    assert_eq!(facts["latest_commit"], Value::Null);
    assert_eq!(facts["open_pull_requests"], 0);
    assert_eq!(facts["latest_workflow_run"], Value::Null);
    assert_eq!(facts["latest_release"], Value::Null);
    assert_eq!(facts["latest_production_deployment"], Value::Null);
    assert_eq!(facts["default_branch"], "trunk");
    // No deployment: its statuses are never asked for.
    assert!(api.seen_at("/repos/acme/ledger/deployments/").is_empty());
}

#[test]
fn one_open_pull_request_without_link_header_counts_one() {
    let api = github("");
    // The most specific route wins: this one replaces the paginated answer.
    api.route(
        "/repos/acme/ledger/pulls?state=open",
        Reply::json(fixture("pulls.json")),
    );
    let env = TestEnv::new();
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "ledger")["live"]["github"];
    assert_eq!(live["facts"]["open_pull_requests"], 1, "{live:#}");
}

#[test]
fn deployment_without_status_has_null_state() {
    let api = github("");
    api.route(
        "/repos/acme/ledger/deployments/42/statuses?per_page=1",
        Reply::json(json!([])),
    );
    let env = TestEnv::new();
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "ledger")["live"]["github"];
    let dep = &live["facts"]["latest_production_deployment"];
    assert_eq!(
        dep["sha"], "a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d",
        "{live:#}"
    );
    assert_eq!(dep["state"], Value::Null);
}

fn members(from: usize, to: usize) -> Value {
    (from..to)
        .map(|i| {
            json!({
                "login": format!("dev{i:03}"),
                "id": 1000 + i,
                "node_id": "MDQ6VXNlcjE=",
                "avatar_url": "https://github.com/images/error/octocat_happy.gif",
                "url": format!("https://api.github.com/users/dev{i:03}"),
                "html_url": format!("https://github.com/dev{i:03}"),
                "type": "User",
                "site_admin": false
            })
        })
        .collect()
}

#[test]
fn team_members_are_read_over_every_page() {
    let api = FakeApi::start();
    // GitHub's next links point at /organizations/{id}/team/{id}/members.
    let page = |n: usize| {
        format!(
            "<{}/organizations/1/team/2/members?per_page=100&page={n}>",
            api.base
        )
    };
    let links1 = format!("{}; rel=\"next\", {}; rel=\"last\"", page(2), page(3));
    let links2 = format!(
        "{}; rel=\"prev\", {}; rel=\"next\", {}; rel=\"last\", {}; rel=\"first\"",
        page(1),
        page(3),
        page(3),
        page(1)
    );
    let links3 = format!("{}; rel=\"prev\", {}; rel=\"first\"", page(2), page(1));
    api.route(
        "/orgs/acme/teams/payments/members",
        Reply::json(members(0, 100)).header("link", &links1),
    )
    .route(
        "/organizations/1/team/2/members?per_page=100&page=2",
        Reply::json(members(100, 200)).header("link", &links2),
    )
    .route(
        "/organizations/1/team/2/members?per_page=100&page=3",
        Reply::json(members(200, 205)).header("link", &links3),
    );
    let mut env = TestEnv::new();
    env.env("GITHUB_TOKEN", "ghp_test0123456789");
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "group:payments")["live"]["github"];
    assert_eq!(live["status"], "ok", "{live:#}");
    let logins: Vec<&str> = live["facts"]["team_members"]
        .as_array()
        .expect("team_members")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(logins.len(), 205);
    assert_eq!(logins[0], "dev000");
    assert_eq!(logins[204], "dev204");
    assert_eq!(live["facts"]["team"], "acme/payments");
    assert_eq!(live["facts"]["repository"], Value::Null);
    assert_eq!(
        api.seen_at("/orgs/acme/teams/payments/members")[0].url,
        "/orgs/acme/teams/payments/members?per_page=100"
    );
    let seen = api.seen();
    assert_eq!(seen.len(), 3, "{seen:#?}");
    assert!(seen
        .iter()
        .all(|s| s.header("authorization") == Some("Bearer ghp_test0123456789")));
}

#[test]
fn entities_without_the_annotation_are_absent() {
    let api = github("");
    let env = TestEnv::new();
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "storefront")["live"]["github"];
    assert_eq!(live["status"], "absent");
    assert_eq!(live["reason"], "no github.com/project-slug annotation");
    let live = &show_json(&env, &repo, "group:checkout")["live"]["github"];
    assert_eq!(live["status"], "absent");
    assert_eq!(
        live["reason"],
        "no github.com/project-slug or github.com/team-slug annotation"
    );
    assert!(api.seen().is_empty());
}

#[test]
fn a_missing_repository_is_unavailable_with_a_clear_reason() {
    let api = FakeApi::start();
    api.route("/repos/acme/ledger", not_found());
    let env = TestEnv::new();
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "ledger")["live"]["github"];
    assert_eq!(live["status"], "unavailable");
    let reason = live["reason"].as_str().unwrap();
    assert!(
        reason.contains("repository acme/ledger not found (or the token cannot see it)"),
        "{reason}"
    );
    assert_eq!(api.seen().len(), 1);
}

#[test]
fn rate_limit_403_far_in_the_future_gives_up_quickly() {
    let api = FakeApi::start();
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    api.route(
        "/repos/acme/ledger",
        Reply::status(403)
            .body(r#"{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}"#)
            .header("x-ratelimit-limit", "5000")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-used", "5000")
            .header("x-ratelimit-reset", &reset.to_string())
            .header("x-ratelimit-resource", "core"),
    );
    let mut env = TestEnv::new();
    env.env("GITHUB_TOKEN", "ghp_test0123456789");
    let repo = catalog(&env, &api.base);
    let started = Instant::now();
    let live = &show_json(&env, &repo, "ledger")["live"]["github"];
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert_eq!(live["status"], "unavailable");
    let reason = live["reason"].as_str().unwrap();
    assert!(reason.contains("rate limit"), "{reason}");
    assert!(!reason.contains("permission"), "{reason}");
    assert_eq!(api.seen().len(), 1);
}

#[test]
fn permission_403_is_not_retried_and_says_permission() {
    let api = github("");
    api.route(
        "/repos/acme/ledger/actions/runs",
        Reply::status(403)
            .body(r#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository","status":"403"}"#)
            .header("content-type", "application/json")
            .header("x-ratelimit-limit", "5000")
            .header("x-ratelimit-remaining", "4987")
            .header("x-ratelimit-reset", "1893456000"),
    );
    let mut env = TestEnv::new();
    env.env("GITHUB_TOKEN", "ghp_test0123456789");
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "ledger")["live"]["github"];
    // A token without Actions access loses that fact only.
    assert_eq!(live["status"], "ok", "{live:#}");
    assert_eq!(live["facts"]["latest_workflow_run"], Value::Null);
    assert!(!live["facts"]["latest_commit"].is_null(), "{live:#}");
    assert_eq!(live["unavailable_facts"].as_object().unwrap().len(), 1);
    let reason = live["unavailable_facts"]["latest_workflow_run"]
        .as_str()
        .unwrap();
    assert!(reason.contains("permission denied"), "{reason}");
    assert!(
        reason.contains("/repos/acme/ledger/actions/runs"),
        "{reason}"
    );
    assert!(
        reason.contains("Resource not accessible by integration"),
        "{reason}"
    );
    assert!(!reason.contains("ghp_test"), "{reason}");
    assert_eq!(api.seen_at("/repos/acme/ledger/actions/runs").len(), 1);
}

#[test]
fn bad_credentials_name_the_token_variable() {
    let api = FakeApi::start();
    api.route(
        "/repos/acme/ledger",
        Reply::status(401).body(
            r#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}"#,
        ),
    );
    let mut env = TestEnv::new();
    env.env("GITHUB_TOKEN", "ghp_expired");
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "ledger")["live"]["github"];
    assert_eq!(live["status"], "unavailable");
    let reason = live["reason"].as_str().unwrap();
    assert!(reason.contains("Bad credentials"), "{reason}");
    assert!(reason.contains("GITHUB_TOKEN"), "{reason}");
    assert!(!reason.contains("ghp_expired"), "{reason}");
    assert_eq!(api.seen().len(), 1);
}

#[test]
fn a_malformed_slug_is_unavailable_without_a_request() {
    let api = github("");
    let env = TestEnv::new();
    let repo = catalog(&env, &api.base);
    repo.commit_file(
        "extra.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: odd\n  annotations:\n    github.com/project-slug: just-a-name\nspec:\n  type: service\n  lifecycle: production\n  owner: payments\n",
    );
    let live = &show_json(&env, &repo, "odd")["live"]["github"];
    assert_eq!(live["status"], "unavailable");
    assert_eq!(
        live["reason"],
        "github.com/project-slug 'just-a-name' is not of the form owner/name"
    );
    assert!(api.seen().is_empty());
}

#[test]
fn show_has_a_live_section_with_the_facts() {
    let api = github("");
    let env = TestEnv::new();
    let repo = catalog(&env, &api.base);
    let run = env.run(["--catalog", repo.path(), "show", "ledger"]);
    run.ok();
    let live = &run.stdout[run.stdout.find("\nLive\n").expect("a Live section")..];
    let age = regex::Regex::new(r"fetched \d+ s ago").unwrap();
    insta::assert_snapshot!("show_live_github", age.replace_all(live, "fetched [AGE]"));
}

#[test]
fn who_owns_reports_the_latest_commit_and_deploy() {
    let api = github("");
    let env = TestEnv::new();
    let repo = catalog(&env, &api.base);
    let run = env.run(["--catalog", repo.path(), "who-owns", "ledger", "-o", "json"]);
    let report = run.ok().json();
    let activity = &report["latest_activity"];
    assert_eq!(
        activity["last_commit"]["sha"], "6dcb09b5b57875f334f61aebed695e2e4193db5e",
        "{report:#}"
    );
    assert_eq!(activity["last_deploy"]["ref"], "v2.4.0", "{report:#}");
}
