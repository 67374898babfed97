//! YAML text to descriptor documents: size limit, UTF-8 check, multi-document
//! splitting with the line each document starts on, and conversion to JSON
//! values. [`crate::yaml`] does the parsing, in one pass that also records
//! where every key and item is (so problems are located without parsing the
//! file again); duplicate keys are rejected.
//!
//! Untrusted text runs under budgets, each refused with its position: nesting
//! depth and the nodes written out are checked by a linear pre-scan
//! ([`prescan`](super::prescan)) before the parser runs; the nodes and text
//! that aliases expand to are counted while the values are built, so a few
//! kilobytes of `*a, *a, …` stop at [`MAX_NODES`], at the alias that passes
//! it, instead of growing to gigabytes.

use serde_json::Value;

use super::prescan::{self, Limit, MAX_DEPTH};
use crate::yaml::{self, ErrorKind, Limits, Tree};

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
    /// Where the document's first key or item is (1-based line, column).
    pub root: Option<(usize, usize)>,
    /// Where its keys and items are, from the same parse as `value`.
    pub tree: Tree,
}

/// The budgets of one file.
const LIMITS: Limits = Limits {
    max_nodes: MAX_NODES,
    max_bytes: MAX_EXPANDED_BYTES,
    max_depth: MAX_DEPTH,
};

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
    /// The parser rejected the text.
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
    parse_file_with(bytes, true)
}

/// [`parse_file`]; without `positions` the documents' position trees are
/// left empty (a load that never locates a problem).
pub fn parse_file_with(bytes: &[u8], positions: bool) -> Result<Vec<Document>, ParseError> {
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
    parse_str_with(text, positions)
}

/// Parses every document of a YAML stream.
pub fn parse_str(text: &str) -> Result<Vec<Document>, ParseError> {
    parse_str_with(text, true)
}

fn parse_str_with(text: &str, positions: bool) -> Result<Vec<Document>, ParseError> {
    let text = strip_bom(text);
    // Before the parser: its scanner (like libyaml's) is quadratic in
    // flow nesting.
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
    let docs = yaml::load(text, &LIMITS, positions).map_err(|e| {
        let (line, column) = (e.line, e.column);
        match e.kind {
            ErrorKind::Syntax(message) => ParseError::Yaml {
                line,
                column,
                message,
            },
            ErrorKind::TooDeep => ParseError::TooDeep {
                line,
                column,
                limit: MAX_DEPTH,
            },
            ErrorKind::TooManyNodes => ParseError::TooManyNodes {
                line,
                column,
                limit: MAX_NODES,
            },
            ErrorKind::TooMuchText => ParseError::TooMuchText {
                line,
                column,
                limit: MAX_EXPANDED_BYTES,
            },
        }
    })?;
    Ok(docs
        .into_iter()
        .enumerate()
        .map(|(index, d)| Document {
            index,
            line: starts.get(index).copied().unwrap_or(1),
            value: d.value,
            root: d.root,
            tree: d.tree,
        })
        .collect())
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

/// The first content line of each document, in the order the parser yields them.
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
    fn nesting_is_refused_past_the_depth_limit_and_not_before() {
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
        // Indentless sequences escape the pre-scan; the parser's own depth
        // budget gives the same refusal.
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
