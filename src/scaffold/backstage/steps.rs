//! `spec.steps`: run in order, as Backstage's workflow runner does. A
//! step's `if` is rendered and tested with JavaScript truthiness (`false`,
//! `null`, `0`, `""` and `[]` are false; note that the *string* `"false"`
//! is true, as in Backstage); `each` iterates a list or an object with
//! `each.key` / `each.value` (its outputs become lists); `input` is rendered
//! with `parameters`, `secrets`, `user`, `steps.<id>.output` of the steps
//! before, and `each`. A reference to a step that does not exist, comes
//! later, or to an output it does not have is an error naming both steps.

use std::path::Path;

use regex::Regex;
use serde_json::{Map, Value};

use crate::scaffold::error::ScaffoldError;
use crate::scaffold::render::Renderer;

use super::actions::{self, ActionEnv};

/// One step as written.
#[derive(Debug, Clone)]
pub struct Step {
    /// `id` (default `step-<n>`).
    pub id: String,
    /// `name`, for messages.
    pub name: Option<String>,
    /// `action`.
    pub action: String,
    /// `input` (unrendered).
    pub input: Value,
    /// `if` (unrendered).
    pub condition: Option<Value>,
    /// `each` (unrendered).
    pub each: Option<Value>,
}

/// Reads `spec.steps`.
pub fn parse(steps: Option<&Value>, template: &Path) -> Result<Vec<Step>, ScaffoldError> {
    let invalid = |message: String| ScaffoldError::InvalidTemplate {
        path: template.to_path_buf(),
        message,
    };
    let list = match steps {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(invalid("spec.steps must be a list".into())),
    };
    let mut out: Vec<Step> = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let obj = s
            .as_object()
            .ok_or_else(|| invalid(format!("spec.steps[{i}] must be an object")))?;
        let id = match obj.get("id") {
            Some(Value::String(id)) => id.clone(),
            None => format!("step-{}", i + 1),
            Some(_) => return Err(invalid(format!("spec.steps[{i}].id must be a string"))),
        };
        if out.iter().any(|o| o.id == id) {
            return Err(invalid(format!("two steps have the id '{id}'")));
        }
        let action = obj
            .get("action")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("step '{id}' has no action")))?
            .to_string();
        out.push(Step {
            id,
            name: obj.get("name").and_then(Value::as_str).map(str::to_string),
            action,
            input: obj
                .get("input")
                .cloned()
                .unwrap_or(Value::Object(Map::new())),
            condition: obj.get("if").cloned(),
            each: obj.get("each").cloned(),
        });
    }
    Ok(out)
}

/// JavaScript truthiness, with empty lists false (Backstage's `isTruthy`).
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(_) => true,
    }
}

/// What happened to a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepState {
    /// Ran; its outputs are in the context.
    Ran,
    /// Its `if` was false.
    Skipped,
    /// Unknown action, skipped with `--skip-unknown-actions`.
    Unknown,
}

/// Every `steps.<id>…` / `steps['<id>']…` reference in a value, with the
/// output name when one follows `.output`.
fn step_refs(v: &Value, out: &mut Vec<(String, Option<String>)>) {
    // Compiled per call: a template has a handful of steps.
    let re = Regex::new(
        r#"\bsteps(?:\.([A-Za-z_$][\w$-]*)|\[\s*['"]([^'"]+)['"]\s*\])(?:\s*\.\s*output(?:\.([A-Za-z_$][\w$]*)|\[\s*['"]([^'"]+)['"]\s*\])?)?"#,
    )
    .expect("valid regex");
    match v {
        Value::String(s) => {
            for c in re.captures_iter(s) {
                let id = c.get(1).or(c.get(2)).map(|m| m.as_str().to_string());
                let output = c.get(3).or(c.get(4)).map(|m| m.as_str().to_string());
                if let Some(id) = id {
                    out.push((id, output));
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| step_refs(x, out)),
        Value::Object(m) => m.values().for_each(|x| step_refs(x, out)),
        _ => {}
    }
}

/// Checks a step's references to other steps before it is rendered.
fn check_refs(
    who: &str,
    values: &[&Value],
    steps: &[Step],
    states: &[(String, StepState)],
    ctx: &Value,
) -> Result<(), ScaffoldError> {
    let mut refs = Vec::new();
    for v in values {
        step_refs(v, &mut refs);
    }
    for (id, output) in refs {
        let message = match states.iter().find(|(s, _)| *s == id) {
            None => {
                if steps.iter().any(|s| s.id == id) {
                    Some(format!(
                        "refers to steps['{id}'], which runs after it; a step can only use the outputs of the steps before it"
                    ))
                } else {
                    Some(format!(
                        "refers to steps['{id}'], but there is no step with that id (steps: {})",
                        steps.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", ")
                    ))
                }
            }
            Some((_, state)) => output.and_then(|o| {
                let outputs = ctx.pointer(&format!("/steps/{}/output", id.replace('~', "~0").replace('/', "~1")));
                let has = outputs.and_then(|x| x.get(&o)).is_some();
                (!has).then(|| {
                    let action = steps.iter().find(|s| s.id == id).map(|s| s.action.as_str()).unwrap_or("?");
                    let why = match state {
                        StepState::Skipped => " (it was skipped: its if was false)".to_string(),
                        StepState::Unknown => " (its action is unknown and was skipped)".to_string(),
                        StepState::Ran => {
                            let names: Vec<&str> = outputs
                                .and_then(Value::as_object)
                                .map(|m| m.keys().map(String::as_str).collect())
                                .unwrap_or_default();
                            if names.is_empty() {
                                "; it has no outputs".to_string()
                            } else {
                                format!("; it has: {}", names.join(", "))
                            }
                        }
                    };
                    format!("refers to steps['{id}'].output.{o}, but step '{id}' ({action}) has no output '{o}'{why}")
                })
            }),
        };
        if let Some(m) = message {
            return Err(ScaffoldError::InvalidValue {
                name: who.to_string(),
                message: m,
            });
        }
    }
    Ok(())
}

/// How the runner treats unknown actions.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Warn and skip steps with unknown actions instead of failing.
    pub skip_unknown_actions: bool,
}

