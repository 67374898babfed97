//! Test environment and fixtures shared by every end-to-end test.
//!
//! [`TestEnv`] runs the built `idp` with a cleared environment: a temporary
//! HOME and XDG directories, `NO_COLOR=1`, `COLUMNS=100`, no system git
//! config. [`CatalogBuilder`] writes descriptor files into a temporary
//! directory and commits them through git2 with a fixed author and clock, so
//! fixtures are real repositories without checked-in `.git` folders.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The example catalog shipped in the repository.
pub fn acme() -> String {
    format!("{}/examples/acme", env!("CARGO_MANIFEST_DIR"))
}

/// A temporary HOME with XDG directories, and a way to run `idp` in it.
pub struct TestEnv {
    tmp: tempfile::TempDir,
    /// Root of the temp dir (canonical, so it matches what idp prints).
    pub root: PathBuf,
    pub home: PathBuf,
    pub cache: PathBuf,
    pub config: PathBuf,
    /// Working directory of the next runs (default: `root/work`).
    pub cwd: PathBuf,
    env: Vec<(String, String)>,
}

impl TestEnv {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().canonicalize().expect("canonical tempdir");
        let home = root.join("home");
        let cache = home.join(".cache");
        let config = home.join(".config");
        let cwd = root.join("work");
        for d in [&home, &cache, &config, &cwd] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        TestEnv {
            tmp,
            root,
            home,
            cache,
            config,
            cwd,
            env: Vec::new(),
        }
    }

    /// A test environment whose clock is pinned: `IDP_NOW` is `now` for
    /// every run.
    pub fn at(now: &str) -> Self {
        let mut env = TestEnv::new();
        env.env("IDP_NOW", now);
        env
    }

    /// Adds an environment variable to every later run.
    pub fn env(&mut self, key: &str, value: impl AsRef<OsStr>) -> &mut Self {
        self.env.push((
            key.to_string(),
            value.as_ref().to_string_lossy().into_owned(),
        ));
        self
    }

    /// A directory under the temp root (created).
    pub fn dir(&self, name: &str) -> PathBuf {
        let d = self.root.join(name);
        std::fs::create_dir_all(&d).expect("mkdir");
        d
    }

    /// Writes `$XDG_CONFIG_HOME/idp/config.yaml`.
    pub fn user_config(&self, text: &str) {
        let dir = self.config.join("idp");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("config.yaml"), text).expect("write config");
    }

    /// The `idp` command with the hermetic environment.
    pub fn command(&self) -> assert_cmd::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("idp"));
        self.hermetic(&mut cmd);
        let mut cmd = assert_cmd::Command::from_std(cmd);
        cmd.timeout(std::time::Duration::from_secs(30));
        cmd
    }

    /// The variables every hermetic process starts from (after
    /// `env_clear`): PATH, the temporary HOME and XDG directories, no colour
    /// and no system git config. Shared by idp runs, the `git` CLI and tmux.
    pub fn hermetic_vars(&self) -> Vec<(&'static str, String)> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        vec![
            ("PATH", path.to_string_lossy().into_owned()),
            ("HOME", self.home.display().to_string()),
            ("XDG_CACHE_HOME", self.cache.display().to_string()),
            ("XDG_CONFIG_HOME", self.config.display().to_string()),
            ("NO_COLOR", "1".into()),
            ("GIT_CONFIG_NOSYSTEM", "1".into()),
        ]
    }

    /// Gives `cmd` the hermetic environment: a cleared environment with
    /// [`TestEnv::hermetic_vars`], 100 columns, the working directory and
    /// every `env` added.
    pub fn hermetic(&self, cmd: &mut std::process::Command) {
        cmd.env_clear()
            .envs(self.hermetic_vars())
            .env("COLUMNS", "100")
            .current_dir(&self.cwd);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
    }

    /// Runs `idp ARGS` and captures everything.
    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run_in(&self.cwd, args)
    }

    /// Runs `idp ARGS` in `dir`.
    pub fn run_in<I, S>(&self, dir: &Path, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command();
        cmd.current_dir(dir).args(args);
        let out = cmd.output().expect("run idp");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            !run.stderr.contains("panicked"),
            "idp panicked:\n{}",
            run.stderr
        );
        run
    }

    /// Replaces temp paths with `[TMP]` (for snapshots).
    pub fn normalize(&self, text: &str) -> String {
        let mut s = text.replace(&*self.root.to_string_lossy(), "[TMP]");
        let raw = self.tmp.path().to_string_lossy().into_owned();
        if raw != self.root.to_string_lossy() {
            s = s.replace(&raw, "[TMP]");
        }
        s.replace(env!("CARGO_MANIFEST_DIR"), "[REPO]")
    }

    /// Runs `idp ARGS | CONSUMER` in bash with `pipefail`; returns idp's exit
    /// status (the pipeline's, the consumer being `head`), stdout of the
    /// consumer and idp's stderr.
    pub fn pipe_into(&self, args: &[&str], consumer: &str) -> (i32, String, String) {
        let bin = assert_cmd::cargo::cargo_bin("idp");
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        let script = format!(
            "set -o pipefail; '{}' {} | {consumer}",
            bin.display(),
            quoted.join(" ")
        );
        let mut bash = std::process::Command::new("bash");
        bash.args(["-c", &script]);
        self.hermetic(&mut bash);
        let out = bash.output().expect("bash");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// A `git` CLI command with the same hermetic environment.
    pub fn git(&self, dir: &Path) -> std::process::Command {
        let mut cmd = std::process::Command::new("git");
        cmd.env_clear()
            .envs(self.hermetic_vars())
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .current_dir(dir);
        cmd
    }
}

