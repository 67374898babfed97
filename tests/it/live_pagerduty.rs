//! Live data from PagerDuty, against a fake API on 127.0.0.1 that answers
//! with payloads shaped like PagerDuty's REST API v2 reference
//! (tests/fixtures/live/pagerduty/): the service, who is on call (paginated
//! with offset/limit/more, permanent on-calls with a null `end`), open
//! incidents, integration-key resolution, escalation policies of Groups,
//! the headers sent, 429 with `ratelimit-reset`, 401 and a missing token.

use serde_json::{json, Value};

use crate::common::{integration, CatalogBuilder, Repo, TestEnv};
use crate::fake_api::{FakeApi, Reply, Seen};

const TOKEN: &str = "y_NbAkKc66ryYTWUXYEu";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/live/pagerduty/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("fixture JSON")
}

const ENTITIES: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: payments
  annotations:
    pagerduty.com/escalation-policy-id: PT20YPA
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
  annotations:
    pagerduty.com/service-id: PIJ90N7
spec:
  type: service
  lifecycle: production
  owner: payments
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger-legacy
  annotations:
    pagerduty.com/integration-key: f00dfacef00dfacef00dfacef00dface
spec:
  type: service
  lifecycle: production
  owner: payments
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: storefront
spec:
  type: website
  lifecycle: production
  owner: payments
";

/// The catalog with PagerDuty pointed at `base_url`.
fn catalog(env: &TestEnv, base_url: &str) -> Repo {
    CatalogBuilder::new(env.dir("catalog"))
        .live_config(&integration("pagerduty", base_url), "8s")
        .file("catalog-info.yaml", ENTITIES)
        .build()
}

/// The query parameter `name` of a recorded request.
fn param(seen: &Seen, name: &str) -> Option<String> {
    let url = url::Url::parse(&format!("http://x{}", seen.url)).ok()?;
    let value = url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned());
    value
}

/// A fake PagerDuty for the ledger service: two pages of on-calls chosen by
/// `offset`, and three open incidents.
fn pagerduty() -> FakeApi {
    let api = FakeApi::start();
    api.route("/services/PIJ90N7", Reply::json(fixture("service.json")))
        .route_fn("/oncalls", |seen, _| {
            match param(seen, "offset").as_deref() {
                None | Some("0") => Reply::json(fixture("oncalls_page1.json")),
                Some("2") => Reply::json(fixture("oncalls_page2.json")),
                Some(other) => Reply::status(400).body(format!(
                    r#"{{"error":{{"message":"Invalid Input Provided","code":2001,"errors":["unexpected offset {other}"]}}}}"#
                )),
            }
        })
        .route("/incidents", Reply::json(fixture("incidents.json")))
        .route(
            "/escalation_policies/PT20YPA",
            Reply::json(fixture("escalation_policy.json")),
        )
        .route("/services", Reply::json(fixture("services_query.json")));
    api
}

fn show_json(env: &TestEnv, repo: &Repo, entity: &str) -> Value {
    let run = env.run(["--catalog", repo.path(), "show", entity, "-o", "json"]);
    run.ok();
    run.json()
}

fn env_with_token() -> TestEnv {
    let mut env = TestEnv::new();
    env.env("PAGERDUTY_TOKEN", TOKEN);
    env
}

/// Everyone on call for the payments policy, sorted by level.
fn expected_oncall() -> Value {
    json!([
        {"name": "Alice Liddell", "email": "alice@acme.test", "level": 1, "until": "2026-11-21T14:00:00Z"},
        {"name": "Bob Marley", "email": "bob@acme.test", "level": 2, "until": "2026-11-23T09:00:00Z"},
        {"name": "Carol Danvers", "email": "carol@acme.test", "level": 3, "until": null}
    ])
}

#[test]
fn service_oncall_over_pages_and_open_incidents() {
    let api = pagerduty();
    let env = env_with_token();
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "ledger")["live"]["pagerduty"];
    assert_eq!(live["status"], "ok", "{live:#}");
    assert_eq!(
        live["facts"],
        json!({
            "service": {
                "id": "PIJ90N7",
                "name": "Ledger",
                "html_url": "https://acme.pagerduty.com/service-directory/PIJ90N7",
                "status": "critical"
            },
            "escalation_policy": {
                "id": "PT20YPA",
                "name": "Payments Escalation Policy",
                "html_url": "https://acme.pagerduty.com/escalation_policies/PT20YPA"
            },
            "oncall": expected_oncall(),
            "open_incidents": 3
        })
    );
    let pages = api.seen_at("/oncalls");
    assert_eq!(pages.len(), 2, "{pages:#?}");
    assert_eq!(param(&pages[0], "offset").as_deref(), Some("0"));
    assert_eq!(param(&pages[1], "offset").as_deref(), Some("2"));
    assert_eq!(
        param(&pages[0], "escalation_policy_ids[]").as_deref(),
        Some("PT20YPA")
    );
    assert_eq!(param(&pages[0], "include[]").as_deref(), Some("users"));
}

