//! The secret values idp holds (tokens and secret headers read from the
//! environment), so that every text idp prints can show `[redacted]` in
//! their place, wherever the text came from: a server that echoes the
//! `Authorization` header in an error body, a descriptor that quotes a
//! token, an error chain.
//!
//! The registry is process-wide on purpose: a value is registered where it
//! is read (every [`crate::integrations::config::Secret`], the secret
//! headers of the generic http integration, the well-known token variables
//! when `main` captures the environment) and looked up where text is printed, with nothing threaded
//! in between. Values shorter than [`MIN_LEN`] characters are ignored:
//! replacing every `t` or `yes` would mangle output and protect nothing.
//!
//! With nothing registered, [`redact`] is one atomic load.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

/// What a secret is replaced by.
pub const REDACTED: &str = "[redacted]";

/// Shorter values are not treated as secrets.
pub const MIN_LEN: usize = 4;

static ANY: AtomicBool = AtomicBool::new(false);
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remembers `value` (trimmed) as a secret to redact from output.
pub fn register(value: &str) {
    let value = value.trim();
    if value.chars().count() < MIN_LEN {
        return;
    }
    let mut list = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !list.iter().any(|s| s == value) {
        list.push(value.to_string());
        // Longest first, so a secret that contains another goes whole.
        list.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
    ANY.store(true, Ordering::Release);
}

/// Whether any secret is registered.
pub fn any() -> bool {
    ANY.load(Ordering::Acquire)
}

/// `text` with every registered secret replaced by [`REDACTED`]; borrowed
/// when there is nothing to replace.
pub fn redact(text: &str) -> Cow<'_, str> {
    if !any() {
        return Cow::Borrowed(text);
    }
    let list = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut out = Cow::Borrowed(text);
    for secret in list.iter() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: the registry is process-wide, so parallel tests would see
    // each other's secrets.
    #[test]
    fn registered_values_are_redacted_short_ones_ignored() {
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
        register("abc");
        register("  ghp_secretvalue  ");
        register("ghp_secret");
        assert_eq!(
            redact("token ghp_secretvalue and ghp_secret, abc"),
            "token [redacted] and [redacted], abc"
        );
        assert!(matches!(redact("plain text"), Cow::Borrowed(_)));
    }
}
