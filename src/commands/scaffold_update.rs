//! `idp scaffold update`, `check` and `test`: keeping generated projects on
//! the golden path, and template CI. The work is in
//! `idp::scaffold::{update, fixtures}`; this file turns arguments into one
//! call each and renders the result.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};
use serde::Serialize;

use idp::scaffold::fixtures::{run_fixture, FixtureResult};
use idp::scaffold::merge::{ConflictKind, ConflictMode, Counts, Outcome};
use idp::scaffold::update::{version_json, ProjectTemplate, UpdateOptions, UpdatePlan};
use idp::scaffold::{ScaffoldError, ScaffoldOptions, TemplateSource};

use crate::catalog::discover::classify;
use crate::cli::{ConflictArg, ScaffoldCheckArgs, ScaffoldTestArgs, ScaffoldUpdateArgs};
use crate::exit::Exit;
use crate::output::format::TestFormat;
use crate::output::{write_data, Data};

use super::{Context, Open};

/// Opens the project's template repository, resolving a catalog location
/// the way every command does (a remote catalog through its cached clone).
/// An explicit `--catalog` (or `IDP_CATALOG`) wins over the location the
/// answers file records: the catalog moved, or CI has its own checkout.
fn open_project(ctx: &Context, dir: &Path) -> Result<ProjectTemplate> {
    let project = ctx.settings.cwd.join(dir);
    let opener = |recorded: &str| -> std::result::Result<(git2::Repository, String), String> {
        let location = ctx.settings.catalog.as_deref().unwrap_or(recorded);
        let loc = classify(location, &ctx.settings.cwd);
        let handle = ctx
            .repository(&loc, "scaffold update")
            .map_err(|e| format!("{e:#}"))?;
        Ok((handle.repo, handle.subdir))
    };
    Ok(ProjectTemplate::open(&project, &opener)?)
}

// ------------------------------------------------------------------ check

