//! One pass over saphyr-parser's events: JSON values and key positions
//! together, under the budgets of [`Limits`].

use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Value};

use super::{resolve, Error, ErrorKind, Limits, Position};

/// One document of a stream.
#[derive(Debug, Clone)]
pub struct Document {
    /// The content (`Null` for an empty document).
    pub value: Value,
    /// Where the document is: its first key, item or scalar.
    pub root: Option<Position>,
    /// Where its keys and items are (empty when positions were not asked for).
    pub tree: Tree,
}

/// The positions of a node's children, as written (aliases are not
/// expanded: an alias is a leaf where it is written). Kept for every file a
/// run loads, so it is compact: exact-size slices, 32-bit positions.
#[derive(Debug, Clone, Default)]
pub enum Tree {
    /// A scalar, an alias, or a collection whose positions were not kept.
    #[default]
    Leaf,
    /// A sequence's items.
    Seq(Box<[Item]>),
    /// A mapping's entries with scalar keys, in order.
    Map(Box<[Entry]>),
}

/// A line and column, stored in 32 bits each (a file is at most 10 MB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At(u32, u32);

impl At {
    fn new((line, column): Position) -> At {
        At(
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }

    /// As a line and column.
    pub fn get(self) -> Position {
        (self.0 as usize, self.1 as usize)
    }
}

/// An item of a sequence.
#[derive(Debug, Clone)]
pub struct Item {
    /// Where the item starts.
    pub at: At,
    /// Its children.
    pub tree: Tree,
}

/// An entry of a mapping.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The key as written (before resolution: `01`, not `1`).
    pub key: Box<str>,
    /// Where the key is.
    pub at: At,
    /// Where the value starts.
    pub value: At,
    /// The value's children.
    pub tree: Tree,
}

impl Tree {
    /// The child at `segment`: a key of a mapping (the first entry with it),
    /// or an index of a sequence. Its position (the key's, or the item's), the
    /// value's position for a key, and its own tree.
    pub fn child(&self, segment: &str) -> Option<(Position, Option<Position>, &Tree)> {
        match self {
            Tree::Leaf => None,
            Tree::Map(entries) => entries
                .iter()
                .find(|e| &*e.key == segment)
                .map(|e| (e.at.get(), Some(e.value.get()), &e.tree)),
            Tree::Seq(items) => {
                let index: usize = segment.parse().ok()?;
                items.get(index).map(|i| (i.at.get(), None, &i.tree))
            }
        }
    }
}

/// Parses every document of `text` (without a byte-order mark) once: values,
/// and with `positions` the tree of where keys and items are.
pub fn load(text: &str, limits: &Limits, positions: bool) -> Result<Vec<Document>, Error> {
    // saphyr-parser is fuzzed and meant not to panic; should it, the file is
    // refused like any other bad text instead of ending the run.
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut builder = Builder::new(limits, positions);
        let mut parser = Parser::new_from_str(text);
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(scan_error)?;
            if builder.event(event, span)? {
                break;
            }
        }
        // An empty stream is one empty document, as serde_yaml read it.
        if builder.docs.is_empty() {
            builder.docs.push(Document {
                value: Value::Null,
                root: None,
                tree: Tree::Leaf,
            });
        }
        Ok(builder.docs)
    }));
    run.unwrap_or_else(|_| {
        Err(Error::syntax(
            "the YAML parser failed on this text (a bug; please report it)",
            (1, 1),
        ))
    })
}

/// Depth and nodes of a text, aliases expanded, with no budget (for tests of
/// the pre-scan); `None` when it does not parse.
#[cfg(test)]
pub fn measure(text: &str) -> Option<(usize, u64)> {
    let limits = Limits {
        max_nodes: u64::MAX,
        max_bytes: u64::MAX,
        max_depth: usize::MAX,
    };
    let mut builder = Builder::new(&limits, false);
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.ok()?;
        if builder.event(event, span).ok()? {
            break;
        }
    }
    Some((builder.deepest, builder.total.nodes))
}

fn scan_error(e: ScanError) -> Error {
    let m = e.marker();
    Error::syntax(e.info().to_string(), (m.line().max(1), m.col() + 1))
}

fn pos(m: Marker) -> Position {
    (m.line(), m.col() + 1)
}

/// Nodes and bytes of text.
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    nodes: u64,
    bytes: u64,
}

