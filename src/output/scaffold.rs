//! Human renderers of the scaffolding views: the template list, a template
//! (`scaffold show`), a created project or a dry run's preview (with
//! `--diff`, each file as a unified diff against nothing), an update, a
//! check and template tests (text and JUnit). JSON/YAML go through
//! [`write_data`](super::write_data) from the same values; `UpdateView` and
//! `TestView` are the serialized forms of results that are not serde
//! structs themselves.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use idp::catalog::Problem;
use idp::scaffold::create::{dir_name, Created};
use idp::scaffold::describe::TemplateView;
use idp::scaffold::fixtures::FixtureResult;
use idp::scaffold::merge::{ConflictKind, Counts, Outcome};
use idp::scaffold::source::TemplateInfo;
use idp::scaffold::update::{version_json, CheckReport, UpdatePlan};
use idp::scaffold::{TemplateSource, Updated};

use super::table::{Column, Table};
use super::{sanitize, Ui};

// ------------------------------------------------------------------ list

/// `scaffold list`: one row per template, or where to add some.
pub fn list(
    out: &mut dyn Write,
    ui: &Ui,
    templates: &[TemplateInfo],
    templates_dir: &str,
) -> io::Result<()> {
    if templates.is_empty() {
        return writeln!(
            out,
            "No templates: add kind: Template entities or cookiecutter directories under {templates_dir}/",
        );
    }
    let mut table = Table::new([
        Column::keep("name", 100),
        Column::keep("kind", 90),
        Column::shrink("description", 10, 16),
        Column::shrink("path", 50, 12),
    ]);
    for t in templates {
        let about = match (&t.title, &t.description) {
            (Some(title), Some(d)) => format!("{title}: {d}"),
            (Some(x), None) | (None, Some(x)) => x.clone(),
            (None, None) => String::new(),
        };
        table.add_row([
            t.name.clone(),
            t.kind.as_str().to_string(),
            about,
            t.path.clone(),
        ]);
    }
    ui.write_table(out, &table)
}

// ------------------------------------------------------------------ show

