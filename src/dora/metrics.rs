//! The four keys of one window, from [`Inputs`]: pure functions, no I/O.
//!
//! | key | definition here |
//! |---|---|
//! | deployment frequency | successful production deployments whose success falls in the window, per day |
//! | lead time for changes | for every commit a successful deployment in the window shipped (the commits since the previous successful deployment): success time − the commit's author date (`lead_time_from: merge`: committer date); median and p90 (nearest rank) |
//! | change failure rate | failed changes ÷ deployments in the window (successful ones plus failed attempts). A failed attempt is a failed change; a successful deployment is failed when, within `failure_window` after it and before the next one, an incident on its service opens, a rollback deploys an older version, or a revert pull request is merged |
//! | failed deployment recovery time | per failed change: from the failure (the failed attempt, or the first signal blamed on the deployment) to the incident's resolution (incidents) or the next successful deployment (rollbacks, reverts, failed attempts); median |
//!
//! A signal is blamed on the newest successful deployment at or before it,
//! so an incident opened before a deployment (and resolved after it) fails
//! the earlier one, never the later. A key whose inputs are missing or cut
//! short is unknown, with the reason, never zero.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::config::{Bands, DoraConfig, LeadTimeFrom};
use super::inputs::{Inputs, State};

/// A performance band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Band {
    /// Best.
    Elite,
    /// Second.
    High,
    /// Third.
    Medium,
    /// Below medium.
    Low,
}

impl Band {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Elite => "elite",
            Band::High => "high",
            Band::Medium => "medium",
            Band::Low => "low",
        }
    }
}

/// Which way a key moved against the previous window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    /// Higher (by more than 5 %).
    Up,
    /// Lower (by more than 5 %).
    Down,
    /// Within 5 %.
    Flat,
}

impl Trend {
    /// The arrow the table shows.
    pub fn arrow(self) -> &'static str {
        match self {
            Trend::Up => "↑",
            Trend::Down => "↓",
            Trend::Flat => "→",
        }
    }
}

/// A half-open time range `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// Start (included).
    pub from: DateTime<Utc>,
    /// End (excluded).
    pub to: DateTime<Utc>,
}

impl Window {
    /// The window of `length` ending at `now`, and the one before it.
    pub fn current_and_previous(
        now: DateTime<Utc>,
        length: std::time::Duration,
    ) -> (Window, Window) {
        let span = chrono::Duration::from_std(length).unwrap_or(chrono::Duration::days(90));
        let current = Window {
            from: now - span,
            to: now,
        };
        let previous = Window {
            from: now - span - span,
            to: now - span,
        };
        (current, previous)
    }

    fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t < self.to
    }

    /// Its length in days.
    pub fn days(&self) -> f64 {
        (self.to - self.from).num_seconds() as f64 / 86_400.0
    }
}

/// What one window's inputs give, before bands: pooled over entities for
/// a team. `Err` is why the key is unknown.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Successful deployments.
    pub deployments: Result<u64, String>,
    /// Window length in days.
    pub days: f64,
    /// Lead times of the shipped commits, seconds.
    pub lead_times: Result<Vec<f64>, String>,
    /// (failed changes, deployments counted).
    pub failures: Result<(u64, u64), String>,
    /// Recovery times, seconds.
    pub recoveries: Result<Vec<f64>, String>,
}

/// One key, as every output shows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Key {
    /// Deployments per day, median seconds, or percent; null when unknown.
    pub value: Option<f64>,
    /// Lead time only: p90 in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p90: Option<f64>,
    /// What it was computed from (deployments, commits, failures/deployments, recoveries).
    pub count: Option<u64>,
    /// Change failure rate only: deployments counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub of: Option<u64>,
    /// Its band.
    pub band: Option<Band>,
    /// Why it is unknown.
    pub unknown: Option<String>,
    /// The previous window's value, when known.
    pub previous: Option<f64>,
    /// Against the previous window.
    pub trend: Option<Trend>,
    /// Teams: entities whose key was known, of all (`3/5`), when not all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<String>,
}

/// The four keys.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Keys {
    /// Deployments per day.
    pub deployment_frequency: Key,
    /// Median (and p90) seconds from commit to production.
    pub lead_time: Key,
    /// Percent of deployments that failed.
    pub change_failure_rate: Key,
    /// Median seconds to recover.
    pub recovery_time: Key,
}

fn secs(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 1000.0
}

