//! Backstage's verdict on every document (issue 13): `$openapi` and
//! `$asyncapi` bundle their `$ref`s like Backstage's OpenAPI module, inside
//! the catalog only; unknown placeholders and non-string arguments are
//! errors at their position; a UTF-8 byte-order mark is accepted; a file
//! named on the command line or targeted by a Location must hold
//! descriptors (the repository walk still skips other YAML); document-level
//! findings point at the document's first key, not at its `---` line.

use std::net::TcpListener;
use std::os::unix::fs::symlink;

use serde_json::Value;

use crate::common::{component, CatalogBuilder, TestEnv};

/// An API entity whose `spec.definition` is `definition` (YAML, indented
/// by the caller for a block value).
fn api(name: &str, definition: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: {name}\nspec:\n  type: openapi\n  lifecycle: production\n  owner: payments\n  definition:{definition}\n"
    )
}

const OPENAPI: &str = "\
openapi: \"3.0.0\"
info:
  title: Pets
  version: 1.0.0
paths:
  /pets:
    get:
      responses:
        '200':
          description: all pets
          content:
            application/json:
              schema:
                $ref: ./schemas/pet.yaml
  /pets/{id}:
    get:
      responses:
        '200':
          description: one pet
          content:
            application/json:
              schema:
                $ref: ./schemas/pet.yaml
        default:
          $ref: '#/components/responses/Error'
components:
  responses:
    Error:
      description: failed
";

const PET: &str = "\
type: object
properties:
  name:
    type: string
  owner:
    $ref: './common.yaml#/Owner'
";

const COMMON: &str = "\
Owner:
  type: object
  properties:
    name:
      type: string
    friend:
      $ref: '#/Owner'
";

/// The problems of `validate -o json` with this code.
fn with_code(report: &Value, severity: &str, code: &str) -> Vec<Value> {
    report[severity]
        .as_array()
        .expect("problems")
        .iter()
        .filter(|p| p["code"] == code)
        .cloned()
        .collect()
}

fn position(p: &Value) -> (u64, u64) {
    (p["line"].as_u64().unwrap(), p["column"].as_u64().unwrap())
}

#[test]
fn openapi_placeholder_bundles_refs_to_other_files_into_one_yaml_document() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file(
            "apis/pets.yaml",
            api("pets", "\n    $openapi: ./openapi/openapi.yaml"),
        )
        .file(
            "apis/events.yaml",
            api("events", " {$asyncapi: ./openapi/schemas/pet.yaml}"),
        )
        .file("apis/openapi/openapi.yaml", OPENAPI)
        .file("apis/openapi/schemas/pet.yaml", PET)
        .file("apis/openapi/schemas/common.yaml", COMMON)
        .build();
    env.run(["--catalog", repo.path(), "validate"])
        .ok()
        .stdout_has("0 errors, 0 warnings");

    let run = env.run(["--catalog", repo.path(), "show", "api:pets", "-o", "json"]);
    run.ok();
    let text = run.json()["spec"]["definition"]
        .as_str()
        .expect("the definition is a string, as Backstage stores it")
        .to_string();
    let bundled: Value = idp::yaml::from_str(&text).expect("YAML");
    let first = &bundled["paths"]["/pets"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    // The first $ref to a file is replaced by its content…
    assert_eq!(first["type"], "object", "{text}");
    assert_eq!(first["properties"]["name"]["type"], "string", "{text}");
    // …including what that file refers to (a pointer into a third file),
    // and a cycle back to it becomes a reference to where it was put.
    let owner = &first["properties"]["owner"];
    assert_eq!(owner["properties"]["name"]["type"], "string", "{text}");
    assert_eq!(
        owner["properties"]["friend"]["$ref"],
        "#/paths/~1pets/get/responses/200/content/application~1json/schema/properties/owner",
        "{text}"
    );
    // Later $refs to the same file point at the first copy.
    assert_eq!(
        bundled["paths"]["/pets/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"]["$ref"],
        "#/paths/~1pets/get/responses/200/content/application~1json/schema",
        "{text}"
    );
    // References within the description stay as they are.
    assert_eq!(
        bundled["paths"]["/pets/{id}"]["get"]["responses"]["default"]["$ref"],
        "#/components/responses/Error"
    );
    assert!(!text.contains("schemas/pet.yaml"), "{text}");

    // $asyncapi is the same resolver.
    let run = env.run(["--catalog", repo.path(), "show", "api:events", "-o", "json"]);
    run.ok();
    let text = run.json()["spec"]["definition"]
        .as_str()
        .unwrap()
        .to_string();
    let bundled: Value = idp::yaml::from_str(&text).unwrap();
    assert_eq!(
        bundled["properties"]["owner"]["properties"]["friend"]["$ref"],
        "#/properties/owner"
    );
}