/// `idp scaffold check [DIR]`.
pub fn check(ctx: &Context, args: ScaffoldCheckArgs) -> Result<Exit> {
    let pt = open_project(ctx, &args.dir)?;
    let report = pt.check()?;
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None if report.newer => {
            writeln!(out, "update available: {}", report.template)?;
            writeln!(out, "  recorded  {}", report.recorded)?;
            writeln!(out, "  latest    {}", report.latest)?;
            writeln!(
                out,
                "run `idp scaffold update {}` to apply it",
                args.dir.display()
            )?;
        }
        None => {
            writeln!(
                out,
                "up to date: {} at {}",
                report.template, report.recorded
            )?;
        }
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
    let pt = open_project(ctx, &args.dir)?;
    // Backstage templates may read the catalog (pickers, catalog:write):
    // --catalog, else the one the template came from, else the usual one.
    let location = match (&ctx.settings.catalog, &pt.answers.source) {
        (None, TemplateSource::Catalog { catalog, .. }) => {
            Some(classify(catalog, &ctx.settings.cwd))
        }
        _ => ctx.locate().ok().map(|(location, _)| location),
    };
    let catalog = location.and_then(|l| ctx.open_at(&l, Open::INDEXED).ok());
    let plan = pt.plan(&opts, catalog.map(|o| &o.catalog))?;
    for w in &plan.warnings {
        ctx.ui.warn(w);
    }
    if !args.dry_run {
        plan.apply()
            .with_context(|| format!("updating {}", plan.project.display()))?;
    }
    let counts = plan.merge.counts();
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => write_update(&mut out, &plan, &pt.answers.template, args.dry_run)?,
        Some(data) => write_data(&mut out, data, &UpdateView::new(&plan, args.dry_run))?,
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

/// The verb and the detail shown for one file.
fn describe(outcome: &Outcome) -> (&'static str, Option<String>) {
    match outcome {
        Outcome::Added => ("added", None),
        Outcome::Updated => ("updated", None),
        Outcome::Merged => ("merged", None),
        Outcome::Deleted => ("deleted", None),
        Outcome::Conflict(kind) => (
            "conflict",
            Some(match kind {
                ConflictKind::Markers(n) => {
                    format!("{n} conflicting region{}, markers in the file", s(*n))
                }
                ConflictKind::Rej(n) => {
                    format!("{n} conflicting region{}, see the .rej file", s(*n))
                }
                ConflictKind::Binary => {
                    "binary: yours kept, the template's in the .new file".into()
                }
            }),
        ),
        Outcome::Skipped(_) => {
            let text = outcome.to_string();
            let detail = text
                .strip_prefix("skipped (")
                .and_then(|t| t.strip_suffix(')'))
                .map(str::to_string);
            ("skipped", detail)
        }
    }
}

fn s(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn write_update(
    out: &mut dyn Write,
    plan: &UpdatePlan,
    template: &str,
    dry_run: bool,
) -> Result<()> {
    if plan.up_to_date() {
        writeln!(out, "up to date: {template} at {}", plan.from)?;
        return Ok(());
    }
    let head = if dry_run { "would update" } else { "updated" };
    writeln!(out, "{head} {template}: {} -> {}", plan.from, plan.to)?;
    for change in &plan.merge.changes {
        let (verb, detail) = describe(&change.outcome);
        let path = change.path.display();
        match detail {
            Some(d) => writeln!(out, "  {verb:<9} {path}  ({d})")?,
            None => writeln!(out, "  {verb:<9} {path}")?,
        }
    }
    let c = plan.merge.counts();
    writeln!(out, "{}", summary(&c))?;
    if dry_run {
        writeln!(out, "dry run: nothing was written")?;
    }
    Ok(())
}

fn summary(c: &Counts) -> String {
    let parts: Vec<String> = [
        (c.updated, "updated"),
        (c.merged, "merged"),
        (c.added, "added"),
        (c.deleted, "deleted"),
        (
            c.conflicts,
            if c.conflicts == 1 {
                "conflict"
            } else {
                "conflicts"
            },
        ),
        (c.skipped, "skipped"),
    ]
    .iter()
    .map(|(n, w)| format!("{n} {w}"))
    .collect();
    parts.join(", ")
}

#[derive(Serialize)]
struct ChangeView {
    path: String,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

#[derive(Serialize)]
struct UpdateView {
    project: String,
    template: String,
    from: serde_json::Value,
    to: serde_json::Value,
    up_to_date: bool,
    dry_run: bool,
    counts: Counts,
    changes: Vec<ChangeView>,
}

impl UpdateView {
    fn new(plan: &UpdatePlan, dry_run: bool) -> Self {
        UpdateView {
            project: plan.project.display().to_string(),
            template: plan.new_answers.template.clone(),
            from: version_json(&plan.from),
            to: version_json(&plan.to),
            up_to_date: plan.up_to_date(),
            dry_run,
            counts: plan.merge.counts(),
            changes: plan
                .merge
                .changes
                .iter()
                .map(|c| {
                    let (outcome, detail) = describe(&c.outcome);
                    ChangeView {
                        path: c.path.to_string_lossy().replace('\\', "/"),
                        outcome,
                        detail,
                    }
                })
                .collect(),
        }
    }
}

// ------------------------------------------------------------------ test

#[derive(Serialize)]
struct TestView<'a> {
    template: &'a str,
    passed: usize,
    failed: usize,
    results: &'a [FixtureResult],
}

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
        TestFormat::Table => write_tests(&mut out, &results)?,
        TestFormat::Junit => write_junit(&mut out, &template.name, &results)?,
        TestFormat::Json => write_data(&mut out, Data::Json, &view)?,
        TestFormat::Yaml => write_data(&mut out, Data::Yaml, &view)?,
    }
    out.flush()?;
    Ok(if failed > 0 { Exit::Failed } else { Exit::Ok })
}

fn write_tests(out: &mut dyn Write, results: &[FixtureResult]) -> Result<()> {
    for r in results {
        if r.passed {
            let what = if r.check.entities.is_empty() {
                String::new()
            } else {
                format!("  ({})", r.check.entities.join(", "))
            };
            writeln!(out, "pass  {}{what}", r.values)?;
        } else {
            let n = r.check.errors.len() + usize::from(r.error.is_some());
            writeln!(out, "fail  {}: {n} problem{}", r.values, s(n))?;
        }
        if let Some(e) = &r.error {
            writeln!(out, "      {e}")?;
        }
        for p in &r.check.errors {
            writeln!(out, "      error: {p}")?;
        }
        for p in &r.check.warnings {
            writeln!(out, "      warning: {p}")?;
        }
    }
    let passed = results.iter().filter(|r| r.passed).count();
    writeln!(out, "{passed} of {} values files passed", results.len())?;
    Ok(())
}

fn write_junit(out: &mut dyn Write, template: &str, results: &[FixtureResult]) -> Result<()> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("idp scaffold test");
    let mut suite = TestSuite::new(template);
    for r in results {
        let status = if r.passed {
            TestCaseStatus::success()
        } else {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let mut lines: Vec<String> = r.error.iter().cloned().collect();
            lines.extend(r.check.errors.iter().map(|p| p.to_string()));
            s.set_message(lines.join("; "));
            s
        };
        let mut case = TestCase::new(r.values.as_str(), status);
        case.set_classname(template);
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);
    // Serialized in memory first: a closed pipe then stays an I/O error
    // (exit 0) instead of becoming a JUnit serialization error.
    let mut xml = Vec::new();
    report.serialize(&mut xml).map_err(std::io::Error::other)?;
    out.write_all(&xml)?;
    writeln!(out)?;
    Ok(())
}
