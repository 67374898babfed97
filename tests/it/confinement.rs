//! Every read of catalog or template content stays inside its root (the
//! catalog root, the template directory), symlinks included: a committed
//! `link -> /etc` or `link -> /proc` never brings outside content into the
//! output, the index or a generated project. Reads from git objects (`--ref`)
//! never treat a symlink as a file. Refusals are load problems with the
//! file:line of the reference (exit 1 from validate, warnings elsewhere).

use std::os::unix::fs::symlink;
use std::path::Path;

use crate::common::{component, CatalogBuilder, Repo, TestEnv, ORG};

/// A value only the test process and idp's environment know.
const CANARY: &str = "secret-canary-7f3c9d21";

/// A component whose description is a substitution of `target`.
fn substituted(name: &str, key: &str, target: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  description:\n    {key}: {target}\nspec:\n  type: service\n  lifecycle: production\n  owner: payments\n"
    )
}

/// A catalog repository with these extra files and symlinks, all committed.
fn catalog(env: &TestEnv, files: &[(&str, String)], links: &[(&str, &str)]) -> Repo {
    let mut b = CatalogBuilder::org(env.dir("cat"));
    for (path, content) in files {
        b = b.file(path, content);
    }
    let dir = b.write_only();
    for (path, target) in links {
        let at = dir.join(path);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        symlink(target, at).unwrap();
    }
    let repo = CatalogBuilder::new(&dir).build();
    // The symlinks are committed as symlinks (mode 120000), as an attacker
    // would push them.
    {
        let head = repo.git.head().unwrap().peel_to_tree().unwrap();
        for (path, _) in links {
            let entry = head.get_path(Path::new(path)).unwrap();
            assert_eq!(entry.filemode(), 0o120000, "{path} committed as a symlink");
        }
    }
    repo
}

/// Every regular file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.filter_map(Result::ok) {
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            out.extend(files_containing(&e.path(), needle));
        } else if ft.is_file() {
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                out.push(e.path().display().to_string());
            }
        }
    }
    out
}