/// The outcome of one `idp` run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing both streams on failure.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code, expected,
            "exit code\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts success.
    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.code(0)
    }

    /// Asserts stdout contains `needle`.
    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}\n--- stderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts stderr contains `needle`.
    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}\n--- stdout:\n{}",
            self.stderr,
            self.stdout
        );
        self
    }

    /// Asserts stdout does not contain `needle`.
    #[track_caller]
    pub fn stdout_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle),
            "stdout has {needle:?}:\n{}",
            self.stdout
        );
        self
    }

    /// Asserts stderr is empty.
    #[track_caller]
    pub fn quiet_stderr(&self) -> &Self {
        assert!(self.stderr.is_empty(), "stderr not empty:\n{}", self.stderr);
        self
    }

    /// Stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n--- stderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The single error of a `validate -o json` report on stdout, after
    /// checking the exit code (1).
    #[track_caller]
    pub fn only_error(&self) -> Value {
        self.code(1);
        let report = self.json();
        let errors = report["errors"].as_array().expect("errors").clone();
        assert_eq!(errors.len(), 1, "{report:#}");
        errors[0].clone()
    }

    /// The `ref` of every item of a JSON array on stdout.
    #[track_caller]
    pub fn refs(&self) -> Vec<String> {
        self.json()
            .as_array()
            .expect("JSON array")
            .iter()
            .map(|e| e["ref"].as_str().expect("ref").to_string())
            .collect()
    }
}

/// Files for a catalog repository, committed through git2.
pub struct CatalogBuilder {
    dir: PathBuf,
    files: Vec<(String, Vec<u8>)>,
}

impl CatalogBuilder {
    /// A catalog in `dir` (created).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        CatalogBuilder {
            dir: dir.into(),
            files: Vec::new(),
        }
    }

    /// Adds a file (path relative to the repository root).
    pub fn file(mut self, path: &str, content: impl AsRef<[u8]>) -> Self {
        self.files
            .push((path.to_string(), content.as_ref().to_vec()));
        self
    }

    /// The standard organisation ([`ORG`]) and an `idp.yaml` with no
    /// excludes; no components.
    pub fn org(dir: impl Into<PathBuf>) -> Self {
        CatalogBuilder::new(dir)
            .file("idp.yaml", "exclude: []\n")
            .file("org.yaml", ORG)
    }

    /// The small standard catalog most tests start from (see [`ORG`]).
    pub fn standard(dir: impl Into<PathBuf>) -> Self {
        CatalogBuilder::org(dir).file("components.yaml", COMPONENTS)
    }

    /// Adds `idp.yaml` with these `integrations` (YAML, indented two
    /// spaces, see [`integration`]) and a live-data `deadline`, so a test
    /// that waits too long fails instead of hanging.
    pub fn live_config(self, integrations: &str, deadline: &str) -> Self {
        self.file(
            "idp.yaml",
            format!("exclude: []\nintegrations:\n{integrations}live:\n  deadline: {deadline}\n"),
        )
    }

    /// The standard org and one valid component, `good` (owned by
    /// payments), for tests that add a broken or hostile file next to it.
    pub fn good(dir: impl Into<PathBuf>) -> Self {
        CatalogBuilder::org(dir).file("good.yaml", component("good", "payments", "production"))
    }

    /// Writes the files without a git repository.
    pub fn write_only(self) -> PathBuf {
        self.write_files();
        self.dir
    }

    /// Writes the files, initialises a repository (branch `main`) and commits.
    pub fn build(self) -> Repo {
        let repo = self.init();
        repo.commit("initial catalog");
        repo
    }

    /// Like [`CatalogBuilder::build`], but the first commit has this message,
    /// author name (email `<name>@example.com`) and time (seconds since the
    /// epoch, UTC; author and committer date alike).
    pub fn build_as(self, message: &str, author: &str, time: i64) -> Repo {
        let repo = self.init();
        repo.commit_as(message, author, time);
        repo
    }

    /// Writes the files and initialises a repository (branch `main`) with
    /// no commit yet.
    fn init(&self) -> Repo {
        self.write_files();
        let dir = self.dir.canonicalize().expect("canonical");
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head("main");
        let git = git2::Repository::init_opts(&dir, &opts).expect("git init");
        Repo {
            dir,
            git,
            tick: std::cell::Cell::new(0),
        }
    }

    fn write_files(&self) {
        std::fs::create_dir_all(&self.dir).expect("mkdir");
        for (path, content) in &self.files {
            write(&self.dir, path, content);
        }
    }
}

