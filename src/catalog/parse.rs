//! YAML text to descriptor documents: size limit, UTF-8 check, multi-document
//! splitting with the line each document starts on, and conversion to JSON
//! values. serde_yaml (libyaml) does the parsing; duplicate keys are rejected.
//!
//! Untrusted text runs under budgets, each refused with its position: nesting
//! depth and the nodes written out are checked by a linear pre-scan
//! ([`prescan`](super::prescan)) before libyaml runs; the nodes and text that
//! aliases expand to are counted while converting, so a few kilobytes of
//! `*a, *a, …` stop at [`MAX_NODES`] instead of growing to gigabytes.

use std::cell::Cell;

use serde_json::{Map, Number, Value};

use super::prescan::{self, Limit, MAX_DEPTH};

/// Files larger than this are refused: descriptors are small, and a huge file
/// in the catalog is a mistake that would otherwise stall every command.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Most nodes (scalars, sequences, mappings, keys; each alias counted as
/// everything it names) one file may produce. Descriptor files have
/// hundreds; a big catalog file of many documents, tens of thousands.
pub const MAX_NODES: u64 = 1_000_000;

/// Most bytes of string text one file may expand to, aliases included. A
/// file without aliases cannot come near it (it is over [`MAX_FILE_BYTES`]);
/// it stops `*big, *big, …` of one long string, which the node budget alone
/// would let grow to gigabytes.
pub const MAX_EXPANDED_BYTES: u64 = 4 * MAX_FILE_BYTES;

/// One YAML document of a file.
#[derive(Debug, Clone)]
pub struct Document {
    /// Index within the file (0-based, counting empty documents too).
    pub index: usize,
    /// Line where the document's content starts (1-based).
    pub line: usize,
    /// The content; `Null` for an empty document.
    pub value: Value,
}

/// Why a file could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Over [`MAX_FILE_BYTES`].
    #[error("file is {size} bytes, over the {limit}-byte limit for descriptor files")]
    TooLarge {
        /// Actual size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Not valid UTF-8.
    #[error("file is not valid UTF-8 (invalid byte at line {line}, column {column})")]
    NotUtf8 {
        /// 1-based line of the first bad byte.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// Collections nest deeper than [`MAX_DEPTH`].
    #[error("nesting deeper than {limit} levels; refused")]
    TooDeep {
        /// 1-based line of the collection one level too deep.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The limit.
        limit: usize,
    },
    /// More than [`MAX_NODES`] nodes, aliases expanded.
    #[error("YAML expands to more than {limit} nodes (aliases included); refused")]
    TooManyNodes {
        /// 1-based line of the node (usually an alias) that passes the budget.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The limit.
        limit: u64,
    },
    /// More than [`MAX_EXPANDED_BYTES`] of string text, aliases expanded.
    #[error("YAML expands to more than {limit} bytes of text (aliases included); refused")]
    TooMuchText {
        /// 1-based line of the node (usually an alias) that passes the budget.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The limit.
        limit: u64,
    },
    /// libyaml or serde_yaml rejected the text.
    #[error("{message}")]
    Yaml {
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// The parser's message without its own location suffix.
        message: String,
    },
}

impl ParseError {
    /// Line and column of the problem (1-based; `(1, 1)` when unknown).
    pub fn position(&self) -> (usize, usize) {
        match self {
            ParseError::TooLarge { .. } => (1, 1),
            ParseError::NotUtf8 { line, column } => (*line, *column),
            ParseError::Yaml { line, column, .. }
            | ParseError::TooDeep { line, column, .. }
            | ParseError::TooManyNodes { line, column, .. }
            | ParseError::TooMuchText { line, column, .. } => ((*line).max(1), (*column).max(1)),
        }
    }

    /// Whether a budget refused the text (it may be valid YAML).
    pub fn is_budget(&self) -> bool {
        matches!(
            self,
            ParseError::TooDeep { .. }
                | ParseError::TooManyNodes { .. }
                | ParseError::TooMuchText { .. }
        )
    }
}

/// The UTF-8 byte-order mark some Windows editors write at the start of a file.
const BOM: &str = "\u{feff}";

/// `text` without a leading byte-order mark. Backstage reads such files;
/// positions count from the first character after the mark.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix(BOM).unwrap_or(text)
}

