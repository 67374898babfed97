//! `idp scaffold update`, `check` and `test`: keeping generated projects on
//! the golden path, and template CI. The work is in
//! `idp::scaffold::{update, fixtures}`; this file turns arguments into one
//! call each and renders the result.

use std::io::Write;
use std::path::Path;

use crate::command_error::{CommandError, Result};

use idp::catalog::Catalog;
use idp::scaffold::fixtures::{run_fixture, FixtureResult};
use idp::scaffold::merge::ConflictMode;
use idp::scaffold::update::{ProjectTemplate, UpdateFailed, UpdateHost, UpdateOptions};
use idp::scaffold::{ScaffoldError, ScaffoldOptions, TemplateSource, UpdateRequest};

use crate::catalog::discover::classify;
use crate::cli::{ConflictArg, ScaffoldCheckArgs, ScaffoldTestArgs, ScaffoldUpdateArgs};
use crate::exit::Exit;
use crate::output::format::TestFormat;
use crate::output::scaffold::{self as render, TestView, UpdateView};
use crate::output::{write_data, Data};

use super::{Context, Open};

/// Opens the project's template repository, resolving a catalog location
/// the way every command does (a remote catalog through its cached clone).
/// An explicit `--catalog` (or `IDP_CATALOG`) wins over the location the
/// answers file records: the catalog moved, or CI has its own checkout.
fn open_project(ctx: &Context, dir: &Path) -> Result<ProjectTemplate> {
    let project = ctx.settings.cwd.join(dir);
    let opener = |recorded: &str| catalog_repo(ctx, recorded);
    Ok(ProjectTemplate::open(&project, &opener)?)
}

/// The git repository of a catalog location recorded in an answers file,
/// and the catalog's folder inside it.
fn catalog_repo(ctx: &Context, recorded: &str) -> Result<(git2::Repository, String), String> {
    let location = ctx.settings.catalog.as_deref().unwrap_or(recorded);
    let loc = classify(location, &ctx.settings.cwd);
    let handle = ctx
        .repository(&loc, "scaffold update")
        .map_err(|e| format!("{e:#}"))?;
    Ok((handle.repo, handle.subdir))
}

// ------------------------------------------------------------------ check

/// `idp scaffold check [DIR]`.
pub fn check(ctx: &Context, args: ScaffoldCheckArgs) -> Result<Exit> {
    let pt = open_project(ctx, &args.dir)?;
    let report = pt.check()?;
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => render::check(&mut out, &report, &args.dir)?,
        Some(data) => write_data(&mut out, data, &report.to_json())?,
    }
    out.flush()?;
    Ok(if report.newer {
        Exit::NewerVersion
    } else {
        Exit::Ok
    })
}

// ------------------------------------------------------------------ update

/// `idp scaffold update [DIR]`.
pub fn update(ctx: &Context, args: ScaffoldUpdateArgs) -> Result<Exit> {
    let mut values = ScaffoldOptions::default();
    for file in &args.values {
        values.add_values_file(&ctx.settings.cwd.join(file))?;
    }
    for s in &args.set {
        values.set(s)?;
    }
    let opts = UpdateOptions {
        conflict: match args.conflict {
            ConflictArg::Inline => ConflictMode::Inline,
            ConflictArg::Rej => ConflictMode::Rej,
        },
        force: args.force,
        dry_run: args.dry_run,
        trust: args.trust,
        skip_unknown_actions: args.skip_unknown_actions,
        values: values.values,
        max_output_bytes: args.max_output_bytes,
        env: ctx.settings.env.clone(),
        ..UpdateOptions::default()
    };
    let request = UpdateRequest {
        project: ctx.settings.cwd.join(&args.dir),
        options: opts,
    };
    let updated = idp::scaffold::update(request, &mut Host { ctx }).map_err(|e| match e {
        // The inner error decides the exit status (crate::command_error).
        UpdateFailed::Plan(e) => e.into(),
        UpdateFailed::Apply { project, source } => {
            CommandError::from(*source).context(format!("updating {}", project.display()))
        }
    })?;
    let counts = updated.plan.merge.counts();
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => render::update(&mut out, &updated)?,
        Some(data) => write_data(&mut out, data, &UpdateView::new(&updated))?,
    }
    out.flush()?;
    if counts.conflicts > 0 && !args.dry_run {
        ctx.ui.warn(&format!(
            "{} file{} with conflicts: resolve them (search for <<<<<<< or read the .rej/.new files), then commit",
            counts.conflicts,
            if counts.conflicts == 1 { "" } else { "s" }
        ));
        return Ok(Exit::Failed);
    }
    Ok(Exit::Ok)
}

