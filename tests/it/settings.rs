//! Settings resolved once in `main` and handed down: the run's timestamp
//! (`IDP_NOW`), tokens (`GITHUB_TOKEN`, `token_env:`) for `scaffold
//! --publish` and `--register --push`, and whether prompts can be shown.
//! Each test pins a behaviour the core used to decide by reading the
//! environment itself.

use crate::common::{CatalogBuilder, Repo, TestEnv, COMPONENTS, ORG};
use crate::fake_api::{FakeApi, Reply};

const SCORECARD: &str = "apiVersion: idp.dev/v1alpha1
kind: Scorecard
metadata:
  name: ready
spec:
  appliesTo:
    kinds: [Component]
  levels:
    - { id: bronze }
  rules:
    - id: owned
      level: bronze
      check: 'has(entity.spec.owner)'
";

fn scored_catalog(env: &TestEnv) -> Repo {
    CatalogBuilder::standard(env.dir("cat"))
        .file("scorecards/ready.yaml", SCORECARD)
        .build()
}

const BAD_NOW: &str = "IDP_NOW='tomorrow' is not a timestamp like 2026-11-29T00:00:00Z";

#[test]
fn a_bad_idp_now_is_a_usage_error_for_the_commands_that_score() {
    let mut env = TestEnv::new();
    let repo = scored_catalog(&env);
    env.env("IDP_NOW", "tomorrow");
    env.run(["--catalog", repo.path(), "score"])
        .code(2)
        .stderr_has(BAD_NOW);
    env.run(["--catalog", repo.path(), "show", "ledger"])
        .code(2)
        .stderr_has(BAD_NOW);
}

#[test]
fn commands_that_do_not_use_the_time_ignore_a_bad_idp_now() {
    let mut env = TestEnv::new();
    let repo = scored_catalog(&env);
    env.env("IDP_NOW", "tomorrow");
    // validate reads the date only to warn about expired exemptions: the
    // clock stands in, as it always did.
    env.run(["--catalog", repo.path(), "validate"]).ok();
    env.run(["--catalog", repo.path(), "list"])
        .ok()
        .stdout_has("ledger");
}

#[test]
fn a_good_idp_now_reaches_the_scorecards() {
    // An exemption that expires between two pinned dates: IDP_NOW decides.
    let exempt = format!(
        "{SCORECARD}    - id: tagged\n      level: bronze\n      check: 'has(entity.metadata.tags)'\n  exemptions:\n    - {{ rule: tagged, entities: [ledger, storefront], reason: ADR-7, expires: 2027-03-31 }}\n"
    );
    let mut env = TestEnv::new();
    let repo = CatalogBuilder::standard(env.dir("cat"))
        .file("scorecards/ready.yaml", exempt)
        .build();
    env.env("IDP_NOW", "2026-11-29T00:00:00Z");
    env.run(["--catalog", repo.path(), "validate"])
        .ok()
        .stdout_lacks("expired on 2027-03-31");
    let run = env.run(["--catalog", repo.path(), "score", "ledger", "-o", "json"]);
    run.ok();
    assert_eq!(run.json()["results"][0]["rules"][1]["state"], "exempt");

    env.env("IDP_NOW", "2027-04-01T00:00:00Z");
    env.run(["--catalog", repo.path(), "validate"])
        .ok()
        .stdout_has("expired on 2027-03-31");
}

// ------------------------------------------------------------- scaffold

/// A Backstage template with a parameter, a descriptor and a publish step.
const TEMPLATE: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: svc
spec:
  owner: group:default/payments
  type: service
  parameters:
    - required: [name]
      properties:
        name: { type: string }
  steps:
    - id: fetch
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{ parameters.name }}
    - id: publish
      action: publish:github
      input:
        repoUrl: github.com?owner=acme&repo=${{ parameters.name }}
        defaultBranch: trunk
"#;

const DESCRIPTOR: &str = "apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${{ values.name }}
spec:
  type: service
  lifecycle: experimental
  owner: group:default/payments
";

fn scaffold_catalog(env: &TestEnv, idp_yaml: &str) -> Repo {
    CatalogBuilder::new(env.root.join("catalog"))
        .file(
            "idp.yaml",
            format!("exclude: [\"templates/*/skeleton/**\"]\n{idp_yaml}"),
        )
        .file("org.yaml", ORG)
        .file("components.yaml", COMPONENTS)
        .file("templates/svc/template.yaml", TEMPLATE)
        .file("templates/svc/skeleton/catalog-info.yaml", DESCRIPTOR)
        .build()
}

