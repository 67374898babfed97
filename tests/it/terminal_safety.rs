//! Untrusted text cannot take over a terminal or a CI log, and tokens never
//! show: a catalog whose descriptors carry OSC 0/8/52, CSI, ESC, C1, bidi
//! overrides and fake workflow commands in every field a person reads,
//! templates that log them, and API answers (commit messages, authors,
//! release tags, a 401 body echoing the Authorization header). Human output
//! shows visible escapes; JSON keeps the exact bytes; under GitHub Actions
//! no line starts a workflow command except idp's own annotations.

use serde_json::json;

use crate::common::{CatalogBuilder, Repo, TestEnv};
use crate::fake_api::{FakeApi, Reply};
use crate::tmux::Tmux;

/// Every kind of hostile sequence, as a YAML double-quoted escape string:
/// OSC 0 (window title), OSC 8 (hyperlink), OSC 52 (clipboard), CSI, a
/// bare ESC, C1 CSI (U+009B), DEL, RLO (U+202E), and a newline followed by
/// workflow commands.
const HOSTILE_YAML: &str = r#"A\e]0;pwned-title\aB\e]8;;https://evil.example/\e\\click\e]8;;\e\\C\e]52;c;ZXZpbA==\aD\e[2J\e[31mE\eF\x9b31mG\x7fH\u202Egnp.exe\n::add-mask::x\n::error::pwned"#;

/// The same text as Rust sees it after YAML parsing.
const HOSTILE: &str = "A\x1b]0;pwned-title\x07B\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\C\x1b]52;c;ZXZpbA==\x07D\x1b[2J\x1b[31mE\x1bF\u{9b}31mG\x7fH\u{202e}gnp.exe\n::add-mask::x\n::error::pwned";

/// What a person must see instead: the sequences spelled out.
const VISIBLE: [&str; 6] = [
    "\\u{1b}]0;pwned-title\\u{7}",
    "\\u{1b}]8;;https://evil.example/",
    "\\u{1b}]52;c;ZXZpbA==",
    "\\u{1b}[2J",
    "\\u{9b}31m",
    "\\u{202e}gnp.exe",
];

fn org() -> String {
    format!(
        r#"apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: evil-team
  title: "Team {h}"
  description: "{h}"
spec:
  type: team
  profile:
    displayName: "Evil {h}"
    email: "evil{h}@example.com"
  children: []
  members: [mallory]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: mallory
spec:
  profile:
    displayName: "Mallory {h}"
    email: "mallory{h}@example.com"
  memberOf: [evil-team]
"#,
        h = HOSTILE_YAML
    )
}

fn components() -> String {
    format!(
        r#"apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: hostile
  title: "Hostile {h}"
  description: "Described {h}"
  annotations:
    github.com/project-slug: acme/hostile
    idp.dev/note: "note {h}"
  links:
    - url: https://example.com/runbook
      title: "Runbook {h}"
spec:
  type: service
  lifecycle: production
  owner: evil-team
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: victim
  title: "Victim {h}"
spec:
  type: service
  lifecycle: production
  owner: evil-team
  dependsOn: [component:hostile]
"#,
        h = HOSTILE_YAML
    )
}

/// An entity whose name is the hostile text: `validate` echoes it.
fn invalid_name() -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: \"bad{HOSTILE_YAML}\"\nspec:\n  type: service\n  lifecycle: production\n  owner: evil-team\n"
    )
}

fn scorecard() -> String {
    format!(
        r#"apiVersion: idp.dev/v1alpha1
kind: Scorecard
metadata:
  name: ready
  title: "Ready {h}"
spec:
  appliesTo:
    kinds: [Component]
  levels:
    - {{ id: bronze, title: "Bronze {h}" }}
  rules:
    - id: described
      level: bronze
      check: 'false'
      message: "Fix {{{{ entity.metadata.title }}}}"
"#,
        h = HOSTILE_YAML
    )
}

