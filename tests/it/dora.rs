//! `idp dora` against fake GitHub and PagerDuty APIs on 127.0.0.1 serving a
//! scripted history whose four keys are computed by hand below: paginated
//! deployments, a deployment whose success straddles the window's start, a
//! failed deployment, a revert pull request, a rollback, an incident
//! opened before and resolved after a deployment; then the cache and the
//! published snapshot offline, unknown keys with their reasons, bands from
//! idp.yaml, JSON/CSV/table output, scorecards and bad flag values.
//! Payload shapes are those of the official API examples (checked below).

use serde_json::{json, Value};

use crate::api_conformance::{example, shape};
use crate::common::{CatalogBuilder, Repo, Run, TestEnv};
use crate::fake_api::{FakeApi, Reply};

/// The run's now: windows of 30 days are [11-01, 12-01) and [10-02, 11-01).
pub(crate) const NOW: &str = "2026-12-01T00:00:00Z";

const ORG: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: payments
spec:
  type: team
  children: []
";

fn component(name: &str, annotations: &str) -> String {
    format!(
        "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  annotations:\n{annotations}spec:\n  type: service\n  lifecycle: production\n  owner: payments\n"
    )
}

/// `(id, sha, created_at, statuses newest first: (state, at))`.
type Dep = (
    u64,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// The history of acme/ledger, oldest first. Hand computation, window
/// [2026-11-01, 2026-12-01):
/// - successes in the window: 103 (created 10-31 23:50, success 11-01
///   00:10: inside), 104, 106, 107, 108, 109, 110 = 7; failed attempt 105;
///   111 is still in progress (not counted). 101 is older than the fetched
///   horizon (the base of the first comparison); 102 is the previous window.
/// - deployment frequency 7/30 per day (high: ≥ 1/week); previous 1/30 → up.
/// - lead times (success − author date): 103 1d12h10m = 130200 s, 104
///   7200, 106 93600 and 3600, 107 61200, 108 14400, 109 a rollback ships
///   nothing, 110 3600 → median 14400 s (4h, elite: < 1d), p90 (nearest
///   rank 7 of 7) 130200; previous: 102 86400 → down.
/// - failures: 104 (incident P1 two hours later), 105 (failed), 106
///   (revert #7 merged four hours later), 108 (rolled back by 109, which
///   redeploys g7), 109 (incident P2 opened 11-21 08:00, before 110 was
///   deployed at 09:10 and resolved after it: blamed on 109, not 110)
///   = 5 of 8 deployments counted = 62.5 % (low: > 15 %); previous 0/1 → up.
/// - recoveries: 104 P1 12:00→14:10 = 7800, 105 09:05→106 11:05 = 7200,
///   106 revert 15:00→107 09:05 = 65100, 108 rollback 16:00→16:05 = 300,
///   109 P2 08:00→20:00 = 43200 → median 7800 s (high: < 1d); previous
///   unknown (no failures).
const LEDGER: &[Dep] = &[
    (
        101,
        "a1",
        "2026-09-20T10:00:00Z",
        &[("success", "2026-09-20T10:10:00Z")],
    ),
    (
        102,
        "b2",
        "2026-10-10T10:00:00Z",
        &[
            ("success", "2026-10-10T10:10:00Z"),
            ("in_progress", "2026-10-10T10:01:00Z"),
        ],
    ),
    (
        103,
        "c3",
        "2026-10-31T23:50:00Z",
        &[("success", "2026-11-01T00:10:00Z")],
    ),
    (
        104,
        "d4",
        "2026-11-05T10:00:00Z",
        &[
            ("inactive", "2026-11-10T11:05:00Z"),
            ("success", "2026-11-05T10:10:00Z"),
        ],
    ),
    (
        105,
        "e5",
        "2026-11-10T09:00:00Z",
        &[("failure", "2026-11-10T09:05:00Z")],
    ),
    (
        106,
        "f6",
        "2026-11-10T11:00:00Z",
        &[("success", "2026-11-10T11:05:00Z")],
    ),
    (
        107,
        "g7",
        "2026-11-11T09:00:00Z",
        &[("success", "2026-11-11T09:05:00Z")],
    ),
    (
        108,
        "h8",
        "2026-11-20T10:00:00Z",
        &[("success", "2026-11-20T10:05:00Z")],
    ),
    (
        109,
        "g7",
        "2026-11-20T16:00:00Z",
        &[("success", "2026-11-20T16:05:00Z")],
    ),
    (
        110,
        "j10",
        "2026-11-21T09:00:00Z",
        &[("success", "2026-11-21T09:10:00Z")],
    ),
    (
        111,
        "k11",
        "2026-11-30T10:00:00Z",
        &[("in_progress", "2026-11-30T10:01:00Z")],
    ),
];

/// `base...head` → commits `(sha, author date)`; the committer date is an
/// hour later (used with `lead_time_from: merge`).
const COMPARES: &[(&str, &[(&str, &str)])] = &[
    ("a1...b2", &[("b2", "2026-10-09T10:10:00Z")]),
    ("b2...c3", &[("c3", "2026-10-30T12:00:00Z")]),
    ("c3...d4", &[("d4", "2026-11-05T08:10:00Z")]),
    (
        "d4...f6",
        &[
            ("e5", "2026-11-09T09:05:00Z"),
            ("f6", "2026-11-10T10:05:00Z"),
        ],
    ),
    ("f6...g7", &[("g7", "2026-11-10T16:05:00Z")]),
    ("g7...h8", &[("h8", "2026-11-20T06:05:00Z")]),
    ("g7...j10", &[("j10", "2026-11-21T08:10:00Z")]),
];

fn deployment(d: &Dep) -> Value {
    json!({
        "url": format!("https://api.github.com/repos/acme/ledger/deployments/{}", d.0),
        "id": d.0, "node_id": "MDEwOkRlcGxveW1lbnQx", "sha": d.1, "ref": "main",
        "task": "deploy", "payload": {}, "original_environment": "production",
        "environment": "production", "description": "Deploy request from CI",
        "created_at": d.2, "updated_at": d.2,
        "statuses_url": format!("https://api.github.com/repos/acme/ledger/deployments/{}/statuses", d.0),
        "repository_url": "https://api.github.com/repos/acme/ledger",
    })
}

fn status(id: u64, (state, at): &(&str, &str)) -> Value {
    json!({
        "url": format!("https://api.github.com/repos/acme/ledger/deployments/{id}/statuses/1"),
        "id": id * 10, "node_id": "MDE2OkRlcGxveW1lbnRTdGF0dXMx", "state": state,
        "description": "Deployment finished.", "environment": "production",
        "target_url": "https://example.com/deployment/42/output",
        "created_at": at, "updated_at": at,
        "deployment_url": format!("https://api.github.com/repos/acme/ledger/deployments/{id}"),
        "repository_url": "https://api.github.com/repos/acme/ledger",
    })
}

fn commit((sha, authored): &(&str, &str)) -> Value {
    let committed =
        chrono::DateTime::parse_from_rfc3339(authored).unwrap() + chrono::Duration::hours(1);
    json!({
        "url": format!("https://api.github.com/repos/acme/ledger/commits/{sha}"),
        "sha": sha, "node_id": "MDY6Q29tbWl0",
        "html_url": format!("https://github.com/acme/ledger/commit/{sha}"),
        "commit": {
            "author": {"name": "Alice", "email": "alice@acme.com", "date": authored},
            "committer": {"name": "GitHub", "email": "noreply@github.com", "date": committed.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)},
            "message": format!("Change {sha}"),
        },
    })
}

