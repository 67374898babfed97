//! `idp score`, scorecard validation, and the Scorecards parts of `show`
//! and `list`. Every run pins the clock with IDP_NOW.

use crate::common::{acme, component, CatalogBuilder, TestEnv};

const NOW: &str = "2026-11-29T00:00:00Z";

/// A scorecard with the given rules (YAML list items, indented 4).
fn card(name: &str, gate: &str, rules: &str, extra: &str) -> String {
    format!(
        "apiVersion: idp.dev/v1alpha1\nkind: Scorecard\nmetadata:\n  name: {name}\nspec:\n  appliesTo:\n    kinds: [Component]\n  levels:\n    - {{ id: bronze }}\n    - {{ id: silver }}\n    - {{ id: gold }}\n{gate}  rules:\n{rules}{extra}"
    )
}

const RULES: &str = "
    - id: owned
      level: bronze
      check: 'has(entity.spec.owner)'
    - id: slug
      level: silver
      check: 'has(entity.metadata.annotations) && \"github.com/project-slug\" in entity.metadata.annotations'
      message: 'Annotate the slug of {{ entity.metadata.name }}.'
      docs: https://wiki.test/slug
    - id: coverage
      level: gold
      check: 'live.sonarqube.coverage >= 80.0'
";

fn env() -> TestEnv {
    TestEnv::at(NOW)
}

fn catalog(env: &TestEnv, scorecard: &str) -> crate::common::Repo {
    CatalogBuilder::standard(env.dir("cat"))
        .file("scorecards/ready.yaml", scorecard)
        .build()
}

