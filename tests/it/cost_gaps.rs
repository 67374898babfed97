//! `idp cost`, the rest of issue 17: Parquet ids stored as integers, the
//! byte budget of billing files inside the catalog (a hostile pull request,
//! a gzip bomb), and the cost block of `idp report`.

use std::io::Write;

use crate::common::TestEnv;
use crate::cost::{amount, backdate, cost_json, costed, duckdb, generated, read_csv, row, HEADER};

#[test]
fn parquet_with_integer_ids_reads_them_as_text() {
    let env = TestEnv::new();
    // SubAccountId 111 is web's selector; 222 is nobody's.
    let rows = row("4.25", "USD", "2026-10-01", "EC2", "i-1", "111", "{}")
        + &row("1.50", "USD", "2026-10-02", "S3", "s3-1", "222", "{}");
    let dir = generated(&env, &rows);
    let csv = dir.join("billing/b.csv");
    let pq = env.root.join("ids.parquet");
    duckdb(&format!(
        "copy (select * replace (SubAccountId::BIGINT as SubAccountId, EffectiveCost::DOUBLE as EffectiveCost, \
           ChargePeriodStart::TIMESTAMP as ChargePeriodStart) from {}) to '{}' (format parquet)",
        read_csv(&csv),
        pq.display()
    ));
    // The column really is an INT64 in the file.
    let types = duckdb(&format!(
        "select type from parquet_schema('{}') where name = 'SubAccountId'",
        pq.display()
    ));
    assert_eq!(types, vec![vec!["INT64".to_string()]]);
    let v = cost_json(
        &env,
        &dir,
        &["--by", "entity", "--source", pq.to_str().unwrap()],
    );
    assert_eq!(
        amount(&v, "component:default/web", "USD").as_deref(),
        Some("4.25")
    );
    assert_eq!(amount(&v, "unallocated", "USD").as_deref(), Some("1.5"));
}

/// A catalog whose billing file is `rows` rows (about 100 bytes each), with
/// `max` as cost.maxBytes when given.
fn big_catalog(env: &TestEnv, max: Option<u64>, gz: bool, rows: usize) -> std::path::PathBuf {
    let dir = generated(env, "");
    let mut text = String::from(HEADER);
    let one = row("1.00", "USD", "2026-10-01", "EC2", "i-1", "111", "{}");
    for _ in 0..rows {
        text.push_str(&one);
    }
    std::fs::remove_file(dir.join("billing/b.csv")).unwrap();
    let glob = if gz {
        let file = std::fs::File::create(dir.join("billing/b.csv.gz")).unwrap();
        let mut enc = flate2::write::GzEncoder::new(file, flate2::Compression::best());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap();
        "billing/*.csv.gz"
    } else {
        std::fs::write(dir.join("billing/b.csv"), text).unwrap();
        "billing/*.csv"
    };
    let max = max
        .map(|m| format!("  maxBytes: {m}\n"))
        .unwrap_or_default();
    std::fs::write(
        dir.join("idp.yaml"),
        format!("exclude: [billing/**]\ncost:\n  sources: [\"{glob}\"]\n{max}"),
    )
    .unwrap();
    dir
}

#[test]
fn billing_files_inside_the_catalog_are_read_under_a_byte_budget() {
    let env = TestEnv::new();
    // 2000 rows ≈ 190 kB, against a budget of 50 kB.
    let dir = big_catalog(&env, Some(50_000), false, 2000);
    let c = dir.to_str().unwrap();
    env.run(["--catalog", c, "cost"])
        .code(2)
        .stderr_has("b.csv: billing data inside the catalog exceeds the budget of 50000 bytes (cost.maxBytes)")
        .stderr_has("--source");
    env.run(["--catalog", c, "validate"])
        .code(1)
        .stdout_has("error[cost-source]")
        .stdout_has("exceeds the budget of 50000 bytes")
        .stdout_has("billing/b.csv:1:1");
    // The operator's --source is not budgeted.
    let v = cost_json(
        &env,
        &dir,
        &["--source", dir.join("billing/b.csv").to_str().unwrap()],
    );
    assert_eq!(amount(&v, "2026-10", "USD").as_deref(), Some("2000"));
    // Within the budget: read.
    let other = TestEnv::new();
    let ok = big_catalog(&other, Some(1_000_000), false, 2000);
    let v = cost_json(&other, &ok, &[]);
    assert_eq!(amount(&v, "2026-10", "USD").as_deref(), Some("2000"));
}

