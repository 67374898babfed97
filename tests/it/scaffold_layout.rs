//! Where `idp scaffold` writes: the output directory has its own flag
//! (`-d` / `--output-dir`), and `-o` is the output format under `scaffold`
//! as everywhere else (issue 12, item 6). And the core behind the command:
//! `idp::scaffold::create` called directly with a request, reporting
//! through its host instead of printing.

use std::path::{Path, PathBuf};

use idp::catalog::Catalog;
use idp::scaffold::create::{
    Answering, Code, CreateHost, Existing, Git, HostFailed, Limits, Preview, Publish, Register,
    Run, UnknownActions,
};
use idp::scaffold::{CreateRequest, LoadedTemplate};

use crate::common::TestEnv;
use crate::scaffold_cookiecutter::{basic_template, put};

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn dash_d_names_the_output_directory() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let out = env.dir("out");
    env.run([
        "scaffold",
        "own-basic",
        "--no-input",
        "--no-git",
        "-d",
        out.to_str().unwrap(),
    ])
    .ok()
    .stdout_has("Created ")
    .stdout_has("/out/ledger-service from own-basic");
    assert!(out.join("ledger-service/README.md").is_file());
    assert!(out.join("ledger-service/.idp/answers.yaml").is_file());
}

#[test]
fn output_dir_long_flag_with_equals_names_the_output_directory() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let out = env.dir("elsewhere");
    env.run([
        "scaffold",
        "own-basic",
        "--no-input",
        "--no-git",
        &format!("--output-dir={}", out.display()),
    ])
    .ok();
    assert_eq!(entries(&out), ["ledger-service"]);
}

#[test]
fn dash_o_json_after_the_template_is_the_format_not_a_directory() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let run = env.run([
        "scaffold",
        "own-basic",
        "--no-input",
        "--no-git",
        "-o",
        "json",
    ]);
    let v = run.ok().json();
    assert!(
        !env.cwd.join("json").exists(),
        "a directory named json was made: {:?}",
        entries(&env.cwd)
    );
    assert_eq!(v["template"], "own-basic");
    assert_eq!(v["dry_run"], false);
    let project = PathBuf::from(v["project"].as_str().unwrap());
    assert_eq!(project.file_name().unwrap(), "ledger-service");
    assert!(env.cwd.join("ledger-service/README.md").is_file());
}

#[test]
fn dash_o_with_a_directory_is_a_usage_error_and_writes_nothing() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let out = env.root.join("target-dir");
    env.run([
        "scaffold",
        "own-basic",
        "--no-input",
        "-o",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("invalid value")
    .stderr_has("for '--output");
    assert!(!out.exists());
    assert_eq!(entries(&env.cwd), ["own-basic"]);
}

#[test]
fn long_output_is_the_format_flag_not_a_directory_alias() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let out = env.root.join("target-dir");
    env.run([
        "scaffold",
        "own-basic",
        "--no-input",
        "--output",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("invalid value");
    assert!(!out.exists());
}

#[test]
fn dash_o_yaml_and_dash_d_together() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let out = env.dir("out");
    let run = env.run([
        "scaffold",
        "own-basic",
        "--no-input",
        "--no-git",
        "-o",
        "yaml",
        "-d",
        out.to_str().unwrap(),
    ]);
    run.ok().stdout_has("template: own-basic\n");
    assert_eq!(entries(&out), ["ledger-service"]);
}

#[test]
fn help_shows_the_output_dir_flag_and_examples_use_it() {
    let env = TestEnv::new();
    env.run(["scaffold", "--help"])
        .ok()
        .stdout_has("-d, --output-dir <DIR>")
        .stdout_has("--no-input -d ~/src")
        .stdout_lacks("--output DIR");
}

#[test]
fn dry_run_diff_shows_each_file_as_an_addition() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let out = env.dir("out");
    let run = env.run([
        "scaffold",
        "own-basic",
        "--no-input",
        "--dry-run",
        "--diff",
        "-d",
        out.to_str().unwrap(),
    ]);
    run.ok()
        .stdout_has("Would create ")
        .stdout_has("nothing was written:\n")
        .stdout_has("--- /dev/null\n+++ b/ledger-service/README.md\n@@ -0,0 +1,")
        .stdout_has("+# Ledger Service\n");
    assert!(entries(&out).is_empty(), "{:?}", entries(&out));
}

// ------------------------------------------------------------------ library

/// Records what `create` reports instead of printing it.
#[derive(Default)]
struct Recorder {
    warnings: Vec<String>,
    notes: Vec<String>,
    log: Vec<String>,
    late_catalog_asked: usize,
}

impl CreateHost for Recorder {
    fn warn(&mut self, message: &str) {
        self.warnings.push(message.to_string());
    }
    fn note(&mut self, message: &str) {
        self.notes.push(message.to_string());
    }
    fn log(&mut self, lines: &[String]) {
        self.log.extend(lines.iter().cloned());
    }
    fn late_catalog(&mut self) -> Result<Option<&Catalog>, HostFailed> {
        self.late_catalog_asked += 1;
        Ok(None)
    }
}