fn write(dir: &Path, path: &str, content: &[u8]) {
    let full = dir.join(path);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(full, content).expect("write file");
}

/// A git repository made by [`CatalogBuilder`].
pub struct Repo {
    /// The working tree.
    pub dir: PathBuf,
    /// The repository.
    pub git: git2::Repository,
    tick: std::cell::Cell<i64>,
}

impl Repo {
    /// The working tree as a string (for `--catalog`).
    pub fn path(&self) -> &str {
        self.dir.to_str().expect("utf-8 path")
    }

    /// Writes a file into the working tree (not committed).
    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) -> &Self {
        write(&self.dir, path, content.as_ref());
        self
    }

    /// Deletes a file from the working tree (not committed).
    pub fn remove(&self, path: &str) -> &Self {
        std::fs::remove_file(self.dir.join(path)).expect("remove file");
        self
    }

    /// Stages everything (additions, edits, deletions) and commits it with a
    /// fixed author and a clock that advances one minute per commit.
    pub fn commit(&self, message: &str) -> git2::Oid {
        let t = self.tick.get();
        self.tick.set(t + 1);
        let time = git2::Time::new(1_700_000_000 + 60 * t, 0);
        let sig = git2::Signature::new("Test", "test@example.com", &time).expect("sig");
        self.commit_signed(message, &sig)
    }

    /// Stages everything and commits it with `sig` as author and committer.
    fn commit_signed(&self, message: &str, sig: &git2::Signature) -> git2::Oid {
        let mut index = self.git.index().expect("index");
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .expect("add all");
        index.update_all(["*"], None).expect("update all");
        index.write().expect("write index");
        let tree_id = index.write_tree().expect("write tree");
        let tree = self.git.find_tree(tree_id).expect("tree");
        let parent = self.git.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        self.git
            .commit(Some("HEAD"), sig, sig, message, &tree, &parents)
            .expect("commit")
    }

    /// Stages everything and commits it with this author name (email
    /// `<name>@example.com`) and time (seconds since the epoch, UTC), used as
    /// both author and committer date.
    pub fn commit_as(&self, message: &str, author: &str, time: i64) -> git2::Oid {
        let email = format!("{}@example.com", author.to_lowercase().replace(' ', "."));
        let sig = git2::Signature::new(author, &email, &git2::Time::new(time, 0)).expect("sig");
        self.commit_signed(message, &sig)
    }

    /// Renames a file in the working tree (not committed); committing then
    /// records what `git mv` would.
    pub fn rename(&self, from: &str, to: &str) -> &Self {
        let dest = self.dir.join(to);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::rename(self.dir.join(from), dest).expect("rename file");
        self
    }

    /// Writes a file and commits it.
    pub fn commit_file(&self, path: &str, content: impl AsRef<[u8]>) -> git2::Oid {
        self.write(path, content);
        self.commit(&format!("update {path}"))
    }

    /// Creates a branch at HEAD.
    pub fn branch(&self, name: &str) {
        let head = self.git.head().unwrap().peel_to_commit().unwrap();
        self.git.branch(name, &head, false).expect("branch");
    }

    /// Creates a lightweight tag at HEAD.
    pub fn tag(&self, name: &str) {
        let head = self
            .git
            .head()
            .unwrap()
            .peel(git2::ObjectType::Commit)
            .unwrap();
        self.git.tag_lightweight(name, &head, false).expect("tag");
    }

    /// Sets (creating if needed) a remote's URL, without any network.
    pub fn set_remote(&self, name: &str, url: &str) {
        if self.git.find_remote(name).is_ok() {
            self.git.remote_set_url(name, url).expect("set url");
        } else {
            self.git.remote(name, url).expect("add remote");
        }
    }

    /// A bare clone at `dest`, made from a `file://` URL.
    pub fn bare_clone(&self, dest: &Path) -> PathBuf {
        let url = format!("file://{}", self.dir.display());
        git2::build::RepoBuilder::new()
            .bare(true)
            .clone(&url, dest)
            .expect("bare clone");
        dest.canonicalize().expect("canonical")
    }

    /// Brings the branches of this repository into the bare clone at `bare`
    /// (as a push would).
    pub fn push_to(&self, bare: &Path) {
        let b = git2::Repository::open_bare(bare).expect("open bare");
        let mut remote = b
            .remote_anonymous(self.dir.to_str().unwrap())
            .expect("remote");
        remote
            .fetch(&["+refs/heads/*:refs/heads/*"], None, None)
            .expect("fetch into bare");
    }
}

