//! Snapshots of every output contract on the example catalog: the `-o json`
//! (and other machine formats) of each command, and the human output at 120
//! columns. A change to any of them shows up as a snapshot diff to review.
//!
//! Determinism: `examples/acme` is copied into a temporary git repository
//! with two commits of fixed author and date (the first an older state of
//! the ledger without tax-calculator, the second the catalog as shipped), the
//! clock is pinned with `IDP_NOW`, the environment is hermetic, and the temp
//! root and commit ids are replaced by `[TMP]` and `[C1]`/`[C2]`.
//!
//! Each snapshot is one small test from the table at the bottom; after a
//! deliberate output change, re-accept with
//! `INSTA_UPDATE=always cargo test --test main contracts::` and review the
//! diff of `tests/it/snapshots/main__contracts__*.snap`.

use std::path::Path;

use crate::common::{acme, CatalogBuilder, Repo, TestEnv};

/// The pinned clock of every run.
const NOW: &str = "2026-11-29T00:00:00Z";
/// Author dates of the two commits (2026-05-01 and 2026-06-01, UTC).
const T1: i64 = 1_777_593_600;
const T2: i64 = 1_780_272_000;

/// What a shipped file looked like at the first commit (`None`: absent):
/// the ledger experimental and not yet tagged pci-dss, no tax-calculator.
fn older(path: &str, shipped: &[u8]) -> Option<Vec<u8>> {
    let edits: &[(&str, &str)] = match path {
        "components/tax-calculator/catalog-info.yaml" => return None,
        "components/ledger/catalog-info.yaml" => &[
            ("  lifecycle: production\n", "  lifecycle: experimental\n"),
            ("    - pci-dss\n", ""),
        ],
        "catalog-info.yaml" => &[("    - ./components/tax-calculator/catalog-info.yaml\n", "")],
        _ => return Some(shipped.to_vec()),
    };
    let mut text = String::from_utf8(shipped.to_vec()).expect("utf-8 descriptor");
    for (from, to) in edits {
        assert!(text.contains(from), "{path} no longer has {from:?}");
        text = text.replacen(from, to, 1);
    }
    Some(text.into_bytes())
}

/// Every file under `dir`, as paths relative to `root`.
fn files(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read examples/acme")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy();
            out.push((rel.into_owned(), std::fs::read(&path).expect("read file")));
        }
    }
}

/// The example catalog in a git repository of two commits: `[C1]` (tagged
/// `before`) by Alice, an older state; `[C2]` by Bob, the catalog as shipped.
fn acme_repo(env: &TestEnv) -> Repo {
    let root = Path::new(&acme()).to_path_buf();
    let mut all = Vec::new();
    files(&root, &root, &mut all);
    let mut builder = CatalogBuilder::new(env.root.join("acme"));
    let mut later = Vec::new();
    for (path, shipped) in all {
        match older(&path, &shipped) {
            Some(content) if content == shipped => {}
            Some(content) => {
                builder = builder.file(&path, content);
                later.push((path, shipped));
                continue;
            }
            None => {
                later.push((path, shipped));
                continue;
            }
        }
        builder = builder.file(&path, shipped);
    }
    let repo = builder.build_as("Import the acme catalog", "Alice", T1);
    repo.tag("before");
    for (path, content) in later {
        repo.write(&path, content);
    }
    repo.commit_as(
        "Ledger goes to production under PCI-DSS; add tax-calculator",
        "Bob",
        T2,
    );
    repo
}

/// The acme repository with live data turned on (GitHub and PagerDuty at a
/// port nothing listens on) in the working tree; runs use `--offline`, so
/// the live parts answer from the empty cache.
fn acme_live(env: &TestEnv) -> Repo {
    let repo = acme_repo(env);
    let idp = std::fs::read_to_string(repo.dir.join("idp.yaml")).expect("idp.yaml");
    repo.write(
        "idp.yaml",
        format!(
            "{idp}integrations:\n  github: {{ base_url: \"http://127.0.0.1:9\" }}\n  \
             pagerduty: {{ base_url: \"http://127.0.0.1:9\" }}\nlive: {{ deadline: 2s }}\n"
        ),
    );
    repo
}

/// Runs `idp --catalog REPO ARGS` on the fixture, checks the exit code (and
/// that JSON output parses), and snapshots stdout (plus stderr when there is
/// any) with temp paths and commit ids replaced.
fn check(name: &str, fixture: fn(&TestEnv) -> Repo, code: i32, args: &[&str]) {
    let mut env = TestEnv::at(NOW);
    env.env("COLUMNS", "120");
    let repo = fixture(&env);
    env.cwd = repo.dir.clone();
    let mut argv = vec!["--catalog", repo.path(), "--color", "never"];
    argv.extend_from_slice(args);
    let run = env.run(&argv);
    run.code(code);
    if args.windows(2).any(|w| w == ["-o", "json"]) {
        run.json();
    }
    let mut text = run.stdout.clone();
    if !run.stderr.is_empty() {
        text.push_str("--- stderr\n");
        text.push_str(&run.stderr);
    }
    // Live fetch times come from the wall clock, not IDP_NOW (they carry
    // nanoseconds; the pinned times are whole seconds).
    let wall = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z").unwrap();
    let text = wall.replace_all(&text, "[WALL-CLOCK]");
    let output = commit_ids(&repo, &env.normalize(&text));
    insta::assert_snapshot!(name, output);
}

