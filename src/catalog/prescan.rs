//! A linear pre-scan of YAML text, run before the parser
//! ([`crate::yaml`], saphyr-parser) sees it: how deeply its collections nest,
//! and how many nodes it writes out.
//!
//! The parser's scanner (like libyaml's, which it descends from) keeps one
//! "possible simple key" per open flow collection and walks that list on
//! every token, so `[[[[…]]]]` 100,000 levels deep costs quadratic time
//! before the depth budget, which applies to the events, can refuse it. The
//! node budget is met here too, before any value is built; aliases are
//! counted later, by the loader.
//!
//! The scan follows just the parts of the grammar that decide nesting, the way
//! libyaml tokenizes them — flow brackets, the block indentation stack, quoted,
//! plain and block scalars, comments — and stops at the first collection that
//! opens deeper than [`MAX_DEPTH`], or the first node past the budget. It
//! counts no more levels or nodes than libyaml would produce for valid YAML
//! (it misses indentless sequences and some implicit nulls, which only makes it
//! more lenient), so it refuses nothing the parser would accept; where it
//! miscounts, the text is invalid and libyaml stops at the error early anyway.

/// Deepest nesting accepted (serde_yaml's recursion limit, which catalogs
/// were written against); the loader's depth budget is the same.
pub const MAX_DEPTH: usize = 128;

/// Which limit a text passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Nesting deeper than [`MAX_DEPTH`].
    Depth,
    /// More nodes than the budget given to [`scan`].
    Nodes,
}

/// Where a text first passes a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The limit.
    pub limit: Limit,
    /// 1-based line of the node or collection that passes it.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
}

/// Scans `text` once; `Err` at the first collection nested deeper than
/// [`MAX_DEPTH`] or the first node past `max_nodes`.
pub fn scan(text: &str, max_nodes: u64) -> Result<(), Refusal> {
    scan_with(text, MAX_DEPTH, max_nodes)
}

fn scan_with(text: &str, max_depth: usize, max_nodes: u64) -> Result<(), Refusal> {
    let mut scan = Scan {
        max_depth,
        max_nodes,
        ..Scan::default()
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, line) in text.split('\n').enumerate() {
        scan.line(line.as_bytes()).map_err(|(limit, at)| Refusal {
            limit,
            line: index + 1,
            column: line.get(..at).map_or(at, |s| s.chars().count()) + 1,
        })?;
    }
    Ok(())
}

/// A limit passed at a byte offset of the current line.
type Stop = (Limit, usize);

/// What the previous line left open.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Carry {
    #[default]
    Nothing,
    /// Inside a `'…'` scalar.
    Single,
    /// Inside a `"…"` scalar.
    Double,
    /// A plain scalar in block context, which may go on on a deeper line.
    Plain,
    /// A `|`/`>` scalar: lines indented at least `indent` (once known) are text.
    Block {
        /// Content indentation, when explicit or once the first line set it.
        indent: Option<usize>,
        /// The least indentation content may have.
        min: usize,
        /// Most spaces seen on leading empty lines (libyaml counts them).
        leading: usize,
    },
}

#[derive(Default)]
struct Scan {
    /// Columns of the open block collections (libyaml's indent stack).
    indents: Vec<usize>,
    /// Open flow collections.
    flow: usize,
    carry: Carry,
    /// A flow plain scalar goes on at the end of the line.
    flow_word: bool,
    /// An indicator's value is still to come (see [`Scan::indicator`]).
    pending: bool,
    nodes: u64,
    max_depth: usize,
    max_nodes: u64,
    /// Nodes counted when the current `---` document started.
    document: Option<u64>,
}

impl Scan {
    fn top(&self) -> isize {
        self.indents.last().map_or(-1, |&c| c as isize)
    }

    /// libyaml's `unroll_indent`: a token at `column` closes deeper blocks.
    fn unroll(&mut self, column: usize) {
        while self.indents.last().is_some_and(|&c| c > column) {
            self.indents.pop();
        }
    }

    /// libyaml's `roll_indent`: a key or entry at `column` opens a block
    /// collection when it is deeper than the current one.
    fn roll(&mut self, column: usize) -> Result<(), Stop> {
        if self.top() < column as isize {
            self.indents.push(column);
            self.deep_enough(column)?;
        }
        Ok(())
    }

    fn deep_enough(&self, at: usize) -> Result<(), Stop> {
        if self.indents.len() + self.flow > self.max_depth {
            Err((Limit::Depth, at))
        } else {
            Ok(())
        }
    }

