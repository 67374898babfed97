//! The evaluation budget of one CEL expression on one entity. Scorecards
//! are trusted, descriptors are not: a rule that is cheap on a 10-item list
//! hangs on a 200,000-item one when comprehensions nest. Two guards, both
//! ending in the rule state `error` with "budget exceeded: …":
//!
//! 1. Before running, [`check_cost`] walks the expression against the
//!    entity's activation: a comprehension whose range is a path into the
//!    data (`entity.spec.items`) uses that list's real length, nested
//!    comprehensions multiply, list-building macros (`map`, `filter`) pay
//!    for copying their accumulator, and `x in list` pays for the scan.
//! 2. While running, every comprehension iteration passes through a step
//!    meter ([`instrument`] rewrites each loop condition to go through it):
//!    a step limit, plus a wall-clock deadline as the backstop for work the
//!    estimate cannot see. The interpreter has no hook of its own, so the
//!    meter is a function the rewritten expression calls; its state is
//!    thread-local because one expression runs on one thread.
//!
//! Rewriting also guards a comprehension's range: the interpreter panics on
//! a range that is neither a list nor a map, so the guard turns that into an
//! ordinary error first.

use std::cell::Cell;
use std::time::{Duration, Instant};

use cel::common::ast::{EntryExpr, Expr};
use cel::parser::Expression;
use cel::{Context, ExecutionError, Value};

/// Most comprehension iterations one expression may run on one entity.
pub const MAX_STEPS: u64 = 2_000_000;
/// Highest estimated cost (roughly: nodes visited) of one expression over
/// one entity's real data.
pub const MAX_DATA_COST: f64 = 20_000_000.0;
/// Longest one expression may run on one entity.
pub const DEADLINE: Duration = Duration::from_secs(1);

/// The function every loop condition goes through (not callable from
/// rules: the unknown-function check refuses it).
pub const STEP_FUNCTION: &str = "__idp_step";
/// The function every comprehension range goes through.
pub const RANGE_FUNCTION: &str = "__idp_range";

/// Why an expression did not produce a value.
#[derive(Debug)]
pub enum Failure {
    /// Over budget; the text says which budget and why.
    Budget(String),
    /// CEL's own error (a missing key, a type mismatch, …).
    Cel(ExecutionError),
}

/// A copy of `e` whose comprehensions run through the step meter and the
/// range guard.
pub fn instrument(e: &Expression) -> Expression {
    let mut out = e.clone();
    rewrite(&mut out);
    out
}

