//! PagerDuty: who is on call now and how many incidents are open, for
//! entities annotated `pagerduty.com/service-id` (or the older
//! `pagerduty.com/integration-key`, resolved to the service one of whose
//! integrations has that key, never to another), and on-call for entities (typically
//! Groups) annotated `pagerduty.com/escalation-policy-id`.
//!
//! Facts (`live.pagerduty.*`; every key always present):
//! `service` `{id, name, html_url, status}` (null for an escalation
//! policy), `escalation_policy` `{id, name, html_url}`, `oncall`
//! `[{name, email, level, until}]` sorted by escalation level (`until` null
//! for a permanent on-call), `open_incidents` (triggered + acknowledged,
//! over all time: `date_range=all`, since `/incidents` otherwise looks at
//! the last month only; null for an escalation policy). `oncall` and
//! `open_incidents` fail alone (`unavailable_facts`).
//!
//! HTTP, retries (PagerDuty's 429 + `ratelimit-reset`), the token header
//! and the cache are the client's; this module knows the API's shapes.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::config::ConfigError;
use super::{
    BoxFuture, EntityView, FactMap, FetchContext, FetchError, Fetched, Integration, Request,
    Response,
};

/// The annotation naming a PagerDuty service.
pub const SERVICE_ID: &str = "pagerduty.com/service-id";
/// The older annotation: an Events API integration key of the service.
pub const INTEGRATION_KEY: &str = "pagerduty.com/integration-key";
/// The annotation naming an escalation policy (for Groups).
pub const ESCALATION_POLICY_ID: &str = "pagerduty.com/escalation-policy-id";

/// PagerDuty's versioned media type.
const ACCEPT: &str = "application/vnd.pagerduty+json;version=2";
/// On-call entries per page (PagerDuty's maximum).
const PAGE: usize = 100;
/// On-call, service and incident pages followed at most.
const MAX_PAGES: usize = 20;

/// Someone on call now (`live.pagerduty.oncall[]`, `who-owns` `oncall[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnCall {
    /// The user's name.
    pub name: String,
    /// The user's email, when PagerDuty shares it.
    pub email: Option<String>,
    /// Escalation level (1 is paged first).
    pub level: u32,
    /// When the on-call shift ends (RFC 3339); `None`: permanently on call.
    pub until: Option<String>,
}

/// The on-call list of a `live.pagerduty` fact map (empty when there is
/// none or it does not have the expected shape).
pub fn oncall_from_facts(facts: &FactMap) -> Vec<OnCall> {
    facts
        .get("oncall")
        .and_then(|v| Vec::<OnCall>::deserialize(v).ok())
        .unwrap_or_default()
}

/// The PagerDuty integration.
#[derive(Debug, Clone)]
pub struct PagerDuty {
    name: String,
}

impl PagerDuty {
    /// PagerDuty takes no options beyond the common ones.
    pub fn new(cfg: &super::IntegrationConfig) -> Result<Self, ConfigError> {
        Ok(PagerDuty {
            name: cfg.name.clone(),
        })
    }
}

/// How an entity points at PagerDuty, in order of preference.
enum Link<'e> {
    Service(&'e str),
    IntegrationKey(&'e str),
    EscalationPolicy(&'e str),
}

fn link_of(entity: &EntityView) -> Option<Link<'_>> {
    if let Some(id) = entity.annotation(SERVICE_ID) {
        Some(Link::Service(id))
    } else if let Some(key) = entity.annotation(INTEGRATION_KEY) {
        Some(Link::IntegrationKey(key))
    } else {
        entity
            .annotation(ESCALATION_POLICY_ID)
            .map(Link::EscalationPolicy)
    }
}

impl Integration for PagerDuty {
    fn name(&self) -> &str {
        &self.name
    }

    fn absent_reason(&self, entity: &EntityView) -> Option<String> {
        match link_of(entity) {
            Some(_) => None,
            None => Some(format!(
                "no {SERVICE_ID}, {INTEGRATION_KEY} or {ESCALATION_POLICY_ID} annotation"
            )),
        }
    }

    fn fetch<'a>(
        &'a self,
        cx: &'a FetchContext<'a>,
        entity: &'a EntityView,
    ) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(async move {
            let (service, policy) = match link_of(entity) {
                Some(Link::Service(id)) => {
                    let s = service_by_id(cx, id).await?;
                    let p = policy_of_service(&s)?;
                    (Some(s), p)
                }
                Some(Link::IntegrationKey(key)) => {
                    let s = service_by_integration_key(cx, key).await?;
                    let p = policy_of_service(&s)?;
                    (Some(s), p)
                }
                Some(Link::EscalationPolicy(id)) => (None, escalation_policy_by_id(cx, id).await?),
                None => return Err(FetchError::Other("not linked to PagerDuty".into())),
            };
            let oncall = oncalls(cx, &policy.id);
            let incidents = async {
                match &service {
                    Some(s) => open_incidents(cx, &s.id).await.map(|n| json!(n)),
                    None => Ok(Value::Null),
                }
            };
            let (oncall, incidents) = tokio::join!(oncall, incidents);
            let mut fetched = Fetched::default();
            fetched.facts.insert(
                "service".into(),
                service.map_or(Value::Null, |s| s.to_json()),
            );
            fetched
                .facts
                .insert("escalation_policy".into(), policy.to_json());
            fetched.put("oncall", oncall.map(|o| json!(o)));
            fetched.put("open_incidents", incidents);
            Ok(fetched)
        })
    }
}

