//! Typed errors of the scaffolding core. Each says what went wrong and where
//! (template file, variable, output path), so the command can report it once.

use std::path::PathBuf;

use crate::confine::ConfineError;

/// Everything that can go wrong while loading, prompting for, rendering or
/// writing a template.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// A file or directory could not be read or written.
    #[error("{}: {error}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error (in the message, so not chained as a source:
        /// error reports would say it twice).
        error: std::io::Error,
    },

    /// A template (file content, file name or value) failed to render.
    #[error("cannot render {what}: {message}")]
    Render {
        /// What was rendered (`file src/main.py`, `variable project_slug`, …).
        what: String,
        /// MiniJinja's message, with line information.
        message: String,
    },

    /// A render would produce more than the output limit (per file, or in
    /// total for the project).
    #[error("rendering {what} stopped at the output limit: {} {limit} bytes; the template writes too much", if *project { "the project would pass" } else { "the file would pass" })]
    OutputTooLarge {
        /// What was rendered.
        what: String,
        /// The limit in force (bytes).
        limit: u64,
        /// Whether the project total, not the file alone, passed it.
        project: bool,
    },

    /// A template used up its fuel: it loops (nearly) forever.
    #[error("rendering {what} stopped at the fuel limit ({fuel} steps): the template loops too long or forever")]
    OutOfFuel {
        /// What was rendered.
        what: String,
        /// The limit in force.
        fuel: u64,
    },

    /// A template file that resolves outside its root (the template
    /// directory or the catalog): an absolute path, `..` or a symlink
    /// leading out. Never read.
    #[error("{what}: {error}")]
    Refused {
        /// Where the path came from (`step 'fetch' (fetch:plain) input url`).
        what: String,
        /// The rule it breaks (in the message, so not chained as a source;
        /// boxed, as it is large and rare).
        error: Box<ConfineError>,
    },

    /// A templated path would land outside the target directory.
    #[error("unsafe output path {path:?} (from {what}): {reason}")]
    UnsafePath {
        /// The template entry it came from.
        what: String,
        /// The rendered path.
        path: String,
        /// Why it is refused.
        reason: String,
    },

    /// The template itself is invalid (bad cookiecutter.json, missing
    /// templated directory, bad step, …).
    #[error("invalid template {}: {message}", path.display())]
    InvalidTemplate {
        /// The template file or directory.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// A value given with --set / --values (or typed) is not acceptable.
    #[error("invalid value for {name}: {message}")]
    InvalidValue {
        /// The variable or parameter.
        name: String,
        /// Why it is refused.
        message: String,
    },

    /// A values file could not be parsed.
    #[error("cannot read values file {}: {message}", path.display())]
    ValuesFile {
        /// The file.
        path: PathBuf,
        /// The parse error.
        message: String,
    },

    /// A required value is missing and there is no terminal to ask on.
    #[error("no value for {name} and no terminal to ask on")]
    MissingValue {
        /// The variable or parameter.
        name: String,
        /// The flag that supplies it (`--set name=…`).
        flag: String,
    },

    /// The template could not be found.
    #[error("template '{query}' not found")]
    NotFound {
        /// What the user asked for.
        query: String,
        /// Near names.
        suggestions: Vec<String>,
    },

    /// The target directory exists and is not empty.
    #[error("{} exists and is not empty; nothing was written", path.display())]
    TargetNotEmpty {
        /// The target directory.
        path: PathBuf,
    },

    /// Files already exist where the template wants to write them.
    #[error("{} would be overwritten: {}; nothing was written", if paths.len() == 1 { "a file" } else { "files" }, paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    WouldOverwrite {
        /// The existing files.
        paths: Vec<PathBuf>,
    },

    /// A hook script failed.
    #[error("hook {} failed: {message}", path.display())]
    Hook {
        /// The hook script.
        path: PathBuf,
        /// Exit status or spawn error.
        message: String,
    },

    /// A git operation failed.
    #[error("git: {what}: {error}")]
    Git {
        /// What was attempted.
        what: String,
        /// libgit2's error (in the message, so not chained as a source).
        error: git2::Error,
    },

    /// Reading an answer from the terminal failed.
    #[error("prompt for {name} failed: {message}")]
    Prompt {
        /// The variable asked for.
        name: String,
        /// The terminal error.
        message: String,
    },

    /// A feature that this template needs is not supported.
    #[error("unsupported: {0}")]
    Unsupported(String),

    /// The template loads Jinja2 extensions written in Python, which only
    /// the real cookiecutter can run, and it may not or cannot here.
    #[error("{}: {}", path.display(), python_code_message(extensions, *why))]
    PythonCode {
        /// The template's cookiecutter.json.
        path: PathBuf,
        /// The extensions idp cannot emulate (empty: `--engine cookiecutter`
        /// was asked for a template without any).
        extensions: Vec<String>,
        /// Why cookiecutter does not render it.
        why: Blocked,
    },

    /// The real cookiecutter failed to render the template.
    #[error("{engine} failed on {}: {message}", template.display())]
    Engine {
        /// `cookiecutter 2.7.1`.
        engine: String,
        /// The template directory.
        template: PathBuf,
        /// Exit status and the end of its error output.
        message: String,
    },

    /// A step uses an action idp cannot run locally.
    #[error("invalid template {}: step '{step}' uses the action '{action}', which idp cannot run locally (it runs {})", template.display(), known.join(", "))]
    UnknownAction {
        /// The template file.
        template: PathBuf,
        /// The step's id.
        step: String,
        /// The action it names.
        action: String,
        /// The actions idp runs.
        known: Vec<String>,
    },

    /// Publishing the new repository is not supported for this step.
    #[error("publishing is not supported yet: {action} (step '{step}'){why}")]
    PublishUnsupported {
        /// The publish action.
        action: String,
        /// The step's id.
        step: String,
        /// Why (with its leading separator), or empty.
        why: String,
    },
}

