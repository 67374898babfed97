//! Rendering of validation problems: compiler-style messages with the
//! source line and a caret, a summary, and GitHub Actions annotations.

use std::io::{self, Write};

use super::sanitize;
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
        "{}, {} in {}",
        plural(e, "error"),
        plural(w, "warning"),
        sanitize::line(checked)
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
        // messages quote names and values from the file
        sanitize::line(&p.message)
    )?;
    let entity = p
        .entity
        .as_deref()
        .map(|e| format!(" ({})", sanitize::line(e)))
        .unwrap_or_default();
    let gutter = p.line.to_string().len();
    writeln!(
        out,
        "{}{} {}:{}:{}{}",
        " ".repeat(gutter),
        paint(ui.color, DIM, "-->"),
        sanitize::line(&p.file),
        p.line,
        p.column,
        paint(ui.color, DIM, &entity)
    )?;
    if let Some(snippet) = &p.snippet {
        let (snippet, column) = excerpt(snippet.trim_end(), p.column);
        let bar = paint(ui.color, DIM, "|");
        writeln!(out, "{} {bar}", " ".repeat(gutter))?;
        writeln!(
            out,
            "{} {bar} {}",
            paint(ui.color, DIM, &p.line.to_string()),
            sanitize::block(&snippet)
        )?;
        // Under the sanitized text, so escapes before the column count.
        let before: String = snippet.chars().take(column.saturating_sub(1)).collect();
        let pad: String = sanitize::block(&before)
            .chars()
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

/// Characters of a source line shown around the column of a problem: a
/// hostile file can put megabytes on one line, and the excerpt must stay a
/// line on the screen.
const EXCERPT_CHARS: usize = 120;

/// The part of `line` shown for a problem at 1-based `column`: the whole
/// line when it is short, else a window around the column with `…` where it
/// was cut; returns the text and the column within it.
fn excerpt(line: &str, column: usize) -> (std::borrow::Cow<'_, str>, usize) {
    let len = line.chars().count();
    if len <= EXCERPT_CHARS {
        return (line.into(), column);
    }
    let at = column.saturating_sub(1).min(len);
    let start = at.saturating_sub(EXCERPT_CHARS / 2);
    let end = (start + EXCERPT_CHARS).min(len);
    let mut text = String::new();
    if start > 0 {
        text.push('…');
    }
    text.extend(line.chars().skip(start).take(end - start));
    if end < len {
        text.push('…');
    }
    (text.into(), at - start + 1 + usize::from(start > 0))
}

/// `::error file=…,line=…,col=…::message` lines for GitHub Actions, to be
/// written with `Guarded::command` (the only way a line may start with
/// `::`). Data in them is escaped the way the runner unescapes it
/// (actions/runner `ActionCommand`): `%`, CR and LF in the message; also
/// `:` and `,` in properties. Control characters are shown as escapes
/// first: the message lands in the log and the pull-request UI.
pub fn github_annotations(report: &Report) -> Vec<String> {
    report
        .errors
        .iter()
        .map(|p| ("error", p))
        .chain(report.warnings.iter().map(|p| ("warning", p)))
        .map(|(kind, p)| {
            let message = format!("[{}] {}", p.code, sanitize::block(&p.message));
            format!(
                "::{kind} file={},line={},col={}::{}",
                escape_property(&sanitize::line(&p.file)),
                p.line,
                p.column,
                escape_data(&message)
            )
        })
        .collect()
}

/// A workflow command's message.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_around_the_column() {
        assert_eq!(excerpt("a: 1", 4), ("a: 1".into(), 4));
        let line = format!("x: [{}]", "*a, ".repeat(1000));
        let (text, column) = excerpt(&line, 2000);
        assert_eq!(text.chars().count(), EXCERPT_CHARS + 2);
        assert!(text.starts_with('…') && text.ends_with('…'));
        let original: Vec<char> = line.chars().collect();
        assert_eq!(text.chars().nth(column - 1), Some(original[1999]));
        let (text, column) = excerpt(&line, 3);
        assert!(!text.starts_with('…') && text.ends_with('…'));
        assert_eq!(column, 3);
    }

    #[test]
    fn annotation_data_is_escaped_per_the_runner_rules() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a,b:c%d"), "a%2Cb%3Ac%25d");
    }
}
