//! One file per subcommand. Each turns its arguments into one core call and
//! one render; the shared [`Context`] holds the run's [`Settings`] and opens
//! the catalog the way they say.

pub mod completions;
mod cost;
pub mod diff;
mod doctor;
mod dora;
mod enrich;
pub mod graph;
pub mod history;
pub mod impact;
mod init;
pub mod list;
pub mod live;
mod man;
mod mcp;
pub mod overview;
mod report;
pub mod scaffold;
mod scaffold_update;
mod schema;
pub mod score;
pub mod show;
mod sync;
pub mod validate;
pub mod who_owns;

use std::time::Duration;

use crate::command_error::Result;

use crate::catalog::config::UserConfig;
use crate::catalog::discover::{find_catalog, CatalogLocation, FoundBy};
use crate::catalog::history::{commit_at, parse_when};
use crate::catalog::open::{open, repository, CatalogRepo, OpenOptions, Opened};
use crate::catalog::remote::FetchPolicy;
use crate::cli::{Cli, Command, ScaffoldAction};
use crate::exit::Exit;
use crate::output::{OutputFormat, Ui};
use crate::settings::Settings;

/// A usage error found after parsing (bad `--where`, `--at`, …).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Whether the catalog is read through its on-disk index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// Use and refresh the index: what most commands want.
    Use,
    /// Parse every file, so every document, problem and file is there
    /// (scorecards that read files, templates).
    Skip,
    /// Through the index for a working tree, which the command writes
    /// itself with its own section (`validate`: findings per file); every
    /// file parsed for a revision.
    Validate,
}

/// When a remote catalog is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    /// When the last fetch is older than the configured interval.
    IfStale,
    /// Now, whatever its age (`idp sync`).
    Now,
}

/// How a command opens the catalog.
#[derive(Debug, Clone, Copy)]
pub struct Open<'a> {
    /// Through the index or not.
    pub index: Index,
    /// When a remote catalog is fetched.
    pub fetch: Fetch,
    /// Catalog-relative files to load even if `idp.yaml`'s globs leave them out.
    pub extra_files: &'a [String],
}

impl Open<'static> {
    /// Through the index, fetching a remote catalog when stale.
    pub const INDEXED: Self = Open {
        index: Index::Use,
        fetch: Fetch::IfStale,
        extra_files: &[],
    };
    /// Every file parsed, fetching a remote catalog when stale.
    pub const PARSED: Self = Open {
        index: Index::Skip,
        fetch: Fetch::IfStale,
        extra_files: &[],
    };
}

impl<'a> Open<'a> {
    /// Through the index or not, fetching when stale.
    pub fn with_index(index: Index) -> Self {
        Open {
            index,
            ..Open::INDEXED
        }
    }

    /// The same, fetching a remote catalog now.
    pub fn fetch_now(self) -> Self {
        Open {
            fetch: Fetch::Now,
            ..self
        }
    }
}

/// What every command gets: output decisions and the run's settings.
pub struct Context<'a> {
    /// Output decisions.
    pub ui: &'a Ui,
    /// Flags and environment, resolved once.
    pub settings: Settings,
}

