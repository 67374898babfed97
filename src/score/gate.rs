//! The CI gate: does every scored entity hold the minimum level, and — with
//! a baseline (`--compare REF`) — did anything regress? With a baseline only
//! regressions gate (the ratchet), except for entities new since the
//! baseline, which must meet the minimum level like any new service.

use std::collections::HashMap;

use serde::Serialize;

use super::evaluate::{CardResult, State};
use super::Scorecards;

/// The gate's verdict.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Gate {
    /// The minimum level asked for (`--min-level`, or the scorecards'
    /// `gate.minLevel` when they agree; `None` when there is no gate).
    pub min_level: Option<String>,
    /// Whether the gate is met.
    pub passed: bool,
    /// The verdict per scorecard.
    pub scorecards: Vec<CardGate>,
    /// With a baseline: what got worse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regressions: Option<Vec<Regression>>,
}

/// One scorecard's gate.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CardGate {
    /// Scorecard name.
    pub scorecard: String,
    /// Its minimum level (`None`: no gate).
    pub min_level: Option<String>,
    /// Whether it is met.
    pub passed: bool,
    /// Entities below the minimum level (gated ones only).
    pub below: Vec<String>,
}

/// Something worse than at the baseline.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Regression {
    /// Entity reference.
    pub entity: String,
    /// Scorecard name.
    pub scorecard: String,
    /// Level at the baseline.
    pub from: Option<String>,
    /// Level now.
    pub to: Option<String>,
    /// Rules that passed at the baseline and fail now.
    pub rules: Vec<String>,
}

/// Decides the gate. `min_level` overrides every scorecard's own gate (the
/// caller has checked it names a level of each). `baseline` are the results
/// at the comparison revision.
pub fn decide(
    set: &Scorecards,
    results: &[CardResult],
    min_level: Option<&str>,
    baseline: Option<&[CardResult]>,
) -> Gate {
    let before: Option<HashMap<(&str, &str), &CardResult>> = baseline.map(|b| {
        b.iter()
            .map(|r| ((r.entity.as_str(), r.scorecard.as_str()), r))
            .collect()
    });
    let regressions: Option<Vec<Regression>> = before.as_ref().map(|before| {
        results
            .iter()
            .filter_map(|now| {
                let old = before.get(&(now.entity.as_str(), now.scorecard.as_str()))?;
                regression(old, now)
            })
            .collect()
    });
    let mut cards = Vec::new();
    for card in &set.cards {
        let min = match min_level {
            Some(m) => card.level_index(m),
            None => card.gate,
        };
        let below: Vec<String> = results
            .iter()
            .filter(|r| r.scorecard == card.name)
            .filter(|r| {
                // With a baseline, entities that existed then are gated by regressions only.
                before
                    .as_ref()
                    .is_none_or(|b| !b.contains_key(&(r.entity.as_str(), r.scorecard.as_str())))
            })
            .filter(|r| min.is_some_and(|m| r.level_index.is_none_or(|l| l < m)))
            .map(|r| r.entity.clone())
            .collect();
        cards.push(CardGate {
            scorecard: card.name.clone(),
            min_level: min.map(|m| card.levels[m].id.clone()),
            passed: below.is_empty(),
            below,
        });
    }
    let regressed = regressions.as_ref().is_some_and(|r| !r.is_empty());
    let passed = cards.iter().all(|c| c.passed) && !regressed;
    let min_level = match min_level {
        Some(m) => Some(m.to_string()),
        None => {
            let mut gates = cards.iter().filter_map(|c| c.min_level.clone());
            let first = gates.next();
            if gates.all(|g| Some(&g) == first.as_ref()) {
                first
            } else {
                None
            }
        }
    };
    Gate {
        min_level,
        passed,
        scorecards: cards,
        regressions,
    }
}

fn regression(old: &CardResult, now: &CardResult) -> Option<Regression> {
    let rules: Vec<String> = now
        .rules
        .iter()
        .filter(|r| matches!(r.state, State::Fail | State::Error))
        .filter(|r| {
            old.rules
                .iter()
                .any(|o| o.id == r.id && o.state == State::Pass)
        })
        .map(|r| r.id.to_string())
        .collect();
    let dropped = match (old.level_index, now.level_index) {
        (Some(_), None) => true,
        (Some(o), Some(n)) => n < o,
        _ => false,
    };
    (dropped || !rules.is_empty()).then(|| Regression {
        entity: now.entity.clone(),
        scorecard: now.scorecard.clone(),
        from: old.level.clone(),
        to: now.level.clone(),
        rules,
    })
}
