//! `idp cost`: FOCUS exports (the FinOps Foundation's sample, and generated
//! files) summed per month, tag, entity and currency, checked against an
//! independent computation by DuckDB over the same files; CSV, gzipped CSV
//! and Parquet agree; allocation never counts a row twice; the published
//! aggregate answers without billing files; bad inputs fail precisely.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{component_with, CatalogBuilder, TestEnv, ORG};

const SAMPLE_GZ: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/focus/focus_sample.csv.gz"
);

/// Runs DuckDB (Python) with `sql`; rows as JSON arrays of strings.
pub(crate) fn duckdb(sql: &str) -> Vec<Vec<String>> {
    let script = format!(
        "import duckdb, json\nfor r in duckdb.sql({sql:?}).fetchall(): print(json.dumps([str(x) for x in r]))\n"
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "duckdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub(crate) fn read_csv(path: &Path) -> String {
    format!(
        "read_csv('{}', header=true, nullstr='NULL', all_varchar=true)",
        path.display()
    )
}

/// `{(key, currency): amount}` of a report's lines, amounts normalised.
pub(crate) fn lines(v: &Value) -> BTreeMap<(String, String), String> {
    v["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                (
                    l["key"].as_str().unwrap().to_string(),
                    l["currency"].as_str().unwrap().to_string(),
                ),
                norm(l["amount"].as_str().unwrap()),
            )
        })
        .collect()
}

/// `idp --catalog DIR cost ARGS… -o json`, which must succeed.
pub(crate) fn cost_json(env: &TestEnv, dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--catalog", dir.to_str().unwrap(), "cost"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "json"]);
    env.run(all).ok().json()
}

/// The amount of `key` in `currency` among a report's lines, normalised.
pub(crate) fn amount(v: &Value, key: &str, currency: &str) -> Option<String> {
    lines(v).remove(&(key.to_string(), currency.to_string()))
}

/// `--from/--to` covering every row of the fixtures.
const ALL_TIME: [&str; 4] = ["--from", "2000-01", "--to", "2100-12"];

pub(crate) fn norm(d: &str) -> String {
    let d = if d.contains('.') {
        d.trim_end_matches('0').trim_end_matches('.')
    } else {
        d
    };
    if d == "-0" {
        "0".into()
    } else {
        d.to_string()
    }
}

pub(crate) fn gunzip(from: &str, to: &Path) {
    let out = Command::new("gzip")
        .args(["-dc", from])
        .output()
        .expect("gzip");
    assert!(out.status.success());
    std::fs::write(to, out.stdout).unwrap();
}

const SAMPLE_CONFIG: &str = "exclude: [billing/**]\ncost:\n  sources: [\"billing/*\"]\n  allocate:\n    - {tag: application, to: component}\n";

pub(crate) fn sample_catalog(env: &TestEnv, name: &str, file: &str) -> std::path::PathBuf {
    let dir = env.dir(name);
    let components = component_with("BrightLensMatrix", "payments", &[])
        + &component_with("ZoomMapMax", "checkout", &[]);
    CatalogBuilder::new(&dir)
        .file("idp.yaml", SAMPLE_CONFIG)
        .file("org.yaml", ORG)
        .file("components.yaml", components)
        .build();
    std::fs::create_dir_all(dir.join("billing")).unwrap();
    let target = dir.join("billing").join(file);
    if file.ends_with(".gz") {
        std::fs::copy(SAMPLE_GZ, &target).unwrap();
    } else {
        gunzip(SAMPLE_GZ, &target);
    }
    dir
}

