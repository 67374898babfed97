//! `.idp/answers.yaml`: what a generated project was made from (template,
//! where it came from, the template's commit) and the answers given, so
//! `idp scaffold update` can re-render it later. Secrets are never written.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::ScaffoldError;

/// Path of the answers file inside a project.
pub const ANSWERS_PATH: &str = ".idp/answers.yaml";

/// Where a template came from, so it can be found again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum TemplateSource {
    /// A `kind: Template` entity in the catalog.
    Catalog {
        /// The catalog location as given (path or URL).
        catalog: String,
        /// The template file's path inside the catalog repository.
        path: String,
    },
    /// A template directory (cookiecutter, or a Template file outside the catalog).
    Dir {
        /// The git repository root (absolute path) or URL; a plain directory
        /// when not in git.
        repo: String,
        /// The template directory inside it (`""`: the root).
        subdir: String,
    },
}

/// The contents of `.idp/answers.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswersFile {
    /// Template name (`template:default/node-service`, or the cookiecutter
    /// directory's name).
    pub template: String,
    /// Where it came from.
    pub source: TemplateSource,
    /// Commit of the template's git repository when rendered (None: not in git).
    #[serde(default)]
    pub commit: Option<String>,
    /// The answers, without secrets.
    #[serde(default)]
    pub answers: serde_json::Map<String, serde_json::Value>,
}

impl AnswersFile {
    /// The answers file's path in `project`.
    pub fn path(project: &Path) -> PathBuf {
        project.join(ANSWERS_PATH)
    }

    /// Reads `project/.idp/answers.yaml`.
    pub fn read(project: &Path) -> Result<Self, ScaffoldError> {
        let path = Self::path(project);
        let text = std::fs::read_to_string(&path).map_err(|e| ScaffoldError::io(&path, e))?;
        crate::yaml::from_str(&text).map_err(|e| ScaffoldError::ValuesFile {
            path,
            message: e.to_string(),
        })
    }

    /// Writes `project/.idp/answers.yaml` (creating `.idp/`).
    pub fn write(&self, project: &Path) -> Result<(), ScaffoldError> {
        let path = Self::path(project);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| ScaffoldError::io(dir, e))?;
        }
        let yaml = crate::yaml::to_string(self).map_err(|e| ScaffoldError::InvalidValue {
            name: "answers".into(),
            message: e.to_string(),
        })?;
        let text = format!(
            "# Written by `idp scaffold`; `idp scaffold update` reads it. Secrets are never stored here.\n{yaml}"
        );
        std::fs::write(&path, text).map_err(|e| ScaffoldError::io(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = tempfile::tempdir().unwrap();
        let mut answers = serde_json::Map::new();
        answers.insert("name".into(), serde_json::json!("svc"));
        let a = AnswersFile {
            template: "python-lib".into(),
            source: TemplateSource::Dir {
                repo: "/src/templates".into(),
                subdir: "python-lib".into(),
            },
            commit: Some("abc".into()),
            answers,
        };
        a.write(t.path()).unwrap();
        assert_eq!(AnswersFile::read(t.path()).unwrap(), a);
    }
}
