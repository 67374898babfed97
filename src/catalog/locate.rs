//! Finds the line and column of field paths (`spec.owner`, `metadata.tags.2`)
//! in YAML text, so a problem found on the JSON value can point at the source.
//! Runs yaml-rust2's event parser once over a file for every path asked of
//! it ([`Locator`]), and only for files that have problems, so the fast load
//! path never pays for it and a file with thousands of problems is still
//! parsed once.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::prescan;

/// Line and column (1-based) of `path` in document `doc` of `text`. When the
/// full path is absent (a missing required field), the deepest existing
/// ancestor's position is returned.
pub fn locate(text: &str, doc: usize, path: &str) -> Option<(usize, usize)> {
    Locator::new(text, [(doc, path)]).key(doc, path)
}

/// Like [`locate`], plus the position of the value when the whole path was
/// found and its value starts on the key's line (`owner: nobody` → `nobody`).
pub fn locate_value(text: &str, doc: usize, path: &str) -> Option<(usize, usize)> {
    Locator::new(text, [(doc, path)]).value(doc, path)
}

/// A 1-based line and column.
type Position = (usize, usize);

/// The positions of a set of paths in one text, found in a single pass.
///
/// The paths asked for form a trie (one root per document); the pass keeps,
/// for each open collection, the trie nodes its path matches, so a node of
/// the text costs one lookup whatever the number of paths, and subtrees no
/// path goes into cost nothing. Each trie node remembers where its path
/// first occurs; answers are the deepest such node along the path asked.
pub struct Locator {
    nodes: Vec<TrieNode>,
    roots: HashMap<usize, usize>,
}

#[derive(Default)]
struct TrieNode {
    /// Children by key, as written in the path.
    keys: HashMap<String, usize>,
    /// Children whose segment is a number, by that number (for sequence items).
    items: HashMap<usize, Vec<usize>>,
    /// Where the path first occurs.
    at: Option<Position>,
    /// Where the value of that first occurrence starts, when it is a key's.
    value: Option<Position>,
}

impl Locator {
    /// Parses `text` once for every `(document, path)` in `wanted`.
    pub fn new<'a>(text: &str, wanted: impl IntoIterator<Item = (usize, &'a str)>) -> Locator {
        let mut locator = Locator {
            nodes: Vec::new(),
            roots: HashMap::new(),
        };
        for (doc, path) in wanted {
            let mut node = locator.root(doc);
            for segment in split_path(path) {
                node = locator.child(node, segment);
            }
        }
        // Positions count from the first character after a byte-order mark,
        // as the parser's do.
        let text = super::parse::strip_bom(text);
        // yaml-rust2's scanner is quadratic in nesting depth, like libyaml's.
        if !locator.roots.is_empty() && prescan::scan(text, u64::MAX).is_ok() {
            let mut pass = Pass {
                trie: &mut locator.nodes,
                roots: &locator.roots,
                doc_seen: None,
                root_pending: None,
                stack: Vec::new(),
                awaiting: Vec::new(),
            };
            // A syntax error ends the pass; what was found before it stands.
            let _ = Parser::new_from_str(text).load(&mut pass, true);
        }
        locator
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
        let mut node = *self.roots.get(&doc)?;
        let segments = split_path(path);
        if segments.is_empty() {
            return self.nodes[node].at.map(|at| (at, None));
        }
        let mut best = None;
        for (depth, segment) in segments.iter().enumerate() {
            let Some(at) = self.nodes[node].keys.get(*segment).and_then(|&child| {
                node = child;
                self.nodes[child].at
            }) else {
                break;
            };
            best = Some((at, None));
            if depth + 1 == segments.len() {
                let value = self.nodes[node].value.filter(|v| v.0 == at.0);
                best = Some((at, value));
            }
        }
        best
    }

    fn root(&mut self, doc: usize) -> usize {
        if let Some(&node) = self.roots.get(&doc) {
            return node;
        }
        self.nodes.push(TrieNode::default());
        self.roots.insert(doc, self.nodes.len() - 1);
        self.nodes.len() - 1
    }

    fn child(&mut self, node: usize, segment: &str) -> usize {
        if let Some(&child) = self.nodes[node].keys.get(segment) {
            return child;
        }
        self.nodes.push(TrieNode::default());
        let child = self.nodes.len() - 1;
        self.nodes[node].keys.insert(segment.to_string(), child);
        if let Ok(index) = segment.parse::<usize>() {
            self.nodes[node].items.entry(index).or_default().push(child);
        }
        child
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

/// An open collection, with the trie nodes its own path matches.
enum Frame {
    Map {
        /// Trie nodes of the mapping's path.
        nodes: Vec<usize>,
        /// Trie nodes of the current key's path (kept until the next key,
        /// like the key itself).
        key: Option<Vec<usize>>,
        expect_key: bool,
    },
    Seq {
        /// Trie nodes of the sequence's path.
        nodes: Vec<usize>,
        index: usize,
    },
}

/// The single walk over the events.
struct Pass<'t> {
    trie: &'t mut Vec<TrieNode>,
    roots: &'t HashMap<usize, usize>,
    doc_seen: Option<usize>,
    /// The current document's trie root, until its first key is seen.
    root_pending: Option<usize>,
    stack: Vec<Frame>,
    /// Trie nodes whose first key was just read: the next event is their value.
    awaiting: Vec<usize>,
}

