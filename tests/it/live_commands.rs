//! Live data in the commands: who-owns shows who is on call and the latest
//! activity, score rules read `live.*`, enrich respects the per-host
//! concurrency limit. Real binary, fake APIs on 127.0.0.1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{CatalogBuilder, TestEnv};
use crate::fake_api::{FakeApi, Reply};
use crate::tmux::Tmux;

const CATALOG: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
  annotations:
    github.com/project-slug: acme/payments
    pagerduty.com/service-id: PPAY001
spec:
  type: service
  lifecycle: production
  owner: team-pay
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
  annotations:
    pagerduty.com/service-id: PLEDGER
spec:
  type: service
  lifecycle: production
  owner: team-pay
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-pay
  annotations:
    pagerduty.com/escalation-policy-id: PTEAMEP
spec:
  type: team
  children: []
";

/// PagerDuty: payments' service with two people on call; ledger's service
/// has nobody, but the team's escalation policy has someone.
fn pagerduty(fake: &FakeApi) {
    let service = |id: &str, ep: &str| {
        json!({"service": {
            "id": id, "name": format!("svc {id}"), "status": "active",
            "html_url": format!("https://acme.pagerduty.com/service-directory/{id}"),
            "escalation_policy": {"id": ep, "type": "escalation_policy", "summary": "EP",
                                  "html_url": "https://acme.pagerduty.com/escalation_policies/x"}
        }})
    };
    fake.route("/services/PPAY001", Reply::json(service("PPAY001", "PEPPAY")))
        .route("/services/PLEDGER", Reply::json(service("PLEDGER", "PEPLEDGER")))
        .route_fn("/oncalls", |seen, _| {
            let oncalls = if seen.url.contains("PEPPAY") {
                json!([
                    {"escalation_level": 2, "start": "2026-11-29T00:00:00Z", "end": null,
                     "user": {"id": "PU2", "type": "user", "name": "Grace Hopper", "email": "grace@acme.com"},
                     "escalation_policy": {"id": "PEPPAY", "type": "escalation_policy_reference"}},
                    {"escalation_level": 1, "start": "2026-11-29T00:00:00Z", "end": "2026-12-06T09:00:00Z",
                     "user": {"id": "PU1", "type": "user", "name": "Ada Lovelace", "email": "ada@acme.com"},
                     "escalation_policy": {"id": "PEPPAY", "type": "escalation_policy_reference"}}
                ])
            } else if seen.url.contains("PTEAMEP") {
                json!([
                    {"escalation_level": 1, "start": "2026-11-29T00:00:00Z", "end": "2026-11-30T09:00:00Z",
                     "user": {"id": "PU3", "type": "user", "name": "Linus Team", "email": "linus@acme.com"},
                     "escalation_policy": {"id": "PTEAMEP", "type": "escalation_policy_reference"}}
                ])
            } else {
                json!([])
            };
            Reply::json(json!({"oncalls": oncalls, "limit": 100, "offset": 0, "more": false, "total": null}))
        })
        .route(
            "/escalation_policies/PTEAMEP",
            Reply::json(json!({"escalation_policy": {"id": "PTEAMEP", "name": "Team Pay", "html_url": "https://acme.pagerduty.com/escalation_policies/PTEAMEP"}})),
        )
        .route(
            "/incidents",
            Reply::json(json!({"incidents": [], "limit": 1, "offset": 0, "more": false, "total": 0})),
        );
}

