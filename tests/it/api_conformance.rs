//! idp against the integrations' official API descriptions: the example
//! responses of GitHub's OpenAPI description, PagerDuty's api-schema,
//! Prometheus' API docs, SonarQube's web-service examples and Argo CD's
//! swagger, served by `shared/api-examples/fake.py` (read at test time from
//! `../shared/api-examples`, never copied into the project), plus FakeApi
//! cases for what those examples cannot show (a refused endpoint, a broken
//! series, paging). One test per conformance item of issue 13, and a check
//! that the project's own fixtures (tests/fixtures/live/) keep the shapes
//! of the official examples.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{integration, CatalogBuilder, Repo, TestEnv};
use crate::fake_api::{FakeApi, Reply, Seen};

/// `shared/api-examples`: `$IDP_API_EXAMPLES` when set, else the nearest
/// `shared/api-examples` beside the repository or one of its parents
/// (`../shared`, `../../shared` from a worktree), else the workplace's copy
/// at `/work/shared` (a clone elsewhere, e.g. under /tmp). Missing is a
/// failure, never a skip.
fn examples() -> PathBuf {
    if let Some(dir) = std::env::var_os("IDP_API_EXAMPLES") {
        return PathBuf::from(dir);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    root.ancestors()
        .skip(1)
        .map(|d| d.join("shared/api-examples"))
        .chain([PathBuf::from("/work/shared/api-examples")])
        .find(|d| d.join("fake.py").is_file())
        .unwrap_or_else(|| {
            panic!(
                "the official API examples are not in ../shared/api-examples (from {}); set IDP_API_EXAMPLES",
                root.display()
            )
        })
}

pub fn example(path: &str) -> Value {
    let file = examples().join("ex").join(path);
    serde_json::from_str(&std::fs::read_to_string(&file).expect("example")).expect("example JSON")
}

fn fixture(path: &str) -> Value {
    let file = format!("{}/tests/fixtures/live/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&file).expect("fixture")).expect("fixture JSON")
}

/// `python3 fake.py PORT LOG`, killed on drop.
struct OfficialFake {
    child: Child,
    base: String,
    log: PathBuf,
}

impl OfficialFake {
    fn start(env: &TestEnv, mode: &str) -> Self {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().unwrap().port()
        };
        let log = env.root.join("requests.jsonl");
        let child = Command::new("python3")
            .arg(examples().join("fake.py"))
            .arg(port.to_string())
            .arg(&log)
            .env("FAKE_MODE", mode)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs fake.py");
        let fake = OfficialFake {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let until = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "fake.py did not listen on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        fake
    }

    /// The logged requests to one API (`pagerduty`, …) and path.
    fn requests(&self, api: &str, path: &str) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("log line"))
            .filter(|r| r["api"] == api && r["path"] == path)
            .collect()
    }
}

impl Drop for OfficialFake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The official examples' catalog, with every integration pointed at the fake.
fn official_catalog(env: &mut TestEnv, fake: &OfficialFake) -> Repo {
    for var in [
        "GITHUB_TOKEN",
        "PAGERDUTY_TOKEN",
        "SONARQUBE_TOKEN",
        "ARGOCD_TOKEN",
    ] {
        env.env(var, "conformance-token");
    }
    let entries: String = ["github", "pagerduty", "prometheus", "sonarqube", "argocd"]
        .iter()
        .map(|n| integration(n, &format!("{}/{n}", fake.base)))
        .collect();
    let catalog = std::fs::read_to_string(examples().join("catalog/catalog-info.yaml"))
        .expect("official catalog");
    CatalogBuilder::new(env.dir("catalog"))
        .live_config(&entries, "8s")
        .file("catalog-info.yaml", catalog)
        .build()
}

fn show(env: &TestEnv, repo: &Repo, entity: &str) -> Value {
    let run = env.run(["--catalog", repo.path(), "show", entity, "-o", "json"]);
    run.ok();
    run.json()["live"].clone()
}

