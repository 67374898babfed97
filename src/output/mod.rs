//! Rendering: the `Ui` handle (format, colour, width, quiet — decided once)
//! and one renderer module per view. Stdout carries data; stderr carries
//! notes and warnings. Renderers write to a `Write`, never print.

pub mod changes;
pub mod entities;
pub mod graph;
pub mod live;
pub mod owners;
pub mod problems;
pub mod score;
pub mod style;

use std::io::{self, Write};

use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;

pub use crate::cli::Format;

/// Output decisions, made once from flags and environment.
#[derive(Debug, Clone)]
pub struct Ui {
    /// Output format.
    pub format: Format,
    /// Whether to use ANSI colour on stdout.
    pub color: bool,
    /// Whether to use ANSI colour on stderr.
    pub color_err: bool,
    /// No notes or warnings on stderr.
    pub quiet: bool,
    /// Extra notes on stderr.
    pub verbose: u8,
    /// Terminal width for tables (`None`: do not wrap, e.g. when piped).
    pub width: Option<u16>,
    /// Running in GitHub Actions (print `::error` annotations).
    pub github_actions: bool,
}

impl Ui {
    /// A warning on stderr (unless `--quiet`).
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            let label = style::paint(self.color_err, style::WARNING, "warning");
            let _ = writeln!(io::stderr(), "{label}: {message}");
        }
    }

    /// A note on stderr, only with `-v`.
    pub fn note(&self, message: &str) {
        if self.verbose > 0 && !self.quiet {
            let _ = writeln!(io::stderr(), "{message}");
        }
    }

    /// The first line of an entity view: its title in bold, its reference dimmed.
    pub fn heading(&self, out: &mut dyn Write, title: &str, reference: &str) -> io::Result<()> {
        writeln!(
            out,
            "{}  {}",
            style::paint(self.color, style::HEADER, title),
            style::paint(self.color, style::DIM, reference)
        )
    }

    /// A table styled for this terminal: plain aligned columns (greppable,
    /// like `kubectl get`), bold headers when colour is on.
    pub fn table(&self, header: &[&str]) -> Table {
        let mut table = Table::new();
        table.load_preset(presets::NOTHING);
        table.set_content_arrangement(ContentArrangement::Dynamic);
        if let Some(w) = self.width {
            table.set_width(w);
        }
        table.set_header(
            header
                .iter()
                .map(|h| style::paint(self.color, style::HEADER, &h.to_uppercase())),
        );
        for column in table.column_iter_mut() {
            column.set_padding((0, 2));
        }
        table
    }

    /// Keeps the first `n` columns at their content width; the others wrap.
    pub fn keep_columns(table: &mut Table, n: usize) {
        for column in table.column_iter_mut().take(n) {
            column.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
        }
    }
}

/// Writes a value as pretty JSON or YAML per `format`.
pub fn write_data<T: Serialize>(out: &mut dyn Write, format: Format, value: &T) -> io::Result<()> {
    match format {
        Format::Yaml => {
            let text = serde_yaml::to_string(value).map_err(io::Error::other)?;
            out.write_all(text.as_bytes())
        }
        _ => {
            // io::Error::from keeps the original I/O error (a closed pipe stays one).
            serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::from)?;
            writeln!(out)
        }
    }
}
