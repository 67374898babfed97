//! Live data for commands: builds the integrations engine from the
//! catalog's idp.yaml and the global flags, with a progress bar on a
//! terminal, and the published snapshot as a cache layer.

use std::sync::Arc;

use crate::command_error::Result;

use crate::catalog::discover::CatalogLocation;
use crate::catalog::open::Opened;
use crate::integrations::config::Sections;
use crate::integrations::engine::LiveSnapshot;
use crate::integrations::{published, Engine, EntityView, LiveConfig, LiveOptions, Progress};

use super::Context;

/// Whether live data can be fetched, and if not, why.
pub enum Setup {
    /// Ready.
    Ready(Box<Engine>),
    /// Off: `--no-live`, or no integration configured.
    Off(String),
}

/// Resolves `integrations:` and `live:` with tokens from the environment
/// `main` captured.
pub fn config(ctx: &Context, opened: &Opened) -> Result<LiveConfig> {
    let sections = Sections::of(&opened.catalog)?;
    Ok(LiveConfig::resolve(
        &sections.integrations,
        &sections.live,
        &ctx.settings.env.lookup(),
    )?)
}

/// The engine for this command. `only` restricts integrations by name.
pub fn setup(ctx: &Context, opened: &Opened, only: &[String]) -> Result<Setup> {
    setup_with(ctx, opened, only, ctx.settings.offline)
}

/// [`setup`], offline when `offline` (cached data only, whatever its age).
fn setup_with(ctx: &Context, opened: &Opened, only: &[String], offline: bool) -> Result<Setup> {
    if ctx.settings.no_live {
        return Ok(Setup::Off("live data turned off (--no-live)".into()));
    }
    let config = config(ctx, opened)?;
    if config.is_empty() {
        return Ok(Setup::Off("no integrations configured in idp.yaml".into()));
    }
    let progress: Option<Arc<dyn Progress>> = (ctx.settings.progress && ctx.ui.human)
        .then(|| Arc::new(Bar::default()) as Arc<dyn Progress>);
    let options = LiveOptions {
        offline,
        refresh: ctx.settings.refresh,
        only: only.to_vec(),
        progress,
    };
    let engine = Engine::new(&config, &ctx.settings.dirs.cache.join("live"), options)?
        .with_published(published_snapshot(ctx));
    Ok(Setup::Ready(Box::new(engine)))
}

/// The snapshot on refs/idp/live of the catalog repository, if any. Any
/// problem reading it only means it is not used.
fn published_snapshot(ctx: &Context) -> Option<LiveSnapshot> {
    let (location, _) = ctx.locate().ok()?;
    // Starting libgit2 costs tens of milliseconds; a checkout without the
    // ref (most of them) is told by two file lookups.
    if let CatalogLocation::Dir(dir) = &location {
        if !published::may_have_ref(dir) {
            return None;
        }
    }
    let repo = ctx
        .repository(&location, "the published live snapshot")
        .ok()?;
    match published::read(&repo.repo) {
        Ok(s) => s,
        Err(e) => {
            ctx.ui
                .warn(&format!("ignoring the published live snapshot: {e}"));
            None
        }
    }
}

/// Fetches live data for `entities`, or says why there is none.
pub fn fetch(
    ctx: &Context,
    opened: &Opened,
    entities: &[EntityView],
) -> (Option<LiveSnapshot>, Option<String>) {
    match setup(ctx, opened, &[]) {
        Ok(Setup::Ready(engine)) => (Some(engine.fetch(entities)), None),
        Ok(Setup::Off(why)) => (None, Some(why)),
        Err(e) => {
            ctx.ui.warn(&format!("live data unavailable: {e}"));
            (None, Some(e.to_string()))
        }
    }
}

/// Live data for `entities` from the cache only (and the published
/// snapshot), never the network: what `idp report` shows, with its age.
pub fn cached(ctx: &Context, opened: &Opened, entities: &[EntityView]) -> Option<LiveSnapshot> {
    match setup_with(ctx, opened, &[], true) {
        Ok(Setup::Ready(engine)) => Some(engine.fetch(entities)),
        Ok(Setup::Off(_)) => None,
        Err(e) => {
            ctx.ui.warn(&format!("live data unavailable: {e}"));
            None
        }
    }
}

/// An indicatif bar on stderr, shown only when there are more than a
/// handful of fetches.
#[derive(Default)]
struct Bar {
    bar: std::sync::OnceLock<indicatif::ProgressBar>,
}

/// Fewer fetches than this finish before a bar would be worth drawing.
const BAR_THRESHOLD: u64 = 6;

impl Progress for Bar {
    fn begin(&self, total: u64) {
        let bar = if total >= BAR_THRESHOLD {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} live data {pos}/{len} [{bar:30}] {elapsed}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            // Drawn at once and kept ticking: the first answers can take a
            // while when many requests queue for one host.
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        let _ = self.bar.set(bar);
    }

    fn advance(&self) {
        if let Some(b) = self.bar.get() {
            b.inc(1);
        }
    }

    fn end(&self) {
        if let Some(b) = self.bar.get() {
            b.finish_and_clear();
        }
    }
}
