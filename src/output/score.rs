//! Renderers for `idp score`: a table per scorecard (levels, what the next
//! level needs, the rules that are not passing, a summary), the JSON/YAML
//! contract, JUnit XML (one testsuite per scorecard, one testcase per entity
//! × rule), a markdown PR comment (regressions first) and SARIF (findings at
//! the descriptor's file and line). Also the Scorecards section of `show`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::json;

use super::sanitize;
use super::table::{Cell, Column, Table};
use super::{style, Ui};
use crate::catalog::refs::{EntityRef, DEFAULT_NAMESPACE};
use idp::score::gate::Gate;
use idp::score::{CardResult, Scorecard, Scorecards, State};

/// What `idp score -o json|yaml` prints.
#[derive(Debug, Serialize)]
pub struct ScoreReport<'a> {
    /// One entry per entity × scorecard that applies.
    pub results: &'a [CardResult],
    /// The gate.
    pub gate: &'a Gate,
}

fn short(entity: &str) -> String {
    EntityRef::parse(entity, None, DEFAULT_NAMESPACE)
        .map(|r| r.short(Some("component")))
        .unwrap_or_else(|_| entity.to_string())
}

/// A level as shown to people: its title, "?" when it depends on unknown
/// facts, "—" below the first level.
pub fn level_label(card: &Scorecard, r: &CardResult) -> String {
    let title = r
        .level_index
        .map(|l| card.levels[l].title.clone())
        .unwrap_or_else(|| "—".into());
    if r.uncertain {
        format!("{title}?")
    } else {
        title
    }
}

fn level_style(card: &Scorecard, r: &CardResult) -> anstyle::Style {
    match r.level_index {
        None => style::ERROR,
        Some(l) if l + 1 == card.levels.len() => style::STRONG,
        Some(_) => style::HEADER,
    }
}

fn needs(r: &CardResult) -> String {
    match &r.next_level {
        Some(next) if !r.next_needs.is_empty() => format!("{next}: {}", r.next_needs.join(", ")),
        _ => String::new(),
    }
}

/// The human report.
pub fn table(
    out: &mut dyn Write,
    ui: &Ui,
    set: &Scorecards,
    results: &[CardResult],
    gate: &Gate,
) -> io::Result<()> {
    let h = |s: &str| style::paint(ui.color, style::HEADER, s);
    for card in &set.cards {
        let mine: Vec<&CardResult> = results
            .iter()
            .filter(|r| r.scorecard == card.name)
            .collect();
        writeln!(
            out,
            "{}  {}",
            h(&sanitize::line(&card.title)),
            style::paint(
                ui.color,
                style::DIM,
                &format!(
                    "scorecard:{} · {} scored",
                    sanitize::line(&card.name),
                    mine.len()
                )
            )
        )?;
        if mine.is_empty() {
            writeln!(out, "no entity in scope")?;
            writeln!(out)?;
            continue;
        }
        // Each entity's short name once: it starts its row and each of its findings.
        let names: Vec<Cell> = mine.iter().map(|r| Cell::from(short(&r.entity))).collect();
        let mut t = Table::new([
            Column::keep("entity", 100),
            Column::keep("level", 90),
            Column::shrink("next level needs", 10, 16),
        ]);
        for (r, name) in mine.iter().zip(&names) {
            t.add_row([
                name.clone(),
                Cell::styled(level_label(card, r), level_style(card, r)),
                Cell::from(needs(r)),
            ]);
        }
        ui.write_table(out, &t)?;
        // The rule and its state matter more than the explanation.
        let mut findings = Table::new([
            Column::keep("entity", 100),
            Column::shrink("rule", 80, 12),
            Column::keep("state", 90),
            Column::shrink("message", 10, 16),
        ]);
        for (r, name) in mine.iter().zip(&names) {
            for o in r
                .rules
                .iter()
                .filter(|o| !matches!(o.state, State::Pass | State::Skipped | State::Exempt))
            {
                let message = o.message.as_deref().unwrap_or_default();
                let message = match &o.docs {
                    Some(d) if message.is_empty() => d.to_string(),
                    Some(d) => format!("{message} {d}"),
                    None => message.to_string(),
                };
                let state_style = match o.state {
                    State::Fail | State::Error => style::ERROR,
                    _ => style::WARNING,
                };
                findings.add_row([
                    name.clone(),
                    Cell::from(format!("{} ({})", o.id, o.level)),
                    Cell::styled(o.state.name(), state_style),
                    Cell::from(message),
                ]);
            }
        }
        if !findings.is_empty() {
            writeln!(out)?;
            ui.write_table(out, &findings)?;
        }
        writeln!(out)?;
        writeln!(out, "{}", sanitize::line(&summary(card, &mine)))?;
        if mine.iter().any(|r| r.uncertain) {
            writeln!(out, "? the level depends on live facts that are unavailable (--unknown fail counts them as failing)")?;
        }
        writeln!(out)?;
    }
    if let Some(regs) = &gate.regressions {
        if regs.is_empty() {
            writeln!(out, "no regressions")?;
        } else {
            writeln!(out, "{}", h(&format!("Regressions ({})", regs.len())))?;
            for r in regs {
                writeln!(out, "{}", sanitize::line(&regression_line(r)))?;
            }
        }
    }
    writeln!(out, "{}", gate_line(ui, gate))
}