fn scaffold(env: &TestEnv, cat: &Repo, extra: &[&str]) -> crate::common::Run {
    let out = env.root.join("out");
    let mut args = vec![
        "--catalog",
        cat.path(),
        "scaffold",
        "svc",
        "--output-dir",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    env.run(args)
}

/// A fake GitHub that creates `acme/orders` as a local bare repository.
fn github(env: &TestEnv) -> FakeApi {
    let api = FakeApi::start();
    let bare = env.root.join("remote/orders.git");
    git2::Repository::init_bare(&bare).unwrap();
    api.route("/user", Reply::json(serde_json::json!({ "login": "me" })));
    api.route(
        "/orgs/acme/repos",
        Reply::status(201).body(
            serde_json::json!({
                "clone_url": format!("file://{}", bare.display()),
                "html_url": "https://github.com/acme/orders",
            })
            .to_string(),
        ),
    );
    api
}

#[test]
fn publish_takes_the_token_from_the_variable_token_env_names() {
    let mut env = TestEnv::new();
    let api = github(&env);
    env.env("ACME_GH", "ghp_from_token_env");
    env.env("GITHUB_TOKEN", "ghp_not_this_one");
    let cat = scaffold_catalog(
        &env,
        &format!(
            "integrations:\n  github:\n    base_url: {}\n    token_env: ACME_GH\n",
            api.base
        ),
    );
    scaffold(
        &env,
        &cat,
        &["--no-input", "--publish", "--set", "name=orders"],
    )
    .ok()
    .stderr_has("publish: created https://github.com/acme/orders and pushed trunk to it");
    let created = api.seen_at("/orgs/acme/repos");
    assert_eq!(created.len(), 1, "{:?}", api.seen());
    assert_eq!(
        created[0].header("authorization"),
        Some("Bearer ghp_from_token_env")
    );
}

#[test]
fn a_blank_token_is_no_token_and_publish_stops_before_writing() {
    let mut env = TestEnv::new();
    let api = github(&env);
    env.env("GITHUB_TOKEN", "   ");
    let cat = scaffold_catalog(
        &env,
        &format!("integrations:\n  github:\n    base_url: {}\n", api.base),
    );
    scaffold(
        &env,
        &cat,
        &["--no-input", "--publish", "--set", "name=orders"],
    )
    .code(2)
    .stderr_has("no GitHub token: set GITHUB_TOKEN");
    assert!(api.seen().is_empty(), "{:?}", api.seen());
    assert!(!env.root.join("out").exists());
}

/// `scaffold --register --push` to an `origin` served over HTTP that asks
/// for credentials: what it was sent. With `github_here`, the catalog's
/// github integration lives on that server (GitHub Enterprise), so its
/// token may go there; without, the origin is some other host.
fn push_over_http(env: &TestEnv, github_here: bool) -> (crate::common::Run, Vec<Option<String>>) {
    let server = FakeApi::start();
    // Ask for credentials; refuse whatever comes (the push itself is not
    // the point, what it authenticated with is).
    server.route_fn("/acme/catalog.git/*", |seen, _| {
        if seen.header("authorization").is_some() {
            Reply::status(403)
        } else {
            Reply::status(401).header("www-authenticate", "Basic realm=\"git\"")
        }
    });
    let idp_yaml = if github_here {
        format!(
            "integrations:\n  github:\n    base_url: {}/api/v3\n",
            server.base
        )
    } else {
        String::new()
    };
    let cat = scaffold_catalog(env, &idp_yaml);
    cat.set_remote("origin", &format!("{}/acme/catalog.git", server.base));
    let run = scaffold(
        env,
        &cat,
        &["--no-input", "--set", "name=orders", "--register", "--push"],
    );
    let auth = server
        .seen()
        .iter()
        .map(|s| s.header("authorization").map(str::to_string))
        .collect();
    (run, auth)
}

#[test]
fn register_push_authenticates_with_github_token_from_the_settings() {
    let mut env = TestEnv::new();
    env.env("GITHUB_TOKEN", "ghp_settings_token");
    let (run, auth) = push_over_http(&env, true);
    assert_ne!(run.code, 0, "the server refuses the push");
    // base64("x-access-token:ghp_settings_token")
    assert!(
        auth.contains(&Some(
            "Basic eC1hY2Nlc3MtdG9rZW46Z2hwX3NldHRpbmdzX3Rva2Vu".to_string()
        )),
        "{auth:?}"
    );
    run.stdout_lacks("ghp_settings_token");
    assert!(!run.stderr.contains("ghp_settings_token"), "{}", run.stderr);
}

#[test]
fn register_push_without_a_token_sends_no_credentials() {
    let env = TestEnv::new();
    let (run, auth) = push_over_http(&env, true);
    assert_ne!(run.code, 0, "no credentials, no push");
    assert!(!auth.is_empty(), "the push reached the server");
    assert!(auth.iter().all(Option::is_none), "{auth:?}");
}

#[test]
fn off_a_terminal_scaffold_does_not_prompt_and_names_the_flags() {
    // No --no-input: stdin is not a terminal, so the settings say no prompts.
    let env = TestEnv::new();
    let cat = scaffold_catalog(&env, "");
    scaffold(&env, &cat, &[])
        .code(2)
        .stderr_has("no value for name and no terminal to ask on")
        .stderr_has("hint: pass --set name=…");
    assert!(!env.root.join("out").exists());
}

#[test]
fn register_push_keeps_the_github_token_from_other_hosts() {
    // The token is GitHub's: an origin elsewhere never sees it.
    let mut env = TestEnv::new();
    env.env("GITHUB_TOKEN", "ghp_settings_token");
    let (run, auth) = push_over_http(&env, false);
    assert_ne!(run.code, 0, "no credentials, no push");
    assert!(!auth.is_empty(), "the push reached the server");
    assert!(auth.iter().all(Option::is_none), "{auth:?}");
}
