//! `idp scaffold TEMPLATE …` (create a project), `scaffold list` and
//! `scaffold show`. The core (`idp::scaffold`) finds, asks and renders; this
//! file decides where things go (staging next to the target, moved into
//! place on success), writes the answers file and the first commit,
//! validates the new descriptor against the catalog and prints the result.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::Serialize;
use serde_json::{Map, Value};

use idp::catalog::discover::CatalogLocation;
use idp::catalog::open::Opened;
use idp::catalog::validate::Report;
use idp::catalog::{CatalogError, Problem};
use idp::scaffold::source::{self, CatalogTemplates};
use idp::scaffold::{
    cookiecutter, hooks, repo, AnswersFile, LoadedTemplate, RenderOutcome, ScaffoldOptions,
    Staging, TemplateKind, WriteOptions,
};

use crate::cli::{
    ScaffoldAction, ScaffoldArgs, ScaffoldCreateArgs, ScaffoldListArgs, ScaffoldShowArgs,
};
use crate::exit::Exit;
use crate::output::format::ViewFormat;
use crate::output::{sanitize, write_data};

use super::{Context, Open};

/// The scaffold subcommands' names (they never take `-o DIR`).
const SUBCOMMANDS: [&str; 6] = ["list", "show", "test", "update", "check", "help"];

/// Global flags that take a value (skipped while looking for the subcommand).
const VALUE_FLAGS: [&str; 5] = ["--catalog", "--ref", "--at", "--color", "--output"];

/// In `idp scaffold TEMPLATE`, `-o DIR` / `--output DIR` name the output
/// directory, as in cookiecutter; everywhere else `-o` is the output format.
/// Rewrites them to `--output-dir` before clap sees them.
pub fn output_dir_alias(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let args: Vec<OsString> = args.into_iter().collect();
    let mut i = 1;
    // Find the subcommand.
    while i < args.len() {
        let a = args[i].to_string_lossy();
        if a == "--" {
            return args;
        }
        if VALUE_FLAGS.contains(&a.as_ref()) || a == "-o" {
            i += 2;
            continue;
        }
        if a.starts_with('-') {
            i += 1;
            continue;
        }
        break;
    }
    if args.get(i).is_none_or(|a| a != "scaffold") {
        return args;
    }
    // A scaffold subcommand keeps -o as the format.
    let next_positional = args[i + 1..]
        .iter()
        .map(|a| a.to_string_lossy())
        .find(|a| !a.starts_with('-'));
    if next_positional.is_some_and(|a| SUBCOMMANDS.contains(&a.as_ref())) {
        return args;
    }
    let mut out: Vec<OsString> = args[..=i].to_vec();
    let mut rest = args[i + 1..].iter();
    while let Some(a) = rest.next() {
        let s = a.to_string_lossy();
        if s == "--" {
            out.push(a.clone());
            out.extend(rest.cloned());
            break;
        }
        if s == "-o" || s == "--output" {
            out.push("--output-dir".into());
        } else if let Some(v) = s.strip_prefix("--output=") {
            out.push(format!("--output-dir={v}").into());
        } else if let Some(v) = s
            .strip_prefix("-o")
            .filter(|v| !v.is_empty() && !s.starts_with("--"))
        {
            out.push("--output-dir".into());
            out.push(v.trim_start_matches('=').into());
        } else {
            out.push(a.clone());
        }
    }
    out
}

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
        Err(e) if !required && is_no_catalog(&e) => return Ok(None),
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

fn is_no_catalog(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<CatalogError>(),
        Some(CatalogError::NoCatalog)
    )
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
        || repo::is_git_url(arg)
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
    if is_local && !repo::is_git_url(arg) {
        let t = source::resolve(arg, None, &ctx.settings.cwd)?;
        if t.kind == TemplateKind::Cookiecutter {
            return Ok((t, None));
        }
    }
    resolve_template(ctx, arg)
}

// ------------------------------------------------------------------ list

#[derive(Serialize)]
struct ListRow<'a> {
    #[serde(flatten)]
    info: &'a source::TemplateInfo,
}

