//! Every example in every `--help` runs. The commands are found by walking
//! the "Commands:" sections of `idp --help` (and of each command's help, for
//! nested subcommands), the examples are the lines of each "Examples:"
//! section; each runs in bash (`set -o pipefail`, stdin closed, `# comments`
//! stripped) against a fresh copy of examples/acme in a temporary git
//! repository, and must exit 0 (or the code listed in [`EXPECTED`]).
//!
//! The sandbox holds what the examples name: the catalog at
//! `services/catalog` (also `IDP_CATALOG` and `$CATALOG_CHECKOUT`) with a
//! `main` branch, an `origin/main` remote-tracking ref and tags `v2026.10`
//! and `v2026.11`; a service checkout whose origin is acme/checkout (for
//! `who-owns .`); a generated project at `services/billing` (for `scaffold
//! update` and `scaffold check`); `answers.yaml`, `fixtures/*.yaml`,
//! `tests/*.json`, `./my-cookiecutter` and a cookiecutter template at
//! `templates/python-lib`. A consumer a pipeline names that is not
//! installed (e.g. Graphviz `dot`) is replaced by a stand-in that reads its
//! input, so idp's side of the pipe still counts.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::{acme, TestEnv};

/// Examples that cannot run here, with the reason. Each must still exist
/// (a stale entry fails the test).
const SKIPPED: &[(&str, &str)] = &[
    (
        "IDP_MCP_TOKEN=s3cret idp mcp --http 127.0.0.1:8765",
        "a server that runs until stopped (tests/it/mcp_finish.rs drives it over HTTP)",
    ),
    (
        "idp scaffold node-service",
        "needs a terminal: it asks for every value",
    ),
    (
        "idp scaffold https://github.com/acme/templates.git//python-lib --defaults",
        "needs the network: clones from github.com",
    ),
    (
        "idp scaffold node-service --set name=refunds --set owner=payments --set description='Refund service' --set repoUrl='github.com?owner=acme&repo=refunds' --register --push",
        "needs the network: --push pushes to the catalog's origin",
    ),
    (
        "idp scaffold ./templates/python-lib --engine cookiecutter --trust --no-input -d ~/src",
        "needs cookiecutter installed where the sandbox's HOME sees it (tests/it/engine.rs runs --engine cookiecutter)",
    ),
    (
        "idp cost --source '/data/focus/*.parquet' --publish",
        "reads billing files outside the sandbox and pushes to origin (tests/it/cost.rs publishes)",
    ),
    (
        "idp enrich",
        "needs the network: enriching calls the integrations' APIs",
    ),
    (
        "idp enrich --kind component --owner payments",
        "needs the network: enriching calls the integrations' APIs",
    ),
    (
        "idp enrich checkout --integration github -o json",
        "needs the network: calls api.github.com",
    ),
    (
        "idp enrich --publish",
        "needs the network: calls the APIs and pushes to origin",
    ),
    (
        "idp enrich --refresh --publish --no-push",
        "needs the network: enriching calls the integrations' APIs",
    ),
    (
        "idp --catalog https://github.com/acme/catalog.git sync",
        "needs the network: fetches from github.com",
    ),
    (
        "idp man --out-dir /usr/local/share/man/man1",
        "writes outside a temporary directory",
    ),
];

/// Examples whose documented exit status is not 0: the example catalog
/// deliberately fails the security-basics gate (some APIs are below its
/// minimum level), and `score` exits 1 when a gate fails.
const EXPECTED: &[(&str, i32)] = &[
    ("idp score", 1),
    ("idp score -o sarif > score.sarif", 1),
    (
        "idp score -o json | jq '.results[] | select(.level == null) | .entity'",
        1,
    ),
];

/// The working directory of examples that need one other than the catalog
/// (relative to the sandbox; `@repo` is the idp source tree).
const CWD: &[(&str, &str)] = &[
    ("idp --catalog examples/acme who-owns checkout", "@repo"),
    ("idp who-owns .", "checkout-service"),
    ("idp init my-catalog", "empty"),
    ("idp init", "empty"),
    ("idp init --force .", "existing-repo"),
    ("idp scaffold update", "services/billing"),
    ("idp scaffold update services/billing --dry-run", "."),
    ("idp scaffold update --conflict rej", "services/billing"),
    ("idp scaffold update --set api_token=…", "services/billing"),
    (
        "idp --catalog ../catalog scaffold update",
        "services/billing",
    ),
    ("idp scaffold check", "services/billing"),
    (
        "idp scaffold check services/billing || echo 'run idp scaffold update'",
        ".",
    ),
    (
        "idp scaffold check -o json | jq .latest",
        "services/billing",
    ),
    (
        "idp --catalog \"$CATALOG_CHECKOUT\" scaffold check",
        "services/billing",
    ),
];

