//! Keeping a generated project on the golden path: `idp scaffold check`
//! (is there a newer template version?) and `idp scaffold update` (bring it
//! in by three-way merge).
//!
//! Both start from the project's `.idp/answers.yaml`: the template, where it
//! came from and the commit it was rendered from. An update renders the
//! recorded version and the newest one with the recorded answers into
//! temporary directories (new questions take their defaults), merges the
//! difference into the project ([`super::merge`]) and records the new
//! commit and answers. The project's own git history is the undo: an update
//! refuses a project with uncommitted changes unless forced.
//!
//! Nothing here prints; the command renders [`CheckReport`] and
//! [`UpdatePlan`].

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::answers::{AnswersFile, TemplateSource, ANSWERS_PATH};
use super::error::ScaffoldError;
use super::merge::{self, ConflictMode, Labels, MergeError, MergeOptions, MergePlan, Snapshot};
use super::version::{short_id, TemplateRepo, Version, VersionError};
use super::{render_into, LoadedTemplate, ScaffoldOptions};

/// What can stop a check or an update.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// `.idp/answers.yaml` is missing or unreadable.
    #[error("cannot read the answers file {}: {reason}", path.display())]
    Answers {
        /// The answers file.
        path: PathBuf,
        /// What went wrong, without the path (it is in the message).
        reason: String,
    },
    /// The answers file could not be written after an update.
    #[error("cannot write the answers file {}: {reason}", path.display())]
    WriteAnswers {
        /// The answers file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The answers file records no template commit.
    #[error("{} records no template commit (the template was not in git when the project was made), so there is no version to update from", path.display())]
    NoCommit {
        /// The answers file.
        path: PathBuf,
    },
    /// The template's repository or a version of it cannot be read.
    #[error(transparent)]
    Version(#[from] VersionError),
    /// The template's repository could not be opened or cloned.
    #[error("cannot open the template repository {repo}: {message}")]
    Source {
        /// The repository as recorded.
        repo: String,
        /// Why.
        message: String,
    },
    /// The catalog holding the template could not be opened.
    #[error("cannot open the catalog holding the template (recorded as {catalog}): {message}")]
    Catalog {
        /// The catalog location as recorded.
        catalog: String,
        /// Why.
        message: String,
    },
    /// The project has uncommitted changes.
    #[error("{} has uncommitted changes ({})", project.display(), summarize(paths))]
    Dirty {
        /// The project.
        project: PathBuf,
        /// Changed paths (first few).
        paths: Vec<String>,
    },
    /// The project is not in a git repository, so changes could not be undone.
    #[error("{} is not in a git repository, so an update could not be undone", project.display())]
    NotVersioned {
        /// The project.
        project: PathBuf,
    },
    /// Rendering a template version failed (the render error is the source:
    /// it decides the exit status, and error reports show it once).
    #[error("rendering the template at {version}")]
    Render {
        /// Which version.
        version: String,
        /// The render error.
        source: ScaffoldError,
    },
    /// Reading the rendered trees or writing the project failed.
    #[error(transparent)]
    Merge(#[from] MergeError),
}

/// What went wrong with the answers file, without its path (the message
/// names it already).
fn reason_of(e: ScaffoldError) -> String {
    match e {
        ScaffoldError::Io { error, .. } => error.to_string(),
        ScaffoldError::ValuesFile { message, .. } => message,
        other => other.to_string(),
    }
}

fn summarize(paths: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut s = paths
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > SHOWN {
        s.push_str(&format!(" and {} more", paths.len() - SHOWN));
    }
    s
}

/// Opens the git repository of a catalog location as recorded in the
/// answers file (a path, or a URL whose cached clone the caller knows), and
/// says where the catalog is inside it (`""`: the root).
pub type CatalogRepoOpener<'a> = &'a dyn Fn(&str) -> Result<(git2::Repository, String), String>;

/// The template a project was made from, in its git repository.
pub struct ProjectTemplate {
    /// The project directory.
    pub project: PathBuf,
    /// Its answers file.
    pub answers: AnswersFile,
    /// The template's repository.
    pub repo: TemplateRepo,
    /// The template file inside the template directory (Backstage), if any.
    pub file_name: Option<String>,
    /// The recorded version.
    pub recorded: Version,
    /// Kept alive while the template is used (a clone of a git URL).
    _checkout: Option<tempfile::TempDir>,
}

impl ProjectTemplate {
    /// Reads `project/.idp/answers.yaml` and finds the template's repository.
    pub fn open(project: &Path, open_catalog: CatalogRepoOpener) -> Result<Self, UpdateError> {
        let answers = AnswersFile::read(project).map_err(|e| UpdateError::Answers {
            path: project.join(ANSWERS_PATH),
            reason: reason_of(e),
        })?;
        let commit = answers
            .commit
            .clone()
            .ok_or_else(|| UpdateError::NoCommit {
                path: project.join(ANSWERS_PATH),
            })?;
        // The recorded path is the template directory, or (Backstage) the
        // template file in it.
        let (repo, rel, checkout) = match &answers.source {
            TemplateSource::Dir { repo, subdir } => {
                let (git, checkout) = open_dir_repo(repo)?;
                (TemplateRepo::new(git, ""), subdir.clone(), checkout)
            }
            TemplateSource::Catalog { catalog, path } => {
                let (git, catalog_dir) =
                    open_catalog(catalog).map_err(|message| UpdateError::Catalog {
                        catalog: catalog.clone(),
                        message,
                    })?;
                // The recorded path is relative to the catalog, which may be
                // a folder of its repository.
                let in_repo = Path::new(catalog_dir.trim_matches('/')).join(path);
                (
                    TemplateRepo::new(git, ""),
                    in_repo.to_string_lossy().into_owned(),
                    None,
                )
            }
        };
        let rel = PathBuf::from(rel.trim_matches('/'));
        let recorded_commit = repo.commit(&commit)?;
        let (dir, file_name) = if repo.is_file_at(recorded_commit, &rel) {
            (
                rel.parent().map(Path::to_path_buf).unwrap_or_default(),
                rel.file_name().map(|f| f.to_string_lossy().into_owned()),
            )
        } else {
            (rel, None)
        };
        let repo = repo.with_subdir(dir);
        let recorded = repo.describe(repo.commit(&commit)?);
        Ok(ProjectTemplate {
            project: project.to_path_buf(),
            answers,
            repo,
            file_name,
            recorded,
            _checkout: checkout,
        })
    }

    /// Whether a newer template version exists.
    pub fn check(&self) -> Result<CheckReport, UpdateError> {
        let latest = self.repo.latest()?;
        let newer = self.repo.is_newer(self.recorded.commit, latest.commit)?;
        Ok(CheckReport {
            project: self.project.clone(),
            template: self.answers.template.clone(),
            recorded: self.recorded.clone(),
            latest,
            newer,
        })
    }

    /// Renders the recorded and the newest version and plans the merge.
    /// Refuses a dirty project unless `opts.force` (a dry run never refuses).
    pub fn plan(
        &self,
        opts: &UpdateOptions,
        catalog: Option<&crate::catalog::Catalog>,
    ) -> Result<UpdatePlan, UpdateError> {
        let latest = self.repo.latest()?;
        if !self.repo.is_newer(self.recorded.commit, latest.commit)? {
            return Ok(UpdatePlan {
                project: self.project.clone(),
                from: self.recorded.clone(),
                to: self.recorded.clone(),
                merge: MergePlan::default(),
                new_answers: self.answers.clone(),
                warnings: Vec::new(),
            });
        }
        if !opts.force && !opts.dry_run {
            ensure_clean(&self.project)?;
        }
        let target = latest;
        let work = tempfile::Builder::new()
            .prefix("idp-update-")
            .tempdir()
            .map_err(|e| MergeError::Io {
                action: "create a temporary directory",
                path: std::env::temp_dir(),
                error: e,
            })?;
        let old = self.render_version(&self.recorded, work.path(), "old", opts, catalog)?;
        let new = self.render_version(&target, work.path(), "new", opts, catalog)?;
        let merge_opts = MergeOptions {
            conflict: opts.conflict,
            labels: Labels {
                ours: "project".into(),
                base: format!("template {}", self.recorded),
                theirs: format!("template {target}"),
            },
        };
        let plan = merge::plan(&old.snapshot, &new.snapshot, &self.project, &merge_opts)?;
        let new_answers = AnswersFile {
            template: self.answers.template.clone(),
            source: self.answers.source.clone(),
            commit: Some(target.commit.to_string()),
            answers: new.answers,
        };
        Ok(UpdatePlan {
            project: self.project.clone(),
            from: self.recorded.clone(),
            to: target,
            merge: plan,
            new_answers,
            warnings: [old.warnings, new.warnings].concat(),
        })
    }

    /// Materializes the template at `version` and renders it with the
    /// recorded answers.
    fn render_version(
        &self,
        version: &Version,
        work: &Path,
        label: &str,
        opts: &UpdateOptions,
        catalog: Option<&crate::catalog::Catalog>,
    ) -> Result<Rendered, UpdateError> {
        let src = work.join(format!("{label}-template"));
        let out = work.join(format!("{label}-render"));
        self.repo.materialize(version.commit, &src)?;
        std::fs::create_dir_all(&out).map_err(|e| MergeError::Io {
            action: "create directory",
            path: out.clone(),
            error: e,
        })?;
        let render_err = |source| UpdateError::Render {
            version: version.to_string(),
            source,
        };
        let template = self.loaded_at(&src, version).map_err(render_err)?;
        let mut render_opts = ScaffoldOptions {
            interactive: false,
            defaults: true,
            trust: opts.trust,
            skip_unknown_actions: opts.skip_unknown_actions,
            fuel: opts.fuel,
            max_output_bytes: opts.max_output_bytes,
            env: opts.env.clone(),
            ..ScaffoldOptions::default()
        };
        // Private and computed cookiecutter variables (`_x`, `__x`) are the
        // template's business: the new version computes them afresh.
        for (k, v) in &self.answers.answers {
            if !k.starts_with('_') {
                render_opts.values.insert(k.clone(), v.clone());
            }
        }
        for (k, v) in &opts.values {
            render_opts.values.insert(k.clone(), v.clone());
        }
        let outcome = render_into(&template, &render_opts, catalog, &out).map_err(render_err)?;
        let snapshot = Snapshot::read(&outcome.project_dir)?;
        Ok(Rendered {
            snapshot,
            answers: outcome.answers,
            warnings: outcome.warnings,
        })
    }

    /// The template as it was at a version, materialized in `dir`.
    fn loaded_at(&self, dir: &Path, version: &Version) -> Result<LoadedTemplate, ScaffoldError> {
        let path = match &self.file_name {
            Some(file) => dir.join(file),
            None => dir.to_path_buf(),
        };
        let mut t = super::source::load_path(&path, &path.to_string_lossy())?;
        t.name = self.answers.template.clone();
        t.source = self.answers.source.clone();
        t.commit = Some(version.commit.to_string());
        Ok(t)
    }
}

struct Rendered {
    snapshot: Snapshot,
    answers: Map<String, Value>,
    warnings: Vec<String>,
}

/// Opens a template repository recorded as a path or a git URL (cloned into
/// a temporary directory, which the caller keeps alive).
fn open_dir_repo(repo: &str) -> Result<(git2::Repository, Option<tempfile::TempDir>), UpdateError> {
    if crate::git_remote::is_git_url(repo) {
        let (dir, _) = super::repo::clone(repo, None).map_err(|e| UpdateError::Source {
            repo: repo.to_string(),
            message: e.to_string(),
        })?;
        let git = git2::Repository::open(dir.path()).map_err(|e| UpdateError::Source {
            repo: repo.to_string(),
            message: e.message().to_string(),
        })?;
        return Ok((git, Some(dir)));
    }
    let git = git2::Repository::open(repo).map_err(|_| VersionError::NotARepo {
        path: PathBuf::from(repo),
    })?;
    Ok((git, None))
}

/// Fails when the project's git repository has uncommitted changes
/// (untracked files included, ignored ones not) under the project.
pub fn ensure_clean(project: &Path) -> Result<(), UpdateError> {
    let not_versioned = || UpdateError::NotVersioned {
        project: project.to_path_buf(),
    };
    let repo = git2::Repository::discover(project).map_err(|_| not_versioned())?;
    let workdir = repo.workdir().ok_or_else(not_versioned)?;
    let workdir = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let project_abs = project
        .canonicalize()
        .unwrap_or_else(|_| project.to_path_buf());
    let prefix = project_abs
        .strip_prefix(&workdir)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut status_opts = git2::StatusOptions::new();
    status_opts
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    if !prefix.as_os_str().is_empty() {
        status_opts.pathspec(prefix.to_string_lossy().replace('\\', "/"));
    }
    let statuses = repo
        .statuses(Some(&mut status_opts))
        .map_err(|e| UpdateError::Source {
            repo: workdir.display().to_string(),
            message: e.message().to_string(),
        })?;
    let paths: Vec<String> = statuses
        .iter()
        .filter(|s| s.status() != git2::Status::CURRENT)
        .filter_map(|s| s.path().map(str::to_string))
        .collect();
    if paths.is_empty() {
        Ok(())
    } else {
        Err(UpdateError::Dirty {
            project: project.to_path_buf(),
            paths,
        })
    }
}

/// How to update.
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    /// Inline markers or `.rej` files.
    pub conflict: ConflictMode,
    /// Update even with uncommitted changes (or outside git).
    pub force: bool,
    /// Only plan.
    pub dry_run: bool,
    /// Run hooks while rendering the two versions.
    pub trust: bool,
    /// Warn about unknown Backstage actions instead of failing.
    pub skip_unknown_actions: bool,
    /// Values overriding the recorded answers (`--set`, `--values`), e.g.
    /// secrets that were never recorded.
    pub values: Map<String, Value>,
    /// Fuel per render.
    pub fuel: u64,
    /// Output limit in bytes, per rendered file and per project.
    pub max_output_bytes: u64,
    /// The environment the caller resolved (`IDP_PYTHON` for hooks,
    /// `USER` for `user.ref`), as in [`ScaffoldOptions::env`].
    pub env: crate::vars::Vars,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions {
            conflict: ConflictMode::Inline,
            force: false,
            dry_run: false,
            trust: false,
            skip_unknown_actions: false,
            values: Map::new(),
            fuel: super::DEFAULT_FUEL,
            max_output_bytes: super::DEFAULT_MAX_OUTPUT_BYTES,
            env: crate::vars::Vars::default(),
        }
    }
}

