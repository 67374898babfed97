//! `idp impact` (everything that depends on an entity, transitively) and
//! `idp graph` (an entity's neighbourhood as a tree, dot or mermaid).

use serde_json::Value;

use crate::common::{acme, CatalogBuilder, Repo, TestEnv};

/// Two teams, and around `core`:
/// - `svc` dependsOn `core`, `app` dependsOn `svc` (depth 2 via svc);
/// - `core` provides `core-api`, consumed by `client` (depth 2 via core-api);
/// - `core-plugin` is a subcomponent of `core`;
/// - `core` is part of system `sys`, which is in domain `dom`;
/// - `core` declares `dependencyOf: component:ghost`, which does not exist;
/// - `loop-a` dependsOn `loop-b` dependsOn `loop-a` (a cycle).
const GRAPH: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  profile:
    displayName: Team A
    email: team-a@acme.test
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-b
spec:
  type: team
  profile:
    displayName: Team B
    email: team-b@acme.test
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata:
  name: dom
spec:
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: sys
spec:
  owner: team-a
  domain: dom
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: core
spec:
  type: service
  lifecycle: production
  owner: team-a
  system: sys
  providesApis: [core-api]
  dependencyOf: [component:ghost]
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: core-api
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition: openapi
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: core-plugin
spec:
  type: library
  lifecycle: production
  owner: team-a
  subcomponentOf: core
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc
spec:
  type: service
  lifecycle: production
  owner: team-b
  dependsOn: [component:core]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: app
spec:
  type: website
  lifecycle: production
  owner: team-b
  dependsOn: [component:svc]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: client
spec:
  type: service
  lifecycle: experimental
  owner: team-a
  consumesApis: [core-api]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: loop-a
spec:
  type: service
  lifecycle: production
  owner: team-a
  dependsOn: [component:loop-b]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: loop-b
spec:
  type: service
  lifecycle: production
  owner: team-b
  dependsOn: [component:loop-a]
";

fn graph_catalog(env: &TestEnv) -> Repo {
    CatalogBuilder::new(env.dir("cat"))
        .file("idp.yaml", "exclude: []\n")
        .file("catalog.yaml", GRAPH)
        .build()
}

/// `dependents` of an `impact -o json` answer, by entity reference.
fn dependents(v: &Value) -> Vec<&Value> {
    v["dependents"]
        .as_array()
        .expect("dependents array")
        .iter()
        .collect()
}

fn find<'a>(v: &'a Value, entity: &str) -> &'a Value {
    dependents(v)
        .into_iter()
        .find(|d| d["entity"] == entity)
        .unwrap_or_else(|| panic!("{entity} not among the dependents:\n{v:#}"))
}

fn entities(v: &Value) -> Vec<String> {
    dependents(v)
        .iter()
        .map(|d| d["entity"].as_str().expect("entity").to_string())
        .collect()
}

// ------------------------------------------------------------------ impact

#[test]
fn impact_json_contract_on_the_example_catalog() {
    let env = TestEnv::new();
    let run = env.run(["--catalog", &acme(), "impact", "ledger", "-o", "json"]);
    run.ok().quiet_stderr();
    let v = run.json();
    assert_eq!(v["entity"], "component:default/ledger");
    let deps = dependents(&v);
    assert!(!deps.is_empty(), "{v:#}");
    let mut seen = std::collections::HashSet::new();
    let mut last_depth = 0;
    for d in &deps {
        let entity = d["entity"].as_str().expect("entity is a string");
        assert!(seen.insert(entity), "{entity} listed twice");
        let depth = d["depth"].as_u64().expect("depth is a number");
        assert!(depth >= 1, "{d}");
        assert!(depth >= last_depth, "sorted by depth: {v:#}");
        last_depth = depth;
        // `via` names the parent only (the full path of every dependent
        // would grow with the square of a chain's length).
        let via = d["via"].as_array().expect("via is an array");
        assert_eq!(
            via.len() as u64,
            (depth - 1).min(1),
            "via holds the dependent it was reached through: {d}"
        );
        if let Some(parent) = via.first().and_then(|p| p.as_str()) {
            assert_eq!(
                find(&v, parent)["depth"].as_u64(),
                Some(depth - 1),
                "the parent is one hop nearer: {d}"
            );
        }
        assert!(
            via.iter()
                .all(|r| r.as_str().is_some_and(|s| s.contains(':'))),
            "{d}"
        );
        assert!(d.get("owner").is_some(), "owner key present: {d}");
    }
    // Direct dependents: the API it provides, the components that depend on
    // it, and the system above it.
    for direct in [
        "api:default/ledger-grpc",
        "component:default/payments-gateway",
        "system:default/payments-core",
    ] {
        assert_eq!(find(&v, direct)["depth"], 1, "{direct}");
    }
    assert_eq!(
        find(&v, "api:default/ledger-grpc")["via"],
        serde_json::json!([])
    );
    assert_eq!(
        find(&v, "component:default/payments-gateway")["owner"],
        "group:default/payments"
    );
    // The domain above the system, via the system.
    let domain = find(&v, "domain:default/payments");
    assert_eq!(domain["depth"], 2);
    assert_eq!(
        domain["via"],
        serde_json::json!(["system:default/payments-core"])
    );
    // Further out: a consumer of an API of a dependent.
    let checkout = find(&v, "component:default/checkout");
    assert!(checkout["depth"].as_u64().unwrap() >= 2);
    assert_eq!(checkout["owner"], "group:default/checkout");
    assert!(
        !seen.contains("component:default/ledger"),
        "the root is not its own dependent"
    );
}