fn list(ctx: &Context, args: ScaffoldListArgs) -> Result<Exit> {
    let (opened, location) = open_catalog(ctx, Need::Required)?.expect("required");
    let templates = templates_of(ctx, opened, &location).list();
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => {
            if templates.is_empty() {
                writeln!(
                    out,
                    "No templates: add kind: Template entities or cookiecutter directories under {}/",
                    templates_of(ctx, opened, &location).templates_dir()
                )?;
            } else {
                let mut table = ctx.ui.table(&["name", "kind", "description", "path"]);
                for t in &templates {
                    let about = match (&t.title, &t.description) {
                        (Some(title), Some(d)) => format!("{title}: {d}"),
                        (Some(x), None) | (None, Some(x)) => x.clone(),
                        (None, None) => String::new(),
                    };
                    table.add_row(
                        [
                            t.name.clone(),
                            t.kind.as_str().to_string(),
                            about,
                            t.path.clone(),
                        ]
                        .map(sanitize::line_string),
                    );
                }
                crate::output::Ui::keep_columns(&mut table, 2);
                writeln!(out, "{table}")?;
            }
        }
        Some(data) => {
            let rows: Vec<ListRow> = templates.iter().map(|info| ListRow { info }).collect();
            write_data(&mut out, data, &rows)?;
        }
    }
    out.flush()?;
    Ok(Exit::Ok)
}

// ------------------------------------------------------------------ show

#[derive(Serialize)]
struct ShowView {
    name: String,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    source: idp::scaffold::TemplateSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<String>,
    directory: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    variables: Vec<cookiecutter::Variable>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parameters: Vec<Parameter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    steps: Vec<Step>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hooks: Vec<String>,
}