fn rewrite(e: &mut Expression) {
    match &mut e.expr {
        Expr::Call(c) => {
            if let Some(t) = c.target.as_deref_mut() {
                rewrite(t);
            }
            c.args.iter_mut().for_each(rewrite);
        }
        Expr::Comprehension(c) => {
            for x in [
                &mut c.iter_range,
                &mut c.accu_init,
                &mut c.loop_cond,
                &mut c.loop_step,
                &mut c.result,
            ] {
                rewrite(x);
            }
            wrap(&mut c.iter_range, RANGE_FUNCTION);
            wrap(&mut c.loop_cond, STEP_FUNCTION);
        }
        Expr::List(l) => l.elements.iter_mut().for_each(rewrite),
        Expr::Map(m) => m.entries.iter_mut().for_each(|en| match &mut en.expr {
            EntryExpr::MapEntry(me) => {
                rewrite(&mut me.key);
                rewrite(&mut me.value);
            }
            EntryExpr::StructField(f) => rewrite(&mut f.value),
        }),
        Expr::Select(s) => rewrite(&mut s.operand),
        Expr::Struct(s) => s.entries.iter_mut().for_each(|en| match &mut en.expr {
            EntryExpr::MapEntry(me) => {
                rewrite(&mut me.key);
                rewrite(&mut me.value);
            }
            EntryExpr::StructField(f) => rewrite(&mut f.value),
        }),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// `e` → `function(e)`.
fn wrap(e: &mut Expression, function: &str) {
    let inner = std::mem::take(e);
    *e = Expression {
        id: inner.id,
        expr: Expr::Call(cel::common::ast::CallExpr {
            func_name: function.to_string(),
            target: None,
            args: vec![inner],
        }),
    };
}

/// Adds the meter and the range guard to a root context.
pub fn register(ctx: &mut Context<'static>) {
    ctx.add_function(STEP_FUNCTION, step);
    ctx.add_function(RANGE_FUNCTION, range);
}

#[derive(Clone, Copy)]
struct Meter {
    left: u64,
    deadline: Instant,
}

thread_local! {
    static METER: Cell<Option<Meter>> = const { Cell::new(None) };
    static TRIPPED: Cell<Option<Trip>> = const { Cell::new(None) };
    static DEADLINE_TRIPS: Cell<u64> = const { Cell::new(0) };
}

/// How many expressions ran into the wall-clock deadline on this thread so
/// far. Such an outcome depends on the machine's load, not only on the data,
/// so the score cache does not keep it.
pub fn deadline_trips() -> u64 {
    DEADLINE_TRIPS.get()
}

#[derive(Clone, Copy)]
enum Trip {
    Steps,
    Time,
}

fn step(cond: Value) -> Result<Value, ExecutionError> {
    let Some(mut m) = METER.get() else {
        return Ok(cond); // not metered (a unit test running a program bare)
    };
    let trip = if m.left == 0 {
        Some(Trip::Steps)
    } else if Instant::now() > m.deadline {
        Some(Trip::Time)
    } else {
        None
    };
    if let Some(t) = trip {
        TRIPPED.set(Some(t));
        return Err(ExecutionError::function_error(
            STEP_FUNCTION,
            "budget exceeded",
        ));
    }
    m.left -= 1;
    METER.set(Some(m));
    Ok(cond)
}

fn range(v: Value) -> Result<Value, ExecutionError> {
    match v {
        Value::List(_) | Value::Map(_) => Ok(v),
        other => Err(ExecutionError::function_error(
            "comprehension",
            format!(
                "can only iterate over a list or a map, not a {}",
                other.type_of()
            ),
        )),
    }
}

/// Runs an instrumented expression under the step limit and the deadline.
/// A budget trip wins over whatever the expression made of the error
/// (`error || true` must not turn a runaway rule into a pass).
pub fn run(e: &Expression, ctx: &Context) -> Result<Value, Failure> {
    TRIPPED.set(None);
    METER.set(Some(Meter {
        left: MAX_STEPS,
        deadline: Instant::now() + DEADLINE,
    }));
    let result = ctx.resolve(e);
    METER.set(None);
    match TRIPPED.take() {
        Some(Trip::Steps) => Err(Failure::Budget(format!(
            "budget exceeded: the rule ran more than {MAX_STEPS} comprehension steps on this entity; restrict it with `when` or iterate over less"
        ))),
        Some(Trip::Time) => {
            DEADLINE_TRIPS.set(DEADLINE_TRIPS.get() + 1);
            Err(Failure::Budget(format!(
            "budget exceeded: the rule ran longer than {} ms on this entity; restrict it with `when` or iterate over less",
            DEADLINE.as_millis()
            )))
        }
        None => result.map_err(Failure::Cel),
    }
}

/// The largest list or map anywhere in `values` (the size assumed for a
/// range the estimate cannot resolve, such as a comprehension variable's
/// field). Iterative: descriptor data may nest deeply.
pub fn largest_collection<'a>(values: impl IntoIterator<Item = &'a Value>) -> usize {
    let mut stack: Vec<&Value> = values.into_iter().collect();
    let mut largest = 0;
    while let Some(v) = stack.pop() {
        match v {
            Value::List(l) => {
                largest = largest.max(l.len());
                stack.extend(l.iter());
            }
            Value::Map(m) => {
                largest = largest.max(m.map.len());
                stack.extend(m.map.values());
            }
            _ => {}
        }
    }
    largest
}

/// Refuses an expression whose estimated cost over this entity's data
/// exceeds [`MAX_DATA_COST`]. `largest` is the size assumed for ranges
/// that cannot be resolved before running (computed only when needed).
pub fn check_cost(
    e: &Expression,
    ctx: &Context,
    largest: &mut dyn FnMut() -> usize,
) -> Result<(), String> {
    let mut est = Estimate {
        ctx,
        bound: Vec::new(),
        largest,
        biggest_range: None,
    };
    let cost = est.cost(e);
    if cost <= MAX_DATA_COST {
        return Ok(());
    }
    let why = match est.biggest_range {
        Some((path, n)) => format!("{path} has {n} items; nested comprehensions multiply"),
        None => "nested comprehensions over large lists multiply".to_string(),
    };
    Err(format!(
        "budget exceeded: on this entity's data the rule would take about {cost:.1e} steps, more than {MAX_DATA_COST:.0e} ({why}); restrict it with `when` or iterate over less"
    ))
}

struct Estimate<'a, 'c> {
    ctx: &'a Context<'c>,
    /// Names bound by enclosing comprehensions (not in the activation).
    bound: Vec<&'a str>,
    largest: &'a mut dyn FnMut() -> usize,
    /// The largest range resolved from data, for the message.
    biggest_range: Option<(String, usize)>,
}

impl<'a> Estimate<'a, '_> {
    fn cost(&mut self, e: &'a Expression) -> f64 {
        match &e.expr {
            Expr::Call(c) => {
                // `x in list` scans the list.
                let own = if c.func_name == "@in" && c.args.len() == 2 {
                    self.size(&c.args[1]).max(1.0)
                } else {
                    1.0
                };
                own + c.target.as_deref().map_or(0.0, |t| self.cost(t))
                    + c.args.iter().map(|a| self.cost(a)).sum::<f64>()
            }
            Expr::Comprehension(c) => {
                let n = self.size(&c.iter_range);
                let outside = self.cost(&c.iter_range) + self.cost(&c.accu_init);
                let depth = self.bound.len();
                self.bound.push(&c.iter_var);
                if let Some(v) = &c.iter_var2 {
                    self.bound.push(v);
                }
                self.bound.push(&c.accu_var);
                let per_item = self.cost(&c.loop_cond) + self.cost(&c.loop_step);
                let result = self.cost(&c.result);
                self.bound.truncate(depth);
                // `map` and `filter` append to a list they copy each time.
                let copying = if appends_to(&c.loop_step, &c.accu_var) {
                    n * n / 2.0
                } else {
                    0.0
                };
                outside + n * per_item + copying + result
            }
            Expr::List(l) => 1.0 + l.elements.iter().map(|x| self.cost(x)).sum::<f64>(),
            Expr::Map(m) => 1.0 + m.entries.iter().map(|x| self.entry_cost(x)).sum::<f64>(),
            Expr::Struct(s) => 1.0 + s.entries.iter().map(|x| self.entry_cost(x)).sum::<f64>(),
            Expr::Select(s) => 1.0 + self.cost(&s.operand),
            _ => 1.0,
        }
    }

    fn entry_cost(&mut self, e: &'a cel::common::ast::IdedEntryExpr) -> f64 {
        match &e.expr {
            EntryExpr::StructField(f) => self.cost(&f.value),
            EntryExpr::MapEntry(m) => self.cost(&m.key) + self.cost(&m.value),
        }
    }

    /// How many items iterating over `e` visits, at most.
    fn size(&mut self, e: &'a Expression) -> f64 {
        match &e.expr {
            Expr::List(l) => l.elements.len() as f64,
            Expr::Map(m) => m.entries.len() as f64,
            // `map` and `filter` give at most as many items as they read.
            Expr::Comprehension(c) => self.size(&c.iter_range),
            Expr::Call(c) if c.func_name == RANGE_FUNCTION && c.args.len() == 1 => {
                self.size(&c.args[0])
            }
            Expr::Call(c) if c.func_name == "_+_" && c.args.len() == 2 => {
                self.size(&c.args[0]) + self.size(&c.args[1])
            }
            _ => match self.resolve(e) {
                Some(v) => {
                    let n = match &v {
                        Value::List(l) => l.len(),
                        Value::Map(m) => m.map.len(),
                        _ => 0,
                    };
                    if self.biggest_range.as_ref().is_none_or(|(_, m)| n > *m) {
                        self.biggest_range = Some((path_text(e), n));
                    }
                    n as f64
                }
                None => (self.largest)() as f64,
            },
        }
    }

    /// The value of a plain path into the activation (`entity.spec.items`,
    /// `live["x"].y`), without running anything else. `None` for anything
    /// else, and for paths through comprehension variables.
    fn resolve(&self, e: &Expression) -> Option<Value> {
        if !self.is_path(e) {
            return None;
        }
        self.ctx.resolve(e).ok()
    }

    fn is_path(&self, e: &Expression) -> bool {
        match &e.expr {
            Expr::Ident(name) => !self.bound.contains(&name.as_str()),
            Expr::Select(s) => !s.test && self.is_path(&s.operand),
            Expr::Call(c) if c.func_name == "_[_]" && c.args.len() == 2 => {
                matches!(c.args[1].expr, Expr::Literal(_)) && self.is_path(&c.args[0])
            }
            _ => false,
        }
    }
}

