//! Scaffolding: creating a project from a template, in the terminal.
//!
//! Two template formats: cookiecutter directories (`cookiecutter.json`,
//! rendered byte for byte as `cookiecutter --no-input` would) and Backstage
//! `kind: Template` entities (`backstage`). Both render with MiniJinja
//! (`render`), file trees go through `tree` (templated names, verbatim
//! copies, safe paths) into a `staging` directory that is moved into place
//! only on success, and every generated project records how it was made in
//! `.idp/answers.yaml` (`answers`) so `update` can re-apply newer template
//! versions. Nothing here prints; prompts (`prompt`) talk to the terminal
//! only when the caller says it is interactive.

pub mod answers;
pub mod backstage;
mod binary;
pub mod cookiecutter;
pub mod create;
pub mod describe;
pub mod engine;
pub mod error;
pub mod extensions;
pub mod fixtures;
pub mod hooks;
pub mod jinja2_filters;
pub mod merge;
pub mod paths;
pub mod prompt;
pub mod pyobjects;
pub mod render;
pub mod repo;
pub mod source;
pub mod staging;
pub mod tree;
pub mod update;
pub mod version;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

pub use answers::{AnswersFile, TemplateSource};
pub use create::{create, CreateRequest, Created};
pub use error::ScaffoldError;
pub use render::{
    parse_byte_size, Dialect, OutputBudget, Renderer, DEFAULT_FUEL, DEFAULT_MAX_OUTPUT_BYTES,
};
pub use staging::{Staging, WriteOptions};
pub use tree::{render_tree, TreeOptions};
pub use update::{update, UpdateRequest, Updated};

/// The template format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateKind {
    /// A cookiecutter directory (`cookiecutter.json` + `{{cookiecutter.x}}/`).
    Cookiecutter,
    /// A Backstage `kind: Template` entity (`scaffolder.backstage.io/v1beta3`).
    Backstage,
}

impl TemplateKind {
    /// `cookiecutter` / `backstage`, for tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateKind::Cookiecutter => "cookiecutter",
            TemplateKind::Backstage => "backstage",
        }
    }
}

/// A template found and ready to render.
#[derive(Debug, Clone)]
pub struct LoadedTemplate {
    /// Name: the Template entity's ref key (`template:default/node-service`)
    /// or the cookiecutter directory's name.
    pub name: String,
    /// The format.
    pub kind: TemplateKind,
    /// The template root on disk (cookiecutter: the directory holding
    /// `cookiecutter.json`; Backstage: the directory of the template file).
    pub dir: PathBuf,
    /// Where it came from, for the answers file.
    pub source: TemplateSource,
    /// Commit of the template's git repository (None: not in git).
    pub commit: Option<String>,
    /// Human title (Backstage `metadata.title`), if any.
    pub title: Option<String>,
    /// Description, if any.
    pub description: Option<String>,
    /// Backstage: the whole Template entity as JSON (`spec.parameters`,
    /// `spec.steps`, `spec.output`, …). None for cookiecutter.
    pub entity: Option<Value>,
    /// Backstage: the template's YAML file on disk.
    pub file: Option<PathBuf>,
    /// The template argument as the user typed it (cookiecutter's `_template`).
    pub arg: String,
    /// Kept alive while the template is used (a clone of a git URL).
    pub checkout: Option<std::sync::Arc<tempfile::TempDir>>,
}