/// The answer of `scaffold check`.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The project.
    pub project: PathBuf,
    /// The template's name.
    pub template: String,
    /// The version the project was made from (or last updated to).
    pub recorded: Version,
    /// The newest version.
    pub latest: Version,
    /// Whether `latest` is newer than `recorded`.
    pub newer: bool,
}

impl CheckReport {
    /// A plain, serializable form.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "project": self.project.display().to_string(),
            "template": self.template,
            "recorded": version_json(&self.recorded),
            "latest": version_json(&self.latest),
            "update_available": self.newer,
        })
    }
}

/// A version as JSON: `{"commit": …, "tag": …}`.
pub fn version_json(v: &Version) -> Value {
    serde_json::json!({ "commit": v.commit.to_string(), "short": short_id(&v.commit), "tag": v.tag })
}

/// What an update does.
#[derive(Debug, Clone)]
pub struct UpdatePlan {
    /// The project.
    pub project: PathBuf,
    /// The version the project is at.
    pub from: Version,
    /// The version it moves to (= `from` when already up to date).
    pub to: Version,
    /// The file changes.
    pub merge: MergePlan,
    /// The answers file after the update.
    pub new_answers: AnswersFile,
    /// Render warnings (hooks skipped, …).
    pub warnings: Vec<String>,
}

