//! `idp diff <rev-a> [<rev-b>]`.

use std::io::Write;

use crate::command_error::Result;

use crate::catalog::history::{diff_catalogs, CatalogDiff};
use crate::cli::DiffArgs;
use crate::exit::Exit;
use crate::output::changes::{diff_markdown, diff_text};
use crate::output::format::DiffFormat;
use crate::output::{write_data, Data};

use super::{Context, Open};

pub fn run(ctx: &Context, args: DiffArgs) -> Result<Exit> {
    let result = changes(ctx, &args)?;
    let to = args.to.as_deref().unwrap_or("the working tree");
    let mut out = ctx.ui.stdout();
    match args.output {
        DiffFormat::Table => diff_text(&mut out, ctx.ui, &result, &args.from, to)?,
        DiffFormat::Markdown => diff_markdown(&mut out, &result, &args.from, to)?,
        DiffFormat::Json => write_data(&mut out, Data::Json, &result)?,
        DiffFormat::Yaml => write_data(&mut out, Data::Yaml, &result)?,
    }
    out.flush()?;
    Ok(if args.exit_code && !result.is_empty() {
        Exit::Failed
    } else {
        Exit::Ok
    })
}

/// What changed between `from` and `to` (default: the working tree): the
/// `diff -o json` contract (the MCP `catalog_diff` tool returns it too).
pub fn changes(ctx: &Context, args: &DiffArgs) -> Result<CatalogDiff> {
    let (location, _) = ctx.locate()?;
    let old = ctx.open_rev(&location, Some(&args.from), Open::INDEXED)?;
    let new = ctx.open_rev(&location, args.to.as_deref(), Open::INDEXED)?;
    Ok(diff_catalogs(&old.catalog, &new.catalog))
}
