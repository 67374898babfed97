//! `idp report`: gathers what the core knows (catalog, scores, history,
//! trend, cached on-call) into `report::Inputs`, renders the site and says
//! what it wrote. The pages themselves are built in `idp::report`.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};

use crate::command_error::Result;

use crate::catalog::discover::CatalogLocation;
use crate::catalog::history::{commit_at, recent_changes, CatalogChange};
use crate::catalog::open::{open, CatalogRepo, OpenOptions, Opened};
use crate::catalog::overlay;
use crate::catalog::relations::RelationType;
use crate::catalog::remote::FetchPolicy;
use crate::cli::ReportArgs;
use crate::exit::Exit;
use crate::integrations::config::Kind;
use crate::integrations::pagerduty::oncall_from_facts;
use crate::integrations::{EntityView, Status};
use idp::report::dora::DoraSection;
use idp::report::site::{write_single, Site};
use idp::report::{render, Inputs, Mode, OnCallInfo, OnCallPerson, Score, Section, TrendPoint};
use idp::score::facts::Facts;
use idp::score::{self, NoIntegrations, RunOptions, Scorecards, UnknownPolicy};

use super::score::{run_in_slices, run_on, CacheUse};
use super::{live, Context, Open};

pub fn run(ctx: &Context, args: ReportArgs) -> Result<Exit> {
    let started = Instant::now();
    return_freed_memory_sooner();
    let now = ctx.settings.now()?;
    // Check the destination first: a refused directory costs nothing.
    let site = match &args.output_dir {
        Some(dir) => Some(Site::open(dir, args.force)?),
        None => None,
    };
    let (location, _) = ctx.locate()?;
    let first = ctx.open_owned(&location, Open::INDEXED)?;
    let (set, problems) = score::load(&first.catalog);
    for (entity, issues) in &problems {
        for i in issues.iter().filter(|i| i.is_error()) {
            ctx.ui.warn(&format!(
                "scorecard {} left out of the report: {}: {}",
                entity.name, i.field, i.message
            ));
        }
    }
    let opened: &'static Opened = if set.uses_files() && first.snapshot.is_none() {
        drop(first);
        ctx.open_at(&location, Open::PARSED)?
    } else if !first.catalog.indexed && !set.uses_files() {
        // Read from the files (no index yet): read again from the index
        // that was just written, whose descriptors stay text until a page
        // needs one (about 100 MB less at 10k entities than parsed values).
        let rev = ctx.revision(&location)?;
        let again = read_indexed(&location, rev.as_deref(), &ctx.settings.dirs);
        match again {
            Ok(again) if again.catalog.indexed => {
                drop(first);
                Box::leak(Box::new(again))
            }
            _ => Box::leak(Box::new(first)),
        }
    } else {
        Box::leak(Box::new(first))
    };
    let (set, _) = score::load(&opened.catalog);
    let opts = RunOptions {
        now,
        unknown: UnknownPolicy::Ignore,
    };
    let cached = cached_live(ctx, opened, &set);
    let facts: &dyn Facts = match &cached {
        Some(s) if set.uses_live() => s,
        _ => &NoIntegrations,
    };
    let results = score_all(ctx, &set, opened, facts, &opts);
    ctx.ui.note(&format!(
        "report: catalog read and scored in {:.2}s",
        started.elapsed().as_secs_f64()
    ));

    // History: recent changes and the weekly trend, from the commit read
    // (HEAD for the working tree). A catalog outside git has neither.
    let mut changes: Vec<CatalogChange> = Vec::new();
    let revision = match ctx.revision(&location)? {
        Some(rev) => rev,
        None => "the working tree".to_string(),
    };
    // The history walk reads many pack windows; libgit2 keeps them mapped
    // (8 GB allowed by default), which shows as resident memory. A smaller
    // budget costs nothing measurable here.
    // SAFETY: no other thread uses libgit2 while this runs.
    unsafe {
        let _ = git2::opts::set_mwindow_mapped_limit(64 << 20);
    }
    // The trend is only on scorecard pages: it is worked out on a thread of
    // its own while the history is read and the entity pages render, and
    // the scorecard pages, rendered last, wait for it.
    let trend = std::sync::OnceLock::new();
    // Set once the trend's first (and only large) catalog read is done:
    // pages start rendering after it, so the two do not add up in memory.
    let ready = std::sync::OnceLock::new();
    let mut trend_job: Option<TrendJob> = None;
    let repository = match ctx.repository(&location, "the report's history") {
        Ok(handle) => {
            let rev = ctx.revision(&location)?;
            let start = handle.commit(rev.as_deref())?;
            if args.weeks > 0 && !set.cards.is_empty() {
                trend_job = Some(TrendJob {
                    weeks: week_commits(&handle, start, &opts, args.weeks),
                    git_dir: handle.repo.path().to_path_buf(),
                    subdir: handle.subdir.clone(),
                    label: handle.label.clone(),
                });
            }
            Some((handle, start))
        }
        Err(e) => {
            ctx.ui
                .note(&format!("no history or trend in the report: {e}"));
            None
        }
    };
    if trend_job.is_none() {
        let _ = ready.set(());
        let _ = trend.set(Vec::new());
    }
    let oncall = oncall(ctx, opened, cached.as_ref(), now);
    let dora = dora_section(ctx, opened, now);

    // The cost block, from cost data already at hand (never billing files).
    let cost = super::cost::in_passing(ctx, &opened.catalog).map(|l| {
        idp::report::cost::CostSection::new(
            &l.aggregate,
            &opened.catalog,
            idp::cost::day_of(ctx.settings.today()),
        )
    });
    // Cost before delivery on every page that shows both.
    let sections: Vec<&dyn Section> = cost
        .iter()
        .map(|c| c as &dyn Section)
        .chain(dora.iter().map(|d| d as &dyn Section))
        .collect();
    let (rendered, written, place, bar) = std::thread::scope(|scope| -> Result<_> {
        if let Some(job) = &trend_job {
            let (trend, ready, location, set, results) =
                (&trend, &ready, &location, &set, &results);
            scope.spawn(move || {
                // Its own pool: in the shared one, its parallel parts would
                // wait behind the page rendering. Two threads, as its first
                // catalog read is done before pages render.
                let work = || {
                    weekly_trend(
                        ctx, location, job, opened, set, results, facts, &opts, ready,
                    )
                };
                let computed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    match rayon::ThreadPoolBuilder::new().num_threads(2).build() {
                        Ok(pool) => pool.install(work),
                        Err(_) => work(),
                    }
                }));
                let points = match &computed {
                    Ok(Ok(points)) => points.clone(),
                    Ok(Err(e)) => {
                        ctx.ui
                            .warn(&format!("no scorecard trend in the report: {e}"));
                        Vec::new()
                    }
                    Err(_) => Vec::new(),
                };
                // Set before a panic goes on, so no page waits forever.
                let _ = ready.set(());
                let _ = trend.set(points);
                ctx.ui.note(&format!(
                    "report: trend computed by {:.2}s",
                    started.elapsed().as_secs_f64()
                ));
                if let Err(panic) = computed {
                    std::panic::resume_unwind(panic);
                }
            });
        }
        if let Some((handle, start)) = &repository {
            if args.history > 0 {
                // Each blob is read about once: libgit2's object cache
                // would only keep them resident.
                git2::opts::enable_caching(false);
                let read = recent_changes(&handle.repo, *start, &handle.subdir, args.history);
                git2::opts::enable_caching(true);
                changes = read?;
                ctx.ui.note(&format!(
                    "report: history read by {:.2}s",
                    started.elapsed().as_secs_f64()
                ));
            }
        }
        ready.wait();
        let inputs = Inputs {
            catalog: &opened.catalog,
            scorecards: &set,
            results: &results,
            changes: &changes,
            trend: &trend,
            oncall: &oncall,
            now,
            revision: revision_label(&revision),
            sections: &sections,
        };
        let bar = progress_bar(ctx, &inputs);
        let tick = |n: u64| {
            if let Some(b) = &bar {
                b.inc(n);
            }
        };
        Ok(match (site, &args.single_file) {
            (Some(site), _) => {
                let rendered = render(&inputs, Mode::Site, &|p, b| site.write(p, b), &tick)?;
                let dir = args.output_dir.clone().unwrap_or_default();
                (rendered, site.finish()?, dir, bar)
            }
            (None, Some(file)) => {
                let html = std::sync::Mutex::new(Vec::new());
                let rendered = render(
                    &inputs,
                    Mode::SingleFile,
                    &|_, b| {
                        html.lock().expect("not poisoned").extend_from_slice(b);
                        Ok(())
                    },
                    &tick,
                )?;
                let html = html.into_inner().expect("not poisoned");
                (
                    rendered,
                    write_single(file, &html, args.force)?,
                    file.clone(),
                    bar,
                )
            }
            (None, None) => unreachable!("clap requires --output-dir or --single-file"),
        })
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut out = ctx.ui.stdout();
    writeln!(
        out,
        "Wrote {} pages ({} file{}, {}) to {} in {:.1}s{}",
        rendered.pages,
        written.files,
        if written.files == 1 { "" } else { "s" },
        size(written.bytes),
        place.display(),
        started.elapsed().as_secs_f64(),
        if written.removed > 0 {
            format!(
                "; removed {} file(s) of the previous report",
                written.removed
            )
        } else {
            String::new()
        }
    )?;
    out.flush()?;
    Ok(Exit::Ok)
}

