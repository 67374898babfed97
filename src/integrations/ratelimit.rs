//! When to try again: rate-limit headers in their four forms, and
//! exponential backoff with jitter when the server says nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

/// Headers that say when a limit resets, in the order they are trusted.
/// `retry-after` (RFC 9110: seconds or an HTTP date); `x-ratelimit-reset`
/// (GitHub, GitLab: epoch seconds; Datadog: seconds to wait);
/// `ratelimit-reset` (PagerDuty, the IETF draft: seconds to wait; GitLab:
/// epoch seconds); `x-rate-limit-reset` / `x-ratelimit-reset` as an ISO
/// timestamp (Jira).
const RESET_HEADERS: [&str; 4] = [
    "retry-after",
    "x-ratelimit-reset",
    "ratelimit-reset",
    "x-rate-limit-reset",
];

/// Numbers above this are epoch seconds, below it seconds to wait
/// (2001-09-09; nobody asks to wait 31 years).
const EPOCH_THRESHOLD: i64 = 1_000_000_000;

/// How long the server asked to wait, from whichever reset header it sent.
pub fn server_wait(headers: &BTreeMap<String, String>, now: DateTime<Utc>) -> Option<Duration> {
    RESET_HEADERS
        .iter()
        .find_map(|name| headers.get(*name).and_then(|v| parse_wait(v, now)))
}

/// One header value: seconds, epoch seconds, an HTTP date or an ISO time.
pub fn parse_wait(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let until = |t: DateTime<Utc>| Some((t - now).to_std().unwrap_or(Duration::ZERO));
    if let Ok(n) = value.parse::<f64>() {
        if !n.is_finite() || n < 0.0 {
            return None;
        }
        if n >= EPOCH_THRESHOLD as f64 {
            return until(DateTime::from_timestamp(n as i64, 0)?);
        }
        return Some(Duration::from_secs_f64(n));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(value) {
        return until(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return until(t.with_timezone(&Utc));
    }
    // Jira writes minutes-precision ISO times: 2021-05-21T14:00Z.
    let naive = value.trim_end_matches('Z');
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, format) {
            return until(t.and_utc());
        }
    }
    None
}

/// Whether a 403 is a rate limit (retry later) rather than a permission
/// error (never retried): GitHub says so with `retry-after`, with
/// `x-ratelimit-remaining: 0`, or in the message.
pub fn is_rate_limit_403(headers: &BTreeMap<String, String>, message: &str) -> bool {
    headers.contains_key("retry-after")
        || headers
            .get("x-ratelimit-remaining")
            .is_some_and(|v| v.trim() == "0")
        || message.to_ascii_lowercase().contains("rate limit")
}

/// Backoff before retry number `attempt` (0-based): exponential from
/// `base`, capped, with "equal jitter" so concurrent clients spread out.
pub fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(16)).min(cap);
    let half = exp / 2;
    half + half.mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_four_forms() {
        let now = at("2026-11-29T10:00:00Z");
        // seconds to wait
        assert_eq!(parse_wait("120", now), Some(Duration::from_secs(120)));
        // epoch seconds (GitHub)
        let epoch = now.timestamp() + 90;
        assert_eq!(
            parse_wait(&epoch.to_string(), now),
            Some(Duration::from_secs(90))
        );
        // HTTP date
        assert_eq!(
            parse_wait("Sun, 29 Nov 2026 10:01:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        // ISO (Jira)
        assert_eq!(
            parse_wait("2026-11-29T10:05Z", now),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            parse_wait("2026-11-29T10:00:30Z", now),
            Some(Duration::from_secs(30))
        );
        // in the past: no wait
        assert_eq!(parse_wait("2026-11-29T09:00Z", now), Some(Duration::ZERO));
        assert_eq!(parse_wait("soon", now), None);
        assert_eq!(parse_wait("-5", now), None);
    }

    #[test]
    fn header_precedence() {
        let now = at("2026-11-29T10:00:00Z");
        let mut h = BTreeMap::new();
        h.insert("ratelimit-reset".to_string(), "7".to_string());
        assert_eq!(server_wait(&h, now), Some(Duration::from_secs(7)));
        h.insert("retry-after".to_string(), "3".to_string());
        assert_eq!(server_wait(&h, now), Some(Duration::from_secs(3)));
    }

    #[test]
    fn github_403() {
        let mut h = BTreeMap::new();
        assert!(!is_rate_limit_403(
            &h,
            "Resource not accessible by integration"
        ));
        assert!(is_rate_limit_403(&h, "API rate limit exceeded for 1.2.3.4"));
        h.insert("x-ratelimit-remaining".to_string(), "0".to_string());
        assert!(is_rate_limit_403(&h, "whatever"));
        h.insert("x-ratelimit-remaining".to_string(), "12".to_string());
        assert!(!is_rate_limit_403(&h, "Must have admin rights"));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(2);
        for attempt in 0..10 {
            let d = backoff(attempt, base, cap);
            let exp = base.saturating_mul(1 << attempt).min(cap);
            assert!(d >= exp / 2 && d <= exp, "{attempt}: {d:?}");
        }
    }
}
