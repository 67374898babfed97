//! `idp scaffold` on cookiecutter templates, checked against the real
//! `cookiecutter` (PyPI; scripts/test installs it): the same template and
//! values must give byte-identical trees, permission bits included. idp
//! adds only `.idp/` and `.git/` to the project, which the comparison skips.
//! Templates are written by each test (CRLF files, executable bits, empty
//! directories and binary files survive no better than that through git).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{CatalogBuilder, TestEnv};
use crate::tmux::Tmux;

/// Writes `content` at `root/rel` with `mode`.
pub fn put(root: &Path, rel: &str, content: impl AsRef<[u8]>, mode: u32) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Runs the real cookiecutter in `cwd`, with its config (replay and clone
/// directories) inside the test's temp dir.
pub fn cookiecutter(env: &TestEnv, cwd: &Path, args: &[&str]) -> std::process::Output {
    let config = env.root.join("cookiecutter-config.yaml");
    if !config.exists() {
        std::fs::write(
            &config,
            format!(
                "cookiecutters_dir: {}\nreplay_dir: {}\n",
                env.root.join("cc-clones").display(),
                env.root.join("cc-replay").display()
            ),
        )
        .unwrap();
    }
    let out = Command::new("cookiecutter")
        .args(args)
        .current_dir(cwd)
        .env("COOKIECUTTER_CONFIG", &config)
        .output()
        .expect("cookiecutter is on PATH (scripts/test installs it with pip)");
    out
}

/// Every file and directory under `root` with its mode and contents, minus
/// `.git/` and `.idp/` (idp's additions).
pub fn tree(root: &Path) -> BTreeMap<String, (u32, Option<Vec<u8>>)> {
    fn walk(dir: &Path, rel: &str, out: &mut BTreeMap<String, (u32, Option<Vec<u8>>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if name == ".git" || name == ".idp" {
                continue;
            }
            let r = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.is_dir() {
                out.insert(format!("{r}/"), (mode, None));
                walk(&e.path(), &r, out);
            } else {
                out.insert(r, (mode, Some(std::fs::read(e.path()).unwrap())));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, "", &mut out);
    out
}

/// Fails with the first differences between two trees.
pub fn assert_same_tree(expected: &Path, actual: &Path) {
    let a = tree(expected);
    let b = tree(actual);
    assert!(
        !a.is_empty(),
        "cookiecutter produced nothing in {}",
        expected.display()
    );
    let mut diffs = Vec::new();
    for k in a
        .keys()
        .chain(b.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (x, y) = (a.get(k), b.get(k));
        if x != y {
            let show = |v: Option<&(u32, Option<Vec<u8>>)>| match v {
                None => "missing".to_string(),
                Some((m, None)) => format!("dir {m:o}"),
                Some((m, Some(c))) => format!("{m:o} {:?}", String::from_utf8_lossy(c)),
            };
            diffs.push(format!(
                "{k}:\n  cookiecutter: {}\n  idp:          {}",
                show(x),
                show(y)
            ));
        }
    }
    assert!(diffs.is_empty(), "trees differ:\n{}", diffs.join("\n"));
}

/// Renders `template` (a path relative to the work dir) with both tools,
/// the same extra context, and compares. Returns idp's output dir.
fn compat(
    env: &TestEnv,
    template: &str,
    cc_extra: &[&str],
    idp_extra: &[&str],
    flags: Flags,
) -> PathBuf {
    let cc_out = env.dir(&format!("out-cc-{}", env_counter()));
    let idp_out = env.dir(&format!("out-idp-{}", env_counter()));
    let mut cc_args = vec!["--no-input", "-o", cc_out.to_str().unwrap(), template];
    if !flags.hooks {
        cc_args.splice(0..0, ["--accept-hooks", "no"]);
    }
    cc_args.extend_from_slice(cc_extra);
    let cc = cookiecutter(env, &env.cwd, &cc_args);
    assert!(
        cc.status.success(),
        "cookiecutter failed: {}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let mut args = vec![
        "scaffold",
        template,
        "--no-input",
        "--output-dir",
        idp_out.to_str().unwrap(),
        "--no-git",
    ];
    if flags.hooks {
        args.push("--trust");
    }
    args.extend_from_slice(idp_extra);
    env.run(&args).ok();
    assert_same_tree(&cc_out, &idp_out);
    idp_out
}

#[derive(Default, Clone, Copy)]
struct Flags {
    hooks: bool,
}

fn env_counter() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// Choices, booleans, dicts, private and computed variables, __prompts__,
/// _copy_without_render (file glob and directory), a binary file, a CRLF
/// file, an executable, templated directory and file names, a file whose
/// name renders empty, an empty directory, and Python-style printing.
pub fn basic_template(root: &Path) -> PathBuf {
    let t = root.join("own-basic");
    put(
        &t,
        "cookiecutter.json",
        r#"{
  "project_name": "Ledger Service",
  "project_slug": "{{ cookiecutter.project_name.lower().replace(' ', '-') }}",
  "module": "{{ cookiecutter.project_slug.replace('-', '_') }}",
  "license": ["MIT", "Apache-2.0", "BSD-3-Clause"],
  "use_docker": true,
  "use_ci": false,
  "port": 8080,
  "ratio": 0.25,
  "owner": "payments",
  "_private": "{{ kept raw }}",
  "__pkg": "{{ cookiecutter.module }}_pkg",
  "meta": {"team": "{{ cookiecutter.owner }}-team", "tags": ["x", "{{ cookiecutter.module }}"], "n": 3, "on": true},
  "__prompts__": {"project_name": "Name of the service?", "license": {"__prompt__": "License", "MIT": "MIT License"}},
  "_copy_without_render": ["*.raw", "vendor"]
}
"#,
        0o644,
    );
    let p = "own-basic/{{cookiecutter.project_slug}}";
    put(
        root,
        &format!("{p}/README.md"),
        "# {{ cookiecutter.project_name }}\n\nLicense: {{ cookiecutter.license }} ({{ _cookiecutter.license }})\n\
Docker: {{ cookiecutter.use_docker }} CI: {{ cookiecutter.use_ci }} None: {{ none }}\n\
Meta: {{ cookiecutter.meta }}\nPrivate: {{ cookiecutter._private }} pkg: {{ cookiecutter.__pkg }}\n\
Port: {{ cookiecutter.port }} ratio: {{ cookiecutter.ratio }} {{ 7 / 2 }} {{ [1, 'a', none] }}\n\
{%- if cookiecutter.use_ci %}\nci\n{%- endif %}\n{% for k, v in cookiecutter.meta.items() %}{{ k }}={{ v }};{% endfor %}\n",
        0o644,
    );
    put(
        root,
        &format!("{p}/windows.bat"),
        "@echo off\r\necho {{ cookiecutter.module }}\r\n",
        0o644,
    );
    put(
        root,
        &format!("{p}/data.raw"),
        "{{ not rendered }}\n",
        0o644,
    );
    put(
        root,
        &format!("{p}/vendor/lib/{{{{x}}}}.txt"),
        "{{ copied as is }}\n",
        0o640,
    );
    put(
        root,
        &format!("{p}/bin/run.sh"),
        "#!/bin/sh\nexec python -m {{ cookiecutter.module }}\n",
        0o755,
    );
    put(
        root,
        &format!("{p}/src/{{{{cookiecutter.module}}}}/__init__.py"),
        "__version__ = '{{ cookiecutter.port }}'",
        0o644,
    );
    put(
        root,
        &format!("{p}/{{% if cookiecutter.use_docker %}}Dockerfile{{% endif %}}"),
        "FROM python:3.12\nEXPOSE {{ cookiecutter.port }}\n",
        0o644,
    );
    put(
        root,
        &format!("{p}/{{% if cookiecutter.use_ci %}}ci.yml{{% endif %}}"),
        "ci: true\n",
        0o644,
    );
    put(
        root,
        &format!("{p}/logo.png"),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR{{x}}\x00\x01",
        0o644,
    );
    put(
        root,
        &format!("{p}/blob.bin"),
        [
            0u8, 159, 146, 150, 0, 0, 1, 2, 255, 254, 0, 7, 8, 200, 201, 202,
        ],
        0o600,
    );
    std::fs::create_dir_all(root.join(format!("{p}/empty"))).unwrap();
    t
}

#[test]
fn basic_template_matches_cookiecutter_with_defaults() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    compat(&env, "own-basic", &[], &[], Flags::default());
}

#[test]
fn basic_template_matches_cookiecutter_with_extra_context() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let cc = [
        "project_name=Payments Gateway",
        "license=BSD-3-Clause",
        "use_docker=no",
        "use_ci=Yes",
        "port=9090",
        "unknown=ignored",
    ];
    let idp: Vec<String> = cc
        .iter()
        .flat_map(|kv| ["--set".to_string(), kv.to_string()])
        .collect();
    let idp: Vec<&str> = idp.iter().map(String::as_str).collect();
    let out = compat(&env, "own-basic", &cc, &idp, Flags::default());
    let readme = std::fs::read_to_string(out.join("payments-gateway/README.md")).unwrap();
    assert!(
        readme.contains("License: BSD-3-Clause (['BSD-3-Clause', 'MIT', 'Apache-2.0'])"),
        "{readme}"
    );
    assert!(readme.contains("Docker: False CI: True"), "{readme}");
    assert!(out.join("payments-gateway/ci.yml").exists());
    assert!(!out.join("payments-gateway/Dockerfile").exists());
}