/// The hostile catalog, its last commit by a hostile author with a
/// hostile message (for `history`).
fn hostile_catalog(env: &TestEnv, extra_config: &str) -> Repo {
    let repo = CatalogBuilder::new(env.dir("catalog"))
        .file("idp.yaml", format!("exclude: []\n{extra_config}"))
        .file("org.yaml", org())
        .file("components.yaml", components())
        .file("scorecards/ready.yaml", scorecard())
        .build();
    repo.write(
        "components.yaml",
        components().replace(
            "lifecycle: production\n  owner: evil-team\n---",
            "lifecycle: experimental\n  owner: evil-team\n---",
        ),
    );
    repo.commit_as(
        &format!("Subject {HOSTILE}\n\nbody"),
        "Eve\u{1b}]0;pwned-title\u{7}\u{202e}",
        1_750_000_000,
    );
    repo
}

/// Characters that must never reach a terminal raw.
fn forbidden(c: char) -> bool {
    (c < ' ' && c != '\n' && c != '\t')
        || ('\u{7f}'..='\u{9f}').contains(&c)
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
}

#[track_caller]
fn assert_safe(what: &str, text: &str) {
    if let Some((i, c)) = text.char_indices().find(|(_, c)| forbidden(*c)) {
        panic!("{what}: raw {c:?} at byte {i} reaches the terminal:\n{text}");
    }
}

#[track_caller]
fn assert_visible(what: &str, text: &str) {
    for v in VISIBLE {
        assert!(text.contains(v), "{what}: {v:?} not shown:\n{text}");
    }
}

/// No line starts a workflow command (after trimming, as the runner does),
/// except idp's own `::error file=…` annotations, and no line holds the
/// legacy `##[`.
#[track_caller]
fn assert_no_workflow_commands(what: &str, text: &str) {
    for line in text.lines() {
        let t = line.trim_start();
        let own = t.starts_with("::error file=") || t.starts_with("::warning file=");
        assert!(
            !t.starts_with("::") || own,
            "{what}: a data line starts a workflow command: {line:?}\n{text}"
        );
        assert!(!line.contains("##["), "{what}: legacy command in {line:?}");
        if own {
            assert!(!t.contains("::add-mask::") && !t.contains("\n"));
        }
    }
}

fn human_commands() -> Vec<Vec<&'static str>> {
    vec![
        vec!["list"],
        vec!["show", "hostile"],
        vec!["show", "mallory"],
        vec!["who-owns", "hostile"],
        vec!["impact", "hostile"],
        vec!["graph", "hostile"],
        vec!["graph", "hostile", "-o", "mermaid"],
        vec!["graph", "hostile", "-o", "dot"],
        vec!["score"],
        vec!["history", "hostile"],
    ]
}

#[test]
fn human_output_shows_escapes_and_never_the_raw_sequences() {
    let env = TestEnv::new();
    let repo = hostile_catalog(&env, "");
    for args in human_commands() {
        let mut full = vec!["--catalog", repo.path(), "--offline"];
        full.extend(&args);
        let run = env.run(&full);
        assert!(run.code == 0 || run.code == 1, "{args:?}: {run:?}");
        let what = args.join(" ");
        assert_safe(&what, &run.stdout);
        assert_safe(&what, &run.stderr);
        assert!(
            run.stdout.contains("\\u{1b}]0;pwned-title"),
            "{what}: no visible escape:\n{}",
            run.stdout
        );
    }
    // The page of the entity shows every field's escapes, and single-line
    // fields keep their newline visible instead of starting a line.
    let show = env.run(["--catalog", repo.path(), "--offline", "show", "hostile"]);
    show.ok();
    assert_visible("show", &show.stdout);
    assert!(show.stdout.contains("Runbook A\\u{1b}"), "{}", show.stdout);
    assert!(show.stdout.contains("note A\\u{1b}"), "{}", show.stdout);
    assert!(show.stdout.contains("gnp.exe⏎::add-mask::x⏎::error::pwned"));
    let owners = env.run(["--catalog", repo.path(), "--offline", "who-owns", "hostile"]);
    assert!(
        owners.stdout.contains("evilA\\u{1b}]0;pwned-title"),
        "{}",
        owners.stdout
    );
    let history = env.run(["--catalog", repo.path(), "history", "hostile"]);
    history.ok();
    assert!(history
        .stdout
        .contains("Eve\\u{1b}]0;pwned-title\\u{7}\\u{202e}"));
}

