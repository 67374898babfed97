//! Cost per entity and team from FOCUS billing exports (CSV, gzipped CSV,
//! Parquet): the `cost:` configuration ([`config`]), streaming readers
//! ([`read`], [`parquet`]), the one-pass aggregate and its allocation rules
//! ([`aggregate`]), the on-disk cache ([`cache`]), the questions asked of
//! it ([`report`]) and the monthly aggregate published on `refs/idp/cost`
//! ([`publish`]). The core never prints.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod aggregate;
pub mod cache;
pub mod config;
pub mod parquet;
pub mod publish;
pub mod read;
pub mod report;

use std::path::{Path, PathBuf};

use crate::catalog::Catalog;
use crate::confine::{ConfineError, Root, RootKind};

pub use aggregate::Aggregate;
pub use config::CostConfig;

/// Why billing data could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum CostError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A source lacks FOCUS columns idp needs.
    #[error("{path}: missing FOCUS column{} {}", if columns.len() == 1 { "" } else { "s" }, columns.join(", "))]
    MissingColumns {
        /// The file.
        path: String,
        /// The columns.
        columns: Vec<String>,
    },
    /// A value that does not parse.
    #[error("{path}:{row}:{column}: {name} `{value}` is {why}")]
    BadValue {
        /// The file.
        path: String,
        /// Row (CSV: the line, header = 1; Parquet: 1-based row).
        row: u64,
        /// 1-based column.
        column: usize,
        /// The column's name.
        name: String,
        /// The value as written.
        value: String,
        /// What is wrong.
        why: String,
    },
    /// Malformed CSV.
    #[error("{path}:{row}: not valid CSV: {message}")]
    Csv {
        /// The file.
        path: String,
        /// The line.
        row: u64,
        /// The parser's words.
        message: String,
    },
    /// Malformed or unsupported Parquet.
    #[error("{path}: {message}")]
    Parquet {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// Not `.csv`, `.csv.gz` or `.parquet`.
    #[error("{path}: not a FOCUS export idp reads (.csv, .csv.gz, .parquet)")]
    Unsupported {
        /// The file.
        path: String,
    },
    /// The `cost:` section is wrong.
    #[error("idp.yaml: {0}")]
    Config(String),
    /// The billing files inside the catalog hold more data than
    /// `cost.maxBytes` allows (a hostile pull request, a decompression bomb).
    #[error("{path}: billing data inside the catalog exceeds the budget of {limit} bytes (cost.maxBytes) at this file")]
    TooBig {
        /// The file being read when the budget ran out.
        path: String,
        /// The budget.
        limit: u64,
    },
    /// A glob of `idp.yaml` matched a file outside the catalog.
    #[error(transparent)]
    Confine(#[from] ConfineError),
    /// No billing data: no sources, and no published aggregate.
    #[error("no cost data: {0}")]
    NoData(String),
    /// The published aggregate could not be read or written.
    #[error("{what}: {message}")]
    Publish {
        /// What was being done.
        what: String,
        /// Why it failed.
        message: String,
    },
}

/// The `cost:` section of the catalog's `idp.yaml`, typed.
pub fn config_of(catalog: &Catalog) -> Result<CostConfig, crate::catalog::CatalogError> {
    let file =
        Path::new(&catalog.origin.location).join(crate::catalog::config::CATALOG_CONFIG_FILE);
    catalog.config.section("cost", &file)
}

/// Whether `idp.yaml` has a `cost:` section at all.
pub fn configured(catalog: &Catalog) -> bool {
    catalog
        .config
        .extra
        .get("cost")
        .is_some_and(|v| !v.is_null())
}

/// The files the sources name: `idp.yaml` globs under `root` (each match
/// confined to it, symlinks resolved), or the operator's `--source` globs
/// (any path), sorted, each once.
pub fn source_files(
    root: Option<&Path>,
    config: &CostConfig,
    operator: &[String],
) -> Result<Vec<PathBuf>, CostError> {
    let mut out = Vec::new();
    if !operator.is_empty() {
        for g in operator {
            out.extend(expand(Path::new("/"), g, None)?);
        }
    } else {
        for g in &config.sources {
            if let Some(why) = config::source_problem(g) {
                return Err(CostError::Config(format!("cost.sources `{g}`: {why}")));
            }
            let Some(root) = root else {
                return Err(CostError::NoData(
                    "the catalog is not a local directory, so cost.sources cannot be read; pass --source".into(),
                ));
            };
            let confined = Root::new(root, RootKind::Catalog)?;
            out.extend(expand(confined.path(), g, Some(&confined))?);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Expands one glob: walks from its literal prefix, matches the rest.
fn expand(base: &Path, glob: &str, confined: Option<&Root>) -> Result<Vec<PathBuf>, CostError> {
    let absolute = Path::new(glob).is_absolute();
    let full = if absolute {
        PathBuf::from(glob)
    } else {
        base.join(glob)
    };
    let text = full.to_string_lossy().to_string();
    let literal: PathBuf = full
        .components()
        .take_while(|c| {
            !c.as_os_str()
                .to_string_lossy()
                .contains(['*', '?', '[', '{'])
        })
        .collect();
    let matcher = globset::GlobBuilder::new(&text)
        .literal_separator(true)
        .build()
        .map_err(|e| CostError::Config(format!("`{glob}`: {e}")))?
        .compile_matcher();
    let mut out = Vec::new();
    if literal == full {
        if let Some(root) = confined {
            out.push(root.resolve(&full)?);
        } else if full.exists() {
            out.push(full);
        }
        return Ok(out);
    }
    if !literal.is_dir() {
        return Ok(out);
    }
    for entry in ignore::WalkBuilder::new(&literal)
        .standard_filters(false)
        .follow_links(false)
        .build()
        .flatten()
    {
        let p = entry.path();
        let is_file = entry
            .file_type()
            .is_some_and(|t| t.is_file() || t.is_symlink());
        if is_file && matcher.is_match(p) {
            match confined {
                // A symlink whose target is outside the catalog is refused.
                Some(root) => out.push(root.resolve(p)?),
                None => out.push(p.to_path_buf()),
            }
        }
    }
    Ok(out)
}

/// Where the aggregate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataFrom {
    /// Read from the billing files now.
    Files,
    /// From the cache of an earlier read of the same files.
    Cache,
    /// From the monthly aggregate published on `refs/idp/cost`.
    Published,
}

/// The aggregate a command works with.
#[derive(Debug)]
pub struct Loaded {
    /// The sums.
    pub aggregate: Aggregate,
    /// Where they came from.
    pub from: DataFrom,
    /// Billing files read (or whose cache was used).
    pub files: usize,
    /// The configuration used.
    pub config: CostConfig,
    /// Selector annotations that do not parse (they claim nothing).
    pub bad_selectors: Vec<(String, config::SelectorError)>,
}

/// What [`load`] needs beyond the catalog.
pub struct LoadOptions<'a> {
    /// The catalog root, when the catalog is a local directory.
    pub root: Option<&'a Path>,
    /// The operator's `--source` globs (replace `cost.sources`).
    pub operator_sources: &'a [String],
    /// idp's cache directory (`None`: no cache).
    pub cache_dir: Option<&'a Path>,
    /// The catalog's repository, for the published aggregate.
    pub repo: Option<&'a git2::Repository>,
    /// Never read billing files: the cache when it matches them, else the
    /// published aggregate (for commands that show cost in passing).
    pub cached_only: bool,
}

/// The allocator for a catalog and its cache key.
pub fn allocator(
    catalog: &Catalog,
    config: &CostConfig,
) -> (
    aggregate::Allocator,
    String,
    Vec<(String, config::SelectorError)>,
) {
    let mut selectors = Vec::new();
    let mut bad = Vec::new();
    for e in &catalog.entities {
        match config::entity_selectors(e) {
            Ok(s) if !s.is_empty() => selectors.push((e.entity_ref().key(), s)),
            Ok(_) => {}
            Err(err) => bad.push((e.entity_ref().key(), err)),
        }
    }
    let key = format!("{:?}|{:?}", config.allocate, selectors);
    let alloc = aggregate::Allocator::new(catalog, config, selectors);
    let key = format!("{key}|{:?}", alloc.entity_keys());
    (alloc, key, bad)
}

/// The cost data of a catalog: its billing files (through the cache), or
/// else the published aggregate; `Ok(None)` when there is neither.
pub fn load(catalog: &Catalog, opts: &LoadOptions) -> Result<Option<Loaded>, CostError> {
    let config = config_of(catalog).map_err(|e| CostError::Config(e.to_string()))?;
    let problems = config.problems();
    if let Some(p) = problems.first() {
        return Err(CostError::Config(p.clone()));
    }
    let (alloc, key, bad_selectors) = allocator(catalog, &config);
    let files = source_files(opts.root, &config, opts.operator_sources)?;
    if !files.is_empty() && opts.cached_only {
        if let Some(aggregate) = cache::lookup(&files, config.metric.column(), &key, opts.cache_dir)
        {
            return Ok(Some(Loaded {
                aggregate,
                from: DataFrom::Cache,
                files: files.len(),
                config,
                bad_selectors,
            }));
        }
    } else if !files.is_empty() {
        // Files idp.yaml names are budgeted; the operator's are not.
        let budget = opts
            .operator_sources
            .is_empty()
            .then(|| config.max_bytes.unwrap_or(config::MAX_BYTES));
        let (aggregate, origin) = cache::load(
            &files,
            config.metric.column(),
            &alloc,
            &key,
            opts.cache_dir,
            budget,
        )?;
        return Ok(Some(Loaded {
            aggregate,
            from: match origin {
                cache::Origin::Cached => DataFrom::Cache,
                cache::Origin::Read => DataFrom::Files,
            },
            files: files.len(),
            config,
            bad_selectors,
        }));
    }
    if let Some(repo) = opts.repo {
        if let Some(aggregate) = publish::read(repo)? {
            return Ok(Some(Loaded {
                aggregate,
                from: DataFrom::Published,
                files: 0,
                config,
                bad_selectors,
            }));
        }
    }
    Ok(None)
}

/// An entity's last full month before `today` (days since the epoch), per
/// currency, the most expensive first: for a Group, everything it owns and
/// its sub-teams own; empty when the data has nothing for it.
pub fn entity_last_month(
    loaded: &Loaded,
    catalog: &Catalog,
    entity: &crate::catalog::Entity,
    today: i32,
) -> Vec<report::Summary> {
    let scope = loaded.aggregate.scope(catalog, entity);
    if scope.is_empty() {
        return Vec::new();
    }
    let mut out = loaded
        .aggregate
        .last_month(&scope, today, &loaded.config.anomaly);
    out.sort_by(|a, b| b.amount.cmp(&a.amount).then(a.currency.cmp(&b.currency)));
    out
}

/// The scorecard facts `live.cost.*` of [`entity_last_month`]'s answer:
/// `last_month`, `change_pct` (null without a month before), `anomaly`,
/// `currency`, `month` of the most expensive currency, and `by_currency`
/// for all of them (never summed across currencies). `None` when empty.
pub fn facts(summaries: &[report::Summary]) -> Option<serde_json::Value> {
    use rust_decimal::prelude::ToPrimitive;
    let first = summaries.first()?;
    let one = |s: &report::Summary| {
        serde_json::json!({
            "last_month": s.amount.to_f64(),
            "change_pct": s.change_pct,
            "anomaly": s.anomaly,
            "currency": s.currency,
            "month": s.month,
        })
    };
    let mut v = one(first);
    let by: serde_json::Map<String, serde_json::Value> = summaries
        .iter()
        .map(|s| (s.currency.clone(), one(s)))
        .collect();
    v["by_currency"] = serde_json::Value::Object(by);
    Some(v)
}

/// Today as days since 1970-01-01.
pub fn day_of(date: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    read::days_from_civil(date.year() as i64, date.month(), date.day())
}
