//! Rendering of entities: the `list` table, CSV and JSON, and the `show` page.

use std::io::{self, Write};

use serde_json::{Map, Value};

use super::sanitize;
use super::style::{paint, DIM, HEADER};
use super::table::{Column, Table};
use super::Ui;
use crate::catalog::fields::default_kind;
use crate::catalog::refs::{EntityRef, DEFAULT_NAMESPACE};
use crate::catalog::{Catalog, Entity};

/// An entity as JSON: `ref` first, then the descriptor, its relations and
/// where it was read from.
pub fn entity_json(entity: &Entity) -> Value {
    let mut map = Map::new();
    map.insert("ref".into(), Value::String(entity.entity_ref().to_string()));
    if let Value::Object(doc) = entity.to_json() {
        map.extend(doc);
    }
    map.insert(
        "source".into(),
        serde_json::json!({"file": entity.source.file, "line": entity.source.line, "document": entity.source.document}),
    );
    Value::Object(map)
}

/// A reference field in the short form users type (`payments`, not
/// `group:default/payments`).
fn short_ref(e: &Entity, field: &str) -> String {
    let Some(text) = e.spec_str(field) else {
        return String::new();
    };
    let kind = default_kind(&e.kind_key(), field);
    EntityRef::parse(text, kind, &e.namespace)
        .map(|r| r.short(kind))
        .unwrap_or_else(|_| text.to_string())
}

fn short_name(e: &Entity) -> String {
    if e.namespace.eq_ignore_ascii_case(DEFAULT_NAMESPACE) {
        e.name.clone()
    } else {
        format!("{}/{}", e.namespace, e.name)
    }
}

/// The `list` table.
pub fn list_table(out: &mut dyn Write, ui: &Ui, entities: &[&Entity]) -> io::Result<()> {
    if entities.is_empty() {
        return writeln!(out, "No entities match.");
    }
    // Who and what first; the title is the first to shrink and to go.
    let mut table = Table::new([
        Column::keep("Name", 100),
        Column::keep("Kind", 80),
        Column::keep("Owner", 90),
        Column::shrink("Type", 50, 7),
        Column::shrink("Lifecycle", 60, 10),
        Column::shrink("System", 40, 8),
        Column::shrink("Title", 10, 12),
    ]);
    for e in entities {
        let spec = |f: &str| e.spec_str(f).unwrap_or("").to_string();
        table.add_row([
            short_name(e),
            e.kind.clone(),
            short_ref(e, "owner"),
            spec("type"),
            spec("lifecycle"),
            short_ref(e, "system"),
            e.title.clone().unwrap_or_default(),
        ]);
    }
    ui.write_table(out, &table)?;
    let noun = if entities.len() == 1 {
        "entity"
    } else {
        "entities"
    };
    writeln!(
        out,
        "{}",
        paint(ui.color, DIM, &format!("{} {noun}", entities.len()))
    )
}

/// The `list` CSV (one header row; tags joined with `;`).
pub fn list_csv(out: &mut dyn Write, entities: &[&Entity]) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let header = [
        "ref",
        "kind",
        "namespace",
        "name",
        "title",
        "owner",
        "type",
        "lifecycle",
        "system",
        "tags",
        "file",
        "line",
    ];
    w.write_record(header).map_err(io::Error::other)?;
    for e in entities {
        let spec = |f: &str| e.spec_str(f).unwrap_or("").to_string();
        w.write_record([
            e.entity_ref().to_string(),
            e.kind.clone(),
            e.namespace.clone(),
            e.name.clone(),
            e.title.clone().unwrap_or_default(),
            spec("owner"),
            spec("type"),
            spec("lifecycle"),
            spec("system"),
            e.tags().join(";"),
            e.source.file.clone(),
            e.source.line.to_string(),
        ])
        .map_err(io::Error::other)?;
    }
    w.flush()
}

