//! Finding templates: `kind: Template` entities in the catalog (their files
//! resolved relative to the template descriptor), cookiecutter directories
//! under the catalog's `templates/`, a local path, or a git URL.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::answers::TemplateSource;
use super::error::ScaffoldError;
use super::{cookiecutter, repo, LoadedTemplate, TemplateKind};
use crate::catalog::snapshot::Snapshot;
use crate::catalog::Catalog;
use crate::confine::{Root, RootKind};

/// The folder of cookiecutter templates in a catalog, unless `idp.yaml`
/// says otherwise (`templates: <dir>`).
pub const DEFAULT_TEMPLATES_DIR: &str = "templates";

/// The catalog seen as a source of templates.
pub struct CatalogTemplates<'a> {
    /// The loaded catalog.
    pub catalog: &'a Catalog,
    /// The catalog location as the user gave it (for answers files).
    pub location: String,
    /// The catalog root on disk, when the working tree is what was read
    /// (files are then used in place, with their permissions).
    pub root: Option<PathBuf>,
    /// The files read (used to materialise templates of a remote catalog or
    /// another revision).
    pub snapshot: Option<&'a dyn Snapshot>,
}

/// One template the catalog offers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TemplateInfo {
    /// Name to pass to `idp scaffold`.
    pub name: String,
    /// Format.
    #[serde(serialize_with = "kind_str")]
    pub kind: TemplateKind,
    /// Title, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Owner (Backstage `spec.owner`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Tags, if any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The template file or directory, catalog-relative.
    pub path: String,
}

fn kind_str<S: serde::Serializer>(k: &TemplateKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

impl CatalogTemplates<'_> {
    /// The catalog-relative folder of cookiecutter templates.
    pub fn templates_dir(&self) -> String {
        self.catalog
            .config
            .extra
            .get("templates")
            .and_then(|v| serde_json::to_value(v).ok())
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| DEFAULT_TEMPLATES_DIR.to_string())
            .trim_matches('/')
            .to_string()
    }

    /// Every template: Template entities, then cookiecutter directories.
    pub fn list(&self) -> Vec<TemplateInfo> {
        let mut out: Vec<TemplateInfo> = self
            .catalog
            .entities
            .iter()
            .filter(|e| e.kind_key() == "template")
            .map(|e| {
                let doc = e.doc();
                let text = |p: &str| lookup(doc, p).and_then(Value::as_str).map(str::to_string);
                TemplateInfo {
                    name: e.entity_ref().key(),
                    kind: TemplateKind::Backstage,
                    title: e.title.clone(),
                    description: text("metadata.description"),
                    owner: text("spec.owner"),
                    tags: lookup(doc, "metadata.tags")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|t| t.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                    path: e.source.file.clone(),
                }
            })
            .collect();
        for dir in self.cookiecutter_dirs() {
            let name = dir.rsplit('/').next().unwrap_or(&dir).to_string();
            out.push(TemplateInfo {
                name,
                kind: TemplateKind::Cookiecutter,
                title: None,
                description: self.cookiecutter_description(&dir),
                owner: None,
                tags: Vec::new(),
                path: dir,
            });
        }
        out
    }

    /// Catalog-relative directories `templates/<name>` holding a cookiecutter.json.
    fn cookiecutter_dirs(&self) -> Vec<String> {
        let base = self.templates_dir();
        let mut dirs: Vec<String> = match (&self.root, self.snapshot) {
            (Some(root), _) => catalog_root(root)
                .and_then(|root| {
                    let entries = root.read_dir(&base).ok()?;
                    Some(
                        entries
                            .into_iter()
                            .map(|e| format!("{base}/{}", e.name.to_string_lossy()))
                            .filter(|dir| {
                                root.is_file(format!("{dir}/{}", cookiecutter::CONTEXT_FILE))
                            })
                            .collect(),
                    )
                })
                .unwrap_or_default(),
            (None, Some(snap)) => snap
                .files()
                .iter()
                .filter_map(|f| {
                    let rest = f.path.strip_prefix(&format!("{base}/"))?;
                    let name = rest.strip_suffix(&format!("/{}", cookiecutter::CONTEXT_FILE))?;
                    (!name.contains('/')).then(|| format!("{base}/{name}"))
                })
                .collect(),
            (None, None) => Vec::new(),
        };
        dirs.sort();
        dirs
    }

    fn cookiecutter_description(&self, dir: &str) -> Option<String> {
        let path = format!("{dir}/{}", cookiecutter::CONTEXT_FILE);
        let bytes = match (&self.root, self.snapshot) {
            (Some(root), _) => catalog_root(root)?.read(&path).ok()?,
            (None, Some(snap)) => snap.read(&path).ok()?,
            _ => return None,
        };
        let v: Value = serde_json::from_slice(&bytes).ok()?;
        ["description", "project_short_description", "_description"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string))
    }

    /// A catalog-relative directory on disk: in place for a working tree,
    /// else copied out of the snapshot into a temp dir.
    fn materialize(
        &self,
        dir: &str,
    ) -> Result<(PathBuf, Option<Arc<tempfile::TempDir>>), ScaffoldError> {
        if let Some(root) = &self.root {
            // In place, as long as it is inside the catalog (a template
            // directory that is a symlink to elsewhere is refused).
            let what = format!("template directory {dir}");
            let real = Root::new(root, RootKind::Catalog)
                .and_then(|root| root.resolve(dir))
                .map_err(|e| ScaffoldError::confined(what, e))?;
            return Ok((real, None));
        }
        let Some(snap) = self.snapshot else {
            return Err(ScaffoldError::Unsupported(format!(
                "template files of {dir} are not available (catalog loaded from its index)"
            )));
        };
        let temp = tempfile::Builder::new()
            .prefix("idp-template-")
            .tempdir()
            .map_err(|e| ScaffoldError::io(std::env::temp_dir(), e))?;
        let name = dir
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .unwrap_or("template");
        let out = temp.path().join(name);
        std::fs::create_dir_all(&out).map_err(|e| ScaffoldError::io(&out, e))?;
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        for f in snap.files() {
            let Some(rel) = f.path.strip_prefix(&prefix) else {
                continue;
            };
            let target = out.join(rel);
            if let Some(p) = target.parent() {
                std::fs::create_dir_all(p).map_err(|e| ScaffoldError::io(p, e))?;
            }
            let bytes = snap
                .read(&f.path)
                .map_err(|e| ScaffoldError::io(&f.path, e))?;
            std::fs::write(&target, bytes).map_err(|e| ScaffoldError::io(&target, e))?;
        }
        Ok((out, Some(Arc::new(temp))))
    }
}

