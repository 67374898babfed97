//! What `idp` with no arguments prints: every command with its one-line
//! summary and its first example, taken from the clap definitions so the
//! overview never drifts from `--help`.

use std::io::{self, Write};

use clap::CommandFactory;

use crate::cli::Cli;

/// Writes the overview.
pub fn write(out: &mut dyn Write) -> io::Result<()> {
    let cmd = Cli::command();
    let rows: Vec<(String, String, Option<String>)> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| {
            let about = short(&s.get_about().map(|a| a.to_string()).unwrap_or_default());
            let example = s
                .get_after_help()
                .and_then(|h| first_example(&h.to_string()));
            (s.get_name().to_string(), about, example)
        })
        .collect();
    let width = rows.iter().map(|(n, _, _)| n.len()).max().unwrap_or(0) + 2;
    writeln!(
        out,
        "idp — your internal developer portal, in the terminal.\n\nCommands (each with an example):"
    )?;
    for (name, about, example) in rows {
        writeln!(out, "  {name:width$}{about}")?;
        if let Some(example) = example {
            writeln!(out, "  {:width$}$ {example}", "")?;
        }
    }
    writeln!(
        out,
        "\nNew here? `idp init my-catalog` creates a catalog to try.\n\
         `idp <command> --help` shows a command's flags and more examples; `idp --help` the global flags."
    )
}

/// A summary cut at a word boundary so one line stays one line.
fn short(about: &str) -> String {
    const MAX: usize = 64;
    if about.chars().count() <= MAX {
        return about.to_string();
    }
    let cut: String = about.chars().take(MAX).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', ':', ';', ' ']))
}

/// The first line after "Examples:" in an `after_help`.
fn first_example(after_help: &str) -> Option<String> {
    after_help
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("Examples:"))
        .nth(1)
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_an_example() {
        let mut out = Vec::new();
        write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        for s in Cli::command()
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
        {
            let line = format!("  {}", s.get_name());
            assert!(text.contains(&line), "{line} missing:\n{text}");
            assert!(
                s.get_after_help()
                    .and_then(|h| first_example(&h.to_string()))
                    .is_some(),
                "{} has no example",
                s.get_name()
            );
        }
    }
}
