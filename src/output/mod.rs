//! Rendering: the `Ui` handle (human or data, colour, width, quiet — decided once)
//! and one renderer module per view. Stdout carries data; stderr carries
//! notes and warnings. Renderers write to a `Write`, never print.
//!
//! Terminal safety: human renderers pass every piece of data through
//! [`sanitize::line`] or [`sanitize::block`] before laying it out or
//! painting it, and commands write through [`Ui::stdout`] / [`Ui::stderr`],
//! whose [`guard`] escapes what a renderer missed, redacts secrets and keeps
//! data from starting GitHub Actions workflow commands.

pub mod changes;
pub mod cost;
pub mod dora;
pub mod entities;
pub mod format;
pub mod graph;
pub mod guard;
pub mod json_stream;
pub mod live;
pub mod owners;
pub mod problems;
pub mod scaffold;
pub mod score;
pub mod style;
pub mod table;

use std::io::{self, Write};

use serde::Serialize;

pub use format::{Data, OutputFormat};
pub use idp::sanitize;

use guard::{Guarded, Policy};

/// Output decisions, made once from flags and environment.
#[derive(Debug, Clone)]
pub struct Ui {
    /// The command's output format is text for people (see
    /// [`OutputFormat::is_human`]), not data.
    pub human: bool,
    /// Whether to use ANSI colour on stdout.
    pub color: bool,
    /// Whether to use ANSI colour on stderr.
    pub color_err: bool,
    /// No notes or warnings on stderr.
    pub quiet: bool,
    /// Extra notes on stderr.
    pub verbose: u8,
    /// Terminal width for tables (`None`: no limit, e.g. when piped).
    pub width: Option<u16>,
    /// Running in GitHub Actions (print `::error` annotations).
    pub github_actions: bool,
}

impl Ui {
    /// Stdout for a command's result, guarded for the output format.
    pub fn stdout(&self) -> Guarded<io::StdoutLock<'static>> {
        Guarded::new(
            io::stdout().lock(),
            Policy {
                human: self.human,
                color: self.color,
                github: self.github_actions,
            },
        )
    }

    /// Stderr (always human: notes, warnings, errors, logs), guarded.
    pub fn stderr(&self) -> Guarded<io::StderrLock<'static>> {
        Guarded::new(
            io::stderr().lock(),
            Policy {
                human: true,
                color: self.color_err,
                github: self.github_actions,
            },
        )
    }

    /// A warning on stderr (unless `--quiet`). `message` may quote data.
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            let label = style::paint(self.color_err, style::WARNING, "warning");
            let _ = writeln!(self.stderr(), "{label}: {}", sanitize::block(message));
        }
    }

    /// A note on stderr, only with `-v`. `message` may quote data.
    pub fn note(&self, message: &str) {
        if self.verbose > 0 && !self.quiet {
            let _ = writeln!(self.stderr(), "{}", sanitize::block(message));
        }
    }

    /// Lines for a person on stderr (a step log), unless `--quiet`.
    pub fn log_lines<S: AsRef<str>>(&self, lines: &[S]) {
        if !self.quiet {
            let mut err = self.stderr();
            for line in lines {
                let _ = writeln!(err, "{}", sanitize::block(line.as_ref()));
            }
        }
    }

    /// The first line of an entity view: its title in bold, its reference
    /// dimmed (both data).
    pub fn heading(&self, out: &mut dyn Write, title: &str, reference: &str) -> io::Result<()> {
        writeln!(
            out,
            "{}  {}",
            style::paint(self.color, style::HEADER, &sanitize::line(title)),
            style::paint(self.color, style::DIM, &sanitize::line(reference))
        )
    }

    /// Writes `table` laid out for this terminal (see [`table`]): plain
    /// aligned columns (greppable, like `kubectl get`), bold headers when
    /// colour is on, one line per row. Columns that did not fit are named
    /// once per run in a note on stderr (unless `--quiet`).
    pub fn write_table(&self, out: &mut dyn Write, table: &table::Table) -> io::Result<()> {
        // COLUMNS=0 means no usable width, as when it is unset.
        let width = self.width.map(usize::from).filter(|w| *w > 0);
        let hidden = table.write(out, self.color, width)?;
        if !self.quiet {
            if let Some(note) = table::hidden_note(&hidden, width) {
                let _ = writeln!(self.stderr(), "{note}");
            }
        }
        Ok(())
    }
}

/// Writes a value as pretty JSON or YAML.
pub fn write_data<T: Serialize>(out: &mut dyn Write, data: Data, value: &T) -> io::Result<()> {
    match data {
        Data::Yaml => {
            let text = idp::yaml::to_string(value).map_err(io::Error::other)?;
            out.write_all(text.as_bytes())
        }
        Data::Json => {
            // io::Error::from keeps the original I/O error (a closed pipe stays one).
            serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::from)?;
            writeln!(out)
        }
    }
}
