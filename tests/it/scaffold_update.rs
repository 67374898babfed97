//! `idp scaffold check`, `update` and `test`: a template in a git
//! repository moves on, a generated project follows by three-way merge.

use std::path::{Path, PathBuf};

use crate::common::{CatalogBuilder, Repo, TestEnv};

const COOKIECUTTER_JSON: &str = r#"{
  "name": "svc",
  "owner": "payments",
  "greeting": "Hello"
}
"#;

const README_V1: &str = "# {{ cookiecutter.name }}\n\nOwned by {{ cookiecutter.owner }}.\n\nline 1\nline 2\nline 3\nline 4\nline 5\nline 6\n";
const APP_V1: &str = "def main():\n    print(\"{{ cookiecutter.greeting }}\")\n\n\n\n\ndef helper():\n    return 1\n";

/// A cookiecutter template in its own git repository (`tpl/`).
fn template_repo(env: &TestEnv) -> Repo {
    CatalogBuilder::new(env.root.join("tpl"))
        .file("cookiecutter.json", COOKIECUTTER_JSON)
        .file("{{cookiecutter.name}}/README.md", README_V1)
        .file("{{cookiecutter.name}}/app.py", APP_V1)
        .file("{{cookiecutter.name}}/OLD.md", "to be removed\n")
        .build()
}

/// The second template version: README line 3 changed (the project
/// changes it too: conflict), `app.py` changed at the bottom (the project
/// changes the top: clean merge), `OLD.md` removed, `NEW.md` added.
fn move_template_on(tpl: &Repo) -> git2::Oid {
    tpl.write(
        "{{cookiecutter.name}}/README.md",
        README_V1.replace("line 3", "line 3 (template v2)"),
    );
    tpl.write(
        "{{cookiecutter.name}}/app.py",
        APP_V1.replace("return 1", "return 2"),
    );
    tpl.remove("{{cookiecutter.name}}/OLD.md");
    tpl.write(
        "{{cookiecutter.name}}/NEW.md",
        "new in v2 for {{ cookiecutter.name }}\n",
    );
    tpl.commit("template v2")
}

