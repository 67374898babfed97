//! The DORA block of `idp report`: the four keys per team (home page), per
//! entity of a team (its page) and of one entity (its page), as a chart and
//! a table, with each key's band and the reason of every unknown one.
//!
//! It is built from a [`crate::dora::Report`] the command computes from
//! cached or published DORA inputs only (the report never asks an API), so
//! it also says how old those inputs are. Catalog text (team titles) and
//! reasons are escaped; the chart is plotters' SVG (which escapes its text)
//! named for screen readers. Same inputs, same bytes.

use std::collections::BTreeMap;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use super::charts::{draw, short};
use super::{escape, Section};
use crate::catalog::Entity;
use crate::dora::metrics::{duration, frequency, Band, Key, Keys};
use crate::dora::Report;

/// The DORA [`Section`].
pub struct DoraSection {
    report: Report,
    /// Display names of teams and entities, by key.
    names: BTreeMap<String, String>,
    /// When the oldest input used was fetched, in words, and from where.
    age: Option<String>,
}

impl DoraSection {
    /// The section of `report`; `names` gives display names by entity key
    /// (keys without one show their name), `age` says how old the inputs
    /// are ("cache, oldest fetched 3h ago").
    pub fn new(report: Report, names: BTreeMap<String, String>, age: Option<String>) -> Self {
        DoraSection { report, names, age }
    }

    fn name<'a>(&'a self, key: &'a str) -> &'a str {
        self.names
            .get(key)
            .map(String::as_str)
            .unwrap_or_else(|| key.rsplit('/').next().unwrap_or(key))
    }

    fn footer(&self) -> String {
        let r = &self.report;
        let w = &r.window;
        let mut s = format!(
            "<p class=\"muted\">Window {} ({} → {}), environment {}; arrows compare with the previous {}. Bands: {}.",
            escape(&w.length),
            w.current.from.format("%Y-%m-%d"),
            w.current.to.format("%Y-%m-%d"),
            escape(&r.environment),
            escape(&w.length),
            escape(&r.bands.source),
        );
        match &self.age {
            Some(age) => s.push_str(&format!(" Data: {}.", escape(age))),
            None => s.push_str(" Data: none cached."),
        }
        s.push_str("</p>");
        s
    }

    fn block(&self, chart_title: &str, first: &str, rows: &[(&str, &Keys)]) -> String {
        let labels: Vec<(String, &Keys)> = rows
            .iter()
            .map(|(key, k)| (self.name(key).to_string(), *k))
            .collect();
        let mut html = String::from("<div class=\"chart\">");
        html.push_str(&chart(chart_title, &labels));
        html.push_str("</div>");
        html.push_str(&table(first, &labels));
        html.push_str(&self.footer());
        html
    }
}

impl Section for DoraSection {
    fn title(&self) -> &str {
        "Delivery performance (DORA)"
    }

    fn home(&self) -> Option<String> {
        if self.report.teams.is_empty() {
            return None;
        }
        let rows: Vec<(&str, &Keys)> = self
            .report
            .teams
            .iter()
            .map(|t| (t.team.as_str(), &t.keys))
            .collect();
        Some(self.block("DORA keys per team", "Team", &rows))
    }

    fn team(&self, group: &Entity) -> Option<String> {
        let key = group.entity_ref().key();
        let team = self.report.teams.iter().find(|t| t.team == key)?;
        let mut rows: Vec<(&str, &Keys)> = vec![(team.team.as_str(), &team.keys)];
        rows.extend(
            self.report
                .entities
                .iter()
                .filter(|e| e.owner.as_deref() == Some(key.as_str()))
                .map(|e| (e.entity.as_str(), &e.keys)),
        );
        let title = format!("DORA keys of {} and its entities", self.name(&key));
        Some(self.block(&title, "Team / entity", &rows))
    }

    fn entity(&self, entity: &Entity) -> Option<String> {
        let key = entity.entity_ref().key();
        let row = self.report.entities.iter().find(|e| e.entity == key)?;
        let rows = [(self.name(&key).to_string(), &row.keys)];
        Some(table("Entity", &rows) + &self.footer())
    }
}

/// The four keys as drawn: a title, the value in the chart's unit, the
/// axis text.
struct Metric {
    title: &'static str,
    get: fn(&Keys) -> &Key,
    scale: f64,
    axis: fn(f64) -> String,
    text: fn(&Key) -> String,
}

