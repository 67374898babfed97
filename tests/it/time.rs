//! Time: `idp history` (the commits that changed an entity, field by field,
//! across renames and moves), `idp diff` (catalog-level difference between
//! two states) and the global `--at` (the catalog as it was at a moment).

use serde_json::{json, Value};

use crate::common::{component, CatalogBuilder, Repo, TestEnv};

// 2026-01-10T10:00:00Z and one day (86,400 s) per step after it.
const T0: i64 = 1_768_039_200;
const DAY: i64 = 86_400;

fn ledger(owner: &str, lifecycle: &str, extra: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ledger\nspec:\n  type: service\n  lifecycle: {lifecycle}\n  owner: {owner}\n{extra}"
    )
}

fn storefront(lifecycle: &str) -> String {
    component("storefront", "checkout", lifecycle)
}

fn billing(lifecycle: &str) -> String {
    component("billing", "payments", lifecycle)
}

/// The commits of most history tests, oldest first:
/// 1. Alice creates ledger (depending on billing) and storefront in
///    `components.yaml`, and billing in `platform.yaml`;
/// 2. Bob transfers ledger from payments to checkout;
/// 3. Carol changes storefront (same file, other document);
/// 4. Alice makes ledger production and adds a dependency on storefront;
/// 5. Alice changes billing (another file);
/// 6. Bob tags ledger.
fn edits_repo(env: &TestEnv) -> (Repo, Vec<git2::Oid>) {
    let one = "  dependsOn: [component:billing]\n";
    let two = "  dependsOn: [component:billing, component:storefront]\n";
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file(
            "components.yaml",
            two_docs(
                &ledger("payments", "experimental", one),
                &storefront("experimental"),
            ),
        )
        .file("platform.yaml", billing("experimental"))
        .build_as("Create ledger\n\nWith a body.", "Alice", T0);
    let mut commits = vec![repo.git.head().unwrap().target().unwrap()];
    repo.write(
        "components.yaml",
        two_docs(
            &ledger("checkout", "experimental", one),
            &storefront("experimental"),
        ),
    );
    commits.push(repo.commit_as("Transfer ledger to checkout", "Bob", T0 + DAY));
    repo.write(
        "components.yaml",
        two_docs(
            &ledger("checkout", "experimental", one),
            &storefront("production"),
        ),
    );
    commits.push(repo.commit_as("Storefront goes live", "Carol", T0 + 2 * DAY));
    repo.write(
        "components.yaml",
        two_docs(
            &ledger("checkout", "production", two),
            &storefront("production"),
        ),
    );
    commits.push(repo.commit_as("Ledger in production", "Alice", T0 + 3 * DAY));
    repo.write("platform.yaml", billing("production"));
    commits.push(repo.commit_as("Billing goes live", "Alice", T0 + 4 * DAY));
    repo.write(
        "components.yaml",
        two_docs(
            &tagged(&ledger("checkout", "production", two)),
            &storefront("production"),
        ),
    );
    commits.push(repo.commit_as("Tag ledger", "Bob", T0 + 5 * DAY));
    (repo, commits)
}

fn two_docs(a: &str, b: &str) -> String {
    format!("{a}---\n{b}")
}

fn tagged(doc: &str) -> String {
    doc.replace("  name: ledger\n", "  name: ledger\n  tags: [java]\n")
}

fn history_json(env: &TestEnv, repo: &Repo, entity: &str) -> Vec<Value> {
    let run = env.run(["--catalog", repo.path(), "history", entity, "-o", "json"]);
    run.ok();
    run.json()
        .as_array()
        .expect("history is a JSON array")
        .clone()
}

fn summaries(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["summary"].as_str().expect("summary").to_string())
        .collect()
}

fn entry<'a>(entries: &'a [Value], summary: &str) -> &'a Value {
    entries
        .iter()
        .find(|e| e["summary"] == summary)
        .unwrap_or_else(|| panic!("no commit {summary:?} in:\n{entries:#?}"))
}

