//! Running compiled scorecards over entities: each rule's state, the level
//! each entity holds, and what the next level needs. One `now`, one catalog
//! snapshot and one facts snapshot per run, so results are deterministic.
//! Programs are compiled once (in `compile`); per entity the descriptor is
//! converted to a CEL value once and shared by every rule of every scorecard.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate};
use rayon::prelude::*;
use serde::Serialize;

use super::budget::{self, Failure};
use super::cache::{self, Cached, Key, ResultCache, Seen, Slot};
use super::compile::{CompiledExpr, Rule, Scorecard, MAX_MESSAGE_BYTES, MESSAGE_FUEL};
use super::facts::{Facts, LiveFacts};
use super::functions::{self, Files, DIR_VARIABLE};
use crate::catalog::{Entity, Relation, Source};

/// The state of one rule for one entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// The check holds.
    Pass,
    /// The check does not hold.
    Fail,
    /// It fails, but before the rule's `enforceFrom`: not gating.
    Warn,
    /// A matching, unexpired exemption.
    Exempt,
    /// `when` is false.
    Skipped,
    /// A live fact it needs is unavailable.
    Unknown,
    /// The expression failed on descriptor data (counts as fail).
    Error,
}

impl State {
    /// Whether the state lets the entity hold the rule's level; `unknown`
    /// holds only when `unknown_holds`.
    pub fn holds(self, unknown_holds: bool) -> bool {
        match self {
            State::Pass | State::Warn | State::Exempt | State::Skipped => true,
            State::Unknown => unknown_holds,
            State::Fail | State::Error => false,
        }
    }

    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            State::Pass => "pass",
            State::Fail => "fail",
            State::Warn => "warn",
            State::Exempt => "exempt",
            State::Skipped => "skipped",
            State::Unknown => "unknown",
            State::Error => "error",
        }
    }
}

/// How `unknown` counts for levels and the gate (`--unknown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownPolicy {
    /// As holding (an integration outage must not block merges); the level
    /// is marked uncertain.
    #[default]
    Ignore,
    /// As failing.
    Fail,
}

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The one timestamp of the run.
    pub now: DateTime<FixedOffset>,
    /// How unknown counts.
    pub unknown: UnknownPolicy,
}

impl RunOptions {
    /// The run's day, for `enforceFrom` and `expires`.
    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }
}

/// One rule's outcome for one entity.
#[derive(Debug, Clone, Serialize)]
pub struct RuleOutcome {
    /// Rule id.
    pub id: Arc<str>,
    /// State.
    pub state: State,
    /// The rendered message (failures and warnings), the CEL error
    /// (`error`), why a fact is missing (`unknown`) or the exemption reason.
    /// Shared: one message often stands for thousands of entities.
    pub message: Option<Arc<str>>,
    /// Rule title.
    pub title: Arc<str>,
    /// The rule's level id.
    pub level: Arc<str>,
    /// Documentation link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docs: Option<Arc<str>>,
}

/// One scorecard's result for one entity.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CardResult {
    /// Full entity reference.
    pub entity: String,
    /// Scorecard name.
    pub scorecard: String,
    /// Level held under the run's unknown policy (`None`: below the first).
    pub level: Option<String>,
    /// Whether the level depends on unknown facts (shown as "Silver?").
    pub uncertain: bool,
    /// The rules, in scorecard order.
    pub rules: Vec<RuleOutcome>,
    /// The next level, if any.
    pub next_level: Option<String>,
    /// Rules that stand between the entity and the next level.
    pub next_needs: Vec<String>,
    /// Index of `level` in the scorecard's levels.
    #[serde(skip)]
    pub level_index: Option<usize>,
    /// The entity's display name.
    #[serde(skip)]
    pub title: String,
    /// Where the entity is defined.
    #[serde(skip)]
    pub source: Source,
}

/// A set of compiled scorecards and their message templates.
pub struct Scorecards {
    /// The scorecards, in catalog order.
    pub cards: Vec<Scorecard>,
    templates: minijinja::Environment<'static>,
}

