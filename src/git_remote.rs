//! Every network git operation idp makes (cloning and fetching a remote
//! catalog or a template, `scaffold --publish`/`--register --push`, `enrich
//! --publish` and `sync`'s fetch of the published live snapshot) goes through
//! this module: one credential policy, one TLS set-up, one rule for what a
//! git URL is ([`is_git_url`]). It must not read the environment or the
//! configuration: a token arrives as a [`Credentials`] value from the caller,
//! which resolved its settings once.
//!
//! # Credential policy
//! libgit2 asks for credentials when the server wants them; each answer is
//! given at most once per operation, in this order:
//! 1. SSH: a key from the ssh agent, as the user the URL names (default `git`).
//! 2. HTTP(S) user and password: the caller's token as
//!    `x-access-token:<token>` (GitHub's convention, which GitHub Enterprise
//!    and most forges accept as basic auth) — only when the URL's host is
//!    the host the token was given for, so a token never reaches another host.
//! 3. HTTP(S) user and password: the git credential helper configured for the
//!    URL (`credential.helper` in the repository's or the user's git
//!    config), as `git push` would use.
//! 4. libgit2's default credential (Negotiate/NTLM where the platform has it).
//!
//! When every answer has been tried the operation fails with an
//! authentication error naming what was tried, instead of libgit2 asking
//! again forever.
//!
//! # TLS
//! The system CA bundle is handed to libgit2 right before the first network
//! operation ([`crate::tls::before_network`]), never at start-up.
#![warn(clippy::print_stdout, clippy::print_stderr)]

use std::cell::RefCell;
use std::fmt;
use std::path::Path;
use std::rc::Rc;

use git2::{Cred, CredentialType, RemoteCallbacks, Repository};

/// What to authenticate with, besides the ssh agent and the git credential
/// helper, which are always offered (see the module doc).
#[derive(Clone, Default)]
pub struct Credentials {
    token: Option<HostToken>,
}

#[derive(Clone)]
struct HostToken {
    host: String,
    token: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.token {
            Some(t) => write!(f, "Credentials(token for {})", t.host),
            None => f.write_str("Credentials(agent, helper)"),
        }
    }
}

impl Credentials {
    /// The ssh agent and the git credential helper only.
    pub fn none() -> Self {
        Credentials::default()
    }

    /// Also `token`, sent only to `host` (`github.com`, `ghe.acme.com`;
    /// compared without port, case-insensitively).
    pub fn with_token(host: &str, token: &str) -> Self {
        Credentials {
            token: Some(HostToken {
                host: host.to_ascii_lowercase(),
                token: token.to_string(),
            }),
        }
    }

    /// The token for `url`, if it was given for that URL's host.
    fn token_for(&self, url: &str) -> Option<&str> {
        let t = self.token.as_ref()?;
        let parsed = url::Url::parse(url).ok()?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return None;
        }
        let host = parsed.host_str()?.to_ascii_lowercase();
        (host == t.host).then_some(t.token.as_str())
    }
}

/// Which answers of the policy were given in one operation.
#[derive(Default)]
struct Tried {
    agent: bool,
    token: bool,
    helper: bool,
    default: bool,
}

/// The credential policy of the module doc, for one operation. `config` is
/// the git configuration holding the credential helper.
struct Policy<'a> {
    creds: &'a Credentials,
    config: Option<git2::Config>,
    tried: Tried,
}

impl Policy<'_> {
    /// The next answer to libgit2's request for credentials.
    fn answer(
        &mut self,
        url: &str,
        username: Option<&str>,
        allowed: CredentialType,
    ) -> Result<Cred, git2::Error> {
        let tried = &mut self.tried;
        if allowed.contains(CredentialType::SSH_KEY) && !tried.agent {
            tried.agent = true;
            return Cred::ssh_key_from_agent(username.unwrap_or("git"));
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            if !tried.token {
                tried.token = true;
                if let Some(token) = self.creds.token_for(url) {
                    return Cred::userpass_plaintext("x-access-token", token);
                }
            }
            if !tried.helper {
                tried.helper = true;
                if let Some(Ok(cred)) = self
                    .config
                    .as_ref()
                    .map(|c| Cred::credential_helper(c, url, username))
                {
                    return Ok(cred);
                }
            }
        }
        if allowed.contains(CredentialType::DEFAULT) && !tried.default {
            tried.default = true;
            return Cred::default();
        }
        Err(git2::Error::new(
            git2::ErrorCode::Auth,
            git2::ErrorClass::Net,
            format!(
                "authentication to {} failed ({})",
                redacted(url),
                tried_list(tried, self.creds.token_for(url).is_some())
            ),
        ))
    }
}

fn callbacks<'a>(creds: &'a Credentials, config: Option<git2::Config>) -> RemoteCallbacks<'a> {
    let mut policy = Policy {
        creds,
        config,
        tried: Tried::default(),
    };
    let mut cb = RemoteCallbacks::new();
    cb.credentials(move |url, username, allowed| policy.answer(url, username, allowed));
    cb
}

