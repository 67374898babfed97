//! `idp mcp`, the parts finished in session 4: scorecard levels in
//! `get_entity`, cost in `who_owns` (one builder for the CLI and the
//! tool), template values as a JSON Schema in `describe_template`. The
//! Python SDK session (tests/it/mcp.rs, tests/mcp/session.py) checks the
//! same answers through a client nobody here wrote; these pin the details.

use serde_json::{json, Value};

use super::common::{CatalogBuilder, TestEnv};
use super::mcp::{acme_repo, Raw};

/// The text part of a tool answer: the summary line, then the JSON.
fn summary(answer: &Value) -> &str {
    answer["content"][0]["text"]
        .as_str()
        .and_then(|t| t.lines().next())
        .unwrap_or_default()
}

#[test]
fn get_entity_has_each_scorecards_level_and_what_to_fix_as_show_json_does() {
    let env = TestEnv::at("2026-12-01T00:00:00Z");
    let catalog = acme_repo(&env);
    let mut server = Raw::start(&env, &catalog);
    let answer = server.call("get_entity", json!({"ref": "ledger"}));
    assert_eq!(answer["isError"], json!(false), "{answer}");
    let got = &answer["structuredContent"];
    let cards = got["scorecards"].as_array().expect("scorecards");
    let card = cards
        .iter()
        .find(|c| c["scorecard"] == "production-readiness")
        .expect("production-readiness applies to ledger");
    assert_eq!(card["entity"], "component:default/ledger");
    assert_eq!(card["level"], "silver", "{card:#}");
    assert_eq!(card["nextLevel"], "gold", "{card:#}");
    let techdocs = card["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "techdocs")
        .expect("the techdocs rule");
    assert_eq!(techdocs["state"], "fail");
    assert!(
        techdocs["message"]
            .as_str()
            .unwrap()
            .contains("docs/index.md"),
        "{techdocs}"
    );
    assert!(
        summary(&answer).contains("production-readiness: silver"),
        "{}",
        summary(&answer)
    );
    // The same as `idp show ledger -o json`, and as `idp score ledger -o json`'s rows.
    let c = catalog.to_str().unwrap();
    let show = env
        .run(["--catalog", c, "show", "ledger", "-o", "json"])
        .json();
    assert_eq!(&show, got);
    let score = env
        .run(["--catalog", c, "score", "ledger", "-o", "json"])
        .json();
    assert_eq!(&score["results"], &got["scorecards"]);
    // An entity no scorecard applies to has an empty list, not no key.
    let group = server.call("get_entity", json!({"ref": "group:payments"}));
    assert_eq!(
        group["structuredContent"]["scorecards"],
        json!([]),
        "{group}"
    );
}

#[test]
fn who_owns_through_mcp_has_the_cost_the_cli_shows() {
    // examples/acme bills May to October 2026; "last month" is October.
    let env = TestEnv::at("2026-11-15T00:00:00Z");
    let catalog = acme_repo(&env);
    let c = catalog.to_str().unwrap();
    // Billing files written just now are racy for the cost cache.
    let billing = catalog.join("finops/focus-2026.csv.gz");
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&billing)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
    let mut server = Raw::start(&env, &catalog);
    // Without cost data: no cost, in both.
    let before = server.call("who_owns", json!({"target": "checkout"}));
    assert!(
        before["structuredContent"].get("cost").is_none(),
        "{before}"
    );
    let cli = env
        .run(["--catalog", c, "who-owns", "checkout", "-o", "json"])
        .json();
    assert_eq!(cli, before["structuredContent"]);

    env.run(["--catalog", c, "cost"]).ok(); // the cached aggregate
    let after = server.call("who_owns", json!({"target": "checkout"}));
    let got = &after["structuredContent"];
    assert_eq!(got["cost"][0]["month"], "2026-10", "{after}");
    assert_eq!(got["cost"][0]["currency"], "USD", "{after}");
    let cli = env
        .run(["--catalog", c, "who-owns", "checkout", "-o", "json"])
        .json();
    assert_eq!(&cli, got);
    // The text rendering shows it too.
    env.run(["--catalog", c, "who-owns", "checkout"])
        .ok()
        .stdout_has("USD in 2026-10");
}

const COOKIECUTTER: &str = r#"{
  "project_name": "My Service",
  "slug": "{{ cookiecutter.project_name|lower|replace(' ', '-') }}",
  "license": ["MIT", "Apache-2.0"],
  "use_docker": true,
  "port": 8080,
  "_private": "x",
  "__computed": "{{ cookiecutter.slug }}",
  "__prompts__": {"project_name": "Name of the service?"}
}"#;