impl Context<'_> {
    /// Where the catalog is (the user config is read only when needed).
    pub fn locate(&self) -> Result<(CatalogLocation, FoundBy)> {
        let s = &self.settings;
        let user = if s.catalog.is_some() {
            UserConfig::default()
        } else {
            UserConfig::load(&s.dirs)?
        };
        for ignored in &user.ignored {
            self.ui.warn(&ignored.to_string());
        }
        Ok(find_catalog(s.catalog.as_deref(), &user, &s.cwd)?)
    }

    /// Opens the catalog; warnings go to stderr.
    pub fn open_catalog(&self, how: Open) -> Result<&'static Opened> {
        let (location, found_by) = self.locate()?;
        self.ui
            .note(&describe_location(&location, found_by, &self.settings));
        self.open_at(&location, how)
    }

    /// Opens a catalog at a known location.
    pub fn open_at(&self, location: &CatalogLocation, how: Open) -> Result<&'static Opened> {
        let rev = self.revision(location)?;
        self.open_rev(location, rev.as_deref(), how)
    }

    /// The revision the global flags ask for: `--ref`, or the commit `--at`
    /// names (`None`: the working tree).
    pub fn revision(&self, location: &CatalogLocation) -> Result<Option<String>> {
        let Some(at) = &self.settings.at else {
            return Ok(self.settings.rev.clone());
        };
        let when = parse_when(at).ok_or_else(|| {
            UsageError(format!(
                "--at '{at}' is not a date (2026-06-01) or a date and time (2026-06-01T12:00:00Z)"
            ))
        })?;
        let handle = self.repository(location, "--at")?;
        let head = handle.commit(None)?;
        let commit = commit_at(&handle.repo, head, when, &handle.label)?;
        self.ui.note(&format!("--at {at}: reading commit {commit}"));
        Ok(Some(commit.to_string()))
    }

    /// The git repository of the catalog (`what` names the feature needing it).
    pub fn repository(&self, location: &CatalogLocation, what: &str) -> Result<CatalogRepo> {
        Ok(repository(
            location,
            self.fetch_policy(location, Fetch::IfStale)?,
            &self.settings.dirs,
            what,
        )?)
    }

    fn fetch_policy(&self, location: &CatalogLocation, fetch: Fetch) -> Result<FetchPolicy> {
        let force = fetch == Fetch::Now;
        let interval = if matches!(location, CatalogLocation::Remote(_)) && !force {
            UserConfig::load(&self.settings.dirs)?.sync_interval()?
        } else {
            Duration::from_secs(3600)
        };
        Ok(FetchPolicy {
            offline: self.settings.offline,
            force,
            interval,
        })
    }

    /// Opens the catalog at an explicit revision (`None`: the working tree).
    pub fn open_rev(
        &self,
        location: &CatalogLocation,
        rev: Option<&str>,
        how: Open,
    ) -> Result<&'static Opened> {
        // The catalog lives until the process exits. Freeing tens of thousands
        // of parsed documents one by one would add tens of milliseconds to
        // every command for nothing, so it is deliberately never dropped.
        Ok(Box::leak(Box::new(self.load_rev(location, rev, how)?)))
    }

    /// Opens the catalog the global flags name at a known location, owned
    /// by the caller (the MCP server, which frees a replaced one on reload).
    pub fn open_owned(&self, location: &CatalogLocation, how: Open) -> Result<Opened> {
        let rev = self.revision(location)?;
        self.load_rev(location, rev.as_deref(), how)
    }

    fn load_rev(&self, location: &CatalogLocation, rev: Option<&str>, how: Open) -> Result<Opened> {
        let use_index = how.index == Index::Use;
        let opened = open(&OpenOptions {
            defer_index_write: how.index == Index::Validate,
            location,
            rev,
            fetch: self.fetch_policy(location, how.fetch)?,
            dirs: &self.settings.dirs,
            use_index: how.index != Index::Skip,
            extra_files: how.extra_files,
        })?;
        // idp.yaml is checked whole when the catalog is opened: the sections
        // the integrations own are typed (and a bad value located) there.
        crate::integrations::config::Sections::of(&opened.catalog)?;
        for w in &opened.warnings {
            self.ui.warn(w);
        }
        for n in &opened.notes {
            self.ui.note(n);
        }
        let errors = &opened.catalog.load_errors;
        if self.ui.verbose > 0 {
            for e in errors {
                self.ui.warn(&format!("not loaded: {e}"));
            }
        } else if !errors.is_empty() && use_index {
            // (validate opens without the index and reports these itself)
            let n = errors.len();
            self.ui.warn(&format!(
                "{n} problem{} kept part of the catalog from loading; `idp validate` shows {}",
                if n == 1 { "" } else { "s" },
                if n == 1 { "it" } else { "them" }
            ));
        }
        Ok(opened)
    }
}

