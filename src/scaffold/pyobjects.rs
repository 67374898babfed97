//! Python's `dict`, `list` and `str` methods for cookiecutter templates.
//!
//! Jinja2 hands templates real Python objects, and public templates call
//! their methods: cookiecutter-django's pre-generation hook does
//! `{{ cookiecutter.update({"domain_name": cookiecutter.domain_name | trim}) }}`
//! and expects every later render to see the trimmed value. MiniJinja's
//! values are immutable, so the context a cookiecutter template sees is
//! made of [`PyDict`] and [`PyList`] objects here, which mutate in place
//! behind a lock (one context value is shared by every render of a run, see
//! `Renderer::context_value`). Maps and lists written as literals in a
//! template stay MiniJinja's own and cannot be mutated; their mutating
//! methods are an error that says so rather than a silent no-op.
//!
//! Methods MiniJinja-contrib's `pycompat` already gets right are left to
//! it; those it lacks or where it differs from Python (`str.split()` on
//! Python whitespace, `partition`, `zfill`, `ljust`, …) are here. Every
//! method that can grow a value charges fuel and stops at
//! [`MAX_ITEMS`] items, so a template cannot grow a container without
//! bound in a few steps (`l.extend(l)` doubles it).

use std::sync::{Arc, Mutex, MutexGuard};

use indexmap::IndexMap;
use minijinja::value::{from_args, Enumerator, Kwargs, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

use super::extensions::{over_limit, python_str, MAX_GENERATED_CHARS};

/// Most items one dict or list may hold.
pub const MAX_ITEMS: usize = 1 << 20;

/// How deep a value put into a container is searched for the container
/// itself (a list that contains itself has no finite rendering).
const MAX_DEPTH: usize = 64;

/// A JSON context as mutable Python objects.
pub fn to_python_value(v: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Object(map) => Value::from_object(PyDict::new(
            map.iter()
                .map(|(k, v)| (Value::from(k.as_str()), to_python_value(v)))
                .collect(),
        )),
        J::Array(items) => {
            Value::from_object(PyList::new(items.iter().map(to_python_value).collect()))
        }
        other => Value::from(minijinja::value::Serde(other)),
    }
}

/// A Python `dict`: insertion-ordered, mutable in place.
#[derive(Debug, Default)]
pub struct PyDict {
    map: Mutex<IndexMap<Value, Value>>,
}

impl PyDict {
    fn new(map: IndexMap<Value, Value>) -> Self {
        PyDict {
            map: Mutex::new(map),
        }
    }

    fn lock(&self) -> MutexGuard<'_, IndexMap<Value, Value>> {
        // A panic while holding the lock cannot leave the map half-updated
        // (every update is one insert), so a poisoned lock is still usable.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A Python `list`, mutable in place.
#[derive(Debug, Default)]
pub struct PyList {
    items: Mutex<Vec<Value>>,
}

impl PyList {
    fn new(items: Vec<Value>) -> Self {
        PyList {
            items: Mutex::new(items),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Value>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A Python `tuple` (what `items()` and `partition()` return): a plain
/// sequence that Python prints in parentheses.
#[derive(Debug)]
pub struct PyTuple(pub Vec<Value>);

impl PyTuple {
    /// The tuple as a template value.
    pub fn value(items: Vec<Value>) -> Value {
        Value::from_object(PyTuple(items))
    }
}

impl Object for PyTuple {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = i64::try_from(key.clone()).ok()?;
        let i = if i < 0 { i + self.0.len() as i64 } else { i };
        self.0.get(usize::try_from(i).ok()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.clone())
    }
}

impl Object for PyDict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.lock().get(key).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.lock().keys().cloned().collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.lock().len())
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        dict_method(state, self, method, args)
    }
}

impl Object for PyList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = self.lock();
        let i = i64::try_from(key.clone()).ok()?;
        let i = if i < 0 { i + items.len() as i64 } else { i };
        items.get(usize::try_from(i).ok()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.lock().clone())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.lock().len())
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        list_method(state, self, method, args)
    }
}

