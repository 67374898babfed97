//! `idp history <entity>`.

use std::io::Write;

use crate::command_error::Result;

use crate::catalog::history::{entity_history, History};
use crate::catalog::resolve::resolve;
use crate::cli::HistoryArgs;
use crate::exit::Exit;
use crate::output::changes::history;
use crate::output::write_data;

use super::{Context, Open};

pub fn run(ctx: &Context, args: HistoryArgs) -> Result<Exit> {
    let (name, result) = commits(ctx, &args)?;
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => history(&mut out, ctx.ui, &result, &name)?,
        // The contract is the array of commits, newest first.
        Some(data) => write_data(&mut out, data, &result.entries)?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}

/// The entity's display name and the commits that changed it, newest
/// first, cut at `--limit` (`entries` is the `history -o json` contract;
/// the MCP `entity_history` tool returns it too).
pub fn commits(ctx: &Context, args: &HistoryArgs) -> Result<(String, History)> {
    let (location, _) = ctx.locate()?;
    let handle = ctx.repository(&location, "history")?;
    // History starts at a commit: --ref/--at, else HEAD (uncommitted edits
    // have no history yet).
    let rev = ctx.revision(&location)?;
    let start = handle.commit(rev.as_deref())?;
    let opened = ctx.open_rev(&location, Some(&start.to_string()), Open::INDEXED)?;
    let entity = resolve(&opened.catalog, &args.entity)?;
    let mut result = entity_history(
        &handle.repo,
        start,
        &handle.subdir,
        &entity.entity_ref(),
        &entity.source.file,
    )?;
    if let Some(note) = &result.limited {
        ctx.ui.warn(note);
    }
    if let Some(n) = args.limit {
        result.entries.truncate(n);
    }
    Ok((entity.display_name().to_string(), result))
}