fn pull(number: u64, title: &str, merged_at: Option<&str>, updated_at: &str) -> Value {
    json!({
        "url": format!("https://api.github.com/repos/acme/ledger/pulls/{number}"),
        "id": number, "node_id": "MDExOlB1bGxSZXF1ZXN0MQ==",
        "html_url": format!("https://github.com/acme/ledger/pull/{number}"),
        "number": number, "state": "closed", "locked": false, "title": title,
        "body": "", "created_at": updated_at, "updated_at": updated_at,
        "closed_at": updated_at, "merged_at": merged_at, "merge_commit_sha": "e5bd3914e2e596debea16f433f57875b5b90bcd6",
    })
}

fn incident(id: &str, created: &str, resolved: Option<&str>) -> Value {
    json!({
        "id": id, "type": "incident", "summary": format!("[#1] {id}"),
        "self": format!("https://api.pagerduty.com/incidents/{id}"),
        "html_url": format!("https://acme.pagerduty.com/incidents/{id}"),
        "incident_number": 1, "title": "Ledger is down",
        "created_at": created, "updated_at": resolved.unwrap_or(created),
        "status": if resolved.is_some() { "resolved" } else { "triggered" },
        "service": {"id": "PLEDGER", "type": "service_reference", "summary": "Ledger",
                    "self": "https://api.pagerduty.com/services/PLEDGER",
                    "html_url": "https://acme.pagerduty.com/service-directory/PLEDGER"},
        "last_status_change_at": resolved.unwrap_or(created),
        "resolved_at": resolved,
    })
}

/// Routes `GET /repos/{repo}/compare/{range}` on `api` to a comparison
/// listing `commits` (`(sha, author date)`).
fn compare(api: &FakeApi, repo: &str, range: &str, commits: &[(&str, &str)]) {
    let commits: Vec<Value> = commits.iter().map(commit).collect();
    api.route(
        &format!("/repos/{repo}/compare/{range}"),
        Reply::json(json!({
            "url": format!("https://api.github.com/repos/{repo}/compare/{range}"),
            "html_url": format!("https://github.com/{repo}/compare/{range}"),
            "status": "ahead", "ahead_by": commits.len(), "behind_by": 0,
            "total_commits": commits.len(), "commits": commits, "files": [],
        })),
    );
}