#[test]
fn describe_template_gives_a_cookiecutter_templates_values_as_a_json_schema() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::standard(env.root.join("catalog")).build();
    let dir = repo.dir.join("templates/mini");
    std::fs::create_dir_all(dir.join("{{cookiecutter.slug}}")).unwrap();
    std::fs::write(dir.join("cookiecutter.json"), COOKIECUTTER).unwrap();
    std::fs::write(dir.join("{{cookiecutter.slug}}/README.md"), "# hi\n").unwrap();
    repo.commit("a template");
    let mut server = Raw::start(&env, &repo.dir);
    let answer = server.call("describe_template", json!({"template": "mini"}));
    assert_eq!(answer["isError"], json!(false), "{answer}");
    let schema = &answer["structuredContent"]["schema"];
    assert_eq!(
        schema["$schema"], "http://json-schema.org/draft-07/schema#",
        "{schema:#}"
    );
    let props = schema["properties"].as_object().unwrap();
    let names: Vec<&str> = props.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["project_name", "slug", "license", "use_docker", "port"]
    );
    assert_eq!(
        props["project_name"],
        json!({"title": "Name of the service?", "type": "string", "default": "My Service"})
    );
    assert_eq!(
        props["license"],
        json!({"type": "string", "enum": ["MIT", "Apache-2.0"], "default": "MIT"})
    );
    assert_eq!(
        props["use_docker"],
        json!({"type": "boolean", "default": true})
    );
    // A templated default is computed from the other values: described, not a default.
    assert!(props["slug"].get("default").is_none(), "{}", props["slug"]);
    assert!(props["slug"]["description"]
        .as_str()
        .unwrap()
        .contains("computed"));
    // A real validator accepts it, and it says yes and no to values.
    let validator = jsonschema::draft7::new(schema).expect("a valid draft-07 schema");
    assert!(validator.is_valid(&json!({"project_name": "x", "license": "MIT", "port": 9000})));
    assert!(!validator.is_valid(&json!({"license": "GPL"})));
    assert!(!validator.is_valid(&json!({"use_docker": "yes"})));
    // `idp scaffold show -o json` says the same.
    let cli = env
        .run([
            "--catalog",
            repo.path(),
            "scaffold",
            "show",
            "mini",
            "-o",
            "json",
        ])
        .json();
    assert_eq!(cli, answer["structuredContent"]);
}

/// `idp mcp --http 127.0.0.1:0` on `catalog`, its URL and the token it
/// printed (when generated).
struct Http {
    child: std::process::Child,
    url: String,
    printed_token: Option<String>,
    stderr: Vec<String>,
}

impl Http {
    fn start(env: &TestEnv, catalog: &std::path::Path, token: Option<&str>) -> Http {
        use std::io::BufRead;
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("idp"));
        env.hermetic(&mut cmd);
        if let Some(t) = token {
            cmd.env("IDP_MCP_TOKEN", t);
        }
        let mut child = cmd
            .args(["mcp", "--http", "127.0.0.1:0", "--catalog"])
            .arg(catalog)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut stderr = Vec::new();
        let mut url = None;
        let mut printed_token = None;
        while url.is_none() || stderr.len() < 2 {
            let mut line = String::new();
            assert!(
                err.read_line(&mut line).unwrap() > 0,
                "stderr closed: {stderr:?}"
            );
            if let Some(at) = line.find("http://") {
                url = Some(line[at..].trim().to_string());
            }
            if let Some((_, t)) = line.split_once("): ") {
                printed_token = Some(t.trim().to_string());
            }
            stderr.push(line);
        }
        Http {
            child,
            url: url.unwrap(),
            printed_token,
            stderr,
        }
    }

    /// The status line of a raw `initialize` POST with this Authorization.
    fn status(&self, authorization: Option<&str>) -> String {
        use std::io::{Read, Write};
        let addr = self
            .url
            .trim_start_matches("http://")
            .trim_end_matches("/mcp");
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#;
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let auth = authorization
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        write!(
            s,
            "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\n{auth}Content-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        // Enough for the status line (an SSE answer stays open).
        while !answer.contains(&b'\n') {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&answer)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

impl Drop for Http {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn over_http_the_python_sdk_gets_the_same_answers_with_the_token_and_401_without() {
    let env = TestEnv::new();
    let catalog = acme_repo(&env);
    let token = "test-token-5f1c2a";
    let server = Http::start(&env, &catalog, Some(token));
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{}",
        server.url
    );
    // The token from the environment is never printed.
    assert!(server.printed_token.is_none(), "{:?}", server.stderr);
    assert!(!server.stderr.concat().contains(token));

    assert!(
        server.status(None).contains(" 401 "),
        "{}",
        server.status(None)
    );
    let wrong = server.status(Some("Bearer not-the-token"));
    assert!(wrong.contains(" 401 "), "{wrong}");
    let basic = server.status(Some(&format!("Basic {token}")));
    assert!(basic.contains(" 401 "), "{basic}");
    let right = server.status(Some(&format!("Bearer {token}")));
    assert!(right.contains(" 200 "), "{right}");

    let script = format!("{}/tests/mcp/http_session.py", env!("CARGO_MANIFEST_DIR"));
    let mut cmd = std::process::Command::new(super::mcp::python());
    env.hermetic(&mut cmd);
    let out = cmd
        .arg(script)
        .arg(&server.url)
        .arg(token)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cli = env
        .run([
            "--catalog",
            catalog.to_str().unwrap(),
            "who-owns",
            "ledger",
            "-o",
            "json",
        ])
        .json();
    assert_eq!(got["who_owns"], cli);
}

#[test]
fn over_http_a_generated_token_is_printed_and_a_non_loopback_address_refused() {
    let env = TestEnv::new();
    let catalog = acme_repo(&env);
    let c = catalog.to_str().unwrap();
    env.run(["--catalog", c, "mcp", "--http", "0.0.0.0:8765"])
        .code(2)
        .stderr_has("loopback");
    let server = Http::start(&env, &catalog, None);
    let token = server.printed_token.clone().expect("a printed token");
    assert!(token.len() >= 32, "{token}");
    assert!(server.status(None).contains(" 401 "));
    let right = server.status(Some(&format!("Bearer {token}")));
    assert!(right.contains(" 200 "), "{right}");
}