#[test]
fn requests_carry_the_token_and_ask_for_open_incidents_only() {
    let api = pagerduty();
    let env = env_with_token();
    let repo = catalog(&env, &api.base);
    show_json(&env, &repo, "ledger");
    let seen = api.seen();
    assert_eq!(seen.len(), 4, "{seen:#?}");
    for s in &seen {
        assert_eq!(
            s.header("authorization").map(str::to_string),
            Some(format!("Token token={TOKEN}")),
            "{}",
            s.url
        );
        assert_eq!(
            s.header("accept"),
            Some("application/vnd.pagerduty+json;version=2"),
            "{}",
            s.url
        );
    }
    let service = &api.seen_at("/services/PIJ90N7")[0];
    assert_eq!(
        param(service, "include[]").as_deref(),
        Some("escalation_policies")
    );
    let incidents = &api.seen_at("/incidents")[0];
    let url = url::Url::parse(&format!("http://x{}", incidents.url)).unwrap();
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    for expected in [
        ("service_ids[]", "PIJ90N7"),
        ("statuses[]", "triggered"),
        ("statuses[]", "acknowledged"),
        ("total", "true"),
        ("limit", "1"),
        ("date_range", "all"),
    ] {
        assert!(
            pairs.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} not in {pairs:?}"
        );
    }
}

#[test]
fn integration_key_resolves_to_the_service_that_has_it() {
    let api = pagerduty();
    let env = env_with_token();
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "ledger-legacy")["live"]["pagerduty"];
    assert_eq!(live["status"], "ok", "{live:#}");
    // The query matched two services; the second really has the key.
    assert_eq!(live["facts"]["service"]["id"], "PIJ90N7");
    assert_eq!(live["facts"]["escalation_policy"]["id"], "PT20YPA");
    assert_eq!(live["facts"]["oncall"], expected_oncall());
    // Services are listed with their integrations (no `query`: it filters
    // by name), and the one whose integration has the key is taken.
    let lookup = &api.seen_at("/services?")[0];
    assert_eq!(param(lookup, "query"), None);
    assert!(
        lookup.url.contains("include%5B%5D=integrations"),
        "{}",
        lookup.url
    );
    assert!(
        api.seen_at("/services/").is_empty(),
        "no second service lookup"
    );
}

#[test]
fn an_unknown_integration_key_is_unavailable_without_echoing_the_key() {
    let api = pagerduty();
    api.route(
        "/services",
        Reply::json(
            json!({"services": [], "limit": 25, "offset": 0, "total": null, "more": false}),
        ),
    );
    let env = env_with_token();
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "ledger-legacy")["live"]["pagerduty"];
    assert_eq!(live["status"], "unavailable");
    let reason = live["reason"].as_str().unwrap();
    assert!(reason.contains("pagerduty.com/integration-key"), "{reason}");
    assert!(
        reason.contains("no service has integration key f00dfa…"),
        "{reason}"
    );
    assert!(!reason.contains("f00dface"), "{reason}");
}

#[test]
fn a_group_escalation_policy_gives_oncall_without_service_or_incidents() {
    let api = pagerduty();
    let env = env_with_token();
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "group:payments")["live"]["pagerduty"];
    assert_eq!(live["status"], "ok", "{live:#}");
    assert_eq!(live["facts"]["service"], Value::Null);
    assert_eq!(live["facts"]["open_incidents"], Value::Null);
    assert_eq!(
        live["facts"]["escalation_policy"]["name"],
        "Payments Escalation Policy"
    );
    assert_eq!(live["facts"]["oncall"], expected_oncall());
    assert!(api.seen_at("/incidents").is_empty());
}

#[test]
fn nobody_on_call_is_an_empty_list() {
    let api = pagerduty();
    api.route(
        "/oncalls",
        Reply::json(
            json!({"oncalls": [], "limit": 100, "offset": 0, "more": false, "total": null}),
        ),
    );
    api.route(
        "/incidents",
        Reply::json(json!({"incidents": [], "limit": 1, "offset": 0, "total": 0, "more": false})),
    );
    let env = env_with_token();
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "ledger")["live"]["pagerduty"];
    assert_eq!(live["status"], "ok", "{live:#}");
    assert_eq!(live["facts"]["oncall"], json!([]));
    assert_eq!(live["facts"]["open_incidents"], 0);
}

