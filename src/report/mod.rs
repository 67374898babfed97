//! `idp report`: a static, self-contained web portal of the catalog.
//!
//! The command gathers what the core already knows (the catalog, scorecard
//! results, the catalog's recent history, scorecard trends from older
//! commits, cached on-call data) into [`Inputs`]; [`model`] turns them into
//! one serializable value per page; [`render`] fills the minijinja templates
//! of `templates/` (HTML autoescaped: catalog text is untrusted) with charts
//! from [`charts`] (plotters, SVG) and graphs from [`graph`] (layout-rs);
//! [`site`] writes the files and the manifest of what idp wrote, so a later
//! run replaces its own files and never touches anyone else's.
//!
//! Extension point: a [`Section`] adds a block to the home, entity and team
//! pages (cost and DORA plug in here) without touching the templates.
//!
//! Nothing here prints, reads the clock or the environment: `now` comes in.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod charts;
pub mod cost;
pub mod dora;
pub mod graph;
pub mod model;
pub mod render;
pub mod site;

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};

use crate::catalog::history::CatalogChange;
use crate::catalog::{Catalog, Entity};
use crate::score::{CardResult, Scorecard, Scorecards, State};

pub use render::{render, Mode, Rendered};
pub use site::{SiteError, Written};

/// Everything a report is made of, gathered by the command.
pub struct Inputs<'a> {
    /// The catalog as read (working tree, `--ref` or `--at`).
    pub catalog: &'a Catalog,
    /// The catalog's scorecards.
    pub scorecards: &'a Scorecards,
    /// Their results on the catalog.
    pub results: &'a [Score],
    /// Recent changes, newest first ([`crate::catalog::history::recent_changes`]).
    pub changes: &'a [CatalogChange],
    /// Scorecard levels at earlier moments, oldest first. Worked out while
    /// the entity pages render: the pages that show it wait until it is set.
    pub trend: &'a std::sync::OnceLock<Vec<TrendPoint>>,
    /// On-call people per owner key, from cached live data.
    pub oncall: &'a BTreeMap<String, OnCallInfo>,
    /// The run's time: ages are counted from it, and the page footer shows it.
    pub now: DateTime<FixedOffset>,
    /// What was read, for the footer ("working tree", a commit id).
    pub revision: String,
    /// Extra sections (cost, DORA, …), in display order.
    pub sections: &'a [&'a dyn Section],
}

/// One scorecard's result for one entity, as the report keeps it: what
/// [`CardResult`] says, with rule titles, levels and links left in the
/// scorecard instead of copied into each of tens of thousands of results.
#[derive(Debug, Clone)]
pub struct Score {
    /// Full entity reference.
    pub entity: String,
    /// Scorecard name.
    pub scorecard: String,
    /// Level id held (`None`: below the first).
    pub level: Option<String>,
    /// Index of `level` in the scorecard's levels.
    pub level_index: Option<usize>,
    /// The next level's id, if any.
    pub next_level: Option<String>,
    /// How many rules stand between the entity and the next level.
    pub needs: usize,
    /// The rules that have an outcome, in scorecard order.
    pub rules: Vec<RuleScore>,
}

/// One rule's outcome in a [`Score`].
#[derive(Debug, Clone)]
pub struct RuleScore {
    /// Index of the rule in the scorecard's rules.
    pub rule: usize,
    /// Its state.
    pub state: State,
    /// The rendered message, when there is one (shared with the score cache).
    pub message: Option<std::sync::Arc<str>>,
}

impl Score {
    /// Keeps what the report shows of `result`, a result of `card`.
    pub fn of(card: &Scorecard, result: CardResult) -> Score {
        let rules = result
            .rules
            .into_iter()
            .filter_map(|o| {
                let rule = card.rules.iter().position(|r| *r.id == *o.id)?;
                Some(RuleScore {
                    rule,
                    state: o.state,
                    message: o.message,
                })
            })
            .collect();
        Score {
            entity: result.entity,
            scorecard: result.scorecard,
            level: result.level,
            level_index: result.level_index,
            next_level: result.next_level,
            needs: result.next_needs.len(),
            rules,
        }
    }
}

/// The scorecard levels of the catalog at one earlier moment.
#[derive(Debug, Clone)]
pub struct TrendPoint {
    /// The moment (the end of a week), `YYYY-MM-DD`.
    pub date: String,
    /// The commit that was current then.
    pub commit: String,
    /// Per scorecard name: entities at each level (index into its levels;
    /// the last slot counts entities below the first level).
    pub counts: BTreeMap<String, Vec<usize>>,
}

/// Who is on call for an owner, from cached live data.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OnCallInfo {
    /// Names (and emails) of the people on call, escalation level first.
    pub people: Vec<OnCallPerson>,
    /// How old the cached answer is, in words ("3 hours").
    pub age: String,
    /// The integration that answered.
    pub integration: String,
}

/// One person on call.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OnCallPerson {
    /// Name.
    pub name: String,
    /// Email, when shared.
    pub email: Option<String>,
    /// Escalation level.
    pub level: u32,
}

/// A block another capability adds to the report's pages. Each method
/// returns an HTML fragment, or `None` to add nothing there. The fragment
/// is inserted as is, so it must escape whatever catalog or API text it
/// holds ([`escape`] does).
pub trait Section: Sync {
    /// A heading for the block.
    fn title(&self) -> &str;
    /// The block on the home page.
    fn home(&self) -> Option<String> {
        None
    }
    /// The block on an entity's page.
    fn entity(&self, _entity: &Entity) -> Option<String> {
        None
    }
    /// The block on a Group's page.
    fn team(&self, _group: &Entity) -> Option<String> {
        None
    }
}

/// HTML-escapes text for a [`Section`] fragment.
pub fn escape(text: &str) -> String {
    minijinja::HtmlEscape(text).to_string()
}
