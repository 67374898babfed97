//! Creating a project from a template (`idp scaffold TEMPLATE`): settle the
//! values (asking first, so an interrupted prompt leaves nothing behind),
//! render into a [`Staging`] directory next to the target, record the
//! answers, make the first commit, move the project into place, publish,
//! check the new descriptor against the catalog and register it.
//!
//! The command builds a [`CreateRequest`] (every decision already made:
//! where, how to answer, what to do with existing files) and renders the
//! [`Created`]. Nothing here prints: warnings, `-v` notes and the step log
//! go through the caller's [`CreateHost`], in the order they happen.

mod descriptor;
mod registration;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::catalog::discover::CatalogLocation;
use crate::catalog::validate::Report;
use crate::catalog::{Catalog, CatalogError};

pub use super::backstage::register::Push;
use super::{
    AnswersFile, LoadedTemplate, ScaffoldError, ScaffoldOptions, Staging, TemplateKind,
    WriteOptions,
};

pub use descriptor::validate_descriptor;
use registration::{plan_registration, register_preflight};

/// How values the request does not give are settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answering {
    /// Ask on the terminal (the caller knows one is there).
    Prompt,
    /// Take defaults; a required value without one is an error naming the
    /// flag (no terminal to ask on).
    NoTerminal,
    /// Take the default of every value (`--defaults`, `--no-input`).
    Defaults,
}

/// What may happen to files already where the project goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse an existing non-empty directory.
    Refuse,
    /// Write into it, keeping every existing file (`--force`).
    Keep,
    /// Write into it, replacing the files the template also creates
    /// (`--force --overwrite`).
    Overwrite,
}

/// Whether anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    /// Create the project.
    Write,
    /// Render into a throwaway directory and say what would be created.
    DryRun(Preview),
}

/// What a dry run keeps for the caller to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preview {
    /// The file list.
    Files,
    /// The file list and every file's contents (`--diff`).
    Contents,
}

/// The project's git repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Git {
    /// A new repository with a first commit (unless the directory existed
    /// or the template made its own).
    FirstCommit,
    /// No repository (`--no-git`).
    None,
}

/// The template's own code: cookiecutter hooks and command steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Not run (a warning says what was skipped).
    Skip,
    /// Run (`--trust`).
    Run,
}

/// Backstage step actions idp does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownActions {
    /// Refuse the template.
    Fail,
    /// Warn and go on (`--skip-unknown-actions`).
    Skip,
}

/// Backstage `publish:*` steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publish {
    /// Only the local first commit.
    Local,
    /// Create the repositories and push the first commit (`--publish`).
    Remote,
}

/// Committing the new descriptor to the catalog repository (`--register`).
#[derive(Debug, Clone)]
pub enum Register<'a> {
    /// No registration.
    No,
    /// On a new branch of the catalog at `location` (None: no catalog was
    /// found, which is refused before anything is asked).
    Branch {
        /// Where the catalog is.
        location: Option<CatalogLocation>,
        /// Whether (and with which token) to push the branch to `origin`.
        push: Push<'a>,
    },
}

/// Rendering budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fuel per render (`--fuel`).
    pub fuel: u64,
    /// Bytes per rendered file and per project (`--max-output-bytes`).
    pub max_output_bytes: u64,
}

/// Everything `create` needs, decided by the caller.
pub struct CreateRequest<'a> {
    /// The template, found and loaded.
    pub template: &'a LoadedTemplate,
    /// Values given (`--values` files, then `--set`).
    pub values: Map<String, Value>,
    /// A cookiecutter replay file's values, used as they are.
    pub replay: Option<Map<String, Value>>,
    /// `--output-dir`, absolute. Cookiecutter: the directory the project
    /// directory is created in; Backstage: the project directory itself.
    pub output_dir: Option<PathBuf>,
    /// Where a project goes without `output_dir` (the working directory).
    pub base_dir: PathBuf,
    /// The catalog found so far (pickers, publish settings, validation).
    pub catalog: Option<&'a Catalog>,
    /// How unanswered values are settled.
    pub answering: Answering,
    /// Existing files at the target.
    pub existing: Existing,
    /// Write, or only show what would be written.
    pub run: Run,
    /// The first commit.
    pub git: Git,
    /// Hooks and command steps.
    pub code: Code,
    /// Unknown Backstage actions.
    pub unknown_actions: UnknownActions,
    /// `publish:*` steps.
    pub publish: Publish,
    /// `--register`.
    pub register: Register<'a>,
    /// The environment templates may read (`env` in cookiecutter, tokens
    /// for `publish:*`), decided by the caller.
    pub env: crate::vars::Vars,
    /// Today, for date filters and validation (the caller's clock).
    pub today: chrono::NaiveDate,
    /// Budgets.
    pub limits: Limits,
    /// Who renders a cookiecutter template (`--engine`).
    pub engine: super::engine::Engine,
}