/// A fake GitHub serving the ledger history (deployments in two pages of
/// six and five, newest first) and an empty acme/billing.
fn github() -> FakeApi {
    let api = FakeApi::start();
    let newest_first: Vec<Value> = LEDGER.iter().rev().map(deployment).collect();
    let (page1, page2) = (newest_first[..6].to_vec(), newest_first[6..].to_vec());
    let next = format!(
        "<{}/repositories/1/deployments?environment=production&per_page=100&page=2>; rel=\"next\"",
        api.base
    );
    api.route_fn("/repos/acme/ledger/deployments", move |seen, _| {
        Reply::json(json!(page1.clone()))
            .header("link", &next)
            .header(
                "etag",
                if seen.url.contains("page=2") {
                    "\"p2\""
                } else {
                    "\"p1\""
                },
            )
    });
    // The `next` link points at another path, as GitHub's do.
    let p2 = page2.clone();
    api.route("/repositories/1/deployments", Reply::json(json!(p2)));
    for d in LEDGER {
        let statuses: Vec<Value> = d.3.iter().map(|s| status(d.0, s)).collect();
        api.route(
            &format!("/repos/acme/ledger/deployments/{}/statuses", d.0),
            Reply::json(json!(statuses)),
        );
    }
    for (range, commits) in COMPARES {
        compare(&api, "acme/ledger", range, commits);
    }
    api.route(
        "/repos/acme/ledger/pulls",
        Reply::json(json!([
            pull(
                9,
                "Add refunds",
                Some("2026-11-28T10:00:00Z"),
                "2026-11-28T10:00:00Z"
            ),
            pull(8, "Revert \"Typo\"", None, "2026-11-15T10:00:00Z"),
            pull(
                7,
                "Revert \"Add cache\"",
                Some("2026-11-10T15:00:00Z"),
                "2026-11-10T15:00:00Z"
            ),
            pull(
                3,
                "Revert \"Old\"",
                Some("2026-09-01T10:00:00Z"),
                "2026-09-01T10:00:00Z"
            ),
        ])),
    );
    api.route("/repos/acme/billing/deployments", Reply::json(json!([])));
    api.route("/repos/acme/billing/pulls", Reply::json(json!([])));
    api
}

fn pagerduty() -> FakeApi {
    let api = FakeApi::start();
    api.route(
        "/incidents",
        Reply::json(json!({
            "incidents": [
                incident("P1", "2026-11-05T12:00:00Z", Some("2026-11-05T14:10:00Z")),
                incident("P2", "2026-11-21T08:00:00Z", Some("2026-11-21T20:00:00Z")),
            ],
            "limit": 100, "offset": 0, "more": false,
        })),
    );
    api
}

pub(crate) struct Setup {
    pub(crate) env: TestEnv,
    pub(crate) repo: Repo,
    pub(crate) gh: FakeApi,
    pub(crate) pd: FakeApi,
}

/// The scripted catalog: ledger (repository and PagerDuty service),
/// billing (a repository without deployments, plus `billing` annotation
/// lines), docs (no repository); GitHub and PagerDuty at the fakes, more
/// `integrations` entries and the `dora` section from the test.
fn build(dora: &str, integrations: &str, billing: &str) -> Setup {
    let (gh, pd) = (github(), pagerduty());
    let env = engineer(NOW);
    let repo = CatalogBuilder::new(env.dir("catalog"))
        .file(
            "idp.yaml",
            format!(
                "integrations:\n  github:\n    base_url: {}\n  pagerduty:\n    base_url: {}\n{integrations}live:\n  deadline: 5s\n{dora}",
                gh.base, pd.base
            ),
        )
        .file("org.yaml", ORG)
        .file(
            "components.yaml",
            component("ledger", "    github.com/project-slug: acme/ledger\n    pagerduty.com/service-id: PLEDGER\n")
                + &component("billing", &format!("    github.com/project-slug: acme/billing\n{billing}"))
                + &component("docs", "    backstage.io/techdocs-ref: dir:.\n"),
        )
        .build();
    Setup { env, repo, gh, pd }
}

fn setup_with(dora: &str) -> Setup {
    build(dora, "", "")
}

pub(crate) fn setup() -> Setup {
    setup_with("dora:\n  window: 30d\n")
}

/// An engineer at `now` with the tokens set and an empty cache of their own.
pub(crate) fn engineer(now: &str) -> TestEnv {
    let mut env = TestEnv::at(now);
    env.env("GITHUB_TOKEN", "ghp_dora0123456789")
        .env("PAGERDUTY_TOKEN", "pd_dora0123456789")
        .env("ARGOCD_TOKEN", "argo_dora0123456789");
    env
}

/// `idp --catalog <repo> [--offline] dora ARGS` run by `env`.
fn dora_run(env: &TestEnv, repo: &Repo, offline: bool, args: &[&str]) -> Run {
    let mut all = vec!["--catalog", repo.path()];
    if offline {
        all.push("--offline");
    }
    all.push("dora");
    all.extend_from_slice(args);
    env.run(all)
}

