//! Human rendering of `who-owns`: the entity, its owner and how to reach
//! them, the parent chain, and the members.

use std::io::{self, Write};

use super::sanitize::{self, line_string};
use super::style::{paint, DIM, HEADER, STRONG};
use super::table::{Column, Table};
use super::Ui;
use crate::catalog::ownership::{AsOwner, MatchedBy, OwnerInfo, OwnerReport};

/// Writes one report.
pub fn render(out: &mut dyn Write, ui: &Ui, report: &OwnerReport) -> io::Result<()> {
    let dim = |s: &str| paint(ui.color, DIM, s);
    match (&report.entity, &report.matched) {
        (Some(entity), MatchedBy::Annotation { key, value }) => {
            ui.heading(out, &report.title, entity)?;
            writeln!(
                out,
                "{}",
                dim(&sanitize::line(&format!("matched by {key}: {value}")))
            )?;
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
                dim(&sanitize::line(&format!(
                    "owners from {file}:{line} (pattern {pattern})"
                )))
            )?;
        }
        (None, _) => writeln!(
            out,
            "{}",
            paint(ui.color, HEADER, &sanitize::line(&report.title))
        )?,
    }
    writeln!(out)?;
    match (&report.owner, &report.as_owner) {
        (Some(owner), _) => render_owner(out, ui, owner)?,
        (None, Some(me)) => render_as_owner(out, ui, me)?,
        (None, None) => writeln!(out, "No owner: the descriptor has no spec.owner.")?,
    }
    for extra in &report.additional_owners {
        writeln!(out)?;
        render_owner(out, ui, extra)?;
    }
    if report.live_configured {
        render_live(out, ui, report)?;
    }
    if !report.other_matches.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Also in this repository: {}",
            sanitize::line(&report.other_matches.join(", "))
        )?;
    }
    Ok(())
}

/// A Group or User asked about: it owns rather than is owned, so show how
/// to reach it, its groups or members, and what it owns.
fn render_as_owner(out: &mut dyn Write, ui: &Ui, me: &AsOwner) -> io::Result<()> {
    let kind = if me.info.kind == "user" {
        "user"
    } else {
        "group"
    };
    writeln!(
        out,
        "{}",
        dim_text(
            ui,
            &format!("A {kind}: it owns entities rather than having an owner.")
        )
    )?;
    writeln!(out)?;
    render_owner_rows(out, ui, &me.info, None)?;
    if kind == "user" {
        let groups: Vec<String> = me
            .member_of
            .iter()
            .map(|g| format!("{} ({})", g.display_name, g.entity_ref))
            .collect();
        let text = if groups.is_empty() {
            "no group".to_string()
        } else {
            groups.join(", ")
        };
        writeln!(
            out,
            "{}  {}",
            paint(ui.color, HEADER, &format!("{:<8}", "Groups")),
            sanitize::line(&text)
        )?;
    }
    render_members(out, ui, &me.info)?;
    writeln!(out)?;
    if me.owns.is_empty() {
        writeln!(out, "Owns nothing directly.")?;
        return Ok(());
    }
    writeln!(
        out,
        "{}",
        paint(ui.color, HEADER, &format!("Owns ({})", me.owns.len()))
    )?;
    let mut table = Table::new([Column::keep("Ref", 100), Column::shrink("Title", 10, 12)]);
    for o in &me.owns {
        table.add_row([o.entity_ref.clone(), o.title.clone()]);
    }
    ui.write_table(out, &table)
}

fn dim_text(ui: &Ui, text: &str) -> String {
    paint(ui.color, DIM, &sanitize::line(text))
}

fn render_owner(out: &mut dyn Write, ui: &Ui, owner: &OwnerInfo) -> io::Result<()> {
    let dim = |s: &str| paint(ui.color, DIM, s);
    let missing = if owner.exists {
        ""
    } else {
        "  (not in the catalog)"
    };
    let headline = format!(
        "{}  {}{missing}",
        paint(ui.color, STRONG, &sanitize::line(&owner.display_name)),
        dim(&sanitize::line(&owner.entity_ref))
    );
    render_owner_rows(out, ui, owner, Some(headline))?;
    render_members(out, ui, owner)
}

