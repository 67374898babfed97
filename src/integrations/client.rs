//! The one HTTP client every integration uses. It owns the rules that keep
//! idp a good API citizen and keep commands fast: bounded concurrency
//! (global and per host), a timeout per request bounded by the command's
//! deadline, retries with backoff that honour rate-limit headers, the
//! on-disk cache with ETag revalidation, `--offline`, a body size limit,
//! and redirects that never carry a token to another host.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use url::Url;

use super::cache::{Cache, Entry};
use super::config::{host_of, AuthScheme, IntegrationConfig, Secret};
use super::error::FetchError;
use super::ratelimit::{backoff, is_rate_limit_403, server_wait};

/// Redirects followed at most.
const MAX_REDIRECTS: usize = 5;
/// First backoff step and its cap.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// One GET.
#[derive(Debug, Clone)]
pub struct Request {
    /// Integration name (cache folder, messages).
    pub integration: String,
    /// The URL.
    pub url: Url,
    headers: Vec<(String, String)>,
    /// Secret headers (the token's, and any the generic integration adds)
    /// with the only host each may be sent to.
    auth: Vec<(String, Secret, String)>,
    ttl: Duration,
    timeout: Option<Duration>,
    host_limit: Option<usize>,
    allowed: Vec<u16>,
}

impl Request {
    /// A GET of `path_and_query` under the integration's base URL (an
    /// absolute URL is accepted when it is on the configured host, as
    /// pagination links are). Fails when a required token is missing.
    pub fn for_integration(
        cfg: &IntegrationConfig,
        path_and_query: &str,
    ) -> Result<Request, FetchError> {
        let url = if path_and_query.starts_with("http://") || path_and_query.starts_with("https://")
        {
            let url = parse_url(path_and_query)?;
            if host_of(&url) != cfg.host() {
                return Err(FetchError::Url {
                    url: strip_query(&url),
                    message: format!("not on the configured host {}", cfg.host()),
                });
            }
            url
        } else {
            let base = cfg.base_url.as_str().trim_end_matches('/');
            parse_url(&format!(
                "{base}/{}",
                path_and_query.trim_start_matches('/')
            ))?
        };
        if cfg.token_required && cfg.token.is_none() {
            return Err(FetchError::MissingToken {
                var: cfg
                    .token_env
                    .clone()
                    .unwrap_or_else(|| "its token variable".into()),
            });
        }
        let auth: Vec<_> = cfg
            .token
            .as_ref()
            .and_then(|t| {
                let value = match cfg.auth {
                    AuthScheme::Bearer => format!("Bearer {}", t.expose()),
                    AuthScheme::PagerDuty => format!("Token token={}", t.expose()),
                    AuthScheme::BasicUser => {
                        let encoded = base64(&format!("{}:", t.expose()));
                        // an echo of the header shows the encoded form
                        crate::secrets::register(&encoded);
                        format!("Basic {encoded}")
                    }
                    AuthScheme::None => return None,
                };
                Some(("authorization".to_string(), Secret::new(value), cfg.host()))
            })
            .into_iter()
            .collect();
        Ok(Request {
            integration: cfg.name.clone(),
            url,
            headers: Vec::new(),
            auth,
            ttl: cfg.ttl,
            timeout: cfg.timeout,
            host_limit: cfg.concurrency,
            allowed: Vec::new(),
        })
    }

    /// Sets the `Accept` header.
    pub fn accept(self, value: &str) -> Self {
        self.header("accept", value)
    }

