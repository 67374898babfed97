//! `idp graph <entity>`.

use std::io::Write;

use crate::command_error::Result;

use crate::catalog::graph::{neighbourhood, Direction, Neighbourhood};
use crate::catalog::resolve::resolve;
use crate::catalog::{Catalog, Entity};
use crate::cli::{GraphArgs, GraphDirection};
use crate::exit::Exit;
use crate::output::format::GraphFormat;
use crate::output::graph::{dot, mermaid, tree};
use crate::output::{write_data, Data};

use super::{Context, Open};

pub fn run(ctx: &Context, args: GraphArgs) -> Result<Exit> {
    let opened = ctx.open_catalog(Open::INDEXED)?;
    let (entity, result) = walk(&opened.catalog, &args)?;
    let mut out = ctx.ui.stdout();
    match args.output {
        GraphFormat::Tree => tree(&mut out, ctx.ui, &result, entity.display_name())?,
        GraphFormat::Dot => dot(&mut out, &result)?,
        GraphFormat::Mermaid => mermaid(&mut out, &result)?,
        GraphFormat::Json => write_data(&mut out, Data::Json, &result)?,
        GraphFormat::Yaml => write_data(&mut out, Data::Yaml, &result)?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}

/// The entity and its neighbourhood: the `graph -o json` contract (the MCP
/// `dependency_graph` tool returns this too, with the mermaid text).
pub fn walk<'c>(catalog: &'c Catalog, args: &GraphArgs) -> Result<(&'c Entity, Neighbourhood)> {
    let entity = resolve(catalog, &args.entity)?;
    let direction = match args.direction {
        GraphDirection::Up => Direction::Up,
        GraphDirection::Down => Direction::Down,
        GraphDirection::Both => Direction::Both,
    };
    Ok((
        entity,
        neighbourhood(catalog, entity, args.depth, direction),
    ))
}