#[test]
fn impact_human_output_on_the_example_catalog_lists_owners_and_contacts() {
    let env = TestEnv::new();
    let run = env.run(["--catalog", &acme(), "impact", "ledger"]);
    run.ok()
        .quiet_stderr()
        .stdout_has("component:default/ledger")
        .stdout_has("component:default/payments-gateway")
        .stdout_has("(direct)")
        .stdout_has("via payments-gateway")
        .stdout_has("payments@acme.com")
        .stdout_has("checkout@acme.com")
        .stdout_has("owners to notify");
}

#[test]
fn impact_exact_dependents_depths_and_paths() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    let run = env.run(["--catalog", cat.path(), "impact", "core", "-o", "json"]);
    run.ok();
    let v = run.json();
    assert_eq!(v["entity"], "component:default/core");
    let got: Vec<(String, u64, Vec<String>)> = dependents(&v)
        .iter()
        .map(|d| {
            (
                d["entity"].as_str().unwrap().to_string(),
                d["depth"].as_u64().unwrap(),
                d["via"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    let exp = |e: &str, depth: u64, via: &[&str]| {
        (
            e.to_string(),
            depth,
            via.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        got,
        vec![
            exp("api:default/core-api", 1, &[]),
            exp("component:default/core-plugin", 1, &[]),
            exp("component:default/ghost", 1, &[]),
            exp("component:default/svc", 1, &[]),
            exp("system:default/sys", 1, &[]),
            exp("component:default/app", 2, &["component:default/svc"]),
            exp("component:default/client", 2, &["api:default/core-api"]),
            exp("domain:default/dom", 2, &["system:default/sys"]),
        ],
        "{v:#}"
    );
    // Owners and whether each exists.
    assert_eq!(
        find(&v, "component:default/svc")["owner"],
        "group:default/team-b"
    );
    assert_eq!(
        find(&v, "component:default/client")["owner"],
        "group:default/team-a"
    );
    assert_eq!(find(&v, "component:default/svc")["exists"], true);
    let contacts = find(&v, "component:default/app")["contacts"].to_string();
    assert!(contacts.contains("team-b@acme.test"), "{contacts}");
}

#[test]
fn impact_consumers_of_a_provided_api_come_via_the_api() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    let run = env.run(["--catalog", cat.path(), "impact", "core", "-o", "json"]);
    let v = run.json();
    let api = find(&v, "api:default/core-api");
    assert_eq!(api["depth"], 1);
    assert_eq!(api["relation"], "providesApi");
    let client = find(&v, "component:default/client");
    assert_eq!(client["depth"], 2);
    assert_eq!(client["via"], serde_json::json!(["api:default/core-api"]));
    assert_eq!(client["relation"], "apiConsumedBy");
}

#[test]
fn impact_depth_one_lists_only_direct_dependents() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    let run = env.run([
        "--catalog",
        cat.path(),
        "impact",
        "core",
        "--depth",
        "1",
        "-o",
        "json",
    ]);
    run.ok();
    let v = run.json();
    assert_eq!(
        entities(&v),
        [
            "api:default/core-api",
            "component:default/core-plugin",
            "component:default/ghost",
            "component:default/svc",
            "system:default/sys",
        ]
    );
    assert!(dependents(&v).iter().all(|d| d["depth"] == 1));
}

#[test]
fn impact_terminates_on_a_dependency_cycle_and_lists_each_once() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    let run = env.run(["--catalog", cat.path(), "impact", "loop-a", "-o", "json"]);
    run.ok();
    let v = run.json();
    // loop-b depends on loop-a; loop-a (the root) depends on loop-b but is
    // never listed as its own dependent.
    assert_eq!(entities(&v), ["component:default/loop-b"], "{v:#}");
    assert_eq!(find(&v, "component:default/loop-b")["depth"], 1);
}

#[test]
fn impact_shows_a_dangling_reference_without_failing() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    let run = env.run(["--catalog", cat.path(), "impact", "core", "-o", "json"]);
    run.ok();
    let v = run.json();
    let ghost = find(&v, "component:default/ghost");
    assert_eq!(ghost["exists"], false);
    assert_eq!(ghost["depth"], 1);
    assert_eq!(ghost["owner"], Value::Null);
    let human = env.run(["--catalog", cat.path(), "impact", "core"]);
    human
        .ok()
        .stdout_has("component:default/ghost (not in the catalog)");
}

