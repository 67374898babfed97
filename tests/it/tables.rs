//! Tables at 60, 80 and 120 columns, piped with `COLUMNS` and on a real
//! terminal (a tmux pane of that width): every table line fits, every row
//! is one line (as many as `-o json` has items), no line ends in a space,
//! and a cell that was cut ends in `…` and starts like the whole cell.
//! Run on examples/acme and on a catalog of long titles, CJK, emoji and
//! text the sanitizer escapes.

use serde_json::Value;
use unicode_width::UnicodeWidthChar;

use crate::common::{acme, CatalogBuilder, TestEnv};
use crate::tmux::Tmux;

const WIDTHS: [usize; 3] = [60, 80, 120];

const IDP_YAML: &str = r#"exclude: ["templates/*/skeleton/**"]
integrations:
  github: { base_url: "http://127.0.0.1:9/an/enterprise/github/proxy/with/a/long/path/api/v3" }
  pagerduty: { base_url: "http://127.0.0.1:9/an/enterprise/pagerduty/proxy/with/a/long/path" }
"#;

const ORG: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: payments-settlement-and-reconciliation
spec:
  type: team
  profile:
    displayName: Payments Settlement & Reconciliation 支付结算
    email: payments-settlement-and-reconciliation@example-corporation.com
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: wang-xiaoming
spec:
  profile:
    displayName: 王小明（支付结算平台负责人）
    email: wang.xiaoming.payments.platform.lead@example-corporation.com
  memberOf: [payments-settlement-and-reconciliation]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: ada-lovelace-countess-of-lovelace
spec:
  profile:
    displayName: Ada Lovelace 🚀 Countess of Lovelace
    email: ada.lovelace.countess.of.lovelace@example-corporation.com
  memberOf: [payments-settlement-and-reconciliation]
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: settlement-and-reconciliation-platform
  title: Settlement and reconciliation platform
spec:
  owner: payments-settlement-and-reconciliation
";

const COMPONENTS: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger-core
  title: Ledger core — the double-entry book of every payment, refund, chargeback and payout
  description: The double-entry ledger every money movement is written to.
  annotations:
    github.com/project-slug: example-corporation/ledger-core-double-entry-bookkeeping-service
    pagerduty.com/service-id: PLEDGERCORE
  links:
    - url: https://grafana.example-corporation.com/d/ledger-core-overview/ledger-core-overview-and-reconciliation-lag
      title: Ledger core overview and reconciliation lag dashboard
      type: dashboard
spec:
  type: service
  lifecycle: production
  owner: payments-settlement-and-reconciliation
  system: settlement-and-reconciliation-platform
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-gateway-settlement-reconciliation
  title: 支付网关结算与对账服务（生产环境，请勿在未审批时修改）
  description: 支付网关结算与对账服务，负责每日清算、对账以及与银行的文件交换。
spec:
  type: service
  lifecycle: production
  owner: payments-settlement-and-reconciliation
  system: settlement-and-reconciliation-platform
  dependsOn: [component:ledger-core]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: launch-pad
  title: 🚀 Launch pad for every release train, canary and rollback in the company 🚀
  description: Release orchestration.
spec:
  type: website
  lifecycle: experimental
  owner: payments-settlement-and-reconciliation
  system: settlement-and-reconciliation-platform
  dependsOn: [component:ledger-core]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: mirror
  title: "Mirror \u202Eevil\u202C text shows as escapes, a bell \u0007 too, across the whole table"
spec:
  type: library
  lifecycle: deprecated
  owner: payments-settlement-and-reconciliation
  dependsOn: [component:launch-pad]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout-experience-orchestrator
  title: Checkout experience orchestrator for web, iOS, Android and every partner integration
spec:
  type: service
  lifecycle: production
  owner: payments-settlement-and-reconciliation
  system: settlement-and-reconciliation-platform
  dependsOn: [component:launch-pad]
"#;

const SCORECARD: &str = "\
apiVersion: idp.dev/v1alpha1
kind: Scorecard
metadata:
  name: operational-readiness
  title: Operational readiness
spec:
  appliesTo:
    kinds: [Component]
  levels:
    - { id: bronze, title: Bronze }
    - { id: silver, title: Silver }
  rules:
    - id: runbook-annotation-for-the-on-call-engineer
      level: bronze
      check: 'has(entity.metadata.annotations) && \"acme.com/runbook\" in entity.metadata.annotations'
      message: 'Add the acme.com/runbook annotation so the on-call engineer of {{ entity.metadata.name }} knows what to do at three in the morning.'
      docs: https://wiki.example-corporation.com/standards/operational-readiness/runbooks
    - id: described
      level: silver
      check: 'has(entity.metadata.description)'
      message: '为 {{ entity.metadata.name }} 写一段说明：它做什么、谁在用、出问题找谁。'
