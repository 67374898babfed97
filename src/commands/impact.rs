//! `idp impact <entity>`.

use std::io::Write;

use crate::command_error::Result;

use crate::catalog::graph::impact;
use crate::catalog::resolve::resolve;
use crate::cli::ImpactArgs;
use crate::exit::Exit;
use crate::output::graph::impact_table;
use crate::output::write_data;

use super::{Context, Open};

pub fn run(ctx: &Context, args: ImpactArgs) -> Result<Exit> {
    let opened = ctx.open_catalog(Open::INDEXED)?;
    let catalog = &opened.catalog;
    let entity = resolve(catalog, &args.entity)?;
    let result = impact(catalog, entity, args.depth);
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => impact_table(&mut out, ctx.ui, &result, entity.display_name())?,
        Some(data) => write_data(&mut out, data, &result)?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}
