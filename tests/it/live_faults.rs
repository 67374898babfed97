//! The live-data engine under faults: every failure mode of the network
//! and of the APIs degrades to "unavailable: <reason>" for the fact, while
//! `show` and `who-owns` still answer from the catalog and exit 0. Runs the
//! real binary against servers on 127.0.0.1 (and a name that never
//! resolves).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{integration, CatalogBuilder, TestEnv};
use crate::fake_api::{black_hole, closed_port, github_ok, FakeApi, Reply};

const TOKEN: &str = "ghp_sEcReT0123456789";

const SERVICE: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc
  annotations:
    github.com/project-slug: acme/svc
    pagerduty.com/service-id: PSVC123
spec:
  type: service
  lifecycle: production
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: plain
spec:
  type: service
  lifecycle: production
  owner: team-a
";

/// A catalog whose idp.yaml points GitHub at `base` with `live` settings.
fn catalog(env: &TestEnv, base: &str, live: &str) -> PathBuf {
    let github = integration("github", base);
    let idp = format!("exclude: []\nintegrations:\n{github}live: {{ {live} }}\n");
    CatalogBuilder::new(env.dir("catalog"))
        .file("idp.yaml", idp)
        .file("catalog-info.yaml", SERVICE)
        .build();
    env.root.join("catalog")
}

fn env() -> TestEnv {
    let mut env = TestEnv::new();
    env.env("GITHUB_TOKEN", TOKEN);
    env
}

/// `idp show svc -o json` → (exit code, the `live.github` object, stderr).
fn show_github(env: &TestEnv, cat: &std::path::Path, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec![
        "--catalog",
        cat.to_str().unwrap(),
        "show",
        "svc",
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    let run = env.run(&args);
    assert!(
        !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
        "token leaked"
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "show -o json is not JSON ({e}):\n{}\n{}",
            run.stdout, run.stderr
        )
    });
    // The catalog answer is always there.
    assert_eq!(doc["metadata"]["name"], "svc");
    (run.code, doc["live"]["github"].clone(), run.stderr.clone())
}

fn reason(live: &Value) -> String {
    assert_eq!(live["status"], "unavailable", "{live}");
    live["reason"].as_str().unwrap_or_default().to_string()
}

#[test]
fn connection_refused_is_unavailable_and_show_still_answers() {
    let env = env();
    let cat = catalog(
        &env,
        &format!("http://127.0.0.1:{}", closed_port()),
        "retries: 1",
    );
    let (code, live, _) = show_github(&env, &cat, &[]);
    assert_eq!(code, 0);
    assert!(
        reason(&live).contains("cannot connect to 127.0.0.1"),
        "{live}"
    );
    assert!(live["fetched_at"].is_string());

    // The human view says so too, after the catalog part.
    let run = env.run(["--catalog", cat.to_str().unwrap(), "show", "svc"]);
    run.ok()
        .stdout_has("Live")
        .stdout_has("github  unavailable: cannot connect");
}

#[test]
fn dns_failure_names_the_host() {
    let env = env();
    let cat = catalog(&env, "http://no-such-host.invalid", "retries: 0");
    let (code, live, _) = show_github(&env, &cat, &[]);
    assert_eq!(code, 0);
    let r = reason(&live);
    assert!(
        r.contains("no-such-host.invalid"),
        "DNS failure should name the host: {r}"
    );
}

