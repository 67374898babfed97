//! `$ref` bundling for the `$openapi` and `$asyncapi` placeholders, as
//! Backstage's `@backstage/plugin-catalog-backend-module-openapi` does it
//! (json-schema-ref-parser's `bundle`, then YAML text): the API description
//! is read, every `$ref` to another file is replaced by that file's content
//! (or the part its `#/pointer` names) the first time it is met, later
//! `$ref`s to the same content become `#/…` references to where it was put,
//! and `$ref`s within the description itself stay as they are.
//!
//! Unlike Backstage, which reads through its URL readers, idp reads only
//! files of the catalog: a `$ref` leaving the catalog (`..` or a symlink) is
//! refused with its file:line:column, and a `$ref` to a URL is left in place
//! with a warning (never fetched). Every file read is charged to the
//! document's substitution budget; what inlining adds is bounded too, since
//! many `$ref`s to overlapping parts of one file could otherwise multiply it.

use std::collections::HashMap;

use serde_json::Value;

use super::locate::Locator;
use super::parse::{parse_str, strip_bom, MAX_FILE_BYTES};
use super::paths::resolve_relative;
use super::snapshot::Snapshot;
use super::substitute::{read_target, ReadError};

/// Most bytes (string text, plus one per node) inlining may add to one
/// description.
pub const MAX_BUNDLED_BYTES: u64 = MAX_FILE_BYTES;

/// Deepest the bundle is walked, counting each `$ref` followed as a level:
/// bounds the recursion when `$ref`s lead to `$ref`s.
pub const MAX_BUNDLE_DEPTH: usize = 256;

/// A bundled description.
#[derive(Debug)]
pub struct Bundled {
    /// The description as YAML text, as Backstage stores it in the entity.
    pub text: String,
    /// `$ref`s left in place (URLs), one sentence each.
    pub warnings: Vec<String>,
}

/// Bundles the description `bytes` read from catalog file `path`; `budget`
/// is what the document's substitutions may still read. The error says
/// which `$ref` failed and where.
pub fn bundle(
    snapshot: &dyn Snapshot,
    path: &str,
    bytes: &[u8],
    budget: &mut u64,
) -> Result<Bundled, String> {
    let source = Source::parse(path, bytes)?;
    let mut value = source.value.clone();
    let mut bundler = Bundler {
        snapshot,
        budget,
        root: path.to_string(),
        files: HashMap::from([(path.to_string(), source)]),
        placed: HashMap::new(),
        left: MAX_BUNDLED_BYTES,
        warnings: Vec::new(),
    };
    bundler.walk(&mut value, path, &mut Vec::new(), &mut Vec::new(), 0)?;
    let text = crate::yaml::to_string(&value).map_err(|e| e.to_string())?;
    Ok(Bundled {
        text,
        warnings: bundler.warnings,
    })
}

/// One file of the description, parsed once: its value, and where its keys are.
struct Source {
    locator: Locator,
    value: Value,
}

impl Source {
    fn parse(path: &str, bytes: &[u8]) -> Result<Source, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| format!("{path} is not UTF-8 text"))?;
        let mut docs = parse_str(strip_bom(text)).map_err(|e| {
            let (line, column) = e.position();
            format!("{path}:{line}:{column} is not valid YAML or JSON: {e}")
        })?;
        if docs.len() > 1 {
            return Err(format!(
                "{path} holds {} YAML documents; an API description is one",
                docs.len()
            ));
        }
        let locator = Locator::take(&mut docs);
        let value = docs.into_iter().next().map_or(Value::Null, |d| d.value);
        Ok(Source { locator, value })
    }
}

/// What to do with one `$ref`.
enum Follow {
    /// Leave it (a reference within the description, or a URL).
    Keep,
    /// Point it at this place of the bundle (`/a/b`, JSON pointer).
    Point(String),
    /// Put this content in its place; its own `$ref`s are relative to `file`,
    /// and it sits at `pointer` there.
    Inline {
        file: String,
        pointer: Vec<String>,
        content: Value,
    },
}

