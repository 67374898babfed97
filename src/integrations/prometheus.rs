//! Prometheus: instant-query results and firing alerts for entities
//! annotated the way the Backstage Prometheus plugin (RoadieHQ) reads them:
//!
//! - `prometheus.io/rule`: comma-separated PromQL expressions or recording
//!   rule names, each optionally followed by `|label` (the plugin's grouping
//!   label), e.g. `job:http_errors:ratio,sum by (instance) (up)|instance`.
//!   As in the plugin, `,` and `|` cannot appear inside an expression (use a
//!   recording rule for those).
//! - `prometheus.io/alert`: comma-separated alert names, or `all`.
//!
//! Facts (`live.<name>.*`, every key always present):
//! - `rules`: one object per rule, in annotation order: `query`, `label`
//!   (null without `|label`), `result_type` (`vector`, `scalar`, `matrix`,
//!   `string`) and `result`: for a vector `[{metric: {..labels}, value}]`,
//!   for a scalar the number, for a matrix `[{metric, values: [[t, v], ..]}]`,
//!   for a string the string. Values are JSON numbers; the non-finite ones,
//!   which JSON cannot hold, stay Prometheus's strings (`NaN`, `+Inf`,
//!   `-Inf`). Null without a rule annotation.
//! - `alerts`: the firing alerts whose `alertname` is listed (all firing
//!   alerts for `all`): `[{name, state, active_at, value, labels,
//!   annotations}]`; pending alerts are not firing and are left out. Null
//!   without an alert annotation.
//! - `firing_count`: the number of those alerts (null without an alert
//!   annotation).
//!
//! Native histograms (Prometheus 2.40+) come as `histogram: [t, {count,
//! sum, buckets}]` instead of `value` in a vector and `histograms` instead
//! of `values` in a matrix; idp reports their `count` and `sum`
//! (`{metric, histogram: {count, sum}}`, `{metric, histograms: [[t, {count,
//! sum}], ..]}`).
//!
//! Nothing fails alone beyond its own part: a failed query gives its rule
//! a null `result` and an `error` naming the query with the API's own
//! `errorType: error` text (e.g. `bad_data: 1:5: parse error: …`); a series
//! of an unreadable shape is left out and the rule's `error` says which;
//! the alerts are fetched whatever the rules do (`unavailable_facts` says
//! why when they fail). Each rule object always has `error` (null when
//! all went well). Auth is optional: a Bearer token from `PROMETHEUS_TOKEN` (or
//! `token_env:`) when set. This module knows the HTTP API v1 shapes only;
//! transport, retries and the cache are the client's.

use chrono::{DateTime, SecondsFormat};
use serde_json::{json, Map, Value};

use super::config::{ConfigError, IntegrationConfig};
use super::{BoxFuture, EntityView, FetchContext, FetchError, Fetched, Integration};

/// The annotation listing the queries of an entity.
pub const RULE: &str = "prometheus.io/rule";
/// The annotation listing the alerts of an entity.
pub const ALERT: &str = "prometheus.io/alert";

/// The Prometheus integration.
#[derive(Debug, Clone)]
pub struct Prometheus {
    name: String,
}

impl Prometheus {
    /// The integration of an `idp.yaml` entry (it has no options of its own).
    pub fn new(cfg: &IntegrationConfig) -> Result<Self, ConfigError> {
        Ok(Prometheus {
            name: cfg.name.clone(),
        })
    }
}

/// One entry of `prometheus.io/rule`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    /// The PromQL expression (or recording rule name).
    pub query: String,
    /// The grouping label after `|`, if any.
    pub label: Option<String>,
}

/// Which alerts `prometheus.io/alert` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertFilter {
    /// `all`: every firing alert.
    All,
    /// These alert names.
    Names(Vec<String>),
}

impl AlertFilter {
    fn matches(&self, alertname: &str) -> bool {
        match self {
            AlertFilter::All => true,
            AlertFilter::Names(names) => names.iter().any(|n| n == alertname),
        }
    }
}

/// Parses `prometheus.io/rule`: comma-separated `query[|label]`; blank
/// entries are skipped.
pub fn parse_rules(annotation: &str) -> Vec<RuleSpec> {
    annotation
        .split(',')
        .filter_map(|entry| {
            let (query, label) = match entry.split_once('|') {
                Some((q, l)) => (q.trim(), Some(l.trim()).filter(|l| !l.is_empty())),
                None => (entry.trim(), None),
            };
            (!query.is_empty()).then(|| RuleSpec {
                query: query.to_string(),
                label: label.map(str::to_string),
            })
        })
        .collect()
}

