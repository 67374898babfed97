//! Per-command output formats: each command's `-o` takes only what that
//! command prints, so anything else is a usage error (exit 2) that lists the
//! supported formats, before any work is done; commands that print only text
//! take no `-o` at all; `--help` lists the command's own flags (with its
//! formats) before the global options.

use crate::common::{acme, Run, TestEnv};
use crate::completions::complete;

/// Asserts `run` is clap's rejection of `-o <bad>`, naming exactly `possible`.
fn rejected(run: &Run, bad: &str, possible: &str) {
    run.code(2)
        .stderr_has(&format!("invalid value '{bad}' for '--output <FORMAT>'"))
        .stderr_has(&format!("[possible values: {possible}]"));
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

const VIEW: &str = "table, json, yaml";

#[test]
fn list_rejects_what_it_used_to_print_as_json() {
    let env = TestEnv::new();
    for bad in ["dot", "markdown", "junit", "sarif", "tree", "mermaid"] {
        let run = env.run(["--catalog", &acme(), "list", "-o", bad]);
        rejected(&run, bad, "table, json, yaml, csv");
    }
}

#[test]
fn each_command_lists_only_its_own_formats() {
    let env = TestEnv::new();
    let cat = acme();
    let cases: &[(&[&str], &str, &str)] = &[
        (&["who-owns", "checkout"], "csv", VIEW),
        (&["show", "checkout"], "csv", VIEW),
        (&["show", "checkout"], "markdown", VIEW),
        (&["validate"], "junit", VIEW),
        (&["impact", "ledger"], "dot", VIEW),
        (&["history", "checkout"], "markdown", VIEW),
        (&["enrich"], "csv", VIEW),
        (&["doctor"], "sarif", VIEW),
        (
            &["graph", "checkout"],
            "csv",
            "tree, dot, mermaid, json, yaml",
        ),
        // `graph` draws a tree; there is no separate table.
        (
            &["graph", "checkout"],
            "table",
            "tree, dot, mermaid, json, yaml",
        ),
        (&["diff", "HEAD"], "dot", "table, json, yaml, markdown"),
        (
            &["score"],
            "csv",
            "table, json, yaml, junit, markdown, sarif",
        ),
        (&["schema"], "table", "json, yaml"),
        (&["scaffold", "list"], "csv", VIEW),
        (&["scaffold", "show", "node-service"], "junit", VIEW),
        (&["scaffold", "check"], "markdown", VIEW),
        (&["scaffold", "update"], "csv", VIEW),
        (
            &["scaffold", "test", "node-service", "--values", "v.yaml"],
            "sarif",
            "table, json, yaml, junit",
        ),
    ];
    for (command, bad, possible) in cases {
        let mut args = vec!["--catalog", cat.as_str()];
        args.extend_from_slice(command);
        args.extend(["-o", bad]);
        rejected(&env.run(&args), bad, possible);
    }
}

#[test]
fn text_only_commands_take_no_output_flag() {
    let env = TestEnv::new();
    let target = env.dir("new-catalog");
    for args in [
        vec!["--catalog", &acme(), "sync", "-o", "json"],
        vec!["init", target.to_str().unwrap(), "-o", "json"],
        vec!["man", "-o", "json"],
        vec!["completions", "bash", "-o", "json"],
    ] {
        let run = env.run(&args);
        run.code(2).stderr_has("unexpected argument '-o' found");
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
    // Rejected before anything is written.
    assert!(
        std::fs::read_dir(&target).unwrap().next().is_none(),
        "init wrote files"
    );
}

#[test]
fn output_is_the_commands_flag_not_a_global_one() {
    let env = TestEnv::new();
    // Where scripts used to put it: refused, with a tip saying where it goes.
    for flag in ["-o", "--output"] {
        let run = env.run(["--catalog", &acme(), flag, "json", "list"]);
        run.code(2)
            .stderr_has(&format!("unexpected argument '{flag}' found"))
            .stderr_has("tip: -o/--output is an option of the commands that print data")
            .stderr_has("`idp list -o json`");
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
}

#[test]
fn schema_prints_yaml_too() {
    let env = TestEnv::new();
    let default = env.run(["schema", "component"]);
    let json = env.run(["schema", "component", "-o", "json"]);
    let yaml = env.run(["schema", "component", "-o", "yaml"]);
    default.ok();
    json.ok();
    yaml.ok().quiet_stderr();
    assert_eq!(default.stdout, json.stdout, "JSON stays the default");
    assert!(yaml.stdout.starts_with("$schema: "), "{}", yaml.stdout);
    let from_yaml: serde_json::Value = idp::yaml::from_str(&yaml.stdout).unwrap();
    assert_eq!(from_yaml, json.json(), "the same document");
    // --write writes the .schema.json files; a YAML request is refused.
    let dir = env.dir("schemas");
    env.run(["schema", "--write", dir.to_str().unwrap(), "-o", "yaml"])
        .code(2)
        .stderr_has("cannot be used with");
    assert!(std::fs::read_dir(&dir).unwrap().next().is_none());
}

#[test]
fn supported_formats_still_print() {
    let env = TestEnv::new();
    let cat = acme();
    let run = env.run(["--catalog", &cat, "list", "-k", "api", "-o", "csv"]);
    run.ok().quiet_stderr();
    assert!(run.stdout.starts_with("ref,kind,"), "{}", run.stdout);
    let run = env.run(["--catalog", &cat, "list", "-k", "api", "-o", "yaml"]);
    run.ok();
    let apis: serde_json::Value = idp::yaml::from_str(&run.stdout).unwrap();
    assert!(apis.as_array().is_some_and(|a| !a.is_empty()), "{apis}");
    env.run(["--catalog", &cat, "graph", "ledger", "-o", "mermaid"])
        .ok()
        .stdout_has("graph LR");
    env.run(["--catalog", &cat, "graph", "ledger", "-o", "tree"])
        .ok()
        .stdout_has("used by:");
    env.run(["--catalog", &cat, "who-owns", "checkout", "-o", "yaml"])
        .ok()
        .stdout_has("owner:");
    let sarif = env.run(["--catalog", &cat, "--no-live", "score", "-o", "sarif"]);
    assert_eq!(sarif.json()["version"], "2.1.0", "{}", sarif.stderr);
    let junit = env.run(["--catalog", &cat, "--no-live", "score", "-o", "junit"]);
    assert!(junit.stdout.contains("<testsuites"), "{}", junit.stdout);
    env.run(["--catalog", &cat, "scaffold", "list", "-o", "json"])
        .ok()
        .json();
}

/// The lines of `help` from the line equal to `start` up to the next
/// section heading (an unindented line ending with `:`).
fn section<'a>(help: &'a str, start: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| *l != start)
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect()
}

#[test]
fn help_lists_the_commands_flags_before_the_global_options() {
    let env = TestEnv::new();
    for flag in ["--help", "-h"] {
        let run = env.run(["list", flag]);
        run.ok();
        let help = &run.stdout;
        let options = section(help, "Options:").join("\n");
        let global = section(help, "Global options:").join("\n");
        for own in ["--kind", "--owner", "--sort", "-o, --output <FORMAT>"] {
            assert!(options.contains(own), "{own} not under Options:\n{help}");
            assert!(!global.contains(own), "{own} under Global options:\n{help}");
        }
        for g in [
            "--catalog",
            "--ref",
            "--at",
            "--offline",
            "--refresh",
            "--no-live",
        ] {
            assert!(global.contains(g), "{g} not under Global options:\n{help}");
            assert!(!options.contains(g), "{g} under Options:\n{help}");
        }
        for g in ["--color", "-q, --quiet", "-v, --verbose"] {
            assert!(global.contains(g), "{g} not under Global options:\n{help}");
        }
        assert!(
            help.find("Options:") < help.find("Global options:"),
            "{help}"
        );
    }
    // The long help spells out the formats this command prints, no others.
    let run = env.run(["list", "--help"]);
    run.stdout_has("csv:")
        .stdout_lacks("mermaid")
        .stdout_lacks("sarif");
    let run = env.run(["graph", "--help"]);
    run.stdout_has("mermaid:").stdout_lacks("csv");
    let run = env.run(["--help"]);
    run.ok()
        .stdout_has("Global options:")
        .stdout_lacks("--output");
}

#[test]
fn output_values_complete_per_command() {
    let env = TestEnv::new();
    let values = |words: &[&str]| -> Vec<String> {
        let run = complete(&env, words);
        run.ok();
        run.stdout
            .lines()
            .map(|l| l.split('\t').next().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(
        values(&["graph", "checkout", "-o", ""]),
        ["tree", "dot", "mermaid", "json", "yaml"]
    );
    assert_eq!(
        values(&["list", "-o", ""]),
        ["table", "json", "yaml", "csv"]
    );
    assert_eq!(
        values(&["show", "x", "--output", ""]),
        ["table", "json", "yaml"]
    );
}