/// Replaces each commit id of `repo` (full, or abbreviated to 7 or more
/// digits) with `[C1]`, `[C2]`, … in history order.
fn commit_ids(repo: &Repo, text: &str) -> String {
    let mut walk = repo.git.revwalk().expect("revwalk");
    walk.push_head().expect("head");
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
        .expect("sorting");
    let ids: Vec<String> = walk.map(|oid| oid.expect("oid").to_string()).collect();
    let hex = regex::Regex::new(r"\b[0-9a-f]{7,40}\b").unwrap();
    hex.replace_all(text, |m: &regex::Captures| {
        let found = &m[0];
        match ids.iter().position(|id| id.starts_with(found)) {
            Some(i) => format!("[C{}]", i + 1),
            None => found.to_string(),
        }
    })
    .into_owned()
}

/// One test per snapshot: `name: fixture, exit code, [args after --catalog]`.
macro_rules! snapshots {
    ($($name:ident: $fixture:ident, $code:literal, [$($arg:expr),+ $(,)?];)+) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name), $fixture, $code, &[$($arg),+]);
            }
        )+
    };
}

// ---------------------------------------------------------------- JSON and other machine formats

snapshots! {
    who_owns_json: acme_repo, 0, ["who-owns", "checkout", "-o", "json"];
    who_owns_group_json: acme_repo, 0, ["who-owns", "group:payments", "-o", "json"];
    who_owns_remote_json: acme_repo, 0, ["who-owns", "git@github.com:acme/checkout.git", "-o", "json"];
    list_components_json: acme_repo, 0, ["list", "--kind", "component", "-o", "json"];
    list_apis_csv: acme_repo, 0, ["list", "--kind", "api", "-o", "csv"];
    list_systems_yaml: acme_repo, 0, ["list", "--kind", "system", "-o", "yaml"];
    show_json: acme_repo, 0, ["show", "ledger", "-o", "json"];
    show_yaml: acme_repo, 0, ["show", "group:payments", "-o", "yaml"];
    validate_json: acme_repo, 0, ["validate", "-o", "json"];
    schema_json: acme_repo, 0, ["schema", "-o", "json"];
    schema_component_json: acme_repo, 0, ["schema", "component", "-o", "json"];
    impact_json: acme_repo, 0, ["impact", "ledger", "-o", "json"];
    graph_json: acme_repo, 0, ["graph", "checkout", "-o", "json"];
    graph_dot: acme_repo, 0, ["graph", "checkout", "-o", "dot"];
    graph_mermaid: acme_repo, 0, ["graph", "checkout", "-o", "mermaid"];
    graph_tree: acme_repo, 0, ["graph", "checkout", "-o", "tree"];
    history_json: acme_repo, 0, ["history", "ledger", "-o", "json"];
    diff_json: acme_repo, 0, ["diff", "before", "HEAD", "-o", "json"];
    diff_markdown: acme_repo, 0, ["diff", "before", "HEAD", "-o", "markdown"];
    score_json: acme_repo, 1, ["score", "-o", "json"];
    score_entity_json: acme_repo, 0, ["score", "ledger", "-o", "json"];
    score_junit: acme_repo, 0, ["score", "ledger", "-o", "junit"];
    score_sarif: acme_repo, 0, ["score", "ledger", "-o", "sarif"];
    score_compare_json: acme_repo, 0, ["score", "--compare", "before", "-o", "json"];
    score_compare_markdown: acme_repo, 0, ["score", "--compare", "before", "-o", "markdown"];
    scaffold_list_json: acme_repo, 0, ["scaffold", "list", "-o", "json"];
    scaffold_show_json: acme_repo, 0, ["scaffold", "show", "node-service", "-o", "json"];
    doctor_json: acme_live, 1, ["--offline", "doctor", "-o", "json"];
    enrich_json: acme_live, 0, ["--offline", "enrich", "ledger", "checkout", "-o", "json"];
    show_live_json: acme_live, 0, ["--offline", "show", "ledger", "-o", "json"];
    who_owns_live_json: acme_live, 0, ["--offline", "who-owns", "ledger", "-o", "json"];
}

// ---------------------------------------------------------------- human output, 120 columns

snapshots! {
    who_owns_human: acme_repo, 0, ["who-owns", "checkout"];
    who_owns_group_human: acme_repo, 0, ["who-owns", "group:payments"];
    list_human: acme_repo, 0, ["list"];
    list_components_human: acme_repo, 0, ["list", "--kind", "component"];
    show_human: acme_repo, 0, ["show", "ledger"];
    show_group_human: acme_repo, 0, ["show", "group:payments"];
    validate_human: acme_repo, 0, ["validate"];
    impact_human: acme_repo, 0, ["impact", "ledger"];
    graph_human: acme_repo, 0, ["graph", "checkout"];
    history_human: acme_repo, 0, ["history", "ledger"];
    diff_human: acme_repo, 0, ["diff", "before", "HEAD"];
    score_human: acme_repo, 1, ["score"];
    score_entity_human: acme_repo, 0, ["score", "ledger"];
    scaffold_list_human: acme_repo, 0, ["scaffold", "list"];
    scaffold_show_human: acme_repo, 0, ["scaffold", "show", "node-service"];
    doctor_human: acme_live, 1, ["--offline", "doctor"];
    enrich_human: acme_live, 0, ["--offline", "enrich", "ledger", "checkout"];
    show_live_human: acme_live, 0, ["--offline", "show", "ledger"];
    who_owns_live_human: acme_live, 0, ["--offline", "who-owns", "ledger"];
}
