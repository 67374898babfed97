//! What a template asks and does, for `idp scaffold show`: its variables
//! (cookiecutter) or parameters and steps (Backstage), its hooks and where
//! it comes from. A plain serializable view; the command renders it.

use serde::Serialize;
use serde_json::Value;

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
    };
    match t.kind {
        TemplateKind::Cookiecutter => {
            view.variables = cookiecutter::variables(&t.dir)?;
            view.hooks = hooks::all_names(&t.dir);
        }
        TemplateKind::Backstage => {
            let entity = t.entity.clone().unwrap_or(Value::Null);
            view.parameters = backstage_parameters(&entity);
            view.steps = backstage_steps(&entity);
        }
    }
    Ok(view)
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
