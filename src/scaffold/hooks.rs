//! Cookiecutter hooks (`hooks/pre_prompt.*`, `hooks/pre_gen_project.*`,
//! `hooks/post_gen_project.*`), run as cookiecutter runs them — but only
//! when the user passed `--trust`: a template is someone else's code.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::error::ScaffoldError;
use super::render::Renderer;
use super::tree::normalize_newlines;

/// The hooks cookiecutter knows, in the order they run.
pub const HOOK_NAMES: [&str; 3] = ["pre_prompt", "pre_gen_project", "post_gen_project"];

/// The scripts for hook `name` in `repo_dir/hooks/` (cookiecutter's
/// `find_hook`: file stem equals the hook name, no `~` backups), sorted.
pub fn find(repo_dir: &Path, name: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(repo_dir.join("hooks")) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let file = p
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let stem = match file.rfind('.') {
                Some(i) if i > 0 => &file[..i],
                _ => file.as_str(),
            };
            stem == name && !file.ends_with('~') && p.is_file()
        })
        .collect();
    out.sort();
    out
}

/// Every hook script the template has (for the "skipped" warning).
pub fn all(repo_dir: &Path) -> Vec<PathBuf> {
    HOOK_NAMES.iter().flat_map(|n| find(repo_dir, n)).collect()
}

/// The warning for a template's hooks that will not run (none when there
/// are none, or when they run): `dry_run` and `trust` say why not.
pub fn skipped_warning(
    repo_dir: &Path,
    run_hooks: bool,
    dry_run: bool,
    trust: bool,
) -> Option<String> {
    let names = all_names(repo_dir);
    if names.is_empty() || run_hooks {
        return None;
    }
    Some(if dry_run && trust {
        format!("dry run: hooks not run: {}", names.join(", "))
    } else {
        format!(
            "hooks skipped (they run template code; add --trust to run them): {}",
            names.join(", ")
        )
    })
}

/// [`all`], as the template names them (`hooks/pre_gen_project.py`).
pub fn all_names(repo_dir: &Path) -> Vec<String> {
    all(repo_dir)
        .iter()
        .map(|p| {
            format!(
                "hooks/{}",
                p.file_name().unwrap_or_default().to_string_lossy()
            )
        })
        .collect()
}

/// Runs `pre_prompt` scripts in a copy of the template (they may change
/// `cookiecutter.json`); returns the copy to render from, if any ran.
pub fn run_pre_prompt(
    repo_dir: &Path,
    python: &str,
) -> Result<Option<tempfile::TempDir>, ScaffoldError> {
    if find(repo_dir, "pre_prompt").is_empty() {
        return Ok(None);
    }
    let temp = tempfile::Builder::new()
        .prefix("cookiecutter")
        .tempdir()
        .map_err(|e| ScaffoldError::io(std::env::temp_dir(), e))?;
    let name = repo_dir.file_name().unwrap_or_default();
    let copy = temp.path().join(name);
    copy_dir(repo_dir, &copy)?;
    for script in find(&copy, "pre_prompt") {
        run_script(&script, &copy, python)?;
    }
    Ok(Some(temp))
}

/// Renders each script of hook `name` with `ctx` and runs it in `cwd`.
/// Returns the scripts run.
pub fn run_hook(
    repo_dir: &Path,
    name: &str,
    cwd: &Path,
    r: &Renderer,
    ctx: &serde_json::Value,
    python: &str,
) -> Result<Vec<PathBuf>, ScaffoldError> {
    let scripts = find(repo_dir, name);
    for script in &scripts {
        let text = std::fs::read_to_string(script).map_err(|e| ScaffoldError::io(script, e))?;
        let rendered = r.render_str(
            &format!("hook {}", script.display()),
            &normalize_newlines(&text),
            ctx,
        )?;
        let ext = script
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let mut tmp = tempfile::Builder::new()
            .prefix("idp-hook-")
            .suffix(&ext)
            .tempfile()
            .map_err(|e| ScaffoldError::io(std::env::temp_dir(), e))?;
        std::io::Write::write_all(&mut tmp, rendered.as_bytes())
            .map_err(|e| ScaffoldError::io(tmp.path(), e))?;
        let path = tmp.into_temp_path();
        let result = run_script(&path, cwd, python);
        drop(path);
        result.map_err(|e| match e {
            ScaffoldError::Hook { message, .. } => ScaffoldError::Hook {
                path: script.clone(),
                message,
            },
            other => other,
        })?;
    }
    Ok(scripts)
}

/// cookiecutter's `run_script`: `.py` with Python, anything else executed
/// directly (it needs a shebang), after making it executable.
fn run_script(script: &Path, cwd: &Path, python: &str) -> Result<(), ScaffoldError> {
    let meta = std::fs::metadata(script).map_err(|e| ScaffoldError::io(script, e))?;
    let mode = meta.permissions().mode() | 0o100;
    std::fs::set_permissions(script, std::fs::Permissions::from_mode(mode))
        .map_err(|e| ScaffoldError::io(script, e))?;
    let is_py = script.extension().is_some_and(|e| e == "py");
    let mut cmd = if is_py {
        let mut c = Command::new(python);
        c.arg(script);
        c
    } else {
        Command::new(script)
    };
    crate::tls::restore_for_child(&mut cmd);
    let status = cmd
        .current_dir(cwd)
        .status()
        .map_err(|e| ScaffoldError::Hook {
            path: script.to_path_buf(),
            message: if e.raw_os_error() == Some(8) {
                "might be an empty file or missing a shebang".into()
            } else {
                e.to_string()
            },
        })?;
    if !status.success() {
        return Err(ScaffoldError::Hook {
            path: script.to_path_buf(),
            message: match status.code() {
                Some(c) => format!("exit status {c}"),
                None => "killed by a signal".into(),
            },
        });
    }
    Ok(())
}

fn copy_dir(src: &Path, dest: &Path) -> Result<(), ScaffoldError> {
    std::fs::create_dir_all(dest).map_err(|e| ScaffoldError::io(dest, e))?;
    for e in std::fs::read_dir(src).map_err(|e| ScaffoldError::io(src, e))? {
        let e = e.map_err(|e| ScaffoldError::io(src, e))?;
        let to = dest.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &to)?;
        } else {
            std::fs::copy(e.path(), &to).map_err(|err| ScaffoldError::io(e.path(), err))?;
        }
    }
    Ok(())
}
