//! Which engine renders a cookiecutter template, and rendering with the
//! real `cookiecutter` when idp's own cannot.
//!
//! idp emulates cookiecutter's Jinja environment (its built-in extensions
//! included), but a template may load Jinja2 extensions written in Python
//! (`_extensions: ["local_extensions.Foo"]`): code idp cannot run. With
//! `--trust` and a cookiecutter installed (on `PATH`, or `python3 -m
//! cookiecutter`), such a template is rendered by cookiecutter itself into
//! the directory idp gives it (a staging directory), and everything around
//! the render (answers file, first commit, registration, validation, JSON
//! result) stays idp's. The values idp collected reach cookiecutter as the
//! `default_context` of a generated config file, which keeps their JSON
//! types (a boolean stays a boolean, a dict merges key by key) where
//! `key=value` extra context would turn them into strings; cookiecutter's
//! replay file, written into a temporary `replay_dir`, gives back the
//! settled answers.
//!
//! This module finds programs through the `PATH` the caller resolved
//! ([`crate::vars::Vars`]), never through the process environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Map, Value};

use super::cookiecutter::{self, CONTEXT_FILE};
use super::error::{Blocked, ScaffoldError};
use super::{hooks, LoadedTemplate, RenderOutcome, ScaffoldOptions, TemplateKind};
use crate::vars::Vars;

/// Who renders a cookiecutter template (`--engine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// idp's own engine, always.
    Idp,
    /// The installed cookiecutter, always.
    Cookiecutter,
    /// idp's own engine, unless the template loads Python extensions and
    /// the user trusts it: then cookiecutter, with a note.
    #[default]
    Auto,
}

/// The Jinja2 extensions idp emulates.
const BUILT_IN: [&str; 3] = [
    "jinja2_time.TimeExtension",
    "jinja2.ext.do",
    "jinja2.ext.loopcontrols",
];

/// The extensions in `_extensions` that idp cannot emulate (Python code),
/// in the order the template lists them.
pub fn python_extensions(ctx: &Map<String, Value>) -> Vec<String> {
    ctx.get("_extensions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| e.as_str().unwrap_or_default().to_string())
        .filter(|name| {
            !name.starts_with("cookiecutter.extensions.") && !BUILT_IN.contains(&name.as_str())
        })
        .collect()
}

/// The error for a template whose Python extensions idp will not or cannot
/// hand to cookiecutter under `opts`.
pub fn blocked(path: &Path, extensions: Vec<String>, opts: &ScaffoldOptions) -> ScaffoldError {
    let why = if opts.engine == Engine::Idp {
        Blocked::EngineIdp
    } else if !opts.trust {
        Blocked::Untrusted
    } else {
        Blocked::NotInstalled
    };
    ScaffoldError::PythonCode {
        path: path.to_path_buf(),
        extensions,
        why,
    }
}

/// An installed cookiecutter.
#[derive(Debug, Clone)]
pub struct Installed {
    /// The program and the arguments before cookiecutter's own
    /// (`[python3, -m, cookiecutter]` or `[/…/cookiecutter]`).
    command: Vec<PathBuf>,
    /// Its version (`2.7.1`).
    pub version: String,
}

impl Installed {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.command[0]);
        cmd.args(&self.command[1..]);
        crate::tls::restore_for_child(&mut cmd);
        cmd
    }
}

