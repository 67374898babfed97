//! The warm catalog of `idp mcp`: opened once (in the background, so
//! `initialize` is answered at once), kept in memory, and reloaded when it
//! changes. A watcher thread re-checks, a few times a second, what the load
//! depended on: for a working tree, the index's fingerprint (every
//! directory's and descriptor's size and mtime, content hashes for racy
//! ones); for a revision (`--ref`, a remote), the commit it names. A call
//! that finds the catalog stale reloads it first (through the index, which
//! the reload rebuilds).
//!
//! Catalogs live for the process (`Context::open_rev` leaks them, as every
//! command does); a reload leaks the replaced one, which is the price of
//! the `&'static` borrows the commands hand out. Edits to a catalog are
//! rare next to the calls, so this stays small in practice.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use idp::catalog::discover::CatalogLocation;
use idp::catalog::index::{self, Fingerprint};
use idp::catalog::open::Opened;

use crate::command_error::{CommandError, Result};
use crate::commands::{Context, Open};
use crate::output::Ui;
use crate::settings::Settings;

/// How often the watcher looks for changes.
const POLL: Duration = Duration::from_millis(200);

/// What a load depended on, to tell when it is out of date.
enum Watch {
    /// The working tree, through the index's fingerprint.
    Files(Fingerprint),
    /// A revision (`--ref`, or a remote's default branch) and its commit.
    Commit {
        location: CatalogLocation,
        rev: Option<String>,
        commit: String,
    },
    /// Nothing that can change (`--at`), or nothing to compare with.
    Fixed,
}

/// One load of the catalog.
struct Loaded {
    opened: &'static Opened,
    watch: Arc<Watch>,
}

enum Slot {
    Loading(JoinHandle<Result<Loaded>>),
    Ready(Loaded),
    /// The last load failed; the next call tries again.
    Empty,
}

/// The server's catalog, shared by every call.
pub struct Catalogs {
    ui: &'static Ui,
    settings: Settings,
    slot: Mutex<Slot>,
    watch: Mutex<Option<Arc<Watch>>>,
    stale: AtomicBool,
}

impl Catalogs {
    /// Starts loading the catalog the settings name, in the background,
    /// and the watcher that notices changes.
    pub fn start(ui: &'static Ui, settings: Settings) -> Arc<Catalogs> {
        let loader = {
            let settings = settings.clone();
            std::thread::spawn(move || load(&Context { ui, settings }))
        };
        let catalogs = Arc::new(Catalogs {
            ui,
            settings,
            slot: Mutex::new(Slot::Loading(loader)),
            watch: Mutex::new(None),
            stale: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&catalogs);
        std::thread::spawn(move || loop {
            std::thread::sleep(POLL);
            let Some(catalogs) = weak.upgrade() else {
                return;
            };
            catalogs.check();
        });
        catalogs
    }

    /// The current catalog: waits for the first load, reloads a stale one.
    pub fn get(&self, ctx: &Context) -> Result<&'static Opened> {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Slot::Loading(_) = &*slot {
            let Slot::Loading(handle) = std::mem::replace(&mut *slot, Slot::Empty) else {
                unreachable!()
            };
            match handle.join() {
                Ok(Ok(loaded)) => self.install(&mut slot, loaded),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(CommandError::internal(anyhow::anyhow!("loading panicked"))),
            }
        }
        if self.stale.swap(false, Ordering::SeqCst) || matches!(&*slot, Slot::Empty) {
            match load(ctx) {
                Ok(loaded) => self.install(&mut slot, loaded),
                Err(e) => {
                    *slot = Slot::Empty;
                    return Err(e);
                }
            }
        }
        match &*slot {
            Slot::Ready(loaded) => Ok(loaded.opened),
            _ => unreachable!("installed above"),
        }
    }

    fn install(&self, slot: &mut Slot, loaded: Loaded) {
        *self.watch.lock().unwrap_or_else(|e| e.into_inner()) = Some(loaded.watch.clone());
        prewarm(loaded.opened);
        *slot = Slot::Ready(loaded);
    }

    /// One look by the watcher: marks the catalog stale when what it was
    /// loaded from changed.
    fn check(&self) {
        if self.stale.load(Ordering::SeqCst) {
            return;
        }
        let watch = self.watch.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(watch) = watch else { return };
        let changed = match &*watch {
            Watch::Files(fingerprint) => !fingerprint.is_current(),
            Watch::Commit {
                location,
                rev,
                commit,
            } => {
                let ctx = Context {
                    ui: self.ui,
                    settings: self.settings.clone(),
                };
                ctx.repository(location, "watching the catalog")
                    .and_then(|h| Ok(h.commit(rev.as_deref())?))
                    .map(|c| c.to_string() != *commit)
                    .unwrap_or(false)
            }
            Watch::Fixed => false,
        };
        if changed {
            self.stale.store(true, Ordering::SeqCst);
            // Until the reload, nothing more to look at.
            *self.watch.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }
}

/// Opens the catalog and notes what to watch.
fn load(ctx: &Context) -> Result<Loaded> {
    let (location, _) = ctx.locate()?;
    let opened = ctx.open_at(&location, Open::INDEXED)?;
    let s = &ctx.settings;
    let watch = match (&location, &s.rev, &s.at) {
        (_, _, Some(_)) => Watch::Fixed,
        (CatalogLocation::Dir(dir), None, None) => match worktree_fingerprint(ctx, dir) {
            Some(f) => Watch::Files(f),
            None => {
                ctx.ui.warn(
                    "the catalog's index could not be written to the cache; \
                     edits to the catalog will not be noticed until idp mcp restarts",
                );
                Watch::Fixed
            }
        },
        (_, rev, None) => match ctx
            .repository(&location, "watching the catalog")
            .and_then(|h| Ok(h.commit(rev.as_deref())?))
        {
            Ok(commit) => Watch::Commit {
                location: location.clone(),
                rev: rev.clone(),
                commit: commit.to_string(),
            },
            Err(_) => Watch::Fixed,
        },
    };
    Ok(Loaded {
        opened,
        watch: Arc::new(watch),
    })
}

fn worktree_fingerprint(ctx: &Context, dir: &Path) -> Option<Fingerprint> {
    let root = ctx.settings.cwd.join(dir).canonicalize().ok()?;
    index::stored_fingerprint(&ctx.settings.dirs.cache, &index::worktree_key(&root))
}

/// Parses every descriptor in the background: the index keeps documents as
/// text until touched, and a fuzzy search reads every description.
fn prewarm(opened: &'static Opened) {
    std::thread::spawn(move || {
        use rayon::prelude::*;
        opened.catalog.entities.par_iter().for_each(|e| {
            let _ = e.doc();
        });
    });
}
