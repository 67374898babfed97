//! End-to-end tests of the `idp` binary: one test binary, one module per
//! area. Every test runs the real binary in a hermetic [`common::TestEnv`].

#[path = "it/common.rs"]
mod common;

#[path = "it/bad_input.rs"]
mod bad_input;
#[path = "it/completions.rs"]
mod completions;
#[path = "it/init.rs"]
mod init;
#[path = "it/list_show.rs"]
mod list_show;
#[path = "it/loading.rs"]
mod loading;
#[path = "it/man.rs"]
mod man;
#[path = "it/relationships.rs"]
mod relationships;
#[path = "it/schema.rs"]
mod schema;
#[path = "it/score.rs"]
mod score;
#[path = "it/time.rs"]
mod time;
#[path = "it/validate.rs"]
mod validate;
#[path = "it/who_owns.rs"]
mod who_owns;
