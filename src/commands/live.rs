//! Live data for commands: builds the integrations engine from the
//! catalog's idp.yaml and the global flags, with a progress bar on a
//! terminal, and the published snapshot as a cache layer.

use std::sync::Arc;

use crate::command_error::Result;

use crate::catalog::discover::CatalogLocation;
use crate::catalog::open::Opened;
use crate::integrations::config::Kind;
use crate::integrations::config::Sections;
use crate::integrations::engine::LiveSnapshot;
use crate::integrations::{published, Engine, EntityView, LiveConfig, LiveOptions, Progress};
use idp::dora::config::{DoraConfig, DoraSection};
use idp::dora::inputs::{horizon, DoraInputs};
use idp::dora::DoraError;

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

/// What DORA's inputs are fetched for.
pub struct DoraWanted<'a> {
    /// The settings of `dora:`.
    pub config: &'a DoraConfig,
    /// The production environment.
    pub environment: &'a str,
    /// The window (the previous one is fetched too).
    pub window: std::time::Duration,
    /// The run's now.
    pub now: chrono::DateTime<chrono::Utc>,
}

/// The `dora:` section, resolved (a problem is a config error, exit 4).
pub fn dora_config(opened: &Opened) -> Result<DoraConfig> {
    let section = DoraSection::of(&opened.catalog)?;
    Ok(section.resolve().map_err(DoraError::Config)?)
}

/// Adds DORA's inputs to `engine`: read as the github (pagerduty, argocd)
/// entries of `config`. Fails without a github entry.
pub fn add_dora(engine: &mut Engine, config: &LiveConfig, wanted: &DoraWanted) -> Result<()> {
    let of = |k: Kind| config.integrations.iter().find(|c| c.kind == k);
    let github = of(Kind::Github).ok_or(DoraError::NoGithub)?;
    let inputs = DoraInputs::new(
        github,
        of(Kind::Pagerduty),
        of(Kind::Argocd),
        wanted.config,
        wanted.environment,
        horizon(wanted.now, wanted.window),
    );
    engine.add(inputs.entry(), inputs);
    Ok(())
}

/// An engine that fetches DORA's inputs only (`idp dora`). The published
/// snapshot is a layer only when it can hold what is asked: it is taken
/// for `dora.environment` over `dora.window` (and the one before).
pub fn dora_engine(ctx: &Context, opened: &Opened, wanted: &DoraWanted) -> Result<Setup> {
    dora_engine_with(ctx, opened, wanted, ctx.settings.offline)
}

/// DORA's inputs for `entities` from the cache and the published snapshot
/// only, never the network (`idp report`); why there are none otherwise.
pub fn dora_cached(
    ctx: &Context,
    opened: &Opened,
    wanted: &DoraWanted,
    entities: &[EntityView],
) -> std::result::Result<LiveSnapshot, String> {
    match dora_engine_with(ctx, opened, wanted, true) {
        Ok(Setup::Ready(engine)) => Ok(engine.fetch(entities)),
        Ok(Setup::Off(why)) => Err(why),
        Err(e) => Err(e.to_string()),
    }
}

fn dora_engine_with(
    ctx: &Context,
    opened: &Opened,
    wanted: &DoraWanted,
    offline: bool,
) -> Result<Setup> {
    if ctx.settings.no_live {
        return Ok(Setup::Off("live data turned off (--no-live)".into()));
    }
    let config = config(ctx, opened)?;
    if !config.integrations.iter().any(|c| c.kind == Kind::Github) {
        return Ok(Setup::Off(
            "no github integration configured in idp.yaml (integrations: github:)".into(),
        ));
    }
    if !wanted.config.enabled {
        return Ok(Setup::Off(
            "turned off in idp.yaml (dora.enabled: false)".into(),
        ));
    }
    let options = LiveOptions {
        offline,
        refresh: ctx.settings.refresh && !offline,
        only: vec![idp::dora::inputs::NAME.to_string()],
        progress: (ctx.settings.progress && ctx.ui.human)
            .then(|| Arc::new(Bar::default()) as Arc<dyn Progress>),
    };
    let mut engine = Engine::new(&config, &ctx.settings.dirs.cache.join("live"), options)?;
    add_dora(&mut engine, &config, wanted)?;
    let published_fits =
        wanted.environment == wanted.config.environment && wanted.window <= wanted.config.window;
    if published_fits {
        engine = engine.with_published(published_snapshot(ctx));
    }
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
pub fn cached(
    ctx: &Context,
    opened: &Opened,
    entities: impl FnOnce() -> Vec<EntityView>,
) -> Option<LiveSnapshot> {
    // Set up first: without integrations no entity view (a copy of each
    // descriptor) is built.
    match setup_with(ctx, opened, &[], true) {
        Ok(Setup::Ready(engine)) => Some(engine.fetch(&entities())),
        Ok(Setup::Off(_)) => None,
        Err(e) => {
            ctx.ui.warn(&format!("live data unavailable: {e}"));
            None
        }
    }
}

/// [`fetch`] plus DORA's keys under `live.dora` (for scorecards that read
/// them), over `dora.window` ending now; `None` (with a warning) when live
/// data is off or DORA cannot run.
pub fn fetch_with_dora(
    ctx: &Context,
    opened: &Opened,
    entities: &[EntityView],
) -> Option<LiveSnapshot> {
    let attempt = || -> Result<Option<LiveSnapshot>> {
        let mut engine = match setup(ctx, opened, &[])? {
            Setup::Ready(engine) => engine,
            Setup::Off(_) => return Ok(None),
        };
        let config = config(ctx, opened)?;
        let dora = dora_config(opened)?;
        let now = ctx.settings.now()?.with_timezone(&chrono::Utc);
        let wanted = DoraWanted {
            config: &dora,
            environment: &dora.environment,
            window: dora.window,
            now,
        };
        add_dora(&mut engine, &config, &wanted)?;
        let mut snapshot = engine.fetch(entities);
        idp::dora::into_facts(
            &mut snapshot,
            &idp::dora::Request {
                window: dora.window,
                environment: dora.environment.clone(),
                now,
                config: dora.clone(),
            },
        );
        Ok(Some(snapshot))
    };
    match attempt() {
        Ok(s) => s,
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
