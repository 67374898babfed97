//! `idp sync`: fetch a remote catalog now and rebuild the index.

use std::io::Write;

use anyhow::Result;

use crate::catalog::discover::CatalogLocation;
use crate::exit::Exit;

use super::{Context, UsageError};

pub fn run(ctx: &Context) -> Result<Exit> {
    if ctx.offline {
        return Err(
            UsageError("`idp sync` fetches, so it cannot run with --offline".into()).into(),
        );
    }
    let (location, _) = ctx.locate()?;
    let opened = ctx.open_at(&location, true, true, &[])?;
    let catalog = &opened.catalog;
    let mut out = std::io::stdout().lock();
    let at = catalog
        .origin
        .commit
        .as_deref()
        .map(|c| &c[..12.min(c.len())])
        .unwrap_or("working tree");
    let what = match &location {
        CatalogLocation::Remote(url) => format!("fetched {url}"),
        CatalogLocation::Dir(dir) => format!(
            "{} is a local directory: nothing to fetch; index up to date",
            dir.display()
        ),
    };
    writeln!(out, "{what} ({at}, {} entities)", catalog.entities.len())?;
    Ok(Exit::Ok)
}
