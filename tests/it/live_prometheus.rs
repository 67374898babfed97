//! Live data from a real Prometheus (Debian's server on a loopback port, see
//! `prometheus_server.rs`): instant queries of the `prometheus.io/rule`
//! annotation, firing alerts of `prometheus.io/alert`, and the API's own
//! error text for a bad query. The Bearer header is checked against the
//! fake API, which records what it receives.

use serde_json::{json, Value};

use crate::common::{component_with, integration, team, CatalogBuilder, Repo, TestEnv};
use crate::fake_api::{FakeApi, Reply};
use crate::prometheus_server;

/// A Component of team-a with these annotations (YAML-quoted).
fn component(name: &str, annotations: &[(&str, &str)]) -> String {
    component_with(name, "team-a", annotations)
}

fn catalog(env: &TestEnv, base_url: &str, components: &[String]) -> Repo {
    CatalogBuilder::new(env.dir("catalog"))
        .live_config(&integration("prometheus", base_url), "10s")
        .file("org.yaml", team("team-a"))
        .file("components.yaml", components.concat())
        .build()
}

fn live(env: &TestEnv, repo: &Repo, entity: &str) -> Value {
    let run = env.run(["--catalog", repo.path(), "show", entity, "-o", "json"]);
    run.ok();
    run.json()["live"]["prometheus"].clone()
}

#[test]
fn rule_results_and_firing_alerts_from_a_real_server() {
    let prom = prometheus_server::shared();
    let env = TestEnv::new();
    let repo = catalog(
        &env,
        &prom.base,
        &[component(
            "checkout",
            &[
                (
                    "prometheus.io/rule",
                    "job:http_errors:ratio, job:requests:rate5m|instance, scalar(job:http_errors:ratio)",
                ),
                ("prometheus.io/alert", "CheckoutDown, SlowBurn, NeverFires"),
            ],
        )],
    );
    let p = live(&env, &repo, "checkout");
    assert_eq!(p["status"], "ok", "{p:#}");
    assert!(p["fetched_at"].as_str().unwrap().ends_with('Z'), "{p}");
    let facts = &p["facts"];

    let rules = facts["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 3);
    assert_eq!(
        rules[0],
        json!({"query": "job:http_errors:ratio", "label": null, "result_type": "vector",
               "result": [{"metric": {"__name__": "job:http_errors:ratio"}, "value": 0.02}],
               "error": null})
    );
    assert_eq!(rules[1]["label"], "instance");
    let mut per_instance: Vec<(String, f64)> = rules[1]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["metric"]["instance"].as_str().unwrap().to_string(),
                s["value"].as_f64().unwrap(),
            )
        })
        .collect();
    per_instance.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        per_instance,
        [("a".to_string(), 12.0), ("b".to_string(), 30.0)]
    );
    assert_eq!(rules[2]["result_type"], "scalar");
    assert_eq!(rules[2]["result"], json!(0.02));

    // SlowBurn is pending (for: 1h) and NeverFires never fires.
    assert_eq!(facts["firing_count"], 1, "{facts:#}");
    let alert = &facts["alerts"][0];
    assert_eq!(alert["name"], "CheckoutDown");
    assert_eq!(alert["state"], "firing");
    assert_eq!(alert["value"], json!(1.0));
    assert_eq!(alert["labels"]["severity"], "page");
    assert_eq!(
        alert["annotations"]["summary"],
        "checkout is down (always, in tests)"
    );
    let active_at = alert["active_at"].as_str().expect("active_at");
    chrono::DateTime::parse_from_rfc3339(active_at).expect("RFC 3339");
}

#[test]
fn all_alerts_without_rules_and_absent_without_annotations() {
    let prom = prometheus_server::shared();
    let env = TestEnv::new();
    let repo = catalog(
        &env,
        &prom.base,
        &[
            component("cart", &[("prometheus.io/alert", "all")]),
            component("search", &[]),
        ],
    );
    let p = live(&env, &repo, "cart");
    assert_eq!(p["status"], "ok", "{p:#}");
    assert_eq!(p["facts"]["rules"], Value::Null);
    let names: Vec<&str> = p["facts"]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["CheckoutDown"]);
    assert_eq!(p["facts"]["firing_count"], 1);

    let p = live(&env, &repo, "search");
    assert_eq!(p["status"], "absent");
    assert_eq!(
        p["reason"],
        "no prometheus.io/rule or prometheus.io/alert annotation"
    );
}