fn param(url: &str, name: &str) -> Vec<String> {
    let url = url::Url::parse(&format!("http://x/{}", url.trim_start_matches('/'))).expect("url");
    url.query_pairs()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .collect()
}

fn query_of(r: &Value) -> String {
    format!("/?{}", r["query"].as_str().unwrap_or(""))
}

#[test]
fn official_examples_give_the_documented_facts() {
    let mut env = TestEnv::new();
    let fake = OfficialFake::start(&env, "pd-total");
    let repo = official_catalog(&mut env, &fake);

    let live = show(&env, &repo, "hello");
    let gh = &live["github"];
    assert_eq!(gh["status"], "ok", "{gh:#}");
    let commit = &example("gh/commits.json")[0];
    assert_eq!(
        gh["facts"]["latest_commit"],
        json!({"sha": commit["sha"], "author": "Monalisa Octocat",
               "date": "2011-04-14T16:00:49Z", "message": "Fix all the bugs"})
    );
    assert_eq!(gh["facts"]["default_branch"], "master");
    // The `rel="last"` link of the official example says page 5.
    assert_eq!(gh["facts"]["open_pull_requests"], 5);
    assert_eq!(gh["facts"]["latest_workflow_run"]["name"], "Build");
    assert_eq!(gh["facts"]["latest_release"]["tag"], "v1.0.0");
    assert_eq!(
        gh["facts"]["latest_production_deployment"],
        json!({"sha": "a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d", "ref": "topic-branch",
               "environment": "production", "created_at": "2012-07-20T01:19:13Z", "state": "success"})
    );
    let runs = fake.requests("github", "/repos/octocat/Hello-World/actions/runs");
    assert_eq!(param(&query_of(&runs[0]), "branch"), ["master"]);
    assert_eq!(runs[0]["x-github-api-version"], "2022-11-28");

    let pd = &live["pagerduty"];
    assert_eq!(pd["status"], "ok", "{pd:#}");
    assert_eq!(pd["facts"]["service"]["id"], "PIJ90N7");
    assert_eq!(pd["facts"]["escalation_policy"]["id"], "PT20YPA");
    assert_eq!(
        pd["facts"]["oncall"],
        json!([{"name": "Tim Wright", "email": null, "level": 2, "until": "2015-03-07T20:28:51Z"}])
    );
    assert_eq!(pd["facts"]["open_incidents"], 1);
    let incidents = fake.requests("pagerduty", "/incidents");
    assert_eq!(incidents.len(), 1, "the total answers in one request");
    let q = query_of(&incidents[0]);
    assert_eq!(param(&q, "date_range"), ["all"]);
    assert_eq!(param(&q, "statuses[]"), ["triggered", "acknowledged"]);
    assert_eq!(param(&q, "total"), ["true"]);

    let sonar = &live["sonarqube"];
    assert_eq!(sonar["status"], "ok", "{sonar:#}");
    assert_eq!(sonar["facts"]["quality_gate"], "ERROR");
    assert_eq!(sonar["facts"]["last_analysis"], "2016-12-12T16:12:45Z");
    // The official measures example has none of the metrics idp reads: null.
    assert_eq!(sonar["facts"]["coverage"], Value::Null);

    let argo = &live["argocd"];
    assert_eq!(argo["status"], "ok", "{argo:#}");
    assert_eq!(
        argo["facts"],
        json!({"name": "guestbook", "sync_status": "Synced", "health_status": "Healthy",
               "revision": "53e28ff20cc530b9ada2173fbbd64d48338583ba",
               "last_deployed": "2024-05-02T11:30:00Z"})
    );

    let prom = &live["prometheus"];
    assert_eq!(prom["status"], "ok", "{prom:#}");
    let rules = &prom["facts"]["rules"];
    assert_eq!(rules[0]["result"].as_array().unwrap().len(), 2);
    assert_eq!(rules[1]["result"], 42.0);
    assert_eq!(
        rules[2]["result"][0]["values"],
        json!([[1767436320, 1.0], [1767436620, 1.0]])
    );
    assert_eq!(prom["facts"]["firing_count"], 1);
    assert_eq!(prom["facts"]["alerts"][0]["name"], "Watchdog");

    // The selector's list: the worst of the two apps.
    let argo = &show(&env, &repo, "histo")["argocd"];
    assert_eq!(argo["facts"]["sync_status"], "OutOfSync", "{argo:#}");
    assert_eq!(argo["facts"]["health_status"], "Progressing");
    assert_eq!(argo["facts"]["apps"][1]["revision"], "abc123");

    // Team members over the example's `Link` pages.
    let group = &show(&env, &repo, "group:justice")["github"];
    assert_eq!(
        group["facts"]["team_members"],
        json!(["octocat", "hubot"]),
        "{group:#}"
    );
}