fn tried_list(tried: &Tried, had_token: bool) -> String {
    let mut out = Vec::new();
    if tried.agent {
        out.push("ssh agent");
    }
    if tried.token && had_token {
        out.push("token");
    }
    if tried.helper {
        out.push("git credential helper");
    }
    if tried.default {
        out.push("default credentials");
    }
    if out.is_empty() {
        "no credentials available".into()
    } else {
        format!("tried: {}", out.join(", "))
    }
}

/// `url` without any user or password it carries.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => url.to_string(),
    }
}

/// The user's git configuration, for the credential helper.
fn user_config() -> Option<git2::Config> {
    git2::Config::open_default().ok()
}

/// What a clone leaves on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkout {
    /// A bare repository with every tag (a cached catalog).
    Bare,
    /// A working tree at the remote's default branch (a template).
    WorkTree,
}

/// Clones `url` into the (empty or absent) directory `into`.
pub fn clone(
    url: &str,
    into: &Path,
    checkout: Checkout,
    creds: &Credentials,
) -> Result<Repository, git2::Error> {
    let url = transport_url(url);
    crate::tls::before_network();
    let mut fo = git2::FetchOptions::new();
    fo.remote_callbacks(callbacks(creds, user_config()));
    if checkout == Checkout::Bare {
        fo.download_tags(git2::AutotagOption::All);
    }
    git2::build::RepoBuilder::new()
        .bare(checkout == Checkout::Bare)
        .fetch_options(fo)
        .clone(url, into)
}

/// The remote an operation talks to.
#[derive(Debug, Clone, Copy)]
pub enum Remote<'a> {
    /// A remote configured in the repository (`origin`).
    Named(&'a str),
    /// A URL, without configuring a remote.
    Url(&'a str),
}

/// What a fetch learnt.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    /// The remote's default branch (`refs/heads/main`), when it says.
    pub default_branch: Option<String>,
}

/// Fetches `refspecs` from `remote` into `repo`.
pub fn fetch(
    repo: &Repository,
    remote: Remote<'_>,
    refspecs: &[&str],
    creds: &Credentials,
) -> Result<Fetched, git2::Error> {
    let mut r = match remote {
        Remote::Named(name) => repo.find_remote(name)?,
        Remote::Url(url) => repo.remote_anonymous(transport_url(url))?,
    };
    crate::tls::before_network();
    let mut fo = git2::FetchOptions::new();
    fo.remote_callbacks(callbacks(creds, repo.config().ok()));
    r.fetch(refspecs, Some(&mut fo), None)?;
    let default_branch = r
        .default_branch()
        .ok()
        .and_then(|b| b.as_str().map(str::to_string));
    Ok(Fetched { default_branch })
}

/// Why a push did not happen.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The transport or authentication failed.
    #[error("{0}")]
    Git(#[from] git2::Error),
    /// The server refused a reference (not a fast-forward, protected, …).
    #[error("the remote refused {reference}: {status}")]
    Rejected {
        /// The reference.
        reference: String,
        /// What the server said.
        status: String,
    },
}

/// Pushes `refspecs` to the remote `name` of `repo`; a reference the server
/// refuses is an error too (libgit2 reports those only through a callback).
pub fn push(
    repo: &Repository,
    name: &str,
    refspecs: &[&str],
    creds: &Credentials,
) -> Result<(), PushError> {
    let mut remote = repo.find_remote(name)?;
    let rejected = Rc::new(RefCell::new(None::<(String, String)>));
    let seen = rejected.clone();
    let mut cb = callbacks(creds, repo.config().ok());
    cb.push_update_reference(move |reference, status| {
        if let Some(s) = status {
            seen.borrow_mut()
                .get_or_insert_with(|| (reference.to_string(), s.to_string()));
        }
        Ok(())
    });
    let mut opts = git2::PushOptions::new();
    opts.remote_callbacks(cb);
    crate::tls::before_network();
    remote.push(refspecs, Some(&mut opts))?;
    drop(opts);
    let refused = rejected.borrow_mut().take();
    match refused {
        Some((reference, status)) => Err(PushError::Rejected { reference, status }),
        None => Ok(()),
    }
}

/// Whether `s` is a git URL rather than a path or a name: one rule for the
/// catalog location (`--catalog`), template sources and `who-owns`.
///
/// A URL is `https://`, `http://`, `ssh://`, `git://` or `file://` followed
/// by something (schemes compared case-insensitively), optionally behind
/// pip's `git+` prefix (`git+https://…`), or git's scp-like `user@host:path`
/// (a user is required, so `template:default/x` stays an entity reference,
/// and no `/` may come before the colon, so `./a@b:c` stays a path). A bare
/// repository on disk is a path here; callers that clone local repositories
/// check the disk themselves.
pub fn is_git_url(s: &str) -> bool {
    let s = s.trim();
    let url = match s.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("git+") => &s[4..],
        _ => s,
    };
    if let Some((scheme, rest)) = url.split_once("://") {
        let known = ["https", "http", "ssh", "git", "file"]
            .iter()
            .any(|k| scheme.eq_ignore_ascii_case(k));
        return known && !rest.is_empty();
    }
    if url.len() != s.len() {
        return false; // `git+` must be followed by a scheme
    }
    is_scp_like(s)
}

