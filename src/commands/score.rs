//! `idp score [ENTITY…]`: evaluate the catalog's scorecards and gate on them.

use std::collections::HashSet;
use std::io::Write;
use std::sync::Arc;

use crate::command_error::Result;

use crate::catalog::discover::CatalogLocation;
use crate::catalog::open::Opened;
use crate::catalog::resolve::resolve;
use crate::catalog::snapshot::Snapshot;
use crate::catalog::{Catalog, Entity};
use crate::cli::{ScoreArgs, UnknownArg};
use crate::exit::Exit;
use crate::integrations::engine::LiveSnapshot;
use crate::integrations::EntityView;
use crate::output::format::ScoreFormat;
use crate::output::score::{junit, markdown, sarif, table, ScoreReport};
use crate::output::{write_data, Data};
use idp::score::evaluate::evaluate_cached;
use idp::score::facts::Facts;
use idp::score::functions::Files;
use idp::score::gate::{decide, Gate};
use idp::score::{self, CardResult, NoIntegrations, RunOptions, Scorecards, UnknownPolicy};

use super::live::Setup;

use super::show::display_path;
use super::{Context, Index, Open, UsageError};

pub fn run(ctx: &Context, args: ScoreArgs) -> Result<Exit> {
    let Scored {
        set,
        results,
        gate,
        catalog,
    } = scored(ctx, &args, None)?;
    let mut out = ctx.ui.stdout();
    let report = ScoreReport {
        results: &results,
        gate: &gate,
    };
    match args.output {
        ScoreFormat::Table => table(&mut out, ctx.ui, &set, &results, &gate)?,
        ScoreFormat::Junit => junit(&mut out, &set, &results)?,
        ScoreFormat::Markdown => markdown(&mut out, &set, &results, &gate)?,
        ScoreFormat::Sarif => {
            let uri = |file: &str| display_path(&catalog.origin.location, file);
            sarif(&mut out, &set, &results, &uri)?
        }
        ScoreFormat::Json => write_data(&mut out, Data::Json, &report)?,
        ScoreFormat::Yaml => write_data(&mut out, Data::Yaml, &report)?,
    }
    out.flush()?;
    Ok(if gate.passed { Exit::Ok } else { Exit::Failed })
}

/// A scoring run: the scorecards, one result per entity × scorecard, the
/// gate, and the catalog scored. `results` and `gate` are the `score -o
/// json` contract ([`ScoreReport`]).
pub struct Scored<'a> {
    /// The scorecards evaluated.
    pub set: Scorecards,
    /// One entry per entity × scorecard that applies.
    pub results: Vec<CardResult>,
    /// The gate.
    pub gate: Gate,
    /// The catalog scored.
    pub catalog: &'a Catalog,
}

