//! One MiniJinja environment builder for both template dialects.
//!
//! Cookiecutter templates use Jinja2's `{{ }}` / `{% %}` / `{# #}`, configured
//! as cookiecutter configures Jinja2 (`StrictUndefined`,
//! `keep_trailing_newline=True`, no autoescape, its built-in extensions).
//! Backstage templates use Nunjucks' `${{ }}` for expressions and `{% %}`
//! for blocks. Both are strict about undefined values and stop at a fuel
//! limit so a runaway template cannot hang the terminal, and every render
//! counts against an output budget (per file and per project, shared by all
//! renderers of one scaffold run) checked while the output is produced, so
//! a few bytes of template cannot fill the disk or the memory.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value};

use super::error::ScaffoldError;
use super::extensions;
use crate::jinja::CappedError;

/// Default fuel for one render: far beyond any real template, small
/// enough to stop an endless loop within a second or two.
pub const DEFAULT_FUEL: u64 = 50_000_000;

/// Default output limit, per rendered file and per project (100 MB).
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 100_000_000;

/// How many bytes renders may still produce: at most `max` per render and
/// `max` in total across every renderer holding a clone.
#[derive(Debug, Clone)]
pub struct OutputBudget {
    max: u64,
    used: Arc<AtomicU64>,
}

impl OutputBudget {
    /// A fresh budget of `max` bytes per file and per project.
    pub fn new(max: u64) -> Self {
        OutputBudget {
            max,
            used: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The limit.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Adds a finished render to the project total; past the limit it is
    /// an error naming `what`.
    fn take(&self, what: &str, bytes: usize) -> Result<(), ScaffoldError> {
        let total = self.used.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
        if total > self.max {
            return Err(ScaffoldError::OutputTooLarge {
                what: what.to_string(),
                limit: self.max,
                project: true,
            });
        }
        Ok(())
    }
}

/// Parses a byte count for `--max-output-bytes`: a number with an optional
/// suffix, decimal (`KB`, `MB`, `GB`) or binary (`KiB`, `MiB`, `GiB`), case
/// and a `B` optional (`100MB`, `1GiB`, `512k`, `2048`).
pub fn parse_byte_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '_')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number
        .replace('_', "")
        .parse()
        .map_err(|_| format!("'{text}' is not a byte count like 100MB, 1GiB or 50000000"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "ki" | "kib" => 1 << 10,
        "mi" | "mib" => 1 << 20,
        "gi" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}': use B, KB, MB, GB, KiB, MiB or GiB"
            ))
        }
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("'{text}' is too large"))
}

impl Default for OutputBudget {
    fn default() -> Self {
        OutputBudget::new(DEFAULT_MAX_OUTPUT_BYTES)
    }
}

/// The template syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Jinja2 as cookiecutter configures it: `{{ }}`, `{% %}`, `{# #}`.
    Cookiecutter,
    /// Backstage (Nunjucks): `${{ }}` expressions, `{% %}` blocks, `{# #}` comments.
    Backstage,
}

/// Whitespace settings of the Jinja environment (cookiecutter's
/// `_jinja2_env_vars` may change them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Whitespace {
    /// Jinja's `trim_blocks`.
    pub trim_blocks: bool,
    /// Jinja's `lstrip_blocks`.
    pub lstrip_blocks: bool,
    /// Jinja's `keep_trailing_newline` (cookiecutter: true).
    pub keep_trailing_newline: bool,
}

impl Default for Whitespace {
    fn default() -> Self {
        Whitespace {
            trim_blocks: false,
            lstrip_blocks: false,
            keep_trailing_newline: true,
        }
    }
}

/// Delimiters and whitespace of the template language (cookiecutter's
/// `_jinja2_env_vars` may change them; `None` keeps the dialect's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JinjaSyntax {
    /// `block_start_string` / `block_end_string`.
    pub block: Option<(String, String)>,
    /// `variable_start_string` / `variable_end_string`.
    pub variable: Option<(String, String)>,
    /// `comment_start_string` / `comment_end_string`.
    pub comment: Option<(String, String)>,
    /// `line_statement_prefix`.
    pub line_statement_prefix: Option<String>,
    /// `line_comment_prefix`.
    pub line_comment_prefix: Option<String>,
    /// trim_blocks, lstrip_blocks, keep_trailing_newline.
    pub whitespace: Whitespace,
}

