//! Live data from SonarQube, Argo CD and the generic HTTP integration,
//! against fake APIs on 127.0.0.1 serving payloads shaped like the real
//! ones (SonarQube's web service examples, Argo CD's `v1alpha1Application`
//! swagger model): every fact, fields the APIs leave out, each API's error
//! format, and the auth headers sent.

use serde_json::{json, Value};

use crate::common::{component_with, team, CatalogBuilder, Repo, TestEnv};
use crate::fake_api::{FakeApi, Reply};

/// A Component of team-a with these annotations (YAML-quoted).
fn component(name: &str, annotations: &[(&str, &str)]) -> String {
    component_with(name, "team-a", annotations)
}

/// A catalog whose idp.yaml has `integrations` (YAML, indented two spaces).
fn catalog(env: &TestEnv, integrations: &str, components: &[String]) -> Repo {
    CatalogBuilder::new(env.dir("catalog"))
        .live_config(integrations, "5s")
        .file("org.yaml", team("team-a"))
        .file("components.yaml", components.concat())
        .build()
}

/// `idp show ENTITY -o json` → `.live.<integration>`.
fn live(env: &TestEnv, repo: &Repo, entity: &str, integration: &str) -> Value {
    let run = env.run(["--catalog", repo.path(), "show", entity, "-o", "json"]);
    run.ok();
    let v = run.json();
    assert_eq!(
        v["metadata"]["name"], entity,
        "the catalog answer is there too"
    );
    v["live"][integration].clone()
}

// ---------------------------------------------------------------- SonarQube

fn sonar_measures() -> Value {
    json!({"component": {"key": "acme:checkout", "name": "checkout", "qualifier": "TRK", "measures": [
        {"metric": "bugs", "value": "3", "bestValue": false},
        {"metric": "code_smells", "value": "120", "bestValue": false},
        {"metric": "coverage", "value": "81.4", "bestValue": false},
        {"metric": "vulnerabilities", "value": "0", "bestValue": true}]}})
}

fn sonar_gate(status: &str) -> Value {
    json!({"projectStatus": {"status": status, "ignoredConditions": false, "caycStatus": "non-compliant",
        "conditions": [{"status": status, "metricKey": "new_coverage", "comparator": "LT",
                        "errorThreshold": "85", "actualValue": "82.50562381034781"}],
        "period": {"mode": "last_version", "date": "2000-04-27T00:45:23+0200", "parameter": "2015-12-07"}}})
}

fn sonar_analyses() -> Value {
    json!({"paging": {"pageIndex": 1, "pageSize": 1, "total": 3}, "analyses": [
        {"key": "A2", "date": "2016-12-12T17:12:45+0100", "projectVersion": "1.2.1", "buildString": "1.2.1.423",
         "revision": "be6c75b85da526349c44e3978374c95e0b80a96d", "manualNewCodePeriodBaseline": false,
         "events": [{"key": "E21", "category": "QUALITY_PROFILE", "name": "Quality Profile changed to Sonar Way"}]}]})
}

fn sonarqube() -> FakeApi {
    let api = FakeApi::start();
    api.route("/api/measures/component", Reply::json(sonar_measures()))
        .route(
            "/api/qualitygates/project_status",
            Reply::json(sonar_gate("ERROR")),
        )
        .route(
            "/api/project_analyses/search",
            Reply::json(sonar_analyses()),
        );
    api
}

fn sonar_entry(base: &str) -> String {
    format!("  sonarqube:\n    base_url: {base}\n")
}

