//! Budgets on untrusted YAML and an untrusted cache: alias amplification,
//! deep nesting and files with thousands of problems finish in seconds and
//! hundreds of megabytes with a positioned error; a damaged or truncated index
//! (even truncated while it is being read) costs a rebuild, never a wrong
//! answer or a signal. Every hostile run is held to the budget of
//! 5 s and 500 MB, from the kernel's accounting of the child: its CPU time
//! (user + system, all threads: at least its wall time on an idle machine,
//! and unlike wall time not inflated by other tests sharing the cores) and
//! its peak resident memory.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{catalog_with, component, CatalogBuilder, Repo, Run, TestEnv, ORG};

const HEADER: &str =
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: hostile\nspec:\n";

/// One run of `idp` with its CPU time and peak resident memory.
struct Measured {
    run: Run,
    cpu: Duration,
    elapsed: Duration,
    max_rss_mb: u64,
}

impl Measured {
    /// Asserts the budget for one hostile case.
    #[track_caller]
    fn within_budget(&self) -> &Run {
        assert!(
            self.cpu <= Duration::from_secs(5),
            "took {:?} of CPU ({:?} wall)\n{}",
            self.cpu,
            self.elapsed,
            self.run.stderr
        );
        assert!(
            self.max_rss_mb <= 500,
            "peak RSS {} MB\n{}",
            self.max_rss_mb,
            self.run.stderr
        );
        &self.run
    }
}

/// Runs `idp ARGS` in the test environment, waiting with `wait4` so the
/// kernel reports this child's own peak RSS.
// The child is reaped by the `wait4` below, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn measured(env: &TestEnv, args: &[&str]) -> Measured {
    // Reaped by the wait4 below, not by `Child::wait`.
    #[allow(clippy::zombie_processes)]
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("idp"));
    env.hermetic(&mut cmd);
    let mut child = cmd
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn idp");
    let start = Instant::now();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let mut status = 0;
    // SAFETY: plain FFI call with valid pointers; the child is ours and is
    // not waited for anywhere else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t, "wait4");
    let elapsed = start.elapsed();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    };
    let run = Run {
        code,
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "idp panicked:\n{}",
        run.stderr
    );
    let seconds = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Measured {
        run,
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        elapsed,
        // ru_maxrss is in kilobytes on Linux.
        max_rss_mb: usage.ru_maxrss as u64 / 1024,
    }
}

/// The single error of `validate -o json`, after checking exit code and budgets.
fn only_error(env: &TestEnv, repo: &Repo) -> Value {
    let m = measured(env, &["--catalog", repo.path(), "validate", "-o", "json"]);
    m.within_budget().only_error()
}

/// Other commands warn about the refused file and answer from the rest.
fn other_commands_go_on(env: &TestEnv, repo: &Repo) {
    let m = measured(
        env,
        &[
            "--catalog",
            repo.path(),
            "list",
            "-k",
            "component",
            "-o",
            "json",
        ],
    );
    let run = m.within_budget();
    run.ok();
    assert!(run.refs().contains(&"component:default/good".to_string()));
    run.stderr_has("kept part of the catalog from loading");
}

/// The character at a 1-based line and column of `text`.
fn char_at(text: &str, line: u64, column: u64) -> Option<char> {
    text.lines()
        .nth(line as usize - 1)?
        .chars()
        .nth(column as usize - 1)
}

/// `a: &a [n items]` and `b: [*a × n]`: n² nodes from about 5n bytes.
fn alias_amplified(n: usize) -> String {
    format!(
        "{HEADER}  a: &a [{}]\n  b: [{}]\n",
        vec!["1"; n].join(","),
        vec!["*a"; n].join(",")
    )
}

