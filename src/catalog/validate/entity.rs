//! Rules for one descriptor document, as Backstage's entity policies apply
//! them: the envelope (apiVersion, kind, root fields), metadata formats, and
//! the spec of each built-in kind (required fields and their types). Every
//! problem is collected; nothing stops at the first.

use serde_json::{Map, Value};

use super::rules::*;
use super::spec::{check_spec, kind_api_versions};
use super::Finding;
use crate::catalog::config::CustomKind;
use crate::catalog::kinds::{is_scorecard_kind, BUILTIN_KINDS};
use crate::catalog::substitute::is_placeholder;

// NoForeignRootFieldsEntityPolicy: `relations` and `status` are computed by the
// catalog and not allowed in descriptor files.
const ROOT_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
const ADR: &str = "see https://backstage.io/docs/features/software-catalog/descriptor-format";

/// Checks one document. `custom` are the kinds `idp.yaml` declares.
pub fn check_document(doc: &Value, custom: &[CustomKind]) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(map) = doc.as_object() else {
        out.push(Finding::error(
            "invalid-document",
            "a descriptor must be a YAML mapping",
            "",
        ));
        return out;
    };
    let api_version = check_envelope(map, &mut out);
    let kind = map
        .get("kind")
        .and_then(Value::as_str)
        .filter(|k| is_valid_kind(k));
    check_metadata(map.get("metadata"), &mut out);
    if let (Some(kind), Some(api_version)) = (kind, api_version) {
        check_kind(kind, api_version, map, custom, &mut out);
    }
    out
}

fn check_envelope<'a>(map: &'a Map<String, Value>, out: &mut Vec<Finding>) -> Option<&'a str> {
    for key in map.keys() {
        if !ROOT_FIELDS.contains(&key.as_str()) {
            out.push(Finding::error(
                "unknown-root-field",
                format!("unknown root field \"{key}\"; a descriptor has only apiVersion, kind, metadata and spec"),
                &escape(key),
            ));
        }
    }
    let api_version = match map.get("apiVersion") {
        None => {
            out.push(Finding::error(
                "missing-api-version",
                "\"apiVersion\" is required",
                "",
            ));
            None
        }
        Some(Value::String(s)) if is_valid_api_version(s) => Some(s.as_str()),
        Some(v) => {
            out.push(Finding::error(
                "invalid-api-version",
                format!("\"apiVersion\" is not valid; expected a string like backstage.io/v1alpha1 but found {}", show(v)),
                "apiVersion",
            ));
            None
        }
    };
    match map.get("kind") {
        None => out.push(Finding::error("missing-kind", "\"kind\" is required", "")),
        Some(Value::String(s)) if is_valid_kind(s) => {}
        Some(v) => out.push(Finding::error(
            "invalid-kind",
            format!("\"kind\" is not valid; expected a letter followed by letters and digits, at most 63 characters, but found {}", show(v)),
            "kind",
        )),
    }
    if let Some(spec) = map.get("spec") {
        if !spec.is_object() {
            out.push(Finding::error(
                "invalid-field",
                format!("\"spec\" must be a mapping, found {}", show(spec)),
                "spec",
            ));
        }
    }
    api_version
}

fn check_metadata(metadata: Option<&Value>, out: &mut Vec<Finding>) {
    let Some(metadata) = metadata else {
        out.push(Finding::error(
            "missing-metadata",
            "\"metadata\" is required",
            "",
        ));
        return;
    };
    let Some(meta) = metadata.as_object() else {
        out.push(Finding::error(
            "invalid-field",
            format!("\"metadata\" must be a mapping, found {}", show(metadata)),
            "metadata",
        ));
        return;
    };
    match meta.get("name") {
        None => out.push(Finding::error("missing-name", "\"metadata.name\" is required", "metadata")),
        Some(Value::String(s)) if is_valid_entity_name(s) => {}
        Some(v) => out.push(Finding::error(
            "invalid-name",
            format!("\"metadata.name\" is not valid; expected a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total but found {}; {ADR}", show(v)),
            "metadata.name",
        )),
    }
    if let Some(v) = meta.get("namespace") {
        if !v.as_str().is_some_and(is_valid_dns_label) {
            out.push(Finding::error(
                "invalid-namespace",
                format!("\"metadata.namespace\" is not valid; expected a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total but found {}", show(v)),
                "metadata.namespace",
            ));
        }
    }
    for field in ["title", "description", "uid", "etag"] {
        // A placeholder left in place was reported by the substitution step.
        if let Some(v) = meta.get(field).filter(|v| !is_placeholder(v)) {
            let ok = match v {
                Value::String(s) => field == "description" || field == "title" || !s.is_empty(),
                _ => false,
            };
            if !ok {
                out.push(Finding::error(
                    "invalid-field",
                    format!("\"metadata.{field}\" must be a string, found {}", show(v)),
                    &format!("metadata.{field}"),
                ));
            }
        }
    }
    check_key_values(meta, "labels", true, out);
    check_key_values(meta, "annotations", false, out);
    check_tags(meta.get("tags"), out);
    check_links(meta.get("links"), out);
}

