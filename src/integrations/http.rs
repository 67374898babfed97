//! The generic HTTP integration: the escape hatch for in-house tools that
//! answer JSON. An `idp.yaml` entry with `type: http` says where to ask and
//! what to keep:
//!
//! ```yaml
//! integrations:
//!   deploys:
//!     type: http
//!     base_url: https://deploy.acme.internal
//!     url: /api/services/{{ metadata.annotations["acme.com/service-id"] }}/deploys?limit=5
//!     headers:
//!       X-Api-Key: { env: DEPLOY_KEY }     # from the environment, never shown
//!       Accept: application/json          # as written
//!     requires: [metadata.annotations.acme.com/service-id]
//!     extract:
//!       last_deploy: $.items[0].finished_at
//!       versions: $.items[*].version
//! ```
//!
//! - `url`: a MiniJinja template over the entity descriptor (`metadata`,
//!   `spec`, `kind`, …), joined to `base_url`. Every value it inserts is
//!   percent-encoded (`|safe` inserts a value as it is, e.g. a path).
//!   Undefined values are errors: an entity whose descriptor lacks a field
//!   the template uses is *absent* for this integration, with the reason.
//! - `headers`: values as written, or `{ env: VAR }` read from the
//!   environment (a missing variable makes the fetch unavailable, naming
//!   it). Environment values are secrets: sent to the configured host only.
//! - `requires`: fields the entity must have to be linked (dotted paths;
//!   annotation keys may hold dots: `metadata.annotations.acme.com/id`).
//! - `extract`: facts by name, each a JSONPath (RFC 9535) over the answer:
//!   one match gives the value, several an array, none null.
//!
//! Facts (`live.<name>.*`): exactly the `extract` names.
//! A bad template, JSONPath or option is a [`ConfigError`] naming its key.

use std::borrow::Cow;

use minijinja::value::Value as TemplateValue;
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde_json::Value;
use serde_json_path::JsonPath;

use super::config::{ConfigError, IntegrationConfig, Secret};
use super::{BoxFuture, EntityView, FactMap, FetchContext, FetchError, Fetched, Integration};

/// Options this integration reads from its entry.
const KEYS: [&str; 4] = ["url", "headers", "extract", "requires"];
/// The template's name in its environment.
const URL_TEMPLATE: &str = "url";

/// A header value: literal, or the value of an environment variable (read
/// when the configuration was resolved; `None` when it is not set).
#[derive(Debug, Clone)]
enum HeaderValue {
    Literal(String),
    Env(String, Option<Secret>),
}

/// One named extraction.
#[derive(Debug)]
struct Extract {
    name: String,
    path: JsonPath,
}

/// The generic HTTP integration of one `idp.yaml` entry.
pub struct HttpTool {
    name: String,
    host: String,
    template_source: String,
    templates: Environment<'static>,
    headers: Vec<(String, HeaderValue)>,
    requires: Vec<String>,
    extracts: Vec<Extract>,
}

impl std::fmt::Debug for HttpTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTool")
            .field("name", &self.name)
            .field("url", &self.template_source)
            .finish_non_exhaustive()
    }
}

impl HttpTool {
    /// Reads and checks the entry's options: `url` (required), `headers`,
    /// `requires`, `extract` (required, at least one).
    pub fn new(cfg: &IntegrationConfig) -> Result<Self, ConfigError> {
        let name = cfg.name.as_str();
        let at = |key: &str, message: String| ConfigError::at(name, key, message);
        if let Some(unknown) = cfg.options.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(at(
                unknown,
                format!(
                    "unknown option of an http integration (expected one of: {}, or base_url, token_env, ttl, timeout, concurrency, enabled)",
                    KEYS.join(", ")
                ),
            ));
        }

