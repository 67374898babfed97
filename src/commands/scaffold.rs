//! `idp scaffold TEMPLATE …` (create a project), `scaffold list` and
//! `scaffold show`: arguments in, one core call (`idp::scaffold::create`,
//! `describe`, `CatalogTemplates::list`), one render
//! (`crate::output::scaffold`). This file finds the catalog and the
//! template the way the global flags say, and turns flags into a
//! [`CreateRequest`].

use std::io::Write;

use crate::command_error::{CommandError, Kind, Result};

use idp::catalog::discover::CatalogLocation;
use idp::catalog::open::Opened;
use idp::catalog::Catalog;
use idp::scaffold::create::{
    Answering, Code, CreateError, CreateHost, Existing, Git, HostFailed, Limits, Preview, Publish,
    Push, Register, Run, UnknownActions,
};
use idp::scaffold::describe::TemplateView;
use idp::scaffold::source::{self, CatalogTemplates, TemplateInfo};
use idp::scaffold::{CreateRequest, LoadedTemplate, ScaffoldOptions, TemplateKind};

use idp::scaffold::engine::Engine;

use crate::cli::{
    EngineArg, ScaffoldAction, ScaffoldArgs, ScaffoldCreateArgs, ScaffoldListArgs, ScaffoldShowArgs,
};
use crate::exit::Exit;
use crate::output::{scaffold as render, write_data};

use super::{Context, Open};

pub fn run(ctx: &Context, args: ScaffoldArgs) -> Result<Exit> {
    match args.action {
        Some(ScaffoldAction::List(a)) => list(ctx, a),
        Some(ScaffoldAction::Show(a)) => show(ctx, a),
        // update / check / test live in scaffold_update.rs.
        Some(ScaffoldAction::Update(a)) => super::scaffold_update::update(ctx, a),
        Some(ScaffoldAction::Check(a)) => super::scaffold_update::check(ctx, a),
        Some(ScaffoldAction::Test(a)) => super::scaffold_update::test(ctx, a),
        None => create(ctx, args.create),
    }
}

// ------------------------------------------------------------------ catalog

/// Whether a scaffold command can do without the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Its absence is an error.
    Required,
    /// Use it when one is found and readable (with a warning when not).
    IfFound,
}