#[test]
fn sums_by_month_and_tag_equal_duckdb_on_the_finops_sample() {
    let env = TestEnv::new();
    let dir = sample_catalog(&env, "cat", "sample.csv.gz");
    let csv = env.root.join("sample.csv");
    gunzip(SAMPLE_GZ, &csv);
    let ours = lines(&cost_json(&env, &dir, &["--by", "month"]));
    let expected: BTreeMap<(String, String), String> = duckdb(&format!(
        "select strftime(ChargePeriodStart::TIMESTAMP, '%Y-%m'), BillingCurrency, sum(EffectiveCost::DECIMAL(38,12))::VARCHAR \
         from {} where EffectiveCost is not null group by all",
        read_csv(&csv)
    ))
    .into_iter()
    .map(|r| ((r[0].clone(), r[1].clone()), norm(&r[2])))
    .collect();
    assert!(!expected.is_empty());
    // DuckDB lists months with data; idp also lists empty months between.
    for (k, v) in &expected {
        assert_eq!(ours.get(k), Some(v), "month {k:?}");
    }

    // Per tag, over the whole range.
    let ours = lines(&cost_json(
        &env,
        &dir,
        &[&["--by", "tag"][..], &ALL_TIME].concat(),
    ));
    let expected: BTreeMap<(String, String), String> = duckdb(&format!(
        "with t as (select BillingCurrency c, EffectiveCost::DECIMAL(38,12) a, \
           unnest(json_keys(Tags::JSON)) k, Tags::JSON j from {} where EffectiveCost is not null and Tags is not null and Tags <> '{{}}') \
         select k || '=' || (j->>k), c, sum(a)::VARCHAR from t group by all",
        read_csv(&csv)
    ))
    .into_iter()
    .map(|r| ((r[0].clone(), r[1].clone()), norm(&r[2])))
    .collect();
    assert!(expected.len() > 3, "{expected:?}");
    for (k, v) in &expected {
        assert_eq!(ours.get(k), Some(v), "tag {k:?}");
    }

    // The application tag allocates to the two components; the rest is unallocated.
    let ours = lines(&cost_json(
        &env,
        &dir,
        &[&["--by", "entity"][..], &ALL_TIME].concat(),
    ));
    let expected = duckdb(&format!(
        "select BillingCurrency, sum(EffectiveCost::DECIMAL(38,12))::VARCHAR from {} \
         where EffectiveCost is not null and Tags::JSON->>'application' = 'BrightLensMatrix' group by all",
        read_csv(&csv)
    ));
    assert_eq!(
        ours.get(&(
            "component:default/brightlensmatrix".to_string(),
            expected[0][0].clone()
        )),
        Some(&norm(&expected[0][1]))
    );
    assert!(ours.keys().any(|(k, _)| k == "unallocated"));
}

#[test]
fn csv_gzip_and_parquet_give_the_same_answers() {
    let env = TestEnv::new();
    let gz = sample_catalog(&env, "gz", "s.csv.gz");
    let csv = sample_catalog(&env, "csv", "s.csv");
    let pq = sample_catalog(&env, "pq", "s.csv");
    let src = pq.join("billing/s.csv");
    duckdb(&format!(
        "copy (select * replace (EffectiveCost::DECIMAL(18,11) as EffectiveCost, ChargePeriodStart::TIMESTAMP as ChargePeriodStart) \
         from {}) to '{}' (format parquet)",
        read_csv(&src),
        pq.join("billing/s.parquet").display()
    ));
    std::fs::remove_file(&src).unwrap();
    for by in ["month", "day", "service", "tag", "entity"] {
        let answer = |dir: &Path| {
            lines(&cost_json(
                &env,
                dir,
                &[&["--by", by][..], &ALL_TIME].concat(),
            ))
        };
        let a = answer(&csv);
        assert!(!a.is_empty());
        assert_eq!(a, answer(&gz), "--by {by}: gz");
        assert_eq!(a, answer(&pq), "--by {by}: parquet");
    }
}

pub(crate) const HEADER: &str = "BilledCost,EffectiveCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ServiceName,ResourceId,SubAccountId,Tags\n";

pub(crate) fn row(
    cost: &str,
    cur: &str,
    day: &str,
    service: &str,
    resource: &str,
    sub: &str,
    tags: &str,
) -> String {
    format!(
        "{cost},{cost},{cur},{day}T00:00:00Z,{day}T01:00:00Z,{service},{resource},{sub},\"{}\"\n",
        tags.replace('"', "\"\"")
    )
}

