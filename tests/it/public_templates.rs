//! Popular public cookiecutter templates (vendored under
//! tests/fixtures/cookiecutter/, origin and licences in the README there),
//! rendered by `idp scaffold --no-input` and by the real `cookiecutter
//! --no-input` with the same values: the trees must be identical byte for
//! byte. Each exercises something of issue 13:
//!
//! - `pylibrary/` (ionelmc/cookiecutter-pylibrary): a Jinja2 extension of
//!   its own in Python (`pylibrary.PrettyJsonifyExtension`), so idp renders
//!   it with cookiecutter under --trust; also `wordwrap(119)`.
//! - `django/` (cookiecutter/cookiecutter-django): `cookiecutter.update({…})`
//!   in its pre_gen hook (Python dict methods), a large tree.
//! - `pypackage/` (audreyfeldroy/cookiecutter-pypackage): str methods in
//!   cookiecutter.json (`.replace`, `.lower()`), `tojson` in its hooks.
//!
//! Hooks run offline: the PATH has a `tox` and a `uv` that do nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::TestEnv;
use crate::engine::env_with_cookiecutter;
use crate::scaffold_compat::compare_in;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cookiecutter")
        .join(name)
}

/// The real cookiecutter in the same hermetic environment as idp.
fn cookiecutter(env: &TestEnv, args: &[&str]) -> std::process::Output {
    let config = env.root.join("cookiecutter-config.yaml");
    std::fs::write(
        &config,
        format!(
            "cookiecutters_dir: {}\nreplay_dir: {}\n",
            env.root.join("cc-clones").display(),
            env.root.join("cc-replay").display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new("cookiecutter");
    env.hermetic(&mut cmd);
    cmd.args(["--config-file", config.to_str().unwrap()])
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("cookiecutter on the hermetic PATH")
}

/// Renders `template` with both tools (hooks on with `trust`) and compares.
fn compare(template: &str, values: &[&str], trust: bool) {
    compare_masked(template, values, trust, false);
}

/// Replaces every run of 32 or more ASCII letters and digits in the files
/// under `dir` with `<random>`: hooks that write fresh secrets (Django's
/// SECRET_KEY, database users and passwords) differ on every run.
fn mask_random_strings(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = e.path();
        if e.file_name() == ".git" {
            continue;
        }
        if path.is_dir() {
            mask_random_strings(&path);
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut out = String::with_capacity(text.len());
        let mut run = String::new();
        let flush = |run: &mut String, out: &mut String| {
            out.push_str(if run.len() >= 32 { "<random>" } else { run });
            run.clear();
        };
        for c in text.chars() {
            if c.is_ascii_alphanumeric() {
                run.push(c);
            } else {
                flush(&mut run, &mut out);
                out.push(c);
            }
        }
        flush(&mut run, &mut out);
        if out != text {
            std::fs::write(&path, out).unwrap();
        }
    }
}

/// [`compare`], masking random strings first when `mask` is set.
fn compare_masked(template: &str, values: &[&str], trust: bool, mask: bool) {
    let settle = |dir: &Path| {
        if mask {
            mask_random_strings(dir);
        }
    };
    compare_in(
        env_with_cookiecutter(),
        &fixture(template),
        values,
        trust,
        &cookiecutter,
        &settle,
    );
}

#[test]
fn pylibrary_with_its_python_extension_renders_through_cookiecutter() {
    compare("pylibrary", &[], true);
}

#[test]
fn pylibrary_with_other_choices() {
    compare(
        "pylibrary",
        &[
            "project_name=Ledger Tools",
            "license=MIT license",
            "command_line_interface=click",
            "sphinx_docs=no",
            "version_manager=tbump",
        ],
        true,
    );
}

#[test]
fn pylibrary_without_trust_names_its_extension() {
    let env = env_with_cookiecutter();
    let out = env.root.join("out");
    env.run([
        "scaffold",
        fixture("pylibrary").to_str().unwrap(),
        "--no-input",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("the template loads Python code (pylibrary.PrettyJsonifyExtension)")
    .stderr_has("hint: idp renders it only with --trust");
    assert!(!out.exists());
}

#[test]
fn django_defaults_without_hooks() {
    compare("django", &[], false);
}

#[test]
fn django_with_choices_without_hooks() {
    compare(
        "django",
        &[
            "project_name=Shop Floor",
            "use_docker=y",
            "rest_api=DRF",
            "frontend_pipeline=Webpack",
            "use_celery=y",
            "ci_tool=Github",
            "editor=VS Code",
        ],
        false,
    );
}

#[test]
fn django_with_hooks_that_update_the_context() {
    // The pre_gen hook trims the domain with cookiecutter.update(…); the
    // post_gen hook writes random secrets (masked) and runs `uv` (a no-op).
    compare_masked("django", &["domain_name= shop.example.com "], true, true);
}

#[test]
fn pypackage_defaults_with_hooks() {
    compare("pypackage", &[], true);
}

#[test]
fn pypackage_with_values_without_hooks() {
    compare(
        "pypackage",
        &["project_name=Ledger Tools", "github_username=ada"],
        false,
    );
}
