//! Reading an Events API v2 body: the routing key first (it picks the service and the rate
//! bucket), then the rest of the event, every mistake listed at once as PagerDuty's `errors[]`
//! does.
//!
//! Only the routing key's length message is PagerDuty's documented text; the other messages are
//! this receiver's, written in the same style, and name the field at fault.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A routing (integration) key's length.
pub const ROUTING_KEY_LEN: usize = 32;
/// The longest `dedup_key`.
pub const MAX_DEDUP_KEY: usize = 255;
/// The longest `payload.summary`.
pub const MAX_SUMMARY: usize = 1024;
/// PagerDuty's documented routing key error.
pub const ROUTING_KEY_LENGTH: &str =
    "Length of 'routing_key' is incorrect (should be 32 characters)";

const SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];

/// What an accepted event asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Trigger,
    Acknowledge,
    Resolve,
    /// A change event (`/v2/change/enqueue`): recorded, no incident.
    Change,
}

/// A valid event's action and dedup key (as sent; `None` when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valid {
    pub action: Action,
    pub dedup_key: Option<String>,
}

/// The body's routing key, or the error naming what is wrong with it.
pub fn routing_key(body: &Map<String, Value>) -> Result<&str, String> {
    match body.get("routing_key") {
        None | Some(Value::Null) => Err("'routing_key' is missing".into()),
        Some(Value::String(k)) if k.chars().count() == ROUTING_KEY_LEN => Ok(k),
        Some(Value::String(_)) => Err(ROUTING_KEY_LENGTH.into()),
        Some(_) => Err("'routing_key' must be a string".into()),
    }
}

/// An alert event (`/v2/enqueue`) past its routing key.
pub fn alert(body: &Map<String, Value>) -> Result<Valid, Vec<String>> {
    let mut errors = Vec::new();
    let action = match body.get("event_action").and_then(Value::as_str) {
        Some("trigger") => Some(Action::Trigger),
        Some("acknowledge") => Some(Action::Acknowledge),
        Some("resolve") => Some(Action::Resolve),
        Some(_) => {
            errors.push(
                "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)".into(),
            );
            None
        }
        None => {
            errors.push("'event_action' is missing or not a string".into());
            None
        }
    };
    let dedup_key = dedup_key(body, &mut errors);
    // A key sent but refused (too long, not a string) is reported once, not also as missing.
    let sent = !matches!(body.get("dedup_key"), None | Some(Value::Null))
        && body.get("dedup_key") != Some(&Value::from(""));
    match action {
        Some(Action::Trigger) => trigger_payload(body.get("payload"), &mut errors),
        Some(_) if !sent => {
            errors.push("'dedup_key' is required for acknowledge and resolve events".into())
        }
        _ => {}
    }
    match action {
        Some(action) if errors.is_empty() => Ok(Valid { action, dedup_key }),
        _ => Err(errors),
    }
}

/// A change event (`/v2/change/enqueue`) past its routing key: a payload with a summary.
pub fn change(body: &Map<String, Value>) -> Result<Valid, Vec<String>> {
    let mut errors = Vec::new();
    match body.get("payload") {
        Some(Value::Object(p)) => {
            summary(p, &mut errors);
            timestamp(p, &mut errors);
        }
        _ => errors.push("'payload' is missing or not an object".into()),
    }
    if errors.is_empty() {
        Ok(Valid {
            action: Action::Change,
            dedup_key: None,
        })
    } else {
        Err(errors)
    }
}

fn dedup_key(body: &Map<String, Value>, errors: &mut Vec<String>) -> Option<String> {
    match body.get("dedup_key") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) if k.is_empty() => None,
        Some(Value::String(k)) if k.chars().count() > MAX_DEDUP_KEY => {
            errors.push(format!(
                "Length of 'dedup_key' is incorrect (should be at most {MAX_DEDUP_KEY} characters)"
            ));
            None
        }
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => {
            errors.push("'dedup_key' must be a string".into());
            None
        }
    }
}

/// A trigger's payload: summary, source and severity required; timestamp, component, group,
/// class and custom_details checked when present.
fn trigger_payload(payload: Option<&Value>, errors: &mut Vec<String>) {
    let Some(Value::Object(p)) = payload else {
        errors.push("'payload' is missing or not an object".into());
        return;
    };
    summary(p, errors);
    match p.get("source") {
        Some(Value::String(s)) if !s.is_empty() => {}
        _ => errors.push("'payload.source' is missing or blank".into()),
    }
    match p.get("severity").and_then(Value::as_str) {
        Some(s) if SEVERITIES.contains(&s) => {}
        Some(_) => errors.push(
            "'payload.severity' is invalid (must be one of: critical, error, warning, info)".into(),
        ),
        None => errors.push("'payload.severity' is missing or not a string".into()),
    }
    timestamp(p, errors);
    for field in ["component", "group", "class"] {
        if p.get(field).is_some_and(|v| !v.is_string() && !v.is_null()) {
            errors.push(format!("'payload.{field}' must be a string"));
        }
    }
    if p.get("custom_details")
        .is_some_and(|v| !v.is_object() && !v.is_null())
    {
        errors.push("'payload.custom_details' must be an object".into());
    }
}

fn summary(p: &Map<String, Value>, errors: &mut Vec<String>) {
    match p.get("summary") {
        Some(Value::String(s)) if s.chars().count() > MAX_SUMMARY => errors.push(format!(
            "Length of 'payload.summary' is incorrect (should be at most {MAX_SUMMARY} characters)"
        )),
        Some(Value::String(s)) if !s.is_empty() => {}
        _ => errors.push("'payload.summary' is missing or blank".into()),
    }
}

fn timestamp(p: &Map<String, Value>, errors: &mut Vec<String>) {
    match p.get("timestamp") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if is_iso8601(t) => {}
        Some(_) => errors.push("'payload.timestamp' is not an ISO 8601 date-time".into()),
    }
}

/// An ISO 8601 date-time with an offset: RFC 3339 (`2026-03-10T14:25:00.123Z`), or the form of
/// PagerDuty's own examples (`2015-07-17T08:42:58.315+0000`).
pub fn is_iso8601(t: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(t).is_ok()
        || chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f%z").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn timestamps_in_both_forms() {
        assert!(is_iso8601("2026-03-10T14:25:00.123Z"));
        assert!(is_iso8601("2015-07-17T08:42:58.315+0000"));
        assert!(is_iso8601("2015-07-17T08:42:58+02:00"));
        assert!(!is_iso8601("2015-07-17 08:42"));
        assert!(!is_iso8601("yesterday"));
    }

    #[test]
    fn every_mistake_is_listed() {
        let e = alert(&obj(json!({"event_action": "trigger", "dedup_key": 5,
            "payload": {"summary": "", "severity": "fatal", "timestamp": "now",
                        "custom_details": "x", "group": 1}})))
        .unwrap_err();
        assert_eq!(e.len(), 7, "{e:?}");
        let e = alert(&obj(json!({"event_action": "resolve"}))).unwrap_err();
        assert_eq!(
            e,
            vec!["'dedup_key' is required for acknowledge and resolve events"]
        );
        let ok = alert(&obj(json!({"event_action": "resolve", "dedup_key": "k"}))).unwrap();
        assert_eq!(ok.action, Action::Resolve);
    }
}