/// The catalog root, for confined reads of template files in place.
fn catalog_root(root: &Path) -> Option<Root> {
    Root::new(root, RootKind::Catalog).ok()
}

fn lookup<'v>(doc: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(doc, |v, k| v.get(k))
}

/// Whether `arg` is written as an entity ref, `kind:name` or
/// `kind:namespace/name` (`template:default/node-service`): a kind of
/// letters, digits, `-` and `_` before the colon, and no `://`.
pub fn is_entity_ref(arg: &str) -> bool {
    let Some((kind, rest)) = arg.split_once(':') else {
        return false;
    };
    !kind.is_empty()
        && kind
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !rest.is_empty()
        && !rest.starts_with('/')
        && rest.matches('/').count() <= 1
}

/// Whether a template argument, seen from `cwd`, names a path rather than a
/// catalog name. An entity ref (`template:default/x`) is a name unless a
/// file or directory of that name exists.
pub fn looks_like_path(arg: &str, cwd: &Path) -> bool {
    if is_entity_ref(arg) {
        return cwd.join(arg).exists();
    }
    arg == "." || arg == ".." || arg.contains('/') || arg.starts_with('~')
}

/// Whether `arg`, taken as a path from `cwd`, is a template directory or
/// file (a bare name like cookiecutter's `cookiecutter my-template`).
pub fn is_local_template(arg: &str, cwd: &Path) -> bool {
    let p = cwd.join(arg);
    cookiecutter::is_template(&p)
        || p.join("template.yaml").is_file()
        || p.join("template.yml").is_file()
        || (p.is_file() && (arg.ends_with(".yaml") || arg.ends_with(".yml")))
}

