//! `idp enrich`: fetch live data for many entities at once; `--publish`
//! stores the snapshot on refs/idp/live and pushes it.

use std::collections::BTreeMap;
use std::io::Write;

use crate::command_error::{ErrorContext as _, Result};
use serde::Serialize;

use crate::catalog::filter_check::check_filter;
use crate::catalog::query::filter;
use crate::catalog::resolve::resolve;
use crate::cli::EnrichArgs;
use crate::exit::Exit;
use crate::integrations::config::{github_git_credentials, Sections};
use crate::integrations::{published, EntityView, Status};
use crate::output::format::ViewFormat;
use crate::output::write_data;

use super::live::{add_dora, dora_config, setup, DoraWanted, Setup};
use super::{Context, Open, UsageError};
use crate::integrations::config::Kind;

/// Counts of one integration over the run.
#[derive(Debug, Default, Serialize)]
struct Tally {
    ok: usize,
    absent: usize,
    unavailable: usize,
    /// Reason → how many entities it hit.
    reasons: BTreeMap<String, usize>,
}

pub fn run(ctx: &Context, args: EnrichArgs) -> Result<Exit> {
    if args.publish.publish && ctx.settings.offline {
        return Err(
            UsageError("--publish needs fresh data; it cannot run with --offline".into()).into(),
        );
    }
    let wanted = super::list::build_filter(args.filters)?;
    let opened = ctx.open_catalog(Open::INDEXED)?;
    let catalog = &opened.catalog;
    let entities: Vec<_> = if args.entities.is_empty() {
        check_filter(catalog, &wanted).map_err(super::list::unknown_value)?;
        filter(catalog, &wanted)
    } else {
        args.entities
            .iter()
            .map(|name| resolve(catalog, name))
            .collect::<Result<_, _>>()?
    };
    let configured = super::live::config(ctx, opened)?;
    for name in &args.integration {
        let dora = name == idp::dora::inputs::NAME
            && configured
                .integrations
                .iter()
                .any(|c| c.kind == Kind::Github);
        if !dora && !configured.integrations.iter().any(|c| &c.name == name) {
            let names: Vec<&str> = configured
                .integrations
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            return Err(UsageError(format!(
                "--integration {name}: no such integration in idp.yaml (configured: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ))
            .into());
        }
    }
    let engine = match setup(ctx, opened, &args.integration)? {
        Setup::Ready(mut engine) => {
            // DORA's inputs travel with the snapshot, so `idp dora` (and
            // scorecards reading live.dora) rarely ask the APIs: with a
            // `dora:` section in idp.yaml, or when named.
            let named = args
                .integration
                .iter()
                .any(|n| n == idp::dora::inputs::NAME);
            let wants_dora = named
                || (args.integration.is_empty()
                    && idp::dora::config::DoraSection::present(&opened.catalog));
            let has_github = configured
                .integrations
                .iter()
                .any(|c| c.kind == Kind::Github);
            if wants_dora && has_github {
                let dora = dora_config(opened)?;
                if dora.enabled {
                    let wanted = DoraWanted {
                        config: &dora,
                        environment: &dora.environment,
                        window: dora.window,
                        now: ctx.settings.now()?.with_timezone(&chrono::Utc),
                    };
                    add_dora(&mut engine, &configured, &wanted)?;
                }
            }
            engine
        }
        // `enrich --no-live` contradicts itself.
        Setup::Off(why) if ctx.settings.no_live => {
            return Err(UsageError(format!("nothing to enrich: {why}")).into())
        }
        // A catalog without integrations is a valid catalog: nothing to do
        // is not a failure (a scheduled job keeps passing until someone
        // configures one), but it is said, and nothing is published.
        Setup::Off(why) => return nothing_to_enrich(ctx, args.output, &why, entities.len()),
    };
    let views: Vec<EntityView> = entities.iter().map(|e| EntityView::of(e)).collect();
    let snapshot = engine.fetch(&views);

    let mut tallies: BTreeMap<String, Tally> = engine
        .names()
        .into_iter()
        .map(|n| (n.to_string(), Tally::default()))
        .collect();
    for outcomes in snapshot.entities.values() {
        for (name, o) in outcomes {
            let t = tallies.entry(name.clone()).or_default();
            match o.status {
                Status::Ok => t.ok += 1,
                Status::Absent => t.absent += 1,
                Status::Unavailable => {
                    t.unavailable += 1;
                    *t.reasons
                        .entry(o.reason.clone().unwrap_or_default())
                        .or_default() += 1;
                }
            }
        }
    }

    let mut published_as = None;
    if args.publish.publish {
        let (location, _) = ctx.locate()?;
        let handle = ctx.repository(&location, "enrich --publish")?;
        let commit = published::write(&handle.repo, &snapshot)
            .with_context(|| format!("publishing to {}", handle.label))?;
        if !args.publish.no_push {
            let sections = Sections::of(&opened.catalog)?;
            let creds = github_git_credentials(&sections, &|k| std::env::var(k).ok());
            published::push(&handle.repo, &args.publish.remote, &creds).with_context(|| {
                format!("pushing {} to {}", published::LIVE_REF, args.publish.remote)
            })?;
        }
        published_as = Some(commit.to_string());
    }

    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => {
            crate::output::live::enrich_summary(
                &mut out,
                ctx.ui,
                views.len(),
                &tallies_rows(&tallies),
            )?;
            if let Some(commit) = &published_as {
                let pushed = if args.publish.no_push {
                    "not pushed (--no-push)".to_string()
                } else {
                    format!("pushed to {}", args.publish.remote)
                };
                writeln!(
                    out,
                    "\nPublished {} at {} ({pushed}).",
                    published::LIVE_REF,
                    &commit[..12]
                )?;
            }
        }
        Some(data) => {
            #[derive(Serialize)]
            struct Report<'a> {
                entities: usize,
                integrations: &'a BTreeMap<String, Tally>,
                published: Option<&'a str>,
                snapshot: &'a crate::integrations::engine::LiveSnapshot,
            }
            write_data(
                &mut out,
                data,
                &Report {
                    entities: views.len(),
                    integrations: &tallies,
                    published: published_as.as_deref(),
                    snapshot: &snapshot,
                },
            )?;
        }
    }
    out.flush()?;
    Ok(Exit::Ok)
}