/// A configured template environment.
pub struct Renderer {
    env: Environment<'static>,
    dialect: Dialect,
    fuel: u64,
    syntax: JinjaSyntax,
    output: OutputBudget,
    /// Cookiecutter: the context as mutable Python objects, shared by every
    /// render of the same context (what `cookiecutter.update(…)` in a hook
    /// changes, later files see, as in Jinja2), with the JSON it came from.
    live: std::sync::Mutex<Option<(serde_json::Value, Value)>>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("dialect", &self.dialect)
            .field("fuel", &self.fuel)
            .finish()
    }
}

impl Renderer {
    /// An environment for `dialect`: strict undefined, `fuel` steps per
    /// render, no autoescape, Python string methods (`.lower()`,
    /// `.replace()`, …) and the dialect's filters and functions.
    pub fn new(dialect: Dialect, fuel: u64) -> Self {
        let mut env = crate::jinja::environment(fuel);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        // Jinja2's filters MiniJinja lacks (wordcount, truncate, wordwrap, …).
        minijinja_contrib::add_to_environment(&mut env);
        let mut r = Renderer {
            env,
            dialect,
            fuel,
            syntax: JinjaSyntax::default(),
            output: OutputBudget::default(),
            live: std::sync::Mutex::new(None),
        };
        r.set_whitespace(Whitespace::default());
        if dialect == Dialect::Cookiecutter {
            extensions::register_cookiecutter(&mut r.env);
        }
        r
    }

    /// Changes trim_blocks / lstrip_blocks / keep_trailing_newline.
    pub fn set_whitespace(&mut self, ws: Whitespace) {
        let mut syntax = self.syntax.clone();
        syntax.whitespace = ws;
        // The dialect's own delimiters are always valid.
        let _ = self.set_syntax(syntax);
    }

    /// Changes delimiters and whitespace handling.
    pub fn set_syntax(&mut self, syntax: JinjaSyntax) -> Result<(), ScaffoldError> {
        let mut b = SyntaxConfig::builder();
        let (vs, ve) = self.variable_delimiters_of(&syntax);
        b.variable_delimiters(vs, ve);
        if let Some((s, e)) = &syntax.block {
            b.block_delimiters(s.clone(), e.clone());
        }
        if let Some((s, e)) = &syntax.comment {
            b.comment_delimiters(s.clone(), e.clone());
        }
        if let Some(p) = &syntax.line_statement_prefix {
            b.line_statement_prefix(p.clone());
        }
        if let Some(p) = &syntax.line_comment_prefix {
            b.line_comment_prefix(p.clone());
        }
        b.trim_blocks(syntax.whitespace.trim_blocks)
            .lstrip_blocks(syntax.whitespace.lstrip_blocks)
            .keep_trailing_newline(syntax.whitespace.keep_trailing_newline);
        let config = b.build().map_err(|e| ScaffoldError::Render {
            what: "template syntax".into(),
            message: describe(&e),
        })?;
        self.env.set_syntax(config);
        self.syntax = syntax;
        Ok(())
    }

    fn variable_delimiters_of(&self, syntax: &JinjaSyntax) -> (String, String) {
        match &syntax.variable {
            Some((s, e)) => (s.clone(), e.clone()),
            None if self.dialect == Dialect::Backstage => ("${{".into(), "}}".into()),
            None => ("{{".into(), "}}".into()),
        }
    }

    /// The expression delimiters in force (`{{`/`}}`, `${{`/`}}`, or custom).
    pub fn variable_delimiters(&self) -> (String, String) {
        self.variable_delimiters_of(&self.syntax)
    }

    /// The dialect this renderer speaks.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The fuel limit per render.
    pub fn fuel(&self) -> u64 {
        self.fuel
    }

    /// Shares `budget` (its limit and its running project total).
    pub fn set_output_budget(&mut self, budget: OutputBudget) {
        self.output = budget;
    }

    /// The output budget, to share with other renderers of the same run.
    pub fn output_budget(&self) -> &OutputBudget {
        &self.output
    }

    /// Renders `template` with `ctx`. `what` names it in errors
    /// (`file src/app.py`, `name of docs/{{x}}`, `default of project_slug`).
    pub fn render_str(
        &self,
        what: &str,
        template: &str,
        ctx: &serde_json::Value,
    ) -> Result<String, ScaffoldError> {
        self.render_with(what, template, self.context_value(ctx))
    }

    /// `ctx` as the value templates see. Cookiecutter: mutable Python
    /// dicts and lists, the same object for every render of an equal
    /// context, so a template's `cookiecutter.update(…)` lasts for the run.
    pub fn context_value(&self, ctx: &serde_json::Value) -> Value {
        if self.dialect != Dialect::Cookiecutter {
            return Value::from(minijinja::value::Serde(ctx));
        }
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        match &*live {
            Some((json, value)) if json == ctx => value.clone(),
            _ => {
                let value = super::pyobjects::to_python_value(ctx);
                *live = Some((ctx.clone(), value.clone()));
                value
            }
        }
    }