#[test]
fn validate_echoes_invalid_names_escaped() {
    let env = TestEnv::new();
    let repo = hostile_catalog(&env, "");
    repo.write("bad.yaml", invalid_name());
    let run = env.run(["--catalog", repo.path(), "validate"]);
    run.code(1);
    assert_safe("validate", &run.stdout);
    assert_safe("validate", &run.stderr);
    assert!(
        run.stdout.contains("badA\\u{1b}]0;pwned-title"),
        "{}",
        run.stdout
    );
    // and loose files, outside a catalog
    let run = env.run(["validate", repo.dir.join("bad.yaml").to_str().unwrap()]);
    assert_safe("validate FILE", &run.stdout);
    assert_safe("validate FILE", &run.stderr);
}

#[test]
fn json_keeps_the_exact_bytes() {
    let env = TestEnv::new();
    let repo = hostile_catalog(&env, "");
    let run = env.run([
        "--catalog",
        repo.path(),
        "--offline",
        "show",
        "hostile",
        "-o",
        "json",
    ]);
    run.ok();
    let v = run.json();
    assert_eq!(v["metadata"]["title"], format!("Hostile {HOSTILE}"));
    assert_eq!(
        v["metadata"]["annotations"]["idp.dev/note"],
        format!("note {HOSTILE}")
    );
    let list = env.run(["--catalog", repo.path(), "list", "-o", "yaml"]);
    assert!(list.stdout.contains("pwned-title"));
    let csv = env.run(["--catalog", repo.path(), "list", "-o", "csv"]);
    assert!(
        csv.stdout.contains(&format!("Hostile {HOSTILE}")),
        "{}",
        csv.stdout
    );
}

#[test]
fn under_github_actions_no_data_line_starts_a_workflow_command() {
    let mut env = TestEnv::new();
    env.env("GITHUB_ACTIONS", "true");
    let repo = hostile_catalog(&env, "");
    repo.write("bad.yaml", invalid_name());
    repo.write(
        "legacy.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: legacy\n  description: \"x ##[error]legacy\\n  ::warning file=forged.yaml,line=1,col=1::forged\"\nspec:\n  type: service\n  lifecycle: production\n  owner: evil-team\n",
    );
    for args in human_commands()
        .into_iter()
        .chain([vec!["show", "legacy"], vec!["validate"]])
    {
        let mut full = vec!["--catalog", repo.path(), "--offline"];
        full.extend(&args);
        let run = env.run(&full);
        let what = args.join(" ");
        assert_no_workflow_commands(&what, &run.stdout);
        assert_no_workflow_commands(&what, &run.stderr);
    }
    // idp's own annotations still work, with the data in them escaped.
    let run = env.run(["--catalog", repo.path(), "validate"]);
    run.code(1);
    let own: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error file="))
        .collect();
    assert!(!own.is_empty(), "{}", run.stdout);
    assert!(
        own.iter()
            .any(|l| l.contains("bad.yaml,line=") && l.contains("\\u{1b}]0;pwned-title")),
        "{own:#?}"
    );
    assert!(!run.stdout.contains("forged.yaml,line=1,col=1::forged\n"));
}