    /// Adds a header (sent to the configured host only when `secret`).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = name.to_ascii_lowercase();
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.to_string()));
        self
    }

    /// Adds a header whose value is a secret: like the token, it goes to the
    /// configured host only and is never shown.
    pub fn secret_header(mut self, name: &str, value: Secret, host: &str) -> Self {
        let name = name.to_ascii_lowercase();
        self.auth.retain(|(n, _, _)| *n != name);
        self.auth.push((name, value, host.to_string()));
        self
    }

    /// Treats this status as an answer rather than an error (404 = "none").
    pub fn allow_status(mut self, code: u16) -> Self {
        self.allowed.push(code);
        self
    }

    /// Appends a query parameter (URL-encoded; repeatable).
    pub fn query(mut self, key: &str, value: &str) -> Self {
        self.url.query_pairs_mut().append_pair(key, value);
        self
    }

    /// The cache key: what identifies the answer.
    fn cache_key(&self) -> String {
        let accept = self
            .headers
            .iter()
            .find(|(n, _)| n == "accept")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        if accept.is_empty() {
            self.url.to_string()
        } else {
            format!("{} accept={accept}", self.url)
        }
    }
}

/// One answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status (2xx, or one allowed with [`Request::allow_status`]).
    pub status: u16,
    /// Headers, lowercase names.
    pub headers: BTreeMap<String, String>,
    /// The JSON body (`null` when an allowed status had no JSON).
    pub body: Value,
    /// When the data was fetched (or last revalidated).
    pub fetched_at: DateTime<Utc>,
    /// Whether it came from the on-disk cache without asking the server.
    pub from_cache: bool,
}

impl Response {
    /// A header value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The URL of a `Link` header relation (`next`, `last`; RFC 8288).
    pub fn link(&self, rel: &str) -> Option<String> {
        parse_link(self.header("link")?, rel)
    }

    fn from_entry(entry: Entry, from_cache: bool) -> Self {
        Response {
            status: entry.status,
            headers: entry.headers,
            body: entry.body,
            fetched_at: entry.fetched_at,
            from_cache,
        }
    }
}

/// The URL of relation `rel` in a `Link` header value.
pub fn parse_link(header: &str, rel: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let mut pieces = part.split(';');
        let target = pieces.next()?.trim();
        let url = target.strip_prefix('<')?.strip_suffix('>')?;
        pieces
            .any(|p| {
                let p = p.trim();
                p.strip_prefix("rel=")
                    .map(|v| v.trim_matches('"').split_whitespace().any(|r| r == rel))
                    .unwrap_or(false)
            })
            .then(|| url.to_string())
    })
}

/// Engine-wide client settings.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Global concurrency.
    pub concurrency: usize,
    /// Per-host concurrency.
    pub per_host: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries per request.
    pub retries: u32,
    /// Body size limit in bytes.
    pub max_body: usize,
    /// The overall deadline (from when the client is made).
    pub deadline: Duration,
    /// Answer from the cache only.
    pub offline: bool,
    /// Ignore the TTL (still revalidate with ETags).
    pub refresh: bool,
}

/// What one fetch task used: the oldest data and whether any came from the
/// cache, so an outcome can say how old it is.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// Oldest `fetched_at` among the answers used.
    pub oldest: Option<DateTime<Utc>>,
    /// Whether any answer came from the cache without asking.
    pub cached: bool,
}

tokio::task_local! {
    /// The trace of the current fetch task.
    pub static TRACE: RefCell<Trace>;
}

fn record(resp: &Response) {
    let _ = TRACE.try_with(|t| {
        let mut t = t.borrow_mut();
        t.oldest = Some(t.oldest.map_or(resp.fetched_at, |o| o.min(resp.fetched_at)));
        t.cached |= resp.from_cache;
    });
}

/// The answer several fetch tasks wait on.
type Shared = Arc<tokio::sync::OnceCell<Result<Response, FetchError>>>;

/// The shared client.
pub struct Client {
    http: reqwest::Client,
    settings: ClientSettings,
    deadline_at: Instant,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    cache: Option<Cache>,
    /// One exchange per distinct request per run: entities that need the
    /// same URL (Prometheus alerts, a shared team) wait for one answer.
    inflight: Mutex<HashMap<String, Shared>>,
}

/// A raw answer before interpretation.
struct Raw {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
    host: String,
}

