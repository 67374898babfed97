//! A real Prometheus server (Debian's `prometheus` binary) on a free loopback
//! port, for the live-data tests. It scrapes nothing: its data comes from
//! recording rules over constants and alert rules that always (or never)
//! fire, evaluated every second, so queries and alerts have real answers and
//! real errors.
//!
//! One server per test-binary run ([`shared`]), started on first use: a
//! watchdog shell kills it when the test binary exits (statics are never
//! dropped), and [`PrometheusServer`]'s `Drop` kills it when owned.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long startup and the first rule evaluations may take.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Recording rules (constants), an always-firing alert, an alert pending for
/// an hour, and one that never fires.
pub const RULES: &str = r#"groups:
  - name: idp-test
    interval: 1s
    rules:
      - record: job:http_errors:ratio
        expr: vector(0.02)
      - record: job:latency_seconds:p99
        expr: label_replace(vector(0.25), "service", "checkout", "", "")
      - record: job:requests:rate5m
        expr: label_replace(vector(12), "instance", "a", "", "") or label_replace(vector(30), "instance", "b", "", "")
      - alert: CheckoutDown
        expr: vector(1) > 0
        for: 0s
        labels:
          severity: page
          service: checkout
        annotations:
          summary: checkout is down (always, in tests)
      - alert: SlowBurn
        expr: vector(1) > 0
        for: 1h
        labels:
          severity: ticket
      - alert: NeverFires
        expr: vector(1) < 0
"#;

/// A running Prometheus.
pub struct PrometheusServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The port.
    pub port: u16,
    /// The watchdog shell (Prometheus is its child).
    child: Child,
    /// Config, rules and TSDB; removed when the server is dropped.
    _dir: tempfile::TempDir,
}

/// The server shared by every test of this binary run.
pub fn shared() -> &'static PrometheusServer {
    static SERVER: OnceLock<PrometheusServer> = OnceLock::new();
    SERVER.get_or_init(|| PrometheusServer::start().unwrap_or_else(|e| panic!("{e}")))
}

impl PrometheusServer {
    /// Starts a server and waits until its rules have evaluated.
    pub fn start() -> Result<Self, String> {
        let mut last = String::new();
        // The free port may be taken between probing and binding: retry.
        for _ in 0..3 {
            match Self::start_once() {
                Ok(server) => return Ok(server),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn start_once() -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
        std::fs::write(dir.path().join("rules.yml"), RULES).map_err(|e| e.to_string())?;
        std::fs::write(
            dir.path().join("prometheus.yml"),
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - rules.yml\n",
        )
        .map_err(|e| e.to_string())?;
        let port = free_port();
        let child = spawn(dir.path(), port)?;
        let mut server = PrometheusServer {
            base: format!("http://127.0.0.1:{port}"),
            port,
            child,
            _dir: dir,
        };
        server.wait_ready()?;
        Ok(server)
    }

    /// Polls until the server is ready, the recording rules have a sample
    /// and the always-firing alert fires.
    fn wait_ready(&mut self) -> Result<(), String> {
        let start = Instant::now();
        let mut last = String::from("no answer yet");
        while start.elapsed() < READY_TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "prometheus exited ({status}) before it was ready; log:\n{}",
                    std::fs::read_to_string(self._dir.path().join("prometheus.log"))
                        .unwrap_or_default()
                ));
            }
            match self.readiness() {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!(
            "prometheus on port {} not ready within {READY_TIMEOUT:?}: {last}; log:\n{}",
            self.port,
            std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default()
        ))
    }

    fn readiness(&self) -> Result<(), String> {
        let (status, _) = self.get("/-/ready")?;
        if status != 200 {
            return Err(format!("/-/ready answered {status}"));
        }
        let (_, alerts) = self.get_json("/api/v1/alerts")?;
        let firing = alerts["data"]["alerts"].as_array().is_some_and(|a| {
            a.iter()
                .any(|x| x["labels"]["alertname"] == "CheckoutDown" && x["state"] == "firing")
        });
        if !firing {
            return Err("CheckoutDown not firing yet".into());
        }
        for series in ["job:http_errors:ratio", "job:requests:rate5m"] {
            let (_, answer) = self.get_json(&format!("/api/v1/query?query={series}"))?;
            if answer["data"]["result"]
                .as_array()
                .is_none_or(Vec::is_empty)
            {
                return Err(format!("{series} has no sample yet"));
            }
        }
        Ok(())
    }

    /// `GET path` on the server: status and body.
    pub fn get(&self, path: &str) -> Result<(u16, String), String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        write!(
            stream,
            "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n",
            self.port
        )
        .map_err(|e| e.to_string())?;
        let mut raw = String::new();
        stream.read_to_string(&mut raw).map_err(|e| e.to_string())?;
        let (head, body) = raw.split_once("\r\n\r\n").ok_or("no HTTP header end")?;
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line in {head:?}"))?;
        Ok((status, body.to_string()))
    }

    /// `GET path`, the body parsed as JSON.
    pub fn get_json(&self, path: &str) -> Result<(u16, serde_json::Value), String> {
        let (status, body) = self.get(path)?;
        let json = serde_json::from_str(&body).map_err(|e| format!("{path}: {e}: {body}"))?;
        Ok((status, json))
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        // Killing the watchdog makes its EXIT trap stop Prometheus.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// Starts Prometheus under a watchdog shell that stops it, and removes its
/// directory, when this test process (`WATCH`) is gone or the shell itself
/// is killed.
fn spawn(dir: &Path, port: u16) -> Result<Child, String> {
    let log = std::fs::File::create(dir.join("prometheus.log")).map_err(|e| e.to_string())?;
    let script = r#"
prometheus "$@" &
p=$!
trap 'kill $p 2>/dev/null; wait $p 2>/dev/null; rm -rf "$DIR"' EXIT
trap 'exit 0' TERM INT
while kill -0 "$WATCH" 2>/dev/null && kill -0 "$p" 2>/dev/null; do sleep 0.5; done
"#;
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("prometheus-watchdog")
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .env("WATCH", std::process::id().to_string())
        // The shared server's TempDir is never dropped: the watchdog cleans up.
        .env("DIR", dir)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start prometheus (scripts/test installs it): {e}"))
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}
