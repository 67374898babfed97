//! Port-style rule queries (`query: {combinator, conditions: [{property,
//! operator, value}]}`) compiled to CEL text, so an organisation can bring its
//! Port scorecards over unchanged. A missing property fails its condition
//! (as in Port) instead of erroring: every access is guarded with `has()`.

use serde_json::Value;

use super::model::{PortCondition, PortQuery};

/// Why a query cannot be compiled; `condition` is its index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    /// Index of the offending condition (`None`: the combinator).
    pub condition: Option<usize>,
    /// Which field of it (`operator`, `value`, `property`).
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

/// The operators accepted, as Port spells them.
pub const OPERATORS: &[&str] = &[
    "=",
    "!=",
    ">",
    ">=",
    "<",
    "<=",
    "contains",
    "doesNotContains",
    "beginsWith",
    "doesNotBeginsWith",
    "endsWith",
    "doesNotEndsWith",
    "isEmpty",
    "isNotEmpty",
    "in",
    "notIn",
];

/// The CEL expression equivalent to a Port query.
pub fn to_cel(query: &PortQuery) -> Result<String, QueryError> {
    let joiner = match query.combinator.to_ascii_lowercase().as_str() {
        "and" => " && ",
        "or" => " || ",
        other => {
            return Err(QueryError {
                condition: None,
                field: "combinator",
                message: format!("combinator \"{other}\" is not and / or"),
            })
        }
    };
    if query.conditions.is_empty() {
        return Err(QueryError {
            condition: None,
            field: "conditions",
            message: "a query needs at least one condition".into(),
        });
    }
    let parts = query
        .conditions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            condition(c).map_err(|(field, message)| QueryError {
                condition: Some(i),
                field,
                message,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(parts
        .into_iter()
        .map(|p| format!("({p})"))
        .collect::<Vec<_>>()
        .join(joiner))
}

fn condition(c: &PortCondition) -> Result<String, (&'static str, String)> {
    let (guard, access) = property(&c.property).map_err(|m| ("property", m))?;
    let value = || -> Result<&Value, (&'static str, String)> {
        c.value
            .as_ref()
            .ok_or(("value", format!("operator {} needs a value", c.operator)))
    };
    let string = || -> Result<String, (&'static str, String)> {
        match value()? {
            Value::String(s) => Ok(literal(&Value::String(s.clone()))),
            other => Err((
                "value",
                format!(
                    "operator {} needs a string value, found {other}",
                    c.operator
                ),
            )),
        }
    };
    let guarded = |test: String| format!("{guard} && {test}");
    let number_or_literal = |v: &Value| match v {
        Value::Number(n) => format!("double({access}) OP {}", float(n)),
        other => format!("{access} OP {}", literal(other)),
    };
    Ok(match c.operator.as_str() {
        op @ ("=" | "!=" | ">" | ">=" | "<" | "<=") => {
            let cel_op = if op == "=" { "==" } else { op };
            let v = value()?;
            if matches!(op, ">" | ">=" | "<" | "<=") && !v.is_number() && !v.is_string() {
                return Err(("value", format!("operator {op} needs a number or a string")));
            }
            let test = number_or_literal(v).replace(" OP ", &format!(" {cel_op} "));
            if op == "!=" {
                format!("!({guard}) || {test}")
            } else {
                guarded(test)
            }
        }
        "contains" => guarded(format!("{access}.contains({})", contains_arg(value()?))),
        "doesNotContains" => format!(
            "!({guard}) || !{access}.contains({})",
            contains_arg(value()?)
        ),
        "beginsWith" => guarded(format!("{access}.startsWith({})", string()?)),
        "doesNotBeginsWith" => format!("!({guard}) || !{access}.startsWith({})", string()?),
        "endsWith" => guarded(format!("{access}.endsWith({})", string()?)),
        "doesNotEndsWith" => format!("!({guard}) || !{access}.endsWith({})", string()?),
        "isEmpty" => format!("!({guard}) || size({access}) == 0"),
        "isNotEmpty" => guarded(format!("size({access}) > 0")),
        "in" | "notIn" => {
            let v = value()?;
            if !v.is_array() {
                return Err(("value", format!("operator {} needs a list", c.operator)));
            }
            let test = format!("{access} in {}", literal(v));
            if c.operator == "in" {
                guarded(test)
            } else {
                format!("!({guard}) || !({test})")
            }
        }
        other => {
            return Err((
                "operator",
                format!(
                    "operator \"{other}\" is not known; use one of: {}",
                    OPERATORS.join(", ")
                ),
            ))
        }
    })
}

/// `contains` on a list takes any value; on a string a string. CEL's
/// `contains` is for strings, so a list test is written with `in` by the
/// caller's data: here both spell the same call, which the runtime accepts
/// for strings and lists alike.
fn contains_arg(v: &Value) -> String {
    literal(v)
}

/// The guard and access expression for a Port property: `$identifier`,
/// `$title`, `$team`, `$kind`, `$description`, `$tags`; a dotted path from the
/// entity root (`spec.lifecycle`, `metadata.annotations.pagerduty.com/x`,
/// `live.sonarqube.coverage`); a bare name is `spec.<name>`, where Port keeps
/// its properties.
pub fn property(p: &str) -> Result<(String, String), String> {
    let path: Vec<String> = match p {
        "$identifier" => vec!["metadata".into(), "name".into()],
        "$title" => vec!["metadata".into(), "title".into()],
        "$description" => vec!["metadata".into(), "description".into()],
        "$tags" => vec!["metadata".into(), "tags".into()],
        "$team" | "$owner" => vec!["spec".into(), "owner".into()],
        "$kind" => vec!["kind".into()],
        p if p.starts_with('$') => {
            return Err(format!(
                "property {p} is not known; use $identifier, $title, $description, $tags, $team, $kind or a field path"
            ))
        }
        "" => return Err("property is empty".into()),
        p => split(p),
    };
    let (root, rest) = if path[0] == "live" {
        ("live".to_string(), &path[1..])
    } else {
        ("entity".to_string(), &path[..])
    };
    let mut guards = Vec::new();
    let mut access = root;
    for (i, seg) in rest.iter().enumerate() {
        // Every descriptor has these; guarding them only adds noise.
        let always = i == 0
            && access == "entity"
            && matches!(seg.as_str(), "metadata" | "kind" | "apiVersion");
        let next = if is_ident(seg) {
            if !always {
                guards.push(format!("has({access}.{seg})"));
            }
            format!("{access}.{seg}")
        } else {
            let key = literal(&Value::String(seg.clone()));
            guards.push(format!("{key} in {access}"));
            format!("{access}[{key}]")
        };
        access = next;
    }
    if rest.is_empty() {
        return Err(format!("property {p} names no field"));
    }
    let guard = if guards.is_empty() {
        "true".to_string()
    } else {
        guards.join(" && ")
    };
    Ok((guard, access))
}

/// Splits a property path; under `annotations` and `labels` the rest is one
/// key (annotation keys contain dots).
fn split(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = p;
    while let Some((head, tail)) = rest.split_once('.') {
        out.push(head.to_string());
        rest = tail;
        if matches!(head, "annotations" | "labels") {
            break;
        }
    }
    out.push(rest.to_string());
    if out[0] != "metadata"
        && out[0] != "spec"
        && out[0] != "live"
        && out[0] != "relations"
        && out[0] != "kind"
        && out[0] != "apiVersion"
    {
        out.insert(0, "spec".into());
    }
    out
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(s, "in" | "true" | "false" | "null")
}

fn float(n: &serde_json::Number) -> String {
    let f = n.as_f64().unwrap_or(0.0);
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

/// A JSON value as a CEL literal.
fn literal(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => float(n),
        // JSON string escapes are valid CEL string escapes.
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", literal(&Value::String(k.clone())), literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(v: Value) -> Result<String, QueryError> {
        to_cel(&serde_json::from_value(v).expect("query"))
    }

    #[test]
    fn compiles_conditions_with_guards() {
        let cel = q(json!({"combinator": "and", "conditions": [
            {"property": "$team", "operator": "isNotEmpty"},
            {"property": "lifecycle", "operator": "=", "value": "production"},
            {"property": "metadata.annotations.pagerduty.com/service-id", "operator": "isNotEmpty"},
            {"property": "live.sonarqube.coverage", "operator": ">=", "value": 80}
        ]}))
        .expect("compiles");
        assert_eq!(
            cel,
            "(has(entity.spec) && has(entity.spec.owner) && size(entity.spec.owner) > 0) && \
             (has(entity.spec) && has(entity.spec.lifecycle) && entity.spec.lifecycle == \"production\") && \
             (has(entity.metadata.annotations) && \"pagerduty.com/service-id\" in entity.metadata.annotations && size(entity.metadata.annotations[\"pagerduty.com/service-id\"]) > 0) && \
             (has(live.sonarqube) && has(live.sonarqube.coverage) && double(live.sonarqube.coverage) >= 80.0)"
        );
    }

    #[test]
    fn negations_pass_when_missing() {
        let cel = q(json!({"combinator": "or", "conditions": [
            {"property": "$tags", "operator": "doesNotContains", "value": "legacy"}]}))
        .expect("compiles");
        assert_eq!(
            cel,
            "(!(has(entity.metadata.tags)) || !entity.metadata.tags.contains(\"legacy\"))"
        );
    }

    #[test]
    fn bad_operator_names_the_condition() {
        let err = q(json!({"combinator": "and", "conditions": [
            {"property": "x", "operator": "=", "value": 1},
            {"property": "x", "operator": "like", "value": 1}]}))
        .expect_err("fails");
        assert_eq!(err.condition, Some(1));
        assert_eq!(err.field, "operator");
        assert!(err.message.contains("isNotEmpty"));
        assert!(q(json!({"combinator": "xor", "conditions": []})).is_err());
    }
}
