//! The scaffolder actions idp runs locally, with Backstage's inputs and
//! outputs: `fetch:template`, `fetch:template:file`, `fetch:plain`,
//! `fetch:plain:file`, `catalog:write`, `catalog:register`, `debug:log`, and
//! every `publish:*` (which plans the repository instead of creating it:
//! the project gets a local `git init` and first commit, and the plan says
//! what would be created).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde_json::{Map, Value};

use crate::confine::{Root, RootKind};
use crate::scaffold::binary;
use crate::scaffold::error::ScaffoldError;
use crate::scaffold::paths::contained;
use crate::scaffold::render::{Dialect, Renderer, Whitespace};

use super::filters::{self, HostType, RepoSpec};

/// Actions idp knows, for the unknown-action message.
pub const KNOWN: &[&str] = &[
    "fetch:template",
    "fetch:template:file",
    "fetch:plain",
    "fetch:plain:file",
    "catalog:write",
    "catalog:register",
    "debug:log",
    "publish:*",
];

/// Whether idp can run `action`.
pub fn is_known(action: &str) -> bool {
    action.starts_with("publish:") || KNOWN.contains(&action)
}

/// A descriptor a `catalog:register` step asked to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The descriptor, relative to the project directory.
    pub path: PathBuf,
    /// The entity it defines (Component first), if it could be read.
    pub entity_ref: Option<String>,
    /// The URL Backstage would register.
    pub url: String,
}

/// A repository a `publish:*` step would create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishPlan {
    /// Step id.
    pub step: String,
    /// The action (`publish:github`).
    pub action: String,
    /// Where the repository would be (`github.com?owner=acme&repo=x`).
    pub repo_url: String,
    /// Its clone URL.
    pub remote_url: String,
    /// The branch of the first commit.
    pub default_branch: String,
    /// Message of the first commit.
    pub commit_message: String,
    /// Directory (relative to the workspace) that becomes the repository.
    pub source_path: String,
    /// `gitAuthorName` / `gitAuthorEmail`, if given.
    pub author: Option<(String, String)>,
    /// Visibility and description, for the message.
    pub details: Vec<(String, String)>,
}

/// What happens to the workspace and around the steps, so each step's
/// message says what is done (or, in a dry run, would be).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effects {
    /// A dry run: the workspace is thrown away.
    pub dry_run: bool,
    /// `publish:*` repositories are created (`--publish`).
    pub publish: bool,
    /// The first `catalog:register` descriptor is committed to the catalog
    /// repository (`--register`).
    pub register: bool,
    /// The project gets a local git repository with a first commit.
    pub first_commit: bool,
}

/// What an action can use and where it reports.
pub struct ActionEnv<'a> {
    /// Directory of the template file: `url`s are relative to it.
    pub template_dir: &'a Path,
    /// The workspace: the project being generated.
    pub workspace: &'a Path,
    /// Fuel per render.
    pub fuel: u64,
    /// The run's output budget, shared by every renderer of the run.
    pub output: crate::scaffold::OutputBudget,
    /// What happens around the steps (for their messages).
    pub effects: Effects,
    /// Log lines (`debug:log`, skipped files, plans).
    pub log: &'a mut Vec<String>,
    /// Files written, relative to the workspace.
    pub files: &'a mut Vec<PathBuf>,
    /// `catalog:register` requests.
    pub registrations: &'a mut Vec<Registration>,
    /// `publish:*` plans.
    pub publish: &'a mut Vec<PublishPlan>,
}

/// Runs one action with its rendered input; returns its outputs.
pub fn run(
    step: &str,
    action: &str,
    input: &Map<String, Value>,
    env: &mut ActionEnv<'_>,
) -> Result<Map<String, Value>, ScaffoldError> {
    let cx = Cx {
        step,
        action,
        input,
    };
    match action {
        "fetch:template" => fetch_template(&cx, env),
        "fetch:template:file" => fetch_template_file(&cx, env),
        "fetch:plain" => fetch_plain(&cx, env),
        "fetch:plain:file" => fetch_plain_file(&cx, env),
        "catalog:write" => catalog_write(&cx, env),
        "catalog:register" => catalog_register(&cx, env),
        "debug:log" => debug_log(&cx, env),
        a if a.starts_with("publish:") => publish(&cx, env),
        other => Err(ScaffoldError::Unsupported(format!(
            "step '{step}' uses unknown action '{other}'"
        ))),
    }
}