/// What the caller shows while a project is created, and the catalog it
/// may open late (only when a descriptor needs checking and none was open).
pub trait CreateHost {
    /// A warning for the user.
    fn warn(&mut self, message: &str);
    /// A detail for `-v`.
    fn note(&mut self, message: &str);
    /// Progress lines: the template's step log, what was published.
    fn log(&mut self, lines: &[String]);
    /// The catalog to check a generated descriptor against, opened now
    /// (`Ok(None)`: there is none). On `Err`, the host keeps the reason
    /// and `create` stops with [`CreateError::Host`].
    fn late_catalog(&mut self) -> Result<Option<&Catalog>, HostFailed>;
}

/// The host could not give what was asked; it holds the reason.
#[derive(Debug, Clone, Copy)]
pub struct HostFailed;

/// Why a project was not created (or not completely).
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Loading, asking, rendering or writing failed.
    #[error(transparent)]
    Scaffold(#[from] ScaffoldError),
    /// Reading the generated descriptor for validation failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The descriptor to register does not parse.
    #[error("reading the generated {}:{line}:{column}", path.display())]
    Descriptor {
        /// The descriptor, relative to the project.
        path: PathBuf,
        /// Line of the parse error.
        line: usize,
        /// Column of the parse error.
        column: usize,
        /// The parse error.
        source: crate::catalog::parse::ParseError,
    },
    /// A dry run's throwaway directory could not be made.
    #[error("creating a temporary directory")]
    TempDir(#[source] std::io::Error),
    /// The host failed ([`CreateHost::late_catalog`]); it has the reason.
    #[error("the caller could not open the catalog")]
    Host,
}

/// A project created (or, for a dry run, what would be). Serialized as the
/// `scaffold -o json` contract.
#[derive(Debug, Serialize)]
pub struct Created {
    /// The template's name.
    pub template: String,
    /// The project directory.
    pub project: String,
    /// Its files, relative, sorted (`.git` left out).
    pub files: Vec<String>,
    /// The answers recorded (secrets removed).
    pub answers: Map<String, Value>,
    /// The first commit, if idp made one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Render warnings (also given to [`CreateHost::warn`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The new catalog-info.yaml checked against the catalog.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<Report>,
    /// The registration branch (`--register`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered: Option<RegisteredView>,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Backstage `spec.output`, rendered (links and text for people).
    #[serde(skip)]
    pub output: Option<Value>,
    /// Dry run: the files that would replace existing ones.
    #[serde(skip)]
    pub replaces: Vec<String>,
    /// Dry run with [`Preview::Contents`]: each file's bytes, in `files`
    /// order.
    #[serde(skip)]
    pub contents: Vec<Vec<u8>>,
}

impl Created {
    /// Whether the generated descriptor fails validation (exit 1).
    pub fn descriptor_failed(&self) -> bool {
        self.validation
            .as_ref()
            .is_some_and(|r| !r.errors.is_empty())
    }
}

/// Where `--register` put the descriptor.
#[derive(Debug, Serialize)]
pub struct RegisteredView {
    /// The new branch.
    pub branch: String,
    /// The descriptor's path in the catalog repository.
    pub path: String,
    /// The commit.
    pub commit: String,
    /// Whether it was pushed to `origin`.
    pub pushed: bool,
}

/// Creates a project as `req` says.
pub fn create(req: CreateRequest, host: &mut dyn CreateHost) -> Result<Created, CreateError> {
    let t = req.template;
    let dry = matches!(req.run, Run::DryRun(_));
    let no_git = req.git == Git::None;
    let push = match &req.register {
        Register::Branch { push, .. } => *push,
        Register::No => Push::No,
    };
    let pushes = matches!(push, Push::ToOrigin { .. });
    let mut opts = ScaffoldOptions {
        values: req.values,
        replay: req.replay,
        interactive: req.answering == Answering::Prompt,
        defaults: req.answering == Answering::Defaults,
        trust: req.code == Code::Run,
        dry_run: dry,
        skip_unknown_actions: req.unknown_actions == UnknownActions::Skip,
        publish: req.publish == Publish::Remote,
        register: matches!(req.register, Register::Branch { .. }),
        first_commit: !no_git,
        fuel: req.limits.fuel,
        max_output_bytes: req.limits.max_output_bytes,
        env: req.env,
        today: req.today,
        engine: req.engine,
        ..ScaffoldOptions::default()
    };
    let wopts = WriteOptions {
        force: req.existing != Existing::Refuse,
        overwrite: req.existing == Existing::Overwrite,
    };
    let output = req.output_dir;

    // Whatever can be refused is refused before the first question.
    let register_root = match &req.register {
        Register::Branch { location, .. } => Some(register_preflight(location.as_ref(), pushes)?),
        Register::No => None,
    };
    // Cookiecutter creates a directory inside the output directory;
    // Backstage writes into the output directory itself.
    let parent = output.clone().unwrap_or_else(|| req.base_dir.clone());
    match (t.kind, &output) {
        (TemplateKind::Cookiecutter, _) => opts.output_dir = Some(parent.clone()),
        (TemplateKind::Backstage, Some(dir)) => {
            Staging::check(dir, wopts)?;
            opts.output_dir = Some(dir.clone());
        }
        (TemplateKind::Backstage, None) => {}
    }

    // Ask everything before any directory exists: an interrupted prompt
    // (Ctrl-C) then leaves nothing behind.
    let catalog = req.catalog;
    let mut prepared = super::prepare(t, &opts, catalog)?;
    if let Some(notice) = prepared.notice() {
        host.log(&[notice.to_string()]);
    }

    let staging = match t.kind {
        TemplateKind::Cookiecutter => stage_in(&parent, wopts, dry)?,
        TemplateKind::Backstage => {
            // Without --output-dir, the project is named after its name parameter.
            let dir = output
                .clone()
                .unwrap_or_else(|| req.base_dir.join(project_name(prepared.answers(), t)));
            if let super::Prepared::Backstage(p) = &mut prepared {
                p.set_first_commit(!no_git && !dir.exists());
            }
            if dry {
                Staged::Temp(tempfile::tempdir().map_err(CreateError::TempDir)?, dir)
            } else {
                Staged::Real(Staging::new(&dir, wopts)?)
            }
        }
    };
    let (outcome, extras) = prepared.render(staging.root())?;
    for w in &outcome.warnings {
        host.warn(w);
    }

    // Final location of the project directory.
    let rel_project = outcome
        .project_dir
        .strip_prefix(staging.root())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let final_dir = if rel_project.as_os_str().is_empty() {
        staging.target()
    } else {
        staging.target().join(&rel_project)
    };

    if let Run::DryRun(preview) = req.run {
        // Step messages and debug:log output come from the template.
        host.log(&outcome.log);
        return dry_run(t, &outcome, &final_dir, wopts, preview);
    }

    // Still nothing in place: check what --publish and --register need.
    let merging = final_dir.exists();
    let own_repo = outcome.project_dir.join(".git").exists();
    let will_commit = !no_git && !merging && !own_repo;
    let publishes = extras.as_ref().is_some_and(|e| !e.publish.is_empty());
    if opts.publish && publishes && !will_commit {
        return Err(ScaffoldError::InvalidValue {
            name: "--publish".into(),
            message: format!(
                "there is no first commit to push ({}); nothing was written",
                if no_git {
                    "--no-git"
                } else if merging {
                    "the directory existed"
                } else {
                    "the template made its own git repository"
                }
            ),
        }
        .into());
    }
    let registration = match &register_root {
        Some(root) => Some(plan_registration(
            t,
            root,
            &outcome.project_dir,
            // The descriptor a catalog:register step named, else catalog-info.yaml.
            outcome
                .register
                .first()
                .map_or_else(|| PathBuf::from("catalog-info.yaml"), Clone::clone),
            pushes,
        )?),
        None => None,
    };

    AnswersFile {
        template: t.name.clone(),
        source: t.source.clone(),
        commit: t.commit.clone(),
        answers: outcome.answers.clone(),
    }
    .write(&outcome.project_dir)?;

    let mut commit = None;
    if !no_git {
        if merging {
            host.warn(&format!(
                "{} already existed: no git repository or commit was made",
                final_dir.display()
            ));
        } else if own_repo {
            host.warn("the template created its own git repository; idp made no commit");
        } else {
            // A Backstage publish:* step names the branch and message.
            commit = Some(super::backstage::first_commit(
                &outcome.project_dir,
                &outcome,
                &format!("Create {} from template {}", dir_name(&final_dir), t.name),
            )?);
        }
    }
    let Staged::Real(real) = staging else {
        unreachable!("dry runs returned above")
    };
    real.commit()?;

    // --publish: create the planned repositories and push the first commit.
    let mut published = Vec::new();
    if let (true, Some(extras)) = (opts.publish, &extras) {
        for p in super::backstage::publish_all(extras, catalog, &final_dir, &opts.env)? {
            published.push(format!(
                "{}: created {} and pushed {} to it",
                p.step, p.html_url, p.branch
            ));
        }
    }

    // The new descriptor must hold up in the catalog.
    let descriptor = final_dir.join("catalog-info.yaml");
    let validation = if descriptor.is_file() {
        let catalog = match catalog {
            Some(c) => Some(c),
            None => host
                .late_catalog()
                .map_err(|HostFailed| CreateError::Host)?,
        };
        Some(validate_descriptor(catalog, &final_dir, opts.today)?)
    } else {
        None
    };

    let registered = match registration {
        Some(r) => {
            let done = r.register(push)?;
            host.note(&format!(
                "registered on branch {} (from {})",
                done.branch, done.base
            ));
            Some(RegisteredView {
                branch: done.branch,
                path: done.path,
                commit: done.commit,
                pushed: done.pushed,
            })
        }
        None => None,
    };

    // Said once everything is done, so the step log tells what happened.
    host.log(&outcome.log);
    host.log(&published);

    Ok(Created {
        template: t.name.clone(),
        project: final_dir.display().to_string(),
        files: slashed(&project_files(&final_dir)),
        answers: outcome.answers.clone(),
        commit,
        warnings: outcome.warnings.clone(),
        validation,
        registered,
        dry_run: false,
        output: outcome.output.clone(),
        replaces: Vec::new(),
        contents: Vec::new(),
    })
}

/// A staging directory, or a throwaway one for a dry run.
enum Staged {
    Real(Staging),
    Temp(tempfile::TempDir, PathBuf),
}

impl Staged {
    fn root(&self) -> &Path {
        match self {
            Staged::Real(s) => s.root(),
            Staged::Temp(t, _) => t.path(),
        }
    }

    /// Where the root's contents end up.
    fn target(&self) -> PathBuf {
        match self {
            Staged::Real(s) => s.target().to_path_buf(),
            Staged::Temp(_, target) => target.clone(),
        }
    }
}

fn stage_in(parent: &Path, wopts: WriteOptions, dry_run: bool) -> Result<Staged, CreateError> {
    Ok(if dry_run {
        Staged::Temp(
            tempfile::tempdir().map_err(CreateError::TempDir)?,
            parent.to_path_buf(),
        )
    } else {
        Staged::Real(Staging::in_dir(parent, wopts)?)
    })
}

/// The directory name of a Backstage project rendered without --output-dir.
fn project_name(answers: &Map<String, Value>, t: &LoadedTemplate) -> String {
    for key in [
        "name",
        "component_id",
        "componentId",
        "projectName",
        "project_name",
    ] {
        if let Some(Value::String(s)) = answers.get(key) {
            let clean: String = s
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            let clean = clean.trim_matches(['.', '-']).to_string();
            if !clean.is_empty() {
                return clean;
            }
        }
    }
    t.name
        .rsplit(['/', ':'])
        .next()
        .unwrap_or("project")
        .to_string()
}

/// The last component of `p` (for messages and diff headers).
pub fn dir_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Every file under `dir`, relative and sorted, without the top-level
/// `.git` (unreadable directories are left out: this lists what was made).
pub fn project_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    fn walk(dir: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.filter_map(Result::ok) {
            let name = e.file_name();
            if rel.as_os_str().is_empty() && name == ".git" {
                continue;
            }
            let r = rel.join(&name);
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&e.path(), &r, out);
            } else {
                out.push(r);
            }
        }
    }
    walk(dir, Path::new(""), &mut out);
    out.sort();
    out
}