/// The catalog, when one can be found, as `need` says.
fn open_catalog(ctx: &Context, need: Need) -> Result<Option<(&'static Opened, CatalogLocation)>> {
    let required = need == Need::Required;
    let location = match ctx.locate() {
        Ok((l, _)) => l,
        Err(e) if !required && e.is_no_catalog() => return Ok(None),
        Err(e) => return Err(e),
    };
    match ctx.open_at(&location, Open::PARSED) {
        Ok(opened) => Ok(Some((opened, location))),
        Err(e) if !required => {
            ctx.ui
                .warn(&format!("catalog not read ({e:#}); continuing without it"));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn templates_of<'a>(
    ctx: &Context,
    opened: &'a Opened,
    location: &CatalogLocation,
) -> CatalogTemplates<'a> {
    let on_disk = ctx.settings.rev.is_none() && ctx.settings.at.is_none();
    CatalogTemplates {
        catalog: &opened.catalog,
        // Recorded in answers files: a local catalog as an absolute path,
        // so `scaffold check`/`update` find it from any directory.
        location: match location {
            CatalogLocation::Dir(d) => {
                let abs = ctx.settings.cwd.join(d);
                std::fs::canonicalize(&abs)
                    .unwrap_or(abs)
                    .display()
                    .to_string()
            }
            CatalogLocation::Remote(u) => u.clone(),
        },
        root: match location {
            CatalogLocation::Dir(d) if on_disk => Some(d.clone()),
            _ => None,
        },
        snapshot: opened.snapshot.as_deref(),
    }
}

/// Resolves TEMPLATE, opening the catalog only when it is needed or found.
pub(super) fn resolve_template(
    ctx: &Context,
    arg: &str,
) -> Result<(LoadedTemplate, Option<(&'static Opened, CatalogLocation)>)> {
    let is_path = source::looks_like_path(arg, &ctx.settings.cwd)
        || idp::git_remote::is_git_url(arg)
        || source::is_local_template(arg, &ctx.settings.cwd);
    let need = if is_path {
        Need::IfFound
    } else {
        Need::Required
    };
    let cat = open_catalog(ctx, need)?;
    let templates = cat.as_ref().map(|(o, l)| templates_of(ctx, o, l));
    let t = source::resolve(arg, templates.as_ref(), &ctx.settings.cwd)?;
    Ok((t, cat))
}

/// Like [`resolve_template`], but a cookiecutter template given as a path
/// renders without the catalog: finding and loading one costs more than
/// rendering, and it is needed only to validate a generated descriptor.
fn resolve_for_create(
    ctx: &Context,
    arg: &str,
) -> Result<(LoadedTemplate, Option<(&'static Opened, CatalogLocation)>)> {
    let is_local = source::looks_like_path(arg, &ctx.settings.cwd)
        || source::is_local_template(arg, &ctx.settings.cwd);
    if is_local && !idp::git_remote::is_git_url(arg) {
        let t = source::resolve(arg, None, &ctx.settings.cwd)?;
        if t.kind == TemplateKind::Cookiecutter {
            return Ok((t, None));
        }
    }
    resolve_template(ctx, arg)
}

// ------------------------------------------------------------------ list

fn list(ctx: &Context, args: ScaffoldListArgs) -> Result<Exit> {
    let (templates, templates_dir) = templates(ctx)?;
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => render::list(&mut out, ctx.ui, &templates, &templates_dir)?,
        Some(data) => write_data(&mut out, data, &templates)?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}

/// The catalog's templates (the `scaffold list -o json` contract; the MCP
/// `list_templates` tool returns it too) and its templates folder.
pub fn templates(ctx: &Context) -> Result<(Vec<TemplateInfo>, String)> {
    let (opened, location) = open_catalog(ctx, Need::Required)?.expect("required");
    let catalog_templates = templates_of(ctx, opened, &location);
    Ok((catalog_templates.list(), catalog_templates.templates_dir()))
}

// ------------------------------------------------------------------ show

fn show(ctx: &Context, args: ScaffoldShowArgs) -> Result<Exit> {
    let view = describe(ctx, &args.template)?;
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => render::show(&mut out, ctx.ui, &view)?,
        Some(data) => write_data(&mut out, data, &view)?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}

/// A template described: the `scaffold show -o json` contract (the MCP
/// `describe_template` tool returns it too).
pub fn describe(ctx: &Context, template: &str) -> Result<TemplateView> {
    let (t, _) = resolve_template(ctx, template)?;
    Ok(idp::scaffold::describe::describe(&t)?)
}

// ------------------------------------------------------------------ create

/// The caller's side of [`idp::scaffold::create`]: messages to stderr (the
/// command) or into memory (the MCP server, whose stdout is the protocol),
/// and the catalog opened late when a generated descriptor needs one.
pub struct Host<'c, 'a> {
    ctx: &'c Context<'a>,
    /// Why the late catalog could not be opened (reported as the error).
    failure: Option<CommandError>,
    /// `Some`: warnings and the step log are kept here, not printed.
    pub kept: Option<Vec<String>>,
}

impl<'c, 'a> Host<'c, 'a> {
    /// A host that prints to stderr.
    pub fn printing(ctx: &'c Context<'a>) -> Self {
        Host {
            ctx,
            failure: None,
            kept: None,
        }
    }

    /// A host that keeps every message in [`Host::kept`].
    pub fn in_memory(ctx: &'c Context<'a>) -> Self {
        Host {
            ctx,
            failure: None,
            kept: Some(Vec::new()),
        }
    }
}

impl CreateHost for Host<'_, '_> {
    fn warn(&mut self, message: &str) {
        match &mut self.kept {
            Some(kept) => kept.push(format!("warning: {message}")),
            None => self.ctx.ui.warn(message),
        }
    }

    fn note(&mut self, message: &str) {
        if self.kept.is_none() {
            self.ctx.ui.note(message);
        }
    }

    fn log(&mut self, lines: &[String]) {
        match &mut self.kept {
            Some(kept) => kept.extend(lines.iter().cloned()),
            None => self.ctx.ui.log_lines(lines),
        }
    }

    fn late_catalog(&mut self) -> Result<Option<&Catalog>, HostFailed> {
        match open_catalog(self.ctx, Need::IfFound) {
            Ok(cat) => Ok(cat.map(|(opened, _)| &opened.catalog)),
            Err(e) => {
                self.failure = Some(e);
                Err(HostFailed)
            }
        }
    }
}

fn create(ctx: &Context, args: ScaffoldCreateArgs) -> Result<Exit> {
    let mut host = Host::printing(ctx);
    let created = create_project(&args, serde_json::Map::new(), &mut host)?;
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None if created.dry_run => render::preview(&mut out, &created)?,
        None => render::created(&mut out, ctx.ui, &created)?,
        Some(data) => write_data(&mut out, data, &created)?,
    }
    out.flush()?;
    Ok(if created.descriptor_failed() {
        Exit::Failed
    } else {
        Exit::Ok
    })
}

/// Creates (or, with `--dry-run`, previews) a project as `args` say, with
/// `values` given on top of `--values` and `--set` (the MCP tools' values):
/// the `scaffold -o json` contract. Messages go to `host`.
pub fn create_project(
    args: &ScaffoldCreateArgs,
    given: serde_json::Map<String, serde_json::Value>,
    host: &mut Host,
) -> Result<idp::scaffold::create::Created> {
    let ctx = host.ctx;
    let arg = args.template.clone().expect("clap requires TEMPLATE");
    let (t, mut cat) = resolve_for_create(ctx, &arg)?;
    if args.register && cat.is_none() {
        cat = open_catalog(ctx, Need::IfFound)?;
    }
    let mut values = ScaffoldOptions::default();
    for f in &args.values {
        values.add_values_file(&ctx.settings.cwd.join(f))?;
    }
    for s in &args.set {
        values.set(s)?;
    }
    values.values.extend(given);
    let never_ask = args.defaults || args.no_input;
    let creds = push_credentials(ctx, cat.as_ref().map(|(o, _)| &o.catalog))?;
    let request = CreateRequest {
        template: &t,
        values: values.values,
        replay: values.replay,
        output_dir: args.output_dir.as_ref().map(|d| ctx.settings.cwd.join(d)),
        base_dir: ctx.settings.cwd.clone(),
        catalog: cat.as_ref().map(|(o, _)| &o.catalog),
        answering: match (never_ask, ctx.settings.terminal.can_prompt()) {
            (true, _) => Answering::Defaults,
            (false, true) => Answering::Prompt,
            (false, false) => Answering::NoTerminal,
        },
        existing: match (args.force, args.overwrite) {
            (false, _) => Existing::Refuse,
            (true, false) => Existing::Keep,
            (true, true) => Existing::Overwrite,
        },
        run: match (args.dry_run, args.diff) {
            (false, _) => Run::Write,
            (true, false) => Run::DryRun(Preview::Files),
            (true, true) => Run::DryRun(Preview::Contents),
        },
        git: if args.no_git {
            Git::None
        } else {
            Git::FirstCommit
        },
        code: if args.trust { Code::Run } else { Code::Skip },
        unknown_actions: if args.skip_unknown_actions {
            UnknownActions::Skip
        } else {
            UnknownActions::Fail
        },
        publish: if args.publish {
            Publish::Remote
        } else {
            Publish::Local
        },
        register: if args.register {
            Register::Branch {
                location: cat.as_ref().map(|(_, l)| l.clone()),
                // Pushing over HTTPS to GitHub authenticates with the github
                // integration's token (see idp::git_remote).
                push: if args.push {
                    Push::ToOrigin { creds: &creds }
                } else {
                    Push::No
                },
            }
        } else {
            Register::No
        },
        limits: Limits {
            fuel: args.fuel,
            max_output_bytes: args.max_output_bytes,
        },
        env: ctx.settings.env.clone(),
        today: ctx.settings.today(),
        engine: match args.engine {
            EngineArg::Idp => Engine::Idp,
            EngineArg::Cookiecutter => Engine::Cookiecutter,
            EngineArg::Auto => Engine::Auto,
        },
    };
    let created = idp::scaffold::create(request, host).map_err(|e| match e {
        // The inner errors decide the exit status (crate::command_error).
        CreateError::Scaffold(e) => e.into(),
        CreateError::Catalog(e) => e.into(),
        CreateError::Descriptor {
            path,
            line,
            column,
            source,
        } => CommandError::from(source).context(format!(
            "reading the generated {}:{line}:{column}",
            path.display()
        )),
        CreateError::TempDir(e) => {
            CommandError::new(Kind::Environment, e).context("creating a temporary directory")
        }
        CreateError::Host => host
            .failure
            .take()
            .unwrap_or_else(|| CommandError::internal(e)),
    })?;
    Ok(created)
}

/// What `--register --push` authenticates with: the github integration's
/// token (its `token_env`, default GITHUB_TOKEN) for the GitHub host only.
fn push_credentials(
    ctx: &Context,
    catalog: Option<&idp::catalog::Catalog>,
) -> Result<idp::git_remote::Credentials> {
    let sections = catalog
        .map(idp::integrations::config::Sections::of)
        .transpose()?
        .unwrap_or_default();
    // Read through the settings so the token is registered for redaction.
    let env = |var: &str| ctx.settings.token(var).map(|t| t.expose().to_string());
    Ok(idp::integrations::config::github_git_credentials(
        &sections, &env,
    ))
}
