//! The one YAML parser (src/yaml/): values read as catalogs were written
//! against (serde_yaml 0.9's YAML 1.2 core schema), problems of every
//! document located from the same parse, hostile text refused quickly with
//! its position, and `-o yaml` written as before.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{catalog_with, TestEnv};

const HEADER: &str = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc\nspec:\n  type: service\n  lifecycle: production\n  owner: payments\n";

/// `show svc -o json` of a catalog holding `text` as `svc.yaml`.
fn shown(text: &str) -> Value {
    let env = TestEnv::new();
    let repo = catalog_with(&env, "svc.yaml", text);
    let run = env.run(["--catalog", repo.path(), "show", "svc", "-o", "json"]);
    run.ok();
    run.json()
}

/// The errors of `validate -o json` as (code, file, line, column).
fn errors(env: &TestEnv, path: &str) -> Vec<(String, String, u64, u64)> {
    let run = env.run(["--catalog", path, "validate", "-o", "json"]);
    run.code(1);
    run.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().to_string(),
                e["file"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
                e["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn yaml_1_1_looking_scalars_read_as_they_always_did() {
    let text = format!(
        "{HEADER}  flags:\n    a: yes\n    b: no\n    c: on\n    d: off\n    e: 0755\n    f: 010\n    g: ~\n    h: 2024-01-01\n    i: 2001-12-14t21:59:43.10-05:00\n    j: 0o17\n    k: 0x1F\n    l: 1e3\n    m: True\n    n: '0755'\n    o: null\n    p:\n    q: !custom 12\n    r: !!str 12\n    s: .inf\n    t: 1_000\n"
    );
    let v = shown(&text);
    assert_eq!(
        v["spec"]["flags"],
        json!({
            "a": "yes", "b": "no", "c": "on", "d": "off",
            "e": "0755", "f": "010", "g": null,
            "h": "2024-01-01", "i": "2001-12-14t21:59:43.10-05:00",
            "j": 15, "k": 31, "l": 1000.0, "m": true, "n": "0755",
            "o": null, "p": null, "q": 12, "r": "12", "s": null, "t": "1_000"
        }),
        "{v}"
    );
}

#[test]
fn anchors_and_aliases_expand_and_merge_keys_stay_plain_keys() {
    let text = format!(
        "{HEADER}  base: &base {{tier: 1, tags: [a, b]}}\n  copy: *base\n  merged:\n    <<: *base\n    tier: 2\n"
    );
    let v = shown(&text);
    assert_eq!(v["spec"]["copy"], json!({"tier": 1, "tags": ["a", "b"]}));
    assert_eq!(
        v["spec"]["merged"],
        json!({"<<": {"tier": 1, "tags": ["a", "b"]}, "tier": 2})
    );
}

#[test]
fn problems_of_a_multi_document_file_point_into_their_own_document() {
    let env = TestEnv::new();
    let text = "\
# three entities
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: fine
spec:
  type: service
  lifecycle: production
  owner: payments
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: Bad Name!
spec:
  type: service
  lifecycle: production
  owner: payments
--- # the last one
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: third
  tags: [ok, 'Not OK']
spec:
  type: service
  lifecycle: production
  owner: nobody-here
";
    let repo = catalog_with(&env, "many.yaml", text);
    let found = errors(&env, repo.path());
    let at = |code: &str| -> Vec<(u64, u64)> {
        found
            .iter()
            .filter(|(c, f, _, _)| c == code && f.ends_with("many.yaml"))
            .map(|(_, _, l, c)| (*l, *c))
            .collect()
    };
    assert_eq!(at("invalid-name"), vec![(15, 9)], "{found:?}");
    assert_eq!(at("invalid-tag"), vec![(25, 14)], "{found:?}");
    assert_eq!(at("dangling-reference"), vec![(29, 10)], "{found:?}");
}

#[test]
fn a_duplicate_key_in_a_later_document_is_refused_at_the_second_key() {
    let env = TestEnv::new();
    let text = format!(
        "{HEADER}---\n{}  owner: again\n",
        HEADER.replace("svc", "other")
    );
    let repo = catalog_with(&env, "dup.yaml", &text);
    let run = env.run(["--catalog", repo.path(), "validate", "-o", "json"]);
    let e = run.only_error();
    assert_eq!(e["code"], "yaml-syntax", "{e}");
    assert_eq!(e["message"], "duplicate entry with key \"owner\"", "{e}");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(18), Some(3))
    );
}

