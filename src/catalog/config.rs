//! Settings: the catalog's own `idp.yaml` (which files, custom kinds) and the
//! user's `$XDG_CONFIG_HOME/idp/config.yaml` (default catalog, sync interval).
//!
//! Sections other modules own (`integrations:` and `live:` belong to
//! `integrations::config`, `templates:` to scaffolding) are kept as written in
//! `extra`, together with the file's text: the owner types its section with
//! [`CatalogConfig::section`], which reports a bad value at file:line:column
//! exactly like the catalog's own keys. The catalog never needs to know
//! those types, so this floor does not import the floors above it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::error::CatalogError;
use super::locate::{locate, locate_value};
use super::parse::{parse_str, ParseError};

/// File name of the catalog settings at the catalog root.
pub const CATALOG_CONFIG_FILE: &str = "idp.yaml";

/// `idp.yaml`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogConfig {
    /// Globs of descriptor files; default every `*.yaml`/`*.yml`.
    #[serde(default)]
    pub include: Option<Vec<String>>,
    /// Globs to leave out.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Kinds Backstage does not know, declared so they validate.
    #[serde(default)]
    pub custom_kinds: Vec<CustomKind>,
    /// Everything else (`integrations:`, `live:`, `templates:`, …), kept as
    /// written for the modules that own them; see [`CatalogConfig::section`].
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
    /// The text of `idp.yaml` (`None` when there is none), to locate errors
    /// in the sections other modules type. Not a key of the file; the index
    /// keeps it beside the configuration.
    #[serde(skip)]
    pub text: Option<std::sync::Arc<str>>,
}

/// A declared custom kind.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomKind {
    /// The kind (`Pipeline`), compared case-insensitively.
    pub kind: String,
    /// If set, only this apiVersion is accepted for the kind.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Catalog-relative path of a JSON Schema the whole entity must satisfy.
    #[serde(default)]
    pub schema: Option<String>,
}

impl CatalogConfig {
    /// Parses `idp.yaml` text; `file` is used in error messages.
    pub fn parse(text: &str, file: &Path) -> Result<Self, CatalogError> {
        let mut config: CatalogConfig = from_yaml_text(text, file)?;
        config.text = Some(text.into());
        Ok(config)
    }

    /// The section `key` (a top-level key another module owns, such as
    /// `integrations`) typed as `T`; absent or `null` gives `T::default()`.
    /// A bad value is a [`CatalogError::Config`] at its file:line:column in
    /// `file` (the catalog's `idp.yaml` as the user knows it).
    pub fn section<T: serde::de::DeserializeOwned + Default>(
        &self,
        key: &str,
        file: &Path,
    ) -> Result<T, CatalogError> {
        match self.extra.get(key) {
            None | Some(Value::Null) => Ok(T::default()),
            Some(value) => typed(
                value.clone(),
                self.text.as_deref().unwrap_or_default(),
                file,
                key,
            ),
        }
    }
}

/// Deserializes `value`, found at the dotted `prefix` of the file (`""` for
/// the whole file); type errors are located through the path serde reports.
fn typed<T: serde::de::DeserializeOwned>(
    value: Value,
    text: &str,
    file: &Path,
    prefix: &str,
) -> Result<T, CatalogError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let path = match (prefix, inner.as_str()) {
            (p, ".") => p.to_string(),
            ("", i) => i.to_string(),
            (p, i) => format!("{p}.{i}"),
        };
        let (line, column) = locate(text, 0, &path).unwrap_or((1, 1));
        let at = if path.is_empty() {
            String::new()
        } else {
            format!("{path}: ")
        };
        CatalogError::Config {
            file: file.to_path_buf(),
            line,
            column,
            message: format!("{at}{}", e.inner()),
        }
    })
}

/// Deserializes a settings file; every error carries file, line and column
/// (type errors are located through the path serde reports).
fn from_yaml_text<T: serde::de::DeserializeOwned + Default>(
    text: &str,
    file: &Path,
) -> Result<T, CatalogError> {
    let config_error = |line, column, message| CatalogError::Config {
        file: file.to_path_buf(),
        line,
        column,
        message,
    };
    let docs = parse_str(text).map_err(|e| {
        let (line, column) = e.position();
        let message = match e {
            ParseError::Yaml { message, .. } => message,
            other => other.to_string(),
        };
        config_error(line, column, message)
    })?;
    let value = docs.into_iter().next().map(|d| d.value).unwrap_or_default();
    if value.is_null() {
        return Ok(T::default());
    }
    typed(value, text, file, "")
}