    /// Like [`render_str`](Self::render_str) with a MiniJinja context value
    /// (avoids re-serialising a large context for every file).
    pub fn render_with(
        &self,
        what: &str,
        template: &str,
        ctx: Value,
    ) -> Result<String, ScaffoldError> {
        // Fast path: nothing to render.
        if !self.has_markup(template) {
            return Ok(template.to_string());
        }
        let source;
        let template = if self.dialect == Dialect::Cookiecutter {
            let (vs, ve) = self.variable_delimiters();
            let (bs, be) = self
                .syntax
                .block
                .clone()
                .unwrap_or_else(|| ("{%".into(), "%}".into()));
            source = extensions::prepare_source(template, &[(&vs, &ve), (&bs, &be)]);
            source.as_str()
        } else {
            template
        };
        let compiled = self
            .env
            .template_from_named_str(what, template)
            .map_err(|e| self.error(what, e))?;
        // Capped at the per-file limit while rendering; the project total is
        // checked once the file is complete (at most one file's worth over).
        match crate::jinja::render_capped(&compiled, ctx, self.output.max) {
            Ok(text) => {
                self.output.take(what, text.len())?;
                Ok(text)
            }
            Err(CappedError::TooLarge { .. }) => Err(ScaffoldError::OutputTooLarge {
                what: what.to_string(),
                limit: self.output.max,
                project: false,
            }),
            Err(CappedError::Template(e)) => Err(self.error(what, e)),
        }
    }

    /// Evaluates one expression (no delimiters) to a value.
    pub fn eval_expr(
        &self,
        what: &str,
        expr: &str,
        ctx: &serde_json::Value,
    ) -> Result<serde_json::Value, ScaffoldError> {
        let compiled = self
            .env
            .compile_expression_owned(expr.to_string())
            .map_err(|e| self.error(what, e))?;
        let v = compiled
            .eval(Value::from(minijinja::value::Serde(ctx)))
            .map_err(|e| self.error(what, e))?;
        // One operation is bounded by MiniJinja; the result still counts.
        let len = v.as_str().map_or(0, str::len);
        if len as u64 > self.output.max {
            return Err(ScaffoldError::OutputTooLarge {
                what: what.to_string(),
                limit: self.output.max,
                project: false,
            });
        }
        self.output.take(what, len)?;
        value_to_json(what, &v)
    }

    /// Renders a JSON value. Strings are templates; objects and arrays are
    /// rendered recursively. Backstage: a string that is exactly
    /// `${{ expr }}` keeps the expression's JSON type (bool, number, array,
    /// object).
    pub fn render_value(
        &self,
        what: &str,
        v: &serde_json::Value,
        ctx: &serde_json::Value,
    ) -> Result<serde_json::Value, ScaffoldError> {
        use serde_json::Value as J;
        Ok(match v {
            J::String(s) => {
                if self.dialect == Dialect::Backstage {
                    if let Some(expr) = single_expression(s) {
                        return self.eval_expr(what, expr, ctx);
                    }
                }
                J::String(self.render_str(what, s, ctx)?)
            }
            J::Array(items) => J::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.render_value(&format!("{what}[{i}]"), item, ctx))
                    .collect::<Result<_, _>>()?,
            ),
            J::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, item) in map {
                    out.insert(
                        k.clone(),
                        self.render_value(&format!("{what}.{k}"), item, ctx)?,
                    );
                }
                J::Object(out)
            }
            other => other.clone(),
        })
    }

    /// The environment, to add filters and functions (Backstage's
    /// `parseRepoUrl`, `parseEntityRef`, `pick`, `projectSlug`).
    pub fn env_mut(&mut self) -> &mut Environment<'static> {
        &mut self.env
    }

    /// The environment, read-only.
    pub fn env(&self) -> &Environment<'static> {
        &self.env
    }

    /// Whether `s` contains anything the template engine would interpret.
    pub fn has_markup(&self, s: &str) -> bool {
        let (var, _) = self.variable_delimiters();
        let block = self.syntax.block.as_ref().map_or("{%", |b| b.0.as_str());
        let comment = self.syntax.comment.as_ref().map_or("{#", |c| c.0.as_str());
        s.contains(var.as_str())
            || s.contains(block)
            || s.contains(comment)
            || self.syntax.line_statement_prefix.is_some()
            || self.syntax.line_comment_prefix.is_some()
    }

    fn error(&self, what: &str, e: minijinja::Error) -> ScaffoldError {
        if e.kind() == ErrorKind::OutOfFuel {
            return ScaffoldError::OutOfFuel {
                what: what.to_string(),
                fuel: self.fuel,
            };
        }
        ScaffoldError::Render {
            what: what.to_string(),
            message: describe(&e),
        }
    }
}

