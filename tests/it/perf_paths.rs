//! The fast paths of issue 14 give the same bytes as the slow ones:
//! `list -o json` streamed from the index's text is what pretty-printing
//! each entity's JSON value gives, warm or cold, for awkward documents.

use serde_json::Value;

use crate::common::{CatalogBuilder, TestEnv};

const AWKWARD: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: awkward
  description: "quotes \" backslash \\ tab \t unicode é ✓ \u0001 and a comma, colon: {brace} [bracket]"
  annotations: {}
  tags: []
  labels:
    nested: "x"
spec:
  type: service
  lifecycle: production
  owner: payments
  numbers: [0, -1, 1.5, 2.0e-7, 1e300, 123456789012]
  empty: {inner: [], other: {}}
  nothing: null
  yes_no: [yes, no, true]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: clashing
spec:
  type: service
  lifecycle: production
  owner: payments
source: "the document's own"
relations: [1, 2]
ref: mine
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: mentions-ref
  description: 'a value "ref" and "source" only'
spec:
  type: service
  lifecycle: production
  owner: payments
"#;

#[test]
fn list_json_from_the_index_is_serde_pretty_output_warm_and_cold() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::standard(env.dir("cat"))
        .file("awkward.yaml", AWKWARD)
        .build();
    let args = ["--catalog", repo.path(), "list", "-o", "json"];
    let cold = env.run(args);
    cold.ok();
    let warm = env.run(args);
    warm.ok();
    assert_eq!(warm.stdout, cold.stdout, "warm (index) and cold differ");
    let kinds = env.run([
        "--catalog",
        repo.path(),
        "list",
        "--kind",
        "component",
        "-o",
        "json",
    ]);
    kinds.ok();

    for out in [&cold.stdout, &kinds.stdout] {
        let v: Value = serde_json::from_str(out).expect("JSON");
        // Byte for byte what serde_json's pretty printer writes.
        assert_eq!(
            *out,
            format!("{}\n", serde_json::to_string_pretty(&v).unwrap())
        );
    }
    let v: Value = serde_json::from_str(&cold.stdout).unwrap();
    let list = v.as_array().unwrap();
    let by_name = |n: &str| {
        list.iter()
            .find(|e| e["metadata"]["name"] == n)
            .unwrap_or_else(|| panic!("{n} missing"))
    };
    let awkward = by_name("awkward");
    assert_eq!(
        awkward["metadata"]["description"],
        "quotes \" backslash \\ tab \t unicode é ✓ \u{1} and a comma, colon: {brace} [bracket]"
    );
    assert_eq!(awkward["spec"]["numbers"][3], 2.0e-7);
    assert_eq!(awkward["spec"]["empty"]["inner"], Value::Array(vec![]));
    assert_eq!(
        top_keys(awkward),
        [
            "ref",
            "apiVersion",
            "kind",
            "metadata",
            "spec",
            "relations",
            "source"
        ]
    );
    assert_eq!(awkward["ref"], "component:default/awkward");
    assert_eq!(awkward["source"]["file"], "awkward.yaml");
    assert_eq!(awkward["source"]["document"], 0);
    // A document with its own top-level ref, relations and source keys:
    // they keep their places; its `ref` wins over idp's (the descriptor is
    // merged after it), idp's relations and source replace the others.
    let clashing = by_name("clashing");
    assert_eq!(
        top_keys(clashing),
        [
            "ref",
            "apiVersion",
            "kind",
            "metadata",
            "spec",
            "source",
            "relations"
        ]
    );
    assert_eq!(clashing["ref"], "mine");
    assert_eq!(clashing["source"]["document"], 1);
    assert!(clashing["relations"][0]["type"].is_string(), "{clashing:#}");
    assert_eq!(
        by_name("mentions-ref")["ref"],
        "component:default/mentions-ref"
    );
}

#[test]
fn list_json_of_nothing_is_an_empty_array() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::standard(env.dir("cat")).build();
    let run = env.run([
        "--catalog",
        repo.path(),
        "list",
        "--where",
        "metadata.name=nope",
        "-o",
        "json",
    ]);
    run.ok();
    assert_eq!(run.stdout, "[]\n");
    let warm = env.run([
        "--catalog",
        repo.path(),
        "list",
        "--where",
        "metadata.name=nope",
        "-o",
        "json",
    ]);
    assert_eq!(warm.stdout, "[]\n");
}

#[test]
fn validate_warm_reports_what_cold_reports_without_parsing_unchanged_files() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::standard(env.dir("cat"))
        .file("awkward.yaml", AWKWARD)
        .file(
            "costed.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: costed\n  annotations:\n    idp.dev/cost-selector: \"no equals sign\"\nspec:\n  type: service\n  lifecycle: production\n  owner: payments\n",
        )
        .build();
    let args = ["--catalog", repo.path(), "validate", "-o", "json"];
    let cold = env.run(args);
    let warm = env.run(args);
    let again = env.run(args);
    assert_eq!(cold.code, 1, "{}", cold.stdout);
    assert_eq!(warm.stdout, cold.stdout);
    assert_eq!(again.stdout, cold.stdout);
    assert!(
        cold.stdout.contains("invalid-cost-selector"),
        "{}",
        cold.stdout
    );
}

/// An object's keys, in their order.
fn top_keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}