/// The step being run, for inputs and messages.
struct Cx<'a> {
    step: &'a str,
    action: &'a str,
    input: &'a Map<String, Value>,
}

impl Cx<'_> {
    fn fail(&self, message: impl std::fmt::Display) -> ScaffoldError {
        ScaffoldError::InvalidValue {
            name: format!("step '{}' ({})", self.step, self.action),
            message: message.to_string(),
        }
    }

    fn str(&self, key: &str) -> Result<Option<&str>, ScaffoldError> {
        match self.input.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.fail(format!("input {key} must be a string, not {other}"))),
        }
    }

    fn required_str(&self, key: &str) -> Result<&str, ScaffoldError> {
        self.str(key)?
            .ok_or_else(|| self.fail(format!("input {key} is required")))
    }

    fn bool(&self, key: &str) -> bool {
        match self.input.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true",
            _ => false,
        }
    }

    fn strings(&self, key: &str) -> Result<Option<Vec<String>>, ScaffoldError> {
        match self.input.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => Ok(Some(
                a.iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| self.fail(format!("input {key} must be a list of strings")))?,
            )),
            Some(_) => Err(self.fail(format!("input {key} must be a list of strings"))),
        }
    }

    /// A `url` input as a local path inside the template's directory:
    /// relative to it, and still inside it after every symlink. An
    /// absolute path, `..` or a symlink leading out is refused, naming the
    /// step, the action and the input.
    fn source(&self, env: &ActionEnv<'_>, key: &str) -> Result<Source, ScaffoldError> {
        let url = self.required_str(key)?;
        if url.contains("://") {
            return Err(ScaffoldError::Unsupported(format!(
                "step '{}' ({}) fetches {url}: idp reads templates locally, so only paths relative to the template file are supported",
                self.step, self.action
            )));
        }
        let what = format!("step '{}' ({}) input {key}", self.step, self.action);
        let root = Root::new(env.template_dir, RootKind::Template)
            .map_err(|e| ScaffoldError::confined(&what, e))?;
        let real = root.resolve(url).map_err(|e| {
            if e.is_not_found() {
                self.fail(format!(
                    "{key} {url} does not exist (looked for {})",
                    env.template_dir.join(url).display()
                ))
            } else {
                ScaffoldError::confined(&what, e)
            }
        })?;
        Ok(Source {
            root,
            real,
            url: url.to_string(),
            what,
        })
    }

    /// A workspace-relative output path, refused when it leaves the workspace.
    fn target(&self, env: &ActionEnv<'_>, rel: &str) -> Result<PathBuf, ScaffoldError> {
        contained(env.workspace, rel).map_err(|reason| ScaffoldError::UnsafePath {
            what: format!("step '{}' ({})", self.step, self.action),
            path: rel.to_string(),
            reason,
        })
    }
}

/// A `url` input, resolved inside the template's directory.
struct Source {
    /// The template's directory: everything under `real` is read through it.
    root: Root,
    /// The real path the input names.
    real: PathBuf,
    /// The input as written.
    url: String,
    /// The step, action and input, for messages.
    what: String,
}

impl Source {
    /// The bytes and permission bits of a file under the source, refusing
    /// symlinks that lead out of the template's directory.
    fn read(&self, path: &Path) -> Result<(Vec<u8>, u32), ScaffoldError> {
        self.root
            .read_with_mode(path)
            .map_err(|e| ScaffoldError::confined(format!("{}: {}", self.what, path.display()), e))
    }

    /// The source relative to the template's directory, for messages.
    fn shown(&self) -> PathBuf {
        rel_to(self.root.path(), &self.real)
    }
}

fn rel_to(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

fn record(env: &mut ActionEnv<'_>, path: &Path) {
    let rel = rel_to(env.workspace, path);
    if !env.files.contains(&rel) {
        env.files.push(rel);
    }
}

fn write_file(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<(), ScaffoldError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| ScaffoldError::io(parent, e))?;
    }
    fs::write(path, bytes).map_err(|e| ScaffoldError::io(path, e))?;
    if let Some(mode) = mode {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(|e| ScaffoldError::io(path, e))?;
    }
    Ok(())
}

