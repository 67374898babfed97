//! Graphs as inline SVG, laid out by layout-rs (a Sugiyama-style layered
//! layout, as Graphviz's dot does) and drawn by its SVG writer, which
//! escapes the labels. No raw attributes are passed through, so catalog
//! text can only ever be label text.

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::geometry::Point;
use layout::core::style::StyleAttr;
use layout::std_shapes::shapes::{Arrow, Element, ShapeKind};
use layout::topo::layout::VisualGraph;

/// Graphs above this many nodes are not drawn (the page lists them instead):
/// past it the picture is unreadable and the layout slow.
pub const MAX_NODES: usize = 80;

/// Graphs up to this many nodes get the edge-crossing reduction.
const OPTIMIZE_UP_TO: usize = 30;

/// A node: its label and whether it is the graph's focus.
pub struct Node {
    /// The text in the box.
    pub label: String,
    /// Drawn highlighted.
    pub focus: bool,
}

/// Lays out `nodes` and `edges` (index pairs with a label) top to bottom;
/// `None` when there is nothing to draw or too much.
/// `optimize` runs layout-rs's edge-crossing reduction, which costs most of
/// the layout time: worth it for the system map, not for an entity's
/// one-hop neighbourhood (a star, with nothing to uncross).
pub fn svg(
    title: &str,
    nodes: &[Node],
    edges: &[(usize, usize, String)],
    optimize: bool,
) -> Option<String> {
    if nodes.is_empty() || nodes.len() > MAX_NODES {
        return None;
    }
    let mut graph = VisualGraph::new(Orientation::TopToBottom);
    let handles: Vec<_> = nodes
        .iter()
        .map(|n| {
            let fill = if n.focus { 0xdbe8ffff } else { 0xffffffff };
            let look = StyleAttr::new(Color::new(0x555555ff), 1, Some(Color::new(fill)), 6, 13);
            let label = short(&n.label, 40);
            let size = Point::new(label.chars().count() as f64 * 8.0 + 24.0, 34.0);
            graph.add_node(Element::create(
                ShapeKind::new_box(&label),
                look,
                Orientation::LeftToRight,
                size,
            ))
        })
        .collect();
    for (from, to, label) in edges {
        if from == to || *from >= nodes.len() || *to >= nodes.len() {
            continue;
        }
        let mut arrow = Arrow::simple(label);
        // One font size for nodes and edges: the writer keeps its font classes
        // in a HashMap, so two sizes would come out in a random order.
        arrow.look = StyleAttr::new(Color::new(0x777777ff), 1, None, 0, 13);
        graph.add_edge(arrow, handles[*from], handles[*to]);
    }
    let mut writer = SVGWriter::new();
    // The crossing reduction grows fast with the graph: past a few dozen
    // nodes it would cost seconds for a little tidiness.
    let optimize = optimize && nodes.len() <= OPTIMIZE_UP_TO;
    graph.do_it(false, !optimize, false, &mut writer);
    let out = compact(&writer.finalize());
    let start = out.find("<svg")?;
    let name = super::escape(title);
    Some(format!(
        "<svg role=\"img\" aria-label=\"{name}\"{}",
        out[start + 4..].replacen('>', &format!("><title>{name}</title>"), 1)
    ))
}

/// The writer indents generously; SVG collapses runs of white space when it
/// draws text, so they can go (a third of an entity page's size).
fn compact(svg: &str) -> String {
    let mut out = String::with_capacity(svg.len() / 2);
    let mut space = false;
    for c in svg.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.ends_with('>') && c != '<' && c != '>' && c != '/' {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_layout_is_stable() {
        let nodes = vec![
            Node {
                label: "<script>x</script>".into(),
                focus: true,
            },
            Node {
                label: "b".into(),
                focus: false,
            },
        ];
        let edges = vec![(0, 1, "dependsOn".to_string())];
        let a = svg("g", &nodes, &edges, true).unwrap();
        assert!(!a.contains("<script>"));
        assert!(a.contains("&lt;script&gt;"));
        assert_eq!(a, svg("g", &nodes, &edges, true).unwrap());
    }
}
