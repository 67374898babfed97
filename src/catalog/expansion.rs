//! Where a YAML file's alias expansion passes a budget, for the error message.
//!
//! The converter in [`parse`](super::parse) only learns that the budget ran
//! out somewhere inside aliased content. This replays the file's events with
//! yaml-rust2 (which does not expand aliases), counting each alias as the
//! nodes and text of what it names, and returns the position of the event at
//! which the running total first passes the limit: usually the alias that
//! tips it over. Linear in the text; runs only after a refusal, and only on
//! text the pre-scan let through (so nesting is bounded).

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// 1-based line and column of the first event at which the file's nodes pass
/// `max_nodes` or its scalar bytes pass `max_bytes`, aliases expanded; `None`
/// when the replay stays within both (or the text does not parse).
pub fn overrun(text: &str, max_nodes: u64, max_bytes: u64) -> Option<(usize, usize)> {
    let mut replay = Replay {
        max: Size {
            nodes: max_nodes,
            bytes: max_bytes,
        },
        ..Replay::default()
    };
    let _ = Parser::new_from_str(text).load(&mut replay, true);
    replay.found
}

/// Nodes and scalar bytes.
#[derive(Debug, Default, Clone, Copy)]
struct Size {
    nodes: u64,
    bytes: u64,
}

#[derive(Default)]
struct Replay {
    max: Size,
    total: Size,
    /// What each anchor names, once its node is complete.
    anchors: HashMap<usize, Size>,
    /// Open collections: their anchor and the total when they started.
    open: Vec<(usize, Size)>,
    found: Option<(usize, usize)>,
}

impl Replay {
    fn add(&mut self, size: Size, mark: Marker) {
        self.total.nodes = self.total.nodes.saturating_add(size.nodes);
        self.total.bytes = self.total.bytes.saturating_add(size.bytes);
        if self.total.nodes > self.max.nodes || self.total.bytes > self.max.bytes {
            self.found = Some((mark.line(), mark.col() + 1));
        }
    }

    /// The total since `start`: what the collection that began there holds.
    fn since(&self, start: Size) -> Size {
        Size {
            nodes: self.total.nodes - start.nodes,
            bytes: self.total.bytes - start.bytes,
        }
    }
}

impl MarkedEventReceiver for Replay {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.found.is_some() {
            return;
        }
        match ev {
            Event::Scalar(value, _, anchor, _) => {
                let size = Size {
                    nodes: 1,
                    bytes: value.len() as u64,
                };
                if anchor != 0 {
                    self.anchors.insert(anchor, size);
                }
                self.add(size, mark);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                self.open.push((anchor, self.total));
                self.add(Size { nodes: 1, bytes: 0 }, mark);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((anchor, start)) = self.open.pop() {
                    if anchor != 0 {
                        let size = self.since(start);
                        self.anchors.insert(anchor, size);
                    }
                }
            }
            Event::Alias(anchor) => {
                let size = self.anchors.get(&anchor).copied().unwrap_or_default();
                self.add(size, mark);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_at_the_alias_that_passes_the_budget() {
        let text = "a: &a [1, 2, 3]\nb: [*a, *a,\n  *a]\n";
        // a(1) + seq(1) + 3 items; b(1) + seq(1); each alias 4.
        assert_eq!(overrun(text, 8, u64::MAX), Some((2, 5)));
        assert_eq!(overrun(text, 12, u64::MAX), Some((2, 9)));
        assert_eq!(overrun(text, 16, u64::MAX), Some((3, 3)));
        assert_eq!(overrun(text, 20, u64::MAX), None);
    }

    #[test]
    fn counts_text_bytes() {
        let text = "a: &a xxxxxxxxxx\nb: [*a, *a]\n";
        // a + xxxxxxxxxx = 11 bytes, b = 1, each alias 10.
        assert_eq!(overrun(text, u64::MAX, 21), Some((2, 5)));
        assert_eq!(overrun(text, u64::MAX, 31), Some((2, 9)));
        assert_eq!(overrun(text, u64::MAX, 32), None);
    }

    #[test]
    fn nested_aliases_expand() {
        let text = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b]\n";
        // root 1; a, [x, x]: 4; b 1, b's sequence 1 + 2 × 3 = 7; c 1, [*b] 1 + 7.
        let total = 1 + 4 + 1 + 7 + 1 + 1 + 7;
        assert_eq!(overrun(text, total - 1, u64::MAX), Some((3, 5)));
        assert_eq!(overrun(text, total, u64::MAX), None);
    }
}
