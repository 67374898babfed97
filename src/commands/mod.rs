//! One file per subcommand. Each turns its arguments into one core call and
//! one render; the shared [`Context`] opens the catalog the way the global
//! flags say.

pub mod completions;
mod diff;
mod doctor;
mod enrich;
mod graph;
mod history;
mod impact;
mod init;
mod list;
pub mod live;
mod man;
pub mod overview;
pub mod scaffold;
mod scaffold_update;
mod schema;
mod score;
mod show;
mod sync;
mod validate;
mod who_owns;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::catalog::config::{Dirs, UserConfig};
use crate::catalog::discover::{find_catalog, CatalogLocation, FoundBy};
use crate::catalog::history::{commit_at, parse_when};
use crate::catalog::open::{open, repository, CatalogRepo, OpenOptions, Opened};
use crate::catalog::remote::FetchPolicy;
use crate::cli::{Cli, Command, ScaffoldAction};
use crate::exit::Exit;
use crate::output::{OutputFormat, Ui};

/// A usage error found after parsing (bad `--where`, `--at`, …).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Settings every command shares.
pub struct Context<'a> {
    /// Output decisions.
    pub ui: &'a Ui,
    /// `--catalog` / `IDP_CATALOG`.
    pub catalog_arg: Option<String>,
    /// `--ref`.
    pub rev: Option<String>,
    /// `--at`, as typed.
    pub at: Option<String>,
    /// `--offline`.
    pub offline: bool,
    /// `--refresh`: live data ignores cache TTLs.
    pub refresh: bool,
    /// `--no-live`: leave live data out.
    pub no_live: bool,
    /// XDG directories.
    pub dirs: Dirs,
    /// Working directory.
    pub cwd: PathBuf,
}

impl Context<'_> {
    /// Where the catalog is (the user config is read only when needed).
    pub fn locate(&self) -> Result<(CatalogLocation, FoundBy)> {
        let user = if self.catalog_arg.is_some() {
            UserConfig::default()
        } else {
            UserConfig::load(&self.dirs)?
        };
        Ok(find_catalog(self.catalog_arg.as_deref(), &user, &self.cwd)?)
    }

    /// Opens the catalog; warnings go to stderr.
    pub fn open_catalog(&self, use_index: bool, force_fetch: bool) -> Result<&'static Opened> {
        let (location, found_by) = self.locate()?;
        self.ui
            .note(&format!("catalog: {location:?} (found by {found_by:?})"));
        self.open_at(&location, use_index, force_fetch, &[])
    }

    /// Opens a catalog at a known location.
    pub fn open_at(
        &self,
        location: &CatalogLocation,
        use_index: bool,
        force_fetch: bool,
        extra_files: &[String],
    ) -> Result<&'static Opened> {
        let rev = self.revision(location)?;
        self.open_rev(
            location,
            rev.as_deref(),
            use_index,
            force_fetch,
            extra_files,
        )
    }

    /// The revision the global flags ask for: `--ref`, or the commit `--at`
    /// names (`None`: the working tree).
    pub fn revision(&self, location: &CatalogLocation) -> Result<Option<String>> {
        let Some(at) = &self.at else {
            return Ok(self.rev.clone());
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
            self.fetch_policy(location, false)?,
            &self.dirs,
            what,
        )?)
    }

    fn fetch_policy(&self, location: &CatalogLocation, force: bool) -> Result<FetchPolicy> {
        let interval = if matches!(location, CatalogLocation::Remote(_)) && !force {
            UserConfig::load(&self.dirs)?.sync_interval()?
        } else {
            Duration::from_secs(3600)
        };
        Ok(FetchPolicy {
            offline: self.offline,
            force,
            interval,
        })
    }

    /// Opens the catalog at an explicit revision (`None`: the working tree).
    pub fn open_rev(
        &self,
        location: &CatalogLocation,
        rev: Option<&str>,
        use_index: bool,
        force_fetch: bool,
        extra_files: &[String],
    ) -> Result<&'static Opened> {
        let opened = open(&OpenOptions {
            location,
            rev,
            fetch: self.fetch_policy(location, force_fetch)?,
            dirs: &self.dirs,
            use_index,
            extra_files,
        })?;
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
        // The catalog lives until the process exits. Freeing tens of thousands
        // of parsed documents one by one would add tens of milliseconds to
        // every command for nothing, so it is deliberately never dropped.
        Ok(Box::leak(Box::new(opened)))
    }
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
        Command::Scaffold(a) => match &a.action {
            None => a.create.output.is_human(),
            Some(ScaffoldAction::List(a)) => a.output.is_human(),
            Some(ScaffoldAction::Show(a)) => a.output.is_human(),
            Some(ScaffoldAction::Update(a)) => a.output.is_human(),
            Some(ScaffoldAction::Check(a)) => a.output.is_human(),
            Some(ScaffoldAction::Test(a)) => a.output.is_human(),
        },
        Command::Sync | Command::Init(_) | Command::Completions(_) | Command::Man(_) => true,
    }
}

/// Runs the parsed command.
pub fn run(cli: Cli, ui: &Ui) -> Result<Exit> {
    let ctx = Context {
        ui,
        catalog_arg: cli.global.catalog.clone(),
        rev: cli.global.rev.clone(),
        at: cli.global.at.clone(),
        offline: cli.global.offline,
        refresh: cli.global.refresh,
        no_live: cli.global.no_live,
        dirs: Dirs::from_env(),
        cwd: std::env::current_dir()?,
    };
    match cli.command {
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
    }
}