fn passwd_line() -> String {
    std::fs::read_to_string("/etc/passwd")
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn text_substitution_through_a_symlink_to_etc_is_refused() {
    let env = TestEnv::new();
    let repo = catalog(
        &env,
        &[("svc.yaml", substituted("leaky", "$text", "./link/passwd"))],
        &[("link", "/etc")],
    );
    let root_line = passwd_line();
    for args in [
        vec!["show", "leaky"],
        vec!["show", "leaky", "-o", "json"],
        vec!["list", "-o", "json"],
    ] {
        let mut full = vec!["--catalog", repo.path()];
        full.extend(args.iter().copied());
        let run = env.run(&full);
        run.ok();
        assert!(!run.stdout.contains(&root_line), "{args:?}: {}", run.stdout);
        assert!(!run.stderr.contains(&root_line), "{args:?}: {}", run.stderr);
    }
    // validate: an error at the descriptor, naming the rule and the link.
    let run = env.run(["--catalog", repo.path(), "validate"]);
    run.code(1)
        .stdout_has("svc.yaml:5:3")
        .stdout_has("resolves outside the catalog root")
        .stdout_has("via symlink link -> /etc");
    assert!(!run.stdout.contains(&root_line) && !run.stderr.contains(&root_line));
}

#[test]
fn proc_environ_secrets_never_reach_output_or_the_index() {
    let mut env = TestEnv::new();
    env.env("GITHUB_TOKEN", CANARY);
    let repo = catalog(
        &env,
        &[
            (
                "text.yaml",
                substituted("by-text", "$text", "./link/self/environ"),
            ),
            (
                "json.yaml",
                substituted("by-json", "$json", "./link/self/environ"),
            ),
            (
                "yaml.yaml",
                substituted("by-yaml", "$yaml", "./link/self/environ"),
            ),
            ("direct.yaml", substituted("by-file", "$text", "./environ")),
        ],
        &[("link", "/proc"), ("environ", "/proc/self/environ")],
    );
    let runs = [
        vec!["show", "by-text"],
        vec!["show", "by-text", "-o", "json"],
        vec!["show", "by-file", "-o", "json"],
        vec!["list", "-o", "json"],
        vec!["list"],
        vec!["validate"],
        vec!["validate", "-o", "json"],
    ];
    for args in runs {
        let mut full = vec!["--catalog", repo.path()];
        full.extend(args.iter().copied());
        let run = env.run(&full);
        assert!(
            !run.stdout.contains(CANARY) && !run.stderr.contains(CANARY),
            "{args:?} leaked the environment:\n{}\n{}",
            run.stdout,
            run.stderr
        );
        if args[0] == "validate" {
            run.code(1);
        } else {
            run.ok();
        }
    }
    // The refusal is a problem at each descriptor, by name.
    env.run(["--catalog", repo.path(), "validate"])
        .code(1)
        .stdout_has("text.yaml:5:3")
        .stdout_has("json.yaml:5:3")
        .stdout_has("via symlink link -> /proc")
        .stdout_has("via symlink environ -> /proc/self/environ");
    // The index (and anything else idp wrote) holds no trace of it.
    let cached = files_containing(&env.cache, CANARY);
    assert!(cached.is_empty(), "canary in {cached:?}");
    assert!(
        std::fs::read_dir(env.cache.join("idp")).is_ok_and(|mut d| d.next().is_some()),
        "an index was written (so the check above means something)"
    );
    // Warm runs from the index say it too.
    env.run(["--catalog", repo.path(), "list", "-o", "json"])
        .ok()
        .stdout_lacks(CANARY);
}

#[test]
fn location_target_through_a_symlink_is_refused() {
    let env = TestEnv::new();
    let outside = env.dir("outside");
    std::fs::write(
        outside.join("secret.yaml"),
        component("outside-secret", "payments", "production"),
    )
    .unwrap();
    let location = "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: more\nspec:\n  targets:\n    - ./ext/secret.yaml\n    - ./direct.yaml\n";
    let repo = catalog(
        &env,
        &[("locations.yaml", location.to_string())],
        &[
            ("ext", outside.to_str().unwrap()),
            ("direct.yaml", "/etc/passwd"),
        ],
    );
    let run = env.run(["--catalog", repo.path(), "list", "-o", "json"]);
    run.ok().stdout_lacks("outside-secret");
    assert!(!run.stdout.contains(&passwd_line()));
    let run = env.run(["--catalog", repo.path(), "validate"]);
    run.code(1)
        .stdout_has("locations.yaml:")
        .stdout_has("Location target ./ext/secret.yaml is not read")
        .stdout_has("via symlink ext ->")
        .stdout_has("Location target ./direct.yaml is not read")
        .stdout_lacks("outside-secret");
    assert!(!run.stdout.contains(&passwd_line()));
}

#[test]
fn a_symlinked_idp_yaml_is_refused_without_echoing_it() {
    let env = TestEnv::new();
    let dir = CatalogBuilder::new(env.dir("cat"))
        .file("org.yaml", ORG)
        .write_only();
    symlink("/etc/passwd", dir.join("idp.yaml")).unwrap();
    let repo = CatalogBuilder::new(&dir).build();
    let line = passwd_line();
    for args in [vec!["list"], vec!["validate"], vec!["show", "payments"]] {
        let mut full = vec!["--catalog", repo.path()];
        full.extend(args.iter().copied());
        let run = env.run(&full);
        run.code(4)
            .stderr_has("idp.yaml")
            .stderr_has("resolves outside the catalog root");
        assert!(!run.stderr.contains(&line), "{}", run.stderr);
        assert!(!run.stdout.contains(&line), "{}", run.stdout);
    }
}

#[test]
fn a_symlinked_codeowners_is_not_read() {
    let env = TestEnv::new();
    let catalog = CatalogBuilder::standard(env.dir("cat")).build();
    let outside = env.dir("elsewhere");
    std::fs::write(outside.join("CODEOWNERS"), "* @acme/payments\n").unwrap();
    let service = CatalogBuilder::new(env.dir("src/unknown"))
        .file("main.go", "package main\n")
        .write_only();
    std::fs::create_dir_all(service.join(".github")).unwrap();
    symlink(
        outside.join("CODEOWNERS"),
        service.join(".github/CODEOWNERS"),
    )
    .unwrap();
    let service = CatalogBuilder::new(&service).build();
    let run = env.run_in(
        &service.dir,
        ["--catalog", catalog.path(), "who-owns", ".", "-o", "json"],
    );
    run.code(3)
        .stderr_has("CODEOWNERS is not read")
        .stderr_has("resolves outside the repository")
        .stdout_lacks("payments");

    // The same file inside the repository, reached through an in-repo
    // symlink, is read.
    let inside = CatalogBuilder::new(env.dir("src/fine"))
        .file("owners/CODEOWNERS", "* @acme/payments\n")
        .write_only();
    std::fs::create_dir_all(inside.join(".github")).unwrap();
    symlink("../owners/CODEOWNERS", inside.join(".github/CODEOWNERS")).unwrap();
    let inside = CatalogBuilder::new(&inside).build();
    let run = env.run_in(
        &inside.dir,
        ["--catalog", catalog.path(), "who-owns", ".", "-o", "json"],
    );
    run.ok();
    assert_eq!(run.json()["owner"]["ref"], "group:default/payments");
}

#[test]
fn scorecard_file_functions_do_not_follow_symlinks_out() {
    let mut env = TestEnv::new();
    env.env("IDP_NOW", "2026-11-29T00:00:00Z");
    let outside = env.dir("outside");
    std::fs::write(outside.join("README.md"), "## Runbook\n").unwrap();
    let card = "apiVersion: idp.dev/v1alpha1\nkind: Scorecard\nmetadata:\n  name: ready\nspec:\n  appliesTo:\n    kinds: [Component]\n  levels:\n    - { id: bronze }\n  rules:\n    - id: readme\n      level: bronze\n      check: 'file_exists(\"README.md\") && file_contains(\"README.md\", \"Runbook\")'\n";
    let probe = "apiVersion: idp.dev/v1alpha1\nkind: Scorecard\nmetadata:\n  name: probe\nspec:\n  appliesTo:\n    kinds: [Component]\n  levels:\n    - { id: bronze }\n  rules:\n    - id: etc\n      level: bronze\n      check: 'file_exists(\"etc/passwd\") || file_contains(\"etc/passwd\", \"root\") || file_exists(\"etc\")'\n";
    let repo = catalog(
        &env,
        &[
            (
                "svc/out/catalog-info.yaml",
                component("out", "payments", "production"),
            ),
            (
                "svc/in/catalog-info.yaml",
                component("in", "payments", "production"),
            ),
            ("shared/README.md", "## Runbook\n".to_string()),
            ("scorecards/ready.yaml", card.to_string()),
            ("scorecards/probe.yaml", probe.to_string()),
        ],
        &[
            (
                "svc/out/README.md",
                outside.join("README.md").to_str().unwrap(),
            ),
            ("svc/out/etc", "/etc"),
            ("svc/in/README.md", "../../shared/README.md"),
        ],
    );
    let run = env.run([
        "--catalog",
        repo.path(),
        "score",
        "out",
        "in",
        "--scorecard",
        "ready",
        "-o",
        "json",
    ]);
    let v = run.json();
    let level = |name: &str| {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["entity"] == format!("component:default/{name}"))
            .map(|r| r["level"].clone())
            .unwrap()
    };
    // A symlink out of the catalog is neither there nor readable ...
    assert_eq!(level("out"), serde_json::Value::Null, "{v}");
    // ... one that stays inside works.
    assert_eq!(level("in"), "bronze", "{v}");
    let run = env.run([
        "--catalog",
        repo.path(),
        "score",
        "out",
        "--scorecard",
        "probe",
        "-o",
        "json",
    ]);
    assert_eq!(run.json()["results"][0]["level"], serde_json::Value::Null);
}

