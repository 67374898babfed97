//! Human rendering of live data: the "Live" section of `show`, the on-call
//! lines of `who-owns`, the `enrich` summary and the `doctor` table.

use std::collections::BTreeMap;
use std::io::{self, Write};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::sanitize;
use super::style::{paint, DIM, HEADER, STRONG};
use super::table::{Column, Table};
use super::Ui;
use crate::integrations::{Outcome, Status};

/// "3 min ago", "2 h ago": how old data is.
pub fn age(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds().max(0);
    match secs {
        0..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}

/// A fact value on one line (objects in a list one per line), every
/// string in it sanitized as a single-line field.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => sanitize::line(s).into_owned(),
        Value::Array(items) if items.is_empty() => "none".into(),
        // Objects one per line (alerts, on-calls); scalars on one line.
        Value::Array(items) if items.iter().any(Value::is_object) => {
            items.iter().map(value_text).collect::<Vec<_>>().join("\n")
        }
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        Value::Object(map) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{}: {}", sanitize::line(k), value_text(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// The "Live" section of `show`: one block per integration.
pub fn section(
    out: &mut dyn Write,
    ui: &Ui,
    outcomes: Option<&BTreeMap<String, Outcome>>,
    off_reason: Option<&str>,
) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{}", paint(ui.color, HEADER, "Live"))?;
    let dim = |s: &str| paint(ui.color, DIM, s);
    let outcomes = match (outcomes, off_reason) {
        (Some(o), _) if !o.is_empty() => o,
        (_, Some(why)) => {
            writeln!(out, "  {}", dim(&sanitize::line(why)))?;
            return Ok(());
        }
        _ => {
            writeln!(out, "  {}", dim("no integrations configured in idp.yaml"))?;
            return Ok(());
        }
    };
    let now = Utc::now();
    for (name, o) in outcomes {
        let name = &sanitize::line(name);
        match o.status {
            Status::Ok => {
                let origin = match o.source.as_str() {
                    "network" => String::new(),
                    other => format!(", from the {other} copy"),
                };
                writeln!(
                    out,
                    "  {}  {}",
                    paint(ui.color, STRONG, name),
                    dim(&format!("fetched {}{origin}", age(o.fetched_at, now)))
                )?;
                facts(out, &o.facts, &o.unavailable_facts)?;
            }
            Status::Absent => writeln!(
                out,
                "  {}  {}",
                paint(ui.color, STRONG, name),
                dim(&format!(
                    "absent: {}",
                    sanitize::line(o.reason.as_deref().unwrap_or("not linked"))
                ))
            )?,
            Status::Unavailable => writeln!(
                out,
                "  {}  unavailable: {}",
                paint(ui.color, STRONG, name),
                sanitize::line(o.reason.as_deref().unwrap_or("unknown error"))
            )?,
        }
    }
    Ok(())
}

/// Facts as `key  value` lines under the integration, values of several
/// lines indented to the value column; a fact that failed alone shows
/// `unavailable: why` in its place.
fn facts(
    out: &mut dyn Write,
    facts: &serde_json::Map<String, Value>,
    failed: &BTreeMap<String, String>,
) -> io::Result<()> {
    // Nulls are facts that do not apply (a Group has no repository): the
    // JSON keeps them, the human view leaves them out.
    let present: Vec<_> = facts
        .iter()
        .filter_map(|(k, v)| match failed.get(k) {
            Some(why) => Some((
                sanitize::line(k),
                format!("unavailable: {}", sanitize::line(why)),
            )),
            None if v.is_null() => None,
            None => Some((sanitize::line(k), value_text(v))),
        })
        .collect();
    let width = present
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    if present.is_empty() {
        writeln!(out, "    (no facts)")?;
    }
    for (key, text) in present {
        let mut lines = text.lines();
        writeln!(out, "    {key:<width$}  {}", lines.next().unwrap_or(""))?;
        for line in lines {
            writeln!(out, "    {:<width$}  {line}", "")?;
        }
    }
    Ok(())
}

/// The `enrich` summary: one row per integration.
pub fn enrich_summary(
    out: &mut dyn Write,
    ui: &Ui,
    entities: usize,
    rows: &[[String; 5]],
) -> io::Result<()> {
    writeln!(
        out,
        "Live data for {entities} entit{}:",
        if entities == 1 { "y" } else { "ies" }
    )?;
    let mut table = Table::new([
        Column::keep("integration", 100),
        Column::keep("ok", 90),
        Column::keep("absent", 70),
        Column::keep("unavailable", 80),
        Column::shrink("why unavailable", 10, 16),
    ]);
    for row in rows {
        table.add_row(row.clone());
    }
    ui.write_table(out, &table)
}
