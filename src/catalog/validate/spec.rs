//! The `spec` of each built-in kind: required fields and their types, as the
//! kind schemas of `@backstage/catalog-model` (and the scaffolder's
//! Template v1beta3 schema) define them, plus the reference formats the
//! catalog enforces when it builds relations.

use serde_json::Value;

use super::entity::show;
use super::rules::is_non_empty_string;
use super::Finding;
use crate::catalog::fields::written_refs;
use crate::catalog::refs::{EntityRef, DEFAULT_NAMESPACE};

#[derive(Clone, Copy)]
enum Ty {
    /// A non-empty string.
    Str,
    /// A list of non-empty strings.
    StrList,
    /// A mapping.
    Map,
    /// One of the listed strings.
    OneOf(&'static [&'static str]),
    /// `{displayName, email, picture}`, all non-empty strings.
    Profile,
    /// Template parameters: a mapping or a list of mappings.
    Parameters,
    /// Template steps.
    Steps,
}

struct Field {
    name: &'static str,
    required: bool,
    ty: Ty,
}

const fn req(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        required: true,
        ty,
    }
}

const fn opt(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        required: false,
        ty,
    }
}

const BACKSTAGE: &[&str] = &["backstage.io/v1alpha1", "backstage.io/v1beta1"];
const SCAFFOLDER: &[&str] = &["scaffolder.backstage.io/v1beta3"];

fn kind_fields(kind: &str) -> Option<(&'static [&'static str], &'static [Field])> {
    use Ty::*;
    static COMPONENT: &[Field] = &[
        req("type", Str),
        req("lifecycle", Str),
        req("owner", Str),
        opt("system", Str),
        opt("subcomponentOf", Str),
        opt("providesApis", StrList),
        opt("consumesApis", StrList),
        opt("dependsOn", StrList),
        opt("dependencyOf", StrList),
    ];
    static API: &[Field] = &[
        req("type", Str),
        req("lifecycle", Str),
        req("owner", Str),
        req("definition", Str),
        opt("system", Str),
    ];
    static RESOURCE: &[Field] = &[
        req("type", Str),
        req("owner", Str),
        opt("dependsOn", StrList),
        opt("dependencyOf", StrList),
        opt("system", Str),
    ];
    static SYSTEM: &[Field] = &[req("owner", Str), opt("domain", Str), opt("type", Str)];
    static DOMAIN: &[Field] = &[req("owner", Str), opt("subdomainOf", Str), opt("type", Str)];
    static GROUP: &[Field] = &[
        req("type", Str),
        opt("profile", Profile),
        opt("parent", Str),
        req("children", StrList),
        opt("members", StrList),
    ];
    static USER: &[Field] = &[opt("profile", Profile), req("memberOf", StrList)];
    static LOCATION: &[Field] = &[
        opt("type", Str),
        opt("target", Str),
        opt("targets", StrList),
        opt("presence", OneOf(&["required", "optional"])),
    ];
    static TEMPLATE: &[Field] = &[
        req("type", Str),
        opt("owner", Str),
        opt("lifecycle", Str),
        opt("parameters", Parameters),
        req("steps", Steps),
        opt("output", Map),
        opt("presentation", Map),
    ];
    let fields: &'static [Field] = match kind.to_ascii_lowercase().as_str() {
        "component" => COMPONENT,
        "api" => API,
        "resource" => RESOURCE,
        "system" => SYSTEM,
        "domain" => DOMAIN,
        "group" => GROUP,
        "user" => USER,
        "location" => LOCATION,
        "template" => return Some((SCAFFOLDER, TEMPLATE)),
        _ => return None,
    };
    Some((BACKSTAGE, fields))
}

/// The apiVersions accepted for a built-in kind; `None` for other kinds.
pub fn kind_api_versions(kind: &str) -> Option<&'static [&'static str]> {
    kind_fields(kind).map(|(v, _)| v)
}

/// Checks `spec` of a built-in kind.
pub fn check_spec(kind: &str, spec: Option<&Value>, out: &mut Vec<Finding>) {
    let Some((_, fields)) = kind_fields(kind) else {
        return;
    };
    let spec_value = spec.unwrap_or(&Value::Null);
    let spec = match spec {
        None => {
            let names: Vec<&str> = fields
                .iter()
                .filter(|f| f.required)
                .map(|f| f.name)
                .collect();
            let with = if names.is_empty() {
                String::new()
            } else {
                format!(" with {}", names.join(", "))
            };
            out.push(Finding::error(
                "missing-field",
                format!("a {kind} needs \"spec\"{with}"),
                "",
            ));
            return;
        }
        Some(Value::Object(m)) => m,
        Some(_) => return, // reported by the envelope check
    };
    for field in fields {
        let path = format!("spec.{}", field.name);
        match spec.get(field.name) {
            None if field.required => out.push(Finding::error(
                "missing-field",
                format!("{kind} requires \"{path}\""),
                "spec",
            )),
            None => {}
            Some(v) => check_type(kind, &path, field.ty, v, out),
        }
    }
    if kind.eq_ignore_ascii_case("location")
        && !spec.contains_key("target")
        && !spec.contains_key("targets")
    {
        out.push(Finding::warning(
            "location-without-target",
            "Location has neither spec.target nor spec.targets",
            "spec",
        ));
    }
    check_references(kind, spec_value, out);
}