/// A MiniJinja error as one line: the message, the line, and the causes.
fn describe(e: &minijinja::Error) -> String {
    let mut msg = match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    };
    if let Some(line) = e.line() {
        msg.push_str(&format!(" (line {line})"));
    }
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        msg.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    msg
}

/// `${{ expr }}` and nothing else around it → `expr`.
fn single_expression(s: &str) -> Option<&str> {
    let t = s.trim();
    let inner = t.strip_prefix("${{")?.strip_suffix("}}")?;
    // `${{ a }} and ${{ b }}` is a string template, not one expression.
    if inner.contains("${{") || inner.contains("}}") {
        return None;
    }
    Some(inner.trim())
}

/// A MiniJinja value as JSON (undefined and none become null).
pub fn value_to_json(what: &str, v: &Value) -> Result<serde_json::Value, ScaffoldError> {
    if v.is_undefined() || v.is_none() {
        return Ok(serde_json::Value::Null);
    }
    serde_json::to_value(v).map_err(|e| ScaffoldError::Render {
        what: what.to_string(),
        message: format!("value cannot be represented as JSON: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cookiecutter_keeps_trailing_newline_and_is_strict() {
        let r = Renderer::new(Dialect::Cookiecutter, DEFAULT_FUEL);
        let ctx = json!({"cookiecutter": {"name": "x"}});
        assert_eq!(
            r.render_str("t", "{{ cookiecutter.name }}\n", &ctx)
                .unwrap(),
            "x\n"
        );
        assert!(r.render_str("t", "{{ cookiecutter.nope }}", &ctx).is_err());
        assert_eq!(
            r.render_str("t", "{{ cookiecutter.name.upper() }}", &ctx)
                .unwrap(),
            "X"
        );
    }

    #[test]
    fn backstage_expression_keeps_type() {
        let r = Renderer::new(Dialect::Backstage, DEFAULT_FUEL);
        let ctx = json!({"parameters": {"n": 3, "ok": true, "name": "a"}});
        assert_eq!(
            r.render_value("v", &json!("${{ parameters.n }}"), &ctx)
                .unwrap(),
            json!(3)
        );
        assert_eq!(
            r.render_value("v", &json!("x-${{ parameters.name }}"), &ctx)
                .unwrap(),
            json!("x-a")
        );
        assert_eq!(
            r.render_value("v", &json!({"a": ["${{ parameters.ok }}"]}), &ctx)
                .unwrap(),
            json!({"a": [true]})
        );
    }

    #[test]
    fn byte_sizes_take_decimal_and_binary_suffixes() {
        assert_eq!(parse_byte_size("2048"), Ok(2048));
        assert_eq!(parse_byte_size("100MB"), Ok(100_000_000));
        assert_eq!(parse_byte_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_byte_size("512k"), Ok(512_000));
        assert!(parse_byte_size("1TB").is_err());
        assert!(parse_byte_size("lots").is_err());
    }

    #[test]
    fn output_budget_stops_a_file_and_the_project() {
        let mut r = Renderer::new(Dialect::Cookiecutter, DEFAULT_FUEL);
        r.set_output_budget(OutputBudget::new(1000));
        let flood = "{% for i in range(100000) %}{{ 'x' * 100000 }}{% endfor %}";
        let err = r.render_str("file big", flood, &json!({})).unwrap_err();
        assert!(
            matches!(
                err,
                ScaffoldError::OutputTooLarge {
                    project: false,
                    limit: 1000,
                    ..
                }
            ),
            "{err}"
        );
        // 600 + 600 bytes: each file fits, the project does not.
        let six = "{{ 'y' * 600 }}";
        r.render_str("file a", six, &json!({})).unwrap();
        let err = r.render_str("file b", six, &json!({})).unwrap_err();
        assert!(
            matches!(err, ScaffoldError::OutputTooLarge { project: true, .. }),
            "{err}"
        );
    }

    #[test]
    fn fuel_stops_runaway_loops() {
        let r = Renderer::new(Dialect::Cookiecutter, 100_000);
        let err = r
            .render_str(
                "loop",
                "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
                &json!({}),
            )
            .unwrap_err();
        assert!(matches!(err, ScaffoldError::OutOfFuel { .. }), "{err}");
    }
}