#[test]
fn template_titles_and_debug_log_messages_are_escaped() {
    let template = format!(
        r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: evil
  title: "Evil {h}"
  description: "Makes {h}"
spec:
  owner: group:default/evil-team
  type: service
  parameters:
    properties:
      name:
        title: "Name {h}"
        type: string
        default: evil
  steps:
    - id: log
      name: "Log {h}"
      action: debug:log
      input:
        message: "logged {h}"
"#,
        h = HOSTILE_YAML
    );
    let mut env = TestEnv::new();
    env.env("GITHUB_ACTIONS", "true");
    let repo = hostile_catalog(&env, "");
    repo.write("templates/evil/template.yaml", template);
    let out = env.root.join("out");
    let runs = [
        env.run(["--catalog", repo.path(), "scaffold", "list"]),
        env.run(["--catalog", repo.path(), "scaffold", "show", "evil"]),
        env.run([
            "--catalog",
            repo.path(),
            "scaffold",
            "evil",
            "--no-input",
            "--dry-run",
            "--output-dir",
            out.to_str().unwrap(),
        ]),
    ];
    for run in &runs {
        assert_safe("scaffold", &run.stdout);
        assert_safe("scaffold", &run.stderr);
        assert_no_workflow_commands("scaffold", &run.stdout);
        assert_no_workflow_commands("scaffold", &run.stderr);
    }
    assert!(
        runs[0].stdout.contains("Evil A\\u{1b}]0;pwned-title"),
        "{:?}",
        runs[0]
    );
    assert!(
        runs[1].stdout.contains("Log A\\u{1b}]0;pwned-title"),
        "{:?}",
        runs[1]
    );
    runs[2].ok();
    assert!(
        runs[2].stderr.contains("logged A\\u{1b}]0;pwned-title"),
        "{:?}",
        runs[2]
    );
}

const TOKEN: &str = "ghp_s3cr3tT0kenValue42";

/// GitHub answering with hostile commit messages, authors and release tags.
fn hostile_github() -> FakeApi {
    let api = FakeApi::start();
    let repo = "/repos/acme/hostile";
    api.route(
        repo,
        Reply::json(json!({"full_name": "acme/hostile", "html_url": "https://github.com/acme/hostile", "default_branch": "main", "archived": false, "open_issues_count": 0, "pushed_at": "2026-11-20T15:02:10Z"})),
    )
    .route(
        &format!("{repo}/commits"),
        Reply::json(json!([{
            "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
            "commit": {
                "author": {"name": format!("Author {HOSTILE}"), "email": "a@example.com", "date": "2026-11-20T15:02:10Z"},
                "message": format!("Commit {HOSTILE}")
            },
            "author": {"login": "attacker"}
        }])),
    )
    .route(
        &format!("{repo}/releases/latest"),
        Reply::json(json!({"tag_name": format!("v1{HOSTILE}"), "name": format!("Release {HOSTILE}"), "published_at": "2026-11-19T09:12:30Z", "html_url": "https://github.com/acme/hostile/releases/1"})),
    )
    .route(&format!("{repo}/pulls"), Reply::json(json!([])))
    .route(
        &format!("{repo}/actions/runs"),
        Reply::json(json!({"total_count": 0, "workflow_runs": []})),
    )
    .route(&format!("{repo}/deployments"), Reply::json(json!([])));
    api
}

#[test]
fn live_api_text_is_escaped_on_a_terminal_and_exact_in_json() {
    let api = hostile_github();
    let mut env = TestEnv::new();
    env.env("GITHUB_TOKEN", TOKEN);
    let config = format!(
        "integrations:\n  github:\n    base_url: {}\nlive:\n  deadline: 5s\n",
        api.base
    );
    let repo = hostile_catalog(&env, &config);
    for args in [["show", "hostile"], ["who-owns", "hostile"]] {
        let mut full = vec!["--catalog", repo.path()];
        full.extend(args);
        let run = env.run(&full);
        run.ok();
        let what = args.join(" ");
        assert_safe(&what, &run.stdout);
        assert_safe(&what, &run.stderr);
        assert!(
            run.stdout.contains("Commit A\\u{1b}]0;pwned-title"),
            "{what}:\n{}",
            run.stdout
        );
    }
    let show = env.run(["--catalog", repo.path(), "show", "hostile"]);
    assert!(
        show.stdout.contains("v1A\\u{1b}]0;pwned-title"),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout.contains("Author A\\u{1b}]0;pwned-title"),
        "{}",
        show.stdout
    );
    let json = env
        .run(["--catalog", repo.path(), "show", "hostile", "-o", "json"])
        .json();
    let facts = &json["live"]["github"]["facts"];
    // (idp keeps the first line of a commit message)
    let first_line = HOSTILE.lines().next().unwrap();
    assert_eq!(
        facts["latest_commit"]["message"],
        format!("Commit {first_line}"),
        "{facts:#}"
    );
    assert_eq!(
        facts["latest_release"]["tag"],
        format!("v1{HOSTILE}"),
        "{facts:#}"
    );
}