";

const TEMPLATE: &str = "\
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: release-train-service-with-canary-and-rollback
  title: Release train service
  description: A service on the release train with canary analysis, automatic rollback, dashboards and an on-call rotation 发布列车.
spec:
  owner: payments-settlement-and-reconciliation
  type: service
  parameters:
    - title: Service details for the release train
      required: [name]
      properties:
        name:
          title: Name of the service on the release train
          type: string
          default: a-very-long-default-service-name-for-the-release-train
  steps:
    - id: fetch
      name: Fetch the skeleton of the release train service with canary analysis
      action: fetch:template
      input: { url: ./skeleton }
";

/// The catalog of long, wide and hostile cells.
fn wide_catalog(env: &TestEnv) -> String {
    let repo = CatalogBuilder::new(env.root.join("wide"))
        .file("idp.yaml", IDP_YAML)
        .file("org.yaml", ORG)
        .file("components.yaml", COMPONENTS)
        .file("scorecards/readiness.yaml", SCORECARD)
        .file("templates/release-train/template.yaml", TEMPLATE)
        .file("templates/release-train/skeleton/README.md", "hi\n")
        .build();
    repo.path().to_string()
}

/// One table a command prints: every header it may show, in order, how
/// many rows it must have, and the line that must follow it (besides a
/// blank line, the hidden-columns note or the end).
struct Expect {
    headers: &'static [&'static str],
    rows: usize,
    then: Option<String>,
}

/// A table found in output: the lines it spans, and per row the cells of
/// the columns shown, keyed by the index of their header in
/// [`Expect::headers`].
#[derive(Debug, PartialEq)]
struct Found {
    lines: Vec<String>,
    shown: Vec<usize>,
    rows: Vec<Vec<String>>,
}

fn width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// Tokens of a line separated by two spaces or more, with the display
/// column each starts at.
fn tokens(line: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let (mut col, mut spaces, mut current, mut start) = (0, 0, String::new(), 0);
    for c in line.chars() {
        if c == ' ' {
            spaces += 1;
        } else {
            if spaces >= 2 || current.is_empty() {
                if !current.is_empty() {
                    out.push((start, std::mem::take(&mut current)));
                }
                start = col;
            } else {
                current.extend(std::iter::repeat_n(' ', spaces));
            }
            spaces = 0;
            current.push(c);
        }
        col += c.width().unwrap_or(0);
    }
    if !current.is_empty() {
        out.push((start, current));
    }
    out
}

/// Whether `shown` is `whole`, or `whole` cut with `…`.
fn is_cut_of(shown: &str, whole: &str) -> bool {
    match shown.strip_suffix('…') {
        Some(head) => whole.starts_with(head) && width(shown) <= width(whole),
        None => shown == whole,
    }
}

/// The header columns of `line` if it is a header of `headers`: each
/// token one of the headers, whole or cut, in order.
fn header_of(line: &str, headers: &[&str]) -> Option<Vec<(usize, usize)>> {
    let mut next = 0;
    let mut shown = Vec::new();
    for (col, token) in tokens(line) {
        let k = (next..headers.len()).find(|&k| is_cut_of(&token, headers[k]))?;
        shown.push((col, k));
        next = k + 1;
    }
    (!shown.is_empty()).then_some(shown)
}

/// The display columns `from..to` of `line` (to the end for `None`).
fn slice(line: &str, from: usize, to: Option<usize>) -> String {
    let mut col = 0;
    let mut out = String::new();
    for c in line.chars() {
        if col >= from && to.is_none_or(|t| col < t) {
            out.push(c);
        }
        col += c.width().unwrap_or(0);
    }
    out.trim_end().to_string()
}