/// Scores as `args` say, on `warm` (a catalog already open, e.g. the MCP
/// server's) or on the catalog the flags name.
pub fn scored<'a>(ctx: &Context, args: &ScoreArgs, warm: Option<&'a Opened>) -> Result<Scored<'a>> {
    let now = ctx.settings.now()?;
    let (location, _) = ctx.locate()?;
    let mut opened = match warm {
        Some(opened) => opened,
        None => ctx.open_at(&location, Open::INDEXED)?,
    };
    let (mut all, _) = scorecards(ctx, &opened.catalog)?;
    if all.uses_files() && opened.snapshot.is_none() {
        // file_exists / file_contains read the catalog's files: load without the index.
        opened = ctx.open_at(&location, Open::PARSED)?;
        all = scorecards(ctx, &opened.catalog)?.0;
    }
    let catalog = &opened.catalog;
    let set = select(all, &args.scorecard)?;
    check_min_level(&set, args.min_level.as_deref())?;
    let opts = RunOptions {
        now,
        unknown: match args.unknown {
            UnknownArg::Ignore => UnknownPolicy::Ignore,
            UnknownArg::Fail => UnknownPolicy::Fail,
        },
    };

    let mut wanted: Option<HashSet<String>> = None;
    if !args.entities.is_empty() {
        let keys = args
            .entities
            .iter()
            .map(|e| resolve(catalog, e).map(|e| e.entity_ref().key()))
            .collect::<Result<HashSet<_>, _>>()?;
        wanted = Some(keys);
    }
    if let Some(rev) = &args.changed_since {
        let before = open_rev(ctx, &location, rev, Index::Use)?;
        let changed = score::changed_entities(&before.catalog, catalog);
        wanted = Some(match wanted {
            Some(w) => w.intersection(&changed).cloned().collect(),
            None => changed,
        });
    }
    let facts = live_facts(ctx, &set, opened, wanted.as_ref());
    let cache = CacheUse::ReadWrite;
    let results = run_on(
        ctx,
        &set,
        opened,
        wanted.as_ref(),
        facts.as_ref(),
        &opts,
        cache,
    );
    let baseline = match &args.compare {
        Some(rev) => {
            let before = open_rev(ctx, &location, rev, index_for(&set))?;
            Some(run_on(
                ctx,
                &set,
                before,
                wanted.as_ref(),
                facts.as_ref(),
                &opts,
                cache,
            ))
        }
        None => None,
    };
    let gate = decide(
        &set,
        &results,
        args.min_level.as_deref(),
        baseline.as_deref(),
    );
    Ok(Scored {
        set,
        results,
        gate,
        catalog,
    })
}

/// The catalog's scorecards; an invalid one is a usage error (exit 2),
/// warnings go to stderr.
pub fn scorecards(ctx: &Context, catalog: &Catalog) -> Result<(Scorecards, usize)> {
    let (set, problems) = score::load(catalog);
    let mut errors = Vec::new();
    for (entity, issues) in &problems {
        let at = format!(
            "{}:{}",
            display_path(&catalog.origin.location, &entity.source.file),
            entity.source.line
        );
        for i in issues {
            let text = format!(
                "scorecard {} ({at}): {}: {}",
                entity.name, i.field, i.message
            );
            if i.is_error() {
                errors.push(text);
            } else {
                ctx.ui.warn(&text);
            }
        }
    }
    if !errors.is_empty() {
        return Err(UsageError(format!(
            "invalid scorecard{}:\n  {}\n  (`idp validate` shows each at file:line:column)",
            if errors.len() == 1 { "" } else { "s" },
            errors.join("\n  ")
        ))
        .into());
    }
    let n = set.cards.len();
    Ok((set, n))
}

fn select(set: Scorecards, names: &[String]) -> Result<Scorecards> {
    if set.cards.is_empty() {
        return Err(UsageError(
            "the catalog has no scorecards; add `kind: Scorecard` documents (apiVersion idp.dev/v1alpha1), e.g. scorecards/*.yaml".into(),
        )
        .into());
    }
    if names.is_empty() {
        return Ok(set);
    }
    let valid: Vec<String> = set.cards.iter().map(|c| c.name.clone()).collect();
    for n in names {
        if set.get(n).is_none() {
            return Err(UsageError(format!(
                "no scorecard named '{n}'; the catalog has: {}",
                valid.join(", ")
            ))
            .into());
        }
    }
    let cards = set
        .cards
        .into_iter()
        .filter(|c| names.iter().any(|n| n.eq_ignore_ascii_case(&c.name)))
        .collect();
    Ok(Scorecards::new(cards))
}

fn check_min_level(set: &Scorecards, min: Option<&str>) -> Result<()> {
    let Some(min) = min else { return Ok(()) };
    let lacking: Vec<String> = set
        .cards
        .iter()
        .filter(|c| c.level_index(min).is_none())
        .map(|c| format!("{} has {}", c.name, c.level_ids().join(", ")))
        .collect();
    if lacking.is_empty() {
        return Ok(());
    }
    Err(UsageError(format!(
        "--min-level '{min}' is not a level of every scorecard scored ({}); pick one with --scorecard",
        lacking.join("; ")
    ))
    .into())
}

