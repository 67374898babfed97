//! `idp cost`: cost per entity, team, service or tag from FOCUS exports;
//! `--publish` commits the monthly aggregate on refs/idp/cost.

use std::io::Write;

use crate::catalog::discover::CatalogLocation;
use crate::catalog::resolve::resolve;
use crate::cli::{CostArgs, CostBy};
use crate::command_error::{ErrorContext as _, Result};
use crate::exit::Exit;
use crate::integrations::config::{github_git_credentials, Sections};
use crate::output::format::CostFormat;
use idp::cost::report::{parse_bound, By, Query};
use idp::cost::{publish, CostError, DataFrom, LoadOptions};

use super::{Context, Open, UsageError};

pub fn run(ctx: &Context, args: CostArgs) -> Result<Exit> {
    let by = match args.by {
        CostBy::Day => By::Day,
        CostBy::Week => By::Week,
        CostBy::Month => By::Month,
        CostBy::Service => By::Service,
        CostBy::Entity => By::Entity,
        CostBy::Tag => By::Tag,
    };
    let bound = |t: &Option<String>, end: bool, flag: &str| -> Result<Option<i32>> {
        t.as_deref()
            .map(|t| {
                parse_bound(t, end).ok_or_else(|| {
                    UsageError(format!(
                        "{flag} '{t}' is not a date (2026-10-01) or a month (2026-10)"
                    ))
                })
            })
            .transpose()
            .map_err(Into::into)
    };
    let (from, to) = (
        bound(&args.from, false, "--from")?,
        bound(&args.to, true, "--to")?,
    );
    if let Some(k) = args.anomaly_k {
        if !(k.is_finite() && k > 0.0) {
            return Err(UsageError(format!("--anomaly-k {k}: give a positive number")).into());
        }
    }
    let (location, _) = ctx.locate()?;
    let opened = ctx.open_at(&location, Open::INDEXED)?;
    let catalog = &opened.catalog;
    let scope_entity = args
        .target
        .as_deref()
        .map(|t| resolve(catalog, t))
        .transpose()?;
    let root = match &location {
        CatalogLocation::Dir(d) => Some(d.as_path()),
        CatalogLocation::Remote(_) => None,
    };
    let handle = ctx
        .repository(&location, "the published cost aggregate")
        .ok();
    let loaded = idp::cost::load(
        catalog,
        &LoadOptions {
            root,
            operator_sources: &args.source,
            cache_dir: Some(&ctx.settings.dirs.cache),
            repo: handle.as_ref().map(|h| &h.repo),
            cached_only: false,
        },
    )?
    .ok_or_else(|| {
        CostError::NoData(if idp::cost::configured(catalog) {
            "cost.sources matches no file, and there is no published aggregate (refs/idp/cost)".into()
        } else {
            "idp.yaml has no cost: section, no --source was given, and there is no published aggregate (refs/idp/cost)".into()
        })
    })?;
    for (entity, e) in &loaded.bad_selectors {
        ctx.ui
            .warn(&format!("{entity}: {e} (the annotation claims nothing)"));
    }
    let agg = &loaded.aggregate;
    if agg.monthly && matches!(by, By::Day | By::Week | By::Tag) {
        return Err(UsageError(format!(
            "only the published monthly aggregate (refs/idp/cost) is here: --by {} needs the billing files (cost.sources or --source)",
            match by {
                By::Day => "day",
                By::Week => "week",
                _ => "tag",
            }
        ))
        .into());
    }
    if by == By::Tag && scope_entity.is_some() {
        return Err(UsageError(
            "--by tag answers for the whole bill (or --unallocated), not one entity".into(),
        )
        .into());
    }
    let mut anomaly = loaded.config.anomaly;
    if let Some(k) = args.anomaly_k {
        anomaly.k = k;
    }
    let query = Query {
        by,
        from,
        to,
        scope: scope_entity.map(|e| agg.scope(catalog, e)),
        unallocated: args.unallocated,
        anomaly,
    };
    let report = agg.report(&query);

    let mut published_as = None;
    if args.publish.publish {
        if loaded.from == DataFrom::Published {
            return Err(UsageError("--publish needs billing files (cost.sources or --source); only the published aggregate is here".into()).into());
        }
        let handle = ctx.repository(&location, "cost --publish")?;
        let commit = publish::write(&handle.repo, agg)
            .with_context(|| format!("publishing to {}", handle.label))?;
        if !args.publish.no_push {
            let sections = Sections::of(catalog)?;
            let creds =
                github_git_credentials(&sections, &|k| ctx.settings.env.get(k).map(str::to_string));
            publish::push(&handle.repo, &args.publish.remote, &creds).with_context(|| {
                format!("pushing {} to {}", publish::COST_REF, args.publish.remote)
            })?;
        }
        published_as = Some(commit.to_string());
    }

    let mut out = ctx.ui.stdout();
    let title = scope_entity
        .map(|e| e.entity_ref().key())
        .unwrap_or_else(|| "the whole bill".into());
    match args.output {
        CostFormat::Table => {
            crate::output::cost::table(&mut out, ctx.ui, &title, &report, loaded.from)?;
            if let Some(c) = &published_as {
                let pushed = if args.publish.no_push {
                    "not pushed (--no-push)".to_string()
                } else {
                    format!("pushed to {}", args.publish.remote)
                };
                writeln!(
                    out,
                    "\nPublished {} at {} ({pushed}).",
                    publish::COST_REF,
                    &c[..12]
                )?;
            }
        }
        CostFormat::Json => {
            #[derive(serde::Serialize)]
            struct Json<'a> {
                scope: &'a str,
                source: DataFrom,
                rows: u64,
                #[serde(flatten)]
                report: &'a idp::cost::report::Report,
                published: Option<&'a str>,
            }
            crate::output::write_data(
                &mut out,
                crate::output::format::Data::Json,
                &Json {
                    scope: &title,
                    source: loaded.from,
                    rows: agg.rows,
                    report: &report,
                    published: published_as.as_deref(),
                },
            )?;
        }
        CostFormat::Csv => crate::output::cost::csv(&mut out, &report)?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}

