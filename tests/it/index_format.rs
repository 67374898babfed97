//! The index file format: whatever is in the cache (an older idp's layout,
//! a truncated or bit-flipped file, something else entirely), a command
//! answers as from the files, and the index is rebuilt.

use crate::common::{CatalogBuilder, TestEnv};

fn index_files(env: &TestEnv) -> Vec<std::path::PathBuf> {
    let dir = env.cache.join("idp/index");
    std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

/// Runs `list -o json` and `validate -o json` on a catalog whose one
/// index file is replaced by `damage(original bytes)`; both answer as a
/// cold run does, and afterwards the index is sound again.
fn survives(damage: impl Fn(Vec<u8>) -> Vec<u8>) {
    let env = TestEnv::new();
    let repo = CatalogBuilder::good(env.dir("cat")).build();
    let list = env.run(["--catalog", repo.path(), "list", "-o", "json"]);
    list.ok();
    let validate = env.run(["--catalog", repo.path(), "validate", "-o", "json"]);
    let files = index_files(&env);
    assert_eq!(files.len(), 1, "{files:?}");
    let original = std::fs::read(&files[0]).unwrap();
    for args in [["list", "-o", "json"], ["validate", "-o", "json"]] {
        std::fs::write(&files[0], damage(original.clone())).unwrap();
        let run = env.run(["--catalog", repo.path(), args[0], args[1], args[2]]);
        let expected = if args[0] == "list" { &list } else { &validate };
        assert_eq!(run.code, expected.code, "{}", run.stderr);
        assert_eq!(run.stdout, expected.stdout, "{args:?}");
        assert!(!run.stderr.contains("error"), "{}", run.stderr);
        // Rebuilt: a warm run reads it and agrees.
        let again = env.run(["--catalog", repo.path(), args[0], args[1], args[2]]);
        assert_eq!(again.stdout, expected.stdout);
        let rebuilt = std::fs::read(&files[0]).unwrap();
        assert!(rebuilt.starts_with(b"idpindex"), "not rebuilt");
    }
}

#[test]
fn an_index_in_the_old_bincode_layout_is_rebuilt() {
    // Format 5: a CRC-32, then a bincode header starting with format 5.
    survives(|bytes| {
        let mut old = Vec::new();
        let rest = [5u32.to_le_bytes().as_slice(), &bytes[16..]].concat();
        old.extend_from_slice(&crc32(&rest).to_le_bytes());
        old.extend_from_slice(&rest);
        old
    });
}

fn crc32(bytes: &[u8]) -> u32 {
    // Bitwise CRC-32 (IEEE), as crc32fast computes it.
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn a_truncated_index_is_rebuilt() {
    survives(|bytes| bytes[..bytes.len() / 2].to_vec());
    survives(|bytes| bytes[..10].to_vec());
    survives(|_| Vec::new());
}

#[test]
fn a_bit_flip_anywhere_is_caught_by_the_checksum() {
    for at in [17usize, 40, 200] {
        survives(move |mut bytes| {
            let i = at.min(bytes.len() - 1);
            bytes[i] ^= 0x10;
            bytes
        });
    }
    survives(|mut bytes| {
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        bytes
    });
}

#[test]
fn a_foreign_file_in_place_of_the_index_is_rebuilt() {
    survives(|_| b"{\"not\": \"an index\"}\n".to_vec());
    survives(|bytes| vec![0xff; bytes.len()]);
    // Right magic, another format number.
    survives(|mut bytes| {
        bytes[8] = 99;
        bytes
    });
}

#[test]
fn a_damaged_index_is_mentioned_only_with_verbose() {
    let env = TestEnv::new();
    let repo = CatalogBuilder::good(env.dir("cat")).build();
    env.run(["--catalog", repo.path(), "list"]).ok();
    let file = &index_files(&env)[0];
    let mut bytes = std::fs::read(file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(file, &bytes).unwrap();
    env.run(["--catalog", repo.path(), "-v", "list"])
        .ok()
        .stderr_has("checksum mismatch");
}
