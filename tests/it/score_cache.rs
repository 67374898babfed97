//! The score cache (`$XDG_CACHE_HOME/idp/score/`): a warm `idp score` prints
//! exactly what a cold one prints, in every format, and a changed entity,
//! relation, rule, fact or day re-evaluates exactly the results it touches.
//! `-v` reports "score cache: H of N results reused, E evaluated", which
//! is how these tests see hits and misses.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::json;

use crate::common::{CatalogBuilder, Repo, TestEnv};
use crate::fake_api::{FakeApi, Reply};

const NOW: &str = "2026-11-29T00:00:00Z";

const ORG: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  profile: { displayName: Team A }
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-b
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: alice
spec:
  profile: { displayName: Alice }
  memberOf: [team-a]
";

fn component(name: &str, owner: &str, lifecycle: &str, depends: &[&str]) -> String {
    let mut s = format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  title: The {name}\nspec:\n  type: service\n  lifecycle: {lifecycle}\n  owner: {owner}\n"
    );
    if !depends.is_empty() {
        s.push_str(&format!("  dependsOn: [{}]\n", depends.join(", ")));
    }
    s
}

/// Relations, a message template, a deadline, an expiring exemption and a gate.
const READY: &str = "\
apiVersion: idp.dev/v1alpha1
kind: Scorecard
metadata:
  name: ready
spec:
  appliesTo: { kinds: [Component] }
  gate: { minLevel: bronze }
  levels: [{ id: bronze }, { id: silver }, { id: gold }]
  rules:
    - id: owned
      level: bronze
      check: 'entity.relations.exists(r, r.type == \"ownedBy\")'
    - id: production
      level: bronze
      check: 'entity.spec.lifecycle == \"production\"'
      message: '{{ entity.metadata.name }} is {{ entity.spec.lifecycle }}.'
    - id: depended-on
      level: silver
      check: 'entity.relations.exists(r, r.type == \"dependencyOf\")'
      docs: https://wiki.test/deps
    - id: tagged
      level: gold
      check: 'has(entity.metadata.tags)'
    - id: annotated
      level: gold
      enforceFrom: 2027-01-31
      check: 'has(entity.metadata.annotations)'
  exemptions:
    - { rule: tagged, entities: [component:default/billing], reason: ADR-42, expires: 2027-03-31 }
";

/// A rule that reads the clock.
const CLOCK: &str = "\
apiVersion: idp.dev/v1alpha1
kind: Scorecard
metadata:
  name: clock
spec:
  appliesTo: { kinds: [Component] }
  levels: [{ id: current }]
  rules:
    - id: before-sunset
      level: current
      check: 'now < timestamp(\"2026-12-01T00:00:00Z\")'
";

const PEOPLE: &str = "\
apiVersion: idp.dev/v1alpha1
kind: Scorecard
metadata:
  name: people
spec:
  appliesTo: { kinds: [User, Group] }
  levels: [{ id: named }]
  rules:
    - id: display-name
      level: named
      check: 'has(entity.spec.profile) && has(entity.spec.profile.displayName)'
";

/// 3 components × (ready, clock) + 3 people × people = 9 results.
fn catalog(env: &TestEnv) -> Repo {
    CatalogBuilder::new(env.dir("cat"))
        .file("idp.yaml", "exclude: []\n")
        .file("org.yaml", ORG)
        .file(
            "svc/api-gw.yaml",
            component("api-gw", "team-a", "production", &["component:billing"]),
        )
        .file(
            "svc/billing.yaml",
            component("billing", "team-b", "production", &[]),
        )
        .file(
            "svc/search.yaml",
            component("search", "team-b", "experimental", &[]),
        )
        .file("scorecards/ready.yaml", READY)
        .file("scorecards/clock.yaml", CLOCK)
        .file("scorecards/people.yaml", PEOPLE)
        .build()
}