#[derive(Serialize)]
struct Parameter {
    page: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    default: Option<Value>,
    #[serde(rename = "enum", skip_serializing_if = "Vec::is_empty")]
    choices: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

#[derive(Serialize)]
struct Step {
    id: String,
    action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    condition: Option<Value>,
}

fn show(ctx: &Context, args: ScaffoldShowArgs) -> Result<Exit> {
    let (t, _) = resolve_template(ctx, &args.template)?;
    let mut view = ShowView {
        name: t.name.clone(),
        kind: t.kind.as_str(),
        title: t.title.clone(),
        description: t.description.clone(),
        source: t.source.clone(),
        commit: t.commit.clone(),
        directory: t.dir.display().to_string(),
        variables: Vec::new(),
        parameters: Vec::new(),
        steps: Vec::new(),
        hooks: Vec::new(),
    };
    match t.kind {
        TemplateKind::Cookiecutter => {
            view.variables = cookiecutter::variables(&t.dir)?;
            view.hooks = hooks::all(&t.dir)
                .iter()
                .map(|p| {
                    format!(
                        "hooks/{}",
                        p.file_name().unwrap_or_default().to_string_lossy()
                    )
                })
                .collect();
        }
        TemplateKind::Backstage => {
            let entity = t.entity.clone().unwrap_or(Value::Null);
            view.parameters = backstage_parameters(&entity);
            view.steps = backstage_steps(&entity);
        }
    }
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => write_show(ctx, &mut out, &view)?,
        Some(data) => write_data(&mut out, data, &view)?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}

fn backstage_parameters(entity: &Value) -> Vec<Parameter> {
    let pages: Vec<Value> = match entity.pointer("/spec/parameters") {
        Some(Value::Array(p)) => p.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let title = page
            .get("title")
            .and_then(Value::as_str)
            .map_or_else(|| format!("page {}", i + 1), str::to_string);
        let required: Vec<&str> = page
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let Some(props) = page.get("properties").and_then(Value::as_object) else {
            continue;
        };
        for (name, p) in props {
            out.push(Parameter {
                page: title.clone(),
                name: name.clone(),
                kind: p
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("string")
                    .to_string(),
                required: required.contains(&name.as_str()),
                default: p.get("default").cloned(),
                choices: p
                    .get("enum")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
                title: p.get("title").and_then(Value::as_str).map(str::to_string),
                field: p
                    .get("ui:field")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
    }
    out
}

fn backstage_steps(entity: &Value) -> Vec<Step> {
    entity
        .pointer("/spec/steps")
        .and_then(Value::as_array)
        .map(|steps| {
            steps
                .iter()
                .enumerate()
                .map(|(i, s)| Step {
                    id: s
                        .get("id")
                        .and_then(Value::as_str)
                        .map_or_else(|| format!("step-{}", i + 1), str::to_string),
                    action: s
                        .get("action")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    name: s.get("name").and_then(Value::as_str).map(str::to_string),
                    condition: s.get("if").cloned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn short(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn write_show(ctx: &Context, out: &mut dyn Write, v: &ShowView) -> Result<()> {
    ctx.ui.heading(
        out,
        v.title.as_deref().unwrap_or(&v.name),
        &format!("{} template", v.kind),
    )?;
    if let Some(d) = &v.description {
        writeln!(out, "{}", sanitize::block(d))?;
    }
    writeln!(out, "name:       {}", sanitize::line(&v.name))?;
    match &v.source {
        idp::scaffold::TemplateSource::Catalog { catalog, path } => {
            writeln!(out, "source:     {path} in catalog {catalog}")?
        }
        idp::scaffold::TemplateSource::Dir { repo, subdir } if subdir.is_empty() => {
            writeln!(out, "source:     {repo}")?
        }
        idp::scaffold::TemplateSource::Dir { repo, subdir } => {
            writeln!(out, "source:     {subdir} in {repo}")?
        }
    }
    if let Some(c) = &v.commit {
        writeln!(out, "commit:     {c}")?;
    }
    if !v.variables.is_empty() {
        writeln!(
            out,
            "\nVariables (cookiecutter.json order; --set NAME=VALUE):"
        )?;
        let mut table = ctx
            .ui
            .table(&["name", "kind", "default", "choices / prompt"]);
        for var in &v.variables {
            let extra = if var.choices.is_empty() {
                var.prompt.clone().unwrap_or_default()
            } else {
                var.choices.iter().map(short).collect::<Vec<_>>().join(", ")
            };
            table.add_row(
                [
                    var.name.clone(),
                    var.kind.to_string(),
                    short(&var.default),
                    extra,
                ]
                .map(sanitize::line_string),
            );
        }
        crate::output::Ui::keep_columns(&mut table, 2);
        writeln!(out, "{table}")?;
    }
    if !v.parameters.is_empty() {
        writeln!(out, "\nParameters (--set NAME=VALUE):")?;
        let mut table = ctx.ui.table(&[
            "page",
            "name",
            "type",
            "required",
            "default",
            "enum / field",
        ]);
        for p in &v.parameters {
            let extra = if p.choices.is_empty() {
                p.field.clone().unwrap_or_default()
            } else {
                p.choices.iter().map(short).collect::<Vec<_>>().join(", ")
            };
            table.add_row(
                [
                    p.page.clone(),
                    p.name.clone(),
                    p.kind.clone(),
                    if p.required {
                        "yes".into()
                    } else {
                        String::new()
                    },
                    p.default.as_ref().map(short).unwrap_or_default(),
                    extra,
                ]
                .map(sanitize::line_string),
            );
        }
        writeln!(out, "{table}")?;
    }
    if !v.steps.is_empty() {
        writeln!(out, "\nSteps:")?;
        let mut table = ctx.ui.table(&["id", "action", "name", "if"]);
        for s in &v.steps {
            table.add_row(
                [
                    s.id.clone(),
                    s.action.clone(),
                    s.name.clone().unwrap_or_default(),
                    s.condition.as_ref().map(short).unwrap_or_default(),
                ]
                .map(sanitize::line_string),
            );
        }
        writeln!(out, "{table}")?;
    }
    if !v.hooks.is_empty() {
        writeln!(
            out,
            "\nHooks (run only with --trust): {}",
            sanitize::line(&v.hooks.join(", "))
        )?;
    }
    Ok(())
}

// ------------------------------------------------------------------ create

#[derive(Serialize)]
struct Created {
    template: String,
    project: String,
    files: Vec<String>,
    answers: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    validation: Option<Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registered: Option<RegisteredView>,
    dry_run: bool,
}

#[derive(Serialize)]
struct RegisteredView {
    branch: String,
    path: String,
    commit: String,
    pushed: bool,
}

fn create(ctx: &Context, args: ScaffoldCreateArgs) -> Result<Exit> {
    let arg = args.template.clone().expect("clap requires TEMPLATE");
    let (t, mut cat) = resolve_for_create(ctx, &arg)?;
    if args.register && cat.is_none() {
        cat = open_catalog(ctx, Need::IfFound)?;
    }

    let never_ask = args.defaults || args.no_input;
    let mut opts = ScaffoldOptions {
        interactive: !never_ask && ctx.settings.terminal.can_prompt(),
        defaults: never_ask,
        trust: args.trust,
        dry_run: args.dry_run,
        skip_unknown_actions: args.skip_unknown_actions,
        publish: args.publish,
        register: args.register,
        first_commit: !args.no_git,
        fuel: args.fuel,
        max_output_bytes: args.max_output_bytes,
        env: ctx.settings.env.clone(),
        today: ctx.settings.today(),
        ..ScaffoldOptions::default()
    };
    for f in &args.values {
        opts.add_values_file(&ctx.settings.cwd.join(f))?;
    }
    for s in &args.set {
        opts.set(s)?;
    }
    let wopts = WriteOptions {
        force: args.force,
        overwrite: args.overwrite,
    };
    let output = args.output_dir.as_ref().map(|d| ctx.settings.cwd.join(d));

    // Whatever can be refused is refused before the first question.
    let register_root = if args.register {
        Some(register_preflight(cat.as_ref().map(|c| &c.1), args.push)?)
    } else {
        None
    };
    // Cookiecutter creates a directory inside the output directory;
    // Backstage writes into the output directory itself.
    let parent = output.clone().unwrap_or_else(|| ctx.settings.cwd.clone());
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
    let catalog = cat.as_ref().map(|(o, _)| &o.catalog);
    let mut prepared = idp::scaffold::prepare(&t, &opts, catalog)?;

    let staging = match t.kind {
        TemplateKind::Cookiecutter => stage_in(&parent, wopts, args.dry_run)?,
        TemplateKind::Backstage => {
            // Without --output, the project is named after its name parameter.
            let dir = output
                .clone()
                .unwrap_or_else(|| ctx.settings.cwd.join(project_name(prepared.answers(), &t)));
            if let idp::scaffold::Prepared::Backstage(p) = &mut prepared {
                p.set_first_commit(!args.no_git && !dir.exists());
            }
            if args.dry_run {
                Staged::Temp(
                    tempfile::tempdir().context("creating a temporary directory")?,
                    dir,
                )
            } else {
                Staged::Real(Staging::new(&dir, wopts)?)
            }
        }
    };
    let (outcome, extras) = prepared.render(staging.root())?;
    for w in &outcome.warnings {
        ctx.ui.warn(w);
    }
    // Step messages and debug:log output come from the template.
    let print_log = || ctx.ui.log_lines(&outcome.log);

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

    if args.dry_run {
        print_log();
        return dry_run(ctx, &t, &outcome, &final_dir, wopts, args.diff, args.output);
    }

    // Still nothing in place: check what --publish and --register need.
    let merging = final_dir.exists();
    let own_repo = outcome.project_dir.join(".git").exists();
    let will_commit = !args.no_git && !merging && !own_repo;
    let publishes = extras.as_ref().is_some_and(|e| !e.publish.is_empty());
    if args.publish && publishes && !will_commit {
        anyhow::bail!(idp::scaffold::ScaffoldError::InvalidValue {
            name: "--publish".into(),
            message: format!(
                "there is no first commit to push ({}); nothing was written",
                if args.no_git {
                    "--no-git"
                } else if merging {
                    "the directory existed"
                } else {
                    "the template made its own git repository"
                }
            ),
        });
    }
    let registration = match &register_root {
        Some(root) => Some(plan_registration(
            &t,
            root,
            &outcome.project_dir,
            // The descriptor a catalog:register step named, else catalog-info.yaml.
            outcome
                .register
                .first()
                .map_or_else(|| PathBuf::from("catalog-info.yaml"), Clone::clone),
            args.push,
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
    if !args.no_git {
        if merging {
            ctx.ui.warn(&format!(
                "{} already existed: no git repository or commit was made",
                final_dir.display()
            ));
        } else if own_repo {
            ctx.ui
                .warn("the template created its own git repository; idp made no commit");
        } else {
            // A Backstage publish:* step names the branch and message.
            commit = Some(idp::scaffold::backstage::first_commit(
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
    if let (true, Some(extras)) = (args.publish, &extras) {
        for p in
            idp::scaffold::backstage::publish_all(extras, catalog, &final_dir, &ctx.settings.env)?
        {
            published.push(format!(
                "{}: created {} and pushed {} to it",
                p.step, p.html_url, p.branch
            ));
        }
    }

    // The new descriptor must hold up in the catalog.
    let descriptor = final_dir.join("catalog-info.yaml");
    if cat.is_none() && descriptor.is_file() {
        cat = open_catalog(ctx, Need::IfFound)?;
    }
    let catalog = cat.as_ref().map(|(o, _)| &o.catalog);
    let validation = if descriptor.is_file() {
        Some(validate_descriptor(ctx, catalog, &final_dir)?)
    } else {
        None
    };
    let failed = validation.as_ref().is_some_and(|r| !r.errors.is_empty());

    let registered = registration
        .map(|r| register(ctx, r, args.push))
        .transpose()?;

    // Said once everything is done, so the step log tells what happened.
    print_log();
    ctx.ui.log_lines(&published);

    let files = list_files(&final_dir);
    let created = Created {
        template: t.name.clone(),
        project: final_dir.display().to_string(),
        files: files.iter().map(|f| f.display().to_string()).collect(),
        answers: outcome.answers.clone(),
        commit,
        warnings: outcome.warnings.clone(),
        validation,
        registered,
        dry_run: false,
    };
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => {
            write_created(ctx, &mut out, &created)?;
            // Names the catalog already holds: the template's entityRef
            // links would point at those other entities.
            let taken: Vec<String> = created
                .validation
                .iter()
                .flat_map(|r| &r.errors)
                .filter(|p| p.code == "duplicate-entity")
                .filter_map(|p| p.entity.clone())
                .collect();
            for line in idp::scaffold::backstage::output_lines(outcome.output.as_ref(), &taken) {
                writeln!(out, "{line}")?;
            }
        }
        Some(data) => write_data(&mut out, data, &created)?,
    }
    out.flush()?;
    Ok(if failed { Exit::Failed } else { Exit::Ok })
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

fn stage_in(parent: &Path, wopts: WriteOptions, dry_run: bool) -> Result<Staged> {
    Ok(if dry_run {
        Staged::Temp(
            tempfile::tempdir().context("creating a temporary directory")?,
            parent.to_path_buf(),
        )
    } else {
        Staged::Real(Staging::in_dir(parent, wopts)?)
    })
}

/// The directory name of a Backstage project rendered without --output.
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

fn dir_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn list_files(dir: &Path) -> Vec<PathBuf> {
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

fn dry_run(
    ctx: &Context,
    t: &LoadedTemplate,
    outcome: &RenderOutcome,
    final_dir: &Path,
    wopts: WriteOptions,
    diff: bool,
    output: ViewFormat,
) -> Result<Exit> {
    let files = list_files(&outcome.project_dir);
    // Predict what a real run would refuse.
    let mut existing = Vec::new();
    if final_dir.exists() {
        let non_empty = std::fs::read_dir(final_dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
        if non_empty && !wopts.force {
            return Err(idp::scaffold::ScaffoldError::TargetNotEmpty {
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
            return Err(idp::scaffold::ScaffoldError::WouldOverwrite {
                paths: existing.iter().map(|f| final_dir.join(f)).collect(),
            }
            .into());
        }
    }
    let mut out = ctx.ui.stdout();
    if let Some(data) = output.data() {
        let created = Created {
            template: t.name.clone(),
            project: final_dir.display().to_string(),
            files: files.iter().map(|f| f.display().to_string()).collect(),
            answers: outcome.answers.clone(),
            commit: None,
            warnings: outcome.warnings.clone(),
            validation: None,
            registered: None,
            dry_run: true,
        };
        write_data(&mut out, data, &created)?;
        return Ok(Exit::Ok);
    }
    writeln!(
        out,
        "Would create {} from {} ({} file{}, plus .idp/answers.yaml); nothing was written:",
        sanitize::line(&final_dir.display().to_string()),
        sanitize::line(&t.name),
        files.len(),
        if files.len() == 1 { "" } else { "s" },
    )?;
    for f in &files {
        let mark = if existing.contains(f) {
            "  (replaces an existing file)"
        } else {
            ""
        };
        writeln!(
            out,
            "  {}{mark}",
            sanitize::line(&final_dir.join(f).display().to_string())
        )?;
    }
    if diff {
        for f in &files {
            let bytes = std::fs::read(outcome.project_dir.join(f)).unwrap_or_default();
            let shown = format!("{}/{}", dir_name(final_dir), f.display());
            writeln!(out)?;
            match String::from_utf8(bytes) {
                Ok(text) => {
                    let lines: Vec<&str> = text.split_inclusive('\n').collect();
                    writeln!(out, "--- /dev/null")?;
                    writeln!(out, "+++ b/{shown}")?;
                    writeln!(out, "@@ -0,0 +1,{} @@", lines.len())?;
                    for l in lines {
                        out.write_all(b"+")?;
                        out.write_all(l.as_bytes())?;
                        if !l.ends_with('\n') {
                            writeln!(out)?;
                            writeln!(out, "\\ No newline at end of file")?;
                        }
                    }
                }
                Err(e) => writeln!(out, "Binary file b/{shown} ({} bytes)", e.as_bytes().len())?,
            }
        }
    }
    out.flush()?;
    Ok(Exit::Ok)
}

/// Checks the generated catalog-info.yaml the way `idp validate` would, as
/// if it were part of the catalog: owner exists, name unique.
fn validate_descriptor(
    ctx: &Context,
    catalog: Option<&idp::catalog::Catalog>,
    project: &Path,
) -> Result<Report> {
    use idp::catalog::load::{load_selected, Loaded};
    use idp::catalog::snapshot::{FileSet, Snapshot};
    use idp::catalog::validate::{validate, Scope};
    use idp::catalog::{Catalog, Origin};

    let set = FileSet::new(project, &[PathBuf::from("catalog-info.yaml")])?;
    let names: Vec<&str> = set.files().iter().map(|f| f.path.as_str()).collect();
    let mut loaded = load_selected(&set, &names);
    let new_file = names.first().map(|s| s.to_string()).unwrap_or_default();
    let (config, origin, check_references) = match catalog {
        Some(c) => {
            // The new entities join the catalog's; duplicates then show as
            // "defined twice", missing owners as dangling references.
            // A project made inside the catalog's working tree is already
            // part of it: its own descriptor is not a second definition.
            let own = project.join("catalog-info.yaml").canonicalize().ok();
            let new_keys: std::collections::HashSet<String> = loaded
                .entities
                .iter()
                .map(|e| e.entity_ref().key())
                .collect();
            let is_own = |e: &idp::catalog::Entity| {
                c.origin.commit.is_none()
                    && new_keys.contains(&e.entity_ref().key())
                    && Path::new(&c.origin.location)
                        .join(&e.source.file)
                        .canonicalize()
                        .ok()
                        == own
            };
            let mut entities: Vec<_> = c.entities.iter().filter(|e| !is_own(e)).cloned().collect();
            entities.append(&mut loaded.entities);
            loaded = Loaded {
                entities,
                rejected: loaded.rejected,
                problems: loaded.problems,
                files: loaded.files,
            };
            (c.config.clone(), Origin::default(), true)
        }
        None => (Default::default(), Origin::default(), false),
    };
    let combined = Catalog::new(loaded, config, origin);
    let files: std::collections::HashSet<String> = [new_file].into_iter().collect();
    let scope = Scope {
        files: Some(&files),
        check_references,
        today: ctx.settings.today(),
    };
    let read = |path: &str| -> Option<String> {
        set.read(path).ok().and_then(|b| String::from_utf8(b).ok())
    };
    let mut report = validate(&combined, &scope, &read);
    for p in report.errors.iter_mut().chain(report.warnings.iter_mut()) {
        p.file = project.join(&p.file).display().to_string();
    }
    Ok(report)
}

/// Where `--register` needs the catalog: a checkout on disk, in a git
/// repository (with `push`, one with an `origin`). Checked before anything
/// is asked.
fn register_preflight(location: Option<&CatalogLocation>, push: bool) -> Result<PathBuf> {
    let Some(CatalogLocation::Dir(root)) = location else {
        return Err(idp::scaffold::ScaffoldError::InvalidValue {
            name: "--register".into(),
            message: "needs a catalog checkout on disk (--catalog <dir>)".into(),
        }
        .into());
    };
    idp::scaffold::backstage::register::preflight(root, push)?;
    Ok(root.clone())
}

/// A registration checked against the catalog repository, to commit once
/// the project is in place.
struct PlannedRegistration {
    root: PathBuf,
    descriptor: Vec<u8>,
    name: String,
    rel: String,
}

/// Reads the descriptor to register (`rel` in the rendered `project`) and
/// checks that its branch and path are free in the catalog repository.
fn plan_registration(
    t: &LoadedTemplate,
    root: &Path,
    project: &Path,
    rel: PathBuf,
    push: bool,
) -> Result<PlannedRegistration> {
    let path = project.join(&rel);
    let descriptor =
        std::fs::read(&path).map_err(|_| idp::scaffold::ScaffoldError::InvalidValue {
            name: "--register".into(),
            message: format!(
                "the template made no {}, so there is nothing to register; nothing was written",
                rel.display()
            ),
        })?;
    // The template wrote this file: parse it under the descriptor budgets
    // (nesting, nodes, alias expansion), like any file of the catalog.
    let docs = idp::catalog::parse::parse_file(&descriptor).map_err(|e| {
        let (line, column) = e.position();
        anyhow::Error::new(e).context(format!(
            "reading the generated {}:{line}:{column}",
            rel.display()
        ))
    })?;
    let doc = docs.into_iter().next().map_or(Value::Null, |d| d.value);
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let target = idp::scaffold::backstage::register::target_path(t.entity.as_ref(), &name);
    idp::scaffold::backstage::register::check(root, &name, &target, push)?;
    Ok(PlannedRegistration {
        root: root.to_path_buf(),
        descriptor,
        name,
        rel: target,
    })
}

fn register(ctx: &Context, r: PlannedRegistration, push: bool) -> Result<RegisteredView> {
    use idp::scaffold::backstage::register::Push;
    // Pushing over HTTPS authenticates with GITHUB_TOKEN when it is set.
    let token = ctx.settings.token("GITHUB_TOKEN");
    let push = if push {
        Push::ToOrigin {
            token: token.as_ref(),
        }
    } else {
        Push::No
    };
    let done = idp::scaffold::backstage::register::register(
        &r.root,
        &r.descriptor,
        &r.name,
        &r.rel,
        push,
    )?;
    ctx.ui.note(&format!(
        "registered on branch {} (from {})",
        done.branch, done.base
    ));
    Ok(RegisteredView {
        branch: done.branch,
        path: done.path,
        commit: done.commit,
        pushed: done.pushed,
    })
}

fn write_created(ctx: &Context, out: &mut dyn Write, c: &Created) -> Result<()> {
    writeln!(
        out,
        "Created {} from {} ({} file{}{}).",
        sanitize::line(&c.project),
        sanitize::line(&c.template),
        c.files.len(),
        if c.files.len() == 1 { "" } else { "s" },
        match &c.commit {
            Some(id) => format!(", first commit {}", &id[..7.min(id.len())]),
            None => String::new(),
        }
    )?;
    if let Some(r) = &c.registered {
        writeln!(
            out,
            "Registered {} in the catalog on branch {}{}.",
            sanitize::line(&r.path),
            sanitize::line(&r.branch),
            if r.pushed { " (pushed to origin)" } else { "" }
        )?;
    }
    if let Some(report) = &c.validation {
        if report.errors.is_empty() && report.warnings.is_empty() {
            if !ctx.ui.quiet {
                writeln!(out, "catalog-info.yaml is valid against the catalog.")?;
            }
        } else {
            let problem = |p: &Problem| {
                sanitize::line(&format!("{}:{}: {}", p.file, p.line, p.message)).into_owned()
            };
            for p in &report.errors {
                writeln!(out, "error: {}", problem(p))?;
            }
            for p in &report.warnings {
                writeln!(out, "warning: {}", problem(p))?;
            }
            if !report.errors.is_empty() {
                writeln!(out, "The generated catalog-info.yaml does not pass `idp validate`; the files were kept.")?;
            }
        }
    }
    Ok(())
}
