//! `idp list` (filters, sorting, formats) and `idp show`.

use serde_json::Value;

use crate::common::{acme, CatalogBuilder, TestEnv};

fn list(env: &TestEnv, args: &[&str]) -> Vec<String> {
    let catalog = acme();
    let mut all = vec!["--catalog", catalog.as_str(), "list", "-o", "json"];
    all.extend_from_slice(args);
    let run = env.run(&all);
    run.ok().quiet_stderr();
    run.refs()
}

#[test]
fn json_items_have_ref_kind_metadata_spec() {
    let env = TestEnv::new();
    let run = env.run(["--catalog", &acme(), "list", "-o", "json"]);
    run.ok().quiet_stderr();
    let items = run.json();
    let items = items.as_array().expect("array");
    assert!(items.len() > 50, "{}", items.len());
    for item in items {
        assert!(item["ref"].is_string(), "{item}");
        assert!(item["kind"].is_string(), "{item}");
        assert!(item["metadata"]["name"].is_string(), "{item}");
        if item["kind"] != "Location" {
            assert!(item["spec"].is_object(), "{item}");
        }
    }
}

#[test]
fn filter_by_kind_lifecycle_type_and_tag() {
    let env = TestEnv::new();
    let components = list(&env, &["--kind", "component"]);
    assert!(components.iter().all(|r| r.starts_with("component:")));
    assert!(components.contains(&"component:default/checkout".to_string()));
    // Repeated --kind: either.
    let two = list(&env, &["-k", "api", "--kind", "Resource"]);
    assert!(two.iter().any(|r| r.starts_with("api:")));
    assert!(two.iter().any(|r| r.starts_with("resource:")));
    assert!(two
        .iter()
        .all(|r| r.starts_with("api:") || r.starts_with("resource:")));

    let run = env.run([
        "--catalog",
        &acme(),
        "list",
        "-o",
        "json",
        "--kind",
        "component",
        "--lifecycle",
        "experimental",
    ]);
    run.ok();
    let items = run.json();
    assert!(!items.as_array().unwrap().is_empty());
    for e in items.as_array().unwrap() {
        assert_eq!(e["spec"]["lifecycle"], "experimental", "{e}");
    }

    let libs = list(&env, &["--type", "library"]);
    assert!(libs.contains(&"component:default/tax-calculator".to_string()));
    assert!(!libs.contains(&"component:default/checkout".to_string()));

    let tagged = list(&env, &["--tag", "pci-dss", "--tag", "go"]);
    assert!(
        tagged.contains(&"component:default/ledger".to_string()),
        "{tagged:?}"
    );
    assert!(
        !tagged.contains(&"component:default/checkout".to_string()),
        "{tagged:?}"
    );
}

#[test]
fn filter_by_owner_and_subgroups() {
    let env = TestEnv::new();
    let owned = list(&env, &["--owner", "payments"]);
    assert!(owned.contains(&"component:default/ledger".to_string()));
    assert!(!owned.contains(&"component:default/checkout".to_string()));

    // The department owns nothing itself; its teams own plenty.
    assert!(list(&env, &["--owner", "engineering", "-k", "component"]).is_empty());
    let dept = list(&env, &["--owner", "engineering", "--include-subgroups"]);
    assert!(
        dept.contains(&"component:default/ledger".to_string()),
        "{dept:?}"
    );
    assert!(
        dept.contains(&"component:default/checkout".to_string()),
        "{dept:?}"
    );
    // --include-subgroups needs --owner.
    env.run(["--catalog", &acme(), "list", "--include-subgroups"])
        .code(2);
}

#[test]
fn filter_by_system_and_domain() {
    let env = TestEnv::new();
    let system = list(&env, &["--system", "payments-core"]);
    assert!(system.contains(&"system:default/payments-core".to_string()));
    assert!(system.contains(&"component:default/ledger".to_string()));
    assert!(!system.contains(&"component:default/checkout".to_string()));

    let domain = list(&env, &["--domain", "commerce"]);
    assert!(domain.contains(&"system:default/checkout-platform".to_string()));
    assert!(domain.contains(&"component:default/checkout".to_string()));
    assert!(!domain.contains(&"component:default/ledger".to_string()));
}

#[test]
fn where_conditions() {
    let env = TestEnv::new();
    let slug = list(
        &env,
        &[
            "--where",
            "metadata.annotations.github.com/project-slug=acme/checkout",
        ],
    );
    assert!(
        slug.contains(&"component:default/checkout".to_string()),
        "{slug:?}"
    );
    assert!(!slug.contains(&"component:default/ledger".to_string()));

    let run = env.run([
        "--catalog",
        &acme(),
        "list",
        "-o",
        "json",
        "-k",
        "component",
        "--where",
        "spec.lifecycle!=production",
    ]);
    run.ok();
    let items = run.json();
    let items = items.as_array().unwrap();
    assert!(!items.is_empty());
    for e in items {
        assert_ne!(e["spec"]["lifecycle"], "production", "{e}");
    }
}