#[test]
fn newline_styles_match_cookiecutter() {
    let env = TestEnv::new();
    for (name, new_lines) in [
        ("own-newlines", None),
        ("own-newlines-crlf", Some("\\r\\n")),
    ] {
        let t = env.cwd.join(name);
        let json = match new_lines {
            Some(nl) => format!("{{\"name\": \"{name}-out\", \"_new_lines\": \"{nl}\"}}"),
            None => format!("{{\"name\": \"{name}-out\"}}"),
        };
        put(&t, "cookiecutter.json", json, 0o644);
        let p = "{{cookiecutter.name}}";
        put(
            &t,
            &format!("{p}/lf.txt"),
            "a {{ cookiecutter.name }}\nb\n",
            0o644,
        );
        put(
            &t,
            &format!("{p}/crlf.txt"),
            "a {{ cookiecutter.name }}\r\nb\r\n",
            0o644,
        );
        put(
            &t,
            &format!("{p}/cr.txt"),
            "a\rb {{ cookiecutter.name }}\r",
            0o644,
        );
        put(&t, &format!("{p}/lf-then-crlf.txt"), "a\nb\r\nc\r\n", 0o644);
        put(&t, &format!("{p}/crlf-then-lf.txt"), "a\r\nb\nc\n", 0o644);
        put(
            &t,
            &format!("{p}/no-newline.txt"),
            "{{ cookiecutter.name }}",
            0o644,
        );
        put(&t, &format!("{p}/empty.txt"), "", 0o644);
        let mut late = vec![b'x'; 9000];
        late.extend_from_slice(b"\r\nline {{ cookiecutter.name }}\n");
        put(&t, &format!("{p}/late-crlf.txt"), late, 0o644);
        let mut at_chunk = vec![b'y'; 8191];
        at_chunk.extend_from_slice(b"\r\nz\n");
        put(&t, &format!("{p}/cr-at-chunk-end.txt"), at_chunk, 0o644);
        compat(&env, name, &[], &[], Flags::default());
    }
}

