//! How the catalog is read: working tree vs. `--ref`, the on-disk index and
//! its invalidation, Location targets, substitutions, multi-document files,
//! remote catalogs (clone, sync, offline, unreachable) and discovery.

use crate::common::{component, CatalogBuilder, Repo, TestEnv};

/// `spec.lifecycle` of an entity, read through `show -o json`.
fn lifecycle(env: &TestEnv, catalog: &str, extra: &[&str], entity: &str) -> String {
    let mut args = vec!["--catalog", catalog];
    args.extend_from_slice(extra);
    args.extend(["show", entity, "-o", "json"]);
    let run = env.run(&args);
    run.ok();
    run.json()["spec"]["lifecycle"]
        .as_str()
        .expect("lifecycle")
        .to_string()
}

fn names(env: &TestEnv, args: &[&str]) -> Vec<String> {
    let mut all = args.to_vec();
    all.extend(["list", "-k", "component", "-o", "json"]);
    let run = env.run(&all);
    run.ok();
    run.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn svc_catalog(env: &TestEnv) -> Repo {
    CatalogBuilder::standard(env.dir("cat"))
        .file("svc.yaml", component("svc", "payments", "alpha"))
        .build()
}

#[test]
fn uncommitted_edits_count() {
    let env = TestEnv::new();
    let repo = svc_catalog(&env);
    repo.write("svc.yaml", component("svc", "payments", "omega"));
    assert_eq!(lifecycle(&env, repo.path(), &[], "svc"), "omega");
}

#[test]
fn the_warm_index_notices_edits_additions_and_deletions() {
    let env = TestEnv::new();
    let repo = svc_catalog(&env);
    let cat = repo.path();
    assert_eq!(lifecycle(&env, cat, &[], "svc"), "alpha");
    let index = env.cache.join("idp/index");
    assert!(
        std::fs::read_dir(&index).map(|d| d.count()).unwrap_or(0) > 0,
        "no index written under {}",
        index.display()
    );
    // Same-size edits straight after a run (the same mtime tick).
    for value in ["omega", "gamma", "alpha", "delta"] {
        repo.write("svc.yaml", component("svc", "payments", value));
        assert_eq!(lifecycle(&env, cat, &[], "svc"), value);
    }
    // A new file in an existing directory and in a new directory.
    repo.write("new.yaml", component("fresh", "payments", "alpha"));
    assert!(names(&env, &["--catalog", cat]).contains(&"fresh".to_string()));
    repo.write("deep/er/x.yaml", component("deeper", "payments", "alpha"));
    assert!(names(&env, &["--catalog", cat]).contains(&"deeper".to_string()));
    // Deletions.
    repo.remove("new.yaml");
    let now = names(&env, &["--catalog", cat]);
    assert!(!now.contains(&"fresh".to_string()), "{now:?}");
    repo.remove("deep/er/x.yaml");
    let now = names(&env, &["--catalog", cat]);
    assert!(!now.contains(&"deeper".to_string()), "{now:?}");
    // An idp.yaml edit changes what is selected.
    repo.write("idp.yaml", "exclude: [svc.yaml]\n");
    let now = names(&env, &["--catalog", cat]);
    assert!(!now.contains(&"svc".to_string()), "{now:?}");
}

#[test]
fn ref_reads_committed_state() {
    let env = TestEnv::new();
    let repo = svc_catalog(&env);
    repo.tag("v1");
    repo.branch("old");
    repo.commit_file("svc.yaml", component("svc", "payments", "beta"));
    repo.write("svc.yaml", component("svc", "payments", "dirty"));
    let cat = repo.path();
    assert_eq!(lifecycle(&env, cat, &[], "svc"), "dirty");
    assert_eq!(lifecycle(&env, cat, &["--ref", "HEAD"], "svc"), "beta");
    assert_eq!(lifecycle(&env, cat, &["--ref", "HEAD~1"], "svc"), "alpha");
    assert_eq!(lifecycle(&env, cat, &["--ref", "old"], "svc"), "alpha");
    assert_eq!(lifecycle(&env, cat, &["--ref", "v1"], "svc"), "alpha");
    assert_eq!(lifecycle(&env, cat, &["--ref", "main"], "svc"), "beta");
    // A file added only in the working tree is not in any commit.
    repo.write("extra.yaml", component("extra", "payments", "alpha"));
    assert!(!names(&env, &["--catalog", cat, "--ref", "HEAD"]).contains(&"extra".to_string()));
}

#[test]
fn ref_works_for_a_catalog_in_a_subdirectory() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::new(env.dir("mono"))
        .file("README.md", "monorepo\n")
        .file("catalog/idp.yaml", "exclude: []\n")
        .file("catalog/svc.yaml", component("svc", "payments", "alpha"))
        .build();
    repo.commit_file("catalog/svc.yaml", component("svc", "payments", "beta"));
    let cat = repo.dir.join("catalog");
    let cat = cat.to_str().unwrap();
    assert_eq!(lifecycle(&env, cat, &["--ref", "HEAD~1"], "svc"), "alpha");
    assert_eq!(lifecycle(&env, cat, &[], "svc"), "beta");
}