#[test]
fn sonarqube_facts_with_basic_auth_token() {
    let api = sonarqube();
    let mut env = TestEnv::new();
    env.env("SONARQUBE_TOKEN", "squ_0123456789");
    let repo = catalog(
        &env,
        &sonar_entry(&api.base),
        &[component(
            "checkout",
            &[("sonarqube.org/project-key", "acme:checkout")],
        )],
    );
    let s = live(&env, &repo, "checkout", "sonarqube");
    assert_eq!(s["status"], "ok", "{s:#}");
    assert_eq!(
        s["facts"],
        json!({"project_key": "acme:checkout", "coverage": 81.4, "bugs": 3, "vulnerabilities": 0,
               "code_smells": 120, "quality_gate": "ERROR", "last_analysis": "2016-12-12T16:12:45Z"})
    );
    let seen = api.seen();
    assert_eq!(seen.len(), 3);
    for s in &seen {
        // Basic base64("squ_0123456789:"): the token is the user, no password.
        assert_eq!(
            s.header("authorization"),
            Some("Basic c3F1XzAxMjM0NTY3ODk6"),
            "{}",
            s.url
        );
    }
    let url = |prefix: &str| api.seen_at(prefix)[0].url.clone();
    assert_eq!(
        url("/api/measures/component"),
        "/api/measures/component?component=acme%3Acheckout&metricKeys=coverage%2Cbugs%2Cvulnerabilities%2Ccode_smells"
    );
    assert_eq!(
        url("/api/qualitygates/project_status"),
        "/api/qualitygates/project_status?projectKey=acme%3Acheckout"
    );
    assert_eq!(
        url("/api/project_analyses/search"),
        "/api/project_analyses/search?project=acme%3Acheckout&ps=1"
    );
}

#[test]
fn sonarqube_uncomputed_measures_and_never_analysed_are_null() {
    let api = FakeApi::start();
    api.route(
        "/api/measures/component",
        Reply::json(json!({"component": {"key": "acme:new", "name": "new", "qualifier": "TRK", "measures": []}})),
    )
    .route(
        "/api/qualitygates/project_status",
        Reply::json(json!({"projectStatus": {"status": "NONE", "ignoredConditions": false, "conditions": []}})),
    )
    .route(
        "/api/project_analyses/search",
        Reply::json(json!({"paging": {"pageIndex": 1, "pageSize": 1, "total": 0}, "analyses": []})),
    );
    let env = TestEnv::new();
    let repo = catalog(
        &env,
        &sonar_entry(&api.base),
        &[component(
            "fresh",
            &[("sonarqube.org/project-key", "acme:new")],
        )],
    );
    let s = live(&env, &repo, "fresh", "sonarqube");
    assert_eq!(s["status"], "ok", "{s:#}");
    assert_eq!(
        s["facts"],
        json!({"project_key": "acme:new", "coverage": null, "bugs": null, "vulnerabilities": null,
               "code_smells": null, "quality_gate": "NONE", "last_analysis": null})
    );
    // No token: SonarCloud's public projects need none, and none is sent.
    assert!(api
        .seen()
        .iter()
        .all(|s| s.header("authorization").is_none()));
}

