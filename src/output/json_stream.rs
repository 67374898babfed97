//! `list -o json` written straight from the index: each entity's
//! descriptor is the compact JSON text the index holds, re-indented as it
//! is copied out, so no `serde_json::Value` tree is built per entity. The
//! bytes are those `serde_json::to_writer_pretty` writes for
//! [`super::entities::entity_json`]: the index text is serde_json's own
//! compact output (same string escapes, numbers printed shortest
//! round-trip), and re-indenting it is what pretty printing the parsed
//! value does. An entity whose document might itself have a top-level
//! `ref`, `relations` or `source` key (where the merge would replace a
//! value in place) goes through `entity_json`.

use std::io::{self, Write};

use idp::catalog::Entity;

use super::entities::entity_json;

/// Writes `entities` as `write_data(Data::Json, …)` writes the list of
/// their [`entity_json`] values, newline included.
pub fn write_entities(out: &mut dyn Write, entities: &[&Entity]) -> io::Result<()> {
    if entities.is_empty() {
        return out.write_all(b"[]\n");
    }
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    buf.extend_from_slice(b"[");
    for (i, e) in entities.iter().enumerate() {
        buf.extend_from_slice(if i == 0 { b"\n  " } else { b",\n  " });
        entity(&mut buf, e)?;
        if buf.len() >= 60 * 1024 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(b"\n]\n");
    out.write_all(&buf)
}

/// One entity at array level 1 (its members indented by 4).
fn entity(buf: &mut Vec<u8>, e: &Entity) -> io::Result<()> {
    let text = e.json_text();
    let merges = ["ref", "relations", "source"]
        .iter()
        .any(|k| contains_key(text, k));
    let inner = match text {
        [b'{', inner @ .., b'}'] if !merges => inner,
        _ => {
            let compact = serde_json::to_vec(&entity_json(e)).map_err(io::Error::from)?;
            reindent(buf, &compact, 1);
            return Ok(());
        }
    };
    buf.extend_from_slice(b"{\n    \"ref\": ");
    serde_json::to_writer(&mut *buf, &e.entity_ref().to_string()).map_err(io::Error::from)?;
    if !inner.is_empty() {
        buf.extend_from_slice(b",\n    ");
        // The members, without the braces: keys at level 2.
        reindent(buf, inner, 2);
    }
    buf.extend_from_slice(b",\n    \"relations\": ");
    let relations = serde_json::to_vec(&e.relations).map_err(io::Error::from)?;
    reindent(buf, &relations, 2);
    buf.extend_from_slice(b",\n    \"source\": ");
    let source = serde_json::json!({
        "file": e.source.file,
        "line": e.source.line,
        "document": e.source.document,
    });
    let source = serde_json::to_vec(&source).map_err(io::Error::from)?;
    reindent(buf, &source, 2);
    buf.extend_from_slice(b"\n  }");
    Ok(())
}

/// Whether `"key"` occurs in the text at all (a cheap over-approximation
/// of "is a top-level key").
fn contains_key(text: &[u8], key: &str) -> bool {
    let quoted = format!("\"{key}\"");
    memchr::memmem::find(text, quoted.as_bytes()).is_some()
}

fn newline(buf: &mut Vec<u8>, level: usize) {
    buf.push(b'\n');
    buf.resize(buf.len() + 2 * level, b' ');
}

/// Copies compact JSON `text` (one value) pretty-printed as serde_json's
/// `PrettyFormatter` does, the value starting at nesting `level`.
fn reindent(buf: &mut Vec<u8>, text: &[u8], level: usize) {
    let mut level = level;
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if in_string {
            buf.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                buf.push(b);
            }
            b'{' | b'[' => {
                let close = if b == b'{' { b'}' } else { b']' };
                if text.get(i + 1) == Some(&close) {
                    // Empty: `{}` / `[]` on one line.
                    buf.push(b);
                    buf.push(close);
                    i += 2;
                    continue;
                }
                buf.push(b);
                level += 1;
                newline(buf, level);
            }
            b'}' | b']' => {
                level = level.saturating_sub(1);
                newline(buf, level);
                buf.push(b);
            }
            b',' => {
                buf.push(b);
                newline(buf, level);
            }
            b':' => buf.extend_from_slice(b": "),
            _ => buf.push(b),
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pretty_like_serde(compact: &str) -> String {
        let v: serde_json::Value = serde_json::from_str(compact).unwrap();
        serde_json::to_string_pretty(&v).unwrap()
    }

    #[test]
    fn reindent_matches_serde_pretty() {
        for text in [
            r#"{"a":1,"b":[1,2,{"c":"x,y:{z}"}],"d":{},"e":[],"f":"q\"uo\\te","g":null,"h":-1.5e-7}"#,
            r#"[]"#,
            r#"[{"a":[[],[{}]]}]"#,
            r#""just a string""#,
        ] {
            let mut buf = Vec::new();
            reindent(&mut buf, text.as_bytes(), 0);
            assert_eq!(
                String::from_utf8(buf).unwrap(),
                pretty_like_serde(text),
                "{text}"
            );
        }
    }
}
