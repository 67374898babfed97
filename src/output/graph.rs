//! Rendering of `impact` (a table of dependents) and `graph` (an indented
//! tree, Graphviz dot, or Mermaid).

use std::fmt::Write as _;
use std::io::{self, Write};

use super::sanitize;
use super::style::{paint, DIM, HEADER, WARNING};
use super::table::{Column, Table};
use super::Ui;
use crate::catalog::graph::{Impact, Neighbourhood, TreeNode};

/// The `impact` table.
pub fn impact_table(out: &mut dyn Write, ui: &Ui, impact: &Impact, title: &str) -> io::Result<()> {
    ui.heading(out, title, &impact.entity)?;
    if impact.dependents.is_empty() {
        return writeln!(out, "Nothing in the catalog depends on it.");
    }
    // Whom to notify first; the path that led there goes first.
    let mut table = Table::new([
        Column::keep("Depth", 60),
        Column::keep("Entity", 100),
        Column::shrink("Via", 10, 10),
        Column::keep("Owner", 90),
        Column::shrink("Contact", 80, 16),
    ]);
    for d in &impact.dependents {
        // The parent only: the full path of every dependent would grow with
        // the square of a chain's length.
        let via = d
            .via
            .iter()
            .map(|v| v.rsplit(['/', ':']).next().unwrap_or(v).to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let entity = if d.exists {
            d.entity.clone()
        } else {
            format!("{} (not in the catalog)", d.entity)
        };
        let contact = d
            .contacts
            .iter()
            .find(|c| c.kind == "email")
            .or(d.contacts.first())
            .map(|c| c.label.clone().unwrap_or_else(|| c.value.clone()))
            .unwrap_or_default();
        table.add_row([
            d.depth.to_string(),
            entity,
            if via.is_empty() {
                "(direct)".into()
            } else {
                format!("via {via}")
            },
            d.owner.as_deref().map(short_owner).unwrap_or_default(),
            contact,
        ]);
    }
    ui.write_table(out, &table)?;
    let mut owners: Vec<&str> = impact
        .dependents
        .iter()
        .filter_map(|d| d.owner.as_deref())
        .collect();
    owners.sort();
    owners.dedup();
    let summary = format!(
        "{} dependent{}, {} owner{} to notify",
        impact.dependents.len(),
        if impact.dependents.len() == 1 {
            ""
        } else {
            "s"
        },
        owners.len(),
        if owners.len() == 1 { "" } else { "s" },
    );
    writeln!(out, "{}", paint(ui.color, DIM, &summary))
}

/// `group:default/payments` → `payments` (the form users type).
fn short_owner(r: &str) -> String {
    r.strip_prefix("group:default/").unwrap_or(r).to_string()
}

/// The indented tree.
pub fn tree(out: &mut dyn Write, ui: &Ui, n: &Neighbourhood, title: &str) -> io::Result<()> {
    ui.heading(out, title, &n.entity)?;
    for (label, nodes) in [("uses", &n.uses), ("used by", &n.used_by)] {
        if nodes.is_empty() {
            continue;
        }
        writeln!(out, "{}", paint(ui.color, HEADER, &format!("{label}:")))?;
        let mut text = String::new();
        for (i, node) in nodes.iter().enumerate() {
            node_lines(&mut text, ui, node, "", i + 1 == nodes.len());
        }
        out.write_all(text.as_bytes())?;
    }
    if n.uses.is_empty() && n.used_by.is_empty() {
        writeln!(out, "No dependencies in either direction.")?;
    }
    Ok(())
}

fn node_lines(text: &mut String, ui: &Ui, node: &TreeNode, prefix: &str, last: bool) {
    let branch = if last { "└── " } else { "├── " };
    let relation = node.relation.as_deref().unwrap_or("");
    let mut marks = String::new();
    if !node.exists {
        marks.push_str(&paint(ui.color, WARNING, "  (not in the catalog)"));
    }
    if node.cycle {
        marks.push_str(&paint(ui.color, WARNING, "  ↻ cycle"));
    }
    if node.repeated {
        marks.push_str(&paint(ui.color, DIM, "  (see above)"));
    }
    if node.truncated {
        marks.push_str(&paint(
            ui.color,
            DIM,
            "  (deeper levels not nested: -o dot, mermaid or json list them all)",
        ));
    }
    let _ = writeln!(
        text,
        "{prefix}{branch}{} {}  {}{marks}",
        paint(ui.color, DIM, &format!("{}:", sanitize::line(relation))),
        sanitize::line(&node.title),
        paint(ui.color, DIM, &sanitize::line(&node.entity))
    );
    let child_prefix = format!("{prefix}{}", if last { "    " } else { "│   " });
    for (i, child) in node.children.iter().enumerate() {
        node_lines(text, ui, child, &child_prefix, i + 1 == node.children.len());
    }
}

/// Graphviz dot.
pub fn dot(out: &mut dyn Write, n: &Neighbourhood) -> io::Result<()> {
    writeln!(out, "digraph catalog {{")?;
    writeln!(out, "  rankdir=LR;")?;
    writeln!(
        out,
        "  node [shape=box, style=rounded, fontname=\"Helvetica\"];"
    )?;
    for (r, title, exists) in &n.nodes {
        let style = if r == &n.entity {
            ", style=\"rounded,bold\""
        } else if !exists {
            ", style=\"rounded,dashed\""
        } else {
            ""
        };
        writeln!(
            out,
            // the label's line break is Graphviz's `\n`, added after quoting
            "  {} [label=\"{}\\n{}\"{style}];",
            quote(r),
            quote_inner(title),
            quote_inner(r)
        )?;
    }
    for e in &n.edges {
        writeln!(
            out,
            "  {} -> {} [label={}];",
            quote(&e.from),
            quote(&e.to),
            quote(&e.relation)
        )?;
    }
    writeln!(out, "}}")
}

/// A dot string: sanitized as a single-line field (see `sanitize`), then
/// quoted.
fn quote(s: &str) -> String {
    format!("\"{}\"", quote_inner(s))
}

fn quote_inner(s: &str) -> String {
    sanitize::line(s).replace('\\', "\\\\").replace('"', "\\\"")
}

/// Mermaid flowchart.
pub fn mermaid(out: &mut dyn Write, n: &Neighbourhood) -> io::Result<()> {
    writeln!(out, "graph LR")?;
    let id = |r: &str| {
        r.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<String>()
    };
    for (r, title, exists) in &n.nodes {
        let label = format!(
            "{}<br/><small>{}</small>",
            sanitize::line(title),
            sanitize::line(r)
        )
        .replace('"', "#quot;");
        let shape = if *exists {
            format!("[\"{label}\"]")
        } else {
            format!("[/\"{label}\"/]")
        };
        writeln!(out, "  {}{shape}", id(r))?;
    }
    for e in &n.edges {
        writeln!(
            out,
            "  {} -->|{}| {}",
            id(&e.from),
            sanitize::line(&e.relation),
            id(&e.to)
        )?;
    }
    writeln!(out, "  style {} stroke-width:3px", id(&n.entity))
}
