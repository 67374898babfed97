//! The `idp` binary: parse arguments, decide settings once, run the command,
//! and turn the outcome into output and an exit code. The only place that
//! prints errors or exits.

use idp::catalog;
use idp::integrations;

// A warm run allocates and frees tens of thousands of small strings (index
// entries, stamps); mimalloc makes that markedly cheaper than glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;
mod command_error;
mod commands;
mod exit;
mod mcp;
mod output;
mod settings;

use std::io::{self, Write};

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, ColorChoice};
use crate::command_error::CommandError;
use crate::exit::Exit;
use crate::output::style::{paint, ERROR};
use crate::output::{sanitize, Ui};
use crate::settings::{Settings, Terminal};

/// mimalloc asks for transparent huge pages, so every fresh page it hands
/// out makes the kernel zero 2 MiB, again after each purge. For a process
/// that lives a fraction of a second and allocates in bursts (a cold
/// `validate` parses thousands of files) that zeroing was over half of all
/// CPU time; 4 KiB pages cut the system time of a cold `validate` at
/// 10,000 entities by two thirds (bench/results.md). Only speed changes.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and changes
    // nothing but the page size of this process's later page faults.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() {
    // Before anything else (and any thread): see `idp::tls`.
    idp::tls::defer_ca_bundle();
    no_huge_pages();
    // A TAB in a shell that sourced `idp completions <shell>`.
    if let Some(code) = commands::completions::complete_from_env() {
        let _ = io::stdout().flush();
        std::process::exit(code as i32);
    }
    // No arguments at all: a short overview instead of the full help.
    if std::env::args_os().len() == 1 {
        let _ = commands::overview::write(&mut io::stdout().lock());
        std::process::exit(Exit::Ok as i32);
    }
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let e = cli::with_output_tip(e);
            // clap prints help/version to stdout (exit 0) and usage errors to stderr.
            let code = if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
            let _ = e.print();
            std::process::exit(code as i32);
        }
    };
    let env = idp::vars::Vars::from_process();
    let terminal = Terminal::detect();
    let ui = make_ui(&cli, &env, terminal);
    // Tokens idp may read, redacted from everything it prints; tokens named
    // by `token_env:` and secret headers register when they are read.
    for var in idp::integrations::config::well_known_token_vars() {
        if let Some(value) = env.get(var) {
            idp::secrets::register(value);
        }
    }
    let catalog_from_env =
        matches.value_source("catalog") == Some(clap::parser::ValueSource::EnvVariable);
    let code = match Settings::resolve(&cli, env, terminal)
        .map(|settings| Settings {
            catalog_from_env,
            ..settings
        })
        .map_err(CommandError::from)
        .and_then(|settings| commands::run(cli, &ui, settings))
    {
        Ok(code) => code,
        Err(err) => report(&ui, &err),
    };
    let _ = io::stdout().flush();
    std::process::exit(code as i32);
}

/// Colour, width and annotations, decided once from flags and environment.
fn make_ui(cli: &Cli, env: &idp::vars::Vars, terminal: Terminal) -> Ui {
    let no_color = env.get("NO_COLOR").is_some_and(|v| !v.is_empty());
    let decide = |tty: bool| match cli.global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => tty && !no_color,
    };
    let stdout_tty = terminal.stdout;
    let width = env
        .get("COLUMNS")
        .and_then(|c| c.parse().ok())
        .or_else(|| stdout_tty.then(terminal_width).flatten());
    Ui {
        human: commands::human_output(&cli.command),
        color: decide(stdout_tty),
        color_err: decide(terminal.stderr),
        quiet: cli.global.quiet,
        verbose: cli.global.verbose,
        width,
        github_actions: env.get("GITHUB_ACTIONS") == Some("true"),
    }
}

fn terminal_width() -> Option<u16> {
    let mut table = comfy_table::Table::new();
    table.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    table.width()
}

/// Prints the error chain with hints; returns the exit code.
fn report(ui: &Ui, err: &CommandError) -> Exit {
    let code = err.exit();
    if code == Exit::Ok {
        return code; // closed pipe: the reader went away, nothing to say
    }
    // Messages quote data (names, file contents, server answers): each is
    // sanitized as a block, so idp's own multi-line messages keep their
    // lines while control characters show as escapes.
    let mut stderr = ui.stderr();
    let label = paint(ui.color_err, ERROR, "error");
    let text = |e: &dyn std::fmt::Display| sanitize::block(&e.to_string()).into_owned();
    let _ = writeln!(stderr, "{label}: {}", text(&err.error));
    for cause in err.error.chain().skip(1) {
        let _ = writeln!(stderr, "  caused by: {}", text(cause));
    }
    for hint in &err.hints {
        let _ = writeln!(stderr, "  hint: {}", text(&hint));
    }
    code
}