#[test]
fn a_ref_escaping_the_catalog_is_refused_with_its_position() {
    let env = TestEnv::new();
    let outside = env.dir("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.yaml"), "leaked: canary-31d9\n").unwrap();
    let dir = CatalogBuilder::org(env.dir("cat"))
        .file("api.yaml", api("dotdot", "\n    $openapi: ./spec/up.yaml"))
        .file(
            "spec/up.yaml",
            "openapi: 3.0.0\npaths:\n  /x:\n    $ref: ../../outside/secret.yaml\n",
        )
        .file(
            "linked.yaml",
            api("linked", " {$openapi: ./spec/linked.yaml}"),
        )
        .file(
            "spec/linked.yaml",
            "openapi: 3.0.0\ncomponents:\n  schemas:\n    Secret:\n      $ref: ./link/secret.yaml\n",
        )
        .write_only();
    symlink(&outside, dir.join("spec/link")).unwrap();
    let repo = CatalogBuilder::new(&dir).build();

    let run = env.run(["--catalog", repo.path(), "validate", "-o", "json"]);
    run.code(1);
    let report = run.json();
    let refused = with_code(&report, "errors", "substitution");
    assert_eq!(refused.len(), 2, "{report:#}");
    let by_file = |f: &str| {
        refused
            .iter()
            .find(|p| p["file"].as_str().unwrap().ends_with(f))
            .unwrap_or_else(|| panic!("{f}: {report:#}"))
            .clone()
    };
    let dotdot = by_file("/api.yaml");
    assert_eq!(position(&dotdot), (9, 3), "{dotdot:#}");
    let message = dotdot["message"].as_str().unwrap();
    assert!(
        message.contains("$ref ../../outside/secret.yaml at spec/up.yaml:4:5 points outside the catalog; refused"),
        "{message}"
    );
    let linked = by_file("/linked.yaml");
    assert_eq!(position(&linked), (9, 15), "{linked:#}");
    let message = linked["message"].as_str().unwrap();
    assert!(
        message.contains("$ref ./link/secret.yaml at spec/linked.yaml:5:7 is not read")
            && message.contains("resolves outside the catalog root"),
        "{message}"
    );
    assert!(!run.stdout.contains("canary-31d9") && !run.stderr.contains("canary-31d9"));

    // The human output shows where, with the caret line.
    env.run(["--catalog", repo.path(), "validate"])
        .code(1)
        .stdout_has("api.yaml:9:3")
        .stdout_has("placeholder $openapi cannot bundle the file at ./spec/up.yaml");
}

#[test]
fn a_remote_openapi_url_is_a_warning_and_is_never_fetched() {
    let env = TestEnv::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/openapi.yaml", listener.local_addr().unwrap());
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file("api.yaml", api("remote", &format!("\n    $openapi: {url}")))
        .file(
            "spec.yaml",
            api("remote-ref", " {$openapi: ./openapi/main.yaml}"),
        )
        .file(
            "openapi/main.yaml",
            format!("openapi: 3.0.0\npaths:\n  /x:\n    $ref: {url}\n"),
        )
        .build();
    let run = env.run(["--catalog", repo.path(), "validate", "-o", "json"]);
    run.ok();
    let report = run.json();
    let warnings = with_code(&report, "warnings", "substitution");
    assert_eq!(warnings.len(), 2, "{report:#}");
    assert!(
        warnings.iter().any(|w| w["message"]
            .as_str()
            .unwrap()
            .contains(&format!("it never fetches {url}"))),
        "{report:#}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w["message"].as_str().unwrap().contains(&format!(
                "$ref {url} at openapi/main.yaml:4:5 is not fetched"
            ))),
        "{report:#}"
    );
    // The $ref to a URL is kept in the bundle.
    let run = env.run([
        "--catalog",
        repo.path(),
        "show",
        "api:remote-ref",
        "-o",
        "json",
    ]);
    run.ok();
    let bundled: Value =
        idp::yaml::from_str(run.json()["spec"]["definition"].as_str().unwrap()).unwrap();
    assert_eq!(bundled["paths"]["/x"]["$ref"], url.as_str());
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "idp connected to the URL"
    );
}

