//! Budgets on untrusted input (issue 11): CEL rules over huge descriptor
//! lists, undefined CEL variables, looping message templates, templates
//! that would write gigabytes, and `impact`/`graph` on a 5,000-long chain.
//! Each hostile case must end within 5 s with a clear error.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{team, CatalogBuilder, TestEnv};

const NOW: &str = "2026-11-29T00:00:00Z";
const FIVE_SECONDS: Duration = Duration::from_secs(5);

fn env() -> TestEnv {
    TestEnv::at(NOW)
}

/// A component `big` whose `spec.items` holds `n` strings.
fn big_component(n: usize) -> String {
    let mut s = String::from(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: big\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n  items:\n",
    );
    for i in 0..n {
        s.push_str(&format!("    - i{i}\n"));
    }
    s
}

/// A scorecard with one bronze rule and a bronze gate.
fn scorecard(check: &str, message: Option<&str>) -> String {
    let message = message
        .map(|m| format!("      message: '{m}'\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: idp.dev/v1alpha1\nkind: Scorecard\nmetadata:\n  name: ready\nspec:\n  appliesTo:\n    kinds: [Component]\n  levels:\n    - {{ id: bronze }}\n  gate: {{ minLevel: bronze }}\n  rules:\n    - id: rule\n      level: bronze\n      check: '{check}'\n{message}"
    )
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(
        start.elapsed() <= FIVE_SECONDS,
        "{what} took {:?}",
        start.elapsed()
    );
    out
}

// ------------------------------------------------------------------ CEL

#[test]
fn nested_cel_over_a_200k_item_list_is_a_budget_error_in_score_and_show() {
    let env = env();
    let repo = CatalogBuilder::new(env.root.join("cat"))
        .file("idp.yaml", "exclude: []\n")
        .file("org.yaml", team("team-a"))
        .file("big.yaml", big_component(200_000))
        .file(
            "scorecards/ready.yaml",
            scorecard(
                "entity.spec.items.all(a, entity.spec.items.all(b, a != \"\"))",
                None,
            ),
        )
        .build();
    // It passes validation (the cost depends on the data), …
    timed("validate", || {
        env.run(["--catalog", repo.path(), "validate"]).ok();
    });
    // … and is refused per entity when run: an error, which fails the gate.
    let run = timed("score", || {
        env.run(["--catalog", repo.path(), "score", "-o", "json"])
    });
    run.code(1);
    let v = run.json();
    let rule = &v["results"][0]["rules"][0];
    assert_eq!(rule["state"], "error", "{v:#}");
    let message = rule["message"].as_str().expect("message");
    assert!(message.starts_with("budget exceeded: "), "{message}");
    assert!(
        message.contains("entity.spec.items has 200000 items"),
        "{message}"
    );
    timed("show", || {
        env.run(["--catalog", repo.path(), "show", "big"])
            .ok()
            .stdout_has("Scorecards")
            .stdout_has("bronze: rule");
    });
    // One level over the same list is affordable and passes.
    repo.write(
        "scorecards/ready.yaml",
        scorecard("entity.spec.items.all(a, a != \"\")", None),
    );
    let run = timed("score, flat rule", || {
        env.run(["--catalog", repo.path(), "score", "-o", "json"])
    });
    run.ok();
    assert_eq!(run.json()["results"][0]["rules"][0]["state"], "pass");
}

#[test]
fn an_undefined_cel_variable_fails_validate_with_the_near_name() {
    let env = env();
    let repo = CatalogBuilder::standard(env.root.join("cat"))
        .file(
            "scorecards/ready.yaml",
            scorecard(
                "has(entiy.spec.owner) && entity.metadata.tags.all(tag, tga != \"\")",
                None,
            ),
        )
        .build();
    let run = env.run(["--catalog", repo.path(), "validate"]);
    run.code(1);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("undefined-variable"), "{all}");
    assert!(
        all.contains("scorecards/ready.yaml:14:14 (scorecard:default/ready)"),
        "{all}"
    );
    assert!(
        all.contains("undefined variable entiy; did you mean entity?"),
        "{all}"
    );
    assert!(
        all.contains("undefined variable tga; did you mean tag?"),
        "{all}"
    );
    // Comprehension variables and the activation's variables are fine.
    repo.write(
        "scorecards/ready.yaml",
        scorecard(
            "has(entity.spec.owner) && entity.metadata.tags.all(tag, tag != \"\") && now > now - duration(\"1s\")",
            None,
        ),
    );
    env.run(["--catalog", repo.path(), "validate"]).ok();
}

