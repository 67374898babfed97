//! Cookiecutter templates, rendered byte for byte as `cookiecutter
//! --no-input` (2.x) renders them: the context built from `cookiecutter.json`
//! in file order (`generate_context`), extra context applied and coerced
//! (`apply_overwrites_to_context`), variables rendered one after another
//! with the values before them (`prompt_for_config`: private `_x` kept raw,
//! computed `__x` rendered but never asked, choices default to their first
//! item, dicts in a second pass), then the `{{cookiecutter.x}}` directory
//! rendered file by file (`generate_files`), with hooks around it — only
//! under `--trust`.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::answers::TemplateSource;
use super::error::ScaffoldError;
use super::extensions::python_float_repr;
use super::hooks;
use super::paths::contained;
use super::prompt;
use super::render::{Dialect, JinjaSyntax, Renderer, Whitespace};
use super::tree::{render_tree, TreeOptions};
use super::{LoadedTemplate, RenderOutcome, ScaffoldOptions};
use crate::confine::{ConfineError, Root, RootKind};

/// The context file of a cookiecutter template.
pub const CONTEXT_FILE: &str = "cookiecutter.json";

/// Whether `dir` is a cookiecutter template (its `cookiecutter.json` inside it).
pub fn is_template(dir: &Path) -> bool {
    Root::new(dir, RootKind::Template).is_ok_and(|root| root.is_file(CONTEXT_FILE))
}

/// Reads `cookiecutter.json` (key order kept), refusing one that resolves
/// outside the template.
pub fn load_context(repo_dir: &Path) -> Result<Map<String, Value>, ScaffoldError> {
    let path = repo_dir.join(CONTEXT_FILE);
    let text = Root::new(repo_dir, RootKind::Template)
        .and_then(|root| root.read_to_string(CONTEXT_FILE))
        .map_err(|e| match e {
            ConfineError::Io { source, .. } => ScaffoldError::io(&path, source),
            refused => ScaffoldError::confined(CONTEXT_FILE, refused),
        })?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ScaffoldError::InvalidTemplate {
            path,
            message: "cookiecutter.json must hold a JSON object".into(),
        }),
        Err(e) => Err(ScaffoldError::InvalidTemplate {
            path,
            message: format!("JSON decoding error: {e}"),
        }),
    }
}

/// One variable of a template, for `idp scaffold show`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Variable {
    /// Name.
    pub name: String,
    /// `string`, `choice`, `boolean`, `dict`, `computed` or `private`.
    pub kind: &'static str,
    /// Default value as written (templates unrendered).
    pub default: Value,
    /// Choices, for a choice variable.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Value>,
    /// The `__prompts__` question, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
}

/// The variables of a cookiecutter template, in file order.
pub fn variables(repo_dir: &Path) -> Result<Vec<Variable>, ScaffoldError> {
    let ctx = load_context(repo_dir)?;
    let prompts = ctx
        .get("__prompts__")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Ok(ctx
        .iter()
        .filter(|(k, _)| k.as_str() != "__prompts__")
        .map(|(k, v)| {
            let kind = if k.starts_with("__") {
                "computed"
            } else if k.starts_with('_') {
                "private"
            } else {
                match v {
                    Value::Array(_) => "choice",
                    Value::Bool(_) => "boolean",
                    Value::Object(_) => "dict",
                    _ => "string",
                }
            };
            let (default, choices) = match v {
                Value::Array(items) if kind == "choice" => {
                    (items.first().cloned().unwrap_or(Value::Null), items.clone())
                }
                other => (other.clone(), Vec::new()),
            };
            let prompt = match prompts.get(k) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Object(o)) => o
                    .get("__prompt__")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                _ => None,
            };
            Variable {
                name: k.clone(),
                kind,
                default,
                choices,
                prompt,
            }
        })
        .collect())
}

/// Renders a cookiecutter template into `dest` (a new project directory
/// appears inside it).
pub fn render(
    t: &LoadedTemplate,
    opts: &ScaffoldOptions,
    dest: &Path,
) -> Result<RenderOutcome, ScaffoldError> {
    prepare(t, opts)?.render(dest)
}