#[test]
fn unknown_placeholders_and_non_string_arguments_are_errors_at_their_position() {
    let env = TestEnv::new();
    let text = format!(
        "{}---\n{}---\n{}",
        api("bogus", " {$bogus: x}"),
        api("block", "\n    $openapi:\n      path: ./openapi.yaml"),
        "apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: texty
  description: {$text: 5}
  annotations:
    acme.test/other:
      $nope: ./x
spec:
  type: service
  lifecycle: production
  owner: payments
  extra:
    $whatever: 1
"
    );
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file("apis.yaml", &text)
        // JSON Schema's own `$ref` is not a placeholder (Backstage keeps it).
        .file(
            "template.yaml",
            "apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: schema-ref
spec:
  type: service
  parameters:
    - title: Pick
      properties:
        name:
          $ref: '#/definitions/name'
  steps:
    - id: log
      action: debug:log
",
        )
        .build();
    let run = env.run(["--catalog", repo.path(), "validate", "-o", "json"]);
    run.code(1);
    let report = run.json();
    let unknown = with_code(&report, "errors", "unknown-placeholder");
    let invalid = with_code(&report, "errors", "invalid-placeholder");
    let messages = |v: &[Value]| -> Vec<(u64, u64, String)> {
        v.iter()
            .map(|p| {
                let (l, c) = position(p);
                (l, c, p["message"].as_str().unwrap().to_string())
            })
            .collect()
    };
    let unknown = messages(&unknown);
    let invalid = messages(&invalid);
    assert_eq!(unknown.len(), 3, "{report:#}");
    // An unknown placeholder is pointed at by its key, flow or block.
    assert_eq!((unknown[0].0, unknown[0].1), (9, 16), "{unknown:?}");
    assert!(
        unknown[0].2.starts_with("unknown placeholder $bogus: ")
            && unknown[0]
                .2
                .ends_with("Backstage rejects the entity: /spec/definition must be string"),
        "{unknown:?}"
    );
    assert_eq!((unknown[1].0, unknown[1].1), (30, 7), "{unknown:?}");
    assert!(
        unknown[1]
            .2
            .ends_with("/metadata/annotations/acme.test~1other must be string"),
        "{unknown:?}"
    );
    assert_eq!((unknown[2].0, unknown[2].1), (36, 5), "{unknown:?}");
    assert!(
        unknown[2].2.ends_with("Backstage leaves it unresolved"),
        "{unknown:?}"
    );
    assert_eq!(invalid.len(), 2, "{report:#}");
    assert_eq!((invalid[0].0, invalid[0].1), (20, 5), "{invalid:?}");
    assert!(
        invalid[0]
            .2
            .starts_with("placeholder $openapi needs a string (a path relative to this file, or a URL), found a mapping")
            && invalid[0].2.ends_with("/spec/definition must be string"),
        "{invalid:?}"
    );
    assert_eq!((invalid[1].0, invalid[1].1), (27, 24), "{invalid:?}");
    assert!(
        invalid[1].2.contains("found a number")
            && invalid[1]
                .2
                .ends_with("/metadata/description must be string"),
        "{invalid:?}"
    );
    // Each placeholder is reported once, and nothing else is wrong.
    assert_eq!(report["errors"].as_array().unwrap().len(), 5, "{report:#}");

    env.run(["--catalog", repo.path(), "validate"])
        .code(1)
        .stdout_has("error[unknown-placeholder]: unknown placeholder $bogus")
        .stdout_has("apis.yaml:9:16");
}