/// A GET with PagerDuty's media type (the client adds the token).
fn request(cx: &FetchContext<'_>, path: &str) -> Result<Request, FetchError> {
    Ok(cx.request(path)?.accept(ACCEPT))
}

/// The shared GET (401/403 explained by [`FetchContext::get`]).
async fn get(cx: &FetchContext<'_>, req: Request) -> Result<Response, FetchError> {
    cx.get(req).await
}

fn not_found(cx: &FetchContext<'_>, what: String) -> FetchError {
    FetchError::Status {
        host: cx.config.host(),
        code: 404,
        message: format!("{what} not found (or the token cannot see it)"),
    }
}

/// PagerDuty ids are short alphanumerics; anything else cannot be one and
/// must not be spliced into a path.
fn check_id(annotation: &str, id: &str) -> Result<(), FetchError> {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(FetchError::Other(format!(
            "{annotation} '{id}' is not a PagerDuty id (letters and digits, e.g. PIJ90N7)"
        )))
    }
}

async fn service_by_id(cx: &FetchContext<'_>, id: &str) -> Result<Service, FetchError> {
    check_id(SERVICE_ID, id)?;
    let req = request(cx, &format!("/services/{id}"))?
        .query("include[]", "escalation_policies")
        .allow_status(404);
    let resp = get(cx, req).await?;
    if resp.status == 404 {
        return Err(not_found(cx, format!("PagerDuty service {id}")));
    }
    Service::parse(&resp.body["service"])
}

/// The service that has an integration with this key. PagerDuty's
/// `/services` has no filter by integration key (`query` matches service
/// names), so every page of `GET /services?include[]=integrations` is read
/// and `integrations[].integration_key` compared, as the API reference
/// documents the Integration object. No match is an error: showing some
/// other service's on-call would be worse than showing none. The key lets
/// anyone page the service, so messages show its first characters only.
async fn service_by_integration_key(
    cx: &FetchContext<'_>,
    key: &str,
) -> Result<Service, FetchError> {
    let mut offset = 0;
    let mut seen = 0;
    for page in 1.. {
        let req = request(cx, "/services")?
            .query("time_zone", "UTC")
            .query("include[]", "integrations")
            .query("include[]", "escalation_policies")
            .query("limit", &PAGE.to_string())
            .query("offset", &offset.to_string());
        let body = get(cx, req).await?.body;
        let services = body["services"]
            .as_array()
            .ok_or_else(|| FetchError::decode("PagerDuty services", "no services array"))?;
        if let Some(s) = services.iter().find(|s| has_integration_key(s, key)) {
            return Service::parse(s);
        }
        seen += services.len();
        if body["more"].as_bool() != Some(true) || services.is_empty() {
            break;
        }
        if page >= MAX_PAGES {
            return Err(FetchError::Other(format!(
                "none of the first {seen} PagerDuty services has integration key {} \
                 (more pages not read)",
                redact_key(key)
            )));
        }
        offset += services.len();
    }
    Err(FetchError::Other(format!(
        "no service has integration key {} ({INTEGRATION_KEY}; {seen} PagerDuty service{} searched)",
        redact_key(key),
        if seen == 1 { "" } else { "s" }
    )))
}

/// Whether a `/services` entry (with `include[]=integrations`) has an
/// integration with this key.
fn has_integration_key(service: &Value, key: &str) -> bool {
    service["integrations"].as_array().is_some_and(|list| {
        list.iter()
            .any(|i| i["integration_key"].as_str() == Some(key))
    })
}

