//! `idp dora`: DORA's four keys per entity and per team.

use std::io::Write;

use chrono::Utc;

use crate::catalog::resolve::resolve;
use crate::cli::DoraArgs;
use crate::command_error::Result;
use crate::exit::Exit;
use crate::integrations::engine::LiveSnapshot;
use crate::integrations::EntityView;
use crate::output::format::DoraFormat;
use crate::output::write_data;
use idp::dora;

use super::live::{dora_config, dora_engine, DoraWanted, Setup};
use super::{Context, Open};

pub fn run(ctx: &Context, args: DoraArgs) -> Result<Exit> {
    let now = ctx.settings.now()?.with_timezone(&Utc);
    let opened = ctx.open_catalog(Open::INDEXED)?;
    let catalog = &opened.catalog;
    let config = dora_config(opened)?;
    let target = args
        .target
        .as_deref()
        .map(|t| resolve(catalog, t))
        .transpose()?;
    let (window, window_text) = match &args.window {
        Some(w) => (w.value, w.text.clone()),
        None => (config.window, window_text(config.window)),
    };
    let environment = args
        .environment
        .clone()
        .unwrap_or_else(|| config.environment.clone());
    let (subjects, teams) = dora::subjects(catalog, target);
    if let Some(t) = target {
        if subjects.is_empty() {
            ctx.ui.warn(&format!(
                "{} owns no entity with a github.com/project-slug annotation",
                t.entity_ref().key()
            ));
        }
    }
    let wanted = DoraWanted {
        config: &config,
        environment: &environment,
        window,
        now,
    };
    let views: Vec<EntityView> = subjects
        .iter()
        .filter_map(|s| {
            catalog
                .entities
                .iter()
                .find(|e| e.entity_ref().key() == s.key)
        })
        .map(EntityView::of)
        .collect();
    let snapshot = match dora_engine(ctx, opened, &wanted)? {
        Setup::Ready(engine) => engine.fetch(&views),
        Setup::Off(why) => {
            ctx.ui.warn(&format!("DORA keys unknown: {why}"));
            let mut snapshot = LiveSnapshot::default();
            for s in &subjects {
                snapshot.entities.entry(s.key.clone()).or_default().insert(
                    dora::inputs::NAME.to_string(),
                    crate::integrations::Outcome::unavailable(why.clone()),
                );
            }
            snapshot
        }
    };
    let req = dora::Request {
        window,
        environment,
        now,
        config,
    };
    let report = dora::report(&subjects, &teams, &snapshot, &req, &window_text);
    let mut out = ctx.ui.stdout();
    match args.output {
        DoraFormat::Table => crate::output::dora::table(&mut out, ctx.ui, &report)?,
        DoraFormat::Json => write_data(&mut out, crate::output::Data::Json, &report)?,
        DoraFormat::Csv => crate::output::dora::csv(&mut out, &report)?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}

/// A window as people write it: whole days as `90d`.
fn window_text(window: std::time::Duration) -> String {
    let secs = window.as_secs();
    if secs.is_multiple_of(86_400) {
        format!("{}d", secs / 86_400)
    } else {
        humantime::format_duration(window).to_string()
    }
}
