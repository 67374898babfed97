//! Hostile or broken input: every case ends with a precise message and the
//! documented exit code, never a panic (every run asserts stderr has no
//! "panicked"). Also the command-line surface: help and typos.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{catalog_with, component, CatalogBuilder, Repo, TestEnv};

/// The single error of `validate -o json`, after checking the exit code.
fn only_error(env: &TestEnv, repo: &Repo) -> Value {
    env.run(["--catalog", repo.path(), "validate", "-o", "json"])
        .only_error()
}

/// The rest of the catalog stays usable.
fn still_lists_good(env: &TestEnv, repo: &Repo) {
    let run = env.run([
        "--catalog",
        repo.path(),
        "list",
        "-k",
        "component",
        "-o",
        "json",
    ]);
    run.ok();
    assert!(run.refs().contains(&"component:default/good".to_string()));
}

#[test]
fn malformed_yaml() {
    let env = TestEnv::new();
    let repo = catalog_with(
        &env,
        "bad.yaml",
        "kind: Component\nmetadata:\n  name: x\n   bad: indent\n",
    );
    let e = only_error(&env, &repo);
    assert_eq!(e["code"], "yaml-syntax");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(4), Some(7)),
        "{e}"
    );
    assert!(e["file"].as_str().unwrap().ends_with("bad.yaml"));
    still_lists_good(&env, &repo);
}

#[test]
fn alias_bomb_is_refused_quickly() {
    let env = TestEnv::new();
    let mut bomb = String::from(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bomb\nspec:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..10 {
        let items = vec![format!("*a{}", i - 1); 9].join(", ");
        bomb.push_str(&format!("  a{i}: &a{i} [{items}]\n"));
    }
    let repo = catalog_with(&env, "bomb.yaml", bomb);
    let start = Instant::now();
    let e = only_error(&env, &repo);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(e["code"], "yaml-syntax");
    assert!(e["message"].as_str().unwrap().contains("alias"), "{e}");
    still_lists_good(&env, &repo);
}

#[test]
fn a_file_over_10_mb_is_refused_naming_the_limit() {
    let env = TestEnv::new();
    let line = format!("# {}\n", "x".repeat(1022));
    let big = line.repeat(11 * 1024);
    assert!(big.len() > 11_000_000);
    let repo = catalog_with(&env, "big.yaml", big);
    let e = only_error(&env, &repo);
    assert_eq!(e["code"], "file-too-large");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("10485760") || msg.contains("10 MB") || msg.contains("10 MiB"),
        "{msg}"
    );
    still_lists_good(&env, &repo);
}

#[test]
fn non_utf8_bytes_are_reported_with_line_and_column() {
    let env = TestEnv::new();
    let repo = catalog_with(
        &env,
        "latin1.yaml",
        b"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: cafe\n  description: caf\xe9\n".as_slice(),
    );
    let e = only_error(&env, &repo);
    assert_eq!(e["code"], "not-utf8");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(5), Some(19)),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("UTF-8"));
}

const DUPLICATE_KEYS: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: first
  name: second
spec:
  type: service
";

#[test]
fn duplicate_keys_are_an_error() {
    let env = TestEnv::new();
    let repo = catalog_with(&env, "dup.yaml", DUPLICATE_KEYS);
    let e = only_error(&env, &repo);
    assert_eq!(e["code"], "yaml-syntax");
    assert!(e["message"].as_str().unwrap().contains("duplicate"), "{e}");
    assert!(e["message"].as_str().unwrap().contains("name"), "{e}");
}

/// The position should be the repeated key (line 5), not the start of the
/// mapping that holds it.
#[test]
fn duplicate_key_position_is_the_second_key() {
    let env = TestEnv::new();
    let repo = catalog_with(&env, "dup.yaml", DUPLICATE_KEYS);
    let e = only_error(&env, &repo);
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(5), Some(3)),
        "{e}"
    );
}