pub(crate) fn generated(env: &TestEnv, rows: &str) -> std::path::PathBuf {
    let dir = env.dir("gen");
    let comps = component_with(
        "web",
        "payments",
        &[("idp.dev/cost-selector", "Tags.app=web\nSubAccountId=111")],
    ) + &component_with(
        "api",
        "checkout",
        &[("idp.dev/cost-selector", "ResourceId^=arn:api/")],
    );
    CatalogBuilder::new(&dir)
        .file("idp.yaml", "exclude: [billing/**]\ncost:\n  sources: [\"billing/*.csv\"]\n  allocate:\n    - {tag: service, to: component}\n    - {tag: team, to: group}\n")
        .file("org.yaml", ORG)
        .file("components.yaml", comps)
        .build();
    std::fs::create_dir_all(dir.join("billing")).unwrap();
    std::fs::write(dir.join("billing/b.csv"), format!("{HEADER}{rows}")).unwrap();
    dir
}

#[test]
fn a_row_claimed_by_a_tag_and_a_selector_counts_once_and_currencies_never_mix() {
    let env = TestEnv::at("2026-11-15T00:00:00Z");
    let rows = [
        // Tag rule names web; the selector (app=web) would too: counted once.
        row(
            "10.10",
            "USD",
            "2026-10-01",
            "EC2",
            "i-1",
            "111",
            r#"{"service":"web","app":"web"}"#,
        ),
        // Only the selector.
        row("5.05", "USD", "2026-10-02", "S3", "s3-1", "111", "{}"),
        // Resource prefix → api.
        row("2.00", "EUR", "2026-10-03", "Lambda", "arn:api/f", "", ""),
        // Tag value names no component → next rule: the team tag names the group.
        row(
            "1.00",
            "USD",
            "2026-10-04",
            "RDS",
            "db-1",
            "",
            r#"{"service":"ghost","team":"payments"}"#,
        ),
        // Nobody.
        row(
            "0.50",
            "USD",
            "2026-10-05",
            "RDS",
            "db-2",
            "999",
            r#"{"owner":"nobody"}"#,
        ),
    ]
    .concat();
    let dir = generated(&env, &rows);
    let c = dir.to_str().unwrap();
    let v = cost_json(&env, &dir, &["--by", "entity"]);
    let get = |k: &str, cur: &str| amount(&v, k, cur);
    assert_eq!(
        get("component:default/web", "USD").as_deref(),
        Some("15.15")
    );
    assert_eq!(get("component:default/api", "EUR").as_deref(), Some("2"));
    assert_eq!(get("group:default/payments", "USD").as_deref(), Some("1"));
    assert_eq!(get("unallocated", "USD").as_deref(), Some("0.5"));
    // Totals per currency, never summed across.
    let totals: BTreeMap<String, String> = v["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["currency"].as_str().unwrap().into(),
                norm(t["amount"].as_str().unwrap()),
            )
        })
        .collect();
    assert_eq!(
        totals,
        BTreeMap::from([("EUR".into(), "2".into()), ("USD".into(), "16.65".into())])
    );

    // A group: its own rows, and everything its sub-teams own, once.
    let v = cost_json(&env, &dir, &["group:engineering", "--by", "month"]);
    assert_eq!(amount(&v, "2026-10", "USD").as_deref(), Some("16.15"));
    assert_eq!(amount(&v, "2026-10", "EUR").as_deref(), Some("2"));
    let v = cost_json(&env, &dir, &["group:payments"]);
    assert_eq!(amount(&v, "2026-10", "USD").as_deref(), Some("16.15"));

    // What to tag next.
    let run = env.run(["--catalog", c, "cost", "--unallocated", "--by", "tag"]);
    run.ok().stdout_has("owner=nobody");
    // The table shows the unallocated share.
    env.run(["--catalog", c, "cost"])
        .ok()
        .stdout_has("unallocated: 0.50 USD");
}