#[test]
fn extensions_and_jinja_settings_match_cookiecutter() {
    let env = TestEnv::new();
    let t = env.cwd.join("own-extensions");
    put(
        &t,
        "cookiecutter.json",
        r#"{
  "full_name": "Ærøskøbing Ünïcode & Co's \"Thing\"",
  "slug": "{{ cookiecutter.full_name | slugify }}",
  "under": "{{ cookiecutter.full_name | slugify(separator='_') }}",
  "short": "{{ cookiecutter.full_name | slugify(max_length=10, word_boundary=True) }}",
  "year": "{% now 'utc', '%Y' %}",
  "data": {"b": [1, 2.5], "a": "é", "c": {"z": null, "y": true}},
  "_extensions": ["cookiecutter.extensions.SlugifyExtension", "jinja2.ext.loopcontrols"],
  "_jinja2_env_vars": {"trim_blocks": true, "lstrip_blocks": true}
}
"#,
        0o644,
    );
    put(
        &t,
        "{{cookiecutter.slug}}/out.txt",
        r#"{{ cookiecutter.slug }} {{ cookiecutter.under }} {{ cookiecutter.short }}
{{ cookiecutter.data | jsonify }}
{{ cookiecutter.data | jsonify(2) }}
{{ uuid4() | length }} {{ random_ascii_string(12) | length }} {{ random_ascii_string(8, punctuation=True) | length }}
{% now 'utc', '%Y' %} {{ cookiecutter.year }}
{{ "Hello World" | slugify(stopwords=['world']) }} {{ "a-b c" | slugify(lowercase=False) }} {{ 'ÀÉÎ õü ñ ß ł đ' | slugify }}
{% for i in [1, 2, 3] %}
    {% if i == 2 %}
        {% continue %}
    {% endif %}
  item {{ i }}
{% endfor %}
"#,
        0o644,
    );
    compat(&env, "own-extensions", &[], &[], Flags::default());
}