/// `idp score` output (code, stdout) with no cache at all: index and score
/// cache removed first.
fn cold(env: &TestEnv, repo: &Repo, args: &[&str]) -> (i32, String) {
    let _ = std::fs::remove_dir_all(env.cache.join("idp"));
    score(env, repo, args).0
}

/// `idp -v score ARGS`: (code, stdout) and the cache note.
fn score(env: &TestEnv, repo: &Repo, args: &[&str]) -> ((i32, String), String) {
    let mut argv = vec!["-v", "--catalog", repo.path(), "score"];
    argv.extend_from_slice(args);
    let out = env.command().args(&argv).output().expect("runs idp");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let note = stderr
        .lines()
        .find(|l| l.starts_with("score cache: "))
        .unwrap_or_else(|| panic!("no cache note in stderr:\n{stderr}"))
        .to_string();
    (
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ),
        note,
    )
}

fn note(reused: usize, total: usize) -> String {
    format!(
        "score cache: {reused} of {total} results reused, {} evaluated",
        total - reused
    )
}

#[test]
fn warm_output_is_byte_identical_to_cold_in_every_format() {
    let env = TestEnv::at(NOW);
    let repo = catalog(&env);
    for format in ["table", "json", "yaml", "junit", "markdown", "sarif"] {
        let args = ["-o", format];
        let first = cold(&env, &repo, &args);
        assert_eq!(first.0, 1, "the gate fails on search ({format})");
        assert!(!first.1.is_empty(), "{format}");
        // The index is warm now too; the score cache is filled by this run.
        let (warm, n) = score(&env, &repo, &args);
        assert_eq!(n, note(9, 9), "{format}");
        assert_eq!(warm, first, "{format}: warm output differs from cold");
        // --unknown fail only changes how stored states are summarised.
        let (strict, n) = score(&env, &repo, &["--unknown", "fail", "-o", format]);
        assert_eq!(n, note(9, 9), "{format}");
        assert_eq!(strict, first, "{format}");
        // Scoring some entities reuses their results.
        let (some, n) = score(&env, &repo, &["search", "alice", "-o", format]);
        assert_eq!(n, note(3, 3), "{format}");
        assert_eq!(some, cold(&env, &repo, &["search", "alice", "-o", format]));
    }
}

#[test]
fn an_edited_entity_is_evaluated_again_and_nothing_else() {
    let env = TestEnv::at(NOW);
    let repo = catalog(&env);
    let args = ["-o", "json"];
    cold(&env, &repo, &args);
    assert_eq!(score(&env, &repo, &args).1, note(9, 9));
    repo.write(
        "svc/search.yaml",
        component("search", "team-b", "production", &[]),
    );
    let (warm, n) = score(&env, &repo, &args);
    // search under ready and clock.
    assert_eq!(n, note(7, 9));
    assert!(
        warm.1.contains("\"component:default/search\""),
        "{}",
        warm.1
    );
    assert_eq!(warm, cold(&env, &repo, &args));
    assert_eq!(warm.0, 0, "search is production now: the gate passes");
}

#[test]
fn a_new_relation_re_evaluates_both_ends() {
    let env = TestEnv::at(NOW);
    let repo = catalog(&env);
    let args = ["-o", "json"];
    cold(&env, &repo, &args);
    score(&env, &repo, &args);
    // audit depends on search (search gains dependencyOf) and team-a owns it
    // (team-a gains ownerOf): audit ×2, search ×2 and team-a ×1 are new.
    repo.write(
        "svc/audit.yaml",
        component("audit", "team-a", "production", &["component:search"]),
    );
    let (warm, n) = score(&env, &repo, &args);
    assert_eq!(n, note(6, 11));
    assert_eq!(warm, cold(&env, &repo, &args));
    let v: serde_json::Value = serde_json::from_str(&warm.1).expect("json");
    let search = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["entity"] == "component:default/search" && r["scorecard"] == "ready")
        .expect("search scored");
    assert_eq!(search["rules"][2]["state"], "pass", "{search}");
}

