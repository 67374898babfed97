//! What a template asks and does, for `idp scaffold show`: its variables
//! (cookiecutter) or parameters and steps (Backstage), its hooks and where
//! it comes from. A plain serializable view; the command renders it.

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::{cookiecutter, hooks, LoadedTemplate, ScaffoldError, TemplateKind, TemplateSource};

/// A template described (the `scaffold show -o json` contract).
#[derive(Debug, Serialize)]
pub struct TemplateView {
    /// Name.
    pub name: String,
    /// `cookiecutter` or `backstage`.
    pub kind: &'static str,
    /// Title, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where it comes from.
    pub source: TemplateSource,
    /// Commit of its git repository, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The template directory on disk.
    pub directory: String,
    /// Cookiecutter variables, in cookiecutter.json order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<cookiecutter::Variable>,
    /// Backstage parameters, page by page.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    /// Backstage steps.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// Cookiecutter hooks (`hooks/<file>`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<String>,
    /// The values the template takes, as a JSON Schema (draft-07) of the
    /// `values` object (`--values FILE`, the MCP `scaffold_preview`):
    /// type, enum, default, required, pattern, title, description.
    pub schema: Value,
}

/// One Backstage parameter.
#[derive(Debug, Serialize)]
pub struct Parameter {
    /// The page's title (`page N` without one).
    pub page: String,
    /// Name.
    pub name: String,
    /// JSON Schema type (`string` when not given).
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether the page requires it.
    pub required: bool,
    /// Default, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Allowed values (`enum`), if any.
    #[serde(rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Value>,
    /// Title, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `ui:field` (a picker), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// One Backstage step.
#[derive(Debug, Serialize)]
pub struct Step {
    /// Id (`step-N` without one).
    pub id: String,
    /// Action.
    pub action: String,
    /// Name, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Condition (`if`), if any.
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
}

/// Describes a loaded template.
pub fn describe(t: &LoadedTemplate) -> Result<TemplateView, ScaffoldError> {
    let mut view = TemplateView {
        name: t.name.clone(),
        kind: t.kind.as_str(),
        title: t.title.clone(),
        description: t.description.clone(),
        source: t.source.clone(),
        commit: t.commit.clone(),
        directory: t.dir.display().to_string(),
        variables: Vec::new(),
        parameters: Vec::new(),
        steps: Vec::new(),
        hooks: Vec::new(),
        schema: Value::Null,
    };
    match t.kind {
        TemplateKind::Cookiecutter => {
            view.variables = cookiecutter::variables(&t.dir)?;
            view.hooks = hooks::all_names(&t.dir);
            view.schema = cookiecutter_schema(&view.variables);
        }
        TemplateKind::Backstage => {
            let entity = t.entity.clone().unwrap_or(Value::Null);
            view.parameters = backstage_parameters(&entity);
            view.steps = backstage_steps(&entity);
            view.schema = backstage_schema(&entity);
        }
    }
    if let Some(map) = view.schema.as_object_mut() {
        let mut head = Map::new();
        head.insert(
            "$schema".into(),
            json!("http://json-schema.org/draft-07/schema#"),
        );
        head.insert(
            "title".into(),
            json!(view.title.as_ref().unwrap_or(&view.name)),
        );
        if let Some(d) = &view.description {
            head.insert("description".into(), json!(d));
        }
        head.append(map);
        *map = head;
    }
    Ok(view)
}

/// A Backstage template's parameters as one schema: every page's
/// properties and `required` merged (Backstage validates the values of
/// all pages together), page-level `dependencies` kept under `allOf`, and
/// the form-only `ui:*` keys left out.
fn backstage_schema(entity: &Value) -> Value {
    let pages: Vec<Value> = match entity.pointer("/spec/parameters") {
        Some(Value::Array(p)) => p.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    };
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    let mut all_of = Vec::new();
    for page in &pages {
        if let Some(props) = page.get("properties").and_then(Value::as_object) {
            for (name, p) in props {
                let mut p = without_ui(p);
                if let Some(obj) = p.as_object_mut() {
                    let typed = ["type", "enum", "const", "$ref", "oneOf", "anyOf", "allOf"]
                        .iter()
                        .any(|k| obj.contains_key(*k));
                    if !typed {
                        obj.insert("type".into(), json!("string"));
                    }
                }
                properties.insert(name.clone(), p);
            }
        }
        for r in page
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if r.is_string() && !required.contains(r) {
                required.push(r.clone());
            }
        }
        // Each page's own constraints, as one subschema (`if`, `then` and
        // `else` belong together).
        let own: Map<String, Value> = [
            "dependencies",
            "if",
            "then",
            "else",
            "oneOf",
            "anyOf",
            "allOf",
        ]
        .into_iter()
        .filter_map(|key| page.get(key).map(|v| (key.to_string(), without_ui(v))))
        .collect();
        if !own.is_empty() {
            all_of.push(Value::Object(own));
        }
    }
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    if !all_of.is_empty() {
        schema.insert("allOf".into(), Value::Array(all_of));
    }
    Value::Object(schema)
}

