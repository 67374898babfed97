//! Shell completion: the committed scripts are what `idp completions`
//! prints; the completion protocol answers from the catalog and stays
//! silent when there is none; and the scripts work in real bash, zsh and fish
//! running in tmux.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::{acme, CatalogBuilder, Run, TestEnv};

const SHELLS: &[&str] = &["bash", "zsh", "fish", "powershell", "elvish"];

/// Asks for completions the way the fish script does (one candidate per
/// line, a tab before the description). `words` start after `idp`.
fn complete(env: &TestEnv, words: &[&str]) -> Run {
    let mut args = vec!["--", "idp"];
    args.extend_from_slice(words);
    let mut cmd = env.command();
    cmd.env("IDP_COMPLETE", "fish").args(&args);
    let out = cmd.output().expect("run idp");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The values of a fish-style answer, without the flags clap_complete
/// adds when the word is empty.
fn values(run: &Run) -> Vec<&str> {
    run.stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default())
        .filter(|v| !v.starts_with("--"))
        .collect()
}

fn with_catalog() -> (TestEnv, PathBuf) {
    let mut env = TestEnv::new();
    let repo = CatalogBuilder::standard(env.dir("catalog")).build();
    env.env("IDP_CATALOG", repo.path());
    (env, repo.dir.clone())
}

#[test]
fn committed_scripts_are_fresh() {
    let env = TestEnv::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for shell in SHELLS {
        let run = env.run(["completions", shell]);
        run.ok().quiet_stderr();
        let file = dir.join(format!("idp.{shell}"));
        let committed = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            committed == run.stdout,
            "{} is stale; regenerate with: cargo run -- completions {shell} > completions/idp.{shell}",
            file.display()
        );
    }
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let env = TestEnv::new();
    env.run(["completions", "tcsh"])
        .code(2)
        .stderr_has("invalid value 'tcsh'")
        .stderr_has("possible values: bash, elvish, fish, powershell, zsh");
}

#[test]
fn entity_names_complete_with_titles() {
    let (env, _) = with_catalog();
    let run = complete(&env, &["who-owns", "pay"]);
    run.ok().quiet_stderr();
    assert_eq!(run.stdout, "payments\tPayments (Group)\n");
    let run = complete(&env, &["show", ""]);
    assert_eq!(
        values(&run),
        [
            "alice",
            "checkout",
            "engineering",
            "ledger",
            "payments",
            "storefront"
        ]
    );
    let run = complete(&env, &["show", "group:"]);
    assert_eq!(
        values(&run),
        ["group:checkout", "group:engineering", "group:payments"]
    );
}

#[test]
fn values_are_filtered_by_argument() {
    let (env, _) = with_catalog();
    let owners = complete(&env, &["list", "--owner", ""]);
    assert_eq!(
        values(&owners),
        ["alice", "checkout", "engineering", "payments"]
    );
    let lifecycles = complete(&env, &["list", "--lifecycle", ""]);
    assert_eq!(
        lifecycles.stdout,
        "experimental\t1 entity\nproduction\t1 entity\n"
    );
    assert_eq!(values(&complete(&env, &["list", "--tag", "w"])), ["web"]);
    assert_eq!(
        values(&complete(&env, &["list", "--type", ""])),
        ["department", "service", "team", "website"]
    );
    let kinds = complete(&env, &["list", "--kind", "gr"]);
    assert_eq!(kinds.stdout, "group\t3 entities\n");
    assert_eq!(
        values(&complete(&env, &["list", "--sort", "-li"])),
        ["-lifecycle"]
    );
    // Commands and flags still complete as usual.
    assert_eq!(values(&complete(&env, &["li"])), ["list"]);
    complete(&env, &["list", "--own"]).stdout_has("--owner\t");
}

#[test]
fn catalog_flag_on_the_line_wins() {
    let env = TestEnv::new();
    let other = CatalogBuilder::new(env.dir("other"))
        .file(
            "c.yaml",
            crate::common::component("zeta", "team", "production"),
        )
        .build();
    let run = complete(&env, &["--catalog", other.path(), "show", "z"]);
    run.ok().quiet_stderr();
    assert_eq!(values(&run), ["zeta"]);
    let run = complete(&env, &[&format!("--catalog={}", other.path()), "show", ""]);
    assert_eq!(values(&run), ["zeta"]);
}

