//! `idp init [DIR] [--force]`: a new catalog repository (see [`idp::init`]),
//! then the three commands to try next.

use std::io::Write;
use std::path::Path;

use crate::command_error::Result;

use idp::init::{init, EXAMPLE_ENTITY};

use crate::cli::InitArgs;
use crate::exit::Exit;

use super::Context;

pub fn run(ctx: &Context, args: InitArgs) -> Result<Exit> {
    let done = init(&args.dir, args.force)?;
    let shown = shell_word(&args.dir);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Created a catalog in {}: idp.yaml and {} example entities ({} {}).",
        args.dir.display(),
        done.entities,
        if done.new_repository {
            "new git repository, first commit"
        } else {
            "committed"
        },
        &done.commit[..7],
    )?;
    if !ctx.ui.quiet {
        writeln!(out, "\nTry next:")?;
        writeln!(out, "  idp --catalog {shown} list")?;
        writeln!(out, "  idp --catalog {shown} who-owns {EXAMPLE_ENTITY}")?;
        writeln!(out, "  idp --catalog {shown} validate")?;
    }
    out.flush()?;
    Ok(Exit::Ok)
}

/// The directory as a word the user can paste into a shell.
fn shell_word(dir: &Path) -> String {
    let s = dir.display().to_string();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./~+@%:".contains(c))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