/// `v` without the keys only Backstage's form reads (`ui:field`, …).
fn without_ui(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with("ui:"))
                .map(|(k, v)| (k.clone(), without_ui(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_ui).collect()),
        other => other.clone(),
    }
}

/// A cookiecutter template's variables as a schema: each one the user is
/// asked for (not `_private` or `__computed` ones), typed by its default;
/// none required (each has a default). A default that is itself a
/// template (`{{ cookiecutter.name|lower }}`) is computed from the other
/// values, so it is described, not given as `default`.
fn cookiecutter_schema(variables: &[cookiecutter::Variable]) -> Value {
    let mut properties = Map::new();
    for v in variables
        .iter()
        .filter(|v| !matches!(v.kind, "computed" | "private"))
    {
        let mut p = Map::new();
        if let Some(prompt) = &v.prompt {
            p.insert("title".into(), json!(prompt));
        }
        let templated = |d: &Value| {
            d.as_str()
                .is_some_and(|s| s.contains("{{") || s.contains("{%"))
        };
        match v.kind {
            "choice" => {
                if v.choices.iter().all(Value::is_string) {
                    p.insert("type".into(), json!("string"));
                }
                p.insert("enum".into(), Value::Array(v.choices.clone()));
            }
            "boolean" => {
                p.insert("type".into(), json!("boolean"));
            }
            "dict" => {
                p.insert("type".into(), json!("object"));
            }
            _ => {
                p.insert(
                    "type".into(),
                    match &v.default {
                        Value::Number(_) => json!(["string", "number"]),
                        _ => json!("string"),
                    },
                );
            }
        }
        if templated(&v.default) {
            p.insert(
                "description".into(),
                json!(format!(
                    "Default: computed from the other values ({}).",
                    v.default.as_str().unwrap_or_default()
                )),
            );
        } else if !v.default.is_null() {
            p.insert("default".into(), v.default.clone());
        }
        properties.insert(v.name.clone(), Value::Object(p));
    }
    json!({ "type": "object", "properties": properties })
}

fn backstage_parameters(entity: &Value) -> Vec<Parameter> {
    let pages: Vec<Value> = match entity.pointer("/spec/parameters") {
        Some(Value::Array(p)) => p.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let title = page
            .get("title")
            .and_then(Value::as_str)
            .map_or_else(|| format!("page {}", i + 1), str::to_string);
        let required: Vec<&str> = page
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let Some(props) = page.get("properties").and_then(Value::as_object) else {
            continue;
        };
        for (name, p) in props {
            out.push(Parameter {
                page: title.clone(),
                name: name.clone(),
                kind: p
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("string")
                    .to_string(),
                required: required.contains(&name.as_str()),
                default: p.get("default").cloned(),
                choices: p
                    .get("enum")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
                title: p.get("title").and_then(Value::as_str).map(str::to_string),
                field: p
                    .get("ui:field")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
    }
    out
}

fn backstage_steps(entity: &Value) -> Vec<Step> {
    entity
        .pointer("/spec/steps")
        .and_then(Value::as_array)
        .map(|steps| {
            steps
                .iter()
                .enumerate()
                .map(|(i, s)| Step {
                    id: s
                        .get("id")
                        .and_then(Value::as_str)
                        .map_or_else(|| format!("step-{}", i + 1), str::to_string),
                    action: s
                        .get("action")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    name: s.get("name").and_then(Value::as_str).map(str::to_string),
                    condition: s.get("if").cloned(),
                })
                .collect()
        })
        .unwrap_or_default()
}
