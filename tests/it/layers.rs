//! The shared paths behind several commands: one git-remote module for every
//! network git operation (here `enrich --publish`, to a `file://` remote and
//! over HTTP to a server that wants credentials), and one check for new
//! descriptors, which `validate PATH`, `scaffold` and `scaffold test` share.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{CatalogBuilder, TestEnv};
use crate::fake_api::{github_ok, FakeApi, Reply};

const TOKEN: &str = "ghp_layersT0ken0123456789";

const SERVICE: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc
  annotations:
    github.com/project-slug: acme/svc
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
";

/// A catalog whose GitHub integration is `fake`, answering for `acme/svc`.
fn live_catalog(env: &TestEnv, fake: &FakeApi) -> PathBuf {
    github_ok(fake);
    let idp = format!(
        "exclude: []\nintegrations:\n  github:\n    base_url: {}\n",
        fake.base
    );
    CatalogBuilder::new(env.dir("catalog"))
        .file("idp.yaml", idp)
        .file("catalog-info.yaml", SERVICE)
        .build();
    env.root.join("catalog")
}

fn env_with_token() -> TestEnv {
    let mut env = TestEnv::new();
    env.env("GITHUB_TOKEN", TOKEN);
    env
}

#[test]
fn enrich_publish_pushes_to_a_file_url_remote() {
    let env = env_with_token();
    let fake = FakeApi::start();
    let cat = live_catalog(&env, &fake);
    let remote = env.root.join("remote.git");
    git2::Repository::init_bare(&remote).unwrap();
    git2::Repository::open(&cat)
        .unwrap()
        .remote("origin", &format!("file://{}", remote.display()))
        .unwrap();
    env.run(["--catalog", cat.to_str().unwrap(), "enrich", "--publish"])
        .ok()
        .stdout_has("Published refs/idp/live");
    let bare = git2::Repository::open_bare(&remote).unwrap();
    let pushed = bare.find_reference("refs/idp/live").expect("pushed");
    let local = git2::Repository::open(&cat).unwrap();
    assert_eq!(
        pushed.target(),
        local.find_reference("refs/idp/live").unwrap().target()
    );
}

#[test]
fn enrich_publish_over_http_offers_the_github_token_once_then_stops() {
    let env = env_with_token();
    let fake = FakeApi::start();
    let cat = live_catalog(&env, &fake);
    // The git server is the integration's host (127.0.0.1), so the token
    // may go there; it refuses every attempt.
    fake.route(
        "/git/*",
        Reply::status(401).header("WWW-Authenticate", "Basic realm=\"git\""),
    );
    git2::Repository::open(&cat)
        .unwrap()
        .remote("origin", &format!("{}/git/catalog.git", fake.base))
        .unwrap();
    let started = Instant::now();
    let run = env.run(["--catalog", cat.to_str().unwrap(), "enrich", "--publish"]);
    assert!(started.elapsed() < Duration::from_secs(5), "auth loop?");
    assert_ne!(run.code, 0, "{}", run.stderr);
    run.stderr_has("pushing refs/idp/live")
        .stderr_has("authentication to")
        .stderr_has("tried: token, git credential helper");
    assert!(!run.stderr.contains(TOKEN) && !run.stdout.contains(TOKEN));
    let git = fake.seen_at("/git/");
    let expected = format!(
        "Basic {}",
        base64(format!("x-access-token:{TOKEN}").as_bytes())
    );
    let with_token = git
        .iter()
        .filter(|s| s.header("authorization") == Some(expected.as_str()))
        .count();
    assert_eq!(with_token, 1, "{git:#?}");
    assert!(git.len() <= 3, "asked again and again: {git:#?}");
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

const COOKIECUTTER_JSON: &str = r#"{ "name": "refunds", "owner": "nobody-here" }"#;

/// Rendered by the template below with its defaults: an unknown owner, and
/// a tag that is not a valid tag.
const DESCRIPTOR: &str = "apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {{ cookiecutter.name }}
  tags: [Not_A_Tag]
spec:
  type: service
  lifecycle: experimental
  owner: {{ cookiecutter.owner }}
";

/// `(code, line, column)` of each error in a JSON report's `errors`.
fn findings(errors: &Value, with_column: bool) -> Vec<(String, u64, u64)> {
    let mut out: Vec<(String, u64, u64)> = errors
        .as_array()
        .unwrap_or_else(|| panic!("no errors array: {errors}"))
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
                if with_column {
                    e["column"].as_u64().unwrap()
                } else {
                    0
                },
            )
        })
        .collect();
    out.sort();
    out
}