/// The tally of one window.
pub fn tally(inputs: &Inputs, window: &Window, config: &DoraConfig) -> Tally {
    let days = window.days();
    let unknown = |why: String| Tally {
        deployments: Err(why.clone()),
        days,
        lead_times: Err(why.clone()),
        failures: Err(why.clone()),
        recoveries: Err(why),
    };
    if inputs.since > window.from {
        return unknown(format!(
            "the fetched data starts {} (after the window's start {})",
            inputs.since.format("%Y-%m-%d"),
            window.from.format("%Y-%m-%d")
        ));
    }
    if let Some(why) = &inputs.deployments_unknown {
        return unknown(why.clone());
    }
    let env = &inputs.environment;
    let deps = &inputs.deployments;
    let success_at = |i: usize| {
        let d = &deps[i];
        (d.state == State::Success && !d.base)
            .then_some(d.finished_at)
            .flatten()
    };
    let successes: Vec<usize> = (0..deps.len())
        .filter(|&i| success_at(i).is_some_and(|t| window.contains(t)))
        .collect();
    let attempts_failed: Vec<usize> = (0..deps.len())
        .filter(|&i| {
            deps[i].state == State::Failure
                && deps[i].finished_at.is_some_and(|t| window.contains(t))
        })
        .collect();

    let deployments = if successes.is_empty() {
        Err(format!("no successful deployments to {env} in the window"))
    } else {
        Ok(successes.len() as u64)
    };

    // Lead time.
    let lead_times = (|| {
        let mut out = Vec::new();
        for &i in &successes {
            let d = &deps[i];
            let at = d.finished_at.expect("successes have a time");
            match (&d.changes, &d.changes_unknown) {
                (Some(changes), None) => out.extend(changes.iter().map(|c| {
                    let start = match config.lead_time_from {
                        LeadTimeFrom::Commit => c.authored_at,
                        LeadTimeFrom::Merge => c.committed_at,
                    };
                    secs(start, at).max(0.0)
                })),
                // The first deployment fetched has nothing to compare with.
                (None, _) if i == first_success(deps) => {}
                (_, Some(why)) => return Err(why.clone()),
                (None, None) => {
                    return Err(format!("the commits of deployment {} are unknown", d.id))
                }
            }
        }
        if out.is_empty() {
            if successes.is_empty() {
                return Err(format!("no successful deployments to {env} in the window"));
            }
            return Err("no commits shipped by the window's deployments are known".into());
        }
        Ok(out)
    })();

    // Failures: signals blamed on the newest success at or before them.
    let all_successes: Vec<usize> = (0..deps.len())
        .filter(|&i| deps[i].state == State::Success && deps[i].finished_at.is_some())
        .collect();
    let blame = |t: DateTime<Utc>, skip: Option<usize>| -> Option<usize> {
        all_successes
            .iter()
            .copied()
            .filter(|&i| Some(i) != skip)
            .filter(|&i| deps[i].finished_at.is_some_and(|d| d <= t))
            .max_by_key(|&i| deps[i].finished_at)
            .filter(|&i| {
                let d = deps[i].finished_at.expect("success time");
                (t - d).to_std().unwrap_or_default() <= config.failure_window
            })
    };
    let next_success_after = |t: DateTime<Utc>| -> Option<DateTime<Utc>> {
        all_successes
            .iter()
            .filter_map(|&i| deps[i].finished_at)
            .filter(|&d| d > t)
            .min()
    };
    // deployment index → (first signal time, recovered at)
    let mut failed: std::collections::BTreeMap<usize, (DateTime<Utc>, Option<DateTime<Utc>>)> =
        Default::default();
    let mut blame_one = |i: Option<usize>, at: DateTime<Utc>, end: Option<DateTime<Utc>>| {
        if let Some(i) = i {
            let e = failed.entry(i).or_insert((at, end));
            if at < e.0 {
                *e = (at, end);
            }
        }
    };
    let mut signals_unknown = None;
    for &i in &all_successes {
        if deps[i].rollback {
            let at = deps[i].created_at;
            blame_one(blame(at, Some(i)), at, deps[i].finished_at);
        }
    }
    match &inputs.reverts {
        Some(reverts) => {
            for r in reverts {
                blame_one(
                    blame(r.merged_at, None),
                    r.merged_at,
                    next_success_after(r.merged_at),
                );
            }
        }
        None => {
            signals_unknown = Some(
                inputs
                    .reverts_unknown
                    .clone()
                    .unwrap_or_else(|| "revert pull requests are unknown".into()),
            )
        }
    }
    match (&inputs.incidents, &inputs.incidents_unknown) {
        (Some(incidents), _) => {
            for inc in incidents {
                blame_one(blame(inc.created_at, None), inc.created_at, inc.resolved_at);
            }
        }
        (None, Some(why)) => signals_unknown = Some(why.clone()),
        (None, None) => {} // not counted (dora.incidents: false)
    }
    for &i in &attempts_failed {
        let at = deps[i].finished_at.expect("failed attempts have a time");
        failed.insert(i, (at, next_success_after(at)));
    }

    let counted = (successes.len() + attempts_failed.len()) as u64;
    let in_window = |i: &usize| successes.contains(i) || attempts_failed.contains(i);
    let failures = match &signals_unknown {
        Some(why) => Err(why.clone()),
        None if counted == 0 => Err(format!("no deployments to {env} in the window")),
        None => Ok((
            failed.keys().filter(|i| in_window(i)).count() as u64,
            counted,
        )),
    };
    let recoveries = match &failures {
        Err(why) => Err(why.clone()),
        Ok((0, _)) => Err("no failed deployments in the window to recover from".into()),
        Ok((n, _)) => {
            let times: Vec<f64> = failed
                .iter()
                .filter(|(i, _)| in_window(i))
                .filter_map(|(_, (start, end))| end.map(|e| secs(*start, e).max(0.0)))
                .collect();
            if times.is_empty() {
                Err(format!(
                    "{n} failed deployment(s) in the window, none recovered yet"
                ))
            } else {
                Ok(times)
            }
        }
    };
    Tally {
        deployments,
        days,
        lead_times,
        failures,
        recoveries,
    }
}