#[test]
fn sonarqube_error_format_is_the_reason() {
    let api = sonarqube();
    let missing = Reply::status(404)
        .header("content-type", "application/json")
        .body(r#"{"errors":[{"msg":"Component key 'acme:gone' not found"}]}"#);
    api.route("/api/measures/component", missing.clone())
        .route("/api/qualitygates/project_status", missing.clone())
        .route("/api/project_analyses/search", missing);
    let env = TestEnv::new();
    let repo = catalog(
        &env,
        &sonar_entry(&api.base),
        &[component(
            "gone",
            &[("sonarqube.org/project-key", "acme:gone")],
        )],
    );
    let s = live(&env, &repo, "gone", "sonarqube");
    assert_eq!(s["status"], "unavailable", "{s:#}");
    let reason = s["reason"].as_str().unwrap();
    assert!(reason.contains("HTTP 404"), "{reason}");
    assert!(
        reason.contains("Component key 'acme:gone' not found"),
        "{reason}"
    );
}

#[test]
fn sonarqube_instance_prefix_picks_the_entry() {
    let api = sonarqube();
    let env = TestEnv::new();
    let entries = format!(
        "  sonarqube:\n    base_url: {0}\n  sonar-internal:\n    type: sonarqube\n    base_url: {0}\n",
        api.base
    );
    let repo = catalog(
        &env,
        &entries,
        &[component(
            "checkout",
            &[("sonarqube.org/project-key", "sonar-internal/acme:checkout")],
        )],
    );
    let run = env.run(["--catalog", repo.path(), "show", "checkout", "-o", "json"]);
    run.ok();
    let v = run.json();
    assert_eq!(v["live"]["sonar-internal"]["status"], "ok", "{v:#}");
    assert_eq!(
        v["live"]["sonar-internal"]["facts"]["project_key"],
        "acme:checkout"
    );
    assert_eq!(v["live"]["sonarqube"]["status"], "absent");
    assert_eq!(
        v["live"]["sonarqube"]["reason"],
        "sonarqube.org/project-key names SonarQube instance 'sonar-internal', not 'sonarqube'"
    );
    assert_eq!(api.seen().len(), 3);
}

// ------------------------------------------------------------------ Argo CD

/// `GET /api/v1/applications/{name}`, shaped like `v1alpha1Application`.
fn argo_app(name: &str) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "argocd", "uid": "916d12f5-ebf1-462e-8b08-13e660cd1ce6",
                     "resourceVersion": "25165157", "generation": 5526,
                     "creationTimestamp": "2024-01-09T00:49:52Z", "labels": {"team": "payments"}},
        "spec": {"source": {"repoURL": "https://github.com/acme/deploy", "path": "checkout", "targetRevision": "HEAD"},
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": "checkout"},
                 "project": "default", "syncPolicy": {"automated": {"prune": true}}},
        "status": {
            "resources": [{"version": "v1", "kind": "Service", "namespace": "checkout", "name": "checkout",
                           "status": "Synced", "health": {"status": "Healthy"}}],
            "sync": {"status": "Synced", "comparedTo": {"source": {"repoURL": "https://github.com/acme/deploy"},
                     "destination": {"server": "https://kubernetes.default.svc"}},
                     "revision": "8ecfa5d493189be706f6fd30d69e2bd97d5a35e4"},
            "health": {"status": "Healthy"},
            "history": [
                {"revision": "0cd3f5f5d3a6c4d3e4f5a6b7c8d9e0f1a2b3c4d5", "deployedAt": "2024-05-01T10:00:00Z", "id": 11,
                 "source": {"repoURL": "https://github.com/acme/deploy"}, "deployStartedAt": "2024-05-01T09:59:50Z"},
                {"revision": "8ecfa5d493189be706f6fd30d69e2bd97d5a35e4", "deployedAt": "2024-05-02T11:30:00Z", "id": 12,
                 "source": {"repoURL": "https://github.com/acme/deploy"}, "deployStartedAt": "2024-05-02T11:29:41Z"}
            ],
            "reconciledAt": "2024-05-03T08:00:00Z",
            "operationState": {"operation": {"sync": {"revision": "8ecfa5d493189be706f6fd30d69e2bd97d5a35e4"}},
                               "phase": "Succeeded", "message": "successfully synced (all tasks run)",
                               "startedAt": "2024-05-02T11:29:40Z", "finishedAt": "2024-05-02T11:30:01Z"},
            "sourceType": "Kustomize",
            "summary": {"images": ["ghcr.io/acme/checkout:1.42.0"]}
        }
    })
}

fn argo_entry(base: &str) -> String {
    format!("  argocd:\n    base_url: {base}\n")
}

#[test]
fn argocd_app_name_facts_with_bearer_token() {
    let api = FakeApi::start();
    api.route(
        "/api/v1/applications/checkout-prod",
        Reply::json(argo_app("checkout-prod")),
    );
    let mut env = TestEnv::new();
    env.env("ARGOCD_TOKEN", "argo-jwt");
    let repo = catalog(
        &env,
        &argo_entry(&api.base),
        &[component(
            "checkout",
            &[("argocd/app-name", "checkout-prod")],
        )],
    );
    let a = live(&env, &repo, "checkout", "argocd");
    assert_eq!(a["status"], "ok", "{a:#}");
    assert_eq!(
        a["facts"],
        json!({"name": "checkout-prod", "sync_status": "Synced", "health_status": "Healthy",
               "revision": "8ecfa5d493189be706f6fd30d69e2bd97d5a35e4",
               "last_deployed": "2024-05-02T11:30:00Z"})
    );
    let seen = api.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].url, "/api/v1/applications/checkout-prod");
    assert_eq!(seen[0].header("authorization"), Some("Bearer argo-jwt"));
}