/// Parses `prometheus.io/alert`: `all`, or comma-separated alert names.
/// `None` when it names nothing.
pub fn parse_alerts(annotation: &str) -> Option<AlertFilter> {
    if annotation.trim() == "all" {
        return Some(AlertFilter::All);
    }
    let names: Vec<String> = annotation
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    (!names.is_empty()).then_some(AlertFilter::Names(names))
}

/// What an entity asks of Prometheus.
struct Wanted {
    rules: Vec<RuleSpec>,
    alerts: Option<AlertFilter>,
}

fn wanted(entity: &EntityView) -> Wanted {
    Wanted {
        rules: entity.annotation(RULE).map(parse_rules).unwrap_or_default(),
        alerts: entity.annotation(ALERT).and_then(parse_alerts),
    }
}

impl Integration for Prometheus {
    fn name(&self) -> &str {
        &self.name
    }

    fn absent_reason(&self, entity: &EntityView) -> Option<String> {
        let w = wanted(entity);
        (w.rules.is_empty() && w.alerts.is_none())
            .then(|| format!("no {RULE} or {ALERT} annotation"))
    }

    fn fetch<'a>(
        &'a self,
        cx: &'a FetchContext<'a>,
        entity: &'a EntityView,
    ) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(async move {
            let w = wanted(entity);
            let rules = async {
                if w.rules.is_empty() {
                    return Value::Null;
                }
                // Rules are few per entity; the engine already runs many
                // entities at once.
                let mut out = Vec::with_capacity(w.rules.len());
                for rule in &w.rules {
                    out.push(query_rule(cx, rule).await);
                }
                Value::Array(out)
            };
            let alerts = async {
                match &w.alerts {
                    None => Ok(None),
                    Some(filter) => {
                        let resp = cx.get(cx.request("/api/v1/alerts")?).await?;
                        firing_alerts(&resp.body, filter).map(Some)
                    }
                }
            };
            let (rules, alerts) = tokio::join!(rules, alerts);
            // Whatever failed, what answered is a fact; only when nothing
            // answered is the integration unavailable (with every reason).
            let rule_answered = rules.as_array().is_some_and(|l| {
                l.iter()
                    .any(|r| r["error"].is_null() || !r["result"].is_null())
            });
            if !rule_answered && !matches!(alerts, Ok(Some(_))) {
                let mut reasons: Vec<String> = rules
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["error"].as_str().map(str::to_string))
                    .collect();
                match alerts {
                    Err(e) if reasons.is_empty() => return Err(e),
                    Err(e) => reasons.push(format!("alerts: {e}")),
                    Ok(_) => {}
                }
                return Err(FetchError::Other(reasons.join("; ")));
            }
            let mut fetched = Fetched::default();
            fetched.facts.insert("rules".into(), rules);
            let alerts = alerts.map(|a| a.map_or(Value::Null, Value::Array));
            let count = match &alerts {
                Ok(Value::Array(a)) => Ok(json!(a.len())),
                Ok(_) => Ok(Value::Null),
                Err(e) => Err(e.clone()),
            };
            fetched.put("alerts", alerts);
            fetched.put("firing_count", count);
            Ok(fetched)
        })
    }
}

/// Runs one instant query; its fact object, with the error (and a null
/// result) when the query failed.
async fn query_rule(cx: &FetchContext<'_>, rule: &RuleSpec) -> Value {
    let answer = async {
        let req = cx.request("/api/v1/query")?.query("query", &rule.query);
        let resp = cx.get(req).await.map_err(|e| match e {
            // Name the query: an entity may list several.
            FetchError::Status {
                host,
                code,
                message,
            } => FetchError::Status {
                host,
                code,
                message: format!("query `{}`: {message}", rule.query),
            },
            other => other,
        })?;
        instant_result(&resp.body)
            .map_err(|m| FetchError::decode(format!("query `{}`", rule.query), m))
    };
    let (result_type, result, error) = match answer.await {
        Ok(decoded) => {
            let error = (!decoded.skipped.is_empty()).then(|| {
                format!(
                    "query `{}`: {} series left out: {}",
                    rule.query,
                    decoded.skipped.len(),
                    decoded.skipped.join("; ")
                )
            });
            (json!(decoded.result_type), decoded.result, error)
        }
        Err(e) => (Value::Null, Value::Null, Some(e.to_string())),
    };
    json!({
        "query": rule.query,
        "label": rule.label,
        "result_type": result_type,
        "result": result,
        "error": error,
    })
}