fn first_success(deps: &[super::inputs::Deployment]) -> usize {
    deps.iter()
        .position(|d| d.state == State::Success && !d.base)
        .unwrap_or(usize::MAX)
}

/// Pools the tallies of several entities (a team): counts add up, samples
/// merge; entities whose key is unknown are left out and counted in
/// `coverage`.
pub fn pool(tallies: &[Tally]) -> (Tally, [usize; 4]) {
    let n = tallies.len();
    let days = tallies.first().map_or(0.0, |t| t.days);
    let mut known = [0usize; 4];
    let first_err = |f: &dyn Fn(&Tally) -> Option<String>| {
        tallies
            .iter()
            .find_map(f)
            .unwrap_or_else(|| "no entities".into())
    };
    let mut deployments = 0;
    let mut leads = Vec::new();
    let (mut failed, mut counted) = (0, 0);
    let mut recoveries = Vec::new();
    for t in tallies {
        if let Ok(d) = t.deployments {
            known[0] += 1;
            deployments += d;
        }
        if let Ok(l) = &t.lead_times {
            known[1] += 1;
            leads.extend(l);
        }
        if let Ok((f, c)) = t.failures {
            known[2] += 1;
            failed += f;
            counted += c;
        }
        if let Ok(r) = &t.recoveries {
            known[3] += 1;
            recoveries.extend(r);
        }
    }
    let none = |k: usize, why: String| {
        if k == 0 {
            Err(if n == 1 {
                why
            } else {
                format!("no entity has it (first: {why})")
            })
        } else {
            Ok(())
        }
    };
    let tally = Tally {
        deployments: none(known[0], first_err(&|t| t.deployments.clone().err()))
            .map(|_| deployments),
        days,
        lead_times: none(known[1], first_err(&|t| t.lead_times.clone().err())).map(|_| leads),
        failures: none(known[2], first_err(&|t| t.failures.clone().err()))
            .map(|_| (failed, counted)),
        recoveries: none(known[3], first_err(&|t| t.recoveries.clone().err())).map(|_| recoveries),
    };
    (tally, known)
}

/// Median (mean of the two middle values for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// The p-th percentile by nearest rank (p90 of 10 values is the 9th).
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    Some(v[rank.min(v.len()) - 1])
}

fn df(t: &Tally) -> Result<f64, &String> {
    t.deployments.as_ref().map(|d| *d as f64 / t.days)
}

fn lt(t: &Tally) -> Result<f64, &String> {
    t.lead_times.as_ref().map(|l| median(l).unwrap_or(0.0))
}

