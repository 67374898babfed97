//! `idp scaffold --engine`: a cookiecutter template that loads Jinja2
//! extensions written in Python renders with the installed cookiecutter
//! under --trust, with idp's staging, answers file, first commit,
//! validation, registration and JSON result around it; without --trust or
//! without cookiecutter, a usage error names the extension and the fix,
//! and nothing is written.

use std::path::{Path, PathBuf};

use crate::common::{CatalogBuilder, TestEnv};
use crate::scaffold_cookiecutter::{assert_same_tree, cookiecutter};

/// A template whose `shout` filter is Python code of its own
/// (`local_extensions.Shout`), with a boolean and a descriptor.
fn shout_template(env: &TestEnv) -> PathBuf {
    let dir = env.dir("shout");
    let files: &[(&str, &str)] = &[
        (
            "cookiecutter.json",
            r#"{
  "project_name": "Demo App",
  "project_slug": "{{ cookiecutter.project_name | lower | replace(' ', '-') }}",
  "use_ci": true,
  "_extensions": ["local_extensions.Shout"]
}
"#,
        ),
        (
            "local_extensions.py",
            "from jinja2.ext import Extension\n\n\nclass Shout(Extension):\n    def __init__(self, environment):\n        super().__init__(environment)\n        environment.filters['shout'] = lambda s: s.upper() + '!'\n",
        ),
        (
            "{{cookiecutter.project_slug}}/README.md",
            "# {{ cookiecutter.project_name | shout }}\n{% if cookiecutter.use_ci %}ci: on\n{% endif %}",
        ),
        (
            "{{cookiecutter.project_slug}}/catalog-info.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {{ cookiecutter.project_slug }}\nspec:\n  type: service\n  lifecycle: experimental\n  owner: payments\n",
        ),
    ];
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

/// The real cookiecutter, as found on the test's PATH.
fn real_cookiecutter() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("cookiecutter"))
        .find(|p| p.is_file())
        .expect("cookiecutter is on PATH (scripts/test installs it with pip)")
}