/// What an anchor names: its value, size and height (levels of collections).
struct Anchored {
    value: Value,
    /// Alias expansions inside it (expanded too).
    jumps: u64,
    size: Size,
    height: usize,
}

/// An open collection.
struct Frame {
    kind: FrameKind,
    /// Where it starts.
    at: Position,
    anchor: usize,
    /// The running totals when it started.
    start: Size,
    start_jumps: u64,
    /// Height of its highest child.
    height: usize,
}

enum FrameKind {
    Seq {
        items: Vec<Value>,
        tree: Vec<Item>,
    },
    Map {
        map: Map<String, Value>,
        tree: Vec<Entry>,
        /// The key read, waiting for its value: as JSON text, as written
        /// (when a scalar), and where.
        key: Option<(String, Option<Box<str>>, Position)>,
    },
}

/// A finished node, on its way into its parent.
struct Node {
    value: Value,
    tree: Tree,
    at: Position,
    height: usize,
    /// The key text as written, for a scalar.
    raw: Option<Box<str>>,
}

struct Builder<'l> {
    limits: &'l Limits,
    positions: bool,
    docs: Vec<Document>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    total: Size,
    /// The current document: its value once complete, and its position.
    value: Option<Node>,
    root: Option<Position>,
    in_document: bool,
    /// The deepest nesting met, aliases expanded.
    deepest: usize,
    /// Events of the current document, and alias expansions in it (each
    /// alias counts itself and every alias inside what it names).
    events: u64,
    jumps: u64,
}

/// Alias expansions refused beyond this many per event of the document so
/// far: serde_yaml's repetition limit, which gave alias bombs their message.
const JUMPS_PER_EVENT: u64 = 100;

impl<'l> Builder<'l> {
    fn new(limits: &'l Limits, positions: bool) -> Self {
        Builder {
            limits,
            positions,
            docs: Vec::new(),
            stack: Vec::new(),
            anchors: HashMap::new(),
            total: Size::default(),
            value: None,
            root: None,
            in_document: false,
            deepest: 0,
            events: 0,
            jumps: 0,
        }
    }

    /// Charges `size` at `at`; `Err` once a budget is passed.
    fn charge(&mut self, size: Size, at: Position) -> Result<(), Error> {
        self.total.nodes = self.total.nodes.saturating_add(size.nodes);
        self.total.bytes = self.total.bytes.saturating_add(size.bytes);
        let kind = if self.total.nodes > self.limits.max_nodes {
            ErrorKind::TooManyNodes
        } else if self.total.bytes > self.limits.max_bytes {
            ErrorKind::TooMuchText
        } else {
            return Ok(());
        };
        Err(Error {
            kind,
            line: at.0,
            column: at.1,
        })
    }

    fn too_deep(at: Position) -> Error {
        Error {
            kind: ErrorKind::TooDeep,
            line: at.0,
            column: at.1,
        }
    }