/// Whether `step` appends to the accumulator (`@result + [x]`).
fn appends_to(step: &Expression, accu: &str) -> bool {
    match &step.expr {
        Expr::Call(c) => {
            (c.func_name == "_+_"
                && c.args
                    .iter()
                    .any(|a| matches!(&a.expr, Expr::Ident(n) if n == accu)))
                || c.args.iter().any(|a| appends_to(a, accu))
        }
        _ => false,
    }
}

/// `entity.spec.items` for a path expression, for messages.
fn path_text(e: &Expression) -> String {
    match &e.expr {
        Expr::Ident(n) => n.clone(),
        Expr::Select(s) => format!("{}.{}", path_text(&s.operand), s.field),
        Expr::Call(c) if c.args.len() == 2 => match &c.args[1].expr {
            Expr::Literal(cel::common::value::CelVal::String(k)) => {
                format!("{}[{k:?}]", path_text(&c.args[0]))
            }
            Expr::Literal(cel::common::value::CelVal::Int(i)) => {
                format!("{}[{i}]", path_text(&c.args[0]))
            }
            _ => format!("{}[…]", path_text(&c.args[0])),
        },
        _ => "a list".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_with_items(n: usize) -> Context<'static> {
        let mut root = Context::default();
        register(&mut root);
        let items: Vec<usize> = (0..n).collect();
        let entity = serde_json::json!({"spec": {"tags": ["a", "b"], "items": items}});
        root.add_variable_from_value("entity", cel::to_value(entity).expect("value"));
        root
    }

    fn parse(text: &str) -> Expression {
        instrument(cel::Program::compile(text).expect("parses").expression())
    }

    #[test]
    fn nested_comprehensions_over_real_data_are_refused_before_running() {
        let ctx = ctx_with_items(200_000);
        let nested = parse("entity.spec.items.all(a, entity.spec.items.all(b, a != b || true))");
        let err = check_cost(&nested, &ctx, &mut || 200_000).unwrap_err();
        assert!(err.contains("entity.spec.items has 200000 items"), "{err}");
        // One level over the same list is fine, and runs.
        let flat = parse("entity.spec.items.all(a, a >= 0)");
        check_cost(&flat, &ctx, &mut || 200_000).expect("affordable");
        assert!(matches!(run(&flat, &ctx), Ok(Value::Bool(true))));
        // A small list nested is fine too.
        let small = parse("entity.spec.tags.all(a, entity.spec.tags.exists(b, a == b))");
        check_cost(&small, &ctx, &mut || 200_000).expect("affordable");
    }

    #[test]
    fn map_over_a_huge_list_pays_for_copying() {
        let ctx = ctx_with_items(200_000);
        let e = parse("size(entity.spec.items.map(x, x)) > 0");
        assert!(check_cost(&e, &ctx, &mut || 200_000).is_err());
    }

    #[test]
    fn the_meter_stops_a_runaway_loop_and_wins_over_or() {
        let ctx = ctx_with_items(3_000);
        // Unseen by the estimate: a range built from a bound variable.
        let e = parse("entity.spec.items.all(a, entity.spec.items.all(b, entity.spec.items.all(c, true))) || true");
        let start = Instant::now();
        match run(&e, &ctx) {
            Err(Failure::Budget(m)) => assert!(m.starts_with("budget exceeded"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn a_range_that_is_not_a_collection_is_an_error_not_a_panic() {
        let ctx = ctx_with_items(1);
        let e = parse("'abc'.all(x, true)");
        assert!(matches!(run(&e, &ctx), Err(Failure::Cel(_))));
    }
}
