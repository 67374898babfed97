//! `idp mcp`: the catalog, scorecards and templates as MCP tools and
//! resources for AI coding agents, over stdio (see `crate::mcp`).

use crate::cli::McpArgs;
use crate::command_error::Result;
use crate::exit::Exit;
use crate::mcp::{serve, Options};
use crate::settings::Settings;

use super::Context;

pub fn run(ctx: &Context, args: McpArgs) -> Result<Exit> {
    // An agent's server never prompts, never draws progress and, unless
    // told otherwise, answers live facts from the cache only.
    let settings = Settings {
        offline: ctx.settings.offline || !args.online,
        terminal: Default::default(),
        progress: false,
        ..ctx.settings.clone()
    };
    serve(
        ctx.ui.clone(),
        settings,
        Options {
            allow_write: args.allow_write,
            trust: args.trust,
            http: args.http,
        },
    )?;
    Ok(Exit::Ok)
}
