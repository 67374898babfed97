//! SonarQube / SonarCloud: code-quality facts for entities annotated
//! `sonarqube.org/project-key: KEY`, or `INSTANCE/KEY` as the Backstage
//! SonarQube plugin writes it when there are several servers (the entity
//! is then linked only to the entry whose name, or `instance:` option, is
//! `INSTANCE`).
//!
//! Facts (`live.<name>.*`, every key always present, null when SonarQube
//! has not computed it): `project_key`, `coverage` (percent, number),
//! `bugs`, `vulnerabilities`, `code_smells` (integers), `quality_gate`
//! (`OK`, `ERROR`, `WARN` on old servers, `NONE` without a gate) and
//! `last_analysis` (RFC 3339).
//!
//! Three Web API calls, made together: `api/measures/component`,
//! `api/qualitygates/project_status` and `api/project_analyses/search`
//! (`ps=1`: the newest analysis). The token goes as the Basic-auth user with
//! an empty password (`SONARQUBE_TOKEN`), which every server version
//! accepts. Errors come as `{"errors":[{"msg":…}]}`; the client turns them
//! into the reason.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::config::{ConfigError, IntegrationConfig};
use super::{BoxFuture, EntityView, FetchContext, FetchError, Fetched, Integration};

/// The annotation linking an entity to a SonarQube project.
pub const PROJECT_KEY: &str = "sonarqube.org/project-key";

/// The measures read, in the order the facts list them.
const METRICS: [&str; 4] = ["coverage", "bugs", "vulnerabilities", "code_smells"];

/// The SonarQube integration.
#[derive(Debug, Clone)]
pub struct SonarQube {
    name: String,
    /// The instance name `INSTANCE/KEY` annotations must carry to be ours.
    instance: String,
}

impl SonarQube {
    /// Reads the entry's options: `instance` (default: the entry's name),
    /// matched against the `INSTANCE/` prefix of annotations.
    pub fn new(cfg: &IntegrationConfig) -> Result<Self, ConfigError> {
        let instance = match cfg.options.get("instance") {
            None => cfg.name.clone(),
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(_) => {
                return Err(ConfigError::at(
                    &cfg.name,
                    "instance",
                    "must be the instance name used in sonarqube.org/project-key: INSTANCE/KEY",
                ))
            }
        };
        Ok(SonarQube {
            name: cfg.name.clone(),
            instance,
        })
    }

    /// The project key of an entity, or why it has none for this instance.
    fn project_key<'e>(&self, entity: &'e EntityView) -> Result<&'e str, String> {
        let value = entity
            .annotation(PROJECT_KEY)
            .ok_or_else(|| format!("no {PROJECT_KEY} annotation"))?;
        // Project keys cannot hold '/', so a slash separates the instance.
        match value.split_once('/') {
            None => Ok(value),
            Some((instance, key)) if instance.trim() == self.instance && !key.trim().is_empty() => {
                Ok(key.trim())
            }
            Some((instance, _)) => Err(format!(
                "{PROJECT_KEY} names SonarQube instance '{}', not '{}'",
                instance.trim(),
                self.instance
            )),
        }
    }
}

impl Integration for SonarQube {
    fn name(&self) -> &str {
        &self.name
    }

    fn absent_reason(&self, entity: &EntityView) -> Option<String> {
        self.project_key(entity).err()
    }

    fn fetch<'a>(
        &'a self,
        cx: &'a FetchContext<'a>,
        entity: &'a EntityView,
    ) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(async move {
            let key = self
                .project_key(entity)
                .map_err(|m| FetchError::decode(PROJECT_KEY, m))?;
            let measures = async {
                let req = cx
                    .request("/api/measures/component")?
                    .query("component", key)
                    .query("metricKeys", &METRICS.join(","));
                Ok::<_, FetchError>(cx.get(req).await?.body)
            };
            let gate = async {
                let req = cx
                    .request("/api/qualitygates/project_status")?
                    .query("projectKey", key);
                Ok::<_, FetchError>(cx.get(req).await?.body)
            };
            let analyses = async {
                let req = cx
                    .request("/api/project_analyses/search")?
                    .query("project", key)
                    .query("ps", "1");
                Ok::<_, FetchError>(cx.get(req).await?.body)
            };
            let (measures, gate, analyses) = tokio::join!(measures, gate, analyses);
            facts(key, measures, gate, analyses)
        })
    }
}

/// The facts from the three answers. Each answer feeds its own facts and
/// fails them alone; when all three failed, nothing was learnt.
pub fn facts(
    key: &str,
    measures: Result<Value, FetchError>,
    gate: Result<Value, FetchError>,
    analyses: Result<Value, FetchError>,
) -> Result<Fetched, FetchError> {
    if let (Err(e), Err(_), Err(_)) = (&measures, &gate, &analyses) {
        return Err(e.clone());
    }
    let mut fetched = Fetched::default();
    fetched.facts.insert("project_key".into(), json!(key));
    let list = measures.and_then(|m| {
        m.pointer("/component/measures")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| FetchError::decode("api/measures/component", "no component.measures"))
    });
    for metric in METRICS {
        let value = list.clone().and_then(|list| measure(&list, metric));
        fetched.put(metric, value);
    }
    let quality_gate = gate.and_then(|g| {
        g.pointer("/projectStatus/status")
            .and_then(Value::as_str)
            .map(|s| json!(s))
            .ok_or_else(|| {
                FetchError::decode("api/qualitygates/project_status", "no projectStatus.status")
            })
    });
    fetched.put("quality_gate", quality_gate);
    fetched.put("last_analysis", analyses.and_then(|a| last_analysis(&a)));
    Ok(fetched)
}