fn open_rev(
    ctx: &Context,
    location: &CatalogLocation,
    rev: &str,
    index: Index,
) -> Result<&'static Opened> {
    ctx.open_rev(location, Some(rev), Open::with_index(index))
}

/// Scorecards that read files (`file_exists`, `file_contains`) need every
/// file, which the index does not keep.
fn index_for(set: &Scorecards) -> Index {
    if set.uses_files() {
        Index::Skip
    } else {
        Index::Use
    }
}

/// How a run uses the score cache (`$XDG_CACHE_HOME/idp/score/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheUse {
    /// Answer from it and store fresh results (`score`).
    ReadWrite,
    /// Answer from it only (`show`, `list`: scoring one entity must not
    /// rewrite the file).
    Read,
}

/// Scores the entities of one catalog state (all, or the `wanted` keys),
/// answering from the score cache where it still holds.
pub fn run_on(
    ctx: &Context,
    set: &Scorecards,
    opened: &Opened,
    wanted: Option<&HashSet<String>>,
    facts: &dyn Facts,
    opts: &RunOptions,
    cache: CacheUse,
) -> Vec<CardResult> {
    let mut results = Vec::new();
    run_in_slices(
        ctx,
        set,
        opened,
        wanted,
        facts,
        opts,
        cache,
        usize::MAX,
        &mut |r| results.extend(r),
    );
    results
}

/// [`run_on`], handing the results to `each` a slice of `slice` entities
/// at a time (so a caller that keeps less than a [`CardResult`] never holds
/// them all), with the score cache read once for the whole run.
#[allow(clippy::too_many_arguments)]
pub fn run_in_slices(
    ctx: &Context,
    set: &Scorecards,
    opened: &Opened,
    wanted: Option<&HashSet<String>>,
    facts: &dyn Facts,
    opts: &RunOptions,
    cache: CacheUse,
    slice: usize,
    each: &mut dyn FnMut(Vec<CardResult>),
) {
    let entities: Vec<&Entity> = opened
        .catalog
        .entities
        .iter()
        .filter(|e| wanted.is_none_or(|w| w.contains(&e.entity_ref().key())))
        .collect();
    let files: Option<Arc<dyn Files>> = opened
        .snapshot
        .as_ref()
        .map(|s| Arc::new(SnapshotFiles(s.clone())) as Arc<dyn Files>);
    let path = score::cache::path(&ctx.settings.dirs.cache, &opened.catalog.origin);
    // Absent, stale or damaged: start empty and rebuild.
    let read = match cache {
        CacheUse::Read => read_shared(&path),
        CacheUse::ReadWrite => score::cache::read(&path).map(Arc::new),
    };
    let stored: Arc<score::cache::ResultCache> = match read {
        Ok(stored) => stored,
        Err(miss) => {
            if matches!(miss, score::cache::Miss::Corrupt { .. }) {
                ctx.ui.note(&miss.to_string());
            }
            Default::default()
        }
    };
    let mut seen = Vec::new();
    for chunk in entities.chunks(slice.max(1)) {
        let run = evaluate_cached(set, chunk, facts, files.clone(), opts, Some(&stored));
        seen.extend(run.seen);
        each(run.results);
    }
    let hits = seen
        .iter()
        .filter(|s| matches!(s, score::cache::Seen::Hit(..)))
        .count();
    ctx.ui.note(&format!(
        "score cache: {hits} of {} results reused, {} evaluated",
        seen.len(),
        seen.len() - hits
    ));
    if cache == CacheUse::ReadWrite {
        // Read fresh for this run above, so this is the only reference.
        if let Ok(mut stored) = Arc::try_unwrap(stored) {
            if stored.update(seen) {
                score::cache::write(&path, &stored);
            }
        }
    }
}