fn change<'a>(entry: &'a Value, field: &str) -> &'a Value {
    entry["changes"]
        .as_array()
        .expect("changes array")
        .iter()
        .find(|c| c["field"] == field)
        .unwrap_or_else(|| panic!("no change of {field} in:\n{entry:#}"))
}

// ------------------------------------------------------------------ history

#[test]
fn history_json_contract_newest_first_with_field_changes() {
    let env = TestEnv::new();
    let (repo, commits) = edits_repo(&env);
    let entries = history_json(&env, &repo, "ledger");
    for e in &entries {
        for key in ["commit", "date", "author", "summary", "changes"] {
            assert!(e.get(key).is_some(), "{key} missing in {e:#}");
        }
        for c in e["changes"].as_array().unwrap() {
            for key in ["field", "from", "to"] {
                assert!(c.get(key).is_some(), "{key} missing in change {c}");
            }
        }
    }
    let transfer = entry(&entries, "Transfer ledger to checkout");
    assert_eq!(transfer["commit"], commits[1].to_string());
    assert_eq!(transfer["author"], "Bob");
    assert_eq!(transfer["date"], "2026-01-11T10:00:00Z");
    assert_eq!(
        transfer["changes"],
        json!([{"field": "spec.owner", "from": "payments", "to": "checkout"}])
    );
    let live = entry(&entries, "Ledger in production");
    assert_eq!(live["commit"], commits[3].to_string());
    let lc = change(live, "spec.lifecycle");
    assert_eq!(lc["from"], "experimental");
    assert_eq!(lc["to"], "production");
    let dep = change(live, "spec.dependsOn");
    assert_eq!(dep["from"], Value::Null);
    assert_eq!(dep["to"], "component:storefront");
    assert_eq!(live["changes"].as_array().unwrap().len(), 2, "{live:#}");
    let tag = entry(&entries, "Tag ledger");
    assert_eq!(tag["changes"][0]["field"], "metadata.tags");
    // The oldest entry is the creation; the summary is the first line only.
    let created = entries.last().unwrap();
    assert_eq!(created["summary"], "Create ledger");
    assert_eq!(created["commit"], commits[0].to_string());
    assert_eq!(created["author"], "Alice");
    assert_eq!(created["date"], "2026-01-10T10:00:00Z");
    assert_eq!(
        created["changes"],
        json!([{"field": "entity", "from": null, "to": "component:default/ledger"}])
    );
    assert_eq!(entries[0]["summary"], "Tag ledger", "newest first");
}

#[test]
fn history_lists_exactly_the_commits_that_changed_the_entity() {
    let env = TestEnv::new();
    let (repo, _) = edits_repo(&env);
    let entries = history_json(&env, &repo, "ledger");
    // Not listed: the storefront change in the same file, billing elsewhere.
    assert_eq!(
        summaries(&entries),
        [
            "Tag ledger",
            "Ledger in production",
            "Transfer ledger to checkout",
            "Create ledger",
        ],
        "{entries:#?}"
    );
    // ...while storefront's own history has its commit.
    assert_eq!(
        summaries(&history_json(&env, &repo, "storefront")),
        ["Storefront goes live", "Create ledger"]
    );
}

#[test]
fn history_human_output() {
    let env = TestEnv::new();
    let (repo, commits) = edits_repo(&env);
    let run = env.run(["--catalog", repo.path(), "history", "ledger"]);
    run.ok()
        .stdout_has("component:default/ledger")
        .stdout_has(&commits[1].to_string()[..10])
        .stdout_has("2026-01-11")
        .stdout_has("Bob")
        .stdout_has("Transfer ledger to checkout")
        .stdout_has("spec.owner: payments → checkout")
        .stdout_has("spec.lifecycle: experimental → production")
        .stdout_has("spec.dependsOn: + component:storefront")
        .stdout_has("created")
        .stdout_lacks("Storefront goes live")
        .stdout_lacks("Billing goes live");
}