/// The `data` of a successful API answer.
fn data(body: &Value) -> Result<&Value, String> {
    match body.get("status").and_then(Value::as_str) {
        Some("success") => body.get("data").ok_or_else(|| "no data".to_string()),
        Some("error") => Err(format!(
            "{}: {}",
            body.get("errorType")
                .and_then(Value::as_str)
                .unwrap_or("error"),
            body.get("error").and_then(Value::as_str).unwrap_or("")
        )),
        _ => Err("not a Prometheus API answer (no status)".into()),
    }
}

/// A decoded instant-query answer.
#[derive(Debug)]
pub struct Decoded {
    /// `vector`, `matrix`, `scalar` or `string`.
    pub result_type: String,
    /// The result as facts.
    pub result: Value,
    /// Why series of an unreadable shape were left out (one per series).
    pub skipped: Vec<String>,
}

/// Decodes an instant-query answer: its result type and the result as
/// facts. A series that cannot be read is left out (and said so in
/// `skipped`) rather than failing the others.
pub fn instant_result(body: &Value) -> Result<Decoded, String> {
    let data = data(body)?;
    let result_type = data
        .get("resultType")
        .and_then(Value::as_str)
        .ok_or("no data.resultType")?;
    let result = data.get("result").ok_or("no data.result")?;
    let mut skipped = Vec::new();
    let mut series = |decode: fn(&Value) -> Result<Value, String>| -> Result<Value, String> {
        let mut out = Vec::new();
        for s in as_array(result, result_type)? {
            match decode(s) {
                Ok(v) => out.push(v),
                Err(why) => skipped.push(format!("{}: {why}", series_name(s))),
            }
        }
        Ok(Value::Array(out))
    };
    let decoded = match result_type {
        "vector" => series(vector_series)?,
        "matrix" => series(matrix_series)?,
        "scalar" => sample_value(result)?,
        "string" => sample_string(result)?,
        other => return Err(format!("unknown resultType '{other}'")),
    };
    Ok(Decoded {
        result_type: result_type.to_string(),
        result: decoded,
        skipped,
    })
}

/// One vector series: `value: [t, "v"]`, or a native histogram
/// `histogram: [t, {count, sum, buckets}]`.
fn vector_series(s: &Value) -> Result<Value, String> {
    if let Some(h) = s.get("histogram") {
        return Ok(json!({"metric": metric(s), "histogram": histogram(h)?}));
    }
    let value = s.get("value").ok_or("no value or histogram")?;
    Ok(json!({"metric": metric(s), "value": sample_value(value)?}))
}

/// One matrix series: `values: [[t, "v"], ..]`, or native histograms
/// `histograms: [[t, {count, sum, buckets}], ..]`.
fn matrix_series(s: &Value) -> Result<Value, String> {
    if let Some(list) = s.get("histograms") {
        let points = as_array(list, "histograms")?
            .iter()
            .map(|p| Ok(json!([sample_time(p)?, histogram(p)?])))
            .collect::<Result<Vec<_>, String>>()?;
        return Ok(json!({"metric": metric(s), "histograms": points}));
    }
    let values = as_array(s.get("values").ok_or("no values or histograms")?, "values")?
        .iter()
        .map(|p| Ok(json!([sample_time(p)?, sample_value(p)?])))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(json!({"metric": metric(s), "values": values}))
}

/// `[t, {count, sum, buckets}]` → `{count, sum}` (numbers, or the
/// non-finite strings). Buckets are left out: no fact reads them.
fn histogram(pair: &Value) -> Result<Value, String> {
    let h = pair
        .get(1)
        .filter(|h| h.is_object())
        .ok_or_else(|| format!("bad histogram sample {pair}"))?;
    let field = |k: &str| {
        h.get(k)
            .and_then(Value::as_str)
            .and_then(number_or_text)
            .ok_or_else(|| format!("histogram without a numeric {k}"))
    };
    Ok(json!({"count": field("count")?, "sum": field("sum")?}))
}