/// Fails before anything runs when a step uses an action idp does not
/// know (unless such steps are to be skipped).
pub fn check_actions(
    steps: &[Step],
    opts: RunOptions,
    template: &Path,
) -> Result<(), ScaffoldError> {
    if opts.skip_unknown_actions {
        return Ok(());
    }
    if let Some(s) = steps.iter().find(|s| !actions::is_known(&s.action)) {
        return Err(ScaffoldError::UnknownAction {
            template: template.to_path_buf(),
            step: s.id.clone(),
            action: s.action.clone(),
            known: actions::KNOWN.iter().map(|a| a.to_string()).collect(),
        });
    }
    Ok(())
}

/// Renders a step's `input`/`if`/`each` value as steps do (bare object keys
/// quoted first). Public for the fuzz targets only.
#[doc(hidden)]
pub fn render(r: &Renderer, what: &str, v: &Value, ctx: &Value) -> Result<Value, ScaffoldError> {
    r.render_value(what, &quote_object_keys(v), ctx)
}

/// Nunjucks accepts JavaScript object literals with bare keys
/// (`parseEntityRef({ defaultKind: "group" })`, as Backstage's docs write
/// them); Jinja needs quoted keys. Quotes bare keys after `{` or `,` inside
/// `${{ … }}`, leaving string literals alone.
fn quote_object_keys(v: &Value) -> Value {
    match v {
        Value::String(s) if s.contains("${{") && s.contains(':') => Value::String(quote_keys_in(s)),
        Value::Array(a) => Value::Array(a.iter().map(quote_object_keys).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), quote_object_keys(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn quote_keys_in(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut rest = s;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start + 3]);
        rest = &rest[start + 3..];
        let end = rest.find("}}").unwrap_or(rest.len());
        let expr: Vec<char> = rest[..end].chars().collect();
        let mut quote: Option<char> = None;
        let mut i = 0;
        while i < expr.len() {
            let c = expr[i];
            out.push(c);
            i += 1;
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '\'' || c == '"' => quote = Some(c),
                None if c == '{' || c == ',' => {
                    // `{ key:` or `, key:` → `{ "key":`
                    let mut j = i;
                    while j < expr.len() && expr[j].is_whitespace() {
                        j += 1;
                    }
                    let key_start = j;
                    while j < expr.len()
                        && (expr[j].is_alphanumeric() || expr[j] == '_' || expr[j] == '$')
                    {
                        j += 1;
                    }
                    let key_end = j;
                    while j < expr.len() && expr[j].is_whitespace() {
                        j += 1;
                    }
                    let is_key = key_end > key_start
                        && !expr[key_start].is_ascii_digit()
                        && j < expr.len()
                        && expr[j] == ':';
                    if is_key {
                        out.extend(&expr[i..key_start]);
                        out.push('"');
                        out.extend(&expr[key_start..key_end]);
                        out.push('"');
                        i = key_end;
                    }
                }
                None => {}
            }
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn each_entries(step: &Step, v: Value) -> Result<Vec<(String, Value)>, ScaffoldError> {
    match v {
        Value::Array(a) => Ok(a
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect()),
        Value::Object(m) => Ok(m.into_iter().collect()),
        other => Err(ScaffoldError::InvalidValue {
            name: format!("step '{}'", step.id),
            message: format!("each must resolve to a list or an object, got {other}"),
        }),
    }
}

/// Runs every step in order, updating `ctx.steps`. Returns each step's fate.
pub fn run(
    steps: &[Step],
    r: &Renderer,
    ctx: &mut Value,
    env: &mut ActionEnv<'_>,
) -> Result<Vec<(String, StepState)>, ScaffoldError> {
    let mut states: Vec<(String, StepState)> = Vec::new();
    for step in steps {
        let who = format!("step '{}'", step.id);
        let mut refs: Vec<&Value> = vec![&step.input];
        refs.extend(step.condition.iter());
        refs.extend(step.each.iter());
        check_refs(&who, &refs, steps, &states, ctx)?;

        if !actions::is_known(&step.action) {
            env.log.push(format!(
                "warning: skipped step '{}': idp cannot run the action '{}'",
                step.id, step.action
            ));
            set_output(ctx, &step.id, Map::new());
            states.push((step.id.clone(), StepState::Unknown));
            continue;
        }

        let condition_holds = |ctx: &Value| -> Result<bool, ScaffoldError> {
            Ok(match &step.condition {
                None => true,
                Some(Value::Bool(b)) => *b,
                Some(c @ Value::String(_)) => truthy(&render(r, &format!("{who} if"), c, ctx)?),
                Some(other) => truthy(other),
            })
        };

        let Some(each) = &step.each else {
            if !condition_holds(ctx)? {
                env.log
                    .push(format!("{}: skipped (its if was false)", step.id));
                set_output(ctx, &step.id, Map::new());
                states.push((step.id.clone(), StepState::Skipped));
                continue;
            }
            let input = render(r, &format!("{who} input"), &step.input, ctx)?;
            let input = input.as_object().cloned().unwrap_or_default();
            let output = actions::run(&step.id, &step.action, &input, env)?;
            set_output(ctx, &step.id, output);
            states.push((step.id.clone(), StepState::Ran));
            continue;
        };

        // With `each`, `if` is evaluated per iteration and every output
        // becomes the list of the iterations' values.
        let resolved = render(r, &format!("{who} each"), each, ctx)?;
        if !truthy(&resolved) && !resolved.is_object() && !resolved.is_array() {
            return Err(ScaffoldError::InvalidValue {
                name: who,
                message: format!("each {each} cannot be resolved to a value"),
            });
        }
        let mut outputs: Map<String, Value> = Map::new();
        for (key, value) in each_entries(step, resolved)? {
            let mut iter_ctx = ctx.clone();
            if let Value::Object(m) = &mut iter_ctx {
                m.insert(
                    "each".into(),
                    serde_json::json!({ "key": key, "value": value }),
                );
            }
            if !condition_holds(&iter_ctx)? {
                env.log
                    .push(format!("{}[{key}]: skipped (its if was false)", step.id));
                continue;
            }
            let input = render(r, &format!("{who}[{key}] input"), &step.input, &iter_ctx)?;
            let input = input.as_object().cloned().unwrap_or_default();
            let out = actions::run(&format!("{}[{key}]", step.id), &step.action, &input, env)?;
            for (k, v) in out {
                match outputs.entry(k).or_insert_with(|| Value::Array(Vec::new())) {
                    Value::Array(a) => a.push(v),
                    _ => unreachable!("outputs of each are lists"),
                }
            }
        }
        set_output(ctx, &step.id, outputs);
        states.push((step.id.clone(), StepState::Ran));
    }
    Ok(states)
}

fn set_output(ctx: &mut Value, id: &str, output: Map<String, Value>) {
    if let Some(steps) = ctx.get_mut("steps").and_then(Value::as_object_mut) {
        steps.insert(id.to_string(), serde_json::json!({ "output": output }));
    }
}

/// Renders `spec.output` (`links`, `text`, anything else) after the steps.
pub fn render_output(
    output: Option<&Value>,
    steps: &[Step],
    states: &[(String, StepState)],
    r: &Renderer,
    ctx: &Value,
) -> Result<Value, ScaffoldError> {
    let Some(output) = output else {
        return Ok(Value::Null);
    };
    check_refs("spec.output", &[output], steps, states, ctx)?;
    render(r, "spec.output", output, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truthiness_is_javascripts() {
        for v in [json!(false), json!(null), json!(0), json!(""), json!([])] {
            assert!(!truthy(&v), "{v}");
        }
        for v in [json!(true), json!("false"), json!(1), json!({}), json!([0])] {
            assert!(truthy(&v), "{v}");
        }
    }

    #[test]
    fn quotes_bare_object_keys_outside_strings() {
        assert_eq!(
            quote_keys_in("${{ o | parseEntityRef({ defaultKind:\"group\", defaultNamespace: 'a, b:c' }) }} {x: 1}"),
            "${{ o | parseEntityRef({ \"defaultKind\":\"group\", \"defaultNamespace\": 'a, b:c' }) }} {x: 1}"
        );
        assert_eq!(quote_keys_in("${{ {'a': 1} }}"), "${{ {'a': 1} }}");
        assert_eq!(quote_keys_in("${{ x[1:2] }}"), "${{ x[1:2] }}");
    }

    #[test]
    fn finds_step_references() {
        let mut refs = Vec::new();
        step_refs(
            &json!({"a": "${{ steps['publish'].output.remoteUrl }}", "b": ["${{ steps.fetch.output['x'] }} ${{ steps.x }}"]}),
            &mut refs,
        );
        assert_eq!(
            refs,
            vec![
                ("publish".into(), Some("remoteUrl".into())),
                ("fetch".into(), Some("x".into())),
                ("x".into(), None)
            ]
        );
    }
}