/// The command's side of [`idp::scaffold::update`]: the catalog found the
/// way the global flags say, warnings to stderr.
struct Host<'c, 'a> {
    ctx: &'c Context<'a>,
}

impl UpdateHost for Host<'_, '_> {
    fn open_catalog_repo(&self, recorded: &str) -> Result<(git2::Repository, String), String> {
        catalog_repo(self.ctx, recorded)
    }

    /// Backstage templates may read the catalog (pickers, catalog:write):
    /// --catalog, else the one the template came from, else the usual one.
    fn catalog(&mut self, source: &TemplateSource) -> Option<&Catalog> {
        let ctx = self.ctx;
        let location = match (&ctx.settings.catalog, source) {
            (None, TemplateSource::Catalog { catalog, .. }) => {
                Some(classify(catalog, &ctx.settings.cwd))
            }
            _ => ctx.locate().ok().map(|(location, _)| location),
        };
        location
            .and_then(|l| ctx.open_at(&l, Open::INDEXED).ok())
            .map(|o| &o.catalog)
    }

    fn warn(&mut self, message: &str) {
        self.ctx.ui.warn(message);
    }
}

// ------------------------------------------------------------------ test

/// `idp scaffold test TEMPLATE --values FILE…`.
pub fn test(ctx: &Context, args: ScaffoldTestArgs) -> Result<Exit> {
    let (template, cat) = super::scaffold::resolve_template(ctx, &args.template)?;
    let catalog = cat.as_ref().map(|(opened, _)| &opened.catalog);
    if catalog.is_none() {
        ctx.ui.warn(
            "no catalog found: descriptors are checked on their own (owners and name clashes are not checked)",
        );
    }
    let mut base = ScaffoldOptions {
        trust: args.trust,
        skip_unknown_actions: args.skip_unknown_actions,
        max_output_bytes: args.max_output_bytes,
        env: ctx.settings.env.clone(),
        today: ctx.settings.today(),
        ..ScaffoldOptions::default()
    };
    for s in &args.set {
        base.set(s)?;
    }
    // A values file that cannot be read or parsed is bad input (exit 2
    // naming it), not a failed test.
    for file in &args.values {
        ScaffoldOptions::default()
            .add_values_file(&ctx.settings.cwd.join(file))
            .map_err(|e| match e {
                // Named as typed.
                ScaffoldError::ValuesFile { message, .. } => ScaffoldError::ValuesFile {
                    path: file.clone(),
                    message,
                },
                other => other,
            })?;
    }
    let results: Vec<FixtureResult> = args
        .values
        .iter()
        .map(|file| {
            let mut r = run_fixture(&template, &ctx.settings.cwd.join(file), &base, catalog);
            r.values = file.display().to_string();
            r
        })
        .collect();
    let passed = results.iter().filter(|r| r.passed).count();
    let failed = results.len() - passed;
    let mut out = ctx.ui.stdout();
    let view = TestView {
        template: &template.name,
        passed,
        failed,
        results: &results,
    };
    match args.output {
        TestFormat::Table => render::tests(&mut out, &results)?,
        TestFormat::Junit => render::tests_junit(&mut out, &template.name, &results)?,
        TestFormat::Json => write_data(&mut out, Data::Json, &view)?,
        TestFormat::Yaml => write_data(&mut out, Data::Yaml, &view)?,
    }
    out.flush()?;
    Ok(if failed > 0 { Exit::Failed } else { Exit::Ok })
}