/// The score cache for read-only use, kept decoded while its file is
/// unchanged (same size, mtime and inode; writers replace it by rename).
/// `idp mcp` scores one entity per `get_entity` call, and decoding the
/// whole cache each time (30,000 results at 10,000 entities) was 20 ms.
fn read_shared(
    path: &std::path::Path,
) -> Result<Arc<score::cache::ResultCache>, score::cache::Miss> {
    use std::os::unix::fs::MetadataExt;
    use std::sync::Mutex;
    type Stamp = (u64, i64, i64, u64);
    type Memo = Option<(std::path::PathBuf, Stamp, Arc<score::cache::ResultCache>)>;
    static MEMO: Mutex<Memo> = Mutex::new(None);
    let meta = std::fs::metadata(path).map_err(|_| score::cache::Miss::Absent)?;
    let stamp: Stamp = (meta.len(), meta.mtime(), meta.mtime_nsec(), meta.ino());
    if let Ok(memo) = MEMO.lock() {
        if let Some((p, s, cached)) = memo.as_ref() {
            if p == path && *s == stamp {
                return Ok(cached.clone());
            }
        }
    }
    let fresh = Arc::new(score::cache::read(path)?);
    if let Ok(mut memo) = MEMO.lock() {
        *memo = Some((path.to_path_buf(), stamp, fresh.clone()));
    }
    Ok(fresh)
}

/// `facts` plus `live.cost` for the entities a run scores, from the cost
/// data commands use in passing (the cache or the published aggregate,
/// never a billing file read; see `cost::in_passing`).
pub fn with_cost<F: Facts>(
    ctx: &Context,
    set: &Scorecards,
    opened: &Opened,
    wanted: Option<&HashSet<String>>,
    facts: F,
) -> idp::score::facts::WithCost<F> {
    let catalog = &opened.catalog;
    let mut cost = std::collections::BTreeMap::new();
    let missing = match super::cost::in_passing(ctx, catalog) {
        None => "no cost data (no cached aggregate of cost.sources, no refs/idp/cost; run `idp cost` or `idp sync`)".to_string(),
        Some(loaded) => {
            let today = idp::cost::day_of(ctx.settings.today());
            for e in catalog
                .entities
                .iter()
                .filter(|e| wanted.is_none_or(|w| w.contains(&e.entity_ref().key())))
                .filter(|e| set.applies_to_kind(&e.kind))
            {
                let s = idp::cost::entity_last_month(&loaded, catalog, e, today);
                if let Some(v) = idp::cost::facts(&s) {
                    cost.insert(e.entity_ref().key(), v);
                }
            }
            "no cost for this entity last month".to_string()
        }
    };
    idp::score::facts::WithCost {
        inner: facts,
        cost,
        missing,
    }
}

/// Live facts for the entities a run scores, fetched only when a scorecard
/// reads `live`; otherwise (or with live data off) none, and rules that
/// need them are `unknown` with the reason.
pub fn live_facts(
    ctx: &Context,
    set: &Scorecards,
    opened: &Opened,
    wanted: Option<&HashSet<String>>,
) -> Box<dyn Facts> {
    if !set.uses_live() {
        return Box::new(NoIntegrations);
    }
    let views = || -> Vec<EntityView> {
        opened
            .catalog
            .entities
            .iter()
            .filter(|e| wanted.is_none_or(|w| w.contains(&e.entity_ref().key())))
            .filter(|e| set.applies_to_kind(&e.kind))
            .map(EntityView::of)
            .collect()
    };
    if set.reads_live(idp::dora::inputs::NAME) {
        return match super::live::fetch_with_dora(ctx, opened, &views()) {
            Some(snapshot) => Box::new(snapshot),
            None => Box::new(NoIntegrations),
        };
    }
    // Set up first: without integrations, no entity's descriptor is read
    // (a warm run answered from the score cache parses none).
    let base: Box<dyn Facts> = match super::live::setup(ctx, opened, &[]) {
        Ok(Setup::Ready(engine)) => Box::new(engine.fetch(&views())),
        Ok(Setup::Off(_)) => Box::new(NoIntegrations),
        Err(e) => {
            ctx.ui.warn(&format!("live data unavailable: {e}"));
            Box::new(NoIntegrations)
        }
    };
    if set.uses_cost() {
        Box::new(with_cost(ctx, set, opened, wanted, base))
    } else {
        base
    }
}