impl Pass<'_> {
    /// Records the first occurrence of each of `nodes` at `mark`; with
    /// `key`, their values are the next event.
    fn record(&mut self, nodes: &[usize], mark: Marker, key: bool) {
        for &n in nodes {
            if self.trie[n].at.is_none() {
                self.trie[n].at = Some((mark.line(), mark.col() + 1));
                if key {
                    self.awaiting.push(n);
                }
            }
        }
    }

    /// Trie nodes of the value node that starts now, recorded when it is a
    /// sequence item (a mapping's values are located by their keys).
    fn on_value(&mut self, mark: Marker) -> Vec<usize> {
        let matched = match self.stack.last() {
            Some(Frame::Seq { nodes, index }) => nodes
                .iter()
                .filter_map(|&n| self.trie[n].items.get(index))
                .flatten()
                .copied()
                .collect(),
            Some(Frame::Map { key: Some(key), .. }) => key.clone(),
            Some(Frame::Map { key: None, .. }) => Vec::new(),
            None => self
                .doc_seen
                .and_then(|d| self.roots.get(&d))
                .map(|&root| vec![root])
                .unwrap_or_default(),
        };
        if let Some(Frame::Seq { .. }) = self.stack.last() {
            self.record(&matched, mark, false);
        }
        matched
    }

    /// After a value node ends: advance the parent.
    fn after_value(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { expect_key, .. }) => *expect_key = true,
            Some(Frame::Seq { index, .. }) => *index += 1,
            None => {}
        }
    }
}