/// Finds the tables of `expect`, in order, in `text`; checks each has
/// exactly its rows, one line each.
#[track_caller]
fn find(text: &str, expect: &[Expect], context: &str) -> Vec<Found> {
    let lines: Vec<&str> = text.lines().collect();
    let mut at = 0;
    let mut found = Vec::new();
    for e in expect {
        let (h, columns) = (at..lines.len())
            .find_map(|i| header_of(lines[i], e.headers).map(|c| (i, c)))
            .unwrap_or_else(|| panic!("{context}: no table {:?} in:\n{text}", e.headers));
        let body: Vec<&str> = lines[h + 1..].iter().take(e.rows).copied().collect();
        assert_eq!(
            body.len(),
            e.rows,
            "{context}: rows of {:?}:\n{text}",
            e.headers
        );
        let after = lines.get(h + 1 + e.rows).copied().unwrap_or("");
        assert!(
            after.is_empty()
                || after.starts_with("note: ")
                || after.starts_with("EXIT=")
                || e.then.as_deref().is_some_and(|t| after.starts_with(t)),
            "{context}: {:?} has more than {} lines (a wrapped cell?): {after:?}\n{text}",
            e.headers,
            e.rows
        );
        let rows = body
            .iter()
            .map(|l| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(n, (col, _))| slice(l, *col, columns.get(n + 1).map(|c| c.0)))
                    .collect()
            })
            .collect();
        found.push(Found {
            lines: lines[h..=h + e.rows]
                .iter()
                .map(|l| l.to_string())
                .collect(),
            shown: columns.iter().map(|c| c.1).collect(),
            rows,
        });
        at = h + 1 + e.rows;
    }
    found
}

/// Runs idp piped, with `COLUMNS` set to `width` or unset.
fn piped(env: &TestEnv, args: &[&str], columns: Option<usize>) -> (i32, String, String) {
    let mut cmd = env.command();
    cmd.env_remove("COLUMNS").args(args);
    if let Some(w) = columns {
        cmd.env("COLUMNS", w.to_string());
    }
    let out = cmd.output().expect("run idp");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// Checks a table laid out for `cols` against the same table unlimited.
#[track_caller]
fn check_against(table: &Found, whole: &Found, cols: usize, context: &str) {
    for line in &table.lines {
        assert!(
            width(line) <= cols,
            "{context}: {} columns wide: {line:?}",
            width(line)
        );
        assert!(!line.ends_with(' '), "{context}: trailing space: {line:?}");
    }
    assert_eq!(table.rows.len(), whole.rows.len(), "{context}");
    for (row, full) in table.rows.iter().zip(&whole.rows) {
        for (cell, k) in row.iter().zip(&table.shown) {
            let at = whole
                .shown
                .iter()
                .position(|s| s == k)
                .expect("unlimited shows all");
            assert!(
                is_cut_of(cell, &full[at]),
                "{context}: cell {cell:?} is neither {:?} nor cut from it with …",
                full[at]
            );
        }
    }
}

/// Runs `args` at every width, piped and in tmux, and checks every table.
/// Fails when nothing was cut or hidden at 60 columns (the case proves nothing).
#[track_caller]
fn check_command(env: &TestEnv, args: &[&str], expect: &[Expect], code: i32) {
    let (c, whole_text, _) = piped(env, args, None);
    assert_eq!(c, code, "{args:?} unlimited:\n{whole_text}");
    let whole = find(&whole_text, expect, &format!("{args:?} unlimited"));
    assert!(
        whole_text.lines().all(|l| !l.ends_with(' ')),
        "{args:?}: trailing space:\n{whole_text}"
    );
    let mut narrowed = false;
    for cols in WIDTHS {
        let context = format!("{args:?} COLUMNS={cols}");
        let (c, text, _) = piped(env, args, Some(cols));
        assert_eq!(c, code, "{context}:\n{text}");
        assert!(
            text.lines().all(|l| !l.ends_with(' ')),
            "{context}: trailing space:\n{text}"
        );
        let tables = find(&text, expect, &context);
        for (t, w) in tables.iter().zip(&whole) {
            check_against(t, w, cols, &context);
            narrowed |= cols == 60 && t != w;
        }

        // The same on a terminal of that width, where idp reads the width
        // from the terminal (no COLUMNS in its environment).
        let context = format!("{args:?} in a {cols}-column tmux pane");
        let term = Tmux::idp_sized(env, args, &[], (cols as u16, 60));
        term.wait_for_text("EXIT=");
        let screen = term.written_lines();
        let on_screen = find(&screen, expect, &context);
        for (s, (t, w)) in on_screen.iter().zip(tables.iter().zip(&whole)) {
            check_against(s, w, cols, &context);
            assert_eq!(s.lines, t.lines, "{context}: terminal and COLUMNS differ");
        }
    }
    assert!(narrowed, "{args:?}: nothing cut or hidden at 60 columns");
}

fn json(env: &TestEnv, args: &[&str]) -> Value {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["-o", "json"]);
    let (_, out, err) = piped(env, &all, None);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{all:?}: {e}\n{out}\n{err}"))
}

fn len(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        _ => 0,
    }
}