#[test]
fn pagerduty_counts_incidents_without_total_and_says_at_least() {
    // The official incidents example: `limit: 1, more: true`, no `total`.
    let mut env = TestEnv::new();
    let fake = OfficialFake::start(&env, "official");
    let repo = official_catalog(&mut env, &fake);
    let pd = &show(&env, &repo, "hello")["pagerduty"];
    // The other facts stand; the count fails alone, honestly.
    assert_eq!(pd["status"], "ok", "{pd:#}");
    assert_eq!(pd["facts"]["oncall"][0]["name"], "Tim Wright");
    assert_eq!(pd["facts"]["open_incidents"], Value::Null);
    let why = pd["unavailable_facts"]["open_incidents"].as_str().unwrap();
    assert!(why.contains("at least 20 open incidents"), "{why}");
    assert!(why.contains("no total"), "{why}");
    let incidents = fake.requests("pagerduty", "/incidents");
    assert_eq!(incidents.len(), 21, "one probe, then 20 pages at most");
    for r in &incidents {
        assert_eq!(param(&query_of(r), "date_range"), ["all"], "{r}");
    }
    let offsets: Vec<String> = incidents
        .iter()
        .flat_map(|r| param(&query_of(r), "offset"))
        .collect();
    assert_eq!(&offsets[..3], ["0", "0", "1"]);

    // A server without `total` whose pages end: counted exactly.
    let api = FakeApi::start();
    let page = |n: usize, more: bool| {
        let incident = fixture("pagerduty/incidents.json")["incidents"][0].clone();
        Reply::json(
            json!({"incidents": vec![incident; n], "limit": 100, "offset": 0,
                           "more": more, "total": null}),
        )
    };
    let (first, second, third) = (page(1, true), page(100, true), page(7, false));
    api.route(
        "/services/PIJ90N7",
        Reply::json(fixture("pagerduty/service.json")),
    )
    .route(
        "/oncalls",
        Reply::json(fixture("pagerduty/oncalls_page2.json")),
    )
    .route_fn("/incidents", move |seen, _| {
        match (
            param(&seen.url, "limit")[0].as_str(),
            param(&seen.url, "offset")[0].as_str(),
        ) {
            ("1", "0") => first.clone(),
            ("100", "0") => second.clone(),
            ("100", "100") => third.clone(),
            other => Reply::status(400).body(format!("unexpected page {other:?}")),
        }
    });
    let mut env = TestEnv::new();
    env.env("PAGERDUTY_TOKEN", "t");
    let repo = CatalogBuilder::new(env.dir("catalog"))
        .live_config(&integration("pagerduty", &api.base), "8s")
        .file(
            "c.yaml",
            component("hello", "pagerduty.com/service-id: PIJ90N7"),
        )
        .build();
    let pd = &show(&env, &repo, "hello")["pagerduty"];
    assert_eq!(pd["facts"]["open_incidents"], 107, "{pd:#}");
    assert!(pd.get("unavailable_facts").is_none(), "{pd:#}");
}

fn component(name: &str, annotation: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  annotations:\n    {annotation}\nspec: {{ type: service, lifecycle: production, owner: justice }}\n"
    )
}