    /// Takes one event; `Ok(true)` at the end of the stream.
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<bool, Error> {
        let at = pos(span.start);
        self.events += 1;
        if self.in_document
            && self.root.is_none()
            && matches!(
                event,
                Event::Scalar(..) | Event::Alias(_) | Event::MappingEnd | Event::SequenceEnd
            )
        {
            // A document is where its first key or item is (not its `---`).
            self.root = Some(at);
        }
        match event {
            Event::StreamEnd => return Ok(true),
            Event::DocumentStart(_) => {
                self.in_document = true;
                self.root = None;
                self.value = None;
                self.anchors.clear();
                self.events = 1;
                self.jumps = 0;
            }
            Event::DocumentEnd => {
                self.in_document = false;
                let (value, tree) = self
                    .value
                    .take()
                    .map(|n| (n.value, n.tree))
                    .unwrap_or_default();
                self.docs.push(Document {
                    value,
                    root: self.root,
                    tree,
                });
            }
            Event::Scalar(text, style, anchor, tag) => {
                let size = Size {
                    nodes: 1,
                    bytes: text.len() as u64,
                };
                self.charge(size, at)?;
                let value =
                    scalar(&text, style, tag.as_deref()).map_err(|m| Error::syntax(m, at))?;
                let raw = (self.positions && self.expects_key()).then(|| Box::from(&*text));
                if anchor != 0 {
                    self.anchors.insert(
                        anchor,
                        Anchored {
                            value: value.clone(),
                            jumps: 0,
                            size,
                            height: 0,
                        },
                    );
                }
                self.finish(Node {
                    value,
                    tree: Tree::Leaf,
                    at,
                    height: 0,
                    raw,
                })?;
            }
            Event::Alias(anchor) => {
                let Some(named) = self.anchors.get(&anchor) else {
                    return Err(Error::syntax("unknown anchor", at));
                };
                let (size, height) = (named.size, named.height);
                self.jumps = self.jumps.saturating_add(1 + named.jumps);
                if self.jumps > JUMPS_PER_EVENT.saturating_mul(self.events) {
                    return Err(Error::syntax(
                        "too many alias expansions (a YAML alias bomb?); refused",
                        at,
                    ));
                }
                self.deepest = self.deepest.max(self.stack.len() + height);
                if self.stack.len() + height > self.limits.max_depth {
                    return Err(Self::too_deep(at));
                }
                self.charge(size, at)?;
                let named = &self.anchors[&anchor];
                let node = Node {
                    value: named.value.clone(),
                    tree: Tree::Leaf,
                    at,
                    height,
                    raw: None,
                };
                self.finish(node)?;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                self.deepest = self.deepest.max(self.stack.len() + 1);
                if self.stack.len() >= self.limits.max_depth {
                    return Err(Self::too_deep(at));
                }
                self.charge(Size { nodes: 1, bytes: 0 }, at)?;
                let kind = if matches!(event, Event::SequenceStart(..)) {
                    FrameKind::Seq {
                        items: Vec::new(),
                        tree: Vec::new(),
                    }
                } else {
                    FrameKind::Map {
                        map: Map::new(),
                        tree: Vec::new(),
                        key: None,
                    }
                };
                self.stack.push(Frame {
                    kind,
                    at,
                    anchor,
                    start: Size {
                        nodes: self.total.nodes - 1,
                        bytes: self.total.bytes,
                    },
                    start_jumps: self.jumps,
                    height: 0,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(false);
                };
                let (value, tree) = match frame.kind {
                    FrameKind::Seq { items, tree } => {
                        (Value::Array(items), Tree::Seq(tree.into_boxed_slice()))
                    }
                    FrameKind::Map { map, tree, .. } => {
                        (Value::Object(map), Tree::Map(tree.into_boxed_slice()))
                    }
                };
                let tree = if self.positions { tree } else { Tree::Leaf };
                let height = frame.height + 1;
                if frame.anchor != 0 {
                    let size = Size {
                        nodes: self.total.nodes - frame.start.nodes,
                        bytes: self.total.bytes - frame.start.bytes,
                    };
                    self.anchors.insert(
                        frame.anchor,
                        Anchored {
                            value: value.clone(),
                            jumps: self.jumps - frame.start_jumps,
                            size,
                            height,
                        },
                    );
                }
                self.finish(Node {
                    value,
                    tree,
                    at: frame.at,
                    height,
                    raw: None,
                })?;
            }
            Event::StreamStart | Event::Nothing => {}
        }
        Ok(false)
    }

    fn expects_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                kind: FrameKind::Map { key: None, .. },
                ..
            })
        )
    }

    /// Puts a finished node into its parent (or makes it the document).
    fn finish(&mut self, node: Node) -> Result<(), Error> {
        let positions = self.positions;
        let Some(parent) = self.stack.last_mut() else {
            self.value = Some(node);
            return Ok(());
        };
        parent.height = parent.height.max(node.height);
        match &mut parent.kind {
            FrameKind::Seq { items, tree } => {
                items.push(node.value);
                if positions {
                    tree.push(Item {
                        at: At::new(node.at),
                        tree: node.tree,
                    });
                }
            }
            FrameKind::Map { map, tree, key } => match key.take() {
                None => {
                    let text = match node.value {
                        Value::String(s) => s,
                        Value::Null => "null".into(),
                        other => other.to_string(),
                    };
                    if map.contains_key(&text) {
                        return Err(Error::syntax(
                            format!("duplicate entry with key \"{text}\""),
                            node.at,
                        ));
                    }
                    *key = Some((text, node.raw, node.at));
                }
                Some((text, raw, at)) => {
                    map.insert(text, node.value);
                    if let Some(raw) = raw {
                        tree.push(Entry {
                            key: raw,
                            at: At::new(at),
                            value: At::new(node.at),
                            tree: node.tree,
                        });
                    }
                }
            },
        }
        Ok(())
    }
}