/// A renderer for skeleton files: Backstage's `${{ }}`, or Jinja's `{{ }}`
/// with `cookiecutterCompat`; `trimBlocks` / `lstripBlocks` as given.
fn skeleton_renderer(cx: &Cx<'_>, fuel: u64, output: &crate::scaffold::OutputBudget) -> Renderer {
    let dialect = if cx.bool("cookiecutterCompat") {
        Dialect::Cookiecutter
    } else {
        Dialect::Backstage
    };
    let mut r = Renderer::new(dialect, fuel);
    r.set_output_budget(output.clone());
    filters::install(&mut r);
    r.set_whitespace(Whitespace {
        trim_blocks: cx.bool("trimBlocks"),
        lstrip_blocks: cx.bool("lstripBlocks"),
        keep_trailing_newline: true,
    });
    r
}

fn skeleton_context(cx: &Cx<'_>) -> minijinja::Value {
    let values = cx
        .input
        .get("values")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    let key = if cx.bool("cookiecutterCompat") {
        "cookiecutter"
    } else {
        "values"
    };
    let mut m = Map::new();
    m.insert(key.into(), values);
    filters::mj(&Value::Object(m))
}

fn globs(cx: &Cx<'_>, patterns: &[String]) -> Result<GlobSet, ScaffoldError> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let p = p.trim_start_matches("./");
        let glob = GlobBuilder::new(p)
            .literal_separator(true)
            .build()
            .map_err(|e| cx.fail(format!("bad glob {p:?}: {e}")))?;
        b.add(glob);
    }
    b.build().map_err(|e| cx.fail(e))
}