struct Bundler<'a> {
    snapshot: &'a dyn Snapshot,
    budget: &'a mut u64,
    /// The description's own file: its `#/…` references stay as they are.
    root: String,
    /// Files read so far, by catalog path.
    files: HashMap<String, Source>,
    /// Where each `(file, pointer)` was put in the bundle.
    placed: HashMap<(String, String), String>,
    /// What inlining may still add.
    left: u64,
    warnings: Vec<String>,
}

impl Bundler<'_> {
    /// Bundles `node`, which came from `file` at `src` and sits at `out`.
    fn walk(
        &mut self,
        node: &mut Value,
        file: &str,
        out: &mut Vec<String>,
        src: &mut Vec<String>,
        depth: usize,
    ) -> Result<(), String> {
        if depth > MAX_BUNDLE_DEPTH {
            return Err(format!(
                "the bundled description nests deeper than {MAX_BUNDLE_DEPTH} levels, $refs followed included; refused"
            ));
        }
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let reference = reference.to_string();
            match self.follow(&reference, file, out, src)? {
                Follow::Keep => {}
                Follow::Point(pointer) => {
                    node["$ref"] = Value::String(format!("#{pointer}"));
                }
                Follow::Inline {
                    file: from,
                    mut pointer,
                    mut content,
                } => {
                    // Keys beside the `$ref` win over the content's.
                    if let (Value::Object(siblings), Value::Object(into)) = (&*node, &mut content) {
                        for (k, v) in siblings.iter().filter(|(k, _)| *k != "$ref") {
                            into.insert(k.clone(), v.clone());
                        }
                    }
                    *node = content;
                    return self.walk(node, &from, out, &mut pointer, depth + 1);
                }
            }
        }
        match node {
            Value::Object(map) => {
                for (key, child) in map.iter_mut().filter(|(k, _)| *k != "$ref") {
                    out.push(key.clone());
                    src.push(key.clone());
                    let result = self.walk(child, file, out, src, depth + 1);
                    out.pop();
                    src.pop();
                    result?;
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    out.push(i.to_string());
                    src.push(i.to_string());
                    let result = self.walk(child, file, out, src, depth + 1);
                    out.pop();
                    src.pop();
                    result?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Decides what the `$ref` `reference` met in `file` at `src` becomes.
    fn follow(
        &mut self,
        reference: &str,
        file: &str,
        out: &[String],
        src: &[String],
    ) -> Result<Follow, String> {
        let (target_file, fragment) = match reference.split_once('#') {
            // Within the description: Backstage keeps it.
            Some(("", _)) if file == self.root => return Ok(Follow::Keep),
            Some(("", fragment)) => (file.to_string(), fragment),
            _ if has_scheme(reference) => {
                let at = self.position(file, src);
                self.warnings.push(format!(
                    "$ref {reference} at {at} is not fetched (idp reads only the catalog repository); it is left as it is"
                ));
                return Ok(Follow::Keep);
            }
            split => {
                let (path, fragment) = split.unwrap_or((reference, ""));
                let resolved = resolve_relative(file, path).ok_or_else(|| {
                    format!(
                        "$ref {reference} at {} points outside the catalog; refused",
                        self.position(file, src)
                    )
                })?;
                (resolved, fragment)
            }
        };
        if !fragment.is_empty() && !fragment.starts_with('/') {
            return Err(format!(
                "$ref {reference} at {}: only JSON pointers (#/…) are supported after '#'",
                self.position(file, src)
            ));
        }
        let pointer = decode_pointer(fragment);
        if target_file == self.root {
            // The description is the bundle: same place.
            return Ok(Follow::Point(encode_pointer(&pointer)));
        }
        let key = (target_file.clone(), encode_pointer(&pointer));
        if let Some(at) = self.placed.get(&key) {
            return Ok(Follow::Point(at.clone()));
        }
        self.load(&target_file, reference, file, src)?;
        let content = lookup(&self.files[&target_file].value, &pointer)
            .ok_or_else(|| {
                format!(
                    "$ref {reference} at {}: {target_file} has no {fragment}",
                    self.position(file, src)
                )
            })?
            .clone();
        let weight = weight(&content, self.left);
        if weight > self.left {
            return Err(format!(
                "$ref {reference} at {}: the bundled description would grow past {MAX_BUNDLED_BYTES} bytes; refused",
                self.position(file, src)
            ));
        }
        self.left -= weight;
        self.placed.insert(key, encode_pointer(out));
        Ok(Follow::Inline {
            file: target_file,
            pointer,
            content,
        })
    }

    /// Reads and parses `path` once, for the `$ref` `reference` in `from`.
    fn load(
        &mut self,
        path: &str,
        reference: &str,
        from: &str,
        src: &[String],
    ) -> Result<(), String> {
        if self.files.contains_key(path) {
            return Ok(());
        }
        let at = self.position(from, src);
        let bytes = read_target(self.snapshot, path, self.budget).map_err(|e| match e {
            ReadError::NotFound => {
                format!("$ref {reference} at {at} names a file that is not in the catalog (looked for {path})")
            }
            // Refused (outside the catalog via a symlink): say why, never what.
            ReadError::Refused(e) => format!("$ref {reference} at {at} is not read: {e}"),
            ReadError::TooLarge => {
                format!("$ref {reference} at {at}: {path} is larger than {MAX_FILE_BYTES} bytes")
            }
            ReadError::OverBudget => format!(
                "$ref {reference} at {at}: {path} is not read, the substitutions of this document would read more than {MAX_FILE_BYTES} bytes in total; refused"
            ),
            ReadError::Io(e) => format!("$ref {reference} at {at}: cannot read {path}: {e}"),
        })?;
        let source = Source::parse(path, &bytes)?;
        self.files.insert(path.to_string(), source);
        Ok(())
    }

    /// `file:line:column` of the `$ref` key at `src` in `file` (or just
    /// `file` when it cannot be found).
    fn position(&self, file: &str, src: &[String]) -> String {
        let Some(source) = self.files.get(file) else {
            return file.to_string();
        };
        let mut path = String::new();
        for segment in src.iter().map(String::as_str).chain(["$ref"]) {
            if !path.is_empty() {
                path.push('.');
            }
            if segment.contains(['.', '[', ']']) {
                path.push('[');
                path.push_str(segment);
                path.push(']');
            } else {
                path.push_str(segment);
            }
        }
        match source.locator.key(0, &path) {
            Some((line, column)) => format!("{file}:{line}:{column}"),
            None => file.to_string(),
        }
    }
}

/// `https://…`, `file://…`: a reference Backstage reads through a URL reader.
fn has_scheme(reference: &str) -> bool {
    reference.split_once("://").is_some_and(|(scheme, _)| {
        scheme.len() >= 2
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// `/paths/~1pets/get` → `["paths", "/pets", "get"]` (percent-escapes decoded).
fn decode_pointer(fragment: &str) -> Vec<String> {
    fragment
        .split('/')
        .skip(1)
        .map(|s| percent_decode(s).replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn encode_pointer(segments: &[String]) -> String {
    segments
        .iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn lookup<'v>(value: &'v Value, pointer: &[String]) -> Option<&'v Value> {
    pointer.iter().try_fold(value, |v, segment| match v {
        Value::Object(map) => map.get(segment),
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// String bytes plus one per node of `value`, counted up to just past `limit`.
fn weight(value: &Value, limit: u64) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        total += 1;
        match v {
            Value::String(s) => total += s.len() as u64,
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => {
                for (k, child) in map {
                    total += k.len() as u64;
                    stack.push(child);
                }
            }
            _ => {}
        }
        if total > limit {
            break;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_round_trip() {
        let p = decode_pointer("/paths/~1pets~1{id}/get/x%20y");
        assert_eq!(p, ["paths", "/pets/{id}", "get", "x y"]);
        assert_eq!(encode_pointer(&p[..2]), "/paths/~1pets~1{id}");
        assert!(decode_pointer("").is_empty());
    }

    #[test]
    fn schemes() {
        assert!(has_scheme("https://x.test/a.yaml"));
        assert!(!has_scheme("./a.yaml"));
        assert!(!has_scheme("a.yaml#/x://y"));
    }
}