/// One metric of `component.measures`: a number (`coverage`) or an integer
/// (the counts); null when SonarQube has not computed it (it is simply
/// missing from the list).
fn measure(list: &[Value], metric: &str) -> Result<Value, FetchError> {
    let text = list
        .iter()
        .find(|m| m.get("metric").and_then(Value::as_str) == Some(metric))
        .and_then(|m| m.get("value").and_then(Value::as_str));
    let Some(text) = text else {
        return Ok(Value::Null);
    };
    let parsed = if metric == "coverage" {
        text.parse::<f64>().ok().map(|v| json!(v))
    } else {
        text.parse::<u64>().ok().map(|v| json!(v))
    };
    parsed.ok_or_else(|| bad_measure(metric, text))
}

/// The newest analysis' date (RFC 3339), null when there is none.
fn last_analysis(analyses: &Value) -> Result<Value, FetchError> {
    let date = analyses
        .get("analyses")
        .and_then(Value::as_array)
        .ok_or_else(|| FetchError::decode("api/project_analyses/search", "no analyses"))?
        .first()
        .and_then(|a| a.get("date").and_then(Value::as_str));
    match date {
        None => Ok(Value::Null),
        Some(d) => sonar_date(d).map(|d| json!(d)).ok_or_else(|| {
            FetchError::decode(
                "api/project_analyses/search",
                format!("'{d}' is not a date"),
            )
        }),
    }
}

fn bad_measure(metric: &str, text: &str) -> FetchError {
    FetchError::decode(
        "api/measures/component",
        format!("{metric} is '{text}', not a number"),
    )
}

/// SonarQube writes `2016-12-12T17:12:45+0100` (no colon in the offset);
/// RFC 3339 in UTC.
fn sonar_date(text: &str) -> Option<String> {
    DateTime::<FixedOffset>::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| {
            t.with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Secs, true)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shapes from SonarQube's web service examples (measure/ws,
    // qualitygate/ws, projectanalysis/ws).
    fn measures() -> Value {
        json!({"component":{"key":"acme:checkout","name":"checkout","qualifier":"TRK","measures":[
            {"metric":"bugs","value":"3","bestValue":false},
            {"metric":"coverage","value":"81.4","bestValue":false},
            {"metric":"code_smells","value":"120","bestValue":false},
            {"metric":"vulnerabilities","value":"0","bestValue":true}]}})
    }

    fn gate() -> Value {
        json!({"projectStatus":{"status":"ERROR","ignoredConditions":false,"conditions":[
            {"status":"ERROR","metricKey":"new_coverage","comparator":"LT","errorThreshold":"85","actualValue":"82.5"}]}})
    }

    fn analyses() -> Value {
        json!({"paging":{"pageIndex":1,"pageSize":1,"total":3},"analyses":[
            {"key":"A2","date":"2016-12-12T17:12:45+0100","projectVersion":"1.2.1","events":[]}]})
    }

    #[test]
    fn facts_from_the_three_answers() {
        let f = facts("acme:checkout", Ok(measures()), Ok(gate()), Ok(analyses())).unwrap();
        assert!(f.failed.is_empty());
        assert_eq!(
            Value::Object(f.facts),
            json!({"project_key":"acme:checkout","coverage":81.4,"bugs":3,"vulnerabilities":0,
                   "code_smells":120,"quality_gate":"ERROR","last_analysis":"2016-12-12T16:12:45Z"})
        );
    }

    #[test]
    fn uncomputed_metrics_and_no_analysis_are_null() {
        let measures = json!({"component":{"key":"k","measures":[{"metric":"bugs","value":"0"}]}});
        let analyses = json!({"paging":{"pageIndex":1,"pageSize":1,"total":0},"analyses":[]});
        let gate = json!({"projectStatus":{"status":"NONE","conditions":[]}});
        let f = facts("k", Ok(measures), Ok(gate), Ok(analyses))
            .unwrap()
            .facts;
        assert_eq!(f["coverage"], Value::Null);
        assert_eq!(f["bugs"], json!(0));
        assert_eq!(f["last_analysis"], Value::Null);
        assert_eq!(f["quality_gate"], "NONE");
    }

    #[test]
    fn unexpected_shapes_fail_their_own_facts() {
        let f = facts("k", Ok(json!({})), Ok(gate()), Ok(analyses())).unwrap();
        assert!(
            f.failed["coverage"].contains("component.measures"),
            "{:?}",
            f.failed
        );
        assert_eq!(f.facts["quality_gate"], "ERROR");
        let bad = json!({"component":{"measures":[{"metric":"bugs","value":"many"},{"metric":"coverage","value":"80"}]}});
        let f = facts("k", Ok(bad), Ok(gate()), Ok(analyses())).unwrap();
        assert!(
            f.failed["bugs"].contains("bugs is 'many'"),
            "{:?}",
            f.failed
        );
        assert_eq!(f.facts["coverage"], json!(80.0));
        assert_eq!(f.failed.len(), 1);
        let down = || Err(FetchError::Other("down".into()));
        assert_eq!(
            facts("k", down(), down(), down()).unwrap_err().to_string(),
            "down"
        );
    }

    #[test]
    fn dates_with_and_without_colon() {
        assert_eq!(
            sonar_date("2016-12-12T17:12:45+0100").as_deref(),
            Some("2016-12-12T16:12:45Z")
        );
        assert_eq!(
            sonar_date("2024-01-02T03:04:05Z").as_deref(),
            Some("2024-01-02T03:04:05Z")
        );
        assert_eq!(sonar_date("yesterday"), None);
    }
}