/// The single error of `validate -o json` for a catalog holding `text`,
/// checked to come within five seconds.
fn refused(text: impl AsRef<[u8]>) -> Value {
    let env = TestEnv::new();
    let repo = catalog_with(&env, "hostile.yaml", text);
    let start = Instant::now();
    let e = env
        .run(["--catalog", repo.path(), "validate", "-o", "json"])
        .only_error();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    e
}

#[test]
fn a_billion_laughs_is_refused_as_an_alias_bomb() {
    let mut text =
        format!("{HEADER}  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..12 {
        let items = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("  a{i}: &a{i} [{items}]\n"));
    }
    let e = refused(&text);
    assert_eq!(e["code"], "yaml-syntax", "{e}");
    assert_eq!(
        e["message"], "too many alias expansions (a YAML alias bomb?); refused",
        "{e}"
    );
    assert!(e["line"].as_u64().unwrap() > 9, "{e}");
}

#[test]
fn an_alias_that_would_nest_past_the_limit_is_refused_at_the_alias() {
    // 100 levels named, then used 100 levels deep: 200 once expanded.
    let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    let text = format!(
        "{HEADER}  a: &deep {deep}\n  b: {}*deep{}\n",
        "[".repeat(100),
        "]".repeat(100)
    );
    let e = refused(&text);
    assert_eq!(e["code"], "yaml-budget", "{e}");
    assert_eq!(
        e["message"], "nesting deeper than 128 levels; refused",
        "{e}"
    );
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(10), Some(106)),
        "{e}"
    );
}

#[test]
fn deep_flow_and_indentless_nesting_are_refused_with_a_position() {
    let e = refused(format!("{HEADER}  x: {}\n", "[".repeat(200_000)));
    assert_eq!(e["code"], "yaml-budget", "{e}");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(9), Some(132)),
        "{e}"
    );
    let mut indentless = HEADER.to_string();
    for i in 0..200 {
        indentless.push_str(&format!(
            "{}k:\n{}- ",
            " ".repeat(2 * i + 2),
            " ".repeat(2 * i + 2)
        ));
        indentless.push('\n');
    }
    let e = refused(indentless);
    assert_eq!(e["code"], "yaml-budget", "{e}");
    assert_eq!(
        e["message"], "nesting deeper than 128 levels; refused",
        "{e}"
    );
}

#[test]
fn a_9_mb_scalar_loads_and_an_11_mb_file_is_refused() {
    let env = TestEnv::new();
    let text = format!("{HEADER}  blob: {}\n", "x".repeat(9 << 20));
    let repo = catalog_with(&env, "svc.yaml", &text);
    let start = Instant::now();
    env.run(["--catalog", repo.path(), "validate"]).ok();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    let e = refused(format!("{HEADER}  blob: {}\n", "x".repeat(11 << 20)));
    assert_eq!(e["code"], "file-too-large", "{e}");
}

#[test]
fn invalid_utf8_and_broken_syntax_are_refused_where_they_are() {
    let e = refused(b"apiVersion: v1\nkind: Component\nmetadata:\n  name: \xff\xfe\n".as_slice());
    assert_eq!(e["code"], "not-utf8", "{e}");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(4), Some(9)),
        "{e}"
    );
    let e = refused(format!("{HEADER}  x: \"unterminated\n"));
    assert_eq!(e["code"], "yaml-syntax", "{e}");
    assert_eq!(e["line"].as_u64(), Some(9), "{e}");
}

#[test]
fn many_empty_documents_are_quick() {
    let env = TestEnv::new();
    let text = format!("{HEADER}{}", "---\n".repeat(100_000));
    let repo = catalog_with(&env, "svc.yaml", &text);
    let start = Instant::now();
    env.run(["--catalog", repo.path(), "validate"]).ok();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn yaml_output_quotes_what_would_read_back_as_something_else() {
    let text = format!(
        "{HEADER}  notes:\n    version: '1.10'\n    mode: '0755'\n    flag: 'true'\n    empty: ''\n    text: \"two\\nlines\\n\"\n    plain: yes\n"
    );
    let env = TestEnv::new();
    let repo = catalog_with(&env, "svc.yaml", &text);
    let run = env.run(["--catalog", repo.path(), "show", "svc", "-o", "yaml"]);
    run.ok()
        .stdout_has("  notes:\n    version: '1.10'\n    mode: '0755'\n    flag: 'true'\n    empty: ''\n    text: |\n      two\n      lines\n    plain: yes\n");
}