#[test]
fn a_bad_query_fails_its_rule_alone_with_prometheus_own_error() {
    let prom = prometheus_server::shared();
    let bad = "sum(job:http_errors:ratio";
    // What Prometheus itself says about it.
    let (status, answer) = prom
        .get_json("/api/v1/query?query=sum%28job%3Ahttp_errors%3Aratio")
        .unwrap();
    assert_eq!(status, 400);
    let expected = format!(
        "{}: {}",
        answer["errorType"].as_str().unwrap(),
        answer["error"].as_str().unwrap()
    );
    assert!(expected.starts_with("bad_data: "), "{expected}");

    let env = TestEnv::new();
    let repo = catalog(
        &env,
        &prom.base,
        &[component(
            "checkout",
            &[(
                "prometheus.io/rule",
                &format!("job:http_errors:ratio,{bad}"),
            )],
        )],
    );
    // The bad query fails its own rule only: the good one is still a fact.
    let p = live(&env, &repo, "checkout");
    assert_eq!(p["status"], "ok", "{p:#}");
    let rules = &p["facts"]["rules"];
    assert_eq!(rules[0]["result"][0]["value"], json!(0.02), "{p:#}");
    assert_eq!(rules[0]["error"], Value::Null);
    assert_eq!(rules[1]["result"], Value::Null);
    let reason = rules[1]["error"].as_str().unwrap();
    assert!(reason.contains("HTTP 400"), "{reason}");
    assert!(reason.contains(&format!("query `{bad}`")), "{reason}");
    assert!(reason.contains(&expected), "{reason}\nexpected: {expected}");

    // The human view shows the rule that answered and why the other did not.
    let run = env.run(["--catalog", repo.path(), "show", "checkout"]);
    run.ok()
        .stdout_has("checkout")
        .stdout_has("prometheus  fetched")
        .stdout_has(&expected);
}

#[test]
fn human_live_section_lists_the_facts() {
    let prom = prometheus_server::shared();
    let env = TestEnv::new();
    let repo = catalog(
        &env,
        &prom.base,
        &[component(
            "checkout",
            &[
                ("prometheus.io/rule", "job:http_errors:ratio"),
                ("prometheus.io/alert", "CheckoutDown"),
            ],
        )],
    );
    let run = env.run(["--catalog", repo.path(), "show", "checkout"]);
    run.ok()
        .stdout_has("Live")
        .stdout_has("prometheus  fetched ")
        .stdout_has("firing_count")
        .stdout_has("CheckoutDown")
        .stdout_has("job:http_errors:ratio");
}

/// A Prometheus-shaped fake: the real server cannot show what it received.
fn fake_prometheus() -> FakeApi {
    let api = FakeApi::start();
    api.route(
        "/api/v1/query",
        Reply::json(
            json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"__name__": "up", "job": "checkout"}, "value": [1_700_000_000.0, "1"]}]}}),
        ),
    )
    .route(
        "/api/v1/alerts",
        Reply::json(json!({"status": "success", "data": {"alerts": []}})),
    );
    api
}

#[test]
fn bearer_token_only_when_prometheus_token_is_set() {
    let api = fake_prometheus();
    let components = [component(
        "checkout",
        &[("prometheus.io/rule", "up"), ("prometheus.io/alert", "all")],
    )];
    let mut env = TestEnv::new();
    let repo = catalog(&env, &api.base, &components);
    let p = live(&env, &repo, "checkout");
    assert_eq!(p["status"], "ok", "{p:#}");
    assert_eq!(p["facts"]["firing_count"], 0);
    assert_eq!(p["facts"]["alerts"], json!([]));
    assert_eq!(p["facts"]["rules"][0]["result"][0]["value"], json!(1.0));
    let seen = api.seen_at("/api/v1/query");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].url, "/api/v1/query?query=up");
    assert_eq!(seen[0].header("authorization"), None);

    env.env("PROMETHEUS_TOKEN", "prom-secret");
    let run = env.run([
        "--catalog",
        repo.path(),
        "--refresh",
        "show",
        "checkout",
        "-o",
        "json",
    ]);
    run.ok();
    assert_eq!(run.json()["live"]["prometheus"]["status"], "ok");
    assert!(!run.stdout.contains("prom-secret"));
    for s in api.seen().iter().skip(2) {
        assert_eq!(
            s.header("authorization"),
            Some("Bearer prom-secret"),
            "{}",
            s.url
        );
    }
    assert_eq!(api.seen().len(), 4);
}