/// The first characters of an integration key, enough to tell keys apart
/// without handing out the whole secret.
fn redact_key(key: &str) -> String {
    let head: String = key.chars().take(6).collect();
    if head.len() < key.len() {
        format!("{head}…")
    } else {
        "(a short key)".to_string()
    }
}

async fn escalation_policy_by_id(cx: &FetchContext<'_>, id: &str) -> Result<Policy, FetchError> {
    check_id(ESCALATION_POLICY_ID, id)?;
    let req = request(cx, &format!("/escalation_policies/{id}"))?.allow_status(404);
    let resp = get(cx, req).await?;
    if resp.status == 404 {
        return Err(not_found(cx, format!("PagerDuty escalation policy {id}")));
    }
    Policy::parse(&resp.body["escalation_policy"])
}

/// Everyone on call now for the policy, every page (`offset`/`limit`/`more`).
/// `earliest=true` keeps one entry per user and level.
async fn oncalls(cx: &FetchContext<'_>, policy_id: &str) -> Result<Vec<OnCall>, FetchError> {
    let mut entries = Vec::new();
    let mut offset = 0;
    for page in 1.. {
        let req = request(cx, "/oncalls")?
            .query("time_zone", "UTC")
            .query("include[]", "users")
            .query("escalation_policy_ids[]", policy_id)
            .query("earliest", "true")
            .query("limit", &PAGE.to_string())
            .query("offset", &offset.to_string());
        let body = get(cx, req).await?.body;
        let list = body["oncalls"]
            .as_array()
            .ok_or_else(|| FetchError::decode("PagerDuty on-calls", "no oncalls array"))?;
        for entry in list {
            entries.push(parse_oncall(entry)?);
        }
        if body["more"].as_bool() != Some(true) || list.is_empty() {
            break;
        }
        if page >= MAX_PAGES {
            return Err(FetchError::decode(
                "PagerDuty on-calls",
                format!("more than {MAX_PAGES} pages"),
            ));
        }
        offset += list.len();
    }
    Ok(merge_oncalls(entries))
}

/// Triggered + acknowledged incidents of the service, over all time (the
/// default window is the last month). PagerDuty counts them with
/// `total=true`, so one entry is enough; a server that leaves `total` out
/// is counted page by page (`limit`/`offset`/`more`), within
/// [`MAX_PAGES`]; past that the fact fails with the lower bound.
async fn open_incidents(cx: &FetchContext<'_>, service_id: &str) -> Result<u64, FetchError> {
    let page = |limit: usize, offset: usize| -> Result<Request, FetchError> {
        Ok(request(cx, "/incidents")?
            .query("service_ids[]", service_id)
            .query("statuses[]", "triggered")
            .query("statuses[]", "acknowledged")
            .query("date_range", "all")
            .query("total", "true")
            .query("limit", &limit.to_string())
            .query("offset", &offset.to_string()))
    };
    let body = get(cx, page(1, 0)?).await?.body;
    let mut count = match incident_page(&body)? {
        IncidentPage::Total(n) | IncidentPage::Last(n) => return Ok(n),
        IncidentPage::More(_) => 0,
    };
    for pages in 1.. {
        let body = get(cx, page(PAGE, count)?).await?.body;
        match incident_page(&body)? {
            IncidentPage::Total(n) => return Ok(n),
            IncidentPage::Last(n) => return Ok(count as u64 + n),
            IncidentPage::More(0) => break,
            IncidentPage::More(n) => count += n as usize,
        }
        if pages >= MAX_PAGES {
            break;
        }
    }
    Err(FetchError::Other(format!(
        "at least {count} open incidents: PagerDuty sent no total and more pages \
         remain (counting stopped after {MAX_PAGES} pages)"
    )))
}

/// What one `/incidents` page says about the count.
#[derive(Debug, PartialEq)]
enum IncidentPage {
    /// The server counted (`total=true` honoured).
    Total(u64),
    /// No total, and this page is the last: this many on it.
    Last(u64),
    /// No total, more pages follow: this many on this one.
    More(u64),
}

fn incident_page(body: &Value) -> Result<IncidentPage, FetchError> {
    if let Some(total) = body["total"].as_u64() {
        return Ok(IncidentPage::Total(total));
    }
    let list = body["incidents"]
        .as_array()
        .ok_or_else(|| FetchError::decode("PagerDuty incidents", "no incidents array"))?;
    let n = list.len() as u64;
    Ok(match body["more"].as_bool() {
        Some(true) => IncidentPage::More(n),
        _ => IncidentPage::Last(n),
    })
}

