//! `idp man [COMMAND] [--out-dir DIR]`: man pages generated from the clap
//! definitions with clap_mangen, one page per command (`idp.1`,
//! `idp-who-owns.1`, …). The pages committed under `man/` are this
//! command's output; a test fails when they are stale.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::command_error::{ErrorContext as _, Result};
use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::exit::Exit;
use crate::output::sanitize;

use super::{Context, UsageError};

pub fn run(ctx: &Context, args: ManArgs) -> Result<Exit> {
    if let Some(dir) = &args.out_dir {
        let written = write_all(dir)?;
        // Say what happened: a silent success leaves the user to `ls`.
        let names: Vec<String> = written
            .iter()
            .filter_map(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        let mut out = ctx.ui.stdout();
        writeln!(
            out,
            "Wrote {} man pages into {}: {}",
            names.len(),
            sanitize::line(&dir.display().to_string()),
            sanitize::line(&names.join(", "))
        )?;
        out.flush()?;
        return Ok(Exit::Ok);
    }
    let page = page(args.command.as_deref())?;
    let mut out = std::io::stdout().lock();
    out.write_all(&page)?;
    out.flush()?;
    Ok(Exit::Ok)
}

/// The root command as the pages describe it (no `help` subcommand).
fn root() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// One page: idp(1), or the named command's.
fn page(command: Option<&str>) -> Result<Vec<u8>> {
    let root = root();
    let cmd = match command {
        None => root,
        Some(name) => root
            .get_subcommands()
            .find(|s| s.get_name() == name && !s.is_hide_set())
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = root
                    .get_subcommands()
                    .filter(|s| !s.is_hide_set())
                    .map(|s| s.get_name())
                    .collect();
                UsageError(format!(
                    "no command '{name}'; commands: {}",
                    names.join(", ")
                ))
            })?,
    };
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut buf)?;
    Ok(buf)
}

/// Writes every page into `dir` (created when missing), as
/// `clap_mangen::generate_to` does, and returns the files written, idp.1 first.
fn write_all(dir: &Path) -> Result<Vec<PathBuf>> {
    fn generate(cmd: clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> std::io::Result<()> {
        written.push(clap_mangen::Man::new(cmd.clone()).generate_to(dir)?);
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            generate(sub.clone(), dir, written)?;
        }
        Ok(())
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    generate(root(), dir, &mut written)
        .with_context(|| format!("cannot write man pages into {}", dir.display()))?;
    Ok(written)
}
