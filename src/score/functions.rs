//! The functions idp adds to CEL: entity references (`ref_kind`,
//! `ref_namespace`, `ref_name`), version comparison (`semver_ge` and
//! friends) and files next to the entity's descriptor (`file_exists`,
//! `file_contains`). All are pure over the run's catalog snapshot.
//! `matches` is the `cel` crate's, with each pattern compiled once per
//! context instead of once per call (the crate builds a fresh regex each time).

use crate::catalog::paths::join_within as join;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cel::extractors::This;
use cel::{Context, ExecutionError, FunctionContext, Value};

use crate::catalog::refs::{EntityRef, DEFAULT_NAMESPACE};

/// Functions idp adds, for validation's unknown-function check.
pub const IDP_FUNCTIONS: &[&str] = &[
    "ref_kind",
    "ref_namespace",
    "ref_name",
    "semver_ge",
    "semver_gt",
    "semver_le",
    "semver_lt",
    "semver_eq",
    "file_exists",
    "file_contains",
];

/// Functions and macros the `cel` crate provides.
pub const CEL_FUNCTIONS: &[&str] = &[
    "contains",
    "size",
    "max",
    "min",
    "startsWith",
    "endsWith",
    "string",
    "bytes",
    "double",
    "int",
    "uint",
    "optional.none",
    "optional.of",
    "optional.ofNonZeroValue",
    "value",
    "hasValue",
    "or",
    "orValue",
    "matches",
    "duration",
    "timestamp",
    "getFullYear",
    "getMonth",
    "getDayOfYear",
    "getDayOfMonth",
    "getDate",
    "getDayOfWeek",
    "getHours",
    "getMinutes",
    "getSeconds",
    "getMilliseconds",
    "has",
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
];

/// The variable holding the entity's directory for the file functions.
pub const DIR_VARIABLE: &str = "__idp_entity_dir";

/// Read access to the catalog's files (one snapshot per run).
pub trait Files: Send + Sync {
    /// A file's bytes by catalog-relative path, if it exists.
    fn read(&self, path: &str) -> Option<Vec<u8>>;
    /// Whether a file exists (directories count when the snapshot knows them).
    fn exists(&self, path: &str) -> bool {
        self.read(path).is_some()
    }
}

/// A root CEL context with the standard library and idp's functions.
pub fn context(files: Option<Arc<dyn Files>>) -> Context<'static> {
    let mut ctx = Context::default();
    super::budget::register(&mut ctx);
    let patterns = Patterns::default();
    ctx.add_function(
        "matches",
        move |ftx: &FunctionContext, This(this): This<Arc<String>>, regex: Arc<String>| {
            patterns.is_match(ftx, &this, &regex)
        },
    );
    ctx.add_function("ref_kind", |r: Arc<String>, default_kind: Arc<String>| {
        parse_ref(&r, Some(&default_kind)).map(|r| Value::from(r.kind))
    });
    ctx.add_function("ref_namespace", |r: Arc<String>| {
        parse_ref(&r, Some("component")).map(|r| Value::from(r.namespace))
    });
    ctx.add_function("ref_name", |r: Arc<String>| {
        parse_ref(&r, Some("component")).map(|r| Value::from(r.name))
    });
    ctx.add_function("semver_ge", |a: Arc<String>, b: Arc<String>| {
        compare("semver_ge", &a, &b, |o| o.is_ge())
    });
    ctx.add_function("semver_gt", |a: Arc<String>, b: Arc<String>| {
        compare("semver_gt", &a, &b, |o| o.is_gt())
    });
    ctx.add_function("semver_le", |a: Arc<String>, b: Arc<String>| {
        compare("semver_le", &a, &b, |o| o.is_le())
    });
    ctx.add_function("semver_lt", |a: Arc<String>, b: Arc<String>| {
        compare("semver_lt", &a, &b, |o| o.is_lt())
    });
    ctx.add_function("semver_eq", |a: Arc<String>, b: Arc<String>| {
        compare("semver_eq", &a, &b, |o| o.is_eq())
    });
    let for_exists = files.clone();
    ctx.add_function(
        "file_exists",
        move |ftx: &FunctionContext, path: Arc<String>| -> Result<Value, ExecutionError> {
            let files = available(ftx, &for_exists)?;
            let full = entity_path(ftx, &path)?;
            Ok(Value::Bool(files.exists(&full)))
        },
    );
    ctx.add_function(
        "file_contains",
        move |ftx: &FunctionContext,
              path: Arc<String>,
              text: Arc<String>|
              -> Result<Value, ExecutionError> {
            let files = available(ftx, &files)?;
            let full = entity_path(ftx, &path)?;
            let found = files
                .read(&full)
                .is_some_and(|b| String::from_utf8_lossy(&b).contains(text.as_str()));
            Ok(Value::Bool(found))
        },
    );
    ctx
}

/// How many patterns one context keeps compiled: rules name a handful;
/// a pattern built from data (a different one per entity) is compiled per
/// call past this, as the crate does, instead of growing without bound.
const MAX_PATTERNS: usize = 64;

/// `matches` patterns compiled once per context (one per worker thread, so
/// the lock is never contended). A pattern that fails to compile gives the
/// crate's error text.
#[derive(Default)]
struct Patterns(Mutex<HashMap<String, Result<regex::Regex, String>>>);

