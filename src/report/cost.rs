//! The report's cost block (a [`Section`]): on the home page, last month's
//! cost per team and per service; on a team's page, its monthly cost and
//! its services; on an entity's page, its monthly cost. From the cost
//! aggregate the command already has (the cache of `idp cost`, or the
//! published monthly aggregate): the report never reads billing files.
//!
//! Charts are plotters SVG bars in one currency (the one with the largest
//! total last month: currencies are never summed); every amount, in every
//! currency, is also in a small table beside the chart. Service names and
//! catalog names are untrusted: plotters escapes the SVG text, and the
//! tables go through [`escape`]. The output depends on the aggregate, the
//! catalog and `today` only, so two runs give the same bytes.

use std::collections::{BTreeMap, HashMap, HashSet};

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::charts::{draw_classed, short};
use super::{escape, Section};
use crate::catalog::{Catalog, Entity};
use crate::cost::read::{civil_from_days, days_from_civil};
use crate::cost::Aggregate;

/// Months shown in a monthly chart.
const MONTHS: usize = 12;
/// Bars in a per-team or per-service chart.
const TOP: usize = 12;

/// A month as `(year, month)`, ordered.
type Month = (i32, u32);

/// The cost block of the report.
pub struct CostSection {
    /// Per entity index: per (month, currency) the sum, months in range.
    monthly: HashMap<u32, BTreeMap<(Month, String), Decimal>>,
    /// Per entity index: last month's per (service, currency).
    services: HashMap<u32, BTreeMap<(String, String), Decimal>>,
    /// The months charted, oldest first; the last is last month.
    months: Vec<Month>,
    /// Home: per team, last month's per currency.
    teams: Vec<(String, BTreeMap<String, Decimal>)>,
    /// Home: the whole bill's last month per (service, currency).
    bill_services: BTreeMap<(String, String), Decimal>,
    /// Entity key → the indexes that count for it (a group: its own, its
    /// sub-teams', and what they own).
    scopes: HashMap<String, HashSet<u32>>,
}

fn month_of(day: i32) -> Month {
    let (y, m, _) = civil_from_days(day);
    (y, m)
}

fn label((y, m): Month) -> String {
    format!("{y:04}-{m:02}")
}

fn previous((y, m): Month) -> Month {
    if m == 1 {
        (y - 1, 12)
    } else {
        (y, m - 1)
    }
}

impl CostSection {
    /// The block for `aggregate` over `catalog`, for the full months before
    /// `today` (days since 1970-01-01).
    pub fn new(aggregate: &Aggregate, catalog: &Catalog, today: i32) -> Self {
        let (y, m, _) = civil_from_days(today);
        let last = previous((y, m));
        let mut months = vec![last];
        while months.len() < MONTHS {
            months.push(previous(*months.last().expect("not empty")));
        }
        months.reverse();
        let first_day = days_from_civil(months[0].0 as i64, months[0].1, 1);
        let this_month = days_from_civil(y as i64, m, 1);
        let mut monthly: HashMap<u32, BTreeMap<(Month, String), Decimal>> = HashMap::new();
        let mut services: HashMap<u32, BTreeMap<(String, String), Decimal>> = HashMap::new();
        let mut bill_services: BTreeMap<(String, String), Decimal> = BTreeMap::new();
        for c in &aggregate.cells {
            if c.day < first_day || c.day >= this_month {
                continue;
            }
            let amount = Decimal::from(c.amount);
            let currency = aggregate.currencies[c.currency as usize].clone();
            let month = month_of(c.day);
            *monthly
                .entry(c.entity)
                .or_default()
                .entry((month, currency.clone()))
                .or_default() += amount;
            if month == last {
                let service = aggregate.services[c.service as usize].clone();
                *services
                    .entry(c.entity)
                    .or_default()
                    .entry((service.clone(), currency.clone()))
                    .or_default() += amount;
                *bill_services.entry((service, currency)).or_default() += amount;
            }
        }
        let mut scopes = HashMap::new();
        let mut teams = Vec::new();
        for e in &catalog.entities {
            let kind = e.kind_key();
            if !matches!(kind.as_str(), "group" | "system" | "domain")
                && !aggregate
                    .entities
                    .iter()
                    .any(|k| *k == e.entity_ref().key())
            {
                continue;
            }
            let scope = aggregate.scope(catalog, e);
            if scope.is_empty() {
                continue;
            }
            if kind == "group" {
                let mut per: BTreeMap<String, Decimal> = BTreeMap::new();
                for i in &scope {
                    for ((month, cur), a) in monthly.get(i).into_iter().flatten() {
                        if *month == last {
                            *per.entry(cur.clone()).or_default() += *a;
                        }
                    }
                }
                if !per.is_empty() {
                    teams.push((e.entity_ref().to_string(), per));
                }
            }
            scopes.insert(e.entity_ref().key(), scope);
        }
        teams.sort_by(|a, b| a.0.cmp(&b.0));
        CostSection {
            monthly,
            services,
            months,
            teams,
            bill_services,
            scopes,
        }
    }