/// Where the catalog came from, as a sentence for `-v`.
fn describe_location(location: &CatalogLocation, found_by: FoundBy, settings: &Settings) -> String {
    let what = match location {
        CatalogLocation::Dir(dir) => format!("the directory {}", dir.display()),
        CatalogLocation::Remote(url) => format!("the git repository {url} (a clone in the cache)"),
    };
    let why = match found_by {
        FoundBy::Argument if settings.catalog_from_env => "named by IDP_CATALOG".to_string(),
        FoundBy::Argument => "named by --catalog".to_string(),
        FoundBy::UserConfig => format!(
            "named by `catalog:` in {}",
            settings.dirs.config.join("config.yaml").display()
        ),
        FoundBy::Enclosing => "the enclosing git repository, which has an idp.yaml".to_string(),
    };
    format!("reading the catalog in {what}: {why}")
}

/// Whether the command prints text for people (escaped on output) rather
/// than data: its `-o`, or text for the commands without one.
pub fn human_output(command: &Command) -> bool {
    match command {
        Command::WhoOwns(a) => a.output.is_human(),
        Command::List(a) => a.output.is_human(),
        Command::Show(a) => a.output.is_human(),
        Command::Validate(a) => a.output.is_human(),
        Command::Schema(a) => a.output.is_human(),
        Command::Impact(a) => a.output.is_human(),
        Command::Graph(a) => a.output.is_human(),
        Command::History(a) => a.output.is_human(),
        Command::Diff(a) => a.output.is_human(),
        Command::Score(a) => a.output.is_human(),
        Command::Enrich(a) => a.output.is_human(),
        Command::Doctor(a) => a.output.is_human(),
        Command::Dora(a) => a.output.is_human(),
        Command::Cost(a) => a.output.is_human(),
        Command::Scaffold(a) => match &a.action {
            None => a.create.output.is_human(),
            Some(ScaffoldAction::List(a)) => a.output.is_human(),
            Some(ScaffoldAction::Show(a)) => a.output.is_human(),
            Some(ScaffoldAction::Update(a)) => a.output.is_human(),
            Some(ScaffoldAction::Check(a)) => a.output.is_human(),
            Some(ScaffoldAction::Test(a)) => a.output.is_human(),
        },
        Command::Report(_) => true,
        // Its stdout is the protocol, written by the MCP SDK, not through Ui.
        Command::Mcp(_) => false,
        Command::Sync | Command::Init(_) | Command::Completions(_) | Command::Man(_) => true,
    }
}

/// Runs the parsed command with the settings `main` resolved.
pub fn run(cli: Cli, ui: &Ui, settings: Settings) -> Result<Exit> {
    let ctx = Context { ui, settings };
    let outcome = match cli.command {
        Command::WhoOwns(args) => who_owns::run(&ctx, args),
        Command::List(args) => list::run(&ctx, args),
        Command::Show(args) => show::run(&ctx, args),
        Command::Validate(args) => validate::run(&ctx, args),
        Command::Schema(args) => schema::run(&ctx, args),
        Command::Sync => sync::run(&ctx),
        Command::Impact(args) => impact::run(&ctx, args),
        Command::Graph(args) => graph::run(&ctx, args),
        Command::History(args) => history::run(&ctx, args),
        Command::Diff(args) => diff::run(&ctx, args),
        Command::Init(args) => init::run(&ctx, args),
        Command::Completions(args) => completions::run(&ctx, args),
        Command::Man(args) => man::run(&ctx, args),
        Command::Score(args) => score::run(&ctx, args),
        Command::Scaffold(args) => scaffold::run(&ctx, args),
        Command::Enrich(args) => enrich::run(&ctx, args),
        Command::Doctor(args) => doctor::run(&ctx, args),
        Command::Report(args) => report::run(&ctx, args),
        Command::Mcp(args) => mcp::run(&ctx, args),
        Command::Dora(args) => dora::run(&ctx, args),
        Command::Cost(args) => cost::run(&ctx, args),
    };
    prune_cache(&ctx);
    outcome
}

/// Keeps the cache within its budgets after every command (see
/// `idp::cache_prune`); a failure to prune never changes the outcome.
fn prune_cache(ctx: &Context) {
    let pruned = idp::cache_prune::prune(&ctx.settings.dirs.cache, std::time::SystemTime::now());
    if pruned.files > 0 {
        ctx.ui.note(&format!(
            "cache: removed {} least recently used file(s), {:.1} MB",
            pruned.files,
            pruned.bytes as f64 / 1e6
        ));
    }
}