#[test]
fn a_custom_kind_schema_through_a_symlink_is_refused() {
    let env = TestEnv::new();
    let outside = env.dir("outside");
    // Were it read, every Pipeline would violate it.
    std::fs::write(
        outside.join("pipeline.json"),
        r#"{"title": "OUTSIDE", "not": {}}"#,
    )
    .unwrap();
    let pipeline = "apiVersion: acme.io/v1\nkind: Pipeline\nmetadata:\n  name: build\nspec: {}\n";
    let dir = CatalogBuilder::new(env.dir("cat"))
        .file(
            "idp.yaml",
            "customKinds:\n  - kind: Pipeline\n    schema: schemas/pipeline.json\n",
        )
        .file("org.yaml", ORG)
        .file("pipeline.yaml", pipeline)
        .write_only();
    symlink(&outside, dir.join("schemas")).unwrap();
    let repo = CatalogBuilder::new(&dir).build();
    env.run(["--catalog", repo.path(), "validate"])
        .code(1)
        .stdout_has("pipeline.yaml:")
        .stdout_has("schema schemas/pipeline.json for kind Pipeline not found")
        .stdout_lacks("schema-violation");

    // Moved inside the catalog, the same schema applies.
    std::fs::remove_file(dir.join("schemas")).unwrap();
    std::fs::create_dir_all(dir.join("schemas")).unwrap();
    std::fs::copy(
        outside.join("pipeline.json"),
        dir.join("schemas/pipeline.json"),
    )
    .unwrap();
    env.run(["--catalog", repo.path(), "validate"])
        .code(1)
        .stdout_has("schema-violation");
}

