//! `idp init`: a new catalog repository that works at once — a commented
//! `idp.yaml`, a few example entities (a group, a user, a system, a
//! component, an API) and a first git commit made with git2.
//!
//! It owns the starter files and the safety rules: a non-empty directory is
//! refused unless forced, and an existing file is never overwritten (every
//! path is checked before the first byte is written, so a refusal leaves
//! nothing half-done). It does not print; the command reports the result.

use std::path::{Path, PathBuf};

/// The starter files, as `(path relative to the catalog root, content)`.
pub const FILES: &[(&str, &str)] = &[
    ("idp.yaml", IDP_YAML),
    ("org/team.yaml", ORG_YAML),
    ("systems/example.yaml", SYSTEM_YAML),
    ("components/hello-service/catalog-info.yaml", COMPONENT_YAML),
];

/// The entity the "try next" commands use.
pub const EXAMPLE_ENTITY: &str = "hello-service";

const IDP_YAML: &str = "\
# idp catalog settings. Everything here is optional; delete what you do not need.
# Docs: `idp --help`, `man idp`.

# Which files hold descriptors (globs relative to this file; * stays in one
# directory, ** crosses them). Default: every *.yaml/*.yml whose documents have apiVersion and kind.
# include: [\"**/*.yaml\", \"**/*.yml\"]

# Files to skip, e.g. template skeletons or OpenAPI documents.
# exclude: [\"templates/*/skeleton/**\", \"openapi/**\"]

# Kinds Backstage does not know must be declared (optionally with a schema).
# customKinds:
#   - kind: Pipeline
#     apiVersion: example.com/v1      # optional: only this apiVersion
#     schema: schemas/pipeline.json   # optional: JSON Schema for the entity
";

const ORG_YAML: &str = "\
# Who owns what: teams are Groups, people are Users.
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: my-team
  description: The team that owns the example service.
spec:
  type: team
  profile:
    displayName: My Team
    email: my-team@example.com
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: jane.doe
spec:
  profile:
    displayName: Jane Doe
    email: jane.doe@example.com
  memberOf: [my-team]
";

const SYSTEM_YAML: &str = "\
# A System groups the components and APIs that deliver one capability.
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: example
  title: Example System
  description: Everything the example service needs.
spec:
  owner: my-team
";

const COMPONENT_YAML: &str = "\
# One catalog-info.yaml per service, usually kept in the service's own repo.
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: hello-service
  title: Hello Service
  description: Says hello over HTTP.
  tags: [rust, http]
  links:
    - url: https://example.com/hello-service/runbook
      title: Runbook
spec:
  type: service
  lifecycle: experimental
  owner: my-team
  system: example
  providesApis: [hello-api]
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: hello-api
  title: Hello API
  description: The HTTP API of the hello service.
spec:
  type: openapi
  lifecycle: experimental
  owner: my-team
  system: example
  definition: |
    openapi: 3.0.3
    info:
      title: Hello API
      version: 1.0.0
    paths:
      /hello:
        get:
          responses:
            \"200\":
              description: A greeting.
";

/// Why `init` refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The directory has files and `--force` was not given.
    #[error("{} is not empty", dir.display())]
    NotEmpty {
        /// The directory.
        dir: PathBuf,
    },
    /// A starter file already exists (with `--force`); nothing was written.
    #[error("{} already exists", path.display())]
    Exists {
        /// The existing file.
        path: PathBuf,
    },
    /// The target exists and is not a directory.
    #[error("{} exists and is not a directory", path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// Reading or writing a file failed.
    #[error("cannot write {}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Making the repository or the commit failed.
    #[error("cannot commit in {}", dir.display())]
    Git {
        /// The repository directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: git2::Error,
    },
}

/// What `init` did.
#[derive(Debug)]
pub struct Initialized {
    /// Files written, relative to the catalog root.
    pub files: Vec<&'static str>,
    /// Entities in them.
    pub entities: usize,
    /// The commit made.
    pub commit: String,
    /// Whether a new git repository was created (else an existing one got the commit).
    pub new_repository: bool,
}

/// Creates the starter catalog in `dir` (created when missing).
pub fn init(dir: &Path, force: bool) -> Result<Initialized, InitError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InitError::Io { path, source }
    };
    if dir.exists() {
        if !dir.is_dir() {
            return Err(InitError::NotADirectory { path: dir.into() });
        }
        let non_empty = std::fs::read_dir(dir).map_err(io(dir))?.next().is_some();
        if non_empty && !force {
            return Err(InitError::NotEmpty { dir: dir.into() });
        }
    }
    // Every path is checked before anything is written.
    for (rel, _) in FILES {
        let path = dir.join(rel);
        if path.symlink_metadata().is_ok() {
            return Err(InitError::Exists { path });
        }
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    for (rel, content) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        // create_new: a file appearing meanwhile is still not overwritten.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::AlreadyExists => InitError::Exists { path: path.clone() },
                _ => InitError::Io {
                    path: path.clone(),
                    source,
                },
            })?;
        std::io::Write::write_all(&mut file, content.as_bytes()).map_err(io(&path))?;
    }
    let git = |source| InitError::Git {
        dir: dir.into(),
        source,
    };
    let (repo, new_repository) = match git2::Repository::open(dir) {
        Ok(repo) => (repo, false),
        Err(_) => {
            let mut opts = git2::RepositoryInitOptions::new();
            opts.initial_head("main");
            (git2::Repository::init_opts(dir, &opts).map_err(git)?, true)
        }
    };
    let commit = commit(&repo).map_err(git)?;
    Ok(Initialized {
        files: FILES.iter().map(|(p, _)| *p).collect(),
        entities: FILES
            .iter()
            .map(|(_, c)| c.matches("\nkind: ").count())
            .sum(),
        commit,
        new_repository,
    })
}

/// Commits the starter files (only them) on top of HEAD, if any.
fn commit(repo: &git2::Repository) -> Result<String, git2::Error> {
    let mut index = repo.index()?;
    for (rel, _) in FILES {
        index.add_path(Path::new(rel))?;
    }
    index.write()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    // The user's git identity when configured, else a neutral one.
    let sig = repo
        .signature()
        .or_else(|_| git2::Signature::now("idp", "idp@localhost"))?;
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let oid = repo.commit(
        Some("HEAD"),
        &sig,
        &sig,
        "Start the software catalog (idp init)",
        &tree,
        &parents,
    )?;
    Ok(oid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_files_and_a_commit() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("catalog");
        let done = init(&dir, false).unwrap();
        assert_eq!(done.entities, 5);
        assert!(done.new_repository);
        let repo = git2::Repository::open(&dir).unwrap();
        let head = repo.head().unwrap().peel_to_commit().unwrap();
        assert_eq!(head.id().to_string(), done.commit);
        assert!(repo.statuses(None).unwrap().is_empty());
    }

    #[test]
    fn refuses_a_non_empty_directory_and_never_overwrites() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
        assert!(matches!(
            init(tmp.path(), false),
            Err(InitError::NotEmpty { .. })
        ));
        std::fs::write(tmp.path().join("idp.yaml"), "mine").unwrap();
        assert!(matches!(
            init(tmp.path(), true),
            Err(InitError::Exists { .. })
        ));
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("idp.yaml")).unwrap(),
            "mine"
        );
        assert!(!tmp.path().join("org").exists(), "nothing half-written");
    }
}
