//! idp: an internal developer portal in the terminal.
//!
//! The library is the core: it reads and queries the catalog and never prints.
//! The `idp` binary (`main.rs`, `cli.rs`, `commands/`) turns its results into
//! output and exit codes.
#![warn(clippy::print_stdout, clippy::print_stderr, missing_docs)]

pub mod cache_prune;
pub mod catalog;
pub mod check;
pub mod complete;
pub mod confine;
pub mod cost;
pub mod dora;
pub mod git_remote;
pub mod init;
pub mod integrations;
pub mod jinja;
pub mod report;
// Lives with the renderers (src/output/) but prompts in the library use it too.
#[path = "output/sanitize.rs"]
pub mod sanitize;
pub mod scaffold;
pub mod score;
pub mod secrets;
pub mod tls;
pub mod vars;
pub mod yaml;
