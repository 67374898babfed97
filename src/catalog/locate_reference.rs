//! The per-path finder `locate` used before [`super::Locator`] (one parse per
//! path), kept as the reference the one-pass locator must agree with.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::split_path;

type Position = (usize, usize);

/// Key position, and value position when on the key line.
pub fn locate_both(text: &str, doc: usize, path: &str) -> Option<(Position, Option<Position>)> {
    let segments: Vec<&str> = if path.is_empty() {
        Vec::new()
    } else {
        split_path(path)
    };
    let mut finder = Finder {
        target: segments,
        doc_wanted: doc,
        doc_seen: None,
        stack: Vec::new(),
        best: None,
        value: None,
        awaiting_value: false,
        done: false,
        root_pending: false,
    };
    let mut parser = Parser::new_from_str(crate::catalog::parse::strip_bom(text));
    // A syntax error after the match is irrelevant; before it, we have no answer.
    let _ = parser.load(&mut finder, true);
    let value = finder.value;
    finder
        .best
        .map(|(_, line, col)| ((line, col), value.filter(|v| v.0 == line)))
}

enum Frame {
    Map {
        key: Option<String>,
        expect_key: bool,
    },
    Seq {
        index: usize,
    },
}

struct Finder<'a> {
    target: Vec<&'a str>,
    doc_wanted: usize,
    doc_seen: Option<usize>,
    stack: Vec<Frame>,
    /// (matched depth, line, column)
    best: Option<(usize, usize, usize)>,
    /// Where the value of a fully matched key starts.
    value: Option<(usize, usize)>,
    awaiting_value: bool,
    done: bool,
    root_pending: bool,
}

impl Finder<'_> {
    /// Path of the node that starts now, as segments, compared with the target.
    fn current_matches(&self) -> usize {
        let mut depth = 0;
        for (frame, want) in self.stack.iter().zip(&self.target) {
            let ok = match frame {
                Frame::Map { key: Some(k), .. } => k == want,
                Frame::Seq { index } => want.parse::<usize>().ok() == Some(*index),
                _ => false,
            };
            if !ok {
                return depth;
            }
            depth += 1;
        }
        depth
    }

    fn record(&mut self, depth: usize, mark: Marker) {
        if self.best.is_none_or(|(d, _, _)| depth > d) {
            self.best = Some((depth, mark.line(), mark.col() + 1));
        }
        if depth == self.target.len() {
            self.done = true;
            self.awaiting_value = matches!(self.stack.last(), Some(Frame::Map { .. }));
        }
    }

    /// Called when a value node (scalar, sequence or mapping) starts.
    fn on_value(&mut self, mark: Marker) {
        if let Some(Frame::Seq { .. }) = self.stack.last() {
            let depth = self.current_matches();
            if depth == self.stack.len() {
                self.record(depth, mark);
            }
        }
    }

    /// Called after a value node ends: advance the parent.
    fn after_value(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { expect_key, .. }) => *expect_key = true,
            Some(Frame::Seq { index }) => *index += 1,
            None => {}
        }
    }
}

impl MarkedEventReceiver for Finder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.awaiting_value {
            if matches!(
                ev,
                Event::Scalar(..)
                    | Event::SequenceStart(..)
                    | Event::MappingStart(..)
                    | Event::Alias(_)
            ) {
                self.value = Some((mark.line(), mark.col() + 1));
            }
            self.awaiting_value = false;
        }
        if self.done {
            return;
        }
        if self.root_pending
            && matches!(
                ev,
                Event::Scalar(..) | Event::Alias(_) | Event::MappingEnd | Event::SequenceEnd
            )
        {
            // The document: at its first key or item.
            self.root_pending = false;
            self.record(0, mark);
            self.awaiting_value = false; // a document has no value position
            if self.done {
                return;
            }
        }
        match ev {
            Event::DocumentStart => {
                self.doc_seen = Some(self.doc_seen.map_or(0, |d| d + 1));
                self.root_pending =
                    self.doc_seen == Some(self.doc_wanted) && self.target.is_empty();
            }
            _ if self.doc_seen != Some(self.doc_wanted) => {}
            Event::Scalar(value, ..) => {
                if let Some(Frame::Map { key, expect_key }) = self.stack.last_mut() {
                    if *expect_key {
                        *key = Some(value);
                        *expect_key = false;
                        let depth = self.current_matches();
                        if depth == self.stack.len() {
                            self.record(depth, mark);
                        }
                        return;
                    }
                }
                self.on_value(mark);
                self.after_value();
            }
            Event::Alias(_) => {
                self.on_value(mark);
                self.after_value();
            }
            Event::MappingStart(..) => {
                if let Some(Frame::Map {
                    expect_key: true, ..
                }) = self.stack.last()
                {
                    // Complex keys are not addressable by path; treat as a key.
                }
                self.on_value(mark);
                self.stack.push(Frame::Map {
                    key: None,
                    expect_key: true,
                });
            }
            Event::SequenceStart(..) => {
                self.on_value(mark);
                self.stack.push(Frame::Seq { index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.after_value();
            }
            _ => {}
        }
    }
}