/// The environment's unknown-method callback: Python methods on strings
/// and on MiniJinja's own (immutable) maps and lists.
pub fn unknown_method(
    state: &mut State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    match value.kind() {
        ValueKind::String => {
            match str_method(state, value.as_str().unwrap_or_default(), method, args)? {
                Some(v) => Ok(v),
                None => {
                    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
                }
            }
        }
        ValueKind::Map => match method {
            "copy" => {
                let () = from_args(args)?;
                Ok(Value::from_object(PyDict::new(pairs_of(state, value)?)))
            }
            "update" | "setdefault" | "pop" | "popitem" | "clear" => Err(immutable("dict", method)),
            _ => minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args),
        },
        ValueKind::Seq => match method {
            "copy" => {
                let () = from_args(args)?;
                Ok(Value::from_object(PyList::new(items_of(state, value)?)))
            }
            "index" => list_index(&items_of(state, value)?, args),
            "append" | "extend" | "insert" | "remove" | "pop" | "clear" | "reverse" | "sort" => {
                Err(immutable("list", method))
            }
            _ => minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args),
        },
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}

fn immutable(kind: &str, method: &str) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!(
            "{kind}.{method}() on a {kind} written in the template: idp can change only the \
             cookiecutter context's own {kind}s in place"
        ),
    )
}

fn items_of(state: &State, v: &Value) -> Result<Vec<Value>, Error> {
    let items: Vec<Value> = v.try_iter()?.collect();
    charge(state, items.len())?;
    Ok(items)
}

fn pairs_of(state: &State, v: &Value) -> Result<IndexMap<Value, Value>, Error> {
    let mut out = IndexMap::new();
    if v.kind() == ValueKind::Map {
        for k in v.try_iter()? {
            let item = v.get_item(&k)?;
            out.insert(k, item);
        }
    } else {
        // An iterable of pairs, as dict.update accepts.
        for pair in v.try_iter()? {
            let kv: Vec<Value> = pair.try_iter()?.collect();
            match kv.as_slice() {
                [k, item] => {
                    out.insert(k.clone(), item.clone());
                }
                _ => {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        "dict update sequence element has not length 2",
                    ))
                }
            }
        }
    }
    charge(state, out.len())?;
    Ok(out)
}

fn charge(state: &State, items: usize) -> Result<(), Error> {
    state.consume_fuel(items as u64)
}

fn check_size(kind: &str, len: usize) -> Result<(), Error> {
    if len > MAX_ITEMS {
        return Err(over_limit(&format!("{kind} size"), len, MAX_ITEMS));
    }
    Ok(())
}

