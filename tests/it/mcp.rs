//! `idp mcp` against a real MCP client nobody here wrote: the official
//! Python SDK (`mcp` on PyPI, installed by scripts/test). The client
//! session (tests/mcp/session.py) calls every tool on a copy of
//! examples/acme, reads resources, sends malformed JSON-RPC, unknown
//! methods and tools, and negotiates protocol versions; this side then
//! checks that every tool's structured result equals the matching
//! command's `-o json`, and that edits to the catalog reach a running
//! server.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::common::{acme, TestEnv};

/// The Python that has the `mcp` package, as an absolute path (the
/// hermetic environment has no pyenv HOME to find shims with).
pub fn python() -> PathBuf {
    let out = Command::new("python3")
        .args(["-c", "import mcp, sys; print(sys.executable)"])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the mcp Python package is missing (scripts/test installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// examples/acme in its own repository, committed twice (the second
/// commit changes ledger's tier), so history and diff have answers.
pub fn acme_repo(env: &TestEnv) -> PathBuf {
    let dir = env.root.join("acme");
    copy_dir(Path::new(&acme()), &dir);
    let git = |args: &[&str]| {
        let st = env.git(&dir).args(args).status().unwrap();
        assert!(st.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "acme"]);
    let ledger = dir.join("components/ledger/catalog-info.yaml");
    let text = std::fs::read_to_string(&ledger).unwrap();
    std::fs::write(&ledger, text.replacen("tier: \"1\"", "tier: \"0\"", 1)).unwrap();
    git(&["commit", "-q", "-am", "ledger: tier 1"]);
    dir
}

pub fn session(env: &TestEnv, catalog: &Path, extra: &[&str]) -> std::process::Output {
    let script = format!("{}/tests/mcp/session.py", env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new(python());
    env.hermetic(&mut cmd);
    cmd.arg(script)
        .arg("--idp")
        .arg(assert_cmd::cargo::cargo_bin("idp"))
        .arg("--catalog")
        .arg(catalog)
        .args(extra);
    let out = cmd.output().expect("python runs");
    assert!(
        out.status.success(),
        "session failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The command line that prints what `tool` answered for `args`.
fn command_for(tool: &str, args: &Value, scratch: &Path) -> Option<Vec<String>> {
    let s = |k: &str| args.get(k).and_then(Value::as_str).map(str::to_string);
    let n = |k: &str| args.get(k).and_then(Value::as_u64).map(|v| v.to_string());
    let mut cmd: Vec<String> = Vec::new();
    let flag = |cmd: &mut Vec<String>, name: &str, v: Option<String>| {
        if let Some(v) = v {
            cmd.push(format!("--{name}"));
            cmd.push(v);
        }
    };
    match tool {
        "who_owns" => cmd.extend(["who-owns".into(), s("target")?]),
        "search_entities" => {
            cmd.push("list".into());
            flag(&mut cmd, "query", s("query"));
            flag(&mut cmd, "kind", s("kind"));
            flag(&mut cmd, "owner", s("owner"));
            flag(&mut cmd, "limit", n("limit").or(Some("50".into())));
        }
        "get_entity" => cmd.extend(["show".into(), s("ref")?]),
        "impact" => {
            cmd.extend(["impact".into(), s("ref")?]);
            flag(&mut cmd, "depth", n("depth"));
        }
        "dependency_graph" => {
            cmd.extend(["graph".into(), s("ref")?]);
            flag(&mut cmd, "depth", n("depth"));
            flag(&mut cmd, "direction", s("direction"));
        }
        "entity_history" => cmd.extend(["history".into(), s("ref")?]),
        "catalog_diff" => {
            cmd.extend(["diff".into(), s("from")?]);
            cmd.extend(s("to"));
        }
        "score" => {
            cmd.extend(["score".into(), s("entity")?]);
            flag(&mut cmd, "scorecard", s("scorecard"));
        }
        "list_templates" => cmd.extend(["scaffold".into(), "list".into()]),
        "describe_template" => cmd.extend(["scaffold".into(), "show".into(), s("template")?]),
        "scaffold_preview" => {
            let values = scratch.join(format!("values-{}.json", fastrand_name()));
            std::fs::write(&values, args["values"].to_string()).unwrap();
            cmd.extend(["scaffold".into(), s("template")?, "--dry-run".into()]);
            flag(&mut cmd, "values", Some(values.display().to_string()));
        }
        // Checked separately (it needs the file written into the catalog).
        _ => return None,
    }
    cmd.extend(["-o".into(), "json".into()]);
    Some(cmd)
}

fn fastrand_name() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn unwrapped(structured: &Value) -> &Value {
    match structured.get("result") {
        Some(inner) if structured.as_object().is_some_and(|m| m.len() == 1) => inner,
        _ => structured,
    }
}

#[test]
fn the_python_sdk_calls_every_tool_and_each_answer_is_the_commands_json() {
    let env = TestEnv::at("2026-12-01T00:00:00Z");
    let catalog = acme_repo(&env);
    let projects = env.dir("projects");
    let results = env.root.join("results.json");
    let out = session(
        &env,
        &catalog,
        &[
            "--allow-write",
            projects.to_str().unwrap(),
            "--out",
            results.to_str().unwrap(),
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: "));
    // scaffold_create wrote under the allowed folder, and only there.
    assert!(projects.join("mcp-lib/catalog-info.yaml").is_file());
    assert!(!env.root.join("escape").exists());

    let results: Vec<Value> = serde_json::from_slice(&std::fs::read(&results).unwrap()).unwrap();
    let tools: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|r| r["tool"].as_str().unwrap())
        .collect();
    assert_eq!(tools.len(), 13, "{tools:?}");
    let catalog_arg = catalog.display().to_string();
    let mut compared = 0;
    for r in &results {
        let tool = r["tool"].as_str().unwrap();
        let args = &r["args"];
        let structured = unwrapped(&r["structured"]);
        if tool == "validate_descriptor" {
            // `idp validate PATH -o json` on the same text written there.
            let rel = args["path"].as_str().unwrap_or("new/catalog-info.yaml");
            let file = catalog.join(rel);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, args["yaml"].as_str().unwrap()).unwrap();
            let run = env.run([
                "--catalog",
                &catalog_arg,
                "validate",
                file.to_str().unwrap(),
                "-o",
                "json",
            ]);
            std::fs::remove_file(&file).unwrap();
            assert_eq!(&run.json(), structured, "validate_descriptor {args}");
            compared += 1;
            continue;
        }
        let Some(cmd) = command_for(tool, args, &env.root) else {
            continue;
        };
        let mut full = vec!["--catalog".to_string(), catalog_arg.clone()];
        full.extend(cmd.clone());
        let run = env.run(&full);
        assert_eq!(
            &run.json(),
            structured,
            "{tool} {args} differs from idp {}",
            cmd.join(" ")
        );
        compared += 1;
    }
    assert!(compared >= 14, "{compared}");
}

/// A server started on a catalog, spoken to line by line.
pub struct Raw {
    child: std::process::Child,
    out: BufReader<std::process::ChildStdout>,
    id: u64,
}

impl Raw {
    pub fn start(env: &TestEnv, catalog: &Path) -> Raw {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("idp"));
        env.hermetic(&mut cmd);
        let mut child = cmd
            .args(["mcp", "--catalog"])
            .arg(catalog)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let mut raw = Raw { child, out, id: 0 };
        let init = raw.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
        );
        assert!(init.get("result").is_some(), "{init}");
        raw.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        raw
    }

    fn send(&mut self, msg: &Value) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{msg}").unwrap();
        stdin.flush().unwrap();
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.id += 1;
        let id = self.id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let mut line = String::new();
            assert!(self.out.read_line(&mut line).unwrap() > 0, "server closed");
            let msg: Value = serde_json::from_str(&line).expect("stdout is JSON-RPC only");
            if msg["id"] == json!(id) {
                return msg;
            }
        }
    }

    pub fn call(&mut self, tool: &str, args: Value) -> Value {
        self.request("tools/call", json!({"name": tool, "arguments": args}))["result"].clone()
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_edit_to_the_catalog_reaches_a_running_server() {
    let env = TestEnv::new();
    let catalog = acme_repo(&env);
    let mut server = Raw::start(&env, &catalog);
    let before = server.call("who_owns", json!({"target": "ledger"}));
    assert_eq!(
        before["structuredContent"]["owner"]["ref"],
        "group:default/payments"
    );
    let ledger = catalog.join("components/ledger/catalog-info.yaml");
    let text = std::fs::read_to_string(&ledger).unwrap();
    std::fs::write(
        &ledger,
        text.replacen("owner: payments", "owner: platform", 1),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(4);
    loop {
        let now = server.call("who_owns", json!({"target": "ledger"}));
        if now["structuredContent"]["owner"]["ref"] == "group:default/platform" {
            break;
        }
        assert!(Instant::now() < deadline, "the edit was not noticed: {now}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // A new file is noticed too.
    std::fs::write(
        catalog.join("components/refunds.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: refunds\nspec:\n  type: service\n  lifecycle: experimental\n  owner: payments\n",
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(4);
    loop {
        let now = server.call("get_entity", json!({"ref": "refunds"}));
        if now["isError"] == json!(false) {
            assert_eq!(now["structuredContent"]["ref"], "component:default/refunds");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new file was not noticed: {now}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn without_allow_write_there_is_no_scaffold_create_and_nothing_is_printed_but_protocol() {
    let env = TestEnv::new();
    let catalog = acme_repo(&env);
    let mut server = Raw::start(&env, &catalog);
    let tools = server.request("tools/list", json!({}));
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 12, "{names:?}");
    assert!(!names.contains(&"scaffold_create"));
    let r = server.request(
        "tools/call",
        json!({"name": "scaffold_create", "arguments": {"template": "python-library", "name": "x"}}),
    );
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--allow-write"),
        "{r}"
    );
    // A call that makes the core warn (an unknown catalog) keeps stdout clean.
    let r = server.call("score", json!({"scorecard": "nope"}));
    assert_eq!(r["isError"], json!(true));
    assert!(
        r["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("production-readiness"),
        "{r}"
    );
}

#[test]
fn a_missing_catalog_is_a_tool_error_with_the_clis_hint() {
    let env = TestEnv::new();
    let missing = env.root.join("nowhere");
    let mut server = Raw::start(&env, &missing);
    let r = server.call("who_owns", json!({"target": "ledger"}));
    assert_eq!(r["isError"], json!(true), "{r}");
    let text = r["content"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("error: ") && text.contains("nowhere"),
        "{text}"
    );
    // and the server still answers
    let pong = server.request("ping", json!({}));
    assert!(pong.get("result").is_some(), "{pong}");
}
