//! `idp mcp --http 127.0.0.1:PORT`: the same server over MCP's streamable
//! HTTP transport, for clients that cannot spawn a process. Loopback only
//! (a non-loopback address is refused before anything listens; the SDK
//! also rejects a `Host` that is not a loopback name, against DNS
//! rebinding), and every request must carry `Authorization: Bearer TOKEN`:
//! the token is `IDP_MCP_TOKEN`, or one generated at start and printed on
//! stderr. A request without it is answered 401 before the MCP layer sees
//! it.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tower_service::Service;

use crate::command_error::{CommandError, Result};
use crate::commands::UsageError;
use crate::output::Ui;
use crate::settings::Settings;

use super::Server;

/// The variable that gives the bearer token.
pub const TOKEN_VAR: &str = "IDP_MCP_TOKEN";

/// Refuses an address that is not loopback: the server answers with the
/// catalog and (with --allow-write) writes files, so it must not be
/// reachable from the network.
pub fn check_addr(addr: SocketAddr) -> Result<()> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(UsageError(format!(
            "--http {addr}: not a loopback address; idp mcp listens on 127.0.0.1 or [::1] only \
             (e.g. --http 127.0.0.1:8765)"
        ))
        .into())
    }
}

/// The bearer token: `IDP_MCP_TOKEN`, or a new random one (and whether it
/// was generated, so it is shown).
fn token(settings: &Settings) -> Result<(String, bool)> {
    if let Some(secret) = settings.token(TOKEN_VAR) {
        return Ok((secret.expose().to_string(), false));
    }
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| CommandError::internal(anyhow::anyhow!("generating a token: {e}")))?;
    Ok((bytes.iter().map(|b| format!("{b:02x}")).collect(), true))
}

/// Whether `header` is `Bearer TOKEN` (compared in constant time).
fn authorized(header: Option<&hyper::header::HeaderValue>, token: &str) -> bool {
    let Some(given) = header
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (a, b) = (given.trim().as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What rmcp's HTTP service answers.
type BoxResponse = Response<http_body_util::combinators::BoxBody<Bytes, Infallible>>;

fn unauthorized() -> BoxResponse {
    let body = Full::new(Bytes::from_static(
        b"{\"error\":\"unauthorized: send Authorization: Bearer <IDP_MCP_TOKEN>\"}",
    ))
    .map_err(|never: Infallible| match never {})
    .boxed();
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::WWW_AUTHENTICATE,
        hyper::header::HeaderValue::from_static("Bearer"),
    );
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// Serves until the process is stopped.
pub async fn serve(
    ui: &'static Ui,
    settings: &Settings,
    server: Server,
    addr: SocketAddr,
) -> Result<()> {
    check_addr(addr)?;
    let (token, generated) = token(settings)?;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        CommandError::from(UsageError(format!("--http {addr}: cannot listen: {e}")))
    })?;
    let local = listener.local_addr()?;
    {
        let mut err = ui.stderr();
        writeln!(
            err,
            "idp mcp: serving MCP (streamable HTTP) at http://{local}/mcp"
        )?;
        if generated {
            writeln!(
                err,
                "idp mcp: bearer token (set {TOKEN_VAR} to choose it): {token}"
            )?;
        } else {
            writeln!(err, "idp mcp: bearer token from {TOKEN_VAR}")?;
        }
        err.flush()?;
    }
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let token: Arc<str> = token.into();
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                ui.warn(&format!("idp mcp: accepting a connection: {e}"));
                continue;
            }
        };
        let service = service.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let handler = hyper::service::service_fn(move |req: Request<Incoming>| {
                let mut service = service.clone();
                let ok = authorized(req.headers().get(hyper::header::AUTHORIZATION), &token);
                async move {
                    if !ok {
                        return Ok::<_, Infallible>(unauthorized());
                    }
                    service.call(req).await
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), handler)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_served() {
        for ok in ["127.0.0.1:0", "[::1]:8765", "127.0.0.2:1"] {
            assert!(check_addr(ok.parse().unwrap()).is_ok(), "{ok}");
        }
        for bad in ["0.0.0.0:8765", "[::]:1", "192.168.1.10:80"] {
            assert!(check_addr(bad.parse().unwrap()).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_token_must_match_exactly() {
        let h = |s: &'static str| hyper::header::HeaderValue::from_static(s);
        assert!(authorized(Some(&h("Bearer abc")), "abc"));
        assert!(!authorized(Some(&h("Bearer abd")), "abc"));
        assert!(!authorized(Some(&h("Bearer ab")), "abc"));
        assert!(!authorized(Some(&h("Basic abc")), "abc"));
        assert!(!authorized(None, "abc"));
    }
}