const METRICS: [Metric; 4] = [
    Metric {
        title: "Deployments per week",
        get: |k| &k.deployment_frequency,
        scale: 7.0,
        axis: |v| format!("{v:.1}"),
        text: |k| k.value.map(frequency).unwrap_or_default(),
    },
    Metric {
        title: "Lead time, median (hours)",
        get: |k| &k.lead_time,
        scale: 1.0 / 3600.0,
        axis: |v| format!("{v:.0}h"),
        text: |k| match (k.value, k.p90) {
            (Some(v), Some(p)) => format!("{} / {}", duration(v), duration(p)),
            (Some(v), None) => duration(v),
            _ => String::new(),
        },
    },
    Metric {
        title: "Change failure rate (%)",
        get: |k| &k.change_failure_rate,
        scale: 1.0,
        axis: |v| format!("{v:.0}%"),
        text: |k| match (k.value, k.count, k.of) {
            (Some(v), Some(n), Some(of)) => format!("{v:.0}% ({n}/{of})"),
            (Some(v), ..) => format!("{v:.0}%"),
            _ => String::new(),
        },
    },
    Metric {
        title: "Recovery time, median (hours)",
        get: |k| &k.recovery_time,
        scale: 1.0 / 3600.0,
        axis: |v| format!("{v:.0}h"),
        text: |k| k.value.map(duration).unwrap_or_default(),
    },
];

/// A band's colour (unknown keys draw no bar).
fn band_colour(band: Option<Band>) -> RGBColor {
    match band {
        Some(Band::Elite) => RGBColor(0x2e, 0x7d, 0x6b),
        Some(Band::High) => RGBColor(0x5b, 0x5b, 0xd6),
        Some(Band::Medium) => RGBColor(0xd4, 0xa0, 0x17),
        Some(Band::Low) => RGBColor(0xd9, 0x53, 0x4f),
        None => RGBColor(0x7b, 0x87, 0x94),
    }
}

/// The four keys as rows of a table: value, trend arrow, band, coverage;
/// unknown keys say why.
fn table(first: &str, rows: &[(String, &Keys)]) -> String {
    let mut html = format!(
        "<table class=\"dora\"><thead><tr><th>{}</th>",
        escape(first)
    );
    for m in &METRICS {
        html.push_str(&format!("<th>{}</th>", escape(m.title)));
    }
    html.push_str("</tr></thead><tbody>");
    for (name, keys) in rows {
        html.push_str(&format!("<tr><td>{}</td>", escape(name)));
        for m in &METRICS {
            let key = (m.get)(keys);
            let cell = match (&key.unknown, key.value) {
                (None, Some(_)) => {
                    let mut s = escape(&(m.text)(key));
                    if let Some(t) = key.trend {
                        s.push(' ');
                        s.push_str(t.arrow());
                    }
                    if let Some(b) = key.band {
                        s.push_str(&format!(
                            " <span class=\"band band-{0}\">{0}</span>",
                            b.as_str()
                        ));
                    }
                    if let Some(c) = &key.coverage {
                        s.push_str(&format!(" ({} known)", escape(c)));
                    }
                    s
                }
                (why, _) => format!("unknown: {}", escape(why.as_deref().unwrap_or("no value"))),
            };
            html.push_str(&format!("<td>{cell}</td>"));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

/// Four panels of horizontal bars (one per key), one bar per row,
/// coloured by band; an unknown key has no bar.
fn chart(title: &str, rows: &[(String, &Keys)]) -> String {
    let n = rows.len().max(1);
    let panel_height = 56 + 26 * n as u32;
    let labels: Vec<String> = rows.iter().map(|(l, _)| short(l, 20)).collect();
    draw(title, (960, 2 * panel_height), |root| {
        for (panel, m) in root.split_evenly((2, 2)).iter().zip(&METRICS) {
            let values: Vec<Option<(f64, Option<Band>)>> = rows
                .iter()
                .map(|(_, k)| {
                    let key = (m.get)(k);
                    key.value.map(|v| (v * m.scale, key.band))
                })
                .collect();
            let max = values.iter().flatten().map(|v| v.0).fold(0.0, f64::max);
            let max = if max > 0.0 { max * 1.1 } else { 1.0 };
            let mut chart = ChartBuilder::on(panel)
                .caption(m.title, ("sans-serif", 15))
                .margin(6)
                .margin_right(18)
                .x_label_area_size(24)
                .y_label_area_size(150)
                .build_cartesian_2d(0f64..max, (0..n).into_segmented())?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .light_line_style(TRANSPARENT)
                .x_labels(4)
                .x_label_formatter(&|v| (m.axis)(*v))
                .y_labels(n)
                .y_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) if *i < labels.len() => {
                        labels[labels.len() - 1 - *i].clone()
                    }
                    _ => String::new(),
                })
                .label_style(("sans-serif", 13))
                .draw()?;
            chart.draw_series(values.iter().rev().enumerate().filter_map(|(i, v)| {
                let (v, band) = (*v)?;
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(i)),
                        (v, SegmentValue::Exact(i + 1)),
                    ],
                    band_colour(band).filled(),
                );
                bar.set_margin(4, 4, 0, 0);
                Some(bar)
            }))?;
        }
        Ok(())
    })
}