/// Cost data for commands that show it in passing (`show`, `who-owns`,
/// scorecards): the cache when it matches the billing files, else the
/// published aggregate; never a billing file read, never an error (a
/// problem here is `idp cost`'s or `idp validate`'s to report).
pub fn in_passing(ctx: &Context, catalog: &idp::catalog::Catalog) -> Option<idp::cost::Loaded> {
    let (location, _) = ctx.locate().ok()?;
    let root = match &location {
        CatalogLocation::Dir(d) => Some(d.as_path()),
        CatalogLocation::Remote(_) => None,
    };
    // Without cost settings only a published aggregate counts; when the
    // repository's files show there is none, libgit2 is not started.
    let configured = idp::cost::configured(catalog);
    if let (false, Some(dir)) = (configured, root) {
        if idp::catalog::git_probe::surely_no_ref(dir, publish::COST_REF) {
            return None;
        }
    }
    let handle = ctx
        .repository(&location, "the published cost aggregate")
        .ok();
    if !configured
        && handle
            .as_ref()
            .is_none_or(|h| h.repo.find_reference(publish::COST_REF).is_err())
    {
        return None;
    }
    idp::cost::load(
        catalog,
        &LoadOptions {
            root,
            operator_sources: &[],
            cache_dir: Some(&ctx.settings.dirs.cache),
            repo: handle.as_ref().map(|h| &h.repo),
            cached_only: true,
        },
    )
    .ok()
    .flatten()
}

/// An entity's last month in passing (see [`in_passing`]): the summaries,
/// most expensive currency first; empty without cost data.
pub fn last_month_of(
    ctx: &Context,
    catalog: &idp::catalog::Catalog,
    entity: &idp::catalog::Entity,
) -> Vec<idp::cost::report::Summary> {
    match in_passing(ctx, catalog) {
        Some(l) => idp::cost::entity_last_month(
            &l,
            catalog,
            entity,
            idp::cost::day_of(ctx.settings.today()),
        ),
        None => Vec::new(),
    }
}