/// A cookiecutter template whose context is settled: every question has
/// been asked (and the `pre_prompt` hook run), nothing has been written.
pub struct Prepared {
    /// Warnings, log and answers so far.
    outcome: RenderOutcome,
    /// The template directory rendered (a `pre_prompt` copy, or a nested
    /// template).
    repo_dir: PathBuf,
    /// Copies made by `pre_prompt` hooks, alive until rendered.
    _copies: Vec<tempfile::TempDir>,
    renderer: Renderer,
    context: Value,
    /// The `{{cookiecutter.x}}` directory and its rendered name.
    template_dir: PathBuf,
    unrendered: String,
    name: String,
    copy_without_render: Vec<String>,
    run_hooks: bool,
    /// The interpreter of `.py` hooks.
    python: String,
}

impl Prepared {
    /// The answers to record (secrets removed).
    pub fn answers(&self) -> &Map<String, Value> {
        &self.outcome.answers
    }

    /// The project directory's name (the rendered `{{cookiecutter.x}}`).
    pub fn project_name(&self) -> &str {
        &self.name
    }

    /// Writes the project into `dest`, running the generation hooks when
    /// trusted.
    pub fn render(self, dest: &Path) -> Result<RenderOutcome, ScaffoldError> {
        let Prepared {
            mut outcome,
            repo_dir,
            _copies,
            renderer,
            context,
            template_dir,
            unrendered,
            name,
            copy_without_render,
            run_hooks,
            python,
        } = self;
        let mut context = context;
        if let Some(Value::Object(cc)) = context.get_mut("cookiecutter") {
            if cc.get("_output_dir").is_some_and(Value::is_null) {
                cc.insert("_output_dir".into(), output_dir_value(dest));
            }
        }
        let project_dir = contained(dest, &name).map_err(|reason| ScaffoldError::UnsafePath {
            what: format!("directory {unrendered}"),
            path: name.clone(),
            reason,
        })?;
        std::fs::create_dir_all(&project_dir).map_err(|e| ScaffoldError::io(&project_dir, e))?;

        if run_hooks {
            for h in hooks::run_hook(
                &repo_dir,
                "pre_gen_project",
                &project_dir,
                &renderer,
                &context,
                &python,
            )? {
                outcome.log.push(format!("ran hook {}", h.display()));
            }
        }
        let tree_opts = TreeOptions {
            copy_without_render,
            templated_names: true,
            binary_passthrough: true,
        };
        let root = Root::new(&repo_dir, RootKind::Template)
            .map_err(|e| ScaffoldError::confined("template directory", e))?;
        outcome.files = render_tree(
            &renderer,
            &root,
            &template_dir,
            &project_dir,
            &context,
            &tree_opts,
        )?;
        if run_hooks {
            for h in hooks::run_hook(
                &repo_dir,
                "post_gen_project",
                &project_dir,
                &renderer,
                &context,
                &python,
            )? {
                outcome.log.push(format!("ran hook {}", h.display()));
            }
        }
        outcome.project_dir = project_dir;
        Ok(outcome)
    }
}

/// `_output_dir` as cookiecutter records it: an absolute path.
fn output_dir_value(dir: &Path) -> Value {
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    Value::String(abs.display().to_string())
}