fn assert_refused_at_an_alias(e: &Value, text: &str, budget: &str) {
    assert_eq!(e["code"], "yaml-budget", "{e}");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains(budget), "{message}");
    assert!(message.contains("aliases included"), "{message}");
    let (line, column) = (e["line"].as_u64().unwrap(), e["column"].as_u64().unwrap());
    assert_eq!(line, 7, "{e}");
    assert_eq!(char_at(text, line, column), Some('*'), "{e}");
}

#[test]
fn a_30_kb_alias_amplification_is_refused_at_the_node_budget() {
    let env = TestEnv::new();
    let text = alias_amplified(6000);
    assert!((29_000..32_000).contains(&text.len()), "{}", text.len());
    let repo = catalog_with(&env, "amplified.yaml", &text);
    let e = only_error(&env, &repo);
    assert_refused_at_an_alias(&e, &text, "more than 1000000 nodes");
    other_commands_go_on(&env, &repo);
}

#[test]
fn a_150_kb_alias_amplification_is_refused_at_the_node_budget() {
    let env = TestEnv::new();
    let text = alias_amplified(30_000);
    assert!((145_000..155_000).contains(&text.len()), "{}", text.len());
    let repo = catalog_with(&env, "amplified.yaml", &text);
    let e = only_error(&env, &repo);
    assert_refused_at_an_alias(&e, &text, "more than 1000000 nodes");
    other_commands_go_on(&env, &repo);
}

#[test]
fn aliases_of_a_long_string_are_refused_at_the_text_budget() {
    let env = TestEnv::new();
    // 1 MB of text, named 100 times: 100 MB from a 1 MB file, few nodes.
    let text = format!(
        "{HEADER}  a: &a {}\n  b: [{}]\n",
        "x".repeat(1 << 20),
        vec!["*a"; 100].join(", ")
    );
    let repo = catalog_with(&env, "amplified.yaml", &text);
    let e = only_error(&env, &repo);
    assert_refused_at_an_alias(&e, &text, "bytes of text");
}

#[test]
fn a_large_flat_file_is_refused_before_it_is_parsed() {
    let env = TestEnv::new();
    // 1.2 million items in 2.4 MB: over the node budget without any alias.
    let text = format!("{HEADER}  items: [{}]\n", vec!["1"; 1_200_000].join(","));
    let repo = catalog_with(&env, "flat.yaml", &text);
    let e = only_error(&env, &repo);
    assert_eq!(e["code"], "yaml-budget", "{e}");
    assert!(e["message"].as_str().unwrap().contains("1000000 nodes"));
    assert_eq!(e["line"], 6, "{e}");
}

/// Refused for nesting, at the collection one level too deep.
fn assert_too_deep(env: &TestEnv, text: &str, line: u64, column: u64) {
    let repo = catalog_with(env, "deep.yaml", text);
    let e = only_error(env, &repo);
    assert_eq!(e["code"], "yaml-budget", "{e}");
    assert_eq!(
        e["message"], "nesting deeper than 128 levels; refused",
        "{e}"
    );
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(line), Some(column)),
        "{e}"
    );
    other_commands_go_on(env, &repo);
}

const DEEP: usize = 100_000;

#[test]
fn deep_flow_sequences_are_refused_in_milliseconds() {
    let env = TestEnv::new();
    let text = format!("{HEADER}  deep: {}{}\n", "[".repeat(DEEP), "]".repeat(DEEP));
    // Two levels (document, spec) above; the 127th bracket is level 129.
    assert_too_deep(&env, &text, 6, 8 + 127);
}

#[test]
fn deep_flow_mappings_are_refused_in_milliseconds() {
    let env = TestEnv::new();
    let text = format!(
        "{HEADER}  deep: {}1{}\n",
        "{a: ".repeat(DEEP),
        "}".repeat(DEEP)
    );
    assert_too_deep(&env, &text, 6, 8 + 4 * 126 + 1);
}

#[test]
fn deep_block_sequences_on_one_line_are_refused_in_milliseconds() {
    let env = TestEnv::new();
    let text = format!("{HEADER}  deep:\n    {}x\n", "- ".repeat(DEEP));
    assert_too_deep(&env, &text, 7, 4 + 2 * 126 + 1);
}

