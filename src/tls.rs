//! libgit2, built with OpenSSL, reads the whole system CA bundle when it
//! starts: about 25 ms on every command that opens a repository, although
//! most of them never talk to a server. [`defer_ca_bundle`] points
//! OpenSSL's bundle at an empty file for that start and remembers the real
//! one; [`before_network`] hands the real one to libgit2 right before a
//! clone, fetch or push. A user who sets `SSL_CERT_FILE` gets exactly that.

use std::path::PathBuf;
use std::sync::{Once, OnceLock};

/// The CA bundle OpenSSL would have read (`None`: nothing was deferred).
static REAL_BUNDLE: OnceLock<Option<PathBuf>> = OnceLock::new();

const VAR: &str = "SSL_CERT_FILE";

/// Defers loading the CA bundle. Call first thing in `main`, before any
/// thread starts (it sets an environment variable).
pub fn defer_ca_bundle() {
    if std::env::var_os(VAR).is_some() || !cfg!(unix) {
        let _ = REAL_BUNDLE.set(None);
        return;
    }
    let real = openssl_probe::probe().cert_file;
    if real.is_some() {
        // libgit2 keeps a variable that names an existing file, so it
        // loads this empty one at start-up instead of the whole bundle.
        std::env::set_var(VAR, "/dev/null");
    }
    let _ = REAL_BUNDLE.set(real);
}

/// Loads the real CA bundle into libgit2, once, before a network operation.
pub fn before_network() {
    static LOADED: Once = Once::new();
    LOADED.call_once(|| {
        if let Some(Some(bundle)) = REAL_BUNDLE.get() {
            // SAFETY: libgit2 option setter; called before the network
            // operation that needs it, from one thread (`Once`).
            let _ = unsafe { git2::opts::set_ssl_cert_file(bundle.as_path()) };
        }
    });
}

/// The environment a child process should see: the user's `SSL_CERT_FILE`
/// as it was (hooks may use https themselves).
pub fn restore_for_child(cmd: &mut std::process::Command) {
    if let Some(Some(_)) = REAL_BUNDLE.get() {
        cmd.env_remove(VAR);
    }
}