/// Every entry under the source (directories before their contents,
/// sorted), as `/`-separated relative paths with a flag for directories.
/// Symlinks are listed as files (not descended into); reading one checks
/// where it leads.
fn list_tree(root: &Root, dir: &Path, what: &str) -> Result<Vec<(String, bool)>, ScaffoldError> {
    fn walk(
        root: &Root,
        what: &str,
        dir: &Path,
        rel: &str,
        out: &mut Vec<(String, bool)>,
    ) -> Result<(), ScaffoldError> {
        let entries = root
            .read_dir(dir)
            .map_err(|e| ScaffoldError::confined(what, e))?;
        for e in entries {
            let name = e.name.to_string_lossy().into_owned();
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if e.file_type.is_dir() {
                out.push((child.clone(), true));
                walk(root, what, &e.path, &child, out)?;
            } else {
                out.push((child, false));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(root, what, dir, "", &mut out)?;
    Ok(out)
}

/// Backstage skips an entry whose rendered path is empty, starts with `/`
/// or contains `//`: a name that rendered to nothing (the way templates make
/// files conditional).
fn skipped(rendered: &str) -> bool {
    rendered.is_empty() || rendered.starts_with('/') || rendered.contains("//")
}

fn fetch_template(
    cx: &Cx<'_>,
    env: &mut ActionEnv<'_>,
) -> Result<Map<String, Value>, ScaffoldError> {
    let src = cx.source(env, "url")?;
    if !src.real.is_dir() {
        return Err(cx.fail(format!(
            "url {} is not a directory (use fetch:template:file for one file)",
            src.url
        )));
    }
    let target_rel = cx.str("targetPath")?.unwrap_or("./").to_string();
    let out_dir = cx.target(env, &target_rel)?;
    let copy_without_render = cx.strings("copyWithoutRender")?;
    let copy_without_templating = cx.strings("copyWithoutTemplating")?;
    if copy_without_render.is_some() && copy_without_templating.is_some() {
        return Err(cx.fail("copyWithoutRender and copyWithoutTemplating cannot be used together"));
    }
    let extension: Option<String> = match cx.input.get("templateFileExtension") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => None,
        Some(Value::Bool(true)) => Some(".njk".into()),
        Some(Value::String(e)) if e.starts_with('.') => Some(e.clone()),
        Some(Value::String(e)) => Some(format!(".{e}")),
        Some(other) => {
            return Err(cx.fail(format!(
                "templateFileExtension must be a boolean or a string, not {other}"
            )))
        }
    };
    if extension.is_some()
        && (copy_without_render.is_some()
            || copy_without_templating.is_some()
            || cx.bool("cookiecutterCompat"))
    {
        return Err(cx.fail(
            "templateFileExtension cannot be combined with copyWithoutRender/copyWithoutTemplating or cookiecutterCompat",
        ));
    }
    // copyWithoutRender (deprecated) copies matched names verbatim too;
    // copyWithoutTemplating renders their names but not their contents.
    let render_names_of_copies = copy_without_render.is_none();
    let copy_only = globs(
        cx,
        &copy_without_render
            .or(copy_without_templating)
            .unwrap_or_default(),
    )?;
    let replace = cx.bool("replace");
    let r = skeleton_renderer(cx, env.fuel, &env.output);
    let ctx = skeleton_context(cx);
    let render_path = |rel: &str| -> Result<String, ScaffoldError> {
        r.render_with(
            &format!("step '{}': name of {rel}", cx.step),
            rel,
            ctx.clone(),
        )
    };
    let mut written = 0usize;
    for (rel, is_dir) in list_tree(&src.root, &src.real, &src.what)? {
        let copy_only_match =
            copy_only.is_match(&rel) || (is_dir && copy_only.is_match(format!("{rel}/")));
        let (render_contents, out_rel) = match &extension {
            Some(ext) => {
                let templated = !is_dir && rel.ends_with(ext.as_str());
                let stripped = if templated {
                    &rel[..rel.len() - ext.len()]
                } else {
                    rel.as_str()
                };
                (templated, render_path(stripped)?)
            }
            None => {
                let render_contents = !copy_only_match;
                let name = if render_contents || render_names_of_copies {
                    render_path(&rel)?
                } else {
                    rel.clone()
                };
                (render_contents, name)
            }
        };
        if skipped(&out_rel) {
            continue;
        }
        let out = contained(&out_dir, &out_rel).map_err(|reason| ScaffoldError::UnsafePath {
            what: format!("step '{}' ({}): {rel}", cx.step, cx.action),
            path: out_rel.clone(),
            reason,
        })?;
        if is_dir {
            fs::create_dir_all(&out).map_err(|e| ScaffoldError::io(&out, e))?;
            continue;
        }
        if out.exists() && !replace {
            env.log.push(format!(
                "{}: {} exists already, not replaced (set replace: true to replace it)",
                cx.step,
                rel_to(env.workspace, &out).display()
            ));
            continue;
        }
        let path = src.real.join(&rel);
        let (bytes, mode) = src.read(&path)?;
        let text = if render_contents && !binary::is_binary(&path, &bytes) {
            String::from_utf8(bytes.clone()).ok()
        } else {
            None
        };
        match text {
            Some(t) => {
                let rendered =
                    r.render_with(&format!("step '{}': file {rel}", cx.step), &t, ctx.clone())?;
                write_file(&out, rendered.as_bytes(), Some(mode))?;
            }
            None => write_file(&out, &bytes, Some(mode))?,
        }
        record(env, &out);
        written += 1;
    }
    env.log.push(format!(
        "{}: {} {written} file{} from {} into {}",
        cx.step,
        if env.effects.dry_run {
            "would write"
        } else {
            "wrote"
        },
        if written == 1 { "" } else { "s" },
        src.shown().display(),
        if target_rel == "./" || target_rel == "." {
            "the project".to_string()
        } else {
            target_rel
        }
    ));
    Ok(Map::new())
}

fn fetch_template_file(
    cx: &Cx<'_>,
    env: &mut ActionEnv<'_>,
) -> Result<Map<String, Value>, ScaffoldError> {
    let src = cx.source(env, "url")?;
    let target_rel = cx.required_str("targetPath")?.to_string();
    let out = cx.target(env, &target_rel)?;
    if out.exists() && !cx.bool("replace") {
        env.log.push(format!(
            "{}: {target_rel} exists already, not replaced (set replace: true to replace it)",
            cx.step
        ));
        return Ok(Map::new());
    }
    let (bytes, _) = src.read(&src.real)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        ScaffoldError::io(
            &src.real,
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        )
    })?;
    let r = skeleton_renderer(cx, env.fuel, &env.output);
    let rendered = r.render_with(
        &format!("step '{}': file {}", cx.step, src.shown().display()),
        &text,
        skeleton_context(cx),
    )?;
    write_file(&out, rendered.as_bytes(), None)?;
    record(env, &out);
    Ok(Map::new())
}

fn copy_tree(src: &Source, out_dir: &Path, env: &mut ActionEnv<'_>) -> Result<(), ScaffoldError> {
    for (rel, is_dir) in list_tree(&src.root, &src.real, &src.what)? {
        let out = contained(out_dir, &rel).map_err(|reason| ScaffoldError::UnsafePath {
            what: "fetch:plain".into(),
            path: rel.clone(),
            reason,
        })?;
        if is_dir {
            fs::create_dir_all(&out).map_err(|e| ScaffoldError::io(&out, e))?;
        } else {
            let (bytes, mode) = src.read(&src.real.join(&rel))?;
            write_file(&out, &bytes, Some(mode))?;
            record(env, &out);
        }
    }
    Ok(())
}