/// Scaffolds the template into `out/` and returns the project directory.
fn scaffold(env: &TestEnv, tpl: &Repo, out: &str, name: &str) -> PathBuf {
    let out = env.root.join(out);
    env.run([
        "scaffold",
        tpl.path(),
        "--no-input",
        "--output-dir",
        out.to_str().unwrap(),
        "--set",
        &format!("name={name}"),
    ])
    .ok();
    let project = out.join(name);
    assert!(
        project.join(".idp/answers.yaml").is_file(),
        "no answers file in {}",
        project.display()
    );
    project
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn git_ok(env: &TestEnv, dir: &Path, args: &[&str]) {
    let out = env.git(dir).args(args).output().expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Edits the project the way a team would, and commits.
fn edit_project(env: &TestEnv, project: &Path) {
    let readme = project.join("README.md");
    std::fs::write(&readme, read(&readme).replace("line 3", "line 3 (ours)")).unwrap();
    let app = project.join("app.py");
    std::fs::write(
        &app,
        read(&app).replace("def main():", "def main() -> None:"),
    )
    .unwrap();
    git_ok(env, project, &["add", "-A"]);
    git_ok(env, project, &["commit", "-q", "-m", "our changes"]);
}

fn recorded_commit(project: &Path) -> String {
    let text = read(&project.join(".idp/answers.yaml"));
    let line = text
        .lines()
        .find(|l| l.starts_with("commit:"))
        .unwrap_or_else(|| panic!("no commit in answers:\n{text}"));
    line["commit:".len()..]
        .trim()
        .trim_matches('\'')
        .trim_matches('"')
        .to_string()
}

#[test]
fn check_then_update_merges_and_marks_conflicts() {
    let env = TestEnv::new();
    let tpl = template_repo(&env);
    let v1 = tpl.git.head().unwrap().peel_to_commit().unwrap().id();
    let project = scaffold(&env, &tpl, "out", "billing");
    assert_eq!(recorded_commit(&project), v1.to_string());
    let p = project.to_str().unwrap();

    // up to date right after scaffolding
    env.run(["scaffold", "check", p])
        .ok()
        .stdout_has("up to date");

    edit_project(&env, &project);
    let v2 = move_template_on(&tpl);

    let check = env.run(["scaffold", "check", p]);
    check.code(5);
    check
        .stdout_has(&v1.to_string()[..12])
        .stdout_has(&v2.to_string()[..12]);
    let json = env.run(["scaffold", "check", p, "-o", "json"]);
    json.code(5);
    assert_eq!(json.json()["update_available"], true);

    // a dry run says what would change and writes nothing
    let dry = env.run(["scaffold", "update", p, "--dry-run"]);
    dry.ok()
        .stdout_has("NEW.md")
        .stdout_has("OLD.md")
        .stdout_has("README.md");
    assert!(!project.join("NEW.md").exists(), "dry run wrote NEW.md");
    assert_eq!(recorded_commit(&project), v1.to_string());

    // a dirty tree is refused
    std::fs::write(project.join("scratch.txt"), "wip\n").unwrap();
    env.run(["scaffold", "update", p])
        .code(2)
        .stderr_has("uncommitted changes")
        .stderr_has("scratch.txt")
        .stderr_has("--force");
    assert!(!project.join("NEW.md").exists());
    std::fs::remove_file(project.join("scratch.txt")).unwrap();

    // the update: conflicts remain, so it exits 1
    let update = env.run(["scaffold", "update", p]);
    update
        .code(1)
        .stdout_has("conflict")
        .stdout_has("README.md");
    let app = read(&project.join("app.py"));
    assert!(
        app.contains("def main() -> None:"),
        "our change kept:\n{app}"
    );
    assert!(app.contains("return 2"), "template change merged:\n{app}");
    assert_eq!(read(&project.join("NEW.md")), "new in v2 for billing\n");
    assert!(!project.join("OLD.md").exists(), "removed file deleted");
    let readme = read(&project.join("README.md"));
    assert!(
        readme.contains("<<<<<<< project\nline 3 (ours)\n"),
        "{readme}"
    );
    assert!(
        readme.contains("=======\nline 3 (template v2)\n>>>>>>> template"),
        "{readme}"
    );
    assert_eq!(recorded_commit(&project), v2.to_string());

    // after resolving and committing, the project is up to date
    std::fs::write(
        project.join("README.md"),
        README_V1
            .replace("{{ cookiecutter.name }}", "billing")
            .replace("{{ cookiecutter.owner }}", "payments")
            .replace("line 3", "line 3 (resolved)"),
    )
    .unwrap();
    git_ok(&env, &project, &["add", "-A"]);
    git_ok(&env, &project, &["commit", "-q", "-m", "update template"]);
    env.run(["scaffold", "check", p]).ok();
    env.run(["scaffold", "update", p])
        .ok()
        .stdout_has("up to date");
}

#[test]
fn update_with_rej_files_and_force() {
    let env = TestEnv::new();
    let tpl = template_repo(&env);
    let project = scaffold(&env, &tpl, "out", "orders");
    edit_project(&env, &project);
    move_template_on(&tpl);
    // uncommitted work: refused without --force, done with it
    std::fs::write(project.join("notes.txt"), "mine\n").unwrap();
    let p = project.to_str().unwrap();
    env.run(["scaffold", "update", p, "--conflict", "rej"])
        .code(2);
    env.run(["scaffold", "update", p, "--conflict", "rej", "--force"])
        .code(1)
        .stdout_has("README.md");
    let readme = read(&project.join("README.md"));
    assert!(
        !readme.contains("<<<<<<<"),
        "no markers in rej mode:\n{readme}"
    );
    assert!(readme.contains("line 3 (ours)"), "{readme}");
    let rej = read(&project.join("README.md.rej"));
    assert!(
        rej.contains("-line 3 (ours)\n+line 3 (template v2)\n"),
        "{rej}"
    );
    assert_eq!(read(&project.join("notes.txt")), "mine\n", "untouched");
    assert!(read(&project.join("app.py")).contains("return 2"));
}

#[test]
fn update_without_conflicts_exits_zero() {
    let env = TestEnv::new();
    let tpl = template_repo(&env);
    let project = scaffold(&env, &tpl, "out", "ledger2");
    // no local edits: everything the template changed is taken
    move_template_on(&tpl);
    let p = project.to_str().unwrap();
    let run = env.run(["scaffold", "update", p]);
    run.ok()
        .stdout_has("updated")
        .stdout_has("added")
        .stdout_has("deleted");
    assert!(read(&project.join("README.md")).contains("line 3 (template v2)"));
    env.run(["scaffold", "check", p]).ok();
}

#[test]
fn semver_tags_are_versions() {
    let env = TestEnv::new();
    let tpl = template_repo(&env);
    tpl.tag("v1.0.0");
    let project = scaffold(&env, &tpl, "out", "tagged");
    let p = project.to_str().unwrap();
    // an untagged commit is not a release: still up to date
    move_template_on(&tpl);
    env.run(["scaffold", "check", p]).ok();
    tpl.tag("v1.1.0");
    env.run(["scaffold", "check", p])
        .code(5)
        .stdout_has("v1.0.0")
        .stdout_has("v1.1.0");
}

#[test]
fn check_without_answers_file_exits_4_naming_it() {
    let env = TestEnv::new();
    let dir = env.dir("plain");
    let p = dir.to_str().unwrap();
    env.run(["scaffold", "check", p])
        .code(4)
        .stderr_has(".idp/answers.yaml");
    std::fs::create_dir_all(dir.join(".idp")).unwrap();
    std::fs::write(dir.join(".idp/answers.yaml"), "template: [unclosed\n").unwrap();
    env.run(["scaffold", "check", p])
        .code(4)
        .stderr_has("answers.yaml");
    env.run(["scaffold", "update", p])
        .code(4)
        .stderr_has("answers.yaml");
}

const DESCRIPTOR: &str = "apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {{ cookiecutter.name }}
spec:
  type: service
  lifecycle: experimental
  owner: {{ cookiecutter.owner }}
";

#[test]
fn scaffold_test_validates_each_values_file() {
    let env = TestEnv::new();
    let catalog = CatalogBuilder::standard(env.root.join("catalog")).build();
    let tpl = CatalogBuilder::new(env.root.join("tpl"))
        .file("cookiecutter.json", COOKIECUTTER_JSON)
        .file("{{cookiecutter.name}}/catalog-info.yaml", DESCRIPTOR)
        .build();
    let values = env.dir("values");
    let good = values.join("good.yaml");
    std::fs::write(&good, "name: invoices\nowner: payments\n").unwrap();
    let no_owner = values.join("no-owner.yaml");
    std::fs::write(&no_owner, "name: refunds\nowner: nobody-here\n").unwrap();
    let taken = values.join("taken.json");
    std::fs::write(&taken, r#"{"name": "ledger", "owner": "payments"}"#).unwrap();
    let bad_name = values.join("bad-name.yaml");
    std::fs::write(&bad_name, "name: Not A Name!\nowner: payments\n").unwrap();

    let ok = env.run([
        "--catalog",
        catalog.path(),
        "scaffold",
        "test",
        tpl.path(),
        "--values",
        good.to_str().unwrap(),
    ]);
    ok.ok().stdout_has("pass").stdout_has("good.yaml");

    let all = env.run([
        "--catalog",
        catalog.path(),
        "scaffold",
        "test",
        tpl.path(),
        "--values",
        good.to_str().unwrap(),
        "--values",
        no_owner.to_str().unwrap(),
        "--values",
        taken.to_str().unwrap(),
        "--values",
        bad_name.to_str().unwrap(),
    ]);
    all.code(1);
    let lines: Vec<&str> = all.stdout.lines().collect();
    let line_of = |file: &str| {
        *lines
            .iter()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("no line for {file}:\n{}", all.stdout))
    };
    assert!(line_of("good.yaml").starts_with("pass"), "{}", all.stdout);
    assert!(
        line_of("no-owner.yaml").starts_with("fail"),
        "{}",
        all.stdout
    );
    assert!(all.stdout.contains("nobody-here"), "{}", all.stdout);
    assert!(line_of("taken.json").starts_with("fail"), "{}", all.stdout);
    assert!(all.stdout.contains("ledger"), "{}", all.stdout);
    assert!(
        line_of("bad-name.yaml").starts_with("fail"),
        "{}",
        all.stdout
    );

    let junit = env.run([
        "--catalog",
        catalog.path(),
        "scaffold",
        "test",
        tpl.path(),
        "-o",
        "junit",
        "--values",
        good.to_str().unwrap(),
        "--values",
        no_owner.to_str().unwrap(),
    ]);
    junit
        .code(1)
        .stdout_has("<testsuite")
        .stdout_has("<failure");
    let json = env.run([
        "--catalog",
        catalog.path(),
        "scaffold",
        "test",
        tpl.path(),
        "-o",
        "json",
        "--values",
        good.to_str().unwrap(),
    ]);
    json.ok();
    assert_eq!(json.json()["results"][0]["passed"], true);
}

const WEB_TEMPLATE: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: web
  title: Web service
spec:
  owner: group:default/payments
  type: service
  parameters:
    - title: Basics
      required: [name, owner]
      properties:
        name:
          type: string
        owner:
          type: string
  steps:
    - id: fetch
      name: Fetch skeleton
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{ parameters.name }}
          owner: ${{ parameters.owner }}
"#;

const WEB_DESCRIPTOR: &str = "apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${{ values.name }}
spec:
  type: service
  lifecycle: experimental
  owner: ${{ values.owner }}
";

const WEB_README: &str =
    "# ${{ values.name }}\n\nintro\n\n## Run\n\nnpm start\n\n## Deploy\n\nmanual\n";

/// A catalog whose `templates/web/` holds a Backstage template.
fn backstage_catalog(env: &TestEnv) -> Repo {
    crate::common::CatalogBuilder::standard(env.root.join("catalog"))
        .file("idp.yaml", "exclude: [\"templates/*/skeleton/**\"]\n")
        .file("templates/web/template.yaml", WEB_TEMPLATE)
        .file("templates/web/skeleton/catalog-info.yaml", WEB_DESCRIPTOR)
        .file("templates/web/skeleton/README.md", WEB_README)
        .build()
}

#[test]
fn backstage_template_in_the_catalog_updates_too() {
    let env = TestEnv::new();
    let cat = backstage_catalog(&env);
    let project = env.root.join("shop");
    env.run([
        "--catalog",
        cat.path(),
        "scaffold",
        "web",
        "--no-input",
        "--output-dir",
        project.to_str().unwrap(),
        "--set",
        "name=shop",
        "--set",
        "owner=payments",
    ])
    .ok();
    let answers = read(&project.join(".idp/answers.yaml"));
    assert!(answers.contains("templates/web/template.yaml"), "{answers}");
    let p = project.to_str().unwrap();
    env.run(["scaffold", "check", p]).ok();

    // a catalog commit that does not touch the template is no new version
    cat.commit_file(
        "components.yaml",
        format!(
            "{}---\n{}",
            crate::common::COMPONENTS,
            crate::common::component("extra", "payments", "production")
        ),
    );
    env.run(["scaffold", "check", p])
        .ok()
        .stdout_has("up to date");

    // the team edits the Run section; the template changes the Deploy section
    let readme = project.join("README.md");
    std::fs::write(&readme, read(&readme).replace("npm start", "npm run dev")).unwrap();
    git_ok(&env, &project, &["add", "-A"]);
    git_ok(&env, &project, &["commit", "-q", "-m", "ours"]);
    cat.write(
        "templates/web/skeleton/README.md",
        WEB_README.replace("manual", "idp deploy ${{ values.name }}"),
    );
    cat.write("templates/web/skeleton/.nvmrc", "22\n");
    cat.commit("web template v2");

    env.run(["scaffold", "check", p]).code(5);
    env.run(["--catalog", cat.path(), "scaffold", "update", p])
        .ok()
        .stdout_has("merged")
        .stdout_has("README.md")
        .stdout_has(".nvmrc");
    let merged = read(&readme);
    assert!(merged.contains("npm run dev"), "{merged}");
    assert!(merged.contains("idp deploy shop"), "{merged}");
    assert_eq!(read(&project.join(".nvmrc")), "22\n");
    env.run(["scaffold", "check", p]).ok();
}

#[test]
fn scaffold_test_on_a_backstage_template() {
    let env = TestEnv::new();
    let cat = backstage_catalog(&env);
    let values = env.dir("values");
    std::fs::write(values.join("ok.yaml"), "name: shop\nowner: payments\n").unwrap();
    std::fs::write(
        values.join("taken.yaml"),
        "name: storefront\nowner: checkout\n",
    )
    .unwrap();
    let run = env.run([
        "--catalog",
        cat.path(),
        "scaffold",
        "test",
        "web",
        "--values",
        values.join("ok.yaml").to_str().unwrap(),
        "--values",
        values.join("taken.yaml").to_str().unwrap(),
    ]);
    run.code(1)
        .stdout_has("component:default/shop")
        .stdout_has("storefront")
        .stdout_has("1 of 2 values files passed");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("pass") && l.contains("ok.yaml")),
        "{}",
        run.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("fail") && l.contains("taken.yaml")),
        "{}",
        run.stdout
    );
}

