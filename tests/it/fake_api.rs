//! An in-process HTTP server on 127.0.0.1 for the live-data tests: routes
//! answer with payloads shaped like the real APIs, and every request is
//! recorded (method, URL, headers) so tests can assert what idp sent —
//! auth headers included.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::TcpListener;
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
        Reply::status(200).body(body.to_string()).header("content-type", "application/json")
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
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

type Handler = Arc<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

struct Route {
    /// Matched against the path (exact) or path+query (when it has a `?`).
    pattern: String,
    handler: Handler,
    hits: usize,
}

/// The server. Dropping it stops answering (the thread ends with the test).
pub struct FakeApi {
    pub base: String,
    pub port: u16,
    routes: Arc<Mutex<Vec<Route>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    server: Arc<tiny_http::Server>,
}

impl FakeApi {
    pub fn start() -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind fake api"));
        let port = server.server_addr().to_ip().expect("ip addr").port();
        let routes: Arc<Mutex<Vec<Route>>> = Arc::default();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let (s, r, log) = (server.clone(), routes.clone(), seen.clone());
        thread::spawn(move || {
            for mut request in s.incoming_requests() {
                let seen = Seen {
                    method: request.method().to_string(),
                    url: request.url().to_string(),
                    headers: request
                        .headers()
                        .iter()
                        .map(|h| {
                            (
                                h.field.as_str().as_str().to_ascii_lowercase(),
                                h.value.as_str().to_string(),
                            )
                        })
                        .collect(),
                };
                let mut sink = Vec::new();
                let _ = request.as_reader().read_to_end(&mut sink);
                log.lock().unwrap().push(seen.clone());
                // Pick the route under the lock; answer on a thread of its
                // own, so slow handlers overlap like a real server's.
                let picked = {
                    let mut routes = r.lock().unwrap();
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
                thread::spawn(move || {
                    let reply = match picked {
                        Some((handler, hit)) => handler(&seen, hit),
                        None => Reply::status(404).body(format!("no fake route for {}", seen.url)),
                    };
                    if !reply.delay.is_zero() {
                        thread::sleep(reply.delay);
                    }
                    let mut response = tiny_http::Response::from_data(reply.body)
                        .with_status_code(reply.status);
                    for (name, value) in &reply.headers {
                        if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                            response.add_header(h);
                        }
                    }
                    let _ = request.respond(response);
                });
            }
        });
        FakeApi {
            base: format!("http://127.0.0.1:{port}"),
            port,
            routes,
            seen,
            server,
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
        self.seen().into_iter().filter(|s| s.url.starts_with(prefix)).collect()
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.server.unblock();
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
