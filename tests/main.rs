//! End-to-end tests of the `idp` binary: one test binary, one module per
//! area. Every test runs the real binary in a hermetic [`common::TestEnv`].

#[path = "it/common.rs"]
mod common;

#[path = "it/api_conformance.rs"]
mod api_conformance;
#[path = "it/bad_input.rs"]
mod bad_input;
#[path = "it/budgets.rs"]
mod budgets;
#[path = "it/budgets_eval.rs"]
mod budgets_eval;
#[path = "it/cache_prune.rs"]
mod cache_prune;
#[path = "it/completions.rs"]
mod completions;
#[path = "it/confinement.rs"]
mod confinement;
#[path = "it/contracts.rs"]
mod contracts;
#[path = "it/cost.rs"]
mod cost;
#[path = "it/cost_gaps.rs"]
mod cost_gaps;
#[path = "it/descriptors_conformance.rs"]
mod descriptors_conformance;
#[path = "it/dora.rs"]
mod dora;
#[path = "it/dora_report.rs"]
mod dora_report;
#[path = "it/engine.rs"]
mod engine;
#[path = "it/errors.rs"]
mod errors;
#[path = "it/fake_api.rs"]
mod fake_api;
#[path = "it/formats.rs"]
mod formats;
#[path = "it/help_examples.rs"]
mod help_examples;
#[path = "it/index_format.rs"]
mod index_format;
#[path = "it/init.rs"]
mod init;
#[path = "it/jinja_compat.rs"]
mod jinja_compat;
#[path = "it/layers.rs"]
mod layers;
#[path = "it/list_show.rs"]
mod list_show;
#[path = "it/live_commands.rs"]
mod live_commands;
#[path = "it/live_faults.rs"]
mod live_faults;
#[path = "it/live_github.rs"]
mod live_github;
#[path = "it/live_pagerduty.rs"]
mod live_pagerduty;
#[path = "it/live_prometheus.rs"]
mod live_prometheus;
#[path = "it/live_tools.rs"]
mod live_tools;
#[path = "it/loading.rs"]
mod loading;
#[path = "it/man.rs"]
mod man;
#[path = "it/mcp.rs"]
mod mcp;
#[path = "it/mcp_finish.rs"]
mod mcp_finish;
#[path = "it/papercuts.rs"]
mod papercuts;
#[path = "it/perf2_index.rs"]
mod perf2_index;
#[path = "it/perf_paths.rs"]
mod perf_paths;
#[path = "it/prometheus_server.rs"]
mod prometheus_server;
#[path = "it/public_templates.rs"]
mod public_templates;
#[path = "it/relationships.rs"]
mod relationships;
#[path = "it/report.rs"]
mod report;
#[path = "it/report_browser.rs"]
mod report_browser;
#[path = "it/scaffold_backstage.rs"]
mod scaffold_backstage;
#[path = "it/scaffold_compat.rs"]
mod scaffold_compat;
#[path = "it/scaffold_cookiecutter.rs"]
mod scaffold_cookiecutter;
#[path = "it/scaffold_layout.rs"]
mod scaffold_layout;
#[path = "it/scaffold_safety.rs"]
mod scaffold_safety;
#[path = "it/scaffold_update.rs"]
mod scaffold_update;
#[path = "it/schema.rs"]
mod schema;
#[path = "it/score.rs"]
mod score;
#[path = "it/score_cache.rs"]
mod score_cache;
#[path = "it/scorerep.rs"]
mod scorerep;
#[path = "it/settings.rs"]
mod settings;
#[path = "it/tables.rs"]
mod tables;
#[path = "it/terminal_safety.rs"]
mod terminal_safety;
#[path = "it/time.rs"]
mod time;
#[path = "it/tmux.rs"]
mod tmux;
#[path = "it/validate.rs"]
mod validate;
#[path = "it/validate_cache.rs"]
mod validate_cache;
#[path = "it/who_owns.rs"]
mod who_owns;
#[path = "it/yaml_parser.rs"]
mod yaml_parser;