#[test]
fn pagerduty_integration_keys_match_a_service_integration_or_nothing() {
    // The official `/services` example: one service whose integration is a
    // reference without a key. The key of `histo` matches nothing.
    let mut env = TestEnv::new();
    let fake = OfficialFake::start(&env, "pd-total");
    let repo = official_catalog(&mut env, &fake);
    let pd = &show(&env, &repo, "histo")["pagerduty"];
    assert_eq!(pd["status"], "unavailable", "{pd:#}");
    let why = pd["reason"].as_str().unwrap();
    assert!(
        why.starts_with("no service has integration key 012345… (pagerduty.com/integration-key; 1 PagerDuty service searched)"),
        "{why}"
    );
    assert!(!why.contains("0123456789abcdef"), "{why}");
    let lookups = fake.requests("pagerduty", "/services");
    assert_eq!(lookups.len(), 1);
    let q = query_of(&lookups[0]);
    assert!(param(&q, "query").is_empty(), "no name filter: {q}");
    assert_eq!(
        param(&q, "include[]"),
        ["integrations", "escalation_policies"]
    );
    assert!(
        fake.requests("pagerduty", "/oncalls").is_empty(),
        "no other service's on-call is asked for"
    );

    // Paging through services: the key is on page 2.
    let api = FakeApi::start();
    let services = fixture("pagerduty/services_query.json")["services"].clone();
    let (staging, ledger) = (services[0].clone(), services[1].clone());
    api.route_fn("/services", move |seen, _| {
        match param(&seen.url, "offset")[0].as_str() {
            "0" => Reply::json(json!({"services": [staging.clone()], "limit": 100, "offset": 0, "more": true, "total": null})),
            _ => Reply::json(json!({"services": [ledger.clone()], "limit": 100, "offset": 1, "more": false, "total": null})),
        }
    })
    .route("/oncalls", Reply::json(fixture("pagerduty/oncalls_page2.json")))
    .route("/incidents", Reply::json(fixture("pagerduty/incidents.json")));
    let mut env = TestEnv::new();
    env.env("PAGERDUTY_TOKEN", "t");
    let repo = CatalogBuilder::new(env.dir("catalog"))
        .live_config(&integration("pagerduty", &api.base), "8s")
        .file(
            "c.yaml",
            component(
                "legacy",
                "pagerduty.com/integration-key: f00dfacef00dfacef00dfacef00dface",
            ),
        )
        .build();
    let pd = &show(&env, &repo, "legacy")["pagerduty"];
    assert_eq!(pd["facts"]["service"]["id"], "PIJ90N7", "{pd:#}");
    let offsets: Vec<String> = api
        .seen_at("/services?")
        .iter()
        .flat_map(|s: &Seen| param(&s.url, "offset"))
        .collect();
    assert_eq!(offsets, ["0", "1"]);
}

