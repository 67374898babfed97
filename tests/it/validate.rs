//! `idp validate`: every problem of a catalog in one run, with stable codes
//! and exact positions; human, JSON and GitHub Actions output; single files
//! with and without a catalog around them.

use serde_json::Value;

use crate::common::{acme, component, CatalogBuilder, Repo, TestEnv, ORG};

/// One document per problem, at known lines (see the assertions).
const BROKEN: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: Bad Name!
spec:
  type: service
  lifecycle: production
  owner: payments
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: no-lifecycle
spec:
  type: service
  owner: payments
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: apis-as-string
spec:
  type: service
  lifecycle: production
  owner: payments
  providesApis: checkout-api
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: kindless-dependency
spec:
  type: service
  lifecycle: production
  owner: payments
  dependsOn: [ledger]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: orphan
spec:
  type: service
  lifecycle: production
  owner: nobody
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: bad-metadata
  tags: [java, Not_A_Tag]
  labels:
    \"bad key!\": x
spec:
  type: service
  lifecycle: production
  owner: payments
";

const PIPELINE: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Pipeline
metadata:
  name: deploy
spec:
  owner: payments
";

const MALFORMED: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: fine
  tags: [a, b
spec:
  type: service
";

fn broken_catalog(env: &TestEnv, idp_yaml: &str) -> Repo {
    CatalogBuilder::new(env.dir("cat"))
        .file("idp.yaml", idp_yaml)
        .file("org.yaml", ORG)
        .file("broken.yaml", BROKEN)
        .file("pipeline.yaml", PIPELINE)
        .file("malformed.yaml", MALFORMED)
        .file(
            "one/ledger.yaml",
            component("ledger", "payments", "production"),
        )
        .file(
            "two/ledger.yaml",
            component("ledger", "payments", "production"),
        )
        .build()
}

/// `(code, file, line, column)` of every problem in a JSON report section;
/// files are shown under the catalog path as given, which is cut off here.
fn positions(section: &Value) -> Vec<(String, String, u64, u64)> {
    section
        .as_array()
        .expect("array")
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_string(),
                strip_tmp(p["file"].as_str().unwrap()),
                p["line"].as_u64().unwrap(),
                p["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn strip_tmp(file: &str) -> String {
    match file.find("/cat/") {
        Some(i) => file[i + "/cat/".len()..].to_string(),
        None => file.to_string(),
    }
}

fn has(list: &[(String, String, u64, u64)], code: &str, file: &str, line: u64, column: u64) {
    let want = (code.to_string(), file.to_string(), line, column);
    assert!(list.contains(&want), "missing {want:?} in {list:#?}");
}

#[test]
fn the_example_catalog_is_valid() {
    let env = TestEnv::new();
    env.run(["--catalog", &acme(), "validate"])
        .ok()
        .stdout_has("0 errors");
    let run = env.run(["--catalog", &acme(), "validate", "-o", "json"]);
    run.ok();
    assert_eq!(run.json()["errors"], serde_json::json!([]));
}

#[test]
fn every_problem_is_reported_in_one_run_with_its_position() {
    let env = TestEnv::new();
    let repo = broken_catalog(&env, "exclude: []\n");
    let run = env.run(["--catalog", repo.path(), "validate", "-o", "json"]);
    run.code(1);
    let report = run.json();
    for p in report["errors"].as_array().unwrap() {
        for field in ["file", "line", "column", "code", "message"] {
            assert!(!p[field].is_null(), "{field} missing in {p}");
        }
    }
    let errors = positions(&report["errors"]);
    has(&errors, "invalid-name", "broken.yaml", 4, 9);
    has(&errors, "missing-field", "broken.yaml", 14, 1);
    has(&errors, "invalid-field", "broken.yaml", 26, 17);
    has(&errors, "invalid-reference", "broken.yaml", 36, 15);
    has(&errors, "dangling-reference", "broken.yaml", 45, 10);
    has(&errors, "invalid-tag", "broken.yaml", 51, 16);
    has(&errors, "invalid-label-key", "broken.yaml", 53, 5);
    has(&errors, "duplicate-entity", "two/ledger.yaml", 4, 9);
    has(&errors, "unknown-kind", "pipeline.yaml", 2, 7);
    // libyaml notices the unclosed flow sequence at the next key.
    has(&errors, "yaml-syntax", "malformed.yaml", 6, 5);

    let by_code = |code: &str| -> Value {
        report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["code"] == code)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        by_code("dangling-reference")["entity"],
        "component:default/orphan"
    );
    assert!(by_code("dangling-reference")["message"]
        .as_str()
        .unwrap()
        .contains("group:default/nobody"));
    assert!(by_code("duplicate-entity")["message"]
        .as_str()
        .unwrap()
        .contains("one/ledger.yaml"));
    assert!(by_code("invalid-name")["message"]
        .as_str()
        .unwrap()
        .contains("Bad Name!"));
    // A problem-free entity gets no finding.
    assert!(!run.stdout.contains("component:default/fine\""));
}

#[test]
fn unknown_kinds_are_fine_once_declared_and_always_listable() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file("pipeline.yaml", PIPELINE)
        .build();
    let run = env.run(["--catalog", repo.path(), "validate", "-o", "json"]);
    let report = run.json();
    let codes: Vec<_> = positions(&report["errors"])
        .into_iter()
        .chain(positions(&report["warnings"]))
        .map(|p| p.0)
        .collect();
    assert!(codes.contains(&"unknown-kind".to_string()), "{report}");
    let listed = env.run([
        "--catalog",
        repo.path(),
        "list",
        "--kind",
        "Pipeline",
        "-o",
        "json",
    ]);
    assert_eq!(listed.refs(), ["pipeline:default/deploy"]);

    repo.write(
        "idp.yaml",
        "exclude: []\ncustomKinds:\n  - kind: Pipeline\n",
    );
    let run = env.run(["--catalog", repo.path(), "validate", "-o", "json"]);
    run.ok();
    assert_eq!(
        run.json(),
        serde_json::json!({"errors": [], "warnings": []})
    );
    let listed = env.run([
        "--catalog",
        repo.path(),
        "list",
        "--kind",
        "pipeline",
        "-o",
        "json",
    ]);
    assert_eq!(listed.refs(), ["pipeline:default/deploy"]);
}

