//! The questions asked of an [`Aggregate`]: cost per period, service,
//! entity or tag over a range, per currency (never summed across
//! currencies), with the change against the previous period and anomalies;
//! the unallocated share; and one entity's last month (for `show`,
//! `who-owns` and the `cost.*` scorecard facts).
//!
//! Anomaly: a period whose amount is more than `k` standard deviations
//! above the mean of the `window` periods before it (at least 3 of them).
//! The deviation is floored at 1% of the mean, so a perfectly flat history
//! does not make a one-cent rise an anomaly.

use std::collections::{BTreeMap, HashSet};

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

use super::aggregate::{Aggregate, UNALLOCATED};
use super::config::AnomalySettings;
use super::read::{civil_from_days, days_from_civil, days_in_month};
use crate::catalog::relations::RelationType;
use crate::catalog::{Catalog, Entity};

/// What rows are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    /// Calendar day (UTC).
    Day,
    /// ISO week.
    Week,
    /// Calendar month.
    Month,
    /// `ServiceName`.
    Service,
    /// The entity the row is allocated to.
    Entity,
    /// Tag `key=value` (a row adds to each of its tags).
    Tag,
}

impl By {
    /// Whether the groups are periods.
    pub fn is_time(self) -> bool {
        matches!(self, By::Day | By::Week | By::Month)
    }
}

/// A question.
#[derive(Debug, Clone)]
pub struct Query {
    /// Grouping.
    pub by: By,
    /// First day (inclusive), days since the epoch.
    pub from: Option<i32>,
    /// Last day (inclusive).
    pub to: Option<i32>,
    /// Only rows of these entities (`None`: the whole bill).
    pub scope: Option<HashSet<u32>>,
    /// Only unallocated rows.
    pub unallocated: bool,
    /// Anomaly settings.
    pub anomaly: AnomalySettings,
}

/// One line of the answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    /// Period label, service, entity key (`unallocated`), or `key=value`.
    pub key: String,
    /// `BillingCurrency`.
    pub currency: String,
    /// The sum (a decimal string in JSON: exact).
    pub amount: Decimal,
    /// The previous period's (or the same key's in the previous window).
    pub previous: Option<Decimal>,
    /// Change against `previous`, percent (none when it was 0 or absent).
    pub change_pct: Option<f64>,
    /// More than k standard deviations above the trailing mean.
    pub anomaly: bool,
}

/// The unallocated part of a currency's total.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Share {
    /// `BillingCurrency`.
    pub currency: String,
    /// Unallocated amount.
    pub amount: Decimal,
    /// Of the currency's total, percent.
    pub share_pct: f64,
}

/// The answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Grouping.
    pub by: By,
    /// First day of the range (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Last day of the range.
    pub to: Option<String>,
    /// The lines.
    pub lines: Vec<Line>,
    /// Per currency.
    pub totals: Vec<Line>,
    /// Unallocated per currency (whole-bill questions only).
    pub unallocated: Vec<Share>,
}

/// A day as `YYYY-MM-DD`.
pub fn date(day: i32) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

fn month_start(day: i32) -> i32 {
    let (y, m, _) = civil_from_days(day);
    days_from_civil(y as i64, m, 1)
}

fn next_month(day: i32) -> i32 {
    let (y, m, _) = civil_from_days(day);
    let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    days_from_civil(y as i64, m, 1)
}

/// The start of the period containing `day`.
fn period_start(by: By, day: i32) -> i32 {
    match by {
        By::Day => day,
        // 1970-01-01 was a Thursday; ISO weeks start on Monday.
        By::Week => day - (day + 3).rem_euclid(7),
        _ => month_start(day),
    }
}

fn period_next(by: By, start: i32) -> i32 {
    match by {
        By::Day => start + 1,
        By::Week => start + 7,
        _ => next_month(start),
    }
}

fn period_label(by: By, start: i32) -> String {
    match by {
        By::Day => date(start),
        By::Week => {
            // ISO week-numbering year and week of the Thursday.
            let thursday = start + 3;
            let (y, _, _) = civil_from_days(thursday);
            let jan1 = days_from_civil(y as i64, 1, 1);
            format!("{y}-W{:02}", (thursday - jan1) / 7 + 1)
        }
        _ => {
            let (y, m, _) = civil_from_days(start);
            format!("{y:04}-{m:02}")
        }
    }
}

/// Parses `--from`/`--to`: `YYYY-MM-DD` or `YYYY-MM` (the month's first
/// day, or with `end` its last).
pub fn parse_bound(text: &str, end: bool) -> Option<i32> {
    if text.len() == 7 {
        let first = super::read::parse_day(&format!("{text}-01"))?;
        if end {
            let (y, m, _) = civil_from_days(first);
            return Some(first + days_in_month(y, m) as i32 - 1);
        }
        return Some(first);
    }
    if text.len() != 10 {
        return None;
    }
    super::read::parse_day(text)
}

fn pct(now: Decimal, before: Decimal) -> Option<f64> {
    if before.is_zero() {
        return None;
    }
    ((now - before) / before.abs() * Decimal::ONE_HUNDRED).to_f64()
}

