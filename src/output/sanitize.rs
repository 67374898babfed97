//! The terminal sanitizer: what text of others may reach a person's screen.
//!
//! Human output shows text idp does not control: descriptor fields anyone
//! who can open a pull request writes, template names and step logs, API
//! answers. Raw, such text drives the terminal: OSC 0 retitles the window,
//! OSC 8 makes a link say one thing and open another, OSC 52 writes the
//! clipboard, CSI moves the cursor or hides text, U+202E shows what follows
//! backwards, a newline fakes a line of idp's own. So every piece of data a
//! human renderer prints goes through [`line`] (single-line fields) or
//! [`block`] (multi-line text) before it is laid out or painted, and the
//! binary's output guard (`output/guard.rs`) checks the whole stream once
//! more with [`stream`].
//!
//! The rules:
//! - C0 controls, DEL, C1 controls, and the invisible characters that
//!   reorder or hide text — bidi embeddings, overrides and isolates
//!   (U+202A–U+202E, U+2066–U+2069), the marks U+200E, U+200F and U+061C,
//!   the line and paragraph separators U+2028/U+2029, the deprecated format
//!   characters U+206A–U+206F and U+FEFF — are shown as a visible escape in
//!   Rust's notation: `\u{1b}`, `\u{202e}`, `\u{9}`.
//! - In a single-line field (a table cell, a title, a name, an email, a
//!   one-line message) a newline (`\n` or `\r\n`) is shown as `⏎`: a field
//!   can neither add a line nor break a table.
//! - In a block (a description, a step log, an error message) `\n` and
//!   `\t` stay, and `\r\n` is read as `\n`.
//! - Configured secrets become `[redacted]` (see [`crate::secrets`]).
//!
//! Text that needs none of this comes back borrowed: a plain catalog costs
//! one scan per field and no allocation. JSON, YAML, CSV, JUnit and SARIF
//! are data and never pass through here. Graphviz dot and Mermaid are data
//! too, but their labels are read by people and pasted into terminals and
//! pull requests, so labels go through [`line`] (a control character has no
//! use in a label, and a newline would end a Mermaid statement).
//!
//! The file lives with the renderers it serves, but is compiled into the
//! library (`lib.rs` points at it) because interactive prompts, which the
//! library draws, show template text too.

use std::borrow::Cow;
use std::fmt::Write as _;

/// What a newline in a single-line field is shown as.
pub const NEWLINE_MARK: char = '⏎';

/// Bytes that start a character that may need escaping: ASCII controls and
/// DEL, and the lead bytes of C1 (U+0080–U+009F: 0xC2), U+061C (0xD8),
/// U+2000–U+2FFF (0xE2) and U+F000–U+FFFF (0xEF). Continuation bytes are
/// never flagged, so a flagged byte is always at a character boundary.
static SUSPECT: [bool; 256] = suspect_table(false);

/// [`SUSPECT`] without `\n` and `\t`, which a stream keeps.
static STREAM_SUSPECT: [bool; 256] = suspect_table(true);

const fn suspect_table(keep_newlines: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[0x7f] = true;
    t[0xc2] = true;
    t[0xd8] = true;
    t[0xe2] = true;
    t[0xef] = true;
    if keep_newlines {
        t[b'\n' as usize] = false;
        t[b'\t' as usize] = false;
    }
    t
}

/// Whether `c` is shown as an escape (newlines and tabs included; the
/// callers decide where those may stay).
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2066}'..='\u{206f}'
        | '\u{feff}')
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Newlines become [`NEWLINE_MARK`], tabs are escaped.
    Line,
    /// Newlines and tabs stay.
    Block,
    /// Like `Block`, and SGR sequences (`ESC [ … m`, colours idp paints)
    /// stay when `allow_sgr`.
    Stream { allow_sgr: bool },
}

/// A single-line field, safe to print: see the module doc.
pub fn line(s: &str) -> Cow<'_, str> {
    clean(s, Mode::Line)
}

/// Multi-line text, safe to print: newlines and tabs stay.
pub fn block(s: &str) -> Cow<'_, str> {
    clean(s, Mode::Block)
}

/// [`line`] for an owned string (a table cell): no copy when it is clean.
pub fn line_string(s: String) -> String {
    match line(&s) {
        Cow::Borrowed(_) => s,
        Cow::Owned(o) => o,
    }
}

/// [`block`] for an owned string: no copy when it is clean.
pub fn block_string(s: String) -> String {
    match block(&s) {
        Cow::Borrowed(_) => s,
        Cow::Owned(o) => o,
    }
}

/// A whole stretch of output, as the output guard sees it: like [`block`]
/// without redaction (the guard redacts first), keeping SGR colour
/// sequences when `allow_sgr`.
pub fn stream(s: &str, allow_sgr: bool) -> Cow<'_, str> {
    match first_unsafe(s, Mode::Stream { allow_sgr }) {
        None => Cow::Borrowed(s),
        Some(at) => Cow::Owned(escape_from(s, at, Mode::Stream { allow_sgr })),
    }
}

/// Whether `bytes` may hold anything [`stream`] would change: a cheap
/// byte test for the guard's fast path.
pub fn may_need_escaping(bytes: &[u8]) -> bool {
    bytes.iter().any(|&b| STREAM_SUSPECT[b as usize])
}