#[test]
fn human_output_shows_position_source_line_and_caret() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file("orphan.yaml", component("orphan", "nobody", "production"))
        .file("bad.yaml", component("Bad Name!", "payments", "production"))
        .build();
    let run = env.run(["--catalog", repo.path(), "validate"]);
    run.code(1)
        .stdout_has("orphan.yaml:8:10")
        .stdout_has("  owner: nobody")
        .stdout_has("^");
    insta::assert_snapshot!("validate_human", env.normalize(&run.stdout));
}

#[test]
fn github_actions_annotations() {
    let mut env = TestEnv::new();
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file(
            "svc/orphan.yaml",
            component("orphan", "nobody", "production"),
        )
        .build();
    let plain = env.run(["--catalog", repo.path(), "validate"]);
    assert!(!plain.stdout.contains("::error"));
    env.env("GITHUB_ACTIONS", "true");
    let run = env.run(["--catalog", repo.path(), "validate"]);
    run.code(1)
        .stdout_has("svc/orphan.yaml:8:10")
        .stdout_has("::error file=")
        .stdout_has("svc/orphan.yaml,line=8,col=10::")
        .stdout_has("dangling-reference");
}

#[test]
fn a_loose_file_outside_any_catalog_checks_only_its_content() {
    let env = TestEnv::new();
    let dir = CatalogBuilder::new(env.dir("loose"))
        .file("svc.yaml", component("orphan", "nobody", "production"))
        .file("bad.yaml", component("Bad Name!", "nobody", "production"))
        .write_only();
    // No --catalog, no IDP_CATALOG, no config, not in a repository.
    let run = env.run_in(&dir, ["validate", "svc.yaml"]);
    run.ok().stdout_has("0 errors");
    let run = env.run_in(&dir, ["validate", "bad.yaml", "-o", "json"]);
    run.code(1);
    let errors = positions(&run.json()["errors"]);
    assert_eq!(
        errors,
        [("invalid-name".to_string(), "bad.yaml".to_string(), 4, 9)]
    );
    // And without a path there is nothing to validate.
    env.run_in(&dir, ["validate"])
        .code(4)
        .stderr_has("no catalog");
}

#[test]
fn a_file_inside_a_catalog_is_checked_against_the_whole_catalog() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::good(env.dir("cat"))
        .file("orphan.yaml", component("orphan", "nobody", "production"))
        .file("bad.yaml", component("Bad Name!", "payments", "production"))
        .build();
    let file = repo.dir.join("good.yaml");
    // `payments` exists elsewhere in the catalog: no dangling reference, and
    // the other files' problems are not reported.
    env.run(["--catalog", repo.path(), "validate", file.to_str().unwrap()])
        .ok()
        .stdout_has("0 errors");
    let file = repo.dir.join("orphan.yaml");
    let run = env.run([
        "--catalog",
        repo.path(),
        "validate",
        file.to_str().unwrap(),
        "-o",
        "json",
    ]);
    run.code(1);
    let errors = positions(&run.json()["errors"]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "dangling-reference");
    assert!(errors[0].1.ends_with("orphan.yaml"), "{errors:?}");
}

#[test]
fn validate_rejects_csv() {
    let env = TestEnv::new();
    env.run(["--catalog", &acme(), "validate", "-o", "csv"])
        .code(2);
}