/// `name` in one of `PATH`'s directories, as an executable file.
fn on_path(env: &Vars, name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if name.contains('/') {
        return Some(PathBuf::from(name));
    }
    std::env::split_paths(env.get("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The installed cookiecutter: `cookiecutter` on `PATH`, else the Python
/// that runs hooks (`IDP_PYTHON`, else `python3`) with `-m cookiecutter`.
/// None when neither answers `--version`.
pub fn find(env: &Vars, python: &str) -> Option<Installed> {
    let candidates = [
        on_path(env, "cookiecutter").map(|p| vec![p]),
        on_path(env, python).map(|p| vec![p, "-m".into(), "cookiecutter".into()]),
    ];
    candidates.into_iter().flatten().find_map(|command| {
        let mut probe = Installed {
            command,
            version: String::new(),
        };
        let out = probe
            .command()
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .ok()?;
        // "Cookiecutter 2.7.1 from /…/site-packages (Python 3.11.7 …)"
        let text = String::from_utf8_lossy(&out.stdout);
        let version = text
            .strip_prefix("Cookiecutter ")?
            .split_whitespace()
            .next()?;
        if !out.status.success() {
            return None;
        }
        probe.version = version.to_string();
        Some(probe)
    })
}

/// How a cookiecutter template is rendered, decided before any question.
pub enum Choice {
    /// idp's own engine.
    Idp,
    /// The installed cookiecutter, ready to run.
    Cookiecutter(Box<Prepared>),
}

/// Decides who renders `t` under `opts`: an error when the template needs
/// Python code and cookiecutter cannot (or may not) run it.
pub fn choose(t: &LoadedTemplate, opts: &ScaffoldOptions) -> Result<Choice, ScaffoldError> {
    if t.kind != TemplateKind::Cookiecutter {
        if opts.engine == Engine::Cookiecutter {
            return Err(ScaffoldError::InvalidValue {
                name: "--engine".into(),
                message: format!(
                    "cookiecutter renders only cookiecutter templates; {} is a Backstage template",
                    t.name
                ),
            });
        }
        return Ok(Choice::Idp);
    }
    let ctx = cookiecutter::load_context(&t.dir)?;
    let foreign = python_extensions(&ctx);
    let path = t.dir.join(CONTEXT_FILE);
    let note = match opts.engine {
        Engine::Idp if foreign.is_empty() => return Ok(Choice::Idp),
        Engine::Auto if foreign.is_empty() => return Ok(Choice::Idp),
        Engine::Idp => return Err(blocked(&path, foreign, opts)),
        Engine::Auto if !opts.trust => return Err(blocked(&path, foreign, opts)),
        Engine::Auto => format!(
            "the template loads Python extensions ({})",
            foreign.join(", ")
        ),
        // Loading a template's own Python is running its code.
        Engine::Cookiecutter if !foreign.is_empty() && !opts.trust => {
            return Err(blocked(&path, foreign, opts))
        }
        Engine::Cookiecutter => String::new(),
    };
    let Some(installed) = find(&opts.env, &opts.python()) else {
        return Err(ScaffoldError::PythonCode {
            path,
            extensions: foreign,
            why: Blocked::NotInstalled,
        });
    };
    let prompts = ctx
        .get("__prompts__")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Ok(Choice::Cookiecutter(Box::new(Prepared {
        notice: if note.is_empty() {
            format!(
                "note: rendering with cookiecutter {} (--engine cookiecutter)",
                installed.version
            )
        } else {
            format!(
                "note: rendering with cookiecutter {}: {note}",
                installed.version
            )
        },
        installed,
        template: t.clone(),
        values: opts.values.clone(),
        replay: opts.replay.clone(),
        interactive: opts.interactive && !opts.defaults,
        run_hooks: opts.trust && !opts.dry_run,
        trust: opts.trust,
        dry_run: opts.dry_run,
        prompts,
        answers: Map::new(),
    })))
}

/// A template cookiecutter will render: nothing asked or written yet
/// (cookiecutter asks, when interactive, as it renders).
pub struct Prepared {
    /// What to tell the user before rendering.
    notice: String,
    installed: Installed,
    template: LoadedTemplate,
    values: Map<String, Value>,
    replay: Option<Map<String, Value>>,
    interactive: bool,
    run_hooks: bool,
    trust: bool,
    dry_run: bool,
    prompts: Map<String, Value>,
    /// Known only after the render (cookiecutter settles them).
    answers: Map<String, Value>,
}

impl Prepared {
    /// The line for stderr: which cookiecutter renders, and why.
    pub fn notice(&self) -> &str {
        &self.notice
    }

    /// The answers known so far (none: cookiecutter settles them).
    pub fn answers(&self) -> &Map<String, Value> {
        &self.answers
    }

    /// Runs cookiecutter into `dest` (an empty directory); the project is
    /// the one directory it creates there.
    pub fn render(self, dest: &Path) -> Result<RenderOutcome, ScaffoldError> {
        let mut outcome = RenderOutcome::default();
        outcome.warnings.extend(hooks::skipped_warning(
            &self.template.dir,
            self.run_hooks,
            self.dry_run,
            self.trust,
        ));
        let work = tempfile::Builder::new()
            .prefix("idp-cookiecutter-")
            .tempdir()
            .map_err(|e| ScaffoldError::io(std::env::temp_dir(), e))?;
        let replay_dir = work.path().join("replay");
        let config_file = work.path().join("config.yaml");
        // JSON is YAML: the values keep their types.
        let config = json!({
            "default_context": self.values,
            "cookiecutters_dir": work.path().join("clones"),
            "replay_dir": replay_dir,
            "abbreviations": {},
        });
        write_json(&config_file, &config)?;

        let mut cmd = self.installed.command();
        cmd.arg("--config-file").arg(&config_file);
        match &self.replay {
            // A replay file's values are used as they are, not rendered.
            Some(replay) => {
                let mut cc = replay.clone();
                cc.extend(self.values.clone());
                let file = work.path().join("given.json");
                write_json(&file, &json!({ "cookiecutter": cc }))?;
                cmd.arg("--replay-file").arg(file);
            }
            None if !self.interactive => {
                cmd.arg("--no-input");
            }
            None => {}
        }
        cmd.arg("--accept-hooks")
            .arg(if self.run_hooks { "yes" } else { "no" })
            .arg("-o")
            .arg(dest)
            .arg(&self.template.dir)
            .current_dir(dest);
        let what = format!("cookiecutter {}", self.installed.version);
        let failed = |message: String| ScaffoldError::Engine {
            engine: what.clone(),
            template: self.template.dir.clone(),
            message,
        };
        if self.interactive {
            // Questions go to the terminal; stdout stays the caller's data.
            use std::os::fd::AsFd;
            let to_stderr = std::io::stderr()
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| failed(e.to_string()))?;
            let status = cmd
                .stdout(to_stderr)
                .status()
                .map_err(|e| failed(e.to_string()))?;
            if !status.success() {
                return Err(failed(exit_text(status)));
            }
        } else {
            let out = cmd
                .stdin(Stdio::null())
                .output()
                .map_err(|e| failed(e.to_string()))?;
            // What hooks printed joins the step log.
            outcome.log.extend(
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string),
            );
            if !out.status.success() {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let tail: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
                let tail = tail[tail.len().saturating_sub(12)..].join("\n");
                return Err(failed(format!("{}\n{tail}", exit_text(out.status))));
            }
        }
        if self.run_hooks {
            outcome.log.extend(
                hooks::all_names(&self.template.dir)
                    .iter()
                    .filter(|n| !n.contains("pre_prompt"))
                    .map(|n| format!("ran hook {}", self.template.dir.join(n).display())),
            );
        }

        outcome.project_dir = project_dir(dest).map_err(failed)?;
        outcome.files = super::create::project_files(&outcome.project_dir);
        let settled = read_replay(&replay_dir)?;
        let secrets = cookiecutter::secret_names(&settled, &self.prompts);
        outcome.answers = settled
            .into_iter()
            .filter(|(k, _)| !k.starts_with('_') && !secrets.contains(k))
            .collect();
        Ok(outcome)
    }
}

fn exit_text(status: std::process::ExitStatus) -> String {
    match status.code() {
        Some(c) => format!("exit status {c}"),
        None => "killed by a signal".into(),
    }
}

fn write_json(path: &Path, value: &Value) -> Result<(), ScaffoldError> {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    std::fs::write(path, text).map_err(|e| ScaffoldError::io(path, e))
}

/// The one directory cookiecutter made in `dest`.
fn project_dir(dest: &Path) -> Result<PathBuf, String> {
    let dirs: Vec<PathBuf> = std::fs::read_dir(dest)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    match dirs.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!(
            "expected one project directory in {}, found {}",
            dest.display(),
            dirs.len()
        )),
    }
}