fn hooks_template(root: &Path) {
    let t = root.join("own-hooks");
    put(
        &t,
        "cookiecutter.json",
        r#"{"name": "hooked", "greeting": "hi"}"#,
        0o644,
    );
    put(
        &t,
        "{{cookiecutter.name}}/file.txt",
        "x {{ cookiecutter.greeting }}\n",
        0o644,
    );
    put(
        &t,
        "hooks/pre_gen_project.py",
        "import os\nwith open('pre.txt', 'w') as f:\n    f.write('pre {{ cookiecutter.name }} ' + str(sorted(os.listdir('.'))) + '\\n')\n",
        0o644,
    );
    put(
        &t,
        "hooks/post_gen_project.sh",
        "#!/bin/sh\necho \"post {{ cookiecutter.greeting }} $(ls | tr '\\n' ' ')\" > post.txt\nchmod 600 post.txt\n",
        0o644,
    );
}

/// `.py` hooks run with the Python that is on PATH inside the hermetic
/// environment; point idp at the real interpreter.
fn python_env(env: &mut TestEnv) {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3");
    env.env("IDP_PYTHON", String::from_utf8_lossy(&out.stdout).trim());
}

#[test]
fn hooks_run_like_cookiecutter_with_trust_and_are_skipped_without() {
    let mut env = TestEnv::new();
    python_env(&mut env);
    hooks_template(&env.cwd);
    // With --trust: cookiecutter's default behaviour.
    let out = compat(
        &env,
        "own-hooks",
        &["greeting=yo"],
        &["--set", "greeting=yo"],
        Flags { hooks: true },
    );
    let post = std::fs::read_to_string(out.join("hooked/post.txt")).unwrap();
    assert_eq!(post, "post yo file.txt pre.txt \n");
    // Without: as `cookiecutter --accept-hooks no`, and a warning says so.
    compat(&env, "own-hooks", &[], &[], Flags::default());
    let out = env.dir("no-trust");
    env.run([
        "scaffold",
        "own-hooks",
        "--no-input",
        "--no-git",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .ok()
    .stderr_has("hooks skipped")
    .stderr_has("--trust")
    .stderr_has("hooks/post_gen_project.sh");
    assert!(!out.join("hooked/pre.txt").exists());
    assert!(!out.join("hooked/post.txt").exists());
}

#[test]
fn failing_hook_exits_1_and_leaves_nothing() {
    let env = TestEnv::new();
    let t = env.cwd.join("own-failing-hook");
    put(&t, "cookiecutter.json", r#"{"name": "doomed"}"#, 0o644);
    put(&t, "{{cookiecutter.name}}/a.txt", "a\n", 0o644);
    put(
        &t,
        "hooks/post_gen_project.sh",
        "#!/bin/sh\nexit 3\n",
        0o644,
    );
    let out = env.dir("out");
    env.run([
        "scaffold",
        "own-failing-hook",
        "--no-input",
        "--trust",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(1)
    .stderr_has("post_gen_project.sh")
    .stderr_has("exit status 3");
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        0,
        "nothing left behind"
    );
}

#[test]
fn replay_file_as_values_matches_cookiecutter_replay() {
    let env = TestEnv::new();
    hooks_template(&env.cwd);
    let replay = env.cwd.join("replay.json");
    std::fs::write(
        &replay,
        r#"{"cookiecutter": {"name": "replayed", "greeting": "{{ kept as is }}"}}"#,
    )
    .unwrap();
    let cc_out = env.dir("cc");
    let idp_out = env.dir("idp");
    let cc = cookiecutter(
        &env,
        &env.cwd,
        &[
            "--replay-file",
            "replay.json",
            "--accept-hooks",
            "no",
            "-o",
            cc_out.to_str().unwrap(),
            "own-hooks",
        ],
    );
    assert!(
        cc.status.success(),
        "{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    env.run([
        "scaffold",
        "own-hooks",
        "--values",
        "replay.json",
        "--no-git",
        "--output-dir",
        idp_out.to_str().unwrap(),
    ])
    .ok();
    assert_same_tree(&cc_out, &idp_out);
    assert_eq!(
        std::fs::read_to_string(idp_out.join("replayed/file.txt")).unwrap(),
        "x {{ kept as is }}\n"
    );
}

#[test]
fn yaml_values_file_is_extra_context() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    std::fs::write(
        env.cwd.join("values.yaml"),
        "project_name: From Values\nuse_docker: false\nlicense: MIT\nport: 1234\n",
    )
    .unwrap();
    compat(
        &env,
        "own-basic",
        &[
            "project_name=From Values",
            "use_docker=no",
            "license=MIT",
            "port=1234",
        ],
        &["--values", "values.yaml"],
        Flags::default(),
    );
}

#[test]
fn bad_choice_and_bad_boolean_exit_2_naming_the_variable() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let out = env.dir("out");
    env.run(["scaffold", "own-basic", "--no-input", "--output-dir", out.to_str().unwrap(), "--set", "license=GPL"])
        .code(2)
        .stderr_has("license")
        .stderr_has("GPL provided for choice variable license, but the choices are ['MIT', 'Apache-2.0', 'BSD-3-Clause']");
    env.run([
        "scaffold",
        "own-basic",
        "--no-input",
        "--output-dir",
        out.to_str().unwrap(),
        "--set",
        "use_docker=maybe",
    ])
    .code(2)
    .stderr_has("use_docker");
    env.run([
        "scaffold",
        "own-basic",
        "--no-input",
        "--set",
        "no-equals-sign",
    ])
    .code(2);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}

#[test]
fn result_has_answers_file_and_first_commit() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let out = env.dir("out");
    env.run([
        "scaffold",
        "own-basic",
        "--output-dir",
        out.to_str().unwrap(),
        "--set",
        "project_name=Audit Log",
        "--set",
        "secret_token=s3cr3t",
    ])
    .ok()
    .stdout_has("Created")
    .stdout_has("audit-log")
    .stdout_has("first commit");
    let project = out.join("audit-log");
    let answers = std::fs::read_to_string(project.join(".idp/answers.yaml")).unwrap();
    let doc: serde_json::Value = idp::yaml::from_str(&answers).unwrap();
    assert_eq!(doc["template"].as_str(), Some("own-basic"));
    assert_eq!(doc["source"]["type"].as_str(), Some("dir"));
    assert_eq!(doc["answers"]["project_name"].as_str(), Some("Audit Log"));
    assert_eq!(doc["answers"]["license"].as_str(), Some("MIT"));
    assert_eq!(doc["answers"]["use_docker"].as_bool(), Some(true));
    assert!(doc["answers"].get("_private").is_none(), "{answers}");
    assert!(doc["answers"].get("__pkg").is_none(), "{answers}");
    let repo = git2::Repository::open(&project).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(head.parent_count(), 0);
    assert!(head.message().unwrap().contains("own-basic"));
    let tree = head.tree().unwrap();
    assert!(tree.get_path(Path::new(".idp/answers.yaml")).is_ok());
    assert!(tree.get_path(Path::new("bin/run.sh")).is_ok());
    assert_eq!(
        tree.get_path(Path::new("bin/run.sh")).unwrap().filemode(),
        0o100755,
        "executable bit committed"
    );
    let statuses = repo.statuses(None).unwrap();
    assert_eq!(statuses.len(), 0, "everything committed");
}