fn strip_columns(f: &[(String, u64, u64)]) -> Vec<(String, u64, u64)> {
    f.iter().map(|(c, l, _)| (c.clone(), *l, 0)).collect()
}

#[test]
fn validate_path_scaffold_and_scaffold_test_report_a_bad_descriptor_alike() {
    let env = TestEnv::new();
    let catalog = CatalogBuilder::standard(env.root.join("catalog")).build();
    let tpl = CatalogBuilder::new(env.root.join("tpl"))
        .file("cookiecutter.json", COOKIECUTTER_JSON)
        .file("{{cookiecutter.name}}/catalog-info.yaml", DESCRIPTOR)
        .build();
    let values = env.root.join("defaults.json");
    std::fs::write(&values, "{}").unwrap();

    // 1. scaffold test: the template rendered with its defaults.
    let tested = env.run([
        "--catalog",
        catalog.path(),
        "scaffold",
        "test",
        tpl.path(),
        "-o",
        "json",
        "--values",
        values.to_str().unwrap(),
    ]);
    tested.code(1);
    let tested = tested.json();
    let from_test = findings(&tested["results"][0]["errors"], false);

    // 2. scaffold: the same project, created.
    let out = env.root.join("out");
    let created = env.run([
        "--catalog",
        catalog.path(),
        "scaffold",
        tpl.path(),
        "-o",
        "json",
        "--no-input",
        "--no-git",
        "--output-dir",
        out.to_str().unwrap(),
    ]);
    created.code(1);
    let from_scaffold = findings(&created.json()["validation"]["errors"], true);
    let generated = out.join("refunds/catalog-info.yaml");
    let text = std::fs::read_to_string(&generated).unwrap();

    // 3. validate PATH: the generated descriptor, placed in the catalog.
    let placed = Path::new(&catalog.dir).join("components/refunds/catalog-info.yaml");
    std::fs::create_dir_all(placed.parent().unwrap()).unwrap();
    std::fs::write(&placed, &text).unwrap();
    let validated = env.run([
        "--catalog",
        catalog.path(),
        "validate",
        placed.to_str().unwrap(),
        "-o",
        "json",
    ]);
    validated.code(1);
    let from_validate = findings(&validated.json()["errors"], true);

    let codes: Vec<&str> = from_validate.iter().map(|f| f.0.as_str()).collect();
    assert!(codes.contains(&"dangling-reference"), "{from_validate:?}");
    assert!(codes.contains(&"invalid-tag"), "{from_validate:?}");
    assert!(
        from_validate
            .iter()
            .all(|(_, line, col)| *line > 1 && *col > 1),
        "{from_validate:?}"
    );
    assert_eq!(from_scaffold, from_validate);
    assert_eq!(from_test, strip_columns(&from_validate));
}

#[test]
fn validate_path_in_a_catalog_replaces_the_catalogs_copy_of_the_file() {
    // The named file is already loaded by the catalog: checked once, not
    // reported as a duplicate of itself.
    let env = TestEnv::new();
    let catalog = CatalogBuilder::standard(env.root.join("catalog")).build();
    let file = Path::new(&catalog.dir).join("components.yaml");
    env.run([
        "--catalog",
        catalog.path(),
        "validate",
        file.to_str().unwrap(),
        "-o",
        "json",
    ])
    .ok()
    .stdout_lacks("duplicate-entity");
}

#[test]
fn validate_path_checks_a_file_the_globs_leave_out_against_the_catalog() {
    // drafts/ is excluded, so the catalog never loaded it: the file joins the
    // catalog for the check, where its name is taken and its owner unknown.
    let env = TestEnv::new();
    let catalog = CatalogBuilder::standard(env.root.join("catalog"))
        .file("idp.yaml", "exclude: [\"drafts/**\"]\n")
        .file(
            "drafts/ledger.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ledger\nspec:\n  type: service\n  lifecycle: experimental\n  owner: nobody-here\n",
        )
        .build();
    let file = Path::new(&catalog.dir).join("drafts/ledger.yaml");
    let run = env.run([
        "--catalog",
        catalog.path(),
        "validate",
        file.to_str().unwrap(),
        "-o",
        "json",
    ]);
    run.code(1);
    let errors = findings(&run.json()["errors"], true);
    let codes: Vec<&str> = errors.iter().map(|f| f.0.as_str()).collect();
    assert!(codes.contains(&"dangling-reference"), "{errors:?}");
    assert!(codes.contains(&"duplicate-entity"), "{errors:?}");
    assert!(
        run.json()["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["file"].as_str().unwrap().ends_with("drafts/ledger.yaml")),
        "{}",
        run.stdout
    );
}
