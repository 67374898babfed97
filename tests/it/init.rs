//! `idp init`: a catalog that works at once, a first commit, and the rules
//! that protect existing files.

use crate::common::TestEnv;

fn commit_count(dir: &std::path::Path) -> usize {
    let repo = git2::Repository::open(dir).expect("a git repository");
    let mut walk = repo.revwalk().unwrap();
    walk.push_head().unwrap();
    walk.count()
}

#[test]
fn creates_a_catalog_that_works_at_once() {
    let env = TestEnv::new();
    let run = env.run(["init", "my-catalog"]);
    run.ok().quiet_stderr();
    let repo = git2::Repository::open(env.cwd.join("my-catalog")).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let short = head.id().to_string()[..7].to_string();
    assert_eq!(
        head.message(),
        Some("Start the software catalog (idp init)")
    );
    insta::assert_snapshot!(run.stdout.replace(&short, "[COMMIT]"), @r"
    Created a catalog in my-catalog: idp.yaml and 5 example entities (new git repository, first commit [COMMIT]).

    Try next:
      idp --catalog my-catalog list
      idp --catalog my-catalog who-owns hello-service
      idp --catalog my-catalog validate
    ");
    // The three commands it suggests all work.
    env.run(["--catalog", "my-catalog", "validate"])
        .ok()
        .stdout_has("0 errors, 0 warnings")
        .stdout_has("5 entities");
    env.run(["--catalog", "my-catalog", "who-owns", "hello-service"])
        .ok()
        .stdout_has("My Team")
        .stdout_has("Jane Doe");
    let refs = env
        .run(["--catalog", "my-catalog", "list", "-o", "json"])
        .refs();
    assert_eq!(
        refs,
        [
            "api:default/hello-api",
            "component:default/hello-service",
            "group:default/my-team",
            "system:default/example",
            "user:default/jane.doe"
        ]
    );
    // Found without --catalog from inside it (the idp.yaml marks the root).
    env.run_in(&env.cwd.join("my-catalog"), ["who-owns", "hello-api"])
        .ok()
        .stdout_has("My Team");
    let idp_yaml = std::fs::read_to_string(env.cwd.join("my-catalog/idp.yaml")).unwrap();
    assert!(idp_yaml.lines().filter(|l| l.starts_with('#')).count() > 5);
}

#[test]
fn initialises_the_current_directory_by_default() {
    let env = TestEnv::new();
    env.run(["init"])
        .ok()
        .stdout_has("Created a catalog in .: idp.yaml and 5 example entities");
    assert!(env.cwd.join("idp.yaml").is_file());
    assert_eq!(commit_count(&env.cwd), 1);
}

#[test]
fn refuses_a_non_empty_directory() {
    let env = TestEnv::new();
    let dir = env.dir("work/full");
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let run = env.run(["init", "full"]);
    run.code(2)
        .stderr_has("error: full is not empty")
        .stderr_has("hint: pick a new directory, or add --force");
    assert_eq!(run.stdout, "");
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "nothing written");
}

#[test]
fn force_adds_files_but_never_overwrites_one() {
    let env = TestEnv::new();
    let dir = env.dir("work/repo");
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    env.run(["init", "--force", "repo"])
        .ok()
        .stdout_has("and 5 example entities");
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine"
    );

    // Again: every starter file exists now, so nothing is touched.
    std::fs::write(dir.join("idp.yaml"), "# my settings\n").unwrap();
    let run = env.run(["init", "--force", "repo"]);
    run.code(2)
        .stderr_has("idp.yaml already exists")
        .stderr_has("hint: idp init never overwrites a file")
        .stderr_has("nothing was written");
    assert_eq!(
        std::fs::read_to_string(dir.join("idp.yaml")).unwrap(),
        "# my settings\n"
    );
    assert_eq!(commit_count(&dir), 1);
}

#[test]
fn force_in_an_existing_repository_adds_a_commit() {
    let env = TestEnv::new();
    let dir = env.dir("work/existing");
    let status = env
        .git(&dir)
        .args(["init", "-q", "-b", "main"])
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::write(dir.join("README"), "hello\n").unwrap();
    let ok = env
        .git(&dir)
        .args(["add", "README"])
        .status()
        .unwrap()
        .success()
        && env
            .git(&dir)
            .args(["commit", "-q", "-m", "first"])
            .status()
            .unwrap()
            .success();
    assert!(ok);
    env.run(["init", "--force", "existing"])
        .ok()
        .stdout_has("(committed ");
    assert_eq!(commit_count(&dir), 2);
    let repo = git2::Repository::open(&dir).unwrap();
    assert!(
        repo.statuses(None).unwrap().is_empty(),
        "everything committed"
    );
}

#[test]
fn a_file_in_the_way_is_refused() {
    let env = TestEnv::new();
    std::fs::write(env.cwd.join("taken"), "x").unwrap();
    env.run(["init", "taken"])
        .code(2)
        .stderr_has("taken exists and is not a directory");
}