/// `{id, name, html_url, status}` and its escalation policy.
#[derive(Debug, Clone, PartialEq)]
struct Service {
    id: String,
    name: Option<String>,
    html_url: Option<String>,
    status: Option<String>,
    policy: Option<Policy>,
}

impl Service {
    fn parse(v: &Value) -> Result<Self, FetchError> {
        let id = text(v, "id").ok_or_else(|| FetchError::decode("PagerDuty service", "no id"))?;
        let policy = match &v["escalation_policy"] {
            Value::Null => None,
            p => Some(Policy::parse(p)?),
        };
        Ok(Service {
            id,
            name: text(v, "name").or_else(|| text(v, "summary")),
            html_url: text(v, "html_url"),
            status: text(v, "status"),
            policy,
        })
    }

    fn to_json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "html_url": self.html_url, "status": self.status})
    }
}

fn policy_of_service(s: &Service) -> Result<Policy, FetchError> {
    s.policy.clone().ok_or_else(|| {
        FetchError::decode(
            "PagerDuty service",
            format!("service {} has no escalation_policy", s.id),
        )
    })
}

/// An escalation policy (full object, or a reference with `summary`).
#[derive(Debug, Clone, PartialEq)]
struct Policy {
    id: String,
    name: Option<String>,
    html_url: Option<String>,
}

impl Policy {
    fn parse(v: &Value) -> Result<Self, FetchError> {
        Ok(Policy {
            id: text(v, "id")
                .ok_or_else(|| FetchError::decode("PagerDuty escalation policy", "no id"))?,
            name: text(v, "name").or_else(|| text(v, "summary")),
            html_url: text(v, "html_url"),
        })
    }

    fn to_json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "html_url": self.html_url})
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v[key]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// One `/oncalls` entry, with its user included (`include[]=users`) or a
/// bare reference (name in `summary`, no email).
fn parse_oncall(v: &Value) -> Result<(Option<String>, OnCall), FetchError> {
    let user = &v["user"];
    let name = text(user, "name")
        .or_else(|| text(user, "summary"))
        .ok_or_else(|| FetchError::decode("PagerDuty on-calls", "an on-call has no user name"))?;
    let level = v["escalation_level"]
        .as_u64()
        .and_then(|l| u32::try_from(l).ok())
        .ok_or_else(|| {
            FetchError::decode("PagerDuty on-calls", "an on-call has no escalation_level")
        })?;
    let until = match &v["end"] {
        Value::Null => None,
        Value::String(s) => Some(rfc3339(s)?),
        other => {
            return Err(FetchError::decode(
                "PagerDuty on-calls",
                format!("end is {other}"),
            ))
        }
    };
    Ok((
        text(user, "id"),
        OnCall {
            name,
            email: text(user, "email"),
            level,
            until,
        },
    ))
}

/// PagerDuty writes ISO 8601 with an offset; facts are RFC 3339 in UTC.
fn rfc3339(s: &str) -> Result<String, FetchError> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .map_err(|e| FetchError::decode("PagerDuty on-calls", format!("end '{s}': {e}")))
}

/// One entry per person and level (several schedules can put the same
/// person on the same level: the latest end wins, permanent beats all),
/// sorted by level, then name.
fn merge_oncalls(entries: Vec<(Option<String>, OnCall)>) -> Vec<OnCall> {
    let mut out: Vec<(Option<String>, OnCall)> = Vec::new();
    for (id, oc) in entries {
        let same = |(other_id, other): &&mut (Option<String>, OnCall)| {
            other.level == oc.level
                && match (&id, other_id) {
                    (Some(a), Some(b)) => a == b,
                    _ => other.name == oc.name,
                }
        };
        match out.iter_mut().find(same) {
            Some((_, kept)) => {
                if later(&oc.until, &kept.until) == Ordering::Greater {
                    kept.until = oc.until;
                }
            }
            None => out.push((id, oc)),
        }
    }
    let mut list: Vec<OnCall> = out.into_iter().map(|(_, oc)| oc).collect();
    list.sort_by(|a, b| a.level.cmp(&b.level).then_with(|| a.name.cmp(&b.name)));
    list
}

