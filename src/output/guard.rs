//! The output guard: every byte idp writes to stdout and stderr passes one
//! writer that enforces, line by line, what the renderers already aim for.
//! Renderers sanitize each field (see [`sanitize`]); the guard is the
//! structural backstop, so a field a renderer forgets cannot reach the
//! terminal raw:
//!
//! - Secrets ([`idp::secrets`]) become `[redacted]`, in every format
//!   (JSON of live data included).
//! - Human output (tables, pages, trees, warnings, errors): control and
//!   bidi characters become visible escapes ([`sanitize::stream`]); idp's
//!   own colours (SGR sequences) pass when colour is on, nothing else does.
//!   idp writes no OSC 8 hyperlinks today; one it adds must be written with
//!   [`Guarded::trusted`].
//! - In GitHub Actions mode, no line of human output may start a workflow
//!   command. The runner (actions/runner `ActionCommand`) reads a line as a
//!   command when, after trimming leading whitespace, it starts with `::`,
//!   or when it contains the legacy `##[` anywhere. Such a line gets its
//!   first `:` (or the second `#` of every `##[`) written as `\u{3a}`
//!   (`\u{23}`). idp's own annotations go through [`Guarded::command`],
//!   which is the only way to write a line that starts with `::`.
//!
//! Data formats (JSON, YAML, CSV, JUnit, SARIF) are only redacted: their
//! bytes are the contract. They are written in batches of whole lines
//! (serde writes in tiny pieces; a batch is one system call instead of one
//! per line). Human text with no secret configured and no GitHub Actions
//! costs one byte scan per line and no copy.

use std::io::{self, Write};

use idp::sanitize;

/// Lines longer than this without a newline are processed in pieces, so a
/// runaway line cannot make the guard buffer without bound.
const MAX_PENDING: usize = 64 * 1024;

/// Data output is written in batches of about this size.
const BATCH: usize = 64 * 1024;

/// What the guard does on one stream.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Human output: escape control and bidi characters.
    pub human: bool,
    /// idp paints colours on this stream (SGR sequences may pass).
    pub color: bool,
    /// GitHub Actions: defuse workflow commands in human output.
    pub github: bool,
}

/// A writer that applies a [`Policy`] to complete lines.
pub struct Guarded<W: Write> {
    inner: W,
    policy: Policy,
    pending: Vec<u8>,
    /// Everything written on the current line so far is whitespace (so a
    /// `::` that follows would start a command).
    line_blank: bool,
}

impl<W: Write> Guarded<W> {
    /// Guards `inner`.
    pub fn new(inner: W, policy: Policy) -> Self {
        Guarded {
            inner,
            policy,
            pending: Vec::new(),
            line_blank: true,
        }
    }

    /// Writes one GitHub Actions workflow command line (`::error …::…`),
    /// which idp built and escaped itself; only secrets are redacted.
    pub fn command(&mut self, line: &str) -> io::Result<()> {
        self.flush_pending()?;
        let line = idp::secrets::redact(line);
        self.inner.write_all(line.as_bytes())?;
        self.inner.write_all(b"\n")?;
        self.line_blank = true;
        Ok(())
    }

    /// Writes bytes idp produced itself (terminal sequences of its own)
    /// past the escaping; secrets are still redacted.
    #[allow(dead_code)] // for idp's own hyperlinks; none yet
    pub fn trusted(&mut self, text: &str) -> io::Result<()> {
        self.flush_pending()?;
        self.inner
            .write_all(idp::secrets::redact(text).as_bytes())?;
        self.line_blank = text.ends_with('\n');
        Ok(())
    }

    /// Emits the first `cut` pending bytes and keeps the rest, reusing
    /// the buffer (no allocation per line).
    fn emit_pending(&mut self, cut: usize) -> io::Result<()> {
        let mut chunk = std::mem::take(&mut self.pending);
        let result = self.emit(&chunk[..cut]);
        chunk.drain(..cut);
        self.pending = chunk;
        result
    }

    fn flush_pending(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut chunk = std::mem::take(&mut self.pending);
        let result = self.emit(&chunk);
        chunk.clear();
        self.pending = chunk;
        result
    }

    /// Writes `chunk` (whole lines, or a piece at a flush) after the policy.
    fn emit(&mut self, chunk: &[u8]) -> io::Result<()> {
        let secrets = idp::secrets::any();
        let p = self.policy;
        if !p.human {
            if !secrets {
                return self.inner.write_all(chunk);
            }
            let text = String::from_utf8_lossy(chunk);
            return self.inner.write_all(idp::secrets::redact(&text).as_bytes());
        }
        if !secrets && !p.github && !sanitize::may_need_escaping(chunk) {
            return self.inner.write_all(chunk);
        }
        let text = String::from_utf8_lossy(chunk);
        let text = idp::secrets::redact(&text);
        let text = sanitize::stream(&text, p.color);
        if !p.github {
            return self.inner.write_all(text.as_bytes());
        }
        let mut out = String::with_capacity(text.len() + 8);
        for piece in text.split_inclusive('\n') {
            defuse(piece, self.line_blank, &mut out);
            self.line_blank = if piece.ends_with('\n') {
                true
            } else {
                self.line_blank && piece.chars().all(char::is_whitespace)
            };
        }
        self.inner.write_all(out.as_bytes())
    }
}

