//! Man pages (one per command, committed under `man/` and kept fresh) and
//! the overview `idp` prints with no arguments.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::TestEnv;

fn pages(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    (name, std::fs::read_to_string(e.path()).unwrap_or_default())
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn committed_man_pages_are_fresh() {
    let env = TestEnv::new();
    let out = env.root.join("man");
    env.run(["man", "--out-dir", out.to_str().unwrap()])
        .ok()
        .quiet_stderr();
    let fresh = pages(&out);
    let committed = pages(&Path::new(env!("CARGO_MANIFEST_DIR")).join("man"));
    assert_eq!(
        committed.keys().collect::<Vec<_>>(),
        fresh.keys().collect::<Vec<_>>(),
        "man/ is stale; regenerate with: rm -r man && cargo run -- man --out-dir man"
    );
    for (name, text) in &fresh {
        assert!(
            committed[name] == *text,
            "man/{name} is stale; regenerate with: rm -r man && cargo run -- man --out-dir man"
        );
    }
}

#[test]
fn one_page_per_command() {
    let env = TestEnv::new();
    let out = env.root.join("man");
    env.run(["man", "--out-dir", out.to_str().unwrap()]).ok();
    let names: Vec<String> = pages(&out).into_keys().collect();
    for page in [
        "idp.1",
        "idp-who-owns.1",
        "idp-list.1",
        "idp-init.1",
        "idp-completions.1",
    ] {
        assert!(names.iter().any(|n| n == page), "{page} missing: {names:?}");
    }
    // Every command in the overview has its page.
    let overview = env.run(Vec::<&str>::new());
    for line in overview
        .stdout
        .lines()
        .filter(|l| l.starts_with("  ") && !l.trim_start().starts_with('$'))
    {
        let command = line.split_whitespace().next().unwrap();
        assert!(
            names.contains(&format!("idp-{command}.1")),
            "no page for {command}"
        );
    }
}

#[test]
fn prints_one_page() {
    let env = TestEnv::new();
    let run = env.run(["man", "who-owns"]);
    run.ok()
        .stdout_has(".TH idp-who-owns 1")
        .stdout_has("idp who\\-owns checkout");
    env.run(["man"]).ok().stdout_has(".TH idp 1");
    env.run(["man", "nope"])
        .code(2)
        .stderr_has("no command 'nope'; commands: who-owns");
}

#[test]
fn no_arguments_prints_an_overview() {
    let env = TestEnv::new();
    let run = env.run(Vec::<&str>::new());
    run.ok().quiet_stderr();
    run.stdout_has("idp — your internal developer portal")
        .stdout_has("  who-owns ")
        .stdout_has("$ idp who-owns checkout")
        .stdout_has("$ idp init my-catalog")
        .stdout_has("`idp <command> --help`");
    // Two lines per command plus a short header and footer.
    assert!(run.stdout.lines().count() < 56, "short:\n{}", run.stdout);
    // Flags alone still get the usual help (and a usage exit code).
    env.run(["--offline"]).code(2);
}

#[test]
fn every_command_has_examples_in_its_help() {
    let env = TestEnv::new();
    let overview = env.run(Vec::<&str>::new());
    for line in overview
        .stdout
        .lines()
        .filter(|l| l.starts_with("  ") && !l.trim_start().starts_with('$'))
    {
        let command = line.split_whitespace().next().unwrap();
        env.run([command, "--help"])
            .ok()
            .stdout_has("Examples:\n  ");
    }
}