/// `$XDG_CONFIG_HOME/idp/config.yaml`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub struct UserConfig {
    /// Default catalog (path or git URL).
    #[serde(default)]
    pub catalog: Option<String>,
    /// How old a fetched remote catalog may get before it is fetched again
    /// (`1h`, `30m`); default one hour.
    #[serde(default)]
    pub sync_interval: Option<String>,
    /// Keys this version does not know, kept only to warn about them.
    #[serde(flatten)]
    unknown: BTreeMap<String, Value>,
    /// Keys that were ignored, for the caller to show (the library never prints).
    #[serde(skip)]
    pub ignored: Vec<UnknownKey>,
    /// Where this config is read from (whether or not it exists), for
    /// advice that names it.
    #[serde(skip)]
    pub file: PathBuf,
}

/// The keys [`UserConfig`] reads.
const USER_CONFIG_KEYS: &[&str] = &["catalog", "sync_interval"];

/// A key of the user config that idp does not know and ignores (a typo,
/// or a setting of a newer version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// The config file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The key as written.
    pub key: String,
    /// The known key it is nearest to, if any is near.
    pub suggestion: Option<String>,
}

impl std::fmt::Display for UnknownKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: unknown key '{}' is ignored",
            self.file.display(),
            self.line,
            self.column,
            self.key
        )?;
        match &self.suggestion {
            Some(s) => write!(f, "; did you mean {s}?"),
            None => write!(f, " (known keys: {})", USER_CONFIG_KEYS.join(", ")),
        }
    }
}

impl UserConfig {
    /// Loads the user config if it exists. A bad value is an error at its
    /// file:line:column; unknown keys are listed in [`UserConfig::ignored`].
    pub fn load(dirs: &Dirs) -> Result<Self, CatalogError> {
        let path = dirs.config.join("config.yaml");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self {
                    file: path,
                    ..Self::default()
                })
            }
            Err(e) => return Err(CatalogError::io(path, e)),
        };
        let mut config: UserConfig = from_yaml_text(&text, &path)?;
        config.file = path.clone();
        if let Some(s) = &config.sync_interval {
            if humantime::parse_duration(s).is_err() {
                let (line, column) = locate_value(&text, 0, "sync_interval").unwrap_or((1, 1));
                return Err(CatalogError::Config {
                    file: path,
                    line,
                    column,
                    message: format!(
                        "sync_interval '{s}' is not a duration (write e.g. 30m or 2h)"
                    ),
                });
            }
        }
        config.ignored = std::mem::take(&mut config.unknown)
            .into_keys()
            .map(|key| {
                let (line, column) = locate(&text, 0, &key).unwrap_or((1, 1));
                let suggestion = USER_CONFIG_KEYS
                    .iter()
                    .map(|k| (strsim::jaro_winkler(&key.to_ascii_lowercase(), k), *k))
                    .filter(|(score, _)| *score >= 0.8)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, k)| k.to_string());
                UnknownKey {
                    file: path.clone(),
                    line,
                    column,
                    key,
                    suggestion,
                }
            })
            .collect();
        config.ignored.sort_by_key(|k| (k.line, k.column));
        Ok(config)
    }

    /// The sync interval, parsed ([`UserConfig::load`] has checked it).
    pub fn sync_interval(&self) -> Result<Duration, CatalogError> {
        match &self.sync_interval {
            None => Ok(Duration::from_secs(3600)),
            Some(s) => humantime::parse_duration(s).map_err(|_| CatalogError::Config {
                file: self.file.clone(),
                line: 1,
                column: 1,
                message: format!("sync_interval '{s}' is not a duration (write e.g. 30m or 2h)"),
            }),
        }
    }
}

/// The XDG directories idp uses, resolved once from the environment.
#[derive(Debug, Clone)]
pub struct Dirs {
    /// `$XDG_CACHE_HOME/idp` (default `~/.cache/idp`).
    pub cache: PathBuf,
    /// `$XDG_CONFIG_HOME/idp` (default `~/.config/idp`).
    pub config: PathBuf,
}

impl Dirs {
    /// Resolves the directories from `XDG_*` and `HOME`.
    pub fn from_env() -> Self {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        let xdg = |var: &str, fallback: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .unwrap_or_else(|| home.join(fallback))
                .join("idp")
        };
        Dirs {
            cache: xdg("XDG_CACHE_HOME", ".cache"),
            config: xdg("XDG_CONFIG_HOME", ".config"),
        }
    }
}