/// Settles a cookiecutter template's context: runs `pre_prompt` (trusted),
/// picks a nested template, applies the given values and asks for the rest
/// (when interactive). Writes nothing outside temporary directories, so an
/// interrupted prompt leaves nothing behind.
pub fn prepare(t: &LoadedTemplate, opts: &ScaffoldOptions) -> Result<Prepared, ScaffoldError> {
    let mut outcome = RenderOutcome::default();
    let run_hooks = opts.trust && !opts.dry_run;
    outcome.warnings.extend(hooks::skipped_warning(
        &t.dir,
        run_hooks,
        opts.dry_run,
        opts.trust,
    ));

    // pre_prompt runs in a copy of the template, which is then rendered.
    let pre_prompt_copy = if run_hooks {
        hooks::run_pre_prompt(&t.dir, &opts.python())?
    } else {
        None
    };
    let repo_dir: PathBuf = match &pre_prompt_copy {
        Some(temp) => temp.path().join(t.dir.file_name().unwrap_or_default()),
        None => t.dir.clone(),
    };
    if pre_prompt_copy.is_some() {
        outcome.log.push("ran hook pre_prompt".into());
    }

    let mut obj = load_context(&repo_dir)?;
    if obj.contains_key("templates") || obj.contains_key("template") {
        let nested = choose_nested_template(&obj, &repo_dir, opts)?;
        let mut inner = t.clone();
        inner.arg = nested.display().to_string();
        inner.dir = nested;
        let mut prepared = prepare(&inner, opts)?;
        prepared.outcome.warnings.splice(0..0, outcome.warnings);
        // The nested template may live in this template's pre_prompt copy.
        prepared._copies.extend(pre_prompt_copy);
        return Ok(prepared);
    }
    if opts.replay.is_none() || !opts.values.is_empty() {
        apply_overwrites(&mut obj, &opts.values, false)?;
    }
    let original: Map<String, Value> = obj
        .iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    let mut renderer = renderer_for(&obj, opts, &repo_dir)?;
    renderer.set_output_budget(super::OutputBudget::new(opts.max_output_bytes));
    let prompts = match obj.remove("__prompts__") {
        Some(Value::Object(p)) => p,
        _ => Map::new(),
    };
    let ask = Asker {
        interactive: opts.interactive && !opts.defaults,
        prompts: &prompts,
    };

    let mut cc = match &opts.replay {
        Some(replay) => {
            let missing: Map<String, Value> = obj
                .iter()
                .filter(|(k, _)| !replay.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let mut cc = replay.clone();
            let prompted = prompt_for_config(&renderer, &missing, &ask)?;
            for (k, v) in prompted {
                cc.insert(k, v);
            }
            cc
        }
        None => {
            let prompted = prompt_for_config(&renderer, &obj, &ask)?;
            for (k, v) in prompted {
                obj.insert(k, v);
            }
            obj
        }
    };
    cc.insert("_template".into(), Value::String(t.arg.clone()));
    // Without an output directory it is where the render goes, known only
    // then (see `Prepared::render`); the key keeps its place meanwhile.
    cc.insert(
        "_output_dir".into(),
        opts.output_dir
            .as_deref()
            .map_or(Value::Null, output_dir_value),
    );
    cc.insert(
        "_repo_dir".into(),
        Value::String(repo_dir_label(t, &repo_dir)),
    );
    cc.insert("_checkout".into(), Value::Null);

    let secrets = secret_names(&cc, &prompts);
    outcome.answers = cc
        .iter()
        .filter(|(k, _)| !k.starts_with('_') && !secrets.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    let copy_without_render: Vec<String> = cc
        .get("_copy_without_render")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut context = Map::new();
    context.insert("cookiecutter".into(), Value::Object(cc));
    context.insert("_cookiecutter".into(), Value::Object(original));
    let context = Value::Object(context);

    // The project directory: the one `{{cookiecutter.x}}` entry.
    let template_dir = find_template_dir(&repo_dir, &renderer)?;
    let unrendered = template_dir
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let name = renderer.render_str(&format!("directory {unrendered}"), &unrendered, &context)?;
    if name.trim().is_empty() {
        return Err(ScaffoldError::UnsafePath {
            what: format!("directory {unrendered}"),
            path: name,
            reason: "the project directory name renders empty".into(),
        });
    }
    Ok(Prepared {
        outcome,
        repo_dir,
        _copies: pre_prompt_copy.into_iter().collect(),
        renderer,
        context,
        template_dir,
        unrendered,
        name,
        copy_without_render,
        run_hooks,
        python: opts.python(),
    })
}

/// cookiecutter's `choose_nested_template`: a `templates` object (its first
/// entry unless `--set template=<key>` or a prompt picks another) or the old
/// `template` list of `"Title (path)"`; the path is relative to the
/// template and must stay inside it.
fn choose_nested_template(
    obj: &Map<String, Value>,
    repo_dir: &Path,
    opts: &ScaffoldOptions,
) -> Result<PathBuf, ScaffoldError> {
    let bad = |message: String| ScaffoldError::InvalidTemplate {
        path: repo_dir.join(CONTEXT_FILE),
        message,
    };
    let wanted = opts.values.get("template").and_then(Value::as_str);
    let interactive = opts.interactive && !opts.defaults;
    let rel = match obj.get("templates") {
        Some(Value::Object(templates)) if !templates.is_empty() => {
            let keys: Vec<&String> = templates.keys().collect();
            let key = match wanted {
                Some(w) => keys
                    .iter()
                    .find(|k| k.as_str() == w)
                    .copied()
                    .ok_or_else(|| ScaffoldError::InvalidValue {
                        name: "template".into(),
                        message: format!(
                            "{w} is not one of the nested templates: {}",
                            keys.iter()
                                .map(|k| k.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    })?,
                None if interactive => {
                    let labels: Vec<String> = keys
                        .iter()
                        .map(|k| {
                            let t = &templates[k.as_str()];
                            let title = t
                                .get("title")
                                .map(py_plain)
                                .unwrap_or_else(|| k.to_string());
                            let descr = t
                                .get("description")
                                .map(py_plain)
                                .unwrap_or_else(|| k.to_string());
                            if title == descr {
                                title
                            } else {
                                format!("{title} ({descr})")
                            }
                        })
                        .collect();
                    keys[prompt::select("template", "Select a template", &labels, 0)?]
                }
                None => keys[0],
            };
            templates[key.as_str()]
                .get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("templates.{key} has no path")))?
                .to_string()
        }
        _ => {
            let options: Vec<String> = obj
                .get("template")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(py_plain).collect())
                .unwrap_or_default();
            let chosen = match wanted {
                Some(w) => options
                    .iter()
                    .find(|o| o.as_str() == w)
                    .cloned()
                    .ok_or_else(|| ScaffoldError::InvalidValue {
                        name: "template".into(),
                        message: format!("{w} is not one of: {}", options.join(", ")),
                    })?,
                None if interactive && !options.is_empty() => {
                    options[prompt::select("template", "Select template", &options, 0)?].clone()
                }
                None => options
                    .first()
                    .cloned()
                    .ok_or_else(|| bad("the template list is empty".into()))?,
            };
            let open = chosen.find('(');
            let close = chosen.rfind(')');
            match (open, close) {
                (Some(a), Some(b)) if b > a + 1 => chosen[a + 1..b].to_string(),
                _ => return Err(bad(format!("{chosen:?} names no path in parentheses"))),
            }
        }
    };
    if rel.is_empty() || Path::new(&rel).is_absolute() {
        return Err(bad(format!("illegal nested template path {rel:?}")));
    }
    let path = contained(repo_dir, &rel)
        .map_err(|reason| bad(format!("nested template {rel:?} {reason}")))?;
    let path = std::fs::canonicalize(&path).map_err(|e| ScaffoldError::io(&path, e))?;
    if !is_template(&path) {
        return Err(bad(format!(
            "nested template {rel:?} has no {CONTEXT_FILE}"
        )));
    }
    Ok(path)
}

/// `_repo_dir` as cookiecutter records it: the template argument as typed
/// for a local directory, the working copy for a clone or a hook copy.
fn repo_dir_label(t: &LoadedTemplate, repo_dir: &Path) -> String {
    if repo_dir == t.dir
        && matches!(t.source, TemplateSource::Dir { .. })
        && t.checkout.is_none()
        && Path::new(&t.arg).join(CONTEXT_FILE).is_file()
    {
        return t.arg.clone();
    }
    repo_dir.display().to_string()
}

/// Variables whose values must never be written down: named like a secret,
/// or asked with a question that says so.
pub(super) fn secret_names(cc: &Map<String, Value>, prompts: &Map<String, Value>) -> Vec<String> {
    let secretish = |s: &str| {
        let s = s.to_ascii_lowercase();
        [
            "password",
            "secret",
            "token",
            "api_key",
            "apikey",
            "private_key",
        ]
        .iter()
        .any(|w| s.contains(w))
    };
    cc.keys()
        .filter(|k| {
            secretish(k)
                || prompts
                    .get(*k)
                    .and_then(Value::as_str)
                    .is_some_and(secretish)
        })
        .cloned()
        .collect()
}

/// The Jinja environment as cookiecutter creates it for this context
/// (`_jinja2_env_vars`, `_extensions`).
fn renderer_for(
    obj: &Map<String, Value>,
    opts: &ScaffoldOptions,
    repo_dir: &Path,
) -> Result<Renderer, ScaffoldError> {
    let mut r = Renderer::new(Dialect::Cookiecutter, opts.fuel);
    let bad = |message: String| ScaffoldError::InvalidTemplate {
        path: repo_dir.join(CONTEXT_FILE),
        message,
    };
    let foreign = super::engine::python_extensions(obj);
    if !foreign.is_empty() {
        return Err(super::engine::blocked(
            &repo_dir.join(CONTEXT_FILE),
            foreign,
            opts,
        ));
    }
    if let Some(vars) = obj.get("_jinja2_env_vars") {
        let vars = vars
            .as_object()
            .ok_or_else(|| bad("_jinja2_env_vars must be an object".into()))?;
        let mut syntax = JinjaSyntax {
            whitespace: Whitespace::default(),
            ..JinjaSyntax::default()
        };
        let s = |k: &str| vars.get(k).and_then(Value::as_str).map(str::to_string);
        let pair = |a: &str, b: &str, da: &str, db: &str| -> Option<(String, String)> {
            if vars.contains_key(a) || vars.contains_key(b) {
                Some((
                    s(a).unwrap_or_else(|| da.into()),
                    s(b).unwrap_or_else(|| db.into()),
                ))
            } else {
                None
            }
        };
        syntax.block = pair("block_start_string", "block_end_string", "{%", "%}");
        syntax.variable = pair("variable_start_string", "variable_end_string", "{{", "}}");
        syntax.comment = pair("comment_start_string", "comment_end_string", "{#", "#}");
        syntax.line_statement_prefix = s("line_statement_prefix");
        syntax.line_comment_prefix = s("line_comment_prefix");
        for (k, v) in vars {
            match k.as_str() {
                "trim_blocks" => syntax.whitespace.trim_blocks = v.as_bool().unwrap_or(false),
                "lstrip_blocks" => syntax.whitespace.lstrip_blocks = v.as_bool().unwrap_or(false),
                "keep_trailing_newline" => {
                    syntax.whitespace.keep_trailing_newline = v.as_bool().unwrap_or(true)
                }
                "block_start_string"
                | "block_end_string"
                | "variable_start_string"
                | "variable_end_string"
                | "comment_start_string"
                | "comment_end_string"
                | "line_statement_prefix"
                | "line_comment_prefix" => {}
                "autoescape" if v == &Value::Bool(false) => {}
                other => {
                    return Err(ScaffoldError::Unsupported(format!(
                        "{}: _jinja2_env_vars.{other} is not supported by idp",
                        repo_dir.join(CONTEXT_FILE).display()
                    )))
                }
            }
        }
        r.set_syntax(syntax)?;
    }
    Ok(r)
}

/// cookiecutter's `find_template`: the entry whose name holds `cookiecutter`
/// between the variable delimiters.
pub fn find_template_dir(repo_dir: &Path, r: &Renderer) -> Result<PathBuf, ScaffoldError> {
    let (start, end) = r.variable_delimiters();
    let mut names: Vec<String> = std::fs::read_dir(repo_dir)
        .map_err(|e| ScaffoldError::io(repo_dir, e))?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("cookiecutter") && n.contains(&start) && n.contains(&end))
        .collect();
    names.sort();
    match names.first() {
        Some(n) if repo_dir.join(n).is_dir() => Ok(repo_dir.join(n)),
        _ => Err(ScaffoldError::InvalidTemplate {
            path: repo_dir.to_path_buf(),
            message: format!(
                "no project directory: the template needs one directory named like {start}cookiecutter.project_slug{end}"
            ),
        }),
    }
}