#[test]
fn prometheus_native_histograms_and_a_broken_series_break_nothing_else() {
    let mut env = TestEnv::new();
    let fake = OfficialFake::start(&env, "pd-total");
    let repo = official_catalog(&mut env, &fake);
    let prom = &show(&env, &repo, "histo")["prometheus"];
    assert_eq!(prom["status"], "ok", "{prom:#}");
    assert_eq!(
        prom["facts"]["rules"][0]["result"],
        json!([{"metric": {"__name__": "http_request_duration_seconds",
                           "instance": "demo.prometheus.io:9090", "job": "prometheus"},
                "histogram": {"count": 12.5, "sum": 42.1}}])
    );
    assert_eq!(prom["facts"]["firing_count"], 1);
    let prom = &show(&env, &repo, "histo-range")["prometheus"];
    assert_eq!(
        prom["facts"]["rules"][0]["result"][0]["histograms"],
        json!([[1767433020, {"count": 12.5, "sum": 42.1}]]),
        "{prom:#}"
    );

    // One unreadable series among good ones, and a failing query: the rest
    // are facts, the alerts too.
    let api = FakeApi::start();
    let good = example("prom/query_vectorResult.json");
    let mut mixed = good.clone();
    mixed["data"]["result"]
        .as_array_mut()
        .unwrap()
        .push(json!({"metric": {"__name__": "up", "job": "broken"}, "value": "garbage"}));
    api.route("/api/v1/query?query=up", Reply::json(mixed))
        .route(
            "/api/v1/query?query=nope",
            Reply::status(400)
                .header("content-type", "application/json")
                .body(r#"{"status":"error","errorType":"bad_data","error":"unknown metric"}"#),
        )
        .route(
            "/api/v1/alerts",
            Reply::json(example("prom/alerts_activeAlerts.json")),
        );
    let env = TestEnv::new();
    let repo = CatalogBuilder::new(env.dir("catalog"))
        .live_config(&integration("prometheus", &api.base), "8s")
        .file(
            "c.yaml",
            component(
                "p",
                "prometheus.io/rule: \"up,nope\"\n    prometheus.io/alert: all",
            ),
        )
        .build();
    let prom = &show(&env, &repo, "p")["prometheus"];
    assert_eq!(prom["status"], "ok", "{prom:#}");
    let rules = &prom["facts"]["rules"];
    assert_eq!(rules[0]["result"].as_array().unwrap().len(), 2, "{prom:#}");
    let skipped = rules[0]["error"].as_str().unwrap();
    assert!(
        skipped.contains("1 series left out") && skipped.contains("up{job=\"broken\"}"),
        "{skipped}"
    );
    assert_eq!(rules[1]["result"], Value::Null);
    assert!(
        rules[1]["error"]
            .as_str()
            .unwrap()
            .contains("bad_data: unknown metric"),
        "{prom:#}"
    );
    assert_eq!(prom["facts"]["alerts"][0]["name"], "Watchdog");
}

#[test]
fn a_refused_sub_request_fails_its_own_fact_only() {
    let api = FakeApi::start();
    let gh = |p: &str| fixture(&format!("github/{p}"));
    api.route("/repos/octocat/Hello-World", Reply::json(gh("repo.json")))
        .route("/repos/octocat/Hello-World/commits", Reply::json(gh("commits.json")))
        .route("/repos/octocat/Hello-World/pulls", Reply::json(gh("pulls.json")))
        .route(
            "/repos/octocat/Hello-World/actions/runs",
            Reply::status(403).header("content-type", "application/json").body(
                r#"{"message":"Resource not accessible by personal access token","documentation_url":"https://docs.github.com/rest/actions/workflow-runs","status":"403"}"#,
            ),
        )
        .route("/repos/octocat/Hello-World/releases/latest", Reply::json(example("gh/release.json")))
        .route("/repos/octocat/Hello-World/deployments", Reply::json(json!([])))
        .route("/api/measures/component", Reply::json(example("sonar/measures.json")))
        .route(
            "/api/qualitygates/project_status",
            Reply::status(403).header("content-type", "application/json")
                .body(r#"{"errors":[{"msg":"Insufficient privileges"}]}"#),
        )
        .route("/api/project_analyses/search", Reply::json(example("sonar/analyses.json")));
    let mut env = TestEnv::new();
    env.env("GITHUB_TOKEN", "t").env("SONARQUBE_TOKEN", "t");
    let entries = integration("github", &api.base) + &integration("sonarqube", &api.base);
    let repo = CatalogBuilder::new(env.dir("catalog"))
        .live_config(&entries, "8s")
        .file(
            "c.yaml",
            component(
                "hello",
                "github.com/project-slug: octocat/Hello-World\n    sonarqube.org/project-key: MY_PROJECT",
            ),
        )
        .file("scorecards/delivery.yaml", CARD)
        .build();
    let live = show(&env, &repo, "hello");
    let gh = &live["github"];
    assert_eq!(gh["status"], "ok", "{gh:#}");
    assert_eq!(gh["facts"]["latest_release"]["tag"], "v1.0.0");
    assert!(!gh["facts"]["latest_commit"].is_null());
    assert_eq!(gh["facts"]["latest_workflow_run"], Value::Null);
    let failed = gh["unavailable_facts"].as_object().unwrap();
    assert_eq!(failed.len(), 1, "{gh:#}");
    let why = failed["latest_workflow_run"].as_str().unwrap();
    assert!(
        why.contains("HTTP 403")
            && why.contains("/actions/runs")
            && why.contains("Resource not accessible"),
        "{why}"
    );
    let sonar = &live["sonarqube"];
    assert_eq!(sonar["status"], "ok", "{sonar:#}");
    assert_eq!(sonar["facts"]["last_analysis"], "2016-12-12T16:12:45Z");
    assert!(sonar["unavailable_facts"]["quality_gate"]
        .as_str()
        .unwrap()
        .contains("Insufficient privileges"));

    // The human view says which fact is missing and why, next to the others.
    let run = env.run(["--catalog", repo.path(), "show", "hello"]);
    run.ok()
        .stdout_has("latest_release")
        .stdout_has("latest_workflow_run  unavailable: HTTP 403")
        .stdout_has("quality_gate   unavailable: HTTP 403");

    // A scorecard rule on the missing fact is unknown, with the reason; a
    // rule on a fetched fact is decided.
    let run = env.run(["--catalog", repo.path(), "score", "hello", "-o", "json"]);
    let doc = run.json();
    let ci = find(&doc, "ci-green").expect("ci-green rule");
    assert_eq!(ci["state"], "unknown", "{ci}");
    assert!(
        ci.to_string()
            .contains("live.github.latest_workflow_run is unavailable: HTTP 403"),
        "{ci}"
    );
    let released = find(&doc, "released").expect("released rule");
    assert_eq!(released["state"], "pass", "{released}");
}

/// The first object with this `id` anywhere in `doc`.
fn find<'v>(doc: &'v Value, id: &str) -> Option<&'v Value> {
    match doc {
        Value::Object(m) if m.get("id").and_then(Value::as_str) == Some(id) => Some(doc),
        Value::Object(m) => m.values().find_map(|v| find(v, id)),
        Value::Array(a) => a.iter().find_map(|v| find(v, id)),
        _ => None,
    }
}

