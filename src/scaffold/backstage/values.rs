//! Where each parameter's value comes from, in order: `--set` / `--values`
//! (typed by the schema), then a prompt on a terminal (unless `--defaults`
//! and the field has a default), then the schema's `default`. Off a
//! terminal nothing is asked: a required value still missing is an error
//! naming the `--set` flags. Picker values are checked against the catalog,
//! and the complete answers against every page's schema.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::catalog::Catalog;
use crate::scaffold::error::ScaffoldError;

use super::parameters::{coerce, Field, Parameters};
use super::pickers::{Picker, RepoPicker};

/// Asks the user for one value (the terminal prompts implement it).
pub trait Asker {
    /// Shows a page heading before its first question.
    fn page(&mut self, title: &str);
    /// Asks for `field`; `Ok(None)` means left empty.
    fn ask(
        &mut self,
        field: &Field,
        catalog: Option<&Catalog>,
    ) -> Result<Option<Value>, ScaffoldError>;
}

/// The resolved values.
#[derive(Debug, Default)]
pub struct Answers {
    /// `parameters` as templates see them (secrets of `ui:widget: password`
    /// included, as Backstage passes them).
    pub parameters: Map<String, Value>,
    /// `secrets`: every secret parameter.
    pub secrets: Map<String, Value>,
    /// What may be recorded in the answers file: no secrets.
    pub recordable: Map<String, Value>,
    /// Warnings (values given for parameters the template does not declare).
    pub warnings: Vec<String>,
}

/// Checks one value for `field`: its schema, and for pickers the catalog.
/// Returns the value to keep (picker values normalised to full references).
pub fn check(field: &Field, value: Value, catalog: Option<&Catalog>) -> Result<Value, String> {
    let value = match (Picker::of(field), catalog) {
        (Some(p), Some(cat)) => match value {
            Value::String(s) if !p.is_multi() => Value::String(p.resolve(&s, cat)?),
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|i| match i {
                        Value::String(s) => p.resolve(&s, cat).map(Value::String),
                        other => Ok(other),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            other => other,
        },
        // Without a catalog nothing can be checked: complete the reference
        // the way Backstage's picker completes free text.
        (Some(p), None) => match value {
            Value::String(s) => Value::String(p.complete(&s)),
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|i| match i {
                        Value::String(s) => Value::String(p.complete(&s)),
                        other => other,
                    })
                    .collect(),
            ),
            other => other,
        },
        _ => value,
    };
    if let (Some(rp), Value::String(s)) = (RepoPicker::of(field), &value) {
        rp.check(s)?;
    }
    Parameters::check_field(field, &value)?;
    Ok(value)
}

/// Resolves every parameter. `asker` is `None` off a terminal.
pub fn resolve(
    params: &Parameters,
    given: &Map<String, Value>,
    use_defaults: bool,
    mut asker: Option<&mut dyn Asker>,
    catalog: Option<&Catalog>,
) -> Result<Answers, ScaffoldError> {
    let mut values: Map<String, Value> = Map::new();
    let mut decided: HashSet<String> = HashSet::new();
    let mut missing: Vec<String> = Vec::new();
    for page in 0..params.pages().len() {
        let mut announced = false;
        // Each round may open new fields (dependencies, if/then); a
        // template cannot open more fields than it declares, so this ends.
        for _round in 0..64 {
            let pending: Vec<Field> = params
                .active_fields(page, &values)
                .into_iter()
                .filter(|f| !decided.contains(&f.name))
                .collect();
            if pending.is_empty() {
                break;
            }
            for field in pending {
                decided.insert(field.name.clone());
                if let Some(v) = given.get(&field.name) {
                    let typed = coerce(&field, v.clone())?;
                    let kept = check(&field, typed, catalog).map_err(|message| {
                        ScaffoldError::InvalidValue {
                            name: field.name.clone(),
                            message,
                        }
                    })?;
                    values.insert(field.name.clone(), kept);
                    continue;
                }
                let skip_prompt = field.is_hidden()
                    || (use_defaults && (field.default().is_some() || !field.required));
                match asker.as_deref_mut() {
                    Some(a) if !skip_prompt => {
                        if !announced {
                            if let Some(t) = &field.page {
                                a.page(t);
                            }
                            announced = true;
                        }
                        if let Some(v) = a.ask(&field, catalog)? {
                            values.insert(field.name.clone(), v);
                        }
                    }
                    _ => {
                        if let Some(d) = field.default() {
                            values.insert(field.name.clone(), d.clone());
                        }
                    }
                }
            }
        }
        // A field left empty may have become required since (a dependency
        // answered after it): ask once more, or report it.
        for field in params.active_fields(page, &values) {
            if !field.required || values.contains_key(&field.name) {
                continue;
            }
            match asker.as_deref_mut() {
                Some(a) => {
                    if let Some(v) = a.ask(&field, catalog)? {
                        values.insert(field.name.clone(), v);
                    }
                }
                None => {
                    if !missing.contains(&field.name) {
                        missing.push(field.name.clone());
                    }
                }
            }
        }
    }
    if !missing.is_empty() {
        return Err(ScaffoldError::MissingValue {
            name: missing.join(", "),
            flag: missing
                .iter()
                .map(|n| format!("--set {n}=…"))
                .collect::<Vec<_>>()
                .join(" "),
        });
    }
    let mut warnings = Vec::new();
    let declared = params.declared();
    for (k, v) in given {
        if !declared.iter().any(|(n, _)| n == k) {
            warnings.push(format!(
                "the template declares no parameter '{k}'; its value is passed on as parameters.{k}"
            ));
            values.insert(k.clone(), v.clone());
        }
    }
    params.validate(&values)?;

    let mut answers = Answers {
        warnings,
        ..Answers::default()
    };
    for (k, v) in values {
        let schema = declared.iter().find(|(n, _)| *n == k).map(|(_, s)| s);
        let secret = schema.is_some_and(super::parameters::is_secret);
        if secret {
            answers.secrets.insert(k.clone(), v.clone());
            // `ui:field: Secret` values live in `secrets` only, as in
            // Backstage; a password widget's value is a parameter too.
            let secret_field = schema
                .and_then(|s| s.get("ui:field"))
                .and_then(Value::as_str)
                == Some("Secret");
            if !secret_field {
                answers.parameters.insert(k, v);
            }
        } else {
            answers.recordable.insert(k.clone(), v.clone());
            answers.parameters.insert(k, v);
        }
    }
    Ok(answers)
}