#[test]
fn secrets_never_reach_the_answers_file() {
    let env = TestEnv::new();
    let t = env.cwd.join("own-secret");
    put(
        &t,
        "cookiecutter.json",
        r#"{"name": "svc", "api_token": "none"}"#,
        0o644,
    );
    put(
        &t,
        "{{cookiecutter.name}}/token.txt",
        "{{ cookiecutter.api_token }}\n",
        0o644,
    );
    let out = env.dir("out");
    env.run([
        "scaffold",
        "own-secret",
        "--no-input",
        "--output-dir",
        out.to_str().unwrap(),
        "--set",
        "api_token=tok-123",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(out.join("svc/token.txt")).unwrap(),
        "tok-123\n"
    );
    let answers = std::fs::read_to_string(out.join("svc/.idp/answers.yaml")).unwrap();
    assert!(!answers.contains("tok-123"), "{answers}");
    assert!(answers.contains("name: svc"), "{answers}");
}

#[test]
fn off_a_terminal_it_never_asks_and_takes_defaults() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let out = env.dir("out");
    // No --no-input: stdin is not a terminal in tests, so no prompt may block.
    env.run([
        "scaffold",
        "own-basic",
        "--no-git",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .ok();
    assert!(out.join("ledger-service/README.md").exists());
    let defaults = env.dir("out2");
    env.run([
        "scaffold",
        "own-basic",
        "--defaults",
        "--no-git",
        "--output-dir",
        defaults.to_str().unwrap(),
    ])
    .ok();
    assert_same_tree(&out, &defaults);
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let out = env.dir("out");
    let run = env.run([
        "scaffold",
        "own-basic",
        "--no-input",
        "--dry-run",
        "--output-dir",
        out.to_str().unwrap(),
    ]);
    run.ok()
        .stdout_has("Would create")
        .stdout_has("ledger-service/README.md")
        .stdout_has("ledger-service/bin/run.sh")
        .stdout_has("nothing was written")
        .stdout_lacks("# Ledger Service");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    env.run([
        "scaffold",
        "own-basic",
        "--no-input",
        "--dry-run",
        "--diff",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .ok()
    .stdout_has("+++ b/ledger-service/README.md")
    .stdout_has("+# Ledger Service")
    .stdout_has("Binary file b/ledger-service/logo.png");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    env.run(["scaffold", "own-basic", "--diff"])
        .code(2)
        .stderr_has("--dry-run");
}

// `-o FORMAT` is `scaffold`'s own flag (issue 12); the output directory is
// `-d/--output-dir`.
#[test]
fn json_output_describes_the_result() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let out = env.dir("out");
    let run = env.run([
        "scaffold",
        "own-basic",
        "--no-input",
        "--no-git",
        "--output-dir",
        out.to_str().unwrap(),
        "-o",
        "json",
    ]);
    let v = run.ok().json();
    assert_eq!(v["template"], "own-basic");
    assert!(v["project"].as_str().unwrap().ends_with("/ledger-service"));
    assert!(v["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "README.md"));
    assert_eq!(v["answers"]["port"], "8080");
}

fn catalog_with_templates(env: &TestEnv) -> crate::common::Repo {
    let repo = CatalogBuilder::standard(env.root.join("catalog")).build();
    basic_template(&repo.dir.join("templates"));
    hooks_template(&repo.dir.join("templates"));
    repo.commit("templates");
    repo
}

#[test]
fn list_shows_catalog_templates() {
    let env = TestEnv::new();
    let repo = catalog_with_templates(&env);
    env.run(["--catalog", repo.path(), "scaffold", "list"])
        .ok()
        .stdout_has("own-basic")
        .stdout_has("own-hooks")
        .stdout_has("cookiecutter")
        .stdout_has("templates/own-basic");
    let v = env
        .run(["--catalog", repo.path(), "scaffold", "list", "-o", "json"])
        .ok()
        .json();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"own-basic") && names.contains(&"own-hooks"),
        "{names:?}"
    );
}

#[test]
fn show_lists_variables_with_defaults() {
    let env = TestEnv::new();
    let repo = catalog_with_templates(&env);
    env.run(["--catalog", repo.path(), "scaffold", "show", "own-basic"])
        .ok()
        .stdout_has("project_name")
        .stdout_has("Name of the service?")
        .stdout_has("MIT, Apache-2.0, BSD-3-Clause")
        .stdout_has("computed")
        .stdout_has("templates/own-basic in catalog");
    let v = env
        .run([
            "--catalog",
            repo.path(),
            "scaffold",
            "show",
            "own-hooks",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(v["kind"], "cookiecutter");
    assert_eq!(v["variables"][0]["name"], "name");
    assert_eq!(v["variables"][0]["default"], "hooked");
    assert_eq!(v["hooks"].as_array().unwrap().len(), 2);
}

#[test]
fn catalog_template_by_name_renders_like_cookiecutter() {
    let env = TestEnv::new();
    let repo = catalog_with_templates(&env);
    let idp_out = env.dir("idp");
    env.run([
        "--catalog",
        repo.path(),
        "scaffold",
        "own-basic",
        "--no-input",
        "--no-git",
        "--output-dir",
        idp_out.to_str().unwrap(),
    ])
    .ok();
    let cc_out = env.dir("cc");
    let tpl = repo.dir.join("templates/own-basic");
    let cc = cookiecutter(
        &env,
        &env.cwd,
        &[
            "--no-input",
            "-o",
            cc_out.to_str().unwrap(),
            tpl.to_str().unwrap(),
        ],
    );
    assert!(cc.status.success());
    assert_same_tree(&cc_out, &idp_out);
    let answers =
        std::fs::read_to_string(idp_out.join("ledger-service/.idp/answers.yaml")).unwrap();
    assert!(answers.contains("type: catalog"), "{answers}");
    assert!(answers.contains("path: templates/own-basic"), "{answers}");
    let head = repo
        .git
        .head()
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .id()
        .to_string();
    assert!(
        answers.contains(&head),
        "template commit recorded: {answers}"
    );
}

#[test]
fn unknown_template_exits_3_with_suggestions() {
    let env = TestEnv::new();
    let repo = catalog_with_templates(&env);
    env.run([
        "--catalog",
        repo.path(),
        "scaffold",
        "own-basc",
        "--no-input",
    ])
    .code(3)
    .stderr_has("template 'own-basc' not found")
    .stderr_has("did you mean: own-basic");
    env.run(["scaffold", "./does-not-exist", "--no-input"])
        .code(3);
}

// ------------------------------------------------------------------ prompts

#[test]
fn prompts_on_a_terminal_ask_every_variable_with_its_default() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let out = env.dir("out");
    let t = Tmux::idp(
        &env,
        &[
            "scaffold",
            "own-basic",
            "--no-git",
            "--output-dir",
            out.to_str().unwrap(),
        ],
        &[],
    );
    // __prompts__ text, default shown; typed answer replaces it.
    t.wait_for_text("Name of the service?");
    t.type_text("Audit Log");
    t.keys(&["Enter"]);
    // Defaults rendered from the answers before them.
    t.wait_for_text("audit-log");
    t.keys(&["Enter"]);
    t.wait_for_text("audit_log");
    t.keys(&["Enter"]);
    // A choice: select, labelled by __prompts__, first item preselected.
    t.wait_for_text("MIT License");
    t.keys(&["Down"]);
    t.keys(&["Enter"]);
    // Booleans: confirm.
    t.wait_for_text("use_docker");
    t.type_text("n");
    t.wait_for_text("use_ci");
    t.type_text("y");
    for q in ["port", "ratio", "owner"] {
        t.wait_for_text(q);
        t.keys(&["Enter"]);
    }
    // A dict: JSON with the rendered default.
    t.wait_for_text("meta (JSON)");
    t.keys(&["Enter"]);
    let screen = t.wait_for_text("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    let readme = std::fs::read_to_string(out.join("audit-log/README.md")).unwrap();
    assert!(readme.starts_with("# Audit Log\n"), "{readme}");
    assert!(readme.contains("License: Apache-2.0"), "{readme}");
    assert!(readme.contains("Docker: False CI: True"), "{readme}");
    assert!(readme.contains("'team': 'payments-team'"), "{readme}");
}

#[test]
fn nested_templates_pick_like_cookiecutter() {
    let env = TestEnv::new();
    let t = env.cwd.join("own-nested");
    put(
        &t,
        "cookiecutter.json",
        r#"{"templates": {"alpha": {"path": "./a", "title": "Alpha", "description": "first"}, "beta": {"path": "./b", "title": "Beta"}}}"#,
        0o644,
    );
    put(
        &t,
        "a/cookiecutter.json",
        r#"{"n": "alpha-proj", "x": "1"}"#,
        0o644,
    );
    put(
        &t,
        "a/{{cookiecutter.n}}/f.txt",
        "A {{ cookiecutter.x }} {{ cookiecutter._template }}\n",
        0o644,
    );
    put(&t, "b/cookiecutter.json", r#"{"n": "beta-proj"}"#, 0o644);
    put(&t, "b/{{cookiecutter.n}}/f.txt", "B\n", 0o644);
    let out = compat(
        &env,
        "own-nested",
        &["x=2"],
        &["--set", "x=2"],
        Flags::default(),
    );
    assert!(out.join("alpha-proj/f.txt").exists());
    // idp only: --set template=<key> picks another one.
    let other = env.dir("other");
    env.run([
        "scaffold",
        "own-nested",
        "--no-input",
        "--no-git",
        "--set",
        "template=beta",
        "--output-dir",
        other.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(other.join("beta-proj/f.txt")).unwrap(),
        "B\n"
    );
}

#[test]
fn git_url_template_is_cloned_and_renders_like_cookiecutter() {
    let env = TestEnv::new();
    let src = env.dir("tpl-src");
    basic_template(&src);
    // The template at the root of a repository, and again in a subdirectory.
    let mut builder = CatalogBuilder::new(env.root.join("tpl-repo.git"));
    for (rel, (_, content)) in tree(&src.join("own-basic")) {
        if let Some(bytes) = content {
            builder = builder
                .file(&rel, &bytes)
                .file(&format!("nested/own-basic/{rel}"), &bytes);
        }
    }
    let repo = builder.build();
    let url = format!("file://{}", repo.path());
    let cc_out = env.dir("cc");
    let cc = cookiecutter(
        &env,
        &env.cwd,
        &["--no-input", "-o", cc_out.to_str().unwrap(), &url],
    );
    assert!(
        cc.status.success(),
        "{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let idp_out = env.dir("idp");
    env.run([
        "scaffold",
        &url,
        "--no-input",
        "--no-git",
        "--output-dir",
        idp_out.to_str().unwrap(),
    ])
    .ok();
    // git keeps only the executable bit: compare contents and that bit.
    let strip =
        |t: BTreeMap<String, (u32, Option<Vec<u8>>)>| -> Vec<(String, bool, Option<Vec<u8>>)> {
            t.into_iter()
                .filter(|(k, _)| !k.ends_with('/'))
                .map(|(k, (m, c))| (k, m & 0o100 != 0, c))
                .collect()
        };
    assert_eq!(strip(tree(&cc_out)), strip(tree(&idp_out)));
    let answers =
        std::fs::read_to_string(idp_out.join("ledger-service/.idp/answers.yaml")).unwrap();
    assert!(answers.contains(&url), "{answers}");
    let head = repo
        .git
        .head()
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .id()
        .to_string();
    assert!(answers.contains(&head), "{answers}");
    let sub = env.dir("sub");
    env.run([
        "scaffold",
        &format!("{url}//nested/own-basic"),
        "--no-input",
        "--no-git",
        "--output-dir",
        sub.to_str().unwrap(),
    ])
    .ok();
    assert!(sub.join("ledger-service/README.md").exists());
}

// ------------------------------------------------------------------ documentation pass

#[test]
fn ctrl_c_at_a_prompt_leaves_nothing_in_the_output_directory() {
    let env = TestEnv::new();
    basic_template(&env.cwd);
    let out = env.dir("out");
    let t = Tmux::idp(
        &env,
        &[
            "scaffold",
            "own-basic",
            "--output-dir",
            out.to_str().unwrap(),
        ],
        &[],
    );
    t.wait_for_text("Name of the service?");
    t.type_text("Audit Log");
    t.keys(&["Enter"]);
    t.wait_for_text("audit-log");
    t.keys(&["C-c"]);
    let screen = t.wait_for_text("EXIT=");
    assert!(screen.contains("EXIT=130"), "{screen}");
    let left: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn first_commit_leaves_out_what_the_projects_gitignore_ignores() {
    let env = TestEnv::new();
    let t = env.cwd.join("own-ignore");
    put(&t, "cookiecutter.json", r#"{"name": "svc"}"#, 0o644);
    put(
        &t,
        "{{cookiecutter.name}}/.gitignore",
        "/target\nCHECKLIST.md\nlocal/\n",
        0o644,
    );
    put(
        &t,
        "{{cookiecutter.name}}/README.md",
        "# {{cookiecutter.name}}\n",
        0o644,
    );
    put(
        &t,
        "{{cookiecutter.name}}/CHECKLIST.md",
        "- [ ] set up CI\n",
        0o644,
    );
    put(&t, "{{cookiecutter.name}}/local/notes.txt", "mine\n", 0o644);
    let out = env.dir("out");
    env.run([
        "scaffold",
        "own-ignore",
        "--no-input",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .ok()
    .stdout_has("first commit");
    let project = out.join("svc");
    // The files are generated…
    assert!(project.join("CHECKLIST.md").is_file());
    assert!(project.join("local/notes.txt").is_file());
    // …but committed only as `git add -A` would.
    let repo = git2::Repository::open(&project).unwrap();
    let tree = repo.head().unwrap().peel_to_tree().unwrap();
    let mut committed = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
        if e.kind() == Some(git2::ObjectType::Blob) {
            committed.push(format!("{dir}{}", e.name().unwrap()));
        }
        git2::TreeWalkResult::Ok
    })
    .unwrap();
    committed.sort();
    assert_eq!(committed, [".gitignore", ".idp/answers.yaml", "README.md"]);
    // And the tree is clean: the rest is ignored, not untracked.
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true).include_ignored(false);
    assert_eq!(repo.statuses(Some(&mut opts)).unwrap().len(), 0);
}