// ------------------------------------------------------------------ documentation pass

#[test]
fn relative_catalog_is_recorded_absolute_and_an_explicit_catalog_wins() {
    let env = TestEnv::new();
    let cat = backstage_catalog(&env);
    // Created from the catalog's parent with a relative --catalog.
    env.run_in(
        &env.root,
        [
            "--catalog",
            "catalog",
            "scaffold",
            "web",
            "--no-input",
            "--set",
            "name=shop",
            "--set",
            "owner=payments",
        ],
    )
    .ok();
    let project = env.root.join("shop");
    let answers = read(&project.join(".idp/answers.yaml"));
    assert!(
        answers.contains(&format!("catalog: {}\n", cat.path())),
        "{answers}"
    );
    // So `check` works from inside the project.
    env.run_in(&project, ["scaffold", "check"])
        .ok()
        .stdout_has("up to date");

    // The catalog moves: the recorded location fails, saying how to fix it…
    let moved = env.root.join("catalog-moved");
    std::fs::rename(&cat.dir, &moved).unwrap();
    env.run_in(&project, ["scaffold", "check"])
        .code(4)
        .stderr_has(&format!("recorded as {}", cat.path()))
        .stderr_has("pass --catalog");
    // …and an explicit --catalog overrides it, for check and update.
    std::fs::write(
        moved.join("templates/web/skeleton/README.md"),
        WEB_README.replace("manual", "idp deploy"),
    )
    .unwrap();
    git_ok(&env, &moved, &["commit", "-q", "-am", "web template v2"]);
    env.run_in(
        &project,
        ["--catalog", "../catalog-moved", "scaffold", "check"],
    )
    .code(5);
    env.run_in(
        &project,
        ["--catalog", "../catalog-moved", "scaffold", "update"],
    )
    .ok()
    .stdout_has("README.md");
    assert!(read(&project.join("README.md")).contains("idp deploy"));
}

