//! Asking for values on the terminal (dialoguer). Only called when the
//! caller decided the session is interactive: off a terminal nothing here
//! runs, and a missing required value is an error naming the flag instead.

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, FuzzySelect, Input, Password, Select};

use super::error::ScaffoldError;

fn theme() -> ColorfulTheme {
    ColorfulTheme::default()
}

fn failed(name: &str, e: dialoguer::Error) -> ScaffoldError {
    ScaffoldError::Prompt {
        name: name.to_string(),
        message: e.to_string(),
    }
}

/// Checks a typed answer; the error is shown and the question asked again.
pub type Validator<'a> = &'a dyn Fn(&str) -> Result<(), String>;

/// A line of text with an optional default and validation.
pub fn input(
    name: &str,
    prompt: &str,
    default: Option<&str>,
    validate: Option<Validator>,
) -> Result<String, ScaffoldError> {
    let theme = theme();
    let mut q = Input::<String>::with_theme(&theme).with_prompt(crate::sanitize::line(prompt));
    if let Some(d) = default {
        q = q.default(d.to_string());
    } else {
        q = q.allow_empty(false);
    }
    if let Some(v) = validate {
        q = q.validate_with(move |s: &String| v(s));
    }
    q.interact_text().map_err(|e| failed(name, e))
}

/// One of `items`; returns its index.
pub fn select(
    name: &str,
    prompt: &str,
    items: &[String],
    default: usize,
) -> Result<usize, ScaffoldError> {
    Select::with_theme(&theme())
        .with_prompt(crate::sanitize::line(prompt))
        .items(&safe_items(items))
        .default(default.min(items.len().saturating_sub(1)))
        .interact()
        .map_err(|e| failed(name, e))
}

/// One of `items`, filtered as the user types; returns its index.
pub fn fuzzy_select(
    name: &str,
    prompt: &str,
    items: &[String],
    default: usize,
) -> Result<usize, ScaffoldError> {
    FuzzySelect::with_theme(&theme())
        .with_prompt(crate::sanitize::line(prompt))
        .items(&safe_items(items))
        .default(default.min(items.len().saturating_sub(1)))
        .interact()
        .map_err(|e| failed(name, e))
}

/// Yes or no.
pub fn confirm(name: &str, prompt: &str, default: bool) -> Result<bool, ScaffoldError> {
    Confirm::with_theme(&theme())
        .with_prompt(crate::sanitize::line(prompt))
        .default(default)
        .interact()
        .map_err(|e| failed(name, e))
}

/// A secret, not echoed.
pub fn password(name: &str, prompt: &str) -> Result<String, ScaffoldError> {
    Password::with_theme(&theme())
        .with_prompt(crate::sanitize::line(prompt))
        .interact()
        .map_err(|e| failed(name, e))
}

/// Choices as shown: template text, so sanitized like any data on a
/// terminal (see `crate::sanitize`).
fn safe_items(items: &[String]) -> Vec<String> {
    items
        .iter()
        .map(|i| crate::sanitize::line_string(i.clone()))
        .collect()
}
