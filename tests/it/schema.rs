//! `idp schema`: the JSON Schemas editors use, and a guard that the committed
//! copies in `catalog-schema/` match what the binary generates.

use std::path::Path;

use crate::common::TestEnv;

#[test]
fn the_entity_schema_is_any_of_the_kinds() {
    let env = TestEnv::new();
    let run = env.run(["schema"]);
    run.ok().quiet_stderr();
    let v = run.json();
    assert!(v["anyOf"].as_array().is_some_and(|a| a.len() >= 8), "{v}");
}

#[test]
fn one_kind_has_its_spec() {
    let env = TestEnv::new();
    for kind in ["component", "Component", "API"] {
        let run = env.run(["schema", kind]);
        run.ok();
        assert!(run.json()["properties"]["spec"].is_object(), "{kind}");
    }
    let run = env.run(["schema", "pipeline"]);
    run.code(2)
        .stderr_has("no schema for kind 'pipeline'")
        .stderr_has("Component");
}

#[test]
fn the_committed_schemas_are_up_to_date() {
    let env = TestEnv::new();
    let out = env.root.join("schema-out");
    env.run(["schema", "--write", out.to_str().unwrap()])
        .ok()
        .stdout_has(&format!("schemas into {}: ", out.display()))
        .stdout_has("Entity.schema.json");
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog-schema");
    let stale = "catalog-schema/ is stale: run `cargo run -- schema --write catalog-schema`";
    let names = |dir: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{stale} ({}: {e})", dir.display()))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let generated = names(&out);
    assert!(!generated.is_empty());
    assert_eq!(generated, names(&committed), "{stale}");
    for name in &generated {
        let fresh = std::fs::read(out.join(name)).unwrap();
        let old = std::fs::read(committed.join(name)).unwrap();
        assert!(fresh == old, "{stale} ({name} differs)");
    }
}

#[test]
fn closed_pipe_is_not_an_error() {
    let env = TestEnv::new();
    let (code, _, stderr) = env.pipe_into(&["schema"], "head -c 1");
    assert_eq!(code, 0, "stderr: {stderr}");
    assert!(stderr.is_empty(), "stderr: {stderr}");
}

#[test]
fn write_into_an_unwritable_place_fails_cleanly() {
    let env = TestEnv::new();
    let file = env.root.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let run = env.run(["schema", "--write", file.join("sub").to_str().unwrap()]);
    assert_ne!(run.code, 0);
    run.stderr_has("cannot create");
}
