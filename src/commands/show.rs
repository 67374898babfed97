//! `idp show <entity>`.

use std::io::Write;

use crate::command_error::Result;

use crate::catalog::open::Opened;
use crate::catalog::resolve::resolve;
use crate::catalog::Entity;
use crate::cli::ShowArgs;
use crate::exit::Exit;
use crate::integrations::EntityView;
use crate::output::entities::{entity_json, show};
use crate::output::write_data;

use super::{Context, Open};

pub fn run(ctx: &Context, args: ShowArgs) -> Result<Exit> {
    let opened = ctx.open_catalog(Open::INDEXED)?;
    let catalog = &opened.catalog;
    let entity = resolve(catalog, &args.entity)?;
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => {
            let source = format!(
                "{}:{}",
                display_path(&catalog.origin.location, &entity.source.file),
                entity.source.line
            );
            show(&mut out, ctx.ui, catalog, entity, &source)?;
            let cost = super::cost::last_month_of(ctx, catalog, entity);
            crate::output::cost::passing_section(&mut out, ctx.ui, &cost)?;
            // One fetch feeds both the scorecards and the Live section.
            let (live, off) = super::live::fetch(ctx, opened, &[EntityView::of(entity)]);
            let key = std::collections::HashSet::from([entity.entity_ref().key()]);
            let (set, results) =
                super::score::results_for(ctx, opened, Some(&key), None, live.as_ref())?;
            crate::output::score::show_section(&mut out, ctx.ui, &set, &results)?;
            let outcomes = live.as_ref().and_then(|s| s.of(&entity.entity_ref().key()));
            crate::output::live::section(&mut out, ctx.ui, outcomes, off.as_deref())?;
        }
        Some(data) => write_data(&mut out, data, &json(ctx, opened, entity)?)?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}

/// The `show -o json` contract: the descriptor with `ref`, `source`, its
/// live facts, its cost last month (when known) and its `scorecards`: one
/// entry per scorecard that applies, as `score ENTITY -o json` has it
/// (level, next level, every rule with its message), answered from the
/// score cache when it holds. The MCP `get_entity` tool returns this too.
pub fn json(ctx: &Context, opened: &Opened, entity: &Entity) -> Result<serde_json::Value> {
    let (live, _) = super::live::fetch(ctx, opened, &[EntityView::of(entity)]);
    let key = std::collections::HashSet::from([entity.entity_ref().key()]);
    let (_, scorecards) = super::score::results_for(ctx, opened, Some(&key), None, live.as_ref())?;
    let outcomes = live
        .as_ref()
        .and_then(|s| s.of(&entity.entity_ref().key()))
        .map(|o| serde_json::to_value(o).expect("outcomes serialize"))
        .unwrap_or_else(|| serde_json::json!({}));
    let mut json = entity_json(entity);
    if let Some(map) = json.as_object_mut() {
        map.insert("live".into(), outcomes);
        let cost = super::cost::last_month_of(ctx, &opened.catalog, entity);
        if !cost.is_empty() {
            map.insert(
                "cost".into(),
                serde_json::to_value(&cost).expect("cost serializes"),
            );
        }
        map.insert(
            "scorecards".into(),
            serde_json::to_value(&scorecards).expect("results serialize"),
        );
    }
    Ok(json)
}

/// A catalog file as the user can open it: under the catalog path as given.
pub fn display_path(location: &str, file: &str) -> String {
    if location.contains("://") || location.is_empty() || location == "." {
        file.to_string()
    } else {
        format!("{}/{file}", location.trim_end_matches('/'))
    }
}