fn fetch_plain(cx: &Cx<'_>, env: &mut ActionEnv<'_>) -> Result<Map<String, Value>, ScaffoldError> {
    let src = cx.source(env, "url")?;
    let out_dir = cx.target(env, cx.str("targetPath")?.unwrap_or("./"))?;
    if src.real.is_dir() {
        copy_tree(&src, &out_dir, env)?;
    } else {
        // The name as the input wrote it (a symlink keeps its own name).
        let name = Path::new(&src.url)
            .file_name()
            .or(src.real.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (bytes, mode) = src.read(&src.real)?;
        let out = out_dir.join(name);
        write_file(&out, &bytes, Some(mode))?;
        record(env, &out);
    }
    Ok(Map::new())
}

fn fetch_plain_file(
    cx: &Cx<'_>,
    env: &mut ActionEnv<'_>,
) -> Result<Map<String, Value>, ScaffoldError> {
    let src = cx.source(env, "url")?;
    let out = cx.target(env, cx.required_str("targetPath")?)?;
    let (bytes, mode) = src.read(&src.real)?;
    write_file(&out, &bytes, Some(mode))?;
    record(env, &out);
    Ok(Map::new())
}

/// Drops null members: a parameter the user left empty leaves no
/// `system: null` behind (Backstage drops undefined values the same way).
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

fn catalog_write(
    cx: &Cx<'_>,
    env: &mut ActionEnv<'_>,
) -> Result<Map<String, Value>, ScaffoldError> {
    let rel = cx
        .str("filePath")?
        .unwrap_or("catalog-info.yaml")
        .to_string();
    let entity = match cx.input.get("entity") {
        Some(e @ Value::Object(_)) => without_nulls(e),
        _ => return Err(cx.fail("input entity is required and must be an object")),
    };
    let out = cx.target(env, &rel)?;
    let yaml = crate::yaml::to_string(&entity).map_err(|e| cx.fail(e))?;
    write_file(&out, yaml.as_bytes(), None)?;
    record(env, &out);
    Ok(Map::new())
}

/// The entity a descriptor file defines, as `kind:namespace/name`
/// (Components first, `generated-` names last, as Backstage picks).
fn descriptor_entity_ref(path: &Path) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    let docs: Vec<Value> = crate::yaml::all(&text).unwrap_or_default();
    let named = |d: &&Value| -> bool {
        d.pointer("/metadata/name")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.starts_with("generated-"))
    };
    let pick = docs
        .iter()
        .find(|d| named(d) && d.get("kind").and_then(Value::as_str) == Some("Component"))
        .or_else(|| docs.iter().find(named))
        .or(docs.first())?;
    let kind = pick.get("kind")?.as_str()?.to_ascii_lowercase();
    let ns = pick
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let name = pick.pointer("/metadata/name")?.as_str()?;
    Some(format!("{kind}:{ns}/{name}"))
}

/// The descriptor's path inside the project for a `catalogInfoUrl`: what
/// follows `/blob/<branch>/` (GitHub, GitLab) or `/src/<branch>/`
/// (Bitbucket, Gitea), else the file name.
fn path_in_repo(url: &str) -> String {
    for marker in ["/blob/", "/src/branch/", "/src/"] {
        if let Some((_, rest)) = url.split_once(marker) {
            if let Some((_, path)) = rest.split_once('/') {
                return path.to_string();
            }
        }
    }
    url.rsplit('/').next().unwrap_or(url).to_string()
}