/// Says there is nothing to enrich; data formats get an empty report.
fn nothing_to_enrich(
    ctx: &Context,
    output: ViewFormat,
    why: &str,
    entities: usize,
) -> Result<Exit> {
    ctx.ui.warn(&format!(
        "nothing to enrich: {why}; nothing was fetched or published"
    ));
    if let Some(data) = output.data() {
        let mut out = ctx.ui.stdout();
        write_data(
            &mut out,
            data,
            &serde_json::json!({
                "entities": entities,
                "integrations": {},
                "published": null,
                "snapshot": crate::integrations::engine::LiveSnapshot::default(),
            }),
        )?;
        out.flush()?;
    }
    Ok(Exit::Ok)
}

/// Rows of the summary table: integration, ok, absent, unavailable, reasons.
fn tallies_rows(tallies: &BTreeMap<String, Tally>) -> Vec<[String; 5]> {
    tallies
        .iter()
        .map(|(name, t)| {
            let mut reasons: Vec<(&String, &usize)> = t.reasons.iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let text = reasons
                .iter()
                .take(3)
                .map(|(r, n)| format!("{n}× {}", crate::output::sanitize::line(r)))
                .collect::<Vec<_>>()
                // one line per integration: the table never wraps a cell
                .join("; ");
            [
                crate::output::sanitize::line_string(name.clone()),
                t.ok.to_string(),
                t.absent.to_string(),
                t.unavailable.to_string(),
                text,
            ]
        })
        .collect()
}