fn clean(s: &str, mode: Mode) -> Cow<'_, str> {
    let redacted = crate::secrets::redact(s);
    match (first_unsafe(&redacted, mode), redacted) {
        (None, r) => r,
        (Some(at), r) => Cow::Owned(escape_from(&r, at, mode)),
    }
}

/// Where the first character that must change is, if any.
fn first_unsafe(s: &str, mode: Mode) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !SUSPECT[b as usize] {
            i += 1;
            continue;
        }
        let c = s[i..].chars().next().expect("a flagged byte starts a char");
        if changes(s, i, c, mode) {
            return Some(i);
        }
        i += if c == '\u{1b}' {
            // an allowed SGR sequence: skip it whole
            sgr_len(&s[i..])
        } else {
            c.len_utf8()
        };
    }
    None
}

/// Whether character `c` at byte `i` of `s` is written differently.
fn changes(s: &str, i: usize, c: char, mode: Mode) -> bool {
    if !is_unsafe(c) {
        return false;
    }
    match (mode, c) {
        (Mode::Line, _) => true,
        (_, '\n' | '\t') => false,
        (Mode::Stream { allow_sgr: true }, '\u{1b}') => sgr_len(&s[i..]) == 0,
        _ => true,
    }
}

/// The length of the SGR sequence (`ESC [ digits ; : … m`) `s` starts
/// with, 0 if it does not start with one.
fn sgr_len(s: &str) -> usize {
    let b = s.as_bytes();
    if b.len() < 3 || b[0] != 0x1b || b[1] != b'[' {
        return 0;
    }
    for (k, &c) in b.iter().enumerate().skip(2) {
        match c {
            b'0'..=b'9' | b';' | b':' => continue,
            b'm' => return k + 1,
            _ => return 0,
        }
    }
    0
}

fn escape_from(s: &str, at: usize, mode: Mode) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str(&s[..at]);
    let rest = &s[at..];
    let mut chars = rest.char_indices().peekable();
    while let Some((k, c)) = chars.next() {
        if c == '\u{1b}' && matches!(mode, Mode::Stream { allow_sgr: true }) {
            let n = sgr_len(&rest[k..]);
            if n > 0 {
                out.push_str(&rest[k..k + n]);
                while chars.peek().is_some_and(|(j, _)| *j < k + n) {
                    chars.next();
                }
                continue;
            }
        }
        if c == '\r' && chars.peek().is_some_and(|(_, n)| *n == '\n') {
            // CRLF is one line break
            continue;
        }
        match (mode, c) {
            (Mode::Line, '\n') => out.push(NEWLINE_MARK),
            (Mode::Block | Mode::Stream { .. }, '\n' | '\t') => out.push(c),
            _ if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        for s in [
            "payments-api",
            "Payments — API › v2 → ✓ ·",
            "tab\tin block",
            "",
        ] {
            assert!(matches!(block(s), Cow::Borrowed(_)), "{s}");
        }
        assert!(matches!(line("Ünïcödé ½ “quoted”"), Cow::Borrowed(_)));
        assert!(matches!(
            stream("a\n\x1b[1mbold\x1b[0m\n", true),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn escapes_become_visible() {
        assert_eq!(line("a\x1b]0;pwned\x07b"), "a\\u{1b}]0;pwned\\u{7}b");
        assert_eq!(
            line("x\x1b]52;c;ZXZpbA==\x1b\\"),
            "x\\u{1b}]52;c;ZXZpbA==\\u{1b}\\"
        );
        assert_eq!(line("\x1b[2J"), "\\u{1b}[2J");
        assert_eq!(line("c1 \u{9b}31m"), "c1 \\u{9b}31m");
        assert_eq!(line("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(
            line("\u{2066}\u{2069}\u{200e}\u{200f}\u{61c}\u{2028}\u{feff}\u{7f}"),
            "\\u{2066}\\u{2069}\\u{200e}\\u{200f}\\u{61c}\\u{2028}\\u{feff}\\u{7f}"
        );
    }

    #[test]
    fn newlines_in_lines_and_blocks() {
        assert_eq!(line("one\ntwo\r\nthree\tx"), "one⏎two⏎three\\u{9}x");
        assert_eq!(line("lone\rcr"), "lone\\u{d}cr");
        assert_eq!(
            block("one\ntwo\r\n\tthree\x1b[31m"),
            "one\ntwo\n\tthree\\u{1b}[31m"
        );
        assert_eq!(line("\n::error::pwned"), "⏎::error::pwned");
    }

    #[test]
    fn the_stream_keeps_colours_only_when_allowed() {
        let painted = "\x1b[1mName\x1b[0m \x1b]8;;http://evil\x1b\\x\x1b]8;;\x1b\\\n";
        assert_eq!(
            stream(painted, true),
            "\x1b[1mName\x1b[0m \\u{1b}]8;;http://evil\\u{1b}\\x\\u{1b}]8;;\\u{1b}\\\n"
        );
        assert_eq!(stream("\x1b[1mx", false), "\\u{1b}[1mx");
        assert_eq!(stream("\x1b[1;2Hx", true), "\\u{1b}[1;2Hx");
        assert!(may_need_escaping(b"a\x1bb"));
        assert!(!may_need_escaping(b"plain\n\ttext"));
    }
}