#[test]
fn impact_human_table_lists_depth_path_owner_and_contact() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    let run = env.run(["--catalog", cat.path(), "impact", "core"]);
    run.ok();
    let app = run
        .stdout
        .lines()
        .find(|l| l.contains("component:default/app"))
        .unwrap_or_else(|| panic!("no app row:\n{}", run.stdout));
    assert!(app.trim_start().starts_with('2'), "{app}");
    assert!(app.contains("via svc"), "{app}");
    assert!(app.contains("team-b"), "{app}");
    assert!(app.contains("team-b@acme.test"), "{app}");
    run.stdout_has("8 dependents, 2 owners to notify");
}

#[test]
fn impact_of_an_entity_nothing_depends_on() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    let run = env.run(["--catalog", cat.path(), "impact", "app", "-o", "json"]);
    run.ok();
    assert_eq!(run.json()["dependents"], serde_json::json!([]));
    env.run(["--catalog", cat.path(), "impact", "app"])
        .ok()
        .stdout_has("Nothing in the catalog depends on it.");
}

#[test]
fn impact_unknown_entity_exits_3_and_unsupported_format_exits_2() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    env.run(["--catalog", cat.path(), "impact", "nope"]).code(3);
    env.run(["--catalog", cat.path(), "impact", "core", "-o", "dot"])
        .code(2)
        .stderr_has("invalid value 'dot'")
        .stderr_has("[possible values: table, json, yaml]");
}

// ------------------------------------------------------------------ graph

#[test]
fn graph_tree_default_has_uses_and_used_by_sections() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    let run = env.run(["--catalog", cat.path(), "graph", "svc"]);
    run.ok();
    let out = &run.stdout;
    let uses = out
        .find("uses:")
        .unwrap_or_else(|| panic!("no uses:\n{out}"));
    let used_by = out
        .find("used by:")
        .unwrap_or_else(|| panic!("no used by:\n{out}"));
    assert!(uses < used_by, "{out}");
    // core is used (dependsOn), app uses svc.
    let (up, down) = out.split_at(used_by);
    assert!(
        up.contains("dependsOn:") && up.contains("component:default/core"),
        "{out}"
    );
    assert!(down.contains("component:default/app"), "{out}");
    assert!(!down.contains("component:default/core "), "{out}");
    // -o tree is the same as the default.
    let tree = env.run(["--catalog", cat.path(), "graph", "svc", "-o", "tree"]);
    tree.ok();
    assert_eq!(tree.stdout, run.stdout);
}

#[test]
fn graph_direction_up_and_down() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    let up = env.run(["--catalog", cat.path(), "graph", "svc", "--direction", "up"]);
    up.ok()
        .stdout_has("uses:")
        .stdout_lacks("used by:")
        .stdout_has("component:default/core")
        .stdout_lacks("component:default/app");
    let down = env.run([
        "--catalog",
        cat.path(),
        "graph",
        "svc",
        "--direction",
        "down",
    ]);
    down.ok()
        .stdout_has("used by:")
        .stdout_lacks("uses:")
        .stdout_has("component:default/app")
        .stdout_lacks("component:default/core");
    env.run([
        "--catalog",
        cat.path(),
        "graph",
        "svc",
        "--direction",
        "sideways",
    ])
    .code(2);
}

#[test]
fn graph_depth_limits_the_walk() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    // app → svc → core → sys → dom going up.
    let one = env.run([
        "--catalog",
        cat.path(),
        "graph",
        "app",
        "--direction",
        "up",
        "--depth",
        "1",
        "-o",
        "json",
    ]);
    one.ok();
    let v = one.json();
    let uses = v["uses"].as_array().unwrap();
    assert_eq!(uses.len(), 1, "{v:#}");
    assert_eq!(uses[0]["entity"], "component:default/svc");
    assert_eq!(uses[0]["children"], serde_json::json!([]));
    let refs = |v: &Value| v["nodes"].to_string();
    assert!(!refs(&v).contains("component:default/core"), "{v:#}");
    let three = env.run([
        "--catalog",
        cat.path(),
        "graph",
        "app",
        "--direction",
        "up",
        "--depth",
        "3",
        "-o",
        "json",
    ]);
    let v3 = three.json();
    assert!(refs(&v3).contains("component:default/core"), "{v3:#}");
    assert!(refs(&v3).contains("system:default/sys"), "{v3:#}");
    assert!(!refs(&v3).contains("domain:default/dom"), "{v3:#}");
    let text = env.run(["--catalog", cat.path(), "graph", "app", "--depth", "1"]);
    text.ok()
        .stdout_has("component:default/svc")
        .stdout_lacks("component:default/core");
}