fn cfr(t: &Tally) -> Result<f64, &String> {
    t.failures.as_ref().map(|(f, c)| {
        if *c == 0 {
            0.0
        } else {
            100.0 * *f as f64 / *c as f64
        }
    })
}

fn rt(t: &Tally) -> Result<f64, &String> {
    t.recoveries.as_ref().map(|r| median(r).unwrap_or(0.0))
}

/// The four keys of a window (with the previous window's tally for trends).
pub fn keys(current: &Tally, previous: &Tally, bands: &Bands) -> Keys {
    let make =
        |cur: Result<f64, &String>, prev: Result<f64, &String>, band: &dyn Fn(f64) -> Band| {
            let mut k = Key::default();
            match cur {
                Ok(v) => {
                    k.value = Some(v);
                    k.band = Some(band(v));
                }
                Err(why) => k.unknown = Some(why.clone()),
            }
            if let Ok(p) = prev {
                k.previous = Some(p);
                if let Some(v) = k.value {
                    k.trend = Some(trend(v, p));
                }
            }
            k
        };
    let b = bands;
    let mut out = Keys {
        deployment_frequency: make(df(current), df(previous), &|v| {
            tier(
                v >= b.deployments_per_day[0],
                v >= b.deployments_per_day[1],
                v >= b.deployments_per_day[2],
            )
        }),
        lead_time: make(lt(current), lt(previous), &|v| {
            tier(
                v < b.lead_time_secs[0],
                v < b.lead_time_secs[1],
                v < b.lead_time_secs[2],
            )
        }),
        change_failure_rate: make(cfr(current), cfr(previous), &|v| {
            tier(
                v <= b.change_failure_percent[0],
                v <= b.change_failure_percent[1],
                v <= b.change_failure_percent[2],
            )
        }),
        recovery_time: make(rt(current), rt(previous), &|v| {
            tier(
                v < b.recovery_secs[0],
                v < b.recovery_secs[1],
                v < b.recovery_secs[2],
            )
        }),
    };
    out.deployment_frequency.count = current.deployments.as_ref().ok().copied();
    if let Ok(l) = &current.lead_times {
        out.lead_time.count = Some(l.len() as u64);
        out.lead_time.p90 = percentile(l, 90.0);
    }
    if let Ok((f, c)) = current.failures {
        out.change_failure_rate.count = Some(f);
        out.change_failure_rate.of = Some(c);
    }
    if let Ok(r) = &current.recoveries {
        out.recovery_time.count = Some(r.len() as u64);
    }
    out
}

fn tier(elite: bool, high: bool, medium: bool) -> Band {
    if elite {
        Band::Elite
    } else if high {
        Band::High
    } else if medium {
        Band::Medium
    } else {
        Band::Low
    }
}

fn trend(now: f64, before: f64) -> Trend {
    let tolerance = before.abs() * 0.05;
    if (now - before).abs() <= tolerance {
        Trend::Flat
    } else if now > before {
        Trend::Up
    } else {
        Trend::Down
    }
}

/// A number with at most one decimal, without a trailing `.0`.
fn num(v: f64) -> String {
    let t = format!("{v:.1}");
    t.strip_suffix(".0").map(str::to_string).unwrap_or(t)
}

/// Deployments per day as people say it: per day, week or month.
pub fn frequency(per_day: f64) -> String {
    if per_day >= 1.0 {
        format!("{}/day", num(per_day))
    } else if per_day * 7.0 >= 1.0 - 1e-9 {
        format!("{}/week", num(per_day * 7.0))
    } else {
        format!("{}/month", num(per_day * 30.0))
    }
}

/// Seconds as minutes, hours or days.
pub fn duration(secs: f64) -> String {
    if secs < 3600.0 {
        format!("{}m", (secs / 60.0).round() as i64)
    } else if secs < 48.0 * 3600.0 && (secs % 86_400.0 != 0.0) {
        format!("{}h", num(secs / 3600.0))
    } else {
        format!("{}d", num(secs / 86_400.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p90() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&ten, 90.0), Some(9.0));
        assert_eq!(percentile(&[5.0], 90.0), Some(5.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn trends_have_a_tolerance() {
        assert_eq!(trend(1.04, 1.0), Trend::Flat);
        assert_eq!(trend(1.2, 1.0), Trend::Up);
        assert_eq!(trend(0.5, 1.0), Trend::Down);
    }
}