#[test]
fn where_without_equals_is_a_usage_error() {
    let env = TestEnv::new();
    let run = env.run(["--catalog", &acme(), "list", "--where", "spec.lifecycle"]);
    run.code(2).stderr_has("--where 'spec.lifecycle'");
    assert!(run.stdout.is_empty());
}

#[test]
fn sort_by_name_ascending_and_descending() {
    let env = TestEnv::new();
    let up = list(&env, &["-k", "component", "--sort", "name"]);
    let mut sorted = up.clone();
    sorted.sort();
    assert_eq!(up, sorted);
    // `=` form.
    let down = list(&env, &["-k", "component", "--sort=-name"]);
    let mut reversed = up.clone();
    reversed.reverse();
    assert_eq!(down, reversed);
}

/// `--sort -name` (a separate argument, as the help's example
/// `--sort -spec.lifecycle` shows) must be taken as the descending sort.
#[test]
fn sort_descending_as_a_separate_argument() {
    let env = TestEnv::new();
    let up = list(&env, &["-k", "component", "--sort", "name"]);
    let down = list(&env, &["-k", "component", "--sort", "-name"]);
    let mut reversed = up.clone();
    reversed.reverse();
    assert_eq!(down, reversed);
}

#[test]
fn csv_has_a_header_row() {
    let env = TestEnv::new();
    let run = env.run(["--catalog", &acme(), "list", "-k", "component", "-o", "csv"]);
    run.ok().quiet_stderr();
    let mut lines = run.stdout.lines();
    let header = lines.next().expect("header");
    assert!(header.starts_with("ref,kind,"), "{header}");
    assert!(header.contains("owner"), "{header}");
    assert!(run.stdout.contains("component:default/checkout,Component,"));
    assert_eq!(lines.count(), list(&env, &["-k", "component"]).len());
}

#[test]
fn yaml_parses_and_matches_json() {
    let env = TestEnv::new();
    let run = env.run(["--catalog", &acme(), "list", "-k", "api", "-o", "yaml"]);
    run.ok();
    let v: Value = idp::yaml::from_str(&run.stdout).expect("valid YAML");
    let refs: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs, list(&env, &["-k", "api"]));
}

#[test]
fn table_output_snapshot() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::standard(env.dir("cat")).build();
    let run = env.run(["--catalog", repo.path(), "list", "-k", "component"]);
    run.ok().quiet_stderr();
    insta::assert_snapshot!("list_components_table", run.stdout);
}

#[test]
fn show_human_has_relations_and_source() {
    let env = TestEnv::new();
    let run = env.run(["--catalog", &acme(), "show", "ledger"]);
    run.ok().quiet_stderr();
    run.stdout_has("Relations")
        .stdout_has("group:default/payments")
        .stdout_has("examples/acme/components/ledger/catalog-info.yaml:2");
}

#[test]
fn show_json_has_ref_relations_source() {
    let env = TestEnv::new();
    let run = env.run([
        "--catalog",
        &acme(),
        "show",
        "api:checkout-api",
        "-o",
        "json",
    ]);
    run.ok();
    let v = run.json();
    assert_eq!(v["ref"], "api:default/checkout-api");
    let relations = v["relations"].as_array().expect("relations");
    assert!(
        relations.iter().any(|r| r["type"] == "ownedBy"),
        "{relations:?}"
    );
    assert!(v["source"]["file"].as_str().unwrap().ends_with(".yaml"));
    assert!(v["source"]["line"].as_u64().unwrap() >= 1);
}

#[test]
fn show_source_line_in_a_multi_document_file() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::standard(env.dir("cat")).build();
    let run = env.run(["--catalog", repo.path(), "show", "storefront", "-o", "json"]);
    run.ok();
    assert_eq!(run.json()["source"]["file"], "components.yaml");
    // The second document starts after the `---` on line 12.
    assert_eq!(run.json()["source"]["line"], 13);
    env.run(["--catalog", repo.path(), "show", "storefront"])
        .ok()
        .stdout_has("components.yaml:13");
}

#[test]
fn show_rejects_csv() {
    let env = TestEnv::new();
    env.run(["--catalog", &acme(), "show", "checkout", "-o", "csv"])
        .code(2)
        .stderr_has("csv");
}

#[test]
fn closed_pipe_is_not_an_error() {
    let env = TestEnv::new();
    let (code, stdout, stderr) = env.pipe_into(&["--catalog", &acme(), "list"], "head -1");
    assert_eq!(code, 0, "stderr: {stderr}");
    assert!(stderr.is_empty(), "stderr: {stderr}");
    assert_eq!(stdout.lines().count(), 1);
}

/// JSON output is written through serde_json, whose I/O errors must still be
/// recognised as a closed pipe.
#[test]
fn closed_pipe_with_json_output_is_not_an_error() {
    let env = TestEnv::new();
    for args in [
        &["--catalog", &acme(), "list", "-o", "json"][..],
        &["--catalog", &acme(), "show", "checkout", "-o", "json"][..],
        &["--catalog", &acme(), "list", "-o", "yaml"][..],
    ] {
        let (code, _, stderr) = env.pipe_into(args, "head -c 1");
        assert_eq!(code, 0, "{args:?}: stderr: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: stderr: {stderr}");
    }
}