/// The `cookiecutter` object of the replay file cookiecutter wrote (its
/// settled answers), empty when it wrote none (a replay run).
fn read_replay(dir: &Path) -> Result<Map<String, Value>, ScaffoldError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Map::new());
    };
    for e in entries.filter_map(Result::ok) {
        let path = e.path();
        if path.extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(&path).map_err(|e| ScaffoldError::io(&path, e))?;
            if let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(&text) {
                if let Some(Value::Object(cc)) = m.remove("cookiecutter") {
                    return Ok(cc);
                }
            }
        }
    }
    Ok(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_code_idp_cannot_emulate_counts_as_python() {
        let ctx = json!({"_extensions": [
            "jinja2_time.TimeExtension", "cookiecutter.extensions.SlugifyExtension",
            "local_extensions.Foo", "jinja2.ext.do", "pylibrary.PrettyJsonifyExtension"
        ]});
        assert_eq!(
            python_extensions(ctx.as_object().unwrap()),
            ["local_extensions.Foo", "pylibrary.PrettyJsonifyExtension"]
        );
        assert!(python_extensions(&Map::new()).is_empty());
    }

    #[test]
    fn programs_are_found_on_the_given_path_only() {
        let dir = tempfile::tempdir().unwrap();
        let env = Vars::from_pairs([("PATH", dir.path().to_str().unwrap())]);
        assert!(on_path(&env, "sh").is_none());
        assert!(find(&env, "python3").is_none());
    }
}