#[test]
fn a_changed_rule_re_evaluates_its_scorecard_only() {
    let env = TestEnv::at(NOW);
    let repo = catalog(&env);
    let args = ["-o", "table"];
    cold(&env, &repo, &args);
    score(&env, &repo, &args);
    repo.write(
        "scorecards/people.yaml",
        PEOPLE.replace("has(entity.spec.profile) && ", ""),
    );
    let (warm, n) = score(&env, &repo, &args);
    assert_eq!(n, note(6, 9));
    assert_eq!(warm, cold(&env, &repo, &args));
    assert!(
        warm.1.contains("error"),
        "team-b has no profile: {}",
        warm.1
    );
}

#[test]
fn the_clock_invalidates_what_reads_it_and_deadlines_when_crossed() {
    let mut env = TestEnv::at(NOW);
    let repo = catalog(&env);
    let args = ["-o", "json"];
    cold(&env, &repo, &args);
    assert_eq!(score(&env, &repo, &args).1, note(9, 9));
    // A day later: only `clock` (it reads `now`) runs again; ready's
    // deadline and exemption are still on the same side.
    env.env("IDP_NOW", "2026-11-30T00:00:00Z");
    let (warm, n) = score(&env, &repo, &args);
    assert_eq!(n, note(6, 9));
    assert_eq!(warm, cold(&env, &repo, &args));
    // Past enforceFrom and the exemption's expiry: ready runs again too.
    env.env("IDP_NOW", "2027-04-01T00:00:00Z");
    let before = score(&env, &repo, &args);
    assert_eq!(before.1, note(3, 9));
    let v: serde_json::Value = serde_json::from_str(&before.0 .1).expect("json");
    let billing = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["entity"] == "component:default/billing" && r["scorecard"] == "ready")
        .expect("billing scored")
        .clone();
    assert_eq!(billing["rules"][3]["state"], "fail", "{billing}");
    assert_eq!(billing["rules"][4]["state"], "fail", "{billing}");
    assert_eq!(before.0, cold(&env, &repo, &args));
    // Without a pinned clock the `now` scorecard is never served from the cache.
    let free = TestEnv::new();
    let repo = catalog(&free);
    let _ = cold(&free, &repo, &args);
    let (_, n) = score(&free, &repo, &args);
    assert_eq!(n, note(6, 9));
}

#[test]
fn a_damaged_cache_is_rebuilt_never_misread() {
    let env = TestEnv::at(NOW);
    let repo = catalog(&env);
    let args = ["-o", "json"];
    let first = cold(&env, &repo, &args);
    score(&env, &repo, &args);
    let dir = env.cache.join("idp/score");
    let file = std::fs::read_dir(&dir)
        .expect("score cache dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "cache"))
        .expect("a cache file");
    let good = std::fs::read(&file).expect("read");
    let damages: Vec<Vec<u8>> = vec![
        good[..good.len() / 2].to_vec(),
        {
            let mut b = good.clone();
            let mid = b.len() / 2;
            b[mid] ^= 0x01;
            b
        },
        Vec::new(),
        b"idpscore garbage".to_vec(),
    ];
    for bad in damages {
        std::fs::write(&file, &bad).expect("damage");
        let out = env
            .command()
            .args(["-v", "--catalog", repo.path(), "score", "-o", "json"])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("is damaged") || bad.is_empty(), "{stderr}");
        assert!(stderr.contains(&note(0, 9)), "{stderr}");
        assert_eq!(
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned()
            ),
            first
        );
        // Rebuilt: the next run is warm again.
        assert_eq!(score(&env, &repo, &args).1, note(9, 9));
    }
}

