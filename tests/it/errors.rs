//! Errors as a user meets them: each kind exits with its documented code
//! (DESIGN.md "Exit codes") and says what went wrong, with hints that
//! fit the situation (the real config path, no flag the command lacks, no
//! advice that contradicts the error).

use crate::common::{acme, component, CatalogBuilder, Run, TestEnv};

#[track_caller]
fn stderr_lacks(run: &Run, needle: &str) {
    assert!(
        !run.stderr.contains(needle),
        "stderr has {needle:?}:\n{}",
        run.stderr
    );
}

/// A catalog with one component and no integrations.
fn one_component(env: &TestEnv) -> crate::common::Repo {
    CatalogBuilder::new(env.root.join("cat"))
        .file("svc.yaml", component("svc", "team-a", "production"))
        .build()
}

#[test]
fn a_bad_flag_value_is_a_usage_error_exit_2() {
    let env = TestEnv::new();
    let run = env.run(["--catalog", &acme(), "--at", "yesterdayish", "list"]);
    run.code(2)
        .stderr_has("error: --at 'yesterdayish' is not a date");
    assert!(run.stdout.is_empty());
}

#[test]
fn an_unknown_entity_exits_3_with_a_suggestion() {
    let env = TestEnv::new();
    let run = env.run(["--catalog", &acme(), "show", "nosuchentity"]);
    run.code(3)
        .stderr_has("error: no entity matches 'nosuchentity'")
        .stderr_has("hint:");
}

#[test]
fn an_unreadable_catalog_config_exits_4_with_its_position() {
    let env = TestEnv::new();
    let dir = CatalogBuilder::new(env.root.join("cat"))
        .file("idp.yaml", "include: [unclosed\n")
        .file("svc.yaml", component("svc", "team-a", "production"))
        .write_only();
    env.run(["--catalog", dir.to_str().unwrap(), "list"])
        .code(4)
        .stderr_has("idp.yaml:");
}

#[test]
fn a_catalog_directory_without_descriptors_exits_4_naming_the_globs() {
    let env = TestEnv::new();
    // Wrong directory: YAML, but no document with apiVersion and kind.
    let dir = env.dir("not-a-catalog");
    std::fs::write(dir.join("docker-compose.yaml"), "services: {}\n").unwrap();
    std::fs::write(dir.join("README.md"), "# hi\n").unwrap();
    let run = env.run(["--catalog", dir.to_str().unwrap(), "list"]);
    run.code(4)
        .stderr_has(&format!(
            "error: no descriptors found under {} (include globs: **/*.yaml, **/*.yml)",
            dir.display()
        ))
        .stderr_has("hint:");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    // An empty directory, and every command that opens the catalog.
    let empty = env.dir("empty");
    for cmd in [vec!["list"], vec!["validate"], vec!["score"]] {
        let mut args = vec!["--catalog", empty.to_str().unwrap()];
        args.extend(cmd);
        env.run(&args)
            .code(4)
            .stderr_has("no descriptors found under");
    }
}

#[test]
fn the_message_names_the_catalogs_own_include_globs() {
    let env = TestEnv::new();
    let dir = CatalogBuilder::new(env.root.join("cat"))
        .file("idp.yaml", "include: ['catalog/**/*.yaml']\n")
        .file(
            "elsewhere/svc.yaml",
            component("svc", "team-a", "production"),
        )
        .write_only();
    env.run(["--catalog", dir.to_str().unwrap(), "list"])
        .code(4)
        .stderr_has("(include globs: catalog/**/*.yaml)");
}

#[test]
fn filters_that_match_nothing_are_not_an_empty_catalog() {
    let env = TestEnv::new();
    let repo = one_component(&env);
    let run = env.run([
        "--catalog",
        repo.path(),
        "list",
        "--kind",
        "api",
        "-o",
        "json",
    ]);
    run.ok();
    assert_eq!(run.json(), serde_json::json!([]));
    stderr_lacks(&run, "no descriptors");
}

#[test]
fn a_catalog_of_broken_files_is_reported_as_broken_not_as_empty() {
    let env = TestEnv::new();
    let dir = CatalogBuilder::new(env.root.join("cat"))
        .file("bad.yaml", "apiVersion: v1\nkind: Component\nmetadata: [\n")
        .write_only();
    let run = env.run(["--catalog", dir.to_str().unwrap(), "validate"]);
    run.code(1).stdout_has("bad.yaml");
    stderr_lacks(&run, "no descriptors");
}