#[test]
fn a_looping_message_template_runs_out_of_fuel() {
    let env = env();
    let repo = CatalogBuilder::standard(env.root.join("cat"))
        .file(
            "scorecards/ready.yaml",
            scorecard(
                "false",
                Some("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}done"),
            ),
        )
        .build();
    let run = timed("score", || {
        env.run(["--catalog", repo.path(), "score", "-o", "json"])
    });
    run.code(1);
    let v = run.json();
    let rule = &v["results"][0]["rules"][0];
    assert_eq!(rule["state"], "fail", "{v:#}");
    let message = rule["message"].as_str().expect("message");
    assert!(
        message.contains("ran out of fuel (1000000 steps)"),
        "{message}"
    );
    assert!(
        message.contains("scorecards/ready.yaml spec.rules.0.message"),
        "{message}"
    );
}

// ------------------------------------------------------------ templates

/// 72 bytes that would write 1 GB.
const FLOOD: &str = "{% set s = 'x' * 100000 %}{% for i in range(10000) %}{{ s }}{% endfor %}";

fn put(root: &Path, rel: &str, content: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn scaffold(env: &TestEnv, template: &str, out: &Path, extra: &[&str]) -> crate::common::Run {
    let mut args = vec![
        "scaffold",
        template,
        "--no-input",
        "--no-git",
        "--output-dir",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    env.run(args)
}

#[test]
fn a_cookiecutter_template_writing_a_gigabyte_is_refused_while_rendering() {
    let env = TestEnv::new();
    let t = env.cwd.join("flood");
    put(&t, "cookiecutter.json", r#"{"name": "proj"}"#);
    put(&t, "{{cookiecutter.name}}/big.txt", FLOOD);
    let out = env.dir("out");
    timed("scaffold", || {
        scaffold(&env, "flood", &out, &[])
            .code(2)
            .stderr_has("big.txt")
            .stderr_has("output limit")
            .stderr_has("100000000 bytes")
            .stderr_has("--max-output-bytes");
    });
    // Neither the staging directory nor the project is left behind.
    assert!(entries(&out).is_empty(), "{:?}", entries(&out));

    // The flag lowers and raises the limit: 2 MB of output.
    put(
        &t,
        "{{cookiecutter.name}}/big.txt",
        "{% for i in range(20) %}{{ 'y' * 100000 }}{% endfor %}",
    );
    scaffold(&env, "flood", &out, &["--max-output-bytes", "1MB"])
        .code(2)
        .stderr_has("the file would pass 1000000 bytes");
    assert!(entries(&out).is_empty(), "{:?}", entries(&out));
    scaffold(&env, "flood", &out, &["--max-output-bytes", "3MiB"]).ok();
    let size = std::fs::metadata(out.join("proj/big.txt")).unwrap().len();
    assert_eq!(size, 2_000_000);

    // The project total counts too: two files of 600 kB each under 1 MB.
    let t2 = env.cwd.join("pair");
    put(&t2, "cookiecutter.json", r#"{"name": "pair"}"#);
    put(&t2, "{{cookiecutter.name}}/a.txt", "{{ 'a' * 600000 }}");
    put(&t2, "{{cookiecutter.name}}/b.txt", "{{ 'b' * 600000 }}");
    let out2 = env.dir("out2");
    scaffold(&env, "pair", &out2, &["--max-output-bytes", "1MB"])
        .code(2)
        .stderr_has("the project would pass 1000000 bytes");
    assert!(entries(&out2).is_empty(), "{:?}", entries(&out2));
    // A bad size is a usage error naming the units.
    scaffold(&env, "pair", &out2, &["--max-output-bytes", "12parsecs"])
        .code(2)
        .stderr_has("KiB");
}

#[test]
fn a_backstage_template_writing_a_gigabyte_is_refused_while_rendering() {
    let env = TestEnv::new();
    let t = env.cwd.join("bs");
    put(
        &t,
        "template.yaml",
        "apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: flood
spec:
  type: service
  parameters: []
  steps:
    - id: fetch
      action: fetch:template
      input:
        url: ./skeleton
",
    );
    put(
        &t,
        "skeleton/big.txt",
        &FLOOD.replace("{{ s }}", "${{ s }}"),
    );
    let out = env.root.join("out/proj");
    timed("scaffold", || {
        scaffold(&env, "./bs", &out, &[])
            .code(2)
            .stderr_has("big.txt")
            .stderr_has("output limit")
            .stderr_has("--max-output-bytes");
    });
    assert!(!out.exists(), "the target was left behind");
    assert!(
        entries(&env.root.join("out")).is_empty(),
        "{:?}",
        entries(&env.root.join("out"))
    );
}

// ------------------------------------------------------------ the graph

/// A chain c0 ← c1 ← … ← c(n-1): each component depends on the previous one.
fn chain(env: &TestEnv, n: usize) -> crate::common::Repo {
    let mut docs = vec![team("team-a")];
    for i in 0..n {
        let dep = if i > 0 {
            format!("\n  dependsOn: [component:c{}]", i - 1)
        } else {
            String::new()
        };
        docs.push(format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: c{i}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a{dep}\n"
        ));
    }
    CatalogBuilder::new(env.root.join("cat"))
        .file("idp.yaml", "exclude: []\n")
        .file("all.yaml", docs.join("---\n"))
        .build()
}

#[test]
fn impact_on_a_5000_long_chain_prints_output_linear_in_its_length() {
    let env = TestEnv::new();
    let repo = chain(&env, 5000);
    let run = timed("impact -o json", || {
        env.run(["--catalog", repo.path(), "impact", "c0", "-o", "json"])
    });
    run.ok();
    // Full paths would be ~260 MB; one parent each is ~1.4 MB.
    assert!(run.stdout.len() < 3_000_000, "{} bytes", run.stdout.len());
    let v = run.json();
    let deps = v["dependents"].as_array().expect("dependents");
    assert_eq!(deps.len(), 4999);
    let last = &deps[4998];
    assert_eq!(last["entity"], "component:default/c4999");
    assert_eq!(last["depth"], 4999);
    assert_eq!(last["via"], serde_json::json!(["component:default/c4998"]));
    assert_eq!(deps[0]["via"], serde_json::json!([]));

    let run = timed("impact", || {
        env.run(["--catalog", repo.path(), "impact", "c0"])
    });
    run.ok()
        .stdout_has("via c4998")
        .stdout_has("4999 dependents");
    assert!(run.stdout.len() < 1_000_000, "{} bytes", run.stdout.len());
}

#[test]
fn graph_on_a_5000_long_chain_nests_a_bounded_tree() {
    let env = TestEnv::new();
    let repo = chain(&env, 5000);
    let run = timed("graph", || {
        env.run(["--catalog", repo.path(), "graph", "c0", "--depth", "10000"])
    });
    run.ok().stdout_has("deeper levels not nested");
    assert!(run.stdout.len() < 100_000, "{} bytes", run.stdout.len());
    let run = timed("graph -o json", || {
        env.run([
            "--catalog",
            repo.path(),
            "graph",
            "c0",
            "--depth",
            "10000",
            "-o",
            "json",
        ])
    });
    run.ok();
    assert!(run.stdout.len() < 3_000_000, "{} bytes", run.stdout.len());
    // Every node and edge is still listed.
    let v = run.json();
    assert_eq!(v["nodes"].as_array().map(Vec::len), Some(5000));
    assert_eq!(v["edges"].as_array().map(Vec::len), Some(4999));
    timed("graph -o dot", || {
        env.run([
            "--catalog",
            repo.path(),
            "graph",
            "c4999",
            "--depth",
            "10000",
            "-o",
            "dot",
        ])
        .ok()
        .stdout_has("component:default/c0");
    });
}