impl Client {
    /// A client; `cache` is `None` to cache nothing. Must be created inside
    /// the tokio runtime that will use it.
    pub fn new(settings: ClientSettings, cache: Option<Cache>) -> Result<Self, FetchError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.timeout)
            .user_agent(concat!("idp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Other(format!("cannot start the HTTP client: {e}")))?;
        Ok(Client {
            http,
            deadline_at: Instant::now() + settings.deadline,
            global: Arc::new(Semaphore::new(settings.concurrency)),
            hosts: Mutex::new(HashMap::new()),
            inflight: Mutex::new(HashMap::new()),
            settings,
            cache,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// A value derived from several answers (DORA's inputs of one entity),
    /// cached under `key` beside the answers of `integration`: returned when
    /// younger than `ttl` (any age offline; never with `--refresh`) and
    /// recorded in the task's trace like the answers it was made of. One
    /// file instead of hundreds keeps a warm run fast.
    pub fn derived(&self, integration: &str, key: &str, ttl: Duration) -> Option<Value> {
        if self.settings.refresh && !self.settings.offline {
            return None;
        }
        let entry = self.cache.as_ref()?.load(integration, key)?;
        let age = (Utc::now() - entry.fetched_at).to_std().unwrap_or_default();
        if !self.settings.offline && age >= ttl {
            return None;
        }
        let resp = Response::from_entry(entry, true);
        record(&resp);
        Some(resp.body)
    }

    /// Stores a value derived from the answers this task used (see
    /// [`Client::derived`]), dated by the oldest of them, so it is stale
    /// exactly when one of them is.
    pub fn store_derived(&self, integration: &str, key: &str, body: Value) {
        let Some(cache) = &self.cache else { return };
        let Some(oldest) = TRACE.try_with(|t| t.borrow().oldest).ok().flatten() else {
            return;
        };
        let entry = Entry {
            url: key.to_string(),
            fetched_at: oldest,
            status: 200,
            headers: BTreeMap::new(),
            body,
        };
        let _ = cache.store(integration, key, &entry);
    }

    /// GET with everything this module promises.
    pub async fn get(&self, req: Request) -> Result<Response, FetchError> {
        let cell = self
            .inflight
            .lock()
            .expect("in-flight table")
            .entry(format!("{} {}", req.integration, req.cache_key()))
            .or_default()
            .clone();
        let result = cell.get_or_init(|| self.fetch(req)).await.clone();
        if let Ok(resp) = &result {
            record(resp);
        }
        result
    }

    async fn fetch(&self, req: Request) -> Result<Response, FetchError> {
        let key = req.cache_key();
        let cached = self
            .cache
            .as_ref()
            .and_then(|c| c.load(&req.integration, &key));
        if self.settings.offline {
            return match cached {
                Some(entry) => Ok(self.answer(Response::from_entry(entry, true))),
                None => Err(FetchError::Offline {
                    url: strip_query(&req.url),
                }),
            };
        }
        if let Some(entry) = &cached {
            let age = (Utc::now() - entry.fetched_at).to_std().unwrap_or_default();
            if !self.settings.refresh && age < req.ttl {
                return Ok(self.answer(Response::from_entry(entry.clone(), true)));
            }
        }
        let etag = cached.as_ref().and_then(|e| e.etag()).map(str::to_string);
        let mut attempt = 0;
        loop {
            let err = match self.send_once(&req, etag.as_deref()).await {
                Ok(raw) => match self.interpret(&req, &key, raw, cached.as_ref()) {
                    Ok(resp) => return Ok(self.answer(resp)),
                    Err(Retry::No(e)) => return Err(e),
                    Err(Retry::After(e, wait)) => (e, wait),
                },
                Err(e) if matches!(e, FetchError::Connect { .. }) => (e, None),
                Err(e) => return Err(e),
            };
            let (err, server_wait) = err;
            if attempt >= self.settings.retries {
                return Err(err);
            }
            let wait = server_wait.unwrap_or_else(|| backoff(attempt, BACKOFF_BASE, BACKOFF_CAP));
            if Instant::now() + wait > self.deadline_at {
                return Err(match (&err, server_wait) {
                    (FetchError::Status { host, .. }, Some(w)) => FetchError::RateLimited {
                        host: host.clone(),
                        wait: w,
                        deadline: self.settings.deadline,
                    },
                    _ => err,
                });
            }
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One exchange without cache or retries: the status the server
    /// answers with (for `idp doctor`).
    pub async fn probe(&self, req: Request) -> Result<u16, FetchError> {
        self.send_once(&req, None).await.map(|raw| raw.status)
    }

    fn answer(&self, resp: Response) -> Response {
        resp
    }

    /// Turns a raw answer into a response, an error, or a reason to retry.
    fn interpret(
        &self,
        req: &Request,
        key: &str,
        raw: Raw,
        cached: Option<&Entry>,
    ) -> Result<Response, Retry> {
        let now = Utc::now();
        let host = raw.host.clone();
        if raw.status == 304 {
            if let Some(entry) = cached {
                let mut entry = entry.clone();
                entry.fetched_at = now;
                self.store(req, key, &entry);
                return Ok(Response::from_entry(entry, false));
            }
        }
        if (200..300).contains(&raw.status) || req.allowed.contains(&raw.status) {
            let body = if raw.body.iter().all(u8::is_ascii_whitespace) {
                Value::Null
            } else {
                match serde_json::from_slice(&raw.body) {
                    Ok(v) => v,
                    Err(_) if !(200..300).contains(&raw.status) => Value::Null,
                    Err(e) => {
                        return Err(Retry::No(FetchError::Malformed {
                            host,
                            message: e.to_string(),
                        }))
                    }
                }
            };
            let entry = Entry {
                url: key.to_string(),
                fetched_at: now,
                status: raw.status,
                headers: raw.headers,
                body,
            };
            self.store(req, key, &entry);
            return Ok(Response::from_entry(entry, false));
        }
        let message = api_message(&raw.body).unwrap_or_else(|| status_text(raw.status));
        // A server may echo the request's Authorization header; the reason
        // is cached and published, so the token goes here, not only on output.
        let message = crate::secrets::redact(&message).into_owned();
        let wait = server_wait(&raw.headers, now);
        let error = FetchError::Status {
            host,
            code: raw.status,
            message,
        };
        let retryable = match raw.status {
            429 => true,
            403 => {
                let FetchError::Status { message, .. } = &error else {
                    unreachable!()
                };
                is_rate_limit_403(&raw.headers, message)
            }
            s => s >= 500,
        };
        if retryable {
            Err(Retry::After(error, wait))
        } else {
            Err(Retry::No(error))
        }
    }

    fn store(&self, req: &Request, key: &str, entry: &Entry) {
        if let Some(cache) = &self.cache {
            // A cache that cannot be written only costs speed.
            let _ = cache.store(&req.integration, key, entry);
        }
    }

    fn host_semaphore(&self, host: &str, limit: usize) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().expect("host table");
        hosts
            .entry(host.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(limit)))
            .clone()
    }

    /// One exchange, following redirects, bounded by the timeout and the
    /// deadline.
    async fn send_once(&self, req: &Request, etag: Option<&str>) -> Result<Raw, FetchError> {
        let host = host_of(&req.url);
        let now = Instant::now();
        if now >= self.deadline_at {
            return Err(FetchError::Deadline {
                deadline: self.settings.deadline,
            });
        }
        let per_request = req.timeout.unwrap_or(self.settings.timeout);
        let left = self.deadline_at - now;
        let (limit, by_deadline) = if left < per_request {
            (left, true)
        } else {
            (per_request, false)
        };
        let exchange = async {
            let _global = self.global.acquire().await.expect("semaphore open");
            let host_sem =
                self.host_semaphore(&host, req.host_limit.unwrap_or(self.settings.per_host));
            let _host = host_sem.acquire().await.expect("semaphore open");
            self.exchange(req, etag).await
        };
        match tokio::time::timeout(limit, exchange).await {
            Ok(result) => result,
            Err(_) if by_deadline => Err(FetchError::Deadline {
                deadline: self.settings.deadline,
            }),
            Err(_) => Err(FetchError::Timeout { host, after: limit }),
        }
    }

    async fn exchange(&self, req: &Request, etag: Option<&str>) -> Result<Raw, FetchError> {
        let mut url = req.url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let host = host_of(&url);
            let mut builder = self.http.get(url.clone());
            for (name, value) in &req.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            for (name, secret, auth_host) in &req.auth {
                // The token goes to the configured host and nowhere else,
                // redirects included.
                if *auth_host == host && url.scheme() == req.url.scheme() {
                    let mut value = reqwest::header::HeaderValue::from_str(secret.expose())
                        .map_err(|_| {
                            FetchError::Other(
                                "the token has characters a header cannot hold".into(),
                            )
                        })?;
                    value.set_sensitive(true);
                    builder = builder.header(name.as_str(), value);
                }
            }
            if let Some(tag) = etag {
                builder = builder.header("if-none-match", tag);
            }
            let mut resp = builder
                .send()
                .await
                .map_err(|e| classify(&e, &host, self.settings.timeout))?;
            let status = resp.status().as_u16();
            if resp.status().is_redirection() && status != 304 {
                let location = resp
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| FetchError::Redirect {
                        host: host.clone(),
                        message: format!("HTTP {status} without a Location"),
                    })?;
                url = url.join(location).map_err(|e| FetchError::Redirect {
                    host: host.clone(),
                    message: format!("bad Location '{location}': {e}"),
                })?;
                continue;
            }
            let headers = resp
                .headers()
                .iter()
                .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
                .collect();
            let limit = self.settings.max_body;
            if resp.content_length().is_some_and(|n| n as usize > limit) {
                return Err(FetchError::TooLarge { host, limit });
            }
            let mut body = Vec::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| classify(&e, &host, self.settings.timeout))?
            {
                if body.len() + chunk.len() > limit {
                    return Err(FetchError::TooLarge { host, limit });
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(Raw {
                status,
                headers,
                body,
                host,
            });
        }
        Err(FetchError::Redirect {
            host: host_of(&req.url),
            message: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }
}

enum Retry {
    No(FetchError),
    After(FetchError, Option<Duration>),
}

/// A transport error as users should read it.
fn classify(e: &reqwest::Error, host: &str, timeout: Duration) -> FetchError {
    let chain = error_chain(e);
    if e.is_timeout() {
        return FetchError::Timeout {
            host: host.to_string(),
            after: timeout,
        };
    }
    let lower = chain.to_ascii_lowercase();
    if lower.contains("dns error") || lower.contains("failed to lookup address") {
        return FetchError::Dns {
            host: host.split(':').next().unwrap_or(host).to_string(),
        };
    }
    if e.is_connect() || e.is_request() {
        let root = chain.rsplit(": ").next().unwrap_or(&chain).to_string();
        return FetchError::Connect {
            host: host.to_string(),
            message: root,
        };
    }
    FetchError::Other(format!("{host}: {chain}"))
}

/// An error and its causes, without the URL reqwest adds (URLs carry no
/// secrets, but the host is already named).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(c) = cur {
        parts.push(c.to_string());
        cur = c.source();
    }
    if parts.is_empty() {
        parts.push(e.to_string());
    }
    parts.join(": ")
}

/// The message of an API error body, for the shapes the integrations know:
/// GitHub `{message}`, PagerDuty `{error:{message,errors}}`, Prometheus
/// `{status:"error",errorType,error}`, SonarQube `{errors:[{msg}]}`, Argo CD
/// `{error,message,code}`; a short plain-text body as it is.
pub fn api_message(body: &[u8]) -> Option<String> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        return (!text.is_empty() && text.len() <= 200 && !text.starts_with('<'))
            .then(|| text.to_string());
    };
    let s = |v: &Value| v.as_str().map(str::to_string);
    if let (Some(kind), Some(msg)) = (
        v.get("errorType").and_then(Value::as_str),
        v.get("error").and_then(Value::as_str),
    ) {
        return Some(format!("{kind}: {msg}"));
    }
    if let Some(err) = v.get("error").filter(|e| e.is_object()) {
        let mut msg = err.get("message").and_then(s).unwrap_or_default();
        if let Some(list) = err.get("errors").and_then(Value::as_array) {
            let details: Vec<String> = list.iter().filter_map(s).collect();
            if !details.is_empty() {
                msg = format!("{msg} ({})", details.join("; "));
            }
        }
        return Some(msg);
    }
    if let Some(list) = v.get("errors").and_then(Value::as_array) {
        let msgs: Vec<String> = list
            .iter()
            .filter_map(|e| {
                e.get("msg")
                    .or_else(|| e.get("message"))
                    .and_then(s)
                    .or_else(|| s(e))
            })
            .collect();
        if !msgs.is_empty() {
            let base = v.get("message").and_then(s);
            return Some(match base {
                Some(b) => format!("{b} ({})", msgs.join("; ")),
                None => msgs.join("; "),
            });
        }
    }
    v.get("message")
        .and_then(s)
        .or_else(|| v.get("error").and_then(s))
}