/// [`dora_run`] with `-o json`, which must succeed.
fn json_run(env: &TestEnv, repo: &Repo, offline: bool, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let run = dora_run(env, repo, offline, &all);
    run.ok();
    run.json()
}

impl Setup {
    /// Publishes the enriched snapshot (DORA inputs included) to the
    /// catalog repository's refs, without pushing.
    pub(crate) fn publish(&self) {
        self.env
            .run([
                "--catalog",
                self.repo.path(),
                "enrich",
                "--publish",
                "--no-push",
                "-o",
                "json",
            ])
            .ok();
    }

    /// `idp --catalog <repo> dora ARGS` run by `env`.
    fn dora_by(&self, env: &TestEnv, offline: bool, args: &[&str]) -> Run {
        dora_run(env, &self.repo, offline, args)
    }

    /// `idp --catalog <repo> dora ARGS` by the test's engineer.
    pub(crate) fn dora(&self, args: &[&str]) -> Run {
        self.dora_by(&self.env, false, args)
    }

    /// [`json_run`] by `env`.
    fn json_by(&self, env: &TestEnv, offline: bool, args: &[&str]) -> Value {
        json_run(env, &self.repo, offline, args)
    }
}

fn dora_json(s: &Setup, args: &[&str]) -> Value {
    s.json_by(&s.env, false, args)
}

fn entity<'v>(doc: &'v Value, key: &str) -> &'v Value {
    doc["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entity"] == key)
        .unwrap_or_else(|| panic!("{key} not in {doc:#}"))
}

fn close(v: &Value, expected: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"));
    assert!((got - expected).abs() < 1e-6, "{got} != {expected}");
}

fn assert_ledger(ledger: &Value) {
    let df = &ledger["deployment_frequency"];
    close(&df["value"], 7.0 / 30.0);
    assert_eq!(df["count"], 7, "{df:#}");
    assert_eq!(df["band"], "high");
    close(&df["previous"], 1.0 / 30.0);
    assert_eq!(df["trend"], "up");

    let lt = &ledger["lead_time"];
    close(&lt["value"], 14_400.0);
    close(&lt["p90"], 130_200.0);
    assert_eq!(lt["count"], 7);
    assert_eq!(lt["band"], "elite");
    close(&lt["previous"], 86_400.0);
    assert_eq!(lt["trend"], "down");

    let cfr = &ledger["change_failure_rate"];
    close(&cfr["value"], 62.5);
    assert_eq!(
        (cfr["count"].clone(), cfr["of"].clone()),
        (json!(5), json!(8)),
        "{cfr:#}"
    );
    assert_eq!(cfr["band"], "low");
    close(&cfr["previous"], 0.0);
    assert_eq!(cfr["trend"], "up");

    let rt = &ledger["recovery_time"];
    close(&rt["value"], 7_800.0);
    assert_eq!(rt["count"], 5);
    assert_eq!(rt["band"], "high");
    assert_eq!(rt["previous"], Value::Null);
    assert_eq!(rt["unknown"], Value::Null);
}

#[test]
fn the_four_keys_of_a_scripted_history_match_the_hand_computed_values() {
    let s = setup();
    let doc = dora_json(&s, &["ledger"]);
    let ledger = entity(&doc, "component:default/ledger");
    assert_ledger(ledger);
    assert_eq!(ledger["source"], "deployments");
    assert_eq!(ledger["data"]["origin"], "network");
    assert_eq!(doc["window"]["length"], "30d");
    assert_eq!(doc["window"]["current"]["from"], "2026-11-01T00:00:00Z");
    assert_eq!(
        doc["bands"]["source"],
        "DORA, Accelerate State of DevOps Report 2023, performance clusters"
    );

    // The second page was followed through its Link header; the older
    // page-2 deployments (101) stop the paging; the token went along.
    let page2 = s.gh.seen_at("/repositories/1/deployments");
    assert_eq!(page2.len(), 1);
    assert_eq!(
        page2[0].header("authorization"),
        Some("Bearer ghp_dora0123456789")
    );
    let first = s.gh.seen_at("/repos/acme/ledger/deployments?");
    assert!(
        first[0].url.contains("environment=production"),
        "{}",
        first[0].url
    );
    // One comparison per pair of consecutive successful deployments (the
    // rollback ships nothing, so g7...g7 is never asked).
    assert_eq!(s.gh.seen_at("/repos/acme/ledger/compare/").len(), 7);
    // One incidents request, for the service, over the whole horizon
    // (two 30-day windows in whole days).
    let inc = s.pd.seen_at("/incidents");
    assert_eq!(inc.len(), 1);
    assert!(
        inc[0].url.contains("service_ids%5B%5D=PLEDGER"),
        "{}",
        inc[0].url
    );
    assert!(
        inc[0].url.contains("since=2026-10-02T00%3A00%3A00Z"),
        "{}",
        inc[0].url
    );
    assert_eq!(
        inc[0].header("authorization"),
        Some("Token token=pd_dora0123456789")
    );
}

