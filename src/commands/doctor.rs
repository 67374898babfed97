//! `idp doctor`: which integrations are configured, which tokens are
//! present (never their values), whether each base URL answers.

use std::io::Write;

use crate::command_error::Result;
use serde::Serialize;

use crate::cli::DoctorArgs;
use crate::exit::Exit;
use crate::integrations::{Engine, LiveOptions};
use crate::output::table::{Column, Table};
use crate::output::write_data;

use super::{Context, Open};

/// One line of the report.
#[derive(Debug, Serialize)]
struct Row {
    name: String,
    kind: String,
    base_url: String,
    token_env: Option<String>,
    token_set: bool,
    token_required: bool,
    reachable: bool,
    status: Option<u16>,
    latency_ms: Option<u128>,
    problem: Option<String>,
}

#[derive(Debug, Serialize)]
struct Report {
    integrations: Vec<Row>,
    cache: String,
}

pub fn run(ctx: &Context, args: DoctorArgs) -> Result<Exit> {
    let opened = ctx.open_catalog(Open::INDEXED)?;
    let config = super::live::config(ctx, opened)?;
    let cache = ctx.settings.dirs.cache.join("live");
    let probes = if config.is_empty() || ctx.settings.offline {
        Vec::new()
    } else {
        let options = LiveOptions {
            offline: false,
            ..LiveOptions::default()
        };
        Engine::new(&config, &cache, options)?.probe()
    };
    let rows: Vec<Row> = config
        .integrations
        .iter()
        .map(|c| {
            let probe = probes.iter().find(|(n, _)| *n == c.name).map(|(_, r)| r);
            let token_set = c.token.is_some();
            let mut problem = None;
            let (reachable, status, latency_ms) = match probe {
                Some(Ok((code, took))) => {
                    if matches!(code, 401 | 403) && token_set {
                        problem = Some(format!("the server refuses the token (HTTP {code})"));
                    } else if *code == 404 {
                        problem =
                            Some("HTTP 404 where the API should answer: check base_url".into());
                    } else if *code >= 500 {
                        problem = Some(format!("the server is failing (HTTP {code})"));
                    }
                    (true, Some(*code), Some(took.as_millis()))
                }
                Some(Err(e)) => {
                    problem = Some(e.to_string());
                    (false, None, None)
                }
                None => (false, None, None),
            };
            if c.token_required && !token_set {
                problem = Some(format!(
                    "no token: set {}",
                    c.token_env.as_deref().unwrap_or("its token variable")
                ));
            }
            if ctx.settings.offline && problem.is_none() {
                problem = Some("not checked (--offline)".into());
            }
            Row {
                name: c.name.clone(),
                kind: c.kind.as_str().to_string(),
                base_url: c.base_url.to_string(),
                token_env: c.token_env.clone(),
                token_set,
                token_required: c.token_required,
                reachable,
                status,
                latency_ms,
                problem,
            }
        })
        .collect();
    let failed = rows.iter().any(|r| {
        (r.token_required && !r.token_set)
            || (!ctx.settings.offline && (!r.reachable || r.problem.is_some()))
    });
    let report = Report {
        integrations: rows,
        cache: cache.display().to_string(),
    };
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => render(&mut out, ctx, &report)?,
        Some(data) => write_data(&mut out, data, &report)?,
    }
    out.flush()?;
    Ok(if failed { Exit::Failed } else { Exit::Ok })
}

fn render(out: &mut dyn Write, ctx: &Context, report: &Report) -> std::io::Result<()> {
    if report.integrations.is_empty() {
        writeln!(
            out,
            "No integrations configured. Add them to the catalog's idp.yaml, e.g.:\n\n  integrations:\n    github: {{}}                 # token from GITHUB_TOKEN\n    pagerduty: {{}}              # token from PAGERDUTY_TOKEN\n    prometheus: {{ base_url: https://prometheus.acme.internal }}"
        )?;
        return Ok(());
    }
    // Whether the token is set and the service answers before where it
    // points; the base URL shrinks and goes first.
    let mut table = Table::new([
        Column::keep("integration", 100),
        Column::shrink("kind", 20, 6),
        Column::shrink("base url", 10, 16),
        Column::shrink("token", 90, 24),
        Column::shrink("answers", 60, 12),
        Column::shrink("problem", 80, 16),
    ]);
    for r in &report.integrations {
        let token = match (&r.token_env, r.token_set, r.token_required) {
            (None, _, _) => "—".to_string(),
            (Some(v), true, _) => format!("{v} set"),
            (Some(v), false, true) => format!("{v} missing (required)"),
            (Some(v), false, false) => format!("{v} not set (optional)"),
        };
        let answers = match (r.status, r.latency_ms) {
            (Some(s), Some(ms)) => format!("HTTP {s} in {ms} ms"),
            _ if ctx.settings.offline => "not checked".into(),
            _ => "no".into(),
        };
        table.add_row([
            r.name.clone(),
            r.kind.clone(),
            r.base_url.clone(),
            token,
            answers,
            // may quote a server's error body (the table sanitizes cells)
            r.problem.clone().unwrap_or_default(),
        ]);
    }
    ctx.ui.write_table(out, &table)?;
    writeln!(out, "\nLive cache: {}", report.cache)
}