/// Adding the first dependency (no `dependsOn` before) should read like
/// adding any other: one change from null to the reference, not to a list.
#[test]
fn first_dependency_added_reads_as_the_ref() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file("ledger.yaml", ledger("payments", "production", ""))
        .file("billing.yaml", billing("production"))
        .build_as("add ledger", "Alice", T0);
    repo.write(
        "ledger.yaml",
        ledger(
            "payments",
            "production",
            "  dependsOn: [component:billing]\n",
        ),
    );
    repo.commit_as("ledger uses billing", "Bob", T0 + DAY);
    let entries = history_json(&env, &repo, "ledger");
    assert_eq!(
        entries[0]["changes"],
        json!([{"field": "spec.dependsOn", "from": null, "to": "component:billing"}]),
        "history"
    );
    let diff = env.run([
        "--catalog",
        repo.path(),
        "diff",
        "HEAD~1",
        "HEAD",
        "-o",
        "json",
    ]);
    assert_eq!(
        diff.json()["changed"][0]["changes"],
        json!([{"field": "spec.dependsOn", "from": null, "to": "component:billing"}]),
        "diff"
    );
}

#[test]
fn history_follows_a_file_rename() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file(
            "a.yaml",
            two_docs(
                &ledger("payments", "experimental", ""),
                &storefront("experimental"),
            ),
        )
        .build_as("Create ledger", "Alice", T0);
    repo.write(
        "a.yaml",
        two_docs(
            &ledger("checkout", "experimental", ""),
            &storefront("experimental"),
        ),
    );
    repo.commit_as("Transfer", "Bob", T0 + DAY);
    // git mv a.yaml catalog/b.yaml: the content is unchanged.
    repo.rename("a.yaml", "catalog/b.yaml");
    repo.commit_as("Rename file", "Carol", T0 + 2 * DAY);
    repo.write(
        "catalog/b.yaml",
        two_docs(
            &ledger("checkout", "production", ""),
            &storefront("experimental"),
        ),
    );
    repo.commit_as("Go live", "Alice", T0 + 3 * DAY);
    let entries = history_json(&env, &repo, "ledger");
    assert_eq!(
        summaries(&entries),
        ["Go live", "Rename file", "Transfer", "Create ledger"],
        "{entries:#?}"
    );
    assert_eq!(
        entry(&entries, "Rename file")["changes"],
        json!([{"field": "source.file", "from": "a.yaml", "to": "catalog/b.yaml"}])
    );
}

#[test]
fn history_follows_a_rename_with_an_edit() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file("a.yaml", ledger("payments", "experimental", ""))
        .build_as("Create ledger", "Alice", T0);
    repo.remove("a.yaml");
    repo.write("catalog/b.yaml", ledger("checkout", "experimental", ""));
    repo.commit_as("Rename and transfer", "Bob", T0 + DAY);
    let entries = history_json(&env, &repo, "ledger");
    assert_eq!(
        summaries(&entries),
        ["Rename and transfer", "Create ledger"]
    );
    let c = &entries[0];
    assert_eq!(change(c, "spec.owner")["to"], "checkout");
    let sf = change(c, "source.file");
    assert_eq!(sf["from"], "a.yaml");
    assert_eq!(sf["to"], "catalog/b.yaml");
}

