//! Why a live fact could not be fetched. Every message is safe to show: no
//! token ever appears in one (requests carry tokens in headers, and URLs
//! never contain them).

use std::time::Duration;

/// A failed fetch; `Display` is the `reason` users see.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    /// The integration needs a token and its variable is not set.
    #[error("no token: set {var} in the environment")]
    MissingToken {
        /// The variable to set.
        var: String,
    },
    /// The host name did not resolve.
    #[error("cannot resolve {host}")]
    Dns {
        /// The host.
        host: String,
    },
    /// Nothing listens there, or the connection failed.
    #[error("cannot connect to {host}: {message}")]
    Connect {
        /// `host:port`.
        host: String,
        /// The OS or TLS error.
        message: String,
    },
    /// One request took longer than the per-request timeout.
    #[error("{host} did not answer within {}", humantime::format_duration(*after))]
    Timeout {
        /// The host.
        host: String,
        /// The timeout.
        after: Duration,
    },
    /// The command's overall deadline passed before an answer.
    #[error("gave up: the {} deadline for live data passed", humantime::format_duration(*deadline))]
    Deadline {
        /// The deadline.
        deadline: Duration,
    },
    /// Rate-limited for longer than the deadline allows waiting.
    #[error("rate limited by {host}: retry in {}, past the {} deadline", humantime::format_duration(*wait), humantime::format_duration(*deadline))]
    RateLimited {
        /// The host.
        host: String,
        /// How long the server asked to wait.
        wait: Duration,
        /// The deadline.
        deadline: Duration,
    },
    /// The API answered with an error status.
    #[error("HTTP {code} from {host}: {message}")]
    Status {
        /// Host that answered.
        host: String,
        /// The status code.
        code: u16,
        /// The API's own error message, or the status text.
        message: String,
    },
    /// The body was not JSON.
    #[error("malformed JSON from {host}: {message}")]
    Malformed {
        /// Host that answered.
        host: String,
        /// The parser's message.
        message: String,
    },
    /// The body exceeded the size limit.
    #[error("response from {host} exceeds {limit} bytes")]
    TooLarge {
        /// Host that answered.
        host: String,
        /// The limit.
        limit: usize,
    },
    /// A redirect the client refuses to follow (loop, too many, bad target).
    #[error("redirect from {host}: {message}")]
    Redirect {
        /// Host that redirected.
        host: String,
        /// What was wrong.
        message: String,
    },
    /// JSON of an unexpected shape.
    #[error("unexpected answer for {what}: {message}")]
    Decode {
        /// What was being read.
        what: String,
        /// What was wrong.
        message: String,
    },
    /// `--offline` and nothing cached.
    #[error("offline, and nothing cached for {url}")]
    Offline {
        /// The URL (no credentials).
        url: String,
    },
    /// A URL could not be built.
    #[error("bad URL {url}: {message}")]
    Url {
        /// The URL as built.
        url: String,
        /// Why.
        message: String,
    },
    /// Anything else from the HTTP stack.
    #[error("{0}")]
    Other(String),
}

impl FetchError {
    /// An answer of an unexpected shape.
    pub fn decode(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        FetchError::Decode {
            what: what.into(),
            message: message.to_string(),
        }
    }

    /// True when the request may succeed if tried again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            FetchError::Connect { .. } | FetchError::Dns { .. } | FetchError::Timeout { .. }
        ) || matches!(self, FetchError::Status { code, .. } if *code >= 500)
    }
}