    /// Per (month, currency) over a scope.
    fn series(&self, scope: &HashSet<u32>) -> BTreeMap<(Month, String), Decimal> {
        let mut out = BTreeMap::new();
        for i in scope {
            for (k, a) in self.monthly.get(i).into_iter().flatten() {
                *out.entry(k.clone()).or_default() += *a;
            }
        }
        out
    }

    /// Per (service, currency) of last month over a scope.
    fn scope_services(&self, scope: &HashSet<u32>) -> BTreeMap<(String, String), Decimal> {
        let mut out = BTreeMap::new();
        for i in scope {
            for (k, a) in self.services.get(i).into_iter().flatten() {
                *out.entry(k.clone()).or_default() += *a;
            }
        }
        out
    }

    /// The monthly block of an entity or team; `None` without cost.
    fn monthly_block(
        &self,
        who: &str,
        scope: &HashSet<u32>,
        with_services: bool,
    ) -> Option<String> {
        let series = self.series(scope);
        if series.is_empty() {
            return None;
        }
        let currency = main_currency(series.iter().map(|((_, c), a)| (c, *a)))?;
        let values: Vec<f64> = self
            .months
            .iter()
            .map(|m| {
                series
                    .get(&(*m, currency.clone()))
                    .and_then(Decimal::to_f64)
                    .unwrap_or(0.0)
            })
            .collect();
        let labels: Vec<String> = self.months.iter().map(|m| label(*m)).collect();
        let mut html = String::from("<div class=\"cost\">");
        html.push_str(&columns(
            &format!("Monthly cost of {who} ({currency})"),
            &labels,
            &values,
        ));
        // Every currency, last month and the month before.
        let last = *self.months.last().expect("months");
        let before = previous(last);
        let currencies: Vec<&String> = {
            let mut c: Vec<&String> = series.keys().map(|(_, c)| c).collect();
            c.sort();
            c.dedup();
            c
        };
        html.push_str("<table class=\"cost-table\"><thead><tr><th>Currency</th>");
        html.push_str(&format!(
            "<th>{}</th><th>{}</th></tr></thead><tbody>",
            label(before),
            label(last)
        ));
        for c in currencies {
            let get = |m: Month| series.get(&(m, c.clone())).copied().unwrap_or_default();
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(c),
                money(get(before)),
                money(get(last))
            ));
        }
        html.push_str("</tbody></table>");
        if with_services {
            let services = self.scope_services(scope);
            html.push_str(&bars_block(
                &format!("Last month per service, {who}"),
                &services,
            ));
        }
        html.push_str("</div>");
        Some(html)
    }
}

/// The currency with the largest amount (ties: alphabetical).
fn main_currency<'a>(amounts: impl Iterator<Item = (&'a String, Decimal)>) -> Option<String> {
    let mut per: BTreeMap<&String, Decimal> = BTreeMap::new();
    for (c, a) in amounts {
        *per.entry(c).or_default() += a;
    }
    per.into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(c, _)| c.clone())
}

fn money(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

/// A chart of the top [`TOP`] keys in the main currency, and a table of
/// every key and currency; empty when there is nothing.
fn bars_block(title: &str, amounts: &BTreeMap<(String, String), Decimal>) -> String {
    let Some(currency) = main_currency(amounts.iter().map(|((_, c), a)| (c, *a))) else {
        return String::new();
    };
    let mut rows: Vec<(&String, Decimal)> = amounts
        .iter()
        .filter(|((_, c), _)| *c == currency)
        .map(|((k, _), a)| (k, *a))
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let chart_rows: Vec<(String, f64)> = rows
        .iter()
        .take(TOP)
        .map(|(k, a)| ((*k).clone(), a.to_f64().unwrap_or(0.0)))
        .collect();
    let mut html = bars(&format!("{title} ({currency})"), &chart_rows);
    let mut all: Vec<(&(String, String), &Decimal)> = amounts.iter().collect();
    all.sort_by(|a, b| {
        a.0 .1
            .cmp(&b.0 .1)
            .then_with(|| b.1.cmp(a.1))
            .then_with(|| a.0 .0.cmp(&b.0 .0))
    });
    html.push_str(&format!(
        "<details><summary>{}</summary><table class=\"cost-table\"><tbody>",
        escape(title)
    ));
    for ((k, c), a) in all {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{} {}</td></tr>",
            escape(k),
            money(*a),
            escape(c)
        ));
    }
    html.push_str("</tbody></table></details>");
    html
}