#[test]
fn wrong_field_types() {
    let env = TestEnv::new();
    let repo = catalog_with(
        &env,
        "types.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: types\n  tags: java\nspec:\n  type: 42\n  lifecycle: [x]\n  owner: payments\n",
    );
    let run = env.run(["--catalog", repo.path(), "validate", "-o", "json"]);
    run.code(1);
    let report = run.json();
    let found: Vec<(String, u64, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let at = |line: u64, word: &str| {
        assert!(
            found
                .iter()
                .any(|(c, l, m)| c == "invalid-field" && *l == line && m.contains(word)),
            "no invalid-field at line {line} mentioning {word}: {found:#?}"
        )
    };
    at(5, "metadata.tags");
    at(7, "spec.type");
    at(8, "spec.lifecycle");
    // Still listed (loaded as far as possible).
    env.run(["--catalog", repo.path(), "list", "-o", "json"])
        .ok()
        .stdout_has("component:default/types");
}

#[test]
fn unknown_kind_is_an_error_not_a_crash() {
    let env = TestEnv::new();
    let repo = catalog_with(
        &env,
        "pipe.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Pipeline\nmetadata:\n  name: deploy\n",
    );
    let e = only_error(&env, &repo);
    assert_eq!(e["code"], "unknown-kind");
    assert_eq!(e["entity"], "pipeline:default/deploy");
    assert!(
        e["message"].as_str().unwrap().contains("customKinds"),
        "{e}"
    );
}

#[test]
fn empty_and_comment_only_files_are_ignored() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::good(env.dir("cat"))
        .file("empty.yaml", "")
        .file("comments.yaml", "# nothing here\n---\n")
        .build();
    env.run(["--catalog", repo.path(), "validate"])
        .ok()
        .stdout_has("0 errors");
    still_lists_good(&env, &repo);
}

/// `-v` promises load problems on stderr; a broken file must not vanish
/// silently from `list`.
#[test]
fn verbose_list_mentions_files_that_could_not_be_loaded() {
    let env = TestEnv::new();
    let repo = catalog_with(&env, "bad.yaml", "kind: Component\nmetadata: [\n");
    let run = env.run(["--catalog", repo.path(), "-v", "list"]);
    run.ok().stderr_has("bad.yaml");
}

#[test]
fn a_missing_catalog_directory_exits_4() {
    let env = TestEnv::new();
    let missing = env.root.join("no/such/catalog");
    let run = env.run(["--catalog", missing.to_str().unwrap(), "list"]);
    run.code(4)
        .stderr_has("no/such/catalog")
        .stderr_has("does not exist");
    assert!(run.stdout.is_empty());
}