fn slashed(files: &[PathBuf]) -> Vec<String> {
    files.iter().map(|f| f.display().to_string()).collect()
}

/// A dry run: what a real run would refuse, else what it would create.
fn dry_run(
    t: &LoadedTemplate,
    outcome: &super::RenderOutcome,
    final_dir: &Path,
    wopts: WriteOptions,
    preview: Preview,
) -> Result<Created, CreateError> {
    let files = project_files(&outcome.project_dir);
    // Predict what a real run would refuse.
    let mut existing = Vec::new();
    if final_dir.exists() {
        let non_empty = std::fs::read_dir(final_dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
        if non_empty && !wopts.force {
            return Err(ScaffoldError::TargetNotEmpty {
                path: final_dir.to_path_buf(),
            }
            .into());
        }
        existing = files
            .iter()
            .filter(|f| final_dir.join(f).exists())
            .cloned()
            .collect();
        if !existing.is_empty() && !wopts.overwrite {
            return Err(ScaffoldError::WouldOverwrite {
                paths: existing.iter().map(|f| final_dir.join(f)).collect(),
            }
            .into());
        }
    }
    let contents = match preview {
        Preview::Files => Vec::new(),
        Preview::Contents => files
            .iter()
            .map(|f| std::fs::read(outcome.project_dir.join(f)).unwrap_or_default())
            .collect(),
    };
    Ok(Created {
        template: t.name.clone(),
        project: final_dir.display().to_string(),
        files: slashed(&files),
        answers: outcome.answers.clone(),
        commit: None,
        warnings: outcome.warnings.clone(),
        validation: None,
        registered: None,
        dry_run: true,
        output: None,
        replaces: slashed(&existing),
        contents,
    })
}