/// Checks size and encoding, then parses every document.
pub fn parse_file(bytes: &[u8]) -> Result<Vec<Document>, ParseError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ParseError::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    // Stripped before the UTF-8 check so its positions count after the mark too.
    let bytes = bytes.strip_prefix(BOM.as_bytes()).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_col(bytes, e.valid_up_to());
        ParseError::NotUtf8 { line, column }
    })?;
    parse_str(text)
}

/// Parses every document of a YAML stream.
pub fn parse_str(text: &str) -> Result<Vec<Document>, ParseError> {
    let text = strip_bom(text);
    // Before libyaml: its scanner is quadratic in nesting, and it holds a
    // document's events in memory before they are converted.
    prescan::scan(text, MAX_NODES).map_err(|r| match r.limit {
        Limit::Depth => ParseError::TooDeep {
            line: r.line,
            column: r.column,
            limit: MAX_DEPTH,
        },
        Limit::Nodes => ParseError::TooManyNodes {
            line: r.line,
            column: r.column,
            limit: MAX_NODES,
        },
    })?;
    let starts = document_lines(text);
    let mut docs = Vec::new();
    let _budget = Budget::start();
    for (index, de) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let Json(value) = serde::Deserialize::deserialize(de).map_err(|e| yaml_error(e, text))?;
        docs.push(Document {
            index,
            line: starts.get(index).copied().unwrap_or(1),
            value,
        });
    }
    Ok(docs)
}

fn yaml_error(e: serde_yaml::Error, text: &str) -> ParseError {
    let (mut line, mut column) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    if let Some(over) = Budget::overrun() {
        // serde_yaml reports where inside the aliased content the count ran
        // out; the alias that expanded it is what the user must look at.
        let (max_nodes, max_bytes) = match over {
            Over::Nodes => (MAX_NODES, u64::MAX),
            Over::Bytes => (u64::MAX, MAX_EXPANDED_BYTES),
        };
        let (line, column) =
            super::expansion::overrun(text, max_nodes, max_bytes).unwrap_or((line, column));
        return match over {
            Over::Nodes => ParseError::TooManyNodes {
                line,
                column,
                limit: MAX_NODES,
            },
            Over::Bytes => ParseError::TooMuchText {
                line,
                column,
                limit: MAX_EXPANDED_BYTES,
            },
        };
    }
    let mut message = e.to_string();
    // serde_yaml appends " at line X column Y"; we print the position ourselves.
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    if message.contains("repetition limit exceeded") {
        message = "too many alias expansions (a YAML alias bomb?); refused".into();
    } else if message.contains("recursion limit exceeded") {
        // The pre-scan misses indentless sequences; same refusal either way.
        return ParseError::TooDeep {
            line,
            column,
            limit: MAX_DEPTH,
        };
    }
    // serde_yaml points a duplicate key at the start of its mapping; point at
    // the second occurrence instead, which is what the user must fix.
    let duplicate = message
        .find("duplicate entry with key \"")
        .map(|i| &message[i + "duplicate entry with key \"".len()..])
        .and_then(|k| k.strip_suffix('"'))
        .map(str::to_string);
    if let Some(key) = duplicate.as_deref() {
        if let Some((l, c)) = second_key(text, line, column, key) {
            (line, column) = (l, c);
        }
    }
    ParseError::Yaml {
        line,
        column,
        message,
    }
}

/// The second line at or after `line` where `key:` starts at `column`.
fn second_key(text: &str, line: usize, column: usize, key: &str) -> Option<(usize, usize)> {
    let indent = column.saturating_sub(1);
    text.lines()
        .enumerate()
        .skip(line.saturating_sub(1))
        .filter(|(_, l)| {
            l.len() > indent
                && l[..indent].trim().is_empty()
                && l[indent..]
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .nth(1)
        .map(|(i, _)| (i + 1, column))
}

/// 1-based line and column of a byte offset.
pub fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, offset - line_start + 1)
}