#[test]
fn graph_marks_cycles_in_tree_and_json() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    let run = env.run(["--catalog", cat.path(), "graph", "loop-a", "--depth", "5"]);
    run.ok().stdout_has("cycle");
    let cycle_line = run
        .stdout
        .lines()
        .find(|l| l.contains("cycle"))
        .unwrap()
        .to_string();
    assert!(
        cycle_line.contains("component:default/loop-a"),
        "{cycle_line}"
    );
    let json = env.run([
        "--catalog",
        cat.path(),
        "graph",
        "loop-a",
        "--depth",
        "5",
        "-o",
        "json",
    ]);
    json.ok();
    let v = json.json();
    assert_eq!(v["has_cycle"], true, "{v:#}");
    let text = v.to_string();
    assert!(text.contains("\"cycle\":true"), "{v:#}");
    // Up: loop-a → loop-b → loop-a (marked, not expanded).
    let b = &v["uses"][0];
    assert_eq!(b["entity"], "component:default/loop-b");
    assert_eq!(b["cycle"], false);
    let back = &b["children"][0];
    assert_eq!(back["entity"], "component:default/loop-a");
    assert_eq!(back["cycle"], true);
    assert_eq!(back["children"], serde_json::json!([]));
    // No cycle elsewhere.
    let plain = env.run(["--catalog", cat.path(), "graph", "app", "-o", "json"]);
    assert_eq!(plain.json()["has_cycle"], false);
}

#[test]
fn graph_dot_is_graphviz() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    let run = env.run(["--catalog", cat.path(), "graph", "svc", "-o", "dot"]);
    run.ok();
    let out = run.stdout.trim();
    assert!(out.starts_with("digraph"), "{out}");
    assert!(out.ends_with('}'), "{out}");
    assert_eq!(out.matches('{').count(), out.matches('}').count(), "{out}");
    assert!(
        out.contains("\"component:default/svc\" -> \"component:default/core\""),
        "{out}"
    );
    assert!(
        out.contains("\"component:default/app\" -> \"component:default/svc\""),
        "{out}"
    );
    assert!(out.contains("dependsOn"), "{out}");
}

#[test]
fn graph_dot_marks_a_dangling_node() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    // core is a dependencyOf ghost: ghost dependsOn core, ghost is missing.
    let run = env.run(["--catalog", cat.path(), "graph", "core", "-o", "dot"]);
    run.ok();
    let ghost = run
        .stdout
        .lines()
        .find(|l| l.contains("\"component:default/ghost\" [label="))
        .unwrap_or_else(|| panic!("no ghost node:\n{}", run.stdout))
        .to_string();
    assert!(ghost.contains("dashed"), "{ghost}");
    env.run(["--catalog", cat.path(), "graph", "core"])
        .ok()
        .stdout_has("(not in the catalog)");
}

#[test]
fn graph_mermaid_renders_edges() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    let run = env.run(["--catalog", cat.path(), "graph", "svc", "-o", "mermaid"]);
    run.ok();
    assert!(run.stdout.starts_with("graph LR\n"), "{}", run.stdout);
    run.stdout_has("-->|dependsOn|")
        .stdout_has("component_default_svc -->|dependsOn| component_default_core")
        .stdout_has("component_default_app -->|dependsOn| component_default_svc");
}

#[test]
fn graph_api_provider_and_consumer() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    let run = env.run([
        "--catalog",
        cat.path(),
        "graph",
        "core-api",
        "-o",
        "mermaid",
    ]);
    run.ok()
        .stdout_has("component_default_core -->|providesApi| api_default_core_api")
        .stdout_has("component_default_client -->|consumesApi| api_default_core_api");
}

#[test]
fn graph_unsupported_format_exits_2() {
    let env = TestEnv::new();
    let cat = graph_catalog(&env);
    let run = env.run(["--catalog", cat.path(), "graph", "svc", "-o", "csv"]);
    run.code(2).stderr_has("csv");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    env.run(["--catalog", cat.path(), "graph", "nope"]).code(3);
}

#[test]
fn graph_on_the_example_catalog() {
    let env = TestEnv::new();
    let run = env.run(["--catalog", &acme(), "graph", "ledger"]);
    run.ok()
        .quiet_stderr()
        .stdout_has("used by:")
        .stdout_has("component:default/payments-gateway");
    let dot = env.run([
        "--catalog",
        &acme(),
        "graph",
        "ledger",
        "-o",
        "dot",
        "--depth",
        "3",
    ]);
    dot.ok().stdout_has("digraph").stdout_has(" -> ");
}