    /// A `- `, `? ` or `: ` indicator at `at`, whose value is on later lines
    /// (or null) when `below`. Such a value is counted when the next token
    /// shows it was a null or a block collection (another indicator), not
    /// when it is a node that is counted itself (a scalar, even on the next
    /// line, or the first key of a block mapping: one node either way, or
    /// one fewer, never one more).
    fn indicator(&mut self, at: usize, below: bool) -> Result<(), Stop> {
        if self.pending {
            self.node(at)?;
        }
        self.pending = below;
        Ok(())
    }

    /// A scalar, alias or flow collection starts at `at`.
    fn start(&mut self, at: usize) -> Result<(), Stop> {
        self.pending = false;
        self.node(at)
    }

    /// One more node, starting at `at`.
    fn node(&mut self, at: usize) -> Result<(), Stop> {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            Err((Limit::Nodes, at))
        } else {
            Ok(())
        }
    }

    /// One line (without its `\n`).
    fn line(&mut self, b: &[u8]) -> Result<(), Stop> {
        let spaces = b.iter().take_while(|&&c| c == b' ').count();
        // Only some carries need it: don't scan every line twice.
        let blank = || b[spaces..].iter().all(|c| c.is_ascii_whitespace());
        let mut i = 0;
        let mut plain = false;
        match self.carry {
            Carry::Single | Carry::Double => {
                i = match self.quoted(b, 0, self.carry == Carry::Double) {
                    Some(end) => end,
                    None => return Ok(()),
                };
                self.carry = Carry::Nothing;
            }
            Carry::Block {
                indent,
                min,
                leading,
            } => {
                if blank() {
                    let leading = if indent.is_none() {
                        leading.max(spaces)
                    } else {
                        leading
                    };
                    self.carry = Carry::Block {
                        indent,
                        min,
                        leading,
                    };
                    return Ok(());
                }
                let content = indent.unwrap_or_else(|| spaces.max(leading).max(min));
                // In column 0, `---` and `...` end the text.
                if spaces >= content && !(spaces == 0 && is_marker(b)) {
                    self.carry = Carry::Block {
                        indent: Some(content),
                        min,
                        leading,
                    };
                    return Ok(());
                }
                self.carry = Carry::Nothing;
            }
            Carry::Plain => {
                if blank() {
                    return Ok(()); // an empty line within the scalar
                }
                self.carry = Carry::Nothing;
                // A deeper line goes on with the scalar (libyaml joins it).
                plain = !is_marker(b) && (spaces as isize) > self.top();
                if plain {
                    i = spaces;
                }
            }
            Carry::Nothing => {}
        }
        if i == 0 && !plain && self.flow == 0 {
            if is_marker(b) {
                // A new document (or the end of one) closes every block.
                self.indents.clear();
                if b[0] == b'.' {
                    return Ok(());
                }
                // An empty document still converts to a (null) node.
                if self.document == Some(self.nodes) {
                    self.node(0)?;
                }
                self.document = Some(self.nodes);
                i = 3;
            } else if b.first() == Some(&b'%') {
                return Ok(()); // a directive
            }
        }
        self.tokens(b, i, plain)
    }

    /// Scans the tokens of `b` from `i`; `plain`: a block plain scalar goes on.
    fn tokens(&mut self, b: &[u8], mut i: usize, mut plain: bool) -> Result<(), Stop> {
        // Start column of the last node on the line (or of its anchor or
        // tag), where libyaml rolls the indent when a `:` makes it a key.
        let mut node = i;
        // An anchor or tag was just read: it starts the node that follows.
        let mut props = false;
        // Inside a plain scalar in flow context (quotes there are text); it
        // goes on over blanks and lines until an indicator ends it.
        let mut word = self.flow > 0 && self.flow_word;
        self.flow_word = false; // until the line ends inside a word
        while i < b.len() {
            if plain {
                // Most of a descriptor is plain text: skip to what may end it.
                match b[i..].iter().position(|&c| c == b':' || c == b'#') {
                    Some(k) => i += k,
                    None => break,
                }
            }
            let c = b[i];
            let next = b.get(i + 1).copied();
            let blank_next = next.is_none_or(is_blank);
            let after_blank = i == 0 || is_blank(b[i - 1]);
            if self.flow > 0 {
                match c {
                    _ if is_blank(c) => {}
                    b'#' if !word || after_blank => return Ok(()),
                    b'[' | b'{' => {
                        self.flow += 1;
                        self.deep_enough(i)?;
                        self.node(i)?;
                        word = false;
                    }
                    b']' | b'}' => {
                        self.flow -= 1;
                        word = false;
                    }
                    b',' => word = false,
                    b':' if !word || blank_next || next.is_some_and(is_flow_indicator) => {
                        word = false
                    }
                    b'\'' | b'"' if !word => {
                        self.node(i)?;
                        match self.quoted(b, i + 1, c == b'"') {
                            Some(end) => {
                                i = end;
                                continue;
                            }
                            None => {
                                self.carry = quote_carry(c);
                                return Ok(());
                            }
                        }
                    }
                    b'&' | b'!' | b'*' if !word => {
                        // An anchor or tag is no node; an alias is one.
                        if c == b'*' {
                            self.node(i)?;
                        }
                        while i < b.len() && !is_blank(b[i]) && !is_flow_indicator(b[i]) {
                            i += 1;
                        }
                        continue;
                    }
                    _ => {
                        if !word {
                            self.node(i)?; // a plain scalar
                        }
                        word = true;
                    }
                }
                i += 1;
                continue;
            }
            if plain {
                // Block plain scalar: only `: ` and ` #` end it.
                if c == b':' && blank_next {
                    plain = false;
                    self.roll(node)?;
                    self.indicator(i, value_is_below(b, i + 1))?;
                } else if c == b'#' && after_blank {
                    return Ok(());
                }
                i += 1;
                continue;
            }
            if is_blank(c) {
                i += 1;
                continue;
            }
            self.unroll(i);
            let start = if props { node } else { i };
            props = false;
            match c {
                b'#' => return Ok(()),
                b'-' | b'?' | b':' if blank_next => {
                    self.roll(if c == b':' { node } else { i })?;
                    self.indicator(i, value_is_below(b, i + 1))?;
                    node = i + 1;
                }
                b'[' | b'{' => {
                    node = start;
                    self.flow = 1;
                    self.deep_enough(i)?;
                    self.start(i)?;
                    word = false;
                }
                b'\'' | b'"' => {
                    node = start;
                    self.start(i)?;
                    match self.quoted(b, i + 1, c == b'"') {
                        Some(end) => {
                            i = end;
                            continue;
                        }
                        None => {
                            self.carry = quote_carry(c);
                            return Ok(());
                        }
                    }
                }
                b'|' | b'>' => {
                    self.start(i)?;
                    self.carry = self.block_scalar(&b[i + 1..]);
                    return Ok(());
                }
                b'&' | b'!' | b'*' => {
                    node = start;
                    props = c != b'*';
                    if c == b'*' {
                        self.start(i)?;
                    }
                    while i < b.len() && !is_blank(b[i]) && !is_flow_indicator(b[i]) {
                        i += 1;
                    }
                    continue;
                }
                _ => {
                    node = start;
                    self.start(i)?;
                    plain = true;
                }
            }
            i += 1;
        }
        if plain {
            self.carry = Carry::Plain;
        }
        self.flow_word = word;
        Ok(())
    }

    /// The end (past the closing quote) of a quoted scalar whose text starts
    /// at `i`, or `None` when it goes on on the next line.
    fn quoted(&self, b: &[u8], mut i: usize, double: bool) -> Option<usize> {
        while i < b.len() {
            match b[i] {
                b'\\' if double => i += 2,
                b'"' if double => return Some(i + 1),
                b'\'' if !double => {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2; // an escaped quote
                    } else {
                        return Some(i + 1);
                    }
                }
                _ => i += 1,
            }
        }
        None
    }

    /// The state after a `|`/`>` header (`header` is what follows the indicator).
    fn block_scalar(&self, header: &[u8]) -> Carry {
        let top = self.top();
        let explicit = header
            .iter()
            .take(2)
            .find(|c| c.is_ascii_digit())
            .map(|d| usize::from(d - b'0'));
        let indent = explicit.map(|inc| if top >= 0 { top as usize + inc } else { inc });
        Carry::Block {
            indent,
            // A block scalar at the root may have its text in column 0
            // (YAML 1.2, as the parser reads it); elsewhere one deeper.
            min: (top + 1).max(0) as usize,
            leading: 0,
        }
    }
}

