//! `idp dora`'s table (bands, trend arrows, the reasons of unknown keys,
//! the thresholds cited and how old the data is) and its CSV.

use std::io::{self, Write};

use idp::dora::metrics::{Key, Keys};
use idp::dora::Report;

use super::table::{Column, Table};
use super::Ui;

pub use idp::dora::metrics::{duration, frequency};

fn cell(key: &Key, text: impl Fn(f64) -> String) -> String {
    match (key.value, &key.unknown) {
        (Some(v), _) => {
            let mut s = text(v);
            if let Some(t) = key.trend {
                s.push(' ');
                s.push_str(t.arrow());
            }
            if let Some(b) = key.band {
                s.push(' ');
                s.push_str(b.as_str());
            }
            if let Some(c) = &key.coverage {
                s.push_str(&format!(" ({c})"));
            }
            s
        }
        _ => "unknown".into(),
    }
}

fn row(name: &str, k: &Keys) -> Vec<String> {
    vec![
        name.to_string(),
        cell(&k.deployment_frequency, frequency),
        cell(&k.lead_time, |v| match k.lead_time.p90 {
            Some(p) => format!("{} / {}", duration(v), duration(p)),
            None => duration(v),
        }),
        cell(&k.change_failure_rate, |v| {
            format!(
                "{v:.0}% ({}/{})",
                k.change_failure_rate.count.unwrap_or(0),
                k.change_failure_rate.of.unwrap_or(0)
            )
        }),
        cell(&k.recovery_time, duration),
    ]
}

fn columns(first: &str) -> Vec<Column> {
    vec![
        Column::keep(first, 9),
        Column::keep("Deploys", 8),
        Column::keep("Lead time (median / p90)", 7),
        Column::keep("Change failure", 6),
        Column::keep("Recovery", 5),
    ]
}

fn unknowns(out: &mut dyn Write, name: &str, k: &Keys) -> io::Result<()> {
    // Keys that are unknown for the same reason share a line.
    let mut by_reason: Vec<(&str, Vec<&str>)> = Vec::new();
    for (what, key) in [
        ("deployment frequency", &k.deployment_frequency),
        ("lead time", &k.lead_time),
        ("change failure rate", &k.change_failure_rate),
        ("recovery time", &k.recovery_time),
    ] {
        if let Some(why) = &key.unknown {
            match by_reason.iter_mut().find(|(w, _)| w == why) {
                Some((_, keys)) => keys.push(what),
                None => by_reason.push((why, vec![what])),
            }
        }
    }
    for (why, keys) in by_reason {
        let keys = if keys.len() == 4 {
            "every key".to_string()
        } else {
            keys.join(", ")
        };
        writeln!(
            out,
            "  {}  {keys}: {}",
            super::sanitize::line(name),
            super::sanitize::line(why)
        )?;
    }
    Ok(())
}