/// A PATH with cookiecutter (when `with_cookiecutter`), a `tox` and a `uv`
/// that do nothing (hooks that bootstrap or install with them stay
/// offline) and the system directories.
pub fn hermetic_path(env: &TestEnv, with_cookiecutter: bool) -> String {
    use std::os::unix::fs::PermissionsExt;
    let bin = env.dir("bin");
    if with_cookiecutter {
        std::os::unix::fs::symlink(real_cookiecutter(), bin.join("cookiecutter")).ok();
    }
    for tool in ["tox", "uv"] {
        let p = bin.join(tool);
        std::fs::write(&p, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    format!("{}:/usr/bin:/bin", bin.display())
}

pub fn env_with_cookiecutter() -> TestEnv {
    let mut env = TestEnv::new();
    let path = hermetic_path(&env, true);
    env.env("PATH", path);
    // A `pip install --user` cookiecutter finds its packages under the real
    // HOME's ~/.local, not the test's HOME: name that base directly.
    let cc = real_cookiecutter()
        .canonicalize()
        .unwrap_or_else(|_| real_cookiecutter());
    if let Some(base) = real_cookiecutter().parent().and_then(Path::parent) {
        if base.join("lib").is_dir() && !cc.starts_with("/usr") {
            env.env("PYTHONUSERBASE", base);
        }
    }
    env
}

/// Nothing at all under `dir` (or `dir` absent): no project, no staging
/// leftovers.
fn assert_nothing_written(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "left behind in {}: {left:?}",
        dir.display()
    );
}

#[test]
fn python_extensions_render_with_cookiecutter_under_trust_with_idps_pipeline_around() {
    let env = env_with_cookiecutter();
    let tpl = shout_template(&env);
    let out = env.root.join("out");
    let run = env.run([
        "scaffold",
        tpl.to_str().unwrap(),
        "--no-input",
        "--trust",
        "--set",
        "project_name=Shout Demo",
        "--set",
        "use_ci=no",
        "--output-dir",
        out.to_str().unwrap(),
        "-o",
        "json",
    ]);
    run.ok()
        .stderr_has("note: rendering with cookiecutter 2.")
        .stderr_has(": the template loads Python extensions (local_extensions.Shout)");
    let json = run.json();
    let project = out.join("shout-demo");
    assert_eq!(json["project"], project.display().to_string());
    assert_eq!(json["answers"]["project_slug"], "shout-demo");
    // Typed values round-trip: the boolean stays a boolean.
    assert_eq!(json["answers"]["use_ci"], false);
    assert!(json["commit"].is_string(), "{json}");
    assert_eq!(
        json["validation"]["errors"].as_array().map(Vec::len),
        Some(0),
        "{json}"
    );
    let files: Vec<&str> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [".idp/answers.yaml", "README.md", "catalog-info.yaml"]
    );
    assert_eq!(
        std::fs::read_to_string(project.join("README.md")).unwrap(),
        "# SHOUT DEMO!\n"
    );
    let answers = std::fs::read_to_string(project.join(".idp/answers.yaml")).unwrap();
    assert!(answers.contains("use_ci: false"), "{answers}");
    let log = env
        .git(&project)
        .args(["log", "--format=%s"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&log.stdout).trim(),
        "Create shout-demo from template shout"
    );
    // No staging directory is left next to the project.
    let entries: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert_eq!(entries.len(), 1);

    // Byte for byte what cookiecutter itself makes with the same values.
    let expected = env.root.join("cc-out");
    let cc = cookiecutter(
        &env,
        &env.cwd,
        &[
            "--no-input",
            "-o",
            expected.to_str().unwrap(),
            tpl.to_str().unwrap(),
            "project_name=Shout Demo",
            "use_ci=no",
        ],
    );
    assert!(
        cc.status.success(),
        "{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    assert_same_tree(&expected, &out);
}

#[test]
fn engine_cookiecutter_renders_a_plain_template_and_skips_hooks_without_trust() {
    let env = env_with_cookiecutter();
    let tpl =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cookiecutter/pypackage-minimal");
    let out = env.root.join("out");
    env.run([
        "scaffold",
        tpl.to_str().unwrap(),
        "--engine",
        "cookiecutter",
        "--no-input",
        "--set",
        "package_name=ledger_tools",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .ok()
    .stderr_has("note: rendering with cookiecutter 2.")
    .stderr_has("(--engine cookiecutter)")
    .stderr_has("hooks skipped (they run template code; add --trust to run them): hooks/post_gen_project.py");
    assert!(out.join("ledger_tools/.idp/answers.yaml").is_file());
    let expected = env.root.join("cc-out");
    let cc = cookiecutter(
        &env,
        &env.cwd,
        &[
            "--no-input",
            "--accept-hooks",
            "no",
            "-o",
            expected.to_str().unwrap(),
            tpl.to_str().unwrap(),
            "package_name=ledger_tools",
        ],
    );
    assert!(
        cc.status.success(),
        "{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    assert_same_tree(&expected, &out);
}

#[test]
fn without_trust_the_error_names_the_extension_and_how_to_render_it() {
    let env = env_with_cookiecutter();
    let tpl = shout_template(&env);
    let out = env.root.join("out");
    for engine in ["auto", "cookiecutter"] {
        env.run([
            "scaffold",
            tpl.to_str().unwrap(),
            "--no-input",
            "--engine",
            engine,
            "--output-dir",
            out.to_str().unwrap(),
        ])
        .code(2)
        .stderr_has("cookiecutter.json: the template loads Python code (local_extensions.Shout), which idp does not run without --trust")
        .stderr_has("hint: idp renders it only with --trust and an installed cookiecutter (pip install cookiecutter)");
        assert_nothing_written(&out);
    }
}

#[test]
fn engine_idp_refuses_python_extensions_even_with_trust() {
    let env = env_with_cookiecutter();
    let tpl = shout_template(&env);
    let out = env.root.join("out");
    env.run([
        "scaffold",
        tpl.to_str().unwrap(),
        "--no-input",
        "--trust",
        "--engine",
        "idp",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("(local_extensions.Shout), which idp's own engine (--engine idp) cannot run")
    .stderr_has("hint: leave out --engine idp");
    assert_nothing_written(&out);
}

#[test]
fn without_cookiecutter_installed_the_error_says_how_to_install_it() {
    let mut env = TestEnv::new();
    let path = hermetic_path(&env, false);
    env.env("PATH", path);
    let tpl = shout_template(&env);
    let out = env.root.join("out");
    env.run([
        "scaffold",
        tpl.to_str().unwrap(),
        "--no-input",
        "--trust",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("the template loads Python code (local_extensions.Shout), which idp cannot run itself, and no cookiecutter is installed")
    .stderr_has("hint: install cookiecutter (pip install cookiecutter)");
    assert_nothing_written(&out);
}

#[test]
fn a_failing_cookiecutter_render_leaves_nothing_behind() {
    let env = env_with_cookiecutter();
    let tpl = shout_template(&env);
    std::fs::write(
        tpl.join("{{cookiecutter.project_slug}}/broken.txt"),
        "{{ cookiecutter.project_name | no_such_filter }}\n",
    )
    .unwrap();
    let out = env.root.join("out");
    env.run([
        "scaffold",
        tpl.to_str().unwrap(),
        "--no-input",
        "--trust",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("error: cookiecutter 2.")
    .stderr_has("no_such_filter");
    assert_nothing_written(&out);
}

#[test]
fn a_dry_run_with_cookiecutter_lists_files_and_writes_nothing() {
    let env = env_with_cookiecutter();
    let tpl = shout_template(&env);
    let out = env.root.join("out");
    env.run([
        "scaffold",
        tpl.to_str().unwrap(),
        "--no-input",
        "--trust",
        "--dry-run",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .ok()
    .stderr_has("note: rendering with cookiecutter")
    .stdout_has("README.md")
    .stdout_has("catalog-info.yaml");
    assert_nothing_written(&out);
}

#[test]
fn register_commits_the_descriptor_cookiecutter_rendered() {
    let env = env_with_cookiecutter();
    let cat = CatalogBuilder::good(env.dir("cat")).build();
    let tpl = shout_template(&env);
    let out = env.root.join("out");
    env.run([
        "--catalog",
        cat.path(),
        "scaffold",
        tpl.to_str().unwrap(),
        "--no-input",
        "--trust",
        "--register",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .ok()
    .stdout_has("Registered")
    .stdout_has("idp/register-demo-app");
    let files = env
        .git(&cat.dir)
        .args(["ls-tree", "-r", "--name-only", "idp/register-demo-app"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&files.stdout).contains("catalog-info.yaml"),
        "{}",
        String::from_utf8_lossy(&files.stdout)
    );
}

#[test]
fn engine_cookiecutter_on_a_backstage_template_is_a_usage_error() {
    let env = env_with_cookiecutter();
    let dir = env.dir("bs");
    std::fs::write(
        dir.join("template.yaml"),
        "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: svc\nspec:\n  type: service\n  parameters: []\n  steps: []\n",
    )
    .unwrap();
    let out = env.root.join("out");
    env.run([
        "scaffold",
        dir.join("template.yaml").to_str().unwrap(),
        "--no-input",
        "--engine",
        "cookiecutter",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("invalid value for --engine: cookiecutter renders only cookiecutter templates");
    assert_nothing_written(&out);
}
