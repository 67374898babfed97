//! The environment variables the core may consult (tokens named by
//! `token_env:`, `{ env: VAR }` headers, the Python for hooks), captured once
//! by the binary and handed down. The core never calls `std::env::var`
//! itself: what it reads is decided, and testable, in one place.
//!
//! Values are not registered as secrets here: a value becomes a secret when
//! it is read as one ([`crate::integrations::config::Secret::new`]), the
//! way [`crate::secrets`] describes.

use std::collections::BTreeMap;
use std::fmt;

/// A snapshot of environment variables (those with UTF-8 names and values).
#[derive(Clone, Default)]
pub struct Vars {
    map: BTreeMap<String, String>,
}

impl Vars {
    /// The process environment, now. Only `main` should call this.
    pub fn from_process() -> Self {
        let map = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Vars { map }
    }

    /// A fixed set of variables (tests, or a run with no environment).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Vars {
            map: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// The value of `name` if it is set and not blank.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.trim().is_empty())
    }

    /// `get` as the lookup function the integration config takes.
    pub fn lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        |name| self.get(name).map(str::to_string)
    }
}

// Values are tokens: only the names show.
impl fmt::Debug for Vars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.map.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_and_debug_never_show_values() {
        let vars = Vars::from_pairs([("GITHUB_TOKEN", "ghp_abcdef"), ("BLANK", "  ")]);
        assert_eq!(vars.get("GITHUB_TOKEN"), Some("ghp_abcdef"));
        assert_eq!(vars.non_empty("BLANK"), None);
        assert_eq!(vars.get("MISSING"), None);
        assert_eq!(vars.lookup()("GITHUB_TOKEN").as_deref(), Some("ghp_abcdef"));
        let debug = format!("{vars:?}");
        assert!(
            debug.contains("GITHUB_TOKEN") && !debug.contains("ghp_"),
            "{debug}"
        );
    }
}
