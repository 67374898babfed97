//! The papercuts a new user hits first (issue 12): typos in filters,
//! zero counts, `who-owns` on a group or user, the user config's errors
//! and unknown keys, `-v`, `man --out-dir`, and scaffold's pickers.

use crate::common::{acme, TestEnv};
use crate::common::{component, CatalogBuilder};
use crate::tmux::Tmux;

fn list(env: &TestEnv, args: &[&str]) -> crate::common::Run {
    let mut all = vec!["--catalog".to_string(), acme(), "list".to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    env.run(all)
}

#[test]
fn a_misspelt_kind_is_a_usage_error_that_suggests_the_kind() {
    let env = TestEnv::new();
    list(&env, &["--kind", "componnet"])
        .code(2)
        .stderr_has("--kind: the catalog has no kind 'componnet'; did you mean component?");
}

#[test]
fn unknown_owner_sort_field_lifecycle_and_tag_are_usage_errors() {
    let env = TestEnv::new();
    list(&env, &["--owner", "nosuchteam"])
        .code(2)
        .stderr_has("--owner: the catalog has no owner 'nosuchteam'")
        .stderr_has("payments");
    list(&env, &["--owner", "paymnts"])
        .code(2)
        .stderr_has("did you mean payments?");
    list(&env, &["--sort", "nosuchfield"])
        .code(2)
        .stderr_has("--sort: 'nosuchfield' is not a field to sort by")
        .stderr_has("lifecycle");
    list(&env, &["--sort", "-lifecyle"])
        .code(2)
        .stderr_has("did you mean lifecycle?");
    list(&env, &["--sort", "metdata.name"])
        .code(2)
        .stderr_has("did you mean metadata?");
    list(&env, &["--lifecycle", "prod"])
        .code(2)
        .stderr_has("--lifecycle: the catalog has no lifecycle 'prod'; did you mean production?");
    list(&env, &["--type", "servise"])
        .code(2)
        .stderr_has("did you mean service?");
    list(&env, &["--tag", "zzz-no-such-tag"])
        .code(2)
        .stderr_has("--tag: the catalog has no tag 'zzz-no-such-tag'")
        .stderr_has("more)");
    list(&env, &["--system", "paymnts-core"])
        .code(2)
        .stderr_has("did you mean payments-core?");
    list(&env, &["--domain", "commerc"])
        .code(2)
        .stderr_has("did you mean commerce?");
}

#[test]
fn known_values_match_case_insensitively_as_filtering_does() {
    let env = TestEnv::new();
    let run = list(
        &env,
        &[
            "--kind",
            "COMPONENT",
            "--lifecycle",
            "Production",
            "-o",
            "json",
        ],
    );
    run.ok();
    assert!(!run.json().as_array().unwrap().is_empty());
    list(&env, &["--sort", "-spec.lifecycle", "--sort", "Title"]).code(2);
    list(&env, &["--sort", "-spec.lifecycle", "--sort", "title"]).ok();
}

#[test]
fn known_values_that_match_nothing_together_are_an_empty_answer() {
    let env = TestEnv::new();
    // Users have no lifecycle; both values exist in the catalog.
    let run = list(
        &env,
        &["--kind", "user", "--lifecycle", "production", "-o", "json"],
    );
    run.ok();
    assert_eq!(run.json(), serde_json::json!([]));
    // A built-in kind the catalog has no entity of is an empty answer too.
    list(&env, &["--kind", "location", "-o", "json"]).ok();
}

#[test]
fn an_owner_only_named_by_descriptors_is_known() {
    let env = TestEnv::new();
    let cat = CatalogBuilder::new(env.dir("cat"))
        .file("c.yaml", component("orphan", "ghost-team", "production"))
        .build();
    let run = env.run([
        "--catalog",
        cat.path(),
        "list",
        "--owner",
        "ghost-team",
        "-o",
        "json",
    ]);
    run.ok();
    assert_eq!(run.refs(), ["component:default/orphan"]);
    env.run(["--catalog", cat.path(), "list", "--owner", "ghost-teem"])
        .code(2)
        .stderr_has("did you mean ghost-team?");
}

#[test]
fn enrich_checks_its_filters_like_list() {
    let env = TestEnv::new();
    env.run(["--catalog", &acme(), "enrich", "--kind", "componnet"])
        .code(2)
        .stderr_has("--kind: the catalog has no kind 'componnet'; did you mean component?");
}

#[test]
fn zero_depth_and_zero_limit_are_usage_errors() {
    let env = TestEnv::new();
    for args in [
        ["impact", "ledger", "--depth", "0"],
        ["graph", "checkout", "--depth", "0"],
        ["history", "checkout", "-n", "0"],
    ] {
        let mut all = vec!["--catalog".to_string(), acme()];
        all.extend(args.iter().map(|a| a.to_string()));
        env.run(&all)
            .code(2)
            .stderr_has("0 would show nothing; give 1 or more");
    }
    env.run(["--catalog", &acme(), "impact", "ledger", "--depth", "1"])
        .ok();
    for (command, flag) in [
        ("impact", "--depth"),
        ("graph", "--depth"),
        ("history", "--limit"),
    ] {
        let run = env.run([command, "--help"]);
        run.ok();
        let line = run
            .stdout
            .lines()
            .skip_while(|l| !l.contains(flag))
            .take(3)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(line.contains("1 or more"), "{command} --help: {line}");
    }
}

#[test]
fn who_owns_a_group_shows_members_parents_and_what_it_owns() {
    let env = TestEnv::new();
    let run = env.run(["--catalog", &acme(), "who-owns", "group:payments"]);
    run.ok()
        .stdout_lacks("No owner")
        .stdout_has("Part of   Engineering › Acme Corp")
        .stdout_has("Members (3)")
        .stdout_has("ada.okafor@acme.com")
        .stdout_has("Owns (")
        .stdout_has("component:default/ledger");
    let run = env.run([
        "--catalog",
        &acme(),
        "who-owns",
        "group:payments",
        "-o",
        "json",
    ]);
    run.ok();
    let v = run.json();
    assert_eq!(v["owner"], serde_json::Value::Null);
    let me = &v["asOwner"];
    assert_eq!(me["ref"], "group:default/payments");
    assert_eq!(me["members"].as_array().unwrap().len(), 3);
    assert_eq!(me["parents"][0]["ref"], "group:default/engineering");
    let owns: Vec<&str> = me["owns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["ref"].as_str().unwrap())
        .collect();
    assert!(owns.contains(&"component:default/ledger"), "{owns:?}");
    assert!(owns.contains(&"system:default/payments-core"), "{owns:?}");
}

#[test]
fn who_owns_a_user_shows_the_groups() {
    let env = TestEnv::new();
    env.run(["--catalog", &acme(), "who-owns", "user:ada.okafor"])
        .ok()
        .stdout_lacks("No owner")
        .stdout_has(
            "Groups    Engineering (group:default/engineering), Payments (group:default/payments)",
        );
    let run = env.run([
        "--catalog",
        &acme(),
        "who-owns",
        "user:ada.okafor",
        "-o",
        "json",
    ]);
    run.ok();
    let v = run.json();
    let groups: Vec<&str> = v["asOwner"]["memberOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["ref"].as_str().unwrap())
        .collect();
    assert_eq!(
        groups,
        ["group:default/engineering", "group:default/payments"]
    );
    // A component keeps its owner and has no asOwner.
    let run = env.run(["--catalog", &acme(), "who-owns", "checkout", "-o", "json"]);
    assert!(run.json().get("asOwner").is_none());
}

#[test]
fn a_bad_user_config_value_is_reported_at_its_line_and_column() {
    let env = TestEnv::new();
    env.user_config(&format!("catalog: {}\nsync_interval: soon\n", acme()));
    let path = env.config.join("idp/config.yaml");
    env.run(["list"]).code(4).stderr_has(&format!(
        "{}:2:16: sync_interval 'soon' is not a duration (write e.g. 30m or 2h)",
        path.display()
    ));
    env.user_config(&format!("catalog: {}\nsync_interval: [1h]\n", acme()));
    env.run(["list"]).code(4).stderr_has(&format!(
        "{}:2:1: sync_interval: invalid type",
        path.display()
    ));
}

#[test]
fn unknown_user_config_keys_are_warned_about_with_did_you_mean() {
    let env = TestEnv::new();
    env.user_config(&format!(
        "catalog: {}\nsync_intervall: 1h\ncolour: never\n",
        acme()
    ));
    let path = env.config.join("idp/config.yaml");
    env.run(["list", "--kind", "api"])
        .ok()
        .stderr_has(&format!(
            "warning: {}:2:1: unknown key 'sync_intervall' is ignored; did you mean sync_interval?",
            path.display()
        ))
        .stderr_has(&format!(
            "warning: {}:3:1: unknown key 'colour' is ignored (known keys: catalog, sync_interval)",
            path.display()
        ));
    env.run(["-q", "list", "--kind", "api"]).ok().quiet_stderr();
}

#[test]
fn verbose_says_where_the_catalog_came_from_in_words() {
    let env = TestEnv::new();
    env.run(["-v", "--catalog", &acme(), "list", "--kind", "api"])
        .ok()
        .stderr_has(&format!(
            "reading the catalog in the directory {}: named by --catalog",
            acme()
        ));
    let mut from_env = TestEnv::new();
    from_env.env("IDP_CATALOG", acme());
    from_env
        .run(["-v", "list", "--kind", "api"])
        .ok()
        .stderr_has("named by IDP_CATALOG");
    let run = env.run(["-v", "--catalog", &acme(), "list", "--kind", "api"]);
    assert!(
        !run.stderr.contains("Dir(") && !run.stderr.contains("found by"),
        "{}",
        run.stderr
    );
    env.user_config(&format!("catalog: {}\n", acme()));
    env.run(["-v", "list", "--kind", "api"])
        .ok()
        .stderr_has("named by `catalog:` in ");
}

#[test]
fn man_out_dir_says_what_it_wrote() {
    let env = TestEnv::new();
    let dir = env.root.join("man1");
    let run = env.run(["man", "--out-dir", dir.to_str().unwrap()]);
    run.ok();
    let files = std::fs::read_dir(&dir).unwrap().count();
    run.stdout_has(&format!(
        "Wrote {files} man pages into {}: idp.1, idp-who-owns.1",
        dir.display()
    ))
    .stdout_has("idp-scaffold-update.1");
    assert!(dir.join("idp-scaffold-update.1").is_file());
}

/// node-service values except the one a test is about.
fn node_service(env: &TestEnv, name: &str, owner: &str) -> Vec<String> {
    let out = env.root.join(format!("out-{name}"));
    [
        "--catalog",
        &acme(),
        "scaffold",
        "node-service",
        "--set",
        &format!("name={name}"),
        "--set",
        &format!("owner={owner}"),
        "--set",
        "description=Refunds",
        "--set",
        "repoUrl=github.com?owner=acme&repo=refunds",
        "--output-dir",
        out.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn choose_one_of_says_how_many_choices_it_left_out() {
    let env = TestEnv::new();
    let groups = env.run([
        "--catalog",
        &acme(),
        "list",
        "--kind",
        "group",
        "-o",
        "json",
    ]);
    let total = groups.json().as_array().unwrap().len();
    assert!(total > 8, "acme has {total} groups");
    env.run(node_service(&env, "refunds", "zzzz"))
        .code(2)
        .stderr_has("choose one of: group:default/")
        .stderr_has(&format!(", … ({} more)", total - 8));
}

#[test]
fn after_a_name_clash_open_in_catalog_does_not_point_at_the_other_entity() {
    let env = TestEnv::new();
    let run = env.run(node_service(&env, "checkout", "payments"));
    run.code(1)
        .stdout_has("component:default/checkout is already defined at components/checkout/catalog-info.yaml")
        .stdout_has("Open in catalog: none yet: component:default/checkout is another, existing entity (the name is taken)")
        .stdout_lacks("Open in catalog: component:default/checkout\n");
    // Without a clash the link is the new entity's.
    let run = env.run(node_service(&env, "refunds", "payments"));
    run.ok()
        .stdout_has("Open in catalog: component:default/refunds\n");
}

#[test]
fn an_optional_picker_starts_on_none() {
    let env = TestEnv::new();
    let out = env.root.join("out");
    // Every value but the optional `system` (an EntityPicker) is given.
    let t = Tmux::idp(
        &env,
        &[
            "--catalog",
            &acme(),
            "scaffold",
            "node-service",
            "-o",
            "json",
            "--set",
            "name=refunds",
            "--set",
            "owner=payments",
            "--set",
            "description=Refunds",
            "--set",
            "repoUrl=github.com?owner=acme&repo=refunds",
            "--output-dir",
            out.to_str().unwrap(),
        ],
        &[],
    );
    let screen = t.wait_for_text("System (optional) (type to filter)");
    assert!(screen.contains("❯ (none)"), "{screen}");
    t.keys(&["Enter"]);
    let screen = t.wait_for_text("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    let answers = std::fs::read_to_string(out.join(".idp/answers.yaml")).unwrap();
    assert!(!answers.contains("system:"), "{answers}");
}