#[test]
fn a_gzip_bomb_stops_at_the_budget_while_decompressing() {
    let env = TestEnv::new();
    // 100 000 identical rows: ~9.6 MB of text, a few kB compressed.
    let dir = big_catalog(&env, Some(1_000_000), true, 100_000);
    assert!(
        std::fs::metadata(dir.join("billing/b.csv.gz"))
            .unwrap()
            .len()
            < 100_000
    );
    let started = std::time::Instant::now();
    env.run(["--catalog", dir.to_str().unwrap(), "cost"])
        .code(2)
        .stderr_has(
            "b.csv.gz: billing data inside the catalog exceeds the budget of 1000000 bytes",
        );
    assert!(started.elapsed().as_secs() < 5);
}

#[test]
fn idp_yaml_may_lower_the_budget_never_raise_it() {
    let env = TestEnv::new();
    let dir = big_catalog(&env, Some(1 << 40), false, 1);
    env.run(["--catalog", dir.to_str().unwrap(), "validate"])
        .code(1)
        .stdout_has("error[cost-config]")
        .stdout_has("cost.maxBytes 1099511627776 is above the ceiling 2147483648");
    env.run(["--catalog", dir.to_str().unwrap(), "cost"])
        .code(4)
        .stderr_has("may only lower it");
}

#[test]
fn the_report_charts_cost_per_team_and_per_service_escaped_and_deterministic() {
    let env = TestEnv::at("2026-11-15T00:00:00Z");
    let dir = costed(&env);
    // A hostile service name in the billing data.
    let hostile = "<img src=x onerror=alert(1)>";
    let mut b = std::fs::read_to_string(dir.join("billing/b.csv")).unwrap();
    b.push_str(&row("3", "USD", "2026-10-11", hostile, "i", "111", "{}"));
    std::fs::write(dir.join("billing/b.csv"), b).unwrap();
    backdate(&dir.join("billing/b.csv"));
    let c = dir.to_str().unwrap();
    let report = |name: &str| {
        let file = env.root.join(name);
        env.run([
            "--catalog",
            c,
            "report",
            "--single-file",
            file.to_str().unwrap(),
        ])
        .ok();
        std::fs::read_to_string(file).unwrap()
    };
    // No cost data yet (the report never reads billing files): no block.
    let before = report("before.html");
    assert!(!before.contains("Cost per team"), "cost block without data");

    env.run(["--catalog", c, "cost"]).ok(); // the cache the report reads
    let html = report("a.html");
    assert!(html.contains("Cost per team in 2026-10"), "no team chart");
    assert!(
        html.contains("Cost per service in 2026-10"),
        "no service chart"
    );
    // payments owns web: 25 + 3 USD in October; EC2 25, the hostile one 3.
    // (minijinja's escape writes `/` as `&#x2f;`.)
    assert!(
        html.contains("group:default&#x2f;payments</td><td>28.00 USD"),
        "team total"
    );
    assert!(html.contains("EC2</td><td>25.00 USD"), "service line");
    // api (EUR) is charted on its own page, never summed with USD.
    assert!(html.contains("Monthly cost of component:default&#x2f;api (EUR)"));
    assert!(html.contains("Monthly cost of group:default&#x2f;payments (USD)"));
    assert!(!html.contains(hostile), "unescaped billing text");
    assert!(!html.contains("<img src=x"), "unescaped billing text");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    // The same inputs, the same bytes.
    assert_eq!(html, report("b.html"));
}