impl Scorecards {
    /// Compiles the message templates of `cards` once.
    pub fn new(cards: Vec<Scorecard>) -> Self {
        let mut templates = crate::jinja::environment(MESSAGE_FUEL);
        for card in &cards {
            for (rule, source) in &card.messages {
                // Checked in compile; a failure here leaves the rule without a message.
                let _ =
                    templates.add_template_owned(template_name(&card.name, rule), source.clone());
            }
        }
        Scorecards { cards, templates }
    }

    /// The scorecard named `name`.
    pub fn get(&self, name: &str) -> Option<&Scorecard> {
        self.cards
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Whether any expression reads files (so the run needs a snapshot).
    pub fn uses_files(&self) -> bool {
        self.expressions().any(|e| e.text.contains("file_"))
    }

    /// Whether some scorecard could apply to entities of `kind` (the kinds
    /// filter only; conditions are decided per entity).
    pub fn applies_to_kind(&self, kind: &str) -> bool {
        self.cards
            .iter()
            .any(|c| c.kinds.is_empty() || c.kinds.iter().any(|k| k.eq_ignore_ascii_case(kind)))
    }

    /// Whether any expression reads the cost facts (`live.cost`).
    pub fn uses_cost(&self) -> bool {
        self.expressions().any(|e| e.text.contains("cost"))
    }

    /// Whether any expression reads live facts (so the run fetches them).
    pub fn uses_live(&self) -> bool {
        self.expressions().any(|e| e.text.contains("live"))
    }

    /// Whether any expression reads `live.<integration>` (DORA's keys,
    /// `live.dora`, are fetched only when a rule reads them).
    pub fn reads_live(&self, integration: &str) -> bool {
        self.expressions().any(|e| e.live.contains(integration))
    }

    fn expressions(&self) -> impl Iterator<Item = &CompiledExpr> {
        self.cards.iter().flat_map(|c| {
            c.condition.iter().chain(
                c.rules
                    .iter()
                    .flat_map(|r| std::iter::once(&r.check).chain(r.when.iter())),
            )
        })
    }
}

fn template_name(card: &str, rule: &str) -> String {
    format!("{card}/{rule}")
}

/// The descriptor plus its relations, as rules and messages see `entity`.
#[derive(Serialize)]
struct EntityView<'a> {
    #[serde(flatten)]
    doc: &'a serde_json::Value,
    relations: &'a [Relation],
}

/// Evaluates every scorecard on every entity it applies to, in parallel.
/// Results are in entity order, then scorecard order; entities a scorecard
/// does not apply to are absent (not scored).
pub fn evaluate(
    set: &Scorecards,
    entities: &[&Entity],
    facts: &dyn Facts,
    files: Option<Arc<dyn Files>>,
    opts: &RunOptions,
) -> Vec<CardResult> {
    evaluate_cached(set, entities, facts, files, opts, None).results
}

/// The results of a run, and what it did with each cacheable result.
pub struct Evaluated {
    /// As [`evaluate`] returns them.
    pub results: Vec<CardResult>,
    /// Hits and fresh results, for [`ResultCache::update`] (empty without a cache).
    pub seen: Vec<Seen>,
}

/// [`evaluate`], answering from `cache` where a stored result's key still
/// matches (see [`super::cache`] for what the key covers). The output is
/// the same with or without the cache.
pub fn evaluate_cached(
    set: &Scorecards,
    entities: &[&Entity],
    facts: &dyn Facts,
    files: Option<Arc<dyn Files>>,
    opts: &RunOptions,
    cache: Option<&ResultCache>,
) -> Evaluated {
    let keys: Vec<Option<Key>> = set
        .cards
        .iter()
        .map(|c| cache.and_then(|_| cache::card_key(c, opts)))
        .collect();
    let run = Run {
        set,
        keys: &keys,
        cache,
        facts,
        opts,
    };
    let per_entity: Vec<(Vec<CardResult>, Vec<Seen>)> = entities
        .par_iter()
        .map_init(|| None, |root, entity| run.entity(root, &files, entity))
        .collect();
    let mut results = Vec::with_capacity(per_entity.iter().map(|(r, _)| r.len()).sum());
    let mut seen = Vec::new();
    for (r, s) in per_entity {
        results.extend(r);
        seen.extend(s);
    }
    Evaluated { results, seen }
}

