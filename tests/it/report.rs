//! `idp report`: the static site on disk — its pages, escaping of hostile
//! catalog text, determinism, the output-directory rules (manifest,
//! `--force`, unwritable paths), `--single-file`, history and trends.
//! What the pages do in a browser is tested in `report_browser.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::{report_verbose, CatalogBuilder, Repo, TestEnv, ORG};

/// The run's clock: after the fixture's last commit.
pub const NOW: &str = "2025-12-20T00:00:00Z";
/// The first commit of the fixture (2025-11-24T16:00:00Z).
const T0: i64 = 1_764_000_000;
const DAY: i64 = 86_400;

pub const SCORECARD: &str = "\
apiVersion: idp.dev/v1alpha1
kind: Scorecard
metadata:
  name: basics
  title: Basics
spec:
  appliesTo:
    kinds: [Component]
  levels:
    - { id: bronze, title: Bronze }
    - { id: silver, title: Silver }
  rules:
    - id: owned
      title: Has an owner
      level: bronze
      check: 'has(entity.spec.owner)'
    - id: described
      title: Has a description
      level: silver
      check: 'has(entity.metadata.description)'
      message: 'Describe {{ entity.metadata.name }} in metadata.description.'
";

fn component(name: &str, owner: &str, lifecycle: &str, description: Option<&str>) -> String {
    let description = description
        .map(|d| format!("  description: {}\n", serde_json::to_string(d).unwrap()))
        .unwrap_or_default();
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n{description}  tags: [java]\nspec:\n  type: service\n  lifecycle: {lifecycle}\n  owner: {owner}\n  system: shop\n"
    )
}

/// Hostile text in every field a page shows.
pub const HOSTILE: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: evil
  title: "<script>alert('title')</script> \"><img src=x onerror=alert(1)>"
  description: "Tracks \"><img src=x onerror=alert(2)> and <script>alert(3)</script> mischief"
  tags: ["<b>bold</b>"]
  links:
    - url: "javascript:alert(4)"
      title: "<i>click</i>"
    - url: "https://docs.example.test/evil?a=1&b=2"
      title: Docs
spec:
  type: service
  lifecycle: production
  owner: payments
  system: shop
"#;

const SYSTEMS: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata:
  name: commerce
spec:
  owner: engineering
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: shop
  title: Shop
spec:
  owner: checkout
  domain: commerce
";

/// A catalog with three weeks of history: `ledger` gains a description
/// (and so Silver) in the second week, `cart` changes lifecycle and the
/// hostile `evil` arrives in the third.
pub fn fixture(env: &TestEnv) -> Repo {
    let repo = CatalogBuilder::new(env.dir("cat"))
        .file("idp.yaml", "exclude: []\n")
        .file("org.yaml", ORG)
        .file("systems.yaml", SYSTEMS)
        .file("scorecards/basics.yaml", SCORECARD)
        .file(
            "ledger.yaml",
            component("ledger", "payments", "production", None),
        )
        .file(
            "cart.yaml",
            component(
                "cart",
                "checkout",
                "experimental",
                Some("Shopping cart with zebra-striped baskets"),
            ),
        )
        .build_as("first catalog", "Ada", T0);
    repo.write(
        "ledger.yaml",
        component(
            "ledger",
            "payments",
            "production",
            Some("Double-entry ledger of payments"),
        ),
    );
    repo.commit_as("describe the ledger", "Grace", T0 + 8 * DAY);
    repo.write(
        "cart.yaml",
        component(
            "cart",
            "checkout",
            "production",
            Some("Shopping cart with zebra-striped baskets"),
        ),
    );
    repo.write("evil.yaml", HOSTILE);
    repo.commit_as("cart goes to production; add evil", "Linus", T0 + 15 * DAY);
    repo
}

