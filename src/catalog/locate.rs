//! Finds the line and column of field paths (`spec.owner`, `metadata.tags.2`)
//! in a descriptor file, so a problem found on the JSON value can point at
//! the source. The positions come from the parse that produced the values
//! ([`crate::yaml`] records where every key and item is): a file loaded in
//! this run is never parsed again to locate its problems, and a file whose
//! values came from the index is parsed once, for all of its paths.

use std::collections::HashMap;

use super::parse::{self, Document};
use crate::yaml::Tree;

/// Line and column (1-based) of `path` in document `doc` of `text`. When the
/// full path is absent (a missing required field), the deepest existing
/// ancestor's position is returned.
pub fn locate(text: &str, doc: usize, path: &str) -> Option<(usize, usize)> {
    Locator::new(text).key(doc, path)
}

/// Like [`locate`], plus the position of the value when the whole path was
/// found and its value starts on the key's line (`owner: nobody` → `nobody`).
pub fn locate_value(text: &str, doc: usize, path: &str) -> Option<(usize, usize)> {
    Locator::new(text).value(doc, path)
}

/// A 1-based line and column.
type Position = (usize, usize);

/// The positions of every key and item of one file's documents.
#[derive(Debug, Clone, Default)]
pub struct Locator {
    docs: HashMap<usize, (Option<Position>, Tree)>,
}

impl Locator {
    /// Parses `text` once (a text that does not parse locates nothing).
    pub fn new(text: &str) -> Locator {
        let mut docs = parse::parse_str(text).unwrap_or_default();
        Locator::take(&mut docs)
    }

    /// The positions the parse of `docs` recorded, taken out of them.
    pub fn take(docs: &mut [Document]) -> Locator {
        Locator {
            docs: docs
                .iter_mut()
                .map(|d| (d.index, (d.root, std::mem::take(&mut d.tree))))
                .collect(),
        }
    }

    /// Position of `path`'s key (or the deepest ancestor present).
    pub fn key(&self, doc: usize, path: &str) -> Option<Position> {
        self.find(doc, path).map(|(key, _)| key)
    }

    /// Position of `path`'s value when it starts on the key's line, else as [`Locator::key`].
    pub fn value(&self, doc: usize, path: &str) -> Option<Position> {
        self.find(doc, path)
            .map(|(key, value)| value.unwrap_or(key))
    }

    fn find(&self, doc: usize, path: &str) -> Option<(Position, Option<Position>)> {
        let (root, tree) = self.docs.get(&doc)?;
        let segments = split_path(path);
        if segments.is_empty() {
            return root.map(|at| (at, None));
        }
        let mut tree = tree;
        let mut best = None;
        for (depth, segment) in segments.iter().enumerate() {
            let Some((at, value, child)) = tree.child(segment) else {
                break;
            };
            tree = child;
            best = Some((at, None));
            if depth + 1 == segments.len() {
                best = Some((at, value.filter(|v| v.0 == at.0)));
            }
        }
        best
    }
}

