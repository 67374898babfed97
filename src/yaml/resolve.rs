//! What a scalar means, with serde_yaml 0.9's rules (the YAML 1.2 core
//! schema as it implemented it): the loader turns scalars into JSON values
//! with them, and the emitter quotes a string exactly when these rules would
//! read it back as something else.

use serde_json::{Number, Value};

/// A plain scalar's meaning; `Err` for an integer too large for JSON (as
/// serde_yaml refused it into a JSON value).
pub fn plain(v: &str) -> Result<Value, String> {
    if v.is_empty() || null(v) {
        return Ok(Value::Null);
    }
    if let Some(b) = boolean(v) {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = int(v)? {
        return Ok(n);
    }
    if !digits_but_not_number(v) {
        if let Some(f) = float(v) {
            return Ok(Number::from_f64(f).map_or(Value::Null, Value::Number));
        }
    }
    Ok(Value::String(v.to_string()))
}

/// Whether a plain `v` would read back as something other than the string.
pub fn is_not_string(v: &str) -> bool {
    v.is_empty()
        || null(v)
        || boolean(v).is_some()
        || !matches!(int(v), Ok(None))
        || digits_but_not_number(v)
        || float(v).is_some()
}

pub fn null(v: &str) -> bool {
    matches!(v, "null" | "Null" | "NULL" | "~")
}

pub fn boolean(v: &str) -> Option<bool> {
    match v {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// An integer as JSON; `Ok(None)` when `v` is not one; `Err` when it is one
/// beyond 64 bits.
pub fn int(v: &str) -> Result<Option<Value>, String> {
    if let Some(n) = unsigned(v, u64::from_str_radix) {
        return Ok(Some(Value::Number(n.into())));
    }
    if let Some(n) = negative(v, i64::from_str_radix) {
        return Ok(Some(Value::Number(n.into())));
    }
    if let Some(n) = unsigned(v, u128::from_str_radix) {
        return Err(format!(
            "invalid type: integer `{n}` as u128, expected any YAML value"
        ));
    }
    if let Some(n) = negative(v, i128::from_str_radix) {
        return Err(format!(
            "invalid type: integer `{n}` as i128, expected any YAML value"
        ));
    }
    Ok(None)
}

fn unsigned<T>(
    scalar: &str,
    radix: fn(&str, u32) -> Result<T, std::num::ParseIntError>,
) -> Option<T> {
    let unpositive = scalar.strip_prefix('+').unwrap_or(scalar);
    for (prefix, base) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = unpositive.strip_prefix(prefix) {
            if rest.starts_with(['+', '-']) {
                return None;
            }
            if let Ok(n) = radix(rest, base) {
                return Some(n);
            }
        }
    }
    if unpositive.starts_with(['+', '-']) || digits_but_not_number(scalar) {
        return None;
    }
    radix(unpositive, 10).ok()
}

fn negative<T>(
    scalar: &str,
    radix: fn(&str, u32) -> Result<T, std::num::ParseIntError>,
) -> Option<T> {
    for (prefix, base) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
        if let Some(rest) = scalar.strip_prefix(prefix) {
            if let Ok(n) = radix(&format!("-{rest}"), base) {
                return Some(n);
            }
        }
    }
    if digits_but_not_number(scalar) {
        return None;
    }
    radix(scalar, 10).ok()
}

pub fn float(scalar: &str) -> Option<f64> {
    let unpositive = match scalar.strip_prefix('+') {
        Some(u) if u.starts_with(['+', '-']) => return None,
        Some(u) => u,
        None => scalar,
    };
    if let ".inf" | ".Inf" | ".INF" = unpositive {
        return Some(f64::INFINITY);
    }
    if let "-.inf" | "-.Inf" | "-.INF" = scalar {
        return Some(f64::NEG_INFINITY);
    }
    if let ".nan" | ".NaN" | ".NAN" = scalar {
        return Some(f64::NAN);
    }
    unpositive.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Leading zeros followed by digits: a string in YAML 1.2 (`0755`, `010`).
pub fn digits_but_not_number(scalar: &str) -> bool {
    let s = scalar.strip_prefix(['-', '+']).unwrap_or(scalar);
    s.len() > 1 && s.starts_with('0') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_core_schema_as_serde_yaml_read_it() {
        for (text, want) in [
            ("yes", json!("yes")),
            ("no", json!("no")),
            ("on", json!("on")),
            ("off", json!("off")),
            ("y", json!("y")),
            ("True", json!(true)),
            ("FALSE", json!(false)),
            ("~", json!(null)),
            ("", json!(null)),
            ("Null", json!(null)),
            ("0755", json!("0755")),
            ("010", json!("010")),
            ("-010", json!("-010")),
            ("0", json!(0)),
            ("0o755", json!(493)),
            ("0x1F", json!(31)),
            ("-0x10", json!(-16)),
            ("0b101", json!(5)),
            ("+12", json!(12)),
            ("-12", json!(-12)),
            ("1_000", json!("1_000")),
            ("1.5", json!(1.5)),
            ("1e3", json!(1000.0)),
            (".inf", json!(null)),
            (".nan", json!(null)),
            (
                "2001-12-14t21:59:43.10-05:00",
                json!("2001-12-14t21:59:43.10-05:00"),
            ),
            ("2024-01-01", json!("2024-01-01")),
            ("1.2.3", json!("1.2.3")),
        ] {
            assert_eq!(plain(text), Ok(want), "{text:?}");
        }
        assert!(plain("99999999999999999999").is_err());
        assert_eq!(
            plain("999999999999999999999999999999999999999999"),
            Ok(json!(1e42))
        );
    }
}