/// ledger and storefront in `services.yaml`, billing in `platform.yaml`;
/// ledger is transferred, then moved unchanged next to billing, then billing
/// changes, then ledger is tagged.
#[test]
fn history_follows_a_move_into_another_multi_document_file() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file(
            "services.yaml",
            two_docs(
                &ledger("payments", "experimental", ""),
                &storefront("experimental"),
            ),
        )
        .file("platform.yaml", billing("experimental"))
        .build_as("Create ledger", "Alice", T0);
    repo.write(
        "services.yaml",
        two_docs(
            &ledger("checkout", "experimental", ""),
            &storefront("experimental"),
        ),
    );
    repo.commit_as("Transfer", "Bob", T0 + DAY);
    repo.write("services.yaml", storefront("experimental"));
    repo.write(
        "platform.yaml",
        two_docs(
            &billing("experimental"),
            &ledger("checkout", "experimental", ""),
        ),
    );
    let moved = repo.commit_as("Move ledger to platform", "Carol", T0 + 2 * DAY);
    repo.write(
        "platform.yaml",
        two_docs(
            &billing("production"),
            &ledger("checkout", "experimental", ""),
        ),
    );
    repo.commit_as("Billing goes live", "Alice", T0 + 3 * DAY);
    repo.write(
        "platform.yaml",
        two_docs(
            &billing("production"),
            &tagged(&ledger("checkout", "experimental", "")),
        ),
    );
    repo.commit_as("Tag ledger", "Bob", T0 + 4 * DAY);
    let entries = history_json(&env, &repo, "ledger");
    assert_eq!(
        summaries(&entries),
        [
            "Tag ledger",
            "Move ledger to platform",
            "Transfer",
            "Create ledger"
        ],
        "{entries:#?}"
    );
    let m = entry(&entries, "Move ledger to platform");
    assert_eq!(m["commit"], moved.to_string());
    assert_eq!(
        m["changes"],
        json!([{"field": "source.file", "from": "services.yaml", "to": "platform.yaml"}])
    );
}

#[test]
fn history_follows_a_move_with_an_edit() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file(
            "services.yaml",
            two_docs(
                &ledger("payments", "experimental", ""),
                &storefront("experimental"),
            ),
        )
        .file("platform.yaml", billing("experimental"))
        .build_as("Create ledger", "Alice", T0);
    repo.write("services.yaml", storefront("experimental"));
    repo.write(
        "platform.yaml",
        two_docs(
            &billing("experimental"),
            &ledger("checkout", "experimental", ""),
        ),
    );
    repo.commit_as("Move and transfer", "Bob", T0 + DAY);
    repo.write(
        "platform.yaml",
        two_docs(
            &billing("production"),
            &ledger("checkout", "experimental", ""),
        ),
    );
    repo.commit_as("Billing goes live", "Alice", T0 + 2 * DAY);
    let entries = history_json(&env, &repo, "ledger");
    assert_eq!(summaries(&entries), ["Move and transfer", "Create ledger"]);
    let sf = change(&entries[0], "source.file");
    assert_eq!(sf["from"], "services.yaml");
    assert_eq!(sf["to"], "platform.yaml");
    assert_eq!(change(&entries[0], "spec.owner")["from"], "payments");
}

#[test]
fn history_limit() {
    let env = TestEnv::new();
    let (repo, _) = edits_repo(&env);
    let run = env.run([
        "--catalog",
        repo.path(),
        "history",
        "ledger",
        "--limit",
        "2",
        "-o",
        "json",
    ]);
    run.ok();
    assert_eq!(
        summaries(run.json().as_array().unwrap()),
        ["Tag ledger", "Ledger in production"]
    );
    let short = env.run([
        "--catalog",
        repo.path(),
        "history",
        "ledger",
        "-n",
        "1",
        "-o",
        "json",
    ]);
    assert_eq!(short.json().as_array().unwrap().len(), 1);
}