/// One run's fixed inputs.
struct Run<'a> {
    set: &'a Scorecards,
    /// Each scorecard's cache key for this run (`None`: not cached).
    keys: &'a [Option<Key>],
    cache: Option<&'a ResultCache>,
    facts: &'a dyn Facts,
    opts: &'a RunOptions,
}

/// What one scorecard gives one entity: `None` when `appliesTo.where`
/// leaves it out, else the rule outcomes.
type Outcomes = Option<Vec<RuleOutcome>>;

/// Per scorecard of one entity: its slot and key when cacheable, and the
/// stored result when it still holds.
type Lookup<'c> = (Option<(Slot, Key)>, Option<&'c Cached>);

impl Run<'_> {
    fn entity(
        &self,
        root: &mut Option<cel::Context<'static>>,
        files: &Option<Arc<dyn Files>>,
        entity: &Entity,
    ) -> (Vec<CardResult>, Vec<Seen>) {
        // Parsed for this run only: a catalog read from the index stays
        // unparsed (and small) after scoring.
        let entity = &*entity.transient();
        let cards: Vec<(&Scorecard, Option<Key>)> = self
            .set
            .cards
            .iter()
            .zip(self.keys)
            .filter(|(c, _)| c.scores_kind(entity))
            .map(|(c, k)| (c, *k))
            .collect();
        if cards.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let live = self.facts.facts(entity);
        let entity_key = entity.entity_ref().key();
        let fingerprint = match self.cache {
            Some(_) if cards.iter().any(|(_, k)| k.is_some()) => {
                Some(cache::entity_fingerprint(entity, &live))
            }
            _ => None,
        };
        let lookups: Vec<Lookup> = cards
            .iter()
            .map(|(card, card_key)| {
                let (Some(card_key), Some(fp)) = (card_key, fingerprint) else {
                    return (None, None);
                };
                let slot = cache::slot(&entity_key, &card.name);
                let key = cache::key(*card_key, fp);
                let hit = self
                    .cache
                    .and_then(|c| c.get(slot, key))
                    .filter(|c| c.rules.as_ref().is_none_or(|r| r.len() == card.rules.len()));
                (Some((slot, key)), hit)
            })
            .collect();
        let mut fresh: Vec<Option<Outcomes>> = vec![None; cards.len()];
        let mut untimely = vec![false; cards.len()];
        if lookups.iter().any(|(_, hit)| hit.is_none()) {
            let root = root.get_or_insert_with(|| functions::context(files.clone()));
            self.evaluate_misses(
                root,
                entity,
                &live,
                &entity_key,
                &cards,
                &lookups,
                &mut fresh,
                &mut untimely,
            );
        }
        let mut results = Vec::with_capacity(cards.len());
        let mut seen = Vec::new();
        let mut title: Option<Arc<str>> = None;
        for (i, (card, _)) in cards.iter().enumerate() {
            let (cacheable, hit) = lookups[i];
            let (rules, card_title) = match (hit, fresh[i].take()) {
                (Some(c), _) => {
                    if let Some((slot, key)) = cacheable {
                        seen.push(Seen::Hit(slot, key));
                    }
                    let rules = c.rules.as_ref().map(|r| {
                        card.rules
                            .iter()
                            .zip(r)
                            .map(|(rule, (state, message))| outcome(rule, *state, message.clone()))
                            .collect()
                    });
                    (rules, c.title.to_string())
                }
                (None, outcomes) => {
                    let outcomes = outcomes.flatten();
                    let t = title
                        .get_or_insert_with(|| entity.display_name().into())
                        .clone();
                    if let (Some((slot, key)), false) = (cacheable, untimely[i]) {
                        seen.push(Seen::Fresh(
                            slot,
                            key,
                            Cached {
                                title: t.clone(),
                                rules: outcomes.as_ref().map(|o| {
                                    o.iter().map(|o| (o.state, o.message.clone())).collect()
                                }),
                            },
                        ));
                    }
                    (outcomes, t.to_string())
                }
            };
            if let Some(rules) = rules {
                results.push(summarise(
                    card,
                    entity,
                    card_title,
                    rules,
                    self.opts.unknown,
                ));
            }
        }
        (results, seen)
    }

    /// Runs the scorecards without a stored result over one entity, with
    /// one activation shared by all of them.
    #[allow(clippy::too_many_arguments)]
    fn evaluate_misses(
        &self,
        root: &cel::Context<'static>,
        entity: &Entity,
        live: &LiveFacts,
        entity_key: &str,
        cards: &[(&Scorecard, Option<Key>)],
        lookups: &[Lookup],
        fresh: &mut [Option<Outcomes>],
        untimely: &mut [bool],
    ) {
        let view = EntityView {
            doc: entity.doc(),
            relations: &entity.relations,
        };
        let mut ctx = root.new_inner_scope();
        ctx.add_variable_from_value("entity", cel::to_value(&view).unwrap_or(cel::Value::Null));
        ctx.add_variable_from_value(
            "live",
            cel::to_value(&live.facts).unwrap_or(cel::Value::Null),
        );
        ctx.add_variable_from_value("now", cel::Value::Timestamp(self.opts.now));
        let dir = entity
            .source
            .file
            .rsplit_once('/')
            .map(|(d, _)| d)
            .unwrap_or("");
        ctx.add_variable_from_value(DIR_VARIABLE, dir);
        let mut env = Eval {
            ctx: &ctx,
            live,
            view: &view,
            rendered_view: None,
            largest: None,
            opts: self.opts,
            templates: &self.set.templates,
            key: entity_key.to_string(),
        };
        for (i, (card, _)) in cards.iter().enumerate() {
            if lookups[i].1.is_some() {
                continue;
            }
            let trips = budget::deadline_trips();
            fresh[i] = Some(env.card(card));
            untimely[i] = budget::deadline_trips() != trips;
        }
    }
}

