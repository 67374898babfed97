//! `idp who-owns`: by entity name or reference, by a path in a checkout
//! (remote annotations, then CODEOWNERS), and by a remote URL.

use crate::common::{acme, component, CatalogBuilder, TestEnv};

#[test]
fn json_answer_names_owner_members_parents_and_contacts() {
    let env = TestEnv::new();
    let run = env.run(["--catalog", &acme(), "who-owns", "checkout", "-o", "json"]);
    run.ok().quiet_stderr();
    let v = run.json();
    assert_eq!(v["entity"], "component:default/checkout");
    let owner = &v["owner"];
    assert_eq!(owner["ref"], "group:default/checkout");
    assert_eq!(owner["displayName"], "Checkout");
    assert_eq!(owner["email"], "checkout@acme.com");
    let members = owner["members"].as_array().expect("members");
    assert!(!members.is_empty());
    for m in members {
        assert!(
            m["ref"].as_str().unwrap().starts_with("user:default/"),
            "{m}"
        );
        assert!(m["email"].as_str().unwrap().contains('@'), "{m}");
    }
    let parents: Vec<&str> = owner["parents"]
        .as_array()
        .expect("parents")
        .iter()
        .map(|p| p["ref"].as_str().unwrap())
        .collect();
    assert_eq!(parents, ["group:default/engineering", "group:default/acme"]);
    let contacts = owner["contacts"].as_array().expect("contacts");
    assert!(contacts
        .iter()
        .any(|c| c["kind"] == "email" && c["value"] == "checkout@acme.com"));
}

#[test]
fn human_answer_snapshot() {
    let env = TestEnv::new();
    let run = env.run(["--catalog", &acme(), "who-owns", "checkout"]);
    run.ok().quiet_stderr();
    run.stdout_has("group:default/checkout")
        .stdout_has("chen.wei@acme.com");
    insta::assert_snapshot!("who_owns_checkout", run.stdout);
}

#[test]
fn full_and_case_insensitive_references() {
    let env = TestEnv::new();
    for target in [
        "component:default/checkout",
        "CHECKOUT",
        "Component:Default/Checkout",
    ] {
        let run = env.run(["--catalog", &acme(), "who-owns", target, "-o", "json"]);
        run.ok();
        assert_eq!(
            run.json()["entity"],
            "component:default/checkout",
            "{target}"
        );
    }
}

#[test]
fn a_miss_suggests_the_nearest_name() {
    let env = TestEnv::new();
    let run = env.run(["--catalog", &acme(), "who-owns", "chekout"]);
    run.code(3)
        .stderr_has("no entity matches 'chekout'")
        .stderr_has("did you mean")
        .stderr_has("checkout");
    assert!(run.stdout.is_empty());
}

const API_AND_RESOURCE: &str = "\
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: billing
spec:
  type: openapi
  lifecycle: production
  owner: payments
  definition: openapi
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: billing
spec:
  type: database
  owner: payments
";

#[test]
fn an_ambiguous_name_lists_the_candidates() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::standard(env.dir("cat"))
        .file("billing.yaml", API_AND_RESOURCE)
        .build();
    env.run(["--catalog", repo.path(), "who-owns", "billing"])
        .code(3)
        .stderr_has("ambiguous")
        .stderr_has("api:default/billing")
        .stderr_has("resource:default/billing");
}

#[test]
fn a_component_wins_over_other_kinds_of_the_same_name() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::standard(env.dir("cat"))
        .file("billing.yaml", API_AND_RESOURCE)
        .file(
            "billing-svc.yaml",
            component("billing", "checkout", "production"),
        )
        .build();
    let run = env.run([
        "--catalog",
        repo.path(),
        "who-owns",
        "billing",
        "-o",
        "json",
    ]);
    run.ok();
    assert_eq!(run.json()["entity"], "component:default/billing");
    assert_eq!(run.json()["owner"]["ref"], "group:default/checkout");
}

const CHECKOUT_SERVICE: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout-svc
  annotations:
    github.com/project-slug: acme/checkout
spec:
  type: service
  lifecycle: production
  owner: checkout
";