/// The first content line of each document, in the order libyaml yields them.
/// A `---` marker starts a document; text before the first marker is a document
/// only if it has content (comments alone are not).
fn document_lines(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut pending: Option<usize> = None; // marker line of the current explicit doc
    let mut current_has_content = false;
    let mut first_implicit: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let is_marker =
            line.starts_with("---") && line[3..].chars().next().is_none_or(|c| c.is_whitespace());
        if is_marker {
            if let Some(start) = pending.take() {
                if !current_has_content {
                    starts.push(start);
                }
            } else if let Some(start) = first_implicit.take() {
                starts.push(start);
            }
            pending = Some(n);
            current_has_content = false;
            // Content on the marker line itself (`--- {a: 1}`).
            if !line[3..].trim().is_empty() && !line[3..].trim_start().starts_with('#') {
                starts.push(n);
                current_has_content = true;
            }
            continue;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('%') {
            continue;
        }
        if line == "..." {
            continue;
        }
        if pending.is_some() && !current_has_content {
            starts.push(n);
            current_has_content = true;
        } else if pending.is_none() && first_implicit.is_none() && starts.is_empty() {
            first_implicit = Some(n);
        }
    }
    if let Some(start) = pending {
        if !current_has_content {
            starts.push(start);
        }
    } else if let Some(start) = first_implicit {
        starts.push(start);
    }
    starts
}

/// Which expansion budget a conversion ran out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Over {
    Nodes,
    Bytes,
}

/// What the current file's conversion has spent.
#[derive(Debug, Default, Clone, Copy)]
struct Spent {
    nodes: u64,
    bytes: u64,
    over: Option<Over>,
}

thread_local! {
    /// Per thread: a file is converted on one thread from start to end, and
    /// files are converted on many threads at once.
    static SPENT: Cell<Spent> = Cell::new(Spent::default());
}

/// The expansion budgets of one file's conversion; starts from zero and
/// resets when dropped, so the next file on this thread starts fresh.
struct Budget;

impl Budget {
    fn start() -> Budget {
        SPENT.set(Spent::default());
        Budget
    }

    /// Counts `nodes` and `bytes`; `Err` once either budget is passed (and
    /// from then on, so the conversion unwinds).
    fn charge<E: serde::de::Error>(nodes: u64, bytes: u64) -> Result<(), E> {
        let mut spent = SPENT.get();
        spent.nodes += nodes;
        spent.bytes += bytes;
        if spent.over.is_none() {
            if spent.nodes > MAX_NODES {
                spent.over = Some(Over::Nodes);
            } else if spent.bytes > MAX_EXPANDED_BYTES {
                spent.over = Some(Over::Bytes);
            }
        }
        SPENT.set(spent);
        match spent.over {
            None => Ok(()),
            Some(_) => Err(E::custom("expansion budget exceeded")),
        }
    }

    /// The budget the current conversion ran out of, if any.
    fn overrun() -> Option<Over> {
        SPENT.get().over
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        SPENT.set(Spent::default());
    }
}

/// A JSON value deserialized straight from YAML events, without serde_yaml's
/// own `Value` in between (half the allocations on the load path). Like
/// serde_yaml's `Mapping`, it rejects duplicate keys; non-string keys become
/// strings, tags are dropped, and non-finite floats become null. Every node
/// and string is charged to the file's [`Budget`].
struct Json(Value);

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Budget::charge::<D::Error>(1, 0)?;
        d.deserialize_any(JsonVisitor).map(Json)
    }
}