#[test]
fn history_of_an_unknown_entity_exits_3() {
    let env = TestEnv::new();
    let (repo, _) = edits_repo(&env);
    let run = env.run(["--catalog", repo.path(), "history", "nope"]);
    run.code(3).stderr_has("nope");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn history_outside_git_exits_2_with_a_message() {
    let env = TestEnv::new();
    let dir = CatalogBuilder::standard(env.dir("plain")).write_only();
    let run = env.run(["--catalog", dir.to_str().unwrap(), "history", "ledger"]);
    run.code(2).stderr_has("git");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

/// A `--depth 2` clone of the edits repository (made with the git CLI).
fn shallow_clone(env: &TestEnv) -> std::path::PathBuf {
    let (repo, _) = edits_repo(env);
    let dest = env.root.join("shallow");
    let out = env
        .git(&env.root)
        .args(["clone", "-q", "--depth", "2"])
        .arg(format!("file://{}", repo.path()))
        .arg(&dest)
        .output()
        .expect("git clone");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dest
}

#[test]
fn history_in_a_shallow_clone_warns() {
    let env = TestEnv::new();
    let dest = shallow_clone(&env);
    let run = env.run([
        "--catalog",
        dest.to_str().unwrap(),
        "history",
        "ledger",
        "-o",
        "json",
    ]);
    run.ok().stderr_has("shallow");
    let entries = run.json();
    let s = entries.as_array().unwrap();
    assert!(!s.is_empty() && s.len() <= 2, "{entries:#}");
    assert_eq!(s[0]["summary"], "Tag ledger");
    // --at before the shallow boundary says so too.
    let at = env.run([
        "--catalog",
        dest.to_str().unwrap(),
        "--at",
        "2026-01-11",
        "who-owns",
        "ledger",
    ]);
    at.code(2).stderr_has("shallow");
}

/// In a shallow clone the oldest fetched commit has no parents; the entity
/// already existed before it, so that commit must not be reported as the
/// entity's creation (the history is cut short, which the warning says).
#[test]
fn shallow_boundary_commit_is_not_reported_as_the_creation() {
    let env = TestEnv::new();
    let dest = shallow_clone(&env);
    let run = env.run([
        "--catalog",
        dest.to_str().unwrap(),
        "history",
        "ledger",
        "-o",
        "json",
    ]);
    run.ok();
    let entries = run.json();
    for e in entries.as_array().unwrap() {
        assert!(
            e["changes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["field"] != "entity"),
            "ledger was created in \"Create ledger\", which the shallow clone lacks; \
             {:?} is reported as its creation:\n{entries:#}",
            e["summary"]
        );
    }
}

#[test]
fn history_at_a_date_starts_there() {
    let env = TestEnv::new();
    let (repo, _) = edits_repo(&env);
    let run = env.run([
        "--catalog",
        repo.path(),
        "--at",
        "2026-01-12",
        "history",
        "ledger",
        "-o",
        "json",
    ]);
    run.ok();
    assert_eq!(
        summaries(run.json().as_array().unwrap()),
        ["Transfer ledger to checkout", "Create ledger"]
    );
}

// ------------------------------------------------------------------ diff

/// v1: the standard catalog; v2: ledger transferred to checkout, billing
/// added, storefront removed.
fn diff_repo(env: &TestEnv) -> Repo {
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file("ledger.yaml", ledger("payments", "production", ""))
        .file("storefront.yaml", storefront("experimental"))
        .build();
    repo.tag("v1");
    repo.write("ledger.yaml", ledger("checkout", "production", ""));
    repo.remove("storefront.yaml");
    repo.write("billing.yaml", billing("experimental"));
    repo.commit("v2 changes");
    repo.tag("v2");
    repo
}

#[test]
fn diff_json_contract() {
    let env = TestEnv::new();
    let repo = diff_repo(&env);
    let run = env.run(["--catalog", repo.path(), "diff", "v1", "v2", "-o", "json"]);
    run.ok();
    let v = run.json();
    assert_eq!(v["added"], json!(["component:default/billing"]));
    assert_eq!(v["removed"], json!(["component:default/storefront"]));
    assert_eq!(
        v["changed"],
        json!([{
            "entity": "component:default/ledger",
            "changes": [{"field": "spec.owner", "from": "payments", "to": "checkout"}]
        }])
    );
    let added = v["relationsAdded"].as_array().expect("relationsAdded");
    let removed = v["relationsRemoved"].as_array().expect("relationsRemoved");
    let has = |list: &[Value], from: &str, rel: &str, to: &str| {
        list.iter()
            .any(|r| r["from"] == from && r["relation"] == rel && r["to"] == to)
    };
    assert!(
        has(
            added,
            "component:default/ledger",
            "ownedBy",
            "group:default/checkout"
        ),
        "{v:#}"
    );
    assert!(
        has(
            added,
            "component:default/billing",
            "ownedBy",
            "group:default/payments"
        ),
        "{v:#}"
    );
    assert!(
        has(
            removed,
            "component:default/ledger",
            "ownedBy",
            "group:default/payments"
        ),
        "{v:#}"
    );
    assert!(
        has(
            removed,
            "component:default/storefront",
            "ownedBy",
            "group:default/checkout"
        ),
        "{v:#}"
    );
    // Reversed, added and removed swap.
    let back = env.run(["--catalog", repo.path(), "diff", "v2", "v1", "-o", "json"]);
    let b = back.json();
    assert_eq!(b["added"], json!(["component:default/storefront"]));
    assert_eq!(b["removed"], json!(["component:default/billing"]));
}

#[test]
fn diff_relation_added_by_a_dependency() {
    let env = TestEnv::new();
    let repo = diff_repo(&env);
    repo.write(
        "ledger.yaml",
        ledger(
            "checkout",
            "production",
            "  dependsOn: [component:billing]\n",
        ),
    );
    repo.commit("ledger uses billing");
    repo.tag("v3");
    repo.write("audit.yaml", component("audit", "payments", "production"));
    repo.write(
        "ledger.yaml",
        ledger(
            "checkout",
            "production",
            "  dependsOn: [component:billing, component:audit]\n",
        ),
    );
    repo.commit("ledger uses audit");
    let run = env.run(["--catalog", repo.path(), "diff", "v3", "HEAD", "-o", "json"]);
    run.ok();
    let v = run.json();
    assert_eq!(v["added"], json!(["component:default/audit"]));
    assert_eq!(v["removed"], json!([]));
    assert_eq!(
        v["changed"],
        json!([{
            "entity": "component:default/ledger",
            "changes": [{"field": "spec.dependsOn", "from": null, "to": "component:audit"}]
        }])
    );
    assert_eq!(
        v["relationsAdded"],
        json!([
            {"from": "component:default/audit", "relation": "ownedBy", "to": "group:default/payments"},
            {"from": "component:default/ledger", "relation": "dependsOn", "to": "component:default/audit"},
        ])
    );
    assert_eq!(v["relationsRemoved"], json!([]));
    // The first dependency, as a relation.
    let first = env.run(["--catalog", repo.path(), "diff", "v2", "v3", "-o", "json"]);
    assert_eq!(
        first.json()["relationsAdded"],
        json!([{"from": "component:default/ledger", "relation": "dependsOn", "to": "component:default/billing"}])
    );
}

#[test]
fn diff_defaults_to_the_working_tree() {
    let env = TestEnv::new();
    let repo = diff_repo(&env);
    // Clean working tree: no changes against HEAD.
    let clean = env.run(["--catalog", repo.path(), "diff", "HEAD", "-o", "json"]);
    clean.ok();
    let v = clean.json();
    assert_eq!(v["added"], json!([]));
    assert_eq!(v["changed"], json!([]));
    // An uncommitted edit shows up.
    repo.write("ledger.yaml", ledger("checkout", "deprecated", ""));
    let run = env.run(["--catalog", repo.path(), "diff", "HEAD", "-o", "json"]);
    run.ok();
    assert_eq!(
        run.json()["changed"],
        json!([{
            "entity": "component:default/ledger",
            "changes": [{"field": "spec.lifecycle", "from": "production", "to": "deprecated"}]
        }])
    );
    env.run(["--catalog", repo.path(), "diff", "HEAD"])
        .ok()
        .stdout_has("component:default/ledger")
        .stdout_has("spec.lifecycle: production → deprecated")
        .stdout_has("the working tree");
}

#[test]
fn diff_exit_code() {
    let env = TestEnv::new();
    let repo = diff_repo(&env);
    env.run(["--catalog", repo.path(), "diff", "v1", "v2", "--exit-code"])
        .code(1)
        .stdout_has("component:default/billing");
    env.run([
        "--catalog",
        repo.path(),
        "diff",
        "v2",
        "HEAD",
        "--exit-code",
    ])
    .code(0)
    .stdout_has("No catalog changes");
    env.run(["--catalog", repo.path(), "diff", "HEAD", "--exit-code"])
        .code(0);
    repo.write("ledger.yaml", ledger("payments", "production", ""));
    env.run([
        "--catalog",
        repo.path(),
        "diff",
        "HEAD",
        "--exit-code",
        "-o",
        "json",
    ])
    .code(1);
    // Without --exit-code, differences still exit 0.
    env.run(["--catalog", repo.path(), "diff", "v1", "v2"]).ok();
}

#[test]
fn diff_markdown_for_a_pull_request() {
    let env = TestEnv::new();
    let repo = diff_repo(&env);
    let run = env.run([
        "--catalog",
        repo.path(),
        "diff",
        "v1",
        "v2",
        "-o",
        "markdown",
    ]);
    run.ok();
    let first = run.stdout.lines().next().unwrap_or("");
    assert!(first.starts_with('#'), "heading first: {}", run.stdout);
    assert!(first.contains("v1") && first.contains("v2"), "{first}");
    run.stdout_has("| Entity | Field | From | To |")
        .stdout_has("| --- | --- | --- | --- |")
        .stdout_has("| `component:default/ledger` | `spec.owner` | `payments` | `checkout` |")
        .stdout_has("`component:default/billing`")
        .stdout_has("`component:default/storefront`");
}

#[test]
fn diff_unknown_revision_exits_2_naming_it() {
    let env = TestEnv::new();
    let repo = diff_repo(&env);
    let run = env.run(["--catalog", repo.path(), "diff", "no-such-rev", "v2"]);
    run.code(2).stderr_has("no-such-rev");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    env.run(["--catalog", repo.path(), "diff", "v1", "also-missing"])
        .code(2)
        .stderr_has("also-missing");
    env.run(["--catalog", repo.path(), "diff", "v1", "v2", "-o", "csv"])
        .code(2);
}

// ------------------------------------------------------------------ --at

/// ledger owned by payments from 2026-01-10T10:00Z, transferred to checkout
/// at 2026-03-10T10:00Z, when billing is also added.
fn at_repo(env: &TestEnv) -> Repo {
    let repo = CatalogBuilder::org(env.dir("cat"))
        .file("ledger.yaml", ledger("payments", "production", ""))
        .build_as("payments owns ledger", "Alice", T0);
    repo.write("ledger.yaml", ledger("checkout", "production", ""));
    repo.write("billing.yaml", billing("production"));
    // 2026-03-10T10:00:00Z
    repo.commit_as("checkout owns ledger", "Bob", 1_773_136_800);
    repo
}

fn owner_at(env: &TestEnv, repo: &Repo, at: &str) -> String {
    let run = env.run([
        "--catalog",
        repo.path(),
        "--at",
        at,
        "who-owns",
        "ledger",
        "-o",
        "json",
    ]);
    run.ok();
    run.json()["owner"]["ref"]
        .as_str()
        .expect("owner ref")
        .to_string()
}

#[test]
fn at_reads_the_catalog_as_of_a_date() {
    let env = TestEnv::new();
    let repo = at_repo(&env);
    assert_eq!(
        owner_at(&env, &repo, "2026-02-01"),
        "group:default/payments"
    );
    assert_eq!(
        owner_at(&env, &repo, "2026-01-10"),
        "group:default/payments"
    );
    // A bare date is the end of that day, UTC.
    assert_eq!(
        owner_at(&env, &repo, "2026-03-10"),
        "group:default/checkout"
    );
    assert_eq!(
        owner_at(&env, &repo, "2026-03-10T00:00:00Z"),
        "group:default/payments"
    );
    assert_eq!(
        owner_at(&env, &repo, "2026-03-10T10:00:00Z"),
        "group:default/checkout"
    );
    assert_eq!(
        owner_at(&env, &repo, "2027-01-01"),
        "group:default/checkout"
    );
}

#[test]
fn at_ignores_uncommitted_edits() {
    let env = TestEnv::new();
    let repo = at_repo(&env);
    repo.write("ledger.yaml", ledger("engineering", "production", ""));
    assert_eq!(
        owner_at(&env, &repo, "2027-01-01"),
        "group:default/checkout"
    );
}

#[test]
fn at_works_for_other_read_commands() {
    let env = TestEnv::new();
    let repo = at_repo(&env);
    let run = env.run([
        "--catalog",
        repo.path(),
        "--at",
        "2026-02-01",
        "list",
        "--kind",
        "component",
        "-o",
        "json",
    ]);
    run.ok();
    assert_eq!(run.refs(), ["component:default/ledger"]);
    let later = env.run([
        "--catalog",
        repo.path(),
        "--at",
        "2026-03-11",
        "list",
        "--kind",
        "component",
        "-o",
        "json",
    ]);
    assert_eq!(
        later.refs(),
        ["component:default/billing", "component:default/ledger"]
    );
}

#[test]
fn at_an_entity_that_did_not_exist_yet_exits_3() {
    let env = TestEnv::new();
    let repo = at_repo(&env);
    env.run([
        "--catalog",
        repo.path(),
        "--at",
        "2026-02-01",
        "who-owns",
        "billing",
    ])
    .code(3);
    env.run(["--catalog", repo.path(), "who-owns", "billing"])
        .ok();
}

#[test]
fn at_a_date_before_the_first_commit_exits_2_naming_it() {
    let env = TestEnv::new();
    let repo = at_repo(&env);
    let run = env.run([
        "--catalog",
        repo.path(),
        "--at",
        "2025-12-01",
        "who-owns",
        "ledger",
    ]);
    run.code(2).stderr_has("2026-01-10");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    // The morning of the first commit, before it.
    env.run([
        "--catalog",
        repo.path(),
        "--at",
        "2026-01-10T09:59:59Z",
        "who-owns",
        "ledger",
    ])
    .code(2)
    .stderr_has("2026-01-10T10:00:00Z");
}

#[test]
fn at_an_unparseable_date_exits_2() {
    let env = TestEnv::new();
    let repo = at_repo(&env);
    for bad in ["yesterday", "2026-13-45", "10/03/2026"] {
        env.run(["--catalog", repo.path(), "--at", bad, "who-owns", "ledger"])
            .code(2)
            .stderr_has(bad);
    }
}

#[test]
fn at_with_ref_is_a_usage_error() {
    let env = TestEnv::new();
    let repo = at_repo(&env);
    let run = env.run([
        "--catalog",
        repo.path(),
        "--at",
        "2026-02-01",
        "--ref",
        "HEAD",
        "who-owns",
        "ledger",
    ]);
    run.code(2);
    assert!(
        run.stderr.contains("--ref") && run.stderr.contains("--at"),
        "{}",
        run.stderr
    );
}

#[test]
fn at_outside_git_exits_2() {
    let env = TestEnv::new();
    let dir = CatalogBuilder::standard(env.dir("plain")).write_only();
    env.run([
        "--catalog",
        dir.to_str().unwrap(),
        "--at",
        "2026-02-01",
        "who-owns",
        "ledger",
    ])
    .code(2)
    .stderr_has("git");
}