#[test]
fn a_byte_order_mark_is_accepted_and_positions_count_after_it() {
    let env = TestEnv::new();
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend(component("bom", "payments", "production").as_bytes());
    let mut bad = b"\xef\xbb\xbf".to_vec();
    bad.extend(component("Bad Name!", "payments", "production").as_bytes());
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file("bom.yaml", &bytes)
        .file("bad.yaml", &bad)
        .file("idp.yaml", b"\xef\xbb\xbfexclude: [nothing/**]\n")
        .build();
    let run = env.run(["--catalog", repo.path(), "validate", "-o", "json"]);
    let error = run.only_error();
    assert_eq!(error["code"], "invalid-name", "{error:#}");
    assert!(error["file"].as_str().unwrap().ends_with("/bad.yaml"));
    assert_eq!(position(&error), (4, 9), "{error:#}");
    let run = env.run(["--catalog", repo.path(), "validate"]);
    run.code(1)
        .stdout_has("bad.yaml:4:9")
        .stdout_lacks("\u{feff}");
    // The entity of the good file is there.
    env.run(["--catalog", repo.path(), "show", "bom", "-o", "json"])
        .ok()
        .stdout_has("\"name\": \"bom\"");
    // A YAML error on line 1 counts its column from after the mark.
    let dir = env.dir("loose");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("broken.yaml"), b"\xef\xbb\xbfa: b: c\n").unwrap();
    let run = env.run_in(&dir, ["validate", "broken.yaml", "-o", "json"]);
    let error = run.only_error();
    assert_eq!(error["code"], "yaml-syntax", "{error:#}");
    assert_eq!(position(&error), (1, 5), "{error:#}");
}

#[test]
fn a_named_file_that_is_not_a_descriptor_is_reported_the_walk_skips_it() {
    let env = TestEnv::new();
    let spec = "# the API of pets\n---\nopenapi: 3.0.0\ninfo:\n  title: Pets\n";
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file("svc.yaml", component("svc", "payments", "production"))
        .file("openapi.yaml", spec)
        .file(".github/workflows/ci.yml", "on: push\njobs: {}\n")
        .build();
    // The walk: other YAML is not ours.
    env.run(["--catalog", repo.path(), "validate"])
        .ok()
        .stdout_has("0 errors, 0 warnings");
    // Named: Backstage would reject it.
    let at_root = std::path::Path::new(repo.path());
    let run = env.run_in(at_root, ["validate", "openapi.yaml", "-o", "json"]);
    let error = run.only_error();
    assert_eq!(error["code"], "not-a-descriptor", "{error:#}");
    assert!(
        error["file"].as_str().unwrap().ends_with("openapi.yaml"),
        "{error:#}"
    );
    assert_eq!(position(&error), (3, 1), "at the first key: {error:#}");
    assert_eq!(
        error["message"],
        "document 1 is not a catalog entity (it has no apiVersion and no kind), but this file was named as a descriptor file; Backstage rejects such a document"
    );
    env.run_in(at_root, ["validate", "openapi.yaml"])
        .code(1)
        .stdout_has("openapi.yaml:3:1")
        .stdout_has("openapi: 3.0.0");
    // Outside any catalog, the same.
    let loose = env.dir("loose");
    std::fs::create_dir_all(loose.join("dir")).unwrap();
    std::fs::write(loose.join("list.yaml"), "- a\n- b\n").unwrap();
    std::fs::write(loose.join("dir/ci.yaml"), "on: push\n").unwrap();
    std::fs::write(
        loose.join("dir/svc.yaml"),
        component("svc", "payments", "production"),
    )
    .unwrap();
    let error = env
        .run_in(&loose, ["validate", "list.yaml", "-o", "json"])
        .only_error();
    assert_eq!(error["code"], "not-a-descriptor", "{error:#}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("expected a mapping at its root, found a list"),
        "{error:#}"
    );
    // A directory named is walked: its other YAML is skipped.
    env.run_in(&loose, ["validate", "dir"])
        .ok()
        .stdout_has("0 errors");
}

