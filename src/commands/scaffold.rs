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
use idp::scaffold::source::{self, CatalogTemplates};
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
    let (opened, location) = open_catalog(ctx, Need::Required)?.expect("required");
    let catalog_templates = templates_of(ctx, opened, &location);
    let templates = catalog_templates.list();
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => render::list(
            &mut out,
            ctx.ui,
            &templates,
            &catalog_templates.templates_dir(),
        )?,
        Some(data) => write_data(&mut out, data, &templates)?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}

// ------------------------------------------------------------------ show

fn show(ctx: &Context, args: ScaffoldShowArgs) -> Result<Exit> {
    let (t, _) = resolve_template(ctx, &args.template)?;
    let view = idp::scaffold::describe::describe(&t)?;
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => render::show(&mut out, ctx.ui, &view)?,
        Some(data) => write_data(&mut out, data, &view)?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}

// ------------------------------------------------------------------ create

/// The command's side of [`idp::scaffold::create`]: messages to stderr, and
/// the catalog opened late when a generated descriptor needs one.
struct Host<'c, 'a> {
    ctx: &'c Context<'a>,
    /// Why the late catalog could not be opened (reported as the error).
    failure: Option<CommandError>,
}

impl CreateHost for Host<'_, '_> {
    fn warn(&mut self, message: &str) {
        self.ctx.ui.warn(message);
    }

    fn note(&mut self, message: &str) {
        self.ctx.ui.note(message);
    }

    fn log(&mut self, lines: &[String]) {
        self.ctx.ui.log_lines(lines);
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
    let mut host = Host { ctx, failure: None };
    let created = idp::scaffold::create(request, &mut host).map_err(|e| match e {
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
