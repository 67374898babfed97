//! `idp diff <rev-a> [<rev-b>]`.

use std::io::Write;

use anyhow::Result;

use crate::catalog::history::diff_catalogs;
use crate::cli::{DiffArgs, Format};
use crate::exit::Exit;
use crate::output::changes::{diff_markdown, diff_text};
use crate::output::write_data;

use super::{require_format, Context};

pub fn run(ctx: &Context, args: DiffArgs) -> Result<Exit> {
    use Format::*;
    require_format(ctx.ui, "diff", &[Table, Json, Yaml, Markdown])?;
    let (location, _) = ctx.locate()?;
    let old = ctx.open_rev(&location, Some(&args.from), true, false, &[])?;
    let new = ctx.open_rev(&location, args.to.as_deref(), true, false, &[])?;
    let result = diff_catalogs(&old.catalog, &new.catalog);
    let to = args.to.as_deref().unwrap_or("the working tree");
    let mut out = ctx.ui.stdout();
    match ctx.ui.format {
        Table => diff_text(&mut out, ctx.ui, &result, &args.from, to)?,
        Markdown => diff_markdown(&mut out, &result, &args.from, to)?,
        format => write_data(&mut out, format, &result)?,
    }
    out.flush()?;
    Ok(if args.exit_code && !result.is_empty() {
        Exit::Failed
    } else {
        Exit::Ok
    })
}
