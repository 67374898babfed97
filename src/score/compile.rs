//! From Scorecard entities to ready-to-run scorecards: the spec read
//! strictly, levels and rules cross-checked, every CEL expression parsed once
//! (and checked for unknown functions and a bounded cost), every message
//! template compiled once. Problems come back as [`Issue`]s with the field
//! path they are about, so `idp validate` can point at file:line:column.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use cel::common::ast::{EntryExpr, Expr};
use cel::parser::Expression;
use chrono::NaiveDate;
use serde_json::Value;

use super::budget;
use super::functions::{CEL_FUNCTIONS, IDP_FUNCTIONS};
use super::model::{ExemptionDef, RuleDef, Spec};
use super::names::{self, NameProblem};
use super::query;
use crate::catalog::problem::Severity;
use crate::catalog::refs::{EntityRef, DEFAULT_NAMESPACE};
use crate::catalog::{Entity, Source};

/// Longest expression accepted, in characters.
pub const MAX_EXPRESSION_LEN: usize = 4096;
/// Highest estimated cost (roughly: nodes visited) of one expression.
pub const MAX_COST: f64 = 100_000.0;
/// Fuel for rendering one rule's message for one entity: a message is a
/// sentence, so far less than a scaffold file gets.
pub const MESSAGE_FUEL: u64 = 1_000_000;
/// Longest rendered message, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Assumed size of a list that comes from data (entity fields, live facts)
/// when estimating the cost of a comprehension over it.
const ASSUMED_LIST_SIZE: f64 = 100.0;

/// A problem in a scorecard document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Error (the scorecard cannot be used) or warning.
    pub severity: Severity,
    /// Stable code (`invalid-cel`, `unknown-level`, …).
    pub code: &'static str,
    /// Dotted field path in the document (`spec.rules.2.check`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl Issue {
    fn error(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Issue {
            severity: Severity::Error,
            code,
            field: field.into(),
            message: message.into(),
        }
    }

    fn warning(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Issue {
            severity: Severity::Warning,
            code,
            field: field.into(),
            message: message.into(),
        }
    }

    /// Whether this makes the scorecard unusable.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A compiled CEL expression.
#[derive(Debug)]
pub struct CompiledExpr {
    /// The text as written (or as compiled from a Port query).
    pub text: String,
    /// The parsed program.
    pub program: cel::Program,
    /// The program as run: every comprehension goes through the step meter
    /// (see [`budget`](super::budget)).
    pub instrumented: cel::parser::Expression,
    /// Integrations read under `live.<name>`.
    pub live: BTreeSet<String>,
}

/// A level.
#[derive(Debug, Clone)]
pub struct Level {
    /// `silver`.
    pub id: String,
    /// `Silver`.
    pub title: String,
    /// `#c0c0c0`.
    pub color: Option<String>,
}

/// A rule ready to run.
#[derive(Debug)]
pub struct Rule {
    /// Identifier.
    pub id: String,
    /// Title (the id when none).
    pub title: String,
    /// Index into the scorecard's levels.
    pub level: usize,
    /// Must be true.
    pub check: CompiledExpr,
    /// When false the rule is skipped.
    pub when: Option<CompiledExpr>,
    /// Whether a message template exists (rendered by the evaluator).
    pub has_message: bool,
    /// Documentation link.
    pub docs: Option<String>,
    /// Before this day failures are warnings.
    pub enforce_from: Option<NaiveDate>,
    /// The id, title, level id and docs link once more, shared by every
    /// outcome of the rule (a run has one per entity).
    pub shared: SharedNames,
}

/// A rule's names as its outcomes carry them: reference-counted, so an
/// outcome costs no copy of them.
#[derive(Debug, Clone)]
pub struct SharedNames {
    /// [`Rule::id`].
    pub id: Arc<str>,
    /// [`Rule::title`].
    pub title: Arc<str>,
    /// The id of the rule's level.
    pub level: Arc<str>,
    /// [`Rule::docs`].
    pub docs: Option<Arc<str>>,
}