#[test]
fn anomalies_are_marked_and_k_is_configurable() {
    let env = TestEnv::new();
    let mut rows = String::new();
    for (m, cost) in [
        ("01", "100"),
        ("02", "101"),
        ("03", "99"),
        ("04", "100"),
        ("05", "300"),
    ] {
        rows.push_str(&row(
            cost,
            "USD",
            &format!("2026-{m}-10"),
            "EC2",
            "i",
            "111",
            "{}",
        ));
    }
    let dir = generated(&env, &rows);
    let c = dir.to_str().unwrap();
    let v = cost_json(&env, &dir, &[]);
    let anomalies: Vec<&str> = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["anomaly"] == true)
        .map(|l| l["key"].as_str().unwrap())
        .collect();
    assert_eq!(anomalies, ["2026-05"]);
    env.run(["--catalog", c, "cost"])
        .ok()
        .stdout_has("! anomaly");
    let v = cost_json(&env, &dir, &["--anomaly-k", "1000"]);
    assert!(v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["anomaly"] == false));
    // CSV output, exact amounts.
    env.run(["--catalog", c, "cost", "-o", "csv"])
        .ok()
        .stdout_has("2026-05,USD,300,100,200.00,true");
}

#[test]
fn the_second_run_comes_from_the_cache_and_a_changed_file_is_reread() {
    let env = TestEnv::new();
    let dir = generated(&env, &row("1", "USD", "2026-10-01", "EC2", "i", "", "{}"));
    let v = cost_json(&env, &dir, &[]);
    assert_eq!(v["source"], "files");
    // The first write may be racy (same mtime second): wait it out once.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    cost_json(&env, &dir, &[]);
    let v = cost_json(&env, &dir, &[]);
    assert_eq!(v["source"], "cache");
    std::fs::write(
        dir.join("billing/b.csv"),
        format!(
            "{HEADER}{}",
            row("7", "USD", "2026-10-01", "EC2", "i", "", "{}")
        ),
    )
    .unwrap();
    let v = cost_json(&env, &dir, &[]);
    assert_eq!(v["source"], "files");
    assert_eq!(amount(&v, "2026-10", "USD").as_deref(), Some("7"));
}

#[test]
fn publish_push_clone_sync_then_answer_from_the_published_aggregate_without_billing_files() {
    let env = TestEnv::new();
    let dir = generated(
        &env,
        &(row("4.25", "USD", "2026-10-01", "EC2", "i", "111", "{}")
            + &row("1.50", "USD", "2026-09-03", "EC2", "i", "111", "{}")),
    );
    let c = dir.to_str().unwrap();
    // A bare remote the catalog pushes to.
    let remote = env.root.join("remote.git");
    git2::Repository::init_bare(&remote).unwrap();
    let origin = git2::Repository::open(&dir).unwrap();
    origin.remote("origin", remote.to_str().unwrap()).unwrap();
    origin
        .find_remote("origin")
        .unwrap()
        .push(&["refs/heads/main:refs/heads/main"], None)
        .unwrap();
    env.run(["--catalog", c, "cost", "--publish"])
        .ok()
        .stdout_has("Published refs/idp/cost")
        .stdout_has("pushed to origin");
    let bare = git2::Repository::open_bare(&remote).unwrap();
    assert!(bare.find_reference("refs/idp/cost").is_ok(), "not pushed");
    bare.set_head("refs/heads/main").unwrap();

    // Another engineer: a clone (no billing files: they were never
    // committed), an empty cache.
    let clone_dir = env.root.join("clone");
    git2::Repository::clone(remote.to_str().unwrap(), &clone_dir).unwrap();
    assert!(!clone_dir.join("billing").exists());
    let other = TestEnv::new();
    let cl = clone_dir.to_str().unwrap();
    other
        .run(["--catalog", cl, "cost"])
        .code(4)
        .stderr_has("no cost data");
    other
        .run(["--catalog", cl, "sync"])
        .ok()
        .stdout_has("fetched refs/idp/cost (monthly cost of");
    let v = cost_json(&other, &clone_dir, &["--by", "entity", "--from", "2026-10"]);
    assert_eq!(v["source"], "published");
    assert_eq!(
        amount(&v, "component:default/web", "USD").as_deref(),
        Some("4.25")
    );
    // Daily detail is not in the monthly aggregate.
    other
        .run(["--catalog", cl, "cost", "--by", "day"])
        .code(2)
        .stderr_has("monthly aggregate");
    // A catalog whose origin has no aggregate: sync says so and succeeds.
    env.run(["--catalog", c, "sync"]).ok();
}