fn anomalous(history: &[Decimal], now: Decimal, s: &AnomalySettings) -> bool {
    let h: Vec<f64> = history
        .iter()
        .rev()
        .take(s.window)
        .filter_map(|d| d.to_f64())
        .collect();
    if h.len() < 3 {
        return false;
    }
    let mean = h.iter().sum::<f64>() / h.len() as f64;
    let var = h.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / h.len() as f64;
    let sd = var.sqrt().max(mean.abs() * 0.01);
    now.to_f64().is_some_and(|x| x > mean + s.k * sd)
}

impl Aggregate {
    /// Every (day, currency, key, amount) the query selects, before ranges.
    fn selected(&self, q: &Query) -> Vec<(i32, u16, String, Decimal)> {
        if q.by == By::Tag {
            return self
                .tag_cells
                .iter()
                .filter(|c| !(q.unallocated && c.allocated))
                .map(|c| {
                    let tag = &self.tags[c.tag as usize];
                    let key = if tag.is_empty() {
                        "(no tags)".to_string()
                    } else {
                        tag.clone()
                    };
                    (c.day, c.currency, key, c.amount.into())
                })
                .collect();
        }
        self.cells
            .iter()
            .filter(|c| !q.unallocated || c.entity == UNALLOCATED)
            .filter(|c| q.scope.as_ref().is_none_or(|s| s.contains(&c.entity)))
            .map(|c| {
                let key = match q.by {
                    By::Service => self.services[c.service as usize].clone(),
                    By::Entity => self.entity_name(c.entity),
                    _ => String::new(),
                };
                (c.day, c.currency, key, c.amount.into())
            })
            .collect()
    }

    /// The entity key of an index, or `unallocated`.
    pub fn entity_name(&self, e: u32) -> String {
        if e == UNALLOCATED {
            "unallocated".into()
        } else {
            self.entities[e as usize].clone()
        }
    }

    /// The last day with data, if any.
    pub fn last_day(&self) -> Option<i32> {
        self.cells.iter().map(|c| c.day).max()
    }

