//! `idp impact <entity>`.

use std::io::Write;

use crate::command_error::Result;

use crate::catalog::graph::{impact, Impact};
use crate::catalog::resolve::resolve;
use crate::catalog::{Catalog, Entity};
use crate::cli::ImpactArgs;
use crate::exit::Exit;
use crate::output::graph::impact_table;
use crate::output::write_data;

use super::{Context, Open};

pub fn run(ctx: &Context, args: ImpactArgs) -> Result<Exit> {
    let opened = ctx.open_catalog(Open::INDEXED)?;
    let (entity, result) = dependents(&opened.catalog, &args)?;
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => impact_table(&mut out, ctx.ui, &result, entity.display_name())?,
        Some(data) => write_data(&mut out, data, &result)?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}

/// The entity and what depends on it: the `impact -o json` contract (the
/// MCP `impact` tool returns this too).
pub fn dependents<'c>(catalog: &'c Catalog, args: &ImpactArgs) -> Result<(&'c Entity, Impact)> {
    let entity = resolve(catalog, &args.entity)?;
    Ok((entity, impact(catalog, entity, args.depth)))
}