fn catalog_register(
    cx: &Cx<'_>,
    env: &mut ActionEnv<'_>,
) -> Result<Map<String, Value>, ScaffoldError> {
    let optional = cx.bool("optional");
    let (url, rel) = match cx.str("catalogInfoUrl")? {
        Some(url) => (url.to_string(), path_in_repo(url)),
        None => {
            let base = cx
                .str("repoContentsUrl")?
                .unwrap_or("")
                .trim_end_matches('/')
                .to_string();
            let path = cx.str("catalogInfoPath")?.unwrap_or("/catalog-info.yaml");
            let rel = path.trim_start_matches('/').to_string();
            let url = if base.is_empty() {
                rel.clone()
            } else {
                format!("{base}/{rel}")
            };
            (url, rel)
        }
    };
    let local = cx.target(env, &rel)?;
    let mut out = Map::new();
    out.insert("catalogInfoUrl".into(), Value::from(url.clone()));
    if !local.is_file() {
        if optional {
            env.log.push(format!(
                "{}: {rel} was not generated; nothing to register (optional)",
                cx.step
            ));
            return Ok(out);
        }
        return Err(cx.fail(format!(
            "{rel} was not generated by the steps before it, so there is nothing to register"
        )));
    }
    let entity_ref = descriptor_entity_ref(&local);
    if let Some(r) = &entity_ref {
        out.insert("entityRef".into(), Value::from(r.clone()));
    }
    env.log.push(register_message(
        cx.step,
        &url,
        entity_ref.as_deref(),
        env.effects,
        env.registrations.is_empty(),
    ));
    env.registrations.push(Registration {
        path: PathBuf::from(rel),
        entity_ref,
        url,
    });
    Ok(out)
}

/// What happens to a `catalog:register` request: `--register` commits the
/// first one to the catalog repository, after the steps.
fn register_message(
    step: &str,
    url: &str,
    entity_ref: Option<&str>,
    effects: Effects,
    first: bool,
) -> String {
    let what = match entity_ref {
        Some(r) => format!("{r} ({url})"),
        None => url.to_string(),
    };
    match (effects.register && first, effects.dry_run) {
        (true, false) => format!(
            "{step}: committed {what} to the catalog repository on a new branch (--register)"
        ),
        (true, true) => format!(
            "{step}: would commit {what} to the catalog repository on a new branch (--register)"
        ),
        (false, dry) if effects.register => format!(
            "{step}: {} {what}: --register commits only the first descriptor",
            if dry {
                "would not register"
            } else {
                "did not register"
            }
        ),
        (false, dry) => format!(
            "{step}: {} {what} (add --register to commit it to the catalog repository)",
            if dry {
                "would not register"
            } else {
                "did not register"
            }
        ),
    }
}

/// What happens to a `publish:*` plan, or None when `--publish` really
/// creates the repository (the caller reports that, once it is done).
fn publish_message(step: &str, repo: &str, effects: Effects) -> Option<String> {
    let stand_in = match (effects.first_commit, effects.dry_run) {
        (true, false) => "; a local git repository with a first commit stands in for it",
        (true, true) => "; a local git repository with a first commit would stand in for it",
        (false, _) => ", nor a local git repository",
    };
    match (effects.publish, effects.dry_run) {
        (true, false) => None,
        (true, true) => Some(format!(
            "{step}: would create repository {repo} and push the first commit to it (--publish)"
        )),
        (false, false) => Some(format!(
            "{step}: did not create repository {repo} (--publish creates it){stand_in}"
        )),
        (false, true) => Some(format!(
            "{step}: would not create repository {repo} (--publish creates it){stand_in}"
        )),
    }
}

fn debug_log(cx: &Cx<'_>, env: &mut ActionEnv<'_>) -> Result<Map<String, Value>, ScaffoldError> {
    match cx.input.get("message") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => env.log.push(format!("{}: {s}", cx.step)),
        Some(other) => env.log.push(format!("{}: {other}", cx.step)),
    }
    let listing = match cx.input.get("listWorkspace") {
        Some(Value::Bool(true)) => Some("with-filenames"),
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    };
    if let Some(mode) = listing {
        let what = format!("step '{}' (debug:log) listWorkspace", cx.step);
        let workspace = Root::new(env.workspace, RootKind::Directory)
            .map_err(|e| ScaffoldError::confined(&what, e))?;
        let mut files: Vec<String> = list_tree(&workspace, workspace.path(), &what)?
            .into_iter()
            .filter(|(rel, is_dir)| !is_dir && !rel.starts_with(".git/"))
            .map(|(rel, _)| rel)
            .collect();
        files.sort();
        for f in files {
            if mode == "with-contents" {
                let text = workspace
                    .read_to_string(&f)
                    .unwrap_or_else(|_| "(binary)".into());
                env.log.push(format!("{}: {f}:\n{text}", cx.step));
            } else {
                env.log.push(format!("{}: {f}", cx.step));
            }
        }
    }
    Ok(Map::new())
}

