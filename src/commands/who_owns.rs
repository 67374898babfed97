//! `idp who-owns <entity | path | git remote>`.

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use crate::catalog::ownership::{self, MatchedBy};
use crate::catalog::resolve::resolve;
use crate::cli::{Format, WhoOwnsArgs};
use crate::exit::Exit;
use crate::output::{owners, write_data};

use super::{require_format, Context};

pub fn run(ctx: &Context, args: WhoOwnsArgs) -> Result<Exit> {
    require_format(
        ctx.ui,
        "who-owns",
        &[Format::Table, Format::Json, Format::Yaml],
    )?;
    let opened = ctx.open_catalog(true, false)?;
    let catalog = &opened.catalog;
    let target = args.target.as_str();
    let report = if looks_like_remote(target) {
        ownership::for_remote(catalog, target)?
    } else if looks_like_path(target) {
        ownership::for_path(catalog, &ctx.cwd.join(target))?
    } else {
        let entity = resolve(catalog, target)?;
        ownership::report(catalog, entity, MatchedBy::Name)
    };
    let mut out = std::io::stdout().lock();
    match ctx.ui.format {
        Format::Table => owners::render(&mut out, ctx.ui, &report)?,
        format => write_data(&mut out, format, &report)?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}

fn looks_like_remote(s: &str) -> bool {
    s.contains("://") || (s.contains('@') && s.contains(':') && !Path::new(s).exists())
}

/// `.`, `..`, `./x`, `/abs`, `~/x`, or anything with a `/` that exists on disk.
/// A bare word is an entity name even if a directory of that name exists.
fn looks_like_path(s: &str) -> bool {
    s == "."
        || s == ".."
        || s.starts_with("./")
        || s.starts_with("../")
        || s.starts_with('/')
        || (s.contains('/') && !s.contains(':') && Path::new(s).exists())
}
