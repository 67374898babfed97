//! Rendering of `history` and `diff`.

use std::io::{self, Write};

use super::sanitize;
use super::style::{paint, DIM, HEADER};
use super::Ui;
use crate::catalog::changes::describe;
use crate::catalog::history::{CatalogDiff, History};

/// `history` as text: one block per commit, its changes indented.
pub fn history(out: &mut dyn Write, ui: &Ui, h: &History, title: &str) -> io::Result<()> {
    ui.heading(out, title, &h.entity)?;
    if h.entries.is_empty() {
        return writeln!(out, "No commits change it.");
    }
    for e in &h.entries {
        let date = e.date.get(..10).unwrap_or(&e.date);
        writeln!(
            out,
            "\n{}  {}  {}  {}",
            paint(ui.color, HEADER, &e.commit[..e.commit.len().min(10)]),
            sanitize::line(date),
            sanitize::line(&e.author),
            sanitize::line(&e.summary)
        )?;
        for c in &e.changes {
            let line = if c.field == "entity" {
                "created".to_string()
            } else {
                describe(c)
            };
            writeln!(out, "    {}", sanitize::line(&line))?;
        }
    }
    Ok(())
}

/// `diff` as text.
pub fn diff_text(
    out: &mut dyn Write,
    ui: &Ui,
    d: &CatalogDiff,
    from: &str,
    to: &str,
) -> io::Result<()> {
    if d.is_empty() {
        return writeln!(out, "No catalog changes between {from} and {to}.");
    }
    writeln!(
        out,
        "{}",
        paint(
            ui.color,
            DIM,
            &format!("catalog changes from {from} to {to}")
        )
    )?;
    for (label, mark, list) in [("Added", "+", &d.added), ("Removed", "-", &d.removed)] {
        if !list.is_empty() {
            writeln!(out, "\n{} ({})", paint(ui.color, HEADER, label), list.len())?;
            for r in list {
                writeln!(out, "  {mark} {}", sanitize::line(&r.to_string()))?;
            }
        }
    }
    if !d.changed.is_empty() {
        writeln!(
            out,
            "\n{} ({})",
            paint(ui.color, HEADER, "Changed"),
            d.changed.len()
        )?;
        for e in &d.changed {
            writeln!(out, "  ~ {}", sanitize::line(&e.entity.to_string()))?;
            for c in &e.changes {
                writeln!(out, "      {}", sanitize::line(&describe(c)))?;
            }
        }
    }
    for (label, mark, list) in [
        ("Relations added", "+", &d.relations_added),
        ("Relations removed", "-", &d.relations_removed),
    ] {
        if !list.is_empty() {
            writeln!(out, "\n{} ({})", paint(ui.color, HEADER, label), list.len())?;
            for r in list {
                let text = format!("{} {} {}", r.from, r.relation, r.to);
                writeln!(out, "  {mark} {}", sanitize::line(&text))?;
            }
        }
    }
    Ok(())
}

/// `diff` as Markdown, for a pull-request comment.
pub fn diff_markdown(out: &mut dyn Write, d: &CatalogDiff, from: &str, to: &str) -> io::Result<()> {
    writeln!(out, "### Catalog changes (`{from}` → `{to}`)\n")?;
    if d.is_empty() {
        return writeln!(out, "No catalog changes.");
    }
    writeln!(
        out,
        "**{}** added · **{}** removed · **{}** changed · **{}** relations added · **{}** removed\n",
        d.added.len(),
        d.removed.len(),
        d.changed.len(),
        d.relations_added.len(),
        d.relations_removed.len()
    )?;
    for (label, list) in [("Added", &d.added), ("Removed", &d.removed)] {
        if !list.is_empty() {
            writeln!(out, "#### {label}\n")?;
            for r in list {
                writeln!(out, "- `{}`", sanitize::line(&r.to_string()))?;
            }
            writeln!(out)?;
        }
    }
    if !d.changed.is_empty() {
        writeln!(out, "#### Changed\n")?;
        writeln!(out, "| Entity | Field | From | To |")?;
        writeln!(out, "| --- | --- | --- | --- |")?;
        for e in &d.changed {
            for c in &e.changes {
                writeln!(
                    out,
                    "| `{}` | `{}` | {} | {} |",
                    sanitize::line(&e.entity.to_string()),
                    sanitize::line(&c.field),
                    cell(&c.from),
                    cell(&c.to)
                )?;
            }
        }
        writeln!(out)?;
    }
    if !d.relations_added.is_empty() || !d.relations_removed.is_empty() {
        writeln!(out, "#### Relations\n")?;
        for (mark, list) in [("+", &d.relations_added), ("−", &d.relations_removed)] {
            for r in list {
                let text = format!("`{}` {} `{}`", r.from, r.relation, r.to);
                writeln!(out, "- {mark} {}", sanitize::line(&text))?;
            }
        }
    }
    Ok(())
}

fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) => {
            let first = sanitize::line(s.lines().next().unwrap_or("")).replace('|', "\\|");
            if s.lines().count() > 1 {
                format!("`{first}…`")
            } else {
                format!("`{first}`")
            }
        }
        other => format!(
            "`{}`",
            sanitize::line(&other.to_string()).replace('|', "\\|")
        ),
    }
}