/// The catalog at `rev` through the index (read, or built and written),
/// quietly and offline: for the report's second readings of a catalog it
/// has already opened once (the command's own opening said what there was
/// to say, and fetched).
fn read_indexed(
    location: &CatalogLocation,
    rev: Option<&str>,
    dirs: &crate::catalog::config::Dirs,
) -> std::result::Result<Opened, crate::catalog::error::CatalogError> {
    open(&OpenOptions {
        location,
        rev,
        fetch: FetchPolicy {
            offline: true,
            force: false,
            interval: Duration::from_secs(3600),
        },
        dirs,
        use_index: true,
        extra_files: &[],
        defer_index_write: false,
    })
}

/// mimalloc gives freed memory back to the system 10 ms after it is freed
/// (`purge_delay`); a report frees large amounts in waves (the first read
/// of a catalog, each older week's catalog, each page), and at the default
/// their sum showed as ~55 MB more peak memory at 10k entities. 1 ms costs
/// about 0.1 s of system time there.
fn return_freed_memory_sooner() {
    /// `mi_option_purge_delay` in mimalloc's `mi_option_t` (mimalloc.h; the
    /// Rust binding names only some of the options).
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets a plain integer option, read by the allocator on purge.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1) };
}

/// Every entity's results, scored a slice at a time and kept slim
/// ([`Score`]): the full results of a large catalog would hold a copy of
/// every rule's title and level for every entity.
fn score_all(
    ctx: &Context,
    set: &Scorecards,
    opened: &'static Opened,
    facts: &dyn Facts,
    opts: &RunOptions,
) -> Vec<Score> {
    const SLICE: usize = 1000;
    let mut out = Vec::new();
    run_in_slices(
        ctx,
        set,
        opened,
        None,
        facts,
        opts,
        CacheUse::ReadWrite,
        SLICE,
        &mut |results| {
            for r in results {
                if let Some(card) = set.get(&r.scorecard) {
                    out.push(Score::of(card, r));
                }
            }
        },
    );
    out
}