/// Runs `idp report` on `repo` into `out`.
pub fn report(env: &TestEnv, repo: &Repo, out: &Path, extra: &[&str]) -> crate::common::Run {
    let mut args = vec![
        "--catalog".to_string(),
        repo.path().to_string(),
        "report".to_string(),
        "--output-dir".to_string(),
        out.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    env.run(args)
}

/// Every file under `dir`, by relative path.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
}

#[test]
fn writes_every_page_and_a_summary_line() {
    let env = TestEnv::at(NOW);
    let repo = fixture(&env);
    let out = env.root.join("site");
    report(&env, &repo, &out, &[])
        .ok()
        .stdout_has("Wrote ")
        .stdout_has(" pages (")
        .stdout_has(&out.display().to_string());
    for page in [
        "index.html",
        "search.html",
        "graph.html",
        "entity/component-default-ledger.html",
        "entity/system-default-shop.html",
        "team/group-default-payments.html",
        "scorecard/basics.html",
        "assets/style.css",
        "assets/app.js",
        "assets/search-index.js",
        ".idp-report.json",
    ] {
        assert!(out.join(page).is_file(), "{page} missing");
    }
    let home = read(out.join("index.html"));
    // Counts, the levels chart with its accessible name, recent changes.
    assert!(
        home.contains("<svg role=\"img\" aria-label=\"Share of entities at each scorecard level\"")
    );
    assert!(home.contains("cart goes to production; add evil"), "{home}");
    assert!(home.contains("href=\"team/group-default-payments.html\""));
    // Entity page: owner, scorecard with the failing rule's message, history, YAML.
    let ledger = read(out.join("entity/component-default-ledger.html"));
    assert!(
        ledger.contains("href=\"../team/group-default-payments.html\""),
        "{ledger}"
    );
    assert!(ledger.contains("href=\"../scorecard/basics.html\""));
    assert!(ledger.contains("describe the ledger"));
    assert!(
        ledger.contains("metadata.description"),
        "field-level history"
    );
    assert!(
        ledger.contains("apiVersion: backstage.io&#x2f;v1alpha1"),
        "descriptor YAML"
    );
    let cart = read(out.join("entity/component-default-cart.html"));
    assert!(cart.contains("spec.lifecycle"), "{cart}");
    // Team page: members of the org, what it owns, its levels.
    let team = read(out.join("team/group-default-payments.html"));
    assert!(team.contains("href=\"../entity/component-default-ledger.html\""));
    assert!(team.contains("Levels of what Payments owns"), "{team}");
    // Scorecard page: pass rates and the trend from history.
    let card = read(out.join("scorecard/basics.html"));
    assert!(card.contains("aria-label=\"Pass rate of each rule of Basics\""));
    assert!(
        card.contains("aria-label=\"Share of entities at each level of Basics, week by week\""),
        "{card}"
    );
    // The system map is laid out.
    let graph = read(out.join("graph.html"));
    assert!(
        graph.contains("aria-label=\"Map of commerce\"") || graph.contains("aria-label=\"Map of "),
        "{graph}"
    );
    // Nothing points at another host.
    for (path, bytes) in files(&out) {
        let text = String::from_utf8_lossy(&bytes);
        for needle in ["src=\"http", "href=\"//", "src=\"//", "@import", "url(http"] {
            assert!(!text.contains(needle), "{path} has {needle}");
        }
    }
}

#[test]
fn hostile_catalog_text_is_escaped_and_bad_links_dropped() {
    let env = TestEnv::at(NOW);
    let repo = fixture(&env);
    let out = env.root.join("site");
    report(&env, &repo, &out, &[]).ok();
    for (path, bytes) in files(&out) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("<script>alert"), "{path} has a live script");
        assert!(!text.contains("<img src=x"), "{path} has a live img");
        assert!(!text.contains("<b>bold"), "{path} has live markup");
        assert!(
            !text.contains("href=\"javascript:"),
            "{path} links javascript:"
        );
    }
    let evil = read(out.join("entity/component-default-evil.html"));
    assert!(evil.contains("&lt;script&gt;alert("), "{evil}");
    assert!(
        evil.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "{evil}"
    );
    assert!(
        evil.contains("href=\"https:&#x2f;&#x2f;docs.example.test&#x2f;evil?a=1&amp;b=2\""),
        "{evil}"
    );
    assert!(
        evil.contains("only http, https and mailto links are"),
        "{evil}"
    );
    // The search index is a script: no `<` can close it early.
    let index = read(out.join("assets/search-index.js"));
    assert!(!index.contains('<'), "{index}");
    assert!(index.contains("\\u003cscript"), "{index}");
}