#[test]
fn symlinks_that_stay_inside_the_catalog_still_work() {
    let env = TestEnv::new();
    let loc = "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: more\nspec:\n  target: ./alias/extra.yaml\n";
    let repo = catalog(
        &env,
        &[
            ("svc.yaml", substituted("linked", "$text", "./docs/link.md")),
            ("README.md", "hello from inside\n".to_string()),
            ("loc.yaml", loc.to_string()),
            (
                "real/extra.txt",
                component("extra", "payments", "production"),
            ),
        ],
        &[
            ("docs/link.md", "../README.md"),
            ("alias", "real"),
            ("real/extra.yaml", "extra.txt"),
        ],
    );
    let run = env.run(["--catalog", repo.path(), "show", "linked", "-o", "json"]);
    run.ok();
    assert_eq!(
        run.json()["metadata"]["description"],
        "hello from inside\n",
        "{}",
        run.stdout
    );
    env.run(["--catalog", repo.path(), "show", "extra"]).ok();
    env.run(["--catalog", repo.path(), "validate"]).ok();
}

#[test]
fn ref_mode_never_reads_symlink_blobs() {
    let env = TestEnv::new();
    let repo = catalog(
        &env,
        &[
            ("a.yaml", substituted("via-file", "$text", "./passwd-link")),
            ("b.yaml", substituted("via-dir", "$text", "./etc/passwd")),
            (
                "c.yaml",
                substituted("via-inside", "$text", "./inside-link"),
            ),
            ("target.txt", "inside\n".to_string()),
        ],
        &[
            ("passwd-link", "/etc/passwd"),
            ("etc", "/etc"),
            ("inside-link", "target.txt"),
            ("linked.yaml", "/etc/passwd"),
        ],
    );
    let line = passwd_line();
    for name in ["via-file", "via-dir", "via-inside"] {
        let run = env.run([
            "--catalog",
            repo.path(),
            "--ref",
            "HEAD",
            "show",
            name,
            "-o",
            "json",
        ]);
        run.ok();
        let desc = &run.json()["metadata"]["description"];
        // Neither the target's content nor the link's own text.
        assert!(!desc.is_string(), "{name}: {desc}");
        assert!(!run.stdout.contains(&line), "{}", run.stdout);
    }
    env.run(["--catalog", repo.path(), "--ref", "HEAD", "validate"])
        .code(1)
        .stdout_has("a.yaml:5:3")
        .stdout_has("substitution target ./passwd-link not found")
        .stdout_has("substitution target ./etc/passwd not found");
}

#[test]
fn a_gitignore_above_the_catalog_repository_does_not_hide_it() {
    let env = TestEnv::new();
    let outer = env.dir("outer");
    std::fs::write(outer.join(".gitignore"), "*\n").unwrap();
    let repo = CatalogBuilder::standard(outer.join("cat"))
        .file(".gitignore", "ignored.yaml\n")
        .file(
            "ignored.yaml",
            component("ignored", "payments", "production"),
        )
        .build();
    let run = env.run(["--catalog", repo.path(), "list", "-o", "json"]);
    run.ok();
    let refs = run.refs();
    assert!(
        refs.contains(&"component:default/ledger".to_string()),
        "{refs:?}"
    );
    // The catalog's own .gitignore still counts.
    assert!(
        !refs.contains(&"component:default/ignored".to_string()),
        "{refs:?}"
    );

    // A catalog in a subdirectory of its repository honours the repository's
    // .gitignore, but nothing above the repository.
    let top = env.dir("outer/mono");
    let mono = CatalogBuilder::standard(top.join("catalog")).write_only();
    std::fs::write(top.join(".gitignore"), "catalog/org.yaml\n").unwrap();
    CatalogBuilder::new(&top).build();
    let run = env.run(["--catalog", mono.to_str().unwrap(), "list", "-o", "json"]);
    run.ok();
    let refs = run.refs();
    assert!(
        refs.contains(&"component:default/ledger".to_string()),
        "{refs:?}"
    );
    assert!(
        !refs.contains(&"group:default/payments".to_string()),
        "{refs:?}"
    );

    // Not in a repository at all: only the catalog's own ignore files count.
    let plain = CatalogBuilder::standard(outer.join("plain")).write_only();
    let run = env.run(["--catalog", plain.to_str().unwrap(), "list", "-o", "json"]);
    run.ok();
    assert!(run.refs().contains(&"component:default/ledger".to_string()));
}