fn check_key_values(meta: &Map<String, Value>, field: &str, labels: bool, out: &mut Vec<Finding>) {
    let Some(v) = meta.get(field) else { return };
    let Some(map) = v.as_object() else {
        out.push(Finding::error(
            "invalid-field",
            format!(
                "\"metadata.{field}\" must be a mapping of strings, found {}",
                show(v)
            ),
            &format!("metadata.{field}"),
        ));
        return;
    };
    let (key_code, value_code) = if labels {
        ("invalid-label-key", "invalid-label-value")
    } else {
        ("invalid-annotation-key", "invalid-annotation-value")
    };
    let noun = if labels { "label" } else { "annotation" };
    for (key, value) in map {
        let path = format!("metadata.{field}.{}", escape(key));
        if !is_valid_key(key) {
            out.push(Finding::error(
                key_code,
                format!("{noun} key \"{key}\" is not valid; expected [prefix/]name where prefix is a DNS subdomain and name is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters"),
                &path,
            ));
        }
        let ok = match value {
            Value::String(s) => !labels || is_valid_label_value(s),
            placeholder => is_placeholder(placeholder), // reported when substituted
        };
        if !ok {
            let expected = if labels {
                "a string that is empty or sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters"
            } else {
                "a string"
            };
            out.push(Finding::error(
                value_code,
                format!(
                    "{noun} \"{key}\" has an invalid value; expected {expected} but found {}",
                    show(value)
                ),
                &path,
            ));
        }
    }
}

fn check_tags(tags: Option<&Value>, out: &mut Vec<Finding>) {
    let Some(v) = tags else { return };
    let Some(items) = v.as_array() else {
        out.push(Finding::error(
            "invalid-field",
            format!(
                "\"metadata.tags\" must be a list of strings, found {}",
                show(v)
            ),
            "metadata.tags",
        ));
        return;
    };
    for (i, tag) in items.iter().enumerate() {
        if !tag.as_str().is_some_and(is_valid_tag) {
            out.push(Finding::error(
                "invalid-tag",
                format!("\"metadata.tags.{i}\" is not valid; expected a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total but found {}", show(tag)),
                &format!("metadata.tags.{i}"),
            ));
        }
    }
}

fn check_links(links: Option<&Value>, out: &mut Vec<Finding>) {
    let Some(v) = links else { return };
    let Some(items) = v.as_array() else {
        out.push(Finding::error(
            "invalid-field",
            format!("\"metadata.links\" must be a list, found {}", show(v)),
            "metadata.links",
        ));
        return;
    };
    for (i, link) in items.iter().enumerate() {
        let path = format!("metadata.links.{i}");
        let Some(link) = link.as_object() else {
            out.push(Finding::error(
                "invalid-link",
                format!(
                    "link must be a mapping with a url, found {}",
                    show(&items[i])
                ),
                &path,
            ));
            continue;
        };
        match link.get("url") {
            Some(Value::String(s)) if is_valid_url(s) => {}
            Some(other) => out.push(Finding::error("invalid-link", format!("\"metadata.links.{i}.url\" is not valid; expected a string that is a valid url but found {}", show(other)), &format!("{path}.url"))),
            None => out.push(Finding::error("invalid-link", "link has no \"url\"", &path)),
        }
        for field in ["title", "icon", "type"] {
            if let Some(value) = link.get(field) {
                if !is_non_empty_string(value) {
                    out.push(Finding::error(
                        "invalid-link",
                        format!(
                            "link {field} must be a non-empty string, found {}",
                            show(value)
                        ),
                        &format!("{path}.{field}"),
                    ));
                }
            }
        }
    }
}

fn check_kind(
    kind: &str,
    api_version: &str,
    map: &Map<String, Value>,
    custom: &[CustomKind],
    out: &mut Vec<Finding>,
) {
    if let Some(builtin) = BUILTIN_KINDS
        .iter()
        .find(|b| b.eq_ignore_ascii_case(kind) && **b != kind)
    {
        out.push(Finding::error(
            "unknown-kind",
            format!("kind {kind} is not recognised; kinds are case-sensitive, write {builtin}"),
            "kind",
        ));
        return;
    }
    if let Some(versions) = kind_api_versions(kind) {
        if !versions.contains(&api_version) {
            out.push(Finding::error(
                "unsupported-api-version",
                format!(
                    "kind {kind} with apiVersion {api_version} is not supported; expected {}",
                    versions.join(" or ")
                ),
                "apiVersion",
            ));
            return;
        }
        check_spec(kind, map.get("spec"), out);
        return;
    }
    // idp's own kind; its spec is checked by `score::validate`, which needs
    // the catalog (run beside this by `crate::check`).
    if is_scorecard_kind(kind, api_version) {
        return;
    }
    let declared = custom.iter().find(|c| {
        c.kind.eq_ignore_ascii_case(kind)
            && c.api_version.as_deref().is_none_or(|v| v == api_version)
    });
    if declared.is_none() {
        out.push(Finding::error(
            "unknown-kind",
            format!("kind {kind} ({api_version}) is not a Backstage kind; declare it under customKinds in idp.yaml (Backstage needs a processor for it too). The entity is still loaded"),
            "kind",
        ));
    }
}

/// A compact rendering of a value for messages.
pub fn show(v: &Value) -> String {
    let s = match v {
        Value::String(s) => format!("\"{s}\""),
        Value::Null => "nothing".into(),
        Value::Array(_) => format!("a list {v}"),
        Value::Object(_) => format!("a mapping {v}"),
        other => format!("{other} ({})", type_name(other)),
    };
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(79).collect::<String>())
    } else {
        s
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        _ => "a value",
    }
}

/// Writes a key for a field path, bracketed when it contains dots.
pub fn escape(key: &str) -> String {
    if key.contains('.') {
        format!("[{key}]")
    } else {
        key.to_string()
    }
}
