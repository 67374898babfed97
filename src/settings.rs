//! Everything a run decides from its flags and its environment, settled
//! once in `main` before any command runs: where the catalog is asked to be,
//! which revision, the run's one timestamp, what the terminal allows, the
//! directories, and the environment variables the core may consult.
//!
//! Commands read these values; neither they nor the library look at the
//! process environment or ask `is_terminal()` again (STYLE.md, habit 3).

use std::io::IsTerminal;
use std::path::PathBuf;

use chrono::{DateTime, FixedOffset, NaiveDate};

use idp::catalog::config::Dirs;
use idp::integrations::config::Secret;
use idp::vars::Vars;

use crate::cli::Cli;
use crate::commands::UsageError;

/// What the terminal allows: decided from stdin, stdout and stderr once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Terminal {
    /// Stdin is a terminal (answers can be typed).
    pub stdin: bool,
    /// Stdout is a terminal.
    pub stdout: bool,
    /// Stderr is a terminal (prompts and progress bars draw there).
    pub stderr: bool,
}

impl Terminal {
    /// The process's streams, now.
    pub fn detect() -> Self {
        Terminal {
            stdin: std::io::stdin().is_terminal(),
            stdout: std::io::stdout().is_terminal(),
            stderr: std::io::stderr().is_terminal(),
        }
    }

    /// Whether prompts can be shown: stdin and stderr are terminals.
    pub fn can_prompt(self) -> bool {
        self.stdin && self.stderr
    }
}

/// The run's one timestamp, as `IDP_NOW` left it: a bad value is an error
/// only for the commands that use the time.
#[derive(Debug, Clone)]
pub enum Now {
    /// `IDP_NOW` (RFC 3339), for reproducible runs and tests, or the clock.
    At(DateTime<FixedOffset>),
    /// `IDP_NOW` was set to this, which is not a timestamp.
    Bad(String),
}

impl Now {
    /// Reads `IDP_NOW` from `env`, else the clock.
    pub fn resolve(env: &Vars) -> Self {
        match env.get("IDP_NOW").filter(|t| !t.is_empty()) {
            Some(text) => DateTime::parse_from_rfc3339(text)
                .map_or_else(|_| Now::Bad(text.to_string()), Now::At),
            None => Now::At(chrono::Utc::now().fixed_offset()),
        }
    }
}

/// Settings every command shares.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--catalog` / `IDP_CATALOG`, as given (found by `Context::locate`).
    pub catalog: Option<String>,
    /// Whether `catalog` came from `IDP_CATALOG` rather than `--catalog`.
    pub catalog_from_env: bool,
    /// `--ref`.
    pub rev: Option<String>,
    /// `--at`, as typed (resolved to a commit against the catalog's history).
    pub at: Option<String>,
    /// `--offline`.
    pub offline: bool,
    /// `--refresh`: live data ignores cache TTLs.
    pub refresh: bool,
    /// `--no-live`: leave live data out.
    pub no_live: bool,
    /// The run's timestamp.
    pub now: Now,
    /// What the terminal allows.
    pub terminal: Terminal,
    /// Progress bars may be drawn: stderr is a terminal and not `--quiet`.
    pub progress: bool,
    /// XDG directories.
    pub dirs: Dirs,
    /// Working directory.
    pub cwd: PathBuf,
    /// The environment variables, captured at start.
    pub env: Vars,
}

impl Settings {
    /// Settles the flags of `cli` against the environment `env`.
    pub fn resolve(cli: &Cli, env: Vars, terminal: Terminal) -> std::io::Result<Self> {
        Ok(Settings {
            catalog: cli.global.catalog.clone(),
            catalog_from_env: false,
            rev: cli.global.rev.clone(),
            at: cli.global.at.clone(),
            offline: cli.global.offline,
            refresh: cli.global.refresh,
            no_live: cli.global.no_live,
            now: Now::resolve(&env),
            terminal,
            progress: terminal.stderr && !cli.global.quiet,
            dirs: Dirs::from_env(),
            cwd: std::env::current_dir()?,
            env,
        })
    }

    /// The run's timestamp; a bad `IDP_NOW` is a usage error.
    pub fn now(&self) -> std::result::Result<DateTime<FixedOffset>, UsageError> {
        match &self.now {
            Now::At(t) => Ok(*t),
            Now::Bad(text) => Err(UsageError(format!(
                "IDP_NOW='{text}' is not a timestamp like 2026-11-29T00:00:00Z"
            ))),
        }
    }

    /// The run's date for checks that only warn (`idp validate` on expired
    /// exemptions): a bad `IDP_NOW` is reported by the commands that score,
    /// here the clock will do.
    pub fn today(&self) -> NaiveDate {
        match &self.now {
            Now::At(t) => t.date_naive(),
            Now::Bad(_) => chrono::Utc::now().date_naive(),
        }
    }

    /// The token in variable `var`, when set and not blank; registered for
    /// redaction by being read.
    pub fn token(&self, var: &str) -> Option<Secret> {
        self.env.non_empty(var).map(|t| Secret::new(t.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idp_now_is_read_once_and_a_bad_value_is_kept_for_the_commands_that_use_it() {
        let at = Now::resolve(&Vars::from_pairs([("IDP_NOW", "2026-11-29T00:00:00Z")]));
        assert!(matches!(at, Now::At(t) if t.to_rfc3339() == "2026-11-29T00:00:00+00:00"));
        let bad = Now::resolve(&Vars::from_pairs([("IDP_NOW", "tomorrow")]));
        assert!(matches!(&bad, Now::Bad(t) if t == "tomorrow"));
        // Empty means unset: the clock.
        assert!(matches!(
            Now::resolve(&Vars::from_pairs([("IDP_NOW", "")])),
            Now::At(_)
        ));
    }

    #[test]
    fn prompting_needs_stdin_and_stderr() {
        let t = |stdin, stderr| Terminal {
            stdin,
            stdout: false,
            stderr,
        };
        assert!(t(true, true).can_prompt());
        assert!(!t(true, false).can_prompt());
        assert!(!t(false, true).can_prompt());
    }
}