fn check_type(kind: &str, path: &str, ty: Ty, v: &Value, out: &mut Vec<Finding>) {
    let bad = |expected: &str| {
        Finding::error(
            "invalid-field",
            format!("{kind} \"{path}\" must be {expected}, found {}", show(v)),
            path,
        )
    };
    match ty {
        Ty::Str => {
            if is_unresolved_placeholder(v) {
                return; // the substitution problem is already reported
            }
            if !is_non_empty_string(v) {
                out.push(bad("a non-empty string"));
            }
        }
        Ty::StrList => match v.as_array() {
            None => out.push(bad("a list of non-empty strings")),
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    if !is_non_empty_string(item) {
                        out.push(Finding::error(
                            "invalid-field",
                            format!(
                                "{kind} \"{path}[{i}]\" must be a non-empty string, found {}",
                                show(item)
                            ),
                            &format!("{path}.{i}"),
                        ));
                    }
                }
            }
        },
        Ty::Map => {
            if !v.is_object() {
                out.push(bad("a mapping"));
            }
        }
        Ty::OneOf(allowed) => {
            if !v.as_str().is_some_and(|s| allowed.contains(&s)) {
                out.push(bad(&format!("one of {}", allowed.join(", "))));
            }
        }
        Ty::Profile => match v.as_object() {
            None => out.push(bad("a mapping with displayName, email, picture")),
            Some(map) => {
                for (key, value) in map {
                    if ["displayName", "email", "picture"].contains(&key.as_str())
                        && !is_non_empty_string(value)
                    {
                        out.push(Finding::error(
                            "invalid-field",
                            format!(
                                "{kind} \"{path}.{key}\" must be a non-empty string, found {}",
                                show(value)
                            ),
                            &format!("{path}.{key}"),
                        ));
                    }
                }
            }
        },
        Ty::Parameters => {
            let ok = match v {
                Value::Object(_) => true,
                Value::Array(items) => items.iter().all(Value::is_object),
                _ => false,
            };
            if !ok {
                out.push(bad("a mapping (JSON Schema) or a list of mappings"));
            }
        }
        Ty::Steps => check_steps(path, v, out),
    }
}

/// Template steps: a list of mappings, each with a non-empty `action`; `id`,
/// `name` strings; `input` a mapping; `if` a boolean or string.
fn check_steps(path: &str, v: &Value, out: &mut Vec<Finding>) {
    let Some(steps) = v.as_array() else {
        out.push(Finding::error(
            "invalid-field",
            format!(
                "Template \"{path}\" must be a list of steps, found {}",
                show(v)
            ),
            path,
        ));
        return;
    };
    let mut ids = std::collections::HashSet::new();
    for (i, step) in steps.iter().enumerate() {
        let at = format!("{path}.{i}");
        let Some(step) = step.as_object() else {
            out.push(Finding::error(
                "invalid-field",
                format!(
                    "Template step {i} must be a mapping, found {}",
                    show(&steps[i])
                ),
                &at,
            ));
            continue;
        };
        match step.get("action") {
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(other) => out.push(Finding::error(
                "invalid-field",
                format!(
                    "Template step {i} \"action\" must be a non-empty string, found {}",
                    show(other)
                ),
                &format!("{at}.action"),
            )),
            None => out.push(Finding::error(
                "missing-field",
                format!("Template step {i} requires \"action\""),
                &at,
            )),
        }
        for key in ["id", "name"] {
            if let Some(value) = step.get(key) {
                if !value.is_string() {
                    out.push(Finding::error(
                        "invalid-field",
                        format!(
                            "Template step {i} \"{key}\" must be a string, found {}",
                            show(value)
                        ),
                        &format!("{at}.{key}"),
                    ));
                }
            }
        }
        if let Some(Value::String(id)) = step.get("id") {
            if !ids.insert(id.clone()) {
                out.push(Finding::error(
                    "duplicate-step-id",
                    format!("Template step id \"{id}\" is used twice"),
                    &format!("{at}.id"),
                ));
            }
        }
        if let Some(input) = step.get("input") {
            if !input.is_object() {
                out.push(Finding::error(
                    "invalid-field",
                    format!(
                        "Template step {i} \"input\" must be a mapping, found {}",
                        show(input)
                    ),
                    &format!("{at}.input"),
                ));
            }
        }
        if let Some(cond) = step.get("if") {
            if !(cond.is_boolean() || cond.is_string()) {
                out.push(Finding::error(
                    "invalid-field",
                    format!(
                        "Template step {i} \"if\" must be a boolean or a string, found {}",
                        show(cond)
                    ),
                    &format!("{at}.if"),
                ));
            }
        }
    }
}

/// References must parse; fields without a default kind need an explicit one
/// (Backstage rejects `dependsOn: [ledger]` when it builds relations).
fn check_references(kind: &str, spec: &Value, out: &mut Vec<Finding>) {
    for w in written_refs(&kind.to_ascii_lowercase(), Some(spec)) {
        if w.text.is_empty() {
            continue; // reported as an empty string
        }
        if let Err(e) = EntityRef::parse(w.text, w.field.default_kind, DEFAULT_NAMESPACE) {
            out.push(Finding::error(
                "invalid-reference",
                format!("\"{}\": {e}", w.path),
                &w.path,
            ));
        }
    }
}

/// A placeholder left in place: the substitution step reported it.
fn is_unresolved_placeholder(v: &Value) -> bool {
    crate::catalog::substitute::is_placeholder(v)
}