struct Eval<'a> {
    ctx: &'a cel::Context<'a>,
    live: &'a LiveFacts,
    view: &'a EntityView<'a>,
    rendered_view: Option<minijinja::Value>,
    /// The largest list or map in the activation, once needed.
    largest: Option<usize>,
    opts: &'a RunOptions,
    templates: &'a minijinja::Environment<'static>,
    key: String,
}

impl Eval<'_> {
    /// One scorecard on this entity: `None` when `appliesTo.where` leaves
    /// the entity out.
    fn card(&mut self, card: &Scorecard) -> Outcomes {
        // A `where` that cannot be evaluated (it reads a field this entity
        // lacks) means the entity is not scored, as with a false one. One
        // over budget scores the entity with every rule in error: bloated
        // data must not buy a way out of the gate.
        let over_budget = match &card.condition {
            None => None,
            Some(c) => match self.execute(c) {
                Ok(cel::Value::Bool(true)) => None,
                Err(Failure::Budget(why)) => Some(format!("appliesTo.where: {why}")),
                _ => return None,
            },
        };
        Some(
            card.rules
                .iter()
                .map(|r| match &over_budget {
                    Some(why) => outcome(r, State::Error, Some(Arc::from(why.as_str()))),
                    None => self.rule(card, r),
                })
                .collect(),
        )
    }

    fn rule(&mut self, card: &Scorecard, rule: &Rule) -> RuleOutcome {
        let (state, message) = self.state(card, rule);
        outcome(rule, state, message.map(Arc::from))
    }

    fn state(&mut self, card: &Scorecard, rule: &Rule) -> (State, Option<String>) {
        if let Some(when) = &rule.when {
            match self.run(when) {
                Ok(true) => {}
                Ok(false) => return (State::Skipped, None),
                Err(outcome) => return outcome,
            }
        }
        let today = self.opts.today();
        if let Some(x) = card.exemptions.iter().find(|x| {
            x.rule == rule.id
                && x.entities.contains(&self.key)
                && x.expires.is_none_or(|d| today <= d)
        }) {
            let until = x
                .expires
                .map(|d| format!(" (until {d})"))
                .unwrap_or_default();
            return (State::Exempt, Some(format!("{}{until}", x.reason)));
        }
        match self.run(&rule.check) {
            Ok(true) => (State::Pass, None),
            Ok(false) => {
                let message = self.message(card, rule);
                match rule.enforce_from {
                    Some(from) if today < from => {
                        let note = format!("enforced from {from}");
                        let text = match message {
                            Some(m) => format!("{m} ({note})"),
                            None => note,
                        };
                        (State::Warn, Some(text))
                    }
                    _ => (State::Fail, message),
                }
            }
            Err(outcome) => outcome,
        }
    }

    /// Runs an expression under its budget: first the cost estimate over
    /// this entity's data, then the metered run.
    fn execute(&mut self, expr: &CompiledExpr) -> Result<cel::Value, Failure> {
        let ctx = self.ctx;
        let largest = &mut self.largest;
        let mut measure = || {
            *largest.get_or_insert_with(|| {
                let vars: Vec<cel::Value> = ["entity", "live"]
                    .iter()
                    .filter_map(|v| ctx.get_variable(v).ok())
                    .collect();
                budget::largest_collection(&vars)
            })
        };
        budget::check_cost(&expr.instrumented, ctx, &mut measure).map_err(Failure::Budget)?;
        budget::run(&expr.instrumented, ctx)
    }

    /// Runs a boolean expression; `Err` carries the unknown or error outcome.
    fn run(&mut self, expr: &CompiledExpr) -> Result<bool, (State, Option<String>)> {
        match self.execute(expr) {
            Ok(cel::Value::Bool(b)) => Ok(b),
            Ok(other) => Err((
                State::Error,
                Some(format!(
                    "`{}` must be true or false, got {}",
                    expr.text,
                    describe(&other)
                )),
            )),
            Err(Failure::Budget(why)) => Err((State::Error, Some(why))),
            Err(Failure::Cel(e)) => {
                let mut missing: Vec<String> = expr
                    .live
                    .iter()
                    .filter_map(|i| {
                        self.live
                            .missing(i)
                            .map(|why| format!("live.{i} is unavailable: {why}"))
                    })
                    .collect();
                for i in &expr.live {
                    for (fact, why) in self.live.missing_facts(i, &expr.text) {
                        missing.push(format!("live.{fact} is unavailable: {why}"));
                    }
                }
                if missing.is_empty() {
                    Err((State::Error, Some(explain(&e))))
                } else {
                    Err((State::Unknown, Some(missing.join("; "))))
                }
            }
        }
    }

    fn message(&mut self, card: &Scorecard, rule: &Rule) -> Option<String> {
        if !rule.has_message {
            return None;
        }
        let template = self
            .templates
            .get_template(&template_name(&card.name, &rule.id))
            .ok()?;
        let view = self
            .rendered_view
            .get_or_insert_with(|| minijinja::Value::from(minijinja::value::Serde(self.view)))
            .clone();
        let ctx = minijinja::context! {
            entity => view,
            live => minijinja::Value::from(minijinja::value::Serde(&self.live.facts)),
            now => self.opts.now.to_rfc3339(),
            rule => minijinja::context! { id => rule.id.clone(), title => rule.title.clone() },
        };
        let field = || {
            let i = card.rules.iter().position(|r| r.id == rule.id).unwrap_or(0);
            format!("{} spec.rules.{i}.message", card.source.file)
        };
        Some(
            match crate::jinja::render_capped(&template, ctx, MAX_MESSAGE_BYTES as u64) {
                Ok(text) => text,
                Err(e) if e.is_out_of_fuel() => format!(
                    "(message template ran out of fuel ({MESSAGE_FUEL} steps) at {}: it loops too long or forever)",
                    field()
                ),
                Err(crate::jinja::CappedError::TooLarge { .. }) => format!(
                    "(message template output passed {MAX_MESSAGE_BYTES} bytes at {})",
                    field()
                ),
                Err(crate::jinja::CappedError::Template(e)) => {
                    format!("(message template failed: {e})")
                }
            },
        )
    }
}

