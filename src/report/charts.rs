//! Charts as inline SVG, drawn by plotters' SVG backend. No font file is
//! read: without plotters' `ttf` feature text stays SVG `<text>` (sized by
//! plotters' estimate) that the browser draws with its own sans-serif.
//! plotters escapes the text it writes; the accessible name added here is
//! escaped too. Colours of text and axes follow the page's theme through
//! CSS (`.chart text`), so one SVG serves light and dark.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

/// One colour per level slot: "below the first level" first, then each level.
pub const PALETTE: [&str; 7] = [
    "#d9534f", "#b8733a", "#7b8794", "#d4a017", "#2e7d6b", "#5b5bd6", "#c2185b",
];

/// The colour of a level slot (0: below the first level).
pub fn level_colour(slot: usize) -> &'static str {
    PALETTE[slot.min(PALETTE.len() - 1)]
}

fn rgb(hex: &str) -> RGBColor {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap_or(0x808080);
    RGBColor((v >> 16) as u8, (v >> 8) as u8, v as u8)
}

/// One horizontal bar made of coloured segments.
pub struct StackedRow {
    /// The bar's label.
    pub label: String,
    /// Segment sizes, in slot order (coloured with [`level_colour`]).
    pub counts: Vec<usize>,
}

/// Horizontal stacked bars, each row scaled to 100 %.
pub fn stacked(title: &str, rows: &[StackedRow]) -> String {
    let height = 60 + 34 * rows.len().max(1) as u32;
    draw(title, (720, height), |root| {
        let labels: Vec<String> = rows.iter().map(|r| short(&r.label, 22)).collect();
        let mut chart = percent_rows(root, &labels, 170)?;
        for (i, row) in rows.iter().rev().enumerate() {
            let total: usize = row.counts.iter().sum();
            if total == 0 {
                continue;
            }
            let mut x = 0f64;
            for (slot, &n) in row.counts.iter().enumerate() {
                let w = 100.0 * n as f64 / total as f64;
                if n > 0 {
                    let mut bar = Rectangle::new(
                        [
                            (x, SegmentValue::Exact(i)),
                            (x + w, SegmentValue::Exact(i + 1)),
                        ],
                        rgb(level_colour(slot)).filled(),
                    );
                    bar.set_margin(5, 5, 0, 0);
                    chart.draw_series(std::iter::once(bar))?;
                }
                x += w;
            }
        }
        Ok(())
    })
}

/// Horizontal bars of percentages (0–100), one per label.
pub fn percent_bars(title: &str, rows: &[(String, f64)]) -> String {
    let height = 60 + 28 * rows.len().max(1) as u32;
    draw(title, (720, height), |root| {
        let labels: Vec<String> = rows.iter().map(|r| short(&r.0, 26)).collect();
        let mut chart = percent_rows(root, &labels, 200)?;
        chart.draw_series(rows.iter().rev().enumerate().map(|(i, (_, pct))| {
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(i)),
                    (pct.clamp(0.0, 100.0), SegmentValue::Exact(i + 1)),
                ],
                rgb(PALETTE[4]).filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            bar
        }))?;
        Ok(())
    })
}

/// The chart both bar charts draw on: 0–100 % across, one row per label
/// (first label at the top), the labels in a column `label_width` wide,
/// axes and labels already drawn.
fn percent_rows<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    labels: &[String],
    label_width: u32,
) -> Result<PercentRows<'a, 'b>, Box<dyn std::error::Error>> {
    let n = labels.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .margin(8)
        .margin_right(28)
        .x_label_area_size(28)
        .y_label_area_size(label_width)
        .build_cartesian_2d(0f64..100f64, (0..n).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels(6)
        .x_label_formatter(&|v| format!("{v:.0}%"))
        .y_labels(n)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) if *i < labels.len() => labels[labels.len() - 1 - *i].clone(),
            _ => String::new(),
        })
        .label_style(("sans-serif", 15))
        .draw()?;
    Ok(chart)
}

type PercentRows<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<
        plotters::coord::types::RangedCoordf64,
        plotters::coord::ranged1d::SegmentedCoord<plotters::coord::types::RangedCoordusize>,
    >,
>;

/// Lines of percentages over time: `dates` on x, one series per level slot.
pub fn trend(title: &str, dates: &[String], series: &[(usize, Vec<f64>)]) -> String {
    draw(title, (720, 300), |root| {
        let n = dates.len().max(2);
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(36)
            .x_label_area_size(32)
            .y_label_area_size(48)
            .build_cartesian_2d(0usize..n - 1, 0f64..100f64)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(dates.len().clamp(2, 8))
            .x_label_formatter(&|i| {
                dates
                    .get(*i)
                    .map(|d| d[5..].to_string())
                    .unwrap_or_default()
            })
            .y_labels(6)
            .y_label_formatter(&|v| format!("{v:.0}%"))
            .label_style(("sans-serif", 15))
            .draw()?;
        for (slot, values) in series {
            let colour = rgb(level_colour(*slot));
            chart.draw_series(LineSeries::new(
                values.iter().copied().enumerate(),
                colour.stroke_width(3),
            ))?;
            chart.draw_series(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Circle::new((i, *v), 4, colour.filled())),
            )?;
        }
        Ok(())
    })
}

/// What a chart's painting closure returns.
pub(crate) type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Runs `paint` on an SVG drawing area and returns the SVG, named by
/// `title` for screen readers (`role="img"`, `aria-label`, `<title>`).
pub(crate) fn draw(
    title: &str,
    size: (u32, u32),
    paint: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> DrawResult,
) -> String {
    draw_classed(title, size, None, paint)
}

/// [`draw`], with a CSS class on the `<svg>` element.
pub(crate) fn draw_classed(
    title: &str,
    size: (u32, u32),
    class: Option<&str>,
    paint: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> DrawResult,
) -> String {
    let mut svg = String::new();
    let ok = {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        paint(&root).is_ok() && root.present().is_ok()
    };
    if !ok {
        return String::new();
    }
    let name = super::escape(title);
    let class = class
        .map(|c| format!(" class=\"{}\"", super::escape(c)))
        .unwrap_or_default();
    match svg.find("<svg") {
        Some(start) => {
            let end = svg[start..].find('>').map_or(svg.len(), |e| start + e);
            format!(
                "<svg{class} role=\"img\" aria-label=\"{name}\"{}><title>{name}</title>{}",
                &svg[start + 4..end],
                &svg[end + 1..]
            )
        }
        None => svg,
    }
}

/// A label cut to `max` characters with an ellipsis.
pub(crate) fn short(text: &str, max: usize) -> String {
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
    fn charts_are_svg_with_an_escaped_accessible_name() {
        let svg = stacked(
            "Levels <b>",
            &[StackedRow {
                label: "<script>alert(1)</script>".into(),
                counts: vec![1, 2, 3],
            }],
        );
        assert!(svg.contains("<svg role=\"img\" aria-label=\"Levels &lt;b&gt;\""));
        assert!(svg.contains("<title>Levels &lt;b&gt;</title>"));
        assert!(!svg.contains("<script>"), "{svg}");
        let t = trend(
            "t",
            &["2026-01-01".into(), "2026-01-08".into()],
            &[(1, vec![10.0, 20.0])],
        );
        assert!(t.contains("<path") || t.contains("<polyline"), "{t}");
    }
}