#[test]
fn the_same_catalog_and_now_give_the_same_bytes() {
    let env = TestEnv::at(NOW);
    let repo = fixture(&env);
    let (a, b) = (env.root.join("a"), env.root.join("b"));
    report(&env, &repo, &a, &[]).ok();
    report(&env, &repo, &b, &[]).ok();
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (path, bytes) in &fa {
        assert!(bytes == &fb[path], "{path} differs between two runs");
    }
    // And a rerun into the same directory changes nothing.
    report(&env, &repo, &a, &[]).ok();
    assert!(files(&a) == fa, "a rerun changed the site");
}

#[test]
fn a_directory_that_is_not_a_report_is_refused_without_force() {
    let env = TestEnv::at(NOW);
    let repo = fixture(&env);
    let out = env.dir("public");
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let run = report(&env, &repo, &out, &[]);
    run.code(2)
        .stderr_has(&out.display().to_string())
        .stderr_has("--force");
    assert_eq!(files(&out).len(), 1, "nothing written when refused");
    report(&env, &repo, &out, &["--force"]).ok();
    assert_eq!(read(out.join("notes.txt")), "mine");
    assert!(out.join("index.html").is_file());
    // Now it holds a report: no --force needed, and the note stays.
    report(&env, &repo, &out, &[]).ok();
    assert_eq!(read(out.join("notes.txt")), "mine");
}

#[test]
fn a_rerun_removes_only_pages_idp_wrote_that_are_gone() {
    let env = TestEnv::at(NOW);
    let repo = fixture(&env);
    let out = env.root.join("site");
    report(&env, &repo, &out, &[]).ok();
    let evil = out.join("entity/component-default-evil.html");
    assert!(evil.is_file());
    // Someone else's files inside the site, and a forged manifest entry
    // pointing outside it.
    std::fs::write(out.join("CNAME"), "portal.example.test").unwrap();
    std::fs::write(out.join("entity/keep.html"), "mine").unwrap();
    let outside = env.root.join("outside.html");
    std::fs::write(&outside, "not idp's").unwrap();
    let manifest = out.join(".idp-report.json");
    let forged = read(&manifest).replace("\"files\": [", "\"files\": [\n    \"../outside.html\",");
    std::fs::write(&manifest, forged).unwrap();
    repo.remove("evil.yaml");
    repo.commit("evil goes");
    report(&env, &repo, &out, &[]).ok().stdout_has("removed");
    assert!(!evil.exists(), "the page of a removed entity is deleted");
    assert_eq!(read(out.join("entity/keep.html")), "mine");
    assert_eq!(read(&outside), "not idp's");
    assert_eq!(read(out.join("CNAME")), "portal.example.test");
    assert!(out.join("index.html").is_file());
}

#[test]
fn an_unwritable_destination_exits_4_naming_the_path() {
    let env = TestEnv::at(NOW);
    let repo = fixture(&env);
    let file = env.root.join("a-file");
    std::fs::write(&file, "x").unwrap();
    // A directory that cannot be created (a file is in the way).
    let below = file.join("site");
    report(&env, &repo, &below, &[])
        .code(4)
        .stderr_has(&below.display().to_string());
    // The destination is a file.
    report(&env, &repo, &file, &[])
        .code(4)
        .stderr_has(&file.display().to_string())
        .stderr_has("not a directory");
    assert_eq!(read(&file), "x");
}