/// A series as Prometheus writes it: `name{label="v",..}`.
fn series_name(s: &Value) -> String {
    let m = metric(s);
    let labels = m.as_object().map(|m| {
        m.iter()
            .filter(|(k, _)| *k != "__name__")
            .map(|(k, v)| format!("{k}=\"{}\"", v.as_str().unwrap_or("")))
            .collect::<Vec<_>>()
            .join(",")
    });
    format!(
        "{}{{{}}}",
        m["__name__"].as_str().unwrap_or(""),
        labels.unwrap_or_default()
    )
}

fn as_array<'v>(v: &'v Value, what: &str) -> Result<&'v Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("{what} result is not an array"))
}

fn metric(sample: &Value) -> Value {
    sample
        .get("metric")
        .filter(|m| m.is_object())
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()))
}

/// `[<unix time>, "<value>"]` → the timestamp.
fn sample_time(pair: &Value) -> Result<Value, String> {
    pair.get(0)
        .filter(|t| t.is_number())
        .cloned()
        .ok_or_else(|| format!("bad sample {pair}"))
}

fn sample_string(pair: &Value) -> Result<Value, String> {
    pair.get(1)
        .and_then(Value::as_str)
        .map(|s| json!(s))
        .ok_or_else(|| format!("bad sample {pair}"))
}

/// `[<unix time>, "<value>"]` → the value: a number, or the string itself
/// when it is not finite (JSON has no NaN or infinity).
fn sample_value(pair: &Value) -> Result<Value, String> {
    let text = pair
        .get(1)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("bad sample {pair}"))?;
    number_or_text(text).ok_or_else(|| format!("bad sample value '{text}'"))
}

fn number_or_text(text: &str) -> Option<Value> {
    let v: f64 = text.parse().ok()?;
    Some(if v.is_finite() { json!(v) } else { json!(text) })
}

/// The firing alerts of a `/api/v1/alerts` answer that `filter` selects.
pub fn firing_alerts(body: &Value, filter: &AlertFilter) -> Result<Vec<Value>, FetchError> {
    let bad = |m: String| FetchError::decode("/api/v1/alerts", m);
    let data = data(body).map_err(bad)?;
    let alerts = data
        .get("alerts")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no data.alerts".into()))?;
    let mut out = Vec::new();
    for alert in alerts {
        let name = alert
            .pointer("/labels/alertname")
            .and_then(Value::as_str)
            .unwrap_or("");
        let state = alert.get("state").and_then(Value::as_str).unwrap_or("");
        if state != "firing" || !filter.matches(name) {
            continue;
        }
        let value = alert
            .get("value")
            .and_then(Value::as_str)
            .and_then(number_or_text)
            .unwrap_or(Value::Null);
        out.push(json!({
            "name": name,
            "state": state,
            "active_at": alert.get("activeAt").and_then(Value::as_str).and_then(rfc3339),
            "value": value,
            "labels": alert.get("labels").cloned().unwrap_or(Value::Null),
            "annotations": alert.get("annotations").cloned().unwrap_or_else(|| json!({})),
        }));
    }
    Ok(out)
}