/// cookiecutter's `apply_overwrites_to_context`: values given by the user
/// replace defaults; a choice must be one of the choices (it becomes the
/// first, i.e. the default); a boolean accepts yes/no words; a dict is
/// merged key by key. Unknown top-level names are ignored, as cookiecutter
/// ignores them.
pub fn apply_overwrites(
    ctx: &mut Map<String, Value>,
    overwrites: &Map<String, Value>,
    in_dict: bool,
) -> Result<(), ScaffoldError> {
    for (var, over) in overwrites {
        if !ctx.contains_key(var) {
            if !in_dict {
                continue;
            }
            ctx.insert(var.clone(), over.clone());
        }
        let current = ctx.get_mut(var).expect("present");
        match current {
            Value::Array(choices) => {
                if in_dict {
                    *current = over.clone();
                    continue;
                }
                if let Value::Array(picked) = over {
                    if picked.iter().all(|p| choices.contains(p)) {
                        *current = over.clone();
                    } else {
                        return Err(ScaffoldError::InvalidValue {
                            name: var.clone(),
                            message: format!(
                                "{} provided for multi-choice variable {var}, but valid choices are {}",
                                py(over),
                                py(&Value::Array(choices.clone()))
                            ),
                        });
                    }
                } else if let Some(pos) = choices.iter().position(|c| c == over) {
                    let v = choices.remove(pos);
                    choices.insert(0, v);
                } else {
                    return Err(ScaffoldError::InvalidValue {
                        name: var.clone(),
                        message: format!(
                            "{} provided for choice variable {var}, but the choices are {}",
                            py_plain(over),
                            py(&Value::Array(choices.clone()))
                        ),
                    });
                }
            }
            Value::Object(inner) if over.is_object() => {
                apply_overwrites(inner, over.as_object().expect("object"), true)?;
            }
            Value::Bool(_) if over.is_string() => {
                let s = over.as_str().unwrap_or_default();
                *current = Value::Bool(yes_no(s).ok_or_else(|| ScaffoldError::InvalidValue {
                    name: var.clone(),
                    message: format!("{s} provided for variable {var} could not be converted to a boolean (use yes/no, true/false, 1/0, on/off)"),
                })?);
            }
            _ => *current = over.clone(),
        }
    }
    Ok(())
}

