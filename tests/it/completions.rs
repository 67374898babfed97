//! Shell completion: the committed scripts are what `idp completions`
//! prints; the completion protocol answers from the catalog and stays
//! silent when there is none; and the scripts work in real bash, zsh and fish
//! running in tmux.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::{acme, CatalogBuilder, Run, TestEnv};
use crate::tmux::Tmux;

const SHELLS: &[&str] = &["bash", "zsh", "fish", "powershell", "elvish"];

/// Asks for completions the way the fish script does (one candidate per
/// line, a tab before the description). `words` start after `idp`.
pub fn complete(env: &TestEnv, words: &[&str]) -> Run {
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

/// Runs a line and waits for its marker, so the shell is ready for the next.
fn run_line(sh: &Tmux, line: &str) {
    // The marker is split by quotes, so only its output matches.
    sh.type_text(&format!("{line}; echo READY-'4''2'"));
    sh.keys(&["Enter"]);
    sh.wait_for("the shell to run a line", |s| s.contains("READY-42"));
    sh.keys(&["C-l"]);
    sh.wait_for("a cleared screen", |s| !s.contains("READY-42"));
}

/// Types a partial command and presses TAB `tabs` times.
fn tab(sh: &Tmux, partial: &str, tabs: usize) {
    sh.type_text(partial);
    for _ in 0..tabs {
        std::thread::sleep(Duration::from_millis(150));
        sh.keys(&["Tab"]);
    }
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
    let (env, catalog) = with_catalog();
    let catalog = catalog.to_string_lossy().into_owned();
    let sh = Tmux::shell(
        &env,
        "bash --norc --noprofile -i",
        &[("IDP_CATALOG", &catalog)],
    );
    run_line(&sh, &format!("source {}", script("bash")));
    tab(&sh, "idp who-owns led", 1);
    sh.wait_for("ledger completed", |s| {
        prompt_line(s).ends_with("idp who-owns ledger")
    });
    sh.keys(&["C-u"]);
    tab(&sh, "idp vali", 1);
    sh.wait_for("validate completed", |s| {
        prompt_line(s).ends_with("idp validate")
    });
    sh.keys(&["C-u"]);
    tab(&sh, "idp list --owner ", 2);
    let screen = sh.wait_for("owners listed", |s| {
        ["alice", "checkout", "engineering", "payments"]
            .iter()
            .all(|n| s.contains(n))
    });
    assert!(!screen.contains("ledger"), "only owners:\n{screen}");
}

#[test]
fn bash_without_a_catalog_stays_quiet() {
    let env = TestEnv::new();
    let broken = CatalogBuilder::new(env.dir("broken"))
        .file("idp.yaml", "include: [unclosed\n")
        .build();
    for extra in [vec![], vec![("IDP_CATALOG", broken.path())]] {
        let sh = Tmux::shell(&env, "bash --norc --noprofile -i", &extra);
        run_line(&sh, &format!("source {}", script("bash")));
        tab(&sh, "idp who-owns le", 2);
        // Give a (wrong) error message time to appear.
        std::thread::sleep(Duration::from_millis(800));
        let screen = sh.screen();
        assert!(
            !screen.to_lowercase().contains("error") && !screen.contains("warning"),
            "error text in the prompt:\n{screen}"
        );
        sh.keys(&["C-u"]);
        tab(&sh, "idp sho", 1);
        sh.wait_for("show completed", |s| prompt_line(s).ends_with("idp show"));
        assert!(
            prompt_line(&screen).ends_with("idp who-owns le"),
            "the word was left as typed:\n{screen}"
        );
    }
}

#[test]
fn zsh_completes_with_descriptions() {
    let (env, catalog) = with_catalog();
    let catalog = catalog.to_string_lossy().into_owned();
    let sh = Tmux::shell(&env, "zsh -f -i", &[("IDP_CATALOG", &catalog)]);
    run_line(
        &sh,
        &format!(
            "autoload -U compinit && compinit -u -D && source {}",
            script("zsh")
        ),
    );
    tab(&sh, "idp who-owns stor", 1);
    sh.wait_for("storefront completed", |s| {
        prompt_line(s).contains("idp who-owns storefront")
    });
    sh.keys(&["C-u"]);
    tab(&sh, "idp list --owner ", 1);
    let screen = sh.wait_for("owners with descriptions", |s| {
        s.contains("Payments (Group)") && s.contains("Checkout Team (Group)")
    });
    assert!(screen.contains("alice"), "{screen}");
}

#[test]
fn fish_completes_with_descriptions() {
    let (env, catalog) = with_catalog();
    let catalog = catalog.to_string_lossy().into_owned();
    let sh = Tmux::shell(&env, "fish --no-config -i", &[("IDP_CATALOG", &catalog)]);
    run_line(&sh, &format!("source {}", script("fish")));
    tab(&sh, "idp who-owns stor", 1);
    sh.wait_for("storefront completed", |s| {
        prompt_line(s).contains("idp who-owns storefront")
    });
    sh.keys(&["C-u"]);
    tab(&sh, "idp show ", 1);
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