/// Where a published repository would live, per host type, and the URL of
/// its files (Backstage's `remoteUrl` and `repoContentsUrl` outputs).
fn repository_urls(spec: &RepoSpec, branch: &str) -> (String, String) {
    let host = &spec.host;
    let owner = spec.owner.as_deref().unwrap_or_default();
    let repo = &spec.repo;
    match spec.host_type {
        HostType::Github => {
            let web = format!("https://{host}/{owner}/{repo}");
            (format!("{web}.git"), format!("{web}/blob/{branch}"))
        }
        HostType::Gitlab => {
            let web = format!("https://{host}/{owner}/{repo}");
            (format!("{web}.git"), format!("{web}/-/blob/{branch}"))
        }
        HostType::Bitbucket => {
            let ws = spec
                .workspace
                .as_deref()
                .or(spec.project.as_deref())
                .unwrap_or(owner);
            let web = format!("https://{host}/{ws}/{repo}");
            (web.clone(), format!("{web}/src/{branch}"))
        }
        HostType::Azure => {
            let org = spec.organization.as_deref().unwrap_or(owner);
            let project = spec.project.as_deref().unwrap_or_default();
            let web = format!("https://{host}/{org}/{project}/_git/{repo}");
            (web.clone(), format!("{web}?version=GB{branch}"))
        }
        HostType::Gitea => {
            let web = format!("https://{host}/{owner}/{repo}");
            (format!("{web}.git"), format!("{web}/src/branch/{branch}"))
        }
        HostType::Gerrit => {
            let web = format!("https://{host}/{repo}");
            (web.clone(), format!("{web}/+/refs/heads/{branch}"))
        }
    }
}

fn publish(cx: &Cx<'_>, env: &mut ActionEnv<'_>) -> Result<Map<String, Value>, ScaffoldError> {
    let repo_url = cx.required_str("repoUrl")?.to_string();
    let spec = RepoSpec::parse(&repo_url).map_err(|m| cx.fail(m))?;
    let branch = cx.str("defaultBranch")?.unwrap_or("master").to_string();
    let source_path = cx
        .str("sourcePath")?
        .unwrap_or("")
        .trim_matches('/')
        .to_string();
    // The source directory must stay inside the project like every path.
    cx.target(
        env,
        if source_path.is_empty() {
            "."
        } else {
            &source_path
        },
    )?;
    let (remote_url, contents_url) = repository_urls(&spec, &branch);
    let message = cx
        .str("gitCommitMessage")?
        .unwrap_or("initial commit")
        .to_string();
    let author = match (cx.str("gitAuthorName")?, cx.str("gitAuthorEmail")?) {
        (Some(n), Some(e)) => Some((n.to_string(), e.to_string())),
        (Some(n), None) => Some((
            n.to_string(),
            format!("{}@users.noreply.local", n.replace(' ', ".")),
        )),
        _ => None,
    };
    let mut details = Vec::new();
    for key in ["repoVisibility", "description"] {
        if let Some(v) = cx.str(key)? {
            details.push((key.to_string(), v.to_string()));
        }
    }
    env.log.extend(publish_message(
        cx.step,
        &format!("{repo_url} ({remote_url})"),
        env.effects,
    ));
    env.publish.push(PublishPlan {
        step: cx.step.to_string(),
        action: cx.action.to_string(),
        repo_url,
        remote_url: remote_url.clone(),
        default_branch: branch,
        commit_message: message,
        source_path,
        author,
        details,
    });
    let mut out = Map::new();
    out.insert("remoteUrl".into(), Value::from(remote_url));
    out.insert("repoContentsUrl".into(), Value::from(contents_url));
    if spec.host_type == HostType::Gitlab {
        out.insert("projectId".into(), Value::from(spec.slug()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_paths_follow_backstage() {
        assert!(skipped(""));
        assert!(skipped("/a"));
        assert!(skipped("a//b"));
        assert!(!skipped("a/b"));
    }

    #[test]
    fn catalog_info_url_maps_to_a_project_path() {
        assert_eq!(
            path_in_repo("https://github.com/acme/x/blob/main/catalog-info.yaml"),
            "catalog-info.yaml"
        );
        assert_eq!(
            path_in_repo("https://github.com/acme/x/blob/main/sub/c.yaml"),
            "sub/c.yaml"
        );
        assert_eq!(path_in_repo("catalog-info.yaml"), "catalog-info.yaml");
    }
}