/// Owner (when `headline` is given), email, contacts and the parent chain.
fn render_owner_rows(
    out: &mut dyn Write,
    ui: &Ui,
    owner: &OwnerInfo,
    headline: Option<String>,
) -> io::Result<()> {
    let dim = |s: &str| paint(ui.color, DIM, s);
    let mut rows: Vec<(&str, String)> = Vec::new();
    if let Some(headline) = headline {
        rows.push(("Owner", headline));
    }
    if let Some(email) = &owner.email {
        rows.push(("Email", line_string(email.clone())));
    }
    for c in owner.contacts.iter().filter(|c| c.kind != "email") {
        let label = match c.kind.as_str() {
            "chat" => "Chat",
            "oncall" => "On-call",
            _ => "Link",
        };
        let text = match &c.label {
            Some(l) => format!("{}  {}", sanitize::line(l), dim(&sanitize::line(&c.value))),
            None => line_string(c.value.clone()),
        };
        rows.push((label, text));
    }
    if !owner.parents.is_empty() {
        let chain: Vec<&str> = owner
            .parents
            .iter()
            .map(|p| p.display_name.as_str())
            .collect();
        rows.push(("Part of", line_string(chain.join(" › "))));
    }
    for (key, value) in rows {
        writeln!(
            out,
            "{}  {value}",
            paint(ui.color, HEADER, &format!("{key:<8}"))
        )?;
    }
    Ok(())
}

/// The members of an existing group, as a table.
fn render_members(out: &mut dyn Write, ui: &Ui, owner: &OwnerInfo) -> io::Result<()> {
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
            // How to reach them before how to name them in the catalog.
            let mut table = Table::new([
                Column::shrink("Name", 100, 12),
                Column::shrink("Email", 90, 16),
                Column::shrink("Ref", 50, 16),
            ]);
            for m in &owner.members {
                table.add_row([
                    m.display_name.clone(),
                    m.email.clone().unwrap_or_default(),
                    m.entity_ref.clone(),
                ]);
            }
            ui.write_table(out, &table)?;
        }
    }
    Ok(())
}

/// On call now and the latest activity, from live data.
fn render_live(out: &mut dyn Write, ui: &Ui, report: &OwnerReport) -> io::Result<()> {
    let dim = |s: &str| paint(ui.color, DIM, s);
    writeln!(out)?;
    if report.oncall.is_empty() {
        let why = report.live_status.as_deref().unwrap_or("nobody");
        writeln!(
            out,
            "{:<12}{}",
            "On call",
            dim(&sanitize::line(&format!("unknown: {why}")))
        )?;
    }
    // The owner's on-call stands in for the entity's: say whose it is and
    // why the entity's own gave nobody.
    let from_owner = report
        .oncall_source
        .as_ref()
        .filter(|s| s["via"] == "owner");
    if let Some(source) = from_owner {
        let text = |k: &str| source[k].as_str().unwrap_or("").to_string();
        let own = match text("own").as_str() {
            "" => String::new(),
            own => format!("; {own}"),
        };
        writeln!(
            out,
            "{:<12}{}",
            "On call",
            dim(&sanitize::line(&format!(
                "(from the owner {}'s {}{own})",
                text("entity"),
                text("integration")
            )))
        )?;
    }
    for (i, person) in report.oncall.iter().enumerate() {
        let text = |k: &str| sanitize::line(person.get(k).and_then(|v| v.as_str()).unwrap_or(""));
        let email = match text("email").as_ref() {
            "" => String::new(),
            e => format!(" <{e}>"),
        };
        let level = person.get("level").and_then(|v| v.as_u64()).unwrap_or(0);
        let until = match text("until").as_ref() {
            "" => "permanently".to_string(),
            u => format!("until {u}"),
        };
        writeln!(
            out,
            "{:<12}{}{email}  {}",
            if i == 0 && from_owner.is_none() {
                "On call"
            } else {
                ""
            },
            paint(ui.color, STRONG, &text("name")),
            dim(&format!("level {level}, {until}"))
        )?;
    }
    if let Some(activity) = &report.latest_activity {
        let now = chrono::Utc::now();
        let when = |v: &serde_json::Value, key: &str| {
            v.get(key)
                .and_then(|d| d.as_str())
                .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                .map(|d| super::live::age(d.with_timezone(&chrono::Utc), now))
                .unwrap_or_default()
        };
        if let Some(c) = activity.get("last_commit") {
            let field = |k: &str, or: &'static str| {
                sanitize::line(c.get(k).and_then(|v| v.as_str()).unwrap_or(or)).into_owned()
            };
            let sha: String = field("sha", "").chars().take(7).collect();
            let author = field("author", "?");
            let message = field("message", "");
            writeln!(
                out,
                "{:<12}{sha} {message}  {}",
                "Last commit",
                dim(&format!("by {author}, {}", when(c, "date")))
            )?;
        }
        if let Some(d) = activity.get("last_deploy") {
            let what = ["ref", "revision", "sha"]
                .iter()
                .find_map(|k| d.get(*k).and_then(|v| v.as_str()))
                .unwrap_or("");
            writeln!(
                out,
                "{:<12}{}  {}",
                "Last deploy",
                sanitize::line(what),
                dim(&when(d, "created_at"))
            )?;
        }
    }
    Ok(())
}