/// The catalog snapshot of this run, as the file functions read it.
struct SnapshotFiles(Arc<dyn Snapshot>);

impl Files for SnapshotFiles {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.0.read(path).ok()
    }

    fn exists(&self, path: &str) -> bool {
        let dir = format!("{path}/");
        self.0.size(path).is_some() || self.0.files().iter().any(|f| f.path.starts_with(&dir))
    }
}

/// Scorecard results for `show` and `list` (the entities with `keys`, or
/// all): invalid scorecards are left out with a warning instead of failing
/// the command; `only` keeps one scorecard.
pub fn results_for(
    ctx: &Context,
    opened: &Opened,
    keys: Option<&HashSet<String>>,
    only: Option<&str>,
    live: Option<&LiveSnapshot>,
) -> Result<(Scorecards, Vec<CardResult>)> {
    let (set, problems) = score::load(&opened.catalog);
    for (entity, issues) in &problems {
        if issues.iter().any(|i| i.is_error()) {
            ctx.ui.warn(&format!(
                "scorecard {} is invalid and left out; `idp validate` shows why",
                entity.name
            ));
        }
    }
    let set = match only {
        Some(name) => select(set, &[name.to_string()])?,
        None => set,
    };
    if set.cards.is_empty() {
        return Ok((set, Vec::new()));
    }
    let opened = if set.uses_files() && opened.snapshot.is_none() {
        let (location, _) = ctx.locate()?;
        ctx.open_at(&location, Open::PARSED)?
    } else {
        opened
    };
    let opts = RunOptions {
        now: ctx.settings.now()?,
        unknown: UnknownPolicy::Ignore,
    };
    let cache = CacheUse::Read;
    let results = match live {
        Some(snapshot) if set.uses_cost() => {
            let facts = with_cost(ctx, &set, opened, keys, snapshot);
            run_on(ctx, &set, opened, keys, &facts, &opts, cache)
        }
        Some(snapshot) => run_on(ctx, &set, opened, keys, snapshot, &opts, cache),
        None => {
            let facts = live_facts(ctx, &set, opened, keys);
            run_on(ctx, &set, opened, keys, facts.as_ref(), &opts, cache)
        }
    };
    Ok((set, results))
}

/// `list --level L --scorecard NAME`: keys of the entities (among `keys`)
/// at exactly level `level` (`none`: scored but below the first level).
pub fn entities_at_level(
    ctx: &Context,
    opened: &Opened,
    keys: &HashSet<String>,
    card: &str,
    level: &str,
) -> Result<HashSet<String>> {
    let (set, results) = results_for(ctx, opened, Some(keys), Some(card), None)?;
    let sc = &set.cards[0];
    let wanted = if level.eq_ignore_ascii_case("none") {
        None
    } else {
        Some(sc.level_index(level).ok_or_else(|| {
            UsageError(format!(
                "--level '{level}' is not a level of scorecard {}; use one of: {}, none",
                sc.name,
                sc.level_ids().join(", ")
            ))
        })?)
    };
    Ok(results
        .into_iter()
        .filter(|r| r.level_index == wanted)
        .map(|r| {
            idp::catalog::EntityRef::parse(&r.entity, None, "default")
                .map(|e| e.key())
                .unwrap_or(r.entity)
        })
        .collect())
}