#[test]
fn eight_thousand_documents_with_problems_are_located_in_one_pass() {
    let env = TestEnv::new();
    let docs: Vec<String> = (0..8000)
        .map(|i| {
            format!("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: Bad_Name_{i}!\nspec:\n  type: service\n  lifecycle: production\n  owner: payments\n")
        })
        .collect();
    let text = format!("---\n{}", docs.join("---\n"));
    let repo = catalog_with(&env, "many.yaml", &text);
    let m = measured(&env, &["--catalog", repo.path(), "validate", "-o", "json"]);
    let run = m.within_budget();
    run.code(1);
    let report = run.json();
    let errors = report["errors"].as_array().expect("errors");
    let mut found: Vec<(u64, u64)> = errors
        .iter()
        .filter(|e| e["file"].as_str().unwrap().ends_with("many.yaml"))
        .map(|e| {
            assert_eq!(e["code"], "invalid-name", "{e}");
            (e["line"].as_u64().unwrap(), e["column"].as_u64().unwrap())
        })
        .collect();
    found.sort();
    // Each document is 9 lines with its `---`; the name's value is on its 5th.
    let expected: Vec<(u64, u64)> = (0..8000).map(|i| (9 * i + 5, 9)).collect();
    assert_eq!(found.len(), 8000, "{}", errors.len());
    assert_eq!(found, expected);
    assert_eq!(errors.len(), 8000, "no other problems");
}

// ---------------------------------------------------------------- the index

/// A catalog of `n` components (all owned by payments) and its `list -o json`.
fn indexed_catalog(env: &TestEnv, n: usize) -> (Repo, String) {
    let mut builder = CatalogBuilder::org(env.dir("cat"));
    for i in 0..n {
        builder = builder.file(
            &format!("svc/s{i}.yaml"),
            component(&format!("s{i}"), "payments", "production"),
        );
    }
    let repo = builder.build();
    let run = env.run(["--catalog", repo.path(), "list", "-o", "json"]);
    run.ok();
    (repo, run.stdout.clone())
}