/// Whether `v` is or contains the object at `target` (searched to
/// [`MAX_DEPTH`]; deeper is refused as well).
fn reaches(v: &Value, target: *const (), depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return true;
    }
    if let Some(d) = v.downcast_object_ref::<PyDict>() {
        if std::ptr::eq(d as *const PyDict as *const (), target) {
            return true;
        }
    }
    if let Some(l) = v.downcast_object_ref::<PyList>() {
        if std::ptr::eq(l as *const PyList as *const (), target) {
            return true;
        }
    }
    match v.kind() {
        ValueKind::Seq | ValueKind::Map => {
            let Ok(iter) = v.try_iter() else {
                return false;
            };
            for k in iter {
                let child = if v.kind() == ValueKind::Map {
                    v.get_item(&k).unwrap_or_default()
                } else {
                    k
                };
                if reaches(&child, target, depth + 1) {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

fn no_cycle(v: &Value, target: *const ()) -> Result<(), Error> {
    if reaches(v, target, 0) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "a container may not contain itself or nest deeper than {MAX_DEPTH} levels in idp"
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------- dict

fn dict_method(
    state: &State,
    d: &Arc<PyDict>,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    let me = Arc::as_ptr(d) as *const ();
    match method {
        "keys" => {
            let () = from_args(args)?;
            Ok(Value::from(d.lock().keys().cloned().collect::<Vec<_>>()))
        }
        "values" => {
            let () = from_args(args)?;
            Ok(Value::from(d.lock().values().cloned().collect::<Vec<_>>()))
        }
        "items" => {
            let () = from_args(args)?;
            Ok(Value::from(
                d.lock()
                    .iter()
                    .map(|(k, v)| PyTuple::value(vec![k.clone(), v.clone()]))
                    .collect::<Vec<_>>(),
            ))
        }
        "get" => {
            let (key, default): (Value, Option<Value>) = from_args(args)?;
            Ok(d.lock()
                .get(&key)
                .cloned()
                .or(default)
                .unwrap_or(Value::from(())))
        }
        "copy" => {
            let () = from_args(args)?;
            let map = d.lock().clone();
            charge(state, map.len())?;
            Ok(Value::from_object(PyDict::new(map)))
        }
        "update" => {
            let (other, kwargs): (Option<Value>, Kwargs) = from_args(args)?;
            // Read the argument before locking: `d.update(d)` is legal.
            let mut new = match &other {
                Some(o) => pairs_of(state, o)?,
                None => IndexMap::new(),
            };
            for k in kwargs.args().map(str::to_string).collect::<Vec<_>>() {
                new.insert(Value::from(k.as_str()), kwargs.get::<Value>(&k)?);
            }
            for v in new.values() {
                no_cycle(v, me)?;
            }
            let mut map = d.lock();
            check_size("dict", map.len() + new.len())?;
            map.extend(new);
            Ok(Value::from(()))
        }
        "setdefault" => {
            let (key, default): (Value, Option<Value>) = from_args(args)?;
            let default = default.unwrap_or(Value::from(()));
            no_cycle(&default, me)?;
            let mut map = d.lock();
            if let Some(v) = map.get(&key) {
                return Ok(v.clone());
            }
            check_size("dict", map.len() + 1)?;
            map.insert(key, default.clone());
            Ok(default)
        }
        "pop" => {
            let (key, default): (Value, Option<Value>) = from_args(args)?;
            match d.lock().shift_remove(&key).or(default) {
                Some(v) => Ok(v),
                None => Err(key_error(&key)),
            }
        }
        "popitem" => {
            let () = from_args(args)?;
            match d.lock().pop() {
                Some((k, v)) => Ok(PyTuple::value(vec![k, v])),
                None => Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "popitem(): dictionary is empty",
                )),
            }
        }
        "clear" => {
            let () = from_args(args)?;
            d.lock().clear();
            Ok(Value::from(()))
        }
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}

fn key_error(key: &Value) -> Error {
    let mut repr = String::new();
    super::extensions::python_repr_into(key, &mut repr);
    Error::new(ErrorKind::InvalidOperation, format!("KeyError: {repr}"))
}

// ---------------------------------------------------------------- list

fn list_method(
    state: &State,
    l: &Arc<PyList>,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    let me = Arc::as_ptr(l) as *const ();
    match method {
        "append" => {
            let (item,): (Value,) = from_args(args)?;
            no_cycle(&item, me)?;
            let mut items = l.lock();
            check_size("list", items.len() + 1)?;
            items.push(item);
            Ok(Value::from(()))
        }
        "extend" => {
            let (other,): (Value,) = from_args(args)?;
            let new = items_of(state, &other)?;
            for v in &new {
                no_cycle(v, me)?;
            }
            let mut items = l.lock();
            check_size("list", items.len() + new.len())?;
            items.extend(new);
            Ok(Value::from(()))
        }
        "insert" => {
            let (at, item): (i64, Value) = from_args(args)?;
            no_cycle(&item, me)?;
            let mut items = l.lock();
            check_size("list", items.len() + 1)?;
            let len = items.len() as i64;
            let at = if at < 0 {
                (at + len).max(0)
            } else {
                at.min(len)
            };
            items.insert(at as usize, item);
            Ok(Value::from(()))
        }
        "remove" => {
            let (item,): (Value,) = from_args(args)?;
            let mut items = l.lock();
            match items.iter().position(|x| *x == item) {
                Some(i) => {
                    items.remove(i);
                    Ok(Value::from(()))
                }
                None => Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "list.remove(x): x not in list",
                )),
            }
        }
        "pop" => {
            let (at,): (Option<i64>,) = from_args(args)?;
            let mut items = l.lock();
            let len = items.len() as i64;
            let i = at.unwrap_or(-1);
            let i = if i < 0 { i + len } else { i };
            if items.is_empty() || i < 0 || i >= len {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "pop index out of range",
                ));
            }
            Ok(items.remove(i as usize))
        }
        "clear" => {
            let () = from_args(args)?;
            l.lock().clear();
            Ok(Value::from(()))
        }
        "reverse" => {
            let () = from_args(args)?;
            l.lock().reverse();
            Ok(Value::from(()))
        }
        "sort" => {
            let (kwargs,): (Kwargs,) = from_args(args)?;
            let reverse = kwargs.get::<Option<bool>>("reverse")?.unwrap_or(false);
            kwargs.assert_all_used()?;
            let mut items = l.lock();
            charge(state, items.len())?;
            items.sort();
            if reverse {
                items.reverse();
            }
            Ok(Value::from(()))
        }
        "copy" => {
            let () = from_args(args)?;
            let items = l.lock().clone();
            charge(state, items.len())?;
            Ok(Value::from_object(PyList::new(items)))
        }
        "index" => list_index(&l.lock().clone(), args),
        "count" => {
            let (item,): (Value,) = from_args(args)?;
            Ok(Value::from(l.lock().iter().filter(|x| **x == item).count()))
        }
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}

fn list_index(items: &[Value], args: &[Value]) -> Result<Value, Error> {
    let (item, start, end): (Value, Option<i64>, Option<i64>) = from_args(args)?;
    let (start, end) = py_range(items.len(), start, end);
    items[start..end]
        .iter()
        .position(|x| *x == item)
        .map(|i| Value::from(i + start))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("{} is not in list", python_str(&item)),
            )
        })
}