#[test]
fn a_location_target_that_is_not_a_descriptor_is_reported() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file("idp.yaml", "include: [org.yaml, locations.yaml, walked/*.yaml]\n")
        .file(
            "locations.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: more\nspec:\n  targets:\n    - ./more/openapi.yaml\n    - ./walked/config.yaml\n",
        )
        .file("more/openapi.yaml", "openapi: 3.0.0\n")
        // Read by the walk first (skipped), then targeted: reported once.
        .file("walked/config.yaml", "settings:\n  a: 1\n")
        .build();
    let run = env.run(["--catalog", repo.path(), "validate", "-o", "json"]);
    run.code(1);
    let report = run.json();
    let errors = with_code(&report, "errors", "not-a-descriptor");
    assert_eq!(errors.len(), 2, "{report:#}");
    for (p, file) in errors
        .iter()
        .zip(["/more/openapi.yaml", "/walked/config.yaml"])
    {
        assert!(p["file"].as_str().unwrap().ends_with(file), "{report:#}");
        assert_eq!(position(p), (1, 1), "{p:#}");
        assert!(
            p["message"]
                .as_str()
                .unwrap()
                .contains("but location:default/more targets this file"),
            "{p:#}"
        );
    }
    assert_eq!(report["errors"].as_array().unwrap().len(), 2, "{report:#}");
}

#[test]
fn document_level_findings_point_at_the_first_key_not_the_separator() {
    let env = TestEnv::new();
    let text = format!(
        "{}---\n# the second document\n\nkind: Component\nmetadata:\n  name: no-api-version\nspec:\n  type: service\n  lifecycle: production\n  owner: payments\n---\n  # indented comment\napiVersion: backstage.io/v1alpha1\nkind: Component\n",
        component("first", "payments", "production")
    );
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file("multi.yaml", &text)
        .build();
    let run = env.run(["--catalog", repo.path(), "validate", "-o", "json"]);
    run.code(1);
    let report = run.json();
    let missing_api = with_code(&report, "errors", "missing-api-version");
    assert_eq!(missing_api.len(), 1, "{report:#}");
    assert_eq!(position(&missing_api[0]), (12, 1), "{report:#}");
    let missing_metadata = with_code(&report, "errors", "missing-metadata");
    assert_eq!(missing_metadata.len(), 1, "{report:#}");
    assert_eq!(position(&missing_metadata[0]), (21, 1), "{report:#}");
    let run = env.run(["--catalog", repo.path(), "validate"]);
    run.code(1)
        .stdout_has("multi.yaml:12:1")
        .stdout_has("12 | kind: Component")
        .stdout_has("multi.yaml:21:1")
        .stdout_has("21 | apiVersion: backstage.io/v1alpha1")
        .stdout_lacks("| ---");
}

#[test]
fn hostile_refs_are_bounded() {
    let env = TestEnv::new();
    // Twenty $refs to nested parts of one 1 MB file: each part is the whole
    // megabyte again, so inlining all would be 20 MB.
    let nested = format!(
        "l: {}\"{}\"{}\n",
        "[".repeat(20),
        "x".repeat(1 << 20),
        "]".repeat(20)
    );
    let refs: String = (0..20)
        .map(|i| format!("  r{i}:\n    $ref: ./big.yaml#/l{}\n", "/0".repeat(i)))
        .collect();
    // A chain of $refs, each to the next, 10,000 long.
    let chain: String = (0..10_000)
        .map(|i| format!("a{i}:\n  $ref: '#/a{}'\n", i + 1))
        .collect();
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file("grow.yaml", api("grow", " {$openapi: ./grow/spec.yaml}"))
        .file("grow/spec.yaml", format!("openapi: 3.0.0\nx:\n{refs}"))
        .file("grow/big.yaml", nested)
        .file("chain.yaml", api("chain", " {$openapi: ./chain/spec.yaml}"))
        .file(
            "chain/spec.yaml",
            "openapi: 3.0.0\nx:\n  $ref: ./chain.yaml#/a0\n",
        )
        .file("chain/chain.yaml", chain)
        .build();
    let start = std::time::Instant::now();
    let run = env.run(["--catalog", repo.path(), "validate", "-o", "json"]);
    assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
    run.code(1);
    let report = run.json();
    let refused = with_code(&report, "errors", "substitution");
    assert_eq!(refused.len(), 2, "{report:#}");
    let text = |p: &Value| p["message"].as_str().unwrap().to_string();
    assert!(
        text(&refused[0]).contains("nests deeper than 256 levels, $refs followed included"),
        "{report:#}"
    );
    assert!(
        text(&refused[1]).contains("the bundled description would grow past 10485760 bytes"),
        "{report:#}"
    );
}