/// The keys of a catalog's entities.
fn keys_of(catalog: &crate::catalog::Catalog) -> Vec<String> {
    catalog
        .entities
        .iter()
        .map(|e| e.entity_ref().key())
        .collect()
}

fn revision_label(rev: &str) -> String {
    if rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()) {
        format!("commit {}", &rev[..12])
    } else {
        rev.to_string()
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.0} kB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

fn progress_bar(ctx: &Context, inputs: &Inputs) -> Option<indicatif::ProgressBar> {
    let total = inputs.catalog.entities.len() + 3 + inputs.scorecards.cards.len();
    if !(ctx.settings.progress && ctx.ui.human) || total < 200 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} report pages {pos}/{len} [{bar:30}] {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

/// Cached live data for what the report shows live: the owners (on-call)
/// and, when a scorecard reads `live`, the entities it scores.
fn cached_live(
    ctx: &Context,
    opened: &'static Opened,
    set: &Scorecards,
) -> Option<crate::integrations::engine::LiveSnapshot> {
    let catalog = &opened.catalog;
    let owners: HashSet<String> = catalog
        .entities
        .iter()
        .flat_map(|e| e.related(RelationType::OwnedBy))
        .map(|r| r.key())
        .collect();
    let wanted: Vec<&crate::catalog::Entity> = catalog
        .entities
        .iter()
        .filter(|e| {
            owners.contains(&e.entity_ref().key())
                || (set.uses_live() && set.applies_to_kind(&e.kind))
        })
        .collect();
    if wanted.is_empty() {
        return None;
    }
    // The views (each a copy of a descriptor) only when integrations are set up.
    live::cached(ctx, opened, || {
        wanted.iter().map(|e| EntityView::of(e)).collect()
    })
}

/// Who is on call for each owner, from the cached PagerDuty answers.
fn oncall(
    ctx: &Context,
    opened: &Opened,
    cached: Option<&crate::integrations::engine::LiveSnapshot>,
    now: DateTime<FixedOffset>,
) -> BTreeMap<String, OnCallInfo> {
    let mut out = BTreeMap::new();
    let Some(snapshot) = cached else {
        return out;
    };
    let pagerduty: Vec<String> = live::config(ctx, opened)
        .map(|c| {
            c.integrations
                .iter()
                .filter(|i| i.kind == Kind::Pagerduty)
                .map(|i| i.name.clone())
                .collect()
        })
        .unwrap_or_default();
    for (key, outcomes) in &snapshot.entities {
        for name in &pagerduty {
            let Some(o) = outcomes.get(name).filter(|o| o.status == Status::Ok) else {
                continue;
            };
            let people = oncall_from_facts(&o.facts);
            if people.is_empty() {
                continue;
            }
            let age = (now.with_timezone(&chrono::Utc) - o.fetched_at)
                .to_std()
                .unwrap_or_default();
            // Minutes are precise enough and keep the words short.
            let age = humantime::format_duration(Duration::from_secs(age.as_secs() / 60 * 60))
                .to_string();
            out.insert(
                key.clone(),
                OnCallInfo {
                    people: people
                        .into_iter()
                        .map(|p| OnCallPerson {
                            name: p.name,
                            email: p.email,
                            level: p.level,
                        })
                        .collect(),
                    age: if age == "0s" {
                        "less than a minute".into()
                    } else {
                        age
                    },
                    integration: name.clone(),
                },
            );
            break;
        }
    }
    out
}

/// Scorecard levels at the end of each of the last `weeks` weeks, oldest
/// first. Today's scorecards are applied to the catalog as it was; an
/// entity whose descriptor is unchanged since keeps today's level, so only
/// changed entities are scored again.
#[allow(clippy::too_many_arguments)]
/// What the trend thread needs: the commit current at the end of each
/// week, and where the repository is.
struct TrendJob {
    /// (week's last day, commit), newest first.
    weeks: Vec<(String, git2::Oid)>,
    git_dir: std::path::PathBuf,
    subdir: String,
    label: String,
}

/// The commit current at the end of each of the last `weeks` weeks, newest
/// first, stopping before the first commit.
fn week_commits(
    handle: &CatalogRepo,
    start: git2::Oid,
    opts: &RunOptions,
    weeks: usize,
) -> Vec<(String, git2::Oid)> {
    let mut out = Vec::new();
    for week in 1..=weeks {
        let when = opts.now - chrono::Duration::days(7 * week as i64);
        let Ok(commit) = commit_at(
            &handle.repo,
            start,
            std::time::SystemTime::from(when.with_timezone(&chrono::Utc)),
            &handle.label,
        ) else {
            break; // before the first commit
        };
        out.push((when.format("%Y-%m-%d").to_string(), commit));
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn weekly_trend(
    ctx: &Context,
    location: &CatalogLocation,
    job: &TrendJob,
    current: &'static Opened,
    set: &Scorecards,
    results: &[Score],
    facts: &dyn Facts,
    opts: &RunOptions,
    ready: &std::sync::OnceLock<()>,
) -> Result<Vec<TrendPoint>> {
    let slot = |i: Option<usize>| i.map_or(0, |i| i + 1);
    let today: BTreeMap<(&str, String), usize> = results
        .iter()
        .map(|r| {
            (
                (r.scorecard.as_str(), r.entity.to_ascii_lowercase()),
                slot(r.level_index),
            )
        })
        .collect();
    // Several weeks may share one commit: each is counted once.
    let weeks_at = &job.weeks;
    let mut commits: Vec<git2::Oid> = weeks_at.iter().map(|(_, c)| *c).collect();
    commits.dedup();
    let tally = |old: &crate::catalog::Catalog,
                 changed: &HashSet<String>,
                 rescored: &[idp::score::CardResult]| {
        let mut counts: BTreeMap<String, Vec<usize>> = set
            .cards
            .iter()
            .map(|c| (c.name.clone(), vec![0; c.levels.len() + 1]))
            .collect();
        for r in rescored {
            if let Some(c) = counts.get_mut(&r.scorecard) {
                c[slot(r.level_index)] += 1;
            }
        }
        for key in keys_of(old).iter().filter(|k| !changed.contains(*k)) {
            for card in &set.cards {
                if let Some(s) = today.get(&(card.name.as_str(), key.clone())) {
                    counts.get_mut(&card.name).expect("every card")[*s] += 1;
                }
            }
        }
        counts
    };
    let counted: Vec<BTreeMap<String, Vec<usize>>> = if set.uses_files() {
        let _ = ready.set(());
        // The file functions need a snapshot that lives as long as the
        // run: the shared, never-freed opening (one at a time).
        commits
            .iter()
            .map(|commit| {
                let rev = commit.to_string();
                let old =
                    ctx.open_rev(location, Some(&rev), Open::with_index(super::Index::Skip))?;
                let changed = score::changed_entities(&current.catalog, &old.catalog);
                let rescored = run_on(ctx, set, old, Some(&changed), facts, opts, CacheUse::Read);
                Ok(tally(&old.catalog, &changed, &rescored))
            })
            .collect::<Result<_>>()?
    } else {
        // Newest first, each state built from the one before by reading
        // only the files that differ ([`overlay`]); the first from the
        // catalog read when that was a commit, else read whole (from the
        // index when one is cached). A state is dropped once the next is
        // built, so older catalogs do not stay in memory while pages render.
        let dirs = &ctx.settings.dirs;
        let git_dir = &job.git_dir;
        let full = |commit: &git2::Oid| {
            let rev = commit.to_string();
            let read = || read_indexed(location, Some(&rev), dirs).map(|o| o.catalog);
            // Read from the files, it is read again from the index just
            // written: the weeks built from it then copy descriptor text,
            // not parsed values.
            let catalog = read()?;
            if catalog.indexed {
                return Ok(catalog);
            }
            drop(catalog);
            read()
        };
        let read_at = current
            .catalog
            .origin
            .commit
            .as_deref()
            .and_then(|c| git2::Oid::from_str(c).ok());
        let mut counted = Vec::with_capacity(commits.len());
        let mut before: Option<(crate::catalog::Catalog, git2::Oid)> = None;
        for commit in &commits {
            let began = Instant::now();
            let base = match &before {
                Some((catalog, at)) => Some((catalog, *at)),
                None => read_at.map(|at| (&current.catalog, at)),
            };
            let built = match base {
                Some((catalog, at)) => {
                    overlay::catalog_at(git_dir, catalog, at, *commit, &job.subdir, &job.label)?
                }
                None => None,
            };
            let (old, how) = match built {
                Some(c) => (c, "from the changed files"),
                None => (full(commit)?, "read whole"),
            };
            let _ = ready.set(());
            let read_in = began.elapsed();
            let changed = score::changed_entities(&current.catalog, &old);
            let entities: Vec<&crate::catalog::Entity> = old
                .entities
                .iter()
                .filter(|e| changed.contains(&e.entity_ref().key()))
                .collect();
            let rescored = score::evaluate(set, &entities, facts, None, opts);
            counted.push(tally(&old, &changed, &rescored));
            ctx.ui.note(&format!(
                "report: trend at commit {:.10}: catalog {how} in {:.2}s, {} changed entities scored in {:.2}s",
                commit.to_string(),
                read_in.as_secs_f64(),
                entities.len(),
                (began.elapsed() - read_in).as_secs_f64()
            ));
            // The next week is built from this one's descriptors; its
            // relations are computed again there, so they need not stay.
            let mut old = old;
            for e in &mut old.entities {
                e.relations = Vec::new().into();
            }
            before = Some((old, *commit));
        }
        counted
    };
    let mut points: Vec<TrendPoint> = weeks_at
        .iter()
        .map(|(date, commit)| {
            let i = commits
                .iter()
                .position(|c| c == commit)
                .expect("every week's commit");
            TrendPoint {
                date: date.clone(),
                commit: commit.to_string(),
                counts: counted[i].clone(),
            }
        })
        .collect();
    points.reverse();
    Ok(points)
}

/// The DORA block: the keys of every entity linked to a repository and of
/// their teams, over `dora.window`, from cached or published inputs only
/// (the report never asks an API). `None` when DORA is off, not set up, or
/// nothing is cached yet (said in a note).
fn dora_section(ctx: &Context, opened: &Opened, now: DateTime<FixedOffset>) -> Option<DoraSection> {
    let catalog = &opened.catalog;
    let (subjects, teams) = idp::dora::subjects(catalog, None);
    if subjects.is_empty() {
        return None;
    }
    let config = match live::dora_config(opened) {
        Ok(c) if c.enabled => c,
        Ok(_) => return None,
        Err(e) => {
            ctx.ui.warn(&format!("no DORA keys in the report: {e}"));
            return None;
        }
    };
    let now = now.with_timezone(&chrono::Utc);
    let wanted = live::DoraWanted {
        config: &config,
        environment: &config.environment,
        window: config.window,
        now,
    };
    let by_key: std::collections::HashMap<String, &crate::catalog::Entity> = catalog
        .entities
        .iter()
        .map(|e| (e.entity_ref().key(), e))
        .collect();
    let views: Vec<EntityView> = subjects
        .iter()
        .filter_map(|s| by_key.get(&s.key))
        .map(|e| EntityView::of(e))
        .collect();
    let snapshot = match live::dora_cached(ctx, opened, &wanted, &views) {
        Ok(s) => s,
        Err(why) => {
            ctx.ui.note(&format!("no DORA keys in the report: {why}"));
            return None;
        }
    };
    let req = idp::dora::Request {
        window: config.window,
        environment: config.environment.clone(),
        now,
        config: config.clone(),
    };
    let text = {
        let secs = config.window.as_secs();
        if secs % 86_400 == 0 {
            format!("{}d", secs / 86_400)
        } else {
            humantime::format_duration(config.window).to_string()
        }
    };
    let report = idp::dora::report(&subjects, &teams, &snapshot, &req, &text);
    let data: Vec<&idp::dora::DataAge> = report
        .entities
        .iter()
        .filter_map(|e| e.data.as_ref())
        .collect();
    if data.is_empty() {
        ctx.ui.note(
            "no DORA keys in the report: no DORA inputs cached or published (run idp dora or idp enrich --publish)",
        );
        return None;
    }
    let mut origins: Vec<&str> = data.iter().map(|d| d.origin.as_str()).collect();
    origins.sort_unstable();
    origins.dedup();
    let oldest = data.iter().map(|d| d.age_seconds).max().unwrap_or(0);
    let age = format!(
        "from the {} ({} of {} entities), oldest fetched {} before the report",
        origins
            .iter()
            .map(|o| match *o {
                "published" => "published snapshot",
                "cache" => "local cache",
                other => other,
            })
            .collect::<Vec<_>>()
            .join(" and "),
        data.len(),
        report.entities.len(),
        idp::dora::metrics::duration(oldest as f64),
    );
    let names = teams
        .iter()
        .map(|(t, _)| t)
        .chain(subjects.iter().map(|s| &s.key))
        .filter_map(|k| {
            by_key
                .get(k)
                .map(|e| (k.clone(), e.display_name().to_string()))
        })
        .collect();
    Some(DoraSection::new(report, names, Some(age)))
}