fn load(env: &TestEnv, name: &str) -> LoadedTemplate {
    idp::scaffold::source::resolve(&format!("./{name}"), None, &env.cwd).unwrap()
}

fn request<'a>(t: &'a LoadedTemplate, env: &TestEnv, out: &Path, run: Run) -> CreateRequest<'a> {
    CreateRequest {
        template: t,
        values: serde_json::Map::new(),
        replay: None,
        output_dir: Some(out.to_path_buf()),
        base_dir: env.cwd.clone(),
        catalog: None,
        answering: Answering::Defaults,
        existing: Existing::Refuse,
        run,
        git: Git::None,
        code: Code::Skip,
        unknown_actions: UnknownActions::Fail,
        publish: Publish::Local,
        register: Register::No,
        limits: Limits {
            fuel: idp::scaffold::DEFAULT_FUEL,
            max_output_bytes: idp::scaffold::DEFAULT_MAX_OUTPUT_BYTES,
        },
        env: Default::default(),
        today: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        engine: Default::default(),
    }
}

#[test]
fn library_create_returns_what_it_made_and_reports_through_the_host() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    // A hook that is not run without Code::Run: its warning must reach the
    // host, not the terminal.
    put(
        &env.cwd,
        "own-basic/hooks/post_gen_project.py",
        "raise SystemExit(1)\n",
        0o755,
    );
    let t = load(&env, "own-basic");
    let out = env.dir("lib-out");
    let mut host = Recorder::default();
    let mut req = request(&t, &env, &out, Run::Write);
    req.values.insert("project_name".into(), "Fx Rates".into());
    let created = idp::scaffold::create(req, &mut host).unwrap();

    assert_eq!(created.template, "own-basic");
    assert_eq!(
        PathBuf::from(&created.project),
        out.join("fx-rates"),
        "{created:?}"
    );
    assert!(!created.dry_run);
    assert_eq!(created.commit, None, "Git::None makes no commit");
    assert!(created.files.contains(&"README.md".to_string()));
    assert!(created.files.contains(&".idp/answers.yaml".to_string()));
    assert!(!created.files.iter().any(|f| f.starts_with(".git/")));
    assert_eq!(created.answers["project_name"], "Fx Rates");
    assert!(out.join("fx-rates/README.md").is_file());
    assert!(!out.join("fx-rates/.git").exists());
    assert!(
        host.warnings.iter().any(|w| w.contains("hooks skipped")),
        "{:?}",
        host.warnings
    );
    assert_eq!(created.warnings, host.warnings);
    // The template makes no catalog-info.yaml: no catalog was asked for.
    assert_eq!(host.late_catalog_asked, 0);
    assert!(created.validation.is_none());
    assert!(!created.descriptor_failed());
    // The JSON contract leaves the renderer-only fields out.
    let json = serde_json::to_value(&created).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["template", "project", "files", "answers", "warnings", "dry_run"]
    );
}

#[test]
fn library_dry_run_writes_nothing_and_keeps_the_contents() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let t = load(&env, "own-basic");
    let out = env.dir("lib-dry");
    let mut host = Recorder::default();
    let created = idp::scaffold::create(
        request(&t, &env, &out, Run::DryRun(Preview::Contents)),
        &mut host,
    )
    .unwrap();
    assert!(created.dry_run);
    assert!(entries(&out).is_empty(), "{:?}", entries(&out));
    assert_eq!(created.contents.len(), created.files.len());
    let readme = created.files.iter().position(|f| f == "README.md").unwrap();
    assert!(created.contents[readme].starts_with(b"# Ledger Service\n"));
    assert!(created.replaces.is_empty());
    assert!(host.warnings.is_empty(), "{:?}", host.warnings);

    // Files only: no contents kept.
    let created = idp::scaffold::create(
        request(&t, &env, &out, Run::DryRun(Preview::Files)),
        &mut Recorder::default(),
    )
    .unwrap();
    assert!(created.contents.is_empty());
    assert!(!created.files.is_empty());
}

#[test]
fn library_refuses_a_non_empty_target_before_writing() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let t = load(&env, "own-basic");
    let out = env.dir("lib-busy");
    put(&out, "ledger-service/keep.txt", "mine\n", 0o644);
    let err = idp::scaffold::create(
        request(&t, &env, &out, Run::Write),
        &mut Recorder::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            idp::scaffold::create::CreateError::Scaffold(
                idp::scaffold::ScaffoldError::TargetNotEmpty { .. }
            )
        ),
        "{err:?}"
    );
    assert_eq!(entries(&out.join("ledger-service")), ["keep.txt"]);
    assert_eq!(entries(&out), ["ledger-service"], "no staging left behind");
}