#[test]
fn bad_billing_files_fail_with_the_place_and_the_missing_columns() {
    let env = TestEnv::new();
    let dir = generated(
        &env,
        &row("12,5", "USD", "2026-10-01", "EC2", "i", "", "{}").replace("\"12,5\"", "x"),
    );
    let c = dir.to_str().unwrap();
    std::fs::write(
        dir.join("billing/b.csv"),
        format!("{HEADER}1,abc,USD,2026-10-01,2026-10-02,EC2,i,1,\n"),
    )
    .unwrap();
    env.run(["--catalog", c, "cost"])
        .code(2)
        .stderr_has("b.csv:2:2: EffectiveCost `abc` is not a number");
    std::fs::write(
        dir.join("billing/b.csv"),
        format!("{HEADER}1,1,USD,2026-13-01,2026-10-02,EC2,i,1,\n"),
    )
    .unwrap();
    env.run(["--catalog", c, "cost"])
        .code(2)
        .stderr_has("b.csv:2:4: ChargePeriodStart `2026-13-01` is not a date");
    std::fs::write(dir.join("billing/b.csv"), "BilledCost,ServiceName\n1,EC2\n").unwrap();
    env.run(["--catalog", c, "cost"])
        .code(2)
        .stderr_has("missing FOCUS columns EffectiveCost, BillingCurrency, ChargePeriodStart");
}