/// Orders ends: `None` (permanent) is the latest. RFC 3339 UTC strings of
/// one format sort as text.
fn later(a: &Option<String>, b: &Option<String>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => x.cmp(y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, name: &str, level: u64, end: Value) -> Value {
        json!({
            "escalation_policy": {"id": "PT20YPA", "type": "escalation_policy_reference", "summary": "Engineering Escalation Policy"},
            "escalation_level": level,
            "schedule": null,
            "user": {"id": id, "type": "user", "name": name, "email": format!("{}@example.com", name.to_lowercase()),
                     "html_url": format!("https://subdomain.pagerduty.com/users/{id}")},
            "start": "2015-03-06T15:28:51-05:00",
            "end": end
        })
    }

    #[test]
    fn oncall_entries_are_parsed_merged_and_sorted() {
        let raw = [
            entry("PU2", "Zoe", 2, json!("2015-03-07T15:28:51-05:00")),
            entry("PU1", "Earline Greenholt", 1, json!("2015-03-06T20:00:00Z")),
            entry("PU1", "Earline Greenholt", 1, Value::Null),
            entry("PU3", "Adam", 1, json!("2015-03-06T19:00:00Z")),
        ];
        let parsed = raw.iter().map(|v| parse_oncall(v).unwrap()).collect();
        let list = merge_oncalls(parsed);
        assert_eq!(
            serde_json::to_value(&list).unwrap(),
            json!([
                {"name": "Adam", "email": "adam@example.com", "level": 1, "until": "2015-03-06T19:00:00Z"},
                {"name": "Earline Greenholt", "email": "earline greenholt@example.com", "level": 1, "until": null},
                {"name": "Zoe", "email": "zoe@example.com", "level": 2, "until": "2015-03-07T20:28:51Z"},
            ])
        );
    }

    #[test]
    fn user_reference_without_include() {
        let v = json!({"escalation_level": 1, "end": null,
                       "user": {"id": "PXPGF42", "type": "user_reference", "summary": "Earline Greenholt"}});
        let (_, oc) = parse_oncall(&v).unwrap();
        assert_eq!(oc.name, "Earline Greenholt");
        assert_eq!(oc.email, None);
    }

    #[test]
    fn facts_round_trip_for_who_owns() {
        let mut facts = FactMap::new();
        facts.insert(
            "oncall".into(),
            json!([{"name": "A", "email": null, "level": 1, "until": null}]),
        );
        assert_eq!(oncall_from_facts(&facts).len(), 1);
        assert!(oncall_from_facts(&FactMap::new()).is_empty());
    }

    #[test]
    fn incident_pages() {
        assert_eq!(
            incident_page(&json!({"incidents": [{}], "total": 7, "more": true})).unwrap(),
            IncidentPage::Total(7)
        );
        assert_eq!(
            incident_page(&json!({"incidents": [], "total": null, "more": false})).unwrap(),
            IncidentPage::Last(0)
        );
        assert_eq!(
            incident_page(&json!({"incidents": [{}], "total": null, "more": true})).unwrap(),
            IncidentPage::More(1)
        );
        assert!(incident_page(&json!({"total": null})).is_err());
    }

    #[test]
    fn integration_keys_match_exactly_and_are_redacted() {
        let s = json!({"id": "PIJ90N7", "integrations": [
            {"id": "PQ12345", "type": "generic_email_inbound_integration_reference"},
            {"id": "PE1U9CH", "type": "events_api_v2_inbound_integration", "integration_key": "abc123def456"}]});
        assert!(has_integration_key(&s, "abc123def456"));
        assert!(!has_integration_key(&s, "abc123"));
        assert_eq!(redact_key("0123456789abcdef"), "012345…");
        assert_eq!(redact_key("abc"), "(a short key)");
    }

    #[test]
    fn service_with_included_policy() {
        let s = Service::parse(&json!({
            "id": "PIJ90N7", "type": "service", "name": "My Application Service", "status": "active",
            "html_url": "https://subdomain.pagerduty.com/service-directory/PIJ90N7",
            "escalation_policy": {"id": "PT20YPA", "type": "escalation_policy", "name": "Engineering Escalation Policy",
                                  "html_url": "https://subdomain.pagerduty.com/escalation_policies/PT20YPA"}
        })).unwrap();
        assert_eq!(
            s.policy.unwrap().name.as_deref(),
            Some("Engineering Escalation Policy")
        );
        assert!(check_id(SERVICE_ID, "PIJ90N7").is_ok());
        assert!(check_id(SERVICE_ID, "../x").is_err());
    }
}