#[test]
fn rate_limited_429_is_retried_after_ratelimit_reset() {
    let api = pagerduty();
    api.route_fn("/incidents", |_, hit| {
        if hit == 1 {
            Reply::status(429)
                .body(r#"{"error":{"message":"Rate Limit Exceeded","code":2020}}"#)
                .header("content-type", "application/json")
                .header("ratelimit-limit", "960")
                .header("ratelimit-remaining", "0")
                .header("ratelimit-reset", "1")
        } else {
            Reply::json(fixture("incidents.json"))
        }
    });
    let env = env_with_token();
    let repo = catalog(&env, &api.base);
    let started = std::time::Instant::now();
    let live = &show_json(&env, &repo, "ledger")["live"]["pagerduty"];
    assert_eq!(live["status"], "ok", "{live:#}");
    assert_eq!(live["facts"]["open_incidents"], 3);
    assert_eq!(api.seen_at("/incidents").len(), 2);
    // It did wait for the reset (1 s), not just retry at once.
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
}

#[test]
fn refused_token_names_the_variable() {
    let api = FakeApi::start();
    api.route(
        "/services/PIJ90N7",
        Reply::status(401)
            .body(r#"{"error":{"message":"Authentication failed","code":2006}}"#)
            .header("content-type", "application/json"),
    );
    let env = env_with_token();
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "ledger")["live"]["pagerduty"];
    assert_eq!(live["status"], "unavailable");
    let reason = live["reason"].as_str().unwrap();
    assert!(reason.contains("Authentication failed"), "{reason}");
    assert!(reason.contains("PAGERDUTY_TOKEN"), "{reason}");
    assert!(!reason.contains(TOKEN), "{reason}");
    assert_eq!(api.seen().len(), 1);
}

#[test]
fn missing_token_names_the_variable_and_sends_nothing() {
    let api = pagerduty();
    let env = TestEnv::new();
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "ledger")["live"]["pagerduty"];
    assert_eq!(live["status"], "unavailable");
    assert_eq!(
        live["reason"],
        "no token: set PAGERDUTY_TOKEN in the environment"
    );
    assert!(api.seen().is_empty());
}

#[test]
fn unknown_service_and_api_errors_are_reported() {
    let api = FakeApi::start();
    api.route(
        "/services/PIJ90N7",
        Reply::status(404)
            .body(r#"{"error":{"message":"Not Found","code":2100}}"#)
            .header("content-type", "application/json"),
    );
    let env = env_with_token();
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "ledger")["live"]["pagerduty"];
    assert_eq!(live["status"], "unavailable");
    let reason = live["reason"].as_str().unwrap();
    assert!(
        reason.contains("PagerDuty service PIJ90N7 not found"),
        "{reason}"
    );

    // PagerDuty's error shape: message and details.
    let api = pagerduty();
    api.route(
        "/oncalls",
        Reply::status(400)
            .body(r#"{"error":{"message":"Invalid Input Provided","code":2001,"errors":["Escalation policy ids must be valid"]}}"#)
            .header("content-type", "application/json"),
    );
    let env = env_with_token();
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "ledger")["live"]["pagerduty"];
    // The on-call fails alone: the service and its incidents are facts.
    assert_eq!(live["status"], "ok", "{live:#}");
    assert_eq!(live["facts"]["service"]["id"], "PIJ90N7");
    assert_eq!(live["facts"]["oncall"], Value::Null);
    let reason = live["unavailable_facts"]["oncall"].as_str().unwrap();
    assert!(
        reason.contains("HTTP 400")
            && reason.contains("Invalid Input Provided (Escalation policy ids must be valid)"),
        "{reason}"
    );
}

#[test]
fn entities_without_an_annotation_are_absent() {
    let api = pagerduty();
    let env = env_with_token();
    let repo = catalog(&env, &api.base);
    let live = &show_json(&env, &repo, "storefront")["live"]["pagerduty"];
    assert_eq!(live["status"], "absent");
    assert!(live["reason"]
        .as_str()
        .unwrap()
        .contains("pagerduty.com/service-id"));
    assert!(api.seen().is_empty());
}

#[test]
fn show_lists_who_is_on_call() {
    let api = pagerduty();
    let env = env_with_token();
    let repo = catalog(&env, &api.base);
    let run = env.run(["--catalog", repo.path(), "show", "ledger"]);
    run.ok();
    let live = &run.stdout[run.stdout.find("\nLive\n").expect("a Live section")..];
    let age = regex::Regex::new(r"fetched \d+ s ago").unwrap();
    insta::assert_snapshot!(
        "show_live_pagerduty",
        age.replace_all(live, "fetched [AGE]")
    );
}

#[test]
fn who_owns_gives_the_oncall_of_the_entity_or_of_its_owner() {
    let api = pagerduty();
    let env = env_with_token();
    let repo = catalog(&env, &api.base);
    let run = env.run(["--catalog", repo.path(), "who-owns", "ledger", "-o", "json"]);
    let report = run.ok().json();
    assert_eq!(report["oncall"], expected_oncall(), "{report:#}");
    // storefront has no PagerDuty link: its owner's escalation policy answers.
    let run = env.run([
        "--catalog",
        repo.path(),
        "who-owns",
        "storefront",
        "-o",
        "json",
    ]);
    let report = run.ok().json();
    assert_eq!(report["oncall"], expected_oncall(), "{report:#}");
    // Human output names who to call.
    env.run(["--catalog", repo.path(), "who-owns", "ledger"])
        .ok()
        .stdout_has("Alice Liddell");
}