#[test]
fn every_help_example_runs_on_the_example_catalog() {
    let mut env = TestEnv::new();
    let home = env.home.clone();
    for d in [".config/fish/completions", ".config/elvish"] {
        std::fs::create_dir_all(home.join(d)).unwrap();
    }
    env.env("PROFILE", home.join("profile.ps1"));
    let examples = all_examples(&env);
    assert!(examples.len() > 50, "too few examples found: {examples:?}");

    for (skip, _) in SKIPPED {
        assert!(
            examples.iter().any(|(_, e)| e == skip),
            "SKIPPED names an example no --help has: {skip}"
        );
    }
    let shims = shims(&env);
    let mut failures = Vec::new();
    // One sandbox per command: its examples share it (a command's examples
    // do not undo each other; building a sandbox is most of the cost).
    let mut sandbox: Option<(String, Sandbox)> = None;
    for (command, example) in &examples {
        if SKIPPED.iter().any(|(s, _)| s == example) {
            continue;
        }
        if sandbox.as_ref().is_none_or(|(c, _)| c != command) {
            sandbox = Some((command.clone(), Sandbox::new(&env, command)));
        }
        let sandbox = &sandbox.as_ref().expect("sandbox").1;
        let cwd = match CWD.iter().find(|(e, _)| e == example) {
            Some((_, "@repo")) => PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            Some((_, rel)) => sandbox.root.join(rel),
            None => sandbox.catalog.clone(),
        };
        let expected = EXPECTED
            .iter()
            .find(|(e, _)| e == example)
            .map_or(0, |(_, c)| *c);
        let (code, stdout, stderr) = sandbox.run(&env, &shims, &cwd, example);
        // An example that answers "nothing" shows nothing: it must find
        // something on the example catalog.
        let empty = stdout.contains("No entities match");
        if code != expected || empty {
            failures.push(format!(
                "`{example}` (idp {command} --help) exited {code}, expected {expected}{}\n--- stdout\n{}\n--- stderr\n{}",
                if empty { ", and matched no entity" } else { "" },
                tail(&stdout),
                tail(&stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} help example(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// `(command path, example)` for every command's help, root first.
fn all_examples(env: &TestEnv) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut queue: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = queue.pop() {
        let help = help(env, &path);
        for example in section(&help, "Examples:") {
            out.push((path.join(" "), strip_comment(&example)));
        }
        for line in section(&help, "Commands:") {
            let name = line
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            if !name.is_empty() && name != "help" {
                let mut sub = path.clone();
                sub.push(name);
                queue.push(sub);
            }
        }
    }
    out.sort();
    out
}

/// `idp PATH --help`, unwrapped (wide COLUMNS).
fn help(env: &TestEnv, path: &[String]) -> String {
    let mut cmd = env.command();
    cmd.args(path).arg("--help").env("COLUMNS", "1000");
    let out = cmd.output().expect("idp --help");
    assert!(out.status.success(), "idp {path:?} --help failed");
    String::from_utf8(out.stdout).expect("utf-8 help")
}

/// The non-blank, trimmed lines after `heading` up to the next blank line.
fn section(help: &str, heading: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim_end() != heading)
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .collect()
}

/// The line without a trailing `# comment` (a `#` after whitespace,
/// outside quotes).
fn strip_comment(line: &str) -> String {
    let (mut single, mut double) = (false, false);
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && prev.is_whitespace() => {
                return line[..i].trim_end().to_string()
            }
            _ => {}
        }
        prev = c;
    }
    line.trim_end().to_string()
}

/// A directory of stand-ins for pipeline consumers that are not installed.
fn shims(env: &TestEnv) -> PathBuf {
    let dir = env.dir("shims");
    for tool in ["jq", "dot", "man", "sort"] {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .any(|d| d.join(tool).is_file());
        if !found {
            let path = dir.join(tool);
            std::fs::write(&path, "#!/bin/sh\ncat >/dev/null\n").unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    dir
}

/// One example's world.
struct Sandbox {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    catalog: PathBuf,
}

impl Sandbox {
    fn new(env: &TestEnv, command: &str) -> Self {
        let tmp = tempfile::tempdir_in(&env.root).expect("sandbox");
        let root = tmp.path().canonicalize().unwrap();
        let catalog = root.join("services/catalog");
        copy_dir(Path::new(&acme()), &catalog);
        // The cookiecutter template below holds a catalog-info.yaml that is
        // a template, not a descriptor: keep it out, as a catalog with
        // cookiecutter templates does.
        let config = std::fs::read_to_string(catalog.join("idp.yaml")).unwrap();
        let excluded = config.replace(
            "exclude: [\"templates/*/skeleton/**\",",
            "exclude: [\"templates/*/skeleton/**\", \"templates/python-lib/**\",",
        );
        assert_ne!(
            config, excluded,
            "examples/acme/idp.yaml changed its exclude line"
        );
        std::fs::write(catalog.join("idp.yaml"), excluded).unwrap();
        git(env, &catalog, &["init", "-q", "-b", "main"]);
        git(env, &catalog, &["add", "-A"]);
        git(env, &catalog, &["commit", "-q", "-m", "catalog"]);
        for tag in ["v2026.10", "v2026.11"] {
            git(env, &catalog, &["tag", tag]);
        }
        git(
            env,
            &catalog,
            &["update-ref", "refs/remotes/origin/main", "HEAD"],
        );

        // The files the examples name, next to the catalog's own.
        write(&catalog, "answers.yaml", ANSWERS);
        write(&catalog, "fixtures/minimal.yaml", MINIMAL);
        write(&catalog, "fixtures/full.yaml", FULL);
        write(
            &catalog,
            "tests/ledger.json",
            "{\"project_name\": \"Ledger API\"}\n",
        );
        write(
            &catalog,
            "templates/python-lib/cookiecutter.json",
            COOKIECUTTER,
        );
        write(
            &catalog,
            "templates/python-lib/{{cookiecutter.project_slug}}/README.md",
            "# {{ cookiecutter.project_name }}\n",
        );
        write(
            &catalog,
            "templates/python-lib/{{cookiecutter.project_slug}}/catalog-info.yaml",
            COOKIECUTTER_DESCRIPTOR,
        );
        write(&catalog, "my-cookiecutter/cookiecutter.json", COOKIECUTTER);
        write(
            &catalog,
            "my-cookiecutter/{{cookiecutter.project_slug}}/README.md",
            "# {{ cookiecutter.project_name }}\n",
        );

        let service = root.join("checkout-service");
        write(&service, "README.md", "checkout\n");
        git(env, &service, &["init", "-q", "-b", "main"]);
        git(
            env,
            &service,
            &[
                "remote",
                "add",
                "origin",
                "git@github.com:acme/checkout.git",
            ],
        );
        std::fs::create_dir_all(root.join("empty")).unwrap();
        let existing = root.join("existing-repo");
        write(&existing, "README.md", "an existing repository\n");
        git(env, &existing, &["init", "-q", "-b", "main"]);
        git(env, &existing, &["add", "-A"]);
        git(env, &existing, &["commit", "-q", "-m", "first"]);

        let sandbox = Sandbox {
            _tmp: tmp,
            root,
            catalog,
        };
        if command == "scaffold update" || command == "scaffold check" {
            let project = sandbox.root.join("services/billing");
            let (code, out, err) = sandbox.run(
                env,
                Path::new("/nonexistent"),
                &sandbox.catalog,
                &format!(
                    "idp scaffold python-library --values answers.yaml --output-dir {}",
                    project.display()
                ),
            );
            assert_eq!(code, 0, "generating the project failed:\n{out}\n{err}");
        }
        sandbox
    }

    /// Runs one example line in bash; returns its status, stdout and stderr.
    fn run(&self, env: &TestEnv, shims: &Path, cwd: &Path, line: &str) -> (i32, String, String) {
        let bin_dir = assert_cmd::cargo::cargo_bin("idp")
            .parent()
            .unwrap()
            .to_path_buf();
        let mut paths = vec![bin_dir, shims.to_path_buf()];
        paths.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let mut bash = Command::new("bash");
        bash.args(["-c", &format!("set -o pipefail\n{line}")]);
        env.hermetic(&mut bash);
        bash.env("PATH", std::env::join_paths(paths).unwrap())
            .env("IDP_CATALOG", &self.catalog)
            .env("CATALOG_CHECKOUT", &self.catalog)
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .current_dir(cwd)
            .stdin(Stdio::null());
        let out = bash.output().expect("bash");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn git(env: &TestEnv, dir: &Path, args: &[&str]) {
    let out = env.git(dir).args(args).output().expect("git");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// Values for the catalog's python-library template.
const ANSWERS: &str =
    "name: billing\nowner: payments\nrepoUrl: gitlab.com?owner=acme&repo=billing\n";

/// Values for node-service: only the required ones, then every one.
const MINIMAL: &str = "name: refunds\ndescription: Refunds\nowner: payments\nrepoUrl: github.com?owner=acme&repo=refunds\n";
const FULL: &str = "name: refunds\ndescription: Refunds\nowner: payments\nsystem: payments-core\nrepoUrl: github.com?owner=acme&repo=refunds\n";

const COOKIECUTTER: &str = r#"{
  "project_name": "My Library",
  "project_slug": "{{ cookiecutter.project_name.lower().replace(' ', '-') }}"
}
"#;

const COOKIECUTTER_DESCRIPTOR: &str = "apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {{ cookiecutter.project_slug }}
spec:
  type: library
  lifecycle: experimental
  owner: payments
";
