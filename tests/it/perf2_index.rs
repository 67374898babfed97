//! Index format 8 (helper `perf2`): relations and descriptors are read in
//! checksummed chunks when a command first touches an entity, and the
//! fingerprint is proven with stats relative to the catalog root. Whatever
//! happens to the index file or to the catalog's files, a warm run answers
//! as a cold one does.

use std::path::Path;

use crate::common::{component, team, CatalogBuilder, Repo, TestEnv};

/// A catalog big enough for several chunks in each chunked section
/// (descriptors ~32 KiB per chunk): 300 components in their own
/// directories, owned by three teams.
fn big(env: &TestEnv) -> Repo {
    let mut b = CatalogBuilder::new(env.dir("cat")).file("idp.yaml", "exclude: []\n");
    for t in ["alpha", "beta", "gamma"] {
        b = b.file(&format!("teams/{t}.yaml"), team(t));
    }
    for i in 0..300 {
        let owner = ["alpha", "beta", "gamma"][i % 3];
        let mut doc = component(&format!("svc-{i:03}"), owner, "production");
        doc.push_str(&format!(
            "  dependsOn: [component:svc-{:03}]\n  system: sys-{}\n",
            (i + 1) % 300,
            i % 7
        ));
        b = b.file(&format!("services/svc-{i:03}/catalog-info.yaml"), doc);
    }
    b.build()
}

fn index_file(env: &TestEnv) -> std::path::PathBuf {
    let dir = env.cache.join("idp/index");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

/// The commands that read a few entities' records (`who-owns`, `show`)
/// and those that read them all (`graph`, `list -o json`).
const COMMANDS: [&[&str]; 4] = [
    &["who-owns", "svc-150", "-o", "json"],
    &["show", "svc-299", "-o", "json"],
    &["graph", "svc-007", "--depth", "2"],
    &["list", "-o", "json"],
];

#[test]
fn a_damaged_chunk_anywhere_is_caught_and_the_index_rebuilt() {
    let env = TestEnv::new();
    let repo = big(&env);
    let cat = repo.path();
    let cold: Vec<_> = COMMANDS
        .iter()
        .map(|args| {
            let _ = std::fs::remove_dir_all(env.cache.join("idp"));
            let run = env.run([&["--catalog", cat][..], args].concat());
            run.ok();
            run.stdout.clone()
        })
        .collect();
    let file = index_file(&env);
    let original = std::fs::read(&file).unwrap();
    assert!(
        original.len() > 100_000,
        "too small for chunks: {}",
        original.len()
    );
    // A flipped byte in every twentieth of the file: the header, the body,
    // every chunk of the descriptors and of the relations, the others.
    for k in 1..20 {
        let at = original.len() * k / 20;
        for (args, expected) in COMMANDS.iter().zip(&cold) {
            let mut bytes = original.clone();
            bytes[at] ^= 0x20;
            std::fs::write(&file, &bytes).unwrap();
            let run = env.run([&["--catalog", cat][..], args].concat());
            run.ok();
            assert!(
                run.stdout == *expected,
                "{args:?} with byte {at} flipped: not what a cold run prints"
            );
            assert!(!run.stderr.contains("error"), "{}", run.stderr);
        }
        // Rebuilt: sound again.
        let warm = env.run([&["--catalog", cat][..], COMMANDS[0]].concat());
        assert!(warm.stdout == cold[0], "byte {at}: not rebuilt");
        assert!(std::fs::read(&file).unwrap().starts_with(b"idpindex"));
    }
}

#[test]
fn a_warm_run_reads_only_what_it_needs_and_agrees_with_a_cold_one() {
    let env = TestEnv::new();
    let repo = big(&env);
    let cat = repo.path();
    // Cold, then warm twice (the second from the index written by the first).
    for args in COMMANDS {
        let _ = std::fs::remove_dir_all(env.cache.join("idp"));
        let cold = env.run([&["--catalog", cat][..], args].concat());
        cold.ok();
        for _ in 0..2 {
            let warm = env.run([&["--catalog", cat][..], args].concat());
            warm.ok();
            assert!(
                warm.stdout == cold.stdout,
                "{args:?}: warm differs from cold"
            );
        }
    }
    // Relations from the index: the owner's side and the dependents.
    let owner = env.run(["--catalog", cat, "show", "alpha", "-o", "json"]);
    let json = owner.json();
    let owned = json["relations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "ownerOf")
        .count();
    assert_eq!(owned, 100, "{json}");
}

fn backdate(path: &Path) {
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let file = std::fs::File::open(path).unwrap();
    file.set_modified(hour_ago).unwrap();
}

/// Backdates every file and directory under `dir` (not `.git`), so the
/// index stamps them without content hashes: only stats prove them unchanged.
fn backdate_tree(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == ".git") {
            continue;
        }
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            backdate_tree(&path);
        }
        if !meta.file_type().is_symlink() {
            backdate(&path);
        }
    }
    backdate(dir);
}

#[test]
fn the_stat_proof_sees_edits_swaps_and_symlinks() {
    let env = TestEnv::new();
    let repo = big(&env);
    let cat = repo.path();
    let root = repo.dir.clone();
    let list = ["--catalog", cat, "list", "-o", "json"];
    let check = |what: &str| {
        let warm = env.run(list);
        let _ = std::fs::remove_dir_all(env.cache.join("idp"));
        let cold = env.run(list);
        assert_eq!(warm.code, cold.code, "{what}: {}", warm.stderr);
        assert!(
            warm.stdout == cold.stdout,
            "{what}: the warm index missed it"
        );
        // Leave a non-racy index of this state for the next change.
        backdate_tree(&root);
        let _ = std::fs::remove_dir_all(env.cache.join("idp"));
        env.run(list).ok();
    };
    backdate_tree(&root);
    env.run(list).ok();
    let svc = |i: usize| root.join(format!("services/svc-{i:03}"));
    let edit = |i: usize, lifecycle: &str| {
        std::fs::write(
            svc(i).join("catalog-info.yaml"),
            component(&format!("svc-{i:03}"), "alpha", lifecycle),
        )
        .unwrap();
    };

    // An edit of the same size, in place.
    edit(10, "experiment");
    check("an in-place edit");
    // Two directories swapped by renames: every file keeps its stamp.
    std::fs::rename(svc(20), root.join("tmp")).unwrap();
    std::fs::rename(svc(21), svc(20)).unwrap();
    std::fs::rename(root.join("tmp"), svc(21)).unwrap();
    check("two directories swapped");
    // A file replaced by a symlink to another descriptor in the catalog.
    let file = svc(30).join("catalog-info.yaml");
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink("../svc-031/catalog-info.yaml", &file).unwrap();
    check("a file swapped for a symlink");
    // A directory replaced by a symlink to another directory.
    std::fs::remove_dir_all(svc(40)).unwrap();
    std::os::unix::fs::symlink("svc-041", svc(40)).unwrap();
    check("a directory swapped for a symlink");
    // The symlink's target edited: the file under the symlink changes.
    edit(41, "deprecated");
    check("an edit behind a symlink");
    // An added and a removed descriptor.
    std::fs::create_dir_all(svc(300)).unwrap();
    edit(300, "production");
    std::fs::remove_dir_all(svc(50)).unwrap();
    check("an added and a removed descriptor");
}
