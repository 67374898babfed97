//! Terminal prompts for Backstage parameters, driven by each property's
//! schema: text input with validation and the default filled in, a select
//! for `enum` (labelled by `enumNames`), a confirm for booleans, masked
//! input for secrets, a multi-select for lists of `enum` items, a fuzzy
//! select over catalog entities for entity pickers, and host / owner / repo
//! questions for `RepoUrlPicker`. Dialogs are drawn on stderr.

use dialoguer::console::{style, Term};
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, FuzzySelect, Input, MultiSelect, Password, Select};
use serde_json::Value;

use crate::catalog::Catalog;
use crate::scaffold::error::ScaffoldError;

use super::parameters::{coerce, Field};
use super::pickers::{Picker, RepoPicker};
use super::values::{check, Asker};

/// Prompts on the controlling terminal.
pub struct TerminalAsker {
    theme: ColorfulTheme,
    term: Term,
}

impl Default for TerminalAsker {
    fn default() -> Self {
        TerminalAsker {
            theme: ColorfulTheme::default(),
            term: Term::stderr(),
        }
    }
}

fn prompt_error(field: &Field, e: impl std::fmt::Display) -> ScaffoldError {
    ScaffoldError::Prompt {
        name: field.name.clone(),
        message: e.to_string(),
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

impl TerminalAsker {
    /// The prompt of a field: template text, sanitized for the terminal.
    fn label(field: &Field) -> String {
        let label = crate::sanitize::line(field.label());
        if field.required {
            label.into_owned()
        } else {
            format!("{label} (optional)")
        }
    }

    fn describe(&self, field: &Field) {
        if let Some(d) = field.schema.get("description").and_then(Value::as_str) {
            // Best effort: a hint that cannot be drawn changes no answer.
            let d = crate::sanitize::block(d);
            let _ = self.term.write_line(&format!("  {}", style(d).dim()));
        }
    }

    /// Free text, typed and checked like a `--set` value.
    fn input(
        &self,
        field: &Field,
        catalog: Option<&Catalog>,
    ) -> Result<Option<Value>, ScaffoldError> {
        let mut input = Input::<String>::with_theme(&self.theme)
            .with_prompt(Self::label(field))
            .allow_empty(!field.required);
        if let Some(d) = field.default() {
            input = input.default(text_of(d));
        }
        let f = field.clone();
        let text = input
            .validate_with(move |s: &String| -> Result<(), String> {
                if s.trim().is_empty() {
                    return if f.required {
                        Err("a value is required".into())
                    } else {
                        Ok(())
                    };
                }
                let v = coerce(&f, Value::String(s.clone())).map_err(|e| e.to_string())?;
                // Pickers without a catalog (or other fields) check only the schema.
                check(&f, v, None).map(|_| ())
            })
            .interact_text()
            .map_err(|e| prompt_error(field, e))?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        let v = coerce(field, Value::String(text))?;
        check(field, v, catalog)
            .map(Some)
            .map_err(|message| ScaffoldError::InvalidValue {
                name: field.name.clone(),
                message,
            })
    }

    fn secret(&self, field: &Field) -> Result<Option<Value>, ScaffoldError> {
        let f = field.clone();
        let text = Password::with_theme(&self.theme)
            .with_prompt(Self::label(field))
            .allow_empty_password(!field.required)
            .validate_with(move |s: &String| -> Result<(), String> {
                if s.is_empty() {
                    return Ok(());
                }
                check(&f, Value::String(s.clone()), None).map(|_| ())
            })
            .interact()
            .map_err(|e| prompt_error(field, e))?;
        Ok((!text.is_empty()).then_some(Value::String(text)))
    }

    fn choose(
        &self,
        field: &Field,
        options: &[Value],
        names: Option<&Vec<Value>>,
    ) -> Result<Option<Value>, ScaffoldError> {
        let mut labels: Vec<String> = options
            .iter()
            .enumerate()
            .map(|(i, o)| {
                names
                    .and_then(|n| n.get(i))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| text_of(o))
            })
            .map(crate::sanitize::line_string)
            .collect();
        let optional = !field.required && field.default().is_none();
        if optional {
            labels.push("(none)".to_string());
        }
        // An optional value without a default starts on "(none)": Enter
        // must not quietly pick the first real choice.
        let default = field
            .default()
            .and_then(|d| options.iter().position(|o| o == d))
            .unwrap_or(if optional { labels.len() - 1 } else { 0 });
        let i = Select::with_theme(&self.theme)
            .with_prompt(Self::label(field))
            .items(&labels)
            .default(default)
            .interact()
            .map_err(|e| prompt_error(field, e))?;
        Ok(options.get(i).cloned())
    }

    fn choose_many(
        &self,
        field: &Field,
        options: &[Value],
        names: Option<&Vec<Value>>,
    ) -> Result<Option<Value>, ScaffoldError> {
        let defaults: Vec<Value> = field
            .default()
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let items: Vec<(String, bool)> = options
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let label = names
                    .and_then(|n| n.get(i))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| text_of(o));
                (label, defaults.contains(o))
            })
            .collect();
        loop {
            let picked = MultiSelect::with_theme(&self.theme)
                .with_prompt(format!(
                    "{} (space to select, enter to confirm)",
                    Self::label(field)
                ))
                .items_checked(&items)
                .interact()
                .map_err(|e| prompt_error(field, e))?;
            let v = Value::Array(
                picked
                    .into_iter()
                    .filter_map(|i| options.get(i).cloned())
                    .collect(),
            );
            match check(field, v.clone(), None) {
                Ok(v) => return Ok(Some(v)),
                Err(m) => {
                    let _ = self.term.write_line(&format!("  {}", style(m).red()));
                }
            }
        }
    }

    fn pick_entity(
        &self,
        field: &Field,
        picker: &Picker,
        catalog: &Catalog,
    ) -> Result<Option<Value>, ScaffoldError> {
        let candidates = picker.candidates(catalog);
        if candidates.is_empty() {
            return self.input(field, Some(catalog));
        }
        let labels: Vec<String> = candidates
            .iter()
            .map(|e| crate::sanitize::line_string(picker.label(e)))
            .collect();
        if picker.is_multi() {
            let picked = MultiSelect::with_theme(&self.theme)
                .with_prompt(format!(
                    "{} (space to select, enter to confirm)",
                    Self::label(field)
                ))
                .items(&labels)
                .interact()
                .map_err(|e| prompt_error(field, e))?;
            let refs: Vec<Value> = picked
                .into_iter()
                .map(|i| Value::String(Picker::value_of(candidates[i])))
                .collect();
            return Ok((!refs.is_empty() || field.required).then_some(Value::Array(refs)));
        }
        let mut labels = labels;
        if !field.required {
            labels.push("(none)".to_string());
        }
        // Without a default, an optional picker starts on "(none)", not on
        // whichever entity happens to sort first.
        let default = field
            .default()
            .and_then(Value::as_str)
            .and_then(|d| picker.resolve(d, catalog).ok())
            .and_then(|r| candidates.iter().position(|e| Picker::value_of(e) == r))
            .unwrap_or(if field.required { 0 } else { labels.len() - 1 });
        let i = FuzzySelect::with_theme(&self.theme)
            .with_prompt(format!("{} (type to filter)", Self::label(field)))
            .items(&labels)
            .default(default)
            .interact()
            .map_err(|e| prompt_error(field, e))?;
        Ok(candidates
            .get(i)
            .map(|e| Value::String(Picker::value_of(e))))
    }

    fn repo_url(&self, field: &Field, rp: &RepoPicker) -> Result<Option<Value>, ScaffoldError> {
        let ask_one = |what: &str,
                       allowed: &[String],
                       default: Option<String>|
         -> Result<String, ScaffoldError> {
            match allowed {
                [only] => Ok(only.clone()),
                [] => {
                    let mut input = Input::<String>::with_theme(&self.theme)
                        .with_prompt(format!("{} — {what}", crate::sanitize::line(field.label())));
                    if let Some(d) = default {
                        input = input.default(d);
                    }
                    input.interact_text().map_err(|e| prompt_error(field, e))
                }
                many => {
                    let i = Select::with_theme(&self.theme)
                        .with_prompt(format!("{} — {what}", crate::sanitize::line(field.label())))
                        .items(
                            &many
                                .iter()
                                .map(|m| crate::sanitize::line_string(m.clone()))
                                .collect::<Vec<_>>(),
                        )
                        .default(0)
                        .interact()
                        .map_err(|e| prompt_error(field, e))?;
                    Ok(many[i].clone())
                }
            }
        };
        let previous = field
            .default()
            .and_then(Value::as_str)
            .and_then(|d| super::filters::RepoSpec::parse(d).ok());
        loop {
            let host = ask_one(
                "host",
                &rp.allowed_hosts,
                Some(
                    previous
                        .as_ref()
                        .map(|p| p.host.clone())
                        .unwrap_or_else(|| "github.com".into()),
                ),
            )?;
            let owner = ask_one(
                "owner",
                &rp.allowed_owners,
                previous.as_ref().and_then(|p| p.owner.clone()),
            )?;
            let repo = ask_one("repository name", &rp.allowed_repos, None)?;
            let url = format!("{host}?owner={owner}&repo={repo}");
            match check(field, Value::String(url.clone()), None) {
                Ok(v) => return Ok(Some(v)),
                Err(m) => {
                    let _ = self.term.write_line(&format!("  {}", style(m).red()));
                }
            }
        }
    }
}