#[test]
fn an_unreachable_remote_exits_4() {
    let env = TestEnv::new();
    let run = env.run(["--catalog", "file:///nonexistent/repo.git", "list"]);
    run.code(4)
        .stderr_has("cannot fetch catalog file:///nonexistent/repo.git")
        .stderr_has("hint:");
    assert!(run.stdout.is_empty());
    // Nothing half-written is left in the cache.
    let left: Vec<_> = std::fs::read_dir(env.cache.join("idp/catalogs"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_corrupt_repository_fails_with_ref_and_warns_without() {
    let env = TestEnv::new();
    let repo = catalog_with(&env, "svc.yaml", component("svc", "payments", "alpha"));
    std::fs::write(repo.dir.join(".git/HEAD"), "garbage\n").unwrap();
    let run = env.run(["--catalog", repo.path(), "--ref", "HEAD", "list"]);
    assert!(run.code == 2 || run.code == 4, "{run:?}");
    run.stderr_has("error:").stderr_has(repo.path());
    assert!(run.stdout.is_empty());
    // The working tree is still readable.
    still_lists_good(&env, &repo);
}

/// Without `--ref` the working tree is read, but the user hears that the
/// repository around it is broken.
#[test]
fn a_corrupt_repository_is_warned_about() {
    let env = TestEnv::new();
    let repo = catalog_with(&env, "svc.yaml", component("svc", "payments", "alpha"));
    std::fs::write(repo.dir.join(".git/HEAD"), "garbage\n").unwrap();
    env.run(["--catalog", repo.path(), "list"])
        .ok()
        .stdout_has("svc")
        .stderr_has("warning:");
}

#[test]
fn missing_git_objects_fail_with_ref_but_the_working_tree_reads() {
    let env = TestEnv::new();
    let repo = catalog_with(&env, "svc.yaml", component("svc", "payments", "alpha"));
    std::fs::remove_dir_all(repo.dir.join(".git/objects")).unwrap();
    let run = env.run(["--catalog", repo.path(), "--ref", "HEAD", "list"]);
    assert!(run.code == 2 || run.code == 4, "{run:?}");
    run.stderr_has("revision 'HEAD'");
    still_lists_good(&env, &repo);
}

#[test]
fn a_shallow_clone_cannot_go_back_in_history() {
    let env = TestEnv::new();
    let repo = catalog_with(&env, "svc.yaml", component("svc", "payments", "alpha"));
    repo.commit_file("svc.yaml", component("svc", "payments", "beta"));
    let shallow = env.root.join("shallow");
    let status = env
        .git(&env.root)
        .args(["clone", "-q", "--depth", "1"])
        .arg(format!("file://{}", repo.path()))
        .arg(&shallow)
        .status()
        .expect("git clone");
    assert!(status.success());
    let cat = shallow.to_str().unwrap();
    let run = env.run(["--catalog", cat, "--ref", "HEAD~1", "list"]);
    run.code(2).stderr_has("HEAD~1").stderr_has("shallow");
    // HEAD itself is there.
    env.run(["--catalog", cat, "--ref", "HEAD", "list"])
        .ok()
        .stdout_has("svc");
}

#[test]
fn an_unknown_revision_exits_2_naming_it() {
    let env = TestEnv::new();
    let repo = catalog_with(&env, "svc.yaml", component("svc", "payments", "alpha"));
    let run = env.run(["--catalog", repo.path(), "--ref", "nosuchrev", "list"]);
    run.code(2).stderr_has("'nosuchrev'");
    assert!(run.stdout.is_empty());
    // --ref outside a git repository.
    let plain = CatalogBuilder::new(env.dir("plain"))
        .file("idp.yaml", "exclude: []\n")
        .write_only();
    env.run([
        "--catalog",
        plain.to_str().unwrap(),
        "--ref",
        "HEAD",
        "list",
    ])
    .code(2)
    .stderr_has("needs a git repository");
}

#[test]
fn a_malformed_idp_yaml_exits_4_with_its_position() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::standard(env.dir("cat")).build();
    repo.write("idp.yaml", "include: [\"**/*.yaml\"]\nexclude: [a\n");
    let run = env.run(["--catalog", repo.path(), "list"]);
    run.code(4).stderr_has("idp.yaml:3:1");
    assert!(run.stdout.is_empty());
    env.run(["--catalog", repo.path(), "validate"])
        .code(4)
        .stderr_has("idp.yaml:");
}

/// A well-formed idp.yaml with a wrong type must still say where.
#[test]
fn an_idp_yaml_type_error_has_a_real_position() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::standard(env.dir("cat")).build();
    repo.write("idp.yaml", "include: [\"**/*.yaml\"]\nexclude: 5\n");
    let run = env.run(["--catalog", repo.path(), "list"]);
    run.code(4).stderr_has("idp.yaml:2:");
    assert!(!run.stderr.contains(":0:0"), "{}", run.stderr);
}

#[test]
fn a_malformed_user_config_exits_4() {
    let env = TestEnv::new();
    env.user_config("catalog: [\n");
    env.run(["list"]).code(4).stderr_has("config.yaml:");
    env.user_config("sync_interval: soon\n");
    env.run(["list"]).code(4).stderr_has("sync_interval");
}

// --- The command line itself ---

#[test]
fn help_everywhere_has_examples() {
    let env = TestEnv::new();
    for args in [
        &["--help"][..],
        &["who-owns", "--help"],
        &["list", "--help"],
        &["show", "--help"],
        &["validate", "--help"],
        &["schema", "--help"],
        &["sync", "--help"],
    ] {
        let run = env.run(args);
        run.ok().stdout_has("Examples:");
    }
}

#[test]
fn no_arguments_prints_an_overview() {
    // The overview itself is tested in man.rs.
    let env = TestEnv::new();
    let run = env.run(Vec::<&str>::new());
    run.ok().stdout_has("$ idp who-owns checkout");
}

#[test]
fn a_typo_subcommand_suggests_the_right_one() {
    let env = TestEnv::new();
    let run = env.run(["who-own", "checkout"]);
    run.code(2).stderr_has("who-owns");
    assert!(run.stdout.is_empty());
}

#[test]
fn version() {
    let env = TestEnv::new();
    env.run(["--version"])
        .ok()
        .stdout_has(env!("CARGO_PKG_VERSION"));
}

/// A malformed reference is invalid input (2), as `list --owner a:b:c` already
/// treats it, not "not found" (3).
#[test]
fn a_malformed_entity_reference_is_a_usage_error() {
    let env = TestEnv::new();
    let catalog = crate::common::acme();
    env.run(["--catalog", &catalog, "list", "--owner", "a:b:c"])
        .code(2)
        .stderr_has("a:b:c");
    for bad in ["component:", "a:b:c"] {
        env.run(["--catalog", &catalog, "show", bad])
            .code(2)
            .stderr_has("not a valid entity reference");
    }
}

/// An error's cause is printed once, not in the message and again as
/// "caused by".
#[test]
fn a_missing_path_to_validate_is_reported_once() {
    let env = TestEnv::new();
    let missing = env.root.join("nope.yaml");
    let run = env.run([
        "--catalog",
        &crate::common::acme(),
        "validate",
        missing.to_str().unwrap(),
    ]);
    assert_ne!(run.code, 0);
    run.stderr_has("nope.yaml");
    assert_eq!(
        run.stderr.matches("No such file or directory").count(),
        1,
        "{}",
        run.stderr
    );
}