#[test]
fn lead_time_can_start_at_the_merge() {
    // Every committer date is an hour after the author date: each lead time
    // is an hour shorter (median 14400 − 3600).
    let s = setup_with("dora:\n  window: 30d\n  lead_time_from: merge\n");
    let doc = dora_json(&s, &["ledger"]);
    close(
        &entity(&doc, "component:default/ledger")["lead_time"]["value"],
        10_800.0,
    );
}

#[test]
fn a_window_boundary_moves_a_deployment_between_windows() {
    // Ending ten minutes earlier, 103's success (11-01 00:10) falls after
    // the window's end... and 102 is inside [10-01 23:50, 10-31 23:50).
    let s = setup();
    let doc = s.json_by(&engineer("2026-11-30T23:50:00Z"), false, &["ledger"]);
    let df = &entity(&doc, "component:default/ledger")["deployment_frequency"];
    assert_eq!(df["count"], 7, "{df:#}"); // 104..110 (111 is pending)
    let doc = s.json_by(&engineer("2026-12-01T00:20:00Z"), false, &["ledger"]);
    let df = &entity(&doc, "component:default/ledger")["deployment_frequency"];
    // [11-01 00:20, 12-01 00:20): 103 (00:10) is now in the previous window.
    assert_eq!(df["count"], 6, "{df:#}");
    close(&df["previous"], 2.0 / 30.0);
}

#[test]
fn missing_data_is_unknown_with_the_reason_never_zero() {
    let s = setup();
    let doc = dora_json(&s, &[]);
    let billing = entity(&doc, "component:default/billing");
    assert_eq!(billing["deployment_frequency"]["value"], Value::Null);
    assert_eq!(
        billing["deployment_frequency"]["unknown"],
        "no successful deployments to production in the window"
    );
    // No PagerDuty service: the failure rate cannot be known.
    assert_eq!(
        billing["change_failure_rate"]["unknown"],
        "no pagerduty.com/service-id annotation"
    );
    // An entity without a repository is not in the report.
    assert!(doc["entities"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["entity"] != "component:default/docs"));
    // The team pools what is known and says how much of it that is.
    let team = &doc["teams"][0];
    assert_eq!(team["team"], "group:default/payments");
    assert_eq!(team["entities"], 2);
    close(&team["deployment_frequency"]["value"], 7.0 / 30.0);
    assert_eq!(team["deployment_frequency"]["coverage"], "1/2");
    // The table says it in words, and never shows 0 for billing.
    let run = s.dora(&[]);
    run.ok()
        .stdout_has("component:default/billing  deployment frequency, lead time: no successful deployments to production in the window")
        .stdout_has("no pagerduty.com/service-id annotation");
    let billing_row = run
        .stdout
        .lines()
        .find(|l| l.starts_with("component:default/billing"))
        .unwrap();
    assert!(!billing_row.contains('0'), "{billing_row}");
}

#[test]
fn a_truncated_deployment_list_makes_every_key_unknown() {
    let s = setup();
    // Every page says there is another one.
    s.gh.route_fn("/repos/acme/billing/deployments", |_, _| {
        Reply::json(json!([])).header(
            "link",
            "</repos/acme/billing/deployments?page=2>; rel=\"next\"",
        )
    });
    let doc = dora_json(&s, &["billing"]);
    let billing = entity(&doc, "component:default/billing");
    for key in [
        "deployment_frequency",
        "lead_time",
        "change_failure_rate",
        "recovery_time",
    ] {
        let why = billing[key]["unknown"].as_str().unwrap_or_default();
        assert!(why.contains("more than 10 pages"), "{key}: {billing:#}");
    }
}

#[test]
fn offline_answers_from_the_cache_and_says_how_old_it_is() {
    let s = setup();
    dora_json(&s, &["ledger"]);
    let before = s.gh.seen().len();
    let Setup { env, repo, gh, pd } = s;
    drop((gh, pd));
    let doc = json_run(&env, &repo, true, &["ledger"]);
    let ledger = entity(&doc, "component:default/ledger");
    assert_ledger(ledger);
    assert_eq!(ledger["data"]["origin"], "cache");
    assert!(before > 10);
    dora_run(&env, &repo, true, &["ledger"])
        .ok()
        .stdout_has("Data: from the local cache; oldest fetched ");
}

#[test]
fn offline_without_a_cache_is_unknown_not_zero() {
    let s = setup();
    let doc = s.json_by(&s.env, true, &["ledger"]);
    let why = entity(&doc, "component:default/ledger")["lead_time"]["unknown"].clone();
    assert!(why.as_str().unwrap().contains("offline"), "{why}");
    assert!(s.gh.seen().is_empty());
}