/// Python's slice bounds `[start:end]` clamped to `0..=len`.
fn py_range(len: usize, start: Option<i64>, end: Option<i64>) -> (usize, usize) {
    let fix = |i: i64| -> usize {
        let i = if i < 0 { i + len as i64 } else { i };
        i.clamp(0, len as i64) as usize
    };
    let s = start.map_or(0, fix);
    let e = end.map_or(len, fix);
    (s, e.max(s))
}

// ---------------------------------------------------------------- str

/// Python's `str.isspace()` for one character (wider than ASCII, and than
/// Rust's `char::is_whitespace`: `\x1c`–`\x1f` count).
pub fn is_py_space(c: char) -> bool {
    matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ' | '\u{85}' | '\u{a0}' | '\u{1680}'
        | '\u{2000}'..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}')
}

/// Python's `str.split(sep=None, maxsplit=-1)`.
pub fn py_split(s: &str, sep: Option<&str>, maxsplit: i64) -> Result<Vec<String>, Error> {
    let max = usize::try_from(maxsplit).unwrap_or(usize::MAX);
    match sep {
        Some("") => Err(Error::new(
            ErrorKind::InvalidOperation,
            "ValueError: empty separator",
        )),
        Some(sep) => Ok(if max == usize::MAX {
            s.split(sep).map(str::to_string).collect()
        } else {
            s.splitn(max.saturating_add(1), sep)
                .map(str::to_string)
                .collect()
        }),
        None => {
            let mut out = Vec::new();
            let mut rest = s.trim_start_matches(is_py_space);
            while !rest.is_empty() {
                if out.len() == max {
                    out.push(rest.to_string());
                    break;
                }
                let end = rest.find(is_py_space).unwrap_or(rest.len());
                out.push(rest[..end].to_string());
                rest = rest[end..].trim_start_matches(is_py_space);
            }
            Ok(out)
        }
    }
}