impl Asker for TerminalAsker {
    fn page(&mut self, title: &str) {
        let title = crate::sanitize::line(title);
        let _ = self.term.write_line(&format!("{}", style(title).bold()));
    }

    fn ask(
        &mut self,
        field: &Field,
        catalog: Option<&Catalog>,
    ) -> Result<Option<Value>, ScaffoldError> {
        self.describe(field);
        if field.is_secret() {
            return self.secret(field);
        }
        if let (Some(p), Some(cat)) = (Picker::of(field), catalog) {
            return self.pick_entity(field, &p, cat);
        }
        if let Some(rp) = RepoPicker::of(field) {
            return self.repo_url(field, &rp);
        }
        let names = field.schema.get("enumNames").and_then(Value::as_array);
        if let Some(options) = field.schema.get("enum").and_then(Value::as_array) {
            return self.choose(field, options, names);
        }
        match field.json_type() {
            Some("boolean") => {
                let default = field.default().and_then(Value::as_bool).unwrap_or(false);
                let yes = Confirm::with_theme(&self.theme)
                    .with_prompt(field.label())
                    .default(default)
                    .interact()
                    .map_err(|e| prompt_error(field, e))?;
                Ok(Some(Value::Bool(yes)))
            }
            Some("array") => {
                let items = field.schema.get("items");
                let names = items
                    .and_then(|i| i.get("enumNames"))
                    .and_then(Value::as_array);
                match items.and_then(|i| i.get("enum")).and_then(Value::as_array) {
                    Some(options) => self.choose_many(field, options, names),
                    None => self.input(field, catalog),
                }
            }
            _ => self.input(field, catalog),
        }
    }
}
