//! `idp completions <shell>` and the completion protocol behind it.
//!
//! The script a user sources is clap_complete's dynamic registration: on
//! each TAB the shell runs `IDP_COMPLETE=<shell> idp -- <words…>`, and
//! [`complete_from_env`] (called first thing in `main`) answers with
//! commands, flags and values. Values come from the catalog through
//! [`idp::complete`]; which arguments take which values is decided here, by
//! argument name across every subcommand, so a new command with an `entity`
//! argument completes entity names without further wiring.
//!
//! Nothing here may print to stderr: whatever goes wrong, the shell just
//! gets fewer candidates.

use std::ffi::OsStr;
use std::io::Write;
use std::path::PathBuf;

use crate::command_error::Result;
use clap::{Arg, CommandFactory, ValueHint};
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use clap_complete::env::{CompleteEnv, Shells};

use idp::catalog::config::Dirs;
use idp::complete::{candidates, expand_tilde, open_quietly, Lookup, ValueKind};

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::Exit;

use super::Context;

/// The environment variable that turns a run into a completion request.
pub const VAR: &str = "IDP_COMPLETE";
/// The command the scripts complete, and the one they call for candidates.
const BIN: &str = "idp";

/// Prints the registration script for one shell.
pub fn run(_ctx: &Context, args: CompletionsArgs) -> Result<Exit> {
    let mut out = std::io::stdout().lock();
    write_script(&args.shell.to_string(), &mut out)?;
    out.flush()?;
    Ok(Exit::Ok)
}

/// The script for `shell` (a name clap_complete knows).
fn write_script(shell: &str, out: &mut dyn Write) -> std::io::Result<()> {
    let shells = Shells::builtins();
    let completer = shells
        .completer(shell)
        .ok_or_else(|| std::io::Error::other(format!("no completion support for {shell}")))?;
    completer.write_registration(VAR, BIN, BIN, BIN, out)
}

/// Answers a completion request when `IDP_COMPLETE` is set; `None` for a
/// normal run. A failed request exits 1 without a word, which the scripts
/// treat as "no candidates".
pub fn complete_from_env() -> Option<Exit> {
    std::env::var_os(VAR).filter(|v| !v.is_empty() && v != "0")?;
    let env = CompleteEnv::with_factory(command)
        .var(VAR)
        .bin(BIN)
        .completer(BIN);
    let cwd = std::env::current_dir().ok();
    match env.try_complete(std::env::args_os(), cwd.as_deref()) {
        Ok(true) => Some(Exit::Ok),
        Ok(false) => None,
        Err(_) => Some(Exit::Failed),
    }
}

/// The clap command with value completers attached.
fn command() -> clap::Command {
    let cmd = Cli::command().mut_arg("catalog", |a| a.value_hint(ValueHint::AnyPath));
    attach(cmd)
}

/// Attaches a completer to every argument of `cmd` (and its subcommands)
/// whose values the catalog knows.
fn attach(mut cmd: clap::Command) -> clap::Command {
    let name = cmd.get_name().to_string();
    let wanted: Vec<(String, ValueKind)> = cmd
        .get_arguments()
        .filter_map(|a| value_kind(&name, a).map(|k| (a.get_id().to_string(), k)))
        .collect();
    for (id, what) in wanted {
        cmd = cmd.mut_arg(id, |a| {
            a.add(ArgValueCompleter::new(move |current: &OsStr| {
                complete(what, current)
            }))
        });
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for sub in subs {
        cmd = cmd.mut_subcommand(sub, attach);
    }
    cmd
}

/// Which values an argument takes, by its name.
fn value_kind(command: &str, arg: &Arg) -> Option<ValueKind> {
    Some(match (command, arg.get_id().as_str()) {
        ("schema", "kind") => ValueKind::BuiltinKind,
        (_, "entity" | "entities" | "target") => ValueKind::Entity,
        (_, "owner") => ValueKind::Owner,
        (_, "system") => ValueKind::OfKind("system"),
        (_, "domain") => ValueKind::OfKind("domain"),
        (_, "template") => ValueKind::OfKind("template"),
        (_, "scorecard") => ValueKind::OfKind("scorecard"),
        (_, "kind") => ValueKind::Kind,
        (_, "lifecycle") => ValueKind::Lifecycle,
        (_, "kind_type") => ValueKind::Type,
        (_, "tag") => ValueKind::Tag,
        (_, "sort") => ValueKind::SortField,
        _ => return None,
    })
}

/// Candidates for the word being completed.
fn complete(what: ValueKind, current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let opened = if what.needs_catalog() {
        // Like the commands, the catalog is never freed: dropping 10,000
        // entities would only add to the latency of a TAB.
        open_quietly(&lookup(), &Dirs::from_env()).map(|o| &*Box::leak(Box::new(o)))
    } else {
        None
    };
    candidates(opened.map(|o| &o.catalog), what, &current)
        .into_iter()
        .map(|c| CompletionCandidate::new(c.value).help(c.help.map(Into::into)))
        .collect()
}

/// `--catalog` and `--ref` as typed on the line being completed (the words
/// follow `--` in this process's arguments), else `IDP_CATALOG`.
fn lookup() -> Lookup {
    let words: Vec<String> = std::env::args_os()
        .skip_while(|a| a != "--")
        .skip(2) // `--` and the command name
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let flag = |name: &str| {
        let eq = format!("{name}=");
        let mut found = None;
        for (i, w) in words.iter().enumerate() {
            if w == name {
                found = words.get(i + 1).cloned();
            } else if let Some(v) = w.strip_prefix(&eq) {
                found = Some(v.to_string());
            }
        }
        found
            .filter(|v| !v.is_empty())
            .map(|v| expand_tilde(&v, home.as_deref()))
    };
    Lookup {
        catalog: flag("--catalog")
            .or_else(|| std::env::var("IDP_CATALOG").ok().filter(|v| !v.is_empty())),
        rev: flag("--ref"),
        cwd: std::env::current_dir().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_has_a_script() {
        for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
            let mut out = Vec::new();
            write_script(shell, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains(VAR), "{shell}: {text}");
        }
    }

    #[test]
    fn entity_arguments_get_a_completer() {
        let cmd = command();
        let who = cmd.find_subcommand("who-owns").unwrap();
        let target = who
            .get_arguments()
            .find(|a| a.get_id() == "target")
            .unwrap();
        assert!(target.get::<ArgValueCompleter>().is_some());
        let list = cmd.find_subcommand("list").unwrap();
        for id in ["owner", "system", "kind", "lifecycle", "tag", "kind_type"] {
            let arg = list.get_arguments().find(|a| a.get_id() == id).unwrap();
            assert!(arg.get::<ArgValueCompleter>().is_some(), "{id}");
        }
        command().debug_assert();
    }
}