impl MarkedEventReceiver for Pass<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if let Some(root) = self.root_pending {
            // A document is where its first key (or item) is, not its `---`
            // line; collection starts are skipped because yaml-rust2 marks a
            // block mapping where its first key ends.
            if matches!(
                ev,
                Event::Scalar(..) | Event::Alias(_) | Event::MappingEnd | Event::SequenceEnd
            ) {
                self.record(&[root], mark, false);
                self.root_pending = None;
            }
        }
        if !self.awaiting.is_empty() {
            if matches!(
                ev,
                Event::Scalar(..)
                    | Event::SequenceStart(..)
                    | Event::MappingStart(..)
                    | Event::Alias(_)
            ) {
                for n in std::mem::take(&mut self.awaiting) {
                    self.trie[n].value = Some((mark.line(), mark.col() + 1));
                }
            }
            self.awaiting.clear();
        }
        match ev {
            Event::DocumentStart => {
                let doc = self.doc_seen.map_or(0, |d| d + 1);
                self.doc_seen = Some(doc);
                self.root_pending = self.roots.get(&doc).copied();
            }
            Event::Scalar(value, ..) => {
                if let Some(Frame::Map {
                    nodes,
                    key,
                    expect_key: expect @ true,
                }) = self.stack.last_mut()
                {
                    let matched: Vec<usize> = nodes
                        .iter()
                        .filter_map(|&n| self.trie[n].keys.get(&value).copied())
                        .collect();
                    *key = Some(matched.clone());
                    *expect = false;
                    self.record(&matched, mark, true);
                    return;
                }
                self.on_value(mark);
                self.after_value();
            }
            Event::Alias(_) => {
                self.on_value(mark);
                self.after_value();
            }
            Event::MappingStart(..) => {
                // A mapping as a key (complex key) is not addressable by path.
                let nodes = self.on_value(mark);
                self.stack.push(Frame::Map {
                    nodes,
                    key: None,
                    expect_key: true,
                });
            }
            Event::SequenceStart(..) => {
                let nodes = self.on_value(mark);
                self.stack.push(Frame::Seq { nodes, index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.after_value();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
#[path = "locate_reference.rs"]
mod reference;

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts the one-pass answers equal the old per-path finder's.
    fn agrees_with_reference(text: &str, paths: &[(usize, &str)]) {
        let all = Locator::new(text, paths.iter().copied());
        for &(doc, path) in paths {
            let old = reference::locate_both(text, doc, path);
            let key = old.map(|(k, _)| k);
            let value = old.map(|(k, v)| v.unwrap_or(k));
            assert_eq!(all.key(doc, path), key, "key of {doc} {path:?}");
            assert_eq!(all.value(doc, path), value, "value of {doc} {path:?}");
        }
    }

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
        agrees_with_reference(text, &[(0, ""), (1, ""), (2, ""), (1, "0")]);
    }

    #[test]
    fn one_pass_answers_every_path_like_single_lookups() {
        let paths = [
            (0, "spec.owner"),
            (0, "spec.dependsOn.0"),
            (0, "spec.dependsOn.7"),
            (0, "metadata.tags.1"),
            (0, "metadata.annotations[github.com/project-slug]"),
            (0, "spec.lifecycle"),
            (0, "nothing.here"),
            (0, ""),
            (1, "spec.owner"),
            (1, "kind"),
            (2, "spec"),
        ];
        agrees_with_reference(TEXT, &paths);
        let all = Locator::new(TEXT, paths);
        assert_eq!(all.key(0, "spec.dependsOn.7"), Some((10, 3)));
        assert_eq!(all.key(0, "nothing.here"), None);
        assert_eq!(all.key(2, "spec"), None);
        // A path not asked for still finds its deepest asked-for ancestor.
        assert_eq!(all.key(0, "spec.owner.deeper"), Some((9, 3)));
    }

    #[test]
    fn too_deep_text_is_not_parsed() {
        let text = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let start = std::time::Instant::now();
        assert_eq!(locate(&text, 0, "a"), None);
        assert!(start.elapsed().as_secs() < 2);
    }

    #[test]
    fn agrees_with_the_per_path_finder_on_odd_shapes() {
        let text = "a: 1\n? [x, y]\n: v\nb:\n  - {c: 1, d: [e, f]}\n  - *z\n  - &z [g]\n01: h\nlist:\n- i\n- j: k\n  l: m\n---\n- 1\n- - 2\n  - 3\n---\n";
        let mut paths = Vec::new();
        for doc in 0..3 {
            for path in [
                "", "a", "a.0", "b", "b.0", "b.0.c", "b.0.d.1", "b.1", "b.2.0", "01", "1",
                "list.1.j", "list.1.l", "list.01", "0", "1.0", "1.1", "x", "a.b.c",
            ] {
                paths.push((doc, path));
            }
        }
        agrees_with_reference(text, &paths);
    }

    #[test]
    fn agrees_with_the_per_path_finder_on_the_example_catalog() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/acme");
        let mut checked = 0;
        for entry in ignore::Walk::new(root).flatten() {
            let path = entry.path();
            if !path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                continue;
            }
            let text = std::fs::read_to_string(path).unwrap();
            // Templates under examples/ are not YAML until rendered.
            let Ok(docs) = crate::catalog::parse::parse_str(&text) else {
                continue;
            };
            let mut paths = Vec::new();
            for doc in &docs {
                for field in [
                    "kind",
                    "metadata.name",
                    "metadata.tags.0",
                    "metadata.tags.3",
                    "metadata.annotations[github.com/project-slug]",
                    "spec.owner",
                    "spec.dependsOn.0",
                    "spec.lifecycle",
                    "spec.type",
                    "spec.missing",
                    "metadata.links.0.url",
                    "spec.profile.email",
                ] {
                    paths.push((doc.index, field));
                }
            }
            agrees_with_reference(&text, &paths);
            checked += 1;
        }
        assert!(checked > 5, "{checked}");
    }
}
