//! `idp graph <entity>`.

use std::io::Write;

use anyhow::Result;

use crate::catalog::graph::{neighbourhood, Direction};
use crate::catalog::resolve::resolve;
use crate::cli::{Format, GraphArgs, GraphDirection};
use crate::exit::Exit;
use crate::output::graph::{dot, mermaid, tree};
use crate::output::write_data;

use super::{require_format, Context};

pub fn run(ctx: &Context, args: GraphArgs) -> Result<Exit> {
    use Format::*;
    require_format(ctx.ui, "graph", &[Table, Tree, Dot, Mermaid, Json, Yaml])?;
    let opened = ctx.open_catalog(true, false)?;
    let catalog = &opened.catalog;
    let entity = resolve(catalog, &args.entity)?;
    let direction = match args.direction {
        GraphDirection::Up => Direction::Up,
        GraphDirection::Down => Direction::Down,
        GraphDirection::Both => Direction::Both,
    };
    let result = neighbourhood(catalog, entity, args.depth, direction);
    let mut out = ctx.ui.stdout();
    match ctx.ui.format {
        Table | Tree => tree(&mut out, ctx.ui, &result, entity.display_name())?,
        Dot => dot(&mut out, &result)?,
        Mermaid => mermaid(&mut out, &result)?,
        format => write_data(&mut out, format, &result)?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}
