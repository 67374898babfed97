//! Which names a CEL expression reads that nothing provides. A rule can read
//! the activation's variables ([`VARIABLES`]) and the variables its own
//! comprehensions bind (`x` in `list.all(x, …)`, only inside that
//! comprehension); anything else (`entiy.spec.x`, `foo`) would fail on
//! every entity, so `validate` reports it with the nearest name it meant.
//! Message construction (`Foo{a: 1}`) is reported too: the interpreter
//! cannot run it.

use cel::common::ast::{EntryExpr, Expr};
use cel::parser::Expression;

/// The variables every rule can read (see `evaluate`).
pub const VARIABLES: &[&str] = &["entity", "live", "now"];

/// A problem with a name in an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    /// An identifier that is neither an activation variable nor bound by
    /// an enclosing comprehension; with the nearest name in scope.
    Undefined {
        /// As written.
        name: String,
        /// The near name in scope, if any.
        suggestion: Option<String>,
    },
    /// `Type{field: value}`: message construction.
    Struct(String),
}

/// Every undefined name (each once, in order of appearance) and struct.
pub fn problems(e: &Expression) -> Vec<NameProblem> {
    let mut walk = Walk {
        scope: Vec::new(),
        out: Vec::new(),
    };
    walk.expr(e);
    walk.out
}

struct Walk<'a> {
    scope: Vec<&'a str>,
    out: Vec<NameProblem>,
}

impl<'a> Walk<'a> {
    fn expr(&mut self, e: &'a Expression) {
        match &e.expr {
            Expr::Ident(name) => self.ident(name),
            Expr::Call(c) => {
                if let Some(t) = &c.target {
                    self.expr(t);
                }
                c.args.iter().for_each(|a| self.expr(a));
            }
            Expr::Comprehension(c) => {
                self.expr(&c.iter_range);
                self.expr(&c.accu_init);
                let depth = self.scope.len();
                self.scope.push(&c.iter_var);
                if let Some(v) = &c.iter_var2 {
                    self.scope.push(v);
                }
                self.scope.push(&c.accu_var);
                self.expr(&c.loop_cond);
                self.expr(&c.loop_step);
                self.expr(&c.result);
                self.scope.truncate(depth);
            }
            Expr::List(l) => l.elements.iter().for_each(|x| self.expr(x)),
            Expr::Map(m) => m.entries.iter().for_each(|en| self.entry(&en.expr)),
            Expr::Struct(s) => {
                self.out.push(NameProblem::Struct(s.type_name.clone()));
                s.entries.iter().for_each(|en| self.entry(&en.expr));
            }
            Expr::Select(s) => self.expr(&s.operand),
            Expr::Literal(_) | Expr::Unspecified => {}
        }
    }

    fn entry(&mut self, e: &'a EntryExpr) {
        match e {
            EntryExpr::MapEntry(me) => {
                self.expr(&me.key);
                self.expr(&me.value);
            }
            EntryExpr::StructField(f) => self.expr(&f.value),
        }
    }

    fn ident(&mut self, name: &str) {
        // `@result` and friends are the macros' own accumulators.
        if name.starts_with('@') || VARIABLES.contains(&name) || self.scope.contains(&name) {
            return;
        }
        if self
            .out
            .iter()
            .any(|p| matches!(p, NameProblem::Undefined { name: n, .. } if n == name))
        {
            return;
        }
        let suggestion = VARIABLES
            .iter()
            .copied()
            .chain(self.scope.iter().copied().filter(|s| !s.starts_with('@')))
            // Jaro-Winkler for longer names, one edit (a swap included) for
            // short ones such as `tga` for `tag`.
            .map(|c| {
                let edits = strsim::damerau_levenshtein(name, c);
                let similar = strsim::jaro_winkler(name, c);
                (edits, similar, c)
            })
            .filter(|(edits, similar, _)| *similar > 0.8 || *edits <= 1)
            .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
            .map(|(_, _, c)| c.to_string());
        self.out.push(NameProblem::Undefined {
            name: name.to_string(),
            suggestion,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<NameProblem> {
        problems(cel::Program::compile(text).expect("parses").expression())
    }

    fn undefined(name: &str, suggestion: Option<&str>) -> NameProblem {
        NameProblem::Undefined {
            name: name.into(),
            suggestion: suggestion.map(str::to_string),
        }
    }

    #[test]
    fn activation_and_comprehension_variables_are_defined() {
        assert!(names("has(entity.spec.owner) && live.x.y > 1 && now > now").is_empty());
        assert!(
            names("entity.metadata.tags.all(t, entity.metadata.tags.exists(u, t == u))").is_empty()
        );
        assert!(names("entity.spec.items.map(i, i.name).filter(n, n != '')").is_empty());
        assert!(names("[1, 2].exists_one(x, x == 1) && {'a': 1}.all(k, k == 'a')").is_empty());
    }

    #[test]
    fn misspelled_and_unknown_names_are_reported_with_a_near_name() {
        assert_eq!(
            names("entiy.spec.x == 'a'"),
            vec![undefined("entiy", Some("entity"))]
        );
        assert_eq!(names("foo > 1 && foo < 3"), vec![undefined("foo", None)]);
        assert_eq!(
            names("entity.metadata.tags.all(tag, tga != '')"),
            vec![undefined("tga", Some("tag"))]
        );
        assert_eq!(
            names("entity.spec.items.all(item, itme > 0)"),
            vec![undefined("itme", Some("item"))]
        );
    }

    #[test]
    fn a_comprehension_variable_is_not_defined_outside_it() {
        assert_eq!(
            names("entity.spec.items.all(x, x > 0) && x > 1"),
            vec![undefined("x", None)]
        );
    }
}
