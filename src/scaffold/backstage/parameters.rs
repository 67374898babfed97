//! `spec.parameters` of a Backstage template: the form pages (one JSON
//! Schema object or an array of them), the fields they ask for given what is
//! already known (`dependencies` and `if`/`then`/`else` open further fields),
//! typing of `--set` strings by the schema, and validation of the final
//! answers with the `jsonschema` crate (draft 7, as Backstage's form library
//! uses).

use std::path::{Path, PathBuf};

use jsonschema::error::ValidationErrorKind;
use serde_json::{Map, Value};

use crate::scaffold::error::ScaffoldError;

/// The parameter pages of one template.
#[derive(Debug, Clone)]
pub struct Parameters {
    pages: Vec<Value>,
    template: PathBuf,
}

/// One property the form asks for.
#[derive(Debug, Clone)]
pub struct Field {
    /// Property name (the key under `parameters`).
    pub name: String,
    /// The property's schema (with its `ui:*` keys).
    pub schema: Value,
    /// Whether the page (or an active branch of it) requires it.
    pub required: bool,
    /// Title of the page it is on, for prompt headings.
    pub page: Option<String>,
}

impl Field {
    /// The label to show: `title`, else the name.
    pub fn label(&self) -> &str {
        self.schema
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or(&self.name)
    }

    /// The schema's `default`, if any.
    pub fn default(&self) -> Option<&Value> {
        self.schema.get("default")
    }

    /// `ui:field`, if any (`OwnerPicker`, `EntityPicker`, `RepoUrlPicker`, …).
    pub fn ui_field(&self) -> Option<&str> {
        self.schema.get("ui:field").and_then(Value::as_str)
    }

    /// `ui:widget`, if any (`password`, `hidden`, `textarea`, …).
    pub fn ui_widget(&self) -> Option<&str> {
        self.schema.get("ui:widget").and_then(Value::as_str)
    }

    /// `ui:options`, or an empty object.
    pub fn ui_options(&self) -> &Value {
        static EMPTY: Value = Value::Null;
        self.schema.get("ui:options").unwrap_or(&EMPTY)
    }

    /// Whether the value is a secret: never written to the answers file,
    /// asked with masked input, available as `secrets.<name>`.
    pub fn is_secret(&self) -> bool {
        is_secret(&self.schema)
    }

    /// Fields the form never shows (`ui:widget: hidden`, `ui:readonly`, or
    /// `ui:backstage.review.show: false` with a default): they take their
    /// default without asking.
    pub fn is_hidden(&self) -> bool {
        self.ui_widget() == Some("hidden")
            || self.schema.get("ui:readonly").and_then(Value::as_bool) == Some(true)
            || self.schema.get("ui:disabled").and_then(Value::as_bool) == Some(true)
    }

    /// The JSON type the schema declares (first non-null of a type list).
    pub fn json_type(&self) -> Option<&str> {
        json_type(&self.schema)
    }

    /// The `--set` flag that supplies this field.
    pub fn flag(&self) -> String {
        format!("--set {}=…", self.name)
    }
}

/// Whether a property schema marks a secret (`ui:widget: password`,
/// `ui:field: Secret`, or a review mask).
pub fn is_secret(schema: &Value) -> bool {
    schema.get("ui:widget").and_then(Value::as_str) == Some("password")
        || schema.get("ui:field").and_then(Value::as_str) == Some("Secret")
        || schema
            .pointer("/ui:backstage/review/mask")
            .is_some_and(|m| !m.is_null())
}