fn outcome(rule: &Rule, state: State, message: Option<Arc<str>>) -> RuleOutcome {
    let names = &rule.shared;
    RuleOutcome {
        id: names.id.clone(),
        state,
        message,
        title: names.title.clone(),
        level: names.level.clone(),
        docs: names.docs.clone(),
    }
}

/// A CEL runtime error worded for someone who wrote the rule.
fn explain(e: &cel::ExecutionError) -> String {
    match e {
        cel::ExecutionError::NoSuchKey(k) => format!(
            "no such key: {k} (this entity lacks the field; guard the rule with has(…), e.g. `has(entity.spec.{k}) && …`, or restrict it with `when`)"
        ),
        cel::ExecutionError::UndeclaredReference(name) => format!(
            "undeclared reference to '{name}' (rules can read entity, live and now)"
        ),
        other => other.to_string(),
    }
}

fn describe(v: &cel::Value) -> String {
    let s = format!("{v:?}");
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(59).collect::<String>())
    } else {
        s
    }
}

/// Levels from rule states: an entity holds level L when every rule at L
/// and below holds.
fn summarise(
    card: &Scorecard,
    entity: &Entity,
    title: String,
    rules: Vec<RuleOutcome>,
    policy: UnknownPolicy,
) -> CardResult {
    let held = |unknown_holds: bool| -> Option<usize> {
        let mut level = None;
        for l in 0..card.levels.len() {
            let ok = card
                .rules
                .iter()
                .zip(&rules)
                .filter(|(r, _)| r.level == l)
                .all(|(_, o)| o.state.holds(unknown_holds));
            if !ok {
                break;
            }
            level = Some(l);
        }
        level
    };
    let confirmed = held(false);
    let possible = held(true);
    let level_index = match policy {
        UnknownPolicy::Ignore => possible,
        UnknownPolicy::Fail => confirmed,
    };
    let next = level_index.map_or(0, |l| l + 1);
    let unknown_holds = policy == UnknownPolicy::Ignore;
    let next_needs = card
        .rules
        .iter()
        .zip(&rules)
        .filter(|(r, o)| r.level <= next && !o.state.holds(unknown_holds))
        .map(|(r, _)| r.id.clone())
        .collect();
    CardResult {
        entity: entity.entity_ref().to_string(),
        scorecard: card.name.clone(),
        level: level_index.map(|l| card.levels[l].id.clone()),
        uncertain: confirmed != possible,
        rules,
        next_level: card.levels.get(next).map(|l| l.id.clone()),
        next_needs,
        level_index,
        title,
        source: entity.source.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::compile::{compile, entity_from};
    use crate::score::facts::{FactMap, NoIntegrations};
    use serde_json::{json, Value};

    fn set(rules: Value, extra: Value) -> Scorecards {
        let mut spec =
            json!({"levels": [{"id": "bronze"}, {"id": "silver"}, {"id": "gold"}], "rules": rules});
        if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        let o = compile(
            &entity_from(
                json!({"apiVersion": "idp.dev/v1alpha1", "kind": "Scorecard",
            "metadata": {"name": "ready"}, "spec": spec}),
            )
            .expect("entity"),
        );
        assert!(o.issues.is_empty(), "{:?}", o.issues);
        Scorecards::new(vec![o.scorecard.expect("compiles")])
    }

    fn svc(name: &str, spec: Value) -> Entity {
        entity_from(
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": name}, "spec": spec}),
        )
        .expect("entity")
    }

    fn opts(now: &str) -> RunOptions {
        RunOptions {
            now: DateTime::parse_from_rfc3339(now).expect("time"),
            unknown: UnknownPolicy::Ignore,
        }
    }

    fn states(r: &CardResult) -> Vec<(&str, State)> {
        r.rules.iter().map(|o| (&*o.id, o.state)).collect()
    }

    #[test]
    fn states_and_levels() {
        let s = set(
            json!([
                {"id": "owner", "level": "bronze", "check": "ref_kind(entity.spec.owner, 'group') == 'group'",
                 "message": "Set spec.owner to a Group (now \"{{ entity.spec.owner }}\")."},
                {"id": "runbook", "level": "silver", "enforceFrom": "2027-01-31",
                 "check": "has(entity.metadata.links) && entity.metadata.links.exists(l, l.type == 'runbook')"},
                {"id": "oncall", "level": "silver", "when": "'pagerduty.com/service-id' in entity.metadata.annotations",
                 "check": "live.pagerduty.oncall.size() > 0"},
                {"id": "coverage", "level": "gold", "check": "live.sonarqube.coverage >= 80.0"}
            ]),
            json!({"exemptions": [{"rule": "coverage", "entities": ["legacy"], "reason": "ADR-42", "expires": "2027-03-31"}]}),
        );
        let a = svc("a", json!({"owner": "user:jo"}));
        let legacy = svc("legacy", json!({"owner": "team"}));
        let results = evaluate(
            &s,
            &[&a, &legacy],
            &NoIntegrations,
            None,
            &opts("2026-11-29T00:00:00Z"),
        );
        assert_eq!(results.len(), 2);
        let r = &results[0];
        assert_eq!(
            r.rules[0].message.as_deref(),
            Some("Set spec.owner to a Group (now \"user:jo\").")
        );
        assert_eq!(
            r.rules[1].message.as_deref(),
            Some("enforced from 2027-01-31")
        );
        // `when` reads annotations the entity lacks: an error with a hint.
        assert_eq!(
            states(r),
            vec![
                ("owner", State::Fail),
                ("runbook", State::Warn),
                ("oncall", State::Error),
                ("coverage", State::Unknown)
            ]
        );
        assert!(r.rules[2].message.as_deref().unwrap_or("").contains("has("));
        assert_eq!(
            r.rules[3].message.as_deref(),
            Some("live.sonarqube is unavailable: no integration configured")
        );
        assert_eq!(r.level, None);
        assert_eq!(r.next_needs, vec!["owner"]);
        let l = &results[1];
        assert_eq!(l.rules[3].state, State::Exempt);
        // A later run: the exemption expired, the deadline passed.
        let later = evaluate(
            &s,
            &[&legacy],
            &NoIntegrations,
            None,
            &opts("2027-04-01T00:00:00Z"),
        );
        assert_eq!(later[0].rules[1].state, State::Fail);
        assert_eq!(later[0].rules[3].state, State::Unknown);
    }

    #[test]
    fn unknown_marks_the_level_uncertain() {
        let s = set(
            json!([{"id": "owner", "level": "bronze", "check": "has(entity.spec.owner)"},
                   {"id": "coverage", "level": "silver", "check": "live.sonarqube.coverage >= 80.0"}]),
            json!({}),
        );
        let a = svc("a", json!({"owner": "team"}));
        let mut o = opts("2026-11-29T00:00:00Z");
        let r = &evaluate(&s, &[&a], &NoIntegrations, None, &o)[0];
        assert_eq!((r.level.as_deref(), r.uncertain), (Some("gold"), true));
        o.unknown = UnknownPolicy::Fail;
        let r = &evaluate(&s, &[&a], &NoIntegrations, None, &o)[0];
        assert_eq!((r.level.as_deref(), r.uncertain), (Some("bronze"), true));
        assert_eq!(r.next_needs, vec!["coverage"]);
        // With the fact supplied, it is certain.
        let mut facts = FactMap::default();
        facts.by_entity.insert(
            "component:default/a".into(),
            LiveFacts {
                facts: serde_json::from_value(json!({"sonarqube": {"coverage": 91.5}}))
                    .expect("map"),
                ..Default::default()
            },
        );
        let r = &evaluate(&s, &[&a], &facts, None, &o)[0];
        assert_eq!((r.level.as_deref(), r.uncertain), (Some("gold"), false));
    }

    #[test]
    fn a_missing_field_is_an_error_not_a_crash() {
        let s = set(
            json!([{"id": "tier", "level": "bronze", "check": "entity.metadata.labels.tier == '1'"}]),
            json!({}),
        );
        let a = svc("a", json!({}));
        let r = &evaluate(
            &s,
            &[&a],
            &NoIntegrations,
            None,
            &opts("2026-11-29T00:00:00Z"),
        )[0];
        assert_eq!(r.rules[0].state, State::Error);
        assert!(r.rules[0]
            .message
            .as_deref()
            .unwrap_or("")
            .contains("no such key: labels"));
    }

    #[test]
    fn applies_to_filters_entities() {
        let s = set(
            json!([{"id": "x", "level": "bronze", "check": "true"}]),
            json!({"appliesTo": {"kinds": ["Component"], "where": "entity.spec.type == 'service'"}}),
        );
        let a = svc("a", json!({"type": "service"}));
        let b = svc("b", json!({"type": "library"}));
        let c = svc("c", json!({}));
        let r = evaluate(
            &s,
            &[&a, &b, &c],
            &NoIntegrations,
            None,
            &opts("2026-11-29T00:00:00Z"),
        );
        assert_eq!(
            r.iter().map(|r| r.entity.as_str()).collect::<Vec<_>>(),
            vec!["component:default/a"]
        );
    }
}