impl UpdatePlan {
    /// Whether the project is already at the newest version.
    pub fn up_to_date(&self) -> bool {
        self.from.commit == self.to.commit
    }

    /// Writes the changes and the new answers file.
    pub fn apply(&self) -> Result<(), UpdateError> {
        self.merge.apply(&self.project)?;
        if !self.up_to_date() {
            self.new_answers
                .write(&self.project)
                .map_err(|e| UpdateError::WriteAnswers {
                    path: self.project.join(ANSWERS_PATH),
                    reason: reason_of(e),
                })?;
        }
        Ok(())
    }
}

/// What `update` needs from its caller: the catalog's git repository and
/// the catalog itself (both found the way every command finds them), and
/// where warnings go.
pub trait UpdateHost {
    /// Opens the git repository of a catalog location as recorded in the
    /// answers file (see [`CatalogRepoOpener`]).
    fn open_catalog_repo(&self, recorded: &str) -> Result<(git2::Repository, String), String>;
    /// The catalog a Backstage template may read (pickers, `catalog:write`),
    /// given where the template came from (None: none).
    fn catalog(&mut self, source: &TemplateSource) -> Option<&crate::catalog::Catalog>;
    /// A warning for the user (render warnings, before anything is written).
    fn warn(&mut self, message: &str);
}

