//! An in-process HTTP server on 127.0.0.1 for the live-data tests: routes
//! answer with payloads shaped like the real APIs, and every request is
//! recorded (method, URL, headers) so tests can assert what idp sent —
//! auth headers included.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A canned answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering (timeouts).
    pub delay: Duration,
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(body: serde_json::Value) -> Self {
        Reply::status(200)
            .body(body.to_string())
            .header("content-type", "application/json")
    }

    /// An empty answer with this status.
    pub fn status(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query, as sent.
    pub url: String,
    /// Header names lowercased.
    pub headers: HashMap<String, String>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

type Handler = Arc<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

struct Route {
    /// Matched against the path (exact) or path+query (when it has a `?`).
    pattern: String,
    handler: Handler,
    hits: usize,
}

/// The server: one thread per connection, one request per connection
/// (`Connection: close`), so no request ever waits for a pool thread.
/// Dropping it stops accepting.
pub struct FakeApi {
    pub base: String,
    pub port: u16,
    routes: Arc<Mutex<Vec<Route>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl FakeApi {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake api");
        let port = listener.local_addr().expect("addr").port();
        let routes: Arc<Mutex<Vec<Route>>> = Arc::default();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (r, log, halt) = (routes.clone(), seen.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if halt.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (r, log) = (r.clone(), log.clone());
                thread::spawn(move || serve(stream, &r, &log));
            }
        });
        FakeApi {
            base: format!("http://127.0.0.1:{port}"),
            port,
            routes,
            seen,
            stop,
        }
    }

    /// Always answers `reply` for `pattern`: a path, a path with a query
    /// prefix (`/x?a=1`), or a path prefix ending in `*` (`/services/*`).
    pub fn route(&self, pattern: &str, reply: Reply) -> &Self {
        self.route_fn(pattern, move |_, _| reply.clone())
    }

    /// Answers with a function of the request and the hit number (1-based).
    pub fn route_fn(
        &self,
        pattern: &str,
        f: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static,
    ) -> &Self {
        self.routes.lock().unwrap().push(Route {
            pattern: pattern.to_string(),
            handler: Arc::new(f),
            hits: 0,
        });
        self
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Requests whose path starts with `prefix`.
    pub fn seen_at(&self, prefix: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.url.starts_with(prefix))
            .collect()
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads one request, answers it, closes the connection.
fn serve(stream: TcpStream, routes: &Mutex<Vec<Route>>, log: &Mutex<Vec<Seen>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return; // a wake-up connection, or the client went away
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let url = parts.next().unwrap_or("").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let seen = Seen {
        method,
        url,
        headers,
    };
    log.lock().unwrap().push(seen.clone());
    let picked = {
        let mut routes = routes.lock().unwrap();
        let path = seen.url.split('?').next().unwrap_or("").to_string();
        // The most specific route wins.
        routes
            .iter_mut()
            .filter(|route| {
                if let Some(prefix) = route.pattern.strip_suffix('*') {
                    path.starts_with(prefix)
                } else if route.pattern.contains('?') {
                    seen.url.starts_with(&route.pattern)
                } else {
                    route.pattern == path
                }
            })
            .max_by_key(|route| route.pattern.len())
            .map(|route| {
                route.hits += 1;
                (route.handler.clone(), route.hits)
            })
    };
    let reply = match picked {
        Some((handler, hit)) => handler(&seen, hit),
        None => Reply::status(404).body(format!("no fake route for {}", seen.url)),
    };
    if !reply.delay.is_zero() {
        thread::sleep(reply.delay);
    }
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    let mut has_length = false;
    for (name, value) in &reply.headers {
        has_length |= name.eq_ignore_ascii_case("content-length");
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !has_length {
        head.push_str(&format!("content-length: {}\r\n", reply.body.len()));
    }
    head.push_str("connection: close\r\n\r\n");
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&reply.body);
    let _ = stream.flush();
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A port with a listener that accepts connections and never answers.
pub fn black_hole() -> (u16, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream); // keep it open, say nothing
            if held.len() > 64 {
                break;
            }
        }
    });
    (port, handle)
}

/// A loopback port nothing listens on (connection refused).
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().unwrap().port()
}

/// Every GitHub endpoint the integration reads, answering "nothing yet".
pub fn github_ok(fake: &FakeApi) {
    fake.route(
        "/repos/acme/svc",
        Reply::json(serde_json::json!({
            "full_name": "acme/svc", "html_url": "https://github.com/acme/svc",
            "default_branch": "main", "archived": false
        })),
    )
    .route(
        "/repos/acme/svc/commits",
        Reply::json(serde_json::json!([])),
    )
    .route("/repos/acme/svc/pulls", Reply::json(serde_json::json!([])))
    .route(
        "/repos/acme/svc/actions/runs",
        Reply::json(serde_json::json!({"total_count": 0, "workflow_runs": []})),
    )
    .route(
        "/repos/acme/svc/releases/latest",
        Reply::status(404).body(r#"{"message":"Not Found"}"#),
    )
    .route(
        "/repos/acme/svc/deployments",
        Reply::json(serde_json::json!([])),
    );
}