fn short(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `scaffold show`: what the template is, asks and does.
pub fn show(out: &mut dyn Write, ui: &Ui, v: &TemplateView) -> io::Result<()> {
    ui.heading(
        out,
        v.title.as_deref().unwrap_or(&v.name),
        &format!("{} template", v.kind),
    )?;
    if let Some(d) = &v.description {
        writeln!(out, "{}", sanitize::block(d))?;
    }
    writeln!(out, "name:       {}", sanitize::line(&v.name))?;
    match &v.source {
        TemplateSource::Catalog { catalog, path } => {
            writeln!(out, "source:     {path} in catalog {catalog}")?
        }
        TemplateSource::Dir { repo, subdir } if subdir.is_empty() => {
            writeln!(out, "source:     {repo}")?
        }
        TemplateSource::Dir { repo, subdir } => writeln!(out, "source:     {subdir} in {repo}")?,
    }
    if let Some(c) = &v.commit {
        writeln!(out, "commit:     {c}")?;
    }
    if !v.variables.is_empty() {
        writeln!(
            out,
            "\nVariables (cookiecutter.json order; --set NAME=VALUE):"
        )?;
        let mut table = Table::new([
            Column::keep("name", 100),
            Column::keep("kind", 70),
            // the question asked and the choices before a default that is
            // often a long template expression
            Column::shrink("default", 10, 12),
            Column::shrink("choices / prompt", 60, 20),
        ]);
        for var in &v.variables {
            let extra = if var.choices.is_empty() {
                var.prompt.clone().unwrap_or_default()
            } else {
                var.choices.iter().map(short).collect::<Vec<_>>().join(", ")
            };
            table.add_row([
                var.name.clone(),
                var.kind.to_string(),
                short(&var.default),
                extra,
            ]);
        }
        ui.write_table(out, &table)?;
    }
    if !v.parameters.is_empty() {
        writeln!(out, "\nParameters (--set NAME=VALUE):")?;
        let mut table = Table::new([
            Column::shrink("page", 30, 8),
            Column::keep("name", 100),
            Column::keep("type", 70),
            Column::keep("required", 80),
            Column::shrink("default", 10, 12),
            Column::shrink("enum / field", 50, 16),
        ]);
        for p in &v.parameters {
            let extra = if p.choices.is_empty() {
                p.field.clone().unwrap_or_default()
            } else {
                p.choices.iter().map(short).collect::<Vec<_>>().join(", ")
            };
            table.add_row([
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
            ]);
        }
        ui.write_table(out, &table)?;
    }
    if !v.steps.is_empty() {
        writeln!(out, "\nSteps:")?;
        let mut table = Table::new([
            Column::keep("id", 100),
            Column::keep("action", 90),
            Column::shrink("name", 10, 12),
            Column::shrink("if", 50, 12),
        ]);
        for s in &v.steps {
            table.add_row([
                s.id.clone(),
                s.action.clone(),
                s.name.clone().unwrap_or_default(),
                s.condition.as_ref().map(short).unwrap_or_default(),
            ]);
        }
        ui.write_table(out, &table)?;
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

/// A created project: the summary line, the registration, the descriptor's
/// validation, then the template's `spec.output` links and text.
pub fn created(out: &mut dyn Write, ui: &Ui, c: &Created) -> io::Result<()> {
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
            if !ui.quiet {
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
    // Names the catalog already holds: the template's entityRef links would
    // point at those other entities.
    let taken: Vec<String> = c
        .validation
        .iter()
        .flat_map(|r| &r.errors)
        .filter(|p| p.code == "duplicate-entity")
        .filter_map(|p| p.entity.clone())
        .collect();
    for line in idp::scaffold::backstage::output_lines(c.output.as_ref(), &taken) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// A dry run: the files that would be created (and, when the preview kept
/// them, their contents as diffs against nothing).
pub fn preview(out: &mut dyn Write, c: &Created) -> io::Result<()> {
    let project = Path::new(&c.project);
    writeln!(
        out,
        "Would create {} from {} ({} file{}, plus .idp/answers.yaml); nothing was written:",
        sanitize::line(&c.project),
        sanitize::line(&c.template),
        c.files.len(),
        if c.files.len() == 1 { "" } else { "s" },
    )?;
    for f in &c.files {
        let mark = if c.replaces.contains(f) {
            "  (replaces an existing file)"
        } else {
            ""
        };
        writeln!(
            out,
            "  {}{mark}",
            sanitize::line(&project.join(f).display().to_string())
        )?;
    }
    for (f, bytes) in c.files.iter().zip(&c.contents) {
        let shown = format!("{}/{}", dir_name(project), f);
        writeln!(out)?;
        write_addition(out, &shown, bytes)?;
    }
    Ok(())
}

/// One new file as a unified diff against nothing (a binary file as one
/// line).
fn write_addition(out: &mut dyn Write, shown: &str, bytes: &[u8]) -> io::Result<()> {
    match std::str::from_utf8(bytes) {
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
            Ok(())
        }
        Err(_) => writeln!(out, "Binary file b/{shown} ({} bytes)", bytes.len()),
    }
}

// ------------------------------------------------------------------ check

/// `scaffold check`: up to date, or what to run.
pub fn check(out: &mut dyn Write, report: &CheckReport, dir: &Path) -> io::Result<()> {
    if report.newer {
        writeln!(out, "update available: {}", report.template)?;
        writeln!(out, "  recorded  {}", report.recorded)?;
        writeln!(out, "  latest    {}", report.latest)?;
        writeln!(
            out,
            "run `idp scaffold update {}` to apply it",
            dir.display()
        )
    } else {
        writeln!(
            out,
            "up to date: {} at {}",
            report.template, report.recorded
        )
    }
}

// ------------------------------------------------------------------ update

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

/// `scaffold update`: one line per file and the counts.
pub fn update(out: &mut dyn Write, u: &Updated) -> io::Result<()> {
    let plan = &u.plan;
    if plan.up_to_date() {
        writeln!(out, "up to date: {} at {}", u.template, plan.from)?;
        return Ok(());
    }
    let head = if u.dry_run { "would update" } else { "updated" };
    writeln!(out, "{head} {}: {} -> {}", u.template, plan.from, plan.to)?;
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
    if u.dry_run {
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

/// `scaffold update -o json`.
#[derive(Serialize)]
pub struct UpdateView {
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
    /// The serialized form of an update.
    pub fn new(u: &Updated) -> Self {
        let plan: &UpdatePlan = &u.plan;
        UpdateView {
            project: plan.project.display().to_string(),
            template: plan.new_answers.template.clone(),
            from: version_json(&plan.from),
            to: version_json(&plan.to),
            up_to_date: plan.up_to_date(),
            dry_run: u.dry_run,
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

/// `scaffold test -o json`.
#[derive(Serialize)]
pub struct TestView<'a> {
    /// The template's name.
    pub template: &'a str,
    /// Values files that passed.
    pub passed: usize,
    /// Values files that failed.
    pub failed: usize,
    /// One result per values file.
    pub results: &'a [FixtureResult],
}

/// `scaffold test`: one line per values file, its problems, the total.
pub fn tests(out: &mut dyn Write, results: &[FixtureResult]) -> io::Result<()> {
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
    writeln!(out, "{passed} of {} values files passed", results.len())
}

/// `scaffold test -o junit`: one test case per values file.
pub fn tests_junit(
    out: &mut dyn Write,
    template: &str,
    results: &[FixtureResult],
) -> io::Result<()> {
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
    report.serialize(&mut xml).map_err(io::Error::other)?;
    out.write_all(&xml)?;
    writeln!(out)
}