const LIST: &[&str] = &[
    "NAME",
    "KIND",
    "OWNER",
    "TYPE",
    "LIFECYCLE",
    "SYSTEM",
    "TITLE",
];
const IMPACT: &[&str] = &["DEPTH", "ENTITY", "VIA", "OWNER", "CONTACT"];

#[test]
fn list_fits_every_width() {
    let env = TestEnv::new();
    let cat = wide_catalog(&env);
    let args = ["--catalog", &cat, "list"];
    let n = len(&json(&env, &args));
    let expect = [Expect {
        headers: LIST,
        rows: n,
        then: Some(format!("{n} entities")),
    }];
    assert_eq!(n, 11);
    check_command(&env, &args, &expect, 0);
}

#[test]
fn list_of_the_example_catalog_fits_every_width() {
    let env = TestEnv::new();
    let cat = acme();
    let args = ["--catalog", &cat, "list", "--kind", "component"];
    let n = len(&json(&env, &args));
    assert_eq!(n, 20);
    let expect = [Expect {
        headers: LIST,
        rows: n,
        then: Some(format!("{n} entities")),
    }];
    check_command(&env, &args, &expect, 0);
}

#[test]
fn impact_fits_every_width() {
    let env = TestEnv::new();
    let cat = wide_catalog(&env);
    let args = ["--catalog", &cat, "impact", "ledger-core"];
    let n = len(&json(&env, &args)["dependents"]);
    assert_eq!(n, 5);
    let expect = [Expect {
        headers: IMPACT,
        rows: n,
        then: Some(format!("{n} dependents")),
    }];
    check_command(&env, &args, &expect, 0);

    let cat = acme();
    let args = ["--catalog", &cat, "impact", "ledger"];
    let n = len(&json(&env, &args)["dependents"]);
    let expect = [Expect {
        headers: IMPACT,
        rows: n,
        then: Some(format!("{n} dependents")),
    }];
    check_command(&env, &args, &expect, 0);
}

#[test]
fn who_owns_members_fit_every_width() {
    let env = TestEnv::new();
    let cat = wide_catalog(&env);
    let args = ["--catalog", &cat, "--offline", "who-owns", "ledger-core"];
    let n = len(&json(&env, &args)["owner"]["members"]);
    assert_eq!(n, 2);
    let expect = [Expect {
        headers: &["NAME", "EMAIL", "REF"],
        rows: n,
        then: None,
    }];
    check_command(&env, &args, &expect, 0);
}

#[test]
fn show_sections_fit_every_width() {
    let env = TestEnv::new();
    let cat = wide_catalog(&env);
    let args = ["--catalog", &cat, "--offline", "show", "ledger-core"];
    let doc = json(&env, &args);
    let expect = [
        Expect {
            headers: &["FIELD", "VALUE"],
            rows: len(&doc["spec"]),
            then: None,
        },
        Expect {
            headers: &["RELATION", "ENTITY", "REF"],
            rows: len(&doc["relations"]),
            then: None,
        },
        Expect {
            headers: &["TITLE", "URL", "TYPE"],
            rows: len(&doc["metadata"]["links"]),
            then: None,
        },
        Expect {
            headers: &["KEY", "VALUE"],
            rows: len(&doc["metadata"]["annotations"]),
            then: None,
        },
        Expect {
            headers: &["SCORECARD", "LEVEL", "NEXT LEVEL NEEDS"],
            rows: 1,
            then: None,
        },
    ];
    check_command(&env, &args, &expect, 0);
}

#[test]
fn score_tables_fit_every_width() {
    let env = TestEnv::new();
    let cat = wide_catalog(&env);
    let args = ["--catalog", &cat, "--offline", "score"];
    let doc = json(&env, &args);
    let results = doc["results"].as_array().expect("results");
    let findings = results
        .iter()
        .flat_map(|r| r["rules"].as_array().expect("rules"))
        .filter(|o| !matches!(o["state"].as_str(), Some("pass" | "skipped" | "exempt")))
        .count();
    assert!(findings > 0);
    let expect = [
        Expect {
            headers: &["ENTITY", "LEVEL", "NEXT LEVEL NEEDS"],
            rows: results.len(),
            then: None,
        },
        Expect {
            headers: &["ENTITY", "RULE", "STATE", "MESSAGE"],
            rows: findings,
            then: None,
        },
    ];
    check_command(&env, &args, &expect, 0);
}