/// A timestamp as RFC 3339 in UTC (Prometheus writes local offsets and
/// nanoseconds); None for Go's zero time or garbage.
fn rfc3339(text: &str) -> Option<String> {
    let t = DateTime::parse_from_rfc3339(text).ok()?;
    (t.timestamp() > 0).then(|| {
        t.with_timezone(&chrono::Utc)
            .to_rfc3339_opts(SecondsFormat::Secs, true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_annotation_as_the_backstage_plugin_reads_it() {
        let rules = parse_rules(
            "memUsage|component, node_memory_active_bytes|instance,sum by (instance) (node_cpu_seconds_total),,",
        );
        assert_eq!(
            rules,
            vec![
                RuleSpec {
                    query: "memUsage".into(),
                    label: Some("component".into())
                },
                RuleSpec {
                    query: "node_memory_active_bytes".into(),
                    label: Some("instance".into())
                },
                RuleSpec {
                    query: "sum by (instance) (node_cpu_seconds_total)".into(),
                    label: None
                },
            ]
        );
        assert!(parse_rules(" , ").is_empty());
    }

    #[test]
    fn alert_annotation() {
        assert_eq!(parse_alerts("all"), Some(AlertFilter::All));
        assert_eq!(
            parse_alerts("Excessive Memory Usage, HighErrorRate"),
            Some(AlertFilter::Names(vec![
                "Excessive Memory Usage".into(),
                "HighErrorRate".into()
            ]))
        );
        assert_eq!(parse_alerts(" ,"), None);
    }

    // Shapes from the Prometheus HTTP API documentation (querying/api).
    #[test]
    fn vector_scalar_matrix_and_string_results() {
        let vector = json!({"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"__name__":"up","job":"prometheus","instance":"localhost:9090"},"value":[1435781451.781,"1"]},
            {"metric":{"__name__":"up","job":"node","instance":"localhost:9100"},"value":[1435781451.781,"NaN"]}]}});
        let d = instant_result(&vector).unwrap();
        let (t, r) = (d.result_type, d.result);
        assert_eq!(t, "vector");
        assert_eq!(r[0]["value"], json!(1.0));
        assert_eq!(r[0]["metric"]["job"], "prometheus");
        assert_eq!(r[1]["value"], "NaN");

        let scalar = json!({"status":"success","data":{"resultType":"scalar","result":[1435781451.781,"0.02"]}});
        assert_eq!(instant_result(&scalar).unwrap().result, json!(0.02));

        let matrix = json!({"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"job":"a"},"values":[[1435781430.781,"1"],[1435781445.781,"+Inf"]]}]}});
        let d = instant_result(&matrix).unwrap();
        let (t, r) = (d.result_type, d.result);
        assert_eq!(t, "matrix");
        assert_eq!(
            r[0]["values"],
            json!([[1435781430.781, 1.0], [1435781445.781, "+Inf"]])
        );

        let string = json!({"status":"success","data":{"resultType":"string","result":[1435781451.781,"hello"]}});
        assert_eq!(instant_result(&string).unwrap().result, "hello");

        let error = json!({"status":"error","errorType":"bad_data","error":"parse error"});
        assert_eq!(instant_result(&error).unwrap_err(), "bad_data: parse error");
        assert!(instant_result(&json!({"data": 1})).is_err());
    }

    // The native-histogram shapes of querying/api.md.
    #[test]
    fn native_histograms_and_one_bad_series() {
        let h = json!({"count": "12.5", "sum": "42.1", "buckets": [[0, "0.7", "1", "5"]]});
        let vector = json!({"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"__name__":"rpc","job":"a"},"histogram":[1767436620, h]},
            {"metric":{"__name__":"up","job":"b"},"value":[1767436620, "1"]},
            {"metric":{"__name__":"up","job":"c"},"value":[1767436620, {}]}]}});
        let d = instant_result(&vector).unwrap();
        assert_eq!(
            d.result[0]["histogram"],
            json!({"count": 12.5, "sum": 42.1})
        );
        assert_eq!(d.result[1]["value"], json!(1.0));
        assert_eq!(d.result.as_array().unwrap().len(), 2);
        assert_eq!(d.skipped.len(), 1);
        assert!(
            d.skipped[0].starts_with("up{job=\"c\"}: bad sample"),
            "{:?}",
            d.skipped
        );
        let matrix = json!({"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"job":"a"},"histograms":[[1767433020, h]]}]}});
        let d = instant_result(&matrix).unwrap();
        assert_eq!(
            d.result[0]["histograms"],
            json!([[1767433020, {"count": 12.5, "sum": 42.1}]])
        );
        assert!(d.skipped.is_empty());
    }

    #[test]
    fn only_firing_alerts_with_listed_names() {
        let body = json!({"status":"success","data":{"alerts":[
            {"labels":{"alertname":"HighErrorRate","severity":"page"},"annotations":{"summary":"x"},
             "state":"firing","activeAt":"2018-07-04T20:27:12.60602144+02:00","value":"1e+00"},
            {"labels":{"alertname":"HighErrorRate","instance":"b"},"annotations":{},
             "state":"pending","activeAt":"2018-07-04T20:27:12.60602144+02:00","value":"1e+00"},
            {"labels":{"alertname":"Other"},"annotations":{},
             "state":"firing","activeAt":"0001-01-01T00:00:00Z","value":"2"}]}});
        let named =
            firing_alerts(&body, &AlertFilter::Names(vec!["HighErrorRate".into()])).unwrap();
        assert_eq!(named.len(), 1);
        assert_eq!(named[0]["name"], "HighErrorRate");
        assert_eq!(named[0]["active_at"], "2018-07-04T18:27:12Z");
        assert_eq!(named[0]["value"], json!(1.0));
        assert_eq!(named[0]["labels"]["severity"], "page");
        let all = firing_alerts(&body, &AlertFilter::All).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1]["active_at"], Value::Null);
        assert!(firing_alerts(&json!({"status":"success","data":{}}), &AlertFilter::All).is_err());
    }
}
