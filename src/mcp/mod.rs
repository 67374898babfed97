//! `idp mcp`: an MCP server (Model Context Protocol, the official Rust SDK
//! `rmcp`) over stdio (or streamable HTTP on loopback, `http`), for AI
//! coding agents. Tools answer the questions the
//! commands answer, with the commands' own `-o json` as structured content
//! (`tools`); each entity's descriptor and each scorecard is a resource
//! (`resources`); the catalog is opened once and kept warm (`state`).
//!
//! Stdout carries the protocol only: warnings go to stderr through the
//! `Ui`, and nothing in a tool may write to stdout. Requests run one at a
//! time on a blocking thread, each under the core's budgets (YAML, CEL,
//! templates) and a wall-clock cap; a malformed request gets an error (or,
//! when it is not JSON at all, is skipped by the SDK) and the server keeps
//! answering.

mod http;
mod resources;
mod server;
mod state;
pub mod tools;

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::command_error::{CommandError, Kind, Result};
use crate::output::Ui;
use crate::settings::Settings;

pub use server::Server;

/// What `idp mcp`'s flags allow.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--allow-write DIR`: scaffold_create writes under DIR only.
    pub allow_write: Option<PathBuf>,
    /// `--trust`: scaffold_create runs hooks and command steps.
    pub trust: bool,
    /// `--http ADDR`: streamable HTTP on a loopback address, not stdio.
    pub http: Option<SocketAddr>,
}

/// Serves until the client closes stdin.
pub fn serve(ui: Ui, settings: Settings, options: Options) -> Result<()> {
    if let Some(dir) = &options.allow_write {
        if !settings.cwd.join(dir).is_dir() {
            return Err(CommandError::user(format!(
                "--allow-write {}: not a directory",
                dir.display()
            )));
        }
    }
    if let Some(addr) = options.http {
        http::check_addr(addr)?;
    }
    let ui: &'static Ui = Box::leak(Box::new(ui));
    let http = options.http;
    let server = Server::new(ui, settings.clone(), options);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        use rmcp::ServiceExt;
        if let Some(addr) = http {
            return http::serve(ui, &settings, server, addr).await;
        }
        let running = match server.serve(rmcp::transport::stdio()).await {
            Ok(running) => running,
            // The client went away before the handshake: nothing to serve.
            Err(rmcp::service::ServerInitializeError::ConnectionClosed(_)) => return Ok(()),
            Err(e) => {
                return Err(CommandError::new(
                    Kind::User,
                    anyhow::anyhow!("MCP handshake: {e}"),
                ))
            }
        };
        running
            .waiting()
            .await
            .map_err(|e| CommandError::internal(anyhow::anyhow!("MCP server: {e}")))?;
        Ok(())
    })
}