/// How to render.
#[derive(Debug, Clone)]
pub struct ScaffoldOptions {
    /// Values from `--values` files and `--set k=v` (later wins). `--set`
    /// values are strings, converted the way cookiecutter converts extra
    /// context (booleans from yes/no words, choices checked).
    pub values: Map<String, Value>,
    /// A cookiecutter replay file's `cookiecutter` object given with
    /// `--values`: its values are used as they are, not rendered.
    pub replay: Option<Map<String, Value>>,
    /// Prompt on the terminal for values not given.
    pub interactive: bool,
    /// Take defaults without asking (`--defaults`, `--no-input`).
    pub defaults: bool,
    /// Run hooks and command steps.
    pub trust: bool,
    /// Only plan: hooks and side-effecting steps are not run.
    pub dry_run: bool,
    /// Warn about unknown Backstage actions instead of failing.
    pub skip_unknown_actions: bool,
    /// Really publish (`publish:*` steps) when the integration is configured.
    pub publish: bool,
    /// The caller commits the first `catalog:register` descriptor to the
    /// catalog repository (`--register`); step messages say so.
    pub register: bool,
    /// The caller gives the project a local git repository with a first
    /// commit; step messages say so.
    pub first_commit: bool,
    /// Fuel per render.
    pub fuel: u64,
    /// Output limit in bytes, per rendered file and per project.
    pub max_output_bytes: u64,
    /// The final output directory (cookiecutter's `_output_dir`), when the
    /// render goes to a staging directory first.
    pub output_dir: Option<PathBuf>,
    /// The environment the caller resolved: tokens for `--publish` (by
    /// `token_env`), `IDP_PYTHON` for `.py` hooks, `USER`/`LOGNAME` for
    /// `user.ref`. The scaffolder reads no variable itself.
    pub env: crate::vars::Vars,
    /// The run's date: generated scorecards' exemptions before it have
    /// expired.
    pub today: chrono::NaiveDate,
    /// Who renders a cookiecutter template (`--engine`).
    pub engine: engine::Engine,
}

impl Default for ScaffoldOptions {
    fn default() -> Self {
        ScaffoldOptions {
            values: Map::new(),
            replay: None,
            interactive: false,
            defaults: true,
            trust: false,
            dry_run: false,
            skip_unknown_actions: false,
            publish: false,
            register: false,
            first_commit: false,
            fuel: DEFAULT_FUEL,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            output_dir: None,
            env: crate::vars::Vars::default(),
            today: chrono::Utc::now().date_naive(),
            engine: engine::Engine::Auto,
        }
    }
}

impl ScaffoldOptions {
    /// The Python that runs `.py` hooks: `$IDP_PYTHON`, else `python3`.
    pub fn python(&self) -> String {
        self.env
            .non_empty("IDP_PYTHON")
            .unwrap_or("python3")
            .to_string()
    }

    /// Adds `--set name=value` (a string value; later settings win).
    pub fn set(&mut self, assignment: &str) -> Result<(), ScaffoldError> {
        let (k, v) = assignment
            .split_once('=')
            .ok_or_else(|| ScaffoldError::InvalidValue {
                name: assignment.to_string(),
                message: "--set takes name=value".into(),
            })?;
        let k = k.trim();
        if k.is_empty() {
            return Err(ScaffoldError::InvalidValue {
                name: assignment.to_string(),
                message: "--set takes name=value (the name is empty)".into(),
            });
        }
        self.values
            .insert(k.to_string(), Value::String(v.to_string()));
        Ok(())
    }

    /// Adds a `--values` file: YAML or JSON mapping of names to values, or a
    /// cookiecutter replay file (`{"cookiecutter": {…}}`).
    /// A file that cannot be read is invalid input like one that cannot be
    /// parsed ([`ScaffoldError::ValuesFile`]).
    pub fn add_values_file(&mut self, path: &Path) -> Result<(), ScaffoldError> {
        let bad = |message: String| ScaffoldError::ValuesFile {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        // JSON first, to keep key order and number types exactly as written.
        let value: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) => crate::yaml::from_str(&text).map_err(|e| bad(e.to_string()))?,
        };
        let Value::Object(map) = value else {
            return Err(bad("expected a mapping of names to values".into()));
        };
        match map.get("cookiecutter") {
            Some(Value::Object(inner))
                if map
                    .keys()
                    .all(|k| k.starts_with('_') || k == "cookiecutter") =>
            {
                let replay = self.replay.get_or_insert_with(Map::new);
                for (k, v) in inner {
                    replay.insert(k.clone(), v.clone());
                }
            }
            _ => {
                for (k, v) in map {
                    self.values.insert(k, v);
                }
            }
        }
        Ok(())
    }
}