/// Organisation of the standard catalog: a department with two teams,
/// members, and a GitHub team slug on each group.
pub const ORG: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: engineering
  annotations:
    github.com/team-slug: acme/engineering
spec:
  type: department
  profile:
    displayName: Engineering
    email: eng@acme.test
  children: [payments, checkout]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: payments
  annotations:
    github.com/team-slug: acme/payments
spec:
  type: team
  profile:
    displayName: Payments
    email: payments@acme.test
  parent: engineering
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: checkout
spec:
  type: team
  profile:
    displayName: Checkout Team
    email: checkout@acme.test
  parent: engineering
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: alice
spec:
  profile:
    displayName: Alice
    email: alice@acme.test
  memberOf: [payments]
";

/// Components of the standard catalog.
pub const COMPONENTS: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
  annotations:
    github.com/project-slug: acme/ledger
  tags: [java]
spec:
  type: service
  lifecycle: production
  owner: payments
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: storefront
  tags: [web]
spec:
  type: website
  lifecycle: experimental
  owner: checkout
";

/// A minimal Component descriptor.
pub fn component(name: &str, owner: &str, lifecycle: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: {lifecycle}\n  owner: {owner}\n"
    )
}

/// A Component document (starting with `---`, so several concatenate) owned
/// by `owner`, with these annotations (values YAML-quoted).
pub fn component_with(name: &str, owner: &str, annotations: &[(&str, &str)]) -> String {
    let mut s = format!(
        "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n"
    );
    if !annotations.is_empty() {
        s.push_str("  annotations:\n");
        for (k, v) in annotations {
            s.push_str(&format!("    {k}: {}\n", serde_json::to_string(v).unwrap()));
        }
    }
    s.push_str(&format!(
        "spec:\n  type: service\n  lifecycle: production\n  owner: {owner}\n"
    ));
    s
}

/// A Group of type team with no children and nothing else.
pub fn team(name: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: {name}\nspec:\n  type: team\n  children: []\n"
    )
}

/// One entry of `integrations:` in `idp.yaml`: `name` pointed at `base_url`.
pub fn integration(name: &str, base_url: &str) -> String {
    format!("  {name}:\n    base_url: {base_url}\n")
}

/// A catalog (in `cat/`) with the standard org, a valid component `good`,
/// and `name` holding `content`.
pub fn catalog_with(env: &TestEnv, name: &str, content: impl AsRef<[u8]>) -> Repo {
    CatalogBuilder::good(env.dir("cat"))
        .file(name, content)
        .build()
}

/// `idp -v --catalog <repo> [GLOBAL…] report --output-dir <site>`.
pub fn report_verbose(env: &TestEnv, repo: &Repo, global: &[&str], site: &Path) -> Run {
    let mut args = vec!["-v", "--catalog", repo.path()];
    args.extend_from_slice(global);
    args.extend([
        "report",
        "--output-dir",
        site.to_str().expect("a UTF-8 path"),
    ]);
    env.run(args)
}