fn json_type(schema: &Value) -> Option<&str> {
    match schema.get("type")? {
        Value::String(t) => Some(t),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

impl Parameters {
    /// Reads `spec.parameters` (absent: no parameters).
    pub fn parse(spec_parameters: Option<&Value>, template: &Path) -> Result<Self, ScaffoldError> {
        let invalid = |message: String| ScaffoldError::InvalidTemplate {
            path: template.to_path_buf(),
            message,
        };
        let pages = match spec_parameters {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(pages)) => pages.clone(),
            Some(page @ Value::Object(_)) => vec![page.clone()],
            Some(other) => {
                return Err(invalid(format!(
                    "spec.parameters must be an object or a list of objects, not {}",
                    kind_of(other)
                )))
            }
        };
        for (i, page) in pages.iter().enumerate() {
            if !page.is_object() {
                return Err(invalid(format!(
                    "spec.parameters[{i}] must be a JSON Schema object, not {}",
                    kind_of(page)
                )));
            }
            // A schema the validator cannot compile is the template's fault:
            // say so before asking anything.
            if let Err(e) = jsonschema::draft7::new(&strip_ui(page)) {
                return Err(invalid(format!(
                    "spec.parameters[{i}] is not a valid JSON Schema: {e}"
                )));
            }
        }
        Ok(Parameters {
            pages,
            template: template.to_path_buf(),
        })
    }

    /// The pages as written.
    pub fn pages(&self) -> &[Value] {
        &self.pages
    }

    /// All pages merged into one schema: an object that must satisfy every
    /// page (their `required`, `dependencies` and `if`/`then`/`else`).
    pub fn merged_schema(&self) -> Value {
        let pages: Vec<Value> = self
            .pages
            .iter()
            .map(|p| {
                let mut p = strip_ui(p);
                if let Value::Object(m) = &mut p {
                    m.entry("type").or_insert_with(|| Value::from("object"));
                }
                p
            })
            .collect();
        if pages.is_empty() {
            // `allOf` must not be empty.
            return serde_json::json!({ "type": "object" });
        }
        serde_json::json!({ "type": "object", "allOf": pages })
    }

    /// Every property named anywhere in the pages (branches included),
    /// with its schema: the first definition wins.
    pub fn declared(&self) -> Vec<(String, Value)> {
        let mut out: Vec<(String, Value)> = Vec::new();
        for page in &self.pages {
            collect_declared(page, &mut out);
        }
        out
    }

    /// Whether the property `name` is a secret anywhere it is declared.
    pub fn is_secret(&self, name: &str) -> bool {
        self.declared()
            .iter()
            .any(|(n, s)| n == name && is_secret(s))
    }

    /// The fields page `page` asks for given the values known so far, in
    /// the order a form shows them: the page's properties, then those that
    /// `dependencies` and `if`/`then`/`else` open for these values.
    pub fn active_fields(&self, page: usize, values: &Map<String, Value>) -> Vec<Field> {
        let Some(schema) = self.pages.get(page) else {
            return Vec::new();
        };
        let title = schema
            .get("title")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut out: Vec<Field> = Vec::new();
        collect_active(schema, values, &title, &mut out, 0);
        out
    }

    /// Validates the complete answers against every page. Missing required
    /// values become [`ScaffoldError::MissingValue`] (naming the flag);
    /// anything else [`ScaffoldError::InvalidValue`] naming the parameter
    /// and the rule it breaks.
    pub fn validate(&self, values: &Map<String, Value>) -> Result<(), ScaffoldError> {
        let schema = self.merged_schema();
        let validator =
            jsonschema::draft7::new(&schema).map_err(|e| ScaffoldError::InvalidTemplate {
                path: self.template.clone(),
                message: format!("spec.parameters is not a valid JSON Schema: {e}"),
            })?;
        let instance = Value::Object(values.clone());
        let mut missing: Option<String> = None;
        let mut problems: Vec<(String, String)> = Vec::new();
        for error in validator.iter_errors(&instance) {
            match &error.kind {
                ValidationErrorKind::Required { property }
                    if error.instance_path.as_str().is_empty() =>
                {
                    let name = property.as_str().unwrap_or_default().to_string();
                    missing.get_or_insert(name);
                }
                _ => {
                    let name = parameter_of(error.instance_path.as_str());
                    let message = describe(&error.kind, &error.instance, self.is_secret(&name));
                    if !problems.iter().any(|(n, m)| *n == name && *m == message) {
                        problems.push((name, message));
                    }
                }
            }
        }
        if let Some((name, message)) = problems.first() {
            let mut message = message.clone();
            for (n, m) in problems.iter().skip(1) {
                message.push_str(&format!("; and {n}: {m}"));
            }
            return Err(ScaffoldError::InvalidValue {
                name: name.clone(),
                message,
            });
        }
        if let Some(name) = missing {
            return Err(ScaffoldError::MissingValue {
                flag: format!("--set {name}=…"),
                name,
            });
        }
        Ok(())
    }

    /// Validates one value against its own property schema (for prompts and
    /// for each `--set` value, so the message names the parameter at once).
    pub fn check_field(field: &Field, value: &Value) -> Result<(), String> {
        let schema = strip_ui(&field.schema);
        let Ok(validator) = jsonschema::draft7::new(&schema) else {
            return Ok(());
        };
        let first = validator.iter_errors(value).next();
        match first {
            None => Ok(()),
            Some(e) => Err(describe(&e.kind, &e.instance, field.is_secret())),
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A copy of a schema without `ui:*` keys (they mean nothing to the
/// validator), recursively.
pub fn strip_ui(schema: &Value) -> Value {
    match schema {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with("ui:"))
                .map(|(k, v)| (k.clone(), strip_ui(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_ui).collect()),
        other => other.clone(),
    }
}

fn required_of(schema: &Value) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn collect_declared(schema: &Value, out: &mut Vec<(String, Value)>) {
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, s) in props {
            if !out.iter().any(|(n, _)| n == name) {
                out.push((name.clone(), s.clone()));
            }
        }
    }
    for key in ["then", "else"] {
        if let Some(s) = schema.get(key) {
            collect_declared(s, out);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for s in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            collect_declared(s, out);
        }
    }
    if let Some(deps) = schema.get("dependencies").and_then(Value::as_object) {
        for dep in deps.values() {
            collect_declared(dep, out);
        }
    }
}

fn add_field(
    out: &mut Vec<Field>,
    name: &str,
    schema: &Value,
    required: bool,
    page: &Option<String>,
) {
    if let Some(existing) = out.iter_mut().find(|f| f.name == name) {
        existing.required |= required;
        // A branch's definition (a `const` discriminator repeated in a
        // `oneOf` branch) must not replace the page's full definition.
        return;
    }
    out.push(Field {
        name: name.to_string(),
        schema: schema.clone(),
        required,
        page: page.clone(),
    });
}

/// Properties of `schema` and of the branches the current `values` open.
fn collect_active(
    schema: &Value,
    values: &Map<String, Value>,
    page: &Option<String>,
    out: &mut Vec<Field>,
    depth: usize,
) {
    // Schemas nest only a few levels in practice; the bound stops a
    // self-referencing template from recursing forever.
    if depth > 16 {
        return;
    }
    let required = required_of(schema);
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, s) in props {
            add_field(out, name, s, required.contains(&name.as_str()), page);
        }
    }
    // `required` may name properties declared on another page or branch.
    for name in &required {
        if let Some(f) = out.iter_mut().find(|f| f.name == *name) {
            f.required = true;
        }
    }
    for sub in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_active(sub, values, page, out, depth + 1);
    }
    if let Some(deps) = schema.get("dependencies").and_then(Value::as_object) {
        for (key, dep) in deps {
            if !values.contains_key(key) {
                continue;
            }
            match dep {
                // Property dependency: these become required.
                Value::Array(names) => {
                    for n in names.iter().filter_map(Value::as_str) {
                        if let Some(f) = out.iter_mut().find(|f| f.name == n) {
                            f.required = true;
                        } else if let Some(s) = schema.get("properties").and_then(|p| p.get(n)) {
                            add_field(out, n, s, true, page);
                        }
                    }
                }
                // Schema dependency, often a `oneOf` whose branches are told
                // apart by the key's own value.
                Value::Object(_) => {
                    let branches: Vec<&Value> = match dep
                        .get("oneOf")
                        .or_else(|| dep.get("anyOf"))
                        .and_then(Value::as_array)
                    {
                        Some(bs) => bs
                            .iter()
                            .filter(|b| branch_matches(b, key, values))
                            .take(if dep.get("oneOf").is_some() {
                                1
                            } else {
                                usize::MAX
                            })
                            .collect(),
                        None => vec![dep],
                    };
                    for b in branches {
                        collect_active(b, values, page, out, depth + 1);
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(cond) = schema.get("if") {
        let holds = jsonschema::draft7::new(&strip_ui(cond))
            .map(|v| v.is_valid(&Value::Object(values.clone())))
            .unwrap_or(false);
        let branch = if holds {
            schema.get("then")
        } else {
            schema.get("else")
        };
        if let Some(b) = branch {
            collect_active(b, values, page, out, depth + 1);
        }
    }
}

/// Whether a `dependencies` branch applies: its schema for the key (the
/// discriminator, typically `enum: [x]` or `const: x`) accepts the value.
fn branch_matches(branch: &Value, key: &str, values: &Map<String, Value>) -> bool {
    let Some(value) = values.get(key) else {
        return false;
    };
    match branch.get("properties").and_then(|p| p.get(key)) {
        None => true,
        Some(s) => jsonschema::draft7::new(&strip_ui(s))
            .map(|v| v.is_valid(value))
            .unwrap_or(false),
    }
}

/// The top-level parameter an error is about (`/tags/0` → `tags`).
fn parameter_of(instance_path: &str) -> String {
    instance_path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
        .replace("~1", "/")
        .replace("~0", "~")
}

fn show(value: &Value, secret: bool) -> String {
    if secret {
        "(secret)".to_string()
    } else {
        let s = value.to_string();
        if s.chars().count() > 60 {
            format!("{}…", s.chars().take(60).collect::<String>())
        } else {
            s
        }
    }
}

/// A sentence naming the rule a value breaks.
fn describe(kind: &ValidationErrorKind, instance: &Value, secret: bool) -> String {
    let got = show(instance, secret);
    match kind {
        ValidationErrorKind::Pattern { pattern } => {
            format!("{got} does not match the pattern {pattern}")
        }
        ValidationErrorKind::MinLength { limit } => {
            format!("{got} is shorter than minLength {limit}")
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!("{got} is longer than maxLength {limit}")
        }
        ValidationErrorKind::Enum { options } => {
            let opts: Vec<String> = options
                .as_array()
                .map(|a| a.iter().map(|o| o.to_string()).collect())
                .unwrap_or_default();
            format!("{got} is not one of the enum values {}", opts.join(", "))
        }
        ValidationErrorKind::Constant { expected_value } => {
            format!("{got} must be {expected_value} (const)")
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                jsonschema::error::TypeKind::Single(t) => t.to_string(),
                jsonschema::error::TypeKind::Multiple(ts) => format!("{ts:?}"),
            };
            format!("{got} is not of type {expected}")
        }
        ValidationErrorKind::Minimum { limit } => format!("{got} is less than minimum {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("{got} is more than maximum {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            format!("{got} is not more than exclusiveMinimum {limit}")
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            format!("{got} is not less than exclusiveMaximum {limit}")
        }
        ValidationErrorKind::MinItems { limit } => format!("has fewer than minItems {limit} items"),
        ValidationErrorKind::MaxItems { limit } => format!("has more than maxItems {limit} items"),
        ValidationErrorKind::UniqueItems => "has duplicate items (uniqueItems)".to_string(),
        ValidationErrorKind::Format { format } => format!("{got} is not a valid {format} (format)"),
        ValidationErrorKind::Required { property } => {
            format!(
                "{} is required (required)",
                property.as_str().unwrap_or_default()
            )
        }
        ValidationErrorKind::OneOfNotValid { .. } => {
            format!("{got} matches none of the allowed alternatives (oneOf)")
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            format!("{got} matches more than one alternative (oneOf)")
        }
        ValidationErrorKind::AnyOf { .. } => {
            format!("{got} matches none of the allowed alternatives (anyOf)")
        }
        ValidationErrorKind::Not { .. } => format!("{got} is not allowed (not)"),
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            format!(
                "unexpected properties {} (additionalProperties)",
                unexpected.join(", ")
            )
        }
        ValidationErrorKind::MultipleOf { multiple_of } => {
            format!("{got} is not a multiple of {multiple_of}")
        }
        _ => "is invalid".to_string(),
    }
}

/// Types a value given on the command line (or in a values file) by the
/// property's schema: `"true"` becomes a boolean for a boolean, digits a
/// number for a number or integer, JSON (or `a,b`) a list for an array, JSON
/// an object for an object; scalars given for a string become strings.
pub fn coerce(field: &Field, value: Value) -> Result<Value, ScaffoldError> {
    coerce_to(&field.name, &field.schema, value)
}

fn coerce_to(name: &str, schema: &Value, value: Value) -> Result<Value, ScaffoldError> {
    let invalid = |message: String| ScaffoldError::InvalidValue {
        name: name.to_string(),
        message,
    };
    let Some(ty) = json_type(schema) else {
        return Ok(value);
    };
    let text = match &value {
        Value::String(s) => s.trim().to_string(),
        _ => {
            return Ok(match (ty, value) {
                ("string", v @ (Value::Number(_) | Value::Bool(_))) => Value::String(v.to_string()),
                (_, v) => v,
            })
        }
    };
    match ty {
        "boolean" => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "on" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "n" | "off" | "0" => Ok(Value::Bool(false)),
            _ => Err(invalid(format!(
                "expected true or false (type boolean), got {text:?}"
            ))),
        },
        "integer" => text.parse::<i64>().map(Value::from).map_err(|_| {
            invalid(format!(
                "expected a whole number (type integer), got {text:?}"
            ))
        }),
        "number" => {
            if let Ok(i) = text.parse::<i64>() {
                Ok(Value::from(i))
            } else {
                text.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| {
                        invalid(format!("expected a number (type number), got {text:?}"))
                    })
            }
        }
        "array" => {
            let items: Vec<Value> = if text.starts_with('[') {
                serde_json::from_str(&text)
                    .map_err(|e| invalid(format!("expected a JSON list (type array): {e}")))?
            } else if text.is_empty() {
                Vec::new()
            } else {
                text.split(',').map(|s| Value::from(s.trim())).collect()
            };
            let item_schema = schema.get("items").cloned().unwrap_or(Value::Null);
            items
                .into_iter()
                .map(|v| coerce_to(name, &item_schema, v))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        "object" => {
            let v: Value = serde_json::from_str(&text)
                .or_else(|_| crate::yaml::from_str(&text))
                .map_err(|e| invalid(format!("expected a JSON object (type object): {e}")))?;
            if v.is_object() {
                Ok(v)
            } else {
                Err(invalid(format!(
                    "expected a JSON object (type object), got {text:?}"
                )))
            }
        }
        _ => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Parameters {
        Parameters::parse(Some(&v), Path::new("template.yaml")).unwrap()
    }

    #[test]
    fn dependencies_open_the_matching_branch() {
        let p = params(json!({
            "properties": { "lang": { "type": "string", "enum": ["java", "go"] } },
            "dependencies": { "lang": { "oneOf": [
                { "properties": { "lang": { "enum": ["java"] }, "jdk": { "type": "string" } }, "required": ["jdk"] },
                { "properties": { "lang": { "enum": ["go"] }, "goVersion": { "type": "string" } } }
            ]}}
        }));
        let mut values = Map::new();
        let names = |fs: Vec<Field>| {
            fs.into_iter()
                .map(|f| (f.name, f.required))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(p.active_fields(0, &values)),
            vec![("lang".to_string(), false)]
        );
        values.insert("lang".into(), json!("java"));
        assert_eq!(
            names(p.active_fields(0, &values)),
            vec![("lang".to_string(), false), ("jdk".to_string(), true)]
        );
        values.insert("lang".into(), json!("go"));
        assert_eq!(
            names(p.active_fields(0, &values)),
            vec![
                ("lang".to_string(), false),
                ("goVersion".to_string(), false)
            ]
        );
    }

    #[test]
    fn validation_names_parameter_and_rule() {
        let p = params(
            json!([{ "required": ["name"], "properties": { "name": { "type": "string", "pattern": "^[a-z]+$" } } }]),
        );
        let mut values = Map::new();
        assert!(
            matches!(p.validate(&values), Err(ScaffoldError::MissingValue { name, .. }) if name == "name")
        );
        values.insert("name".into(), json!("Bad Name"));
        let err = p.validate(&values).unwrap_err().to_string();
        assert!(err.contains("name") && err.contains("pattern"), "{err}");
    }

    #[test]
    fn set_strings_are_typed_by_schema() {
        let f = |schema: Value| Field {
            name: "x".into(),
            schema,
            required: false,
            page: None,
        };
        assert_eq!(
            coerce(&f(json!({"type": "boolean"})), json!("true")).unwrap(),
            json!(true)
        );
        assert_eq!(
            coerce(&f(json!({"type": "integer"})), json!("42")).unwrap(),
            json!(42)
        );
        assert_eq!(
            coerce(
                &f(json!({"type": "array", "items": {"type": "string"}})),
                json!("a,b")
            )
            .unwrap(),
            json!(["a", "b"])
        );
        assert_eq!(
            coerce(&f(json!({"type": "array"})), json!("[1,2]")).unwrap(),
            json!([1, 2])
        );
        assert_eq!(
            coerce(&f(json!({"type": "string"})), json!(1.5)).unwrap(),
            json!("1.5")
        );
        assert!(coerce(&f(json!({"type": "boolean"})), json!("maybe")).is_err());
    }
}