/// A mapping key: any scalar, as text.
struct Key(String);

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Json(v) = <Json as serde::Deserialize>::deserialize(d)?;
        Ok(Key(match v {
            Value::String(s) => s,
            Value::Null => "null".into(),
            other => other.to_string(),
        }))
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        Budget::charge::<E>(0, v.len() as u64)?;
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
        Budget::charge::<E>(0, v.len() as u64)?;
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        <Json as serde::Deserialize>::deserialize(d).map(|j| j.0)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(Json(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(Key(key)) = map.next_key()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "duplicate entry with key \"{key}\""
                )));
            }
            let Json(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        // A tagged value (`!Tag value`): keep the value, drop the tag.
        use serde::de::VariantAccess;
        let (_tag, variant) = data.variant::<Key>()?;
        variant.newtype_variant::<Json>().map(|j| j.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_lines() {
        let text = "# header\n---\napiVersion: v1\nkind: A\n---\n# c\nkind: B\n";
        let docs = parse_str(text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].line, 3);
        assert_eq!(docs[1].line, 7);
    }

    #[test]
    fn implicit_first_document() {
        let docs = parse_str("kind: A\n---\nkind: B\n").unwrap();
        assert_eq!((docs[0].line, docs[1].line), (1, 3));
    }

    #[test]
    fn empty_documents_are_null() {
        let docs = parse_str("---\n---\nkind: B\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert!(docs[0].value.is_null());
        assert_eq!(docs[1].line, 3);
    }

    #[test]
    fn duplicate_keys_are_rejected_with_position() {
        let err = parse_str("a: 1\nb: 2\na: 3\n").unwrap_err();
        match err {
            ParseError::Yaml {
                line,
                column,
                message,
            } => {
                assert!(message.contains("duplicate"), "{message}");
                assert_eq!((line, column), (3, 1));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let start = std::time::Instant::now();
        assert!(parse_str(&text).is_err());
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn a_byte_order_mark_is_not_content() {
        let docs = parse_file(b"\xef\xbb\xbfkind: A\n---\nkind: B\n").unwrap();
        assert_eq!(docs[0].value["kind"], "A");
        assert_eq!((docs[0].line, docs[1].line), (1, 3));
        let err = parse_file(b"\xef\xbb\xbfa: [\n").unwrap_err();
        assert_eq!(err.position().0, 2, "{err:?}");
        let err = parse_file(b"\xef\xbb\xbfab\xff\n").unwrap_err();
        assert_eq!(err, ParseError::NotUtf8 { line: 1, column: 3 });
    }

    #[test]
    fn non_utf8_position() {
        let err = parse_file(b"a: 1\nb: \xff\n").unwrap_err();
        assert_eq!(err, ParseError::NotUtf8 { line: 2, column: 4 });
    }

    /// `a: &a [n items]` and `b: [*a × m]`.
    fn amplified(n: usize, m: usize) -> String {
        format!(
            "a: &a [{}]\nb: [{}]\n",
            vec!["1"; n].join(", "),
            vec!["*a"; m].join(", ")
        )
    }

    #[test]
    fn alias_expansion_past_the_node_budget_is_refused_at_the_alias() {
        let text = amplified(1000, 1001);
        match parse_str(&text).unwrap_err() {
            ParseError::TooManyNodes {
                line,
                column,
                limit,
            } => {
                assert_eq!((line, limit), (2, MAX_NODES));
                assert_eq!(&text.lines().nth(1).unwrap()[column - 1..column + 1], "*a");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_budget_starts_afresh_for_each_file() {
        // 600,000 nodes each: two files pass where one of twice the size would not.
        let text = amplified(600, 1000);
        assert!(parse_str(&text).is_ok());
        assert!(parse_str(&text).is_ok());
    }

    #[test]
    fn nesting_is_refused_past_serde_yamls_own_limit_and_not_before() {
        let ok = format!("{}{}\n", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_str(&ok).is_ok());
        let deep = format!(
            "{}{}\n",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(
            parse_str(&deep).unwrap_err(),
            ParseError::TooDeep {
                line: 1,
                column: MAX_DEPTH + 1,
                limit: MAX_DEPTH
            }
        );
        // Indentless sequences escape the pre-scan; serde_yaml's limit gives
        // the same refusal.
        let mut indentless = String::new();
        for i in 0..70 {
            indentless.push_str(&format!("{}k:\n{}- ", " ".repeat(2 * i), " ".repeat(2 * i)));
            indentless.push('\n');
        }
        let err = parse_str(&indentless).unwrap_err();
        assert!(matches!(err, ParseError::TooDeep { .. }), "{err:?}");
        assert_eq!(err.to_string(), "nesting deeper than 128 levels; refused");
    }
}