#[test]
fn a_nonexistent_catalog_says_it_does_not_exist_exit_4() {
    let env = TestEnv::new();
    let missing = env.root.join("no/such/dir");
    let run = env.run(["--catalog", missing.to_str().unwrap(), "list"]);
    run.code(4).stderr_has(&format!(
        "error: catalog {} does not exist",
        missing.display()
    ));
    // A file is not a directory.
    let file = env.root.join("catalog.yaml");
    std::fs::write(&file, component("svc", "team-a", "production")).unwrap();
    env.run(["--catalog", file.to_str().unwrap(), "list"])
        .code(4)
        .stderr_has("is not a directory");
}

#[test]
fn validating_a_missing_file_is_a_usage_error_exit_2() {
    let env = TestEnv::new();
    // Without a catalog…
    let run = env.run(["validate", "nosuchfile.yaml"]);
    run.code(2)
        .stderr_has("error: cannot validate nosuchfile.yaml: No such file or directory");
    // …and inside one.
    let repo = one_component(&env);
    env.run_in(&repo.dir, ["validate", "nosuchfile.yaml"])
        .code(2)
        .stderr_has("nosuchfile.yaml");
    env.run(["--catalog", repo.path(), "validate", "nosuchfile.yaml"])
        .code(2);
}

#[test]
fn enrich_with_no_integration_configured_says_so_and_exits_0() {
    let env = TestEnv::new();
    let repo = one_component(&env);
    let run = env.run(["--catalog", repo.path(), "enrich"]);
    run.ok()
        .stderr_has("nothing to enrich: no integrations configured in idp.yaml");
    let run = env.run(["--catalog", repo.path(), "enrich", "-o", "json"]);
    run.ok();
    let json = run.json();
    assert_eq!(json["entities"], 1);
    assert_eq!(json["integrations"], serde_json::json!({}));
    assert_eq!(json["published"], serde_json::Value::Null);
    // Nothing is published either.
    env.run(["--catalog", repo.path(), "enrich", "--publish", "--no-push"])
        .ok()
        .stderr_has("nothing was fetched or published");
    assert!(repo.git.find_reference("refs/idp/live").is_err());
    // --no-live contradicts enrich itself: still a usage error.
    env.run(["--catalog", repo.path(), "--no-live", "enrich"])
        .code(2)
        .stderr_has("nothing to enrich");
}

#[test]
fn diff_outside_git_does_not_suggest_a_flag_diff_lacks() {
    let env = TestEnv::new();
    let dir = CatalogBuilder::new(env.root.join("plain"))
        .file("svc.yaml", component("svc", "team-a", "production"))
        .write_only();
    let run = env.run(["--catalog", dir.to_str().unwrap(), "diff", "HEAD~1"]);
    run.code(2)
        .stderr_has("error: reading revision 'HEAD~1' needs a git repository")
        .stderr_has("hint:")
        .stderr_has("git init");
    stderr_lacks(&run, "--ref");
}

#[test]
fn the_no_catalog_hint_names_the_config_file_under_xdg_config_home() {
    let mut env = TestEnv::new();
    let xdg = env.dir("elsewhere/xdg");
    env.env("XDG_CONFIG_HOME", &xdg);
    let run = env.run(["list"]);
    run.code(4)
        .stderr_has("error: no catalog configured")
        .stderr_has(&format!("{}/idp/config.yaml", xdg.display()));
    stderr_lacks(&run, "~/.config");
}

#[test]
fn the_offline_hint_for_a_never_fetched_remote_does_not_contradict_itself() {
    let env = TestEnv::new();
    let repo = one_component(&env);
    let bare = repo.bare_clone(&env.root.join("server/catalog.git"));
    let url = format!("file://{}", bare.display());
    let run = env.run(["--catalog", &url, "--offline", "list"]);
    run.code(4)
        .stderr_has(&format!(
            "error: cannot read catalog {url}: it has never been fetched"
        ))
        .stderr_has("hint: run `idp sync` once while online");
    stderr_lacks(&run, "uses the last fetched copy");
    // The hint's advice works.
    env.run(["--catalog", &url, "sync"]).ok();
    env.run(["--catalog", &url, "--offline", "list"]).ok();
}

#[test]
fn advice_naming_flags_comes_as_hints_after_the_error() {
    let env = TestEnv::new();
    let target = env.dir("proj");
    std::fs::write(target.join("existing"), "x").unwrap();
    let run = env.run(["init", target.to_str().unwrap()]);
    run.code(2)
        .stderr_has("is not empty")
        .stderr_has("hint: pick a new directory, or add --force");
    let error_line = run.stderr.lines().next().unwrap_or_default();
    assert!(!error_line.contains("--force"), "{}", run.stderr);
}