#[test]
fn the_published_snapshot_carries_the_inputs_to_offline_engineers() {
    let s = setup();
    s.publish();
    // Another engineer: an empty cache, offline.
    let other = engineer(NOW);
    let asked = s.gh.seen().len();
    let doc = s.json_by(&other, true, &[]);
    let ledger = entity(&doc, "component:default/ledger");
    assert_ledger(ledger);
    assert_eq!(ledger["data"]["origin"], "published");
    assert_eq!(s.gh.seen().len(), asked, "the APIs were asked again");
    s.dora_by(&other, true, &["ledger"])
        .ok()
        .stdout_has("Data: from the published snapshot (refs/idp/live); oldest fetched");
}

#[test]
fn bands_come_from_idp_yaml_and_bad_ones_fail_validation() {
    let s = setup_with(
        "dora:\n  window: 30d\n  bands:\n    change_failure_rate: {elite: 70, high: 80, medium: 90}\n",
    );
    let doc = dora_json(&s, &["ledger"]);
    assert_eq!(
        entity(&doc, "component:default/ledger")["change_failure_rate"]["band"],
        "elite"
    );
    assert!(doc["bands"]["source"]
        .as_str()
        .unwrap()
        .starts_with("idp.yaml dora.bands"));

    let bad = setup_with("dora:\n  bands:\n    lead_time: {elite: 7d, high: 1d, medium: 30d}\n");
    bad.env
        .run(["--catalog", bad.repo.path(), "validate"])
        .code(1)
        .stdout_has("dora.bands.lead_time: elite must be at most high");
    bad.dora(&[]).code(4).stderr_has("idp validate");
    let typo = setup_with("dora:\n  window: soon\n");
    typo.env
        .run(["--catalog", typo.repo.path(), "validate"])
        .code(1)
        .stdout_has("not a duration");
}

#[test]
fn the_table_shows_trends_bands_and_cites_the_report() {
    let s = setup();
    s.dora(&["group:payments"])
        .ok()
        .stdout_has("DORA keys over 30d (2026-11-01 → 2026-12-01), environment production")
        .stdout_has("1.6/week ↑ high")
        .stdout_has("4h / 36.2h ↓ elite")
        .stdout_has("62% (5/8) ↑ low")
        .stdout_has("2.2h high")
        .stdout_has("Bands (DORA, Accelerate State of DevOps Report 2023, performance clusters)")
        .stdout_has("group:default/payments")
        .stdout_has("arrows compare with the previous 30d (2026-10-02 → 2026-11-01)");
}

#[test]
fn csv_has_one_row_per_entity_and_team() {
    let s = setup();
    let run = s.dora(&["-o", "csv"]);
    run.ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "scope,name,deployments_per_day,deployment_frequency_band,lead_time_median_hours,lead_time_p90_hours,lead_time_band,change_failure_rate_percent,change_failure_rate_band,recovery_time_median_hours,recovery_time_band,unknown");
    assert_eq!(
        lines[1],
        "entity,component:default/ledger,0.2333,high,4.0000,36.1667,elite,62.5000,low,2.1667,high,"
    );
    assert!(lines[2].starts_with("entity,component:default/billing,unknown,unknown,unknown,unknown,unknown,unknown,unknown,unknown,unknown,deployment_frequency: no successful"), "{}", lines[2]);
    assert!(
        lines[3].starts_with("team,group:default/payments,0.2333,high,"),
        "{}",
        lines[3]
    );
    assert_eq!(lines.len(), 4);
}

#[test]
fn bad_flag_values_are_usage_errors() {
    let s = setup();
    for args in [
        &["--window", "garbage"][..],
        &["--window", "0d"],
        &["--window", "5y"],
        &["-o", "yaml"],
    ] {
        s.dora(args).code(2);
    }
    s.dora(&["--window", "garbage"])
        .code(2)
        .stderr_has("'garbage' is not a duration like 30d");
    s.dora(&["nosuch"]).code(3);
    assert!(s.gh.seen().is_empty());
}

#[test]
fn a_scorecard_reads_the_keys_as_live_dora_facts() {
    let s = setup();
    // The example scorecard, as a catalog would hold it.
    let card = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/dora/delivery.yaml"
    ))
    .unwrap();
    std::fs::write(
        std::path::Path::new(s.repo.path()).join("delivery.yaml"),
        card,
    )
    .unwrap();
    let score = |name: &str| {
        s.env
            .run([
                "--catalog",
                s.repo.path(),
                "score",
                name,
                "--scorecard",
                "delivery",
                "-o",
                "json",
            ])
            .json()
    };
    let doc = score("ledger");
    // ledger (hand-computed above): 7/30 per day passes weekly; 62.5 %
    // failures fail bronze; recovery (high) and lead time (elite) pass;
    // high frequency is not elite.
    let states: Vec<(String, String)> = doc["results"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().into(),
                r["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = [
        ("deploys-weekly", "pass"),
        ("failures-contained", "fail"),
        ("recovers-within-a-day", "pass"),
        ("elite-lead-time", "pass"),
        ("elite-frequency", "fail"),
    ];
    assert_eq!(
        states,
        want.map(|(a, b)| (a.to_string(), b.to_string())),
        "{doc:#}"
    );
    assert_eq!(doc["results"][0]["level"], Value::Null);
    // billing's keys are unknown, with the reason, not failed.
    let text = score("billing").to_string();
    assert!(
        text.contains("no successful deployments to production in the window"),
        "{text}"
    );
}