/// An exemption.
#[derive(Debug, Clone)]
pub struct Exemption {
    /// Rule id.
    pub rule: String,
    /// Entity keys (`component:default/legacy-billing`).
    pub entities: Vec<String>,
    /// Why.
    pub reason: String,
    /// Last day it holds.
    pub expires: Option<NaiveDate>,
}

/// A scorecard ready to run.
#[derive(Debug)]
pub struct Scorecard {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.title` or the name.
    pub title: String,
    /// Where it is defined.
    pub source: Source,
    /// Kinds scored (lowercase; empty: all but Scorecard).
    pub kinds: Vec<String>,
    /// `appliesTo.where`.
    pub condition: Option<CompiledExpr>,
    /// Levels, lowest first.
    pub levels: Vec<Level>,
    /// `gate.minLevel` as a level index.
    pub gate: Option<usize>,
    /// Rules, in document order.
    pub rules: Vec<Rule>,
    /// Exemptions.
    pub exemptions: Vec<Exemption>,
    /// Message templates by rule id (compiled into the set's environment).
    pub messages: HashMap<String, String>,
    /// The document's fingerprint, for the score cache.
    pub fingerprint: u128,
}

impl Scorecard {
    /// The index of a level id.
    pub fn level_index(&self, id: &str) -> Option<usize> {
        self.levels.iter().position(|l| l.id == id)
    }

    /// Level ids, lowest first, for messages.
    pub fn level_ids(&self) -> Vec<&str> {
        self.levels.iter().map(|l| l.id.as_str()).collect()
    }

    /// Whether an entity is of a kind this scorecard scores.
    pub fn scores_kind(&self, entity: &Entity) -> bool {
        if self.kinds.is_empty() {
            return !entity.kind.eq_ignore_ascii_case(super::KIND);
        }
        self.kinds
            .iter()
            .any(|k| entity.kind.eq_ignore_ascii_case(k))
    }
}

/// The outcome of compiling one Scorecard entity.
#[derive(Debug)]
pub struct Outcome {
    /// The scorecard, unless an error made it unusable.
    pub scorecard: Option<Scorecard>,
    /// Problems found (errors and warnings).
    pub issues: Vec<Issue>,
}

/// Compiles one Scorecard entity.
pub fn compile(entity: &Entity) -> Outcome {
    let mut issues = Vec::new();
    let doc = entity.doc();
    let Some(spec_value) = doc.get("spec") else {
        issues.push(Issue::error(
            "missing-spec",
            "",
            "a Scorecard needs a spec with levels and rules",
        ));
        return Outcome {
            scorecard: None,
            issues,
        };
    };
    let spec: Spec = match serde_path_to_error::deserialize(spec_value) {
        Ok(s) => s,
        Err(e) => {
            let field = path_to_field(&e.path().to_string());
            issues.push(Issue::error(
                "invalid-scorecard",
                field,
                e.inner().to_string(),
            ));
            return Outcome {
                scorecard: None,
                issues,
            };
        }
    };

    let mut levels: Vec<Level> = Vec::new();
    if spec.levels.is_empty() {
        issues.push(Issue::error(
            "no-levels",
            "spec.levels",
            "a scorecard needs at least one level",
        ));
    }
    for (i, l) in spec.levels.iter().enumerate() {
        if let Some(first) = levels.iter().position(|x| x.id == l.id) {
            issues.push(Issue::error(
                "duplicate-level",
                format!("spec.levels.{i}.id"),
                format!(
                    "level \"{}\" is listed twice (first as levels[{first}])",
                    l.id
                ),
            ));
            continue;
        }
        levels.push(Level {
            id: l.id.clone(),
            title: l.title.clone().unwrap_or_else(|| title_case(&l.id)),
            color: l.color.clone(),
        });
    }
    let level_ids: Vec<&str> = levels.iter().map(|l| l.id.as_str()).collect();
    let find_level = |id: &str, field: String, issues: &mut Vec<Issue>| -> Option<usize> {
        let found = levels.iter().position(|l| l.id == id);
        if found.is_none() {
            issues.push(Issue::error(
                "unknown-level",
                field,
                format!(
                    "level \"{id}\" is not one of this scorecard's levels: {}",
                    level_ids.join(", ")
                ),
            ));
        }
        found
    };
    let gate = spec
        .gate
        .as_ref()
        .and_then(|g| g.min_level.as_deref())
        .and_then(|id| find_level(id, "spec.gate.minLevel".into(), &mut issues));

    let condition = spec
        .applies_to
        .condition
        .as_deref()
        .and_then(|text| compile_expr(text, "spec.appliesTo.where", &mut issues));

    let mut rules: Vec<Rule> = Vec::new();
    let mut messages = HashMap::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, r) in spec.rules.iter().enumerate() {
        let at = format!("spec.rules.{i}");
        if let Some(first) = seen.insert(&r.id, i) {
            issues.push(Issue::error(
                "duplicate-rule",
                format!("{at}.id"),
                format!(
                    "rule id \"{}\" is used twice (first by rules[{first}])",
                    r.id
                ),
            ));
            continue;
        }
        let level = find_level(&r.level, format!("{at}.level"), &mut issues);
        let check = rule_check(r, &at, &mut issues);
        let when = r
            .when
            .as_deref()
            .and_then(|t| compile_expr(t, &format!("{at}.when"), &mut issues));
        let when_ok = r.when.is_none() || when.is_some();
        let enforce_from = r
            .enforce_from
            .as_deref()
            .and_then(|d| date(d, &format!("{at}.enforceFrom"), &mut issues));
        if let Some(m) = &r.message {
            if let Err(e) = crate::jinja::environment(MESSAGE_FUEL).template_from_str(m) {
                issues.push(Issue::error(
                    "invalid-message",
                    format!("{at}.message"),
                    format!("message is not a valid MiniJinja template: {e}"),
                ));
            } else {
                messages.insert(r.id.clone(), m.clone());
            }
        }
        if let (Some(level), Some(check), true) = (level, check, when_ok) {
            let title = r.title.clone().unwrap_or_else(|| r.id.clone());
            let shared = SharedNames {
                id: Arc::from(r.id.as_str()),
                title: Arc::from(title.as_str()),
                level: Arc::from(levels[level].id.as_str()),
                docs: r.docs.as_deref().map(Arc::from),
            };
            rules.push(Rule {
                id: r.id.clone(),
                title,
                level,
                check,
                when,
                has_message: r.message.is_some(),
                docs: r.docs.clone(),
                enforce_from,
                shared,
            });
        }
    }

    let exemptions = spec
        .exemptions
        .iter()
        .enumerate()
        .filter_map(|(i, x)| exemption(x, i, &spec.rules, &mut issues))
        .collect();

    let scorecard = (!issues.iter().any(Issue::is_error)).then(|| Scorecard {
        fingerprint: super::cache::card_fingerprint(entity),
        name: entity.name.clone(),
        title: entity.title.clone().unwrap_or_else(|| entity.name.clone()),
        source: entity.source.clone(),
        kinds: spec
            .applies_to
            .kinds
            .iter()
            .map(|k| k.to_ascii_lowercase())
            .collect(),
        condition,
        levels,
        gate,
        rules,
        exemptions,
        messages,
    });
    Outcome { scorecard, issues }
}

fn rule_check(r: &RuleDef, at: &str, issues: &mut Vec<Issue>) -> Option<CompiledExpr> {
    match (&r.check, &r.query) {
        (Some(text), None) => compile_expr(text, &format!("{at}.check"), issues),
        (None, Some(q)) => match query::to_cel(q) {
            Ok(text) => compile_expr(&text, &format!("{at}.query"), issues),
            Err(e) => {
                let field = match e.condition {
                    Some(c) => format!("{at}.query.conditions.{c}.{}", e.field),
                    None => format!("{at}.query.{}", e.field),
                };
                issues.push(Issue::error("invalid-query", field, e.message));
                None
            }
        },
        (Some(_), Some(_)) => {
            issues.push(Issue::error(
                "invalid-rule",
                format!("{at}.query"),
                "a rule has either check or query, not both",
            ));
            None
        }
        (None, None) => {
            issues.push(Issue::error(
                "missing-check",
                at.to_string(),
                format!("rule \"{}\" needs a check (CEL) or a query", r.id),
            ));
            None
        }
    }
}

fn exemption(
    x: &ExemptionDef,
    i: usize,
    rules: &[RuleDef],
    issues: &mut Vec<Issue>,
) -> Option<Exemption> {
    let at = format!("spec.exemptions.{i}");
    if !rules.iter().any(|r| r.id == x.rule) {
        let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        issues.push(Issue::warning(
            "unknown-exemption-rule",
            format!("{at}.rule"),
            format!("exemption for rule \"{}\", which this scorecard does not have (rules: {}); it has no effect", x.rule, ids.join(", ")),
        ));
    }
    let mut entities = Vec::new();
    for (j, e) in x.entities.iter().enumerate() {
        match EntityRef::parse(e, Some("component"), DEFAULT_NAMESPACE) {
            Ok(r) => entities.push(r.key()),
            Err(err) => issues.push(Issue::error(
                "invalid-reference",
                format!("{at}.entities.{j}"),
                format!("\"{e}\" is not an entity reference: {err}"),
            )),
        }
    }
    let expires = match &x.expires {
        Some(d) => Some(date(d, &format!("{at}.expires"), issues)?),
        None => None,
    };
    Some(Exemption {
        rule: x.rule.clone(),
        entities,
        reason: x.reason.clone(),
        expires,
    })
}

fn date(text: &str, field: &str, issues: &mut Vec<Issue>) -> Option<NaiveDate> {
    let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    if parsed.is_none() {
        issues.push(Issue::error(
            "invalid-date",
            field,
            format!("\"{text}\" is not a date (YYYY-MM-DD)"),
        ));
    }
    parsed
}

/// Parses and checks one CEL expression; issues go to `issues`.
pub fn compile_expr(text: &str, field: &str, issues: &mut Vec<Issue>) -> Option<CompiledExpr> {
    if text.chars().count() > MAX_EXPRESSION_LEN {
        issues.push(Issue::error(
            "expression-too-long",
            field,
            format!("the expression is longer than {MAX_EXPRESSION_LEN} characters"),
        ));
        return None;
    }
    let program = match cel::Program::compile(text) {
        Ok(p) => p,
        Err(errors) => {
            let detail = errors
                .errors
                .first()
                .map(|e| format!("{} (at {}:{} of the expression)", e.msg, e.pos.0, e.pos.1))
                .unwrap_or_else(|| errors.to_string());
            issues.push(Issue::error(
                "invalid-cel",
                field,
                format!("invalid CEL: {detail}"),
            ));
            return None;
        }
    };
    let references = program.references();
    let mut unknown: Vec<&str> = references
        .functions()
        .into_iter()
        .filter(|f| !is_operator(f) && !CEL_FUNCTIONS.contains(f) && !IDP_FUNCTIONS.contains(f))
        .collect();
    unknown.sort_unstable();
    if !unknown.is_empty() {
        let suggestions: Vec<&str> = unknown.iter().filter_map(|u| near(u)).collect();
        let hint = if suggestions.is_empty() {
            format!("idp adds {}", IDP_FUNCTIONS.join(", "))
        } else {
            format!("did you mean {}?", suggestions.join(", "))
        };
        issues.push(Issue::error(
            "unknown-function",
            field,
            format!(
                "unknown function{} {}; {hint}",
                if unknown.len() == 1 { "" } else { "s" },
                unknown.join(", ")
            ),
        ));
        return None;
    }
    let names = names::problems(program.expression());
    if !names.is_empty() {
        for problem in names {
            let message = match problem {
                NameProblem::Undefined { name, suggestion } => {
                    let hint = match suggestion {
                        Some(s) => format!("; did you mean {s}?"),
                        None => String::new(),
                    };
                    format!(
                        "undefined variable {name}{hint} (rules can read {}, and the variables their comprehensions bind)",
                        names::VARIABLES.join(", ")
                    )
                }
                NameProblem::Struct(t) => {
                    format!("message construction ({t}{{…}}) is not supported; use a map literal")
                }
            };
            issues.push(Issue::error("undefined-variable", field, message));
        }
        return None;
    }
    let cost = cost(program.expression());
    if cost > MAX_COST {
        issues.push(Issue::error(
            "expression-too-costly",
            field,
            format!("the expression may run away: its estimated cost {cost:.0} exceeds {MAX_COST:.0} (nested comprehensions over large lists); simplify it"),
        ));
        return None;
    }
    let mut live = BTreeSet::new();
    collect_live(program.expression(), &mut live);
    let instrumented = budget::instrument(program.expression());
    Some(CompiledExpr {
        text: text.to_string(),
        program,
        instrumented,
        live,
    })
}

fn near(name: &str) -> Option<&'static str> {
    CEL_FUNCTIONS
        .iter()
        .chain(IDP_FUNCTIONS)
        .map(|c| (strsim::jaro_winkler(name, c), *c))
        .filter(|(s, _)| *s > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

fn is_operator(name: &str) -> bool {
    name.starts_with(['_', '@', '!', '-'])
}

/// Upper-bound estimate of the nodes one evaluation visits.
fn cost(e: &Expression) -> f64 {
    match &e.expr {
        Expr::Call(c) => {
            1.0 + c.target.as_deref().map_or(0.0, cost) + c.args.iter().map(cost).sum::<f64>()
        }
        Expr::Comprehension(c) => {
            let n = match &c.iter_range.expr {
                Expr::List(l) => l.elements.len() as f64,
                Expr::Map(m) => m.entries.len() as f64,
                _ => ASSUMED_LIST_SIZE,
            };
            cost(&c.iter_range)
                + cost(&c.accu_init)
                + cost(&c.result)
                + n * (cost(&c.loop_cond) + cost(&c.loop_step))
        }
        Expr::List(l) => 1.0 + l.elements.iter().map(cost).sum::<f64>(),
        Expr::Map(m) => 1.0 + m.entries.iter().map(entry_cost).sum::<f64>(),
        Expr::Struct(s) => 1.0 + s.entries.iter().map(entry_cost).sum::<f64>(),
        Expr::Select(s) => 1.0 + cost(&s.operand),
        _ => 1.0,
    }
}

fn entry_cost(e: &cel::common::ast::IdedEntryExpr) -> f64 {
    match &e.expr {
        EntryExpr::StructField(f) => cost(&f.value),
        EntryExpr::MapEntry(m) => cost(&m.key) + cost(&m.value),
    }
}

/// Integrations named as `live.<name>` or `live["name"]`.
fn collect_live(e: &Expression, out: &mut BTreeSet<String>) {
    let is_live = |x: &Expression| matches!(&x.expr, Expr::Ident(n) if n == "live");
    match &e.expr {
        Expr::Select(s) => {
            if is_live(&s.operand) {
                out.insert(s.field.clone());
            }
            collect_live(&s.operand, out);
        }
        Expr::Call(c) => {
            if c.func_name == "_[_]" && c.args.len() == 2 && is_live(&c.args[0]) {
                if let Expr::Literal(cel::common::value::CelVal::String(s)) = &c.args[1].expr {
                    out.insert(s.clone());
                }
            }
            if let Some(t) = &c.target {
                collect_live(t, out);
            }
            c.args.iter().for_each(|a| collect_live(a, out));
        }
        Expr::Comprehension(c) => {
            for x in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                collect_live(x, out);
            }
        }
        Expr::List(l) => l.elements.iter().for_each(|a| collect_live(a, out)),
        Expr::Map(m) => m.entries.iter().for_each(|en| {
            if let EntryExpr::MapEntry(me) = &en.expr {
                collect_live(&me.key, out);
                collect_live(&me.value, out);
            }
        }),
        _ => {}
    }
}

/// `rules[0].level` (serde_path_to_error) → `spec.rules.0.level`.
fn path_to_field(path: &str) -> String {
    let dotted = path.replace('[', ".").replace(']', "");
    if dotted == "." || dotted.is_empty() {
        "spec".into()
    } else {
        format!("spec.{}", dotted.trim_start_matches('.'))
    }
}

fn title_case(id: &str) -> String {
    let mut c = id.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// A scorecard document's value, for tests and callers holding raw JSON.
pub fn entity_from(doc: Value) -> Option<Entity> {
    Entity::from_document(doc, Source::default()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn card(spec: Value) -> Outcome {
        compile(
            &entity_from(
                json!({"apiVersion": "idp.dev/v1alpha1", "kind": "Scorecard",
            "metadata": {"name": "t"}, "spec": spec}),
            )
            .expect("entity"),
        )
    }

    fn codes(o: &Outcome) -> Vec<(&'static str, String)> {
        o.issues.iter().map(|i| (i.code, i.field.clone())).collect()
    }

    #[test]
    fn a_good_scorecard_compiles() {
        let o = card(
            json!({"levels": [{"id": "bronze"}, {"id": "silver"}], "gate": {"minLevel": "silver"},
            "rules": [{"id": "a", "level": "bronze", "check": "live.sonarqube.coverage > 1.0"}]}),
        );
        let sc = o.scorecard.expect("compiles");
        assert_eq!(sc.gate, Some(1));
        assert_eq!(sc.levels[1].title, "Silver");
        assert!(sc.rules[0].check.live.contains("sonarqube"));
    }

    #[test]
    fn invalid_cel_is_an_error_at_the_check() {
        let o = card(
            json!({"levels": [{"id": "b"}], "rules": [{"id": "a", "level": "b", "check": "entity.spec.owner =="}]}),
        );
        assert!(o.scorecard.is_none());
        assert_eq!(
            codes(&o),
            vec![("invalid-cel", "spec.rules.0.check".to_string())]
        );
    }

    #[test]
    fn unknown_level_and_duplicates() {
        let o = card(json!({"levels": [{"id": "b"}, {"id": "b"}], "rules": [
            {"id": "a", "level": "gold", "check": "true"},
            {"id": "a", "level": "b", "check": "true"}]}));
        assert_eq!(
            codes(&o),
            vec![
                ("duplicate-level", "spec.levels.1.id".to_string()),
                ("unknown-level", "spec.rules.0.level".to_string()),
                ("duplicate-rule", "spec.rules.1.id".to_string()),
            ]
        );
        assert!(o.issues[1].message.contains("levels: b"));
    }

    #[test]
    fn unknown_function_suggests_a_near_name() {
        let o = card(
            json!({"levels": [{"id": "b"}], "rules": [{"id": "a", "level": "b", "check": "ref_knd(entity.spec.owner, 'group') == 'group'"}]}),
        );
        assert_eq!(o.issues[0].code, "unknown-function");
        assert!(
            o.issues[0]
                .message
                .contains("ref_knd; did you mean ref_kind?"),
            "{}",
            o.issues[0].message
        );
    }

    #[test]
    fn runaway_expressions_are_refused() {
        let list = format!(
            "[{}]",
            (0..200)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        let text = format!("{list}.all(a, {list}.all(b, {list}.all(c, a + b + c >= 0)))");
        let o = card(
            json!({"levels": [{"id": "b"}], "rules": [{"id": "a", "level": "b", "check": text}]}),
        );
        assert_eq!(o.issues[0].code, "expression-too-costly");
        let ok = "entity.metadata.tags.all(t, entity.metadata.tags.exists(u, t == u))";
        let o = card(
            json!({"levels": [{"id": "b"}], "rules": [{"id": "a", "level": "b", "check": ok}]}),
        );
        assert!(o.scorecard.is_some(), "{:?}", o.issues);
    }

    #[test]
    fn structural_errors_have_paths() {
        let o = card(
            json!({"levels": [{"id": "b"}], "rules": [{"id": "a", "level": "b", "chek": "true"}]}),
        );
        assert_eq!(o.issues[0].field, "spec.rules.0.chek");
        assert!(o.issues[0].message.contains("unknown field `chek`"));
    }

    #[test]
    fn exemption_for_unknown_rule_warns() {
        let o = card(
            json!({"levels": [{"id": "b"}], "rules": [{"id": "a", "level": "b", "check": "true"}],
            "exemptions": [{"rule": "zz", "entities": ["x"], "reason": "r", "expires": "2027-01-01"}]}),
        );
        assert!(o.scorecard.is_some());
        assert_eq!(
            codes(&o),
            vec![(
                "unknown-exemption-rule",
                "spec.exemptions.0.rule".to_string()
            )]
        );
    }
}