#[test]
fn location_targets_pull_in_excluded_files() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::new(env.dir("cat"))
        .file("idp.yaml", "exclude: [\"other/**\"]\n")
        .file(
            "all.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: root\nspec:\n  targets: [./other/x.yaml]\n",
        )
        .file("other/x.yaml", component("from-location", "payments", "alpha"))
        .file("other/y.yaml", component("left-out", "payments", "alpha"))
        .build();
    let found = names(&env, &["--catalog", repo.path()]);
    assert!(found.contains(&"from-location".to_string()), "{found:?}");
    assert!(!found.contains(&"left-out".to_string()), "{found:?}");
    // The same through git objects.
    let found = names(&env, &["--catalog", repo.path(), "--ref", "HEAD"]);
    assert!(found.contains(&"from-location".to_string()), "{found:?}");
}

#[test]
fn substitutions_are_resolved() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::new(env.dir("cat"))
        .file("idp.yaml", "exclude: [\"defs/**\"]\n")
        .file(
            "api.yaml",
            "\
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: orders
  annotations:
    extra: {$json: ./defs/extra.json}
spec:
  type: openapi
  lifecycle: production
  owner: payments
  definition:
    $text: ./defs/orders.yaml
  servers:
    $yaml: ./defs/servers.yaml
",
        )
        .file(
            "defs/orders.yaml",
            "openapi: 3.0.0\ninfo:\n  title: Orders\n",
        )
        .file("defs/extra.json", "\"from json\"\n")
        .file(
            "defs/servers.yaml",
            "- url: https://a.test\n- url: https://b.test\n",
        )
        .build();
    for extra in [&[][..], &["--ref", "HEAD"][..]] {
        let mut args = vec!["--catalog", repo.path()];
        args.extend_from_slice(extra);
        args.extend(["show", "api:orders", "-o", "json"]);
        let run = env.run(&args);
        run.ok();
        let v = run.json();
        assert_eq!(
            v["spec"]["definition"],
            "openapi: 3.0.0\ninfo:\n  title: Orders\n"
        );
        assert_eq!(v["metadata"]["annotations"]["extra"], "from json");
        assert_eq!(v["spec"]["servers"][1]["url"], "https://b.test");
    }
}

#[test]
fn multi_document_files_with_empty_documents() {
    let env = TestEnv::new();
    let text = format!(
        "# leading comment\n---\n{}---\n---\n# only a comment\n---\n{}...\n",
        component("first", "payments", "alpha"),
        component("second", "payments", "beta")
    );
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file("multi.yaml", text)
        .build();
    let mut found = names(&env, &["--catalog", repo.path()]);
    found.sort();
    assert_eq!(found, ["first", "second"]);
    let run = env.run(["--catalog", repo.path(), "show", "second", "-o", "json"]);
    run.ok();
    assert_eq!(run.json()["source"]["line"], 15);
    env.run(["--catalog", repo.path(), "validate"])
        .stdout_has("0 errors");
}

/// A catalog repository and a bare clone of it, as a server would hold.
fn remote(env: &TestEnv) -> (Repo, std::path::PathBuf) {
    let repo = svc_catalog(env);
    let bare = repo.bare_clone(&env.root.join("server/catalog.git"));
    (repo, bare)
}