/// cookiecutter's `YesNoPrompt.process_response`.
pub fn yes_no(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" | "on" => Some(true),
        "0" | "false" | "f" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

fn py(v: &Value) -> String {
    super::extensions::python_str(&minijinja::Value::from(minijinja::value::Serde(v)))
}

fn py_plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => py(other),
    }
}

/// Whether and how to ask.
struct Asker<'a> {
    interactive: bool,
    prompts: &'a Map<String, Value>,
}

impl Asker<'_> {
    fn question(&self, key: &str) -> String {
        match self.prompts.get(key) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => key.to_string(),
        }
    }

    fn choice_question(&self, key: &str) -> String {
        match self.prompts.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(o)) => o
                .get("__prompt__")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("Select {key}")),
            _ => format!("Select {key}"),
        }
    }

    fn choice_label(&self, key: &str, option: &Value) -> String {
        let plain = py_plain(option);
        match self.prompts.get(key) {
            Some(Value::Object(o)) => o.get(&plain).map(py_plain).unwrap_or(plain),
            _ => plain,
        }
    }
}

/// cookiecutter's `prompt_for_config`.
fn prompt_for_config(
    r: &Renderer,
    obj: &Map<String, Value>,
    ask: &Asker,
) -> Result<Map<String, Value>, ScaffoldError> {
    let mut cc = Map::new();
    // First pass: simple variables, choices, booleans, computed values.
    for (key, raw) in obj {
        if key.starts_with('_') && !key.starts_with("__") {
            cc.insert(key.clone(), raw.clone());
            continue;
        }
        if key.starts_with("__") {
            let v = render_variable(r, key, raw, &cc)?;
            cc.insert(key.clone(), v);
            continue;
        }
        let value = match raw {
            Value::Array(options) => {
                let rendered = options
                    .iter()
                    .map(|o| render_variable(r, key, o, &cc))
                    .collect::<Result<Vec<_>, _>>()?;
                if rendered.is_empty() {
                    return Err(ScaffoldError::InvalidValue {
                        name: key.clone(),
                        message: "the list of choices is empty".into(),
                    });
                }
                if ask.interactive {
                    let labels: Vec<String> =
                        rendered.iter().map(|o| ask.choice_label(key, o)).collect();
                    let i = prompt::select(key, &ask.choice_question(key), &labels, 0)?;
                    rendered[i].clone()
                } else {
                    rendered[0].clone()
                }
            }
            Value::Bool(b) => {
                if ask.interactive {
                    Value::Bool(prompt::confirm(key, &ask.question(key), *b)?)
                } else {
                    Value::Bool(*b)
                }
            }
            Value::Object(_) => continue,
            _ => {
                let v = render_variable(r, key, raw, &cc)?;
                if ask.interactive {
                    let question = ask.question(key);
                    let default = v.as_str().map(str::to_string);
                    if secret_names(&Map::from_iter([(key.clone(), Value::Null)]), ask.prompts)
                        .is_empty()
                    {
                        Value::String(prompt::input(key, &question, default.as_deref(), None)?)
                    } else {
                        let typed = prompt::password(key, &question)?;
                        Value::String(if typed.is_empty() {
                            default.unwrap_or_default()
                        } else {
                            typed
                        })
                    }
                } else {
                    v
                }
            }
        };
        cc.insert(key.clone(), value);
    }
    // Second pass: dictionaries (their keys and values may use the above).
    for (key, raw) in obj {
        if key.starts_with('_') && !key.starts_with("__") {
            continue;
        }
        if let Value::Object(_) = raw {
            let mut v = render_variable(r, key, raw, &cc)?;
            if ask.interactive && !key.starts_with("__") {
                let default = serde_json::to_string(&v).unwrap_or_default();
                let validate = |s: &str| -> Result<(), String> {
                    match serde_json::from_str::<Value>(s) {
                        Ok(Value::Object(_)) => Ok(()),
                        Ok(_) => Err("Requires JSON dict.".into()),
                        Err(_) => Err("Unable to decode to JSON.".into()),
                    }
                };
                let typed = prompt::input(
                    key,
                    &format!("{} (JSON)", ask.question(key)),
                    Some(&default),
                    Some(&validate),
                )?;
                v = serde_json::from_str(&typed).unwrap_or(v);
            }
            cc.insert(key.clone(), v);
        }
    }
    Ok(cc)
}