fn status_text(code: u16) -> String {
    reqwest::StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error")
        .to_string()
}

fn parse_url(s: &str) -> Result<Url, FetchError> {
    Url::parse(s).map_err(|e| FetchError::Url {
        url: s.split('?').next().unwrap_or(s).to_string(),
        message: e.to_string(),
    })
}

/// A URL without its query (queries may hold identifiers worth not echoing).
fn strip_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

/// Standard base64 (RFC 4648) for Basic auth.
fn base64(input: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links() {
        let h = r#"<https://api.github.com/repositories/1/pulls?per_page=1&page=2>; rel="next", <https://api.github.com/repositories/1/pulls?per_page=1&page=57>; rel="last""#;
        assert_eq!(
            parse_link(h, "last").as_deref(),
            Some("https://api.github.com/repositories/1/pulls?per_page=1&page=57")
        );
        assert!(parse_link(h, "prev").is_none());
    }

    #[test]
    fn error_shapes() {
        let m = |s: &str| api_message(s.as_bytes());
        assert_eq!(
            m(r#"{"message":"Not Found","documentation_url":"x"}"#).unwrap(),
            "Not Found"
        );
        assert_eq!(
            m(r#"{"error":{"message":"Invalid Input Provided","code":2001,"errors":["Offset must be positive"]}}"#).unwrap(),
            "Invalid Input Provided (Offset must be positive)"
        );
        assert_eq!(
            m(r#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#)
                .unwrap(),
            "bad_data: parse error at char 3"
        );
        assert_eq!(
            m(r#"{"errors":[{"msg":"Component key 'x' not found"}]}"#).unwrap(),
            "Component key 'x' not found"
        );
        assert_eq!(
            m(r#"{"error":"app not found","code":5,"message":"applications.argoproj.io \"x\" not found"}"#).unwrap(),
            "applications.argoproj.io \"x\" not found"
        );
        assert_eq!(m("Bad Gateway").unwrap(), "Bad Gateway");
        assert!(m("<html>oops</html>").is_none());
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(""), "");
        assert_eq!(base64("f"), "Zg==");
        assert_eq!(base64("fo"), "Zm8=");
        assert_eq!(base64("foo"), "Zm9v");
        assert_eq!(base64("squ_abc:"), "c3F1X2FiYzo=");
    }
}
