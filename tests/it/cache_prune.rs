//! The cache stays bounded: every `--ref` read leaves an index of its own,
//! and after each command the least recently used ones beyond the budget go.

use crate::common::*;

#[test]
fn reading_many_refs_keeps_the_index_directory_bounded() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::good(env.dir("cat")).build();
    for i in 0..35 {
        repo.commit_file(
            "notes.yaml",
            component(&format!("svc-{i}"), "team-a", "production"),
        );
    }
    let index = env.cache.join("idp").join("index");
    std::fs::create_dir_all(&index).unwrap();
    std::fs::write(index.join("README.txt"), "not idp's").unwrap();

    let mut removed_note = false;
    for back in (0..35).rev() {
        let run = env.run([
            "-v",
            "--catalog",
            repo.path(),
            "--ref",
            &format!("HEAD~{back}"),
            "list",
        ]);
        run.ok();
        removed_note |= run
            .stderr
            .contains("cache: removed 1 least recently used file(s)");
    }
    let idx: Vec<_> = std::fs::read_dir(&index)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .collect();
    assert_eq!(idx.len(), 32, "index files kept: {idx:?}");
    assert!(removed_note, "-v names what pruning removed");
    assert!(index.join("README.txt").exists(), "foreign files stay");

    // The latest read's index survived pruning: the next read is warm and
    // writes nothing, so nothing is pruned…
    let again = env.run(["-v", "--catalog", repo.path(), "--ref", "HEAD", "list"]);
    again.ok();
    assert!(!again.stderr.contains("cache: removed"), "{}", again.stderr);
    // …while the oldest ref's index was removed: reading it builds and
    // writes it again, and the least recently used one makes room.
    let oldest = env.run(["-v", "--catalog", repo.path(), "--ref", "HEAD~34", "list"]);
    oldest
        .ok()
        .stderr_has("cache: removed 1 least recently used file(s)");
}