/// Finds the template `arg` names: a git URL, a path, a Template entity, or
/// a cookiecutter directory under the catalog's templates folder.
pub fn resolve(
    arg: &str,
    catalog: Option<&CatalogTemplates>,
    cwd: &Path,
) -> Result<LoadedTemplate, ScaffoldError> {
    if crate::git_remote::is_git_url(arg) && !cwd.join(arg).exists() {
        let (url, subdir) = split_url_subdir(arg);
        let (temp, commit) = repo::clone(url, None)?;
        let dir = temp.path().join(subdir);
        let mut t = load_path(&dir, arg)?;
        t.source = TemplateSource::Dir {
            repo: url.to_string(),
            subdir: subdir.to_string(),
        };
        t.commit = commit;
        t.checkout = Some(Arc::new(temp));
        return Ok(t);
    }
    if looks_like_path(arg, cwd)
        || is_local_template(arg, cwd)
        || (catalog.is_none() && cwd.join(arg).exists())
    {
        return load_path(&cwd.join(arg), arg);
    }
    let Some(cat) = catalog else {
        return Err(ScaffoldError::NotFound {
            query: arg.to_string(),
            suggestions: Vec::new(),
        });
    };
    // A Template entity.
    if let Some(e) = find_template_entity(cat.catalog, arg) {
        let file = e.source.file.clone();
        let dir_rel = file.rsplit_once('/').map_or("", |(d, _)| d).to_string();
        let (dir, checkout) = cat.materialize(&dir_rel)?;
        let doc = e.doc().clone();
        let text = |p: &str| lookup(&doc, p).and_then(Value::as_str).map(str::to_string);
        let commit = cat.catalog.origin.commit.clone().or_else(|| {
            cat.root
                .as_ref()
                .and_then(|r| repo::enclosing_repo(r))
                .and_then(|(_, head)| head)
        });
        return Ok(LoadedTemplate {
            name: e.entity_ref().key(),
            kind: TemplateKind::Backstage,
            file: Some(dir.join(file.rsplit('/').next().unwrap_or(&file))),
            dir,
            source: TemplateSource::Catalog {
                catalog: cat.location.clone(),
                path: file,
            },
            commit,
            title: e.title.clone(),
            description: text("metadata.description"),
            entity: Some(doc),
            arg: arg.to_string(),
            checkout,
        });
    }
    // A cookiecutter directory under templates/.
    let wanted = format!("{}/{arg}", cat.templates_dir());
    let dirs = cat.cookiecutter_dirs();
    if dirs.iter().any(|d| d == &wanted) {
        let (dir, checkout) = cat.materialize(&wanted)?;
        let commit = cat.catalog.origin.commit.clone().or_else(|| {
            cat.root
                .as_ref()
                .and_then(|r| repo::enclosing_repo(r))
                .and_then(|(_, head)| head)
        });
        return Ok(LoadedTemplate {
            name: arg.to_string(),
            kind: TemplateKind::Cookiecutter,
            dir,
            source: TemplateSource::Catalog {
                catalog: cat.location.clone(),
                path: wanted,
            },
            commit,
            title: None,
            description: cat.cookiecutter_description(&format!("{}/{arg}", cat.templates_dir())),
            entity: None,
            file: None,
            arg: arg.to_string(),
            checkout,
        });
    }
    Err(ScaffoldError::NotFound {
        query: arg.to_string(),
        suggestions: suggestions(arg, &cat.list()),
    })
}

/// `https://host/repo.git//sub/dir` → (url, `sub/dir`).
fn split_url_subdir(arg: &str) -> (&str, &str) {
    let scheme_end = arg.find("://").map_or(0, |i| i + 3);
    match arg[scheme_end..].find("//") {
        Some(i) => (&arg[..scheme_end + i], &arg[scheme_end + i + 2..]),
        None => (arg, ""),
    }
}

fn find_template_entity<'c>(catalog: &'c Catalog, arg: &str) -> Option<&'c crate::catalog::Entity> {
    let q = arg.trim();
    let q_lower = q.to_ascii_lowercase();
    // `kind:name` means the default namespace, as everywhere in the catalog.
    let full = match q_lower.split_once(':') {
        Some((kind, name)) if !name.contains('/') => format!("{kind}:default/{name}"),
        Some(_) => q_lower.clone(),
        None if q_lower.contains('/') => format!("template:{q_lower}"),
        None => format!("template:default/{q_lower}"),
    };
    let templates = || {
        catalog
            .entities
            .iter()
            .filter(|e| e.kind_key() == "template")
    };
    templates()
        .find(|e| e.entity_ref().key().eq_ignore_ascii_case(&full))
        .or_else(|| {
            if q.contains(':') || q.contains('/') {
                return None;
            }
            templates().find(|e| e.name.eq_ignore_ascii_case(q))
        })
}