/// Why a template that needs cookiecutter is not rendered with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// Its Python would run without `--trust`.
    Untrusted,
    /// No cookiecutter is installed.
    NotInstalled,
    /// `--engine idp` was asked for.
    EngineIdp,
}

fn python_code_message(extensions: &[String], why: Blocked) -> String {
    let loads = format!("the template loads Python code ({})", extensions.join(", "));
    match (why, extensions.is_empty()) {
        (Blocked::NotInstalled, true) => {
            "--engine cookiecutter: no cookiecutter is installed (none on PATH, and python3 -m cookiecutter fails)".into()
        }
        (Blocked::NotInstalled, false) => format!(
            "{loads}, which idp cannot run itself, and no cookiecutter is installed to run it (none on PATH, and python3 -m cookiecutter fails)"
        ),
        (Blocked::Untrusted, _) => {
            format!("{loads}, which idp does not run without --trust")
        }
        (Blocked::EngineIdp, _) => {
            format!("{loads}, which idp's own engine (--engine idp) cannot run")
        }
    }
}

impl ScaffoldError {
    /// An I/O error at `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ScaffoldError::Io {
            path: path.into(),
            error: source,
        }
    }

    /// A confined read that failed: refused by the rule (`what` says where
    /// the path came from), or an ordinary I/O error.
    pub fn confined(what: impl Into<String>, e: ConfineError) -> Self {
        match e {
            ConfineError::Io { path, source } => ScaffoldError::Io {
                path: path.into(),
                error: source,
            },
            refused => ScaffoldError::Refused {
                what: what.into(),
                error: Box::new(refused),
            },
        }
    }

    /// A git error while doing `what`.
    pub fn git(what: impl Into<String>, source: git2::Error) -> Self {
        ScaffoldError::Git {
            what: what.into(),
            error: source,
        }
    }
}