#[test]
fn a_symlink_inside_the_site_is_not_written_through() {
    let env = TestEnv::at(NOW);
    let repo = fixture(&env);
    let out = env.root.join("site");
    report(&env, &repo, &out, &[]).ok();
    let target = env.root.join("victim.txt");
    std::fs::write(&target, "precious").unwrap();
    let page = out.join("index.html");
    std::fs::remove_file(&page).unwrap();
    std::os::unix::fs::symlink(&target, &page).unwrap();
    report(&env, &repo, &out, &[])
        .code(4)
        .stderr_has("symbolic link");
    assert_eq!(read(&target), "precious");
}

#[test]
fn single_file_holds_every_page_inline() {
    let env = TestEnv::at(NOW);
    let repo = fixture(&env);
    let file: PathBuf = env.root.join("report.html");
    env.run([
        "--catalog",
        repo.path(),
        "report",
        "--single-file",
        file.to_str().unwrap(),
    ])
    .ok()
    .stdout_has("(1 file,");
    let html = read(&file);
    assert!(html.contains("<style>"));
    assert!(html.contains("window.IDP_INDEX="));
    assert!(html.contains("id=\"entity/component-default-ledger\""));
    assert!(html.contains("href=\"#team/group-default-payments\""));
    assert!(!html.contains("assets/"), "no file beside it is needed");
    assert!(!html.contains("<script>alert"));
    // It replaces itself, but not someone else's file.
    env.run([
        "--catalog",
        repo.path(),
        "report",
        "--single-file",
        file.to_str().unwrap(),
    ])
    .ok();
    let other = env.root.join("other.html");
    std::fs::write(&other, "<html>mine</html>").unwrap();
    env.run([
        "--catalog",
        repo.path(),
        "report",
        "--single-file",
        other.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("--force");
    assert_eq!(read(&other), "<html>mine</html>");
}

#[test]
fn ref_reports_the_catalog_as_it_was() {
    let env = TestEnv::at(NOW);
    let repo = fixture(&env);
    let out2 = env.root.join("site2");
    env.run([
        "--catalog",
        repo.path(),
        "--ref",
        "HEAD~1",
        "report",
        "--output-dir",
        out2.to_str().unwrap(),
    ])
    .ok();
    assert!(!out2.join("entity/component-default-evil.html").exists());
    assert!(out2.join("entity/component-default-ledger.html").is_file());
    assert!(read(out2.join("index.html")).contains("from HEAD~1"));
}

#[test]
fn report_needs_a_destination() {
    let env = TestEnv::at(NOW);
    let repo = fixture(&env);
    env.run(["--catalog", repo.path(), "report"]).code(2);
}

/// The trend section of a scorecard page.
fn trend_section(page: &str) -> &str {
    let start = page
        .find("<section class=\"card\" aria-labelledby=\"h-trend\">")
        .expect("a trend section");
    let end = start + page[start..].find("</section>").expect("its end");
    &page[start..end]
}

#[test]
fn the_trend_is_the_same_whether_weeks_are_read_whole_or_from_changed_files() {
    let env = TestEnv::at(NOW);
    let repo = fixture(&env);
    // The working tree: the newest week is read whole, older ones are
    // built from it by re-reading the files that changed.
    let (a, b) = (env.root.join("a"), env.root.join("b"));
    report_verbose(&env, &repo, &[], &a)
        .ok()
        .stderr_has("catalog read whole")
        .stderr_has("catalog from the changed files");
    // At a commit: every week is built from the changes since the one before.
    let at_head = report_verbose(&env, &repo, &["--ref", "HEAD"], &b);
    at_head.ok().stderr_has("catalog from the changed files");
    assert!(
        !at_head.stderr.contains("catalog read whole"),
        "{}",
        at_head.stderr
    );
    let (ta, tb) = (
        read(a.join("scorecard/basics.html")),
        read(b.join("scorecard/basics.html")),
    );
    assert!(trend_section(&ta).contains("<svg"), "{ta}");
    assert_eq!(trend_section(&ta), trend_section(&tb));
}
