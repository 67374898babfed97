//! Rendering of entities: the `list` table, CSV and JSON, and the `show` page.

use std::io::{self, Write};

use serde_json::{Map, Value};

use super::sanitize::{self, block_string, line_string};
use super::style::{paint, DIM, HEADER};
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
    let mut table = ui.table(&[
        "Name",
        "Kind",
        "Owner",
        "Type",
        "Lifecycle",
        "System",
        "Title",
    ]);
    for e in entities {
        let spec = |f: &str| e.spec_str(f).unwrap_or("").to_string();
        table.add_row(
            [
                short_name(e),
                e.kind.clone(),
                short_ref(e, "owner"),
                spec("type"),
                spec("lifecycle"),
                short_ref(e, "system"),
                e.title.clone().unwrap_or_default(),
            ]
            .map(line_string),
        );
    }
    Ui::keep_columns(&mut table, 6);
    writeln!(out, "{}", table.trim_fmt())?;
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
        let mut table = ui.table(&["Field", "Value"]);
        for (k, v) in spec {
            table.add_row(vec![
                line_string(k.clone()),
                block_string(truncate(&render_value(v), 400)),
            ]);
        }
        writeln!(out, "{}", table.trim_fmt())?;
    }

    if !entity.relations.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", h("Relations"))?;
        let mut table = ui.table(&["Relation", "Entity", "Ref"]);
        for r in &entity.relations {
            let title = match catalog.get(&r.target) {
                Some(t) => t.display_name().to_string(),
                None => format!("{} (not in the catalog)", r.target.name),
            };
            table.add_row(
                [r.kind.as_str().to_string(), title, r.target.to_string()].map(line_string),
            );
        }
        writeln!(out, "{}", table.trim_fmt())?;
    }

    let links = entity.links();
    if !links.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", h("Links"))?;
        let mut table = ui.table(&["Title", "URL", "Type"]);
        for l in links {
            table.add_row(
                [
                    l.title.unwrap_or_default(),
                    l.url,
                    l.kind.or(l.icon).unwrap_or_default(),
                ]
                .map(line_string),
            );
        }
        writeln!(out, "{}", table.trim_fmt())?;
    }

    if let Some(Value::Object(ann)) = entity.lookup("metadata.annotations") {
        if !ann.is_empty() {
            writeln!(out)?;
            writeln!(out, "{}", h("Annotations"))?;
            let mut table = ui.table(&["Key", "Value"]);
            for (k, v) in ann {
                table.add_row(vec![line_string(k.clone()), line_string(scalar(v))]);
            }
            writeln!(out, "{}", table.trim_fmt())?;
        }
    }
    Ok(())
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn render_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim_end().to_string(),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            items.iter().map(scalar).collect::<Vec<_>>().join("\n")
        }
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim_end()
            .to_string(),
    }
}

fn truncate(s: &str, max: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    if s.chars().count() <= max && lines.len() <= 12 {
        return s.to_string();
    }
    let head: String = lines
        .iter()
        .take(12)
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    let head: String = head.chars().take(max).collect();
    format!("{head}\n… ({} lines; -o yaml shows all)", lines.len())
}