/// An update to run (`idp scaffold update`).
#[derive(Debug, Clone)]
pub struct UpdateRequest {
    /// The project directory (holding `.idp/answers.yaml`).
    pub project: PathBuf,
    /// How to update.
    pub options: UpdateOptions,
}

/// An update done (or, for a dry run, planned).
#[derive(Debug, Clone)]
pub struct Updated {
    /// What changed.
    pub plan: UpdatePlan,
    /// The template's name as recorded.
    pub template: String,
    /// Whether nothing was written.
    pub dry_run: bool,
}

/// Why an update stopped.
#[derive(Debug, thiserror::Error)]
pub enum UpdateFailed {
    /// Before anything was written.
    #[error(transparent)]
    Plan(#[from] UpdateError),
    /// While writing the planned changes.
    #[error("updating {}", project.display())]
    Apply {
        /// The project.
        project: PathBuf,
        /// What failed (boxed: the error is large and rare).
        source: Box<UpdateError>,
    },
}

/// Opens the project's template, renders both versions, merges, and (unless
/// a dry run) writes the result.
pub fn update(req: UpdateRequest, host: &mut dyn UpdateHost) -> Result<Updated, UpdateFailed> {
    let pt = {
        let host = &*host;
        let opener = |recorded: &str| host.open_catalog_repo(recorded);
        ProjectTemplate::open(&req.project, &opener)?
    };
    let plan = {
        let catalog = host.catalog(&pt.answers.source);
        pt.plan(&req.options, catalog)?
    };
    for w in &plan.warnings {
        host.warn(w);
    }
    if !req.options.dry_run {
        plan.apply().map_err(|source| UpdateFailed::Apply {
            project: plan.project.clone(),
            source: Box::new(source),
        })?;
    }
    Ok(Updated {
        template: pt.answers.template.clone(),
        dry_run: req.options.dry_run,
        plan,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git_repo(dir: &Path) -> git2::Repository {
        git2::Repository::init(dir).unwrap()
    }

    fn commit_all(repo: &git2::Repository) {
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::new("T", "t@example.com", &git2::Time::new(1, 0)).unwrap();
        let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents)
            .unwrap();
    }

    #[test]
    fn clean_dirty_and_unversioned_projects() {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("p");
        std::fs::create_dir_all(&project).unwrap();
        assert!(matches!(
            ensure_clean(&project),
            Err(UpdateError::NotVersioned { .. })
        ));
        let repo = git_repo(&project);
        std::fs::write(project.join("a.txt"), "a").unwrap();
        commit_all(&repo);
        ensure_clean(&project).unwrap();
        std::fs::write(project.join("a.txt"), "changed").unwrap();
        std::fs::write(project.join("new.txt"), "new").unwrap();
        match ensure_clean(&project) {
            Err(UpdateError::Dirty { paths, .. }) => {
                assert_eq!(paths, vec!["a.txt".to_string(), "new.txt".to_string()])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn dirty_check_is_limited_to_the_project_in_a_monorepo() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let repo = git_repo(root);
        std::fs::create_dir_all(root.join("svc")).unwrap();
        std::fs::write(root.join("svc/a.txt"), "a").unwrap();
        commit_all(&repo);
        std::fs::write(root.join("elsewhere.txt"), "x").unwrap();
        ensure_clean(&root.join("svc")).unwrap();
    }

    #[test]
    fn missing_answers_file_names_the_path() {
        let tmp = tempfile::tempdir().unwrap();
        let err = ProjectTemplate::open(tmp.path(), &|_| Err("unused".into()))
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(matches!(err, UpdateError::Answers { .. }));
        assert!(msg.contains(".idp/answers.yaml"), "{msg}");
    }
}
