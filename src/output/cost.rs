//! `idp cost` as a table (one block per currency, anomalies marked `!`,
//! the unallocated share under it) and as CSV.

use std::io::{self, Write};

use rust_decimal::Decimal;

use super::table::{Column, Table};
use super::Ui;
use idp::cost::report::{By, Line, Report};
use idp::cost::DataFrom;

/// An amount with two decimals and thousands separators (`12,345.67`).
pub fn money(d: Decimal) -> String {
    let r = d.round_dp(2);
    let text = format!("{:.2}", r.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if r.is_sign_negative() && !r.is_zero() {
        "-"
    } else {
        ""
    };
    format!("{sign}{grouped}.{frac}")
}

/// A change in percent (`+12.3%`), or empty.
pub fn change(p: Option<f64>) -> String {
    p.map(|p| format!("{p:+.1}%")).unwrap_or_default()
}

fn heading(by: By) -> &'static str {
    match by {
        By::Day => "Day",
        By::Week => "Week",
        By::Month => "Month",
        By::Service => "Service",
        By::Entity => "Entity",
        By::Tag => "Tag",
    }
}

/// The table.
pub fn table(
    out: &mut dyn Write,
    ui: &Ui,
    title: &str,
    r: &Report,
    from: DataFrom,
) -> io::Result<()> {
    let range = match (&r.from, &r.to) {
        (Some(f), Some(t)) => format!("{f} to {t}"),
        _ => "no data".into(),
    };
    let source = match from {
        DataFrom::Files => "billing files",
        DataFrom::Cache => "billing files, cached",
        DataFrom::Published => "published monthly aggregate",
    };
    ui.heading(
        out,
        &format!("Cost of {title}"),
        &format!("{range} ({source})"),
    )?;
    if r.lines.is_empty() {
        return writeln!(out, "No cost in this range.");
    }
    let mut t = Table::new([
        Column::keep(heading(r.by), 100),
        Column::keep("Currency", 90),
        Column::keep("Amount", 95),
        Column::keep("Change", 80),
        Column::keep("", 85),
    ]);
    let row = |t: &mut Table, l: &Line| {
        t.add_row([
            l.key.clone(),
            l.currency.clone(),
            money(l.amount),
            change(l.change_pct),
            if l.anomaly {
                "! anomaly".to_string()
            } else {
                String::new()
            },
        ]);
    };
    for l in &r.lines {
        row(&mut t, l);
    }
    for l in &r.totals {
        row(&mut t, l);
    }
    ui.write_table(out, &t)?;
    for s in &r.unallocated {
        writeln!(
            out,
            "unallocated: {} {} ({:.1}% of {}); `idp cost --unallocated --by tag` shows what to tag",
            money(s.amount),
            s.currency,
            s.share_pct,
            s.currency
        )?;
    }
    if r.lines.iter().any(|l| l.anomaly) {
        writeln!(
            out,
            "! = more than k standard deviations above the trailing mean"
        )?;
    }
    Ok(())
}

/// CSV: `key,currency,amount,previous,change_pct,anomaly`, amounts exact.
pub fn csv(out: &mut dyn Write, r: &Report) -> io::Result<()> {
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record([
        "key",
        "currency",
        "amount",
        "previous",
        "change_pct",
        "anomaly",
    ])?;
    for l in r.lines.iter().chain(&r.totals) {
        w.write_record([
            l.key.clone(),
            l.currency.clone(),
            l.amount.normalize().to_string(),
            l.previous
                .map(|p| p.normalize().to_string())
                .unwrap_or_default(),
            l.change_pct.map(|p| format!("{p:.2}")).unwrap_or_default(),
            l.anomaly.to_string(),
        ])?;
    }
    w.flush()
}

/// An entity's last month in one line (`1,234.56 USD in 2026-10, +12.3%
/// on the month before`), currencies apart; `None` when there is nothing.
pub fn last_month_line(summaries: &[idp::cost::report::Summary]) -> Option<String> {
    if summaries.is_empty() {
        return None;
    }
    let parts: Vec<String> = summaries
        .iter()
        .map(|s| {
            let mut t = format!("{} {} in {}", money(s.amount), s.currency, s.month);
            if s.change_pct.is_some() {
                t.push_str(&format!(", {} on the month before", change(s.change_pct)));
            }
            if s.anomaly {
                t.push_str(" (anomaly)");
            }
            t
        })
        .collect();
    Some(parts.join("; "))
}

/// The `Cost` line of `show` and `who-owns`, when there is cost data.
pub fn passing_section(
    out: &mut dyn Write,
    ui: &Ui,
    summaries: &[idp::cost::report::Summary],
) -> io::Result<()> {
    if let Some(line) = last_month_line(summaries) {
        let h = super::style::paint(ui.color, super::style::HEADER, "Cost      ");
        writeln!(out, "\n{h}  {}", super::sanitize::line(&line))?;
    }
    Ok(())
}