        let template_source = match cfg.options.get("url") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(_) => return Err(at("url", "must be a URL template (a string)".into())),
            None => {
                return Err(at(
                    "url",
                    "missing: an http integration needs a url template, e.g. /api/services/{{ metadata.name }}".into(),
                ))
            }
        };
        let templates = url_environment(&template_source)
            .map_err(|e| at("url", format!("invalid template: {}", describe(&e))))?;

        let headers = match cfg.options.get("headers") {
            None => Vec::new(),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(header, v)| {
                    let key = format!("headers.{header}");
                    if reqwest::header::HeaderName::from_bytes(header.as_bytes()).is_err() {
                        return Err(at(&key, "is not a valid header name".into()));
                    }
                    let value = match v {
                        Value::String(s) => HeaderValue::Literal(s.clone()),
                        Value::Number(n) => HeaderValue::Literal(n.to_string()),
                        Value::Object(o)
                            if o.len() == 1 && o.get("env").is_some_and(Value::is_string) =>
                        {
                            let var = o["env"].as_str().unwrap_or_default().to_string();
                            // Resolving the config registered the value for
                            // redaction, so it is redacted even when the data
                            // comes from the cache and no request is made.
                            let value = cfg.env.get(&var).cloned();
                            HeaderValue::Env(var, value)
                        }
                        _ => return Err(at(
                            &key,
                            "must be a value, or { env: VARIABLE } to read it from the environment"
                                .into(),
                        )),
                    };
                    Ok((header.clone(), value))
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => {
                return Err(at(
                    "headers",
                    "must be a map of header name to value".into(),
                ))
            }
        };

        let requires = match cfg.options.get("requires") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(list)) => list
                .iter()
                .map(|v| {
                    v.as_str()
                        .filter(|s| !s.trim().is_empty())
                        .map(|s| s.trim().to_string())
                        .ok_or_else(|| {
                            at(
                                "requires",
                                "must list field paths such as metadata.annotations.acme.com/id"
                                    .into(),
                            )
                        })
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => {
                return Err(at(
                    "requires",
                    "must list field paths such as metadata.annotations.acme.com/id".into(),
                ))
            }
        };

        let extracts = match cfg.options.get("extract") {
            Some(Value::Object(map)) if !map.is_empty() => map
                .iter()
                .map(|(fact, v)| {
                    let key = format!("extract.{fact}");
                    let text = v.as_str().ok_or_else(|| {
                        at(&key, "must be a JSONPath such as $.items[0].id".into())
                    })?;
                    let path = JsonPath::parse(text)
                        .map_err(|e| at(&key, format!("invalid JSONPath '{text}': {e}")))?;
                    Ok(Extract {
                        name: fact.clone(),
                        path,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => {
                return Err(at(
                    "extract",
                    "must map fact names to JSONPaths, e.g. { version: $.version }".into(),
                ))
            }
            None => {
                return Err(at(
                    "extract",
                    "missing: name the facts to keep, e.g. extract: { version: $.version }".into(),
                ))
            }
        };

        Ok(HttpTool {
            name: cfg.name.clone(),
            host: cfg.host(),
            template_source,
            templates,
            headers,
            requires,
            extracts,
        })
    }

    /// The URL (path and query, or absolute) for an entity.
    fn render_url(&self, entity: &EntityView) -> Result<String, minijinja::Error> {
        let template = self.templates.get_template(URL_TEMPLATE)?;
        template.render(TemplateValue::from(minijinja::value::Serde(&entity.doc)))
    }

    /// Why a failed render means the entity is not linked, when it does.
    fn missing_value(&self, e: &minijinja::Error) -> Option<String> {
        (e.kind() == ErrorKind::UndefinedError).then(|| {
            let expr = e
                .range()
                .and_then(|r| expression_around(&self.template_source, r))
                .map(|s| format!("`{s}`"))
                .unwrap_or_else(|| "a value".into());
            format!("the url template uses {expr}, which this entity does not have")
        })
    }
}

/// The environment holding the URL template: strict about undefined
/// values, percent-encoding every inserted value.
fn url_environment(source: &str) -> Result<Environment<'static>, minijinja::Error> {
    // A URL is one line: a loop in it is a mistake or an attack.
    let mut env = crate::jinja::environment(100_000);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_debug(true); // error spans name the failing expression
    env.set_formatter(|out, _state, value| {
        if value.is_undefined() || value.is_none() {
            return Err(minijinja::Error::new(
                ErrorKind::UndefinedError,
                "the value is missing",
            ));
        }
        let text = value.to_string();
        let encoded = if value.is_safe() {
            Cow::Borrowed(text.as_str())
        } else {
            Cow::Owned(percent_encode(&text))
        };
        out.write_str(&encoded).map_err(minijinja::Error::from)
    });
    env.add_template_owned(URL_TEMPLATE, source.to_string())?;
    Ok(env)
}

/// The whole `{{ … }}` expression around an error span (MiniJinja points
/// at the failing part only, e.g. `.annotations["x"]`).
fn expression_around(source: &str, span: std::ops::Range<usize>) -> Option<&str> {
    let start = source
        .get(..span.start)?
        .rfind("{{")
        .map_or(span.start, |i| i + 2);
    let end = source
        .get(span.end..)?
        .find("}}")
        .map_or(span.end, |i| span.end + i);
    source.get(start..end).map(str::trim)
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so a
/// value is safe in a path segment and in a query.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A template error in one line (the debug dump is for developers).
fn describe(e: &minijinja::Error) -> String {
    let mut s = e.kind().to_string();
    if let Some(detail) = e.detail() {
        s.push_str(": ");
        s.push_str(detail);
    }
    if let Some(line) = e.line() {
        s.push_str(&format!(" (line {line})"));
    }
    s
}

/// Whether `doc` has a value at a dotted path; keys may themselves hold
/// dots (`metadata.annotations.acme.com/service-id`), so at each level the
/// longest key that fits is taken.
fn has_path(doc: &Value, path: &str) -> bool {
    let Value::Object(map) = doc else {
        return false;
    };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
    keys.into_iter().any(|k| {
        if path == k.as_str() {
            return !map[k].is_null() && map[k].as_str() != Some("");
        }
        path.strip_prefix(k.as_str())
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|rest| has_path(&map[k], rest))
    })
}

/// The facts: each extraction's matches (one → the value, several → an
/// array, none → null).
fn extract_facts(extracts: &[Extract], body: &Value) -> FactMap {
    extracts
        .iter()
        .map(|x| {
            let mut found = x.path.query(body).all();
            let value = match found.len() {
                0 => Value::Null,
                1 => found.remove(0).clone(),
                _ => Value::Array(found.into_iter().cloned().collect()),
            };
            (x.name.clone(), value)
        })
        .collect()
}

impl Integration for HttpTool {
    fn name(&self) -> &str {
        &self.name
    }

    fn absent_reason(&self, entity: &EntityView) -> Option<String> {
        if let Some(missing) = self.requires.iter().find(|p| !has_path(&entity.doc, p)) {
            return Some(format!("no {missing}"));
        }
        self.render_url(entity)
            .err()
            .and_then(|e| self.missing_value(&e))
    }

    fn fetch<'a>(
        &'a self,
        cx: &'a FetchContext<'a>,
        entity: &'a EntityView,
    ) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(async move {
            let url = self.render_url(entity).map_err(|e| FetchError::Url {
                url: self.template_source.clone(),
                message: format!("the url template failed: {}", describe(&e)),
            })?;
            let mut req = cx.request(&url)?;
            for (header, value) in &self.headers {
                req = match value {
                    HeaderValue::Literal(v) => req.header(header, v),
                    HeaderValue::Env(var, value) => {
                        let secret = value
                            .clone()
                            .ok_or_else(|| FetchError::MissingToken { var: var.clone() })?;
                        req.secret_header(header, secret, &self.host)
                    }
                };
            }
            let resp = cx.get(req).await?;
            Ok(extract_facts(&self.extracts, &resp.body).into())
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::integrations::config::{IntegrationEntry, LiveConfig, LiveSettings};

    fn config(options: Value) -> Result<IntegrationConfig, ConfigError> {
        let mut entry: IntegrationEntry = serde_json::from_value(options).expect("entry");
        entry
            .base_url
            .get_or_insert_with(|| "http://127.0.0.1:9/".parse().unwrap());
        let entries = [("deploys".to_string(), entry)].into_iter().collect();
        let live = LiveConfig::resolve(&entries, &LiveSettings::default(), &|_| None)?;
        Ok(live.integrations.into_iter().next().unwrap())
    }

    fn tool(options: Value) -> Result<HttpTool, ConfigError> {
        HttpTool::new(&config(options)?)
    }

    fn entity(doc: Value) -> EntityView {
        let annotations = doc
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        EntityView {
            key: "component:default/checkout".into(),
            kind: "Component".into(),
            namespace: "default".into(),
            name: "checkout".into(),
            annotations,
            doc,
        }
    }

    fn checkout() -> EntityView {
        entity(
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "checkout", "annotations": {"acme.com/service-id": "svc 42/eu"}},
            "spec": {"type": "service", "owner": "team-a"}}),
        )
    }

    #[test]
    fn url_template_encodes_values_and_is_strict() {
        let t = tool(json!({"type": "http",
            "url": "/api/services/{{ metadata.annotations[\"acme.com/service-id\"] }}?owner={{ spec.owner }}",
            "extract": {"v": "$.version"}}))
        .unwrap();
        assert_eq!(
            t.render_url(&checkout()).unwrap(),
            "/api/services/svc%2042%2Feu?owner=team-a"
        );
        assert_eq!(t.absent_reason(&checkout()), None);
        let bare =
            entity(json!({"kind": "Component", "metadata": {"name": "x"}, "spec": {"owner": "a"}}));
        let reason = t.absent_reason(&bare).unwrap();
        assert!(
            reason.contains("metadata.annotations[\"acme.com/service-id\"]"),
            "{reason}"
        );
        let safe = tool(json!({"type": "http", "url": "/{{ spec.owner|safe }}/{{ 'a b'|safe }}", "extract": {"v": "$"}})).unwrap();
        assert_eq!(safe.render_url(&checkout()).unwrap(), "/team-a/a b");
    }

    #[test]
    fn requires_accepts_dotted_annotation_keys() {
        let t = tool(json!({"type": "http", "url": "/x", "extract": {"v": "$"},
            "requires": ["metadata.annotations.acme.com/service-id", "spec.owner"]}))
        .unwrap();
        assert_eq!(t.absent_reason(&checkout()), None);
        let e = entity(
            json!({"metadata": {"name": "x", "annotations": {"acme.com/other": "1"}}, "spec": {"owner": "a"}}),
        );
        assert_eq!(
            t.absent_reason(&e).unwrap(),
            "no metadata.annotations.acme.com/service-id"
        );
    }

    #[test]
    fn extraction_one_several_none() {
        let t = tool(json!({"type": "http", "url": "/x", "extract": {
            "last": "$.items[0].finished_at", "versions": "$.items[*].version", "missing": "$.nope",
            "filtered": "$.items[?@.ok == true].version"}}))
        .unwrap();
        let body = json!({"items": [
            {"version": "1.2.0", "finished_at": "2024-05-02T10:00:00Z", "ok": true},
            {"version": "1.1.0", "finished_at": "2024-05-01T10:00:00Z", "ok": false}]});
        let f = extract_facts(&t.extracts, &body);
        assert_eq!(
            Value::Object(f),
            json!({"last": "2024-05-02T10:00:00Z", "versions": ["1.2.0", "1.1.0"], "missing": null, "filtered": "1.2.0"})
        );
    }

    #[test]
    fn bad_options_name_their_key() {
        let err = |options: Value| tool(options).unwrap_err().to_string();
        let e = err(json!({"type": "http", "url": "/x", "extract": {"v": "$.items["}}));
        assert!(
            e.starts_with("idp.yaml: integrations.deploys.extract.v: invalid JSONPath '$.items['"),
            "{e}"
        );
        let e = err(json!({"type": "http", "url": "/{{ metadata.name ", "extract": {"v": "$"}}));
        assert!(
            e.starts_with("idp.yaml: integrations.deploys.url: invalid template: syntax error"),
            "{e}"
        );
        let e = err(json!({"type": "http", "extract": {"v": "$"}}));
        assert!(e.contains("integrations.deploys.url: missing"), "{e}");
        let e = err(json!({"type": "http", "url": "/x"}));
        assert!(e.contains("integrations.deploys.extract: missing"), "{e}");
        let e = err(json!({"type": "http", "url": "/x", "extract": {"v": "$"}, "header": {}}));
        assert!(
            e.contains("integrations.deploys.header: unknown option"),
            "{e}"
        );
        let e = err(
            json!({"type": "http", "url": "/x", "extract": {"v": "$"}, "headers": {"X-Key": {"from": "K"}}}),
        );
        assert!(
            e.contains("integrations.deploys.headers.X-Key: must be a value"),
            "{e}"
        );
        // Several headers from the environment are fine: each is a secret
        // header scoped to the configured host.
        assert!(tool(
            json!({"type": "http", "url": "/x", "extract": {"v": "$"}, "headers": {"A": {"env": "A"}, "B": {"env": "B"}}})
        )
        .is_ok());
    }

    #[test]
    fn env_headers_take_the_values_the_caller_resolved() {
        let entry: IntegrationEntry = serde_json::from_value(json!({
            "type": "http", "base_url": "http://127.0.0.1:9/", "url": "/x",
            "extract": {"v": "$"},
            "headers": {"A": {"env": "KEY_A"}, "B": {"env": "KEY_B"}, "C": "plain"}
        }))
        .expect("entry");
        let entries = [("deploys".to_string(), entry)].into_iter().collect();
        let env = |var: &str| (var == "KEY_A").then(|| " key-a-value ".to_string());
        let live = LiveConfig::resolve(&entries, &LiveSettings::default(), &env).unwrap();
        let cfg = &live.integrations[0];
        // Only set variables are read; values are trimmed (and so registered).
        assert_eq!(cfg.env.len(), 1);
        assert_eq!(cfg.env["KEY_A"].expose(), "key-a-value");
        let tool = HttpTool::new(cfg).unwrap();
        let header = |name: &str| tool.headers.iter().find(|(h, _)| h == name).map(|(_, v)| v);
        assert!(
            matches!(header("A"), Some(HeaderValue::Env(v, Some(s))) if v == "KEY_A" && s.expose() == "key-a-value")
        );
        assert!(matches!(header("B"), Some(HeaderValue::Env(v, None)) if v == "KEY_B"));
        assert!(matches!(header("C"), Some(HeaderValue::Literal(v)) if v == "plain"));
    }

    #[test]
    fn percent_encoding_keeps_unreserved_only() {
        assert_eq!(percent_encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(percent_encode("a/b c?d&é"), "a%2Fb%20c%3Fd%26%C3%A9");
    }
}
