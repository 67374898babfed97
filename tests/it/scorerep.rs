//! Speed work on `score` and `report` (issues 14 and 16) must not change
//! answers: `matches` with its patterns compiled once per run still gives
//! the crate's results and errors, cold and warm; and `report` scores every
//! entity from one read of the score cache, with the same levels and
//! messages `score -o json` gives.

use serde_json::Value;

use crate::common::{report_verbose, CatalogBuilder, Repo, TestEnv, ORG};

const NOW: &str = "2026-11-29T00:00:00Z";

/// `matches` with a fixed pattern, a pattern from the entity's data (a
/// different one per entity) and a pattern that does not compile.
const NAMING: &str = "\
apiVersion: idp.dev/v1alpha1
kind: Scorecard
metadata:
  name: naming
spec:
  appliesTo: { kinds: [Component] }
  levels: [{ id: bronze }, { id: silver }]
  rules:
    - id: kebab
      level: bronze
      check: 'entity.metadata.name.matches(\"^[a-z]+(-[a-z]+)*$\")'
      message: '{{ entity.metadata.name }} is not kebab-case.'
    - id: own-prefix
      level: bronze
      check: 'entity.spec.type.matches(\"^\" + entity.spec.lifecycle)'
    - id: broken
      level: silver
      check: 'entity.metadata.name.matches(\"(\")'
";

fn component(name: &str, kind: &str, lifecycle: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: {kind}\n  lifecycle: {lifecycle}\n  owner: payments\n"
    )
}

fn catalog(env: &TestEnv) -> Repo {
    let mut b = CatalogBuilder::new(env.dir("cat"))
        .file("idp.yaml", "exclude: []\n")
        .file("org.yaml", ORG)
        .file("scorecards/naming.yaml", NAMING);
    for (i, (name, kind, lifecycle)) in [
        ("api-gw", "production-service", "production"),
        ("Billing_2", "service", "experimental"),
        ("search", "experimental-tool", "experimental"),
    ]
    .into_iter()
    .enumerate()
    {
        b = b.file(&format!("svc/{i}.yaml"), component(name, kind, lifecycle));
    }
    b.build()
}

/// `(entity, rule) -> (state, message)` of `score -o json`.
fn states(json: &Value) -> Vec<(String, String, String, Option<String>)> {
    let mut out = Vec::new();
    for r in json["results"].as_array().expect("results") {
        for o in r["rules"].as_array().expect("rules") {
            out.push((
                r["entity"].as_str().unwrap_or("").to_string(),
                o["id"].as_str().unwrap_or("").to_string(),
                o["state"].as_str().unwrap_or("").to_string(),
                o["message"].as_str().map(str::to_string),
            ));
        }
    }
    out
}

#[test]
fn matches_answers_as_the_cel_crate_does_cold_and_warm() {
    let env = TestEnv::at(NOW);
    let repo = catalog(&env);
    let cold = env.run(["--catalog", repo.path(), "score", "-o", "json"]);
    cold.ok();
    let got = states(&cold.json());
    let state = |entity: &str, rule: &str| {
        got.iter()
            .find(|(e, r, _, _)| {
                e.to_ascii_lowercase().ends_with(&format!("/{entity}")) && r == rule
            })
            .map(|(_, _, s, m)| (s.clone(), m.clone()))
            .unwrap_or_else(|| panic!("no {entity}/{rule} in {got:?}"))
    };
    assert_eq!(state("api-gw", "kebab").0, "pass");
    assert_eq!(
        state("billing_2", "kebab"),
        (
            "fail".to_string(),
            Some("Billing_2 is not kebab-case.".to_string())
        )
    );
    // A pattern built from each entity's own data.
    assert_eq!(state("api-gw", "own-prefix").0, "pass");
    assert_eq!(state("billing_2", "own-prefix").0, "fail");
    assert_eq!(state("search", "own-prefix").0, "pass");
    // A pattern that does not compile is an error with the crate's words,
    // for every entity (the failed compilation is remembered, not skipped).
    for entity in ["api-gw", "billing_2", "search"] {
        let (s, m) = state(entity, "broken");
        assert_eq!(s, "error", "{entity}");
        let m = m.unwrap_or_default();
        assert!(m.contains("'(' not a valid regex"), "{entity}: {m}");
    }
    // Warm (from the score cache): the same bytes.
    let warm = env.run(["--catalog", repo.path(), "score", "-o", "json"]);
    warm.ok();
    assert_eq!(warm.stdout, cold.stdout);
    let table_cold = env.run(["--catalog", repo.path(), "score"]);
    let _ = std::fs::remove_dir_all(env.cache.join("idp"));
    let table_fresh = env.run(["--catalog", repo.path(), "score"]);
    assert_eq!(table_cold.stdout, table_fresh.stdout);
    assert!(table_fresh.stdout.contains("Billing_2 is not kebab-case."));
}

#[test]
fn report_scores_every_entity_from_one_read_of_the_score_cache() {
    let env = TestEnv::at(NOW);
    let repo = catalog(&env);
    // Fill the score cache, then report from it.
    env.run(["--catalog", repo.path(), "score"]).ok();
    let site = env.dir("site");
    let run = report_verbose(&env, &repo, &[], &site);
    run.ok();
    let notes: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("score cache: "))
        .collect();
    assert_eq!(
        notes,
        vec!["score cache: 3 of 3 results reused, 0 evaluated"],
        "{}",
        run.stderr
    );
    // The entity page shows the failing rule's message, as score does.
    let page = std::fs::read_to_string(site.join("entity/component-default-billing_5f2.html"))
        .expect("billing's page");
    assert!(page.contains("Billing_2 is not kebab-case."), "{page}");
    assert!(page.contains("not a valid regex"), "{page}");
    // A report with an empty score cache evaluates and gives the same site.
    let _ = std::fs::remove_dir_all(env.cache.join("idp"));
    let again = env.dir("site2");
    let run = report_verbose(&env, &repo, &[], &again);
    run.ok();
    assert!(
        run.stderr
            .contains("score cache: 0 of 3 results reused, 3 evaluated"),
        "{}",
        run.stderr
    );
    let page2 = std::fs::read_to_string(again.join("entity/component-default-billing_5f2.html"))
        .expect("billing's page");
    assert_eq!(page, page2);
}
