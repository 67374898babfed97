//! Template CI (`idp scaffold test`): render a template once per values
//! file, without prompting, into a temporary directory, and validate the
//! `catalog-info.yaml` descriptors it generates the way `idp validate`
//! does — and against the catalog: references resolve (the owner exists)
//! and names are not already taken.
//!
//! [`validate_generated`] is the descriptor check on its own, for any
//! directory a template produced; the checking itself is
//! [`crate::check::new_descriptors`], shared with `idp scaffold` and `idp
//! validate`. Nothing here prints.

use std::path::{Path, PathBuf};

use super::error::ScaffoldError;
use super::{render_into, LoadedTemplate, ScaffoldOptions};
use crate::catalog::Catalog;
use crate::check::{Against, Placement};

/// File names of generated descriptors.
pub const DESCRIPTOR_NAMES: &[&str] = &["catalog-info.yaml", "catalog-info.yml"];

/// One problem in a generated descriptor.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DescriptorProblem {
    /// The descriptor, relative to the generated project.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// Stable code (`dangling-reference`, `duplicate-entity`, …).
    pub code: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for DescriptorProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

/// What the descriptors of a generated project look like to the catalog.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct GeneratedCheck {
    /// Descriptor files found, relative to the project.
    pub descriptors: Vec<String>,
    /// Entities they define (`component:default/x`).
    pub entities: Vec<String>,
    /// Errors.
    pub errors: Vec<DescriptorProblem>,
    /// Warnings.
    pub warnings: Vec<DescriptorProblem>,
}

/// Finds the `catalog-info.yaml` files under `project` (not in `.git/`)
/// and validates them, against `catalog` when there is one.
/// `today` decides which scorecard exemptions have expired.
pub fn validate_generated(
    project: &Path,
    catalog: Option<&Catalog>,
    today: chrono::NaiveDate,
) -> Result<GeneratedCheck, ScaffoldError> {
    let mut found = Vec::new();
    find_descriptors(project, Path::new(""), &mut found)?;
    found.sort();
    let mut check = GeneratedCheck {
        descriptors: found.iter().map(|p| slash(p)).collect(),
        ..Default::default()
    };
    if found.is_empty() {
        return Ok(check);
    }
    let no_files = |_: &str| None;
    let against = catalog.map(|catalog| Against {
        catalog,
        read: &no_files,
    });
    let checked = crate::check::new_descriptors(against, project, &found, Placement::Beside, today)
        .map_err(|e| ScaffoldError::InvalidValue {
            name: "catalog-info.yaml".into(),
            message: e.to_string(),
        })?;
    check.entities = checked.entities;
    let report = checked.report;
    let convert = |p: &crate::catalog::Problem| DescriptorProblem {
        file: p.file.clone(),
        line: p.line,
        code: p.code.to_string(),
        message: p.message.clone(),
    };
    check.errors = report.errors.iter().map(convert).collect();
    check.warnings = report.warnings.iter().map(convert).collect();
    Ok(check)
}

fn slash(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

fn find_descriptors(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<(), ScaffoldError> {
    let dir = root.join(rel);
    let entries = std::fs::read_dir(&dir).map_err(|e| ScaffoldError::io(&dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ScaffoldError::io(&dir, e))?;
        let name = entry.file_name();
        let kind = entry
            .file_type()
            .map_err(|e| ScaffoldError::io(entry.path(), e))?;
        if kind.is_dir() && name != ".git" {
            find_descriptors(root, &rel.join(&name), out)?;
        } else if kind.is_file() && DESCRIPTOR_NAMES.iter().any(|n| name == *n) {
            out.push(rel.join(&name));
        }
    }
    Ok(())
}

/// The outcome of one values file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FixtureResult {
    /// The values file, as given.
    pub values: String,
    /// Whether it rendered and every generated descriptor is valid.
    pub passed: bool,
    /// Why rendering failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The generated descriptors and what is wrong with them.
    #[serde(flatten)]
    pub check: GeneratedCheck,
    /// Files the template produced.
    pub files: usize,
}

/// Renders `template` with the values of `values_file` (on top of `base`,
/// whose `values` act like `--set` and win) into a temporary directory and
/// validates the result. A template without any `catalog-info.yaml` fails:
/// there is nothing to register.
pub fn run_fixture(
    template: &LoadedTemplate,
    values_file: &Path,
    base: &ScaffoldOptions,
    catalog: Option<&Catalog>,
) -> FixtureResult {
    let mut result = FixtureResult {
        values: values_file.display().to_string(),
        passed: false,
        error: None,
        check: GeneratedCheck::default(),
        files: 0,
    };
    match render_fixture(template, values_file, base, catalog) {
        Ok((check, files)) => {
            result.passed = check.errors.is_empty() && !check.descriptors.is_empty();
            if check.descriptors.is_empty() {
                result.error = Some("the template generated no catalog-info.yaml".into());
            }
            result.check = check;
            result.files = files;
        }
        Err(e) => result.error = Some(e.to_string()),
    }
    result
}

fn render_fixture(
    template: &LoadedTemplate,
    values_file: &Path,
    base: &ScaffoldOptions,
    catalog: Option<&Catalog>,
) -> Result<(GeneratedCheck, usize), ScaffoldError> {
    let mut opts = ScaffoldOptions {
        values: Default::default(),
        interactive: false,
        defaults: true,
        dry_run: false,
        publish: false,
        ..base.clone()
    };
    opts.add_values_file(values_file)?;
    for (k, v) in &base.values {
        opts.values.insert(k.clone(), v.clone());
    }
    let tmp = tempfile::Builder::new()
        .prefix("idp-scaffold-test-")
        .tempdir()
        .map_err(|e| ScaffoldError::io(std::env::temp_dir(), e))?;
    let outcome = render_into(template, &opts, catalog, tmp.path())?;
    let check = validate_generated(&outcome.project_dir, catalog, base.today)?;
    Ok((check, outcome.files.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_descriptors_and_skips_git() {
        let tmp = tempfile::tempdir().unwrap();
        for p in [
            "catalog-info.yaml",
            "svc/catalog-info.yml",
            ".git/catalog-info.yaml",
            "x.yaml",
        ] {
            let full = tmp.path().join(p);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, "x: 1\n").unwrap();
        }
        let mut found = Vec::new();
        find_descriptors(tmp.path(), Path::new(""), &mut found).unwrap();
        found.sort();
        assert_eq!(
            found,
            vec![
                PathBuf::from("catalog-info.yaml"),
                PathBuf::from("svc/catalog-info.yml")
            ]
        );
    }

    #[test]
    fn validates_without_a_catalog() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("catalog-info.yaml"),
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: Bad Name!\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
        )
        .unwrap();
        let check = validate_generated(tmp.path(), None, chrono::Utc::now().date_naive()).unwrap();
        assert_eq!(check.descriptors, vec!["catalog-info.yaml"]);
        assert!(!check.errors.is_empty(), "{check:?}");
        assert_eq!(check.errors[0].file, "catalog-info.yaml");
    }
}