/// The one index file in the cache.
fn index_file(env: &TestEnv) -> PathBuf {
    let dir = env.cache.join("idp/index");
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("index dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

fn list_json(env: &TestEnv, repo: &Repo) -> Run {
    let run = env.run(["-v", "--catalog", repo.path(), "list", "-o", "json"]);
    run.ok();
    run
}

/// Replaces the first occurrence of `from` in `file` (same length).
fn patch(file: &Path, from: &[u8], to: &[u8]) {
    let mut bytes = std::fs::read(file).expect("read index");
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern in index");
    bytes[at..at + to.len()].copy_from_slice(to);
    std::fs::write(file, bytes).expect("write index");
}

#[test]
fn flipped_bits_in_the_index_mean_a_rebuild_not_a_wrong_answer() {
    let env = TestEnv::new();
    let (repo, expected) = indexed_catalog(&env, 20);
    let index = index_file(&env);
    // The warm answer comes from the index.
    assert_eq!(list_json(&env, &repo).stdout, expected);
    // Change an owner inside the stored documents: unchecked, `list` would
    // print this team.
    patch(&index, b"\"owner\":\"payments\"", b"\"owner\":\"paymentz\"");
    let run = list_json(&env, &repo);
    assert_eq!(run.stdout, expected);
    run.stderr_has("is damaged (checksum mismatch); rebuilding it");
    // Rebuilt: the next run reads it again without complaint.
    let run = list_json(&env, &repo);
    assert_eq!(run.stdout, expected);
    assert!(!run.stderr.contains("damaged"), "{}", run.stderr);
    assert!(!std::fs::read(&index)
        .unwrap()
        .windows(8)
        .any(|w| w == b"paymentz"));
}

#[test]
fn a_truncated_index_means_a_rebuild() {
    let env = TestEnv::new();
    let (repo, expected) = indexed_catalog(&env, 20);
    let index = index_file(&env);
    for len in [0, 3, 100, std::fs::metadata(&index).unwrap().len() / 2] {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&index)
            .unwrap();
        file.set_len(len).unwrap();
        drop(file);
        let run = list_json(&env, &repo);
        assert_eq!(run.stdout, expected, "truncated to {len}");
        if len > 0 {
            run.stderr_has("is damaged");
        }
        assert_eq!(list_json(&env, &repo).stdout, expected);
    }
}

#[test]
fn an_index_truncated_while_it_is_read_never_kills_idp() {
    let env = TestEnv::new();
    let (repo, expected) = indexed_catalog(&env, 300);
    let index = index_file(&env);
    let good = std::fs::read(&index).unwrap();
    // Another process keeps truncating and rewriting the file in place (the
    // same inode a reader may have open or mapped).
    let stop = Arc::new(AtomicBool::new(false));
    let vandal = {
        let (stop, index, good) = (stop.clone(), index.clone(), good.clone());
        std::thread::spawn(move || {
            let mut rounds = 0u64;
            while !stop.load(Ordering::Relaxed) {
                if let Ok(file) = std::fs::OpenOptions::new().write(true).open(&index) {
                    let _ = file.set_len(good.len() as u64 / (2 + rounds % 7));
                    let _ = std::fs::write(&index, &good);
                    let _ = file.set_len(0);
                    let _ = std::fs::write(&index, &good);
                }
                rounds += 1;
            }
            rounds
        })
    };
    let start = Instant::now();
    let mut runs = 0;
    while start.elapsed() < Duration::from_secs(4) && runs < 40 {
        let m = measured(&env, &["--catalog", repo.path(), "list", "-o", "json"]);
        assert_eq!(
            m.run.code, 0,
            "run {runs}: exit {}\n{}",
            m.run.code, m.run.stderr
        );
        assert_eq!(m.run.stdout, expected, "run {runs}");
        runs += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let rounds = vandal.join().unwrap();
    assert!(runs >= 5 && rounds >= 5, "{runs} runs, {rounds} rewrites");
}

#[test]
fn substitutions_of_one_document_read_at_most_ten_megabytes_together() {
    let env = TestEnv::new();
    // One 1 MB file named by 500 placeholders would be 500 MB of text.
    let annotations: String = (0..500)
        .map(|i| format!("    a{i}:\n      $text: ./big.txt\n"))
        .collect();
    let text = format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: greedy\n  annotations:\n{annotations}spec:\n  type: service\n  lifecycle: production\n  owner: payments\n"
    );
    let repo = CatalogBuilder::new(env.dir("cat"))
        .file("idp.yaml", "exclude: [big.txt]\n")
        .file("org.yaml", ORG)
        .file("good.yaml", component("good", "payments", "production"))
        .file("big.txt", "x".repeat(1 << 20))
        .file("greedy.yaml", text)
        .build();
    let m = measured(&env, &["--catalog", repo.path(), "validate", "-o", "json"]);
    let run = m.within_budget();
    run.code(1);
    let report = run.json();
    let errors = report["errors"].as_array().expect("errors");
    let refused: Vec<_> = errors
        .iter()
        .filter(|e| e["message"].as_str().unwrap_or("").contains("in total"))
        .collect();
    // 10 MB fit the budget: the first ten placeholders are read, no more.
    assert_eq!(refused.len(), 490, "{report:#}");
    assert!(
        refused.iter().all(|e| e["code"] == "substitution"
            && e["file"].as_str().unwrap_or("").ends_with("/greedy.yaml")),
        "{:#}",
        refused[0]
    );
    // The eleventh placeholder (`a10`) is the first refused, at its own line.
    assert_eq!(refused[0]["line"], 26, "{:#}", refused[0]);
}