    /// Answers a question.
    pub fn report(&self, q: &Query) -> Report {
        let rows = self.selected(q);
        let cur = |i: u16| self.currencies[i as usize].clone();
        let mut lines = Vec::new();
        let mut totals = Vec::new();
        let (from, to);
        if q.by.is_time() {
            let in_range = |d: i32| q.from.is_none_or(|f| d >= f) && q.to.is_none_or(|t| d <= t);
            // Every currency's series, gaps filled with zero.
            let mut series: BTreeMap<u16, BTreeMap<i32, Decimal>> = BTreeMap::new();
            for (day, c, _, a) in &rows {
                if in_range(*day) {
                    *series
                        .entry(*c)
                        .or_default()
                        .entry(period_start(q.by, *day))
                        .or_default() += *a;
                }
            }
            let first = series
                .values()
                .filter_map(|s| s.keys().next().copied())
                .min();
            let last = series
                .values()
                .filter_map(|s| s.keys().last().copied())
                .max();
            from = q.from.or(first);
            to = q.to.or(last.map(|l| period_next(q.by, l) - 1));
            if let (Some(first), Some(last)) = (first, last) {
                for (c, s) in &series {
                    let mut history: Vec<Decimal> = Vec::new();
                    let mut p = first;
                    let mut total = Decimal::ZERO;
                    while p <= last {
                        let a = s.get(&p).copied().unwrap_or_default();
                        let previous = history.last().copied();
                        lines.push(Line {
                            key: period_label(q.by, p),
                            currency: cur(*c),
                            amount: a,
                            previous,
                            change_pct: previous.and_then(|b| pct(a, b)),
                            anomaly: anomalous(&history, a, &q.anomaly),
                        });
                        history.push(a);
                        total += a;
                        p = period_next(q.by, p);
                    }
                    totals.push(Line {
                        key: "total".into(),
                        currency: cur(*c),
                        amount: total,
                        previous: None,
                        change_pct: None,
                        anomaly: false,
                    });
                }
                lines.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| a.currency.cmp(&b.currency)));
            }
        } else {
            // Default range: the last month with data.
            let last = rows.iter().map(|r| r.0).max();
            let f = q.from.or(last.map(month_start));
            let t = q.to.or(last.map(|l| next_month(l) - 1));
            from = f;
            to = t;
            let (Some(f), Some(t)) = (f, t) else {
                return Report {
                    by: q.by,
                    from: None,
                    to: None,
                    lines,
                    totals,
                    unallocated: Vec::new(),
                };
            };
            // The previous window: the month before a whole month, else the
            // same number of days before.
            let whole_month = f == month_start(f) && t == next_month(f) - 1;
            let (pf, pt) = if whole_month {
                let p = month_start(f - 1);
                (p, f - 1)
            } else {
                (f - (t - f + 1), f - 1)
            };
            let mut now: BTreeMap<(String, u16), Decimal> = BTreeMap::new();
            let mut before: BTreeMap<(String, u16), Decimal> = BTreeMap::new();
            for (day, c, key, a) in rows {
                if (f..=t).contains(&day) {
                    *now.entry((key, c)).or_default() += a;
                } else if (pf..=pt).contains(&day) {
                    *before.entry((key, c)).or_default() += a;
                }
            }
            let mut sum: BTreeMap<u16, (Decimal, Decimal)> = BTreeMap::new();
            for ((key, c), a) in &now {
                let previous = before.get(&(key.clone(), *c)).copied();
                lines.push(Line {
                    key: key.clone(),
                    currency: cur(*c),
                    amount: *a,
                    previous,
                    change_pct: previous.and_then(|b| pct(*a, b)),
                    anomaly: false,
                });
                sum.entry(*c).or_default().0 += *a;
            }
            if q.by != By::Tag {
                for ((_, c), b) in &before {
                    sum.entry(*c).or_default().1 += *b;
                }
            }
            lines.sort_by(|a, b| {
                a.currency
                    .cmp(&b.currency)
                    .then(b.amount.cmp(&a.amount))
                    .then_with(|| a.key.cmp(&b.key))
            });
            // Per-tag sums count a row once per tag: no meaningful total.
            if q.by != By::Tag {
                for (c, (a, b)) in sum {
                    let previous = (!b.is_zero()).then_some(b);
                    totals.push(Line {
                        key: "total".into(),
                        currency: cur(c),
                        amount: a,
                        previous,
                        change_pct: previous.and_then(|b| pct(a, b)),
                        anomaly: false,
                    });
                }
            }
        }
        let unallocated = if q.scope.is_none() && !q.unallocated && q.by != By::Tag {
            self.unallocated_share(from, to)
        } else {
            Vec::new()
        };
        Report {
            by: q.by,
            from: from.map(date),
            to: to.map(date),
            lines,
            totals,
            unallocated,
        }
    }

    fn unallocated_share(&self, from: Option<i32>, to: Option<i32>) -> Vec<Share> {
        let mut per: BTreeMap<u16, (Decimal, Decimal)> = BTreeMap::new();
        for c in &self.cells {
            if from.is_some_and(|f| c.day < f) || to.is_some_and(|t| c.day > t) {
                continue;
            }
            let e = per.entry(c.currency).or_default();
            let a: Decimal = c.amount.into();
            e.0 += a;
            if c.entity == UNALLOCATED {
                e.1 += a;
            }
        }
        per.into_iter()
            .map(|(c, (total, un))| Share {
                currency: self.currencies[c as usize].clone(),
                amount: un,
                share_pct: if total.is_zero() {
                    0.0
                } else {
                    (un / total * Decimal::ONE_HUNDRED).to_f64().unwrap_or(0.0)
                },
            })
            .collect()
    }

    /// An entity's last full month before `today` per currency: the
    /// amount, the change against the month before, and whether it is an
    /// anomaly against the months before that.
    pub fn last_month(
        &self,
        scope: &HashSet<u32>,
        today: i32,
        anomaly: &AnomalySettings,
    ) -> Vec<Summary> {
        let this_month = month_start(today);
        let q = Query {
            by: By::Month,
            from: None,
            to: Some(this_month - 1),
            scope: Some(scope.clone()),
            unallocated: false,
            anomaly: *anomaly,
        };
        let last = period_label(By::Month, month_start(this_month - 1));
        self.report(&q)
            .lines
            .into_iter()
            .filter(|l| l.key == last)
            .map(|l| Summary {
                month: l.key,
                currency: l.currency,
                amount: l.amount,
                change_pct: l.change_pct,
                anomaly: l.anomaly,
            })
            .collect()
    }

    /// The entity indexes whose rows count for `entity`: itself; for a
    /// Group, its sub-groups and everything any of them owns; for a System
    /// or Domain, its parts (recursively). A set, so nothing counts twice.
    pub fn scope(&self, catalog: &Catalog, entity: &Entity) -> HashSet<u32> {
        let mut keys: HashSet<String> = HashSet::from([entity.entity_ref().key()]);
        let mut stack = vec![entity.entity_ref()];
        while let Some(r) = stack.pop() {
            let Some(e) = catalog.get(&r) else { continue };
            let follow: &[RelationType] = match e.kind_key().as_str() {
                "group" => &[RelationType::ParentOf, RelationType::OwnerOf],
                "system" | "domain" => &[RelationType::HasPart, RelationType::OwnerOf][..1],
                _ => &[],
            };
            for rel in follow {
                for t in e.related(*rel) {
                    if keys.insert(t.key()) {
                        stack.push(t.clone());
                    }
                }
            }
        }
        self.entities
            .iter()
            .enumerate()
            .filter(|(_, k)| keys.contains(*k))
            .map(|(i, _)| i as u32)
            .collect()
    }
}

/// One currency of an entity's last month.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// `YYYY-MM`.
    pub month: String,
    /// `BillingCurrency`.
    pub currency: String,
    /// The sum.
    pub amount: Decimal,
    /// Against the month before, percent.
    pub change_pct: Option<f64>,
    /// An anomaly.
    pub anomaly: bool,
}
