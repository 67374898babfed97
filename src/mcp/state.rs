//! The warm catalog of `idp mcp`: opened once (in the background, so
//! `initialize` is answered at once), kept in memory, and reloaded when it
//! changes. A watcher thread re-checks, a few times a second, what the load
//! depended on: for a working tree, the index's fingerprint (every
//! directory's and descriptor's size and mtime, content hashes for racy
//! ones); for a revision (`--ref`, a remote), the commit it names. A call
//! that finds the catalog stale reloads it first (through the index, which
//! the reload rebuilds).
//!
//! The state owns the catalog (an `Arc`, unlike a command, which leaks
//! its one catalog for the process): a call holds its own handle for as
//! long as it runs, and a reload drops the replaced catalog once the last
//! call using it is done, so a long-running server editing its catalog
//! all day keeps one catalog in memory, not one per edit.

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
    opened: Arc<Opened>,
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
    pub fn get(&self, ctx: &Context) -> Result<Arc<Opened>> {
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
            Slot::Ready(loaded) => Ok(loaded.opened.clone()),
            _ => unreachable!("installed above"),
        }
    }

    fn install(&self, slot: &mut Slot, loaded: Loaded) {
        *self.watch.lock().unwrap_or_else(|e| e.into_inner()) = Some(loaded.watch.clone());
        prewarm(loaded.opened.clone());
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
    let opened = Arc::new(ctx.open_owned(&location, Open::INDEXED)?);
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
fn prewarm(opened: Arc<Opened>) {
    std::thread::spawn(move || {
        use rayon::prelude::*;
        opened.catalog.entities.par_iter().for_each(|e| {
            let _ = e.doc();
        });
    });
}

#[cfg(test)]
mod tests {
    use std::sync::Weak;
    use std::time::Instant;

    use clap::Parser;
    use idp::catalog::config::Dirs;

    use super::*;
    use crate::cli::Cli;
    use crate::settings::Terminal;

    fn descriptor(name: &str) -> String {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n\
             spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
        )
    }

    /// Whether `weak` is dropped within 5 s (the prewarm thread may hold
    /// its clone a moment longer, more on a loaded machine).
    fn dropped(weak: &Weak<Opened>) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while weak.upgrade().is_some() {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    #[test]
    fn a_reload_frees_the_replaced_catalog_once_no_call_holds_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("catalog");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("catalog-info.yaml"), descriptor("one")).unwrap();
        let cli = Cli::parse_from(["idp", "--catalog", dir.to_str().unwrap(), "mcp"]);
        let terminal = Terminal {
            stdin: false,
            stdout: false,
            stderr: false,
        };
        let settings = Settings {
            dirs: Dirs {
                cache: tmp.path().join("cache"),
                config: tmp.path().join("config"),
            },
            ..Settings::resolve(&cli, idp::vars::Vars::from_pairs([]), terminal).unwrap()
        };
        let ui: &'static Ui = Box::leak(Box::new(Ui {
            human: false,
            color: false,
            color_err: false,
            quiet: true,
            verbose: 0,
            width: None,
            github_actions: false,
        }));
        let catalogs = Catalogs::start(ui, settings.clone());
        let ctx = Context { ui, settings };

        let first = catalogs.get(&ctx).unwrap();
        assert_eq!(first.catalog.entities.len(), 1);
        let weak = Arc::downgrade(&first);
        // A call in flight keeps its catalog through a reload...
        std::fs::write(dir.join("two.yaml"), descriptor("two")).unwrap();
        catalogs.stale.store(true, Ordering::SeqCst);
        let second = catalogs.get(&ctx).unwrap();
        assert_eq!(second.catalog.entities.len(), 2);
        assert_eq!(first.catalog.entities.len(), 1);
        // ...and the replaced catalog is freed when that call is done.
        drop(first);
        assert!(dropped(&weak), "the replaced catalog is still alive");
        // The current one is kept for the next call.
        let weak = Arc::downgrade(&second);
        drop(second);
        std::thread::sleep(Duration::from_millis(50));
        assert!(weak.upgrade().is_some());
    }
}
