//! Human rendering of `who-owns`: the entity, its owner and how to reach
//! them, the parent chain, and the members.

use std::io::{self, Write};

use super::style::{paint, DIM, HEADER, STRONG};
use super::Ui;
use crate::catalog::ownership::{MatchedBy, OwnerInfo, OwnerReport};

/// Writes one report.
pub fn render(out: &mut dyn Write, ui: &Ui, report: &OwnerReport) -> io::Result<()> {
    let dim = |s: &str| paint(ui.color, DIM, s);
    match (&report.entity, &report.matched) {
        (Some(entity), MatchedBy::Annotation { key, value }) => {
            ui.heading(out, &report.title, entity)?;
            writeln!(out, "{}", dim(&format!("matched by {key}: {value}")))?;
        }
        (Some(entity), _) => ui.heading(out, &report.title, entity)?,
        (
            None,
            MatchedBy::Codeowners {
                file,
                line,
                pattern,
            },
        ) => {
            ui.heading(
                out,
                &report.title,
                "(no catalog entity for this repository)",
            )?;
            writeln!(
                out,
                "{}",
                dim(&format!("owners from {file}:{line} (pattern {pattern})"))
            )?;
        }
        (None, _) => writeln!(out, "{}", paint(ui.color, HEADER, &report.title))?,
    }
    writeln!(out)?;
    match &report.owner {
        None => writeln!(out, "No owner: the descriptor has no spec.owner.")?,
        Some(owner) => render_owner(out, ui, owner)?,
    }
    for extra in &report.additional_owners {
        writeln!(out)?;
        render_owner(out, ui, extra)?;
    }
    if !report.other_matches.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Also in this repository: {}",
            report.other_matches.join(", ")
        )?;
    }
    Ok(())
}

fn render_owner(out: &mut dyn Write, ui: &Ui, owner: &OwnerInfo) -> io::Result<()> {
    let dim = |s: &str| paint(ui.color, DIM, s);
    let mut rows: Vec<(&str, String)> = Vec::new();
    let missing = if owner.exists {
        ""
    } else {
        "  (not in the catalog)"
    };
    rows.push((
        "Owner",
        format!(
            "{}  {}{missing}",
            paint(ui.color, STRONG, &owner.display_name),
            dim(&owner.entity_ref)
        ),
    ));
    if let Some(email) = &owner.email {
        rows.push(("Email", email.clone()));
    }
    for c in owner.contacts.iter().filter(|c| c.kind != "email") {
        let label = match c.kind.as_str() {
            "chat" => "Chat",
            "oncall" => "On-call",
            _ => "Link",
        };
        let text = match &c.label {
            Some(l) => format!("{l}  {}", dim(&c.value)),
            None => c.value.clone(),
        };
        rows.push((label, text));
    }
    if !owner.parents.is_empty() {
        let chain: Vec<&str> = owner
            .parents
            .iter()
            .map(|p| p.display_name.as_str())
            .collect();
        rows.push(("Part of", chain.join(" › ")));
    }
    for (key, value) in rows {
        writeln!(
            out,
            "{}  {value}",
            paint(ui.color, HEADER, &format!("{key:<8}"))
        )?;
    }
    if owner.kind == "group" && owner.exists {
        writeln!(out)?;
        if owner.members.is_empty() {
            writeln!(out, "No members listed.")?;
        } else {
            writeln!(
                out,
                "{}",
                paint(
                    ui.color,
                    HEADER,
                    &format!("Members ({})", owner.members.len())
                )
            )?;
            let mut table = ui.table(&["Name", "Email", "Ref"]);
            for m in &owner.members {
                table.add_row(vec![
                    m.display_name.clone(),
                    m.email.clone().unwrap_or_default(),
                    m.entity_ref.clone(),
                ]);
            }
            writeln!(out, "{}", table.trim_fmt())?;
        }
    }
    Ok(())
}