#[test]
fn argocd_fields_the_api_leaves_out_are_null() {
    let api = FakeApi::start();
    // Never synced by an operation, no history yet, health not assessed.
    api.route(
        "/api/v1/applications/fresh",
        Reply::json(json!({"metadata": {"name": "fresh", "namespace": "argocd"},
            "spec": {"project": "default"},
            "status": {"sync": {"status": "OutOfSync", "comparedTo": {"source": {}, "destination": {}}},
                       "conditions": [{"type": "ComparisonError",
                                       "message": "rpc error: code = Unknown desc = app path does not exist",
                                       "lastTransitionTime": "2024-06-21T21:58:53Z"}]}})),
    )
    // Deployed once by an operation whose history was pruned.
    .route(
        "/api/v1/applications/pruned",
        Reply::json(json!({"metadata": {"name": "pruned"}, "spec": {},
            "status": {"sync": {"status": "Synced", "revision": "abc123"}, "health": {"status": "Progressing"},
                       "operationState": {"phase": "Succeeded", "startedAt": "2024-06-01T07:59:00+02:00",
                                          "finishedAt": "2024-06-01T08:00:00+02:00"}}})),
    )
    // No status at all.
    .route(
        "/api/v1/applications/bare",
        Reply::json(json!({"metadata": {"name": "bare"}, "spec": {}})),
    );
    let mut env = TestEnv::new();
    env.env("ARGOCD_TOKEN", "argo-jwt");
    let repo = catalog(
        &env,
        &argo_entry(&api.base),
        &[
            component("fresh", &[("argocd/app-name", "fresh")]),
            component("pruned", &[("argocd/app-name", "pruned")]),
            component("bare", &[("argocd/app-name", "bare")]),
        ],
    );
    let a = live(&env, &repo, "fresh", "argocd");
    assert_eq!(a["status"], "ok", "{a:#}");
    assert_eq!(
        a["facts"],
        json!({"name": "fresh", "sync_status": "OutOfSync", "health_status": null,
               "revision": null, "last_deployed": null})
    );
    let a = live(&env, &repo, "pruned", "argocd");
    assert_eq!(a["facts"]["last_deployed"], "2024-06-01T06:00:00Z", "{a:#}");
    assert_eq!(a["facts"]["health_status"], "Progressing");
    let a = live(&env, &repo, "bare", "argocd");
    assert_eq!(
        a["facts"],
        json!({"name": "bare", "sync_status": null, "health_status": null, "revision": null, "last_deployed": null})
    );
}