/// Python's `str.rsplit(sep=None, maxsplit=-1)`.
fn py_rsplit(s: &str, sep: Option<&str>, maxsplit: i64) -> Result<Vec<String>, Error> {
    let max = usize::try_from(maxsplit).unwrap_or(usize::MAX);
    if max == usize::MAX {
        return py_split(s, sep, -1);
    }
    let mut out: Vec<String> = match sep {
        Some("") => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "ValueError: empty separator",
            ))
        }
        Some(sep) => s
            .rsplitn(max.saturating_add(1), sep)
            .map(str::to_string)
            .collect(),
        None => {
            let mut out = Vec::new();
            let mut rest = s.trim_end_matches(is_py_space);
            while !rest.is_empty() {
                if out.len() == max {
                    out.push(rest.to_string());
                    break;
                }
                let start = rest.rfind(is_py_space).map_or(0, |i| {
                    i + rest[i..].chars().next().map_or(1, char::len_utf8)
                });
                out.push(rest[start..].to_string());
                rest = rest[..start].trim_end_matches(is_py_space);
            }
            out
        }
    };
    out.reverse();
    Ok(out)
}

fn strings(v: Vec<String>) -> Value {
    Value::from(v.into_iter().map(Value::from).collect::<Vec<_>>())
}

fn pad_width(state: &State, width: i64) -> Result<usize, Error> {
    let w = width.max(0) as usize;
    if w > MAX_GENERATED_CHARS {
        return Err(over_limit("width", w, MAX_GENERATED_CHARS));
    }
    charge(state, w / 64)?;
    Ok(w)
}

fn fill_char(fill: Option<String>) -> Result<char, Error> {
    let fill = fill.unwrap_or_else(|| " ".into());
    let mut chars = fill.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            "TypeError: The fill character must be exactly one character long",
        )),
    }
}