#[test]
fn scaffold_tables_fit_every_width() {
    let env = TestEnv::new();
    let cat = wide_catalog(&env);
    let args = ["--catalog", &cat, "scaffold", "list"];
    let expect = [Expect {
        headers: &["NAME", "KIND", "DESCRIPTION", "PATH"],
        rows: len(&json(&env, &args)),
        then: None,
    }];
    check_command(&env, &args, &expect, 0);

    let name = "release-train-service-with-canary-and-rollback";
    let args = ["--catalog", &cat, "scaffold", "show", name];
    let doc = json(&env, &args);
    let expect = [
        Expect {
            headers: &[
                "PAGE",
                "NAME",
                "TYPE",
                "REQUIRED",
                "DEFAULT",
                "ENUM / FIELD",
            ],
            rows: len(&doc["parameters"]),
            then: None,
        },
        Expect {
            headers: &["ID", "ACTION", "NAME", "IF"],
            rows: len(&doc["steps"]),
            then: None,
        },
    ];
    check_command(&env, &args, &expect, 0);
}

#[test]
fn doctor_and_enrich_fit_every_width() {
    let env = TestEnv::new();
    let cat = wide_catalog(&env);
    let args = ["--catalog", &cat, "--offline", "doctor"];
    let expect = [Expect {
        headers: &[
            "INTEGRATION",
            "KIND",
            "BASE URL",
            "TOKEN",
            "ANSWERS",
            "PROBLEM",
        ],
        rows: len(&json(&env, &args)["integrations"]),
        then: None,
    }];
    // 1: a required token is missing
    check_command(&env, &args, &expect, 1);

    let args = ["--catalog", &cat, "--offline", "enrich"];
    let expect = [Expect {
        headers: &[
            "INTEGRATION",
            "OK",
            "ABSENT",
            "UNAVAILABLE",
            "WHY UNAVAILABLE",
        ],
        rows: len(&json(&env, &args)["integrations"]),
        then: None,
    }];
    check_command(&env, &args, &expect, 0);
}

#[test]
fn hidden_columns_are_named_once_on_stderr_and_quiet_silences_it() {
    let env = TestEnv::new();
    let cat = wide_catalog(&env);
    // show hides columns in two of its tables at 60: one note.
    let (_, out, err) = piped(
        &env,
        &["--catalog", &cat, "--offline", "show", "ledger-core"],
        Some(60),
    );
    assert_eq!(err.matches("note: ").count(), 1, "{err}");
    assert!(
        err.contains("hidden at 60 columns (") && err.contains("use -o json"),
        "{err}"
    );
    assert!(!out.contains("note:"), "the note is not data:\n{out}");

    let (_, _, err) = piped(&env, &["--catalog", &cat, "list"], Some(60));
    assert_eq!(
        err.trim_end(),
        "note: 5 columns hidden at 60 columns (OWNER, TYPE, LIFECYCLE, SYSTEM, TITLE); widen the terminal or use -o json"
    );
    let (_, _, err) = piped(&env, &["--catalog", &cat, "-q", "list"], Some(60));
    assert_eq!(err, "", "-q silences the note");
    // Nothing hidden, nothing said.
    let (_, _, err) = piped(&env, &["--catalog", &cat, "list"], None);
    assert_eq!(err, "");
}

#[test]
fn piped_without_columns_nothing_is_cut() {
    let env = TestEnv::new();
    let cat = wide_catalog(&env);
    let (_, out, _) = piped(&env, &["--catalog", &cat, "list"], None);
    assert!(!out.contains('…'), "{out}");
    assert!(out.contains("支付网关结算与对账服务（生产环境，请勿在未审批时修改）"));
    // The bidi override and the bell show as escapes, whole.
    assert!(out.contains(r"Mirror \u{202e}evil\u{202c} text shows as escapes, a bell \u{7} too"));

    // Narrower, the titles are cut: never inside a character (no U+FFFD
    // from a split UTF-8 sequence) nor inside an escape.
    let mut cut_after_escape = false;
    for cols in (110..=190).step_by(4) {
        let (_, out, _) = piped(&env, &["--catalog", &cat, "list"], Some(cols));
        assert!(!out.contains('\u{fffd}'), "{out}");
        let mirror = out
            .lines()
            .find(|l| l.starts_with("mirror "))
            .expect("mirror row");
        if let Some(head) = mirror.strip_suffix('…') {
            let open = head.rfind(r"\u{");
            assert!(
                open.is_none_or(|at| head[at..].contains('}')),
                "{cols}: an escape was cut: {mirror}"
            );
            cut_after_escape |= head.contains(r"\u{202e}");
        }
    }
    assert!(
        cut_after_escape,
        "no width cut the title after its first escape"
    );
}