// ---------------------------------------------------------------- scaffold

/// A local Backstage template whose only step is `action` with `url`.
fn backstage_template(env: &TestEnv, action: &str, url: &str) -> std::path::PathBuf {
    let dir = env.dir("tpl");
    let target = if action.ends_with(":file") {
        "        targetPath: out.txt\n"
    } else {
        "        targetPath: ./\n"
    };
    let yaml = format!(
        "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: evil\nspec:\n  owner: group:default/payments\n  type: service\n  parameters:\n    - properties:\n        name:\n          type: string\n          default: demo\n  steps:\n    - id: grab\n      name: Grab\n      action: {action}\n      input:\n        url: {url}\n{target}"
    );
    std::fs::write(dir.join("template.yaml"), yaml).unwrap();
    std::fs::create_dir_all(dir.join("skeleton")).unwrap();
    std::fs::write(dir.join("skeleton/ok.txt"), "fine\n").unwrap();
    dir
}

fn scaffold_run(env: &TestEnv, template: &Path, out: &Path) -> crate::common::Run {
    env.run([
        "scaffold",
        template.join("template.yaml").to_str().unwrap(),
        "--no-input",
        "--output-dir",
        out.to_str().unwrap(),
    ])
}

#[test]
fn fetch_steps_refuse_absolute_parent_and_symlinked_sources() {
    let env = TestEnv::new();
    let secret_dir = env.dir("secrets");
    std::fs::write(secret_dir.join("key.txt"), CANARY).unwrap();
    let cases: &[(&str, &str, &str)] = &[
        ("fetch:plain", "/etc", "is an absolute path"),
        ("fetch:plain:file", "/etc/passwd", "is an absolute path"),
        (
            "fetch:template",
            "../secrets",
            "goes up with '..' out of the template directory",
        ),
        (
            "fetch:template:file",
            "../secrets/key.txt",
            "goes up with '..'",
        ),
        (
            "fetch:plain",
            "./linked",
            "resolves outside the template directory",
        ),
        ("fetch:template", "./linked", "via symlink linked ->"),
        (
            "fetch:plain:file",
            "./linked/key.txt",
            "via symlink linked ->",
        ),
        // A symlink inside an otherwise fine skeleton.
        (
            "fetch:plain",
            "./skeleton",
            "via symlink skeleton/leak.txt ->",
        ),
        (
            "fetch:template",
            "./skeleton",
            "via symlink skeleton/leak.txt ->",
        ),
    ];
    for (action, url, rule) in cases {
        let tpl = backstage_template(&env, action, url);
        let _ = std::fs::remove_file(tpl.join("linked"));
        let _ = std::fs::remove_file(tpl.join("skeleton/leak.txt"));
        symlink(&secret_dir, tpl.join("linked")).unwrap();
        if *url == "./skeleton" {
            symlink(secret_dir.join("key.txt"), tpl.join("skeleton/leak.txt")).unwrap();
        }
        let out = env.root.join("out");
        let _ = std::fs::remove_dir_all(&out);
        let run = scaffold_run(&env, &tpl, &out);
        run.code(2)
            .stderr_has(&format!("step 'grab' ({action}) input url"))
            .stderr_has(rule);
        assert!(!run.stdout.contains(CANARY) && !run.stderr.contains(CANARY));
        let leaked = files_containing(&env.root, CANARY);
        assert_eq!(
            leaked,
            vec![secret_dir.join("key.txt").display().to_string()],
            "{action} {url}"
        );
        assert!(files_containing(&out, "root:").is_empty(), "{action} {url}");
    }
    // The same steps with a source inside the template work.
    let tpl = backstage_template(&env, "fetch:plain", "./skeleton");
    let _ = std::fs::remove_file(tpl.join("skeleton/leak.txt"));
    symlink("ok.txt", tpl.join("skeleton/alias.txt")).unwrap();
    let out = env.root.join("out-ok");
    let run = scaffold_run(&env, &tpl, &out);
    run.ok();
    assert!(!files_containing(&out, "fine").is_empty(), "{}", run.stderr);
}