#[test]
fn dot_inside_a_checkout_matches_the_remote_to_the_project_slug() {
    let env = TestEnv::new();
    let catalog = CatalogBuilder::standard(env.dir("cat"))
        .file("checkout.yaml", CHECKOUT_SERVICE)
        .build();
    let service = CatalogBuilder::new(env.dir("src/checkout"))
        .file("README.md", "checkout\n")
        .file("lib/main.ts", "export {}\n")
        .build();
    service.set_remote("origin", "git@github.com:acme/checkout.git");
    let run = env.run_in(
        &service.dir,
        ["--catalog", catalog.path(), "who-owns", ".", "-o", "json"],
    );
    run.ok();
    let v = run.json();
    assert_eq!(v["entity"], "component:default/checkout-svc");
    assert_eq!(v["owner"]["ref"], "group:default/checkout");
    // From a subdirectory too.
    let run = env.run_in(
        &service.dir.join("lib"),
        ["--catalog", catalog.path(), "who-owns", ".", "-o", "json"],
    );
    run.ok();
    assert_eq!(run.json()["entity"], "component:default/checkout-svc");
}

#[test]
fn dot_falls_back_to_codeowners() {
    let env = TestEnv::new();
    let catalog = CatalogBuilder::standard(env.dir("cat")).build();
    let service = CatalogBuilder::new(env.dir("src/unknown"))
        .file(".github/CODEOWNERS", "* @acme/payments\n")
        .file("main.go", "package main\n")
        .build();
    service.set_remote("origin", "git@github.com:acme/unknown.git");
    let run = env.run_in(
        &service.dir,
        ["--catalog", catalog.path(), "who-owns", ".", "-o", "json"],
    );
    run.ok();
    let v = run.json();
    assert_eq!(v["matched"]["by"], "codeowners", "{v}");
    assert_eq!(v["owner"]["ref"], "group:default/payments", "{v}");
    // Human output says where the answer came from.
    env.run_in(&service.dir, ["--catalog", catalog.path(), "who-owns", "."])
        .ok()
        .stdout_has("CODEOWNERS")
        .stdout_has("Payments");
}

#[test]
fn codeowners_team_resolves_by_group_name_without_annotation() {
    let env = TestEnv::new();
    let catalog = CatalogBuilder::standard(env.dir("cat")).build();
    // `checkout` has no team-slug annotation: matched by name.
    let service = CatalogBuilder::new(env.dir("src/web"))
        .file("CODEOWNERS", "* @acme/checkout\n")
        .build();
    service.set_remote("origin", "https://github.com/acme/web.git");
    let run = env.run_in(
        &service.dir,
        ["--catalog", catalog.path(), "who-owns", ".", "-o", "json"],
    );
    run.ok();
    assert_eq!(run.json()["matched"]["by"], "codeowners");
    assert_eq!(run.json()["owner"]["ref"], "group:default/checkout");
}

#[test]
fn dot_with_no_match_and_no_codeowners_exits_3() {
    let env = TestEnv::new();
    let catalog = CatalogBuilder::standard(env.dir("cat")).build();
    let service = CatalogBuilder::new(env.dir("src/orphan"))
        .file("main.go", "package main\n")
        .build();
    service.set_remote("origin", "git@github.com:acme/orphan.git");
    let run = env.run_in(&service.dir, ["--catalog", catalog.path(), "who-owns", "."]);
    run.code(3)
        .stderr_has("acme/orphan")
        .stderr_has("CODEOWNERS");
    assert!(run.stdout.is_empty());
}

#[test]
fn a_remote_url_argument() {
    let env = TestEnv::new();
    for url in [
        "https://github.com/acme/checkout",
        "https://github.com/acme/checkout.git",
        "git@github.com:acme/checkout.git",
    ] {
        let run = env.run(["--catalog", &acme(), "who-owns", url, "-o", "json"]);
        run.ok();
        assert_eq!(
            run.json()["owner"]["ref"],
            "group:default/checkout",
            "{url}"
        );
        assert_eq!(run.json()["entity"], "component:default/checkout", "{url}");
    }
    env.run([
        "--catalog",
        &acme(),
        "who-owns",
        "https://github.com/acme/nope",
    ])
    .code(3);
}