/// cookiecutter's `render_variable`: None and booleans as they are, dicts
/// and lists element by element, anything else through `str()` and Jinja.
fn render_variable(
    r: &Renderer,
    key: &str,
    raw: &Value,
    cc: &Map<String, Value>,
) -> Result<Value, ScaffoldError> {
    Ok(match raw {
        Value::Null | Value::Bool(_) => raw.clone(),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let rk = render_scalar(r, key, k, cc)?;
                out.insert(rk, render_variable(r, key, v, cc)?);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_variable(r, key, v, cc))
                .collect::<Result<_, _>>()?,
        ),
        Value::String(s) => Value::String(render_scalar(r, key, s, cc)?),
        Value::Number(n) => {
            let s = if n.is_f64() {
                python_float_repr(n.as_f64().unwrap_or_default())
            } else {
                n.to_string()
            };
            Value::String(render_scalar(r, key, &s, cc)?)
        }
    })
}

fn render_scalar(
    r: &Renderer,
    key: &str,
    s: &str,
    cc: &Map<String, Value>,
) -> Result<String, ScaffoldError> {
    if !r.has_markup(s) {
        return Ok(s.to_string());
    }
    let mut ctx = Map::new();
    ctx.insert("cookiecutter".into(), Value::Object(cc.clone()));
    r.render_str(&format!("variable {key}"), s, &Value::Object(ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn overwrites_coerce_like_cookiecutter() {
        let mut ctx = map(json!({"c": ["a", "b"], "flag": false, "d": {"x": 1, "y": 2}, "s": "v"}));
        apply_overwrites(
            &mut ctx,
            &map(json!({"c": "b", "flag": "yes", "d": {"y": 3}, "s": "w", "unknown": 1})),
            false,
        )
        .unwrap();
        assert_eq!(
            Value::Object(ctx),
            json!({"c": ["b", "a"], "flag": true, "d": {"x": 1, "y": 3}, "s": "w"})
        );
        let mut ctx = map(json!({"c": ["a", "b"]}));
        assert!(apply_overwrites(&mut ctx, &map(json!({"c": "z"})), false).is_err());
    }

    #[test]
    fn variables_render_in_order() {
        let r = Renderer::new(Dialect::Cookiecutter, super::super::DEFAULT_FUEL);
        let obj = map(json!({
            "name": "My Project",
            "slug": "{{ cookiecutter.name.lower().replace(' ', '_') }}",
            "_private": "{{ not rendered }}",
            "__computed": "{{ cookiecutter.slug }}-x",
            "n": 3,
            "d": {"k": "{{ cookiecutter.slug }}"}
        }));
        let ask = Asker {
            interactive: false,
            prompts: &Map::new(),
        };
        let cc = prompt_for_config(&r, &obj, &ask).unwrap();
        assert_eq!(
            Value::Object(cc),
            json!({"name": "My Project", "slug": "my_project", "_private": "{{ not rendered }}",
                   "__computed": "my_project-x", "n": "3", "d": {"k": "my_project"}})
        );
    }
}