#[test]
fn slow_answer_times_out() {
    let env = env();
    let fake = FakeApi::start();
    github_ok(&fake);
    fake.route(
        "/repos/acme/svc",
        Reply::json(json!({"default_branch": "main"})).delay(Duration::from_secs(5)),
    );
    let cat = catalog(&env, &fake.base, "timeout: 1s, deadline: 10s, retries: 0");
    let start = Instant::now();
    let (code, live, _) = show_github(&env, &cat, &[]);
    assert_eq!(code, 0);
    assert!(reason(&live).contains("did not answer within 1s"), "{live}");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_server_that_never_answers_stops_at_the_deadline() {
    let env = env();
    let (port, _hole) = black_hole();
    let cat = catalog(
        &env,
        &format!("http://127.0.0.1:{port}"),
        "timeout: 30s, deadline: 2s",
    );
    let start = Instant::now();
    let (code, live, _) = show_github(&env, &cat, &[]);
    assert_eq!(code, 0);
    assert!(reason(&live).contains("deadline"), "{live}");
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn server_errors_are_retried_until_success() {
    let env = env();
    let fake = FakeApi::start();
    github_ok(&fake);
    fake.route_fn("/repos/acme/svc", |_, hit| {
        if hit <= 2 {
            Reply::status(502).body("Bad Gateway")
        } else {
            Reply::json(json!({"default_branch": "main", "archived": false}))
        }
    });
    let cat = catalog(&env, &fake.base, "retries: 3");
    let (code, live, _) = show_github(&env, &cat, &[]);
    assert_eq!(code, 0);
    assert_eq!(live["status"], "ok", "{live}");
    assert_eq!(live["facts"]["default_branch"], "main");
    let repo_hits = fake
        .seen()
        .iter()
        .filter(|s| s.url == "/repos/acme/svc")
        .count();
    assert_eq!(repo_hits, 3);
}

#[test]
fn server_errors_past_the_retries_say_what_the_server_said() {
    let env = env();
    let fake = FakeApi::start();
    fake.route(
        "/repos/acme/svc",
        Reply::status(500).body(r#"{"message":"Server Error"}"#),
    );
    let cat = catalog(&env, &fake.base, "retries: 2");
    let (_, live, _) = show_github(&env, &cat, &[]);
    assert!(reason(&live).contains("HTTP 500"), "{live}");
    assert!(reason(&live).contains("Server Error"), "{live}");
    assert_eq!(fake.seen_at("/repos/acme/svc").len(), 3);
}

#[test]
fn a_long_retry_after_gives_up_within_the_deadline() {
    let env = env();
    let fake = FakeApi::start();
    fake.route(
        "/repos/acme/svc",
        Reply::status(429)
            .header("retry-after", "3600")
            .body(r#"{"message":"slow down"}"#),
    );
    let cat = catalog(&env, &fake.base, "deadline: 5s");
    let start = Instant::now();
    let (code, live, _) = show_github(&env, &cat, &[]);
    assert_eq!(code, 0);
    let r = reason(&live);
    assert!(r.contains("rate limited") && r.contains("1h"), "{r}");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(fake.seen_at("/repos/acme/svc").len(), 1);
}

#[test]
fn a_429_without_retry_after_backs_off_and_retries() {
    let env = env();
    let fake = FakeApi::start();
    github_ok(&fake);
    fake.route_fn("/repos/acme/svc", |_, hit| {
        if hit == 1 {
            Reply::status(429)
        } else {
            Reply::json(json!({"default_branch": "main"}))
        }
    });
    let cat = catalog(&env, &fake.base, "");
    let (_, live, _) = show_github(&env, &cat, &[]);
    assert_eq!(live["status"], "ok", "{live}");
}

#[test]
fn a_short_retry_after_is_honoured() {
    let env = env();
    let fake = FakeApi::start();
    github_ok(&fake);
    fake.route_fn("/repos/acme/svc", |_, hit| {
        if hit == 1 {
            Reply::status(429).header("retry-after", "1")
        } else {
            Reply::json(json!({"default_branch": "main"}))
        }
    });
    let cat = catalog(&env, &fake.base, "");
    let start = Instant::now();
    let (_, live, _) = show_github(&env, &cat, &[]);
    assert_eq!(live["status"], "ok", "{live}");
    assert!(start.elapsed() >= Duration::from_secs(1), "did not wait");
}

#[test]
fn malformed_json_is_reported() {
    let env = env();
    let fake = FakeApi::start();
    fake.route(
        "/repos/acme/svc",
        Reply::status(200)
            .header("content-type", "application/json")
            .body("{\"default_branch\": "),
    );
    let cat = catalog(&env, &fake.base, "");
    let (code, live, _) = show_github(&env, &cat, &[]);
    assert_eq!(code, 0);
    assert!(
        reason(&live).contains("malformed JSON from 127.0.0.1"),
        "{live}"
    );
}

#[test]
fn a_huge_body_is_cut_off() {
    let env = env();
    let fake = FakeApi::start();
    let big = format!(
        "{{\"default_branch\": \"main\", \"pad\": \"{}\"}}",
        "x".repeat(50_000)
    );
    fake.route("/repos/acme/svc", Reply::status(200).body(big));
    let cat = catalog(&env, &fake.base, "max_body: 10000");
    let (_, live, _) = show_github(&env, &cat, &[]);
    assert!(reason(&live).contains("exceeds 10000 bytes"), "{live}");
}

#[test]
fn a_redirect_to_another_host_does_not_carry_the_token() {
    let env = env();
    let home = FakeApi::start();
    let elsewhere = FakeApi::start();
    github_ok(&home);
    // Same machine, other host name: a different origin for the token.
    let target = format!("http://localhost:{}/repos/acme/svc", elsewhere.port);
    home.route(
        "/repos/acme/svc",
        Reply::status(301).header("location", &target),
    );
    elsewhere.route(
        "/repos/acme/svc",
        Reply::json(json!({"default_branch": "main"})),
    );
    let cat = catalog(&env, &home.base, "");
    let (_, live, _) = show_github(&env, &cat, &[]);
    assert_eq!(live["status"], "ok", "{live}");
    let sent_home = home.seen_at("/repos/acme/svc");
    assert_eq!(
        sent_home[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let sent_away = elsewhere.seen_at("/repos/acme/svc");
    assert_eq!(sent_away.len(), 1);
    assert_eq!(
        sent_away[0].header("authorization"),
        None,
        "token forwarded"
    );
}

#[test]
fn a_missing_token_names_the_variable() {
    let env = TestEnv::new(); // no PAGERDUTY_TOKEN
    let fake = FakeApi::start();
    let idp = format!(
        "exclude: []\nintegrations:\n  pagerduty:\n    base_url: {}\n",
        fake.base
    );
    CatalogBuilder::new(env.dir("catalog"))
        .file("idp.yaml", idp)
        .file("catalog-info.yaml", SERVICE)
        .build();
    let cat = env.root.join("catalog");
    let run = env.run([
        "--catalog",
        cat.to_str().unwrap(),
        "who-owns",
        "svc",
        "-o",
        "json",
    ]);
    run.ok();
    let doc = run.json();
    assert_eq!(doc["owner"]["ref"], "group:default/team-a");
    assert_eq!(doc["oncall"], json!([]));
    let status = doc["live_status"].as_str().unwrap();
    assert!(status.contains("PAGERDUTY_TOKEN"), "{status}");
    assert!(fake.seen().is_empty(), "no request without a token");

    let run = env.run(["--catalog", cat.to_str().unwrap(), "who-owns", "svc"]);
    run.ok()
        .stdout_has("team-a")
        .stdout_has("On call")
        .stdout_has("PAGERDUTY_TOKEN");
}

#[test]
fn without_integrations_live_is_empty_and_who_owns_says_why() {
    let env = env();
    CatalogBuilder::standard(env.dir("catalog")).build();
    let cat = env.root.join("catalog");
    let run = env.run([
        "--catalog",
        cat.to_str().unwrap(),
        "who-owns",
        "checkout",
        "-o",
        "json",
    ]);
    run.ok();
    let doc = run.json();
    assert_eq!(doc["oncall"], json!([]));
    let status = doc["live_status"].as_str().unwrap();
    assert!(status.contains("no integrations configured"), "{status}");
    let run = env.run([
        "--catalog",
        cat.to_str().unwrap(),
        "show",
        "checkout",
        "-o",
        "json",
    ]);
    assert_eq!(run.ok().json()["live"], json!({}));
}

#[test]
fn cache_offline_and_corruption() {
    let env = env();
    let fake = FakeApi::start();
    github_ok(&fake);
    let cat = catalog(&env, &fake.base, "");
    let (_, live, _) = show_github(&env, &cat, &[]);
    assert_eq!(live["status"], "ok");
    assert_eq!(live["source"], "network");
    let first = fake.seen().len();

    // Fresh in the cache: no request at all.
    let (_, live, _) = show_github(&env, &cat, &[]);
    assert_eq!(live["status"], "ok");
    assert_eq!(live["source"], "cache");
    assert_eq!(fake.seen().len(), first);

    // Offline answers from the cache, with the time it was fetched.
    let (_, live, _) = show_github(&env, &cat, &["--offline"]);
    assert_eq!(live["status"], "ok");
    assert_eq!(live["source"], "cache");
    let run = env.run([
        "--catalog",
        cat.to_str().unwrap(),
        "--offline",
        "show",
        "svc",
    ]);
    run.ok()
        .stdout_has("fetched")
        .stdout_has("from the cache copy");

    // Corrupt every cache file: ignored, then rewritten by the next fetch.
    let files = cache_files(&env);
    assert!(!files.is_empty());
    for f in &files {
        std::fs::write(f, b"{\"url\": 12, garbage").unwrap();
    }
    let (_, live, _) = show_github(&env, &cat, &["--offline"]);
    assert!(
        reason(&live).contains("offline, and nothing cached"),
        "{live}"
    );
    let (_, live, _) = show_github(&env, &cat, &[]);
    assert_eq!(live["status"], "ok");
    assert_eq!(live["source"], "network");
    for f in cache_files(&env) {
        let text = std::fs::read_to_string(&f).unwrap();
        serde_json::from_str::<Value>(&text).expect("rewritten cache file parses");
        assert!(!text.contains(TOKEN));
    }
    assert!(fake.seen().len() > first);
}

#[test]
fn refresh_revalidates_with_the_etag() {
    let env = env();
    let fake = FakeApi::start();
    github_ok(&fake);
    fake.route_fn("/repos/acme/svc", |seen, _| {
        if seen.header("if-none-match") == Some("\"v1\"") {
            Reply::status(304).header("etag", "\"v1\"")
        } else {
            Reply::json(json!({"default_branch": "trunk"})).header("etag", "\"v1\"")
        }
    });
    let cat = catalog(&env, &fake.base, "");
    let (_, live, _) = show_github(&env, &cat, &[]);
    assert_eq!(live["facts"]["default_branch"], "trunk");
    let (_, live, _) = show_github(&env, &cat, &["--refresh"]);
    assert_eq!(live["status"], "ok", "{live}");
    assert_eq!(live["facts"]["default_branch"], "trunk");
    assert_eq!(live["source"], "network");
    let repo: Vec<_> = fake
        .seen()
        .into_iter()
        .filter(|s| s.url == "/repos/acme/svc")
        .collect();
    assert_eq!(repo.len(), 2);
    assert_eq!(repo[0].header("if-none-match"), None);
    assert_eq!(repo[1].header("if-none-match"), Some("\"v1\""));
}

#[test]
fn entities_without_the_annotation_are_absent_not_failed() {
    let env = env();
    let fake = FakeApi::start();
    let cat = catalog(&env, &fake.base, "");
    let run = env.run([
        "--catalog",
        cat.to_str().unwrap(),
        "show",
        "plain",
        "-o",
        "json",
    ]);
    let live = &run.ok().json()["live"]["github"];
    assert_eq!(live["status"], "absent");
    assert!(live["reason"]
        .as_str()
        .unwrap()
        .contains("github.com/project-slug"));
    assert!(fake.seen().is_empty());
    let run = env.run(["--catalog", cat.to_str().unwrap(), "show", "plain"]);
    run.ok().stdout_has("github  absent:");
}

#[test]
fn bad_integration_config_is_located() {
    let env = env();
    CatalogBuilder::new(env.dir("catalog"))
        .file(
            "idp.yaml",
            "exclude: []\nintegrations:\n  github:\n    ttl: soonish\n",
        )
        .file("catalog-info.yaml", SERVICE)
        .build();
    let cat = env.root.join("catalog");
    let run = env.run(["--catalog", cat.to_str().unwrap(), "show", "svc"]);
    run.code(4).stderr_has("idp.yaml:4:").stderr_has("soonish");
}

#[test]
fn unknown_integration_and_missing_base_url_are_config_errors() {
    let env = env();
    CatalogBuilder::new(env.dir("catalog"))
        .file("idp.yaml", "exclude: []\nintegrations:\n  prometheus: {}\n")
        .file("catalog-info.yaml", SERVICE)
        .build();
    let cat = env.root.join("catalog");
    // show still answers, with a warning …
    let run = env.run([
        "--catalog",
        cat.to_str().unwrap(),
        "show",
        "svc",
        "-o",
        "json",
    ]);
    run.ok().stderr_has("integrations.prometheus.base_url");
    // … and enrich refuses.
    let run = env.run(["--catalog", cat.to_str().unwrap(), "enrich"]);
    run.code(4).stderr_has("prometheus needs a base_url");
}

#[test]
fn enrich_summarises_per_integration() {
    let env = env();
    let fake = FakeApi::start();
    github_ok(&fake);
    let cat = catalog(&env, &fake.base, "");
    let run = env.run(["--catalog", cat.to_str().unwrap(), "enrich"]);
    run.ok()
        .stdout_has("Live data for 3 entities")
        .stdout_has("github");
    let run = env.run(["--catalog", cat.to_str().unwrap(), "enrich", "-o", "json"]);
    let doc = run.ok().json();
    assert_eq!(doc["integrations"]["github"]["ok"], 1);
    assert_eq!(doc["integrations"]["github"]["absent"], 2);
    assert_eq!(doc["integrations"]["github"]["unavailable"], 0);
    assert_eq!(
        doc["snapshot"]["entities"]["component:default/svc"]["github"]["status"],
        "ok"
    );
}

#[test]
fn enrich_publish_then_sync_shares_the_snapshot() {
    let env = env();
    let fake = FakeApi::start();
    github_ok(&fake);
    let cat = catalog(&env, &fake.base, "");
    // A bare remote the catalog pushes to, and a second engineer's clone.
    let remote = env.root.join("remote.git");
    git2::Repository::init_bare(&remote).unwrap();
    let origin = git2::Repository::open(&cat).unwrap();
    origin.remote("origin", remote.to_str().unwrap()).unwrap();
    origin
        .find_remote("origin")
        .unwrap()
        .push(&["refs/heads/main:refs/heads/main"], None)
        .unwrap();
    let run = env.run(["--catalog", cat.to_str().unwrap(), "enrich", "--publish"]);
    run.ok().stdout_has("Published refs/idp/live");
    let bare = git2::Repository::open_bare(&remote).unwrap();
    assert!(bare.find_reference("refs/idp/live").is_ok(), "not pushed");

    git2::Repository::open_bare(&remote)
        .unwrap()
        .set_head("refs/heads/main")
        .unwrap();
    let clone_dir = env.root.join("clone");
    git2::Repository::clone(remote.to_str().unwrap(), &clone_dir).unwrap();
    let other = TestEnv::new(); // another machine: empty cache, no token
    other
        .run(["--catalog", clone_dir.to_str().unwrap(), "sync"])
        .ok()
        .stdout_has("refs/idp/live");
    drop(fake); // the API is gone; the snapshot answers
    let run = other.run([
        "--catalog",
        clone_dir.to_str().unwrap(),
        "show",
        "svc",
        "-o",
        "json",
    ]);
    let live = &run.ok().json()["live"]["github"];
    assert_eq!(live["status"], "ok", "{live}");
    assert_eq!(live["source"], "published");
    assert_eq!(live["facts"]["default_branch"], "main");
}

#[test]
fn doctor_lists_integrations_tokens_and_reachability() {
    let mut env = TestEnv::new();
    env.env("GITHUB_TOKEN", TOKEN);
    let fake = FakeApi::start();
    fake.route("/", Reply::json(json!({"current_user_url": "x"})));
    let idp = format!(
        "exclude: []\nintegrations:\n  github:\n    base_url: {}\n  pagerduty:\n    base_url: http://127.0.0.1:{}\n",
        fake.base,
        closed_port()
    );
    CatalogBuilder::new(env.dir("catalog"))
        .file("idp.yaml", idp)
        .file("catalog-info.yaml", SERVICE)
        .build();
    let cat = env.root.join("catalog");
    let run = env.run(["--catalog", cat.to_str().unwrap(), "doctor"]);
    run.code(1)
        .stdout_has("GITHUB_TOKEN set")
        .stdout_has("PAGERDUTY_TOKEN")
        .stdout_has("missing")
        .stdout_has("HTTP 200");
    assert!(!run.stdout.contains(TOKEN));
    let run = env.run(["--catalog", cat.to_str().unwrap(), "doctor", "-o", "json"]);
    let doc: Value = serde_json::from_str(&run.code(1).stdout).unwrap();
    let gh = &doc["integrations"][0];
    assert_eq!(gh["name"], "github");
    assert_eq!(gh["token_set"], true);
    assert_eq!(gh["reachable"], true);
    let pd = &doc["integrations"][1];
    assert_eq!(pd["reachable"], false);
    assert!(pd["problem"].as_str().unwrap().contains("PAGERDUTY_TOKEN"));
    // The probe sent the token to its own host.
    assert_eq!(
        fake.seen()[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

fn cache_files(env: &TestEnv) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![env.cache.join("idp/live")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn validate_reports_integration_settings_at_their_key() {
    let env = env();
    CatalogBuilder::new(env.dir("catalog"))
        .file(
            "idp.yaml",
            "exclude: []\nintegrations:\n  github: {}\n  prometheus:\n    ttl: 5m\n  deploys:\n    type: http\n    base_url: http://127.0.0.1:1\n    url: /a\n    extract: { v: \"$[\" }\n",
        )
        .file("catalog-info.yaml", SERVICE)
        .build();
    let cat = env.root.join("catalog");
    let run = env.run(["--catalog", cat.to_str().unwrap(), "validate"]);
    run.code(1)
        .stdout_has("integrations.prometheus.base_url: prometheus needs a base_url")
        .stdout_has("idp.yaml:4:3")
        .stdout_has("integrations.deploys.extract.v: invalid JSONPath")
        .stdout_has("idp.yaml:10:");
}

#[test]
fn enrich_with_an_unknown_integration_is_a_usage_error() {
    let env = env();
    let cat = catalog(&env, "http://127.0.0.1:1", "");
    env.run([
        "--catalog",
        cat.to_str().unwrap(),
        "enrich",
        "--integration",
        "nope",
    ])
    .code(2)
    .stderr_has("--integration nope: no such integration in idp.yaml (configured: github)");
}