const CARD: &str = "\
apiVersion: idp.dev/v1alpha1
kind: Scorecard
metadata:
  name: delivery
spec:
  appliesTo: { kinds: [Component] }
  levels: [{ id: ok, title: OK }]
  rules:
    - id: ci-green
      level: ok
      title: CI is green
      check: live.github.latest_workflow_run.conclusion == \"success\"
    - id: released
      level: ok
      title: Released
      check: live.github.latest_release.tag == \"v1.0.0\"
";

#[test]
fn argocd_403_for_a_missing_app_says_not_found_or_not_permitted() {
    let mut env = TestEnv::new();
    let fake = OfficialFake::start(&env, "pd-total");
    let repo = official_catalog(&mut env, &fake);
    let argo = &show(&env, &repo, "argo-missing")["argocd"];
    assert_eq!(argo["status"], "unavailable", "{argo:#}");
    let why = argo["reason"].as_str().unwrap();
    assert!(why.contains("HTTP 403"), "{why}");
    assert!(
        why.contains("application 'missing-app' (argocd/app-name) not found or not permitted"),
        "{why}"
    );
    assert_eq!(
        fake.requests("argocd", "/api/v1/applications/missing-app")
            .len(),
        1
    );
}

#[test]
fn who_owns_labels_the_owners_on_call_when_the_entity_has_none() {
    let mut env = TestEnv::new();
    let fake = OfficialFake::start(&env, "pd-total");
    let repo = official_catalog(&mut env, &fake);
    let run = env.run(["--catalog", repo.path(), "who-owns", "histo", "-o", "json"]);
    run.ok();
    let doc = run.json();
    assert_eq!(doc["oncall"][0]["name"], "Tim Wright", "{doc:#}");
    let source = &doc["oncall_source"];
    assert_eq!(source["entity"], "group:default/justice", "{doc:#}");
    assert_eq!(source["via"], "owner");
    assert_eq!(source["integration"], "pagerduty");
    assert!(
        source["own"]
            .as_str()
            .unwrap()
            .starts_with("histo's own lookup failed: no service has integration key 012345…"),
        "{source}"
    );

    let run = env.run(["--catalog", repo.path(), "who-owns", "histo"]);
    run.ok()
        .stdout_has("On call     (from the owner group:default/justice's pagerduty; histo's own lookup failed: no service has integration key 012345…")
        .stdout_has("            Tim Wright  level 2");

    // The entity's own on-call needs no label.
    let run = env.run(["--catalog", repo.path(), "who-owns", "hello", "-o", "json"]);
    run.ok();
    let doc = run.json();
    assert_eq!(doc["oncall_source"]["via"], "entity", "{doc:#}");
    assert_eq!(doc["oncall_source"]["own"], Value::Null);
    let run = env.run(["--catalog", repo.path(), "who-owns", "hello"]);
    run.ok().stdout_has("On call     Tim Wright");
}

