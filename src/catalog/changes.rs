//! Field-level differences between two versions of a descriptor, as dotted
//! paths (`spec.owner`: `payments` → `checkout`). Lists of plain values are
//! compared as sets, so adding one dependency reads as one change.

use serde::Serialize;
use serde_json::Value;

/// One changed field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// Dotted path (`spec.owner`, `metadata.annotations.github.com/project-slug`).
    pub field: String,
    /// The old value (`null` when added).
    pub from: Value,
    /// The new value (`null` when removed).
    pub to: Value,
}

/// Every changed field between `old` and `new`.
pub fn field_changes(old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    diff(old, new, &mut String::new(), &mut out);
    out
}

fn diff(old: &Value, new: &Value, path: &mut String, out: &mut Vec<FieldChange>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, va) in a {
                let len = path.len();
                push(path, key);
                diff(va, b.get(key).unwrap_or(&Value::Null), path, out);
                path.truncate(len);
            }
            for (key, vb) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                let len = path.len();
                push(path, key);
                diff(&Value::Null, vb, path, out);
                path.truncate(len);
            }
        }
        // A list that appears or disappears: its items, one change each.
        (Value::Null, Value::Array(b)) if all_scalars(b) => {
            for added in b {
                out.push(FieldChange {
                    field: path.clone(),
                    from: Value::Null,
                    to: added.clone(),
                });
            }
        }
        (Value::Array(a), Value::Null) if all_scalars(a) => {
            for removed in a {
                out.push(FieldChange {
                    field: path.clone(),
                    from: removed.clone(),
                    to: Value::Null,
                });
            }
        }
        (Value::Array(a), Value::Array(b)) if all_scalars(a) && all_scalars(b) => {
            for removed in a.iter().filter(|v| !b.contains(v)) {
                out.push(FieldChange {
                    field: path.clone(),
                    from: removed.clone(),
                    to: Value::Null,
                });
            }
            for added in b.iter().filter(|v| !a.contains(v)) {
                out.push(FieldChange {
                    field: path.clone(),
                    from: Value::Null,
                    to: added.clone(),
                });
            }
            if out.last().is_none_or(|c| c.field != *path) {
                // Same items, new order.
                out.push(FieldChange {
                    field: path.clone(),
                    from: old.clone(),
                    to: new.clone(),
                });
            }
        }
        _ => out.push(FieldChange {
            field: path.clone(),
            from: old.clone(),
            to: new.clone(),
        }),
    }
}

fn all_scalars(items: &[Value]) -> bool {
    items.iter().all(|v| !v.is_object() && !v.is_array())
}

fn push(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

/// A change as one line: `spec.owner: payments → checkout`.
pub fn describe(change: &FieldChange) -> String {
    match (&change.from, &change.to) {
        (Value::Null, to) => format!("{}: + {}", change.field, short(to)),
        (from, Value::Null) => format!("{}: − {}", change.field, short(from)),
        (Value::String(a), Value::String(b)) => {
            let (a, b) = around_difference(a, b);
            format!("{}: {a} → {b}", change.field)
        }
        (from, to) => format!("{}: {} → {}", change.field, short(from), short(to)),
    }
}

/// Two long strings cut to the neighbourhood of their first difference, so
/// an edited description shows what changed rather than a shared prefix.
fn around_difference(a: &str, b: &str) -> (String, String) {
    let (ca, cb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if ca.len() <= 60 && cb.len() <= 60 && !a.contains('\n') && !b.contains('\n') {
        return (a.to_string(), b.to_string());
    }
    let first = ca.iter().zip(&cb).take_while(|(x, y)| x == y).count();
    let start = first.saturating_sub(20);
    let cut = |c: &[char]| {
        let end = (start + 50).min(c.len());
        let mut s: String = c[start.min(c.len())..end]
            .iter()
            .collect::<String>()
            .replace('\n', "⏎");
        if start > 0 {
            s.insert(0, '…');
        }
        if end < c.len() {
            s.push('…');
        }
        s
    };
    (cut(&ca), cut(&cb))
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let first = s.lines().next().unwrap_or("");
    if first.chars().count() > 60 || s.lines().count() > 1 {
        format!("{}…", first.chars().take(57).collect::<String>())
    } else {
        first.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalar_and_nested_changes() {
        let a = json!({"spec": {"owner": "payments", "lifecycle": "experimental"}, "metadata": {"name": "x"}});
        let b = json!({"spec": {"owner": "checkout", "lifecycle": "experimental", "system": "s"}, "metadata": {"name": "x"}});
        let c = field_changes(&a, &b);
        assert_eq!(
            c,
            vec![
                FieldChange {
                    field: "spec.owner".into(),
                    from: json!("payments"),
                    to: json!("checkout")
                },
                FieldChange {
                    field: "spec.system".into(),
                    from: Value::Null,
                    to: json!("s")
                },
            ]
        );
        assert_eq!(describe(&c[0]), "spec.owner: payments → checkout");
        let long = FieldChange {
            field: "metadata.description".into(),
            from: json!(format!("{} old ending", "x".repeat(80))),
            to: json!(format!("{} new ending", "x".repeat(80))),
        };
        assert_eq!(
            describe(&long),
            format!(
                "metadata.description: …{} old ending → …{} new ending",
                "x".repeat(19),
                "x".repeat(19)
            )
        );
    }

    #[test]
    fn list_items_added_and_removed() {
        let a = json!({"dependsOn": ["a", "b"]});
        let b = json!({"dependsOn": ["b", "c"]});
        let c = field_changes(&a, &b);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].from, json!("a"));
        assert_eq!(c[1].to, json!("c"));
        let reordered = field_changes(&json!({"x": [1, 2]}), &json!({"x": [2, 1]}));
        assert_eq!(reordered.len(), 1);
    }
}