#[test]
fn no_catalog_configured_is_silent() {
    let env = TestEnv::new();
    let run = complete(&env, &["who-owns", "le"]);
    run.ok().quiet_stderr();
    assert_eq!(run.stdout, "");
    // Static completion still works.
    let run = complete(&env, &["sh"]);
    run.ok().quiet_stderr();
    assert_eq!(values(&run), ["show"]);
    let run = complete(&env, &["list", "--kind", "comp"]);
    assert_eq!(values(&run), ["component"]);
}

#[test]
fn unreadable_or_corrupt_catalog_is_silent() {
    let mut env = TestEnv::new();
    let broken = CatalogBuilder::new(env.dir("broken"))
        .file("idp.yaml", "include: [unclosed\n  - : :\n")
        .file(
            "c.yaml",
            crate::common::component("ledger", "team", "production"),
        )
        .build();
    env.env("IDP_CATALOG", broken.path());
    let run = complete(&env, &["who-owns", "le"]);
    run.ok().quiet_stderr();
    assert_eq!(run.stdout, "");

    let missing = env.root.join("does-not-exist");
    let run = complete(&env, &["--catalog", missing.to_str().unwrap(), "show", "l"]);
    run.ok().quiet_stderr();
    assert_eq!(run.stdout, "");

    let run = complete(&env, &["--ref", "no-such-ref", "show", "l"]);
    run.ok().quiet_stderr();
    assert_eq!(run.stdout, "");

    // A corrupt index is rebuilt or bypassed, never reported.
    let (env, _) = with_catalog();
    complete(&env, &["show", ""]).ok();
    for entry in walk(&env.cache) {
        if entry.is_file() {
            std::fs::write(&entry, b"\0garbage").unwrap();
        }
    }
    let run = complete(&env, &["show", "led"]);
    run.ok().quiet_stderr();
    assert_eq!(values(&run), ["ledger"]);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn a_prefix_matching_nothing_gives_nothing() {
    let (env, _) = with_catalog();
    for words in [
        &["who-owns", "zzz"][..],
        &["show", "nokind:x"],
        &["list", "--owner", "zzz"],
        &["list", "--tag", "zzz"],
    ] {
        let run = complete(&env, words);
        run.ok().quiet_stderr();
        assert_eq!(run.stdout, "", "{words:?}");
    }
}

#[test]
fn names_with_dots_underscores_and_uppercase() {
    let mut env = TestEnv::new();
    let repo = CatalogBuilder::new(env.dir("catalog"))
        .file(
            "c.yaml",
            format!(
                "{}---\n{}---\n{}",
                crate::common::component("My_Service.v2", "team", "production"),
                crate::common::component("my.lib", "team", "production"),
                crate::common::component("other_thing", "team", "production"),
            ),
        )
        .build();
    env.env("IDP_CATALOG", repo.path());
    assert_eq!(
        values(&complete(&env, &["show", "my"])),
        ["My_Service.v2", "my.lib"]
    );
    assert_eq!(values(&complete(&env, &["show", "MY."])), ["my.lib"]);
    assert_eq!(
        values(&complete(&env, &["show", "my_service.v"])),
        ["My_Service.v2"]
    );
    assert_eq!(
        values(&complete(&env, &["show", "component:other_"])),
        ["component:other_thing"]
    );
}

// ---------------------------------------------------------------------------
// Real shells in tmux.

/// A shell running in a private tmux server.
struct Tmux {
    socket: String,
}

static SESSIONS: AtomicUsize = AtomicUsize::new(0);

impl Tmux {
    /// Starts `shell_cmd` in a clean environment: PATH starts with a
    /// directory holding the `idp` under test, HOME and XDG dirs are the
    /// test's, and `extra` adds variables (IDP_CATALOG).
    fn start(env: &TestEnv, shell_cmd: &str, extra: &[(&str, &str)]) -> Tmux {
        let bin = env.dir("bin");
        let idp = bin.join("idp");
        if !idp.exists() {
            std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin("idp"), &idp).unwrap();
        }
        let mut vars = vec![
            format!("HOME={}", env.home.display()),
            format!("XDG_CACHE_HOME={}", env.cache.display()),
            format!("XDG_CONFIG_HOME={}", env.config.display()),
            format!("XDG_DATA_HOME={}", env.home.join(".local/share").display()),
            format!(
                "PATH={}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
            "TERM=screen".into(),
            "NO_COLOR=1".into(),
            "GIT_CONFIG_NOSYSTEM=1".into(),
            "PS1=$ ".into(),
        ];
        vars.extend(extra.iter().map(|(k, v)| format!("{k}={v}")));
        let quoted: Vec<String> = vars.iter().map(|v| format!("'{v}'")).collect();
        let socket = format!(
            "idp-test-{}-{}",
            std::process::id(),
            SESSIONS.fetch_add(1, Ordering::SeqCst)
        );
        let tmux = Tmux { socket };
        let status = tmux
            .cmd()
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                "150",
                "-y",
                "40",
            ])
            .arg(format!("env -i {} {shell_cmd}", quoted.join(" ")))
            .current_dir(&env.cwd)
            .status()
            .expect("tmux");
        assert!(status.success(), "tmux new-session failed");
        tmux
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    /// Types text literally.
    fn type_text(&self, text: &str) {
        self.cmd()
            .args(["send-keys", "-t", "t", "-l", text])
            .status()
            .unwrap();
    }

    /// Presses keys (tmux names: Tab, Enter, C-u, …).
    fn keys(&self, keys: &[&str]) {
        self.cmd()
            .args(["send-keys", "-t", "t"])
            .args(keys)
            .status()
            .unwrap();
    }

    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "t"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen satisfies `pred`; panics with the screen after 15 s.
    #[track_caller]
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            if start.elapsed() > Duration::from_secs(15) {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs a line and waits for its marker, so the shell is ready for the next.
    fn run_line(&self, line: &str) {
        // The marker is split by quotes, so only its output matches.
        self.type_text(&format!("{line}; echo READY-'4''2'"));
        self.keys(&["Enter"]);
        self.wait_for("the shell to run a line", |s| s.contains("READY-42"));
        self.keys(&["C-l"]);
        self.wait_for("a cleared screen", |s| !s.contains("READY-42"));
    }

    /// Types a partial command and presses TAB `tabs` times.
    fn tab(&self, partial: &str, tabs: usize) {
        self.type_text(partial);
        for _ in 0..tabs {
            std::thread::sleep(Duration::from_millis(150));
            self.keys(&["Tab"]);
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

/// Whether `shell` is installed; under CI (where `scripts/test` installs
/// it) a missing shell is a failure, elsewhere the test is skipped.
fn have(shell: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {shell}")])
        .output()
        .is_ok_and(|o| o.status.success());
    let tmux = Command::new("sh")
        .args(["-c", "command -v tmux"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !(found && tmux) && std::env::var_os("CI").is_some() {
        panic!("{shell} or tmux is missing; `bash scripts/test` installs them");
    }
    if !(found && tmux) {
        eprintln!("skipped: {shell} or tmux is not installed");
    }
    found && tmux
}

fn script(shell: &str) -> String {
    format!("{}/completions/idp.{shell}", env!("CARGO_MANIFEST_DIR"))
}

/// The line being edited (the last non-empty line of the screen).
fn prompt_line(screen: &str) -> String {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn bash_completes_commands_and_entity_names() {
    if !have("bash") {
        return;
    }
    let (env, catalog) = with_catalog();
    let catalog = catalog.to_string_lossy().into_owned();
    let sh = Tmux::start(
        &env,
        "bash --norc --noprofile -i",
        &[("IDP_CATALOG", &catalog)],
    );
    sh.run_line(&format!("source {}", script("bash")));
    sh.tab("idp who-owns led", 1);
    sh.wait_for("ledger completed", |s| {
        prompt_line(s).ends_with("idp who-owns ledger")
    });
    sh.keys(&["C-u"]);
    sh.tab("idp vali", 1);
    sh.wait_for("validate completed", |s| {
        prompt_line(s).ends_with("idp validate")
    });
    sh.keys(&["C-u"]);
    sh.tab("idp list --owner ", 2);
    let screen = sh.wait_for("owners listed", |s| {
        ["alice", "checkout", "engineering", "payments"]
            .iter()
            .all(|n| s.contains(n))
    });
    assert!(!screen.contains("ledger"), "only owners:\n{screen}");
}

#[test]
fn bash_without_a_catalog_stays_quiet() {
    if !have("bash") {
        return;
    }
    let env = TestEnv::new();
    let broken = CatalogBuilder::new(env.dir("broken"))
        .file("idp.yaml", "include: [unclosed\n")
        .build();
    for extra in [vec![], vec![("IDP_CATALOG", broken.path())]] {
        let sh = Tmux::start(&env, "bash --norc --noprofile -i", &extra);
        sh.run_line(&format!("source {}", script("bash")));
        sh.tab("idp who-owns le", 2);
        // Give a (wrong) error message time to appear.
        std::thread::sleep(Duration::from_millis(800));
        let screen = sh.screen();
        assert!(
            !screen.to_lowercase().contains("error") && !screen.contains("warning"),
            "error text in the prompt:\n{screen}"
        );
        sh.keys(&["C-u"]);
        sh.tab("idp sho", 1);
        sh.wait_for("show completed", |s| prompt_line(s).ends_with("idp show"));
        assert!(
            prompt_line(&screen).ends_with("idp who-owns le"),
            "the word was left as typed:\n{screen}"
        );
    }
}

#[test]
fn zsh_completes_with_descriptions() {
    if !have("zsh") {
        return;
    }
    let (env, catalog) = with_catalog();
    let catalog = catalog.to_string_lossy().into_owned();
    let sh = Tmux::start(&env, "zsh -f -i", &[("IDP_CATALOG", &catalog)]);
    sh.run_line(&format!(
        "autoload -U compinit && compinit -u -D && source {}",
        script("zsh")
    ));
    sh.tab("idp who-owns stor", 1);
    sh.wait_for("storefront completed", |s| {
        prompt_line(s).contains("idp who-owns storefront")
    });
    sh.keys(&["C-u"]);
    sh.tab("idp list --owner ", 1);
    let screen = sh.wait_for("owners with descriptions", |s| {
        s.contains("Payments (Group)") && s.contains("Checkout Team (Group)")
    });
    assert!(screen.contains("alice"), "{screen}");
}

#[test]
fn fish_completes_with_descriptions() {
    if !have("fish") {
        return;
    }
    let (env, catalog) = with_catalog();
    let catalog = catalog.to_string_lossy().into_owned();
    let sh = Tmux::start(&env, "fish --no-config -i", &[("IDP_CATALOG", &catalog)]);
    sh.run_line(&format!("source {}", script("fish")));
    sh.tab("idp who-owns stor", 1);
    sh.wait_for("storefront completed", |s| {
        prompt_line(s).contains("idp who-owns storefront")
    });
    sh.keys(&["C-u"]);
    sh.tab("idp show ", 1);
    let screen = sh.wait_for("entities with descriptions", |s| {
        s.contains("Checkout Team (Group)") && s.contains("ledger (Component)")
    });
    assert!(screen.contains("engineering"), "{screen}");
}

#[test]
fn scorecard_names_complete_for_score_and_list() {
    let env = TestEnv::new();
    for words in [
        &["--catalog", &acme(), "score", "--scorecard", ""][..],
        &["--catalog", &acme(), "list", "--scorecard", "sec"][..],
    ] {
        let run = complete(&env, words);
        run.ok().quiet_stderr();
        assert!(
            run.stdout
                .contains("security-basics\tSecurity basics (Scorecard)"),
            "{}",
            run.stdout
        );
    }
}