impl Section for CostSection {
    fn title(&self) -> &str {
        "Cost"
    }

    fn home(&self) -> Option<String> {
        if self.teams.is_empty() && self.bill_services.is_empty() {
            return None;
        }
        let last = label(*self.months.last().expect("months"));
        let teams: BTreeMap<(String, String), Decimal> = self
            .teams
            .iter()
            .flat_map(|(t, per)| per.iter().map(move |(c, a)| ((t.clone(), c.clone()), *a)))
            .collect();
        let mut html = String::from("<div class=\"cost\">");
        html.push_str(&bars_block(
            &format!("Cost per team in {last} (a team includes its sub-teams)"),
            &teams,
        ));
        html.push_str(&bars_block(
            &format!("Cost per service in {last}"),
            &self.bill_services,
        ));
        html.push_str("</div>");
        Some(html)
    }

    fn entity(&self, entity: &Entity) -> Option<String> {
        if entity.kind_key() == "group" {
            return None;
        }
        let scope = self.scopes.get(&entity.entity_ref().key())?;
        self.monthly_block(&entity.entity_ref().to_string(), scope, false)
    }

    fn team(&self, group: &Entity) -> Option<String> {
        let scope = self.scopes.get(&group.entity_ref().key())?;
        self.monthly_block(&group.entity_ref().to_string(), scope, true)
    }
}

fn rgb(hex: u32) -> RGBColor {
    RGBColor((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
}

const BAR: u32 = 0x2e7d6b;

/// Horizontal bars, largest first.
fn bars(title: &str, rows: &[(String, f64)]) -> String {
    let height = 60 + 28 * rows.len().max(1) as u32;
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-9) * 1.05;
    draw_classed(title, (720, height), Some("chart"), |root| {
        let labels: Vec<String> = rows.iter().map(|r| short(&r.0, 26)).collect();
        let mut chart = ChartBuilder::on(root)
            .margin(8)
            .margin_right(28)
            .x_label_area_size(28)
            .y_label_area_size(200)
            .build_cartesian_2d(0f64..max, (0..rows.len().max(1)).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(5)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_labels(rows.len().max(1))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) if *i < labels.len() => {
                    labels[labels.len() - 1 - *i].clone()
                }
                _ => String::new(),
            })
            .label_style(("sans-serif", 15))
            .draw()?;
        chart.draw_series(rows.iter().rev().enumerate().map(|(i, (_, v))| {
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(i)),
                    (v.max(0.0), SegmentValue::Exact(i + 1)),
                ],
                rgb(BAR).filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            bar
        }))?;
        Ok(())
    })
}

/// Vertical bars, one per month.
fn columns(title: &str, labels: &[String], values: &[f64]) -> String {
    let max = values.iter().copied().fold(0.0, f64::max).max(1e-9) * 1.1;
    draw_classed(title, (720, 280), Some("chart"), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(28)
            .x_label_area_size(32)
            .y_label_area_size(64)
            .build_cartesian_2d((0..values.len().max(1)).into_segmented(), 0f64..max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(values.len().max(1))
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels
                    .get(*i)
                    .map(|l| l.get(2..).unwrap_or(l).to_string())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .y_labels(5)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style(("sans-serif", 13))
            .draw()?;
        chart.draw_series(values.iter().enumerate().map(|(i, v)| {
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), v.max(0.0)),
                ],
                rgb(BAR).filled(),
            );
            bar.set_margin(0, 0, 4, 4);
            bar
        }))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_escape_hostile_names_and_are_deterministic() {
        let mut m = BTreeMap::new();
        m.insert(
            ("<script>alert(1)</script>".to_string(), "USD".to_string()),
            Decimal::new(1250, 2),
        );
        m.insert(("S3".to_string(), "EUR".to_string()), Decimal::new(3, 0));
        let a = bars_block("Per service <b>", &m);
        assert!(!a.contains("<script>"), "{a}");
        assert!(a.contains("&lt;script&gt;"), "{a}");
        assert!(a.contains("12.50 USD") && a.contains("3.00 EUR"), "{a}");
        assert!(a.contains("(USD)"), "{a}");
        assert_eq!(a, bars_block("Per service <b>", &m));
    }
}