fn clones(env: &TestEnv) -> usize {
    std::fs::read_dir(env.cache.join("idp/catalogs"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn remote_catalog_by_file_url_and_bare_path() {
    let env = TestEnv::new();
    let (_repo, bare) = remote(&env);
    let url = format!("file://{}", bare.display());
    assert_eq!(lifecycle(&env, &url, &[], "svc"), "alpha");
    assert_eq!(clones(&env), 1);
    assert_eq!(lifecycle(&env, bare.to_str().unwrap(), &[], "svc"), "alpha");
    assert!(clones(&env) >= 1);
    assert!(env.cache.join("idp/catalogs").is_dir());
}

#[test]
fn sync_fetches_new_commits() {
    let env = TestEnv::new();
    let (repo, bare) = remote(&env);
    let url = format!("file://{}", bare.display());
    assert_eq!(lifecycle(&env, &url, &[], "svc"), "alpha");
    repo.commit_file("new.yaml", component("pushed", "payments", "alpha"));
    repo.push_to(&bare);
    // Fetched less than an hour ago: still the old state.
    assert!(!names(&env, &["--catalog", &url]).contains(&"pushed".to_string()));
    env.run(["--catalog", &url, "sync"])
        .ok()
        .stdout_has("fetched");
    assert!(names(&env, &["--catalog", &url]).contains(&"pushed".to_string()));
    // `sync` cannot be offline.
    env.run(["--catalog", &url, "--offline", "sync"]).code(2);
}

#[test]
fn offline_with_a_never_fetched_remote_exits_4() {
    let env = TestEnv::new();
    let (_repo, bare) = remote(&env);
    let url = format!("file://{}", bare.display());
    let run = env.run(["--catalog", &url, "--offline", "list"]);
    run.code(4)
        .stderr_has("never been fetched")
        .stderr_has("--offline");
    assert!(run.stdout.is_empty());
    // Once fetched, offline works.
    env.run(["--catalog", &url, "list"]).ok();
    env.run(["--catalog", &url, "--offline", "list"])
        .ok()
        .stdout_has("svc");
}

#[test]
fn an_unreachable_remote_falls_back_to_the_cached_copy_with_a_warning() {
    let env = TestEnv::new();
    let (_repo, bare) = remote(&env);
    let url = format!("file://{}", bare.display());
    env.user_config("sync_interval: 0s\n");
    assert_eq!(lifecycle(&env, &url, &[], "svc"), "alpha");
    std::fs::rename(&bare, env.root.join("server/moved.git")).unwrap();
    let run = env.run(["--catalog", &url, "list"]);
    run.ok().stdout_has("svc").stderr_has("could not fetch");
    run.stderr_has("using the copy fetched");
}

#[test]
fn discovery_from_idp_catalog_env() {
    let mut env = TestEnv::new();
    let repo = svc_catalog(&env);
    env.env("IDP_CATALOG", repo.path());
    assert!(names(&env, &[]).contains(&"svc".to_string()));
}

#[test]
fn discovery_from_user_config() {
    let env = TestEnv::new();
    let repo = svc_catalog(&env);
    env.user_config(&format!("catalog: {}\n", repo.path()));
    assert!(names(&env, &[]).contains(&"svc".to_string()));
}

#[test]
fn discovery_from_the_enclosing_repository() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::standard(env.dir("cat"))
        .file("svc/deep/svc.yaml", component("svc", "payments", "alpha"))
        .build();
    let run = env.run_in(
        &repo.dir.join("svc/deep"),
        ["list", "-k", "component", "-o", "json"],
    );
    run.ok();
    assert!(run.refs().contains(&"component:default/svc".to_string()));
}

#[test]
fn no_catalog_anywhere_explains_the_ways_to_name_one() {
    let env = TestEnv::new();
    let run = env.run(["list"]);
    run.code(4)
        .stderr_has("no catalog")
        .stderr_has("--catalog")
        .stderr_has("IDP_CATALOG")
        .stderr_has("config.yaml");
    assert!(run.stdout.is_empty());
    // A git repository without idp.yaml is not a catalog either.
    let plain = CatalogBuilder::new(env.dir("plain"))
        .file("svc.yaml", component("svc", "payments", "alpha"))
        .build();
    env.run_in(&plain.dir, ["list"])
        .code(4)
        .stderr_has("IDP_CATALOG");
}

#[test]
fn the_flag_wins_over_env_and_config() {
    let mut env = TestEnv::new();
    let a = CatalogBuilder::standard(env.dir("a"))
        .file("a.yaml", component("from-a", "payments", "alpha"))
        .build();
    let b = CatalogBuilder::standard(env.dir("b"))
        .file("b.yaml", component("from-b", "payments", "alpha"))
        .build();
    env.user_config(&format!("catalog: {}\n", b.path()));
    env.env("IDP_CATALOG", a.path());
    assert!(names(&env, &[]).contains(&"from-a".to_string()));
    assert!(names(&env, &["--catalog", b.path()]).contains(&"from-b".to_string()));
}
