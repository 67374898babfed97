//! `idp sync`: fetch a remote catalog now and rebuild the index.

use std::io::Write;

use crate::command_error::Result;

use crate::catalog::discover::CatalogLocation;
use crate::catalog::Catalog;
use crate::exit::Exit;
use crate::integrations::config::{github_git_credentials, Sections};
use crate::integrations::published;

use super::{Context, Open, UsageError};

pub fn run(ctx: &Context) -> Result<Exit> {
    if ctx.settings.offline {
        return Err(
            UsageError("`idp sync` fetches, so it cannot run with --offline".into()).into(),
        );
    }
    let (location, _) = ctx.locate()?;
    let opened = ctx.open_at(&location, Open::INDEXED.fetch_now())?;
    let catalog = &opened.catalog;
    let mut out = ctx.ui.stdout();
    let at = catalog
        .origin
        .commit
        .as_deref()
        .map(|c| &c[..12.min(c.len())])
        .unwrap_or("working tree");
    let what = match &location {
        CatalogLocation::Remote(url) => format!("fetched {url}"),
        CatalogLocation::Dir(dir) => format!(
            "{} is a local directory: nothing to fetch; index up to date",
            dir.display()
        ),
    };
    writeln!(out, "{what} ({at}, {} entities)", catalog.entities.len())?;
    writeln!(out, "{}", fetch_live_snapshot(ctx, &location, catalog))?;
    writeln!(out, "{}", fetch_cost_aggregate(ctx, &location, catalog))?;
    Ok(Exit::Ok)
}

/// Fetches the live snapshot `idp enrich --publish` pushed, if the
/// catalog repository has a remote with one. Never fails the sync.
fn fetch_live_snapshot(ctx: &Context, location: &CatalogLocation, catalog: &Catalog) -> String {
    let handle = match ctx.repository(location, "the published live snapshot") {
        Ok(h) => h,
        Err(_) => return "live snapshot: not a git repository, nothing to fetch".into(),
    };
    if handle.repo.find_remote("origin").is_err() {
        return "live snapshot: no origin remote to fetch refs/idp/live from".into();
    }
    let creds = Sections::of(catalog)
        .map(|s| github_git_credentials(&s, &|k| std::env::var(k).ok()))
        .unwrap_or_default();
    match published::fetch(&handle.repo, "origin", &creds) {
        Ok(true) => match published::read(&handle.repo) {
            Ok(Some(s)) => format!(
                "fetched {} (live data for {} entities, taken {})",
                published::LIVE_REF,
                s.entities.len(),
                s.taken_at
                    .map(|t| crate::output::live::age(t, chrono::Utc::now()))
                    .unwrap_or_else(|| "at an unknown time".into())
            ),
            Ok(None) => format!("no {} on origin", published::LIVE_REF),
            Err(e) => format!("fetched {}, but it is unreadable: {e}", published::LIVE_REF),
        },
        Ok(false) => format!(
            "no published live snapshot ({}) on origin",
            published::LIVE_REF
        ),
        Err(e) => {
            ctx.ui
                .warn(&format!("could not fetch the live snapshot: {e}"));
            "live snapshot: not fetched".into()
        }
    }
}

/// Fetches the monthly cost aggregate `idp cost --publish` pushed, if the
/// catalog repository has a remote with one. Never fails the sync.
fn fetch_cost_aggregate(ctx: &Context, location: &CatalogLocation, catalog: &Catalog) -> String {
    use idp::cost::publish;
    let handle = match ctx.repository(location, "the published cost aggregate") {
        Ok(h) => h,
        Err(_) => return "cost aggregate: not a git repository, nothing to fetch".into(),
    };
    if handle.repo.find_remote("origin").is_err() {
        return format!(
            "cost aggregate: no origin remote to fetch {} from",
            publish::COST_REF
        );
    }
    let creds = Sections::of(catalog)
        .map(|s| github_git_credentials(&s, &|k| ctx.settings.env.get(k).map(str::to_string)))
        .unwrap_or_default();
    match publish::fetch(&handle.repo, "origin", &creds) {
        Ok(true) => match publish::read(&handle.repo) {
            Ok(Some(agg)) => format!(
                "fetched {} (monthly cost of {} entities, {} months)",
                publish::COST_REF,
                agg.entities.len(),
                agg.cells
                    .iter()
                    .map(|c| c.day)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len()
            ),
            Ok(None) => format!("no {} on origin", publish::COST_REF),
            Err(e) => format!("fetched {}, but it is unreadable: {e}", publish::COST_REF),
        },
        Ok(false) => format!(
            "no published cost aggregate ({}) on origin",
            publish::COST_REF
        ),
        Err(e) => {
            ctx.ui
                .warn(&format!("could not fetch the cost aggregate: {e}"));
            "cost aggregate: not fetched".into()
        }
    }
}