impl Patterns {
    fn is_match(
        &self,
        ftx: &FunctionContext,
        text: &str,
        pattern: &str,
    ) -> Result<bool, ExecutionError> {
        let compile = || {
            regex::Regex::new(pattern)
                .map_err(|err| format!("'{pattern}' not a valid regex:\n{err}"))
        };
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let compiled = match cache.get(pattern) {
            Some(c) => c.clone(),
            None => {
                let c = compile();
                if cache.len() < MAX_PATTERNS {
                    cache.insert(pattern.to_string(), c.clone());
                }
                c
            }
        };
        drop(cache);
        match compiled {
            Ok(re) => Ok(re.is_match(text)),
            Err(message) => Err(ftx.error(message)),
        }
    }
}

fn available<'a>(
    ftx: &FunctionContext,
    files: &'a Option<Arc<dyn Files>>,
) -> Result<&'a Arc<dyn Files>, ExecutionError> {
    files
        .as_ref()
        .ok_or_else(|| ftx.error("the catalog's files are not available in this run"))
}

/// `path` relative to the entity's directory, as a catalog-relative path;
/// a path leaving the catalog is an error.
fn entity_path(ftx: &FunctionContext, path: &str) -> Result<String, ExecutionError> {
    let dir = match ftx.ptx.get_variable(DIR_VARIABLE) {
        Ok(Value::String(s)) => s.to_string(),
        _ => String::new(),
    };
    join(&dir, path).ok_or_else(|| ftx.error(format!("path {path} leaves the catalog")))
}

fn parse_ref(text: &str, default_kind: Option<&str>) -> Result<EntityRef, ExecutionError> {
    EntityRef::parse(text, default_kind, DEFAULT_NAMESPACE)
        .map_err(|e| ExecutionError::function_error("ref", e))
}

/// Parses a version leniently: a leading `v`, and missing minor or patch
/// numbers (`1.2` is 1.2.0), as tags are often written.
pub fn version(text: &str) -> Option<semver::Version> {
    let t = text.trim().trim_start_matches(['v', 'V']);
    if let Ok(v) = semver::Version::parse(t) {
        return Some(v);
    }
    let (core, rest) = match t.find(['-', '+']) {
        Some(i) => t.split_at(i),
        None => (t, ""),
    };
    let mut nums: Vec<&str> = core.split('.').collect();
    if nums.is_empty() || nums.len() > 3 || nums.iter().any(|n| n.parse::<u64>().is_err()) {
        return None;
    }
    while nums.len() < 3 {
        nums.push("0");
    }
    semver::Version::parse(&format!("{}{rest}", nums.join("."))).ok()
}

fn compare(
    name: &str,
    a: &str,
    b: &str,
    test: fn(std::cmp::Ordering) -> bool,
) -> Result<Value, ExecutionError> {
    let parse = |s: &str| {
        version(s).ok_or_else(|| {
            ExecutionError::function_error(name, format!("\"{s}\" is not a version"))
        })
    };
    Ok(Value::Bool(test(parse(a)?.cmp(&parse(b)?))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(expr: &str) -> Result<Value, ExecutionError> {
        let ctx = context(None);
        cel::Program::compile(expr).expect("parses").execute(&ctx)
    }

    #[test]
    fn refs_use_the_default_kind_for_bare_names() {
        assert_eq!(
            eval("ref_kind('payments', 'group')").ok(),
            Some(Value::from("group"))
        );
        assert_eq!(
            eval("ref_kind('user:jo', 'group')").ok(),
            Some(Value::from("user"))
        );
        assert_eq!(
            eval("ref_namespace('group:ops/payments')").ok(),
            Some(Value::from("ops"))
        );
        assert_eq!(
            eval("ref_name('group:ops/payments')").ok(),
            Some(Value::from("payments"))
        );
        assert!(eval("ref_name('')").is_err());
    }

    #[test]
    fn matches_compiles_each_pattern_once_and_keeps_the_crates_answers() {
        let ctx = context(None);
        let p = cel::Program::compile("'abc'.matches('^[a-z]+$') && !'ab1'.matches('^[a-z]+$')")
            .expect("parses");
        for _ in 0..3 {
            assert_eq!(p.execute(&ctx).ok(), Some(Value::Bool(true)));
        }
        let bad = cel::Program::compile("'a'.matches('(')").expect("parses");
        let e = bad.execute(&ctx).expect_err("invalid regex");
        assert!(e.to_string().contains("'(' not a valid regex"), "{e}");
        // Patterns from data past the bound are still answered.
        for i in 0..(MAX_PATTERNS + 5) {
            let p = cel::Program::compile(&format!("'x{i}'.matches('^x{i}$')")).expect("parses");
            assert_eq!(p.execute(&ctx).ok(), Some(Value::Bool(true)));
        }
    }

    #[test]
    fn semver_is_lenient_about_v_and_missing_parts() {
        assert_eq!(
            eval("semver_ge('v1.10', '1.9.3')").ok(),
            Some(Value::Bool(true))
        );
        assert_eq!(
            eval("semver_lt('1.0.0-rc.1', '1.0.0')").ok(),
            Some(Value::Bool(true))
        );
        assert!(eval("semver_ge('banana', '1.0')").is_err());
    }

    #[test]
    fn joins_stay_inside_the_catalog() {
        assert_eq!(
            join("services/a", "README.md").as_deref(),
            Some("services/a/README.md")
        );
        assert_eq!(
            join("services/a", "../b/x").as_deref(),
            Some("services/b/x")
        );
        assert_eq!(join("", "../x"), None);
    }
}