/// Appends `piece` (part of one line) to `out` so that the runner cannot
/// read it as a workflow command. `line_blank`: only whitespace precedes
/// it on its line.
fn defuse(piece: &str, line_blank: bool, out: &mut String) {
    let start = out.len();
    let trimmed = piece.trim_start();
    if line_blank && trimmed.starts_with("::") {
        let lead = piece.len() - trimmed.len();
        out.push_str(&piece[..lead]);
        out.push_str("\\u{3a}");
        out.push_str(&trimmed[1..]);
    } else {
        out.push_str(piece);
    }
    if out[start..].contains("##[") {
        let fixed = out[start..].replace("##[", "#\\u{23}[");
        out.truncate(start);
        out.push_str(&fixed);
    }
}

impl<W: Write> Write for Guarded<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Data is written in one go at the end of a command, in many small
        // pieces (serde): batch it, whole lines at a time so a secret is
        // never cut. Human text goes out line by line, as it is made, since
        // a command may print a page and then wait for live data.
        if !self.policy.human {
            self.pending.extend_from_slice(buf);
            if self.pending.len() >= BATCH {
                let cut = match self.pending.iter().rposition(|&b| b == b'\n') {
                    Some(nl) => nl + 1,
                    None => complete_chars(&self.pending),
                };
                self.emit_pending(cut)?;
            }
            return Ok(buf.len());
        }
        match buf.iter().rposition(|&b| b == b'\n') {
            Some(nl) if self.pending.is_empty() => {
                self.emit(&buf[..=nl])?;
                self.pending.extend_from_slice(&buf[nl + 1..]);
            }
            Some(nl) => {
                self.pending.extend_from_slice(&buf[..=nl]);
                let cut = self.pending.len();
                self.emit_pending(cut)?;
                self.pending.extend_from_slice(&buf[nl + 1..]);
            }
            None => {
                self.pending.extend_from_slice(buf);
                if self.pending.len() > MAX_PENDING {
                    let cut = complete_chars(&self.pending);
                    self.emit_pending(cut)?;
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_pending()?;
        self.inner.flush()
    }
}

/// The length of the longest prefix of `b` that ends with a whole UTF-8
/// character (a piece must not split one).
fn complete_chars(b: &[u8]) -> usize {
    let mut start = b.len();
    while start > 0 {
        start -= 1;
        if b[start] & 0xC0 != 0x80 {
            break;
        }
    }
    let width = match b.get(start) {
        Some(&lead) if lead >= 0xF0 => 4,
        Some(&lead) if lead >= 0xE0 => 3,
        Some(&lead) if lead >= 0xC0 => 2,
        _ => 1,
    };
    if start + width <= b.len() {
        b.len()
    } else {
        start
    }
}

impl<W: Write> Drop for Guarded<W> {
    fn drop(&mut self) {
        // Errors here (a closed pipe) were or will be reported by an
        // explicit flush; a drop has no one to tell.
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(policy: Policy, writes: &[&[u8]]) -> String {
        let mut out = Vec::new();
        {
            let mut g = Guarded::new(&mut out, policy);
            for w in writes {
                g.write_all(w).unwrap();
            }
        }
        String::from_utf8(out).unwrap()
    }

    const HUMAN: Policy = Policy {
        human: true,
        color: false,
        github: false,
    };
    const GITHUB: Policy = Policy {
        human: true,
        color: false,
        github: true,
    };

    #[test]
    fn human_output_is_escaped_across_writes() {
        let out = run(HUMAN, &[b"title: \x1b]0;", b"pwned\x07\n", b"tail"]);
        assert_eq!(out, "title: \\u{1b}]0;pwned\\u{7}\ntail");
    }

    #[test]
    fn data_output_is_exact() {
        let data = Policy {
            human: false,
            color: false,
            github: true,
        };
        let raw = "{\"t\": \"\x1b]0;x\u{202e}\"}\n::error::data\n";
        assert_eq!(run(data, &[raw.as_bytes()]), raw);
    }

    #[test]
    fn workflow_commands_are_defused_only_at_a_line_start() {
        let out = run(
            GITHUB,
            &[
                b"ok ::not a command\n  ::error::pwned\n",
                b"  ",
                b"::add-mask::x\n",
            ],
        );
        assert_eq!(
            out,
            "ok ::not a command\n  \\u{3a}:error::pwned\n  \\u{3a}:add-mask::x\n"
        );
        let out = run(GITHUB, &[b"x ##[error]legacy\n"]);
        assert_eq!(out, "x #\\u{23}[error]legacy\n");
        for line in out.lines() {
            assert!(!line.trim_start().starts_with("::"));
        }
    }

    #[test]
    fn own_commands_pass() {
        let mut out = Vec::new();
        {
            let mut g = Guarded::new(&mut out, GITHUB);
            g.write_all(b"::error::from data\n").unwrap();
            g.command("::error file=a.yaml,line=1,col=1::real").unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\\u{3a}:error::from data\n::error file=a.yaml,line=1,col=1::real\n"
        );
    }

    #[test]
    fn data_written_in_pieces_is_redacted_whole() {
        idp::secrets::register("guard-test-secret-0123");
        let data = Policy {
            human: false,
            color: false,
            github: false,
        };
        let out = run(data, &[b"{\"t\": \"guard-test-", b"secret-0123\"}\n"]);
        assert_eq!(out, "{\"t\": \"[redacted]\"}\n");
    }

    #[test]
    fn a_long_line_is_processed_in_pieces() {
        let long = "é".repeat(MAX_PENDING);
        let (head, tail) = long.as_bytes().split_at(MAX_PENDING + 1);
        let out = run(HUMAN, &[head, tail, b"\x1b\n"]);
        assert_eq!(out, format!("{long}\\u{{1b}}\n"));
    }
}