/// The `show` page.
pub fn show(
    out: &mut dyn Write,
    ui: &Ui,
    catalog: &Catalog,
    entity: &Entity,
    source_path: &str,
) -> io::Result<()> {
    let h = |s: &str| paint(ui.color, HEADER, s);
    let dim = |s: &str| paint(ui.color, DIM, s);
    writeln!(out, "{}", h(&sanitize::line(entity.display_name())))?;
    writeln!(
        out,
        "{}",
        dim(&sanitize::line(&entity.entity_ref().to_string()))
    )?;
    if let Some(d) = entity.metadata_str("description") {
        writeln!(out, "{}", sanitize::block(d.trim()))?;
    }
    writeln!(out)?;

    let mut rows: Vec<(&str, String)> = Vec::new();
    let kind_detail: Vec<&str> = ["type", "lifecycle"]
        .iter()
        .filter_map(|f| entity.spec_str(f))
        .collect();
    let kind = if kind_detail.is_empty() {
        entity.kind.clone()
    } else {
        format!("{} ({})", entity.kind, kind_detail.join(", "))
    };
    rows.push(("Kind", kind));
    let tags = entity.tags();
    if !tags.is_empty() {
        rows.push(("Tags", tags.join(", ")));
    }
    if let Some(Value::Object(labels)) = entity.lookup("metadata.labels") {
        let text: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}={}", scalar(v)))
            .collect();
        rows.push(("Labels", text.join(", ")));
    }
    rows.push(("Source", source_path.to_string()));
    for (k, v) in rows {
        writeln!(out, "{}  {}", h(&format!("{k:<10}")), sanitize::line(&v))?;
    }

    let spec = entity.doc().get("spec").and_then(Value::as_object);
    if let Some(spec) = spec.filter(|s| !s.is_empty()) {
        writeln!(out)?;
        writeln!(out, "{}", h("Spec"))?;
        let mut table = Table::new([Column::keep("Field", 100), Column::shrink("Value", 50, 12)]);
        for (k, v) in spec {
            table.add_row([k.clone(), spec_value(v)]);
        }
        ui.write_table(out, &table)?;
    }

    if !entity.relations.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", h("Relations"))?;
        let mut table = Table::new([
            Column::keep("Relation", 90),
            Column::shrink("Entity", 10, 12),
            Column::keep("Ref", 100),
        ]);
        for r in &entity.relations {
            let title = match catalog.get(&r.target) {
                Some(t) => t.display_name().to_string(),
                None => format!("{} (not in the catalog)", r.target.name),
            };
            table.add_row([r.kind.as_str().to_string(), title, r.target.to_string()]);
        }
        ui.write_table(out, &table)?;
    }

    let links = entity.links();
    if !links.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", h("Links"))?;
        let mut table = Table::new([
            Column::shrink("Title", 50, 10),
            Column::shrink("URL", 100, 24),
            Column::shrink("Type", 10, 6),
        ]);
        for l in links {
            table.add_row([
                l.title.unwrap_or_default(),
                l.url,
                l.kind.or(l.icon).unwrap_or_default(),
            ]);
        }
        ui.write_table(out, &table)?;
    }

    if let Some(Value::Object(ann)) = entity.lookup("metadata.annotations") {
        if !ann.is_empty() {
            writeln!(out)?;
            writeln!(out, "{}", h("Annotations"))?;
            let mut table = Table::new([
                Column::shrink("Key", 100, 20),
                Column::shrink("Value", 50, 12),
            ]);
            for (k, v) in ann {
                table.add_row([k.clone(), scalar(v)]);
            }
            ui.write_table(out, &table)?;
        }
    }
    Ok(())
}

/// A list or map on one line, YAML flow style without the outer brackets.
fn inline(v: &Value) -> String {
    let nested = |v: &Value| match v {
        Value::Object(_) => format!("{{{}}}", inline(v)),
        Value::Array(_) => format!("[{}]", inline(v)),
        other => scalar(other),
    };
    match v {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", nested(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(items) => items.iter().map(nested).collect::<Vec<_>>().join(", "),
        other => scalar(other),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Longest spec value shown, in characters (`-o yaml` shows all).
const SPEC_VALUE_MAX: usize = 400;

/// A spec value on one line, so each field stays one row: a text of
/// several lines as its first line and a count, lists and maps inline
/// (`a, b`; `key: value, key: value`; nested ones in brackets).
fn spec_value(v: &Value) -> String {
    let text = match v {
        Value::String(s) => {
            let s = s.trim();
            let lines = s.lines().count();
            if lines > 1 {
                let first = s.lines().next().unwrap_or_default().trim_end();
                return format!("{first} … ({lines} lines; -o yaml shows all)");
            }
            s.to_string()
        }
        other => inline(other),
    };
    if text.chars().count() <= SPEC_VALUE_MAX {
        return text;
    }
    let head: String = text.chars().take(SPEC_VALUE_MAX).collect();
    format!("{head}… (-o yaml shows all)")
}

#[cfg(test)]
mod tests {
    use super::spec_value;
    use serde_json::json;

    #[test]
    fn spec_values_are_one_line() {
        assert_eq!(spec_value(&json!(["a", "b"])), "a, b");
        assert_eq!(
            spec_value(&json!({"displayName": "Payments", "tags": ["x", 1], "o": {"k": null}})),
            "displayName: Payments, tags: [x, 1], o: {k: null}"
        );
        assert_eq!(
            spec_value(&json!("openapi: 3.0.3\ninfo:\n  title: X\n")),
            "openapi: 3.0.3 … (3 lines; -o yaml shows all)"
        );
        let long = spec_value(&json!("x".repeat(500)));
        assert!(long.ends_with("… (-o yaml shows all)"));
        assert!(!long.contains('\n'));
    }
}