fn github(fake: &FakeApi) {
    fake.route(
        "/repos/acme/payments",
        Reply::json(json!({"full_name": "acme/payments", "html_url": "https://github.com/acme/payments",
                           "default_branch": "main", "archived": false})),
    )
    .route(
        "/repos/acme/payments/commits",
        Reply::json(json!([{"sha": "4f2a9c1d0e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9c",
            "commit": {"message": "Retry idempotent captures\n\nDetails.",
                       "author": {"name": "Ada Lovelace", "email": "ada@acme.com", "date": "2026-11-28T10:00:00Z"},
                       "committer": {"name": "GitHub", "email": "noreply@github.com", "date": "2026-11-28T10:05:00Z"}},
            "author": {"login": "ada"}}])),
    )
    .route_fn("/repos/acme/payments/pulls", |_, _| {
        Reply::json(json!([{"number": 7}])).header(
            "link",
            r#"<http://x/repos/acme/payments/pulls?state=open&per_page=1&page=2>; rel="next", <http://x/repos/acme/payments/pulls?state=open&per_page=1&page=12>; rel="last""#,
        )
    })
    .route(
        "/repos/acme/payments/actions/runs",
        Reply::json(json!({"total_count": 0, "workflow_runs": []})),
    )
    .route(
        "/repos/acme/payments/releases/latest",
        Reply::status(404).body(r#"{"message":"Not Found"}"#),
    )
    .route("/repos/acme/payments/deployments", Reply::json(json!([])));
}

fn setup(env: &mut TestEnv, gh: &FakeApi, pd: &FakeApi) -> String {
    env.env("GITHUB_TOKEN", "gh-token")
        .env("PAGERDUTY_TOKEN", "pd-token");
    let idp = format!(
        "exclude: []\nintegrations:\n  github: {{ base_url: {} }}\n  pagerduty: {{ base_url: {} }}\n",
        gh.base, pd.base
    );
    CatalogBuilder::new(env.dir("catalog"))
        .file("idp.yaml", idp)
        .file("catalog-info.yaml", CATALOG)
        .file(
            "scorecards/live.yaml",
            "\
apiVersion: idp.dev/v1alpha1
kind: Scorecard
metadata:
  name: live-health
spec:
  appliesTo: { kinds: [Component] }
  levels: [{ id: ok, title: OK }]
  rules:
    - id: few-prs
      level: ok
      title: Fewer than 20 open pull requests
      check: live.github.open_pull_requests < 20
",
        )
        .build();
    env.root.join("catalog").display().to_string()
}

#[test]
fn who_owns_shows_who_is_on_call_and_the_last_commit() {
    let mut env = TestEnv::new();
    let (gh, pd) = (FakeApi::start(), FakeApi::start());
    github(&gh);
    pagerduty(&pd);
    let cat = setup(&mut env, &gh, &pd);

    let run = env.run(["--catalog", &cat, "who-owns", "payments", "-o", "json"]);
    let doc = run.ok().json();
    assert_eq!(
        doc["oncall"],
        json!([
            {"name": "Ada Lovelace", "email": "ada@acme.com", "level": 1, "until": "2026-12-06T09:00:00Z"},
            {"name": "Grace Hopper", "email": "grace@acme.com", "level": 2, "until": null}
        ])
    );
    assert!(doc.get("live_status").is_none(), "{doc}");
    assert_eq!(
        doc["latest_activity"]["last_commit"]["sha"],
        "4f2a9c1d0e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9c"
    );
    assert_eq!(doc["live"]["github"]["facts"]["open_pull_requests"], 12);
    // The token went to PagerDuty in PagerDuty's scheme.
    assert_eq!(
        pd.seen()[0].header("authorization"),
        Some("Token token=pd-token")
    );

    let run = env.run(["--catalog", &cat, "who-owns", "payments"]);
    run.ok()
        .stdout_has("On call")
        .stdout_has("Ada Lovelace <ada@acme.com>  level 1, until 2026-12-06T09:00:00Z")
        .stdout_has("Grace Hopper <grace@acme.com>  level 2, permanently")
        .stdout_has("Last commit 4f2a9c1 Retry idempotent captures");
}

#[test]
fn who_owns_falls_back_to_the_owning_groups_on_call() {
    let mut env = TestEnv::new();
    let (gh, pd) = (FakeApi::start(), FakeApi::start());
    github(&gh);
    pagerduty(&pd);
    let cat = setup(&mut env, &gh, &pd);
    let doc = env
        .run(["--catalog", &cat, "who-owns", "ledger", "-o", "json"])
        .ok()
        .json();
    assert_eq!(doc["oncall"][0]["name"], "Linus Team", "{doc}");
    assert_eq!(doc["oncall"].as_array().unwrap().len(), 1);
}

#[test]
fn score_rules_read_live_facts_and_are_unknown_when_unavailable() {
    let mut env = TestEnv::new();
    let (gh, pd) = (FakeApi::start(), FakeApi::start());
    github(&gh);
    pagerduty(&pd);
    let cat = setup(&mut env, &gh, &pd);
    let doc = env
        .run(["--catalog", &cat, "score", "payments", "-o", "json"])
        .ok()
        .json();
    let text = doc.to_string();
    assert!(text.contains("\"few-prs\""), "{text}");
    let rule = find_rule(&doc, "component:default/payments", "few-prs");
    assert_eq!(rule["state"], "pass", "{rule}");
    // ledger has no GitHub annotation: the rule cannot be decided.
    let doc = env
        .run(["--catalog", &cat, "score", "ledger", "-o", "json"])
        .ok()
        .json();
    let rule = find_rule(&doc, "component:default/ledger", "few-prs");
    assert_eq!(rule["state"], "unknown", "{rule}");
    assert!(
        rule.to_string().contains("github.com/project-slug"),
        "{rule}"
    );
    // --no-live: unknown, and no request is made.
    let before = gh.seen().len();
    let doc = env
        .run([
            "--catalog",
            &cat,
            "--no-live",
            "score",
            "payments",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(
        find_rule(&doc, "component:default/payments", "few-prs")["state"],
        "unknown"
    );
    assert_eq!(gh.seen().len(), before);
}

fn find_rule(doc: &Value, entity: &str, rule: &str) -> Value {
    let mut found = None;
    walk(doc, &mut |v| {
        if v.get("entity").and_then(Value::as_str) == Some(entity) {
            walk(v, &mut |r| {
                if r.get("id").and_then(Value::as_str) == Some(rule) && r.get("state").is_some() {
                    found = Some(r.clone());
                }
            });
        }
    });
    found.unwrap_or_else(|| panic!("no rule {rule} for {entity} in {doc}"))
}

fn walk(v: &Value, f: &mut dyn FnMut(&Value)) {
    f(v);
    match v {
        Value::Array(items) => items.iter().for_each(|i| walk(i, f)),
        Value::Object(map) => map.values().for_each(|i| walk(i, f)),
        _ => {}
    }
}

/// A catalog of `n` components on PagerDuty services `PS000…`, with
/// PagerDuty at `fake` and `live` settings; the fake answers on-calls and
/// incidents, and each service with `service` (delays, counting).
fn pagerduty_fleet(
    env: &TestEnv,
    fake: &FakeApi,
    n: usize,
    live: &str,
    service: impl Fn() -> Duration + Send + Sync + 'static,
) -> std::path::PathBuf {
    fake.route_fn("/services/*", move |seen, _| {
        let delay = service();
        let id = seen
            .url
            .trim_start_matches("/services/")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        Reply::json(json!({"service": {"id": id, "name": id, "status": "active",
            "escalation_policy": {"id": "PEP", "type": "escalation_policy_reference"}}}))
        .delay(delay)
    });
    fake.route(
        "/oncalls",
        Reply::json(json!({"oncalls": [], "more": false, "limit": 100, "offset": 0})),
    )
    .route(
        "/incidents",
        Reply::json(json!({"incidents": [], "more": false, "total": 0, "limit": 1, "offset": 0})),
    );
    let mut docs = String::new();
    for i in 0..n {
        docs.push_str(&format!(
            "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: s{i}\n  annotations:\n    pagerduty.com/service-id: PS{i:03}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-pay\n"
        ));
    }
    let idp = format!(
        "exclude: []\nintegrations:\n  pagerduty: {{ base_url: {} }}\nlive: {{ {live} }}\n",
        fake.base
    );
    CatalogBuilder::new(env.dir("catalog"))
        .file("idp.yaml", idp)
        .file("catalog-info.yaml", docs)
        .build();
    env.root.join("catalog")
}

#[test]
fn enrich_never_exceeds_the_per_host_limit() {
    let mut env = TestEnv::new();
    env.env("PAGERDUTY_TOKEN", "pd-token");
    let fake = FakeApi::start();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (f, p) = (in_flight.clone(), peak.clone());
    // Each service answer takes 150 ms (inside the handler, so it is counted
    // as in flight); count overlapping requests.
    let cat = pagerduty_fleet(&env, &fake, 12, "per_host: 2", move || {
        let now = f.fetch_add(1, Ordering::SeqCst) + 1;
        p.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(150));
        f.fetch_sub(1, Ordering::SeqCst);
        Duration::ZERO
    });
    let doc = env
        .run(["--catalog", cat.to_str().unwrap(), "enrich", "-o", "json"])
        .ok()
        .json();
    assert_eq!(doc["integrations"]["pagerduty"]["ok"], 12, "{doc}");
    let max = peak.load(Ordering::SeqCst);
    assert!(max <= 2, "{max} requests in flight at once, limit 2");
    assert!(
        max == 2,
        "requests never overlapped ({max}): concurrency not used"
    );
}

/// On a terminal, a long fetch shows an indicatif bar on stderr; piped, or
/// with -o json, nothing of the kind.
#[test]
fn progress_bar_only_on_a_terminal() {
    let mut env = TestEnv::new();
    env.env("PAGERDUTY_TOKEN", "pd-token");
    let fake = FakeApi::start();
    let cat = pagerduty_fleet(&env, &fake, 16, "per_host: 1", || {
        Duration::from_millis(250)
    });

    // Piped: stderr stays empty.
    let run = env.run(["--catalog", cat.to_str().unwrap(), "enrich"]);
    run.ok().quiet_stderr();

    // In a terminal (tmux): the bar shows while fetching. A cache of its
    // own and --refresh, so the piped run's answers are not reused.
    let other_cache = env.home.join("other-cache");
    let term = Tmux::idp(
        &env,
        &["--catalog", cat.to_str().unwrap(), "--refresh", "enrich"],
        &[
            ("XDG_CACHE_HOME", other_cache.to_str().unwrap()),
            ("PAGERDUTY_TOKEN", "t"),
            ("TERM", "xterm"),
        ],
    );
    term.wait_for("a progress bar on the terminal", |s| {
        s.contains("live data") && s.contains("/16")
    });
}