#[test]
fn idp_yaml_cannot_name_billing_files_outside_the_catalog() {
    let env = TestEnv::new();
    let outside = env.root.join("secret.csv");
    std::fs::write(
        &outside,
        format!(
            "{HEADER}{}",
            row("1", "USD", "2026-10-01", "EC2", "i", "", "{}")
        ),
    )
    .unwrap();
    let dir = env.dir("c");
    CatalogBuilder::new(&dir)
        .file(
            "idp.yaml",
            format!("cost:\n  sources: [\"{}\"]\n", outside.display()),
        )
        .file("org.yaml", ORG)
        .build();
    env.run(["--catalog", dir.to_str().unwrap(), "cost"])
        .code(4)
        .stderr_has("--source");
    // A symlink inside the catalog pointing out is refused too.
    std::fs::write(
        dir.join("idp.yaml"),
        "cost:\n  sources: [\"billing/*.csv\"]\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("billing")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("billing/link.csv")).unwrap();
    let run = env.run(["--catalog", dir.to_str().unwrap(), "cost"]);
    assert_ne!(run.code, 0);
    // The operator may name it.
    env.run([
        "--catalog",
        dir.to_str().unwrap(),
        "cost",
        "--source",
        outside.to_str().unwrap(),
        "-o",
        "json",
    ])
    .ok();
}

#[test]
fn validate_checks_the_cost_section_the_billing_files_and_the_selectors() {
    let env = TestEnv::new();
    let rows = row(
        "1",
        "USD",
        "2026-10-01",
        "EC2",
        "i",
        "",
        r#"{"service":"ghost"}"#,
    ) + &row(
        "1",
        "USD",
        "2026-10-02",
        "EC2",
        "i",
        "",
        r#"{"service":"ghost"}"#,
    ) + &row(
        "1",
        "USD",
        "2026-10-02",
        "EC2",
        "i",
        "",
        r#"{"service":"phantom"}"#,
    ) + &row(
        "1",
        "USD",
        "2026-10-02",
        "EC2",
        "i",
        "",
        r#"{"service":"web"}"#,
    );
    let dir = generated(&env, &rows);
    let c = dir.to_str().unwrap();
    // Values naming no entity: a warning, most rows first; exit 0.
    env.run(["--catalog", c, "validate"])
        .ok()
        .stdout_has("warning[cost-unmatched-allocation]")
        .stdout_has("service=ghost (2 rows), service=phantom (1 row)")
        .stdout_lacks("service=web")
        .stdout_has("--> ")
        .stdout_has("idp.yaml:4:3");

    // A selector that does not parse: an error at the annotation.
    std::fs::write(
        dir.join("bad.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bad\n  annotations:\n    idp.dev/cost-selector: \"Foo=1\"\nspec:\n  type: service\n  lifecycle: production\n  owner: payments\n",
    )
    .unwrap();
    env.run(["--catalog", c, "validate"])
        .code(1)
        .stdout_has("error[invalid-cost-selector]")
        .stdout_has("unknown column `Foo`")
        .stdout_has("bad.yaml:6:28");
    std::fs::remove_file(dir.join("bad.yaml")).unwrap();

    // A value that does not parse: file:row:column.
    std::fs::write(
        dir.join("billing/b.csv"),
        format!("{HEADER}1,abc,USD,2026-10-01,2026-10-02,EC2,i,1,\n"),
    )
    .unwrap();
    env.run(["--catalog", c, "validate"])
        .code(1)
        .stdout_has("error[cost-source]: EffectiveCost `abc` is not a number")
        .stdout_has("billing/b.csv:2:2");
    // Missing FOCUS columns, named.
    std::fs::write(dir.join("billing/b.csv"), "BilledCost,ServiceName\n1,EC2\n").unwrap();
    env.run(["--catalog", c, "validate"])
        .code(1)
        .stdout_has("missing FOCUS columns EffectiveCost, BillingCurrency, ChargePeriodStart")
        .stdout_has("billing/b.csv:1:1");

    // The section's own problems, at their key.
    std::fs::write(
        dir.join("idp.yaml"),
        "exclude: [billing/**]\ncost:\n  sources: [\"billing/*.csv\", \"../x/*.csv\"]\n  anomaly: {k: -1}\n",
    )
    .unwrap();
    env.run(["--catalog", c, "validate"])
        .code(1)
        .stdout_has("cost.sources[1] `../x/*.csv`")
        .stdout_has("cost.anomaly.k must be a positive number")
        .stdout_has("idp.yaml:4:");
    std::fs::write(
        dir.join("idp.yaml"),
        "exclude: [billing/**]\ncost:\n  sources: [\"billing/*.csv\"]\n  metrik: BilledCost\n",
    )
    .unwrap();
    env.run(["--catalog", c, "validate"])
        .code(1)
        .stdout_has("error[cost-config]")
        .stdout_has("metrik");
}

const COST_CARD: &str = "\
apiVersion: idp.dev/v1alpha1
kind: Scorecard
metadata:
  name: spend
spec:
  appliesTo: { kinds: [Component] }
  levels: [{ id: ok, title: OK }]
  rules:
    - id: cheap
      level: ok
      title: Under 20 a month
      check: live.cost.last_month < 20
";

/// Billing data for web (USD, 10 then 25) and api (EUR, 2), whose file is
/// old enough for the cache to be trusted.
pub(crate) fn costed(env: &TestEnv) -> std::path::PathBuf {
    let rows = row("10", "USD", "2026-09-10", "EC2", "i", "111", "{}")
        + &row("25", "USD", "2026-10-10", "EC2", "i", "111", "{}")
        + &row("2", "EUR", "2026-10-03", "Lambda", "arn:api/f", "", "");
    let dir = generated(env, &rows);
    std::fs::write(dir.join("card.yaml"), COST_CARD).unwrap();
    backdate(&dir.join("billing/b.csv"));
    dir
}

#[test]
fn scorecards_read_live_cost_facts_from_the_cache_never_from_billing_files() {
    let env = TestEnv::at("2026-11-15T00:00:00Z");
    let dir = costed(&env);
    let c = dir.to_str().unwrap();
    // No cached aggregate yet: show/score do not read billing files, so
    // the fact is unknown, with why.
    let doc = env
        .run(["--catalog", c, "score", "web", "-o", "json"])
        .json();
    let rule = find(&doc, "cheap").expect("rule");
    assert_eq!(rule["state"], "unknown", "{rule}");
    assert!(rule.to_string().contains("no cost data"), "{rule}");

    env.run(["--catalog", c, "cost"]).ok(); // builds the cache
    let doc = env
        .run(["--catalog", c, "score", "web", "-o", "json"])
        .json();
    assert_eq!(find(&doc, "cheap").unwrap()["state"], "fail", "{doc:#}");
    let doc = env
        .run(["--catalog", c, "score", "api", "-o", "json"])
        .json();
    assert_eq!(find(&doc, "cheap").unwrap()["state"], "pass", "{doc:#}");
    // A changed billing file is not read in passing (nor its error shown):
    // the fact is unknown until `idp cost` reads it again.
    std::fs::write(dir.join("billing/b.csv"), "garbage").unwrap();
    let doc = env
        .run(["--catalog", c, "score", "api", "-o", "json"])
        .json();
    assert_eq!(find(&doc, "cheap").unwrap()["state"], "unknown", "{doc:#}");
}

#[test]
fn show_and_who_owns_print_last_months_cost_only_when_there_is_cost_data() {
    let env = TestEnv::at("2026-11-15T00:00:00Z");
    let dir = costed(&env);
    let c = dir.to_str().unwrap();
    env.run(["--catalog", c, "show", "web"])
        .ok()
        .stdout_lacks("Cost");
    let v = env
        .run(["--catalog", c, "show", "web", "-o", "json"])
        .json();
    assert!(v.get("cost").is_none(), "{v}");
    let v = env
        .run(["--catalog", c, "who-owns", "web", "-o", "json"])
        .json();
    assert!(v.get("cost").is_none(), "{v}");

    env.run(["--catalog", c, "cost"]).ok();
    env.run(["--catalog", c, "show", "web"])
        .ok()
        .stdout_has("25.00 USD in 2026-10, +150.0% on the month before");
    env.run(["--catalog", c, "who-owns", "web"])
        .ok()
        .stdout_has("25.00 USD in 2026-10, +150.0% on the month before");
    let v = env
        .run(["--catalog", c, "show", "api", "-o", "json"])
        .json();
    assert_eq!(v["cost"][0]["currency"], "EUR", "{v}");
    assert_eq!(v["cost"][0]["month"], "2026-10", "{v}");
    assert_eq!(
        norm(&v["cost"][0]["amount"].to_string().replace('"', "")),
        "2"
    );
    // The team owning web sums what it owns.
    let v = env
        .run(["--catalog", c, "show", "payments", "-o", "json"])
        .json();
    assert_eq!(v["cost"][0]["currency"], "USD", "{v}");
    assert_eq!(
        norm(&v["cost"][0]["amount"].to_string().replace('"', "")),
        "25"
    );
    let v = env
        .run(["--catalog", c, "who-owns", "web", "-o", "json"])
        .json();
    assert_eq!(v["cost"][0]["changePct"], 150.0, "{v}");
}

/// The first object with this `id` anywhere in `doc`.
fn find<'v>(doc: &'v Value, id: &str) -> Option<&'v Value> {
    match doc {
        Value::Object(m) if m.get("id").and_then(Value::as_str) == Some(id) => Some(doc),
        Value::Object(m) => m.values().find_map(|v| find(v, id)),
        Value::Array(a) => a.iter().find_map(|v| find(v, id)),
        _ => None,
    }
}

/// Sets `path`'s modification time an hour back, as for a billing export
/// written before the run.
pub fn backdate(path: &std::path::Path) {
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
}