fn regression_line(r: &idp::score::gate::Regression) -> String {
    let level = |l: &Option<String>| l.clone().unwrap_or_else(|| "none".into());
    let mut line = format!(
        "{}  {}: {} → {}",
        short(&r.entity),
        r.scorecard,
        level(&r.from),
        level(&r.to)
    );
    if !r.rules.is_empty() {
        line.push_str(&format!("; now failing: {}", r.rules.join(", ")));
    }
    line
}

/// `Gold 2 · Silver 3 · Bronze 1 · none 3`, highest first.
fn summary(card: &Scorecard, mine: &[&CardResult]) -> String {
    let mut counts: BTreeMap<Option<usize>, usize> = BTreeMap::new();
    for r in mine {
        *counts.entry(r.level_index).or_default() += 1;
    }
    let mut parts: Vec<String> = (0..card.levels.len())
        .rev()
        .map(|l| {
            format!(
                "{} {}",
                card.levels[l].title,
                counts.get(&Some(l)).copied().unwrap_or(0)
            )
        })
        .collect();
    parts.push(format!("none {}", counts.get(&None).copied().unwrap_or(0)));
    parts.join(" · ")
}

fn gate_line(ui: &Ui, gate: &Gate) -> String {
    let gated: Vec<_> = gate
        .scorecards
        .iter()
        .filter(|c| c.min_level.is_some())
        .collect();
    if gated.is_empty() && gate.regressions.is_none() {
        return "gate: none (no --min-level and no gate.minLevel)".into();
    }
    if gate.passed {
        return style::paint(ui.color, style::STRONG, "gate: passed");
    }
    let mut why = Vec::new();
    // (data in `why` is sanitized as one line below)
    for c in gated.iter().filter(|c| !c.passed) {
        let names: Vec<String> = c.below.iter().map(|e| short(e)).collect();
        why.push(format!(
            "{} below {} in {}: {}",
            c.below.len(),
            c.min_level.as_deref().unwrap_or(""),
            c.scorecard,
            names.join(", ")
        ));
    }
    if let Some(r) = gate.regressions.as_ref().filter(|r| !r.is_empty()) {
        why.push(format!(
            "{} regression{}",
            r.len(),
            if r.len() == 1 { "" } else { "s" }
        ));
    }
    format!(
        "{}: {}",
        style::paint(ui.color, style::ERROR, "gate: failed"),
        sanitize::line(&why.join("; "))
    )
}

/// JUnit XML: one testsuite per scorecard, one testcase per entity × rule.
pub fn junit(out: &mut dyn Write, set: &Scorecards, results: &[CardResult]) -> io::Result<()> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("idp score");
    for card in &set.cards {
        let mut suite = TestSuite::new(card.name.as_str());
        for r in results.iter().filter(|r| r.scorecard == card.name) {
            for o in &r.rules {
                let status = match o.state {
                    State::Pass | State::Warn | State::Exempt => TestCaseStatus::success(),
                    State::Skipped | State::Unknown => {
                        let mut s = TestCaseStatus::skipped();
                        if let Some(m) = &o.message {
                            s.set_message(&**m);
                        }
                        s
                    }
                    State::Fail | State::Error => {
                        let kind = if o.state == State::Fail {
                            NonSuccessKind::Failure
                        } else {
                            NonSuccessKind::Error
                        };
                        let mut s = TestCaseStatus::non_success(kind);
                        let mut m = o
                            .message
                            .as_deref()
                            .map_or_else(|| format!("{} fails", o.title), str::to_string);
                        if let Some(d) = &o.docs {
                            m.push_str(&format!(" ({d})"));
                        }
                        s.set_message(m);
                        s.set_type(o.state.name());
                        s
                    }
                };
                let mut case = TestCase::new(format!("{} / {}", r.entity, o.id), status);
                case.set_classname(format!("{}.{}", card.name, o.level));
                if o.state == State::Warn {
                    if let Some(m) = &o.message {
                        case.set_system_out(format!("warning: {m}"));
                    }
                }
                suite.add_test_case(case);
            }
        }
        report.add_test_suite(suite);
    }
    report.serialize(&mut *out).map_err(io::Error::other)?;
    writeln!(out)
}