#[test]
fn argocd_selector_lists_apps_with_worst_status() {
    let api = FakeApi::start();
    let mut degraded = argo_app("checkout-eu");
    degraded["status"]["health"]["status"] = json!("Degraded");
    degraded["status"]["sync"]["status"] = json!("OutOfSync");
    degraded["status"]["history"] =
        json!([{"id": 3, "revision": "1111", "deployedAt": "2024-04-01T00:00:00Z"}]);
    api.route(
        "/api/v1/applications?selector=team%3Dpayments",
        Reply::json(json!({"metadata": {"resourceVersion": "123"},
                           "items": [argo_app("checkout-us"), degraded]})),
    )
    .route(
        "/api/v1/applications?selector=team%3Dnobody",
        // The gateway writes an empty list as null.
        Reply::json(json!({"metadata": {"resourceVersion": "123"}, "items": null})),
    );
    let mut env = TestEnv::new();
    env.env("ARGOCD_TOKEN", "argo-jwt");
    let repo = catalog(
        &env,
        &argo_entry(&api.base),
        &[
            component("checkout", &[("argocd/app-selector", "team=payments")]),
            component("orphan", &[("argocd/app-selector", "team=nobody")]),
        ],
    );
    let a = live(&env, &repo, "checkout", "argocd");
    assert_eq!(a["status"], "ok", "{a:#}");
    let f = &a["facts"];
    assert_eq!(f["sync_status"], "OutOfSync");
    assert_eq!(f["health_status"], "Degraded");
    assert_eq!(f["last_deployed"], "2024-05-02T11:30:00Z");
    let names: Vec<&str> = f["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["checkout-us", "checkout-eu"]);
    assert_eq!(
        f["apps"][1]["revision"],
        "8ecfa5d493189be706f6fd30d69e2bd97d5a35e4"
    );

    let a = live(&env, &repo, "orphan", "argocd");
    assert_eq!(
        a["facts"],
        json!({"apps": [], "sync_status": null, "health_status": null, "last_deployed": null})
    );
}

#[test]
fn argocd_error_format_and_missing_token() {
    let api = FakeApi::start();
    api.route(
        "/api/v1/applications/secret-app",
        Reply::status(403)
            .header("content-type", "application/json")
            .body(r#"{"error":"permission denied","code":7,"message":"permission denied"}"#),
    )
    .route(
        "/api/v1/applications/missing",
        Reply::status(404).header("content-type", "application/json").body(
            r#"{"error":"applications.argoproj.io \"missing\" not found","code":5,"message":"applications.argoproj.io \"missing\" not found"}"#,
        ),
    );
    let mut env = TestEnv::new();
    let repo = catalog(
        &env,
        &argo_entry(&api.base),
        &[
            component("locked", &[("argocd/app-name", "secret-app")]),
            component("missing", &[("argocd/app-name", "missing")]),
        ],
    );
    let a = live(&env, &repo, "locked", "argocd");
    assert_eq!(a["status"], "unavailable");
    assert_eq!(a["reason"], "no token: set ARGOCD_TOKEN in the environment");
    assert!(api.seen().is_empty(), "nothing is sent without a token");

    env.env("ARGOCD_TOKEN", "argo-jwt");
    let a = live(&env, &repo, "locked", "argocd");
    assert_eq!(a["status"], "unavailable", "{a:#}");
    let reason = a["reason"].as_str().unwrap();
    assert!(
        reason.contains("HTTP 403") && reason.ends_with("permission denied"),
        "{reason}"
    );
    // Argo CD's 403 is not a rate limit: asked once.
    assert_eq!(api.seen_at("/api/v1/applications/secret-app").len(), 1);

    let a = live(&env, &repo, "missing", "argocd");
    let reason = a["reason"].as_str().unwrap();
    assert!(
        reason.contains("HTTP 404")
            && reason.contains(r#"applications.argoproj.io "missing" not found"#),
        "{reason}"
    );
}

// -------------------------------------------------------------- generic http

fn deploys_entry(base: &str, extra: &str) -> String {
    format!(
        "  deploys:\n    type: http\n    base_url: {base}\n    url: '/api/services/{{{{ metadata.annotations[\"acme.com/service-id\"] }}}}/deploys?env={{{{ spec.lifecycle }}}}'\n{extra}"
    )
}

const EXTRACT: &str = "    headers:\n      X-Api-Key: { env: DEPLOY_KEY }\n      X-Team-Key: { env: TEAM_KEY }\n      Accept: application/json\n    extract:\n      last_version: $.items[0].version\n      versions: $.items[*].version\n      finished: $.items[?@.status == 'finished'].finished_at\n      rollback: $.rollback\n";

fn deploy_api() -> FakeApi {
    let api = FakeApi::start();
    api.route(
        "/api/services/svc%2042/deploys",
        Reply::json(json!({"service": "svc 42", "items": [
            {"version": "1.42.0", "status": "finished", "finished_at": "2024-05-02T11:30:00Z"},
            {"version": "1.41.3", "status": "failed", "finished_at": null}]})),
    );
    api
}

#[test]
fn http_template_headers_and_extractions() {
    let api = deploy_api();
    let mut env = TestEnv::new();
    env.env("DEPLOY_KEY", "dk-secret")
        .env("TEAM_KEY", "tk-secret");
    let repo = catalog(
        &env,
        &deploys_entry(&api.base, EXTRACT),
        &[component("checkout", &[("acme.com/service-id", "svc 42")])],
    );
    let run = env.run(["--catalog", repo.path(), "show", "checkout", "-o", "json"]);
    run.ok();
    assert!(!run.stdout.contains("dk-secret") && !run.stderr.contains("dk-secret"));
    let d = &run.json()["live"]["deploys"];
    assert_eq!(d["status"], "ok", "{d:#}");
    assert_eq!(
        d["facts"],
        // One match → the value, several → an array, none → null.
        json!({"last_version": "1.42.0", "versions": ["1.42.0", "1.41.3"],
               "finished": "2024-05-02T11:30:00Z", "rollback": null})
    );
    let seen = api.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].url, "/api/services/svc%2042/deploys?env=production");
    assert_eq!(seen[0].header("x-api-key"), Some("dk-secret"));
    assert_eq!(seen[0].header("x-team-key"), Some("tk-secret"));
    assert_eq!(seen[0].header("accept"), Some("application/json"));
    assert_eq!(seen[0].header("authorization"), None);
}

#[test]
fn http_missing_env_header_names_the_variable() {
    let api = deploy_api();
    let env = TestEnv::new();
    let repo = catalog(
        &env,
        &deploys_entry(&api.base, EXTRACT),
        &[component("checkout", &[("acme.com/service-id", "svc 42")])],
    );
    let d = live(&env, &repo, "checkout", "deploys");
    assert_eq!(d["status"], "unavailable");
    assert_eq!(d["reason"], "no token: set DEPLOY_KEY in the environment");
    assert!(api.seen().is_empty());
}

#[test]
fn http_absent_when_the_template_or_requires_lack_a_field() {
    let api = deploy_api();
    let mut env = TestEnv::new();
    env.env("DEPLOY_KEY", "dk-secret")
        .env("TEAM_KEY", "tk-secret");
    let requires = format!("{EXTRACT}    requires: [metadata.annotations.acme.com/service-id]\n");
    let entries = format!(
        "{}{}",
        deploys_entry(&api.base, EXTRACT),
        deploys_entry(&api.base, &requires).replacen("  deploys:", "  deploys-strict:", 1)
    );
    let repo = catalog(
        &env,
        &entries,
        &[component("search", &[("acme.com/other", "1")])],
    );
    let run = env.run(["--catalog", repo.path(), "show", "search", "-o", "json"]);
    run.ok();
    let v = run.json();
    assert_eq!(v["live"]["deploys"]["status"], "absent", "{v:#}");
    assert_eq!(
        v["live"]["deploys"]["reason"],
        "the url template uses `metadata.annotations[\"acme.com/service-id\"]`, which this entity does not have"
    );
    assert_eq!(v["live"]["deploys-strict"]["status"], "absent");
    assert_eq!(
        v["live"]["deploys-strict"]["reason"],
        "no metadata.annotations.acme.com/service-id"
    );
    assert!(api.seen().is_empty());
}

#[test]
fn http_bad_jsonpath_or_template_is_a_config_error_naming_the_key() {
    let api = deploy_api();
    let env = TestEnv::new();
    let bad_path = deploys_entry(&api.base, "    extract:\n      version: $.items[\n");
    let repo = catalog(
        &env,
        &bad_path,
        &[component("checkout", &[("acme.com/service-id", "svc 42")])],
    );
    let run = env.run(["--catalog", repo.path(), "show", "checkout"]);
    run.ok()
        .stdout_has("checkout")
        .stderr_has("idp.yaml: integrations.deploys.extract.version: invalid JSONPath '$.items['");

    let env = TestEnv::new();
    let bad_template = format!(
        "  deploys:\n    type: http\n    base_url: {}\n    url: '/api/{{{{ metadata.name '\n    extract:\n      v: $.v\n",
        api.base
    );
    let repo = catalog(&env, &bad_template, &[component("checkout", &[])]);
    let run = env.run(["--catalog", repo.path(), "show", "checkout"]);
    run.ok()
        .stdout_has("checkout")
        .stderr_has("idp.yaml: integrations.deploys.url: invalid template: syntax error");
    assert!(api.seen().is_empty());
}