#[test]
fn scorecards_that_read_files_are_not_cached() {
    let env = TestEnv::at(NOW);
    let card = "\
apiVersion: idp.dev/v1alpha1
kind: Scorecard
metadata:
  name: docs
spec:
  appliesTo: { kinds: [Component] }
  levels: [{ id: documented }]
  rules:
    - id: readme
      level: documented
      check: 'file_exists(\"README.md\")'
";
    let repo = CatalogBuilder::new(env.dir("cat"))
        .file("idp.yaml", "exclude: []\n")
        .file("org.yaml", ORG)
        .file(
            "svc/a/catalog-info.yaml",
            component("a", "team-a", "production", &[]),
        )
        .file("scorecards/docs.yaml", card)
        .file("scorecards/people.yaml", PEOPLE)
        .build();
    let args = ["-o", "json"];
    let first = cold(&env, &repo, &args);
    assert!(first.1.contains("\"fail\""), "{}", first.1);
    // Only people's 3 results are cached; the README appearing counts at once.
    assert_eq!(score(&env, &repo, &args).1, note(3, 3));
    repo.write("svc/a/README.md", "# A\n");
    let (warm, n) = score(&env, &repo, &args);
    assert_eq!(n, note(3, 3));
    assert!(warm.1.contains("\"pass\""), "{}", warm.1);
    assert_eq!(warm, cold(&env, &repo, &args));
}

/// GitHub answering for acme/payments with `prs` open pull requests.
fn github(fake: &FakeApi, prs: Arc<AtomicUsize>) {
    fake.route(
        "/repos/acme/payments",
        Reply::json(json!({"full_name": "acme/payments", "html_url": "https://github.com/acme/payments",
            "default_branch": "main", "archived": false})),
    )
    .route("/repos/acme/payments/commits", Reply::json(json!([])))
    .route_fn("/repos/acme/payments/pulls", move |_, _| {
        let n = prs.load(Ordering::SeqCst);
        Reply::json(json!([{"number": 1}])).header(
            "link",
            &format!(
                r#"<http://x/repos/acme/payments/pulls?state=open&per_page=1&page=2>; rel="next", <http://x/repos/acme/payments/pulls?state=open&per_page=1&page={n}>; rel="last""#
            ),
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

#[test]
fn changed_live_facts_are_never_served_stale() {
    let mut env = TestEnv::at(NOW);
    env.env("GITHUB_TOKEN", "gh-token");
    let gh = FakeApi::start();
    let prs = Arc::new(AtomicUsize::new(12));
    github(&gh, prs.clone());
    let card = "\
apiVersion: idp.dev/v1alpha1
kind: Scorecard
metadata:
  name: live-health
spec:
  appliesTo: { kinds: [Component] }
  levels: [{ id: ok }]
  rules:
    - id: few-prs
      level: ok
      check: live.github.open_pull_requests < 20
";
    let repo = CatalogBuilder::new(env.dir("cat"))
        .file(
            "idp.yaml",
            format!(
                "exclude: []\nintegrations:\n  github: {{ base_url: {} }}\n",
                gh.base
            ),
        )
        .file("org.yaml", ORG)
        .file(
            "svc/payments.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: payments\n  annotations:\n    github.com/project-slug: acme/payments\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
        )
        .file(
            "svc/search.yaml",
            component("search", "team-b", "production", &[]),
        )
        .file("scorecards/live.yaml", card)
        .build();
    let args = ["-o", "json"];
    let (first, _) = score(&env, &repo, &args);
    assert!(first.1.contains("\"pass\""), "{}", first.1);
    // The same facts (from the live cache): all reused.
    assert_eq!(score(&env, &repo, &args).1, note(2, 2));
    // 30 open pull requests now; --refresh fetches them: payments runs again.
    prs.store(30, Ordering::SeqCst);
    let mut argv = vec!["--refresh"];
    argv.extend_from_slice(&args);
    let (fresh, n) = score(&env, &repo, &argv);
    assert_eq!(n, note(1, 2));
    assert!(!fresh.1.contains("\"pass\""), "{}", fresh.1);
    assert_eq!(fresh.0, 0);
    // And the next run (facts from the live cache again) agrees with it.
    let (again, n) = score(&env, &repo, &args);
    assert_eq!(n, note(2, 2));
    assert_eq!(again, fresh);
}
