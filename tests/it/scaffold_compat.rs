//! Byte-for-byte compatibility with the real `cookiecutter` on public
//! templates vendored under tests/fixtures/cookiecutter/ (see the README
//! there for their origin): `idp scaffold T --no-input --output-dir A [--set …]`
//! and `cookiecutter --no-input -o B T […]` must produce the same files,
//! contents and permission bits (idp's `.idp/` and any `.git/` aside), with
//! hooks (idp with --trust) and without (cookiecutter --accept-hooks no).

use std::path::{Path, PathBuf};

use crate::common::TestEnv;
use crate::scaffold_cookiecutter::{assert_same_tree, cookiecutter};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cookiecutter")
        .join(name)
}

/// Renders `template` with both tools and compares the trees.
fn compare(template: &str, values: &[&str], hooks: bool) {
    compare_in(
        TestEnv::new(),
        &fixture(template),
        values,
        hooks,
        &|env, args| cookiecutter(env, &env.cwd, args),
        &|_| {},
    );
}

/// Renders the template at `tpl` with the real cookiecutter (`run_cc`) and
/// with idp in `env`, hooks on (idp with --trust) or off, runs `settle` over
/// both trees (to mask what is random), and compares them.
pub fn compare_in(
    mut env: TestEnv,
    tpl: &Path,
    values: &[&str],
    hooks: bool,
    run_cc: &dyn Fn(&TestEnv, &[&str]) -> std::process::Output,
    settle: &dyn Fn(&Path),
) {
    // Hooks that commit need an identity; both tools get the same one.
    for (k, v) in [
        ("GIT_AUTHOR_NAME", "Test"),
        ("GIT_AUTHOR_EMAIL", "test@example.com"),
        ("GIT_COMMITTER_NAME", "Test"),
        ("GIT_COMMITTER_EMAIL", "test@example.com"),
    ] {
        env.env(k, v);
    }
    let tpl = tpl.to_str().unwrap();
    let expected = env.root.join("cookiecutter-out");
    let actual = env.root.join("idp-out");

    let mut cc_args = vec!["--no-input", "-o", expected.to_str().unwrap()];
    if !hooks {
        cc_args.extend(["--accept-hooks", "no"]);
    }
    cc_args.push(tpl);
    cc_args.extend(values.iter().copied());
    let cc = run_cc(&env, &cc_args);
    assert!(
        cc.status.success(),
        "cookiecutter failed on {tpl}:\n{}",
        String::from_utf8_lossy(&cc.stderr)
    );

    let mut idp_args = vec![
        "scaffold",
        tpl,
        "--no-input",
        "--output-dir",
        actual.to_str().unwrap(),
    ];
    if hooks {
        idp_args.push("--trust");
    }
    for v in values {
        idp_args.extend(["--set", v]);
    }
    env.run(&idp_args).ok();
    settle(&expected);
    settle(&actual);
    assert_same_tree(&expected, &actual);
}

#[test]
fn rust_bin_with_hooks() {
    compare(
        "rust-bin",
        &[
            "github_username=acme",
            "project_name=Widget Tool",
            "full_name=Ada Lovelace",
            "email=ada@example.com",
        ],
        true,
    );
}

#[test]
fn rust_bin_defaults_without_hooks() {
    compare("rust-bin", &[], false);
}

#[test]
fn pypackage_minimal_defaults() {
    compare("pypackage-minimal", &[], false);
}

#[test]
fn pypackage_minimal_with_choices_and_booleans() {
    compare(
        "pypackage-minimal",
        &[
            "package_name=ledger_tools",
            "long_description_file=README.md",
            "readme_travis_badge=no",
            "package_description=Tools for the \"ledger\" & friends",
        ],
        false,
    );
}

#[test]
fn golang_with_hooks_removing_files() {
    compare("golang", &["app_name=billing", "use_docker=n"], true);
}

#[test]
fn golang_defaults_with_hooks() {
    compare("golang", &[], true);
}

#[test]
fn golang_without_viper_or_git() {
    compare(
        "golang",
        &["use_viper_config=n", "use_git=n", "go_mod_or_dep=dep"],
        true,
    );
}
