//! idp: an internal developer portal in the terminal.
//!
//! The library is the core: it reads and queries the catalog and never prints.
//! The `idp` binary (`main.rs`, `cli.rs`, `commands/`) turns its results into
//! output and exit codes.
#![warn(clippy::print_stdout, clippy::print_stderr, missing_docs)]

pub mod catalog;
pub mod complete;
pub mod confine;
pub mod init;
pub mod integrations;
pub mod jinja;
pub mod scaffold;
pub mod score;
pub mod tls;