#[test]
fn fake_payloads_keep_the_official_shapes() {
    let pairs = [
        (json!([deployment(&LEDGER[0])]), "gh/deployments.json"),
        (
            json!([status(1, &("success", NOW))]),
            "gh/deployment_statuses.json",
        ),
        (json!([pull(1, "x", Some(NOW), NOW)]), "gh/pulls.json"),
        (json!([commit(&("a", NOW))]), "gh/commits.json"),
        (
            json!({"incidents": [incident("P", NOW, Some(NOW))], "limit": 1, "offset": 0, "more": false}),
            "pd/incidents.json",
        ),
    ];
    let mut problems = Vec::new();
    for (ours, official) in pairs {
        let (mut a, mut b) = (Default::default(), Default::default());
        shape(&ours, String::new(), &mut a);
        shape(&example(official), String::new(), &mut b);
        for (path, kind) in &a {
            match b.get(path) {
                Some(t) if t == kind || *kind == "null" || *t == "null" => {}
                other => problems.push(format!("{official}: {path} {kind} vs {other:?}")),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn release(id: u64, tag: &str, published: &str, draft: bool) -> Value {
    json!({
        "url": format!("https://api.github.com/repos/acme/billing/releases/{id}"),
        "html_url": format!("https://github.com/acme/billing/releases/{tag}"),
        "id": id, "node_id": "MDc6UmVsZWFzZTE=", "tag_name": tag, "target_commitish": "main",
        "name": tag, "body": "", "draft": draft, "prerelease": false,
        "created_at": published, "published_at": published,
    })
}

#[test]
fn without_deployments_the_releases_fallback_counts_published_releases() {
    let s = setup_with("dora:\n  window: 30d\n  fallback: releases\n");
    // Newest first: a draft (never counted), two releases in the window,
    // one before the horizon (the base of the first comparison).
    s.gh.route(
        "/repos/acme/billing/releases",
        Reply::json(json!([
            release(4, "v4", "2026-11-29T10:00:00Z", true),
            release(3, "v3", "2026-11-20T10:00:00Z", false),
            release(2, "v2", "2026-11-10T10:00:00Z", false),
            release(1, "v1", "2026-08-01T10:00:00Z", false),
        ])),
    );
    for (range, authored) in [
        ("v1...v2", "2026-11-09T10:00:00Z"),
        ("v2...v3", "2026-11-19T22:00:00Z"),
    ] {
        compare(&s.gh, "acme/billing", range, &[("x", authored)]);
    }
    let doc = dora_json(&s, &["billing"]);
    let billing = entity(&doc, "component:default/billing");
    assert_eq!(billing["source"], "releases");
    assert_eq!(billing["deployment_frequency"]["count"], 2, "{billing:#}");
    close(&billing["deployment_frequency"]["value"], 2.0 / 30.0);
    // Lead times 24h and 12h: median 18h.
    close(&billing["lead_time"]["value"], 64_800.0);
    // Still no PagerDuty service: unknown, not zero.
    assert_eq!(
        billing["change_failure_rate"]["unknown"],
        "no pagerduty.com/service-id annotation"
    );
}

/// The official Argo CD example (`ex/argo/app.json`, application
/// `guestbook`) has two syncs in its history: `aaaa` deployed 2024-05-01
/// 10:00 and `53e28ff…` 2024-05-02 11:30 (started 11:29:40).
const GUESTBOOK_SECOND: &str = "53e28ff20cc530b9ada2173fbbd64d48338583ba";

/// billing has no GitHub deployments; `fallback: argocd` reads its Argo CD
/// application served from the official example.
fn argo_setup() -> (Setup, FakeApi) {
    let argo = FakeApi::start();
    argo.route(
        "/api/v1/applications/guestbook",
        Reply::json(example("argo/app.json")),
    );
    let s = build(
        "dora:\n  window: 30d\n  fallback: argocd\n",
        &format!("  argocd:\n    base_url: {}\n", argo.base),
        "    argocd/app-name: guestbook\n",
    );
    // The second sync shipped one commit authored six hours before it.
    compare(
        &s.gh,
        "acme/billing",
        &format!("aaaa...{GUESTBOOK_SECOND}"),
        &[(GUESTBOOK_SECOND, "2024-05-02T05:30:00Z")],
    );
    (s, argo)
}

#[test]
fn without_deployments_the_argocd_fallback_counts_the_sync_history() {
    let (s, argo) = argo_setup();
    // Window [2024-04-10, 2024-05-10): both syncs, 2 in 30 days; the
    // previous window has none. Lead time: the first sync has nothing to
    // compare with; the second shipped one commit 6 h (21600 s) before.
    let doc = s.json_by(&engineer("2024-05-10T00:00:00Z"), false, &["billing"]);
    let billing = entity(&doc, "component:default/billing");
    assert_eq!(billing["source"], "argocd", "{billing:#}");
    let df = &billing["deployment_frequency"];
    assert_eq!(df["count"], 2, "{df:#}");
    close(&df["value"], 2.0 / 30.0);
    assert_eq!(df["previous"], Value::Null, "{df:#}");
    let lt = &billing["lead_time"];
    assert_eq!(lt["count"], 1, "{lt:#}");
    close(&lt["value"], 21_600.0);
    // GitHub was asked for deployments first (none), then Argo CD once,
    // with its own token.
    assert_eq!(s.gh.seen_at("/repos/acme/billing/deployments").len(), 1);
    let asked = argo.seen_at("/api/v1/applications/guestbook");
    assert_eq!(asked.len(), 1);
    assert_eq!(
        asked[0].header("authorization"),
        Some("Bearer argo_dora0123456789")
    );
    // ledger has deployments: its source stays GitHub's.
    let doc = s.json_by(&engineer("2024-05-10T00:00:00Z"), false, &[]);
    assert_eq!(
        entity(&doc, "component:default/ledger")["source"],
        "deployments"
    );

    // Window [2024-05-01 12:00, 2024-05-31 12:00): the first sync (05-01
    // 10:00) falls in the previous window: 1 and 1 in 30 days, flat.
    let doc = s.json_by(&engineer("2024-05-31T12:00:00Z"), false, &["billing"]);
    let df = &entity(&doc, "component:default/billing")["deployment_frequency"];
    assert_eq!(df["count"], 1, "{df:#}");
    close(&df["value"], 1.0 / 30.0);
    close(&df["previous"], 1.0 / 30.0);
}

#[test]
fn the_argocd_fallback_without_its_integration_or_annotation_says_why() {
    let s = setup_with("dora:\n  window: 30d\n  fallback: argocd\n");
    let doc = dora_json(&s, &["billing"]);
    assert_eq!(
        entity(&doc, "component:default/billing")["deployment_frequency"]["unknown"],
        "dora.fallback is argocd but no argocd integration is configured"
    );
    let (s, _argo) = argo_setup();
    s.repo.write(
        "components.yaml",
        component("billing", "    github.com/project-slug: acme/billing\n"),
    );
    s.repo.commit("no Argo CD application");
    let doc = dora_json(&s, &["billing"]);
    assert_eq!(
        entity(&doc, "component:default/billing")["deployment_frequency"]["unknown"],
        "no argocd/app-name annotation for the Argo CD fallback"
    );
}

/// `$XDG_CACHE_HOME/idp/live/<integration>` of `env`.
fn live_cache(env: &TestEnv, integration: &str) -> std::path::PathBuf {
    let (_, cache) = env
        .hermetic_vars()
        .into_iter()
        .find(|(k, _)| *k == "XDG_CACHE_HOME")
        .unwrap();
    std::path::Path::new(&cache)
        .join("idp/live")
        .join(integration)
}

#[test]
fn warm_runs_read_each_entitys_inputs_whole_and_ask_again_what_failed() {
    let s = setup();
    // billing's pull requests cannot be listed: its reverts are unknown.
    s.gh.route("/repos/acme/billing/pulls", Reply::status(404));
    let first = dora_json(&s, &[]);
    assert!(
        entity(&first, "component:default/billing")["change_failure_rate"]["unknown"]
            .as_str()
            .is_some()
    );
    let asked = s.gh.seen().len();
    assert_eq!(s.pd.seen().len(), 1);
    // Within the TTL: ledger's inputs come whole from one cached file;
    // billing's failed request is asked again (its other answers are
    // cached), so a passing failure does not stick for the TTL.
    dora_json(&s, &[]);
    let again: Vec<String> = s.gh.seen()[asked..].iter().map(|r| r.url.clone()).collect();
    assert_eq!(again.len(), 1, "{again:?}");
    assert!(again[0].contains("/repos/acme/billing/pulls"), "{again:?}");
    assert_eq!(s.pd.seen().len(), 1);
    // Without the answers themselves, ledger's keys still read from its
    // cached inputs: the hand-computed values, from the cache.
    for api in ["github", "pagerduty"] {
        std::fs::remove_dir_all(live_cache(&s.env, api)).unwrap();
    }
    let doc = s.json_by(&s.env, true, &["ledger"]);
    let ledger = entity(&doc, "component:default/ledger");
    assert_ledger(ledger);
    assert_eq!(ledger["data"]["origin"], "cache");
    // --refresh asks again.
    let before = s.gh.seen().len();
    s.env
        .run(["--catalog", s.repo.path(), "--refresh", "dora", "ledger"])
        .ok();
    assert!(s.gh.seen().len() > before + 10);
}
