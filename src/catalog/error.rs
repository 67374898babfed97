//! Errors of the catalog core. Variants carry the data a message needs (path,
//! line, column, reference); `main` maps them to exit codes and adds hints.

use std::path::PathBuf;

/// Anything that stops the catalog from being read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// No catalog was configured anywhere.
    #[error("no catalog configured")]
    NoCatalog {
        /// The user config file that could name one (read or not), so the
        /// advice can name the real path (`XDG_CONFIG_HOME` honoured).
        user_config: PathBuf,
    },
    /// The configured path does not exist.
    #[error("catalog {path} does not exist")]
    Missing {
        /// The path as given.
        path: PathBuf,
    },
    /// The configured path exists but is not a directory.
    #[error("catalog {path} is not a directory")]
    NotADirectory {
        /// The path as given.
        path: PathBuf,
    },
    /// The catalog holds no descriptor at all: most likely the wrong
    /// directory, which must not pass for an empty catalog.
    #[error("no descriptors found under {location} (include globs: {})", include.join(", "))]
    NoDescriptors {
        /// The catalog location as shown.
        location: String,
        /// The include globs in force.
        include: Vec<String>,
    },
    /// A git operation failed.
    #[error("{action} {target}")]
    Git {
        /// What idp was doing (`cannot open git repository`).
        action: &'static str,
        /// The repo, rev or URL involved.
        target: String,
        /// The libgit2 error.
        #[source]
        source: git2::Error,
    },
    /// `--ref` named a revision that does not exist.
    #[error("revision '{rev}' not found in {repo}{hint}")]
    BadRevision {
        /// The revision as given.
        rev: String,
        /// The repository searched.
        repo: String,
        /// Extra context, e.g. that the clone is shallow.
        hint: String,
    },
    /// Git history was needed for a catalog that is not in a git repository.
    #[error("{what} needs a git repository, but {path} is not inside one")]
    NotGit {
        /// What needed it (`--ref v1`, `history`).
        what: String,
        /// The catalog path.
        path: PathBuf,
    },
    /// A remote catalog was never fetched and fetching is not allowed.
    #[error("cannot read catalog {url}: it has never been fetched, and fetching is turned off")]
    NeverFetched {
        /// The URL.
        url: String,
    },
    /// A remote catalog could not be cloned and there is no earlier copy.
    #[error("cannot fetch catalog {url}: {reason}")]
    Remote {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// `--at` names a moment before the first commit.
    #[error("the catalog has no commit at or before {when}: its history starts at {first}{}", if *shallow { " (the repository is a shallow clone; history is limited)" } else { "" })]
    BeforeHistory {
        /// The moment asked for.
        when: String,
        /// Date of the oldest commit reachable.
        first: String,
        /// Whether the repository is shallow.
        shallow: bool,
    },
    /// A configuration file is malformed.
    #[error("{file}:{line}:{column}: {message}")]
    Config {
        /// The config file.
        file: PathBuf,
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Reading a file or directory failed.
    #[error("cannot read {path}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl CatalogError {
    /// Wraps a libgit2 error with what was being done.
    pub fn git(action: &'static str, target: impl Into<String>, source: git2::Error) -> Self {
        CatalogError::Git {
            action,
            target: target.into(),
            source,
        }
    }

    /// The path does not exist, or is not a directory.
    pub fn missing(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        if path.exists() {
            CatalogError::NotADirectory { path }
        } else {
            CatalogError::Missing { path }
        }
    }

    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CatalogError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Why an entity argument did not resolve to exactly one entity.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// Nothing matched; `suggestions` are the nearest names.
    #[error("no entity matches '{query}'")]
    NotFound {
        /// What the user typed.
        query: String,
        /// Near names, best first.
        suggestions: Vec<String>,
    },
    /// Several entities matched a bare name.
    #[error("'{query}' is ambiguous")]
    Ambiguous {
        /// What the user typed.
        query: String,
        /// Full references of the matches.
        candidates: Vec<String>,
    },
    /// A path or remote matched no entity and no CODEOWNERS rule.
    #[error("no entity in the catalog belongs to {target}{remote}")]
    NoMatchForRepo {
        /// The path or URL asked about.
        target: String,
        /// `" (remote …)"` when known, for the message.
        remote: String,
    },
    /// The argument is not a valid reference.
    #[error("'{query}' is not a valid entity reference: {reason}")]
    Invalid {
        /// What the user typed.
        query: String,
        /// Parse error.
        reason: String,
    },
}