/// The URL libgit2 is given: without pip's `git+` prefix.
fn transport_url(url: &str) -> &str {
    match url.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("git+") && url[4..].contains("://") => &url[4..],
        _ => url,
    }
}

/// `user@host:path`: a user and a host before the first colon, no slash
/// before it, no whitespace, and a path after it.
fn is_scp_like(s: &str) -> bool {
    let Some((head, path)) = s.split_once(':') else {
        return false;
    };
    let Some((user, host)) = head.rsplit_once('@') else {
        return false;
    };
    !user.is_empty()
        && !host.is_empty()
        && !head.contains('/')
        && !s.contains(char::is_whitespace)
        && !path.is_empty()
        && !path.starts_with("//")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_url_rule() {
        let cases: &[(&str, bool)] = &[
            ("https://github.com/acme/catalog", true),
            ("https://github.com/acme/catalog.git", true),
            ("HTTPS://github.com/acme/catalog", true),
            ("http://127.0.0.1:8080/repo.git", true),
            ("ssh://git@github.com/acme/catalog.git", true),
            ("ssh://git@github.com:22/acme/catalog.git", true),
            ("git://example.com/repo", true),
            ("file:///tmp/catalog.git", true),
            ("git+https://github.com/acme/template", true),
            ("git+ssh://git@github.com/acme/template.git", true),
            ("git@github.com:acme/catalog.git", true),
            ("deploy@build.internal:repos/catalog", true),
            ("  https://github.com/acme/catalog  ", true),
            // paths
            (".", false),
            ("./catalog", false),
            ("../templates/service", false),
            ("/srv/git/catalog.git", false),
            ("catalog.git", false),
            ("~/catalog", false),
            ("templates/node-service", false),
            ("./a@b:c", false),
            ("dir/user@host:path", false),
            (r"C:\catalog", false),
            // names and refs
            ("node-service", false),
            ("template:default/node-service", false),
            ("component:acme/checkout", false),
            ("group:default/team-a", false),
            ("someone@example.com", false),
            // not a git URL
            ("https://", false),
            ("ftp://example.com/repo", false),
            ("mailto:someone@example.com", false),
            ("git+./local", false),
            ("git@github.com:", false),
            ("user@host://x", false),
            ("", false),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter(|(s, want)| is_git_url(s) != *want)
            .map(|(s, want)| format!("{s:?}: expected {want}"))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn a_token_goes_only_to_its_host_over_http() {
        let creds = Credentials::with_token("GitHub.com", "t0ken");
        assert_eq!(
            creds.token_for("https://github.com/acme/x.git"),
            Some("t0ken")
        );
        assert_eq!(
            creds.token_for("https://GITHUB.COM:443/acme/x.git"),
            Some("t0ken")
        );
        assert_eq!(creds.token_for("https://gitlab.com/acme/x.git"), None);
        assert_eq!(creds.token_for("https://github.com.evil.io/x.git"), None);
        assert_eq!(creds.token_for("ssh://git@github.com/acme/x.git"), None);
        assert_eq!(creds.token_for("file:///tmp/x.git"), None);
        assert_eq!(Credentials::none().token_for("https://github.com/x"), None);
        assert!(!format!("{creds:?}").contains("t0ken"));
    }

    #[test]
    fn the_policy_answers_each_way_once_then_gives_up() {
        // Asked the way libgit2 asks again after each rejection.
        let creds = Credentials::with_token("example.com", "t0ken");
        let policy = || Policy {
            creds: &creds,
            config: None,
            tried: Tried::default(),
        };
        let kind = |r: Result<Cred, git2::Error>| {
            r.map(|c| c.credtype()).map_err(|e| e.message().to_string())
        };
        let https = CredentialType::USER_PASS_PLAINTEXT;
        let url = "https://user:secret@example.com/acme/x.git";
        let mut p = policy();
        assert_eq!(kind(p.answer(url, None, https)), Ok(https.bits()));
        // No helper configured: the next request fails, saying what was tried.
        let err = kind(p.answer(url, None, https)).unwrap_err();
        assert_eq!(
            err,
            "authentication to https://example.com/acme/x.git failed (tried: token, git credential helper)"
        );
        // Another host gets no token.
        let mut p = policy();
        let err = kind(p.answer("https://other.example/x.git", None, https)).unwrap_err();
        assert!(err.contains("(tried: git credential helper)"), "{err}");
        // SSH: the agent once, then nothing.
        let mut p = policy();
        let ssh = CredentialType::SSH_KEY;
        assert_eq!(
            kind(p.answer("ssh://git@example.com/x.git", Some("git"), ssh)),
            Ok(ssh.bits())
        );
        assert!(p
            .answer("ssh://git@example.com/x.git", Some("git"), ssh)
            .is_err());
    }
}
