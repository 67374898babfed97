//! `validate` from the index: per-file findings of unchanged files come from
//! the index, the catalog-wide checks run again, and the output is the
//! same, byte for byte, as a cold run's.

use crate::common::{CatalogBuilder, Repo, TestEnv};

/// A catalog with problems of every kind: a YAML syntax error, a document
/// without a name, field errors and warnings, a duplicate, dangling
/// references, a Location with a missing target and one naming a file of
/// foreign documents, a scorecard with a bad rule.
fn troubled(env: &TestEnv) -> Repo {
    CatalogBuilder::new(env.dir("cat"))
        .file("idp.yaml", "include: ['**/*.yaml']\n")
        .file(
            "team.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team\nspec:\n  type: team\n  children: []\n",
        )
        .file(
            "good.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: good\nspec:\n  type: service\n  lifecycle: production\n  owner: team\n",
        )
        .file(
            "bad-name.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: Bad_Name!\n  tags: [Not A Tag]\nspec:\n  type: service\n  lifecycle: production\n  owner: team\n  dependsOn: [component:nowhere]\n",
        )
        .file(
            "dangling.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: dangling\nspec:\n  type: service\n  lifecycle: production\n  owner: ghost-team\n  system: no-system\n",
        )
        .file(
            "dup.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: good\nspec:\n  type: service\n  lifecycle: production\n  owner: team\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  title: no name\nspec:\n  type: service\n",
        )
        .file("broken.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: [unclosed\n")
        .file(
            "missing-owner.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: lonely\nspec:\n  type: service\n  lifecycle: production\n",
        )
        .file(
            "loc.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: loc\nspec:\n  targets: [./nothing-here.yaml, ./other/ci.yml]\n",
        )
        .file("other/ci.yml", "jobs:\n  build: {}\n")
        .file(
            "scorecards/basics.yaml",
            "apiVersion: idp.dev/v1alpha1\nkind: Scorecard\nmetadata:\n  name: basics\nspec:\n  levels: [Bronze]\n  rules:\n    - id: owned\n      level: Bronze\n      check: 'entity.spec.owner !='\n",
        )
        .build()
}

fn validate(env: &TestEnv, repo: &Repo, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["--catalog", repo.path(), "validate"];
    all.extend_from_slice(args);
    let run = env.run(all);
    (run.code, run.stdout, run.stderr)
}

const OUTPUTS: [&[&str]; 3] = [&[], &["-o", "json"], &["-o", "yaml"]];

#[test]
fn a_warm_validate_prints_what_a_cold_one_does_in_every_format() {
    let env = TestEnv::new();
    let repo = troubled(&env);
    for args in OUTPUTS {
        let _ = std::fs::remove_dir_all(&env.cache);
        let cold = validate(&env, &repo, args);
        assert_eq!(cold.0, 1, "{}", cold.1);
        let warm = validate(&env, &repo, args);
        let again = validate(&env, &repo, args);
        assert_eq!(cold, warm, "first warm run of {args:?}");
        assert_eq!(cold, again, "second warm run of {args:?}");
    }
    let json = validate(&env, &repo, &["-o", "json"]).1;
    for code in [
        "yaml-syntax",
        "duplicate-entity",
        "dangling-reference",
        "location-target-missing",
        "not-a-descriptor",
        "invalid-name",
    ] {
        assert!(json.contains(code), "no {code} in:\n{json}");
    }
}

#[test]
fn a_warm_validate_says_how_many_files_came_from_the_index() {
    let env = TestEnv::new();
    let repo = troubled(&env);
    let cold = env.run(["--catalog", repo.path(), "-v", "validate"]);
    cold.code(1)
        .stderr_has("0 of 10 descriptor files' findings from the index");
    let warm = env.run(["--catalog", repo.path(), "-v", "validate"]);
    warm.code(1)
        .stderr_has("10 of 10 descriptor files' findings from the index");
    assert_eq!(cold.stdout, warm.stdout);
}

/// Cold output of the catalog as it is now (a fresh cache).
fn cold(env: &TestEnv, repo: &Repo, args: &[&str]) -> (i32, String, String) {
    let fresh = TestEnv::new();
    let mut all = vec!["--catalog", repo.path(), "validate"];
    all.extend_from_slice(args);
    let run = fresh.run(all);
    let _ = env;
    (run.code, run.stdout, run.stderr)
}

#[test]
fn editing_one_file_changes_only_its_findings() {
    let env = TestEnv::new();
    let repo = troubled(&env);
    let before = validate(&env, &repo, &["-o", "json"]);
    assert!(before.1.contains("Bad_Name!"));
    // Fix one file: its findings go, every other one stays.
    repo.write(
        "bad-name.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bad-name\nspec:\n  type: service\n  lifecycle: production\n  owner: team\n",
    );
    let run = env.run(["--catalog", repo.path(), "-v", "validate", "-o", "json"]);
    run.stderr_has("9 of 10 descriptor files' findings from the index");
    let after = (run.code, run.stdout.clone(), String::new());
    assert!(!after.1.contains("/bad-name.yaml"), "{}", after.1);
    let strip = |text: &str| -> Vec<serde_json::Value> {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut all = Vec::new();
        for key in ["errors", "warnings"] {
            for p in v[key].as_array().unwrap() {
                if !p["file"].as_str().unwrap().ends_with("/bad-name.yaml") {
                    all.push(p.clone());
                }
            }
        }
        all
    };
    assert_eq!(strip(&before.1), strip(&after.1));
    for args in OUTPUTS {
        let warm = validate(&env, &repo, args);
        assert_eq!(cold(&env, &repo, args), warm, "{args:?} after the fix");
    }
    // Break it differently: the new finding shows, at its own position.
    repo.write(
        "bad-name.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bad-name\n  tags: [UPPER]\nspec:\n  type: service\n  lifecycle: production\n  owner: team\n",
    );
    for args in OUTPUTS {
        let warm = validate(&env, &repo, args);
        assert_eq!(
            cold(&env, &repo, args),
            warm,
            "{args:?} after the new error"
        );
    }
    assert!(validate(&env, &repo, &[]).1.contains("bad-name.yaml:5"));
}

#[test]
fn removing_a_referenced_entity_makes_unchanged_files_dangle() {
    let env = TestEnv::new();
    let repo = troubled(&env);
    let first = validate(&env, &repo, &["-o", "json"]).1;
    assert!(!first.contains("refers to group:default/team"));
    repo.remove("team.yaml");
    let warm = validate(&env, &repo, &["-o", "json"]);
    assert!(
        warm.1.contains("refers to group:default/team"),
        "{}",
        warm.1
    );
    assert_eq!(cold(&env, &repo, &["-o", "json"]), warm);
    assert_eq!(cold(&env, &repo, &[]), validate(&env, &repo, &[]));
}

#[test]
fn a_list_between_validates_keeps_the_findings() {
    let env = TestEnv::new();
    let repo = troubled(&env);
    validate(&env, &repo, &[]);
    repo.write("good.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: good\n  description: edited\nspec:\n  type: service\n  lifecycle: production\n  owner: team\n");
    // `list` rewrites the stale index; validate's records of the other
    // files survive it.
    env.run(["--catalog", repo.path(), "list"]);
    let run = env.run(["--catalog", repo.path(), "-v", "validate"]);
    run.stderr_has("9 of 10 descriptor files' findings from the index");
    assert_eq!(cold(&env, &repo, &[]).1, run.stdout);
}