/// Every field path of a JSON document (`.a.b[*].c`) with its type.
pub fn shape(v: &Value, path: String, out: &mut std::collections::BTreeMap<String, &'static str>) {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(items) => {
            for item in items {
                shape(item, format!("{path}[*]"), out);
            }
            "array"
        }
        Value::Object(map) => {
            for (k, item) in map {
                shape(item, format!("{path}.{k}"), out);
            }
            "object"
        }
    };
    // A null may stand for any type (the API leaves a value out).
    let slot = out.entry(path).or_insert(kind);
    if *slot == "null" {
        *slot = kind;
    }
}

#[test]
fn project_fixtures_keep_the_official_shapes() {
    // fixture → (official example, field prefixes it may add, see the README)
    let oncall_users: &[&str] = &[".oncalls[*].user."];
    let pairs: [(&str, &str, &[&str]); 13] = [
        ("github/repo.json", "gh/repo.json", &[]),
        ("github/commits.json", "gh/commits.json", &[]),
        ("github/pulls.json", "gh/pulls.json", &[]),
        ("github/workflow_runs.json", "gh/runs.json", &[]),
        ("github/release.json", "gh/release.json", &[]),
        ("github/deployments.json", "gh/deployments.json", &[]),
        (
            "github/deployment_statuses.json",
            "gh/deployment_statuses.json",
            &[],
        ),
        (
            "pagerduty/service.json",
            "pd/service.json",
            &[
                ".service.escalation_policy.",
                ".service.alert_grouping_parameters",
            ],
        ),
        (
            "pagerduty/services_query.json",
            "pd/services.json",
            &[
                ".services[*].integrations[*].",
                ".services[*].escalation_policy.",
            ],
        ),
        (
            "pagerduty/escalation_policy.json",
            "pd/escalation_policy.json",
            &[],
        ),
        (
            "pagerduty/oncalls_page1.json",
            "pd/oncalls.json",
            oncall_users,
        ),
        (
            "pagerduty/oncalls_page2.json",
            "pd/oncalls.json",
            oncall_users,
        ),
        ("pagerduty/incidents.json", "pd/incidents.json", &[".total"]),
    ];
    let mut problems = Vec::new();
    for (ours, official, extras) in pairs {
        let (mut a, mut b) = (Default::default(), Default::default());
        shape(&fixture(ours), String::new(), &mut a);
        shape(&example(official), String::new(), &mut b);
        for (path, kind) in &a {
            match b.get(path) {
                Some(theirs) if theirs == kind || *kind == "null" || *theirs == "null" => {}
                Some(theirs) => problems.push(format!(
                    "{ours}: {path} is a {kind}, {official} has a {theirs}"
                )),
                None if extras.iter().any(|e| path.starts_with(e)) => {}
                None => problems.push(format!("{ours}: {path} is not in {official}")),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The check can fail: a renamed field is caught.
    let mut a = Default::default();
    let mut renamed = fixture("github/repo.json");
    renamed["defaultBranch"] = renamed["default_branch"].take();
    shape(&renamed, String::new(), &mut a);
    let mut b = Default::default();
    shape(&example("gh/repo.json"), String::new(), &mut b);
    assert!(!b.contains_key(".defaultBranch") && a.contains_key(".defaultBranch"));
}
