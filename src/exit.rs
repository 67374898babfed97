//! Exit codes (the contract scripts rely on) and the hints shown with errors.

use crate::catalog::{CatalogError, LookupError};
use crate::commands::UsageError;
use idp::init::InitError;
use idp::scaffold::update::UpdateError;
use idp::scaffold::ScaffoldError;

/// Process exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success (also: a closed output pipe).
    Ok = 0,
    /// A check failed (validate found errors).
    Failed = 1,
    /// Usage error or invalid input.
    Usage = 2,
    /// Entity not found or ambiguous.
    NotFound = 3,
    /// Catalog or config cannot be read.
    Catalog = 4,
    /// `scaffold check`: a newer template version exists (copier's convention).
    NewerVersion = 5,
}

/// The exit code for an error.
pub fn classify(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return Exit::Ok;
            }
        }
        if let Some(e) = cause.downcast_ref::<LookupError>() {
            return match e {
                LookupError::Invalid { .. } => Exit::Usage,
                _ => Exit::NotFound,
            };
        }
        if cause.downcast_ref::<UsageError>().is_some() {
            return Exit::Usage;
        }
        if let Some(e) = cause.downcast_ref::<UpdateError>() {
            match e {
                UpdateError::Dirty { .. } | UpdateError::NotVersioned { .. } => return Exit::Usage,
                // the render error underneath says what went wrong
                UpdateError::Render { .. } => continue,
                _ => return Exit::Catalog,
            }
        }
        if let Some(e) = cause.downcast_ref::<ScaffoldError>() {
            return scaffold_exit(e);
        }
        if let Some(e) = cause.downcast_ref::<InitError>() {
            return match e {
                InitError::Io { .. } | InitError::Git { .. } => Exit::Catalog,
                _ => Exit::Usage,
            };
        }
        if cause
            .downcast_ref::<idp::integrations::config::ConfigError>()
            .is_some()
        {
            return Exit::Catalog;
        }
        if let Some(c) = cause.downcast_ref::<CatalogError>() {
            return match c {
                CatalogError::BadRevision { .. }
                | CatalogError::NotGit { .. }
                | CatalogError::BeforeHistory { .. } => Exit::Usage,
                _ => Exit::Catalog,
            };
        }
    }
    Exit::Catalog
}

/// Exit codes of scaffolding errors.
fn scaffold_exit(e: &ScaffoldError) -> Exit {
    match e {
        ScaffoldError::NotFound { .. } => Exit::NotFound,
        ScaffoldError::Hook { .. } => Exit::Failed,
        ScaffoldError::Io { .. } | ScaffoldError::Git { .. } => Exit::Catalog,
        _ => Exit::Usage,
    }
}

/// What the user can do about an error.
pub fn hints(err: &anyhow::Error) -> Vec<String> {
    let mut out = Vec::new();
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<LookupError>() {
            match e {
                LookupError::NotFound { suggestions, .. } if !suggestions.is_empty() => {
                    out.push(format!("did you mean: {}?", suggestions.join(", ")));
                }
                LookupError::NotFound { .. } => {
                    out.push("`idp list` shows what the catalog holds".into());
                }
                LookupError::Ambiguous { candidates, .. } => {
                    out.push(format!("it matches: {}", candidates.join(", ")));
                    out.push("name one with kind:namespace/name".into());
                }
                LookupError::NoMatchForRepo { .. } => out.push(
                    "annotate the entity with github.com/project-slug: <org>/<repo> or backstage.io/source-location, or add a CODEOWNERS file".into(),
                ),
                LookupError::Invalid { .. } => {}
            }
        }
        if let Some(e) = cause.downcast_ref::<CatalogError>() {
            match e {
                CatalogError::NoCatalog => {
                    out.push("tell idp where your catalog is, in one of these ways:".into());
                    out.push(
                        "  idp --catalog <dir-or-git-url> …                 (this command)".into(),
                    );
                    out.push(
                        "  export IDP_CATALOG=<dir-or-git-url>               (this shell)".into(),
                    );
                    out.push("  echo 'catalog: <dir-or-git-url>' >> ~/.config/idp/config.yaml   (always)".into());
                    out.push("  or run idp inside a git repository that has an idp.yaml".into());
                }
                CatalogError::BadRevision { .. } => {
                    out.push("`git log --oneline` or `git tag` list what exists".into())
                }
                CatalogError::Remote { .. } => out.push(
                    "check the URL and your network; --offline uses the last fetched copy".into(),
                ),
                _ => {}
            }
        }
        if let Some(ScaffoldError::NotFound { suggestions, .. }) =
            cause.downcast_ref::<ScaffoldError>()
        {
            if suggestions.is_empty() {
                out.push("`idp scaffold list` shows the catalog's templates; a path or git URL works too".into());
            } else {
                out.push(format!("did you mean: {}?", suggestions.join(", ")));
            }
        }
        if let Some(e) = cause.downcast_ref::<InitError>() {
            match e {
                InitError::NotEmpty { .. } => out.push(
                    "pick a new directory, or add --force to add the files anyway (existing files are never overwritten)".into(),
                ),
                InitError::Exists { .. } => {
                    out.push("nothing was written; move that file away or pick another directory".into())
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        assert_eq!(Exit::Ok as i32, 0);
        assert_eq!(Exit::Failed as i32, 1);
        assert_eq!(Exit::Usage as i32, 2);
        assert_eq!(Exit::NotFound as i32, 3);
        assert_eq!(Exit::Catalog as i32, 4);
        assert_eq!(Exit::NewerVersion as i32, 5);
    }

    #[test]
    fn classifies_errors() {
        let e = anyhow::Error::new(LookupError::NotFound {
            query: "x".into(),
            suggestions: vec![],
        });
        assert_eq!(classify(&e), Exit::NotFound);
        let e = anyhow::Error::new(CatalogError::NoCatalog);
        assert_eq!(classify(&e), Exit::Catalog);
        let e = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(classify(&e), Exit::Ok);
        let e = anyhow::Error::new(UsageError("bad".into()));
        assert_eq!(classify(&e), Exit::Usage);
    }
}