#[test]
fn scaffold_test_with_a_missing_values_file_is_invalid_input() {
    let env = TestEnv::new();
    let catalog = CatalogBuilder::standard(env.root.join("catalog")).build();
    let tpl = CatalogBuilder::new(env.root.join("tpl"))
        .file("cookiecutter.json", COOKIECUTTER_JSON)
        .file("{{cookiecutter.name}}/catalog-info.yaml", DESCRIPTOR)
        .build();
    let good = env.dir("values").join("good.yaml");
    std::fs::write(&good, "name: invoices\nowner: payments\n").unwrap();
    let run = env.run([
        "--catalog",
        catalog.path(),
        "scaffold",
        "test",
        tpl.path(),
        "--values",
        good.to_str().unwrap(),
        "--values",
        "no-such-values.yaml",
    ]);
    run.code(2)
        .stderr_has("cannot read values file no-such-values.yaml: No such file or directory");
    assert_eq!(run.stdout, "", "no test ran");
}

#[test]
fn check_of_a_directory_without_answers_says_why_once() {
    let env = TestEnv::new();
    let dir = env.dir("plain");
    for cmd in ["check", "update"] {
        let run = env.run(["scaffold", cmd, dir.to_str().unwrap()]);
        run.code(4).stderr_has(&format!(
            "cannot read the answers file {}/.idp/answers.yaml: No such file or directory",
            dir.display()
        ));
        assert_eq!(
            run.stderr.matches("No such file").count(),
            1,
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("caused by"), "{}", run.stderr);
    }
}