/// A markdown pull-request comment: regressions first, then the gate,
/// then a table per scorecard.
pub fn markdown(
    out: &mut dyn Write,
    set: &Scorecards,
    results: &[CardResult],
    gate: &Gate,
) -> io::Result<()> {
    let verdict = if gate.passed {
        "✅ passed"
    } else {
        "❌ failed"
    };
    writeln!(out, "## Scorecards: gate {verdict}")?;
    writeln!(out)?;
    if let Some(regs) = &gate.regressions {
        if regs.is_empty() {
            writeln!(out, "No regressions.")?;
        } else {
            writeln!(out, "### Regressions")?;
            writeln!(out)?;
            for r in regs {
                writeln!(
                    out,
                    "- {}",
                    sanitize::line(&regression_line(r)).replacen("  ", " — ", 1)
                )?;
            }
        }
        writeln!(out)?;
    }
    for c in gate.scorecards.iter().filter(|c| !c.passed) {
        writeln!(
            out,
            "**{}**: {} below {}",
            sanitize::line(&c.scorecard),
            c.below.len(),
            sanitize::line(c.min_level.as_deref().unwrap_or(""))
        )?;
        writeln!(out)?;
    }
    for card in &set.cards {
        let mine: Vec<&CardResult> = results
            .iter()
            .filter(|r| r.scorecard == card.name)
            .collect();
        if mine.is_empty() {
            continue;
        }
        writeln!(out, "### {}", sanitize::line(&card.title))?;
        writeln!(out)?;
        writeln!(out, "| Entity | Level | Not passing |")?;
        writeln!(out, "|---|---|---|")?;
        for r in &mine {
            let failing: Vec<String> = r
                .rules
                .iter()
                .filter(|o| {
                    matches!(
                        o.state,
                        State::Fail | State::Error | State::Warn | State::Unknown
                    )
                })
                .map(|o| match &o.docs {
                    Some(d) => format!("[{}]({d}) ({})", o.id, o.state.name()),
                    None => format!("{} ({})", o.id, o.state.name()),
                })
                .collect();
            writeln!(
                out,
                "| `{}` | {} | {} |",
                sanitize::line(&short(&r.entity)),
                sanitize::line(&level_label(card, r)),
                sanitize::line(&failing.join(", "))
            )?;
        }
        writeln!(out)?;
        writeln!(out, "{}", sanitize::line(&summary(card, &mine)))?;
        writeln!(out)?;
    }
    Ok(())
}

/// SARIF 2.1.0: one result per failing (error) or warning rule, anchored at
/// the entity's descriptor (`uri` maps a catalog file to the path to
/// report). Written with serde_json: the few fields GitHub
/// code scanning reads do not justify a typed SARIF crate.
pub fn sarif(
    out: &mut dyn Write,
    set: &Scorecards,
    results: &[CardResult],
    uri: &dyn Fn(&str) -> String,
) -> io::Result<()> {
    let mut rules = Vec::new();
    for card in &set.cards {
        for r in &card.rules {
            let mut rule = json!({
                "id": format!("{}/{}", card.name, r.id),
                "name": r.id,
                "shortDescription": {"text": r.title},
                "properties": {"level": card.levels[r.level].id},
            });
            if let Some(d) = &r.docs {
                rule["helpUri"] = json!(d);
            }
            rules.push(rule);
        }
    }
    let mut found = Vec::new();
    for r in results {
        for o in &r.rules {
            let level = match o.state {
                State::Fail | State::Error => "error",
                State::Warn | State::Unknown => "warning",
                _ => continue,
            };
            let text = o
                .message
                .as_deref()
                .map_or_else(|| format!("{} fails", o.title), str::to_string);
            found.push(json!({
                "ruleId": format!("{}/{}", r.scorecard, o.id),
                "level": level,
                "message": {"text": format!("{}: {text}", short(&r.entity))},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": uri(&r.source.file)},
                    "region": {"startLine": r.source.line.max(1)}
                }}],
                "properties": {"entity": r.entity, "state": o.state.name()}
            }));
        }
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "idp score", "rules": rules}},
            "results": found
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from)?;
    writeln!(out)
}

/// The Scorecards section of `idp show` (nothing when no scorecard applies).
pub fn show_section(
    out: &mut dyn Write,
    ui: &Ui,
    set: &Scorecards,
    results: &[CardResult],
) -> io::Result<()> {
    if results.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        style::paint(ui.color, style::HEADER, "Scorecards")
    )?;
    let mut t = Table::new([
        Column::shrink("scorecard", 100, 12),
        Column::keep("level", 90),
        Column::shrink("next level needs", 10, 16),
    ]);
    for r in results {
        let Some(card) = set.get(&r.scorecard) else {
            continue;
        };
        t.add_row([card.title.clone(), level_label(card, r), needs(r)]);
    }
    ui.write_table(out, &t)
}