#[test]
fn fetch_urls_stay_refused_even_with_trust() {
    let env = TestEnv::new();
    let tpl = backstage_template(&env, "fetch:plain", "https://example.invalid/x");
    let out = env.root.join("out");
    env.run([
        "scaffold",
        tpl.join("template.yaml").to_str().unwrap(),
        "--no-input",
        "--trust",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("idp reads templates locally");
}

fn cookiecutter(env: &TestEnv, name: &str) -> std::path::PathBuf {
    let t = env.cwd.join(name);
    crate::scaffold_cookiecutter::put(
        &t,
        "cookiecutter.json",
        r#"{"name": "proj", "_copy_without_render": ["raw"]}"#,
        0o644,
    );
    crate::scaffold_cookiecutter::put(
        &t,
        "{{cookiecutter.name}}/a.txt",
        "{{ cookiecutter.name }}\n",
        0o644,
    );
    t
}

#[test]
fn cookiecutter_symlinks_out_of_the_template_are_refused() {
    let env = TestEnv::new();
    let line = passwd_line();
    // A file, a verbatim-copied directory's file, and the project directory
    // itself, each a symlink out.
    type Setup<'a> = (&'a str, &'a dyn Fn(&Path));
    let setups: &[Setup] = &[
        ("file", &|t: &Path| {
            symlink("/etc/passwd", t.join("{{cookiecutter.name}}/passwd")).unwrap()
        }),
        ("raw", &|t: &Path| {
            std::fs::create_dir_all(t.join("{{cookiecutter.name}}/raw")).unwrap();
            symlink("/etc/passwd", t.join("{{cookiecutter.name}}/raw/passwd")).unwrap()
        }),
        ("rawdir", &|t: &Path| {
            symlink("/etc", t.join("{{cookiecutter.name}}/raw")).unwrap()
        }),
        ("project", &|t: &Path| {
            std::fs::remove_dir_all(t.join("{{cookiecutter.name}}")).unwrap();
            symlink("/etc", t.join("{{cookiecutter.name}}")).unwrap()
        }),
        ("context", &|t: &Path| {
            std::fs::remove_file(t.join("cookiecutter.json")).unwrap();
            symlink("/etc/passwd", t.join("cookiecutter.json")).unwrap()
        }),
    ];
    for (name, setup) in setups {
        let t = cookiecutter(&env, &format!("evil-{name}"));
        setup(&t);
        let out = env.dir(&format!("out-{name}"));
        let run = env.run([
            "scaffold",
            &format!("./evil-{name}"),
            "--no-input",
            "--output-dir",
            out.to_str().unwrap(),
        ]);
        assert_ne!(run.code, 0, "{name}: {}", run.stdout);
        assert!(
            run.stderr.contains("resolves outside the template directory")
                // cookiecutter.json out of the template: not a template.
                || (*name == "context" && run.stderr.contains("no cookiecutter.json")),
            "{name}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains(&line) && !run.stdout.contains(&line));
        assert!(
            files_containing(&out, "root:").is_empty(),
            "{name}: /etc/passwd copied"
        );
    }

    // In-template symlinks are followed, as cookiecutter follows them.
    let t = cookiecutter(&env, "fine");
    std::fs::write(t.join("shared.txt"), "shared\n").unwrap();
    symlink("../shared.txt", t.join("{{cookiecutter.name}}/b.txt")).unwrap();
    let out = env.dir("out-fine");
    env.run([
        "scaffold",
        "fine",
        "--no-input",
        "--no-git",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(out.join("proj/b.txt")).unwrap(),
        "shared\n"
    );
}