/// Splits a dotted path; keys that themselves contain dots (annotation keys)
/// are written in brackets: `metadata.annotations[github.com/project-slug]`.
fn split_path(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[') {
            let end = inner.find(']').unwrap_or(inner.len());
            out.push(&inner[..end]);
            rest = inner.get(end + 1..).unwrap_or("");
            rest = rest.strip_prefix('.').unwrap_or(rest);
            continue;
        }
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        out.push(&rest[..end]);
        rest = &rest[end..];
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "apiVersion: v1\nkind: Component\nmetadata:\n  name: a\n  tags: [x, 'Bad Tag']\n  annotations:\n    github.com/project-slug: acme/a\nspec:\n  owner: team\n  dependsOn:\n    - ledger\n---\nkind: B\nspec:\n  owner: x\n";

    #[test]
    fn finds_keys_and_items() {
        assert_eq!(locate(TEXT, 0, "spec.owner"), Some((9, 3)));
        assert_eq!(locate(TEXT, 0, "spec.dependsOn.0"), Some((11, 7)));
        assert_eq!(locate(TEXT, 0, "metadata.tags.1"), Some((5, 13)));
        assert_eq!(
            locate(TEXT, 0, "metadata.annotations[github.com/project-slug]"),
            Some((7, 5))
        );
        assert_eq!(locate(TEXT, 1, "spec.owner"), Some((15, 3)));
    }

    #[test]
    fn values_on_the_key_line() {
        assert_eq!(locate_value(TEXT, 0, "spec.owner"), Some((9, 10)));
        assert_eq!(locate_value(TEXT, 0, "metadata.tags"), Some((5, 9)));
        // A block value starts on the next line: stay on the key.
        assert_eq!(locate_value(TEXT, 0, "spec.dependsOn"), Some((10, 3)));
    }

    #[test]
    fn missing_field_points_at_parent() {
        assert_eq!(locate(TEXT, 0, "spec.lifecycle"), Some((8, 1)));
    }

    #[test]
    fn a_document_is_located_at_its_first_key_not_its_separator() {
        let text = "# c\n---\n\n  # note\nkind: A\n---\n- x\n--- {kind: B}\n";
        assert_eq!(locate(text, 0, ""), Some((5, 1)));
        assert_eq!(
            locate(text, 1, ""),
            Some((7, 3)),
            "a list at its first item"
        );
        assert_eq!(locate(text, 2, ""), Some((8, 6)));
        assert_eq!(locate(text, 0, "apiVersion"), None);
        // After a byte-order mark, column 1 is the first character after it.
        assert_eq!(locate("\u{feff}kind: A\n", 0, "kind"), Some((1, 1)));
        assert_eq!(locate("\u{feff}kind: A\n", 0, ""), Some((1, 1)));
    }

    #[test]
    fn one_parse_answers_every_path() {
        let all = Locator::new(TEXT);
        assert_eq!(all.key(0, "spec.dependsOn.7"), Some((10, 3)));
        assert_eq!(all.key(0, "nothing.here"), None);
        assert_eq!(all.key(2, "spec"), None);
        assert_eq!(all.key(1, "kind"), Some((13, 1)));
        assert_eq!(all.key(0, ""), Some((1, 1)));
        // Deeper than the text goes: the deepest ancestor present.
        assert_eq!(all.key(0, "spec.owner.deeper"), Some((9, 3)));
    }

    #[test]
    fn the_positions_of_a_load_are_those_of_a_fresh_parse() {
        let mut docs = crate::catalog::parse::parse_str(TEXT).unwrap();
        assert_eq!(docs[0].value["spec"]["owner"], "team");
        let taken = Locator::take(&mut docs);
        let fresh = Locator::new(TEXT);
        for path in ["spec.owner", "metadata.tags.1", "spec.dependsOn.0", ""] {
            assert_eq!(taken.value(0, path), fresh.value(0, path), "{path}");
            assert_eq!(taken.key(1, path), fresh.key(1, path), "{path}");
        }
    }

    #[test]
    fn too_deep_text_is_not_parsed() {
        let text = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let start = std::time::Instant::now();
        assert_eq!(locate(&text, 0, "a"), None);
        assert!(start.elapsed().as_secs() < 2);
    }

    #[test]
    fn odd_shapes() {
        let text = "a: 1\n? [x, y]\n: v\nb:\n  - {c: 1, d: [e, f]}\n  - *z\n  - &z [g]\n01: h\nlist:\n- i\n- j: k\n  l: m\n---\n- 1\n- - 2\n  - 3\n---\n";
        // An alias used before its anchor: the text does not parse, nothing
        // is found.
        assert_eq!(Locator::new(text).key(0, "a"), None);
        let text = text.replace("  - *z\n  - &z [g]\n", "  - &z [g]\n  - *z\n");
        let all = Locator::new(&text);
        // A complex key is not addressable; what follows it still is.
        assert_eq!(all.value(0, "a"), Some((1, 4)));
        assert_eq!(all.key(0, "b.0.d.1"), Some((5, 19)));
        assert_eq!(all.value(0, "b.0.c"), Some((5, 9)));
        assert_eq!(all.key(0, "b.2"), Some((7, 5)));
        assert_eq!(all.key(0, "b.1.0"), Some((6, 9)));
        // Keys are matched as written: `01`, not `1`; items by number.
        assert_eq!(all.key(0, "01"), Some((8, 1)));
        assert_eq!(all.key(0, "1"), None);
        assert_eq!(all.key(0, "list.1.l"), Some((12, 3)));
        assert_eq!(all.key(0, "list.01"), Some((11, 3)));
        assert_eq!(all.key(1, "1.1"), Some((16, 5)));
        assert_eq!(all.key(1, ""), Some((14, 3)));
        // An empty document is where its (empty) content is.
        assert_eq!(all.key(2, ""), Some((18, 1)));
    }

    #[test]
    fn every_name_of_the_example_catalog_is_found_on_its_line() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/acme");
        let mut checked = 0;
        for entry in ignore::Walk::new(root).flatten() {
            let path = entry.path();
            if !path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                continue;
            }
            let text = std::fs::read_to_string(path).unwrap();
            // Templates under examples/ are not YAML until rendered.
            let Ok(mut docs) = crate::catalog::parse::parse_str(&text) else {
                continue;
            };
            let indexes: Vec<usize> = docs.iter().map(|d| d.index).collect();
            let names: Vec<Option<String>> = docs
                .iter()
                .map(|d| d.value["metadata"]["name"].as_str().map(String::from))
                .collect();
            let locator = Locator::take(&mut docs);
            let lines: Vec<&str> = text.lines().collect();
            for (doc, name) in indexes.into_iter().zip(names) {
                let Some(name) = name else { continue };
                let (line, column) = locator.value(doc, "metadata.name").unwrap();
                assert!(
                    lines[line - 1][column - 1..].contains(&name),
                    "{path:?} {name}"
                );
                checked += 1;
            }
        }
        assert!(checked > 5, "{checked}");
    }
}