#[test]
fn a_token_echoed_by_a_server_is_never_printed() {
    let api = FakeApi::start();
    // A server that quotes the request's Authorization header back.
    api.route(
        "/repos/acme/hostile",
        Reply::status(401)
            .body(format!(
                r#"{{"message":"Bad credentials: got 'Bearer {TOKEN}' ({TOKEN})"}}"#
            ))
            .header("content-type", "application/json"),
    );
    let mut env = TestEnv::new();
    env.env("MY_GH_CREDS", TOKEN);
    let config = format!(
        "integrations:\n  github:\n    base_url: {}\n    token_env: MY_GH_CREDS\nlive:\n  deadline: 5s\n",
        api.base
    );
    let repo = hostile_catalog(&env, &config);
    let mut saw_redacted = false;
    for args in [
        vec!["show", "hostile"],
        vec!["show", "hostile", "-o", "json"],
        vec!["who-owns", "hostile"],
        vec!["who-owns", "hostile", "-o", "yaml"],
        vec!["enrich"],
        vec!["enrich", "-o", "json"],
        vec!["doctor"],
        vec!["doctor", "-o", "json"],
        vec!["--refresh", "show", "hostile", "-v"],
    ] {
        let mut full = vec!["--catalog", repo.path()];
        full.extend(&args);
        let run = env.run(&full);
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(
                !text.contains(TOKEN),
                "{args:?}: the token is on {stream}:\n{text}"
            );
            saw_redacted |= text.contains("[redacted]");
        }
    }
    assert!(saw_redacted, "the echoed token was never shown redacted");
    assert!(!api.seen().is_empty(), "the fake server was not asked");
    // Nor is it kept in the on-disk cache of live data.
    let cached = std::process::Command::new("grep")
        .args(["-rl", TOKEN])
        .arg(&env.cache)
        .output()
        .unwrap();
    assert!(
        cached.stdout.is_empty(),
        "token in the cache: {}",
        String::from_utf8_lossy(&cached.stdout)
    );
}

#[test]
fn a_descriptor_quoting_a_configured_token_shows_it_redacted() {
    let mut env = TestEnv::new();
    env.env("PAGERDUTY_TOKEN", TOKEN);
    let repo = hostile_catalog(&env, "");
    repo.write(
        "leak.yaml",
        format!("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: leak\n  description: token is {TOKEN}\nspec:\n  type: service\n  lifecycle: production\n  owner: evil-team\n"),
    );
    for args in [["show", "leak"], ["list", "-o"]] {
        let mut full = vec!["--catalog", repo.path(), "--offline"];
        full.extend(args);
        if args[1] == "-o" {
            full.push("json");
        }
        let run = env.run(&full);
        run.ok();
        assert!(!run.stdout.contains(TOKEN), "{args:?}:\n{}", run.stdout);
        assert!(
            run.stdout.contains("token is [redacted]"),
            "{args:?}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn a_real_terminal_keeps_its_title_and_shows_the_escapes() {
    let env = TestEnv::new();
    let repo = hostile_catalog(&env, "");
    let tmux = Tmux::idp(
        &env,
        &["--catalog", repo.path(), "--offline", "show", "hostile"],
        &[],
    );
    let screen = tmux.wait_for_text("EXIT=0");
    assert!(screen.contains("\\u{1b}]0;pwned-title"), "{screen}");
    assert!(screen.contains("\\u{202e}gnp.exe"), "{screen}");
    let title = tmux.pane_title();
    assert!(
        !title.contains("pwned"),
        "the window title was changed: {title:?}"
    );
}