/// Up to three names close to `arg`.
pub fn suggestions(arg: &str, templates: &[TemplateInfo]) -> Vec<String> {
    // `template:default/node-servce` is compared by its name part.
    let wanted = arg.rsplit(['/', ':']).next().unwrap_or(arg);
    let mut scored: Vec<(f64, String)> = templates
        .iter()
        .map(|t| {
            let short = t.name.rsplit(['/', ':']).next().unwrap_or(&t.name);
            (strsim::jaro_winkler(wanted, short), t.name.clone())
        })
        .filter(|(s, _)| *s > 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

/// A template at a local path: a cookiecutter directory, a Backstage
/// template file, or a directory holding `template.yaml`.
pub fn load_path(path: &Path, arg: &str) -> Result<LoadedTemplate, ScaffoldError> {
    let abs = std::fs::canonicalize(path).map_err(|_| ScaffoldError::NotFound {
        query: arg.to_string(),
        suggestions: Vec::new(),
    })?;
    let (git_root, commit) = match repo::enclosing_repo(&abs) {
        Some((root, head)) => (Some(root), head),
        None => (None, None),
    };
    let source_for = |dir: &Path| match &git_root {
        Some(root) => TemplateSource::Dir {
            repo: root.display().to_string(),
            subdir: dir
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default(),
        },
        None => TemplateSource::Dir {
            repo: dir.display().to_string(),
            subdir: String::new(),
        },
    };
    if abs.is_dir() && cookiecutter::is_template(&abs) {
        return Ok(LoadedTemplate {
            name: abs
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            kind: TemplateKind::Cookiecutter,
            source: source_for(&abs),
            dir: abs,
            commit,
            title: None,
            description: None,
            entity: None,
            file: None,
            arg: arg.to_string(),
            checkout: None,
        });
    }
    let file = if abs.is_dir() {
        ["template.yaml", "template.yml"]
            .iter()
            .map(|n| abs.join(n))
            .find(|p| p.is_file())
    } else {
        Some(abs.clone())
    };
    let Some(file) = file else {
        return Err(ScaffoldError::InvalidTemplate {
            path: abs,
            message: "neither a cookiecutter template (no cookiecutter.json) nor a Backstage template (no template.yaml)".into(),
        });
    };
    let doc = read_template_entity(&file)?;
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let text = |p: &str| lookup(&doc, p).and_then(Value::as_str).map(str::to_string);
    let name = format!(
        "template:{}/{}",
        text("metadata.namespace").unwrap_or_else(|| "default".into()),
        text("metadata.name").unwrap_or_default()
    );
    let mut source = source_for(&dir);
    if let TemplateSource::Dir { subdir, .. } = &mut source {
        // Point at the file itself so `update` finds the same template.
        let fname = file.file_name().unwrap_or_default().to_string_lossy();
        *subdir = if subdir.is_empty() {
            fname.into_owned()
        } else {
            format!("{subdir}/{fname}")
        };
    }
    Ok(LoadedTemplate {
        name,
        kind: TemplateKind::Backstage,
        dir,
        source,
        commit,
        title: text("metadata.title"),
        description: text("metadata.description"),
        entity: Some(doc),
        file: Some(file),
        arg: arg.to_string(),
        checkout: None,
    })
}

/// The first `kind: Template` document of a YAML file, as JSON.
pub fn read_template_entity(file: &Path) -> Result<Value, ScaffoldError> {
    let text = std::fs::read_to_string(file).map_err(|e| ScaffoldError::io(file, e))?;
    let docs = crate::yaml::all(&text).map_err(|e| ScaffoldError::InvalidTemplate {
        path: file.to_path_buf(),
        message: e.to_string(),
    })?;
    for v in docs {
        if v.get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.eq_ignore_ascii_case("template"))
        {
            return Ok(v);
        }
    }
    Err(ScaffoldError::InvalidTemplate {
        path: file.to_path_buf(),
        message: "no document with kind: Template".into(),
    })
}

/// Reloads the template an answers file points at (for `update`): the
/// catalog entry or the directory, at its current state.
pub fn from_source(
    source: &TemplateSource,
    catalog: Option<&CatalogTemplates>,
) -> Result<LoadedTemplate, ScaffoldError> {
    match source {
        TemplateSource::Dir { repo: r, subdir } => {
            if crate::git_remote::is_git_url(r) && !Path::new(r).exists() {
                let arg = if subdir.is_empty() {
                    r.clone()
                } else {
                    format!("{r}//{subdir}")
                };
                return resolve(&arg, None, Path::new("."));
            }
            let path = Path::new(r).join(subdir);
            load_path(&path, &path.display().to_string())
        }
        TemplateSource::Catalog { path, .. } => {
            let Some(cat) = catalog else {
                return Err(ScaffoldError::NotFound {
                    query: path.clone(),
                    suggestions: Vec::new(),
                });
            };
            if let Some(e) = cat
                .catalog
                .entities
                .iter()
                .find(|e| &e.source.file == path && e.kind_key() == "template")
            {
                return resolve(&e.entity_ref().key(), Some(cat), Path::new("."));
            }
            let name = path.rsplit('/').next().unwrap_or(path);
            resolve(name, Some(cat), Path::new("."))
        }
    }
}