/// The table.
pub fn table(out: &mut dyn Write, ui: &Ui, r: &Report) -> io::Result<()> {
    writeln!(
        out,
        "DORA keys over {} ({} → {}), environment {}",
        r.window.length,
        r.window.current.from.format("%Y-%m-%d"),
        r.window.current.to.format("%Y-%m-%d"),
        super::sanitize::line(&r.environment)
    )?;
    writeln!(out)?;
    let mut t = Table::new(columns("Entity"));
    for e in &r.entities {
        t.add_row(row(&e.entity, &e.keys));
    }
    ui.write_table(out, &t)?;
    if !r.teams.is_empty() {
        writeln!(out)?;
        let mut t = Table::new(columns("Team"));
        for team in &r.teams {
            t.add_row(row(&team.team, &team.keys));
        }
        ui.write_table(out, &t)?;
    }
    let has_unknown = r
        .entities
        .iter()
        .map(|e| &e.keys)
        .chain(r.teams.iter().map(|t| &t.keys))
        .any(|k| {
            [
                &k.deployment_frequency,
                &k.lead_time,
                &k.change_failure_rate,
                &k.recovery_time,
            ]
            .iter()
            .any(|k| k.unknown.is_some())
        });
    if has_unknown {
        writeln!(out, "\nUnknown (never counted as zero):")?;
        for e in &r.entities {
            unknowns(out, &e.entity, &e.keys)?;
        }
        for t in &r.teams {
            unknowns(out, &t.team, &t.keys)?;
        }
    }
    let b = &r.bands;
    let f = |i: usize| frequency(b.deployments_per_day[i]);
    let d = |v: f64| duration(v);
    writeln!(
        out,
        "\nBands ({}):\n  deployment frequency  elite ≥ {}, high ≥ {}, medium ≥ {}\n  lead time (median)    elite < {}, high < {}, medium < {}\n  change failure rate   elite ≤ {}%, high ≤ {}%, medium ≤ {}%\n  recovery (median)     elite < {}, high < {}, medium < {}\n  below medium is low; arrows compare with the previous {} ({} → {}).",
        super::sanitize::line(&b.source),
        f(0), f(1), f(2),
        d(b.lead_time_secs[0]), d(b.lead_time_secs[1]), d(b.lead_time_secs[2]),
        b.change_failure_percent[0], b.change_failure_percent[1], b.change_failure_percent[2],
        d(b.recovery_secs[0]), d(b.recovery_secs[1]), d(b.recovery_secs[2]),
        r.window.length,
        r.window.previous.from.format("%Y-%m-%d"),
        r.window.previous.to.format("%Y-%m-%d"),
    )?;
    let oldest = r
        .entities
        .iter()
        .filter_map(|e| e.data.as_ref())
        .max_by_key(|d| d.age_seconds);
    if let Some(data) = oldest {
        let mut origins: Vec<&str> = r
            .entities
            .iter()
            .filter_map(|e| e.data.as_ref().map(|d| d.origin.as_str()))
            .collect();
        origins.sort_unstable();
        origins.dedup();
        let origins: Vec<String> = origins
            .iter()
            .map(|o| match *o {
                "published" => "the published snapshot (refs/idp/live)".to_string(),
                "cache" => "the local cache".to_string(),
                _ => "the APIs".to_string(),
            })
            .collect();
        writeln!(
            out,
            "Data: from {}; oldest fetched {} ({} ago).",
            origins.join(", "),
            data.fetched_at.format("%Y-%m-%d %H:%M UTC"),
            duration(data.age_seconds as f64)
        )?;
    }
    Ok(())
}

/// One CSV row per entity, then per team; unknown cells say `unknown`.
pub fn csv(out: &mut dyn Write, r: &Report) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "scope",
        "name",
        "deployments_per_day",
        "deployment_frequency_band",
        "lead_time_median_hours",
        "lead_time_p90_hours",
        "lead_time_band",
        "change_failure_rate_percent",
        "change_failure_rate_band",
        "recovery_time_median_hours",
        "recovery_time_band",
        "unknown",
    ])?;
    let num = |k: &Key, scale: f64| {
        k.value
            .map_or_else(|| "unknown".to_string(), |v| format!("{:.4}", v * scale))
    };
    let band = |k: &Key| k.band.map_or("unknown", |b| b.as_str()).to_string();
    let rows = r
        .entities
        .iter()
        .map(|e| ("entity", &e.entity, &e.keys))
        .chain(r.teams.iter().map(|t| ("team", &t.team, &t.keys)));
    for (scope, name, k) in rows {
        let reasons: Vec<String> = [
            ("deployment_frequency", &k.deployment_frequency),
            ("lead_time", &k.lead_time),
            ("change_failure_rate", &k.change_failure_rate),
            ("recovery_time", &k.recovery_time),
        ]
        .iter()
        .filter_map(|(n, k)| k.unknown.as_ref().map(|w| format!("{n}: {w}")))
        .collect();
        let p90 = k
            .lead_time
            .p90
            .map_or_else(|| "unknown".to_string(), |v| format!("{:.4}", v / 3600.0));
        w.write_record([
            scope.to_string(),
            name.clone(),
            num(&k.deployment_frequency, 1.0),
            band(&k.deployment_frequency),
            num(&k.lead_time, 1.0 / 3600.0),
            p90,
            band(&k.lead_time),
            num(&k.change_failure_rate, 1.0),
            band(&k.change_failure_rate),
            num(&k.recovery_time, 1.0 / 3600.0),
            band(&k.recovery_time),
            reasons.join("; "),
        ])?;
    }
    w.flush()
}