/// A scalar's value: by its tag when it has a core one, else plain scalars
/// resolve (see [`resolve`]) and quoted or block ones are strings.
fn scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    let Some(tag) = tag else {
        return if style == ScalarStyle::Plain {
            resolve::plain(text)
        } else {
            Ok(Value::String(text.to_string()))
        };
    };
    let invalid = |what: &str| format!("invalid value: string {text:?}, expected {what}");
    if tag.is_yaml_core_schema() {
        return match tag.suffix.as_str() {
            "bool" => resolve::boolean(text)
                .map(Value::Bool)
                .ok_or_else(|| invalid("a boolean")),
            "int" => resolve::int(text)?.ok_or_else(|| invalid("an integer")),
            "float" => resolve::float(text)
                .map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number))
                .ok_or_else(|| invalid("a float")),
            "null" => resolve::null(text)
                .then_some(Value::Null)
                .ok_or_else(|| invalid("null")),
            _ => Ok(Value::String(text.to_string())),
        };
    }
    // A local tag (`!Ref x`): the value as if untagged.
    if tag.handle.starts_with('!') && style == ScalarStyle::Plain {
        return resolve::plain(text);
    }
    Ok(Value::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(text: &str) -> Vec<Value> {
        load(text, &Limits::DEFAULT, true)
            .unwrap()
            .into_iter()
            .map(|d| d.value)
            .collect()
    }

    #[test]
    fn documents_values_and_tags() {
        assert_eq!(
            values("a: yes\nb: 0755\nc: ~\nd: !Ref 12\ne: !!str 12\nf: '1'\n---\n---\n- x\n"),
            vec![
                json!({"a": "yes", "b": "0755", "c": null, "d": 12, "e": "12", "f": "1"}),
                json!(null),
                json!(["x"])
            ]
        );
        assert_eq!(values(""), vec![json!(null)]);
        assert_eq!(values("# only a comment\n"), vec![json!(null)]);
    }

    #[test]
    fn aliases_expand_and_merge_keys_stay_keys() {
        assert_eq!(
            values("a: &x {k: 1}\nb: *x\nc:\n  <<: *x\n"),
            vec![json!({"a": {"k": 1}, "b": {"k": 1}, "c": {"<<": {"k": 1}}})]
        );
    }

    #[test]
    fn positions_of_keys_items_and_values() {
        let docs = load(
            "a:\n  b: [x, y]\n  c:\n    - d: 1\n",
            &Limits::DEFAULT,
            true,
        )
        .unwrap();
        let tree = &docs[0].tree;
        let (a, _, a_tree) = tree.child("a").unwrap();
        assert_eq!(a, (1, 1));
        let (b, b_value, b_tree) = a_tree.child("b").unwrap();
        assert_eq!((b, b_value), ((2, 3), Some((2, 6))));
        assert_eq!(b_tree.child("1").unwrap().0, (2, 10));
        let (_, _, c_tree) = a_tree.child("c").unwrap();
        let (item, _, item_tree) = c_tree.child("0").unwrap();
        assert_eq!(item.0, 4);
        assert_eq!(item_tree.child("d").unwrap().0, (4, 7));
        assert_eq!(docs[0].root, Some((1, 1)));
    }

    #[test]
    fn duplicate_keys_point_at_the_second() {
        let e = load("a: 1\nb: {x: 1, x: 2}\n", &Limits::DEFAULT, false).unwrap_err();
        assert_eq!(
            (e.kind, e.line, e.column),
            (
                ErrorKind::Syntax("duplicate entry with key \"x\"".into()),
                2,
                11
            )
        );
    }

    #[test]
    fn alias_depth_counts_what_it_names() {
        let limits = Limits {
            max_depth: 3,
            ..Limits::DEFAULT
        };
        assert!(load("a: &a [[1]]\nb: *a\n", &limits, false).is_ok());
        let e = load("a: &a [[1]]\nb: [*a]\n", &limits, false).unwrap_err();
        assert_eq!((e.kind, e.line, e.column), (ErrorKind::TooDeep, 2, 5));
    }
}