fn quote_carry(quote: u8) -> Carry {
    if quote == b'"' {
        Carry::Double
    } else {
        Carry::Single
    }
}

/// Whether nothing but blanks and a comment follow `from`: the value of an
/// indicator there is on later lines (or null). Scans only the blanks, so a
/// line of many indicators stays linear.
fn value_is_below(b: &[u8], from: usize) -> bool {
    let rest = &b[from.min(b.len())..];
    match rest.iter().position(|&c| !is_blank(c)) {
        None => true,
        Some(k) => rest[k] == b'#',
    }
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r')
}

fn is_flow_indicator(c: u8) -> bool {
    matches!(c, b',' | b'[' | b']' | b'{' | b'}')
}

/// `---` or `...` at the start of a line, followed by a blank or the end.
fn is_marker(b: &[u8]) -> bool {
    (b.starts_with(b"---") || b.starts_with(b"...")) && b.get(3).is_none_or(|&c| is_blank(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<(), (usize, usize)> {
        scan(text, u64::MAX).map_err(|r| {
            assert_eq!(r.limit, Limit::Depth);
            (r.line, r.column)
        })
    }

    fn depth_ok(text: &str) -> bool {
        check(text).is_ok()
    }

    /// Nodes the scan counts (the budget at which it starts refusing).
    fn nodes(text: &str) -> u64 {
        (0..).find(|&n| scan(text, n).is_ok()).unwrap()
    }

    #[test]
    fn deep_flow_sequences_are_refused_with_position() {
        let text = format!("a: {}{}\n", "[".repeat(200), "]".repeat(200));
        // The root mapping is one level, so the 128th bracket is the 129th level.
        assert_eq!(check(&text), Err((1, 4 + 127)));
    }

    #[test]
    fn the_limit_itself_is_accepted() {
        let text = format!("{}{}\n", "[".repeat(128), "]".repeat(128));
        assert!(depth_ok(&text));
        let text = format!("{}{}\n", "[".repeat(129), "]".repeat(129));
        assert!(!depth_ok(&text));
    }

    #[test]
    fn deep_flow_mappings_and_block_sequences_are_refused() {
        let map = format!("x: {}1{}\n", "{a: ".repeat(500), "}".repeat(500));
        assert!(!depth_ok(&map));
        let seq = format!("x:\n  {}1\n", "- ".repeat(500));
        assert!(!depth_ok(&seq));
        let keys = format!("{}1\n", "? ".repeat(500));
        assert!(!depth_ok(&keys));
        let mut indented = String::new();
        for i in 0..200 {
            indented.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
        }
        assert!(!depth_ok(&indented));
    }

    #[test]
    fn brackets_in_text_are_not_nesting() {
        let deep = "[".repeat(300);
        let text = format!(
            "a: x{deep}\nb: '{deep}'\nc: \"{deep}\\\"{deep}\"\nd: |\n  {deep}\n  - - -\ne: >-\n    {deep}\n# {deep}\nf: g # {deep}\nh: [it's {deep}\n"
        );
        // Every bracket above is text except the last line's first one.
        assert!(depth_ok(&text.replace("h: [it's", "h: it's")));
        assert!(!depth_ok(&text));
    }

    #[test]
    fn multi_line_scalars_hide_nothing_and_count_nothing() {
        let deep = "[".repeat(300);
        // Quoted text goes on over lines; a plain scalar goes on on deeper lines.
        assert!(depth_ok(&format!("a: '\n{deep}\n'\nb: \"x\n{deep}\"\n")));
        assert!(depth_ok(&format!("a: text\n  - {deep}\n  more\n")));
        // A block scalar ends at a shallower line: what follows is structure.
        assert!(!depth_ok(&format!("a: |\n  text\nb: {deep}\n")));
        // Leading empty lines with more spaces set the indentation (libyaml).
        assert!(!depth_ok(&format!("a: |\n         \n  b: {deep}\n")));
    }

    #[test]
    fn documents_reset_the_indentation() {
        let mut text = String::new();
        for _ in 0..300 {
            text.push_str("---\na:\n  b:\n    - c\n");
        }
        assert!(depth_ok(&text));
    }

    #[test]
    fn ordinary_descriptors_pass() {
        let text = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: a # c\n  tags: [x, 'Bad Tag']\n  annotations:\n    github.com/project-slug: acme/a\n  description: >\n    Long [text\nspec:\n  owner: team\n  dependsOn:\n    - ledger\n  x: {a: [1, {b: c}]}\n---\nkind: B\n";
        assert!(depth_ok(text));
    }

    #[test]
    fn flow_scalars_with_quotes_and_colons() {
        let deep = "[".repeat(300);
        // `{"a":'b'}` is JSON-like: the quotes start scalars.
        assert!(depth_ok(&format!("x: {{\"a\":'{deep}'}}\n")));
        // A quote inside a plain word is text: the brackets after it count.
        assert!(!depth_ok(&format!("x: [it's, {deep}\n")));
    }

    #[test]
    fn nodes_are_counted_without_overcounting() {
        assert_eq!(nodes("a: b\nc: [1, 'x', {d: e}]\n"), 9);
        // A block value counts once, when the next indicator shows it; a null
        // only when another indicator follows (never more than are there).
        assert_eq!(nodes("a:\nb:\n  - x\n  -\n"), 4);
        assert_eq!(nodes("-\n-\n-\n-\n"), 3);
        // An empty document is a node; one with content is its content.
        assert_eq!(nodes("--- x\n---\n---\n"), 2);
        assert_eq!(nodes("a: &x [1]\nb: *x\n"), 5);
        let err = scan("a: [1, 2, 3]\n", 3).unwrap_err();
        assert_eq!((err.limit, err.line, err.column), (Limit::Nodes, 1, 8));
    }

    #[test]
    fn a_line_of_indicators_is_linear() {
        let text = format!("{}x\n", "- ".repeat(2_000_000));
        let start = std::time::Instant::now();
        assert!(scan(&text, u64::MAX).is_err());
        assert!(start.elapsed().as_secs() < 2);
    }

    const TOKENS: &[&str] = &[
        "[", "]", "{", "}", ", ", "- ", "? ", ": ", "a", "b c", "'x'", "'it''s'", "\"y\"", "\n",
        "\n  ", "\n    ", "\n- ", "  ", " # c", "|\n", ">-\n", "&a ", "*a", "!t ", "---\n", "1",
        "k: ", "\n  k: ", "[1, [2]]", "{a: b}", "x#y", ":x", "'", "\t", "|2\n", "...\n", "\n\n",
        "\n#c\n", "\n ", "\"a\\\"b", "? ", "&b [", "*b", "\n  - ", "\n  ? ", "}: ",
    ];

    /// `count` random texts of up to `max_tokens` tokens (xorshift, fixed seed).
    fn random_texts(count: usize, max_tokens: u64) -> impl Iterator<Item = String> {
        let mut seed: u64 = 0x0f0f_1234_5555_aaa1;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        (0..count).map(move |_| {
            let len = 1 + next() % max_tokens;
            (0..len)
                .map(|_| TOKENS[(next() % TOKENS.len() as u64) as usize])
                .collect()
        })
    }

    /// Random YAML-ish texts: whenever the parser accepts one, the scan with
    /// limits at the text's real depth and node count must accept it too
    /// (it never counts more than is there).
    #[test]
    fn never_counts_more_than_the_parser_finds() {
        let mut accepted = 0;
        let mut off_by_one = 0;
        for text in random_texts(50_000, 14) {
            let Some((depth, nodes)) = crate::yaml::measure(&text) else {
                continue;
            };
            accepted += 1;
            if scan_with(&text, depth, nodes).is_err() {
                // The scan follows libyaml; where saphyr reads odd text
                // differently (an empty key opening a sequence item), it
                // may count one level more, never more than that.
                assert!(
                    scan_with(&text, depth + 1, nodes).is_ok(),
                    "{text:?}: depth {depth}, nodes {nodes}, scan {:?}",
                    scan_with(&text, depth, nodes)
                );
                off_by_one += 1;
            }
        }
        assert!(off_by_one * 1000 < accepted, "{off_by_one} of {accepted}");
        assert!(accepted > 3_000, "{accepted}");
    }

    /// Random texts followed by 300 levels of nesting: whenever the parser
    /// scans the nesting (and then fails on its depth limit), the scan must
    /// have refused it first.
    #[test]
    fn never_lets_deep_nesting_through_to_the_parser() {
        let tails = [
            format!("{}{}", "[".repeat(300), "]".repeat(300)),
            format!("{}1{}", "{a: ".repeat(300), "}".repeat(300)),
            format!("{}x", "- ".repeat(300)),
        ];
        let mut deep = 0;
        for (i, text) in random_texts(30_000, 8).enumerate() {
            if text.contains('*') {
                continue; // an alias into its own anchor recurses without nesting
            }
            let text = format!("{text}{}\n", tails[i % tails.len()]);
            let limits = crate::yaml::Limits {
                max_depth: MAX_DEPTH,
                ..crate::yaml::Limits::DEFAULT
            };
            let scanned_deep = crate::yaml::load(&text, &limits, false)
                .is_err_and(|e| e.kind == crate::yaml::ErrorKind::TooDeep);
            if scanned_deep {
                deep += 1;
                assert!(scan(&text, u64::MAX).is_err(), "{text:?}");
            }
        }
        assert!(deep > 1_000, "{deep}");
    }
}
