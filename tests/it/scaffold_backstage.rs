//! `idp scaffold` with Backstage `kind: Template` entities: parameters
//! (typing, defaults, validation, dependencies, if/then), entity pickers
//! against the catalog, steps (if, each, outputs), the actions idp runs
//! locally, secrets, spec.output, --register/--push, prompts in a real
//! terminal (tmux), and the example templates of the acme catalog.

use std::path::{Path, PathBuf};

use crate::common::{acme, CatalogBuilder, Repo, TestEnv, COMPONENTS, ORG};
use crate::fake_api::{FakeApi, Reply};
use crate::tmux::Tmux;

/// A template using most features: typed parameters, a picker, a secret,
/// fetch:template with verbatim copies and a conditional file name, each,
/// if, fetch:plain, debug:log, publish and catalog:register, spec.output.
const SVC: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: svc
  title: Test service
spec:
  owner: group:default/payments
  type: service
  parameters:
    - title: Basics
      required: [name, owner]
      properties:
        name:
          title: Name
          type: string
          pattern: "^[a-z][a-z0-9-]*$"
          maxLength: 20
        owner:
          title: Owner
          type: string
          ui:field: OwnerPicker
          ui:options:
            catalogFilter:
              kind: Group
        tier:
          title: Tier
          type: string
          enum: [gold, silver]
          enumNames: [Gold, Silver]
          default: silver
        replicas:
          title: Replicas
          type: integer
          minimum: 1
          default: 2
        public:
          title: Public
          type: boolean
          default: false
        extras:
          title: Extras
          type: array
          items:
            type: string
          default: []
        token:
          title: Token
          type: string
          ui:widget: password
  steps:
    - id: fetch
      name: Fetch skeleton
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{ parameters.name }}
          owner: ${{ parameters.owner }}
          tier: ${{ parameters.tier }}
          replicas: ${{ parameters.replicas }}
          public: ${{ parameters.public }}
          extras: ${{ parameters.extras }}
        copyWithoutTemplating:
          - raw/**
    - id: extra
      each: ${{ parameters.extras }}
      action: fetch:template:file
      input:
        url: ./extra.txt
        targetPath: extras/${{ each.value }}.txt
        values:
          key: ${{ each.key }}
          value: ${{ each.value }}
    - id: pub
      if: ${{ parameters.public }}
      action: fetch:plain
      input:
        url: ./public
        targetPath: public
    - id: log
      action: debug:log
      input:
        message: replicas+1=${{ parameters.replicas + 1 }} user=${{ user.ref }} token-given=${{ secrets.token is defined }}
    - id: publish
      action: publish:github
      input:
        repoUrl: github.com?owner=acme&repo=${{ parameters.name }}
        defaultBranch: trunk
        gitCommitMessage: Start ${{ parameters.name }}
    - id: register
      action: catalog:register
      input:
        repoContentsUrl: ${{ steps.publish.output.repoContentsUrl }}
        catalogInfoPath: /catalog-info.yaml
  output:
    links:
      - title: Repository
        url: ${{ steps.publish.output.remoteUrl }}
      - title: Entity
        entityRef: ${{ steps.register.output.entityRef }}
"#;

const SVC_DESCRIPTOR: &str = "apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${{ values.name }}
  tags: [${{ values.tier }}]
spec:
  type: service
  lifecycle: experimental
  owner: ${{ values.owner }}
";

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x01${{ values.name }}\xff";

/// A catalog (git repository) with the standard org and the `svc` template.
fn catalog(env: &TestEnv) -> Repo {
    with_templates(env, &[("svc", SVC)])
}

/// A catalog with these templates (`templates/<dir>/template.yaml`), each
/// with the `svc` skeleton next to it.
fn with_templates(env: &TestEnv, templates: &[(&str, &str)]) -> Repo {
    with_config(env, templates, "")
}

/// Like [`with_templates`], with more `idp.yaml` settings.
fn with_config(env: &TestEnv, templates: &[(&str, &str)], idp_yaml: &str) -> Repo {
    let mut b = CatalogBuilder::new(env.root.join("catalog"))
        .file(
            "idp.yaml",
            format!("exclude: [\"templates/*/skeleton/**\"]\n{idp_yaml}"),
        )
        .file("org.yaml", ORG)
        .file("components.yaml", COMPONENTS);
    for (dir, yaml) in templates {
        let t = format!("templates/{dir}");
        b = b
            .file(&format!("{t}/template.yaml"), yaml)
            .file(&format!("{t}/skeleton/catalog-info.yaml"), SVC_DESCRIPTOR)
            .file(
                &format!("{t}/skeleton/config/${{{{ values.name }}}}.json"),
                "{\"replicas\": ${{ values.replicas | dump }}, \"public\": ${{ values.public | dump }}, \"extras\": ${{ values.extras | dump }}}\n",
            )
            .file(&format!("{t}/skeleton/raw/keep.txt"), "${{ not rendered }}\n")
            .file(
                &format!("{t}/skeleton/${{{{ 'public.md' if values.public else '' }}}}"),
                "# ${{ values.name }} is public\n",
            )
            .file(&format!("{t}/skeleton/logo.png"), PNG)
            .file(&format!("{t}/extra.txt"), "${{ values.key }}=${{ values.value }}\n")
            .file(&format!("{t}/public/index.html"), "<h1>${{ kept }}</h1>\n");
    }
    b.build()
}

fn out_dir(env: &TestEnv) -> PathBuf {
    env.root.join("out")
}

fn scaffold(env: &TestEnv, cat: &Repo, template: &str, sets: &[&str]) -> crate::common::Run {
    let out = out_dir(env);
    let mut args: Vec<String> = vec![
        "--catalog".into(),
        cat.path().into(),
        "scaffold".into(),
        template.into(),
        "--no-input".into(),
        "--output-dir".into(),
        out.display().to_string(),
    ];
    for s in sets {
        args.push("--set".into());
        args.push(s.to_string());
    }
    env.run(&args)
}

fn read(p: impl AsRef<Path>) -> String {
    std::fs::read_to_string(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

fn git_out(env: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let out = env.git(dir).args(args).output().expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn renders_every_step_with_typed_values_and_keeps_secrets_out_of_the_answers() {
    let env = TestEnv::new();
    let cat = catalog(&env);
    let run = scaffold(
        &env,
        &cat,
        "svc",
        &[
            "name=orders",
            "owner=payments",
            "replicas=3",
            "public=true",
            "extras=a,b",
            "token=hunter2",
        ],
    );
    run.ok()
        .stdout_has("catalog-info.yaml is valid against the catalog.")
        .stdout_has("Repository: https://github.com/acme/orders.git")
        .stdout_has("Entity: component:default/orders")
        .stderr_has("replicas+1=4")
        .stderr_has("token-given=true");
    let out = out_dir(&env);
    // --set strings typed by the schema: integer, boolean, array.
    assert_eq!(
        read(out.join("config/orders.json")),
        "{\"replicas\": 3, \"public\": true, \"extras\": [\"a\",\"b\"]}\n"
    );
    // The picker value is stored as a full reference.
    assert!(read(out.join("catalog-info.yaml")).contains("owner: group:default/payments"));
    // copyWithoutTemplating, binary files and fetch:plain copy verbatim.
    assert_eq!(read(out.join("raw/keep.txt")), "${{ not rendered }}\n");
    assert_eq!(std::fs::read(out.join("logo.png")).unwrap(), PNG);
    assert_eq!(
        read(out.join("public/index.html")),
        "<h1>${{ kept }}</h1>\n"
    );
    // A file name that renders to a name is kept; each.key / each.value.
    assert_eq!(read(out.join("public.md")), "# orders is public\n");
    assert_eq!(read(out.join("extras/a.txt")), "0=a\n");
    assert_eq!(read(out.join("extras/b.txt")), "1=b\n");
    // Secrets never reach the answers file, nor any output.
    let answers = read(out.join(".idp/answers.yaml"));
    assert!(
        answers.contains("name: orders") && answers.contains("replicas: 3"),
        "{answers}"
    );
    assert!(
        !answers.contains("token") && !answers.contains("hunter2"),
        "{answers}"
    );
    assert!(!run.stdout.contains("hunter2") && !run.stderr.contains("hunter2"));
    // publish:github's defaultBranch and gitCommitMessage shape the first commit.
    assert_eq!(
        git_out(&env, &out, &["log", "--format=%s %D"]).trim(),
        "Start orders HEAD -> trunk"
    );
    assert_eq!(git_out(&env, &out, &["status", "--porcelain"]), "");
}

#[test]
fn defaults_fill_what_is_not_given_and_false_ifs_skip_steps() {
    let env = TestEnv::new();
    let cat = catalog(&env);
    let run = scaffold(
        &env,
        &cat,
        "svc",
        &["name=orders", "owner=group:default/checkout"],
    );
    run.ok()
        .stderr_has("pub: skipped (its if was false)")
        .stderr_has("token-given=false");
    let out = out_dir(&env);
    assert_eq!(
        read(out.join("config/orders.json")),
        "{\"replicas\": 2, \"public\": false, \"extras\": []}\n"
    );
    assert!(read(out.join("catalog-info.yaml")).contains("owner: group:default/checkout"));
    // The empty name skipped the file; the skipped step copied nothing;
    // an empty each made no files.
    assert!(!out.join("public.md").exists());
    assert!(!out.join("public").exists());
    assert!(!out.join("extras").exists());
}

#[test]
fn values_file_supplies_typed_values() {
    let env = TestEnv::new();
    let cat = catalog(&env);
    let values = env.root.join("values.yaml");
    std::fs::write(
        &values,
        "name: billing\nowner: payments\nreplicas: 5\nextras: [x]\n",
    )
    .unwrap();
    let out = out_dir(&env);
    env.run([
        "--catalog",
        cat.path(),
        "scaffold",
        "svc",
        "--no-input",
        "--values",
        values.to_str().unwrap(),
        "--set",
        "replicas=6",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(
        read(out.join("config/billing.json")),
        "{\"replicas\": 6, \"public\": false, \"extras\": [\"x\"]}\n"
    );
}

#[test]
fn missing_required_values_off_a_terminal_name_the_flags() {
    let env = TestEnv::new();
    let cat = catalog(&env);
    scaffold(&env, &cat, "svc", &[])
        .code(2)
        .stderr_has("no value for name, owner and no terminal to ask on")
        .stderr_has("hint: pass --set name=… --set owner=…");
    assert!(!out_dir(&env).exists(), "nothing may be left behind");
}

#[test]
fn invalid_values_name_the_parameter_and_the_rule() {
    let env = TestEnv::new();
    let cat = catalog(&env);
    let cases: &[(&str, &str)] = &[
        (
            "name=Orders",
            "invalid value for name: \"Orders\" does not match the pattern ^[a-z][a-z0-9-]*$",
        ),
        (
            "name=a-very-long-service-name",
            "invalid value for name: \"a-very-long-service-name\" is longer than maxLength 20",
        ),
        (
            "replicas=0",
            "invalid value for replicas: 0 is less than minimum 1",
        ),
        (
            "replicas=three",
            "invalid value for replicas: expected a whole number (type integer)",
        ),
        (
            "tier=bronze",
            "invalid value for tier: \"bronze\" is not one of the enum values \"gold\", \"silver\"",
        ),
        (
            "public=maybe",
            "invalid value for public: expected true or false (type boolean)",
        ),
    ];
    for (set, message) in cases {
        let mut sets = vec!["name=orders", "owner=payments"];
        sets.push(set);
        scaffold(&env, &cat, "svc", &sets)
            .code(2)
            .stderr_has(message);
    }
    assert!(!out_dir(&env).exists());
}

#[test]
fn picker_values_must_exist_in_the_catalog_and_match_the_filter() {
    let env = TestEnv::new();
    let cat = catalog(&env);
    scaffold(&env, &cat, "svc", &["name=orders", "owner=paymnts"])
        .code(2)
        .stderr_has("invalid value for owner: \"paymnts\" is not a Group in the catalog; did you mean group:default/payments?");
    // alice is a User; the picker's catalogFilter allows Groups only.
    scaffold(&env, &cat, "svc", &["name=orders", "owner=alice"])
        .code(2)
        .stderr_has("\"alice\" is not a Group in the catalog; choose one of: group:default/checkout, group:default/engineering, group:default/payments");
}

const UNKNOWN_ACTION: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: odd
spec:
  owner: group:default/payments
  type: service
  parameters:
    properties:
      name:
        type: string
        default: odd
  steps:
    - id: deploy
      action: acme:deploy
      input:
        target: prod
    - id: note
      if: "${{ 'false' }}"
      action: debug:log
      input:
        message: the string 'false' is true, as in Backstage
    - id: empty
      if: ${{ [] }}
      action: debug:log
      input:
        message: never
"#;

#[test]
fn unknown_actions_fail_before_anything_runs_unless_skipped() {
    let env = TestEnv::new();
    let cat = with_templates(&env, &[("odd", UNKNOWN_ACTION)]);
    scaffold(&env, &cat, "odd", &[])
        .code(2)
        .stderr_has("step 'deploy' uses the action 'acme:deploy', which idp cannot run locally")
        .stderr_has("--skip-unknown-actions");
    assert!(!out_dir(&env).exists());

    let out = out_dir(&env);
    env.run([
        "--catalog",
        cat.path(),
        "scaffold",
        "odd",
        "--no-input",
        "--skip-unknown-actions",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .ok()
    .stderr_has("skipped step 'deploy': idp cannot run the action 'acme:deploy'")
    .stderr_has("note: the string 'false' is true, as in Backstage")
    .stderr_has("empty: skipped (its if was false)");
}

const BAD_REFERENCES: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: broken
spec:
  owner: group:default/payments
  type: service
  steps:
    - id: publish
      action: publish:github
      input:
        repoUrl: github.com?owner=acme&repo=broken
    - id: log
      action: debug:log
      input:
        message: ${{ steps.publish.output.webUrl }}
"#;

const LATER_REFERENCE: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: early
spec:
  owner: group:default/payments
  type: service
  steps:
    - id: log
      action: debug:log
      input:
        message: ${{ steps['publish'].output.remoteUrl }}
    - id: publish
      action: publish:github
      input:
        repoUrl: github.com?owner=acme&repo=early
  output:
    links:
      - url: ${{ steps.pubish.output.remoteUrl }}
"#;

#[test]
fn references_to_missing_step_outputs_name_both_steps() {
    let env = TestEnv::new();
    let cat = with_templates(
        &env,
        &[("broken", BAD_REFERENCES), ("early", LATER_REFERENCE)],
    );
    scaffold(&env, &cat, "broken", &[]).code(2).stderr_has(
        "step 'log': refers to steps['publish'].output.webUrl, but step 'publish' (publish:github) has no output 'webUrl'; it has: remoteUrl, repoContentsUrl",
    );
    scaffold(&env, &cat, "early", &[])
        .code(2)
        .stderr_has("step 'log': refers to steps['publish'], which runs after it");
    assert!(!out_dir(&env).exists());
}

fn publish_run(env: &TestEnv, cat: &Repo) -> crate::common::Run {
    let out = out_dir(env);
    env.run([
        "--catalog",
        cat.path(),
        "scaffold",
        "svc",
        "--no-input",
        "--publish",
        "--set",
        "name=orders",
        "--set",
        "owner=payments",
        "--output-dir",
        out.to_str().unwrap(),
    ])
}

#[test]
fn publish_needs_the_github_integration_and_a_token() {
    let env = TestEnv::new();
    let cat = catalog(&env);
    publish_run(&env, &cat).code(2).stderr_has(
        "publishing is not supported yet: publish:github (step 'publish'): the catalog's idp.yaml configures no integrations.github",
    );
    assert!(!out_dir(&env).exists());

    let env = TestEnv::new();
    let cat = with_config(
        &env,
        &[("svc", SVC)],
        "integrations:\n  github:\n    base_url: http://127.0.0.1:9\n",
    );
    publish_run(&env, &cat)
        .code(2)
        .stderr_has("no GitHub token: set GITHUB_TOKEN");
    assert!(!out_dir(&env).exists());
}

#[test]
fn publish_creates_the_repository_through_the_api_and_pushes() {
    let api = FakeApi::start();
    let mut env = TestEnv::new();
    env.env("GITHUB_TOKEN", "t0ken");
    let bare = env.root.join("remote/orders.git");
    git2::Repository::init_bare(&bare).unwrap();
    api.route(
        "/user",
        Reply::json(serde_json::json!({ "login": "someone" })),
    );
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
    let cat = with_config(
        &env,
        &[("svc", SVC)],
        &format!("integrations:\n  github:\n    base_url: {}\n", api.base),
    );
    publish_run(&env, &cat)
        .ok()
        .stderr_has("publish: created https://github.com/acme/orders and pushed trunk to it");
    let created = api.seen_at("/orgs/acme/repos");
    assert_eq!(created.len(), 1, "{:?}", api.seen());
    assert_eq!(created[0].method, "POST");
    assert_eq!(created[0].header("authorization"), Some("Bearer t0ken"));
    let out = out_dir(&env);
    assert_eq!(
        git_out(&env, &bare, &["rev-parse", "trunk"]),
        git_out(&env, &out, &["rev-parse", "HEAD"])
    );
}

#[test]
fn user_ref_comes_from_git_config_matched_in_the_catalog() {
    let env = TestEnv::new();
    std::fs::write(
        env.home.join(".gitconfig"),
        "[user]\n\tname = Alice A.\n\temail = Alice@acme.test\n",
    )
    .unwrap();
    let cat = catalog(&env);
    scaffold(&env, &cat, "svc", &["name=orders", "owner=payments"])
        .ok()
        .stderr_has("user=user:default/alice");
}

#[test]
fn register_commits_the_descriptor_on_a_branch_and_pushes_it() {
    let env = TestEnv::new();
    let cat = catalog(&env);
    let bare = cat.bare_clone(&env.root.join("origin.git"));
    cat.set_remote("origin", &format!("file://{}", bare.display()));
    let head_before = git_out(&env, &cat.dir, &["rev-parse", "HEAD"]);
    let out = out_dir(&env);
    let run = env.run([
        "--catalog",
        cat.path(),
        "scaffold",
        "svc",
        "--no-input",
        "--set",
        "name=orders",
        "--set",
        "owner=payments",
        "--register",
        "--push",
        "--output-dir",
        out.to_str().unwrap(),
    ]);
    run.ok().stdout_has(
        "Registered components/orders/catalog-info.yaml in the catalog on branch idp/register-orders (pushed to origin).",
    );
    // The user's branch, index and working tree are untouched.
    assert_eq!(git_out(&env, &cat.dir, &["rev-parse", "HEAD"]), head_before);
    assert_eq!(
        git_out(&env, &cat.dir, &["symbolic-ref", "--short", "HEAD"]).trim(),
        "main"
    );
    assert_eq!(git_out(&env, &cat.dir, &["status", "--porcelain"]), "");
    assert!(!cat.dir.join("components/orders").exists());
    // The branch holds the tip's tree plus the new descriptor.
    let files = git_out(
        &env,
        &cat.dir,
        &["ls-tree", "-r", "--name-only", "idp/register-orders"],
    );
    assert!(
        files.contains("components/orders/catalog-info.yaml") && files.contains("org.yaml"),
        "{files}"
    );
    assert_eq!(
        git_out(
            &env,
            &cat.dir,
            &[
                "show",
                "idp/register-orders:components/orders/catalog-info.yaml"
            ]
        ),
        read(out.join("catalog-info.yaml"))
    );
    assert_eq!(
        git_out(&env, &cat.dir, &["rev-parse", "idp/register-orders^"]),
        head_before
    );
    // And origin has it.
    assert_eq!(
        git_out(&env, &bare, &["rev-parse", "idp/register-orders"]),
        git_out(&env, &cat.dir, &["rev-parse", "idp/register-orders"])
    );

    // A second registration of the same name is refused, nothing changes.
    std::fs::remove_dir_all(&out).unwrap();
    env.run([
        "--catalog",
        cat.path(),
        "scaffold",
        "svc",
        "--no-input",
        "--set",
        "name=orders",
        "--set",
        "owner=payments",
        "--register",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("branch idp/register-orders already exists");
}

#[test]
fn node_service_example_works_end_to_end_and_validates() {
    let env = TestEnv::new();
    let out = out_dir(&env);
    let run = env.run([
        "--catalog",
        &acme(),
        "scaffold",
        "node-service",
        "--no-input",
        "--set",
        "name=billing-api",
        "--set",
        "owner=payments",
        "--set",
        "description=Bills \"customers\"",
        "--set",
        "repoUrl=github.com?owner=acme&repo=billing-api",
        "--output-dir",
        out.to_str().unwrap(),
    ]);
    run.ok()
        .stdout_has("catalog-info.yaml is valid against the catalog.")
        .stdout_has("Repository: https://github.com/acme/billing-api.git")
        .stdout_has("Open in catalog: component:default/billing-api")
        .stderr_has(
            "publish: did not create repository github.com?owner=acme&repo=billing-api (https://github.com/acme/billing-api.git) (--publish creates it); a local git repository with a first commit stands in for it",
        );
    let descriptor = read(out.join("catalog-info.yaml"));
    assert!(
        descriptor.contains("github.com/project-slug: acme/billing-api"),
        "{descriptor}"
    );
    assert!(
        descriptor.contains("owner: \"group:default/payments\""),
        "{descriptor}"
    );
    assert!(
        descriptor.contains("description: \"Bills \\\"customers\\\"\""),
        "{descriptor}"
    );
    // No system was given: the optional line is left out.
    assert!(!descriptor.contains("system:"), "{descriptor}");
    let package: serde_json::Value =
        serde_json::from_str(&read(out.join("package.json"))).expect("package.json is JSON");
    assert_eq!(package["description"], "Bills \"customers\"");
    assert_eq!(
        git_out(&env, &out, &["branch", "--show-current"]).trim(),
        "main"
    );

    // The new descriptor passes `idp validate` as part of the catalog.
    let copy = env.root.join("acme");
    copy_dir(Path::new(&acme()), &copy);
    std::fs::create_dir_all(copy.join("components/billing-api")).unwrap();
    std::fs::copy(
        out.join("catalog-info.yaml"),
        copy.join("components/billing-api/catalog-info.yaml"),
    )
    .unwrap();
    env.run(["--catalog", copy.to_str().unwrap(), "validate"])
        .ok()
        .stdout_has("0 errors");
}

#[test]
fn python_library_example_follows_dependencies_if_then_and_each() {
    let env = TestEnv::new();
    let out = out_dir(&env);
    let base = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "--catalog",
            &acme(),
            "scaffold",
            "python-library",
            "--no-input",
            "--output-dir",
            out.to_str().unwrap(),
            "--set",
            "name=fast-json",
            "--set",
            "owner=platform",
            "--set",
            "repoUrl=gitlab.com?owner=acme&repo=fast-json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for e in extra {
            v.push("--set".into());
            v.push(e.to_string());
        }
        v
    };
    // if/then: the command is required once cli is true.
    env.run(base(&["cli=true"]))
        .code(2)
        .stderr_has("pass --set command=…");
    // dependencies: setuptools opens setuptoolsVersion (default 68).
    env.run(base(&[
        "packaging=setuptools",
        "cli=true",
        "command=fj",
        "docPages=intro,faq",
    ]))
    .ok()
    .stdout_has("catalog-info.yaml is valid against the catalog.")
    .stdout_has("Repository: https://gitlab.com/acme/fast-json.git");
    assert!(read(out.join("pyproject.toml")).contains("requires = [\"setuptools>=68\"]"));
    assert!(out.join("setup.cfg").exists());
    assert!(read(out.join("src/fast_json/cli.py")).contains("prog=\"fj\""));
    assert_eq!(
        read(out.join("docs/faq.md")),
        "# Faq\n\nPage 2 of the `fast-json` documentation.\n"
    );
    assert!(read(out.join(".idp/answers.yaml")).contains("setuptoolsVersion: 68"));
    std::fs::remove_dir_all(&out).unwrap();
    // The other branch: poetry, no setup.cfg, no cli.
    env.run(base(&[]))
        .ok()
        .stderr_has("cli: skipped (its if was false)");
    assert!(read(out.join("pyproject.toml")).contains("poetry-core>=1.8"));
    assert!(!out.join("setup.cfg").exists());
    assert!(!out.join("src/fast_json/cli.py").exists());
    // A value for a branch that is not taken is still checked by the schema.
    std::fs::remove_dir_all(&out).unwrap();
    env.run(base(&["packaging=setuptools", "setuptoolsVersion=50"]))
        .code(2)
        .stderr_has("invalid value for setuptoolsVersion: 50 is less than minimum 61");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

// ------------------------------------------------------------------ prompts in tmux

#[test]
fn prompts_on_a_terminal_follow_the_schema() {
    let env = TestEnv::new();
    let cat = catalog(&env);
    let out = out_dir(&env);
    let t = Tmux::idp(
        &env,
        &[
            "--catalog",
            cat.path(),
            "scaffold",
            "svc",
            "--output-dir",
            out.to_str().unwrap(),
        ],
        &[],
    );
    // Input with validation: a bad name is refused, then a good one.
    t.wait_for_text("Name");
    t.type_text("Bad Name");
    t.keys(&["Enter"]);
    t.wait_for_text("does not match the pattern");
    t.keys(&["C-u"]);
    t.type_text("orders");
    t.keys(&["Enter"]);
    // Fuzzy select over the catalog's Groups.
    t.wait_for_text("Owner (type to filter)");
    t.type_text("paym");
    t.wait_for_text("payments");
    t.keys(&["Enter"]);
    // Select labelled by enumNames, default Silver: move up to Gold.
    t.wait_for_text("Silver");
    t.keys(&["Up"]);
    t.keys(&["Enter"]);
    // Input with its default.
    t.wait_for_text("Replicas (optional)");
    t.keys(&["Enter"]);
    // Confirm for a boolean.
    t.wait_for_text("Public");
    t.type_text("y");
    // An array as comma-separated input.
    t.wait_for_text("Extras (optional)");
    t.type_text("a,b");
    t.keys(&["Enter"]);
    // Masked input for the secret.
    t.wait_for_text("Token (optional)");
    t.type_text("hunter2");
    t.keys(&["Enter"]);
    let screen = t.wait_for_text("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        !screen.contains("hunter2"),
        "the secret was echoed:\n{screen}"
    );
    assert_eq!(
        read(out.join("config/orders.json")),
        "{\"replicas\": 2, \"public\": true, \"extras\": [\"a\",\"b\"]}\n"
    );
    let descriptor = read(out.join("catalog-info.yaml"));
    assert!(
        descriptor.contains("owner: group:default/payments"),
        "{descriptor}"
    );
    assert!(descriptor.contains("tags: [gold]"), "{descriptor}");
    assert!(!read(out.join(".idp/answers.yaml")).contains("hunter2"));
}

const OPTIONS: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: options
spec:
  owner: group:default/payments
  type: service
  parameters:
    properties:
      name:
        type: string
        default: demo
      owner:
        type: string
        default: group:default/payments
      deps:
        type: array
        items:
          type: string
        default: []
        ui:field: MultiEntityPicker
        ui:options:
          catalogFilter:
            - kind: Component
              spec.type: service
            - kind: Component
              spec.type: website
      team:
        type: string
        ui:field: EntityPicker
        ui:options:
          allowedKinds: [Group]
          defaultKind: Group
  steps:
    - id: picked
      action: debug:log
      input:
        message: deps=${{ parameters.deps | join(',') }} team=${{ parameters.team }}
    - id: njk
      action: fetch:template
      input:
        url: ./njk
        templateFileExtension: true
        values:
          name: ${{ parameters.name }}
    - id: cc
      action: fetch:template
      input:
        url: ./cc
        targetPath: cc
        cookiecutterCompat: true
        values:
          name: ${{ parameters.name }}
    - id: again
      action: fetch:template:file
      input:
        url: ./njk/notes.txt.njk
        targetPath: notes.txt
        values:
          name: second
    - id: forced
      action: fetch:template:file
      input:
        url: ./njk/notes.txt.njk
        targetPath: notes.txt
        replace: true
        values:
          name: third
    - id: plain
      action: fetch:plain:file
      input:
        url: ./njk/notes.txt.njk
        targetPath: raw/notes.njk
    - id: write
      action: catalog:write
      input:
        filePath: descriptors/${{ parameters.name }}.yaml
        entity:
          apiVersion: backstage.io/v1alpha1
          kind: Component
          metadata:
            name: ${{ parameters.name }}
          spec:
            type: service
            lifecycle: experimental
            owner: ${{ parameters.owner }}
            system: ${{ parameters.nothing }}
    - id: filters
      action: debug:log
      input:
        message: name=${{ (parameters.owner | parseEntityRef).name }} kind=${{ parameters.owner | parseEntityRef | pick('kind') }} slug=${{ 'github.com?owner=o&repo=r' | projectSlug }} host=${{ ('gitlab.com?owner=g&repo=h' | parseRepoUrl).host }} ns=${{ 'payments' | parseEntityRef({ defaultKind:'group', defaultNamespace:'ops' }) | pick('namespace') }}
"#;

#[test]
fn fetch_template_options_catalog_write_and_filters() {
    let env = TestEnv::new();
    let cat = CatalogBuilder::new(env.root.join("catalog"))
        .file(
            "idp.yaml",
            "exclude: [\"templates/*/njk/**\", \"templates/*/cc/**\"]\n",
        )
        .file("org.yaml", ORG)
        .file("components.yaml", COMPONENTS)
        .file("templates/options/template.yaml", OPTIONS)
        .file(
            "templates/options/njk/notes.txt.njk",
            "notes for ${{ values.name }}\n",
        )
        .file(
            "templates/options/njk/${{ values.name }}.md",
            "${{ kept }}\n",
        )
        .file(
            "templates/options/cc/{{ cookiecutter.name }}.txt",
            "{{ cookiecutter.name | upper }}\n",
        )
        .build();
    // MultiEntityPicker: each item resolved against a list of filters.
    scaffold(&env, &cat, "options", &["deps=ledger,storefrnt"])
        .code(2)
        .stderr_has("invalid value for deps: \"storefrnt\" is not a Component with spec.type=service, or Component with spec.type=website in the catalog; did you mean component:default/storefront?");
    // allowedKinds: a Group only.
    scaffold(&env, &cat, "options", &["team=ledger"])
        .code(2)
        .stderr_has("invalid value for team: \"ledger\" is not a Group in the catalog");
    scaffold(&env, &cat, "options", &["deps=ledger,storefront", "team=engineering"])
        .ok()
        .stderr_has("picked: deps=component:default/ledger,component:default/storefront team=group:default/engineering")
        .stderr_has("again: notes.txt exists already, not replaced")
        .stderr_has("filters: name=payments kind=group slug=o/r host=gitlab.com ns=ops");
    let out = out_dir(&env);
    // templateFileExtension: only .njk files render, and lose the extension;
    // names render either way.
    assert_eq!(read(out.join("demo.md")), "${{ kept }}\n");
    // replace: true replaced the file the first fetch wrote.
    assert_eq!(read(out.join("notes.txt")), "notes for third\n");
    assert_eq!(
        read(out.join("raw/notes.njk")),
        "notes for ${{ values.name }}\n"
    );
    // cookiecutterCompat: {{ cookiecutter.x }} and Jinja filters.
    assert_eq!(read(out.join("cc/demo.txt")), "DEMO\n");
    // catalog:write: the entity as YAML, null members dropped.
    let written: serde_json::Value =
        idp::yaml::from_str(&read(out.join("descriptors/demo.yaml"))).unwrap();
    assert_eq!(written["spec"]["owner"], "group:default/payments");
    assert!(written["spec"].get("system").is_none(), "{written}");
}

// ------------------------------------------------------------------ documentation pass

/// Every entry in the catalog's top level (the catalog repository's own
/// `.git` aside): what a run left behind.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn full_template_names_from_list_resolve_as_entity_refs() {
    let env = TestEnv::new();
    // `scaffold list` prints the full name; every spelling of it works.
    env.run(["--catalog", &acme(), "scaffold", "list"])
        .ok()
        .stdout_has("template:default/node-service");
    for name in [
        "template:default/node-service",
        "template:node-service",
        "Template:default/Node-Service",
    ] {
        env.run(["--catalog", &acme(), "scaffold", "show", name])
            .ok()
            .stdout_has("name:       template:default/node-service");
    }
    let out = out_dir(&env);
    env.run([
        "--catalog",
        &acme(),
        "scaffold",
        "template:default/node-service",
        "--no-input",
        "--no-git",
        "--set",
        "name=billing-api",
        "--set",
        "owner=payments",
        "--set",
        "description=Bills",
        "--set",
        "repoUrl=github.com?owner=acme&repo=billing-api",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .ok()
    .stdout_has("from template:default/node-service");
    assert!(read(out.join("catalog-info.yaml")).contains("name: \"billing-api\""));
    // A misspelt full name is a name not found (3) with a suggestion, not a
    // missing path.
    env.run([
        "--catalog",
        &acme(),
        "scaffold",
        "show",
        "template:default/node-servise",
    ])
    .code(3)
    .stderr_has("template 'template:default/node-servise' not found")
    .stderr_has("did you mean: template:default/node-service?");
    // A directory of that name still wins, as paths do.
    let dir = env.cwd.join("template:local");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("template.yaml"),
        SVC.replace("name: svc", "name: local-svc"),
    )
    .unwrap();
    env.run(["--catalog", &acme(), "scaffold", "show", "template:local"])
        .ok()
        .stdout_has("name:       template:default/local-svc");
}

#[test]
fn ctrl_c_at_a_prompt_leaves_nothing_behind() {
    let env = TestEnv::new();
    let cat = catalog(&env);
    // No --output-dir: the project would be made in the current directory.
    let t = Tmux::idp(&env, &["--catalog", cat.path(), "scaffold", "svc"], &[]);
    t.wait_for_text("Name");
    t.type_text("orders");
    t.keys(&["Enter"]);
    t.wait_for_text("Owner (type to filter)");
    t.keys(&["C-c"]);
    let screen = t.wait_for_text("EXIT=");
    assert!(screen.contains("EXIT=130"), "{screen}");
    assert_eq!(entries(&env.cwd), Vec::<String>::new());
}

#[test]
fn register_and_push_preconditions_are_checked_before_anything_is_written() {
    let env = TestEnv::new();
    // A catalog repository without an `origin` remote.
    let cat = catalog(&env);
    let out = out_dir(&env);
    let register = |extra: &[&str]| {
        let mut args = vec![
            "--catalog",
            cat.path(),
            "scaffold",
            "svc",
            "--no-input",
            "--set",
            "name=orders",
            "--set",
            "owner=payments",
            "--register",
            "--output-dir",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        env.run(args)
    };
    register(&["--push"])
        .code(2)
        .stderr_has("invalid value for --push: the catalog repository")
        .stderr_has("has no remote 'origin' to push to");
    assert!(
        !out.exists(),
        "the project was created: {:?}",
        entries(&out)
    );
    assert_eq!(entries(&env.root), ["catalog", "home", "work"]);
    let branches = git_out(&env, &cat.dir, &["branch", "--list", "idp/*"]);
    assert_eq!(branches, "", "a branch was created");

    // A name already registered: refused before the project is written.
    register(&[]).ok();
    std::fs::remove_dir_all(&out).unwrap();
    register(&[])
        .code(2)
        .stderr_has("branch idp/register-orders already exists");
    assert!(
        !out.exists(),
        "the project was created: {:?}",
        entries(&out)
    );
}

#[test]
fn step_messages_say_what_happened_under_each_flag() {
    let env = TestEnv::new();
    let cat = catalog(&env);
    let out = out_dir(&env);
    let run = |extra: &[&str]| {
        let _ = std::fs::remove_dir_all(&out);
        let mut args = vec![
            "--catalog",
            cat.path(),
            "scaffold",
            "svc",
            "--no-input",
            "--set",
            "name=orders",
            "--set",
            "owner=payments",
            "--output-dir",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        env.run(args)
    };
    let repo = "repository github.com?owner=acme&repo=orders (https://github.com/acme/orders.git)";

    // Plain run: files written, a local repository stands in, nothing registered.
    run(&[])
        .ok()
        .stderr_has("fetch: wrote 4 files from skeleton into the project")
        .stderr_has(&format!(
            "publish: did not create {repo} (--publish creates it); a local git repository with a first commit stands in for it"
        ))
        .stderr_has("register: did not register component:default/orders (https://github.com/acme/orders/blob/trunk/catalog-info.yaml) (add --register to commit it to the catalog repository)");

    // --register: the register step says it was committed; labels are step ids.
    let registered = run(&["--register"]);
    registered
        .ok()
        .stderr_has("register: committed component:default/orders (https://github.com/acme/orders/blob/trunk/catalog-info.yaml) to the catalog repository on a new branch (--register)")
        .stdout_has("on branch idp/register-orders");
    assert!(
        !registered.stderr.contains("add --register"),
        "{}",
        registered.stderr
    );
    assert!(
        !registered.stderr.contains("publish:github"),
        "{}",
        registered.stderr
    );

    // --no-git: no local repository stands in for the published one.
    let no_git = run(&["--no-git"]);
    no_git.ok().stderr_has(&format!(
        "publish: did not create {repo} (--publish creates it), nor a local git repository"
    ));
    assert!(!no_git.stderr.contains("stands in"), "{}", no_git.stderr);
    assert!(!out.join(".git").exists());

    // --dry-run: everything is conditional, nothing was written.
    let dry = run(&["--dry-run"]);
    dry.ok()
        .stderr_has("fetch: would write 4 files from skeleton into the project")
        .stderr_has(&format!("publish: would not create {repo} (--publish creates it); a local git repository with a first commit would stand in for it"))
        .stderr_has("register: would not register component:default/orders");
    assert!(!dry.stderr.contains("wrote"), "{}", dry.stderr);
    assert!(!out.exists());
}