#[test]
fn json_contract_levels_and_gate() {
    let env = env();
    let repo = catalog(
        &env,
        &card("ready", "  gate: { minLevel: silver }\n", RULES, ""),
    );
    let run = env.run(["--catalog", repo.path(), "score", "-o", "json"]);
    run.code(1);
    let v = run.json();
    let results = v["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    let ledger = &results[0];
    assert_eq!(ledger["entity"], "component:default/ledger");
    assert_eq!(ledger["scorecard"], "ready");
    assert_eq!(ledger["level"], "gold");
    assert_eq!(ledger["uncertain"], true);
    assert_eq!(ledger["rules"][2]["state"], "unknown");
    assert_eq!(
        ledger["rules"][2]["message"],
        "live.sonarqube is unavailable: no integration configured"
    );
    let storefront = &results[1];
    assert_eq!(storefront["level"], "bronze");
    assert_eq!(storefront["rules"][1]["state"], "fail");
    assert_eq!(
        storefront["rules"][1]["message"],
        "Annotate the slug of storefront."
    );
    assert_eq!(v["gate"]["minLevel"], "silver");
    assert_eq!(v["gate"]["passed"], false);

    // The flag overrides the scorecard's gate.
    env.run(["--catalog", repo.path(), "score", "--min-level", "bronze"])
        .code(0)
        .stdout_has("gate: passed");
    // --unknown fail: the unknown coverage keeps ledger at silver; the gate at gold fails.
    let run = env.run([
        "--catalog",
        repo.path(),
        "score",
        "ledger",
        "--min-level",
        "gold",
        "--unknown",
        "fail",
        "-o",
        "json",
    ]);
    run.code(1);
    assert_eq!(run.json()["results"][0]["level"], "silver");
    env.run([
        "--catalog",
        repo.path(),
        "score",
        "ledger",
        "--min-level",
        "gold",
    ])
    .code(0)
    .stdout_has("Gold?");
}

#[test]
fn table_shows_levels_findings_and_summary() {
    let env = env();
    let repo = catalog(&env, &card("ready", "", RULES, ""));
    env.run(["--catalog", repo.path(), "score"])
        .code(0)
        .stdout_has("ledger      Gold?")
        .stdout_has("storefront  Bronze  silver: slug")
        .stdout_has(
            "slug (silver)    fail     Annotate the slug of storefront. https://wiki.test/slug",
        )
        .stdout_has("Gold 1 · Silver 0 · Bronze 1 · none 0")
        .stdout_has("gate: none");
}

#[test]
fn enforce_from_and_exemptions_depend_on_now() {
    let rules = "
    - id: slug
      level: bronze
      enforceFrom: 2027-01-31
      check: 'has(entity.metadata.annotations)'
    - id: tagged
      level: bronze
      check: 'has(entity.metadata.tags) && \"java\" in entity.metadata.tags'
";
    let extra = "  exemptions:\n    - { rule: tagged, entities: [storefront], reason: ADR-42, expires: 2027-03-31 }\n";
    let mut env = env();
    let repo = catalog(
        &env,
        &card("ready", "  gate: { minLevel: bronze }\n", rules, extra),
    );
    let run = env.run([
        "--catalog",
        repo.path(),
        "score",
        "storefront",
        "-o",
        "json",
    ]);
    run.code(0);
    let v = run.json();
    assert_eq!(v["results"][0]["rules"][0]["state"], "warn");
    assert_eq!(v["results"][0]["rules"][1]["state"], "exempt");
    assert_eq!(
        v["results"][0]["rules"][1]["message"],
        "ADR-42 (until 2027-03-31)"
    );
    // After both dates: enforced, and the expired exemption is ignored (validate warns).
    env.env("IDP_NOW", "2027-04-01T00:00:00Z");
    let run = env.run([
        "--catalog",
        repo.path(),
        "score",
        "storefront",
        "-o",
        "json",
    ]);
    run.code(1);
    assert_eq!(run.json()["results"][0]["rules"][0]["state"], "fail");
    assert_eq!(run.json()["results"][0]["rules"][1]["state"], "fail");
    env.run(["--catalog", repo.path(), "validate"])
        .code(0)
        .stdout_has("expired on 2027-03-31");
}

#[test]
fn bad_now_is_a_usage_error() {
    let mut env = env();
    let repo = catalog(&env, &card("ready", "", RULES, ""));
    env.env("IDP_NOW", "tomorrow");
    env.run(["--catalog", repo.path(), "score"])
        .code(2)
        .stderr_has("IDP_NOW='tomorrow'");
}

#[test]
fn invalid_cel_is_reported_with_file_and_line() {
    let rules = "    - id: broken\n      level: bronze\n      check: 'entity.spec.owner =='\n";
    let env = env();
    let repo = catalog(&env, &card("ready", "", rules, ""));
    env.run(["--catalog", repo.path(), "validate"])
        .code(1)
        .stdout_has("scorecards/ready.yaml:15:14")
        .stdout_has("invalid CEL");
    env.run(["--catalog", repo.path(), "score"])
        .code(2)
        .stderr_has("invalid scorecard")
        .stderr_has("spec.rules.0.check");
}

#[test]
fn unknown_level_and_function_are_errors() {
    let rules = "    - id: a\n      level: platinum\n      check: 'true'\n    - id: b\n      level: bronze\n      check: 'ref_knd(entity.spec.owner, \"group\") == \"group\"'\n";
    let env = env();
    let repo = catalog(&env, &card("ready", "", rules, ""));
    env.run(["--catalog", repo.path(), "validate"])
        .code(1)
        .stdout_has("scorecards/ready.yaml:14:14")
        .stdout_has(
            "level \"platinum\" is not one of this scorecard's levels: bronze, silver, gold",
        )
        .stdout_has("unknown function ref_knd; did you mean ref_kind?");
}

#[test]
fn duplicate_levels_and_rules_are_errors() {
    let text = "apiVersion: idp.dev/v1alpha1\nkind: Scorecard\nmetadata:\n  name: dup\nspec:\n  levels:\n    - { id: bronze }\n    - { id: bronze }\n  rules:\n    - { id: a, level: bronze, check: 'true' }\n    - { id: a, level: bronze, check: 'true' }\n";
    let env = env();
    let repo = catalog(&env, text);
    env.run(["--catalog", repo.path(), "validate"])
        .code(1)
        .stdout_has("scorecards/ready.yaml:8:")
        .stdout_has("level \"bronze\" is listed twice")
        .stdout_has("scorecards/ready.yaml:11:")
        .stdout_has("rule id \"a\" is used twice");
}

#[test]
fn runaway_expressions_are_refused() {
    let list = format!(
        "[{}]",
        (0..200)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let rules = format!(
        "    - id: slow\n      level: bronze\n      check: '{list}.all(a, {list}.all(b, {list}.all(c, a + b + c >= 0)))'\n"
    );
    let env = env();
    let repo = catalog(&env, &card("ready", "", &rules, ""));
    env.run(["--catalog", repo.path(), "validate"])
        .code(1)
        .stdout_has("may run away");
    env.run(["--catalog", repo.path(), "score"]).code(2);
}

#[test]
fn a_field_most_entities_lack_is_an_error_state_not_a_crash() {
    let rules = "    - id: tier\n      level: bronze\n      check: 'entity.metadata.labels.tier == \"1\"'\n";
    let env = env();
    let repo = catalog(
        &env,
        &card("ready", "  gate: { minLevel: bronze }\n", rules, ""),
    );
    let run = env.run(["--catalog", repo.path(), "score", "-o", "json"]);
    run.code(1);
    let rule = &run.json()["results"][0]["rules"][0];
    assert_eq!(rule["state"], "error");
    let message = rule["message"].as_str().expect("message");
    assert!(message.contains("no such key: labels"), "{message}");
    assert!(message.contains("has("), "{message}");
}

#[test]
fn exemptions_for_unknown_rules_or_entities_warn() {
    let extra = "  exemptions:\n    - { rule: nope, entities: [ledger], reason: r }\n    - { rule: owned, entities: [component:default/ghost], reason: r }\n";
    let env = env();
    let repo = catalog(&env, &card("ready", "", RULES, extra));
    env.run(["--catalog", repo.path(), "validate"])
        .code(0)
        .stdout_has("exemption for rule \"nope\", which this scorecard does not have")
        .stdout_has("component:default/ghost, which is not in the catalog");
    env.run(["--catalog", repo.path(), "score"])
        .code(0)
        .stderr_has("exemption for rule \"nope\"");
}

#[test]
fn unknown_scorecard_or_level_lists_the_choices() {
    let env = env();
    let repo = catalog(&env, &card("ready", "", RULES, ""));
    env.run(["--catalog", repo.path(), "score", "--scorecard", "nope"])
        .code(2)
        .stderr_has("no scorecard named 'nope'; the catalog has: ready");
    env.run(["--catalog", repo.path(), "score", "--min-level", "platinum"])
        .code(2)
        .stderr_has("ready has bronze, silver, gold");
    env.run([
        "--catalog",
        repo.path(),
        "list",
        "--scorecard",
        "ready",
        "--level",
        "platinum",
    ])
    .code(2)
    .stderr_has("use one of: bronze, silver, gold, none");
}

#[test]
fn compare_gates_on_regressions_only() {
    let env = env();
    let repo = catalog(
        &env,
        &card("ready", "  gate: { minLevel: gold }\n", RULES, ""),
    );
    repo.branch("base");
    // Nothing changed: storefront is below gold but did not regress.
    env.run(["--catalog", repo.path(), "score", "--compare", "base"])
        .code(0)
        .stdout_has("no regressions");
    // ledger loses its slug annotation: silver → bronze, slug pass → fail.
    let ledger = std::fs::read_to_string(format!("{}/components.yaml", repo.path()))
        .expect("read")
        .replace(
            "  annotations:\n    github.com/project-slug: acme/ledger\n",
            "",
        );
    repo.write("components.yaml", ledger);
    repo.write("new.yaml", component("fresh", "payments", "production"));
    let run = env.run([
        "--catalog",
        repo.path(),
        "score",
        "--compare",
        "base",
        "-o",
        "json",
    ]);
    run.code(1);
    let v = run.json();
    let regs = v["gate"]["regressions"].as_array().expect("regressions");
    assert_eq!(regs.len(), 1);
    assert_eq!(regs[0]["entity"], "component:default/ledger");
    assert_eq!(regs[0]["from"], "gold");
    assert_eq!(regs[0]["to"], "bronze");
    assert_eq!(regs[0]["rules"][0], "slug");
    // The new entity is gated by the minimum level.
    assert_eq!(
        v["gate"]["scorecards"][0]["below"][0],
        "component:default/fresh"
    );
    env.run([
        "--catalog",
        repo.path(),
        "score",
        "--compare",
        "base",
        "-o",
        "markdown",
    ])
    .code(1)
    .stdout_has("### Regressions\n\n- ledger — ready: gold → bronze; now failing: slug");
    // --changed-since scores only what changed.
    let run = env.run([
        "--catalog",
        repo.path(),
        "score",
        "--changed-since",
        "base",
        "-o",
        "json",
    ]);
    let refs: Vec<String> = run.json()["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["entity"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        refs,
        vec!["component:default/ledger", "component:default/fresh"]
    );
}

#[test]
fn junit_and_sarif_outputs() {
    let env = env();
    let repo = catalog(&env, &card("ready", "", RULES, ""));
    env.run(["--catalog", repo.path(), "score", "-o", "junit"])
        .code(0)
        .stdout_has("<testsuite name=\"ready\" tests=\"6\"")
        .stdout_has("component:default/storefront / slug")
        .stdout_has("<failure message=\"Annotate the slug of storefront. (https://wiki.test/slug)\" type=\"fail\"");
    let run = env.run(["--catalog", repo.path(), "score", "-o", "sarif"]);
    run.code(0);
    let v = run.json();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().expect("results");
    let slug = results
        .iter()
        .find(|r| r["ruleId"] == "ready/slug")
        .expect("slug finding");
    let loc = &slug["locations"][0]["physicalLocation"];
    assert!(loc["artifactLocation"]["uri"]
        .as_str()
        .unwrap_or_default()
        .ends_with("components.yaml"));
    assert_eq!(loc["region"]["startLine"], 13);
}

#[test]
fn file_functions_read_the_entity_directory() {
    let rules = "    - id: readme\n      level: bronze\n      check: 'file_exists(\"README.md\") && file_contains(\"README.md\", \"Runbook\")'\n";
    let env = env();
    let repo = CatalogBuilder::standard(env.dir("cat"))
        .file(
            "svc/a/catalog-info.yaml",
            component("a", "payments", "production"),
        )
        .file("svc/a/README.md", "# A\n\n## Runbook\n")
        .file(
            "svc/b/catalog-info.yaml",
            component("b", "payments", "production"),
        )
        .file("scorecards/ready.yaml", card("ready", "", rules, ""))
        .build();
    let run = env.run(["--catalog", repo.path(), "score", "a", "b", "-o", "json"]);
    let v = run.json();
    assert_eq!(v["results"][0]["level"], "gold");
    assert_eq!(v["results"][1]["level"], serde_json::Value::Null);
}

#[test]
fn show_and_list_use_levels() {
    let env = env();
    let repo = catalog(&env, &card("ready", "", RULES, ""));
    env.run(["--catalog", repo.path(), "show", "storefront"])
        .code(0)
        .stdout_has(
            "Scorecards\nSCORECARD  LEVEL   NEXT LEVEL NEEDS\nready      Bronze  silver: slug",
        );
    let run = env.run([
        "--catalog",
        repo.path(),
        "list",
        "--scorecard",
        "ready",
        "--level",
        "bronze",
        "-o",
        "json",
    ]);
    run.code(0);
    assert_eq!(run.refs(), vec!["component:default/storefront"]);
}

#[test]
fn example_catalog_has_varied_results() {
    let env = env();
    let run = env.run(["--catalog", &acme(), "score", "-o", "json"]);
    run.code(1);
    let v = run.json();
    let levels: Vec<String> = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["level"].as_str().unwrap_or("none").to_string())
        .collect();
    for level in ["gold", "silver", "hardened", "basic", "none"] {
        assert!(
            levels.iter().any(|l| l == level),
            "no {level} in {levels:?}"
        );
    }
    env.run(["--catalog", &acme(), "validate"]).code(0);
}