/// String methods where MiniJinja-contrib lacks the method or differs from
/// Python; `None` leaves the method to it.
fn str_method(
    state: &State,
    s: &str,
    method: &str,
    args: &[Value],
) -> Result<Option<Value>, Error> {
    let len = s.chars().count();
    Ok(Some(match method {
        "split" | "rsplit" => {
            let (sep, maxsplit, kwargs): (Option<Value>, Option<i64>, Kwargs) = from_args(args)?;
            let sep = match kwargs.get::<Option<Value>>("sep")? {
                Some(v) => Some(v),
                None => sep,
            };
            let maxsplit = kwargs
                .get::<Option<i64>>("maxsplit")?
                .or(maxsplit)
                .unwrap_or(-1);
            kwargs.assert_all_used()?;
            let sep = sep.filter(|v| !v.is_none()).map(|v| v.to_string());
            let parts = if method == "split" {
                py_split(s, sep.as_deref(), maxsplit)?
            } else {
                py_rsplit(s, sep.as_deref(), maxsplit)?
            };
            charge(state, parts.len())?;
            strings(parts)
        }
        "strip" | "lstrip" | "rstrip" => {
            let (chars,): (Option<Value>,) = from_args(args)?;
            let chars = chars.filter(|v| !v.is_none()).map(|v| v.to_string());
            let set = |c: char| match &chars {
                Some(cs) => cs.contains(c),
                None => is_py_space(c),
            };
            Value::from(match method {
                "strip" => s.trim_matches(set),
                "lstrip" => s.trim_start_matches(set),
                _ => s.trim_end_matches(set),
            })
        }
        "partition" | "rpartition" => {
            let (sep,): (String,) = from_args(args)?;
            if sep.is_empty() {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "ValueError: empty separator",
                ));
            }
            let found = if method == "partition" {
                s.find(&sep)
            } else {
                s.rfind(&sep)
            };
            let parts = match found {
                Some(i) => [&s[..i], sep.as_str(), &s[i + sep.len()..]],
                None if method == "partition" => [s, "", ""],
                None => ["", "", s],
            };
            PyTuple::value(parts.iter().map(|p| Value::from(*p)).collect())
        }
        "zfill" => {
            let (width,): (i64,) = from_args(args)?;
            let width = pad_width(state, width)?;
            if len >= width {
                Value::from(s)
            } else {
                let (sign, digits) = match s.chars().next() {
                    Some(c @ ('+' | '-')) => (c.to_string(), &s[1..]),
                    _ => (String::new(), s),
                };
                Value::from(format!("{sign}{}{digits}", "0".repeat(width - len)))
            }
        }
        "ljust" | "rjust" | "center" => {
            let (width, fill): (i64, Option<String>) = from_args(args)?;
            let width = pad_width(state, width)?;
            let fill = fill_char(fill)?;
            if len >= width {
                Value::from(s)
            } else {
                let marg = width - len;
                let left = match method {
                    "ljust" => 0,
                    "rjust" => marg,
                    // CPython's pad(): left = marg/2 + (marg & width & 1).
                    _ => marg / 2 + (marg & width & 1),
                };
                let f = |n: usize| fill.to_string().repeat(n);
                Value::from(format!("{}{s}{}", f(left), f(marg - left)))
            }
        }
        "removeprefix" => {
            let (p,): (String,) = from_args(args)?;
            Value::from(s.strip_prefix(p.as_str()).unwrap_or(s))
        }
        "removesuffix" => {
            let (p,): (String,) = from_args(args)?;
            Value::from(s.strip_suffix(p.as_str()).unwrap_or(s))
        }
        "swapcase" => {
            let () = from_args(args)?;
            Value::from(
                s.chars()
                    .flat_map(|c| {
                        if c.is_uppercase() {
                            c.to_lowercase().collect::<Vec<_>>()
                        } else {
                            c.to_uppercase().collect()
                        }
                    })
                    .collect::<String>(),
            )
        }
        "casefold" => {
            let () = from_args(args)?;
            Value::from(s.to_lowercase())
        }
        "isspace" => {
            let () = from_args(args)?;
            Value::from(!s.is_empty() && s.chars().all(is_py_space))
        }
        "isdecimal" | "isdigit" | "isnumeric" => {
            let () = from_args(args)?;
            Value::from(!s.is_empty() && s.chars().all(|c| c.is_numeric()))
        }
        "isidentifier" => {
            let () = from_args(args)?;
            let mut cs = s.chars();
            Value::from(
                cs.next().is_some_and(|c| c == '_' || c.is_alphabetic())
                    && cs.all(|c| c == '_' || c.is_alphanumeric()),
            )
        }
        "istitle" => {
            let () = from_args(args)?;
            let mut cased = false;
            let mut prev_cased = false;
            let mut ok = true;
            for c in s.chars() {
                if c.is_uppercase() {
                    ok &= !prev_cased;
                    prev_cased = true;
                    cased = true;
                } else if c.is_lowercase() {
                    ok &= prev_cased;
                    prev_cased = true;
                    cased = true;
                } else {
                    prev_cased = false;
                }
            }
            Value::from(ok && cased)
        }
        "index" | "rindex" => {
            let (sub,): (String,) = from_args(args)?;
            let found = if method == "index" {
                s.find(&sub)
            } else {
                s.rfind(&sub)
            };
            match found {
                Some(i) => Value::from(s[..i].chars().count()),
                None => {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        "ValueError: substring not found",
                    ))
                }
            }
        }
        "expandtabs" => {
            let (size,): (Option<i64>,) = from_args(args)?;
            let size = pad_width(state, size.unwrap_or(8))?;
            let mut out = String::new();
            let mut col = 0usize;
            for c in s.chars() {
                match c {
                    '\t' if size > 0 => {
                        let n = size - col % size;
                        charge(state, n / 64)?;
                        out.push_str(&" ".repeat(n));
                        col += n;
                    }
                    '\t' => {}
                    '\n' | '\r' => {
                        out.push(c);
                        col = 0;
                    }
                    c => {
                        out.push(c);
                        col += 1;
                    }
                }
            }
            Value::from(out)
        }
        _ => return Ok(None),
    }))
}
