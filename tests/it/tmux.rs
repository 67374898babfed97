//! Drives a real program on a real terminal: a private tmux server per
//! session, so tests see what a person would (prompts, completion menus,
//! progress bars). tmux, bash, zsh and fish are installed by
//! `bash scripts/test`; a missing one fails the test, it never skips.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::TestEnv;

/// How long [`Tmux::wait_for`] waits before giving up.
const TIMEOUT: Duration = Duration::from_secs(20);

static SESSIONS: AtomicUsize = AtomicUsize::new(0);

/// One program running in its own tmux server; the server is killed on drop.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs `idp args…`. When idp exits the pane shows `EXIT=<code>` and
    /// stays open, so the test can read the result.
    pub fn idp(env: &TestEnv, args: &[&str], extra: &[(&str, &str)]) -> Tmux {
        Tmux::idp_sized(env, args, extra, (150, 40))
    }

    /// [`Tmux::idp`] in a pane of `(columns, rows)`.
    pub fn idp_sized(
        env: &TestEnv,
        args: &[&str],
        extra: &[(&str, &str)],
        size: (u16, u16),
    ) -> Tmux {
        let idp = assert_cmd::cargo::cargo_bin("idp");
        let words: Vec<String> = std::iter::once(idp.display().to_string())
            .chain(args.iter().map(|a| a.to_string()))
            .map(|w| quote(&w))
            .collect();
        Tmux::start(
            env,
            &format!("{}; echo EXIT=$?; sleep 60", words.join(" ")),
            extra,
            size,
        )
    }

    /// Starts an interactive shell, `shell_cmd` being its command line
    /// (`bash --norc -i`); `idp` is on its PATH and its prompt is `$ `.
    pub fn shell(env: &TestEnv, shell_cmd: &str, extra: &[(&str, &str)]) -> Tmux {
        let shell = shell_cmd.split_whitespace().next().unwrap_or_default();
        require(shell);
        Tmux::start(env, shell_cmd, extra, (150, 40))
    }

    /// Runs `command_line` (sh syntax) in a clean environment: PATH starts
    /// with a directory holding the `idp` under test, HOME and XDG dirs are
    /// the test's, and `extra` adds or overrides variables.
    fn start(
        env: &TestEnv,
        command_line: &str,
        extra: &[(&str, &str)],
        (columns, rows): (u16, u16),
    ) -> Tmux {
        require("tmux");
        let bin = env.dir("bin");
        let idp = bin.join("idp");
        if !idp.exists() {
            std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin("idp"), &idp).unwrap();
        }
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let data = env.home.join(".local/share");
        // The hermetic variables of every idp run, then what a terminal adds
        // (no COLUMNS: the pane has its own size).
        let mut base = env.hermetic_vars();
        base.extend([
            ("XDG_DATA_HOME", data.display().to_string()),
            ("PATH", path),
            ("TERM", "screen".into()),
            ("PS1", "$ ".into()),
        ]);
        // `env` applies them in order, so `extra` wins over the base.
        let vars: Vec<String> = base
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .chain(extra.iter().copied())
            .map(|(k, v)| quote(&format!("{k}={v}")))
            .collect();
        let socket = format!(
            "idp-test-{}-{}",
            std::process::id(),
            SESSIONS.fetch_add(1, Ordering::SeqCst)
        );
        let tmux = Tmux { socket };
        // `sh -c` as separate words: tmux runs it without the user's shell.
        let status = tmux
            .cmd()
            .args(["-f", "/dev/null", "new-session", "-d", "-s", "t"])
            .args(["-x", &columns.to_string(), "-y", &rows.to_string()])
            .args(["sh", "-c"])
            .arg(format!("env -i {} {command_line}", vars.join(" ")))
            .current_dir(&env.cwd)
            .status()
            .expect("run tmux (`bash scripts/test` installs it)");
        assert!(status.success(), "tmux new-session failed");
        tmux
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    /// Types text literally.
    pub fn type_text(&self, text: &str) {
        self.cmd()
            .args(["send-keys", "-t", "t", "-l", text])
            .status()
            .unwrap();
    }

    /// Presses keys (tmux names: Tab, Enter, Up, C-u, C-c, …).
    pub fn keys(&self, keys: &[&str]) {
        self.cmd()
            .args(["send-keys", "-t", "t"])
            .args(keys)
            .status()
            .unwrap();
    }

    /// What the terminal shows now.
    pub fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "t"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Everything the pane printed, scrollback included, each line as
    /// written: lines the terminal wrapped are joined again and trailing
    /// spaces are kept (`capture-pane -J`), so a test sees whether a line
    /// was too wide or ended in spaces.
    pub fn written_lines(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-J", "-S", "-", "-t", "t"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The pane's title: what OSC 0/2 sequences printed in it set.
    pub fn pane_title(&self) -> String {
        let out = self
            .cmd()
            .args(["display-message", "-p", "-t", "t", "#{pane_title}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits until the screen satisfies `pred` and returns it; panics with
    /// `what` and the screen after [`TIMEOUT`].
    #[track_caller]
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            if start.elapsed() > TIMEOUT {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the screen contains `needle`.
    #[track_caller]
    pub fn wait_for_text(&self, needle: &str) -> String {
        self.wait_for(&format!("{needle:?}"), |s| s.contains(needle))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

/// Fails the test when `program` is not installed.
#[track_caller]
fn require(program: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{program} is missing; `bash scripts/test` installs it"
    );
}

/// Single-quotes `word` for sh.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}
