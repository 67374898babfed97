//! Rendering of validation problems: compiler-style messages with the
//! source line and a caret, a summary, and GitHub Actions annotations.

use std::io::{self, Write};

use super::style::{paint, DIM, ERROR, HEADER, WARNING};
use super::Ui;
use crate::catalog::validate::Report;
use crate::catalog::Problem;

/// Writes every problem and a summary line.
pub fn render(out: &mut dyn Write, ui: &Ui, report: &Report, checked: &str) -> io::Result<()> {
    for p in report.errors.iter().chain(&report.warnings) {
        render_one(out, ui, p)?;
    }
    let (e, w) = (report.errors.len(), report.warnings.len());
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let summary = format!(
        "{}, {} in {checked}",
        plural(e, "error"),
        plural(w, "warning")
    );
    let style = if e > 0 {
        ERROR
    } else if w > 0 {
        WARNING
    } else {
        HEADER
    };
    let mark = if e == 0 { "✓ " } else { "" };
    writeln!(
        out,
        "{}",
        paint(ui.color, style, &format!("{mark}{summary}"))
    )
}

fn render_one(out: &mut dyn Write, ui: &Ui, p: &Problem) -> io::Result<()> {
    let (label, style) = if p.is_error() {
        ("error", ERROR)
    } else {
        ("warning", WARNING)
    };
    writeln!(
        out,
        "{}: {}",
        paint(ui.color, style, &format!("{label}[{}]", p.code)),
        p.message
    )?;
    let entity = p
        .entity
        .as_deref()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    let gutter = p.line.to_string().len();
    writeln!(
        out,
        "{}{} {}:{}:{}{}",
        " ".repeat(gutter),
        paint(ui.color, DIM, "-->"),
        p.file,
        p.line,
        p.column,
        paint(ui.color, DIM, &entity)
    )?;
    if let Some(snippet) = &p.snippet {
        let bar = paint(ui.color, DIM, "|");
        writeln!(out, "{} {bar}", " ".repeat(gutter))?;
        writeln!(
            out,
            "{} {bar} {}",
            paint(ui.color, DIM, &p.line.to_string()),
            snippet.trim_end()
        )?;
        let pad: String = snippet
            .chars()
            .take(p.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        writeln!(
            out,
            "{} {bar} {pad}{}",
            " ".repeat(gutter),
            paint(ui.color, style, "^")
        )?;
    }
    writeln!(out)
}

/// `::error file=…,line=…,col=…::message` lines for GitHub Actions.
pub fn github_annotations(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    for (kind, p) in report
        .errors
        .iter()
        .map(|p| ("error", p))
        .chain(report.warnings.iter().map(|p| ("warning", p)))
    {
        let message = format!("[{}] {}", p.code, p.message)
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        let file = p.file.replace(',', "%2C").replace(':', "%3A");
        writeln!(
            out,
            "::{kind} file={file},line={},col={}::{message}",
            p.line, p.column
        )?;
    }
    Ok(())
}