/// What a render produced.
#[derive(Debug, Clone, Default)]
pub struct RenderOutcome {
    /// Files written, relative to `project_dir`.
    pub files: Vec<PathBuf>,
    /// The answers to record (secrets removed).
    pub answers: Map<String, Value>,
    /// The project directory (cookiecutter: `dest/<rendered top dir>`;
    /// Backstage: `dest`).
    pub project_dir: PathBuf,
    /// What happened, step by step (Backstage step log, hooks run).
    pub log: Vec<String>,
    /// Things the user should know (hooks skipped, unknown actions skipped).
    pub warnings: Vec<String>,
    /// Backstage `spec.output`, rendered (links, text).
    pub output: Option<Value>,
    /// Backstage `publish:*`: branch and message of the project's first
    /// commit (None: the defaults).
    pub first_commit: Option<(String, String)>,
    /// Backstage `catalog:register`: descriptors to register with
    /// `--register`, relative to `project_dir`.
    pub register: Vec<PathBuf>,
}

/// Renders the template into `dest` (an empty directory, typically a
/// [`Staging`] root or a temp dir), asking for values as `opts` allows.
pub fn render_into(
    t: &LoadedTemplate,
    opts: &ScaffoldOptions,
    catalog: Option<&crate::catalog::Catalog>,
    dest: &Path,
) -> Result<RenderOutcome, ScaffoldError> {
    prepare(t, opts, catalog)?
        .render(dest)
        .map(|(outcome, _)| outcome)
}

/// A template with every question answered and nothing written yet: ask
/// first ([`prepare`]), then create the directory to render into, so an
/// interrupted prompt leaves nothing behind.
pub enum Prepared {
    /// A cookiecutter template.
    Cookiecutter(Box<cookiecutter::Prepared>),
    /// A Backstage template.
    Backstage(Box<backstage::Prepared>),
    /// A cookiecutter template the real cookiecutter renders.
    External(Box<engine::Prepared>),
}

impl Prepared {
    /// The answers to record (secrets removed).
    pub fn answers(&self) -> &Map<String, Value> {
        match self {
            Prepared::Cookiecutter(p) => p.answers(),
            Prepared::Backstage(p) => p.answers(),
            Prepared::External(p) => p.answers(),
        }
    }

    /// A line for the user before rendering (which engine renders, and
    /// why), if any.
    pub fn notice(&self) -> Option<&str> {
        match self {
            Prepared::External(p) => Some(p.notice()),
            Prepared::Cookiecutter(_) | Prepared::Backstage(_) => None,
        }
    }

    /// Renders into `dest`; a Backstage template also returns its
    /// registrations and publish plans.
    pub fn render(
        self,
        dest: &Path,
    ) -> Result<(RenderOutcome, Option<backstage::Extras>), ScaffoldError> {
        match self {
            Prepared::Cookiecutter(p) => Ok((p.render(dest)?, None)),
            Prepared::External(p) => Ok((p.render(dest)?, None)),
            Prepared::Backstage(p) => {
                let (outcome, extras) = p.run(dest)?;
                Ok((outcome, Some(extras)))
            }
        }
    }
}

/// Settles the template's values (given, defaulted or asked on the
/// terminal as `opts` allows) and checks what can be checked before
/// rendering. Writes nothing outside temporary directories.
pub fn prepare(
    t: &LoadedTemplate,
    opts: &ScaffoldOptions,
    catalog: Option<&crate::catalog::Catalog>,
) -> Result<Prepared, ScaffoldError> {
    if let engine::Choice::Cookiecutter(p) = engine::choose(t, opts)? {
        return Ok(Prepared::External(p));
    }
    Ok(match t.kind {
        TemplateKind::Cookiecutter => {
            Prepared::Cookiecutter(Box::new(cookiecutter::prepare(t, opts)?))
        }
        TemplateKind::Backstage => {
            Prepared::Backstage(Box::new(backstage::prepare(t, opts, catalog)?))
        }
    })
}
